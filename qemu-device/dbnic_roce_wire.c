/*
 * dbnic device core: the RoCEv2 wire format (see dbnic_roce_wire.h).
 *
 * Every function here is pure: bytes in, bytes or values out.  The parser
 * sees frames from the network, so each read is preceded by a bound check
 * against the length it was given, and lengths taken from the frame only
 * ever shrink the bounds.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "dbnic_roce_wire.h"

/* ---- opcodes ---- */

#define F_SEND_M        (DBNIC_ROCE_OPF_VALID | DBNIC_ROCE_OPF_PAYLOAD)
#define F_FIRST         (F_SEND_M | DBNIC_ROCE_OPF_FIRST)
#define F_LAST          (F_SEND_M | DBNIC_ROCE_OPF_LAST)
#define F_ONLY          (F_FIRST | DBNIC_ROCE_OPF_LAST)

/* IBTA 9.2 OpCode table, RC rows 0x00-0x11 (rxe_opcode.c agrees). */
static const uint8_t rc_ops[DBNIC_ROCE_RC_ACK + 1] = {
    [DBNIC_ROCE_RC_SEND_FIRST]      = F_FIRST,
    [DBNIC_ROCE_RC_SEND_MIDDLE]     = F_SEND_M,
    [DBNIC_ROCE_RC_SEND_LAST]       = F_LAST,
    [DBNIC_ROCE_RC_SEND_LAST_IMM]   = F_LAST | DBNIC_ROCE_OPF_IMMDT,
    [DBNIC_ROCE_RC_SEND_ONLY]       = F_ONLY,
    [DBNIC_ROCE_RC_SEND_ONLY_IMM]   = F_ONLY | DBNIC_ROCE_OPF_IMMDT,
    [DBNIC_ROCE_RC_WRITE_FIRST]     = F_FIRST | DBNIC_ROCE_OPF_RETH,
    [DBNIC_ROCE_RC_WRITE_MIDDLE]    = F_SEND_M,
    [DBNIC_ROCE_RC_WRITE_LAST]      = F_LAST,
    [DBNIC_ROCE_RC_WRITE_LAST_IMM]  = F_LAST | DBNIC_ROCE_OPF_IMMDT,
    [DBNIC_ROCE_RC_WRITE_ONLY]      = F_ONLY | DBNIC_ROCE_OPF_RETH,
    [DBNIC_ROCE_RC_WRITE_ONLY_IMM]  = F_ONLY | DBNIC_ROCE_OPF_RETH |
                                      DBNIC_ROCE_OPF_IMMDT,
    /* A READ request carries a RETH and no payload (9.3 RETH). */
    [DBNIC_ROCE_RC_READ_REQ]        = DBNIC_ROCE_OPF_VALID |
                                      DBNIC_ROCE_OPF_RETH |
                                      DBNIC_ROCE_OPF_FIRST |
                                      DBNIC_ROCE_OPF_LAST,
    /* READ responses: AETH on FIRST, LAST and ONLY, not MIDDLE (9.3). */
    [DBNIC_ROCE_RC_READ_RESP_FIRST] = F_FIRST | DBNIC_ROCE_OPF_AETH,
    [DBNIC_ROCE_RC_READ_RESP_MIDDLE] = F_SEND_M,
    [DBNIC_ROCE_RC_READ_RESP_LAST]  = F_LAST | DBNIC_ROCE_OPF_AETH,
    [DBNIC_ROCE_RC_READ_RESP_ONLY]  = F_ONLY | DBNIC_ROCE_OPF_AETH,
    [DBNIC_ROCE_RC_ACK]             = DBNIC_ROCE_OPF_VALID |
                                      DBNIC_ROCE_OPF_AETH |
                                      DBNIC_ROCE_OPF_FIRST |
                                      DBNIC_ROCE_OPF_LAST,
};

uint8_t dbnic_roce_op_info(uint8_t opcode)
{
    if (opcode < sizeof(rc_ops)) {
        return rc_ops[opcode];
    }
    if (opcode == DBNIC_ROCE_UD_SEND_ONLY) {
        return F_ONLY | DBNIC_ROCE_OPF_DETH;
    }
    if (opcode == DBNIC_ROCE_UD_SEND_ONLY_IMM) {
        return F_ONLY | DBNIC_ROCE_OPF_DETH | DBNIC_ROCE_OPF_IMMDT;
    }
    return 0;
}

unsigned int dbnic_roce_ext_len(uint8_t flags)
{
    return (flags & DBNIC_ROCE_OPF_DETH ? DBNIC_ROCE_DETH_LEN : 0) +
           (flags & DBNIC_ROCE_OPF_RETH ? DBNIC_ROCE_RETH_LEN : 0) +
           (flags & DBNIC_ROCE_OPF_AETH ? DBNIC_ROCE_AETH_LEN : 0) +
           (flags & DBNIC_ROCE_OPF_IMMDT ? DBNIC_ROCE_IMMDT_LEN : 0);
}

const char *dbnic_roce_err_name(enum dbnic_roce_err err)
{
    static const char *const names[DBNIC_ROCE_E_COUNT] = {
        [DBNIC_ROCE_OK]             = "ok",
        [DBNIC_ROCE_E_SHORT]        = "short",
        [DBNIC_ROCE_E_NOT_IP]       = "not-ip",
        [DBNIC_ROCE_E_IP_OPTIONS]   = "ip-options",
        [DBNIC_ROCE_E_IP_FRAGMENT]  = "ip-fragment",
        [DBNIC_ROCE_E_IP_CSUM]      = "ip-csum",
        [DBNIC_ROCE_E_IP_LEN]       = "ip-len",
        [DBNIC_ROCE_E_NOT_UDP]      = "not-udp",
        [DBNIC_ROCE_E_NOT_ROCE]     = "not-roce",
        [DBNIC_ROCE_E_UDP_LEN]      = "udp-len",
        [DBNIC_ROCE_E_OPCODE]       = "opcode",
        [DBNIC_ROCE_E_TVER]         = "tver",
        [DBNIC_ROCE_E_HDR_LEN]      = "hdr-len",
        [DBNIC_ROCE_E_PAD]          = "pad",
        [DBNIC_ROCE_E_PAYLOAD]      = "payload",
        [DBNIC_ROCE_E_ICRC]         = "icrc",
    };

    if ((unsigned int)err >= DBNIC_ROCE_E_COUNT) {
        return "?";
    }
    return names[err];
}

/* ---- CRC-32 ---- */

/*
 * Slicing-by-8 tables of the reflected IEEE 802.3 polynomial 0xedb88320:
 * crc_tab[0] is the byte-at-a-time table, crc_tab[k][b] the effect of byte
 * b followed by k zero bytes.  Built once before main() (QEMU runs its
 * module constructors the same way), so no device ever sees them change.
 */
static uint32_t crc_tab[8][256];

static void __attribute__((constructor)) crc_tab_init(void)
{
    unsigned int i, k;

    for (i = 0; i < 256; i++) {
        uint32_t c = i;

        for (k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
        }
        crc_tab[0][i] = c;
    }
    for (i = 0; i < 256; i++) {
        for (k = 1; k < 8; k++) {
            uint32_t c = crc_tab[k - 1][i];

            crc_tab[k][i] = (c >> 8) ^ crc_tab[0][c & 0xff];
        }
    }
}

uint32_t dbnic_crc32_raw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len >= 8) {
        /* Bytes assembled by hand: any alignment, any host byte order. */
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);

        crc = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
              crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
              crc_tab[3][p[4]] ^ crc_tab[2][p[5]] ^
              crc_tab[1][p[6]] ^ crc_tab[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--) {
        crc = (crc >> 8) ^ crc_tab[0][(crc ^ *p++) & 0xff];
    }
    return crc;
}

/* ---- ICRC ---- */

/* IP + UDP + BTH, the part of the headers the ICRC covers masked. */
#define ICRC_MASKED_MAX (DBNIC_ROCE_IPV6_HLEN + DBNIC_ROCE_UDP_HLEN + \
                         DBNIC_ROCE_BTH_LEN)

uint32_t dbnic_roce_icrc_hdrs(const uint8_t *l3, unsigned int ipver,
                              size_t hdr_len)
{
    uint8_t m[ICRC_MASKED_MAX];
    size_t iph = ipver == 6 ? DBNIC_ROCE_IPV6_HLEN : DBNIC_ROCE_IPV4_HLEN;
    size_t n = iph + DBNIC_ROCE_UDP_HLEN + DBNIC_ROCE_BTH_LEN;
    uint32_t crc;

    if (hdr_len < n) {          /* not a RoCE header: callers never do it */
        return dbnic_crc32_raw(DBNIC_ROCE_ICRC_SEED, l3, hdr_len);
    }
    memcpy(m, l3, n);
    if (ipver == 6) {
        /* Traffic class (byte 0 low nibble, byte 1 high) and flow label. */
        m[0] |= 0x0f;
        m[1] = m[2] = m[3] = 0xff;
        m[7] = 0xff;                        /* hop limit */
    } else {
        m[1] = 0xff;                        /* TOS */
        m[8] = 0xff;                        /* TTL */
        m[10] = m[11] = 0xff;               /* header checksum */
    }
    m[iph + 6] = m[iph + 7] = 0xff;         /* UDP checksum */
    m[iph + DBNIC_ROCE_UDP_HLEN + 4] = 0xff; /* BTH FECN, BECN, resv6a */
    crc = dbnic_crc32_raw(DBNIC_ROCE_ICRC_SEED, m, n);
    return dbnic_crc32_raw(crc, l3 + n, hdr_len - n);
}

uint32_t dbnic_roce_icrc_update(uint32_t crc, const void *p, size_t len)
{
    return dbnic_crc32_raw(crc, p, len);
}

uint32_t dbnic_roce_icrc_copy(uint32_t crc, void *dst, const void *src,
                              size_t len)
{
    /*
     * Chunks small enough to stay in L1 between the copy and the CRC: the
     * payload is read from (guest) memory once.
     */
    uint8_t *d = dst;
    const uint8_t *s = src;

    while (len) {
        size_t n = len < 2048 ? len : 2048;

        memcpy(d, s, n);
        crc = dbnic_crc32_raw(crc, d, n);
        d += n;
        s += n;
        len -= n;
    }
    return crc;
}

uint32_t dbnic_roce_icrc_value(uint32_t crc)
{
    return ~crc;
}

size_t dbnic_roce_icrc_finish(uint8_t *p, uint32_t crc, unsigned int pad)
{
    uint32_t icrc;

    pad &= 3;
    memset(p, 0, pad);
    crc = dbnic_crc32_raw(crc, p, pad);
    /* rxe stores ~crc as a CPU-order u32 (rxe_icrc.c), x86: LSB first. */
    icrc = ~crc;
    p[pad] = (uint8_t)icrc;
    p[pad + 1] = (uint8_t)(icrc >> 8);
    p[pad + 2] = (uint8_t)(icrc >> 16);
    p[pad + 3] = (uint8_t)(icrc >> 24);
    return pad + DBNIC_ROCE_ICRC_LEN;
}

/* ---- builder ---- */

static uint16_t ipv4_csum(const uint8_t *h)
{
    uint32_t sum = 0;
    unsigned int i;

    for (i = 0; i < DBNIC_ROCE_IPV4_HLEN; i += 2) {
        sum += dbnic_roce_get_be16(h + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

size_t dbnic_roce_build(uint8_t *buf, size_t size,
                        const struct dbnic_roce_addr *a,
                        const struct dbnic_roce_hdr *h,
                        uint32_t payload_len, uint32_t *crc)
{
    uint8_t flags = dbnic_roce_op_info(h->opcode);
    unsigned int pad = dbnic_roce_pad(payload_len);
    size_t l3, iph, udp, bth, off, udp_len;

    if (!flags || (payload_len && !(flags & DBNIC_ROCE_OPF_PAYLOAD))) {
        return 0;
    }
    l3 = DBNIC_ROCE_ETH_HLEN +
         (a->vlan != DBNIC_ROCE_NO_VLAN ? DBNIC_ROCE_VLAN_HLEN : 0);
    iph = a->ipver == 6 ? DBNIC_ROCE_IPV6_HLEN : DBNIC_ROCE_IPV4_HLEN;
    udp = l3 + iph;
    bth = udp + DBNIC_ROCE_UDP_HLEN;
    off = bth + DBNIC_ROCE_BTH_LEN + dbnic_roce_ext_len(flags);
    /* 64-bit sums: payload_len near 4 GiB must not wrap a 32-bit size_t. */
    udp_len = (uint64_t)off - udp + payload_len + pad + DBNIC_ROCE_ICRC_LEN;
    if ((uint64_t)udp_len + (a->ipver == 6 ? 0 : iph) > 0xffff ||
        (uint64_t)udp + udp_len > size) {
        return 0;
    }

    memcpy(buf, a->dmac, 6);
    memcpy(buf + 6, a->smac, 6);
    if (a->vlan != DBNIC_ROCE_NO_VLAN) {
        dbnic_roce_put_be16(buf + 12, DBNIC_ROCE_ETHERTYPE_VLAN);
        dbnic_roce_put_be16(buf + 14, a->vlan);
    }
    dbnic_roce_put_be16(buf + l3 - 2, a->ipver == 6 ?
                        DBNIC_ROCE_ETHERTYPE_IPV6 : DBNIC_ROCE_ETHERTYPE_IPV4);

    if (a->ipver == 6) {
        uint8_t *ip = buf + l3;
        uint32_t fl = a->flow_label & 0xfffff;

        ip[0] = 0x60 | a->tclass >> 4;
        ip[1] = (uint8_t)(a->tclass << 4 | fl >> 16);
        ip[2] = (uint8_t)(fl >> 8);
        ip[3] = (uint8_t)fl;
        dbnic_roce_put_be16(ip + 4, (uint16_t)udp_len);
        ip[6] = DBNIC_ROCE_IPPROTO_UDP;
        ip[7] = a->hop_limit;
        memcpy(ip + 8, a->sgid, 16);
        memcpy(ip + 24, a->dgid, 16);
    } else {
        uint8_t *ip = buf + l3;

        ip[0] = 0x45;
        ip[1] = a->tclass;
        dbnic_roce_put_be16(ip + 2, (uint16_t)(udp_len + iph));
        dbnic_roce_put_be16(ip + 4, a->ip_id);
        dbnic_roce_put_be16(ip + 6, 0x4000);    /* DF, as rxe_net.c */
        ip[8] = a->hop_limit;
        ip[9] = DBNIC_ROCE_IPPROTO_UDP;
        ip[10] = ip[11] = 0;
        memcpy(ip + 12, a->sgid + 12, 4);
        memcpy(ip + 16, a->dgid + 12, 4);
        dbnic_roce_put_be16(ip + 10, (uint16_t)~ipv4_csum(ip));
    }

    dbnic_roce_put_be16(buf + udp, a->udp_sport);
    dbnic_roce_put_be16(buf + udp + 2, DBNIC_ROCE_UDP_PORT);
    dbnic_roce_put_be16(buf + udp + 4, (uint16_t)udp_len);
    dbnic_roce_put_be16(buf + udp + 6, 0);

    buf[bth] = h->opcode;
    buf[bth + 1] = (uint8_t)((h->se & 1) << 7 | (h->mig & 1) << 6 |
                             pad << 4 | DBNIC_ROCE_BTH_TVER);
    dbnic_roce_put_be16(buf + bth + 2, h->pkey);
    buf[bth + 4] = 0;
    dbnic_roce_put_be24(buf + bth + 5, h->dqpn);
    buf[bth + 8] = (uint8_t)((h->ackreq & 1) << 7);
    dbnic_roce_put_be24(buf + bth + 9, h->psn);

    off = bth + DBNIC_ROCE_BTH_LEN;
    if (flags & DBNIC_ROCE_OPF_DETH) {
        dbnic_roce_put_be32(buf + off, h->deth.qkey);
        buf[off + 4] = 0;
        dbnic_roce_put_be24(buf + off + 5, h->deth.src_qpn);
        off += DBNIC_ROCE_DETH_LEN;
    }
    if (flags & DBNIC_ROCE_OPF_RETH) {
        dbnic_roce_put_be32(buf + off, (uint32_t)(h->reth.va >> 32));
        dbnic_roce_put_be32(buf + off + 4, (uint32_t)h->reth.va);
        dbnic_roce_put_be32(buf + off + 8, h->reth.rkey);
        dbnic_roce_put_be32(buf + off + 12, h->reth.dma_len);
        off += DBNIC_ROCE_RETH_LEN;
    }
    if (flags & DBNIC_ROCE_OPF_AETH) {
        buf[off] = h->aeth.syndrome;
        dbnic_roce_put_be24(buf + off + 1, h->aeth.msn);
        off += DBNIC_ROCE_AETH_LEN;
    }
    if (flags & DBNIC_ROCE_OPF_IMMDT) {
        dbnic_roce_put_be32(buf + off, h->imm);
        off += DBNIC_ROCE_IMMDT_LEN;
    }
    if (crc) {
        *crc = dbnic_roce_icrc_hdrs(buf + l3, a->ipver == 6 ? 6 : 4,
                                    off - l3);
    }
    return off;
}

/* ---- parser ---- */

/*
 * The L2/L3/L4 walk shared by the parser and the demux test: finds the IP
 * and UDP headers.  With full set it also checks what the demux skips
 * (IPv4 header checksum, IP and UDP lengths) and fills pkt->addr.
 */
static enum dbnic_roce_err walk(const uint8_t *f, size_t len, bool full,
                                struct dbnic_roce_pkt *pkt)
{
    struct dbnic_roce_addr *a = &pkt->addr;
    size_t l3 = DBNIC_ROCE_ETH_HLEN, l4, ip_end, ulen;
    uint16_t type;

    if (len < DBNIC_ROCE_ETH_HLEN) {
        return DBNIC_ROCE_E_SHORT;
    }
    if (full) {
        memcpy(a->dmac, f, 6);
        memcpy(a->smac, f + 6, 6);
    }
    type = dbnic_roce_get_be16(f + 12);
    a->vlan = DBNIC_ROCE_NO_VLAN;
    if (type == DBNIC_ROCE_ETHERTYPE_VLAN) {
        l3 += DBNIC_ROCE_VLAN_HLEN;
        if (len < l3) {
            return DBNIC_ROCE_E_SHORT;
        }
        a->vlan = dbnic_roce_get_be16(f + 14);
        type = dbnic_roce_get_be16(f + 16);
    }
    pkt->l3_off = (uint16_t)l3;

    if (type == DBNIC_ROCE_ETHERTYPE_IPV4) {
        const uint8_t *ip = f + l3;
        uint16_t tot;

        if (len < l3 + DBNIC_ROCE_IPV4_HLEN) {
            return DBNIC_ROCE_E_SHORT;
        }
        if (ip[0] >> 4 != 4) {
            return DBNIC_ROCE_E_NOT_IP;
        }
        a->ipver = 4;
        /* rxe's ICRC assumes a 20-byte header (rxe_icrc.c); so do we. */
        if ((ip[0] & 0xf) != 5) {
            return DBNIC_ROCE_E_IP_OPTIONS;
        }
        if (dbnic_roce_get_be16(ip + 6) & 0x3fff) {
            return DBNIC_ROCE_E_IP_FRAGMENT;
        }
        if (full && ipv4_csum(ip) != 0xffff) {
            return DBNIC_ROCE_E_IP_CSUM;
        }
        if (ip[9] != DBNIC_ROCE_IPPROTO_UDP) {
            return DBNIC_ROCE_E_NOT_UDP;
        }
        tot = dbnic_roce_get_be16(ip + 2);
        l4 = l3 + DBNIC_ROCE_IPV4_HLEN;
        ip_end = l3 + tot;
        if (full) {
            a->tclass = ip[1];
            a->ip_id = dbnic_roce_get_be16(ip + 4);
            a->hop_limit = ip[8];
            a->flow_label = 0;
            memset(a->sgid, 0, 10);
            a->sgid[10] = a->sgid[11] = 0xff;
            memcpy(a->sgid + 12, ip + 12, 4);
            memset(a->dgid, 0, 10);
            a->dgid[10] = a->dgid[11] = 0xff;
            memcpy(a->dgid + 12, ip + 16, 4);
            if (tot < DBNIC_ROCE_IPV4_HLEN + DBNIC_ROCE_UDP_HLEN) {
                return DBNIC_ROCE_E_IP_LEN;
            }
        }
    } else if (type == DBNIC_ROCE_ETHERTYPE_IPV6) {
        const uint8_t *ip = f + l3;

        if (len < l3 + DBNIC_ROCE_IPV6_HLEN) {
            return DBNIC_ROCE_E_SHORT;
        }
        if (ip[0] >> 4 != 6) {
            return DBNIC_ROCE_E_NOT_IP;
        }
        a->ipver = 6;
        /* No extension headers: A17 senders put UDP right after. */
        if (ip[6] != DBNIC_ROCE_IPPROTO_UDP) {
            return DBNIC_ROCE_E_NOT_UDP;
        }
        l4 = l3 + DBNIC_ROCE_IPV6_HLEN;
        ip_end = l4 + dbnic_roce_get_be16(ip + 4);
        if (full) {
            a->tclass = (uint8_t)((ip[0] & 0xf) << 4 | ip[1] >> 4);
            a->flow_label = (uint32_t)(ip[1] & 0xf) << 16 |
                            (uint32_t)ip[2] << 8 | ip[3];
            a->hop_limit = ip[7];
            a->ip_id = 0;
            memcpy(a->sgid, ip + 8, 16);
            memcpy(a->dgid, ip + 24, 16);
            /* A jumbogram (payload length 0) is no RoCE packet either. */
            if (ip_end < l4 + DBNIC_ROCE_UDP_HLEN) {
                return DBNIC_ROCE_E_IP_LEN;
            }
        }
    } else {
        return DBNIC_ROCE_E_NOT_IP;
    }
    pkt->udp_off = (uint16_t)l4;
    if (len < l4 + DBNIC_ROCE_UDP_HLEN) {
        return DBNIC_ROCE_E_SHORT;
    }
    if (dbnic_roce_get_be16(f + l4 + 2) != DBNIC_ROCE_UDP_PORT) {
        return DBNIC_ROCE_E_NOT_ROCE;
    }
    if (!full) {
        return DBNIC_ROCE_OK;
    }
    a->udp_sport = dbnic_roce_get_be16(f + l4);
    /* Trailing bytes past the IP packet (Ethernet padding) are allowed. */
    if (ip_end > len) {
        return DBNIC_ROCE_E_SHORT;
    }
    /* rxe takes the packet's length from the UDP header (rxe_net.c). */
    ulen = dbnic_roce_get_be16(f + l4 + 4);
    if (ulen < DBNIC_ROCE_UDP_HLEN || l4 + ulen > ip_end) {
        return DBNIC_ROCE_E_UDP_LEN;
    }
    pkt->bth_off = (uint16_t)(l4 + DBNIC_ROCE_UDP_HLEN);
    pkt->frame_len = (uint32_t)(l4 + ulen);
    return DBNIC_ROCE_OK;
}

unsigned int dbnic_roce_demux(const uint8_t *frame, size_t len,
                              uint8_t dgid[16])
{
    struct dbnic_roce_pkt pkt;
    const uint8_t *ip;

    if (walk(frame, len, false, &pkt) != DBNIC_ROCE_OK) {
        return 0;
    }
    if (dgid) {
        ip = frame + pkt.l3_off;
        if (pkt.addr.ipver == 6) {
            memcpy(dgid, ip + 24, 16);
        } else {
            memset(dgid, 0, 10);
            dgid[10] = dgid[11] = 0xff;
            memcpy(dgid + 12, ip + 16, 4);
        }
    }
    return pkt.addr.ipver;
}

enum dbnic_roce_err dbnic_roce_parse(const uint8_t *f, size_t len,
                                     struct dbnic_roce_pkt *pkt)
{
    struct dbnic_roce_hdr *h = &pkt->hdr;
    enum dbnic_roce_err err;
    const uint8_t *b;
    size_t bth, end, off, hdr_end;
    uint32_t crc;
    uint8_t flags;

    memset(pkt, 0, sizeof(*pkt));
    err = walk(f, len, true, pkt);
    if (err != DBNIC_ROCE_OK) {
        return err;
    }
    bth = pkt->bth_off;
    end = pkt->frame_len;           /* <= len, checked by walk() */
    if (end < bth + DBNIC_ROCE_BTH_LEN + DBNIC_ROCE_ICRC_LEN) {
        return DBNIC_ROCE_E_HDR_LEN;
    }
    b = f + bth;
    h->opcode = b[0];
    /* The opcode decides every length below: unknown ones go first. */
    flags = dbnic_roce_op_info(h->opcode);
    if (!flags) {
        return DBNIC_ROCE_E_OPCODE;
    }
    pkt->flags = flags;
    h->se = b[1] >> 7;
    h->mig = (b[1] >> 6) & 1;
    h->pad = (b[1] >> 4) & 3;
    pkt->tver = b[1] & 0xf;
    h->pkey = dbnic_roce_get_be16(b + 2);
    h->dqpn = dbnic_roce_get_be24(b + 5);
    h->ackreq = b[8] >> 7;
    h->psn = dbnic_roce_get_be24(b + 9);
    if (pkt->tver != DBNIC_ROCE_BTH_TVER) {
        return DBNIC_ROCE_E_TVER;
    }
    hdr_end = bth + DBNIC_ROCE_BTH_LEN + dbnic_roce_ext_len(flags);
    if (end < hdr_end + DBNIC_ROCE_ICRC_LEN) {
        return DBNIC_ROCE_E_HDR_LEN;
    }
    pkt->payload_off = (uint16_t)hdr_end;
    /* Payload and pad lie between the last ETH and the ICRC. */
    pkt->payload_len = (uint32_t)(end - DBNIC_ROCE_ICRC_LEN - hdr_end);
    if (h->pad > pkt->payload_len) {
        return DBNIC_ROCE_E_PAD;
    }
    pkt->payload_len -= h->pad;
    if ((pkt->payload_len || h->pad) && !(flags & DBNIC_ROCE_OPF_PAYLOAD)) {
        return DBNIC_ROCE_E_PAYLOAD;
    }

    off = bth + DBNIC_ROCE_BTH_LEN;
    if (flags & DBNIC_ROCE_OPF_DETH) {
        h->deth.qkey = dbnic_roce_get_be32(f + off);
        h->deth.src_qpn = dbnic_roce_get_be24(f + off + 5);
        off += DBNIC_ROCE_DETH_LEN;
    }
    if (flags & DBNIC_ROCE_OPF_RETH) {
        h->reth.va = (uint64_t)dbnic_roce_get_be32(f + off) << 32 |
                     dbnic_roce_get_be32(f + off + 4);
        h->reth.rkey = dbnic_roce_get_be32(f + off + 8);
        h->reth.dma_len = dbnic_roce_get_be32(f + off + 12);
        off += DBNIC_ROCE_RETH_LEN;
    }
    if (flags & DBNIC_ROCE_OPF_AETH) {
        h->aeth.syndrome = f[off];
        h->aeth.msn = dbnic_roce_get_be24(f + off + 1);
        off += DBNIC_ROCE_AETH_LEN;
    }
    if (flags & DBNIC_ROCE_OPF_IMMDT) {
        h->imm = dbnic_roce_get_be32(f + off);
    }

    b = f + end - DBNIC_ROCE_ICRC_LEN;
    pkt->icrc = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
                (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    crc = dbnic_roce_icrc_hdrs(f + pkt->l3_off, pkt->addr.ipver,
                               hdr_end - pkt->l3_off);
    crc = dbnic_crc32_raw(crc, f + hdr_end,
                          pkt->payload_len + (size_t)h->pad);
    if (dbnic_roce_icrc_value(crc) != pkt->icrc) {
        return DBNIC_ROCE_E_ICRC;
    }
    return DBNIC_ROCE_OK;
}

void dbnic_roce_grh(const uint8_t *frame, const struct dbnic_roce_pkt *pkt,
                    uint8_t grh[DBNIC_ROCE_GRH_LEN])
{
    if (pkt->addr.ipver == 6) {
        memcpy(grh, frame + pkt->l3_off, DBNIC_ROCE_IPV6_HLEN);
    } else {
        memset(grh, 0, DBNIC_ROCE_GRH_LEN - DBNIC_ROCE_IPV4_HLEN);
        memcpy(grh + DBNIC_ROCE_GRH_LEN - DBNIC_ROCE_IPV4_HLEN,
               frame + pkt->l3_off, DBNIC_ROCE_IPV4_HLEN);
    }
}

uint64_t dbnic_ib_timeout_ns(unsigned int t)
{
    if (!t || t > 31) {
        return 0;
    }
    return 4096ull << t;
}

uint64_t dbnic_ib_rnr_timer_ns(unsigned int x)
{
    /* IBTA vol. 1 table 45, in units of 10 us: code 0 is the longest. */
    static const uint32_t units[32] = {
        65536, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192,
        256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192,
        12288, 16384, 24576, 32768, 49152,
    };

    return (uint64_t)units[x & 31] * 10000;
}
