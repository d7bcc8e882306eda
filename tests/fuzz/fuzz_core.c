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
 * that pushes back (datasheet 10).  A second-byte flag instead feeds the
 * input, as one frame, to the RoCEv2 wire library's parser (issue 9).
 * The sanitizers and the core's own bounds checks must hold for every
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

static void net_action(struct fake *f, struct hq *h, uint8_t op,
		       struct input *in)
{
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
	default:
		fake_run(f);
		break;
	}
}

/*
 * RoCEv2 wire mode (second byte bit 1): the rest of the input is a frame
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
	uint8_t opts = take(&in, 1);

	if (opts & 2) {
		roce_wire_input(in.p, in.left);
		return 0;
	}

	/*
	 * The first byte picks the machine: inline execution and mapped
	 * copies on or off, and a range map() refuses, as MMIO would be.
	 */
	harness_no_inline = mode & 1;
	harness_no_map = mode & 2;
	/*
	 * The second byte's low bit turns the timing model on (datasheet 9,
	 * the gen3x8 profile), so that the timer-driven engine is fuzzed as
	 * well as the one driven by the bottom half.  (Its bit 1 picks the
	 * RoCE wire mode above.)
	 */
	if (opts & 1) {
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
