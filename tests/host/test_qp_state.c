/*
 * Unit tests of the dbnic core's RDMA objects (datasheet section 11):
 * the QP state machine against IB's transition table for RC, UD and
 * GSI, attribute ranges, CREATE_QP refusals, the flush to ERR and the
 * discard at RESET, QPN generations, DESTROY_CTX, the 32-byte CQE, the
 * CQ_COMP event, DB_QP_RQ, the in-order priority rule on a QP's send
 * queue, the checks of send WQEs (pd, AH), CREATE_AH and SET_GID.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "dbnic_core_priv.h"
#include "harness.h"
#include "test_qp.h"
#include "dbnic_roce_wire.h"

/* A host view of one QP with its CQs (one CQ for both unless split). */
struct hqp {
	struct fake *f;
	uint32_t ctx;
	uint32_t pd;
	uint8_t type;
	uint32_t qpn;
	uint32_t qid;
	uint32_t scqn, rcqn;
	uint64_t sq_base, rq_base;
	uint64_t scq_base, rcq_base;
	uint8_t log_size, log_stride;
	uint8_t cq_log;
	uint16_t sq_pi, rq_pi;
	uint16_t scq_ci, rcq_ci;
	uint8_t status;		/* of CREATE_QP */
};

#define QP_CQ_LOG	5
#define ALL_ATTRS	DBNIC_QP_ATTR_ALL

static const uint8_t gid4[16] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1,
};
static const uint8_t gid6[16] = {
	0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

static uint32_t cq32_create(struct fake *f, uint32_t ctx, uint8_t log,
			    uint16_t vector, uint64_t *base, uint8_t *status)
{
	struct dbnic_admin_cmd cmd;
	uint32_t cqn = ~0u;

	if (!*base)
		*base = fake_alloc(f, (uint64_t)32 << log, 4096);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_CQ;
	cmd.create_cq.base = *base;
	cmd.create_cq.ctx = ctx;
	cmd.create_cq.log_size = log;
	cmd.create_cq.log_cqe = DBNIC_LOG_CQE_32;
	cmd.create_cq.msix_vector = vector;
	*status = admin(f, &cmd, &cqn);
	return cqn;
}

static uint8_t set_gid(struct fake *f, uint32_t ctx, uint32_t index,
		       uint8_t net, const uint8_t *gid, uint16_t vlan)
{
	struct dbnic_admin_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_SET_GID;
	cmd.set_gid.ctx = ctx;
	cmd.set_gid.index = index;
	cmd.set_gid.net = net;
	cmd.set_gid.vlan = vlan;
	if (gid)
		memcpy(cmd.set_gid.gid, gid, 16);
	return admin(f, &cmd, NULL);
}

/* A valid IPv4 address vector from GID 0. */
static void av_v4(struct dbnic_av *av)
{
	static const uint8_t dmac[6] = { 0x52, 0x54, 0, 0xaa, 0xbb, 0xcc };

	memset(av, 0, sizeof(*av));
	memcpy(av->dgid, gid4, 16);
	av->dgid[15] = 2;
	memcpy(av->dmac, dmac, 6);
	av->vlan = DBNIC_VLAN_NONE;
	av->udp_sport = 0xc123;
	av->sgid_index = 0;
	av->hop_limit = 64;
	av->net = DBNIC_NET_IPV4;
}

/* Every attribute with a valid value, for a move from cur to state. */
static void attr_full(struct dbnic_qp_attr *a, uint8_t state, uint8_t cur)
{
	memset(a, 0, sizeof(*a));
	a->state = state;
	a->cur_state = cur;
	a->path_mtu = 3;
	a->access = DBNIC_MR_REMOTE_WRITE | DBNIC_MR_REMOTE_READ;
	a->qkey = 0x11111111;
	a->rq_psn = 0x123456;
	a->sq_psn = 0xabcdef;
	a->dest_qpn = 0x1234;
	a->max_rd_atomic = DBNIC_QP_MAX_RD_ATOMIC;
	a->max_dest_rd_atomic = 4;
	a->min_rnr_timer = 31;
	a->timeout = 14;
	a->retry_cnt = 7;
	a->rnr_retry = 7;
	av_v4(&a->av);
}

static uint8_t modify(struct fake *f, uint32_t qpn, uint32_t mask,
		      const struct dbnic_qp_attr *a)
{
	struct dbnic_admin_cmd cmd;
	uint64_t at = fake_alloc(f, sizeof(*a), 8);

	memcpy(gpa(f, at), a, sizeof(*a));
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_MODIFY_QP;
	cmd.modify_qp.qpn = qpn;
	cmd.modify_qp.attr = at;
	cmd.modify_qp.attr_mask = mask;
	return admin(f, &cmd, NULL);
}

static uint8_t query(struct fake *f, uint32_t qpn, struct dbnic_qp_attr *a)
{
	struct dbnic_admin_cmd cmd;
	uint64_t at = fake_alloc(f, sizeof(*a), 8);
	uint8_t st;

	memset(gpa(f, at), 0xee, sizeof(*a));
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_QUERY_QP;
	cmd.modify_qp.qpn = qpn;
	cmd.modify_qp.attr = at;
	st = admin(f, &cmd, NULL);
	memcpy(a, gpa(f, at), sizeof(*a));
	return st;
}

/* The QP's state as QUERY_QP reports it, or 0xff. */
static uint8_t qp_state(struct fake *f, uint32_t qpn)
{
	struct dbnic_qp_attr a;

	return query(f, qpn, &a) == DBNIC_AST_OK ? a.state : 0xff;
}

static uint8_t create_qp_cmd(struct hqp *q, uint32_t scqn, uint32_t rcqn)
{
	struct dbnic_admin_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_QP;
	cmd.create_qp.sq_base = q->sq_base;
	cmd.create_qp.rq_base = q->rq_base;
	cmd.create_qp.ctx = q->ctx;
	cmd.create_qp.pd = q->pd;
	cmd.create_qp.scqn = scqn;
	cmd.create_qp.rcqn = rcqn;
	cmd.create_qp.type = q->type;
	cmd.create_qp.sq_log_size = q->log_size;
	cmd.create_qp.sq_log_stride = q->log_stride;
	cmd.create_qp.rq_log_size = q->log_size;
	cmd.create_qp.rq_log_stride = 6;
	return admin_r2(q->f, &cmd, &q->qpn, &q->qid);
}

/*
 * A QP of ctx on one 32-byte CQ (split: a receive CQ of its own), its
 * rings and CQ where reuse has them (NULL: fresh memory).
 */
static void qp_make_on(struct fake *f, struct hqp *q, uint32_t ctx,
		       uint8_t type, uint32_t pd, bool split,
		       const struct hqp *reuse)
{
	uint8_t st;

	memset(q, 0, sizeof(*q));
	if (reuse) {
		q->scq_base = reuse->scq_base;
		q->sq_base = reuse->sq_base;
		q->rq_base = reuse->rq_base;
	}
	q->f = f;
	q->ctx = ctx;
	q->pd = pd;
	q->type = type;
	q->log_size = 4;
	q->log_stride = 8;
	q->cq_log = QP_CQ_LOG;
	q->scqn = cq32_create(f, ctx, QP_CQ_LOG, DBNIC_CQ_NO_VECTOR,
			      &q->scq_base, &st);
	q->rcqn = q->scqn;
	q->rcq_base = q->scq_base;
	if (split) {
		q->rcq_base = 0;
		q->rcqn = cq32_create(f, ctx, QP_CQ_LOG, DBNIC_CQ_NO_VECTOR,
				      &q->rcq_base, &st);
	}
	if (!q->sq_base)
		q->sq_base = fake_alloc(f, 1u << (q->log_size + q->log_stride),
					4096);
	if (!q->rq_base)
		q->rq_base = fake_alloc(f, 1u << (q->log_size + 6), 4096);
	q->status = create_qp_cmd(q, q->scqn, q->rcqn);
}

static void qp_make(struct fake *f, struct hqp *q, uint32_t ctx, uint8_t type,
		    uint32_t pd, bool split)
{
	qp_make_on(f, q, ctx, type, pd, split, NULL);
}

/* DESTROY_QP and its CQ, so that a test may make many in turn. */
static void qp_drop(struct hqp *q)
{
	destroy(q->f, DBNIC_ADM_DESTROY_QP, q->qpn);
	destroy(q->f, DBNIC_ADM_DESTROY_CQ, q->scqn);
}

/* RESET to state with the attributes IB requires on the way. */
static uint8_t qp_walk(struct hqp *q, uint8_t to)
{
	static const uint32_t init[4] = {
		[DBNIC_QPT_RC] = DBNIC_QP_ATTR_PKEY_INDEX |
				 DBNIC_QP_ATTR_PORT | DBNIC_QP_ATTR_ACCESS_FLAGS,
		[DBNIC_QPT_UD] = DBNIC_QP_ATTR_PKEY_INDEX |
				 DBNIC_QP_ATTR_PORT | DBNIC_QP_ATTR_QKEY,
		[DBNIC_QPT_GSI] = DBNIC_QP_ATTR_PKEY_INDEX | DBNIC_QP_ATTR_QKEY,
	};
	static const uint32_t rtr[4] = {
		[DBNIC_QPT_RC] = DBNIC_QP_ATTR_AV | DBNIC_QP_ATTR_PATH_MTU |
				 DBNIC_QP_ATTR_DEST_QPN | DBNIC_QP_ATTR_RQ_PSN |
				 DBNIC_QP_ATTR_MAX_DEST_RD_ATOMIC |
				 DBNIC_QP_ATTR_MIN_RNR_TIMER,
	};
	static const uint32_t rts[4] = {
		[DBNIC_QPT_RC] = DBNIC_QP_ATTR_TIMEOUT |
				 DBNIC_QP_ATTR_RETRY_CNT |
				 DBNIC_QP_ATTR_RNR_RETRY | DBNIC_QP_ATTR_SQ_PSN |
				 DBNIC_QP_ATTR_MAX_QP_RD_ATOMIC,
		[DBNIC_QPT_UD] = DBNIC_QP_ATTR_SQ_PSN,
		[DBNIC_QPT_GSI] = DBNIC_QP_ATTR_SQ_PSN,
	};
	struct dbnic_qp_attr a;
	uint8_t st = DBNIC_AST_OK;

	if (to == DBNIC_QPS_RESET)
		return st;
	attr_full(&a, DBNIC_QPS_INIT, 0);
	st = modify(q->f, q->qpn, DBNIC_QP_ATTR_STATE | init[q->type], &a);
	if (st || to == DBNIC_QPS_INIT)
		return st;
	if (to == DBNIC_QPS_ERR) {
		attr_full(&a, DBNIC_QPS_ERR, 0);
		return modify(q->f, q->qpn, DBNIC_QP_ATTR_STATE, &a);
	}
	attr_full(&a, DBNIC_QPS_RTR, 0);
	st = modify(q->f, q->qpn, DBNIC_QP_ATTR_STATE | rtr[q->type], &a);
	if (st || to == DBNIC_QPS_RTR)
		return st;
	attr_full(&a, DBNIC_QPS_RTS, 0);
	return modify(q->f, q->qpn, DBNIC_QP_ATTR_STATE | rts[q->type], &a);
}

static uint8_t qp_destroy(struct hqp *q)
{
	return destroy(q->f, DBNIC_ADM_DESTROY_QP, q->qpn);
}

/* A machine with GID 0 (IPv4) and GID 1 (IPv6) set by the kernel's ctx. */
static uint32_t machine(struct fake *f)
{
	uint32_t kctx;

	fake_init(f);
	kctx = create_ctx(f, true);
	if (set_gid(f, kctx, 0, DBNIC_NET_IPV4, gid4, DBNIC_VLAN_NONE) ||
	    set_gid(f, kctx, 1, DBNIC_NET_IPV6, gid6, 5))
		abort();
	return kctx;
}

/*
 * The RC peer (gid4 .2, whom av_v4() names) answers the last packet the
 * port sent to it: a READ request with its READ response (zeros), any
 * other request with an ACK of its PSN, which acknowledges every packet
 * before it too (11.8).  An RC WQE completes only so (11.4).
 */
static void peer_ack(struct fake *f, uint32_t qpn)
{
	struct dbnic_roce_pkt pkt;
	struct dbnic_roce_addr ad;
	struct dbnic_roce_hdr h;
	static uint8_t fr[DBNIC_ROCE_FRAME_MAX];
	const uint8_t *last;
	size_t len, hl;
	uint32_t crc, plen = 0;

	if (!f->tx_frames)
		return;
	last = tx_frame(f, f->tx_frames - 1, &len, NULL);
	if (!last || dbnic_roce_parse(last, len, &pkt) != DBNIC_ROCE_OK)
		return;
	ad = pkt.addr;
	memcpy(ad.dmac, pkt.addr.smac, 6);
	memcpy(ad.smac, pkt.addr.dmac, 6);
	memcpy(ad.sgid, pkt.addr.dgid, 16);
	memcpy(ad.dgid, pkt.addr.sgid, 16);
	memset(&h, 0, sizeof(h));
	h.opcode = DBNIC_ROCE_RC_ACK;
	h.pkey = 0xffff;
	h.dqpn = qpn;
	h.psn = pkt.hdr.psn;
	h.aeth.syndrome = DBNIC_AETH_ACK_NO_CREDIT;
	if (pkt.hdr.opcode == DBNIC_ROCE_RC_READ_REQ) {
		h.opcode = DBNIC_ROCE_RC_READ_RESP_ONLY;
		plen = pkt.hdr.reth.dma_len;	/* one packet in these tests */
	}
	hl = dbnic_roce_build(fr, sizeof(fr) - 8, &ad, &h, plen, &crc);
	if (!hl)
		abort();
	memset(fr + hl, 0, plen);
	crc = dbnic_roce_icrc_update(crc, fr + hl, plen);
	hl += plen;
	hl += dbnic_roce_icrc_finish(fr + hl, crc, dbnic_roce_pad(plen));
	eth_rx(f, fr, hl, 0, 0, 0);
	fake_run(f);
}

/* ---- send WQEs and completions ----------------------------------- */

static uint64_t sq_slot(const struct hqp *q, uint16_t index)
{
	return q->sq_base + ((uint64_t)dbnic_ring_slot(index, q->log_size)
			     << q->log_stride);
}

/* A SEND of n SGEs (addr, len, key), signaled. */
static void wqe_send(struct dbnic_desc *d, const struct hqp *q, uint8_t op,
		     const uint64_t *addr, const uint32_t *len,
		     const uint32_t *key, unsigned int n)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->hdr.opcode = op;
	d->hdr.flags = DBNIC_DESC_F_COMPLETION;
	d->hdr.size = dbnic_rdma_wqe_blocks(n, 0);
	if (op == DBNIC_OP_RDMA_READ)
		d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, n);
	else
		d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, n);
	d->hdr.qid = q->qid;
	for (i = 0; i < n; i++) {
		d->sge[1 + i].addr = addr[i];
		d->sge[1 + i].len = len[i];
		d->sge[1 + i].key = key ? key[i] : 0;
	}
}

/* An inline SEND of len bytes. */
static void wqe_inline(struct dbnic_desc *d, const struct hqp *q, uint16_t len)
{
	memset(d, 0, sizeof(*d));
	d->hdr.opcode = DBNIC_OP_SEND;
	d->hdr.flags = DBNIC_DESC_F_COMPLETION;
	d->hdr.size = dbnic_rdma_wqe_blocks(0, len);
	d->hdr.qid = q->qid;
	dbnic_rdma_seg_of(d)->inline_len = len;
}

static void sq_put(struct hqp *q, struct dbnic_desc *d, uint16_t index)
{
	d->hdr.index = index;
	memcpy(gpa(q->f, sq_slot(q, index)), d, (size_t)1 << q->log_stride);
}

static void sq_db(struct hqp *q, uint16_t pi)
{
	dbnic_core_db_write(&q->f->core,
			    ((uint64_t)q->ctx << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_SQ,
			    dbnic_db_sq_val(q->qid, pi), 4);
}

static uint16_t post(struct hqp *q, struct dbnic_desc *d)
{
	uint16_t index = q->sq_pi++;

	sq_put(q, d, index);
	sq_db(q, q->sq_pi);
	return index;
}

/* The priority path: ring copy, then the copy into slot pair 0. */
static uint16_t post_prio_qp(struct hqp *q, struct dbnic_desc *d)
{
	uint16_t index = q->sq_pi++;

	d->hdr.index = index;
	desc_seal(d);
	sq_put(q, d, index);
	prio_copy(q->f, q->ctx, index & 1, d, NULL,
		  d->hdr.size * DBNIC_DESC_BLOCK_SIZE / 8);
	return index;
}

static void rq_db_val(struct fake *f, uint32_t page, uint32_t val)
{
	dbnic_core_db_write(&f->core,
			    ((uint64_t)page << DBNIC_DB_PAGE_SHIFT) +
			    DBNIC_DB_QP_RQ, val, 4);
}

/* Post a RECV of one SGE (key 0) and ring DB_QP_RQ. */
static void recv_post_qp(struct hqp *q, uint64_t addr, uint32_t len)
{
	struct dbnic_desc d;
	uint64_t a = q->rq_base + ((uint64_t)dbnic_ring_slot(q->rq_pi,
							     q->log_size) << 6);

	memset(&d, 0, sizeof(d));
	d.hdr.opcode = DBNIC_OP_RECV;
	d.hdr.flags = DBNIC_DESC_F_COMPLETION;
	d.hdr.size = 1;
	d.hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, 1);
	d.hdr.index = q->rq_pi;
	d.hdr.qid = q->qid;
	d.sge[0].addr = addr;
	d.sge[0].len = len;
	memcpy(gpa(q->f, a), &d, 64);
	q->rq_pi++;
	rq_db_val(q->f, q->ctx, dbnic_db_qp_rq_val(q->qid, q->rq_pi));
}

/* The next 32-byte CQE of a CQ at base, or false. */
static bool cq32_poll(struct fake *f, uint32_t ctx, uint32_t cqn, uint64_t base,
		      uint16_t *ci, struct dbnic_rdma_cqe *out)
{
	unsigned int slot = dbnic_ring_slot(*ci, QP_CQ_LOG);
	struct dbnic_rdma_cqe *e = gpa(f, base + 32 * slot);

	if ((e->flags & DBNIC_CQE_F_PHASE) != dbnic_cq_phase(*ci, QP_CQ_LOG))
		return false;
	*out = *e;
	(*ci)++;
	dbnic_core_db_write(&f->core,
			    ((uint64_t)ctx << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_CQ,
			    dbnic_db_cq_val(cqn, *ci, 0), 4);
	return true;
}

static bool scq_poll(struct hqp *q, struct dbnic_rdma_cqe *out)
{
	return cq32_poll(q->f, q->ctx, q->scqn, q->scq_base, &q->scq_ci, out);
}

static bool rcq_poll(struct hqp *q, struct dbnic_rdma_cqe *out)
{
	if (q->rcqn == q->scqn)
		return scq_poll(q, out);
	return cq32_poll(q->f, q->ctx, q->rcqn, q->rcq_base, &q->rcq_ci, out);
}

/* ---- capabilities ------------------------------------------------- */

void test_qp_caps_and_roce_off(void)
{
	struct fake f;
	struct hqp q;
	uint32_t v, ctx;

	fake_init(&f);
	CHECK(dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_FEATURES, 4) &
	      DBNIC_FEAT_RDMA);
	CHECK_EQ(DBNIC_GET((uint32_t)dbnic_core_ctrl_read(&f.core,
			   DBNIC_REG_CAP_QP, 4), DBNIC_CAPQP_MAX_QP), 8);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_AH, 4), 8);
	v = dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_RDMA, 4);
	CHECK_EQ(DBNIC_GET(v, DBNIC_CAPR_RD_ATOMIC), DBNIC_QP_MAX_RD_ATOMIC);
	CHECK_EQ(DBNIC_GET(v, DBNIC_CAPR_GIDS), DBNIC_GID_TBL_LEN);
	CHECK_EQ(DBNIC_GET(v, DBNIC_CAPR_MTU), 5);
	fake_free(&f);

	/* roce off: the 1.3 device, whose QP commands are unknown. */
	harness_no_roce = true;
	fake_init(&f);
	CHECK(!(dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_FEATURES, 4) &
		DBNIC_FEAT_RDMA));
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_QP, 4), 0);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_AH, 4), 0);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_RDMA, 4), 0);
	ctx = create_ctx(&f, true);
	CHECK_EQ(set_gid(&f, ctx, 0, DBNIC_NET_IPV4, gid4, DBNIC_VLAN_NONE),
		 DBNIC_AST_BAD_OPCODE);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(q.status, DBNIC_AST_BAD_OPCODE);
	fake_free(&f);
}

/* ---- the transition table ----------------------------------------- */

/*
 * IB's table (IBTA vol. 1 11.2.4.2 and 10.3.1, Linux's
 * ib_modify_qp_is_ok()) for the device's types and attributes, written
 * out as the transitions it allows: from, to, type, required, allowed.
 */
#define R_PKEY	DBNIC_QP_ATTR_PKEY_INDEX
#define R_PORT	DBNIC_QP_ATTR_PORT
#define R_ACC	DBNIC_QP_ATTR_ACCESS_FLAGS
#define R_QKEY	DBNIC_QP_ATTR_QKEY
#define R_CUR	DBNIC_QP_ATTR_CUR_STATE
#define R_RNRT	DBNIC_QP_ATTR_MIN_RNR_TIMER

static const struct ibta_move {
	uint8_t from, to, type;
	uint32_t req, opt;
} ibta[] = {
	{ 0, 0, DBNIC_QPT_RC, 0, 0 },
	{ 0, 0, DBNIC_QPT_UD, 0, 0 },
	{ 0, 0, DBNIC_QPT_GSI, 0, 0 },
	{ 0, 1, DBNIC_QPT_RC, R_PKEY | R_PORT | R_ACC, 0 },
	{ 0, 1, DBNIC_QPT_UD, R_PKEY | R_PORT | R_QKEY, 0 },
	{ 0, 1, DBNIC_QPT_GSI, R_PKEY | R_QKEY, 0 },
	{ 1, 0, DBNIC_QPT_RC, 0, 0 },
	{ 1, 0, DBNIC_QPT_UD, 0, 0 },
	{ 1, 0, DBNIC_QPT_GSI, 0, 0 },
	{ 1, 6, DBNIC_QPT_RC, 0, 0 },
	{ 1, 6, DBNIC_QPT_UD, 0, 0 },
	{ 1, 6, DBNIC_QPT_GSI, 0, 0 },
	{ 1, 1, DBNIC_QPT_RC, 0, R_PKEY | R_PORT | R_ACC },
	{ 1, 1, DBNIC_QPT_UD, 0, R_PKEY | R_PORT | R_QKEY },
	{ 1, 1, DBNIC_QPT_GSI, 0, R_PKEY | R_QKEY },
	{ 1, 2, DBNIC_QPT_RC, DBNIC_QP_ATTR_AV | DBNIC_QP_ATTR_PATH_MTU |
	  DBNIC_QP_ATTR_DEST_QPN | DBNIC_QP_ATTR_RQ_PSN |
	  DBNIC_QP_ATTR_MAX_DEST_RD_ATOMIC | R_RNRT, R_ACC | R_PKEY },
	{ 1, 2, DBNIC_QPT_UD, 0, R_PKEY | R_QKEY },
	{ 1, 2, DBNIC_QPT_GSI, 0, R_PKEY | R_QKEY },
	{ 2, 0, DBNIC_QPT_RC, 0, 0 },
	{ 2, 0, DBNIC_QPT_UD, 0, 0 },
	{ 2, 0, DBNIC_QPT_GSI, 0, 0 },
	{ 2, 6, DBNIC_QPT_RC, 0, 0 },
	{ 2, 6, DBNIC_QPT_UD, 0, 0 },
	{ 2, 6, DBNIC_QPT_GSI, 0, 0 },
	{ 2, 3, DBNIC_QPT_RC, DBNIC_QP_ATTR_TIMEOUT | DBNIC_QP_ATTR_RETRY_CNT |
	  DBNIC_QP_ATTR_RNR_RETRY | DBNIC_QP_ATTR_SQ_PSN |
	  DBNIC_QP_ATTR_MAX_QP_RD_ATOMIC, R_CUR | R_ACC | R_RNRT },
	{ 2, 3, DBNIC_QPT_UD, DBNIC_QP_ATTR_SQ_PSN, R_CUR | R_QKEY },
	{ 2, 3, DBNIC_QPT_GSI, DBNIC_QP_ATTR_SQ_PSN, R_CUR | R_QKEY },
	{ 3, 0, DBNIC_QPT_RC, 0, 0 },
	{ 3, 0, DBNIC_QPT_UD, 0, 0 },
	{ 3, 0, DBNIC_QPT_GSI, 0, 0 },
	{ 3, 6, DBNIC_QPT_RC, 0, 0 },
	{ 3, 6, DBNIC_QPT_UD, 0, 0 },
	{ 3, 6, DBNIC_QPT_GSI, 0, 0 },
	{ 3, 3, DBNIC_QPT_RC, 0, R_CUR | R_ACC | R_RNRT },
	{ 3, 3, DBNIC_QPT_UD, 0, R_CUR | R_QKEY },
	{ 3, 3, DBNIC_QPT_GSI, 0, R_CUR | R_QKEY },
	{ 6, 0, DBNIC_QPT_RC, 0, 0 },
	{ 6, 0, DBNIC_QPT_UD, 0, 0 },
	{ 6, 0, DBNIC_QPT_GSI, 0, 0 },
	{ 6, 6, DBNIC_QPT_RC, 0, 0 },
	{ 6, 6, DBNIC_QPT_UD, 0, 0 },
	{ 6, 6, DBNIC_QPT_GSI, 0, 0 },
};

static const struct ibta_move *ibta_find(uint8_t from, uint8_t to,
					 uint8_t type)
{
	unsigned int i;

	for (i = 0; i < sizeof(ibta) / sizeof(ibta[0]); i++)
		if (ibta[i].from == from && ibta[i].to == to &&
		    ibta[i].type == type)
			return &ibta[i];
	return NULL;
}

/*
 * One try: a fresh QP of type walked to from, then MODIFY_QP to 'to'
 * with mask (STATE added when with_state).  Returns the admin status
 * and the state after it in *after.
 */
static struct hqp mem;	/* rings and CQ memory the tries share */

static uint8_t try_move(struct fake *f, uint32_t ctx, uint8_t type,
			uint8_t from, uint8_t to, uint32_t mask,
			bool with_state, uint8_t *after)
{
	struct dbnic_qp_attr a;
	struct hqp q;
	uint8_t st;

	qp_make_on(f, &q, ctx, type, 7, false, &mem);
	if (q.status || qp_walk(&q, from) || qp_state(f, q.qpn) != from) {
		*after = 0xfe;
		return 0xfe;	/* the setup failed: the test reports it */
	}
	attr_full(&a, to, from);
	st = modify(f, q.qpn, mask | (with_state ? DBNIC_QP_ATTR_STATE : 0),
		    &a);
	*after = qp_state(f, q.qpn);
	qp_drop(&q);
	return st;
}

static void transitions_of(uint8_t type)
{
	static const uint8_t reachable[] = { 0, 1, 2, 3, 6 };
	/* Static: harness_cleanup() frees it after a CHECK returned early. */
	static struct fake f;
	uint32_t ctx;
	unsigned int i, to, b;
	uint8_t after;

	ctx = machine(&f);
	memset(&mem, 0, sizeof(mem));
	mem.scq_base = fake_alloc(&f, 32u << QP_CQ_LOG, 4096);
	mem.sq_base = fake_alloc(&f, 4096, 4096);
	mem.rq_base = fake_alloc(&f, 4096, 4096);
	for (i = 0; i < sizeof(reachable); i++) {
		uint8_t from = reachable[i];

		for (to = 0; to <= DBNIC_QPS_ERR; to++) {
			const struct ibta_move *m = ibta_find(from, to, type);

			if (!m) {
				/* No mask makes it valid: try the widest. */
				CHECK_EQ(try_move(&f, ctx, type, from, to, 0,
						  true, &after),
					 DBNIC_AST_BAD_PARAM);
				CHECK_EQ(after, from);
				CHECK_EQ(try_move(&f, ctx, type, from, to,
						  ALL_ATTRS & ~R_CUR, true,
						  &after),
					 DBNIC_AST_BAD_PARAM);
				CHECK_EQ(after, from);
				continue;
			}
			/* Required only; required and every optional one. */
			CHECK_EQ(try_move(&f, ctx, type, from, to, m->req,
					  true, &after), DBNIC_AST_OK);
			CHECK_EQ(after, to);
			CHECK_EQ(try_move(&f, ctx, type, from, to,
					  m->req | m->opt, true, &after),
				 DBNIC_AST_OK);
			CHECK_EQ(after, to);
			for (b = 0; b < 32; b++) {
				uint32_t bit = 1u << b;

				if (bit == DBNIC_QP_ATTR_STATE)
					continue;
				if (m->req & bit) {
					/* A required one missing. */
					CHECK_EQ(try_move(&f, ctx, type, from,
							  to, m->req & ~bit,
							  true, &after),
						 DBNIC_AST_BAD_PARAM);
					CHECK_EQ(after, from);
				} else if (m->opt & bit) {
					CHECK_EQ(try_move(&f, ctx, type, from,
							  to, m->req | bit,
							  true, &after),
						 DBNIC_AST_OK);
					CHECK_EQ(after, to);
				} else {
					/* Neither required nor allowed. */
					CHECK_EQ(try_move(&f, ctx, type, from,
							  to, m->req | bit,
							  true, &after),
						 DBNIC_AST_BAD_PARAM);
					CHECK_EQ(after, from);
				}
			}
			/* Without STATE: the move to the state itself. */
			if (to == from) {
				CHECK_EQ(try_move(&f, ctx, type, from, to,
						  m->req | m->opt, false,
						  &after), DBNIC_AST_OK);
				CHECK_EQ(after, from);
			}
		}
		/* Without STATE from a state with no move to itself. */
		if (!ibta_find(from, from, type)) {
			CHECK_EQ(try_move(&f, ctx, type, from, from, 0, false,
					  &after), DBNIC_AST_BAD_PARAM);
			CHECK_EQ(after, from);
		}
		/* SQD is refused even where IB allows it (RTS), and SQE. */
		CHECK_EQ(try_move(&f, ctx, type, from, DBNIC_QPS_SQD, 0, true,
				  &after), DBNIC_AST_BAD_PARAM);
		CHECK_EQ(try_move(&f, ctx, type, from, DBNIC_QPS_SQE, 0, true,
				  &after), DBNIC_AST_BAD_PARAM);
		CHECK_EQ(try_move(&f, ctx, type, from, 7, 0, true, &after),
			 DBNIC_AST_BAD_PARAM);
	}
	fake_free(&f);
}

void test_qp_transitions_rc(void)
{
	transitions_of(DBNIC_QPT_RC);
}

void test_qp_transitions_ud(void)
{
	transitions_of(DBNIC_QPT_UD);
}

void test_qp_transitions_gsi(void)
{
	transitions_of(DBNIC_QPT_GSI);
}

/* ---- attribute values ---------------------------------------------- */

/* One bad value at INIT -> RTR (RC) must be refused, state unchanged. */
static uint8_t rtr_with(struct hqp *q, const struct dbnic_qp_attr *a,
			uint32_t extra)
{
	uint32_t req = DBNIC_QP_ATTR_STATE | DBNIC_QP_ATTR_AV |
		       DBNIC_QP_ATTR_PATH_MTU | DBNIC_QP_ATTR_DEST_QPN |
		       DBNIC_QP_ATTR_RQ_PSN | DBNIC_QP_ATTR_MAX_DEST_RD_ATOMIC |
		       DBNIC_QP_ATTR_MIN_RNR_TIMER;

	return modify(q->f, q->qpn, req | extra, a);
}

void test_qp_attr_ranges(void)
{
	struct dbnic_qp_attr a, g;
	struct hqp q;
	struct fake f;
	uint32_t ctx;
	struct dbnic_admin_cmd cmd;

	ctx = machine(&f);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 3, false);
	CHECK_EQ(q.status, DBNIC_AST_OK);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_INIT), DBNIC_AST_OK);

#define BAD_RTR(stmt, extra)						\
	do {								\
		attr_full(&a, DBNIC_QPS_RTR, 0);			\
		stmt;							\
		CHECK_EQ(rtr_with(&q, &a, extra), DBNIC_AST_BAD_PARAM);	\
		CHECK_EQ(qp_state(&f, q.qpn), DBNIC_QPS_INIT);		\
	} while (0)

	BAD_RTR(a.path_mtu = 0, 0);
	BAD_RTR(a.path_mtu = 6, 0);
	BAD_RTR(a.max_dest_rd_atomic = DBNIC_QP_MAX_RD_ATOMIC + 1, 0);
	BAD_RTR(a.access = DBNIC_MR_LOCAL_WRITE, DBNIC_QP_ATTR_ACCESS_FLAGS);
	BAD_RTR(a.access = 0x80, DBNIC_QP_ATTR_ACCESS_FLAGS);
	BAD_RTR(a.rq_psn = 1u << 24, 0);
	BAD_RTR(a.dest_qpn = 1u << 24, 0);
	BAD_RTR(a.min_rnr_timer = 32, 0);
	BAD_RTR(a.rsvd[0] = 1, 0);
	BAD_RTR(a.rsvd1[55] = 1, 0);
	/* The address vector (11.2). */
	BAD_RTR(a.av.net = 5, 0);
	BAD_RTR(a.av.net = DBNIC_NET_IPV6, 0);	/* GID 0 is IPv4 */
	BAD_RTR(a.av.sgid_index = 1, 0);	/* IPv6 entry, IPv4 vector */
	BAD_RTR(a.av.sgid_index = 2, 0);	/* no such entry */
	BAD_RTR(a.av.sgid_index = DBNIC_GID_TBL_LEN, 0);
	BAD_RTR(a.av.dgid[10] = 0, 0);		/* not ::ffff:a.b.c.d */
	BAD_RTR(a.av.flow_label = 1u << 20, 0);
	BAD_RTR(a.av.vlan = 4095, 0);
	BAD_RTR(a.av.udp_sport = 0xbfff, 0);
	BAD_RTR(a.av.udp_sport = 0, 0);		/* RC needs one */
	BAD_RTR(a.av.rsvd[5] = 1, 0);
	/* Mask bits the device does not have (alternate path, SQD notify). */
	BAD_RTR((void)0, 1u << 14);
	BAD_RTR((void)0, 1u << 2);
	BAD_RTR((void)0, 1u << 21);
	/* The attribute block: address 0 or unaligned. */
	attr_full(&a, DBNIC_QPS_RTR, 0);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_MODIFY_QP;
	cmd.modify_qp.qpn = q.qpn;
	cmd.modify_qp.attr_mask = DBNIC_QP_ATTR_STATE;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_PARAM);
	cmd.modify_qp.attr = fake_alloc(&f, 256, 8) + 4;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_PARAM);
	cmd.modify_qp.attr = MEM_BASE + MEM_SIZE;	/* DMA fails */
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_PARAM);
	cmd.modify_qp.qpn = q.qpn + 1;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_HANDLE);

	/* The edges are fine; QUERY_QP reports every attribute as set. */
	attr_full(&a, DBNIC_QPS_RTR, 0);
	a.path_mtu = 5;
	a.av.vlan = 4094;
	a.av.flow_label = 0xfffff;
	a.av.udp_sport = 0xffff;
	a.rq_psn = 0xffffff;
	CHECK_EQ(rtr_with(&q, &a, 0), DBNIC_AST_OK);
	CHECK_EQ(query(&f, q.qpn, &g), DBNIC_AST_OK);
	CHECK_EQ(g.state, DBNIC_QPS_RTR);
	CHECK_EQ(g.path_mtu, 5);
	CHECK_EQ(g.rq_psn, 0xffffff);
	CHECK_EQ(g.dest_qpn, a.dest_qpn);
	CHECK_EQ(g.max_dest_rd_atomic, a.max_dest_rd_atomic);
	CHECK_EQ(g.min_rnr_timer, a.min_rnr_timer);
	CHECK_EQ(g.access, DBNIC_MR_REMOTE_WRITE | DBNIC_MR_REMOTE_READ);
	CHECK(!memcmp(&g.av, &a.av, sizeof(a.av)));
	CHECK(!memcmp(g.rsvd1, a.rsvd1, sizeof(g.rsvd1)));	/* zeroed */
	CHECK_EQ(g.qkey, 0);			/* never set on an RC QP */

	/* RTR -> RTS: values of its attributes, CUR_STATE's. */
	attr_full(&a, DBNIC_QPS_RTS, DBNIC_QPS_RTR);
#define RTS_REQ	(DBNIC_QP_ATTR_STATE | DBNIC_QP_ATTR_TIMEOUT |		\
		 DBNIC_QP_ATTR_RETRY_CNT | DBNIC_QP_ATTR_RNR_RETRY |	\
		 DBNIC_QP_ATTR_SQ_PSN | DBNIC_QP_ATTR_MAX_QP_RD_ATOMIC)
	a.timeout = 32;
	CHECK_EQ(modify(&f, q.qpn, RTS_REQ, &a), DBNIC_AST_BAD_PARAM);
	a.timeout = 31;
	a.retry_cnt = 8;
	CHECK_EQ(modify(&f, q.qpn, RTS_REQ, &a), DBNIC_AST_BAD_PARAM);
	a.retry_cnt = 7;
	a.rnr_retry = 8;
	CHECK_EQ(modify(&f, q.qpn, RTS_REQ, &a), DBNIC_AST_BAD_PARAM);
	a.rnr_retry = 0;
	a.max_rd_atomic = DBNIC_QP_MAX_RD_ATOMIC + 1;
	CHECK_EQ(modify(&f, q.qpn, RTS_REQ, &a), DBNIC_AST_BAD_PARAM);
	a.max_rd_atomic = 1;
	a.sq_psn = 1u << 24;
	CHECK_EQ(modify(&f, q.qpn, RTS_REQ, &a), DBNIC_AST_BAD_PARAM);
	a.sq_psn = 0;
	a.cur_state = DBNIC_QPS_INIT;	/* not the QP's state */
	CHECK_EQ(modify(&f, q.qpn, RTS_REQ | DBNIC_QP_ATTR_CUR_STATE, &a),
		 DBNIC_AST_BAD_PARAM);
	CHECK_EQ(qp_state(&f, q.qpn), DBNIC_QPS_RTR);
	a.cur_state = DBNIC_QPS_RTR;
	CHECK_EQ(modify(&f, q.qpn, RTS_REQ | DBNIC_QP_ATTR_CUR_STATE, &a),
		 DBNIC_AST_OK);
	CHECK_EQ(query(&f, q.qpn, &g), DBNIC_AST_OK);
	CHECK_EQ(g.state, DBNIC_QPS_RTS);
	CHECK_EQ(g.timeout, 31);
	CHECK_EQ(g.max_rd_atomic, 1);
	/* QUERY_QP's address. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_QUERY_QP;
	cmd.modify_qp.qpn = q.qpn;
	cmd.modify_qp.attr = fake_alloc(&f, 256, 8) + 4;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_PARAM);
#undef BAD_RTR
#undef RTS_REQ
	fake_free(&f);
}

/* ---- CREATE_QP ----------------------------------------------------- */

void test_qp_create_refusals(void)
{
	struct fake f;
	struct hqp q, g;
	struct hq plain;
	uint32_t kctx, uctx, octx, cq16, cqo, cqn;
	uint64_t base = 0;
	uint8_t st;
	struct dbnic_admin_cmd cmd;

	kctx = machine(&f);
	uctx = create_ctx(&f, false);
	octx = create_ctx(&f, false);
	qp_make(&f, &q, uctx, DBNIC_QPT_RC, 1, true);
	CHECK_EQ(q.status, DBNIC_AST_OK);
	CHECK(q.qpn >= 4096);
	CHECK(dbnic_core_ctrl_read(&f.core, DBNIC_REG_STATUS, 4) &
	      DBNIC_STATUS_READY);

	/* A 16-byte CQ, and CQs of another context. */
	hq_on_ctx(&f, &plain, uctx, 3, 6);
	cq16 = plain.cqn;
	cqo = cq32_create(&f, octx, 4, DBNIC_CQ_NO_VECTOR, &base, &st);
	CHECK_EQ(st, DBNIC_AST_OK);
	CHECK_EQ(create_qp_cmd(&q, cq16, q.rcqn), DBNIC_AST_BAD_PARAM);
	CHECK_EQ(create_qp_cmd(&q, q.scqn, cq16), DBNIC_AST_BAD_PARAM);
	CHECK_EQ(create_qp_cmd(&q, cqo, q.rcqn), DBNIC_AST_BAD_PARAM);
	CHECK_EQ(create_qp_cmd(&q, q.scqn, cqo), DBNIC_AST_BAD_PARAM);
	CHECK_EQ(create_qp_cmd(&q, q.scqn, 7), DBNIC_AST_BAD_HANDLE);
	/* The type; the GSI QP is the kernel's, and there is one. */
	q.type = 0;
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_BAD_PARAM);
	q.type = 4;
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_BAD_PARAM);
	q.type = DBNIC_QPT_GSI;
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_BAD_PARAM);
	qp_make(&f, &g, kctx, DBNIC_QPT_GSI, 0, false);
	CHECK_EQ(g.status, DBNIC_AST_OK);
	CHECK_EQ(g.qpn, DBNIC_GSI_QPN);
	CHECK_EQ(create_qp_cmd(&g, g.scqn, g.rcqn), DBNIC_AST_BUSY);
	CHECK_EQ(qp_state(&f, DBNIC_GSI_QPN), DBNIC_QPS_RESET);
	/* Rings. */
	q.type = DBNIC_QPT_UD;
	q.log_size = 13;
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_BAD_PARAM);
	q.log_size = 4;
	q.rq_base += 8;
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_BAD_PARAM);
	q.rq_base = 0;
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_BAD_PARAM);
	q.rq_base = ~0ull - 63;		/* wraps */
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_BAD_PARAM);
	q.rq_base = fake_alloc(&f, 4096, 4096);
	q.sq_base = 0;
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_BAD_PARAM);
	q.sq_base = fake_alloc(&f, 4096, 4096);
	q.ctx = 99;
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_BAD_HANDLE);
	q.ctx = uctx;
	memset(&cmd, 0, sizeof(cmd));
	CHECK_EQ(create_qp_cmd(&q, q.scqn, q.rcqn), DBNIC_AST_OK);

	/* One CQE size per CQ: a plain queue refuses a 32-byte CQ. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_SQ;
	cmd.create_sq.base = fake_alloc(&f, 4096, 4096);
	cmd.create_sq.ctx = uctx;
	cmd.create_sq.cqn = q.scqn;
	cmd.create_sq.log_size = 3;
	cmd.create_sq.log_stride = 6;
	CHECK_EQ(admin(&f, &cmd, &cqn), DBNIC_AST_BAD_PARAM);
	cmd.opcode = DBNIC_ADM_CREATE_RQ;
	cmd.create_sq.ctx = kctx;
	cmd.create_sq.cqn = g.scqn;
	CHECK_EQ(admin(&f, &cmd, &cqn), DBNIC_AST_BAD_PARAM);
	/* log_cqe other than 0, 4, 5; a CQ_EVENT CQ needs the EQ. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_CQ;
	cmd.create_cq.base = fake_alloc(&f, 4096, 4096);
	cmd.create_cq.ctx = uctx;
	cmd.create_cq.log_size = 3;
	cmd.create_cq.log_cqe = 6;
	CHECK_EQ(admin(&f, &cmd, &cqn), DBNIC_AST_BAD_PARAM);
	cmd.create_cq.log_cqe = 5;
	cmd.create_cq.base += 16;	/* not 32-byte aligned */
	CHECK_EQ(admin(&f, &cmd, &cqn), DBNIC_AST_BAD_PARAM);
	cmd.create_cq.base -= 16;
	cmd.create_cq.msix_vector = DBNIC_CQ_EVENT;
	CHECK_EQ(admin(&f, &cmd, &cqn), DBNIC_AST_BAD_PARAM);
	/* The QP's objects are held: DESTROY_SQ, DESTROY_CQ refuse. */
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_SQ, q.qid), DBNIC_AST_BUSY);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CQ, q.rcqn), DBNIC_AST_BUSY);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CQ, q.scqn), DBNIC_AST_BUSY);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_QP, q.qpn), DBNIC_AST_OK);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CQ, q.scqn), DBNIC_AST_BUSY);
	fake_free(&f);
}

void test_qp_no_resource(void)
{
	struct fake f;
	struct hqp q[9];
	uint32_t ctx;
	unsigned int i;

	harness_max_sq = 16;	/* so that QPs run out first */
	ctx = machine(&f);
	for (i = 0; i < 8; i++) {
		qp_make(&f, &q[i], ctx, DBNIC_QPT_UD, 1, false);
		CHECK_EQ(q[i].status, DBNIC_AST_OK);
	}
	/* max_qp 8 in use; send queues are left. */
	q[8] = q[0];
	CHECK_EQ(create_qp_cmd(&q[8], q[0].scqn, q[0].rcqn),
		 DBNIC_AST_NO_RESOURCE);
	fake_free(&f);
}

/* ---- ERR, RESET, DESTROY ------------------------------------------- */

void test_qp_err_flush_order(void)
{
	struct fake f;
	struct hqp q;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	struct dbnic_qp_attr a;
	struct dbnic_eqe ev;
	uint32_t ctx;
	unsigned int i;

	harness_eq_log = 5;
	ctx = machine(&f);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	while (eq_poll(&f, &ev))
		;
	/* Three RECVs; then three WQEs and a priority copy the engine has not run. */
	for (i = 0; i < 3; i++)
		recv_post_qp(&q, fake_alloc(&f, 64, 64), 64);
	engine_pending(&f);
	for (i = 0; i < 3; i++) {
		wqe_inline(&d, &q, 8);
		post(&q, &d);
	}
	wqe_inline(&d, &q, 16);
	post_prio_qp(&q, &d);
	/* MODIFY_QP runs before the engine gets to them (admin first). */
	attr_full(&a, DBNIC_QPS_ERR, 0);
	CHECK_EQ(modify(&f, q.qpn, DBNIC_QP_ATTR_STATE, &a), DBNIC_AST_OK);
	for (i = 0; i < 4; i++) {
		CHECK(scq_poll(&q, &e));
		CHECK_EQ(e.index, i);
		CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
		CHECK_EQ(e.vendor_err, DBNIC_ST_FLUSHED);
		CHECK_EQ(e.qpn, q.qpn);
		CHECK_EQ(e.qid, q.qid);
		CHECK_EQ(e.cq_flags, 0);
		CHECK_EQ(!!(e.flags & DBNIC_CQE_F_PRIO), i == 3);
		CHECK(e.flags & DBNIC_CQE_F_RDMA);
	}
	for (i = 0; i < 3; i++) {
		CHECK(scq_poll(&q, &e));
		CHECK_EQ(e.index, i);
		CHECK_EQ(e.cq_flags, DBNIC_RCQE_F_RECV);
		CHECK_EQ(e.opcode, DBNIC_WC_RECV);
		CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
		CHECK_EQ(e.head, i + 1);
	}
	CHECK(!scq_poll(&q, &e));
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);	/* none was read */
	/* Posts after the move flush too. */
	wqe_inline(&d, &q, 8);
	post(&q, &d);
	fake_run(&f);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.index, 4);
	CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
	CHECK_EQ(e.cq_flags, 0);
	recv_post_qp(&q, fake_alloc(&f, 64, 64), 64);
	fake_run(&f);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.index, 3);
	CHECK_EQ(e.cq_flags, DBNIC_RCQE_F_RECV);
	CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
	CHECK(!scq_poll(&q, &e));
	/* Asked for: no QP_ERR event, no ROCE_QP_ERR. */
	CHECK(!eq_poll(&f, &ev));
	CHECK_EQ(counter(&f, DBNIC_CNT_ROCE_QP_ERR), 0);
	fake_free(&f);
}

void test_qp_reset_discards(void)
{
	struct fake f;
	struct hqp q;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	struct dbnic_qp_attr a;
	uint32_t ctx;
	unsigned int i;

	ctx = machine(&f);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	for (i = 0; i < 2; i++)
		recv_post_qp(&q, fake_alloc(&f, 64, 64), 64);
	engine_pending(&f);
	for (i = 0; i < 3; i++) {
		wqe_inline(&d, &q, 8);
		post(&q, &d);
	}
	attr_full(&a, DBNIC_QPS_RESET, 0);
	CHECK_EQ(modify(&f, q.qpn, DBNIC_QP_ATTR_STATE, &a), DBNIC_AST_OK);
	fake_run(&f);
	CHECK(!scq_poll(&q, &e));	/* discarded, no completions */
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);
	CHECK_EQ(query(&f, q.qpn, &a), DBNIC_AST_OK);
	CHECK_EQ(a.state, DBNIC_QPS_RESET);
	CHECK_EQ(a.sq_psn, 0);
	CHECK_EQ(a.path_mtu, 0);
	CHECK_EQ(a.av.net, 0);
	/* Indices go on from where they were, on both rings. */
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	wqe_inline(&d, &q, 8);
	post(&q, &d);
	fake_run(&f);
	peer_ack(&f, q.qpn);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.index, 3);
	CHECK_EQ(e.head, 4);
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	recv_post_qp(&q, fake_alloc(&f, 64, 64), 64);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 0);
	attr_full(&a, DBNIC_QPS_ERR, 0);
	CHECK_EQ(modify(&f, q.qpn, DBNIC_QP_ATTR_STATE, &a), DBNIC_AST_OK);
	CHECK(scq_poll(&q, &e));	/* only the RECV posted since */
	CHECK_EQ(e.index, 2);
	CHECK_EQ(e.cq_flags, DBNIC_RCQE_F_RECV);
	CHECK(!scq_poll(&q, &e));
	fake_free(&f);
}

void test_qp_destroy_generation(void)
{
	struct fake f;
	struct hqp q, r, s;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	struct dbnic_qp_attr a;
	uint32_t ctx, idx;

	ctx = machine(&f);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	idx = DBNIC_GET(q.qpn, DBNIC_QPN_INDEX);
	CHECK_EQ(DBNIC_GET(q.qpn, DBNIC_QPN_GEN), 1);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	/* Work posted is discarded without completions, in any state. */
	recv_post_qp(&q, fake_alloc(&f, 64, 64), 64);
	engine_pending(&f);
	wqe_inline(&d, &q, 8);
	post(&q, &d);
	CHECK_EQ(qp_destroy(&q), DBNIC_AST_OK);
	fake_run(&f);
	CHECK(!scq_poll(&q, &e));
	/* The stale QPN names nothing; its send queue is gone. */
	attr_full(&a, DBNIC_QPS_INIT, 0);
	CHECK_EQ(modify(&f, q.qpn, DBNIC_QP_ATTR_STATE, &a),
		 DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(query(&f, q.qpn, &a), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(qp_destroy(&q), DBNIC_AST_BAD_HANDLE);
	sq_db(&q, 5);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 1);
	/* The entry again, with the next generation: a new QPN. */
	qp_make(&f, &r, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(DBNIC_GET(r.qpn, DBNIC_QPN_INDEX), idx);
	CHECK_EQ(DBNIC_GET(r.qpn, DBNIC_QPN_GEN), 2);
	CHECK_EQ(query(&f, q.qpn, &a), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(query(&f, r.qpn, &a), DBNIC_AST_OK);
	/* A spent generation (4095) retires the entry until reset. */
	CHECK_EQ(qp_destroy(&r), DBNIC_AST_OK);
	f.core.qp[idx].gen = 4094;
	qp_make(&f, &r, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(r.qpn, DBNIC_SET(DBNIC_QPN_GEN, 4095) |
		 DBNIC_SET(DBNIC_QPN_INDEX, idx));
	CHECK_EQ(qp_destroy(&r), DBNIC_AST_OK);
	qp_make(&f, &s, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(s.status, DBNIC_AST_OK);
	CHECK(DBNIC_GET(s.qpn, DBNIC_QPN_INDEX) != idx);
	CHECK(DBNIC_GET(s.qpn, DBNIC_QPN_GEN) >= 1);
	/* Reset brings every entry back, generations from 1. */
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_CTRL, DBNIC_CTRL_RESET, 4);
	CHECK_EQ(f.core.qp[idx].retired, false);
	CHECK_EQ(f.core.qp[idx].gen, 0);
	fake_free(&f);
}

void test_qp_destroy_ctx_cleanup(void)
{
	struct fake f;
	struct hqp q, g, o;
	struct dbnic_admin_cmd cmd;
	struct dbnic_qp_attr a;
	uint32_t kctx, uctx, ah;

	kctx = machine(&f);
	uctx = create_ctx(&f, false);
	qp_make(&f, &q, uctx, DBNIC_QPT_RC, 1, false);
	qp_make(&f, &o, kctx, DBNIC_QPT_UD, 2, false);
	qp_make(&f, &g, kctx, DBNIC_QPT_GSI, 0, false);
	CHECK_EQ(g.status, DBNIC_AST_OK);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_AH;
	cmd.create_ah.ctx = uctx;
	cmd.create_ah.pd = 1;
	av_v4(&cmd.create_ah.av);
	CHECK_EQ(admin(&f, &cmd, &ah), DBNIC_AST_OK);
	/* The process's context goes: its QP, send queue, AH, CQs. */
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CTX, uctx), DBNIC_AST_OK);
	CHECK_EQ(query(&f, q.qpn, &a), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_AH, ah), DBNIC_AST_BAD_HANDLE);
	CHECK(!f.core.sq[q.qid].in_use);
	CHECK(!f.core.cq[q.scqn].in_use);
	/* The kernel's are untouched. */
	CHECK_EQ(qp_state(&f, o.qpn), DBNIC_QPS_RESET);
	CHECK_EQ(qp_state(&f, DBNIC_GSI_QPN), DBNIC_QPS_RESET);
	/* The kernel's context goes: the GSI QP may be made again. */
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CTX, kctx), DBNIC_AST_OK);
	CHECK_EQ(query(&f, DBNIC_GSI_QPN, &a), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(query(&f, o.qpn, &a), DBNIC_AST_BAD_HANDLE);
	kctx = create_ctx(&f, true);
	qp_make(&f, &g, kctx, DBNIC_QPT_GSI, 0, false);
	CHECK_EQ(g.status, DBNIC_AST_OK);
	CHECK_EQ(g.qpn, DBNIC_GSI_QPN);
	fake_free(&f);
}

/* ---- the 32-byte CQE ----------------------------------------------- */

static uint64_t wr_addr[16];
static size_t wr_len[16];
static unsigned int wr_n;
static uint64_t wr_lo, wr_hi;

static void record_write(struct fake *f, uint64_t addr, size_t len)
{
	if (addr >= wr_lo && addr < wr_hi && wr_n < 16) {
		wr_addr[wr_n] = addr;
		wr_len[wr_n++] = len;
	}
}

void test_rdma_cqe_layout(void)
{
	struct fake f;
	struct hqp q;
	struct dbnic_desc d;
	uint32_t ctx;
	const uint8_t *raw;
	unsigned int i;

	ctx = machine(&f);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	wr_n = 0;
	wr_lo = q.scq_base;
	wr_hi = q.scq_base + (32u << QP_CQ_LOG);
	f.after_write = record_write;
	wqe_inline(&d, &q, 8);
	post(&q, &d);
	fake_run(&f);
	peer_ack(&f, q.qpn);
	f.after_write = NULL;
	/* Sent and acknowledged: a success, no error counted. */
	CHECK_EQ(counter(&f, DBNIC_CNT_DESC_ERROR), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_COMPLETIONS), 1);
	/* Bytes 0-27, then 28-31: a host that sees the phase sees it all. */
	CHECK_EQ(wr_n, 2);
	CHECK_EQ(wr_addr[0], q.scq_base);
	CHECK_EQ(wr_len[0], 28);
	CHECK_EQ(wr_addr[1], q.scq_base + 28);
	CHECK_EQ(wr_len[1], 4);
	raw = gpa(&f, q.scq_base);
	CHECK_EQ(raw[0] | raw[1] << 8 | raw[2] << 16 | raw[3] << 24, 8);
	CHECK_EQ(raw[4] | raw[5] << 8, 0);			/* index */
	CHECK_EQ(raw[6] | raw[7] << 8, q.qid);			/* qid */
	CHECK_EQ(raw[8] | raw[9] << 8 | raw[10] << 16 | raw[11] << 24, q.qpn);
	CHECK_EQ(raw[20] | raw[21] << 8, 1);			/* head */
	CHECK_EQ(raw[24], DBNIC_WC_SEND);			/* opcode */
	CHECK_EQ(raw[26], 0);					/* vendor */
	CHECK_EQ(raw[28], DBNIC_WC_SUCCESS);			/* status */
	CHECK_EQ(raw[30], 0);					/* cq_flags */
	CHECK_EQ(raw[31], DBNIC_CQE_F_PHASE | DBNIC_CQE_F_RDMA);
	for (i = 12; i < 20; i++)
		CHECK_EQ(raw[i], 0);
	/* The phase flips on the ring's second pass, at 32-byte slots. */
	for (i = 1; i < (1u << QP_CQ_LOG) + 1; i++) {
		struct dbnic_rdma_cqe e;

		if (i == (1u << QP_CQ_LOG)) {
			/* The host consumed the first pass. */
			while (scq_poll(&q, &e))
				;
		}
		wqe_inline(&d, &q, 8);
		post(&q, &d);
		fake_run(&f);
		peer_ack(&f, q.qpn);
	}
	raw = gpa(&f, q.scq_base);
	CHECK_EQ(raw[4] | raw[5] << 8, 1u << QP_CQ_LOG);	/* index 32 */
	CHECK_EQ(raw[31], DBNIC_CQE_F_RDMA);			/* phase 0 */
	fake_free(&f);
}

/* ---- CQ_COMP -------------------------------------------------------- */

/* A plain queue on a CQ_EVENT CQ: 16-byte CQEs, NOPs complete at once. */
static void hq_event(struct fake *f, struct hq *q, uint32_t ctx)
{
	harness_cq_vector = DBNIC_CQ_EVENT;
	hq_on_ctx(f, q, ctx, 4, 6);
	harness_cq_vector = 0;
}

static void nop(struct hq *q)
{
	struct dbnic_desc d;

	desc_nop(&d, q, 0);
	post_ring(q, &d);
	fake_run(q->f);
}

static unsigned int comp_events(struct fake *f, uint32_t cqn)
{
	struct dbnic_eqe e;
	unsigned int n = 0;

	while (eq_poll(f, &e)) {
		if (e.type == DBNIC_AERR_CQ_COMP && e.object == cqn)
			n++;
	}
	return n;
}

void test_cq_comp_coalesced(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_cqe cqe;
	struct dbnic_eqe e;
	uint32_t ctx;
	unsigned int irqs0;

	harness_eq_log = 4;
	fake_init(&f);
	ctx = create_ctx(&f, false);
	hq_event(&f, &q, ctx);
	irqs0 = f.irqs[0];
	/* Not armed: no event. */
	nop(&q);
	CHECK_EQ(comp_events(&f, q.cqn), 0);
	/* ARM with a CQE past the consumer index: an event at once. */
	cq_arm(&q);
	fake_run(&f);
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_CQ_COMP);
	CHECK_EQ(e.object, q.cqn);
	CHECK_EQ(e.ctx, ctx);
	CHECK_EQ(e.data, 0);
	CHECK(!eq_poll(&f, &e));
	CHECK(cq_poll(&q, &cqe));
	/* ARM with none: the event comes with the next CQE. */
	cq_arm(&q);
	fake_run(&f);
	CHECK(!eq_poll(&f, &e));
	nop(&q);
	CHECK(cq_poll(&q, &cqe));
	/* Not consumed: it stays the CQ's one entry in the EQ ... */
	cq_arm(&q);
	nop(&q);
	CHECK(cq_poll(&q, &cqe));
	cq_arm(&q);
	nop(&q);
	CHECK_EQ(f.core.eq_pi - f.eq_ci, 1);
	/* ... and once EQ_CI passes it, the arm it kept is answered. */
	CHECK_EQ(comp_events(&f, q.cqn), 1);
	fake_run(&f);
	CHECK_EQ(comp_events(&f, q.cqn), 1);
	CHECK_EQ(comp_events(&f, q.cqn), 0);
	/* No interrupt for the CQ; vector 0 only for the event entries. */
	CHECK_EQ(f.irqs[DBNIC_CQ_EVENT & 0xff], 0);
	CHECK(f.irqs[0] > irqs0);
	CHECK_EQ(counter(&f, DBNIC_CNT_EVENTS_LOST), 0);
	fake_free(&f);
}

void test_cq_comp_never_dropped(void)
{
	struct fake f;
	struct hq q, other;
	struct dbnic_eqe e;
	uint32_t ctx;

	harness_eq_log = 2;	/* 4 entries: 3 events and the overflow one */
	fake_init(&f);
	ctx = create_ctx(&f, false);
	hq_event(&f, &q, ctx);
	hq_create(&f, &other, false, 3, 6);
	/* Fill the EQ with the page's three doorbell errors. */
	ring_doorbell(&(struct hq){ .f = &f, .ctx = ctx, .qid = other.qid }, 1);
	ring_doorbell(&(struct hq){ .f = &f, .ctx = ctx, .qid = 7 }, 1);
	dbnic_core_db_write(&f.core, ((uint64_t)ctx << DBNIC_DB_PAGE_SHIFT) +
			    0x40, 0, 4);
	fake_run(&f);
	CHECK_EQ(f.core.eq_pi, 3);
	/* The CQ's event finds no room: it waits, it is not lost. */
	cq_arm(&q);
	nop(&q);
	fake_run(&f);
	CHECK_EQ(f.core.eq_pi, 3);
	CHECK_EQ(counter(&f, DBNIC_CNT_EVENTS_LOST), 0);
	/* The host frees one entry: the event is written. */
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_DB_NOT_OWNER);
	fake_run(&f);
	CHECK_EQ(f.core.eq_pi, 4);
	CHECK(eq_poll(&f, &e));
	CHECK(eq_poll(&f, &e));
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_CQ_COMP);
	CHECK_EQ(e.object, q.cqn);
	CHECK_EQ(counter(&f, DBNIC_CNT_EVENTS_LOST), 0);
	fake_free(&f);
}

/* ---- DB_QP_RQ ------------------------------------------------------- */

void test_db_qp_rq_refusals(void)
{
	struct fake f;
	struct hqp q;
	struct hq plain;
	struct dbnic_rdma_cqe e;
	struct dbnic_qp_attr a;
	uint32_t ctx, other;
	unsigned int n = 0;

	ctx = machine(&f);
	other = create_ctx(&f, false);
	qp_make(&f, &q, ctx, DBNIC_QPT_UD, 1, true);
	hq_on_ctx(&f, &plain, ctx, 3, 6);
	recv_post_qp(&q, fake_alloc(&f, 64, 64), 64);	/* accepted: 1 */
	/* Another context's page: refused, counted, the owner's untouched. */
	rq_db_val(&f, other, dbnic_db_qp_rq_val(q.qid, 2));
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_NOT_OWNER), 1);
	/* A send queue that is not a QP's; no queue at all. */
	rq_db_val(&f, ctx, dbnic_db_qp_rq_val(plain.qid, 1));
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 1);
	rq_db_val(&f, ctx, dbnic_db_qp_rq_val(7, 1));
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 2);
	/* Past the ring (16 entries), and backwards: ignored, counted. */
	rq_db_val(&f, ctx, dbnic_db_qp_rq_val(q.qid, 18));
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 3);
	rq_db_val(&f, ctx, dbnic_db_qp_rq_val(q.qid, 0));
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 4);
	/* A full ring is fine. */
	rq_db_val(&f, ctx, dbnic_db_qp_rq_val(q.qid, 16));
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 4);
	/* The QP's receive ring saw 16 posts, no more: ERR flushes 16. */
	attr_full(&a, DBNIC_QPS_ERR, 0);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_INIT), DBNIC_AST_OK);
	CHECK_EQ(modify(&f, q.qpn, DBNIC_QP_ATTR_STATE, &a), DBNIC_AST_OK);
	CHECK(!scq_poll(&q, &e));	/* receives go to the receive CQ */
	while (rcq_poll(&q, &e)) {
		CHECK_EQ(e.cq_flags, DBNIC_RCQE_F_RECV);
		CHECK_EQ(e.index, n);
		n++;
	}
	CHECK_EQ(n, 16);
	fake_free(&f);
}

/* ---- the in-order priority rule ------------------------------------ */

void test_qp_prio_in_order(void)
{
	struct fake f;
	struct hqp q;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	uint32_t ctx;
	uint64_t fetch, skip;
	unsigned int i;

	ctx = machine(&f);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	/* Three ring WQEs the engine has not started, then a copy of 3. */
	engine_pending(&f);
	for (i = 0; i < 3; i++) {
		wqe_inline(&d, &q, 8);
		sq_put(&q, &d, q.sq_pi++);
	}
	sq_db(&q, q.sq_pi);
	wqe_inline(&d, &q, 16);
	post_prio_qp(&q, &d);
	fake_run(&f);
	peer_ack(&f, q.qpn);
	/* IB order: 0, 1, 2 from the ring, then 3 without a ring read. */
	for (i = 0; i < 4; i++) {
		CHECK(scq_poll(&q, &e));
		CHECK_EQ(e.index, i);
		CHECK_EQ(!!(e.flags & DBNIC_CQE_F_PRIO), i == 3);
	}
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 3);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_SKIP), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 1);

	/*
	 * An idle QP: the copy runs at once, inside the priority write (its
	 * packet leaves; the CQE waits for the ACK).
	 */
	fetch = counter(&f, DBNIC_CNT_RING_FETCH);
	skip = counter(&f, DBNIC_CNT_RING_SKIP);
	i = f.tx_frames;
	wqe_inline(&d, &q, 16);
	post_prio_qp(&q, &d);
	if (!harness_legacy)
		CHECK_EQ(f.tx_frames, i + 1);	/* before any engine run */
	fake_run(&f);
	peer_ack(&f, q.qpn);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.index, 4);
	CHECK(e.flags & DBNIC_CQE_F_PRIO);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), fetch);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_SKIP), skip + 1);
	fake_free(&f);
}

/* The same under the timing model: the copy still waits its turn. */
void test_qp_prio_in_order_timed(void)
{
	struct fake f;
	struct hqp q;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	uint32_t ctx;
	unsigned int i;

	harness_dma_latency_ns = 500;
	harness_db_latency_ns = 250;
	harness_desc_ns = 100;
	ctx = machine(&f);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	for (i = 0; i < 2; i++) {
		wqe_inline(&d, &q, 8);
		sq_put(&q, &d, q.sq_pi++);
	}
	sq_db(&q, q.sq_pi);
	wqe_inline(&d, &q, 16);
	post_prio_qp(&q, &d);
	for (i = 0; i < 50; i++) {
		fake_advance(&f, 100);
		fake_run(&f);
	}
	peer_ack(&f, q.qpn);
	for (i = 0; i < 3; i++) {
		CHECK(scq_poll(&q, &e));
		CHECK_EQ(e.index, i);
	}
	fake_free(&f);
}

/* ---- the checks of send WQEs (11.4) -------------------------------- */

/*
 * A fresh QP of type in RTS on ctx, pd 1; the WQE built by 'build';
 * the CQE it gets in *e, the QP's state after in *state.
 */
struct wqe_case {
	struct fake *f;
	uint32_t ctx;
	uint8_t type;
	uint8_t to;	/* state to walk to, RTS by default */
};

static bool run_wqe(struct wqe_case *wc, struct dbnic_desc *d,
		    struct dbnic_rdma_cqe *e, uint8_t *state, struct hqp *out)
{
	struct hqp q;

	qp_make(wc->f, &q, wc->ctx, wc->type, 1, false);
	if (q.status || qp_walk(&q, wc->to ? wc->to : DBNIC_QPS_RTS))
		return false;
	d->hdr.qid = q.qid;
	post(&q, d);
	fake_run(wc->f);
	if (!scq_poll(&q, e)) {
		peer_ack(wc->f, q.qpn);
		if (!scq_poll(&q, e))
			return false;
	}
	*state = qp_state(wc->f, q.qpn);
	if (out)
		*out = q;
	else
		qp_drop(&q);
	return true;
}

void test_qp_wqe_checks(void)
{
	struct fake f;
	struct wqe_case wc;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	struct dbnic_eqe ev;
	struct hqp q;
	uint64_t page, buf, faults;
	uint32_t kctx, ctx, k1, k2, ko, kro, len = 64, key, ah;
	uint8_t st;
	struct dbnic_admin_cmd cmd;

	harness_eq_log = 5;
	kctx = machine(&f);
	ctx = create_ctx(&f, false);
	page = fake_alloc(&f, 4096, 4096);
	buf = page + 128;
	/* k1: pd 1 (the QP's), k2: pd 2, ko: another context's, kro: no LW. */
	{
		struct dbnic_admin_cmd m;
		uint64_t list = fake_alloc(&f, 8, 8);

		memcpy(gpa(&f, list), &page, 8);
		memset(&m, 0, sizeof(m));
		m.opcode = DBNIC_ADM_REG_MR;
		m.reg_mr.iova = page;
		m.reg_mr.length = 4096;
		m.reg_mr.pages = list;
		m.reg_mr.ctx = ctx;
		m.reg_mr.npages = 1;
		m.reg_mr.page_shift = 12;
		m.reg_mr.access = DBNIC_MR_LOCAL_WRITE;
		m.reg_mr.pd = 1;
		CHECK_EQ(admin(&f, &m, &k1), DBNIC_AST_OK);
		m.reg_mr.pd = 2;
		CHECK_EQ(admin(&f, &m, &k2), DBNIC_AST_OK);
		m.reg_mr.access = 0;
		m.reg_mr.pd = 1;
		CHECK_EQ(admin(&f, &m, &kro), DBNIC_AST_OK);
		m.reg_mr.ctx = kctx;
		CHECK_EQ(admin(&f, &m, &ko), DBNIC_AST_OK);
	}
	wc = (struct wqe_case){ .f = &f, .ctx = ctx, .type = DBNIC_QPT_RC };

#define EXPECT(wcs, vend, fatal)					\
	do {								\
		CHECK(run_wqe(&wc, &d, &e, &st, NULL));			\
		CHECK_EQ(e.status, wcs);				\
		CHECK_EQ(e.vendor_err, vend);				\
		CHECK_EQ(st, (fatal) ? DBNIC_QPS_ERR : (wc.to ? wc.to :	\
			 DBNIC_QPS_RTS));				\
	} while (0)

	/* Valid: sent, and complete when the peer answers. */
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &len, &k1, 1);
	EXPECT(DBNIC_WC_SUCCESS, 0, false);
	CHECK_EQ(e.opcode, DBNIC_WC_SEND);
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_RDMA_READ, &buf, &len, &k1, 1);
	EXPECT(DBNIC_WC_SUCCESS, 0, false);
	CHECK_EQ(e.opcode, DBNIC_WC_RDMA_READ);
	wqe_inline(&d, &(struct hqp){ 0 }, DBNIC_RDMA_MAX_INLINE);
	EXPECT(DBNIC_WC_SUCCESS, 0, false);
	/* Section 5: another opcode on a QP's send queue. */
	desc_nop(&d, &(struct hq){ 0 }, 0);
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_OPCODE, true);
	/* 1. Shape. */
	wqe_inline(&d, &(struct hqp){ 0 }, 8);
	d.hdr.flags |= 1u << 3;
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_DESC, true);
	wqe_inline(&d, &(struct hqp){ 0 }, 8);
	d.hdr.imm = 1;			/* SEND has no immediate */
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_DESC, true);
	wqe_inline(&d, &(struct hqp){ 0 }, 8);
	dbnic_rdma_seg_of(&d)->rsvd = 1;
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_DESC, true);
	wqe_inline(&d, &(struct hqp){ 0 }, DBNIC_RDMA_MAX_INLINE + 1);
	d.hdr.size = 4;
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_DESC, true);
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &len, &k1, 1);
	dbnic_rdma_seg_of(&d)->inline_len = 8;	/* and an SGE */
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_DESC, true);
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &len, &k1, 1);
	d.hdr.nsge |= DBNIC_SET(DBNIC_NSGE_DST, 1);	/* SEND scatters? */
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_DESC, true);
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &len, &k1, 1);
	d.hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, 15);
	d.hdr.size = 4;
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_DESC, true);
	{
		uint64_t b4[4] = { buf, buf, buf, buf };
		uint32_t l4[4] = { 8, 8, 8, 8 }, k4[4] = { k1, k1, k1, k1 };

		wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, b4, l4, k4, 4);
	}
	d.hdr.size = 1;			/* 4 SGEs need 2 blocks */
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_DESC, true);
	/* 2. The opcode for the type: UD sends only. */
	wc.type = DBNIC_QPT_UD;
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_RDMA_WRITE, &buf, &len, &k1,
		 1);
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_OPCODE, true);
	/* 3. Length: UD at most 4096, no zero-length SGE. */
	{
		uint32_t big = 4097;

		wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &big,
			 NULL, 1);
		EXPECT(DBNIC_WC_LOC_LEN_ERR, DBNIC_ST_BAD_LENGTH, true);
	}
	wc.type = DBNIC_QPT_RC;
	{
		uint32_t zero = 0, huge[2] = { DBNIC_MAX_XFER, 1 };
		uint64_t two[2] = { buf, buf };

		wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &zero,
			 &k1, 1);
		EXPECT(DBNIC_WC_LOC_LEN_ERR, DBNIC_ST_BAD_LENGTH, true);
		wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, two, huge,
			 NULL, 2);
		EXPECT(DBNIC_WC_LOC_LEN_ERR, DBNIC_ST_BAD_LENGTH, true);
	}
	/* 4. Keys: of the QP's context and pd; READ scatters need LW. */
	faults = counter(&f, DBNIC_CNT_ACCESS_FAULT);
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &len, &k2, 1);
	EXPECT(DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS, true);
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &len, &ko, 1);
	EXPECT(DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS, true);
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_RDMA_READ, &buf, &len, &kro,
		 1);
	EXPECT(DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS, true);
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &len, NULL, 1);
	EXPECT(DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS, true); /* key 0 */
	CHECK_EQ(counter(&f, DBNIC_CNT_ACCESS_FAULT), faults + 4);
	/* The kernel's context may use DMA addresses (4.1). */
	wc.ctx = kctx;
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &len, NULL, 1);
	EXPECT(DBNIC_WC_SUCCESS, 0, false);
	wqe_send(&d, &(struct hqp){ 0 }, DBNIC_OP_SEND, &buf, &len, &k1, 1);
	EXPECT(DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS, true);
	wc.ctx = ctx;
	/* The AH of a UD WQE: of the QP's context and pd. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_AH;
	cmd.create_ah.ctx = ctx;
	cmd.create_ah.pd = 2;
	av_v4(&cmd.create_ah.av);
	CHECK_EQ(admin(&f, &cmd, &key), DBNIC_AST_OK);
	cmd.create_ah.pd = 1;
	CHECK_EQ(admin(&f, &cmd, &ah), DBNIC_AST_OK);
	wc.type = DBNIC_QPT_UD;
	wqe_inline(&d, &(struct hqp){ 0 }, 8);
	dbnic_rdma_seg_of(&d)->ah = key;
	EXPECT(DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS, true);
	wqe_inline(&d, &(struct hqp){ 0 }, 8);
	dbnic_rdma_seg_of(&d)->ah = ah + 1;	/* no such handle */
	EXPECT(DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS, true);
	wqe_inline(&d, &(struct hqp){ 0 }, 8);
	dbnic_rdma_seg_of(&d)->ah = ah;
	EXPECT(DBNIC_WC_SUCCESS, 0, false);
	/* 5. Not in RTS: LOC_QP_OP_ERR, and the QP stays where it is. */
	wc.to = DBNIC_QPS_RTR;
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, 0, false);
	wc.to = DBNIC_QPS_INIT;
	EXPECT(DBNIC_WC_LOC_QP_OP_ERR, 0, false);
	wc.to = 0;
	wc.type = DBNIC_QPT_RC;
	/* A fatal one: one QP_ERR event, the rest of the queue flushed. */
	while (eq_poll(&f, &ev))
		;
	faults = counter(&f, DBNIC_CNT_ROCE_QP_ERR);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	recv_post_qp(&q, buf, 64);
	engine_pending(&f);
	desc_nop(&d, &(struct hq){ .qid = q.qid }, 0);
	post(&q, &d);
	wqe_inline(&d, &q, 8);
	post(&q, &d);
	fake_run(&f);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.status, DBNIC_WC_LOC_QP_OP_ERR);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.index, 1);
	CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.cq_flags, DBNIC_RCQE_F_RECV);
	CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
	CHECK(eq_poll(&f, &ev));
	CHECK_EQ(ev.type, DBNIC_AERR_QP_ERR);
	CHECK_EQ(ev.object, q.qpn);
	CHECK_EQ(ev.data, DBNIC_WC_LOC_QP_OP_ERR);
	CHECK_EQ(ev.ctx, ctx);
	CHECK_EQ(counter(&f, DBNIC_CNT_ROCE_QP_ERR), faults + 1);
	/* Another bad WQE on the QP in ERR flushes: no second event. */
	desc_nop(&d, &(struct hq){ .qid = q.qid }, 0);
	post(&q, &d);
	fake_run(&f);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
	CHECK(!eq_poll(&f, &ev));
	CHECK_EQ(counter(&f, DBNIC_CNT_ROCE_QP_ERR), faults + 1);
	/* A doorbell past the ring: LOC_QP_OP_ERR, not fatal to the QP. */
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	sq_db(&q, 40);
	fake_run(&f);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.status, DBNIC_WC_LOC_QP_OP_ERR);
	CHECK_EQ(e.vendor_err, DBNIC_ST_BAD_DOORBELL);
	CHECK_EQ(qp_state(&f, q.qpn), DBNIC_QPS_RTS);
	/* A slot that does not hold its index: fatal, as a bad shape. */
	wqe_inline(&d, &q, 8);
	sq_put(&q, &d, 0);
	((struct dbnic_desc *)gpa(&f, sq_slot(&q, 0)))->hdr.index = 9;
	q.sq_pi = 1;
	sq_db(&q, 1);
	fake_run(&f);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.status, DBNIC_WC_LOC_QP_OP_ERR);
	CHECK_EQ(e.vendor_err, DBNIC_ST_BAD_DESC);
	CHECK_EQ(qp_state(&f, q.qpn), DBNIC_QPS_ERR);
#undef EXPECT
	fake_free(&f);
}

/* ---- AHs and GIDs --------------------------------------------------- */

static uint8_t create_ah(struct fake *f, uint32_t ctx,
			 const struct dbnic_av *av, uint32_t *ah)
{
	struct dbnic_admin_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_AH;
	cmd.create_ah.ctx = ctx;
	cmd.create_ah.pd = 3;
	cmd.create_ah.av = *av;
	return admin(f, &cmd, ah);
}

void test_ah_checks(void)
{
	struct fake f;
	struct dbnic_av av;
	uint32_t kctx, ctx, ah, ah2, i, hs[8];

	kctx = machine(&f);
	ctx = create_ctx(&f, false);
	av_v4(&av);
	CHECK_EQ(create_ah(&f, ctx, &av, &ah), DBNIC_AST_OK);
	CHECK(DBNIC_GET(ah, DBNIC_AH_INDEX) >= 1);
	av.udp_sport = 0;		/* UD sends from the QP's port */
	CHECK_EQ(create_ah(&f, ctx, &av, &ah2), DBNIC_AST_OK);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_AH, ah2), DBNIC_AST_OK);
	/* IPv6 from GID 1, VLAN 5. */
	av_v4(&av);
	memcpy(av.dgid, gid6, 16);
	av.sgid_index = 1;
	av.net = DBNIC_NET_IPV6;
	av.vlan = 5;
	CHECK_EQ(create_ah(&f, ctx, &av, &ah2), DBNIC_AST_OK);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_AH, ah2), DBNIC_AST_OK);

#define BAD_AH(stmt)							\
	do {								\
		av_v4(&av);						\
		stmt;							\
		CHECK_EQ(create_ah(&f, ctx, &av, &ah2), DBNIC_AST_BAD_PARAM); \
	} while (0)
	BAD_AH(av.net = 0);
	BAD_AH(av.net = DBNIC_NET_IPV6);
	BAD_AH(av.sgid_index = 1);
	BAD_AH(av.sgid_index = 3);
	BAD_AH(av.sgid_index = 200);
	BAD_AH(av.dgid[11] = 0);
	BAD_AH(av.flow_label = 1u << 20);
	BAD_AH(av.vlan = 4095);
	BAD_AH(av.udp_sport = 1);
	BAD_AH(av.rsvd[0] = 1);
	av_v4(&av);
	CHECK_EQ(create_ah(&f, 99, &av, &ah2), DBNIC_AST_BAD_HANDLE);
	/* A deleted GID entry: no vector names it any more. */
	CHECK_EQ(set_gid(&f, kctx, 0, 0, NULL, 0), DBNIC_AST_OK);
	BAD_AH((void)0);
	CHECK_EQ(set_gid(&f, kctx, 0, DBNIC_NET_IPV4, gid4, DBNIC_VLAN_NONE),
		 DBNIC_AST_OK);
	/* Destroy once; a stale handle names no later AH. */
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_AH, ah), DBNIC_AST_OK);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_AH, ah), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(create_ah(&f, ctx, &av, &ah2), DBNIC_AST_OK);
	CHECK(ah2 != ah);
	CHECK_EQ(DBNIC_GET(ah2, DBNIC_AH_INDEX), DBNIC_GET(ah, DBNIC_AH_INDEX));
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_AH, ah), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_AH, 0), DBNIC_AST_BAD_HANDLE);
	/* max_ah 8. */
	for (i = 1; i < 8; i++)
		CHECK_EQ(create_ah(&f, ctx, &av, &hs[i]), DBNIC_AST_OK);
	CHECK_EQ(create_ah(&f, ctx, &av, &hs[0]), DBNIC_AST_NO_RESOURCE);
#undef BAD_AH
	fake_free(&f);
}

void test_set_gid_privileged(void)
{
	struct fake f;
	struct dbnic_av av;
	uint32_t kctx, uctx, ah;
	uint8_t bad[16];

	fake_init(&f);
	kctx = create_ctx(&f, true);
	uctx = create_ctx(&f, false);
	/* Only the kernel's context sets the port's addresses. */
	CHECK_EQ(set_gid(&f, uctx, 0, DBNIC_NET_IPV4, gid4, DBNIC_VLAN_NONE),
		 DBNIC_AST_BAD_PARAM);
	CHECK_EQ(set_gid(&f, 99, 0, DBNIC_NET_IPV4, gid4, DBNIC_VLAN_NONE),
		 DBNIC_AST_BAD_HANDLE);
	av_v4(&av);
	CHECK_EQ(create_ah(&f, uctx, &av, &ah), DBNIC_AST_BAD_PARAM);
	CHECK_EQ(set_gid(&f, kctx, 0, DBNIC_NET_IPV4, gid4, DBNIC_VLAN_NONE),
		 DBNIC_AST_OK);
	CHECK_EQ(create_ah(&f, uctx, &av, &ah), DBNIC_AST_OK);
	/* Index, family, VLAN. */
	CHECK_EQ(set_gid(&f, kctx, DBNIC_GID_TBL_LEN, DBNIC_NET_IPV4, gid4,
			 DBNIC_VLAN_NONE), DBNIC_AST_BAD_PARAM);
	CHECK_EQ(set_gid(&f, kctx, 1, DBNIC_NET_IPV4, gid6, DBNIC_VLAN_NONE),
		 DBNIC_AST_BAD_PARAM);
	CHECK_EQ(set_gid(&f, kctx, 1, DBNIC_NET_IPV6, gid4, DBNIC_VLAN_NONE),
		 DBNIC_AST_BAD_PARAM);
	CHECK_EQ(set_gid(&f, kctx, 1, 5, gid6, DBNIC_VLAN_NONE),
		 DBNIC_AST_BAD_PARAM);
	CHECK_EQ(set_gid(&f, kctx, 1, DBNIC_NET_IPV6, gid6, 4095),
		 DBNIC_AST_BAD_PARAM);
	memcpy(bad, gid4, 16);
	CHECK_EQ(set_gid(&f, kctx, 15, DBNIC_NET_IPV4, bad, 4094),
		 DBNIC_AST_OK);
	/* Reset forgets the table. */
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_CTRL, DBNIC_CTRL_RESET, 4);
	CHECK_EQ(f.core.gid[0].net, 0);
	CHECK_EQ(f.core.gid[15].net, 0);
	fake_free(&f);
}

/* ---- the transport's entry point ------------------------------------ */

/*
 * dbnic_qp_fatal(), as the transport calls it from a run (11.7): the QP
 * goes to ERR once, with one QP_ERR event carrying the status, and its
 * work flushes; a second call changes nothing.
 */
void test_qp_fatal_once(void)
{
	struct fake f;
	struct hqp q;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	struct dbnic_eqe ev;
	struct dbnic_qp *qp;
	uint32_t ctx;

	harness_eq_log = 4;
	ctx = machine(&f);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	recv_post_qp(&q, fake_alloc(&f, 64, 64), 64);
	engine_pending(&f);
	wqe_inline(&d, &q, 8);
	post(&q, &d);
	qp = dbnic_qp_get(&f.core, q.qpn);
	CHECK(qp != NULL);
	f.core.in_run = true;
	dbnic_qp_fatal(&f.core, qp, DBNIC_WC_RETRY_EXC_ERR);
	dbnic_qp_fatal(&f.core, qp, DBNIC_WC_REM_ACCESS_ERR);
	f.core.in_run = false;
	fake_run(&f);
	CHECK_EQ(qp_state(&f, q.qpn), DBNIC_QPS_ERR);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.index, 0);
	CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.cq_flags, DBNIC_RCQE_F_RECV);
	CHECK(!scq_poll(&q, &e));
	CHECK(eq_poll(&f, &ev));
	CHECK_EQ(ev.type, DBNIC_AERR_QP_ERR);
	CHECK_EQ(ev.object, q.qpn);
	CHECK_EQ(ev.data, DBNIC_WC_RETRY_EXC_ERR);
	CHECK(!eq_poll(&f, &ev));
	CHECK_EQ(counter(&f, DBNIC_CNT_ROCE_QP_ERR), 1);
	fake_free(&f);
}

/*
 * SOLICITED is a flag of send WQEs only (section 5's descriptors have it
 * reserved): the ring fetch of such a WQE still reads all of it, so its
 * checks see its body (here a reserved byte set in it).
 */
void test_qp_wqe_solicited_read_whole(void)
{
	struct fake f;
	struct hqp q;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	uint32_t ctx;

	ctx = machine(&f);
	qp_make(&f, &q, ctx, DBNIC_QPT_RC, 1, false);
	CHECK_EQ(qp_walk(&q, DBNIC_QPS_RTS), DBNIC_AST_OK);
	wqe_inline(&d, &q, 100);
	d.hdr.flags |= DBNIC_WQE_F_SOLICITED;
	post(&q, &d);
	fake_run(&f);
	peer_ack(&f, q.qpn);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);	/* valid: sent, ACKed */
	wqe_inline(&d, &q, 100);
	d.hdr.flags |= DBNIC_WQE_F_SOLICITED;
	dbnic_rdma_seg_of(&d)->rsvd = 1;
	post(&q, &d);
	fake_run(&f);
	CHECK(scq_poll(&q, &e));
	CHECK_EQ(e.status, DBNIC_WC_LOC_QP_OP_ERR);
	CHECK_EQ(e.vendor_err, DBNIC_ST_BAD_DESC);
	fake_free(&f);
}

/*
 * A CQ that goes while its CQ_COMP waits for room, or while its entry is
 * in the EQ, takes its place in those queues with it: the event is not
 * written for a CQ that is gone, and a new CQ with the same cqn gets
 * events of its own.
 */
void test_cq_comp_destroyed(void)
{
	struct fake f;
	struct hq q, other;
	struct dbnic_eqe e;
	uint32_t ctx;
	unsigned int i, n;

	harness_eq_log = 2;
	fake_init(&f);
	ctx = create_ctx(&f, false);
	hq_event(&f, &q, ctx);
	hq_create(&f, &other, false, 3, 6);
	ring_doorbell(&(struct hq){ .f = &f, .ctx = ctx, .qid = other.qid }, 1);
	ring_doorbell(&(struct hq){ .f = &f, .ctx = ctx, .qid = 7 }, 1);
	dbnic_core_db_write(&f.core, ((uint64_t)ctx << DBNIC_DB_PAGE_SHIFT) +
			    0x40, 0, 4);
	fake_run(&f);
	cq_arm(&q);
	nop(&q);
	fake_run(&f);
	CHECK_EQ(f.core.eq_pi, 3);	/* the CQ's event waits */
	/* Its context goes, with the CQ. */
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CTX, ctx), DBNIC_AST_OK);
	for (n = 0, i = 0; i < 4; i++) {
		while (eq_poll(&f, &e))
			n += e.type == DBNIC_AERR_CQ_COMP;
		fake_run(&f);
	}
	CHECK_EQ(n, 0);
	/* A new CQ on the same cqn: its own event, once. */
	ctx = create_ctx(&f, false);
	hq_event(&f, &q, ctx);
	cq_arm(&q);
	nop(&q);
	fake_run(&f);
	CHECK_EQ(comp_events(&f, q.cqn), 1);
	/*
	 * Destroyed with its entry in the EQ: EQ_CI passing that entry
	 * does not count as passing the new CQ's, which keeps the new CQ's
	 * arm remembered until its own entry is passed.
	 */
	cq_arm(&q);
	nop(&q);
	fake_run(&f);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_SQ, q.qid), DBNIC_AST_OK);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CQ, q.cqn), DBNIC_AST_OK);
	hq_event(&f, &q, ctx);
	cq_arm(&q);
	nop(&q);
	fake_run(&f);
	cq_arm(&q);
	nop(&q);
	fake_run(&f);
	CHECK_EQ((uint16_t)(f.core.eq_pi - f.eq_ci), 2);
	CHECK(eq_poll(&f, &e));		/* the old CQ's entry */
	fake_run(&f);
	CHECK_EQ((uint16_t)(f.core.eq_pi - f.eq_ci), 1);
	CHECK_EQ(comp_events(&f, q.cqn), 1);	/* the new CQ's */
	fake_run(&f);
	CHECK_EQ(comp_events(&f, q.cqn), 1);	/* its remembered arm */
	CHECK_EQ(counter(&f, DBNIC_CNT_EVENTS_LOST), 0);
	fake_free(&f);
}
