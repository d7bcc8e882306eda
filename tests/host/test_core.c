/*
 * Unit tests of the dbnic device core, one per behaviour the datasheet
 * promises.  Each test drives the core through its MMIO entry points as a
 * guest would and checks what a guest could observe: memory, completions,
 * interrupts and counters.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_eth.h"
#include "test_roce_wire.h"
#include "test_roce_rc.h"
#include "test_qp.h"

#define WORDS(d)	((d)->hdr.size * DBNIC_DESC_BLOCK_SIZE / 8)

static void fill_pattern(void *p, size_t len, unsigned int seed)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

/* A copy descriptor gathering 3 ranges into 2, total 'len'. */
struct copy_case {
	uint64_t src[3], dst[2];
	uint32_t slen[3], dlen[2];
	uint32_t len;
};

static void copy_case_init(struct fake *f, struct copy_case *cc, uint32_t len,
			   unsigned int seed)
{
	unsigned int i;

	cc->len = len;
	cc->slen[0] = len / 3;
	cc->slen[1] = len / 3 + 5;
	cc->slen[2] = len - cc->slen[0] - cc->slen[1];
	cc->dlen[0] = len / 2 - 3;
	cc->dlen[1] = len - cc->dlen[0];
	for (i = 0; i < 3; i++) {
		cc->src[i] = fake_alloc(f, cc->slen[i] + 64, 8) + 1;
		fill_pattern(gpa(f, cc->src[i]), cc->slen[i], seed + i);
	}
	for (i = 0; i < 2; i++)
		cc->dst[i] = fake_alloc(f, cc->dlen[i] + 64, 64);
}

static void copy_desc(struct dbnic_desc *d, const struct hq *q,
		      const struct copy_case *cc)
{
	desc_copy(d, q, 0, cc->src, cc->slen, 3, cc->dst, cc->dlen, 2);
}

/* Is the destination the concatenation of the sources? */
static bool copy_ok(struct fake *f, const struct copy_case *cc)
{
	uint8_t *want = malloc(cc->len), *got = malloc(cc->len);
	uint32_t off = 0;
	unsigned int i;
	bool ok;

	for (i = 0; i < 3; off += cc->slen[i], i++)
		memcpy(want + off, gpa(f, cc->src[i]), cc->slen[i]);
	off = 0;
	for (i = 0; i < 2; off += cc->dlen[i], i++)
		memcpy(got + off, gpa(f, cc->dst[i]), cc->dlen[i]);
	ok = memcmp(want, got, cc->len) == 0;
	free(want);
	free(got);
	return ok;
}

/* ---- registers and admin ------------------------------------------ */

static void test_identity_and_caps(void)
{
	struct fake f;
	uint32_t v;

	fake_init(&f);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_ID, 4), DBNIC_ID_MAGIC);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_VERSION, 4), DBNIC_VERSION);
	v = dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_DB, 4);
	CHECK_EQ(DBNIC_GET(v, DBNIC_CAPDB_PAGES), 4);
	CHECK_EQ(DBNIC_GET(v, DBNIC_CAPDB_PAGE_SHIFT), DBNIC_DB_PAGE_SHIFT);
	CHECK_EQ(DBNIC_GET(v, DBNIC_CAPDB_PRIO_SLOTS), DBNIC_PRIO_SLOTS);
	v = dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_LIMITS, 4);
	CHECK_EQ(DBNIC_GET(v, DBNIC_CAPL_MAX_SGE), DBNIC_MAX_SGE);
	CHECK(dbnic_core_ctrl_read(&f.core, DBNIC_REG_STATUS, 4) & DBNIC_STATUS_READY);
	CHECK_EQ(dbnic_core_db_bar_size(&f.core), 4 * DBNIC_DB_PAGE_SIZE);
	fake_free(&f);
}

static void test_reset_clears_state(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 1);
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_CTRL, DBNIC_CTRL_RESET, 4);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_STATUS, 4), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);
	/* Doorbells while not ready are ignored. */
	ring_doorbell(&q, 1);
	fake_run(&f);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);
	fake_free(&f);
}

static void test_admin_errors(void)
{
	struct fake f;
	struct dbnic_admin_cmd cmd;
	uint32_t ctx, cqn;

	fake_init(&f);
	ctx = create_ctx(&f, true);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = 0x7f;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_OPCODE);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_CQ;
	cmd.create_cq.base = fake_alloc(&f, 4096, 4096);
	cmd.create_cq.ctx = ctx;
	cmd.create_cq.log_size = DBNIC_LOG_RING_MAX + 1;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_PARAM);
	cmd.create_cq.log_size = 4;
	cmd.create_cq.msix_vector = 4;		/* device has 4: 0..3 */
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_PARAM);
	cmd.create_cq.msix_vector = 1;
	cmd.create_cq.ctx = 3;			/* no such context */
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_HANDLE);
	cmd.create_cq.ctx = ctx;
	CHECK_EQ(admin(&f, &cmd, &cqn), DBNIC_AST_OK);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_SQ;
	cmd.create_sq.base = fake_alloc(&f, 4096, 4096);
	cmd.create_sq.ctx = ctx;
	cmd.create_sq.cqn = cqn;
	cmd.create_sq.log_size = 3;
	cmd.create_sq.log_stride = 9;		/* 512-byte slots: too big */
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_PARAM);
	cmd.create_sq.log_stride = 6;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_OK);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_DESTROY_CQ;
	cmd.destroy.handle = cqn;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BUSY);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_DESTROY_CTX;
	cmd.destroy.handle = ctx;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_OK);
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_HANDLE);
	CHECK(f.irqs[0] > 0);
	fake_free(&f);
}

/* ---- ring path -------------------------------------------------- */

static void test_ring_nop_completion_and_irq(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	cq_arm(&q);
	desc_nop(&d, &q, 0);
	engine_pending(&f);	/* inline execution: test_inline_* */
	post_ring(&q, &d);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);	/* not in the MMIO write */
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.index, 0);
	CHECK_EQ(cqe.qid, q.qid);
	CHECK_EQ(cqe.sq_head, 1);
	CHECK_EQ(cqe.flags & DBNIC_CQE_F_PRIO, 0);
	CHECK_EQ(f.irqs[1], 1);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 1);
	fake_free(&f);
}

static void test_ring_copy_gather_scatter(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct copy_case cc;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 7);
	copy_case_init(&f, &cc, 10000, 1);	/* spans several bounce chunks */
	copy_desc(&d, &q, &cc);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.byte_count, 10000);
	CHECK(copy_ok(&f, &cc));
	CHECK_EQ(counter(&f, DBNIC_CNT_BYTES), 10000);
	fake_free(&f);
}

/* Many posts over a small ring and CQ: indices and phases wrap. */
static void test_ring_wraps(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 2, 6);	/* 4 slots, 64-entry CQ */
	for (i = 0; i < 300; i++) {
		desc_nop(&d, &q, 0);
		post_ring(&q, &d);
		fake_run(&f);
		CHECK(cq_poll(&q, &cqe));
		CHECK_EQ(cqe.index, (uint16_t)i);
		CHECK_EQ(cqe.sq_head, (uint16_t)(i + 1));
	}
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 300);
	fake_free(&f);
}

/* ---- priority path ---------------------------------------------- */

static void test_prio_executes_without_memory_read(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct copy_case cc;
	unsigned int reads;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	copy_case_init(&f, &cc, 3000, 2);
	copy_desc(&d, &q, &cc);
	engine_pending(&f);	/* run by the engine, after the memset */
	post_prio(&q, &d, NULL);
	/* Make the ring copy unusable: only the priority copy can be right. */
	memset(gpa(&f, q.sq_base), 0xee, 256);
	reads = f.dma_reads;
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	CHECK(copy_ok(&f, &cc));
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_SKIP), 1);
	/*
	 * The only reads were the payload's three source ranges, through
	 * mappings when the machine has them.
	 */
	CHECK_EQ(f.dma_reads - reads, f.core.ops->map ? 0 : 3);
	CHECK_EQ(cqe.sq_head, 1);
	fake_free(&f);
}

static void test_prio_any_word_order(void)
{
	static const unsigned int rev[16] = { 15, 14, 13, 12, 11, 10, 9, 8,
					      7, 6, 5, 4, 3, 2, 1, 0 };
	static const unsigned int mix[16] = { 5, 0, 9, 3, 15, 1, 12, 7,
					      2, 14, 4, 11, 6, 13, 8, 10 };
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct copy_case cc;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	copy_case_init(&f, &cc, 500, 3);
	copy_desc(&d, &q, &cc);
	CHECK_EQ(WORDS(&d), 16);
	post_prio(&q, &d, rev);
	copy_desc(&d, &q, &cc);
	post_prio(&q, &d, mix);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	CHECK(cq_poll(&q, &cqe));
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 2);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);
	fake_free(&f);
}

static void test_prio_4byte_writes(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	const uint8_t *p = (const uint8_t *)&d;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	desc_nop(&d, &q, 0);
	d.hdr.index = q.pi++;
	desc_seal(&d);
	ring_put(&q, &d);
	for (i = 0; i < 16; i++) {
		uint32_t v;
		unsigned int dw = 15 - i;	/* backwards, dword by dword */

		memcpy(&v, p + 4 * dw, 4);
		prio_store(&f, q.ctx, 0, 4 * dw, v, 4);
	}
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);
	fake_free(&f);
}

/* Doorbelled ring work not yet started runs after a later priority post. */
static void test_prio_jumps_the_queue(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	engine_pending(&f);	/* the ring work waits for the engine */
	for (i = 0; i < 3; i++) {
		desc_nop(&d, &q, 0);
		post_ring(&q, &d);
	}
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 3);
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	for (i = 0; i < 3; i++) {
		CHECK(cq_poll(&q, &cqe));
		CHECK_EQ(cqe.index, i);
		CHECK_EQ(cqe.flags & DBNIC_CQE_F_PRIO, 0);
	}
	CHECK_EQ(cqe.sq_head, 4);	/* the ring lane passed index 3 too */
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 3);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_SKIP), 1);
	fake_free(&f);
}

/*
 * Priority work of one queue runs before ring work of another, seen through
 * data: ring copy X->Y on queue a, then priority copy Y->Z on queue b.
 * Z holds Y's old bytes only if b's copy ran first.
 */
static void test_prio_ahead_of_other_queues(void)
{
	struct fake f;
	struct hq a, b;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t x, y, z;
	uint32_t len = 256;

	fake_init(&f);
	hq_create(&f, &a, true, 3, 6);
	hq_on_ctx(&f, &b, a.ctx, 3, 6);
	b.pair = 1;
	x = fake_alloc(&f, len, 64);
	y = fake_alloc(&f, len, 64);
	z = fake_alloc(&f, len, 64);
	memset(gpa(&f, x), 0x22, len);
	memset(gpa(&f, y), 0x11, len);
	desc_copy(&d, &a, 0, &x, &len, 1, &y, &len, 1);
	engine_pending(&f);	/* a's ring copy waits for the engine */
	post_ring(&a, &d);
	desc_copy(&d, &b, 0, &y, &len, 1, &z, &len, 1);
	post_prio(&b, &d, NULL);
	fake_run(&f);
	CHECK(cq_poll(&a, &cqe));
	CHECK(cq_poll(&b, &cqe));
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	CHECK_EQ(((uint8_t *)gpa(&f, z))[0], 0x11);
	CHECK_EQ(((uint8_t *)gpa(&f, y))[0], 0x22);
	fake_free(&f);
}

/* A FENCE priority descriptor waits for lower ring indices. */
static void test_prio_fence_waits(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	d.hdr.flags |= DBNIC_DESC_F_FENCE;
	post_prio(&q, &d, NULL);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 0);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 1);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 2);
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	fake_free(&f);
}

/* ---- fallback and exactly-once ----------------------------------- */

/* Part of a descriptor, then silence: the flush timer falls back. */
static void test_torn_write_falls_back_on_timeout(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct copy_case cc;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	copy_case_init(&f, &cc, 777, 4);
	copy_desc(&d, &q, &cc);
	d.hdr.index = q.pi++;
	desc_seal(&d);
	ring_put(&q, &d);
	prio_copy(&f, q.ctx, 0, &d, NULL, WORDS(&d) - 1);	/* last word lost */
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	CHECK(f.timer_at != 0);
	fake_advance(&f, DBNIC_PRIO_FLUSH_TIMEOUT_NS);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.flags & DBNIC_CQE_F_PRIO, 0);
	CHECK(copy_ok(&f, &cc));
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_FALLBACK), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 0);
	CHECK(!cq_poll(&q, &cqe));
	fake_free(&f);
}

/*
 * A post the flush timeout cut (its vCPU descheduled mid-copy) whose last
 * word comes late: the tail is taken by the fallen-back assembly, so the
 * post counts once (PRIO_FALLBACK, no PRIO_TORN) and the slot's next post
 * runs from its priority copy (datasheet 3.2).
 */
static void test_late_tail_counted_once(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d, d2;
	struct dbnic_cqe cqe;
	struct copy_case cc, cc2;
	unsigned int last;
	uint64_t v;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	copy_case_init(&f, &cc, 777, 4);
	copy_desc(&d, &q, &cc);
	d.hdr.index = q.pi++;
	desc_seal(&d);
	ring_put(&q, &d);
	last = WORDS(&d) - 1;
	prio_copy(&f, q.ctx, 0, &d, NULL, last);	/* last word late */
	fake_advance(&f, DBNIC_PRIO_FLUSH_TIMEOUT_NS);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.flags & DBNIC_CQE_F_PRIO, 0);	/* the ring copy ran */
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_FALLBACK), 1);
	/* Later than two more timeouts: the writer was away that long. */
	fake_advance(&f, 3 * DBNIC_PRIO_FLUSH_TIMEOUT_NS);
	fake_run(&f);
	memcpy(&v, (const uint8_t *)&d + 8 * last, 8);
	prio_store(&f, q.ctx, 0, 8 * last, v, 8);
	fake_advance(&f, DBNIC_PRIO_FLUSH_TIMEOUT_NS);
	fake_run(&f);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_TORN), 0);

	/* The slot is free: the next post into it runs from priority. */
	copy_case_init(&f, &cc2, 555, 4);
	copy_desc(&d2, &q, &cc2);
	d2.hdr.index = q.pi++;
	desc_seal(&d2);
	ring_put(&q, &d2);
	prio_copy(&f, q.ctx, 0, &d2, NULL, WORDS(&d2));
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 1);
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	CHECK(copy_ok(&f, &cc2));
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_FALLBACK), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_TORN), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 1);
	fake_free(&f);
}

/* The next post into the same slot flushes the partial one. */
static void test_partial_flushed_by_next_post(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d1, d2;
	struct dbnic_cqe cqe;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	desc_nop(&d1, &q, 0);
	d1.hdr.index = q.pi++;
	desc_seal(&d1);
	ring_put(&q, &d1);
	prio_copy(&f, q.ctx, 0, &d1, NULL, 3);		/* 3 of 8 words */
	desc_nop(&d2, &q, 0);
	d2.hdr.index = q.pi++;
	desc_seal(&d2);
	ring_put(&q, &d2);
	prio_copy(&f, q.ctx, 0, &d2, NULL, WORDS(&d2));
	fake_run(&f);
	/* d2 ran from its priority copy, d1 from the ring: each once. */
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 1);
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 0);
	CHECK_EQ(cqe.flags & DBNIC_CQE_F_PRIO, 0);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_FALLBACK), 1);
	fake_free(&f);
}

/* Words of two posts that fill a slot between them never run. */
static void test_mixed_words_rejected_by_csum(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc a, b;
	struct dbnic_cqe cqe;
	struct copy_case c1, c2;
	unsigned int w;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	copy_case_init(&f, &c1, 100, 5);
	copy_case_init(&f, &c2, 100, 6);
	copy_desc(&a, &q, &c1);
	a.hdr.index = q.pi++;
	desc_seal(&a);
	ring_put(&q, &a);
	copy_desc(&b, &q, &c2);
	b.hdr.index = a.hdr.index;	/* same slot, different content */
	desc_seal(&b);
	/* Header and first SGEs from a, the rest from b. */
	for (w = 0; w < WORDS(&a); w++) {
		const struct dbnic_desc *src = w < 6 ? &a : &b;
		uint64_t v;

		memcpy(&v, (const uint8_t *)src + 8 * w, 8);
		prio_store(&f, q.ctx, 0, 8 * w, v, 8);
	}
	fake_run(&f);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_TORN), 1);
	/* One assembly, one counter: torn is not also a fallback. */
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_FALLBACK), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 0);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(copy_ok(&f, &c1));		/* the ring copy (a) ran */
	CHECK(!copy_ok(&f, &c2));
	fake_free(&f);
}

/* A priority copy of an index the ring already ran is dropped. */
static void test_stale_prio_not_run_twice(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	/* Replay index 0 through the priority area. */
	desc_seal(&d);
	prio_copy(&f, q.ctx, 0, &d, NULL, WORDS(&d));
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_STALE), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 0);
	/* And the same priority copy twice runs once. */
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);
	prio_copy(&f, q.ctx, 0, &d, NULL, WORDS(&d));
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 1);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 1);
	fake_free(&f);
}

/* A doorbell and a priority copy for the same index: one execution. */
static void test_doorbell_and_prio_same_index_once(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	desc_nop(&d, &q, 0);
	d.hdr.index = q.pi++;
	desc_seal(&d);
	ring_put(&q, &d);
	ring_doorbell(&q, q.pi);
	prio_copy(&f, q.ctx, 1, &d, NULL, WORDS(&d));
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC) + counter(&f, DBNIC_CNT_RING_FETCH), 1);
	fake_free(&f);
}

/* ---- isolation and bad input ------------------------------------- */

static void test_foreign_doorbell_refused(void)
{
	struct fake f;
	struct hq victim, evil;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;

	fake_init(&f);
	hq_create(&f, &victim, true, 3, 6);
	hq_create(&f, &evil, false, 3, 6);
	desc_nop(&d, &victim, 0);
	d.hdr.index = victim.pi;	/* written, not yet rung by its owner */
	ring_put(&victim, &d);
	/* The evil page rings the victim's queue, by doorbell and by slot. */
	dbnic_core_db_write(&f.core,
			    ((uint64_t)evil.ctx << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_SQ,
			    dbnic_db_sq_val(victim.qid, 1), 4);
	desc_seal(&d);
	prio_copy(&f, evil.ctx, 0, &d, NULL, WORDS(&d));
	fake_run(&f);
	CHECK(!cq_poll(&victim, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_NOT_OWNER), 2);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH) + counter(&f, DBNIC_CNT_PRIO_EXEC), 0);
	CHECK(dbnic_core_ctrl_read(&f.core, DBNIC_REG_INTR_CAUSE, 4) & DBNIC_INTR_ERROR);
	CHECK_EQ(DBNIC_GET(dbnic_core_ctrl_read(&f.core, DBNIC_REG_ERR, 4), DBNIC_ERR_CODE),
		 DBNIC_AERR_DB_NOT_OWNER);
	/* The owner still works. */
	ring_doorbell(&victim, 1);
	victim.pi = 1;
	fake_run(&f);
	CHECK(cq_poll(&victim, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	fake_free(&f);
}

static void test_doorbell_past_ring(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	ring_doorbell(&q, 9);		/* 8-entry ring */
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_DOORBELL);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);
	/* The queue is unchanged and keeps working. */
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.index, 0);
	fake_free(&f);
}

/* A doorbell behind the consumer index is old news, not an error. */
static void test_doorbell_backwards_ignored(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	for (i = 0; i < 5; i++) {
		desc_nop(&d, &q, 0);
		post_ring(&q, &d);
	}
	fake_run(&f);
	for (i = 0; i < 5; i++)
		CHECK(cq_poll(&q, &cqe));
	ring_doorbell(&q, 2);		/* behind: ignored */
	ring_doorbell(&q, 5);		/* current: no-op */
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 5);
	fake_free(&f);
}

static void test_bad_descriptors_complete_with_errors(void)
{
	struct fake f;
	struct hq q, other;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t a = 0, b = 0;
	uint32_t len = 64;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hq_on_ctx(&f, &other, q.ctx, 3, 6);
	a = fake_alloc(&f, 64, 64);
	b = fake_alloc(&f, 64, 64);

	desc_nop(&d, &q, 0);
	d.hdr.opcode = 0x55;
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	d.hdr.opcode = DBNIC_OP_SEND;	/* reserved in v1.1 */
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	d.hdr.size = 2;			/* larger than the 64-byte stride */
	post_ring(&q, &d);
	desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
	d.sge[1].len = 63;		/* totals differ */
	post_ring(&q, &d);
	desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
	d.sge[0].addr = 0x10;		/* outside guest memory */
	post_ring(&q, &d);
	desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
	d.hdr.nsge = 0xff;		/* 30 SGEs */
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	d.hdr.qid = 5;			/* wrong queue in the descriptor */
	post_ring(&q, &d);
	desc_nop(&d, &other, 0);
	post_ring(&other, &d);
	fake_run(&f);

	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_OPCODE);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_OPCODE);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_DESC);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_LENGTH);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_DMA_ERROR);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_DESC);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_DESC);
	CHECK_EQ(counter(&f, DBNIC_CNT_DESC_ERROR), 7);
	/* The other queue was served all along. */
	CHECK(cq_poll(&other, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	fake_free(&f);
}

/* Lengths that overflow or exceed CAP_MAX_XFER move nothing. */
static void test_length_overflow(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t a[2], b[2];
	uint32_t huge[2] = { 0xffffffffu, 0xffffffffu };
	uint32_t big = DBNIC_MAX_XFER + 1;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 7);
	a[0] = a[1] = fake_alloc(&f, 64, 64);
	b[0] = b[1] = fake_alloc(&f, 64, 64);
	memset(gpa(&f, b[0]), 0x77, 64);
	/* 2 x 4 GiB - 2: the totals match but are far past the limit. */
	desc_copy(&d, &q, 0, a, huge, 2, b, huge, 2);
	post_ring(&q, &d);
	/* An SGE whose end wraps around the address space. */
	a[0] = ~0ull - 10;
	desc_copy(&d, &q, 0, a, &big, 1, b, &big, 1);
	post_ring(&q, &d);
	/* FILL one byte past the limit. */
	desc_copy(&d, &q, 0, NULL, NULL, 0, b, &big, 1);
	d.hdr.opcode = DBNIC_OP_FILL;
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_LENGTH);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_LENGTH);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_LENGTH);
	CHECK_EQ(counter(&f, DBNIC_CNT_BYTES), 0);
	CHECK_EQ(((uint8_t *)gpa(&f, b[0]))[0], 0x77);
	fake_free(&f);
}

static void test_unprivileged_dma_address_denied(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t a, b;
	uint32_t len = 64;

	fake_init(&f);
	hq_create(&f, &q, false, 3, 6);
	a = fake_alloc(&f, 64, 64);
	b = fake_alloc(&f, 64, 64);
	memset(gpa(&f, a), 0x5a, 64);
	desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_ACCESS);
	CHECK(((uint8_t *)gpa(&f, b))[0] != 0x5a);
	fake_free(&f);
}

/*
 * A CQ that overflows enters the error state once: the CQE is dropped,
 * CQ_OVERFLOW counts once, and the send queue stops (datasheet 6.1).
 */
static void test_cq_overflow_counted(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 6, 6);	/* 64 slots, 64 CQEs */
	for (i = 0; i < 64; i++) {
		desc_nop(&d, &q, 0);
		post_ring(&q, &d);
	}
	fake_run(&f);
	CHECK_EQ(counter(&f, DBNIC_CNT_COMPLETIONS), 64);
	for (i = 0; i < 3; i++) {	/* host never consumed: CQ full */
		desc_nop(&d, &q, 0);
		d.hdr.index = q.pi++;
		ring_put(&q, &d);
	}
	ring_doorbell(&q, q.pi);
	fake_run(&f);
	CHECK_EQ(counter(&f, DBNIC_CNT_CQ_OVERFLOW), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_CQE_DROPPED), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 65);	/* then stopped */
	CHECK_EQ(counter(&f, DBNIC_CNT_COMPLETIONS), 64);
	fake_free(&f);
}

/*
 * Bad doorbells of one context raise one event for its lifetime, not one
 * per acknowledgement: a process cannot keep vector 0 busy.
 */
static void test_error_interrupts_coalesce(void)
{
	struct fake f;
	unsigned int i, before;

	fake_init(&f);
	create_ctx(&f, false);
	before = f.irqs[0];
	for (i = 0; i < 1000; i++)
		dbnic_core_db_write(&f.core, DBNIC_DB_SQ, dbnic_db_sq_val(7, 1), 4);
	CHECK_EQ(f.irqs[0] - before, 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 1000);
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_INTR_CAUSE, DBNIC_INTR_ERROR, 4);
	CHECK_EQ(DBNIC_GET(dbnic_core_ctrl_read(&f.core, DBNIC_REG_ERR, 4),
			   DBNIC_ERR_CODE), DBNIC_AERR_DB_BAD_QUEUE);
	for (i = 0; i < 1000; i++) {
		dbnic_core_db_write(&f.core, DBNIC_DB_SQ, dbnic_db_sq_val(7, 1), 4);
		dbnic_core_ctrl_write(&f.core, DBNIC_REG_INTR_CAUSE, ~0u, 4);
	}
	CHECK_EQ(f.irqs[0] - before, 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 2000);
	/* Another kind of error of the same page is reported on its own. */
	dbnic_core_db_write(&f.core, DBNIC_DB_SQ + 2, 1, 4);	/* unaligned */
	CHECK_EQ(f.irqs[0] - before, 2);
	fake_free(&f);
}

/*
 * Issue 6: sq_log_size 12, cq_log_size 1, never polled, DB_SQ to 4096 then
 * 8192 over a zeroed ring (every slot a BAD_DESC), with a host that acks
 * vector 0 at once.  v1.1 raised an async error for every dropped CQE:
 * thousands of vector-0 interrupts.  Now the CQ fails once and the queue
 * stops.  With and without an event queue.
 */
static void storm_case(unsigned int eq_log)
{
	struct fake f;
	struct hq q;
	struct dbnic_eqe e;
	unsigned int irq0;

	harness_eq_log = eq_log;
	harness_cq_log = 1;
	fake_init(&f);
	hq_create(&f, &q, false, 12, 6);
	f.ack_irq0 = true;
	irq0 = f.irqs[0];
	ring_doorbell(&q, 4096);
	fake_run(&f);
	ring_doorbell(&q, 8192);
	fake_run(&f);
	CHECK(f.irqs[0] - irq0 <= 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_CQ_OVERFLOW), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_COMPLETIONS), 2);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 3);
	CHECK(counter(&f, DBNIC_CNT_INTERRUPTS) <= 16);
	if (eq_log) {
		CHECK_EQ(counter(&f, DBNIC_CNT_EVENTS), 1);
		CHECK(eq_poll(&f, &e));
		CHECK_EQ(e.type, DBNIC_AERR_CQ_OVERFLOW);
		CHECK_EQ(e.object, q.cqn);
		CHECK_EQ(e.ctx, q.ctx);
		CHECK_EQ(e.data, DBNIC_CQ_ERR_FULL);
		CHECK(!eq_poll(&f, &e));
	}
	fake_free(&f);
}

static void test_full_cq_no_storm_err(void)
{
	storm_case(0);
}

static void test_full_cq_no_storm_eq(void)
{
	storm_case(5);
}

/*
 * A CQ in error takes nothing more: its SQ starts nothing, DB_CQ does not
 * arm it, and DESTROY_SQ reports where the ring lane stopped.
 */
static void test_cq_error_stops_sq_until_destroyed(void)
{
	struct fake f;
	struct hq q, q2;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct dbnic_eqe e;
	struct dbnic_admin_cmd cmd;
	uint32_t res = 0;
	unsigned int i, irq1;

	harness_eq_log = 4;
	harness_cq_log = 1;
	fake_init(&f);
	hq_create(&f, &q, false, 3, 6);
	for (i = 0; i < 5; i++) {
		desc_nop(&d, &q, 0);
		post_ring(&q, &d);
	}
	fake_run(&f);
	CHECK_EQ(counter(&f, DBNIC_CNT_COMPLETIONS), 2);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 3);
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_CQ_OVERFLOW);
	/* The host drains and re-arms: the CQ stays in error. */
	irq1 = f.irqs[1];
	CHECK(cq_poll(&q, &cqe));
	CHECK(cq_poll(&q, &cqe));
	cq_arm(&q);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(f.irqs[1], irq1);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 3);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 0);
	CHECK(!eq_poll(&f, &e));		/* reported once */

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_DESTROY_CQ;
	cmd.destroy.handle = q.cqn;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BUSY);
	cmd.opcode = DBNIC_ADM_DESTROY_SQ;
	cmd.destroy.handle = q.qid;
	CHECK_EQ(admin(&f, &cmd, &res), DBNIC_AST_OK);
	CHECK_EQ(res, 3);	/* 0..2 started; 3..6 never ran */
	cmd.opcode = DBNIC_ADM_DESTROY_CQ;
	cmd.destroy.handle = q.cqn;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_OK);

	/* A new CQ with the same number works. */
	harness_cq_log = 4;
	hq_on_ctx(&f, &q2, q.ctx, 3, 6);
	CHECK_EQ(q2.cqn, q.cqn);
	desc_nop(&d, &q2, 0);
	post_ring(&q2, &d);
	fake_run(&f);
	CHECK(cq_poll(&q2, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	fake_free(&f);
}

/*
 * Event queue: entries with phase, nothing in ERR, and an ADMIN failure
 * after a flood of doorbell errors is still reported.  Events raised in
 * an MMIO handler are written by the next run, not by the handler.
 */
static void test_eq_reports_without_hiding(void)
{
	struct fake f;
	struct dbnic_eqe e;
	uint32_t ctx;
	unsigned int i, irq0, writes;

	harness_eq_log = 3;
	fake_init(&f);
	ctx = create_ctx(&f, false);
	irq0 = f.irqs[0];
	writes = f.dma_writes;
	for (i = 0; i < 100; i++)
		dbnic_core_db_write(&f.core, ((uint64_t)ctx << DBNIC_DB_PAGE_SHIFT) +
				    DBNIC_DB_SQ, dbnic_db_sq_val(7, 1), 4);
	CHECK_EQ(f.dma_writes, writes);		/* no DMA from MMIO */
	CHECK_EQ(f.irqs[0] - irq0, 0);
	CHECK(f.scheduled);
	fake_run(&f);
	CHECK_EQ(f.irqs[0] - irq0, 1);
	CHECK(dbnic_core_ctrl_read(&f.core, DBNIC_REG_INTR_CAUSE, 4) &
	      DBNIC_INTR_EVENT);
	CHECK(!(dbnic_core_ctrl_read(&f.core, DBNIC_REG_INTR_CAUSE, 4) &
		DBNIC_INTR_ERROR));
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_ERR, 4), 0);
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_DB_BAD_QUEUE);
	CHECK_EQ(e.ctx, ctx);
	CHECK_EQ(e.object, 7);
	CHECK(!eq_poll(&f, &e));
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_INTR_CAUSE, DBNIC_INTR_EVENT, 4);

	/* The admin queue breaks: a producer index far past the ring. */
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_AQ_DB, 0x8000, 4);
	CHECK(dbnic_core_ctrl_read(&f.core, DBNIC_REG_STATUS, 4) &
	      DBNIC_STATUS_FATAL);
	fake_run(&f);
	CHECK_EQ(f.irqs[0] - irq0, 2);
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_ADMIN);
	CHECK_EQ(counter(&f, DBNIC_CNT_EVENTS), 2);
	fake_free(&f);
}

/*
 * Without an EQ, ERR keeps the first error until read, and ADMIN is never
 * overwritten by a later doorbell error.
 */
static void test_err_register_keeps_admin(void)
{
	struct fake f;
	uint32_t err;

	fake_init(&f);
	create_ctx(&f, false);
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_AQ_DB, 0x8000, 4);
	dbnic_core_db_write(&f.core, DBNIC_DB_SQ, dbnic_db_sq_val(7, 1), 4);
	err = dbnic_core_ctrl_read(&f.core, DBNIC_REG_ERR, 4);
	CHECK_EQ(DBNIC_GET(err, DBNIC_ERR_CODE), DBNIC_AERR_ADMIN);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_ERR, 4), 0);
	fake_free(&f);
}

/*
 * One pending event per object: a small EQ that runs full reports
 * EQ_OVERFLOW once in its last entry, counts what it lost, and reports
 * again once the host has emptied it.
 */
static void test_eq_overflow_reported_once(void)
{
	struct fake f;
	struct dbnic_eqe e;
	unsigned int page, i;

	harness_eq_log = 2;	/* 4 entries */
	fake_init(&f);
	for (page = 0; page < 4; page++)	/* four events */
		for (i = 0; i < 10; i++)
			dbnic_core_db_write(&f.core,
					    ((uint64_t)page << DBNIC_DB_PAGE_SHIFT) +
					    DBNIC_DB_SQ, dbnic_db_sq_val(7, 1), 4);
	dbnic_core_db_write(&f.core, DBNIC_DB_SQ + 2, 1, 4);	/* 5th: lost */
	fake_run(&f);
	CHECK_EQ(counter(&f, DBNIC_CNT_EVENTS), 4);
	CHECK_EQ(counter(&f, DBNIC_CNT_EVENTS_LOST), 2);
	for (i = 0; i < 3; i++) {
		CHECK(eq_poll(&f, &e));
		CHECK_EQ(e.type, DBNIC_AERR_DB_BAD_QUEUE);
		CHECK_EQ(e.ctx, i);
	}
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_EQ_OVERFLOW);
	CHECK_EQ(e.data, 1);			/* lost when it was written */
	CHECK(!eq_poll(&f, &e));
	/* Emptied: the next event is written, with the phase of pass two. */
	dbnic_core_db_write(&f.core, (1u << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_SQ + 2,
			    1, 4);
	fake_run(&f);
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_DB_BAD_ACCESS);
	CHECK_EQ(e.ctx, 1);
	CHECK(!eq_poll(&f, &e));
	fake_free(&f);
}

/*
 * AQ_CFG, AQ_SQ_BASE, AQ_CQ_BASE, EQ_BASE and EQ_CFG are latched at
 * enable: writes while enabled are ignored and counted.  The issue's
 * AQ_CFG=15 no longer gives a 32768-entry admin ring.
 */
static void test_admin_regs_latched(void)
{
	struct fake f;
	struct dbnic_core *c = &f.core;

	fake_init(&f);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_CFG, 15, 4);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_SQ_BASE, 0x40, 8);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_CQ_BASE + 4, 1, 4);
	dbnic_core_ctrl_write(c, DBNIC_REG_EQ_BASE, 0x1000, 8);
	dbnic_core_ctrl_write(c, DBNIC_REG_EQ_CFG, 3, 4);
	CHECK_EQ(counter(&f, DBNIC_CNT_REG_LATCHED), 5);
	CHECK_EQ(dbnic_core_ctrl_read(c, DBNIC_REG_AQ_CFG, 4), AQ_LOG);
	CHECK_EQ(dbnic_core_ctrl_read(c, DBNIC_REG_AQ_SQ_BASE, 8), AQ_SQ_ADDR);
	CHECK_EQ(dbnic_core_ctrl_read(c, DBNIC_REG_AQ_CQ_BASE, 8), AQ_CQ_ADDR);
	CHECK_EQ(dbnic_core_ctrl_read(c, DBNIC_REG_EQ_CFG, 4), 0);
	create_ctx(&f, false);			/* still the old ring */
	CHECK(!(dbnic_core_ctrl_read(c, DBNIC_REG_STATUS, 4) & DBNIC_STATUS_FATAL));

	/* Checked at enable: a ring that wraps past 2^64, a bad EQ size. */
	dbnic_core_ctrl_write(c, DBNIC_REG_CTRL, 0, 4);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_SQ_BASE, ~0ull << 6, 8);
	dbnic_core_ctrl_write(c, DBNIC_REG_CTRL, DBNIC_CTRL_ENABLE, 4);
	CHECK(dbnic_core_ctrl_read(c, DBNIC_REG_STATUS, 4) & DBNIC_STATUS_FATAL);
	dbnic_core_ctrl_write(c, DBNIC_REG_CTRL, 0, 4);
	dbnic_core_ctrl_write(c, DBNIC_REG_CTRL, DBNIC_CTRL_RESET, 4);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_SQ_BASE, AQ_SQ_ADDR, 8);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_CQ_BASE, AQ_CQ_ADDR, 8);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_CFG, AQ_LOG, 4);
	dbnic_core_ctrl_write(c, DBNIC_REG_EQ_BASE, EQ_ADDR, 8);
	dbnic_core_ctrl_write(c, DBNIC_REG_EQ_CFG, 1, 4);	/* below 2 */
	dbnic_core_ctrl_write(c, DBNIC_REG_CTRL, DBNIC_CTRL_ENABLE, 4);
	CHECK(dbnic_core_ctrl_read(c, DBNIC_REG_STATUS, 4) & DBNIC_STATUS_FATAL);
	fake_free(&f);
}

/* Write n admin commands with an unknown opcode straight into the ring. */
static void admin_burst(struct fake *f, unsigned int log, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct dbnic_admin_cmd *cmd =
			gpa(f, AQ_SQ_ADDR + dbnic_ring_slot(i, log) * sizeof(*cmd));

		memset(cmd, 0, sizeof(*cmd));
		cmd->opcode = 0x7f;
		cmd->cmd_id = i;
	}
	dbnic_core_ctrl_write(&f->core, DBNIC_REG_AQ_DB, n, 4);
}

/* One run executes a bounded number of admin commands, then reschedules. */
static void test_admin_budget_per_run(void)
{
	struct fake f;
	struct dbnic_core *c = &f.core;

	fake_init(&f);
	dbnic_core_ctrl_write(c, DBNIC_REG_CTRL, DBNIC_CTRL_RESET, 4);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_SQ_BASE, AQ_SQ_ADDR, 8);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_CQ_BASE, AQ_SQ_ADDR + 0x2000, 8);
	dbnic_core_ctrl_write(c, DBNIC_REG_AQ_CFG, DBNIC_AQ_LOG_SIZE_MAX, 4);
	dbnic_core_ctrl_write(c, DBNIC_REG_CTRL, DBNIC_CTRL_ENABLE, 4);
	admin_burst(&f, DBNIC_AQ_LOG_SIZE_MAX, 1u << DBNIC_AQ_LOG_SIZE_MAX);
	f.scheduled = false;
	dbnic_core_run(c);
	CHECK_EQ(counter(&f, DBNIC_CNT_ADMIN_CMDS), DBNIC_CORE_RUN_ADMIN);
	CHECK(f.scheduled);
	fake_run(&f);
	CHECK_EQ(counter(&f, DBNIC_CNT_ADMIN_CMDS), 1u << DBNIC_AQ_LOG_SIZE_MAX);
	fake_free(&f);
}

/*
 * With 65535 send queues and one of them busy, the engine's scans cost
 * what the busy queues need, not max_sq per descriptor, and no run
 * looks at more than its budget.  (v1.1: 64 x 2 x 65535 visits a run.)
 */
static void test_queue_scan_budget_per_run(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	unsigned int i;

	harness_max_sq = 65535;
	harness_cq_log = 8;
	fake_init(&f);
	hq_create(&f, &q, true, 7, 6);
	f.runs = 0;
	f.visits = 0;
	f.max_visits = 0;
	for (i = 0; i < 100; i++) {
		desc_nop(&d, &q, 0);
		ring_put(&q, &d);
		q.pi++;
	}
	ring_doorbell(&q, q.pi);
	fake_run(&f);
	for (i = 0; i < 100; i++)
		CHECK(cq_poll(&q, &cqe));
	CHECK(f.runs > 0);
	CHECK(f.max_visits <= 2 * DBNIC_CORE_RUN_VISITS);
	/*
	 * Per descriptor: a priority sweep of the 1024 words of the busy
	 * bitmap, and a ring pass that wraps round them once.
	 */
	CHECK(f.visits <= 100 * 4 * 1025);
	fake_free(&f);
}

/*
 * DESTROY_CTX destroys the context's send queues (and only those), which
 * the device finds through the context's list; a free queue number is
 * the lowest one.
 */
static void test_destroy_ctx_takes_its_queues_only(void)
{
	struct fake f;
	struct hq a1, a2, b;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct dbnic_admin_cmd cmd;
	uint32_t ctx_a;

	fake_init(&f);
	ctx_a = create_ctx(&f, true);
	hq_on_ctx(&f, &a1, ctx_a, 3, 6);
	hq_create(&f, &b, true, 3, 6);
	hq_on_ctx(&f, &a2, ctx_a, 3, 6);
	CHECK_EQ(a1.qid, 0);
	CHECK_EQ(b.qid, 1);
	CHECK_EQ(a2.qid, 2);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_DESTROY_CTX;
	cmd.destroy.handle = ctx_a;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_OK);
	ring_doorbell(&a1, 1);
	ring_doorbell(&a2, 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 2);	/* gone */
	desc_nop(&d, &b, 0);
	post_ring(&b, &d);
	fake_run(&f);
	CHECK(cq_poll(&b, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	ctx_a = create_ctx(&f, true);
	hq_on_ctx(&f, &a1, ctx_a, 3, 6);
	CHECK_EQ(a1.qid, 0);				/* lowest free */
	hq_on_ctx(&f, &a2, ctx_a, 3, 6);
	CHECK_EQ(a2.qid, 2);
	fake_free(&f);
}

/* A CQ created with NO_VECTOR never interrupts, however often armed. */
static void test_cq_no_vector(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_admin_cmd cmd;
	uint64_t before;
	unsigned int i, v, sum = 0;

	harness_cq_vector = DBNIC_CQ_NO_VECTOR;
	fake_init(&f);
	hq_create(&f, &q, false, 3, 6);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	fake_run(&f);
	before = counter(&f, DBNIC_CNT_INTERRUPTS);
	for (i = 0; i < 1000; i++)
		cq_arm(&q);			/* one CQE never consumed */
	CHECK_EQ(counter(&f, DBNIC_CNT_INTERRUPTS), before);
	for (v = 1; v < 256; v++)
		sum += f.irqs[v];
	CHECK_EQ(sum, 0);
	/* Other vectors past the device's still get BAD_PARAM. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_CQ;
	cmd.create_cq.base = q.cq_base;
	cmd.create_cq.ctx = q.ctx;
	cmd.create_cq.log_size = 2;
	cmd.create_cq.msix_vector = 4;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_PARAM);
	fake_free(&f);
}

static void test_bad_mmio_sizes_ignored(void)
{
	struct fake f;
	struct hq q;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	dbnic_core_db_write(&f.core, DBNIC_DB_SQ + 2, 1, 4);	/* unaligned */
	dbnic_core_db_write(&f.core, DBNIC_DB_SQ, 1, 8);	/* 8 on a doorbell */
	dbnic_core_db_write(&f.core, DBNIC_DB_SQ, 1, 2);	/* 2 bytes */
	dbnic_core_db_write(&f.core, 0x400, 1, 4);		/* no register */
	dbnic_core_db_write(&f.core, DBNIC_PRIO_SLOT_OFFSET(DBNIC_PRIO_SLOTS),
			    1, 8);				/* reserved */
	dbnic_core_db_write(&f.core, 1ull << 40, 1, 4);		/* past the BAR */
	dbnic_core_ctrl_write(&f.core, 1ull << 40, 1, 4);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, 0x3ffc, 4), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 5);
	CHECK(dbnic_core_ctrl_read(&f.core, DBNIC_REG_STATUS, 4) & DBNIC_STATUS_READY);
	fake_free(&f);
}


/* ---- v1.1: FILL, COMPARE, memory registrations, chunking ---------- */

static void test_fill_pattern_across_ranges(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t dst[2];
	uint32_t len[2] = { 4099, 5 };
	uint8_t *p0, *p1;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	dst[0] = fake_alloc(&f, 8192, 64);
	dst[1] = fake_alloc(&f, 64, 64);
	desc_copy(&d, &q, 0, NULL, NULL, 0, dst, len, 2);
	d.hdr.opcode = DBNIC_OP_FILL;
	d.hdr.imm = 0x44332211;
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.byte_count, 4104);
	p0 = gpa(&f, dst[0]);
	p1 = gpa(&f, dst[1]);
	for (i = 0; i < 4099; i++)
		CHECK_EQ(p0[i], 0x11 * (i % 4 + 1));
	CHECK_EQ(p0[4099], 0);			/* nothing past the range */
	/* The pattern goes on where the first range stopped: byte 4099. */
	CHECK_EQ(p1[0], 0x44);
	CHECK_EQ(p1[1], 0x11);
	fake_free(&f);
}

static void test_compare_equal_and_mismatch(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t a, b;
	uint32_t len = 9000;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	a = fake_alloc(&f, len, 64);
	b = fake_alloc(&f, len, 64);
	fill_pattern(gpa(&f, a), len, 9);
	fill_pattern(gpa(&f, b), len, 9);
	desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
	d.hdr.opcode = DBNIC_OP_COMPARE;
	post_ring(&q, &d);
	((uint8_t *)gpa(&f, b))[5000] ^= 1;
	desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
	d.hdr.opcode = DBNIC_OP_COMPARE;
	ring_put(&q, &d);	/* queued behind the first, run after the flip */
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_MISMATCH);	/* flip happened first */
	CHECK_EQ(cqe.byte_count, 5000);
	((uint8_t *)gpa(&f, b))[5000] ^= 1;
	d.hdr.index = q.pi++;
	ring_put(&q, &d);
	ring_doorbell(&q, q.pi);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.byte_count, 9000);
	fake_free(&f);
}

/* User memory: an iova range over scattered pages, by key. */
static void test_mr_translation_scattered_pages(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t pages[3], iova = 0x7f0000001800ull, src, sva;
	uint32_t key, len = 8000;
	uint8_t want[8000];
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, false, 3, 6);
	/* Pages out of order in guest memory, iova starting mid-page. */
	pages[2] = fake_alloc(&f, 4096, 4096);
	pages[0] = fake_alloc(&f, 4096, 4096);
	pages[1] = fake_alloc(&f, 4096, 4096);
	CHECK_EQ(reg_mr(&f, q.ctx, iova, 3 * 4096 - 0x800, pages, 3,
			DBNIC_MR_LOCAL_WRITE, &key), DBNIC_AST_OK);
	src = fake_alloc(&f, 3 * 4096, 4096);
	{
		uint64_t sp[3] = { src, src + 4096, src + 8192 };
		uint32_t skey;

		sva = 0x10000;
		CHECK_EQ(reg_mr(&f, q.ctx, sva, 3 * 4096, sp, 3, 0, &skey),
			 DBNIC_AST_OK);
		fill_pattern(gpa(&f, src), len, 11);
		memcpy(want, gpa(&f, src), len);
		desc_copy(&d, &q, 0, &sva, &len, 1, &iova, &len, 1);
		d.sge[0].key = skey;
		d.sge[1].key = key;
	}
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	/* iova byte x lives at pages[(0x800 + x) / 4096] + (0x800 + x) % 4096 */
	for (i = 0; i < len; i += 997) {
		uint64_t pos = 0x800 + i;

		CHECK_EQ(((uint8_t *)gpa(&f, pages[pos / 4096]))[pos % 4096], want[i]);
	}
	fake_free(&f);
}

static void test_mr_access_checks(void)
{
	struct fake f;
	struct hq q, other;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t page, iova = 0x1000, a;
	uint32_t rw, ro, foreign, key2, len = 64, big = 4097;

	fake_init(&f);
	hq_create(&f, &q, false, 3, 6);
	hq_create(&f, &other, false, 3, 6);
	page = fake_alloc(&f, 4096, 4096);
	CHECK_EQ(reg_mr(&f, q.ctx, iova, 4096, &page, 1, DBNIC_MR_LOCAL_WRITE, &rw),
		 DBNIC_AST_OK);
	CHECK_EQ(reg_mr(&f, q.ctx, iova, 4096, &page, 1, 0, &ro), DBNIC_AST_OK);
	CHECK_EQ(reg_mr(&f, other.ctx, iova, 4096, &page, 1,
			DBNIC_MR_LOCAL_WRITE, &foreign), DBNIC_AST_OK);
	/* A list too short for the range is refused. */
	CHECK_EQ(reg_mr(&f, q.ctx, 0x1800, 4096, &page, 1, 0, &key2),
		 DBNIC_AST_BAD_PARAM);
	a = iova + 2048;

	desc_copy(&d, &q, 0, &iova, &len, 1, &a, &len, 1);	/* ok */
	d.sge[0].key = rw;
	d.sge[1].key = rw;
	post_ring(&q, &d);
	desc_copy(&d, &q, 0, &iova, &len, 1, &a, &len, 1);	/* dst read-only */
	d.sge[0].key = rw;
	d.sge[1].key = ro;
	post_ring(&q, &d);
	desc_copy(&d, &q, 0, &iova, &big, 1, &a, &big, 1);	/* past the end */
	d.sge[0].key = rw;
	d.sge[1].key = rw;
	post_ring(&q, &d);
	desc_copy(&d, &q, 0, &iova, &len, 1, &a, &len, 1);	/* other's key */
	d.sge[0].key = rw;
	d.sge[1].key = foreign;
	post_ring(&q, &d);
	desc_copy(&d, &q, 0, &page, &len, 1, &a, &len, 1);	/* DMA address */
	d.sge[1].key = rw;
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_ACCESS);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_ACCESS);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_ACCESS);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_ACCESS);
	CHECK_EQ(counter(&f, DBNIC_CNT_ACCESS_FAULT), 4);

	/* A deregistered key is dead, even once its entry is reused. */
	CHECK_EQ(dereg_mr(&f, rw), DBNIC_AST_OK);
	CHECK_EQ(dereg_mr(&f, rw), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(reg_mr(&f, q.ctx, iova, 4096, &page, 1, DBNIC_MR_LOCAL_WRITE,
			&key2), DBNIC_AST_OK);
	CHECK(key2 != rw);
	desc_copy(&d, &q, 0, &iova, &len, 1, &a, &len, 1);
	d.sge[0].key = rw;
	d.sge[1].key = key2;
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_ACCESS);
	fake_free(&f);
}

/* One huge descriptor does not hold up another queue for long. */
static void test_big_copy_is_chunked(void)
{
	struct fake f;
	struct hq big, small;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t a, b;
	uint32_t len = DBNIC_CORE_RUN_BYTES + DBNIC_CORE_RUN_BYTES / 2;
	unsigned int runs = 0;

	fake_init(&f);
	hq_create(&f, &big, true, 3, 6);
	hq_on_ctx(&f, &small, big.ctx, 3, 6);
	small.pair = 1;
	a = fake_alloc(&f, len, 4096);
	b = fake_alloc(&f, len, 4096);
	fill_pattern(gpa(&f, a), len, 3);
	desc_copy(&d, &big, 0, &a, &len, 1, &b, &len, 1);
	post_ring(&big, &d);
	desc_nop(&d, &small, 0);
	post_ring(&small, &d);
	f.scheduled = false;
	dbnic_core_run(&f.core);		/* one bottom-half run */
	CHECK(f.scheduled);			/* it yielded with work left */
	CHECK(cq_poll(&small, &cqe));		/* the NOP did not wait */
	CHECK(!cq_poll(&big, &cqe));
	CHECK(counter(&f, DBNIC_CNT_BYTES) <= DBNIC_CORE_RUN_BYTES + DBNIC_CHUNK_BYTES);
	while (f.scheduled && runs++ < 1000) {
		f.scheduled = false;
		dbnic_core_run(&f.core);
	}
	CHECK(cq_poll(&big, &cqe));
	CHECK_EQ(cqe.byte_count, len);
	CHECK(memcmp(gpa(&f, a), gpa(&f, b), len) == 0);
	fake_free(&f);
}

/* A priority descriptor waits for its queue's started job, no longer. */
static void test_prio_waits_for_started_job_only(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t a, b;
	uint32_t len = DBNIC_CORE_RUN_BYTES + DBNIC_CORE_RUN_BYTES / 2;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	a = fake_alloc(&f, len, 4096);
	b = fake_alloc(&f, len, 4096);
	desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
	post_ring(&q, &d);			/* index 0: big, started below */
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);			/* index 1: queued */
	f.scheduled = false;
	dbnic_core_run(&f.core);		/* index 0 is now mid-way */
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);		/* index 2 */
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 0);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 2);			/* ahead of queued index 1 */
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 1);
	fake_free(&f);
}

/*
 * Arming is one-shot and never fires for an empty CQ, however often it is
 * written; with unconsumed CQEs it fires at once (no lost wake-ups).
 */
static void test_arm_semantics(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, false, 3, 6);
	for (i = 0; i < 1000; i++)
		cq_arm(&q);
	CHECK_EQ(f.irqs[1], 0);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK_EQ(f.irqs[1], 1);			/* one-shot: one for two CQEs */
	cq_arm(&q);				/* two CQEs unconsumed */
	CHECK_EQ(f.irqs[1], 2);
	CHECK(cq_poll(&q, &cqe));
	CHECK(cq_poll(&q, &cqe));
	for (i = 0; i < 1000; i++)
		cq_arm(&q);			/* all consumed: quiet */
	CHECK_EQ(f.irqs[1], 2);
	fake_free(&f);
}

/*
 * PCIe timing model: a ring descriptor waits one DMA round trip for its
 * fetch, a priority descriptor does not; a fetch brings up to
 * DBNIC_CORE_PREFETCH announced descriptors.
 */
static void test_timing_model(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	unsigned int i;

	harness_dma_latency_ns = 5000;
	fake_init(&f);
	hq_create(&f, &q, true, 5, 6);
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));		/* no fetch: no wait */

	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));		/* fetch in flight */
	CHECK(f.timer_at != 0);
	fake_advance(&f, 4999);
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	fake_advance(&f, 1);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));

	for (i = 0; i < DBNIC_CORE_PREFETCH; i++) {
		desc_nop(&d, &q, 0);
		post_ring(&q, &d);
	}
	fake_run(&f);
	fake_advance(&f, 5000);
	fake_run(&f);
	for (i = 0; i < DBNIC_CORE_PREFETCH; i++)
		CHECK(cq_poll(&q, &cqe));	/* one round trip for all */

	/*
	 * A fetch covers what was announced then, not what comes later, and
	 * slots of the priority lane are not fetched at all.
	 */
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	fake_run(&f);
	fake_advance(&f, 5000);
	fake_run(&f);
	for (i = 0; i < 4; i++)
		CHECK(cq_poll(&q, &cqe));
	fake_advance(&f, 1000000);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));		/* pays its own round trip */
	fake_advance(&f, 5000);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	fake_free(&f);
}

/*
 * Timing model, datasheet 9: the first CQE of q appears at exactly time t
 * (absolute, on the fake clock), not a nanosecond earlier.  The clock
 * moves to t - 1, then to t.
 */
static bool cqe_exactly_at(struct fake *f, struct hq *q, uint64_t t,
			   struct dbnic_cqe *cqe)
{
	if (f->now >= t)
		return false;
	fake_advance(f, t - 1 - f->now);
	fake_run(f);
	if (cq_poll(q, cqe)) {
		fprintf(stderr, "    CQE %u already at %llu, want %llu\n",
			cqe->index, (unsigned long long)f->now,
			(unsigned long long)t);
		return false;
	}
	fake_advance(f, 1);
	fake_run(f);
	if (!cq_poll(q, cqe)) {
		fprintf(stderr, "    no CQE at %llu\n", (unsigned long long)t);
		return false;
	}
	return true;
}

#define TM_DB	250
#define TM_DMA	500
#define TM_DESC	100
#define TM_BPS	250	/* ps per byte: 4 GB/s, whole ns per KiB */

static void tm_setup(void)
{
	harness_db_latency_ns = TM_DB;
	harness_dma_latency_ns = TM_DMA;
	harness_desc_ns = TM_DESC;
	harness_byte_ps = TM_BPS;
}

/*
 * A QD1 NOP: ring path = posted doorbell + fetch + processing; priority
 * path = posted write + processing.  The priority path saves exactly
 * the fetch.  Nothing needs the bottom half: the timer drives it all.
 */
static void test_timing_nop_ring_vs_prio(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t t0, ring, prio;

	tm_setup();
	fake_init(&f);
	hq_create(&f, &q, true, 5, 6);

	t0 = f.now;
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	CHECK(!f.scheduled);		/* no bottom half under the model */
	CHECK(cqe_exactly_at(&f, &q, t0 + TM_DB + TM_DMA + TM_DESC, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(!(cqe.flags & DBNIC_CQE_F_PRIO));
	ring = f.now - t0;

	fake_advance(&f, 10000);
	t0 = f.now;
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);
	CHECK(!f.scheduled);
	CHECK(cqe_exactly_at(&f, &q, t0 + TM_DB + TM_DESC, &cqe));
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	prio = f.now - t0;
	CHECK_EQ(ring - prio, TM_DMA);
	fake_free(&f);
}

/*
 * A COPY adds the first payload read and its bytes at the link's rate;
 * the bytes of a 192 KiB copy cross in three pieces.
 */
static void test_timing_copy_bandwidth(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint32_t len = 3 * DBNIC_CHUNK_BYTES;
	uint64_t src, dst, t0;

	tm_setup();
	fake_init(&f);
	hq_create(&f, &q, true, 5, 6);
	src = fake_alloc(&f, len, 4096);
	dst = fake_alloc(&f, len, 4096);
	fill_pattern(gpa(&f, src), len, 3);

	t0 = f.now;
	desc_copy(&d, &q, 0, &src, &len, 1, &dst, &len, 1);
	post_ring(&q, &d);
	CHECK(cqe_exactly_at(&f, &q, t0 + TM_DB + TM_DMA + TM_DESC + TM_DMA +
			     (uint64_t)len * TM_BPS / 1000, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.byte_count, len);
	CHECK(!memcmp(gpa(&f, src), gpa(&f, dst), len));

	/* The same through the priority path: one fetch less. */
	memset(gpa(&f, dst), 0, len);
	fake_advance(&f, 10000);
	t0 = f.now;
	desc_copy(&d, &q, 0, &src, &len, 1, &dst, &len, 1);
	post_prio(&q, &d, NULL);
	CHECK(cqe_exactly_at(&f, &q, t0 + TM_DB + TM_DESC + TM_DMA +
			     (uint64_t)len * TM_BPS / 1000, &cqe));
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	CHECK(!memcmp(gpa(&f, src), gpa(&f, dst), len));
	fake_free(&f);
}

/*
 * Two queues share the data path: two 64 KiB copies started together
 * take twice the bytes' time, one after the other, piece by piece.
 */
static void test_timing_link_shared(void)
{
	struct fake f;
	struct hq q[2];
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint32_t len = DBNIC_CHUNK_BYTES;
	uint64_t src, dst[2], t0, start, xfer = (uint64_t)len * TM_BPS / 1000;
	unsigned int i;

	tm_setup();
	fake_init(&f);
	for (i = 0; i < 2; i++) {
		hq_create(&f, &q[i], true, 5, 6);
		q[i].pair = i;
	}
	src = fake_alloc(&f, len, 4096);
	for (i = 0; i < 2; i++)
		dst[i] = fake_alloc(&f, len, 4096);

	t0 = f.now;
	for (i = 0; i < 2; i++) {
		desc_copy(&d, &q[i], 0, &src, &len, 1, &dst[i], &len, 1);
		post_ring(&q[i], &d);
	}
	start = t0 + TM_DB + TM_DMA + TM_DESC + TM_DMA;
	CHECK(cqe_exactly_at(&f, &q[0], start + xfer, &cqe));
	CHECK(!cq_poll(&q[1], &cqe));
	CHECK(cqe_exactly_at(&f, &q[1], start + 2 * xfer, &cqe));
	fake_free(&f);
}

/*
 * Per-descriptor cost and the fetch of up to DBNIC_CORE_PREFETCH: four
 * NOPs announced by one doorbell share one fetch and then finish one
 * processing time apart.  A fifth announced later, while they run, pays
 * its own fetch after they are done.
 */
static void test_timing_per_descriptor(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t t0, first;
	unsigned int i;

	tm_setup();
	fake_init(&f);
	hq_create(&f, &q, true, 5, 6);
	t0 = f.now;
	for (i = 0; i < 4; i++) {
		desc_nop(&d, &q, q.pi++);
		ring_put(&q, &d);
	}
	ring_doorbell(&q, q.pi);
	first = t0 + TM_DB + TM_DMA;
	for (i = 0; i < 4; i++) {
		CHECK(cqe_exactly_at(&f, &q, first + (i + 1) * TM_DESC, &cqe));
		CHECK_EQ(cqe.index, i);
		if (i == 0) {
			/* Arrives at first + TM_DESC + TM_DB: before 3 ends. */
			desc_nop(&d, &q, 0);
			post_ring(&q, &d);
		}
	}
	CHECK(cqe_exactly_at(&f, &q, first + 4 * TM_DESC + TM_DMA + TM_DESC,
			     &cqe));
	CHECK_EQ(cqe.index, 4);
	fake_free(&f);
}

/*
 * The datasheet's gen3x8 profile, and the MMIO cost charged as the
 * posted write's latency: a doorbell is not acted on before it arrives,
 * however often the engine runs meanwhile.
 */
static void test_timing_profile_gen3x8(void)
{
	struct dbnic_core_config cfg;
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t t0;

	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ(dbnic_core_timing_profile("nonsense", &cfg), -1);
	CHECK_EQ(cfg.dma_latency_ns, 0);
	CHECK_EQ(dbnic_core_timing_profile("gen3x8", &cfg), 0);
	CHECK_EQ(cfg.db_latency_ns, 250);
	CHECK_EQ(cfg.dma_latency_ns, 500);
	CHECK_EQ(cfg.desc_ns, 100);
	CHECK_EQ(cfg.byte_ps, 160);

	harness_db_latency_ns = cfg.db_latency_ns;
	harness_dma_latency_ns = cfg.dma_latency_ns;
	harness_desc_ns = cfg.desc_ns;
	harness_byte_ps = cfg.byte_ps;
	fake_init(&f);
	hq_create(&f, &q, true, 5, 6);
	t0 = f.now;
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	/* Runs the glue might make for other reasons change nothing. */
	for (int i = 0; i < 10; i++) {
		dbnic_core_run(&f.core);
		fake_advance(&f, 20);
	}
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);
	CHECK(cqe_exactly_at(&f, &q, t0 + 850, &cqe));
	CHECK_EQ(dbnic_core_timing_profile("off", &cfg), 0);
	CHECK_EQ(cfg.db_latency_ns + cfg.dma_latency_ns + cfg.desc_ns +
		 cfg.byte_ps, 0);
	fake_free(&f);
}

/* ---- order and staleness on the priority lane --------------------- */

/*
 * Datasheet 3.2: a FENCE descriptor waits for every lower index of its
 * queue, priority copies included.  Ring copies 0-3 (3 fenced), then the
 * priority copy of 3 and the priority copy of 1: 1 jumps the ring, 3 runs
 * last.  (The lane used to run 3 as soon as the ring lane had skipped 1:
 * 0 2 3p 1p.)
 */
static void test_prio_fence_waits_for_lower_prio(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d[4];
	struct dbnic_cqe cqe;
	static const unsigned int want[4] = { 1, 0, 2, 3 };
	static const bool prio[4] = { true, false, false, true };
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	for (i = 0; i < 4; i++) {
		desc_nop(&d[i], &q, i);
		if (i == 3)
			d[i].hdr.flags |= DBNIC_DESC_F_FENCE;
		desc_seal(&d[i]);
		ring_put(&q, &d[i]);
	}
	q.pi = 4;
	prio_copy(&f, q.ctx, 0, &d[3], NULL, WORDS(&d[3]));
	prio_copy(&f, q.ctx, 1, &d[1], NULL, WORDS(&d[1]));
	fake_run(&f);
	for (i = 0; i < 4; i++) {
		CHECK(cq_poll(&q, &cqe));
		CHECK_EQ(cqe.index, want[i]);
		CHECK_EQ(!!(cqe.flags & DBNIC_CQE_F_PRIO), prio[i]);
		CHECK_EQ(cqe.status, DBNIC_ST_OK);
	}
	CHECK(!cq_poll(&q, &cqe));
	fake_free(&f);
}

/*
 * Issue 6, 4: a header abandoned as the datasheet asks (DB_SQ rung) is
 * dead at that doorbell.  Ten ms later, with the queue a ring further on,
 * it must not come back as a doorbell "past the ring".
 */
static void test_stale_partial_header_dies_at_doorbell(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t w0;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 1, 6);		/* 2 entries */
	desc_nop(&d, &q, 0);
	desc_seal(&d);
	ring_put(&q, &d);			/* 1. NOP 0 in the ring */
	memcpy(&w0, &d, 8);
	prio_store(&f, q.ctx, 0, 0, w0, 8);	/* 2. its header only */
	q.pi = 1;
	ring_doorbell(&q, 1);			/* 3. abandon: DB_SQ pi=1 */
	fake_run(&f);
	for (i = 1; i < 4; i++) {		/* 4. NOPs 1-3, ring path */
		desc_nop(&d, &q, 0);
		post_ring(&q, &d);
		fake_run(&f);
	}
	for (i = 0; i < 4; i++) {
		CHECK(cq_poll(&q, &cqe));
		CHECK_EQ(cqe.index, i);
		CHECK_EQ(cqe.status, DBNIC_ST_OK);
	}
	fake_advance(&f, 11000000);		/* 5. 11 ms */
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_STALE), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_FALLBACK), 0);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_ERR, 4), 0);
	/* The slot is free for the next post. */
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 4);
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	fake_free(&f);
}

/*
 * A partial copy the ring lane passed (a later priority post announced
 * it, no DB_SQ) dies then; after the queue has gone almost a whole 16-bit
 * wrap further, its header must not look like a fresh doorbell and make
 * the ring lane run old ring slots again.
 */
static void test_stale_partial_header_after_wrap(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t w0;
	unsigned int n;

	fake_init(&f);
	hq_create(&f, &q, true, 1, 6);		/* 2 entries */
	desc_nop(&d, &q, 0);
	d.hdr.index = q.pi++;
	desc_seal(&d);
	ring_put(&q, &d);
	memcpy(&w0, &d, 8);
	prio_store(&f, q.ctx, 0, 0, w0, 8);	/* header of 0, abandoned */
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);		/* 1, complete, in slot 1 */
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_STALE), 1);
	/* Silent NOPs until the producer index is 0xffff. */
	while (q.pi != 0xffff) {
		desc_nop(&d, &q, 0);
		d.hdr.flags = 0;
		d.hdr.index = q.pi;
		ring_put(&q, &d);
		n = q.pi == 0xfffe ? 1 : 2;
		if (n == 2) {
			d.hdr.index = q.pi + 1;
			ring_put(&q, &d);
		}
		q.pi += n;
		ring_doorbell(&q, q.pi);
		fake_run(&f);
	}
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0xffff - 1);
	fake_advance(&f, 11000000);
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0xffff - 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_DESC_ERROR), 0);
	fake_free(&f);
}

/* A header that arrives for an index the queue already ran dies at once. */
static void test_stale_header_dies_on_arrival(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t w0;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	desc_seal(&d);
	memcpy(&w0, &d, 8);
	prio_store(&f, q.ctx, 0, 0, w0, 8);	/* header of done index 0 */
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_STALE), 1);
	fake_advance(&f, 11000000);
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_STALE), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_FALLBACK), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 0);
	fake_free(&f);
}

/* ---- spec conformance --------------------------------------------- */

/* Reserved flags bits give BAD_DESC (header: "reserved bits"). */
static void test_reserved_flags_bad_desc(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	desc_nop(&d, &q, 0);
	d.hdr.flags |= 0x80;
	engine_pending(&f);	/* so that the priority copy jumps it */
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	d.hdr.flags |= 0x04;
	post_prio(&q, &d, NULL);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 1);
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_DESC);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 0);
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_DESC);
	fake_free(&f);
}

/*
 * DESTROY_SQ completes every announced, unfinished descriptor with
 * FLUSHED, with or without COMPLETION, ring and priority lane alike.
 */
static void test_destroy_sq_flushes(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	unsigned int i, seen = 0, prio = 0;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	engine_pending(&f);	/* nothing runs inline */
	for (i = 0; i < 3; i++) {
		desc_nop(&d, &q, 0);
		if (i == 1)
			d.hdr.flags = 0;	/* no completion asked */
		post_ring(&q, &d);
	}
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);
	/* Nothing ran yet: the admin command runs first in the BH. */
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_SQ, q.qid), DBNIC_AST_OK);
	for (i = 0; i < 4; i++) {
		CHECK(cq_poll(&q, &cqe));
		CHECK_EQ(cqe.status, DBNIC_ST_FLUSHED);
		CHECK_EQ(cqe.qid, q.qid);
		seen |= 1u << cqe.index;
		if (cqe.flags & DBNIC_CQE_F_PRIO) {
			CHECK_EQ(cqe.index, 3);
			prio++;
		}
	}
	CHECK_EQ(seen, 0xf);
	CHECK_EQ(prio, 1);
	CHECK(!cq_poll(&q, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 0);
	/* The CQ is free to go now. */
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CQ, q.cqn), DBNIC_AST_OK);
	fake_free(&f);
}

/* A key is never handed out twice: a spent generation retires its entry. */
static void test_mr_generation_never_wraps(void)
{
	struct fake f;
	struct hq q;
	uint64_t page;
	uint32_t key, first = 0;
	static uint8_t seen[1u << 16];	/* generations of entry 1 seen */
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, false, 3, 6);
	page = fake_alloc(&f, 4096, 4096);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i <= 0x10001; i++) {
		CHECK_EQ(reg_mr(&f, q.ctx, 0, 4096, &page, 1, 0, &key),
			 DBNIC_AST_OK);
		if (!first)
			first = key;
		/* Entry 1 cycles through its generations, then retires. */
		if (DBNIC_GET(key, DBNIC_MR_KEY_INDEX) == 1) {
			CHECK(DBNIC_GET(key, DBNIC_MR_KEY_GEN) != 0);
			if (seen[DBNIC_GET(key, DBNIC_MR_KEY_GEN)]) {
				fprintf(stderr, "    key %#x handed out twice\n", key);
				CHECK(0);
			}
			seen[DBNIC_GET(key, DBNIC_MR_KEY_GEN)] = 1;
		}
		CHECK_EQ(dereg_mr(&f, key), DBNIC_AST_OK);
		/* Each reg_mr() allocates an 8-byte page list: hand it back. */
		f.alloc_next -= 8;
	}
	CHECK_EQ(DBNIC_GET(key, DBNIC_MR_KEY_INDEX), 2);
	CHECK_EQ(dereg_mr(&f, first), DBNIC_AST_BAD_HANDLE);
	/* Reset gives the entries back, generations restarted. */
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_CTRL, DBNIC_CTRL_RESET, 4);
	CHECK_EQ(f.core.mr[0].retired, 0);
	fake_free(&f);
}

/* Writes to the BAR's padding pages (3 pages round up to 4) are counted. */
static void test_padding_page_writes_counted(void)
{
	struct fake f;

	harness_db_pages = 3;
	fake_init(&f);
	CHECK_EQ(dbnic_core_db_bar_size(&f.core), 4 * DBNIC_DB_PAGE_SIZE);
	dbnic_core_db_write(&f.core, 3 * DBNIC_DB_PAGE_SIZE + DBNIC_DB_SQ,
			    dbnic_db_sq_val(0, 1), 4);
	dbnic_core_db_write(&f.core, 3 * DBNIC_DB_PAGE_SIZE +
			    DBNIC_PRIO_SLOT_OFFSET(0), 1, 8);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 2);
	fake_run(&f);	/* events raised in MMIO are posted by the BH (7.1) */
	CHECK_EQ(DBNIC_GET(dbnic_core_ctrl_read(&f.core, DBNIC_REG_ERR, 4),
			   DBNIC_ERR_CODE), DBNIC_AERR_DB_BAD_ACCESS);
	/* Past the BAR (not reachable through QEMU): nothing. */
	dbnic_core_db_write(&f.core, 4 * DBNIC_DB_PAGE_SIZE, 1, 4);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 2);
	fake_free(&f);
}

/* Post an admin command without waiting for it (the harness's admin() does). */
static void admin_post(struct fake *f, struct dbnic_admin_cmd *cmd)
{
	unsigned int slot = f->aq_pi & ((1u << AQ_LOG) - 1);

	cmd->cmd_id = f->aq_pi;
	memcpy(gpa(f, AQ_SQ_ADDR + slot * sizeof(*cmd)), cmd, sizeof(*cmd));
	f->aq_pi++;
	dbnic_core_ctrl_write(&f->core, DBNIC_REG_AQ_DB, f->aq_pi, 4);
}

/* The next admin CQE, if the device has written it. */
static bool admin_poll(struct fake *f, struct dbnic_admin_cqe *out)
{
	unsigned int slot = f->aq_ci & ((1u << AQ_LOG) - 1);
	struct dbnic_admin_cqe *cqe = gpa(f, AQ_CQ_ADDR + slot * sizeof(*cqe));

	if ((cqe->flags & DBNIC_CQE_F_PHASE) != dbnic_cq_phase(f->aq_ci, AQ_LOG))
		return false;
	*out = *cqe;
	f->aq_ci++;
	return true;
}

/*
 * Test-only admin-delay-ms: a delayed opcode is answered that long after
 * it reached the head of the ring, by the timer (nothing blocks), and the
 * commands behind it wait; other opcodes are not delayed; reset forgets.
 */
static void test_admin_delay(void)
{
	struct dbnic_admin_cmd reg = { .opcode = DBNIC_ADM_REG_MR };
	struct dbnic_admin_cmd cc = { .opcode = DBNIC_ADM_CREATE_CTX };
	struct dbnic_admin_cqe cqe;
	struct fake f;
	uint32_t ctx;

	harness_admin_delay_ms = 7;
	harness_admin_delay_ops = 1u << DBNIC_ADM_REG_MR;
	fake_init(&f);
	ctx = create_ctx(&f, true);		/* not delayed */

	reg.reg_mr.ctx = ctx;			/* BAD_PARAM: no pages */
	admin_post(&f, &reg);
	admin_post(&f, &cc);
	fake_run(&f);
	CHECK(!admin_poll(&f, &cqe));
	CHECK(f.timer_at != 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_ADMIN_CMDS), 1);
	fake_advance(&f, 7000000 - 1);
	fake_run(&f);
	CHECK(!admin_poll(&f, &cqe));		/* CREATE_CTX waits behind */
	fake_advance(&f, 1);
	fake_run(&f);
	CHECK(admin_poll(&f, &cqe));
	CHECK_EQ(cqe.cmd_id, reg.cmd_id);
	CHECK_EQ(cqe.status, DBNIC_AST_BAD_PARAM);
	CHECK(admin_poll(&f, &cqe));
	CHECK_EQ(cqe.cmd_id, cc.cmd_id);
	CHECK_EQ(cqe.status, DBNIC_AST_OK);

	/* A reset forgets the delayed command and its deadline. */
	admin_post(&f, &reg);
	fake_run(&f);
	CHECK(!admin_poll(&f, &cqe));
	dbnic_core_reset(&f.core);
	CHECK_EQ(f.core.aq_due, 0);
	fake_free(&f);

	/* Out of range: refused at init. */
	{
		struct dbnic_core_config cfg = {
			.db_pages = 1, .max_sq = 1, .max_cq = 1,
			.msix_vectors = 1, .max_mr = 1,
			.admin_delay_ms = DBNIC_CORE_ADMIN_DELAY_MAX_MS + 1,
		};
		struct dbnic_core c;

		CHECK(dbnic_core_init(&c, &cfg, NULL, NULL) != 0);
	}
}

/* ---- inline execution and mapped copies --------------------------- */

/*
 * With the engine idle, a doorbell or a complete priority write for a
 * small descriptor runs it inside the MMIO write: the CQE and its
 * interrupt are there when dbnic_core_db_write() returns, and the engine
 * is not asked for.
 */
static void test_inline_small_work_in_mmio_write(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t a, b;
	uint32_t len = 64;
	unsigned int path;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	a = fake_alloc(&f, len, 64);
	b = fake_alloc(&f, len, 64);
	for (path = 0; path < 2; path++) {
		cq_arm(&q);
		f.scheduled = false;
		desc_nop(&d, &q, 0);
		if (path)
			post_prio(&q, &d, NULL);
		else
			post_ring(&q, &d);
		CHECK(cq_poll(&q, &cqe));
		CHECK_EQ(cqe.status, DBNIC_ST_OK);
		CHECK_EQ(!!(cqe.flags & DBNIC_CQE_F_PRIO), path);
		CHECK_EQ(cqe.sq_head, q.pi);
		CHECK_EQ(f.irqs[1], 2 * path + 1);
		CHECK(!f.scheduled);

		cq_arm(&q);
		fill_pattern(gpa(&f, a), len, path);
		memset(gpa(&f, b), 0, len);
		desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
		if (path)
			post_prio(&q, &d, NULL);
		else
			post_ring(&q, &d);
		CHECK(cq_poll(&q, &cqe));
		CHECK_EQ(cqe.status, DBNIC_ST_OK);
		CHECK_EQ(cqe.byte_count, len);
		CHECK(!memcmp(gpa(&f, a), gpa(&f, b), len));
		CHECK_EQ(f.irqs[1], 2 * path + 2);
		CHECK(!f.scheduled);
	}
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 2);
	CHECK_EQ(counter(&f, DBNIC_CNT_PRIO_EXEC), 2);
	fake_free(&f);
}

/* A doorbell for a few small descriptors runs them all, in ring order. */
static void test_inline_few_descriptors_in_order(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	unsigned int i, n;

	fake_init(&f);
	hq_create(&f, &q, true, 4, 6);
	for (n = DBNIC_CORE_INLINE_DESCS; n <= DBNIC_CORE_INLINE_DESCS + 1;
	     n++) {
		uint16_t first = q.pi;

		f.scheduled = false;
		for (i = 0; i < n; i++) {
			desc_nop(&d, &q, q.pi++);
			ring_put(&q, &d);
		}
		ring_doorbell(&q, q.pi);
		if (n > DBNIC_CORE_INLINE_DESCS) {
			/* More than a few: the engine's. */
			CHECK(!cq_poll(&q, &cqe));
			CHECK(f.scheduled);
			fake_run(&f);
		} else {
			CHECK(!f.scheduled);
		}
		for (i = 0; i < n; i++) {
			CHECK(cq_poll(&q, &cqe));
			CHECK_EQ(cqe.index, (uint16_t)(first + i));
		}
		CHECK(!cq_poll(&q, &cqe));
	}
	fake_free(&f);
}

/*
 * A fenced priority copy whose lower ring index was written but not rung:
 * its post announces both, and inline execution keeps the fence (3.2).
 */
static void test_inline_keeps_fence(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	desc_nop(&d, &q, q.pi++);
	ring_put(&q, &d);
	desc_nop(&d, &q, 0);
	d.hdr.flags |= DBNIC_DESC_F_FENCE;
	post_prio(&q, &d, NULL);
	CHECK(!f.scheduled);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 0);
	CHECK_EQ(cqe.flags & DBNIC_CQE_F_PRIO, 0);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 1);
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	fake_free(&f);
}

/*
 * No inline execution when anything may have to go first: the queue's
 * job has started, another queue left the engine work, the timing model
 * is on, or inline execution is off.  The work waits for the engine and
 * runs in the datasheet's order.
 */
static void test_inline_not_when_busy(void)
{
	struct fake f;
	struct hq q, o;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t a, b;
	uint32_t len = 2 * DBNIC_CHUNK_BYTES;
	unsigned int mode;

	/* A large COPY is started, not finished; work behind it waits. */
	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hq_create(&f, &o, true, 3, 6);
	a = fake_alloc(&f, len, 64);
	b = fake_alloc(&f, len, 64);
	desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
	post_ring(&q, &d);
	CHECK(!cq_poll(&q, &cqe));
	CHECK(f.scheduled);
	desc_nop(&d, &q, 0);
	post_prio(&q, &d, NULL);		/* started first, finishes first */
	desc_nop(&d, &o, 0);
	post_ring(&o, &d);			/* another queue: engine's turn */
	CHECK(!cq_poll(&q, &cqe));
	CHECK(!cq_poll(&o, &cqe));
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 0);
	CHECK_EQ(cqe.byte_count, len);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 1);
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	CHECK(cq_poll(&o, &cqe));
	/* Idle again: inline. */
	desc_nop(&d, &o, 0);
	post_ring(&o, &d);
	CHECK(cq_poll(&o, &cqe));
	fake_free(&f);

	/* Timing model on; inline execution off. */
	for (mode = 0; mode < 2; mode++) {
		harness_dma_latency_ns = mode ? 0 : 1000;
		harness_no_inline = mode;
		fake_init(&f);
		hq_create(&f, &q, true, 3, 6);
		desc_nop(&d, &q, 0);
		post_prio(&q, &d, NULL);
		desc_nop(&d, &q, 0);
		post_ring(&q, &d);
		CHECK(!cq_poll(&q, &cqe));
		/* Under the timing model the engine is asked through the timer. */
		CHECK(mode ? f.scheduled : f.timer_at != 0);
		fake_advance(&f, 1000);
		fake_run(&f);
		fake_advance(&f, 1000);
		fake_run(&f);
		CHECK(cq_poll(&q, &cqe));
		CHECK(cq_poll(&q, &cqe));
		fake_free(&f);
	}
}

/*
 * A COPY through mappings: copied once, in pieces as long as the
 * mappings (HARNESS_MAP_SPLIT here), every mapping released; a source
 * range the machine cannot map (MMIO) goes through the bounce buffers,
 * and the bytes come out right either way.
 */
static void test_copy_mapped_and_bounced(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct copy_case cc;
	uint32_t len = 3 * DBNIC_CHUNK_BYTES + 1000;
	unsigned int reads, mode;

	for (mode = 0; mode < 2; mode++) {
		fake_init(&f);
		hq_create(&f, &q, true, 3, 7);
		copy_case_init(&f, &cc, len, 9);
		if (mode) {	/* source range 1 is MMIO to the map */
			f.nomap_lo = cc.src[1] + 100;
			f.nomap_hi = cc.src[1] + 5000;
		}
		reads = f.dma_reads;
		copy_desc(&d, &q, &cc);
		post_ring(&q, &d);
		fake_run(&f);
		CHECK(cq_poll(&q, &cqe));
		CHECK_EQ(cqe.status, DBNIC_ST_OK);
		CHECK_EQ(cqe.byte_count, len);
		CHECK(copy_ok(&f, &cc));
		CHECK_EQ(f.maps_live, 0);
		CHECK(f.maps >= 2 * (len / HARNESS_MAP_SPLIT));
		/*
		 * Read and written through mappings: each byte counted twice,
		 * but for the bounced ones: DBNIC_CORE_BOUNCE at a time from
		 * the window's start until a piece starts past its end, two.
		 */
		CHECK_EQ(f.map_bytes,
			 2ull * (len - (mode ? 2 * DBNIC_CORE_BOUNCE : 0)));
		/* The descriptor fetch (header, then all), the bounced reads. */
		CHECK_EQ(f.dma_reads - reads, 2 + (mode ? 2 : 0));
		fake_free(&f);
	}
}

/*
 * Overlapping ranges: forbidden (datasheet 5), so the bytes are
 * undefined, but the device copies without undefined behaviour of its
 * own (the sanitizers check: memcpy() on overlap is an error).
 */
static void test_copy_mapped_overlap(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t a, b;
	uint32_t len = 8192;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	a = fake_alloc(&f, 2 * len, 64);
	b = a + 100;
	fill_pattern(gpa(&f, a), len, 5);
	desc_copy(&d, &q, 0, &a, &len, 1, &b, &len, 1);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);	/* the bytes are undefined */
	fake_free(&f);
}

/*
 * Registered memory whose pages are adjacent in DMA space: the device
 * reads the page list in batches and maps runs of adjacent pages as one
 * range (as the MTT cache of a real adapter does), so a 64 KiB COPY
 * between two 16-page registrations maps pieces as long as the machine's
 * mappings, not one page at a time; a hole in the list (pages out of
 * order) ends a run, and the bytes land where the list says.
 */
static void test_mr_adjacent_pages_map_as_one(void)
{
	enum { NP = 16 };
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t sp[NP], dp[NP], sva = 0x100000, dva = 0x200000, sbase, dbase;
	uint32_t skey, dkey, len = NP * 4096;
	unsigned int i, reads;

	fake_init(&f);
	hq_create(&f, &q, false, 3, 6);
	sbase = fake_alloc(&f, len, 4096);
	dbase = fake_alloc(&f, len, 4096);
	for (i = 0; i < NP; i++) {
		sp[i] = sbase + 4096ull * i;
		dp[i] = dbase + 4096ull * i;
	}
	/* Destination pages 7 and 8 swapped: two holes in its list. */
	dp[7] = dbase + 4096ull * 8;
	dp[8] = dbase + 4096ull * 7;
	CHECK_EQ(reg_mr(&f, q.ctx, sva, len, sp, NP, 0, &skey), DBNIC_AST_OK);
	CHECK_EQ(reg_mr(&f, q.ctx, dva, len, dp, NP, DBNIC_MR_LOCAL_WRITE,
			&dkey), DBNIC_AST_OK);
	fill_pattern(gpa(&f, sbase), len, 21);
	desc_copy(&d, &q, 0, &sva, &len, 1, &dva, &len, 1);
	d.sge[0].key = skey;
	d.sge[1].key = dkey;
	reads = f.dma_reads;
	f.maps = 0;
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.byte_count, len);
	for (i = 0; i < len; i++) {
		uint32_t page = i / 4096, off = i % 4096;
		uint8_t *dst = gpa(&f, dp[page]);

		if (dst[off] != ((uint8_t *)gpa(&f, sbase))[i]) {
			CHECK_EQ(dst[off], ((uint8_t *)gpa(&f, sbase))[i]);
			break;
		}
	}
	CHECK_EQ(f.maps_live, 0);
	/*
	 * Destination runs: pages 0-6, 7, 8, 9-15; each cut further by the
	 * machine's map split (16 KiB).  Page by page it would be 2 * 16.
	 */
	CHECK(f.maps <= 2 * 8);
	/* Descriptor fetch (2) and a few page-list batches, not 2 per page. */
	CHECK(f.dma_reads - reads <= 2 + 2 * 6);
	fake_free(&f);
}

#define T(fn) { #fn, fn, true }
/* A test of inline execution or mappings, run in the default mode only. */
#define T1(fn) { #fn, fn, false }
static const struct {
	const char *name;
	void (*fn)(void);
	bool legacy;	/* run in the legacy mode too */
} tests[] = {
	T(test_identity_and_caps),
	T(test_reset_clears_state),
	T(test_admin_errors),
	T(test_ring_nop_completion_and_irq),
	T(test_ring_copy_gather_scatter),
	T(test_ring_wraps),
	T(test_prio_executes_without_memory_read),
	T(test_prio_any_word_order),
	T(test_prio_4byte_writes),
	T(test_prio_jumps_the_queue),
	T(test_prio_ahead_of_other_queues),
	T(test_prio_fence_waits),
	T(test_torn_write_falls_back_on_timeout),
	T(test_late_tail_counted_once),
	T(test_partial_flushed_by_next_post),
	T(test_mixed_words_rejected_by_csum),
	T(test_stale_prio_not_run_twice),
	T(test_doorbell_and_prio_same_index_once),
	T(test_foreign_doorbell_refused),
	T(test_doorbell_past_ring),
	T(test_doorbell_backwards_ignored),
	T(test_bad_descriptors_complete_with_errors),
	T(test_length_overflow),
	T(test_unprivileged_dma_address_denied),
	T(test_cq_overflow_counted),
	T(test_error_interrupts_coalesce),
	T(test_full_cq_no_storm_err),
	T(test_full_cq_no_storm_eq),
	T(test_cq_error_stops_sq_until_destroyed),
	T(test_eq_reports_without_hiding),
	T(test_err_register_keeps_admin),
	T(test_eq_overflow_reported_once),
	T(test_admin_regs_latched),
	T(test_admin_budget_per_run),
	T(test_queue_scan_budget_per_run),
	T(test_destroy_ctx_takes_its_queues_only),
	T(test_cq_no_vector),
	T(test_bad_mmio_sizes_ignored),
	T(test_fill_pattern_across_ranges),
	T(test_compare_equal_and_mismatch),
	T(test_mr_translation_scattered_pages),
	T1(test_mr_adjacent_pages_map_as_one),
	T(test_mr_access_checks),
	T(test_big_copy_is_chunked),
	T(test_prio_waits_for_started_job_only),
	T(test_arm_semantics),
	T(test_timing_model),
	T(test_timing_nop_ring_vs_prio),
	T(test_timing_copy_bandwidth),
	T(test_timing_link_shared),
	T(test_timing_per_descriptor),
	T(test_timing_profile_gen3x8),
	T(test_prio_fence_waits_for_lower_prio),
	T(test_stale_partial_header_dies_at_doorbell),
	T(test_stale_partial_header_after_wrap),
	T(test_stale_header_dies_on_arrival),
	T(test_reserved_flags_bad_desc),
	T(test_destroy_sq_flushes),
	T(test_mr_generation_never_wraps),
	T(test_padding_page_writes_counted),
	T(test_admin_delay),
	T1(test_inline_small_work_in_mmio_write),
	T1(test_inline_few_descriptors_in_order),
	T1(test_inline_keeps_fence),
	T1(test_inline_not_when_busy),
	T1(test_copy_mapped_and_bounced),
	T(test_copy_mapped_overlap),
	T(test_eth_identity_and_link),
	T(test_eth_tx_gathers_sges),
	T(test_eth_tx_through_mr),
	T(test_eth_tx_inline_prio_reads_nothing),
	T(test_eth_tx_bad_descriptors),
	T(test_eth_tx_tso_described),
	T(test_eth_tx_segment_fits_frame),
	T(test_eth_tx_link_down_drops),
	T(test_eth_tx_busy_waits),
	T(test_eth_tx_busy_flushed_by_destroy),
	T(test_eth_reset_drops_held_frames),
	T(test_eth_rx_delivers),
	T(test_eth_rx_no_buffer),
	T(test_eth_rx_bad_frames),
	T(test_eth_rx_bad_recv),
	T(test_eth_rx_recv_changed),
	T(test_eth_rx_scatter_odd),
	T(test_eth_rq_admin),
	T(test_eth_rss),
	T(test_eth_rx_meta_sanitised),
	T(test_eth_rx_cq_error),
	T(test_eth_tx_timing),
	T1(test_roce_crc32_vs_zlib),
	T1(test_roce_round_trip_all_opcodes),
	T1(test_roce_opcode_table),
	T1(test_roce_icrc_masks),
	T1(test_roce_rxe_frames),
	T1(test_roce_refusals),
	T1(test_roce_truncations),
	T1(test_roce_build_limits),
	T1(test_roce_psn),
	T1(test_roce_pkey_and_demux),
	T(test_roce_rc_send),
	T(test_roce_rc_write_read),
	T(test_roce_rc_inline_prio),
	T(test_roce_rc_coalesced_acks),
	T(test_roce_rc_replay),
	T(test_roce_rc_read_replay),
	T(test_roce_rc_psn_ahead),
	T(test_roce_rc_rnr),
	T(test_roce_rc_timeout_retx),
	T(test_roce_rc_go_back_n),
	T(test_roce_rc_retry_exhausted),
	T(test_roce_rc_rnr_retry),
	T(test_roce_rc_read_retx),
	T(test_roce_rc_retx_slot_changed),
	T(test_roce_rc_read_again_yields),
	T(test_roce_rc_rkey_refused),
	T(test_roce_loopback),
	T(test_roce_ud),
	T(test_roce_rx_checks),
	T(test_roce_rc_big_write),
	T(test_roce_port_busy_and_down),
	T(test_roce_gsi),
	T(test_roce_rc_read_order_and_limit),
	T(test_roce_rc_read_resp_msn),
	T(test_roce_rc_recv_errors),
	T(test_roce_rc_flush_inflight),
	T(test_roce_ipv6_vlan),
	T(test_roce_rc_ack_before_teardown),
	T(test_roce_rc_send_cut),
	T(test_roce_fault_off_and_all),
	T(test_roce_fault_dup),
	T(test_roce_fault_reorder),
	T(test_roce_fault_delay),
	T(test_roce_fault_corrupt),
	T(test_roce_fault_replay),
	T(test_roce_fault_hold_full_and_reset),
	T(test_roce_fault_loopback),
	T(test_roce_fault_delay_timed),
	T(test_qp_caps_and_roce_off),
	T(test_qp_transitions_rc),
	T(test_qp_transitions_ud),
	T(test_qp_transitions_gsi),
	T(test_qp_attr_ranges),
	T(test_qp_create_refusals),
	T(test_qp_no_resource),
	T(test_qp_err_flush_order),
	T(test_qp_reset_discards),
	T(test_qp_destroy_generation),
	T(test_qp_destroy_ctx_cleanup),
	T(test_rdma_cqe_layout),
	T(test_cq_comp_coalesced),
	T(test_cq_comp_never_dropped),
	T(test_cq_comp_destroyed),
	T(test_db_qp_rq_refusals),
	T(test_qp_prio_in_order),
	T(test_qp_prio_in_order_timed),
	T(test_qp_wqe_checks),
	T(test_ah_checks),
	T(test_set_gid_privileged),
	T(test_qp_fatal_once),
	T(test_qp_wqe_solicited_read_whole),
};

int main(int argc, char **argv)
{
	unsigned int i, mode, passed = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);

	/*
	 * Every test runs as the device comes by default (inline execution,
	 * mapped copies), then again with both off, as the engine ran before
	 * them: the datasheet's rules must hold either way.
	 */
	for (mode = 0; mode < 2; mode++) {
		harness_legacy = mode;
		for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
			if ((argc > 1 && !strstr(tests[i].name, argv[1])) ||
			    (mode && !tests[i].legacy))
				continue;
			t_failed = 0;
			tests[i].fn();
			harness_cleanup();
			printf("%s %s%s\n", t_failed ? "FAIL" : "ok  ",
			       tests[i].name, mode ? " (legacy)" : "");
			if (t_failed)
				failed++;
			else
				passed++;
		}
	}
	printf("host: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
