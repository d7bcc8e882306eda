// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic RDMA function: dbnic_rdma.ko, the driver of the "rdma" auxiliary
 * device the core adds for a dbnic that reports CAP_FEATURES.RDMA
 * (datasheet section 11).  It registers one ib_device with one RoCE v2
 * port on the dbnic netdev.
 *
 * Matching.  The ib_device's parent is the PCI device, so that its
 * sysfs "device" link and modalias are the PCI function's: libibverbs
 * finds the dbnic provider by the PCI id (VERBS_PCI_MATCH), since an
 * out-of-tree driver cannot add an RDMA_DRIVER_* id; the driver id is
 * RDMA_DRIVER_UNKNOWN, on both sides.
 *
 * The port.  The eth function's netdev (its parent is the "eth"
 * auxiliary device of the same PCI device) is found with a netdevice
 * notifier, which replays the netdevs that exist when it is registered:
 * whichever of the two functions probes first, the ib_device registers
 * (from a work item, outside RTNL) once the netdev exists, and follows
 * it afterwards: ib_device_set_netdev() when it comes and goes, port
 * events when its link changes.  The core's roce_gid_mgmt fills the GID
 * table from the netdev's addresses through add_gid/del_gid (SET_GID).
 *
 * Events.  CQ_COMP of a CQ (hard IRQ, the core's vector-0 handler) calls
 * the CQ's completion handler; QP_ERR and a CQ overflow go to the
 * object's event handler, a QP's from the function's workqueue.
 */

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <net/addrconf.h>
#include <rdma/ib_addr.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_mad.h>

#include "dbnic_aux.h"
#include "dbnic_ib.h"

/* The device counters `rdma statistic` shows for the port (11.9, 2). */
static const u16 dbnic_ib_counters[] = {
	DBNIC_CNT_ROCE_TX_PKTS, DBNIC_CNT_ROCE_TX_INLINE,
	DBNIC_CNT_ROCE_TX_DROP, DBNIC_CNT_ROCE_LOOPBACK,
	DBNIC_CNT_ROCE_RX_PKTS, DBNIC_CNT_ROCE_RX_BAD_HDR,
	DBNIC_CNT_ROCE_RX_BAD_ICRC, DBNIC_CNT_ROCE_RX_NO_QP,
	DBNIC_CNT_ROCE_RX_QKEY, DBNIC_CNT_ROCE_RX_NOBUF,
	DBNIC_CNT_ROCE_RX_DUP, DBNIC_CNT_ROCE_RX_SEQ,
	DBNIC_CNT_ROCE_RX_RKEY, DBNIC_CNT_ROCE_ACK_TX,
	DBNIC_CNT_ROCE_NAK_TX, DBNIC_CNT_ROCE_RNR_NAK_TX,
	DBNIC_CNT_ROCE_ACK_RX, DBNIC_CNT_ROCE_NAK_RX,
	DBNIC_CNT_ROCE_READ_RESP_TX, DBNIC_CNT_ROCE_QP_ERR,
	/* RC reliability (11.10). */
	DBNIC_CNT_ROCE_RETX_PKTS, DBNIC_CNT_ROCE_RETRY_TIMEOUT,
	DBNIC_CNT_ROCE_RETRY_SEQ, DBNIC_CNT_ROCE_RNR_WAIT,
	DBNIC_CNT_ROCE_RETRY_EXC, DBNIC_CNT_ROCE_RNR_RETRY_EXC,
	/* The emulated port's fault injection (11.11). */
	DBNIC_CNT_ROCE_FAULT_RX_DROP, DBNIC_CNT_ROCE_FAULT_RX_DUP,
	DBNIC_CNT_ROCE_FAULT_RX_REORDER, DBNIC_CNT_ROCE_FAULT_RX_DELAY,
	DBNIC_CNT_ROCE_FAULT_RX_CORRUPT, DBNIC_CNT_ROCE_FAULT_TX_DROP,
	DBNIC_CNT_ROCE_FAULT_TX_DUP, DBNIC_CNT_ROCE_FAULT_TX_REORDER,
	DBNIC_CNT_ROCE_FAULT_TX_DELAY, DBNIC_CNT_ROCE_FAULT_TX_CORRUPT,
	DBNIC_CNT_ROCE_FAULT_HOLD_FULL,
	/* Which path each WQE took (datasheet 3, 11.3). */
	DBNIC_CNT_RING_FETCH, DBNIC_CNT_PRIO_EXEC, DBNIC_CNT_RING_SKIP,
	DBNIC_CNT_PRIO_FALLBACK, DBNIC_CNT_PRIO_TORN, DBNIC_CNT_PRIO_STALE,
	DBNIC_CNT_DB_NOT_OWNER, DBNIC_CNT_DB_BAD,
};

static struct rdma_stat_desc dbnic_ib_stat_descs[ARRAY_SIZE(dbnic_ib_counters)];

/* ------------------------------------------------------------------ */
/* Device and port queries                                              */
/* ------------------------------------------------------------------ */

static int dbnic_ib_query_device(struct ib_device *ibdev,
				 struct ib_device_attr *attr,
				 struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibdev);
	struct dbnic_caps *c = &ibd->dd->caps;
	struct pci_dev *pdev = ibd->dd->pdev;

	if (udata && udata->inlen &&
	    !ib_is_udata_cleared(udata, 0, udata->inlen))
		return -EINVAL;
	memset(attr, 0, sizeof(*attr));
	attr->sys_image_guid = ibdev->node_guid;
	attr->max_mr_size = (u64)DBNIC_MR_MAX_PAGES << PAGE_SHIFT;
	attr->page_size_cap = GENMASK_ULL(DBNIC_MR_PAGE_SHIFT_MAX,
					  DBNIC_MR_PAGE_SHIFT_MIN);
	attr->vendor_id = pdev->vendor;
	attr->vendor_part_id = pdev->device;
	attr->hw_ver = pdev->revision;
	attr->max_qp = c->max_qp;
	attr->max_qp_wr = 1 << ibd->max_log_ring;
	attr->device_cap_flags = IB_DEVICE_RC_RNR_NAK_GEN;
	attr->kernel_cap_flags = IBK_LOCAL_DMA_LKEY;
	attr->max_send_sge = DBNIC_RDMA_MAX_SGE;
	attr->max_recv_sge = DBNIC_IB_MAX_RECV_SGE;
	attr->max_sge_rd = DBNIC_RDMA_MAX_SGE;
	attr->max_cq = c->max_cq;
	/* A CQ's ring is twice its depth (dbnic_ib_create_cq()). */
	attr->max_cqe = 1 << (ibd->max_log_ring - 1);
	attr->max_mr = readl(ibd->dd->ctrl + DBNIC_REG_CAP_MRS);
	attr->max_pd = INT_MAX;
	attr->max_qp_rd_atom = c->max_rd_atomic;
	attr->max_qp_init_rd_atom = c->max_rd_atomic;
	attr->max_res_rd_atom = c->max_qp * c->max_rd_atomic;
	attr->atomic_cap = IB_ATOMIC_NONE;
	attr->max_ah = c->max_ah;
	attr->max_pkeys = 1;
	attr->local_ca_ack_delay = 15;
	return 0;
}

/* The port's netdev, with a reference; or NULL. */
static struct net_device *dbnic_ib_netdev(struct dbnic_ib_dev *ibd)
{
	return ib_device_get_netdev(&ibd->ibdev, DBNIC_IB_PORT);
}

static bool dbnic_ib_link_up(struct net_device *ndev)
{
	return ndev && netif_running(ndev) && netif_carrier_ok(ndev);
}

static int dbnic_ib_query_port(struct ib_device *ibdev, u32 port,
			       struct ib_port_attr *attr)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibdev);
	struct net_device *ndev;

	attr->gid_tbl_len = ibd->dd->caps.gids;
	attr->pkey_tbl_len = 1;
	attr->port_cap_flags = IB_PORT_CM_SUP;
	attr->max_msg_sz = DBNIC_MAX_XFER;
	attr->max_mtu = min_t(int, ibd->dd->caps.max_mtu, IB_MTU_4096);
	attr->active_mtu = IB_MTU_256;
	attr->state = IB_PORT_DOWN;
	attr->phys_state = IB_PORT_PHYS_STATE_DISABLED;

	attr->active_speed = IB_SPEED_SDR;
	attr->active_width = IB_WIDTH_1X;

	ndev = dbnic_ib_netdev(ibd);
	/* Without its netdev (the eth function unbound) the port is down. */
	if (!ndev)
		return 0;
	attr->active_mtu = min(iboe_get_mtu(READ_ONCE(ndev->mtu)),
			       attr->max_mtu);
	if (dbnic_ib_link_up(ndev)) {
		attr->state = IB_PORT_ACTIVE;
		attr->phys_state = IB_PORT_PHYS_STATE_LINK_UP;
	}
	dev_put(ndev);
	return ib_get_eth_speed(ibdev, port, &attr->active_speed,
				&attr->active_width);
}

static enum rdma_link_layer
dbnic_ib_get_link_layer(struct ib_device *ibdev, u32 port)
{
	return IB_LINK_LAYER_ETHERNET;
}

static int dbnic_ib_get_port_immutable(struct ib_device *ibdev, u32 port,
				       struct ib_port_immutable *immutable)
{
	immutable->pkey_tbl_len = 1;
	immutable->gid_tbl_len = to_dbnic_ib(ibdev)->dd->caps.gids;
	/* RoCE v2 only: the device sends and takes UDP 4791 (11.8). */
	immutable->core_cap_flags = RDMA_CORE_PORT_IBA_ROCE_UDP_ENCAP;
	immutable->max_mad_size = IB_MGMT_MAD_SIZE;
	return 0;
}

static int dbnic_ib_query_pkey(struct ib_device *ibdev, u32 port, u16 index,
			       u16 *pkey)
{
	if (index)
		return -EINVAL;
	*pkey = DBNIC_IB_PKEY;
	return 0;
}

/* The core keeps the GID table; the device gets a copy (SET_GID, 11.2). */
static int dbnic_ib_add_gid(const struct ib_gid_attr *attr, void **context)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(attr->device);
	u16 vlan;
	u8 net;
	int ret;

	if (attr->gid_type != IB_GID_TYPE_ROCE_UDP_ENCAP)
		return -EINVAL;
	ret = rdma_read_gid_l2_fields(attr, &vlan, NULL);
	if (ret)
		return ret;
	net = rdma_gid_attr_network_type(attr) == RDMA_NETWORK_IPV4 ?
	      DBNIC_NET_IPV4 : DBNIC_NET_IPV6;
	return dbnic_admin_set_gid(ibd->dd, ibd->kctx.ctx, attr->index,
				   attr->gid.raw, net,
				   vlan < VLAN_N_VID ? vlan : DBNIC_VLAN_NONE);
}

static int dbnic_ib_del_gid(const struct ib_gid_attr *attr, void **context)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(attr->device);
	u8 zero[16] = {};

	return dbnic_admin_set_gid(ibd->dd, ibd->kctx.ctx, attr->index, zero,
				   0, DBNIC_VLAN_NONE);
}

/* ------------------------------------------------------------------ */
/* Counters                                                             */
/* ------------------------------------------------------------------ */

static struct rdma_hw_stats *dbnic_ib_alloc_hw_port_stats(struct ib_device *ibdev,
							  u32 port)
{
	return rdma_alloc_hw_stats_struct(dbnic_ib_stat_descs,
					  ARRAY_SIZE(dbnic_ib_stat_descs),
					  RDMA_HW_STATS_DEFAULT_LIFESPAN);
}

/* The device's counters are the port's: it has one (datasheet 11.9). */
static int dbnic_ib_get_hw_stats(struct ib_device *ibdev,
				 struct rdma_hw_stats *stats, u32 port,
				 int index)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibdev);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dbnic_ib_counters); i++)
		stats->value[i] = dbnic_read_counter(ibd->dd,
						     dbnic_ib_counters[i]);
	return ARRAY_SIZE(dbnic_ib_counters);
}

/*
 * The core destroys the objects of a process whose device goes; the
 * mappings of BAR 2 it revokes itself (rdma_user_mmap_io()), and a ring
 * still mapped keeps its own pages.  Nothing else to do.
 */
static void dbnic_ib_disassociate_ucontext(struct ib_ucontext *ibuc)
{
}

static const struct ib_device_ops dbnic_ib_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_UNKNOWN,
	.uverbs_abi_ver = DBNIC_UVERBS_ABI_VERSION,

	.add_gid = dbnic_ib_add_gid,
	.alloc_hw_port_stats = dbnic_ib_alloc_hw_port_stats,
	.alloc_pd = dbnic_ib_alloc_pd,
	.alloc_ucontext = dbnic_ib_alloc_ucontext,
	.create_ah = dbnic_ib_create_ah,
	.create_cq = dbnic_ib_create_cq,
	.create_qp = dbnic_ib_create_qp,
	.create_user_ah = dbnic_ib_create_ah,
	.dealloc_pd = dbnic_ib_dealloc_pd,
	.dealloc_ucontext = dbnic_ib_dealloc_ucontext,
	.del_gid = dbnic_ib_del_gid,
	.dereg_mr = dbnic_ib_dereg_mr,
	.destroy_ah = dbnic_ib_destroy_ah,
	.destroy_cq = dbnic_ib_destroy_cq,
	.destroy_qp = dbnic_ib_destroy_qp,
	.disassociate_ucontext = dbnic_ib_disassociate_ucontext,
	.get_dma_mr = dbnic_ib_get_dma_mr,
	.get_hw_stats = dbnic_ib_get_hw_stats,
	.get_link_layer = dbnic_ib_get_link_layer,
	.get_port_immutable = dbnic_ib_get_port_immutable,
	.mmap = dbnic_ib_mmap,
	.mmap_free = dbnic_ib_mmap_free,
	.modify_qp = dbnic_ib_modify_qp,
	.poll_cq = dbnic_ib_poll_cq,
	.post_recv = dbnic_ib_post_recv,
	.post_send = dbnic_ib_post_send,
	.query_device = dbnic_ib_query_device,
	.query_pkey = dbnic_ib_query_pkey,
	.query_port = dbnic_ib_query_port,
	.query_qp = dbnic_ib_query_qp,
	.reg_user_mr = dbnic_ib_reg_user_mr,
	.req_notify_cq = dbnic_ib_req_notify_cq,

	INIT_RDMA_OBJ_SIZE(ib_ah, dbnic_ib_ah, ibah),
	INIT_RDMA_OBJ_SIZE(ib_cq, dbnic_ib_cq, ibcq),
	INIT_RDMA_OBJ_SIZE(ib_pd, dbnic_ib_pd, ibpd),
	INIT_RDMA_OBJ_SIZE(ib_qp, dbnic_ib_qp, ibqp),
	INIT_RDMA_OBJ_SIZE(ib_ucontext, dbnic_ib_ucontext, ibuc),
};

/* ------------------------------------------------------------------ */
/* Events of the device (hard IRQ)                                      */
/* ------------------------------------------------------------------ */

static void dbnic_ib_cq_event(struct dbnic_ib_cq *cq, enum ib_event_type type)
{
	struct ib_event ev = {
		.device = cq->ibcq.device,
		.event = type,
		.element.cq = &cq->ibcq,
	};

	if (cq->ibcq.event_handler)
		cq->ibcq.event_handler(&ev, cq->ibcq.cq_context);
}

/*
 * The core's vector-0 handler, under its rdma_lock: CQ_COMP, QP_ERR, and
 * CQ_OVERFLOW of a CQ that is not a kernel queue's.  An object is in the
 * xarrays from its creation until its destroy, which waits for this
 * handler (synchronize_irq()) before it goes.
 */
static bool dbnic_ib_event(void *priv, u8 type, u32 object, u32 data)
{
	struct dbnic_ib_dev *ibd = priv;
	struct dbnic_ib_cq *cq;
	struct dbnic_ib_qp *qp;

	switch (type) {
	case DBNIC_AERR_CQ_COMP:
		cq = xa_load(&ibd->cqs, object);
		if (!cq)
			return false;
		if (cq->ibcq.comp_handler)
			cq->ibcq.comp_handler(&cq->ibcq, cq->ibcq.cq_context);
		return true;
	case DBNIC_AERR_CQ_OVERFLOW:
		cq = xa_load(&ibd->cqs, object);
		if (!cq)
			return false;
		dev_warn_ratelimited(&ibd->ibdev.dev, "CQ %u in error (%s)\n",
				     object, data == DBNIC_CQ_ERR_WRITE ?
				     "write fault" : "overflow");
		dbnic_ib_cq_event(cq, IB_EVENT_CQ_ERR);
		return true;
	case DBNIC_AERR_QP_ERR:
		qp = xa_load(&ibd->qps, object);
		if (!qp)
			return false;
		WRITE_ONCE(qp->err_status, data);
		queue_work(ibd->wq, &qp->err_work);
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ */
/* The port's netdev                                                    */
/* ------------------------------------------------------------------ */

/* The eth function of our PCI device: "dbnic_core.eth.<id>" is its parent. */
static bool dbnic_ib_is_our_netdev(struct dbnic_ib_dev *ibd,
				   struct net_device *ndev)
{
	static const char prefix[] = "dbnic_core." DBNIC_AUX_ETH_NAME ".";
	struct device *parent = ndev->dev.parent;

	return parent && parent->parent == dbnic_to_dev(ibd->dd) &&
	       !strncmp(dev_name(parent), prefix, sizeof(prefix) - 1);
}

/* Tell the port's users a link change, once per change.  Under RTNL. */
static void dbnic_ib_port_update(struct dbnic_ib_dev *ibd)
{
	struct ib_event ev = {
		.device = &ibd->ibdev,
		.element.port_num = DBNIC_IB_PORT,
	};
	bool up = dbnic_ib_link_up(ibd->netdev);

	ASSERT_RTNL();
	if (!READ_ONCE(ibd->registered) || up == ibd->port_active)
		return;
	ibd->port_active = up;
	ev.event = up ? IB_EVENT_PORT_ACTIVE : IB_EVENT_PORT_ERR;
	ib_dispatch_event(&ev);
}

static int dbnic_ib_netdev_event(struct notifier_block *nb,
				 unsigned long event, void *ptr)
{
	struct dbnic_ib_dev *ibd = container_of(nb, struct dbnic_ib_dev, nb);
	struct net_device *ndev = netdev_notifier_info_to_dev(ptr);

	switch (event) {
	case NETDEV_REGISTER:
		if (ibd->netdev || !dbnic_ib_is_our_netdev(ibd, ndev))
			break;
		netdev_hold(ndev, &ibd->netdev_tracker, GFP_KERNEL);
		ibd->netdev = ndev;
		/* Before registration the work item names it. */
		if (READ_ONCE(ibd->registered))
			ib_device_set_netdev(&ibd->ibdev, ndev, DBNIC_IB_PORT);
		else
			queue_work(ibd->wq, &ibd->reg_work);
		dbnic_ib_port_update(ibd);
		break;
	case NETDEV_UNREGISTER:
		if (ndev != ibd->netdev)
			break;
		/* The core must not name it past this event. */
		ib_device_set_netdev(&ibd->ibdev, NULL, DBNIC_IB_PORT);
		ibd->netdev = NULL;
		netdev_put(ndev, &ibd->netdev_tracker);
		dbnic_ib_port_update(ibd);
		break;
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		if (ndev == ibd->netdev)
			dbnic_ib_port_update(ibd);
		break;
	}
	return NOTIFY_DONE;
}

static void dbnic_ib_node_guid(struct dbnic_ib_dev *ibd)
{
	u32 lo = readl(ibd->dd->ctrl + DBNIC_REG_MAC_LO);
	u32 hi = readl(ibd->dd->ctrl + DBNIC_REG_MAC_HI);
	u8 mac[ETH_ALEN] = { lo, lo >> 8, lo >> 16, lo >> 24, hi, hi >> 8 };

	addrconf_addr_eui48((u8 *)&ibd->ibdev.node_guid, mac);
}

/*
 * Register the ib_device once the netdev exists (from the notifier, or
 * at once for a netdev that existed before this driver).  Outside RTNL:
 * registering takes it.
 */
static void dbnic_ib_reg_work(struct work_struct *work)
{
	struct dbnic_ib_dev *ibd = container_of(work, struct dbnic_ib_dev,
						reg_work);
	int ret;

	mutex_lock(&ibd->reg_lock);
	/* A device whose registration failed is not registered again. */
	if (ibd->registered || ibd->reg_failed)
		goto out;
	rtnl_lock();
	/* It may have gone already: then the next REGISTER queues us again. */
	if (!ibd->netdev) {
		rtnl_unlock();
		goto out;
	}
	ret = ib_device_set_netdev(&ibd->ibdev, ibd->netdev, DBNIC_IB_PORT);
	rtnl_unlock();
	if (ret)
		goto err;
	ret = ib_register_device(&ibd->ibdev, "dbnic%d",
				 dbnic_to_dev(ibd->dd));
	if (ret)
		goto err;
	rtnl_lock();
	WRITE_ONCE(ibd->registered, true);
	/* The netdev may have changed while registering. */
	ib_device_set_netdev(&ibd->ibdev, ibd->netdev, DBNIC_IB_PORT);
	ibd->port_active = dbnic_ib_link_up(ibd->netdev);
	rtnl_unlock();
	dev_info(&ibd->ibdev.dev, "RoCE v2 port on %s\n",
		 ibd->netdev ? netdev_name(ibd->netdev) : "(gone)");
	goto out;
err:
	ibd->reg_failed = true;
	dev_err(dbnic_to_dev(ibd->dd), "no ib_device: %pe\n", ERR_PTR(ret));
out:
	mutex_unlock(&ibd->reg_lock);
}

/* ------------------------------------------------------------------ */
/* Probe and remove                                                     */
/* ------------------------------------------------------------------ */

/**
 * dbnic_rdma_probe - bring up the RDMA function of a device
 * @adev: the "rdma" auxiliary device (added only with DBNIC_FEAT_RDMA)
 * @id: its id table entry
 *
 * Creates the function's kernel context (PRIVILEGED: key 0 is its
 * local_dma_lkey, and the GSI QP needs it), takes the device's RDMA
 * events and watches for the netdev; the ib_device registers when that
 * exists.
 *
 * Return: 0, -ENODEV (no event queue for CQ_COMP, no network port, pages
 * larger than a doorbell page's halves), -ENOMEM, or an errno of the
 * admin queue.
 */
static int dbnic_rdma_probe(struct auxiliary_device *adev,
			    const struct auxiliary_device_id *id)
{
	struct dbnic_dev *dd = dbnic_aux_dd(adev);
	struct device *dev = dbnic_to_dev(dd);
	struct dbnic_ib_dev *ibd;
	int ret;

	if (!(dd->caps.features & DBNIC_FEAT_EQ) ||
	    !(dd->caps.features & DBNIC_FEAT_NET) ||
	    DBNIC_DB_REGION_SIZE % PAGE_SIZE ||
	    DBNIC_PRIO_AREA_SIZE % PAGE_SIZE || !dd->caps.max_qp) {
		dev_info(dev, "no RDMA function: the device lacks an event queue or its port, or pages are larger than 4 KiB\n");
		return -ENODEV;
	}
	ibd = ib_alloc_device(dbnic_ib_dev, ibdev);
	if (!ibd)
		return -ENOMEM;
	ibd->dd = dd;
	ibd->adev = adev;
	ibd->db_base = pci_resource_start(dd->pdev, DBNIC_BAR_DB);
	ibd->max_log_ring = min_t(unsigned int, dd->caps.max_log_ring,
				  DBNIC_LOG_RING_MAX);
	mutex_init(&ibd->reg_lock);
	INIT_WORK(&ibd->reg_work, dbnic_ib_reg_work);
	ida_init(&ibd->pd_ida);
	spin_lock_init(&ibd->uctx_lock);
	INIT_LIST_HEAD(&ibd->uctxs);
	xa_init(&ibd->cqs);
	xa_init(&ibd->qps);
	xa_init(&ibd->qids);
	spin_lock_init(&ibd->ah_lock);
	INIT_LIST_HEAD(&ibd->dqps);
	ibd->wq = alloc_ordered_workqueue("dbnic_rdma.%d", 0, adev->id);
	ibd->ah_wq = alloc_ordered_workqueue("dbnic_rdma_ah.%d", 0, adev->id);
	if (!ibd->wq || !ibd->ah_wq) {
		ret = -ENOMEM;
		goto err_wq;
	}
	ret = dbnic_kctx_create(dd, &ibd->kctx);
	if (ret)
		goto err_wq;
	if (dd->caps.features & DBNIC_FEAT_PRIORITY)
		ibd->prio_slots = min_t(unsigned int, dd->caps.prio_slots,
					DBNIC_PRIO_SLOTS);

	ibd->ibdev.node_type = RDMA_NODE_IB_CA;
	ibd->ibdev.phys_port_cnt = 1;
	ibd->ibdev.num_comp_vectors = 1;
	ibd->ibdev.local_dma_lkey = 0;
	ibd->ibdev.dev.parent = dev;
	strscpy(ibd->ibdev.node_desc, "dbnic RoCE v2",
		sizeof(ibd->ibdev.node_desc));
	dbnic_ib_node_guid(ibd);
	ib_set_device_ops(&ibd->ibdev, &dbnic_ib_ops);

	auxiliary_set_drvdata(adev, ibd);
	dbnic_set_rdma_event_handler(dd, dbnic_ib_event, ibd);
	ibd->nb.notifier_call = dbnic_ib_netdev_event;
	ret = register_netdevice_notifier(&ibd->nb);
	if (ret)
		goto err_handler;
	return 0;

err_handler:
	dbnic_set_rdma_event_handler(dd, NULL, NULL);
	dbnic_kctx_destroy(dd, &ibd->kctx);
err_wq:
	if (ibd->ah_wq)
		destroy_workqueue(ibd->ah_wq);
	if (ibd->wq)
		destroy_workqueue(ibd->wq);
	ib_dealloc_device(&ibd->ibdev);
	return ret;
}

/*
 * Unregistering destroys every object, processes' too (disassociate),
 * before it returns; then nothing of the function is left on the device
 * but its kernel context.
 */
static void dbnic_rdma_remove(struct auxiliary_device *adev)
{
	struct dbnic_ib_dev *ibd = auxiliary_get_drvdata(adev);
	struct dbnic_dev *dd = ibd->dd;

	/* Replays UNREGISTER for our netdev: its reference goes. */
	unregister_netdevice_notifier(&ibd->nb);
	cancel_work_sync(&ibd->reg_work);
	if (ibd->registered)
		ib_unregister_device(&ibd->ibdev);
	ibd->registered = false;
	dbnic_set_rdma_event_handler(dd, NULL, NULL);
	/* AH creates and destroys, QP events, while the admin queue runs. */
	destroy_workqueue(ibd->ah_wq);
	destroy_workqueue(ibd->wq);
	dbnic_kctx_destroy(dd, &ibd->kctx);
	WARN_ON(!xa_empty(&ibd->cqs) || !xa_empty(&ibd->qps));
	ida_destroy(&ibd->pd_ida);
	mutex_destroy(&ibd->reg_lock);
	ib_dealloc_device(&ibd->ibdev);
}

static const struct auxiliary_device_id dbnic_rdma_ids[] = {
	{ .name = DBNIC_AUX_ID(DBNIC_AUX_RDMA_NAME) },
	{ }
};
MODULE_DEVICE_TABLE(auxiliary, dbnic_rdma_ids);

static struct auxiliary_driver dbnic_rdma_driver = {
	.name = "rdma",
	.probe = dbnic_rdma_probe,
	.remove = dbnic_rdma_remove,
	.id_table = dbnic_rdma_ids,
};

static int __init dbnic_rdma_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dbnic_ib_counters); i++)
		dbnic_ib_stat_descs[i].name =
			dbnic_counter_name(dbnic_ib_counters[i]);
	return auxiliary_driver_register(&dbnic_rdma_driver);
}
module_init(dbnic_rdma_init);

static void __exit dbnic_rdma_exit(void)
{
	auxiliary_driver_unregister(&dbnic_rdma_driver);
}
module_exit(dbnic_rdma_exit);

MODULE_DESCRIPTION("dbnic RDMA function: RoCE v2 ib_device (auxiliary driver of dbnic_core)");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DBNIC);
