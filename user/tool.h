/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What dbnic-tool (user/) and the test program dbnic-test-tool
 * (tests/user/) share: their options, the PASS/FAIL checks, and the copy
 * and fill engine on a queue pair of one's own.
 */
#ifndef DBNIC_TOOL_H
#define DBNIC_TOOL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "libdbnic.h"

#define MAX_DEPTH	256
#define POLL_TIMEOUT_S	10

struct opts {
	const char *dev;
	const char *ids;
	const char *wait_file;
	size_t size;
	unsigned long count;
	double time;
	unsigned int depth;
	unsigned int sges;
	unsigned int sq_log;
	enum dbnic_upath path;
	enum dbnic_upolicy policy;
	int verify;
	int busy;
	int arm_storm;
	int cq_overflow;
	int want_qp;
	long evil_qid;
	long evil_cqn;
	int evil_key;
	int torn;
	int evil_mmap;
	uint32_t key;
	uint64_t addr;
	unsigned int seed;
	int quiet;
	long max_ctx;
};

/* Checks that failed so far (check()). */
extern int failures;

void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One "PASS what" or "FAIL what" line; a FAIL counts in failures. */
void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void die(const char *what, int err) __attribute__((noreturn));
double now_s(void);
uint64_t rng(uint64_t *s);
/* Zeroed anonymous memory, or die. */
void *alloc(size_t len);
/* Root in the guest: lift the memlock limit where the hard limit allows. */
void raise_memlock(void);
void open_dev(const struct opts *o, struct dbnic_handle *h);
void make_qp(const struct opts *o, struct dbnic_handle *h,
	     struct dbnic_qp *qp);
void reg(struct dbnic_handle *h, struct dbnic_umr *mr, void *p, size_t len,
	 uint32_t access);
/* One completion, busy polling: 0 or -ETIMEDOUT after @timeout s. */
int wait_cqe(struct dbnic_qp *qp, struct dbnic_cqe *cqe, double timeout);
/* "ctx .. qid .. pid .." to stdout and, whole, to --ids FILE. */
void write_ids(const struct opts *o, struct dbnic_handle *h,
	       struct dbnic_qp *qp, struct dbnic_umr *src,
	       struct dbnic_umr *dst);
int all_bytes(const uint8_t *p, size_t n, uint8_t v);
/* VmPin of this process in kB (RLIMIT_MEMLOCK accounting), or -1. */
long vm_pin_kb(void);

/* Copies or fills through a queue pair of one's own (dbnic-tool copy). */
struct xfer {
	const struct opts *o;
	int fill;
	struct dbnic_handle h;
	struct dbnic_qp qp;
	struct dbnic_umr src_mr;
	struct dbnic_umr dst_mr;
	uint8_t *src;		/* 2 * size: copies start at varying offsets */
	uint8_t *dst;		/* depth slots of size */
	unsigned int depth;
	int busy[MAX_DEPTH];
	size_t off[MAX_DEPTH];	/* source offset, or the fill pattern */
	uint16_t slot_of[1u << DBNIC_LOG_RING_MAX];
	unsigned long posted;
	unsigned long done;
	unsigned long prio_done;
	unsigned long errors;
	unsigned long bad_data;
};

void xfer_setup(struct xfer *x);
int xfer_post(struct xfer *x, unsigned int slot);
void xfer_complete(struct xfer *x, const struct dbnic_cqe *c);
int xfer_run(struct xfer *x);

/**
 * tool_parse() - a tool's start: its name, the defaults, the options
 * @prog: the program's name, for messages (cli_prog)
 * @argc: main()'s
 * @argv: main()'s; argv[1] is the command, its options follow
 * @o: filled in: the defaults (64 KiB, 100 copies, depth 8, one SGE,
 *     SQ log 8, path auto), then the options
 * @extra: the program's own options (NULL, or ended by an empty entry)
 * @extra_opt: called with the val of each of them
 * @usage: called without a command, on -h/--help and on an unknown
 *     option; must not return
 *
 * Return: the command (argv[1]).  Bad values exit with status 2.
 */
const char *tool_parse(const char *prog, int argc, char **argv,
		       struct opts *o, const struct option *extra,
		       void (*extra_opt)(int c, struct opts *o),
		       void (*usage)(void));

#endif /* DBNIC_TOOL_H */
