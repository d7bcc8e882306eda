/*
 * dbnic device core: declarations shared by the core's files only.
 *
 *   dbnic_core.c      registers, admin queue, life cycle
 *   dbnic_doorbell.c  doorbell decode, priority-slot assembly
 *   dbnic_exec.c      execution engine, descriptors, completions
 *   dbnic_mr.c        memory registrations and address translation
 *   dbnic_eth.c       the network port: ETH_TX, receive queues, RSS
 *   dbnic_roce_tx.c   RoCE v2 requester, responder output (dbnic_roce.h)
 *   dbnic_roce_rx.c   RoCE v2 receive: demux, checks, responder
 *   dbnic_fault.c     fault injection on the RoCE port (emulated only)
 *   dbnic_qp.c        RDMA objects: GIDs, AHs, QPs and their admin commands,
 *                     the IBTA state machine, the checks of send WQEs
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

/*
 * Is direction d's fault injection to see this packet (11.11)?  Not when
 * every rate is 0 and nothing is held (a reordered packet waits for the
 * next one even after its rate went back to 0), nor for a packet it
 * delivers itself.
 */
static inline bool dbnic_fault_on(const struct dbnic_core *c,
                                  enum dbnic_fault_dir d)
{
    return (c->fault.side[d].on || c->fault.side[d].n) &&
           !c->fault.side[d].bypass;
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
/*
 * CREATE_SQ's checks and work for a QP's send queue (its CQ must have
 * 32-byte CQEs): an admin status, the qid in *qid.
 */
uint8_t dbnic_sq_create(struct dbnic_core *c, uint32_t ctx, uint32_t cqn,
                        uint64_t base, uint8_t log_size, uint8_t log_stride,
                        uint32_t *qid);
/* Take a send queue down without completions (DESTROY_QP, contexts). */
void dbnic_sq_destroy(struct dbnic_core *c, uint32_t qid);
/*
 * CQ_COMP (datasheet 11.7) of a DBNIC_CQ_EVENT CQ: an armed CQ has a CQE
 * past its consumer index.  The entry is written now if it may be (in a
 * run, none of the CQ's in the EQ, room for it), else when it may; it
 * is never dropped.
 */
void dbnic_cq_comp(struct dbnic_core *c, struct dbnic_cq *cq);
/* Write the CQ_COMP entries that wait for room; in a run only. */
void dbnic_comp_flush(struct dbnic_core *c);
/* The CQ goes away: it leaves the CQ_COMP queues. */
void dbnic_comp_forget(struct dbnic_core *c, uint32_t cqn);

/* dbnic_doorbell.c */
void dbnic_slot_clear(struct dbnic_core *c, struct dbnic_prio_slot *s);
void dbnic_prio_flush_expired(struct dbnic_core *c);
void dbnic_prio_retire(struct dbnic_core *c, uint32_t ctx, uint32_t qid,
                       uint16_t from, uint32_t n);

/* dbnic_exec.c */
/* An entry of size bytes (16, 32): all but its last 4 bytes, then those. */
int dbnic_write_cqe(struct dbnic_core *c, uint64_t addr, const void *entry,
                    size_t size);
void dbnic_complete(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                    uint16_t index, uint8_t status, uint32_t bytes, bool prio);
void dbnic_cq_post(struct dbnic_core *c, uint32_t cqn, void *entry);
/* The same for a 32-byte CQE (11.6) on a CQ with log_cqe 5. */
void dbnic_cq_post_rdma(struct dbnic_core *c, uint32_t cqn,
                        struct dbnic_rdma_cqe *cqe);
/* The CQ's interrupt or CQ_COMP, if armed and a CQE is past ci. */
void dbnic_cq_fire_if_armed(struct dbnic_core *c, struct dbnic_cq *cq);
bool dbnic_prio_owned(const struct dbnic_sq *sq, uint16_t index);
void dbnic_set_prio_owned(struct dbnic_sq *sq, uint16_t index, bool on);
void dbnic_ring_lane_skip(struct dbnic_core *c, struct dbnic_sq *sq,
                          uint32_t qid);
void dbnic_sq_flush(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid);
void dbnic_sq_kick(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid);
/* A QP's send queue to ERR: flush in index order (WR_FLUSH_ERR CQEs). */
void dbnic_sq_flush_qp(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid);
/* A QP's send queue to RESET: discard what is posted, no CQEs. */
void dbnic_sq_discard(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid);

/* dbnic_mr.c */
uint8_t dbnic_sge_check(struct dbnic_core *c, uint32_t ctx,
                        const struct dbnic_sge *sge, bool write);
/*
 * dbnic_sge_check() for an SGE of a QP (datasheet 11.1): a non-zero key
 * must name a registration of ctx and of protection domain pd too.
 */
uint8_t dbnic_sge_check_pd(struct dbnic_core *c, uint32_t ctx, uint32_t pd,
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


/* dbnic_qp.c: RDMA objects (datasheet 11) */
/* Admin commands 0x0c-0x12; *res2 goes to the admin CQE's result2. */
uint8_t dbnic_qp_admin(struct dbnic_core *c, const struct dbnic_admin_cmd *cmd,
                       uint32_t *res, uint32_t *res2);
/* DESTROY_CTX: the context's QPs and AHs go first, without completions. */
void dbnic_qp_destroy_ctx(struct dbnic_core *c, uint32_t ctx);
/* Reset and disable: every QP, AH and GID, generations restart. */
void dbnic_qp_reset(struct dbnic_core *c);
/* The live QP a QPN names (DBNIC_GSI_QPN: the GSI QP), or NULL. */
struct dbnic_qp *dbnic_qp_get(struct dbnic_core *c, uint32_t qpn);
/* The QPN the QP reports: gen << 12 | index, DBNIC_GSI_QPN for the GSI. */
uint32_t dbnic_qp_num(const struct dbnic_core *c, const struct dbnic_qp *qp);
/* The QP whose send queue sq is, or NULL for a plain send queue. */
static inline struct dbnic_qp *dbnic_qp_of_sq(struct dbnic_core *c,
                                              const struct dbnic_sq *sq)
{
    return sq->qp ? &c->qp[sq->qp - 1] : NULL;
}
/* The live AH a handle names if it is of ctx and pd, else NULL. */
struct dbnic_ah *dbnic_ah_get(struct dbnic_core *c, uint32_t handle,
                              uint32_t ctx, uint32_t pd);
/* The valid GID entry index names, or NULL. */
const struct dbnic_gid *dbnic_gid_get(const struct dbnic_core *c,
                                      uint32_t index);
/*
 * The QP moves to ERR by itself, for wc_status (enum dbnic_wc_status):
 * event QP_ERR, counter ROCE_QP_ERR, and its flush (11.2).  For the
 * transport and the engine; in a run (it writes CQEs).  A QP already in
 * ERR stays there without a second event.
 */
void dbnic_qp_fatal(struct dbnic_core *c, struct dbnic_qp *qp,
                    uint8_t wc_status);
/* DB_QP_RQ (11.3) from page ctx. */
void dbnic_qp_db_rq(struct dbnic_core *c, uint32_t ctx, uint32_t val);
/* In a run: flush the RECVs posted to QPs in ERR since the last run. */
void dbnic_qp_run(struct dbnic_core *c);
/*
 * The checks of a QP's send WQE in sq->job.d (11.4, 1-5; ERR first):
 * DBNIC_ST_OK with the message length in *total, or the failure in
 * sq->job.wc_status / vendor_err and a non-OK status.
 */
uint8_t dbnic_qp_wqe_check(struct dbnic_core *c, struct dbnic_sq *sq,
                           uint64_t *total);
/*
 * The same checks on a WQE read again for a retransmission (11.10):
 * DBNIC_ST_OK with *total, or the failure's status and *wc_status.
 */
uint8_t dbnic_qp_wqe_check_desc(struct dbnic_core *c, struct dbnic_sq *sq,
                                const struct dbnic_desc *d, uint64_t *total,
                                uint8_t *wc_status);
/*
 * A QP's send WQE failed dbnic_qp_wqe_check() (the job has ended): its
 * CQE, and the QP to ERR if the check was one of 11.4's 1-4.
 */
void dbnic_qp_job_failed(struct dbnic_core *c, struct dbnic_sq *sq,
                         uint32_t qid);
/*
 * Run a QP's send WQE that passed dbnic_qp_wqe_check() (in sq->job, its
 * length in job.total): the hook where the transport's requester takes
 * it (datasheet 11.4, 11.8).  Called from job_step() at each step of
 * the engine while the job is active; returns the payload bytes it
 * moved in this step (the engine's run budget).  The job ending (active
 * false) lets the queue's next WQE start: a WQE that waits for its ACK
 * leaves the job and waits on the requester's own list.
 */
uint32_t dbnic_qp_wqe_exec(struct dbnic_core *c, struct dbnic_sq *sq,
                           uint32_t qid);
/*
 * A 32-byte send completion of a QP's send queue: wc_status and
 * vendor_err as the CQE says; a non-SUCCESS, non-flush one counts in
 * DESC_ERROR.  opcode: the WQE's (enum dbnic_opcode), 0 if not read.
 */
void dbnic_qp_send_cqe(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                       uint16_t index, uint8_t wc_status, uint8_t vendor_err,
                       uint32_t bytes, bool prio, uint8_t opcode);
/*
 * dbnic_complete() on a QP's send queue: the engine's status as a
 * 32-byte CQE (11.2), and the QP to ERR for a WQE that was bad.
 */
void dbnic_qp_complete(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                       uint16_t index, uint8_t status, uint32_t bytes,
                       bool prio);

#endif /* DBNIC_CORE_PRIV_H */
