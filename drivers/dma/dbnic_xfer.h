/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic transfers: lists of DMA ranges and their splitting into device
 * descriptors.
 *
 * A transfer is a source list and a destination list of DMA ranges (FILL
 * has no source list).  dbnic_xfer_next() cuts the next device descriptor
 * off the front of it: at most max_xfer bytes (CAP_MAX_XFER) and at most
 * max_sge SGEs, sources and destinations together.  These are plain
 * functions on memory, shared by the dmaengine provider and the KUnit
 * tests.
 */
#ifndef DBNIC_XFER_H
#define DBNIC_XFER_H

#include <linux/sizes.h>
#include <linux/types.h>

#include "dbnic_queue.h"

struct dma_interleaved_template;

/* Longest range a list holds; longer ones are split (SGE len is 32-bit). */
#define DBNIC_XFER_RANGE_MAX	SZ_2G

/*
 * A list of DMA ranges under construction.  Adjacent ranges are merged.
 * With @sg NULL, ranges are only counted, so that a caller can size the
 * array in a first pass and fill it in a second.
 */
struct dbnic_xfer_list {
	struct dbnic_sg *sg;	/* n entries, or NULL: count only */
	unsigned int n;
	unsigned int max;	/* with @sg: its entries */
	dma_addr_t end;		/* end of the last range */
	u32 last_len;		/* length of the last range */
	u64 bytes;		/* total */
};

/* Where dbnic_xfer_next() continues. */
struct dbnic_xfer_cursor {
	const struct dbnic_sg *src;	/* NULL for FILL */
	const struct dbnic_sg *dst;
	unsigned int nsrc;
	unsigned int ndst;
	unsigned int si, di;		/* current ranges */
	u32 soff, doff;			/* bytes of them already taken */
};

u32 dbnic_fill_pattern(int value);
int dbnic_xfer_add(struct dbnic_xfer_list *l, dma_addr_t addr, u64 len);
int dbnic_xfer_interleaved(struct dma_interleaved_template *xt,
			   struct dbnic_xfer_list *src,
			   struct dbnic_xfer_list *dst);
void dbnic_xfer_cursor_init(struct dbnic_xfer_cursor *c,
			    const struct dbnic_sg *src, unsigned int nsrc,
			    const struct dbnic_sg *dst, unsigned int ndst);
bool dbnic_xfer_done(const struct dbnic_xfer_cursor *c);
u32 dbnic_xfer_next(struct dbnic_xfer_cursor *c, u32 max_xfer,
		    unsigned int max_sge,
		    struct dbnic_sg *src, unsigned int *nsrc,
		    struct dbnic_sg *dst, unsigned int *ndst);

#endif /* DBNIC_XFER_H */
