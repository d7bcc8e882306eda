// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dbnic-bench: user-space latency and throughput of a dbnic queue, through
 * libdbnic (no system call per descriptor).  The same table as the
 * driver's debugfs "bench": NOP and a small COPY, announced through the
 * ring (a DB_SQ store) and through the priority area (the whole
 * descriptor stored into a write-combining slot), at queue depth 1 and
 * at a deep queue depth.  It prints numbers; it does not judge them.
 *
 * A sample is the time from just before dbnic_post() to the dbnic_poll()
 * that returned its completion (CLOCK_MONOTONIC); completions returned by
 * one poll share its time.  dbnic_poll() writes DB_CQ whenever it found
 * completions, so that store is part of every cycle.  A last table
 * compares the two paths at queue depth 1 with their posts alternating
 * in one run, so that both see the same host conditions.
 *
 *   dbnic-bench [-d /dev/dbnic0] [-n iters] [-q qd] [-s copy-bytes] [-c]
 *
 * -c also prints the alternating run's raw samples as CSV (op, bytes,
 * path, pair, ns) between "DBNIC-CSV-BEGIN qd1" and "DBNIC-CSV-END qd1"
 * lines, for scripts/bench.sh's latency CDFs.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "measure.h"
#include "libdbnic.h"

#define WARMUP		64		/* unrecorded descriptors per row */
#define STALL_NS	5000000000ull	/* no completion for this long: stop */
#define SQ_LOG		8		/* 256 entries */
#define POLL_MAX	64
#define CLOCK_CALLS	1000

struct params {
	const char *dev;
	unsigned int iters;
	unsigned int qd;
	unsigned int copy;
	int csv;
};

struct bench {
	struct dbnic_handle h;
	struct dbnic_qp qp;
	struct dbnic_umr src, dst;
	uint64_t *t_post;	/* post time by ring slot */
	uint64_t *lat;		/* samples, in completion order */
	uint64_t *post;		/* dbnic_post() times, in post order */
	FILE *csv;		/* -c: raw samples of the alternating runs */
};

struct result {
	uint64_t ns;		/* first post to last completion */
	uint64_t min, med, p99, post_ns;
	unsigned int prio;	/* ran from the priority lane */
	unsigned int fallback;	/* priority posts that ran from the ring */
	unsigned int bad;
	uint8_t bad_status;
};

static int build(struct bench *b, uint32_t bytes, struct dbnic_desc *d)
{
	struct dbnic_sge src, dst;

	if (!bytes) {
		memset(d, 0, sizeof(*d));
		d->hdr.opcode = DBNIC_OP_NOP;
		d->hdr.flags = DBNIC_DESC_F_COMPLETION;
		d->hdr.size = dbnic_desc_blocks(0);
		return 0;
	}
	dbnic_sge(&src, b->src.addr, bytes, b->src.key);
	dbnic_sge(&dst, b->dst.addr, bytes, b->dst.key);
	return dbnic_build_copy(d, &src, 1, &dst, 1);
}

/*
 * n descriptors, at most qd outstanding; 0 or a negative errno.  With
 * path DBNIC_UPATH_AUTO, ring and priority posts alternate (and the
 * samples stay in completion order, unsorted).
 */
static int run(struct bench *b, uint32_t bytes, enum dbnic_upath path,
	       unsigned int qd, unsigned int n, struct result *r)
{
	const enum dbnic_upath mode = path;
	int alternate = mode == DBNIC_UPATH_AUTO;
	unsigned int mask = (1u << b->qp.sq_log) - 1;
	unsigned int posted = 0, done = 0, i, k;
	uint64_t t0, t, progress;
	struct dbnic_cqe cqe[POLL_MAX];
	struct dbnic_desc d;
	int ret;

	memset(r, 0, sizeof(*r));
	t0 = now_ns();
	progress = t0;
	while (done < n) {
		if (posted < n && posted - done < qd) {
			ret = build(b, bytes, &d);
			if (ret)
				return ret;
			if (alternate)
				path = posted & 1 ? DBNIC_UPATH_PRIO :
						    DBNIC_UPATH_RING;
			t = now_ns();
			ret = dbnic_post(&b->qp, &d, path);
			if (ret >= 0) {
				b->t_post[le16toh(d.hdr.index) & mask] = t;
				b->post[posted++] = now_ns() - t;
				continue;
			}
			if (ret != -EAGAIN)
				return ret;
		}
		k = dbnic_poll(&b->qp, cqe, POLL_MAX);
		t = now_ns();
		if (!k) {
			if (t - progress > STALL_NS)
				return -ETIMEDOUT;
			continue;
		}
		progress = t;
		for (i = 0; i < k; i++) {
			unsigned int slot = le16toh(cqe[i].index) & mask;

			if (cqe[i].status != DBNIC_ST_OK && !r->bad++)
				r->bad_status = cqe[i].status;
			if (cqe[i].flags & DBNIC_CQE_F_PRIO)
				r->prio++;
			else if (mode == DBNIC_UPATH_PRIO)
				r->fallback++;
			b->lat[done++] = t - b->t_post[slot];
		}
	}
	r->ns = now_ns() - t0;
	if (alternate)
		return r->bad ? -EIO : 0;
	samples_sort(b->lat, n);
	samples_sort(b->post, n);
	r->min = b->lat[0];
	r->med = b->lat[n / 2];
	r->p99 = b->lat[(n * 99 + 99) / 100 - 1];
	r->post_ns = b->post[n / 2];
	return r->bad ? -EIO : 0;
}

static int row(struct bench *b, const struct params *p, uint32_t bytes,
	       unsigned int qd, enum dbnic_upath path)
{
	char label[32];
	struct result r;
	int ret;

	snprintf(label, sizeof(label), "%-4s %5u %-4s %3u",
		 bytes ? "copy" : "nop", bytes,
		 path == DBNIC_UPATH_PRIO ? "prio" : "ring", qd);
	if (path == DBNIC_UPATH_PRIO && !dbnic_qp_has_prio(&b->qp)) {
		printf("%s: no priority slots\n", label);
		return 0;
	}
	ret = run(b, bytes, path, qd, p->iters < WARMUP ? p->iters : WARMUP,
		  &r);
	if (!ret)
		ret = run(b, bytes, path, qd, p->iters, &r);
	if (ret == -EIO) {
		printf("%s: %u error completions, first %s\n", label, r.bad,
		       dbnic_status_name(r.bad_status));
		return 0;
	}
	if (ret) {
		printf("%s: %s\n", label, ret == -ETIMEDOUT ?
		       "stalled: no completion for 5 s" : strerror(-ret));
		return ret == -ETIMEDOUT ? ret : 0;
	}
	printf("%s %8llu %9llu %9llu %7llu %7llu %5u %8u\n", label,
	       (unsigned long long)r.min, (unsigned long long)r.med,
	       (unsigned long long)r.p99,
	       (unsigned long long)(r.ns ? p->iters * 1000000000ull / r.ns : 0),
	       (unsigned long long)r.post_ns, r.prio * 100 / p->iters,
	       r.fallback);
	return 0;
}

static int s64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Ring against priority at queue depth 1, posts alternating in one run,
 * as in the driver's bench: sample 2i is a ring post, 2i + 1 the priority
 * post after it; saved_ns is the median of their differences.
 */
static int ab_row(struct bench *b, const struct params *p, uint32_t bytes)
{
	unsigned int i, n = p->iters & ~1u, pairs = n / 2;
	int64_t *diff = (int64_t *)b->post;
	uint64_t *prio = b->post + pairs;
	struct result r;
	int ret;

	if (!pairs)
		return 0;
	ret = run(b, bytes, DBNIC_UPATH_AUTO, 1, n < WARMUP ? n : WARMUP, &r);
	if (!ret)
		ret = run(b, bytes, DBNIC_UPATH_AUTO, 1, n, &r);
	if (ret) {
		printf("%-4s %5u: %s\n", bytes ? "copy" : "nop", bytes,
		       ret == -EIO ? "error completions" : strerror(-ret));
		return ret == -ETIMEDOUT ? ret : 0;
	}
	if (b->csv)
		for (i = 0; i < n; i++)
			fprintf(b->csv, "%s,%u,%s,%u,%llu\n", bytes ? "copy" : "nop",
			       bytes, i & 1 ? "prio" : "ring", i / 2,
			       (unsigned long long)b->lat[i]);
	for (i = 0; i < pairs; i++) {
		prio[i] = b->lat[2 * i + 1];
		diff[i] = (int64_t)(b->lat[2 * i] - prio[i]);
	}
	for (i = 0; i < pairs; i++)
		b->lat[i] = b->lat[2 * i];
	samples_sort(b->lat, pairs);
	samples_sort(prio, pairs);
	qsort(diff, pairs, sizeof(*diff), s64_cmp);
	printf("%-4s %5u %9llu %9llu %10lld %5u\n", bytes ? "copy" : "nop",
	       bytes, (unsigned long long)b->lat[pairs / 2],
	       (unsigned long long)prio[pairs / 2], (long long)diff[pairs / 2],
	       r.prio * 100 / pairs);
	return 0;
}

static uint64_t clock_cost(void)
{
	uint64_t t0 = now_ns(), t = t0;
	unsigned int i;

	for (i = 0; i < CLOCK_CALLS; i++)
		t = now_ns();
	return (t - t0) / CLOCK_CALLS;
}

static void *buffer(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len))
		return NULL;
	memset(p, 0xa5, len);
	return p;
}

static int usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-d /dev/dbnic0] [-n iters] [-q qd] [-s copy-bytes] [-c]\n",
		prog);
	return 2;
}

int main(int argc, char **argv)
{
	struct params p = { "/dev/dbnic0", 2000, 32, 64, 0 };
	unsigned int qds[2], s, qi, pi;
	struct bench b;
	uint32_t sizes[2];
	char *csv_buf = NULL;
	size_t csv_len = 0;
	int opt, ret;
	void *src, *dst;

	cli_prog = "dbnic-bench";
	while ((opt = getopt(argc, argv, "d:n:q:s:ch")) != -1) {
		switch (opt) {
		case 'c':
			p.csv = 1;
			break;
		case 'd':
			p.dev = optarg;
			break;
		case 'n':
			p.iters = cli_parse_num("-n", optarg, 1,
						UINT32_MAX, 0);
			break;
		case 'q':
			p.qd = cli_parse_num("-q", optarg, 1,
					     1u << SQ_LOG, 0);
			break;
		case 's':
			p.copy = cli_parse_num("-s", optarg, 1,
					       1u << 20, 1);
			break;
		default:
			return usage(argv[0]);
		}
	}
	if (optind < argc)
		cli_bad_usage("unexpected argument '%s'", argv[optind]);

	memset(&b, 0, sizeof(b));
	ret = dbnic_open(&b.h, p.dev);
	if (ret) {
		fprintf(stderr, "%s: %s\n", p.dev, strerror(-ret));
		return 1;
	}
	ret = dbnic_qp_create(&b.h, &b.qp, SQ_LOG, DBNIC_UPOLICY_RING);
	if (ret) {
		fprintf(stderr, "create queue: %s\n", strerror(-ret));
		return 1;
	}
	src = buffer(p.copy);
	dst = buffer(p.copy);
	b.t_post = calloc(1u << b.qp.sq_log, sizeof(*b.t_post));
	b.lat = calloc(p.iters, sizeof(*b.lat));
	b.post = calloc(p.iters, sizeof(*b.post));
	if (!src || !dst || !b.t_post || !b.lat || !b.post) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	ret = dbnic_mr_reg(&b.h, &b.src, src, p.copy, 0);
	if (!ret)
		ret = dbnic_mr_reg(&b.h, &b.dst, dst, p.copy,
				   DBNIC_MR_LOCAL_WRITE);
	if (ret) {
		fprintf(stderr, "register buffers: %s\n", strerror(-ret));
		return 1;
	}
	/* The CQ bounds what may be outstanding (dbnic_qp_space()). */
	if (p.qd > 1u << b.qp.cq_log)
		p.qd = 1u << b.qp.cq_log;

	printf("dbnic-bench %s: context %u, queue %u (ring 2^%u, CQ 2^%u), priority slots %s\n",
	       p.dev, b.h.info.ctx, b.qp.qid, b.qp.sq_log, b.qp.cq_log,
	       dbnic_qp_has_prio(&b.qp) ? "yes" : "none");
	printf("iters %u, qd %u, copy %u B, clock_gettime() %llu ns\n",
	       p.iters, p.qd, p.copy, (unsigned long long)clock_cost());
	printf("\nlatency: post to completion in ns, polled CQ, %u samples per row;\n",
	       p.iters);
	printf("post_ns: median time of dbnic_post() itself\n");
	printf("%-4s %5s %-4s %3s %8s %9s %9s %7s %7s %5s %8s\n", "op", "bytes",
	       "path", "qd", "min_ns", "median_ns", "p99_ns", "desc/s",
	       "post_ns", "prio%", "fallback");

	qds[0] = 1;
	qds[1] = p.qd;
	sizes[0] = 0;
	sizes[1] = p.copy;
	ret = 0;
	for (s = 0; s < 2 && !ret; s++) {
		if (sizes[s] && !(b.h.info.features & DBNIC_FEAT_COPY)) {
			printf("copy: not supported by the device\n");
			continue;
		}
		for (qi = 0; qi < 2 && !ret; qi++)
			for (pi = 0; pi < 2 && !ret; pi++)
				ret = row(&b, &p, sizes[s], qds[qi],
					  pi ? DBNIC_UPATH_PRIO :
					       DBNIC_UPATH_RING);
	}

	if (!ret && dbnic_qp_has_prio(&b.qp)) {
		printf("\nring vs prio at qd 1, posts alternating in one run, %u pairs;\n",
		       p.iters / 2);
		printf("saved_ns: median over pairs of ring minus the prio post after it\n");
		printf("%-4s %5s %9s %9s %10s %5s\n", "op", "bytes", "ring_med",
		       "prio_med", "saved_ns", "prio%");
		if (p.csv)
			b.csv = open_memstream(&csv_buf, &csv_len);
		ret = ab_row(&b, &p, 0);
		if (!ret && (b.h.info.features & DBNIC_FEAT_COPY))
			ret = ab_row(&b, &p, p.copy);
		if (b.csv) {
			fclose(b.csv);
			printf("DBNIC-CSV-BEGIN qd1\nop,bytes,path,pair,ns\n%sDBNIC-CSV-END qd1\n",
			       csv_buf ? csv_buf : "");
			free(csv_buf);
		}
	}

	dbnic_mr_dereg(&b.h, &b.src);
	dbnic_mr_dereg(&b.h, &b.dst);
	dbnic_qp_destroy(&b.qp);
	dbnic_close(&b.h);
	free(src);
	free(dst);
	free(b.t_post);
	free(b.lat);
	free(b.post);
	return ret ? 1 : 0;
}
