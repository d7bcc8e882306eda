// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * dbnic-rdma-isolation: proves that one process cannot reach another
 * process's RDMA queues or memory through the dbnic HCA (datasheet
 * sections 3.1, 11.1, 11.3, 11.4 and 11.8), over the unmodified verbs API
 * and the device's own doorbell page.  Issue 9, Tests, "Isolation".
 *
 *   victim DEV GIDX INFO STOP
 *	A victim: its own context (doorbell page), PD, CQ and two RC QPs
 *	connected to each other through the device's loopback.  It runs
 *	RDMA WRITE + SEND of a fresh pattern each round and checks every
 *	byte written and received.  Its "target" buffer (4 KiB, registered
 *	with local and remote write and remote read) holds a fixed pattern,
 *	and so does a second buffer whose registration it drops at once (a
 *	stale rkey).  It writes its keys and both addresses to INFO, runs
 *	until the file STOP exists, then 10 rounds more (the QPs still work
 *	after the attacks), and checks both buffers.  Exit 0 only when
 *	every round completed without a WC error, all data was intact, and
 *	both buffers are untouched.
 *
 *   doorbells DEV
 *   prio DEV
 *	The attacker on the victims' guest, on a uverbs context of its own
 *	made the way a provider makes one (GET_CONTEXT, dbnic_abi.h), with
 *	its own doorbell page mapped.  A process cannot learn another's
 *	send queue numbers (qids) through verbs, so it tries all the
 *	device has (CAP_QUEUES: 256 by default).  doorbells: DB_SQ (twice,
 *	producer indices half a ring apart), DB_QP_RQ and DB_CQ (armed)
 *	for each.  prio: a complete, correctly checksummed SEND WQE with
 *	inline bytes for each qid, in its own priority slots (section
 *	3.2).  The shell checks that DB_NOT_OWNER grew by at least the
 *	victims' share and that the victims went on unharmed.
 *
 *   lkeys DEV GIDX INFO...
 *	The attacker on its own QPs (a verbs context of its own) posts WQEs
 *	whose SGEs name a victim's key and address: SEND and RDMA WRITE
 *	gathering from it, RDMA READ and RECV scattering into it, and an
 *	RDMA WRITE gathering from its own MR of another PD.  Each must
 *	complete with IBV_WC_LOC_PROT_ERR, and no byte of the victim's
 *	reaches the attacker's buffers.
 *
 *   peer DEV GIDX PORT INFO...
 *	On the victims' guest, a process of its own: RC QPs for a remote
 *	attacker to connect to (so the transport is up), and the victims'
 *	target addresses and keys handed over TCP (what a remote attacker
 *	could learn or guess).
 *
 *   remote DEV GIDX HOST PORT
 *	The attacker on the other guest: one fresh RC QP per attempt,
 *	RDMA WRITE to each victim's target with a guessed rkey, with the
 *	victim's real rkey (valid, but of another context and PD than the
 *	responding QP), and with its stale rkey at the stale buffer.  Each must complete with
 *	IBV_WC_REM_ACCESS_ERR; the responder counts ROCE_RX_RKEY (the
 *	shell checks) and the victims find their target intact.
 *
 *   inline DEV GIDX N
 *	Not an attack, but the same verbs plumbing: the path whose absence
 *	the isolation rules must not cost.  N SENDs of 64 inline bytes from
 *	one own RC QP to another through the loopback, a fresh pattern
 *	each, every received message checked byte for byte.  The source
 *	buffer is not registered and is overwritten right after each post:
 *	the bytes travel in the WQE (datasheet 11.3), so a device that
 *	read them from memory would fail the WQE (no MR) or deliver the
 *	overwrite.  The shell reads ROCE_TX_INLINE: under DBNIC_PRIORITY=
 *	always the WQEs ran from the priority lane, with no read of host
 *	memory at all (issue 9, "Inline data ... priority area").
 *
 * Every mode prints one line per check ("ok ..." or "FAIL ...") and exits
 * 0 only when all passed.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/ib_user_verbs.h>

#include "dbnic_abi.h"
#include "dbnic_hw.h"

#define BUF_SIZE	4096
#define TARGET_BYTE(i)	((uint8_t)(0xa5 ^ (i) ^ ((i) >> 8)))
#define ATTACK_BYTE	0xee
#define POLL_MS		10000
#define MAX_VICTIMS	4
#define REMOTE_QPS	(3 * MAX_VICTIMS)

static int failures;

static void check(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

static void die(const char *what)
{
	fprintf(stderr, "FAIL %s: %s\n", what, strerror(errno));
	exit(2);
}

/* What a victim publishes (INFO): one line of hex numbers. */
struct victim_info {
	uint32_t lkey, rkey, stale_rkey;
	uint64_t addr, stale_addr;
};

static void read_info(const char *path, struct victim_info *v)
{
	FILE *f = fopen(path, "r");

	if (!f)
		die(path);
	if (fscanf(f, "%" SCNx32 " %" SCNx32 " %" SCNx32 " %" SCNx64
		   " %" SCNx64, &v->lkey, &v->rkey, &v->stale_rkey, &v->addr,
		   &v->stale_addr) != 5) {
		fprintf(stderr, "FAIL %s: not a victim's info\n", path);
		exit(2);
	}
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* Verbs helpers                                                       */
/* ------------------------------------------------------------------ */

struct dev {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	union ibv_gid gid;
	int gidx;
};

static void dev_open(struct dev *d, const char *name, int gidx)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	int i;

	if (!list)
		die("ibv_get_device_list");
	for (i = 0; list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			break;
	if (!list[i]) {
		fprintf(stderr, "FAIL no device %s\n", name);
		exit(2);
	}
	d->ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!d->ctx)
		die("ibv_open_device");
	d->pd = ibv_alloc_pd(d->ctx);
	if (!d->pd)
		die("ibv_alloc_pd");
	d->cq = ibv_create_cq(d->ctx, 64, NULL, NULL, 0);
	if (!d->cq)
		die("ibv_create_cq");
	d->gidx = gidx;
	if (ibv_query_gid(d->ctx, 1, gidx, &d->gid))
		die("ibv_query_gid");
}

static struct ibv_mr *reg(struct ibv_pd *pd, void *buf, int access)
{
	struct ibv_mr *mr = ibv_reg_mr(pd, buf, BUF_SIZE, access);

	if (!mr)
		die("ibv_reg_mr");
	return mr;
}

static void *buf_alloc(int byte)
{
	void *p = aligned_alloc(BUF_SIZE, BUF_SIZE);

	if (!p)
		die("aligned_alloc");
	memset(p, byte, BUF_SIZE);
	return p;
}

static struct ibv_qp *rc_qp(struct dev *d, struct ibv_pd *pd)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = d->cq, .recv_cq = d->cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.sq_sig_all = 1,
	};
	struct ibv_qp *qp = ibv_create_qp(pd ? pd : d->pd, &ia);

	if (!qp)
		die("ibv_create_qp");
	return qp;
}

/* RESET -> INIT -> RTR -> RTS towards dgid:dqpn; PSNs 0 both ways. */
static void rc_connect(struct dev *d, struct ibv_qp *qp,
		       const union ibv_gid *dgid, uint32_t dqpn)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ,
	};

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		die("modify_qp INIT");
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = IBV_MTU_1024;
	a.dest_qp_num = dqpn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = *dgid;
	a.ah_attr.grh.sgid_index = d->gidx;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.port_num = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		die("modify_qp RTR");
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		die("modify_qp RTS");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The next completion of cq into wc; false after POLL_MS without one. */
static bool poll_one(struct ibv_cq *cq, struct ibv_wc *wc)
{
	double end = now_ms() + POLL_MS;
	int n;

	while ((n = ibv_poll_cq(cq, 1, wc)) == 0) {
		if (now_ms() > end)
			return false;
		usleep(100);
	}
	if (n < 0)
		die("ibv_poll_cq");
	return true;
}

static int post_send(struct ibv_qp *qp, enum ibv_wr_opcode op, uint64_t wr_id,
		     void *addr, uint32_t lkey, uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = 64, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	return ibv_post_send(qp, &wr, &bad);
}

static int post_recv(struct ibv_qp *qp, uint64_t wr_id, void *addr,
		     uint32_t len, uint32_t lkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1,
	}, *bad;

	return ibv_post_recv(qp, &wr, &bad);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* victim                                                              */
/* ------------------------------------------------------------------ */

static int victim(const char *name, int gidx, const char *info,
		  const char *stop)
{
	struct dev d;
	struct ibv_qp *qa, *qb;
	struct ibv_mr *msrc, *mdst, *mrcv, *mtgt, *mstale;
	uint8_t *src, *dst, *rcv, *tgt, *stale;
	unsigned long rounds = 0, after = 0;
	struct ibv_wc wc;
	char tmp[256];
	FILE *f;
	size_t i;
	int bad = 0;

	dev_open(&d, name, gidx);
	src = buf_alloc(0);
	dst = buf_alloc(0);
	rcv = buf_alloc(0);
	tgt = buf_alloc(0);
	stale = buf_alloc(0);
	for (i = 0; i < BUF_SIZE; i++)
		tgt[i] = stale[i] = TARGET_BYTE(i);
	msrc = reg(d.pd, src, 0);
	mdst = reg(d.pd, dst, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	mrcv = reg(d.pd, rcv, IBV_ACCESS_LOCAL_WRITE);
	mtgt = reg(d.pd, tgt, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		   IBV_ACCESS_REMOTE_READ);
	/*
	 * Its own buffer, not a second registration of the target: DMA-API
	 * debugging reports two mappings of one cache line (e2e-rdma.sh).
	 * The buffer stays allocated, with its pattern, after the key is gone.
	 */
	mstale = reg(d.pd, stale, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	qa = rc_qp(&d, NULL);
	qb = rc_qp(&d, NULL);
	rc_connect(&d, qa, &d.gid, qb->qp_num);
	rc_connect(&d, qb, &d.gid, qa->qp_num);

	/* Published after the stale key is stale; renamed into place. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", info);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	fprintf(f, "%x %x %x %" PRIx64 " %" PRIx64 "\n", mtgt->lkey,
		mtgt->rkey, mstale->rkey, (uint64_t)(uintptr_t)tgt,
		(uint64_t)(uintptr_t)stale);
	if (ibv_dereg_mr(mstale))
		die("ibv_dereg_mr");
	fclose(f);
	if (rename(tmp, info))
		die(info);
	printf("victim: pid %d qpn %#x %#x target %p lkey/rkey %#x\n",
	       getpid(), qa->qp_num, qb->qp_num, (void *)tgt, mtgt->rkey);
	fflush(stdout);

	while (!bad && after < 10) {
		uint8_t pat = (uint8_t)(rounds * 7 + 1);
		int got = 0;

		memset(src, pat, BUF_SIZE);
		if (post_recv(qb, 1, rcv, BUF_SIZE, mrcv->lkey) ||
		    post_send(qa, IBV_WR_RDMA_WRITE, 2, src, msrc->lkey,
			      (uintptr_t)dst, mdst->rkey) ||
		    post_send(qa, IBV_WR_SEND, 3, src, msrc->lkey, 0, 0)) {
			check(false, "victim %d: post in round %lu", getpid(),
			      rounds);
			bad = 1;
			break;
		}
		while (got < 3) {
			if (!poll_one(d.cq, &wc)) {
				check(false, "victim %d: round %lu: completion missing",
				      getpid(), rounds);
				bad = 1;
				break;
			}
			if (wc.status != IBV_WC_SUCCESS) {
				check(false, "victim %d: round %lu: wr %" PRIu64 " %s (vendor %#x)",
				      getpid(), rounds, wc.wr_id,
				      ibv_wc_status_str(wc.status), wc.vendor_err);
				bad = 1;
			}
			got++;
		}
		if (!bad && (!all_bytes(dst, 64, pat) || !all_bytes(rcv, 64, pat))) {
			check(false, "victim %d: round %lu: data corrupt",
			      getpid(), rounds);
			bad = 1;
		}
		memset(dst, 0, 64);
		memset(rcv, 0, 64);
		rounds++;
		if (after || !access(stop, F_OK))
			after++;
		else
			usleep(20000);	/* leave the vCPU to the attackers */
	}
	check(!bad, "victim %d: %lu rounds of RDMA WRITE + SEND, data intact, no WC error",
	      getpid(), rounds);
	for (i = 0; i < BUF_SIZE && tgt[i] == TARGET_BYTE(i); i++)
		;
	check(i == BUF_SIZE, "victim %d: target buffer untouched (first change at %zu)",
	      getpid(), i);
	for (i = 0; i < BUF_SIZE && stale[i] == TARGET_BYTE(i); i++)
		;
	check(i == BUF_SIZE, "victim %d: buffer of the stale key untouched (first change at %zu)",
	      getpid(), i);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* local attacker                                                      */
/* ------------------------------------------------------------------ */

/* A doorbell page of this process's own (own_page()). */
struct page {
	uint32_t ctx;		/* the device context = page index */
	volatile uint32_t *db;	/* doorbell region, uncached */
	volatile uint64_t *prio;	/* priority area, write-combining; or NULL */
};

/*
 * A uverbs context of this process's own, made with the kernel's
 * GET_CONTEXT command on a fresh file of the device, and its doorbell
 * page mapped as the provider maps it (dbnic_abi.h).
 */
static void own_page(const char *name, struct page *pg)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_get_context cmd;
	} req;
	struct {
		struct ib_uverbs_get_context_resp resp;
		struct dbnic_alloc_ucontext_resp drv;
	} resp;
	struct ibv_device **list = ibv_get_device_list(NULL);
	char path[sizeof("/dev/infiniband/") + IBV_SYSFS_NAME_MAX];
	void *db, *prio = NULL;
	int fd, i;

	/* The device's uverbs file, as libibverbs found it in sysfs. */
	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			break;
	if (!list || !list[i])
		die("no such device");
	snprintf(path, sizeof(path), "/dev/infiniband/%s", list[i]->dev_name);
	ibv_free_device_list(list);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(path);
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.hdr.command = IB_USER_VERBS_CMD_GET_CONTEXT;
	req.hdr.in_words = sizeof(req) / 4;
	req.hdr.out_words = sizeof(resp) / 4;
	req.cmd.response = (uintptr_t)&resp;
	if (write(fd, &req, sizeof(req)) != sizeof(req))
		die("GET_CONTEXT");
	db = mmap(NULL, DBNIC_DB_REGION_SIZE, PROT_WRITE, MAP_SHARED, fd,
		  resp.drv.db_key);
	if (db == MAP_FAILED)
		die("mmap of the doorbell region");
	if (resp.drv.prio_key) {
		prio = mmap(NULL, DBNIC_PRIO_AREA_SIZE, PROT_WRITE, MAP_SHARED,
			    fd, resp.drv.prio_key);
		if (prio == MAP_FAILED)
			die("mmap of the priority area");
	}
	pg->ctx = resp.drv.ctx;
	pg->db = db;
	pg->prio = prio;
}

static void ring(volatile uint32_t *db, unsigned int off, uint32_t val)
{
	db[off / 4] = val;
	__sync_synchronize();
}

/* A fresh pair of own RC QPs connected to each other, in RTS. */
static void own_pair(struct dev *d, struct ibv_pd *pd, struct ibv_qp **a,
		     struct ibv_qp **b)
{
	*a = rc_qp(d, pd);
	*b = rc_qp(d, pd);
	rc_connect(d, *a, &d->gid, (*b)->qp_num);
	rc_connect(d, *b, &d->gid, (*a)->qp_num);
}

/* Completions of qp until one of wr_id; its status, or -1. */
static int wait_wr(struct ibv_cq *cq, uint64_t wr_id)
{
	struct ibv_wc wc;

	while (poll_one(cq, &wc))
		if (wc.wr_id == wr_id)
			return wc.status;
	return -1;
}

static const char *st(int s)
{
	return s < 0 ? "no completion" : ibv_wc_status_str(s);
}

/* Every queue number the device has: the victims' among them. */
#define ALL_QUEUES	256

static int doorbells(const char *name)
{
	struct page pg;
	uint32_t q, n = 0;

	own_page(name, &pg);
	/*
	 * Producer indices half a ring apart: whatever a victim's consumer
	 * index, a device that took them would make it run stale slots or
	 * refuse its next doorbell (BAD_DOORBELL) on some queue.
	 */
	for (q = 0; q < ALL_QUEUES; q++) {
		ring(pg.db, DBNIC_DB_SQ, dbnic_db_sq_val(q, 0x0008));
		ring(pg.db, DBNIC_DB_SQ, dbnic_db_sq_val(q, 0x8008));
		ring(pg.db, DBNIC_DB_QP_RQ, dbnic_db_qp_rq_val(q, 0x0008));
		ring(pg.db, DBNIC_DB_CQ, dbnic_db_cq_val(q, 0x0008, 1));
		n += 4;
	}
	printf("doorbells: page %u rang %u doorbells for queues 0-%u\n",
	       pg.ctx, n, ALL_QUEUES - 1);
	return 0;
}

static int prio(const char *name)
{
	struct dbnic_desc wqe;
	struct dbnic_rdma_seg *seg = dbnic_rdma_seg_of(&wqe);
	unsigned int i, words;
	struct page pg;
	uint32_t q;

	own_page(name, &pg);
	if (!pg.prio) {
		fprintf(stderr, "FAIL the device has no priority slots\n");
		return 2;
	}
	for (q = 0; q < ALL_QUEUES; q++) {
		volatile uint64_t *slot = pg.prio + (q % DBNIC_PRIO_SLOTS) *
			DBNIC_PRIO_SLOT_SIZE / 8;
		const uint64_t *w = (const uint64_t *)&wqe;

		memset(&wqe, 0, sizeof(wqe));
		wqe.hdr.opcode = DBNIC_OP_SEND;
		wqe.hdr.flags = DBNIC_DESC_F_COMPLETION;
		wqe.hdr.size = dbnic_rdma_wqe_blocks(0, 16);
		wqe.hdr.index = htole16(0x0008);
		wqe.hdr.qid = htole16(q);
		seg->inline_len = htole16(16);
		memset((uint8_t *)&wqe + DBNIC_RDMA_DATA_OFFSET, ATTACK_BYTE, 16);
		words = wqe.hdr.size * DBNIC_DESC_BLOCK_SIZE / 8;
		wqe.hdr.csum = htole32(dbnic_desc_csum(&wqe, words));
		for (i = 0; i < words; i++)
			slot[i] = w[i];
		__sync_synchronize();	/* flush the write-combining buffer */
	}
	printf("prio: page %u wrote a complete SEND WQE for queues 0-%u\n",
	       pg.ctx, ALL_QUEUES - 1);
	return 0;
}

static int lkeys(const char *name, int gidx, int nv, char **infos)
{
	struct victim_info v[MAX_VICTIMS];
	struct ibv_pd *pd2;
	struct ibv_mr *mown, *matk, *mother;
	struct ibv_qp *a, *b;
	uint8_t *own, *atk, *other;
	struct dev d;
	int i, s;

	for (i = 0; i < nv; i++)
		read_info(infos[i], &v[i]);

	dev_open(&d, name, gidx);
	own = buf_alloc(0);
	atk = buf_alloc(ATTACK_BYTE);
	other = buf_alloc(0x11);
	mown = reg(d.pd, own, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		   IBV_ACCESS_REMOTE_READ);
	/* What the scattering attempts would write into a victim. */
	matk = reg(d.pd, atk, IBV_ACCESS_REMOTE_READ);
	pd2 = ibv_alloc_pd(d.ctx);
	if (!pd2)
		die("ibv_alloc_pd");
	mother = reg(pd2, other, IBV_ACCESS_LOCAL_WRITE);
	for (i = 0; i < nv; i++) {
		void *va = (void *)(uintptr_t)v[i].addr;

		own_pair(&d, NULL, &a, &b);
		post_recv(b, 10, own, BUF_SIZE, mown->lkey);
		post_send(a, IBV_WR_SEND, 11, va, v[i].lkey, 0, 0);
		s = wait_wr(d.cq, 11);
		check(s == IBV_WC_LOC_PROT_ERR,
		      "lkeys: SEND gathering from victim %d's lkey %#x: %s", i,
		      v[i].lkey, st(s));

		own_pair(&d, NULL, &a, &b);
		post_send(a, IBV_WR_RDMA_WRITE, 12, va, v[i].lkey,
			  (uintptr_t)own, mown->rkey);
		s = wait_wr(d.cq, 12);
		check(s == IBV_WC_LOC_PROT_ERR,
		      "lkeys: RDMA WRITE gathering from victim %d's lkey: %s",
		      i, st(s));

		own_pair(&d, NULL, &a, &b);
		post_send(a, IBV_WR_RDMA_READ, 13, va, v[i].lkey,
			  (uintptr_t)atk, matk->rkey);
		s = wait_wr(d.cq, 13);
		check(s == IBV_WC_LOC_PROT_ERR,
		      "lkeys: RDMA READ scattering into victim %d's lkey: %s",
		      i, st(s));

		own_pair(&d, NULL, &a, &b);
		post_recv(b, 14, va, 64, v[i].lkey);
		post_send(a, IBV_WR_SEND, 15, atk, matk->lkey, 0, 0);
		s = wait_wr(d.cq, 14);
		check(s == IBV_WC_LOC_PROT_ERR,
		      "lkeys: RECV scattering into victim %d's lkey: %s", i,
		      st(s));
	}
	own_pair(&d, NULL, &a, &b);
	post_send(a, IBV_WR_RDMA_WRITE, 16, other, mother->lkey,
		  (uintptr_t)own, mown->rkey);
	s = wait_wr(d.cq, 16);
	check(s == IBV_WC_LOC_PROT_ERR,
	      "lkeys: RDMA WRITE gathering from an MR of another PD: %s", st(s));
	check(all_bytes(own, BUF_SIZE, 0),
	      "lkeys: nothing reached the attacker's buffer");
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* remote attacker and its peer                                        */
/* ------------------------------------------------------------------ */

/* The peer's message: GID, QPNs, the victims. */
struct peer_msg {
	uint8_t gid[16];
	uint32_t nv;
	uint32_t qpn[REMOTE_QPS];
	struct victim_info v[MAX_VICTIMS];
};

static void xfer(int fd, void *p, size_t n, bool out)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = out ? write(fd, b, n) : read(fd, b, n);

		if (r <= 0) {
			errno = r ? errno : EPIPE;
			die("TCP exchange");
		}
		b += r;
		n -= r;
	}
}

static int peer(const char *name, int gidx, int port, int nv, char **infos)
{
	struct peer_msg m = { 0 }, r;
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	struct ibv_qp *qp[REMOTE_QPS];
	int ls, fd, one = 1, i;
	struct dev d;
	char c;

	dev_open(&d, name, gidx);
	m.nv = nv;
	for (i = 0; i < nv; i++)
		read_info(infos[i], &m.v[i]);
	for (i = 0; i < 3 * nv; i++) {
		qp[i] = rc_qp(&d, NULL);
		m.qpn[i] = qp[i]->qp_num;
	}
	memcpy(m.gid, d.gid.raw, 16);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1))
		die("bind/listen");
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		die("accept");
	xfer(fd, &m, sizeof(m), true);
	xfer(fd, &r, sizeof(r), false);
	for (i = 0; i < 3 * nv; i++)
		rc_connect(&d, qp[i], (union ibv_gid *)r.gid, r.qpn[i]);
	c = 1;
	xfer(fd, &c, 1, true);
	/* The attacker closes the connection when it is done. */
	if (read(fd, &c, 1) < 0)
		die("read");
	printf("peer: %d QPs served\n", 3 * nv);
	return 0;
}

static int remote(const char *name, int gidx, const char *host, int port)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM }, *ai;
	struct ibv_qp *qp[REMOTE_QPS];
	struct peer_msg m, r = { 0 };
	struct ibv_mr *mr;
	char ports[16], c;
	unsigned int i;
	uint8_t *buf;
	struct dev d;
	int fd, s;

	dev_open(&d, name, gidx);
	buf = buf_alloc(ATTACK_BYTE);
	mr = reg(d.pd, buf, IBV_ACCESS_LOCAL_WRITE);
	snprintf(ports, sizeof(ports), "%d", port);
	if (getaddrinfo(host, ports, &hints, &ai))
		die("getaddrinfo");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen))
		die("connect");
	freeaddrinfo(ai);
	xfer(fd, &m, sizeof(m), false);
	if (m.nv < 1 || m.nv > MAX_VICTIMS) {
		fprintf(stderr, "FAIL peer sent %u victims\n", m.nv);
		return 2;
	}
	memcpy(r.gid, d.gid.raw, 16);
	for (i = 0; i < 3 * m.nv; i++) {
		qp[i] = rc_qp(&d, NULL);
		r.qpn[i] = qp[i]->qp_num;
	}
	xfer(fd, &r, sizeof(r), true);
	xfer(fd, &c, 1, false);		/* the peer's QPs are in RTR */
	for (i = 0; i < 3 * m.nv; i++)
		rc_connect(&d, qp[i], (union ibv_gid *)m.gid, m.qpn[i]);

	for (i = 0; i < m.nv; i++) {
		struct victim_info *v = &m.v[i];
		static const char * const what[] = {
			"a guessed rkey", "its real rkey", "its stale rkey",
		};
		/*
		 * The guess: the victim's key with the next generation, the
		 * key a later registration in its slot would get.
		 */
		uint32_t key[3] = { v->rkey + 0x10000, v->rkey, v->stale_rkey };
		uint64_t addr[3] = { v->addr, v->addr, v->stale_addr };
		unsigned int k;

		for (k = 0; k < 3; k++) {
			post_send(qp[3 * i + k], IBV_WR_RDMA_WRITE, 100 + k,
				  buf, mr->lkey, addr[k], key[k]);
			s = wait_wr(d.cq, 100 + k);
			check(s == IBV_WC_REM_ACCESS_ERR,
			      "remote: RDMA WRITE to victim %u with %s %#x: %s",
			      i, what[k], key[k], st(s));
		}
	}
	close(fd);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* inline                                                              */
/* ------------------------------------------------------------------ */

#define INLINE_BYTES	64
#define INLINE_BYTE(i, j)	((uint8_t)(0x3c + 7 * (i) + (j)))

static int inline_sends(const char *name, int gidx, int n)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp *qp[2];
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	struct ibv_wc wc;
	struct ibv_mr *mr;
	uint8_t *src, *dst;
	struct dev d;
	int i, j, k, bad_data = 0, wc_err = 0;

	dev_open(&d, name, gidx);
	src = buf_alloc(0);	/* never registered: the device may not read it */
	dst = buf_alloc(0);
	mr = reg(d.pd, dst, IBV_ACCESS_LOCAL_WRITE);
	for (k = 0; k < 2; k++) {
		memset(&ia, 0, sizeof(ia));
		ia.send_cq = d.cq;
		ia.recv_cq = d.cq;
		ia.qp_type = IBV_QPT_RC;
		ia.sq_sig_all = 1;
		ia.cap.max_send_wr = 16;
		ia.cap.max_recv_wr = 16;
		ia.cap.max_send_sge = 1;
		ia.cap.max_recv_sge = 1;
		ia.cap.max_inline_data = INLINE_BYTES;
		qp[k] = ibv_create_qp(d.pd, &ia);
		if (!qp[k])
			die("ibv_create_qp with inline data");
		check(ia.cap.max_inline_data >= INLINE_BYTES,
		      "QP %u: max_inline_data %u >= %u", qp[k]->qp_num,
		      ia.cap.max_inline_data, INLINE_BYTES);
	}
	rc_connect(&d, qp[0], &d.gid, qp[1]->qp_num);
	rc_connect(&d, qp[1], &d.gid, qp[0]->qp_num);

	for (i = 0; i < n; i++) {
		bool sent = false, got = false;

		memset(dst, 0, INLINE_BYTES);
		if (post_recv(qp[1], 2 * i + 1, dst, BUF_SIZE, mr->lkey))
			die("ibv_post_recv");
		for (j = 0; j < INLINE_BYTES; j++)
			src[j] = INLINE_BYTE(i, j);
		sge = (struct ibv_sge){ .addr = (uintptr_t)src,
					.length = INLINE_BYTES };
		wr = (struct ibv_send_wr){ .wr_id = 2 * i, .sg_list = &sge,
					   .num_sge = 1,
					   .opcode = IBV_WR_SEND,
					   .send_flags = IBV_SEND_INLINE |
							 IBV_SEND_SIGNALED };
		if (ibv_post_send(qp[0], &wr, &bad))
			die("ibv_post_send inline");
		/* The WQE holds the bytes now; the buffer is free again. */
		memset(src, ATTACK_BYTE, INLINE_BYTES);
		while (!(sent && got)) {
			if (!poll_one(d.cq, &wc)) {
				check(false, "SEND %d: no completion in %d ms",
				      i, POLL_MS);
				return 1;
			}
			if (wc.status != IBV_WC_SUCCESS) {
				fprintf(stderr, "SEND %d: wr_id %" PRIu64 " %s\n",
					i, wc.wr_id, st(wc.status));
				wc_err++;
			}
			if (wc.wr_id == (uint64_t)2 * i)
				sent = true;
			if (wc.wr_id == (uint64_t)2 * i + 1) {
				got = true;
				if (wc.byte_len != INLINE_BYTES)
					bad_data++;
			}
		}
		for (j = 0; j < INLINE_BYTES; j++)
			if (dst[j] != INLINE_BYTE(i, j))
				break;
		if (j < INLINE_BYTES)
			bad_data++;
	}
	check(!wc_err, "%d inline SENDs completed without error (%d errors)",
	      n, wc_err);
	check(!bad_data, "%d inline SENDs arrived intact (%d bad)", n,
	      bad_data);
	return failures ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dbnic-rdma-isolation victim DEV GIDX INFO STOP\n"
		"       dbnic-rdma-isolation doorbells|prio DEV\n"
		"       dbnic-rdma-isolation lkeys DEV GIDX INFO...\n"
		"       dbnic-rdma-isolation peer DEV GIDX PORT INFO...\n"
		"       dbnic-rdma-isolation remote DEV GIDX HOST PORT\n"
		"       dbnic-rdma-isolation inline DEV GIDX N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "victim") && argc == 6)
		return victim(argv[2], atoi(argv[3]), argv[4], argv[5]);
	if (!strcmp(argv[1], "doorbells") && argc == 3)
		return doorbells(argv[2]);
	if (!strcmp(argv[1], "prio") && argc == 3)
		return prio(argv[2]);
	if (!strcmp(argv[1], "lkeys") && argc >= 5 && argc - 4 <= MAX_VICTIMS)
		return lkeys(argv[2], atoi(argv[3]), argc - 4, argv + 4);
	if (!strcmp(argv[1], "peer") && argc >= 6 && argc - 5 <= MAX_VICTIMS)
		return peer(argv[2], atoi(argv[3]), atoi(argv[4]), argc - 5,
			    argv + 5);
	if (!strcmp(argv[1], "remote") && argc == 6)
		return remote(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]));
	if (!strcmp(argv[1], "inline") && argc == 5 && atoi(argv[4]) > 0)
		return inline_sends(argv[2], atoi(argv[3]), atoi(argv[4]));
	usage();
	return 2;
}
