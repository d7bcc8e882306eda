/*
 * dbnic device core: control registers, the admin queue and life cycle
 * (datasheet sections 2 and 4).  dbnic_core.h explains the split from the
 * QEMU glue; dbnic_core_priv.h lists the core's other files.
 *
 * Everything here is reachable from guest writes, so every index, length
 * and address from the guest is checked before use: a bad guest gets an
 * error completion or a counter, never a crash.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "dbnic_core_priv.h"

/* ------------------------------------------------------------------ */
/* Interrupts, async errors, lookup                                    */
/* ------------------------------------------------------------------ */

void dbnic_raise_irq(struct dbnic_core *c, unsigned int vector)
{
    if (vector == DBNIC_CQ_NO_VECTOR) {
        return; /* a polled CQ */
    }
    dbnic_count(c, DBNIC_CNT_INTERRUPTS);
    dbnic_tr(c, DBNIC_TR_IRQ, vector, 0, 0);
    c->ops->irq(c->opaque, vector);
}

/* Set a vector-0 cause; the vector fires when it goes from clear to set. */
static void cause_set(struct dbnic_core *c, uint32_t cause)
{
    bool was_set = c->intr_cause & cause;

    c->intr_cause |= cause;
    if (!was_set) {
        dbnic_raise_irq(c, 0);
    }
}

/*
 * Without an EQ (1.1 behaviour): ERR keeps the first error until it is
 * read, so a flood of minor errors cannot overwrite it; only ADMIN, which
 * stops the device, replaces what ERR holds.
 */
static void err_latch(struct dbnic_core *c, enum dbnic_async_err code,
                      uint32_t ctx, uint32_t object)
{
    if (!c->err || code == DBNIC_AERR_ADMIN) {
        c->err = DBNIC_SET(DBNIC_ERR_CODE, code) |
                 DBNIC_SET(DBNIC_ERR_CTX, ctx) |
                 DBNIC_SET(DBNIC_ERR_QID, object);
    }
    cause_set(c, DBNIC_INTR_ERROR);
}

/* Write one event entry at eq_pi; -1 if the EQ memory is not writable. */
static int eq_write(struct dbnic_core *c, enum dbnic_async_err code,
                    uint32_t ctx, uint32_t object, uint32_t data)
{
    unsigned int log = c->eq_cfg & DBNIC_EQ_LOG_SIZE_MASK;
    struct dbnic_eqe e;
    uint64_t addr;

    memset(&e, 0, sizeof(e));
    e.object = dbnic_le32(object);
    e.data = dbnic_le32(data);
    e.ctx = dbnic_le16((uint16_t)ctx);
    e.type = code;
    e.flags = dbnic_cq_phase(c->eq_pi, log) ? DBNIC_CQE_F_PHASE : 0;
    addr = c->eq_base + (uint64_t)dbnic_ring_slot(c->eq_pi, log) * sizeof(e);
    if (dbnic_write_cqe(c, addr, &e, sizeof(e))) {
        return -1;
    }
    c->eq_pi++;
    dbnic_count(c, DBNIC_CNT_EVENTS);
    cause_set(c, DBNIC_INTR_EVENT);
    return 0;
}

/*
 * Report an async event (datasheet 7).  Each kind is reported once per
 * object, so what a guest can make the device report is bounded by the
 * objects it has, not by how often it misbehaves.
 */
static void eq_post(struct dbnic_core *c, enum dbnic_async_err code,
                    uint32_t ctx, uint32_t object, uint32_t data);

void dbnic_event(struct dbnic_core *c, enum dbnic_async_err code, uint32_t ctx,
                 uint32_t object, uint32_t data)
{
    uint8_t *reported;

    switch (code) {
    case DBNIC_AERR_DB_NOT_OWNER:
    case DBNIC_AERR_DB_BAD_QUEUE:
    case DBNIC_AERR_DB_BAD_ACCESS:
        /* The BAR's padding pages share one record: they have no context. */
        reported = ctx < c->cfg.db_pages ? &c->ctx[ctx].ev_reported
                                         : &c->pad_ev_reported;
        if (*reported & (1u << code)) {
            return;
        }
        *reported |= 1u << code;
        break;
    case DBNIC_AERR_ADMIN:
        if (c->admin_reported) {
            return;
        }
        c->admin_reported = true;
        break;
    default: /* CQ_OVERFLOW: the caller reports the transition only */
        break;
    }
    dbnic_tr(c, DBNIC_TR_EVENT, code, ctx, object);
    if (!c->eq_on) {
        err_latch(c, code, ctx, object);
        return;
    }
    if (!c->in_run) {
        /*
         * An MMIO handler or the timer: no DMA there (datasheet model:
         * MMIO only records).  The run writes it.  Only doorbell errors
         * (once per page and kind) and ADMIN get here, so the queue,
         * sized for all of them, cannot be full.
         */
        if (code == DBNIC_AERR_LINK) {
            uint32_t i;

            /* One link event waits at most: the latest state wins. */
            for (i = 0; i < c->evq_len; i++) {
                if (c->evq[i].type == DBNIC_AERR_LINK) {
                    c->evq[i].data = data;
                    dbnic_ask_run(c);
                    return;
                }
            }
        }
        if (c->evq_len < c->evq_cap) {
            c->evq[c->evq_len++] = (struct dbnic_pending_ev){
                .type = code, .ctx = ctx, .object = object, .data = data,
            };
        } else {
            dbnic_count(c, DBNIC_CNT_EVENTS_LOST);
        }
        dbnic_ask_run(c);
        return;
    }
    eq_post(c, code, ctx, object, data);
}

/* Write the events recorded outside a run; called by dbnic_core_run(). */
void dbnic_events_flush(struct dbnic_core *c)
{
    uint32_t i;

    for (i = 0; i < c->evq_len; i++) {
        eq_post(c, c->evq[i].type, c->evq[i].ctx, c->evq[i].object,
                c->evq[i].data);
    }
    c->evq_len = 0;
    dbnic_comp_flush(c);
}

/* Write an event to the EQ, keeping its last free entry for overflow. */
static void eq_post(struct dbnic_core *c, enum dbnic_async_err code,
                    uint32_t ctx, uint32_t object, uint32_t data)
{
    uint32_t size, used;

    size = 1u << (c->eq_cfg & DBNIC_EQ_LOG_SIZE_MASK);
    used = dbnic_ring_used(c->eq_pi, c->eq_ci);
    if (used + 1 < size) {
        if (eq_write(c, code, ctx, object, data)) {
            /* An EQ the device cannot write: fall back to ERR. */
            dbnic_count(c, DBNIC_CNT_EVENTS_LOST);
            err_latch(c, code, ctx, object);
        }
        return;
    }
    /* The last free entry is kept for the overflow report. */
    dbnic_count(c, DBNIC_CNT_EVENTS_LOST);
    if (used + 1 == size && !c->eq_ovf) {
        c->eq_ovf = true;
        if (eq_write(c, DBNIC_AERR_EQ_OVERFLOW, 0, 0,
                     (uint32_t)c->counters[DBNIC_CNT_EVENTS_LOST])) {
            err_latch(c, DBNIC_AERR_EQ_OVERFLOW, 0, 0);
        }
    }
}

void dbnic_async_error(struct dbnic_core *c, enum dbnic_async_err code,
                       uint32_t ctx, uint32_t qid)
{
    dbnic_event(c, code, ctx, qid, 0);
}

/*
 * CQ_COMP (datasheet 11.7).  A CQ's event is never dropped, so a CQ
 * whose entry finds no room (the EQ's last free entry is kept for
 * EQ_OVERFLOW) waits in comp_wait until EQ_CI frees some.  A CQ with an
 * entry in the EQ gets no second one until EQ_CI has passed it: one CQ
 * holds at most one entry, so no owner of a CQ can fill the EQ, however
 * often it arms.
 */
static bool eq_room(const struct dbnic_core *c)
{
    uint32_t size = 1u << (c->eq_cfg & DBNIC_EQ_LOG_SIZE_MASK);

    return dbnic_ring_used(c->eq_pi, c->eq_ci) + 1u < size;
}

static void comp_write(struct dbnic_core *c, uint32_t cqn)
{
    struct dbnic_cq *cq = &c->cq[cqn];
    uint16_t at = c->eq_pi;

    dbnic_tr(c, DBNIC_TR_EVENT, DBNIC_AERR_CQ_COMP, cq->ctx, cqn);
    if (eq_write(c, DBNIC_AERR_CQ_COMP, cq->ctx, cqn, 0)) {
        /* An EQ the device cannot write: ERR has it (7.1). */
        err_latch(c, DBNIC_AERR_CQ_COMP, cq->ctx, cqn);
        return;
    }
    cq->comp_in_eq = true;
    cq->comp_at = at;
    c->comp_q[(c->comp_q_head + c->comp_q_len++) % c->cfg.max_cq] = cqn;
}

void dbnic_comp_flush(struct dbnic_core *c)
{
    while (c->comp_wait_len && c->eq_on && eq_room(c)) {
        uint32_t cqn = c->comp_wait[c->comp_wait_head];

        c->comp_wait_head = (c->comp_wait_head + 1) % c->cfg.max_cq;
        c->comp_wait_len--;
        c->cq[cqn].comp_pending = false;
        comp_write(c, cqn);
    }
}

void dbnic_cq_comp(struct dbnic_core *c, struct dbnic_cq *cq)
{
    uint32_t cqn = (uint32_t)(cq - c->cq);

    cq->armed = false;
    if (cq->comp_pending) {
        return; /* one entry answers both arms */
    }
    cq->comp_pending = true;
    c->comp_wait[(c->comp_wait_head + c->comp_wait_len++) % c->cfg.max_cq] =
        cqn;
    if (c->in_run) {
        dbnic_comp_flush(c);
    } else {
        dbnic_ask_run(c); /* MMIO writes no EQ entry */
    }
}

/* Remove cqn from a queue of cqns (each at most once in it). */
static void cqn_queue_drop(uint32_t *q, uint32_t *head, uint32_t *len,
                           uint32_t size, uint32_t cqn)
{
    uint32_t i, n = 0;

    for (i = 0; i < *len; i++) {
        uint32_t v = q[(*head + i) % size];

        if (v != cqn) {
            q[(*head + n++) % size] = v;
        }
    }
    *len = n;
}

void dbnic_comp_forget(struct dbnic_core *c, uint32_t cqn)
{
    cqn_queue_drop(c->comp_q, &c->comp_q_head, &c->comp_q_len, c->cfg.max_cq,
                   cqn);
    cqn_queue_drop(c->comp_wait, &c->comp_wait_head, &c->comp_wait_len,
                   c->cfg.max_cq, cqn);
}

/*
 * EQ_CI moved from the old consumer index by 'passed' entries: CQs whose
 * CQ_COMP entry it passed may have another, and an arm they got
 * meanwhile is answered now if a CQE is past the consumer index.
 */
static void comp_passed(struct dbnic_core *c, uint16_t old_ci, uint16_t passed)
{
    while (c->comp_q_len) {
        uint32_t cqn = c->comp_q[c->comp_q_head];
        struct dbnic_cq *cq = &c->cq[cqn];

        if (dbnic_ring_used(cq->comp_at, old_ci) >= passed) {
            break;
        }
        c->comp_q_head = (c->comp_q_head + 1) % c->cfg.max_cq;
        c->comp_q_len--;
        cq->comp_in_eq = false;
        dbnic_cq_fire_if_armed(c, cq);
    }
    if (c->comp_wait_len) {
        dbnic_ask_run(c); /* room, perhaps */
    }
}

/* EQ_CI: the host consumed event entries up to ci. */
void dbnic_eq_ci(struct dbnic_core *c, uint16_t ci)
{
    if (!c->eq_on ||
        dbnic_ring_used(ci, c->eq_ci) > dbnic_ring_used(c->eq_pi, c->eq_ci)) {
        return; /* backwards or past the producer */
    }
    comp_passed(c, c->eq_ci, dbnic_ring_used(ci, c->eq_ci));
    c->eq_ci = ci;
    if (c->eq_ci == c->eq_pi) {
        c->eq_ovf = false;
    }
}

/*
 * One timer serves the priority-slot flush, the timing model and the RC
 * transport timers (11.10); keep the earliest deadline.  Whoever runs at
 * expiry re-arms for what is left.
 */
void dbnic_timer_arm(struct dbnic_core *c, uint64_t when)
{
    if (c->timer_at && c->timer_at <= when) {
        return;
    }
    c->timer_at = when;
    c->ops->timer_mod(c->opaque, when);
}

bool dbnic_core_timed(const struct dbnic_core *c)
{
    return c->cfg.dma_latency_ns || c->cfg.db_latency_ns || c->cfg.desc_ns ||
           c->cfg.byte_ps;
}

int dbnic_core_timing_profile(const char *name, struct dbnic_core_config *cfg)
{
    /* Figures and their sources: datasheet 9.3. */
    static const struct {
        const char *name;
        uint32_t db_ns, dma_ns, desc_ns, byte_ps;
    } profiles[] = {
        { "off", 0, 0, 0, 0 },
        { "gen3x8", 250, 500, 100, 160 },
    };
    size_t i;

    for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        if (!strcmp(name, profiles[i].name)) {
            cfg->db_latency_ns = profiles[i].db_ns;
            cfg->dma_latency_ns = profiles[i].dma_ns;
            cfg->desc_ns = profiles[i].desc_ns;
            cfg->byte_ps = profiles[i].byte_ps;
            return 0;
        }
    }
    return -1;
}

void dbnic_core_timer(struct dbnic_core *c)
{
    c->timer_at = 0;
    dbnic_prio_flush_expired(c);
    dbnic_roce_timer(c, dbnic_now(c));
    dbnic_fault_timer(c);
    /*
     * Waiting jobs may be due.  Under the timing model the owner's
     * dbnic_core_run() right after this call is the only run: a bottom
     * half at some later moment would finish work late.
     */
    if (!dbnic_core_timed(c) && c->aq_due) {
        dbnic_ask_run(c);
    }
}

struct dbnic_sq *dbnic_sq_get(struct dbnic_core *c, uint32_t qid)
{
    if (qid >= c->cfg.max_sq || !c->sq[qid].in_use) {
        return NULL;
    }
    return &c->sq[qid];
}

struct dbnic_cq *dbnic_cq_get(struct dbnic_core *c, uint32_t cqn)
{
    if (cqn >= c->cfg.max_cq || !c->cq[cqn].in_use) {
        return NULL;
    }
    return &c->cq[cqn];
}

/* ------------------------------------------------------------------ */
/* Admin queue                                                         */
/* ------------------------------------------------------------------ */

/*
 * Send queues are found through a bitmap (a free one) and through their
 * context's list (DESTROY_CTX), not by scanning max_sq entries of some
 * kilobytes each: with max-sq=65535 such a scan took milliseconds per
 * admin command, under the BQL.
 */
static uint32_t sq_find_free(const struct dbnic_core *c)
{
    uint32_t w, n = c->cfg.max_sq;

    for (w = 0; w < (n + 63) / 64; w++) {
        if (~c->sq_used[w]) {
            uint32_t i = w * 64 + __builtin_ctzll(~c->sq_used[w]);

            return i < n ? i : n;
        }
    }
    return n;
}

static void sq_link(struct dbnic_core *c, uint32_t qid)
{
    struct dbnic_ctx *x = &c->ctx[c->sq[qid].ctx];

    c->sq[qid].ctx_next = x->sq_first;
    c->sq[qid].ctx_prev = 0;
    if (x->sq_first) {
        c->sq[x->sq_first - 1].ctx_prev = qid + 1;
    }
    x->sq_first = qid + 1;
    c->sq_used[qid / 64] |= 1ull << (qid % 64);
}

static void sq_unlink(struct dbnic_core *c, uint32_t qid)
{
    struct dbnic_sq *sq = &c->sq[qid];

    if (sq->ctx_prev) {
        c->sq[sq->ctx_prev - 1].ctx_next = sq->ctx_next;
    } else {
        c->ctx[sq->ctx].sq_first = sq->ctx_next;
    }
    if (sq->ctx_next) {
        c->sq[sq->ctx_next - 1].ctx_prev = sq->ctx_prev;
    }
    c->sq_used[qid / 64] &= ~(1ull << (qid % 64));
}

void dbnic_sq_destroy(struct dbnic_core *c, uint32_t qid)
{
    struct dbnic_sq *sq = &c->sq[qid];
    struct dbnic_cq *cq = dbnic_cq_get(c, sq->cqn);

    if (cq) {
        cq->users--;
    }
    /* Copies still being written to its page's slots go with it. */
    dbnic_prio_retire(c, sq->ctx, qid, 0, 0x10000);
    sq_unlink(c, qid);
    memset(sq, 0, sizeof(*sq));
}

static void ctx_destroy(struct dbnic_core *c, uint32_t ctx)
{
    uint32_t i;

    /* QPs first: each takes its send queue with it (datasheet 11.2). */
    dbnic_qp_destroy_ctx(c, ctx);
    while (c->ctx[ctx].sq_first) {
        dbnic_sq_destroy(c, c->ctx[ctx].sq_first - 1);
    }
    for (i = 0; i < c->cfg.max_cq; i++) {
        if (c->cq[i].in_use && c->cq[i].ctx == ctx) {
            dbnic_comp_forget(c, i);
            memset(&c->cq[i], 0, sizeof(c->cq[i]));
        }
    }
    for (i = 0; i < DBNIC_PRIO_SLOTS; i++) {
        dbnic_slot_clear(c, &c->ctx[ctx].slot[i]);
    }
    dbnic_mr_destroy_ctx(c, ctx);
    dbnic_eth_destroy_ctx(c, ctx);
    memset(&c->ctx[ctx], 0, sizeof(c->ctx[ctx]));
}

static uint8_t adm_create_ctx(struct dbnic_core *c,
                              const struct dbnic_admin_cmd *cmd, uint32_t *res)
{
    uint32_t flags = dbnic_le32(cmd->create_ctx.flags);
    uint32_t i;

    if (flags & ~DBNIC_CTX_F_PRIVILEGED) {
        return DBNIC_AST_BAD_PARAM;
    }
    for (i = 0; i < c->cfg.db_pages; i++) {
        if (!c->ctx[i].in_use) {
            memset(&c->ctx[i], 0, sizeof(c->ctx[i]));
            c->ctx[i].in_use = true;
            c->ctx[i].privileged = flags & DBNIC_CTX_F_PRIVILEGED;
            *res = i;
            return DBNIC_AST_OK;
        }
    }
    return DBNIC_AST_NO_RESOURCE;
}

static bool ctx_valid(const struct dbnic_core *c, uint32_t ctx)
{
    return ctx < c->cfg.db_pages && c->ctx[ctx].in_use;
}

static uint8_t adm_create_cq(struct dbnic_core *c,
                             const struct dbnic_admin_cmd *cmd, uint32_t *res)
{
    uint64_t base = dbnic_le64(cmd->create_cq.base);
    uint32_t ctx = dbnic_le32(cmd->create_cq.ctx);
    uint8_t log = cmd->create_cq.log_size;
    uint16_t vec = dbnic_le16(cmd->create_cq.msix_vector);
    uint8_t log_cqe = cmd->create_cq.log_cqe ? cmd->create_cq.log_cqe
                                             : DBNIC_LOG_CQE_16;
    uint32_t i;

    if (!ctx_valid(c, ctx)) {
        return DBNIC_AST_BAD_HANDLE;
    }
    /* 32-byte CQEs and CQ_COMP (1.4, 11.2); CQ_COMP needs the EQ. */
    if ((log_cqe != DBNIC_LOG_CQE_16 && log_cqe != DBNIC_LOG_CQE_32) ||
        !base || (base & ((1u << log_cqe) - 1)) ||
        log < DBNIC_LOG_RING_MIN || log > DBNIC_LOG_RING_MAX ||
        (vec >= c->cfg.msix_vectors && vec != DBNIC_CQ_NO_VECTOR &&
         vec != DBNIC_CQ_EVENT) ||
        (vec == DBNIC_CQ_EVENT && !c->eq_on)) {
        return DBNIC_AST_BAD_PARAM;
    }
    for (i = 0; i < c->cfg.max_cq; i++) {
        struct dbnic_cq *cq = &c->cq[i];

        if (cq->in_use) {
            continue;
        }
        memset(cq, 0, sizeof(*cq));
        cq->in_use = true;
        cq->ctx = ctx;
        cq->base = base;
        cq->log_size = log;
        cq->log_cqe = log_cqe;
        cq->vector = vec;
        *res = i;
        return DBNIC_AST_OK;
    }
    return DBNIC_AST_NO_RESOURCE;
}

/*
 * A send queue of ctx on CQ cqn, whose CQEs must be 2^log_cqe bytes: a
 * plain queue's are 16 bytes, a QP's 32 (datasheet 11.2).
 */
static uint8_t sq_create(struct dbnic_core *c, uint32_t ctx, uint32_t cqn,
                         uint64_t base, uint8_t log, uint8_t stride,
                         uint8_t log_cqe, uint32_t *res)
{
    struct dbnic_cq *cq;
    uint32_t i;

    if (!ctx_valid(c, ctx)) {
        return DBNIC_AST_BAD_HANDLE;
    }
    cq = dbnic_cq_get(c, cqn);
    if (!cq) {
        return DBNIC_AST_BAD_HANDLE;
    }
    if (cq->ctx != ctx || cq->log_cqe != log_cqe || !base ||
        (base & (DBNIC_DESC_BLOCK_SIZE - 1)) ||
        log < DBNIC_LOG_RING_MIN || log > DBNIC_LOG_RING_MAX ||
        stride < DBNIC_LOG_STRIDE_MIN || stride > DBNIC_LOG_STRIDE_MAX) {
        return DBNIC_AST_BAD_PARAM;
    }
    i = sq_find_free(c);
    if (i < c->cfg.max_sq) {
        struct dbnic_sq *sq = &c->sq[i];

        memset(sq, 0, sizeof(*sq));
        sq->in_use = true;
        sq->ctx = ctx;
        sq->cqn = cqn;
        sq->base = base;
        sq->log_size = log;
        sq->log_stride = stride;
        sq_link(c, i);
        cq->users++;
        *res = i;
        return DBNIC_AST_OK;
    }
    return DBNIC_AST_NO_RESOURCE;
}

uint8_t dbnic_sq_create(struct dbnic_core *c, uint32_t ctx, uint32_t cqn,
                        uint64_t base, uint8_t log_size, uint8_t log_stride,
                        uint32_t *qid)
{
    return sq_create(c, ctx, cqn, base, log_size, log_stride,
                     DBNIC_LOG_CQE_32, qid);
}

static uint8_t adm_create_sq(struct dbnic_core *c,
                             const struct dbnic_admin_cmd *cmd, uint32_t *res)
{
    return sq_create(c, dbnic_le32(cmd->create_sq.ctx),
                     dbnic_le32(cmd->create_sq.cqn),
                     dbnic_le64(cmd->create_sq.base), cmd->create_sq.log_size,
                     cmd->create_sq.log_stride, DBNIC_LOG_CQE_16, res);
}

static uint8_t adm_destroy(struct dbnic_core *c,
                           const struct dbnic_admin_cmd *cmd, uint32_t *res)
{
    uint32_t h = dbnic_le32(cmd->destroy.handle);

    switch (cmd->opcode) {
    case DBNIC_ADM_DESTROY_CTX:
        if (!ctx_valid(c, h)) {
            return DBNIC_AST_BAD_HANDLE;
        }
        ctx_destroy(c, h);
        return DBNIC_AST_OK;
    case DBNIC_ADM_DESTROY_CQ:
        if (!dbnic_cq_get(c, h)) {
            return DBNIC_AST_BAD_HANDLE;
        }
        if (c->cq[h].users) {
            return DBNIC_AST_BUSY;
        }
        dbnic_comp_forget(c, h);
        memset(&c->cq[h], 0, sizeof(c->cq[h]));
        return DBNIC_AST_OK;
    default: /* DBNIC_ADM_DESTROY_SQ */
        if (!dbnic_sq_get(c, h)) {
            return DBNIC_AST_BAD_HANDLE;
        }
        if (c->sq[h].qp) {
            return DBNIC_AST_BUSY; /* DESTROY_QP takes it (11.2) */
        }
        /*
         * Where the ring lane stopped (6.1), taken before the flush moves
         * it.  A CQ in error takes no flushed CQEs: nothing to flush.
         */
        *res = c->sq[h].ci;
        if (!dbnic_sq_stopped(c, &c->sq[h])) {
            dbnic_sq_flush(c, &c->sq[h], h);
        }
        dbnic_sq_destroy(c, h);
        return DBNIC_AST_OK;
    }
}

static uint8_t admin_exec(struct dbnic_core *c,
                          const struct dbnic_admin_cmd *cmd, uint32_t *res,
                          uint32_t *res2)
{
    switch (cmd->opcode) {
    case DBNIC_ADM_CREATE_CTX:
        return adm_create_ctx(c, cmd, res);
    case DBNIC_ADM_CREATE_CQ:
        return adm_create_cq(c, cmd, res);
    case DBNIC_ADM_CREATE_SQ:
        return adm_create_sq(c, cmd, res);
    case DBNIC_ADM_DESTROY_CTX:
    case DBNIC_ADM_DESTROY_CQ:
    case DBNIC_ADM_DESTROY_SQ:
        return adm_destroy(c, cmd, res);
    case DBNIC_ADM_REG_MR:
        return dbnic_mr_register(c, cmd, res);
    case DBNIC_ADM_DEREG_MR:
        return dbnic_mr_deregister(c, dbnic_le32(cmd->destroy.handle));
    case DBNIC_ADM_CREATE_RQ:
        return dbnic_eth_create_rq(c, cmd, res);
    case DBNIC_ADM_DESTROY_RQ:
        return dbnic_eth_destroy_rq(c, dbnic_le32(cmd->destroy.handle));
    case DBNIC_ADM_SET_RSS:
        return dbnic_eth_set_rss(c, cmd);
    case DBNIC_ADM_CREATE_QP:
    case DBNIC_ADM_MODIFY_QP:
    case DBNIC_ADM_QUERY_QP:
    case DBNIC_ADM_DESTROY_QP:
    case DBNIC_ADM_CREATE_AH:
    case DBNIC_ADM_DESTROY_AH:
    case DBNIC_ADM_SET_GID:
        if (!c->cfg.roce) {
            return DBNIC_AST_BAD_OPCODE; /* no RDMA feature (datasheet 2) */
        }
        return dbnic_qp_admin(c, cmd, res, res2);
    default:
        return DBNIC_AST_BAD_OPCODE;
    }
}

static void admin_fatal(struct dbnic_core *c)
{
    c->status |= DBNIC_STATUS_FATAL;
    dbnic_async_error(c, DBNIC_AERR_ADMIN, 0, 0);
}

/*
 * Test-only admin_delay_ms: may the command at the head run now?  If not,
 * the timer brings the engine back when it may.
 */
static bool admin_due(struct dbnic_core *c, uint8_t opcode)
{
    uint64_t now;

    if (!c->cfg.admin_delay_ms || opcode >= 32 ||
        !(c->cfg.admin_delay_ops & (1u << opcode))) {
        return true;
    }
    now = c->ops->clock_ns(c->opaque);
    if (!c->aq_due) {
        c->aq_due = now + (uint64_t)c->cfg.admin_delay_ms * 1000000u;
    }
    if (now < c->aq_due) {
        dbnic_timer_arm(c, c->aq_due);
        return false;
    }
    c->aq_due = 0;
    return true;
}

void dbnic_run_admin(struct dbnic_core *c)
{
    unsigned int log = c->aq_cfg & DBNIC_AQ_LOG_SIZE_MASK;
    unsigned int budget = DBNIC_CORE_RUN_ADMIN;
    bool posted = false;

    if (c->status & DBNIC_STATUS_FATAL) {
        return;
    }
    while (c->aq_ci != c->aq_pi) {
        struct dbnic_admin_cmd cmd;
        struct dbnic_admin_cqe cqe;
        uint32_t res = 0, res2 = 0;
        uint64_t addr;

        if (!budget--) {
            dbnic_ask_run(c); /* the rest in the next run */
            break;
        }

        addr = c->aq_sq_base +
               (uint64_t)dbnic_ring_slot(c->aq_ci, log) * sizeof(cmd);
        if (c->ops->dma_read(c->opaque, addr, &cmd, sizeof(cmd))) {
            admin_fatal(c);
            return;
        }
        if (!admin_due(c, cmd.opcode)) {
            break;
        }
        c->aq_ci++;
        memset(&cqe, 0, sizeof(cqe));
        cqe.status = admin_exec(c, &cmd, &res, &res2);
        cqe.result = dbnic_le32(res);
        cqe.result2 = dbnic_le32(res2);
        cqe.cmd_id = cmd.cmd_id;
        cqe.sq_head = dbnic_le16(c->aq_ci);
        cqe.flags = dbnic_cq_phase(c->aq_cq_pi, log) ? DBNIC_CQE_F_PHASE : 0;
        dbnic_count(c, DBNIC_CNT_ADMIN_CMDS);
        dbnic_tr(c, DBNIC_TR_ADMIN, cmd.opcode, cqe.status, res);

        addr = c->aq_cq_base +
               (uint64_t)dbnic_ring_slot(c->aq_cq_pi, log) * sizeof(cqe);
        if (dbnic_write_cqe(c, addr, &cqe, sizeof(cqe))) {
            admin_fatal(c);
            return;
        }
        c->aq_cq_pi++;
        posted = true;
    }
    if (posted) {
        cause_set(c, DBNIC_INTR_ADMIN);
    }
}

/* ------------------------------------------------------------------ */
/* Control registers                                                   */
/* ------------------------------------------------------------------ */

static void destroy_all(struct dbnic_core *c)
{
    uint32_t i;

    for (i = 0; i < c->cfg.db_pages; i++) {
        ctx_destroy(c, i);
    }
    dbnic_mr_reset(c);
    dbnic_eth_reset(c);
    dbnic_qp_reset(c);
    dbnic_roce_loop_reset(c);
    dbnic_fault_reset(c);
    c->comp_q_len = c->comp_wait_len = 0;
    c->prio_partial = 0;
    c->timer_at = 0;
    c->link_ps = 0;
    c->aq_due = 0;
    c->aq_pi = c->aq_ci = c->aq_cq_pi = 0;
    c->rr_next = 0;
    c->prio_scan = 0;
    memset(c->sq_busy, 0, (c->cfg.max_sq + 63) / 64 * sizeof(*c->sq_busy));
    c->eq_on = false;
    c->eq_ovf = false;
    c->eq_pi = c->eq_ci = 0;
    c->evq_len = 0;
    c->run_asked = false; /* nothing is left for a run to do */
    c->admin_reported = false;
    c->pad_ev_reported = 0;
}

void dbnic_core_reset(struct dbnic_core *c)
{
    destroy_all(c);
    c->ctrl = 0;
    c->status = 0;
    c->intr_cause = 0;
    c->err = 0;
    c->aq_sq_base = 0;
    c->aq_cq_base = 0;
    c->aq_cfg = 0;
    c->eq_base = 0;
    c->eq_cfg = 0;
    memset(c->counters, 0, sizeof(c->counters));
}

/*
 * A ring of n bytes at base: non-zero, aligned to align, and not wrapping
 * past the top of the address space.
 */
static bool ring_ok(uint64_t base, uint64_t bytes, uint64_t align)
{
    return base && !(base & (align - 1)) && base + bytes - 1 > base;
}

/* The latched configuration is usable (datasheet 2.1). */
static bool config_ok(const struct dbnic_core *c)
{
    unsigned int log = c->aq_cfg & DBNIC_AQ_LOG_SIZE_MASK;
    unsigned int eq_log = c->eq_cfg & DBNIC_EQ_LOG_SIZE_MASK;

    if (log < DBNIC_AQ_LOG_SIZE_MIN || log > DBNIC_AQ_LOG_SIZE_MAX ||
        !ring_ok(c->aq_sq_base, (uint64_t)DBNIC_ADMIN_CMD_SIZE << log,
                 DBNIC_ADMIN_CMD_SIZE) ||
        !ring_ok(c->aq_cq_base, sizeof(struct dbnic_admin_cqe) << log,
                 sizeof(struct dbnic_admin_cqe))) {
        return false;
    }
    if (eq_log == 0) {
        return true; /* no event queue: ERR as in 1.1 */
    }
    return eq_log >= DBNIC_EQ_LOG_SIZE_MIN && eq_log <= DBNIC_EQ_LOG_SIZE_MAX &&
           ring_ok(c->eq_base, sizeof(struct dbnic_eqe) << eq_log,
                   sizeof(struct dbnic_eqe));
}

static void write_ctrl(struct dbnic_core *c, uint32_t val)
{
    if (val & DBNIC_CTRL_RESET) {
        dbnic_core_reset(c);
        return;
    }
    if ((val & DBNIC_CTRL_ENABLE) && !(c->ctrl & DBNIC_CTRL_ENABLE)) {
        c->ctrl = DBNIC_CTRL_ENABLE;
        if (!config_ok(c)) {
            admin_fatal(c); /* to ERR: eq_on is still false */
            return;
        }
        c->eq_on = (c->eq_cfg & DBNIC_EQ_LOG_SIZE_MASK) != 0;
        c->status = DBNIC_STATUS_READY;
    } else if (!(val & DBNIC_CTRL_ENABLE) && (c->ctrl & DBNIC_CTRL_ENABLE)) {
        destroy_all(c);
        c->ctrl = 0;
        c->status = 0;
    }
}

static uint32_t cap_reg(const struct dbnic_core *c, uint64_t off)
{
    switch (off) {
    case DBNIC_REG_ID:
        return DBNIC_ID_MAGIC;
    case DBNIC_REG_VERSION:
        return DBNIC_VERSION;
    case DBNIC_REG_CAP_QUEUES:
        return DBNIC_SET(DBNIC_CAPQ_MAX_SQ, c->cfg.max_sq) |
               DBNIC_SET(DBNIC_CAPQ_MAX_CQ, c->cfg.max_cq);
    case DBNIC_REG_CAP_DB:
        return DBNIC_SET(DBNIC_CAPDB_PAGES, c->cfg.db_pages) |
               DBNIC_SET(DBNIC_CAPDB_PAGE_SHIFT, DBNIC_DB_PAGE_SHIFT) |
               DBNIC_SET(DBNIC_CAPDB_PRIO_SLOTS, DBNIC_PRIO_SLOTS);
    case DBNIC_REG_CAP_LIMITS:
        return DBNIC_SET(DBNIC_CAPL_LOG_RING, DBNIC_LOG_RING_MAX) |
               DBNIC_SET(DBNIC_CAPL_MAX_BLOCKS, DBNIC_DESC_MAX_BLOCKS) |
               DBNIC_SET(DBNIC_CAPL_MAX_SGE, DBNIC_MAX_SGE) |
               DBNIC_SET(DBNIC_CAPL_MSIX, c->cfg.msix_vectors);
    case DBNIC_REG_CAP_FEATURES:
        return DBNIC_FEAT_PRIORITY | DBNIC_FEAT_COPY | DBNIC_FEAT_FILL |
               DBNIC_FEAT_COMPARE | DBNIC_FEAT_NET | DBNIC_FEAT_EQ |
               (c->cfg.roce ? DBNIC_FEAT_RDMA : 0);
    case DBNIC_REG_CAP_QP:
        return c->cfg.roce ? DBNIC_SET(DBNIC_CAPQP_MAX_QP, c->cfg.max_qp) : 0;
    case DBNIC_REG_CAP_AH:
        return c->cfg.roce ? c->cfg.max_ah : 0;
    case DBNIC_REG_CAP_RDMA:
        return c->cfg.roce ? DBNIC_SET(DBNIC_CAPR_RD_ATOMIC,
                                       DBNIC_QP_MAX_RD_ATOMIC) |
                             DBNIC_SET(DBNIC_CAPR_GIDS, DBNIC_GID_TBL_LEN) |
                             DBNIC_SET(DBNIC_CAPR_MTU, DBNIC_IB_MTU_MAX)
                           : 0;
    case DBNIC_REG_CAP_MAX_XFER:
        return DBNIC_MAX_XFER;
    case DBNIC_REG_CAP_MRS:
        return c->cfg.max_mr;
    case DBNIC_REG_MAC_LO:
        return c->cfg.mac[0] | c->cfg.mac[1] << 8 | c->cfg.mac[2] << 16 |
               (uint32_t)c->cfg.mac[3] << 24;
    case DBNIC_REG_MAC_HI:
        return c->cfg.mac[4] | c->cfg.mac[5] << 8;
    case DBNIC_REG_NET_STATUS:
        return c->link_up ? DBNIC_NET_LINK_UP : 0;
    case DBNIC_REG_NET_MAX_FRAME:
        return DBNIC_ETH_MAX_FRAME;
    }
    return 0;
}

uint64_t dbnic_core_ctrl_read(struct dbnic_core *c, uint64_t off,
                              unsigned int size)
{
    uint64_t v = 0;
    uint32_t reg = off & ~7ull;

    if ((size != 4 && size != 8) || (off & (size - 1)) ||
        off >= DBNIC_CTRL_BAR_SIZE) {
        return 0;
    }

    if (off >= DBNIC_REG_COUNTERS && off < DBNIC_REG_COUNTER(DBNIC_CNT_NUM)) {
        v = c->counters[(off - DBNIC_REG_COUNTERS) / 8];
        return size == 8 ? v : (uint32_t)(v >> (off & 4 ? 32 : 0));
    }
    switch (reg) {
    case DBNIC_REG_AQ_SQ_BASE:
        v = c->aq_sq_base;
        break;
    case DBNIC_REG_AQ_CQ_BASE:
        v = c->aq_cq_base;
        break;
    case DBNIC_REG_EQ_BASE:
        v = c->eq_base;
        break;
    default:
        if (size != 4) {
            return 0;
        }
        switch (off) {
        case DBNIC_REG_CTRL:
            return c->ctrl;
        case DBNIC_REG_STATUS:
            return c->status;
        case DBNIC_REG_INTR_CAUSE:
            return c->intr_cause;
        case DBNIC_REG_ERR:
            v = c->err;
            c->err = 0;
            return v;
        case DBNIC_REG_AQ_CFG:
            return c->aq_cfg;
        case DBNIC_REG_EQ_CFG:
            return c->eq_cfg;
        default:
            return cap_reg(c, off);
        }
    }
    return size == 8 ? v : (uint32_t)(v >> (off & 4 ? 32 : 0));
}

/* Update the 4 or 8 bytes of a 64-bit register that a write covers. */
static void write64_part(uint64_t *reg, uint64_t off, uint64_t val,
                         unsigned int size)
{
    if (size == 8) {
        *reg = val;
    } else if (off & 4) {
        *reg = (*reg & 0xffffffffull) | (val << 32);
    } else {
        *reg = (*reg & ~0xffffffffull) | (uint32_t)val;
    }
}

void dbnic_core_ctrl_write(struct dbnic_core *c, uint64_t off, uint64_t val,
                           unsigned int size)
{
    if ((size != 4 && size != 8) || (off & (size - 1)) ||
        off >= DBNIC_CTRL_BAR_SIZE) {
        return;
    }
    dbnic_tr(c, DBNIC_TR_REG_WRITE, (uint32_t)off, 0, val);

    switch (off & ~7ull) {
    case DBNIC_REG_AQ_SQ_BASE:
    case DBNIC_REG_AQ_CQ_BASE:
    case DBNIC_REG_EQ_BASE:
        if (c->ctrl & DBNIC_CTRL_ENABLE) {
            dbnic_count(c, DBNIC_CNT_REG_LATCHED);
        } else if ((off & ~7ull) == DBNIC_REG_AQ_SQ_BASE) {
            write64_part(&c->aq_sq_base, off, val, size);
        } else if ((off & ~7ull) == DBNIC_REG_AQ_CQ_BASE) {
            write64_part(&c->aq_cq_base, off, val, size);
        } else {
            write64_part(&c->eq_base, off, val, size);
        }
        return;
    }
    if (size != 4) {
        return;
    }
    if ((off == DBNIC_REG_AQ_CFG || off == DBNIC_REG_EQ_CFG) &&
        (c->ctrl & DBNIC_CTRL_ENABLE)) {
        dbnic_count(c, DBNIC_CNT_REG_LATCHED);
        return;
    }
    switch (off) {
    case DBNIC_REG_CTRL:
        write_ctrl(c, (uint32_t)val);
        break;
    case DBNIC_REG_INTR_CAUSE:
        c->intr_cause &= ~(uint32_t)val;
        break;
    case DBNIC_REG_AQ_CFG:
        c->aq_cfg = val & DBNIC_AQ_LOG_SIZE_MASK;
        break;
    case DBNIC_REG_EQ_CFG:
        c->eq_cfg = val & DBNIC_EQ_LOG_SIZE_MASK;
        break;
    case DBNIC_REG_EQ_CI:
        if (dbnic_ready(c)) {
            dbnic_eq_ci(c, DBNIC_GET((uint32_t)val, DBNIC_EQ_CI));
        }
        break;
    case DBNIC_REG_AQ_DB:
        if (!dbnic_ready(c)) {
            break;
        }
        /* More than a ring's worth outstanding: the host is broken. */
        if (dbnic_ring_used((uint16_t)val, c->aq_ci) >
            (1u << (c->aq_cfg & DBNIC_AQ_LOG_SIZE_MASK))) {
            admin_fatal(c);
            break;
        }
        c->aq_pi = (uint16_t)val;
        dbnic_ask_run(c);
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

int dbnic_core_init(struct dbnic_core *c, const struct dbnic_core_config *cfg,
                    const struct dbnic_core_ops *ops, void *opaque)
{
    memset(c, 0, sizeof(*c));
    if (cfg->db_pages < 1 || cfg->db_pages > 256 || cfg->max_sq < 1 ||
        cfg->max_sq > 0xffff || cfg->max_cq < 1 || cfg->max_cq > 0x7fff ||
        cfg->msix_vectors < 1 || cfg->msix_vectors > 255 || cfg->max_mr < 1 ||
        cfg->max_mr > 0xffff || cfg->max_qp < 1 ||
        cfg->max_qp > DBNIC_MAX_QP || cfg->max_ah < 1 ||
        cfg->max_ah > DBNIC_MAX_AH ||
        cfg->admin_delay_ms > DBNIC_CORE_ADMIN_DELAY_MAX_MS) {
        return -1;
    }
    c->cfg = *cfg;
    if (c->cfg.inline_bytes > DBNIC_CORE_INLINE_MAX) {
        c->cfg.inline_bytes = DBNIC_CORE_INLINE_MAX;
    }
    c->ops = ops;
    c->opaque = opaque;
    c->ctx = calloc(cfg->db_pages, sizeof(*c->ctx));
    c->sq = calloc(cfg->max_sq, sizeof(*c->sq));
    c->cq = calloc(cfg->max_cq, sizeof(*c->cq));
    c->mr = calloc(cfg->max_mr, sizeof(*c->mr));
    c->qp = calloc(cfg->max_qp, sizeof(*c->qp));
    c->ah = calloc(cfg->max_ah, sizeof(*c->ah));
    c->comp_q = calloc(cfg->max_cq, sizeof(*c->comp_q));
    c->comp_wait = calloc(cfg->max_cq, sizeof(*c->comp_wait));
    c->sq_busy = calloc((cfg->max_sq + 63) / 64, sizeof(*c->sq_busy));
    c->sq_used = calloc((cfg->max_sq + 63) / 64, sizeof(*c->sq_used));
    /* Events raised outside a run: 3 doorbell kinds per page, ADMIN, LINK. */
    c->evq_cap = 3 * cfg->db_pages + 2;
    c->evq = calloc(c->evq_cap, sizeof(*c->evq));
    c->eth_buf = malloc(DBNIC_ETH_MAX_TSO);
    if (!c->ctx || !c->sq || !c->cq || !c->mr || !c->sq_busy ||
        !c->sq_used || !c->evq || !c->eth_buf || !c->qp || !c->ah ||
        !c->comp_q || !c->comp_wait) {
        dbnic_core_free(c);
        return -1;
    }
    dbnic_core_reset(c);
    return 0;
}

void dbnic_core_free(struct dbnic_core *c)
{
    free(c->ctx);
    free(c->sq);
    free(c->cq);
    free(c->mr);
    free(c->qp);
    free(c->ah);
    free(c->comp_q);
    free(c->comp_wait);
    free(c->roce_loop);
    c->roce_loop = NULL;
    dbnic_fault_free(c);
    c->qp = NULL;
    c->ah = NULL;
    c->comp_q = NULL;
    c->comp_wait = NULL;
    free(c->sq_busy);
    free(c->sq_used);
    free(c->evq);
    free(c->eth_buf);
    c->eth_buf = NULL;
    c->evq = NULL;
    c->mr = NULL;
    c->sq_busy = NULL;
    c->sq_used = NULL;
    c->ctx = NULL;
    c->sq = NULL;
    c->cq = NULL;
}
