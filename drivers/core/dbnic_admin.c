// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic admin queue (datasheet section 4), the event queue (section 7.1)
 * and the vector-0 interrupt.
 *
 * Commands run one at a time under a mutex: write the command into the
 * submission ring, dma_wmb(), write the producer index to AQ_DB, then
 * sleep until the vector-0 interrupt reports an admin completion and
 * read the completion ring by phase.
 *
 * A command that times out is still in the ring, and the device may run
 * it later: the memory it names (rings, page lists, pinned pages) must
 * stay until the device answers.  The caller hands that memory over in a
 * struct dbnic_admin_hold; the hold waits on the "held" list until its
 * completion shows up (taken by the next command's reap, or by late_work,
 * which the vector-0 interrupt kicks while anything is held).  Whoever
 * took it then, still under the mutex, destroys what a late successful
 * create made, so no process is left with a live key or queue it was
 * told failed, and frees the memory.  A device reset answers everything
 * at once: dbnic_admin_forget().
 *
 * Async events (bad doorbells, a CQ that overflowed, a broken admin
 * queue) arrive in the event queue when the device has one, else in the
 * ERR register.  The device reports each kind once per object, so the
 * handler's work is bounded by the objects that exist.
 */

#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "dbnic.h"
#include "dbnic_queue.h"

#define DBNIC_ADMIN_LOG_SIZE	4	/* 16 entries: one command at a time */
/* How often a waiting command looks whether the device has gone, in ms. */
#define DBNIC_ADMIN_PROBE_MS	100

static unsigned int admin_timeout_ms = 5000;
module_param(admin_timeout_ms, uint, 0644);
MODULE_PARM_DESC(admin_timeout_ms,
		 "How long an admin command may take before the driver gives up on it, in ms (default 5000; what it names stays allocated until the device answers)");

static const char * const dbnic_admin_op_names[] = {
	[DBNIC_ADM_CREATE_CTX] = "CREATE_CTX",
	[DBNIC_ADM_DESTROY_CTX] = "DESTROY_CTX",
	[DBNIC_ADM_CREATE_CQ] = "CREATE_CQ",
	[DBNIC_ADM_DESTROY_CQ] = "DESTROY_CQ",
	[DBNIC_ADM_CREATE_SQ] = "CREATE_SQ",
	[DBNIC_ADM_DESTROY_SQ] = "DESTROY_SQ",
	[DBNIC_ADM_REG_MR] = "REG_MR",
	[DBNIC_ADM_DEREG_MR] = "DEREG_MR",
	[DBNIC_ADM_CREATE_RQ] = "CREATE_RQ",
	[DBNIC_ADM_DESTROY_RQ] = "DESTROY_RQ",
	[DBNIC_ADM_SET_RSS] = "SET_RSS",
	[DBNIC_ADM_CREATE_QP] = "CREATE_QP",
	[DBNIC_ADM_MODIFY_QP] = "MODIFY_QP",
	[DBNIC_ADM_QUERY_QP] = "QUERY_QP",
	[DBNIC_ADM_DESTROY_QP] = "DESTROY_QP",
	[DBNIC_ADM_CREATE_AH] = "CREATE_AH",
	[DBNIC_ADM_DESTROY_AH] = "DESTROY_AH",
	[DBNIC_ADM_SET_GID] = "SET_GID",
};

static const char *dbnic_admin_op_name(u8 opcode)
{
	if (opcode < ARRAY_SIZE(dbnic_admin_op_names) &&
	    dbnic_admin_op_names[opcode])
		return dbnic_admin_op_names[opcode];
	return "?";
}

static int dbnic_admin_errno(u8 status)
{
	switch (status) {
	case DBNIC_AST_OK:
		return 0;
	case DBNIC_AST_BAD_OPCODE:
		return -EOPNOTSUPP;
	case DBNIC_AST_BAD_PARAM:
		return -EINVAL;
	case DBNIC_AST_NO_RESOURCE:
		return -ENOSPC;
	case DBNIC_AST_BAD_HANDLE:
		return -ENOENT;
	case DBNIC_AST_BUSY:
		return -EBUSY;
	default:
		return -EIO;
	}
}

static void dbnic_admin_late_work(struct work_struct *work);

/*
 * Allocate the event queue if the device has one (the capability
 * registers can be read before enable).  One entry per event the device
 * may have pending: three kinds of doorbell error per context, one CQ
 * error per CQ, ADMIN and EQ_OVERFLOW; with RDMA also one CQ_COMP per CQ
 * (datasheet 11.7: never a second while the first is in the EQ) and one
 * QP_ERR per QP (once per entry to ERR, which needs the host's reset to
 * happen again); capped at the largest EQ.
 */
static int dbnic_eq_init(struct dbnic_dev *dd)
{
	struct dbnic_eq *eq = &dd->eq;
	u32 feat = readl(dd->ctrl + DBNIC_REG_CAP_FEATURES);
	u32 pages = DBNIC_GET(readl(dd->ctrl + DBNIC_REG_CAP_DB),
			      DBNIC_CAPDB_PAGES);
	u32 cqs = DBNIC_GET(readl(dd->ctrl + DBNIC_REG_CAP_QUEUES),
			    DBNIC_CAPQ_MAX_CQ);
	u32 rdma = 0;

	if (!(feat & DBNIC_FEAT_EQ))
		return 0;
	if (feat & DBNIC_FEAT_RDMA)
		rdma = cqs + DBNIC_GET(readl(dd->ctrl + DBNIC_REG_CAP_QP),
				       DBNIC_CAPQP_MAX_QP);
	eq->log_size = clamp_t(unsigned int,
			       order_base_2(3 * pages + cqs + 2 + rdma + 1),
			       DBNIC_EQ_LOG_SIZE_MIN, DBNIC_EQ_LOG_SIZE_MAX);
	eq->ring = dmam_alloc_coherent(dbnic_to_dev(dd),
				       sizeof(*eq->ring) << eq->log_size,
				       &eq->dma, GFP_KERNEL);
	return eq->ring ? 0 : -ENOMEM;
}

/**
 * dbnic_admin_init - allocate the admin rings and the event queue
 * @dd: the device, reset
 *
 * Return: 0 or -ENOMEM.  The rings are device-managed.
 */
int dbnic_admin_init(struct dbnic_dev *dd)
{
	struct dbnic_admin *a = &dd->admin;
	struct device *dev = dbnic_to_dev(dd);

	mutex_init(&a->lock);
	init_completion(&a->done);
	spin_lock_init(&a->hold_lock);
	INIT_LIST_HEAD(&a->held);
	INIT_LIST_HEAD(&a->answered);
	INIT_LIST_HEAD(&a->parked);
	INIT_WORK(&a->late_work, dbnic_admin_late_work);
	a->log_size = min(DBNIC_ADMIN_LOG_SIZE, DBNIC_AQ_LOG_SIZE_MAX);
	/* Coherent allocations are page aligned: enough for both rings. */
	a->sq = dmam_alloc_coherent(dev, sizeof(*a->sq) << a->log_size,
				    &a->sq_dma, GFP_KERNEL);
	a->cq = dmam_alloc_coherent(dev, sizeof(*a->cq) << a->log_size,
				    &a->cq_dma, GFP_KERNEL);
	if (!a->sq || !a->cq)
		return -ENOMEM;
	return dbnic_eq_init(dd);
}

/**
 * dbnic_admin_program - hand the admin rings to the device
 * @dd: the device, reset and not yet enabled
 *
 * Step 4 of the reset and enable sequence (datasheet section 2.1).
 */
void dbnic_admin_program(struct dbnic_dev *dd)
{
	struct dbnic_admin *a = &dd->admin;

	memset(a->sq, 0, sizeof(*a->sq) << a->log_size);
	memset(a->cq, 0, sizeof(*a->cq) << a->log_size);
	a->sq_pi = 0;
	a->sq_head = 0;
	a->cq_ci = 0;

	lo_hi_writeq(a->sq_dma, dd->ctrl + DBNIC_REG_AQ_SQ_BASE);
	lo_hi_writeq(a->cq_dma, dd->ctrl + DBNIC_REG_AQ_CQ_BASE);
	writel(a->log_size & DBNIC_AQ_LOG_SIZE_MASK,
	       dd->ctrl + DBNIC_REG_AQ_CFG);

	if (dd->eq.ring) {
		memset(dd->eq.ring, 0, sizeof(*dd->eq.ring) << dd->eq.log_size);
		dd->eq.ci = 0;
		lo_hi_writeq(dd->eq.dma, dd->ctrl + DBNIC_REG_EQ_BASE);
		writel(dd->eq.log_size, dd->ctrl + DBNIC_REG_EQ_CFG);
	}
}

/* The command that undoes what a successful @opcode made, or 0. */
static u8 dbnic_admin_undo_op(u8 opcode)
{
	switch (opcode) {
	case DBNIC_ADM_CREATE_CTX:
		return DBNIC_ADM_DESTROY_CTX;
	case DBNIC_ADM_CREATE_CQ:
		return DBNIC_ADM_DESTROY_CQ;
	case DBNIC_ADM_CREATE_SQ:
		return DBNIC_ADM_DESTROY_SQ;
	case DBNIC_ADM_REG_MR:
		return DBNIC_ADM_DEREG_MR;
	case DBNIC_ADM_CREATE_RQ:
		return DBNIC_ADM_DESTROY_RQ;
	case DBNIC_ADM_CREATE_QP:
		return DBNIC_ADM_DESTROY_QP;
	case DBNIC_ADM_CREATE_AH:
		return DBNIC_ADM_DESTROY_AH;
	default:
		return 0;
	}
}

/*
 * Commands that only read (or, QUERY_QP, write) the memory they name
 * during the command and leave nothing behind that uses it: once
 * answered, whatever the status, the memory is free.
 */
static bool dbnic_admin_reads_only(u8 opcode)
{
	return opcode == DBNIC_ADM_MODIFY_QP || opcode == DBNIC_ADM_QUERY_QP;
}

/* The answer to a command that timed out: move its hold to "answered". */
static void dbnic_admin_late(struct dbnic_dev *dd,
			     const struct dbnic_admin_cqe *cqe)
{
	struct dbnic_admin *a = &dd->admin;
	u16 cmd_id = le16_to_cpu(cqe->cmd_id);
	struct dbnic_admin_hold *h, *found = NULL;

	spin_lock(&a->hold_lock);
	list_for_each_entry(h, &a->held, node) {
		if (h->cmd_id == cmd_id) {
			found = h;
			h->status = cqe->status;
			h->result = le32_to_cpu(cqe->result);
			list_move_tail(&h->node, &a->answered);
			a->late_answers++;
			break;
		}
	}
	if (list_empty(&a->held))
		WRITE_ONCE(a->have_held, false);
	spin_unlock(&a->hold_lock);

	if (!found) {
		dev_warn_ratelimited(dbnic_to_dev(dd),
				     "unexpected admin completion: cmd_id %u status %u\n",
				     cmd_id, cqe->status);
		return;
	}
	/* The caller holds a->lock and settles it before dropping it. */
	dev_info_ratelimited(dbnic_to_dev(dd),
			     "late admin %s completion: cmd_id %u status %u\n",
			     dbnic_admin_op_name(found->opcode), cmd_id,
			     cqe->status);
}

/*
 * Take admin completions until the one for @cmd_id (or all there are,
 * for a negative @cmd_id).  Completions of earlier commands that timed
 * out go to their holds.  Called with a->lock held.
 *
 * Return: 0 with *out filled, or -EAGAIN when it has not arrived yet.
 */
static int dbnic_admin_reap(struct dbnic_dev *dd, int cmd_id,
			    struct dbnic_admin_cqe *out)
{
	struct dbnic_admin *a = &dd->admin;

	lockdep_assert_held(&a->lock);
	for (;;) {
		struct dbnic_admin_cqe *e =
			&a->cq[dbnic_ring_slot(a->cq_ci, a->log_size)];

		if ((READ_ONCE(e->flags) & DBNIC_CQE_F_PHASE) !=
		    dbnic_cq_phase(a->cq_ci, a->log_size))
			return -EAGAIN;
		dma_rmb();
		*out = *e;
		a->cq_ci++;
		a->sq_head = le16_to_cpu(out->sq_head);
		if (le16_to_cpu(out->cmd_id) == cmd_id)
			return 0;
		dbnic_admin_late(dd, out);
	}
}

/* Put a hold on the held list: its command @cmd_id timed out. */
static void dbnic_admin_hold_add(struct dbnic_admin *a,
				 struct dbnic_admin_hold *hold, u16 cmd_id,
				 u8 opcode)
{
	hold->cmd_id = cmd_id;
	hold->opcode = opcode;
	/* Until dbnic_admin_release(): @release is the owner's code. */
	__module_get(hold->owner);
	spin_lock(&a->hold_lock);
	list_add_tail(&hold->node, &a->held);
	a->timeouts++;
	WRITE_ONCE(a->have_held, true);
	spin_unlock(&a->hold_lock);
}

/*
 * Run one admin command and wait for its completion.
 *
 * Return: 0 with *result and *result2 set (each if not NULL), -ETIMEDOUT (then the admin
 * queue owns @hold, see struct dbnic_admin_hold; without one, it still
 * undoes what a late successful create made), -ENODEV while
 * dbnic_admin_forget() runs, when the PCI channel is offline or when the
 * device has gone (dbnic_dev_gone(), checked every DBNIC_ADMIN_PROBE_MS
 * while waiting; nothing is held then), -EBUSY
 * when the ring is still full of timed-out commands, or the errno of the
 * admin status.
 */
static int dbnic_admin_exec_locked(struct dbnic_dev *dd,
				   struct dbnic_admin_cmd *cmd, u32 *result,
				   u32 *result2, struct dbnic_admin_hold *hold)
{
	struct dbnic_admin *a = &dd->admin;
	struct device *dev = dbnic_to_dev(dd);
	unsigned long deadline;
	struct dbnic_admin_cqe cqe;
	u16 cmd_id;
	int ret;

	lockdep_assert_held(&a->lock);
	/*
	 * A frozen or disconnected link (PCI error recovery, surprise
	 * removal) carries neither the doorbell nor the completion: fail
	 * now instead of after the timeout.
	 */
	if (READ_ONCE(a->stopped) ||
	    dbnic_dev_gone(dd, readl(dd->ctrl + DBNIC_REG_STATUS))) {
		ret = -ENODEV;
		goto out;
	}
	if (dbnic_ring_used(a->sq_pi, a->sq_head) >= 1u << a->log_size) {
		ret = -EBUSY;
		goto out;
	}

	cmd_id = ++a->cmd_id;
	cmd->cmd_id = cpu_to_le16(cmd_id);
	a->sq[dbnic_ring_slot(a->sq_pi, a->log_size)] = *cmd;
	reinit_completion(&a->done);
	dma_wmb();
	a->sq_pi++;
	writel(a->sq_pi, dd->ctrl + DBNIC_REG_AQ_DB);

	deadline = jiffies +
		   msecs_to_jiffies(max(READ_ONCE(admin_timeout_ms), 1u));
	for (;;) {
		long left = (long)(deadline - jiffies);

		ret = dbnic_admin_reap(dd, cmd_id, &cqe);
		if (ret != -EAGAIN)
			break;
		if (left > 0 && !READ_ONCE(a->stopped)) {
			long slice = msecs_to_jiffies(DBNIC_ADMIN_PROBE_MS);

			if (wait_for_completion_timeout(&a->done,
							min(left, slice)) ||
			    !dbnic_dev_gone(dd, readl(dd->ctrl +
						      DBNIC_REG_STATUS)))
				continue;
			/*
			 * Surprise removal: it will never answer nor DMA, so
			 * what the command names is free (datasheet 2.1).
			 */
			dev_err_ratelimited(dev, "admin %s: device gone\n",
					    dbnic_admin_op_name(cmd->opcode));
			ret = -ENODEV;
			goto out;
		}
		/* A last look: the interrupt may be what was lost. */
		ret = dbnic_admin_reap(dd, cmd_id, &cqe);
		if (!ret) {
			dev_warn_once(dev, "admin completion without interrupt\n");
			break;
		}
		dev_err_ratelimited(dev, "admin %s timed out (status %#x)\n",
				    dbnic_admin_op_name(cmd->opcode),
				    readl(dd->ctrl + DBNIC_REG_STATUS));
		/*
		 * Still in the ring: whatever it names stays until the answer.
		 * Without a hold, only the late result needs undoing; if even
		 * that record cannot be had, the answer is dropped as before.
		 */
		if (!hold)
			hold = kzalloc(sizeof(*hold), GFP_KERNEL);
		if (hold)
			dbnic_admin_hold_add(a, hold, cmd_id, cmd->opcode);
		ret = -ETIMEDOUT;
		goto out;
	}

	ret = dbnic_admin_errno(cqe.status);
	/*
	 * Rate-limited: user space can make commands fail (e.g. by opening
	 * more contexts than the device has) as often as it likes.
	 */
	if (ret)
		dev_err_ratelimited(dev, "admin %s failed: status %u (%d)\n",
				    dbnic_admin_op_name(cmd->opcode),
				    cqe.status, ret);
	else if (result)
		*result = le32_to_cpu(cqe.result);
	if (!ret && result2)
		*result2 = le32_to_cpu(cqe.result2);
out:
	return ret;
}

static void dbnic_admin_settle_answered(struct dbnic_dev *dd);

static int dbnic_admin_exec2(struct dbnic_dev *dd, struct dbnic_admin_cmd *cmd,
			     u32 *result, u32 *result2,
			     struct dbnic_admin_hold *hold)
{
	struct dbnic_admin *a = &dd->admin;
	int ret;

	mutex_lock(&a->lock);
	ret = dbnic_admin_exec_locked(dd, cmd, result, result2, hold);
	/*
	 * Late answers this command's reap took: undo them before anyone
	 * else can post (see dbnic_admin_settle()).
	 */
	dbnic_admin_settle_answered(dd);
	mutex_unlock(&a->lock);
	return ret;
}

static int dbnic_admin_exec(struct dbnic_dev *dd, struct dbnic_admin_cmd *cmd,
			    u32 *result, struct dbnic_admin_hold *hold)
{
	return dbnic_admin_exec2(dd, cmd, result, NULL, hold);
}

int dbnic_admin_create_ctx(struct dbnic_dev *dd, u32 flags, u32 *ctx)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_CTX };

	cmd.create_ctx.flags = cpu_to_le32(flags);
	return dbnic_admin_exec(dd, &cmd, ctx, NULL);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_create_ctx, DBNIC);

/**
 * dbnic_admin_create_cq_ext - CREATE_CQ with a CQE size (datasheet 4, 11.2)
 * @dd: the device
 * @ctx: the CQ's context
 * @base: DMA address of the ring, 2^(@log_size + @log_cqe) bytes, aligned
 *	to its CQE size
 * @log_size: log2 of the ring's entries
 * @log_cqe: 0 or DBNIC_LOG_CQE_16 (16-byte CQEs), DBNIC_LOG_CQE_32 (the
 *	32-byte struct dbnic_rdma_cqe of a QP's CQ, 1.4)
 * @vector: MSI-X vector, DBNIC_CQ_NO_VECTOR, or DBNIC_CQ_EVENT (an ARM is
 *	answered by a CQ_COMP event, 1.4: needs the event queue)
 * @cqn: the CQ created
 * @hold: holds the ring, see struct dbnic_admin_hold
 *
 * Return: 0, -EINVAL (BAD_PARAM), -ENOSPC (no CQ left) or another errno
 * of the admin queue, -ETIMEDOUT included.
 */
int dbnic_admin_create_cq_ext(struct dbnic_dev *dd, u32 ctx, dma_addr_t base,
			      unsigned int log_size, unsigned int log_cqe,
			      u16 vector, u32 *cqn,
			      struct dbnic_admin_hold *hold)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_CQ };

	cmd.create_cq.base = cpu_to_le64(base);
	cmd.create_cq.ctx = cpu_to_le32(ctx);
	cmd.create_cq.log_size = log_size;
	cmd.create_cq.log_cqe = log_cqe;
	cmd.create_cq.msix_vector = cpu_to_le16(vector);
	return dbnic_admin_exec(dd, &cmd, cqn, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_create_cq_ext, DBNIC);

/* CREATE_CQ; @hold holds the ring at @base, see struct dbnic_admin_hold. */
int dbnic_admin_create_cq(struct dbnic_dev *dd, u32 ctx, dma_addr_t base,
			  unsigned int log_size, u16 vector, u32 *cqn,
			  struct dbnic_admin_hold *hold)
{
	return dbnic_admin_create_cq_ext(dd, ctx, base, log_size, 0, vector,
					 cqn, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_create_cq, DBNIC);

/* CREATE_SQ; @hold holds the ring at @base, see struct dbnic_admin_hold. */
/* CREATE_SQ and CREATE_RQ: the same fields (datasheet 4, 10.3). */
static int dbnic_admin_create_ring(struct dbnic_dev *dd, u8 opcode, u32 ctx,
				   u32 cqn, dma_addr_t base,
				   unsigned int log_size,
				   unsigned int log_stride, u32 *id,
				   struct dbnic_admin_hold *hold)
{
	struct dbnic_admin_cmd cmd = { .opcode = opcode };

	cmd.create_sq.base = cpu_to_le64(base);
	cmd.create_sq.ctx = cpu_to_le32(ctx);
	cmd.create_sq.cqn = cpu_to_le32(cqn);
	cmd.create_sq.log_size = log_size;
	cmd.create_sq.log_stride = log_stride;
	return dbnic_admin_exec(dd, &cmd, id, hold);
}

int dbnic_admin_create_sq(struct dbnic_dev *dd, u32 ctx, u32 cqn,
			  dma_addr_t base, unsigned int log_size,
			  unsigned int log_stride, u32 *qid,
			  struct dbnic_admin_hold *hold)
{
	return dbnic_admin_create_ring(dd, DBNIC_ADM_CREATE_SQ, ctx, cqn, base,
				       log_size, log_stride, qid, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_create_sq, DBNIC);

/**
 * dbnic_admin_create_rq - CREATE_RQ (datasheet sections 4, 10.3)
 * @dd: the device
 * @ctx: a PRIVILEGED context
 * @cqn: its CQ the RQ completes to
 * @base: DMA address of the ring, 2^(@log_size + @log_stride) bytes
 * @log_size: log2 of the ring's entries, 1..12
 * @log_stride: log2 of a slot's bytes, 6..8
 * @rqn: the RQ created
 * @hold: holds the ring, see struct dbnic_admin_hold
 *
 * Return: 0, -EINVAL (BAD_PARAM), -ENOSPC (no RQ left) or another errno
 * of the admin queue, -ETIMEDOUT included.
 */
int dbnic_admin_create_rq(struct dbnic_dev *dd, u32 ctx, u32 cqn,
			  dma_addr_t base, unsigned int log_size,
			  unsigned int log_stride, u32 *rqn,
			  struct dbnic_admin_hold *hold)
{
	return dbnic_admin_create_ring(dd, DBNIC_ADM_CREATE_RQ, ctx, cqn, base,
				       log_size, log_stride, rqn, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_create_rq, DBNIC);

/**
 * dbnic_admin_set_rss - SET_RSS (datasheet section 10.4)
 * @dd: the device
 * @ctx: the PRIVILEGED context whose RQs the table names
 * @config: DMA address of a struct dbnic_rss_config (300 bytes, 8-byte
 *	aligned), read during the command; 0 turns RSS off
 * @hold: holds the config, see struct dbnic_admin_hold (NULL with 0)
 *
 * Return: 0, -EINVAL (BAD_PARAM: an rqn not of @ctx) or another errno
 * of the admin queue, -ETIMEDOUT included.
 */
int dbnic_admin_set_rss(struct dbnic_dev *dd, u32 ctx, dma_addr_t config,
			struct dbnic_admin_hold *hold)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_SET_RSS };

	cmd.set_rss.config = cpu_to_le64(config);
	cmd.set_rss.ctx = cpu_to_le32(ctx);
	return dbnic_admin_exec(dd, &cmd, NULL, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_set_rss, DBNIC);

/**
 * dbnic_admin_reg_mr_pd - REG_MR in a protection domain (datasheet 4.1, 11.1)
 * @dd: the device
 * @ctx: the registration's context
 * @pd: its protection domain tag; 0: none (the 1.3 behaviour)
 * @iova: address of its first byte in SGEs and rkeys
 * @length: its bytes
 * @pages: DMA address of a list of @npages __le64 DMA addresses of pages
 *	of 2^@page_shift bytes, read during the command and until DEREG_MR
 * @npages: entries in the list
 * @page_shift: log2 page size, DBNIC_MR_PAGE_SHIFT_MIN..MAX
 * @access: DBNIC_MR_* rights
 * @key: the key created (lkey = rkey)
 * @hold: holds the list and the pages, see struct dbnic_admin_hold
 *
 * Return: 0, -EINVAL (BAD_PARAM), -ENOSPC (table full) or another errno
 * of the admin queue, -ETIMEDOUT included.
 */
int dbnic_admin_reg_mr_pd(struct dbnic_dev *dd, u32 ctx, u32 pd, u64 iova,
			  u64 length, dma_addr_t pages, u32 npages,
			  unsigned int page_shift, u32 access, u32 *key,
			  struct dbnic_admin_hold *hold)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_REG_MR };

	cmd.reg_mr.iova = cpu_to_le64(iova);
	cmd.reg_mr.length = cpu_to_le64(length);
	cmd.reg_mr.pages = cpu_to_le64(pages);
	cmd.reg_mr.ctx = cpu_to_le32(ctx);
	cmd.reg_mr.npages = cpu_to_le32(npages);
	cmd.reg_mr.page_shift = page_shift;
	cmd.reg_mr.access = access;
	cmd.reg_mr.pd = cpu_to_le32(pd);
	return dbnic_admin_exec(dd, &cmd, key, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_reg_mr_pd, DBNIC);

/*
 * REG_MR (datasheet section 4.1): @pages lists @npages DMA addresses.
 * @hold holds the list and the pages, see struct dbnic_admin_hold.
 */
int dbnic_admin_reg_mr(struct dbnic_dev *dd, u32 ctx, u64 iova, u64 length,
		       dma_addr_t pages, u32 npages, unsigned int page_shift,
		       u32 access, u32 *key, struct dbnic_admin_hold *hold)
{
	return dbnic_admin_reg_mr_pd(dd, ctx, 0, iova, length, pages, npages,
				     page_shift, access, key, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_reg_mr, DBNIC);

/**
 * dbnic_admin_create_qp - CREATE_QP (datasheet 11.2)
 * @dd: the device
 * @p: the QP's context, pd, type, CQs and rings
 * @qpn: the QPN created (24 bits; the GSI QP's wire QPN is 1)
 * @qid: its send queue's qid (result2): DB_SQ, DB_QP_RQ and CQEs name it
 * @hold: holds both rings, see struct dbnic_admin_hold; a late success
 *	is destroyed (DESTROY_QP)
 *
 * Return: 0, -EINVAL (BAD_PARAM: a CQ not of the context or not of
 * 32-byte CQEs, a process's GSI), -ENOSPC (no QP or send queue left),
 * -EBUSY (a second GSI QP) or another errno of the admin queue,
 * -ETIMEDOUT included.
 */
int dbnic_admin_create_qp(struct dbnic_dev *dd,
			  const struct dbnic_qp_params *p, u32 *qpn, u32 *qid,
			  struct dbnic_admin_hold *hold)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_QP };

	cmd.create_qp.sq_base = cpu_to_le64(p->sq_base);
	cmd.create_qp.rq_base = cpu_to_le64(p->rq_base);
	cmd.create_qp.ctx = cpu_to_le32(p->ctx);
	cmd.create_qp.pd = cpu_to_le32(p->pd);
	cmd.create_qp.scqn = cpu_to_le32(p->scqn);
	cmd.create_qp.rcqn = cpu_to_le32(p->rcqn);
	cmd.create_qp.type = p->type;
	cmd.create_qp.sq_log_size = p->sq_log_size;
	cmd.create_qp.sq_log_stride = p->sq_log_stride;
	cmd.create_qp.rq_log_size = p->rq_log_size;
	cmd.create_qp.rq_log_stride = p->rq_log_stride;
	return dbnic_admin_exec2(dd, &cmd, qpn, qid, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_create_qp, DBNIC);

/**
 * dbnic_admin_modify_qp - MODIFY_QP (datasheet 11.2)
 * @dd: the device
 * @qpn: the QP
 * @attr_mask: DBNIC_QP_ATTR_* (the bits of enum ib_qp_attr_mask)
 * @attr: DMA address of a 128-byte struct dbnic_qp_attr, 8-byte aligned,
 *	read during the command
 * @hold: holds the attribute block, see struct dbnic_admin_hold
 *
 * Return: 0, -EINVAL (BAD_PARAM: a transition or value the device
 * refuses; nothing changed), -ENOENT (no such QP) or another errno of
 * the admin queue, -ETIMEDOUT included (the change may still happen).
 */
int dbnic_admin_modify_qp(struct dbnic_dev *dd, u32 qpn, u32 attr_mask,
			  dma_addr_t attr, struct dbnic_admin_hold *hold)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_MODIFY_QP };

	cmd.modify_qp.attr = cpu_to_le64(attr);
	cmd.modify_qp.qpn = cpu_to_le32(qpn);
	cmd.modify_qp.attr_mask = cpu_to_le32(attr_mask);
	return dbnic_admin_exec(dd, &cmd, NULL, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_modify_qp, DBNIC);

/**
 * dbnic_admin_query_qp - QUERY_QP (datasheet 11.2)
 * @dd: the device
 * @qpn: the QP
 * @attr: DMA address of a 128-byte struct dbnic_qp_attr, 8-byte aligned,
 *	that the device writes: the current state and every attribute
 * @hold: holds the attribute block, see struct dbnic_admin_hold
 *
 * Return: 0, -ENOENT (no such QP) or another errno of the admin queue,
 * -ETIMEDOUT included (the device may still write the block).
 */
int dbnic_admin_query_qp(struct dbnic_dev *dd, u32 qpn, dma_addr_t attr,
			 struct dbnic_admin_hold *hold)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_QUERY_QP };

	cmd.modify_qp.attr = cpu_to_le64(attr);
	cmd.modify_qp.qpn = cpu_to_le32(qpn);
	return dbnic_admin_exec(dd, &cmd, NULL, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_query_qp, DBNIC);

/**
 * dbnic_admin_create_ah - CREATE_AH (datasheet 11.2)
 * @dd: the device
 * @ctx: the context whose QPs may use it
 * @pd: and their protection domain
 * @av: the 40-byte address vector, copied into the command
 * @ah: the AH created, for dbnic_rdma_seg.ah
 *
 * A late success after a timeout is destroyed (DESTROY_AH).
 *
 * Return: 0, -EINVAL (BAD_PARAM: a field out of range, a GID entry not
 * valid or of another network), -ENOSPC (no AH left) or another errno of
 * the admin queue, -ETIMEDOUT included.
 */
int dbnic_admin_create_ah(struct dbnic_dev *dd, u32 ctx, u32 pd,
			  const struct dbnic_av *av, u32 *ah)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_AH };

	cmd.create_ah.av = *av;
	cmd.create_ah.ctx = cpu_to_le32(ctx);
	cmd.create_ah.pd = cpu_to_le32(pd);
	return dbnic_admin_exec(dd, &cmd, ah, NULL);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_create_ah, DBNIC);

/**
 * dbnic_admin_set_gid - SET_GID (datasheet 11.2)
 * @dd: the device
 * @ctx: a PRIVILEGED context (the port's GIDs are the host's)
 * @index: the GID entry, below CAP_RDMA's GID count (DBNIC_GID_TBL_LEN)
 * @gid: 16 bytes: an IPv6 address or an IPv4-mapped one
 * @net: DBNIC_NET_IPV4 or DBNIC_NET_IPV6; 0 deletes the entry
 * @vlan: VLAN ID of the GID's netdev, or DBNIC_VLAN_NONE
 *
 * Return: 0, -EINVAL (BAD_PARAM: a context not PRIVILEGED, a value out
 * of range) or another errno of the admin queue, -ETIMEDOUT included.
 */
int dbnic_admin_set_gid(struct dbnic_dev *dd, u32 ctx, u32 index,
			const u8 *gid, u8 net, u16 vlan)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_SET_GID };

	cmd.set_gid.ctx = cpu_to_le32(ctx);

	memcpy(cmd.set_gid.gid, gid, sizeof(cmd.set_gid.gid));
	cmd.set_gid.index = cpu_to_le32(index);
	cmd.set_gid.vlan = cpu_to_le16(vlan);
	cmd.set_gid.net = net;
	return dbnic_admin_exec(dd, &cmd, NULL, NULL);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_set_gid, DBNIC);

/* DESTROY_CTX, _CQ, _SQ, _RQ, _QP (handle = QPN), _AH or DEREG_MR (key). */
int dbnic_admin_destroy(struct dbnic_dev *dd, u8 opcode, u32 handle)
{
	struct dbnic_admin_cmd cmd = { .opcode = opcode };

	cmd.destroy.handle = cpu_to_le32(handle);
	return dbnic_admin_exec(dd, &cmd, NULL, NULL);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_destroy, DBNIC);

/* The device no longer uses what @hold names: free it. */
static void dbnic_admin_release(struct dbnic_dev *dd,
				struct dbnic_admin_hold *hold)
{
	struct device *dev = dbnic_to_dev(dd);
	struct dbnic_admin *a = &dd->admin;
	unsigned int i;

	spin_lock(&a->hold_lock);
	a->released++;
	spin_unlock(&a->hold_lock);
	if (hold->release) {
		struct module *owner = hold->owner;

		hold->release(dd, hold);
		module_put(owner);
		return;
	}
	for (i = 0; i < DBNIC_HOLD_BUFS; i++)
		if (hold->buf[i].cpu)
			dma_free_coherent(dev, hold->buf[i].bytes,
					  hold->buf[i].cpu, hold->buf[i].dma);
	kfree(hold);
}

/* Park a hold the admin queue owns already (it holds hold->owner). */
static void dbnic_admin_park_held(struct dbnic_dev *dd,
				  struct dbnic_admin_hold *hold)
{
	struct dbnic_admin *a = &dd->admin;

	spin_lock(&a->hold_lock);
	list_add_tail(&hold->node, &a->parked);
	spin_unlock(&a->hold_lock);
}

/**
 * dbnic_admin_park - keep memory until the device is reset
 * @dd: the device
 * @hold: memory the device may still use (e.g. a queue whose DESTROY_SQ
 *	failed); the admin queue owns it from now on
 *
 * dbnic_admin_forget() releases it.
 */
void dbnic_admin_park(struct dbnic_dev *dd, struct dbnic_admin_hold *hold)
{
	/* Until dbnic_admin_release(): @release is the owner's code. */
	__module_get(hold->owner);
	dbnic_admin_park_held(dd, hold);
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_park, DBNIC);

/**
 * dbnic_admin_park_rings - keep two coherent buffers until the device is reset
 * @dd: the device
 * @cpu0: first buffer (or NULL), @bytes0 bytes at DMA address @dma0
 * @dma0: its DMA address
 * @bytes0: its size
 * @cpu1: second buffer (or NULL), as @cpu0
 * @dma1: its DMA address
 * @bytes1: its size
 *
 * For rings of a queue whose destroy failed: the device may still write
 * them, so they are freed by dbnic_admin_forget(), not now.
 *
 * Return: 0, or -ENOMEM (then the caller can only leak them).
 */
int dbnic_admin_park_rings(struct dbnic_dev *dd, void *cpu0, dma_addr_t dma0,
			   size_t bytes0, void *cpu1, dma_addr_t dma1,
			   size_t bytes1)
{
	struct dbnic_admin_hold *hold = kzalloc(sizeof(*hold), GFP_KERNEL);

	if (!hold)
		return -ENOMEM;
	hold->buf[0].cpu = cpu0;
	hold->buf[0].dma = dma0;
	hold->buf[0].bytes = bytes0;
	hold->buf[1].cpu = cpu1;
	hold->buf[1].dma = dma1;
	hold->buf[1].bytes = bytes1;
	hold->pages = (cpu0 ? PFN_UP(bytes0) : 0) + (cpu1 ? PFN_UP(bytes1) : 0);
	dbnic_admin_park(dd, hold);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dbnic_admin_park_rings, DBNIC);

/*
 * @hold's command was answered: undo what it created and what its owner
 * listed, then release.  Runs with a->lock held, right after the reap
 * that took the answer, so no other command is posted in between: a
 * handle the late create got cannot have been freed and handed to
 * someone else before its DESTROY runs (queue and CQ numbers are reused
 * at once).  A destroy that already ran (say DESTROY_CTX of the owner)
 * only turns ours into BAD_HANDLE.
 */
static void dbnic_admin_settle(struct dbnic_dev *dd,
			       struct dbnic_admin_hold *hold)
{
	u8 undo = dbnic_admin_undo_op(hold->opcode);
	unsigned int i;
	int ret;

	if (undo && hold->status == DBNIC_AST_OK) {
		/* It made an object nobody knows of: that goes first. */
		if (WARN_ON_ONCE(hold->nundo >= DBNIC_HOLD_UNDO)) {
			dbnic_admin_park_held(dd, hold);
			return;
		}
		for (i = hold->nundo; i > 0; i--)
			hold->undo[i] = hold->undo[i - 1];
		hold->undo[0].opcode = undo;
		hold->undo[0].handle = hold->result;
		hold->nundo++;
	} else if (!undo && hold->status != DBNIC_AST_OK &&
		   hold->status != DBNIC_AST_BAD_HANDLE &&
		   !dbnic_admin_reads_only(hold->opcode)) {
		/* A destroy that failed: the object may live until reset. */
		dbnic_admin_park_held(dd, hold);
		return;
	}

	while (hold->nundo) {
		struct dbnic_admin_cmd cmd = { .opcode = hold->undo[0].opcode };

		cmd.destroy.handle = cpu_to_le32(hold->undo[0].handle);
		for (i = 1; i < hold->nundo; i++)
			hold->undo[i - 1] = hold->undo[i];
		hold->nundo--;
		ret = dbnic_admin_exec_locked(dd, &cmd, NULL, NULL, hold);
		/* Timed out again: settled again when that answer comes. */
		if (ret == -ETIMEDOUT)
			return;
		/* Gone already (e.g. with its context) is as good as destroyed. */
		if (ret && ret != -ENOENT) {
			dev_warn(dbnic_to_dev(dd),
				 "admin %s of handle %#x after a late answer: %d; keeping its memory until reset\n",
				 dbnic_admin_op_name(cmd.opcode),
				 le32_to_cpu(cmd.destroy.handle), ret);
			dbnic_admin_park_held(dd, hold);
			return;
		}
	}
	dbnic_admin_release(dd, hold);
}

/* Settle every answered hold, including those settling answers more. */
static void dbnic_admin_settle_answered(struct dbnic_dev *dd)
{
	struct dbnic_admin *a = &dd->admin;
	struct dbnic_admin_hold *hold;

	lockdep_assert_held(&a->lock);
	for (;;) {
		spin_lock(&a->hold_lock);
		hold = list_first_entry_or_null(&a->answered,
						struct dbnic_admin_hold, node);
		if (hold)
			list_del(&hold->node);
		spin_unlock(&a->hold_lock);
		if (!hold)
			return;
		dbnic_admin_settle(dd, hold);
	}
}

static void dbnic_admin_late_work(struct work_struct *work)
{
	struct dbnic_admin *a = container_of(work, struct dbnic_admin,
					     late_work);
	struct dbnic_dev *dd = container_of(a, struct dbnic_dev, admin);
	struct dbnic_admin_cqe cqe;

	mutex_lock(&a->lock);
	/* No command is waiting: all completions found are late ones. */
	if (!READ_ONCE(a->stopped))
		dbnic_admin_reap(dd, -1, &cqe);
	dbnic_admin_settle_answered(dd);
	mutex_unlock(&a->lock);
}

/**
 * dbnic_admin_forget - the device was reset: release all held memory
 * @dd: the device, reset or disabled (it runs no command and touches no
 *	memory any more), with no command of the driver's waiting
 *
 * Frees what timed-out commands name and what was parked.  Also for
 * PCI reset handling, after the reset and before new commands.
 */
void dbnic_admin_forget(struct dbnic_dev *dd)
{
	struct dbnic_admin *a = &dd->admin;
	struct dbnic_admin_hold *hold, *tmp;
	int irq = pci_irq_vector(dd->pdev, DBNIC_VEC_ADMIN);
	LIST_HEAD(todo);

	WRITE_ONCE(a->stopped, true);
	spin_lock(&a->hold_lock);
	WRITE_ONCE(a->have_held, false);
	spin_unlock(&a->hold_lock);
	/* No interrupt handler is about to queue late_work, and it is idle. */
	if (irq >= 0)
		synchronize_irq(irq);
	complete(&a->done);
	cancel_work_sync(&a->late_work);

	spin_lock(&a->hold_lock);
	list_splice_init(&a->held, &todo);
	list_splice_tail_init(&a->answered, &todo);
	list_splice_tail_init(&a->parked, &todo);
	spin_unlock(&a->hold_lock);
	list_for_each_entry_safe(hold, tmp, &todo, node) {
		list_del(&hold->node);
		dbnic_admin_release(dd, hold);
	}
	WRITE_ONCE(a->stopped, false);
}

static void dbnic_admin_show_list(struct seq_file *s, struct list_head *list,
				  const char *state)
{
	struct dbnic_admin_hold *h;

	list_for_each_entry(h, list, node)
		seq_printf(s, "hold %s cmd_id %u op %s status %u pages %lu undo %u\n",
			   state, h->cmd_id, dbnic_admin_op_name(h->opcode),
			   h->status, h->pages, h->nundo);
}

/* debugfs "admin": timed-out commands and the memory they hold. */
void dbnic_admin_show_holds(struct seq_file *s, struct dbnic_dev *dd)
{
	struct dbnic_admin *a = &dd->admin;
	unsigned int n = 0;
	struct list_head *p;

	spin_lock(&a->hold_lock);
	list_for_each(p, &a->held)
		n++;
	list_for_each(p, &a->answered)
		n++;
	list_for_each(p, &a->parked)
		n++;
	seq_printf(s, "timeouts %llu\nlate_answers %llu\nreleased %llu\nholds %u\n",
		   a->timeouts, a->late_answers, a->released, n);
	dbnic_admin_show_list(s, &a->held, "in_flight");
	dbnic_admin_show_list(s, &a->answered, "answered");
	dbnic_admin_show_list(s, &a->parked, "parked");
	spin_unlock(&a->hold_lock);
}

/**
 * dbnic_admin_destroy_sq - destroy a send queue, learn where it stopped
 * @dd: the device
 * @qid: the send queue
 * @head: the ring lane's consumer index (datasheet 6.1): descriptors
 *        before it were started, the ones from it on never ran
 *
 * Return: 0, or an errno of dbnic_admin_exec().
 */
int dbnic_admin_destroy_sq(struct dbnic_dev *dd, u32 qid, u16 *head)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_DESTROY_SQ };
	u32 res = 0;
	int ret;

	cmd.destroy.handle = cpu_to_le32(qid);
	ret = dbnic_admin_exec(dd, &cmd, &res, NULL);
	if (!ret)
		*head = res;
	return ret;
}

static const char * const dbnic_async_err_names[] = {
	[DBNIC_AERR_NONE] = "none",
	[DBNIC_AERR_DB_NOT_OWNER] = "doorbell for a foreign queue",
	[DBNIC_AERR_DB_BAD_QUEUE] = "doorbell for no such queue",
	[DBNIC_AERR_DB_BAD_ACCESS] = "bad doorbell page access",
	[DBNIC_AERR_CQ_OVERFLOW] = "completion queue overflow",
	[DBNIC_AERR_ADMIN] = "admin queue unusable",
	[DBNIC_AERR_EQ_OVERFLOW] = "event queue overflow, events lost",
	[DBNIC_AERR_LINK] = "link change",
	[DBNIC_AERR_CQ_COMP] = "CQ completion",
	[DBNIC_AERR_QP_ERR] = "QP error",
};

static const char *dbnic_async_err_name(u8 type)
{
	if (type < ARRAY_SIZE(dbnic_async_err_names) &&
	    dbnic_async_err_names[type])
		return dbnic_async_err_names[type];
	return "?";
}

/* Hand an event to the RDMA function; true if it was one of its objects. */
static bool dbnic_rdma_event(struct dbnic_dev *dd, u8 type, u32 object,
			     u32 data)
{
	bool ret = false;

	spin_lock(&dd->rdma_lock);
	if (dd->rdma_event)
		ret = dd->rdma_event(dd->rdma_priv, type, object, data);
	spin_unlock(&dd->rdma_lock);
	return ret;
}

/*
 * One async event.  A CQ in the error state stops its send queues: the
 * kernel queue owning it fails its pending requests, the RDMA function
 * reports it to the CQ's owner, or the process owning it learns it from
 * DBNIC_IOC_QUERY_QP.  CQ_COMP and QP_ERR (1.4) go to the RDMA function.
 * Hard-IRQ context.
 */
static void dbnic_event(struct dbnic_dev *dd, u8 type, u32 ctx, u32 object,
			u32 data)
{
	struct device *dev = dbnic_to_dev(dd);

	switch (type) {
	case DBNIC_AERR_CQ_COMP:
	case DBNIC_AERR_QP_ERR:
		/* Reported once per arm, once per QP error: bounded. */
		if (!dbnic_rdma_event(dd, type, object, data))
			dev_dbg_ratelimited(dev, "event %u for no RDMA object %#x\n",
					    type, object);
		return;
	case DBNIC_AERR_CQ_OVERFLOW:
		if (dbnic_queue_cq_error(dd, object))
			return;
		if (dbnic_rdma_event(dd, type, object, data))
			return;
		if (dd->ucq_err && object < dd->caps.max_cq)
			set_bit(object, dd->ucq_err);
		dev_warn_ratelimited(dev, "CQ %u of context %u in error (%s): its queue is stopped\n",
				     object, ctx,
				     data == DBNIC_CQ_ERR_WRITE ? "write fault" :
				     "overflow");
		return;
	case DBNIC_AERR_LINK:
		/* The handler reads NET_STATUS: the data may be stale. */
		spin_lock(&dd->link_lock);
		if (dd->link_event)
			dd->link_event(dd->link_priv);
		spin_unlock(&dd->link_lock);
		return;
	case DBNIC_AERR_ADMIN:
	case DBNIC_AERR_EQ_OVERFLOW:
		dev_err(dev, "async event %u (%s): data %u\n", type,
			dbnic_async_err_name(type), data);
		return;
	default:
		/* Reported once per context by the device. */
		dev_warn_ratelimited(dev, "async event %u (%s): context %u queue %u\n",
				     type, dbnic_async_err_name(type), ctx,
				     object);
	}
}

/* Without an event queue: the first error since the last read of ERR. */
static void dbnic_async_error(struct dbnic_dev *dd)
{
	u32 err = readl(dd->ctrl + DBNIC_REG_ERR);
	u32 code = DBNIC_GET(err, DBNIC_ERR_CODE);

	/*
	 * Only a device with an EQ stops the queues of a CQ that overflowed;
	 * from ERR (a v1.1 device) it is a dropped completion: log it.
	 */
	if (code == DBNIC_AERR_CQ_OVERFLOW) {
		dev_warn_ratelimited(dbnic_to_dev(dd),
				     "async error %u (%s): context %u queue %u\n",
				     code, dbnic_async_err_name(code),
				     DBNIC_GET(err, DBNIC_ERR_CTX),
				     DBNIC_GET(err, DBNIC_ERR_QID));
		return;
	}
	if (code)
		dbnic_event(dd, code, DBNIC_GET(err, DBNIC_ERR_CTX),
			    DBNIC_GET(err, DBNIC_ERR_QID), 0);
}

/*
 * Read the event queue up to the first entry without the expected phase,
 * then report the consumer index.  At most one ring's worth per call:
 * the device coalesces, so that is everything pending.
 */
static void dbnic_eq_process(struct dbnic_dev *dd)
{
	struct dbnic_eq *eq = &dd->eq;
	unsigned int n = 0;

	if (!eq->ring)
		return;
	while (n < 1u << eq->log_size) {
		struct dbnic_eqe *e = &eq->ring[dbnic_ring_slot(eq->ci,
								eq->log_size)];
		struct dbnic_eqe ev;

		if ((READ_ONCE(e->flags) & DBNIC_CQE_F_PHASE) !=
		    dbnic_cq_phase(eq->ci, eq->log_size))
			break;
		dma_rmb();
		ev = *e;
		eq->ci++;
		n++;
		dbnic_event(dd, ev.type, le16_to_cpu(ev.ctx),
			    le32_to_cpu(ev.object), le32_to_cpu(ev.data));
	}
	if (n) {
		dd->events += n;
		writel(eq->ci, dd->ctrl + DBNIC_REG_EQ_CI);
	}
}

/*
 * Vector 0: admin completions and async events (datasheet section 7).
 * Events first: the device reported them before the admin completions
 * of the same interrupt, so a DESTROY_CQ waiter sees its CQ's error
 * event handled before it reuses the number.
 */
irqreturn_t dbnic_admin_irq(int irq, void *data)
{
	struct dbnic_dev *dd = data;
	u32 cause = readl(dd->ctrl + DBNIC_REG_INTR_CAUSE);

	if (!cause)
		return IRQ_NONE;
	writel(cause, dd->ctrl + DBNIC_REG_INTR_CAUSE);

	if (cause & DBNIC_INTR_EVENT)
		dbnic_eq_process(dd);
	if (cause & DBNIC_INTR_ERROR)
		dbnic_async_error(dd);
	if (cause & DBNIC_INTR_ADMIN) {
		complete(&dd->admin.done);
		/* Nobody may be waiting for a late answer: go and take it. */
		if (READ_ONCE(dd->admin.have_held))
			schedule_work(&dd->admin.late_work);
	}
	return IRQ_HANDLED;
}
