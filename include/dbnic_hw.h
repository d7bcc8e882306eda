/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * dbnic hardware interface, version 1 (datasheet 1.4).
 *
 * This header encodes docs/hardware.md, the datasheet.  It is the only place
 * where register offsets, bit fields, descriptor and completion layouts and
 * limits are written down in code; the QEMU device model, the Linux driver,
 * the rdma-core provider and the tests all include it.  Change the datasheet
 * first, then this file.
 *
 * It compiles in the Linux kernel (__KERNEL__), in QEMU and in user space.
 * Everything the device sees in memory is little-endian.
 */
#ifndef DBNIC_HW_H
#define DBNIC_HW_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#include <linux/types.h>
#endif

/* ------------------------------------------------------------------ */
/* PCI identity (datasheet section 1)                                  */
/* ------------------------------------------------------------------ */

#define DBNIC_PCI_VENDOR_ID		0x1234
#define DBNIC_PCI_DEVICE_ID		0xdb1c
#define DBNIC_PCI_REVISION		0x01
#define DBNIC_PCI_CLASS			0x020000	/* Ethernet controller */

#define DBNIC_BAR_CTRL			0	/* 64-bit, control registers */
#define DBNIC_BAR_DB			2	/* 64-bit prefetchable, doorbells */
#define DBNIC_BAR_MSIX			4	/* 64-bit, MSI-X table + PBA */

#define DBNIC_CTRL_BAR_SIZE		0x4000
#define DBNIC_MSIX_BAR_SIZE		0x2000
#define DBNIC_MSIX_TABLE_OFFSET		0x0000
#define DBNIC_MSIX_PBA_OFFSET		0x1000

/* ------------------------------------------------------------------ */
/* Control registers, BAR 0 (datasheet section 2)                      */
/* All registers are 32 bits wide unless marked 64; 64-bit registers   */
/* may be accessed as one 8-byte access or two 4-byte accesses.        */
/* ------------------------------------------------------------------ */

#define DBNIC_REG_ID			0x000	/* RO: DBNIC_ID_MAGIC */
#define DBNIC_REG_VERSION		0x004	/* RO: major << 16 | minor */
#define DBNIC_REG_CAP_QUEUES		0x008	/* RO: see DBNIC_CAPQ_* */
#define DBNIC_REG_CAP_DB		0x00c	/* RO: see DBNIC_CAPDB_* */
#define DBNIC_REG_CAP_LIMITS		0x010	/* RO: see DBNIC_CAPL_* */
#define DBNIC_REG_CAP_FEATURES		0x014	/* RO: DBNIC_FEAT_* */
#define DBNIC_REG_CAP_MAX_XFER		0x018	/* RO: bytes per descriptor */
#define DBNIC_REG_CAP_MRS		0x01c	/* RO: memory registrations */
#define DBNIC_REG_CTRL			0x020	/* RW: DBNIC_CTRL_* */
#define DBNIC_REG_STATUS		0x024	/* RO: DBNIC_STATUS_* */
#define DBNIC_REG_INTR_CAUSE		0x028	/* RW1C: DBNIC_INTR_* */
#define DBNIC_REG_ERR			0x02c	/* RC: first async error (no EQ) */
/* The five registers marked "latched" are frozen while CTRL.ENABLE is set. */
#define DBNIC_REG_AQ_SQ_BASE		0x030	/* RW, 64, latched: admin SQ */
#define DBNIC_REG_AQ_CQ_BASE		0x038	/* RW, 64, latched: admin CQ */
#define DBNIC_REG_AQ_CFG		0x040	/* RW, latched: log2 admin size */
#define DBNIC_REG_AQ_DB			0x044	/* WO: admin SQ producer index */
#define DBNIC_REG_EQ_BASE		0x048	/* RW, 64, latched: event queue */
#define DBNIC_REG_EQ_CFG		0x050	/* RW, latched: log2 EQ size */
#define DBNIC_REG_EQ_CI			0x054	/* WO: EQ consumer index */
#define DBNIC_REG_MAC_LO		0x058	/* RO: MAC bytes 0..3 (1.3) */
#define DBNIC_REG_MAC_HI		0x05c	/* RO: MAC bytes 4..5 in [15:0] */
#define DBNIC_REG_NET_STATUS		0x060	/* RO: DBNIC_NET_* (1.3) */
#define DBNIC_REG_NET_MAX_FRAME		0x064	/* RO: DBNIC_ETH_MAX_FRAME */
#define DBNIC_REG_CAP_QP		0x068	/* RO: DBNIC_CAPQP_* (1.4) */
#define DBNIC_REG_CAP_AH		0x06c	/* RO: address handles (1.4) */
#define DBNIC_REG_CAP_RDMA		0x070	/* RO: DBNIC_CAPR_* (1.4) */
#define DBNIC_REG_COUNTERS		0x100	/* RO, 64 each: enum dbnic_counter */

#define DBNIC_ID_MAGIC			0x43424e44	/* "DNBC" little-endian */
#define DBNIC_VERSION_MAJOR		1
#define DBNIC_VERSION_MINOR		5
#define DBNIC_VERSION			(DBNIC_VERSION_MAJOR << 16 | DBNIC_VERSION_MINOR)
#define DBNIC_VERSION_MAJOR_MASK	0xffff0000u
#define DBNIC_VERSION_MAJOR_SHIFT	16
#define DBNIC_VERSION_MINOR_MASK	0x0000ffffu
#define DBNIC_VERSION_MINOR_SHIFT	0

/* CAP_QUEUES */
#define DBNIC_CAPQ_MAX_SQ_MASK		0x0000ffffu
#define DBNIC_CAPQ_MAX_SQ_SHIFT		0
#define DBNIC_CAPQ_MAX_CQ_MASK		0xffff0000u
#define DBNIC_CAPQ_MAX_CQ_SHIFT		16

/* CAP_DB */
#define DBNIC_CAPDB_PAGES_MASK		0x0000ffffu	/* doorbell pages = contexts */
#define DBNIC_CAPDB_PAGES_SHIFT		0
#define DBNIC_CAPDB_PAGE_SHIFT_MASK	0x00ff0000u	/* log2 page size (13) */
#define DBNIC_CAPDB_PAGE_SHIFT_SHIFT	16
#define DBNIC_CAPDB_PRIO_SLOTS_MASK	0x0f000000u	/* priority slots per page */
#define DBNIC_CAPDB_PRIO_SLOTS_SHIFT	24

/* CAP_LIMITS */
#define DBNIC_CAPL_LOG_RING_MASK	0x000000ffu	/* max log2 ring entries */
#define DBNIC_CAPL_LOG_RING_SHIFT	0
#define DBNIC_CAPL_MAX_BLOCKS_MASK	0x0000ff00u	/* max descriptor blocks */
#define DBNIC_CAPL_MAX_BLOCKS_SHIFT	8
#define DBNIC_CAPL_MAX_SGE_MASK		0x00ff0000u	/* max SGEs per descriptor */
#define DBNIC_CAPL_MAX_SGE_SHIFT	16
#define DBNIC_CAPL_MSIX_MASK		0xff000000u	/* MSI-X vectors */
#define DBNIC_CAPL_MSIX_SHIFT		24

/* CAP_FEATURES */
#define DBNIC_FEAT_PRIORITY		(1u << 0)
#define DBNIC_FEAT_COPY			(1u << 1)
#define DBNIC_FEAT_FILL			(1u << 2)
#define DBNIC_FEAT_COMPARE		(1u << 3)
#define DBNIC_FEAT_NET			(1u << 4)	/* 1.3: section 10 */
#define DBNIC_FEAT_RDMA			(1u << 5)
#define DBNIC_FEAT_EQ			(1u << 6)	/* 1.2: EQ, CQ error state */

/* CAP_QP (1.4) */
#define DBNIC_CAPQP_MAX_QP_MASK		0x0000ffffu
#define DBNIC_CAPQP_MAX_QP_SHIFT	0

/* CAP_RDMA (1.4) */
#define DBNIC_CAPR_RD_ATOMIC_MASK	0x000000ffu	/* READs in flight per QP */
#define DBNIC_CAPR_RD_ATOMIC_SHIFT	0
#define DBNIC_CAPR_GIDS_MASK		0x0000ff00u	/* GID table entries */
#define DBNIC_CAPR_GIDS_SHIFT		8
#define DBNIC_CAPR_MTU_MASK		0x000f0000u	/* largest path MTU, IB enum */
#define DBNIC_CAPR_MTU_SHIFT		16

/* CTRL */
#define DBNIC_CTRL_ENABLE		(1u << 0)
#define DBNIC_CTRL_RESET		(1u << 1)	/* self-clearing */

/* STATUS */
#define DBNIC_STATUS_READY		(1u << 0)
#define DBNIC_STATUS_FATAL		(1u << 1)

/* NET_STATUS (1.3) */
#define DBNIC_NET_LINK_UP		(1u << 0)

/* INTR_CAUSE (vector 0) */
#define DBNIC_INTR_ADMIN		(1u << 0)	/* admin CQE posted */
#define DBNIC_INTR_ERROR		(1u << 1)	/* DBNIC_REG_ERR is valid */
#define DBNIC_INTR_EVENT		(1u << 2)	/* event entry written (1.2) */

/* ERR: first async error since the last read (ADMIN replaces any) */
#define DBNIC_ERR_CODE_MASK		0x000000ffu	/* enum dbnic_async_err */
#define DBNIC_ERR_CODE_SHIFT		0
#define DBNIC_ERR_CTX_MASK		0x0000ff00u	/* context (page) */
#define DBNIC_ERR_CTX_SHIFT		8
#define DBNIC_ERR_QID_MASK		0xffff0000u	/* queue, if any */
#define DBNIC_ERR_QID_SHIFT		16

enum dbnic_async_err {
	DBNIC_AERR_NONE			= 0,
	DBNIC_AERR_DB_NOT_OWNER		= 1,	/* page rang a foreign queue */
	DBNIC_AERR_DB_BAD_QUEUE		= 2,	/* doorbell for no such queue */
	DBNIC_AERR_DB_BAD_ACCESS	= 3,	/* bad size/offset in a page */
	DBNIC_AERR_CQ_OVERFLOW		= 4,	/* CQ entered the error state */
	DBNIC_AERR_ADMIN		= 5,	/* admin queue unusable */
	DBNIC_AERR_EQ_OVERFLOW		= 6,	/* events lost, EQ full */
	DBNIC_AERR_LINK			= 7,	/* link changed; data 1 up (1.3) */
	DBNIC_AERR_CQ_COMP		= 8,	/* armed DBNIC_CQ_EVENT CQ (1.4) */
	DBNIC_AERR_QP_ERR		= 9,	/* QP went to ERR; data: wc status */
	DBNIC_AERR_NUM
};

/* Event data of DBNIC_AERR_CQ_OVERFLOW: why the CQ entered error. */
#define DBNIC_CQ_ERR_FULL		1	/* no free entry */
#define DBNIC_CQ_ERR_WRITE		2	/* entry could not be written */

/* AQ_CFG */
#define DBNIC_AQ_LOG_SIZE_MASK		0x0000000fu
#define DBNIC_AQ_LOG_SIZE_SHIFT		0
#define DBNIC_AQ_LOG_SIZE_MIN		1
#define DBNIC_AQ_LOG_SIZE_MAX		6		/* 64 entries */

/* EQ_CFG (1.2); 0 = no event queue, ERR as in 1.1. */
#define DBNIC_EQ_LOG_SIZE_MASK		0x0000000fu
#define DBNIC_EQ_LOG_SIZE_SHIFT		0
#define DBNIC_EQ_LOG_SIZE_MIN		2
#define DBNIC_EQ_LOG_SIZE_MAX		12		/* 4096 entries */

/* EQ_CI */
#define DBNIC_EQ_CI_MASK		0x0000ffffu
#define DBNIC_EQ_CI_SHIFT		0

/*
 * An event queue entry.  Written like a CQE: bytes 0..11, then 12..15,
 * so that a host that sees the new phase also sees the rest.
 */
struct dbnic_eqe {
	__le32	object;		/* queue, cqn, ...: see datasheet 7 */
	__le32	data;		/* type-specific */
	__le16	ctx;		/* context (doorbell page) */
	__le16	rsvd;
	__u8	type;		/* enum dbnic_async_err */
	__u8	rsvd1[2];
	__u8	flags;		/* DBNIC_CQE_F_PHASE; written last */
};

_Static_assert(sizeof(struct dbnic_eqe) == 16, "EQE");

/*
 * Device counters, 64-bit each at DBNIC_REG_COUNTERS + 8 * index.  The list
 * is an X-macro so that every side derives the enum and the names from it.
 */
#define DBNIC_COUNTER_LIST(X)						\
	X(RING_FETCH,	 ring_fetch)	/* descriptors read from a ring */	\
	X(PRIO_EXEC,	 prio_exec)	/* descriptors run from a slot */	\
	X(PRIO_FALLBACK, prio_fallback)	/* incomplete, fell back to the ring */ \
	X(PRIO_TORN,	 prio_torn)	/* torn (csum) or headerless, dropped */ \
	X(PRIO_STALE,	 prio_stale)	/* index passed or covered, dropped */ \
	X(RING_SKIP,	 ring_skip)	/* ring slots consumed w/o a read */	\
	X(DB_NOT_OWNER,	 db_not_owner)	/* doorbells for foreign queues */	\
	X(DB_BAD,	 db_bad)	/* malformed or out-of-range doorbells */ \
	X(DESC_ERROR,	 desc_error)	/* error completions */		\
	X(ACCESS_FAULT,	 access_fault)	/* SGEs outside a context's memory */ \
	X(COMPLETIONS,	 completions)	/* CQEs written */			\
	X(CQ_OVERFLOW,	 cq_overflow)	/* CQs that entered the error state */ \
	X(INTERRUPTS,	 interrupts)	/* MSI-X messages sent */		\
	X(ADMIN_CMDS,	 admin_cmds)	/* admin commands executed */		\
	X(BYTES,	 bytes)		/* payload bytes moved */		\
	X(REG_LATCHED,	 reg_latched)	/* latched-register writes ignored */	\
	X(CQE_DROPPED,	 cqe_dropped)	/* CQEs for a CQ in error */		\
	X(EVENTS,	 events)	/* event entries written */		\
	X(EVENTS_LOST,	 events_lost)	/* events dropped, EQ full */	\
	X(ETH_TX,	 eth_tx)	/* ETH_TX frames taken by the port */	\
	X(ETH_TX_INLINE, eth_tx_inline)	/* inline, priority lane: no reads */ \
	X(ETH_TX_DROP,	 eth_tx_drop)	/* not sent: link down, reset, no port */ \
	X(ETH_RX,	 eth_rx)	/* frames written to RECV buffers */	\
	X(ETH_RX_NOBUF,	 eth_rx_nobuf)	/* frames that found no buffer */	\
	X(ETH_RX_BAD,	 eth_rx_bad)	/* runt, giant, malformed: dropped */ \
	X(ETH_RX_BUF_SHORT, eth_rx_buf_short) /* RECV buffer too small */ \
	X(ROCE_TX_PKTS,	 roce_tx_pkts)	/* RoCE packets taken (1.4, 11.9) */ \
	X(ROCE_TX_INLINE, roce_tx_inline) /* inline WQEs from the prio lane */ \
	X(ROCE_TX_DROP,	 roce_tx_drop)	/* link down, loopback full */	\
	X(ROCE_LOOPBACK, roce_loopback)	/* packets looped back inside */	\
	X(ROCE_RX_PKTS,	 roce_rx_pkts)	/* packets received and accepted */ \
	X(ROCE_RX_BAD_HDR, roce_rx_bad_hdr) /* headers, opcode, TVer, P_Key */ \
	X(ROCE_RX_BAD_ICRC, roce_rx_bad_icrc) /* ICRC mismatch */		\
	X(ROCE_RX_NO_QP, roce_rx_no_qp)	/* no QP, state, type, addresses */ \
	X(ROCE_RX_QKEY,	 roce_rx_qkey)	/* UD Q_Key mismatch */		\
	X(ROCE_RX_NOBUF, roce_rx_nobuf)	/* UD without a posted RECV */	\
	X(ROCE_RX_DUP,	 roce_rx_dup)	/* duplicate PSNs */			\
	X(ROCE_RX_SEQ,	 roce_rx_seq)	/* PSN ahead of the expected one */ \
	X(ROCE_RX_RKEY,	 roce_rx_rkey)	/* rkey, range or access refused */ \
	X(ROCE_ACK_TX,	 roce_ack_tx)	/* ACKs sent */			\
	X(ROCE_NAK_TX,	 roce_nak_tx)	/* NAKs sent */			\
	X(ROCE_RNR_NAK_TX, roce_rnr_nak_tx) /* RNR NAKs sent */		\
	X(ROCE_ACK_RX,	 roce_ack_rx)	/* ACKs received */			\
	X(ROCE_NAK_RX,	 roce_nak_rx)	/* NAKs and RNR NAKs received */	\
	X(ROCE_READ_RESP_TX, roce_read_resp_tx) /* READ response packets */ \
	X(ROCE_QP_ERR,	 roce_qp_err)	/* QPs that went to ERR by themselves */ \
	X(ROCE_RETX_PKTS, roce_retx_pkts) /* RC packets sent again (1.5) */ \
	X(ROCE_RETRY_TIMEOUT, roce_retry_timeout) /* timer expiries */	\
	X(ROCE_RETRY_SEQ, roce_retry_seq) /* seq NAK, lost READ responses */ \
	X(ROCE_RNR_WAIT, roce_rnr_wait)	/* RNR NAKs waited out */	\
	X(ROCE_RETRY_EXC, roce_retry_exc) /* WQEs failed RETRY_EXC_ERR */	\
	X(ROCE_RNR_RETRY_EXC, roce_rnr_retry_exc) /* RNR_RETRY_EXC_ERR */ \
	X(ROCE_FAULT_RX_DROP, roce_fault_rx_drop) /* fault injection (11.11) */ \
	X(ROCE_FAULT_RX_DUP, roce_fault_rx_dup)				\
	X(ROCE_FAULT_RX_REORDER, roce_fault_rx_reorder)			\
	X(ROCE_FAULT_RX_DELAY, roce_fault_rx_delay)			\
	X(ROCE_FAULT_RX_CORRUPT, roce_fault_rx_corrupt)			\
	X(ROCE_FAULT_TX_DROP, roce_fault_tx_drop)			\
	X(ROCE_FAULT_TX_DUP, roce_fault_tx_dup)				\
	X(ROCE_FAULT_TX_REORDER, roce_fault_tx_reorder)			\
	X(ROCE_FAULT_TX_DELAY, roce_fault_tx_delay)			\
	X(ROCE_FAULT_TX_CORRUPT, roce_fault_tx_corrupt)			\
	X(ROCE_FAULT_HOLD_FULL, roce_fault_hold_full) /* passed: hold full */

#define DBNIC_COUNTER_ENUM(id, name)	DBNIC_CNT_##id,
enum dbnic_counter {
	DBNIC_COUNTER_LIST(DBNIC_COUNTER_ENUM)
	DBNIC_CNT_NUM
};
#undef DBNIC_COUNTER_ENUM

#define DBNIC_REG_COUNTER(i)		(DBNIC_REG_COUNTERS + 8 * (i))

/* ------------------------------------------------------------------ */
/* Doorbell BAR 2 (datasheet section 3)                                */
/* One 8 KiB doorbell page per context; page n is owned by context n.  */
/* Its first 4 KiB are the doorbell region, its second 4 KiB the       */
/* priority area, so that each can have its own cache type (x86 PAT   */
/* tracks memory types per 4 KiB page).                                */
/* ------------------------------------------------------------------ */

#define DBNIC_DB_PAGE_SHIFT		13
#define DBNIC_DB_PAGE_SIZE		(1u << DBNIC_DB_PAGE_SHIFT)

/* Doorbell region: map uncached.  32-bit writes only; reads return 0. */
#define DBNIC_DB_REGION_OFFSET		0x0000
#define DBNIC_DB_REGION_SIZE		0x1000
#define DBNIC_DB_SQ			0x000	/* WO: qid << 16 | producer index */
#define DBNIC_DB_CQ			0x008	/* WO: arm | cqn << 16 | consumer */
#define DBNIC_DB_RQ			0x010	/* WO: rqn << 16 | producer (1.3) */
#define DBNIC_DB_QP_RQ			0x018	/* WO: qid << 16 | producer (1.4) */

#define DBNIC_DB_SQ_PI_MASK		0x0000ffffu
#define DBNIC_DB_SQ_PI_SHIFT		0
#define DBNIC_DB_SQ_QID_MASK		0xffff0000u
#define DBNIC_DB_SQ_QID_SHIFT		16

#define DBNIC_DB_CQ_CI_MASK		0x0000ffffu
#define DBNIC_DB_CQ_CI_SHIFT		0
#define DBNIC_DB_CQ_CQN_MASK		0x7fff0000u
#define DBNIC_DB_CQ_CQN_SHIFT		16
#define DBNIC_DB_CQ_ARM			(1u << 31)

#define DBNIC_DB_RQ_PI_MASK		0x0000ffffu
#define DBNIC_DB_RQ_PI_SHIFT		0
#define DBNIC_DB_RQ_RQN_MASK		0xffff0000u
#define DBNIC_DB_RQ_RQN_SHIFT		16

/* Priority area: map write-combining.  4- or 8-byte aligned writes. */
#define DBNIC_PRIO_OFFSET		0x1000
#define DBNIC_PRIO_AREA_SIZE		0x1000
#define DBNIC_PRIO_SLOT_SIZE		0x100
#define DBNIC_PRIO_SLOTS		8
#define DBNIC_PRIO_SLOT_OFFSET(s)	(DBNIC_PRIO_OFFSET + (s) * DBNIC_PRIO_SLOT_SIZE)
/*
 * An incomplete assembly is flushed (falls back to the ring copy) when no
 * write reached its slot for this long.
 */
#define DBNIC_PRIO_FLUSH_TIMEOUT_NS	10000000u	/* 10 ms */

/* ------------------------------------------------------------------ */
/* Descriptors (datasheet section 5)                                   */
/* ------------------------------------------------------------------ */

#define DBNIC_DESC_BLOCK_SIZE		64
#define DBNIC_DESC_MAX_BLOCKS		4
#define DBNIC_DESC_MAX_SIZE		(DBNIC_DESC_BLOCK_SIZE * DBNIC_DESC_MAX_BLOCKS)
#define DBNIC_MAX_SGE			15
#define DBNIC_MAX_XFER			(16u << 20)	/* bytes per descriptor */
#define DBNIC_CHUNK_BYTES		(64u << 10)	/* engine moves data in these */

#define DBNIC_LOG_RING_MIN		1
#define DBNIC_LOG_RING_MAX		12		/* 4096 entries */
#define DBNIC_LOG_STRIDE_MIN		6		/* 64-byte slots */
#define DBNIC_LOG_STRIDE_MAX		8		/* 256-byte slots */

enum dbnic_opcode {
	DBNIC_OP_INVALID		= 0x00,	/* zeroed memory never runs */
	DBNIC_OP_NOP			= 0x01,
	DBNIC_OP_COPY			= 0x02,	/* gather src SGEs, scatter to dst */
	DBNIC_OP_FILL			= 0x03,	/* imm pattern to dst SGEs */
	DBNIC_OP_COMPARE		= 0x04,	/* src SGEs against dst SGEs */
	DBNIC_OP_SEND			= 0x10,	/* QP send WQE (1.4, 11.4) */
	DBNIC_OP_RECV			= 0x11,	/* RQ buffer (1.3, section 10.3) */
	DBNIC_OP_SEND_IMM		= 0x12,	/* 1.4 */
	DBNIC_OP_RDMA_WRITE		= 0x20,	/* 1.4 */
	DBNIC_OP_RDMA_READ		= 0x21,	/* 1.4 */
	DBNIC_OP_RDMA_WRITE_IMM		= 0x22,	/* 1.4 */
	DBNIC_OP_ETH_TX			= 0x30,	/* send a frame (1.3, section 10.2) */
};

/* dbnic_desc_hdr.flags */
#define DBNIC_DESC_F_COMPLETION		(1u << 0)	/* write a CQE on success */
#define DBNIC_DESC_F_FENCE		(1u << 1)	/* wait for lower indices */
/* Every defined flag; the others are reserved and give BAD_DESC. */
#define DBNIC_DESC_F_ALL		(DBNIC_DESC_F_COMPLETION | DBNIC_DESC_F_FENCE)
/* Send WQEs of a QP (1.4, 11.4): FENCE waits for earlier RDMA READs. */
#define DBNIC_WQE_F_SOLICITED		(1u << 2)	/* SE on the last packet */
#define DBNIC_WQE_F_ALL			(DBNIC_DESC_F_ALL | DBNIC_WQE_F_SOLICITED)

/* dbnic_desc_hdr.nsge */
#define DBNIC_NSGE_SRC_MASK		0x0f
#define DBNIC_NSGE_SRC_SHIFT		0
#define DBNIC_NSGE_DST_MASK		0xf0
#define DBNIC_NSGE_DST_SHIFT		4

/*
 * The first 8 bytes are self-describing: from them alone the device knows
 * the queue and ring index a priority write belongs to, and its length.
 */
struct dbnic_desc_hdr {
	__u8	opcode;		/* enum dbnic_opcode */
	__u8	flags;		/* DBNIC_DESC_F_* */
	__u8	size;		/* length in 64-byte blocks, 1..4 */
	__u8	nsge;		/* src count | dst count << 4 */
	__le16	index;		/* ring index (free-running) of this slot */
	__le16	qid;		/* owning send queue */
	__le32	csum;		/* priority copy only: dbnic_desc_csum() */
	__le32	imm;		/* opcode-specific */
};

/* A memory range.  key 0 = DMA address; privileged contexts only. */
struct dbnic_sge {
	__le64	addr;
	__le32	len;
	__le32	key;
};

struct dbnic_desc {
	struct dbnic_desc_hdr	hdr;
	struct dbnic_sge	sge[DBNIC_MAX_SGE];	/* src first, then dst */
};

_Static_assert(sizeof(struct dbnic_desc_hdr) == 16, "descriptor header");
_Static_assert(sizeof(struct dbnic_sge) == 16, "SGE");
_Static_assert(sizeof(struct dbnic_desc) == DBNIC_DESC_MAX_SIZE, "descriptor");
_Static_assert(DBNIC_DESC_MAX_SIZE <= DBNIC_PRIO_SLOT_SIZE, "slot fits");
_Static_assert(DBNIC_PRIO_SLOTS * DBNIC_PRIO_SLOT_SIZE <= DBNIC_PRIO_AREA_SIZE,
	       "slots fit in the priority area");
_Static_assert(DBNIC_PRIO_OFFSET + DBNIC_PRIO_AREA_SIZE <= DBNIC_DB_PAGE_SIZE &&
	       DBNIC_DB_REGION_OFFSET + DBNIC_DB_REGION_SIZE <= DBNIC_PRIO_OFFSET,
	       "regions fit in the doorbell page");

/* Blocks needed for a descriptor with n SGEs. */
static inline unsigned int dbnic_desc_blocks(unsigned int nsge)
{
	return (sizeof(struct dbnic_desc_hdr) + nsge * sizeof(struct dbnic_sge) +
		DBNIC_DESC_BLOCK_SIZE - 1) / DBNIC_DESC_BLOCK_SIZE;
}

/*
 * Check value of a priority copy: 64-bit FNV-1a over the descriptor's
 * 8-byte words, read as little-endian values, with the csum field taken
 * as 0, folded to 32 bits.  It lets the device refuse an assembly made of
 * words from two different posts.  @desc holds nwords = size * 8 words.
 */
#define DBNIC_CSUM_SEED			0xcbf29ce484222325ull
#define DBNIC_CSUM_PRIME		0x00000100000001b3ull
#define DBNIC_CSUM_WORD			1	/* the word holding csum */
#define DBNIC_CSUM_WORD_MASK		0x00000000ffffffffull

static inline __u32 dbnic_desc_csum(const void *desc, unsigned int nwords)
{
	const __u8 *p = (const __u8 *)desc;
	__u64 h = DBNIC_CSUM_SEED;
	unsigned int i, b;

	for (i = 0; i < nwords; i++) {
		__u64 w = 0;

		for (b = 0; b < 8; b++)
			w |= (__u64)p[8 * i + b] << (8 * b);
		if (i == DBNIC_CSUM_WORD)
			w &= ~DBNIC_CSUM_WORD_MASK;
		h = (h ^ w) * DBNIC_CSUM_PRIME;
	}
	return (__u32)(h ^ (h >> 32));
}

/* ------------------------------------------------------------------ */
/* Completions (datasheet section 6)                                   */
/* ------------------------------------------------------------------ */

enum dbnic_status {
	DBNIC_ST_OK			= 0x00,
	DBNIC_ST_BAD_OPCODE		= 0x01,
	DBNIC_ST_BAD_DESC		= 0x02,	/* size, SGE count, reserved bits */
	DBNIC_ST_BAD_LENGTH		= 0x03,	/* length mismatch or too long */
	DBNIC_ST_DMA_ERROR		= 0x04,	/* DMA to/from host failed */
	DBNIC_ST_ACCESS			= 0x05,	/* range not granted to context */
	DBNIC_ST_MISMATCH		= 0x06,	/* compare found a difference */
	DBNIC_ST_BAD_DOORBELL		= 0x07,	/* producer index past the ring */
	DBNIC_ST_FLUSHED		= 0x08,	/* queue destroyed first */
	DBNIC_ST_BAD_FRAME		= 0x09,	/* ETH_TX: offload impossible (1.3) */
};

/* dbnic_cqe.flags */
#define DBNIC_CQE_F_PHASE		(1u << 0)	/* ownership, see section 6 */
#define DBNIC_CQE_F_PRIO		(1u << 1)	/* ran from a priority slot */
#define DBNIC_CQE_F_RX			(1u << 2)	/* struct dbnic_rx_cqe (1.3) */

/*
 * Written in two parts: bytes 0..11, then bytes 12..15, so that a host that
 * sees the new phase also sees the rest.
 */
struct dbnic_cqe {
	__le32	byte_count;	/* bytes moved */
	__le16	index;		/* ring index of the descriptor */
	__le16	qid;		/* its send queue */
	__le16	sq_head;	/* ring slots before this are free */
	__le16	rsvd;
	__u8	status;		/* enum dbnic_status */
	__u8	rsvd1[2];
	__u8	flags;		/* DBNIC_CQE_F_*; written last */
};

_Static_assert(sizeof(struct dbnic_cqe) == 16, "CQE");

#define DBNIC_CQE_TAIL_OFFSET		12	/* second part of the CQE write */

/* Phase value the device writes for producer index pi on a 2^log ring. */
static inline unsigned int dbnic_cq_phase(__u32 pi, unsigned int log_size)
{
	return ((pi >> log_size) & 1) ^ 1;
}

/* ------------------------------------------------------------------ */
/* RDMA objects (datasheet section 11, version 1.4)                    */
/* ------------------------------------------------------------------ */

#define DBNIC_MAX_QP			4096	/* CAP_QP at most */
#define DBNIC_MAX_AH			65535	/* CAP_AH at most */
#define DBNIC_GID_TBL_LEN		16
#define DBNIC_QP_MAX_RD_ATOMIC		16	/* READs in flight, each way */
#define DBNIC_QP_MAX_INFLIGHT		256	/* RC WQEs sent, not yet acked */
#define DBNIC_ROCE_LOOP_FRAMES		256	/* loopback packets queued */
#define DBNIC_ROCE_MIN_TIMEOUT_NS	1000000	/* transport timer floor (11.10) */
#define DBNIC_IB_MTU_MAX		5	/* IB enum: 4096 bytes */
#define DBNIC_GSI_QPN			1	/* the GSI QP's wire QPN */
#define DBNIC_GSI_QKEY			0x80010000u
#define DBNIC_QKEY_PRIVILEGED		0x80000000u	/* bit 31 (11.8 UD) */
#define DBNIC_VLAN_NONE			0xffffu

/* QPN: gen << 12 | table index; gen 1..4095 (11.1). */
#define DBNIC_QPN_INDEX_MASK		0x000fffu
#define DBNIC_QPN_INDEX_SHIFT		0
#define DBNIC_QPN_GEN_MASK		0xfff000u
#define DBNIC_QPN_GEN_SHIFT		12
#define DBNIC_QPN_MASK			0xffffffu	/* 24 bits on the wire */

/* CREATE_AH result: index + 1, generation, as an MR key (11.1). */
#define DBNIC_AH_INDEX_MASK		0x0000ffffu
#define DBNIC_AH_INDEX_SHIFT		0
#define DBNIC_AH_GEN_MASK		0xffff0000u
#define DBNIC_AH_GEN_SHIFT		16

/* Path MTU in bytes for the IB enum value 1..5 (256..4096). */
static inline unsigned int dbnic_ib_mtu_bytes(unsigned int ib_mtu)
{
	return ib_mtu >= 1 && ib_mtu <= DBNIC_IB_MTU_MAX ? 128u << ib_mtu : 0;
}

enum dbnic_qp_type {
	DBNIC_QPT_RC			= 1,
	DBNIC_QPT_UD			= 2,
	DBNIC_QPT_GSI			= 3,	/* PRIVILEGED, one per device */
};

/* IB's QP states and numbers (IBTA vol. 1, 10.3.1; enum ib_qp_state). */
enum dbnic_qp_state {
	DBNIC_QPS_RESET			= 0,
	DBNIC_QPS_INIT			= 1,
	DBNIC_QPS_RTR			= 2,
	DBNIC_QPS_RTS			= 3,
	DBNIC_QPS_SQD			= 4,	/* refused */
	DBNIC_QPS_SQE			= 5,
	DBNIC_QPS_ERR			= 6,
};

/* MODIFY_QP attr_mask: the bit values of IB's enum ib_qp_attr_mask. */
#define DBNIC_QP_ATTR_STATE		(1u << 0)
#define DBNIC_QP_ATTR_CUR_STATE		(1u << 1)
#define DBNIC_QP_ATTR_ACCESS_FLAGS	(1u << 3)
#define DBNIC_QP_ATTR_PKEY_INDEX	(1u << 4)
#define DBNIC_QP_ATTR_PORT		(1u << 5)
#define DBNIC_QP_ATTR_QKEY		(1u << 6)
#define DBNIC_QP_ATTR_AV		(1u << 7)
#define DBNIC_QP_ATTR_PATH_MTU		(1u << 8)
#define DBNIC_QP_ATTR_TIMEOUT		(1u << 9)
#define DBNIC_QP_ATTR_RETRY_CNT		(1u << 10)
#define DBNIC_QP_ATTR_RNR_RETRY		(1u << 11)
#define DBNIC_QP_ATTR_RQ_PSN		(1u << 12)
#define DBNIC_QP_ATTR_MAX_QP_RD_ATOMIC	(1u << 13)
#define DBNIC_QP_ATTR_MIN_RNR_TIMER	(1u << 15)
#define DBNIC_QP_ATTR_SQ_PSN		(1u << 16)
#define DBNIC_QP_ATTR_MAX_DEST_RD_ATOMIC (1u << 17)
#define DBNIC_QP_ATTR_DEST_QPN		(1u << 20)
#define DBNIC_QP_ATTR_ALL		0x13bffbu	/* the bits above */

/* dbnic_av.net, set_gid.net */
#define DBNIC_NET_IPV4			4
#define DBNIC_NET_IPV6			6

/*
 * An address vector, 40 bytes (11.2): everything a packet to one
 * destination needs.  The host resolves dmac and picks udp_sport.
 */
struct dbnic_av {
	__u8	dgid[16];	/* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
	__le32	flow_label;	/* [19:0] */
	__u8	dmac[6];	/* next hop */
	__le16	vlan;		/* VLAN ID or DBNIC_VLAN_NONE */
	__le16	udp_sport;	/* 0xc000..0xffff (RC; UD uses the QP's) */
	__u8	sgid_index;	/* valid GID entry of the same net */
	__u8	traffic_class;	/* IPv4 TOS */
	__u8	hop_limit;	/* IPv4 TTL */
	__u8	net;		/* DBNIC_NET_IPV4 or DBNIC_NET_IPV6 */
	__u8	rsvd[6];
};

_Static_assert(sizeof(struct dbnic_av) == 40, "address vector");

/* MODIFY_QP / QUERY_QP attribute block, 128 bytes, 8-byte aligned. */
struct dbnic_qp_attr {
	__u8	state;		/* enum dbnic_qp_state */
	__u8	cur_state;
	__u8	path_mtu;	/* IB enum 1..5 */
	__u8	access;		/* DBNIC_MR_REMOTE_READ | _WRITE accepted */
	__le32	qkey;
	__le32	rq_psn;		/* [23:0] */
	__le32	sq_psn;		/* [23:0] */
	__le32	dest_qpn;	/* [23:0] */
	__u8	max_rd_atomic;
	__u8	max_dest_rd_atomic;
	__u8	min_rnr_timer;	/* IB encodings, used from 1.5 */
	__u8	timeout;
	__u8	retry_cnt;
	__u8	rnr_retry;
	__u8	rsvd[6];
	struct dbnic_av av;
	__u8	rsvd1[56];
};

_Static_assert(sizeof(struct dbnic_qp_attr) == 128, "QP attributes");

/*
 * Bytes 16..31 of a send WQE (11.4), in place of sge[0]; SGEs or
 * inline_len inline bytes start at byte 32, as for ETH_TX.
 */
struct dbnic_rdma_seg {
	union {
		__le64	raddr;		/* RC: RDMA WRITE/READ remote address */
		struct {
			__le32	ah;		/* UD, GSI: CREATE_AH result */
			__le32	remote_qpn;
		};
	};
	union {
		__le32	rkey;		/* RC */
		__le32	remote_qkey;	/* UD, GSI */
	};
	__le16	inline_len;	/* bytes inline from byte 32; 0: SGEs */
	__le16	rsvd;		/* must be 0 */
};

_Static_assert(sizeof(struct dbnic_rdma_seg) == sizeof(struct dbnic_sge),
	       "RDMA fields take the first SGE's place");

/* SGEs or inline bytes start after the header and the segment: byte 32. */
#define DBNIC_RDMA_DATA_OFFSET		(sizeof(struct dbnic_desc_hdr) + \
					 sizeof(struct dbnic_rdma_seg))
#define DBNIC_RDMA_MAX_SGE		(DBNIC_MAX_SGE - 1)	/* 14 */
#define DBNIC_RDMA_MAX_INLINE		(DBNIC_DESC_MAX_SIZE - \
					 DBNIC_RDMA_DATA_OFFSET)	/* 224 */

static inline struct dbnic_rdma_seg *dbnic_rdma_seg_of(struct dbnic_desc *d)
{
	return (struct dbnic_rdma_seg *)&d->sge[0];
}

static inline const struct dbnic_rdma_seg *
dbnic_rdma_seg_of_const(const struct dbnic_desc *d)
{
	return (const struct dbnic_rdma_seg *)&d->sge[0];
}

/* IB's work-completion status values (enum ib_wc_status / ibv_wc_status). */
enum dbnic_wc_status {
	DBNIC_WC_SUCCESS		= 0,
	DBNIC_WC_LOC_LEN_ERR		= 1,
	DBNIC_WC_LOC_QP_OP_ERR		= 2,
	DBNIC_WC_LOC_PROT_ERR		= 4,
	DBNIC_WC_WR_FLUSH_ERR		= 5,
	DBNIC_WC_BAD_RESP_ERR		= 7,
	DBNIC_WC_LOC_ACCESS_ERR		= 8,
	DBNIC_WC_REM_INV_REQ_ERR	= 9,
	DBNIC_WC_REM_ACCESS_ERR		= 10,
	DBNIC_WC_REM_OP_ERR		= 11,
	DBNIC_WC_RETRY_EXC_ERR		= 12,
	DBNIC_WC_RNR_RETRY_EXC_ERR	= 13,
	DBNIC_WC_GENERAL_ERR		= 21,
};

/* IB's work-completion opcodes (enum ib_wc_opcode / ibv_wc_opcode). */
enum dbnic_wc_opcode {
	DBNIC_WC_SEND			= 0,
	DBNIC_WC_RDMA_WRITE		= 1,
	DBNIC_WC_RDMA_READ		= 2,
	DBNIC_WC_RECV			= 128,
	DBNIC_WC_RECV_RDMA_WITH_IMM	= 129,
};

/* dbnic_rdma_cqe.wc_flags */
#define DBNIC_WC_F_WITH_IMM		(1u << 0)
#define DBNIC_WC_F_GRH			(1u << 1)	/* 40-byte GRH first */
#define DBNIC_WC_F_NET_IPV4		(1u << 2)
#define DBNIC_WC_F_NET_IPV6		(1u << 3)

/* dbnic_rdma_cqe.cq_flags */
#define DBNIC_RCQE_F_RECV		(1u << 0)	/* a receive completion */

/* dbnic_cqe.flags / dbnic_rdma_cqe.flags: the 32-byte format */
#define DBNIC_CQE_F_RDMA		(1u << 3)

/* Bytes of "GRH" before a UD receive's payload (11.5). */
#define DBNIC_GRH_BYTES			40

/*
 * The 32-byte completion of a QP (11.6).  Written as bytes 0..27, then
 * 28..31, so that a host that sees the new phase also sees the rest.
 */
struct dbnic_rdma_cqe {
	__le32	byte_len;
	__le16	index;		/* the WQE's index in its ring */
	__le16	qid;		/* the QP's send queue */
	__le32	qpn;		/* [23:0] */
	__be32	imm;		/* wire order, with WITH_IMM */
	__le32	src_qp;		/* [23:0], UD/GSI receives */
	__le16	head;		/* send: slots before it free; recv: next */
	__le16	rsvd;
	__u8	opcode;		/* enum dbnic_wc_opcode */
	__u8	wc_flags;	/* DBNIC_WC_F_* */
	__u8	vendor_err;	/* enum dbnic_status detail of an error */
	__u8	sl;
	__u8	status;		/* enum dbnic_wc_status; second part */
	__u8	rsvd1;
	__u8	cq_flags;	/* DBNIC_RCQE_F_* */
	__u8	flags;		/* PHASE, PRIO, RDMA; written last */
};

_Static_assert(sizeof(struct dbnic_rdma_cqe) == 32, "RDMA CQE");

#define DBNIC_RDMA_CQE_TAIL_OFFSET	28	/* second part of the write */

/* ------------------------------------------------------------------ */
/* Admin queue (datasheet section 4)                                   */
/* ------------------------------------------------------------------ */

#define DBNIC_ADMIN_CMD_SIZE		64

enum dbnic_admin_opcode {
	DBNIC_ADM_CREATE_CTX		= 0x01,
	DBNIC_ADM_DESTROY_CTX		= 0x02,
	DBNIC_ADM_CREATE_CQ		= 0x03,
	DBNIC_ADM_DESTROY_CQ		= 0x04,
	DBNIC_ADM_CREATE_SQ		= 0x05,
	DBNIC_ADM_DESTROY_SQ		= 0x06,
	DBNIC_ADM_REG_MR		= 0x07,
	DBNIC_ADM_DEREG_MR		= 0x08,
	DBNIC_ADM_CREATE_RQ		= 0x09,	/* 1.3: create_sq's fields */
	DBNIC_ADM_DESTROY_RQ		= 0x0a,
	DBNIC_ADM_SET_RSS		= 0x0b,	/* 1.3: struct dbnic_rss_config */
	DBNIC_ADM_CREATE_QP		= 0x0c,	/* 1.4, section 11.2 */
	DBNIC_ADM_MODIFY_QP		= 0x0d,	/* struct dbnic_qp_attr by DMA */
	DBNIC_ADM_QUERY_QP		= 0x0e,
	DBNIC_ADM_DESTROY_QP		= 0x0f,
	DBNIC_ADM_CREATE_AH		= 0x10,
	DBNIC_ADM_DESTROY_AH		= 0x11,
	DBNIC_ADM_SET_GID		= 0x12,
};

enum dbnic_admin_status {
	DBNIC_AST_OK			= 0x00,
	DBNIC_AST_BAD_OPCODE		= 0x01,
	DBNIC_AST_BAD_PARAM		= 0x02,
	DBNIC_AST_NO_RESOURCE		= 0x03,
	DBNIC_AST_BAD_HANDLE		= 0x04,
	DBNIC_AST_BUSY			= 0x05,	/* object still in use */
};

/* create_cq.msix_vector of a polled CQ: it never interrupts (1.2). */
#define DBNIC_CQ_NO_VECTOR		0xffffu
/* create_cq.msix_vector: no vector; ARM answered by a CQ_COMP event (1.4). */
#define DBNIC_CQ_EVENT			0xfffeu

/* create_cq.log_cqe (1.4): log2 CQE size; 0 means 16-byte CQEs. */
#define DBNIC_LOG_CQE_16		4	/* struct dbnic_cqe, dbnic_rx_cqe */
#define DBNIC_LOG_CQE_32		5	/* struct dbnic_rdma_cqe */

/* create_ctx.flags */
#define DBNIC_CTX_F_PRIVILEGED		(1u << 0)	/* may use key 0 (DMA addr) */

/* reg_mr.access */
#define DBNIC_MR_LOCAL_WRITE		(1u << 0)	/* may be a destination */
#define DBNIC_MR_REMOTE_READ		(1u << 1)	/* RDMA READ target (1.4) */
#define DBNIC_MR_REMOTE_WRITE		(1u << 2)	/* RDMA WRITE target (1.4) */
#define DBNIC_MR_ACCESS_ALL		0x7u

#define DBNIC_MR_PAGE_SHIFT_MIN		12
#define DBNIC_MR_PAGE_SHIFT_MAX		30
#define DBNIC_MR_MAX_PAGES		(1u << 20)

/* An MR key: index + 1 in bits 0..15, a generation in bits 16..31. */
#define DBNIC_MR_KEY_INDEX_MASK		0x0000ffffu
#define DBNIC_MR_KEY_INDEX_SHIFT	0
#define DBNIC_MR_KEY_GEN_MASK		0xffff0000u
#define DBNIC_MR_KEY_GEN_SHIFT		16

struct dbnic_admin_cmd {
	__u8	opcode;		/* enum dbnic_admin_opcode */
	__u8	rsvd0;
	__le16	cmd_id;		/* echoed in the completion */
	__le32	rsvd1;
	union {
		struct {
			__le32	flags;		/* DBNIC_CTX_F_* */
		} create_ctx;
		struct {
			__le32	handle;		/* ctx, cqn or qid to destroy */
		} destroy;
		struct {
			__le64	base;		/* CQE ring, CQE size << log_size */
			__le32	ctx;
			__u8	log_size;
			__u8	log_cqe;	/* 0, 4: 16-byte CQEs; 5: 32 (1.4) */
			__le16	msix_vector;	/* or NO_VECTOR, CQ_EVENT (1.4) */
		} create_cq;
		struct {
			__le64	base;		/* ring, stride << log_size bytes */
			__le32	ctx;
			__le32	cqn;
			__u8	log_size;
			__u8	log_stride;
			__le16	rsvd;
		} create_sq;			/* and CREATE_RQ (1.3) */
		struct {
			__le64	config;		/* dbnic_rss_config, 0: RSS off */
			__le32	ctx;
		} set_rss;
		struct {
			__le64	iova;		/* first byte's address in SGEs */
			__le64	length;		/* bytes */
			__le64	pages;		/* DMA address of a __le64 list */
			__le32	ctx;
			__le32	npages;		/* entries in the list */
			__u8	page_shift;	/* log2 page size, 12..30 */
			__u8	access;		/* DBNIC_MR_* */
			__le16	rsvd;
			__le32	pd;		/* 1.4: protection domain, 0 none */
		} reg_mr;
		struct {
			__le64	sq_base;	/* send ring, stride << log_size */
			__le64	rq_base;	/* receive ring, likewise */
			__le32	ctx;
			__le32	pd;
			__le32	scqn;		/* send CQ: 32-byte CQEs, same ctx */
			__le32	rcqn;		/* receive CQ, likewise */
			__u8	type;		/* enum dbnic_qp_type */
			__u8	sq_log_size;	/* 1..12 */
			__u8	sq_log_stride;	/* 6..8 */
			__u8	rq_log_size;	/* 1..12 */
			__u8	rq_log_stride;	/* 6..8 */
			__u8	rsvd[3];
		} create_qp;			/* 1.4; result: QPN, result2: qid */
		struct {
			__le64	attr;		/* struct dbnic_qp_attr, 8-aligned */
			__le32	qpn;
			__le32	attr_mask;	/* DBNIC_QP_ATTR_* (MODIFY_QP) */
		} modify_qp;			/* and QUERY_QP (1.4) */
		struct {
			struct dbnic_av av;
			__le32	ctx;
			__le32	pd;
		} create_ah;			/* 1.4; result: ah */
		struct {
			__u8	gid[16];	/* IPv6 or IPv4-mapped address */
			__le32	index;		/* < DBNIC_GID_TBL_LEN */
			__le16	vlan;		/* VLAN ID or DBNIC_VLAN_NONE */
			__u8	net;		/* DBNIC_NET_IPV4/6, 0 deletes */
			__u8	rsvd;
			__le32	ctx;		/* a PRIVILEGED context */
		} set_gid;			/* 1.4 */
		__u8	raw[56];
	};
};

struct dbnic_admin_cqe {
	__le32	result;		/* created handle */
	__le16	cmd_id;
	__le16	sq_head;	/* admin SQ slots before this are free */
	__le32	result2;	/* CREATE_QP: the send queue's qid (1.4) */
	__u8	status;		/* enum dbnic_admin_status */
	__u8	rsvd1[2];
	__u8	flags;		/* DBNIC_CQE_F_PHASE; written last */
};

_Static_assert(sizeof(struct dbnic_admin_cmd) == DBNIC_ADMIN_CMD_SIZE, "admin cmd");
_Static_assert(sizeof(struct dbnic_admin_cqe) == 16, "admin CQE");


/* ------------------------------------------------------------------ */
/* Network (datasheet section 10, version 1.3)                         */
/* ------------------------------------------------------------------ */

/* Frame limits, without FCS. */
#define DBNIC_ETH_HLEN			14	/* Ethernet header */
#define DBNIC_ETH_VLAN_HLEN		4	/* one 802.1Q tag */
#define DBNIC_ETH_MAX_MTU		9000
#define DBNIC_ETH_MIN_FRAME		DBNIC_ETH_HLEN
#define DBNIC_ETH_MAX_FRAME		(DBNIC_ETH_MAX_MTU + DBNIC_ETH_HLEN + \
					 DBNIC_ETH_VLAN_HLEN)	/* 9018 */
#define DBNIC_ETH_MAX_TSO		65536	/* a TSO frame as given */
#define DBNIC_ETH_MSS_MIN		64
/*
 * The largest frame less Ethernet, IPv4 and TCP headers of 20 bytes: the
 * bound on the field.  Each segment (the frame's headers + mss, + a VLAN
 * tag inserted) must also fit DBNIC_ETH_MAX_FRAME (datasheet 10.1).
 */
#define DBNIC_ETH_MSS_MAX		(DBNIC_ETH_MAX_FRAME - DBNIC_ETH_HLEN - \
					 20 - 20)		/* 8964 */
/* Emulated device: how long it holds the network with no RX buffer. */
#define DBNIC_ETH_RX_HOLD_NS		10000000u	/* 10 ms */

/* dbnic_eth_tx.offload */
#define DBNIC_ETH_TX_F_CSUM		(1u << 0)	/* TCP/UDP checksum */
#define DBNIC_ETH_TX_F_TSO		(1u << 1)	/* segment by mss */
#define DBNIC_ETH_TX_F_VLAN		(1u << 2)	/* insert vlan_tci */
#define DBNIC_ETH_TX_F_ALL		0x7u

/*
 * Bytes 16..31 of an ETH_TX descriptor, in place of sge[0]: the frame's
 * SGEs are sge[1..nsge], or inline_len bytes of it start at byte 32.
 */
struct dbnic_eth_tx {
	__le16	offload;	/* DBNIC_ETH_TX_F_* */
	__le16	mss;		/* TSO: TCP payload bytes per segment */
	__le16	vlan_tci;	/* VLAN: the TCI to insert */
	__le16	inline_len;	/* bytes inline from byte 32; 0: SGEs */
	__le32	rsvd[2];	/* must be 0 */
};

_Static_assert(sizeof(struct dbnic_eth_tx) == sizeof(struct dbnic_sge),
	       "ETH_TX fields take the first SGE's place");

#define DBNIC_ETH_TX_DATA_OFFSET	32	/* SGEs or inline bytes */
#define DBNIC_ETH_TX_MAX_SGE		(DBNIC_MAX_SGE - 1)	/* 14 */
#define DBNIC_ETH_TX_MAX_INLINE		(DBNIC_DESC_MAX_SIZE - \
					 DBNIC_ETH_TX_DATA_OFFSET)	/* 224 */

static inline struct dbnic_eth_tx *dbnic_eth_tx_of(struct dbnic_desc *d)
{
	return (struct dbnic_eth_tx *)&d->sge[0];
}

/* Blocks an ETH_TX with nsge SGEs or inline_len inline bytes needs. */
static inline unsigned int dbnic_eth_tx_blocks(unsigned int nsge,
					       unsigned int inline_len)
{
	return (DBNIC_ETH_TX_DATA_OFFSET + nsge * sizeof(struct dbnic_sge) +
		inline_len + DBNIC_DESC_BLOCK_SIZE - 1) / DBNIC_DESC_BLOCK_SIZE;
}

/*
 * Blocks a send WQE (1.4, 11.4) with nsge SGEs or inline_len inline bytes
 * needs: the same layout as ETH_TX, data from byte 32.
 */
_Static_assert(DBNIC_RDMA_DATA_OFFSET == DBNIC_ETH_TX_DATA_OFFSET,
	       "send WQEs and ETH_TX share their layout");
static inline unsigned int dbnic_rdma_wqe_blocks(unsigned int nsge,
						 unsigned int inline_len)
{
	return dbnic_eth_tx_blocks(nsge, inline_len);
}

/* Receive queues. */
#define DBNIC_MAX_RQ			64

/* dbnic_rx_cqe.rx_flags: checksum status; neither of a pair: unchecked */
#define DBNIC_RX_L4_OK			(1u << 0)	/* TCP/UDP csum good */
#define DBNIC_RX_L4_BAD			(1u << 1)
#define DBNIC_RX_IP_OK			(1u << 2)	/* IPv4 header csum good */
#define DBNIC_RX_IP_BAD			(1u << 3)
#define DBNIC_RX_CSUM_ALL		0xfu

enum dbnic_rss_hash {
	DBNIC_RSS_HASH_NONE		= 0,
	DBNIC_RSS_HASH_IPV4		= 1,	/* addresses */
	DBNIC_RSS_HASH_TCP_IPV4		= 2,	/* addresses and ports */
	DBNIC_RSS_HASH_UDP_IPV4		= 3,
	DBNIC_RSS_HASH_IPV6		= 4,
	DBNIC_RSS_HASH_TCP_IPV6		= 5,
	DBNIC_RSS_HASH_UDP_IPV6		= 6,
	DBNIC_RSS_HASH_NUM
};

/*
 * A receive completion (flags has DBNIC_CQE_F_RX), the size of a CQE and
 * written like one: bytes 0..11, then 12..15.
 */
struct dbnic_rx_cqe {
	__le32	byte_count;	/* frame length */
	__le16	index;		/* ring index of the RECV */
	__le16	qid;		/* rqn */
	__le32	rss_hash;	/* Toeplitz hash, 0 for DBNIC_RSS_HASH_NONE */
	__u8	status;		/* enum dbnic_status */
	__u8	rx_flags;	/* DBNIC_RX_* */
	__u8	hash_type;	/* enum dbnic_rss_hash */
	__u8	flags;		/* DBNIC_CQE_F_PHASE | DBNIC_CQE_F_RX; last */
};

_Static_assert(sizeof(struct dbnic_rx_cqe) == 16, "RX CQE");

/* SET_RSS: read from host memory by the command (8-byte aligned). */
#define DBNIC_RSS_KEY_SIZE		40
#define DBNIC_RSS_TABLE_SIZE		128

struct dbnic_rss_config {
	__u8	key[DBNIC_RSS_KEY_SIZE];	/* Toeplitz key */
	__le32	hash_types;	/* bit t: enum dbnic_rss_hash t enabled */
	__le16	table[DBNIC_RSS_TABLE_SIZE];	/* rqn per hash mod 128 */
};

_Static_assert(sizeof(struct dbnic_rss_config) == 300, "RSS config");

/* ------------------------------------------------------------------ */
/* Field helpers shared by every side                                  */
/* ------------------------------------------------------------------ */

#define DBNIC_GET(val, field)	(((val) & field##_MASK) >> field##_SHIFT)
#define DBNIC_SET(field, v)	(((__u32)(v) << field##_SHIFT) & field##_MASK)

static inline __u32 dbnic_db_sq_val(__u16 qid, __u16 pi)
{
	return DBNIC_SET(DBNIC_DB_SQ_QID, qid) | DBNIC_SET(DBNIC_DB_SQ_PI, pi);
}

static inline __u32 dbnic_db_rq_val(__u16 rqn, __u16 pi)
{
	return DBNIC_SET(DBNIC_DB_RQ_RQN, rqn) | DBNIC_SET(DBNIC_DB_RQ_PI, pi);
}

static inline __u32 dbnic_db_qp_rq_val(__u16 qid, __u16 pi)
{
	return dbnic_db_sq_val(qid, pi);	/* same layout as DB_SQ */
}

static inline __u32 dbnic_db_cq_val(__u16 cqn, __u16 ci, int arm)
{
	return DBNIC_SET(DBNIC_DB_CQ_CQN, cqn) | DBNIC_SET(DBNIC_DB_CQ_CI, ci) |
	       (arm ? DBNIC_DB_CQ_ARM : 0);
}

/* Ring math: indices are free-running 16-bit counters. */
static inline __u16 dbnic_ring_used(__u16 pi, __u16 ci)
{
	return (pi - ci) & 0xffff;
}

static inline __u32 dbnic_ring_slot(__u16 index, unsigned int log_size)
{
	return index & ((1u << log_size) - 1);
}

#endif /* DBNIC_HW_H */
