/*
 * dbnic device core: the device's logic, free of QEMU headers.
 *
 * The core owns the register file, the doorbell pages, the priority-slot
 * assembly, queue state and descriptor execution.  It reaches the outside
 * only through struct dbnic_core_ops, so the same code runs inside QEMU
 * (dbnic_pci.c), in host unit tests and under libFuzzer.
 *
 * Threading: the owner serialises every call (QEMU: a mutex of the glue's,
 * taken around each call, from vCPU threads and from the engine's thread).
 * MMIO entry points record state and ask for dbnic_core_run() through
 * ops->schedule, where descriptors are executed.  The one exception is
 * inline execution (dbnic_core_config.inline_bytes): a doorbell or priority
 * write that finds the engine idle runs a few small descriptors of its
 * queue at once, so dbnic_core_db_write() may DMA and call ops->irq.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DBNIC_CORE_H
#define DBNIC_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbnic_hw.h"
#include "dbnic_roce.h"

/* Trace points; the glue maps each to a QEMU trace event. */
enum dbnic_trace_event {
    DBNIC_TR_DB_SQ,         /* a: ctx, b: qid, c: producer index */
    DBNIC_TR_DB_CQ,         /* a: ctx, b: cqn, c: consumer | arm << 16 */
    DBNIC_TR_DB_REFUSED,    /* a: ctx, b: qid, c: enum dbnic_async_err */
    DBNIC_TR_PRIO_WRITE,    /* a: ctx, b: slot, c: offset | size << 16 */
    DBNIC_TR_PRIO_QUEUED,   /* a: ctx, b: qid, c: index */
    DBNIC_TR_PRIO_FALLBACK, /* a: ctx, b: qid, c: index */
    DBNIC_TR_PRIO_TORN,     /* a: ctx, b: slot, c: written-word mask */
    DBNIC_TR_PRIO_STALE,    /* a: ctx, b: qid, c: index */
    DBNIC_TR_RING_FETCH,    /* a: qid, b: index, c: address */
    DBNIC_TR_RING_SKIP,     /* a: qid, b: index */
    DBNIC_TR_EXEC,          /* a: qid, b: index, c: opcode | prio << 8 */
    DBNIC_TR_CQE,           /* a: cqn, b: index, c: status */
    DBNIC_TR_IRQ,           /* a: vector */
    DBNIC_TR_ADMIN,         /* a: opcode, b: status, c: result */
    DBNIC_TR_REG_WRITE,     /* a: offset, c: value */
    DBNIC_TR_BAD_ACCESS,    /* a: bar, b: offset, c: size */
    DBNIC_TR_ACCESS_FAULT,  /* a: qid, b: key, c: address */
    DBNIC_TR_MR,            /* a: ctx, b: key, c: length (0: deregistered) */
    DBNIC_TR_RUN,           /* a: queue scan visits, b: descriptors started */
    DBNIC_TR_EVENT,         /* a: enum dbnic_async_err, b: ctx, c: object */
    DBNIC_TR_ETH_TX,        /* a: qid, b: frame bytes, c: offload | mss << 16 */
    DBNIC_TR_ETH_RX,        /* a: rqn, b: frame bytes, c: status */
    DBNIC_TR_ETH_DROP,      /* a: enum dbnic_counter of the drop, b: bytes */
    DBNIC_TR_LINK,          /* a: 1 up, 0 down */
    DBNIC_TR_DB_RQ,         /* a: ctx, b: rqn, c: producer index */
    DBNIC_TR_QP,            /* a: ctx, b: QPN, c: qid | type << 16; 0: gone */
    DBNIC_TR_QP_STATE,      /* a: QPN, b: old state, c: new | attr_mask << 8 */
    DBNIC_TR_AH,            /* a: ctx, b: ah, c: 1 created, 0 destroyed */
    DBNIC_TR_GID,           /* a: index, b: net (0: deleted), c: vlan */
    DBNIC_TR_DB_QP_RQ,      /* a: ctx, b: qid, c: producer index */
    DBNIC_TR_ROCE_TX,       /* a: QPN, b: BTH opcode, c: PSN | len << 32 */
    DBNIC_TR_ROCE_RX,       /* a: dest QPN, b: BTH opcode, c: PSN | len << 32 */
    DBNIC_TR_ROCE_DROP,     /* a: enum dbnic_counter, b: dest QPN, c: PSN */
    DBNIC_TR_ROCE_RETRY,    /* a: QPN, b: retries left, c: from PSN */
    DBNIC_TR_ROCE_FAULT,    /* a: fault dir, b: fault kind, c: bytes */
};

/* What an ETH_TX asks of the port (datasheet 10.2); the glue applies it. */
struct dbnic_eth_tx_offload {
    uint16_t flags;    /* DBNIC_ETH_TX_F_* */
    uint16_t mss;      /* TSO: DBNIC_ETH_MSS_MIN..DBNIC_ETH_MSS_MAX */
    uint16_t vlan_tci; /* VLAN: the tag to insert */
};

/* Results of ops->eth_tx. */
enum dbnic_eth_tx_result {
    DBNIC_ETH_TX_SENT,    /* the port took the frame */
    DBNIC_ETH_TX_DROPPED, /* no network backend: counted, CQE OK */
    DBNIC_ETH_TX_BUSY,    /* cannot take it now: dbnic_core_eth_tx_resume() */
};

/*
 * What the glue learnt of a received frame (datasheet 10.3, 10.4),
 * computed with the configuration dbnic_core_eth_rss() gives.  The core
 * trusts none of it: an unknown hash type is NONE, contradictory
 * checksum bits read as "not checked".
 */
struct dbnic_eth_rx_meta {
    uint32_t hash;     /* Toeplitz hash, with the key of dbnic_core_eth_rss */
    uint8_t hash_type; /* enum dbnic_rss_hash of that hash */
    uint8_t rx_flags;  /* DBNIC_RX_* checksum status */
};

/* Results of dbnic_core_eth_rx(). */
enum dbnic_eth_rx_result {
    DBNIC_ETH_RX_DONE,  /* delivered, or dropped for good (counted) */
    DBNIC_ETH_RX_NOBUF, /* its RQ had no buffer (counted): may retry */
};

struct dbnic_core_ops {
    /* Device-initiated DMA.  Return 0 on success, -1 if it failed. */
    int (*dma_read)(void *opaque, uint64_t addr, void *buf, size_t len);
    int (*dma_write)(void *opaque, uint64_t addr, const void *buf, size_t len);
    /* Send an MSI-X message. */
    void (*irq)(void *opaque, unsigned int vector);
    /*
     * Optional (without it frames are dropped, ETH_TX_DROP): send one
     * frame of len bytes (DBNIC_ETH_MIN_FRAME..DBNIC_ETH_MAX_TSO) of an
     * ETH_TX, applying the offloads off describes (segmentation,
     * checksums, VLAN tag).  buf is the core's until the call returns.
     * The core has checked that a TSO frame is TCP over IPv4/IPv6.
     * Returns enum dbnic_eth_tx_result.
     */
    int (*eth_tx)(void *opaque, const void *buf, size_t len,
                  const struct dbnic_eth_tx_offload *off);
    /*
     * Optional: a DB_RQ posted receive buffers, so a frame that got
     * DBNIC_ETH_RX_NOBUF may find one now.  Called under the owner's
     * serialisation, from an MMIO write: only record and schedule.
     */
    void (*eth_rx_ready)(void *opaque);
    /*
     * Optional: the device is reset or disabled (dbnic_core_reset(), a
     * CTRL write; datasheet 2.1, 10.2): drop every frame eth_tx took and
     * has not handed to the network yet, and a received frame kept for
     * a buffer, so that nothing from before the reset leaves or arrives
     * after it.  Called under the owner's serialisation.  Returns the
     * frames dropped (counted in ETH_TX_DROP).
     */
    unsigned int (*eth_reset)(void *opaque);
    /* Monotonic time in nanoseconds. */
    uint64_t (*clock_ns)(void *opaque);
    /* Ask for dbnic_core_run() soon, outside the current call. */
    void (*schedule)(void *opaque);
    /* Ask for dbnic_core_timer() at this clock_ns() time. */
    void (*timer_mod)(void *opaque, uint64_t when_ns);
    /*
     * Optional, both or neither: direct access to bus memory, so that a
     * COPY moves each byte once instead of twice through the bounce
     * buffers.  map() returns a host pointer to [addr, addr + *len) for
     * reading (write false) or for writing, and cuts *len to what it
     * mapped (at least 1 byte); or NULL when the range is not plain RAM
     * (MMIO, unassigned, an IOMMU fault, no resources), and the core then
     * uses dma_read()/dma_write() for it.  Every mapping is released with
     * unmap(), given map()'s length and the bytes actually accessed.
     */
    void *(*map)(void *opaque, uint64_t addr, size_t *len, bool write);
    void (*unmap)(void *opaque, void *host, size_t len, bool write,
                  size_t access);
    /* Optional. */
    void (*trace)(void *opaque, enum dbnic_trace_event ev, uint32_t a,
                  uint32_t b, uint64_t c);
};

struct dbnic_core_config {
    uint32_t db_pages;     /* contexts, 1..256 */
    uint32_t max_sq;       /* 1..65535 */
    uint32_t max_cq;       /* 1..32767 */
    uint32_t msix_vectors; /* 1..255 */
    uint32_t max_mr;       /* 1..65535 */
    /*
     * PCIe timing model (datasheet 9), in virtual time through clock_ns
     * and timer_mod; off when all four are 0 (dbnic_core_timed()).
     * dma_latency_ns: the round trip of a device DMA read.  A ring
     * descriptor fetch costs one (for up to DBNIC_CORE_PREFETCH
     * descriptors at a time), and so does a job's first payload read; a
     * priority descriptor needs no fetch.
     * db_latency_ns: a doorbell or a complete priority copy reaches the
     * engine this long after the host's store (a posted write).
     * desc_ns: processing per descriptor.
     * byte_ps: picoseconds per payload byte on the device's data path,
     * which all queues share; 0: no bandwidth limit.
     */
    uint32_t dma_latency_ns;
    uint32_t db_latency_ns;
    uint32_t desc_ns;
    uint32_t byte_ps;
    /*
     * Test-only fault injection, off when 0: the device answers each admin
     * command whose opcode has its bit set in admin_delay_ops this many
     * milliseconds (0..DBNIC_CORE_ADMIN_DELAY_MAX_MS) after the command
     * reached the head of the ring, so that a driver's timeout can be
     * forced.  Commands still run in order: later ones wait behind it.
     */
    uint32_t admin_delay_ms;
    uint32_t admin_delay_ops; /* bit n: delay opcode n */
    /*
     * Payload bytes one dbnic_core_run() call moves at most before it
     * returns (and asks for the rest through ops->schedule); 0 means
     * DBNIC_CORE_RUN_BYTES.  An owner that runs the engine in its own
     * thread sets one DBNIC_CHUNK_BYTES piece, so that the lock it holds
     * around each call is free again after every piece (datasheet 5).
     */
    uint32_t run_bytes;
    /*
     * Inline execution, off when 0.  A DB_SQ or a complete priority write
     * that finds the engine idle (nothing scheduled, the timing model
     * off) and its queue idle runs the queue's new work at once, inside
     * the MMIO write, the way e1000 transmits from its TDT write: at most
     * DBNIC_CORE_INLINE_DESCS descriptors, each moving at most this many
     * bytes (values above DBNIC_CORE_INLINE_MAX act as that).  A larger
     * descriptor is started there and left to the engine.
     */
    uint32_t inline_bytes;
    /* The port's MAC address, byte 0 first on the wire (datasheet 10.1). */
    uint8_t mac[6];
    /*
     * RDMA (datasheet 11): CAP_FEATURES.RDMA, CAP_QP, CAP_AH, CAP_RDMA and
     * the admin commands 0x0c-0x12 with roce; without it they read 0 and
     * the commands are BAD_OPCODE.  max_qp 1..DBNIC_MAX_QP, max_ah
     * 1..DBNIC_MAX_AH (checked with roce off too).
     */
    bool roce;
    uint32_t max_qp;
    uint32_t max_ah;
};

#define DBNIC_CORE_ADMIN_DELAY_MAX_MS 60000u

/* Inline execution: descriptors per MMIO write, bytes per descriptor. */
#define DBNIC_CORE_INLINE_DESCS 4
#define DBNIC_CORE_INLINE_MAX   DBNIC_CHUNK_BYTES
/* The device's default: a page, one bounce burst. */
#define DBNIC_CORE_INLINE_DEFAULT 4096u

/* Ring descriptors fetched per DMA round trip under the timing model. */
#define DBNIC_CORE_PREFETCH 8

/* Bytes of payload the engine moves per dbnic_core_run() call at most. */
#define DBNIC_CORE_RUN_BYTES (1u << 20)
/* Bytes per DMA burst through the bounce buffers. */
#define DBNIC_CORE_BOUNCE    4096u
/* Descriptors the engine runs per dbnic_core_run() call at most. */
#define DBNIC_CORE_RUN_DESCS 64
/* Admin commands per dbnic_core_run() call at most (datasheet 4). */
#define DBNIC_CORE_RUN_ADMIN 8
/*
 * Send queue entries one dbnic_core_run() call looks at, at most: a scan
 * of max_sq queues resumes in the next call, so a guest that creates
 * 65535 queues and keeps one busy does not hold the BQL for a scan of
 * them all per descriptor.
 */
#define DBNIC_CORE_RUN_VISITS 8192
/* Descriptors waiting on one queue's priority lane. */
#define DBNIC_CORE_PRIO_LANE DBNIC_PRIO_SLOTS

struct dbnic_prio_slot {
    uint8_t buf[DBNIC_PRIO_SLOT_SIZE];
    uint64_t written; /* one bit per 4-byte word of buf */
    uint64_t last_ns; /* time of the latest write */
    /*
     * The assembly's index was passed or covered by a doorbell: it will
     * neither run nor act as a doorbell.  The slot still takes the rest
     * of that post's words, so they do not start a headerless assembly.
     */
    bool dead;
    /*
     * Dead since the flush timeout cut its post: it takes the rest of
     * that post's words however late they come, and is free when they
     * are all in or the next post rewrites a word; no timeout.
     */
    bool tail;
};

struct dbnic_ctx {
    bool in_use;
    bool privileged;
    uint8_t ev_reported; /* 1 << enum dbnic_async_err: doorbell events sent */
    uint32_t sq_first;   /* the context's send queues: qid + 1, 0: none */
    struct dbnic_prio_slot slot[DBNIC_PRIO_SLOTS];
};

struct dbnic_cq {
    bool in_use;
    bool armed;
    bool error; /* overflowed: takes no CQEs, its SQs stop (datasheet 6.1) */
    uint8_t log_size;
    uint8_t log_cqe; /* DBNIC_LOG_CQE_16 or _32 (1.4) */
    /*
     * DBNIC_CQ_EVENT (datasheet 11.7): its CQ_COMP entry is in the EQ at
     * comp_at, not yet passed by EQ_CI; or one is due and waits for room
     * (or for a run: MMIO writes no EQ entry).
     */
    bool comp_in_eq;
    bool comp_pending;
    uint16_t comp_at;
    uint16_t vector; /* or DBNIC_CQ_NO_VECTOR, DBNIC_CQ_EVENT */
    uint16_t pi; /* next CQE the device writes */
    uint16_t ci; /* host's consumer index, from DB_CQ */
    uint32_t ctx;
    uint32_t users; /* send queues completing here */
    uint64_t base;
};

/* Position in one SGE list of a descriptor. */
struct dbnic_sg_pos {
    uint8_t first; /* first SGE of the list in desc.sge[] */
    uint8_t n;     /* SGEs in the list */
    uint8_t i;     /* current SGE, relative to first */
    uint32_t off;  /* bytes used of the current SGE */
};

/* The descriptor a queue is executing, resumable between chunks. */
struct dbnic_job {
    bool active;
    bool prio;
    uint8_t status; /* from validation */
    uint16_t index;
    uint64_t wait_until; /* timing model: next step due then (modelled) */
    uint64_t total;      /* bytes to move */
    uint64_t done;       /* bytes moved */
    struct dbnic_sg_pos src;
    struct dbnic_sg_pos dst;
    bool eth_wait; /* ETH_TX: the port was busy, dbnic_core_eth_tx_resume */
    /* A QP's send WQE (11.4): the outcome of its checks, as its CQE says. */
    uint8_t wc_status;  /* enum dbnic_wc_status */
    uint8_t vendor_err; /* enum dbnic_status */
    bool wc_fatal;      /* the failure moves the QP to ERR (11.4, 1-4) */
    struct dbnic_desc d;
};

/* A receive queue (datasheet 10.3). */
struct dbnic_rq {
    bool in_use;
    uint8_t log_size;
    uint8_t log_stride;
    uint16_t pi; /* announced by DB_RQ */
    uint16_t ci; /* next RECV the device reads */
    uint32_t ctx;
    uint32_t cqn;
    uint64_t base;
};

struct dbnic_mr {
    bool in_use;
    uint8_t page_shift;
    uint8_t access;
    bool retired; /* gen is spent: never used again until reset */
    uint16_t gen; /* bumped at each registration of the entry */
    uint32_t ctx;
    uint32_t pd;  /* protection domain (1.4), 0: none */
    uint32_t npages;
    uint64_t iova;
    uint64_t length;
    uint64_t pages; /* DMA address of the page list */
};

struct dbnic_sq {
    bool in_use;
    uint8_t log_size;
    uint8_t log_stride;
    uint16_t pi; /* announced producer index */
    uint16_t ci; /* ring lane: next index to consider */
    bool bad_db; /* a doorbell past the ring awaits its CQE */
    uint16_t bad_db_pi;
    uint32_t ctx;
    uint32_t cqn;
    uint32_t qp; /* the queue pair whose send queue this is: index + 1, 0 */
    uint32_t ctx_next; /* the context's list of send queues: qid + 1 */
    uint32_t ctx_prev; /* or 0 at either end */
    uint64_t base;
    /* Ring slots whose descriptor belongs to the priority lane. */
    uint8_t prio_owned[(1u << DBNIC_LOG_RING_MAX) / 8];
    /* The priority lane: complete priority copies, oldest first. */
    struct dbnic_desc lane[DBNIC_CORE_PRIO_LANE];
    uint8_t lane_head;
    uint8_t lane_len;
    /* Timing model: ring indices [from, to) came with the last fetch. */
    uint16_t fetched_from;
    uint16_t fetched_to;
    /*
     * Timing model, modelled times in ns: the last fetch has arrived; the
     * queue's last descriptor finished; the latest doorbell reaches the
     * engine (for indices from db_from on) and the one before it (for
     * earlier indices); each priority lane entry reaches the engine.
     */
    uint64_t fetch_at;
    uint64_t free_at;
    uint64_t db_at;
    uint64_t db_at_prev;
    uint16_t db_from;
    uint64_t lane_at[DBNIC_CORE_PRIO_LANE];
    struct dbnic_job job;
};

/* A GID table entry (datasheet 11.1, SET_GID). */
struct dbnic_gid {
    uint8_t net;  /* DBNIC_NET_IPV4, _IPV6; 0: not valid */
    uint16_t vlan; /* VLAN ID or DBNIC_VLAN_NONE */
    uint8_t gid[16];
};

/* An address handle (CREATE_AH); the vector as the host wrote it. */
struct dbnic_ah {
    bool in_use;
    bool retired; /* gen is spent: never used again until reset */
    uint16_t gen;
    uint32_t ctx;
    uint32_t pd;
    struct dbnic_av av; /* little-endian, as in the command */
};

/*
 * A queue pair (datasheet 11): an ordinary send queue (sqid) for its
 * WQEs, a receive ring of RECV descriptors, the IBTA state and the
 * attributes MODIFY_QP set.  The transport keeps its own state in
 * sub-structs of its own that it adds here (the requester's, the
 * responder's); this part is the object's.
 */
struct dbnic_qp {
    bool in_use;
    bool retired;      /* gen is spent: never used again until reset */
    bool rq_flush;     /* in ERR with RECVs posted since: the run flushes */
    uint8_t type;      /* enum dbnic_qp_type */
    uint8_t state;     /* enum dbnic_qp_state */
    uint16_t gen;      /* QPN = gen << 12 | index, gen 1..4095 */
    uint32_t ctx;
    uint32_t pd;
    uint32_t sqid;     /* its send queue */
    uint32_t rcqn;     /* receive CQ (the send CQ is the send queue's) */
    /* Attributes (struct dbnic_qp_attr, host order). */
    uint8_t path_mtu;  /* IB enum, 0: not set */
    uint8_t access;    /* DBNIC_MR_REMOTE_READ | _WRITE */
    uint8_t max_rd_atomic;
    uint8_t max_dest_rd_atomic;
    uint8_t min_rnr_timer;
    uint8_t timeout;
    uint8_t retry_cnt;
    uint8_t rnr_retry;
    uint32_t qkey;
    uint32_t rq_psn;
    uint32_t sq_psn;
    uint32_t dest_qpn;
    struct dbnic_av av; /* RC: little-endian, as MODIFY_QP read it */
    /* The receive ring (datasheet 11.5). */
    uint8_t rq_log_size;
    uint8_t rq_log_stride;
    uint16_t rq_pi;    /* announced by DB_QP_RQ */
    uint16_t rq_ci;    /* next RECV the device takes */
    uint64_t rq_base;
    /* The RoCE transport (dbnic_roce.h): requester and responder. */
    struct dbnic_roce_req req;
    struct dbnic_roce_resp resp;
};

/* An event raised outside dbnic_core_run(), written to the EQ by it. */
struct dbnic_pending_ev {
    uint8_t type; /* enum dbnic_async_err */
    uint32_t ctx;
    uint32_t object;
    uint32_t data;
};

/*
 * Fault injection on the RoCE port (datasheet 11.11), emulated device
 * only: off while every rate is 0.
 */
enum dbnic_fault_dir {
    DBNIC_FAULT_RX,
    DBNIC_FAULT_TX,
    DBNIC_FAULT_DIRS
};

/* In the order the decision takes them (11.11). */
enum dbnic_fault_kind {
    DBNIC_FAULT_DROP,
    DBNIC_FAULT_DUP,
    DBNIC_FAULT_REORDER,
    DBNIC_FAULT_DELAY,
    DBNIC_FAULT_CORRUPT,
    DBNIC_FAULT_KINDS,
    DBNIC_FAULT_HOLD_FULL = DBNIC_FAULT_KINDS, /* trace only: passed */
};

#define DBNIC_FAULT_PPM         1000000u  /* a rate of every packet */
#define DBNIC_FAULT_US_MAX      1000000u  /* delay and reorder limits, µs */
#define DBNIC_FAULT_HOLD        64        /* packets held per direction */

struct dbnic_fault_config {
    uint32_t rate[DBNIC_FAULT_DIRS][DBNIC_FAULT_KINDS]; /* ppm, 0..1000000 */
    uint32_t delay_us;      /* delay: 0..DBNIC_FAULT_US_MAX */
    uint32_t reorder_us;    /* longest reorder hold: 0..DBNIC_FAULT_US_MAX */
};

/* One direction's generator and hold (dbnic_fault.c). */
struct dbnic_fault_side {
    uint64_t prng;          /* splitmix64 state */
    bool on;                /* a rate is set: draw for each packet */
    bool bypass;            /* delivering a packet already judged */
    struct dbnic_fault_held *held; /* DBNIC_FAULT_HOLD slots, lazily */
    uint8_t order[DBNIC_FAULT_HOLD]; /* slots in use, oldest first */
    uint8_t n;              /* of order[] */
    uint8_t *scratch;       /* a corrupted copy, DBNIC_ROCE_FRAME_MAX */
};

struct dbnic_fault {
    struct dbnic_fault_config cfg;
    uint64_t seed;
    struct dbnic_fault_side side[DBNIC_FAULT_DIRS];
};

struct dbnic_core {
    const struct dbnic_core_ops *ops;
    void *opaque;
    struct dbnic_core_config cfg;

    /* Registers. */
    uint32_t ctrl;
    uint32_t status;
    uint32_t intr_cause;
    uint32_t err;
    /* Latched while CTRL.ENABLE is set: writes are ignored then. */
    uint64_t aq_sq_base;
    uint64_t aq_cq_base;
    uint32_t aq_cfg;
    uint64_t eq_base;
    uint32_t eq_cfg;
    uint16_t aq_pi;    /* from AQ_DB */
    uint16_t aq_ci;    /* next admin command to run */
    uint16_t aq_cq_pi; /* next admin CQE to write */
    uint64_t aq_due;   /* admin_delay_ms: head command runs then; 0: none */
    bool eq_on;        /* the EQ passed the checks at enable */
    bool eq_ovf;       /* EQ_OVERFLOW written, the host has not emptied it */
    bool admin_reported;
    uint8_t pad_ev_reported; /* as dbnic_ctx.ev_reported, padding pages */
    uint16_t eq_pi;    /* next event entry to write */
    uint16_t eq_ci;    /* from EQ_CI */
    bool in_run;       /* in dbnic_core_run() or inline: DMA allowed */
    bool run_asked;    /* ops->schedule() called, no dbnic_core_run() since */
    struct dbnic_pending_ev *evq; /* events for the EQ, from MMIO/timer */
    uint32_t evq_len;
    uint32_t evq_cap;
    uint64_t counters[DBNIC_CNT_NUM];

    /* Objects. */
    struct dbnic_ctx *ctx;
    struct dbnic_sq *sq;
    struct dbnic_cq *cq;
    struct dbnic_mr *mr;
    /* RDMA (datasheet 11). */
    struct dbnic_qp *qp;
    struct dbnic_ah *ah;
    struct dbnic_gid gid[DBNIC_GID_TBL_LEN];
    uint32_t gsi;          /* the GSI QP: index + 1, 0: none */
    uint32_t qp_flush;     /* QPs with rq_flush set */
    /*
     * CQ_COMP (11.7): cqns whose entry is in the EQ, in EQ order, and
     * cqns whose event waits for room; each CQ at most once in each.
     */
    uint32_t *comp_q;
    uint32_t comp_q_head, comp_q_len;
    uint32_t *comp_wait;
    uint32_t comp_wait_head, comp_wait_len;
    /* RoCE frames to the port's own MAC, received in a run (11.8). */
    struct dbnic_roce_loop *roce_loop; /* DBNIC_ROCE_LOOP_FRAMES, lazily */
    uint16_t roce_loop_head;
    uint16_t roce_loop_len;
    struct dbnic_fault fault; /* RoCE fault injection (11.11) */
    uint32_t prio_partial; /* slots holding an incomplete assembly */
    uint64_t timer_at;     /* pending ops->timer_mod() deadline, 0: none */
    uint64_t link_ps;      /* timing model: data path free then, in ps */
    uint32_t rr_next;      /* where the next ring-lane pass starts */
    uint32_t prio_scan;    /* where an unfinished priority sweep resumes */
    uint64_t *sq_busy;     /* one bit per send queue that may have work */
    uint64_t *sq_used;     /* one bit per send queue in use */

    /* The port (datasheet 10). */
    bool link_up;
    bool eth_tx_blocked; /* ops->eth_tx said BUSY: ETH_TX jobs wait */
    bool rss_on;
    uint32_t rss_ctx;
    uint32_t rss_types;
    uint8_t rss_key[DBNIC_RSS_KEY_SIZE];
    uint16_t rss_table[DBNIC_RSS_TABLE_SIZE];
    struct dbnic_rq rq[DBNIC_MAX_RQ];
    uint8_t *eth_buf; /* one frame, DBNIC_ETH_MAX_TSO bytes */

    /* Bounce buffers for payload DMA. */
    uint8_t bounce[DBNIC_CORE_BOUNCE];
    uint8_t bounce2[DBNIC_CORE_BOUNCE];
};

/* Set up; returns 0, or -1 if cfg is out of range or memory is short. */
int dbnic_core_init(struct dbnic_core *c, const struct dbnic_core_config *cfg,
                    const struct dbnic_core_ops *ops, void *opaque);
void dbnic_core_free(struct dbnic_core *c);
/* Device reset: what CTRL.RESET and a PCI reset do. */
void dbnic_core_reset(struct dbnic_core *c);

/* BAR 0, control registers.  size is 4 or 8, offset aligned to it. */
uint64_t dbnic_core_ctrl_read(struct dbnic_core *c, uint64_t off,
                              unsigned int size);
void dbnic_core_ctrl_write(struct dbnic_core *c, uint64_t off, uint64_t val,
                           unsigned int size);

/* BAR 2, doorbell pages.  Reads have no side effect and return 0. */
void dbnic_core_db_write(struct dbnic_core *c, uint64_t off, uint64_t val,
                         unsigned int size);
uint64_t dbnic_core_db_bar_size(const struct dbnic_core *c);

/*
 * Timing profiles (datasheet 9.3): set cfg's four timing figures from the
 * profile called name ("off", "gen3x8").  Returns 0, or -1 for an unknown
 * name (cfg untouched).
 */
int dbnic_core_timing_profile(const char *name, struct dbnic_core_config *cfg);
/*
 * Is the timing model on?  Then the engine advances only through the
 * timer (ops->timer_mod), never through ops->schedule, and nothing may
 * run a descriptor outside dbnic_core_run() (no inline execution).
 */
bool dbnic_core_timed(const struct dbnic_core *c);

/* Execution engine: run admin commands and descriptors, bounded. */
void dbnic_core_run(struct dbnic_core *c);
/*
 * The timer asked for with ops->timer_mod() has expired: call this, then
 * dbnic_core_run(), at once.  Like dbnic_core_run(), it may raise
 * interrupts and DMA: call it where the owner's re-entrancy protection
 * holds (QEMU: the timer callback takes the device's guard).  Under the
 * timing model this pair is what drives the engine (datasheet 9.2).
 */
void dbnic_core_timer(struct dbnic_core *c);

/* ---- RoCE fault injection (datasheet 11.11, emulated device only) ---- */

/*
 * Set the rates (parts per million of a direction's RoCE packets) and
 * the delay and reorder times (µs) of the fault injector; they apply
 * from the next packet.  Returns 0, or -1 if a figure is out of range
 * (nothing changed).  Held packets stay held.
 */
int dbnic_core_fault_config(struct dbnic_core *c,
                            const struct dbnic_fault_config *cfg);
/*
 * Set the seed: both directions' generators restart from it (11.11,
 * "Replay"), even if it is the seed they had.
 */
void dbnic_core_fault_seed(struct dbnic_core *c, uint64_t seed);

/* ---- the network port (datasheet 10) ---- */

/*
 * The backend's link went up or down: NET_STATUS.LINK_UP, and a LINK
 * event when the device is ready.  Kept across reset.
 */
void dbnic_core_eth_set_link(struct dbnic_core *c, bool up);
/*
 * May the port take frames now?  False while the device is not ready,
 * the link is down or no RQ exists (the glue then drops what it gets).
 */
bool dbnic_core_eth_can_rx(const struct dbnic_core *c);
/*
 * The RSS configuration for the glue's hash: true if RSS is on, with the
 * key (DBNIC_RSS_KEY_SIZE bytes) and the enabled hash types (bit t: enum
 * dbnic_rss_hash t).
 */
bool dbnic_core_eth_rss(const struct dbnic_core *c, uint8_t *key,
                        uint32_t *types);
/*
 * A frame arrived: check it (runt, giant, malformed: dropped, counted),
 * pick its RQ (RSS), take the RQ's next RECV descriptor, write the frame
 * by DMA, write the receive completion and interrupt.  Returns enum
 * dbnic_eth_rx_result.  Like dbnic_core_run(), it may DMA and raise
 * interrupts.
 */
int dbnic_core_eth_rx(struct dbnic_core *c, const void *frame, size_t len,
                      const struct dbnic_eth_rx_meta *meta);
/* The port takes frames again after DBNIC_ETH_TX_BUSY: ETH_TX goes on. */
void dbnic_core_eth_tx_resume(struct dbnic_core *c);
/*
 * n frames eth_tx took were not sent after all (the link went down while
 * they waited in the owner's buffer): counted in ETH_TX_DROP.
 */
void dbnic_core_eth_tx_dropped(struct dbnic_core *c, unsigned int n);

#endif /* DBNIC_CORE_H */
