/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic_test.ko: the self-tests and the benchmark, in debugfs, apart
 * from the production modules.  They use only what the core exports
 * (the DBNIC namespace) and the dmaengine client API.
 */
#ifndef DBNIC_TEST_H
#define DBNIC_TEST_H

#include <linux/fs.h>
#include <linux/types.h>

struct dbnic_dev;
struct dentry;

/* dbnic_selftest.c: the kernel queue's self-test; NULL without memory. */
char *dbnic_selftest_run(struct dbnic_dev *dd, size_t *len);

/* dbnic_dma_selftest.c: "dma_selftest" and "dma_sync_test" in @dir. */
void dbnic_test_dma_add(struct dbnic_dev *dd, struct dentry *dir);

/* dbnic_bench.c: "bench". */
extern const struct file_operations dbnic_bench_fops;

#endif /* DBNIC_TEST_H */
