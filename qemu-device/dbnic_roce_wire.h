/*
 * dbnic device core: the RoCEv2 wire format (pure functions, no device
 * state, no QEMU headers).
 *
 * A RoCEv2 packet is Ethernet [802.1Q] / IPv4 or IPv6 / UDP to port 4791 /
 * BTH / extended transport headers / payload / pad / ICRC (IBTA vol 1
 * ch. 9 for BTH and the ETHs, Annex A17 "RoCEv2" for the IP/UDP
 * encapsulation and the ICRC over it).  These constants are IBTA's, not
 * the device's interface, so they live here and not in include/dbnic_hw.h.
 * Citations name the header or field as IBTA vol 1 (release 1.4) does,
 * with its section where known; no copy of the spec is on this machine,
 * so sub-section numbers are not given where unverified, and every byte
 * layout below was checked against Linux rxe (rxe_hdr.h, rxe_opcode.c,
 * rxe_icrc.c), the peer we aim to be bit compatible with (issue 9).
 *
 * API (all lengths in bytes, all header values in host order):
 * - dbnic_roce_op_info(op): the opcode's header set (DBNIC_ROCE_OPF_*),
 *   0 for an opcode the device does not speak.
 * - dbnic_roce_build(buf, size, addr, hdr, payload_len, &crc): writes the
 *   Ethernet..ETH headers, returns their length (0: does not fit in size
 *   with payload, pad and ICRC, unknown opcode or too long).  The caller
 *   then appends the payload, folding it into crc with
 *   dbnic_roce_icrc_update() or dbnic_roce_icrc_copy(), and ends the frame
 *   with dbnic_roce_icrc_finish() (pad bytes + ICRC).  Frame length =
 *   header length + payload_len + dbnic_roce_pad(payload_len) + 4.
 * - dbnic_roce_parse(frame, len, &pkt): validates a received frame and
 *   fills struct dbnic_roce_pkt; returns DBNIC_ROCE_OK or the first reason
 *   it was refused (enum dbnic_roce_err).  Never reads outside
 *   frame[0, len).  The ICRC is checked last, so a frame refused with
 *   DBNIC_ROCE_E_ICRC has every other field filled in.
 * - dbnic_roce_demux(frame, len, dgid): the cheap RoCE test at the top of
 *   Ethernet receive: 4 or 6 for IPv4/IPv6 UDP to 4791, 0 otherwise.
 * - dbnic_roce_grh(frame, &pkt, grh): the 40-byte "GRH" of a UD receive.
 * - dbnic_roce_icrc_*(): the ICRC as Linux rxe computes it (rxe_icrc.c).
 * - dbnic_psn_*(): 24-bit PSN arithmetic (IBTA 9.7, rxe's psn_compare()).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DBNIC_ROCE_WIRE_H
#define DBNIC_ROCE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- encapsulation (Annex A17, IEEE 802.3/802.1Q, RFC 791/8200/768) ---- */

/* UDP destination port of RoCEv2 (Annex A17, IANA "roce"). */
#define DBNIC_ROCE_UDP_PORT     4791
/* Smallest UDP source port rxe and rdma_get_udp_sport() pick (A17 entropy). */
#define DBNIC_ROCE_SPORT_MIN    0xc000

#define DBNIC_ROCE_ETH_HLEN     14      /* dmac, smac, ethertype */
#define DBNIC_ROCE_VLAN_HLEN    4       /* 802.1Q TPID 0x8100 + TCI */
#define DBNIC_ROCE_IPV4_HLEN    20      /* no options: A17 senders use none */
#define DBNIC_ROCE_IPV6_HLEN    40      /* no extension headers */
#define DBNIC_ROCE_UDP_HLEN     8
#define DBNIC_ROCE_ETHERTYPE_IPV4 0x0800
#define DBNIC_ROCE_ETHERTYPE_IPV6 0x86dd
#define DBNIC_ROCE_ETHERTYPE_VLAN 0x8100
#define DBNIC_ROCE_IPPROTO_UDP  17
/* struct dbnic_roce_addr.vlan for an untagged frame (VID 0xfff is reserved). */
#define DBNIC_ROCE_NO_VLAN      0xffff

/* ---- transport headers (IBTA vol 1 ch. 9.2, 9.3) ---- */

#define DBNIC_ROCE_BTH_LEN      12      /* 9.2 base transport header */
#define DBNIC_ROCE_DETH_LEN     8       /* 9.3 datagram ETH: Q_Key, src QP */
#define DBNIC_ROCE_RETH_LEN     16      /* 9.3 RDMA ETH: VA, R_Key, length */
#define DBNIC_ROCE_AETH_LEN     4       /* 9.3 ACK ETH: syndrome, MSN */
#define DBNIC_ROCE_IMMDT_LEN    4       /* 9.3 immediate data ETH */
#define DBNIC_ROCE_ICRC_LEN     4       /* 7.8 invariant CRC; A17 scope */
/*
 * Longest header a dbnic_roce_build() writes: Ethernet + 802.1Q + IPv6 +
 * UDP + BTH + RETH + ImmDt (RC RDMA WRITE ONLY with immediate).
 */
#define DBNIC_ROCE_MAX_HDR      (DBNIC_ROCE_ETH_HLEN + DBNIC_ROCE_VLAN_HLEN + \
                                 DBNIC_ROCE_IPV6_HLEN + DBNIC_ROCE_UDP_HLEN + \
                                 DBNIC_ROCE_BTH_LEN + DBNIC_ROCE_RETH_LEN + \
                                 DBNIC_ROCE_IMMDT_LEN)

/* BTH fields (9.2): byte 1 is SE(7) MigReq(6) PadCnt(5:4) TVer(3:0). */
#define DBNIC_ROCE_BTH_TVER     0       /* 9.2: the only transport version */
#define DBNIC_ROCE_PKEY_DEFAULT 0xffff  /* ch. 10 partitioning: default
                                           partition, full member */
#define DBNIC_ROCE_PSN_MASK     0xffffff
#define DBNIC_ROCE_QPN_MASK     0xffffff
/* Destination QPN of the GSI QP (QP1); the Q_Key of GSI MADs (ch. 13). */
#define DBNIC_ROCE_GSI_QPN      1
#define DBNIC_ROCE_GSI_QKEY     0x80010000u

/*
 * BTH opcodes the device speaks (9.2, "OpCode field" table: bits 7:5 the
 * transport service, RC 000, UD 011; bits 4:0 the operation).  Everything else
 * (UC, RD, XRC, atomics, SEND with invalidate, CNP) is refused by the
 * parser as DBNIC_ROCE_E_OPCODE.
 */
enum dbnic_roce_opcode {
    DBNIC_ROCE_RC_SEND_FIRST            = 0x00,
    DBNIC_ROCE_RC_SEND_MIDDLE           = 0x01,
    DBNIC_ROCE_RC_SEND_LAST             = 0x02,
    DBNIC_ROCE_RC_SEND_LAST_IMM         = 0x03,
    DBNIC_ROCE_RC_SEND_ONLY             = 0x04,
    DBNIC_ROCE_RC_SEND_ONLY_IMM         = 0x05,
    DBNIC_ROCE_RC_WRITE_FIRST           = 0x06,
    DBNIC_ROCE_RC_WRITE_MIDDLE          = 0x07,
    DBNIC_ROCE_RC_WRITE_LAST            = 0x08,
    DBNIC_ROCE_RC_WRITE_LAST_IMM        = 0x09,
    DBNIC_ROCE_RC_WRITE_ONLY            = 0x0a,
    DBNIC_ROCE_RC_WRITE_ONLY_IMM        = 0x0b,
    DBNIC_ROCE_RC_READ_REQ              = 0x0c,
    DBNIC_ROCE_RC_READ_RESP_FIRST       = 0x0d,
    DBNIC_ROCE_RC_READ_RESP_MIDDLE      = 0x0e,
    DBNIC_ROCE_RC_READ_RESP_LAST        = 0x0f,
    DBNIC_ROCE_RC_READ_RESP_ONLY        = 0x10,
    DBNIC_ROCE_RC_ACK                   = 0x11,
    DBNIC_ROCE_UD_SEND_ONLY             = 0x64,
    DBNIC_ROCE_UD_SEND_ONLY_IMM         = 0x65,
};

/*
 * An opcode's header set and place in its message (9.2's OpCode table and
 * 9.3's "present in" lists; rxe_opcode.c has the same table).  Headers
 * follow the BTH in the order DETH, RETH, AETH, ImmDt (IBTA's packet
 * header order), which is the order of the bits.
 */
#define DBNIC_ROCE_OPF_VALID    0x01    /* an opcode the device speaks */
#define DBNIC_ROCE_OPF_DETH     0x02
#define DBNIC_ROCE_OPF_RETH     0x04
#define DBNIC_ROCE_OPF_AETH     0x08
#define DBNIC_ROCE_OPF_IMMDT    0x10
#define DBNIC_ROCE_OPF_PAYLOAD  0x20    /* may carry payload (and pad) */
#define DBNIC_ROCE_OPF_FIRST    0x40    /* FIRST or ONLY: starts a message */
#define DBNIC_ROCE_OPF_LAST     0x80    /* LAST or ONLY: ends a message */

/*
 * AETH syndrome (9.3 ACK ETH, "AETH syndrome" table; meaning in 9.7.5):
 * bits 6:5 the type, bits 4:0 its value.  ACK: a credit count (0x1f:
 * invalid credit count, i.e. no end-to-end flow control, what rxe always
 * sends); RNR NAK: the RNR timer code; NAK: the codes below.
 */
#define DBNIC_AETH_TYPE_MASK    0x60
#define DBNIC_AETH_TYPE_ACK     0x00
#define DBNIC_AETH_TYPE_RNR     0x20
#define DBNIC_AETH_TYPE_NAK     0x60
#define DBNIC_AETH_VALUE_MASK   0x1f
#define DBNIC_AETH_ACK_NO_CREDIT 0x1f
#define DBNIC_AETH_NAK_PSN_SEQ  0x60    /* PSN sequence error */
#define DBNIC_AETH_NAK_INV_REQ  0x61    /* invalid request */
#define DBNIC_AETH_NAK_REM_ACCESS 0x62  /* remote access error */
#define DBNIC_AETH_NAK_REM_OP   0x63    /* remote operational error */
#define DBNIC_AETH_NAK_INV_RD_REQ 0x64  /* invalid RD request (RD only) */

/* ---- values ---- */

/* Where a packet goes and how it is framed (the IP/L2 part of an AV). */
struct dbnic_roce_addr {
    uint8_t dmac[6];
    uint8_t smac[6];
    uint16_t vlan;          /* 802.1Q TCI (PCP 15:13, DEI 12, VID 11:0) or
                               DBNIC_ROCE_NO_VLAN */
    uint8_t ipver;          /* 4 or 6 */
    uint8_t tclass;         /* IPv4 TOS / IPv6 traffic class (ICRC-masked) */
    uint8_t hop_limit;      /* IPv4 TTL / IPv6 hop limit (ICRC-masked) */
    uint32_t flow_label;    /* IPv6 only, 20 bits (ICRC-masked) */
    uint16_t udp_sport;
    uint16_t ip_id;         /* IPv4 identification (sent with DF set) */
    /* GIDs: IPv6 addresses; IPv4 as v4-mapped ::ffff:a.b.c.d (A17) */
    uint8_t sgid[16];
    uint8_t dgid[16];
};

/* BTH and extended transport headers, host order; unused ones ignored. */
struct dbnic_roce_hdr {
    uint8_t opcode;         /* enum dbnic_roce_opcode */
    uint8_t se;             /* solicited event, 0/1 */
    uint8_t mig;            /* MigReq, 0/1 (rxe sends 0) */
    uint8_t pad;            /* pad count 0-3: computed by the builder */
    uint16_t pkey;
    uint32_t dqpn;          /* 24 bits */
    uint8_t ackreq;         /* 0/1 */
    uint32_t psn;           /* 24 bits */
    struct {                /* RETH */
        uint64_t va;
        uint32_t rkey;
        uint32_t dma_len;
    } reth;
    struct {                /* AETH */
        uint8_t syndrome;
        uint32_t msn;       /* 24 bits */
    } aeth;
    uint32_t imm;           /* ImmDt as a big-endian number: its wire bytes
                               are dbnic_roce_put_be32(p, imm) */
    struct {                /* DETH */
        uint32_t qkey;
        uint32_t src_qpn;   /* 24 bits */
    } deth;
};

/* A parsed, validated frame.  Offsets are from the frame's first byte. */
struct dbnic_roce_pkt {
    struct dbnic_roce_addr addr;    /* as received (sgid = IP source) */
    struct dbnic_roce_hdr hdr;
    uint8_t flags;          /* dbnic_roce_op_info(hdr.opcode) */
    uint8_t tver;           /* always 0 after a successful parse */
    uint16_t l3_off;        /* IP header */
    uint16_t udp_off;
    uint16_t bth_off;
    uint16_t payload_off;   /* after the last extended header */
    uint32_t payload_len;   /* without the pad */
    uint32_t frame_len;     /* through the ICRC; bytes past it (Ethernet
                               padding, an FCS) are not part of the packet */
    uint32_t icrc;          /* as received: the 4 bytes read little-endian */
};

/* Why a frame was refused; each reason is counted by its caller. */
enum dbnic_roce_err {
    DBNIC_ROCE_OK = 0,
    DBNIC_ROCE_E_SHORT,         /* frame ends in a header or the IP packet */
    DBNIC_ROCE_E_NOT_IP,        /* not IPv4/IPv6 (after <= 1 VLAN tag) */
    DBNIC_ROCE_E_IP_OPTIONS,    /* IPv4 IHL != 5 */
    DBNIC_ROCE_E_IP_FRAGMENT,   /* IPv4 MF or fragment offset set */
    DBNIC_ROCE_E_IP_CSUM,       /* IPv4 header checksum wrong */
    DBNIC_ROCE_E_IP_LEN,        /* IP length shorter than IP + UDP headers */
    DBNIC_ROCE_E_NOT_UDP,       /* IPv4 protocol / IPv6 next header != 17 */
    DBNIC_ROCE_E_NOT_ROCE,      /* UDP destination port != 4791 */
    DBNIC_ROCE_E_UDP_LEN,       /* UDP length < 8 or past the IP packet */
    DBNIC_ROCE_E_OPCODE,        /* not an opcode of enum dbnic_roce_opcode */
    DBNIC_ROCE_E_TVER,          /* BTH TVer != 0 */
    DBNIC_ROCE_E_HDR_LEN,       /* UDP payload shorter than BTH + the
                                   opcode's ETHs + ICRC */
    DBNIC_ROCE_E_PAD,           /* pad count > payload */
    DBNIC_ROCE_E_PAYLOAD,       /* payload on an opcode without one (ACK,
                                   READ request) */
    DBNIC_ROCE_E_ICRC,          /* ICRC does not match */
    DBNIC_ROCE_E_COUNT
};

/* ---- functions ---- */

/* Header set of an opcode (DBNIC_ROCE_OPF_*); 0: not one we speak. */
uint8_t dbnic_roce_op_info(uint8_t opcode);
/* Bytes of extended transport headers after the BTH for these flags. */
unsigned int dbnic_roce_ext_len(uint8_t flags);
/* A short name for logs and test output; never NULL. */
const char *dbnic_roce_err_name(enum dbnic_roce_err err);

/* Pad count for a payload of len bytes (9.2 PadCnt: to a multiple of 4). */
static inline unsigned int dbnic_roce_pad(uint32_t len)
{
    return (4 - (len & 3)) & 3;
}

/* P_Key match (ch. 10 partitioning): equal partition numbers, one of
 * them a full member. */
static inline bool dbnic_roce_pkey_match(uint16_t a, uint16_t b)
{
    return (a & 0x7fff) == (b & 0x7fff) && ((a | b) & 0x8000);
}

/*
 * Write the headers of one packet into buf: Ethernet, 802.1Q if
 * addr->vlan != DBNIC_ROCE_NO_VLAN, IPv4 (DF, checksum) or IPv6, UDP
 * (checksum 0: A17 allows it and rxe sends it, for IPv6 too), BTH (the pad
 * count is dbnic_roce_pad(payload_len), whatever hdr->pad says; TVer 0)
 * and the opcode's ETHs.  *crc gets the ICRC state over them.
 * Returns the header length, or 0 (nothing usable written) if the opcode
 * is unknown, payload_len is not 0 on an opcode without payload, the
 * whole frame (headers + payload + pad + ICRC) exceeds size, or its IP
 * length exceeds 65535.
 */
size_t dbnic_roce_build(uint8_t *buf, size_t size,
                        const struct dbnic_roce_addr *addr,
                        const struct dbnic_roce_hdr *hdr,
                        uint32_t payload_len, uint32_t *crc);

/*
 * Validate a received Ethernet frame (no FCS needed; bytes past the
 * packet's UDP length are ignored) and fill *pkt.  Returns DBNIC_ROCE_OK
 * or the first reason it is refused, checking in the order of enum
 * dbnic_roce_err: L2/L3/L4 first, then the opcode before any length that
 * depends on it (rxe_recv.c learnt that the hard way), then lengths, then
 * the ICRC.  On an error, *pkt holds what was parsed so far.
 */
enum dbnic_roce_err dbnic_roce_parse(const uint8_t *frame, size_t len,
                                     struct dbnic_roce_pkt *pkt);

/*
 * The RoCE demux test for a received Ethernet frame: 4 (IPv4) or 6 (IPv6)
 * if it is [802.1Q] IPv4 without options and not a fragment, or IPv6
 * with UDP as the next header, and UDP to port 4791; else 0 (the frame is
 * the Ethernet path's).  Reads only the L2/L3 headers and the UDP ports,
 * checks no checksum and no length beyond bounds; if dgid is not NULL it
 * gets the destination address as a GID (IPv4 v4-mapped), for the
 * caller's "one of my GIDs?" test.  A frame it accepts may still be
 * refused by dbnic_roce_parse() (bad IPv4 checksum, lengths, BTH...):
 * a RoCE frame to count and drop.
 */
unsigned int dbnic_roce_demux(const uint8_t *frame, size_t len,
                              uint8_t dgid[16]);

/*
 * The 40 bytes a UD receive buffer gets before the payload, as the "GRH"
 * of IB (IBTA ch. 11, post receive: a UD buffer starts with 40 bytes) in
 * RoCEv2's form, which the kernel's ib_init_ah_attr_from_wc() decodes:
 * IPv6: the IPv6 header as received; IPv4: 20 zero bytes, then the IPv4
 * header as received (rxe_resp.c execute(), union rdma_network_hdr).
 * pkt is a successful dbnic_roce_parse() of frame.
 */
#define DBNIC_ROCE_GRH_LEN      40
void dbnic_roce_grh(const uint8_t *frame, const struct dbnic_roce_pkt *pkt,
                    uint8_t grh[DBNIC_ROCE_GRH_LEN]);

/*
 * ICRC (IBTA 7.8 adapted by Annex A17; bit compatible with Linux rxe,
 * rxe_icrc.c): CRC-32 (IEEE 802.3 polynomial, reflected) over the IP
 * header, UDP header and BTH with the variant fields set to all ones
 * (IPv4 TOS, TTL, header checksum; IPv6 traffic class, flow label, hop
 * limit; UDP checksum; BTH byte 4, FECN/BECN/resv), as if preceded by the
 * 8 bytes of an all-ones LRH, then the rest of the transport headers, the
 * payload and the pad.  The ICRC is the complement of the CRC state,
 * stored least significant byte first.
 *
 * The state is a raw (not complemented) CRC register:
 *   crc = dbnic_roce_icrc_hdrs(l3, ipver, hdr_len);
 *   crc = dbnic_roce_icrc_update(crc, payload, n);    (any chunks)
 *   n = dbnic_roce_icrc_finish(end, crc, pad);        (pad zeros + ICRC)
 */
#define DBNIC_ROCE_ICRC_SEED    0xdebb20e3u     /* state after 0xffffffff
                                                   and 8 bytes of 0xff */
/* State after the headers: l3 points at the IP header, hdr_len runs from
 * it to the payload (IP + UDP + BTH + ETHs; IPv4 without options). */
uint32_t dbnic_roce_icrc_hdrs(const uint8_t *l3, unsigned int ipver,
                              size_t hdr_len);
/* Fold len bytes into the state. */
uint32_t dbnic_roce_icrc_update(uint32_t crc, const void *p, size_t len);
/* memcpy(dst, src, len) and fold the bytes in, so payload is read once. */
uint32_t dbnic_roce_icrc_copy(uint32_t crc, void *dst, const void *src,
                              size_t len);
/* Write pad zero bytes (folded in) then the 4 ICRC bytes at p; returns
 * pad + 4, the bytes written. */
size_t dbnic_roce_icrc_finish(uint8_t *p, uint32_t crc, unsigned int pad);
/* The ICRC value of a whole packet (tests, and the parser's check). */
uint32_t dbnic_roce_icrc_value(uint32_t crc);
/* Plain CRC-32 register update (no complement), for tests. */
uint32_t dbnic_crc32_raw(uint32_t crc, const void *p, size_t len);

/*
 * PSNs are 24-bit and wrap (9.7).  dbnic_psn_cmp(a, b) is the signed
 * distance a - b in [-2^23, 2^23), as rxe's psn_compare(): < 0 means a is
 * before b.  dbnic_psn_in_window(psn, start, n): start <= psn < start + n
 * modulo 2^24 (n <= 2^24).
 */
static inline uint32_t dbnic_psn_add(uint32_t psn, uint32_t n)
{
    return (psn + n) & DBNIC_ROCE_PSN_MASK;
}

static inline int32_t dbnic_psn_cmp(uint32_t a, uint32_t b)
{
    uint32_t d = (a - b) & DBNIC_ROCE_PSN_MASK;

    return d & 0x800000 ? (int32_t)d - 0x1000000 : (int32_t)d;
}

static inline bool dbnic_psn_in_window(uint32_t psn, uint32_t start,
                                       uint32_t n)
{
    return ((psn - start) & DBNIC_ROCE_PSN_MASK) < n;
}

/* Big-endian field access for the wire. */
static inline uint16_t dbnic_roce_get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t dbnic_roce_get_be24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t dbnic_roce_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static inline void dbnic_roce_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = (uint8_t)v;
}

static inline void dbnic_roce_put_be24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

static inline void dbnic_roce_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/*
 * IBTA vol. 1 encodings of a QP's times (datasheet 11.10), in ns:
 * the local ACK timeout t (4.096 us << t, 1..31; 0: infinite, returns 0)
 * and the RNR NAK timer field x (table 45; 0 is 655.36 ms).
 */
uint64_t dbnic_ib_timeout_ns(unsigned int t);
uint64_t dbnic_ib_rnr_timer_ns(unsigned int x);

#endif
