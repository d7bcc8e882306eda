/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic functions as auxiliary devices.
 *
 * dbnic_core.ko owns the PCI function: MSI-X, the admin queue, contexts,
 * doorbell pages, the kernel queue and the posting API (dbnic.h,
 * dbnic_queue.h, exported in the DBNIC symbol namespace).  For each
 * function of a device it adds an auxiliary device, "dbnic_core.<fn>.<id>"
 * (<id> the same for all functions of one PCI device), which the
 * function's own module binds: dbnic_dma.ko the dmaengine provider,
 * dbnic_cdev.ko /dev/dbnic<N>, dbnic_eth.ko the netdev (only on a device
 * with the network port, DBNIC_FEAT_NET), dbnic_rdma.ko the ib_device
 * (only on an RDMA HCA, DBNIC_FEAT_RDMA).
 *
 * The auxiliary devices live while the device runs: the core adds them
 * once the kernel queue and debugfs exist (probe, and the end of a reset)
 * and deletes them, dma first, before it takes anything down (removal,
 * reset, PCI error).  A function driver's remove therefore runs with the
 * admin queue, the kernel context and the doorbell page still there, and
 * must return with nothing of its own left on the device; dd->resetting
 * tells a reset from a removal.
 */
#ifndef DBNIC_AUX_H
#define DBNIC_AUX_H

#include <linux/auxiliary_bus.h>
#include <linux/container_of.h>

#include "dbnic.h"

/* Auxiliary device names, without the "dbnic_core." of the core module. */
#define DBNIC_AUX_DMA_NAME	"dma"
#define DBNIC_AUX_CDEV_NAME	"cdev"
#define DBNIC_AUX_ETH_NAME	"eth"
#define DBNIC_AUX_RDMA_NAME	"rdma"
/* For a function driver's id_table: "<core module>.<name>". */
#define DBNIC_AUX_ID(name)	("dbnic_core." name)

/**
 * struct dbnic_aux_dev - one function of a dbnic
 * @adev: the auxiliary device; its parent is the PCI device
 * @dd: the device, valid from the function driver's probe to its remove
 */
struct dbnic_aux_dev {
	struct auxiliary_device adev;
	struct dbnic_dev *dd;
};

static inline struct dbnic_dev *dbnic_aux_dd(struct auxiliary_device *adev)
{
	return container_of(adev, struct dbnic_aux_dev, adev)->dd;
}

#endif /* DBNIC_AUX_H */
