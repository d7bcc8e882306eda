/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic driver: per-device state shared by the driver's files.
 *
 * Every hardware fact (offsets, fields, layouts) is in dbnic_hw.h; this
 * file only holds the driver's own bookkeeping.
 */
#ifndef DBNIC_H
#define DBNIC_H

#include <linux/completion.h>
#include <linux/interrupt.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/types.h>

#include "dbnic_hw.h"

#define DBNIC_DRV_NAME		"dbnic"

/* The MSI-X vectors the driver uses (datasheet section 1). */
enum dbnic_vector {
	DBNIC_VEC_ADMIN,	/* admin completions and async errors */
	DBNIC_VEC_KQ,		/* the kernel queue's completion queue */
	DBNIC_NUM_VECS,
};

/* Capability registers, decoded once at probe. */
struct dbnic_caps {
	u16 ver_major;
	u16 ver_minor;
	u16 max_sq;
	u16 max_cq;
	u16 db_pages;
	u8 db_page_shift;
	u8 prio_slots;
	u8 max_log_ring;
	u8 max_blocks;
	u8 max_sge;
	u8 msix;
	u32 features;
	u32 max_xfer;
};

struct dbnic_admin {
	struct dbnic_admin_cmd *sq;
	struct dbnic_admin_cqe *cq;
	dma_addr_t sq_dma;
	dma_addr_t cq_dma;
	unsigned int log_size;
	u16 sq_pi;		/* next command index */
	u16 sq_head;		/* from the last admin CQE */
	u16 cq_ci;		/* next completion index */
	u16 cmd_id;		/* last cmd_id used */
	struct mutex lock;	/* serialises commands */
	struct completion done;	/* completed by the vector-0 interrupt */
};

struct dbnic_queue;
struct dbnic_dma;
struct seq_file;
struct dbnic_ucdev;

struct dbnic_dev {
	struct pci_dev *pdev;
	void __iomem *ctrl;	/* BAR 0 */
	struct dbnic_caps caps;
	struct dbnic_admin admin;

	/* The kernel's privileged context and its doorbell page. */
	u32 ctx;
	bool have_ctx;
	u32 db_ctx;		/* the context whose page db and prio map */
	void __iomem *db;	/* doorbell region, uncached */
	void __iomem *prio;	/* priority area, write-combining; or NULL */

	unsigned int nvecs;	/* MSI-X vectors allocated */
	struct dbnic_queue *kq;	/* the kernel queue */
	struct dbnic_dma *dma;	/* dmaengine channels, dbnic_dma.c; or NULL */

	struct dentry *debugfs;
	struct dbnic_ucdev *ucdev;	/* /dev/dbnic<N>, dbnic_cdev.c */
	struct mutex selftest_lock;	/* one self-test at a time */
};

static inline struct device *dbnic_to_dev(struct dbnic_dev *dd)
{
	return &dd->pdev->dev;
}

/* dbnic_main.c */
u64 dbnic_read_counter(struct dbnic_dev *dd, unsigned int counter);

/* dbnic_admin.c */
int dbnic_admin_init(struct dbnic_dev *dd);
void dbnic_admin_program(struct dbnic_dev *dd);
irqreturn_t dbnic_admin_irq(int irq, void *data);
int dbnic_admin_create_ctx(struct dbnic_dev *dd, u32 flags, u32 *ctx);
int dbnic_admin_create_cq(struct dbnic_dev *dd, u32 ctx, dma_addr_t base,
			  unsigned int log_size, u16 vector, u32 *cqn);
int dbnic_admin_create_sq(struct dbnic_dev *dd, u32 ctx, u32 cqn,
			  dma_addr_t base, unsigned int log_size,
			  unsigned int log_stride, u32 *qid);
int dbnic_admin_reg_mr(struct dbnic_dev *dd, u32 ctx, u64 iova, u64 length,
		       dma_addr_t pages, u32 npages, unsigned int page_shift,
		       u32 access, u32 *key);
int dbnic_admin_destroy(struct dbnic_dev *dd, u8 opcode, u32 handle);

/* dbnic_debugfs.c */
extern const char * const dbnic_counter_names[DBNIC_CNT_NUM];
void dbnic_debugfs_init(void);
void dbnic_debugfs_exit(void);
void dbnic_debugfs_add(struct dbnic_dev *dd);
void dbnic_debugfs_remove(struct dbnic_dev *dd);
void dbnic_debugfs_show_queue(struct seq_file *s, struct dbnic_queue *q);

/* dbnic_cdev.c: user-space submission */
void dbnic_cdev_add(struct dbnic_dev *dd);
void dbnic_cdev_remove(struct dbnic_dev *dd);

/* dbnic_selftest.c */
char *dbnic_selftest_run(struct dbnic_dev *dd, size_t *len);

/* dbnic_bench.c */
extern const struct file_operations dbnic_bench_fops;

#endif /* DBNIC_H */
