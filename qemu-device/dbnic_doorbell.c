/*
 * dbnic device core: the doorbell BAR (datasheet section 3).
 *
 * Doorbell writes are decoded and checked against the page's context;
 * priority-slot writes are assembled per 4-byte word.  Nothing here moves
 * payload: new work goes to dbnic_sq_kick(), which runs it inline or
 * hands it to the engine through dbnic_kick().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "dbnic_core_priv.h"

/* ------------------------------------------------------------------ */
/* Doorbells                                                           */
/* ------------------------------------------------------------------ */

static void refuse(struct dbnic_core *c, uint32_t ctx, uint32_t qid,
                   enum dbnic_async_err why)
{
    dbnic_count(c, why == DBNIC_AERR_DB_NOT_OWNER ? DBNIC_CNT_DB_NOT_OWNER
                                                  : DBNIC_CNT_DB_BAD);
    dbnic_tr(c, DBNIC_TR_DB_REFUSED, ctx, qid, why);
    dbnic_async_error(c, why, ctx, qid);
}

/* The send queue qid if page ctx may act on it, else NULL (counted). */
static struct dbnic_sq *owned_sq(struct dbnic_core *c, uint32_t ctx,
                                 uint32_t qid)
{
    struct dbnic_sq *sq = dbnic_sq_get(c, qid);

    if (!sq) {
        refuse(c, ctx, qid, DBNIC_AERR_DB_BAD_QUEUE);
        return NULL;
    }
    if (sq->ctx != ctx) {
        refuse(c, ctx, qid, DBNIC_AERR_DB_NOT_OWNER);
        return NULL;
    }
    return sq;
}

/*
 * Move the producer index of an owned queue forward to pi.  Used by DB_SQ
 * and by priority writes, which are doorbells for their index + 1.
 * Returns true if the index moved: the caller then kicks the queue
 * (dbnic_sq_kick()) once its own bookkeeping is done.
 */
static bool announce(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                     uint16_t pi)
{
    uint16_t ahead = dbnic_ring_used(pi, sq->ci);

    dbnic_sq_wake(c, qid);
    if (ahead > dbnic_sq_size(sq) &&
        dbnic_ring_used(sq->pi, pi) <= dbnic_sq_size(sq)) {
        /*
         * Behind the consumer: an old doorbell, e.g. the header of an
         * abandoned priority write flushed late.  Nothing to do.
         */
        return false;
    }
    if (ahead > dbnic_sq_size(sq)) {
        /*
         * Past the ring: keep the queue as it was and tell the owner
         * with an error completion, written by the engine.
         */
        dbnic_count(c, DBNIC_CNT_DB_BAD);
        sq->bad_db = true;
        sq->bad_db_pi = pi;
    } else if (ahead > dbnic_ring_used(sq->pi, sq->ci)) {
        /* Timing model: the indices from the old pi on arrive then. */
        sq->db_at_prev = sq->db_at;
        sq->db_at = dbnic_now(c) + c->cfg.db_latency_ns;
        sq->db_from = sq->pi;
        sq->pi = pi;
        return true;
    }
    dbnic_kick(c, dbnic_now(c) + c->cfg.db_latency_ns);
    return false;
}

static void db_sq(struct dbnic_core *c, uint32_t ctx, uint32_t val)
{
    uint32_t qid = DBNIC_GET(val, DBNIC_DB_SQ_QID);
    uint16_t pi = DBNIC_GET(val, DBNIC_DB_SQ_PI);
    struct dbnic_sq *sq;
    bool moved;

    dbnic_tr(c, DBNIC_TR_DB_SQ, ctx, qid, pi);
    sq = owned_sq(c, ctx, qid);
    if (!sq) {
        return;
    }
    moved = announce(c, sq, qid, pi);
    /*
     * The host rings DB_SQ for indices it posted through the ring or
     * gave up writing to a slot: a partial priority copy of an index this
     * doorbell covers is dead now (datasheet 3.2).
     */
    if (dbnic_ring_used(pi, sq->ci) <= dbnic_ring_used(sq->pi, sq->ci)) {
        dbnic_prio_retire(c, ctx, qid, sq->ci, dbnic_ring_used(pi, sq->ci));
    }
    if (moved) {
        dbnic_sq_kick(c, sq, qid);
    }
}

static void db_cq(struct dbnic_core *c, uint32_t ctx, uint32_t val)
{
    uint32_t cqn = DBNIC_GET(val, DBNIC_DB_CQ_CQN);
    uint16_t ci = DBNIC_GET(val, DBNIC_DB_CQ_CI);
    struct dbnic_cq *cq = dbnic_cq_get(c, cqn);

    dbnic_tr(c, DBNIC_TR_DB_CQ, ctx, cqn,
             ci | (val & DBNIC_DB_CQ_ARM ? 1u << 16 : 0));
    if (!cq) {
        refuse(c, ctx, cqn, DBNIC_AERR_DB_BAD_QUEUE);
        return;
    }
    if (cq->ctx != ctx) {
        refuse(c, ctx, cqn, DBNIC_AERR_DB_NOT_OWNER);
        return;
    }
    if (cq->error) {
        return; /* takes nothing until destroyed (datasheet 6.1) */
    }
    /* The consumer may only move forward, and not past the producer. */
    if (dbnic_ring_used(ci, cq->ci) > dbnic_ring_used(cq->pi, cq->ci)) {
        refuse(c, ctx, cqn, DBNIC_AERR_DB_BAD_ACCESS);
        return;
    }
    cq->ci = ci;
    if (val & DBNIC_DB_CQ_ARM) {
        cq->armed = true;
        dbnic_cq_fire_if_armed(c, cq);
    }
}

/* ------------------------------------------------------------------ */
/* Priority slots                                                      */
/* ------------------------------------------------------------------ */

void dbnic_slot_clear(struct dbnic_core *c, struct dbnic_prio_slot *s)
{
    if (s->written) {
        c->prio_partial--;
    }
    s->written = 0;
    s->dead = false;
    s->tail = false;
}

static const struct dbnic_desc_hdr *slot_hdr(const struct dbnic_prio_slot *s)
{
    return (const struct dbnic_desc_hdr *)s->buf;
}

/* Header words present: bytes 0..7 name queue, index and size. */
static bool slot_has_hdr(const struct dbnic_prio_slot *s)
{
    return (s->written & 0x3) == 0x3;
}

/*
 * The assembly can never run or be a doorbell: its index is gone.  It is
 * counted once, here; the slot is cleared when its post's words are in,
 * or at the next post or the flush timeout, without a further effect.
 */
static void slot_kill(struct dbnic_core *c, uint32_t ctx,
                      struct dbnic_prio_slot *s)
{
    const struct dbnic_desc_hdr *h = slot_hdr(s);

    s->dead = true;
    dbnic_count(c, DBNIC_CNT_PRIO_STALE);
    dbnic_tr(c, DBNIC_TR_PRIO_STALE, ctx, dbnic_le16(h->qid),
             dbnic_le16(h->index));
}

/*
 * Kill the assemblies on page ctx whose header names queue qid and one of
 * the n indices from 'from' on.  Called when the queue moves past them
 * (the ring lane passed them, a DB_SQ covered them, the queue went away),
 * so that they are judged against the queue as it is now and not acted
 * on 10 ms later, when a 16-bit index can no longer tell old from new.
 */
void dbnic_prio_retire(struct dbnic_core *c, uint32_t ctx, uint32_t qid,
                       uint16_t from, uint32_t n)
{
    unsigned int i;

    if (!c->prio_partial || !n) {
        return;
    }
    for (i = 0; i < DBNIC_PRIO_SLOTS; i++) {
        struct dbnic_prio_slot *s = &c->ctx[ctx].slot[i];
        const struct dbnic_desc_hdr *h = slot_hdr(s);

        if (s->written && !s->dead && slot_has_hdr(s) &&
            dbnic_le16(h->qid) == qid &&
            dbnic_idx_in(dbnic_le16(h->index), from, n)) {
            slot_kill(c, ctx, s);
        }
    }
}

/*
 * The header has just arrived.  An index outside the ring's worth from
 * the ring lane on was executed already, or is so far ahead that no host
 * could have posted it: either way it is dead at once.  A header naming
 * a queue the page does not own is left for the ownership check when the
 * assembly completes or falls back.
 */
static void slot_check_hdr(struct dbnic_core *c, uint32_t ctx,
                           struct dbnic_prio_slot *s)
{
    const struct dbnic_desc_hdr *h = slot_hdr(s);
    struct dbnic_sq *sq = dbnic_sq_get(c, dbnic_le16(h->qid));
    uint16_t index = dbnic_le16(h->index);

    if (sq && sq->ctx == ctx &&
        (!dbnic_idx_in(index, sq->ci, dbnic_sq_size(sq)) ||
         dbnic_prio_owned(sq, index))) {
        slot_kill(c, ctx, s);
    }
}

/*
 * An assembly that cannot run as it is falls back to the ring copy: its
 * header, if any, is a doorbell for index + 1.  Each assembly is counted
 * once: PRIO_TORN if it was torn (torn, or no header), else
 * PRIO_FALLBACK; a dead one was counted when it died.  timeout: the
 * flush timeout cut the post (a vCPU descheduled in its copy); the rest
 * of its words may still come, however late, so a header-bearing
 * assembly stays in the slot, dead (tail), and takes them until they are
 * all in or the next post rewrites a word: they do not make a headerless
 * assembly counted again, nor spoil the slot's next post (datasheet 3.2:
 * one post, one count).
 */
static void slot_fall_back(struct dbnic_core *c, uint32_t ctx,
                           struct dbnic_prio_slot *s, unsigned int slot,
                           bool torn, bool timeout)
{
    if (s->dead) {
        /* Nothing: counted when it died. */
    } else if (slot_has_hdr(s)) {
        const struct dbnic_desc_hdr *h = slot_hdr(s);
        uint32_t qid = dbnic_le16(h->qid);
        uint16_t index = dbnic_le16(h->index);
        struct dbnic_sq *sq;

        if (torn) {
            dbnic_count(c, DBNIC_CNT_PRIO_TORN);
            dbnic_tr(c, DBNIC_TR_PRIO_TORN, ctx, slot, s->written);
        } else {
            dbnic_count(c, DBNIC_CNT_PRIO_FALLBACK);
            dbnic_tr(c, DBNIC_TR_PRIO_FALLBACK, ctx, qid, index);
        }
        sq = owned_sq(c, ctx, qid);
        /* Left to the engine: this may be in the middle of a write. */
        if (sq && announce(c, sq, qid, index + 1)) {
            dbnic_kick(c, dbnic_now(c) + c->cfg.db_latency_ns);
        }
        if (timeout && !torn && h->size >= 1 &&
            h->size <= DBNIC_DESC_MAX_BLOCKS) {
            s->dead = true;
            s->tail = true;
            return;
        }
    } else {
        dbnic_count(c, DBNIC_CNT_PRIO_TORN);
        dbnic_tr(c, DBNIC_TR_PRIO_TORN, ctx, slot, s->written);
    }
    dbnic_slot_clear(c, s);
}

/* A complete, checksummed priority copy: put it on its queue's lane. */
static void slot_queue(struct dbnic_core *c, uint32_t ctx,
                       struct dbnic_prio_slot *s)
{
    const struct dbnic_desc_hdr *h = slot_hdr(s);
    uint32_t qid = dbnic_le16(h->qid);
    uint16_t index = dbnic_le16(h->index);
    struct dbnic_sq *sq = owned_sq(c, ctx, qid);
    unsigned int tail;

    if (!sq) {
        /* Not this page's queue: drop it, announce nothing. */
        dbnic_slot_clear(c, s);
        return;
    }
    /*
     * Judged when the header came and whenever the queue moved since,
     * so this is fresh; checked again because a copy must never run
     * twice.
     */
    if (!dbnic_idx_in(index, sq->ci, dbnic_sq_size(sq)) ||
        dbnic_prio_owned(sq, index)) {
        slot_kill(c, ctx, s);
        dbnic_slot_clear(c, s);
        return;
    }
    if (sq->lane_len == DBNIC_CORE_PRIO_LANE) {
        /* Lane full: the ring copy will do. */
        slot_fall_back(c, ctx, s, 0, false, false);
        return;
    }

    tail = (sq->lane_head + sq->lane_len) % DBNIC_CORE_PRIO_LANE;
    memset(&sq->lane[tail], 0, sizeof(sq->lane[tail]));
    memcpy(&sq->lane[tail], s->buf, h->size * DBNIC_DESC_BLOCK_SIZE);
    sq->lane_at[tail] = dbnic_now(c) + c->cfg.db_latency_ns;
    sq->lane_len++;
    /* The ring lane will pass this slot without reading it. */
    dbnic_set_prio_owned(sq, index, true);
    dbnic_tr(c, DBNIC_TR_PRIO_QUEUED, ctx, qid, index);
    dbnic_slot_clear(c, s);
    announce(c, sq, qid, index + 1);
    dbnic_ring_lane_skip(c, sq, qid);
    dbnic_sq_kick(c, sq, qid); /* the lane has work, moved or not */
}

static void slot_try_complete(struct dbnic_core *c, uint32_t ctx,
                              struct dbnic_prio_slot *s, unsigned int slot)
{
    const struct dbnic_desc_hdr *h = slot_hdr(s);
    unsigned int words, dwords;
    uint64_t need;

    if (!slot_has_hdr(s)) {
        return;
    }
    if (h->size < 1 || h->size > DBNIC_DESC_MAX_BLOCKS) {
        slot_fall_back(c, ctx, s, slot, false, false);
        return;
    }
    words = h->size * DBNIC_DESC_BLOCK_SIZE / 8;
    dwords = words * 2;
    need = dwords >= 64 ? ~0ull : (1ull << dwords) - 1;
    if ((s->written & need) != need) {
        return;
    }
    if (s->dead) {
        /* The rest of a dead post is in: the slot is free again. */
        dbnic_slot_clear(c, s);
        return;
    }

    if (dbnic_desc_csum(s->buf, words) != dbnic_le32(h->csum)) {
        /* Every word is there, but not all from the same post. */
        slot_fall_back(c, ctx, s, slot, true, false);
        return;
    }
    slot_queue(c, ctx, s);
}

static void prio_write(struct dbnic_core *c, uint32_t ctx, uint32_t off,
                       uint64_t val, unsigned int size)
{
    unsigned int slot = (off - DBNIC_PRIO_OFFSET) / DBNIC_PRIO_SLOT_SIZE;
    unsigned int byte = (off - DBNIC_PRIO_OFFSET) % DBNIC_PRIO_SLOT_SIZE;
    struct dbnic_prio_slot *s = &c->ctx[ctx].slot[slot];
    uint64_t bits = (size == 8 ? 0x3ull : 0x1ull) << (byte / 4);
    uint64_t t = dbnic_now(c);
    unsigned int i;
    bool had_hdr;

    dbnic_tr(c, DBNIC_TR_PRIO_WRITE, ctx, slot, byte | size << 16);
    if (s->written && !s->tail &&
        t - s->last_ns >= DBNIC_PRIO_FLUSH_TIMEOUT_NS) {
        slot_fall_back(c, ctx, s, slot, false, true);
    }
    /* A word written twice: the host has moved on to its next post. */
    if (s->written & bits) {
        slot_fall_back(c, ctx, s, slot, false, false);
    }
    had_hdr = slot_has_hdr(s);

    for (i = 0; i < size; i++) {
        s->buf[byte + i] = (uint8_t)(val >> (8 * i));
    }
    if (!s->written) {
        c->prio_partial++;
    }
    s->written |= bits;
    s->last_ns = t;

    if (!had_hdr && slot_has_hdr(s)) {
        slot_check_hdr(c, ctx, s);
    }
    slot_try_complete(c, ctx, s, slot);
    if (s->written && !s->tail) {
        dbnic_timer_arm(c, t + DBNIC_PRIO_FLUSH_TIMEOUT_NS);
    }
}

/* Flush assemblies that went quiet; arm the timer for the next one. */
void dbnic_prio_flush_expired(struct dbnic_core *c)
{
    uint64_t t = dbnic_now(c), next = 0;
    uint32_t p;
    unsigned int i;

    for (p = 0; p < c->cfg.db_pages && c->prio_partial; p++) {
        for (i = 0; i < DBNIC_PRIO_SLOTS; i++) {
            struct dbnic_prio_slot *s = &c->ctx[p].slot[i];
            uint64_t due = s->last_ns + DBNIC_PRIO_FLUSH_TIMEOUT_NS;

            if (!s->written || s->tail) {
                continue;
            }
            if (t >= due) {
                slot_fall_back(c, p, s, i, false, true);
                continue;
            }
            if (!next || due < next) {
                next = due;
            }
        }
    }
    if (next) {
        dbnic_timer_arm(c, next);
    }
}

void dbnic_core_db_write(struct dbnic_core *c, uint64_t off, uint64_t val,
                         unsigned int size)
{
    uint32_t ctx = off >> DBNIC_DB_PAGE_SHIFT;
    uint32_t in = off & (DBNIC_DB_PAGE_SIZE - 1);

    if (!dbnic_ready(c) || off >= dbnic_core_db_bar_size(c)) {
        return;
    }
    /* The BAR's padding pages (rounding up to a power of 2) take nothing. */
    if (ctx >= c->cfg.db_pages || (size != 4 && size != 8) ||
        (in & (size - 1))) {
        goto bad;
    }

    if (in >= DBNIC_PRIO_OFFSET) {
        if (in >= DBNIC_PRIO_SLOT_OFFSET(DBNIC_PRIO_SLOTS)) {
            goto bad;
        }
        /* An unused page has no queues; its writes go nowhere. */
        if (!c->ctx[ctx].in_use) {
            return;
        }
        prio_write(c, ctx, in, val, size);
        return;
    }
    if (size != 4) {
        goto bad;
    }
    switch (in) {
    case DBNIC_DB_SQ:
        db_sq(c, ctx, (uint32_t)val);
        return;
    case DBNIC_DB_CQ:
        db_cq(c, ctx, (uint32_t)val);
        return;
    case DBNIC_DB_RQ:
        dbnic_eth_db_rq(c, ctx, (uint32_t)val);
        return;
    case DBNIC_DB_QP_RQ:
        dbnic_qp_db_rq(c, ctx, (uint32_t)val);
        return;
    }
bad:
    dbnic_tr(c, DBNIC_TR_BAD_ACCESS, DBNIC_BAR_DB, (uint32_t)off, size);
    refuse(c, ctx, 0, DBNIC_AERR_DB_BAD_ACCESS);
}

uint64_t dbnic_core_db_bar_size(const struct dbnic_core *c)
{
    uint64_t size = (uint64_t)c->cfg.db_pages << DBNIC_DB_PAGE_SHIFT;
    uint64_t pow2 = DBNIC_DB_PAGE_SIZE;

    while (pow2 < size) {
        pow2 <<= 1;
    }
    return pow2;
}
