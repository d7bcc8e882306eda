/*
 * dbnic device core: RDMA objects (datasheet section 11).
 *
 * The GID table, address handles and queue pairs, their admin commands
 * (CREATE_QP, MODIFY_QP, QUERY_QP, DESTROY_QP, CREATE_AH, DESTROY_AH,
 * SET_GID), the IBTA state machine with its flush to ERR, the DB_QP_RQ
 * doorbell, and the checks a QP's send WQE passes before the transport
 * takes it.  A QP's WQEs travel on an ordinary send queue (DB_SQ, the
 * priority slots, lanes, ownership), so the engine (dbnic_exec.c) runs
 * them and calls back here; the RoCE transport (requester, responder)
 * lives in files of its own.
 *
 * Everything here is reachable from guest writes: admin commands, the
 * attribute blocks they name, WQEs and doorbells.  Every field is range
 * checked before use.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "dbnic_core_priv.h"

/* ------------------------------------------------------------------ */
/* Lookup                                                              */
/* ------------------------------------------------------------------ */

#define QP_GEN_MAX  DBNIC_GET(DBNIC_QPN_GEN_MASK, DBNIC_QPN_GEN)  /* 4095 */
#define AH_GEN_MAX  DBNIC_GET(DBNIC_AH_GEN_MASK, DBNIC_AH_GEN)    /* 65535 */

static uint32_t qp_index(const struct dbnic_core *c, const struct dbnic_qp *qp)
{
    return (uint32_t)(qp - c->qp);
}

uint32_t dbnic_qp_num(const struct dbnic_core *c, const struct dbnic_qp *qp)
{
    uint32_t i = qp_index(c, qp);

    if (c->gsi == i + 1) {
        return DBNIC_GSI_QPN;
    }
    return DBNIC_SET(DBNIC_QPN_GEN, qp->gen) | DBNIC_SET(DBNIC_QPN_INDEX, i);
}

struct dbnic_qp *dbnic_qp_get(struct dbnic_core *c, uint32_t qpn)
{
    uint32_t i = DBNIC_GET(qpn, DBNIC_QPN_INDEX);
    struct dbnic_qp *qp;

    if (qpn == DBNIC_GSI_QPN) {
        return c->gsi ? &c->qp[c->gsi - 1] : NULL;
    }
    if (qpn & ~DBNIC_QPN_MASK || i >= c->cfg.max_qp) {
        return NULL;
    }
    qp = &c->qp[i];
    /* The GSI QP is named by QPN 1 only. */
    if (!qp->in_use || qp->gen != DBNIC_GET(qpn, DBNIC_QPN_GEN) ||
        c->gsi == i + 1) {
        return NULL;
    }
    return qp;
}

static struct dbnic_ah *ah_find(struct dbnic_core *c, uint32_t handle)
{
    uint32_t i = DBNIC_GET(handle, DBNIC_AH_INDEX);
    struct dbnic_ah *ah;

    if (i == 0 || i > c->cfg.max_ah) {
        return NULL;
    }
    ah = &c->ah[i - 1];
    return ah->in_use && ah->gen == DBNIC_GET(handle, DBNIC_AH_GEN) ? ah
                                                                     : NULL;
}

struct dbnic_ah *dbnic_ah_get(struct dbnic_core *c, uint32_t handle,
                              uint32_t ctx, uint32_t pd)
{
    struct dbnic_ah *ah = ah_find(c, handle);

    return ah && ah->ctx == ctx && ah->pd == pd ? ah : NULL;
}

const struct dbnic_gid *dbnic_gid_get(const struct dbnic_core *c,
                                      uint32_t index)
{
    return index < DBNIC_GID_TBL_LEN && c->gid[index].net ? &c->gid[index]
                                                           : NULL;
}

static bool ctx_ok(const struct dbnic_core *c, uint32_t ctx)
{
    return ctx < c->cfg.db_pages && c->ctx[ctx].in_use;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        if (b[i]) {
            return false;
        }
    }
    return true;
}

/* ::ffff:a.b.c.d, the IPv4-mapped IPv6 address of RoCE v2 over IPv4. */
static bool gid_v4_mapped(const uint8_t *gid)
{
    return all_zero(gid, 10) && gid[10] == 0xff && gid[11] == 0xff;
}

/* The address family an address is written for: 4 or 6 (11.2). */
static bool gid_net_ok(const uint8_t *gid, uint8_t net)
{
    return net == DBNIC_NET_IPV4 ? gid_v4_mapped(gid)
           : net == DBNIC_NET_IPV6 ? !gid_v4_mapped(gid)
                                   : false;
}

/* A VLAN ID (0..4094; 4095 is reserved by 802.1Q) or none. */
static bool vlan_ok(uint16_t vlan)
{
    return vlan < 0xfff || vlan == DBNIC_VLAN_NONE;
}

#define UDP_SPORT_MIN 0xc000 /* RoCE v2 source ports (11.2) */

/*
 * An address vector (11.2).  ah: CREATE_AH's, whose udp_sport may be 0
 * (UD sends from the QP's port).
 */
static bool av_ok(const struct dbnic_core *c, const struct dbnic_av *av,
                  bool ah)
{
    const struct dbnic_gid *g = dbnic_gid_get(c, av->sgid_index);
    uint16_t sport = dbnic_le16(av->udp_sport);

    return g && g->net == av->net && gid_net_ok(av->dgid, av->net) &&
           dbnic_le32(av->flow_label) <= 0xfffff &&
           vlan_ok(dbnic_le16(av->vlan)) &&
           (sport >= UDP_SPORT_MIN || (ah && sport == 0)) &&
           all_zero(av->rsvd, sizeof(av->rsvd));
}

/* ------------------------------------------------------------------ */
/* Completions                                                         */
/* ------------------------------------------------------------------ */

/* The work-completion opcode of a send WQE's opcode (11.6). */
static uint8_t wc_opcode(uint8_t opcode)
{
    switch (opcode) {
    case DBNIC_OP_RDMA_WRITE:
    case DBNIC_OP_RDMA_WRITE_IMM:
        return DBNIC_WC_RDMA_WRITE;
    case DBNIC_OP_RDMA_READ:
        return DBNIC_WC_RDMA_READ;
    default:
        return DBNIC_WC_SEND;
    }
}

void dbnic_qp_send_cqe(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                       uint16_t index, uint8_t wc_status, uint8_t vendor_err,
                       uint32_t bytes, bool prio, uint8_t opcode)
{
    struct dbnic_qp *qp = dbnic_qp_of_sq(c, sq);
    struct dbnic_rdma_cqe e;

    if (wc_status != DBNIC_WC_SUCCESS) {
        dbnic_count(c, DBNIC_CNT_DESC_ERROR);
    }
    memset(&e, 0, sizeof(e));
    e.byte_len = dbnic_le32(bytes);
    e.index = dbnic_le16(index);
    e.qid = dbnic_le16((uint16_t)qid);
    e.qpn = dbnic_le32(dbnic_qp_num(c, qp));
    e.head = dbnic_le16(dbnic_roce_sq_head(c, qp, sq));
    e.opcode = wc_opcode(opcode);
    e.vendor_err = vendor_err;
    e.status = wc_status;
    e.flags = prio ? DBNIC_CQE_F_PRIO : 0; /* the phase: dbnic_cq_post */
    dbnic_tr(c, DBNIC_TR_CQE, sq->cqn, index, wc_status);
    dbnic_cq_post_rdma(c, sq->cqn, &e);
}

/* A flushed receive (11.2): every posted RECV completes, in order. */
static void rq_flush(struct dbnic_core *c, struct dbnic_qp *qp)
{
    while (qp->rq_ci != qp->rq_pi) {
        struct dbnic_rdma_cqe e;
        uint16_t index = qp->rq_ci++;

        memset(&e, 0, sizeof(e));
        e.index = dbnic_le16(index);
        e.qid = dbnic_le16((uint16_t)qp->sqid);
        e.qpn = dbnic_le32(dbnic_qp_num(c, qp));
        e.head = dbnic_le16(qp->rq_ci);
        e.opcode = DBNIC_WC_RECV;
        e.vendor_err = DBNIC_ST_FLUSHED;
        e.status = DBNIC_WC_WR_FLUSH_ERR;
        e.cq_flags = DBNIC_RCQE_F_RECV;
        dbnic_count(c, DBNIC_CNT_DESC_ERROR);
        dbnic_tr(c, DBNIC_TR_CQE, qp->rcqn, index, DBNIC_WC_WR_FLUSH_ERR);
        dbnic_cq_post_rdma(c, qp->rcqn, &e);
    }
}

/* Into ERR: send WQEs in index order, then the receives (11.2). */
static void qp_flush(struct dbnic_core *c, struct dbnic_qp *qp)
{
    /* Sent and waiting for an ACK: the oldest of all. */
    dbnic_roce_req_flush(c, qp);
    dbnic_sq_flush_qp(c, &c->sq[qp->sqid], qp->sqid);
    rq_flush(c, qp);
    if (qp->rq_flush) {
        qp->rq_flush = false;
        c->qp_flush--;
    }
}

static void qp_set_state(struct dbnic_core *c, struct dbnic_qp *qp,
                         uint8_t state, uint32_t mask)
{
    dbnic_tr(c, DBNIC_TR_QP_STATE, dbnic_qp_num(c, qp), qp->state,
             state | (uint64_t)mask << 8);
    qp->state = state;
}

void dbnic_qp_fatal(struct dbnic_core *c, struct dbnic_qp *qp,
                    uint8_t wc_status)
{
    if (qp->state == DBNIC_QPS_ERR) {
        return;
    }
    qp_set_state(c, qp, DBNIC_QPS_ERR, 0);
    dbnic_count(c, DBNIC_CNT_ROCE_QP_ERR);
    dbnic_event(c, DBNIC_AERR_QP_ERR, qp->ctx, dbnic_qp_num(c, qp), wc_status);
    qp_flush(c, qp);
}

void dbnic_qp_complete(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
                       uint16_t index, uint8_t status, uint32_t bytes,
                       bool prio)
{
    struct dbnic_qp *qp = dbnic_qp_of_sq(c, sq);
    uint8_t wc;
    bool fatal = false;

    switch (status) {
    case DBNIC_ST_OK:
        wc = DBNIC_WC_SUCCESS;
        break;
    case DBNIC_ST_FLUSHED:
        wc = DBNIC_WC_WR_FLUSH_ERR;
        break;
    case DBNIC_ST_BAD_LENGTH:
        wc = DBNIC_WC_LOC_LEN_ERR;
        fatal = true;
        break;
    case DBNIC_ST_ACCESS:
        wc = DBNIC_WC_LOC_PROT_ERR;
        fatal = true;
        break;
    case DBNIC_ST_BAD_DOORBELL:
        /* The queue is as it was (3.1): no WQE failed. */
        wc = DBNIC_WC_LOC_QP_OP_ERR;
        break;
    default: /* the WQE's slot: unreadable, not its index, bad shape */
        wc = DBNIC_WC_LOC_QP_OP_ERR;
        fatal = true;
        break;
    }
    if (qp->state == DBNIC_QPS_ERR && status != DBNIC_ST_OK) {
        wc = DBNIC_WC_WR_FLUSH_ERR; /* later posts flush (11.2) */
        fatal = false;
    }
    dbnic_qp_send_cqe(c, sq, qid, index, wc, status, bytes, prio, 0);
    if (fatal) {
        dbnic_qp_fatal(c, qp, wc);
    }
}

/* ------------------------------------------------------------------ */
/* Send WQEs (11.4)                                                    */
/* ------------------------------------------------------------------ */

/* Record the outcome; the non-OK status tells the engine it failed. */
static uint8_t wqe_fail(struct dbnic_job *j, uint8_t wc, uint8_t vendor,
                        bool fatal)
{
    j->wc_status = wc;
    j->vendor_err = vendor;
    j->wc_fatal = fatal;
    return vendor != DBNIC_ST_OK ? vendor : DBNIC_ST_BAD_DESC;
}

static bool wqe_has_imm(uint8_t opcode)
{
    return opcode == DBNIC_OP_SEND_IMM || opcode == DBNIC_OP_RDMA_WRITE_IMM;
}

/* The checks of 11.4 on WQE d; the outcome in *j. */
static uint8_t wqe_check(struct dbnic_core *c, struct dbnic_sq *sq,
                         const struct dbnic_desc *d, struct dbnic_job *j,
                         uint64_t *total)
{
    struct dbnic_qp *qp = dbnic_qp_of_sq(c, sq);
    const struct dbnic_rdma_seg *seg = dbnic_rdma_seg_of_const(d);
    uint8_t op = d->hdr.opcode;
    unsigned int nsrc = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC);
    unsigned int ndst = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);
    bool read = op == DBNIC_OP_RDMA_READ;
    unsigned int n = read ? ndst : nsrc, i;
    uint32_t inl = dbnic_le16(seg->inline_len);
    uint64_t len = 0;

    /* ERR: every WQE flushes, whatever it holds (11.2, 11.4). */
    if (qp->state == DBNIC_QPS_ERR) {
        return wqe_fail(j, DBNIC_WC_WR_FLUSH_ERR, DBNIC_ST_FLUSHED, false);
    }
    switch (op) {
    case DBNIC_OP_SEND:
    case DBNIC_OP_SEND_IMM:
    case DBNIC_OP_RDMA_WRITE:
    case DBNIC_OP_RDMA_WRITE_IMM:
    case DBNIC_OP_RDMA_READ:
        break;
    default: /* section 5: on a QP's send queue only send WQEs */
        return wqe_fail(j, DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_OPCODE, true);
    }
    /* 1. Shape. */
    if (d->hdr.size < 1 || d->hdr.size > DBNIC_DESC_MAX_BLOCKS ||
        d->hdr.size * DBNIC_DESC_BLOCK_SIZE > (1u << sq->log_stride) ||
        (d->hdr.flags & ~DBNIC_WQE_F_ALL) || (read ? nsrc : ndst) ||
        n > DBNIC_RDMA_MAX_SGE || inl > DBNIC_RDMA_MAX_INLINE ||
        (inl && (n || read)) || dbnic_rdma_wqe_blocks(n, inl) > d->hdr.size ||
        seg->rsvd || (!wqe_has_imm(op) && d->hdr.imm)) {
        return wqe_fail(j, DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_DESC, true);
    }
    /* 2. The opcode for the QP's type: UD and GSI send only. */
    if (qp->type != DBNIC_QPT_RC && op != DBNIC_OP_SEND &&
        op != DBNIC_OP_SEND_IMM) {
        return wqe_fail(j, DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_BAD_OPCODE, true);
    }
    /* 3. Length; SGEs follow the 16 bytes of struct dbnic_rdma_seg. */
    if (inl) {
        len = inl;
    }
    for (i = 0; i < n; i++) {
        uint32_t l = dbnic_le32(d->sge[1 + i].len);

        if (!l) {
            return wqe_fail(j, DBNIC_WC_LOC_LEN_ERR, DBNIC_ST_BAD_LENGTH,
                            true);
        }
        len += l;
    }
    if (len > DBNIC_MAX_XFER ||
        (qp->type != DBNIC_QPT_RC &&
         len > dbnic_ib_mtu_bytes(qp->path_mtu ? qp->path_mtu
                                               : DBNIC_IB_MTU_MAX))) {
        return wqe_fail(j, DBNIC_WC_LOC_LEN_ERR, DBNIC_ST_BAD_LENGTH, true);
    }
    /* 4. Keys of the QP's context and pd; the AH likewise. */
    for (i = 0; i < n; i++) {
        const struct dbnic_sge *sge = &d->sge[1 + i];

        if (dbnic_sge_check_pd(c, qp->ctx, qp->pd, sge, read) !=
            DBNIC_ST_OK) {
            dbnic_count(c, DBNIC_CNT_ACCESS_FAULT);
            dbnic_tr(c, DBNIC_TR_ACCESS_FAULT, qp->sqid, dbnic_le32(sge->key),
                     dbnic_le64(sge->addr));
            return wqe_fail(j, DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS, true);
        }
    }
    if (qp->type != DBNIC_QPT_RC &&
        !dbnic_ah_get(c, dbnic_le32(seg->ah), qp->ctx, qp->pd)) {
        return wqe_fail(j, DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS, true);
    }
    /* 5. A QP that sends. */
    if (qp->state != DBNIC_QPS_RTS) {
        return wqe_fail(j, DBNIC_WC_LOC_QP_OP_ERR, DBNIC_ST_OK, false);
    }
    *total = len;
    return DBNIC_ST_OK;
}

uint8_t dbnic_qp_wqe_check(struct dbnic_core *c, struct dbnic_sq *sq,
                           uint64_t *total)
{
    return wqe_check(c, sq, &sq->job.d, &sq->job, total);
}

uint8_t dbnic_qp_wqe_check_desc(struct dbnic_core *c, struct dbnic_sq *sq,
                                const struct dbnic_desc *d, uint64_t *total,
                                uint8_t *wc_status)
{
    struct dbnic_job j = { .wc_status = DBNIC_WC_SUCCESS };
    uint8_t st = wqe_check(c, sq, d, &j, total);

    *wc_status = j.wc_status;
    return st;
}

void dbnic_qp_job_failed(struct dbnic_core *c, struct dbnic_sq *sq,
                         uint32_t qid)
{
    struct dbnic_job *j = &sq->job;

    dbnic_qp_send_cqe(c, sq, qid, j->index, j->wc_status, j->vendor_err, 0,
                      j->prio, j->d.hdr.opcode);
    if (j->wc_fatal) {
        /* IBTA 10.8.3: a local error of a WQE is fatal to its QP. */
        dbnic_qp_fatal(c, dbnic_qp_of_sq(c, sq), j->wc_status);
    }
}

/*
 * The requester's entry point: a WQE that passed every check of 11.4 is
 * in sq->job; the RoCE transport sends it (PSNs, packets, the inflight
 * list) and completes it when the responder acknowledges it (11.4).
 * Returns the payload bytes moved.
 */
uint32_t dbnic_qp_wqe_exec(struct dbnic_core *c, struct dbnic_sq *sq,
                           uint32_t qid)
{
    return dbnic_roce_req_step(c, sq, qid);
}

/* ------------------------------------------------------------------ */
/* The IBTA state machine (datasheet 11.2)                             */
/* ------------------------------------------------------------------ */

#define A_CUR   DBNIC_QP_ATTR_CUR_STATE
#define A_ACC   DBNIC_QP_ATTR_ACCESS_FLAGS
#define A_PKEY  DBNIC_QP_ATTR_PKEY_INDEX
#define A_PORT  DBNIC_QP_ATTR_PORT
#define A_QKEY  DBNIC_QP_ATTR_QKEY
#define A_AV    DBNIC_QP_ATTR_AV
#define A_MTU   DBNIC_QP_ATTR_PATH_MTU
#define A_TMO   DBNIC_QP_ATTR_TIMEOUT
#define A_RETRY DBNIC_QP_ATTR_RETRY_CNT
#define A_RNR   DBNIC_QP_ATTR_RNR_RETRY
#define A_RQPSN DBNIC_QP_ATTR_RQ_PSN
#define A_MAXRD DBNIC_QP_ATTR_MAX_QP_RD_ATOMIC
#define A_RNRT  DBNIC_QP_ATTR_MIN_RNR_TIMER
#define A_SQPSN DBNIC_QP_ATTR_SQ_PSN
#define A_MAXDR DBNIC_QP_ATTR_MAX_DEST_RD_ATOMIC
#define A_DQPN  DBNIC_QP_ATTR_DEST_QPN

/*
 * The transitions IBTA vol. 1 allows (11.2.4.2, 10.3.1) with the
 * attributes each requires and each allows besides, per QP type, for the
 * types and attributes the device has: no SQD (refused), no alternate
 * path, no path migration.  A transition missing here is refused.  SQE
 * has rows in IB's table, but no QP of this device enters SQE (a bad WQE
 * moves it to ERR, 11.4), so it has none here.
 */
struct qp_trans {
    bool valid;
    uint32_t req[4]; /* by enum dbnic_qp_type */
    uint32_t opt[4];
};

static const struct qp_trans qp_table[DBNIC_QPS_ERR + 1][DBNIC_QPS_ERR + 1] = {
    [DBNIC_QPS_RESET] = {
        [DBNIC_QPS_RESET] = { .valid = true },
        [DBNIC_QPS_INIT] = {
            .valid = true,
            .req = {
                [DBNIC_QPT_RC] = A_PKEY | A_PORT | A_ACC,
                [DBNIC_QPT_UD] = A_PKEY | A_PORT | A_QKEY,
                [DBNIC_QPT_GSI] = A_PKEY | A_QKEY,
            },
        },
    },
    [DBNIC_QPS_INIT] = {
        [DBNIC_QPS_RESET] = { .valid = true },
        [DBNIC_QPS_ERR] = { .valid = true },
        [DBNIC_QPS_INIT] = {
            .valid = true,
            .opt = {
                [DBNIC_QPT_RC] = A_PKEY | A_PORT | A_ACC,
                [DBNIC_QPT_UD] = A_PKEY | A_PORT | A_QKEY,
                [DBNIC_QPT_GSI] = A_PKEY | A_QKEY,
            },
        },
        [DBNIC_QPS_RTR] = {
            .valid = true,
            .req = {
                [DBNIC_QPT_RC] = A_AV | A_MTU | A_DQPN | A_RQPSN | A_MAXDR |
                                 A_RNRT,
            },
            .opt = {
                [DBNIC_QPT_RC] = A_ACC | A_PKEY,
                [DBNIC_QPT_UD] = A_PKEY | A_QKEY,
                [DBNIC_QPT_GSI] = A_PKEY | A_QKEY,
            },
        },
    },
    [DBNIC_QPS_RTR] = {
        [DBNIC_QPS_RESET] = { .valid = true },
        [DBNIC_QPS_ERR] = { .valid = true },
        [DBNIC_QPS_RTS] = {
            .valid = true,
            .req = {
                [DBNIC_QPT_RC] = A_TMO | A_RETRY | A_RNR | A_SQPSN | A_MAXRD,
                [DBNIC_QPT_UD] = A_SQPSN,
                [DBNIC_QPT_GSI] = A_SQPSN,
            },
            .opt = {
                [DBNIC_QPT_RC] = A_CUR | A_ACC | A_RNRT,
                [DBNIC_QPT_UD] = A_CUR | A_QKEY,
                [DBNIC_QPT_GSI] = A_CUR | A_QKEY,
            },
        },
    },
    [DBNIC_QPS_RTS] = {
        [DBNIC_QPS_RESET] = { .valid = true },
        [DBNIC_QPS_ERR] = { .valid = true },
        [DBNIC_QPS_RTS] = {
            .valid = true,
            .opt = {
                [DBNIC_QPT_RC] = A_CUR | A_ACC | A_RNRT,
                [DBNIC_QPT_UD] = A_CUR | A_QKEY,
                [DBNIC_QPT_GSI] = A_CUR | A_QKEY,
            },
        },
    },
    [DBNIC_QPS_ERR] = {
        [DBNIC_QPS_RESET] = { .valid = true },
        [DBNIC_QPS_ERR] = { .valid = true },
    },
};

/*
 * May a QP of type in state cur move to next with attr_mask?  (The mask
 * holds only bits of DBNIC_QP_ATTR_ALL; CUR_STATE's value is checked by
 * the caller.)  As IB's: CUR_STATE only from RTR, RTS, SQD or SQE; the
 * required attributes all given; nothing beyond required and allowed.
 */
static bool trans_ok(uint8_t cur, uint8_t next, uint8_t type, uint32_t mask)
{
    const struct qp_trans *t;
    uint32_t req, opt;

    if (cur > DBNIC_QPS_ERR || next > DBNIC_QPS_ERR || type < DBNIC_QPT_RC ||
        type > DBNIC_QPT_GSI) {
        return false;
    }
    if ((mask & A_CUR) && cur != DBNIC_QPS_RTR && cur != DBNIC_QPS_RTS &&
        cur != DBNIC_QPS_SQD && cur != DBNIC_QPS_SQE) {
        return false;
    }
    t = &qp_table[cur][next];
    if (!t->valid) {
        return false;
    }
    req = t->req[type];
    opt = t->opt[type];
    return (mask & req) == req &&
           !(mask & ~(req | opt | DBNIC_QP_ATTR_STATE));
}

/* The values of the attributes mask names (11.2). */
static bool attr_values_ok(const struct dbnic_core *c,
                           const struct dbnic_qp_attr *a, uint32_t mask)
{
    if (!all_zero(a->rsvd, sizeof(a->rsvd)) ||
        !all_zero(a->rsvd1, sizeof(a->rsvd1))) {
        return false;
    }
    if ((mask & A_ACC) &&
        (a->access & ~(DBNIC_MR_REMOTE_READ | DBNIC_MR_REMOTE_WRITE))) {
        return false;
    }
    if ((mask & A_MTU) && !dbnic_ib_mtu_bytes(a->path_mtu)) {
        return false;
    }
    if (((mask & A_RQPSN) && dbnic_le32(a->rq_psn) > DBNIC_QPN_MASK) ||
        ((mask & A_SQPSN) && dbnic_le32(a->sq_psn) > DBNIC_QPN_MASK) ||
        ((mask & A_DQPN) && dbnic_le32(a->dest_qpn) > DBNIC_QPN_MASK)) {
        return false;
    }
    if (((mask & A_MAXRD) && a->max_rd_atomic > DBNIC_QP_MAX_RD_ATOMIC) ||
        ((mask & A_MAXDR) &&
         a->max_dest_rd_atomic > DBNIC_QP_MAX_RD_ATOMIC)) {
        return false;
    }
    /* IB's encodings: 5-bit timers, 3-bit retry counts. */
    if (((mask & A_RNRT) && a->min_rnr_timer > 31) ||
        ((mask & A_TMO) && a->timeout > 31) ||
        ((mask & A_RETRY) && a->retry_cnt > 7) ||
        ((mask & A_RNR) && a->rnr_retry > 7)) {
        return false;
    }
    return !(mask & A_AV) || av_ok(c, &a->av, false);
}

static void attr_apply(struct dbnic_qp *qp, const struct dbnic_qp_attr *a,
                       uint32_t mask)
{
    if (mask & A_ACC) {
        qp->access = a->access;
    }
    if (mask & A_QKEY) {
        qp->qkey = dbnic_le32(a->qkey);
    }
    if (mask & A_AV) {
        qp->av = a->av;
    }
    if (mask & A_MTU) {
        qp->path_mtu = a->path_mtu;
    }
    if (mask & A_TMO) {
        qp->timeout = a->timeout;
    }
    if (mask & A_RETRY) {
        qp->retry_cnt = a->retry_cnt;
    }
    if (mask & A_RNR) {
        qp->rnr_retry = a->rnr_retry;
    }
    if (mask & A_RQPSN) {
        qp->rq_psn = dbnic_le32(a->rq_psn);
    }
    if (mask & A_MAXRD) {
        qp->max_rd_atomic = a->max_rd_atomic;
    }
    if (mask & A_RNRT) {
        qp->min_rnr_timer = a->min_rnr_timer;
    }
    if (mask & A_SQPSN) {
        qp->sq_psn = dbnic_le32(a->sq_psn);
    }
    if (mask & A_MAXDR) {
        qp->max_dest_rd_atomic = a->max_dest_rd_atomic;
    }
    if (mask & A_DQPN) {
        qp->dest_qpn = dbnic_le32(a->dest_qpn);
    }
}

/*
 * To RESET (11.2): what is posted goes without completions, the rings'
 * consumer indices move to their producer indices, and the attributes
 * and sequence state start again from zero.
 */
static void qp_to_reset(struct dbnic_core *c, struct dbnic_qp *qp)
{
    dbnic_sq_discard(c, &c->sq[qp->sqid], qp->sqid);
    qp->rq_ci = qp->rq_pi;
    if (qp->rq_flush) {
        qp->rq_flush = false;
        c->qp_flush--;
    }
    qp->path_mtu = 0;
    qp->access = 0;
    qp->max_rd_atomic = 0;
    qp->max_dest_rd_atomic = 0;
    qp->min_rnr_timer = 0;
    qp->timeout = 0;
    qp->retry_cnt = 0;
    qp->rnr_retry = 0;
    qp->qkey = 0;
    qp->rq_psn = 0;
    qp->sq_psn = 0;
    qp->dest_qpn = 0;
    memset(&qp->av, 0, sizeof(qp->av));
}

static uint8_t adm_modify_qp(struct dbnic_core *c,
                             const struct dbnic_admin_cmd *cmd)
{
    struct dbnic_qp *qp = dbnic_qp_get(c, dbnic_le32(cmd->modify_qp.qpn));
    uint64_t addr = dbnic_le64(cmd->modify_qp.attr);
    uint32_t mask = dbnic_le32(cmd->modify_qp.attr_mask);
    struct dbnic_qp_attr a;
    uint8_t next;

    if (!qp) {
        return DBNIC_AST_BAD_HANDLE;
    }
    if ((mask & ~DBNIC_QP_ATTR_ALL) || !addr || (addr & 7) ||
        c->ops->dma_read(c->opaque, addr, &a, sizeof(a))) {
        return DBNIC_AST_BAD_PARAM;
    }
    if ((mask & A_CUR) && a.cur_state != qp->state) {
        return DBNIC_AST_BAD_PARAM;
    }
    next = (mask & DBNIC_QP_ATTR_STATE) ? a.state : qp->state;
    if (next == DBNIC_QPS_SQD || !trans_ok(qp->state, next, qp->type, mask) ||
        !attr_values_ok(c, &a, mask)) {
        return DBNIC_AST_BAD_PARAM;
    }
    if (next == DBNIC_QPS_ERR || next == DBNIC_QPS_RESET) {
        dbnic_roce_resp_drain(c, qp);
    }
    if (next == DBNIC_QPS_RESET) {
        qp_to_reset(c, qp);
    }
    attr_apply(qp, &a, mask);
    dbnic_roce_qp_modified(qp, next, mask);
    qp_set_state(c, qp, next, mask);
    if (next == DBNIC_QPS_ERR) {
        qp_flush(c, qp); /* asked for: no QP_ERR event (11.7) */
    }
    return DBNIC_AST_OK;
}

static uint8_t adm_query_qp(struct dbnic_core *c,
                            const struct dbnic_admin_cmd *cmd)
{
    struct dbnic_qp *qp = dbnic_qp_get(c, dbnic_le32(cmd->modify_qp.qpn));
    uint64_t addr = dbnic_le64(cmd->modify_qp.attr);
    struct dbnic_qp_attr a;

    if (!qp) {
        return DBNIC_AST_BAD_HANDLE;
    }
    if (!addr || (addr & 7)) {
        return DBNIC_AST_BAD_PARAM;
    }
    memset(&a, 0, sizeof(a));
    a.state = qp->state;
    a.cur_state = qp->state;
    a.path_mtu = qp->path_mtu;
    a.access = qp->access;
    a.qkey = dbnic_le32(qp->qkey);
    a.rq_psn = dbnic_le32(qp->rq_psn);
    a.sq_psn = dbnic_le32(qp->sq_psn);
    a.dest_qpn = dbnic_le32(qp->dest_qpn);
    a.max_rd_atomic = qp->max_rd_atomic;
    a.max_dest_rd_atomic = qp->max_dest_rd_atomic;
    a.min_rnr_timer = qp->min_rnr_timer;
    a.timeout = qp->timeout;
    a.retry_cnt = qp->retry_cnt;
    a.rnr_retry = qp->rnr_retry;
    a.av = qp->av;
    if (c->ops->dma_write(c->opaque, addr, &a, sizeof(a))) {
        return DBNIC_AST_BAD_PARAM;
    }
    return DBNIC_AST_OK;
}

/* ------------------------------------------------------------------ */
/* Creating and destroying                                             */
/* ------------------------------------------------------------------ */

/* A QP's CQ: of ctx, with 32-byte CQEs. */
static uint8_t qp_cq_check(struct dbnic_core *c, uint32_t cqn, uint32_t ctx)
{
    struct dbnic_cq *cq = dbnic_cq_get(c, cqn);

    if (!cq) {
        return DBNIC_AST_BAD_HANDLE;
    }
    return cq->ctx == ctx && cq->log_cqe == DBNIC_LOG_CQE_32
               ? DBNIC_AST_OK
               : DBNIC_AST_BAD_PARAM;
}

static uint8_t adm_create_qp(struct dbnic_core *c,
                             const struct dbnic_admin_cmd *cmd, uint32_t *res,
                             uint32_t *res2)
{
    uint32_t ctx = dbnic_le32(cmd->create_qp.ctx);
    uint32_t scqn = dbnic_le32(cmd->create_qp.scqn);
    uint32_t rcqn = dbnic_le32(cmd->create_qp.rcqn);
    uint64_t rq_base = dbnic_le64(cmd->create_qp.rq_base);
    uint8_t type = cmd->create_qp.type;
    uint8_t rlog = cmd->create_qp.rq_log_size;
    uint8_t rstride = cmd->create_qp.rq_log_stride;
    struct dbnic_qp *qp;
    uint32_t i, qid;
    uint16_t gen;
    uint8_t st;

    if (!ctx_ok(c, ctx)) {
        return DBNIC_AST_BAD_HANDLE;
    }
    st = qp_cq_check(c, scqn, ctx);
    if (st == DBNIC_AST_OK) {
        st = qp_cq_check(c, rcqn, ctx);
    }
    if (st != DBNIC_AST_OK) {
        return st;
    }
    if (type < DBNIC_QPT_RC || type > DBNIC_QPT_GSI ||
        (type == DBNIC_QPT_GSI && !c->ctx[ctx].privileged) ||
        !all_zero(cmd->create_qp.rsvd, sizeof(cmd->create_qp.rsvd)) ||
        !rq_base || (rq_base & (DBNIC_DESC_BLOCK_SIZE - 1)) ||
        rlog < DBNIC_LOG_RING_MIN || rlog > DBNIC_LOG_RING_MAX ||
        rstride < DBNIC_LOG_STRIDE_MIN || rstride > DBNIC_LOG_STRIDE_MAX ||
        rq_base + ((uint64_t)1 << (rlog + rstride)) - 1 < rq_base) {
        return DBNIC_AST_BAD_PARAM;
    }
    if (type == DBNIC_QPT_GSI && c->gsi) {
        return DBNIC_AST_BUSY; /* one per device */
    }
    for (i = 0; i < c->cfg.max_qp; i++) {
        if (!c->qp[i].in_use && !c->qp[i].retired) {
            break;
        }
    }
    if (i == c->cfg.max_qp) {
        return DBNIC_AST_NO_RESOURCE;
    }
    st = dbnic_sq_create(c, ctx, scqn, dbnic_le64(cmd->create_qp.sq_base),
                         cmd->create_qp.sq_log_size,
                         cmd->create_qp.sq_log_stride, &qid);
    if (st != DBNIC_AST_OK) {
        return st;
    }
    qp = &c->qp[i];
    gen = qp->gen + 1;
    memset(qp, 0, sizeof(*qp));
    qp->in_use = true;
    qp->gen = gen;
    qp->type = type;
    qp->state = DBNIC_QPS_RESET;
    qp->ctx = ctx;
    qp->pd = dbnic_le32(cmd->create_qp.pd);
    qp->sqid = qid;
    qp->rcqn = rcqn;
    qp->rq_base = rq_base;
    qp->rq_log_size = rlog;
    qp->rq_log_stride = rstride;
    c->sq[qid].qp = i + 1;
    c->cq[rcqn].users++;
    if (type == DBNIC_QPT_GSI) {
        c->gsi = i + 1;
    }
    *res = dbnic_qp_num(c, qp);
    *res2 = qid;
    dbnic_tr(c, DBNIC_TR_QP, ctx, *res, qid | (uint32_t)type << 16);
    return DBNIC_AST_OK;
}

/*
 * DESTROY_QP (11.2), in any state: what is posted goes without
 * completions, the send queue with it.  The entry keeps its generation,
 * so the QPN stays dead; a spent generation retires the entry.
 */
static void qp_destroy(struct dbnic_core *c, struct dbnic_qp *qp)
{
    uint32_t i = qp_index(c, qp);
    struct dbnic_cq *rcq = dbnic_cq_get(c, qp->rcqn);
    uint16_t gen = qp->gen;

    dbnic_tr(c, DBNIC_TR_QP, qp->ctx, dbnic_qp_num(c, qp), 0);
    dbnic_roce_resp_drain(c, qp);
    if (rcq && rcq->users) {
        rcq->users--;
    }
    dbnic_sq_destroy(c, qp->sqid);
    if (c->gsi == i + 1) {
        c->gsi = 0;
    }
    if (qp->rq_flush) {
        c->qp_flush--;
    }
    memset(qp, 0, sizeof(*qp));
    qp->gen = gen;
    qp->retired = gen == QP_GEN_MAX;
}

static uint8_t adm_create_ah(struct dbnic_core *c,
                             const struct dbnic_admin_cmd *cmd, uint32_t *res)
{
    uint32_t ctx = dbnic_le32(cmd->create_ah.ctx);
    uint32_t i;

    if (!ctx_ok(c, ctx)) {
        return DBNIC_AST_BAD_HANDLE;
    }
    if (!av_ok(c, &cmd->create_ah.av, true)) {
        return DBNIC_AST_BAD_PARAM;
    }
    for (i = 0; i < c->cfg.max_ah; i++) {
        struct dbnic_ah *ah = &c->ah[i];
        uint16_t gen;

        if (ah->in_use || ah->retired) {
            continue;
        }
        gen = ah->gen + 1;
        memset(ah, 0, sizeof(*ah));
        ah->in_use = true;
        ah->gen = gen;
        ah->ctx = ctx;
        ah->pd = dbnic_le32(cmd->create_ah.pd);
        ah->av = cmd->create_ah.av;
        *res = DBNIC_SET(DBNIC_AH_INDEX, i + 1) | DBNIC_SET(DBNIC_AH_GEN, gen);
        dbnic_tr(c, DBNIC_TR_AH, ctx, *res, 1);
        return DBNIC_AST_OK;
    }
    return DBNIC_AST_NO_RESOURCE;
}

static void ah_release(struct dbnic_core *c, struct dbnic_ah *ah)
{
    uint32_t i = (uint32_t)(ah - c->ah);
    uint32_t handle = DBNIC_SET(DBNIC_AH_INDEX, i + 1) |
                      DBNIC_SET(DBNIC_AH_GEN, ah->gen);

    dbnic_tr(c, DBNIC_TR_AH, ah->ctx, handle, 0);
    ah->in_use = false;
    ah->retired = ah->gen == AH_GEN_MAX;
}

static uint8_t adm_set_gid(struct dbnic_core *c,
                           const struct dbnic_admin_cmd *cmd)
{
    uint32_t ctx = dbnic_le32(cmd->set_gid.ctx);
    uint32_t index = dbnic_le32(cmd->set_gid.index);
    uint16_t vlan = dbnic_le16(cmd->set_gid.vlan);
    uint8_t net = cmd->set_gid.net;
    struct dbnic_gid *g;

    if (!ctx_ok(c, ctx)) {
        return DBNIC_AST_BAD_HANDLE;
    }
    /* The port's addresses are the host kernel's (11.1). */
    if (!c->ctx[ctx].privileged || index >= DBNIC_GID_TBL_LEN ||
        cmd->set_gid.rsvd ||
        (net && (!gid_net_ok(cmd->set_gid.gid, net) || !vlan_ok(vlan)))) {
        return DBNIC_AST_BAD_PARAM;
    }
    g = &c->gid[index];
    memset(g, 0, sizeof(*g));
    if (net) {
        g->net = net;
        g->vlan = vlan;
        memcpy(g->gid, cmd->set_gid.gid, sizeof(g->gid));
    }
    dbnic_tr(c, DBNIC_TR_GID, index, net, vlan);
    return DBNIC_AST_OK;
}

uint8_t dbnic_qp_admin(struct dbnic_core *c, const struct dbnic_admin_cmd *cmd,
                       uint32_t *res, uint32_t *res2)
{
    struct dbnic_qp *qp;
    struct dbnic_ah *ah;

    switch (cmd->opcode) {
    case DBNIC_ADM_CREATE_QP:
        return adm_create_qp(c, cmd, res, res2);
    case DBNIC_ADM_MODIFY_QP:
        return adm_modify_qp(c, cmd);
    case DBNIC_ADM_QUERY_QP:
        return adm_query_qp(c, cmd);
    case DBNIC_ADM_DESTROY_QP:
        qp = dbnic_qp_get(c, dbnic_le32(cmd->destroy.handle));
        if (!qp) {
            return DBNIC_AST_BAD_HANDLE;
        }
        qp_destroy(c, qp);
        return DBNIC_AST_OK;
    case DBNIC_ADM_CREATE_AH:
        return adm_create_ah(c, cmd, res);
    case DBNIC_ADM_DESTROY_AH:
        ah = ah_find(c, dbnic_le32(cmd->destroy.handle));
        if (!ah) {
            return DBNIC_AST_BAD_HANDLE;
        }
        ah_release(c, ah);
        return DBNIC_AST_OK;
    case DBNIC_ADM_SET_GID:
        return adm_set_gid(c, cmd);
    default:
        return DBNIC_AST_BAD_OPCODE;
    }
}

void dbnic_qp_destroy_ctx(struct dbnic_core *c, uint32_t ctx)
{
    uint32_t i;

    for (i = 0; i < c->cfg.max_qp; i++) {
        if (c->qp[i].in_use && c->qp[i].ctx == ctx) {
            qp_destroy(c, &c->qp[i]);
        }
    }
    for (i = 0; i < c->cfg.max_ah; i++) {
        if (c->ah[i].in_use && c->ah[i].ctx == ctx) {
            ah_release(c, &c->ah[i]);
        }
    }
}

/*
 * Reset and disable forget every QP, AH and GID; with the contexts gone
 * no old QPN or handle can name a new object of its owner, so the
 * generations start again and retired entries come back, as keys do.
 */
void dbnic_qp_reset(struct dbnic_core *c)
{
    memset(c->qp, 0, sizeof(*c->qp) * c->cfg.max_qp);
    memset(c->ah, 0, sizeof(*c->ah) * c->cfg.max_ah);
    memset(c->gid, 0, sizeof(c->gid));
    c->gsi = 0;
    c->qp_flush = 0;
}

/* ------------------------------------------------------------------ */
/* The receive ring's doorbell (11.3)                                  */
/* ------------------------------------------------------------------ */

static void db_refuse(struct dbnic_core *c, uint32_t ctx, uint32_t qid,
                      enum dbnic_async_err why)
{
    dbnic_count(c, why == DBNIC_AERR_DB_NOT_OWNER ? DBNIC_CNT_DB_NOT_OWNER
                                                  : DBNIC_CNT_DB_BAD);
    dbnic_tr(c, DBNIC_TR_DB_REFUSED, ctx, qid, why);
    dbnic_async_error(c, why, ctx, qid);
}

void dbnic_qp_db_rq(struct dbnic_core *c, uint32_t ctx, uint32_t val)
{
    uint32_t qid = DBNIC_GET(val, DBNIC_DB_SQ_QID);
    uint16_t pi = DBNIC_GET(val, DBNIC_DB_SQ_PI);
    struct dbnic_sq *sq = dbnic_sq_get(c, qid);
    struct dbnic_qp *qp;
    uint16_t ahead;

    dbnic_tr(c, DBNIC_TR_DB_QP_RQ, ctx, qid, pi);
    if (!sq) {
        db_refuse(c, ctx, qid, DBNIC_AERR_DB_BAD_QUEUE);
        return;
    }
    if (sq->ctx != ctx) {
        db_refuse(c, ctx, qid, DBNIC_AERR_DB_NOT_OWNER);
        return;
    }
    qp = dbnic_qp_of_sq(c, sq);
    if (!qp) {
        db_refuse(c, ctx, qid, DBNIC_AERR_DB_BAD_QUEUE);
        return;
    }
    ahead = dbnic_ring_used(pi, qp->rq_ci);
    if (ahead > (1u << qp->rq_log_size) ||
        ahead < dbnic_ring_used(qp->rq_pi, qp->rq_ci)) {
        dbnic_count(c, DBNIC_CNT_DB_BAD); /* past the ring, or backwards */
        return;
    }
    qp->rq_pi = pi;
    /* In ERR a new RECV flushes (IBTA 10.3.1), in the next run: no DMA here. */
    if (qp->state == DBNIC_QPS_ERR && qp->rq_ci != qp->rq_pi && !qp->rq_flush) {
        qp->rq_flush = true;
        c->qp_flush++;
        dbnic_ask_run(c);
    }
}

void dbnic_qp_run(struct dbnic_core *c)
{
    uint32_t i;

    for (i = 0; c->qp_flush && i < c->cfg.max_qp; i++) {
        struct dbnic_qp *qp = &c->qp[i];

        if (qp->in_use && qp->rq_flush) {
            qp->rq_flush = false;
            c->qp_flush--;
            if (qp->state == DBNIC_QPS_ERR) {
                rq_flush(c, qp);
            }
        }
    }
}
