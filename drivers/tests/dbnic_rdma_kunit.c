// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite of the RDMA function on a running device: an RC queue pair
 * looped back on the port's own GID (datasheet 11.8: a packet to the
 * port's own MAC goes back into its receive path), through the kernel's
 * verbs only (ib_post_send, ib_post_recv, ib_poll_cq), as a ULP uses them.
 *
 * Needs a dbnic with RDMA (dbnic0) whose netdev has an address (a RoCE v2
 * GID); skipped otherwise.  A module of its own (drivers/Kbuild), loaded
 * by tests/guest/kunit.sh after dbnic_rdma.ko and an address on the
 * netdev, so the suite's results join the others'.
 *
 * RDMA WRITE and READ need an rkey: the driver offers kernel users no
 * memory registration but key 0 (local only), so the test registers its
 * buffer itself on the function's kernel context, in the QPs' pd.
 */

#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>

#include "dbnic_ib.h"

#define RK_DEV		"dbnic0"
#define RK_BUF		4096
#define RK_WR		16
#define RK_POLL_MS	2000

struct rk {
	struct kunit *test;
	struct ib_device *dev;
	struct dbnic_ib_dev *ibd;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp[2];
	const struct ib_gid_attr *gid;
	u8 *buf;			/* RK_BUF bytes per QP */
	u64 dma;
	u32 rkey;			/* of buf, remote read and write */
	__le64 *list;			/* its page list */
	dma_addr_t list_dma;
	size_t list_bytes;
};

/* A RoCE v2 GID of the port: the loopback's source and destination. */
static const struct ib_gid_attr *rk_gid(struct ib_device *dev)
{
	const struct ib_gid_attr *attr;
	unsigned int i;

	for (i = 0; i < dev->port_data[1].immutable.gid_tbl_len; i++) {
		attr = rdma_get_gid_attr(dev, 1, i);
		if (IS_ERR(attr))
			continue;
		if (attr->gid_type == IB_GID_TYPE_ROCE_UDP_ENCAP)
			return attr;
		rdma_put_gid_attr(attr);
	}
	return NULL;
}

static void rk_modify(struct rk *r, struct ib_qp *qp, u32 dest_qpn)
{
	struct kunit *test = r->test;
	struct ib_qp_attr a = {};
	union ib_gid dgid = r->gid->gid;
	u16 vlan;
	u8 mac[ETH_ALEN];

	a.qp_state = IB_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_WRITE;
	KUNIT_ASSERT_EQ(test, ib_modify_qp(qp, &a, IB_QP_STATE |
					   IB_QP_PKEY_INDEX | IB_QP_PORT |
					   IB_QP_ACCESS_FLAGS), 0);

	memset(&a, 0, sizeof(a));
	a.qp_state = IB_QPS_RTR;
	a.path_mtu = IB_MTU_1024;
	a.dest_qp_num = dest_qpn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.type = RDMA_AH_ATTR_TYPE_ROCE;
	rdma_ah_set_port_num(&a.ah_attr, 1);
	rdma_ah_set_grh(&a.ah_attr, &dgid, 0, r->gid->index, 64, 0);
	/* Loopback: the next hop is the port itself. */
	KUNIT_ASSERT_EQ(test, rdma_read_gid_l2_fields(r->gid, &vlan, mac), 0);
	memcpy(a.ah_attr.roce.dmac, mac, ETH_ALEN);
	KUNIT_ASSERT_EQ(test, ib_modify_qp(qp, &a, IB_QP_STATE | IB_QP_AV |
					   IB_QP_PATH_MTU | IB_QP_DEST_QPN |
					   IB_QP_RQ_PSN |
					   IB_QP_MAX_DEST_RD_ATOMIC |
					   IB_QP_MIN_RNR_TIMER), 0);

	memset(&a, 0, sizeof(a));
	a.qp_state = IB_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	KUNIT_ASSERT_EQ(test, ib_modify_qp(qp, &a, IB_QP_STATE | IB_QP_SQ_PSN |
					   IB_QP_TIMEOUT | IB_QP_RETRY_CNT |
					   IB_QP_RNR_RETRY |
					   IB_QP_MAX_QP_RD_ATOMIC), 0);
}

/* Register buf with remote rights in the pd, on the kernel context. */
static void rk_reg(struct rk *r)
{
	struct kunit *test = r->test;
	struct device *dev = dbnic_to_dev(r->ibd->dd);
	u32 npages = DIV_ROUND_UP(2 * RK_BUF, PAGE_SIZE), i;

	r->list_bytes = npages * sizeof(*r->list);
	r->list = dma_alloc_coherent(dev, r->list_bytes, &r->list_dma,
				     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r->list);
	for (i = 0; i < npages; i++)
		r->list[i] = cpu_to_le64(r->dma + i * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test,
			dbnic_admin_reg_mr_pd(r->ibd->dd, r->ibd->kctx.ctx,
					      to_dbnic_pd(r->pd)->tag, r->dma,
					      2 * RK_BUF, r->list_dma, npages,
					      PAGE_SHIFT, DBNIC_MR_ACCESS_ALL,
					      &r->rkey, NULL), 0);
}

static int rk_init(struct kunit *test)
{
	struct ib_qp_init_attr init = {};
	struct rk *r;
	int i;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	test->priv = r;
	r->test = test;
	r->dev = ib_device_get_by_name(RK_DEV, RDMA_DRIVER_UNKNOWN);
	if (!r->dev)
		kunit_skip(test, "no " RK_DEV);
	r->ibd = to_dbnic_ib(r->dev);
	r->gid = rk_gid(r->dev);
	if (!r->gid)
		kunit_skip(test, "no RoCE v2 GID on " RK_DEV);
	r->pd = ib_alloc_pd(r->dev, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(r->pd));
	r->cq = ib_alloc_cq(r->dev, NULL, 4 * RK_WR, 0, IB_POLL_DIRECT);
	KUNIT_ASSERT_FALSE(test, IS_ERR(r->cq));
	init.send_cq = r->cq;
	init.recv_cq = r->cq;
	init.qp_type = IB_QPT_RC;
	init.sq_sig_type = IB_SIGNAL_REQ_WR;
	init.cap.max_send_wr = RK_WR;
	init.cap.max_recv_wr = RK_WR;
	init.cap.max_send_sge = 2;
	init.cap.max_recv_sge = 2;
	for (i = 0; i < 2; i++) {
		r->qp[i] = ib_create_qp(r->pd, &init);
		KUNIT_ASSERT_FALSE(test, IS_ERR(r->qp[i]));
	}
	rk_modify(r, r->qp[0], r->qp[1]->qp_num);
	rk_modify(r, r->qp[1], r->qp[0]->qp_num);

	r->buf = kzalloc(2 * RK_BUF, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r->buf);
	r->dma = ib_dma_map_single(r->dev, r->buf, 2 * RK_BUF,
				   DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_FALSE(test, ib_dma_mapping_error(r->dev, r->dma));
	rk_reg(r);
	return 0;
}

static void rk_exit(struct kunit *test)
{
	struct rk *r = test->priv;
	int i;

	if (!r || !r->dev)
		return;
	for (i = 0; i < 2; i++)
		if (!IS_ERR_OR_NULL(r->qp[i]))
			ib_destroy_qp(r->qp[i]);
	if (r->rkey)
		dbnic_admin_destroy(r->ibd->dd, DBNIC_ADM_DEREG_MR, r->rkey);
	if (r->list)
		dma_free_coherent(dbnic_to_dev(r->ibd->dd), r->list_bytes,
				  r->list, r->list_dma);
	if (r->buf) {
		ib_dma_unmap_single(r->dev, r->dma, 2 * RK_BUF,
				    DMA_BIDIRECTIONAL);
		kfree(r->buf);
	}
	if (!IS_ERR_OR_NULL(r->cq))
		ib_free_cq(r->cq);
	if (!IS_ERR_OR_NULL(r->pd))
		ib_dealloc_pd(r->pd);
	if (r->gid)
		rdma_put_gid_attr(r->gid);
	ib_device_put(r->dev);
}

/* Take @n completions, in any order, within RK_POLL_MS. */
static void rk_poll(struct rk *r, struct ib_wc *wc, int n)
{
	unsigned long end = jiffies + msecs_to_jiffies(RK_POLL_MS);
	int got = 0;

	while (got < n && time_before(jiffies, end)) {
		int k = ib_poll_cq(r->cq, n - got, wc + got);

		KUNIT_ASSERT_GE(r->test, k, 0);
		got += k;
		if (!k)
			usleep_range(100, 200);
	}
	KUNIT_ASSERT_EQ_MSG(r->test, got, n, "completions");
}

/* The two completions of one message, sender's first. */
static void rk_pair(struct rk *r, struct ib_wc *s, struct ib_wc *rx)
{
	struct ib_wc wc[2];

	rk_poll(r, wc, 2);
	if (wc[0].qp == r->qp[0]) {
		*s = wc[0];
		*rx = wc[1];
	} else {
		*s = wc[1];
		*rx = wc[0];
	}
}

static void rk_post_recv(struct rk *r, u64 addr, u32 len, u64 id)
{
	struct ib_sge sge = { .addr = addr, .length = len,
			      .lkey = r->pd->local_dma_lkey };
	struct ib_recv_wr wr = { .wr_id = id, .sg_list = &sge,
				 .num_sge = len ? 1 : 0 };

	KUNIT_ASSERT_EQ(r->test, ib_post_recv(r->qp[1], &wr, NULL), 0);
}

/* SEND_WITH_IMM from QP 0's half of buf into QP 1's half. */
static void rdma_kunit_send_imm(struct kunit *test)
{
	struct rk *r = test->priv;
	struct ib_sge sge = { .addr = r->dma, .length = 3000,
			      .lkey = r->pd->local_dma_lkey };
	struct ib_send_wr wr = {
		.wr_id = 7, .sg_list = &sge, .num_sge = 1,
		.opcode = IB_WR_SEND_WITH_IMM, .send_flags = IB_SEND_SIGNALED,
		.ex.imm_data = cpu_to_be32(0x12345678),
	};
	struct ib_wc s, rx;

	memset(r->buf, 0xa5, 3000);
	rk_post_recv(r, r->dma + RK_BUF, RK_BUF, 9);
	KUNIT_ASSERT_EQ(test, ib_post_send(r->qp[0], &wr, NULL), 0);
	rk_pair(r, &s, &rx);
	KUNIT_EXPECT_EQ(test, s.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, s.wr_id, 7);
	KUNIT_EXPECT_EQ(test, s.opcode, IB_WC_SEND);
	KUNIT_EXPECT_EQ(test, rx.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, rx.wr_id, 9);
	KUNIT_EXPECT_EQ(test, rx.opcode, IB_WC_RECV);
	KUNIT_EXPECT_EQ(test, rx.byte_len, 3000);
	KUNIT_EXPECT_TRUE(test, rx.wc_flags & IB_WC_WITH_IMM);
	KUNIT_EXPECT_EQ(test, be32_to_cpu(rx.ex.imm_data), 0x12345678);
	KUNIT_EXPECT_EQ(test, memcmp(r->buf, r->buf + RK_BUF, 3000), 0);
}

/* RDMA_WRITE_WITH_IMM: the data by rkey, the immediate in a 0-SGE RECV. */
static void rdma_kunit_write_imm(struct kunit *test)
{
	struct rk *r = test->priv;
	struct ib_sge sge = { .addr = r->dma, .length = 2500,
			      .lkey = r->pd->local_dma_lkey };
	struct ib_rdma_wr wr = {
		.wr = { .wr_id = 11, .sg_list = &sge, .num_sge = 1,
			.opcode = IB_WR_RDMA_WRITE_WITH_IMM,
			.send_flags = IB_SEND_SIGNALED,
			.ex.imm_data = cpu_to_be32(0xcafe) },
		.remote_addr = r->dma + RK_BUF + 100,
		.rkey = r->rkey,
	};
	struct ib_wc s, rx;

	memset(r->buf, 0x3c, 2500);
	memset(r->buf + RK_BUF, 0, RK_BUF);
	rk_post_recv(r, 0, 0, 12);
	KUNIT_ASSERT_EQ(test, ib_post_send(r->qp[0], &wr.wr, NULL), 0);
	rk_pair(r, &s, &rx);
	KUNIT_EXPECT_EQ(test, s.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, s.opcode, IB_WC_RDMA_WRITE);
	KUNIT_EXPECT_EQ(test, rx.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, rx.opcode, IB_WC_RECV_RDMA_WITH_IMM);
	KUNIT_EXPECT_EQ(test, rx.wr_id, 12);
	KUNIT_EXPECT_TRUE(test, rx.wc_flags & IB_WC_WITH_IMM);
	KUNIT_EXPECT_EQ(test, be32_to_cpu(rx.ex.imm_data), 0xcafe);
	KUNIT_EXPECT_EQ(test, memcmp(r->buf, r->buf + RK_BUF + 100, 2500), 0);
	KUNIT_EXPECT_EQ(test, r->buf[RK_BUF + 99], 0);
	KUNIT_EXPECT_EQ(test, r->buf[RK_BUF + 2600], 0);
}

/* RDMA_READ of QP 1's half into QP 0's, in two scatter SGEs. */
static void rdma_kunit_read(struct kunit *test)
{
	struct rk *r = test->priv;
	struct ib_sge sge[2] = {
		{ .addr = r->dma, .length = 1000,
		  .lkey = r->pd->local_dma_lkey },
		{ .addr = r->dma + 2000, .length = 1000,
		  .lkey = r->pd->local_dma_lkey },
	};
	struct ib_rdma_wr wr = {
		.wr = { .wr_id = 21, .sg_list = sge, .num_sge = 2,
			.opcode = IB_WR_RDMA_READ,
			.send_flags = IB_SEND_SIGNALED },
		.remote_addr = r->dma + RK_BUF,
		.rkey = r->rkey,
	};
	struct ib_wc wc;
	int i;

	memset(r->buf, 0, RK_BUF);
	for (i = 0; i < 2000; i++)
		r->buf[RK_BUF + i] = i;
	KUNIT_ASSERT_EQ(test, ib_post_send(r->qp[0], &wr.wr, NULL), 0);
	rk_poll(r, &wc, 1);
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, wc.opcode, IB_WC_RDMA_READ);
	KUNIT_EXPECT_EQ(test, wc.byte_len, 2000);
	KUNIT_EXPECT_EQ(test, memcmp(r->buf, r->buf + RK_BUF, 1000), 0);
	KUNIT_EXPECT_EQ(test, memcmp(r->buf + 2000, r->buf + RK_BUF + 1000,
				     1000), 0);
	KUNIT_EXPECT_EQ(test, r->buf[1000], 0);
}

/* To ERR: what is posted completes with WR_FLUSH_ERR (11.2). */
static void rdma_kunit_flush(struct kunit *test)
{
	struct rk *r = test->priv;
	struct ib_qp_attr a = { .qp_state = IB_QPS_ERR };
	struct ib_wc wc[2];
	int i;

	rk_post_recv(r, r->dma + RK_BUF, RK_BUF, 31);
	rk_post_recv(r, r->dma + RK_BUF, RK_BUF, 32);
	KUNIT_ASSERT_EQ(test, ib_modify_qp(r->qp[1], &a, IB_QP_STATE), 0);
	rk_poll(r, wc, 2);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, wc[i].status, IB_WC_WR_FLUSH_ERR);
		KUNIT_EXPECT_EQ(test, wc[i].wr_id, 31 + i);
	}
}

static struct kunit_case dbnic_rdma_cases[] = {
	KUNIT_CASE(rdma_kunit_send_imm),
	KUNIT_CASE(rdma_kunit_write_imm),
	KUNIT_CASE(rdma_kunit_read),
	KUNIT_CASE(rdma_kunit_flush),
	{}
};

static struct kunit_suite dbnic_rdma_suite = {
	.name = "dbnic_rdma",
	.init = rk_init,
	.exit = rk_exit,
	.test_cases = dbnic_rdma_cases,
};

kunit_test_suite(dbnic_rdma_suite);

MODULE_DESCRIPTION("KUnit: dbnic RDMA loopback through the kernel verbs");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DBNIC);
