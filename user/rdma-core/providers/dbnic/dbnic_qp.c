// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * dbnic verbs provider: queue pairs and posting.
 *
 * post_send writes each WQE (datasheet 11.4) into the mapped send ring,
 * then announces the batch in one of two ways (DBNIC_PRIORITY):
 *   - a DB_SQ write on the context's uncached doorbell region, after
 *     which the device fetches the WQEs by DMA (section 3.1);
 *   - a copy of the whole WQE into a write-combining priority slot
 *     (section 3.2): the copy is itself the doorbell, and the device
 *     runs it without reading the ring.  The ring copy stays in place,
 *     so a torn copy costs only the fetch.  On a QP's send queue the
 *     copy never overtakes the QP's earlier WQEs (11.3).
 * As in mlx5, "auto" copies a lone WQE, inline or not (perftest turns
 * inline off on devices it does not know), and rings for a list.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <util/mmio.h>
#include <util/udma_barrier.h>

#include "dbnic.h"

struct dbnic_qp *dbnic_find_qp(struct dbnic_context *ctx, uint16_t qid)
{
	struct dbnic_qp **tbl = ctx->qp_table[qid >> DBNIC_QP_TABLE_SHIFT];

	return tbl ? tbl[qid & (DBNIC_QP_TABLE_SIZE - 1)] : NULL;
}

static int dbnic_store_qp(struct dbnic_context *ctx, uint16_t qid,
			  struct dbnic_qp *qp)
{
	struct dbnic_qp ***tbl = &ctx->qp_table[qid >> DBNIC_QP_TABLE_SHIFT];

	pthread_mutex_lock(&ctx->qp_table_mutex);
	if (!*tbl)
		*tbl = calloc(DBNIC_QP_TABLE_SIZE, sizeof(**tbl));
	if (!*tbl) {
		pthread_mutex_unlock(&ctx->qp_table_mutex);
		return ENOMEM;
	}
	(*tbl)[qid & (DBNIC_QP_TABLE_SIZE - 1)] = qp;
	pthread_mutex_unlock(&ctx->qp_table_mutex);
	return 0;
}

static int dbnic_wq_init(struct dbnic_wq *wq, int cmd_fd, uint64_t key,
			 unsigned int log_size, unsigned int log_stride)
{
	if (log_size < DBNIC_LOG_RING_MIN || log_size > DBNIC_LOG_RING_MAX ||
	    log_stride < DBNIC_LOG_STRIDE_MIN ||
	    log_stride > DBNIC_LOG_STRIDE_MAX)
		return EPROTO;
	pthread_spin_init(&wq->lock, PTHREAD_PROCESS_PRIVATE);
	wq->log_size = log_size;
	wq->log_stride = log_stride;
	wq->wrid = calloc(1u << log_size, sizeof(*wq->wrid));
	if (!wq->wrid)
		return ENOMEM;
	wq->ring_bytes = (size_t)1 << (log_size + log_stride);
	wq->ring = mmap(NULL, wq->ring_bytes, PROT_READ | PROT_WRITE,
			MAP_SHARED, cmd_fd, key);
	if (wq->ring == MAP_FAILED) {
		wq->ring = NULL;
		return errno;
	}
	return 0;
}

static void dbnic_wq_fini(struct dbnic_wq *wq)
{
	if (wq->ring)
		munmap(wq->ring, wq->ring_bytes);
	free(wq->wrid);
	if (wq->log_size)
		pthread_spin_destroy(&wq->lock);
}

struct ibv_qp *dbnic_create_qp(struct ibv_pd *pd,
			       struct ibv_qp_init_attr *attr)
{
	struct dbnic_context *ctx = to_dctx(pd->context);
	struct udbnic_create_qp_resp resp = {};
	struct udbnic_create_qp cmd = {};
	struct dbnic_qp *qp;
	unsigned int room;
	int ret;

	if ((attr->qp_type != IBV_QPT_RC && attr->qp_type != IBV_QPT_UD) ||
	    attr->srq) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	qp = calloc(1, sizeof(*qp));
	if (!qp) {
		errno = ENOMEM;
		return NULL;
	}

	ret = ibv_cmd_create_qp(pd, &qp->vqp.qp, attr, &cmd.ibv_cmd,
				sizeof(cmd), &resp.ibv_resp, sizeof(resp));
	if (ret) {
		free(qp);
		errno = ret;
		return NULL;
	}
	qp->qpn = resp.qpn;
	qp->qid = resp.qid;
	qp->sq_sig_all = attr->sq_sig_all;
	ret = dbnic_wq_init(&qp->sq, pd->context->cmd_fd, resp.sq_key,
			    resp.sq_log_size, resp.sq_log_stride);
	if (!ret)
		ret = dbnic_wq_init(&qp->rq, pd->context->cmd_fd, resp.rq_key,
				    resp.rq_log_size, resp.rq_log_stride);
	if (!ret && resp.prio_slot >= DBNIC_PRIO_SLOTS)
		ret = EPROTO;
	if (ret)
		goto err;

	/* What fits a slot after the 32-byte header and segment. */
	room = (1u << qp->sq.log_stride) - DBNIC_RDMA_DATA_OFFSET;
	if (room > DBNIC_DESC_MAX_SIZE - DBNIC_RDMA_DATA_OFFSET)
		room = DBNIC_DESC_MAX_SIZE - DBNIC_RDMA_DATA_OFFSET;
	qp->sq.max_sge = room / sizeof(struct dbnic_sge);
	if (qp->sq.max_sge > DBNIC_RDMA_MAX_SGE)
		qp->sq.max_sge = DBNIC_RDMA_MAX_SGE;
	qp->max_inline = room < ctx->max_inline ? room : ctx->max_inline;
	room = (1u << qp->rq.log_stride) - sizeof(struct dbnic_desc_hdr);
	if (room > DBNIC_DESC_MAX_SIZE - sizeof(struct dbnic_desc_hdr))
		room = DBNIC_DESC_MAX_SIZE - sizeof(struct dbnic_desc_hdr);
	qp->rq.max_sge = room / sizeof(struct dbnic_sge);

	qp->pair = resp.prio_slot / 2;
	pthread_mutex_lock(&ctx->qp_table_mutex);
	ctx->pair[qp->pair].users++;
	pthread_mutex_unlock(&ctx->qp_table_mutex);
	ret = dbnic_store_qp(ctx, qp->qid, qp);
	if (ret)
		goto err_pair;
	return &qp->vqp.qp;

err_pair:
	pthread_mutex_lock(&ctx->qp_table_mutex);
	ctx->pair[qp->pair].users--;
	pthread_mutex_unlock(&ctx->qp_table_mutex);
err:
	dbnic_wq_fini(&qp->rq);
	dbnic_wq_fini(&qp->sq);
	ibv_cmd_destroy_qp(&qp->vqp.qp);
	free(qp);
	errno = ret;
	return NULL;
}

int dbnic_destroy_qp(struct ibv_qp *ibqp)
{
	struct dbnic_context *ctx = to_dctx(ibqp->context);
	struct dbnic_qp *qp = to_dqp(ibqp);
	int ret;

	ret = ibv_cmd_destroy_qp(ibqp);
	if (ret)
		return ret;
	pthread_mutex_lock(&ctx->qp_table_mutex);
	if (dbnic_find_qp(ctx, qp->qid) == qp)
		ctx->qp_table[qp->qid >> DBNIC_QP_TABLE_SHIFT]
			     [qp->qid & (DBNIC_QP_TABLE_SIZE - 1)] = NULL;
	ctx->pair[qp->pair].users--;
	pthread_mutex_unlock(&ctx->qp_table_mutex);
	dbnic_wq_fini(&qp->rq);
	dbnic_wq_fini(&qp->sq);
	free(qp);
	return 0;
}

int dbnic_query_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		   int attr_mask, struct ibv_qp_init_attr *init_attr)
{
	struct ibv_query_qp cmd;

	return ibv_cmd_query_qp(ibqp, attr, attr_mask, init_attr,
				&cmd, sizeof(cmd));
}

int dbnic_modify_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
		    int attr_mask)
{
	struct dbnic_qp *qp = to_dqp(ibqp);
	struct ibv_modify_qp cmd = {};
	int ret;

	ret = ibv_cmd_modify_qp(ibqp, attr, attr_mask, &cmd, sizeof(cmd));
	if (ret || !(attr_mask & IBV_QP_STATE) ||
	    attr->qp_state != IBV_QPS_RESET)
		return ret;
	/*
	 * RESET discarded what was posted; indices never go back (11.2),
	 * so the rings restart empty where they were.
	 */
	pthread_spin_lock(&qp->sq.lock);
	qp->sq.tail = qp->sq.pi;
	pthread_spin_unlock(&qp->sq.lock);
	pthread_spin_lock(&qp->rq.lock);
	qp->rq.tail = qp->rq.pi;
	pthread_spin_unlock(&qp->rq.lock);
	return 0;
}

static uint16_t dbnic_wq_tail(struct dbnic_wq *wq)
{
	return atomic_load_explicit((_Atomic(uint16_t) *)&wq->tail,
				    memory_order_acquire);
}

static int dbnic_wr_opcode(enum ibv_wr_opcode op, uint8_t *opcode)
{
	switch (op) {
	case IBV_WR_SEND:
		*opcode = DBNIC_OP_SEND;
		return 0;
	case IBV_WR_SEND_WITH_IMM:
		*opcode = DBNIC_OP_SEND_IMM;
		return 0;
	case IBV_WR_RDMA_WRITE:
		*opcode = DBNIC_OP_RDMA_WRITE;
		return 0;
	case IBV_WR_RDMA_WRITE_WITH_IMM:
		*opcode = DBNIC_OP_RDMA_WRITE_IMM;
		return 0;
	case IBV_WR_RDMA_READ:
		*opcode = DBNIC_OP_RDMA_READ;
		return 0;
	default:
		return EINVAL;
	}
}

/* Build the WQE for wr at the ring index pi; returns 0 or an errno. */
static int dbnic_build_send_wqe(struct dbnic_qp *qp, struct ibv_send_wr *wr,
				struct dbnic_desc *wqe, uint16_t pi)
{
	struct dbnic_rdma_seg *seg = dbnic_rdma_seg_of(wqe);
	unsigned int nsge = 0, inline_len = 0, size, i;
	uint8_t opcode, flags = 0;
	int ret;

	ret = dbnic_wr_opcode(wr->opcode, &opcode);
	if (ret)
		return ret;
	if (qp->vqp.qp.qp_type == IBV_QPT_UD &&
	    opcode != DBNIC_OP_SEND && opcode != DBNIC_OP_SEND_IMM)
		return EINVAL;
	if (wr->num_sge < 0)
		return EINVAL;

	memset(wqe, 0, DBNIC_RDMA_DATA_OFFSET);
	if ((wr->send_flags & IBV_SEND_INLINE) && opcode != DBNIC_OP_RDMA_READ) {
		uint8_t *dst = (uint8_t *)wqe + DBNIC_RDMA_DATA_OFFSET;

		for (i = 0; i < (unsigned int)wr->num_sge; i++) {
			uint32_t len = wr->sg_list[i].length;

			if (len > qp->max_inline - inline_len)
				return ENOMEM;
			memcpy(dst + inline_len,
			       (void *)(uintptr_t)wr->sg_list[i].addr, len);
			inline_len += len;
		}
	} else {
		/* Zero-length SGEs carry nothing; the device refuses them. */
		for (i = 0; i < (unsigned int)wr->num_sge; i++) {
			struct dbnic_sge *sge = &wqe->sge[1 + nsge];

			if (!wr->sg_list[i].length)
				continue;
			if (nsge == qp->sq.max_sge)
				return EINVAL;
			sge->addr = htole64(wr->sg_list[i].addr);
			sge->len = htole32(wr->sg_list[i].length);
			sge->key = htole32(wr->sg_list[i].lkey);
			nsge++;
		}
	}
	size = dbnic_rdma_wqe_blocks(nsge, inline_len);
	if (size * DBNIC_DESC_BLOCK_SIZE > (1u << qp->sq.log_stride))
		return EINVAL;

	if ((wr->send_flags & IBV_SEND_SIGNALED) || qp->sq_sig_all)
		flags |= DBNIC_DESC_F_COMPLETION;
	if (wr->send_flags & IBV_SEND_FENCE)
		flags |= DBNIC_DESC_F_FENCE;
	if (wr->send_flags & IBV_SEND_SOLICITED)
		flags |= DBNIC_WQE_F_SOLICITED;

	wqe->hdr.opcode = opcode;
	wqe->hdr.flags = flags;
	wqe->hdr.size = size;
	if (opcode == DBNIC_OP_RDMA_READ)
		wqe->hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, nsge);
	else
		wqe->hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, nsge);
	wqe->hdr.index = htole16(pi);
	wqe->hdr.qid = htole16(qp->qid);
	if (opcode == DBNIC_OP_SEND_IMM || opcode == DBNIC_OP_RDMA_WRITE_IMM)
		wqe->hdr.imm = wr->imm_data;	/* wire order both sides */

	if (qp->vqp.qp.qp_type == IBV_QPT_UD) {
		seg->ah = htole32(to_dah(wr->wr.ud.ah)->handle);
		seg->remote_qpn = htole32(wr->wr.ud.remote_qpn);
		seg->remote_qkey = htole32(wr->wr.ud.remote_qkey);
	} else if (opcode != DBNIC_OP_SEND && opcode != DBNIC_OP_SEND_IMM) {
		seg->raddr = htole64(wr->wr.rdma.remote_addr);
		seg->rkey = htole32(wr->wr.rdma.rkey);
	}
	seg->inline_len = htole16(inline_len);
	return 0;
}

/*
 * Copy one WQE, already in the ring, into the QP's priority slot pair
 * (datasheet 3.2): the checksum first, then 64-bit stores through the
 * write-combining mapping, then a flush before the slot is used again.
 */
static void dbnic_prio_copy(struct dbnic_context *ctx, struct dbnic_qp *qp,
			    struct dbnic_desc *wqe)
{
	struct dbnic_prio_pair *pair = &ctx->pair[qp->pair];
	unsigned int bytes = wqe->hdr.size * DBNIC_DESC_BLOCK_SIZE;
	bool shared = pair->users > 1;
	void *slot;

	wqe->hdr.csum = 0;
	wqe->hdr.csum = htole32(dbnic_desc_csum(wqe, bytes / 8));
	if (shared)
		mmio_wc_spinlock(&pair->lock);
	else
		mmio_wc_start();
	slot = (uint8_t *)ctx->prio +
	       (2 * qp->pair + pair->next) * DBNIC_PRIO_SLOT_SIZE;
	mmio_memcpy_x64(slot, wqe, bytes);
	mmio_flush_writes();
	pair->next ^= 1;
	if (shared)
		mmio_wc_spinunlock(&pair->lock);
}

static struct dbnic_desc *dbnic_wq_slot(struct dbnic_wq *wq, uint16_t index)
{
	return (struct dbnic_desc *)((uint8_t *)wq->ring +
		((size_t)dbnic_ring_slot(index, wq->log_size) << wq->log_stride));
}

int dbnic_post_send(struct ibv_qp *ibqp, struct ibv_send_wr *wr,
		    struct ibv_send_wr **bad_wr)
{
	struct dbnic_context *ctx = to_dctx(ibqp->context);
	struct dbnic_qp *qp = to_dqp(ibqp);
	struct dbnic_wq *sq = &qp->sq;
	uint16_t first, i;
	unsigned int nreq = 0;
	int ret = 0;

	pthread_spin_lock(&sq->lock);
	first = sq->pi;
	for (; wr; wr = wr->next, nreq++) {
		if (dbnic_ring_used(sq->pi, dbnic_wq_tail(sq)) >=
		    (1u << sq->log_size)) {
			ret = ENOMEM;
			break;
		}
		ret = dbnic_build_send_wqe(qp, wr, dbnic_wq_slot(sq, sq->pi),
					   sq->pi);
		if (ret)
			break;
		sq->wrid[dbnic_ring_slot(sq->pi, sq->log_size)] = wr->wr_id;
		sq->pi++;
	}
	if (ret)
		*bad_wr = wr;
	if (!nreq)
		goto out;

	/* The ring copies are the fallback: in place before any announce. */
	udma_to_device_barrier();
	if (ctx->prio_mode == DBNIC_PRIO_ALWAYS ||
	    (ctx->prio_mode == DBNIC_PRIO_AUTO && nreq == 1)) {
		for (i = first; i != sq->pi; i++)
			dbnic_prio_copy(ctx, qp, dbnic_wq_slot(sq, i));
	} else {
		mmio_write32(ctx->db + DBNIC_DB_SQ,
			     dbnic_db_sq_val(qp->qid, sq->pi));
	}
out:
	pthread_spin_unlock(&sq->lock);
	return ret;
}

int dbnic_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr,
		    struct ibv_recv_wr **bad_wr)
{
	struct dbnic_context *ctx = to_dctx(ibqp->context);
	struct dbnic_qp *qp = to_dqp(ibqp);
	struct dbnic_wq *rq = &qp->rq;
	unsigned int nreq = 0, nsge, i;
	int ret = 0;

	pthread_spin_lock(&rq->lock);
	for (; wr; wr = wr->next, nreq++) {
		struct dbnic_desc *d = dbnic_wq_slot(rq, rq->pi);

		if (dbnic_ring_used(rq->pi, dbnic_wq_tail(rq)) >=
		    (1u << rq->log_size) || wr->num_sge < 0) {
			ret = wr->num_sge < 0 ? EINVAL : ENOMEM;
			break;
		}
		memset(&d->hdr, 0, sizeof(d->hdr));
		nsge = 0;
		for (i = 0; i < (unsigned int)wr->num_sge; i++) {
			if (!wr->sg_list[i].length)
				continue;
			if (nsge == rq->max_sge) {
				ret = EINVAL;
				break;
			}
			d->sge[nsge].addr = htole64(wr->sg_list[i].addr);
			d->sge[nsge].len = htole32(wr->sg_list[i].length);
			d->sge[nsge].key = htole32(wr->sg_list[i].lkey);
			nsge++;
		}
		if (ret)
			break;
		d->hdr.opcode = DBNIC_OP_RECV;
		d->hdr.flags = DBNIC_DESC_F_COMPLETION;
		d->hdr.size = dbnic_desc_blocks(nsge) ?: 1;
		d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, nsge);
		d->hdr.index = htole16(rq->pi);
		d->hdr.qid = htole16(qp->qid);
		rq->wrid[dbnic_ring_slot(rq->pi, rq->log_size)] = wr->wr_id;
		rq->pi++;
	}
	if (ret)
		*bad_wr = wr;
	if (nreq) {
		udma_to_device_barrier();
		mmio_write32(ctx->db + DBNIC_DB_QP_RQ,
			     dbnic_db_qp_rq_val(qp->qid, rq->pi));
	}
	pthread_spin_unlock(&rq->lock);
	return ret;
}
