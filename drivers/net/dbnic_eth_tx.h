/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic Ethernet function: the TX path's pure logic (which path a frame
 * takes, how its ETH_TX descriptor is built), apart from the netdev so
 * that KUnit tests it without a device.  Datasheet section 10.2.
 */
#ifndef DBNIC_ETH_TX_H
#define DBNIC_ETH_TX_H

#include <linux/types.h>

#include "dbnic_hw.h"
#include "dbnic_queue.h"

/* How a frame leaves. */
enum dbnic_eth_tx_path {
	/* SGEs on the skb's DMA-mapped pieces, ring + doorbell per batch */
	DBNIC_ETH_TX_RING,
	/* the frame inline in the descriptor, copied to a priority slot */
	DBNIC_ETH_TX_INLINE_PRIO,
};

/**
 * struct dbnic_eth_tx_info - what an skb asks of the port
 * @len: frame bytes as the host gives them (without a VLAN tag to insert)
 * @csum: fill in the TCP/UDP checksum (DBNIC_ETH_TX_F_CSUM)
 * @tso: segment by @mss (DBNIC_ETH_TX_F_TSO, implies the checksum)
 * @mss: TCP payload bytes per segment, DBNIC_ETH_MSS_MIN..MSS_MAX
 * @vlan: insert an 802.1Q tag with @vlan_tci (DBNIC_ETH_TX_F_VLAN)
 * @vlan_tci: the tag's TCI
 */
struct dbnic_eth_tx_info {
	u32 len;
	bool csum;
	bool tso;
	u16 mss;
	bool vlan;
	u16 vlan_tci;
};

enum dbnic_eth_tx_path dbnic_eth_tx_pick(bool inline_prio, bool have_prio,
					 const struct dbnic_eth_tx_info *ti);
int dbnic_eth_tx_build_inline(struct dbnic_desc *d,
			      const struct dbnic_eth_tx_info *ti,
			      const void *frame);
int dbnic_eth_tx_build_sg(struct dbnic_desc *d,
			  const struct dbnic_eth_tx_info *ti,
			  const struct dbnic_sg *sg, unsigned int nsg);

#endif /* DBNIC_ETH_TX_H */
