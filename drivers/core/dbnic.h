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
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "dbnic_hw.h"

#define DBNIC_DRV_NAME		"dbnic"

/*
 * The functions of a device, each an auxiliary device bound by its own
 * driver (dbnic_aux.h).  The core adds them in this order and deletes
 * them in this order: the dmaengine provider before /dev/dbnic<N>, since
 * failing kernel clients' transactions is quick while revoking every
 * process's mappings may wait for busy processes.
 */
enum dbnic_aux_fn {
	DBNIC_AUX_DMA,		/* "dbnic_core.dma.<id>": dbnic_dma.ko */
	DBNIC_AUX_CDEV,		/* "dbnic_core.cdev.<id>": dbnic_cdev.ko */
	/*
	 * Before the netdev: the ib_device names it as its port and goes
	 * first; it registers whenever the netdev appears (notifier).
	 */
	DBNIC_AUX_RDMA,		/* "dbnic_core.rdma.<id>": dbnic_rdma.ko (RDMA) */
	DBNIC_AUX_ETH,		/* "dbnic_core.eth.<id>": dbnic_eth.ko (NET) */
	DBNIC_AUX_NUM,
};

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
	/* RDMA (1.4, datasheet 11.1); 0 without DBNIC_FEAT_RDMA. */
	u16 max_qp;
	u32 max_ah;
	u8 max_rd_atomic;
	u8 gids;
	u8 max_mtu;		/* IB enum */
};

struct dbnic_dev;

#define DBNIC_HOLD_BUFS		2
#define DBNIC_HOLD_UNDO		2

/**
 * struct dbnic_admin_hold - host memory named by an admin command that
 *	may still be in flight
 * @node: in one of the admin queue's hold lists
 * @release: frees the memory and the hold; called once, in process
 *	context, when the device no longer uses the memory.  NULL: free
 *	@buf with dma_free_coherent() and the hold with kfree().
 * @buf: coherent buffers the default @release frees (@buf[i].cpu NULL:
 *	unused)
 * @undo: objects to destroy (DESTROY_* opcode and handle), in order,
 *	before @release, after what the command itself created: e.g. the
 *	CQ a timed-out CREATE_SQ was to complete on
 * @nundo: entries of @undo in use
 * @pages: pages of memory held, for debugfs only
 * @cmd_id: set by the admin queue: the command in flight
 * @opcode: set by the admin queue: its opcode
 * @status: set by the admin queue: the device's answer
 * @result: set by the admin queue: its result (the handle created)
 * @owner: the module of @release (THIS_MODULE of a function driver); the
 *	admin queue holds a reference on it while it owns the hold, so that
 *	@release outlives an unloaded function driver
 *
 * A caller that passes a hold to a create, register or destroy command
 * (dbnic_admin_create_cq() ...) keeps ownership unless the command
 * returns -ETIMEDOUT: then the admin queue owns the hold and every byte
 * the command names, until the device answers (a created object is then
 * destroyed, then @undo, then @release) or is reset (@release only, from
 * dbnic_admin_forget()).  Datasheet section 4: commands run in order and
 * each gets one completion, so the answer always comes unless the device
 * is reset.
 */
struct dbnic_admin_hold {
	struct list_head node;
	void (*release)(struct dbnic_dev *dd, struct dbnic_admin_hold *hold);
	struct {
		void *cpu;
		dma_addr_t dma;
		size_t bytes;
	} buf[DBNIC_HOLD_BUFS];
	struct {
		u8 opcode;
		u32 handle;
	} undo[DBNIC_HOLD_UNDO];
	unsigned int nundo;
	unsigned long pages;
	u16 cmd_id;
	u8 opcode;
	u8 status;
	u32 result;
	struct module *owner;
};

/**
 * struct dbnic_qp_params - what CREATE_QP takes (datasheet 11.2)
 * @sq_base: DMA address of the send ring, 2^(@sq_log_size + @sq_log_stride)
 *	bytes
 * @rq_base: DMA address of the receive ring, likewise
 * @ctx: the QP's context
 * @pd: its protection domain tag
 * @scqn: send CQ: 32-byte CQEs, of @ctx
 * @rcqn: receive CQ, likewise
 * @type: enum dbnic_qp_type
 * @sq_log_size: log2 send ring entries, 1..12
 * @sq_log_stride: log2 send slot bytes, 6..8
 * @rq_log_size: log2 receive ring entries, 1..12
 * @rq_log_stride: log2 receive slot bytes, 6..8
 */
struct dbnic_qp_params {
	dma_addr_t sq_base;
	dma_addr_t rq_base;
	u32 ctx;
	u32 pd;
	u32 scqn;
	u32 rcqn;
	u8 type;
	u8 sq_log_size;
	u8 sq_log_stride;
	u8 rq_log_size;
	u8 rq_log_stride;
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

	/* Commands that timed out, and what they name (dbnic_admin_hold). */
	spinlock_t hold_lock;	/* the three lists and the counts */
	struct list_head held;	/* in flight, no answer yet */
	struct list_head answered;	/* answered, for late_work */
	struct list_head parked;	/* the device may use it until reset */
	struct work_struct late_work;	/* settles answered holds */
	bool have_held;		/* held is not empty: the IRQ kicks late_work */
	bool stopped;		/* dbnic_admin_forget() is running */
	u64 timeouts;
	u64 late_answers;
	u64 released;
};

/*
 * The event queue (datasheet section 7.1), on vector 0 with the admin
 * queue.  Used only when the device reports DBNIC_FEAT_EQ; otherwise
 * async errors come through the ERR register.
 */
struct dbnic_eq {
	struct dbnic_eqe *ring;	/* 2^log_size entries, or NULL */
	dma_addr_t dma;
	unsigned int log_size;
	u16 ci;			/* next entry to read */
};

struct dbnic_queue;
struct dbnic_aux_dev;
struct seq_file;

struct dbnic_dev {
	struct pci_dev *pdev;
	void __iomem *ctrl;	/* BAR 0 */
	struct dbnic_caps caps;
	struct dbnic_admin admin;
	struct dbnic_eq eq;
	u64 events;		/* event entries read */

	/*
	 * Kernel queues by CQ, for CQ error events: struct dbnic_queue's
	 * node, under queues_lock (taken in the vector-0 handler).
	 */
	struct list_head queues;
	spinlock_t queues_lock;	/* queues; taken in hard IRQ */
	/* CQs of processes in the error state, by cqn; or NULL. */
	unsigned long *ucq_err;

	/* The kernel's privileged context and its doorbell page. */
	u32 ctx;
	bool have_ctx;
	u32 db_ctx;		/* the context whose page db and prio map */
	void __iomem *db;	/* doorbell region, uncached */
	void __iomem *prio;	/* priority area, write-combining; or NULL */

	/*
	 * MSI-X vectors allocated: DBNIC_NUM_VECS for the core, then one per
	 * dmaengine channel (dma_nvecs from DBNIC_NUM_VECS on), then one per
	 * Ethernet queue pair (eth_nvecs from eth_vec0 on).
	 */
	unsigned int nvecs;
	unsigned int dma_nvecs;
	unsigned int eth_vec0;
	unsigned int eth_nvecs;
	/*
	 * The Ethernet function's LINK event handler (datasheet 7, 10.1),
	 * called in hard-IRQ context under link_lock; or NULL.
	 */
	spinlock_t link_lock;	/* link_event, link_priv */
	void (*link_event)(void *priv);
	void *link_priv;
	/*
	 * The RDMA function's handler of CQ_COMP, QP_ERR and CQ_OVERFLOW
	 * events (datasheet 6.1, 11.7), called in hard-IRQ context under
	 * rdma_lock; or NULL.
	 */
	spinlock_t rdma_lock;	/* rdma_event, rdma_priv */
	bool (*rdma_event)(void *priv, u8 type, u32 object, u32 data);
	void *rdma_priv;
	struct dbnic_queue *kq;	/* the kernel queue */

	/* /sys/kernel/debug/dbnic/<pci-name>/: functions add files to it. */
	struct dentry *debugfs;
	struct mutex selftest_lock;	/* one self-test at a time */

	/* The functions' auxiliary devices (or NULL), and their common id. */
	struct dbnic_aux_dev *aux[DBNIC_AUX_NUM];
	int aux_id;
	/*
	 * Set while the core takes the device down for a reset or a PCI
	 * error, not for good: function drivers see it in their remove.
	 */
	bool resetting;
	/*
	 * Set from the teardown's start until the device is disabled: queues
	 * whose objects could not be destroyed are kept quietly until then.
	 */
	bool stopping;
};

static inline struct device *dbnic_to_dev(struct dbnic_dev *dd)
{
	return &dd->pdev->dev;
}

/**
 * struct dbnic_kctx - a privileged kernel context with its doorbell page
 * @ctx: the context (= doorbell page index)
 * @db: its doorbell region, mapped uncached
 * @prio: its priority area, mapped write-combining; NULL: ring path only
 * @prio_slots: priority slots in @prio (0 without one)
 */
struct dbnic_kctx {
	u32 ctx;
	void __iomem *db;
	void __iomem *prio;
	unsigned int prio_slots;
};

/* dbnic_main.c */
u64 dbnic_read_counter(struct dbnic_dev *dd, unsigned int counter);
bool dbnic_dev_gone(struct dbnic_dev *dd, u32 status);
int dbnic_kctx_create(struct dbnic_dev *dd, struct dbnic_kctx *kc);
void dbnic_kctx_destroy(struct dbnic_dev *dd, struct dbnic_kctx *kc);
void dbnic_set_link_handler(struct dbnic_dev *dd, void (*fn)(void *priv),
			    void *priv);
void dbnic_set_rdma_event_handler(struct dbnic_dev *dd,
				  bool (*fn)(void *priv, u8 type, u32 object,
					     u32 data),
				  void *priv);

/* dbnic_admin.c */
int dbnic_admin_init(struct dbnic_dev *dd);
void dbnic_admin_program(struct dbnic_dev *dd);
irqreturn_t dbnic_admin_irq(int irq, void *data);
int dbnic_admin_create_ctx(struct dbnic_dev *dd, u32 flags, u32 *ctx);
int dbnic_admin_create_cq(struct dbnic_dev *dd, u32 ctx, dma_addr_t base,
			  unsigned int log_size, u16 vector, u32 *cqn,
			  struct dbnic_admin_hold *hold);
int dbnic_admin_create_sq(struct dbnic_dev *dd, u32 ctx, u32 cqn,
			  dma_addr_t base, unsigned int log_size,
			  unsigned int log_stride, u32 *qid,
			  struct dbnic_admin_hold *hold);
int dbnic_admin_reg_mr(struct dbnic_dev *dd, u32 ctx, u64 iova, u64 length,
		       dma_addr_t pages, u32 npages, unsigned int page_shift,
		       u32 access, u32 *key, struct dbnic_admin_hold *hold);
int dbnic_admin_create_rq(struct dbnic_dev *dd, u32 ctx, u32 cqn,
			  dma_addr_t base, unsigned int log_size,
			  unsigned int log_stride, u32 *rqn,
			  struct dbnic_admin_hold *hold);
int dbnic_admin_set_rss(struct dbnic_dev *dd, u32 ctx, dma_addr_t config,
			struct dbnic_admin_hold *hold);
int dbnic_admin_create_cq_ext(struct dbnic_dev *dd, u32 ctx, dma_addr_t base,
			      unsigned int log_size, unsigned int log_cqe,
			      u16 vector, u32 *cqn,
			      struct dbnic_admin_hold *hold);
int dbnic_admin_reg_mr_pd(struct dbnic_dev *dd, u32 ctx, u32 pd, u64 iova,
			  u64 length, dma_addr_t pages, u32 npages,
			  unsigned int page_shift, u32 access, u32 *key,
			  struct dbnic_admin_hold *hold);
int dbnic_admin_create_qp(struct dbnic_dev *dd,
			  const struct dbnic_qp_params *p, u32 *qpn, u32 *qid,
			  struct dbnic_admin_hold *hold);
int dbnic_admin_modify_qp(struct dbnic_dev *dd, u32 qpn, u32 attr_mask,
			  dma_addr_t attr, struct dbnic_admin_hold *hold);
int dbnic_admin_query_qp(struct dbnic_dev *dd, u32 qpn, dma_addr_t attr,
			 struct dbnic_admin_hold *hold);
int dbnic_admin_create_ah(struct dbnic_dev *dd, u32 ctx, u32 pd,
			  const struct dbnic_av *av, u32 *ah);
int dbnic_admin_set_gid(struct dbnic_dev *dd, u32 ctx, u32 index,
			const u8 *gid, u8 net, u16 vlan);
int dbnic_admin_destroy(struct dbnic_dev *dd, u8 opcode, u32 handle);
void dbnic_admin_park(struct dbnic_dev *dd, struct dbnic_admin_hold *hold);
int dbnic_admin_park_rings(struct dbnic_dev *dd, void *cpu0, dma_addr_t dma0,
			   size_t bytes0, void *cpu1, dma_addr_t dma1,
			   size_t bytes1);
void dbnic_admin_forget(struct dbnic_dev *dd);
void dbnic_admin_show_holds(struct seq_file *s, struct dbnic_dev *dd);
int dbnic_admin_destroy_sq(struct dbnic_dev *dd, u32 qid, u16 *head);

/* dbnic_debugfs.c */
const char *dbnic_counter_name(unsigned int counter);
void dbnic_debugfs_init(void);
void dbnic_debugfs_exit(void);
void dbnic_debugfs_add(struct dbnic_dev *dd);
void dbnic_debugfs_remove(struct dbnic_dev *dd);
void dbnic_debugfs_show_queue(struct seq_file *s, struct dbnic_queue *q);

#endif /* DBNIC_H */
