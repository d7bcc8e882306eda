// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of dbnic_cdev.c's pure logic: mmap offsets and the page
 * lists of memory registrations.  Built into dbnic_kunit.ko, which
 * includes this file.
 *
 * Page lists are checked against the datasheet's translation rule
 * (section 4.1): byte iova + x is at
 *   list[(fbo + x) >> shift] + ((fbo + x) mod 2^shift),  fbo = iova mod 2^shift.
 */

#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "dbnic_cdev.h"

/* ------------------------------------------------------------------ */
/* mmap offsets                                                          */
/* ------------------------------------------------------------------ */

static void umap_offset_test(struct kunit *test)
{
	/* Doorbell region page 0, priority area page 1. */
	KUNIT_EXPECT_EQ(test, dbnic_umap_offset(DBNIC_UMAP_DB, 7), 0);
	KUNIT_EXPECT_EQ(test, dbnic_umap_offset(DBNIC_UMAP_PRIO, 7), 0x1000);
	/* Queue q: the 4 MiB window q + 1, the CQ half-way. */
	KUNIT_EXPECT_EQ(test, dbnic_umap_offset(DBNIC_UMAP_SQ, 0), 0x400000);
	KUNIT_EXPECT_EQ(test, dbnic_umap_offset(DBNIC_UMAP_CQ, 0), 0x600000);
	KUNIT_EXPECT_EQ(test, dbnic_umap_offset(DBNIC_UMAP_SQ, 3), 0x1000000);
	KUNIT_EXPECT_EQ(test, dbnic_umap_offset(DBNIC_UMAP_CQ, 0xffff),
			(0x10000ull << 22) + 0x200000);
	KUNIT_EXPECT_EQ(test, dbnic_umap_offset(DBNIC_UMAP_NONE, 0), U64_MAX);
}

static void umap_decode_test(struct kunit *test)
{
	static const u32 qids[] = { 0, 1, 2, 255, 4096, 0xfffe, 0xffff };
	unsigned int i;
	u32 qid;

	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(0, &qid), DBNIC_UMAP_DB);
	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(0x1000, &qid), DBNIC_UMAP_PRIO);
	for (i = 0; i < ARRAY_SIZE(qids); i++) {
		qid = ~0u;
		KUNIT_EXPECT_EQ(test,
				dbnic_umap_decode(dbnic_umap_offset(DBNIC_UMAP_SQ, qids[i]),
						  &qid),
				DBNIC_UMAP_SQ);
		KUNIT_EXPECT_EQ(test, qid, qids[i]);
		qid = ~0u;
		KUNIT_EXPECT_EQ(test,
				dbnic_umap_decode(dbnic_umap_offset(DBNIC_UMAP_CQ, qids[i]),
						  &qid),
				DBNIC_UMAP_CQ);
		KUNIT_EXPECT_EQ(test, qid, qids[i]);
	}
}

static void umap_decode_bad_test(struct kunit *test)
{
	u32 qid;

	/* The rest of window 0: neither page of the doorbell page. */
	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(0x2000, &qid), DBNIC_UMAP_NONE);
	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(0x200000, &qid), DBNIC_UMAP_NONE);
	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(0x3ff000, &qid), DBNIC_UMAP_NONE);
	/* Inside a ring: a mapping starts at the ring or not at all. */
	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(0x401000, &qid), DBNIC_UMAP_NONE);
	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(0x601000, &qid), DBNIC_UMAP_NONE);
	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(0x7ff000, &qid), DBNIC_UMAP_NONE);
	/* Past queue 0xffff, and far past. */
	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(0x10001ull << 22, &qid),
			DBNIC_UMAP_NONE);
	KUNIT_EXPECT_EQ(test, dbnic_umap_decode(~0ull << 12, &qid),
			DBNIC_UMAP_NONE);
}

/* ------------------------------------------------------------------ */
/* Page lists                                                            */
/* ------------------------------------------------------------------ */

struct fake_seg {
	u64 dma;
	u32 len;
};

KUNIT_DEFINE_ACTION_WRAPPER(fake_sgt_free, sg_free_table, struct sg_table *);

/* A DMA-mapped table with the given segments. */
static struct sg_table *fake_sgt(struct kunit *test, const struct fake_seg *seg,
				 unsigned int n)
{
	struct sg_table *sgt = kunit_kzalloc(test, sizeof(*sgt), GFP_KERNEL);
	struct scatterlist *sg;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, sgt);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(sgt, n, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fake_sgt_free, sgt),
			0);
	for_each_sgtable_sg(sgt, sg, i) {
		sg_dma_address(sg) = seg[i].dma;
		sg_dma_len(sg) = seg[i].len;
	}
	return sgt;
}

/* DMA address of user byte @va by walking the segments from @va0. */
static u64 seg_translate(const struct fake_seg *seg, unsigned int n, u64 va0,
			 u64 va)
{
	u64 off = va - va0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (off < seg[i].len)
			return seg[i].dma + off;
		off -= seg[i].len;
	}
	return U64_MAX;
}

/* The device's translation of byte iova + x (datasheet section 4.1). */
static u64 list_translate(const __le64 *list, unsigned int shift, u64 iova,
			  u64 x)
{
	u64 psize = 1ull << shift;
	u64 pos = (iova & (psize - 1)) + x;

	return (le64_to_cpu(list[pos >> shift]) & ~(psize - 1)) +
	       (pos & (psize - 1));
}

/*
 * Build the list for a registration and check every page boundary of it,
 * and its first and last bytes, against the segments.
 */
static void check_list(struct kunit *test, const struct fake_seg *seg,
		       unsigned int n, u64 iova, u64 length,
		       unsigned int want_shift, u32 want_pages)
{
	struct sg_table *sgt = fake_sgt(test, seg, n);
	u64 va0 = iova & PAGE_MASK;
	unsigned int shift;
	__le64 *list;
	u32 npages;
	u64 x;

	shift = dbnic_mr_page_shift(sgt, iova, length);
	KUNIT_ASSERT_EQ(test, shift, want_shift);
	npages = dbnic_mr_npages(iova, length, shift);
	KUNIT_ASSERT_EQ(test, npages, want_pages);
	list = kunit_kcalloc(test, npages + 1, sizeof(*list), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, list);
	list[npages] = cpu_to_le64(0xdeadbeef);
	KUNIT_ASSERT_EQ(test, dbnic_mr_fill_list(sgt, shift, list, npages), 0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(list[npages]), 0xdeadbeef);

	for (x = 0; x < length; x += PAGE_SIZE / 2)
		KUNIT_EXPECT_EQ_MSG(test, list_translate(list, shift, iova, x),
				    seg_translate(seg, n, va0, iova + x),
				    "byte %llu", x);
	KUNIT_EXPECT_EQ(test, list_translate(list, shift, iova, length - 1),
			seg_translate(seg, n, va0, iova + length - 1));
}

static void mr_npages_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, dbnic_mr_npages(0x1000, 0x1000, 12), 1);
	KUNIT_EXPECT_EQ(test, dbnic_mr_npages(0x1800, 0x1000, 12), 2);
	KUNIT_EXPECT_EQ(test, dbnic_mr_npages(0x1fff, 1, 12), 1);
	KUNIT_EXPECT_EQ(test, dbnic_mr_npages(0x1fff, 2, 12), 2);
	KUNIT_EXPECT_EQ(test, dbnic_mr_npages(0x10000, 1, 16), 1);
	KUNIT_EXPECT_EQ(test, dbnic_mr_npages(0xffff, 2, 16), 2);
	KUNIT_EXPECT_EQ(test, dbnic_mr_npages(0x40000000, 0x40000000, 12),
			0x40000);
}

/* One page, scattered: 4 KiB pages, whatever the alignment of iova. */
static void mr_one_page_test(struct kunit *test)
{
	static const struct fake_seg seg[] = { { 0x5000, 0x1000 } };

	check_list(test, seg, 1, 0x7f0000001234, 100, 12, 1);
	check_list(test, seg, 1, 0x7f0000001000, 0x1000, 12, 1);
}

/* Physically contiguous pages of scattered 4 KiB pages. */
static void mr_scattered_test(struct kunit *test)
{
	static const struct fake_seg seg[] = {
		{ 0x200000, 0x1000 }, { 0x9000, 0x2000 }, { 0x123000, 0x1000 },
	};

	/* From the middle of the first page into the last one. */
	check_list(test, seg, 3, 0x10000800, 0x3000, 12, 4);
	/* A segment that starts off a larger boundary forces 4 KiB. */
	check_list(test, seg, 3, 0x10000000, 0x4000, 12, 4);
}

/* 64 KiB segments on 64 KiB boundaries: 64 KiB pages. */
static void mr_large_pages_test(struct kunit *test)
{
	static const struct fake_seg seg[] = {
		{ 0x200000, 0x10000 }, { 0x400000, 0x10000 }, { 0x810000, 0x8000 },
	};

	check_list(test, seg, 3, 0x10000000, 0x28000, 16, 3);
	/* Not congruent to the user address beyond 4 KiB: small pages. */
	check_list(test, seg, 3, 0x10001000, 0x27000, 12, 0x27);
}

/*
 * One contiguous segment: the smallest page size that still needs the
 * fewest entries, not the largest the alignment allows.
 */
static void mr_smallest_page_test(struct kunit *test)
{
	static const struct fake_seg seg[] = { { 0x300000, 0x2000 } };
	static const struct fake_seg big[] = { { 0x40000000, 0x200000 } };
	static const struct fake_seg mid[] = { { 0x40080000, 0x101000 } };
	static const struct fake_seg cross[] = { { 0x40bc0000, 0x101000 } };

	/* 0x1000 bytes from offset 0x800: one 8 KiB page, two 4 KiB ones. */
	check_list(test, seg, 1, 0x10000800, 0x1000, 13, 1);
	/* 2 MiB aligned in both spaces: one 2 MiB page. */
	check_list(test, big, 1, 0x7f4000000000, 0x200000, 21, 1);
	/* 1 MiB + 4 KiB inside it: still one 2 MiB page. */
	check_list(test, mid, 1, 0x7f4000080000, 0x101000, 21, 1);
	/*
	 * Congruent modulo 2 MiB only, across a 2 MiB boundary: two pages
	 * of 2 MiB or of 1 MiB, so 1 MiB ones.
	 */
	check_list(test, cross, 1, 0x7f40001c0000, 0x101000, 20, 2);
}

static void mr_bad_sg_test(struct kunit *test)
{
	static const struct fake_seg unaligned[] = { { 0x5800, 0x1000 } };
	static const struct fake_seg inner[] = {
		{ 0x5000, 0x1000 }, { 0x9800, 0x1000 },
	};
	static const struct fake_seg shorter[] = { { 0x5000, 0x1000 } };
	struct sg_table *sgt;
	__le64 list[4];

	/* Not even 4 KiB pages describe a segment off a page boundary. */
	sgt = fake_sgt(test, unaligned, 1);
	KUNIT_EXPECT_EQ(test, dbnic_mr_page_shift(sgt, 0x10000000, 0x1000), 0);
	sgt = fake_sgt(test, inner, 2);
	KUNIT_EXPECT_EQ(test, dbnic_mr_page_shift(sgt, 0x10000000, 0x2000), 0);
	/* Segments that hold fewer pages than the list needs. */
	sgt = fake_sgt(test, shorter, 1);
	KUNIT_EXPECT_EQ(test, dbnic_mr_fill_list(sgt, 12, list, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, dbnic_mr_fill_list(sgt, 12, list, 1), 0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(list[0]), 0x5000);
}

static struct kunit_case dbnic_cdev_cases[] = {
	KUNIT_CASE(umap_offset_test),
	KUNIT_CASE(umap_decode_test),
	KUNIT_CASE(umap_decode_bad_test),
	KUNIT_CASE(mr_npages_test),
	KUNIT_CASE(mr_one_page_test),
	KUNIT_CASE(mr_scattered_test),
	KUNIT_CASE(mr_large_pages_test),
	KUNIT_CASE(mr_smallest_page_test),
	KUNIT_CASE(mr_bad_sg_test),
	{}
};

static struct kunit_suite dbnic_cdev_suite = {
	.name = "dbnic_cdev",
	.test_cases = dbnic_cdev_cases,
};

kunit_test_suites(&dbnic_cdev_suite);
