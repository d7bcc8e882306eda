// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * dbnic verbs provider: device matching, the user context and its
 * doorbell page, protection domains, memory regions and address handles.
 *
 * The kernel driver is out of tree and has no RDMA_DRIVER_* id of its
 * own, so the device is matched by its PCI id (the ib_device's parent is
 * the PCI function) and every command carries RDMA_DRIVER_UNKNOWN, which
 * the kernel side registers as well.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dbnic.h"

static const struct verbs_match_ent dbnic_match_table[] = {
	VERBS_PCI_MATCH(DBNIC_PCI_VENDOR_ID, DBNIC_PCI_DEVICE_ID, NULL),
	{}
};

static int dbnic_query_device(struct ibv_context *context,
			      const struct ibv_query_device_ex_input *input,
			      struct ibv_device_attr_ex *attr, size_t attr_size)
{
	struct ib_uverbs_ex_query_device_resp resp;
	size_t resp_size = sizeof(resp);

	return ibv_cmd_query_device_any(context, input, attr, attr_size,
					&resp, &resp_size);
}

static int dbnic_query_port(struct ibv_context *context, uint8_t port,
			    struct ibv_port_attr *attr)
{
	struct ibv_query_port cmd;

	return ibv_cmd_query_port(context, port, attr, &cmd, sizeof(cmd));
}

static struct ibv_pd *dbnic_alloc_pd(struct ibv_context *context)
{
	struct ib_uverbs_alloc_pd_resp resp;
	struct ibv_alloc_pd cmd;
	struct ibv_pd *pd;

	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return NULL;
	errno = ibv_cmd_alloc_pd(context, pd, &cmd, sizeof(cmd),
				 &resp, sizeof(resp));
	if (errno) {
		free(pd);
		return NULL;
	}
	return pd;
}

static int dbnic_dealloc_pd(struct ibv_pd *pd)
{
	int ret = ibv_cmd_dealloc_pd(pd);

	if (!ret)
		free(pd);
	return ret;
}

static struct ibv_mr *dbnic_reg_mr(struct ibv_pd *pd, void *addr,
				   size_t length, uint64_t hca_va, int access)
{
	struct ib_uverbs_reg_mr_resp resp;
	struct ibv_reg_mr cmd;
	struct verbs_mr *vmr;

	vmr = calloc(1, sizeof(*vmr));
	if (!vmr)
		return NULL;
	errno = ibv_cmd_reg_mr(pd, addr, length, hca_va, access, vmr,
			       &cmd, sizeof(cmd), &resp, sizeof(resp));
	if (errno) {
		free(vmr);
		return NULL;
	}
	return &vmr->ibv_mr;
}

static int dbnic_dereg_mr(struct verbs_mr *vmr)
{
	int ret = ibv_cmd_dereg_mr(vmr);

	if (!ret)
		free(vmr);
	return ret;
}

static struct ibv_ah *dbnic_create_ah(struct ibv_pd *pd,
				      struct ibv_ah_attr *attr)
{
	struct udbnic_create_ah_resp resp = {};
	struct dbnic_ah *ah;

	ah = calloc(1, sizeof(*ah));
	if (!ah)
		return NULL;
	errno = ibv_cmd_create_ah(pd, &ah->ibv_ah, attr, &resp.ibv_resp,
				  sizeof(resp));
	if (errno) {
		free(ah);
		return NULL;
	}
	ah->handle = resp.ah;
	return &ah->ibv_ah;
}

static int dbnic_destroy_ah(struct ibv_ah *ibah)
{
	int ret = ibv_cmd_destroy_ah(ibah);

	if (!ret)
		free(to_dah(ibah));
	return ret;
}

static void dbnic_free_context(struct ibv_context *ibctx)
{
	struct dbnic_context *ctx = to_dctx(ibctx);
	unsigned int i;

	for (i = 0; i < DBNIC_QP_TABLE_SIZE; i++)
		free(ctx->qp_table[i]);
	for (i = 0; i < DBNIC_PRIO_PAIRS; i++)
		pthread_spin_destroy(&ctx->pair[i].lock);
	pthread_mutex_destroy(&ctx->qp_table_mutex);
	if (ctx->prio)
		munmap(ctx->prio, DBNIC_PRIO_AREA_SIZE);
	if (ctx->db)
		munmap(ctx->db, DBNIC_DB_REGION_SIZE);
	verbs_uninit_context(&ctx->ibv_ctx);
	free(ctx);
}

static const struct verbs_context_ops dbnic_ctx_ops = {
	.query_device_ex = dbnic_query_device,
	.query_port = dbnic_query_port,
	.alloc_pd = dbnic_alloc_pd,
	.dealloc_pd = dbnic_dealloc_pd,
	.reg_mr = dbnic_reg_mr,
	.dereg_mr = dbnic_dereg_mr,
	.create_cq = dbnic_create_cq,
	.poll_cq = dbnic_poll_cq,
	.req_notify_cq = dbnic_req_notify_cq,
	.destroy_cq = dbnic_destroy_cq,
	.create_qp = dbnic_create_qp,
	.query_qp = dbnic_query_qp,
	.modify_qp = dbnic_modify_qp,
	.destroy_qp = dbnic_destroy_qp,
	.post_send = dbnic_post_send,
	.post_recv = dbnic_post_recv,
	.create_ah = dbnic_create_ah,
	.destroy_ah = dbnic_destroy_ah,
	.free_context = dbnic_free_context,
};

/*
 * DBNIC_PRIORITY=auto|always|never chooses how WQEs reach the device, in
 * the spirit of mlx5's MLX5_SHUT_UP_BF.  An unknown value warns and
 * keeps the default.
 */
static enum dbnic_prio_mode dbnic_prio_mode_from_env(void)
{
	const char *v = getenv("DBNIC_PRIORITY");

	if (!v || !strcasecmp(v, "auto"))
		return DBNIC_PRIO_AUTO;
	if (!strcasecmp(v, "always"))
		return DBNIC_PRIO_ALWAYS;
	if (!strcasecmp(v, "never"))
		return DBNIC_PRIO_NEVER;
	fprintf(stderr, "dbnic: DBNIC_PRIORITY=%s is not auto, always or never; using auto\n",
		v);
	return DBNIC_PRIO_AUTO;
}

static struct verbs_context *dbnic_alloc_context(struct ibv_device *ibdev,
						 int cmd_fd,
						 void *private_data)
{
	struct udbnic_alloc_ucontext_resp resp = {};
	struct ibv_get_context cmd;
	struct dbnic_context *ctx;
	unsigned int i;

	ctx = verbs_init_and_alloc_context(ibdev, cmd_fd, ctx, ibv_ctx,
					   RDMA_DRIVER_UNKNOWN);
	if (!ctx)
		return NULL;
	pthread_mutex_init(&ctx->qp_table_mutex, NULL);
	for (i = 0; i < DBNIC_PRIO_PAIRS; i++)
		pthread_spin_init(&ctx->pair[i].lock, PTHREAD_PROCESS_PRIVATE);

	if (ibv_cmd_get_context(&ctx->ibv_ctx, &cmd, sizeof(cmd),
				&resp.ibv_resp, sizeof(resp)))
		goto err;

	ctx->dev_ctx = resp.ctx;
	ctx->max_inline = resp.max_inline;
	if (ctx->max_inline > DBNIC_RDMA_MAX_INLINE)
		ctx->max_inline = DBNIC_RDMA_MAX_INLINE;
	ctx->db = mmap(NULL, DBNIC_DB_REGION_SIZE, PROT_WRITE, MAP_SHARED,
		       cmd_fd, resp.db_key);
	if (ctx->db == MAP_FAILED) {
		ctx->db = NULL;
		goto err;
	}
	ctx->prio_mode = dbnic_prio_mode_from_env();
	if (resp.prio_key && resp.prio_slots >= 2) {
		ctx->prio = mmap(NULL, DBNIC_PRIO_AREA_SIZE, PROT_WRITE,
				 MAP_SHARED, cmd_fd, resp.prio_key);
		if (ctx->prio == MAP_FAILED) {
			ctx->prio = NULL;
			goto err;
		}
	}
	if (!ctx->prio)
		ctx->prio_mode = DBNIC_PRIO_NEVER;

	verbs_set_ops(&ctx->ibv_ctx, &dbnic_ctx_ops);
	return &ctx->ibv_ctx;

err:
	dbnic_free_context(&ctx->ibv_ctx.context);
	return NULL;
}

static struct verbs_device *dbnic_device_alloc(struct verbs_sysfs_dev *sdev)
{
	struct verbs_device *dev;

	dev = calloc(1, sizeof(*dev));
	return dev;
}

static void dbnic_uninit_device(struct verbs_device *dev)
{
	free(dev);
}

static const struct verbs_device_ops dbnic_dev_ops = {
	.name = "dbnic",
	.match_min_abi_version = DBNIC_UVERBS_ABI_VERSION,
	.match_max_abi_version = DBNIC_UVERBS_ABI_VERSION,
	.match_table = dbnic_match_table,
	.alloc_device = dbnic_device_alloc,
	.uninit_device = dbnic_uninit_device,
	.alloc_context = dbnic_alloc_context,
};
PROVIDER_DRIVER(dbnic, dbnic_dev_ops);
