// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic benchmark, debugfs "bench".
 *
 * Reading the file runs the benchmark on the kernel queue and returns its
 * tables; writing it sets the parameters of later runs (words "key=value",
 * or "defaults").  It prints numbers: nothing passes or fails on speed.
 *
 * Latency: NOP and a small COPY, announced through the ring (DB_SQ) and
 * through the priority area, at queue depth 1 and at a deep queue depth
 * (qd, 32 by default: that many descriptors kept outstanding).  A sample
 * is the time from just before dbnic_queue_post() to the completion
 * callback (ktime_get_ns()); the table gives their minimum, median and
 * 99th percentile, descriptors per second over the run, the median time
 * of the post call itself, the share that ran from the priority lane and
 * the device's priority fallbacks.  For the run the queue is in polling mode:
 * completions are reaped with dbnic_queue_reap(), without interrupts and
 * without a DB_CQ write per completion.
 *
 * Ring against priority, paired: at queue depth 1 the two paths' posts
 * alternate in one run, and the median over pairs of (ring - priority)
 * estimates what the priority path saves.  Under TCG on a shared host a
 * row's median moves by more between runs than the timing model's
 * round trip; pairs see the same conditions.
 *
 * Bandwidth: COPY of 4 KiB to 4 MiB between two coherent buffers, one
 * descriptor per copy (several if CAP_MAX_XFER is smaller), ring path, at
 * queue depth 1 and qd, against memcpy() of the same sizes in this kernel.
 * The destination is checked after the queue-depth-1 run.  The memcpy()
 * runs between two vmalloc() buffers, not the DMA buffers: those are
 * 4 MiB blocks a multiple of 4 MiB apart, and under TCG a copy between
 * them thrashes QEMU's direct-mapped software TLB (source and destination
 * pages share its entries), which makes it some 15 times slower than the
 * same copy between buffers a page further apart.  A real CPU has no
 * such penalty, so it would be no baseline.
 *
 * MMIO: the mean cost of one no-op DB_CQ write and of one BAR 0 register
 * read, which every post and every counter read pay.
 *
 * Parameters: iters (samples per latency case), qd, copy (bytes of the
 * small COPY), bw_mib (MiB moved per bandwidth size, at least
 * BENCH_BW_MIN_COPIES copies), max_kib (largest bandwidth size), lat and
 * bw (0 or 1: run that part), dither (after each post, spin a random
 * 0 to dither-1 times before polling; 0: off).
 *
 * Under QEMU's -icount the guest's clock counts instructions, so the
 * device's modelled latencies come out exactly, but so does the phase of
 * the polling loop against them: each path would always see its CQE the
 * same fraction of a loop late, a fixed error up to one loop period.
 * dither spreads that phase evenly over both paths.  dev_saved_ns, in the
 * paired rows, also takes the post calls' own times out of each sample
 * (the priority copy's extra stores and checksum are CPU time, not
 * device time), leaving what the device saves.
 */

#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "dbnic.h"
#include "dbnic_queue.h"
#include "dbnic_test.h"

#define BENCH_REPORT_SIZE	8192
#define BENCH_WARMUP		64	/* unrecorded descriptors per case */
#define BENCH_STALL_MS		5000	/* no completion for this long: stop */
#define BENCH_BW_MIN_SIZE	(4u << 10)
#define BENCH_BW_MIN_COPIES	8
#define BENCH_ITERS_MAX		1000000
#define BENCH_QD_MAX		256
#define BENCH_COPY_MAX		4096
#define BENCH_CLOCK_CALLS	1000
#define BENCH_MMIO_CALLS	1000
#define BENCH_MEMCPY_BYTES	(16u << 20)	/* per size, at least one copy */
#define BENCH_PARAM_SIZE	128

struct bench_params {
	unsigned int iters;
	unsigned int qd;
	unsigned int copy;
	unsigned int bw_mib;
	unsigned int max_kib;
	unsigned int lat;
	unsigned int bw;
	unsigned int dither;
};

#define BENCH_DEFAULTS {						\
	.iters = 2000, .qd = 32, .copy = 64, .bw_mib = 64,		\
	.max_kib = 4096, .lat = 1, .bw = 1,				\
}

static DEFINE_MUTEX(bench_params_lock);	/* bench_params */
static struct bench_params bench_params = BENCH_DEFAULTS;

struct bench;

struct bench_req {
	struct dbnic_req req;
	struct bench *b;
	u64 t_post;
	bool busy;		/* posted, callback not run yet */
};

struct bench {
	struct dbnic_dev *dd;
	struct dbnic_queue *q;
	struct bench_params p;

	void *src, *dst;
	dma_addr_t src_dma, dst_dma;
	size_t buf_bytes;
	void *msrc, *mdst;	/* memcpy() baseline, buf_bytes each */

	struct bench_req *reqs;
	unsigned int nreqs;
	u64 *lat;		/* samples, in completion order */
	u64 *post;		/* dbnic_queue_post() times, in post order */
	unsigned int nlat;	/* entries of each */

	/* Written by the completion callback, under the queue lock. */
	unsigned int done;
	unsigned int bad;
	unsigned int ran_prio;
	u8 bad_status;

	char *out;
	size_t len;
};

/* One measured run: n descriptors, at most qd outstanding. */
struct bench_case {
	enum dbnic_path path;
	bool alternate;		/* ring and priority posts take turns */
	unsigned int qd;
	unsigned int n;
	u32 bytes;		/* per copy; 0: NOP */
	u32 desc_bytes;		/* per descriptor */
};

struct bench_result {
	u64 ns;			/* first post to last completion */
	u64 post_ns;		/* median dbnic_queue_post() time */
	u64 min, med, p99;	/* latency samples */
	unsigned int prio;	/* ran from the priority lane */
	u64 fallback;		/* device's PRIO_FALLBACK delta */
};

static __printf(2, 3) void bench_printf(struct bench *b, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	b->len += vscnprintf(b->out + b->len, BENCH_REPORT_SIZE - b->len, fmt,
			     args);
	va_end(args);
}

static void bench_done(struct dbnic_req *req, const struct dbnic_cqe *cqe)
{
	struct bench_req *r = container_of(req, struct bench_req, req);
	struct bench *b = r->b;
	u64 now = ktime_get_ns();

	if (b->done < b->nlat)
		b->lat[b->done] = now - r->t_post;
	if (cqe->status != DBNIC_ST_OK && !b->bad++)
		b->bad_status = cqe->status;
	if (cqe->flags & DBNIC_CQE_F_PRIO)
		b->ran_prio++;
	WRITE_ONCE(b->done, b->done + 1);
	WRITE_ONCE(r->busy, false);
}

static int bench_build(struct bench *b, const struct bench_case *c,
		       unsigned int k, struct dbnic_desc *d)
{
	struct dbnic_sg src, dst;
	u32 per, off;

	if (!c->bytes) {
		dbnic_desc_nop(d, DBNIC_DESC_F_COMPLETION);
		return 0;
	}
	per = DIV_ROUND_UP(c->bytes, c->desc_bytes);
	off = (k % per) * c->desc_bytes;
	src.addr = b->src_dma + off;
	dst.addr = b->dst_dma + off;
	src.len = min(c->desc_bytes, c->bytes - off);
	dst.len = src.len;
	return dbnic_desc_copy(d, DBNIC_DESC_F_COMPLETION, &src, 1, &dst, 1);
}

static int u64_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Forget every callback still pending, so nothing calls back into b. */
static void bench_cancel(struct bench *b)
{
	unsigned int i;

	for (i = 0; i < b->nreqs; i++)
		if (READ_ONCE(b->reqs[i].busy) &&
		    dbnic_queue_cancel(b->q, b->reqs[i].req.index,
				       &b->reqs[i].req))
			b->reqs[i].busy = false;
}

/*
 * Post c->n descriptors, keeping at most c->qd outstanding, and reap
 * completions by polling.  Request structures are used round robin over
 * twice the queue depth; one whose callback has not run yet (completions
 * are not in post order when the priority lane jumps the queue) makes
 * the loop reap first.
 */
static int bench_run(struct bench *b, const struct bench_case *c,
		     struct bench_result *res)
{
	unsigned long progress = jiffies;
	unsigned int posted = 0, idle = 0, n;
	u64 t0, fb0, t;
	struct dbnic_desc d;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	b->done = 0;
	b->bad = 0;
	b->ran_prio = 0;
	fb0 = dbnic_read_counter(b->dd, DBNIC_CNT_PRIO_FALLBACK);
	t0 = ktime_get_ns();
	while (READ_ONCE(b->done) < c->n) {
		struct bench_req *r = &b->reqs[posted % b->nreqs];
		enum dbnic_path path = c->path;

		if (c->alternate)
			path = posted & 1 ? DBNIC_PATH_PRIO : DBNIC_PATH_RING;
		if (posted < c->n && posted - READ_ONCE(b->done) < c->qd &&
		    !READ_ONCE(r->busy)) {
			ret = bench_build(b, c, posted, &d);
			if (ret)
				break;
			WRITE_ONCE(r->busy, true);
			r->t_post = ktime_get_ns();
			ret = dbnic_queue_post(b->q, &d, path, &r->req,
					       &r->req.index);
			t = ktime_get_ns();
			if (!ret) {
				unsigned int spin = b->p.dither ?
					get_random_u32_below(b->p.dither) : 0;

				if (posted < b->nlat)
					b->post[posted] = t - r->t_post;
				posted++;
				while (spin--)
					cpu_relax();
				continue;
			}
			WRITE_ONCE(r->busy, false);
			if (ret != -ENOSPC && ret != -EBUSY)
				break;
			ret = 0;
		}
		if (dbnic_queue_reap(b->q)) {
			progress = jiffies;
			continue;
		}
		if (time_after(jiffies, progress +
			       msecs_to_jiffies(BENCH_STALL_MS))) {
			ret = -ETIMEDOUT;
			break;
		}
		if (!(++idle % 1024))
			cond_resched();
		cpu_relax();
	}
	res->ns = ktime_get_ns() - t0;
	if (ret) {
		/* Let what was posted finish: it uses the buffers. */
		progress = jiffies;
		while (ret != -ETIMEDOUT && READ_ONCE(b->done) < posted) {
			if (dbnic_queue_reap(b->q))
				progress = jiffies;
			else if (time_after(jiffies, progress +
					    msecs_to_jiffies(BENCH_STALL_MS)))
				ret = -ETIMEDOUT;
			cond_resched();
		}
		bench_cancel(b);
		return ret;
	}
	res->prio = b->ran_prio;
	res->fallback = dbnic_read_counter(b->dd, DBNIC_CNT_PRIO_FALLBACK) -
			fb0;
	n = min(b->done, b->nlat);
	/* Alternating runs keep the samples in order for bench_ab(). */
	if (n && !c->alternate) {
		sort(b->lat, n, sizeof(*b->lat), u64_cmp, NULL);
		res->min = b->lat[0];
		res->med = b->lat[n / 2];
		res->p99 = b->lat[DIV_ROUND_UP(n * 99, 100) - 1];
		sort(b->post, n, sizeof(*b->post), u64_cmp, NULL);
		res->post_ns = b->post[n / 2];
	}
	return b->bad ? -EIO : 0;
}

/* Descriptors (or bytes) per second. */
static u64 bench_rate(u64 count, u64 ns)
{
	return ns ? div64_u64(count * NSEC_PER_SEC, ns) : 0;
}

static const char *bench_err(int ret)
{
	switch (ret) {
	case -ETIMEDOUT:
		return "stalled: no completion for 5 s";
	case -EIO:
		return "error completions";
	case -EOPNOTSUPP:
		return "no priority area";
	default:
		return "post failed";
	}
}

/* Warm up, then measure; on a failure print why and return it. */
static int bench_measure(struct bench *b, const struct bench_case *c,
			 struct bench_result *res, const char *label)
{
	struct bench_case warm = *c;
	int ret;

	warm.n = min_t(unsigned int, c->n, BENCH_WARMUP);
	ret = bench_run(b, &warm, res);
	if (!ret)
		ret = bench_run(b, c, res);
	if (ret == -EIO)
		bench_printf(b, "%s: %s (%u, first status %u)\n", label,
			     bench_err(ret), b->bad, b->bad_status);
	else if (ret)
		bench_printf(b, "%s: %s (%d)\n", label, bench_err(ret), ret);
	return ret;
}

static const char * const bench_path_names[] = {
	[DBNIC_PATH_RING] = "ring", [DBNIC_PATH_PRIO] = "prio",
};

/* One row of the latency table; -ETIMEDOUT stops the benchmark. */
static int bench_latency_row(struct bench *b, u32 bytes, unsigned int qd,
			     enum dbnic_path path)
{
	struct bench_case c = {
		.path = path, .qd = qd, .n = b->p.iters, .bytes = bytes,
		.desc_bytes = bytes,
	};
	struct bench_result r;
	char label[32];
	int ret;

	scnprintf(label, sizeof(label), "%-4s %5u %-4s %3u",
		  bytes ? "copy" : "nop", bytes, bench_path_names[path], qd);
	if (path == DBNIC_PATH_PRIO && !b->dd->prio) {
		bench_printf(b, "%s: %s\n", label, bench_err(-EOPNOTSUPP));
		return 0;
	}
	ret = bench_measure(b, &c, &r, label);
	if (ret)
		return ret == -ETIMEDOUT ? ret : 0;
	bench_printf(b, "%s %8llu %9llu %9llu %7llu %7llu %5u %8llu\n",
		     label, r.min, r.med, r.p99, bench_rate(c.n, r.ns),
		     r.post_ns, r.prio * 100 / c.n, r.fallback);
	return 0;
}

static int bench_latency(struct bench *b)
{
	static const enum dbnic_path paths[] = {
		DBNIC_PATH_RING, DBNIC_PATH_PRIO,
	};
	unsigned int qds[] = { 1, b->p.qd };
	u32 sizes[] = { 0, b->p.copy };
	unsigned int s, qi, pi;
	int ret;

	bench_printf(b, "\nlatency: post to completion in ns, polled CQ, %u samples per row;\n",
		     b->p.iters);
	bench_printf(b, "post_ns: median time of the post call itself\n");
	bench_printf(b, "%-4s %5s %-4s %3s %8s %9s %9s %7s %7s %5s %8s\n",
		     "op", "bytes", "path", "qd", "min_ns", "median_ns",
		     "p99_ns", "desc/s", "post_ns", "prio%", "fallback");
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		if (sizes[s] && !(b->dd->caps.features & DBNIC_FEAT_COPY)) {
			bench_printf(b, "copy: not supported by the device\n");
			continue;
		}
		for (qi = 0; qi < ARRAY_SIZE(qds); qi++) {
			for (pi = 0; pi < ARRAY_SIZE(paths); pi++) {
				ret = bench_latency_row(b, sizes[s], qds[qi],
							paths[pi]);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

static int s64_cmp(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Ring against priority at queue depth 1, posts alternating in one run:
 * both paths see the same host conditions, which on a busy host move a
 * row's median more than the timing model's round trip does.  Sample 2i
 * is a ring post, 2i + 1 the priority post after it; the median of their
 * differences estimates what the priority path saves.
 */
static int bench_ab_row(struct bench *b, u32 bytes)
{
	struct bench_case c = {
		.alternate = true, .qd = 1, .n = b->nlat & ~1u,
		.bytes = bytes, .desc_bytes = bytes,
	};
	unsigned int i, pairs = c.n / 2;
	/* post[] is free now: differences, then the priority samples. */
	s64 *diff = (s64 *)b->post;
	u64 *prio = b->post + pairs;
	struct bench_result r;
	char label[16];
	unsigned int trim = pairs / 10;
	s64 *dev, dev_sum = 0;
	int ret;

	scnprintf(label, sizeof(label), "%-4s %5u", bytes ? "copy" : "nop",
		  bytes);
	if (!pairs)
		return 0;
	ret = bench_measure(b, &c, &r, label);
	if (ret)
		return ret == -ETIMEDOUT ? ret : 0;
	dev = kvmalloc_array(pairs, sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	/* Sample k was posted k-th: at qd 1, completions are in post order. */
	for (i = 0; i < pairs; i++)
		dev[i] = (s64)(b->lat[2 * i] - b->post[2 * i]) -
			 (s64)(b->lat[2 * i + 1] - b->post[2 * i + 1]);
	sort(dev, pairs, sizeof(*dev), s64_cmp, NULL);
	/* The middle 80%: pairs that a timer tick hit are left out. */
	for (i = trim; i < pairs - trim; i++)
		dev_sum += dev[i];
	for (i = 0; i < pairs; i++) {
		prio[i] = b->lat[2 * i + 1];
		diff[i] = (s64)(b->lat[2 * i] - prio[i]);
	}
	for (i = 0; i < pairs; i++)
		b->lat[i] = b->lat[2 * i];
	sort(b->lat, pairs, sizeof(*b->lat), u64_cmp, NULL);
	sort(prio, pairs, sizeof(*prio), u64_cmp, NULL);
	sort(diff, pairs, sizeof(*diff), s64_cmp, NULL);
	bench_printf(b, "%s %9llu %9llu %10lld %13lld %13lld %5u\n", label,
		     b->lat[pairs / 2], prio[pairs / 2], diff[pairs / 2],
		     dev[pairs / 2], div_s64(dev_sum, pairs - 2 * trim),
		     r.prio * 100 / pairs);
	kvfree(dev);
	return 0;
}

static int bench_ab(struct bench *b)
{
	int ret;

	if (!b->dd->prio)
		return 0;
	bench_printf(b, "\nring vs prio at qd 1, posts alternating in one run, %u pairs;\n",
		     b->nlat / 2);
	bench_printf(b, "saved_ns: median over pairs of ring minus the prio post after it\n");
	bench_printf(b, "dev_saved_ns: the same, each sample less its post call's time;\n");
	bench_printf(b, "dev_saved_avg: mean of its middle 80%% (dither spreads the poll phase)\n");
	bench_printf(b, "%-4s %5s %9s %9s %10s %13s %13s %5s\n", "op", "bytes",
		     "ring_med", "prio_med", "saved_ns", "dev_saved_ns",
		     "dev_saved_avg", "prio%");
	ret = bench_ab_row(b, 0);
	if (!ret && (b->dd->caps.features & DBNIC_FEAT_COPY))
		ret = bench_ab_row(b, b->p.copy);
	return ret;
}

static void bench_size_label(char *buf, size_t len, size_t bytes)
{
	if (bytes >= SZ_1M)
		scnprintf(buf, len, "%zu MiB", bytes >> 20);
	else
		scnprintf(buf, len, "%zu KiB", bytes >> 10);
}

static int bench_bandwidth(struct bench *b)
{
	u32 max_xfer = b->dd->caps.max_xfer ? b->dd->caps.max_xfer :
					      DBNIC_MAX_XFER;
	size_t size;

	bench_printf(b, "\nbandwidth: COPY, ring path, polled CQ, MB/s = 10^6 B/s;\n");
	bench_printf(b, "memcpy() in this kernel, between vmalloc() buffers\n");
	bench_printf(b, "%-8s %6s %6s %10s %10s %10s %11s %s\n", "size",
		     "descs", "copies", "qd1_us", "qd1_MB/s", "qdN_MB/s",
		     "memcpy_MB/s", "data");
	for (size = BENCH_BW_MIN_SIZE; size <= b->buf_bytes &&
	     size <= (size_t)b->p.max_kib << 10; size *= 4) {
		u32 desc_bytes = min_t(size_t, size, max_xfer);
		u32 per = DIV_ROUND_UP(size, desc_bytes);
		u64 copies = max_t(u64, BENCH_BW_MIN_COPIES,
				   div64_u64((u64)b->p.bw_mib << 20, size));
		struct bench_case c = {
			.path = DBNIC_PATH_RING, .qd = 1, .bytes = size,
			.desc_bytes = desc_bytes,
		};
		u64 mc_copies = clamp_t(u64, BENCH_MEMCPY_BYTES / size, 1, copies);
		struct bench_result r1, rn;
		const char *data = "ok";
		char label[16];
		u64 t0, mc_ns = 0;
		unsigned int i;
		int ret;

		copies = min_t(u64, copies, BENCH_ITERS_MAX / per);
		c.n = copies * per;
		bench_size_label(label, sizeof(label), size);

		memset(b->dst, 0, size);
		ret = bench_measure(b, &c, &r1, label);
		if (ret == -ETIMEDOUT)
			return ret;
		if (ret)
			continue;
		if (memcmp(b->dst, b->src, size))
			data = "MISMATCH";
		c.qd = b->p.qd;
		ret = bench_measure(b, &c, &rn, label);
		if (ret == -ETIMEDOUT)
			return ret;
		if (ret)
			continue;

		if (b->mdst) {
			t0 = ktime_get_ns();
			for (i = 0; i < mc_copies; i++)
				memcpy(b->mdst, b->msrc, size);
			mc_ns = ktime_get_ns() - t0;
		}

		bench_printf(b, "%-8s %6u %6llu %10llu %10llu %10llu %11llu %s\n",
			     label, per, copies, div64_u64(r1.ns, copies * 1000),
			     bench_rate(copies * size, r1.ns) / 1000000,
			     bench_rate(copies * size, rn.ns) / 1000000,
			     bench_rate(mc_copies * size, mc_ns) / 1000000, data);
		cond_resched();
	}
	return 0;
}

/* Largest power-of-four multiple of 4 KiB (up to @want) we can allocate. */
static int bench_alloc_bufs(struct bench *b, size_t want)
{
	struct device *dev = dbnic_to_dev(b->dd);
	size_t size = max_t(size_t, want, b->p.copy);

	for (; size >= b->p.copy; size /= 4) {
		b->src = dma_alloc_coherent(dev, size, &b->src_dma,
					    GFP_KERNEL | __GFP_NOWARN);
		b->dst = dma_alloc_coherent(dev, size, &b->dst_dma,
					    GFP_KERNEL | __GFP_NOWARN);
		if (b->src && b->dst) {
			b->buf_bytes = size;
			return 0;
		}
		if (b->src)
			dma_free_coherent(dev, size, b->src, b->src_dma);
		if (b->dst)
			dma_free_coherent(dev, size, b->dst, b->dst_dma);
		b->src = NULL;
		b->dst = NULL;
		if (size < BENCH_BW_MIN_SIZE * 4)
			break;
	}
	return -ENOMEM;
}

/*
 * Mean cost of one doorbell write and one register read.  The write is a
 * DB_CQ that repeats the consumer index the device already has and does
 * not arm: the device accepts it and nothing changes.
 */
static void bench_mmio(struct bench *b)
{
	struct dbnic_queue *q = b->q;
	unsigned long flags;
	u64 t0, wr, rd;
	unsigned int i;

	spin_lock_irqsave(&q->lock, flags);
	t0 = ktime_get_ns();
	for (i = 0; i < BENCH_MMIO_CALLS; i++)
		writel(dbnic_db_cq_val(q->cq.cqn, q->cq.ci_told, 0),
		       q->cq.db + DBNIC_DB_CQ);
	wr = ktime_get_ns() - t0;
	spin_unlock_irqrestore(&q->lock, flags);

	t0 = ktime_get_ns();
	for (i = 0; i < BENCH_MMIO_CALLS; i++)
		readl(b->dd->ctrl + DBNIC_REG_ID);
	rd = ktime_get_ns() - t0;
	bench_printf(b, "mmio: doorbell write (no-op DB_CQ) %llu ns, BAR 0 read %llu ns\n",
		     div_u64(wr, BENCH_MMIO_CALLS), div_u64(rd, BENCH_MMIO_CALLS));
}

/* Cost of one ktime_get_ns(): part of every sample. */
static u64 bench_clock_ns(void)
{
	u64 t0 = ktime_get_ns(), t = t0;
	unsigned int i;

	for (i = 0; i < BENCH_CLOCK_CALLS; i++)
		t = ktime_get_ns();
	return div_u64(t - t0, BENCH_CLOCK_CALLS);
}

static int bench_prepare(struct bench *b)
{
	size_t want = b->p.bw ? (size_t)b->p.max_kib << 10 : 0;
	unsigned int i;

	b->out = kzalloc(BENCH_REPORT_SIZE, GFP_KERNEL);
	b->nreqs = 2 * b->p.qd;
	b->reqs = kcalloc(b->nreqs, sizeof(*b->reqs), GFP_KERNEL);
	b->nlat = b->p.iters;
	b->lat = kvcalloc(b->nlat, sizeof(*b->lat), GFP_KERNEL);
	b->post = kvcalloc(b->nlat, sizeof(*b->post), GFP_KERNEL);
	if (!b->out || !b->reqs || !b->lat || !b->post)
		return -ENOMEM;
	for (i = 0; i < b->nreqs; i++) {
		b->reqs[i].b = b;
		b->reqs[i].req.done = bench_done;
	}
	if (bench_alloc_bufs(b, want))
		return -ENOMEM;
	get_random_bytes(b->src, b->buf_bytes);
	if (b->p.bw) {
		/* Optional: without them the memcpy() column reads 0. */
		b->msrc = vmalloc(b->buf_bytes);
		b->mdst = vmalloc(b->buf_bytes);
		if (!b->msrc || !b->mdst) {
			vfree(b->msrc);
			vfree(b->mdst);
			b->msrc = NULL;
			b->mdst = NULL;
		} else {
			memcpy(b->msrc, b->src, b->buf_bytes);
			memset(b->mdst, 0, b->buf_bytes);
		}
	}
	return 0;
}

static void bench_free(struct bench *b, bool lost)
{
	struct device *dev = dbnic_to_dev(b->dd);

	/* After a stall the device may still write them: leak them. */
	if (b->src && !lost) {
		dma_free_coherent(dev, b->buf_bytes, b->src, b->src_dma);
		dma_free_coherent(dev, b->buf_bytes, b->dst, b->dst_dma);
	}
	vfree(b->msrc);
	vfree(b->mdst);
	kvfree(b->lat);
	kvfree(b->post);
	kfree(b->reqs);
}

/* Run the benchmark; the report (kfree() it) or an ERR_PTR(). */
static char *bench_run_all(struct dbnic_dev *dd, size_t *len)
{
	struct bench b = { .dd = dd, .q = dd->kq };
	int ret;

	mutex_lock(&bench_params_lock);
	b.p = bench_params;
	mutex_unlock(&bench_params_lock);
	b.p.qd = min(b.p.qd, 1u << dd->kq->sq.log_size);

	ret = bench_prepare(&b);
	if (ret) {
		bench_free(&b, false);
		kfree(b.out);
		return ERR_PTR(ret);
	}

	mutex_lock(&dd->selftest_lock);
	bench_printf(&b, "dbnic bench %s: kernel queue %u (ring 2^%u), max_xfer %u\n",
		     pci_name(dd->pdev), dd->kq->sq.qid, dd->kq->sq.log_size,
		     dd->caps.max_xfer);
	bench_printf(&b, "iters %u, qd %u, copy %u B, dither %u, ktime_get_ns() %llu ns\n",
		     b.p.iters, b.p.qd, b.p.copy, b.p.dither, bench_clock_ns());
	dbnic_queue_set_polled(b.q, true);
	bench_mmio(&b);
	ret = 0;
	if (b.p.lat)
		ret = bench_latency(&b);
	if (!ret && b.p.lat)
		ret = bench_ab(&b);
	if (!ret && b.p.bw) {
		if (b.buf_bytes < ((size_t)b.p.max_kib << 10))
			bench_printf(&b, "(buffers limited to %zu KiB)\n",
				     b.buf_bytes >> 10);
		ret = bench_bandwidth(&b);
	}
	dbnic_queue_set_polled(b.q, false);
	mutex_unlock(&dd->selftest_lock);

	bench_free(&b, ret == -ETIMEDOUT);
	*len = b.len;
	return b.out;
}

/* "key=value ..." or "defaults". */
static int bench_parse(char *buf, struct bench_params *p)
{
	static const struct bench_params defaults = BENCH_DEFAULTS;
	static const struct {
		const char *key;
		size_t off;
		unsigned int min, max;
	} keys[] = {
		{ "iters", offsetof(struct bench_params, iters), 1,
		  BENCH_ITERS_MAX },
		{ "qd", offsetof(struct bench_params, qd), 1, BENCH_QD_MAX },
		{ "copy", offsetof(struct bench_params, copy), 1,
		  BENCH_COPY_MAX },
		{ "bw_mib", offsetof(struct bench_params, bw_mib), 1, 4096 },
		{ "max_kib", offsetof(struct bench_params, max_kib), 4, 65536 },
		{ "lat", offsetof(struct bench_params, lat), 0, 1 },
		{ "bw", offsetof(struct bench_params, bw), 0, 1 },
		{ "dither", offsetof(struct bench_params, dither), 0, 100000 },
	};
	char *word;

	while ((word = strsep(&buf, " \t\n")) != NULL) {
		char *val;
		unsigned int i, v;

		if (!*word)
			continue;
		if (!strcmp(word, "defaults")) {
			*p = defaults;
			continue;
		}
		val = strchr(word, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strcmp(word, keys[i].key))
				break;
		if (i == ARRAY_SIZE(keys) || kstrtouint(val, 0, &v) ||
		    v < keys[i].min || v > keys[i].max)
			return -EINVAL;
		*(unsigned int *)((char *)p + keys[i].off) = v;
	}
	return 0;
}

struct bench_report {
	char *text;
	size_t len;
};

/* Opening for reading runs the benchmark; reads return its report. */
static int bench_open(struct inode *inode, struct file *file)
{
	struct bench_report *r;

	if (!(file->f_mode & FMODE_READ))
		return nonseekable_open(inode, file);
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->text = bench_run_all(inode->i_private, &r->len);
	if (IS_ERR(r->text)) {
		int ret = PTR_ERR(r->text);

		kfree(r);
		return ret;
	}
	file->private_data = r;
	return nonseekable_open(inode, file);
}

static ssize_t bench_read(struct file *file, char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	struct bench_report *r = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, r->text, r->len);
}

static ssize_t bench_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct bench_params p;
	char buf[BENCH_PARAM_SIZE];
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	mutex_lock(&bench_params_lock);
	p = bench_params;
	ret = bench_parse(buf, &p);
	if (!ret)
		bench_params = p;
	mutex_unlock(&bench_params_lock);
	return ret ? ret : count;
}

static int bench_release(struct inode *inode, struct file *file)
{
	struct bench_report *r = file->private_data;

	if (r) {
		kfree(r->text);
		kfree(r);
	}
	return 0;
}

const struct file_operations dbnic_bench_fops = {
	.owner = THIS_MODULE,
	.open = bench_open,
	.read = bench_read,
	.write = bench_write,
	.release = bench_release,
};
