/*
 * dbnic device core: the execution engine (datasheet sections 3, 5, 6).
 *
 * Runs from dbnic_core_run(), and for small work on an idle engine from
 * the MMIO write that announced it (dbnic_sq_kick()).  Each queue has a
 * priority lane (complete priority copies) and a ring lane (descriptors
 * fetched by DMA); priority lanes are always served first.  A started
 * descriptor is a job that moves its payload in chunks, so a huge
 * descriptor on one queue delays the others by one chunk only.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "dbnic_core_priv.h"

/* ------------------------------------------------------------------ */
/* Ring bookkeeping                                                    */
/* ------------------------------------------------------------------ */

bool dbnic_prio_owned(const struct dbnic_sq *sq, uint16_t index)
{
    uint32_t s = dbnic_ring_slot(index, sq->log_size);

    return sq->prio_owned[s / 8] & (1u << (s % 8));
}

void dbnic_set_prio_owned(struct dbnic_sq *sq, uint16_t index, bool on)
{
    uint32_t s = dbnic_ring_slot(index, sq->log_size);

    if (on) {
        sq->prio_owned[s / 8] |= 1u << (s % 8);
    } else {
        sq->prio_owned[s / 8] &= ~(1u << (s % 8));
    }
}

/*
 * The ring lane passes slots whose descriptor belongs to the priority lane
 * as soon as it reaches them, without reading them, so that sq_head in the
 * next CQE already frees them for the host.
 */
void dbnic_ring_lane_skip(struct dbnic_core *c, struct dbnic_sq *sq,
                          uint32_t qid)
{
    uint16_t from = sq->ci;

    while (sq->ci != sq->pi && dbnic_prio_owned(sq, sq->ci)) {
        dbnic_set_prio_owned(sq, sq->ci, false);
        dbnic_count(c, DBNIC_CNT_RING_SKIP);
        dbnic_tr(c, DBNIC_TR_RING_SKIP, qid, sq->ci, 0);
        sq->ci++;
    }
    /* Priority copies still being written for these indices are dead. */
    dbnic_prio_retire(c, sq->ctx, qid, from, dbnic_ring_used(sq->ci, from));
}

/* ------------------------------------------------------------------ */
/* Completions                                                         */
/* ------------------------------------------------------------------ */

/*
 * Write an entry in two parts so that its last 4 bytes (status, flags
 * and the phase) land last: bytes 0..11 then 12..15 of a 16-byte entry
 * (DBNIC_CQE_TAIL_OFFSET), 0..27 then 28..31 of a 32-byte one
 * (DBNIC_RDMA_CQE_TAIL_OFFSET).
 */
int dbnic_write_cqe(struct dbnic_core *c, uint64_t addr, const void *entry,
                    size_t size)
{
    const uint8_t *p = entry;
    size_t tail = size - 4;

    if (c->ops->dma_write(c->opaque, addr, p, tail)) {
        return -1;
    }
    return c->ops->dma_write(c->opaque, addr + tail, p + tail, 4);
}

/*
 * The CQ cannot take a CQE: it enters the error state (datasheet 6.1),
 * reports it once, and its send queues stop.  A CQ that merely dropped
 * CQEs and raised an error for each would let one queue that is never
 * polled keep vector 0 busy for as long as its ring has work.
 */
static void cq_fail(struct dbnic_core *c, struct dbnic_cq *cq, uint32_t reason)
{
    cq->error = true;
    cq->armed = false;
    dbnic_count(c, DBNIC_CNT_CQE_DROPPED);
    dbnic_count(c, DBNIC_CNT_CQ_OVERFLOW);
    dbnic_event(c, DBNIC_AERR_CQ_OVERFLOW, cq->ctx, (uint32_t)(cq - c->cq),
                reason);
}

void dbnic_complete(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                    uint16_t index, uint8_t status, uint32_t bytes, bool prio)
{
    struct dbnic_cqe cqe;

    if (sq->qp) {
        dbnic_qp_complete(c, sq, qid, index, status, bytes, prio);
        return;
    }
    if (status != DBNIC_ST_OK) {
        dbnic_count(c, DBNIC_CNT_DESC_ERROR);
    }
    memset(&cqe, 0, sizeof(cqe));
    cqe.byte_count = dbnic_le32(bytes);
    cqe.index = dbnic_le16(index);
    cqe.qid = dbnic_le16(qid);
    cqe.sq_head = dbnic_le16(sq->ci);
    cqe.status = status;
    cqe.flags = prio ? DBNIC_CQE_F_PRIO : 0; /* the phase: dbnic_cq_post() */
    dbnic_tr(c, DBNIC_TR_CQE, sq->cqn, index, status);
    dbnic_cq_post(c, sq->cqn, &cqe);
}

/*
 * An armed CQ has a CQE past its consumer index: its interrupt, or for a
 * DBNIC_CQ_EVENT CQ its CQ_COMP event (11.7).  While that CQ's previous
 * entry is still in the EQ the arm stays set, remembered: EQ_CI's
 * passing it answers the arm (dbnic_eq_ci()).
 */
static void cq_notify(struct dbnic_core *c, struct dbnic_cq *cq)
{
    if (cq->vector == DBNIC_CQ_EVENT) {
        if (!cq->comp_in_eq) {
            dbnic_cq_comp(c, cq);
        }
        return;
    }
    cq->armed = false;
    dbnic_raise_irq(c, cq->vector);
}

void dbnic_cq_fire_if_armed(struct dbnic_core *c, struct dbnic_cq *cq)
{
    if (cq->armed && cq->pi != cq->ci) {
        cq_notify(c, cq);
    }
}

/*
 * Post an entry of 2^log_cqe bytes on cq, under dbnic_complete()'s
 * rules: the error state, the phase (set here in the last byte), the
 * two-part write, the armed interrupt.
 */
static void cq_post_entry(struct dbnic_core *c, struct dbnic_cq *cq,
                          uint8_t *e)
{
    size_t size = (size_t)1 << cq->log_cqe;
    uint64_t addr;

    if (cq->error) {
        dbnic_count(c, DBNIC_CNT_CQE_DROPPED);
        return;
    }
    if (dbnic_ring_used(cq->pi, cq->ci) >= (1u << cq->log_size)) {
        cq_fail(c, cq, DBNIC_CQ_ERR_FULL);
        return;
    }
    if (dbnic_cq_phase(cq->pi, cq->log_size)) {
        e[size - 1] |= DBNIC_CQE_F_PHASE;
    }
    addr = cq->base + ((uint64_t)dbnic_ring_slot(cq->pi, cq->log_size)
                       << cq->log_cqe);
    if (dbnic_write_cqe(c, addr, e, size)) {
        cq_fail(c, cq, DBNIC_CQ_ERR_WRITE);
        return;
    }
    cq->pi++;
    dbnic_count(c, DBNIC_CNT_COMPLETIONS);
    if (cq->armed) {
        cq_notify(c, cq);
    }
}

/* A 16-byte entry laid out like a CQE (a receive completion too). */
void dbnic_cq_post(struct dbnic_core *c, uint32_t cqn, void *entry)
{
    struct dbnic_cq *cq = dbnic_cq_get(c, cqn);

    /* A CQ takes one size (11.2): its creators see to that. */
    if (cq && cq->log_cqe == DBNIC_LOG_CQE_16) {
        cq_post_entry(c, cq, entry);
    }
}

void dbnic_cq_post_rdma(struct dbnic_core *c, uint32_t cqn,
                        struct dbnic_rdma_cqe *cqe)
{
    struct dbnic_cq *cq = dbnic_cq_get(c, cqn);

    if (cq && cq->log_cqe == DBNIC_LOG_CQE_32) {
        cqe->flags |= DBNIC_CQE_F_RDMA;
        cq_post_entry(c, cq, (uint8_t *)cqe);
    }
}

/* ------------------------------------------------------------------ */
/* Scatter/gather through the bounce buffers                           */
/* ------------------------------------------------------------------ */

enum sg_dir { SG_READ, SG_WRITE };

/*
 * Move n bytes between buf and the SGE list at pos, in pieces that are
 * contiguous in DMA space.  Returns a status.
 */
static uint8_t sg_xfer(struct dbnic_core *c, struct dbnic_sq *sq,
                       struct dbnic_sg_pos *pos, uint8_t *buf, uint32_t n,
                       enum sg_dir dir)
{
    while (n) {
        const struct dbnic_sge *sge = &sq->job.d.sge[pos->first + pos->i];
        uint32_t left = dbnic_le32(sge->len) - pos->off;
        uint64_t dma;
        uint32_t len;
        int err;

        if (dbnic_sge_translate(c, sq->ctx, sge, pos->off, left < n ? left : n,
                                &dma, &len)) {
            return DBNIC_ST_ACCESS;
        }
        if (dir == SG_READ) {
            err = c->ops->dma_read(c->opaque, dma, buf, len);
        } else {
            err = c->ops->dma_write(c->opaque, dma, buf, len);
        }
        if (err) {
            return DBNIC_ST_DMA_ERROR;
        }
        buf += len;
        n -= len;
        pos->off += len;
        if (pos->off == dbnic_le32(sge->len)) {
            pos->i++;
            pos->off = 0;
        }
    }
    return DBNIC_ST_OK;
}

static void sg_advance(struct dbnic_sg_pos *pos, const struct dbnic_sge *sge,
                       uint32_t n)
{
    pos->off += n;
    if (pos->off == dbnic_le32(sge->len)) {
        pos->i++;
        pos->off = 0;
    }
}

/*
 * COPY without the bounce buffers: map the next source and destination
 * pieces, each contiguous in DMA space, and copy once between them.
 * Moves up to *n bytes and sets *n to what it moved: 0 if either piece
 * cannot be mapped (not RAM), and the caller bounces this piece.
 */
static uint8_t copy_mapped(struct dbnic_core *c, struct dbnic_sq *sq,
                           uint32_t *n)
{
    struct dbnic_job *j = &sq->job;
    const struct dbnic_sge *ss = &j->d.sge[j->src.first + j->src.i];
    const struct dbnic_sge *ds = &j->d.sge[j->dst.first + j->dst.i];
    uint32_t want = *n, slen, dlen;
    uint64_t sa, da;
    size_t smap, dmap, k;
    void *sp, *dp;

    *n = 0;
    if (want > dbnic_le32(ss->len) - j->src.off) {
        want = dbnic_le32(ss->len) - j->src.off;
    }
    if (want > dbnic_le32(ds->len) - j->dst.off) {
        want = dbnic_le32(ds->len) - j->dst.off;
    }
    if (dbnic_sge_translate(c, sq->ctx, ss, j->src.off, want, &sa, &slen) ||
        dbnic_sge_translate(c, sq->ctx, ds, j->dst.off, want, &da, &dlen)) {
        return DBNIC_ST_ACCESS;
    }
    smap = slen < dlen ? slen : dlen;
    sp = c->ops->map(c->opaque, sa, &smap, false);
    if (!sp) {
        return DBNIC_ST_OK;
    }
    dmap = smap;
    dp = c->ops->map(c->opaque, da, &dmap, true);
    if (!dp) {
        c->ops->unmap(c->opaque, sp, smap, false, 0);
        return DBNIC_ST_OK;
    }
    k = smap < dmap ? smap : dmap;
    if (k > slen || k > dlen) { /* a map() that gave more than asked */
        k = slen < dlen ? slen : dlen;
    }
    /* A guest may make them overlap (datasheet 5 forbids it): no UB here. */
    memmove(dp, sp, k);
    c->ops->unmap(c->opaque, dp, dmap, true, k);
    c->ops->unmap(c->opaque, sp, smap, false, k);
    sg_advance(&j->src, ss, k);
    sg_advance(&j->dst, ds, k);
    *n = k;
    return DBNIC_ST_OK;
}

/*
 * One burst of the job: up to *n bytes, *n set to the bytes it moved.  A
 * COPY between ranges the owner can map moves as much as both mappings
 * hold at once; the rest goes through the bounce buffers,
 * DBNIC_CORE_BOUNCE bytes at a time.
 */
static uint8_t job_burst(struct dbnic_core *c, struct dbnic_sq *sq,
                         uint32_t *np, uint32_t *mismatch)
{
    struct dbnic_job *j = &sq->job;
    uint32_t n = *np;
    uint8_t st = DBNIC_ST_OK;
    uint32_t i;

    if (j->d.hdr.opcode == DBNIC_OP_COPY && c->ops->map) {
        st = copy_mapped(c, sq, np);
        if (st != DBNIC_ST_OK || *np) {
            return st;
        }
    }
    if (n > DBNIC_CORE_BOUNCE) {
        n = DBNIC_CORE_BOUNCE;
    }
    *np = n;
    switch (j->d.hdr.opcode) {
    case DBNIC_OP_COPY:
        st = sg_xfer(c, sq, &j->src, c->bounce, n, SG_READ);
        if (st == DBNIC_ST_OK) {
            st = sg_xfer(c, sq, &j->dst, c->bounce, n, SG_WRITE);
        }
        break;
    case DBNIC_OP_FILL:
        for (i = 0; i < n; i++) {
            c->bounce[i] = (uint8_t)(dbnic_le32(j->d.hdr.imm) >>
                                     (8 * ((j->done + i) % 4)));
        }
        st = sg_xfer(c, sq, &j->dst, c->bounce, n, SG_WRITE);
        break;
    case DBNIC_OP_COMPARE:
        st = sg_xfer(c, sq, &j->src, c->bounce, n, SG_READ);
        if (st == DBNIC_ST_OK) {
            st = sg_xfer(c, sq, &j->dst, c->bounce2, n, SG_READ);
        }
        if (st == DBNIC_ST_OK && memcmp(c->bounce, c->bounce2, n)) {
            i = 0;
            while (c->bounce[i] == c->bounce2[i]) {
                i++;
            }
            *mismatch = i;
            st = DBNIC_ST_MISMATCH;
        }
        break;
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* Starting and running jobs                                           */
/* ------------------------------------------------------------------ */

/* Check one SGE list; its total length goes to *total. */
static uint8_t check_list(struct dbnic_core *c, struct dbnic_sq *sq,
                          const struct dbnic_sg_pos *pos, bool write,
                          uint64_t *total)
{
    unsigned int i;

    *total = 0;
    for (i = 0; i < pos->n; i++) {
        const struct dbnic_sge *sge = &sq->job.d.sge[pos->first + i];
        uint8_t st = dbnic_sge_check(c, sq->ctx, sge, write);

        if (st == DBNIC_ST_ACCESS) {
            dbnic_count(c, DBNIC_CNT_ACCESS_FAULT);
            dbnic_tr(c, DBNIC_TR_ACCESS_FAULT, sq - c->sq, dbnic_le32(sge->key),
                     dbnic_le64(sge->addr));
        }
        if (st != DBNIC_ST_OK) {
            return st;
        }
        *total += dbnic_le32(sge->len);
    }
    return DBNIC_ST_OK;
}

/* Shape of a descriptor: size, SGE counts, reserved flags. */
static uint8_t check_shape(const struct dbnic_desc *d, unsigned int max_bytes)
{
    unsigned int nsge = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC) +
                        DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);

    if (d->hdr.size < 1 || d->hdr.size > DBNIC_DESC_MAX_BLOCKS ||
        d->hdr.size * DBNIC_DESC_BLOCK_SIZE > max_bytes ||
        (d->hdr.flags & ~DBNIC_DESC_F_ALL)) {
        return DBNIC_ST_BAD_DESC;
    }
    if (nsge > DBNIC_MAX_SGE || dbnic_desc_blocks(nsge) > d->hdr.size) {
        return DBNIC_ST_BAD_DESC;
    }
    return DBNIC_ST_OK;
}

/* Validate the job's descriptor before any byte moves. */
static uint8_t job_validate(struct dbnic_core *c, struct dbnic_sq *sq)
{
    struct dbnic_job *j = &sq->job;
    const struct dbnic_desc *d = &j->d;
    unsigned int nsrc = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC);
    unsigned int ndst = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);
    uint64_t src_total = 0, dst_total = 0;
    uint8_t st;

    if (sq->qp) {
        /* A QP's send queue runs send WQEs only (sections 5, 11.4). */
        return dbnic_qp_wqe_check(c, sq, &j->total);
    }
    st = check_shape(d, 1u << sq->log_stride);
    if (st != DBNIC_ST_OK) {
        return st;
    }
    j->src = (struct dbnic_sg_pos){.first = 0, .n = nsrc};
    j->dst = (struct dbnic_sg_pos){.first = nsrc, .n = ndst};

    switch (d->hdr.opcode) {
    case DBNIC_OP_NOP:
        return d->hdr.nsge ? DBNIC_ST_BAD_DESC : DBNIC_ST_OK;
    case DBNIC_OP_COPY:
    case DBNIC_OP_COMPARE:
        if (!nsrc || !ndst) {
            return DBNIC_ST_BAD_DESC;
        }
        st = check_list(c, sq, &j->src, false, &src_total);
        if (st == DBNIC_ST_OK) {
            st = check_list(c, sq, &j->dst, d->hdr.opcode == DBNIC_OP_COPY,
                            &dst_total);
        }
        if (st != DBNIC_ST_OK) {
            return st;
        }
        if (src_total != dst_total) {
            return DBNIC_ST_BAD_LENGTH;
        }
        break;
    case DBNIC_OP_FILL:
        if (nsrc || !ndst) {
            return DBNIC_ST_BAD_DESC;
        }
        st = check_list(c, sq, &j->dst, true, &dst_total);
        if (st != DBNIC_ST_OK) {
            return st;
        }
        break;
    case DBNIC_OP_ETH_TX: /* datasheet 10.2 */
        return dbnic_eth_tx_validate(c, sq, &j->total);
    default:
        return DBNIC_ST_BAD_OPCODE;
    }
    if (dst_total > DBNIC_MAX_XFER) {
        return DBNIC_ST_BAD_LENGTH;
    }
    j->total = dst_total;
    return DBNIC_ST_OK;
}

static void job_finish(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                       uint8_t st, uint32_t bytes)
{
    struct dbnic_job *j = &sq->job;

    j->active = false;
    sq->free_at = j->wait_until; /* timing model: the next may start */
    if (sq->qp && st != DBNIC_ST_OK) {
        /* A QP's WQE that failed its checks: the CQE its check chose. */
        dbnic_qp_job_failed(c, sq, qid);
        return;
    }
    if (st != DBNIC_ST_OK || (j->d.hdr.flags & DBNIC_DESC_F_COMPLETION)) {
        dbnic_complete(c, sq, qid, j->index, st, bytes, j->prio);
    }
}

/* ------------------------------------------------------------------ */
/* Timing model (datasheet 9)                                          */
/* ------------------------------------------------------------------ */

/*
 * Has modelled time t come?  If not, t is a deadline the timer must
 * bring the engine back for.  Decisions the engine makes only at
 * modelled times do not depend on when a bottom half happened to run.
 */
static bool tm_due(struct dbnic_core *c, uint64_t t, uint64_t *next)
{
    if (t <= dbnic_now(c)) {
        return true;
    }
    if (!*next || t < *next) {
        *next = t;
    }
    return false;
}

/* When the doorbell that announced ring index i reached the engine. */
static uint64_t tm_arrival(const struct dbnic_sq *sq, uint16_t i)
{
    return dbnic_idx_in(i, sq->db_from, dbnic_ring_used(sq->pi, sq->db_from))
               ? sq->db_at
               : sq->db_at_prev;
}

static uint64_t tm_max(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/*
 * The job's payload moved n bytes: the piece occupies the device's data
 * path, shared by all queues, after the previous piece of any queue; the
 * job's next step (or its completion) waits for the piece's end.
 */
static void tm_charge_bytes(struct dbnic_core *c, struct dbnic_job *j,
                            uint32_t n)
{
    uint64_t start = tm_max(j->wait_until * 1000, c->link_ps);

    c->link_ps = start + (uint64_t)n * c->cfg.byte_ps;
    j->wait_until = (c->link_ps + 999) / 1000;
}

/*
 * Start the descriptor now in sq->job.d.  It is validated at once; it
 * runs (or reports its error) from job_step().  ready: under the timing
 * model, when the descriptor is in the device (arrived, fetched, and the
 * queue's previous descriptor finished).
 */
static void job_start(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                      bool prio, uint64_t ready)
{
    struct dbnic_job *j = &sq->job;

    j->prio = prio;
    j->index = dbnic_le16(j->d.hdr.index);
    j->done = 0;
    j->total = 0;
    j->wc_status = DBNIC_WC_SUCCESS;
    j->vendor_err = DBNIC_ST_OK;
    dbnic_tr(c, DBNIC_TR_EXEC, qid, j->index,
             j->d.hdr.opcode | (prio ? 0x100 : 0));
    j->status = job_validate(c, sq);
    j->wait_until = 0;
    if (dbnic_core_timed(c)) {
        j->wait_until = ready + c->cfg.desc_ns;
        if (j->status == DBNIC_ST_OK && j->total &&
            j->d.hdr.opcode != DBNIC_OP_FILL &&
            !(j->d.hdr.opcode == DBNIC_OP_ETH_TX &&
              dbnic_eth_tx_inline(&j->d)) &&
            !(sq->qp && dbnic_rdma_seg_of(&j->d)->inline_len)) {
            j->wait_until += c->cfg.dma_latency_ns; /* first payload read */
        }
    }
    j->eth_wait = false;
    j->active = true;
}

/*
 * Run up to one chunk of the job; returns the bytes moved.  A job still
 * waiting under the timing model moves nothing and stays active.
 */
static uint32_t job_step(struct dbnic_core *c, struct dbnic_sq *sq,
                         uint32_t qid)
{
    struct dbnic_job *j = &sq->job;
    uint32_t moved = 0;

    if (!j->active || (j->wait_until && dbnic_now(c) < j->wait_until)) {
        return 0;
    }
    if (sq->qp && j->status == DBNIC_ST_OK) {
        /*
         * A QP's send WQE that passed its checks (11.4): the transport's
         * requester takes it from here.
         */
        moved = dbnic_qp_wqe_exec(c, sq, qid);
        /* Its payload gathered by DMA is charged as ETH_TX's (11.8). */
        if (c->cfg.byte_ps && moved) {
            tm_charge_bytes(c, j, moved);
            if (!j->active) {
                sq->free_at = j->wait_until;
            }
        }
        return moved;
    }
    if (j->status != DBNIC_ST_OK || j->total == 0) {
        job_finish(c, sq, qid, j->status, 0);
        return 0;
    }
    if (j->done == j->total) {
        /* The timing model held the completion for the last piece. */
        job_finish(c, sq, qid, DBNIC_ST_OK, (uint32_t)j->total);
        return 0;
    }
    if (j->d.hdr.opcode == DBNIC_OP_ETH_TX) {
        /* One frame, at most DBNIC_ETH_MAX_TSO: one piece (10.2). */
        bool busy;
        uint8_t st = dbnic_eth_tx_send(c, sq, qid, &busy, &moved);

        if (busy) {
            j->eth_wait = true; /* job_waiting() until the port resumes */
            return 0;
        }
        j->eth_wait = false;
        if (st != DBNIC_ST_OK) {
            job_finish(c, sq, qid, st, 0);
            return moved;
        }
        j->done = j->total;
    }
    while (moved < DBNIC_CHUNK_BYTES && j->done < j->total) {
        uint64_t left = j->total - j->done;
        uint32_t n = left < DBNIC_CHUNK_BYTES - moved
                         ? (uint32_t)left
                         : DBNIC_CHUNK_BYTES - moved;
        uint32_t mismatch = 0;
        uint8_t st = job_burst(c, sq, &n, &mismatch);

        if (st == DBNIC_ST_MISMATCH) {
            job_finish(c, sq, qid, st, (uint32_t)j->done + mismatch);
            return moved + n;
        }
        if (st != DBNIC_ST_OK) {
            job_finish(c, sq, qid, st, 0);
            return moved;
        }
        j->done += n;
        moved += n;
        c->counters[DBNIC_CNT_BYTES] += n;
    }
    if (c->cfg.byte_ps) {
        tm_charge_bytes(c, j, moved);
        if (dbnic_now(c) < j->wait_until) {
            return moved; /* the next piece, or the CQE, waits for it */
        }
    }
    if (j->done == j->total) {
        job_finish(c, sq, qid, DBNIC_ST_OK, (uint32_t)j->total);
    }
    return moved;
}

/* Is the job waiting under the timing model?  Note its deadline. */
static bool job_waiting(struct dbnic_core *c, const struct dbnic_sq *sq,
                        uint64_t *next)
{
    const struct dbnic_job *j = &sq->job;

    if (j->active && j->eth_wait && c->eth_tx_blocked) {
        return true; /* dbnic_core_eth_tx_resume() asks for a run */
    }
    /* A QP's WQE waiting for ACKs or READ responses (11.4): they wake it. */
    if (sq->qp && dbnic_roce_req_waiting(c, sq)) {
        return true;
    }
    if (!j->active || !j->wait_until || dbnic_now(c) >= j->wait_until) {
        return false;
    }
    if (!*next || j->wait_until < *next) {
        *next = j->wait_until;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Lanes                                                               */
/* ------------------------------------------------------------------ */

/*
 * Does index a come before index b on the queue?  Both are announced
 * indices the queue has not completed, so both lie within a ring's worth
 * behind the producer index.
 */
static bool idx_before(const struct dbnic_sq *sq, uint16_t a, uint16_t b)
{
    return dbnic_ring_used(sq->pi, a) > dbnic_ring_used(sq->pi, b);
}

static const struct dbnic_desc *lane_at(const struct dbnic_sq *sq,
                                        unsigned int k)
{
    return &sq->lane[(sq->lane_head + k) % DBNIC_CORE_PRIO_LANE];
}

/*
 * May lane entry k start now (the queue's job is idle)?  Under the timing
 * model it must have arrived; a deadline it waits for goes to *next.  A FENCE
 * descriptor waits until every lower index of its queue has completed:
 * the ring lane has reached its index (every ring descriptor before it
 * has started, and with the job idle, completed) and no lower index
 * still waits on the priority lane.
 */
static bool lane_entry_ready(struct dbnic_core *c, const struct dbnic_sq *sq,
                             unsigned int k, uint64_t *next)
{
    const struct dbnic_desc *d = lane_at(sq, k);
    uint16_t index = dbnic_le16(d->hdr.index);
    uint64_t at = sq->lane_at[(sq->lane_head + k) % DBNIC_CORE_PRIO_LANE];
    unsigned int j;

    /* Timing model: a copy the engine has not received yet is not here. */
    if (dbnic_core_timed(c) && !tm_due(c, at, next)) {
        return false;
    }
    /*
     * On a QP's send queue every copy waits as a fenced one does: IB runs
     * a send queue in order (datasheet 11.3), so the copy saves the
     * fetch and never overtakes.
     */
    if (!(d->hdr.flags & DBNIC_DESC_F_FENCE) && !sq->qp) {
        return true;
    }
    if (idx_before(sq, sq->ci, index)) {
        return false;
    }
    for (j = 0; j < sq->lane_len; j++) {
        if (j != k && idx_before(sq, dbnic_le16(lane_at(sq, j)->hdr.index),
                                 index)) {
            return false;
        }
    }
    return true;
}

/* Does the priority lane hold an index before index? */
static bool lane_holds_before(const struct dbnic_sq *sq, uint16_t index)
{
    unsigned int k;

    for (k = 0; k < sq->lane_len; k++) {
        if (idx_before(sq, dbnic_le16(lane_at(sq, k)->hdr.index), index)) {
            return true;
        }
    }
    return false;
}

/*
 * Start the oldest priority descriptor that may start.  A fenced one
 * that must wait does not hold up the others behind it: they would
 * otherwise wait for it while it waits for them.
 */
static bool start_from_lane(struct dbnic_core *c, struct dbnic_sq *sq,
                            uint32_t qid, uint64_t *next)
{
    unsigned int k, j;
    uint64_t at;

    if (sq->job.active) {
        return false;
    }
    if (dbnic_sq_stopped(c, sq)) {
        sq->lane_len = 0; /* discarded: nothing may start (6.1) */
        return false;
    }
    for (k = 0; k < sq->lane_len && !lane_entry_ready(c, sq, k, next); k++) {
        /* look further */
    }
    if (k == sq->lane_len) {
        return false;
    }
    sq->job.d = *lane_at(sq, k);
    at = sq->lane_at[(sq->lane_head + k) % DBNIC_CORE_PRIO_LANE];
    /* Close the gap: the entries before k move up by one. */
    for (j = k; j > 0; j--) {
        unsigned int to = (sq->lane_head + j) % DBNIC_CORE_PRIO_LANE;
        unsigned int from = (sq->lane_head + j - 1) % DBNIC_CORE_PRIO_LANE;

        sq->lane[to] = sq->lane[from];
        sq->lane_at[to] = sq->lane_at[from];
    }
    sq->lane_head = (sq->lane_head + 1) % DBNIC_CORE_PRIO_LANE;
    sq->lane_len--;
    dbnic_count(c, DBNIC_CNT_PRIO_EXEC);
    job_start(c, sq, qid, true, tm_max(at, sq->free_at));
    return true;
}

/*
 * DESTROY_SQ: every descriptor announced and not completed completes
 * with FLUSHED, whether or not it asked for a completion, as a real HCA
 * flushes a queue it takes down: the started one (its data may be partly
 * written), the priority lane, then the ring lane in index order.
 */
void dbnic_sq_flush(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid)
{
    if (sq->job.active) {
        sq->job.active = false;
        dbnic_complete(c, sq, qid, sq->job.index, DBNIC_ST_FLUSHED, 0,
                       sq->job.prio);
    }
    while (sq->lane_len) {
        uint16_t index = dbnic_le16(lane_at(sq, 0)->hdr.index);

        sq->lane_head = (sq->lane_head + 1) % DBNIC_CORE_PRIO_LANE;
        sq->lane_len--;
        dbnic_complete(c, sq, qid, index, DBNIC_ST_FLUSHED, 0, true);
    }
    while (sq->ci != sq->pi) {
        uint16_t index = sq->ci++;

        if (dbnic_prio_owned(sq, index)) {
            dbnic_set_prio_owned(sq, index, false); /* flushed above */
        } else {
            dbnic_complete(c, sq, qid, index, DBNIC_ST_FLUSHED, 0, false);
        }
    }
    sq->bad_db = false;
}

/* Remove lane entry k; the entries after it keep their order. */
static void lane_remove(struct dbnic_sq *sq, unsigned int k)
{
    unsigned int j;

    for (j = k; j + 1 < sq->lane_len; j++) {
        unsigned int to = (sq->lane_head + j) % DBNIC_CORE_PRIO_LANE;
        unsigned int from = (sq->lane_head + j + 1) % DBNIC_CORE_PRIO_LANE;

        sq->lane[to] = sq->lane[from];
        sq->lane_at[to] = sq->lane_at[from];
    }
    sq->lane_len--;
}

/*
 * A QP moves to ERR (datasheet 11.2): every WQE announced and not
 * completed completes with WR_FLUSH_ERR, in index order: the started
 * one, then each index up to the producer index, from the priority
 * lane (flag PRIO) or the ring (not read).  After it the ring lane is at
 * the producer index.
 */
void dbnic_sq_flush_qp(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid)
{
    uint16_t from = sq->ci, idx, start = sq->ci;
    unsigned int k;

    if (sq->job.active) {
        sq->job.active = false;
        dbnic_qp_send_cqe(c, sq, qid, sq->job.index, DBNIC_WC_WR_FLUSH_ERR,
                          DBNIC_ST_FLUSHED, 0, sq->job.prio,
                          sq->job.d.hdr.opcode);
    }
    for (k = 0; k < sq->lane_len; k++) {
        uint16_t i = dbnic_le16(lane_at(sq, k)->hdr.index);

        if (idx_before(sq, i, start)) {
            start = i; /* passed by the ring lane, not run yet */
        }
    }
    for (idx = start; idx != sq->pi; idx++) {
        bool ring = !idx_before(sq, idx, from);

        for (k = 0; k < sq->lane_len &&
                    dbnic_le16(lane_at(sq, k)->hdr.index) != idx; k++) {
            /* look further */
        }
        if (ring) {
            sq->ci = idx + 1; /* the CQE's head frees the slot */
        }
        if (k < sq->lane_len) {
            uint8_t op = lane_at(sq, k)->hdr.opcode;

            lane_remove(sq, k);
            dbnic_qp_send_cqe(c, sq, qid, idx, DBNIC_WC_WR_FLUSH_ERR,
                              DBNIC_ST_FLUSHED, 0, true, op);
        } else if (ring && !dbnic_prio_owned(sq, idx)) {
            dbnic_qp_send_cqe(c, sq, qid, idx, DBNIC_WC_WR_FLUSH_ERR,
                              DBNIC_ST_FLUSHED, 0, false, 0);
        }
        if (ring) {
            dbnic_set_prio_owned(sq, idx, false);
        }
    }
    sq->lane_len = 0;
    sq->ci = sq->pi;
    sq->bad_db = false;
    dbnic_prio_retire(c, sq->ctx, qid, from, dbnic_ring_used(sq->pi, from));
}

/*
 * A QP moves to RESET (11.2): what is posted is discarded without
 * completions; the ring lane moves to the producer index.
 */
void dbnic_sq_discard(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid)
{
    uint16_t from = sq->ci;

    sq->job.active = false;
    sq->lane_len = 0;
    while (sq->ci != sq->pi) {
        dbnic_set_prio_owned(sq, sq->ci++, false);
    }
    sq->bad_db = false;
    dbnic_prio_retire(c, sq->ctx, qid, from, dbnic_ring_used(sq->pi, from));
}

/* Fetch and start the ring lane's next descriptor. */
static bool start_from_ring(struct dbnic_core *c, struct dbnic_sq *sq,
                            uint32_t qid, uint64_t *next)
{
    struct dbnic_desc *d = &sq->job.d;
    uint16_t index = sq->ci;
    uint64_t addr, base;

    if (sq->job.active || sq->ci == sq->pi || dbnic_sq_stopped(c, sq)) {
        return false;
    }
    /*
     * A QP's send queue runs in index order (11.3): a lower index still
     * on the priority lane (under the timing model: not arrived yet)
     * goes first.
     */
    if (sq->qp && lane_holds_before(sq, sq->ci)) {
        return false;
    }
    /* Timing model: wait until the doorbell has reached the engine. */
    if (dbnic_core_timed(c) && !tm_due(c, tm_arrival(sq, index), next)) {
        return false;
    }
    base = tm_max(tm_arrival(sq, index), sq->free_at);
    sq->ci++;
    dbnic_prio_retire(c, sq->ctx, qid, index, 1);
    dbnic_ring_lane_skip(c, sq, qid);

    addr = sq->base +
           ((uint64_t)dbnic_ring_slot(index, sq->log_size) << sq->log_stride);
    dbnic_count(c, DBNIC_CNT_RING_FETCH);
    dbnic_tr(c, DBNIC_TR_RING_FETCH, qid, index, addr);
    memset(d, 0, sizeof(*d));
    /*
     * The whole descriptor is read when its size fits the slot; a QP's
     * send WQE has flags of its own (11.4), which its checks judge.
     */
    if (c->ops->dma_read(c->opaque, addr, &d->hdr, sizeof(d->hdr)) ||
        ((sq->qp ? d->hdr.size >= 1 && d->hdr.size <= DBNIC_DESC_MAX_BLOCKS &&
                       d->hdr.size * DBNIC_DESC_BLOCK_SIZE <=
                           (1u << sq->log_stride)
                 : check_shape(d, 1u << sq->log_stride) == DBNIC_ST_OK) &&
         c->ops->dma_read(c->opaque, addr, d,
                          d->hdr.size * DBNIC_DESC_BLOCK_SIZE))) {
        dbnic_complete(c, sq, qid, index, DBNIC_ST_DMA_ERROR, 0, false);
        return true;
    }
    if (dbnic_le16(d->hdr.index) != index || dbnic_le16(d->hdr.qid) != qid) {
        dbnic_complete(c, sq, qid, index, DBNIC_ST_BAD_DESC, 0, false);
        return true;
    }
    /*
     * Timing model: one round trip brings this descriptor and the ones
     * already announced after it, up to DBNIC_CORE_PREFETCH in all.
     */
    if (index != sq->fetched_from &&
        dbnic_ring_used(index, sq->fetched_from) <
            dbnic_ring_used(sq->fetched_to, sq->fetched_from)) {
        job_start(c, sq, qid, false, tm_max(base, sq->fetch_at));
    } else {
        uint16_t avail = dbnic_ring_used(sq->pi, index);

        sq->fetched_from = index;
        sq->fetched_to =
            index + (avail < DBNIC_CORE_PREFETCH ? avail : DBNIC_CORE_PREFETCH);
        sq->fetch_at = base + c->cfg.dma_latency_ns;
        job_start(c, sq, qid, false, sq->fetch_at);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* The engine                                                          */
/* ------------------------------------------------------------------ */

/* Nothing left to do on sq: the scans may pass it by until it is woken. */
static bool sq_idle(const struct dbnic_core *c, const struct dbnic_sq *sq)
{
    return !sq->in_use ||
           (!sq->job.active && !sq->lane_len && !sq->bad_db &&
            (sq->ci == sq->pi || dbnic_sq_stopped(c, sq)) &&
            !(sq->qp && dbnic_roce_resp_busy(&c->qp[sq->qp - 1])));
}

/*
 * A QP's transport output (packets sent again, READ responses, the ACK
 * it owes) goes before the QP's new requests, once per pass (11.8, 11.10).
 */
static uint32_t qp_resp_step(struct dbnic_core *c, struct dbnic_sq *sq,
                             bool *progress)
{
    struct dbnic_qp *qp;

    if (!sq->in_use || !sq->qp) {
        return 0;
    }
    qp = dbnic_qp_of_sq(c, sq);
    /* Timeouts and packets sent again first (11.10). */
    return dbnic_roce_retx_step(c, qp, progress) +
           dbnic_roce_resp_step(c, qp, progress);
}

/*
 * Find the first busy send queue at or after *pos.  Each 64-queue word
 * looked at costs a visit.  Returns true with *pos the queue; false with
 * *pos = max_sq at the end, or where to resume when out of visits.
 */
static bool next_busy(struct dbnic_core *c, uint32_t *pos, unsigned int *visits)
{
    uint32_t i = *pos, n = c->cfg.max_sq;

    while (i < n) {
        uint64_t w;

        if (!*visits) {
            *pos = i;
            return false;
        }
        (*visits)--;
        w = c->sq_busy[i / 64] >> (i % 64);
        if (w) {
            i += __builtin_ctzll(w);
            *pos = i;
            return i < n;
        }
        i = (i / 64 + 1) * 64;
    }
    *pos = n;
    return false;
}

static void sq_settle(struct dbnic_core *c, uint32_t qid)
{
    if (sq_idle(c, &c->sq[qid])) {
        c->sq_busy[qid / 64] &= ~(1ull << (qid % 64));
    }
}

/*
 * Only send queues woken by a doorbell (dbnic_sq_wake()) and not yet idle
 * are looked at, and a run looks at DBNIC_CORE_RUN_VISITS words or queues
 * at most in each of its two scans, then goes on in the next run: a guest
 * that creates 65535 queues cannot make one run scan them all for each
 * descriptor.
 */
void dbnic_core_run(struct dbnic_core *c)
{
    unsigned int budget = DBNIC_CORE_RUN_DESCS;
    unsigned int pvisits = DBNIC_CORE_RUN_VISITS;
    unsigned int rvisits = DBNIC_CORE_RUN_VISITS;
    uint32_t bytes = 0, n = c->cfg.max_sq, i, start;
    uint32_t max_bytes = c->cfg.run_bytes ? c->cfg.run_bytes
                                          : DBNIC_CORE_RUN_BYTES;
    uint64_t next = 0;
    bool progress = true, more = false, wrapped;

    c->run_asked = false;
    if (!dbnic_ready(c)) {
        return;
    }
    c->in_run = true;
    dbnic_events_flush(c);
    dbnic_run_admin(c);
    dbnic_qp_run(c);
    dbnic_roce_loop_run(c);
    dbnic_fault_run(c);

    while (budget && progress && bytes < max_bytes) {
        progress = false;
        next = 0;

        /*
         * Priority lanes first, on every queue, every time round: a
         * complete priority descriptor starts before any ring
         * descriptor that has not started yet.  A sweep that runs out
         * of visits resumes in the next run, and no ring lane runs
         * before it has finished.
         */
        while (next_busy(c, &c->prio_scan, &pvisits)) {
            struct dbnic_sq *sq;

            i = c->prio_scan++;
            sq = &c->sq[i];
            pvisits = pvisits ? pvisits - 1 : 0; /* the queue itself */
            if (sq->in_use && sq->bad_db) {
                sq->bad_db = false;
                dbnic_complete(c, sq, i, sq->bad_db_pi, DBNIC_ST_BAD_DOORBELL,
                               0, false);
            }
            bytes += qp_resp_step(c, sq, &progress);
            if (sq->in_use && budget && start_from_lane(c, sq, i, &next)) {
                budget--;
                progress = true;
                bytes += job_step(c, sq, i);
            }
            sq_settle(c, i);
        }
        if (c->prio_scan < n) {
            more = true;
            break;
        }
        c->prio_scan = 0;
        if (progress) {
            continue;
        }

        /*
         * Then one chunk or one new ring descriptor per queue, round
         * robin from where the last pass stopped.  The ring lanes have a
         * budget of visits of their own, so that long priority sweeps
         * cannot starve them.
         */
        start = c->rr_next;
        wrapped = false;
        while (budget && bytes < max_bytes) {
            struct dbnic_sq *sq;
            uint32_t q = c->rr_next;
            bool found = next_busy(c, &q, &rvisits);

            if (wrapped && q >= start) {
                break; /* a full cycle */
            }
            if (!found && q < n) {
                c->rr_next = q; /* out of visits: go on from here */
                more = true;
                break;
            }
            if (!found) {
                if (wrapped || !start) {
                    break;
                }
                wrapped = true;
                c->rr_next = 0;
                continue;
            }
            rvisits = rvisits ? rvisits - 1 : 0; /* the queue itself */
            c->rr_next = q + 1;
            sq = &c->sq[q];
            bytes += qp_resp_step(c, sq, &progress);
            if (!sq->in_use || job_waiting(c, sq, &next)) {
                sq_settle(c, q);
                continue;
            }
            if (!sq->job.active) {
                if (!start_from_ring(c, sq, q, &next)) {
                    sq_settle(c, q);
                    continue;
                }
                budget--;
            }
            progress = true;
            bytes += job_step(c, sq, q);
            sq_settle(c, q);
            /* A waiting priority descriptor may start now. */
            if (sq->lane_len && !sq->job.active) {
                break;
            }
        }
    }
    if (c->roce_loop_len) {
        more = true; /* looped back frames: received in the next run */
    }
    c->in_run = false;
    dbnic_tr(c, DBNIC_TR_RUN, 2 * DBNIC_CORE_RUN_VISITS - pvisits - rvisits,
             DBNIC_CORE_RUN_DESCS - budget, 0);
    if (progress || more) {
        dbnic_kick(c, dbnic_now(c)); /* more to do: yield, then go on */
    } else if (next) {
        dbnic_timer_arm(c, next); /* jobs waiting on the model */
    }
}

/* ------------------------------------------------------------------ */
/* Inline execution                                                    */
/* ------------------------------------------------------------------ */

/*
 * May new work on sq run inside the MMIO write that announced it?  Only
 * if nothing anywhere waits for the engine: with no run asked for, no
 * queue has a priority descriptor queued or ring work left (a run that
 * leaves work asks for the next), so running this queue now, in the
 * engine's own order, cannot pass anything the datasheet orders before
 * it (sections 3.2, 8).
 */
static bool inline_ok(const struct dbnic_core *c, const struct dbnic_sq *sq)
{
    return c->cfg.inline_bytes && !dbnic_core_timed(c) && !c->run_asked &&
           !c->in_run && !sq->job.active && !sq->bad_db &&
           !dbnic_sq_stopped(c, sq) &&
           dbnic_ring_used(sq->pi, sq->ci) + sq->lane_len <=
               DBNIC_CORE_INLINE_DESCS;
}

/*
 * Run sq's work as the engine would, lanes in the engine's order, as long
 * as each descriptor is small.  Returns false if work is left (a large or
 * waiting job, or a fenced priority descriptor behind it).
 */
static bool run_inline(struct dbnic_core *c, struct dbnic_sq *sq,
                       uint32_t qid)
{
    uint64_t next = 0; /* the timing model is off here: nothing waits */
    unsigned int n;

    for (n = 0; n < DBNIC_CORE_INLINE_DESCS; n++) {
        if (!start_from_lane(c, sq, qid, &next) &&
            !start_from_ring(c, sq, qid, &next)) {
            break;
        }
        /*
         * Started: validated, and a ring copy fetched (or completed with
         * an error if the fetch failed: no job then).  A large one stays
         * started and the engine moves it in chunks; this costs nothing
         * in order, since the engine would start it next anyway.
         */
        if (sq->job.active && sq->job.status == DBNIC_ST_OK &&
            sq->job.total > c->cfg.inline_bytes) {
            return false;
        }
        job_step(c, sq, qid);
        if (sq->job.active) {
            return false;
        }
    }
    return sq_idle(c, sq);
}

void dbnic_sq_kick(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid)
{
    bool done;

    if (!inline_ok(c, sq)) {
        /* Under the timing model the doorbell reaches the engine then. */
        dbnic_kick(c, dbnic_now(c) + c->cfg.db_latency_ns);
        return;
    }
    c->in_run = true; /* DMA and the EQ are ours, as in a run */
    done = run_inline(c, sq, qid);
    c->in_run = false;
    if (done) {
        sq_settle(c, qid);
    } else {
        dbnic_ask_run(c);
    }
}
