// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * dbnic verbs provider: completion queues.
 *
 * The CQE ring (32-byte struct dbnic_rdma_cqe, datasheet 11.6) lives in
 * kernel memory mapped read-only here.  Polling reads it by phase and
 * does no MMIO: the consumer index goes to the device only every
 * quarter ring and with each ARM, which the kernel allows for by making
 * the ring twice the asked-for depth (dbnic_abi.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <util/mmio.h>
#include <util/udma_barrier.h>

#include "dbnic.h"

struct ibv_cq *dbnic_create_cq(struct ibv_context *context, int cqe,
			       struct ibv_comp_channel *channel,
			       int comp_vector)
{
	struct udbnic_create_cq_resp resp = {};
	struct udbnic_create_cq cmd = {};
	struct dbnic_cq *cq;
	int ret;

	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return NULL;
	pthread_spin_init(&cq->lock, PTHREAD_PROCESS_PRIVATE);

	ret = ibv_cmd_create_cq(context, cqe, channel, comp_vector,
				&cq->vcq.cq, &cmd.ibv_cmd, sizeof(cmd),
				&resp.ibv_resp, sizeof(resp));
	if (ret) {
		errno = ret;
		goto err;
	}
	if (resp.log_size < DBNIC_LOG_RING_MIN ||
	    resp.log_size > DBNIC_LOG_RING_MAX) {
		errno = EPROTO;
		goto err_destroy;
	}
	cq->cqn = resp.cqn;
	cq->log_size = resp.log_size;
	cq->ring_bytes = sizeof(struct dbnic_rdma_cqe) << resp.log_size;
	cq->ring = mmap(NULL, cq->ring_bytes, PROT_READ, MAP_SHARED,
			context->cmd_fd, resp.ring_key);
	if (cq->ring == MAP_FAILED)
		goto err_destroy;
	return &cq->vcq.cq;

err_destroy:
	ret = errno;
	ibv_cmd_destroy_cq(&cq->vcq.cq);
	errno = ret;
err:
	pthread_spin_destroy(&cq->lock);
	free(cq);
	return NULL;
}

int dbnic_destroy_cq(struct ibv_cq *ibcq)
{
	struct dbnic_cq *cq = to_dcq(ibcq);
	int ret;

	ret = ibv_cmd_destroy_cq(ibcq);
	if (ret)
		return ret;
	munmap(cq->ring, cq->ring_bytes);
	pthread_spin_destroy(&cq->lock);
	free(cq);
	return 0;
}

/* Tell the device how far we consumed; with arm, ask for one event. */
static void dbnic_cq_doorbell(struct dbnic_context *ctx, struct dbnic_cq *cq,
			      int arm)
{
	mmio_write32(ctx->db + DBNIC_DB_CQ,
		     dbnic_db_cq_val(cq->cqn, cq->ci, arm));
	cq->ci_reported = cq->ci;
}

/*
 * Fill wc from one CQE.  Returns false for an entry of a QP that was
 * destroyed (its qid may already name a newer QP: the QPN tells).
 */
static bool dbnic_cqe_to_wc(struct dbnic_context *ctx,
			    const struct dbnic_rdma_cqe *cqe,
			    struct ibv_wc *wc)
{
	uint32_t qpn = le32toh(cqe->qpn) & DBNIC_QPN_MASK;
	uint16_t index = le16toh(cqe->index);
	struct dbnic_qp *qp;
	struct dbnic_wq *wq;

	qp = dbnic_find_qp(ctx, le16toh(cqe->qid));
	if (!qp || qp->qpn != qpn)
		return false;

	memset(wc, 0, sizeof(*wc));
	if (cqe->cq_flags & DBNIC_RCQE_F_RECV) {
		wq = &qp->rq;
		/* Receives complete in ring order: this frees up to index. */
		atomic_store_explicit((_Atomic(uint16_t) *)&wq->tail,
				      (uint16_t)(index + 1),
				      memory_order_release);
	} else {
		wq = &qp->sq;
		atomic_store_explicit((_Atomic(uint16_t) *)&wq->tail,
				      le16toh(cqe->head),
				      memory_order_release);
	}
	wc->wr_id = wq->wrid[dbnic_ring_slot(index, wq->log_size)];
	wc->status = cqe->status;
	wc->opcode = cqe->opcode;
	wc->vendor_err = cqe->vendor_err;
	wc->byte_len = le32toh(cqe->byte_len);
	wc->qp_num = qpn;
	wc->src_qp = le32toh(cqe->src_qp) & DBNIC_QPN_MASK;
	wc->sl = cqe->sl;
	if (cqe->wc_flags & DBNIC_WC_F_WITH_IMM) {
		wc->wc_flags |= IBV_WC_WITH_IMM;
		wc->imm_data = cqe->imm;	/* both in wire order */
	}
	if (cqe->wc_flags & DBNIC_WC_F_GRH)
		wc->wc_flags |= IBV_WC_GRH;
	return true;
}

int dbnic_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc)
{
	struct dbnic_context *ctx = to_dctx(ibcq->context);
	struct dbnic_cq *cq = to_dcq(ibcq);
	uint16_t mask = (1u << cq->log_size) - 1;
	int n = 0;

	pthread_spin_lock(&cq->lock);
	while (n < ne) {
		const struct dbnic_rdma_cqe *cqe = &cq->ring[cq->ci & mask];
		uint8_t flags = atomic_load_explicit(
			(const _Atomic(uint8_t) *)&cqe->flags,
			memory_order_relaxed);

		if ((flags & DBNIC_CQE_F_PHASE) !=
		    dbnic_cq_phase(cq->ci, cq->log_size))
			break;
		/* The device wrote bytes 0..27 before the phase (11.6). */
		udma_from_device_barrier();
		if (dbnic_cqe_to_wc(ctx, cqe, &wc[n]))
			n++;
		cq->ci++;
	}
	/* Signed: an ARM may have reported entries not yet polled. */
	if ((int16_t)(cq->ci - cq->ci_reported) > (mask + 1) / 4)
		dbnic_cq_doorbell(ctx, cq, 0);
	pthread_spin_unlock(&cq->lock);
	return n;
}

/*
 * Arm through the process's own doorbell page: the device answers with a
 * CQ_COMP event to the kernel, which wakes the completion channel.  A
 * solicited-only request arms for any completion: an extra wakeup, which
 * the verbs API allows.
 *
 * The event is for the next completion added to the CQ (IBTA 11.4.2.2),
 * not for one already written and not yet polled, so the ARM names the
 * first slot the device has not written (it signals a CQE at or past the
 * index given with ARM, datasheet section 6): an application that re-arms
 * before it polls what woke it, as perftest's event mode (-e) does, would
 * otherwise get a second event for that CQE, and its next wait would end
 * before its next completion.  A CQE written after the scan is at or past
 * that index: no event is lost.  Reporting those entries as consumed is
 * safe for the reason a lagging report is (dbnic_abi.h): the ring is twice
 * the depth that may be outstanding.
 */
int dbnic_req_notify_cq(struct ibv_cq *ibcq, int solicited_only)
{
	struct dbnic_context *ctx = to_dctx(ibcq->context);
	struct dbnic_cq *cq = to_dcq(ibcq);
	uint16_t mask = (1u << cq->log_size) - 1;
	uint16_t next;

	pthread_spin_lock(&cq->lock);
	for (next = cq->ci; (uint16_t)(next - cq->ci) <= mask; next++) {
		uint8_t flags = atomic_load_explicit(
			(const _Atomic(uint8_t) *)&cq->ring[next & mask].flags,
			memory_order_relaxed);

		if ((flags & DBNIC_CQE_F_PHASE) !=
		    dbnic_cq_phase(next, cq->log_size))
			break;
	}
	mmio_write32(ctx->db + DBNIC_DB_CQ, dbnic_db_cq_val(cq->cqn, next, 1));
	cq->ci_reported = next;
	pthread_spin_unlock(&cq->lock);
	return 0;
}
