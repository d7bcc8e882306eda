/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbnic Ethernet function (dbnic_eth.ko): the netdev on the device's
 * network port (datasheet section 10).
 */
#ifndef DBNIC_ETH_H
#define DBNIC_ETH_H

#include <linux/netdevice.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>

#include "dbnic.h"
#include "dbnic_queue.h"
#include "dbnic_eth_tx.h"

#define DBNIC_ETH_DRV_NAME	"dbnic_eth"
#define DBNIC_ETH_MAX_QP	4	/* pairs of priority slots in a page */
#define DBNIC_ETH_TX_LOG	8	/* default TX ring: 256 */
/*
 * Default RX ring: 1024 buffers.  A burst that finds the ring empty is
 * held 10 ms, then dropped (datasheet 10.3), and a drop costs TCP a
 * retransmission and half its window; 256 buffers ran dry whenever the
 * host was slow to schedule the guest (2.8% of a bulk transfer's
 * segments at MTU 1500 on a loaded TCG host), 1024 almost never.
 */
#define DBNIC_ETH_RX_LOG	10
#define DBNIC_ETH_TX_STOP	2	/* stop a TX queue below this many slots */
#define DBNIC_ETH_TX_START	16	/* and wake it at this many */
#define DBNIC_ETH_TX_TIMEOUT	(5 * HZ)	/* watchdog_timeo */

/* One TX descriptor's skb and mappings, by ring slot. */
struct dbnic_eth_txb {
	struct dbnic_req req;
	struct dbnic_eth_txq *txq;
	struct sk_buff *skb;
	u32 bytes;		/* what BQL was told */
	u8 nmap;
	bool prio;		/* posted through the priority area */
	struct {
		dma_addr_t addr;
		u32 len;
	} map[DBNIC_ETH_TX_MAX_SGE];
};

/* Per-queue counters (ethtool -S); see dbnic_eth_tx_stat_names. */
struct dbnic_eth_tx_stats {
	u64 packets;		/* completed OK */
	u64 bytes;
	u64 ring;		/* posted on the ring (SGEs) */
	u64 prio;		/* posted through the priority area */
	u64 inline_;		/* of them: the frame inline */
	/*
	 * Priority posts whose CQE says the ring copy ran (no PRIO flag):
	 * the device counted each in one of dev_prio_torn, dev_prio_stale
	 * or dev_prio_fallback (datasheet 3.2, 10.5).
	 */
	u64 prio_ring;
	u64 drops;		/* not posted (no memory, mapping, linearize) */
	u64 errors;		/* error completions */
};

struct dbnic_eth_txq {
	struct dbnic_eth_qp *qp;
	struct dbnic_queue *q;
	struct dbnic_eth_txb *bufs;	/* 2^log_size */
	unsigned int log_size;
	unsigned int done_pkts;		/* completions of this NAPI run */
	unsigned int done_bytes;
	/* posting side (xmit) and completion side (NAPI) counters */
	struct u64_stats_sync syncp;
	struct dbnic_eth_tx_stats st;
	struct u64_stats_sync csyncp;
	struct dbnic_eth_tx_stats cst;
};

struct dbnic_eth_rx_stats {
	u64 packets;
	u64 bytes;
	u64 drops;		/* no buffer or skb memory */
	u64 errors;		/* error completions */
	u64 buf_short;		/* of them: BAD_LENGTH, buffer too small */
	u64 csum_ok;
	u64 csum_bad;
};

struct dbnic_eth_rxq {
	struct dbnic_eth_qp *qp;
	struct dbnic_cq cq;
	dma_addr_t cq_dma;
	size_t cq_bytes;
	bool cq_created;
	void *ring;			/* RECV descriptors, 64-byte slots */
	dma_addr_t ring_dma;
	size_t ring_bytes;
	unsigned int log_size;
	u32 rqn;
	bool rq_created;
	u16 pi;				/* next RECV index */
	u16 ci;				/* next RECV to complete */
	struct page **pages;		/* by slot, or NULL */
	dma_addr_t *dma;		/* by slot: page's DMA address */
	struct page_pool *pp;
	unsigned int order;		/* buffer pages */
	unsigned int buf_len;		/* bytes the device may write */
	struct u64_stats_sync syncp;
	struct dbnic_eth_rx_stats st;
};

/* A queue pair: one MSI-X vector, one NAPI context, both CQs on it. */
struct dbnic_eth_qp {
	struct dbnic_eth *eth;
	unsigned int idx;
	u16 vector;
	int irq;
	char irq_name[40];
	struct napi_struct napi;
	struct dbnic_eth_txq tx;
	struct dbnic_eth_rxq rx;
};

struct dbnic_eth {
	struct dbnic_dev *dd;
	struct net_device *netdev;
	struct dbnic_kctx kc;		/* our context and doorbell page */
	unsigned int max_qp;
	unsigned int nqp;		/* in use (ethtool -L) */
	unsigned int tx_log;		/* ethtool -G */
	unsigned int rx_log;
	unsigned int max_log;
	bool inline_prio;		/* private flag "inline-prio" */
	struct dbnic_eth_qp *qps;	/* while open */
	struct dbnic_rss_config *rss;	/* coherent, while RSS is on */
	dma_addr_t rss_dma;
	struct work_struct link_work;
	/* ndo_tx_timeout: close and reopen, which recreates every queue. */
	struct work_struct reset_work;
	atomic64_t tx_timeouts;		/* ethtool -S tx_timeout */
	/*
	 * ndo_get_stats64 may run under RCU only, without RTNL: it sums
	 * @closed (the counters of queues destroyed) and the queues of @live
	 * (@qps while open) under @stats_lock.
	 */
	spinlock_t stats_lock;
	struct dbnic_eth_qp *live;
	struct rtnl_link_stats64 closed;
};

extern const struct ethtool_ops dbnic_eth_ethtool_ops;
int dbnic_eth_reconfigure(struct dbnic_eth *eth, unsigned int nqp,
			  unsigned int tx_log, unsigned int rx_log,
			  unsigned int mtu);
void dbnic_eth_txq_stats(struct dbnic_eth_txq *txq,
			 struct dbnic_eth_tx_stats *s);
void dbnic_eth_rxq_stats(struct dbnic_eth_rxq *rxq,
			 struct dbnic_eth_rx_stats *s);

#endif /* DBNIC_ETH_H */
