/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * dbnic verbs provider: the user-space half of the dbnic HCA.
 *
 * Built inside rdma-core's tree (scripts/build-rdma-core.sh grafts this
 * directory, dbnic_hw.h and the kernel ABI header in).  It posts WQEs
 * straight into the send ring mapped from the kernel and announces them
 * either by a doorbell write or by copying the whole WQE into the
 * device's write-combining priority area (datasheet sections 3 and 11).
 */
#ifndef DBNIC_PROVIDER_H
#define DBNIC_PROVIDER_H

#include <pthread.h>
#include <stdint.h>
#include <infiniband/driver.h>
#include <infiniband/kern-abi.h>
#include <rdma/dbnic-abi.h>
#include <kernel-abi/dbnic-abi.h>

#include "dbnic_hw.h"

DECLARE_DRV_CMD(udbnic_alloc_ucontext, IB_USER_VERBS_CMD_GET_CONTEXT,
		empty, dbnic_alloc_ucontext_resp);
DECLARE_DRV_CMD(udbnic_create_cq, IB_USER_VERBS_CMD_CREATE_CQ,
		empty, dbnic_create_cq_resp);
DECLARE_DRV_CMD(udbnic_create_qp, IB_USER_VERBS_CMD_CREATE_QP,
		dbnic_create_qp, dbnic_create_qp_resp);
DECLARE_DRV_CMD(udbnic_create_ah, IB_USER_VERBS_CMD_CREATE_AH,
		empty, dbnic_create_ah_resp);

/* How post_send announces WQEs: the DBNIC_PRIORITY environment variable. */
enum dbnic_prio_mode {
	DBNIC_PRIO_AUTO,	/* one WQE posted: priority copy; else DB_SQ */
	DBNIC_PRIO_ALWAYS,	/* every WQE through the priority area */
	DBNIC_PRIO_NEVER,	/* DB_SQ only */
};

#define DBNIC_PRIO_PAIRS	(DBNIC_PRIO_SLOTS / 2)

/* One pair of priority slots; QPs that share a pair take its lock. */
struct dbnic_prio_pair {
	pthread_spinlock_t	lock;
	unsigned int		next;	/* 0 or 1: the slot the next copy uses */
	unsigned int		users;	/* QPs on the pair: > 1 needs the lock */
};

/*
 * QPs by send-queue qid (16 bits), for poll_cq: two levels of 256, the
 * second allocated when a QP first lands in it.
 */
#define DBNIC_QP_TABLE_SHIFT	8
#define DBNIC_QP_TABLE_SIZE	(1 << DBNIC_QP_TABLE_SHIFT)

struct dbnic_qp;

struct dbnic_context {
	struct verbs_context	ibv_ctx;
	uint32_t		dev_ctx;	/* the device context = page */
	void			*db;		/* doorbell region, UC */
	void			*prio;		/* priority area, WC; or NULL */
	enum dbnic_prio_mode	prio_mode;
	uint32_t		max_inline;
	struct dbnic_prio_pair	pair[DBNIC_PRIO_PAIRS];
	pthread_mutex_t		qp_table_mutex;
	struct dbnic_qp		**qp_table[DBNIC_QP_TABLE_SIZE];
};

struct dbnic_cq {
	struct verbs_cq		vcq;
	pthread_spinlock_t	lock;
	struct dbnic_rdma_cqe	*ring;
	size_t			ring_bytes;
	uint32_t		cqn;
	unsigned int		log_size;
	uint16_t		ci;		/* next entry to read */
	uint16_t		ci_reported;	/* last consumer index sent */
};

/* A work queue: the send or the receive ring of a QP. */
struct dbnic_wq {
	pthread_spinlock_t	lock;
	void			*ring;
	size_t			ring_bytes;
	uint64_t		*wrid;		/* wr_id per ring slot */
	unsigned int		log_size;
	unsigned int		log_stride;
	uint16_t		pi;		/* next index to post */
	uint16_t		tail;		/* slots before it are free */
	unsigned int		max_sge;
};

struct dbnic_qp {
	struct verbs_qp		vqp;
	uint32_t		qpn;
	uint16_t		qid;
	struct dbnic_wq		sq;
	struct dbnic_wq		rq;
	unsigned int		pair;		/* priority slot pair index */
	uint32_t		max_inline;
	int			sq_sig_all;
};

struct dbnic_ah {
	struct ibv_ah		ibv_ah;
	uint32_t		handle;
};

static inline struct dbnic_context *to_dctx(struct ibv_context *ibctx)
{
	return container_of(ibctx, struct dbnic_context, ibv_ctx.context);
}

static inline struct dbnic_cq *to_dcq(struct ibv_cq *ibcq)
{
	return container_of(ibcq, struct dbnic_cq, vcq.cq);
}

static inline struct dbnic_qp *to_dqp(struct ibv_qp *ibqp)
{
	return container_of(ibqp, struct dbnic_qp, vqp.qp);
}

static inline struct dbnic_ah *to_dah(struct ibv_ah *ibah)
{
	return container_of(ibah, struct dbnic_ah, ibv_ah);
}

/* dbnic_cq.c */
struct ibv_cq *dbnic_create_cq(struct ibv_context *context, int cqe,
			       struct ibv_comp_channel *channel,
			       int comp_vector);
int dbnic_destroy_cq(struct ibv_cq *ibcq);
int dbnic_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc);
int dbnic_req_notify_cq(struct ibv_cq *ibcq, int solicited_only);

/* dbnic_qp.c */
struct ibv_qp *dbnic_create_qp(struct ibv_pd *pd,
			       struct ibv_qp_init_attr *attr);
int dbnic_query_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		   int attr_mask, struct ibv_qp_init_attr *init_attr);
int dbnic_modify_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		    int attr_mask);
int dbnic_destroy_qp(struct ibv_qp *ibqp);
int dbnic_post_send(struct ibv_qp *ibqp, struct ibv_send_wr *wr,
		    struct ibv_send_wr **bad_wr);
int dbnic_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr,
		    struct ibv_recv_wr **bad_wr);
struct dbnic_qp *dbnic_find_qp(struct dbnic_context *ctx, uint16_t qid);

#endif /* DBNIC_PROVIDER_H */
