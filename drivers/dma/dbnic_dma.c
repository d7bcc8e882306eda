// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic dmaengine provider: dbnic_dma.ko, the driver of the "dma"
 * auxiliary device the core adds for each dbnic (dbnic_aux.h).
 *
 * Each channel is a send queue of the kernel context with its own
 * completion queue and MSI-X vector, and its own pair of priority slots
 * while the doorbell page has slots left.  Operations: memcpy (COPY),
 * memset and memset over a scatterlist (FILL, the byte replicated into
 * the 32-bit pattern) and interleaved memory-to-memory transfers (COPY
 * gathering and scattering).  Linux 6.12 has no generic memory-to-memory
 * scatter/gather copy (DMA_SG was removed in 4.15); the interleaved
 * template is the generic way to ask for one.
 *
 * A transaction is a list of source and destination ranges, cut by
 * dbnic_xfer_next() into device descriptors that respect CAP_MAX_XFER
 * and the SGE limit.  Channels use virt-dma: submitted and issued
 * transactions sit on the virt-dma lists; issue_pending moves them to the
 * channel's active list as their device descriptors are posted, as many
 * as the ring takes.  Every device descriptor asks for a completion; the
 * CQ interrupt marks its slot done and schedules the channel's reap
 * tasklet, which, under the virt-dma lock, retires slots in posting
 * order, completes transactions whose descriptors have all finished
 * (oldest first, so cookies complete in order even when the priority
 * lane runs a later descriptor first), posts what is waiting, and lets
 * virt-dma's tasklet run the callbacks.
 *
 * Lock order: vc.lock, then the queue's lock (taken by dbnic_queue_post()).
 * The CQ interrupt holds the queue's lock and never takes vc.lock.
 *
 * Module references: the dmaengine core pins the module of the dma
 * device's struct device, which is the PCI device (clients map their
 * buffers for it), so dbnic_core.ko.  This module's code runs for a
 * channel until its client releases it, so a channel in use pins this
 * module too (dbnic_dma_alloc_chan_resources()): rmmod dbnic_dma is
 * refused while a client holds a channel, as rmmod of the whole driver
 * was before the split.
 */

#include <linux/auxiliary_bus.h>
#include <linux/bits.h>
#include <linux/debugfs.h>
#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/kref.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "virt-dma.h"	/* drivers/dma/, with drivers/dma/dmaengine.h */

#include "dbnic.h"
#include "dbnic_aux.h"
#include "dbnic_dma.h"
#include "dbnic_queue.h"
#include "dbnic_xfer.h"

#define DBNIC_DMA_LOG_SIZE	8	/* 256 descriptors per channel's ring */
#define DBNIC_DMA_PRIO_SLOT	2	/* slots 0 and 1: the kernel queue */
#define DBNIC_DMA_MAX_RANGES	4096	/* per transaction, per side */
#define DBNIC_DMA_SYNC_MS	5000	/* warn while waiting this long */
#define DBNIC_DMA_PROBE_MS	100	/* look whether the device stopped */
#define DBNIC_DMA_FAILED_LOG	256	/* failed transactions remembered */

/* One transaction: source and destination ranges, cut as it is posted. */
struct dbnic_dma_desc {
	struct virt_dma_desc vd;
	u8 opcode;			/* DBNIC_OP_COPY or DBNIC_OP_FILL */
	u8 status;			/* first failure, or DBNIC_ST_OK */
	bool post_failed;		/* the driver could not post a piece */
	u32 pattern;			/* FILL immediate */
	size_t len;			/* bytes in all */
	size_t done_bytes;		/* of pieces completed */
	unsigned int inflight;		/* pieces posted, not yet retired */
	struct dbnic_xfer_cursor cur;	/* what is not posted yet */
	struct dbnic_sg sg[];		/* source ranges, then destinations */
};

/* A posted device descriptor; slots are used in posting order. */
struct dbnic_dma_slot {
	struct dbnic_req req;
	struct dbnic_dma_chan *dc;
	struct dbnic_dma_desc *desc;	/* NULL once terminated */
	u32 bytes;
	u8 status;			/* CQE status */
	bool done;			/* set by the CQ interrupt */
};

struct dbnic_dma_chan {
	struct virt_dma_chan vc;
	struct dbnic_dma *dma;
	struct dbnic_queue *q;
	struct tasklet_struct reap;	/* scheduled by the CQ interrupt */
	wait_queue_head_t idle;		/* woken when no slot is in use */

	/* Under vc.lock. */
	struct list_head active;	/* transactions being posted or run */
	struct dbnic_dma_desc *cur;	/* partly posted: last of active */
	struct dbnic_dma_slot *slots;	/* nslots, a power of two */
	unsigned int nslots;
	unsigned int head;		/* oldest slot not retired */
	unsigned int tail;		/* next slot to use */
	unsigned int fenced;		/* active transactions with a fence */
	bool dead;			/* device going away: post nothing */
	bool stopped;			/* queue stopped: no DMA, no interrupt */
	/*
	 * Transactions that failed or were terminated, for tx_status after
	 * virt-dma has freed their descriptors: a ring of the last
	 * DBNIC_DMA_FAILED_LOG (cookies are never 0, so zeroes are free).
	 */
	struct {
		dma_cookie_t cookie;
		u32 residue;
	} failed[DBNIC_DMA_FAILED_LOG];
	unsigned int failed_next;	/* entries ever recorded */
	struct dbnic_desc hw;		/* scratch: the piece being posted */
	struct dbnic_sg ssg[DBNIC_MAX_SGE];
	struct dbnic_sg dsg[DBNIC_MAX_SGE];
	u64 stat_done;
	u64 stat_failed;
	u64 stat_pieces;
	u64 stat_bytes;
	u64 stat_ring_full;
	u64 stat_terminated;
	u64 stat_failed_forgotten;	/* dropped from failed[] */
};

struct dbnic_dma {
	struct dma_device ddev;
	struct kref ref;		/* the driver's and the dma_device's */
	struct list_head grave;		/* in dbnic_dma_graveyard, released */
	struct dbnic_dev *dd;
	struct dentry *debugfs;		/* "dma" in the device's directory */
	atomic_t clients;		/* channels some client holds */
	wait_queue_head_t released;	/* woken when one is released */
	u32 max_xfer;			/* bytes per device descriptor */
	unsigned int max_sge;		/* SGEs per device descriptor */
	unsigned int nchans;
	struct dbnic_dma_chan chans[] __counted_by(nchans);
};

static struct dbnic_dma_chan *to_dbnic_chan(struct dma_chan *chan)
{
	return container_of(to_virt_chan(chan), struct dbnic_dma_chan, vc);
}

static struct dbnic_dma_desc *to_dbnic_desc(struct virt_dma_desc *vd)
{
	return container_of(vd, struct dbnic_dma_desc, vd);
}

static struct device *dbnic_chan_dev(struct dbnic_dma_chan *dc)
{
	return dc->dma->ddev.dev;
}

/* ------------------------------------------------------------------ */
/* Posting and completion (vc.lock held)                               */
/* ------------------------------------------------------------------ */

/* CQ interrupt, queue lock held: record, and leave the rest to reap. */
static void dbnic_dma_piece_done(struct dbnic_req *req,
				 const struct dbnic_cqe *cqe)
{
	struct dbnic_dma_slot *slot = container_of(req, struct dbnic_dma_slot,
						   req);

	slot->status = cqe->status;
	/* status before done: pairs with the acquire in dbnic_dma_retire(). */
	smp_store_release(&slot->done, true);
	tasklet_schedule(&slot->dc->reap);
}

/*
 * Post the next piece of @d.  -ENOSPC and -EBUSY mean "later": the ring
 * (or the slots) are full of this channel's own descriptors, and the
 * completion of one of them runs the reap tasklet, which calls again.
 */
static int dbnic_dma_post_piece(struct dbnic_dma_chan *dc,
				struct dbnic_dma_desc *d)
{
	struct dbnic_xfer_cursor cur = d->cur;	/* kept only if posted */
	u8 flags = DBNIC_DESC_F_COMPLETION;
	struct dbnic_dma_slot *slot;
	unsigned int ns, nd;
	u32 bytes;
	u16 index;
	int ret;

	if (dc->tail - dc->head == dc->nslots)
		return -ENOSPC;
	bytes = dbnic_xfer_next(&cur, dc->dma->max_xfer, dc->dma->max_sge,
				dc->ssg, &ns, dc->dsg, &nd);
	if (!bytes)
		return -EINVAL;
	/*
	 * A fenced transaction must finish before anything after it starts:
	 * while one is active, every later piece waits for all lower ring
	 * indices, on the priority lane too.
	 */
	if (dc->fenced > !!(d->vd.tx.flags & DMA_PREP_FENCE))
		flags |= DBNIC_DESC_F_FENCE;
	if (d->opcode == DBNIC_OP_FILL)
		ret = dbnic_desc_fill(&dc->hw, flags, d->pattern, dc->dsg, nd);
	else
		ret = dbnic_desc_copy(&dc->hw, flags, dc->ssg, ns, dc->dsg, nd);
	if (ret)
		return ret;

	slot = &dc->slots[dc->tail & (dc->nslots - 1)];
	slot->desc = d;
	slot->bytes = bytes;
	slot->status = DBNIC_ST_OK;
	slot->done = false;
	ret = dbnic_queue_post(dc->q, &dc->hw, DBNIC_PATH_AUTO, &slot->req,
			       &index);
	if (ret) {
		slot->desc = NULL;
		return ret;
	}
	d->cur = cur;
	d->inflight++;
	dc->tail++;
	dc->stat_pieces++;
	return 0;
}

/* Post issued transactions, piece by piece, while the ring takes them. */
static void dbnic_dma_start(struct dbnic_dma_chan *dc)
{
	lockdep_assert_held(&dc->vc.lock);

	while (!dc->dead) {
		struct dbnic_dma_desc *d = dc->cur;

		if (!d) {
			struct virt_dma_desc *vd = vchan_next_desc(&dc->vc);

			if (!vd)
				return;
			d = to_dbnic_desc(vd);
			list_move_tail(&vd->node, &dc->active);
			if (vd->tx.flags & DMA_PREP_FENCE)
				dc->fenced++;
			dc->cur = d;
		}
		while (!dbnic_xfer_done(&d->cur)) {
			int ret = dbnic_dma_post_piece(dc, d);

			if (ret == -ENOSPC || ret == -EBUSY) {
				dc->stat_ring_full++;
				return;
			}
			if (ret) {
				/* Cannot happen for what prep accepted. */
				dev_err_ratelimited(dbnic_chan_dev(dc),
						    "%s: cannot post (%d)\n",
						    dma_chan_name(&dc->vc.chan),
						    ret);
				d->post_failed = true;
				d->cur.di = d->cur.ndst;
			}
		}
		dc->cur = NULL;
	}
}

/* Retire finished slots, oldest first, into their transactions. */
static void dbnic_dma_retire(struct dbnic_dma_chan *dc)
{
	while (dc->head != dc->tail) {
		struct dbnic_dma_slot *slot =
			&dc->slots[dc->head & (dc->nslots - 1)];
		struct dbnic_dma_desc *d;

		/* Pairs with the release in dbnic_dma_piece_done(). */
		if (!smp_load_acquire(&slot->done))
			break;
		d = slot->desc;
		if (d) {
			d->inflight--;
			if (slot->status == DBNIC_ST_OK)
				d->done_bytes += slot->bytes;
			else if (d->status == DBNIC_ST_OK)
				d->status = slot->status;
		}
		slot->desc = NULL;
		slot->done = false;
		dc->head++;
	}
}

/* Remember that @d did not complete, for tx_status. */
static void dbnic_dma_record_failed(struct dbnic_dma_chan *dc,
				    struct dbnic_dma_desc *d)
{
	unsigned int i = dc->failed_next++ % DBNIC_DMA_FAILED_LOG;

	lockdep_assert_held(&dc->vc.lock);
	if (dc->failed[i].cookie)
		dc->stat_failed_forgotten++;
	dc->failed[i].cookie = d->vd.tx.cookie;
	dc->failed[i].residue = min_t(size_t, d->len - d->done_bytes, U32_MAX);
}

/* Hand transactions whose pieces have all finished to virt-dma, in order. */
static void dbnic_dma_complete(struct dbnic_dma_chan *dc)
{
	struct dbnic_dma_desc *d, *next;

	list_for_each_entry_safe(d, next, &dc->active, vd.node) {
		if (d == dc->cur || d->inflight)
			break;
		list_del(&d->vd.node);
		if (d->vd.tx.flags & DMA_PREP_FENCE)
			dc->fenced--;
		if (d->status == DBNIC_ST_OK && !d->post_failed) {
			d->vd.tx_result.result = DMA_TRANS_NOERROR;
			dc->stat_done++;
			dc->stat_bytes += d->len;
		} else {
			d->vd.tx_result.result = DMA_TRANS_ABORTED;
			d->vd.tx_result.residue = min_t(size_t,
							d->len - d->done_bytes,
							U32_MAX);
			dbnic_dma_record_failed(dc, d);
			dc->stat_failed++;
			dev_err_ratelimited(dbnic_chan_dev(dc),
					    "%s: transaction %d failed: device status %u%s\n",
					    dma_chan_name(&dc->vc.chan),
					    d->vd.tx.cookie, d->status,
					    d->post_failed ? ", not all posted" : "");
		}
		vchan_cookie_complete(&d->vd);
	}
}

static void dbnic_dma_advance(struct dbnic_dma_chan *dc)
{
	dbnic_dma_retire(dc);
	dbnic_dma_start(dc);
	dbnic_dma_complete(dc);
	if (dc->head == dc->tail)
		wake_up(&dc->idle);
}

static void dbnic_dma_reap(struct tasklet_struct *t)
{
	struct dbnic_dma_chan *dc = from_tasklet(dc, t, reap);
	unsigned long flags;

	spin_lock_irqsave(&dc->vc.lock, flags);
	dbnic_dma_advance(dc);
	spin_unlock_irqrestore(&dc->vc.lock, flags);
}

/* ------------------------------------------------------------------ */
/* Preparing transactions                                              */
/* ------------------------------------------------------------------ */

static void dbnic_dma_desc_free(struct virt_dma_desc *vd)
{
	kfree(to_dbnic_desc(vd));
}

/* Adds a transaction's ranges to the lists; called to count, then to fill. */
typedef int (*dbnic_dma_build_t)(const void *arg,
				 struct dbnic_xfer_list *src,
				 struct dbnic_xfer_list *dst);

static struct dma_async_tx_descriptor *
dbnic_dma_prep(struct dma_chan *chan, u8 opcode, u32 pattern,
	       dbnic_dma_build_t build, const void *arg, unsigned long flags)
{
	struct dbnic_dma_chan *dc = to_dbnic_chan(chan);
	struct dbnic_xfer_list src = {}, dst = {};
	struct dbnic_dma_desc *d;
	unsigned int nsrc, ndst;

	if (READ_ONCE(dc->dead) || build(arg, &src, &dst) || !dst.bytes ||
	    (opcode == DBNIC_OP_COPY && src.bytes != dst.bytes) ||
	    src.n > DBNIC_DMA_MAX_RANGES || dst.n > DBNIC_DMA_MAX_RANGES)
		return NULL;
	nsrc = src.n;
	ndst = dst.n;

	d = kzalloc(struct_size(d, sg, nsrc + ndst), GFP_NOWAIT);
	if (!d)
		return NULL;
	src = (struct dbnic_xfer_list) { .sg = d->sg, .max = nsrc };
	dst = (struct dbnic_xfer_list) { .sg = d->sg + nsrc, .max = ndst };
	if (build(arg, &src, &dst)) {
		kfree(d);
		return NULL;
	}
	d->opcode = opcode;
	d->pattern = pattern;
	d->status = DBNIC_ST_OK;
	d->len = dst.bytes;
	dbnic_xfer_cursor_init(&d->cur, nsrc ? src.sg : NULL, nsrc, dst.sg,
			       ndst);
	return vchan_tx_prep(&dc->vc, &d->vd, flags);
}

struct dbnic_dma_range_args {
	dma_addr_t src;
	dma_addr_t dst;
	size_t len;
};

static int dbnic_dma_build_memcpy(const void *arg,
				  struct dbnic_xfer_list *src,
				  struct dbnic_xfer_list *dst)
{
	const struct dbnic_dma_range_args *a = arg;

	return dbnic_xfer_add(src, a->src, a->len) ?:
	       dbnic_xfer_add(dst, a->dst, a->len);
}

static struct dma_async_tx_descriptor *
dbnic_dma_prep_memcpy(struct dma_chan *chan, dma_addr_t dst, dma_addr_t src,
		      size_t len, unsigned long flags)
{
	struct dbnic_dma_range_args a = { .src = src, .dst = dst, .len = len };

	/* The device requires disjoint source and destination. */
	if (len && src < dst + len && dst < src + len)
		return NULL;
	return dbnic_dma_prep(chan, DBNIC_OP_COPY, 0, dbnic_dma_build_memcpy,
			      &a, flags);
}

static int dbnic_dma_build_memset(const void *arg,
				  struct dbnic_xfer_list *src,
				  struct dbnic_xfer_list *dst)
{
	const struct dbnic_dma_range_args *a = arg;

	return dbnic_xfer_add(dst, a->dst, a->len);
}

static struct dma_async_tx_descriptor *
dbnic_dma_prep_memset(struct dma_chan *chan, dma_addr_t dst, int value,
		      size_t len, unsigned long flags)
{
	struct dbnic_dma_range_args a = { .dst = dst, .len = len };

	return dbnic_dma_prep(chan, DBNIC_OP_FILL, dbnic_fill_pattern(value),
			      dbnic_dma_build_memset, &a, flags);
}

struct dbnic_dma_sg_args {
	struct scatterlist *sgl;
	unsigned int nents;
};

static int dbnic_dma_build_memset_sg(const void *arg,
				     struct dbnic_xfer_list *src,
				     struct dbnic_xfer_list *dst)
{
	const struct dbnic_dma_sg_args *a = arg;
	struct scatterlist *sg;
	unsigned int i;
	int ret;

	for_each_sg(a->sgl, sg, a->nents, i) {
		ret = dbnic_xfer_add(dst, sg_dma_address(sg), sg_dma_len(sg));
		if (ret)
			return ret;
	}
	return 0;
}

static struct dma_async_tx_descriptor *
dbnic_dma_prep_memset_sg(struct dma_chan *chan, struct scatterlist *sgl,
			 unsigned int nents, int value, unsigned long flags)
{
	struct dbnic_dma_sg_args a = { .sgl = sgl, .nents = nents };

	return dbnic_dma_prep(chan, DBNIC_OP_FILL, dbnic_fill_pattern(value),
			      dbnic_dma_build_memset_sg, &a, flags);
}

static int dbnic_dma_build_interleaved(const void *arg,
				       struct dbnic_xfer_list *src,
				       struct dbnic_xfer_list *dst)
{
	/* dmaengine's icg helpers take a non-const template. */
	return dbnic_xfer_interleaved((struct dma_interleaved_template *)arg,
				      src, dst);
}

static struct dma_async_tx_descriptor *
dbnic_dma_prep_interleaved(struct dma_chan *chan,
			   struct dma_interleaved_template *xt,
			   unsigned long flags)
{
	return dbnic_dma_prep(chan, DBNIC_OP_COPY, 0,
			      dbnic_dma_build_interleaved, xt, flags);
}

/* ------------------------------------------------------------------ */
/* Channel operations                                                  */
/* ------------------------------------------------------------------ */

static void dbnic_dma_issue_pending(struct dma_chan *chan)
{
	struct dbnic_dma_chan *dc = to_dbnic_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&dc->vc.lock, flags);
	if (vchan_issue_pending(&dc->vc))
		dbnic_dma_advance(dc);
	spin_unlock_irqrestore(&dc->vc.lock, flags);
}

static struct dbnic_dma_desc *dbnic_dma_find(struct dbnic_dma_chan *dc,
					     dma_cookie_t cookie)
{
	struct list_head *lists[] = {
		&dc->active, &dc->vc.desc_issued, &dc->vc.desc_submitted,
	};
	struct virt_dma_desc *vd;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lists); i++)
		list_for_each_entry(vd, lists[i], node)
			if (vd->tx.cookie == cookie)
				return to_dbnic_desc(vd);
	return NULL;
}

static enum dma_status dbnic_dma_tx_status(struct dma_chan *chan,
					   dma_cookie_t cookie,
					   struct dma_tx_state *txstate)
{
	struct dbnic_dma_chan *dc = to_dbnic_chan(chan);
	struct dbnic_dma_desc *d;
	enum dma_status status;
	unsigned long flags;
	u32 residue = 0;

	status = dma_cookie_status(chan, cookie, txstate);
	if (status == DMA_COMPLETE) {
		unsigned int i, n;

		/* Each failed transaction keeps its own result. */
		spin_lock_irqsave(&dc->vc.lock, flags);
		n = min_t(unsigned int, dc->failed_next, DBNIC_DMA_FAILED_LOG);
		for (i = 0; i < n; i++) {
			if (dc->failed[i].cookie == cookie) {
				status = DMA_ERROR;
				residue = dc->failed[i].residue;
				break;
			}
		}
		spin_unlock_irqrestore(&dc->vc.lock, flags);
		if (status == DMA_ERROR)
			dma_set_residue(txstate, residue);
		return status;
	}
	if (!txstate)
		return status;

	spin_lock_irqsave(&dc->vc.lock, flags);
	d = dbnic_dma_find(dc, cookie);
	if (d)
		residue = min_t(size_t, d->len - d->done_bytes, U32_MAX);
	spin_unlock_irqrestore(&dc->vc.lock, flags);
	dma_set_residue(txstate, residue);
	return status;
}

/*
 * The device cannot abort a posted descriptor: forget the transactions
 * (no callback will run), and let device_synchronize wait for the
 * device's answer to every descriptor posted before the caller reuses
 * or frees the buffers.
 */
static int dbnic_dma_terminate_all(struct dma_chan *chan)
{
	struct dbnic_dma_chan *dc = to_dbnic_chan(chan);
	struct dbnic_dma_desc *d;
	unsigned long flags;
	unsigned int i;
	LIST_HEAD(head);

	spin_lock_irqsave(&dc->vc.lock, flags);
	for (i = dc->head; i != dc->tail; i++)
		dc->slots[i & (dc->nslots - 1)].desc = NULL;
	/* Started, not finished: tx_status says DMA_ERROR, not COMPLETE. */
	list_for_each_entry(d, &dc->active, vd.node) {
		dbnic_dma_record_failed(dc, d);
		dc->stat_terminated++;
	}
	list_splice_tail_init(&dc->active, &head);
	dc->cur = NULL;
	dc->fenced = 0;
	vchan_get_all_descriptors(&dc->vc, &head);
	spin_unlock_irqrestore(&dc->vc.lock, flags);

	vchan_dma_desc_free_list(&dc->vc, &head);
	return 0;
}

static bool dbnic_dma_idle(struct dbnic_dma_chan *dc)
{
	unsigned long flags;
	bool idle;

	spin_lock_irqsave(&dc->vc.lock, flags);
	idle = dc->head == dc->tail;
	spin_unlock_irqrestore(&dc->vc.lock, flags);
	return idle;
}

/*
 * The device can no longer run anything: disabled or reset (READY clear,
 * every object destroyed, datasheet section 2.1), or gone (all-ones).
 */
static bool dbnic_dma_hw_stopped(struct dbnic_dma_chan *dc)
{
	struct dbnic_dev *dd = dc->dma->dd;
	u32 status;

	/* Set before the device is removed, after which dd is gone. */
	if (READ_ONCE(dc->stopped))
		return true;
	if (pci_channel_offline(dd->pdev))
		return true;
	status = readl(dd->ctrl + DBNIC_REG_STATUS);
	return status == U32_MAX || !(status & DBNIC_STATUS_READY);
}

/*
 * Wait up to @ms for an answer to every descriptor posted so far, looking
 * every DBNIC_DMA_PROBE_MS whether the device has stopped (reset, or gone
 * without warning): then no answer comes, nor any DMA.
 * Return: 1 when idle, 0 when the device stopped, -ETIMEDOUT after @ms.
 */
static int dbnic_dma_wait_idle(struct dbnic_dma_chan *dc, unsigned int ms)
{
	unsigned int waited = 0;

	while (!wait_event_timeout(dc->idle, dbnic_dma_idle(dc),
				   msecs_to_jiffies(DBNIC_DMA_PROBE_MS))) {
		if (dbnic_dma_hw_stopped(dc))
			return 0;
		waited += DBNIC_DMA_PROBE_MS;
		if (waited >= ms)
			return -ETIMEDOUT;
	}
	return 1;
}

/*
 * Return only when the device will not touch any buffer of a transaction
 * posted so far (the dmaengine contract for device_synchronize): every
 * descriptor posted has been answered, or the device has stopped.  There
 * is no deadline after which the buffers would be safe, so a slow device
 * is waited for, with a warning now and then.
 */
static void dbnic_dma_synchronize(struct dma_chan *chan)
{
	struct dbnic_dma_chan *dc = to_dbnic_chan(chan);
	unsigned int waited = 0;

	while (dbnic_dma_wait_idle(dc, DBNIC_DMA_SYNC_MS) == -ETIMEDOUT) {
		waited += DBNIC_DMA_SYNC_MS;
		dev_warn_ratelimited(dbnic_chan_dev(dc),
				     "%s: device descriptors still running after %u ms, waiting\n",
				     dma_chan_name(chan), waited);
	}
	tasklet_kill(&dc->reap);
	vchan_synchronize(&dc->vc);
}

/*
 * A client took the channel (the core calls this for the first one): pin
 * this module until it releases the channel (see the top of the file).
 */
static int dbnic_dma_alloc_chan_resources(struct dma_chan *chan)
{
	if (!try_module_get(THIS_MODULE))
		return -ENODEV;
	atomic_inc(&to_dbnic_chan(chan)->dma->clients);
	return 0;
}

static void dbnic_dma_free_chan_resources(struct dma_chan *chan)
{
	struct dbnic_dma_chan *dc = to_dbnic_chan(chan);

	dbnic_dma_terminate_all(chan);
	dbnic_dma_synchronize(chan);
	vchan_free_chan_resources(&dc->vc);
	if (atomic_dec_and_test(&dc->dma->clients))
		wake_up(&dc->dma->released);
	/*
	 * The dmaengine core may still call device_release after this, under
	 * dma_list_mutex: dbnic_dma_exit() takes that mutex before the
	 * module goes.
	 */
	module_put(THIS_MODULE);
}

/* ------------------------------------------------------------------ */
/* Device                                                              */
/* ------------------------------------------------------------------ */

/*
 * Released channels wait here before they are freed.  A client that
 * holds a channel while the device goes (removal, reset) releases it
 * last: dma_release_channel() calls our device_release through the last
 * dma_device_put(), then still writes to the channel, all under the
 * dmaengine core's dma_list_mutex.  A release is therefore only complete
 * once that mutex has been taken again after it.  Our own calls of
 * dma_async_device_register() and _unregister() take it, and so do
 * dmaengine_get() and dmaengine_put() at module exit: what was in the
 * graveyard before such a call is freed after it.
 */
static LIST_HEAD(dbnic_dma_graveyard);
static DEFINE_SPINLOCK(dbnic_dma_graveyard_lock);

static void dbnic_dma_release_ref(struct kref *ref)
{
	struct dbnic_dma *dma = container_of(ref, struct dbnic_dma, ref);

	spin_lock(&dbnic_dma_graveyard_lock);
	list_add_tail(&dma->grave, &dbnic_dma_graveyard);
	spin_unlock(&dbnic_dma_graveyard_lock);
}

/* Take what is in the graveyard now; free it with dbnic_dma_bury(). */
static void dbnic_dma_exhume(struct list_head *dead)
{
	spin_lock(&dbnic_dma_graveyard_lock);
	list_splice_init(&dbnic_dma_graveyard, dead);
	spin_unlock(&dbnic_dma_graveyard_lock);
}

/* After dma_list_mutex was taken since dbnic_dma_exhume(@dead). */
static void dbnic_dma_bury(struct list_head *dead)
{
	struct dbnic_dma *dma, *next;
	unsigned int i;

	list_for_each_entry_safe(dma, next, dead, grave) {
		for (i = 0; i < dma->nchans; i++)
			kfree(dma->chans[i].slots);
		put_device(dma->ddev.dev);
		kfree(dma);
	}
}

/*
 * At module exit, every device is unregistered and no client holds a
 * channel, but the last release may still be running: its free_chan_
 * resources dropped our module reference, then the dmaengine core calls
 * device_release and still writes to the channel, all under
 * dma_list_mutex.  Taking the mutex waits for that; then free what was
 * released.
 */
static void dbnic_dma_exit_graveyard(void)
{
	LIST_HEAD(dead);

	/* Only for dma_list_mutex (no public channel of ours is counted). */
	dmaengine_get();
	dmaengine_put();
	dbnic_dma_exhume(&dead);
	dbnic_dma_bury(&dead);
}

static void dbnic_dma_device_release(struct dma_device *ddev)
{
	struct dbnic_dma *dma = container_of(ddev, struct dbnic_dma, ddev);

	kref_put(&dma->ref, dbnic_dma_release_ref);
}

static int dbnic_dma_chan_init(struct dbnic_dma *dma, unsigned int i,
			       u16 vector)
{
	struct dbnic_dma_chan *dc = &dma->chans[i];
	struct dbnic_dev *dd = dma->dd;
	unsigned int slot = DBNIC_DMA_PRIO_SLOT + 2 * i;
	unsigned int slots = min_t(unsigned int, dd->caps.prio_slots,
				   DBNIC_PRIO_SLOTS);
	struct dbnic_queue *q;
	unsigned int n;

	dc->dma = dma;
	INIT_LIST_HEAD(&dc->active);
	init_waitqueue_head(&dc->idle);
	tasklet_setup(&dc->reap, dbnic_dma_reap);
	dc->vc.desc_free = dbnic_dma_desc_free;
	vchan_init(&dc->vc, &dma->ddev);

	q = dbnic_queue_create(dd, min_t(unsigned int, DBNIC_DMA_LOG_SIZE,
					 dd->caps.max_log_ring),
			       vector, slot);
	if (IS_ERR(q))
		return PTR_ERR(q);
	dc->q = q;
	if (slot + 2 > slots) {
		/* The page has no pair of slots left: ring path only. */
		spin_lock_irq(&q->lock);
		q->sq.prio = NULL;
		spin_unlock_irq(&q->lock);
	}

	n = 1u << q->sq.log_size;
	dc->slots = kcalloc(n, sizeof(*dc->slots), GFP_KERNEL);
	if (!dc->slots)
		return -ENOMEM;
	dc->nslots = n;
	for (n = 0; n < dc->nslots; n++) {
		dc->slots[n].dc = dc;
		dc->slots[n].req.done = dbnic_dma_piece_done;
	}
	return 0;
}

/*
 * Stop the channels' queues; nothing is in flight any more.  Stopping a
 * queue frees its interrupt, the last thing that schedules the channel's
 * reap tasklet: only then can the tasklet be killed for good, so that it
 * cannot run once the channel is freed.
 */
static void dbnic_dma_stop(struct dbnic_dma *dma)
{
	unsigned int i;

	for (i = 0; i < dma->nchans; i++) {
		struct dbnic_dma_chan *dc = &dma->chans[i];

		if (!dc->dma)
			continue;	/* never initialised (probe failed) */
		if (dc->q)
			dbnic_queue_stop(dc->q);
		tasklet_kill(&dc->reap);
		WRITE_ONCE(dc->stopped, true);
	}
}

/*
 * Free the stopped queues.  One whose destroy failed keeps its rings
 * until the core disables the device (dbnic_queue_free()).
 */
static void dbnic_dma_free_queues(struct dbnic_dma *dma)
{
	unsigned int i;

	for (i = 0; i < dma->nchans; i++) {
		struct dbnic_queue *q = dma->chans[i].q;

		if (!q)
			continue;
		dbnic_queue_free(q);
		dma->chans[i].q = NULL;
	}
}

static int dbnic_dma_stats_show(struct seq_file *s, void *unused);
DEFINE_SHOW_ATTRIBUTE(dbnic_dma_stats);

/**
 * dbnic_dma_probe - create the channels' queues and register them
 * @adev: the device's "dma" auxiliary device
 * @id: its entry in the id table
 *
 * One channel per MSI-X vector the core allocated past its own
 * (DBNIC_NUM_VECS on; the core's dma_queues parameter).  Failure only
 * costs the channels: the other functions work without them.
 *
 * Return: 0, -ENODEV when the device has no channels to offer (no
 * vectors, or neither COPY nor FILL), or -ENOMEM.
 */
static int dbnic_dma_probe(struct auxiliary_device *adev,
			   const struct auxiliary_device_id *id)
{
	struct dbnic_dev *dd = dbnic_aux_dd(adev);
	struct device *dev = dbnic_to_dev(dd);
	const struct dbnic_caps *caps = &dd->caps;
	u16 first_vector = DBNIC_NUM_VECS;
	unsigned int n = dd->dma_nvecs, sges, i;
	struct dma_device *ddev;
	struct dbnic_dma *dma;
	LIST_HEAD(dead);
	int ret;

	if (!n)
		return -ENODEV;
	if (!(caps->features & (DBNIC_FEAT_COPY | DBNIC_FEAT_FILL)) ||
	    !caps->max_xfer) {
		dev_info(dev, "no COPY or FILL: no dmaengine channels\n");
		return -ENODEV;
	}

	dma = kzalloc(struct_size(dma, chans, n), GFP_KERNEL);
	if (!dma)
		return -ENOMEM;
	dma->nchans = n;
	kref_init(&dma->ref);
	atomic_set(&dma->clients, 0);
	init_waitqueue_head(&dma->released);
	dma->dd = dd;
	dma->max_xfer = caps->max_xfer;
	/* SGEs that fit in the largest descriptor the device takes. */
	sges = (clamp_t(unsigned int, caps->max_blocks, 1,
			DBNIC_DESC_MAX_BLOCKS) * DBNIC_DESC_BLOCK_SIZE -
		sizeof(struct dbnic_desc_hdr)) / sizeof(struct dbnic_sge);
	dma->max_sge = min_t(unsigned int, caps->max_sge,
			     min_t(unsigned int, sges, DBNIC_MAX_SGE));

	ddev = &dma->ddev;
	/*
	 * Clients map their buffers for this device (dmaengine_unmap_data
	 * keeps the pointer): it must outlive every channel, even after a
	 * hot-unplug, until the last client has released its channel.
	 */
	ddev->dev = get_device(dev);
	INIT_LIST_HEAD(&ddev->channels);
	/* Not for the public pool (async_tx): dma_request_channel() only. */
	dma_cap_set(DMA_PRIVATE, ddev->cap_mask);
	if ((caps->features & DBNIC_FEAT_COPY) && dma->max_sge >= 2) {
		dma_cap_set(DMA_MEMCPY, ddev->cap_mask);
		dma_cap_set(DMA_INTERLEAVE, ddev->cap_mask);
		ddev->device_prep_dma_memcpy = dbnic_dma_prep_memcpy;
		ddev->device_prep_interleaved_dma = dbnic_dma_prep_interleaved;
		ddev->directions = BIT(DMA_MEM_TO_MEM);
	}
	if ((caps->features & DBNIC_FEAT_FILL) && dma->max_sge >= 1) {
		dma_cap_set(DMA_MEMSET, ddev->cap_mask);
		dma_cap_set(DMA_MEMSET_SG, ddev->cap_mask);
		ddev->device_prep_dma_memset = dbnic_dma_prep_memset;
		ddev->device_prep_dma_memset_sg = dbnic_dma_prep_memset_sg;
	}
	ddev->copy_align = DMAENGINE_ALIGN_1_BYTE;
	ddev->fill_align = DMAENGINE_ALIGN_1_BYTE;
	ddev->residue_granularity = DMA_RESIDUE_GRANULARITY_SEGMENT;
	ddev->device_issue_pending = dbnic_dma_issue_pending;
	ddev->device_tx_status = dbnic_dma_tx_status;
	ddev->device_terminate_all = dbnic_dma_terminate_all;
	ddev->device_synchronize = dbnic_dma_synchronize;
	ddev->device_alloc_chan_resources = dbnic_dma_alloc_chan_resources;
	ddev->device_free_chan_resources = dbnic_dma_free_chan_resources;
	ddev->device_release = dbnic_dma_device_release;

	for (i = 0; i < n; i++) {
		ret = dbnic_dma_chan_init(dma, i, first_vector + i);
		if (ret)
			goto err;
	}

	kref_get(&dma->ref);	/* dropped by device_release */
	dbnic_dma_exhume(&dead);
	ret = dma_async_device_register(ddev);
	dbnic_dma_bury(&dead);
	if (ret) {
		kref_put(&dma->ref, dbnic_dma_release_ref);
		goto err;
	}
	auxiliary_set_drvdata(adev, dma);
	dma->debugfs = debugfs_create_file(DBNIC_DMA_DEBUGFS, 0444, dd->debugfs, dma,
					   &dbnic_dma_stats_fops);
	dev_info(dev, "%u dmaengine channels (%s..%s), up to %u bytes and %u SGEs per descriptor\n",
		 n, dma_chan_name(&dma->chans[0].vc.chan),
		 dma_chan_name(&dma->chans[n - 1].vc.chan), dma->max_xfer,
		 dma->max_sge);
	return 0;

err:
	dev_warn(dev, "no dmaengine channels: %pe\n", ERR_PTR(ret));
	dbnic_dma_stop(dma);
	dbnic_dma_free_queues(dma);
	kref_put(&dma->ref, dbnic_dma_release_ref);
	return ret;
}

/*
 * The device goes (removal, reset, PCI error) under a client: let the
 * device finish what is posted, if it still can (@wait), then fail every
 * transaction not finished, each with its callback and DMA_ERROR from
 * tx_status, so that the client learns at once instead of at its own
 * timeout.  The channel is dead: nothing is posted any more.
 */
static void dbnic_dma_abort(struct dbnic_dma_chan *dc, bool wait)
{
	struct virt_dma_desc *vd, *next;
	unsigned long flags;
	unsigned int i;
	LIST_HEAD(head);

	if (wait && dbnic_dma_wait_idle(dc, DBNIC_DMA_SYNC_MS) == -ETIMEDOUT)
		dev_warn(dbnic_chan_dev(dc),
			 "%s: device descriptors still running after %u ms\n",
			 dma_chan_name(&dc->vc.chan), DBNIC_DMA_SYNC_MS);

	spin_lock_irqsave(&dc->vc.lock, flags);
	for (i = dc->head; i != dc->tail; i++)
		dc->slots[i & (dc->nslots - 1)].desc = NULL;
	list_splice_tail_init(&dc->active, &head);
	dc->cur = NULL;
	dc->fenced = 0;
	list_splice_tail_init(&dc->vc.desc_issued, &head);
	list_splice_tail_init(&dc->vc.desc_submitted, &head);
	list_for_each_entry_safe(vd, next, &head, node) {
		struct dbnic_dma_desc *d = to_dbnic_desc(vd);

		list_del(&vd->node);
		vd->tx_result.result = DMA_TRANS_ABORTED;
		vd->tx_result.residue = min_t(size_t, d->len - d->done_bytes,
					      U32_MAX);
		dbnic_dma_record_failed(dc, d);
		dc->stat_failed++;
		vchan_cookie_complete(vd);
	}
	spin_unlock_irqrestore(&dc->vc.lock, flags);
}

/**
 * dbnic_dma_remove - quiesce and unregister the channels, free their queues
 * @adev: the device's "dma" auxiliary device
 *
 * Called before the kernel context goes (the core deletes its auxiliary
 * devices first), or when this driver is unbound or unloaded.  Clients
 * are normally gone: a client holds a reference on the module while it
 * holds a channel.  One that is left (the PCI device unbound or reset
 * under it) gets its unfinished transactions failed and finds dead
 * channels that post nothing.  Unless the core is resetting the device
 * (dd->resetting), such clients get up to DBNIC_DMA_SYNC_MS to release
 * their channels: until they do, they may hold DMA mappings of the
 * device, which must not outlive its driver.
 */
static void dbnic_dma_remove(struct auxiliary_device *adev)
{
	struct dbnic_dma *dma = auxiliary_get_drvdata(adev);
	struct dbnic_dev *dd = dma->dd;
	bool removal = !dd->resetting;
	bool offline = pci_channel_offline(dd->pdev);
	unsigned int i;
	LIST_HEAD(dead);

	debugfs_remove(dma->debugfs);
	for (i = 0; i < dma->nchans; i++) {
		struct dbnic_dma_chan *dc = &dma->chans[i];

		spin_lock_irq(&dc->vc.lock);
		WRITE_ONCE(dc->dead, true);
		spin_unlock_irq(&dc->vc.lock);
		/* An offline link completes nothing, nor DMAs. */
		dbnic_dma_abort(dc, !offline);
		tasklet_kill(&dc->reap);
		vchan_synchronize(&dc->vc);
	}
	dbnic_dma_exhume(&dead);
	dma_async_device_unregister(&dma->ddev);
	dbnic_dma_bury(&dead);
	if (removal &&
	    !wait_event_timeout(dma->released, !atomic_read(&dma->clients),
				msecs_to_jiffies(DBNIC_DMA_SYNC_MS)))
		dev_warn(dbnic_to_dev(dd),
			 "dmaengine clients still hold %d channels after %u ms: their DMA mappings outlive the driver\n",
			 atomic_read(&dma->clients), DBNIC_DMA_SYNC_MS);
	dbnic_dma_stop(dma);
	dbnic_dma_free_queues(dma);
	kref_put(&dma->ref, dbnic_dma_release_ref);
}

/*
 * debugfs "dma": each channel's queue and transaction counts.  Removed
 * before the channels are, and removal waits for readers.
 */
static int dbnic_dma_stats_show(struct seq_file *s, void *unused)
{
	struct dbnic_dma *dma = s->private;
	unsigned int i;

	for (i = 0; i < dma->nchans; i++) {
		struct dbnic_dma_chan *dc = &dma->chans[i];
		unsigned long flags;

		seq_printf(s, "%schannel %s\n", i ? "\n" : "",
			   dma_chan_name(&dc->vc.chan));
		dbnic_debugfs_show_queue(s, dc->q);
		spin_lock_irqsave(&dc->vc.lock, flags);
		seq_printf(s, "dma_done %llu\ndma_failed %llu\ndma_terminated %llu\n",
			   dc->stat_done, dc->stat_failed, dc->stat_terminated);
		seq_printf(s, "dma_pieces %llu\ndma_bytes %llu\ndma_ring_full %llu\n",
			   dc->stat_pieces, dc->stat_bytes, dc->stat_ring_full);
		seq_printf(s, "dma_in_flight %u\n", dc->tail - dc->head);
		seq_printf(s, "dma_failed_forgotten %llu\n",
			   dc->stat_failed_forgotten);
		spin_unlock_irqrestore(&dc->vc.lock, flags);
	}
	return 0;
}

static const struct auxiliary_device_id dbnic_dma_ids[] = {
	{ .name = DBNIC_AUX_ID(DBNIC_AUX_DMA_NAME) },
	{ }
};
MODULE_DEVICE_TABLE(auxiliary, dbnic_dma_ids);

static struct auxiliary_driver dbnic_dma_driver = {
	.name = "dma",
	.probe = dbnic_dma_probe,
	.remove = dbnic_dma_remove,
	.id_table = dbnic_dma_ids,
};

static int __init dbnic_dma_init(void)
{
	return auxiliary_driver_register(&dbnic_dma_driver);
}
module_init(dbnic_dma_init);

static void __exit dbnic_dma_exit(void)
{
	auxiliary_driver_unregister(&dbnic_dma_driver);
	dbnic_dma_exit_graveyard();
}
module_exit(dbnic_dma_exit);

MODULE_DESCRIPTION("dbnic dmaengine provider (auxiliary driver of dbnic_core)");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DBNIC);
