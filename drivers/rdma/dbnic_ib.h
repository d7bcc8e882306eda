/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic RDMA function (dbnic_rdma.ko): an ib_device on the device's
 * RoCE v2 port (datasheet section 11).
 *
 * Objects and where they live:
 *  - the device: struct dbnic_ib_dev, the driver data of the "rdma"
 *    auxiliary device; its kernel context (PRIVILEGED, key 0 = DMA
 *    address) owns the CQs and QPs of kernel users and the GSI QP;
 *  - a user context: struct dbnic_ib_ucontext, one device context and
 *    its doorbell page, given to the process as two mmap entries;
 *  - PDs are 32-bit tags (an IDA), MRs the device's registrations in a
 *    pd, CQs 32-byte CQE rings notified through CQ_COMP events, QPs the
 *    device's QPs with send and receive rings, AHs the device's AHs.
 *
 * Rings (CQ, send, receive) are driver pages (alloc_pages_exact(), one
 * reference per page) mapped for the device with dma_map_single(): a
 * process maps them with vm_insert_page(), which takes a reference per
 * page, so a ring outlives neither the device's use of it (freed after
 * the destroy command) nor a process's mapping (the pages stay until
 * unmapped).
 */
#ifndef DBNIC_IB_H
#define DBNIC_IB_H

#include <linux/auxiliary_bus.h>
#include <linux/idr.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <rdma/ib_umem.h>
#include <rdma/ib_verbs.h>

#include "dbnic.h"
#include "dbnic_abi.h"

#define DBNIC_IB_PORT		1
#define DBNIC_IB_PKEY		0xffff
/* Receive WQEs: a RECV descriptor's destination SGEs (datasheet 10.3). */
#define DBNIC_IB_MAX_RECV_SGE	DBNIC_MAX_SGE
#define DBNIC_IB_WQE_DATA	32	/* SGEs or inline bytes of a send WQE */

/**
 * struct dbnic_ib_ring - a ring the device reads or writes
 * @cpu: its pages, zeroed
 * @dma: their DMA address (mapped bidirectionally)
 * @bytes: whole pages
 */
struct dbnic_ib_ring {
	void *cpu;
	dma_addr_t dma;
	size_t bytes;
};

/**
 * struct dbnic_ib_hold - rings named by an admin command that may still
 *	be in flight (see struct dbnic_admin_hold)
 * @hold: handed to the admin queue on -ETIMEDOUT, or parked
 * @ibd: the device, for its DMA device
 * @ring: the rings it frees when released
 * @list: an MR's page list (coherent), freed too
 * @umem: an MR's pinned pages, released too
 */
struct dbnic_ib_hold {
	struct dbnic_admin_hold hold;
	struct dbnic_ib_dev *ibd;
	struct dbnic_ib_ring ring[2];
	struct dbnic_ib_ring list;
	struct ib_umem *umem;
};

struct dbnic_ib_dev {
	struct ib_device ibdev;
	struct dbnic_dev *dd;
	struct auxiliary_device *adev;
	struct dbnic_kctx kctx;		/* kernel CQs, QPs, GSI */
	phys_addr_t db_base;		/* BAR 2 */
	unsigned int prio_slots;	/* per page; 0: no priority area */
	u16 max_log_ring;

	/* The port: the netdev of the eth function, once it exists. */
	struct notifier_block nb;
	struct net_device *netdev;	/* under RTNL */
	netdevice_tracker netdev_tracker;
	struct work_struct reg_work;	/* registers the ib_device */
	struct mutex reg_lock;		/* registered, reg_failed */
	bool registered;
	bool reg_failed;		/* until the function is rebound */
	bool port_active;		/* last state dispatched, under RTNL */

	struct workqueue_struct *wq;	/* QP events */
	/* AHs made in atomic context (dbnic_ib_create_ah()), ordered. */
	struct workqueue_struct *ah_wq;
	spinlock_t ah_lock;		/* dbnic_ib_ahw.state, dqps, qp->dlisted */
	struct list_head dqps;		/* kernel QPs with WRs waiting for AHs */
	struct ida pd_ida;
	/* Processes' contexts, for the per-user limit. */
	spinlock_t uctx_lock;		/* uctxs */
	struct list_head uctxs;
	/* Lookups of the event handler (hard IRQ) and of poll_cq. */
	struct xarray cqs;		/* cqn -> struct dbnic_ib_cq */
	struct xarray qps;		/* QPN -> struct dbnic_ib_qp */
	struct xarray qids;		/* send queue qid -> struct dbnic_ib_qp */
};

struct dbnic_ib_ucontext {
	struct ib_ucontext ibuc;
	struct list_head node;		/* in ibd->uctxs */
	kuid_t uid;			/* the opener's real uid */
	bool counted;			/* in ibd->uctxs */
	u32 ctx;
	phys_addr_t db_phys;		/* its doorbell page */
	struct rdma_user_mmap_entry *db_entry;
	struct rdma_user_mmap_entry *prio_entry;
	spinlock_t lock;		/* prio_pairs, next_pair */
	unsigned long prio_pairs;	/* slot pairs given to QPs */
	unsigned int next_pair;		/* shared when all are taken */
};

enum dbnic_ib_mmap_kind {
	DBNIC_IB_MMAP_DB,		/* doorbell region: uncached */
	DBNIC_IB_MMAP_PRIO,		/* priority area: write-combining */
	DBNIC_IB_MMAP_RING,		/* driver pages: cached */
};

struct dbnic_ib_mmap {
	struct rdma_user_mmap_entry rdma_entry;
	enum dbnic_ib_mmap_kind kind;
	phys_addr_t phys;		/* DB, PRIO */
	void *cpu;			/* RING */
};

struct dbnic_ib_pd {
	struct ib_pd ibpd;
	u32 tag;
};

struct dbnic_ib_mr {
	struct ib_mr ibmr;
	struct dbnic_ib_hold *res;	/* umem and page list, until DEREG */
	u32 key;
	bool registered;
};

enum dbnic_ib_ah_state {
	DBNIC_IB_AH_READY,		/* created on the device */
	DBNIC_IB_AH_PENDING,		/* CREATE_AH queued (atomic create) */
	DBNIC_IB_AH_FAILED,		/* CREATE_AH failed */
};

/**
 * struct dbnic_ib_ahw - a device AH, shared by the core's ib_ah and the
 *	kernel WRs that wait for it to be created
 * @ref: the ib_ah's, the create work's and each waiting WR's
 * @ibd: the device
 * @create_work: CREATE_AH of an AH made in atomic context
 * @free_work: DESTROY_AH when the last reference goes in atomic context
 * @av: the address vector
 * @ctx: the context of the QPs that may use it
 * @pd: and their pd
 * @ah: the device's handle (READY)
 * @state: enum dbnic_ib_ah_state, under ibd->ah_lock while PENDING
 */
struct dbnic_ib_ahw {
	refcount_t ref;
	struct dbnic_ib_dev *ibd;
	struct work_struct create_work;
	struct work_struct free_work;
	struct dbnic_av av;
	u32 ctx;
	u32 pd;
	u32 ah;
	int state;
};

struct dbnic_ib_ah {
	struct ib_ah ibah;
	struct dbnic_ib_ahw *hw;
};

/*
 * A kernel UD or GSI send WR waiting for its AH (a copy: the caller's WR
 * and inline data may go when post_send returns), and then, if it cannot
 * be posted, its error completion in the send CQ's software list.
 */
struct dbnic_ib_dwr {
	struct list_head node;		/* qp->deferred, then cq->swc */
	struct dbnic_ib_ahw *hw;
	struct ib_ud_wr ud;
	struct ib_sge sge[DBNIC_RDMA_MAX_SGE];
	u8 inl[DBNIC_RDMA_MAX_INLINE];
	struct ib_wc wc;
};

struct dbnic_ib_cq {
	struct ib_cq ibcq;
	struct dbnic_ib_ring ring;	/* 2^log_size struct dbnic_rdma_cqe */
	struct rdma_user_mmap_entry *ring_entry;	/* user CQs */
	u32 ctx;
	u32 cqn;
	unsigned int log_size;
	bool created;
	bool kernel;
	spinlock_t lock;		/* ci, swc (kernel CQs) */
	u16 ci;
	struct list_head swc;		/* error completions of waiting WRs */
	void __iomem *db;		/* kernel CQs: the kernel context's */
};

/* A kernel QP's ring and the requests posted on it. */
struct dbnic_ib_wq {
	u64 *wr_id;			/* by ring slot */
	u16 pi;				/* next index posted */
	u16 head;			/* slots before it are free */
};

struct dbnic_ib_qp {
	struct ib_qp ibqp;
	struct dbnic_ib_ring sq;
	struct dbnic_ib_ring rq;
	struct rdma_user_mmap_entry *sq_entry;
	struct rdma_user_mmap_entry *rq_entry;
	struct dbnic_ib_ucontext *uctx;	/* a process's QP; NULL: kernel */
	u32 ctx;
	u32 qpn;			/* the device's; ibqp.qp_num is 1 for GSI */
	u32 qid;
	u8 type;			/* enum dbnic_qp_type */
	u8 sq_log;
	u8 sq_stride;
	u8 rq_log;
	u8 rq_stride;
	bool created;
	bool kernel;
	bool sig_all;
	int prio_pair;			/* user QPs; -1: shared or none */
	enum ib_qp_state state;		/* as last set or queried */
	u32 max_send_sge;
	u32 max_recv_sge;
	u32 max_inline;

	/* Kernel QPs: posting under lock, on the kernel context's page. */
	spinlock_t lock;		/* sqw, rqw, deferred */
	struct dbnic_ib_wq sqw;
	struct dbnic_ib_wq rqw;
	void __iomem *db;
	/* Send WRs waiting for an AH (struct dbnic_ib_dwr), in post order. */
	struct list_head deferred;
	struct list_head dnode;		/* in ibd->dqps while dlisted */
	bool dlisted;

	/* QP_ERR: reported from a work item (handlers may sleep). */
	struct work_struct err_work;
	u32 err_status;			/* enum dbnic_wc_status */
};

static inline struct dbnic_ib_dev *to_dbnic_ib(struct ib_device *ibdev)
{
	return container_of(ibdev, struct dbnic_ib_dev, ibdev);
}

static inline struct dbnic_ib_ucontext *
to_dbnic_uctx(struct ib_ucontext *ibuc)
{
	return container_of(ibuc, struct dbnic_ib_ucontext, ibuc);
}

static inline struct dbnic_ib_pd *to_dbnic_pd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct dbnic_ib_pd, ibpd);
}

static inline struct dbnic_ib_mr *to_dbnic_mr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct dbnic_ib_mr, ibmr);
}

static inline struct dbnic_ib_ah *to_dbnic_ah(struct ib_ah *ibah)
{
	return container_of(ibah, struct dbnic_ib_ah, ibah);
}

static inline struct dbnic_ib_cq *to_dbnic_cq(struct ib_cq *ibcq)
{
	return container_of(ibcq, struct dbnic_ib_cq, ibcq);
}

static inline struct dbnic_ib_qp *to_dbnic_qp(struct ib_qp *ibqp)
{
	return container_of(ibqp, struct dbnic_ib_qp, ibqp);
}

static inline struct dbnic_ib_mmap *
to_dbnic_mmap(struct rdma_user_mmap_entry *e)
{
	return container_of(e, struct dbnic_ib_mmap, rdma_entry);
}

/* dbnic_ib_mem.c */
int dbnic_ib_ring_alloc(struct dbnic_ib_dev *ibd, struct dbnic_ib_ring *r,
			size_t bytes);
void dbnic_ib_ring_free(struct dbnic_ib_dev *ibd, struct dbnic_ib_ring *r);
struct dbnic_ib_hold *dbnic_ib_hold_alloc(struct dbnic_ib_dev *ibd);
void dbnic_ib_hold_free(struct dbnic_ib_hold *h);
void dbnic_ib_hold_shell_free(struct dbnic_ib_hold *h);
void dbnic_ib_park(struct dbnic_ib_dev *ibd, struct dbnic_ib_hold *h,
		   const char *what, u32 handle);
struct rdma_user_mmap_entry *
dbnic_ib_mmap_ring(struct dbnic_ib_ucontext *uctx, struct dbnic_ib_ring *r,
		   u64 *key);
int dbnic_ib_udata_in(struct ib_udata *udata, void *req, size_t len);
int dbnic_ib_udata_out(struct ib_udata *udata, void *resp, size_t len);
int dbnic_ib_alloc_ucontext(struct ib_ucontext *ibuc, struct ib_udata *udata);
void dbnic_ib_dealloc_ucontext(struct ib_ucontext *ibuc);
int dbnic_ib_mmap(struct ib_ucontext *ibuc, struct vm_area_struct *vma);
void dbnic_ib_mmap_free(struct rdma_user_mmap_entry *entry);
int dbnic_ib_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
int dbnic_ib_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
struct ib_mr *dbnic_ib_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
				   u64 virt, int access,
				   struct ib_udata *udata);
struct ib_mr *dbnic_ib_get_dma_mr(struct ib_pd *ibpd, int access);
int dbnic_ib_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata);
int dbnic_ib_av_from_attr(struct dbnic_ib_dev *ibd,
			  const struct rdma_ah_attr *ah_attr, u32 lqpn,
			  u32 rqpn, struct dbnic_av *av);
int dbnic_ib_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init,
		       struct ib_udata *udata);
int dbnic_ib_destroy_ah(struct ib_ah *ibah, u32 flags);
void dbnic_ib_ahw_put(struct dbnic_ib_ahw *hw, bool can_sleep);

/* dbnic_ib_qp.c */
int dbnic_ib_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		       struct uverbs_attr_bundle *attrs);
int dbnic_ib_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata);
int dbnic_ib_poll_cq(struct ib_cq *ibcq, int num, struct ib_wc *wc);
int dbnic_ib_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags);
int dbnic_ib_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		       struct ib_udata *udata);
int dbnic_ib_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
		       int mask, struct ib_udata *udata);
int dbnic_ib_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		      struct ib_qp_init_attr *init);
int dbnic_ib_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata);
int dbnic_ib_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		       const struct ib_send_wr **bad_wr);
int dbnic_ib_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		       const struct ib_recv_wr **bad_wr);
void dbnic_ib_qp_err_work(struct work_struct *work);
void dbnic_ib_flush_deferred(struct dbnic_ib_dev *ibd);

#endif /* DBNIC_IB_H */
