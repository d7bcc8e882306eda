// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dbnic-tool: drive a dbnic device from user space through libdbnic.
 *
 *   dbnic-tool info  [--dev PATH] [--qp]
 *   dbnic-tool copy  [--size N] [--count N | --time S] [--depth N]
 *                    [--path ring|prio|auto] [--sges N] [--verify]
 *                    [--ids FILE] [--wait-file F]
 *   dbnic-tool fill  (as copy)
 *   dbnic-tool late  [--size N] --wait-file F [--ids FILE]
 *                    (on a device that answers REG_MR late)
 *   dbnic-tool storm --arm [--count N]   DB_CQ with ARM over an unconsumed CQE
 *   dbnic-tool storm --cq-overflow       sq log 12, cq log 1, DB_SQ 4096, 8192
 *   dbnic-tool stall --wait-file F --ids FILE       ioctls stuck in faults
 *   dbnic-tool limits --max-ctx N                   per-user limits
 *
 * Sizes take K, M and G suffixes.  Every mode exits 0 when what it saw is
 * what it expected, 1 otherwise, 2 on bad usage.  The attacks on the
 * driver and the device (evil, hold, memlock) are a test program of
 * their own: tests/user/dbnic-test-tool.c.
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
/* info                                                                  */
/* ------------------------------------------------------------------ */

static int cmd_info(const struct opts *o)
{
	struct dbnic_handle h;
	struct dbnic_qp qp;
	struct dbnic_uinfo *i = &h.info;

	open_dev(o, &h);
	msg("ctx %u abi %u db_page %u db_size %u prio_size %u prio_slots %u features %#x max_xfer %u max_sge %u max_blocks %u max_log_ring %u max_qps %u max_mrs %u max_mr_bytes %llu\n",
	    i->ctx, i->abi_version, i->db_page_size, i->db_size, i->prio_size,
	    i->prio_slots, i->features, i->max_xfer, i->max_sge, i->max_blocks,
	    i->max_log_ring, i->max_qps, i->max_mrs,
	    (unsigned long long)i->max_mr_bytes);
	if (o->want_qp) {
		make_qp(o, &h, &qp);
		msg("qid %u cqn %u sq_log %u cq_log %u stride %u prio_slot %d\n",
		    qp.qid, qp.cqn, qp.sq_log, qp.cq_log, qp.stride,
		    (int)qp.prio_slot);
		dbnic_qp_destroy(&qp);
	}
	dbnic_close(&h);
	return 0;
}


static int cmd_xfer(const struct opts *o, int fill)
{
	static struct xfer x;
	int ret;

	x.o = o;
	x.fill = fill;
	xfer_setup(&x);
	ret = xfer_run(&x);
	/* Keep the context until told, so that a test can count it. */
	while (o->wait_file && access(o->wait_file, F_OK))
		usleep(20000);
	if (dbnic_mr_dereg(&x.h, &x.src_mr) || dbnic_mr_dereg(&x.h, &x.dst_mr) ||
	    dbnic_qp_destroy(&x.qp)) {
		fprintf(stderr, "dbnic-tool: teardown failed\n");
		ret = 1;
	}
	dbnic_close(&x.h);
	return ret;
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

/* ------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
		"usage: dbnic-tool info|copy|fill|late|storm|stall|limits [options]\n"
		"  --dev PATH  --size N[K|M|G]  --count N  --time S  --depth N\n"
		"  --path ring|prio|auto  --sges N  --sq-log N  --verify  --ids FILE\n"
		"  --qp  --seed N  --quiet  --wait-file F (copy, fill: then wait for F)\n"
		"  late: --wait-file F\n"
		"  storm: --arm [--count N] | --cq-overflow\n"
		"  stall: --wait-file F  limits: --max-ctx N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = {
		.size = 64 << 10, .count = 100, .depth = 8, .sges = 1,
		.sq_log = 8, .path = DBNIC_UPATH_AUTO,
		.policy = DBNIC_UPOLICY_AUTO, .evil_qid = -1, .evil_cqn = -1,
	};
	const char *cmd;

	cli_prog = "dbnic-tool";
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage();
	cmd = argv[1];
	tool_parse(argc, argv, &o, NULL, NULL, usage);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(cmd, "info"))
		return cmd_info(&o);
	if (!strcmp(cmd, "copy"))
		return cmd_xfer(&o, 0);
	if (!strcmp(cmd, "fill"))
		return cmd_xfer(&o, 1);
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
	cli_bad_usage("unknown command '%s': info, copy, fill, late, storm, stall or limits",
		      cmd);
}
