/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic user-space submission (dbnic_cdev.c): the pure helpers, visible
 * to the KUnit tests.
 */
#ifndef DBNIC_CDEV_H
#define DBNIC_CDEV_H

#include <linux/kconfig.h>
#include <linux/types.h>

struct sg_table;

/*
 * mmap offsets of /dev/dbnic<N>.  Page 0 is the doorbell region, page 1
 * the priority area.  Queue q owns the window of DBNIC_UMAP_WINDOW_SHIFT
 * bytes at (q + 1) << DBNIC_UMAP_WINDOW_SHIFT: its send ring at the start,
 * its completion ring half-way.  Queue numbers are unique on the device,
 * so an offset names one object of one open file, and revoking a queue's
 * mappings can use unmap_mapping_range() on exactly its window.
 */
#define DBNIC_UMAP_WINDOW_SHIFT	22	/* 4 MiB: a send ring is <= 1 MiB */
#define DBNIC_UMAP_CQ_OFFSET	(1ull << (DBNIC_UMAP_WINDOW_SHIFT - 1))

enum dbnic_umap_kind {
	DBNIC_UMAP_NONE,	/* not an offset of the ABI */
	DBNIC_UMAP_DB,		/* the doorbell region */
	DBNIC_UMAP_PRIO,	/* the priority area */
	DBNIC_UMAP_SQ,		/* a send ring */
	DBNIC_UMAP_CQ,		/* a completion ring */
};

/* Pure logic of dbnic_cdev.c, visible to the KUnit tests only. */
#if IS_ENABLED(CONFIG_KUNIT)
u64 dbnic_umap_offset(enum dbnic_umap_kind kind, u32 qid);
enum dbnic_umap_kind dbnic_umap_decode(u64 offset, u32 *qid);
unsigned int dbnic_mr_page_shift(const struct sg_table *sgt, u64 iova,
				 u64 length);
u32 dbnic_mr_npages(u64 iova, u64 length, unsigned int shift);
int dbnic_mr_fill_list(const struct sg_table *sgt, unsigned int shift,
		       __le64 *list, u32 npages);
#endif

#endif /* DBNIC_CDEV_H */
