/*
 * dbnic device core: memory registrations (datasheet section 4.1).
 *
 * A context may only touch memory registered for it.  The device owns the
 * registration table; the page lists stay in host (driver) memory and are
 * read by DMA at translation time, as an MTT would be.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "dbnic_core_priv.h"

static struct dbnic_mr *mr_get(struct dbnic_core *c, uint32_t key)
{
    uint32_t idx = DBNIC_GET(key, DBNIC_MR_KEY_INDEX);
    struct dbnic_mr *mr;

    if (idx == 0 || idx > c->cfg.max_mr) {
        return NULL;
    }
    mr = &c->mr[idx - 1];
    if (!mr->in_use || mr->gen != DBNIC_GET(key, DBNIC_MR_KEY_GEN)) {
        return NULL;
    }
    return mr;
}

static uint8_t sge_check(struct dbnic_core *c, uint32_t ctx, bool check_pd,
                         uint32_t pd, const struct dbnic_sge *sge, bool write)
{
    uint64_t addr = dbnic_le64(sge->addr);
    uint32_t len = dbnic_le32(sge->len);
    uint32_t key = dbnic_le32(sge->key);
    struct dbnic_mr *mr;

    if (len == 0) {
        return DBNIC_ST_BAD_LENGTH;
    }
    if (addr + len < addr) {
        return DBNIC_ST_BAD_LENGTH;
    }
    if (key == 0) {
        return c->ctx[ctx].privileged ? DBNIC_ST_OK : DBNIC_ST_ACCESS;
    }

    mr = mr_get(c, key);
    if (!mr || mr->ctx != ctx || (check_pd && mr->pd != pd) ||
        addr < mr->iova ||
        addr - mr->iova > mr->length || len > mr->length - (addr - mr->iova)) {
        return DBNIC_ST_ACCESS;
    }
    if (write && !(mr->access & DBNIC_MR_LOCAL_WRITE)) {
        return DBNIC_ST_ACCESS;
    }
    return DBNIC_ST_OK;
}

uint8_t dbnic_sge_check(struct dbnic_core *c, uint32_t ctx,
                        const struct dbnic_sge *sge, bool write)
{
    return sge_check(c, ctx, false, 0, sge, write);
}

/* Key 0 stays a DMA address under 4.1's rule: it names no registration. */
uint8_t dbnic_sge_check_pd(struct dbnic_core *c, uint32_t ctx, uint32_t pd,
                           const struct dbnic_sge *sge, bool write)
{
    return sge_check(c, ctx, true, pd, sge, write);
}

/*
 * Page-list entries read by one DMA at translation: 16 entries (128
 * bytes) cover a 64 KiB piece in 4 KiB pages.  Physically adjacent pages
 * then translate to one range, which the COPY path maps and copies in one
 * go, where entry by entry it would map, copy and unmap page by page.
 */
#define DBNIC_MR_BATCH 16

int dbnic_sge_translate(struct dbnic_core *c, uint32_t ctx,
                        const struct dbnic_sge *sge, uint32_t off, uint32_t max,
                        uint64_t *dma, uint32_t *len)
{
    uint64_t addr = dbnic_le64(sge->addr) + off;
    uint32_t key = dbnic_le32(sge->key);
    uint64_t entry[DBNIC_MR_BATCH];
    uint64_t pos, page, in, psize, want, base;
    uint32_t n, k;
    struct dbnic_mr *mr;

    if (key == 0) {
        *dma = addr;
        *len = max;
        return 0;
    }
    /* Checked when the descriptor started; it may be gone since. */
    mr = mr_get(c, key);
    if (!mr || mr->ctx != ctx) {
        return -1;
    }
    psize = 1ull << mr->page_shift;
    pos = (mr->iova & (psize - 1)) + (addr - mr->iova);
    page = pos >> mr->page_shift;
    in = pos & (psize - 1);
    if (page >= mr->npages) {
        return -1;
    }
    /* Only the entries that the max bytes wanted can reach, and no more. */
    want = (in + max + psize - 1) >> mr->page_shift;
    n = want < DBNIC_MR_BATCH ? (uint32_t)want : DBNIC_MR_BATCH;
    if (n > mr->npages - page) {
        n = (uint32_t)(mr->npages - page);
    }
    if (n == 0) {
        n = 1; /* max == 0: the first page still names the address */
    }
    if (c->ops->dma_read(c->opaque, mr->pages + 8 * page, entry, 8 * n)) {
        return -1;
    }
    base = dbnic_le64(entry[0]) & ~(psize - 1);
    for (k = 1; k < n; k++) {
        if ((dbnic_le64(entry[k]) & ~(psize - 1)) != base + k * psize) {
            break;
        }
    }
    *dma = base + in;
    *len = k * psize - in < max ? (uint32_t)(k * psize - in) : max;
    return 0;
}

/*
 * Free an entry.  It keeps its generation, so its keys stay dead; an
 * entry whose generation is spent is retired rather than let the 16-bit
 * generation wrap into a key that was handed out before.
 */
static void mr_release(struct dbnic_mr *mr)
{
    mr->in_use = false;
    if (mr->gen == DBNIC_GET(DBNIC_MR_KEY_GEN_MASK, DBNIC_MR_KEY_GEN)) {
        mr->retired = true;
    }
}

uint8_t dbnic_mr_register(struct dbnic_core *c,
                          const struct dbnic_admin_cmd *cmd, uint32_t *key)
{
    uint64_t iova = dbnic_le64(cmd->reg_mr.iova);
    uint64_t length = dbnic_le64(cmd->reg_mr.length);
    uint64_t pages = dbnic_le64(cmd->reg_mr.pages);
    uint32_t ctx = dbnic_le32(cmd->reg_mr.ctx);
    uint32_t npages = dbnic_le32(cmd->reg_mr.npages);
    uint8_t shift = cmd->reg_mr.page_shift;
    uint8_t access = cmd->reg_mr.access;
    uint64_t fbo;
    uint32_t i;

    if (ctx >= c->cfg.db_pages || !c->ctx[ctx].in_use) {
        return DBNIC_AST_BAD_HANDLE;
    }
    if (shift < DBNIC_MR_PAGE_SHIFT_MIN || shift > DBNIC_MR_PAGE_SHIFT_MAX ||
        npages == 0 || npages > DBNIC_MR_MAX_PAGES || length == 0 ||
        iova + length < iova || !pages || (pages & 7) ||
        (access & ~DBNIC_MR_ACCESS_ALL)) {
        return DBNIC_AST_BAD_PARAM;
    }
    fbo = iova & ((1ull << shift) - 1);
    if (((uint64_t)npages << shift) < fbo + length) {
        return DBNIC_AST_BAD_PARAM;
    }

    for (i = 0; i < c->cfg.max_mr; i++) {
        struct dbnic_mr *mr = &c->mr[i];
        uint16_t gen;

        if (mr->in_use || mr->retired) {
            continue;
        }
        gen = mr->gen + 1;
        memset(mr, 0, sizeof(*mr));
        mr->in_use = true;
        mr->gen = gen;
        mr->ctx = ctx;
        mr->iova = iova;
        mr->length = length;
        mr->pages = pages;
        mr->npages = npages;
        mr->page_shift = shift;
        mr->access = access;
        mr->pd = dbnic_le32(cmd->reg_mr.pd);
        *key = DBNIC_SET(DBNIC_MR_KEY_INDEX, i + 1) |
               DBNIC_SET(DBNIC_MR_KEY_GEN, gen);
        dbnic_tr(c, DBNIC_TR_MR, ctx, *key, length);
        return DBNIC_AST_OK;
    }
    return DBNIC_AST_NO_RESOURCE;
}

uint8_t dbnic_mr_deregister(struct dbnic_core *c, uint32_t key)
{
    struct dbnic_mr *mr = mr_get(c, key);

    if (!mr) {
        return DBNIC_AST_BAD_HANDLE;
    }
    mr_release(mr);
    dbnic_tr(c, DBNIC_TR_MR, mr->ctx, key, 0);
    return DBNIC_AST_OK;
}

void dbnic_mr_destroy_ctx(struct dbnic_core *c, uint32_t ctx)
{
    uint32_t i;

    for (i = 0; i < c->cfg.max_mr; i++) {
        if (c->mr[i].in_use && c->mr[i].ctx == ctx) {
            mr_release(&c->mr[i]);
        }
    }
}

/*
 * Reset and disable forget every registration and every key with them
 * (contexts are gone, so no old key can reach a new registration of its
 * own context): generations restart and retired entries come back.
 */
void dbnic_mr_reset(struct dbnic_core *c)
{
    memset(c->mr, 0, sizeof(*c->mr) * c->cfg.max_mr);
}

bool dbnic_rkey_check(struct dbnic_core *c, const struct dbnic_qp *qp,
                      uint32_t rkey, uint64_t va, uint32_t len,
                      uint8_t access)
{
    struct dbnic_mr *mr;

    if (!(qp->access & access) || rkey == 0 || len == 0 || va + len < va) {
        return false;
    }
    mr = mr_get(c, rkey);
    return mr && mr->ctx == qp->ctx && mr->pd == qp->pd &&
           (mr->access & access) && va >= mr->iova &&
           va - mr->iova <= mr->length && len <= mr->length - (va - mr->iova);
}
