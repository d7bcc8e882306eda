/*
 * libFuzzer target for the dbnic device core.
 *
 * Each input is a program: its first byte picks the machine's options,
 * then a fresh device with two contexts (one
 * privileged) and a queue pair on each is set up, then the input's bytes
 * are decoded as a sequence of guest actions: control-register writes,
 * doorbells from any page to any queue, priority-slot stores of any size
 * and offset, raw guest-memory scribbles (rings, CQs, payload), clock
 * jumps and engine runs, with the timing model off or on (first byte);
 * and the network port: ETH_TX descriptors with any fields, frames from
 * the network with any bytes and any metadata the glue might derive,
 * receive buffers posted anywhere, RSS tables, link changes and a port
 * that pushes back (datasheet 10); and RDMA objects (datasheet 11): the
 * admin commands 0x0c-0x14 with any fields, MODIFY_QP with any attribute
 * block and mask, send WQEs with any fields on a QP's send queue (ring
 * or priority path), DB_QP_RQ, and CQ_COMP arms with the event queue on.
 * The RoCE fault injector (datasheet 11.11) may be turned on (op 14).
 * A second-byte flag (bit 3) instead feeds the input, as one frame, to
 * the RoCEv2 wire library's parser alone.  The sanitizers and the core's own bounds checks must hold for every
 * program.
 *
 * Build and run by hand:  make -C tests/host fuzz && build/host/fuzz_core
 * Seed inputs (frames in posted buffers, TSO, RSS): tests/fuzz/seeds,
 * written by tests/fuzz/make-seeds.py, which follows the decoder below.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "harness.h"
#include "dbnic_roce_wire.h"

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

/*
 * An admin command that may get no answer (the program may have reset or
 * disabled the device): harness.c's admin() would abort.
 */
static void admin_try(struct fake *f, struct dbnic_admin_cmd *cmd)
{
	unsigned int slot = f->aq_pi & ((1u << AQ_LOG) - 1);
	struct dbnic_admin_cqe *cqe;

	cmd->cmd_id = f->aq_pi;
	memcpy(gpa(f, AQ_SQ_ADDR + slot * sizeof(*cmd)), cmd, sizeof(*cmd));
	f->aq_pi++;
	dbnic_core_ctrl_write(&f->core, DBNIC_REG_AQ_DB, f->aq_pi, 4);
	fake_run(f);
	slot = f->aq_ci & ((1u << AQ_LOG) - 1);
	cqe = gpa(f, AQ_CQ_ADDR + slot * sizeof(*cqe));
	if ((cqe->flags & DBNIC_CQE_F_PHASE) == dbnic_cq_phase(f->aq_ci, AQ_LOG))
		f->aq_ci++;
}

/* The port's receive queue on q[0]'s (privileged) context. */
static struct hrq rq;

/*
 * RoCE mode (the second byte's bit 2, datasheet 11): a GID, an RC QP
 * connected to a peer that the program plays, a UD QP, both in RTS, and
 * an MR any remote access may use.  Frames from the network are then
 * built as RoCE packets from the peer with fuzzed headers and a good
 * ICRC (a random frame would never pass it), maybe corrupted after; and
 * send WQEs with fuzzed fields go on the QPs' send queues.
 */
struct rqp {
	uint32_t qpn, qid;
	uint64_t sq, rq, cq;
	uint16_t sq_pi, rq_pi, cq_ci;
	uint32_t cqn;
};

static bool roce;
static struct rqp rqp[2];	/* RC, UD */
static uint32_t roce_key;
static uint64_t roce_buf;
static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

static void roce_gid(uint8_t *gid, uint8_t last)
{
	memset(gid, 0, 16);
	gid[10] = gid[11] = 0xff;
	gid[12] = 10;
	gid[15] = last;
}

static uint32_t roce_admin(struct fake *f, struct dbnic_admin_cmd *cmd,
			   uint32_t *res2)
{
	unsigned int slot;
	struct dbnic_admin_cqe *cqe;

	admin_try(f, cmd);
	slot = (f->aq_ci - 1) & ((1u << AQ_LOG) - 1);
	cqe = gpa(f, AQ_CQ_ADDR + slot * sizeof(*cqe));
	if (res2)
		*res2 = cqe->result2;
	return cqe->status ? ~0u : cqe->result;
}

static void roce_modify(struct fake *f, uint32_t qpn, uint8_t state,
			uint32_t mask, bool rc)
{
	struct dbnic_admin_cmd cmd;
	struct dbnic_qp_attr a;
	uint64_t at = fake_alloc(f, sizeof(a), 8);

	memset(&a, 0, sizeof(a));
	a.state = state;
	a.path_mtu = 1;		/* 256: many packets from little input */
	a.access = DBNIC_MR_REMOTE_READ | DBNIC_MR_REMOTE_WRITE;
	a.qkey = 0x1234;
	a.rq_psn = 0x10;
	a.sq_psn = 0x20;
	a.dest_qpn = 0x4321;
	a.max_rd_atomic = 2;
	a.max_dest_rd_atomic = 2;
	/*
	 * Short timers and few retries (11.10): a clock step (op 7) fires
	 * them, and NAKs from the peer reach both retry and exhaustion.
	 */
	a.timeout = 1;
	a.retry_cnt = 3;
	a.rnr_retry = 2;
	a.min_rnr_timer = 1;
	if (rc) {
		roce_gid(a.av.dgid, 2);
		memcpy(a.av.dmac, peer_mac, 6);
		a.av.vlan = DBNIC_VLAN_NONE;
		a.av.udp_sport = 0xc000;
		a.av.hop_limit = 64;
		a.av.net = DBNIC_NET_IPV4;
	}
	memcpy(gpa(f, at), &a, sizeof(a));
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_MODIFY_QP;
	cmd.modify_qp.attr = at;
	cmd.modify_qp.qpn = qpn;
	cmd.modify_qp.attr_mask = DBNIC_QP_ATTR_STATE | mask;
	admin_try(f, &cmd);
}

static void roce_setup(struct fake *f, uint32_t ctx)
{
	struct dbnic_admin_cmd cmd;
	uint64_t list;
	unsigned int i;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_SET_GID;
	roce_gid(cmd.set_gid.gid, 1);
	cmd.set_gid.vlan = DBNIC_VLAN_NONE;
	cmd.set_gid.net = DBNIC_NET_IPV4;
	cmd.set_gid.ctx = ctx;
	admin_try(f, &cmd);
	roce_buf = fake_alloc(f, 16384, 4096);
	list = fake_alloc(f, 32, 8);
	for (i = 0; i < 4; i++)
		((uint64_t *)gpa(f, list))[i] = roce_buf + 4096 * i;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_REG_MR;
	cmd.reg_mr.iova = roce_buf;
	cmd.reg_mr.length = 16384;
	cmd.reg_mr.pages = list;
	cmd.reg_mr.ctx = ctx;
	cmd.reg_mr.npages = 4;
	cmd.reg_mr.page_shift = 12;
	cmd.reg_mr.access = DBNIC_MR_ACCESS_ALL;
	cmd.reg_mr.pd = 1;
	roce_key = roce_admin(f, &cmd, NULL);
	for (i = 0; i < 2; i++) {
		struct rqp *q = &rqp[i];
		bool rc = i == 0;

		memset(q, 0, sizeof(*q));
		q->cq = fake_alloc(f, 32 << 4, 4096);
		q->sq = fake_alloc(f, 256 << 4, 4096);
		q->rq = fake_alloc(f, 256 << 4, 4096);
		memset(&cmd, 0, sizeof(cmd));
		cmd.opcode = DBNIC_ADM_CREATE_CQ;
		cmd.create_cq.base = q->cq;
		cmd.create_cq.ctx = ctx;
		cmd.create_cq.log_size = 4;
		cmd.create_cq.log_cqe = DBNIC_LOG_CQE_32;
		cmd.create_cq.msix_vector = 1;
		q->cqn = roce_admin(f, &cmd, NULL);
		memset(&cmd, 0, sizeof(cmd));
		cmd.opcode = DBNIC_ADM_CREATE_QP;
		cmd.create_qp.sq_base = q->sq;
		cmd.create_qp.rq_base = q->rq;
		cmd.create_qp.ctx = ctx;
		cmd.create_qp.pd = 1;
		cmd.create_qp.scqn = q->cqn;
		cmd.create_qp.rcqn = q->cqn;
		cmd.create_qp.type = rc ? DBNIC_QPT_RC : DBNIC_QPT_UD;
		cmd.create_qp.sq_log_size = 4;
		cmd.create_qp.sq_log_stride = 8;
		cmd.create_qp.rq_log_size = 4;
		cmd.create_qp.rq_log_stride = 8;
		q->qpn = roce_admin(f, &cmd, &q->qid);
		roce_modify(f, q->qpn, DBNIC_QPS_INIT,
			    DBNIC_QP_ATTR_PKEY_INDEX | DBNIC_QP_ATTR_PORT |
			    (rc ? DBNIC_QP_ATTR_ACCESS_FLAGS : DBNIC_QP_ATTR_QKEY),
			    rc);
		roce_modify(f, q->qpn, DBNIC_QPS_RTR, rc ?
			    DBNIC_QP_ATTR_AV | DBNIC_QP_ATTR_PATH_MTU |
			    DBNIC_QP_ATTR_DEST_QPN | DBNIC_QP_ATTR_RQ_PSN |
			    DBNIC_QP_ATTR_MAX_DEST_RD_ATOMIC |
			    DBNIC_QP_ATTR_MIN_RNR_TIMER : 0, rc);
		roce_modify(f, q->qpn, DBNIC_QPS_RTS, rc ?
			    DBNIC_QP_ATTR_TIMEOUT | DBNIC_QP_ATTR_RETRY_CNT |
			    DBNIC_QP_ATTR_RNR_RETRY | DBNIC_QP_ATTR_SQ_PSN |
			    DBNIC_QP_ATTR_MAX_QP_RD_ATOMIC :
			    DBNIC_QP_ATTR_SQ_PSN, rc);
	}
}

/* A RoCE packet from the peer: fuzzed headers, good ICRC, maybe broken. */
static void roce_frame(struct fake *f, struct input *in)
{
	static const uint8_t ops[] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
		0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x64, 0x65,
	};
	static uint8_t fr[DBNIC_ETH_MAX_FRAME + 64];
	struct dbnic_roce_addr ad;
	struct dbnic_roce_hdr h;
	uint8_t how = take(in, 1);
	uint32_t plen = take(in, 2) % 1100, crc, i;
	size_t hl;

	memset(&ad, 0, sizeof(ad));
	memcpy(ad.dmac, f->core.cfg.mac, 6);
	memcpy(ad.smac, peer_mac, 6);
	ad.vlan = (how & 1) ? take(in, 2) & 0xfff : DBNIC_ROCE_NO_VLAN;
	ad.ipver = 4;
	ad.hop_limit = 64;
	ad.udp_sport = 0xc000;
	roce_gid(ad.sgid, (how & 2) ? take(in, 1) : 2);
	roce_gid(ad.dgid, 1);
	memset(&h, 0, sizeof(h));
	h.opcode = ops[take(in, 1) % sizeof(ops)];
	h.se = how >> 7;
	h.pkey = (how & 4) ? take(in, 2) : 0xffff;
	h.dqpn = (how & 8) ? take(in, 3) : rqp[h.opcode >= 0x64].qpn;
	h.ackreq = take(in, 1) & 1;
	/* PSNs near the QP's: 0x10 expected, 0x20 sent from. */
	h.psn = (0x10 + (int8_t)take(in, 1)) & 0xffffff;
	h.reth.va = roce_buf + (int16_t)take(in, 2);
	h.reth.rkey = (how & 16) ? take(in, 4) : roce_key;
	h.reth.dma_len = take(in, 2);
	h.aeth.syndrome = take(in, 1);
	h.aeth.msn = take(in, 3);
	h.imm = take(in, 4);
	h.deth.qkey = (how & 32) ? take(in, 4) : 0x1234;
	h.deth.src_qpn = take(in, 3);
	if (!(dbnic_roce_op_info(h.opcode) & DBNIC_ROCE_OPF_PAYLOAD))
		plen = 0;
	hl = dbnic_roce_build(fr, sizeof(fr), &ad, &h, plen, &crc);
	if (!hl)
		return;
	for (i = 0; i < plen; i++)
		fr[hl + i] = (uint8_t)i;
	crc = dbnic_roce_icrc_update(crc, fr + hl, plen);
	hl += plen;
	hl += dbnic_roce_icrc_finish(fr + hl, crc, dbnic_roce_pad(plen));
	if (how & 64)
		fr[take(in, 2) % hl] ^= (uint8_t)take(in, 1);
	eth_rx(f, fr, (how & 0x40) && (how & 1) ? hl - take(in, 1) % hl : hl,
	       0, 0, 0);
}

/* A send WQE (fuzzed fields) or a RECV on one of the QPs. */
static void roce_wqe(struct fake *f, uint32_t ctx, uint8_t op,
		     struct input *in)
{
	static const uint8_t ops[] = {
		DBNIC_OP_SEND, DBNIC_OP_SEND_IMM, DBNIC_OP_RDMA_WRITE,
		DBNIC_OP_RDMA_WRITE_IMM, DBNIC_OP_RDMA_READ, DBNIC_OP_NOP,
	};
	struct rqp *q = &rqp[(op >> 5) & 1];
	struct dbnic_desc d;
	uint8_t shape = take(in, 1);
	unsigned int n = 1 + shape % 3, i;
	uint64_t slot;

	memset(&d, 0, sizeof(d));
	d.hdr.qid = (uint16_t)q->qid;
	if (op & 0x10) {	/* a RECV */
		d.hdr.opcode = DBNIC_OP_RECV;
		d.hdr.index = q->rq_pi;
		d.hdr.nsge = (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, n - 1);
		d.hdr.size = (uint8_t)dbnic_desc_blocks(n - 1);
		for (i = 0; i + 1 < n; i++) {
			d.sge[i].addr = roce_buf + take(in, 2) % 16384;
			d.sge[i].len = take(in, 2) % 2048 + 1;
			d.sge[i].key = (shape & 8) ? take(in, 4) : roce_key;
		}
		slot = q->rq + ((uint64_t)(q->rq_pi & 15) << 8);
		memcpy(gpa(f, slot), &d, 256);
		q->rq_pi++;
		dbnic_core_db_write(&f->core,
				    ((uint64_t)ctx << DBNIC_DB_PAGE_SHIFT) +
				    DBNIC_DB_QP_RQ,
				    dbnic_db_qp_rq_val((uint16_t)q->qid,
						       q->rq_pi), 4);
		return;
	}
	d.hdr.opcode = ops[take(in, 1) % sizeof(ops)];
	d.hdr.flags = take(in, 1) & 7;
	d.hdr.index = q->sq_pi;
	if (d.hdr.opcode == DBNIC_OP_SEND_IMM ||
	    d.hdr.opcode == DBNIC_OP_RDMA_WRITE_IMM)
		d.hdr.imm = take(in, 4);
	dbnic_rdma_seg_of(&d)->raddr = take(in, 8);
	dbnic_rdma_seg_of(&d)->rkey = take(in, 4);
	if (shape & 16) {
		dbnic_rdma_seg_of(&d)->inline_len = take(in, 1);
	} else {
		d.hdr.nsge = d.hdr.opcode == DBNIC_OP_RDMA_READ ?
			     (uint8_t)DBNIC_SET(DBNIC_NSGE_DST, n) : (uint8_t)n;
		for (i = 0; i < n; i++) {
			d.sge[1 + i].addr = roce_buf + take(in, 2) % 16384;
			d.sge[1 + i].len = take(in, 2) % 4096 + 1;
			d.sge[1 + i].key = (shape & 8) ? take(in, 4) : roce_key;
		}
	}
	d.hdr.size = (uint8_t)dbnic_rdma_wqe_blocks(
		n, dbnic_rdma_seg_of(&d)->inline_len);
	if (d.hdr.size > 4)
		d.hdr.size = 4;
	slot = q->sq + ((uint64_t)(q->sq_pi & 15) << 8);
	memcpy(gpa(f, slot), &d, 256);
	q->sq_pi++;
	dbnic_core_db_write(&f->core,
			    ((uint64_t)ctx << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_SQ,
			    dbnic_db_sq_val((uint16_t)q->qid, q->sq_pi), 4);
}

static void net_action(struct fake *f, struct hq *h, uint8_t op,
		       struct input *in)
{
	if (roce && ((op & 0x0f) == 10 || (op & 0x0f) == 11) && (op & 0x40)) {
		if ((op & 0x0f) == 10)
			roce_frame(f, in);
		else
			roce_wqe(f, h->ctx, op, in);
		return;
	}
	switch (op & 0x0f) {
	case 10: {	/* a frame from the network, any metadata */
		static uint8_t frame[DBNIC_ETH_MAX_FRAME + 64];
		size_t len = take(in, 2) % sizeof(frame), i;
		uint32_t hash = take(in, 4);
		uint8_t type = take(in, 1), flags = take(in, 1);

		for (i = 0; i < len; i++)
			frame[i] = in->left ? take(in, 1) : (uint8_t)i;
		eth_rx(f, frame, len, hash, type, flags);
		break;
	}
	case 11: {	/* ETH_TX, fields anywhere, ring or priority path */
		struct dbnic_desc d;
		struct dbnic_eth_tx *e = dbnic_eth_tx_of(&d);
		uint64_t a[3];
		uint32_t len[3];
		uint8_t shape = take(in, 1);
		unsigned int i;

		for (i = 0; i < 3; i++) {
			a[i] = MEM_BASE + (take(in, 3) % MEM_SIZE);
			len[i] = take(in, 3) % (DBNIC_ETH_MAX_TSO / 2 + 64);
		}
		if (shape & 1) {
			uint8_t bytes[DBNIC_ETH_TX_MAX_INLINE];

			for (i = 0; i < sizeof(bytes); i++)
				bytes[i] = take(in, 1);
			desc_eth_tx_inline(&d, h, bytes, (uint16_t)(len[0] % 256));
		} else {
			desc_eth_tx(&d, h, 0, 0, a, len, 1 + (shape >> 4) % 3);
		}
		e->offload = take(in, 1);
		e->mss = take(in, 2);
		e->vlan_tci = (shape & 2) ? take(in, 2) : 0;
		if (shape & 4)
			d.hdr.size = 1 + take(in, 1) % 4;
		if (shape & 8)
			d.sge[1 + take(in, 1) % 14].key = take(in, 4);
		if (op & 0x10)
			post_ring(h, &d);
		else
			post_prio(h, &d, NULL);
		break;
	}
	case 12: {	/* post receive buffers, any address, any index */
		uint64_t a[2] = { MEM_BASE + (take(in, 3) % MEM_SIZE),
				  take(in, 8) };
		uint32_t l[2] = { take(in, 2), take(in, 2) };
		uint16_t pi = take(in, 2);

		recv_put(&rq, rq.pi, a, l, 1 + (op >> 7));
		if (op & 0x10) {
			rq.pi++;
			rq_doorbell(&rq, rq.pi);
		} else {
			rq_doorbell(&rq, pi);
		}
		break;
	}
	default: {	/* 13: RSS, link, a port that pushes back */
		uint8_t what = take(in, 1);

		if (what & 1) {
			struct dbnic_admin_cmd cmd;
			struct dbnic_rss_config cfg;
			uint64_t at = fake_alloc(f, sizeof(cfg), 8);
			unsigned int i;

			memset(&cfg, 0, sizeof(cfg));
			cfg.hash_types = take(in, 1);
			for (i = 0; i < DBNIC_RSS_TABLE_SIZE; i++)
				cfg.table[i] = rq.rqn + (take(in, 1) & 1);
			memcpy(gpa(f, at), &cfg, sizeof(cfg));
			memset(&cmd, 0, sizeof(cmd));
			cmd.opcode = (what & 2) ? DBNIC_ADM_SET_RSS
						: DBNIC_ADM_DESTROY_RQ;
			cmd.set_rss.ctx = h->ctx;
			cmd.set_rss.config = (what & 4) ? at : take(in, 8);
			if (cmd.opcode == DBNIC_ADM_DESTROY_RQ)
				cmd.destroy.handle = take(in, 1);
			admin_try(f, &cmd);
		}
		if (what & 8)
			dbnic_core_eth_set_link(&f->core, what & 16);
		f->tx_busy = what & 32;
		if (!f->tx_busy)
			dbnic_core_eth_tx_resume(&f->core);
		break;
	}
	}
}

/* The RDMA objects: a QP on q[1]'s context, its CQ and rings. */
static struct {
	uint32_t qpn, qid, cqn, ctx;
	uint64_t sq, rq, cq;
	uint16_t pi, rpi;
} qp;

static uint32_t cq32(struct fake *f, uint32_t ctx, uint16_t vector,
		     uint64_t *base)
{
	struct dbnic_admin_cmd cmd;
	uint32_t cqn = ~0u;

	*base = fake_alloc(f, 32u << 5, 4096);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_CQ;
	cmd.create_cq.base = *base;
	cmd.create_cq.ctx = ctx;
	cmd.create_cq.log_size = 5;
	cmd.create_cq.log_cqe = DBNIC_LOG_CQE_32;
	cmd.create_cq.msix_vector = vector;
	admin(f, &cmd, &cqn);
	return cqn;
}

static void qp_setup(struct fake *f, struct hq *q)
{
	static const uint8_t gid[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };
	struct dbnic_admin_cmd cmd;

	memset(&qp, 0, sizeof(qp));
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_SET_GID;
	cmd.set_gid.ctx = q[0].ctx;
	cmd.set_gid.net = DBNIC_NET_IPV4;
	cmd.set_gid.vlan = DBNIC_VLAN_NONE;
	memcpy(cmd.set_gid.gid, gid, 16);
	admin(f, &cmd, NULL);
	qp.ctx = q[1].ctx;
	qp.cqn = cq32(f, qp.ctx, f->eq_log ? DBNIC_CQ_EVENT : DBNIC_CQ_NO_VECTOR,
		      &qp.cq);
	qp.sq = fake_alloc(f, 16 << 8, 4096);
	qp.rq = fake_alloc(f, 16 << 6, 4096);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_QP;
	cmd.create_qp.sq_base = qp.sq;
	cmd.create_qp.rq_base = qp.rq;
	cmd.create_qp.ctx = qp.ctx;
	cmd.create_qp.pd = 1;
	cmd.create_qp.scqn = qp.cqn;
	cmd.create_qp.rcqn = qp.cqn;
	cmd.create_qp.type = DBNIC_QPT_RC;
	cmd.create_qp.sq_log_size = 4;
	cmd.create_qp.sq_log_stride = 8;
	cmd.create_qp.rq_log_size = 4;
	cmd.create_qp.rq_log_stride = 6;
	admin_r2(f, &cmd, &qp.qpn, &qp.qid);
}

static void qp_action(struct fake *f, struct hq *q, uint8_t op,
		      struct input *in)
{
	struct dbnic_admin_cmd cmd;
	uint8_t what = take(in, 1);
	unsigned int i;

	memset(&cmd, 0, sizeof(cmd));
	switch (what & 7) {
	case 0: {	/* any RDMA admin command, any fields */
		cmd.opcode = DBNIC_ADM_CREATE_QP + (what >> 3) % 9;
		for (i = 0; i < sizeof(cmd.raw); i++)
			cmd.raw[i] = take(in, 1);
		if (op & 0x10)
			cmd.destroy.handle = qp.qpn;
		admin_try(f, &cmd);
		break;
	}
	case 1:		/* MODIFY_QP of the QP: any mask, any block */
	case 2: {	/* ... or a well-formed move to the next state */
		static const uint32_t masks[] = {
			DBNIC_QP_ATTR_PKEY_INDEX | DBNIC_QP_ATTR_PORT |
			DBNIC_QP_ATTR_ACCESS_FLAGS,
			DBNIC_QP_ATTR_AV | DBNIC_QP_ATTR_PATH_MTU |
			DBNIC_QP_ATTR_DEST_QPN | DBNIC_QP_ATTR_RQ_PSN |
			DBNIC_QP_ATTR_MAX_DEST_RD_ATOMIC |
			DBNIC_QP_ATTR_MIN_RNR_TIMER,
			DBNIC_QP_ATTR_TIMEOUT | DBNIC_QP_ATTR_RETRY_CNT |
			DBNIC_QP_ATTR_RNR_RETRY | DBNIC_QP_ATTR_SQ_PSN |
			DBNIC_QP_ATTR_MAX_QP_RD_ATOMIC,
		};
		struct dbnic_qp_attr a;
		uint64_t at = fake_alloc(f, sizeof(a), 8);
		uint8_t *p = (uint8_t *)&a;

		memset(&a, 0, sizeof(a));
		if ((what & 7) == 1) {
			for (i = 0; i < sizeof(a); i++)
				p[i] = in->left ? take(in, 1) : 0;
			cmd.modify_qp.attr_mask = take(in, 4);
		} else {
			unsigned int k = (what >> 3) % 6;

			a.state = k < 3 ? k + 1 : k == 3 ? DBNIC_QPS_ERR
						   : k == 4 ? 0 : 7;
			a.path_mtu = 3;
			a.av.net = DBNIC_NET_IPV4;
			a.av.vlan = DBNIC_VLAN_NONE;
			a.av.udp_sport = 0xc000;
			a.av.dgid[10] = a.av.dgid[11] = 0xff;
			cmd.modify_qp.attr_mask = DBNIC_QP_ATTR_STATE |
						  (k < 3 ? masks[k] : 0);
		}
		memcpy(gpa(f, at), &a, sizeof(a));
		cmd.opcode = (op & 0x10) ? DBNIC_ADM_QUERY_QP
					 : DBNIC_ADM_MODIFY_QP;
		cmd.modify_qp.qpn = (what & 0x80) ? take(in, 4) : qp.qpn;
		cmd.modify_qp.attr = (what & 0x40) ? take(in, 8) : at;
		admin_try(f, &cmd);
		break;
	}
	case 3:
	case 4: {	/* a send WQE, fields anywhere, ring or priority path */
		static const uint8_t ops[] = {
			DBNIC_OP_SEND, DBNIC_OP_SEND_IMM, DBNIC_OP_RDMA_WRITE,
			DBNIC_OP_RDMA_WRITE_IMM, DBNIC_OP_RDMA_READ,
			DBNIC_OP_NOP, DBNIC_OP_RECV, DBNIC_OP_ETH_TX,
		};
		struct dbnic_desc d;
		uint8_t *p = (uint8_t *)&d;
		unsigned int n = 16 + take(in, 1) % (sizeof(d) - 16);
		struct hq h = { .f = f, .ctx = qp.ctx, .qid = qp.qid,
				.sq_base = qp.sq, .log_size = 4,
				.log_stride = 8, .pi = qp.pi, .pair = 2 };

		memset(&d, 0, sizeof(d));
		for (i = 0; i < n; i++)
			p[i] = take(in, 1);
		d.hdr.opcode = ops[d.hdr.opcode % sizeof(ops)];
		d.hdr.size = 1 + d.hdr.size % 4;
		d.hdr.qid = qp.qid;
		if ((what & 7) == 3)
			post_ring(&h, &d);
		else
			post_prio(&h, &d, NULL);
		qp.pi = h.pi;
		break;
	}
	case 5: {	/* RECVs and DB_QP_RQ, any index, any page */
		struct dbnic_desc d;
		uint64_t a = qp.rq + ((uint64_t)(qp.rpi & 15) << 6);
		uint32_t val;

		memset(&d, 0, sizeof(d));
		d.hdr.opcode = DBNIC_OP_RECV;
		d.hdr.size = 1;
		d.hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, 1);
		d.hdr.index = qp.rpi;
		d.hdr.qid = qp.qid;
		d.sge[0].addr = MEM_BASE + take(in, 3) % MEM_SIZE;
		d.sge[0].len = take(in, 2);
		memcpy(gpa(f, a), &d, 64);
		qp.rpi++;
		val = (what & 8) ? (uint32_t)take(in, 4)
				 : dbnic_db_qp_rq_val(qp.qid, qp.rpi);
		dbnic_core_db_write(&f->core,
				    ((uint64_t)((what & 16) ? q[0].ctx : qp.ctx)
				     << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_QP_RQ,
				    val, 4);
		break;
	}
	case 6: {	/* drain the QP's CQ, maybe arming it */
		uint16_t ci = take(in, 2);

		dbnic_core_db_write(&f->core,
				    ((uint64_t)qp.ctx << DBNIC_DB_PAGE_SHIFT) +
				    DBNIC_DB_CQ,
				    dbnic_db_cq_val(qp.cqn, ci, what & 8), 4);
		break;
	}
	default: {	/* the host consumes events */
		struct dbnic_eqe e;
		int n = take(in, 1) % 8;

		while (n-- && eq_poll(f, &e))
			;
		break;
	}
	}
}

/*
 * Op 14 with bit 4: the RoCE fault injector (datasheet 11.11), as a QMP
 * qom-set could set it: any direction and fault at one of four rates
 * (off, 1/16, 1/2, all), short delay and reorder times, any seed.  So
 * frames from the network and looped-back ones are dropped, held,
 * released and corrupted (corrupt() reads headers a peer wrote).
 */
static void fault_action(struct fake *f, struct input *in)
{
	static const uint32_t rates[] = { 0, 62500, 500000, DBNIC_FAULT_PPM };
	struct dbnic_fault_config cfg = f->core.fault.cfg;
	uint8_t b = take(in, 1);

	cfg.rate[b & 1][(b >> 1) % DBNIC_FAULT_KINDS] = rates[b >> 6];
	cfg.delay_us = take(in, 1);
	cfg.reorder_us = take(in, 1);
	dbnic_core_fault_config(&f->core, &cfg);
	if (b & 0x20)
		dbnic_core_fault_seed(&f->core, take(in, 8));
}

static void action(struct fake *f, struct hq *q, struct input *in)
{
	uint8_t op = take(in, 1);
	struct hq *h = &q[op >> 7];

	switch (op & 0x0f) {
	case 0:		/* control register write */
		dbnic_core_ctrl_write(&f->core, take(in, 2) & 0x3ffc,
				      take(in, 4), 4);
		break;
	case 1:		/* doorbell from any page */
		dbnic_core_db_write(&f->core, take(in, 2) & 0xfffc,
				    take(in, 4), 4);
		break;
	case 2:		/* SQ doorbell of this queue's page, any index */
		ring_doorbell(h, take(in, 2));
		break;
	case 3: {	/* priority store, any slot and offset */
		unsigned int size = (op & 0x10) ? 8 : 4;
		uint64_t off = take(in, 2) & (DBNIC_PRIO_SLOTS *
					       DBNIC_PRIO_SLOT_SIZE - 1);

		prio_store(f, h->ctx, 0, off & ~(uint64_t)(size - 1),
			   take(in, size), size);
		break;
	}
	case 4: {	/* a well-formed descriptor through the priority path */
		struct dbnic_desc d;
		uint64_t a = MEM_BASE + (take(in, 3) % MEM_SIZE);
		uint64_t b = MEM_BASE + (take(in, 3) % MEM_SIZE);
		uint32_t len = take(in, 2) + 1;

		desc_copy(&d, h, 0, &a, &len, 1, &b, &len, 1);
		if (op & 0x10)
			post_ring(h, &d);
		else
			post_prio(h, &d, NULL);
		break;
	}
	case 5: {	/* scribble on guest memory (rings, CQs, data) */
		uint64_t at = take(in, 3) % (MEM_SIZE - 8);

		*(uint64_t *)gpa(f, MEM_BASE + (at & ~7ull)) = take(in, 8);
		break;
	}
	case 6:		/* CQ doorbell, maybe arming */
		dbnic_core_db_write(&f->core,
				    ((uint64_t)h->ctx << DBNIC_DB_PAGE_SHIFT) +
				    DBNIC_DB_CQ, take(in, 4), 4);
		break;
	case 7:
		fake_advance(f, take(in, 3) * 16);
		break;
	case 8: {	/* drain completions like a host would */
		struct dbnic_cqe cqe;
		int n = 64;

		while (n-- && cq_poll(h, &cqe))
			;
		break;
	}
	case 9:		/* register reads, including clear-on-read ones */
		dbnic_core_ctrl_read(&f->core, take(in, 2) & 0x3ff8,
				     (op & 0x10) ? 8 : 4);
		break;
	case 10:
	case 11:
	case 12:
	case 13:
		net_action(f, h, op, in);
		break;
	case 15:
		qp_action(f, q, op, in);
		break;
	case 14:
		if (op & 0x10) {
			fault_action(f, in);
			break;
		}
		/* fall through */
	default:
		fake_run(f);
		break;
	}
}

/*
 * RoCEv2 wire mode (second byte bit 3): the rest of the input is a frame
 * from the network for the wire library alone (dbnic_roce_wire.c), with
 * no device: the parser and the demux test must stay in bounds (the frame
 * is libFuzzer's own buffer, exactly its length) and agree; a frame
 * refused only for its ICRC must pass once the ICRC is right (the ICRC is
 * the last check); a frame that passes, rebuilt from what the parser
 * returned, must parse back to the same fields and payload.
 */
static void roce_wire_input(const uint8_t *p, size_t len)
{
	static uint8_t copy[DBNIC_ETH_MAX_FRAME + 64];
	static uint8_t again[70000];
	struct dbnic_roce_pkt pkt, pkt2;
	enum dbnic_roce_err err;
	unsigned int ipver;
	uint32_t crc;
	size_t n;

	ipver = dbnic_roce_demux(p, len, NULL);
	err = dbnic_roce_parse(p, len, &pkt);
	if (err == DBNIC_ROCE_E_ICRC && len <= sizeof(copy)) {
		uint32_t icrc;

		memcpy(copy, p, len);
		crc = dbnic_roce_icrc_hdrs(copy + pkt.l3_off, pkt.addr.ipver,
					   pkt.payload_off - pkt.l3_off);
		crc = dbnic_roce_icrc_update(crc, copy + pkt.payload_off,
					     pkt.payload_len + pkt.hdr.pad);
		icrc = dbnic_roce_icrc_value(crc);
		n = pkt.frame_len - DBNIC_ROCE_ICRC_LEN;
		copy[n] = (uint8_t)icrc;
		copy[n + 1] = (uint8_t)(icrc >> 8);
		copy[n + 2] = (uint8_t)(icrc >> 16);
		copy[n + 3] = (uint8_t)(icrc >> 24);
		if (dbnic_roce_parse(copy, len, &pkt) != DBNIC_ROCE_OK)
			__builtin_trap();
		p = copy;
		err = DBNIC_ROCE_OK;
	}
	if (err != DBNIC_ROCE_OK)
		return;
	if (ipver != pkt.addr.ipver)
		__builtin_trap();	/* parse accepts what demux refuses */
	n = dbnic_roce_build(again, sizeof(again), &pkt.addr, &pkt.hdr,
			     pkt.payload_len, &crc);
	if (!n)
		__builtin_trap();
	crc = dbnic_roce_icrc_copy(crc, again + n, p + pkt.payload_off,
				   pkt.payload_len);
	n += pkt.payload_len;
	n += dbnic_roce_icrc_finish(again + n, crc,
				    dbnic_roce_pad(pkt.payload_len));
	if (dbnic_roce_parse(again, n, &pkt2) != DBNIC_ROCE_OK)
		__builtin_trap();
	/* The builder picks the pad; the rest must survive. */
	pkt.hdr.pad = pkt2.hdr.pad;
	if (memcmp(&pkt.addr, &pkt2.addr, sizeof(pkt.addr)) ||
	    memcmp(&pkt.hdr, &pkt2.hdr, sizeof(pkt.hdr)) ||
	    pkt.payload_len != pkt2.payload_len ||
	    memcmp(p + pkt.payload_off, again + pkt2.payload_off,
		   pkt.payload_len))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct dbnic_core_config tm = { 0 };
	struct fake f;
	struct hq q[2];
	uint8_t mode = take(&in, 1);

	/*
	 * The first byte picks the machine: inline execution and mapped
	 * copies on or off, and a range map() refuses, as MMIO would be.
	 */
	harness_no_inline = mode & 1;
	harness_no_map = mode & 2;
	/*
	 * The second byte's low bit turns the timing model on (datasheet 9,
	 * the gen3x8 profile), so that the timer-driven engine is fuzzed as
	 * well as the one driven by the bottom half.
	 */
	uint8_t mode2 = take(&in, 1);

	/* Bit 3: the RoCEv2 wire library alone (roce_wire_input()). */
	if (mode2 & 8) {
		roce_wire_input(in.p, in.left);
		return 0;
	}

	/* Bit 1: an event queue (CQ_COMP, QP_ERR), and a CQ_COMP CQ. */
	if (mode2 & 2)
		harness_eq_log = 4;
	/* Bit 2: RoCE mode (roce_setup()). */
	roce = mode2 & 4;
	if (mode2 & 1) {
		dbnic_core_timing_profile("gen3x8", &tm);
		harness_db_latency_ns = tm.db_latency_ns;
		harness_dma_latency_ns = tm.dma_latency_ns;
		harness_desc_ns = tm.desc_ns;
		harness_byte_ps = tm.byte_ps;
	}
	fake_init(&f);
	if (mode & 4) {
		f.nomap_lo = MEM_BASE + (mode >> 3) * (MEM_SIZE / 32);
		f.nomap_hi = f.nomap_lo + MEM_SIZE / 16;
	}
	hq_create(&f, &q[0], true, 4, 8);
	hq_create(&f, &q[1], false, 2, 6);
	q[1].pair = 1;
	hrq_create(&q[0], &rq, 3, 7, 2);
	qp_setup(&f, q);
	if (roce)
		roce_setup(&f, q[0].ctx);
	while (in.left)
		action(&f, q, &in);
	f.tx_busy = false;
	dbnic_core_eth_tx_resume(&f.core);
	fake_run(&f);
	fake_advance(&f, DBNIC_PRIO_FLUSH_TIMEOUT_NS);
	fake_run(&f);
	if (f.maps_live)
		__builtin_trap();	/* a mapping never released */
	harness_cleanup();
	return 0;
}
