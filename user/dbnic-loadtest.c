// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dbnic-loadtest: the device's promises while its engine is busy, from
 * user space through libdbnic.  A test and a benchmark, kept apart from
 * the user's tool (dbnic-tool):
 *
 *   dbnic-loadtest order [-d dev] [-r runs]
 *	The overtaking test (datasheet sections 3.2, 5 and 8.4).  A queue
 *	announces 16 ring COPYs of 1 MiB with one DB_SQ, then writes a
 *	complete priority NOP with COMPLETION for the next index, right
 *	after the doorbell and as soon as the first ring CQE appears (four
 *	cases, see order_cases[]).
 *	It asserts the order of the CQEs, never a time: the NOP completes
 *	before every COPY that had not started when its last store was
 *	issued.  Prints one "PASS name" or "FAIL name" line per case (the
 *	guest tests' verdicts helper counts them); exit status 1 if any
 *	failed.
 *
 *   dbnic-loadtest dblat [-d dev] [-n samples] [-c]
 *	Doorbell store latency, a benchmark (numbers, no verdict): the time
 *	one DB_SQ store takes to return (an uncached store retires when
 *	the device has taken it: under emulation, when the MMIO exit
 *	completes), first with the device idle, then while another context
 *	(a child process) streams 1 MiB COPYs, 16 MiB outstanding at all
 *	times.  With -c, the raw samples follow as CSV.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "measure.h"
#include "libdbnic.h"

#define COPY_BYTES	(1u << 20)	/* each ring COPY */
#define NCOPY		16		/* COPYs announced by one DB_SQ */
#define SQ_LOG		5		/* 32 slots: NCOPY + the NOP fit */
#define CQ_LOG		5
#define STALL_NS	10000000000ull	/* no progress for this long: stop */
#define LOAD_POLL_US	50		/* the loader's poll interval */

/* One context with one queue and a 1 MiB source and destination. */
struct ctx {
	struct dbnic_handle h;
	struct dbnic_qp qp;
	struct dbnic_umr src, dst;
	void *sbuf, *dbuf;
};

static void *buffer(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len))
		return NULL;
	memset(p, 0x5a, len);
	return p;
}

static int ctx_open(struct ctx *c, const char *dev)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = dbnic_open(&c->h, dev);
	if (ret) {
		fprintf(stderr, "%s: %s\n", dev, strerror(-ret));
		return ret;
	}
	ret = dbnic_qp_create_cq(&c->h, &c->qp, SQ_LOG, CQ_LOG,
				 DBNIC_UPOLICY_RING);
	if (ret) {
		fprintf(stderr, "create queue: %s\n", strerror(-ret));
		return ret;
	}
	if (c->h.info.max_xfer < COPY_BYTES) {
		fprintf(stderr, "max_xfer %u < %u\n", c->h.info.max_xfer,
			COPY_BYTES);
		return -EINVAL;
	}
	c->sbuf = buffer(COPY_BYTES);
	c->dbuf = buffer(COPY_BYTES);
	if (!c->sbuf || !c->dbuf)
		return -ENOMEM;
	ret = dbnic_mr_reg(&c->h, &c->src, c->sbuf, COPY_BYTES, 0);
	if (!ret)
		ret = dbnic_mr_reg(&c->h, &c->dst, c->dbuf, COPY_BYTES,
				   DBNIC_MR_LOCAL_WRITE);
	if (ret)
		fprintf(stderr, "register buffers: %s\n", strerror(-ret));
	return ret;
}

static void ctx_close(struct ctx *c)
{
	dbnic_mr_dereg(&c->h, &c->src);
	dbnic_mr_dereg(&c->h, &c->dst);
	dbnic_qp_destroy(&c->qp);
	dbnic_close(&c->h);
	free(c->sbuf);
	free(c->dbuf);
}

/* A 1 MiB COPY into the ring; not announced. */
static void put_copy(struct ctx *c)
{
	struct dbnic_sge s, d;
	struct dbnic_desc desc;

	dbnic_sge(&s, c->sbuf, COPY_BYTES, c->src.key);
	dbnic_sge(&d, c->dbuf, COPY_BYTES, c->dst.key);
	dbnic_build_copy(&desc, &s, 1, &d, 1);
	dbnic_ring_put(&c->qp, &desc, 0);
}

/* A NOP with COMPLETION into the ring (csum set when @prio); returned. */
static void put_nop(struct ctx *c, struct dbnic_desc *d, int prio)
{
	memset(d, 0, sizeof(*d));
	d->hdr.opcode = DBNIC_OP_NOP;
	d->hdr.flags = DBNIC_DESC_F_COMPLETION;
	d->hdr.size = dbnic_desc_blocks(0);
	dbnic_ring_put(&c->qp, d, prio);
}

/*
 * How many new CQEs the CQ holds, without taking them: only loads, so
 * that nothing but the stores under test reaches the device (a DB_CQ
 * store, which dbnic_poll() makes, is an MMIO write like any other).
 */
static unsigned int cq_peek(const struct dbnic_qp *qp, unsigned int max)
{
	unsigned int n;

	for (n = 0; n < max; n++) {
		uint16_t ci = qp->ci + n;
		volatile const struct dbnic_cqe *e =
			&qp->cq[dbnic_ring_slot(ci, qp->cq_log)];

		if ((e->flags & DBNIC_CQE_F_PHASE) !=
		    dbnic_cq_phase(ci, qp->cq_log))
			break;
	}
	dbnic_dma_rmb();
	return n;
}

/* Take @n CQEs into @out; 0, or -ETIMEDOUT when they do not come. */
static int cq_wait(struct dbnic_qp *qp, struct dbnic_cqe *out, unsigned int n)
{
	uint64_t progress = now_ns();
	unsigned int got = 0;

	while (got < n) {
		int k = dbnic_poll(qp, out + got, n - got);

		if (k > 0) {
			got += k;
			progress = now_ns();
		} else if (now_ns() - progress > STALL_NS) {
			return -ETIMEDOUT;
		}
	}
	return 0;
}

/* ---- order ------------------------------------------------------------ */

/*
 * The cases.  In (a) and (b) the program writes the NOP's eight words
 * back to back at the moment the scenario names; in (c) and (d) it writes
 * the first seven ahead, before the doorbell, while the device is idle
 * (the assembly waits in its slot; a DB_SQ that does not cover its index
 * leaves it alive, section 3.2), and the store that completes the copy
 * is the only one made at that moment.  The reference is always the
 * CQEs present just before the completing store.
 *
 * Under emulation a store into the BAR returns only once the device has
 * taken it.  A device that holds stores off while its engine runs (QEMU's
 * global lock held by the engine) delays the first seven stores of (a)
 * and (b) too, and with them the reference point: the COPYs completed
 * meanwhile count as completed before the last store, and (a) and (b)
 * cannot fail on it.  (d) can: its one store comes right after the load
 * that saw the first CQE, while the engine is busy.  A vCPU that does
 * not run between the doorbell and the completing store also moves the
 * reference, whichever the device (see order_case()).
 */
struct order_case {
	const char *name;
	int after_cqe;		/* wait for the first ring CQE */
	int early;		/* all words but the last before the DB_SQ */
};

static const struct order_case order_cases[] = {
	{ "(a) priority NOP written right after the doorbell", 0, 0 },
	{ "(b) priority NOP written once the first ring CQE appeared", 1, 0 },
	{ "(c) completing store of a priority NOP right after the doorbell", 0, 1 },
	{ "(d) completing store of a priority NOP once the first ring CQE appeared", 1, 1 },
};

struct order_result {
	unsigned int pos;	/* COPYs that completed before the NOP */
	unsigned int first;	/* CQEs present before the NOP's first store */
	unsigned int seen;	/* ... and just before its last store */
	int prio;		/* the NOP ran from the priority lane */
};

/* One run: 16 COPYs and the priority NOP.  0, a negative errno or -EIO. */
static int order_run(struct ctx *c, const struct order_case *oc,
		     struct order_result *r)
{
	struct dbnic_cqe cqe[NCOPY + 1];
	struct dbnic_desc nop;
	unsigned int i, slot, words;
	uint16_t nop_index;
	uint64_t t0;
	int ret;

	for (i = 0; i < NCOPY; i++)
		put_copy(c);
	put_nop(c, &nop, 1);
	nop_index = le16toh(nop.hdr.index);
	words = nop.hdr.size * DBNIC_DESC_BLOCK_SIZE / 8;
	slot = c->qp.prio_slot + c->qp.prio_next;
	c->qp.prio_next ^= 1;

	/*
	 * r->seen: the CQEs present when the store that completes the copy
	 * was issued (the count can only have grown since it was read).  It
	 * is read directly before that store, with nothing in between; in
	 * (d) it is the read that saw the first CQE.
	 */
	if (oc->early)
		dbnic_prio_put(&c->h, slot, &nop, 0, words - 1);
	/* One doorbell for the 16 COPYs, not for the NOP. */
	dbnic_db_sq(&c->h, c->qp.qid, nop_index);
	r->seen = 0;
	if (oc->after_cqe) {
		t0 = now_ns();
		while (!(r->seen = cq_peek(&c->qp, NCOPY + 1)))
			if (now_ns() - t0 > STALL_NS)
				return -ETIMEDOUT;
	} else if (oc->early) {
		r->seen = cq_peek(&c->qp, NCOPY + 1);
	}
	if (oc->early) {
		r->first = r->seen;
	} else {
		r->first = cq_peek(&c->qp, NCOPY + 1);
		dbnic_prio_put(&c->h, slot, &nop, 0, words - 1);
		r->seen = cq_peek(&c->qp, NCOPY + 1);
	}
	dbnic_prio_put(&c->h, slot, &nop, words - 1, 1);

	ret = cq_wait(&c->qp, cqe, NCOPY + 1);
	if (ret)
		return ret;
	r->pos = NCOPY;
	r->prio = 0;
	for (i = 0; i < NCOPY + 1; i++) {
		if (cqe[i].status != DBNIC_ST_OK) {
			fprintf(stderr, "index %u: status %s\n",
				le16toh(cqe[i].index),
				dbnic_status_name(cqe[i].status));
			ret = -EIO;
		}
		if (le16toh(cqe[i].index) == nop_index) {
			r->pos = i;
			r->prio = !!(cqe[i].flags & DBNIC_CQE_F_PRIO);
		}
	}
	return ret;
}

/*
 * The bound.  When the last store is issued, r->seen COPYs had completed
 * and the next one may have started (a started descriptor finishes before
 * the queue's next, priority or not: section 5).  The store may also
 * reach the device while one 64 KiB piece is in flight, and that piece may
 * be the first of the COPY after; that one too then finishes first.  No
 * other COPY had started: the NOP must complete before all of them, so at
 * most r->seen + 2 COPYs precede it.
 *
 * Runs that prove nothing are repeated, up to TRIES_PER_RUN times the
 * runs asked for: a NOP that fell back to the ring (its stores more than
 * the 10 ms flush timeout apart, section 3.2; it then runs last, as the
 * ring copy says), and a run whose reference point moved so far that no
 * COPY was left for the NOP to overtake (r->seen + 2 >= 16): the vCPU
 * did not run while the ring was busy.  Such a stall comes from the
 * host's scheduler, or from a device that keeps the vCPU out (an
 * interrupt needs QEMU's global lock too); either way that run's order
 * says nothing.  The runs where the completing store was issued with at
 * most one CQE there are the sharpest (nearly the whole ring to
 * overtake): the case goes on, within its tries, until it has SHARP_RUNS
 * of them as well.
 *
 * The host can also deschedule the vCPU in the instant between the load
 * that gave r->seen and the completing store, and then the store is
 * issued late by no fault of the device.  The window is a few
 * instructions, but a case makes hundreds of runs, and on a host with
 * several times more runnable threads than CPUs that happened about once
 * per thousand runs with the engine in an IOThread.  So one run too late
 * is reported and tolerated (LATE_TOLERATED); a device that keeps stores
 * out while its engine runs is late in many.  A case passes with at least
 * one conclusive run and at most LATE_TOLERATED too late.
 */
#define TRIES_PER_RUN	8
#define SHARP_RUNS	8
#define LATE_TOLERATED	1

static int order_case(struct ctx *c, const struct order_case *oc,
		      unsigned int runs)
{
	unsigned int done = 0, tries = 0, bad = 0, fellback = 0, moved = 0;
	unsigned int sharp = 0, early = 0;
	char list[32 * 12] = "", *p = list;

	printf("== %s\n", oc->name);
	while ((done < runs || sharp < SHARP_RUNS) &&
	       tries < TRIES_PER_RUN * runs) {
		struct order_result r;
		int ret;

		tries++;
		ret = order_run(c, oc, &r);
		if (ret) {
			printf("FAIL overtaking %s: run %u: %s\n", oc->name,
			       tries, ret == -ETIMEDOUT ?
			       "no completion for 10 s" : ret == -EIO ?
			       "error completions" : strerror(-ret));
			return 1;
		}
		if (!r.prio) {
			/*
			 * The last word reached the slot after the fallback
			 * had cleared it: alone, it waits there for the flush
			 * timeout, and the next post into the slot would
			 * complete with it before its own last store.  Let
			 * the timeout take it (section 3.2).
			 */
			printf("  run %3u: the NOP fell back to the ring\n",
			       tries);
			fellback++;
			usleep(3 * DBNIC_PRIO_FLUSH_TIMEOUT_NS / 1000);
			continue;
		}
		if (r.seen + 2 >= NCOPY && r.seen <= NCOPY) {
			moved++;
			continue;
		}
		printf("  run %3u: NOP after %2u of %u COPYs; CQEs seen before its first store %2u, when its last was issued %2u%s\n",
		       tries, r.pos, NCOPY, r.first, r.seen,
		       r.pos > r.seen + 2 ? ": TOO LATE" :
		       r.seen > NCOPY ? ": COMPLETED BEFORE ITS LAST STORE" : "");
		/* The NOP cannot complete before the store that completes it. */
		if (r.seen > NCOPY)
			early++;
		else if (r.pos > r.seen + 2)
			bad++;
		if (done < 32)
			p += sprintf(p, " %u/%u", r.pos, r.seen);
		done++;
		if (r.seen <= 1)
			sharp++;
	}
	printf("  %u runs: %u conclusive (%u with at most 1 CQE seen), %u with no COPY left to overtake, %u fell back\n",
	       tries, done, sharp, moved, fellback);
	if (!done) {
		printf("FAIL overtaking %s: no conclusive run in %u tries (%u fell back, %u with no COPY left to overtake: the vCPU did not run while the ring was busy)\n",
		       oc->name, tries, fellback, moved);
		return 1;
	}
	printf("%s overtaking %s: %u of %u conclusive runs too late, %u tolerated (NOP position/CQEs seen when its last store was issued, first 32:%s)\n",
	       bad > LATE_TOLERATED || early ? "FAIL" : "PASS", oc->name, bad,
	       done, LATE_TOLERATED, list);
	if (early)
		printf("FAIL overtaking %s: %u runs completed the NOP before its last store\n",
		       oc->name, early);
	return bad > LATE_TOLERATED || early;
}

static int cmd_order(const char *dev, unsigned int runs)
{
	unsigned int i;
	struct ctx c;
	int fail = 0;

	if (ctx_open(&c, dev))
		return 1;
	if (!dbnic_qp_has_prio(&c.qp)) {
		printf("FAIL overtaking: the queue has no priority slots\n");
		return 1;
	}
	printf("context %u, queue %u: %u COPYs of %u KiB per run, %u runs per case; the NOP may follow the COPYs completed when its last store was issued, plus 2\n",
	       c.h.info.ctx, c.qp.qid, NCOPY, COPY_BYTES >> 10, runs);
	for (i = 0; i < sizeof(order_cases) / sizeof(order_cases[0]); i++)
		fail |= order_case(&c, &order_cases[i], runs);
	ctx_close(&c);
	return fail;
}

/* ---- dblat ------------------------------------------------------------ */

/* Shared with the loader child. */
struct load_state {
	volatile int go;		/* start streaming */
	volatile int stop;
	volatile int streaming;		/* its first COPY completed */
	volatile unsigned long long copies;
	volatile int error;
};

/* The child: keep NCOPY COPYs of 1 MiB outstanding until told to stop. */
static int loader(const char *dev, struct load_state *st)
{
	struct dbnic_cqe cqe[NCOPY];
	uint64_t progress;
	unsigned int out = 0, i;
	struct ctx c;
	int k;

	if (ctx_open(&c, dev)) {
		st->error = 1;
		return 1;
	}
	while (!st->go && !st->stop)
		usleep(1000);
	progress = now_ns();
	while (!st->stop) {
		if (out < NCOPY) {
			for (; out < NCOPY; out++)
				put_copy(&c);
			dbnic_db_sq(&c.h, c.qp.qid, c.qp.pi);
		}
		k = dbnic_poll(&c.qp, cqe, NCOPY);
		if (k <= 0) {
			if (now_ns() - progress > STALL_NS) {
				st->error = 1;
				break;
			}
			/*
			 * 16 MiB is queued: sleep rather than spin, so that
			 * the vCPU idles and leaves the host's CPUs to the
			 * device (under TCG a spinning vCPU is a busy host
			 * thread).
			 */
			usleep(LOAD_POLL_US);
			continue;
		}
		progress = now_ns();
		for (i = 0; i < (unsigned int)k; i++)
			if (cqe[i].status != DBNIC_ST_OK)
				st->error = 1;
		out -= k;
		st->copies += k;
		st->streaming = 1;
	}
	/* Drain, so that the queue is destroyed idle. */
	cq_wait(&c.qp, cqe, out);
	ctx_close(&c);
	return st->error;
}

/* @n doorbell stores (each announcing one NOP, waited for) into @ns. */
static int dblat_phase(struct ctx *c, uint64_t *ns, unsigned int n)
{
	struct dbnic_cqe cqe;
	struct dbnic_desc nop;
	unsigned int i;
	uint64_t t;
	int ret;

	for (i = 0; i < n; i++) {
		/*
		 * A pseudo-random pause of up to 256 us first: the store
		 * before this one (DB_CQ, in cq_wait()) may have waited for
		 * the device, and a store made right after that one got in
		 * would see the device at the same, favourable, moment each
		 * time.
		 */
		t = now_ns() + ((i * 2654435761u) >> 8) % 256000;
		while (now_ns() < t)
			;
		put_nop(c, &nop, 0);
		t = now_ns();
		dbnic_db_sq(&c->h, c->qp.qid, c->qp.pi);
		ns[i] = now_ns() - t;
		ret = cq_wait(&c->qp, &cqe, 1);
		if (ret)
			return ret;
		if (cqe.status != DBNIC_ST_OK)
			return -EIO;
	}
	return 0;
}

static void stats(const char *label, uint64_t *ns, unsigned int n)
{
	uint64_t *s = malloc(n * sizeof(*s));

	if (!s)
		return;
	memcpy(s, ns, n * sizeof(*s));
	samples_sort(s, n);
	printf("%-7s %7u %9llu %10llu %9llu %9llu %9llu\n", label, n,
	       (unsigned long long)s[0], (unsigned long long)s[n / 2],
	       (unsigned long long)s[(n * 90 + 99) / 100 - 1],
	       (unsigned long long)s[(n * 99 + 99) / 100 - 1],
	       (unsigned long long)s[n - 1]);
	free(s);
}

static int cmd_dblat(const char *dev, unsigned int n, int csv)
{
	uint64_t *idle, *busy, t0, t;
	unsigned long long copies0, copies;
	struct load_state *st;
	struct ctx c;
	int ret, status;
	unsigned int i;
	pid_t pid;

	idle = calloc(n, sizeof(*idle));
	busy = calloc(n, sizeof(*busy));
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!idle || !busy || st == MAP_FAILED) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	memset(st, 0, sizeof(*st));
	/*
	 * The loader first, so that it inherits none of this process's
	 * mappings or registrations; it waits for st->go.
	 */
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (!pid)
		_exit(loader(dev, st));
	ret = ctx_open(&c, dev);
	if (!ret)
		ret = dblat_phase(&c, idle, n);
	if (ret) {
		fprintf(stderr, "idle phase: %s\n", strerror(-ret));
		st->stop = 1;
		waitpid(pid, &status, 0);
		return 1;
	}
	st->go = 1;
	t0 = now_ns();
	while (!st->streaming && !st->error && now_ns() - t0 < STALL_NS)
		usleep(1000);
	copies0 = st->copies;
	t0 = now_ns();
	ret = st->streaming ? dblat_phase(&c, busy, n) : -ETIMEDOUT;
	t = now_ns() - t0;
	copies = st->copies - copies0;
	st->stop = 1;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) || st->error) {
		fprintf(stderr, "the loading process failed\n");
		ret = ret ? ret : -EIO;
	}
	if (ret) {
		fprintf(stderr, "loaded phase: %s\n", strerror(-ret));
		return 1;
	}

	printf("doorbell store latency: one DB_SQ store (announcing a NOP, waited for) into context %u's page, in ns\n",
	       c.h.info.ctx);
	printf("loaded: another context keeps %u COPYs of %u KiB outstanding (%llu completed during the phase, %llu MB/s)\n",
	       NCOPY, COPY_BYTES >> 10, copies,
	       t ? copies * COPY_BYTES * 1000ull / t : 0);
	printf("%-7s %7s %9s %10s %9s %9s %9s\n", "phase", "samples", "min_ns",
	       "median_ns", "p90_ns", "p99_ns", "max_ns");
	stats("idle", idle, n);
	stats("loaded", busy, n);
	if (csv) {
		printf("DBNIC-CSV-BEGIN dblat\nphase,sample,ns\n");
		for (i = 0; i < n; i++)
			printf("idle,%u,%llu\n", i, (unsigned long long)idle[i]);
		for (i = 0; i < n; i++)
			printf("loaded,%u,%llu\n", i, (unsigned long long)busy[i]);
		printf("DBNIC-CSV-END dblat\n");
	}
	ctx_close(&c);
	free(idle);
	free(busy);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: dbnic-loadtest order [-d /dev/dbnic0] [-r runs]\n"
		"       dbnic-loadtest dblat [-d /dev/dbnic0] [-n samples] [-c]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/dbnic0";
	unsigned int runs = 16, n = 1000;
	int opt, csv = 0;
	const char *cmd;

	cli_prog = "dbnic-loadtest";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "d:r:n:ch")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'r':
			runs = cli_parse_num("-r", optarg, 1, 1000, 0);
			break;
		case 'n':
			n = cli_parse_num("-n", optarg, 1, 1000000, 0);
			break;
		case 'c':
			csv = 1;
			break;
		default:
			return usage();
		}
	}
	if (optind < argc)
		cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if (!strcmp(cmd, "order"))
		return cmd_order(dev, runs);
	if (!strcmp(cmd, "dblat"))
		return cmd_dblat(dev, n, csv);
	cli_bad_usage("unknown command '%s': order or dblat", cmd);
}
