// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dbnic-test-tool: a process that attacks the driver and the device, or
 * holds on to them while they go, for the guest tests (tests/guest/).
 * Not the user's tool (user/dbnic-tool.c), whose options, checks and
 * copy engine it shares (user/tool.h).
 *
 *   dbnic-test-tool evil  --evil-qid Q [--evil-cqn C]    ring another's queue
 *   dbnic-test-tool evil  --evil-key [--key K --addr A]  unregistered / foreign
 *   dbnic-test-tool evil  --torn                         torn priority writes
 *   dbnic-test-tool evil  --evil-mmap [--evil-qid Q]     mappings and fork
 *   dbnic-test-tool hold  [--busy | --wait-file F] [--ids FILE]
 *   dbnic-test-tool memlock
 *   dbnic-test-tool late  [--size N] --wait-file F [--ids FILE]
 *                    (on a device that answers REG_MR late)
 *   dbnic-test-tool storm --arm [--count N]   DB_CQ with ARM over an unconsumed CQE
 *   dbnic-test-tool storm --cq-overflow       sq log 12, cq log 1, DB_SQ 4096, 8192
 *   dbnic-test-tool stall --wait-file F --ids FILE   ioctls stuck in faults
 *   dbnic-test-tool limits --max-ctx N               per-user limits
 *
 * Plus dbnic-tool's options (--dev, --size, --depth, --verify ...).
 * Exits 0 when what it saw is what it expected (each attack refused), 1
 * otherwise, 2 on bad usage.
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

/* ------------------------------------------------------------------ */
/* evil                                                                  */
/* ------------------------------------------------------------------ */

/* After an attack: no CQE may arrive on our queue for a while. */
static void expect_no_cqe(struct dbnic_qp *qp, const char *what)
{
	struct dbnic_cqe c;

	int ret = wait_cqe(qp, &c, 0.2);

	check(ret == -ETIMEDOUT, "%s: no completion on own queue%s", what,
	      ret ? "" : " (got one)");
}

static void evil_qid(const struct opts *o, struct dbnic_handle *h,
		     struct dbnic_qp *qp)
{
	uint32_t q = o->evil_qid;
	struct dbnic_desc d;
	struct dbnic_cqe c;

	/* 1. DB_SQ naming the victim's queue, through our own page. */
	dbnic_db_sq(h, q, 1);
	dbnic_db_sq(h, q, 0x100);
	msg("evil-qid: rang DB_SQ of queue %u twice through context %u\n", q,
	    h->info.ctx);
	/* 2. DB_CQ naming the victim's CQ. */
	if (o->evil_cqn >= 0) {
		dbnic_db_cq(h, o->evil_cqn, 0x40, 1);
		msg("evil-qid: rang DB_CQ of CQ %ld\n", o->evil_cqn);
	}
	/* 3. A complete, checksummed priority descriptor naming it. */
	if (h->prio) {
		memset(&d, 0, sizeof(d));
		d.hdr.opcode = DBNIC_OP_NOP;
		d.hdr.flags = DBNIC_DESC_F_COMPLETION;
		d.hdr.size = 1;
		d.hdr.qid = htole16(q);
		d.hdr.index = htole16(0);
		d.hdr.csum = htole32(dbnic_desc_csum(&d, 8));
		dbnic_prio_put(h, h->info.prio_slots - 1, &d, 0, 8);
		msg("evil-qid: wrote a priority NOP for queue %u\n", q);
	}
	expect_no_cqe(qp, "evil-qid");
	/* 4. Our ring, our doorbell, a descriptor that names the victim. */
	memset(&d, 0, sizeof(d));
	d.hdr.opcode = DBNIC_OP_NOP;
	d.hdr.flags = DBNIC_DESC_F_COMPLETION;
	d.hdr.size = 1;
	dbnic_ring_put(qp, &d, 0);
	/* dbnic_ring_put() wrote our qid: overwrite it in the ring. */
	((struct dbnic_desc_hdr *)(qp->sq + ((size_t)dbnic_ring_slot(qp->pi - 1, qp->sq_log) << qp->stride)))->qid = htole16(q);
	dbnic_dma_wmb();
	dbnic_db_sq(h, qp->qid, qp->pi);
	memset(&c, 0, sizeof(c));
	c.status = 0xff;
	wait_cqe(qp, &c, POLL_TIMEOUT_S);
	check(c.status == DBNIC_ST_BAD_DESC,
	      "evil-qid: own-ring descriptor naming queue %u completes BAD_DESC (got %s)",
	      q, dbnic_status_name(c.status));
}

/* Post one descriptor and expect status @want. */
static void post_expect(struct dbnic_qp *qp, struct dbnic_desc *d,
			unsigned int want, const char *what)
{
	struct dbnic_cqe c = { 0 };
	int ret = dbnic_post(qp, d, DBNIC_UPATH_RING);

	if (ret < 0) {
		check(0, "%s: post failed: %s", what, strerror(-ret));
		return;
	}
	ret = wait_cqe(qp, &c, POLL_TIMEOUT_S);
	check(!ret && c.status == want, "%s: status %s (want %s)", what,
	      ret ? "timeout" : dbnic_status_name(c.status),
	      dbnic_status_name(want));
}

static void evil_key(const struct opts *o, struct dbnic_handle *h,
		     struct dbnic_qp *qp)
{
	size_t len = 64 << 10;
	uint8_t *src = alloc(len), *dst = alloc(len), *ro = alloc(len);
	struct dbnic_umr smr, dmr, romr;
	struct dbnic_sge s, t;
	struct dbnic_desc d;
	uint32_t foreign = o->key ? o->key : 0x10001;
	uint64_t faddr = o->addr ? o->addr : (uintptr_t)dst;

	memset(src, 0x5a, len);
	memset(dst, 0xee, len);
	reg(h, &smr, src, len, 0);
	reg(h, &dmr, dst, len, DBNIC_MR_LOCAL_WRITE);
	reg(h, &romr, ro, len, 0);

	/* Write into the victim's buffer with the victim's key. */
	dbnic_sge(&s, src, 4096, smr.key);
	dbnic_sge(&t, (void *)(uintptr_t)faddr, 4096, foreign);
	dbnic_build_copy(&d, &s, 1, &t, 1);
	post_expect(qp, &d, DBNIC_ST_ACCESS, "evil-key: write through a foreign key");
	/* Read the victim's buffer with the victim's key. */
	dbnic_sge(&s, (void *)(uintptr_t)faddr, 4096, foreign);
	dbnic_sge(&t, dst, 4096, dmr.key);
	dbnic_build_copy(&d, &s, 1, &t, 1);
	post_expect(qp, &d, DBNIC_ST_ACCESS, "evil-key: read through a foreign key");
	/* Own key, past the end of the registration. */
	dbnic_sge(&s, src, 4096, smr.key);
	dbnic_sge(&t, dst + len - 2048, 4096, dmr.key);
	dbnic_build_copy(&d, &s, 1, &t, 1);
	post_expect(qp, &d, DBNIC_ST_ACCESS, "evil-key: past the registration");
	/* Own key, memory before the registration. */
	dbnic_sge(&s, src - 4096, 4096, smr.key);
	dbnic_sge(&t, dst, 4096, dmr.key);
	dbnic_build_copy(&d, &s, 1, &t, 1);
	post_expect(qp, &d, DBNIC_ST_ACCESS, "evil-key: before the registration");
	/* Key 0: a raw DMA address, for privileged contexts only. */
	dbnic_sge(&s, src, 4096, smr.key);
	dbnic_sge(&t, (void *)(uintptr_t)0x100000, 4096, 0);
	dbnic_build_copy(&d, &s, 1, &t, 1);
	post_expect(qp, &d, DBNIC_ST_ACCESS, "evil-key: key 0 (DMA address)");
	/* A made-up key. */
	dbnic_sge(&t, dst, 4096, 0x7fff0003);
	dbnic_build_fill(&d, 0x11223344, &t, 1);
	post_expect(qp, &d, DBNIC_ST_ACCESS, "evil-key: made-up key");
	/* A source-only registration as a destination. */
	dbnic_sge(&s, src, 4096, smr.key);
	dbnic_sge(&t, ro, 4096, romr.key);
	dbnic_build_copy(&d, &s, 1, &t, 1);
	post_expect(qp, &d, DBNIC_ST_ACCESS, "evil-key: write to a read-only registration");
	/* A key that was deregistered. */
	dbnic_mr_dereg(h, &romr);
	dbnic_sge(&t, ro, 4096, romr.key);
	dbnic_build_fill(&d, 0x55667788, &t, 1);
	post_expect(qp, &d, DBNIC_ST_ACCESS, "evil-key: stale key");

	check(all_bytes(dst, len, 0xee) && all_bytes(ro, len, 0),
	      "evil-key: own buffers untouched");
	/* And the same through the priority path, then a legal copy. */
	if (dbnic_qp_has_prio(qp)) {
		struct dbnic_cqe c;

		dbnic_sge(&t, (void *)(uintptr_t)faddr, 4096, foreign);
		dbnic_build_fill(&d, 0xdeadbeef, &t, 1);
		dbnic_post(qp, &d, DBNIC_UPATH_PRIO);
		memset(&c, 0, sizeof(c));
		c.status = 0xff;
		wait_cqe(qp, &c, POLL_TIMEOUT_S);
		check(c.status == DBNIC_ST_ACCESS,
		      "evil-key: priority fill through a foreign key: %s",
		      dbnic_status_name(c.status));
	}
	dbnic_sge(&s, src, 4096, smr.key);
	dbnic_sge(&t, dst, 4096, dmr.key);
	dbnic_build_copy(&d, &s, 1, &t, 1);
	post_expect(qp, &d, DBNIC_ST_OK, "evil-key: a legal copy still works");
	check(all_bytes(dst, 4096, 0x5a), "evil-key: legal copy data");
	dbnic_mr_dereg(h, &smr);
	dbnic_mr_dereg(h, &dmr);
}

/*
 * A 2-block COPY (5 SGEs) whose ring copy is complete; the priority copy
 * is mangled by @mode.  The descriptor must run exactly once, from the
 * ring, with the right data.
 */
static void torn_one(struct dbnic_handle *h, struct dbnic_qp *qp,
		     const struct dbnic_umr *smr, const struct dbnic_umr *dmr,
		     int mode, const char *what)
{
	uint8_t *src = smr->addr, *dst = dmr->addr;
	struct dbnic_sge s[4], t;
	struct dbnic_desc d, other;
	struct dbnic_cqe c;
	unsigned int slot = qp->prio_slot + qp->prio_next, i;
	uint16_t index;
	size_t len = 16384;

	for (i = 0; i < len; i++)
		src[i] = (uint8_t)(i * 7 + mode);
	memset(dst, 0, len);
	for (i = 0; i < 4; i++)
		dbnic_sge(&s[i], src + i * 4096, 4096, smr->key);
	dbnic_sge(&t, dst, len, dmr->key);
	dbnic_build_copy(&d, s, 4, &t, 1);
	index = dbnic_ring_put(qp, &d, 1);
	qp->prio_next ^= 1;

	switch (mode) {
	case 0:	/* the first block only, then DB_SQ */
		dbnic_prio_put(h, slot, &d, 0, 8);
		dbnic_db_sq(h, qp->qid, qp->pi);
		break;
	case 1:	/* every word, one of them from another post: csum fails */
		other = d;
		other.sge[3].len = htole32(1234);	/* in block 1 */
		dbnic_prio_put(h, slot, &d, 0, 8);
		dbnic_prio_put(h, slot, &other, 8, 8);
		break;
	default:	/* no header at all, then DB_SQ */
		dbnic_prio_put(h, slot, &d, 2, 14);
		dbnic_db_sq(h, qp->qid, qp->pi);
		break;
	}
	memset(&c, 0, sizeof(c));
	c.status = 0xff;
	wait_cqe(qp, &c, POLL_TIMEOUT_S);
	check(c.status == DBNIC_ST_OK && le16toh(c.index) == index &&
	      !(c.flags & DBNIC_CQE_F_PRIO),
	      "torn: %s: ran once from the ring (status %s, index %u of %u, flags %#x)",
	      what, dbnic_status_name(c.status), le16toh(c.index), index,
	      c.flags);
	check(!memcmp(src, dst, len), "torn: %s: data", what);
	/*
	 * Let the device flush what is left in the slot (its 10 ms timeout)
	 * before the next post, so that each case starts from an empty slot
	 * and the counters tell the cases apart.  (The partial copy of case 0
	 * died at its DB_SQ, datasheet 3.2: it is never taken as a doorbell.)
	 */
	usleep(3 * DBNIC_PRIO_FLUSH_TIMEOUT_NS / 1000);
}

static void evil_torn(struct dbnic_handle *h, struct dbnic_qp *qp)
{
	size_t len = 64 << 10;
	struct dbnic_umr smr, dmr;
	struct dbnic_cqe c;
	int ret;

	if (!dbnic_qp_has_prio(qp)) {
		check(0, "torn: the queue has no priority slots");
		return;
	}
	reg(h, &smr, alloc(len), len, 0);
	reg(h, &dmr, alloc(len), len, DBNIC_MR_LOCAL_WRITE);
	torn_one(h, qp, &smr, &dmr, 0, "partial descriptor + DB_SQ");
	torn_one(h, qp, &smr, &dmr, 1, "words of two posts");
	torn_one(h, qp, &smr, &dmr, 2, "no header + DB_SQ");
	/* Past the flush timeout, nothing runs a second time. */
	usleep(50000);
	memset(&c, 0, sizeof(c));
	ret = wait_cqe(qp, &c, 0.2);
	check(ret == -ETIMEDOUT, "torn: no second completion%s", ret ? "" : " (got one)");
	if (!ret)
		msg("torn: extra CQE index %u status %s flags %#x\n",
		    le16toh(c.index), dbnic_status_name(c.status), c.flags);
	dbnic_mr_dereg(h, &smr);
	dbnic_mr_dereg(h, &dmr);
}

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;

static void on_fault(int sig)
{
	fault_sig = sig;
	siglongjmp(fault_jmp, 1);
}

static void catch_faults(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/* Store to *p; Return: the signal it raised, or 0. */
static int poke(volatile uint32_t *p)
{
	fault_sig = 0;
	if (!sigsetjmp(fault_jmp, 1))
		*p = 0;
	return fault_sig;
}

static int peek(volatile const uint8_t *p)
{
	fault_sig = 0;
	if (!sigsetjmp(fault_jmp, 1))
		(void)*p;
	return fault_sig;
}

static void try_map(int fd, size_t len, int prot, int flags, uint64_t off,
		    int want, const char *what)
{
	void *p = mmap(NULL, len, prot, flags, fd, (off_t)off);
	int err = p == MAP_FAILED ? errno : 0;

	if (p != MAP_FAILED)
		munmap(p, len);
	check(err == want, "evil-mmap: %s: %s", what,
	      err ? strerror(err) : "mapped");
}

static int noexec_dev(void)
{
	struct statvfs sv;

	return !statvfs("/dev", &sv) && (sv.f_flag & ST_NOEXEC);
}

static void evil_mmap(const struct opts *o, struct dbnic_handle *h,
		      struct dbnic_qp *qp)
{
	struct dbnic_udestroy_qp dq = { 0 };
	struct dbnic_udereg_mr dm = { 0 };
	uint64_t window = 1ull << 22;
	int st;
	pid_t pid;

	if (o->evil_qid >= 0) {
		try_map(h->fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			(o->evil_qid + 1) * window, EINVAL,
			"another context's send ring");
		try_map(h->fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			(o->evil_qid + 1) * window + window / 2, EINVAL,
			"another context's completion ring");
		dq.qid = o->evil_qid;
		check(ioctl(h->fd, DBNIC_IOC_DESTROY_QP, &dq) && errno == ENOENT,
		      "evil-mmap: destroying another context's queue: ENOENT");
	}
	if (o->key) {
		dm.key = o->key;
		check(ioctl(h->fd, DBNIC_IOC_DEREG_MR, &dm) && errno == ENOENT,
		      "evil-mmap: deregistering another context's key: ENOENT");
	}
	try_map(h->fd, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0, EINVAL,
		"private doorbell mapping");
	try_map(h->fd, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, 0, EINVAL,
		"both halves in one mapping");
	/* EPERM if /dev is mounted noexec: refused before the driver. */
	try_map(h->fd, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, 0,
		noexec_dev() ? EPERM : EINVAL, "executable doorbell");
	try_map(h->fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 0x2000, EINVAL,
		"offset past the doorbell page");
	try_map(h->fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		(qp->qid + 1) * window + 4096, EINVAL, "inside own ring");
	try_map(h->fd, qp->sq_map + 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		(qp->qid + 1) * window, EINVAL, "longer than own ring");
	try_map(h->fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		(qp->qid + 1) * window, 0, "own ring");

	/* A child shares the file but not the mappings, nor the context. */
	catch_faults();
	pid = fork();
	if (pid == 0) {
		struct dbnic_uinfo info;
		void *p;
		int bad = 0;

		if (!ioctl(h->fd, DBNIC_IOC_QUERY, &info) || errno != EPERM)
			bad |= 1;
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, h->fd, 0);
		if (p != MAP_FAILED || errno != EPERM)
			bad |= 2;
		if (poke(h->db) != SIGSEGV)
			bad |= 4;
		if (peek((volatile const uint8_t *)qp->cq) != SIGSEGV)
			bad |= 8;
		_exit(bad);
	}
	if (pid < 0)
		die("fork", errno);
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "evil-mmap: a forked child gets EPERM and no mappings (%#x)",
	      WIFEXITED(st) ? WEXITSTATUS(st) : 0x100 | WTERMSIG(st));
}

static int cmd_evil(const struct opts *o)
{
	struct dbnic_handle h;
	struct dbnic_qp qp;

	raise_memlock();
	open_dev(o, &h);
	make_qp(o, &h, &qp);
	msg("evil: ctx %u qid %u cqn %u\n", h.info.ctx, qp.qid, qp.cqn);
	if (o->evil_mmap)
		evil_mmap(o, &h, &qp);
	else if (o->evil_qid >= 0)
		evil_qid(o, &h, &qp);
	if (o->evil_key)
		evil_key(o, &h, &qp);
	if (o->torn)
		evil_torn(&h, &qp);
	dbnic_qp_destroy(&qp);
	dbnic_close(&h);
	msg("evil: %d failures\n", failures);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* hold: keep mappings while the device goes away                       */
/* ------------------------------------------------------------------ */

static int cmd_hold(const struct opts *o)
{
	static struct xfer x;
	struct dbnic_uinfo info;
	int sig, err;

	x.o = o;
	xfer_setup(&x);
	catch_faults();
	if (o->busy) {
		struct dbnic_cqe cqe[16];
		unsigned int s;
		int i, n;

		/* Post and poll until a mapping access faults. */
		fault_sig = 0;
		if (!sigsetjmp(fault_jmp, 1)) {
			for (;;) {
				for (s = 0; s < x.depth; s++)
					if (!x.busy[s] && xfer_post(&x, s) == -EAGAIN)
						break;
				n = dbnic_poll(&x.qp, cqe, 16);
				for (i = 0; i < n; i++)
					xfer_complete(&x, &cqe[i]);
			}
		}
		sig = fault_sig;
		check(sig == SIGBUS, "hold: busy process faulted with %s after %lu ops",
		      sig == SIGBUS ? "SIGBUS" : strsignal(sig), x.done);
	} else {
		while (access(o->wait_file, F_OK))
			usleep(20000);
		check(poke(x.h.db) == SIGBUS, "hold: doorbell store raises SIGBUS");
		check(peek((volatile const uint8_t *)x.qp.cq) == SIGBUS,
		      "hold: completion ring load raises SIGBUS");
		check(peek(x.qp.sq) == SIGBUS, "hold: send ring load raises SIGBUS");
	}
	err = ioctl(x.h.fd, DBNIC_IOC_QUERY, &info) ? errno : 0;
	check(err == ENODEV, "hold: ioctl after removal: %s",
	      err ? strerror(err) : "succeeded");
	check(x.errors == 0 && x.bad_data == 0,
	      "hold: no bad completion before removal");
	/* Unmap everything (no fault) and close: the driver frees the file. */
	dbnic_close(&x.h);
	check(1, "hold: closed");
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* memlock: pinned pages count against RLIMIT_MEMLOCK                   */
/* ------------------------------------------------------------------ */

static int cmd_memlock(const struct opts *o)
{
	struct rlimit rl = { 256 << 10, 256 << 10 };
	struct dbnic_handle h;
	struct dbnic_umr a, b, c;
	uint8_t *p = alloc(2 << 20);
	int ret;

	open_dev(o, &h);
	/* Without CAP_IPC_LOCK (not root any more), a 256 KiB limit. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		die("drop privileges", errno);
	check(vm_pin_kb() == 0, "memlock: VmPin 0 kB at start (%ld)", vm_pin_kb());
	ret = dbnic_mr_reg(&h, &a, p, 1 << 20, DBNIC_MR_LOCAL_WRITE);
	check(ret == -ENOMEM, "memlock: 1 MiB over a 256 KiB limit: %s",
	      strerror(-ret));
	ret = dbnic_mr_reg(&h, &a, p, 128 << 10, DBNIC_MR_LOCAL_WRITE);
	check(!ret, "memlock: 128 KiB: %s", strerror(-ret));
	check(vm_pin_kb() == 128, "memlock: VmPin 128 kB (%ld)", vm_pin_kb());
	ret = dbnic_mr_reg(&h, &b, p + (512 << 10), 128 << 10, 0);
	check(!ret, "memlock: another 128 KiB, at the limit: %s", strerror(-ret));
	ret = dbnic_mr_reg(&h, &c, p + (1 << 20), 4096, 0);
	check(ret == -ENOMEM, "memlock: one page past the limit: %s",
	      strerror(-ret));
	dbnic_mr_dereg(&h, &a);
	dbnic_mr_dereg(&h, &b);
	check(vm_pin_kb() == 0, "memlock: VmPin back to 0 kB (%ld)", vm_pin_kb());
	ret = dbnic_mr_reg(&h, &a, p, 256 << 10, 0);
	check(!ret, "memlock: 256 KiB after deregistering: %s", strerror(-ret));
	dbnic_close(&h);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* late: commands that time out (test-only admin-delay-ms)              */
/* ------------------------------------------------------------------ */

/*
 * With REG_MR answered after the driver's admin timeout, it and the
 * CREATE_CQ behind it fail with ETIMEDOUT; the driver keeps the pages pinned (VmPin)
 * until the device answers.  --ids gets "ctx C pid P vmpin K" once both
 * failed; after --wait-file appears (the test has seen the late answers
 * undone) VmPin must be back to 0, with this context still open.
 */
static int cmd_late(const struct opts *o)
{
	struct dbnic_handle h;
	struct dbnic_umr mr;
	struct dbnic_qp qp;
	uint8_t *p = alloc(o->size);
	char line[96];
	FILE *f;
	int ret;

	raise_memlock();
	open_dev(o, &h);
	memset(p, 0x5a, o->size);
	ret = dbnic_mr_reg(&h, &mr, p, o->size, DBNIC_MR_LOCAL_WRITE);
	check(ret == -ETIMEDOUT, "late: REG_MR times out: %s",
	      ret ? strerror(-ret) : "succeeded");
	ret = dbnic_qp_create(&h, &qp, o->sq_log, o->policy);
	check(ret == -ETIMEDOUT, "late: CREATE_QP times out: %s",
	      ret ? strerror(-ret) : "succeeded");
	snprintf(line, sizeof(line), "ctx %u pid %d vmpin %ld\n", h.info.ctx,
		 (int)getpid(), vm_pin_kb());
	msg("late: %s", line);
	if (o->ids) {
		f = fopen(o->ids, "w");
		if (!f || fputs(line, f) < 0 || fclose(f))
			die(o->ids, errno);
	}
	while (access(o->wait_file, F_OK))
		usleep(20000);
	check(vm_pin_kb() == 0, "late: VmPin back to 0 kB once answered (%ld)",
	      vm_pin_kb());
	check(all_bytes(p, o->size, 0x5a), "late: buffer untouched");
	dbnic_close(&h);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* stall: ioctls whose user memory faults until the test says so        */
/* ------------------------------------------------------------------ */

struct stalled {
	int fd;
	unsigned long cmd;
	void *arg;
	int err;			/* errno of the ioctl, 0 if it worked */
};

static void *stall_thread(void *p)
{
	struct stalled *st = p;

	st->err = ioctl(st->fd, st->cmd, st->arg) ? errno : 0;
	return NULL;
}

/*
 * Two ioctls fault on pages that userfaultfd holds back: REG_MR of a
 * buffer there (the driver pins it) and DESTROY_QP with its argument
 * there (the driver copies it in).  Once both faults are pending, write
 * the ids file and wait for the wait file; the test removes the device
 * meanwhile, which must not wait for the faults.  Then resolve them: both
 * ioctls must fail with ENODEV.  Exit 77 without userfaultfd.
 */
static int cmd_stall(const struct opts *o)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register ur = { 0 };
	struct uffdio_zeropage zp = { 0 };
	struct stalled reg_st, arg_st;
	struct dbnic_ureg_mr *rm;
	struct dbnic_handle h;
	pthread_t t1, t2;
	size_t len = 2 * 65536;
	struct uffd_msg m;
	struct pollfd pfd;
	uint8_t *p;
	FILE *f;
	int uffd, n;

	raise_memlock();
	open_dev(o, &h);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		msg("SKIP stall: no userfaultfd (%s): the kernel needs CONFIG_USERFAULTFD\n",
		    strerror(errno));
		return 77;
	}
	if (ioctl(uffd, UFFDIO_API, &api))
		die("UFFDIO_API", errno);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		die("mmap", errno);
	ur.range.start = (uintptr_t)p;
	ur.range.len = len;
	ur.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &ur))
		die("UFFDIO_REGISTER", errno);

	/* The REG_MR argument is ordinary memory, its buffer is not. */
	rm = calloc(1, sizeof(*rm));
	rm->addr = (uintptr_t)p;
	rm->length = 65536;
	rm->access = DBNIC_MR_LOCAL_WRITE;
	reg_st = (struct stalled){ h.fd, DBNIC_IOC_REG_MR, rm, -1 };
	arg_st = (struct stalled){ h.fd, DBNIC_IOC_DESTROY_QP, p + 65536, -1 };
	if (pthread_create(&t1, NULL, stall_thread, &reg_st) ||
	    pthread_create(&t2, NULL, stall_thread, &arg_st))
		die("pthread_create", EAGAIN);

	/* Both faults reach userfaultfd: the ioctls are stuck in them. */
	for (n = 0; n < 2; ) {
		pfd.fd = uffd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, POLL_TIMEOUT_S * 1000) != 1)
			break;
		if (read(uffd, &m, sizeof(m)) == sizeof(m) &&
		    m.event == UFFD_EVENT_PAGEFAULT)
			n++;
	}
	check(n == 2, "stall: both ioctls fault on held-back pages (%d)", n);
	if (o->ids && (f = fopen(o->ids, "w"))) {
		fprintf(f, "ctx %u faults %d\n", h.info.ctx, n);
		fclose(f);
	}
	while (access(o->wait_file, F_OK))
		usleep(20000);

	zp.range.start = (uintptr_t)p;
	zp.range.len = len;
	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zp))
		die("UFFDIO_ZEROPAGE", errno);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	check(reg_st.err == ENODEV, "stall: REG_MR of a held-back buffer: %s",
	      reg_st.err ? strerror(reg_st.err) : "succeeded");
	check(arg_st.err == ENODEV, "stall: ioctl with a held-back argument: %s",
	      arg_st.err ? strerror(arg_st.err) : "succeeded");
	close(uffd);
	dbnic_close(&h);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* storm: what a process can make the device do (issue 6, section 2)    */
/* ------------------------------------------------------------------ */

/*
 * One CQE left unconsumed, then --count DB_CQ writes with ARM over it.
 * Each arms a CQ that already holds a CQE: on a vector, every write would
 * be an MSI.  The test counts the interrupts from /proc/interrupts.
 */
static void storm_arm(const struct opts *o, struct dbnic_handle *h,
		      struct dbnic_qp *qp)
{
	volatile struct dbnic_cqe *e = &qp->cq[0];
	struct dbnic_desc d;
	struct dbnic_cqe c;
	double end = now_s() + POLL_TIMEOUT_S;
	unsigned long i;
	int ret;

	memset(&d, 0, sizeof(d));
	d.hdr.opcode = DBNIC_OP_NOP;
	d.hdr.size = 1;
	ret = dbnic_post(qp, &d, DBNIC_UPATH_RING);
	if (ret < 0)
		die("post", ret);
	/* Wait for the CQE by its phase, without consuming it. */
	while (!(e->flags & DBNIC_CQE_F_PHASE) && now_s() < end)
		;
	check(e->flags & DBNIC_CQE_F_PHASE, "storm: a CQE is waiting");
	for (i = 0; i < o->count; i++)
		dbnic_db_cq(h, qp->cqn, qp->ci, 1);
	check(1, "storm: %lu DB_CQ writes with ARM over it", o->count);
	check(!wait_cqe(qp, &c, POLL_TIMEOUT_S) && c.status == DBNIC_ST_OK,
	      "storm: the CQE is then consumed, status %s",
	      dbnic_status_name(c.status));
}

/*
 * sq_log_size 12, cq_log_size 1, never polled, DB_SQ to 4096 then 8192
 * over a zeroed ring: every slot completes BAD_DESC.  The CQ must enter
 * its error state once (the driver reports it) instead of raising an
 * error per dropped CQE.
 */
static void storm_cq_overflow(struct dbnic_handle *h, struct dbnic_qp *qp)
{
	double end = now_s() + POLL_TIMEOUT_S;
	uint32_t flags = 0;
	int ret;

	/*
	 * As the issue did: the second doorbell after the device has had
	 * time to run the first 4096 (a v1.1 device then takes 8192 as a
	 * doorbell for 4096 more, not as one past the ring).
	 */
	dbnic_db_sq(h, qp->qid, 4096);
	usleep(500000);
	dbnic_db_sq(h, qp->qid, 8192 & 0xffff);
	usleep(500000);
	do {
		ret = dbnic_qp_query(qp, &flags);
		if (ret)
			break;
		usleep(10000);
	} while (!(flags & DBNIC_UQP_F_CQ_ERROR) && now_s() < end);
	check(!ret, "storm: QUERY_QP: %s", strerror(-ret));
	check(flags & DBNIC_UQP_F_CQ_ERROR,
	      "storm: the driver reports the CQ in error (flags %#x)", flags);
}

static int cmd_storm(const struct opts *o)
{
	struct dbnic_handle h;
	struct dbnic_qp qp;
	int ret;

	open_dev(o, &h);
	ret = dbnic_qp_create_cq(&h, &qp, o->cq_overflow ? 12 : 3,
				 o->cq_overflow ? 1 : 0, DBNIC_UPOLICY_RING);
	if (ret)
		die("create queue", ret);
	msg("storm: ctx %u qid %u cqn %u cq_log %u\n", h.info.ctx, qp.qid,
	    qp.cqn, qp.cq_log);
	if (o->arm_storm)
		storm_arm(o, &h, &qp);
	else
		storm_cq_overflow(&h, &qp);
	ret = dbnic_qp_destroy(&qp);
	check(!ret, "storm: queue destroyed: %s", strerror(-ret));
	dbnic_close(&h);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* limits: what one user may take                                       */
/* ------------------------------------------------------------------ */

static void drop_to(uid_t uid)
{
	if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		die("drop privileges", errno);
}

/*
 * As user 65534 (no capabilities), open the device until it refuses:
 * exactly --max-ctx opens must succeed, then EUSERS, and user 65533 can
 * still open it.  Then, with a 256 KiB RLIMIT_MEMLOCK, the rings of a
 * queue pair count in VmPin and a queue pair whose rings pass the limit
 * is refused.
 */
static int cmd_limits(const struct opts *o)
{
	const char *path = o->dev ? o->dev : "/dev/dbnic0";
	struct rlimit rl = { 256 << 10, 256 << 10 };
	struct dbnic_qp small, big;
	struct dbnic_handle h;
	int fds[128], n = 0, err = 0, st, ret, held[2], done[2];
	long before, after, want;
	pid_t pid, pid2;
	char c;

	if (pipe(held) || pipe(done))
		die("pipe", errno);
	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (!pid) {
		drop_to(65534);
		while (n < (int)(sizeof(fds) / sizeof(fds[0]))) {
			fds[n] = open(path, O_RDWR | O_CLOEXEC);
			if (fds[n] < 0) {
				err = errno;
				break;
			}
			n++;
		}
		check(n == o->max_ctx && err == EUSERS,
		      "limits: one user opens %ld contexts, then EUSERS (%d, then %s)",
		      o->max_ctx, n, err ? strerror(err) : "no error");
		/* Hold them while another user tries. */
		if (write(held[1], "x", 1) != 1 || read(done[0], &c, 1) != 1)
			die("pipe", errno);
		while (n)
			close(fds[--n]);
		_exit(failures ? 1 : 0);
	}
	if (read(held[0], &c, 1) != 1)
		die("first user", EPIPE);
	pid2 = fork();
	if (!pid2) {
		drop_to(65533);
		_exit(open(path, O_RDWR | O_CLOEXEC) < 0 ? errno : 0);
	}
	waitpid(pid2, &st, 0);
	check(WIFEXITED(st) && !WEXITSTATUS(st),
	      "limits: another user still opens the device (%s)",
	      WIFEXITED(st) ? strerror(WEXITSTATUS(st)) : "killed");
	if (write(done[1], "x", 1) != 1)
		die("pipe", errno);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		failures++;

	/* Rings count against RLIMIT_MEMLOCK. */
	open_dev(o, &h);
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		die("setrlimit", errno);
	drop_to(65534);
	before = vm_pin_kb();
	ret = dbnic_qp_create(&h, &small, 4, DBNIC_UPOLICY_RING);
	check(!ret, "limits: a small queue pair: %s", strerror(-ret));
	after = vm_pin_kb();
	want = ret ? 0 : (long)((small.sq_map + small.cq_map) >> 10);
	check(!ret && after - before == want,
	      "limits: its rings count in VmPin (%ld kB, want %ld kB)",
	      after - before, want);
	ret = dbnic_qp_create(&h, &big, 12, DBNIC_UPOLICY_RING);
	check(ret == -ENOMEM,
	      "limits: a queue pair with rings past RLIMIT_MEMLOCK: %s",
	      ret ? strerror(-ret) : "created");
	if (!ret)
		dbnic_qp_destroy(&big);
	if (!dbnic_qp_destroy(&small))
		check(vm_pin_kb() == before, "limits: VmPin back to %ld kB (%ld)",
		      before, vm_pin_kb());
	dbnic_close(&h);
	return failures ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dbnic-test-tool evil|hold|memlock|late|storm|stall|limits [options]\n"
		"  evil: --evil-qid Q [--evil-cqn C]  --evil-key [--key K] [--addr A]\n"
		"        --torn  --evil-mmap\n"
		"  hold: --busy | --wait-file F [--ids FILE]\n"
		"  late: --wait-file F\n"
		"  storm: --arm [--count N] | --cq-overflow\n"
		"  stall: --wait-file F  limits: --max-ctx N\n"
		"  and dbnic-tool's: --dev PATH  --size N[K|M|G]  --depth N  --verify ...\n");
	exit(2);
}

static const struct option test_opts[] = {
	{ "evil-qid", required_argument, NULL, 'E' },
	{ "evil-cqn", required_argument, NULL, 'C' },
	{ "evil-key", no_argument, NULL, 'K' },
	{ "key", required_argument, NULL, 'k' },
	{ "addr", required_argument, NULL, 'a' },
	{ "torn", no_argument, NULL, 'T' },
	{ "evil-mmap", no_argument, NULL, 'M' },
	{ "busy", no_argument, NULL, 'B' },
	{ "arm", no_argument, NULL, 'A' },
	{ "cq-overflow", no_argument, NULL, 'O' },
	{ "max-ctx", required_argument, NULL, 'X' },
	{ }
};

static void test_opt(int c, struct opts *o)
{
	switch (c) {
	case 'E':
		o->evil_qid = cli_parse_num("--evil-qid", optarg, 0, 0xffff, 0);
		break;
	case 'C':
		o->evil_cqn = cli_parse_num("--evil-cqn", optarg, 0, 0xffff, 0);
		break;
	case 'K': o->evil_key = 1; break;
	case 'k':
		o->key = cli_parse_num("--key", optarg, 0, UINT32_MAX, 0);
		break;
	case 'a':
		o->addr = cli_parse_num("--addr", optarg, 0, UINT64_MAX, 0);
		break;
	case 'T': o->torn = 1; break;
	case 'M': o->evil_mmap = 1; break;
	case 'B': o->busy = 1; break;
	case 'A': o->arm_storm = 1; break;
	case 'O': o->cq_overflow = 1; break;
	case 'X':
		o->max_ctx = cli_parse_num("--max-ctx", optarg, 1, 4096, 0);
		break;
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	const char *cmd = tool_parse("dbnic-test-tool", argc, argv, &o,
				     test_opts, test_opt, usage);

	if (!strcmp(cmd, "evil")) {
		if (o.evil_qid < 0 && !o.evil_key && !o.torn && !o.evil_mmap)
			cli_bad_usage("evil: name an attack: --evil-qid, --evil-key, --torn or --evil-mmap");
		return cmd_evil(&o);
	}
	if (!strcmp(cmd, "hold")) {
		if (!o.busy && !o.wait_file)
			cli_bad_usage("hold: say how long: --busy or --wait-file FILE");
		return cmd_hold(&o);
	}
	if (!strcmp(cmd, "memlock"))
		return cmd_memlock(&o);
	if (!strcmp(cmd, "late")) {
		if (!o.wait_file)
			cli_bad_usage("late: say when to release: --wait-file FILE");
		return cmd_late(&o);
	}
	if (!strcmp(cmd, "storm")) {
		if (o.arm_storm == o.cq_overflow)
			cli_bad_usage("storm: name one: --arm or --cq-overflow");
		return cmd_storm(&o);
	}
	if (!strcmp(cmd, "stall")) {
		if (!o.wait_file)
			cli_bad_usage("stall: say when to resolve the faults: --wait-file FILE");
		return cmd_stall(&o);
	}
	if (!strcmp(cmd, "limits")) {
		if (o.max_ctx <= 0)
			cli_bad_usage("limits: say how many contexts one user may hold: --max-ctx N");
		return cmd_limits(&o);
	}
	cli_bad_usage("unknown command '%s': evil, hold, memlock, late, storm, stall or limits",
		      cmd);
}
