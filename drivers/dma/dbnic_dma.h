/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic dmaengine provider (dbnic_dma.ko): one channel per send queue.
 *
 * The module is the driver of the core's "dma" auxiliary devices
 * (dbnic_aux.h) and has no interface of its own: clients find its
 * channels through the dmaengine API (dma_request_channel() with a
 * filter on chan->device->dev, the PCI device).
 */
#ifndef DBNIC_DMA_H
#define DBNIC_DMA_H

#define DBNIC_DMA_DEBUGFS	"dma"	/* file in the device's directory */

#endif /* DBNIC_DMA_H */
