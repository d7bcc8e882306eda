// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic admin queue (datasheet section 4) and the vector-0 interrupt.
 *
 * Commands run one at a time under a mutex: write the command into the
 * submission ring, dma_wmb(), write the producer index to AQ_DB, then
 * sleep until the vector-0 interrupt reports an admin completion and
 * read the completion ring by phase.
 */

#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/jiffies.h>

#include "dbnic.h"

#define DBNIC_ADMIN_LOG_SIZE	4	/* 16 entries: one command at a time */
#define DBNIC_ADMIN_TIMEOUT_MS	5000

static const char * const dbnic_admin_op_names[] = {
	[DBNIC_ADM_CREATE_CTX] = "CREATE_CTX",
	[DBNIC_ADM_DESTROY_CTX] = "DESTROY_CTX",
	[DBNIC_ADM_CREATE_CQ] = "CREATE_CQ",
	[DBNIC_ADM_DESTROY_CQ] = "DESTROY_CQ",
	[DBNIC_ADM_CREATE_SQ] = "CREATE_SQ",
	[DBNIC_ADM_DESTROY_SQ] = "DESTROY_SQ",
	[DBNIC_ADM_REG_MR] = "REG_MR",
	[DBNIC_ADM_DEREG_MR] = "DEREG_MR",
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

/**
 * dbnic_admin_init - allocate the admin rings
 * @dd: the device
 *
 * Return: 0 or -ENOMEM.  The rings are device-managed.
 */
int dbnic_admin_init(struct dbnic_dev *dd)
{
	struct dbnic_admin *a = &dd->admin;
	struct device *dev = dbnic_to_dev(dd);

	mutex_init(&a->lock);
	init_completion(&a->done);
	a->log_size = min(DBNIC_ADMIN_LOG_SIZE, DBNIC_AQ_LOG_SIZE_MAX);
	/* Coherent allocations are page aligned: enough for both rings. */
	a->sq = dmam_alloc_coherent(dev, sizeof(*a->sq) << a->log_size,
				    &a->sq_dma, GFP_KERNEL);
	a->cq = dmam_alloc_coherent(dev, sizeof(*a->cq) << a->log_size,
				    &a->cq_dma, GFP_KERNEL);
	if (!a->sq || !a->cq)
		return -ENOMEM;
	return 0;
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
}

/*
 * Take admin completions until the one for @cmd_id.  Completions of
 * earlier commands that timed out are dropped.
 *
 * Return: 0 with *out filled, or -EAGAIN when it has not arrived yet.
 */
static int dbnic_admin_reap(struct dbnic_dev *dd, u16 cmd_id,
			    struct dbnic_admin_cqe *out)
{
	struct dbnic_admin *a = &dd->admin;

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
		dev_warn(dbnic_to_dev(dd),
			 "late admin completion: cmd_id %u status %u\n",
			 le16_to_cpu(out->cmd_id), out->status);
	}
}

/*
 * Run one admin command and wait for its completion.
 *
 * Return: 0 with *result set (if not NULL), -ETIMEDOUT, -EBUSY when the
 * ring is still full of timed-out commands, -ENODEV when the PCI channel
 * is offline, or the errno of the admin status.
 */
static int dbnic_admin_exec(struct dbnic_dev *dd, struct dbnic_admin_cmd *cmd,
			    u32 *result)
{
	struct dbnic_admin *a = &dd->admin;
	struct device *dev = dbnic_to_dev(dd);
	unsigned long deadline;
	struct dbnic_admin_cqe cqe;
	u16 cmd_id;
	int ret;

	/*
	 * A frozen or disconnected link (PCI error recovery, surprise
	 * removal) carries neither the doorbell nor the completion: fail
	 * now instead of after the timeout.
	 */
	if (pci_channel_offline(dd->pdev))
		return -ENODEV;

	mutex_lock(&a->lock);
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

	deadline = jiffies + msecs_to_jiffies(DBNIC_ADMIN_TIMEOUT_MS);
	for (;;) {
		long left = (long)(deadline - jiffies);

		ret = dbnic_admin_reap(dd, cmd_id, &cqe);
		if (ret != -EAGAIN)
			break;
		if (left <= 0 ||
		    !wait_for_completion_timeout(&a->done, left)) {
			/* A last look: the interrupt may be what was lost. */
			ret = dbnic_admin_reap(dd, cmd_id, &cqe);
			if (!ret) {
				dev_warn_once(dev, "admin completion without interrupt\n");
				break;
			}
			dev_err(dev, "admin %s timed out (status %#x)\n",
				dbnic_admin_op_name(cmd->opcode),
				readl(dd->ctrl + DBNIC_REG_STATUS));
			ret = -ETIMEDOUT;
			goto out;
		}
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
out:
	mutex_unlock(&a->lock);
	return ret;
}

int dbnic_admin_create_ctx(struct dbnic_dev *dd, u32 flags, u32 *ctx)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_CTX };

	cmd.create_ctx.flags = cpu_to_le32(flags);
	return dbnic_admin_exec(dd, &cmd, ctx);
}

int dbnic_admin_create_cq(struct dbnic_dev *dd, u32 ctx, dma_addr_t base,
			  unsigned int log_size, u16 vector, u32 *cqn)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_CQ };

	cmd.create_cq.base = cpu_to_le64(base);
	cmd.create_cq.ctx = cpu_to_le32(ctx);
	cmd.create_cq.log_size = log_size;
	cmd.create_cq.msix_vector = cpu_to_le16(vector);
	return dbnic_admin_exec(dd, &cmd, cqn);
}

int dbnic_admin_create_sq(struct dbnic_dev *dd, u32 ctx, u32 cqn,
			  dma_addr_t base, unsigned int log_size,
			  unsigned int log_stride, u32 *qid)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_SQ };

	cmd.create_sq.base = cpu_to_le64(base);
	cmd.create_sq.ctx = cpu_to_le32(ctx);
	cmd.create_sq.cqn = cpu_to_le32(cqn);
	cmd.create_sq.log_size = log_size;
	cmd.create_sq.log_stride = log_stride;
	return dbnic_admin_exec(dd, &cmd, qid);
}

/* REG_MR (datasheet section 4.1): @pages lists @npages DMA addresses. */
int dbnic_admin_reg_mr(struct dbnic_dev *dd, u32 ctx, u64 iova, u64 length,
		       dma_addr_t pages, u32 npages, unsigned int page_shift,
		       u32 access, u32 *key)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_REG_MR };

	cmd.reg_mr.iova = cpu_to_le64(iova);
	cmd.reg_mr.length = cpu_to_le64(length);
	cmd.reg_mr.pages = cpu_to_le64(pages);
	cmd.reg_mr.ctx = cpu_to_le32(ctx);
	cmd.reg_mr.npages = cpu_to_le32(npages);
	cmd.reg_mr.page_shift = page_shift;
	cmd.reg_mr.access = access;
	return dbnic_admin_exec(dd, &cmd, key);
}

/* DESTROY_CTX, DESTROY_CQ, DESTROY_SQ or DEREG_MR (handle = key). */
int dbnic_admin_destroy(struct dbnic_dev *dd, u8 opcode, u32 handle)
{
	struct dbnic_admin_cmd cmd = { .opcode = opcode };

	cmd.destroy.handle = cpu_to_le32(handle);
	return dbnic_admin_exec(dd, &cmd, NULL);
}

static const char * const dbnic_async_err_names[] = {
	[DBNIC_AERR_NONE] = "none",
	[DBNIC_AERR_DB_NOT_OWNER] = "doorbell for a foreign queue",
	[DBNIC_AERR_DB_BAD_QUEUE] = "doorbell for no such queue",
	[DBNIC_AERR_DB_BAD_ACCESS] = "bad doorbell page access",
	[DBNIC_AERR_CQ_OVERFLOW] = "completion queue overflow",
	[DBNIC_AERR_ADMIN] = "admin queue unusable",
};

static void dbnic_async_error(struct dbnic_dev *dd)
{
	u32 err = readl(dd->ctrl + DBNIC_REG_ERR);
	u32 code = DBNIC_GET(err, DBNIC_ERR_CODE);

	dev_warn_ratelimited(dbnic_to_dev(dd),
			     "async error %u (%s): context %u queue %u\n",
			     code,
			     code < ARRAY_SIZE(dbnic_async_err_names) &&
			     dbnic_async_err_names[code] ?
			     dbnic_async_err_names[code] : "?",
			     DBNIC_GET(err, DBNIC_ERR_CTX),
			     DBNIC_GET(err, DBNIC_ERR_QID));
}

/* Vector 0: admin completions and async errors (datasheet section 7). */
irqreturn_t dbnic_admin_irq(int irq, void *data)
{
	struct dbnic_dev *dd = data;
	u32 cause = readl(dd->ctrl + DBNIC_REG_INTR_CAUSE);

	if (!cause)
		return IRQ_NONE;
	writel(cause, dd->ctrl + DBNIC_REG_INTR_CAUSE);

	if (cause & DBNIC_INTR_ERROR)
		dbnic_async_error(dd);
	if (cause & DBNIC_INTR_ADMIN)
		complete(&dd->admin.done);
	return IRQ_HANDLED;
}
