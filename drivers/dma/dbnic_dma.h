/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic dmaengine provider: one channel per send queue.
 *
 * Built when the kernel tree has virt-dma (Kbuild defines DBNIC_DMAENGINE,
 * see there); otherwise these are no-ops and the driver has no channels.
 */
#ifndef DBNIC_DMA_H
#define DBNIC_DMA_H

#include <linux/types.h>

struct dbnic_dev;
struct dentry;
struct dma_chan;
struct seq_file;

#ifdef DBNIC_DMAENGINE
unsigned int dbnic_dma_vectors(void);
void dbnic_dma_probe(struct dbnic_dev *dd, u16 first_vector,
		     unsigned int nvectors);
void dbnic_dma_remove(struct dbnic_dev *dd, bool removal);
void dbnic_dma_free(struct dbnic_dev *dd);
void dbnic_dma_exit(void);
void dbnic_dma_show(struct seq_file *s, struct dbnic_dev *dd);
struct dma_chan *dbnic_dma_chan(struct dbnic_dev *dd, unsigned int i);
/* dbnic_dma_selftest.c */
void dbnic_dma_debugfs_add(struct dbnic_dev *dd, struct dentry *dir);
#else
/* MSI-X vectors the provider would like, one per channel. */
static inline unsigned int dbnic_dma_vectors(void)
{
	return 0;
}

static inline void dbnic_dma_probe(struct dbnic_dev *dd, u16 first_vector,
				   unsigned int nvectors)
{
}

static inline void dbnic_dma_remove(struct dbnic_dev *dd, bool removal)
{
}

static inline void dbnic_dma_free(struct dbnic_dev *dd)
{
}

static inline void dbnic_dma_exit(void)
{
}

static inline void dbnic_dma_show(struct seq_file *s, struct dbnic_dev *dd)
{
}

static inline void dbnic_dma_debugfs_add(struct dbnic_dev *dd,
					 struct dentry *dir)
{
}
#endif

#endif /* DBNIC_DMA_H */
