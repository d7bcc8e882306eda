// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of dbnic_eth_tx.c: which path a frame takes (inline through
 * the priority area, or the ring) by size and policy, and the ETH_TX
 * descriptors it builds, checked byte by byte against dbnic_hw.h's
 * layout (datasheet 10.2).  Built into dbnic_kunit.ko, which includes
 * this file.
 */

#include <kunit/test.h>

#include "dbnic_eth_tx.h"

static void eth_pick_test(struct kunit *test)
{
	struct dbnic_eth_tx_info ti = { .len = 60 };

	/* Small frames go inline, when the policy and the queue allow. */
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_pick(true, true, &ti),
			DBNIC_ETH_TX_INLINE_PRIO);
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_pick(false, true, &ti),
			DBNIC_ETH_TX_RING);
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_pick(true, false, &ti),
			DBNIC_ETH_TX_RING);

	/* The limit is what fits the descriptor: 224 bytes. */
	ti.len = DBNIC_ETH_TX_MAX_INLINE;
	KUNIT_EXPECT_EQ(test, DBNIC_ETH_TX_MAX_INLINE, 224);
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_pick(true, true, &ti),
			DBNIC_ETH_TX_INLINE_PRIO);
	ti.len = DBNIC_ETH_TX_MAX_INLINE + 1;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_pick(true, true, &ti),
			DBNIC_ETH_TX_RING);
	ti.len = 1514;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_pick(true, true, &ti),
			DBNIC_ETH_TX_RING);

	/* Runts and TSO never go inline. */
	ti.len = DBNIC_ETH_MIN_FRAME - 1;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_pick(true, true, &ti),
			DBNIC_ETH_TX_RING);
	ti.len = 100;
	ti.tso = true;
	ti.mss = 1448;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_pick(true, true, &ti),
			DBNIC_ETH_TX_RING);

	/* Offloads do not change the path. */
	ti.tso = false;
	ti.csum = true;
	ti.vlan = true;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_pick(true, true, &ti),
			DBNIC_ETH_TX_INLINE_PRIO);
}

static void eth_inline_test(struct kunit *test)
{
	struct dbnic_eth_tx_info ti = { .len = 60, .csum = true,
					.vlan = true, .vlan_tci = 0x2005 };
	struct dbnic_desc *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	u8 frame[DBNIC_ETH_TX_MAX_INLINE + 1];
	const u8 *raw = (const u8 *)d;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, d);
	for (i = 0; i < sizeof(frame); i++)
		frame[i] = i ^ 0x5a;
	memset(d, 0xff, sizeof(*d));

	KUNIT_ASSERT_EQ(test, dbnic_eth_tx_build_inline(d, &ti, frame), 0);
	/* Header, datasheet sections 5 and 10.2. */
	KUNIT_EXPECT_EQ(test, raw[0], DBNIC_OP_ETH_TX);
	KUNIT_EXPECT_EQ(test, raw[1], DBNIC_DESC_F_COMPLETION);
	/* 32 + 60 bytes: two blocks. */
	KUNIT_EXPECT_EQ(test, raw[2], 2);
	KUNIT_EXPECT_EQ(test, raw[3], 0);	/* no SGEs */
	for (i = 4; i < 16; i++)
		KUNIT_EXPECT_EQ(test, raw[i], 0);	/* index, qid, csum, imm */
	/* offload, mss, vlan_tci, inline_len, little-endian at 16..23 */
	KUNIT_EXPECT_EQ(test, raw[16],
			DBNIC_ETH_TX_F_CSUM | DBNIC_ETH_TX_F_VLAN);
	KUNIT_EXPECT_EQ(test, raw[17], 0);
	KUNIT_EXPECT_EQ(test, raw[18] | raw[19] << 8, 0);
	KUNIT_EXPECT_EQ(test, raw[20] | raw[21] << 8, 0x2005);
	KUNIT_EXPECT_EQ(test, raw[22] | raw[23] << 8, 60);
	for (i = 24; i < 32; i++)
		KUNIT_EXPECT_EQ(test, raw[i], 0);	/* reserved */
	/* The frame at byte 32, zeros after it to the end. */
	KUNIT_EXPECT_EQ(test, memcmp(raw + DBNIC_ETH_TX_DATA_OFFSET, frame, 60),
			0);
	for (i = DBNIC_ETH_TX_DATA_OFFSET + 60; i < sizeof(*d); i++)
		KUNIT_EXPECT_EQ(test, raw[i], 0);

	/* The largest inline frame fills all four blocks. */
	ti.len = DBNIC_ETH_TX_MAX_INLINE;
	ti.csum = false;
	ti.vlan = false;
	KUNIT_ASSERT_EQ(test, dbnic_eth_tx_build_inline(d, &ti, frame), 0);
	KUNIT_EXPECT_EQ(test, raw[2], DBNIC_DESC_MAX_BLOCKS);
	KUNIT_EXPECT_EQ(test, raw[16], 0);
	KUNIT_EXPECT_EQ(test, memcmp(raw + DBNIC_ETH_TX_DATA_OFFSET, frame,
				     DBNIC_ETH_TX_MAX_INLINE), 0);

	/* One byte more, a runt or TSO: refused. */
	ti.len = DBNIC_ETH_TX_MAX_INLINE + 1;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_inline(d, &ti, frame),
			-EINVAL);
	ti.len = DBNIC_ETH_MIN_FRAME - 1;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_inline(d, &ti, frame),
			-EINVAL);
	ti.len = 100;
	ti.tso = true;
	ti.mss = 1000;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_inline(d, &ti, frame),
			-EINVAL);
}

static void eth_sg_test(struct kunit *test)
{
	struct dbnic_sg sg[DBNIC_ETH_TX_MAX_SGE + 1];
	struct dbnic_eth_tx_info ti = {};
	struct dbnic_desc *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	const u8 *raw = (const u8 *)d;
	unsigned int i;
	u64 addr;

	KUNIT_ASSERT_NOT_NULL(test, d);
	for (i = 0; i < ARRAY_SIZE(sg); i++) {
		sg[i].addr = 0x1122334455660000ull + 0x1000 * i;
		sg[i].len = 100 + i;
	}

	/* A TSO frame of three pieces. */
	ti.len = 100 + 101 + 102;
	ti.tso = true;
	ti.mss = 1448;
	KUNIT_ASSERT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg, 3), 0);
	KUNIT_EXPECT_EQ(test, raw[0], DBNIC_OP_ETH_TX);
	KUNIT_EXPECT_EQ(test, raw[2], 2);	/* 32 + 3 * 16 bytes */
	KUNIT_EXPECT_EQ(test, raw[3], 3);	/* sources in [3:0] */
	/* TSO implies the checksum. */
	KUNIT_EXPECT_EQ(test, raw[16],
			DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_CSUM);
	KUNIT_EXPECT_EQ(test, raw[18] | raw[19] << 8, 1448);
	KUNIT_EXPECT_EQ(test, raw[22] | raw[23] << 8, 0);	/* not inline */
	for (i = 0; i < 3; i++) {
		const u8 *s = raw + DBNIC_ETH_TX_DATA_OFFSET + 16 * i;
		unsigned int b;

		addr = 0;
		for (b = 0; b < 8; b++)
			addr |= (u64)s[b] << (8 * b);
		KUNIT_EXPECT_EQ(test, addr, (u64)sg[i].addr);
		KUNIT_EXPECT_EQ(test, s[8] | s[9] << 8, 100 + i);
		KUNIT_EXPECT_EQ(test, s[12] | s[13] << 8 | s[14] << 16 |
				s[15] << 24, 0);	/* key 0: DMA address */
	}

	/* Fourteen SGEs fill the 256-byte descriptor; fifteen do not fit. */
	ti.tso = false;
	ti.len = 0;
	for (i = 0; i < DBNIC_ETH_TX_MAX_SGE; i++)
		ti.len += sg[i].len;
	KUNIT_ASSERT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg,
						    DBNIC_ETH_TX_MAX_SGE), 0);
	KUNIT_EXPECT_EQ(test, raw[2], DBNIC_DESC_MAX_BLOCKS);
	KUNIT_EXPECT_EQ(test, raw[3], DBNIC_ETH_TX_MAX_SGE);
	KUNIT_EXPECT_EQ(test, raw[16], 0);
	ti.len += sg[DBNIC_ETH_TX_MAX_SGE].len;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg,
						    DBNIC_ETH_TX_MAX_SGE + 1),
			-EINVAL);

	/* The total must be the frame; no empty SGE; MTU limits without TSO. */
	ti.len = 100;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg, 2), -EINVAL);
	sg[1].len = 0;
	ti.len = 100;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg, 2), -EINVAL);
	sg[0].len = DBNIC_ETH_MAX_FRAME + 1;
	ti.len = DBNIC_ETH_MAX_FRAME + 1;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg, 1), -EMSGSIZE);
	/* The tag the port inserts counts against the largest frame. */
	sg[0].len = DBNIC_ETH_MAX_FRAME;
	ti.len = DBNIC_ETH_MAX_FRAME;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg, 1), 0);
	ti.vlan = true;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg, 1), -EMSGSIZE);
	sg[0].len = DBNIC_ETH_MAX_FRAME - DBNIC_ETH_VLAN_HLEN;
	ti.len = sg[0].len;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg, 1), 0);
	ti.vlan = false;
	ti.tso = true;
	ti.mss = DBNIC_ETH_MSS_MIN - 1;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg, 1), -EINVAL);
	ti.mss = DBNIC_ETH_MSS_MAX;
	KUNIT_EXPECT_EQ(test, dbnic_eth_tx_build_sg(d, &ti, sg, 1), 0);
	KUNIT_EXPECT_EQ(test, raw[18] | raw[19] << 8, DBNIC_ETH_MSS_MAX);
}

static struct kunit_case dbnic_eth_cases[] = {
	KUNIT_CASE(eth_pick_test),
	KUNIT_CASE(eth_inline_test),
	KUNIT_CASE(eth_sg_test),
	{}
};

static struct kunit_suite dbnic_eth_suite = {
	.name = "dbnic_eth_tx",
	.test_cases = dbnic_eth_cases,
};

kunit_test_suite(dbnic_eth_suite);
