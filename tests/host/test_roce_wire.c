/*
 * Unit tests of the core's RoCEv2 wire library (dbnic_roce_wire.[ch]):
 * build -> parse round trips for every opcode, IP version and VLAN or
 * none; the ICRC against zlib's CRC-32 of the formula in the issue 9
 * design (section 3) and against frames Linux rxe sent; every reason a
 * frame is refused; every truncation of a good frame; PSN wrap; the demux
 * test.  zlib is used here only, as the independent CRC.  The rxe vectors
 * come from tests/host/pcap-to-vectors.py.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "harness.h"
#include "test_roce_wire.h"
#include "dbnic_roce_wire.h"

static const uint8_t all_ops[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
	0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x64, 0x65,
};

#define FRAME_MAX	(DBNIC_ROCE_MAX_HDR + 4096 + 8)

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed * 101 + (i >> 7));
}

static void addr_init(struct dbnic_roce_addr *a, unsigned int ipver,
		      bool vlan)
{
	static const uint8_t v6s[16] = { 0xfd, 0x00, 0xdb, 0x1c, 0, 0, 0, 0,
					 0, 0, 0, 0, 0, 0, 0, 0x01 };
	static const uint8_t v6d[16] = { 0xfd, 0x00, 0xdb, 0x1c, 0, 0, 0, 0,
					 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
					 0xde, 0xf0 };

	memset(a, 0, sizeof(*a));
	memcpy(a->dmac, "\x52\x54\x00\xaa\xbb\xcc", 6);
	memcpy(a->smac, "\x52\x54\x00\x12\x34\x56", 6);
	a->vlan = vlan ? 0xa123 : DBNIC_ROCE_NO_VLAN;	/* PCP 5, VID 0x123 */
	a->ipver = ipver;
	a->tclass = 0x68;
	a->hop_limit = 64;
	a->udp_sport = 0xc0de;
	if (ipver == 6) {
		a->flow_label = 0xabcde;
		memcpy(a->sgid, v6s, 16);
		memcpy(a->dgid, v6d, 16);
	} else {
		a->ip_id = 0x1234;
		/* v4-mapped 10.0.2.15 -> 10.0.2.16, as the GID table holds */
		memcpy(a->sgid, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00\x02\x0f", 16);
		memcpy(a->dgid, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00\x02\x10", 16);
	}
}

static void hdr_init(struct dbnic_roce_hdr *h, uint8_t opcode)
{
	memset(h, 0, sizeof(*h));
	h->opcode = opcode;
	h->se = 1;
	h->pkey = 0xffff;
	h->dqpn = 0x00a0b1;
	h->ackreq = 1;
	h->psn = 0xfffffe;
	h->reth.va = 0x0123456789abcdefull;
	h->reth.rkey = 0x00c0ffee;
	h->reth.dma_len = 65536;
	h->aeth.syndrome = DBNIC_AETH_ACK_NO_CREDIT;
	h->aeth.msn = 0x00beef;
	h->imm = 0xdeadbeef;
	h->deth.qkey = 0x11111111;
	h->deth.src_qpn = 0x001234;
}

/* A whole frame: headers, payload (fill(seed)), pad, ICRC; its length. */
static size_t build_frame(uint8_t *buf, size_t size,
			  const struct dbnic_roce_addr *a,
			  const struct dbnic_roce_hdr *h, uint32_t plen,
			  unsigned int seed)
{
	uint8_t *payload = malloc(plen + 1);
	uint32_t crc;
	size_t n;

	fill(payload, plen, seed);
	n = dbnic_roce_build(buf, size, a, h, plen, &crc);
	if (n) {
		crc = dbnic_roce_icrc_copy(crc, buf + n, payload, plen);
		n += plen;
		n += dbnic_roce_icrc_finish(buf + n, crc, dbnic_roce_pad(plen));
	}
	free(payload);
	return n;
}

/*
 * The design's formula (issue9-design.md section 3), computed with zlib:
 * ICRC = crc32(0, ff*8 || masked IP/UDP/BTH || ETHs || payload || pad),
 * stored least significant byte first.  The masks are written out from
 * the design's list, not shared with the library.
 */
static uint32_t icrc_formula(const uint8_t *frame, size_t l3, bool v6,
			     size_t end)
{
	uint8_t *m = malloc(end - l3 + 8);
	size_t iph = v6 ? 40 : 20, n = end - l3;
	uLong crc;

	memset(m, 0xff, 8);
	memcpy(m + 8, frame + l3, n);
	if (v6) {
		m[8 + 0] |= 0x0f;	/* traffic class, high nibble */
		m[8 + 1] = 0xff;	/* traffic class low, flow label */
		m[8 + 2] = 0xff;
		m[8 + 3] = 0xff;
		m[8 + 7] = 0xff;	/* hop limit */
	} else {
		m[8 + 1] = 0xff;	/* TOS */
		m[8 + 8] = 0xff;	/* TTL */
		m[8 + 10] = 0xff;	/* header checksum */
		m[8 + 11] = 0xff;
	}
	m[8 + iph + 6] = 0xff;		/* UDP checksum */
	m[8 + iph + 7] = 0xff;
	m[8 + iph + 8 + 4] = 0xff;	/* BTH resv8a (FECN, BECN) */
	crc = crc32(0, m, (uInt)(n + 8));
	free(m);
	return (uint32_t)crc;
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Fix an IPv4 header checksum after a test changed the header. */
static void ipv4_fix_csum(uint8_t *ip)
{
	uint32_t sum = 0;
	unsigned int i;

	ip[10] = ip[11] = 0;
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
}

/* Recompute the ICRC of a frame whose covered bytes a test changed. */
static void fix_icrc(uint8_t *frame, size_t l3, bool v6, size_t end)
{
	uint32_t icrc = icrc_formula(frame, l3, v6, end - 4);

	frame[end - 4] = (uint8_t)icrc;
	frame[end - 3] = (uint8_t)(icrc >> 8);
	frame[end - 2] = (uint8_t)(icrc >> 16);
	frame[end - 1] = (uint8_t)(icrc >> 24);
}

/* ---- CRC ---- */

void test_roce_crc32_vs_zlib(void)
{
	uint8_t buf[300], ff[8];
	size_t off, len;

	fill(buf, sizeof(buf), 7);
	/* Every length 0..64 and a few long ones, at every alignment mod 8. */
	for (off = 0; off < 8; off++) {
		for (len = 0; len + off <= sizeof(buf);
		     len += len < 64 ? 1 : 37) {
			uint32_t want = (uint32_t)crc32(0, buf + off,
							(uInt)len);

			CHECK_EQ(~dbnic_crc32_raw(0xffffffffu, buf + off, len),
				 want);
		}
	}
	/* Chunked updates give the same state as one. */
	CHECK_EQ(dbnic_roce_icrc_update(dbnic_crc32_raw(0x12345678, buf, 13),
					buf + 13, 200),
		 dbnic_crc32_raw(0x12345678, buf, 213));
	/* rxe's seed is the state after 8 bytes of 0xff (the masked LRH). */
	memset(ff, 0xff, sizeof(ff));
	CHECK_EQ(dbnic_crc32_raw(0xffffffffu, ff, 8), DBNIC_ROCE_ICRC_SEED);
	CHECK_EQ(~(uint32_t)crc32(0, ff, 8), DBNIC_ROCE_ICRC_SEED);
}

/* ---- round trips ---- */

static void check_round_trip(unsigned int ipver, bool vlan, uint8_t op,
			     uint32_t plen)
{
	static uint8_t frame[FRAME_MAX];
	struct dbnic_roce_addr a;
	struct dbnic_roce_hdr h;
	struct dbnic_roce_pkt pkt;
	uint8_t flags = dbnic_roce_op_info(op), want[4096];
	size_t n, l3 = vlan ? 18 : 14, iph = ipver == 6 ? 40 : 20;
	unsigned int pad = dbnic_roce_pad(plen);

	addr_init(&a, ipver, vlan);
	hdr_init(&h, op);
	memset(frame, 0x5a, sizeof(frame));
	n = build_frame(frame, sizeof(frame), &a, &h, plen, op);
	CHECK(n > 0);
	CHECK_EQ(n, l3 + iph + 8 + 12 + dbnic_roce_ext_len(flags) + plen +
		    pad + 4);
	CHECK_EQ(dbnic_roce_parse(frame, n, &pkt), DBNIC_ROCE_OK);

	/* Every field the sender chose comes back. */
	CHECK(memcmp(pkt.addr.dmac, a.dmac, 6) == 0);
	CHECK(memcmp(pkt.addr.smac, a.smac, 6) == 0);
	CHECK_EQ(pkt.addr.vlan, a.vlan);
	CHECK_EQ(pkt.addr.ipver, a.ipver);
	CHECK_EQ(pkt.addr.tclass, a.tclass);
	CHECK_EQ(pkt.addr.hop_limit, a.hop_limit);
	CHECK_EQ(pkt.addr.flow_label, a.flow_label);
	CHECK_EQ(pkt.addr.udp_sport, a.udp_sport);
	CHECK_EQ(pkt.addr.ip_id, a.ip_id);
	CHECK(memcmp(pkt.addr.sgid, a.sgid, 16) == 0);
	CHECK(memcmp(pkt.addr.dgid, a.dgid, 16) == 0);
	CHECK_EQ(pkt.hdr.opcode, op);
	CHECK_EQ(pkt.flags, flags);
	CHECK_EQ(pkt.hdr.se, 1);
	CHECK_EQ(pkt.hdr.mig, 0);
	CHECK_EQ(pkt.hdr.pad, pad);
	CHECK_EQ(pkt.tver, 0);
	CHECK_EQ(pkt.hdr.pkey, 0xffff);
	CHECK_EQ(pkt.hdr.dqpn, h.dqpn);
	CHECK_EQ(pkt.hdr.ackreq, 1);
	CHECK_EQ(pkt.hdr.psn, h.psn);
	if (flags & DBNIC_ROCE_OPF_RETH) {
		CHECK(pkt.hdr.reth.va == h.reth.va);
		CHECK_EQ(pkt.hdr.reth.rkey, h.reth.rkey);
		CHECK_EQ(pkt.hdr.reth.dma_len, h.reth.dma_len);
	} else {
		CHECK(pkt.hdr.reth.va == 0 && pkt.hdr.reth.rkey == 0);
	}
	if (flags & DBNIC_ROCE_OPF_AETH) {
		CHECK_EQ(pkt.hdr.aeth.syndrome, h.aeth.syndrome);
		CHECK_EQ(pkt.hdr.aeth.msn, h.aeth.msn);
	} else {
		CHECK_EQ(pkt.hdr.aeth.msn, 0);
	}
	CHECK_EQ(pkt.hdr.imm, flags & DBNIC_ROCE_OPF_IMMDT ? h.imm : 0);
	if (flags & DBNIC_ROCE_OPF_DETH) {
		CHECK_EQ(pkt.hdr.deth.qkey, h.deth.qkey);
		CHECK_EQ(pkt.hdr.deth.src_qpn, h.deth.src_qpn);
	} else {
		CHECK_EQ(pkt.hdr.deth.qkey, 0);
	}

	/* Offsets and the payload span. */
	CHECK_EQ(pkt.l3_off, l3);
	CHECK_EQ(pkt.udp_off, l3 + iph);
	CHECK_EQ(pkt.bth_off, l3 + iph + 8);
	CHECK_EQ(pkt.payload_off, pkt.bth_off + 12 + dbnic_roce_ext_len(flags));
	CHECK_EQ(pkt.payload_len, plen);
	CHECK_EQ(pkt.frame_len, n);
	fill(want, plen, op);
	CHECK(memcmp(frame + pkt.payload_off, want, plen) == 0);
	CHECK(memcmp(frame + pkt.payload_off + plen, "\0\0\0", pad) == 0);

	/* Fixed encapsulation fields (design section 3, rxe_net.c). */
	CHECK_EQ(frame[12] << 8 | frame[13], vlan ? 0x8100 : (ipver == 6 ?
						       0x86dd : 0x0800));
	if (ipver == 4)
		CHECK_EQ(frame[l3 + 6], 0x40);		/* DF */
	CHECK_EQ(frame[l3 + iph + 2] << 8 | frame[l3 + iph + 3], 4791);
	CHECK_EQ(frame[l3 + iph + 6] | frame[l3 + iph + 7], 0);	/* no csum */
	CHECK_EQ(frame[l3 + iph + 8 + 4], 0);		/* resv8a */

	/* The ICRC is the design's formula, computed by zlib. */
	CHECK_EQ(le32_at(frame + n - 4), icrc_formula(frame, l3, ipver == 6,
						      n - 4));
	CHECK_EQ(pkt.icrc, le32_at(frame + n - 4));
	/* The demux test agrees, and names the destination GID. */
	{
		uint8_t dgid[16];

		CHECK_EQ(dbnic_roce_demux(frame, n, dgid), ipver);
		CHECK(memcmp(dgid, a.dgid, 16) == 0);
	}
	/* A UD receive's 40-byte "GRH": the IPv6 header, or 20 zero bytes
	 * and the IPv4 header (rxe_resp.c, union rdma_network_hdr) */
	if (flags & DBNIC_ROCE_OPF_DETH) {
		uint8_t grh[DBNIC_ROCE_GRH_LEN];

		memset(grh, 0x77, sizeof(grh));
		dbnic_roce_grh(frame, &pkt, grh);
		if (ipver == 6) {
			CHECK(memcmp(grh, frame + l3, 40) == 0);
		} else {
			CHECK(memcmp(grh, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20) == 0);
			CHECK(memcmp(grh + 20, frame + l3, 20) == 0);
		}
	}
	/* Ethernet padding or an FCS after the packet is not part of it. */
	CHECK_EQ(dbnic_roce_parse(frame, n + 8, &pkt), DBNIC_ROCE_OK);
	CHECK_EQ(pkt.frame_len, n);
	CHECK_EQ(pkt.payload_len, plen);
}

void test_roce_round_trip_all_opcodes(void)
{
	static const uint32_t lens[] = { 1, 2, 3, 4, 5, 255, 1024, 4093, 4096 };
	unsigned int v, o, l;

	for (v = 0; v < 4; v++) {
		for (o = 0; o < sizeof(all_ops); o++) {
			uint8_t op = all_ops[o];

			if (!(dbnic_roce_op_info(op) & DBNIC_ROCE_OPF_PAYLOAD)) {
				check_round_trip(v & 1 ? 6 : 4, v & 2, op, 0);
				if (t_failed)
					goto fail;
				continue;
			}
			for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				check_round_trip(v & 1 ? 6 : 4, v & 2, op,
						 lens[l]);
				if (t_failed)
					goto fail;
			}
			check_round_trip(v & 1 ? 6 : 4, v & 2, op, 0);
			if (t_failed)
				goto fail;
		}
	}
	return;
fail:
	fprintf(stderr, "    ipver %u vlan %u opcode 0x%02x\n",
		v & 1 ? 6 : 4, !!(v & 2), all_ops[o]);
}

/* The opcode table: IBTA's header sets, as rxe_opcode.c has them. */
void test_roce_opcode_table(void)
{
	static const struct {
		uint8_t op;
		unsigned int ext;	/* ETH bytes after the BTH */
		bool payload;
	} t[] = {
		{ 0x00, 0, true }, { 0x01, 0, true }, { 0x02, 0, true },
		{ 0x03, 4, true }, { 0x04, 0, true }, { 0x05, 4, true },
		{ 0x06, 16, true }, { 0x07, 0, true }, { 0x08, 0, true },
		{ 0x09, 4, true }, { 0x0a, 16, true }, { 0x0b, 20, true },
		{ 0x0c, 16, false }, { 0x0d, 4, true }, { 0x0e, 0, true },
		{ 0x0f, 4, true }, { 0x10, 4, true }, { 0x11, 4, false },
		{ 0x64, 8, true }, { 0x65, 12, true },
	};
	unsigned int i, op, known = 0;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t f = dbnic_roce_op_info(t[i].op);

		CHECK(f & DBNIC_ROCE_OPF_VALID);
		CHECK_EQ(dbnic_roce_ext_len(f), t[i].ext);
		CHECK_EQ(!!(f & DBNIC_ROCE_OPF_PAYLOAD), t[i].payload);
	}
	/* FIRST/LAST marks: ONLY is both, MIDDLE neither. */
	CHECK_EQ(dbnic_roce_op_info(0x04) & (DBNIC_ROCE_OPF_FIRST |
					     DBNIC_ROCE_OPF_LAST),
		 DBNIC_ROCE_OPF_FIRST | DBNIC_ROCE_OPF_LAST);
	CHECK_EQ(dbnic_roce_op_info(0x0e) & (DBNIC_ROCE_OPF_FIRST |
					     DBNIC_ROCE_OPF_LAST), 0);
	CHECK_EQ(dbnic_roce_op_info(0x06) & (DBNIC_ROCE_OPF_FIRST |
					     DBNIC_ROCE_OPF_LAST),
		 DBNIC_ROCE_OPF_FIRST);
	CHECK_EQ(dbnic_roce_op_info(0x0f) & (DBNIC_ROCE_OPF_FIRST |
					     DBNIC_ROCE_OPF_LAST),
		 DBNIC_ROCE_OPF_LAST);
	/* Exactly these 20 of 256 are known. */
	for (op = 0; op < 256; op++)
		known += dbnic_roce_op_info((uint8_t)op) != 0;
	CHECK_EQ(known, 20);
}

/* ---- ICRC masks ---- */

/*
 * Each byte the ICRC masks may change in flight without breaking it; each
 * byte it covers breaks it.  Frame: IPv4 or IPv6, UD SEND_ONLY_IMM with 5
 * bytes of payload (so 3 pad bytes).
 */
static void check_icrc_coverage(unsigned int ipver)
{
	uint8_t frame[256], copy[256];
	struct dbnic_roce_addr a;
	struct dbnic_roce_hdr h;
	struct dbnic_roce_pkt pkt;
	size_t n, l3 = 14, iph = ipver == 6 ? 40 : 20, i;
	size_t udp = l3 + iph, bth = udp + 8;

	addr_init(&a, ipver, false);
	hdr_init(&h, DBNIC_ROCE_UD_SEND_ONLY_IMM);
	n = build_frame(frame, sizeof(frame), &a, &h, 5, 1);
	CHECK(n > 0);
	for (i = l3; i < n - 4; i++) {
		bool masked, ip_csum;
		enum dbnic_roce_err e;

		if (ipver == 6)
			masked = i == l3 + 1 || i == l3 + 2 || i == l3 + 3 ||
				 i == l3 + 7;
		else
			masked = i == l3 + 1 || i == l3 + 8 || i == l3 + 10 ||
				 i == l3 + 11;
		masked |= i == udp + 6 || i == udp + 7 || i == bth + 4;
		/* Bytes whose change the parser refuses before the ICRC. */
		if (i < l3 + iph && !masked && ipver == 6)
			continue;	/* version, length, next header, addrs:
					   the address bytes are below */
		if (i == l3 || (ipver == 4 && (i == l3 + 2 || i == l3 + 3 ||
					       i == l3 + 6 || i == l3 + 7 ||
					       i == l3 + 9)))
			continue;	/* version/IHL, length, frag, proto */
		if (i >= udp + 2 && i < udp + 6)
			continue;	/* UDP port, length */
		if (i == bth || i == bth + 1)
			continue;	/* opcode, pad/TVer */
		memcpy(copy, frame, n);
		copy[i] ^= 0x01;
		ip_csum = ipver == 4 && i < l3 + iph;
		if (ip_csum && i != l3 + 10 && i != l3 + 11)
			ipv4_fix_csum(copy + l3);
		if (ip_csum && (i == l3 + 10 || i == l3 + 11))
			continue;	/* a wrong IPv4 checksum: refused first */
		e = dbnic_roce_parse(copy, n, &pkt);
		if (e != (masked ? DBNIC_ROCE_OK : DBNIC_ROCE_E_ICRC)) {
			fprintf(stderr, "    IPv%u byte %zu (%s): %s\n", ipver,
				i, masked ? "masked" : "covered",
				dbnic_roce_err_name(e));
			CHECK(0);
		}
	}
	/* The IPv6 addresses are covered too (skipped above for brevity). */
	if (ipver == 6) {
		for (i = l3 + 8; i < l3 + 40; i++) {
			memcpy(copy, frame, n);
			copy[i] ^= 0x80;
			CHECK_EQ(dbnic_roce_parse(copy, n, &pkt),
				 DBNIC_ROCE_E_ICRC);
		}
		/* IPv6 version nibble: refused as not IP. */
	}
	/* The whole traffic class and flow label are masked, every bit. */
	if (ipver == 6) {
		memcpy(copy, frame, n);
		copy[l3] = 0x6f;
		CHECK_EQ(dbnic_roce_parse(copy, n, &pkt), DBNIC_ROCE_OK);
		CHECK_EQ(pkt.addr.tclass, 0xf8);
	}
	/* SE and MigReq share the byte of the pad count and TVer: covered. */
	memcpy(copy, frame, n);
	copy[bth + 1] ^= 0xc0;
	CHECK_EQ(dbnic_roce_parse(copy, n, &pkt), DBNIC_ROCE_E_ICRC);
	/* The ICRC bytes themselves. */
	for (i = n - 4; i < n; i++) {
		memcpy(copy, frame, n);
		copy[i] ^= 0x10;
		CHECK_EQ(dbnic_roce_parse(copy, n, &pkt), DBNIC_ROCE_E_ICRC);
	}
}

void test_roce_icrc_masks(void)
{
	check_icrc_coverage(4);
	if (!t_failed)
		check_icrc_coverage(6);
}

/* ---- vectors from Linux rxe ---- */

/*
 * Frames Linux rxe sent between two guests, one of each kind (shortest;
 * the IPv4 SEND_ONLY has 2 pad bytes); how they were captured is at the
 * top of the generated header.  All 6291 RoCE frames of those captures
 * parse with a good ICRC (checked by hand when the vectors were made).
 */
#include "roce_rxe_vectors.h"

void test_roce_rxe_frames(void)
{
	unsigned int i;

	CHECK(sizeof(rxe_vectors) / sizeof(rxe_vectors[0]) > 0);
	for (i = 0; i < sizeof(rxe_vectors) / sizeof(rxe_vectors[0]); i++) {
		const struct rxe_vector *v = &rxe_vectors[i];
		struct dbnic_roce_pkt pkt;
		enum dbnic_roce_err e;
		uint8_t *copy;

		e = dbnic_roce_parse(v->frame, v->len, &pkt);
		if (e != DBNIC_ROCE_OK) {
			fprintf(stderr, "    %s: %s\n", v->name,
				dbnic_roce_err_name(e));
			CHECK(0);
		}
		CHECK_EQ(pkt.hdr.opcode, v->opcode);
		CHECK_EQ(pkt.addr.ipver, v->ipver);
		CHECK_EQ(pkt.payload_len, v->payload_len);
		CHECK_EQ(pkt.hdr.psn, v->psn);
		CHECK_EQ(pkt.hdr.dqpn, v->dqpn);
		/* The library's ICRC equals the one rxe wrote ... */
		CHECK_EQ(pkt.icrc, le32_at(v->frame + pkt.frame_len - 4));
		/* ... and so does the design's zlib formula. */
		CHECK_EQ(icrc_formula(v->frame, pkt.l3_off,
				      pkt.addr.ipver == 6,
				      pkt.frame_len - 4), pkt.icrc);
		/* One flipped payload or header bit is caught. */
		copy = malloc(v->len);
		memcpy(copy, v->frame, v->len);
		copy[pkt.frame_len - 5] ^= 0x04;
		CHECK_EQ(dbnic_roce_parse(copy, v->len, &pkt),
			 DBNIC_ROCE_E_ICRC);
		free(copy);
		/*
		 * Built from the parsed fields (the IPv4 ID is rxe's random
		 * one, copied) with the payload, the frame is rxe's, byte for
		 * byte, ICRC and all: our sender is bit compatible.
		 */
		{
			static uint8_t again[FRAME_MAX];
			uint32_t crc;
			size_t n, j;

			CHECK_EQ(dbnic_roce_parse(v->frame, v->len, &pkt),
				 DBNIC_ROCE_OK);
			n = dbnic_roce_build(again, sizeof(again), &pkt.addr,
					     &pkt.hdr, pkt.payload_len, &crc);
			CHECK_EQ(n, pkt.payload_off);
			crc = dbnic_roce_icrc_copy(crc, again + n,
						   v->frame + n,
						   pkt.payload_len);
			n += pkt.payload_len;
			n += dbnic_roce_icrc_finish(again + n, crc,
						    dbnic_roce_pad(pkt.payload_len));
			CHECK_EQ(n, v->len);
			for (j = 0; j < n && again[j] == v->frame[j]; j++)
				;
			if (j != n) {
				fprintf(stderr, "    %s: byte %zu differs\n",
					v->name, j);
				CHECK(0);
			}
		}
	}
}

/* ---- refusals ---- */

struct bad_case {
	const char *what;
	enum dbnic_roce_err want;
};

/* A fresh good IPv4 RC SEND_ONLY frame with 8 bytes of payload. */
static size_t good4(uint8_t *f, size_t size, uint8_t op, uint32_t plen)
{
	struct dbnic_roce_addr a;
	struct dbnic_roce_hdr h;

	addr_init(&a, 4, false);
	hdr_init(&h, op);
	return build_frame(f, size, &a, &h, plen, 3);
}

/*
 * Insert k zero bytes before the ICRC of an untagged IPv4 frame of n
 * bytes, fixing the IP and UDP lengths, the IP checksum and the ICRC.
 */
static size_t grow4(uint8_t *f, size_t n, unsigned int k)
{
	unsigned int tot = (unsigned int)(f[16] << 8 | f[17]) + k;
	unsigned int ulen = (unsigned int)(f[38] << 8 | f[39]) + k;

	memset(f + n - 4, 0, k + 4);
	f[16] = (uint8_t)(tot >> 8);
	f[17] = (uint8_t)tot;
	ipv4_fix_csum(f + 14);
	f[38] = (uint8_t)(ulen >> 8);
	f[39] = (uint8_t)ulen;
	fix_icrc(f, 14, false, n + k);
	return n + k;
}

void test_roce_refusals(void)
{
	uint8_t f[512];
	struct dbnic_roce_pkt pkt;
	size_t n;
	const size_t l3 = 14, udp = 34, bth = 42;

	/* short: inside Ethernet, the VLAN tag, IPv4, IPv6, UDP; IP length */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	CHECK_EQ(dbnic_roce_parse(f, 13, &pkt), DBNIC_ROCE_E_SHORT);
	CHECK_EQ(dbnic_roce_parse(f, 33, &pkt), DBNIC_ROCE_E_SHORT);
	CHECK_EQ(dbnic_roce_parse(f, 41, &pkt), DBNIC_ROCE_E_SHORT);
	CHECK_EQ(dbnic_roce_parse(f, n - 1, &pkt), DBNIC_ROCE_E_SHORT);
	{
		uint8_t g[64];

		memcpy(g, f, 12);
		g[12] = 0x81; g[13] = 0x00; g[14] = 0; g[15] = 5;
		CHECK_EQ(dbnic_roce_parse(g, 17, &pkt), DBNIC_ROCE_E_SHORT);
		g[16] = 0x86; g[17] = 0xdd;
		memset(g + 18, 0, 30);
		g[18] = 0x60;
		CHECK_EQ(dbnic_roce_parse(g, 18 + 39, &pkt),
			 DBNIC_ROCE_E_SHORT);
	}

	/* not IP: ARP, a second VLAN tag, IPv4 ethertype with version 6 */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[12] = 0x08; f[13] = 0x06;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_NOT_IP);
	CHECK_EQ(dbnic_roce_demux(f, n, NULL), 0);
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[l3] = 0x65;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_NOT_IP);

	/* IPv4 options (IHL 6), and IHL 4 */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[l3] = 0x46;
	ipv4_fix_csum(f + l3);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_IP_OPTIONS);
	CHECK_EQ(dbnic_roce_demux(f, n, NULL), 0);	/* Ethernet's */
	f[l3] = 0x44;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_IP_OPTIONS);

	/* fragments: MF, and an offset; DF alone is fine */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[l3 + 6] = 0x20;
	ipv4_fix_csum(f + l3);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_IP_FRAGMENT);
	CHECK_EQ(dbnic_roce_demux(f, n, NULL), 0);
	f[l3 + 6] = 0x40;
	f[l3 + 7] = 0x01;
	ipv4_fix_csum(f + l3);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_IP_FRAGMENT);

	/* IPv4 header checksum */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[l3 + 11] ^= 1;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_IP_CSUM);
	/* ... which the cheap demux test does not look at */
	CHECK_EQ(dbnic_roce_demux(f, n, NULL), 4);

	/* not UDP (TCP) */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[l3 + 9] = 6;
	ipv4_fix_csum(f + l3);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_NOT_UDP);
	CHECK_EQ(dbnic_roce_demux(f, n, NULL), 0);

	/* IP total length below IP + UDP headers */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[l3 + 2] = 0;
	f[l3 + 3] = 27;
	ipv4_fix_csum(f + l3);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_IP_LEN);
	/* ... and past the frame */
	f[l3 + 2] = 0x10;
	ipv4_fix_csum(f + l3);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_SHORT);

	/* UDP to another port */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[udp + 3] ^= 1;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_NOT_ROCE);
	CHECK_EQ(dbnic_roce_demux(f, n, NULL), 0);

	/* UDP length: below 8, past the IP packet */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[udp + 4] = 0;
	f[udp + 5] = 7;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_UDP_LEN);
	f[udp + 5] = (uint8_t)(n - udp + 1);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_UDP_LEN);
	/* ... even when the frame goes on (Ethernet padding): the IP length
	 * bounds the UDP datagram, not the frame */
	memset(f + n, 0, 8);
	CHECK_EQ(dbnic_roce_parse(f, n + 8, &pkt), DBNIC_ROCE_E_UDP_LEN);

	/* unknown opcodes, refused before any length math: even in a UDP
	 * payload too short for a BTH with ICRC, they are "opcode" only
	 * once a BTH fits */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	{
		static const uint8_t bad_ops[] = { 0x12, 0x13, 0x14, 0x16, 0x17,
						   0x18, 0x1f, 0x20, 0x24,
						   0x63, 0x66, 0x81, 0xff };
		unsigned int i;

		for (i = 0; i < sizeof(bad_ops); i++) {
			f[bth] = bad_ops[i];
			CHECK_EQ(dbnic_roce_parse(f, n, &pkt),
				 DBNIC_ROCE_E_OPCODE);
		}
		/* an ATOMIC request (0x13) would need 28 ETH bytes; with
		 * only 12 + 4 after UDP it still reads as "opcode" */
		f[udp + 4] = 0;
		f[udp + 5] = 8 + 12 + 4;
		f[bth] = 0x13;
		CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_OPCODE);
	}

	/* TVer != 0 */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[bth + 1] |= 0x01;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_TVER);

	/* too short for the opcode's headers: no room for a BTH + ICRC; a
	 * WRITE_FIRST whose RETH is cut; a UD SEND whose DETH is cut */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[udp + 4] = 0;
	f[udp + 5] = 8 + 12 + 3;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_HDR_LEN);
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_WRITE_FIRST, 0);
	f[udp + 5] = 8 + 12 + 15 + 4;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_HDR_LEN);
	f[udp + 5] = 8 + 12 + 16 + 4;		/* exactly fits: ok */
	fix_icrc(f, l3, false, udp + 8 + 12 + 16 + 4);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_OK);
	CHECK_EQ(pkt.payload_len, 0);
	n = good4(f, sizeof(f), DBNIC_ROCE_UD_SEND_ONLY, 0);
	f[udp + 5] = 8 + 12 + 7 + 4;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_HDR_LEN);

	/* pad > payload: pad 1-3 on an empty SEND, pad 3 on 2 bytes */
	{
		unsigned int pad;

		for (pad = 1; pad <= 3; pad++) {
			n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 0);
			f[bth + 1] |= pad << 4;
			fix_icrc(f, l3, false, n);
			CHECK_EQ(dbnic_roce_parse(f, n, &pkt),
				 DBNIC_ROCE_E_PAD);
		}
		n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 0);
		n = grow4(f, n, 2);
		CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_OK);
		CHECK_EQ(pkt.payload_len, 2);
		f[bth + 1] |= 3 << 4;
		fix_icrc(f, l3, false, n);
		CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_PAD);
		f[bth + 1] &= ~0x10;		/* pad 2 of 2: ok, empty */
		fix_icrc(f, l3, false, n);
		CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_OK);
		CHECK_EQ(pkt.payload_len, 0);
	}

	/* payload (or pad) on an ACK and a READ request */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_ACK, 0);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_OK);
	n = grow4(f, n, 4);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_PAYLOAD);
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_READ_REQ, 0);
	n = grow4(f, n, 1);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_PAYLOAD);
	f[bth + 1] |= 1 << 4;			/* pad 1 of 1 byte */
	fix_icrc(f, l3, false, n);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_PAYLOAD);
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_READ_REQ, 0);
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_OK);

	/* bad ICRC, everything else filled in */
	n = good4(f, sizeof(f), DBNIC_ROCE_RC_SEND_ONLY, 8);
	f[n - 1] ^= 0x80;
	CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_ICRC);
	CHECK_EQ(pkt.hdr.opcode, DBNIC_ROCE_RC_SEND_ONLY);
	CHECK_EQ(pkt.payload_len, 8);

	/* IPv6: not UDP (an extension header), jumbogram */
	{
		struct dbnic_roce_addr a;
		struct dbnic_roce_hdr h;

		addr_init(&a, 6, false);
		hdr_init(&h, DBNIC_ROCE_RC_SEND_ONLY);
		n = build_frame(f, sizeof(f), &a, &h, 8, 3);
		CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_OK);
		f[l3 + 6] = 0;			/* hop-by-hop options */
		CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_NOT_UDP);
		CHECK_EQ(dbnic_roce_demux(f, n, NULL), 0);
		f[l3 + 6] = 17;
		f[l3 + 4] = f[l3 + 5] = 0;
		CHECK_EQ(dbnic_roce_parse(f, n, &pkt), DBNIC_ROCE_E_IP_LEN);
	}
	/* every reason has a name */
	{
		unsigned int e;

		for (e = 0; e <= DBNIC_ROCE_E_COUNT; e++)
			CHECK(dbnic_roce_err_name(e) != NULL);
	}
}

/*
 * Every truncation of every good frame is refused, never read past (the
 * sanitizers watch: each copy sits in a buffer of exactly its length).
 */
void test_roce_truncations(void)
{
	static uint8_t frame[FRAME_MAX];
	struct dbnic_roce_addr a;
	struct dbnic_roce_hdr h;
	struct dbnic_roce_pkt pkt;
	unsigned int v, o;
	size_t n, cut;

	for (v = 0; v < 4; v++) {
		for (o = 0; o < sizeof(all_ops); o++) {
			uint32_t plen = dbnic_roce_op_info(all_ops[o]) &
					DBNIC_ROCE_OPF_PAYLOAD ? 7 : 0;

			addr_init(&a, v & 1 ? 6 : 4, v & 2);
			hdr_init(&h, all_ops[o]);
			n = build_frame(frame, sizeof(frame), &a, &h, plen, o);
			CHECK(n > 0);
			for (cut = 0; cut < n; cut++) {
				uint8_t *p = malloc(cut ? cut : 1);

				memcpy(p, frame, cut);
				CHECK(dbnic_roce_parse(p, cut, &pkt) !=
				      DBNIC_ROCE_OK);
				dbnic_roce_demux(p, cut, NULL);
				free(p);
			}
		}
	}
}

/* ---- builder limits ---- */

void test_roce_build_limits(void)
{
	static uint8_t buf[70000];
	struct dbnic_roce_addr a;
	struct dbnic_roce_hdr h;
	uint32_t crc;
	size_t n;

	addr_init(&a, 4, true);
	hdr_init(&h, DBNIC_ROCE_RC_SEND_ONLY);
	/* exactly enough room for headers + payload + pad + ICRC */
	n = dbnic_roce_build(buf, 18 + 20 + 8 + 12 + 5 + 3 + 4, &a, &h, 5, &crc);
	CHECK_EQ(n, 18 + 20 + 8 + 12);
	CHECK_EQ(dbnic_roce_build(buf, 18 + 20 + 8 + 12 + 5 + 3 + 3, &a, &h, 5,
				  &crc), 0);
	/* unknown opcode; payload on an ACK or READ request */
	h.opcode = 0x13;
	CHECK_EQ(dbnic_roce_build(buf, sizeof(buf), &a, &h, 0, &crc), 0);
	h.opcode = DBNIC_ROCE_RC_ACK;
	CHECK_EQ(dbnic_roce_build(buf, sizeof(buf), &a, &h, 4, &crc), 0);
	CHECK(dbnic_roce_build(buf, sizeof(buf), &a, &h, 0, &crc) > 0);
	h.opcode = DBNIC_ROCE_RC_READ_REQ;
	CHECK_EQ(dbnic_roce_build(buf, sizeof(buf), &a, &h, 1, &crc), 0);
	/* IP length limit: 65535 for IPv4 total, IPv6 payload length */
	h.opcode = DBNIC_ROCE_RC_SEND_MIDDLE;
	CHECK(dbnic_roce_build(buf, sizeof(buf), &a, &h, 65488, &crc) > 0);
	CHECK_EQ(dbnic_roce_build(buf, sizeof(buf), &a, &h, 65489, &crc), 0);
	a.ipver = 6;
	CHECK(dbnic_roce_build(buf, sizeof(buf), &a, &h, 65508, &crc) > 0);
	CHECK_EQ(dbnic_roce_build(buf, sizeof(buf), &a, &h, 65509, &crc), 0);
	CHECK_EQ(dbnic_roce_build(buf, sizeof(buf), &a, &h, 0xffffffffu,
				  &crc), 0);
	/* The BTH pad count is the builder's, whatever the caller says. */
	h.opcode = DBNIC_ROCE_RC_SEND_LAST;
	h.pad = 3;
	n = dbnic_roce_build(buf, sizeof(buf), &a, &h, 4, &crc);
	CHECK_EQ((buf[n - 12 + 1] >> 4) & 3, 0);
	n = dbnic_roce_build(buf, sizeof(buf), &a, &h, 7, &crc);
	CHECK_EQ((buf[n - 12 + 1] >> 4) & 3, 1);
}

/* ---- PSNs ---- */

void test_roce_psn(void)
{
	CHECK_EQ(dbnic_psn_add(0xfffffe, 1), 0xffffff);
	CHECK_EQ(dbnic_psn_add(0xffffff, 1), 0);
	CHECK_EQ(dbnic_psn_add(0xfffff0, 0x20), 0x10);
	CHECK_EQ(dbnic_psn_add(5, 0xffffff), 4);	/* - 1 */

	CHECK_EQ(dbnic_psn_cmp(5, 5), 0);
	CHECK_EQ(dbnic_psn_cmp(6, 5), 1);
	CHECK_EQ(dbnic_psn_cmp(5, 6), -1);
	/* across the wrap */
	CHECK_EQ(dbnic_psn_cmp(0, 0xffffff), 1);
	CHECK_EQ(dbnic_psn_cmp(0xffffff, 0), -1);
	CHECK_EQ(dbnic_psn_cmp(0x10, 0xfffff0), 0x20);
	CHECK_EQ(dbnic_psn_cmp(0xfffff0, 0x10), -0x20);
	/* half the space: 2^23 - 1 ahead, 2^23 behind (signed 24-bit) */
	CHECK_EQ(dbnic_psn_cmp(0x7fffff, 0), 0x7fffff);
	CHECK_EQ(dbnic_psn_cmp(0x800000, 0), -0x800000);
	CHECK_EQ(dbnic_psn_cmp(0, 0x800000), -0x800000);
	CHECK_EQ(dbnic_psn_cmp(0xc00000, 0x400000), -0x800000);
	/* bits above 24 (a raw BTH word) do not matter */
	CHECK_EQ(dbnic_psn_cmp(0xff000005, 4), 1);

	CHECK(dbnic_psn_in_window(0xfffffe, 0xfffffe, 4));
	CHECK(dbnic_psn_in_window(0x000001, 0xfffffe, 4));
	CHECK(!dbnic_psn_in_window(0x000002, 0xfffffe, 4));
	CHECK(!dbnic_psn_in_window(0xfffffd, 0xfffffe, 4));
	CHECK(!dbnic_psn_in_window(7, 7, 0));
	CHECK(dbnic_psn_in_window(6, 7, 0x1000000));
}

/* ---- P_Key and demux odds and ends ---- */

void test_roce_pkey_and_demux(void)
{
	uint8_t f[256], dgid[16];
	struct dbnic_roce_addr a;
	struct dbnic_roce_hdr h;
	size_t n;

	CHECK(dbnic_roce_pkey_match(0xffff, 0xffff));
	CHECK(dbnic_roce_pkey_match(0x7fff, 0xffff));
	CHECK(!dbnic_roce_pkey_match(0x7fff, 0x7fff));	/* two limited */
	CHECK(!dbnic_roce_pkey_match(0xfffe, 0xffff));

	addr_init(&a, 6, true);
	hdr_init(&h, DBNIC_ROCE_RC_ACK);
	n = build_frame(f, sizeof(f), &a, &h, 0, 0);
	CHECK_EQ(dbnic_roce_demux(f, n, dgid), 6);
	CHECK(memcmp(dgid, a.dgid, 16) == 0);
	/* the demux needs only the headers up to the UDP port */
	CHECK_EQ(dbnic_roce_demux(f, 18 + 40 + 8, NULL), 6);
	CHECK_EQ(dbnic_roce_demux(f, 18 + 40 + 7, NULL), 0);
	/* a 0x88a8 (QinQ) outer tag is not looked through */
	f[12] = 0x88;
	f[13] = 0xa8;
	CHECK_EQ(dbnic_roce_demux(f, n, NULL), 0);
}
