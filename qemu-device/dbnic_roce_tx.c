/*
 * dbnic device core: the RoCE v2 transport, sending side (datasheet 11.4,
 * 11.8): the requester (a send WQE becomes path-MTU packets with PSNs;
 * RC WQEs wait for their ACK or READ response in the inflight list) and
 * the responder's output (READ responses, ACKs and NAKs, one ACK per
 * engine pass over a QP).
 *
 * Packets are built in c->eth_buf: the headers by the wire library
 * (dbnic_roce_wire.c), the payload gathered by DMA behind them with the
 * ICRC folded in as it comes.  Everything runs inside a run of the engine
 * (or an inline run), one chunk of payload per step, like any job.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "dbnic_core_priv.h"
#include "dbnic_roce.h"

/* AckReq at least on every this many packets (11.8). */
#define DBNIC_ROCE_ACKREQ_EVERY 64

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

void dbnic_roce_qp_reset(struct dbnic_qp *qp)
{
    memset(&qp->req, 0, sizeof(qp->req));
    memset(&qp->resp, 0, sizeof(qp->resp));
    qp->req.psn = qp->req.una = qp->sq_psn & DBNIC_ROCE_PSN_MASK;
    qp->resp.epsn = qp->rq_psn & DBNIC_ROCE_PSN_MASK;
}

void dbnic_roce_qp_modified(struct dbnic_qp *qp, uint8_t state,
                            uint32_t attr_mask)
{
    if (state == DBNIC_QPS_RESET) {
        dbnic_roce_qp_reset(qp);
    }
    if (attr_mask & DBNIC_QP_ATTR_SQ_PSN) {
        qp->req.psn = qp->req.una = qp->sq_psn & DBNIC_ROCE_PSN_MASK;
    }
    if (state == DBNIC_QPS_RTS) {
        /* The retry counts start full (11.10). */
        qp->req.retry_left = qp->retry_cnt;
        qp->req.rnr_left = qp->rnr_retry;
    } else {
        /* Timers run in RTS only. */
        qp->req.deadline = 0;
        qp->req.timer_fired = false;
        qp->req.rnr_wait = false;
        qp->req.retx = false;
    }
    if (attr_mask & DBNIC_QP_ATTR_RQ_PSN) {
        qp->resp.epsn = qp->rq_psn & DBNIC_ROCE_PSN_MASK;
    }
}

static uint32_t qp_mtu(const struct dbnic_qp *qp)
{
    if (qp->type != DBNIC_QPT_RC) {
        return 4096; /* UD and GSI: the port's (11.4) */
    }
    return dbnic_ib_mtu_bytes(qp->path_mtu) ?: 256;
}

/* Packets of a message of len bytes: at least one. */
static uint32_t msg_pkts(uint64_t len, uint32_t mtu)
{
    return len ? (uint32_t)((len + mtu - 1) / mtu) : 1;
}

/* The send queue's slots before this are free (11.6). */
uint16_t dbnic_roce_sq_head(struct dbnic_core *c, const struct dbnic_qp *qp,
                            const struct dbnic_sq *sq)
{
    const struct dbnic_roce_req *r = &qp->req;
    uint16_t head = sq->ci;
    unsigned int k;

    if (r->if_len) {
        return r->inflight[r->if_head].index;
    }
    if (sq->job.active) {
        return sq->job.index;
    }
    /* Copies the ring lane passed that have not started yet. */
    for (k = 0; k < sq->lane_len; k++) {
        uint16_t i = dbnic_le16(
            sq->lane[(sq->lane_head + k) % DBNIC_CORE_PRIO_LANE].hdr.index);

        if (dbnic_ring_used(sq->pi, i) > dbnic_ring_used(sq->pi, head)) {
            head = i;
        }
    }
    return head;
}

static struct dbnic_sq *qp_sq(struct dbnic_core *c, struct dbnic_qp *qp)
{
    return &c->sq[qp->sqid];
}

/* ------------------------------------------------------------------ */
/* The port                                                            */
/* ------------------------------------------------------------------ */

static void loop_push(struct dbnic_core *c, const uint8_t *frame, size_t len)
{
    struct dbnic_roce_loop *e;

    if (!c->roce_loop) {
        c->roce_loop = calloc(DBNIC_ROCE_LOOP_FRAMES, sizeof(*c->roce_loop));
    }
    if (!c->roce_loop || c->roce_loop_len == DBNIC_ROCE_LOOP_FRAMES ||
        len > sizeof(e->buf)) {
        dbnic_count(c, DBNIC_CNT_ROCE_TX_DROP);
        return;
    }
    e = &c->roce_loop[(c->roce_loop_head + c->roce_loop_len) %
                      DBNIC_ROCE_LOOP_FRAMES];
    memcpy(e->buf, frame, len);
    e->len = (uint16_t)len;
    c->roce_loop_len++;
    dbnic_count(c, DBNIC_CNT_ROCE_TX_PKTS);
    dbnic_count(c, DBNIC_CNT_ROCE_LOOPBACK);
    /* Received in a run, never from inside this one's call chain. */
    dbnic_ask_run(c);
}

bool dbnic_roce_xmit(struct dbnic_core *c, const uint8_t *frame, size_t len)
{
    static const struct dbnic_eth_tx_offload none;
    int r;

    if (dbnic_fault_on(c, DBNIC_FAULT_TX)) {
        return dbnic_fault_tx(c, frame, len); /* 11.11; comes back here */
    }
    if (!memcmp(frame, c->cfg.mac, 6)) {
        loop_push(c, frame, len);
        return true;
    }
    if (!c->link_up || !c->ops->eth_tx) {
        dbnic_count(c, DBNIC_CNT_ROCE_TX_DROP);
        return true;
    }
    if (c->eth_tx_blocked) {
        return false;
    }
    r = c->ops->eth_tx(c->opaque, frame, len, &none);
    if (r == DBNIC_ETH_TX_BUSY) {
        c->eth_tx_blocked = true;
        return false;
    }
    if (r == DBNIC_ETH_TX_SENT) {
        dbnic_count(c, DBNIC_CNT_ROCE_TX_PKTS);
    } else {
        dbnic_count(c, DBNIC_CNT_ROCE_TX_DROP);
    }
    return true;
}

/*
 * The framing of a packet to av from the port: the GID entry av names
 * must still be valid and of av's network.  false: it is not (the packet
 * is dropped).
 */
static bool pkt_addr(struct dbnic_core *c, const struct dbnic_av *av,
                     uint16_t sport, uint16_t ip_id,
                     struct dbnic_roce_addr *a)
{
    const struct dbnic_gid *gid = dbnic_gid_get(c, av->sgid_index);
    uint16_t vlan = dbnic_le16(av->vlan);

    if (!gid || gid->net != av->net) {
        return false;
    }
    memset(a, 0, sizeof(*a));
    memcpy(a->dmac, av->dmac, 6);
    memcpy(a->smac, c->cfg.mac, 6);
    a->vlan = vlan == DBNIC_VLAN_NONE ? DBNIC_ROCE_NO_VLAN : (vlan & 0xfff);
    a->ipver = av->net == DBNIC_NET_IPV6 ? 6 : 4;
    a->tclass = av->traffic_class;
    a->hop_limit = av->hop_limit;
    a->flow_label = dbnic_le32(av->flow_label) & 0xfffff;
    a->udp_sport = sport;
    a->ip_id = ip_id;
    memcpy(a->sgid, gid->gid, 16);
    memcpy(a->dgid, av->dgid, 16);
    return true;
}

/* UD and GSI QPs send from a port of their own, fixed by the QPN. */
static uint16_t qp_sport(struct dbnic_core *c, const struct dbnic_qp *qp)
{
    uint16_t p = dbnic_le16(qp->av.udp_sport);

    if (qp->type == DBNIC_QPT_RC && p >= DBNIC_ROCE_SPORT_MIN) {
        return p;
    }
    return DBNIC_ROCE_SPORT_MIN | (dbnic_qp_num(c, qp) & 0x3fff);
}

/*
 * Gather n bytes of a range (an SGE, or a remote range named by its
 * rkey as an SGE) from offset off into buf, folding them into *crc.
 * A status.
 */
static uint8_t gather(struct dbnic_core *c, uint32_t ctx,
                      const struct dbnic_sge *sge, uint32_t off, uint8_t *buf,
                      uint32_t n, uint32_t *crc)
{
    while (n) {
        uint64_t dma;
        uint32_t len;

        if (dbnic_sge_translate(c, ctx, sge, off, n, &dma, &len) || !len) {
            return DBNIC_ST_ACCESS;
        }
        if (c->ops->map) {
            /* Plain RAM: each byte is read once, into the frame and CRC. */
            size_t mlen = len;
            void *p = c->ops->map(c->opaque, dma, &mlen, false);

            if (p) {
                if (mlen < len) {
                    len = (uint32_t)mlen;
                }
                *crc = dbnic_roce_icrc_copy(*crc, buf, p, len);
                c->ops->unmap(c->opaque, p, mlen, false, len);
                goto next;
            }
        }
        if (c->ops->dma_read(c->opaque, dma, buf, len)) {
            return DBNIC_ST_DMA_ERROR;
        }
        *crc = dbnic_roce_icrc_update(*crc, buf, len);
next:
        buf += len;
        off += len;
        n -= len;
    }
    return DBNIC_ST_OK;
}

/* ------------------------------------------------------------------ */
/* Requester: completions                                              */
/* ------------------------------------------------------------------ */

/* Pop the oldest inflight WQE; its CQE if it asked for one or failed. */
static void inflight_pop(struct dbnic_core *c, struct dbnic_qp *qp,
                         uint8_t wc_status, uint8_t vendor)
{
    struct dbnic_roce_req *r = &qp->req;
    struct dbnic_roce_inflight e;

    if (!r->if_len) {
        return;
    }
    e = r->inflight[r->if_head];
    r->if_head = (r->if_head + 1) % DBNIC_QP_MAX_INFLIGHT;
    r->if_len--;
    if (e.opcode == DBNIC_OP_RDMA_READ && r->rd_len) {
        r->rd_head = (r->rd_head + 1) % DBNIC_QP_MAX_RD_ATOMIC;
        r->rd_len--;
    }
    /* A retransmission goes on with the entry after this one. */
    if (r->retx) {
        if (r->retx_k) {
            r->retx_k--;
        } else {
            r->retx_loaded = false;
        }
    }
    if (wc_status != DBNIC_WC_SUCCESS ||
        (e.flags & DBNIC_DESC_F_COMPLETION)) {
        dbnic_qp_send_cqe(c, qp_sq(c, qp), qp->sqid, e.index, wc_status,
                          vendor, e.len, e.prio, e.opcode);
    }
}

void dbnic_roce_inflight_done(struct dbnic_core *c, struct dbnic_qp *qp,
                              uint8_t wc_status)
{
    inflight_pop(c, qp, wc_status, DBNIC_ST_OK);
}

bool dbnic_roce_complete_upto(struct dbnic_core *c, struct dbnic_qp *qp,
                          uint32_t psn)
{
    struct dbnic_roce_req *r = &qp->req;
    bool any = false;

    while (r->if_len) {
        const struct dbnic_roce_inflight *e = &r->inflight[r->if_head];

        if (e->opcode == DBNIC_OP_RDMA_READ ||
            dbnic_psn_cmp(e->last_psn, psn) > 0) {
            break;
        }
        dbnic_roce_inflight_done(c, qp, DBNIC_WC_SUCCESS);
        any = true;
    }
    return any;
}

/* Timers and retransmission stop (the QP leaves RTS, 11.10). */
static void req_stop(struct dbnic_roce_req *r)
{
    r->deadline = 0;
    r->timer_fired = false;
    r->rnr_wait = false;
    r->retx = false;
    r->retx_loaded = false;
}

void dbnic_roce_req_flush(struct dbnic_core *c, struct dbnic_qp *qp)
{
    struct dbnic_roce_req *r = &qp->req;

    req_stop(r);
    while (r->if_len) {
        struct dbnic_roce_inflight e = r->inflight[r->if_head];

        r->if_head = (r->if_head + 1) % DBNIC_QP_MAX_INFLIGHT;
        r->if_len--;
        dbnic_qp_send_cqe(c, qp_sq(c, qp), qp->sqid, e.index,
                          DBNIC_WC_WR_FLUSH_ERR, DBNIC_ST_FLUSHED, 0, e.prio,
                          e.opcode);
    }
    r->rd_len = 0;
    r->started = false; /* the job itself is the send queue's to flush */
    r->wait = false;
}

void dbnic_roce_req_fail_oldest(struct dbnic_core *c, struct dbnic_qp *qp,
                                uint8_t wc_status, uint8_t vendor)
{
    struct dbnic_roce_req *r = &qp->req;
    struct dbnic_sq *sq = qp_sq(c, qp);

    req_stop(r);
    if (r->if_len) {
        inflight_pop(c, qp, wc_status, vendor);
    } else if (r->started && sq->job.active) {
        r->started = false;
        sq->job.active = false;
        dbnic_qp_send_cqe(c, sq, qp->sqid, sq->job.index, wc_status, vendor,
                          0, sq->job.prio, sq->job.d.hdr.opcode);
    }
    dbnic_qp_fatal(c, qp, wc_status);
}

/* ------------------------------------------------------------------ */
/* Requester: timers and retries (11.10)                               */
/* ------------------------------------------------------------------ */

/* The transport timer's interval in ns, 0: infinite. */
static uint64_t qp_timeout_ns(const struct dbnic_qp *qp)
{
    uint64_t t = dbnic_ib_timeout_ns(qp->timeout);

    return t && t < DBNIC_ROCE_MIN_TIMEOUT_NS ? DBNIC_ROCE_MIN_TIMEOUT_NS : t;
}

/* Are packets out that no acknowledgement has covered yet? */
static bool req_outstanding(const struct dbnic_qp *qp)
{
    const struct dbnic_roce_req *r = &qp->req;

    return r->if_len || (r->started && r->cur.hi);
}

/* The transport timer starts again from now, or stops. */
static void req_timer_restart(struct dbnic_core *c, struct dbnic_qp *qp)
{
    struct dbnic_roce_req *r = &qp->req;
    uint64_t t = qp_timeout_ns(qp);

    if (r->rnr_wait) {
        return; /* the RNR wait's deadline stands */
    }
    if (!t || qp->state != DBNIC_QPS_RTS || !req_outstanding(qp)) {
        r->deadline = 0;
        return;
    }
    r->deadline = dbnic_now(c) + t;
    dbnic_timer_arm(c, r->deadline);
}

void dbnic_roce_acked(struct dbnic_core *c, struct dbnic_qp *qp,
                      uint32_t next)
{
    struct dbnic_roce_req *r = &qp->req;

    if (dbnic_psn_cmp(next, r->una) <= 0) {
        return;
    }
    r->una = next;
    r->retry_left = qp->retry_cnt;
    r->rnr_left = qp->rnr_retry;
    r->retx_started = false;
    req_timer_restart(c, qp);
}

uint32_t dbnic_roce_resume_psn(const struct dbnic_qp *qp)
{
    const struct dbnic_roce_req *r = &qp->req;
    uint32_t first;

    if (r->if_len) {
        const struct dbnic_roce_inflight *e = &r->inflight[r->if_head];

        if (e->opcode == DBNIC_OP_RDMA_READ && r->rd_len) {
            const struct dbnic_roce_read *rd = &r->rd[r->rd_head];

            /* Its first response not placed yet. */
            return dbnic_psn_add(rd->first_psn, rd->done / qp_mtu(qp));
        }
        first = e->first_psn;
    } else if (r->started) {
        first = r->cur.msg_psn;
    } else {
        return r->psn;
    }
    return dbnic_psn_cmp(r->una, first) > 0 ? r->una : first;
}

/*
 * Put cur at packet pkt of WQE d (pkt < its packets): the payload offset
 * and the gather position of that packet.
 */
static void cur_seek(const struct dbnic_qp *qp, const struct dbnic_desc *d,
                     struct dbnic_roce_cur *cur, uint32_t pkt)
{
    unsigned int n = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC), i;
    uint32_t off;

    cur->sent_pkts = pkt;
    cur->sge_i = 0;
    cur->sge_off = 0;
    cur->off = 0;
    if (d->hdr.opcode == DBNIC_OP_RDMA_READ) {
        return;
    }
    /* pkt < DBNIC_MAX_XFER / 256: the offset fits 32 bits. */
    off = cur->off = pkt * qp_mtu(qp);
    if (dbnic_le16(dbnic_rdma_seg_of_const(d)->inline_len)) {
        return;
    }
    for (i = 0; i < n && off; i++) {
        uint32_t l = dbnic_le32(d->sge[1 + i].len);

        if (off < l) {
            break;
        }
        off -= l;
    }
    cur->sge_i = (uint8_t)i;
    cur->sge_off = off;
}

/* Go-back-N from the first PSN not acknowledged (11.10). */
static void retx_begin(struct dbnic_core *c, struct dbnic_qp *qp)
{
    struct dbnic_roce_req *r = &qp->req;
    uint32_t from = dbnic_roce_resume_psn(qp);

    r->retx = r->if_len != 0;
    r->retx_started = true;
    r->retx_from = from;
    r->retx_k = 0;
    r->retx_loaded = false;
    if (r->started && r->cur.sent_pkts) {
        /* The WQE being sent goes on from its first packet not acked. */
        uint32_t p = 0;

        if (dbnic_psn_cmp(from, r->cur.msg_psn) > 0) {
            p = (from - r->cur.msg_psn) & DBNIC_ROCE_PSN_MASK;
        }
        if (p < r->cur.sent_pkts) {
            cur_seek(qp, &qp_sq(c, qp)->job.d, &r->cur, p);
        }
    }
    dbnic_tr(c, DBNIC_TR_ROCE_RETRY, dbnic_qp_num(c, qp), r->retry_left,
             from);
    dbnic_sq_wake(c, qp->sqid);
    dbnic_ask_run(c);
}

void dbnic_roce_retry(struct dbnic_core *c, struct dbnic_qp *qp,
                      enum dbnic_counter counter)
{
    struct dbnic_roce_req *r = &qp->req;

    if (!r->retry_left) {
        dbnic_count(c, DBNIC_CNT_ROCE_RETRY_EXC);
        dbnic_roce_req_fail_oldest(c, qp, DBNIC_WC_RETRY_EXC_ERR,
                                   DBNIC_ST_OK);
        return;
    }
    r->retry_left--;
    dbnic_count(c, counter);
    retx_begin(c, qp);
    req_timer_restart(c, qp);
}

void dbnic_roce_rnr(struct dbnic_core *c, struct dbnic_qp *qp, uint8_t x)
{
    struct dbnic_roce_req *r = &qp->req;

    if (!r->rnr_left) {
        dbnic_count(c, DBNIC_CNT_ROCE_RNR_RETRY_EXC);
        dbnic_roce_req_fail_oldest(c, qp, DBNIC_WC_RNR_RETRY_EXC_ERR,
                                   DBNIC_ST_OK);
        return;
    }
    if (r->rnr_left != 7) { /* 7: unlimited (IBTA) */
        r->rnr_left--;
    }
    dbnic_count(c, DBNIC_CNT_ROCE_RNR_WAIT);
    /* Nothing goes out until the wait ends; then go-back-N. */
    r->retx = false;
    r->retx_loaded = false;
    r->timer_fired = false;
    r->rnr_wait = true;
    r->deadline = dbnic_now(c) + dbnic_ib_rnr_timer_ns(x);
    dbnic_timer_arm(c, r->deadline);
}

void dbnic_roce_timer(struct dbnic_core *c, uint64_t now)
{
    uint64_t next = 0;
    uint32_t i;

    for (i = 0; c->qp && i < c->cfg.max_qp; i++) {
        struct dbnic_qp *qp = &c->qp[i];
        struct dbnic_roce_req *r = &qp->req;

        if (!qp->in_use || !r->deadline) {
            continue;
        }
        if (r->deadline <= now) {
            /* Acted on in the engine's next pass over the QP. */
            r->deadline = 0;
            r->timer_fired = true;
            dbnic_sq_wake(c, qp->sqid);
            dbnic_ask_run(c);
        } else if (!next || r->deadline < next) {
            next = r->deadline;
        }
    }
    if (next) {
        dbnic_timer_arm(c, next);
    }
}

/* ------------------------------------------------------------------ */
/* Requester: sending a WQE                                            */
/* ------------------------------------------------------------------ */

/* May the job's WQE take its PSNs now (11.4, 11.8)? */
static bool req_may_start(const struct dbnic_qp *qp, const struct dbnic_job *j)
{
    const struct dbnic_roce_req *r = &qp->req;
    unsigned int max_rd = qp->max_rd_atomic ? qp->max_rd_atomic : 1;

    if (qp->type != DBNIC_QPT_RC) {
        return true;
    }
    if (r->if_len >= DBNIC_QP_MAX_INFLIGHT) {
        return false;
    }
    if ((j->d.hdr.flags & DBNIC_DESC_F_FENCE) && r->rd_len) {
        return false;
    }
    return j->d.hdr.opcode != DBNIC_OP_RDMA_READ || r->rd_len < max_rd;
}

bool dbnic_roce_req_waiting(struct dbnic_core *c, const struct dbnic_sq *sq)
{
    const struct dbnic_qp *qp = dbnic_qp_of_sq(c, sq);

    if (!qp || !sq->job.active) {
        return false;
    }
    if (sq->job.eth_wait && c->eth_tx_blocked) {
        return true;
    }
    /* Packets sent again, or an RNR wait, go first (11.10). */
    if (qp->req.retx || qp->req.rnr_wait || qp->req.timer_fired) {
        return true;
    }
    return qp->req.wait && !req_may_start(qp, &sq->job);
}

static void req_start(struct dbnic_core *c, struct dbnic_qp *qp,
                      struct dbnic_sq *sq)
{
    struct dbnic_roce_req *r = &qp->req;
    const struct dbnic_job *j = &sq->job;
    uint32_t mtu = qp_mtu(qp);

    memset(&r->cur, 0, sizeof(r->cur));
    r->cur.msg_psn = r->psn;
    if (j->d.hdr.opcode == DBNIC_OP_RDMA_READ) {
        /* One request; its responses take the PSNs (11.8). */
        r->cur.npkts = 1;
        r->psn = dbnic_psn_add(r->psn, msg_pkts(j->total, mtu));
    } else {
        r->cur.npkts = msg_pkts(j->total, mtu);
        r->psn = dbnic_psn_add(r->psn, r->cur.npkts);
    }
    r->started = true;
}

/* The WQE's packets are all out: UD completes, RC waits for its ACK. */
static void req_sent(struct dbnic_core *c, struct dbnic_qp *qp,
                     struct dbnic_sq *sq, uint32_t qid)
{
    struct dbnic_roce_req *r = &qp->req;
    struct dbnic_job *j = &sq->job;
    uint8_t op = j->d.hdr.opcode;

    r->started = false;
    j->active = false;
    sq->free_at = j->wait_until;
    if (qp->type != DBNIC_QPT_RC) {
        if (j->d.hdr.flags & DBNIC_DESC_F_COMPLETION) {
            dbnic_qp_send_cqe(c, sq, qid, j->index, DBNIC_WC_SUCCESS,
                              DBNIC_ST_OK, (uint32_t)j->total, j->prio, op);
        }
        return;
    }
    if (op == DBNIC_OP_RDMA_READ) {
        struct dbnic_roce_read *rd =
            &r->rd[(r->rd_head + r->rd_len) % DBNIC_QP_MAX_RD_ATOMIC];
        unsigned int n = DBNIC_GET(j->d.hdr.nsge, DBNIC_NSGE_DST);

        memset(rd, 0, sizeof(*rd));
        rd->first_psn = rd->resp_first = r->cur.msg_psn;
        rd->len = (uint32_t)j->total;
        rd->nsge = (uint8_t)n;
        memcpy(rd->sge, &j->d.sge[1], n * sizeof(rd->sge[0]));
        r->rd_len++;
    }
    r->inflight[(r->if_head + r->if_len) % DBNIC_QP_MAX_INFLIGHT] =
        (struct dbnic_roce_inflight){
            .index = j->index,
            .opcode = op,
            .flags = j->d.hdr.flags,
            .prio = j->prio,
            .first_psn = r->cur.msg_psn,
            .last_psn = dbnic_psn_add(r->psn, DBNIC_ROCE_PSN_MASK),
            .len = (uint32_t)j->total,
        };
    r->if_len++;
}

/* The job fails while it is being sent: its CQE, and the QP to ERR. */
static void req_fail(struct dbnic_core *c, struct dbnic_qp *qp,
                     struct dbnic_sq *sq, uint32_t qid, uint8_t wc_status,
                     uint8_t vendor)
{
    struct dbnic_job *j = &sq->job;

    qp->req.started = false;
    j->active = false;
    sq->free_at = j->wait_until;
    dbnic_qp_send_cqe(c, sq, qid, j->index, wc_status, vendor, 0, j->prio,
                      j->d.hdr.opcode);
    dbnic_qp_fatal(c, qp, wc_status);
}

static uint8_t ib_opcode(uint8_t op, bool first, bool last, bool ud)
{
    bool imm = op == DBNIC_OP_SEND_IMM || op == DBNIC_OP_RDMA_WRITE_IMM;

    if (ud) {
        return imm ? DBNIC_ROCE_UD_SEND_ONLY_IMM : DBNIC_ROCE_UD_SEND_ONLY;
    }
    if (op == DBNIC_OP_RDMA_READ) {
        return DBNIC_ROCE_RC_READ_REQ;
    }
    if (op == DBNIC_OP_SEND || op == DBNIC_OP_SEND_IMM) {
        if (first && last) {
            return imm ? DBNIC_ROCE_RC_SEND_ONLY_IMM : DBNIC_ROCE_RC_SEND_ONLY;
        }
        if (first) {
            return DBNIC_ROCE_RC_SEND_FIRST;
        }
        if (last) {
            return imm ? DBNIC_ROCE_RC_SEND_LAST_IMM : DBNIC_ROCE_RC_SEND_LAST;
        }
        return DBNIC_ROCE_RC_SEND_MIDDLE;
    }
    if (first && last) {
        return imm ? DBNIC_ROCE_RC_WRITE_ONLY_IMM : DBNIC_ROCE_RC_WRITE_ONLY;
    }
    if (first) {
        return DBNIC_ROCE_RC_WRITE_FIRST;
    }
    if (last) {
        return imm ? DBNIC_ROCE_RC_WRITE_LAST_IMM : DBNIC_ROCE_RC_WRITE_LAST;
    }
    return DBNIC_ROCE_RC_WRITE_MIDDLE;
}

/* The outcome of a packet that could not be built. */
struct req_fault {
    uint8_t wc;     /* enum dbnic_wc_status */
    uint8_t vendor; /* enum dbnic_status */
};

/*
 * Build and send packet cur->sent_pkts of WQE d (total payload bytes):
 * the job's, or one sent again (11.10).  Returns 1 when it left (or was
 * dropped by the port), 0 when the port is busy (nothing changes), -1
 * when the WQE cannot be sent (*f says why; nothing left).  *moved:
 * payload bytes gathered.
 */
static int req_packet(struct dbnic_core *c, struct dbnic_qp *qp,
                      struct dbnic_sq *sq, const struct dbnic_desc *d,
                      uint64_t total, struct dbnic_roce_cur *cur,
                      uint32_t *moved, struct req_fault *f)
{
    struct dbnic_roce_req *r = &qp->req;
    const struct dbnic_rdma_seg *seg = dbnic_rdma_seg_of_const(d);
    uint8_t op = d->hdr.opcode;
    bool ud = qp->type != DBNIC_QPT_RC;
    uint32_t mtu = qp_mtu(qp), k = cur->sent_pkts;
    bool first = k == 0, last = k + 1 == cur->npkts;
    uint32_t plen = 0, crc, inl = dbnic_le16(seg->inline_len);
    struct dbnic_roce_hdr h;
    struct dbnic_roce_addr a;
    const struct dbnic_av *av = &qp->av;
    uint8_t *buf = c->eth_buf;
    uint8_t sge_i = cur->sge_i;
    uint32_t sge_off = cur->sge_off;
    bool again = k < cur->hi;
    size_t hl;

    if (op != DBNIC_OP_RDMA_READ) {
        uint64_t left = total - cur->off;

        plen = left < mtu ? (uint32_t)left : mtu;
    }
    if (ud) {
        const struct dbnic_ah *ah =
            dbnic_ah_get(c, dbnic_le32(seg->ah), qp->ctx, qp->pd);

        if (!ah) { /* destroyed since the check */
            *f = (struct req_fault){ DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS };
            return -1;
        }
        av = &ah->av;
    }
    memset(&h, 0, sizeof(h));
    h.opcode = ib_opcode(op, first, last, ud);
    h.pkey = DBNIC_ROCE_PKEY_DEFAULT;
    h.psn = dbnic_psn_add(cur->msg_psn, k);
    if (ud) {
        uint32_t qkey = dbnic_le32(seg->remote_qkey);

        h.dqpn = dbnic_le32(seg->remote_qpn) & DBNIC_ROCE_QPN_MASK;
        /* IBTA 10.2.5: a Q_Key with bit 31 set means the QP's own. */
        if (qp->type == DBNIC_QPT_GSI) {
            qkey = DBNIC_GSI_QKEY;
        } else if (qkey & DBNIC_QKEY_PRIVILEGED) {
            qkey = qp->qkey;
        }
        h.deth.qkey = qkey;
        h.deth.src_qpn = dbnic_qp_num(c, qp);
    } else {
        h.dqpn = qp->dest_qpn & DBNIC_ROCE_QPN_MASK;
        r->since_ackreq++;
        h.ackreq = last || r->since_ackreq >= DBNIC_ROCE_ACKREQ_EVERY;
    }
    if (last && (d->hdr.flags & DBNIC_WQE_F_SOLICITED) &&
        op != DBNIC_OP_RDMA_WRITE && op != DBNIC_OP_RDMA_READ) {
        h.se = 1;
    }
    if (first && (op == DBNIC_OP_RDMA_WRITE || op == DBNIC_OP_RDMA_WRITE_IMM ||
                  op == DBNIC_OP_RDMA_READ)) {
        /* A READ sent again asks for the rest only (11.10). */
        h.reth.va = dbnic_le64(seg->raddr) + cur->read_off;
        h.reth.rkey = dbnic_le32(seg->rkey);
        h.reth.dma_len = (uint32_t)total - cur->read_off;
    }
    /* ImmDt as it came in the WQE, bytes 12-15 in wire order. */
    h.imm = dbnic_roce_get_be32((const uint8_t *)&d->hdr.imm);

    if (!pkt_addr(c, av, qp_sport(c, qp), r->ip_id, &a)) {
        hl = 0;
    } else {
        hl = dbnic_roce_build(buf, DBNIC_ETH_MAX_TSO, &a, &h, plen, &crc);
    }
    if (!hl) {
        /* The source GID went away: the packet cannot be framed. */
        dbnic_count(c, DBNIC_CNT_ROCE_TX_DROP);
        goto sent;
    }
    if (plen && inl) {
        crc = dbnic_roce_icrc_copy(crc, buf + hl,
                                   (const uint8_t *)d +
                                       DBNIC_RDMA_DATA_OFFSET + cur->off,
                                   plen);
    } else if (plen) {
        unsigned int nsrc = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC);
        uint32_t at = 0;

        while (at < plen && sge_i < nsrc) {
            const struct dbnic_sge *sge = &d->sge[1 + sge_i];
            uint32_t room = dbnic_le32(sge->len) - sge_off;
            uint32_t n = plen - at < room ? plen - at : room;
            uint8_t st = gather(c, sq->ctx, sge, sge_off, buf + hl + at, n,
                                &crc);

            if (st != DBNIC_ST_OK) {
                *f = (struct req_fault){ DBNIC_WC_LOC_PROT_ERR, st };
                return -1;
            }
            at += n;
            sge_off += n;
            if (sge_off == dbnic_le32(sge->len)) {
                sge_i++;
                sge_off = 0;
            }
        }
    }
    hl += plen;
    hl += dbnic_roce_icrc_finish(buf + hl, crc, dbnic_roce_pad(plen));
    if (!dbnic_roce_xmit(c, buf, hl)) {
        if (!ud) {
            r->since_ackreq--; /* the same packet comes again */
        }
        return 0;
    }
    dbnic_tr(c, DBNIC_TR_ROCE_TX, dbnic_qp_num(c, qp), h.opcode,
             h.psn | (uint64_t)hl << 32);
sent:
    if (h.ackreq) {
        r->since_ackreq = 0;
    }
    if (again) {
        dbnic_count(c, DBNIC_CNT_ROCE_RETX_PKTS);
    }
    r->ip_id++;
    cur->sent_pkts++;
    if (cur->sent_pkts > cur->hi) {
        cur->hi = cur->sent_pkts;
    }
    cur->off += plen;
    cur->sge_i = sge_i;
    cur->sge_off = sge_off;
    if (!inl) {
        *moved += plen;
    }
    c->counters[DBNIC_CNT_BYTES] += plen;
    /* The first packet outstanding starts the transport timer (11.10). */
    if (!ud && !r->deadline) {
        req_timer_restart(c, qp);
    }
    return 1;
}

uint32_t dbnic_roce_req_step(struct dbnic_core *c, struct dbnic_sq *sq,
                             uint32_t qid)
{
    struct dbnic_qp *qp = dbnic_qp_of_sq(c, sq);
    struct dbnic_roce_req *r = &qp->req;
    struct dbnic_job *j = &sq->job;
    uint32_t moved = 0;

    if (r->retx || r->rnr_wait || r->timer_fired) {
        return 0; /* what was sent before goes first (11.10) */
    }
    if (!r->started) {
        if (!req_may_start(qp, j)) {
            r->wait = true; /* an ACK or a READ response wakes it */
            return 0;
        }
        r->wait = false;
        req_start(c, qp, sq);
        if (j->prio && dbnic_le16(dbnic_rdma_seg_of(&j->d)->inline_len)) {
            dbnic_count(c, DBNIC_CNT_ROCE_TX_INLINE);
        }
    }
    j->eth_wait = false;
    while (r->cur.sent_pkts < r->cur.npkts && moved < DBNIC_CHUNK_BYTES) {
        struct req_fault f;
        int st = req_packet(c, qp, sq, &j->d, j->total, &r->cur, &moved, &f);

        if (st < 0) {
            req_fail(c, qp, sq, qid, f.wc, f.vendor);
            return moved;
        }
        if (st == 0) {
            j->eth_wait = true; /* dbnic_core_eth_tx_resume() */
            return moved;
        }
    }
    if (r->cur.sent_pkts == r->cur.npkts) {
        req_sent(c, qp, sq, qid);
    }
    return moved;
}

/* ------------------------------------------------------------------ */
/* Requester: go-back-N (11.10)                                        */
/* ------------------------------------------------------------------ */

/* The READ state of inflight entry k (a READ): READs keep their order. */
static struct dbnic_roce_read *retx_read_of(struct dbnic_roce_req *r,
                                            unsigned int k)
{
    unsigned int i, n = 0;

    for (i = 0; i < k; i++) {
        if (r->inflight[(r->if_head + i) % DBNIC_QP_MAX_INFLIGHT].opcode ==
            DBNIC_OP_RDMA_READ) {
            n++;
        }
    }
    if (n >= r->rd_len) {
        return NULL;
    }
    return &r->rd[(r->rd_head + n) % DBNIC_QP_MAX_RD_ATOMIC];
}

/*
 * Read the WQE of the entry being sent again from its ring slot, check it
 * is the one sent, and set the cursor to its first packet to send.  false:
 * it is not (the oldest WQE failed, the QP is in ERR).
 */
static bool retx_load(struct dbnic_core *c, struct dbnic_qp *qp,
                      struct dbnic_sq *sq)
{
    struct dbnic_roce_req *r = &qp->req;
    const struct dbnic_roce_inflight *e =
        &r->inflight[(r->if_head + r->retx_k) % DBNIC_QP_MAX_INFLIGHT];
    struct dbnic_desc *d = &r->retx_d;
    struct dbnic_roce_cur *cur = &r->retx_cur;
    uint64_t addr = sq->base + ((uint64_t)dbnic_ring_slot(e->index,
                                                          sq->log_size)
                                << sq->log_stride);
    uint32_t mtu = qp_mtu(qp);
    uint8_t wc = DBNIC_WC_LOC_QP_OP_ERR, vendor;
    uint64_t total = 0;

    memset(d, 0, sizeof(*d));
    if (c->ops->dma_read(c->opaque, addr, &d->hdr, sizeof(d->hdr)) ||
        d->hdr.size < 1 || d->hdr.size > DBNIC_DESC_MAX_BLOCKS ||
        d->hdr.size * DBNIC_DESC_BLOCK_SIZE > (1u << sq->log_stride) ||
        c->ops->dma_read(c->opaque, addr, d,
                         d->hdr.size * DBNIC_DESC_BLOCK_SIZE)) {
        vendor = DBNIC_ST_DMA_ERROR;
        goto fail;
    }
    vendor = DBNIC_ST_BAD_DESC;
    if (dbnic_le16(d->hdr.index) != e->index ||
        dbnic_le16(d->hdr.qid) != qp->sqid || d->hdr.opcode != e->opcode) {
        goto fail;
    }
    vendor = dbnic_qp_wqe_check_desc(c, sq, d, &total, &wc);
    if (vendor != DBNIC_ST_OK) {
        goto fail;
    }
    if (total != e->len) {
        wc = DBNIC_WC_LOC_QP_OP_ERR;
        vendor = DBNIC_ST_BAD_DESC;
        goto fail;
    }
    memset(cur, 0, sizeof(*cur));
    r->retx_total = total;
    if (e->opcode == DBNIC_OP_RDMA_READ) {
        struct dbnic_roce_read *rd = retx_read_of(r, r->retx_k);

        if (!rd) {
            vendor = DBNIC_ST_BAD_DESC;
            goto fail;
        }
        /* The rest of the READ, from its first response missing. */
        cur->read_off = rd->done;
        cur->msg_psn = rd->resp_first =
            dbnic_psn_add(rd->first_psn, rd->done / mtu);
        cur->npkts = cur->hi = 1;
    } else {
        uint32_t p = 0;

        cur->msg_psn = e->first_psn;
        cur->npkts = cur->hi = msg_pkts(total, mtu);
        if (!r->retx_k && dbnic_psn_cmp(r->retx_from, e->first_psn) > 0) {
            p = (r->retx_from - e->first_psn) & DBNIC_ROCE_PSN_MASK;
        }
        cur_seek(qp, d, cur, p < cur->npkts ? p : cur->npkts - 1);
    }
    r->retx_loaded = true;
    return true;
fail:
    dbnic_roce_req_fail_oldest(c, qp, wc, vendor);
    return false;
}

uint32_t dbnic_roce_retx_step(struct dbnic_core *c, struct dbnic_qp *qp,
                              bool *progress)
{
    struct dbnic_roce_req *r = &qp->req;
    struct dbnic_sq *sq = qp_sq(c, qp);
    uint32_t moved = 0;

    if (qp->type != DBNIC_QPT_RC) {
        return 0;
    }
    if (r->timer_fired) {
        r->timer_fired = false;
        *progress = true;
        if (qp->state != DBNIC_QPS_RTS) {
            r->rnr_wait = false;
        } else if (r->rnr_wait) {
            r->rnr_wait = false;
            retx_begin(c, qp);
            req_timer_restart(c, qp);
        } else if (req_outstanding(qp)) {
            dbnic_roce_retry(c, qp, DBNIC_CNT_ROCE_RETRY_TIMEOUT);
        }
    }
    if (!r->retx || qp->state != DBNIC_QPS_RTS || c->eth_tx_blocked) {
        return 0;
    }
    while (moved < DBNIC_CHUNK_BYTES) {
        struct req_fault f;
        int st;

        if (r->retx_k >= r->if_len) {
            /* All sent again: the job goes on (11.10). */
            r->retx = false;
            r->retx_loaded = false;
            break;
        }
        if (!r->retx_loaded && !retx_load(c, qp, sq)) {
            return moved;
        }
        if (r->retx_cur.sent_pkts >= r->retx_cur.npkts) {
            r->retx_k++;
            r->retx_loaded = false;
            continue;
        }
        st = req_packet(c, qp, sq, &r->retx_d, r->retx_total, &r->retx_cur,
                        &moved, &f);
        if (st == 0) {
            return moved; /* dbnic_core_eth_tx_resume() */
        }
        if (st < 0) {
            dbnic_roce_req_fail_oldest(c, qp, f.wc, f.vendor);
            return moved;
        }
        *progress = true;
    }
    return moved;
}

/* ------------------------------------------------------------------ */
/* Responder output                                                    */
/* ------------------------------------------------------------------ */

static bool resp_reads_busy(const struct dbnic_qp *qp)
{
    unsigned int i;

    for (i = 0; i < DBNIC_QP_MAX_RD_ATOMIC; i++) {
        if (qp->resp.rr[i].active) {
            return true;
        }
    }
    return false;
}

bool dbnic_roce_resp_busy(const struct dbnic_qp *qp)
{
    return qp->resp.ack_owed || resp_reads_busy(qp) || qp->req.retx ||
           qp->req.timer_fired;
}

/* Send an ACK-class packet (ACK, NAK, RNR NAK).  false: the port is busy. */
static bool send_ack(struct dbnic_core *c, struct dbnic_qp *qp, uint8_t syn,
                     uint32_t psn, uint32_t msn)
{
    struct dbnic_roce_hdr h;
    struct dbnic_roce_addr a;
    uint8_t *buf = c->eth_buf;
    uint32_t crc;
    size_t hl = 0;

    memset(&h, 0, sizeof(h));
    h.opcode = DBNIC_ROCE_RC_ACK;
    h.pkey = DBNIC_ROCE_PKEY_DEFAULT;
    h.dqpn = qp->dest_qpn & DBNIC_ROCE_QPN_MASK;
    h.psn = psn;
    h.aeth.syndrome = syn;
    h.aeth.msn = msn & DBNIC_ROCE_PSN_MASK;
    if (pkt_addr(c, &qp->av, qp_sport(c, qp), qp->req.ip_id, &a)) {
        hl = dbnic_roce_build(buf, DBNIC_ETH_MAX_TSO, &a, &h, 0, &crc);
    }
    if (!hl) {
        dbnic_count(c, DBNIC_CNT_ROCE_TX_DROP);
        return true;
    }
    hl += dbnic_roce_icrc_finish(buf + hl, crc, 0);
    if (!dbnic_roce_xmit(c, buf, hl)) {
        return false;
    }
    dbnic_tr(c, DBNIC_TR_ROCE_TX, dbnic_qp_num(c, qp), h.opcode,
             h.psn | (uint64_t)hl << 32);
    qp->req.ip_id++;
    switch (syn & DBNIC_AETH_TYPE_MASK) {
    case DBNIC_AETH_TYPE_ACK:
        dbnic_count(c, DBNIC_CNT_ROCE_ACK_TX);
        break;
    case DBNIC_AETH_TYPE_RNR:
        dbnic_count(c, DBNIC_CNT_ROCE_RNR_NAK_TX);
        break;
    default:
        dbnic_count(c, DBNIC_CNT_ROCE_NAK_TX);
        break;
    }
    return true;
}

void dbnic_roce_resp_drain(struct dbnic_core *c, struct dbnic_qp *qp)
{
    struct dbnic_roce_resp *s = &qp->resp;

    if (qp->type != DBNIC_QPT_RC ||
        (qp->state != DBNIC_QPS_RTR && qp->state != DBNIC_QPS_RTS) ||
        !s->ack_owed) {
        return;
    }
    /*
     * Its RECV CQE may already be visible, and the requester would wait
     * for this ACK for ever; whatever the port does not take now is
     * dropped with the QP, as before.
     */
    if (send_ack(c, qp, s->ack_syn, s->ack_psn, s->ack_msn)) {
        s->ack_owed = false;
        s->nak_owed = false;
    }
}

/*
 * One READ response packet of resource rr.  1: sent, 0: the port is
 * busy, -1: the range is no longer readable (NAK owed, QP to ERR).
 */
static int read_resp_packet(struct dbnic_core *c, struct dbnic_qp *qp,
                            struct dbnic_roce_rres *rr, uint32_t *moved)
{
    struct dbnic_roce_resp *s = &qp->resp;
    uint32_t mtu = qp_mtu(qp), k = rr->next, plen, crc;
    uint64_t off = (uint64_t)k * mtu;
    bool first = k == 0, last = k + 1 == rr->npkts;
    struct dbnic_roce_hdr h;
    struct dbnic_roce_addr a;
    uint8_t *buf = c->eth_buf;
    size_t hl = 0;

    plen = rr->len - off < mtu ? (uint32_t)(rr->len - off) : mtu;
    if (plen && !dbnic_rkey_check(c, qp, rr->rkey, rr->va + off, plen,
                                  DBNIC_MR_REMOTE_READ)) {
        /* Deregistered while the READ was being answered. */
        dbnic_count(c, DBNIC_CNT_ROCE_RX_RKEY);
        rr->active = false;
        s->ack_owed = s->nak_owed = true;
        s->ack_syn = DBNIC_AETH_NAK_REM_ACCESS;
        s->ack_psn = dbnic_psn_add(rr->first_psn, k);
        s->ack_msn = s->msn;
        dbnic_qp_fatal(c, qp, DBNIC_WC_LOC_ACCESS_ERR);
        return -1;
    }
    memset(&h, 0, sizeof(h));
    h.opcode = first && last ? DBNIC_ROCE_RC_READ_RESP_ONLY
               : first       ? DBNIC_ROCE_RC_READ_RESP_FIRST
               : last        ? DBNIC_ROCE_RC_READ_RESP_LAST
                             : DBNIC_ROCE_RC_READ_RESP_MIDDLE;
    h.pkey = DBNIC_ROCE_PKEY_DEFAULT;
    h.dqpn = qp->dest_qpn & DBNIC_ROCE_QPN_MASK;
    h.psn = dbnic_psn_add(rr->first_psn, k);
    h.aeth.syndrome = DBNIC_AETH_ACK_NO_CREDIT;
    h.aeth.msn = s->msn;
    if (pkt_addr(c, &qp->av, qp_sport(c, qp), qp->req.ip_id, &a)) {
        hl = dbnic_roce_build(buf, DBNIC_ETH_MAX_TSO, &a, &h, plen, &crc);
    }
    if (!hl) {
        dbnic_count(c, DBNIC_CNT_ROCE_TX_DROP);
        goto sent;
    }
    if (plen) {
        struct dbnic_sge sge = {
            .addr = dbnic_le64(rr->va + off),
            .len = dbnic_le32(plen),
            .key = dbnic_le32(rr->rkey),
        };
        uint8_t st = gather(c, qp->ctx, &sge, 0, buf + hl, plen, &crc);

        if (st != DBNIC_ST_OK) {
            rr->active = false;
            s->ack_owed = s->nak_owed = true;
            s->ack_syn = DBNIC_AETH_NAK_REM_OP;
            s->ack_psn = h.psn;
            s->ack_msn = s->msn;
            dbnic_qp_fatal(c, qp, DBNIC_WC_LOC_ACCESS_ERR);
            return -1;
        }
    }
    hl += plen;
    hl += dbnic_roce_icrc_finish(buf + hl, crc, dbnic_roce_pad(plen));
    if (!dbnic_roce_xmit(c, buf, hl)) {
        return 0;
    }
    dbnic_tr(c, DBNIC_TR_ROCE_TX, dbnic_qp_num(c, qp), h.opcode,
             h.psn | (uint64_t)hl << 32);
    dbnic_count(c, DBNIC_CNT_ROCE_READ_RESP_TX);
sent:
    qp->req.ip_id++;
    rr->next++;
    if (rr->next == rr->npkts) {
        rr->active = false;
    }
    *moved += plen;
    c->counters[DBNIC_CNT_BYTES] += plen;
    return 1;
}

uint32_t dbnic_roce_resp_step(struct dbnic_core *c, struct dbnic_qp *qp,
                              bool *progress)
{
    struct dbnic_roce_resp *s = &qp->resp;
    unsigned int nres = qp->max_dest_rd_atomic ? qp->max_dest_rd_atomic : 1;
    uint32_t moved = 0;
    unsigned int k;

    if (nres > DBNIC_QP_MAX_RD_ATOMIC) {
        nres = DBNIC_QP_MAX_RD_ATOMIC;
    }
    if (c->eth_tx_blocked) {
        return 0; /* dbnic_core_eth_tx_resume() brings the engine back */
    }
    /*
     * READ responses first, oldest READ first (from the slot after the
     * newest).
     */
    if (qp->state == DBNIC_QPS_RTR || qp->state == DBNIC_QPS_RTS) {
        for (k = 0; k < nres && moved < DBNIC_CHUNK_BYTES; k++) {
            struct dbnic_roce_rres *rr = &s->rr[(s->rr_next + k) % nres];

            while (rr->active && moved < DBNIC_CHUNK_BYTES) {
                int st = read_resp_packet(c, qp, rr, &moved);

                if (st == 0) {
                    return moved;
                }
                *progress = true;
                if (st < 0) {
                    break;
                }
            }
            if (rr->active) {
                return moved; /* a chunk: the rest at the next pass */
            }
        }
    }
    if (qp->state != DBNIC_QPS_RTR && qp->state != DBNIC_QPS_RTS) {
        /* In ERR only the NAK that moved it there still goes out. */
        for (k = 0; k < DBNIC_QP_MAX_RD_ATOMIC; k++) {
            s->rr[k].active = false;
        }
        if (!s->nak_owed) {
            s->ack_owed = false;
        }
    }
    /*
     * The ACK or NAK waits for every READ response before it, so that the
     * requester sees its answers in PSN order (in ERR none are left).
     */
    if (s->ack_owed && !resp_reads_busy(qp)) {
        if (!send_ack(c, qp, s->ack_syn, s->ack_psn, s->ack_msn)) {
            return moved;
        }
        s->ack_owed = false;
        s->nak_owed = false;
        *progress = true;
    }
    return moved;
}
