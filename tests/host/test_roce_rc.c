/*
 * Unit tests of the core's RoCE v2 transport (datasheet 11.4-11.9): two
 * cores back to back through a fake wire (frames ops->eth_tx takes are
 * queued and delivered by the test, which may drop or replay them), and
 * one core talking to itself through the loopback FIFO.  Data is checked
 * byte for byte in the receivers' memory; completions, counters and the
 * QP states as a host would see them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_roce_rc.h"
#include "dbnic_roce_wire.h"

/* ---- machines and the wire ------------------------------------------ */

struct tnode {
	struct fake f;		/* first: the tx hook casts */
	unsigned int idx;
	uint32_t ctx;
	uint32_t pd;
	uint8_t gid[16];
	uint8_t mac[6];
};

/* A host view of one QP: its rings and its two CQs. */
struct tqp {
	struct tnode *n;
	uint8_t type;
	uint32_t qpn;
	uint32_t qid;
	uint32_t scqn, rcqn;
	uint64_t sq, rq, scq, rcq;
	uint16_t sq_pi, rq_pi, scq_ci, rcq_ci;
	uint32_t pd;
};

#define QLOG	6	/* 64-entry rings */
#define QSTRIDE	8	/* 256-byte WQEs */
#define WIRE_MAX 1024

struct wframe {
	struct tnode *to;
	size_t len;
	uint8_t buf[DBNIC_ROCE_FRAME_MAX];
};

/*
 * The machines of a test live here, not on its stack: a CHECK that
 * returns early leaves them to harness_cleanup().
 */
static struct tnode na, nb;

static struct wframe *wire;
static unsigned int wire_len;
static struct tnode *nodes[2];
static unsigned int nnodes;
/* Frames sent so far, counted from 0 across the test. */
static unsigned int wire_seq;
/* Return false to drop frame k (its wire_seq) on its way. */
static bool (*wire_keep)(const uint8_t *buf, size_t len, unsigned int k);
/* The last frame taken, whatever happened to it. */
static uint8_t last_frame[DBNIC_ROCE_FRAME_MAX];
static size_t last_len;

/* BTH opcodes of the frames sent, and by whom (the tnode's idx). */
static uint8_t oplog[WIRE_MAX], oplog_from[WIRE_MAX];
static unsigned int noplog;

static void wire_tx(struct fake *f, const void *buf, size_t len)
{
	struct dbnic_roce_pkt pkt;
	unsigned int i;

	if (noplog < WIRE_MAX &&
	    dbnic_roce_parse(buf, len, &pkt) == DBNIC_ROCE_OK) {
		oplog[noplog] = pkt.hdr.opcode;
		oplog_from[noplog++] = (uint8_t)((struct tnode *)f)->idx;
	}

	if (len <= sizeof(last_frame)) {
		memcpy(last_frame, buf, len);
		last_len = len;
	}
	if (wire_keep && !wire_keep(buf, len, wire_seq++))
		return;
	if (!wire_keep)
		wire_seq++;
	for (i = 0; i < nnodes; i++) {
		struct wframe *w;

		if (memcmp(buf, nodes[i]->mac, 6))
			continue;
		if (wire_len == WIRE_MAX || len > sizeof(w->buf))
			abort();
		w = &wire[wire_len++];
		w->to = nodes[i];
		w->len = len;
		memcpy(w->buf, buf, len);
	}
}

/* Run every machine and deliver every frame until all is quiet. */
static void wire_run(void)
{
	unsigned int guard = 10000, i, k;

	for (;;) {
		bool busy = false;

		for (i = 0; i < nnodes; i++) {
			busy |= nodes[i]->f.scheduled;
			fake_run(&nodes[i]->f);
		}
		if (!wire_len && !busy)
			break;
		/* Deliver what is on the wire now; replies wait a round. */
		k = wire_len;
		for (i = 0; i < k; i++)
			eth_rx(&wire[i].to->f, wire[i].buf, wire[i].len, 0, 0, 0);
		memmove(wire, wire + k, (wire_len - k) * sizeof(*wire));
		wire_len -= k;
		if (!--guard)
			abort();
	}
}

/* Deliver what is on the wire now, before any machine runs again. */
static void wire_deliver(void)
{
	unsigned int i, k = wire_len;

	for (i = 0; i < k; i++)
		eth_rx(&wire[i].to->f, wire[i].buf, wire[i].len, 0, 0, 0);
	memmove(wire, wire + k, (wire_len - k) * sizeof(*wire));
	wire_len -= k;
}

/* Put a frame on the wire by hand (a replay). */
static void wire_inject(struct tnode *to, const uint8_t *buf, size_t len)
{
	eth_rx(&to->f, buf, len, 0, 0, 0);
}

static uint8_t admin2(struct fake *f, struct dbnic_admin_cmd *cmd,
		      uint32_t *res, uint32_t *res2)
{
	uint8_t st = admin(f, cmd, res);
	unsigned int slot = (f->aq_ci - 1) & ((1u << AQ_LOG) - 1);
	struct dbnic_admin_cqe *cqe =
		gpa(f, AQ_CQ_ADDR + slot * sizeof(struct dbnic_admin_cqe));

	if (res2)
		*res2 = cqe->result2;
	return st;
}

static void node_init(struct tnode *n, unsigned int idx)
{
	struct dbnic_admin_cmd cmd;

	if (!wire) {
		wire = calloc(WIRE_MAX, sizeof(*wire));
		if (!wire)
			abort();
	}
	if (idx == 0) {
		noplog = 0;
		nnodes = 0;
		wire_len = 0;
		wire_seq = 0;
		wire_keep = NULL;
	}
	memset(n, 0, sizeof(*n));
	fake_init(&n->f);
	n->idx = idx;
	/* Distinct MACs: the harness gives every machine the same one. */
	n->f.core.cfg.mac[5] = (uint8_t)(0x56 + idx);
	memcpy(n->mac, n->f.core.cfg.mac, 6);
	n->f.tx_hook = wire_tx;
	n->ctx = create_ctx(&n->f, true);
	n->pd = 7 + idx;
	n->gid[10] = n->gid[11] = 0xff;
	n->gid[12] = 10;
	n->gid[15] = (uint8_t)(1 + idx);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_SET_GID;
	memcpy(cmd.set_gid.gid, n->gid, 16);
	cmd.set_gid.index = 0;
	cmd.set_gid.vlan = DBNIC_VLAN_NONE;
	cmd.set_gid.net = DBNIC_NET_IPV4;
	cmd.set_gid.ctx = n->ctx;
	if (admin(&n->f, &cmd, NULL) != DBNIC_AST_OK)
		abort();
	/* GID 1: IPv6 fd00::1:<idx + 1>, on VLAN 5. */
	memset(cmd.set_gid.gid, 0, 16);
	cmd.set_gid.gid[0] = 0xfd;
	cmd.set_gid.gid[13] = 1;
	cmd.set_gid.gid[15] = (uint8_t)(1 + idx);
	cmd.set_gid.index = 1;
	cmd.set_gid.vlan = 5;
	cmd.set_gid.net = DBNIC_NET_IPV6;
	if (admin(&n->f, &cmd, NULL) != DBNIC_AST_OK)
		abort();
	nodes[nnodes++] = n;
}

static uint32_t mk_cq(struct tnode *n, uint64_t *base)
{
	struct dbnic_admin_cmd cmd;
	uint32_t cqn;

	memset(&cmd, 0, sizeof(cmd));
	*base = fake_alloc(&n->f, 32u << QLOG, 4096);
	cmd.opcode = DBNIC_ADM_CREATE_CQ;
	cmd.create_cq.base = *base;
	cmd.create_cq.ctx = n->ctx;
	cmd.create_cq.log_size = QLOG;
	cmd.create_cq.log_cqe = DBNIC_LOG_CQE_32;
	cmd.create_cq.msix_vector = 1;
	if (admin(&n->f, &cmd, &cqn) != DBNIC_AST_OK)
		abort();
	return cqn;
}

static void qp_create(struct tnode *n, struct tqp *q, uint8_t type,
		      uint32_t pd)
{
	struct dbnic_admin_cmd cmd;

	memset(q, 0, sizeof(*q));
	q->n = n;
	q->type = type;
	q->pd = pd;
	q->scqn = mk_cq(n, &q->scq);
	q->rcqn = mk_cq(n, &q->rcq);
	q->sq = fake_alloc(&n->f, 1u << (QLOG + QSTRIDE), 4096);
	q->rq = fake_alloc(&n->f, 1u << (QLOG + QSTRIDE), 4096);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_QP;
	cmd.create_qp.sq_base = q->sq;
	cmd.create_qp.rq_base = q->rq;
	cmd.create_qp.ctx = n->ctx;
	cmd.create_qp.pd = pd;
	cmd.create_qp.scqn = q->scqn;
	cmd.create_qp.rcqn = q->rcqn;
	cmd.create_qp.type = type;
	cmd.create_qp.sq_log_size = QLOG;
	cmd.create_qp.sq_log_stride = QSTRIDE;
	cmd.create_qp.rq_log_size = QLOG;
	cmd.create_qp.rq_log_stride = QSTRIDE;
	if (admin2(&n->f, &cmd, &q->qpn, &q->qid) != DBNIC_AST_OK)
		abort();
}

static uint8_t qp_modify(struct tqp *q, const struct dbnic_qp_attr *a,
			 uint32_t mask)
{
	struct dbnic_admin_cmd cmd;
	uint64_t at = fake_alloc(&q->n->f, sizeof(*a), 8);

	memcpy(gpa(&q->n->f, at), a, sizeof(*a));
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_MODIFY_QP;
	cmd.modify_qp.attr = at;
	cmd.modify_qp.qpn = q->qpn;
	cmd.modify_qp.attr_mask = mask;
	return admin(&q->n->f, &cmd, NULL);
}

static uint8_t qp_state(struct tqp *q)
{
	struct dbnic_admin_cmd cmd;
	uint64_t at = fake_alloc(&q->n->f, sizeof(struct dbnic_qp_attr), 8);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_QUERY_QP;
	cmd.modify_qp.attr = at;
	cmd.modify_qp.qpn = q->qpn;
	if (admin(&q->n->f, &cmd, NULL) != DBNIC_AST_OK)
		abort();
	return ((struct dbnic_qp_attr *)gpa(&q->n->f, at))->state;
}

static void av_to(struct dbnic_av *av, const struct tnode *peer)
{
	memset(av, 0, sizeof(*av));
	memcpy(av->dgid, peer->gid, 16);
	memcpy(av->dmac, peer->mac, 6);
	av->vlan = DBNIC_VLAN_NONE;
	av->udp_sport = 0xc123;
	av->sgid_index = 0;
	av->hop_limit = 64;
	av->net = DBNIC_NET_IPV4;
}

#define RC_MTU	3	/* 1024 bytes */
/* RTS attributes qp_up() gives RC QPs; the tests of 11.10 change them. */
static uint8_t rts_timeout = 14, rts_retry_cnt = 7, rts_rnr_retry = 7;

static void rts_defaults(void)
{
	rts_timeout = 14;
	rts_retry_cnt = 7;
	rts_rnr_retry = 7;
}

#define PSN_A	0xfffffe	/* both sides cross the 24-bit wrap */
#define PSN_B	0xfffff0

/* Bring q from RESET to RTS, talking to peer (RC) or anyone (UD). */
static void qp_up(struct tqp *q, const struct tqp *peer, uint32_t sq_psn,
		  uint32_t rq_psn)
{
	struct dbnic_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.state = DBNIC_QPS_INIT;
	a.access = DBNIC_MR_REMOTE_READ | DBNIC_MR_REMOTE_WRITE;
	a.qkey = 0x1234;
	if (q->type == DBNIC_QPT_RC) {
		if (qp_modify(q, &a, DBNIC_QP_ATTR_STATE |
			      DBNIC_QP_ATTR_PKEY_INDEX | DBNIC_QP_ATTR_PORT |
			      DBNIC_QP_ATTR_ACCESS_FLAGS))
			abort();
		a.state = DBNIC_QPS_RTR;
		av_to(&a.av, peer->n);
		a.path_mtu = RC_MTU;
		a.dest_qpn = peer->qpn;
		a.rq_psn = rq_psn;
		a.max_dest_rd_atomic = 4;
		a.min_rnr_timer = 12;
		if (qp_modify(q, &a, DBNIC_QP_ATTR_STATE | DBNIC_QP_ATTR_AV |
			      DBNIC_QP_ATTR_PATH_MTU | DBNIC_QP_ATTR_DEST_QPN |
			      DBNIC_QP_ATTR_RQ_PSN |
			      DBNIC_QP_ATTR_MAX_DEST_RD_ATOMIC |
			      DBNIC_QP_ATTR_MIN_RNR_TIMER))
			abort();
		a.state = DBNIC_QPS_RTS;
		a.sq_psn = sq_psn;
		a.timeout = rts_timeout;
		a.retry_cnt = rts_retry_cnt;
		a.rnr_retry = rts_rnr_retry;
		a.max_rd_atomic = 4;
		if (qp_modify(q, &a, DBNIC_QP_ATTR_STATE |
			      DBNIC_QP_ATTR_TIMEOUT | DBNIC_QP_ATTR_RETRY_CNT |
			      DBNIC_QP_ATTR_RNR_RETRY | DBNIC_QP_ATTR_SQ_PSN |
			      DBNIC_QP_ATTR_MAX_QP_RD_ATOMIC))
			abort();
		return;
	}
	if (qp_modify(q, &a, DBNIC_QP_ATTR_STATE | DBNIC_QP_ATTR_PKEY_INDEX |
		      (q->type == DBNIC_QPT_GSI ? 0 : DBNIC_QP_ATTR_PORT) |
		      DBNIC_QP_ATTR_QKEY))
		abort();
	a.state = DBNIC_QPS_RTR;
	if (qp_modify(q, &a, DBNIC_QP_ATTR_STATE))
		abort();
	a.state = DBNIC_QPS_RTS;
	a.sq_psn = sq_psn;
	if (qp_modify(q, &a, DBNIC_QP_ATTR_STATE | DBNIC_QP_ATTR_SQ_PSN))
		abort();
}

/* Back to RESET and up again (after a fatal error). */
static void qp_reconnect(struct tqp *q, const struct tqp *peer,
			 uint32_t sq_psn, uint32_t rq_psn)
{
	struct dbnic_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.state = DBNIC_QPS_RESET;
	if (qp_modify(q, &a, DBNIC_QP_ATTR_STATE))
		abort();
	qp_up(q, peer, sq_psn, rq_psn);
}

/* Two machines with one RC QP each, connected. */
static void rc_pair(struct tnode *a, struct tnode *b, struct tqp *qa,
		    struct tqp *qb)
{
	node_init(a, 0);
	node_init(b, 1);
	qp_create(a, qa, DBNIC_QPT_RC, a->pd);
	qp_create(b, qb, DBNIC_QPT_RC, b->pd);
	qp_up(qa, qb, PSN_A, PSN_B);
	qp_up(qb, qa, PSN_B, PSN_A);
}

/* Guest memory of n bytes with a pattern; an MR over it in pd. */
static uint64_t buf_new(struct tnode *n, uint32_t len, unsigned int seed)
{
	uint64_t a = fake_alloc(&n->f, len, 4096);
	uint8_t *p = gpa(&n->f, a);
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 31 + (i >> 8));
	return a;
}

static uint8_t mr_reg(struct tnode *n, uint32_t ctx, uint32_t pd,
		      uint64_t addr, uint32_t len, uint8_t access,
		      uint32_t *key)
{
	uint64_t first = addr & ~4095ull;
	uint32_t np = (uint32_t)((addr + len - first + 4095) / 4096), i;
	uint64_t list = fake_alloc(&n->f, 8ull * np, 8);
	struct dbnic_admin_cmd cmd;

	for (i = 0; i < np; i++)
		((uint64_t *)gpa(&n->f, list))[i] = first + 4096ull * i;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_REG_MR;
	cmd.reg_mr.iova = addr;
	cmd.reg_mr.length = len;
	cmd.reg_mr.pages = list;
	cmd.reg_mr.ctx = ctx;
	cmd.reg_mr.npages = np;
	cmd.reg_mr.page_shift = 12;
	cmd.reg_mr.access = access;
	cmd.reg_mr.pd = pd;
	return admin(&n->f, &cmd, key);
}

static uint32_t mr_of(struct tnode *n, uint64_t addr, uint32_t len,
		      uint8_t access)
{
	uint32_t key;

	if (mr_reg(n, n->ctx, n->pd, addr, len, access, &key))
		abort();
	return key;
}

#define ACC_ALL	DBNIC_MR_ACCESS_ALL

/* ---- work requests ---------------------------------------------------- */

static void sge_set(struct dbnic_sge *s, uint64_t addr, uint32_t len,
		    uint32_t key)
{
	s->addr = addr;
	s->len = len;
	s->key = key;
}

static void wqe_init(struct dbnic_desc *d, struct tqp *q, uint8_t op,
		     uint8_t flags)
{
	memset(d, 0, sizeof(*d));
	d->hdr.opcode = op;
	d->hdr.flags = flags;
	d->hdr.qid = (uint16_t)q->qid;
}

/* Size the WQE and write it at the next ring index; no doorbell. */
static uint16_t wqe_put(struct tqp *q, struct dbnic_desc *d)
{
	unsigned int n = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC) +
			 DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);
	uint16_t index = q->sq_pi++;

	d->hdr.size = (uint8_t)dbnic_rdma_wqe_blocks(
		n, dbnic_rdma_seg_of(d)->inline_len);
	d->hdr.index = index;
	memcpy(gpa(&q->n->f, q->sq + ((uint64_t)dbnic_ring_slot(index, QLOG)
				      << QSTRIDE)), d, 1u << QSTRIDE);
	return index;
}

static void sq_ring(struct tqp *q)
{
	dbnic_core_db_write(&q->n->f.core,
			    ((uint64_t)q->n->ctx << DBNIC_DB_PAGE_SHIFT) +
				    DBNIC_DB_SQ,
			    dbnic_db_sq_val((uint16_t)q->qid, q->sq_pi), 4);
}

static uint16_t post(struct tqp *q, struct dbnic_desc *d)
{
	uint16_t i = wqe_put(q, d);

	sq_ring(q);
	return i;
}

/* A RECV of n SGEs (0..15). */
static uint16_t recv_post_sges(struct tqp *q, const struct dbnic_sge *s,
			       unsigned int n)
{
	struct dbnic_desc d;
	uint16_t index = q->rq_pi++;

	memset(&d, 0, sizeof(d));
	d.hdr.opcode = DBNIC_OP_RECV;
	d.hdr.flags = DBNIC_DESC_F_COMPLETION;
	d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, n);
	d.hdr.size = (uint8_t)dbnic_desc_blocks(n);
	d.hdr.index = index;
	d.hdr.qid = (uint16_t)q->qid;
	if (n)
		memcpy(d.sge, s, n * sizeof(*s));
	memcpy(gpa(&q->n->f, q->rq + ((uint64_t)dbnic_ring_slot(index, QLOG)
				      << QSTRIDE)), &d, 1u << QSTRIDE);
	dbnic_core_db_write(&q->n->f.core,
			    ((uint64_t)q->n->ctx << DBNIC_DB_PAGE_SHIFT) +
				    DBNIC_DB_QP_RQ,
			    dbnic_db_qp_rq_val((uint16_t)q->qid, q->rq_pi), 4);
	return index;
}

static uint16_t recv_post1(struct tqp *q, uint64_t addr, uint32_t len,
			   uint32_t key)
{
	struct dbnic_sge s;

	sge_set(&s, addr, len, key);
	return recv_post_sges(q, &s, 1);
}

static bool cqe_poll(struct tqp *q, bool recv, struct dbnic_rdma_cqe *out)
{
	uint64_t base = recv ? q->rcq : q->scq;
	uint16_t *ci = recv ? &q->rcq_ci : &q->scq_ci;
	uint32_t cqn = recv ? q->rcqn : q->scqn;
	struct dbnic_rdma_cqe *e =
		gpa(&q->n->f, base + 32ull * dbnic_ring_slot(*ci, QLOG));

	if ((e->flags & DBNIC_CQE_F_PHASE) != dbnic_cq_phase(*ci, QLOG))
		return false;
	*out = *e;
	(*ci)++;
	dbnic_core_db_write(&q->n->f.core,
			    ((uint64_t)q->n->ctx << DBNIC_DB_PAGE_SHIFT) +
				    DBNIC_DB_CQ,
			    dbnic_db_cq_val((uint16_t)cqn, *ci, 0), 4);
	return true;
}

static uint64_t cnt(struct tnode *n, enum dbnic_counter i)
{
	return counter(&n->f, i);
}

static bool mem_eq(struct tnode *x, uint64_t a, struct tnode *y, uint64_t b,
		   uint32_t len)
{
	return !memcmp(gpa(&x->f, a), gpa(&y->f, b), len);
}

/* ---- RC: SEND, WRITE, READ ------------------------------------------- */

void test_roce_rc_send(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	uint64_t src = 0, dst;
	uint32_t skey, dkey, len = 3000;
	uint16_t idx, ridx;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, len, 1);
	skey = mr_of(b, src, len, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	ridx = recv_post1(&qa, dst, 4096, dkey);

	/* 3000 bytes from two SGEs: three packets of the 1024-byte MTU. */
	wqe_init(&d, &qb, DBNIC_OP_SEND_IMM,
		 DBNIC_DESC_F_COMPLETION | DBNIC_WQE_F_SOLICITED);
	d.hdr.nsge = 2;
	d.hdr.imm = 0x78563412;	/* wire bytes 12 34 56 78 */
	sge_set(&d.sge[1], src, 1000, skey);
	sge_set(&d.sge[2], src + 1000, len - 1000, skey);
	idx = post(&qb, &d);
	wire_run();

	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.opcode, DBNIC_WC_RECV);
	CHECK_EQ(e.byte_len, len);
	CHECK_EQ(e.index, ridx);
	CHECK_EQ(e.qpn, qa.qpn);
	CHECK_EQ(e.cq_flags, DBNIC_RCQE_F_RECV);
	CHECK_EQ(e.wc_flags, DBNIC_WC_F_WITH_IMM);
	CHECK(!memcmp(&e.imm, "\x12\x34\x56\x78", 4));
	CHECK_EQ(e.head, ridx + 1);
	CHECK(mem_eq(a, dst, b, src, len));
	CHECK(!cqe_poll(&qa, true, &e));

	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.opcode, DBNIC_WC_SEND);
	CHECK_EQ(e.index, idx);
	CHECK_EQ(e.byte_len, len);
	CHECK_EQ(e.head, idx + 1);
	CHECK(!cqe_poll(&qb, false, &e));

	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), 3);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 3);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_ACK_TX), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_ACK_RX), 1);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_TX_PKTS), 1);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_SEQ) + cnt(a, DBNIC_CNT_ROCE_RX_DUP) +
		 cnt(a, DBNIC_CNT_ROCE_RX_BAD_ICRC) +
		 cnt(a, DBNIC_CNT_ROCE_RX_BAD_HDR) +
		 cnt(a, DBNIC_CNT_ROCE_RX_NO_QP), 0);
	/* RoCE never reaches an Ethernet receive queue. */
	CHECK_EQ(cnt(a, DBNIC_CNT_ETH_RX) + cnt(a, DBNIC_CNT_ETH_RX_NOBUF), 0);
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_RTS);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
	fake_free(&a->f);
	fake_free(&b->f);
}


/* ---- frame capture and filters ---------------------------------------- */

static uint8_t cap_op = 0xff;	/* capture frames of this BTH opcode */
static uint8_t cap_buf[4][DBNIC_ROCE_FRAME_MAX];
static size_t cap_len[4];
static unsigned int ncap;
static bool drop_acks;		/* drop every ACK-class frame */
static uint8_t drop_op = 0xff;	/* drop the first frame of this opcode */
static bool drop_all;		/* a dead network: drop every frame */
static uint8_t drop_op2 = 0xff;	/* and one frame of this opcode ... */
static unsigned int drop_op2_skip; /* ... after letting this many pass */

static bool frame_op(const uint8_t *buf, size_t len, uint8_t *op)
{
	struct dbnic_roce_pkt pkt;

	if (dbnic_roce_parse(buf, len, &pkt) != DBNIC_ROCE_OK)
		return false;
	*op = pkt.hdr.opcode;
	return true;
}

static bool keep_filter(const uint8_t *buf, size_t len, unsigned int k)
{
	uint8_t op;

	if (!frame_op(buf, len, &op))
		return true;
	if (op == cap_op && ncap < 4 && len <= sizeof(cap_buf[0])) {
		memcpy(cap_buf[ncap], buf, len);
		cap_len[ncap++] = len;
	}
	if (drop_all || (drop_acks && op == DBNIC_ROCE_RC_ACK))
		return false;
	if (op == drop_op) {
		drop_op = 0xff;
		return false;
	}
	if (op == drop_op2 && !drop_op2_skip--) {
		drop_op2 = 0xff;
		return false;
	}
	return true;
}

static void filter_on(uint8_t capture)
{
	cap_op = capture;
	ncap = 0;
	drop_acks = false;
	drop_op = 0xff;
	drop_all = false;
	drop_op2 = 0xff;
	wire_keep = keep_filter;
}

static void wqe_rdma(struct dbnic_desc *d, struct tqp *q, uint8_t op,
		     uint8_t flags, uint64_t raddr, uint32_t rkey)
{
	wqe_init(d, q, op, flags);
	dbnic_rdma_seg_of(d)->raddr = raddr;
	dbnic_rdma_seg_of(d)->rkey = rkey;
}

static uint16_t send1(struct tqp *q, uint8_t op, uint8_t flags, uint64_t addr,
		      uint32_t len, uint32_t key)
{
	struct dbnic_desc d;

	wqe_init(&d, q, op, flags);
	d.hdr.nsge = 1;
	sge_set(&d.sge[1], addr, len, key);
	return post(q, &d);
}

static uint16_t write1(struct tqp *q, uint8_t op, uint8_t flags,
		       uint64_t raddr, uint32_t rkey, uint64_t addr,
		       uint32_t len, uint32_t key)
{
	struct dbnic_desc d;

	wqe_rdma(&d, q, op, flags, raddr, rkey);
	d.hdr.nsge = 1;
	sge_set(&d.sge[1], addr, len, key);
	return post(q, &d);
}

#define SIG	DBNIC_DESC_F_COMPLETION

void test_roce_rc_write_read(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	uint64_t tgt, src, dst;
	uint32_t tkey, skey, dkey;
	uint16_t i1, i2, i3, i4, r;

	rc_pair(a, b, &qa, &qb);
	tgt = buf_new(a, 8192, 3);
	tkey = mr_of(a, tgt, 8192, ACC_ALL);
	src = buf_new(b, 8192, 4);
	skey = mr_of(b, src, 8192, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(b, 4096, 5);
	dkey = mr_of(b, dst, 4096, DBNIC_MR_LOCAL_WRITE);

	/* WRITE: 2500 bytes at an odd offset, three packets; unsignaled. */
	i1 = write1(&qb, DBNIC_OP_RDMA_WRITE, 0, tgt + 101, tkey, src, 2500,
		    skey);
	/* WRITE_IMM: a RECV without buffers takes its immediate. */
	r = recv_post_sges(&qa, NULL, 0);
	i2 = write1(&qb, DBNIC_OP_RDMA_WRITE_IMM, SIG, tgt + 4000, tkey,
		    src + 4000, 1500, skey);
	/* READ into two scatter SGEs. */
	wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt + 5000, tkey);
	d.hdr.imm = 0;
	d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 2);
	sge_set(&d.sge[1], dst, 1000, dkey);
	sge_set(&d.sge[2], dst + 2000, 2000, dkey);
	i3 = post(&qb, &d);
	wire_run();

	CHECK(mem_eq(a, tgt + 101, b, src, 2500));
	CHECK(mem_eq(a, tgt + 4000, b, src + 4000, 1500));
	CHECK(mem_eq(b, dst, a, tgt + 5000, 1000));
	CHECK(mem_eq(b, dst + 2000, a, tgt + 6000, 2000));

	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.opcode, DBNIC_WC_RECV_RDMA_WITH_IMM);
	CHECK_EQ(e.byte_len, 1500);
	CHECK_EQ(e.index, r);
	CHECK(!cqe_poll(&qa, true, &e));

	/* The unsignaled WRITE writes no CQE; the next CQE's head frees it. */
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.opcode, DBNIC_WC_RDMA_WRITE);
	CHECK_EQ(e.index, i2);
	CHECK_EQ(e.head, i3);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.opcode, DBNIC_WC_RDMA_READ);
	CHECK_EQ(e.index, i3);
	CHECK_EQ(e.byte_len, 3000);
	CHECK_EQ(e.head, i3 + 1);
	CHECK(!cqe_poll(&qb, false, &e));
	(void)i1;
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_READ_RESP_TX), 3);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_RKEY), 0);

	/*
	 * A zero-length READ; a READ into src + 7000 and a fenced SEND of
	 * what it read: the SEND waits for the READ's data.
	 */
	wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt, tkey);
	i3 = post(&qb, &d);
	wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, 0, tgt + 7500, tkey);
	d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
	sge_set(&d.sge[1], src + 7000, 64, skey);
	post(&qb, &d);
	recv_post1(&qa, tgt + 7000, 100, tkey);
	i4 = send1(&qb, DBNIC_OP_SEND, SIG | DBNIC_DESC_F_FENCE, src + 7000,
		   64, skey);
	wire_run();
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, i3);
	CHECK_EQ(e.byte_len, 0);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, i4);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.byte_len, 64);
	CHECK(mem_eq(a, tgt + 7000, a, tgt + 7500, 64));
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_RTS);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
	fake_free(&a->f);
	fake_free(&b->f);
}

/* Inline data from the priority area: no host-memory read at the sender. */
void test_roce_rc_inline_prio(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	uint64_t dst;
	uint32_t dkey, i;
	unsigned int reads;
	uint8_t data[200];
	uint16_t idx;

	rc_pair(a, b, &qa, &qb);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	recv_post1(&qa, dst, 4096, dkey);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	wqe_init(&d, &qb, DBNIC_OP_SEND, SIG);
	dbnic_rdma_seg_of(&d)->inline_len = sizeof(data);
	memcpy((uint8_t *)&d + 32, data, sizeof(data));
	idx = wqe_put(&qb, &d);
	desc_seal(&d);
	reads = b->f.dma_reads;
	prio_copy(&b->f, b->ctx, 0, &d, NULL,
		  d.hdr.size * DBNIC_DESC_BLOCK_SIZE / 8);
	wire_run();
	CHECK_EQ(b->f.dma_reads, reads);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, idx);
	CHECK(e.flags & DBNIC_CQE_F_PRIO);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.byte_len, sizeof(data));
	CHECK(!memcmp(gpa(&a->f, dst), data, sizeof(data)));
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_INLINE), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_PRIO_EXEC), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_RING_FETCH), 0);
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * ACKs coalesce: three SENDs arriving together get one ACK; and when the
 * wire loses every ACK but the last, that one completes all three, in
 * order.
 */
void test_roce_rc_coalesced_acks(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst;
	uint32_t skey, dkey;
	uint16_t idx[3];
	unsigned int k;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 8192, 2);
	dkey = mr_of(a, dst, 8192, DBNIC_MR_LOCAL_WRITE);
	for (k = 0; k < 3; k++)
		recv_post1(&qa, dst + 1024 * k, 1024, dkey);
	for (k = 0; k < 3; k++)
		idx[k] = send1(&qb, DBNIC_OP_SEND, SIG, src + 100 * k, 100,
			       skey);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_ACK_TX), 1);
	for (k = 0; k < 3; k++) {
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK_EQ(e.index, idx[k]);
		CHECK_EQ(e.head, idx[k] + 1);
		CHECK(cqe_poll(&qa, true, &e));
		CHECK(mem_eq(a, dst + 1024 * k, b, src + 100 * k, 100));
	}

	/* One SEND per round; the wire drops the first two ACKs. */
	filter_on(0xff);
	drop_acks = true;
	for (k = 0; k < 3; k++)
		recv_post1(&qa, dst + 4096 + 1024 * k, 1024, dkey);
	for (k = 0; k < 3; k++) {
		if (k == 2)
			drop_acks = false;
		idx[k] = send1(&qb, DBNIC_OP_SEND, SIG, src + 200 * k, 200,
			       skey);
		wire_run();
		if (k < 2)
			CHECK(!cqe_poll(&qb, false, &e));
	}
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_ACK_TX), 4);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_ACK_RX), 2);
	for (k = 0; k < 3; k++) {
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK_EQ(e.index, idx[k]);
		CHECK(cqe_poll(&qa, true, &e));
		CHECK(mem_eq(a, dst + 4096 + 1024 * k, b, src + 200 * k, 200));
	}
	CHECK(!cqe_poll(&qb, false, &e));
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * The RECV CQE is visible before the engine's next pass sends the ACK: a
 * responder QP that its process destroys, or moves to ERR, in between
 * still sends the ACK it owes (11.8), or the requester (1.4 has no
 * retransmission) would wait for its SEND's completion for ever.
 */
void test_roce_rc_ack_before_teardown(void)
{
	struct tnode *a = &na, *b = &nb;
	struct dbnic_qp_attr at;
	struct dbnic_admin_cmd cmd;
	struct dbnic_rdma_cqe e;
	struct tqp qa, qb;
	uint64_t src, dst;
	uint32_t skey, dkey;
	unsigned int round, k, n;

	for (round = 0; round < 2; round++) {
		rc_pair(a, b, &qa, &qb);
		src = buf_new(b, 4096, 1);
		skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
		dst = buf_new(a, 4096, 2);
		dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
		recv_post1(&qa, dst, 1024, dkey);
		send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
		/* b sends; a takes the packet, and its engine does not run. */
		fake_run(&b->f);
		n = wire_len;
		CHECK_EQ(n, 1);
		for (k = 0; k < n; k++)
			eth_rx(&wire[k].to->f, wire[k].buf, wire[k].len, 0, 0, 0);
		wire_len = 0;
		CHECK(cqe_poll(&qa, true, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_ACK_TX), 0);

		if (round == 0) {
			memset(&cmd, 0, sizeof(cmd));
			cmd.opcode = DBNIC_ADM_DESTROY_QP;
			cmd.destroy.handle = qa.qpn;
			CHECK_EQ(admin(&a->f, &cmd, NULL), DBNIC_AST_OK);
		} else {
			memset(&at, 0, sizeof(at));
			at.state = DBNIC_QPS_ERR;
			CHECK_EQ(qp_modify(&qa, &at, DBNIC_QP_ATTR_STATE),
				 DBNIC_AST_OK);
		}
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_ACK_TX), 1);
		wire_run();
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK_EQ(e.opcode, DBNIC_WC_SEND);
		CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
		fake_free(&a->f);
		fake_free(&b->f);
	}
}

/* A replayed SEND or WRITE is acknowledged again and not delivered. */
void test_roce_rc_replay(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst, tgt;
	uint32_t skey, dkey, tkey;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	tgt = buf_new(a, 4096, 3);
	tkey = mr_of(a, tgt, 4096, ACC_ALL);

	filter_on(DBNIC_ROCE_RC_SEND_ONLY);
	recv_post1(&qa, dst, 2048, dkey);
	send1(&qb, DBNIC_OP_SEND, SIG, src, 300, skey);
	wire_run();
	CHECK_EQ(ncap, 1);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK(cqe_poll(&qb, false, &e));
	memset(gpa(&a->f, dst), 0, 300);
	recv_post1(&qa, dst + 2048, 2048, dkey);
	wire_inject(a, cap_buf[0], cap_len[0]);
	wire_run();
	CHECK(!cqe_poll(&qa, true, &e));	/* the second RECV stays */
	CHECK(!cqe_poll(&qb, false, &e));
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_DUP), 1);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_ACK_TX), 2);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_ACK_RX), 2);
	CHECK_EQ(*(uint8_t *)gpa(&a->f, dst + 17), 0);

	filter_on(DBNIC_ROCE_RC_WRITE_ONLY);
	write1(&qb, DBNIC_OP_RDMA_WRITE, SIG, tgt, tkey, src + 500, 700, skey);
	wire_run();
	CHECK_EQ(ncap, 1);
	CHECK(mem_eq(a, tgt, b, src + 500, 700));
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	memset(gpa(&a->f, tgt), 0xee, 700);
	wire_inject(a, cap_buf[0], cap_len[0]);
	wire_run();
	CHECK_EQ(*(uint8_t *)gpa(&a->f, tgt + 5), 0xee);	/* not again */
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_DUP), 2);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_ACK_TX), 4);
	CHECK(!cqe_poll(&qb, false, &e));

	/* The sequence goes on: a new SEND is delivered. */
	send1(&qb, DBNIC_OP_SEND, SIG, src + 1000, 50, skey);
	wire_run();
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.byte_len, 50);
	CHECK(mem_eq(a, dst + 2048, b, src + 1000, 50));
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_RTS);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
	fake_free(&a->f);
	fake_free(&b->f);
}

/* A replayed READ request is executed again: the responses go out again. */
void test_roce_rc_read_replay(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	uint64_t tgt, dst;
	uint32_t tkey, dkey;

	rc_pair(a, b, &qa, &qb);
	tgt = buf_new(a, 4096, 3);
	tkey = mr_of(a, tgt, 4096, ACC_ALL);
	dst = buf_new(b, 4096, 5);
	dkey = mr_of(b, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	filter_on(DBNIC_ROCE_RC_READ_REQ);
	wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt + 10, tkey);
	d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
	sge_set(&d.sge[1], dst, 2100, dkey);
	post(&qb, &d);
	wire_run();
	CHECK_EQ(ncap, 1);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(mem_eq(b, dst, a, tgt + 10, 2100));
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_READ_RESP_TX), 3);

	wire_inject(a, cap_buf[0], cap_len[0]);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_DUP), 1);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_READ_RESP_TX), 6);
	/* The requester has no READ waiting: the answers are duplicates. */
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RX_DUP), 3);
	CHECK(!cqe_poll(&qb, false, &e));
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_RTS);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * A lost packet: the responder NAKs once (PSN sequence error) and drops
 * what follows; the requester goes back to the lost PSN (11.10) and the
 * message arrives once, whole.
 */
void test_roce_rc_psn_ahead(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst;
	uint32_t skey, dkey;
	uint16_t idx;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	recv_post1(&qa, dst, 4096, dkey);
	filter_on(0xff);
	drop_op = DBNIC_ROCE_RC_SEND_FIRST;
	idx = send1(&qb, DBNIC_OP_SEND, SIG, src, 3000, skey);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_SEQ), 2);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_NAK_TX), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_NAK_RX), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_SEQ), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETX_PKTS), 3);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 0);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.byte_len, 3000);
	CHECK(mem_eq(a, dst, b, src, 3000));
	CHECK(!cqe_poll(&qa, true, &e));	/* once */
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, idx);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_RTS);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_QP_ERR), 0);
	fake_free(&a->f);
	fake_free(&b->f);
}

/* No RECV posted for a SEND: RNR NAK, fatal with rnr_retry 0 (11.10). */
void test_roce_rc_rnr(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src;
	uint32_t skey;
	uint16_t idx;

	rts_rnr_retry = 0;
	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	idx = send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RNR_NAK_TX), 1);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_NAK_TX), 0);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_NAK_RX), 1);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_RNR_RETRY_EXC_ERR);
	CHECK_EQ(e.index, idx);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_ERR);
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_RTS);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RNR_RETRY_EXC), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RNR_WAIT), 0);

	/*
	 * A READ of 100 KiB (its responses take two passes of the engine),
	 * then a SEND nobody has a RECV for: every response goes before the
	 * RNR NAK, so the READ completes and the SEND fails.
	 */
	qp_reconnect(&qa, &qb, PSN_A, PSN_B);
	qp_reconnect(&qb, &qa, PSN_B, PSN_A);
	{
		struct dbnic_desc d;
		uint32_t big = 100u << 10;
		uint64_t tgt = buf_new(a, big, 3), rd = buf_new(b, big, 4);
		uint32_t tkey = mr_of(a, tgt, big, ACC_ALL);
		uint32_t rkey = mr_of(b, rd, big, DBNIC_MR_LOCAL_WRITE);
		uint16_t ri;

		wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt, tkey);
		d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
		sge_set(&d.sge[1], rd, big, rkey);
		ri = post(&qb, &d);
		idx = send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
		wire_run();
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.index, ri);
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK(mem_eq(b, rd, a, tgt, big));
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.index, idx);
		CHECK_EQ(e.status, DBNIC_WC_RNR_RETRY_EXC_ERR);
	}
	rts_defaults();
	fake_free(&a->f);
	fake_free(&b->f);
}

/* ---- RC reliability (11.10) ---------------------------------------- */

#define TMO14_NS	(4096ull << 14)	/* timeout 14: 67.1 ms */

/* Advance both clocks by ns, then let everything settle. */
static void clock_run(struct tnode *a, struct tnode *b, uint64_t ns)
{
	fake_advance(&a->f, ns);
	fake_advance(&b->f, ns);
	wire_run();
}

/*
 * The last packet of a message is lost, so nothing asks for an ACK: the
 * transport timer fires after exactly the QP's timeout, and the whole
 * message goes again; the responder drops the duplicates and delivers
 * the message once.
 */
void test_roce_rc_timeout_retx(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst, tx;
	uint32_t skey, dkey;
	uint16_t idx;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	recv_post1(&qa, dst, 4096, dkey);
	filter_on(0xff);
	drop_op = DBNIC_ROCE_RC_SEND_LAST;
	idx = send1(&qb, DBNIC_OP_SEND, SIG, src, 3000, skey);
	wire_run();
	CHECK(!cqe_poll(&qb, false, &e));
	CHECK(!cqe_poll(&qa, true, &e));
	tx = cnt(b, DBNIC_CNT_ROCE_TX_PKTS);
	CHECK_EQ(tx, 3);
	clock_run(a, b, TMO14_NS - 1);		/* not a ns early */
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), tx);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 0);
	clock_run(a, b, 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETX_PKTS), 3);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_DUP), 2);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.byte_len, 3000);
	CHECK(mem_eq(a, dst, b, src, 3000));
	CHECK(!cqe_poll(&qa, true, &e));
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, idx);
	/* Nothing outstanding: the timer is quiet. */
	clock_run(a, b, 10 * TMO14_NS);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), tx + 3);

	/* The ACK lost instead: the SEND goes again, delivered once. */
	filter_on(0xff);
	drop_op = DBNIC_ROCE_RC_ACK;
	recv_post1(&qa, dst, 4096, dkey);
	recv_post1(&qa, dst, 4096, dkey);
	idx = send1(&qb, DBNIC_OP_SEND, SIG, src + 100, 200, skey);
	wire_run();
	CHECK(cqe_poll(&qa, true, &e));
	CHECK(!cqe_poll(&qb, false, &e));
	clock_run(a, b, TMO14_NS);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, idx);
	CHECK(!cqe_poll(&qa, true, &e));	/* the second RECV stays */
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_DUP), 3);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 2);
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * Go-back-N over several WQEs: a middle packet of the first of three
 * SENDs is lost; everything from it goes again, in order, and each
 * message is delivered once.
 */
void test_roce_rc_go_back_n(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst;
	uint32_t skey, dkey;
	unsigned int i;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 3 * 4096, 1);
	skey = mr_of(b, src, 3 * 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 3 * 4096, 2);
	dkey = mr_of(a, dst, 3 * 4096, DBNIC_MR_LOCAL_WRITE);
	for (i = 0; i < 3; i++)
		recv_post1(&qa, dst + i * 4096, 4096, dkey);
	filter_on(0xff);
	drop_op = DBNIC_ROCE_RC_SEND_MIDDLE;
	for (i = 0; i < 3; i++)
		send1(&qb, DBNIC_OP_SEND, SIG, src + i * 4096, 3000, skey);
	wire_run();
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_SEQ), 1);
	/* MIDDLE and LAST of the first, all three of the others. */
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETX_PKTS), 8);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_SEQ), 7);
	for (i = 0; i < 3; i++) {
		CHECK(cqe_poll(&qa, true, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK_EQ(e.byte_len, 3000);
		CHECK(mem_eq(a, dst + i * 4096, b, src + i * 4096, 3000));
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	}
	CHECK(!cqe_poll(&qa, true, &e));
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * A dead network: retry_cnt 2 allows two retransmissions; the third
 * expiry fails the oldest WQE with RETRY_EXC_ERR, flushes the rest, and
 * moves the QP to ERR.
 */
void test_roce_rc_retry_exhausted(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src;
	uint32_t skey;
	uint16_t i0, i1;

	rts_retry_cnt = 2;
	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	filter_on(0xff);
	drop_all = true;
	i0 = send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
	i1 = send1(&qb, DBNIC_OP_SEND, SIG, src, 2000, skey);
	wire_run();
	/* Each expiry doubles the next interval: T, 2T, 4T (11.10). */
	clock_run(a, b, TMO14_NS);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 1);
	clock_run(a, b, 2 * TMO14_NS - 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 1);
	clock_run(a, b, 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 2);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETX_PKTS), 6);
	CHECK(!cqe_poll(&qb, false, &e));
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
	clock_run(a, b, 4 * TMO14_NS - 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_EXC), 0);
	clock_run(a, b, 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_EXC), 1);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_RETRY_EXC_ERR);
	CHECK_EQ(e.index, i0);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
	CHECK_EQ(e.index, i1);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_ERR);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_QP_ERR), 1);
	/* Timer stopped: nothing more. */
	clock_run(a, b, 10 * TMO14_NS);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETX_PKTS), 6);
	CHECK(!cqe_poll(&qb, false, &e));

	/* timeout 0 is infinite: the QP waits for ever. */
	rts_timeout = 0;
	qp_reconnect(&qb, &qa, PSN_B, PSN_A);
	send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
	wire_run();
	clock_run(a, b, 1000 * TMO14_NS);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 2);
	CHECK(!cqe_poll(&qb, false, &e));
	rts_defaults();
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * RNR NAK with rnr_retry left: the requester sends nothing for the
 * responder's min_rnr_timer (12: 0.64 ms), then sends the SEND again,
 * which succeeds once a RECV is there.
 */
void test_roce_rc_rnr_retry(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst, tx;
	uint32_t skey, dkey;
	uint16_t idx;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	idx = send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RNR_NAK_TX), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RNR_WAIT), 1);
	CHECK(!cqe_poll(&qb, false, &e));
	tx = cnt(b, DBNIC_CNT_ROCE_TX_PKTS);
	clock_run(a, b, 639999);		/* 0.64 ms less 1 ns */
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), tx);
	clock_run(a, b, 1);			/* RNR again: no RECV yet */
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), tx + 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RNR_WAIT), 2);
	recv_post1(&qa, dst, 4096, dkey);
	clock_run(a, b, 640000);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(mem_eq(a, dst, b, src, 100));
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, idx);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETX_PKTS), 2);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * A READ response lost: the next response shows the gap, and the
 * requester sends the READ again at once for the rest, from its first
 * missing response; the responder answers it from a READ response first
 * at that PSN, and the data arrives whole.  The last response lost: no
 * response shows it, the timer does.
 */
void test_roce_rc_read_retx(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	struct dbnic_desc d;
	uint64_t tgt, rd;
	uint32_t tkey, rkey;
	uint16_t ri;

	rc_pair(a, b, &qa, &qb);
	tgt = buf_new(a, 4096, 3);
	tkey = mr_of(a, tgt, 4096, ACC_ALL);
	rd = buf_new(b, 4096, 4);
	rkey = mr_of(b, rd, 4096, DBNIC_MR_LOCAL_WRITE);
	filter_on(0xff);
	drop_op = DBNIC_ROCE_RC_READ_RESP_MIDDLE;
	wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt, tkey);
	d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
	sge_set(&d.sge[1], rd, 4096, rkey);
	ri = post(&qb, &d);
	wire_run();
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RX_SEQ), 2);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_SEQ), 1);	/* once per gap */
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 0);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_DUP), 1);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_READ_RESP_TX), 4 + 3);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, ri);
	CHECK(mem_eq(b, rd, a, tgt, 4096));

	/*
	 * The READ sent again loses its READ response first as well: the
	 * first execution's middle response for that PSN, late, serves.
	 */
	memset(gpa(&b->f, rd), 0, 4096);
	filter_on(DBNIC_ROCE_RC_READ_RESP_MIDDLE);
	drop_op = DBNIC_ROCE_RC_READ_RESP_MIDDLE;
	drop_op2 = DBNIC_ROCE_RC_READ_RESP_FIRST;
	drop_op2_skip = 1;
	ri = post(&qb, &d);
	wire_run();
	CHECK(!cqe_poll(&qb, false, &e));
	CHECK(ncap >= 1);
	wire_inject(b, cap_buf[0], cap_len[0]);	/* the lost middle, late */
	wire_run();
	clock_run(a, b, TMO14_NS);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, ri);
	CHECK(mem_eq(b, rd, a, tgt, 4096));
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);

	memset(gpa(&b->f, rd), 0, 4096);
	filter_on(0xff);
	drop_op = DBNIC_ROCE_RC_READ_RESP_LAST;
	ri = post(&qb, &d);
	wire_run();
	CHECK(!cqe_poll(&qb, false, &e));
	clock_run(a, b, TMO14_NS);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_RETRY_TIMEOUT), 2);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, ri);
	CHECK(mem_eq(b, rd, a, tgt, 4096));
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * A READ executed again for a late duplicate of its request holds its
 * resource only until a new READ needs it: the requester had the first
 * answer and moved on.  Four new READs (max_dest_rd_atomic 4) right
 * behind the duplicate all succeed; the fourth takes the resource of
 * the one being repeated instead of being NAKed as a fifth.
 */
void test_roce_rc_read_again_yields(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	struct dbnic_desc d;
	uint64_t tgt, rd;
	uint32_t tkey, rkey;
	unsigned int i;

	rc_pair(a, b, &qa, &qb);
	tgt = buf_new(a, 4096, 3);
	tkey = mr_of(a, tgt, 4096, ACC_ALL);
	rd = buf_new(b, 5 * 4096, 4);
	rkey = mr_of(b, rd, 5 * 4096, DBNIC_MR_LOCAL_WRITE);
	filter_on(DBNIC_ROCE_RC_READ_REQ);
	wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt, tkey);
	d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
	sge_set(&d.sge[1], rd, 4096, rkey);
	post(&qb, &d);
	wire_run();
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(ncap, 1);
	/* Four new READs leave b; the old request's copy reaches a first. */
	for (i = 1; i < 5; i++) {
		sge_set(&d.sge[1], rd + i * 4096, 4096, rkey);
		post(&qb, &d);
	}
	fake_run(&b->f);
	wire_inject(a, cap_buf[0], cap_len[0]);
	wire_deliver();		/* before a has answered the duplicate */
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_DUP), 1);
	for (i = 1; i < 5; i++) {
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK(mem_eq(b, rd + i * 4096, a, tgt, 4096));
	}
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_RTS);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_QP_ERR), 0);
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * Go-back-N reads the WQE again from its ring slot: a slot the host
 * changed meanwhile fails the WQE (LOC_QP_OP_ERR, BAD_DESC), never sends
 * something else under its PSNs.
 */
void test_roce_rc_retx_slot_changed(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	struct dbnic_desc *slot;
	uint64_t src, tx;
	uint32_t skey;
	uint16_t idx;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	filter_on(0xff);
	drop_all = true;
	idx = send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
	wire_run();
	slot = gpa(&b->f, qb.sq + ((uint64_t)dbnic_ring_slot(idx, QLOG)
				   << QSTRIDE));
	slot->hdr.opcode = DBNIC_OP_RDMA_WRITE;
	tx = cnt(b, DBNIC_CNT_ROCE_TX_PKTS);
	clock_run(a, b, TMO14_NS);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), tx);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_LOC_QP_OP_ERR);
	CHECK_EQ(e.vendor_err, DBNIC_ST_BAD_DESC);
	CHECK_EQ(e.index, idx);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_ERR);
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * An rkey the responder's QP may not use: of another context, of another
 * pd, stale, 0, without REMOTE_WRITE, or a range past the registration.
 * Each is counted, NAKed (remote access), writes nothing, and moves both
 * QPs to ERR.
 */
void test_roce_rc_rkey_refused(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, tgt;
	uint32_t skey, keys[7], ctx2, old;
	uint8_t snap[4096];
	unsigned int k;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	tgt = buf_new(a, 4096, 2);
	ctx2 = create_ctx(&a->f, false);
	/* Another context's registration of the same memory, same pd. */
	CHECK_EQ(mr_reg(a, ctx2, a->pd, tgt, 4096, ACC_ALL, &keys[0]), 0);
	/* This context, another pd. */
	CHECK_EQ(mr_reg(a, a->ctx, a->pd + 1, tgt, 4096, ACC_ALL, &keys[1]), 0);
	/* Stale: deregistered, its entry registered again. */
	CHECK_EQ(mr_reg(a, a->ctx, a->pd, tgt, 4096, ACC_ALL, &old), 0);
	CHECK_EQ(dereg_mr(&a->f, old), 0);
	CHECK_EQ(mr_reg(a, a->ctx, a->pd, tgt, 4096, ACC_ALL, &keys[3]), 0);
	CHECK(keys[3] != old);
	keys[2] = old;
	keys[3] = 0;
	/* No remote write. */
	keys[4] = mr_of(a, tgt, 4096,
			DBNIC_MR_LOCAL_WRITE | DBNIC_MR_REMOTE_READ);
	/* Past the end (below: 100 bytes from 4000). */
	keys[5] = mr_of(a, tgt, 4096, ACC_ALL);
	memcpy(snap, gpa(&a->f, tgt), sizeof(snap));

	for (k = 0; k < 6; k++) {
		uint64_t raddr = k == 5 ? tgt + 4000 : tgt;

		write1(&qb, DBNIC_OP_RDMA_WRITE, SIG, raddr, keys[k], src, 100,
		       skey);
		wire_run();
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_RKEY), k + 1);
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_NAK_TX), k + 1);
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 0);
		CHECK(!memcmp(gpa(&a->f, tgt), snap, sizeof(snap)));
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.status, DBNIC_WC_REM_ACCESS_ERR);
		CHECK_EQ(qp_state(&qa), DBNIC_QPS_ERR);
		CHECK_EQ(qp_state(&qb), DBNIC_QPS_ERR);
		qp_reconnect(&qa, &qb, PSN_A, PSN_B);
		qp_reconnect(&qb, &qa, PSN_B, PSN_A);
	}
	/* The good key, up to the registration's last byte: written. */
	write1(&qb, DBNIC_OP_RDMA_WRITE, SIG, tgt + 3000, keys[5], src, 1096,
	       skey);
	wire_run();
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(mem_eq(a, tgt + 3000, b, src, 1096));
	/* A READ needs REMOTE_READ. */
	{
		struct dbnic_desc d;
		uint32_t wkey = mr_of(a, tgt, 4096, DBNIC_MR_REMOTE_WRITE);

		wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt, wkey);
		d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
		sge_set(&d.sge[1], src, 100, skey);
		post(&qb, &d);
		wire_run();
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.status, DBNIC_WC_REM_ACCESS_ERR);
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_RKEY), 7);
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_READ_RESP_TX), 0);
	}
	fake_free(&a->f);
	fake_free(&b->f);
}

/* One machine, two QPs connected to each other through the port's MAC. */
void test_roce_loopback(void)
{
	struct tnode *a = &na;
	struct tqp q1, q2;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	uint64_t buf1, buf2;
	uint32_t k1, k2;

	node_init(a, 0);
	qp_create(a, &q1, DBNIC_QPT_RC, a->pd);
	qp_create(a, &q2, DBNIC_QPT_RC, a->pd);
	qp_up(&q1, &q2, PSN_A, PSN_B);
	qp_up(&q2, &q1, PSN_B, PSN_A);
	buf1 = buf_new(a, 8192, 1);
	k1 = mr_of(a, buf1, 8192, ACC_ALL);
	buf2 = buf_new(a, 8192, 2);
	k2 = mr_of(a, buf2, 8192, ACC_ALL);

	recv_post1(&q2, buf2, 4096, k2);
	send1(&q1, DBNIC_OP_SEND, SIG, buf1, 2500, k1);
	write1(&q1, DBNIC_OP_RDMA_WRITE, SIG, buf2 + 4096, k2, buf1 + 3000,
	       1500, k1);
	wqe_rdma(&d, &q2, DBNIC_OP_RDMA_READ, SIG, buf1 + 5000, k1);
	d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
	sge_set(&d.sge[1], buf2 + 6000, 2000, k2);
	post(&q2, &d);
	wire_run();
	CHECK(cqe_poll(&q2, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.byte_len, 2500);
	CHECK(mem_eq(a, buf2, a, buf1, 2500));
	CHECK(mem_eq(a, buf2 + 4096, a, buf1 + 3000, 1500));
	CHECK(mem_eq(a, buf2 + 6000, a, buf1 + 5000, 2000));
	CHECK(cqe_poll(&q1, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(cqe_poll(&q1, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(cqe_poll(&q2, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.opcode, DBNIC_WC_RDMA_READ);
	CHECK_EQ(a->f.tx_frames, 0);	/* nothing reached the network */
	CHECK(cnt(a, DBNIC_CNT_ROCE_LOOPBACK) >= 7);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_LOOPBACK), cnt(a, DBNIC_CNT_ROCE_TX_PKTS));
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_TX_DROP), 0);
	fake_free(&a->f);
}

static uint32_t ah_new(struct tnode *n, const struct tnode *peer, uint32_t pd)
{
	struct dbnic_admin_cmd cmd;
	uint32_t ah;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_AH;
	av_to(&cmd.create_ah.av, peer);
	cmd.create_ah.ctx = n->ctx;
	cmd.create_ah.pd = pd;
	if (admin(&n->f, &cmd, &ah) != DBNIC_AST_OK)
		abort();
	return ah;
}

static uint16_t ud_send(struct tqp *q, uint32_t ah, uint32_t rqpn,
			uint32_t qkey, uint64_t addr, uint32_t len, uint32_t key)
{
	struct dbnic_desc d;

	wqe_init(&d, q, DBNIC_OP_SEND_IMM, SIG);
	d.hdr.imm = 0x01020304;
	dbnic_rdma_seg_of(&d)->ah = ah;
	dbnic_rdma_seg_of(&d)->remote_qpn = rqpn;
	dbnic_rdma_seg_of(&d)->remote_qkey = qkey;
	d.hdr.nsge = 1;
	sge_set(&d.sge[1], addr, len, key);
	return post(q, &d);
}

/* UD: the 40-byte GRH, src_qp, the Q_Key rule, no buffer. */
void test_roce_ud(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst;
	uint32_t skey, dkey, ah;
	const uint8_t *g;
	uint16_t idx;
	unsigned int i;

	node_init(a, 0);
	node_init(b, 1);
	qp_create(a, &qa, DBNIC_QPT_UD, a->pd);
	qp_create(b, &qb, DBNIC_QPT_UD, b->pd);
	qp_up(&qa, NULL, 0, 0);
	qp_up(&qb, NULL, 0x100, 0);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 8192, 2);
	dkey = mr_of(a, dst, 8192, DBNIC_MR_LOCAL_WRITE);
	ah = ah_new(b, a, b->pd);

	recv_post1(&qa, dst, 1024, dkey);
	idx = ud_send(&qb, ah, qa.qpn, 0x1234, src, 200, skey);
	wire_run();
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.index, idx);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 200);
	CHECK_EQ(e.src_qp, qb.qpn);
	CHECK_EQ(e.wc_flags, DBNIC_WC_F_GRH | DBNIC_WC_F_NET_IPV4 |
			     DBNIC_WC_F_WITH_IMM);
	CHECK(!memcmp(&e.imm, "\x04\x03\x02\x01", 4));
	g = gpa(&a->f, dst);
	for (i = 0; i < 20; i++)
		CHECK_EQ(g[i], 0);
	CHECK_EQ(g[20], 0x45);			/* the IPv4 header */
	CHECK(!memcmp(g + 20 + 12, b->gid + 12, 4));	/* its source */
	CHECK(!memcmp(g + 20 + 16, a->gid + 12, 4));
	CHECK(mem_eq(a, dst + DBNIC_GRH_BYTES, b, src, 200));

	/* The wrong Q_Key: dropped, counted, the RECV stays. */
	recv_post1(&qa, dst + 2048, 1024, dkey);
	ud_send(&qb, ah, qa.qpn, 0x4321, src, 100, skey);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_QKEY), 1);
	CHECK(!cqe_poll(&qa, true, &e));
	CHECK(cqe_poll(&qb, false, &e));	/* UD: complete when sent */
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	/* Bit 31: the sender's own Q_Key (0x1234 here) goes out. */
	ud_send(&qb, ah, qa.qpn, 0x80000000, src, 100, skey);
	wire_run();
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 100);
	CHECK(cqe_poll(&qb, false, &e));
	/* No RECV: dropped, counted. */
	ud_send(&qb, ah, qa.qpn, 0x1234, src, 100, skey);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_NOBUF), 1);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 2);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_RTS);
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * Build a RoCE frame from peer to n (as peer's QP would send it), with
 * plen payload bytes of pattern.  Returns its length.
 */
static size_t mkframe(uint8_t *buf, const struct tnode *n,
		      const struct tnode *peer, const struct dbnic_roce_hdr *h,
		      uint32_t plen)
{
	struct dbnic_roce_addr ad;
	uint32_t crc, i;
	size_t hl;

	memset(&ad, 0, sizeof(ad));
	memcpy(ad.dmac, n->mac, 6);
	memcpy(ad.smac, peer->mac, 6);
	ad.vlan = DBNIC_ROCE_NO_VLAN;
	ad.ipver = 4;
	ad.hop_limit = 64;
	ad.udp_sport = 0xc001;
	memcpy(ad.sgid, peer->gid, 16);
	memcpy(ad.dgid, n->gid, 16);
	hl = dbnic_roce_build(buf, DBNIC_ROCE_FRAME_MAX, &ad, h, plen, &crc);
	if (!hl)
		abort();
	for (i = 0; i < plen; i++)
		buf[hl + i] = (uint8_t)(i + 1);
	crc = dbnic_roce_icrc_update(crc, buf + hl, plen);
	hl += plen;
	return hl + dbnic_roce_icrc_finish(buf + hl, crc, dbnic_roce_pad(plen));
}

/*
 * The receive checks of 11.8 in their order, each drop in exactly one
 * counter, nothing written and no QP state changed by any of them.
 */
void test_roce_rx_checks(void)
{
	struct tnode *a = &na, *b = &nb, c;
	struct tqp qa, qb, ud;
	struct dbnic_roce_hdr h;
	struct dbnic_rdma_cqe e;
	static uint8_t fr[DBNIC_ROCE_FRAME_MAX];
	uint64_t tgt, snap_rx;
	uint32_t tkey;
	size_t len;
	unsigned int i;
	uint8_t snap[512];
	static const enum dbnic_counter drops[] = {
		DBNIC_CNT_ROCE_RX_BAD_HDR, DBNIC_CNT_ROCE_RX_BAD_ICRC,
		DBNIC_CNT_ROCE_RX_NO_QP, DBNIC_CNT_ROCE_RX_QKEY,
		DBNIC_CNT_ROCE_RX_NOBUF, DBNIC_CNT_ROCE_RX_DUP,
		DBNIC_CNT_ROCE_RX_SEQ, DBNIC_CNT_ROCE_RX_RKEY,
	};
	uint64_t before[8];

	rc_pair(a, b, &qa, &qb);
	qp_create(a, &ud, DBNIC_QPT_UD, a->pd);
	qp_up(&ud, NULL, 0, 0);
	tgt = buf_new(a, 4096, 3);
	tkey = mr_of(a, tgt, 4096, ACC_ALL);
	memcpy(snap, gpa(&a->f, tgt), sizeof(snap));
	/* A third address, never connected to anything. */
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, b->mac, 6);
	memcpy(c.gid, b->gid, 16);
	c.gid[15] = 99;

	/* The good one: a WRITE_ONLY of 64 bytes, expected PSN. */
	memset(&h, 0, sizeof(h));
	h.opcode = DBNIC_ROCE_RC_WRITE_ONLY;
	h.pkey = 0xffff;
	h.dqpn = qa.qpn;
	h.psn = PSN_B;
	h.reth.va = tgt;
	h.reth.rkey = tkey;
	h.reth.dma_len = 64;

	for (i = 0; i < 8; i++)
		before[i] = cnt(a, drops[i]);
	snap_rx = cnt(a, DBNIC_CNT_ROCE_RX_PKTS);
#define DROPPED_IN(k)							\
	do {								\
		unsigned int _j;					\
		for (_j = 0; _j < 8; _j++)				\
			CHECK_EQ(cnt(a, drops[_j]),			\
				 before[_j] + (_j == (k)));		\
		if ((k) < 8)						\
			before[k]++;					\
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), snap_rx);	\
		CHECK(!memcmp(gpa(&a->f, tgt), snap, sizeof(snap)));	\
	} while (0)

	/* A bad ICRC. */
	len = mkframe(fr, a, b, &h, 64);
	fr[len - 10] ^= 1;
	wire_inject(a, fr, len);
	DROPPED_IN(1);
	/* P_Key of another partition (checked before the ICRC). */
	h.pkey = 0x8001;
	len = mkframe(fr, a, b, &h, 64);
	fr[len - 1] ^= 0xff;
	wire_inject(a, fr, len);
	DROPPED_IN(0);
	h.pkey = 0x7fff;	/* the limited member of the default: fine */
	/* An opcode the device does not speak (UC SEND ONLY). */
	len = mkframe(fr, a, b, &h, 64);
	fr[len - 64 - 4 - 16 - 12] = 0x24;
	wire_inject(a, fr, len);
	DROPPED_IN(0);
	/* TVer 1. */
	len = mkframe(fr, a, b, &h, 64);
	fr[len - 64 - 4 - 16 - 12 + 1] |= 1;
	wire_inject(a, fr, len);
	DROPPED_IN(0);
	/* Truncated in its RETH. */
	len = mkframe(fr, a, b, &h, 64);
	wire_inject(a, fr, len - 64 - 4 - 10);
	DROPPED_IN(0);
	/* No such QP; a stale QPN; the UD QP for an RC opcode. */
	h.dqpn = qa.qpn ^ 0x5;
	len = mkframe(fr, a, b, &h, 64);
	wire_inject(a, fr, len);
	DROPPED_IN(2);
	h.dqpn = qa.qpn + (1 << 12);
	len = mkframe(fr, a, b, &h, 64);
	wire_inject(a, fr, len);
	DROPPED_IN(2);
	h.dqpn = ud.qpn;
	len = mkframe(fr, a, b, &h, 64);
	wire_inject(a, fr, len);
	DROPPED_IN(2);
	/* RC from an address that is not the QP's peer. */
	h.dqpn = qa.qpn;
	len = mkframe(fr, a, &c, &h, 64);
	wire_inject(a, fr, len);
	DROPPED_IN(2);
	/* PSN ahead: one sequence NAK, not one more for the next. */
	h.psn = PSN_B + 5;
	len = mkframe(fr, a, b, &h, 64);
	wire_inject(a, fr, len);
	DROPPED_IN(6);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_NAK_TX), 1);
	wire_inject(a, fr, len);
	DROPPED_IN(6);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_NAK_TX), 1);
	/* An rkey of another pd: last, it moves the QP to ERR. */
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_RTS);
	h.psn = PSN_B;
	CHECK_EQ(mr_reg(a, a->ctx, a->pd + 1, tgt, 4096, ACC_ALL, &h.reth.rkey),
		 0);
	len = mkframe(fr, a, b, &h, 64);
	wire_inject(a, fr, len);
	DROPPED_IN(7);
	/* The UD QP: its Q_Key. */
	memset(&h, 0, sizeof(h));
	h.opcode = DBNIC_ROCE_UD_SEND_ONLY;
	h.pkey = 0xffff;
	h.dqpn = ud.qpn;
	h.deth.qkey = 0x1235;
	h.deth.src_qpn = 77;
	len = mkframe(fr, a, b, &h, 32);
	wire_inject(a, fr, len);
	DROPPED_IN(3);
	h.deth.qkey = 0x1234;
	len = mkframe(fr, a, b, &h, 32);
	wire_inject(a, fr, len);
	DROPPED_IN(4);	/* no RECV */
	/* Not RoCE at all for a GID the port does not have: Ethernet's. */
	len = mkframe(fr, &c, b, &h, 32);
	memcpy(fr, a->mac, 6);
	wire_inject(a, fr, len);
	DROPPED_IN(99);
	CHECK_EQ(cnt(a, DBNIC_CNT_ETH_RX_NOBUF), 1);

	/* The sequence NAK went out once, the rkey NAK once. */
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_NAK_TX), 2);
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_ERR);
	CHECK(!cqe_poll(&qa, true, &e));
	fake_free(&a->f);
	fake_free(&b->f);
}

/* Count the packets that ask for an ACK. */
static unsigned int ackreqs;

static bool count_ackreq(const uint8_t *buf, size_t len, unsigned int k)
{
	struct dbnic_roce_pkt pkt;

	if (dbnic_roce_parse(buf, len, &pkt) == DBNIC_ROCE_OK &&
	    pkt.hdr.opcode != DBNIC_ROCE_RC_ACK && pkt.hdr.ackreq)
		ackreqs++;
	return true;
}

/*
 * A WRITE of 130 KiB: three engine chunks, 130 packets, AckReq on the
 * 64th, the 128th and the last (every 65th would give two), across the
 * PSN wrap.
 */
void test_roce_rc_big_write(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint32_t len = 130u << 10, skey, tkey;
	uint64_t src, tgt;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, len, 1);
	skey = mr_of(b, src, len, DBNIC_MR_LOCAL_WRITE);
	tgt = buf_new(a, len + 8, 2);
	tkey = mr_of(a, tgt, len + 8, ACC_ALL);
	ackreqs = 0;
	wire_keep = count_ackreq;
	write1(&qb, DBNIC_OP_RDMA_WRITE, SIG, tgt + 3, tkey, src, len, skey);
	wire_run();
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.byte_len, len);
	CHECK(mem_eq(a, tgt + 3, b, src, len));
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), 130);
	CHECK_EQ(ackreqs, 3);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 130);
	CHECK(cnt(b, DBNIC_CNT_BYTES) >= len);
	/* The payload came through mappings where the owner has them. */
	CHECK(harness_legacy || b->f.map_bytes >= len);
	CHECK_EQ(b->f.maps_live, 0);
	fake_free(&a->f);
	fake_free(&b->f);
}

/* A port that pushes back holds the packet; a link that is down drops it. */
void test_roce_port_busy_and_down(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst;
	uint32_t skey, dkey;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	recv_post1(&qa, dst, 4096, dkey);
	b->f.tx_busy = true;
	send1(&qb, DBNIC_OP_SEND, SIG, src, 2500, skey);
	wire_run();
	CHECK_EQ(b->f.tx_frames, 0);
	CHECK(!cqe_poll(&qb, false, &e));
	b->f.tx_busy = false;
	dbnic_core_eth_tx_resume(&b->f.core);
	wire_run();
	CHECK_EQ(b->f.tx_frames, 3);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK(mem_eq(a, dst, b, src, 2500));

	/* Link down: dropped and counted; RC waits for its ACK (1.5 retries). */
	dbnic_core_eth_set_link(&b->f.core, false);
	send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
	wire_run();
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_DROP), 1);
	CHECK_EQ(b->f.tx_frames, 3);
	CHECK(!cqe_poll(&qb, false, &e));
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_RTS);
	fake_free(&a->f);
	fake_free(&b->f);
}

/* GSI to GSI: QPN 1, Q_Key 0x80010000 on the wire, src_qp 1. */
void test_roce_gsi(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst;
	uint32_t skey, dkey, ah;

	node_init(a, 0);
	node_init(b, 1);
	qp_create(a, &qa, DBNIC_QPT_GSI, a->pd);
	qp_create(b, &qb, DBNIC_QPT_GSI, b->pd);
	CHECK_EQ(qa.qpn, DBNIC_GSI_QPN);
	qp_up(&qa, NULL, 0, 0);
	qp_up(&qb, NULL, 0, 0);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	ah = ah_new(b, a, b->pd);
	recv_post1(&qa, dst, 1024, dkey);
	filter_on(DBNIC_ROCE_UD_SEND_ONLY_IMM);
	ud_send(&qb, ah, DBNIC_GSI_QPN, 0x5555, src, 256, skey);
	wire_run();
	CHECK_EQ(ncap, 1);
	{
		struct dbnic_roce_pkt pkt;

		CHECK_EQ(dbnic_roce_parse(cap_buf[0], cap_len[0], &pkt),
			 DBNIC_ROCE_OK);
		CHECK_EQ(pkt.hdr.deth.qkey, DBNIC_GSI_QKEY);
		CHECK_EQ(pkt.hdr.deth.src_qpn, DBNIC_GSI_QPN);
		CHECK_EQ(pkt.hdr.dqpn, DBNIC_GSI_QPN);
	}
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.qpn, DBNIC_GSI_QPN);
	CHECK_EQ(e.src_qp, DBNIC_GSI_QPN);
	CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 256);
	CHECK(mem_eq(a, dst + DBNIC_GRH_BYTES, b, src, 256));
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * READ responses go out before the QP's own new requests (11.8); at most
 * max_rd_atomic (4 here) READs are outstanding, the fifth waits.
 */
void test_roce_rc_read_order_and_limit(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	uint64_t tgt, dst, bdst;
	uint32_t tkey, dkey, bkey;
	unsigned int k, first_send = 0, last_resp = 0;

	rc_pair(a, b, &qa, &qb);
	tgt = buf_new(a, 8192, 3);
	tkey = mr_of(a, tgt, 8192, ACC_ALL);
	dst = buf_new(b, 8192, 5);
	dkey = mr_of(b, dst, 8192, ACC_ALL);
	bdst = buf_new(b, 4096, 6);
	bkey = mr_of(b, bdst, 4096, ACC_ALL);
	recv_post1(&qb, bdst, 4096, bkey);

	/* B's READ of 3000 bytes reaches A; then A's own SEND is posted. */
	wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt, tkey);
	d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
	sge_set(&d.sge[1], dst, 3000, dkey);
	post(&qb, &d);
	fake_run(&b->f);
	CHECK_EQ(wire_len, 1);
	eth_rx(&a->f, wire[0].buf, wire[0].len, 0, 0, 0);
	wire_len = 0;
	send1(&qa, DBNIC_OP_SEND, SIG, tgt + 4000, 500, tkey);
	wire_run();
	for (k = 0; k < noplog; k++) {
		if (oplog_from[k] != 0)
			continue;
		if (oplog[k] >= DBNIC_ROCE_RC_READ_RESP_FIRST &&
		    oplog[k] <= DBNIC_ROCE_RC_READ_RESP_ONLY)
			last_resp = k;
		if (oplog[k] == DBNIC_ROCE_RC_SEND_ONLY && !first_send)
			first_send = k;
	}
	CHECK(last_resp && first_send);
	CHECK(last_resp < first_send);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(cqe_poll(&qa, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(cqe_poll(&qb, true, &e));
	CHECK(mem_eq(b, dst, a, tgt, 3000));
	CHECK(mem_eq(b, bdst, a, tgt + 4000, 500));

	/* Five READs: four go out, the fifth waits for the first answer. */
	for (k = 0; k < 5; k++) {
		wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt + 100 * k, tkey);
		d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
		sge_set(&d.sge[1], dst + 1000 * k, 100, dkey);
		post(&qb, &d);
	}
	fake_run(&b->f);
	CHECK_EQ(wire_len, 4);
	wire_run();
	for (k = 0; k < 5; k++) {
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK(mem_eq(b, dst + 1000 * k, a, tgt + 100 * k, 100));
	}
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * The AETH of each READ's first and last response carries the MSN that
 * READ made (IBTA C9-148: the responder counts a READ when it takes the
 * request; rxe_resp.c:1048-1049, 832), also when several READs arrived
 * before any was answered: three READs taken at once are answered with
 * MSN 1, 2 and 3, as rxe answers, not with the newest MSN (3) on all.
 * The second READ's request, replayed, is answered with its MSN again.
 */
void test_roce_rc_read_resp_msn(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_desc d;
	struct dbnic_rdma_cqe e;
	struct dbnic_roce_pkt pkt;
	uint64_t tgt, dst;
	uint32_t tkey, dkey, msn[6];
	unsigned int k, n = 0;
	static struct wframe req2;

	rc_pair(a, b, &qa, &qb);
	tgt = buf_new(a, 8192, 3);
	tkey = mr_of(a, tgt, 8192, ACC_ALL);
	dst = buf_new(b, 8192, 5);
	dkey = mr_of(b, dst, 8192, ACC_ALL);
	/* Three READs of 2000 bytes: two responses each (first, last). */
	for (k = 0; k < 3; k++) {
		wqe_rdma(&d, &qb, DBNIC_OP_RDMA_READ, SIG, tgt + 2000 * k, tkey);
		d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, 1);
		sge_set(&d.sge[1], dst + 2000 * k, 2000, dkey);
		post(&qb, &d);
	}
	fake_run(&b->f);
	CHECK_EQ(wire_len, 3);
	req2 = wire[1];
	/* A takes all three requests before its engine answers any. */
	for (k = 0; k < 3; k++)
		eth_rx(&a->f, wire[k].buf, wire[k].len, 0, 0, 0);
	wire_len = 0;
	fake_run(&a->f);
	for (k = 0; k < wire_len; k++) {
		CHECK_EQ(dbnic_roce_parse(wire[k].buf, wire[k].len, &pkt), DBNIC_ROCE_OK);
		if (pkt.hdr.opcode != DBNIC_ROCE_RC_READ_RESP_FIRST &&
		    pkt.hdr.opcode != DBNIC_ROCE_RC_READ_RESP_LAST)
			continue;
		CHECK(n < 6);
		msn[n++] = pkt.hdr.aeth.msn;
	}
	CHECK_EQ(n, 6);
	for (k = 0; k < 6; k++)
		CHECK_EQ(msn[k], k / 2 + 1);
	wire_run();
	for (k = 0; k < 3; k++) {
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK(mem_eq(b, dst + 2000 * k, a, tgt + 2000 * k, 2000));
	}
	/* The second READ again: its responses carry MSN 2 again. */
	wire_inject(a, req2.buf, req2.len);
	fake_run(&a->f);
	n = 0;
	for (k = 0; k < wire_len; k++) {
		CHECK_EQ(dbnic_roce_parse(wire[k].buf, wire[k].len, &pkt), DBNIC_ROCE_OK);
		if (pkt.hdr.opcode != DBNIC_ROCE_RC_READ_RESP_FIRST &&
		    pkt.hdr.opcode != DBNIC_ROCE_RC_READ_RESP_LAST)
			continue;
		CHECK_EQ(pkt.hdr.aeth.msn, 2);
		n++;
	}
	CHECK_EQ(n, 2);
	wire_run();
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * A SEND longer than its RECV: LOC_LEN_ERR there, NAK invalid request;
 * a RECV with a key of another pd: LOC_PROT_ERR, the same NAK.  Both QPs
 * end in ERR.
 */
void test_roce_rc_recv_errors(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst;
	uint32_t skey, dkey, okey;
	uint16_t r;
	uint8_t snap[512];

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	CHECK_EQ(mr_reg(a, a->ctx, a->pd + 1, dst, 4096, ACC_ALL, &okey), 0);
	memcpy(snap, gpa(&a->f, dst + 1024), sizeof(snap));

	/* 2000 bytes into 1500: the first packet fits, the second not. */
	r = recv_post1(&qa, dst, 1500, dkey);
	send1(&qb, DBNIC_OP_SEND, SIG, src, 2000, skey);
	wire_run();
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_LOC_LEN_ERR);
	CHECK_EQ(e.index, r);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_REM_INV_REQ_ERR);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_NAK_TX), 1);
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_ERR);
	CHECK_EQ(qp_state(&qb), DBNIC_QPS_ERR);
	/* Nothing past the RECV's 1500 bytes was written. */
	CHECK(!memcmp(gpa(&a->f, dst + 1500), snap + 476, 36));

	qp_reconnect(&qa, &qb, PSN_A, PSN_B);
	qp_reconnect(&qb, &qa, PSN_B, PSN_A);
	r = recv_post1(&qa, dst + 1024, 512, okey);
	send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
	wire_run();
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_LOC_PROT_ERR);
	CHECK_EQ(e.index, r);
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_REM_INV_REQ_ERR);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_NAK_TX), 2);
	CHECK(!memcmp(gpa(&a->f, dst + 1024), snap, sizeof(snap)));
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * WQEs sent and waiting for their ACK when the QP moves to ERR flush
 * first, in order, then the rest of the send queue (11.2); RESET after
 * that forgets the PSNs and the QP works again.
 */
void test_roce_rc_flush_inflight(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_rdma_cqe e;
	struct dbnic_qp_attr at;
	uint64_t src, dst;
	uint32_t skey, dkey;
	uint16_t idx[3];
	unsigned int k;

	rc_pair(a, b, &qa, &qb);
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 8192, 2);
	dkey = mr_of(a, dst, 8192, DBNIC_MR_LOCAL_WRITE);
	for (k = 0; k < 2; k++)
		recv_post1(&qa, dst + 1024 * k, 1024, dkey);
	filter_on(0xff);
	drop_acks = true;
	idx[0] = send1(&qb, DBNIC_OP_SEND, SIG, src, 100, skey);
	idx[1] = send1(&qb, DBNIC_OP_SEND, 0, src, 200, skey);
	wire_run();
	CHECK(!cqe_poll(&qb, false, &e));
	/* The third is not sent before the QP leaves RTS. */
	engine_pending(&b->f);
	idx[2] = send1(&qb, DBNIC_OP_SEND, SIG, src, 300, skey);
	memset(&at, 0, sizeof(at));
	at.state = DBNIC_QPS_ERR;
	CHECK_EQ(qp_modify(&qb, &at, DBNIC_QP_ATTR_STATE), 0);
	wire_run();
	for (k = 0; k < 3; k++) {
		CHECK(cqe_poll(&qb, false, &e));
		CHECK_EQ(e.index, idx[k]);
		CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
		CHECK_EQ(e.head, idx[k] + 1);
	}
	CHECK(!cqe_poll(&qb, false, &e));
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), 2);

	/* RESET and up again: both sides start from their PSNs anew. */
	drop_acks = false;
	qp_reconnect(&qa, &qb, PSN_A, PSN_B);
	qp_reconnect(&qb, &qa, PSN_B, PSN_A);
	recv_post1(&qa, dst + 4096, 1024, dkey);
	send1(&qb, DBNIC_OP_SEND, SIG, src + 7, 77, skey);
	wire_run();
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK(cqe_poll(&qa, true, &e));
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.byte_len, 77);
	CHECK(mem_eq(a, dst + 4096, b, src + 7, 77));
	CHECK(!cqe_poll(&qb, false, &e));

	/* RTS to RESET with a WQE waiting for its ACK: discarded, no CQE. */
	recv_post1(&qa, dst + 5120, 1024, dkey);
	drop_acks = true;
	send1(&qb, DBNIC_OP_SEND, SIG, src, 10, skey);
	wire_run();
	drop_acks = false;
	qp_reconnect(&qa, &qb, PSN_A, PSN_B);
	qp_reconnect(&qb, &qa, PSN_B, PSN_A);
	recv_post1(&qa, dst + 6144, 1024, dkey);
	idx[0] = send1(&qb, DBNIC_OP_SEND, SIG, src + 9, 99, skey);
	wire_run();
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.index, idx[0]);
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(!cqe_poll(&qb, false, &e));
	fake_free(&a->f);
	fake_free(&b->f);
}

/* The AV of peer's IPv6 GID 1 on VLAN 5. */
static void av6_to(struct dbnic_av *av, const struct tnode *peer)
{
	av_to(av, peer);
	memset(av->dgid, 0, 16);
	av->dgid[0] = 0xfd;
	av->dgid[13] = 1;
	av->dgid[15] = (uint8_t)(1 + peer->idx);
	av->vlan = 5;
	av->sgid_index = 1;
	av->flow_label = 0x12345;
	av->traffic_class = 0x20;
	av->net = DBNIC_NET_IPV6;
}

/* RC and UD over IPv6 on a VLAN: the tag on the wire, the IPv6 "GRH". */
void test_roce_ipv6_vlan(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb, ua, ub;
	struct dbnic_qp_attr at;
	struct dbnic_admin_cmd cmd;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst;
	uint32_t skey, dkey, ah;
	const uint8_t *g;

	rc_pair(a, b, &qa, &qb);
	/* Move both RC QPs' paths to IPv6 (RTS -> RTS takes no AV: RESET). */
	memset(&at, 0, sizeof(at));
	at.state = DBNIC_QPS_RESET;
	CHECK_EQ(qp_modify(&qa, &at, DBNIC_QP_ATTR_STATE), 0);
	CHECK_EQ(qp_modify(&qb, &at, DBNIC_QP_ATTR_STATE), 0);
	{
		struct tqp *q[2] = { &qa, &qb }, *p[2] = { &qb, &qa };
		unsigned int i;

		for (i = 0; i < 2; i++) {
			memset(&at, 0, sizeof(at));
			at.state = DBNIC_QPS_INIT;
			at.access = DBNIC_MR_REMOTE_READ | DBNIC_MR_REMOTE_WRITE;
			CHECK_EQ(qp_modify(q[i], &at, DBNIC_QP_ATTR_STATE |
					   DBNIC_QP_ATTR_PKEY_INDEX |
					   DBNIC_QP_ATTR_PORT |
					   DBNIC_QP_ATTR_ACCESS_FLAGS), 0);
			at.state = DBNIC_QPS_RTR;
			av6_to(&at.av, p[i]->n);
			at.path_mtu = RC_MTU;
			at.dest_qpn = p[i]->qpn;
			at.rq_psn = i ? PSN_A : PSN_B;
			at.max_dest_rd_atomic = 4;
			CHECK_EQ(qp_modify(q[i], &at, DBNIC_QP_ATTR_STATE |
					   DBNIC_QP_ATTR_AV |
					   DBNIC_QP_ATTR_PATH_MTU |
					   DBNIC_QP_ATTR_DEST_QPN |
					   DBNIC_QP_ATTR_RQ_PSN |
					   DBNIC_QP_ATTR_MAX_DEST_RD_ATOMIC |
					   DBNIC_QP_ATTR_MIN_RNR_TIMER), 0);
			at.state = DBNIC_QPS_RTS;
			at.sq_psn = i ? PSN_B : PSN_A;
			at.max_rd_atomic = 4;
			CHECK_EQ(qp_modify(q[i], &at, DBNIC_QP_ATTR_STATE |
					   DBNIC_QP_ATTR_TIMEOUT |
					   DBNIC_QP_ATTR_RETRY_CNT |
					   DBNIC_QP_ATTR_RNR_RETRY |
					   DBNIC_QP_ATTR_SQ_PSN |
					   DBNIC_QP_ATTR_MAX_QP_RD_ATOMIC), 0);
		}
	}
	src = buf_new(b, 4096, 1);
	skey = mr_of(b, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 8192, 2);
	dkey = mr_of(a, dst, 8192, ACC_ALL);
	recv_post1(&qa, dst, 4096, dkey);
	send1(&qb, DBNIC_OP_SEND, SIG, src, 1500, skey);
	wire_run();
	CHECK(cqe_poll(&qb, false, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.byte_len, 1500);
	CHECK(mem_eq(a, dst, b, src, 1500));
	/* The last frame (A's ACK) is tagged and IPv6. */
	CHECK_EQ(last_frame[12], 0x81);
	CHECK_EQ(last_frame[13], 0x00);
	CHECK_EQ(last_frame[15], 5);
	CHECK_EQ(last_frame[16], 0x86);
	CHECK_EQ(last_frame[17], 0xdd);

	/* UD over IPv6: the GRH is the packet's IPv6 header. */
	qp_create(a, &ua, DBNIC_QPT_UD, a->pd);
	qp_create(b, &ub, DBNIC_QPT_UD, b->pd);
	qp_up(&ua, NULL, 0, 0);
	qp_up(&ub, NULL, 0, 0);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_AH;
	av6_to(&cmd.create_ah.av, a);
	cmd.create_ah.av.udp_sport = 0;
	cmd.create_ah.ctx = b->ctx;
	cmd.create_ah.pd = b->pd;
	CHECK_EQ(admin(&b->f, &cmd, &ah), 0);
	recv_post1(&ua, dst + 4096, 1024, dkey);
	ud_send(&ub, ah, ua.qpn, 0x1234, src, 300, skey);
	wire_run();
	CHECK(cqe_poll(&ua, true, &e));
	CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 300);
	CHECK_EQ(e.wc_flags, DBNIC_WC_F_GRH | DBNIC_WC_F_NET_IPV6 |
			     DBNIC_WC_F_WITH_IMM);
	g = gpa(&a->f, dst + 4096);
	CHECK_EQ(g[0] >> 4, 6);
	CHECK_EQ(((g[0] & 0xf) << 4) | (g[1] >> 4), 0x20);	/* class */
	CHECK_EQ((g[1] & 0xf) << 16 | g[2] << 8 | g[3], 0x12345);
	CHECK_EQ(g[6], 17);					/* UDP */
	CHECK_EQ(g[8], 0xfd);				/* source: B's */
	CHECK_EQ(g[23], 2);
	CHECK_EQ(g[39], 1);				/* dest: A's */
	CHECK(mem_eq(a, dst + 4096 + DBNIC_GRH_BYTES, b, src, 300));
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * A SEND cut off by a packet out of its opcode sequence: the RECV its
 * first packet took completes with the error, then the QP's flush takes
 * the RECVs after it; every RECV the device took gets a CQE.
 */
void test_roce_rc_send_cut(void)
{
	struct tnode *a = &na, *b = &nb;
	struct tqp qa, qb;
	struct dbnic_roce_hdr h;
	struct dbnic_rdma_cqe e;
	static uint8_t fr[DBNIC_ROCE_FRAME_MAX];
	uint64_t dst;
	uint32_t dkey;
	uint16_t r0, r1;
	size_t len;

	rc_pair(a, b, &qa, &qb);
	dst = buf_new(a, 8192, 2);
	dkey = mr_of(a, dst, 8192, DBNIC_MR_LOCAL_WRITE);
	r0 = recv_post1(&qa, dst, 4096, dkey);
	r1 = recv_post1(&qa, dst + 4096, 4096, dkey);
	memset(&h, 0, sizeof(h));
	h.opcode = DBNIC_ROCE_RC_SEND_FIRST;
	h.pkey = 0xffff;
	h.dqpn = qa.qpn;
	h.psn = PSN_B;
	len = mkframe(fr, a, b, &h, 1024);
	wire_inject(a, fr, len);
	h.psn = PSN_B + 1;	/* a new message before the last one ended */
	len = mkframe(fr, a, b, &h, 1024);
	wire_inject(a, fr, len);
	wire_run();
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.index, r0);
	CHECK_EQ(e.status, DBNIC_WC_LOC_QP_OP_ERR);
	CHECK(cqe_poll(&qa, true, &e));
	CHECK_EQ(e.index, r1);
	CHECK_EQ(e.status, DBNIC_WC_WR_FLUSH_ERR);
	CHECK(!cqe_poll(&qa, true, &e));
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_NAK_TX), 1);
	CHECK_EQ(qp_state(&qa), DBNIC_QPS_ERR);
	fake_free(&a->f);
	fake_free(&b->f);
}

/* ---- fault injection (11.11) ----------------------------------------- */

/* Set one rate (ppm) of n's fault injector, the others as they are. */
static void fault_rate(struct tnode *n, enum dbnic_fault_dir d,
		       enum dbnic_fault_kind k, uint32_t ppm)
{
	struct dbnic_fault_config cfg = n->f.core.fault.cfg;

	cfg.rate[d][k] = ppm;
	if (dbnic_core_fault_config(&n->f.core, &cfg))
		abort();
}

static void fault_times(struct tnode *n, uint32_t delay_us,
			uint32_t reorder_us)
{
	struct dbnic_fault_config cfg = n->f.core.fault.cfg;

	cfg.delay_us = delay_us;
	cfg.reorder_us = reorder_us;
	if (dbnic_core_fault_config(&n->f.core, &cfg))
		abort();
}

/* b's UD QP sends to a's; a has 8 KiB of buffer at dst for RECVs. */
struct udpair {
	struct tqp qa, qb;
	uint64_t src, dst;
	uint32_t skey, dkey, ah;
};

static void ud_pair(struct tnode *a, struct tnode *b, struct udpair *u)
{
	unsigned int i;

	qp_create(a, &u->qa, DBNIC_QPT_UD, a->pd);
	qp_create(b, &u->qb, DBNIC_QPT_UD, b->pd);
	qp_up(&u->qa, NULL, 0, 0);
	qp_up(&u->qb, NULL, 0x100, 0);
	u->src = buf_new(b, 4096, 1);
	u->skey = mr_of(b, u->src, 4096, DBNIC_MR_LOCAL_WRITE);
	u->dst = buf_new(a, 8192, 2);
	u->dkey = mr_of(a, u->dst, 8192, DBNIC_MR_LOCAL_WRITE);
	u->ah = ah_new(b, a, b->pd);
	for (i = 0; i < 4096; i++)
		((uint8_t *)gpa(&b->f, u->src))[i] = (uint8_t)(i * 7 + 3);
}

/* One UD message of len bytes from src + off; its send CQE is polled. */
static void ud_msg(struct udpair *u, uint32_t off, uint32_t len)
{
	struct dbnic_rdma_cqe e;

	ud_send(&u->qb, u->ah, u->qa.qpn, 0x1234, u->src + off, len, u->skey);
	wire_run();
	if (!cqe_poll(&u->qb, false, &e) || e.status != DBNIC_WC_SUCCESS)
		abort();
}

/* n RECVs of 1 KiB at dst + 1 KiB * i. */
static void ud_recvs(struct udpair *u, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		recv_post1(&u->qa, u->dst + 1024ull * (u->qa.rq_pi % 8), 1024,
			   u->dkey);
}

/* Machines na (receiver) and nb (sender), and a UD pair between them. */
static void ud_nodes(struct udpair *u)
{
	node_init(&na, 0);
	node_init(&nb, 1);
	ud_pair(&na, &nb, u);
}

static void ud_nodes_free(void)
{
	fake_free(&na.f);
	fake_free(&nb.f);
}

/* The ROCE_FAULT_* counter of direction d and fault k. */
static enum dbnic_counter fault_counter(enum dbnic_fault_dir d,
					enum dbnic_fault_kind k)
{
	return (d == DBNIC_FAULT_RX ? DBNIC_CNT_ROCE_FAULT_RX_DROP
				    : DBNIC_CNT_ROCE_FAULT_TX_DROP) + k;
}

/*
 * Nothing reaches u's receiver until judge's clock has moved ns, then
 * the next message does (its CQE is left in *e).
 */
static void arrives_after(struct tnode *judge, uint64_t ns, struct udpair *u,
			  struct dbnic_rdma_cqe *e)
{
	CHECK(!cqe_poll(&u->qa, true, e));
	fake_advance(&judge->f, ns - 1);
	wire_run();
	CHECK(!cqe_poll(&u->qa, true, e));
	fake_advance(&judge->f, 1);
	wire_run();
	CHECK(cqe_poll(&u->qa, true, e));
}

/* Every rate 0 (the default): nothing happens; every packet at 1000000. */
void test_roce_fault_off_and_all(void)
{
	struct tnode *a = &na, *b = &nb;
	struct udpair u;
	struct dbnic_fault_config bad;
	struct dbnic_rdma_cqe e;
	unsigned int i, k;

	node_init(a, 0);
	node_init(b, 1);
	ud_pair(a, b, &u);
	CHECK(!b->f.core.fault.side[0].on && !b->f.core.fault.side[1].on);
	ud_recvs(&u, 4);
	for (i = 0; i < 4; i++)
		ud_msg(&u, 0, 100);
	for (i = 0; i < 4; i++) {
		CHECK(cqe_poll(&u.qa, true, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
	}
	for (k = DBNIC_CNT_ROCE_FAULT_RX_DROP;
	     k <= DBNIC_CNT_ROCE_FAULT_HOLD_FULL; k++) {
		CHECK_EQ(cnt(a, k), 0);
		CHECK_EQ(cnt(b, k), 0);
	}
	/* Out of range: refused, nothing changed. */
	bad = b->f.core.fault.cfg;
	bad.rate[DBNIC_FAULT_TX][DBNIC_FAULT_DROP] = DBNIC_FAULT_PPM + 1;
	CHECK_EQ(dbnic_core_fault_config(&b->f.core, &bad), -1);
	bad.rate[DBNIC_FAULT_TX][DBNIC_FAULT_DROP] = 0;
	bad.delay_us = DBNIC_FAULT_US_MAX + 1;
	CHECK_EQ(dbnic_core_fault_config(&b->f.core, &bad), -1);
	CHECK(!b->f.core.fault.side[DBNIC_FAULT_TX].on);

	/* Transmit drop at 1000000: every packet, the sender completes. */
	fault_rate(b, DBNIC_FAULT_TX, DBNIC_FAULT_DROP, DBNIC_FAULT_PPM);
	ud_recvs(&u, 4);
	for (i = 0; i < 20; i++)
		ud_msg(&u, 0, 100);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_FAULT_TX_DROP), 20);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), 4);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 4);
	CHECK(!cqe_poll(&u.qa, true, &e));
	/* Back to 0: the next packet goes through. */
	fault_rate(b, DBNIC_FAULT_TX, DBNIC_FAULT_DROP, 0);
	ud_msg(&u, 0, 100);
	CHECK(cqe_poll(&u.qa, true, &e));
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_FAULT_TX_DROP), 20);

	/* Receive drop at 1000000: the frame reaches a, a drops it first. */
	fault_rate(a, DBNIC_FAULT_RX, DBNIC_FAULT_DROP, DBNIC_FAULT_PPM);
	for (i = 0; i < 3; i++)
		ud_msg(&u, 0, 100);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_FAULT_RX_DROP), 3);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 5);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_NOBUF), 0);
	CHECK(!cqe_poll(&u.qa, true, &e));
	fake_free(&a->f);
	fake_free(&b->f);
}

/* Duplicate: the receiver gets the same message twice, both directions. */
void test_roce_fault_dup(void)
{
	struct tnode *a = &na, *b = &nb;
	struct udpair u;
	struct dbnic_rdma_cqe e;
	unsigned int i;

	node_init(a, 0);
	node_init(b, 1);
	ud_pair(a, b, &u);
	ud_recvs(&u, 4);
	fault_rate(b, DBNIC_FAULT_TX, DBNIC_FAULT_DUP, DBNIC_FAULT_PPM);
	ud_msg(&u, 0, 300);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_FAULT_TX_DUP), 1);
	CHECK_EQ(cnt(b, DBNIC_CNT_ROCE_TX_PKTS), 2);
	CHECK_EQ(b->f.tx_frames, 2);
	for (i = 0; i < 2; i++) {
		CHECK(cqe_poll(&u.qa, true, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 300);
		CHECK(mem_eq(a, u.dst + 1024 * i + DBNIC_GRH_BYTES, b, u.src,
			     300));
	}
	CHECK(!cqe_poll(&u.qa, true, &e));
	fault_rate(b, DBNIC_FAULT_TX, DBNIC_FAULT_DUP, 0);

	/* Receive side: one frame on the wire, two received. */
	fault_rate(a, DBNIC_FAULT_RX, DBNIC_FAULT_DUP, DBNIC_FAULT_PPM);
	ud_msg(&u, 0, 200);
	CHECK_EQ(b->f.tx_frames, 3);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_FAULT_RX_DUP), 1);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 4);
	CHECK(cqe_poll(&u.qa, true, &e));
	CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 200);
	CHECK(cqe_poll(&u.qa, true, &e));
	CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 200);
	CHECK(!cqe_poll(&u.qa, true, &e));
	fake_free(&a->f);
	fake_free(&b->f);
}

/*
 * Reorder: the held message arrives after the next one; with no next
 * one it arrives when roce-fault-reorder-us has passed, not before.
 */
void test_roce_fault_reorder(void)
{
	struct tnode *a = &na, *b = &nb;
	struct udpair u;
	struct dbnic_rdma_cqe e;
	enum dbnic_fault_dir d;

	for (d = DBNIC_FAULT_RX; d <= DBNIC_FAULT_TX; d++) {
		struct tnode *judge = d == DBNIC_FAULT_RX ? a : b;

		ud_nodes(&u);
		fault_times(judge, 1000, 30);
		ud_recvs(&u, 3);
		fault_rate(judge, d, DBNIC_FAULT_REORDER, DBNIC_FAULT_PPM);
		ud_msg(&u, 0, 100);
		CHECK(!cqe_poll(&u.qa, true, &e));	/* held */
		fault_rate(judge, d, DBNIC_FAULT_REORDER, 0);
		ud_msg(&u, 100, 200);
		/* The second first, then the first. */
		CHECK(cqe_poll(&u.qa, true, &e));
		CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 200);
		CHECK(mem_eq(a, u.dst + DBNIC_GRH_BYTES, b, u.src + 100, 200));
		CHECK(cqe_poll(&u.qa, true, &e));
		CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 100);
		CHECK(mem_eq(a, u.dst + 1024 + DBNIC_GRH_BYTES, b, u.src, 100));
		CHECK_EQ(cnt(judge, fault_counter(d, DBNIC_FAULT_REORDER)), 1);

		/* Traffic stops: the held one comes at the time limit. */
		fault_rate(judge, d, DBNIC_FAULT_REORDER, DBNIC_FAULT_PPM);
		ud_msg(&u, 0, 60);
		arrives_after(judge, 30000, &u, &e);
		CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 60);
		CHECK_EQ(judge->f.core.fault.side[d].n, 0);
		ud_nodes_free();
	}
}

/* Delay: not before roce-fault-delay-us, delivered once it has passed. */
void test_roce_fault_delay(void)
{
	struct tnode *a = &na, *b = &nb;
	struct udpair u;
	struct dbnic_rdma_cqe e;
	enum dbnic_fault_dir d;

	for (d = DBNIC_FAULT_RX; d <= DBNIC_FAULT_TX; d++) {
		struct tnode *judge = d == DBNIC_FAULT_RX ? a : b;

		ud_nodes(&u);
		fault_times(judge, 50, 1);
		ud_recvs(&u, 3);
		fault_rate(judge, d, DBNIC_FAULT_DELAY, DBNIC_FAULT_PPM);
		ud_msg(&u, 0, 100);
		ud_msg(&u, 100, 200);
		fault_rate(judge, d, DBNIC_FAULT_DELAY, 0);
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 0);
		/* Both, in their order. */
		arrives_after(judge, 50000, &u, &e);
		CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 100);
		CHECK(cqe_poll(&u.qa, true, &e));
		CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 200);
		CHECK(mem_eq(a, u.dst + 1024 + DBNIC_GRH_BYTES, b, u.src + 100,
			     200));
		CHECK_EQ(cnt(judge, fault_counter(d, DBNIC_FAULT_DELAY)), 2);
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 2);
		ud_nodes_free();
	}
}

/*
 * The corrupt test's frames k = 0..59: UD SENDs with immediate of 1 + 37k bytes over
 * IPv4.  A cut one must still be a consistent IPv4/UDP datagram to port
 * 4791, so that the receiver judges it as RoCE (11.11).
 */
static unsigned int trunc_seen, trunc_bad;

static bool trunc_log(const uint8_t *buf, size_t len, unsigned int k)
{
	struct dbnic_roce_pkt pkt;
	enum dbnic_roce_err err = dbnic_roce_parse(buf, len, &pkt);
	uint32_t plen = 1 + 37 * k;
	/* Ethernet, IPv4, UDP, BTH, DETH, ImmDt, payload, pad, ICRC. */
	size_t full = 14 + 20 + 8 + 12 + 8 + 4 + plen + dbnic_roce_pad(plen) + 4;

	if (dbnic_roce_demux(buf, len, NULL) != 4 || err == DBNIC_ROCE_OK ||
	    err == DBNIC_ROCE_E_IP_CSUM || err == DBNIC_ROCE_E_UDP_LEN ||
	    err == DBNIC_ROCE_E_SHORT || err == DBNIC_ROCE_E_IP_LEN)
		trunc_bad++;
	else if (len < full)
		trunc_seen++;
	else if (len > full)
		trunc_bad++;
	return true;
}

/*
 * Corrupt: every damaged packet is caught by the receiver's checks and
 * dropped in BAD_ICRC or BAD_HDR, none delivered, none to Ethernet.
 */
void test_roce_fault_corrupt(void)
{
	struct tnode *a = &na, *b = &nb;
	struct udpair u;
	struct dbnic_rdma_cqe e;
	enum dbnic_fault_dir d;
	unsigned int i;

	for (d = DBNIC_FAULT_RX; d <= DBNIC_FAULT_TX; d++) {
		struct tnode *judge = d == DBNIC_FAULT_RX ? a : b;

		ud_nodes(&u);
		dbnic_core_fault_seed(&judge->f.core, 42 + d);
		ud_recvs(&u, 2);
		fault_rate(judge, d, DBNIC_FAULT_CORRUPT, DBNIC_FAULT_PPM);
		trunc_seen = trunc_bad = 0;
		wire_seq = 0;
		wire_keep = trunc_log;
		for (i = 0; i < 60; i++)
			ud_msg(&u, i, 1 + i * 37);
		CHECK_EQ(cnt(judge, fault_counter(d, DBNIC_FAULT_CORRUPT)), 60);
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_BAD_ICRC) +
				 cnt(a, DBNIC_CNT_ROCE_RX_BAD_HDR), 60);
		CHECK(cnt(a, DBNIC_CNT_ROCE_RX_BAD_ICRC) > 0);
		if (d == DBNIC_FAULT_TX) {
			/* On the wire: RoCE still, some cut short. */
			CHECK_EQ(trunc_bad, 0);
			CHECK(trunc_seen > 0);
			wire_keep = NULL;
		}
		CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_PKTS), 0);
		CHECK_EQ(cnt(a, DBNIC_CNT_ETH_RX), 0);
		CHECK_EQ(cnt(a, DBNIC_CNT_ETH_RX_NOBUF), 0);
		CHECK(!cqe_poll(&u.qa, true, &e));
		fault_rate(judge, d, DBNIC_FAULT_CORRUPT, 0);
		ud_msg(&u, 0, 100);
		CHECK(cqe_poll(&u.qa, true, &e));
		CHECK_EQ(e.status, DBNIC_WC_SUCCESS);
		ud_nodes_free();
	}
}

/* Which of n packets (PSNs from psn0) the wire saw, as bits. */
static uint64_t seen_psns;
static uint32_t seen_psn0;

static bool psn_log(const uint8_t *buf, size_t len, unsigned int k)
{
	struct dbnic_roce_pkt pkt;

	if (dbnic_roce_parse(buf, len, &pkt) == DBNIC_ROCE_OK &&
	    ((pkt.hdr.psn - seen_psn0) & 0xffffff) < 64)
		seen_psns |= 1ull << ((pkt.hdr.psn - seen_psn0) & 0xffffff);
	return true;
}

/*
 * 64 packets at 30% drop with this seed, after warm packets sent with
 * every transmit rate 0: which survived.
 */
static uint64_t drop_pattern(uint64_t seed, bool reset_between,
			     unsigned int warm, bool busy, uint64_t *drops)
{
	struct dbnic_rdma_cqe e;
	struct tnode *a = &na, *b = &nb;
	struct udpair u;
	unsigned int i;
	uint64_t r;

	node_init(a, 0);
	node_init(b, 1);
	ud_pair(a, b, &u);
	dbnic_core_fault_seed(&b->f.core, seed);
	/* Traffic in the other direction draws from the other stream. */
	fault_rate(b, DBNIC_FAULT_RX, DBNIC_FAULT_DROP, 300000);
	for (i = 0; i < warm; i++)
		ud_msg(&u, 0, 20);
	fault_rate(b, DBNIC_FAULT_TX, DBNIC_FAULT_DROP, 300000);
	seen_psns = 0;
	seen_psn0 = 0x100 + warm;
	wire_keep = psn_log;
	for (i = 0; i < 64; i++) {
		if (busy) {
			/* Offered to a busy port first, then again. */
			b->f.tx_busy = true;
			ud_send(&u.qb, u.ah, u.qa.qpn, 0x1234, u.src, 20,
				u.skey);
			wire_run();
			b->f.tx_busy = false;
			dbnic_core_eth_tx_resume(&b->f.core);
			wire_run();
			if (!cqe_poll(&u.qb, false, &e))
				abort();	/* as ud_msg() */
		} else {
			ud_msg(&u, 0, 20);
		}
		if (reset_between && i == 31)
			dbnic_core_fault_seed(&b->f.core, seed);
	}
	r = seen_psns;
	*drops = cnt(b, DBNIC_CNT_ROCE_FAULT_TX_DROP);
	wire_keep = NULL;
	fake_free(&a->f);
	fake_free(&b->f);
	return r;
}

/* Same seed, same packets: same faults; the seed set again restarts. */
void test_roce_fault_replay(void)
{
	uint64_t drops, p1, p2, p3, p4;
	unsigned int kept;

	p1 = drop_pattern(7, false, 0, false, &drops);
	kept = (unsigned int)__builtin_popcountll(p1);
	/* Every packet not on the wire is a counted drop. */
	CHECK_EQ(drops, 64 - kept);
	p2 = drop_pattern(7, false, 0, false, &drops);
	p3 = drop_pattern(8, false, 0, false, &drops);
	p4 = drop_pattern(7, true, 0, false, &drops);
	/* Packets judged with every rate 0 draw nothing. */
	CHECK_EQ(drop_pattern(7, false, 10, false, &drops), p1);
	/* A packet the busy port refused draws the same number again. */
	CHECK_EQ(drop_pattern(7, false, 0, true, &drops), p1);

	CHECK_EQ(p1, p2);
	CHECK(p1 != p3);
	/* 30% of 64: some dropped, most kept. */
	CHECK(kept > 32 && kept < 60);
	/* Seed set again after 32 packets: the first 32 fates again. */
	CHECK_EQ(p4 & 0xffffffffull, p1 & 0xffffffffull);
	CHECK_EQ(p4 >> 32, p1 & 0xffffffffull);
}

/*
 * A full hold passes packets on at once, unfaulted and counted; a
 * device reset empties the holds and restarts the generators.
 */
void test_roce_fault_hold_full_and_reset(void)
{
	struct tnode *a = &na, *b = &nb;
	struct dbnic_roce_hdr h;
	static uint8_t fr[DBNIC_ROCE_FRAME_MAX];
	size_t len;
	unsigned int i;
	uint64_t prng;

	node_init(a, 0);
	node_init(b, 1);
	memset(&h, 0, sizeof(h));
	h.opcode = DBNIC_ROCE_UD_SEND_ONLY;
	h.pkey = 0xffff;
	h.dqpn = 0x777;		/* no such QP: each one received is NO_QP */
	h.deth.qkey = 0x1234;
	len = mkframe(fr, a, b, &h, 64);
	fault_times(a, 100, 1);
	dbnic_core_fault_seed(&a->f.core, 99);
	fault_rate(a, DBNIC_FAULT_RX, DBNIC_FAULT_DELAY, DBNIC_FAULT_PPM);
	for (i = 0; i < DBNIC_FAULT_HOLD + 6; i++)
		wire_inject(a, fr, len);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_FAULT_RX_DELAY), DBNIC_FAULT_HOLD);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_FAULT_HOLD_FULL), 6);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_NO_QP), 6);
	fake_advance(&a->f, 100000);
	wire_run();
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_NO_QP), DBNIC_FAULT_HOLD + 6);
	CHECK_EQ(a->f.core.fault.side[DBNIC_FAULT_RX].n, 0);

	/* Held, then a reset: gone, and the generator starts afresh. */
	for (i = 0; i < 3; i++)
		wire_inject(a, fr, len);
	CHECK_EQ(a->f.core.fault.side[DBNIC_FAULT_RX].n, 3);
	prng = a->f.core.fault.side[DBNIC_FAULT_RX].prng;
	CHECK(prng != 99);
	dbnic_core_reset(&a->f.core);
	CHECK_EQ(a->f.core.fault.side[DBNIC_FAULT_RX].n, 0);
	CHECK_EQ(a->f.core.fault.side[DBNIC_FAULT_RX].prng, 99);
	fake_advance(&a->f, 100000);
	fake_run(&a->f);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_RX_NO_QP), 0);	/* reset zeroed it */
	/* The rates survive a reset (they are properties, not registers). */
	CHECK(a->f.core.fault.side[DBNIC_FAULT_RX].on);
	fake_free(&a->f);
	fake_free(&b->f);
}

/* Loopback: a packet faulted on transmit and again on receive. */
void test_roce_fault_loopback(void)
{
	struct tnode *a = &na;
	struct tqp q1, q2;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst;
	uint32_t skey, dkey, ah;
	unsigned int i;

	node_init(a, 0);
	qp_create(a, &q1, DBNIC_QPT_UD, a->pd);
	qp_create(a, &q2, DBNIC_QPT_UD, a->pd);
	qp_up(&q1, NULL, 0, 0);
	qp_up(&q2, NULL, 0, 0);
	src = buf_new(a, 4096, 1);
	skey = mr_of(a, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 8192, 2);
	dkey = mr_of(a, dst, 8192, DBNIC_MR_LOCAL_WRITE);
	ah = ah_new(a, a, a->pd);
	for (i = 0; i < 4; i++)
		recv_post1(&q2, dst + 1024 * i, 1024, dkey);
	fault_rate(a, DBNIC_FAULT_TX, DBNIC_FAULT_DUP, DBNIC_FAULT_PPM);
	fault_rate(a, DBNIC_FAULT_RX, DBNIC_FAULT_DUP, DBNIC_FAULT_PPM);
	ud_send(&q1, ah, q2.qpn, 0x1234, src, 100, skey);
	wire_run();
	/* Sent twice, each received twice. */
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_LOOPBACK), 2);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_FAULT_TX_DUP), 1);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_FAULT_RX_DUP), 2);
	for (i = 0; i < 4; i++) {
		CHECK(cqe_poll(&q2, true, &e));
		CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 100);
	}
	CHECK_EQ(a->f.tx_frames, 0);
	fake_free(&a->f);
}

/*
 * Under the timing model (datasheet 9) the engine runs from the timer
 * alone: a delayed packet is still released at its time, not before.
 */
void test_roce_fault_delay_timed(void)
{
	struct tnode *a = &na;
	struct tqp q1, q2;
	struct dbnic_rdma_cqe e;
	uint64_t src, dst, t0;
	uint32_t skey, dkey, ah;
	unsigned int i;

	harness_dma_latency_ns = 500;
	harness_desc_ns = 100;
	node_init(a, 0);
	CHECK(dbnic_core_timed(&a->f.core));
	qp_create(a, &q1, DBNIC_QPT_UD, a->pd);
	qp_create(a, &q2, DBNIC_QPT_UD, a->pd);
	qp_up(&q1, NULL, 0, 0);
	qp_up(&q2, NULL, 0, 0);
	src = buf_new(a, 4096, 1);
	skey = mr_of(a, src, 4096, DBNIC_MR_LOCAL_WRITE);
	dst = buf_new(a, 4096, 2);
	dkey = mr_of(a, dst, 4096, DBNIC_MR_LOCAL_WRITE);
	ah = ah_new(a, a, a->pd);
	recv_post1(&q2, dst, 1024, dkey);
	fault_times(a, 50, 1);
	fault_rate(a, DBNIC_FAULT_TX, DBNIC_FAULT_DELAY, DBNIC_FAULT_PPM);
	t0 = a->f.now;
	ud_send(&q1, ah, q2.qpn, 0x1234, src, 100, skey);
	/* 1 µs steps: the first in which the RECV completes. */
	for (i = 0; i < 200; i++) {
		fake_advance(&a->f, 1000);
		fake_run(&a->f);
		if (cqe_poll(&q2, true, &e))
			break;
	}
	CHECK(i < 200);
	CHECK(a->f.now - t0 >= 50000);
	CHECK(a->f.now - t0 <= 52000);
	CHECK_EQ(e.byte_len, DBNIC_GRH_BYTES + 100);
	CHECK_EQ(cnt(a, DBNIC_CNT_ROCE_FAULT_TX_DELAY), 1);
	fake_free(&a->f);
}
