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
    qp->req.psn = qp->sq_psn & DBNIC_ROCE_PSN_MASK;
    qp->resp.epsn = qp->rq_psn & DBNIC_ROCE_PSN_MASK;
}

void dbnic_roce_qp_modified(struct dbnic_qp *qp, uint8_t state,
                            uint32_t attr_mask)
{
    if (state == DBNIC_QPS_RESET) {
        dbnic_roce_qp_reset(qp);
    }
    if (attr_mask & DBNIC_QP_ATTR_SQ_PSN) {
        qp->req.psn = qp->sq_psn & DBNIC_ROCE_PSN_MASK;
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

void dbnic_roce_inflight_done(struct dbnic_core *c, struct dbnic_qp *qp,
                              uint8_t wc_status)
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
    if (wc_status != DBNIC_WC_SUCCESS ||
        (e.flags & DBNIC_DESC_F_COMPLETION)) {
        dbnic_qp_send_cqe(c, qp_sq(c, qp), qp->sqid, e.index, wc_status,
                          DBNIC_ST_OK, e.len, e.prio, e.opcode);
    }
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

void dbnic_roce_req_flush(struct dbnic_core *c, struct dbnic_qp *qp)
{
    struct dbnic_roce_req *r = &qp->req;

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
    return qp->req.wait && !req_may_start(qp, &sq->job);
}

static void req_start(struct dbnic_core *c, struct dbnic_qp *qp,
                      struct dbnic_sq *sq)
{
    struct dbnic_roce_req *r = &qp->req;
    const struct dbnic_job *j = &sq->job;
    uint32_t mtu = qp_mtu(qp);

    r->msg_psn = r->psn;
    if (j->d.hdr.opcode == DBNIC_OP_RDMA_READ) {
        /* One request; its responses take the PSNs (11.8). */
        r->npkts = 1;
        r->psn = dbnic_psn_add(r->psn, msg_pkts(j->total, mtu));
    } else {
        r->npkts = msg_pkts(j->total, mtu);
        r->psn = dbnic_psn_add(r->psn, r->npkts);
    }
    r->sent_pkts = 0;
    r->off = 0;
    r->sge_i = 0;
    r->sge_off = 0;
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
        rd->first_psn = r->msg_psn;
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

/*
 * Build and send the job's next packet.  Returns 1 when it left (or was
 * dropped by the port), 0 when the port is busy (nothing changes), -1
 * when the WQE failed (its CQE is written).  *moved: payload bytes.
 */
static int req_packet(struct dbnic_core *c, struct dbnic_qp *qp,
                      struct dbnic_sq *sq, uint32_t qid, uint32_t *moved)
{
    struct dbnic_roce_req *r = &qp->req;
    struct dbnic_job *j = &sq->job;
    struct dbnic_desc *d = &j->d;
    const struct dbnic_rdma_seg *seg = dbnic_rdma_seg_of(d);
    uint8_t op = d->hdr.opcode;
    bool ud = qp->type != DBNIC_QPT_RC;
    uint32_t mtu = qp_mtu(qp), k = r->sent_pkts;
    bool first = k == 0, last = k + 1 == r->npkts;
    uint32_t plen = 0, crc, inl = dbnic_le16(seg->inline_len);
    struct dbnic_roce_hdr h;
    struct dbnic_roce_addr a;
    const struct dbnic_av *av = &qp->av;
    uint8_t *buf = c->eth_buf;
    uint8_t sge_i = r->sge_i;
    uint32_t sge_off = r->sge_off;
    size_t hl;

    if (op != DBNIC_OP_RDMA_READ) {
        uint64_t left = j->total - r->off;

        plen = left < mtu ? (uint32_t)left : mtu;
    }
    if (ud) {
        const struct dbnic_ah *ah =
            dbnic_ah_get(c, dbnic_le32(seg->ah), qp->ctx, qp->pd);

        if (!ah) { /* destroyed since the check */
            req_fail(c, qp, sq, qid, DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_ACCESS);
            return -1;
        }
        av = &ah->av;
    }
    memset(&h, 0, sizeof(h));
    h.opcode = ib_opcode(op, first, last, ud);
    h.pkey = DBNIC_ROCE_PKEY_DEFAULT;
    h.psn = dbnic_psn_add(r->msg_psn, k);
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
        h.reth.va = dbnic_le64(seg->raddr);
        h.reth.rkey = dbnic_le32(seg->rkey);
        h.reth.dma_len = (uint32_t)j->total;
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
                                       DBNIC_RDMA_DATA_OFFSET + r->off,
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
                req_fail(c, qp, sq, qid, DBNIC_WC_LOC_PROT_ERR, st);
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
    r->ip_id++;
    r->sent_pkts++;
    r->off += plen;
    r->sge_i = sge_i;
    r->sge_off = sge_off;
    if (!inl) {
        *moved += plen;
    }
    c->counters[DBNIC_CNT_BYTES] += plen;
    return 1;
}

uint32_t dbnic_roce_req_step(struct dbnic_core *c, struct dbnic_sq *sq,
                             uint32_t qid)
{
    struct dbnic_qp *qp = dbnic_qp_of_sq(c, sq);
    struct dbnic_roce_req *r = &qp->req;
    struct dbnic_job *j = &sq->job;
    uint32_t moved = 0;

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
    while (r->sent_pkts < r->npkts && moved < DBNIC_CHUNK_BYTES) {
        int st = req_packet(c, qp, sq, qid, &moved);

        if (st < 0) {
            return moved;
        }
        if (st == 0) {
            j->eth_wait = true; /* dbnic_core_eth_tx_resume() */
            return moved;
        }
    }
    if (r->sent_pkts == r->npkts) {
        req_sent(c, qp, sq, qid);
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
    return qp->resp.ack_owed || resp_reads_busy(qp);
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
    /*
     * The READ's own MSN, not the newest: requests taken after it have
     * counted since (IBTA C9-148; rxe answers each READ before it takes
     * the next, docs/roce-wire.md).
     */
    h.aeth.msn = s->rr_msn[rr - s->rr];
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
