/*
 * Unit tests of the dbnic core's network port (datasheet section 10):
 * ETH_TX from SGEs and inline (through the priority path too), every
 * bad-input rule, receive queues, RSS, drops and counters.  Frames are
 * built by hand; what the glue would do with them (segmentation,
 * checksums) is the qtest's.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_eth.h"

static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static size_t eth_hdr(uint8_t *p, uint16_t type)
{
	memcpy(p, peer_mac, 6);
	memcpy(p + 6, our_mac, 6);
	put16(p + 12, type);
	return 14;
}

static void payload(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13 + seed);
}

/* IPv4 (proto) + 20-byte TCP or 8-byte UDP + n payload bytes. */
static size_t frame_ip4(uint8_t *p, uint8_t proto, size_t n, uint16_t frag)
{
	size_t l4len = proto == 6 ? 20 : 8;
	uint8_t *ip = p + eth_hdr(p, 0x0800), *l4 = ip + 20;

	memset(ip, 0, 20 + l4len);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len + n));
	put16(ip + 4, 0x1234);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	ip[12] = 10; ip[15] = 1;
	ip[16] = 10; ip[19] = 2;
	put16(l4, 1000);
	put16(l4 + 2, 2000);
	if (proto == 6)
		l4[12] = 5 << 4;
	else
		put16(l4 + 4, (uint16_t)(8 + n));
	payload(l4 + l4len, n, 1);
	return 14 + 20 + l4len + n;
}

/* IPv6 + TCP + n payload bytes. */
static size_t frame_tcp6(uint8_t *p, size_t n)
{
	uint8_t *ip = p + eth_hdr(p, 0x86dd), *l4 = ip + 40;

	memset(ip, 0, 60);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(20 + n));
	ip[6] = 6;
	ip[7] = 64;
	ip[23] = 1;
	ip[39] = 2;
	l4[12] = 5 << 4;
	payload(l4 + 20, n, 2);
	return 14 + 40 + 20 + n;
}

/* Put bytes into fresh guest memory; returns the address. */
static uint64_t guest_copy(struct fake *f, const void *p, size_t n)
{
	uint64_t a = fake_alloc(f, n ? n : 1, 64);

	memcpy(gpa(f, a), p, n);
	return a;
}

/* ---- identity and link --------------------------------------------- */

void test_eth_identity_and_link(void)
{
	struct fake f;
	struct dbnic_eqe e;

	harness_eq_log = 4;
	fake_init(&f);
	CHECK(dbnic_core_ctrl_read(&f.core, DBNIC_REG_CAP_FEATURES, 4) &
	      DBNIC_FEAT_NET);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_MAC_LO, 4), 0x12005452);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_MAC_HI, 4), 0x5634);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_NET_MAX_FRAME, 4),
		 DBNIC_ETH_MAX_FRAME);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_NET_STATUS, 4),
		 DBNIC_NET_LINK_UP);
	CHECK(!eq_poll(&f, &e));	/* link came up before enable */

	/* Down, then up, then down before the engine ran: the latest wins. */
	dbnic_core_eth_set_link(&f.core, false);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_NET_STATUS, 4), 0);
	fake_run(&f);
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_LINK);
	CHECK_EQ(e.data, 0);
	dbnic_core_eth_set_link(&f.core, true);
	dbnic_core_eth_set_link(&f.core, false);
	dbnic_core_eth_set_link(&f.core, true);
	dbnic_core_eth_set_link(&f.core, true);	/* no change, no event */
	fake_run(&f);
	CHECK(eq_poll(&f, &e));
	CHECK_EQ(e.type, DBNIC_AERR_LINK);
	CHECK_EQ(e.data, 1);
	CHECK(!eq_poll(&f, &e));

	/* Reset keeps the port's MAC and link. */
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_CTRL, DBNIC_CTRL_RESET, 4);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_NET_STATUS, 4),
		 DBNIC_NET_LINK_UP);
	CHECK_EQ(dbnic_core_ctrl_read(&f.core, DBNIC_REG_MAC_HI, 4), 0x5634);
	fake_free(&f);
}

/* ---- ETH_TX --------------------------------------------------------- */

void test_eth_tx_gathers_sges(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct dbnic_eth_tx_offload off;
	uint8_t frame[1500];
	uint64_t a[3];
	uint32_t l[3] = { 14, 600, 0 };
	size_t n = frame_ip4(frame, 17, 1400, 0x4000), got;
	const uint8_t *out;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	l[2] = (uint32_t)n - l[0] - l[1];
	a[0] = guest_copy(&f, frame, l[0]);
	a[1] = guest_copy(&f, frame + l[0], l[1]);
	a[2] = guest_copy(&f, frame + l[0] + l[1], l[2]);
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_CSUM | DBNIC_ETH_TX_F_VLAN, 0, a, l,
		    3);
	dbnic_eth_tx_of(&d)->vlan_tci = 0x2005;
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.byte_count, n);
	CHECK_EQ(f.tx_frames, 1);
	out = tx_frame(&f, 0, &got, &off);
	CHECK(out);
	CHECK_EQ(got, n);
	CHECK(!memcmp(out, frame, n));
	CHECK_EQ(off.flags, DBNIC_ETH_TX_F_CSUM | DBNIC_ETH_TX_F_VLAN);
	CHECK_EQ(off.vlan_tci, 0x2005);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX_INLINE), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_BYTES), n);
	fake_free(&f);
}

/* SGEs through a registration whose pages are scattered. */
void test_eth_tx_through_mr(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint64_t pages[2], iova = 0x7000000000ull + 4000, addr;
	uint32_t key, len = 300;
	uint8_t want[300];
	const uint8_t *out;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	pages[1] = fake_alloc(&f, 4096, 4096);
	pages[0] = fake_alloc(&f, 4096, 4096);
	CHECK_EQ(reg_mr(&f, q.ctx, iova, 300, pages, 2, 0, &key), DBNIC_AST_OK);
	payload(want, 300, 9);
	memcpy(gpa(&f, pages[0] + 4000), want, 96);
	memcpy(gpa(&f, pages[1]), want + 96, 204);
	addr = iova;
	desc_eth_tx(&d, &q, 0, 0, &addr, &len, 1);
	d.sge[1].key = key;
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	out = tx_frame(&f, 0, NULL, NULL);
	CHECK(out);
	CHECK(!memcmp(out, want, 300));
	fake_free(&f);
}

/*
 * An inline frame written whole into the priority area: no descriptor
 * fetch, no data read, no host-memory read at all; counted.  The same
 * descriptor from the ring is not counted (it was fetched).
 */
void test_eth_tx_inline_prio_reads_nothing(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint8_t frame[200];
	size_t n = frame_ip4(frame, 17, 200 - 42, 0), got;
	unsigned int reads;
	const uint8_t *out;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	desc_eth_tx_inline(&d, &q, frame, (uint16_t)n);
	CHECK_EQ(d.hdr.size, 4);
	reads = f.dma_reads;
	post_prio(&q, &d, NULL);
	fake_run(&f);
	CHECK_EQ(f.dma_reads, reads);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(cqe.flags & DBNIC_CQE_F_PRIO);
	out = tx_frame(&f, 0, &got, NULL);
	CHECK(out);
	CHECK_EQ(got, n);
	CHECK(!memcmp(out, frame, n));
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX_INLINE), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_RING_FETCH), 0);

	desc_eth_tx_inline(&d, &q, frame, 60);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(f.tx_frames, 2);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX_INLINE), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX), 2);
	fake_free(&f);
}

/* Every rule of datasheet 10.2 that fails a descriptor, one by one. */
void test_eth_tx_bad_descriptors(void)
{
	struct fake f;
	struct hq q, user;
	struct dbnic_desc d, good;
	struct dbnic_cqe cqe;
	static uint8_t big[DBNIC_ETH_MAX_TSO + 64];
	uint8_t frame[1500];
	uint64_t a, abig;
	uint32_t l, lbig;
	struct {
		const char *what;
		uint8_t status;
	} want[] = {
		{ "dst SGE", DBNIC_ST_BAD_DESC },
		{ "inline and SGE", DBNIC_ST_BAD_DESC },
		{ "inline too long", DBNIC_ST_BAD_DESC },
		{ "size too small", DBNIC_ST_BAD_DESC },
		{ "reserved offload bit", DBNIC_ST_BAD_DESC },
		{ "reserved field", DBNIC_ST_BAD_DESC },
		{ "imm", DBNIC_ST_BAD_DESC },
		{ "mss without TSO", DBNIC_ST_BAD_DESC },
		{ "tci without VLAN", DBNIC_ST_BAD_DESC },
		{ "mss too small", DBNIC_ST_BAD_DESC },
		{ "mss too big", DBNIC_ST_BAD_DESC },
		{ "runt", DBNIC_ST_BAD_LENGTH },
		{ "giant", DBNIC_ST_BAD_LENGTH },
		{ "TSO too long", DBNIC_ST_BAD_LENGTH },
		{ "zero SGE", DBNIC_ST_BAD_LENGTH },
		{ "bad key", DBNIC_ST_ACCESS },
		{ "not guest memory", DBNIC_ST_DMA_ERROR },
		{ "TSO of UDP", DBNIC_ST_BAD_FRAME },
		{ "TSO of a fragment", DBNIC_ST_BAD_FRAME },
		{ "TSO, TCP header cut", DBNIC_ST_BAD_FRAME },
		{ "reserved flag", DBNIC_ST_BAD_DESC },
		{ "15 SGEs", DBNIC_ST_BAD_DESC },
	};
	unsigned int i;
	size_t n;

	fake_init(&f);
	hq_create(&f, &q, true, 5, 8);
	n = frame_ip4(frame, 6, 1000, 0);
	a = guest_copy(&f, frame, n);
	l = (uint32_t)n;
	desc_eth_tx(&good, &q, 0, 0, &a, &l, 1);

	d = good;			/* dst SGE */
	d.hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, 1) | DBNIC_SET(DBNIC_NSGE_DST, 1);
	d.hdr.size = 2;
	post_ring(&q, &d);
	d = good;			/* inline and SGE */
	dbnic_eth_tx_of(&d)->inline_len = 16;
	post_ring(&q, &d);
	desc_eth_tx_inline(&d, &q, frame, 200);	/* inline too long */
	dbnic_eth_tx_of(&d)->inline_len = DBNIC_ETH_TX_MAX_INLINE + 1;
	post_ring(&q, &d);
	desc_eth_tx_inline(&d, &q, frame, 100);	/* size too small */
	d.hdr.size = 2;
	post_ring(&q, &d);
	d = good;
	dbnic_eth_tx_of(&d)->offload = 1u << 3;
	post_ring(&q, &d);
	d = good;
	dbnic_eth_tx_of(&d)->rsvd[1] = 1;
	post_ring(&q, &d);
	d = good;
	d.hdr.imm = 1;
	post_ring(&q, &d);
	d = good;
	dbnic_eth_tx_of(&d)->mss = 1000;
	post_ring(&q, &d);
	d = good;
	dbnic_eth_tx_of(&d)->vlan_tci = 5;
	post_ring(&q, &d);
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_TSO, DBNIC_ETH_MSS_MIN - 1, &a, &l, 1);
	post_ring(&q, &d);
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_TSO, DBNIC_ETH_MSS_MAX + 1, &a, &l, 1);
	post_ring(&q, &d);
	l = DBNIC_ETH_MIN_FRAME - 1;	/* runt */
	desc_eth_tx(&d, &q, 0, 0, &a, &l, 1);
	post_ring(&q, &d);
	abig = guest_copy(&f, big, sizeof(big));
	lbig = DBNIC_ETH_MAX_FRAME + 1;	/* giant without TSO */
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_CSUM, 0, &abig, &lbig, 1);
	post_ring(&q, &d);
	lbig = DBNIC_ETH_MAX_TSO + 1;
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_TSO, 1000, &abig, &lbig, 1);
	post_ring(&q, &d);
	{
		uint64_t aa[2] = { a, a };
		uint32_t ll[2] = { (uint32_t)n, 0 };

		desc_eth_tx(&d, &q, 0, 0, aa, ll, 2);	/* zero-length SGE */
		post_ring(&q, &d);
	}
	l = (uint32_t)n;
	d = good;
	d.sge[1].key = 0x10001;		/* no such registration */
	post_ring(&q, &d);
	d = good;
	d.sge[1].addr = 0x10;		/* not guest memory */
	post_ring(&q, &d);
	n = frame_ip4(frame, 17, 1000, 0);
	a = guest_copy(&f, frame, n);
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_TSO, 500, &a, &l, 1);
	post_ring(&q, &d);
	n = frame_ip4(frame, 6, 1000, 0x2000);	/* MF */
	a = guest_copy(&f, frame, n);
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_TSO, 500, &a, &l, 1);
	post_ring(&q, &d);
	n = frame_ip4(frame, 6, 0, 0);
	a = guest_copy(&f, frame, n - 1);	/* TCP header cut short */
	l = (uint32_t)n - 1;
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_TSO, 500, &a, &l, 1);
	post_ring(&q, &d);
	d = good;
	d.hdr.flags |= 1u << 5;
	post_ring(&q, &d);
	d = good;
	d.hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, 15);
	post_ring(&q, &d);
	fake_run(&f);

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(cq_poll(&q, &cqe));
		if (cqe.status != want[i].status)
			fprintf(stderr, "    case %s\n", want[i].what);
		CHECK_EQ(cqe.status, want[i].status);
	}
	CHECK_EQ(f.tx_frames, 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX), 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_ACCESS_FAULT), 1);

	/* The queue goes on; an unprivileged context may not send at all. */
	post_ring(&q, &good);
	hq_create(&f, &user, false, 3, 8);
	desc_eth_tx_inline(&d, &user, frame, 60);	/* no SGE to refuse */
	post_ring(&user, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(cq_poll(&user, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_ACCESS);
	CHECK_EQ(f.tx_frames, 1);
	fake_free(&f);
}

/* TSO over IPv4, IPv6 and behind a VLAN tag reaches the glue described. */
void test_eth_tx_tso_described(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct dbnic_eth_tx_offload off;
	static uint8_t frame[DBNIC_ETH_MAX_TSO];
	uint64_t a;
	uint32_t l;
	size_t n, got;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	n = frame_ip4(frame, 6, DBNIC_ETH_MAX_TSO - 54, 0x4000);
	CHECK_EQ(n, DBNIC_ETH_MAX_TSO);
	a = guest_copy(&f, frame, n);
	l = (uint32_t)n;
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_CSUM, 1448, &a,
		    &l, 1);
	post_ring(&q, &d);
	n = frame_tcp6(frame, 3000);
	a = guest_copy(&f, frame, n);
	l = (uint32_t)n;
	/* The largest mss whose segments, with 74 bytes of headers, fit. */
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_TSO, DBNIC_ETH_MAX_FRAME - 74, &a,
		    &l, 1);
	post_ring(&q, &d);
	/* 802.1Q-tagged IPv4 TCP: the tag is skipped to find the headers. */
	n = frame_ip4(frame + 4, 6, 2000, 0) + 4;
	memmove(frame, frame + 4, 12);
	put16(frame + 12, 0x8100);
	put16(frame + 14, 7);
	a = guest_copy(&f, frame, n);
	l = (uint32_t)n;
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_TSO, DBNIC_ETH_MSS_MIN, &a, &l, 1);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.byte_count, DBNIC_ETH_MAX_TSO);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(f.tx_frames, 3);
	CHECK(tx_frame(&f, 0, &got, &off));
	CHECK_EQ(got, DBNIC_ETH_MAX_TSO);
	CHECK_EQ(off.flags, DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_CSUM);
	CHECK_EQ(off.mss, 1448);
	CHECK(tx_frame(&f, 1, NULL, &off));
	CHECK_EQ(off.mss, DBNIC_ETH_MAX_FRAME - 74);
	CHECK(tx_frame(&f, 2, &got, &off));
	CHECK_EQ(got, n);
	CHECK_EQ(off.mss, DBNIC_ETH_MSS_MIN);
	fake_free(&f);
}

/*
 * Datasheet 10.1: every frame on the wire fits DBNIC_ETH_MAX_FRAME, the
 * tag VLAN inserts included: a TSO frame whose headers + mss (+ 4 with
 * VLAN) exceed it is BAD_FRAME, a frame with VLAN longer than the limit
 * less the tag is BAD_LENGTH.  mss goes up to DBNIC_ETH_MSS_MAX, which
 * the shortest headers (Ethernet, IPv4 and TCP of 20 bytes) fit.
 */
void test_eth_tx_segment_fits_frame(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	static uint8_t frame[DBNIC_ETH_MAX_TSO];
	static const struct {
		const char *what;
		unsigned int hdr;	/* 54: IPv4, 74: IPv6, 134: options */
		uint16_t offload, mss;
		uint8_t status;
	} want[] = {
		{ "IPv4, mss max", 54, DBNIC_ETH_TX_F_TSO, DBNIC_ETH_MSS_MAX,
		  DBNIC_ST_OK },
		{ "IPv6, mss max", 74, DBNIC_ETH_TX_F_TSO, DBNIC_ETH_MSS_MAX,
		  DBNIC_ST_BAD_FRAME },
		{ "IPv6, fits", 74, DBNIC_ETH_TX_F_TSO,
		  DBNIC_ETH_MAX_FRAME - 74, DBNIC_ST_OK },
		{ "IPv4, VLAN, fits", 54, DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_VLAN,
		  DBNIC_ETH_MAX_FRAME - 58, DBNIC_ST_OK },
		{ "IPv4, VLAN, 1 over", 54,
		  DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_VLAN,
		  DBNIC_ETH_MAX_FRAME - 57, DBNIC_ST_BAD_FRAME },
		{ "options, 8900", 134, DBNIC_ETH_TX_F_TSO, 8900,
		  DBNIC_ST_BAD_FRAME },
		{ "options, fits", 134, DBNIC_ETH_TX_F_TSO,
		  DBNIC_ETH_MAX_FRAME - 134, DBNIC_ST_OK },
	};
	unsigned int i, sent = 0;
	uint64_t a;
	uint32_t l;
	size_t n;

	fake_init(&f);
	hq_create(&f, &q, true, 5, 8);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (want[i].hdr == 74) {
			n = frame_tcp6(frame, 20000);
		} else {
			n = frame_ip4(frame, 6, 20000, 0);
		}
		if (want[i].hdr == 134) {
			/* IHL 15 and data offset 15: 40 bytes of options each. */
			memmove(frame + 134, frame + 54, n - 54);
			memmove(frame + 74, frame + 34, 20);
			memset(frame + 34, 1, 40);	/* IPv4 NOPs */
			memset(frame + 94, 1, 40);	/* TCP NOPs */
			frame[14] = 0x4f;
			frame[74 + 12] = 15 << 4;
			n += 80;
		}
		a = guest_copy(&f, frame, n);
		l = (uint32_t)n;
		desc_eth_tx(&d, &q, want[i].offload, want[i].mss, &a, &l, 1);
		if (want[i].offload & DBNIC_ETH_TX_F_VLAN)
			dbnic_eth_tx_of(&d)->vlan_tci = 7;
		post_ring(&q, &d);
	}
	/* Without TSO: the limit, and the limit less the tag with VLAN. */
	n = frame_ip4(frame, 17, DBNIC_ETH_MAX_FRAME - 42, 0);
	CHECK_EQ(n, DBNIC_ETH_MAX_FRAME);
	a = guest_copy(&f, frame, n);
	l = (uint32_t)n;
	desc_eth_tx(&d, &q, 0, 0, &a, &l, 1);
	post_ring(&q, &d);
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_VLAN, 0, &a, &l, 1);
	dbnic_eth_tx_of(&d)->vlan_tci = 7;
	post_ring(&q, &d);
	l -= DBNIC_ETH_VLAN_HLEN;
	desc_eth_tx(&d, &q, DBNIC_ETH_TX_F_VLAN, 0, &a, &l, 1);
	dbnic_eth_tx_of(&d)->vlan_tci = 7;
	post_ring(&q, &d);
	fake_run(&f);

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(cq_poll(&q, &cqe));
		if (cqe.status != want[i].status)
			fprintf(stderr, "    case %s\n", want[i].what);
		CHECK_EQ(cqe.status, want[i].status);
		sent += cqe.status == DBNIC_ST_OK;
	}
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_LENGTH);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(f.tx_frames, sent + 2);
	fake_free(&f);
}

/* Link down: the descriptor completes, the frame is not sent, counted. */
void test_eth_tx_link_down_drops(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint8_t frame[64];

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	dbnic_core_eth_set_link(&f.core, false);
	memset(frame, 0, sizeof(frame));
	eth_hdr(frame, 0x0800);
	desc_eth_tx_inline(&d, &q, frame, 60);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(f.tx_frames, 0);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX_DROP), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX), 1);
	fake_free(&f);
}

/*
 * A port that cannot take frames holds the queue (its next descriptor
 * does not start, the engine does not spin), other queues go on, and
 * dbnic_core_eth_tx_resume() lets it continue in order.
 */
void test_eth_tx_busy_waits(void)
{
	struct fake f;
	struct hq q, other;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint8_t frame[64];
	unsigned int runs;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	hq_on_ctx(&f, &other, q.ctx, 3, 6);
	memset(frame, 0, sizeof(frame));
	eth_hdr(frame, 0x0800);
	f.tx_busy = true;
	desc_eth_tx_inline(&d, &q, frame, 60);
	post_ring(&q, &d);
	frame[20] = 1;
	desc_eth_tx_inline(&d, &q, frame, 61);
	post_ring(&q, &d);
	desc_nop(&d, &q, 0);
	post_ring(&q, &d);
	desc_nop(&d, &other, 0);
	post_ring(&other, &d);
	runs = f.runs;
	fake_run(&f);
	CHECK(f.runs - runs < 10);	/* the engine waits, it does not spin */
	CHECK(!f.scheduled);
	CHECK(!cq_poll(&q, &cqe));
	CHECK(cq_poll(&other, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX), 0);

	f.tx_busy = false;
	dbnic_core_eth_tx_resume(&f.core);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 0);
	CHECK_EQ(cqe.byte_count, 60);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 1);
	CHECK_EQ(cqe.byte_count, 61);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.index, 2);
	CHECK_EQ(f.tx_frames, 2);
	CHECK_EQ(tx_frame(&f, 1, NULL, NULL)[20], 1);
	fake_free(&f);
}

/* Destroying a queue whose ETH_TX waits for the port flushes it. */
void test_eth_tx_busy_flushed_by_destroy(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint8_t frame[64];

	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	memset(frame, 0, sizeof(frame));
	eth_hdr(frame, 0x0800);
	f.tx_busy = true;
	desc_eth_tx_inline(&d, &q, frame, 60);
	post_ring(&q, &d);
	fake_run(&f);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_SQ, q.qid), DBNIC_AST_OK);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_FLUSHED);
	f.tx_busy = false;
	dbnic_core_eth_tx_resume(&f.core);
	fake_run(&f);
	CHECK_EQ(f.tx_frames, 0);
	fake_free(&f);
}

/*
 * Datasheet 2.1, 10.2: reset and disable tell the owner to drop the
 * frames it holds (ops->eth_reset), counted in ETH_TX_DROP; frames the
 * owner finds it cannot send later are counted the same way.
 */
void test_eth_reset_drops_held_frames(void)
{
	struct fake f;
	unsigned int resets;

	fake_init(&f);
	resets = f.eth_resets;			/* fake_init's resets */
	CHECK(resets >= 1);
	dbnic_core_eth_tx_dropped(&f.core, 2);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX_DROP), 2);
	f.tx_held = 3;
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_CTRL, 0, 4);	/* disable */
	CHECK_EQ(f.eth_resets, resets + 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX_DROP), 5);
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_CTRL, DBNIC_CTRL_RESET, 4);
	CHECK_EQ(f.eth_resets, resets + 2);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_TX_DROP), 0);	/* cleared */
	fake_free(&f);
}

/* ---- receive ------------------------------------------------------- */

void test_eth_rx_delivers(void)
{
	struct fake f;
	struct hq q;
	struct hrq r;
	struct dbnic_rx_cqe cqe;
	uint8_t frame[1000];
	uint64_t b[2];
	uint32_t l[2] = { 100, 1000 };
	size_t n = frame_ip4(frame, 6, 900, 0);
	unsigned int irqs;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	CHECK(!dbnic_core_eth_can_rx(&f.core));	/* no RQ yet */
	hrq_create(&q, &r, 3, 6, 2);
	CHECK_EQ(r.status, DBNIC_AST_OK);
	CHECK(dbnic_core_eth_can_rx(&f.core));
	b[0] = fake_alloc(&f, 100, 64);
	b[1] = fake_alloc(&f, 1000, 64);
	recv_put(&r, 0, b, l, 2);
	rq_doorbell(&r, 1);
	CHECK_EQ(f.rx_ready, 1);
	dbnic_core_db_write(&f.core, ((uint64_t)r.ctx << DBNIC_DB_PAGE_SHIFT) +
			    DBNIC_DB_CQ, dbnic_db_cq_val(r.cqn, 0, 1), 4);
	irqs = f.irqs[2];
	CHECK_EQ(eth_rx(&f, frame, n, 0x1234, DBNIC_RSS_HASH_TCP_IPV4,
			DBNIC_RX_L4_OK | DBNIC_RX_IP_OK), DBNIC_ETH_RX_DONE);
	CHECK(!memcmp(gpa(&f, b[0]), frame, 100));
	CHECK(!memcmp(gpa(&f, b[1]), frame + 100, n - 100));
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(cqe.flags & DBNIC_CQE_F_RX);
	CHECK_EQ(cqe.byte_count, n);
	CHECK_EQ(cqe.index, 0);
	CHECK_EQ(cqe.qid, r.rqn);
	CHECK_EQ(cqe.rx_flags, DBNIC_RX_L4_OK | DBNIC_RX_IP_OK);
	/* RSS is off: no hash reported, whatever the glue computed. */
	CHECK_EQ(cqe.hash_type, DBNIC_RSS_HASH_NONE);
	CHECK_EQ(cqe.rss_hash, 0);
	CHECK_EQ(f.irqs[2], irqs + 1);	/* the RQ's CQ's own vector */
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX), 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_BYTES), n);
	fake_free(&f);
}

/* No buffer: counted and reported, nothing consumed; posting fixes it. */
void test_eth_rx_no_buffer(void)
{
	struct fake f;
	struct hq q;
	struct hrq r;
	struct dbnic_rx_cqe cqe;
	uint8_t frame[60];
	uint64_t b;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hrq_create(&q, &r, 1, 6, 1);
	memset(frame, 0, sizeof(frame));
	eth_hdr(frame, 0x0800);
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_NOBUF);
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_NOBUF);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX_NOBUF), 2);
	CHECK(!rx_cq_poll(&r, &cqe));
	b = recv_post(&r, 64);
	CHECK_EQ(f.rx_ready, 1);
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(!memcmp(gpa(&f, b), frame, 60));
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_NOBUF);
	/* A doorbell past the ring, or backwards, posts nothing. */
	rq_doorbell(&r, r.pi + 3);
	rq_doorbell(&r, r.pi - 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 2);
	CHECK_EQ(f.rx_ready, 1);
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_NOBUF);
	/* The link down: nothing is taken, nothing counted. */
	recv_post(&r, 64);
	dbnic_core_eth_set_link(&f.core, false);
	CHECK(!dbnic_core_eth_can_rx(&f.core));
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK(!rx_cq_poll(&r, &cqe));
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX_NOBUF), 4);
	fake_free(&f);
}

/* Runts, giants and malformed frames are dropped before any buffer. */
void test_eth_rx_bad_frames(void)
{
	struct fake f;
	struct hq q;
	struct hrq r;
	struct dbnic_rx_cqe cqe;
	static uint8_t frame[DBNIC_ETH_MAX_FRAME + 1];
	uint64_t b;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hrq_create(&q, &r, 3, 6, 1);
	b = recv_post(&r, DBNIC_ETH_MAX_FRAME);
	memset(frame, 0x5a, sizeof(frame));
	eth_hdr(frame, 0x0800);
	CHECK_EQ(eth_rx(&f, frame, DBNIC_ETH_MIN_FRAME - 1, 0, 0, 0),
		 DBNIC_ETH_RX_DONE);
	CHECK_EQ(eth_rx(&f, frame, DBNIC_ETH_MAX_FRAME + 1, 0, 0, 0),
		 DBNIC_ETH_RX_DONE);
	put16(frame + 12, 0x8100);	/* a tag that is cut off */
	CHECK_EQ(eth_rx(&f, frame, 17, 0, 0, 0), DBNIC_ETH_RX_DONE);
	put16(frame + 12, 47);		/* 802.3 length past the frame */
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_DONE);
	put16(frame + 12, 0x88a8);	/* QinQ, inner 802.3 length too long */
	put16(frame + 16, 43);
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX_BAD), 5);
	CHECK(!rx_cq_poll(&r, &cqe));
	/* The limits themselves are fine. */
	put16(frame + 12, 46);		/* 802.3 length that fits */
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_DONE);
	put16(frame + 12, 0x0800);
	recv_post(&r, DBNIC_ETH_MIN_FRAME);
	recv_post(&r, DBNIC_ETH_MAX_FRAME);
	CHECK_EQ(eth_rx(&f, frame, DBNIC_ETH_MIN_FRAME, 0, 0, 0),
		 DBNIC_ETH_RX_DONE);
	CHECK_EQ(eth_rx(&f, frame, DBNIC_ETH_MAX_FRAME, 0, 0, 0),
		 DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.byte_count, 60);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.byte_count, DBNIC_ETH_MIN_FRAME);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.byte_count, DBNIC_ETH_MAX_FRAME);
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX_BAD), 5);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX), 3);
	(void)b;
	fake_free(&f);
}

/*
 * Bad RECV descriptors complete with errors and the frame tries the next
 * buffer; a buffer too small consumes the RECV and drops the frame.
 */
void test_eth_rx_bad_recv(void)
{
	struct fake f;
	struct hq q, user;
	struct hrq r;
	struct dbnic_rx_cqe cqe;
	struct dbnic_desc *d;
	uint8_t frame[100];
	uint64_t b[8], other;
	uint32_t l = 128, key;
	unsigned int i;
	static const uint8_t want[] = {
		DBNIC_ST_BAD_OPCODE, DBNIC_ST_BAD_DESC, DBNIC_ST_BAD_DESC,
		DBNIC_ST_ACCESS, DBNIC_ST_ACCESS, DBNIC_ST_BAD_DESC,
		DBNIC_ST_OK,
	};

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hq_create(&f, &user, false, 3, 6);
	hrq_create(&q, &r, 4, 6, 1);
	for (i = 0; i < 8; i++) {
		b[i] = fake_alloc(&f, 128, 64);
		recv_put(&r, i, &b[i], &l, 1);
	}
	d = recv_slot(&r, 0);
	d->hdr.opcode = DBNIC_OP_NOP;
	d = recv_slot(&r, 1);
	d->hdr.index = 9;			/* not its slot */
	d = recv_slot(&r, 2);
	d->hdr.nsge |= DBNIC_SET(DBNIC_NSGE_SRC, 1);
	/* A registration of another context, and one without LOCAL_WRITE. */
	other = fake_alloc(&f, 4096, 4096);
	CHECK_EQ(reg_mr(&f, user.ctx, 0x1000, 4096, &other, 1,
			DBNIC_MR_LOCAL_WRITE, &key), DBNIC_AST_OK);
	d = recv_slot(&r, 3);
	d->sge[0].addr = 0x1000;
	d->sge[0].key = key;
	CHECK_EQ(reg_mr(&f, q.ctx, 0x1000, 4096, &other, 1, 0, &key),
		 DBNIC_AST_OK);
	d = recv_slot(&r, 4);
	d->sge[0].addr = 0x1000;
	d->sge[0].key = key;
	d = recv_slot(&r, 5);
	d->hdr.size = 2;			/* larger than the stride */
	d = recv_slot(&r, 7);
	d->sge[0].addr = 0x10;			/* not guest memory */
	rq_doorbell(&r, 8);			/* 8 and 9 come below */
	memset(frame, 0, sizeof(frame));
	eth_hdr(frame, 0x0800);
	payload(frame + 14, 86, 3);
	CHECK_EQ(eth_rx(&f, frame, 100, 0, 0, 0), DBNIC_ETH_RX_DONE);
	for (i = 0; i < 7; i++) {
		CHECK(rx_cq_poll(&r, &cqe));
		CHECK_EQ(cqe.index, i);
		CHECK_EQ(cqe.status, want[i]);
	}
	CHECK_EQ(cqe.byte_count, 100);
	CHECK(!memcmp(gpa(&f, b[6]), frame, 100));
	CHECK_EQ(counter(&f, DBNIC_CNT_DESC_ERROR), 6);
	CHECK_EQ(counter(&f, DBNIC_CNT_ACCESS_FAULT), 2);
	/* Writing the frame fails: DMA_ERROR, and the frame is lost. */
	CHECK_EQ(eth_rx(&f, frame, 100, 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.index, 7);
	CHECK_EQ(cqe.status, DBNIC_ST_DMA_ERROR);
	CHECK(!rx_cq_poll(&r, &cqe));
	/* Index 8: the buffer is too small for the frame. */
	l = 99;
	recv_put(&r, 8, &b[0], &l, 1);
	l = 128;
	recv_put(&r, 9, &b[1], &l, 1);
	rq_doorbell(&r, 10);
	memset(gpa(&f, b[1]), 0, 128);
	CHECK_EQ(eth_rx(&f, frame, 100, 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.index, 8);
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_LENGTH);
	CHECK_EQ(cqe.byte_count, 100);
	CHECK(!rx_cq_poll(&r, &cqe));		/* the frame is gone */
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX_BUF_SHORT), 1);
	CHECK_EQ(((uint8_t *)gpa(&f, b[1]))[0], 0);
	/* Index 9 takes the next frame. */
	CHECK_EQ(eth_rx(&f, frame, 100, 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.index, 9);
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	/* Only bad buffers left: every one fails, then no buffer. */
	for (i = 10; i < 12; i++) {
		recv_put(&r, i, &b[0], &l, 1);
		((struct dbnic_desc *)recv_slot(&r, i))->hdr.opcode = 0;
	}
	rq_doorbell(&r, 12);
	CHECK_EQ(eth_rx(&f, frame, 100, 0, 0, 0), DBNIC_ETH_RX_NOBUF);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_OPCODE);
	fake_free(&f);
}

/*
 * A guest that rewrites a RECV between the device's two reads of it (the
 * header, to learn the size, then the whole descriptor): a changed
 * index, an SGE count past the size, a size past the stride, another
 * opcode.  Each RECV completes with BAD_DESC, nothing is written to its
 * buffer, and the frame goes to the next RECV, which is left alone.
 */
static struct hrq *changed_rq;
static unsigned int changed_hits;

static void recv_change(struct fake *f, uint64_t addr, size_t len)
{
	struct dbnic_desc *d;
	uint16_t k;

	if (len != sizeof(d->hdr))
		return;
	for (k = 0; k < 4; k++) {
		if (addr != changed_rq->base + ((uint64_t)k << 6))
			continue;
		d = recv_slot(changed_rq, k);
		switch (k) {
		case 0:
			d->hdr.index = 7;
			break;
		case 1:
			d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, 15);
			break;
		case 2:
			d->hdr.size = 2;
			break;
		default:
			d->hdr.opcode = DBNIC_OP_NOP;
			break;
		}
		changed_hits++;
	}
	(void)f;
}

void test_eth_rx_recv_changed(void)
{
	struct fake f;
	struct hq q;
	struct hrq r;
	struct dbnic_rx_cqe cqe;
	uint8_t frame[100];
	uint64_t b[5];
	uint32_t l = 128;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hrq_create(&q, &r, 3, 6, 1);
	for (i = 0; i < 5; i++) {
		b[i] = fake_alloc(&f, 128, 64);
		memset(gpa(&f, b[i]), 0xee, 128);
		recv_put(&r, i, &b[i], &l, 1);
	}
	rq_doorbell(&r, 5);
	changed_rq = &r;
	changed_hits = 0;
	f.after_read = recv_change;
	eth_hdr(frame, 0x88b5);
	payload(frame + 14, sizeof(frame) - 14, 9);
	CHECK_EQ(eth_rx(&f, frame, sizeof(frame), 0, 0, 0), DBNIC_ETH_RX_DONE);
	f.after_read = NULL;
	CHECK_EQ(changed_hits, 4);
	for (i = 0; i < 4; i++) {
		CHECK(rx_cq_poll(&r, &cqe));
		CHECK_EQ(cqe.index, i);
		CHECK_EQ(cqe.status, DBNIC_ST_BAD_DESC);
		CHECK_EQ(cqe.byte_count, 0);
		CHECK_EQ(((uint8_t *)gpa(&f, b[i]))[0], 0xee);
	}
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.index, 4);
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.byte_count, sizeof(frame));
	CHECK(!memcmp(gpa(&f, b[4]), frame, sizeof(frame)));
	CHECK_EQ(counter(&f, DBNIC_CNT_DESC_ERROR), 4);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX), 1);
	fake_free(&f);
}

/*
 * Scatter over short, odd SGEs (datasheet 10.3): fifteen of them, the
 * last through a registration whose two pages are apart, crossing the
 * page boundary; the frame ends inside it and nothing past the frame is
 * written.  A RECV with a zero-length SGE is consumed with BAD_LENGTH
 * (byte_count 0) and the frame goes to the next buffer.
 */
void test_eth_rx_scatter_odd(void)
{
	static const uint32_t odd[14] = { 1, 3, 5, 7, 11, 13, 17, 19, 23, 29,
					  31, 37, 41, 43 };
	struct fake f;
	struct hq q;
	struct hrq r;
	struct dbnic_rx_cqe cqe;
	uint8_t frame[1001];
	uint64_t a[15], pages[2], buf, iova = 0x5000000000ull + 4096 - 7;
	uint32_t l[15], key, at = 0, zero[3] = { 64, 0, 64 }, big = 2000;
	uint8_t *p;
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hrq_create(&q, &r, 3, 8, 1);
	buf = fake_alloc(&f, 4096, 64);
	memset(gpa(&f, buf), 0xee, 4096);
	for (i = 0; i < 14; i++) {
		a[i] = buf + 3 + 97 * i;	/* odd places, gaps between */
		l[i] = odd[i];
		at += odd[i];
	}
	pages[0] = fake_alloc(&f, 4096, 4096);
	fake_alloc(&f, 4096, 4096);		/* the pages are apart */
	pages[1] = fake_alloc(&f, 4096, 4096);
	memset(gpa(&f, pages[0]), 0xee, 4096);
	memset(gpa(&f, pages[1]), 0xee, 4096);
	CHECK_EQ(reg_mr(&f, q.ctx, iova, 1000, pages, 2, DBNIC_MR_LOCAL_WRITE,
			&key), DBNIC_AST_OK);
	a[14] = iova;
	l[14] = 1000;
	recv_put(&r, 0, a, l, 15);
	((struct dbnic_desc *)recv_slot(&r, 0))->sge[14].key = key;
	recv_put(&r, 1, a, zero, 3);
	a[0] = fake_alloc(&f, big, 64);
	recv_put(&r, 2, a, &big, 1);
	rq_doorbell(&r, 3);

	eth_hdr(frame, 0x88b5);
	payload(frame + 14, sizeof(frame) - 14, 5);
	CHECK_EQ(eth_rx(&f, frame, sizeof(frame), 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.index, 0);
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK_EQ(cqe.byte_count, sizeof(frame));
	at = 0;
	for (i = 0; i < 14; i++) {
		p = gpa(&f, buf + 3 + 97 * i);
		CHECK(!memcmp(p, frame + at, odd[i]));
		CHECK_EQ(p[odd[i]], 0xee);
		CHECK_EQ(p[-1], 0xee);
		at += odd[i];
	}
	/* 7 bytes end the first page, the rest start the second. */
	p = gpa(&f, pages[0] + 4096 - 7);
	CHECK(!memcmp(p, frame + at, 7));
	CHECK_EQ(p[-1], 0xee);
	p = gpa(&f, pages[1]);
	CHECK(!memcmp(p, frame + at + 7, sizeof(frame) - at - 7));
	CHECK_EQ(p[sizeof(frame) - at - 7], 0xee);

	CHECK_EQ(eth_rx(&f, frame, sizeof(frame), 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.index, 1);
	CHECK_EQ(cqe.status, DBNIC_ST_BAD_LENGTH);
	CHECK_EQ(cqe.byte_count, 0);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.index, 2);
	CHECK_EQ(cqe.status, DBNIC_ST_OK);
	CHECK(!memcmp(gpa(&f, a[0]), frame, sizeof(frame)));
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX), 2);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX_BUF_SHORT), 0);
	fake_free(&f);
}

/* Admin and doorbell rules of receive queues. */
void test_eth_rq_admin(void)
{
	struct fake f;
	struct hq q, user;
	struct hrq r, r2;
	struct dbnic_admin_cmd cmd;
	uint32_t rqn;
	unsigned int i, made = 0;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hq_create(&f, &user, false, 3, 6);
	hrq_create(&user, &r, 3, 6, 1);
	CHECK_EQ(r.status, DBNIC_AST_BAD_PARAM);	/* unprivileged */
	hrq_create(&q, &r, 3, 6, 1);
	CHECK_EQ(r.status, DBNIC_AST_OK);
	r2 = r;
	CHECK_EQ(hrq_create_on(&r2, 77), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(hrq_create_on(&r2, user.cqn), DBNIC_AST_BAD_PARAM);
	r2.log_size = DBNIC_LOG_RING_MAX + 1;
	CHECK_EQ(hrq_create_on(&r2, r.cqn), DBNIC_AST_BAD_PARAM);
	r2 = r;
	r2.log_stride = 5;
	CHECK_EQ(hrq_create_on(&r2, r.cqn), DBNIC_AST_BAD_PARAM);
	r2 = r;
	r2.base += 8;
	CHECK_EQ(hrq_create_on(&r2, r.cqn), DBNIC_AST_BAD_PARAM);
	r2 = r;
	r2.ctx = 99;
	CHECK_EQ(hrq_create_on(&r2, r.cqn), DBNIC_AST_BAD_HANDLE);
	/* The CQ is busy while an RQ completes to it. */
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CQ, r.cqn), DBNIC_AST_BUSY);
	/* DBNIC_MAX_RQ of them, then no more. */
	r2 = r;
	for (i = 1; i < DBNIC_MAX_RQ + 1; i++)
		if (hrq_create_on(&r2, r.cqn) == DBNIC_AST_OK)
			made++;
	CHECK_EQ(made, DBNIC_MAX_RQ - 1);
	CHECK_EQ(hrq_create_on(&r2, r.cqn), DBNIC_AST_NO_RESOURCE);
	for (rqn = 0; rqn < DBNIC_MAX_RQ; rqn++)
		CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_RQ, rqn), DBNIC_AST_OK);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_RQ, 0), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_RQ, 1000), DBNIC_AST_BAD_HANDLE);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CQ, r.cqn), DBNIC_AST_OK);

	/* Doorbells: a foreign page, no such RQ. */
	hrq_create(&q, &r, 3, 6, 1);
	r2 = r;
	r2.ctx = user.ctx;
	rq_doorbell(&r2, 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_NOT_OWNER), 1);
	r2 = r;
	r2.rqn = 50;
	rq_doorbell(&r2, 1);
	r2.rqn = 0xffff;
	rq_doorbell(&r2, 1);
	CHECK_EQ(counter(&f, DBNIC_CNT_DB_BAD), 2);
	CHECK_EQ(f.rx_ready, 0);

	/* Reset takes RQs away; DESTROY_CTX too. */
	dbnic_core_ctrl_write(&f.core, DBNIC_REG_CTRL, DBNIC_CTRL_RESET, 4);
	CHECK(!dbnic_core_eth_can_rx(&f.core));
	fake_free(&f);
	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hrq_create(&q, &r, 3, 6, 1);
	CHECK(dbnic_core_eth_can_rx(&f.core));
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CTX, q.ctx), DBNIC_AST_OK);
	CHECK(!dbnic_core_eth_can_rx(&f.core));
	/* SET_RSS with a reserved command field is no different: sanity. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_SET_RSS;
	cmd.set_rss.ctx = q.ctx;
	CHECK_EQ(admin(&f, &cmd, NULL), DBNIC_AST_BAD_HANDLE);
	fake_free(&f);
}

static uint8_t set_rss(struct fake *f, uint32_t ctx, uint32_t types,
		       const uint16_t *table, uint64_t *where)
{
	struct dbnic_admin_cmd cmd;
	struct dbnic_rss_config cfg;
	unsigned int i;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < DBNIC_RSS_KEY_SIZE; i++)
		cfg.key[i] = (uint8_t)(i * 7 + 1);
	cfg.hash_types = types;
	for (i = 0; table && i < DBNIC_RSS_TABLE_SIZE; i++)
		cfg.table[i] = table[i];
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_SET_RSS;
	cmd.set_rss.ctx = ctx;
	cmd.set_rss.config = table ? guest_copy(f, &cfg, sizeof(cfg)) : 0;
	if (where)
		*where = cmd.set_rss.config;
	return admin(f, &cmd, NULL);
}

/* RSS: the table picks the RQ by hash; the CQE reports hash and type. */
void test_eth_rss(void)
{
	struct fake f;
	struct hq q, user;
	struct hrq r[4], ur;
	struct dbnic_rx_cqe cqe;
	uint16_t table[DBNIC_RSS_TABLE_SIZE];
	uint8_t frame[60], key[DBNIC_RSS_KEY_SIZE];
	uint32_t types, hash;
	uint64_t at;
	unsigned int i, k;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hq_create(&f, &user, false, 3, 6);
	for (i = 0; i < 4; i++) {
		hrq_create(&q, &r[i], 4, 6, 1 + i % 3);
		CHECK_EQ(r[i].status, DBNIC_AST_OK);
		for (k = 0; k < 8; k++)
			recv_post(&r[i], 64);
	}
	for (i = 0; i < DBNIC_RSS_TABLE_SIZE; i++)
		table[i] = r[(i + 1) % 4].rqn;
	memset(frame, 0, sizeof(frame));
	eth_hdr(frame, 0x0800);

	/* RSS off: the lowest RQ, no hash. */
	CHECK(!dbnic_core_eth_rss(&f.core, key, &types));
	CHECK_EQ(types, 0);
	CHECK_EQ(eth_rx(&f, frame, 60, 77, DBNIC_RSS_HASH_TCP_IPV4, 0),
		 DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r[0], &cqe));
	CHECK_EQ(cqe.hash_type, DBNIC_RSS_HASH_NONE);

	/* Bad configurations change nothing. */
	CHECK_EQ(set_rss(&f, user.ctx, 0, table, NULL), DBNIC_AST_BAD_PARAM);
	CHECK_EQ(set_rss(&f, q.ctx, 1u << DBNIC_RSS_HASH_NUM, table, NULL),
		 DBNIC_AST_BAD_PARAM);
	table[5] = 40;				/* no such RQ */
	CHECK_EQ(set_rss(&f, q.ctx, 0, table, NULL), DBNIC_AST_BAD_PARAM);
	hrq_create(&user, &ur, 3, 6, 1);	/* refused: unprivileged */
	table[5] = r[2].rqn;
	CHECK_EQ(set_rss(&f, 77, 0, table, NULL), DBNIC_AST_BAD_HANDLE);
	/* Another privileged context may not name q's RQs. */
	CHECK_EQ(set_rss(&f, create_ctx(&f, true), 0, table, NULL),
		 DBNIC_AST_BAD_PARAM);
	CHECK(!dbnic_core_eth_rss(&f.core, key, &types));

	types = 1u << DBNIC_RSS_HASH_TCP_IPV4 | 1u << DBNIC_RSS_HASH_UDP_IPV6;
	CHECK_EQ(set_rss(&f, q.ctx, types, table, &at), DBNIC_AST_OK);
	CHECK(dbnic_core_eth_rss(&f.core, key, &types));
	CHECK_EQ(types,
		 1u << DBNIC_RSS_HASH_TCP_IPV4 | 1u << DBNIC_RSS_HASH_UDP_IPV6);
	CHECK_EQ(key[3], 22);
	for (hash = 0x10000; hash < 0x10000 + 8; hash++) {
		unsigned int want = (hash % DBNIC_RSS_TABLE_SIZE + 1) % 4;

		CHECK_EQ(eth_rx(&f, frame, 60, hash, DBNIC_RSS_HASH_TCP_IPV4,
				0), DBNIC_ETH_RX_DONE);
		CHECK(rx_cq_poll(&r[want], &cqe));
		CHECK_EQ(cqe.rss_hash, hash);
		CHECK_EQ(cqe.hash_type, DBNIC_RSS_HASH_TCP_IPV4);
		CHECK_EQ(cqe.qid, r[want].rqn);
	}
	/* A type not enabled, or unknown: table[0], reported as NONE. */
	CHECK_EQ(eth_rx(&f, frame, 60, 3, DBNIC_RSS_HASH_IPV4, 0),
		 DBNIC_ETH_RX_DONE);
	CHECK_EQ(eth_rx(&f, frame, 60, 3, 200, 0), DBNIC_ETH_RX_DONE);
	for (i = 0; i < 2; i++) {
		CHECK(rx_cq_poll(&r[1], &cqe));
		CHECK_EQ(cqe.hash_type, DBNIC_RSS_HASH_NONE);
		CHECK_EQ(cqe.rss_hash, 0);
	}
	/* The table names it: it stays. */
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_RQ, r[2].rqn), DBNIC_AST_BUSY);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_RQ, r[0].rqn), DBNIC_AST_BUSY);
	CHECK_EQ(set_rss(&f, q.ctx, 0, NULL, NULL), DBNIC_AST_OK);
	CHECK(!dbnic_core_eth_rss(&f.core, key, &types));
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_RQ, r[0].rqn), DBNIC_AST_OK);
	/* Off again: the lowest RQ still in use. */
	CHECK_EQ(eth_rx(&f, frame, 60, 5, DBNIC_RSS_HASH_TCP_IPV4, 0),
		 DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r[1], &cqe));
	CHECK_EQ(cqe.hash_type, DBNIC_RSS_HASH_NONE);
	/* DESTROY_CTX of the context that set RSS turns it off. */
	for (i = 0; i < DBNIC_RSS_TABLE_SIZE; i++)
		table[i] = r[1].rqn;
	CHECK_EQ(set_rss(&f, q.ctx, types, table, NULL), DBNIC_AST_OK);
	CHECK_EQ(destroy(&f, DBNIC_ADM_DESTROY_CTX, q.ctx), DBNIC_AST_OK);
	CHECK(!dbnic_core_eth_rss(&f.core, key, &types));
	(void)at;
	fake_free(&f);
}

/* The glue's checksum bits: contradictions read as "not checked". */
void test_eth_rx_meta_sanitised(void)
{
	struct fake f;
	struct hq q;
	struct hrq r;
	struct dbnic_rx_cqe cqe;
	uint8_t frame[60];

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hrq_create(&q, &r, 3, 6, 1);
	recv_post(&r, 64);
	recv_post(&r, 64);
	memset(frame, 0, sizeof(frame));
	eth_hdr(frame, 0x86dd);
	CHECK_EQ(eth_rx(&f, frame, 60, ~0u, 0xff, 0xff), DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.rx_flags, 0);
	CHECK_EQ(cqe.hash_type, DBNIC_RSS_HASH_NONE);
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, DBNIC_RX_L4_BAD | DBNIC_RX_IP_OK |
			DBNIC_RX_IP_BAD | 0x40), DBNIC_ETH_RX_DONE);
	CHECK(rx_cq_poll(&r, &cqe));
	CHECK_EQ(cqe.rx_flags, DBNIC_RX_L4_BAD);
	fake_free(&f);
}

/* An RQ whose CQ is in the error state takes no frames. */
void test_eth_rx_cq_error(void)
{
	struct fake f;
	struct hq q;
	struct hrq r;
	uint8_t frame[60];
	unsigned int i;

	fake_init(&f);
	hq_create(&f, &q, true, 3, 6);
	hrq_create(&q, &r, 7, 6, 1);
	memset(frame, 0, sizeof(frame));
	eth_hdr(frame, 0x0800);
	for (i = 0; i < 70; i++)
		recv_post(&r, 64);
	/* A CQ of 64 entries that the host never reads. */
	for (i = 0; i < 64; i++)
		CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK_EQ(counter(&f, DBNIC_CNT_CQ_OVERFLOW), 0);
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_DONE);
	CHECK_EQ(counter(&f, DBNIC_CNT_CQ_OVERFLOW), 1);
	CHECK_EQ(eth_rx(&f, frame, 60, 0, 0, 0), DBNIC_ETH_RX_NOBUF);
	CHECK_EQ(counter(&f, DBNIC_CNT_ETH_RX), 65);
	fake_free(&f);
}

/* ETH_TX under the timing model: inline frames read nothing. */
void test_eth_tx_timing(void)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	uint8_t frame[100];
	uint64_t a, t0;
	uint32_t l = 100;

	harness_db_latency_ns = 250;
	harness_dma_latency_ns = 500;
	harness_desc_ns = 100;
	fake_init(&f);
	hq_create(&f, &q, true, 3, 8);
	memset(frame, 0, sizeof(frame));
	eth_hdr(frame, 0x0800);
	a = guest_copy(&f, frame, 100);

	/* From the priority lane, inline: db + desc, nothing else. */
	desc_eth_tx_inline(&d, &q, frame, 100);
	t0 = f.now;
	post_prio(&q, &d, NULL);
	fake_advance(&f, 349);
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	fake_advance(&f, 1);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(f.now - t0, 350);
	/* Ring, SGE: db + fetch + desc + payload read. */
	desc_eth_tx(&d, &q, 0, 0, &a, &l, 1);
	t0 = f.now;
	post_ring(&q, &d);
	fake_advance(&f, 1349);
	fake_run(&f);
	CHECK(!cq_poll(&q, &cqe));
	fake_advance(&f, 1);
	fake_run(&f);
	CHECK(cq_poll(&q, &cqe));
	CHECK_EQ(f.now - t0, 1350);
	fake_free(&f);
}
