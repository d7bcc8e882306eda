/*
 * Host memcpy bandwidth for the sizes the guest benchmark copies with the
 * device (4 KiB to 4 MiB): the physical limit of emulated DMA.  QEMU's
 * device moves a COPY through its 4 KiB bounce buffer (DBNIC_CORE_BOUNCE):
 * a DMA read of the source into it, then a DMA write out of it, both
 * memcpy() in the end.  So the second column, a copy staged through a
 * 4 KiB buffer the same way, is the closer bound; the guest's numbers add
 * address translation, scheduling and the emulated CPU on top.
 *
 *   make -C tests/host bench-memcpy      [MiB moved per size, default 1024]
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BOUNCE		4096u
#define MIN_SIZE	(4u << 10)
#define MAX_SIZE	(4u << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Keep the compiler from dropping or merging copies it cannot see used. */
static void clobber(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void copy_bounced(uint8_t *dst, const uint8_t *src, size_t n,
			 uint8_t *bounce)
{
	size_t off, len;

	for (off = 0; off < n; off += len) {
		len = n - off < BOUNCE ? n - off : BOUNCE;
		memcpy(bounce, src + off, len);
		clobber(bounce);
		memcpy(dst + off, bounce, len);
	}
}

/* MB/s (10^6 bytes per second) of copies of n bytes, total bytes moved. */
static double run(uint8_t *dst, const uint8_t *src, size_t n, uint64_t total,
		  uint8_t *bounce)
{
	uint64_t i, copies = total / n ? total / n : 1;
	double t0;

	t0 = now_s();
	for (i = 0; i < copies; i++) {
		if (bounce)
			copy_bounced(dst, src, n, bounce);
		else
			memcpy(dst, src, n);
		clobber(dst);
	}
	return copies * n / (now_s() - t0) / 1e6;
}

int main(int argc, char **argv)
{
	uint64_t total = (uint64_t)(argc > 1 ? atoi(argv[1]) : 1024) << 20;
	static uint8_t bounce[BOUNCE] __attribute__((aligned(64)));
	uint8_t *src, *dst;
	size_t n;

	if (!total || posix_memalign((void **)&src, 4096, MAX_SIZE) ||
	    posix_memalign((void **)&dst, 4096, MAX_SIZE)) {
		fprintf(stderr, "usage: %s [MiB per size]\n", argv[0]);
		return 1;
	}
	memset(src, 0xa5, MAX_SIZE);
	memset(dst, 0, MAX_SIZE);

	printf("%-8s %12s %14s\n", "size", "memcpy_MB/s", "bounce4k_MB/s");
	for (n = MIN_SIZE; n <= MAX_SIZE; n *= 4) {
		char label[16];

		/* One untimed pass faults the pages in and warms the caches. */
		run(dst, src, n, n, NULL);
		if (n >= 1u << 20)
			snprintf(label, sizeof(label), "%zu MiB", n >> 20);
		else
			snprintf(label, sizeof(label), "%zu KiB", n >> 10);
		printf("%-8s %12.0f %14.0f\n", label,
		       run(dst, src, n, total, NULL),
		       run(dst, src, n, total, bounce));
	}
	free(src);
	free(dst);
	return 0;
}
