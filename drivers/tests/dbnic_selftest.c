// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic self-test, run by reading debugfs "selftest".
 *
 * On the kernel queue it posts NOP, COPY, FILL and COMPARE, each through
 * the ring and through the priority area, waits for every completion and
 * checks: the CQE (status, index, queue, byte count, PRIO flag set exactly
 * for priority posts), the destination buffer byte for byte (COPY gathers
 * three source ranges and scatters them to two destination ranges; bytes
 * outside the ranges must not change) and that the device counter of the
 * path moved.  Opcodes the device does not report are skipped.
 *
 * A priority post that the device let fall back to the ring (allowed, if
 * rare) is tried again, up to ST_TRIES times.  A COPY whose priority write
 * is left half done must run from the ring.  Then a burst of NOPs wraps
 * every ring index.  Last, on a device with an event queue, a queue of
 * its own overflows its CQ: the request waiting on it fails with
 * ST_FLUSHED and the queue refuses posts (datasheet section 6.1).
 */

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dbnic.h"
#include "dbnic_queue.h"
#include "dbnic_test.h"

#define ST_TIMEOUT_MS	2000
#define ST_BUF_SIZE	8192
#define ST_CANARY	0x5a
#define ST_PATTERN	0xa1b2c3d4
#define ST_MISMATCH_AT	3333	/* COMPARE prio: first differing byte */
#define ST_REPORT_SIZE	1024
#define ST_TRIES	3	/* a priority case that fell back runs again */

/* Ranges inside the source and destination buffers: 5000 bytes each. */
struct st_range {
	unsigned int off, len;
};

static const struct st_range st_src[] = {
	{ 0, 1000 }, { 1536, 2500 }, { 4608, 1500 },
};

static const struct st_range st_dst[] = {
	{ 64, 3000 }, { 4160, 2000 },
};

#define ST_TOTAL	5000

struct st_case {
	const char *name;
	u8 opcode;
	u32 feature;		/* DBNIC_FEAT_* needed */
	enum dbnic_path path;
	u8 status;		/* expected CQE */
	u32 byte_count;
	bool prio;		/* expected PRIO flag */
	enum dbnic_counter counter;	/* must move */
};

#define ST_RING(n, op, feat, st, bytes)					\
	{ n, op, feat, DBNIC_PATH_RING, st, bytes, false, DBNIC_CNT_RING_FETCH }
#define ST_PRIO(n, op, feat, st, bytes)					\
	{ n, op, (feat) | DBNIC_FEAT_PRIORITY, DBNIC_PATH_PRIO, st, bytes,	\
	  true, DBNIC_CNT_PRIO_EXEC }

static const struct st_case st_cases[] = {
	ST_RING("nop ring", DBNIC_OP_NOP, 0, DBNIC_ST_OK, 0),
	ST_PRIO("nop prio", DBNIC_OP_NOP, 0, DBNIC_ST_OK, 0),
	ST_RING("copy ring", DBNIC_OP_COPY, DBNIC_FEAT_COPY, DBNIC_ST_OK,
		ST_TOTAL),
	ST_PRIO("copy prio", DBNIC_OP_COPY, DBNIC_FEAT_COPY, DBNIC_ST_OK,
		ST_TOTAL),
	ST_RING("fill ring", DBNIC_OP_FILL, DBNIC_FEAT_FILL, DBNIC_ST_OK,
		ST_TOTAL),
	ST_PRIO("fill prio", DBNIC_OP_FILL, DBNIC_FEAT_FILL, DBNIC_ST_OK,
		ST_TOTAL),
	ST_RING("compare ring", DBNIC_OP_COMPARE, DBNIC_FEAT_COMPARE,
		DBNIC_ST_OK, ST_TOTAL),
	ST_PRIO("compare prio", DBNIC_OP_COMPARE, DBNIC_FEAT_COMPARE,
		DBNIC_ST_MISMATCH, ST_MISMATCH_AT),
	/* Half a priority write: the device falls back to the ring copy. */
	{ "copy prio-partial", DBNIC_OP_COPY,
	  DBNIC_FEAT_COPY | DBNIC_FEAT_PRIORITY,
	  DBNIC_PATH_PRIO_PARTIAL, DBNIC_ST_OK, ST_TOTAL, false,
	  DBNIC_CNT_PRIO_FALLBACK },
};

struct st_wait {
	struct dbnic_req req;
	struct completion done;
	struct dbnic_cqe cqe;
};

struct st_bufs {
	u8 *src, *dst;
	u8 *ref;		/* what dst must hold afterwards */
	u8 *stream;		/* ST_TOTAL bytes: the gathered sources */
	dma_addr_t src_dma, dst_dma;
	bool mapped;
};

static void st_done(struct dbnic_req *req, const struct dbnic_cqe *cqe)
{
	struct st_wait *w = container_of(req, struct st_wait, req);

	w->cqe = *cqe;
	complete(&w->done);
}

/* Write the linear @stream into the destination ranges of @buf. */
static void st_scatter(u8 *buf, const u8 *stream)
{
	unsigned int i, pos = 0;

	for (i = 0; i < ARRAY_SIZE(st_dst); i++) {
		memcpy(buf + st_dst[i].off, stream + pos, st_dst[i].len);
		pos += st_dst[i].len;
	}
}

/*
 * Prepare the buffers of one case: the source and destination contents
 * and, in ref, the destination expected afterwards.
 */
static void st_prepare(struct st_bufs *b, const struct st_case *c)
{
	unsigned int i, pos = 0;

	get_random_bytes(b->src, ST_BUF_SIZE);
	memset(b->dst, ST_CANARY, ST_BUF_SIZE);
	for (i = 0; i < ARRAY_SIZE(st_src); i++) {
		memcpy(b->stream + pos, b->src + st_src[i].off, st_src[i].len);
		pos += st_src[i].len;
	}

	switch (c->opcode) {
	case DBNIC_OP_COPY:
		memcpy(b->ref, b->dst, ST_BUF_SIZE);
		st_scatter(b->ref, b->stream);
		break;
	case DBNIC_OP_FILL:
		for (i = 0; i < ST_TOTAL; i++)
			b->stream[i] = ST_PATTERN >> (8 * (i % 4));
		memcpy(b->ref, b->dst, ST_BUF_SIZE);
		st_scatter(b->ref, b->stream);
		break;
	case DBNIC_OP_COMPARE:
		/* The destination holds the same bytes, or one differs. */
		if (c->status == DBNIC_ST_MISMATCH)
			b->stream[ST_MISMATCH_AT] ^= 0x10;
		st_scatter(b->dst, b->stream);
		memcpy(b->ref, b->dst, ST_BUF_SIZE);
		break;
	}
}

static int st_map(struct device *dev, struct st_bufs *b)
{
	b->src_dma = dma_map_single(dev, b->src, ST_BUF_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, b->src_dma))
		return -ENOMEM;
	/* Bidirectional: the bytes around the ranges must survive. */
	b->dst_dma = dma_map_single(dev, b->dst, ST_BUF_SIZE,
				    DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, b->dst_dma)) {
		dma_unmap_single(dev, b->src_dma, ST_BUF_SIZE, DMA_TO_DEVICE);
		return -ENOMEM;
	}
	b->mapped = true;
	return 0;
}

static void st_unmap(struct device *dev, struct st_bufs *b)
{
	if (!b->mapped)
		return;
	dma_unmap_single(dev, b->src_dma, ST_BUF_SIZE, DMA_TO_DEVICE);
	dma_unmap_single(dev, b->dst_dma, ST_BUF_SIZE, DMA_BIDIRECTIONAL);
	b->mapped = false;
}

static int st_build(struct dbnic_desc *d, const struct st_case *c,
		    const struct st_bufs *b)
{
	struct dbnic_sg src[ARRAY_SIZE(st_src)], dst[ARRAY_SIZE(st_dst)];
	u8 flags = DBNIC_DESC_F_COMPLETION;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(src); i++) {
		src[i].addr = b->src_dma + st_src[i].off;
		src[i].len = st_src[i].len;
	}
	for (i = 0; i < ARRAY_SIZE(dst); i++) {
		dst[i].addr = b->dst_dma + st_dst[i].off;
		dst[i].len = st_dst[i].len;
	}

	switch (c->opcode) {
	case DBNIC_OP_NOP:
		dbnic_desc_nop(d, flags);
		return 0;
	case DBNIC_OP_COPY:
		return dbnic_desc_copy(d, flags, src, ARRAY_SIZE(src), dst,
				       ARRAY_SIZE(dst));
	case DBNIC_OP_FILL:
		return dbnic_desc_fill(d, flags, ST_PATTERN, dst,
				       ARRAY_SIZE(dst));
	case DBNIC_OP_COMPARE:
		return dbnic_desc_compare(d, flags, src, ARRAY_SIZE(src), dst,
					  ARRAY_SIZE(dst));
	default:
		return -EINVAL;
	}
}

static int st_verify_dst(const struct st_bufs *b, char *why, size_t len)
{
	unsigned int i;

	for (i = 0; i < ST_BUF_SIZE; i++)
		if (b->dst[i] != b->ref[i])
			break;
	if (i == ST_BUF_SIZE)
		return 0;
	scnprintf(why, len, "destination byte %u is %#x, expected %#x", i,
		  b->dst[i], b->ref[i]);
	return -EIO;
}

static int st_check_cqe(const struct st_case *c, const struct st_wait *w,
			u16 qid, u16 index, char *why, size_t len)
{
	if (w->cqe.status != c->status)
		scnprintf(why, len, "status %u, expected %u", w->cqe.status,
			  c->status);
	else if (le16_to_cpu(w->cqe.index) != index ||
		 le16_to_cpu(w->cqe.qid) != qid)
		scnprintf(why, len, "CQE for queue %u index %u, posted %u/%u",
			  le16_to_cpu(w->cqe.qid), le16_to_cpu(w->cqe.index),
			  qid, index);
	else if (le32_to_cpu(w->cqe.byte_count) != c->byte_count)
		scnprintf(why, len, "byte_count %u, expected %u",
			  le32_to_cpu(w->cqe.byte_count), c->byte_count);
	else if (!!(w->cqe.flags & DBNIC_CQE_F_PRIO) != c->prio)
		scnprintf(why, len, "PRIO flag %s",
			  c->prio ? "missing: ran from the ring" : "set");
	else
		return 0;
	return -EIO;
}

/* Run one case; on failure describe it in @why. */
static int st_run_case(struct dbnic_dev *dd, const struct st_case *c,
		       struct st_bufs *b, char *why, size_t len)
{
	struct device *dev = dbnic_to_dev(dd);
	struct dbnic_queue *q = dd->kq;
	bool prio = c->path != DBNIC_PATH_RING;
	bool data = c->opcode != DBNIC_OP_NOP;
	unsigned int cnt = c->counter;
	struct dbnic_desc d;
	struct st_wait w;
	u64 before, fallbacks;
	u16 index;
	int ret;

	if (prio && !dd->prio) {
		scnprintf(why, len, "device has no priority area");
		return -EOPNOTSUPP;
	}
	if (data) {
		st_prepare(b, c);
		ret = st_map(dev, b);
		if (ret) {
			scnprintf(why, len, "DMA mapping failed");
			return ret;
		}
	}
	ret = st_build(&d, c, b);
	if (ret) {
		scnprintf(why, len, "cannot build descriptor (%d)", ret);
		goto unmap;
	}

	init_completion(&w.done);
	w.req.done = st_done;
	before = dbnic_read_counter(dd, cnt);
	fallbacks = dbnic_read_counter(dd, DBNIC_CNT_PRIO_FALLBACK);
	ret = dbnic_queue_post(q, &d, c->path, &w.req, &index);
	if (ret) {
		scnprintf(why, len, "post failed (%d)", ret);
		goto unmap;
	}
	if (!wait_for_completion_timeout(&w.done,
					 msecs_to_jiffies(ST_TIMEOUT_MS)) &&
	    dbnic_queue_cancel(q, index, &w.req)) {
		scnprintf(why, len, "no completion for index %u in %u ms",
			  index, ST_TIMEOUT_MS);
		if (data) {
			/* The device may still use the buffers: leak them. */
			b->mapped = false;
			b->src = NULL;
			b->dst = NULL;
		}
		return -ETIMEDOUT;
	}
	if (c->prio && !(w.cqe.flags & DBNIC_CQE_F_PRIO) &&
	    dbnic_read_counter(dd, DBNIC_CNT_PRIO_FALLBACK) != fallbacks) {
		/*
		 * Allowed: the device fell back to the ring copy, e.g. when
		 * the write stalled for the flush timeout.  Worth a retry.
		 */
		scnprintf(why, len, "the priority write fell back to the ring");
		ret = -EAGAIN;
		goto unmap;
	}
	if (dbnic_read_counter(dd, cnt) == before) {
		scnprintf(why, len, "counter %s did not move",
			  dbnic_counter_name(cnt));
		ret = -EIO;
		goto unmap;
	}
	ret = st_check_cqe(c, &w, q->sq.qid, index, why, len);
	if (ret)
		goto unmap;
	if (data) {
		st_unmap(dev, b);
		ret = st_verify_dst(b, why, len);
	}
	return ret;

unmap:
	if (data)
		st_unmap(dev, b);
	return ret;
}

/*
 * Burst: more NOPs than the send queue (and its completion queue) holds,
 * every third through the priority area, posted as fast as the ring has
 * room: the indices, the CQ phase and sq_head all wrap.
 */
#define ST_BURST	1200

struct st_burst_req {
	struct dbnic_req req;
	struct st_burst *burst;
	bool posted;
	bool prio;
};

struct st_burst {
	struct st_burst_req *reqs;
	atomic_t done;
	atomic_t bad;
	atomic_t ran_prio;
	u32 first_bad;		/* status | flags << 8 | index << 16 */
	struct completion all;
};

static void st_burst_done(struct dbnic_req *req, const struct dbnic_cqe *cqe)
{
	struct st_burst_req *r = container_of(req, struct st_burst_req, req);
	struct st_burst *b = r->burst;

	/*
	 * A complete priority copy may still run from the ring (the device
	 * falls back when its priority lane is full), never the reverse.
	 */
	if (cqe->status != DBNIC_ST_OK ||
	    (!r->prio && (cqe->flags & DBNIC_CQE_F_PRIO))) {
		if (atomic_inc_return(&b->bad) == 1)
			b->first_bad = cqe->status | cqe->flags << 8 |
				       (u32)le16_to_cpu(cqe->index) << 16;
	}
	if (cqe->flags & DBNIC_CQE_F_PRIO)
		atomic_inc(&b->ran_prio);
	if (atomic_inc_return(&b->done) == ST_BURST)
		complete(&b->all);
}

static int st_run_burst(struct dbnic_dev *dd, char *why, size_t len)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(10 * ST_TIMEOUT_MS);
	struct dbnic_queue *q = dd->kq;
	struct st_burst b = { };
	struct dbnic_desc d;
	unsigned int i;
	int ret = 0;

	b.reqs = kcalloc(ST_BURST, sizeof(*b.reqs), GFP_KERNEL);
	if (!b.reqs) {
		scnprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	atomic_set(&b.done, 0);
	atomic_set(&b.bad, 0);
	atomic_set(&b.ran_prio, 0);
	init_completion(&b.all);

	for (i = 0; i < ST_BURST && !ret; ) {
		struct st_burst_req *r = &b.reqs[i];

		r->burst = &b;
		r->req.done = st_burst_done;
		r->prio = dd->prio && i % 3 == 0;
		dbnic_desc_nop(&d, DBNIC_DESC_F_COMPLETION);
		ret = dbnic_queue_post(q, &d, r->prio ? DBNIC_PATH_PRIO :
					DBNIC_PATH_RING, &r->req, &r->req.index);
		if (!ret) {
			r->posted = true;
			i++;
		} else if ((ret == -ENOSPC || ret == -EBUSY) &&
			   time_before(jiffies, deadline)) {
			/* The ring is full: let completions free it. */
			usleep_range(50, 100);
			ret = 0;
		} else {
			scnprintf(why, len, "post %u failed (%d)", i, ret);
		}
	}
	if (!ret && !wait_for_completion_timeout(&b.all,
						 msecs_to_jiffies(ST_TIMEOUT_MS))) {
		scnprintf(why, len, "%d of %u completions",
			  atomic_read(&b.done), ST_BURST);
		ret = -ETIMEDOUT;
	}
	/* Nothing may call back into b once it is gone. */
	for (i = 0; i < ST_BURST; i++)
		if (b.reqs[i].posted)
			dbnic_queue_cancel(q, b.reqs[i].req.index,
					   &b.reqs[i].req);
	if (!ret && atomic_read(&b.bad)) {
		scnprintf(why, len, "%d bad CQEs, first: index %u status %u flags %#x",
			  atomic_read(&b.bad), b.first_bad >> 16,
			  b.first_bad & 0xff, (b.first_bad >> 8) & 0xff);
		ret = -EIO;
	}
	if (!ret && dd->prio && !atomic_read(&b.ran_prio)) {
		scnprintf(why, len, "no descriptor ran from the priority lane");
		ret = -EIO;
	}
	kfree(b.reqs);
	return ret;
}

/* Wait until the device has written CQE @index of @q's CQ. */
static bool st_cqe_written(struct dbnic_queue *q, u16 index)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(ST_TIMEOUT_MS);
	const struct dbnic_cqe *e =
		&q->cq.cqes[dbnic_ring_slot(index, q->cq.log_size)];

	while ((READ_ONCE(e->flags) & DBNIC_CQE_F_PHASE) !=
	       dbnic_cq_phase(index, q->cq.log_size)) {
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(50, 100);
	}
	return true;
}

/*
 * A polled queue of 2 entries and a CQ of 4 that nobody reaps.  Four
 * descriptors of its zeroed ring (BAD_DESC each) fill the CQ; then a NOP
 * posted with a callback needs a fifth entry: the CQ enters the error
 * state, the event reaches dbnic_queue_cq_error(), and the callback gets
 * ST_FLUSHED once the SQ is destroyed.  Later posts get -EIO.
 */
static int st_run_cq_error(struct dbnic_dev *dd, char *why, size_t len)
{
	struct dbnic_queue *q;
	struct st_wait w = { };
	struct dbnic_desc d;
	unsigned long flags;
	u16 pi, index;
	int ret;

	q = dbnic_queue_create(dd, DBNIC_LOG_RING_MIN, DBNIC_CQ_NO_VECTOR, 0);
	if (IS_ERR(q)) {
		scnprintf(why, len, "queue not created (%ld)", PTR_ERR(q));
		return PTR_ERR(q);
	}
	for (pi = 2; pi <= 4; pi += 2) {
		writel(dbnic_db_sq_val(q->sq.qid, pi), dd->db + DBNIC_DB_SQ);
		if (!st_cqe_written(q, pi - 1)) {
			scnprintf(why, len, "CQE %u not written", pi - 1);
			ret = -ETIMEDOUT;
			goto out;
		}
	}
	/*
	 * The driver's bookkeeping follows the raw doorbells, and passes the
	 * four CQEs without telling the device, whose CQ stays full.
	 */
	spin_lock_irqsave(&q->lock, flags);
	q->sq.pi = 4;
	q->sq.head = 4;
	q->cq.ci = 4;
	q->cq.ci_told = 4;
	spin_unlock_irqrestore(&q->lock, flags);

	init_completion(&w.done);
	w.req.done = st_done;
	dbnic_desc_nop(&d, DBNIC_DESC_F_COMPLETION);
	ret = dbnic_queue_post(q, &d, DBNIC_PATH_RING, &w.req, &w.req.index);
	if (ret) {
		scnprintf(why, len, "post failed (%d)", ret);
		goto out;
	}
	if (!wait_for_completion_timeout(&w.done,
					 msecs_to_jiffies(ST_TIMEOUT_MS))) {
		dbnic_queue_cancel(q, w.req.index, &w.req);
		scnprintf(why, len, "request not failed after the CQ error");
		ret = -ETIMEDOUT;
		goto out;
	}
	if (w.cqe.status != DBNIC_ST_FLUSHED) {
		scnprintf(why, len, "request status %u, want FLUSHED",
			  w.cqe.status);
		ret = -EIO;
		goto out;
	}
	ret = dbnic_queue_post(q, &d, DBNIC_PATH_RING, NULL, &index);
	if (ret != -EIO) {
		scnprintf(why, len, "post after the error: %d, want -EIO", ret);
		ret = -EIO;
		goto out;
	}
	ret = 0;
out:
	dbnic_queue_stop(q);
	dbnic_queue_free(q);
	return ret;
}

static void st_free(struct st_bufs *b)
{
	kfree(b->src);
	kfree(b->dst);
	kfree(b->ref);
	kfree(b->stream);
}

/**
 * dbnic_selftest_run - run the self-test on the kernel queue
 * @dd: the device
 * @len: length of the report
 *
 * Return: the report (kfree() it), one line per case and a last line
 * "selftest: PASS" or "selftest: FAIL"; NULL if out of memory.
 */
char *dbnic_selftest_run(struct dbnic_dev *dd, size_t *len)
{
	struct st_bufs b = { };
	char why[96];
	size_t n = 0;
	bool pass = true;
	unsigned int i, tries;
	char *out;

	out = kzalloc(ST_REPORT_SIZE, GFP_KERNEL);
	b.src = kmalloc(ST_BUF_SIZE, GFP_KERNEL);
	b.dst = kmalloc(ST_BUF_SIZE, GFP_KERNEL);
	b.ref = kmalloc(ST_BUF_SIZE, GFP_KERNEL);
	b.stream = kmalloc(ST_TOTAL, GFP_KERNEL);
	if (!out || !b.src || !b.dst || !b.ref || !b.stream) {
		kfree(out);
		st_free(&b);
		return NULL;
	}

	mutex_lock(&dd->selftest_lock);
	for (i = 0; i < ARRAY_SIZE(st_cases); i++) {
		const struct st_case *c = &st_cases[i];
		int ret;

		if ((dd->caps.features & c->feature) != c->feature) {
			n += scnprintf(out + n, ST_REPORT_SIZE - n,
				       "%s: skipped (not supported)\n", c->name);
			continue;
		}
		if (!b.src) {
			n += scnprintf(out + n, ST_REPORT_SIZE - n,
				       "%s: FAIL (not run: buffers lost)\n",
				       c->name);
			pass = false;
			continue;
		}
		for (tries = 1; ; tries++) {
			why[0] = '\0';
			ret = st_run_case(dd, c, &b, why, sizeof(why));
			if (ret != -EAGAIN || tries == ST_TRIES || !b.src)
				break;
		}
		if (ret) {
			pass = false;
			n += scnprintf(out + n, ST_REPORT_SIZE - n,
				       "%s: FAIL (%s)\n", c->name, why);
		} else if (tries > 1) {
			n += scnprintf(out + n, ST_REPORT_SIZE - n,
				       "%s: ok (try %u: fell back before)\n",
				       c->name, tries);
		} else {
			n += scnprintf(out + n, ST_REPORT_SIZE - n, "%s: ok\n",
				       c->name);
		}
	}
	why[0] = '\0';
	if (st_run_burst(dd, why, sizeof(why))) {
		pass = false;
		n += scnprintf(out + n, ST_REPORT_SIZE - n,
			       "burst %u ring+prio: FAIL (%s)\n", ST_BURST, why);
	} else {
		n += scnprintf(out + n, ST_REPORT_SIZE - n,
			       "burst %u ring+prio: ok\n", ST_BURST);
	}
	why[0] = '\0';
	if (!(dd->caps.features & DBNIC_FEAT_EQ)) {
		n += scnprintf(out + n, ST_REPORT_SIZE - n,
			       "cq error: skipped (no event queue)\n");
	} else if (st_run_cq_error(dd, why, sizeof(why))) {
		pass = false;
		n += scnprintf(out + n, ST_REPORT_SIZE - n,
			       "cq error: FAIL (%s)\n", why);
	} else {
		n += scnprintf(out + n, ST_REPORT_SIZE - n, "cq error: ok\n");
	}
	mutex_unlock(&dd->selftest_lock);

	n += scnprintf(out + n, ST_REPORT_SIZE - n, "selftest: %s\n",
		       pass ? "PASS" : "FAIL");
	st_free(&b);
	*len = n;
	return out;
}
