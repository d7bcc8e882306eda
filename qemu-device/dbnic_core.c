/*
 * dbnic device core: registers, doorbells, priority slots, queues and the
 * execution engine.  See docs/hardware.md; dbnic_core.h explains the split
 * from the QEMU glue.
 *
 * Everything here is reachable from guest writes, so every index, length
 * and address from the guest is checked before use: a bad guest gets an
 * error completion or a counter, never a crash.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "dbnic_core.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define le16_val(x)	__builtin_bswap16(x)
#define le32_val(x)	__builtin_bswap32(x)
#define le64_val(x)	__builtin_bswap64(x)
#else
#define le16_val(x)	((uint16_t)(x))
#define le32_val(x)	((uint32_t)(x))
#define le64_val(x)	((uint64_t)(x))
#endif
/* The conversions are their own inverses. */
#define cpu_to_le16_val(x)	le16_val(x)
#define cpu_to_le32_val(x)	le32_val(x)

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static void trace(struct dbnic_core *c, enum dbnic_trace_event ev,
		  uint32_t a, uint32_t b, uint64_t d)
{
	if (c->ops->trace)
		c->ops->trace(c->opaque, ev, a, b, d);
}

static void count(struct dbnic_core *c, enum dbnic_counter i)
{
	c->counters[i]++;
}

static uint64_t now_ns(struct dbnic_core *c)
{
	return c->ops->clock_ns(c->opaque);
}

static bool ready(const struct dbnic_core *c)
{
	return c->status & DBNIC_STATUS_READY;
}

static void raise_irq(struct dbnic_core *c, unsigned int vector)
{
	count(c, DBNIC_CNT_INTERRUPTS);
	trace(c, DBNIC_TR_IRQ, vector, 0, 0);
	c->ops->irq(c->opaque, vector);
}

/*
 * Latch an async error.  Vector 0 fires only when the ERROR cause goes
 * from clear to set, so a guest hammering bad doorbells cannot turn the
 * device into an interrupt storm: the host sees one interrupt until it
 * acknowledges the cause.
 */
static void async_error(struct dbnic_core *c, enum dbnic_async_err code,
			uint32_t ctx, uint32_t qid)
{
	bool was_set = c->intr_cause & DBNIC_INTR_ERROR;

	c->err = DBNIC_SET(DBNIC_ERR_CODE, code) | DBNIC_SET(DBNIC_ERR_CTX, ctx) |
		 DBNIC_SET(DBNIC_ERR_QID, qid);
	c->intr_cause |= DBNIC_INTR_ERROR;
	if (!was_set)
		raise_irq(c, 0);
}

/* ------------------------------------------------------------------ */
/* Object lookup                                                       */
/* ------------------------------------------------------------------ */

static struct dbnic_sq *sq_get(struct dbnic_core *c, uint32_t qid)
{
	if (qid >= c->cfg.max_sq || !c->sq[qid].in_use)
		return NULL;
	return &c->sq[qid];
}

static struct dbnic_cq *cq_get(struct dbnic_core *c, uint32_t cqn)
{
	if (cqn >= c->cfg.max_cq || !c->cq[cqn].in_use)
		return NULL;
	return &c->cq[cqn];
}

static uint32_t sq_size(const struct dbnic_sq *sq)
{
	return 1u << sq->log_size;
}

static bool prio_owned(const struct dbnic_sq *sq, uint16_t index)
{
	uint32_t s = dbnic_ring_slot(index, sq->log_size);

	return sq->prio_owned[s / 8] & (1u << (s % 8));
}

static void set_prio_owned(struct dbnic_sq *sq, uint16_t index, bool on)
{
	uint32_t s = dbnic_ring_slot(index, sq->log_size);

	if (on)
		sq->prio_owned[s / 8] |= 1u << (s % 8);
	else
		sq->prio_owned[s / 8] &= ~(1u << (s % 8));
}

/*
 * The ring lane passes slots whose descriptor belongs to the priority lane
 * as soon as it reaches them, without reading them, so that sq_head in the
 * next CQE already frees them for the host.
 */
static void ring_lane_skip(struct dbnic_core *c, struct dbnic_sq *sq,
			   uint32_t qid)
{
	while (sq->ci != sq->pi && prio_owned(sq, sq->ci)) {
		set_prio_owned(sq, sq->ci, false);
		count(c, DBNIC_CNT_RING_SKIP);
		trace(c, DBNIC_TR_RING_SKIP, qid, sq->ci, 0);
		sq->ci++;
	}
}

/* ------------------------------------------------------------------ */
/* Completions                                                         */
/* ------------------------------------------------------------------ */

/* Write a 16-byte entry in two parts so that the flags byte lands last. */
static int write_cqe_bytes(struct dbnic_core *c, uint64_t addr,
			   const void *entry)
{
	const uint8_t *p = entry;

	if (c->ops->dma_write(c->opaque, addr, p, DBNIC_CQE_TAIL_OFFSET))
		return -1;
	return c->ops->dma_write(c->opaque, addr + DBNIC_CQE_TAIL_OFFSET,
				 p + DBNIC_CQE_TAIL_OFFSET,
				 sizeof(struct dbnic_cqe) - DBNIC_CQE_TAIL_OFFSET);
}

static void cq_fire_if_armed(struct dbnic_core *c, struct dbnic_cq *cq)
{
	if (cq->armed && cq->pi != cq->ci) {
		cq->armed = false;
		raise_irq(c, cq->vector);
	}
}

static void complete(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
		     uint16_t index, uint8_t status, uint32_t bytes, bool prio)
{
	struct dbnic_cq *cq = cq_get(c, sq->cqn);
	struct dbnic_cqe cqe;
	uint64_t addr;

	if (status != DBNIC_ST_OK)
		count(c, DBNIC_CNT_DESC_ERROR);
	if (!cq)
		return;
	if (dbnic_ring_used(cq->pi, cq->ci) >= (1u << cq->log_size)) {
		count(c, DBNIC_CNT_CQ_OVERFLOW);
		async_error(c, DBNIC_AERR_CQ_OVERFLOW, cq->ctx, qid);
		return;
	}

	memset(&cqe, 0, sizeof(cqe));
	cqe.byte_count = cpu_to_le32_val(bytes);
	cqe.index = cpu_to_le16_val(index);
	cqe.qid = cpu_to_le16_val(qid);
	cqe.sq_head = cpu_to_le16_val(sq->ci);
	cqe.status = status;
	cqe.flags = (dbnic_cq_phase(cq->pi, cq->log_size) ? DBNIC_CQE_F_PHASE : 0) |
		    (prio ? DBNIC_CQE_F_PRIO : 0);

	addr = cq->base + (uint64_t)dbnic_ring_slot(cq->pi, cq->log_size) *
			  sizeof(cqe);
	trace(c, DBNIC_TR_CQE, sq->cqn, index, status);
	if (write_cqe_bytes(c, addr, &cqe)) {
		/* The host gave us a CQ we cannot write: nothing to report to. */
		count(c, DBNIC_CNT_CQ_OVERFLOW);
		async_error(c, DBNIC_AERR_CQ_OVERFLOW, cq->ctx, qid);
		return;
	}
	cq->pi++;
	count(c, DBNIC_CNT_COMPLETIONS);
	cq_fire_if_armed(c, cq);
}

/* ------------------------------------------------------------------ */
/* Descriptor execution                                                */
/* ------------------------------------------------------------------ */

struct sg_cursor {
	const struct dbnic_sge *sge;
	unsigned int n;
	unsigned int i;
	uint32_t off;		/* bytes used of sge[i] */
};

/* Check one SGE list; returns a status, total length in *total. */
static uint8_t check_sges(const struct dbnic_ctx *ctx,
			  const struct dbnic_sge *sge, unsigned int n,
			  uint64_t *total)
{
	unsigned int i;

	*total = 0;
	for (i = 0; i < n; i++) {
		uint64_t addr = le64_val(sge[i].addr);
		uint32_t len = le32_val(sge[i].len);

		if (len == 0)
			return DBNIC_ST_BAD_LENGTH;
		/* v1 has no memory registrations: key 0 only, privileged only. */
		if (le32_val(sge[i].key) != 0 || !ctx->privileged)
			return DBNIC_ST_ACCESS;
		if (addr + len < addr)
			return DBNIC_ST_BAD_LENGTH;
		*total += len;
	}
	return DBNIC_ST_OK;
}

/* Take up to max contiguous bytes from the cursor. */
static uint32_t sg_next(struct sg_cursor *cur, uint32_t max, uint64_t *addr)
{
	const struct dbnic_sge *s = &cur->sge[cur->i];
	uint32_t left = le32_val(s->len) - cur->off;
	uint32_t n = left < max ? left : max;

	*addr = le64_val(s->addr) + cur->off;
	cur->off += n;
	if (cur->off == le32_val(s->len)) {
		cur->i++;
		cur->off = 0;
	}
	return n;
}

static uint8_t exec_copy(struct dbnic_core *c, const struct dbnic_ctx *ctx,
			 const struct dbnic_desc *d, uint32_t *bytes)
{
	unsigned int nsrc = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC);
	unsigned int ndst = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);
	struct sg_cursor src = { .sge = d->sge, .n = nsrc };
	struct sg_cursor dst = { .sge = d->sge + nsrc, .n = ndst };
	uint64_t src_total, dst_total, done = 0;
	uint8_t st;

	if (nsrc == 0 || ndst == 0)
		return DBNIC_ST_BAD_DESC;
	st = check_sges(ctx, src.sge, nsrc, &src_total);
	if (st == DBNIC_ST_OK)
		st = check_sges(ctx, dst.sge, ndst, &dst_total);
	if (st != DBNIC_ST_OK)
		return st;
	if (src_total != dst_total || src_total > DBNIC_MAX_XFER)
		return DBNIC_ST_BAD_LENGTH;

	/*
	 * Stream source ranges into destination ranges through the bounce
	 * buffer, one piece at a time: each piece is the largest run that is
	 * contiguous on both sides.
	 */
	while (done < src_total) {
		uint64_t saddr, daddr;
		uint32_t n, got = 0;

		n = sg_next(&src, sizeof(c->bounce), &saddr);
		if (c->ops->dma_read(c->opaque, saddr, c->bounce, n))
			return DBNIC_ST_DMA_ERROR;
		while (got < n) {
			uint32_t m = sg_next(&dst, n - got, &daddr);

			if (c->ops->dma_write(c->opaque, daddr, c->bounce + got, m))
				return DBNIC_ST_DMA_ERROR;
			got += m;
		}
		done += n;
	}
	*bytes = (uint32_t)done;
	c->counters[DBNIC_CNT_BYTES] += done;
	return DBNIC_ST_OK;
}

/* Validate the shape of a descriptor; returns a status. */
static uint8_t check_shape(const struct dbnic_desc *d, unsigned int max_bytes)
{
	unsigned int nsge = DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_SRC) +
			    DBNIC_GET(d->hdr.nsge, DBNIC_NSGE_DST);

	if (d->hdr.size < 1 || d->hdr.size > DBNIC_DESC_MAX_BLOCKS ||
	    d->hdr.size * DBNIC_DESC_BLOCK_SIZE > max_bytes)
		return DBNIC_ST_BAD_DESC;
	if (nsge > DBNIC_MAX_SGE || dbnic_desc_blocks(nsge) > d->hdr.size)
		return DBNIC_ST_BAD_DESC;
	return DBNIC_ST_OK;
}

static void execute(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
		    const struct dbnic_desc *d, bool prio)
{
	uint16_t index = le16_val(d->hdr.index);
	uint32_t bytes = 0;
	uint8_t st;

	trace(c, DBNIC_TR_EXEC, qid, index, d->hdr.opcode | (prio ? 0x100 : 0));
	st = check_shape(d, 1u << sq->log_stride);
	if (st == DBNIC_ST_OK) {
		switch (d->hdr.opcode) {
		case DBNIC_OP_NOP:
			if (d->hdr.nsge != 0)
				st = DBNIC_ST_BAD_DESC;
			break;
		case DBNIC_OP_COPY:
			st = exec_copy(c, &c->ctx[sq->ctx], d, &bytes);
			break;
		default:
			st = DBNIC_ST_BAD_OPCODE;
			break;
		}
	}
	if (st != DBNIC_ST_OK || (d->hdr.flags & DBNIC_DESC_F_COMPLETION))
		complete(c, sq, qid, index, st, st == DBNIC_ST_OK ? bytes : 0,
			 prio);
}

/* ------------------------------------------------------------------ */
/* Doorbells                                                           */
/* ------------------------------------------------------------------ */

static void refuse(struct dbnic_core *c, uint32_t ctx, uint32_t qid,
		   enum dbnic_async_err why)
{
	count(c, why == DBNIC_AERR_DB_NOT_OWNER ? DBNIC_CNT_DB_NOT_OWNER :
						  DBNIC_CNT_DB_BAD);
	trace(c, DBNIC_TR_DB_REFUSED, ctx, qid, why);
	async_error(c, why, ctx, qid);
}

/* The send queue qid if page ctx may act on it, else NULL (counted). */
static struct dbnic_sq *owned_sq(struct dbnic_core *c, uint32_t ctx,
				 uint32_t qid)
{
	struct dbnic_sq *sq = sq_get(c, qid);

	if (!sq) {
		refuse(c, ctx, qid, DBNIC_AERR_DB_BAD_QUEUE);
		return NULL;
	}
	if (sq->ctx != ctx) {
		refuse(c, ctx, qid, DBNIC_AERR_DB_NOT_OWNER);
		return NULL;
	}
	return sq;
}

/*
 * Move the producer index of an owned queue forward to pi.  Used by DB_SQ
 * and by priority writes, which are doorbells for their index + 1.
 */
static void announce(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid,
		     uint16_t pi)
{
	uint16_t ahead = dbnic_ring_used(pi, sq->ci);

	if (ahead > sq_size(sq)) {
		/*
		 * Past the ring: keep the queue as it was and tell the owner
		 * with an error completion, written by the engine.
		 */
		count(c, DBNIC_CNT_DB_BAD);
		sq->bad_db = true;
		sq->bad_db_pi = pi;
	} else if (ahead > dbnic_ring_used(sq->pi, sq->ci)) {
		sq->pi = pi;
	}
	c->ops->schedule(c->opaque);
}

static void db_sq(struct dbnic_core *c, uint32_t ctx, uint32_t val)
{
	uint32_t qid = DBNIC_GET(val, DBNIC_DB_SQ_QID);
	uint16_t pi = DBNIC_GET(val, DBNIC_DB_SQ_PI);
	struct dbnic_sq *sq;

	trace(c, DBNIC_TR_DB_SQ, ctx, qid, pi);
	sq = owned_sq(c, ctx, qid);
	if (sq)
		announce(c, sq, qid, pi);
}

static void db_cq(struct dbnic_core *c, uint32_t ctx, uint32_t val)
{
	uint32_t cqn = DBNIC_GET(val, DBNIC_DB_CQ_CQN);
	uint16_t ci = DBNIC_GET(val, DBNIC_DB_CQ_CI);
	struct dbnic_cq *cq = cq_get(c, cqn);

	trace(c, DBNIC_TR_DB_CQ, ctx, cqn, ci | (val & DBNIC_DB_CQ_ARM ? 1u << 16 : 0));
	if (!cq) {
		refuse(c, ctx, cqn, DBNIC_AERR_DB_BAD_QUEUE);
		return;
	}
	if (cq->ctx != ctx) {
		refuse(c, ctx, cqn, DBNIC_AERR_DB_NOT_OWNER);
		return;
	}
	/* The consumer may only move forward, and not past the producer. */
	if (dbnic_ring_used(ci, cq->ci) > dbnic_ring_used(cq->pi, cq->ci)) {
		refuse(c, ctx, cqn, DBNIC_AERR_DB_BAD_ACCESS);
		return;
	}
	cq->ci = ci;
	if (val & DBNIC_DB_CQ_ARM) {
		cq->armed = true;
		cq_fire_if_armed(c, cq);
	}
}

/* ------------------------------------------------------------------ */
/* Priority slots                                                      */
/* ------------------------------------------------------------------ */

static void slot_clear(struct dbnic_core *c, struct dbnic_prio_slot *s)
{
	if (s->written)
		c->prio_partial--;
	s->written = 0;
}

static const struct dbnic_desc_hdr *slot_hdr(const struct dbnic_prio_slot *s)
{
	return (const struct dbnic_desc_hdr *)s->buf;
}

/* Header words present: bytes 0..7 name queue, index and size. */
static bool slot_has_hdr(const struct dbnic_prio_slot *s)
{
	return (s->written & 0x3) == 0x3;
}

/*
 * An assembly that cannot run as it is falls back to the ring copy: its
 * header, if any, is a doorbell for index + 1.
 */
static void slot_fall_back(struct dbnic_core *c, uint32_t ctx,
			   struct dbnic_prio_slot *s, unsigned int slot)
{
	if (slot_has_hdr(s)) {
		const struct dbnic_desc_hdr *h = slot_hdr(s);
		uint32_t qid = le16_val(h->qid);
		uint16_t index = le16_val(h->index);
		struct dbnic_sq *sq;

		count(c, DBNIC_CNT_PRIO_FALLBACK);
		trace(c, DBNIC_TR_PRIO_FALLBACK, ctx, qid, index);
		sq = owned_sq(c, ctx, qid);
		if (sq)
			announce(c, sq, qid, index + 1);
	} else {
		count(c, DBNIC_CNT_PRIO_TORN);
		trace(c, DBNIC_TR_PRIO_TORN, ctx, slot, s->written);
	}
	slot_clear(c, s);
}

/* A complete, checksummed priority copy: put it on its queue's lane. */
static void slot_queue(struct dbnic_core *c, uint32_t ctx,
		       struct dbnic_prio_slot *s)
{
	const struct dbnic_desc_hdr *h = slot_hdr(s);
	uint32_t qid = le16_val(h->qid);
	uint16_t index = le16_val(h->index);
	struct dbnic_sq *sq = owned_sq(c, ctx, qid);
	unsigned int tail;

	if (!sq) {
		/* Not this page's queue: drop it, announce nothing. */
		slot_clear(c, s);
		return;
	}
	if (dbnic_ring_used(index, sq->ci) >= sq_size(sq) ||
	    prio_owned(sq, index)) {
		/* Already run (or past the ring): never run twice. */
		count(c, DBNIC_CNT_PRIO_STALE);
		trace(c, DBNIC_TR_PRIO_STALE, ctx, qid, index);
		announce(c, sq, qid, index + 1);
		slot_clear(c, s);
		return;
	}
	if (sq->lane_len == DBNIC_CORE_PRIO_LANE) {
		/* Lane full: the ring copy will do. */
		slot_fall_back(c, ctx, s, 0);
		return;
	}

	tail = (sq->lane_head + sq->lane_len) % DBNIC_CORE_PRIO_LANE;
	memset(&sq->lane[tail], 0, sizeof(sq->lane[tail]));
	memcpy(&sq->lane[tail], s->buf, h->size * DBNIC_DESC_BLOCK_SIZE);
	sq->lane_len++;
	/* The ring lane will pass this slot without reading it. */
	set_prio_owned(sq, index, true);
	trace(c, DBNIC_TR_PRIO_QUEUED, ctx, qid, index);
	slot_clear(c, s);
	announce(c, sq, qid, index + 1);
	ring_lane_skip(c, sq, qid);
}

static void slot_try_complete(struct dbnic_core *c, uint32_t ctx,
			      struct dbnic_prio_slot *s, unsigned int slot)
{
	const struct dbnic_desc_hdr *h = slot_hdr(s);
	unsigned int words, dwords;
	uint64_t need;

	if (!slot_has_hdr(s))
		return;
	if (h->size < 1 || h->size > DBNIC_DESC_MAX_BLOCKS) {
		slot_fall_back(c, ctx, s, slot);
		return;
	}
	words = h->size * DBNIC_DESC_BLOCK_SIZE / 8;
	dwords = words * 2;
	need = dwords >= 64 ? ~0ull : (1ull << dwords) - 1;
	if ((s->written & need) != need)
		return;

	if (dbnic_desc_csum(s->buf, words) != le32_val(h->csum)) {
		/* Every word is there, but not all from the same post. */
		count(c, DBNIC_CNT_PRIO_TORN);
		trace(c, DBNIC_TR_PRIO_TORN, ctx, slot, s->written);
		slot_fall_back(c, ctx, s, slot);
		return;
	}
	slot_queue(c, ctx, s);
}

static void prio_write(struct dbnic_core *c, uint32_t ctx, uint32_t off,
		       uint64_t val, unsigned int size)
{
	unsigned int slot = (off - DBNIC_PRIO_OFFSET) / DBNIC_PRIO_SLOT_SIZE;
	unsigned int byte = (off - DBNIC_PRIO_OFFSET) % DBNIC_PRIO_SLOT_SIZE;
	struct dbnic_prio_slot *s = &c->ctx[ctx].slot[slot];
	uint64_t bits = (size == 8 ? 0x3ull : 0x1ull) << (byte / 4);
	uint64_t t = now_ns(c);
	unsigned int i;

	trace(c, DBNIC_TR_PRIO_WRITE, ctx, slot, byte | size << 16);
	if (s->written && t - s->last_ns >= DBNIC_PRIO_FLUSH_TIMEOUT_NS)
		slot_fall_back(c, ctx, s, slot);
	/* A word written twice: the host has moved on to its next post. */
	if (s->written & bits)
		slot_fall_back(c, ctx, s, slot);

	for (i = 0; i < size; i++)
		s->buf[byte + i] = (uint8_t)(val >> (8 * i));
	if (!s->written)
		c->prio_partial++;
	s->written |= bits;
	s->last_ns = t;

	slot_try_complete(c, ctx, s, slot);
	if (s->written)
		c->ops->timer_mod(c->opaque, t + DBNIC_PRIO_FLUSH_TIMEOUT_NS);
}

void dbnic_core_timer(struct dbnic_core *c)
{
	uint64_t t = now_ns(c), next = 0;
	uint32_t p;
	unsigned int i;

	for (p = 0; p < c->cfg.db_pages && c->prio_partial; p++) {
		for (i = 0; i < DBNIC_PRIO_SLOTS; i++) {
			struct dbnic_prio_slot *s = &c->ctx[p].slot[i];
			uint64_t due = s->last_ns + DBNIC_PRIO_FLUSH_TIMEOUT_NS;

			if (!s->written)
				continue;
			if (t >= due)
				slot_fall_back(c, p, s, i);
			else if (!next || due < next)
				next = due;
		}
	}
	if (next)
		c->ops->timer_mod(c->opaque, next);
}

void dbnic_core_db_write(struct dbnic_core *c, uint64_t off, uint64_t val,
			 unsigned int size)
{
	uint32_t ctx = off >> DBNIC_DB_PAGE_SHIFT;
	uint32_t in = off & (DBNIC_DB_PAGE_SIZE - 1);

	if (!ready(c) || ctx >= c->cfg.db_pages)
		return;
	if ((size != 4 && size != 8) || (in & (size - 1)))
		goto bad;

	if (in >= DBNIC_PRIO_OFFSET) {
		/* An unused page has no queues; its writes go nowhere. */
		if (!c->ctx[ctx].in_use)
			return;
		prio_write(c, ctx, in, val, size);
		return;
	}
	if (size != 4)
		goto bad;
	switch (in) {
	case DBNIC_DB_SQ:
		db_sq(c, ctx, (uint32_t)val);
		return;
	case DBNIC_DB_CQ:
		db_cq(c, ctx, (uint32_t)val);
		return;
	}
bad:
	trace(c, DBNIC_TR_BAD_ACCESS, DBNIC_BAR_DB, (uint32_t)off, size);
	refuse(c, ctx, 0, DBNIC_AERR_DB_BAD_ACCESS);
}

uint64_t dbnic_core_db_bar_size(const struct dbnic_core *c)
{
	uint64_t size = (uint64_t)c->cfg.db_pages << DBNIC_DB_PAGE_SHIFT;
	uint64_t pow2 = DBNIC_DB_PAGE_SIZE;

	while (pow2 < size)
		pow2 <<= 1;
	return pow2;
}

/* ------------------------------------------------------------------ */
/* Execution engine                                                    */
/* ------------------------------------------------------------------ */

/*
 * A FENCE descriptor on the priority lane waits until the ring lane has
 * passed every lower index.
 */
static bool lane_head_blocked(const struct dbnic_sq *sq)
{
	const struct dbnic_desc *d = &sq->lane[sq->lane_head];
	uint16_t index = le16_val(d->hdr.index);

	return (d->hdr.flags & DBNIC_DESC_F_FENCE) &&
	       dbnic_ring_used(index, sq->ci) < sq_size(sq) && index != sq->ci;
}

static bool run_lane(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid)
{
	struct dbnic_desc d;

	if (sq->bad_db) {
		sq->bad_db = false;
		complete(c, sq, qid, sq->bad_db_pi, DBNIC_ST_BAD_DOORBELL, 0, false);
	}
	if (!sq->lane_len || lane_head_blocked(sq))
		return false;
	d = sq->lane[sq->lane_head];
	sq->lane_head = (sq->lane_head + 1) % DBNIC_CORE_PRIO_LANE;
	sq->lane_len--;
	count(c, DBNIC_CNT_PRIO_EXEC);
	execute(c, sq, qid, &d, true);
	return true;
}

/* One step of the ring lane; returns payload-free progress. */
static bool run_ring(struct dbnic_core *c, struct dbnic_sq *sq, uint32_t qid)
{
	uint16_t index = sq->ci;
	uint64_t addr;
	struct dbnic_desc d;
	unsigned int len;

	if (sq->ci == sq->pi)
		return false;
	sq->ci++;
	ring_lane_skip(c, sq, qid);

	addr = sq->base + ((uint64_t)dbnic_ring_slot(index, sq->log_size) <<
			   sq->log_stride);
	count(c, DBNIC_CNT_RING_FETCH);
	trace(c, DBNIC_TR_RING_FETCH, qid, index, addr);
	memset(&d, 0, sizeof(d));
	if (c->ops->dma_read(c->opaque, addr, &d.hdr, sizeof(d.hdr))) {
		complete(c, sq, qid, index, DBNIC_ST_DMA_ERROR, 0, false);
		return true;
	}
	if (check_shape(&d, 1u << sq->log_stride) == DBNIC_ST_OK) {
		len = d.hdr.size * DBNIC_DESC_BLOCK_SIZE;
		if (c->ops->dma_read(c->opaque, addr, &d, len)) {
			complete(c, sq, qid, index, DBNIC_ST_DMA_ERROR, 0, false);
			return true;
		}
	}
	if (le16_val(d.hdr.index) != index || le16_val(d.hdr.qid) != qid) {
		complete(c, sq, qid, index, DBNIC_ST_BAD_DESC, 0, false);
		return true;
	}
	execute(c, sq, qid, &d, false);
	return true;
}

/* Admin queue: see below. */
static void run_admin(struct dbnic_core *c);

void dbnic_core_run(struct dbnic_core *c)
{
	unsigned int budget = DBNIC_CORE_RUN_DESCS;
	uint64_t bytes0 = c->counters[DBNIC_CNT_BYTES];
	uint32_t n = c->cfg.max_sq, i;
	bool progress = true;

	if (!ready(c))
		return;
	run_admin(c);

	while (budget && progress &&
	       c->counters[DBNIC_CNT_BYTES] - bytes0 < DBNIC_CORE_RUN_BYTES) {
		progress = false;
		/* Priority lanes first, every queue, every time round. */
		for (i = 0; i < n && budget; i++) {
			struct dbnic_sq *sq = &c->sq[i];

			while (sq->in_use && budget && run_lane(c, sq, i)) {
				budget--;
				progress = true;
			}
		}
		if (progress)
			continue;
		/* Then one ring descriptor per queue, round robin. */
		for (i = 0; i < n && budget; i++) {
			uint32_t q = (c->rr_next + i) % n;
			struct dbnic_sq *sq = &c->sq[q];

			if (sq->in_use && run_ring(c, sq, q)) {
				budget--;
				progress = true;
				/* A waiting priority descriptor may now run. */
				if (sq->lane_len)
					break;
			}
		}
		c->rr_next = (c->rr_next + 1) % n;
	}
	if (!budget || progress)
		c->ops->schedule(c->opaque);	/* more to do: yield, then go on */
}

/* ------------------------------------------------------------------ */
/* Admin queue                                                         */
/* ------------------------------------------------------------------ */

static void sq_destroy(struct dbnic_core *c, uint32_t qid)
{
	struct dbnic_sq *sq = &c->sq[qid];
	struct dbnic_cq *cq = cq_get(c, sq->cqn);

	if (cq)
		cq->users--;
	memset(sq, 0, sizeof(*sq));
}

static void ctx_destroy(struct dbnic_core *c, uint32_t ctx)
{
	uint32_t i;

	for (i = 0; i < c->cfg.max_sq; i++)
		if (c->sq[i].in_use && c->sq[i].ctx == ctx)
			sq_destroy(c, i);
	for (i = 0; i < c->cfg.max_cq; i++)
		if (c->cq[i].in_use && c->cq[i].ctx == ctx)
			memset(&c->cq[i], 0, sizeof(c->cq[i]));
	for (i = 0; i < DBNIC_PRIO_SLOTS; i++)
		slot_clear(c, &c->ctx[ctx].slot[i]);
	memset(&c->ctx[ctx], 0, sizeof(c->ctx[ctx]));
}

static uint8_t adm_create_ctx(struct dbnic_core *c,
			      const struct dbnic_admin_cmd *cmd, uint32_t *res)
{
	uint32_t flags = le32_val(cmd->create_ctx.flags);
	uint32_t i;

	if (flags & ~DBNIC_CTX_F_PRIVILEGED)
		return DBNIC_AST_BAD_PARAM;
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
	uint64_t base = le64_val(cmd->create_cq.base);
	uint32_t ctx = le32_val(cmd->create_cq.ctx);
	uint8_t log = cmd->create_cq.log_size;
	uint16_t vec = le16_val(cmd->create_cq.msix_vector);
	uint32_t i;

	if (!ctx_valid(c, ctx))
		return DBNIC_AST_BAD_HANDLE;
	if (!base || (base & (sizeof(struct dbnic_cqe) - 1)) ||
	    log < DBNIC_LOG_RING_MIN || log > DBNIC_LOG_RING_MAX ||
	    vec >= c->cfg.msix_vectors)
		return DBNIC_AST_BAD_PARAM;
	for (i = 0; i < c->cfg.max_cq; i++) {
		struct dbnic_cq *cq = &c->cq[i];

		if (cq->in_use)
			continue;
		memset(cq, 0, sizeof(*cq));
		cq->in_use = true;
		cq->ctx = ctx;
		cq->base = base;
		cq->log_size = log;
		cq->vector = vec;
		*res = i;
		return DBNIC_AST_OK;
	}
	return DBNIC_AST_NO_RESOURCE;
}

static uint8_t adm_create_sq(struct dbnic_core *c,
			     const struct dbnic_admin_cmd *cmd, uint32_t *res)
{
	uint64_t base = le64_val(cmd->create_sq.base);
	uint32_t ctx = le32_val(cmd->create_sq.ctx);
	uint32_t cqn = le32_val(cmd->create_sq.cqn);
	uint8_t log = cmd->create_sq.log_size;
	uint8_t stride = cmd->create_sq.log_stride;
	struct dbnic_cq *cq;
	uint32_t i;

	if (!ctx_valid(c, ctx))
		return DBNIC_AST_BAD_HANDLE;
	cq = cq_get(c, cqn);
	if (!cq)
		return DBNIC_AST_BAD_HANDLE;
	if (cq->ctx != ctx || !base || (base & (DBNIC_DESC_BLOCK_SIZE - 1)) ||
	    log < DBNIC_LOG_RING_MIN || log > DBNIC_LOG_RING_MAX ||
	    stride < DBNIC_LOG_STRIDE_MIN || stride > DBNIC_LOG_STRIDE_MAX)
		return DBNIC_AST_BAD_PARAM;
	for (i = 0; i < c->cfg.max_sq; i++) {
		struct dbnic_sq *sq = &c->sq[i];

		if (sq->in_use)
			continue;
		memset(sq, 0, sizeof(*sq));
		sq->in_use = true;
		sq->ctx = ctx;
		sq->cqn = cqn;
		sq->base = base;
		sq->log_size = log;
		sq->log_stride = stride;
		cq->users++;
		*res = i;
		return DBNIC_AST_OK;
	}
	return DBNIC_AST_NO_RESOURCE;
}

static uint8_t adm_destroy(struct dbnic_core *c,
			   const struct dbnic_admin_cmd *cmd)
{
	uint32_t h = le32_val(cmd->destroy.handle);

	switch (cmd->opcode) {
	case DBNIC_ADM_DESTROY_CTX:
		if (!ctx_valid(c, h))
			return DBNIC_AST_BAD_HANDLE;
		ctx_destroy(c, h);
		return DBNIC_AST_OK;
	case DBNIC_ADM_DESTROY_CQ:
		if (!cq_get(c, h))
			return DBNIC_AST_BAD_HANDLE;
		if (c->cq[h].users)
			return DBNIC_AST_BUSY;
		memset(&c->cq[h], 0, sizeof(c->cq[h]));
		return DBNIC_AST_OK;
	default: /* DBNIC_ADM_DESTROY_SQ */
		if (!sq_get(c, h))
			return DBNIC_AST_BAD_HANDLE;
		sq_destroy(c, h);
		return DBNIC_AST_OK;
	}
}

static uint8_t admin_exec(struct dbnic_core *c,
			  const struct dbnic_admin_cmd *cmd, uint32_t *res)
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
		return adm_destroy(c, cmd);
	default:
		return DBNIC_AST_BAD_OPCODE;
	}
}

static void admin_fatal(struct dbnic_core *c)
{
	c->status |= DBNIC_STATUS_FATAL;
	async_error(c, DBNIC_AERR_ADMIN, 0, 0);
}

static void run_admin(struct dbnic_core *c)
{
	unsigned int log = c->aq_cfg & DBNIC_AQ_LOG_SIZE_MASK;
	bool posted = false;

	if (c->status & DBNIC_STATUS_FATAL)
		return;
	while (c->aq_ci != c->aq_pi) {
		struct dbnic_admin_cmd cmd;
		struct dbnic_admin_cqe cqe;
		uint32_t res = 0;
		uint64_t addr;

		addr = c->aq_sq_base +
		       (uint64_t)dbnic_ring_slot(c->aq_ci, log) * sizeof(cmd);
		if (c->ops->dma_read(c->opaque, addr, &cmd, sizeof(cmd))) {
			admin_fatal(c);
			return;
		}
		c->aq_ci++;
		memset(&cqe, 0, sizeof(cqe));
		cqe.status = admin_exec(c, &cmd, &res);
		cqe.result = cpu_to_le32_val(res);
		cqe.cmd_id = cmd.cmd_id;
		cqe.sq_head = cpu_to_le16_val(c->aq_ci);
		cqe.flags = dbnic_cq_phase(c->aq_cq_pi, log) ? DBNIC_CQE_F_PHASE : 0;
		count(c, DBNIC_CNT_ADMIN_CMDS);
		trace(c, DBNIC_TR_ADMIN, cmd.opcode, cqe.status, res);

		addr = c->aq_cq_base +
		       (uint64_t)dbnic_ring_slot(c->aq_cq_pi, log) * sizeof(cqe);
		if (write_cqe_bytes(c, addr, &cqe)) {
			admin_fatal(c);
			return;
		}
		c->aq_cq_pi++;
		posted = true;
	}
	if (posted) {
		bool was_set = c->intr_cause & DBNIC_INTR_ADMIN;

		c->intr_cause |= DBNIC_INTR_ADMIN;
		if (!was_set)
			raise_irq(c, 0);
	}
}

/* ------------------------------------------------------------------ */
/* Control registers                                                   */
/* ------------------------------------------------------------------ */

static void destroy_all(struct dbnic_core *c)
{
	uint32_t i;

	for (i = 0; i < c->cfg.db_pages; i++)
		ctx_destroy(c, i);
	c->prio_partial = 0;
	c->aq_pi = c->aq_ci = c->aq_cq_pi = 0;
	c->rr_next = 0;
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
	memset(c->counters, 0, sizeof(c->counters));
}

static void write_ctrl(struct dbnic_core *c, uint32_t val)
{
	unsigned int log = c->aq_cfg & DBNIC_AQ_LOG_SIZE_MASK;

	if (val & DBNIC_CTRL_RESET) {
		dbnic_core_reset(c);
		return;
	}
	if ((val & DBNIC_CTRL_ENABLE) && !(c->ctrl & DBNIC_CTRL_ENABLE)) {
		c->ctrl = DBNIC_CTRL_ENABLE;
		if (log < 1 || log > DBNIC_AQ_LOG_SIZE_MAX ||
		    !c->aq_sq_base || !c->aq_cq_base ||
		    (c->aq_sq_base & (DBNIC_ADMIN_CMD_SIZE - 1)) ||
		    (c->aq_cq_base & (sizeof(struct dbnic_admin_cqe) - 1))) {
			admin_fatal(c);
			return;
		}
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
		return DBNIC_FEAT_PRIORITY | DBNIC_FEAT_COPY;
	case DBNIC_REG_CAP_MAX_XFER:
		return DBNIC_MAX_XFER;
	}
	return 0;
}

uint64_t dbnic_core_ctrl_read(struct dbnic_core *c, uint64_t off,
			      unsigned int size)
{
	uint64_t v = 0;
	uint32_t reg = off & ~7ull;

	if ((size != 4 && size != 8) || (off & (size - 1)) ||
	    off >= DBNIC_CTRL_BAR_SIZE)
		return 0;

	if (off >= DBNIC_REG_COUNTERS &&
	    off < DBNIC_REG_COUNTER(DBNIC_CNT_NUM)) {
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
	default:
		if (size != 4)
			return 0;
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
	if (size == 8)
		*reg = val;
	else if (off & 4)
		*reg = (*reg & 0xffffffffull) | (val << 32);
	else
		*reg = (*reg & ~0xffffffffull) | (uint32_t)val;
}

void dbnic_core_ctrl_write(struct dbnic_core *c, uint64_t off, uint64_t val,
			   unsigned int size)
{
	if ((size != 4 && size != 8) || (off & (size - 1)) ||
	    off >= DBNIC_CTRL_BAR_SIZE)
		return;
	trace(c, DBNIC_TR_REG_WRITE, (uint32_t)off, 0, val);

	switch (off & ~7ull) {
	case DBNIC_REG_AQ_SQ_BASE:
		write64_part(&c->aq_sq_base, off, val, size);
		return;
	case DBNIC_REG_AQ_CQ_BASE:
		write64_part(&c->aq_cq_base, off, val, size);
		return;
	}
	if (size != 4)
		return;
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
	case DBNIC_REG_AQ_DB:
		if (!ready(c))
			break;
		/* More than a ring's worth outstanding: the host is broken. */
		if (dbnic_ring_used((uint16_t)val, c->aq_ci) >
		    (1u << (c->aq_cfg & DBNIC_AQ_LOG_SIZE_MASK))) {
			admin_fatal(c);
			break;
		}
		c->aq_pi = (uint16_t)val;
		c->ops->schedule(c->opaque);
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
	if (cfg->db_pages < 1 || cfg->db_pages > 256 ||
	    cfg->max_sq < 1 || cfg->max_sq > 0xffff ||
	    cfg->max_cq < 1 || cfg->max_cq > 0x7fff ||
	    cfg->msix_vectors < 1 || cfg->msix_vectors > 255)
		return -1;
	c->cfg = *cfg;
	c->ops = ops;
	c->opaque = opaque;
	c->ctx = calloc(cfg->db_pages, sizeof(*c->ctx));
	c->sq = calloc(cfg->max_sq, sizeof(*c->sq));
	c->cq = calloc(cfg->max_cq, sizeof(*c->cq));
	if (!c->ctx || !c->sq || !c->cq) {
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
	c->ctx = NULL;
	c->sq = NULL;
	c->cq = NULL;
}
