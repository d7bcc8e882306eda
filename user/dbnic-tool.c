// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dbnic-tool: drive a dbnic device from user space through libdbnic.
 *
 *   dbnic-tool info  [--dev PATH] [--qp]
 *   dbnic-tool copy  [--size N] [--count N | --time S] [--depth N]
 *                    [--path ring|prio|auto] [--sges N] [--verify]
 *                    [--ids FILE] [--wait-file F]
 *   dbnic-tool fill  (as copy)
 *
 * Sizes take K, M and G suffixes.  Every mode exits 0 when what it saw is
 * what it expected, 1 otherwise, 2 on bad usage.  The attacks on the
 * driver and the device and the scenarios only tests set up (evil, hold,
 * memlock, late, storm, stall, limits) are a test program of their own:
 * tests/user/dbnic-test-tool.c.
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

static void usage(void)
{
	fprintf(stderr,
		"usage: dbnic-tool info|copy|fill [options]\n"
		"  --dev PATH  --size N[K|M|G]  --count N  --time S  --depth N\n"
		"  --path ring|prio|auto  --sges N  --sq-log N  --verify  --ids FILE\n"
		"  --qp  --seed N  --quiet  --wait-file F (copy, fill: then wait for F)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o;
	const char *cmd = tool_parse("dbnic-tool", argc, argv, &o, NULL, NULL, usage);

	if (!strcmp(cmd, "info"))
		return cmd_info(&o);
	if (!strcmp(cmd, "copy"))
		return cmd_xfer(&o, 0);
	if (!strcmp(cmd, "fill"))
		return cmd_xfer(&o, 1);
	cli_bad_usage("unknown command '%s': info, copy or fill", cmd);
}
