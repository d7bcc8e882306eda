// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic Ethernet function: the netdev on the device's network port
 * (datasheet section 10), bound to the core's "dbnic_core.eth.<id>"
 * auxiliary device.
 *
 * The function has its own privileged context, so its doorbell page is
 * its own: TX queue i owns priority slots 2i and 2i+1 of it, so queues
 * never share a slot pair (datasheet 3.2, step 4).  Queue pair i has
 * one MSI-X vector and one NAPI context for its TX CQ and its RX CQ.
 *
 * TX: frames up to DBNIC_ETH_TX_MAX_INLINE bytes go inline in the
 * descriptor through the priority area (the core's priority posting:
 * ring copy, then 64-bit stores to the WC slot and one flush); larger
 * ones, and all with the "inline-prio" flag off, go on the ring with
 * SGEs and one doorbell per xmit_more batch.  RX: one RQ per pair, with
 * page-sized (or larger, for jumbo frames) buffers, RSS over the RQs.
 */

#include <linux/auxiliary_bus.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_vlan.h>
#include <linux/interrupt.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/netdev_queues.h>
#if IS_ENABLED(CONFIG_PAGE_POOL)
#include <net/page_pool/helpers.h>
#endif

#include "dbnic_aux.h"
#include "dbnic_eth.h"

#define DBNIC_ETH_RX_HEADROOM	(NET_SKB_PAD + NET_IP_ALIGN)
#define DBNIC_ETH_RECV_STRIDE	DBNIC_LOG_STRIDE_MIN	/* one block */

/* ------------------------------------------------------------------ */
/* RX buffers: the page_pool where the kernel has it                    */
/* ------------------------------------------------------------------ */

/*
 * A kernel built without CONFIG_PAGE_POOL (nothing selected it) still
 * gets a working receive path: pages mapped per buffer.  The Kconfig
 * option selects PAGE_POOL, so an in-tree build always has the pool.
 */
static int dbnic_eth_rx_pool_create(struct dbnic_eth_rxq *rxq)
{
#if IS_ENABLED(CONFIG_PAGE_POOL)
	struct dbnic_eth *eth = rxq->qp->eth;
	struct page_pool_params pp = {
		.order = rxq->order,
		.flags = PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
		.pool_size = 1u << rxq->log_size,
		.nid = dev_to_node(dbnic_to_dev(eth->dd)),
		.dev = dbnic_to_dev(eth->dd),
		.napi = &rxq->qp->napi,
		.netdev = eth->netdev,
		.dma_dir = DMA_FROM_DEVICE,
		.offset = DBNIC_ETH_RX_HEADROOM,
		.max_len = rxq->buf_len,
	};

	rxq->pp = page_pool_create(&pp);
	if (IS_ERR(rxq->pp)) {
		int ret = PTR_ERR(rxq->pp);

		rxq->pp = NULL;
		return ret;
	}
#endif
	return 0;
}

static void dbnic_eth_rx_pool_destroy(struct dbnic_eth_rxq *rxq)
{
#if IS_ENABLED(CONFIG_PAGE_POOL)
	if (rxq->pp)
		page_pool_destroy(rxq->pp);
	rxq->pp = NULL;
#endif
}

/* A buffer page and its DMA address (of the page's first byte). */
static struct page *dbnic_eth_rx_page_get(struct dbnic_eth_rxq *rxq,
					  dma_addr_t *dma)
{
#if IS_ENABLED(CONFIG_PAGE_POOL)
	struct page *page = page_pool_dev_alloc_pages(rxq->pp);

	if (page)
		*dma = page_pool_get_dma_addr(page);
	return page;
#else
	struct device *dev = dbnic_to_dev(rxq->qp->eth->dd);
	struct page *page = dev_alloc_pages(rxq->order);

	if (!page)
		return NULL;
	*dma = dma_map_page(dev, page, 0, PAGE_SIZE << rxq->order,
			    DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, *dma)) {
		__free_pages(page, rxq->order);
		return NULL;
	}
	return page;
#endif
}

/* Give back a buffer the stack did not take. */
static void dbnic_eth_rx_page_put(struct dbnic_eth_rxq *rxq,
				  struct page *page, dma_addr_t dma,
				  bool napi)
{
#if IS_ENABLED(CONFIG_PAGE_POOL)
	page_pool_put_full_page(rxq->pp, page, napi);
#else
	dma_unmap_page(dbnic_to_dev(rxq->qp->eth->dd), dma,
		       PAGE_SIZE << rxq->order, DMA_FROM_DEVICE);
	__free_pages(page, rxq->order);
#endif
}

/* The device wrote @len bytes at the headroom: hand the page to the CPU. */
static void dbnic_eth_rx_page_take(struct dbnic_eth_rxq *rxq,
				   struct page *page, dma_addr_t dma,
				   unsigned int len)
{
#if IS_ENABLED(CONFIG_PAGE_POOL)
	page_pool_dma_sync_for_cpu(rxq->pp, page, DBNIC_ETH_RX_HEADROOM, len);
#else
	dma_unmap_page(dbnic_to_dev(rxq->qp->eth->dd), dma,
		       PAGE_SIZE << rxq->order, DMA_FROM_DEVICE);
#endif
}

static void dbnic_eth_rx_skb_recycle(struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_PAGE_POOL)
	skb_mark_for_recycle(skb);
#endif
}

/* ------------------------------------------------------------------ */
/* RX                                                                   */
/* ------------------------------------------------------------------ */

/* Post a RECV for every free slot, then one DB_RQ (datasheet 10.3). */
static void dbnic_eth_rx_refill(struct dbnic_eth_rxq *rxq, bool napi)
{
	struct dbnic_eth *eth = rxq->qp->eth;
	unsigned int size = 1u << rxq->log_size;
	u16 start = rxq->pi;

	while (dbnic_ring_used(rxq->pi, rxq->ci) < size) {
		u32 slot = dbnic_ring_slot(rxq->pi, rxq->log_size);
		struct dbnic_desc *d = rxq->ring +
				       (slot << DBNIC_ETH_RECV_STRIDE);
		struct page *page;
		dma_addr_t dma;

		page = dbnic_eth_rx_page_get(rxq, &dma);
		if (!page) {
			u64_stats_update_begin(&rxq->syncp);
			rxq->st.drops++;
			u64_stats_update_end(&rxq->syncp);
			break;
		}
		rxq->pages[slot] = page;
		rxq->dma[slot] = dma;
		memset(d, 0, DBNIC_DESC_BLOCK_SIZE);
		d->hdr.opcode = DBNIC_OP_RECV;
		d->hdr.size = 1;
		d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, 1);
		d->hdr.index = cpu_to_le16(rxq->pi);
		d->hdr.qid = cpu_to_le16(rxq->rqn);
		d->sge[0].addr = cpu_to_le64(dma + DBNIC_ETH_RX_HEADROOM);
		d->sge[0].len = cpu_to_le32(rxq->buf_len);
		rxq->pi++;
	}
	if (rxq->pi == start)
		return;
	dma_wmb();
	writel(dbnic_db_rq_val(rxq->rqn, rxq->pi), eth->kc.db + DBNIC_DB_RQ);
}

static void dbnic_eth_rx_one(struct dbnic_eth_rxq *rxq,
			     const struct dbnic_rx_cqe *rc)
{
	struct net_device *nd = rxq->qp->eth->netdev;
	u16 index = le16_to_cpu(rc->index);
	u32 slot = dbnic_ring_slot(index, rxq->log_size);
	u32 len = le32_to_cpu(rc->byte_count);
	struct page *page = rxq->pages[slot];
	dma_addr_t dma = rxq->dma[slot];
	struct sk_buff *skb;

	rxq->pages[slot] = NULL;
	rxq->ci = index + 1;
	if (!page || le16_to_cpu(rc->qid) != rxq->rqn)
		goto bad;
	if (rc->status != DBNIC_ST_OK || len < ETH_HLEN ||
	    len > rxq->buf_len) {
		dbnic_eth_rx_page_put(rxq, page, dma, true);
		goto bad;
	}
	dbnic_eth_rx_page_take(rxq, page, dma, len);
	skb = napi_build_skb(page_address(page), PAGE_SIZE << rxq->order);
	if (!skb) {
		dbnic_eth_rx_page_put(rxq, page, dma, true);
		u64_stats_update_begin(&rxq->syncp);
		rxq->st.drops++;
		u64_stats_update_end(&rxq->syncp);
		return;
	}
	dbnic_eth_rx_skb_recycle(skb);
	skb_reserve(skb, DBNIC_ETH_RX_HEADROOM);
	skb_put(skb, len);
	skb->protocol = eth_type_trans(skb, nd);

	u64_stats_update_begin(&rxq->syncp);
	rxq->st.packets++;
	rxq->st.bytes += len;
	if (nd->features & NETIF_F_RXCSUM) {
		if ((rc->rx_flags & DBNIC_RX_L4_OK) &&
		    !(rc->rx_flags & DBNIC_RX_IP_BAD)) {
			skb->ip_summed = CHECKSUM_UNNECESSARY;
			rxq->st.csum_ok++;
		} else if (rc->rx_flags & (DBNIC_RX_L4_BAD | DBNIC_RX_IP_BAD)) {
			/* Delivered flagged: the stack checks and drops it. */
			rxq->st.csum_bad++;
		}
	}
	u64_stats_update_end(&rxq->syncp);
	if ((nd->features & NETIF_F_RXHASH) &&
	    rc->hash_type != DBNIC_RSS_HASH_NONE) {
		bool l4 = rc->hash_type != DBNIC_RSS_HASH_IPV4 &&
			  rc->hash_type != DBNIC_RSS_HASH_IPV6;

		skb_set_hash(skb, le32_to_cpu(rc->rss_hash),
			     l4 ? PKT_HASH_TYPE_L4 : PKT_HASH_TYPE_L3);
	}
	skb_record_rx_queue(skb, rxq->qp->idx);
	napi_gro_receive(&rxq->qp->napi, skb);
	return;
bad:
	u64_stats_update_begin(&rxq->syncp);
	rxq->st.errors++;
	if (rc->status == DBNIC_ST_BAD_LENGTH)
		rxq->st.buf_short++;
	u64_stats_update_end(&rxq->syncp);
}

static int dbnic_eth_rx_poll(struct dbnic_eth_rxq *rxq, int budget)
{
	struct dbnic_cqe cqe;
	int n = 0;

	while (n < budget && dbnic_cq_pop(&rxq->cq, &cqe)) {
		struct dbnic_rx_cqe rc;

		memcpy(&rc, &cqe, sizeof(rc));
		n++;
		dbnic_eth_rx_one(rxq, &rc);
	}
	/* Free CQ entries before the buffers that will fill them. */
	dbnic_cq_tell(&rxq->cq, 0);
	dbnic_eth_rx_refill(rxq, true);
	return n;
}

/* ------------------------------------------------------------------ */
/* TX                                                                   */
/* ------------------------------------------------------------------ */

static void dbnic_eth_txb_unmap(struct dbnic_eth_txq *txq,
				struct dbnic_eth_txb *b)
{
	struct device *dev = dbnic_to_dev(txq->qp->eth->dd);
	unsigned int i;

	for (i = 0; i < b->nmap; i++) {
		if (i == 0 && skb_headlen(b->skb))
			dma_unmap_single(dev, b->map[i].addr, b->map[i].len,
					 DMA_TO_DEVICE);
		else
			dma_unmap_page(dev, b->map[i].addr, b->map[i].len,
				       DMA_TO_DEVICE);
	}
	b->nmap = 0;
}

/*
 * A TX completion: from dbnic_queue_poll() in NAPI (or a flush after a
 * CQ error, from the core's work item), with the queue lock held.
 */
static void dbnic_eth_tx_done(struct dbnic_req *req,
			      const struct dbnic_cqe *cqe)
{
	struct dbnic_eth_txb *b = container_of(req, struct dbnic_eth_txb, req);
	struct dbnic_eth_txq *txq = b->txq;

	if (!b->skb)
		return;
	dbnic_eth_txb_unmap(txq, b);
	u64_stats_update_begin(&txq->csyncp);
	if (cqe->status == DBNIC_ST_OK) {
		txq->cst.packets++;
		txq->cst.bytes += b->skb->len;
	} else {
		txq->cst.errors++;
	}
	if (b->prio && !(cqe->flags & DBNIC_CQE_F_PRIO))
		txq->cst.prio_ring++;
	u64_stats_update_end(&txq->csyncp);
	txq->done_pkts++;
	txq->done_bytes += b->bytes;
	dev_consume_skb_any(b->skb);
	b->skb = NULL;
}

/*
 * Checksum offload covers TCP and UDP over IPv4 and IPv6 (datasheet
 * 10.2): anything else the stack asks for is done here.
 */
static bool dbnic_eth_csum_ok(struct sk_buff *skb)
{
	u8 proto;

	if (skb->encapsulation)
		return false;
	switch (vlan_get_protocol(skb)) {
	case htons(ETH_P_IP):
		proto = ip_hdr(skb)->protocol;
		break;
	case htons(ETH_P_IPV6):
		proto = ipv6_hdr(skb)->nexthdr;
		break;
	default:
		return false;
	}
	if (proto == IPPROTO_TCP)
		return skb->csum_offset == offsetof(struct tcphdr, check);
	if (proto == IPPROTO_UDP)
		return skb->csum_offset == offsetof(struct udphdr, check);
	return false;
}

static void dbnic_eth_tx_drop(struct dbnic_eth_txq *txq, struct sk_buff *skb)
{
	u64_stats_update_begin(&txq->syncp);
	txq->st.drops++;
	u64_stats_update_end(&txq->syncp);
	dev_kfree_skb_any(skb);
}

/* Map the skb's head and frags into SGEs; false: nothing left mapped. */
static bool dbnic_eth_tx_map(struct dbnic_eth_txq *txq,
			     struct dbnic_eth_txb *b, struct sk_buff *skb,
			     struct dbnic_sg *sg, unsigned int *nsg)
{
	struct device *dev = dbnic_to_dev(txq->qp->eth->dd);
	unsigned int i, n = 0;

	b->skb = skb;
	b->nmap = 0;
	if (skb_headlen(skb)) {
		dma_addr_t a = dma_map_single(dev, skb->data, skb_headlen(skb),
					      DMA_TO_DEVICE);

		if (dma_mapping_error(dev, a))
			goto err;
		b->map[0].addr = a;
		b->map[0].len = skb_headlen(skb);
		b->nmap = ++n;
	}
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		skb_frag_t *f = &skb_shinfo(skb)->frags[i];
		dma_addr_t a;

		if (!skb_frag_size(f))
			continue;
		a = skb_frag_dma_map(dev, f, 0, skb_frag_size(f),
				     DMA_TO_DEVICE);
		if (dma_mapping_error(dev, a))
			goto err;
		b->map[n].addr = a;
		b->map[n].len = skb_frag_size(f);
		b->nmap = ++n;
	}
	for (i = 0; i < n; i++) {
		sg[i].addr = b->map[i].addr;
		sg[i].len = b->map[i].len;
	}
	*nsg = n;
	return true;
err:
	dbnic_eth_txb_unmap(txq, b);
	b->skb = NULL;
	return false;
}

static netdev_tx_t dbnic_eth_xmit(struct sk_buff *skb, struct net_device *nd)
{
	struct dbnic_eth *eth = netdev_priv(nd);
	unsigned int qi = skb_get_queue_mapping(skb);
	struct dbnic_eth_txq *txq = &eth->qps[qi].tx;
	struct netdev_queue *ntxq = netdev_get_tx_queue(nd, qi);
	struct dbnic_sg sg[DBNIC_ETH_TX_MAX_SGE];
	struct dbnic_eth_tx_info ti = {};
	u8 buf[DBNIC_ETH_TX_MAX_INLINE];
	enum dbnic_eth_tx_path path;
	struct dbnic_eth_txb *b;
	struct dbnic_desc d;
	unsigned int nsg = 0;
	const void *frame;
	bool kick;
	u16 index;
	int ret;

	b = &txq->bufs[dbnic_ring_slot(txq->q->sq.pi, txq->log_size)];
	if (unlikely(b->skb)) {
		/* The slot's last completion has not come: wait for it. */
		netif_tx_stop_queue(ntxq);
		return NETDEV_TX_BUSY;
	}

	if (skb_is_gso(skb)) {
		ti.tso = true;
		ti.mss = skb_shinfo(skb)->gso_size;
	} else if (skb->ip_summed == CHECKSUM_PARTIAL) {
		if (dbnic_eth_csum_ok(skb))
			ti.csum = true;
		else if (skb_checksum_help(skb))
			goto drop;
	}
	if (skb_vlan_tag_present(skb)) {
		ti.vlan = true;
		ti.vlan_tci = skb_vlan_tag_get(skb);
	}
	ti.len = skb->len;

	path = dbnic_eth_tx_pick(READ_ONCE(eth->inline_prio), !!txq->q->sq.prio,
				 &ti);
	if (path == DBNIC_ETH_TX_INLINE_PRIO) {
		frame = skb->data;
		if (skb_headlen(skb) < skb->len) {
			if (skb_copy_bits(skb, 0, buf, skb->len))
				goto drop;
			frame = buf;
		}
		if (dbnic_eth_tx_build_inline(&d, &ti, frame))
			goto drop;
		/*
		 * A priority descriptor runs ahead of the queue's ring
		 * descriptors not yet started (datasheet 3.2); fenced, it
		 * waits for them and keeps the frames of a queue in order on
		 * the wire, and still needs no fetch.
		 */
		d.hdr.flags |= DBNIC_DESC_F_FENCE;
		b->skb = skb;
		b->nmap = 0;
	} else {
		if (skb_shinfo(skb)->nr_frags + 1 > DBNIC_ETH_TX_MAX_SGE &&
		    skb_linearize(skb))
			goto drop;
		if (!dbnic_eth_tx_map(txq, b, skb, sg, &nsg))
			goto drop;
		if (dbnic_eth_tx_build_sg(&d, &ti, sg, nsg)) {
			dbnic_eth_txb_unmap(txq, b);
			b->skb = NULL;
			goto drop;
		}
	}
	b->prio = path == DBNIC_ETH_TX_INLINE_PRIO;
	b->bytes = skb->len;

	/* Before the post: the completion may come before it returns. */
	kick = __netdev_tx_sent_queue(ntxq, b->bytes, netdev_xmit_more());
	ret = dbnic_queue_post(txq->q, &d,
			       b->prio ? DBNIC_PATH_PRIO : DBNIC_PATH_RING_DEFER,
			       &b->req, &index);
	if (unlikely(ret)) {
		netdev_tx_completed_queue(ntxq, 1, b->bytes);
		dbnic_eth_txb_unmap(txq, b);
		b->skb = NULL;
		dbnic_queue_kick(txq->q);
		u64_stats_update_begin(&txq->syncp);
		txq->st.errors++;
		u64_stats_update_end(&txq->syncp);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	u64_stats_update_begin(&txq->syncp);
	if (b->prio) {
		txq->st.prio++;
		txq->st.inline_++;
	} else {
		txq->st.ring++;
	}
	u64_stats_update_end(&txq->syncp);

	netif_txq_maybe_stop(ntxq, dbnic_queue_space(txq->q),
			     DBNIC_ETH_TX_STOP, DBNIC_ETH_TX_START);
	/* One doorbell per batch; a priority post announced the ring's. */
	if (!b->prio && (kick || netif_xmit_stopped(ntxq)))
		dbnic_queue_kick(txq->q);
	return NETDEV_TX_OK;

drop:
	dbnic_eth_tx_drop(txq, skb);
	/* Ring posts of this batch still wait for their doorbell. */
	if (!netdev_xmit_more())
		dbnic_queue_kick(txq->q);
	return NETDEV_TX_OK;
}

/* ------------------------------------------------------------------ */
/* NAPI and interrupts                                                  */
/* ------------------------------------------------------------------ */

static int dbnic_eth_napi_poll(struct napi_struct *napi, int budget)
{
	struct dbnic_eth_qp *qp = container_of(napi, struct dbnic_eth_qp,
					       napi);
	struct net_device *nd = qp->eth->netdev;
	struct dbnic_eth_txq *txq = &qp->tx;
	int work = 0;

	txq->done_pkts = 0;
	txq->done_bytes = 0;
	/* TX: every completion, whatever the budget; re-arms the TX CQ. */
	dbnic_queue_poll(txq->q);
	netif_txq_completed_wake(netdev_get_tx_queue(nd, qp->idx),
				 txq->done_pkts, txq->done_bytes,
				 dbnic_queue_space(txq->q), DBNIC_ETH_TX_START);
	if (budget)
		work = dbnic_eth_rx_poll(&qp->rx, budget);
	if (work < budget && napi_complete_done(napi, work))
		dbnic_cq_arm(&qp->rx.cq);
	return work;
}

static irqreturn_t dbnic_eth_irq(int irq, void *data)
{
	struct dbnic_eth_qp *qp = data;

	napi_schedule_irqoff(&qp->napi);
	return IRQ_HANDLED;
}

/* ------------------------------------------------------------------ */
/* Queue pairs on the device                                            */
/* ------------------------------------------------------------------ */

/* Largest frame for @mtu, and the buffer pages that hold it. */
static void dbnic_eth_rx_size(struct dbnic_eth_rxq *rxq, unsigned int mtu)
{
	unsigned int frame = mtu + ETH_HLEN + VLAN_HLEN;
	unsigned int over = DBNIC_ETH_RX_HEADROOM +
			    SKB_DATA_ALIGN(sizeof(struct skb_shared_info));

	rxq->order = get_order(SKB_DATA_ALIGN(frame) + over);
	rxq->buf_len = (PAGE_SIZE << rxq->order) - over;
}

static void dbnic_eth_rxq_destroy(struct dbnic_eth_rxq *rxq)
{
	struct dbnic_dev *dd = rxq->qp->eth->dd;
	struct device *dev = dbnic_to_dev(dd);
	bool busy;
	unsigned int i;

	if (rxq->rq_created &&
	    !dbnic_admin_destroy(dd, DBNIC_ADM_DESTROY_RQ, rxq->rqn))
		rxq->rq_created = false;
	if (rxq->cq_created &&
	    !dbnic_admin_destroy(dd, DBNIC_ADM_DESTROY_CQ, rxq->cq.cqn))
		rxq->cq_created = false;
	/*
	 * An RQ the device did not destroy may still write its buffers:
	 * keep them, unless the core disables the device right after us.
	 */
	busy = rxq->rq_created && !READ_ONCE(dd->stopping);
	if (rxq->pages) {
		for (i = 0; i < 1u << rxq->log_size; i++) {
			if (!rxq->pages[i] || busy)
				continue;
			dbnic_eth_rx_page_put(rxq, rxq->pages[i], rxq->dma[i],
					      false);
			rxq->pages[i] = NULL;
		}
	}
	if (busy)
		dev_warn(dev, "RQ %u still known to the device: leaking its buffers\n",
			 rxq->rqn);
	else
		dbnic_eth_rx_pool_destroy(rxq);
	if (rxq->rq_created || rxq->cq_created) {
		if (dbnic_admin_park_rings(dd, rxq->ring, rxq->ring_dma,
					   rxq->ring_bytes, rxq->cq.cqes,
					   rxq->cq_dma, rxq->cq_bytes))
			dev_warn(dev, "RQ %u: leaking its rings\n", rxq->rqn);
	} else {
		if (rxq->ring)
			dma_free_coherent(dev, rxq->ring_bytes, rxq->ring,
					  rxq->ring_dma);
		if (rxq->cq.cqes)
			dma_free_coherent(dev, rxq->cq_bytes, rxq->cq.cqes,
					  rxq->cq_dma);
	}
	rxq->ring = NULL;
	rxq->cq.cqes = NULL;
	kfree(rxq->pages);
	kfree(rxq->dma);
	rxq->pages = NULL;
	rxq->dma = NULL;
}

/* The RX CQ and the RQ of pair @qp (datasheet 4, 10.3), buffers posted. */
static int dbnic_eth_rxq_create(struct dbnic_eth_qp *qp, unsigned int mtu)
{
	struct dbnic_eth *eth = qp->eth;
	struct dbnic_eth_rxq *rxq = &qp->rx;
	struct dbnic_dev *dd = eth->dd;
	struct device *dev = dbnic_to_dev(dd);
	struct dbnic_admin_hold *hold;
	unsigned int n;
	u32 cqn, rqn;
	int ret;

	rxq->qp = qp;
	rxq->log_size = eth->rx_log;
	u64_stats_init(&rxq->syncp);
	dbnic_eth_rx_size(rxq, mtu);
	n = 1u << rxq->log_size;
	rxq->cq.log_size = min(rxq->log_size + 1, eth->max_log);
	rxq->cq.db = eth->kc.db;
	rxq->ring_bytes = (size_t)n << DBNIC_ETH_RECV_STRIDE;
	rxq->cq_bytes = sizeof(struct dbnic_cqe) << rxq->cq.log_size;
	rxq->ring = dma_alloc_coherent(dev, rxq->ring_bytes, &rxq->ring_dma,
				       GFP_KERNEL);
	rxq->cq.cqes = dma_alloc_coherent(dev, rxq->cq_bytes, &rxq->cq_dma,
					  GFP_KERNEL);
	rxq->pages = kcalloc(n, sizeof(*rxq->pages), GFP_KERNEL);
	rxq->dma = kcalloc(n, sizeof(*rxq->dma), GFP_KERNEL);
	hold = kzalloc(sizeof(*hold), GFP_KERNEL);
	if (!rxq->ring || !rxq->cq.cqes || !rxq->pages || !rxq->dma || !hold) {
		ret = -ENOMEM;
		goto err;
	}
	ret = dbnic_eth_rx_pool_create(rxq);
	if (ret)
		goto err;

	/* Should a create time out, the admin queue keeps the rings. */
	hold->buf[0].cpu = rxq->ring;
	hold->buf[0].dma = rxq->ring_dma;
	hold->buf[0].bytes = rxq->ring_bytes;
	hold->buf[1].cpu = rxq->cq.cqes;
	hold->buf[1].dma = rxq->cq_dma;
	hold->buf[1].bytes = rxq->cq_bytes;
	hold->pages = PFN_UP(rxq->ring_bytes) + PFN_UP(rxq->cq_bytes);
	ret = dbnic_admin_create_cq(dd, eth->kc.ctx, rxq->cq_dma,
				    rxq->cq.log_size, qp->vector, &cqn, hold);
	if (ret)
		goto err_hold;
	rxq->cq.cqn = cqn;
	rxq->cq_created = true;
	hold->undo[0].opcode = DBNIC_ADM_DESTROY_CQ;
	hold->undo[0].handle = cqn;
	hold->nundo = 1;
	ret = dbnic_admin_create_rq(dd, eth->kc.ctx, cqn, rxq->ring_dma,
				    rxq->log_size, DBNIC_ETH_RECV_STRIDE, &rqn,
				    hold);
	if (ret)
		goto err_hold;
	rxq->rqn = rqn;
	rxq->rq_created = true;
	kfree(hold);
	dbnic_eth_rx_refill(rxq, false);
	return 0;

err_hold:
	if (ret == -ETIMEDOUT) {
		/* The admin queue owns the rings, and the CQ if made. */
		rxq->ring = NULL;
		rxq->cq.cqes = NULL;
		rxq->cq_created = false;
		hold = NULL;
	}
err:
	kfree(hold);
	dbnic_eth_rxq_destroy(rxq);
	return ret;
}

static void dbnic_eth_txq_destroy(struct dbnic_eth_txq *txq)
{
	struct net_device *nd = txq->qp->eth->netdev;
	unsigned int i;

	if (txq->q)
		dbnic_queue_stop(txq->q);
	/* No callback runs any more: free what never completed. */
	if (txq->bufs) {
		for (i = 0; i < 1u << txq->log_size; i++) {
			struct dbnic_eth_txb *b = &txq->bufs[i];

			if (!b->skb)
				continue;
			dbnic_eth_txb_unmap(txq, b);
			dev_kfree_skb_any(b->skb);
			b->skb = NULL;
		}
	}
	netdev_tx_reset_queue(netdev_get_tx_queue(nd, txq->qp->idx));
	if (txq->q)
		dbnic_queue_free(txq->q);
	txq->q = NULL;
	kvfree(txq->bufs);
	txq->bufs = NULL;
}

static int dbnic_eth_txq_create(struct dbnic_eth_qp *qp)
{
	struct dbnic_eth *eth = qp->eth;
	struct dbnic_eth_txq *txq = &qp->tx;
	struct dbnic_queue *q;
	unsigned int i, n;

	txq->qp = qp;
	u64_stats_init(&txq->syncp);
	u64_stats_init(&txq->csyncp);
	q = dbnic_queue_create_in(eth->dd, &eth->kc, eth->tx_log, qp->vector,
				  2 * qp->idx, DBNIC_QUEUE_F_OWN_IRQ);
	if (IS_ERR(q))
		return PTR_ERR(q);
	txq->q = q;
	txq->log_size = q->sq.log_size;
	if (2 * qp->idx + 2 > eth->kc.prio_slots) {
		/* No slot pair of its own: ring path only. */
		spin_lock_irq(&q->lock);
		q->sq.prio = NULL;
		spin_unlock_irq(&q->lock);
	}
	n = 1u << txq->log_size;
	txq->bufs = kvcalloc(n, sizeof(*txq->bufs), GFP_KERNEL);
	if (!txq->bufs) {
		dbnic_eth_txq_destroy(txq);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		txq->bufs[i].txq = txq;
		txq->bufs[i].req.done = dbnic_eth_tx_done;
	}
	return 0;
}

/* RSS over the RQs (datasheet 10.4); with one RQ, RSS stays off. */
static int dbnic_eth_rss_set(struct dbnic_eth *eth)
{
	struct dbnic_dev *dd = eth->dd;
	struct dbnic_admin_hold *hold;
	unsigned int i;
	int ret;

	if (eth->nqp < 2)
		return 0;
	eth->rss = dma_alloc_coherent(dbnic_to_dev(dd), sizeof(*eth->rss),
				      &eth->rss_dma, GFP_KERNEL);
	hold = kzalloc(sizeof(*hold), GFP_KERNEL);
	if (!eth->rss || !hold) {
		ret = -ENOMEM;
		goto err;
	}
	netdev_rss_key_fill(eth->rss->key, sizeof(eth->rss->key));
	eth->rss->hash_types = cpu_to_le32(GENMASK(DBNIC_RSS_HASH_NUM - 1, 1));
	for (i = 0; i < DBNIC_RSS_TABLE_SIZE; i++)
		eth->rss->table[i] =
			cpu_to_le16(eth->qps[ethtool_rxfh_indir_default(i, eth->nqp)].rx.rqn);
	hold->buf[0].cpu = eth->rss;
	hold->buf[0].dma = eth->rss_dma;
	hold->buf[0].bytes = sizeof(*eth->rss);
	ret = dbnic_admin_set_rss(dd, eth->kc.ctx, eth->rss_dma, hold);
	if (ret == -ETIMEDOUT) {
		eth->rss = NULL;	/* the admin queue frees it */
		return ret;
	}
err:
	kfree(hold);
	if (eth->rss)
		dma_free_coherent(dbnic_to_dev(dd), sizeof(*eth->rss), eth->rss,
				  eth->rss_dma);
	eth->rss = NULL;
	return ret;
}

/* RSS off, so that DESTROY_RQ does not answer BUSY. */
static void dbnic_eth_rss_clear(struct dbnic_eth *eth)
{
	if (eth->nqp < 2)
		return;
	dbnic_admin_set_rss(eth->dd, eth->kc.ctx, 0, NULL);
}

/* Add the counters of @n queue pairs at @qps to @st. */
static void dbnic_eth_sum_stats(struct dbnic_eth_qp *qps, unsigned int n,
				struct rtnl_link_stats64 *st)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct dbnic_eth_tx_stats ts;
		struct dbnic_eth_rx_stats rs;

		dbnic_eth_txq_stats(&qps[i].tx, &ts);
		dbnic_eth_rxq_stats(&qps[i].rx, &rs);
		st->tx_packets += ts.packets;
		st->tx_bytes += ts.bytes;
		st->tx_dropped += ts.drops;
		st->tx_errors += ts.errors;
		st->rx_packets += rs.packets;
		st->rx_bytes += rs.bytes;
		st->rx_dropped += rs.drops;
		st->rx_errors += rs.errors;
		st->rx_crc_errors += rs.csum_bad;
	}
}

static void dbnic_eth_qps_destroy(struct dbnic_eth *eth)
{
	unsigned int i;

	if (!eth->qps)
		return;
	/* Quiet (NAPI and TX stopped): keep their counters, hide them. */
	spin_lock_irq(&eth->stats_lock);
	if (eth->live)
		dbnic_eth_sum_stats(eth->live, eth->nqp, &eth->closed);
	eth->live = NULL;
	spin_unlock_irq(&eth->stats_lock);
	dbnic_eth_rss_clear(eth);
	for (i = 0; i < eth->nqp; i++) {
		struct dbnic_eth_qp *qp = &eth->qps[i];

		if (qp->tx.qp)
			dbnic_eth_txq_destroy(&qp->tx);
		if (qp->rx.qp)
			dbnic_eth_rxq_destroy(&qp->rx);
		if (qp->irq > 0) {
			netif_napi_del(&qp->napi);
			free_irq(qp->irq, qp);
		}
	}
	kfree(eth->qps);
	eth->qps = NULL;
}

static int dbnic_eth_qps_create(struct dbnic_eth *eth)
{
	struct dbnic_dev *dd = eth->dd;
	struct net_device *nd = eth->netdev;
	unsigned int i;
	int ret;

	eth->qps = kcalloc(eth->nqp, sizeof(*eth->qps), GFP_KERNEL);
	if (!eth->qps)
		return -ENOMEM;
	for (i = 0; i < eth->nqp; i++) {
		struct dbnic_eth_qp *qp = &eth->qps[i];

		qp->eth = eth;
		qp->idx = i;
		qp->vector = dd->eth_vec0 + i;
		ret = pci_irq_vector(dd->pdev, qp->vector);
		if (ret < 0)
			goto err;
		snprintf(qp->irq_name, sizeof(qp->irq_name), "%s-qp%u", nd->name,
			 i);
		netif_napi_add(nd, &qp->napi, dbnic_eth_napi_poll);
		ret = request_irq(ret, dbnic_eth_irq, 0, qp->irq_name, qp);
		if (ret) {
			netif_napi_del(&qp->napi);
			goto err;
		}
		qp->irq = pci_irq_vector(dd->pdev, qp->vector);
		ret = dbnic_eth_txq_create(qp);
		if (ret)
			goto err;
		ret = dbnic_eth_rxq_create(qp, nd->mtu);
		if (ret)
			goto err;
	}
	ret = dbnic_eth_rss_set(eth);
	if (ret)
		goto err;
	spin_lock_irq(&eth->stats_lock);
	eth->live = eth->qps;
	spin_unlock_irq(&eth->stats_lock);
	return 0;
err:
	dbnic_eth_qps_destroy(eth);
	return ret;
}

/* ------------------------------------------------------------------ */
/* netdev                                                               */
/* ------------------------------------------------------------------ */

static int dbnic_eth_open(struct net_device *nd)
{
	struct dbnic_eth *eth = netdev_priv(nd);
	unsigned int i;
	int ret;

	ret = netif_set_real_num_queues(nd, eth->nqp, eth->nqp);
	if (ret)
		return ret;
	ret = dbnic_eth_qps_create(eth);
	if (ret) {
		netdev_err(nd, "cannot create queues: %pe\n", ERR_PTR(ret));
		return ret;
	}
	for (i = 0; i < eth->nqp; i++) {
		napi_enable(&eth->qps[i].napi);
		/* Reap and arm both CQs once: an interrupt may be lost. */
		local_bh_disable();
		napi_schedule(&eth->qps[i].napi);
		local_bh_enable();
	}
	netif_tx_start_all_queues(nd);
	schedule_work(&eth->link_work);
	return 0;
}

static int dbnic_eth_stop(struct net_device *nd)
{
	struct dbnic_eth *eth = netdev_priv(nd);
	unsigned int i;

	netif_tx_disable(nd);
	for (i = 0; i < eth->nqp; i++)
		napi_disable(&eth->qps[i].napi);
	dbnic_eth_qps_destroy(eth);
	return 0;
}

/**
 * dbnic_eth_reconfigure - change queue pairs, ring sizes or the MTU
 * @eth: the function; RTNL held
 * @nqp: queue pairs, 1..@eth->max_qp
 * @tx_log: log2 of the TX ring entries, 1..@eth->max_log
 * @rx_log: log2 of the RX ring entries, 1..@eth->max_log
 * @mtu: the new MTU (RX buffers are sized for it)
 *
 * A running interface is closed and opened again: queues are created
 * on the device, with no live resize (datasheet 4: rings are fixed).
 *
 * Return: 0 or the errno of the new open (then the old settings are
 * restored and opened again).
 */
int dbnic_eth_reconfigure(struct dbnic_eth *eth, unsigned int nqp,
			  unsigned int tx_log, unsigned int rx_log,
			  unsigned int mtu)
{
	struct net_device *nd = eth->netdev;
	unsigned int old[4] = { eth->nqp, eth->tx_log, eth->rx_log, nd->mtu };
	bool running = netif_running(nd);
	int ret;

	if (running)
		dbnic_eth_stop(nd);
	eth->nqp = nqp;
	eth->tx_log = tx_log;
	eth->rx_log = rx_log;
	WRITE_ONCE(nd->mtu, mtu);
	if (!running)
		return netif_set_real_num_queues(nd, nqp, nqp);
	ret = dbnic_eth_open(nd);
	if (!ret)
		return 0;
	eth->nqp = old[0];
	eth->tx_log = old[1];
	eth->rx_log = old[2];
	WRITE_ONCE(nd->mtu, old[3]);
	if (dbnic_eth_open(nd))
		netdev_err(nd, "cannot reopen: interface down\n");
	return ret;
}

static int dbnic_eth_change_mtu(struct net_device *nd, int mtu)
{
	struct dbnic_eth *eth = netdev_priv(nd);

	return dbnic_eth_reconfigure(eth, eth->nqp, eth->tx_log, eth->rx_log,
				     mtu);
}

void dbnic_eth_txq_stats(struct dbnic_eth_txq *txq,
			 struct dbnic_eth_tx_stats *s)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&txq->syncp);
		s->ring = txq->st.ring;
		s->prio = txq->st.prio;
		s->inline_ = txq->st.inline_;
		s->drops = txq->st.drops;
		s->errors = txq->st.errors;
	} while (u64_stats_fetch_retry(&txq->syncp, start));
	do {
		start = u64_stats_fetch_begin(&txq->csyncp);
		s->packets = txq->cst.packets;
		s->bytes = txq->cst.bytes;
		s->prio_ring = txq->cst.prio_ring;
		s->errors += txq->cst.errors;
	} while (u64_stats_fetch_retry(&txq->csyncp, start));
}

void dbnic_eth_rxq_stats(struct dbnic_eth_rxq *rxq,
			 struct dbnic_eth_rx_stats *s)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&rxq->syncp);
		*s = rxq->st;
	} while (u64_stats_fetch_retry(&rxq->syncp, start));
}

static void dbnic_eth_get_stats64(struct net_device *nd,
				  struct rtnl_link_stats64 *st)
{
	struct dbnic_eth *eth = netdev_priv(nd);
	unsigned long flags;

	spin_lock_irqsave(&eth->stats_lock, flags);
	*st = eth->closed;
	if (eth->live)
		dbnic_eth_sum_stats(eth->live, eth->nqp, st);
	spin_unlock_irqrestore(&eth->stats_lock, flags);
}

/* What the port cannot offload, the stack does (datasheet 10.1, 10.2). */
static netdev_features_t dbnic_eth_features_check(struct sk_buff *skb,
						  struct net_device *nd,
						  netdev_features_t features)
{
	features = vlan_features_check(skb, features);
	if (skb->encapsulation)
		features &= ~(NETIF_F_CSUM_MASK | NETIF_F_GSO_MASK);
	/*
	 * Each segment, its headers + gso_size (+ the tag the port inserts),
	 * must fit the largest frame, else the port refuses the descriptor.
	 */
	if (skb_is_gso(skb) &&
	    (skb_shinfo(skb)->gso_size < DBNIC_ETH_MSS_MIN ||
	     skb_shinfo(skb)->gso_size > DBNIC_ETH_MSS_MAX ||
	     skb->len > DBNIC_ETH_MAX_TSO ||
	     !(skb_shinfo(skb)->gso_type & (SKB_GSO_TCPV4 | SKB_GSO_TCPV6)) ||
	     skb_tcp_all_headers(skb) + skb_shinfo(skb)->gso_size +
	     (skb_vlan_tag_present(skb) ? VLAN_HLEN : 0) > DBNIC_ETH_MAX_FRAME))
		features &= ~NETIF_F_GSO_MASK;
	return features;
}

/*
 * The stack saw TX queue @qi stopped for watchdog_timeo (lost completions,
 * a queue the device stopped): count it, log the queue's state once, and
 * recover by recreating the queues from process context (reset_work).
 * Called from the watchdog timer with the TX queues locked.
 */
static void dbnic_eth_tx_timeout(struct net_device *nd, unsigned int qi)
{
	struct dbnic_eth *eth = netdev_priv(nd);
	struct dbnic_eth_qp *qp = eth->qps ? &eth->qps[qi] : NULL;
	struct netdev_queue *nq = netdev_get_tx_queue(nd, qi);
	struct dbnic_queue *q;
	unsigned long flags;

	atomic64_inc(&eth->tx_timeouts);
	if (!qp || !qp->tx.q) {
		netdev_err(nd, "TX queue %u timed out, no queue\n", qi);
		return;
	}
	q = qp->tx.q;
	spin_lock_irqsave(&q->lock, flags);
	netdev_err(nd, "TX queue %u timed out after %u ms: sq %u pi %u head %u, cq ci %u%s, posted %llu ring %llu prio, %llu completions; resetting the queues\n",
		   qi, jiffies_to_msecs(jiffies - READ_ONCE(nq->trans_start)),
		   q->sq.qid, q->sq.pi, q->sq.head, q->cq.ci,
		   q->error ? " (CQ error)" : "", q->posted_ring,
		   q->posted_prio, q->completions);
	spin_unlock_irqrestore(&q->lock, flags);
	schedule_work(&eth->reset_work);
}

/* Close and reopen a running interface: every queue pair is recreated. */
static void dbnic_eth_reset_work(struct work_struct *work)
{
	struct dbnic_eth *eth = container_of(work, struct dbnic_eth,
					     reset_work);
	struct net_device *nd = eth->netdev;

	rtnl_lock();
	if (netif_running(nd))
		dbnic_eth_reconfigure(eth, eth->nqp, eth->tx_log, eth->rx_log,
				      nd->mtu);
	rtnl_unlock();
}

static const struct net_device_ops dbnic_eth_netdev_ops = {
	.ndo_open = dbnic_eth_open,
	.ndo_stop = dbnic_eth_stop,
	.ndo_start_xmit = dbnic_eth_xmit,
	.ndo_get_stats64 = dbnic_eth_get_stats64,
	.ndo_change_mtu = dbnic_eth_change_mtu,
	.ndo_features_check = dbnic_eth_features_check,
	.ndo_tx_timeout = dbnic_eth_tx_timeout,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

/* ------------------------------------------------------------------ */
/* Link, probe and remove                                               */
/* ------------------------------------------------------------------ */

static void dbnic_eth_link_work(struct work_struct *work)
{
	struct dbnic_eth *eth = container_of(work, struct dbnic_eth,
					     link_work);
	u32 st = readl(eth->dd->ctrl + DBNIC_REG_NET_STATUS);

	if (st != U32_MAX && (st & DBNIC_NET_LINK_UP))
		netif_carrier_on(eth->netdev);
	else
		netif_carrier_off(eth->netdev);
}

/* The core's vector-0 handler: a LINK event (hard IRQ). */
static void dbnic_eth_link_event(void *priv)
{
	struct dbnic_eth *eth = priv;

	schedule_work(&eth->link_work);
}

/**
 * dbnic_eth_probe - register the netdev of a device's network port
 * @adev: the "eth" auxiliary device (the core adds it only with
 *	DBNIC_FEAT_NET, datasheet 10)
 * @id: its id table entry
 *
 * Creates the function's own context (doorbell page), reads the MAC
 * address (MAC_LO/MAC_HI) and the largest frame (NET_MAX_FRAME), and
 * registers the netdev with min(online CPUs, vectors, 4) queue pairs.
 * Queues are created on the device at open.
 *
 * Return: 0, -ENODEV (no vectors left for the function), -ENOMEM, or an
 * errno of the admin queue or of register_netdev().
 */
static int dbnic_eth_probe(struct auxiliary_device *adev,
			   const struct auxiliary_device_id *id)
{
	struct dbnic_dev *dd = dbnic_aux_dd(adev);
	struct device *dev = dbnic_to_dev(dd);
	unsigned int max_qp, max_frame;
	struct net_device *nd;
	struct dbnic_eth *eth;
	u32 lo, hi;
	u8 mac[ETH_ALEN];
	int ret;

	max_qp = min3(dd->eth_nvecs, (unsigned int)DBNIC_ETH_MAX_QP,
		      num_online_cpus());
	if (!max_qp) {
		dev_warn(dev, "no MSI-X vectors left for the network port\n");
		return -ENODEV;
	}
	nd = alloc_etherdev_mq(sizeof(*eth), max_qp);
	if (!nd)
		return -ENOMEM;
	SET_NETDEV_DEV(nd, &adev->dev);
	eth = netdev_priv(nd);
	eth->dd = dd;
	eth->netdev = nd;
	eth->max_qp = max_qp;
	eth->nqp = max_qp;
	eth->max_log = min_t(unsigned int, dd->caps.max_log_ring,
			     DBNIC_LOG_RING_MAX);
	eth->tx_log = min_t(unsigned int, DBNIC_ETH_TX_LOG, eth->max_log);
	eth->rx_log = min_t(unsigned int, DBNIC_ETH_RX_LOG, eth->max_log);
	eth->inline_prio = true;
	INIT_WORK(&eth->link_work, dbnic_eth_link_work);
	INIT_WORK(&eth->reset_work, dbnic_eth_reset_work);
	spin_lock_init(&eth->stats_lock);
	auxiliary_set_drvdata(adev, eth);

	ret = dbnic_kctx_create(dd, &eth->kc);
	if (ret) {
		dev_err(dev, "no context for the network port: %pe\n",
			ERR_PTR(ret));
		goto err_free;
	}

	lo = readl(dd->ctrl + DBNIC_REG_MAC_LO);
	hi = readl(dd->ctrl + DBNIC_REG_MAC_HI);
	mac[0] = lo;
	mac[1] = lo >> 8;
	mac[2] = lo >> 16;
	mac[3] = lo >> 24;
	mac[4] = hi;
	mac[5] = hi >> 8;
	if (is_valid_ether_addr(mac)) {
		eth_hw_addr_set(nd, mac);
	} else {
		dev_warn(dev, "invalid MAC %pM: using a random one\n", mac);
		eth_hw_addr_random(nd);
	}
	max_frame = readl(dd->ctrl + DBNIC_REG_NET_MAX_FRAME);
	if (max_frame > DBNIC_ETH_MAX_FRAME || max_frame < ETH_HLEN + ETH_MIN_MTU)
		max_frame = DBNIC_ETH_MAX_FRAME;
	nd->min_mtu = ETH_MIN_MTU;
	nd->max_mtu = min_t(unsigned int, DBNIC_ETH_MAX_MTU,
			    max_frame - ETH_HLEN - VLAN_HLEN);

	nd->netdev_ops = &dbnic_eth_netdev_ops;
	nd->watchdog_timeo = DBNIC_ETH_TX_TIMEOUT;
	nd->ethtool_ops = &dbnic_eth_ethtool_ops;
	/*
	 * The port does not filter by destination (datasheet 10.1): the stack
	 * does, so the address may change while the interface runs.
	 */
	nd->priv_flags |= IFF_LIVE_ADDR_CHANGE;
	nd->hw_features = NETIF_F_SG | NETIF_F_IP_CSUM | NETIF_F_IPV6_CSUM |
			  NETIF_F_TSO | NETIF_F_TSO6 | NETIF_F_RXCSUM |
			  NETIF_F_RXHASH | NETIF_F_HW_VLAN_CTAG_TX;
	nd->features = nd->hw_features | NETIF_F_HIGHDMA;
	nd->vlan_features = NETIF_F_SG | NETIF_F_IP_CSUM | NETIF_F_IPV6_CSUM |
			    NETIF_F_TSO | NETIF_F_TSO6;
	netif_set_tso_max_size(nd, DBNIC_ETH_MAX_TSO);
	netif_set_tso_max_segs(nd, DBNIC_ETH_MAX_TSO / DBNIC_ETH_MSS_MIN);
	netif_set_real_num_queues(nd, eth->nqp, eth->nqp);
	netif_carrier_off(nd);

	ret = register_netdev(nd);
	if (ret)
		goto err_ctx;
	dbnic_set_link_handler(dd, dbnic_eth_link_event, eth);
	schedule_work(&eth->link_work);
	netdev_info(nd, "dbnic port %pM, %u queue pairs, MTU up to %u, context %u\n",
		    nd->dev_addr, max_qp, nd->max_mtu, eth->kc.ctx);
	return 0;

err_ctx:
	dbnic_kctx_destroy(dd, &eth->kc);
err_free:
	free_netdev(nd);
	return ret;
}

/*
 * Removal, function reset and PCI errors of the core all come here
 * first, while the admin queue still runs: unregistering closes the
 * interface, which destroys every queue; the context goes last.
 */
static void dbnic_eth_remove(struct auxiliary_device *adev)
{
	struct dbnic_eth *eth = auxiliary_get_drvdata(adev);
	struct dbnic_dev *dd = eth->dd;

	dbnic_set_link_handler(dd, NULL, NULL);
	unregister_netdev(eth->netdev);
	/* After the close: an open may have scheduled it. */
	cancel_work_sync(&eth->link_work);
	/* Closed now: a reset that still runs finds nothing to reopen. */
	cancel_work_sync(&eth->reset_work);
	dbnic_kctx_destroy(dd, &eth->kc);
	free_netdev(eth->netdev);
}

static const struct auxiliary_device_id dbnic_eth_id_table[] = {
	{ .name = DBNIC_AUX_ID(DBNIC_AUX_ETH_NAME) },
	{ }
};
MODULE_DEVICE_TABLE(auxiliary, dbnic_eth_id_table);

static struct auxiliary_driver dbnic_eth_driver = {
	.name = "eth",
	.probe = dbnic_eth_probe,
	.remove = dbnic_eth_remove,
	.id_table = dbnic_eth_id_table,
};
module_auxiliary_driver(dbnic_eth_driver);

MODULE_DESCRIPTION("dbnic emulated doorbell NIC: Ethernet function");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DBNIC);
