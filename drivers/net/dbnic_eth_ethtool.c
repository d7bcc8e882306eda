// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic Ethernet function: ethtool (-i, -S, -l/-L, -g/-G, private flags).
 */

#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/pci.h>

#include "dbnic_eth.h"

/* Per TX queue, in struct dbnic_eth_tx_stats order. */
static const char * const dbnic_eth_tx_stat_names[] = {
	"packets", "bytes", "ring", "prio", "inline", "prio_ring", "drops",
	"errors",
};

/* Per RX queue, in struct dbnic_eth_rx_stats order. */
static const char * const dbnic_eth_rx_stat_names[] = {
	"packets", "bytes", "drops", "errors", "buf_short", "csum_ok",
	"csum_bad",
};

/* The device's own counters of the port (datasheet 10.5) and the paths. */
static const struct {
	unsigned int counter;
	const char *name;
} dbnic_eth_dev_stats[] = {
	{ DBNIC_CNT_ETH_TX, "dev_eth_tx" },
	{ DBNIC_CNT_ETH_TX_INLINE, "dev_eth_tx_inline" },
	{ DBNIC_CNT_ETH_TX_DROP, "dev_eth_tx_drop" },
	{ DBNIC_CNT_ETH_RX, "dev_eth_rx" },
	{ DBNIC_CNT_ETH_RX_NOBUF, "dev_eth_rx_nobuf" },
	{ DBNIC_CNT_ETH_RX_BAD, "dev_eth_rx_bad" },
	{ DBNIC_CNT_ETH_RX_BUF_SHORT, "dev_eth_rx_buf_short" },
	{ DBNIC_CNT_RING_FETCH, "dev_ring_fetch" },
	{ DBNIC_CNT_PRIO_EXEC, "dev_prio_exec" },
	{ DBNIC_CNT_PRIO_FALLBACK, "dev_prio_fallback" },
	{ DBNIC_CNT_PRIO_TORN, "dev_prio_torn" },
	{ DBNIC_CNT_PRIO_STALE, "dev_prio_stale" },
};

static const char * const dbnic_eth_priv_flags[] = {
	"inline-prio",
};

#define DBNIC_ETH_PF_INLINE_PRIO	BIT(0)

static_assert(sizeof(struct dbnic_eth_tx_stats) ==
	      ARRAY_SIZE(dbnic_eth_tx_stat_names) * sizeof(u64));
static_assert(sizeof(struct dbnic_eth_rx_stats) ==
	      ARRAY_SIZE(dbnic_eth_rx_stat_names) * sizeof(u64));

static void dbnic_eth_get_drvinfo(struct net_device *nd,
				  struct ethtool_drvinfo *info)
{
	struct dbnic_eth *eth = netdev_priv(nd);

	strscpy(info->driver, DBNIC_ETH_DRV_NAME, sizeof(info->driver));
	strscpy(info->bus_info, pci_name(eth->dd->pdev),
		sizeof(info->bus_info));
	snprintf(info->fw_version, sizeof(info->fw_version), "%u.%u",
		 eth->dd->caps.ver_major, eth->dd->caps.ver_minor);
	info->n_priv_flags = ARRAY_SIZE(dbnic_eth_priv_flags);
}

static int dbnic_eth_get_sset_count(struct net_device *nd, int sset)
{
	struct dbnic_eth *eth = netdev_priv(nd);

	switch (sset) {
	case ETH_SS_STATS:
		return eth->nqp * (ARRAY_SIZE(dbnic_eth_tx_stat_names) +
				   ARRAY_SIZE(dbnic_eth_rx_stat_names)) +
		       ARRAY_SIZE(dbnic_eth_dev_stats) + 1;
	case ETH_SS_PRIV_FLAGS:
		return ARRAY_SIZE(dbnic_eth_priv_flags);
	default:
		return -EOPNOTSUPP;
	}
}

static void dbnic_eth_get_strings(struct net_device *nd, u32 sset, u8 *data)
{
	struct dbnic_eth *eth = netdev_priv(nd);
	unsigned int i, j;

	switch (sset) {
	case ETH_SS_STATS:
		for (i = 0; i < eth->nqp; i++) {
			for (j = 0; j < ARRAY_SIZE(dbnic_eth_tx_stat_names); j++)
				ethtool_sprintf(&data, "tx%u_%s", i,
						dbnic_eth_tx_stat_names[j]);
			for (j = 0; j < ARRAY_SIZE(dbnic_eth_rx_stat_names); j++)
				ethtool_sprintf(&data, "rx%u_%s", i,
						dbnic_eth_rx_stat_names[j]);
		}
		for (i = 0; i < ARRAY_SIZE(dbnic_eth_dev_stats); i++)
			ethtool_puts(&data, dbnic_eth_dev_stats[i].name);
		ethtool_puts(&data, "tx_timeout");
		break;
	case ETH_SS_PRIV_FLAGS:
		for (i = 0; i < ARRAY_SIZE(dbnic_eth_priv_flags); i++)
			ethtool_puts(&data, dbnic_eth_priv_flags[i]);
		break;
	}
}

static void dbnic_eth_get_ethtool_stats(struct net_device *nd,
					struct ethtool_stats *stats, u64 *data)
{
	struct dbnic_eth *eth = netdev_priv(nd);
	unsigned int i;

	for (i = 0; i < eth->nqp; i++) {
		struct dbnic_eth_tx_stats ts = {};
		struct dbnic_eth_rx_stats rs = {};

		/* A closed interface shows zeros for its queues. */
		if (eth->qps) {
			dbnic_eth_txq_stats(&eth->qps[i].tx, &ts);
			dbnic_eth_rxq_stats(&eth->qps[i].rx, &rs);
		}
		memcpy(data, &ts, sizeof(ts));
		data += sizeof(ts) / sizeof(u64);
		memcpy(data, &rs, sizeof(rs));
		data += sizeof(rs) / sizeof(u64);
	}
	for (i = 0; i < ARRAY_SIZE(dbnic_eth_dev_stats); i++)
		*data++ = dbnic_read_counter(eth->dd,
					     dbnic_eth_dev_stats[i].counter);
	*data++ = atomic64_read(&eth->tx_timeouts);
}

static u32 dbnic_eth_get_priv_flags(struct net_device *nd)
{
	struct dbnic_eth *eth = netdev_priv(nd);

	return READ_ONCE(eth->inline_prio) ? DBNIC_ETH_PF_INLINE_PRIO : 0;
}

/* Takes effect at the next frame: xmit reads the flag each time. */
static int dbnic_eth_set_priv_flags(struct net_device *nd, u32 flags)
{
	struct dbnic_eth *eth = netdev_priv(nd);

	WRITE_ONCE(eth->inline_prio, !!(flags & DBNIC_ETH_PF_INLINE_PRIO));
	return 0;
}

static void dbnic_eth_get_channels(struct net_device *nd,
				   struct ethtool_channels *ch)
{
	struct dbnic_eth *eth = netdev_priv(nd);

	ch->max_combined = eth->max_qp;
	ch->combined_count = eth->nqp;
}

static int dbnic_eth_set_channels(struct net_device *nd,
				  struct ethtool_channels *ch)
{
	struct dbnic_eth *eth = netdev_priv(nd);

	if (ch->rx_count || ch->tx_count || ch->other_count ||
	    !ch->combined_count || ch->combined_count > eth->max_qp)
		return -EINVAL;
	if (ch->combined_count == eth->nqp)
		return 0;
	return dbnic_eth_reconfigure(eth, ch->combined_count, eth->tx_log,
				     eth->rx_log, nd->mtu);
}

static void dbnic_eth_get_ringparam(struct net_device *nd,
				    struct ethtool_ringparam *ring,
				    struct kernel_ethtool_ringparam *kring,
				    struct netlink_ext_ack *extack)
{
	struct dbnic_eth *eth = netdev_priv(nd);

	ring->rx_max_pending = 1u << eth->max_log;
	ring->tx_max_pending = 1u << eth->max_log;
	ring->rx_pending = 1u << eth->rx_log;
	ring->tx_pending = 1u << eth->tx_log;
}

/* Ring sizes are powers of two (datasheet 4): others round up. */
static int dbnic_eth_set_ringparam(struct net_device *nd,
				   struct ethtool_ringparam *ring,
				   struct kernel_ethtool_ringparam *kring,
				   struct netlink_ext_ack *extack)
{
	struct dbnic_eth *eth = netdev_priv(nd);
	unsigned int tx_log, rx_log;

	if (ring->rx_mini_pending || ring->rx_jumbo_pending ||
	    ring->rx_pending < 2 || ring->tx_pending < 2 ||
	    ring->rx_pending > 1u << eth->max_log ||
	    ring->tx_pending > 1u << eth->max_log)
		return -EINVAL;
	tx_log = order_base_2(ring->tx_pending);
	rx_log = order_base_2(ring->rx_pending);
	if (tx_log == eth->tx_log && rx_log == eth->rx_log)
		return 0;
	return dbnic_eth_reconfigure(eth, eth->nqp, tx_log, rx_log, nd->mtu);
}

static u32 dbnic_eth_get_rxfh_key_size(struct net_device *nd)
{
	return DBNIC_RSS_KEY_SIZE;
}

static u32 dbnic_eth_get_rxfh_indir_size(struct net_device *nd)
{
	return DBNIC_RSS_TABLE_SIZE;
}

static int dbnic_eth_get_rxfh(struct net_device *nd,
			      struct ethtool_rxfh_param *rxfh)
{
	struct dbnic_eth *eth = netdev_priv(nd);
	unsigned int i;

	rxfh->hfunc = ETH_RSS_HASH_TOP;
	if (rxfh->indir)
		for (i = 0; i < DBNIC_RSS_TABLE_SIZE; i++)
			rxfh->indir[i] = ethtool_rxfh_indir_default(i, eth->nqp);
	if (rxfh->key) {
		if (eth->rss)
			memcpy(rxfh->key, eth->rss->key, DBNIC_RSS_KEY_SIZE);
		else
			memset(rxfh->key, 0, DBNIC_RSS_KEY_SIZE);
	}
	return 0;
}

static int dbnic_eth_get_rxnfc(struct net_device *nd,
			       struct ethtool_rxnfc *info, u32 *rules)
{
	struct dbnic_eth *eth = netdev_priv(nd);

	if (info->cmd != ETHTOOL_GRXRINGS)
		return -EOPNOTSUPP;
	info->data = eth->nqp;
	return 0;
}

/*
 * The port has no line rate (datasheet 10.1 gives none): speed and duplex
 * unknown.  Answering at all spares the RDMA core's ib_get_eth_speed()
 * a warning at every port query of the RoCE port on this netdev.
 */
static int dbnic_eth_get_link_ksettings(struct net_device *nd,
					struct ethtool_link_ksettings *ks)
{
	ethtool_link_ksettings_zero_link_mode(ks, supported);
	ethtool_link_ksettings_zero_link_mode(ks, advertising);
	ks->base.speed = SPEED_UNKNOWN;
	ks->base.duplex = DUPLEX_UNKNOWN;
	ks->base.port = PORT_OTHER;
	ks->base.autoneg = AUTONEG_DISABLE;
	return 0;
}

const struct ethtool_ops dbnic_eth_ethtool_ops = {
	.get_drvinfo = dbnic_eth_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_link_ksettings = dbnic_eth_get_link_ksettings,
	.get_sset_count = dbnic_eth_get_sset_count,
	.get_strings = dbnic_eth_get_strings,
	.get_ethtool_stats = dbnic_eth_get_ethtool_stats,
	.get_priv_flags = dbnic_eth_get_priv_flags,
	.set_priv_flags = dbnic_eth_set_priv_flags,
	.get_channels = dbnic_eth_get_channels,
	.set_channels = dbnic_eth_set_channels,
	.get_ringparam = dbnic_eth_get_ringparam,
	.set_ringparam = dbnic_eth_set_ringparam,
	.get_rxfh_key_size = dbnic_eth_get_rxfh_key_size,
	.get_rxfh_indir_size = dbnic_eth_get_rxfh_indir_size,
	.get_rxfh = dbnic_eth_get_rxfh,
	.get_rxnfc = dbnic_eth_get_rxnfc,
};
