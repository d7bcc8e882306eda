// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic kernel queues: a send queue and its completion queue, and the
 * kernel posting API.
 *
 * A descriptor always goes into the send queue's ring first.  It is then
 * announced either by writing the new producer index to DB_SQ (the ring
 * path) or by copying the whole descriptor into one of the queue's two
 * priority slots in the write-combining part of the doorbell page (the
 * priority path, datasheet section 3.2), in which case the ring copy is
 * the fallback the device runs if the priority write does not arrive
 * whole.
 */

#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <kunit/visibility.h>

#include "dbnic.h"
#include "dbnic_queue.h"

const char * const dbnic_policy_names[DBNIC_POLICY_NUM] = {
	[DBNIC_POLICY_RING] = "ring",
	[DBNIC_POLICY_FIT] = "fit",
	[DBNIC_POLICY_PRIO] = "prio",
};

static int dbnic_policy = DBNIC_POLICY_FIT;

static int dbnic_policy_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(dbnic_policy_names, val);

	if (i < 0)
		return i;
	*(int *)kp->arg = i;
	return 0;
}

static int dbnic_policy_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", dbnic_policy_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops dbnic_policy_ops = {
	.set = dbnic_policy_set,
	.get = dbnic_policy_get,
};

module_param_cb(post_policy, &dbnic_policy_ops, &dbnic_policy, 0644);
MODULE_PARM_DESC(post_policy,
		 "Default posting policy of new queues: ring, fit (priority area for descriptors of at most prio_fit_blocks blocks) or prio (default: fit)");

static unsigned int prio_fit_blocks = 1;
module_param(prio_fit_blocks, uint, 0644);
MODULE_PARM_DESC(prio_fit_blocks,
		 "Largest descriptor, in 64-byte blocks, that the fit policy sends through the priority area (default: 1, one write-combining line)");

/* ------------------------------------------------------------------ */
/* Descriptors                                                          */
/* ------------------------------------------------------------------ */

/**
 * dbnic_desc_nop - build a NOP descriptor
 * @d: descriptor to fill
 * @flags: DBNIC_DESC_F_*
 *
 * index and qid are filled in when the descriptor is posted.
 */
void dbnic_desc_nop(struct dbnic_desc *d, u8 flags)
{
	memset(d, 0, sizeof(*d));
	d->hdr.opcode = DBNIC_OP_NOP;
	d->hdr.flags = flags;
	d->hdr.size = dbnic_desc_blocks(0);
}
EXPORT_SYMBOL_NS_GPL(dbnic_desc_nop, DBNIC);

static u64 dbnic_desc_put_sges(struct dbnic_sge *sge,
			       const struct dbnic_sg *sg, unsigned int n)
{
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		sge[i].addr = cpu_to_le64(sg[i].addr);
		sge[i].len = cpu_to_le32(sg[i].len);
		sge[i].key = 0;		/* a DMA address */
		total += sg[i].len;
	}
	return total;
}

static bool dbnic_sg_valid(const struct dbnic_sg *sg, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!sg[i].len)
			return false;
	return true;
}

/*
 * A descriptor over SGE lists: sources first, then destinations.  FILL
 * has no sources; COPY and COMPARE need both sides, with equal totals.
 */
static int dbnic_desc_sg(struct dbnic_desc *d, u8 opcode, u8 flags,
			 const struct dbnic_sg *src, unsigned int nsrc,
			 const struct dbnic_sg *dst, unsigned int ndst)
{
	bool fill = opcode == DBNIC_OP_FILL;
	u64 src_bytes, dst_bytes;

	/* FILL takes no source; the others need one. */
	if (fill != !nsrc || !ndst ||
	    nsrc + ndst > DBNIC_MAX_SGE ||
	    !dbnic_sg_valid(src, nsrc) || !dbnic_sg_valid(dst, ndst))
		return -EINVAL;

	memset(d, 0, sizeof(*d));
	src_bytes = dbnic_desc_put_sges(d->sge, src, nsrc);
	dst_bytes = dbnic_desc_put_sges(d->sge + nsrc, dst, ndst);
	if (!fill && src_bytes != dst_bytes)
		return -EINVAL;

	d->hdr.opcode = opcode;
	d->hdr.flags = flags;
	d->hdr.size = dbnic_desc_blocks(nsrc + ndst);
	d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, nsrc) |
		      DBNIC_SET(DBNIC_NSGE_DST, ndst);
	return 0;
}

/**
 * dbnic_desc_copy - build a COPY descriptor on DMA addresses
 * @d: descriptor to fill
 * @flags: DBNIC_DESC_F_*
 * @src: source ranges, gathered in order
 * @nsrc: number of source ranges
 * @dst: destination ranges, scattered in order
 * @ndst: number of destination ranges
 *
 * Return: 0, or -EINVAL if the ranges cannot form a valid COPY (no range
 * on a side, too many ranges, an empty range, unequal totals).
 */
int dbnic_desc_copy(struct dbnic_desc *d, u8 flags,
		    const struct dbnic_sg *src, unsigned int nsrc,
		    const struct dbnic_sg *dst, unsigned int ndst)
{
	return dbnic_desc_sg(d, DBNIC_OP_COPY, flags, src, nsrc, dst, ndst);
}
EXPORT_SYMBOL_NS_GPL(dbnic_desc_copy, DBNIC);

/**
 * dbnic_desc_compare - build a COMPARE descriptor on DMA addresses
 * @d: descriptor to fill
 * @flags: DBNIC_DESC_F_*
 * @src: ranges compared, in order...
 * @nsrc: number of @src ranges
 * @dst: ...with these, which are only read
 * @ndst: number of @dst ranges
 *
 * Return: 0 or -EINVAL, as dbnic_desc_copy().
 */
int dbnic_desc_compare(struct dbnic_desc *d, u8 flags,
		       const struct dbnic_sg *src, unsigned int nsrc,
		       const struct dbnic_sg *dst, unsigned int ndst)
{
	return dbnic_desc_sg(d, DBNIC_OP_COMPARE, flags, src, nsrc, dst, ndst);
}
EXPORT_SYMBOL_NS_GPL(dbnic_desc_compare, DBNIC);

/**
 * dbnic_desc_fill - build a FILL descriptor on DMA addresses
 * @d: descriptor to fill
 * @flags: DBNIC_DESC_F_*
 * @pattern: 32-bit value repeated, little-endian, over the ranges
 * @dst: destination ranges, filled in order
 * @ndst: number of destination ranges
 *
 * Return: 0, or -EINVAL for no range, too many or an empty one.
 */
int dbnic_desc_fill(struct dbnic_desc *d, u8 flags, u32 pattern,
		    const struct dbnic_sg *dst, unsigned int ndst)
{
	int ret = dbnic_desc_sg(d, DBNIC_OP_FILL, flags, NULL, 0, dst, ndst);

	if (!ret)
		d->hdr.imm = cpu_to_le32(pattern);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dbnic_desc_fill, DBNIC);

/* ------------------------------------------------------------------ */
/* Ring logic: plain memory and __iomem pointers only                   */
/* ------------------------------------------------------------------ */

/* Free ring slots: the ring size minus the descriptors not yet consumed. */
VISIBLE_IF_KUNIT unsigned int dbnic_sq_space(const struct dbnic_sq *sq)
{
	return (1u << sq->log_size) - dbnic_ring_used(sq->pi, sq->head);
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_sq_space);

/* @prio maps the page's priority area, which starts at slot 0. */
VISIBLE_IF_KUNIT
void __iomem *dbnic_prio_slot_addr(void __iomem *prio, unsigned int slot)
{
	return prio + DBNIC_PRIO_SLOT_OFFSET(slot) - DBNIC_PRIO_OFFSET;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_prio_slot_addr);

/* The path the queue's policy picks for @d. */
VISIBLE_IF_KUNIT enum dbnic_path dbnic_sq_pick_path(const struct dbnic_sq *sq,
						    const struct dbnic_desc *d)
{
	if (!sq->prio)
		return DBNIC_PATH_RING;

	switch (sq->policy) {
	case DBNIC_POLICY_PRIO:
		return DBNIC_PATH_PRIO;
	case DBNIC_POLICY_FIT:
		return d->hdr.size <= sq->fit_blocks ? DBNIC_PATH_PRIO :
						       DBNIC_PATH_RING;
	case DBNIC_POLICY_RING:
	default:
		return DBNIC_PATH_RING;
	}
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_sq_pick_path);

/**
 * dbnic_sq_post - write a descriptor into the ring and announce it
 * @sq: the send queue; the caller serialises
 * @d: descriptor built by dbnic_desc_*(); hdr.index, hdr.qid and
 *     hdr.csum are filled in here
 * @path: DBNIC_PATH_AUTO picks one with dbnic_sq_pick_path()
 * @index: the ring index the descriptor got
 *
 * Return: the path used (not DBNIC_PATH_AUTO), -EINVAL for a descriptor
 * the ring cannot hold, -EOPNOTSUPP for a priority path on a queue
 * without priority slots, -ENOSPC when the ring is full.
 */
VISIBLE_IF_KUNIT int dbnic_sq_post(struct dbnic_sq *sq, struct dbnic_desc *d,
				   enum dbnic_path path, u16 *index)
{
	unsigned int bytes = d->hdr.size * DBNIC_DESC_BLOCK_SIZE;
	unsigned int prio_bytes = bytes;
	void *slot;

	if (!d->hdr.size || d->hdr.size > DBNIC_DESC_MAX_BLOCKS ||
	    bytes > (1u << sq->log_stride))
		return -EINVAL;
	if (path == DBNIC_PATH_AUTO)
		path = dbnic_sq_pick_path(sq, d);
	if (path == DBNIC_PATH_PRIO_PARTIAL) {
		if (d->hdr.size < 2)
			return -EINVAL;
		prio_bytes = DBNIC_DESC_BLOCK_SIZE;
	}
	if (path != DBNIC_PATH_RING && path != DBNIC_PATH_RING_DEFER &&
	    !sq->prio)
		return -EOPNOTSUPP;
	if (!dbnic_sq_space(sq))
		return -ENOSPC;

	d->hdr.index = cpu_to_le16(sq->pi);
	d->hdr.qid = cpu_to_le16(sq->qid);
	d->hdr.csum = 0;
	if (path != DBNIC_PATH_RING && path != DBNIC_PATH_RING_DEFER)
		d->hdr.csum = cpu_to_le32(dbnic_desc_csum(d, bytes / sizeof(u64)));

	/* The ring copy comes first: it is the priority path's fallback. */
	slot = sq->ring + (dbnic_ring_slot(sq->pi, sq->log_size) <<
			   sq->log_stride);
	memcpy(slot, d, bytes);
	dma_wmb();

	*index = sq->pi++;
	if (path == DBNIC_PATH_RING_DEFER)
		return path;
	if (path == DBNIC_PATH_RING) {
		writel(dbnic_db_sq_val(sq->qid, sq->pi), sq->db + DBNIC_DB_SQ);
		return path;
	}

	/* The priority write is itself the doorbell for hdr.index + 1. */
	__iowrite64_copy(dbnic_prio_slot_addr(sq->prio,
					      sq->prio_slot + sq->prio_next),
			 d, prio_bytes / sizeof(u64));
	/*
	 * Flush the write-combining buffer: the slot is complete before the
	 * next post, which goes to the other slot of the pair.
	 */
	wmb();
	sq->prio_next ^= 1;
	return path;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_sq_post);

/*
 * Take the device's ring consumer index from a CQE.  Refuse values that
 * would free slots not yet posted.
 */
VISIBLE_IF_KUNIT bool dbnic_sq_set_head(struct dbnic_sq *sq, u16 head)
{
	if (dbnic_ring_used(head, sq->head) >
	    dbnic_ring_used(sq->pi, sq->head))
		return false;
	sq->head = head;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_sq_set_head);

/**
 * dbnic_cq_pop - take the next completion if the device has written it
 * @cq: the completion queue
 * @out: copy of the entry
 *
 * Return: true if an entry was taken.
 */
bool dbnic_cq_pop(struct dbnic_cq *cq, struct dbnic_cqe *out)
{
	struct dbnic_cqe *e = &cq->cqes[dbnic_ring_slot(cq->ci, cq->log_size)];

	if ((READ_ONCE(e->flags) & DBNIC_CQE_F_PHASE) !=
	    dbnic_cq_phase(cq->ci, cq->log_size))
		return false;
	/* The phase is valid: now the rest of the entry is. */
	dma_rmb();
	*out = *e;
	cq->ci++;
	return true;
}
EXPORT_SYMBOL_NS_GPL(dbnic_cq_pop, DBNIC);

/**
 * dbnic_cq_arm - report the consumer index and arm the CQ
 * @cq: the completion queue
 *
 * The device signals the CQ's vector at the next CQE, or at once if
 * entries past the consumer index exist (datasheet 6).
 */
void dbnic_cq_arm(struct dbnic_cq *cq)
{
	writel(dbnic_db_cq_val(cq->cqn, cq->ci, 1), cq->db + DBNIC_DB_CQ);
	cq->ci_told = cq->ci;
}
EXPORT_SYMBOL_NS_GPL(dbnic_cq_arm, DBNIC);

/**
 * dbnic_cq_tell - report the consumer index without arming
 * @cq: the completion queue
 * @batch: report only when at least this many entries were consumed
 *         since the last report (0: whenever any were)
 *
 * The device drops CQEs once the CQ looks full from its side, so a
 * polling consumer must report its index now and then; batching keeps
 * the DB_CQ write off most completions.
 *
 * Return: true if DB_CQ was written.
 */
bool dbnic_cq_tell(struct dbnic_cq *cq, unsigned int batch)
{
	u16 unreported = dbnic_ring_used(cq->ci, cq->ci_told);

	if (!unreported || unreported < batch)
		return false;
	writel(dbnic_db_cq_val(cq->cqn, cq->ci, 0), cq->db + DBNIC_DB_CQ);
	cq->ci_told = cq->ci;
	return true;
}
EXPORT_SYMBOL_NS_GPL(dbnic_cq_tell, DBNIC);

/* ------------------------------------------------------------------ */
/* Queues on the device                                                 */
/* ------------------------------------------------------------------ */

/* Called with q->lock held. */
static unsigned int dbnic_queue_process(struct dbnic_queue *q)
{
	unsigned int budget = 1u << q->cq.log_size, n = 0;
	struct dbnic_cqe cqe;

	while (n < budget && dbnic_cq_pop(&q->cq, &cqe)) {
		u16 index = le16_to_cpu(cqe.index);
		struct dbnic_req **slot;

		n++;
		q->completions++;
		if (le16_to_cpu(cqe.qid) != q->sq.qid) {
			q->unexpected++;
			dev_warn_ratelimited(dbnic_to_dev(q->dd),
					     "CQ %u: completion for queue %u\n",
					     q->cq.cqn, le16_to_cpu(cqe.qid));
			continue;
		}
		if (!dbnic_sq_set_head(&q->sq, le16_to_cpu(cqe.sq_head)))
			dev_warn_ratelimited(dbnic_to_dev(q->dd),
					     "SQ %u: bad sq_head %u (pi %u head %u)\n",
					     q->sq.qid, le16_to_cpu(cqe.sq_head),
					     q->sq.pi, q->sq.head);

		slot = &q->reqs[dbnic_ring_slot(index, q->sq.log_size)];
		if (*slot && (*slot)->index == index) {
			struct dbnic_req *req = *slot;

			*slot = NULL;
			req->done(req, &cqe);
		} else {
			q->unexpected++;
			if (cqe.status != DBNIC_ST_OK)
				dev_warn_ratelimited(dbnic_to_dev(q->dd),
						     "SQ %u: index %u failed, status %u\n",
						     q->sq.qid, index, cqe.status);
		}
	}
	return n;
}

/* A polled CQ reports its consumer index every quarter ring. */
static unsigned int dbnic_queue_tell_batch(const struct dbnic_queue *q)
{
	return max(1u, (1u << q->cq.log_size) / 4);
}

/**
 * dbnic_queue_poll - reap completions, then re-arm the CQ
 * @q: the queue
 *
 * A queue in polling mode (dbnic_queue_set_polled()) is not re-armed.
 *
 * Return: the number of completions reaped.
 */
unsigned int dbnic_queue_poll(struct dbnic_queue *q)
{
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&q->lock, flags);
	n = dbnic_queue_process(q);
	if (q->polled)
		dbnic_cq_tell(&q->cq, dbnic_queue_tell_batch(q));
	else
		dbnic_cq_arm(&q->cq);
	spin_unlock_irqrestore(&q->lock, flags);
	return n;
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_poll, DBNIC);

/**
 * dbnic_queue_reap - reap completions without arming the CQ
 * @q: a queue in polling mode
 *
 * Runs the callbacks of the completions found, in the caller's context
 * (with the queue lock held and interrupts off, as from the interrupt),
 * and reports the consumer index to the device once per quarter of the
 * CQ.  For callers that poll rather than sleep: no DB_CQ write and no
 * interrupt per completion.
 *
 * Return: the number of completions reaped.
 */
unsigned int dbnic_queue_reap(struct dbnic_queue *q)
{
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&q->lock, flags);
	n = dbnic_queue_process(q);
	if (n)
		dbnic_cq_tell(&q->cq, dbnic_queue_tell_batch(q));
	spin_unlock_irqrestore(&q->lock, flags);
	return n;
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_reap, DBNIC);

/**
 * dbnic_queue_set_polled - switch between interrupts and polling
 * @q: the queue
 * @polled: true: stop re-arming the CQ, the caller reaps with
 *          dbnic_queue_reap(); false: reap what is there and re-arm
 *
 * An interrupt armed before the switch may still come once; its handler
 * reaps and does not re-arm.
 */
void dbnic_queue_set_polled(struct dbnic_queue *q, bool polled)
{
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	q->polled = polled;
	if (!polled) {
		dbnic_queue_process(q);
		dbnic_cq_arm(&q->cq);
	}
	spin_unlock_irqrestore(&q->lock, flags);
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_set_polled, DBNIC);

static irqreturn_t dbnic_queue_irq(int irq, void *data)
{
	dbnic_queue_poll(data);
	return IRQ_HANDLED;
}

/**
 * dbnic_queue_post - post a descriptor on a queue
 * @q: the queue
 * @d: descriptor built by dbnic_desc_*()
 * @path: DBNIC_PATH_AUTO to follow the queue's policy
 * @req: completion callback, or NULL; only descriptors with
 *       DBNIC_DESC_F_COMPLETION (or that fail) complete
 * @index: the ring index the descriptor got
 *
 * Return: 0 or a negative errno: see dbnic_sq_post(); -ENOSPC (ring
 * full) and -EBUSY (the ring slot's previous callback has not run yet)
 * pass once completions arrive; -EIO: the queue stopped after an error
 * of its CQ (datasheet 6.1) and takes nothing more.
 */
int dbnic_queue_post(struct dbnic_queue *q, struct dbnic_desc *d,
		     enum dbnic_path path, struct dbnic_req *req, u16 *index)
{
	struct dbnic_req **slot;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&q->lock, flags);
	if (q->error) {
		ret = -EIO;
		goto out;
	}
	slot = &q->reqs[dbnic_ring_slot(q->sq.pi, q->sq.log_size)];
	/*
	 * sq_head may pass a priority descriptor before its completion is
	 * written (the ring lane skips its slot): then the slot is free in
	 * the ring but its callback still waits.
	 */
	if (dbnic_sq_space(&q->sq) && *slot) {
		ret = -EBUSY;
		goto out;
	}
	ret = dbnic_sq_post(&q->sq, d, path, index);
	if (ret < 0)
		goto out;
	if (ret != DBNIC_PATH_RING && ret != DBNIC_PATH_RING_DEFER)
		q->posted_prio++;
	else
		q->posted_ring++;
	if (req) {
		req->index = *index;
		*slot = req;
	}
	ret = 0;
out:
	spin_unlock_irqrestore(&q->lock, flags);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_post, DBNIC);

/**
 * dbnic_queue_kick - announce the descriptors posted with
 *	DBNIC_PATH_RING_DEFER: one DB_SQ write (datasheet 3.1)
 * @q: the queue
 *
 * Harmless when there is nothing new: the device ignores a producer
 * index that does not move.
 */
void dbnic_queue_kick(struct dbnic_queue *q)
{
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	if (!q->error)
		writel(dbnic_db_sq_val(q->sq.qid, q->sq.pi),
		       q->sq.db + DBNIC_DB_SQ);
	spin_unlock_irqrestore(&q->lock, flags);
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_kick, DBNIC);

/**
 * dbnic_queue_space - free ring slots of a queue
 * @q: the queue
 *
 * Return: how many descriptors dbnic_queue_post() takes now, at most
 * (a slot whose callback has not run yet still fails with -EBUSY).
 */
unsigned int dbnic_queue_space(struct dbnic_queue *q)
{
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&q->lock, flags);
	n = q->error ? 0 : dbnic_sq_space(&q->sq);
	spin_unlock_irqrestore(&q->lock, flags);
	return n;
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_space, DBNIC);

/**
 * dbnic_queue_cancel - forget the callback of a posted descriptor
 * @q: the queue
 * @index: ring index returned by dbnic_queue_post()
 * @req: the callback passed to it
 *
 * Return: true if the callback was still pending (it will not run).
 */
bool dbnic_queue_cancel(struct dbnic_queue *q, u16 index,
			struct dbnic_req *req)
{
	struct dbnic_req **slot;
	unsigned long flags;
	bool pending;

	spin_lock_irqsave(&q->lock, flags);
	slot = &q->reqs[dbnic_ring_slot(index, q->sq.log_size)];
	pending = *slot == req;
	if (pending)
		*slot = NULL;
	spin_unlock_irqrestore(&q->lock, flags);
	return pending;
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_cancel, DBNIC);

void dbnic_queue_set_policy(struct dbnic_queue *q,
			    enum dbnic_post_policy policy)
{
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	q->sq.policy = policy;
	spin_unlock_irqrestore(&q->lock, flags);
}

/*
 * The queue's CQ is in error (datasheet 6.1): its SQ starts nothing more
 * and no CQE will come.  Destroy the SQ, which tells where the ring lane
 * stopped, then fail every request still waiting with ST_FLUSHED, after
 * the CQEs the device did write.  Nothing of the queue is in flight even
 * if DESTROY_SQ fails: the SQ is the CQ's only one, the descriptor whose
 * CQE failed had finished, and the device starts nothing after it.
 */
static void dbnic_queue_err_work(struct work_struct *work)
{
	struct dbnic_queue *q = container_of(work, struct dbnic_queue,
					     err_work);
	struct dbnic_cqe cqe = { .status = DBNIC_ST_FLUSHED };
	unsigned int i, n = 0;
	unsigned long flags;
	u16 head = 0;

	if (q->sq_created && !dbnic_admin_destroy_sq(q->dd, q->sq.qid, &head))
		q->sq_created = false;
	spin_lock_irqsave(&q->lock, flags);
	dbnic_queue_process(q);
	cqe.qid = cpu_to_le16(q->sq.qid);
	for (i = 0; i < 1u << q->sq.log_size; i++) {
		struct dbnic_req *req = q->reqs[i];

		if (!req)
			continue;
		q->reqs[i] = NULL;
		cqe.index = cpu_to_le16(req->index);
		req->done(req, &cqe);
		n++;
	}
	q->flushed += n;
	spin_unlock_irqrestore(&q->lock, flags);
	dev_err(dbnic_to_dev(q->dd),
		"queue %u: CQ %u in error, queue stopped at index %u, %u requests failed\n",
		q->sq.qid, q->cq.cqn, head, n);
}

/**
 * dbnic_queue_cq_error - a CQ error event for a kernel queue's CQ
 * @dd: the device
 * @cqn: the CQ of the event (datasheet section 7)
 *
 * Called from the vector-0 interrupt.  Posts to the queue fail with -EIO
 * from now on; its pending requests fail with ST_FLUSHED from a work
 * item, once the device has confirmed the SQ is gone.
 *
 * Return: true if @cqn is the CQ of a kernel queue.
 */
bool dbnic_queue_cq_error(struct dbnic_dev *dd, u32 cqn)
{
	struct dbnic_queue *q;
	bool found = false;
	unsigned long flags;

	spin_lock_irqsave(&dd->queues_lock, flags);
	list_for_each_entry(q, &dd->queues, node) {
		if (q->cq.cqn != cqn)
			continue;
		spin_lock(&q->lock);
		q->error = true;
		spin_unlock(&q->lock);
		schedule_work(&q->err_work);
		found = true;
		break;
	}
	spin_unlock_irqrestore(&dd->queues_lock, flags);
	return found;
}

/* Smallest stride that holds the device's largest descriptor. */
static unsigned int dbnic_queue_stride(struct dbnic_dev *dd)
{
	unsigned int blocks = clamp_t(unsigned int, dd->caps.max_blocks, 1,
				      DBNIC_DESC_MAX_BLOCKS);

	return clamp_t(unsigned int,
		       order_base_2(blocks * DBNIC_DESC_BLOCK_SIZE),
		       DBNIC_LOG_STRIDE_MIN, DBNIC_LOG_STRIDE_MAX);
}

/**
 * dbnic_queue_create - create a send queue and its completion queue
 * @dd: the device; its kernel context and doorbell page exist
 * @log_size: log2 of the send queue's entries
 * @vector: MSI-X vector of the completion queue, or DBNIC_CQ_NO_VECTOR
 *          for a queue that is only reaped by polling (no interrupt)
 * @prio_slot: first of the two priority slots the queue may use
 *
 * The completion queue has twice the entries, so that every descriptor
 * in flight has room for its completion.
 *
 * Return: the queue or an ERR_PTR().
 */
struct dbnic_queue *dbnic_queue_create(struct dbnic_dev *dd,
				       unsigned int log_size, u16 vector,
				       unsigned int prio_slot)
{
	struct dbnic_kctx kc = {
		.ctx = dd->ctx, .db = dd->db, .prio = dd->prio,
	};

	return dbnic_queue_create_in(dd, &kc, log_size, vector, prio_slot, 0);
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_create, DBNIC);

/**
 * dbnic_queue_create_in - create a send queue and its CQ in a context
 * @dd: the device
 * @kc: the context and its doorbell page (dbnic_kctx_create())
 * @log_size: log2 of the send queue's entries (1..12, at most the
 *	device's CAP_LIMITS)
 * @vector: MSI-X vector of the CQ, or DBNIC_CQ_NO_VECTOR
 * @prio_slot: first of the two priority slots (of @kc's page) the queue
 *	may use
 * @flags: DBNIC_QUEUE_F_OWN_IRQ: the core requests no interrupt; the
 *	caller's handler for @vector reaps (dbnic_queue_poll() re-arms)
 *
 * As dbnic_queue_create(), datasheet sections 4 and 6.
 *
 * Return: the queue or an ERR_PTR(): -EINVAL for a @log_size out of
 * range, -ENOMEM, or an errno of the admin queue.
 */
struct dbnic_queue *dbnic_queue_create_in(struct dbnic_dev *dd,
					  const struct dbnic_kctx *kc,
					  unsigned int log_size, u16 vector,
					  unsigned int prio_slot,
					  unsigned int flags)
{
	struct device *dev = dbnic_to_dev(dd);
	unsigned int max_log = min_t(unsigned int, dd->caps.max_log_ring,
				     DBNIC_LOG_RING_MAX);
	struct dbnic_admin_hold *hold;
	struct dbnic_queue *q;
	u32 cqn, qid;
	int ret;

	if (log_size < DBNIC_LOG_RING_MIN || log_size > max_log)
		return ERR_PTR(-EINVAL);

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	/* Takes the rings should a create time out (the device may run it). */
	hold = kzalloc(sizeof(*hold), GFP_KERNEL);
	if (!q || !hold) {
		kfree(hold);
		kfree(q);
		return ERR_PTR(-ENOMEM);
	}
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->node);
	INIT_WORK(&q->err_work, dbnic_queue_err_work);
	q->dd = dd;
	q->vector = vector;

	q->sq.log_size = log_size;
	q->sq.log_stride = dbnic_queue_stride(dd);
	q->ctx = kc->ctx;
	q->sq.db = kc->db;
	q->sq.prio = kc->prio;
	q->sq.prio_slot = prio_slot;
	q->sq.policy = READ_ONCE(dbnic_policy);
	q->sq.fit_blocks = READ_ONCE(prio_fit_blocks);
	q->cq.log_size = min(log_size + 1, max_log);
	q->cq.db = kc->db;

	q->sq_bytes = (size_t)1 << (q->sq.log_size + q->sq.log_stride);
	q->cq_bytes = sizeof(struct dbnic_cqe) << q->cq.log_size;
	q->sq.ring = dma_alloc_coherent(dev, q->sq_bytes, &q->sq_dma,
					GFP_KERNEL);
	/* Zeroed: every entry starts with the phase of no completion. */
	q->cq.cqes = dma_alloc_coherent(dev, q->cq_bytes, &q->cq_dma,
					GFP_KERNEL);
	q->reqs = kcalloc(1u << log_size, sizeof(*q->reqs), GFP_KERNEL);
	if (!q->sq.ring || !q->cq.cqes || !q->reqs) {
		ret = -ENOMEM;
		goto err;
	}

	if (vector == DBNIC_CQ_NO_VECTOR) {
		q->polled = true;
		goto no_irq;
	}
	if (flags & DBNIC_QUEUE_F_OWN_IRQ)
		goto no_irq;
	q->irq = pci_irq_vector(dd->pdev, vector);
	if (q->irq < 0) {
		ret = q->irq;
		q->irq = 0;
		goto err;
	}
	snprintf(q->irq_name, sizeof(q->irq_name), "%s-q%u@%s",
		 DBNIC_DRV_NAME, vector, pci_name(dd->pdev));
	ret = request_irq(q->irq, dbnic_queue_irq, 0, q->irq_name, q);
	if (ret) {
		q->irq = 0;
		goto err;
	}
no_irq:

	hold->buf[0].cpu = q->sq.ring;
	hold->buf[0].dma = q->sq_dma;
	hold->buf[0].bytes = q->sq_bytes;
	hold->buf[1].cpu = q->cq.cqes;
	hold->buf[1].dma = q->cq_dma;
	hold->buf[1].bytes = q->cq_bytes;
	hold->pages = PFN_UP(q->sq_bytes) + PFN_UP(q->cq_bytes);
	ret = dbnic_admin_create_cq(dd, q->ctx, q->cq_dma, q->cq.log_size,
				    vector, &cqn, hold);
	if (ret)
		goto err;
	q->cq.cqn = cqn;
	q->cq_created = true;
	spin_lock_irq(&dd->queues_lock);
	list_add_tail(&q->node, &dd->queues);
	spin_unlock_irq(&dd->queues_lock);

	/* If CREATE_SQ times out, its CQ goes after it, then the rings. */
	hold->undo[0].opcode = DBNIC_ADM_DESTROY_CQ;
	hold->undo[0].handle = cqn;
	hold->nundo = 1;
	ret = dbnic_admin_create_sq(dd, q->ctx, cqn, q->sq_dma,
				    q->sq.log_size, q->sq.log_stride, &qid,
				    hold);
	if (ret)
		goto err;
	q->sq.qid = qid;
	q->sq_created = true;
	kfree(hold);

	dbnic_queue_poll(q);	/* arms the CQ */
	return q;

err:
	if (ret == -ETIMEDOUT) {
		/* The admin queue owns the rings, and the CQ if there is one. */
		q->sq.ring = NULL;
		q->cq.cqes = NULL;
		q->cq_created = false;
	} else {
		kfree(hold);
	}
	dbnic_queue_stop(q);
	dbnic_queue_free(q);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_create_in, DBNIC);

/**
 * dbnic_queue_stop - destroy the device's objects of a queue
 * @q: the queue
 *
 * Pending callbacks are dropped.  The memory stays until
 * dbnic_queue_free().
 */
void dbnic_queue_stop(struct dbnic_queue *q)
{
	struct dbnic_dev *dd = q->dd;

	spin_lock_irq(&dd->queues_lock);
	list_del_init(&q->node);
	spin_unlock_irq(&dd->queues_lock);
	cancel_work_sync(&q->err_work);

	if (q->sq_created &&
	    !dbnic_admin_destroy(dd, DBNIC_ADM_DESTROY_SQ, q->sq.qid))
		q->sq_created = false;
	if (q->cq_created &&
	    !dbnic_admin_destroy(dd, DBNIC_ADM_DESTROY_CQ, q->cq.cqn))
		q->cq_created = false;
	if (q->irq) {
		free_irq(q->irq, q);
		q->irq = 0;
	}
	if (q->reqs)
		memset(q->reqs, 0, sizeof(*q->reqs) << q->sq.log_size);
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_stop, DBNIC);

/**
 * dbnic_queue_free - free a stopped queue
 * @q: the queue
 *
 * The device must no longer use the queue's memory: its objects are
 * destroyed, or the device is disabled (then clear the *_created flags
 * first).  Otherwise the rings are kept until the device is reset
 * (dbnic_admin_park_rings()) rather than handed back while the device may
 * still write them.  A function driver's remove may free its queues here
 * whether or not their destroy succeeded: while the core takes the
 * device down, the disable that follows frees what was kept.
 */
void dbnic_queue_free(struct dbnic_queue *q)
{
	struct device *dev = dbnic_to_dev(q->dd);

	if (q->sq_created || q->cq_created) {
		/* The device may still write them: keep them until reset. */
		if (dbnic_admin_park_rings(q->dd, q->sq.ring, q->sq_dma,
					   q->sq_bytes, q->cq.cqes, q->cq_dma,
					   q->cq_bytes))
			dev_warn(dev, "queue %u still known to the device: leaking its rings\n",
				 q->sq.qid);
		else if (!READ_ONCE(q->dd->stopping))
			dev_warn(dev, "queue %u still known to the device: keeping its rings until reset\n",
				 q->sq.qid);
		/* else the core disables the device next: nothing to warn of. */
	} else {
		if (q->sq.ring)
			dma_free_coherent(dev, q->sq_bytes, q->sq.ring,
					  q->sq_dma);
		if (q->cq.cqes)
			dma_free_coherent(dev, q->cq_bytes, q->cq.cqes,
					  q->cq_dma);
	}
	kfree(q->reqs);
	kfree(q);
}
EXPORT_SYMBOL_NS_GPL(dbnic_queue_free, DBNIC);
