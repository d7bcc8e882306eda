/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Time and sample helpers shared by the benchmark and test programs
 * (dbnic-bench, dbnic-loadtest).
 */
#ifndef DBNIC_MEASURE_H
#define DBNIC_MEASURE_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);

/* Sort n samples in ascending order (qsort). */
void samples_sort(uint64_t *v, size_t n);

#endif /* DBNIC_MEASURE_H */
