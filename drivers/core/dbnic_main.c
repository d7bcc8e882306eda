// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic core: the PCI driver of the emulated doorbell NIC/DMA engine.
 *
 * Probe follows the reset and enable sequence of the datasheet (section
 * 2.1), creates the kernel's privileged context, maps its doorbell page
 * and creates the kernel queue on MSI-X vector 1.  Then it adds one
 * auxiliary device per function (dbnic_aux.h), which the function
 * drivers (dbnic_dma.ko, dbnic_cdev.ko) bind.
 */

#include <linux/bits.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/wordpart.h>

#include "dbnic.h"
#include "dbnic_aux.h"
#include "dbnic_queue.h"

#define DBNIC_READY_TIMEOUT_US	(1 * USEC_PER_SEC)
#define DBNIC_KQ_LOG_SIZE	8	/* kernel queue: up to 256 descriptors */
#define DBNIC_KQ_PRIO_SLOT	0	/* kernel queue: slots 0 and 1 */
#define DBNIC_DMA_QUEUES_MAX	256

/*
 * The vectors are allocated once, at probe, by the core: how many the
 * dmaengine function gets is therefore the core's parameter, even though
 * dbnic_dma.ko is what uses them (one per channel, from DBNIC_NUM_VECS).
 */
static unsigned int dma_queues = 2;
module_param(dma_queues, uint, 0444);
MODULE_PARM_DESC(dma_queues,
		 "Send queues registered as dmaengine channels by dbnic_dma, each with its own completion queue and MSI-X vector (default: 2; fewer when the device has fewer vectors)");

/* Likewise for the Ethernet function: one vector per TX/RX queue pair. */
#define DBNIC_ETH_QUEUES_MAX	4	/* priority slot pairs of one page */
static unsigned int eth_queues = DBNIC_ETH_QUEUES_MAX;
module_param(eth_queues, uint, 0444);
MODULE_PARM_DESC(eth_queues,
		 "MSI-X vectors for dbnic_eth's TX/RX queue pairs, one each (default and at most 4; fewer when the device has fewer vectors)");

/* Ids of the devices' auxiliary devices ("dbnic_core.dma.<id>"). */
static DEFINE_IDA(dbnic_aux_ida);

static const char * const dbnic_aux_names[DBNIC_AUX_NUM] = {
	[DBNIC_AUX_DMA] = DBNIC_AUX_DMA_NAME,
	[DBNIC_AUX_CDEV] = DBNIC_AUX_CDEV_NAME,
	[DBNIC_AUX_ETH] = DBNIC_AUX_ETH_NAME,
	[DBNIC_AUX_RDMA] = DBNIC_AUX_RDMA_NAME,
};

static const struct pci_device_id dbnic_pci_ids[] = {
	{ PCI_DEVICE(DBNIC_PCI_VENDOR_ID, DBNIC_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, dbnic_pci_ids);

/**
 * dbnic_read_counter - read one device counter (datasheet section 8)
 * @dd: the device
 * @counter: DBNIC_CNT_* index, below DBNIC_CNT_NUM
 *
 * Return: the 64-bit counter.
 */
u64 dbnic_read_counter(struct dbnic_dev *dd, unsigned int counter)
{
	return readq(dd->ctrl + DBNIC_REG_COUNTER(counter));
}
EXPORT_SYMBOL_NS_GPL(dbnic_read_counter, DBNIC);

/**
 * dbnic_dev_gone - has the device gone away without warning?
 * @dd: the device
 * @status: a value just read from its STATUS register
 *
 * A surprise removal (or a slot powered off under the driver) leaves
 * MMIO reads returning all ones, or nothing at all, and config space all
 * ones.  Only a STATUS that a running device would not show (all ones,
 * or READY clear) costs the config read that tells (datasheet section
 * 2.1).  An offline PCI channel (error recovery) counts as gone too.
 *
 * Return: true when nothing the driver writes reaches the device any
 * more and the device will not answer or DMA: waiting for it is futile.
 */
bool dbnic_dev_gone(struct dbnic_dev *dd, u32 status)
{
	if (pci_channel_offline(dd->pdev))
		return true;
	if (status != U32_MAX && (status & DBNIC_STATUS_READY))
		return false;
	return !pci_device_is_present(dd->pdev);
}
EXPORT_SYMBOL_NS_GPL(dbnic_dev_gone, DBNIC);

/*
 * Wait until READY is @ready, for up to DBNIC_READY_TIMEOUT_US.
 * Return: 0, -ETIMEDOUT, -ENODEV when the device has gone (then at once),
 * or -EIO when a present device reads all ones.
 */
static int dbnic_wait_ready(struct dbnic_dev *dd, bool ready)
{
	u32 status;
	int ret;

	ret = readl_poll_timeout(dd->ctrl + DBNIC_REG_STATUS, status,
				 status == U32_MAX ||
				 !!(status & DBNIC_STATUS_READY) == ready,
				 10, DBNIC_READY_TIMEOUT_US);
	if ((ret || status == U32_MAX) && dbnic_dev_gone(dd, status))
		return -ENODEV;
	if (!ret && status == U32_MAX)
		return -EIO;
	return ret;
}

/* Step 2: reset.  It destroys every object and forgets the admin queue. */
static int dbnic_hw_reset(struct dbnic_dev *dd)
{
	writel(DBNIC_CTRL_RESET, dd->ctrl + DBNIC_REG_CTRL);
	return dbnic_wait_ready(dd, false);
}

/* Clearing ENABLE stops all processing and destroys all objects. */
static void dbnic_hw_disable(struct dbnic_dev *dd)
{
	int ret;

	writel(0, dd->ctrl + DBNIC_REG_CTRL);
	ret = dbnic_wait_ready(dd, false);
	if (ret == -ENODEV)
		dev_info(dbnic_to_dev(dd), "device gone: nothing to disable\n");
	else if (ret)
		dev_warn(dbnic_to_dev(dd), "device still ready after disable\n");
}

/* Step 5: enable, once the admin queue is programmed. */
static int dbnic_hw_enable(struct dbnic_dev *dd)
{
	int ret;

	writel(DBNIC_CTRL_ENABLE, dd->ctrl + DBNIC_REG_CTRL);
	ret = dbnic_wait_ready(dd, true);
	if (ret)
		dev_err(dbnic_to_dev(dd), "not ready after enable (status %#x)\n",
			readl(dd->ctrl + DBNIC_REG_STATUS));
	return ret;
}

/* Step 1: is this a device we know? */
static int dbnic_check_id(struct dbnic_dev *dd)
{
	u32 id = readl(dd->ctrl + DBNIC_REG_ID);
	u32 version = readl(dd->ctrl + DBNIC_REG_VERSION);

	if (id != DBNIC_ID_MAGIC) {
		dev_err(dbnic_to_dev(dd), "bad ID register %#x\n", id);
		return -ENODEV;
	}
	dd->caps.ver_major = upper_16_bits(version);
	dd->caps.ver_minor = lower_16_bits(version);
	if (dd->caps.ver_major != DBNIC_VERSION_MAJOR) {
		dev_err(dbnic_to_dev(dd), "unsupported version %u.%u\n",
			dd->caps.ver_major, dd->caps.ver_minor);
		return -ENODEV;
	}
	return 0;
}

static const struct {
	u32 bit;
	const char *name;
} dbnic_feature_names[] = {
	{ DBNIC_FEAT_PRIORITY, "prio" },
	{ DBNIC_FEAT_COPY, "copy" },
	{ DBNIC_FEAT_FILL, "fill" },
	{ DBNIC_FEAT_COMPARE, "compare" },
	{ DBNIC_FEAT_NET, "net" },
	{ DBNIC_FEAT_RDMA, "rdma" },
	{ DBNIC_FEAT_EQ, "eq" },
};

/* Step 6: read and check the capability registers, log them. */
static int dbnic_read_caps(struct dbnic_dev *dd)
{
	struct dbnic_caps *c = &dd->caps;
	u32 q = readl(dd->ctrl + DBNIC_REG_CAP_QUEUES);
	u32 db = readl(dd->ctrl + DBNIC_REG_CAP_DB);
	u32 lim = readl(dd->ctrl + DBNIC_REG_CAP_LIMITS);
	resource_size_t db_len = pci_resource_len(dd->pdev, DBNIC_BAR_DB);
	char feat[64] = "";
	size_t n = 0;
	unsigned int i;

	c->max_sq = DBNIC_GET(q, DBNIC_CAPQ_MAX_SQ);
	c->max_cq = DBNIC_GET(q, DBNIC_CAPQ_MAX_CQ);
	c->db_pages = DBNIC_GET(db, DBNIC_CAPDB_PAGES);
	c->db_page_shift = DBNIC_GET(db, DBNIC_CAPDB_PAGE_SHIFT);
	c->prio_slots = DBNIC_GET(db, DBNIC_CAPDB_PRIO_SLOTS);
	c->max_log_ring = DBNIC_GET(lim, DBNIC_CAPL_LOG_RING);
	c->max_blocks = DBNIC_GET(lim, DBNIC_CAPL_MAX_BLOCKS);
	c->max_sge = DBNIC_GET(lim, DBNIC_CAPL_MAX_SGE);
	c->msix = DBNIC_GET(lim, DBNIC_CAPL_MSIX);
	c->features = readl(dd->ctrl + DBNIC_REG_CAP_FEATURES);
	c->max_xfer = readl(dd->ctrl + DBNIC_REG_CAP_MAX_XFER);
	if (c->features & DBNIC_FEAT_RDMA) {
		u32 rdma = readl(dd->ctrl + DBNIC_REG_CAP_RDMA);

		c->max_qp = DBNIC_GET(readl(dd->ctrl + DBNIC_REG_CAP_QP),
				      DBNIC_CAPQP_MAX_QP);
		c->max_ah = readl(dd->ctrl + DBNIC_REG_CAP_AH);
		c->max_rd_atomic = DBNIC_GET(rdma, DBNIC_CAPR_RD_ATOMIC);
		c->gids = DBNIC_GET(rdma, DBNIC_CAPR_GIDS);
		c->max_mtu = DBNIC_GET(rdma, DBNIC_CAPR_MTU);
	}

	for (i = 0; i < ARRAY_SIZE(dbnic_feature_names); i++)
		if (c->features & dbnic_feature_names[i].bit)
			n += scnprintf(feat + n, sizeof(feat) - n, "%s%s",
				       n ? "," : "", dbnic_feature_names[i].name);

	dev_info(dbnic_to_dev(dd),
		 "dbnic v%u.%u: %u doorbell pages, %u prio slots/page, %u SQs, %u CQs, ring<=%u, sge<=%u, %u MSI-X, features %s, %s\n",
		 c->ver_major, c->ver_minor, c->db_pages, c->prio_slots,
		 c->max_sq, c->max_cq, 1u << min_t(u8, c->max_log_ring, 31),
		 c->max_sge, c->msix, n ? feat : "none",
		 dd->eq.ring ? "event queue" : "ERR register");

	if (c->db_page_shift != DBNIC_DB_PAGE_SHIFT || !c->db_pages ||
	    ((resource_size_t)c->db_pages << DBNIC_DB_PAGE_SHIFT) > db_len) {
		dev_err(dbnic_to_dev(dd),
			"doorbell pages (%u x 2^%u) do not match BAR %d (%pa bytes)\n",
			c->db_pages, c->db_page_shift, DBNIC_BAR_DB, &db_len);
		return -ENODEV;
	}
	if (c->max_log_ring < DBNIC_LOG_RING_MIN || c->msix < DBNIC_NUM_VECS ||
	    !c->max_blocks) {
		dev_err(dbnic_to_dev(dd), "capabilities too small for the kernel queue\n");
		return -ENODEV;
	}
	return 0;
}

/*
 * Map the kernel context's doorbell page: the doorbell region uncached,
 * the priority area write-combining.  They are separate 4 KiB pages, so
 * each really gets its own memory type (x86 PAT tracks types per page).
 */
static int dbnic_map_kernel_page(struct dbnic_dev *dd)
{
	struct pci_dev *pdev = dd->pdev;
	unsigned long page = (unsigned long)dd->ctx << DBNIC_DB_PAGE_SHIFT;
	unsigned int slots = min_t(unsigned int, dd->caps.prio_slots,
				   DBNIC_PRIO_SLOTS);

	if (dd->ctx >= dd->caps.db_pages) {
		dev_err(&pdev->dev, "context %u has no doorbell page\n", dd->ctx);
		return -ENODEV;
	}

	dd->db = pcim_iomap_range(pdev, DBNIC_BAR_DB,
				  page + DBNIC_DB_REGION_OFFSET,
				  DBNIC_DB_REGION_SIZE);
	if (IS_ERR(dd->db)) {
		int ret = PTR_ERR(dd->db);

		dd->db = NULL;
		return ret;
	}

	if (!(dd->caps.features & DBNIC_FEAT_PRIORITY) ||
	    slots < DBNIC_KQ_PRIO_SLOT + 2) {
		dev_info(&pdev->dev, "no priority slots: ring path only\n");
		return 0;
	}
	dd->prio = devm_ioremap_wc(&pdev->dev,
				   pci_resource_start(pdev, DBNIC_BAR_DB) +
				   page + DBNIC_PRIO_OFFSET,
				   slots * DBNIC_PRIO_SLOT_SIZE);
	if (!dd->prio)
		return -ENOMEM;
	return 0;
}

/**
 * dbnic_kctx_create - a privileged context with its own doorbell page
 * @dd: the running device
 * @kc: filled in: the context, its doorbell region (uncached, 4 KiB) and
 *	priority area (write-combining, @kc->prio_slots slots of 256 bytes)
 *
 * For a function that wants doorbell slots of its own (datasheet 3): the
 * kernel queue and the dmaengine channels share the core's page.  Undo
 * with dbnic_kctx_destroy() before the function's remove returns.
 *
 * Return: 0, -ENOSPC when the device has no free context (or its page is
 * past the BAR), -ENOMEM, or an errno of the admin queue.
 */
int dbnic_kctx_create(struct dbnic_dev *dd, struct dbnic_kctx *kc)
{
	struct pci_dev *pdev = dd->pdev;
	unsigned long page;
	int ret;

	memset(kc, 0, sizeof(*kc));
	ret = dbnic_admin_create_ctx(dd, DBNIC_CTX_F_PRIVILEGED, &kc->ctx);
	if (ret)
		return ret;
	ret = -ENOSPC;
	if (kc->ctx >= dd->caps.db_pages)
		goto err;
	page = (unsigned long)kc->ctx << DBNIC_DB_PAGE_SHIFT;
	ret = -ENOMEM;
	kc->db = pci_iomap_range(pdev, DBNIC_BAR_DB,
				 page + DBNIC_DB_REGION_OFFSET,
				 DBNIC_DB_REGION_SIZE);
	if (!kc->db)
		goto err;
	if (!(dd->caps.features & DBNIC_FEAT_PRIORITY))
		return 0;
	kc->prio_slots = min_t(unsigned int, dd->caps.prio_slots,
			       DBNIC_PRIO_SLOTS);
	kc->prio = ioremap_wc(pci_resource_start(pdev, DBNIC_BAR_DB) + page +
			      DBNIC_PRIO_OFFSET,
			      kc->prio_slots * DBNIC_PRIO_SLOT_SIZE);
	if (!kc->prio)
		goto err;
	return 0;
err:
	dbnic_kctx_destroy(dd, kc);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dbnic_kctx_create, DBNIC);

/**
 * dbnic_kctx_destroy - destroy a context of dbnic_kctx_create()
 * @dd: the device
 * @kc: the context; its queues are destroyed first (the device does it
 *	too: DESTROY_CTX destroys the context's queues, datasheet 4)
 *
 * Unmaps the page.  A destroy the device does not answer is left to the
 * disable of the core's teardown.
 */
void dbnic_kctx_destroy(struct dbnic_dev *dd, struct dbnic_kctx *kc)
{
	if (kc->prio)
		iounmap(kc->prio);
	if (kc->db)
		pci_iounmap(dd->pdev, kc->db);
	kc->prio = NULL;
	kc->db = NULL;
	kc->prio_slots = 0;
	if (dbnic_admin_destroy(dd, DBNIC_ADM_DESTROY_CTX, kc->ctx))
		dev_dbg(dbnic_to_dev(dd), "context %u not destroyed\n", kc->ctx);
}
EXPORT_SYMBOL_NS_GPL(dbnic_kctx_destroy, DBNIC);

/**
 * dbnic_set_link_handler - receive the device's LINK events
 * @dd: the device
 * @fn: called in hard-IRQ context at each LINK event (datasheet 7, 10.1);
 *	it reads NET_STATUS for the state.  NULL: no handler.
 * @priv: its argument
 *
 * Once this returns with @fn NULL, the old handler is not running and
 * will not be called again.
 */
void dbnic_set_link_handler(struct dbnic_dev *dd, void (*fn)(void *priv),
			    void *priv)
{
	spin_lock_irq(&dd->link_lock);
	dd->link_event = fn;
	dd->link_priv = priv;
	spin_unlock_irq(&dd->link_lock);
}
EXPORT_SYMBOL_NS_GPL(dbnic_set_link_handler, DBNIC);

/**
 * dbnic_set_rdma_event_handler - receive the device's RDMA events
 * @dd: the device
 * @fn: called in hard-IRQ context for each event CQ_COMP (object: cqn),
 *	QP_ERR (object: QPN, data: enum dbnic_wc_status) and CQ_OVERFLOW of
 *	a CQ that is not a kernel queue's (object: cqn, data:
 *	DBNIC_CQ_ERR_*), datasheet 6.1 and 11.7; it returns true when the
 *	object was its own.  NULL: no handler.
 * @priv: its argument
 *
 * Once this returns with @fn NULL, the old handler is not running and
 * will not be called again.
 */
void dbnic_set_rdma_event_handler(struct dbnic_dev *dd,
				  bool (*fn)(void *priv, u8 type, u32 object,
					     u32 data),
				  void *priv)
{
	spin_lock_irq(&dd->rdma_lock);
	dd->rdma_event = fn;
	dd->rdma_priv = priv;
	spin_unlock_irq(&dd->rdma_lock);
}
EXPORT_SYMBOL_NS_GPL(dbnic_set_rdma_event_handler, DBNIC);

static void dbnic_aux_release(struct device *dev)
{
	kfree(container_of(dev, struct dbnic_aux_dev, adev.dev));
}

/* Add function @fn's auxiliary device; its driver binds it at once if loaded. */
static int dbnic_aux_add_one(struct dbnic_dev *dd, enum dbnic_aux_fn fn)
{
	struct dbnic_aux_dev *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->dd = dd;
	a->adev.name = dbnic_aux_names[fn];
	a->adev.id = dd->aux_id;
	a->adev.dev.parent = dbnic_to_dev(dd);
	a->adev.dev.release = dbnic_aux_release;
	ret = auxiliary_device_init(&a->adev);
	if (ret) {
		kfree(a);
		return ret;
	}
	ret = auxiliary_device_add(&a->adev);
	if (ret) {
		auxiliary_device_uninit(&a->adev);
		return ret;
	}
	dd->aux[fn] = a;
	return 0;
}

/* The functions' devices; a failure costs that function only. */
static void dbnic_aux_add(struct dbnic_dev *dd)
{
	unsigned int fn;
	int ret;

	for (fn = 0; fn < DBNIC_AUX_NUM; fn++) {
		/* Datasheet 10: the port is there when the device says so. */
		if (fn == DBNIC_AUX_ETH &&
		    !(dd->caps.features & DBNIC_FEAT_NET))
			continue;
		/* Datasheet 11: an HCA only when the device says so. */
		if (fn == DBNIC_AUX_RDMA &&
		    !(dd->caps.features & DBNIC_FEAT_RDMA))
			continue;
		ret = dbnic_aux_add_one(dd, fn);
		if (ret)
			dev_warn(dbnic_to_dev(dd), "no %s function: %pe\n",
				 dbnic_aux_names[fn], ERR_PTR(ret));
	}
}

/*
 * Delete the functions' devices, in enum dbnic_aux_fn order: each
 * driver's remove has run, and left nothing on the device, on return.
 */
static void dbnic_aux_del(struct dbnic_dev *dd)
{
	unsigned int fn;

	for (fn = 0; fn < DBNIC_AUX_NUM; fn++) {
		if (!dd->aux[fn])
			continue;
		auxiliary_device_delete(&dd->aux[fn]->adev);
		auxiliary_device_uninit(&dd->aux[fn]->adev);
		dd->aux[fn] = NULL;
	}
}

/*
 * Undo what probe did, in an order that never frees memory in use.
 * @removal: the PCI device is going away (remove), not being reset.
 */
static void dbnic_teardown(struct dbnic_dev *dd, bool removal)
{
	WRITE_ONCE(dd->stopping, true);
	/*
	 * The functions first, while the kernel context and the admin queue
	 * still run: the dmaengine provider, then /dev/dbnic<N> (see enum
	 * dbnic_aux_fn for why in this order).
	 */
	dd->resetting = !removal;
	dbnic_aux_del(dd);
	dd->resetting = false;
	dbnic_debugfs_remove(dd);
	if (dd->kq)
		dbnic_queue_stop(dd->kq);
	if (dd->have_ctx &&
	    !dbnic_admin_destroy(dd, DBNIC_ADM_DESTROY_CTX, dd->ctx))
		dd->have_ctx = false;
	dbnic_hw_disable(dd);
	/* What timed-out commands still name: the device forgot them now. */
	dbnic_admin_forget(dd);
	WRITE_ONCE(dd->stopping, false);
	if (dd->kq) {
		/* Disabling destroyed whatever the admin queue could not. */
		dd->kq->sq_created = false;
		dd->kq->cq_created = false;
		dbnic_queue_free(dd->kq);
		dd->kq = NULL;
	}
}

/*
 * Steps 4 to 6 of the sequence on a device that is reset and has its
 * MSI-X vectors, then the kernel queue, debugfs and the functions'
 * auxiliary devices (the dmaengine channels, /dev/dbnic<N>).  Used by
 * probe and after a function reset.  On failure everything is undone.
 */
static int dbnic_start(struct dbnic_dev *dd)
{
	int ret;

	dbnic_admin_program(dd);

	/* Step 5. */
	ret = dbnic_hw_enable(dd);
	if (ret)
		goto err;

	/* Step 6. */
	ret = dbnic_read_caps(dd);
	if (ret)
		goto err;
	/* User CQs in error (datasheet 6.1); a reset forgets every CQ. */
	if (!dd->ucq_err)
		dd->ucq_err = devm_bitmap_zalloc(dbnic_to_dev(dd),
						 dd->caps.max_cq, GFP_KERNEL);
	if (!dd->ucq_err) {
		ret = -ENOMEM;
		goto err;
	}
	bitmap_zero(dd->ucq_err, dd->caps.max_cq);
	ret = dbnic_admin_create_ctx(dd, DBNIC_CTX_F_PRIVILEGED, &dd->ctx);
	if (ret)
		goto err;
	dd->have_ctx = true;
	if (!dd->db) {
		ret = dbnic_map_kernel_page(dd);
		if (ret)
			goto err;
		dd->db_ctx = dd->ctx;
	} else if (dd->ctx != dd->db_ctx) {
		/* A reset device hands out the lowest free context first. */
		dev_err(dbnic_to_dev(dd), "kernel context %u after reset, was %u\n",
			dd->ctx, dd->db_ctx);
		ret = -EIO;
		goto err;
	}

	dd->kq = dbnic_queue_create(dd, min_t(unsigned int, DBNIC_KQ_LOG_SIZE,
					      dd->caps.max_log_ring),
				    DBNIC_VEC_KQ, DBNIC_KQ_PRIO_SLOT);
	if (IS_ERR(dd->kq)) {
		ret = PTR_ERR(dd->kq);
		dd->kq = NULL;
		goto err;
	}

	dbnic_debugfs_add(dd);
	dbnic_aux_add(dd);
	dev_dbg(dbnic_to_dev(dd), "kernel context %u, queue %u, CQ %u\n",
		dd->ctx, dd->kq->sq.qid, dd->kq->cq.cqn);
	return 0;

err:
	dbnic_teardown(dd, true);
	return ret;
}

static void dbnic_aux_id_free(void *data)
{
	struct dbnic_dev *dd = data;

	ida_free(&dbnic_aux_ida, dd->aux_id);
}

static int dbnic_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct dbnic_dev *dd;
	int ret, nvecs;

	dd = devm_kzalloc(dev, sizeof(*dd), GFP_KERNEL);
	if (!dd)
		return -ENOMEM;
	dd->pdev = pdev;
	mutex_init(&dd->selftest_lock);
	INIT_LIST_HEAD(&dd->queues);
	spin_lock_init(&dd->queues_lock);
	spin_lock_init(&dd->link_lock);
	spin_lock_init(&dd->rdma_lock);
	pci_set_drvdata(pdev, dd);
	dd->aux_id = ida_alloc(&dbnic_aux_ida, GFP_KERNEL);
	if (dd->aux_id < 0)
		return dd->aux_id;
	ret = devm_add_action_or_reset(dev, dbnic_aux_id_free, dd);
	if (ret)
		return ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return dev_err_probe(dev, ret, "no 64-bit DMA\n");

	if (pci_resource_len(pdev, DBNIC_BAR_CTRL) < DBNIC_CTRL_BAR_SIZE)
		return dev_err_probe(dev, -ENODEV, "BAR %d too small\n",
				     DBNIC_BAR_CTRL);
	dd->ctrl = pcim_iomap_region(pdev, DBNIC_BAR_CTRL, DBNIC_DRV_NAME);
	if (IS_ERR(dd->ctrl))
		return dev_err_probe(dev, PTR_ERR(dd->ctrl), "cannot map BAR %d\n",
				     DBNIC_BAR_CTRL);
	ret = pcim_request_region(pdev, DBNIC_BAR_DB, DBNIC_DRV_NAME);
	if (ret)
		return dev_err_probe(dev, ret, "cannot claim BAR %d\n",
				     DBNIC_BAR_DB);

	/* Datasheet 2.1, steps 1 and 2. */
	ret = dbnic_check_id(dd);
	if (ret)
		return ret;
	ret = dbnic_hw_reset(dd);
	if (ret)
		return dev_err_probe(dev, ret, "reset did not complete\n");

	/* Step 3: MSI-X, vector 0 for the admin queue and async errors. */
	/*
	 * The vectors past DBNIC_NUM_VECS, if any: one per DMA channel, then
	 * one per Ethernet queue pair; the DMA channels get theirs first.
	 */
	ret = pci_alloc_irq_vectors(pdev, DBNIC_NUM_VECS,
				    DBNIC_NUM_VECS +
				    min(dma_queues, DBNIC_DMA_QUEUES_MAX) +
				    min(eth_queues, DBNIC_ETH_QUEUES_MAX),
				    PCI_IRQ_MSIX);
	if (ret < 0)
		return dev_err_probe(dev, ret, "no MSI-X vectors\n");
	nvecs = ret;
	dd->dma_nvecs = min_t(unsigned int, nvecs - DBNIC_NUM_VECS,
			      min(dma_queues, DBNIC_DMA_QUEUES_MAX));
	dd->eth_vec0 = DBNIC_NUM_VECS + dd->dma_nvecs;
	dd->eth_nvecs = nvecs - dd->eth_vec0;
	ret = devm_request_irq(dev, pci_irq_vector(pdev, DBNIC_VEC_ADMIN),
			       dbnic_admin_irq, 0, DBNIC_DRV_NAME, dd);
	if (ret)
		return ret;

	/* Step 4: the admin queue. */
	ret = dbnic_admin_init(dd);
	if (ret)
		return ret;
	dd->nvecs = nvecs;
	ret = dbnic_start(dd);
	if (ret)
		return dev_err_probe(dev, ret, "initialisation failed\n");
	/* What slot_reset restores after a PCI error (AER). */
	pci_save_state(pdev);
	return 0;
}

static void dbnic_remove(struct pci_dev *pdev)
{
	dbnic_teardown(pci_get_drvdata(pdev), true);
}

static void dbnic_shutdown(struct pci_dev *pdev)
{
	struct dbnic_dev *dd = pci_get_drvdata(pdev);

	/* Stop DMA for kexec; the memory is not freed. */
	dbnic_hw_disable(dd);
}

/*
 * Function reset (sysfs "reset", a bus reset of the slot, VFIO): the
 * reset destroys every object of the device and forgets the admin queue
 * (datasheet section 2.1), so the driver takes everything down first,
 * while the device still answers, exactly as removal does: user mappings
 * are revoked and open files fail with ENODEV from then on, dmaengine
 * clients get their transactions failed and find the channels gone, and
 * all DMA memory is freed.  Called with the device lock held.
 */
static void dbnic_reset_prepare(struct pci_dev *pdev)
{
	struct dbnic_dev *dd = pci_get_drvdata(pdev);

	dev_info(&pdev->dev, "function reset: stopping\n");
	dbnic_teardown(dd, false);
}

/* After the reset: bring the device up again, as probe did. */
static void dbnic_reset_done(struct pci_dev *pdev)
{
	struct dbnic_dev *dd = pci_get_drvdata(pdev);
	int ret;

	ret = dbnic_hw_reset(dd);
	if (!ret)
		ret = dbnic_start(dd);
	if (ret)
		dev_err(&pdev->dev, "not usable after the reset (%d): unbind and bind the driver to retry\n",
			ret);
	else
		dev_info(&pdev->dev, "function reset: running again\n");
}

/*
 * A PCI error (AER): while the link is frozen, nothing reaches the
 * device and its DMA does not reach memory, so admin commands fail at
 * once (dbnic_admin_exec() checks pci_channel_offline()) and the
 * teardown treats the objects as gone.  The slot is reset before the
 * device can run again; then it is brought up like after a function
 * reset.
 */
static pci_ers_result_t dbnic_error_detected(struct pci_dev *pdev,
					     pci_channel_state_t state)
{
	struct dbnic_dev *dd = pci_get_drvdata(pdev);

	dev_warn(&pdev->dev, "PCI error (channel state %d): stopping\n", state);
	dbnic_teardown(dd, false);
	if (state == pci_channel_io_perm_failure)
		return PCI_ERS_RESULT_DISCONNECT;
	return PCI_ERS_RESULT_NEED_RESET;
}

static pci_ers_result_t dbnic_slot_reset(struct pci_dev *pdev)
{
	struct dbnic_dev *dd = pci_get_drvdata(pdev);

	pci_restore_state(pdev);
	pci_set_master(pdev);
	if (dbnic_hw_reset(dd) || dbnic_start(dd)) {
		dev_err(&pdev->dev, "not usable after the slot reset\n");
		return PCI_ERS_RESULT_DISCONNECT;
	}
	pci_save_state(pdev);
	return PCI_ERS_RESULT_RECOVERED;
}

static void dbnic_resume(struct pci_dev *pdev)
{
	dev_info(&pdev->dev, "recovered from the PCI error\n");
}

static const struct pci_error_handlers dbnic_err_handlers = {
	.error_detected = dbnic_error_detected,
	.slot_reset = dbnic_slot_reset,
	.resume = dbnic_resume,
	.reset_prepare = dbnic_reset_prepare,
	.reset_done = dbnic_reset_done,
};

static struct pci_driver dbnic_pci_driver = {
	.name = DBNIC_DRV_NAME,
	.id_table = dbnic_pci_ids,
	.probe = dbnic_probe,
	.remove = dbnic_remove,
	.shutdown = dbnic_shutdown,
	.err_handler = &dbnic_err_handlers,
};

static int __init dbnic_init(void)
{
	int ret;

	dbnic_debugfs_init();
	ret = pci_register_driver(&dbnic_pci_driver);
	if (ret)
		dbnic_debugfs_exit();
	return ret;
}
module_init(dbnic_init);

static void __exit dbnic_exit(void)
{
	pci_unregister_driver(&dbnic_pci_driver);
	dbnic_debugfs_exit();
}
module_exit(dbnic_exit);

MODULE_DESCRIPTION("dbnic emulated doorbell NIC/DMA engine: core (PCI, admin queue, posting API)");
MODULE_LICENSE("GPL");
