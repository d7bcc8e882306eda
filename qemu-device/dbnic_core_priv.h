/*
 * dbnic device core: declarations shared by the core's files only.
 *
 *   dbnic_core.c      registers, admin queue, life cycle
 *   dbnic_doorbell.c  doorbell decode, priority-slot assembly
 *   dbnic_exec.c      execution engine, descriptors, completions
 *   dbnic_mr.c        memory registrations and address translation
 *   dbnic_eth.c       the network port: ETH_TX, receive queues, RSS
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DBNIC_CORE_PRIV_H
#define DBNIC_CORE_PRIV_H

#include "dbnic_core.h"

/* Device memory is little-endian; the conversions are their own inverse. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define dbnic_le16(x) __builtin_bswap16(x)
#define dbnic_le32(x) __builtin_bswap32(x)
#define dbnic_le64(x) __builtin_bswap64(x)
#else
#define dbnic_le16(x) ((uint16_t)(x))
#define dbnic_le32(x) ((uint32_t)(x))
#define dbnic_le64(x) ((uint64_t)(x))
#endif

static inline void dbnic_count(struct dbnic_core *c, enum dbnic_counter i)
{
    c->counters[i]++;
}

static inline void dbnic_tr(struct dbnic_core *c, enum dbnic_trace_event ev,
                            uint32_t a, uint32_t b, uint64_t d)
{
    if (c->ops->trace) {
        c->ops->trace(c->opaque, ev, a, b, d);
    }
}

/* dbnic_core.c: one timer for the flush timeout and the timing model. */
void dbnic_timer_arm(struct dbnic_core *c, uint64_t when);

static inline uint64_t dbnic_now(struct dbnic_core *c)
{
    return c->ops->clock_ns(c->opaque);
}

static inline bool dbnic_ready(const struct dbnic_core *c)
{
    return c->status & DBNIC_STATUS_READY;
}

static inline uint32_t dbnic_sq_size(const struct dbnic_sq *sq)
{
    return 1u << sq->log_size;
}

/*
 * Is index i one of the n indices from 'from' on, on the free-running
 * 16-bit counter?  Exact only while the caller knows the range is less
 * than a wrap old, which is why the core judges indices when they arrive
 * and when the queue moves, never from a window much later.
 */
static inline bool dbnic_idx_in(uint16_t i, uint16_t from, uint32_t n)
{
    return (uint16_t)(i - from) < n;
}

/*
 * Ask for a run of the engine (dbnic_core_run()).  Until it comes, the
 * engine may have work anywhere, so no doorbell may run its queue's work
 * inline (dbnic_sq_kick()).  Under the timing model the run comes from
 * the timer at modelled time 'when' (>= now), never from ops->schedule:
 * under QEMU's icount a timer falls due at an exact instruction count,
 * a bottom half whenever the main loop gets to it.
 */
static inline void dbnic_kick(struct dbnic_core *c, uint64_t when)
{
    /* Until the run comes, no doorbell may run its work inline. */
    c->run_asked = true;
    if (dbnic_core_timed(c)) {
        dbnic_timer_arm(c, when);
    } else {
        c->ops->schedule(c->opaque);
    }
}

/* A run as soon as possible. */
static inline void dbnic_ask_run(struct dbnic_core *c)
{
    dbnic_kick(c, dbnic_now(c));
}

/* A send queue whose CQ is in error starts nothing (datasheet 6.1). */
static inline bool dbnic_sq_stopped(const struct dbnic_core *c,
                                    const struct dbnic_sq *sq)
{
    return sq->cqn < c->cfg.max_cq && c->cq[sq->cqn].in_use &&
           c->cq[sq->cqn].error;
}

/* The send queue may have work: the engine's scans look at it again. */
static inline void dbnic_sq_wake(struct dbnic_core *c, uint32_t qid)
{
    c->sq_busy[qid / 64] |= 1ull << (qid % 64);
}

/* dbnic_core.c */
void dbnic_raise_irq(struct dbnic_core *c, unsigned int vector);
void dbnic_async_error(struct dbnic_core *c, enum dbnic_async_err code,
                       uint32_t ctx, uint32_t qid);
void dbnic_event(struct dbnic_core *c, enum dbnic_async_err code, uint32_t ctx,
                 uint32_t object, uint32_t data);
void dbnic_eq_ci(struct dbnic_core *c, uint16_t ci);
void dbnic_events_flush(struct dbnic_core *c);
struct dbnic_sq *dbnic_sq_get(struct dbnic_core *c, uint32_t qid);
struct dbnic_cq *dbnic_cq_get(struct dbnic_core *c, uint32_t cqn);
void dbnic_run_admin(struct dbnic_core *c);

/* dbnic_doorbell.c */
void dbnic_slot_clear(struct dbnic_core *c, struct dbnic_prio_slot *s);
void dbnic_prio_flush_expired(struct dbnic_core *c);
void dbnic_prio_retire(struct dbnic_core *c, uint32_t ctx, uint32_t qid,
                       uint16_t from, uint32_t n);

/* dbnic_exec.c */
int dbnic_write_cqe(struct dbnic_core *c, uint64_t addr, const void *entry);
void dbnic_complete(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                    uint16_t index, uint8_t status, uint32_t bytes, bool prio);
void dbnic_cq_post(struct dbnic_core *c, uint32_t cqn, void *entry);
bool dbnic_prio_owned(const struct dbnic_sq *sq, uint16_t index);
void dbnic_set_prio_owned(struct dbnic_sq *sq, uint16_t index, bool on);
void dbnic_ring_lane_skip(struct dbnic_core *c, struct dbnic_sq *sq,
                          uint32_t qid);
void dbnic_sq_flush(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid);
void dbnic_sq_kick(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid);

/* dbnic_mr.c */
uint8_t dbnic_sge_check(struct dbnic_core *c, uint32_t ctx,
                        const struct dbnic_sge *sge, bool write);
int dbnic_sge_translate(struct dbnic_core *c, uint32_t ctx,
                        const struct dbnic_sge *sge, uint32_t off, uint32_t max,
                        uint64_t *dma, uint32_t *len);
uint8_t dbnic_mr_register(struct dbnic_core *c,
                          const struct dbnic_admin_cmd *cmd, uint32_t *key);
uint8_t dbnic_mr_deregister(struct dbnic_core *c, uint32_t key);
void dbnic_mr_destroy_ctx(struct dbnic_core *c, uint32_t ctx);
void dbnic_mr_reset(struct dbnic_core *c);

/* dbnic_eth.c */
uint8_t dbnic_eth_tx_validate(struct dbnic_core *c, struct dbnic_sq *sq,
                              uint64_t *total);
uint8_t dbnic_eth_tx_send(struct dbnic_core *c, struct dbnic_sq *sq,
                          uint32_t qid, bool *busy, uint32_t *read);
uint8_t dbnic_eth_create_rq(struct dbnic_core *c,
                            const struct dbnic_admin_cmd *cmd, uint32_t *res);
uint8_t dbnic_eth_destroy_rq(struct dbnic_core *c, uint32_t rqn);
uint8_t dbnic_eth_set_rss(struct dbnic_core *c,
                          const struct dbnic_admin_cmd *cmd);
void dbnic_eth_destroy_ctx(struct dbnic_core *c, uint32_t ctx);
void dbnic_eth_reset(struct dbnic_core *c);
void dbnic_eth_db_rq(struct dbnic_core *c, uint32_t ctx, uint32_t val);
bool dbnic_eth_tx_inline(const struct dbnic_desc *d);

#endif /* DBNIC_CORE_PRIV_H */
