// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of dbnic_xfer.c: the memset pattern, range lists, the
 * interleaved template's ranges and the cutting of transfers into device
 * descriptors at the byte limit (CAP_MAX_XFER) and the SGE limit.  Built
 * into dbnic_kunit.ko, which includes this file.
 */

#include <kunit/test.h>
#include <linux/dmaengine.h>
#include <linux/overflow.h>
#include <linux/sizes.h>

#include "dbnic_xfer.h"

static void fill_pattern_test(struct kunit *test)
{
	/* FILL repeats imm little-endian: a memset byte fills all four. */
	KUNIT_EXPECT_EQ(test, dbnic_fill_pattern(0), 0u);
	KUNIT_EXPECT_EQ(test, dbnic_fill_pattern(0xa5), 0xa5a5a5a5u);
	KUNIT_EXPECT_EQ(test, dbnic_fill_pattern(0x01), 0x01010101u);
	/* dmaengine passes an int: only its low byte counts. */
	KUNIT_EXPECT_EQ(test, dbnic_fill_pattern(0x1234), 0x34343434u);
	KUNIT_EXPECT_EQ(test, dbnic_fill_pattern(-1), 0xffffffffu);
}

static void xfer_add_test(struct kunit *test)
{
	struct dbnic_sg sg[4];
	struct dbnic_xfer_list count = {};
	struct dbnic_xfer_list l = { .sg = sg, .max = ARRAY_SIZE(sg) };

	/* Empty and wrapping ranges are refused. */
	KUNIT_EXPECT_EQ(test, dbnic_xfer_add(&l, 0x1000, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dbnic_xfer_add(&l, ~(dma_addr_t)0 - 3, 8),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, l.n, 0);

	/* Adjacent ranges merge, others start a new entry. */
	KUNIT_ASSERT_EQ(test, dbnic_xfer_add(&l, 0x1000, 0x100), 0);
	KUNIT_ASSERT_EQ(test, dbnic_xfer_add(&l, 0x1100, 0x80), 0);
	KUNIT_ASSERT_EQ(test, dbnic_xfer_add(&l, 0x4000, 0x10), 0);
	KUNIT_EXPECT_EQ(test, l.n, 2);
	KUNIT_EXPECT_EQ(test, sg[0].addr, 0x1000);
	KUNIT_EXPECT_EQ(test, sg[0].len, 0x180);
	KUNIT_EXPECT_EQ(test, sg[1].addr, 0x4000);
	KUNIT_EXPECT_EQ(test, sg[1].len, 0x10);
	KUNIT_EXPECT_EQ(test, l.bytes, 0x190);

	/* 5 GiB: split at DBNIC_XFER_RANGE_MAX (2 GiB), merged up to it. */
	KUNIT_ASSERT_EQ(test, dbnic_xfer_add(&l, 0x4010, 5ull << 30), 0);
	KUNIT_EXPECT_EQ(test, l.n, 4);
	KUNIT_EXPECT_EQ(test, sg[1].len, SZ_2G);
	KUNIT_EXPECT_EQ(test, sg[2].addr, 0x4000 + (u64)SZ_2G);
	KUNIT_EXPECT_EQ(test, sg[2].len, SZ_2G);
	KUNIT_EXPECT_EQ(test, sg[3].addr, 0x4000 + 2 * (u64)SZ_2G);
	KUNIT_EXPECT_EQ(test, sg[3].len, (5ull << 30) + 0x10 - 2 * (u64)SZ_2G);
	KUNIT_EXPECT_EQ(test, l.bytes, 0x180 + 0x10 + (5ull << 30));

	/* Counting gives the same number of entries. */
	KUNIT_ASSERT_EQ(test, dbnic_xfer_add(&count, 0x1000, 0x100), 0);
	KUNIT_ASSERT_EQ(test, dbnic_xfer_add(&count, 0x1100, 0x80), 0);
	KUNIT_ASSERT_EQ(test, dbnic_xfer_add(&count, 0x4000, 0x10), 0);
	KUNIT_ASSERT_EQ(test, dbnic_xfer_add(&count, 0x4010, 5ull << 30), 0);
	KUNIT_EXPECT_EQ(test, count.n, l.n);
	KUNIT_EXPECT_EQ(test, count.bytes, l.bytes);

	/* A full array refuses a new entry (merging still works). */
	KUNIT_EXPECT_EQ(test, dbnic_xfer_add(&l, 0x100000000000ull, 1), -E2BIG);
	KUNIT_EXPECT_EQ(test, dbnic_xfer_add(&l, sg[3].addr + sg[3].len, 1), 0);
	KUNIT_EXPECT_EQ(test, l.n, 4);
}

/* One piece as dbnic_xfer_next() returns it. */
struct piece {
	u32 bytes;
	unsigned int ns, nd;
	struct dbnic_sg src[DBNIC_MAX_SGE], dst[DBNIC_MAX_SGE];
};

static void next_piece(struct dbnic_xfer_cursor *c, u32 max_xfer,
		       unsigned int max_sge, struct piece *p)
{
	p->bytes = dbnic_xfer_next(c, max_xfer, max_sge, p->src, &p->ns,
				   p->dst, &p->nd);
}

static u64 sg_sum(const struct dbnic_sg *sg, unsigned int n)
{
	u64 s = 0;

	while (n--)
		s += sg[n].len;
	return s;
}

/* A 40 MiB + 5 memcpy: cut at CAP_MAX_XFER, one SGE a side. */
static void xfer_split_bytes_test(struct kunit *test)
{
	const u32 max = 16u << 20;
	const u64 len = (40ull << 20) + 5;
	struct dbnic_sg s = { 0x10000000, len }, d = { 0x90000000, len };
	struct dbnic_xfer_cursor c;
	struct piece *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, p);
	dbnic_xfer_cursor_init(&c, &s, 1, &d, 1);
	for (i = 0; i < 3; i++) {
		u32 want = i < 2 ? max : (8u << 20) + 5;

		KUNIT_EXPECT_FALSE(test, dbnic_xfer_done(&c));
		next_piece(&c, max, DBNIC_MAX_SGE, p);
		KUNIT_EXPECT_EQ(test, p->bytes, want);
		KUNIT_ASSERT_EQ(test, p->ns, 1);
		KUNIT_ASSERT_EQ(test, p->nd, 1);
		KUNIT_EXPECT_EQ(test, p->src[0].addr, 0x10000000 + i * (u64)max);
		KUNIT_EXPECT_EQ(test, p->dst[0].addr, 0x90000000 + i * (u64)max);
		KUNIT_EXPECT_EQ(test, p->src[0].len, want);
		KUNIT_EXPECT_EQ(test, p->dst[0].len, want);
	}
	KUNIT_EXPECT_TRUE(test, dbnic_xfer_done(&c));
	next_piece(&c, max, DBNIC_MAX_SGE, p);
	KUNIT_EXPECT_EQ(test, p->bytes, 0);
}

/* 20 scattered 100-byte sources into one destination: cut at 15 SGEs. */
static void xfer_split_sge_test(struct kunit *test)
{
	struct dbnic_sg src[20], dst = { 0x800000, 2000 };
	struct piece *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	struct dbnic_xfer_cursor c;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, p);
	for (i = 0; i < ARRAY_SIZE(src); i++) {
		src[i].addr = 0x100000 + i * 0x1000;
		src[i].len = 100;
	}
	dbnic_xfer_cursor_init(&c, src, ARRAY_SIZE(src), &dst, 1);

	next_piece(&c, U32_MAX, DBNIC_MAX_SGE, p);
	KUNIT_EXPECT_EQ(test, p->bytes, 1400);
	KUNIT_EXPECT_EQ(test, p->ns, 14);
	KUNIT_EXPECT_EQ(test, p->nd, 1);
	KUNIT_EXPECT_EQ(test, p->src[13].addr, 0x100000 + 13 * 0x1000);
	KUNIT_EXPECT_EQ(test, p->dst[0].addr, 0x800000);
	KUNIT_EXPECT_EQ(test, p->dst[0].len, 1400);

	next_piece(&c, U32_MAX, DBNIC_MAX_SGE, p);
	KUNIT_EXPECT_EQ(test, p->bytes, 600);
	KUNIT_EXPECT_EQ(test, p->ns, 6);
	KUNIT_EXPECT_EQ(test, p->nd, 1);
	KUNIT_EXPECT_EQ(test, p->src[0].addr, 0x100000 + 14 * 0x1000);
	KUNIT_EXPECT_EQ(test, p->dst[0].addr, 0x800000 + 1400);
	KUNIT_EXPECT_EQ(test, p->dst[0].len, 600);
	KUNIT_EXPECT_TRUE(test, dbnic_xfer_done(&c));
}

/*
 * Range boundaries that do not line up, with 3 SGEs a descriptor: the
 * piece stops when the next range would need a fourth.
 */
static void xfer_split_boundaries_test(struct kunit *test)
{
	struct dbnic_sg src[] = { { 0x1000, 300 }, { 0x3000, 500 } };
	struct dbnic_sg dst[] = { { 0x8000, 100 }, { 0xa000, 700 } };
	struct piece *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	struct dbnic_xfer_cursor c;

	KUNIT_ASSERT_NOT_NULL(test, p);
	dbnic_xfer_cursor_init(&c, src, 2, dst, 2);

	next_piece(&c, 1000, 3, p);
	KUNIT_EXPECT_EQ(test, p->bytes, 300);
	KUNIT_ASSERT_EQ(test, p->ns, 1);
	KUNIT_ASSERT_EQ(test, p->nd, 2);
	KUNIT_EXPECT_EQ(test, p->src[0].addr, 0x1000);
	KUNIT_EXPECT_EQ(test, p->src[0].len, 300);
	KUNIT_EXPECT_EQ(test, p->dst[0].addr, 0x8000);
	KUNIT_EXPECT_EQ(test, p->dst[0].len, 100);
	KUNIT_EXPECT_EQ(test, p->dst[1].addr, 0xa000);
	KUNIT_EXPECT_EQ(test, p->dst[1].len, 200);

	/* Then the byte limit (450) falls inside both ranges. */
	next_piece(&c, 450, 3, p);
	KUNIT_EXPECT_EQ(test, p->bytes, 450);
	KUNIT_ASSERT_EQ(test, p->ns, 1);
	KUNIT_ASSERT_EQ(test, p->nd, 1);
	KUNIT_EXPECT_EQ(test, p->src[0].addr, 0x3000);
	KUNIT_EXPECT_EQ(test, p->dst[0].addr, 0xa000 + 200);

	next_piece(&c, 450, 3, p);
	KUNIT_EXPECT_EQ(test, p->bytes, 50);
	KUNIT_EXPECT_EQ(test, p->src[0].addr, 0x3000 + 450);
	KUNIT_EXPECT_EQ(test, p->dst[0].addr, 0xa000 + 650);
	KUNIT_EXPECT_EQ(test, sg_sum(p->src, p->ns), sg_sum(p->dst, p->nd));
	KUNIT_EXPECT_TRUE(test, dbnic_xfer_done(&c));

	/* A COPY needs two SGEs: with one, no progress at all. */
	dbnic_xfer_cursor_init(&c, src, 2, dst, 2);
	next_piece(&c, 1000, 1, p);
	KUNIT_EXPECT_EQ(test, p->bytes, 0);
	KUNIT_EXPECT_FALSE(test, dbnic_xfer_done(&c));
}

/* FILL: destinations only; both limits. */
static void xfer_split_fill_test(struct kunit *test)
{
	struct dbnic_sg dst[] = {
		{ 0x1000, 100 }, { 0x3000, 300 }, { 0x5000, 50 },
	};
	struct piece *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	struct dbnic_xfer_cursor c;

	KUNIT_ASSERT_NOT_NULL(test, p);
	dbnic_xfer_cursor_init(&c, NULL, 0, dst, ARRAY_SIZE(dst));

	next_piece(&c, 250, 2, p);
	KUNIT_EXPECT_EQ(test, p->bytes, 250);
	KUNIT_EXPECT_EQ(test, p->ns, 0);
	KUNIT_ASSERT_EQ(test, p->nd, 2);
	KUNIT_EXPECT_EQ(test, p->dst[0].len, 100);
	KUNIT_EXPECT_EQ(test, p->dst[1].addr, 0x3000);
	KUNIT_EXPECT_EQ(test, p->dst[1].len, 150);

	next_piece(&c, 250, 2, p);
	KUNIT_EXPECT_EQ(test, p->bytes, 200);
	KUNIT_ASSERT_EQ(test, p->nd, 2);
	KUNIT_EXPECT_EQ(test, p->dst[0].addr, 0x3000 + 150);
	KUNIT_EXPECT_EQ(test, p->dst[0].len, 150);
	KUNIT_EXPECT_EQ(test, p->dst[1].addr, 0x5000);
	KUNIT_EXPECT_EQ(test, p->dst[1].len, 50);
	KUNIT_EXPECT_TRUE(test, dbnic_xfer_done(&c));
}

static struct dma_interleaved_template *xt_new(struct kunit *test,
					       size_t frame_size)
{
	struct dma_interleaved_template *xt;

	xt = kunit_kzalloc(test, struct_size(xt, sgl, frame_size), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, xt);
	xt->dir = DMA_MEM_TO_MEM;
	xt->src_inc = true;
	xt->dst_inc = true;
	xt->frame_size = frame_size;
	return xt;
}

static void xfer_interleaved_test(struct kunit *test)
{
	struct dma_interleaved_template *xt = xt_new(test, 2);
	struct dbnic_sg s[8], d[8];
	struct dbnic_xfer_list src = { .sg = s, .max = ARRAY_SIZE(s) };
	struct dbnic_xfer_list dst = { .sg = d, .max = ARRAY_SIZE(d) };

	/*
	 * Two frames of { 8 bytes, gap 8 } { 16 bytes, no gap }; the gaps
	 * apply to the source only (src_sgl), the destination is contiguous.
	 * Source: [0,8) [16,32) [32,40) [48,64); [16,32) and [32,40) merge.
	 */
	xt->src_start = 0x10000;
	xt->dst_start = 0x20000;
	xt->src_sgl = true;
	xt->numf = 2;
	xt->sgl[0].size = 8;
	xt->sgl[0].icg = 8;
	xt->sgl[1].size = 16;
	KUNIT_ASSERT_EQ(test, dbnic_xfer_interleaved(xt, &src, &dst), 0);
	KUNIT_ASSERT_EQ(test, src.n, 3);
	KUNIT_EXPECT_EQ(test, s[0].addr, 0x10000);
	KUNIT_EXPECT_EQ(test, s[0].len, 8);
	KUNIT_EXPECT_EQ(test, s[1].addr, 0x10010);
	KUNIT_EXPECT_EQ(test, s[1].len, 24);
	KUNIT_EXPECT_EQ(test, s[2].addr, 0x10030);
	KUNIT_EXPECT_EQ(test, s[2].len, 16);
	KUNIT_ASSERT_EQ(test, dst.n, 1);
	KUNIT_EXPECT_EQ(test, d[0].addr, 0x20000);
	KUNIT_EXPECT_EQ(test, d[0].len, 48);
	KUNIT_EXPECT_EQ(test, src.bytes, 48);
	KUNIT_EXPECT_EQ(test, dst.bytes, 48);
}

static void xfer_interleaved_icg_test(struct kunit *test)
{
	struct dma_interleaved_template *xt = xt_new(test, 1);
	struct dbnic_sg s[4], d[4];
	struct dbnic_xfer_list src = { .sg = s, .max = ARRAY_SIZE(s) };
	struct dbnic_xfer_list dst = { .sg = d, .max = ARRAY_SIZE(d) };

	/* dst_icg beats icg; with dst_sgl and no src_sgl, icg is unused. */
	xt->src_start = 0x1000;
	xt->dst_start = 0x9000;
	xt->dst_sgl = true;
	xt->numf = 3;
	xt->sgl[0].size = 4;
	xt->sgl[0].icg = 100;
	xt->sgl[0].dst_icg = 12;
	KUNIT_ASSERT_EQ(test, dbnic_xfer_interleaved(xt, &src, &dst), 0);
	KUNIT_ASSERT_EQ(test, src.n, 1);
	KUNIT_EXPECT_EQ(test, s[0].len, 12);
	KUNIT_ASSERT_EQ(test, dst.n, 3);
	KUNIT_EXPECT_EQ(test, d[1].addr, 0x9000 + 16);
	KUNIT_EXPECT_EQ(test, d[2].addr, 0x9000 + 32);
	KUNIT_EXPECT_EQ(test, d[2].len, 4);
}

static void xfer_interleaved_refused_test(struct kunit *test)
{
	struct dma_interleaved_template *xt = xt_new(test, 1);
	struct dbnic_xfer_list src = {}, dst = {};

	xt->numf = 1;
	xt->sgl[0].size = 64;
	KUNIT_EXPECT_EQ(test, dbnic_xfer_interleaved(xt, &src, &dst), 0);

	/* Not memory to memory, a fixed address, nothing to move. */
	xt->dir = DMA_MEM_TO_DEV;
	KUNIT_EXPECT_EQ(test, dbnic_xfer_interleaved(xt, &src, &dst), -EINVAL);
	xt->dir = DMA_MEM_TO_MEM;
	xt->dst_inc = false;
	KUNIT_EXPECT_EQ(test, dbnic_xfer_interleaved(xt, &src, &dst), -EINVAL);
	xt->dst_inc = true;
	xt->sgl[0].size = 0;
	src = (struct dbnic_xfer_list) {};
	dst = (struct dbnic_xfer_list) {};
	KUNIT_EXPECT_EQ(test, dbnic_xfer_interleaved(xt, &src, &dst), -EINVAL);
}

static struct kunit_case dbnic_xfer_cases[] = {
	KUNIT_CASE(fill_pattern_test),
	KUNIT_CASE(xfer_add_test),
	KUNIT_CASE(xfer_split_bytes_test),
	KUNIT_CASE(xfer_split_sge_test),
	KUNIT_CASE(xfer_split_boundaries_test),
	KUNIT_CASE(xfer_split_fill_test),
	KUNIT_CASE(xfer_interleaved_test),
	KUNIT_CASE(xfer_interleaved_icg_test),
	KUNIT_CASE(xfer_interleaved_refused_test),
	{}
};

static struct kunit_suite dbnic_xfer_suite = {
	.name = "dbnic_xfer",
	.test_cases = dbnic_xfer_cases,
};

kunit_test_suites(&dbnic_xfer_suite);
