// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic RDMA: completion queues and queue pairs (datasheet 11.2-11.7),
 * with the kernel's post and poll.
 *
 * Every CQ has 32-byte CQEs and no vector: an ARM is answered by a
 * CQ_COMP event (DBNIC_CQ_EVENT), so processes' CQs never interrupt
 * on a vector of their own (cdev's rule), and the EQ holds at most one
 * entry per CQ.
 *
 * Kernel QPs and CQs live in the function's PRIVILEGED context: their
 * SGEs carry key 0 (DMA addresses, the local_dma_lkey) or keys of the
 * kernel's MRs, and they ring the context's doorbell page.  Posting
 * writes WQEs into the ring under the QP's lock and rings DB_SQ or
 * DB_QP_RQ once per call; polling reads CQEs by phase under the CQ's
 * lock and reports the consumer index with DB_CQ.  A WQE's wr_id is kept
 * by ring slot; a CQE's head frees send slots, including those of WQEs
 * without a completion.
 */

#include <linux/log2.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <rdma/ib_cache.h>
#include <rdma/uverbs_ioctl.h>

#include "dbnic_ib.h"

static struct dbnic_ib_ucontext *dbnic_ib_uctx(struct ib_udata *udata)
{
	return rdma_udata_to_drv_context(udata, struct dbnic_ib_ucontext,
					 ibuc);
}

static void dbnic_ib_qp_drop_deferred(struct dbnic_ib_dev *ibd,
				      struct dbnic_ib_qp *qp,
				      struct dbnic_ib_cq *scq);

/* Wait until the vector-0 handler no longer runs for a removed object. */
static void dbnic_ib_sync_events(struct dbnic_ib_dev *ibd)
{
	int irq = pci_irq_vector(ibd->dd->pdev, DBNIC_VEC_ADMIN);

	if (irq >= 0)
		synchronize_irq(irq);
}

/*
 * After a destroy command: free rings the device no longer uses, or keep
 * them until reset when it may (the command failed other than for an
 * object already gone).
 */
static void dbnic_ib_rings_done(struct dbnic_ib_dev *ibd, int ret,
				const char *what, u32 handle,
				struct dbnic_ib_ring *r0,
				struct dbnic_ib_ring *r1)
{
	struct dbnic_ib_hold *h;

	if (!ret || ret == -ENOENT || ret == -ENODEV) {
		dbnic_ib_ring_free(ibd, r0);
		if (r1)
			dbnic_ib_ring_free(ibd, r1);
		return;
	}
	h = dbnic_ib_hold_alloc(ibd);
	if (!h) {
		dev_warn(&ibd->ibdev.dev, "%s %#x still known to the device: leaking its rings\n",
			 what, handle);
		return;
	}
	h->ring[0] = *r0;
	if (r1)
		h->ring[1] = *r1;
	memset(r0, 0, sizeof(*r0));
	if (r1)
		memset(r1, 0, sizeof(*r1));
	dbnic_ib_park(ibd, h, what, handle);
}

/* ------------------------------------------------------------------ */
/* Completion queues                                                    */
/* ------------------------------------------------------------------ */

/**
 * dbnic_ib_create_cq - CREATE_CQ with 32-byte CQEs and CQ_COMP events
 * @ibcq: the core's CQ
 * @attr: @attr->cqe entries wanted, at most half the largest ring; no
 *	flags.  The ring holds twice that, rounded up to a power of two
 *	(include/dbnic_abi.h: a provider reports its consumer index lazily,
 *	and the device must never find the ring full, datasheet 6.1)
 * @attrs: a process's command (struct dbnic_create_cq_resp), or NULL
 *
 * Return: 0, -EINVAL (size), -EOPNOTSUPP (flags, request bytes this
 * driver does not know, a non-coherent DMA mapping), -ENOMEM, -EFAULT,
 * or an errno of the admin queue.
 */
int dbnic_ib_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		       struct uverbs_attr_bundle *attrs)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibcq->device);
	struct ib_udata *udata = attrs ? &attrs->driver_udata : NULL;
	struct dbnic_ib_ucontext *uctx = dbnic_ib_uctx(udata);
	struct dbnic_ib_cq *cq = to_dbnic_cq(ibcq);
	struct dbnic_create_cq_resp resp = {};
	struct dbnic_ib_hold *h;
	int ret;

	if (attr->flags)
		return -EOPNOTSUPP;
	if (attr->cqe < 1 || attr->cqe > 1 << (ibd->max_log_ring - 1))
		return -EINVAL;
	ret = dbnic_ib_udata_in(udata, NULL, 0);
	if (ret)
		return ret;
	spin_lock_init(&cq->lock);
	INIT_LIST_HEAD(&cq->swc);
	cq->kernel = !uctx;
	cq->ctx = uctx ? uctx->ctx : ibd->kctx.ctx;
	cq->db = ibd->kctx.db;
	cq->log_size = max_t(unsigned int, order_base_2(attr->cqe) + 1,
			     DBNIC_LOG_RING_MIN);
	ret = dbnic_ib_ring_alloc(ibd, &cq->ring,
				  sizeof(struct dbnic_rdma_cqe) << cq->log_size);
	if (ret)
		return ret;
	h = dbnic_ib_hold_alloc(ibd);
	if (!h) {
		ret = -ENOMEM;
		goto err;
	}
	h->ring[0] = cq->ring;
	h->hold.pages = PFN_UP(cq->ring.bytes);
	ret = dbnic_admin_create_cq_ext(ibd->dd, cq->ctx, cq->ring.dma,
					cq->log_size, DBNIC_LOG_CQE_32,
					DBNIC_CQ_EVENT, &cq->cqn, &h->hold);
	if (ret == -ETIMEDOUT) {
		/* The admin queue frees the ring, and a late CQ. */
		memset(&cq->ring, 0, sizeof(cq->ring));
		return ret;
	}
	dbnic_ib_hold_shell_free(h);
	if (ret)
		goto err;
	ret = xa_insert(&ibd->cqs, cq->cqn, cq, GFP_KERNEL);
	if (ret) {
		dbnic_ib_rings_done(ibd, dbnic_admin_destroy(ibd->dd,
							     DBNIC_ADM_DESTROY_CQ,
							     cq->cqn),
				    "CQ", cq->cqn, &cq->ring, NULL);
		return ret;
	}
	cq->created = true;
	ibcq->cqe = 1 << (cq->log_size - 1);
	if (uctx) {
		u64 key;

		cq->ring_entry = dbnic_ib_mmap_ring(uctx, &cq->ring, &key);
		if (IS_ERR(cq->ring_entry)) {
			ret = PTR_ERR(cq->ring_entry);
			cq->ring_entry = NULL;
			dbnic_ib_destroy_cq(ibcq, udata);
			return ret;
		}
		resp.cqn = cq->cqn;
		resp.ring_key = key;
		resp.log_size = cq->log_size;
		ret = dbnic_ib_udata_out(udata, &resp, sizeof(resp));
		if (ret) {
			dbnic_ib_destroy_cq(ibcq, udata);
			return ret;
		}
	}
	return 0;

err:
	dbnic_ib_ring_free(ibd, &cq->ring);
	return ret;
}

/* The core destroyed the CQ's QPs first. */
int dbnic_ib_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibcq->device);
	struct dbnic_ib_cq *cq = to_dbnic_cq(ibcq);
	struct dbnic_ib_dwr *dwr, *tmp;
	int ret = 0;

	list_for_each_entry_safe(dwr, tmp, &cq->swc, node)
		kfree(dwr);
	INIT_LIST_HEAD(&cq->swc);
	if (!cq->created)
		return 0;
	xa_erase(&ibd->cqs, cq->cqn);
	dbnic_ib_sync_events(ibd);
	ret = dbnic_admin_destroy(ibd->dd, DBNIC_ADM_DESTROY_CQ, cq->cqn);
	cq->created = false;
	if (cq->ring_entry)
		rdma_user_mmap_entry_remove(cq->ring_entry);
	cq->ring_entry = NULL;
	dbnic_ib_rings_done(ibd, ret, "CQ", cq->cqn, &cq->ring, NULL);
	return 0;
}

static struct dbnic_rdma_cqe *dbnic_ib_cqe(struct dbnic_ib_cq *cq, u16 index)
{
	struct dbnic_rdma_cqe *ring = cq->ring.cpu;

	return &ring[dbnic_ring_slot(index, cq->log_size)];
}

static bool dbnic_ib_cqe_ready(struct dbnic_ib_cq *cq, u16 index)
{
	return (READ_ONCE(dbnic_ib_cqe(cq, index)->flags) & DBNIC_CQE_F_PHASE) ==
	       dbnic_cq_phase(index, cq->log_size);
}

/*
 * Fill @wc from a CQE of a kernel QP.  Return: false for a CQE of no
 * QP (destroyed since), which is skipped.  Called with the CQ's lock.
 */
static bool dbnic_ib_wc(struct dbnic_ib_dev *ibd,
			const struct dbnic_rdma_cqe *c, struct ib_wc *wc)
{
	u16 index = le16_to_cpu(c->index);
	struct dbnic_ib_qp *qp;

	qp = xa_load(&ibd->qids, le16_to_cpu(c->qid));
	/*
	 * The QPN too: a qid is reused at once, and a CQE of a destroyed QP
	 * may still be in the ring (its QPN never names a later QP, 11.1).
	 */
	if (!qp || !qp->kernel ||
	    (le32_to_cpu(c->qpn) & DBNIC_QPN_MASK) != qp->ibqp.qp_num)
		return false;
	memset(wc, 0, sizeof(*wc));
	if (c->cq_flags & DBNIC_RCQE_F_RECV) {
		wc->wr_id = qp->rqw.wr_id[dbnic_ring_slot(index, qp->rq_log)];
		WRITE_ONCE(qp->rqw.head, index + 1);
	} else {
		wc->wr_id = qp->sqw.wr_id[dbnic_ring_slot(index, qp->sq_log)];
		WRITE_ONCE(qp->sqw.head, le16_to_cpu(c->head));
	}
	/* The device reports IB's status and opcode values (11.6). */
	wc->status = c->status;
	wc->opcode = c->opcode;
	wc->vendor_err = c->vendor_err;
	wc->byte_len = le32_to_cpu(c->byte_len);
	wc->qp = &qp->ibqp;
	wc->src_qp = le32_to_cpu(c->src_qp) & DBNIC_QPN_MASK;
	wc->port_num = DBNIC_IB_PORT;
	if (c->wc_flags & DBNIC_WC_F_WITH_IMM) {
		wc->wc_flags |= IB_WC_WITH_IMM;
		wc->ex.imm_data = c->imm;
	}
	if (c->wc_flags & DBNIC_WC_F_GRH)
		wc->wc_flags |= IB_WC_GRH;
	/* ib_init_ah_attr_from_wc() reads the "GRH" as this says (11.5). */
	if (c->wc_flags & (DBNIC_WC_F_NET_IPV4 | DBNIC_WC_F_NET_IPV6)) {
		wc->wc_flags |= IB_WC_WITH_NETWORK_HDR_TYPE;
		wc->network_hdr_type = c->wc_flags & DBNIC_WC_F_NET_IPV4 ?
				       RDMA_NETWORK_IPV4 : RDMA_NETWORK_IPV6;
	}
	return true;
}

/**
 * dbnic_ib_poll_cq - take up to @num completions of a kernel CQ
 * @ibcq: the CQ
 * @num: entries of @wc
 * @wc: filled in
 *
 * Return: the completions taken (0 when none is new).
 */
int dbnic_ib_poll_cq(struct ib_cq *ibcq, int num, struct ib_wc *wc)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibcq->device);
	struct dbnic_ib_cq *cq = to_dbnic_cq(ibcq);
	struct dbnic_rdma_cqe c;
	unsigned long flags;
	u16 start;
	int n = 0;

	spin_lock_irqsave(&cq->lock, flags);
	/* Error completions of WRs that never reached the ring first. */
	while (n < num && !list_empty(&cq->swc)) {
		struct dbnic_ib_dwr *dwr = list_first_entry(&cq->swc,
							    struct dbnic_ib_dwr,
							    node);

		list_del(&dwr->node);
		wc[n++] = dwr->wc;
		kfree(dwr);
	}
	start = cq->ci;
	while (n < num && dbnic_ib_cqe_ready(cq, cq->ci)) {
		/* Phase first, then the rest (datasheet 6, 11.6). */
		dma_rmb();
		c = *dbnic_ib_cqe(cq, cq->ci);
		cq->ci++;
		if (dbnic_ib_wc(ibd, &c, &wc[n]))
			n++;
	}
	/* The entries are free for the device (DB_CQ, without ARM). */
	if (cq->ci != start)
		writel(dbnic_db_cq_val(cq->cqn, cq->ci, 0),
		       cq->db + DBNIC_DB_CQ);
	spin_unlock_irqrestore(&cq->lock, flags);
	return n;
}

/**
 * dbnic_ib_req_notify_cq - arm a kernel CQ: the device answers with a
 *	CQ_COMP event at its next CQE (datasheet 11.7)
 * @ibcq: the CQ
 * @flags: IB_CQ_SOLICITED is treated as IB_CQ_NEXT_COMP (an event more
 *	is allowed); IB_CQ_REPORT_MISSED_EVENTS
 *
 * Return: 0, or 1 with IB_CQ_REPORT_MISSED_EVENTS when a CQE is already
 * waiting.
 */
int dbnic_ib_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags)
{
	struct dbnic_ib_cq *cq = to_dbnic_cq(ibcq);
	unsigned long irqflags;
	int ret = 0;

	spin_lock_irqsave(&cq->lock, irqflags);
	writel(dbnic_db_cq_val(cq->cqn, cq->ci, 1), cq->db + DBNIC_DB_CQ);
	if ((flags & IB_CQ_REPORT_MISSED_EVENTS) &&
	    dbnic_ib_cqe_ready(cq, cq->ci))
		ret = 1;
	spin_unlock_irqrestore(&cq->lock, irqflags);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Queue pairs                                                          */
/* ------------------------------------------------------------------ */

static unsigned int dbnic_ib_max_stride(struct dbnic_ib_dev *ibd)
{
	unsigned int blocks = clamp_t(unsigned int, ibd->dd->caps.max_blocks,
				      1, DBNIC_DESC_MAX_BLOCKS);

	return clamp_t(unsigned int,
		       order_base_2(blocks * DBNIC_DESC_BLOCK_SIZE),
		       DBNIC_LOG_STRIDE_MIN, DBNIC_LOG_STRIDE_MAX);
}

/* Ring sizes and strides for the caps asked; the caps granted back. */
static int dbnic_ib_qp_size(struct dbnic_ib_dev *ibd, struct dbnic_ib_qp *qp,
			    struct ib_qp_cap *cap)
{
	unsigned int max_stride = dbnic_ib_max_stride(ibd);
	unsigned int sbytes, rbytes;

	if (cap->max_send_wr > 1u << ibd->max_log_ring ||
	    cap->max_recv_wr > 1u << ibd->max_log_ring ||
	    cap->max_send_sge > DBNIC_RDMA_MAX_SGE ||
	    cap->max_recv_sge > DBNIC_IB_MAX_RECV_SGE ||
	    cap->max_inline_data > DBNIC_RDMA_MAX_INLINE)
		return -EINVAL;
	sbytes = DBNIC_DESC_BLOCK_SIZE *
		 max(dbnic_rdma_wqe_blocks(cap->max_send_sge, 0),
		     dbnic_rdma_wqe_blocks(0, cap->max_inline_data));
	rbytes = DBNIC_DESC_BLOCK_SIZE *
		 dbnic_desc_blocks(max_t(u32, cap->max_recv_sge, 1));
	qp->sq_stride = max_t(unsigned int, order_base_2(sbytes),
			      DBNIC_LOG_STRIDE_MIN);
	qp->rq_stride = max_t(unsigned int, order_base_2(rbytes),
			      DBNIC_LOG_STRIDE_MIN);
	if (qp->sq_stride > max_stride || qp->rq_stride > max_stride)
		return -EINVAL;
	qp->sq_log = max_t(unsigned int, order_base_2(cap->max_send_wr),
			   DBNIC_LOG_RING_MIN);
	qp->rq_log = max_t(unsigned int, order_base_2(cap->max_recv_wr),
			   DBNIC_LOG_RING_MIN);
	qp->max_send_sge = min_t(u32, DBNIC_RDMA_MAX_SGE,
				 ((1u << qp->sq_stride) - DBNIC_IB_WQE_DATA) /
				 sizeof(struct dbnic_sge));
	qp->max_inline = min_t(u32, DBNIC_RDMA_MAX_INLINE,
			       (1u << qp->sq_stride) - DBNIC_IB_WQE_DATA);
	qp->max_recv_sge = min_t(u32, DBNIC_IB_MAX_RECV_SGE,
				 ((1u << qp->rq_stride) -
				  sizeof(struct dbnic_desc_hdr)) /
				 sizeof(struct dbnic_sge));
	cap->max_send_wr = 1u << qp->sq_log;
	cap->max_recv_wr = 1u << qp->rq_log;
	cap->max_send_sge = qp->max_send_sge;
	cap->max_recv_sge = qp->max_recv_sge;
	cap->max_inline_data = qp->max_inline;
	return 0;
}

/* A user QP's pair of priority slots: its own while pairs last. */
static u32 dbnic_ib_prio_pair(struct dbnic_ib_dev *ibd,
			      struct dbnic_ib_ucontext *uctx,
			      struct dbnic_ib_qp *qp)
{
	unsigned int npairs = ibd->prio_slots / 2, pair;

	qp->prio_pair = -1;
	if (!npairs)
		return 0;
	spin_lock(&uctx->lock);
	pair = find_first_zero_bit(&uctx->prio_pairs, npairs);
	if (pair < npairs) {
		set_bit(pair, &uctx->prio_pairs);
		qp->prio_pair = pair;
	} else {
		/* Shared: a torn copy falls back to the ring (3.2). */
		pair = uctx->next_pair++ % npairs;
	}
	spin_unlock(&uctx->lock);
	return 2 * pair;
}

/*
 * Take the QP out of the lookups (no event or poll finds it after this),
 * destroy it on the device and free what it has.  Used by destroy and by
 * create's error paths.
 */
static void dbnic_ib_qp_teardown(struct dbnic_ib_dev *ibd,
				 struct dbnic_ib_qp *qp, bool listed)
{
	struct dbnic_ib_ucontext *uctx = qp->uctx;
	struct dbnic_ib_cq *scq = to_dbnic_cq(qp->ibqp.send_cq);
	struct dbnic_ib_cq *rcq = to_dbnic_cq(qp->ibqp.recv_cq);
	unsigned long flags;
	int ret = 0;

	if (listed) {
		/*
		 * poll_cq uses a QP under its CQ's lock: once each lock was
		 * free after the erase, no poll uses it any more.
		 */
		xa_erase(&ibd->qids, qp->qid);
		spin_lock_irqsave(&scq->lock, flags);
		spin_unlock_irqrestore(&scq->lock, flags);
		spin_lock_irqsave(&rcq->lock, flags);
		spin_unlock_irqrestore(&rcq->lock, flags);
		xa_erase(&ibd->qps, qp->qpn);
		dbnic_ib_sync_events(ibd);
		cancel_work_sync(&qp->err_work);
		if (qp->kernel)
			dbnic_ib_qp_drop_deferred(ibd, qp, scq);
	}
	if (qp->created)
		ret = dbnic_admin_destroy(ibd->dd, DBNIC_ADM_DESTROY_QP,
					  qp->qpn);
	qp->created = false;
	if (qp->sq_entry)
		rdma_user_mmap_entry_remove(qp->sq_entry);
	if (qp->rq_entry)
		rdma_user_mmap_entry_remove(qp->rq_entry);
	qp->sq_entry = NULL;
	qp->rq_entry = NULL;
	dbnic_ib_rings_done(ibd, ret, "QP", qp->qpn, &qp->sq, &qp->rq);
	if (uctx && qp->prio_pair >= 0) {
		spin_lock(&uctx->lock);
		clear_bit(qp->prio_pair, &uctx->prio_pairs);
		spin_unlock(&uctx->lock);
	}
	kfree(qp->sqw.wr_id);
	kfree(qp->rqw.wr_id);
	qp->sqw.wr_id = NULL;
	qp->rqw.wr_id = NULL;
}

static int dbnic_ib_qp_type(enum ib_qp_type type, bool user)
{
	switch (type) {
	case IB_QPT_RC:
		return DBNIC_QPT_RC;
	case IB_QPT_UD:
		return DBNIC_QPT_UD;
	case IB_QPT_GSI:
		/* A process's QP is never GSI (11.2). */
		return user ? -EOPNOTSUPP : DBNIC_QPT_GSI;
	default:
		return -EOPNOTSUPP;
	}
}

/**
 * dbnic_ib_create_qp - CREATE_QP (datasheet 11.2): RC, UD or GSI
 * @ibqp: the core's QP, with its pd
 * @init: CQs of this device and of the same context (a process's, or
 *	the kernel's); the caps (rounded up to what the rings hold, and
 *	returned); no SRQ, no create flags
 * @udata: a process's command (struct dbnic_create_qp and _resp), or NULL
 *
 * Return: 0, -EINVAL (caps, CQs), -EOPNOTSUPP (type, SRQ, flags,
 * request bits this driver does not know), -ENOMEM, -EFAULT, or an
 * errno of the admin queue (-EBUSY: a second GSI QP).
 */
int dbnic_ib_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		       struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibqp->device);
	struct dbnic_ib_ucontext *uctx = dbnic_ib_uctx(udata);
	struct dbnic_ib_qp *qp = to_dbnic_qp(ibqp);
	struct dbnic_create_qp_resp resp = {};
	struct dbnic_qp_params p = {};
	struct dbnic_create_qp req;
	struct dbnic_ib_cq *scq, *rcq;
	struct dbnic_ib_hold *h;
	int type, ret;

	type = dbnic_ib_qp_type(init->qp_type, uctx);
	if (type < 0)
		return type;
	if (init->srq || init->create_flags || !init->send_cq ||
	    !init->recv_cq)
		return -EOPNOTSUPP;
	ret = dbnic_ib_udata_in(udata, &req, sizeof(req));
	if (ret)
		return ret;
	if (req.comp_mask)
		return -EOPNOTSUPP;
	if (req.rsvd)
		return -EINVAL;
	qp->ctx = uctx ? uctx->ctx : ibd->kctx.ctx;
	scq = to_dbnic_cq(init->send_cq);
	rcq = to_dbnic_cq(init->recv_cq);
	if (scq->ctx != qp->ctx || rcq->ctx != qp->ctx)
		return -EINVAL;
	ret = dbnic_ib_qp_size(ibd, qp, &init->cap);
	if (ret)
		return ret;
	qp->type = type;
	qp->uctx = uctx;
	qp->kernel = !uctx;
	qp->sig_all = init->sq_sig_type == IB_SIGNAL_ALL_WR;
	qp->state = IB_QPS_RESET;
	qp->prio_pair = -1;
	qp->db = ibd->kctx.db;
	spin_lock_init(&qp->lock);
	INIT_LIST_HEAD(&qp->deferred);
	INIT_LIST_HEAD(&qp->dnode);
	INIT_WORK(&qp->err_work, dbnic_ib_qp_err_work);

	if (qp->kernel) {
		qp->sqw.wr_id = kcalloc(1u << qp->sq_log, sizeof(u64),
					GFP_KERNEL);
		qp->rqw.wr_id = kcalloc(1u << qp->rq_log, sizeof(u64),
					GFP_KERNEL);
		if (!qp->sqw.wr_id || !qp->rqw.wr_id) {
			ret = -ENOMEM;
			goto err;
		}
	}
	ret = dbnic_ib_ring_alloc(ibd, &qp->sq, 1u << (qp->sq_log +
						       qp->sq_stride));
	if (!ret)
		ret = dbnic_ib_ring_alloc(ibd, &qp->rq, 1u << (qp->rq_log +
							       qp->rq_stride));
	if (ret)
		goto err;
	h = dbnic_ib_hold_alloc(ibd);
	if (!h) {
		ret = -ENOMEM;
		goto err;
	}
	h->ring[0] = qp->sq;
	h->ring[1] = qp->rq;
	h->hold.pages = PFN_UP(qp->sq.bytes) + PFN_UP(qp->rq.bytes);

	p.sq_base = qp->sq.dma;
	p.rq_base = qp->rq.dma;
	p.ctx = qp->ctx;
	p.pd = to_dbnic_pd(ibqp->pd)->tag;
	p.scqn = scq->cqn;
	p.rcqn = rcq->cqn;
	p.type = type;
	p.sq_log_size = qp->sq_log;
	p.sq_log_stride = qp->sq_stride;
	p.rq_log_size = qp->rq_log;
	p.rq_log_stride = qp->rq_stride;
	ret = dbnic_admin_create_qp(ibd->dd, &p, &qp->qpn, &qp->qid, &h->hold);
	if (ret == -ETIMEDOUT) {
		/* The admin queue frees the rings, and destroys a late QP. */
		memset(&qp->sq, 0, sizeof(qp->sq));
		memset(&qp->rq, 0, sizeof(qp->rq));
		goto err;
	}
	dbnic_ib_hold_shell_free(h);
	if (ret)
		goto err;
	qp->created = true;
	if (qp->qid > U16_MAX) {
		ret = -EIO;
		goto err;
	}
	ret = xa_insert(&ibd->qps, qp->qpn, qp, GFP_KERNEL);
	if (ret)
		goto err;
	ret = xa_insert(&ibd->qids, qp->qid, qp, GFP_KERNEL);
	if (ret) {
		xa_erase(&ibd->qps, qp->qpn);
		goto err;
	}
	ibqp->qp_num = type == DBNIC_QPT_GSI ? DBNIC_GSI_QPN :
		       qp->qpn & DBNIC_QPN_MASK;

	if (uctx) {
		u64 key;

		qp->sq_entry = dbnic_ib_mmap_ring(uctx, &qp->sq, &key);
		if (IS_ERR(qp->sq_entry)) {
			ret = PTR_ERR(qp->sq_entry);
			qp->sq_entry = NULL;
			goto err_listed;
		}
		resp.sq_key = key;
		qp->rq_entry = dbnic_ib_mmap_ring(uctx, &qp->rq, &key);
		if (IS_ERR(qp->rq_entry)) {
			ret = PTR_ERR(qp->rq_entry);
			qp->rq_entry = NULL;
			goto err_listed;
		}
		resp.rq_key = key;
		resp.qpn = ibqp->qp_num;
		resp.qid = qp->qid;
		resp.sq_log_size = qp->sq_log;
		resp.sq_log_stride = qp->sq_stride;
		resp.rq_log_size = qp->rq_log;
		resp.rq_log_stride = qp->rq_stride;
		resp.prio_slot = dbnic_ib_prio_pair(ibd, uctx, qp);
		ret = dbnic_ib_udata_out(udata, &resp, sizeof(resp));
		if (ret)
			goto err_listed;
	}
	return 0;

err_listed:
	dbnic_ib_qp_teardown(ibd, qp, true);
	return ret;
err:
	dbnic_ib_qp_teardown(ibd, qp, false);
	return ret;
}

int dbnic_ib_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	dbnic_ib_qp_teardown(to_dbnic_ib(ibqp->device), to_dbnic_qp(ibqp),
			     true);
	return 0;
}

/* The IB event for the status that moved a QP to ERR (QP_ERR, 11.7). */
static enum ib_event_type dbnic_ib_qp_err_event(u32 status)
{
	switch (status) {
	case DBNIC_WC_LOC_PROT_ERR:
	case DBNIC_WC_LOC_ACCESS_ERR:
	case DBNIC_WC_REM_ACCESS_ERR:
		return IB_EVENT_QP_ACCESS_ERR;
	case DBNIC_WC_REM_INV_REQ_ERR:
		return IB_EVENT_QP_REQ_ERR;
	default:
		return IB_EVENT_QP_FATAL;
	}
}

/* QP_ERR: the owner's handler, outside hard IRQ (it may sleep). */
void dbnic_ib_qp_err_work(struct work_struct *work)
{
	struct dbnic_ib_qp *qp = container_of(work, struct dbnic_ib_qp,
					      err_work);
	struct ib_event ev = {
		.device = qp->ibqp.device,
		.element.qp = &qp->ibqp,
		.event = dbnic_ib_qp_err_event(READ_ONCE(qp->err_status)),
	};

	WRITE_ONCE(qp->state, IB_QPS_ERR);
	if (qp->ibqp.event_handler)
		qp->ibqp.event_handler(&ev, qp->ibqp.qp_context);
}

/* An attribute block the device reads or writes during the command. */
static struct dbnic_qp_attr *dbnic_ib_attr_alloc(struct dbnic_ib_dev *ibd,
						 struct dbnic_admin_hold **hold)
{
	struct dbnic_admin_hold *h = kzalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return NULL;
	h->buf[0].bytes = sizeof(struct dbnic_qp_attr);
	h->buf[0].cpu = dma_alloc_coherent(dbnic_to_dev(ibd->dd),
					   h->buf[0].bytes, &h->buf[0].dma,
					   GFP_KERNEL);
	if (!h->buf[0].cpu) {
		kfree(h);
		return NULL;
	}
	h->pages = 1;
	*hold = h;
	return h->buf[0].cpu;
}

/* Unless the admin queue took it (-ETIMEDOUT): free the block. */
static void dbnic_ib_attr_free(struct dbnic_ib_dev *ibd,
			       struct dbnic_admin_hold *h, int ret)
{
	if (ret == -ETIMEDOUT)
		return;
	dma_free_coherent(dbnic_to_dev(ibd->dd), h->buf[0].bytes,
			  h->buf[0].cpu, h->buf[0].dma);
	kfree(h);
}

static u8 dbnic_ib_qp_access(int access)
{
	return (access & IB_ACCESS_REMOTE_READ ? DBNIC_MR_REMOTE_READ : 0) |
	       (access & IB_ACCESS_REMOTE_WRITE ? DBNIC_MR_REMOTE_WRITE : 0);
}

/* What the host checks before the device does (datasheet 11.2). */
static int dbnic_ib_modify_check(struct dbnic_ib_dev *ibd,
				 struct dbnic_ib_qp *qp,
				 const struct ib_qp_attr *attr, int mask)
{
	struct dbnic_caps *c = &ibd->dd->caps;
	enum ib_qp_state cur, next;

	if (mask & ~DBNIC_QP_ATTR_ALL)
		return -EOPNOTSUPP;
	cur = mask & IB_QP_CUR_STATE ? attr->cur_qp_state : READ_ONCE(qp->state);
	next = mask & IB_QP_STATE ? attr->qp_state : cur;
	if (!ib_modify_qp_is_ok(cur, next, qp->ibqp.qp_type, mask))
		return -EINVAL;
	if (next == IB_QPS_SQD)
		return -EOPNOTSUPP;
	if ((mask & IB_QP_PORT && attr->port_num != DBNIC_IB_PORT) ||
	    (mask & IB_QP_PKEY_INDEX && attr->pkey_index) ||
	    (mask & IB_QP_PATH_MTU &&
	     (attr->path_mtu < IB_MTU_256 || attr->path_mtu > c->max_mtu)) ||
	    (mask & IB_QP_MAX_QP_RD_ATOMIC &&
	     attr->max_rd_atomic > c->max_rd_atomic) ||
	    (mask & IB_QP_MAX_DEST_RD_ATOMIC &&
	     attr->max_dest_rd_atomic > c->max_rd_atomic))
		return -EINVAL;
	return 0;
}

/*
 * RESET discarded what was posted, without completions, and moved the
 * device's consumer indices to the producer indices (11.2): every slot
 * is free, and indices go on from where they were.
 */
static void dbnic_ib_qp_reset_rings(struct dbnic_ib_qp *qp)
{
	unsigned long flags;

	spin_lock_irqsave(&qp->lock, flags);
	WRITE_ONCE(qp->sqw.head, qp->sqw.pi);
	WRITE_ONCE(qp->rqw.head, qp->rqw.pi);
	spin_unlock_irqrestore(&qp->lock, flags);
}

/**
 * dbnic_ib_modify_qp - MODIFY_QP (datasheet 11.2)
 * @ibqp: the QP
 * @attr: the attributes @mask names; the AV (RC) from @attr->ah_attr:
 *	source GID entry and its VLAN, destination GID and MAC (resolved by
 *	the core for processes), hop limit, traffic class, flow label and
 *	the UDP source port from them
 * @mask: enum ib_qp_attr_mask bits, those of DBNIC_QP_ATTR_ALL only
 * @udata: a process's (no request), or NULL
 *
 * The transition is checked as IBTA says (ib_modify_qp_is_ok()), and
 * again by the device.
 *
 * Return: 0, -EINVAL (a transition or value refused; nothing changed),
 * -EOPNOTSUPP (other attributes, SQD), -ENOMEM, or an errno of the
 * admin queue (-ETIMEDOUT: the change may still happen).
 */
int dbnic_ib_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
		       int mask, struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibqp->device);
	struct dbnic_ib_qp *qp = to_dbnic_qp(ibqp);
	struct dbnic_admin_hold *h;
	struct dbnic_qp_attr *a;
	int ret;

	ret = dbnic_ib_udata_in(udata, NULL, 0);
	if (ret)
		return ret;
	ret = dbnic_ib_modify_check(ibd, qp, attr, mask);
	if (ret)
		return ret;
	a = dbnic_ib_attr_alloc(ibd, &h);
	if (!a)
		return -ENOMEM;
	a->state = attr->qp_state;
	a->cur_state = attr->cur_qp_state;
	a->path_mtu = attr->path_mtu;
	a->access = dbnic_ib_qp_access(attr->qp_access_flags);
	a->qkey = cpu_to_le32(attr->qkey);
	a->rq_psn = cpu_to_le32(attr->rq_psn & DBNIC_QPN_MASK);
	a->sq_psn = cpu_to_le32(attr->sq_psn & DBNIC_QPN_MASK);
	a->dest_qpn = cpu_to_le32(attr->dest_qp_num & DBNIC_QPN_MASK);
	a->max_rd_atomic = attr->max_rd_atomic;
	a->max_dest_rd_atomic = attr->max_dest_rd_atomic;
	a->min_rnr_timer = attr->min_rnr_timer;
	a->timeout = attr->timeout;
	a->retry_cnt = attr->retry_cnt;
	a->rnr_retry = attr->rnr_retry;
	if (mask & IB_QP_AV) {
		ret = dbnic_ib_av_from_attr(ibd, &attr->ah_attr,
					    ibqp->qp_num,
					    mask & IB_QP_DEST_QPN ?
					    attr->dest_qp_num : 0, &a->av);
		if (ret)
			goto out;
	}
	ret = dbnic_admin_modify_qp(ibd->dd, qp->qpn, mask & DBNIC_QP_ATTR_ALL,
				    h->buf[0].dma, h);
	if (!ret && mask & IB_QP_STATE) {
		WRITE_ONCE(qp->state, attr->qp_state);
		if (attr->qp_state == IB_QPS_RESET && qp->kernel)
			dbnic_ib_qp_reset_rings(qp);
	}
out:
	dbnic_ib_attr_free(ibd, h, ret);
	return ret;
}

/**
 * dbnic_ib_query_qp - QUERY_QP (datasheet 11.2): the current state (the
 *	QP may have moved to ERR by itself) and every attribute as set
 * @ibqp: the QP
 * @attr: filled in
 * @mask: ignored: everything is filled
 * @init: filled in: type, CQs, caps, signalling
 *
 * Return: 0, -ENOMEM, or an errno of the admin queue.
 */
int dbnic_ib_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		      struct ib_qp_init_attr *init)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibqp->device);
	struct dbnic_ib_qp *qp = to_dbnic_qp(ibqp);
	struct dbnic_admin_hold *h;
	struct dbnic_qp_attr *a;
	union ib_gid dgid;
	int ret;

	a = dbnic_ib_attr_alloc(ibd, &h);
	if (!a)
		return -ENOMEM;
	ret = dbnic_admin_query_qp(ibd->dd, qp->qpn, h->buf[0].dma, h);
	if (ret)
		goto out;
	memset(attr, 0, sizeof(*attr));
	memset(init, 0, sizeof(*init));
	attr->qp_state = a->state;
	attr->cur_qp_state = a->state;
	WRITE_ONCE(qp->state, a->state);
	attr->path_mtu = a->path_mtu;
	attr->qp_access_flags = IB_ACCESS_LOCAL_WRITE |
		(a->access & DBNIC_MR_REMOTE_READ ? IB_ACCESS_REMOTE_READ : 0) |
		(a->access & DBNIC_MR_REMOTE_WRITE ? IB_ACCESS_REMOTE_WRITE : 0);
	attr->qkey = le32_to_cpu(a->qkey);
	attr->rq_psn = le32_to_cpu(a->rq_psn) & DBNIC_QPN_MASK;
	attr->sq_psn = le32_to_cpu(a->sq_psn) & DBNIC_QPN_MASK;
	attr->dest_qp_num = le32_to_cpu(a->dest_qpn) & DBNIC_QPN_MASK;
	attr->max_rd_atomic = a->max_rd_atomic;
	attr->max_dest_rd_atomic = a->max_dest_rd_atomic;
	attr->min_rnr_timer = a->min_rnr_timer;
	attr->timeout = a->timeout;
	attr->retry_cnt = a->retry_cnt;
	attr->rnr_retry = a->rnr_retry;
	attr->port_num = DBNIC_IB_PORT;
	attr->cap.max_send_wr = 1u << qp->sq_log;
	attr->cap.max_recv_wr = 1u << qp->rq_log;
	attr->cap.max_send_sge = qp->max_send_sge;
	attr->cap.max_recv_sge = qp->max_recv_sge;
	attr->cap.max_inline_data = qp->max_inline;
	if (qp->type == DBNIC_QPT_RC && a->av.net) {
		attr->ah_attr.type = RDMA_AH_ATTR_TYPE_ROCE;
		memcpy(dgid.raw, a->av.dgid, sizeof(dgid.raw));
		rdma_ah_set_grh(&attr->ah_attr, &dgid,
				le32_to_cpu(a->av.flow_label), a->av.sgid_index,
				a->av.hop_limit, a->av.traffic_class);
		rdma_ah_set_port_num(&attr->ah_attr, DBNIC_IB_PORT);
		memcpy(attr->ah_attr.roce.dmac, a->av.dmac, ETH_ALEN);
	}
	init->qp_type = ibqp->qp_type;
	init->send_cq = ibqp->send_cq;
	init->recv_cq = ibqp->recv_cq;
	init->cap = attr->cap;
	init->sq_sig_type = qp->sig_all ? IB_SIGNAL_ALL_WR : IB_SIGNAL_REQ_WR;
out:
	dbnic_ib_attr_free(ibd, h, ret);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Kernel posting                                                       */
/* ------------------------------------------------------------------ */

static int dbnic_ib_wqe_opcode(enum ib_wr_opcode op)
{
	switch (op) {
	case IB_WR_SEND:
		return DBNIC_OP_SEND;
	case IB_WR_SEND_WITH_IMM:
		return DBNIC_OP_SEND_IMM;
	case IB_WR_RDMA_WRITE:
		return DBNIC_OP_RDMA_WRITE;
	case IB_WR_RDMA_WRITE_WITH_IMM:
		return DBNIC_OP_RDMA_WRITE_IMM;
	case IB_WR_RDMA_READ:
		return DBNIC_OP_RDMA_READ;
	default:
		return -EINVAL;
	}
}

/* Copy a WR's data into the WQE (IB_SEND_INLINE: kernel addresses). */
static int dbnic_ib_wqe_inline(struct dbnic_ib_qp *qp, struct dbnic_desc *d,
			       const struct ib_send_wr *wr)
{
	u8 *data = (u8 *)d + DBNIC_IB_WQE_DATA;
	unsigned int len = 0;
	int i;

	for (i = 0; i < wr->num_sge; i++) {
		const struct ib_sge *sge = &wr->sg_list[i];

		if (sge->length > qp->max_inline - len)
			return -EINVAL;
		memcpy(data + len, (void *)(uintptr_t)sge->addr, sge->length);
		len += sge->length;
	}
	return len;
}

/* Write one send WQE (datasheet 11.4) into its ring slot. */
static int dbnic_ib_build_send(struct dbnic_ib_qp *qp, struct dbnic_desc *d,
			       const struct ib_send_wr *wr, u16 index, u32 ah)
{
	struct dbnic_rdma_seg *seg = dbnic_rdma_seg_of(d);
	struct dbnic_sge *sge = &d->sge[1];
	int op = dbnic_ib_wqe_opcode(wr->opcode);
	unsigned int nsge = 0, inl = 0;
	int i, ret;

	if (op < 0)
		return op;
	if ((qp->type != DBNIC_QPT_RC && op != DBNIC_OP_SEND &&
	     op != DBNIC_OP_SEND_IMM) || wr->num_sge < 0)
		return -EINVAL;
	memset(d, 0, 1u << qp->sq_stride);
	if (wr->send_flags & IB_SEND_INLINE && op != DBNIC_OP_RDMA_READ) {
		ret = dbnic_ib_wqe_inline(qp, d, wr);
		if (ret < 0)
			return ret;
		inl = ret;
		seg->inline_len = cpu_to_le16(inl);
	} else {
		if (wr->num_sge > qp->max_send_sge)
			return -EINVAL;
		/* IB allows zero-length SGEs; the device does not (11.4). */
		for (i = 0; i < wr->num_sge; i++) {
			if (!wr->sg_list[i].length)
				continue;
			sge[nsge].addr = cpu_to_le64(wr->sg_list[i].addr);
			sge[nsge].len = cpu_to_le32(wr->sg_list[i].length);
			sge[nsge].key = cpu_to_le32(wr->sg_list[i].lkey);
			nsge++;
		}
	}
	d->hdr.opcode = op;
	if (qp->sig_all || wr->send_flags & IB_SEND_SIGNALED)
		d->hdr.flags |= DBNIC_DESC_F_COMPLETION;
	if (wr->send_flags & IB_SEND_FENCE)
		d->hdr.flags |= DBNIC_DESC_F_FENCE;
	if (wr->send_flags & IB_SEND_SOLICITED)
		d->hdr.flags |= DBNIC_WQE_F_SOLICITED;
	d->hdr.size = dbnic_rdma_wqe_blocks(nsge, inl);
	d->hdr.nsge = op == DBNIC_OP_RDMA_READ ?
		      DBNIC_SET(DBNIC_NSGE_DST, nsge) :
		      DBNIC_SET(DBNIC_NSGE_SRC, nsge);
	d->hdr.index = cpu_to_le16(index);
	d->hdr.qid = cpu_to_le16(qp->qid);
	/* Wire order, as ib_send_wr carries it (11.4). */
	if (op == DBNIC_OP_SEND_IMM || op == DBNIC_OP_RDMA_WRITE_IMM)
		d->hdr.imm = (__force __le32)wr->ex.imm_data;
	if (qp->type == DBNIC_QPT_RC) {
		if (op != DBNIC_OP_SEND && op != DBNIC_OP_SEND_IMM) {
			seg->raddr = cpu_to_le64(rdma_wr(wr)->remote_addr);
			seg->rkey = cpu_to_le32(rdma_wr(wr)->rkey);
		}
	} else {
		const struct ib_ud_wr *ud = ud_wr(wr);

		seg->ah = cpu_to_le32(ah);
		seg->remote_qpn = cpu_to_le32(ud->remote_qpn);
		seg->remote_qkey = cpu_to_le32(ud->remote_qkey);
	}
	return 0;
}

/* One WQE into the ring, not announced yet.  Called with qp->lock. */
static int dbnic_ib_post_one(struct dbnic_ib_qp *qp,
			     const struct ib_send_wr *wr, u32 ah)
{
	struct dbnic_ib_wq *wq = &qp->sqw;
	u32 slot = dbnic_ring_slot(wq->pi, qp->sq_log);
	int ret;

	if (dbnic_ring_used(wq->pi, READ_ONCE(wq->head)) >= 1u << qp->sq_log)
		return -ENOMEM;
	ret = dbnic_ib_build_send(qp, qp->sq.cpu + (slot << qp->sq_stride), wr,
				  wq->pi, ah);
	if (ret)
		return ret;
	wq->wr_id[slot] = wr->wr_id;
	wq->pi++;
	return 0;
}

/* The WQEs before the doorbell (datasheet 3.1).  Called with qp->lock. */
static void dbnic_ib_sq_kick(struct dbnic_ib_qp *qp, u16 start)
{
	if (qp->sqw.pi == start)
		return;
	dma_wmb();
	writel(dbnic_db_sq_val(qp->qid, qp->sqw.pi), qp->db + DBNIC_DB_SQ);
}

/*
 * A UD or GSI WR: its AH's handle in *@ah (return 0), or, while the AH
 * is being created or earlier WRs of the QP wait, a copy of the WR queued
 * behind them (return 1).  Called with qp->lock.
 *
 * Return: 0, 1, -EINVAL (the AH could not be created), -ENOMEM.
 */
static int dbnic_ib_ud_route(struct dbnic_ib_dev *ibd, struct dbnic_ib_qp *qp,
			     const struct ib_send_wr *wr, u32 *ah)
{
	struct dbnic_ib_ahw *hw = to_dbnic_ah(ud_wr(wr)->ah)->hw;
	struct dbnic_ib_dwr *dwr;
	int i, ret = 1;

	spin_lock(&ibd->ah_lock);
	if (list_empty(&qp->deferred) && hw->state != DBNIC_IB_AH_PENDING) {
		*ah = hw->ah;
		ret = hw->state == DBNIC_IB_AH_READY ? 0 : -EINVAL;
		goto out;
	}
	if (wr->num_sge < 0 || wr->num_sge > qp->max_send_sge) {
		ret = -EINVAL;
		goto out;
	}
	dwr = kzalloc(sizeof(*dwr), GFP_ATOMIC);
	if (!dwr) {
		ret = -ENOMEM;
		goto out;
	}
	dwr->ud = *ud_wr(wr);
	dwr->ud.wr.next = NULL;
	dwr->ud.wr.sg_list = dwr->sge;
	memcpy(dwr->sge, wr->sg_list, wr->num_sge * sizeof(*wr->sg_list));
	if (wr->send_flags & IB_SEND_INLINE) {
		/* The caller may reuse inline data at once: keep a copy. */
		u32 len = 0;

		for (i = 0; i < wr->num_sge; i++) {
			if (wr->sg_list[i].length > qp->max_inline - len) {
				kfree(dwr);
				ret = -EINVAL;
				goto out;
			}
			memcpy(dwr->inl + len,
			       (void *)(uintptr_t)wr->sg_list[i].addr,
			       wr->sg_list[i].length);
			len += wr->sg_list[i].length;
		}
		dwr->sge[0].addr = (uintptr_t)dwr->inl;
		dwr->sge[0].length = len;
		dwr->ud.wr.num_sge = 1;
	}
	dwr->hw = hw;
	refcount_inc(&hw->ref);
	list_add_tail(&dwr->node, &qp->deferred);
	if (!qp->dlisted) {
		qp->dlisted = true;
		list_add_tail(&qp->dnode, &ibd->dqps);
	}
out:
	spin_unlock(&ibd->ah_lock);
	return ret;
}

/**
 * dbnic_ib_post_send - post send WRs of a kernel QP
 * @ibqp: the QP
 * @wr: SEND, SEND_WITH_IMM, RDMA_WRITE, RDMA_WRITE_WITH_IMM, RDMA_READ
 *	(RC), SEND and SEND_WITH_IMM (UD, GSI); flags SIGNALED, FENCE,
 *	SOLICITED, INLINE
 * @bad_wr: the first WR not posted
 *
 * A UD or GSI WR whose AH is still being created (dbnic_ib_create_ah())
 * waits in the QP, and every later one behind it; the AH workqueue posts
 * them, or completes them with IB_WC_GENERAL_ERR if the AH failed.
 *
 * Return: 0, -ENOMEM (the ring is full) or -EINVAL (a WR this QP cannot
 * take); the WRs before *@bad_wr are posted.
 */
int dbnic_ib_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		       const struct ib_send_wr **bad_wr)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibqp->device);
	struct dbnic_ib_qp *qp = to_dbnic_qp(ibqp);
	unsigned long flags;
	u16 start;
	int ret = 0;

	if (!qp->kernel)
		return -EOPNOTSUPP;
	spin_lock_irqsave(&qp->lock, flags);
	start = qp->sqw.pi;
	for (; wr; wr = wr->next) {
		u32 ah = 0;

		if (qp->type != DBNIC_QPT_RC) {
			ret = dbnic_ib_ud_route(ibd, qp, wr, &ah);
			if (ret > 0) {
				ret = 0;
				continue;
			}
			if (ret)
				break;
		}
		ret = dbnic_ib_post_one(qp, wr, ah);
		if (ret)
			break;
	}
	dbnic_ib_sq_kick(qp, start);
	spin_unlock_irqrestore(&qp->lock, flags);
	if (ret)
		*bad_wr = wr;
	return ret;
}

/*
 * Post the QP's waiting WRs whose AH is there, in order, up to the first
 * whose AH is still being created; one whose AH failed (or that the ring
 * cannot take) completes with an error from the send CQ's software list.
 * Called with qp->lock and ibd->ah_lock.
 *
 * Return: true when an error completion was added.
 */
static bool dbnic_ib_post_deferred(struct dbnic_ib_qp *qp)
{
	struct dbnic_ib_cq *scq = to_dbnic_cq(qp->ibqp.send_cq);
	struct dbnic_ib_dwr *dwr, *tmp;
	u16 start = qp->sqw.pi;
	bool swc = false;
	int ret;

	list_for_each_entry_safe(dwr, tmp, &qp->deferred, node) {
		struct dbnic_ib_ahw *hw = dwr->hw;

		if (hw->state == DBNIC_IB_AH_PENDING)
			break;
		list_del(&dwr->node);
		ret = -EINVAL;
		if (hw->state == DBNIC_IB_AH_READY)
			ret = dbnic_ib_post_one(qp, &dwr->ud.wr, hw->ah);
		dbnic_ib_ahw_put(hw, false);
		if (!ret) {
			kfree(dwr);
			continue;
		}
		dwr->wc = (struct ib_wc){
			.wr_id = dwr->ud.wr.wr_id,
			.status = IB_WC_GENERAL_ERR,
			.opcode = IB_WC_SEND,
			.qp = &qp->ibqp,
			.port_num = DBNIC_IB_PORT,
		};
		spin_lock(&scq->lock);
		list_add_tail(&dwr->node, &scq->swc);
		spin_unlock(&scq->lock);
		swc = true;
	}
	dbnic_ib_sq_kick(qp, start);
	return swc;
}

/**
 * dbnic_ib_flush_deferred - post the WRs whose AHs were created
 * @ibd: the device
 *
 * Called by the AH workqueue (ordered: one flush at a time) after each
 * CREATE_AH of an atomic create.  A QP whose WRs still wait goes back on
 * the list; a CQ given error completions is told (comp_handler).
 */
void dbnic_ib_flush_deferred(struct dbnic_ib_dev *ibd)
{
	struct dbnic_ib_qp *qp, *tmp;
	unsigned long flags;
	LIST_HEAD(todo);
	bool swc;

	spin_lock_irq(&ibd->ah_lock);
	list_splice_init(&ibd->dqps, &todo);
	spin_unlock_irq(&ibd->ah_lock);
	list_for_each_entry_safe(qp, tmp, &todo, dnode) {
		list_del_init(&qp->dnode);
		spin_lock_irqsave(&qp->lock, flags);
		spin_lock(&ibd->ah_lock);
		swc = dbnic_ib_post_deferred(qp);
		if (list_empty(&qp->deferred))
			qp->dlisted = false;
		else
			list_add_tail(&qp->dnode, &ibd->dqps);
		spin_unlock(&ibd->ah_lock);
		spin_unlock_irqrestore(&qp->lock, flags);
		if (swc && qp->ibqp.send_cq->comp_handler)
			qp->ibqp.send_cq->comp_handler(qp->ibqp.send_cq,
						       qp->ibqp.send_cq->cq_context);
	}
}

/*
 * A kernel QP goes: no flush works on it after this, its waiting WRs go
 * without completions (as what the device discards, 11.2), and its error
 * completions leave the send CQ.
 */
static void dbnic_ib_qp_drop_deferred(struct dbnic_ib_dev *ibd,
				      struct dbnic_ib_qp *qp,
				      struct dbnic_ib_cq *scq)
{
	struct dbnic_ib_dwr *dwr, *tmp;
	unsigned long flags;
	LIST_HEAD(gone);

	flush_workqueue(ibd->ah_wq);
	spin_lock_irqsave(&qp->lock, flags);
	spin_lock(&ibd->ah_lock);
	if (qp->dlisted)
		list_del_init(&qp->dnode);
	qp->dlisted = false;
	list_splice_init(&qp->deferred, &gone);
	spin_unlock(&ibd->ah_lock);
	spin_unlock_irqrestore(&qp->lock, flags);
	list_for_each_entry_safe(dwr, tmp, &gone, node) {
		dbnic_ib_ahw_put(dwr->hw, true);
		kfree(dwr);
	}
	spin_lock_irqsave(&scq->lock, flags);
	list_for_each_entry_safe(dwr, tmp, &scq->swc, node) {
		if (dwr->wc.qp == &qp->ibqp) {
			list_del(&dwr->node);
			kfree(dwr);
		}
	}
	spin_unlock_irqrestore(&scq->lock, flags);
}

/**
 * dbnic_ib_post_recv - post receive WRs of a kernel QP (datasheet 11.5)
 * @ibqp: the QP
 * @wr: up to max_recv_sge SGEs each
 * @bad_wr: the first WR not posted
 *
 * Return: 0, -ENOMEM (the ring is full) or -EINVAL (too many SGEs).
 */
int dbnic_ib_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		       const struct ib_recv_wr **bad_wr)
{
	struct dbnic_ib_qp *qp = to_dbnic_qp(ibqp);
	struct dbnic_ib_wq *wq = &qp->rqw;
	unsigned long flags;
	unsigned int n;
	u16 start;
	int ret = 0;
	int i;

	if (!qp->kernel)
		return -EOPNOTSUPP;
	spin_lock_irqsave(&qp->lock, flags);
	start = wq->pi;
	for (; wr; wr = wr->next) {
		u32 slot = dbnic_ring_slot(wq->pi, qp->rq_log);
		struct dbnic_desc *d = qp->rq.cpu + (slot << qp->rq_stride);

		if (dbnic_ring_used(wq->pi, READ_ONCE(wq->head)) >=
		    1u << qp->rq_log) {
			ret = -ENOMEM;
			break;
		}
		if (wr->num_sge < 0 || wr->num_sge > qp->max_recv_sge) {
			ret = -EINVAL;
			break;
		}
		memset(d, 0, 1u << qp->rq_stride);
		/* As for sends, zero-length SGEs are left out. */
		for (i = 0, n = 0; i < wr->num_sge; i++) {
			if (!wr->sg_list[i].length)
				continue;
			d->sge[n].addr = cpu_to_le64(wr->sg_list[i].addr);
			d->sge[n].len = cpu_to_le32(wr->sg_list[i].length);
			d->sge[n].key = cpu_to_le32(wr->sg_list[i].lkey);
			n++;
		}
		d->hdr.opcode = DBNIC_OP_RECV;
		d->hdr.flags = DBNIC_DESC_F_COMPLETION;
		d->hdr.size = dbnic_desc_blocks(n);
		d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, n);
		d->hdr.index = cpu_to_le16(wq->pi);
		d->hdr.qid = cpu_to_le16(qp->qid);
		wq->wr_id[slot] = wr->wr_id;
		wq->pi++;
	}
	if (wq->pi != start) {
		dma_wmb();
		writel(dbnic_db_qp_rq_val(qp->qid, wq->pi),
		       qp->db + DBNIC_DB_QP_RQ);
	}
	spin_unlock_irqrestore(&qp->lock, flags);
	if (ret)
		*bad_wr = wr;
	return ret;
}
