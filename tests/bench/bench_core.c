/*
 * Host micro-benchmark of the dbnic device core: nanoseconds of device
 * work per descriptor on the ring path and on the priority path, from the
 * guest's MMIO writes to the completion, with DMA as plain memcpy.  It
 * measures the emulator's own cost, not a guest's view.  Each case runs
 * on the device as it comes (inline execution, copies through mappings)
 * and on the engine alone (both off, as before they existed).  Then COPY
 * bandwidth at 1 MiB, bounced and mapped, against host memcpy measured in
 * the same run.
 *
 *   make -C tests/host bench
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

/*
 * The thread's CPU time, not the wall clock: the work is CPU-bound and
 * single-threaded, and on a shared host the wall clock also counts the
 * time other processes had the CPU.
 */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct result {
	double ns_per_desc;
	uint64_t ring_fetch;
	uint64_t prio_exec;
};

/*
 * Post n descriptors one at a time (queue depth 1) and reap each.
 * legacy: inline execution and mappings off.
 */
static struct result run(bool prio, uint32_t bytes, unsigned int n,
			 bool legacy)
{
	struct fake f;
	struct hq q;
	struct dbnic_desc d;
	struct dbnic_cqe cqe;
	struct result r;
	uint64_t a = 0, b = 0;
	unsigned int i;
	double t0;

	harness_legacy = legacy;
	fake_init(&f);
	hq_create(&f, &q, true, 6, 6);
	if (bytes) {
		a = fake_alloc(&f, bytes, 64);
		b = fake_alloc(&f, bytes, 64);
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (bytes)
			desc_copy(&d, &q, 0, &a, &bytes, 1, &b, &bytes, 1);
		else
			desc_nop(&d, &q, 0);
		if (prio)
			post_prio(&q, &d, NULL);
		else
			post_ring(&q, &d);
		fake_run(&f);
		if (!cq_poll(&q, &cqe) || cqe.status != DBNIC_ST_OK) {
			fprintf(stderr, "bench: descriptor %u failed\n", i);
			exit(1);
		}
	}
	r.ns_per_desc = (now_s() - t0) * 1e9 / n;
	r.ring_fetch = counter(&f, DBNIC_CNT_RING_FETCH);
	r.prio_exec = counter(&f, DBNIC_CNT_PRIO_EXEC);
	fake_free(&f);
	return r;
}

#define BW_ROUNDS	5

/* Keep the compiler from dropping copies it cannot see used. */
static void clobber(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* Host memcpy from a to b of 'bytes', n times: GB/s (10^9 B/s). */
static double memcpy_gbs(uint8_t *a, uint8_t *b, uint32_t bytes,
			 unsigned int n)
{
	unsigned int i;
	double t0;

	t0 = now_s();
	for (i = 0; i < n; i++) {
		memcpy(b, a, bytes);
		clobber(b);
	}
	return (double)bytes * n / (now_s() - t0) / 1e9;
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 0, 64, 4096, 65536 };
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 200000;
	uint32_t big = 1u << 20;
	unsigned int i, nbig = n / 400 ? n / 400 : 1;
	double host, bounced, mapped;
	uint8_t *ha, *hb;

	printf("%-10s %10s %14s %14s %14s\n", "payload", "path", "ns/desc",
	       "engine_only", "ring fetches");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned int iters = sizes[i] >= 65536 ? n / 100 : n;
		struct result ring = run(false, sizes[i], iters, false);
		struct result prio = run(true, sizes[i], iters, false);
		struct result ring0 = run(false, sizes[i], iters, true);
		struct result prio0 = run(true, sizes[i], iters, true);
		char label[32];

		snprintf(label, sizeof(label), sizes[i] ? "copy %u" : "nop", sizes[i]);
		printf("%-10s %10s %14.1f %14.1f %14llu\n", label, "ring",
		       ring.ns_per_desc, ring0.ns_per_desc,
		       (unsigned long long)ring.ring_fetch);
		printf("%-10s %10s %14.1f %14.1f %14llu\n", label, "priority",
		       prio.ns_per_desc, prio0.ns_per_desc,
		       (unsigned long long)prio.ring_fetch);
		if (prio.prio_exec != iters || ring.ring_fetch != iters ||
		    prio0.prio_exec != iters || ring0.ring_fetch != iters) {
			fprintf(stderr, "bench: wrong path taken\n");
			return 1;
		}
	}

	/*
	 * Bandwidth: QD1 ring COPYs of 1 MiB, and memcpy, in one run.  The
	 * three take turns, BW_ROUNDS times, and each keeps its best round:
	 * on a shared host a round that lost the CPU says nothing.
	 */
	if (posix_memalign((void **)&ha, 4096, big) ||
	    posix_memalign((void **)&hb, 4096, big))
		return 1;
	memset(ha, 0xa5, big);
	memset(hb, 0, big);	/* faults the pages in */
	host = bounced = mapped = 0;
	for (i = 0; i < BW_ROUNDS; i++) {
		double g;

		g = memcpy_gbs(ha, hb, big, nbig);
		host = g > host ? g : host;
		g = big / run(false, big, nbig, true).ns_per_desc;
		bounced = g > bounced ? g : bounced;
		g = big / run(false, big, nbig, false).ns_per_desc;
		mapped = g > mapped ? g : mapped;
	}
	printf("\n%-22s %10s %10s   (best of %u rounds)\n",
	       "copy 1 MiB (QD1 ring)", "GB/s", "x memcpy", BW_ROUNDS);
	printf("%-22s %10.2f %10.2f\n", "host memcpy", host, 1.0);
	printf("%-22s %10.2f %10.2f\n", "dbnic bounced (4 KiB)", bounced,
	       bounced / host);
	printf("%-22s %10.2f %10.2f\n", "dbnic mapped", mapped, mapped / host);
	free(ha);
	free(hb);
	return 0;
}
