/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic kernel queues: descriptor building, posting through the doorbell
 * or the priority area, and completion polling.
 *
 * The ring logic works on struct dbnic_sq / struct dbnic_cq, which only
 * hold plain memory and __iomem pointers, so that the KUnit tests can run
 * it against a fake doorbell page.  struct dbnic_queue adds the device
 * side: DMA memory, admin objects, the interrupt and the callbacks.
 */
#ifndef DBNIC_QUEUE_H
#define DBNIC_QUEUE_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "dbnic_hw.h"

struct dbnic_dev;
struct dbnic_kctx;

/* How dbnic_queue_post() announces a descriptor when not told. */
enum dbnic_post_policy {
	DBNIC_POLICY_RING,	/* always the DB_SQ doorbell */
	DBNIC_POLICY_FIT,	/* priority area when it fits fit_blocks */
	DBNIC_POLICY_PRIO,	/* priority area whenever the queue has one */
	DBNIC_POLICY_NUM,
};

extern const char * const dbnic_policy_names[DBNIC_POLICY_NUM];

enum dbnic_path {
	DBNIC_PATH_AUTO,	/* decided by the queue's policy */
	DBNIC_PATH_RING,	/* descriptor in the ring, then DB_SQ */
	DBNIC_PATH_PRIO,	/* descriptor in the ring, then a priority slot */
	/*
	 * Self-test of the device's fallback: the priority copy of a
	 * descriptor of two or more blocks stops after its first block and
	 * is abandoned without a DB_SQ write, so only the device's flush
	 * timeout announces it and the ring copy runs.  (A host abandoning
	 * a post for real rings DB_SQ.)
	 */
	DBNIC_PATH_PRIO_PARTIAL,
	/*
	 * The descriptor goes into the ring and is not announced yet: a
	 * later dbnic_queue_kick() (or a priority post, which announces
	 * every index before its own) does it, once per batch.
	 */
	DBNIC_PATH_RING_DEFER,
};

/* dbnic_queue_create_in() flags */
#define DBNIC_QUEUE_F_OWN_IRQ	BIT(0)	/* the caller takes the vector's IRQ */

/*
 * Send queue state.  Indices are free-running 16-bit counters; the caller
 * serialises access (struct dbnic_queue's lock).
 */
struct dbnic_sq {
	void *ring;		/* 2^log_size slots of 2^log_stride bytes */
	unsigned int log_size;
	unsigned int log_stride;
	u16 qid;
	u16 pi;			/* index of the next descriptor */
	u16 head;		/* ring slots before this are free */
	void __iomem *db;	/* doorbell region of the context's page */
	void __iomem *prio;	/* priority area of that page, or NULL */
	unsigned int prio_slot;	/* first slot of this queue's pair */
	unsigned int prio_next;	/* 0 or 1: which slot of the pair is next */
	enum dbnic_post_policy policy;
	unsigned int fit_blocks; /* largest descriptor FIT sends as priority */
};

struct dbnic_cq {
	struct dbnic_cqe *cqes;	/* 2^log_size entries */
	unsigned int log_size;
	u16 cqn;
	u16 ci;			/* index of the next entry to read */
	u16 ci_told;		/* consumer index last written to DB_CQ */
	void __iomem *db;	/* doorbell region of the context's page */
};

/* A DMA range for dbnic_desc_copy(); the kernel context uses key 0. */
struct dbnic_sg {
	dma_addr_t addr;
	u32 len;
};

/*
 * Completion callback of one posted descriptor.  Called in hard-IRQ
 * context with the queue lock held: it must not post.
 */
struct dbnic_req {
	void (*done)(struct dbnic_req *req, const struct dbnic_cqe *cqe);
	u16 index;		/* set by dbnic_queue_post() */
};

struct dbnic_queue {
	struct dbnic_dev *dd;
	u32 ctx;		/* the context owning the queue */
	struct list_head node;	/* in dd->queues while its CQ exists */
	spinlock_t lock;	/* sq, cq, reqs, error */
	/*
	 * The CQ entered the error state (datasheet 6.1): posts fail with
	 * -EIO; err_work destroys the SQ and fails what was pending.
	 */
	bool error;
	struct work_struct err_work;
	struct dbnic_sq sq;
	struct dbnic_cq cq;
	dma_addr_t sq_dma;
	dma_addr_t cq_dma;
	size_t sq_bytes;
	size_t cq_bytes;
	struct dbnic_req **reqs;	/* by ring slot */
	int irq;
	char irq_name[40];
	u16 vector;
	bool cq_created;
	bool sq_created;
	bool polled;		/* CQ not armed: dbnic_queue_reap() reaps */
	u64 posted_ring;
	u64 posted_prio;
	u64 completions;
	u64 unexpected;		/* CQEs nobody waited for */
	u64 flushed;		/* requests failed by a CQ error */
};

/* Descriptor building (plain memory). */
void dbnic_desc_nop(struct dbnic_desc *d, u8 flags);
int dbnic_desc_copy(struct dbnic_desc *d, u8 flags,
		    const struct dbnic_sg *src, unsigned int nsrc,
		    const struct dbnic_sg *dst, unsigned int ndst);
int dbnic_desc_compare(struct dbnic_desc *d, u8 flags,
		       const struct dbnic_sg *src, unsigned int nsrc,
		       const struct dbnic_sg *dst, unsigned int ndst);
int dbnic_desc_fill(struct dbnic_desc *d, u8 flags, u32 pattern,
		    const struct dbnic_sg *dst, unsigned int ndst);

/* Queue objects on a device. */
struct dbnic_queue *dbnic_queue_create(struct dbnic_dev *dd,
				       unsigned int log_size, u16 vector,
				       unsigned int prio_slot);
struct dbnic_queue *dbnic_queue_create_in(struct dbnic_dev *dd,
					  const struct dbnic_kctx *kc,
					  unsigned int log_size, u16 vector,
					  unsigned int prio_slot,
					  unsigned int flags);
void dbnic_queue_kick(struct dbnic_queue *q);
unsigned int dbnic_queue_space(struct dbnic_queue *q);
void dbnic_queue_stop(struct dbnic_queue *q);
void dbnic_queue_free(struct dbnic_queue *q);
int dbnic_queue_post(struct dbnic_queue *q, struct dbnic_desc *d,
		     enum dbnic_path path, struct dbnic_req *req, u16 *index);
bool dbnic_queue_cancel(struct dbnic_queue *q, u16 index,
			struct dbnic_req *req);
unsigned int dbnic_queue_poll(struct dbnic_queue *q);
void dbnic_queue_set_polled(struct dbnic_queue *q, bool polled);
unsigned int dbnic_queue_reap(struct dbnic_queue *q);
void dbnic_queue_set_policy(struct dbnic_queue *q,
			    enum dbnic_post_policy policy);
bool dbnic_queue_cq_error(struct dbnic_dev *dd, u32 cqn);

/* Completion queues of a function's own (e.g. a receive queue's CQ). */
bool dbnic_cq_pop(struct dbnic_cq *cq, struct dbnic_cqe *out);
void dbnic_cq_arm(struct dbnic_cq *cq);
bool dbnic_cq_tell(struct dbnic_cq *cq, unsigned int batch);

/* Ring logic, visible to the KUnit tests only. */
#if IS_ENABLED(CONFIG_KUNIT)
unsigned int dbnic_sq_space(const struct dbnic_sq *sq);
void __iomem *dbnic_prio_slot_addr(void __iomem *prio, unsigned int slot);
enum dbnic_path dbnic_sq_pick_path(const struct dbnic_sq *sq,
				   const struct dbnic_desc *d);
int dbnic_sq_post(struct dbnic_sq *sq, struct dbnic_desc *d,
		  enum dbnic_path path, u16 *index);
bool dbnic_sq_set_head(struct dbnic_sq *sq, u16 head);
#endif

#endif /* DBNIC_QUEUE_H */
