// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the dbnic driver: descriptor encoding against the
 * datasheet, ring index arithmetic, completion polling, and posting on a
 * fake doorbell page (plain memory standing in for BAR 2).
 *
 * Expected values are written out from docs/hardware.md rather than
 * recomputed with the header's helpers wherever that is what is tested.
 */

#include <kunit/test.h>
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "dbnic_queue.h"

/* ------------------------------------------------------------------ */
/* Fixtures                                                             */
/* ------------------------------------------------------------------ */

struct fake_sq {
	u8 *page;		/* the fake doorbell page */
	struct dbnic_sq sq;
};

static void __iomem *fake_iomem(void *p)
{
	return (void __force __iomem *)p;
}

static struct fake_sq *fake_sq_new(struct kunit *test, unsigned int log_size,
				   unsigned int log_stride, bool prio)
{
	struct fake_sq *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->page = kunit_kzalloc(test, DBNIC_DB_PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->page);
	f->sq.ring = kunit_kzalloc(test, 1u << (log_size + log_stride),
				   GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->sq.ring);
	f->sq.log_size = log_size;
	f->sq.log_stride = log_stride;
	f->sq.qid = 5;
	f->sq.db = fake_iomem(f->page);
	f->sq.prio = prio ? fake_iomem(f->page + DBNIC_PRIO_OFFSET) : NULL;
	f->sq.prio_slot = 2;
	f->sq.policy = DBNIC_POLICY_PRIO;
	f->sq.fit_blocks = 1;
	return f;
}

static u32 fake_db_sq(const struct fake_sq *f)
{
	return get_unaligned_le32(f->page + DBNIC_DB_SQ);
}

static u8 *fake_slot(const struct fake_sq *f, unsigned int s)
{
	return f->page + 0x1000 + s * 0x100;	/* datasheet section 3 */
}

static void *ring_slot(const struct fake_sq *f, u16 index)
{
	return f->sq.ring + ((index & ((1u << f->sq.log_size) - 1)) <<
			     f->sq.log_stride);
}

static bool all_zero(const u8 *p, size_t n)
{
	return !memchr_inv(p, 0, n);
}

static bool prio_untouched(const struct fake_sq *f)
{
	return all_zero(f->page + DBNIC_PRIO_OFFSET,
			DBNIC_DB_PAGE_SIZE - DBNIC_PRIO_OFFSET);
}

/* A COPY with @n SGEs in all (at least 2), 1 + (n - 1) split. */
static void build_copy(struct kunit *test, struct dbnic_desc *d,
		       unsigned int n)
{
	struct dbnic_sg src[DBNIC_MAX_SGE], dst[1];
	unsigned int i;

	for (i = 0; i < n - 1; i++) {
		src[i].addr = 0x100000 + i * 0x1000;
		src[i].len = 16;
	}
	dst[0].addr = 0x200000;
	dst[0].len = 16 * (n - 1);
	KUNIT_ASSERT_EQ(test, dbnic_desc_copy(d, DBNIC_DESC_F_COMPLETION,
					      src, n - 1, dst, 1), 0);
}

/* ------------------------------------------------------------------ */
/* Descriptor encoding                                                  */
/* ------------------------------------------------------------------ */

static void desc_layout_test(struct kunit *test)
{
	/* Datasheet section 5, byte positions. */
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_desc_hdr, opcode), 0);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_desc_hdr, flags), 1);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_desc_hdr, size), 2);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_desc_hdr, nsge), 3);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_desc_hdr, index), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_desc_hdr, qid), 6);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_desc_hdr, csum), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_desc_hdr, imm), 12);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_desc, sge), 16);
	KUNIT_EXPECT_EQ(test, sizeof(struct dbnic_sge), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_sge, len), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_sge, key), 12);
	/* The csum field is the low half of 8-byte word 1. */
	KUNIT_EXPECT_EQ(test, DBNIC_CSUM_WORD * 8,
			offsetof(struct dbnic_desc_hdr, csum));

	/* Section 6: status and flags are the second part of the write. */
	KUNIT_EXPECT_EQ(test, sizeof(struct dbnic_cqe), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_cqe, index), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_cqe, qid), 6);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_cqe, sq_head), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_cqe, status),
			DBNIC_CQE_TAIL_OFFSET);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_cqe, flags), 15);
	KUNIT_EXPECT_EQ(test, offsetof(struct dbnic_admin_cqe, flags), 15);
}

static void desc_blocks_test(struct kunit *test)
{
	/* 16-byte header plus 16 bytes per SGE, in 64-byte blocks. */
	KUNIT_EXPECT_EQ(test, dbnic_desc_blocks(0), 1);
	KUNIT_EXPECT_EQ(test, dbnic_desc_blocks(3), 1);
	KUNIT_EXPECT_EQ(test, dbnic_desc_blocks(4), 2);
	KUNIT_EXPECT_EQ(test, dbnic_desc_blocks(7), 2);
	KUNIT_EXPECT_EQ(test, dbnic_desc_blocks(8), 3);
	KUNIT_EXPECT_EQ(test, dbnic_desc_blocks(11), 3);
	KUNIT_EXPECT_EQ(test, dbnic_desc_blocks(12), 4);
	KUNIT_EXPECT_EQ(test, dbnic_desc_blocks(DBNIC_MAX_SGE), 4);
}

static void desc_nop_test(struct kunit *test)
{
	struct dbnic_desc d;
	u8 *raw = (u8 *)&d;

	memset(&d, 0xff, sizeof(d));
	dbnic_desc_nop(&d, DBNIC_DESC_F_COMPLETION);
	KUNIT_EXPECT_EQ(test, raw[0], 0x01);	/* NOP */
	KUNIT_EXPECT_EQ(test, raw[1], 0x01);	/* COMPLETION */
	KUNIT_EXPECT_EQ(test, raw[2], 1);	/* one block */
	KUNIT_EXPECT_EQ(test, raw[3], 0);	/* no SGEs */
	KUNIT_EXPECT_TRUE(test, all_zero(raw + 4, sizeof(d) - 4));
}

static void desc_copy_test(struct kunit *test)
{
	struct dbnic_sg src[3] = {
		{ 0x1122334455667788ull, 100 }, { 0x2000, 200 }, { 0x3000, 300 },
	};
	struct dbnic_sg dst[2] = { { 0x4000, 250 }, { 0x5000, 350 } };
	struct dbnic_desc d;
	u8 *raw = (u8 *)&d;

	KUNIT_ASSERT_EQ(test, dbnic_desc_copy(&d, DBNIC_DESC_F_FENCE,
					      src, 3, dst, 2), 0);
	KUNIT_EXPECT_EQ(test, raw[0], 0x02);	/* COPY */
	KUNIT_EXPECT_EQ(test, raw[1], 0x02);	/* FENCE */
	KUNIT_EXPECT_EQ(test, raw[2], 2);	/* 16 + 5 * 16 = 96 bytes */
	KUNIT_EXPECT_EQ(test, raw[3], 0x23);	/* 3 src | 2 dst << 4 */
	/* SGE 0: little-endian address, length, key 0. */
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(raw + 16),
			0x1122334455667788ull);
	KUNIT_EXPECT_EQ(test, raw[16], 0x88);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(raw + 24), 100);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(raw + 28), 0);
	/* Sources first, then destinations. */
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(raw + 16 + 2 * 16), 0x3000);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(raw + 16 + 3 * 16), 0x4000);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(raw + 16 + 4 * 16 + 8), 350);
	/* Nothing past the last SGE. */
	KUNIT_EXPECT_TRUE(test, all_zero(raw + 96, sizeof(d) - 96));
}

static void desc_copy_limits_test(struct kunit *test)
{
	struct dbnic_sg sg[DBNIC_MAX_SGE + 1];
	struct dbnic_desc d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sg); i++) {
		sg[i].addr = 0x1000 * (i + 1);
		sg[i].len = 8;
	}
	/* 14 sources of 8 bytes into one of 112: 15 SGEs, 4 blocks. */
	sg[14].len = 14 * 8;
	KUNIT_EXPECT_EQ(test, dbnic_desc_copy(&d, 0, sg, 14, sg + 14, 1), 0);
	KUNIT_EXPECT_EQ(test, d.hdr.size, 4);
	KUNIT_EXPECT_EQ(test, d.hdr.nsge, 0x1e);
	/* 16 SGEs do not fit. */
	sg[15].len = 8;
	sg[14].len = 8;
	KUNIT_EXPECT_EQ(test, dbnic_desc_copy(&d, 0, sg, 8, sg + 8, 8),
			-EINVAL);
	/* One side empty, an empty range, unequal totals. */
	KUNIT_EXPECT_EQ(test, dbnic_desc_copy(&d, 0, sg, 0, sg, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, dbnic_desc_copy(&d, 0, sg, 1, sg, 0), -EINVAL);
	sg[1].len = 0;
	KUNIT_EXPECT_EQ(test, dbnic_desc_copy(&d, 0, sg, 1, sg + 1, 1),
			-EINVAL);
	sg[1].len = 9;
	KUNIT_EXPECT_EQ(test, dbnic_desc_copy(&d, 0, sg, 1, sg + 1, 1),
			-EINVAL);
	sg[1].len = 8;
	KUNIT_EXPECT_EQ(test, dbnic_desc_copy(&d, 0, sg, 1, sg + 1, 1), 0);
	KUNIT_EXPECT_EQ(test, d.hdr.size, 1);
}

static void desc_fill_test(struct kunit *test)
{
	struct dbnic_sg dst[2] = { { 0x4000, 250 }, { 0x5000, 350 } };
	struct dbnic_desc d;
	u8 *raw = (u8 *)&d;

	KUNIT_ASSERT_EQ(test, dbnic_desc_fill(&d, DBNIC_DESC_F_COMPLETION,
					      0xa1b2c3d4, dst, 2), 0);
	KUNIT_EXPECT_EQ(test, raw[0], 0x03);	/* FILL */
	KUNIT_EXPECT_EQ(test, raw[2], 1);	/* 16 + 2 * 16 bytes */
	KUNIT_EXPECT_EQ(test, raw[3], 0x20);	/* no src, 2 dst */
	/* imm at bytes 12..15, little-endian. */
	KUNIT_EXPECT_EQ(test, raw[12], 0xd4);
	KUNIT_EXPECT_EQ(test, raw[15], 0xa1);
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(raw + 16), 0x4000);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(raw + 32 + 8), 350);
	KUNIT_EXPECT_TRUE(test, all_zero(raw + 48, sizeof(d) - 48));

	KUNIT_EXPECT_EQ(test, dbnic_desc_fill(&d, 0, 1, dst, 0), -EINVAL);
	dst[1].len = 0;
	KUNIT_EXPECT_EQ(test, dbnic_desc_fill(&d, 0, 1, dst, 2), -EINVAL);
}

static void desc_compare_test(struct kunit *test)
{
	struct dbnic_sg src[1] = { { 0x1000, 600 } };
	struct dbnic_sg dst[2] = { { 0x4000, 250 }, { 0x5000, 350 } };
	struct dbnic_desc d;
	u8 *raw = (u8 *)&d;

	KUNIT_ASSERT_EQ(test, dbnic_desc_compare(&d, 0, src, 1, dst, 2), 0);
	KUNIT_EXPECT_EQ(test, raw[0], 0x04);	/* COMPARE */
	KUNIT_EXPECT_EQ(test, raw[3], 0x21);	/* 1 src | 2 dst << 4 */
	KUNIT_EXPECT_EQ(test, get_unaligned_le64(raw + 32), 0x4000);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(raw + 12), 0);
	/* Equal totals, both sides present. */
	src[0].len = 601;
	KUNIT_EXPECT_EQ(test, dbnic_desc_compare(&d, 0, src, 1, dst, 2),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, dbnic_desc_compare(&d, 0, src, 0, dst, 2),
			-EINVAL);
}

/* The csum the priority path writes is dbnic_desc_csum() of the copy. */
static void desc_csum_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 4, 8, true);
	struct dbnic_desc d;
	u64 words[DBNIC_DESC_MAX_SIZE / 8];
	u8 *slot = fake_slot(f, 2);
	u32 csum;
	u16 index;

	build_copy(test, &d, 5);
	KUNIT_ASSERT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_PRIO, &index),
			DBNIC_PATH_PRIO);
	memcpy(words, slot, 2 * 64);
	csum = get_unaligned_le32(slot + 8);
	KUNIT_EXPECT_NE(test, csum, 0);
	KUNIT_EXPECT_EQ(test, dbnic_desc_csum(words, 16), csum);

	/* The csum field itself does not count... */
	((u8 *)words)[8] ^= 0xff;
	KUNIT_EXPECT_EQ(test, dbnic_desc_csum(words, 16), csum);
	((u8 *)words)[8] ^= 0xff;
	/* ...every other byte does, in the header and in the last block. */
	((u8 *)words)[4] ^= 0x01;
	KUNIT_EXPECT_NE(test, dbnic_desc_csum(words, 16), csum);
	((u8 *)words)[4] ^= 0x01;
	((u8 *)words)[127] ^= 0x80;
	KUNIT_EXPECT_NE(test, dbnic_desc_csum(words, 16), csum);
}

/* ------------------------------------------------------------------ */
/* Ring arithmetic and completions                                      */
/* ------------------------------------------------------------------ */

static void ring_math_test(struct kunit *test)
{
	static const struct {
		u16 pi, ci, used;
	} used[] = {
		{ 5, 5, 0 }, { 2, 0xfffe, 4 }, { 0, 0xffff, 1 }, { 0x8000, 0, 0x8000 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(used); i++)
		KUNIT_EXPECT_EQ(test, dbnic_ring_used(used[i].pi, used[i].ci),
				used[i].used);
	KUNIT_EXPECT_EQ(test, dbnic_ring_slot(0x1234, 4), 0x4);
	KUNIT_EXPECT_EQ(test, dbnic_ring_slot(0xffff, 1), 1);
	KUNIT_EXPECT_EQ(test, dbnic_ring_slot(0xffff, 12), 0xfff);
	KUNIT_EXPECT_EQ(test, dbnic_ring_slot(0x1000, 12), 0);
	/* Phase: 1 on the first pass, 0 on the second, across the wrap. */
	KUNIT_EXPECT_EQ(test, dbnic_cq_phase(0, 2), 1);
	KUNIT_EXPECT_EQ(test, dbnic_cq_phase(3, 2), 1);
	KUNIT_EXPECT_EQ(test, dbnic_cq_phase(4, 2), 0);
	KUNIT_EXPECT_EQ(test, dbnic_cq_phase(8, 2), 1);
	KUNIT_EXPECT_EQ(test, dbnic_cq_phase(0xffff, 12), 0);
}

static void sq_space_test(struct kunit *test)
{
	struct dbnic_sq sq = { .log_size = 3 };

	KUNIT_EXPECT_EQ(test, dbnic_sq_space(&sq), 8);	/* empty */
	sq.pi = 8;
	KUNIT_EXPECT_EQ(test, dbnic_sq_space(&sq), 0);	/* full */
	sq.head = 0xfffb;
	sq.pi = 3;
	KUNIT_EXPECT_EQ(test, dbnic_sq_space(&sq), 0);	/* full, wrapped */
	sq.head = 0xfffe;
	sq.pi = 2;
	KUNIT_EXPECT_EQ(test, dbnic_sq_space(&sq), 4);
	sq.head = 2;
	KUNIT_EXPECT_EQ(test, dbnic_sq_space(&sq), 8);
}

static void sq_full_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 2, 6, false);
	struct dbnic_desc d;
	u16 index;
	int i;

	f->sq.pi = 0xfffe;
	f->sq.head = 0xfffe;
	for (i = 0; i < 4; i++) {
		dbnic_desc_nop(&d, 0);
		KUNIT_ASSERT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_RING,
						    &index), DBNIC_PATH_RING);
		KUNIT_EXPECT_EQ(test, index, (u16)(0xfffe + i));
	}
	dbnic_desc_nop(&d, 0);
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_RING, &index),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, f->sq.pi, 2);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), (5u << 16) | 2);

	/* The device consumed two: two slots free again. */
	KUNIT_EXPECT_TRUE(test, dbnic_sq_set_head(&f->sq, 0));
	KUNIT_EXPECT_EQ(test, dbnic_sq_space(&f->sq), 2);
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_RING, &index),
			DBNIC_PATH_RING);
	KUNIT_EXPECT_EQ(test, index, 2);
}

/* Descriptors land in slot index mod 2^log_size, with their index. */
static void sq_slots_test(struct kunit *test)
{
	static const unsigned int slots[] = { 2, 3, 0, 1 };
	struct fake_sq *f = fake_sq_new(test, 2, 7, false);
	struct dbnic_desc d;
	unsigned int i;
	u16 index;

	f->sq.pi = 0xfffe;
	f->sq.head = 0xfffe;
	for (i = 0; i < ARRAY_SIZE(slots); i++) {
		u8 *slot = (u8 *)f->sq.ring + (slots[i] << 7);

		dbnic_desc_nop(&d, 0);
		d.hdr.imm = cpu_to_le32(i + 1);
		dbnic_sq_post(&f->sq, &d, DBNIC_PATH_RING, &index);
		KUNIT_EXPECT_EQ(test, get_unaligned_le32(slot + 12), i + 1);
		KUNIT_EXPECT_EQ(test, get_unaligned_le16(slot + 4),
				(u16)(0xfffe + i));
		KUNIT_EXPECT_EQ(test, get_unaligned_le16(slot + 6), 5);
	}
}

static void sq_set_head_test(struct kunit *test)
{
	struct dbnic_sq sq = { .log_size = 4, .pi = 3, .head = 0xfffe };

	KUNIT_EXPECT_FALSE(test, dbnic_sq_set_head(&sq, 4));	/* past pi */
	KUNIT_EXPECT_EQ(test, sq.head, 0xfffe);
	KUNIT_EXPECT_FALSE(test, dbnic_sq_set_head(&sq, 0xfff0)); /* behind */
	KUNIT_EXPECT_TRUE(test, dbnic_sq_set_head(&sq, 1));
	KUNIT_EXPECT_EQ(test, sq.head, 1);
	KUNIT_EXPECT_TRUE(test, dbnic_sq_set_head(&sq, 3));
	KUNIT_EXPECT_EQ(test, dbnic_sq_space(&sq), 16);
}

static void cqe_write(struct dbnic_cqe *e, u16 index, u8 phase)
{
	memset(e, 0, sizeof(*e));
	e->index = cpu_to_le16(index);
	e->flags = phase ? DBNIC_CQE_F_PHASE : 0;
}

static void cq_pop_test(struct kunit *test)
{
	struct dbnic_cqe *ring = kunit_kcalloc(test, 4, sizeof(*ring),
					       GFP_KERNEL);
	struct dbnic_cq cq = { .cqes = ring, .log_size = 2 };
	struct dbnic_cqe out;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, ring);
	KUNIT_EXPECT_FALSE(test, dbnic_cq_pop(&cq, &out));	/* zeroed */

	/* First pass: phase 1. */
	for (i = 0; i < 4; i++)
		cqe_write(&ring[i], 100 + i, 1);
	for (i = 0; i < 4; i++) {
		KUNIT_ASSERT_TRUE(test, dbnic_cq_pop(&cq, &out));
		KUNIT_EXPECT_EQ(test, le16_to_cpu(out.index), 100 + i);
	}
	/* Slot 0 still holds the first pass's entry: not new. */
	KUNIT_EXPECT_FALSE(test, dbnic_cq_pop(&cq, &out));
	KUNIT_EXPECT_EQ(test, cq.ci, 4);
	/* Second pass: phase 0. */
	cqe_write(&ring[0], 104, 0);
	KUNIT_ASSERT_TRUE(test, dbnic_cq_pop(&cq, &out));
	KUNIT_EXPECT_EQ(test, le16_to_cpu(out.index), 104);
	KUNIT_EXPECT_FALSE(test, dbnic_cq_pop(&cq, &out));

	/* Across the 16-bit wrap of the consumer index. */
	memset(ring, 0, 4 * sizeof(*ring));
	cq.ci = 0xfffe;		/* slot 2, a phase-0 pass */
	cqe_write(&ring[2], 7, 0);
	cqe_write(&ring[3], 8, 0);
	cqe_write(&ring[0], 9, 1);	/* ci 0: a phase-1 pass */
	for (i = 7; i <= 9; i++) {
		KUNIT_ASSERT_TRUE(test, dbnic_cq_pop(&cq, &out));
		KUNIT_EXPECT_EQ(test, le16_to_cpu(out.index), i);
	}
	KUNIT_EXPECT_EQ(test, cq.ci, 1);
	KUNIT_EXPECT_FALSE(test, dbnic_cq_pop(&cq, &out));
}

static void cq_arm_test(struct kunit *test)
{
	u8 *page = kunit_kzalloc(test, DBNIC_DB_PAGE_SIZE, GFP_KERNEL);
	struct dbnic_cq cq = { .cqn = 3, .ci = 0x1234 };

	KUNIT_ASSERT_NOT_NULL(test, page);
	cq.db = fake_iomem(page);
	dbnic_cq_arm(&cq);
	/* arm (bit 31) | cqn << 16 | consumer index, at 0x008. */
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(page + 0x008),
			0x80000000u | (3u << 16) | 0x1234);
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(page + DBNIC_DB_SQ), 0);
	KUNIT_EXPECT_EQ(test, cq.ci_told, 0x1234);
}

static void cq_tell_test(struct kunit *test)
{
	u8 *page = kunit_kzalloc(test, DBNIC_DB_PAGE_SIZE, GFP_KERNEL);
	struct dbnic_cq cq = { .cqn = 3, .ci = 0xfffe, .ci_told = 0xfffe };

	KUNIT_ASSERT_NOT_NULL(test, page);
	cq.db = fake_iomem(page);
	/* Nothing consumed: no write, even with batch 0. */
	KUNIT_EXPECT_FALSE(test, dbnic_cq_tell(&cq, 0));
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(page + 0x008), 0);
	/* Three consumed across the 16-bit wrap: below a batch of 4. */
	cq.ci = 1;
	KUNIT_EXPECT_FALSE(test, dbnic_cq_tell(&cq, 4));
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(page + 0x008), 0);
	/* Four: reported, not armed. */
	cq.ci = 2;
	KUNIT_EXPECT_TRUE(test, dbnic_cq_tell(&cq, 4));
	KUNIT_EXPECT_EQ(test, get_unaligned_le32(page + 0x008), (3u << 16) | 2);
	KUNIT_EXPECT_EQ(test, cq.ci_told, 2);
	KUNIT_EXPECT_FALSE(test, dbnic_cq_tell(&cq, 1));
}

/* ------------------------------------------------------------------ */
/* Posting on a fake doorbell page                                      */
/* ------------------------------------------------------------------ */

static void post_ring_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 4, 8, true);
	struct dbnic_desc d;
	u16 index;

	f->sq.pi = 0x41;
	f->sq.head = 0x41;
	build_copy(test, &d, 3);
	KUNIT_ASSERT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_RING, &index),
			DBNIC_PATH_RING);
	KUNIT_EXPECT_EQ(test, index, 0x41);
	/* DB_SQ at 0x000: qid << 16 | new producer index. */
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), (5u << 16) | 0x42);
	KUNIT_EXPECT_EQ(test, dbnic_db_sq_val(5, 0x42), (5u << 16) | 0x42);
	KUNIT_EXPECT_MEMEQ(test, ring_slot(f, 0x41), &d, 64);
	KUNIT_EXPECT_TRUE(test, prio_untouched(f));
}

static void post_prio_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 4, 8, true);
	struct dbnic_desc d;
	u8 *slot = fake_slot(f, 2);
	u16 index;

	f->sq.pi = 7;
	f->sq.head = 7;
	build_copy(test, &d, 6);		/* 2 blocks */
	KUNIT_ASSERT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_PRIO, &index),
			DBNIC_PATH_PRIO);
	KUNIT_EXPECT_EQ(test, index, 7);
	KUNIT_EXPECT_EQ(test, f->sq.pi, 8);
	/* Exactly the descriptor, with index, qid and a valid csum. */
	KUNIT_EXPECT_MEMEQ(test, slot, &d, 128);
	KUNIT_EXPECT_EQ(test, get_unaligned_le16(slot + 4), 7);
	KUNIT_EXPECT_EQ(test, get_unaligned_le16(slot + 6), 5);
	KUNIT_EXPECT_EQ(test, dbnic_desc_csum((const u64 *)slot, 16),
			get_unaligned_le32(slot + 8));
	KUNIT_EXPECT_TRUE(test, all_zero(slot + 128, 0x100 - 128));
	/* The ring copy is in place too; no DB_SQ write. */
	KUNIT_EXPECT_MEMEQ(test, ring_slot(f, 7), slot, 128);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), 0);
	/* No other slot written. */
	KUNIT_EXPECT_TRUE(test, all_zero(f->page + 0x1000, 2 * 0x100));
	KUNIT_EXPECT_TRUE(test, all_zero(fake_slot(f, 3), 5 * 0x100));
}

static void post_prio_alternate_test(struct kunit *test)
{
	static const unsigned int slots[] = { 2, 3, 2, 3, 2 };
	struct fake_sq *f = fake_sq_new(test, 4, 6, true);
	struct dbnic_desc d;
	unsigned int i;
	u16 index;

	for (i = 0; i < ARRAY_SIZE(slots); i++) {
		dbnic_desc_nop(&d, 0);
		KUNIT_ASSERT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_PRIO,
						    &index), DBNIC_PATH_PRIO);
		KUNIT_EXPECT_EQ(test, get_unaligned_le16(fake_slot(f, slots[i]) + 4),
				i);
	}
	KUNIT_EXPECT_TRUE(test, all_zero(f->page + 0x1000, 2 * 0x100));
	KUNIT_EXPECT_TRUE(test, all_zero(fake_slot(f, 4), 4 * 0x100));
	KUNIT_EXPECT_EQ(test, dbnic_prio_slot_addr(fake_iomem(f->page + 0x1000), 3) -
			fake_iomem(f->page), 0x1300);
}

/* The self-test's half-written priority copy: block 0 only, no DB_SQ. */
static void post_prio_partial_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 4, 8, true);
	struct dbnic_desc d;
	u8 *slot = fake_slot(f, 2);
	u16 index;

	dbnic_desc_nop(&d, 0);
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d,
					    DBNIC_PATH_PRIO_PARTIAL, &index),
			-EINVAL);
	build_copy(test, &d, 6);		/* 2 blocks */
	KUNIT_ASSERT_EQ(test, dbnic_sq_post(&f->sq, &d,
					    DBNIC_PATH_PRIO_PARTIAL, &index),
			DBNIC_PATH_PRIO_PARTIAL);
	KUNIT_EXPECT_MEMEQ(test, slot, &d, 64);
	KUNIT_EXPECT_TRUE(test, all_zero(slot + 64, 0x100 - 64));
	KUNIT_EXPECT_EQ(test, dbnic_desc_csum(&d, 16), get_unaligned_le32(slot + 8));
	KUNIT_EXPECT_MEMEQ(test, ring_slot(f, 0), &d, 128);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), 0);
	KUNIT_EXPECT_EQ(test, f->sq.prio_next, 1);
}

static void policy_ring_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 4, 8, true);
	struct dbnic_desc d;
	u16 index;

	f->sq.policy = DBNIC_POLICY_RING;
	dbnic_desc_nop(&d, 0);
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_AUTO, &index),
			DBNIC_PATH_RING);
	build_copy(test, &d, DBNIC_MAX_SGE);
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_AUTO, &index),
			DBNIC_PATH_RING);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), (5u << 16) | 2);
	KUNIT_EXPECT_TRUE(test, prio_untouched(f));
}

static void policy_fit_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 4, 8, true);
	struct dbnic_desc d;
	u16 index;

	f->sq.policy = DBNIC_POLICY_FIT;
	f->sq.fit_blocks = 1;

	/* Too big for the limit: the doorbell, priority area untouched. */
	build_copy(test, &d, 4);		/* 80 bytes: 2 blocks */
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_AUTO, &index),
			DBNIC_PATH_RING);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), (5u << 16) | 1);
	KUNIT_EXPECT_TRUE(test, prio_untouched(f));

	/* One block fits. */
	build_copy(test, &d, 3);
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_AUTO, &index),
			DBNIC_PATH_PRIO);
	KUNIT_EXPECT_EQ(test, get_unaligned_le16(fake_slot(f, 2) + 4), 1);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), (5u << 16) | 1);

	/* A larger limit lets the 2-block descriptor through as well. */
	f->sq.fit_blocks = 2;
	build_copy(test, &d, 4);
	KUNIT_EXPECT_EQ(test, dbnic_sq_pick_path(&f->sq, &d), DBNIC_PATH_PRIO);
	build_copy(test, &d, 8);		/* 3 blocks */
	KUNIT_EXPECT_EQ(test, dbnic_sq_pick_path(&f->sq, &d), DBNIC_PATH_RING);
}

static void policy_prio_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 4, 8, true);
	struct dbnic_desc d;
	u16 index;

	f->sq.policy = DBNIC_POLICY_PRIO;
	build_copy(test, &d, DBNIC_MAX_SGE);	/* 4 blocks, the largest */
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_AUTO, &index),
			DBNIC_PATH_PRIO);
	KUNIT_EXPECT_MEMEQ(test, fake_slot(f, 2), &d, DBNIC_DESC_MAX_SIZE);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), 0);
}

static void no_prio_area_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 4, 8, false);
	struct dbnic_desc d;
	u16 index;

	dbnic_desc_nop(&d, 0);
	f->sq.policy = DBNIC_POLICY_PRIO;
	KUNIT_EXPECT_EQ(test, dbnic_sq_pick_path(&f->sq, &d), DBNIC_PATH_RING);
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_PRIO, &index),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, f->sq.pi, 0);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), 0);
	KUNIT_EXPECT_TRUE(test, prio_untouched(f));
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_AUTO, &index),
			DBNIC_PATH_RING);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), (5u << 16) | 1);
}

static void post_stride_test(struct kunit *test)
{
	struct fake_sq *f = fake_sq_new(test, 4, 6, true);	/* 64 bytes */
	struct dbnic_desc d;
	u16 index;

	build_copy(test, &d, 4);		/* 2 blocks */
	KUNIT_EXPECT_EQ(test, dbnic_sq_post(&f->sq, &d, DBNIC_PATH_RING, &index),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, f->sq.pi, 0);
	KUNIT_EXPECT_EQ(test, fake_db_sq(f), 0);
	KUNIT_EXPECT_TRUE(test, all_zero(f->sq.ring, 16 * 64));
}

static struct kunit_case dbnic_desc_cases[] = {
	KUNIT_CASE(desc_layout_test),
	KUNIT_CASE(desc_blocks_test),
	KUNIT_CASE(desc_nop_test),
	KUNIT_CASE(desc_copy_test),
	KUNIT_CASE(desc_copy_limits_test),
	KUNIT_CASE(desc_fill_test),
	KUNIT_CASE(desc_compare_test),
	KUNIT_CASE(desc_csum_test),
	{}
};

static struct kunit_suite dbnic_desc_suite = {
	.name = "dbnic_desc",
	.test_cases = dbnic_desc_cases,
};

static struct kunit_case dbnic_ring_cases[] = {
	KUNIT_CASE(ring_math_test),
	KUNIT_CASE(sq_space_test),
	KUNIT_CASE(sq_full_test),
	KUNIT_CASE(sq_slots_test),
	KUNIT_CASE(sq_set_head_test),
	KUNIT_CASE(cq_pop_test),
	KUNIT_CASE(cq_arm_test),
	KUNIT_CASE(cq_tell_test),
	{}
};

static struct kunit_suite dbnic_ring_suite = {
	.name = "dbnic_ring",
	.test_cases = dbnic_ring_cases,
};

static struct kunit_case dbnic_post_cases[] = {
	KUNIT_CASE(post_ring_test),
	KUNIT_CASE(post_prio_test),
	KUNIT_CASE(post_prio_alternate_test),
	KUNIT_CASE(post_prio_partial_test),
	KUNIT_CASE(policy_ring_test),
	KUNIT_CASE(policy_fit_test),
	KUNIT_CASE(policy_prio_test),
	KUNIT_CASE(no_prio_area_test),
	KUNIT_CASE(post_stride_test),
	{}
};

static struct kunit_suite dbnic_post_suite = {
	.name = "dbnic_post",
	.test_cases = dbnic_post_cases,
};

kunit_test_suites(&dbnic_desc_suite, &dbnic_ring_suite, &dbnic_post_suite);

/*
 * The suites of the functions' pure logic live in their own files, and
 * are only built with the function (drivers/Kbuild defines these).
 */
#ifdef DBNIC_KUNIT_CDEV
/* User-space submission (dbnic_cdev.c, dbnic_cdev.ko). */
#include "dbnic_cdev_kunit.c"
#endif
#ifdef DBNIC_KUNIT_DMA
/* Transfer splitting (dbnic_xfer.c, dbnic_dma.ko). */
#include "dbnic_xfer_kunit.c"
#endif
#ifdef DBNIC_KUNIT_ETH
/* The Ethernet TX path and ETH_TX descriptors (dbnic_eth.ko). */
#include "dbnic_eth_kunit.c"
#endif

MODULE_DESCRIPTION("KUnit tests for the dbnic driver");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_IMPORT_NS(DBNIC);
