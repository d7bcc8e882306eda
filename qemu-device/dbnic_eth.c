/*
 * dbnic device core: the network port (datasheet section 10).
 *
 * ETH_TX gathers a frame (from SGEs, or inline from the descriptor) and
 * hands it with a description of its offloads to the owner through
 * ops->eth_tx; the owner (QEMU's glue) segments and checksums it with
 * QEMU's own packet helpers.  Received frames come in through
 * dbnic_core_eth_rx(), with the hash and checksum status the owner
 * computed; the core checks the frame, picks a receive queue through
 * the RSS table, and writes the frame and its completion.
 *
 * Everything here is reachable from a guest (descriptors, doorbells,
 * admin commands) or from a network peer (frames, and the metadata the
 * owner derived from them), so every length and index is checked.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "dbnic_core_priv.h"

/* EtherTypes and the IP protocol number the port looks at. */
#define DBNIC_ETYPE_IPV4    0x0800
#define DBNIC_ETYPE_IPV6    0x86dd
#define DBNIC_ETYPE_8021Q   0x8100
#define DBNIC_ETYPE_8021AD  0x88a8
#define DBNIC_ETYPE_MIN     0x0600  /* below: an 802.3 length */
#define DBNIC_IPPROTO_TCP   6

static uint16_t be16_at(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ------------------------------------------------------------------ */
/* Link                                                                */
/* ------------------------------------------------------------------ */

void dbnic_core_eth_set_link(struct dbnic_core *c, bool up)
{
    if (c->link_up == up) {
        return;
    }
    c->link_up = up;
    dbnic_tr(c, DBNIC_TR_LINK, up, 0, 0);
    if (dbnic_ready(c)) {
        dbnic_event(c, DBNIC_AERR_LINK, 0, 0, up);
    }
}

/* ------------------------------------------------------------------ */
/* ETH_TX                                                              */
/* ------------------------------------------------------------------ */

bool dbnic_eth_tx_inline(const struct dbnic_desc *d)
{
    return dbnic_eth_tx_of((struct dbnic_desc *)d)->inline_len != 0;
}

/*
 * Checks of datasheet 10.2, in its order, before anything is read: the
 * shape, the context, the offload, the length, the SGEs.  *total: the
 * frame's length.
 */
uint8_t dbnic_eth_tx_validate(struct dbnic_core *c, struct dbnic_sq *sq,
                              uint64_t *total)
{
    struct dbnic_desc *d = &sq->job.d;
    const struct dbnic_eth_tx *e = dbnic_eth_tx_of(d);
    unsigned int nsrc = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC);
    unsigned int ndst = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);
    uint16_t off = dbnic_le16(e->offload);
    uint16_t mss = dbnic_le16(e->mss);
    uint32_t inl = dbnic_le16(e->inline_len);
    uint64_t len = 0;
    unsigned int i;

    if (ndst || nsrc > DBNIC_ETH_TX_MAX_SGE || (inl && nsrc) ||
        inl > DBNIC_ETH_TX_MAX_INLINE ||
        dbnic_eth_tx_blocks(nsrc, inl) > d->hdr.size || d->hdr.imm ||
        e->rsvd[0] || e->rsvd[1] || (off & ~DBNIC_ETH_TX_F_ALL) ||
        (!(off & DBNIC_ETH_TX_F_TSO) && mss) ||
        (!(off & DBNIC_ETH_TX_F_VLAN) && e->vlan_tci)) {
        return DBNIC_ST_BAD_DESC;
    }
    if (!c->ctx[sq->ctx].privileged) {
        return DBNIC_ST_ACCESS;
    }
    if ((off & DBNIC_ETH_TX_F_TSO) &&
        (mss < DBNIC_ETH_MSS_MIN || mss > DBNIC_ETH_MSS_MAX)) {
        return DBNIC_ST_BAD_DESC;
    }
    if (inl) {
        len = inl;
    } else {
        for (i = 0; i < nsrc; i++) {
            len += dbnic_le32(d->sge[1 + i].len);
        }
    }
    /* A tag VLAN inserts counts: the frame on the wire obeys the limit. */
    if (len < DBNIC_ETH_MIN_FRAME ||
        len > ((off & DBNIC_ETH_TX_F_TSO) ? DBNIC_ETH_MAX_TSO
               : (off & DBNIC_ETH_TX_F_VLAN)
               ? DBNIC_ETH_MAX_FRAME - DBNIC_ETH_VLAN_HLEN
               : DBNIC_ETH_MAX_FRAME)) {
        return DBNIC_ST_BAD_LENGTH;
    }
    for (i = 0; i < nsrc; i++) {
        const struct dbnic_sge *sge = &d->sge[1 + i];
        uint8_t st = dbnic_sge_check(c, sq->ctx, sge, false);

        if (st == DBNIC_ST_ACCESS) {
            dbnic_count(c, DBNIC_CNT_ACCESS_FAULT);
            dbnic_tr(c, DBNIC_TR_ACCESS_FAULT, sq - c->sq,
                     dbnic_le32(sge->key), dbnic_le64(sge->addr));
        }
        if (st != DBNIC_ST_OK) {
            return st;
        }
    }
    *total = len;
    return DBNIC_ST_OK;
}

/* Gather the frame's SGEs into c->eth_buf; a status. */
static uint8_t tx_gather(struct dbnic_core *c, struct dbnic_sq *sq,
                         uint32_t len)
{
    const struct dbnic_desc *d = &sq->job.d;
    unsigned int nsrc = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC);
    uint32_t at = 0;
    unsigned int i;

    for (i = 0; i < nsrc; i++) {
        const struct dbnic_sge *sge = &d->sge[1 + i];
        uint32_t slen = dbnic_le32(sge->len), off = 0;

        while (off < slen) {
            uint64_t dma;
            uint32_t n;

            if (at + (slen - off) > len ||
                dbnic_sge_translate(c, sq->ctx, sge, off, slen - off, &dma,
                                    &n)) {
                return DBNIC_ST_ACCESS;
            }
            if (c->ops->dma_read(c->opaque, dma, c->eth_buf + at, n)) {
                return DBNIC_ST_DMA_ERROR;
            }
            at += n;
            off += n;
        }
    }
    return DBNIC_ST_OK;
}

/*
 * TSO needs TCP over IPv4 (not a fragment) or over IPv6 (TCP as the
 * first next header), each header whole in the frame, and segments of
 * the headers plus mss (plus tag_len, the tag VLAN inserts) that fit
 * DBNIC_ETH_MAX_FRAME (datasheet 10.1, 10.2).  The glue's segmentation
 * parses the frame again; this is the part of the decision that is the
 * device's, so that the host tests and the fuzzer reach it.
 */
static bool tso_frame_ok(const uint8_t *f, uint32_t len, uint32_t mss,
                         uint32_t tag_len)
{
    uint32_t hdr;

    uint32_t l3 = DBNIC_ETH_HLEN, l4;
    uint16_t type = be16_at(f + 12);

    if (type == DBNIC_ETYPE_8021Q || type == DBNIC_ETYPE_8021AD) {
        if (len < DBNIC_ETH_HLEN + DBNIC_ETH_VLAN_HLEN) {
            return false;
        }
        type = be16_at(f + 16);
        l3 += DBNIC_ETH_VLAN_HLEN;
    }
    if (type == DBNIC_ETYPE_IPV4) {
        uint32_t ihl;

        if (len < l3 + 20 || (f[l3] >> 4) != 4) {
            return false;
        }
        ihl = (f[l3] & 0xf) * 4u;
        /* No fragment: MF clear and offset 0. */
        if (ihl < 20 || len < l3 + ihl || f[l3 + 9] != DBNIC_IPPROTO_TCP ||
            (be16_at(f + l3 + 6) & 0x3fff)) {
            return false;
        }
        l4 = l3 + ihl;
    } else if (type == DBNIC_ETYPE_IPV6) {
        if (len < l3 + 40 || (f[l3] >> 4) != 6 ||
            f[l3 + 6] != DBNIC_IPPROTO_TCP) {
            return false;
        }
        l4 = l3 + 40;
    } else {
        return false;
    }
    if (len < l4 + 20 || (f[l4 + 12] >> 4) < 5) {
        return false;
    }
    hdr = l4 + (f[l4 + 12] >> 4) * 4u;
    return len >= hdr && hdr + mss + tag_len <= DBNIC_ETH_MAX_FRAME;
}

/*
 * Send the job's frame.  *busy: the port cannot take it now; the job
 * waits for dbnic_core_eth_tx_resume() and comes here again.  *read: the
 * bytes read from host memory (0 for an inline frame).
 */
uint8_t dbnic_eth_tx_send(struct dbnic_core *c, struct dbnic_sq *sq,
                          uint32_t qid, bool *busy, uint32_t *read)
{
    struct dbnic_job *j = &sq->job;
    const struct dbnic_eth_tx *e = dbnic_eth_tx_of(&j->d);
    uint32_t len = (uint32_t)j->total;
    struct dbnic_eth_tx_offload off = {
        .flags = dbnic_le16(e->offload),
        .mss = dbnic_le16(e->mss),
        .vlan_tci = dbnic_le16(e->vlan_tci),
    };
    bool inl = e->inline_len != 0;
    uint8_t st;
    int r;

    *busy = false;
    *read = 0;
    if (inl) {
        memcpy(c->eth_buf, (const uint8_t *)&j->d + DBNIC_ETH_TX_DATA_OFFSET,
               len);
    } else {
        st = tx_gather(c, sq, len);
        if (st != DBNIC_ST_OK) {
            return st;
        }
        *read = len;
    }
    if ((off.flags & DBNIC_ETH_TX_F_TSO) &&
        !tso_frame_ok(c->eth_buf, len, off.mss,
                      (off.flags & DBNIC_ETH_TX_F_VLAN) ? DBNIC_ETH_VLAN_HLEN
                                                        : 0)) {
        return DBNIC_ST_BAD_FRAME;
    }
    dbnic_tr(c, DBNIC_TR_ETH_TX, qid, len, off.flags | (uint32_t)off.mss << 16);
    if (!c->link_up || !c->ops->eth_tx) {
        r = DBNIC_ETH_TX_DROPPED;
    } else {
        r = c->ops->eth_tx(c->opaque, c->eth_buf, len, &off);
    }
    if (r == DBNIC_ETH_TX_BUSY) {
        c->eth_tx_blocked = true;
        *busy = true;
        return DBNIC_ST_OK;
    }
    if (r != DBNIC_ETH_TX_SENT) {
        dbnic_count(c, DBNIC_CNT_ETH_TX_DROP);
        dbnic_tr(c, DBNIC_TR_ETH_DROP, DBNIC_CNT_ETH_TX_DROP, len, 0);
    }
    dbnic_count(c, DBNIC_CNT_ETH_TX);
    if (inl && j->prio) {
        dbnic_count(c, DBNIC_CNT_ETH_TX_INLINE);
    }
    c->counters[DBNIC_CNT_BYTES] += len;
    return DBNIC_ST_OK;
}

void dbnic_core_eth_tx_dropped(struct dbnic_core *c, unsigned int n)
{
    if (n) {
        c->counters[DBNIC_CNT_ETH_TX_DROP] += n;
        dbnic_tr(c, DBNIC_TR_ETH_DROP, DBNIC_CNT_ETH_TX_DROP, 0, n);
    }
}

void dbnic_core_eth_tx_resume(struct dbnic_core *c)
{
    if (c->eth_tx_blocked) {
        c->eth_tx_blocked = false;
        if (dbnic_ready(c)) {
            dbnic_ask_run(c);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Receive queues and RSS: admin                                       */
/* ------------------------------------------------------------------ */

static struct dbnic_rq *rq_get(struct dbnic_core *c, uint32_t rqn)
{
    return rqn < DBNIC_MAX_RQ && c->rq[rqn].in_use ? &c->rq[rqn] : NULL;
}

static bool ctx_priv(const struct dbnic_core *c, uint32_t ctx)
{
    return ctx < c->cfg.db_pages && c->ctx[ctx].in_use &&
           c->ctx[ctx].privileged;
}

uint8_t dbnic_eth_create_rq(struct dbnic_core *c,
                            const struct dbnic_admin_cmd *cmd, uint32_t *res)
{
    uint64_t base = dbnic_le64(cmd->create_sq.base);
    uint32_t ctx = dbnic_le32(cmd->create_sq.ctx);
    uint32_t cqn = dbnic_le32(cmd->create_sq.cqn);
    uint8_t log = cmd->create_sq.log_size;
    uint8_t stride = cmd->create_sq.log_stride;
    struct dbnic_cq *cq;
    uint32_t i;

    if (ctx >= c->cfg.db_pages || !c->ctx[ctx].in_use) {
        return DBNIC_AST_BAD_HANDLE;
    }
    cq = dbnic_cq_get(c, cqn);
    if (!cq) {
        return DBNIC_AST_BAD_HANDLE;
    }
    if (!c->ctx[ctx].privileged || cq->ctx != ctx ||
        cq->log_cqe != DBNIC_LOG_CQE_16 || !base ||
        (base & (DBNIC_DESC_BLOCK_SIZE - 1)) || log < DBNIC_LOG_RING_MIN ||
        log > DBNIC_LOG_RING_MAX || stride < DBNIC_LOG_STRIDE_MIN ||
        stride > DBNIC_LOG_STRIDE_MAX ||
        base + ((uint64_t)1 << (log + stride)) - 1 < base) {
        return DBNIC_AST_BAD_PARAM;
    }
    for (i = 0; i < DBNIC_MAX_RQ; i++) {
        struct dbnic_rq *rq = &c->rq[i];

        if (rq->in_use) {
            continue;
        }
        memset(rq, 0, sizeof(*rq));
        rq->in_use = true;
        rq->ctx = ctx;
        rq->cqn = cqn;
        rq->base = base;
        rq->log_size = log;
        rq->log_stride = stride;
        cq->users++;
        *res = i;
        return DBNIC_AST_OK;
    }
    return DBNIC_AST_NO_RESOURCE;
}

static bool rss_names(const struct dbnic_core *c, uint32_t rqn)
{
    unsigned int i;

    for (i = 0; c->rss_on && i < DBNIC_RSS_TABLE_SIZE; i++) {
        if (c->rss_table[i] == rqn) {
            return true;
        }
    }
    return false;
}

static void rq_destroy(struct dbnic_core *c, uint32_t rqn)
{
    struct dbnic_cq *cq = dbnic_cq_get(c, c->rq[rqn].cqn);

    if (cq && cq->users) {
        cq->users--;
    }
    memset(&c->rq[rqn], 0, sizeof(c->rq[rqn]));
}

uint8_t dbnic_eth_destroy_rq(struct dbnic_core *c, uint32_t rqn)
{
    if (!rq_get(c, rqn)) {
        return DBNIC_AST_BAD_HANDLE;
    }
    if (rss_names(c, rqn)) {
        return DBNIC_AST_BUSY;
    }
    rq_destroy(c, rqn);
    return DBNIC_AST_OK;
}

uint8_t dbnic_eth_set_rss(struct dbnic_core *c,
                          const struct dbnic_admin_cmd *cmd)
{
    uint64_t addr = dbnic_le64(cmd->set_rss.config);
    uint32_t ctx = dbnic_le32(cmd->set_rss.ctx);
    struct dbnic_rss_config cfg;
    uint32_t types;
    unsigned int i;

    if (ctx >= c->cfg.db_pages || !c->ctx[ctx].in_use) {
        return DBNIC_AST_BAD_HANDLE;
    }
    if (!ctx_priv(c, ctx) || (addr & 7)) {
        return DBNIC_AST_BAD_PARAM;
    }
    if (!addr) {
        c->rss_on = false;
        return DBNIC_AST_OK;
    }
    if (c->ops->dma_read(c->opaque, addr, &cfg, sizeof(cfg))) {
        return DBNIC_AST_BAD_PARAM;
    }
    types = dbnic_le32(cfg.hash_types);
    if (types & ~((1u << DBNIC_RSS_HASH_NUM) - 1)) {
        return DBNIC_AST_BAD_PARAM;
    }
    for (i = 0; i < DBNIC_RSS_TABLE_SIZE; i++) {
        struct dbnic_rq *rq = rq_get(c, dbnic_le16(cfg.table[i]));

        if (!rq || rq->ctx != ctx) {
            return DBNIC_AST_BAD_PARAM;
        }
    }
    memcpy(c->rss_key, cfg.key, sizeof(c->rss_key));
    for (i = 0; i < DBNIC_RSS_TABLE_SIZE; i++) {
        c->rss_table[i] = dbnic_le16(cfg.table[i]);
    }
    c->rss_types = types & ~(1u << DBNIC_RSS_HASH_NONE);
    c->rss_ctx = ctx;
    c->rss_on = true;
    return DBNIC_AST_OK;
}

void dbnic_eth_destroy_ctx(struct dbnic_core *c, uint32_t ctx)
{
    uint32_t i;

    if (c->rss_on && c->rss_ctx == ctx) {
        c->rss_on = false;
    }
    for (i = 0; i < DBNIC_MAX_RQ; i++) {
        if (c->rq[i].in_use && c->rq[i].ctx == ctx) {
            rq_destroy(c, i);
        }
    }
}

/*
 * Reset and disable: RQs and RSS go, and the frames the owner holds; the
 * link and the MAC stay.
 */
void dbnic_eth_reset(struct dbnic_core *c)
{
    if (c->ops->eth_reset) {
        dbnic_core_eth_tx_dropped(c, c->ops->eth_reset(c->opaque));
    }
    memset(c->rq, 0, sizeof(c->rq));
    c->rss_on = false;
    c->eth_tx_blocked = false;
}

bool dbnic_core_eth_rss(const struct dbnic_core *c, uint8_t *key,
                        uint32_t *types)
{
    memcpy(key, c->rss_key, DBNIC_RSS_KEY_SIZE);
    *types = c->rss_on ? c->rss_types : 0;
    return c->rss_on;
}

/* DB_RQ: the host posted RECV descriptors up to pi. */
void dbnic_eth_db_rq(struct dbnic_core *c, uint32_t ctx, uint32_t val)
{
    uint32_t rqn = DBNIC_GET(val, DBNIC_DB_RQ_RQN);
    uint16_t pi = DBNIC_GET(val, DBNIC_DB_RQ_PI);
    struct dbnic_rq *rq = rq_get(c, rqn);
    enum dbnic_async_err why;

    dbnic_tr(c, DBNIC_TR_DB_RQ, ctx, rqn, pi);
    if (!rq || rq->ctx != ctx) {
        why = rq ? DBNIC_AERR_DB_NOT_OWNER : DBNIC_AERR_DB_BAD_QUEUE;
        dbnic_count(c, rq ? DBNIC_CNT_DB_NOT_OWNER : DBNIC_CNT_DB_BAD);
        dbnic_tr(c, DBNIC_TR_DB_REFUSED, ctx, rqn, why);
        dbnic_async_error(c, why, ctx, rqn);
        return;
    }
    if (dbnic_ring_used(pi, rq->ci) > (1u << rq->log_size) ||
        dbnic_ring_used(pi, rq->ci) < dbnic_ring_used(rq->pi, rq->ci)) {
        dbnic_count(c, DBNIC_CNT_DB_BAD); /* past the ring, or backwards */
        return;
    }
    if (pi != rq->pi) {
        rq->pi = pi;
        if (c->ops->eth_rx_ready) {
            c->ops->eth_rx_ready(c->opaque);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Receive                                                             */
/* ------------------------------------------------------------------ */

bool dbnic_core_eth_can_rx(const struct dbnic_core *c)
{
    unsigned int i;

    if (!dbnic_ready(c) || !c->link_up) {
        return false;
    }
    for (i = 0; i < DBNIC_MAX_RQ; i++) {
        if (c->rq[i].in_use) {
            return true;
        }
    }
    /* RoCE packets to a GID of the port need no receive queue (11.8). */
    for (i = 0; i < DBNIC_GID_TBL_LEN; i++) {
        if (dbnic_gid_get(c, i)) {
            return true;
        }
    }
    return false;
}

/* Runt, giant, malformed (datasheet 10.3)? */
static bool rx_frame_bad(const uint8_t *f, size_t len)
{
    uint16_t type;

    if (len < DBNIC_ETH_MIN_FRAME || len > DBNIC_ETH_MAX_FRAME) {
        return true;
    }
    type = be16_at(f + 12);
    if (type == DBNIC_ETYPE_8021Q || type == DBNIC_ETYPE_8021AD) {
        if (len < DBNIC_ETH_HLEN + DBNIC_ETH_VLAN_HLEN) {
            return true;
        }
        type = be16_at(f + 16);
        return type < DBNIC_ETYPE_MIN &&
               type > len - DBNIC_ETH_HLEN - DBNIC_ETH_VLAN_HLEN;
    }
    return type < DBNIC_ETYPE_MIN && type > len - DBNIC_ETH_HLEN;
}

static void rx_drop(struct dbnic_core *c, enum dbnic_counter why, size_t len)
{
    dbnic_count(c, why);
    dbnic_tr(c, DBNIC_TR_ETH_DROP, why, (uint32_t)len, 0);
}

/* Write a receive completion; the CQ rules are those of dbnic_complete. */
static void rx_complete(struct dbnic_core *c, struct dbnic_rq *rq,
                        uint16_t index, uint8_t status, uint32_t bytes,
                        uint32_t hash, uint8_t type, uint8_t rx_flags)
{
    struct dbnic_rx_cqe cqe;

    memset(&cqe, 0, sizeof(cqe));
    cqe.byte_count = dbnic_le32(bytes);
    cqe.index = dbnic_le16(index);
    cqe.qid = dbnic_le16((uint16_t)(rq - c->rq));
    cqe.rss_hash = dbnic_le32(hash);
    cqe.status = status;
    cqe.rx_flags = rx_flags;
    cqe.hash_type = type;
    cqe.flags = DBNIC_CQE_F_RX;
    dbnic_tr(c, DBNIC_TR_ETH_RX, (uint32_t)(rq - c->rq), bytes, status);
    if (status != DBNIC_ST_OK) {
        dbnic_count(c, DBNIC_CNT_DESC_ERROR);
    }
    dbnic_cq_post(c, rq->cqn, &cqe);
}

/* The RECV descriptor's header, as read at ring index index. */
static uint8_t recv_check_hdr(struct dbnic_core *c, const struct dbnic_rq *rq,
                              uint16_t index, const struct dbnic_desc *d)
{
    unsigned int ndst = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);

    if (dbnic_le16(d->hdr.index) != index ||
        dbnic_le16(d->hdr.qid) != (uint16_t)(rq - c->rq)) {
        return DBNIC_ST_BAD_DESC;
    }
    if (d->hdr.opcode != DBNIC_OP_RECV) {
        return DBNIC_ST_BAD_OPCODE;
    }
    if (d->hdr.size < 1 || d->hdr.size > DBNIC_DESC_MAX_BLOCKS ||
        d->hdr.size * DBNIC_DESC_BLOCK_SIZE > (1u << rq->log_stride) ||
        (d->hdr.flags & ~DBNIC_DESC_F_COMPLETION) || d->hdr.imm ||
        DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC) || !ndst ||
        dbnic_desc_blocks(ndst) > d->hdr.size) {
        return DBNIC_ST_BAD_DESC;
    }
    return DBNIC_ST_OK;
}

/* The RECV's SGEs (datasheet 4.1); the buffer's total length to *room. */
static uint8_t recv_check_sges(struct dbnic_core *c, const struct dbnic_rq *rq,
                               const struct dbnic_desc *d, uint64_t *room)
{
    unsigned int ndst = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);
    unsigned int i;

    *room = 0;
    for (i = 0; i < ndst; i++) {
        uint8_t st = dbnic_sge_check(c, rq->ctx, &d->sge[i], true);

        if (st == DBNIC_ST_ACCESS) {
            dbnic_count(c, DBNIC_CNT_ACCESS_FAULT);
            dbnic_tr(c, DBNIC_TR_ACCESS_FAULT, (uint32_t)(rq - c->rq),
                     dbnic_le32(d->sge[i].key), dbnic_le64(d->sge[i].addr));
        }
        if (st != DBNIC_ST_OK) {
            return st;
        }
        *room += dbnic_le32(d->sge[i].len);
    }
    return DBNIC_ST_OK;
}

/* Write the frame over the RECV's SGEs, in order. */
static uint8_t rx_scatter(struct dbnic_core *c, const struct dbnic_rq *rq,
                          const struct dbnic_desc *d, const uint8_t *f,
                          uint32_t len)
{
    unsigned int ndst = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);
    unsigned int i;

    for (i = 0; i < ndst && len; i++) {
        const struct dbnic_sge *sge = &d->sge[i];
        uint32_t slen = dbnic_le32(sge->len), off = 0;

        while (off < slen && len) {
            uint32_t want = slen - off < len ? slen - off : len, n;
            uint64_t dma;

            if (dbnic_sge_translate(c, rq->ctx, sge, off, want, &dma, &n)) {
                return DBNIC_ST_ACCESS;
            }
            if (c->ops->dma_write(c->opaque, dma, f, n)) {
                return DBNIC_ST_DMA_ERROR;
            }
            f += n;
            len -= n;
            off += n;
        }
    }
    return DBNIC_ST_OK;
}

/* The lowest-numbered RQ in use, or DBNIC_MAX_RQ. */
static uint32_t rq_default(const struct dbnic_core *c)
{
    uint32_t i;

    for (i = 0; i < DBNIC_MAX_RQ && !c->rq[i].in_use; i++) {
        /* look further */
    }
    return i;
}

int dbnic_core_eth_rx(struct dbnic_core *c, const void *frame, size_t len,
                      const struct dbnic_eth_rx_meta *meta)
{
    uint8_t type = meta->hash_type, flags = meta->rx_flags & DBNIC_RX_CSUM_ALL;
    uint32_t hash = meta->hash, rqn;
    struct dbnic_rq *rq;
    struct dbnic_cq *cq;
    int ret = DBNIC_ETH_RX_DONE;

    if (!dbnic_ready(c) || !c->link_up) {
        return DBNIC_ETH_RX_DONE; /* a port that is down takes nothing */
    }
    if (rx_frame_bad(frame, len)) {
        rx_drop(c, DBNIC_CNT_ETH_RX_BAD, len);
        return DBNIC_ETH_RX_DONE;
    }
    /*
     * RoCE v2 to a GID of the port (11.8) is the transport's, before RSS
     * and never an Ethernet RQ's; it never holds the port (RC answers a
     * missing RECV with an RNR NAK, UD drops).
     */
    {
        bool was = c->in_run, roce;

        c->in_run = true; /* DMA and the EQ are ours, as in a run */
        roce = dbnic_roce_rx(c, frame, len);
        c->in_run = was;
        if (roce) {
            return DBNIC_ETH_RX_DONE;
        }
    }
    /* The glue's metadata: a pair with both bits set was not checked. */
    if ((flags & (DBNIC_RX_L4_OK | DBNIC_RX_L4_BAD)) ==
        (DBNIC_RX_L4_OK | DBNIC_RX_L4_BAD)) {
        flags &= ~(DBNIC_RX_L4_OK | DBNIC_RX_L4_BAD);
    }
    if ((flags & (DBNIC_RX_IP_OK | DBNIC_RX_IP_BAD)) ==
        (DBNIC_RX_IP_OK | DBNIC_RX_IP_BAD)) {
        flags &= ~(DBNIC_RX_IP_OK | DBNIC_RX_IP_BAD);
    }
    if (!c->rss_on || type >= DBNIC_RSS_HASH_NUM ||
        !(c->rss_types & (1u << type))) {
        type = DBNIC_RSS_HASH_NONE;
        hash = 0;
    }
    if (c->rss_on) {
        rqn = c->rss_table[hash % DBNIC_RSS_TABLE_SIZE];
    } else {
        rqn = rq_default(c);
    }
    rq = rq_get(c, rqn);
    cq = rq ? dbnic_cq_get(c, rq->cqn) : NULL;

    c->in_run = true; /* DMA and the EQ are ours, as in a run */
    for (;;) {
        struct dbnic_desc d;
        uint16_t index;
        uint64_t addr, room = 0;
        uint8_t st;

        if (!rq || !cq || cq->error || rq->ci == rq->pi) {
            rx_drop(c, DBNIC_CNT_ETH_RX_NOBUF, len);
            ret = DBNIC_ETH_RX_NOBUF;
            break;
        }
        index = rq->ci++;
        addr = rq->base + ((uint64_t)dbnic_ring_slot(index, rq->log_size)
                           << rq->log_stride);
        memset(&d, 0, sizeof(d));
        if (c->ops->dma_read(c->opaque, addr, &d.hdr, sizeof(d.hdr))) {
            st = DBNIC_ST_DMA_ERROR;
        } else {
            st = recv_check_hdr(c, rq, index, &d);
        }
        if (st == DBNIC_ST_OK) {
            if (c->ops->dma_read(c->opaque, addr, &d,
                                 d.hdr.size * DBNIC_DESC_BLOCK_SIZE)) {
                st = DBNIC_ST_DMA_ERROR;
            } else if (dbnic_le16(d.hdr.index) != index ||
                       recv_check_hdr(c, rq, index, &d) != DBNIC_ST_OK) {
                st = DBNIC_ST_BAD_DESC; /* changed between the two reads */
            } else {
                st = recv_check_sges(c, rq, &d, &room);
            }
        }
        if (st != DBNIC_ST_OK) {
            rx_complete(c, rq, index, st, 0, 0, 0, 0);
            continue; /* the frame tries the next posted buffer */
        }
        if (room < len) {
            rx_complete(c, rq, index, DBNIC_ST_BAD_LENGTH, (uint32_t)len, 0,
                        0, 0);
            rx_drop(c, DBNIC_CNT_ETH_RX_BUF_SHORT, len);
            break;
        }
        st = rx_scatter(c, rq, &d, frame, (uint32_t)len);
        if (st != DBNIC_ST_OK) {
            rx_complete(c, rq, index, st, 0, 0, 0, 0);
            break; /* partly written: the frame is lost */
        }
        dbnic_count(c, DBNIC_CNT_ETH_RX);
        c->counters[DBNIC_CNT_BYTES] += len;
        rx_complete(c, rq, index, DBNIC_ST_OK, (uint32_t)len, hash, type,
                    flags);
        break;
    }
    c->in_run = false;
    return ret;
}
