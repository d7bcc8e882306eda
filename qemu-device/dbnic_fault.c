/*
 * dbnic device core: fault injection on the RoCE port (datasheet 11.11).
 *
 * Emulated device only: a test feature that drops, duplicates, reorders,
 * delays or corrupts a share of the RoCE packets the port receives
 * (dbnic_roce_rx()) or sends (dbnic_roce_xmit()), each packet's fate
 * drawn from a seeded generator so that a failing run replays.  Off, and
 * never called, while every rate of a direction is 0.
 *
 * Packets held for later (a duplicate's copy, a reordered or delayed
 * packet) wait in a fixed hold per direction and are delivered by the
 * engine: received ones through dbnic_roce_rx() in a run, never from
 * inside the delivery of another packet (the loopback FIFO's rule, 11.8);
 * sent ones to the port in a run.  The side's bypass flag marks such a
 * delivery so that the packet is not judged twice.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "dbnic_core_priv.h"

/* A packet waiting in a direction's hold. */
struct dbnic_fault_held {
    uint64_t due;           /* clock_ns() from which it is delivered */
    bool reorder;           /* also due once the next packet has passed */
    uint16_t len;
    uint8_t buf[DBNIC_ROCE_FRAME_MAX];
};

/* The transmit stream starts half the generator's period away (11.11). */
#define DBNIC_FAULT_TX_SEED_OFF (1ull << 63)

/*
 * splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): one 64-bit add per draw and a fixed mixer,
 * every seed fine, including 0.
 */
static uint64_t prng_next(uint64_t *s)
{
    uint64_t z;

    *s += 0x9e3779b97f4a7c15ull;
    z = *s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const enum dbnic_counter
fault_cnt[DBNIC_FAULT_DIRS][DBNIC_FAULT_KINDS] = {
    [DBNIC_FAULT_RX] = {
        DBNIC_CNT_ROCE_FAULT_RX_DROP, DBNIC_CNT_ROCE_FAULT_RX_DUP,
        DBNIC_CNT_ROCE_FAULT_RX_REORDER, DBNIC_CNT_ROCE_FAULT_RX_DELAY,
        DBNIC_CNT_ROCE_FAULT_RX_CORRUPT,
    },
    [DBNIC_FAULT_TX] = {
        DBNIC_CNT_ROCE_FAULT_TX_DROP, DBNIC_CNT_ROCE_FAULT_TX_DUP,
        DBNIC_CNT_ROCE_FAULT_TX_REORDER, DBNIC_CNT_ROCE_FAULT_TX_DELAY,
        DBNIC_CNT_ROCE_FAULT_TX_CORRUPT,
    },
};

static void fault_note(struct dbnic_core *c, enum dbnic_fault_dir d,
                       unsigned int kind, size_t len)
{
    dbnic_count(c, kind < DBNIC_FAULT_KINDS ? fault_cnt[d][kind]
                                             : DBNIC_CNT_ROCE_FAULT_HOLD_FULL);
    dbnic_tr(c, DBNIC_TR_ROCE_FAULT, d, kind, len);
}

/*
 * The packet's fault: one draw x in 0..999999, each fault owning the next
 * rate numbers in enum order (11.11).  DBNIC_FAULT_KINDS: none.  No draw
 * while every rate of the direction is 0.
 */
static unsigned int decide(struct dbnic_core *c, enum dbnic_fault_dir d)
{
    const uint32_t *rate = c->fault.cfg.rate[d];
    uint64_t edge = 0, x;
    unsigned int k;

    if (!c->fault.side[d].on) {
        return DBNIC_FAULT_KINDS;
    }
    x = ((prng_next(&c->fault.side[d].prng) >> 32) * DBNIC_FAULT_PPM) >> 32;

    for (k = 0; k < DBNIC_FAULT_KINDS; k++) {
        edge += rate[k];
        if (x < edge) {
            return k;
        }
    }
    return DBNIC_FAULT_KINDS;
}

/* ------------------------------------------------------------------ */
/* Corruption                                                          */
/* ------------------------------------------------------------------ */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void ipv4_csum_fix(uint8_t *ip, unsigned int hlen)
{
    uint32_t sum = 0;
    unsigned int i;

    put16(ip + 10, 0);
    for (i = 0; i + 1 < hlen; i += 2) {
        sum += get16(ip + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    put16(ip + 10, (uint16_t)~sum);
}

/*
 * Damage the packet in b (len bytes, a copy the caller owns) so that a
 * receiver's checks catch it (11.11): mostly one bit flipped between the
 * end of the BTH and the end of the ICRC (a CRC catches every one-bit
 * error), else the UDP payload cut short with the IP and UDP lengths
 * kept consistent, so that the receiver still takes it for RoCE and
 * drops it as such rather than pass it to the Ethernet queues.  Two
 * draws, always.  Returns the new length.  Reads and writes b[0..len).
 */
static size_t corrupt(uint64_t *prng, uint8_t *b, size_t len)
{
    uint64_t how = prng_next(prng), where = prng_next(prng);
    size_t l3 = DBNIC_ROCE_ETH_HLEN, l4, ip_end, body, start, p, cut;
    unsigned int ihl = 0;
    uint16_t type;

    if (len < DBNIC_ROCE_ETH_HLEN) {
        goto anywhere;
    }
    type = get16(b + 12);
    if (type == DBNIC_ROCE_ETHERTYPE_VLAN) {
        l3 += DBNIC_ROCE_VLAN_HLEN;
        if (len < l3) {
            goto anywhere;
        }
        type = get16(b + l3 - 2);
    }
    if (type == DBNIC_ROCE_ETHERTYPE_IPV4 &&
        len >= l3 + DBNIC_ROCE_IPV4_HLEN) {
        ihl = (b[l3] & 0xf) * 4u;
        if (ihl < DBNIC_ROCE_IPV4_HLEN) {
            goto anywhere;
        }
        l4 = l3 + ihl;
        ip_end = l3 + get16(b + l3 + 2);
    } else if (type == DBNIC_ROCE_ETHERTYPE_IPV6 &&
               len >= l3 + DBNIC_ROCE_IPV6_HLEN) {
        l4 = l3 + DBNIC_ROCE_IPV6_HLEN;
        ip_end = l4 + get16(b + l3 + 4);
    } else {
        goto anywhere;
    }
    if (ip_end > len) {
        ip_end = len;
    }
    body = l4 + DBNIC_ROCE_UDP_HLEN;
    if (ip_end <= body) {
        goto anywhere;
    }
    if (!(how & 7)) {
        /* Cut 1..p bytes off the UDP payload, lengths fixed to match. */
        p = ip_end - body;
        cut = 1 + where % p;
        p -= cut;
        put16(b + l4 + 4, (uint16_t)(DBNIC_ROCE_UDP_HLEN + p));
        if (ihl) {
            /* l3 + ihl < ip_end <= len: the header is in b. */
            put16(b + l3 + 2, (uint16_t)(ihl + DBNIC_ROCE_UDP_HLEN + p));
            ipv4_csum_fix(b + l3, ihl);
        } else {
            put16(b + l3 + 4, (uint16_t)(DBNIC_ROCE_UDP_HLEN + p));
        }
        return body + p;
    }
    /* Past the BTH: its byte 4 is masked out of the ICRC (A17.3.3). */
    start = ip_end > body + DBNIC_ROCE_BTH_LEN ? body + DBNIC_ROCE_BTH_LEN
                                               : body;
    where %= (uint64_t)(ip_end - start) * 8;
    b[start + where / 8] ^= (uint8_t)(1u << (where % 8));
    return len;

anywhere:
    /* Not a packet we can read: any bit of its last byte. */
    if (len) {
        b[len - 1] ^= (uint8_t)(1u << (where % 8));
    }
    return len;
}

/* ------------------------------------------------------------------ */
/* The hold                                                            */
/* ------------------------------------------------------------------ */

/* A free slot, or -1: the hold is full (or memory is short). */
static int hold_slot(struct dbnic_fault_side *s)
{
    bool used[DBNIC_FAULT_HOLD] = { false };
    unsigned int i;

    if (!s->held) {
        s->held = calloc(DBNIC_FAULT_HOLD, sizeof(*s->held));
        if (!s->held) {
            return -1;
        }
    }
    if (s->n == DBNIC_FAULT_HOLD) {
        return -1;
    }
    for (i = 0; i < s->n; i++) {
        used[s->order[i]] = true;
    }
    for (i = 0; i < DBNIC_FAULT_HOLD; i++) {
        if (!used[i]) {
            return (int)i;
        }
    }
    return -1;
}

/* Keep a copy of the packet, due at 'due'.  false: no room. */
static bool hold_put(struct dbnic_core *c, struct dbnic_fault_side *s,
                     const uint8_t *frame, size_t len, uint64_t due,
                     bool reorder)
{
    struct dbnic_fault_held *h;
    int slot;

    if (len > DBNIC_ROCE_FRAME_MAX) {
        return false;
    }
    slot = hold_slot(s);
    if (slot < 0) {
        return false;
    }
    h = &s->held[slot];
    memcpy(h->buf, frame, len);
    h->len = (uint16_t)len;
    h->due = due;
    h->reorder = reorder;
    s->order[s->n++] = (uint8_t)slot;
    if (due <= dbnic_now(c)) {
        dbnic_ask_run(c);
    } else {
        dbnic_timer_arm(c, due);
    }
    return true;
}

/*
 * A packet of the direction has been delivered: the reordered packets
 * held before it follow, at the next run (11.11, "Reorder").
 */
static void reorder_release(struct dbnic_core *c, struct dbnic_fault_side *s)
{
    uint64_t now;
    bool any = false;
    unsigned int i;

    if (!s->n) {
        return;
    }
    now = dbnic_now(c);
    for (i = 0; i < s->n; i++) {
        struct dbnic_fault_held *h = &s->held[s->order[i]];

        if (h->reorder) {
            h->reorder = false;
            h->due = now;
            any = true;
        }
    }
    if (any) {
        dbnic_ask_run(c);
    }
}

static void hold_remove(struct dbnic_fault_side *s, unsigned int i)
{
    memmove(&s->order[i], &s->order[i + 1], s->n - i - 1);
    s->n--;
}

/* Ask the timer for the earliest packet still waiting. */
static void hold_arm(struct dbnic_core *c)
{
    uint64_t now = dbnic_now(c), first = 0;
    unsigned int d, i;

    for (d = 0; d < DBNIC_FAULT_DIRS; d++) {
        const struct dbnic_fault_side *s = &c->fault.side[d];

        for (i = 0; i < s->n; i++) {
            uint64_t due = s->held[s->order[i]].due;

            if (due > now && (!first || due < first)) {
                first = due;
            }
        }
    }
    if (first) {
        dbnic_timer_arm(c, first);
    }
}

/* ------------------------------------------------------------------ */
/* The hooks                                                           */
/* ------------------------------------------------------------------ */

/* Receive one packet judged already; the caller set nothing. */
static void rx_deliver(struct dbnic_core *c, const uint8_t *frame, size_t len)
{
    struct dbnic_fault_side *s = &c->fault.side[DBNIC_FAULT_RX];
    bool roce;

    s->bypass = true;
    roce = dbnic_roce_rx(c, frame, len);
    s->bypass = false;
    if (!roce) {
        /* No longer RoCE to this port (its GID went away meanwhile). */
        dbnic_count(c, DBNIC_CNT_ROCE_RX_NO_QP);
    }
}

static bool tx_deliver(struct dbnic_core *c, const uint8_t *frame, size_t len)
{
    struct dbnic_fault_side *s = &c->fault.side[DBNIC_FAULT_TX];
    bool taken;

    s->bypass = true;
    taken = dbnic_roce_xmit(c, frame, len);
    s->bypass = false;
    return taken;
}

/* Delay and reorder times in ns from now. */
static uint64_t due_in(struct dbnic_core *c, uint32_t us)
{
    return dbnic_now(c) + (uint64_t)us * 1000;
}

bool dbnic_fault_rx(struct dbnic_core *c, const uint8_t *frame, size_t len)
{
    struct dbnic_fault_side *s = &c->fault.side[DBNIC_FAULT_RX];
    const struct dbnic_fault_config *cfg = &c->fault.cfg;
    unsigned int k = decide(c, DBNIC_FAULT_RX);
    size_t n;

    switch (k) {
    case DBNIC_FAULT_DROP:
        fault_note(c, DBNIC_FAULT_RX, k, len);
        return true;
    case DBNIC_FAULT_DUP:
        if (!hold_put(c, s, frame, len, dbnic_now(c), false)) {
            break;
        }
        fault_note(c, DBNIC_FAULT_RX, k, len);
        reorder_release(c, s);
        return false; /* the original now, the copy at the next run */
    case DBNIC_FAULT_REORDER:
    case DBNIC_FAULT_DELAY:
        if (!hold_put(c, s, frame, len,
                      due_in(c, k == DBNIC_FAULT_DELAY ? cfg->delay_us
                                                       : cfg->reorder_us),
                      k == DBNIC_FAULT_REORDER)) {
            break;
        }
        fault_note(c, DBNIC_FAULT_RX, k, len);
        return true;
    case DBNIC_FAULT_CORRUPT:
        if (len > DBNIC_ROCE_FRAME_MAX) {
            break;
        }
        if (!s->scratch) {
            s->scratch = malloc(DBNIC_ROCE_FRAME_MAX);
            if (!s->scratch) {
                break;
            }
        }
        memcpy(s->scratch, frame, len);
        n = corrupt(&s->prng, s->scratch, len);
        fault_note(c, DBNIC_FAULT_RX, k, len);
        reorder_release(c, s);
        rx_deliver(c, s->scratch, n);
        return true;
    default:
        reorder_release(c, s);
        return false;
    }
    /* The hold is full, or the packet too long for it: unfaulted. */
    fault_note(c, DBNIC_FAULT_RX, DBNIC_FAULT_HOLD_FULL, len);
    reorder_release(c, s);
    return false;
}

bool dbnic_fault_tx(struct dbnic_core *c, const uint8_t *frame, size_t len)
{
    struct dbnic_fault_side *s = &c->fault.side[DBNIC_FAULT_TX];
    const struct dbnic_fault_config *cfg = &c->fault.cfg;
    uint64_t prng = s->prng;
    unsigned int k = decide(c, DBNIC_FAULT_TX);
    const uint8_t *out = frame;
    size_t n = len;
    bool full = false;

    switch (k) {
    case DBNIC_FAULT_DROP:
        fault_note(c, DBNIC_FAULT_TX, k, len);
        return true;
    case DBNIC_FAULT_DUP:
        /* Room for the copy first: the original cannot be unsent. */
        full = len > DBNIC_ROCE_FRAME_MAX || hold_slot(s) < 0;
        break;
    case DBNIC_FAULT_REORDER:
    case DBNIC_FAULT_DELAY:
        if (hold_put(c, s, frame, len,
                     due_in(c, k == DBNIC_FAULT_DELAY ? cfg->delay_us
                                                      : cfg->reorder_us),
                     k == DBNIC_FAULT_REORDER)) {
            fault_note(c, DBNIC_FAULT_TX, k, len);
            return true;
        }
        full = true;
        break;
    case DBNIC_FAULT_CORRUPT:
        if (!s->scratch && len <= DBNIC_ROCE_FRAME_MAX) {
            s->scratch = malloc(DBNIC_ROCE_FRAME_MAX);
        }
        if (!s->scratch || len > DBNIC_ROCE_FRAME_MAX) {
            full = true;
            break;
        }
        memcpy(s->scratch, frame, len);
        n = corrupt(&s->prng, s->scratch, len);
        out = s->scratch;
        break;
    default:
        break;
    }
    if (!tx_deliver(c, out, n)) {
        /*
         * The port is busy and its sender offers the packet again later:
         * it draws the same numbers then (11.11, "judged once").
         */
        s->prng = prng;
        return false;
    }
    if (full) {
        fault_note(c, DBNIC_FAULT_TX, DBNIC_FAULT_HOLD_FULL, len);
    } else if (k == DBNIC_FAULT_DUP) {
        /* hold_slot() found room above: this cannot fail. */
        hold_put(c, s, frame, len, dbnic_now(c), false);
        fault_note(c, DBNIC_FAULT_TX, k, len);
    } else if (k == DBNIC_FAULT_CORRUPT) {
        fault_note(c, DBNIC_FAULT_TX, k, len);
    }
    reorder_release(c, s);
    return true;
}

/* ------------------------------------------------------------------ */
/* The engine                                                          */
/* ------------------------------------------------------------------ */

void dbnic_fault_run(struct dbnic_core *c)
{
    unsigned int d, i;
    uint64_t now = dbnic_now(c);

    for (d = 0; d < DBNIC_FAULT_DIRS; d++) {
        struct dbnic_fault_side *s = &c->fault.side[d];
        /* Only what is held now: what these cause waits for a later run. */
        unsigned int left = s->n;

        i = 0;
        while (left-- && i < s->n) {
            struct dbnic_fault_held *h = &s->held[s->order[i]];

            if (h->due > now) {
                i++;
                continue;
            }
            if (d == DBNIC_FAULT_RX) {
                hold_remove(s, i);
                rx_deliver(c, h->buf, h->len);
            } else {
                if (!tx_deliver(c, h->buf, h->len)) {
                    break; /* the port is busy: dbnic_core_eth_tx_resume() */
                }
                hold_remove(s, i);
            }
        }
    }
    hold_arm(c);
}

void dbnic_fault_timer(struct dbnic_core *c)
{
    uint64_t now = dbnic_now(c);
    unsigned int d, i;

    for (d = 0; d < DBNIC_FAULT_DIRS; d++) {
        const struct dbnic_fault_side *s = &c->fault.side[d];

        for (i = 0; i < s->n; i++) {
            if (s->held[s->order[i]].due <= now) {
                dbnic_ask_run(c);
                break;
            }
        }
    }
    hold_arm(c);
}

void dbnic_fault_reset(struct dbnic_core *c)
{
    unsigned int d;

    for (d = 0; d < DBNIC_FAULT_DIRS; d++) {
        c->fault.side[d].n = 0;
        c->fault.side[d].bypass = false;
    }
    dbnic_core_fault_seed(c, c->fault.seed);
}

void dbnic_fault_free(struct dbnic_core *c)
{
    unsigned int d;

    for (d = 0; d < DBNIC_FAULT_DIRS; d++) {
        free(c->fault.side[d].held);
        free(c->fault.side[d].scratch);
        c->fault.side[d].held = NULL;
        c->fault.side[d].scratch = NULL;
        c->fault.side[d].n = 0;
    }
}

int dbnic_core_fault_config(struct dbnic_core *c,
                            const struct dbnic_fault_config *cfg)
{
    unsigned int d, k;

    if (cfg->delay_us > DBNIC_FAULT_US_MAX ||
        cfg->reorder_us > DBNIC_FAULT_US_MAX) {
        return -1;
    }
    for (d = 0; d < DBNIC_FAULT_DIRS; d++) {
        for (k = 0; k < DBNIC_FAULT_KINDS; k++) {
            if (cfg->rate[d][k] > DBNIC_FAULT_PPM) {
                return -1;
            }
        }
    }
    c->fault.cfg = *cfg;
    for (d = 0; d < DBNIC_FAULT_DIRS; d++) {
        c->fault.side[d].on = false;
        for (k = 0; k < DBNIC_FAULT_KINDS; k++) {
            if (cfg->rate[d][k]) {
                c->fault.side[d].on = true;
            }
        }
    }
    return 0;
}

void dbnic_core_fault_seed(struct dbnic_core *c, uint64_t seed)
{
    c->fault.seed = seed;
    c->fault.side[DBNIC_FAULT_RX].prng = seed;
    c->fault.side[DBNIC_FAULT_TX].prng = seed + DBNIC_FAULT_TX_SEED_OFF;
}
