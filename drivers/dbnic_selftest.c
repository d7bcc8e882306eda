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
 */

#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dbnic.h"
#include "dbnic_queue.h"

#define ST_TIMEOUT_MS	2000
#define ST_BUF_SIZE	8192
#define ST_CANARY	0x5a
#define ST_PATTERN	0xa1b2c3d4
#define ST_MISMATCH_AT	3333	/* COMPARE prio: first differing byte */
#define ST_REPORT_SIZE	1024

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
	u32 feature;		/* DBNIC_FEAT_* needed, or 0 */
	enum dbnic_path path;
	u8 status;		/* expected */
	u32 byte_count;		/* expected */
};

static const struct st_case st_cases[] = {
	{ "nop ring", DBNIC_OP_NOP, 0, DBNIC_PATH_RING, DBNIC_ST_OK, 0 },
	{ "nop prio", DBNIC_OP_NOP, 0, DBNIC_PATH_PRIO, DBNIC_ST_OK, 0 },
	{ "copy ring", DBNIC_OP_COPY, DBNIC_FEAT_COPY, DBNIC_PATH_RING,
	  DBNIC_ST_OK, ST_TOTAL },
	{ "copy prio", DBNIC_OP_COPY, DBNIC_FEAT_COPY, DBNIC_PATH_PRIO,
	  DBNIC_ST_OK, ST_TOTAL },
	{ "fill ring", DBNIC_OP_FILL, DBNIC_FEAT_FILL, DBNIC_PATH_RING,
	  DBNIC_ST_OK, ST_TOTAL },
	{ "fill prio", DBNIC_OP_FILL, DBNIC_FEAT_FILL, DBNIC_PATH_PRIO,
	  DBNIC_ST_OK, ST_TOTAL },
	{ "compare ring", DBNIC_OP_COMPARE, DBNIC_FEAT_COMPARE, DBNIC_PATH_RING,
	  DBNIC_ST_OK, ST_TOTAL },
	{ "compare prio", DBNIC_OP_COMPARE, DBNIC_FEAT_COMPARE, DBNIC_PATH_PRIO,
	  DBNIC_ST_MISMATCH, ST_MISMATCH_AT },
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
	bool prio = c->path == DBNIC_PATH_PRIO;

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
	else if (!!(w->cqe.flags & DBNIC_CQE_F_PRIO) != prio)
		scnprintf(why, len, "PRIO flag %s",
			  prio ? "missing: ran from the ring" : "set");
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
	bool prio = c->path == DBNIC_PATH_PRIO;
	bool data = c->opcode != DBNIC_OP_NOP;
	unsigned int cnt = prio ? DBNIC_CNT_PRIO_EXEC : DBNIC_CNT_RING_FETCH;
	struct dbnic_desc d;
	struct st_wait w;
	u64 before;
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
	if (dbnic_read_counter(dd, cnt) == before) {
		scnprintf(why, len, "counter %s did not move",
			  dbnic_counter_names[cnt]);
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
	unsigned int i;
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

		if (c->feature && !(dd->caps.features & c->feature)) {
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
		why[0] = '\0';
		ret = st_run_case(dd, c, &b, why, sizeof(why));
		if (ret)
			pass = false;
		n += scnprintf(out + n, ST_REPORT_SIZE - n,
			       ret ? "%s: FAIL (%s)\n" : "%s: ok\n", c->name, why);
	}
	mutex_unlock(&dd->selftest_lock);

	n += scnprintf(out + n, ST_REPORT_SIZE - n, "selftest: %s\n",
		       pass ? "PASS" : "FAIL");
	st_free(&b);
	*len = n;
	return out;
}
