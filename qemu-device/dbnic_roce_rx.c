/*
 * dbnic device core: the RoCE v2 transport, receiving side (datasheet
 * 11.5, 11.8): the demux at the top of the port's receive path, the
 * checks of 11.8 in their order (each drop counted in exactly one
 * counter), the responder (PSNs, duplicates, SEND into the QP's RECVs,
 * WRITE by rkey, READ requests into resources, UD with its GRH) and the
 * requester's side of the answers (ACK, NAK, READ responses).
 *
 * Everything here comes from the network.  Nothing is written before
 * every check of its packet has passed, and every write goes through a
 * registration of the receiving QP's context and pd with the access it
 * needs (dbnic_rkey_check(), dbnic_sge_check_pd()).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "dbnic_core_priv.h"
#include "dbnic_roce.h"

static uint32_t qp_mtu(const struct dbnic_qp *qp)
{
    if (qp->type != DBNIC_QPT_RC) {
        return 4096;
    }
    return dbnic_ib_mtu_bytes(qp->path_mtu) ?: 256;
}

static void qp_wake(struct dbnic_core *c, struct dbnic_qp *qp)
{
    dbnic_sq_wake(c, qp->sqid);
    dbnic_ask_run(c);
}

/* A packet counted in one of the receive drop counters (11.9). */
static void rx_drop(struct dbnic_core *c, enum dbnic_counter why,
                    const struct dbnic_roce_pkt *pkt)
{
    dbnic_count(c, why);
    dbnic_tr(c, DBNIC_TR_ROCE_DROP, why, pkt ? pkt->hdr.dqpn : 0,
             pkt ? pkt->hdr.psn : 0);
}

/* ------------------------------------------------------------------ */
/* Receive completions and RECVs                                       */
/* ------------------------------------------------------------------ */

static void recv_cqe(struct dbnic_core *c, struct dbnic_qp *qp,
                     uint16_t index, uint8_t status, uint8_t vendor,
                     uint32_t len, uint8_t opcode, uint8_t wc_flags,
                     uint32_t imm, uint32_t src_qp)
{
    struct dbnic_rdma_cqe cqe;

    memset(&cqe, 0, sizeof(cqe));
    cqe.byte_len = dbnic_le32(len);
    cqe.index = dbnic_le16(index);
    cqe.qid = dbnic_le16((uint16_t)qp->sqid);
    cqe.qpn = dbnic_le32(dbnic_qp_num(c, qp));
    if (wc_flags & DBNIC_WC_F_WITH_IMM) {
        dbnic_roce_put_be32((uint8_t *)&cqe.imm, imm);
    }
    cqe.src_qp = dbnic_le32(src_qp);
    cqe.head = dbnic_le16(qp->rq_ci);
    cqe.opcode = opcode;
    cqe.wc_flags = wc_flags;
    cqe.vendor_err = vendor;
    cqe.status = status;
    cqe.cq_flags = DBNIC_RCQE_F_RECV;
    if (status != DBNIC_WC_SUCCESS) {
        dbnic_count(c, DBNIC_CNT_DESC_ERROR);
    }
    dbnic_cq_post_rdma(c, qp->rcqn, &cqe);
}

enum take { TAKE_OK, TAKE_NONE, TAKE_BAD };

/* Header checks of a QP's RECV (11.5: 0 to 15 SGEs). */
static uint8_t recv_hdr_ok(const struct dbnic_qp *qp, uint16_t index,
                           const struct dbnic_desc *d)
{
    unsigned int ndst = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);

    if (d->hdr.opcode != DBNIC_OP_RECV) {
        return DBNIC_ST_BAD_OPCODE;
    }
    if (dbnic_le16(d->hdr.index) != index ||
        dbnic_le16(d->hdr.qid) != (uint16_t)qp->sqid || d->hdr.size < 1 ||
        d->hdr.size > DBNIC_DESC_MAX_BLOCKS ||
        d->hdr.size * DBNIC_DESC_BLOCK_SIZE > (1u << qp->rq_log_stride) ||
        (d->hdr.flags & ~DBNIC_DESC_F_COMPLETION) || d->hdr.imm ||
        DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC) ||
        dbnic_desc_blocks(ndst) > d->hdr.size) {
        return DBNIC_ST_BAD_DESC;
    }
    return DBNIC_ST_OK;
}

/*
 * Take the QP's next RECV into resp.recv_*.  TAKE_NONE: none posted.
 * TAKE_BAD: it was bad; its CQE is written (the caller NAKs and moves the
 * QP to ERR).
 */
static enum take take_recv(struct dbnic_core *c, struct dbnic_qp *qp)
{
    struct dbnic_roce_resp *s = &qp->resp;
    struct dbnic_desc d;
    uint16_t index;
    uint64_t addr, room = 0;
    uint8_t st, wc = DBNIC_WC_LOC_QP_OP_ERR;
    unsigned int i, n = 0;

    if (qp->rq_ci == qp->rq_pi) {
        return TAKE_NONE;
    }
    index = qp->rq_ci++;
    addr = qp->rq_base + ((uint64_t)dbnic_ring_slot(index, qp->rq_log_size)
                          << qp->rq_log_stride);
    memset(&d, 0, sizeof(d));
    if (c->ops->dma_read(c->opaque, addr, &d.hdr, sizeof(d.hdr))) {
        st = DBNIC_ST_DMA_ERROR;
    } else {
        st = recv_hdr_ok(qp, index, &d);
    }
    if (st == DBNIC_ST_OK) {
        n = DBNIC_GET(d.hdr.nsge, DBNIC_NSGE_DST);
        if (c->ops->dma_read(c->opaque, addr, &d,
                             d.hdr.size * DBNIC_DESC_BLOCK_SIZE)) {
            st = DBNIC_ST_DMA_ERROR;
        } else if (recv_hdr_ok(qp, index, &d) != DBNIC_ST_OK ||
                   (unsigned int)DBNIC_GET(d.hdr.nsge, DBNIC_NSGE_DST) != n) {
            st = DBNIC_ST_BAD_DESC; /* changed between the two reads */
        }
    }
    for (i = 0; st == DBNIC_ST_OK && i < n; i++) {
        st = dbnic_sge_check_pd(c, qp->ctx, qp->pd, &d.sge[i], true);
        if (st == DBNIC_ST_ACCESS) {
            dbnic_count(c, DBNIC_CNT_ACCESS_FAULT);
            wc = DBNIC_WC_LOC_PROT_ERR;
        }
        room += dbnic_le32(d.sge[i].len);
    }
    if (st != DBNIC_ST_OK) {
        recv_cqe(c, qp, index, wc, st, 0, DBNIC_WC_RECV, 0, 0, 0);
        return TAKE_BAD;
    }
    s->recv_index = index;
    s->recv_nsge = (uint8_t)n;
    s->recv_room = room;
    memcpy(s->recv_sge, d.sge, n * sizeof(d.sge[0]));
    return TAKE_OK;
}

/* Write n bytes at offset off of the RECV taken.  A status. */
static uint8_t recv_scatter(struct dbnic_core *c, struct dbnic_qp *qp,
                            uint64_t off, const uint8_t *p, uint32_t n)
{
    struct dbnic_roce_resp *s = &qp->resp;
    unsigned int i;

    for (i = 0; i < s->recv_nsge && n; i++) {
        const struct dbnic_sge *sge = &s->recv_sge[i];
        uint32_t slen = dbnic_le32(sge->len);

        if (off >= slen) {
            off -= slen;
            continue;
        }
        while (off < slen && n) {
            uint32_t want = slen - (uint32_t)off < n ? slen - (uint32_t)off
                                                      : n, len;
            uint64_t dma;

            if (dbnic_sge_translate(c, qp->ctx, sge, (uint32_t)off, want,
                                    &dma, &len) || !len) {
                return DBNIC_ST_ACCESS;
            }
            if (c->ops->dma_write(c->opaque, dma, p, len)) {
                return DBNIC_ST_DMA_ERROR;
            }
            p += len;
            n -= len;
            off += len;
        }
        off = 0;
    }
    return n ? DBNIC_ST_BAD_LENGTH : DBNIC_ST_OK;
}

/* ------------------------------------------------------------------ */
/* Responder: RC                                                       */
/* ------------------------------------------------------------------ */

/* An ACK for psn is owed (coalesced: the newest wins; a NAK stays). */
static void owe_ack(struct dbnic_core *c, struct dbnic_qp *qp, uint32_t psn)
{
    struct dbnic_roce_resp *s = &qp->resp;

    if (s->nak_owed) {
        return;
    }
    s->ack_owed = true;
    s->ack_syn = DBNIC_AETH_ACK_NO_CREDIT;
    s->ack_psn = psn;
    s->ack_msn = s->msn;
    qp_wake(c, qp);
}

static void owe_nak(struct dbnic_core *c, struct dbnic_qp *qp, uint8_t syn,
                    uint32_t psn)
{
    struct dbnic_roce_resp *s = &qp->resp;

    if (s->nak_owed) {
        return;
    }
    s->ack_owed = true;
    s->nak_owed = true;
    s->ack_syn = syn;
    s->ack_psn = psn;
    s->ack_msn = s->msn;
    qp_wake(c, qp);
}

/*
 * A class C error (IBTA 9.9.3): NAK, and the QP to ERR.  A SEND's RECV
 * taken at its first packet completes with the error first, so that
 * every RECV the device took gets its CQE.
 */
static void resp_error(struct dbnic_core *c, struct dbnic_qp *qp, uint8_t syn,
                       uint32_t psn, uint8_t wc_status)
{
    struct dbnic_roce_resp *s = &qp->resp;

    if (s->cur == 'S') {
        recv_cqe(c, qp, s->recv_index, wc_status, DBNIC_ST_OK, s->cur_len,
                 DBNIC_WC_RECV, 0, 0, 0);
    }
    s->cur = 0;
    owe_nak(c, qp, syn, psn);
    dbnic_qp_fatal(c, qp, wc_status);
}

/*
 * The RECV of a SEND or WRITE_IMM could not be used: TAKE_NONE gives an
 * RNR NAK, TAKE_BAD a NAK (its CQE is written).
 */
static void recv_missing(struct dbnic_core *c, struct dbnic_qp *qp,
                         enum take t, uint32_t psn)
{
    if (t == TAKE_NONE) {
        owe_nak(c, qp, DBNIC_AETH_TYPE_RNR | (qp->min_rnr_timer & 0x1f), psn);
    } else {
        resp_error(c, qp, DBNIC_AETH_NAK_INV_REQ, psn, DBNIC_WC_LOC_QP_OP_ERR);
    }
}

static void resp_duplicate(struct dbnic_core *c, struct dbnic_qp *qp,
                           const struct dbnic_roce_pkt *pkt)
{
    struct dbnic_roce_resp *s = &qp->resp;
    uint32_t psn = pkt->hdr.psn;
    unsigned int k;

    rx_drop(c, DBNIC_CNT_ROCE_RX_DUP, pkt);
    if (pkt->hdr.opcode != DBNIC_ROCE_RC_READ_REQ) {
        /* Delivered already: say so again (IBTA 9.9.2). */
        owe_ack(c, qp, dbnic_psn_add(s->epsn, DBNIC_ROCE_PSN_MASK));
        return;
    }
    /*
     * A READ again (11.10): executed again from its own RETH, which must
     * end where the READ it repeats did, out of that READ's resource.
     */
    for (k = 0; k < DBNIC_QP_MAX_RD_ATOMIC; k++) {
        struct dbnic_roce_rres *rr = &s->rr[k];
        uint64_t va = pkt->hdr.reth.va;
        uint32_t len = pkt->hdr.reth.dma_len, mtu = qp_mtu(qp);

        if (!rr->npkts ||
            !dbnic_psn_in_window(psn, rr->first_psn, rr->npkts)) {
            continue;
        }
        if (va + len != rr->va + rr->len || len > rr->len ||
            pkt->hdr.reth.rkey != rr->rkey ||
            (len && !dbnic_rkey_check(c, qp, rr->rkey, va, len,
                                      DBNIC_MR_REMOTE_READ))) {
            return; /* not a repeat of that READ: dropped, counted */
        }
        *rr = (struct dbnic_roce_rres){
            .active = true,
            .again = true,
            .first_psn = psn,
            .npkts = len ? (len + mtu - 1) / mtu : 1,
            .rkey = rr->rkey,
            .va = va,
            .len = len,
        };
        qp_wake(c, qp);
        return;
    }
}

/* WRITE placement: n bytes at va through rkey.  A status. */
static uint8_t write_remote(struct dbnic_core *c, struct dbnic_qp *qp,
                            uint32_t rkey, uint64_t va, const uint8_t *p,
                            uint32_t n)
{
    struct dbnic_sge sge = {
        .addr = dbnic_le64(va),
        .len = dbnic_le32(n),
        .key = dbnic_le32(rkey),
    };
    uint32_t off = 0;

    while (off < n) {
        uint64_t dma;
        uint32_t len;

        if (dbnic_sge_translate(c, qp->ctx, &sge, off, n - off, &dma, &len) ||
            !len) {
            return DBNIC_ST_ACCESS;
        }
        if (c->ops->dma_write(c->opaque, dma, p + off, len)) {
            return DBNIC_ST_DMA_ERROR;
        }
        off += len;
    }
    return DBNIC_ST_OK;
}

static void resp_read_req(struct dbnic_core *c, struct dbnic_qp *qp,
                          const struct dbnic_roce_pkt *pkt)
{
    struct dbnic_roce_resp *s = &qp->resp;
    unsigned int nres = qp->max_dest_rd_atomic ? qp->max_dest_rd_atomic : 1;
    uint32_t len = pkt->hdr.reth.dma_len, mtu = qp_mtu(qp), npkts;
    struct dbnic_roce_rres *rr;

    if (nres > DBNIC_QP_MAX_RD_ATOMIC) {
        nres = DBNIC_QP_MAX_RD_ATOMIC;
    }
    if (s->cur || len > DBNIC_MAX_XFER) {
        resp_error(c, qp, DBNIC_AETH_NAK_INV_REQ, pkt->hdr.psn,
                   DBNIC_WC_LOC_QP_OP_ERR);
        return;
    }
    if (len && !dbnic_rkey_check(c, qp, pkt->hdr.reth.rkey, pkt->hdr.reth.va,
                                 len, DBNIC_MR_REMOTE_READ)) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_RKEY, pkt);
        resp_error(c, qp, DBNIC_AETH_NAK_REM_ACCESS, pkt->hdr.psn,
                   DBNIC_WC_LOC_ACCESS_ERR);
        return;
    }
    s->rr_next %= nres;
    rr = &s->rr[s->rr_next];
    if (rr->active && !rr->again) {
        /*
         * More READs at once than max_dest_rd_atomic.  (A READ executed
         * again for a duplicate may still be sending when its requester,
         * which had the first answer after all, has moved on: that one
         * gives its resource up, 11.10.)
         */
        resp_error(c, qp, DBNIC_AETH_NAK_INV_REQ, pkt->hdr.psn,
                   DBNIC_WC_LOC_QP_OP_ERR);
        return;
    }
    npkts = len ? (len + mtu - 1) / mtu : 1;
    *rr = (struct dbnic_roce_rres){
        .active = true,
        .first_psn = pkt->hdr.psn,
        .npkts = npkts,
        .rkey = pkt->hdr.reth.rkey,
        .va = pkt->hdr.reth.va,
        .len = len,
    };
    s->rr_next = (s->rr_next + 1) % nres;
    s->epsn = dbnic_psn_add(s->epsn, npkts);
    s->msn = (s->msn + 1) & DBNIC_ROCE_PSN_MASK;
    s->rr_msn[rr - s->rr] = s->msn;
    dbnic_count(c, DBNIC_CNT_ROCE_RX_PKTS);
    qp_wake(c, qp);
}

/* An RC request at the expected PSN (or ahead, or behind). */
static void resp_rc(struct dbnic_core *c, struct dbnic_qp *qp,
                    const struct dbnic_roce_pkt *pkt, const uint8_t *frame)
{
    struct dbnic_roce_resp *s = &qp->resp;
    uint8_t op = pkt->hdr.opcode, f = pkt->flags;
    uint32_t psn = pkt->hdr.psn, plen = pkt->payload_len, mtu = qp_mtu(qp);
    const uint8_t *p = frame + pkt->payload_off;
    bool send = op <= DBNIC_ROCE_RC_SEND_ONLY_IMM;
    bool imm = f & DBNIC_ROCE_OPF_IMMDT;
    bool first = f & DBNIC_ROCE_OPF_FIRST, last = f & DBNIC_ROCE_OPF_LAST;
    int32_t dist = dbnic_psn_cmp(psn, s->epsn);
    enum take t;
    uint8_t st;

    if (dist > 0) {
        /* Packets were lost: one NAK until the sequence resumes. */
        rx_drop(c, DBNIC_CNT_ROCE_RX_SEQ, pkt);
        if (!s->seq_nak) {
            s->seq_nak = true;
            owe_nak(c, qp, DBNIC_AETH_NAK_PSN_SEQ, s->epsn);
        }
        return;
    }
    if (dist < 0) {
        resp_duplicate(c, qp, pkt);
        return;
    }
    s->seq_nak = false;
    if (op == DBNIC_ROCE_RC_READ_REQ) {
        resp_read_req(c, qp, pkt);
        return;
    }
    /*
     * Opcode sequence (IBTA 9.8.3): a FIRST starts a message, the rest
     * continue one of their kind.
     */
    if ((first && s->cur) || (!first && s->cur != (send ? 'S' : 'W')) ||
        (!last && plen != mtu) || plen > mtu) {
        resp_error(c, qp, DBNIC_AETH_NAK_INV_REQ, psn, DBNIC_WC_LOC_QP_OP_ERR);
        return;
    }
    if (send) {
        if (first) {
            t = take_recv(c, qp);
            if (t != TAKE_OK) {
                recv_missing(c, qp, t, psn);
                return;
            }
            s->cur = 'S';
            s->cur_len = 0;
        }
        if (s->cur_len + (uint64_t)plen > s->recv_room) {
            recv_cqe(c, qp, s->recv_index, DBNIC_WC_LOC_LEN_ERR,
                     DBNIC_ST_BAD_LENGTH, s->cur_len + plen, DBNIC_WC_RECV, 0,
                     0, 0);
            s->cur = 0; /* its CQE is written */
            resp_error(c, qp, DBNIC_AETH_NAK_INV_REQ, psn,
                       DBNIC_WC_LOC_LEN_ERR);
            return;
        }
        st = recv_scatter(c, qp, s->cur_len, p, plen);
        if (st != DBNIC_ST_OK) {
            recv_cqe(c, qp, s->recv_index, DBNIC_WC_LOC_PROT_ERR, st, 0,
                     DBNIC_WC_RECV, 0, 0, 0);
            s->cur = 0;
            resp_error(c, qp, DBNIC_AETH_NAK_REM_OP, psn,
                       DBNIC_WC_LOC_PROT_ERR);
            return;
        }
        s->cur_len += plen;
    } else {
        if (first) {
            if (pkt->hdr.reth.dma_len > DBNIC_MAX_XFER ||
                (last && plen != pkt->hdr.reth.dma_len)) {
                resp_error(c, qp, DBNIC_AETH_NAK_INV_REQ, psn,
                           DBNIC_WC_LOC_QP_OP_ERR);
                return;
            }
            if (pkt->hdr.reth.dma_len &&
                !dbnic_rkey_check(c, qp, pkt->hdr.reth.rkey, pkt->hdr.reth.va,
                                  pkt->hdr.reth.dma_len,
                                  DBNIC_MR_REMOTE_WRITE)) {
                rx_drop(c, DBNIC_CNT_ROCE_RX_RKEY, pkt);
                resp_error(c, qp, DBNIC_AETH_NAK_REM_ACCESS, psn,
                           DBNIC_WC_LOC_ACCESS_ERR);
                return;
            }
            s->cur = 'W';
            s->cur_len = 0;
            s->w_va = pkt->hdr.reth.va;
            s->w_rkey = pkt->hdr.reth.rkey;
            s->w_len = pkt->hdr.reth.dma_len;
        }
        if (s->cur_len + (uint64_t)plen > s->w_len ||
            (last && s->cur_len + plen != s->w_len)) {
            resp_error(c, qp, DBNIC_AETH_NAK_INV_REQ, psn,
                       DBNIC_WC_LOC_QP_OP_ERR);
            return;
        }
        /* The rkey again for this packet: it may be gone since FIRST. */
        if (plen && !dbnic_rkey_check(c, qp, s->w_rkey, s->w_va + s->cur_len,
                                      plen, DBNIC_MR_REMOTE_WRITE)) {
            rx_drop(c, DBNIC_CNT_ROCE_RX_RKEY, pkt);
            resp_error(c, qp, DBNIC_AETH_NAK_REM_ACCESS, psn,
                       DBNIC_WC_LOC_ACCESS_ERR);
            return;
        }
        if (imm) {
            /* WRITE with immediate: a RECV at its last packet (11.5). */
            t = take_recv(c, qp);
            if (t != TAKE_OK) {
                recv_missing(c, qp, t, psn);
                return;
            }
        }
        if (plen) {
            st = write_remote(c, qp, s->w_rkey, s->w_va + s->cur_len, p, plen);
            if (st != DBNIC_ST_OK) {
                if (imm) {
                    recv_cqe(c, qp, s->recv_index, DBNIC_WC_LOC_ACCESS_ERR,
                             st, 0, DBNIC_WC_RECV_RDMA_WITH_IMM, 0, 0, 0);
                }
                resp_error(c, qp, DBNIC_AETH_NAK_REM_OP, psn,
                           DBNIC_WC_LOC_ACCESS_ERR);
                return;
            }
        }
        s->cur_len += plen;
    }
    dbnic_count(c, DBNIC_CNT_ROCE_RX_PKTS);
    c->counters[DBNIC_CNT_BYTES] += plen;
    s->epsn = dbnic_psn_add(s->epsn, 1);
    if (last) {
        s->msn = (s->msn + 1) & DBNIC_ROCE_PSN_MASK;
        s->cur = 0;
        if (send || imm) {
            recv_cqe(c, qp, s->recv_index, DBNIC_WC_SUCCESS, DBNIC_ST_OK,
                     send ? s->cur_len : s->w_len,
                     send ? DBNIC_WC_RECV : DBNIC_WC_RECV_RDMA_WITH_IMM,
                     imm ? DBNIC_WC_F_WITH_IMM : 0, pkt->hdr.imm, 0);
        }
    }
    if (pkt->hdr.ackreq) {
        owe_ack(c, qp, psn);
    }
}

/* ------------------------------------------------------------------ */
/* Responder: UD                                                       */
/* ------------------------------------------------------------------ */

static void resp_ud(struct dbnic_core *c, struct dbnic_qp *qp,
                    const struct dbnic_roce_pkt *pkt, const uint8_t *frame)
{
    struct dbnic_roce_resp *s = &qp->resp;
    uint8_t grh[DBNIC_GRH_BYTES], st;
    uint32_t plen = pkt->payload_len;
    bool v6 = pkt->addr.ipver == 6;
    uint8_t wcf = DBNIC_WC_F_GRH |
                  (v6 ? DBNIC_WC_F_NET_IPV6 : DBNIC_WC_F_NET_IPV4);
    enum take t;

    if (plen > qp_mtu(qp)) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_BAD_HDR, pkt);
        return;
    }
    t = take_recv(c, qp);
    if (t == TAKE_NONE) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_NOBUF, pkt);
        return;
    }
    if (t == TAKE_BAD) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_NOBUF, pkt);
        dbnic_qp_fatal(c, qp, DBNIC_WC_LOC_QP_OP_ERR);
        return;
    }
    /*
     * The 40-byte "GRH" (11.5): the IPv6 header, or 20 zeros and the
     * IPv4 header.
     */
    memset(grh, 0, sizeof(grh));
    if (v6) {
        memcpy(grh, frame + pkt->l3_off, 40);
    } else {
        memcpy(grh + 20, frame + pkt->l3_off, 20);
    }
    if (DBNIC_GRH_BYTES + (uint64_t)plen > s->recv_room) {
        /* UD: the receive fails, the QP goes on (rxe does the same). */
        rx_drop(c, DBNIC_CNT_ROCE_RX_NOBUF, pkt);
        recv_cqe(c, qp, s->recv_index, DBNIC_WC_LOC_LEN_ERR,
                 DBNIC_ST_BAD_LENGTH, DBNIC_GRH_BYTES + plen, DBNIC_WC_RECV,
                 wcf, 0, pkt->hdr.deth.src_qpn);
        return;
    }
    st = recv_scatter(c, qp, 0, grh, sizeof(grh));
    if (st == DBNIC_ST_OK) {
        st = recv_scatter(c, qp, DBNIC_GRH_BYTES, frame + pkt->payload_off,
                          plen);
    }
    if (st != DBNIC_ST_OK) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_NOBUF, pkt);
        recv_cqe(c, qp, s->recv_index, DBNIC_WC_LOC_PROT_ERR, st, 0,
                 DBNIC_WC_RECV, wcf, 0, pkt->hdr.deth.src_qpn);
        dbnic_qp_fatal(c, qp, DBNIC_WC_LOC_PROT_ERR);
        return;
    }
    if (pkt->flags & DBNIC_ROCE_OPF_IMMDT) {
        wcf |= DBNIC_WC_F_WITH_IMM;
    }
    dbnic_count(c, DBNIC_CNT_ROCE_RX_PKTS);
    c->counters[DBNIC_CNT_BYTES] += plen;
    recv_cqe(c, qp, s->recv_index, DBNIC_WC_SUCCESS, DBNIC_ST_OK,
             DBNIC_GRH_BYTES + plen, DBNIC_WC_RECV, wcf, pkt->hdr.imm,
             pkt->hdr.deth.src_qpn);
}

/* ------------------------------------------------------------------ */
/* Requester: ACKs, NAKs and READ responses                            */
/* ------------------------------------------------------------------ */

/* The status of a fatal NAK (RNR and sequence NAKs are retried, 11.10). */
static uint8_t nak_status(uint8_t syn)
{
    switch (syn) {
    case DBNIC_AETH_NAK_INV_REQ:
        return DBNIC_WC_REM_INV_REQ_ERR;
    case DBNIC_AETH_NAK_REM_ACCESS:
        return DBNIC_WC_REM_ACCESS_ERR;
    case DBNIC_AETH_NAK_REM_OP:
        return DBNIC_WC_REM_OP_ERR;
    default:
        return DBNIC_WC_BAD_RESP_ERR;
    }
}

/* Is psn one the requester has sent and not seen answered? */
static bool req_psn_outstanding(const struct dbnic_qp *qp, uint32_t psn)
{
    const struct dbnic_roce_req *r = &qp->req;
    uint32_t oldest;

    if (r->if_len) {
        const struct dbnic_roce_inflight *e = &r->inflight[r->if_head];

        oldest = e->opcode == DBNIC_OP_RDMA_READ
                     ? r->rd[r->rd_head].first_psn
                     : e->last_psn; /* an ACK names a packet of it */
        /* From well before the oldest WQE's first PSN to the next. */
        return dbnic_psn_cmp(psn, r->psn) < 0 &&
               dbnic_psn_cmp(psn, oldest) >= -(int32_t)(1 << 22);
    }
    return r->started && dbnic_psn_cmp(psn, r->cur.msg_psn) >= 0 &&
           dbnic_psn_cmp(psn, r->psn) < 0;
}

/*
 * Everything before PSN next is acknowledged (an ACK of next - 1, or a
 * NAK of next): WQEs complete and una advances, up to a READ still
 * waiting for responses.  true if an answer to that READ was lost: the
 * acknowledgement reaches past it (11.10).
 */
static bool req_acked_upto(struct dbnic_core *c, struct dbnic_qp *qp,
                           uint32_t next)
{
    struct dbnic_roce_req *r = &qp->req;
    uint32_t resume;

    if (dbnic_roce_complete_upto(c, qp, dbnic_psn_add(next,
                                                      DBNIC_ROCE_PSN_MASK))) {
        qp_wake(c, qp);
    }
    if (r->if_len && r->inflight[r->if_head].opcode == DBNIC_OP_RDMA_READ) {
        resume = dbnic_roce_resume_psn(qp);
        if (dbnic_psn_cmp(next, resume) > 0) {
            dbnic_roce_acked(c, qp, resume);
            return true;
        }
    }
    dbnic_roce_acked(c, qp, next);
    return false;
}

/* A retransmission from the resume point, unless one is under way. */
static void req_retry_seq(struct dbnic_core *c, struct dbnic_qp *qp)
{
    struct dbnic_roce_req *r = &qp->req;

    if (r->retx_started &&
        dbnic_psn_cmp(dbnic_roce_resume_psn(qp), r->retx_from) <= 0) {
        return; /* the same gap again (a duplicate NAK) */
    }
    dbnic_roce_retry(c, qp, DBNIC_CNT_ROCE_RETRY_SEQ);
}

static void req_ack(struct dbnic_core *c, struct dbnic_qp *qp,
                    const struct dbnic_roce_pkt *pkt)
{
    struct dbnic_roce_req *r = &qp->req;
    uint8_t syn = pkt->hdr.aeth.syndrome;
    uint32_t psn = pkt->hdr.psn;

    dbnic_count(c, DBNIC_CNT_ROCE_RX_PKTS);
    if ((syn & DBNIC_AETH_TYPE_MASK) == DBNIC_AETH_TYPE_ACK) {
        dbnic_count(c, DBNIC_CNT_ROCE_ACK_RX);
        if (dbnic_psn_cmp(psn, r->psn) < 0 && req_psn_outstanding(qp, psn) &&
            req_acked_upto(c, qp, dbnic_psn_add(psn, 1))) {
            req_retry_seq(c, qp);
        }
        return;
    }
    dbnic_count(c, DBNIC_CNT_ROCE_NAK_RX);
    if (!req_psn_outstanding(qp, psn)) {
        return; /* about nothing this QP waits for */
    }
    /* A NAK of psn acknowledges everything before it (IBTA 9.7.5.1). */
    if (req_acked_upto(c, qp, psn)) {
        req_retry_seq(c, qp); /* READ responses before it were lost */
        return;
    }
    if ((syn & DBNIC_AETH_TYPE_MASK) == DBNIC_AETH_TYPE_RNR) {
        if (!r->rnr_wait) {
            dbnic_roce_rnr(c, qp, syn & DBNIC_AETH_VALUE_MASK);
        }
        return;
    }
    if (syn == DBNIC_AETH_NAK_PSN_SEQ) {
        req_retry_seq(c, qp);
        return;
    }
    dbnic_roce_req_fail_oldest(c, qp, nak_status(syn), DBNIC_ST_OK);
}

static void req_read_resp(struct dbnic_core *c, struct dbnic_qp *qp,
                          const struct dbnic_roce_pkt *pkt,
                          const uint8_t *frame)
{
    struct dbnic_roce_req *r = &qp->req;
    struct dbnic_sq *sq = &c->sq[qp->sqid];
    struct dbnic_roce_read *rd;
    uint32_t psn = pkt->hdr.psn, plen = pkt->payload_len, mtu = qp_mtu(qp);
    uint32_t expect, k;
    const uint8_t *p = frame + pkt->payload_off;
    bool first = pkt->flags & DBNIC_ROCE_OPF_FIRST;
    bool last = pkt->flags & DBNIC_ROCE_OPF_LAST;
    int32_t dist;

    if (!r->rd_len) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_DUP, pkt); /* an answer to nothing */
        return;
    }
    rd = &r->rd[r->rd_head];
    k = rd->done / mtu;
    expect = dbnic_psn_add(rd->first_psn, k);
    dist = dbnic_psn_cmp(psn, expect);
    if (dist < 0) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_DUP, pkt);
        return;
    }
    if (dist > 0) {
        /* One was lost: ask for the rest now, not at the timeout (11.10). */
        rx_drop(c, DBNIC_CNT_ROCE_RX_SEQ, pkt);
        req_retry_seq(c, qp);
        return;
    }
    dbnic_count(c, DBNIC_CNT_ROCE_RX_PKTS);
    /* The first response acknowledges every WQE before the READ. */
    if (k == 0) {
        dbnic_roce_complete_upto(c, qp, dbnic_psn_add(rd->first_psn,
                                              DBNIC_ROCE_PSN_MASK));
    }
    /*
     * A READ sent again starts its responses again at resp_first (11.10);
     * there the first execution's middle or last response carries the
     * same bytes and is as good.
     */
    if ((expect == rd->first_psn ? !first
                                 : first && expect != rd->resp_first) ||
        (!last && plen != mtu) ||
        rd->done + (uint64_t)plen > rd->len ||
        (last && rd->done + plen != rd->len)) {
        dbnic_roce_req_fail_oldest(c, qp, DBNIC_WC_BAD_RESP_ERR, DBNIC_ST_OK);
        return;
    }
    while (plen) {
        const struct dbnic_sge *sge = &rd->sge[rd->i];
        uint32_t room, n, len;
        uint64_t dma;

        if (rd->i >= rd->nsge) {
            dbnic_roce_req_fail_oldest(c, qp, DBNIC_WC_BAD_RESP_ERR, DBNIC_ST_OK);
            return;
        }
        room = dbnic_le32(sge->len) - rd->off;
        n = plen < room ? plen : room;
        if (dbnic_sge_translate(c, sq->ctx, sge, rd->off, n, &dma, &len) ||
            !len || c->ops->dma_write(c->opaque, dma, p, len)) {
            dbnic_roce_req_fail_oldest(c, qp, DBNIC_WC_LOC_PROT_ERR, DBNIC_ST_OK);
            return;
        }
        p += len;
        plen -= len;
        rd->done += len;
        rd->off += len;
        if (rd->off == dbnic_le32(sge->len)) {
            rd->i++;
            rd->off = 0;
        }
    }
    c->counters[DBNIC_CNT_BYTES] += pkt->payload_len;
    if (last) {
        /* The READ is the oldest WQE now: every one before it is done. */
        if (!r->if_len ||
            r->inflight[r->if_head].opcode != DBNIC_OP_RDMA_READ) {
            dbnic_roce_req_fail_oldest(c, qp, DBNIC_WC_BAD_RESP_ERR, DBNIC_ST_OK);
            return;
        }
        dbnic_roce_inflight_done(c, qp, DBNIC_WC_SUCCESS);
        qp_wake(c, qp);
    }
    dbnic_roce_acked(c, qp, dbnic_psn_add(psn, 1));
}

/* ------------------------------------------------------------------ */
/* Demux and the checks of 11.8                                        */
/* ------------------------------------------------------------------ */

static const struct dbnic_gid *gid_find(const struct dbnic_core *c,
                                        const uint8_t *gid, unsigned int ipver)
{
    unsigned int i;

    for (i = 0; i < DBNIC_GID_TBL_LEN; i++) {
        const struct dbnic_gid *g = dbnic_gid_get(c, i);

        if (g && g->net == ipver && !memcmp(g->gid, gid, 16)) {
            return g;
        }
    }
    return NULL;
}

static bool qp_accepts(const struct dbnic_qp *qp)
{
    return qp->state == DBNIC_QPS_RTR || qp->state == DBNIC_QPS_RTS;
}

bool dbnic_roce_rx(struct dbnic_core *c, const uint8_t *frame, size_t len)
{
    struct dbnic_roce_pkt pkt;
    enum dbnic_roce_err err;
    uint8_t dgid[16], op;
    unsigned int ipver = dbnic_roce_demux(frame, len, dgid);
    struct dbnic_qp *qp;
    bool ud;

    if (!ipver || !gid_find(c, dgid, ipver)) {
        return false;
    }
    if (dbnic_fault_on(c, DBNIC_FAULT_RX) && dbnic_fault_rx(c, frame, len)) {
        return true; /* fault injection (11.11) took it */
    }
    err = dbnic_roce_parse(frame, len, &pkt);
    switch (err) {
    case DBNIC_ROCE_E_NOT_IP:
    case DBNIC_ROCE_E_IP_OPTIONS:
    case DBNIC_ROCE_E_IP_FRAGMENT:
    case DBNIC_ROCE_E_IP_CSUM:
    case DBNIC_ROCE_E_NOT_UDP:
    case DBNIC_ROCE_E_NOT_ROCE:
        return false; /* not a RoCE packet by 11.8's definition */
    case DBNIC_ROCE_OK:
    case DBNIC_ROCE_E_ICRC:
        break;
    default:
        rx_drop(c, DBNIC_CNT_ROCE_RX_BAD_HDR, &pkt);
        return true;
    }
    if ((pkt.hdr.pkey & 0x7fff) != 0x7fff) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_BAD_HDR, &pkt);
        return true;
    }
    if (err == DBNIC_ROCE_E_ICRC) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_BAD_ICRC, &pkt);
        return true;
    }
    op = pkt.hdr.opcode;
    ud = op == DBNIC_ROCE_UD_SEND_ONLY || op == DBNIC_ROCE_UD_SEND_ONLY_IMM;
    qp = dbnic_qp_get(c, pkt.hdr.dqpn);
    if (!qp || !qp_accepts(qp) ||
        (ud ? qp->type == DBNIC_QPT_RC : qp->type != DBNIC_QPT_RC)) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_NO_QP, &pkt);
        return true;
    }
    if (!ud) {
        const struct dbnic_gid *g = dbnic_gid_get(c, qp->av.sgid_index);

        /* RC: from the QP's peer to the QP's own address. */
        if (!g || memcmp(pkt.addr.sgid, qp->av.dgid, 16) ||
            memcmp(pkt.addr.dgid, g->gid, 16)) {
            rx_drop(c, DBNIC_CNT_ROCE_RX_NO_QP, &pkt);
            return true;
        }
    } else if (pkt.hdr.deth.qkey !=
               (qp->type == DBNIC_QPT_GSI ? DBNIC_GSI_QKEY : qp->qkey)) {
        rx_drop(c, DBNIC_CNT_ROCE_RX_QKEY, &pkt);
        return true;
    }
    dbnic_tr(c, DBNIC_TR_ROCE_RX, pkt.hdr.dqpn, op,
             pkt.hdr.psn | (uint64_t)pkt.frame_len << 32);
    if (ud) {
        resp_ud(c, qp, &pkt, frame);
    } else if (op <= DBNIC_ROCE_RC_READ_REQ) {
        resp_rc(c, qp, &pkt, frame);
    } else if (op == DBNIC_ROCE_RC_ACK) {
        req_ack(c, qp, &pkt);
    } else {
        req_read_resp(c, qp, &pkt, frame);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Loopback                                                            */
/* ------------------------------------------------------------------ */

void dbnic_roce_loop_run(struct dbnic_core *c)
{
    unsigned int n = c->roce_loop_len;

    /* Only the frames there now: what these send comes at the next run. */
    while (n-- && c->roce_loop_len) {
        struct dbnic_roce_loop *e = &c->roce_loop[c->roce_loop_head];

        c->roce_loop_head = (c->roce_loop_head + 1) % DBNIC_ROCE_LOOP_FRAMES;
        c->roce_loop_len--;
        if (!dbnic_roce_rx(c, e->buf, e->len)) {
            /* Its GID went away meanwhile: no longer RoCE to this port. */
            rx_drop(c, DBNIC_CNT_ROCE_RX_NO_QP, NULL);
        }
    }
}

void dbnic_roce_loop_reset(struct dbnic_core *c)
{
    c->roce_loop_head = 0;
    c->roce_loop_len = 0;
}
