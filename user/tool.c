// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The part of dbnic-tool that the test program dbnic-test-tool
 * (tests/user/) shares with it: see tool.h.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "libdbnic.h"
#include "tool.h"

int failures;

void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void check(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (!ok)
		failures++;
}

void die(const char *what, int err)
{
	fprintf(stderr, "dbnic-tool: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void *alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap", errno);
	memset(p, 0, len);
	return p;
}

/* Root in the guest: lift the memlock limit where the hard limit allows. */
void raise_memlock(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	if (setrlimit(RLIMIT_MEMLOCK, &rl) && !getrlimit(RLIMIT_MEMLOCK, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
}

void open_dev(const struct opts *o, struct dbnic_handle *h)
{
	int ret = dbnic_open(h, o->dev);

	if (ret)
		die(o->dev ? o->dev : "/dev/dbnic0", ret);
}

void make_qp(const struct opts *o, struct dbnic_handle *h,
		    struct dbnic_qp *qp)
{
	int ret = dbnic_qp_create(h, qp, o->sq_log, o->policy);

	if (ret)
		die("create queue", ret);
}

void reg(struct dbnic_handle *h, struct dbnic_umr *mr, void *p,
		size_t len, uint32_t access)
{
	int ret = dbnic_mr_reg(h, mr, p, len, access);

	if (ret)
		die("register memory", ret);
}

/* Wait for one completion (busy polling). */
int wait_cqe(struct dbnic_qp *qp, struct dbnic_cqe *cqe, double timeout)
{
	double end = now_s() + timeout;

	while (!dbnic_poll(qp, cqe, 1))
		if (now_s() > end)
			return -ETIMEDOUT;
	return 0;
}

void write_ids(const struct opts *o, struct dbnic_handle *h,
		      struct dbnic_qp *qp, struct dbnic_umr *src,
		      struct dbnic_umr *dst)
{
	char line[256], tmp[512];
	FILE *f;

	snprintf(line, sizeof(line),
		 "ctx %u qid %u cqn %u src_key %#x src_addr %#lx dst_key %#x dst_addr %#lx pid %d\n",
		 h->info.ctx, qp->qid, qp->cqn, src->key,
		 (unsigned long)(uintptr_t)src->addr, dst->key,
		 (unsigned long)(uintptr_t)dst->addr, (int)getpid());
	if (!o->quiet)
		msg("%s", line);
	if (!o->ids)
		return;
	/* Written whole, then renamed: a reader never sees half a line. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->ids);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp, errno);
	fputs(line, f);
	fclose(f);
	if (rename(tmp, o->ids))
		die("rename", errno);
}


/* ------------------------------------------------------------------ */
/* copy and fill                                                         */
/* ------------------------------------------------------------------ */


void xfer_setup(struct xfer *x)
{
	const struct opts *o = x->o;
	uint64_t s = o->seed ? o->seed : (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
	size_t i;

	raise_memlock();
	open_dev(o, &x->h);
	/* Limits that only the device knows (DBNIC_IOC_QUERY). */
	if (o->size > x->h.info.max_xfer)
		cli_bad_usage("--size %zu: this device moves at most %u bytes per descriptor (QUERY max_xfer); use 1..%u",
			  o->size, x->h.info.max_xfer, x->h.info.max_xfer);
	if (2 * o->sges > x->h.info.max_sge)
		cli_bad_usage("--sges %u: this device takes %u SGEs per descriptor (QUERY max_sge), so at most %u per side",
			  o->sges, x->h.info.max_sge, x->h.info.max_sge / 2);
	if (o->sq_log > x->h.info.max_log_ring)
		cli_bad_usage("--sq-log %u: this device's rings have at most 2^%u entries (QUERY max_log_ring)",
			  o->sq_log, x->h.info.max_log_ring);
	make_qp(o, &x->h, &x->qp);
	x->depth = o->depth;
	if (x->depth > MAX_DEPTH)
		x->depth = MAX_DEPTH;
	if (x->depth > (1u << x->qp.sq_log))
		x->depth = 1u << x->qp.sq_log;
	x->src = alloc(2 * o->size);
	x->dst = alloc(x->depth * o->size);
	for (i = 0; i + 8 <= 2 * o->size; i += 8) {
		uint64_t v = rng(&s);

		memcpy(x->src + i, &v, 8);
	}
	reg(&x->h, &x->src_mr, x->src, 2 * o->size, 0);
	reg(&x->h, &x->dst_mr, x->dst, x->depth * o->size, DBNIC_MR_LOCAL_WRITE);
	write_ids(o, &x->h, &x->qp, &x->src_mr, &x->dst_mr);
}

/* Split [p, p + len) into n SGEs of the buffer with key. */
static unsigned int split(struct dbnic_sge *sge, uint8_t *p, size_t len,
			  unsigned int n, uint32_t key)
{
	size_t piece = (len + n - 1) / n;
	unsigned int i = 0;

	while (len) {
		size_t l = len < piece ? len : piece;

		dbnic_sge(&sge[i++], p, l, key);
		p += l;
		len -= l;
	}
	return i;
}

int xfer_post(struct xfer *x, unsigned int slot)
{
	const struct opts *o = x->o;
	struct dbnic_sge src[DBNIC_MAX_SGE], dst[DBNIC_MAX_SGE];
	uint8_t *d = x->dst + slot * o->size;
	struct dbnic_desc desc;
	unsigned int nsrc, ndst;
	int ret;

	if (o->verify)
		memset(d, 0xa5, o->size);
	if (x->fill) {
		x->off[slot] = (uint32_t)(x->posted * 0x9e3779b1u + 0x1234567u);
		ndst = split(dst, d, o->size, o->sges, x->dst_mr.key);
		ret = dbnic_build_fill(&desc, (uint32_t)x->off[slot], dst, ndst);
	} else {
		x->off[slot] = (x->posted * 64) % o->size;
		nsrc = split(src, x->src + x->off[slot], o->size, o->sges,
			     x->src_mr.key);
		ndst = split(dst, d, o->size, 1, x->dst_mr.key);
		ret = dbnic_build_copy(&desc, src, nsrc, dst, ndst);
	}
	if (ret)
		return ret;
	ret = dbnic_post(&x->qp, &desc, o->path);
	if (ret < 0)
		return ret;
	x->slot_of[dbnic_ring_slot(le16toh(desc.hdr.index), x->qp.sq_log)] = slot;
	x->busy[slot] = 1;
	x->posted++;
	return 0;
}

void xfer_complete(struct xfer *x, const struct dbnic_cqe *c)
{
	const struct opts *o = x->o;
	unsigned int slot = x->slot_of[dbnic_ring_slot(le16toh(c->index),
						       x->qp.sq_log)];
	uint8_t *d = x->dst + slot * o->size;
	size_t i;

	x->done++;
	if (c->flags & DBNIC_CQE_F_PRIO)
		x->prio_done++;
	if (c->status != DBNIC_ST_OK || le32toh(c->byte_count) != o->size ||
	    le16toh(c->qid) != x->qp.qid) {
		if (x->errors++ < 5)
			fprintf(stderr, "dbnic-tool: index %u: status %s bytes %u qid %u\n",
				le16toh(c->index), dbnic_status_name(c->status),
				le32toh(c->byte_count), le16toh(c->qid));
	} else if (o->verify) {
		int bad = 0;

		if (x->fill) {
			uint32_t pat = htole32((uint32_t)x->off[slot]);

			for (i = 0; i + 4 <= o->size && !bad; i += 4)
				bad = memcmp(d + i, &pat, 4) != 0;
		} else {
			bad = memcmp(d, x->src + x->off[slot], o->size) != 0;
		}
		if (bad && x->bad_data++ < 5)
			fprintf(stderr, "dbnic-tool: index %u: data differs\n",
				le16toh(c->index));
	}
	x->busy[slot] = 0;
}

/* Run until count operations or time seconds; Return: exit status. */
int xfer_run(struct xfer *x)
{
	const struct opts *o = x->o;
	struct dbnic_cqe cqe[32];
	double t0 = now_s(), last = t0, el;
	unsigned long target = o->count;
	unsigned int s;
	int n, i;

	for (;;) {
		int stop = o->time > 0 ? now_s() - t0 >= o->time :
					 x->posted >= target;

		if (stop && x->done == x->posted)
			break;
		for (s = 0; !stop && s < x->depth; s++) {
			int ret;

			if (x->busy[s])
				continue;
			ret = xfer_post(x, s);
			if (ret == -EAGAIN)
				break;
			if (ret < 0)
				die("post", ret);
			if (o->time <= 0 && x->posted >= target)
				break;
		}
		n = dbnic_poll(&x->qp, cqe, 32);
		for (i = 0; i < n; i++)
			xfer_complete(x, &cqe[i]);
		if (n)
			last = now_s();
		else if (now_s() - last > POLL_TIMEOUT_S)
			die("no completion for 10 s", ETIMEDOUT);
	}
	el = now_s() - t0;
	msg("%s: %lu ops of %zu bytes in %.3f s (%.1f MB/s), ring %llu prio %llu, ran from prio %lu, errors %lu, data errors %lu%s\n",
	    x->fill ? "fill" : "copy", x->done, o->size, el,
	    el > 0 ? x->done * (double)o->size / el / 1e6 : 0.0,
	    (unsigned long long)x->qp.posted_ring,
	    (unsigned long long)x->qp.posted_prio, x->prio_done, x->errors,
	    x->bad_data, o->verify ? " (verified)" : "");
	return x->errors || x->bad_data ? 1 : 0;
}


int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}


long vm_pin_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ------------------------------------------------------------------ */
/* Options                                                               */
/* ------------------------------------------------------------------ */

static const struct option common_opts[] = {
	{ "dev", required_argument, NULL, 'D' },
	{ "size", required_argument, NULL, 's' },
	{ "count", required_argument, NULL, 'n' },
	{ "time", required_argument, NULL, 't' },
	{ "depth", required_argument, NULL, 'd' },
	{ "path", required_argument, NULL, 'p' },
	{ "sges", required_argument, NULL, 'g' },
	{ "sq-log", required_argument, NULL, 'l' },
	{ "verify", no_argument, NULL, 'v' },
	{ "ids", required_argument, NULL, 'i' },
	{ "qp", no_argument, NULL, 'Q' },
	{ "seed", required_argument, NULL, 'S' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "wait-file", required_argument, NULL, 'W' },
};

const char *tool_parse(const char *prog, int argc, char **argv,
		       struct opts *o, const struct option *extra,
		       void (*extra_opt)(int c, struct opts *o),
		       void (*usage)(void))
{
	static const struct opts defaults = {
		.size = 64 << 10, .count = 100, .depth = 8, .sges = 1,
		.sq_log = 8, .path = DBNIC_UPATH_AUTO,
		.policy = DBNIC_UPOLICY_AUTO, .evil_qid = -1, .evil_cqn = -1,
	};
	size_t ncommon = sizeof(common_opts) / sizeof(common_opts[0]);
	size_t nextra = 0, i;
	struct option *lo;
	int c;

	cli_prog = prog;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage();
	*o = defaults;

	while (extra && extra[nextra].name)
		nextra++;
	lo = calloc(ncommon + nextra + 1, sizeof(*lo));
	if (!lo)
		die("options", ENOMEM);
	memcpy(lo, common_opts, sizeof(common_opts));
	for (i = 0; i < nextra; i++)
		lo[ncommon + i] = extra[i];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		for (i = 0; i < nextra; i++)
			if (c == extra[i].val)
				break;
		if (i < nextra) {
			extra_opt(c, o);
			continue;
		}
		switch (c) {
		case 'D': o->dev = optarg; break;
		/* Device limits (QUERY) are checked once the device is open. */
		case 's':
			o->size = cli_parse_num("--size", optarg, 1, SIZE_MAX / 2, 1);
			break;
		case 'n':
			o->count = cli_parse_num("--count", optarg, 1, ULONG_MAX, 0);
			break;
		case 't': {
			char *end;

			o->time = strtod(optarg, &end);
			if (end == optarg || *end || !(o->time > 0 && o->time <= 86400))
				cli_bad_usage("--time '%s': must be seconds, more than 0 and at most 86400",
					  optarg);
			break;
		}
		case 'd':
			o->depth = cli_parse_num("--depth", optarg, 1, MAX_DEPTH, 0);
			break;
		case 'g':
			o->sges = cli_parse_num("--sges", optarg, 1, DBNIC_MAX_SGE / 2, 0);
			break;
		case 'l':
			o->sq_log = cli_parse_num("--sq-log", optarg, 1,
					     DBNIC_LOG_RING_MAX, 0);
			break;
		case 'v': o->verify = 1; break;
		case 'i': o->ids = optarg; break;
		case 'Q': o->want_qp = 1; break;
		case 'S':
			o->seed = cli_parse_num("--seed", optarg, 0, UINT_MAX, 0);
			break;
		case 'q': o->quiet = 1; break;
		case 'W': o->wait_file = optarg; break;
		case 'p':
			if (!strcmp(optarg, "ring")) {
				o->path = DBNIC_UPATH_RING;
				o->policy = DBNIC_UPOLICY_RING;
			} else if (!strcmp(optarg, "prio")) {
				o->path = DBNIC_UPATH_PRIO;
				o->policy = DBNIC_UPOLICY_PRIO;
			} else if (!strcmp(optarg, "auto")) {
				o->path = DBNIC_UPATH_AUTO;
				o->policy = DBNIC_UPOLICY_AUTO;
			} else {
				cli_bad_usage("--path '%s': must be ring, prio or auto",
					  optarg);
			}
			break;
		default:
			/* getopt_long has said which option it did not know. */
			usage();
		}
	}
	free(lo);
	if (optind < argc)
		cli_bad_usage("unexpected argument '%s'", argv[optind]);
	/* Progress lines reach a log at once, even through a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return argv[1];
}
