// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Time and sample helpers: see measure.h. */
#include <stdlib.h>
#include <time.h>

#include "measure.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void samples_sort(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), u64_cmp);
}
