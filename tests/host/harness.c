/*
 * Host test harness for the dbnic device core; see harness.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int t_failed;
uint32_t harness_dma_latency_ns;
uint32_t harness_db_latency_ns;
uint32_t harness_desc_ns;
uint32_t harness_byte_ps;
uint32_t harness_db_pages;
uint32_t harness_admin_delay_ms;
uint32_t harness_admin_delay_ops;
unsigned int harness_eq_log;
uint32_t harness_max_sq;
unsigned int harness_cq_log;
unsigned int harness_cq_vector;
bool harness_no_inline;
bool harness_no_map;
bool harness_no_roce;
bool harness_legacy;

/* Machines of the running test, freed even when a CHECK returns early. */
static struct fake *live[8];
static unsigned int nlive;

static void fake_release(struct fake *f);

void harness_cleanup(void)
{
	harness_dma_latency_ns = 0;
	harness_db_latency_ns = 0;
	harness_desc_ns = 0;
	harness_byte_ps = 0;
	harness_db_pages = 0;
	harness_admin_delay_ms = 0;
	harness_admin_delay_ops = 0;
	harness_eq_log = 0;
	harness_max_sq = 0;
	harness_cq_log = 0;
	harness_cq_vector = 0;
	harness_no_inline = false;
	harness_no_map = false;
	harness_no_roce = false;
	while (nlive)
		fake_release(live[--nlive]);
}

void *gpa(struct fake *f, uint64_t addr)
{
	if (addr < MEM_BASE || addr >= MEM_BASE + MEM_SIZE) {
		fprintf(stderr, "harness: bad address 0x%llx\n",
			(unsigned long long)addr);
		abort();
	}
	return f->mem + (addr - MEM_BASE);
}

static bool in_mem(uint64_t addr, size_t len)
{
	return addr >= MEM_BASE && len <= MEM_SIZE &&
	       addr - MEM_BASE <= MEM_SIZE - len;
}

static int f_dma_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = opaque;

	f->dma_reads++;
	if (!in_mem(addr, len))
		return -1;
	memcpy(buf, f->mem + (addr - MEM_BASE), len);
	if (f->after_read)
		f->after_read(f, addr, len);
	return 0;
}

static int f_dma_write(void *opaque, uint64_t addr, const void *buf,
		       size_t len)
{
	struct fake *f = opaque;

	f->dma_writes++;
	if (!in_mem(addr, len))
		return -1;
	memcpy(f->mem + (addr - MEM_BASE), buf, len);
	if (f->after_write)
		f->after_write(f, addr, len);
	return 0;
}

static void *f_map(void *opaque, uint64_t addr, size_t *len, bool write)
{
	struct fake *f = opaque;
	uint64_t end = (addr | (HARNESS_MAP_SPLIT - 1)) + 1;

	if (!*len || !in_mem(addr, 1) ||
	    (addr >= f->nomap_lo && addr < f->nomap_hi))
		return NULL;
	if (end > MEM_BASE + MEM_SIZE)
		end = MEM_BASE + MEM_SIZE;
	if (addr < f->nomap_lo && end > f->nomap_lo)
		end = f->nomap_lo;
	if (*len > end - addr)
		*len = end - addr;
	f->maps++;
	f->maps_live++;
	return f->mem + (addr - MEM_BASE);
}

static void f_unmap(void *opaque, void *host, size_t len, bool write,
		    size_t access)
{
	struct fake *f = opaque;

	if (!f->maps_live || access > len || (uint8_t *)host < f->mem ||
	    (uint8_t *)host + len > f->mem + MEM_SIZE) {
		fprintf(stderr, "harness: bad unmap\n");
		abort();
	}
	f->maps_live--;
	f->map_bytes += access;
}

static void f_irq(void *opaque, unsigned int vector)
{
	struct fake *f = opaque;

	f->irqs[vector & 0xff]++;
	/*
	 * A host that handles vector 0 at once, as a CPU other than the
	 * one running the device would: ack the causes and read ERR.
	 */
	if (vector == 0 && f->ack_irq0) {
		f->acks++;
		dbnic_core_ctrl_write(&f->core, DBNIC_REG_INTR_CAUSE, ~0u, 4);
		dbnic_core_ctrl_read(&f->core, DBNIC_REG_ERR, 4);
	}
}

static int f_eth_tx(void *opaque, const void *buf, size_t len,
		    const struct dbnic_eth_tx_offload *off)
{
	struct fake *f = opaque;
	unsigned int k = f->tx_frames % HARNESS_TX_KEEP;

	if (f->tx_busy)
		return DBNIC_ETH_TX_BUSY;
	if (len < DBNIC_ETH_MIN_FRAME || len > DBNIC_ETH_MAX_TSO) {
		fprintf(stderr, "harness: eth_tx of %zu bytes\n", len);
		abort();
	}
	if (f->tx_hook)
		f->tx_hook(f, buf, len);
	free(f->tx_buf[k]);
	f->tx_buf[k] = malloc(len);
	if (!f->tx_buf[k])
		abort();
	memcpy(f->tx_buf[k], buf, len);
	f->tx_len[k] = len;
	f->tx_off[k] = *off;
	f->tx_frames++;
	return DBNIC_ETH_TX_SENT;
}

/* The owner's buffer empties: what the test said it held. */
static unsigned int f_eth_reset(void *opaque)
{
	struct fake *f = opaque;
	unsigned int n = f->tx_held;

	f->eth_resets++;
	f->tx_held = 0;
	return n;
}

static void f_rx_ready(void *opaque)
{
	((struct fake *)opaque)->rx_ready++;
}

static uint64_t f_clock(void *opaque)
{
	return ((struct fake *)opaque)->now;
}

static void f_schedule(void *opaque)
{
	((struct fake *)opaque)->scheduled = true;
}

static void f_timer_mod(void *opaque, uint64_t when)
{
	((struct fake *)opaque)->timer_at = when;
}

static void f_trace(void *opaque, enum dbnic_trace_event ev, uint32_t a,
		    uint32_t b, uint64_t c)
{
	struct fake *f = opaque;

	if (ev == DBNIC_TR_RUN) {
		f->runs++;
		f->visits += a;
		if (a > f->max_visits)
			f->max_visits = a;
	}
}

static const struct dbnic_core_ops fake_ops = {
	.dma_read = f_dma_read,
	.dma_write = f_dma_write,
	.irq = f_irq,
	.eth_tx = f_eth_tx,
	.eth_rx_ready = f_rx_ready,
	.eth_reset = f_eth_reset,
	.clock_ns = f_clock,
	.schedule = f_schedule,
	.timer_mod = f_timer_mod,
	.map = f_map,
	.unmap = f_unmap,
	.trace = f_trace,
};

/* A machine whose DMA cannot map guest memory: everything bounces. */
static const struct dbnic_core_ops fake_ops_nomap = {
	.dma_read = f_dma_read,
	.dma_write = f_dma_write,
	.irq = f_irq,
	.eth_tx = f_eth_tx,
	.eth_rx_ready = f_rx_ready,
	.eth_reset = f_eth_reset,
	.clock_ns = f_clock,
	.schedule = f_schedule,
	.timer_mod = f_timer_mod,
	.trace = f_trace,
};

static void wr32(struct fake *f, uint64_t off, uint32_t v)
{
	dbnic_core_ctrl_write(&f->core, off, v, 4);
}

void fake_init(struct fake *f)
{
	struct dbnic_core_config cfg = {
		.db_pages = harness_db_pages ? harness_db_pages : 4,
		.max_sq = harness_max_sq ? harness_max_sq : 8,
		.max_cq = 8, .msix_vectors = 4,
		.max_mr = 16, .dma_latency_ns = harness_dma_latency_ns,
		.db_latency_ns = harness_db_latency_ns,
		.desc_ns = harness_desc_ns, .byte_ps = harness_byte_ps,
		.admin_delay_ms = harness_admin_delay_ms,
		.admin_delay_ops = harness_admin_delay_ops,
		.inline_bytes = harness_no_inline || harness_legacy ?
				0 : DBNIC_CORE_INLINE_DEFAULT,
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.roce = !harness_no_roce, .max_qp = 8, .max_ah = 8,
	};
	bool nomap = harness_no_map || harness_legacy;

	memset(f, 0, sizeof(*f));
	f->mem = calloc(1, MEM_SIZE);
	f->now = 1000;
	f->alloc_next = MEM_BASE + 0x2000;
	if (!f->mem ||
	    dbnic_core_init(&f->core, &cfg, nomap ? &fake_ops_nomap : &fake_ops,
			    f) ||
	    nlive == sizeof(live) / sizeof(live[0]))
		abort();
	live[nlive++] = f;
	wr32(f, DBNIC_REG_CTRL, DBNIC_CTRL_RESET);
	dbnic_core_ctrl_write(&f->core, DBNIC_REG_AQ_SQ_BASE, AQ_SQ_ADDR, 8);
	wr32(f, DBNIC_REG_AQ_CQ_BASE, (uint32_t)AQ_CQ_ADDR);
	wr32(f, DBNIC_REG_AQ_CQ_BASE + 4, (uint32_t)(AQ_CQ_ADDR >> 32));
	wr32(f, DBNIC_REG_AQ_CFG, AQ_LOG);
	f->eq_log = harness_eq_log;
	if (f->eq_log) {
		dbnic_core_ctrl_write(&f->core, DBNIC_REG_EQ_BASE, EQ_ADDR, 8);
		wr32(f, DBNIC_REG_EQ_CFG, f->eq_log);
	}
	dbnic_core_eth_set_link(&f->core, true);
	wr32(f, DBNIC_REG_CTRL, DBNIC_CTRL_ENABLE);
}

static void fake_release(struct fake *f)
{
	unsigned int i;

	for (i = 0; i < HARNESS_TX_KEEP; i++) {
		free(f->tx_buf[i]);
		f->tx_buf[i] = NULL;
	}
	dbnic_core_free(&f->core);
	free(f->mem);
	f->mem = NULL;
}

void fake_free(struct fake *f)
{
	unsigned int i;

	for (i = 0; i < nlive; i++) {
		if (live[i] == f) {
			live[i] = live[--nlive];
			break;
		}
	}
	fake_release(f);
}

/*
 * Under the timing model the core asks for its runs through the timer,
 * at the current time too: fire it whenever it is due, as QEMU would.
 */
void fake_run(struct fake *f)
{
	int guard = 100000;

	while ((f->scheduled || (f->timer_at && f->now >= f->timer_at)) &&
	       guard--) {
		if (f->timer_at && f->now >= f->timer_at) {
			f->timer_at = 0;
			dbnic_core_timer(&f->core);
		}
		f->scheduled = false;
		dbnic_core_run(&f->core);
	}
}

void engine_pending(struct fake *f)
{
	wr32(f, DBNIC_REG_AQ_DB, f->aq_pi);
}

void fake_advance(struct fake *f, uint64_t ns)
{
	f->now += ns;
	if (f->timer_at && f->now >= f->timer_at) {
		f->timer_at = 0;
		dbnic_core_timer(&f->core);
		f->scheduled = true;	/* the glue runs the core next */
	}
}

uint64_t fake_alloc(struct fake *f, uint64_t size, uint64_t align)
{
	uint64_t a = (f->alloc_next + align - 1) & ~(align - 1);

	f->alloc_next = a + size;
	if (f->alloc_next > MEM_BASE + MEM_SIZE)
		abort();
	return a;
}

uint64_t counter(struct fake *f, enum dbnic_counter i)
{
	return dbnic_core_ctrl_read(&f->core, DBNIC_REG_COUNTER(i), 8);
}

uint8_t admin(struct fake *f, struct dbnic_admin_cmd *cmd, uint32_t *result)
{
	return admin_r2(f, cmd, result, NULL);
}

uint8_t admin_r2(struct fake *f, struct dbnic_admin_cmd *cmd, uint32_t *result,
		 uint32_t *result2)
{
	unsigned int slot = f->aq_pi & ((1u << AQ_LOG) - 1);
	struct dbnic_admin_cqe *cqe;

	cmd->cmd_id = f->aq_pi;
	memcpy(gpa(f, AQ_SQ_ADDR + slot * sizeof(*cmd)), cmd, sizeof(*cmd));
	f->aq_pi++;
	wr32(f, DBNIC_REG_AQ_DB, f->aq_pi);
	fake_run(f);

	slot = f->aq_ci & ((1u << AQ_LOG) - 1);
	cqe = gpa(f, AQ_CQ_ADDR + slot * sizeof(*cqe));
	if ((cqe->flags & DBNIC_CQE_F_PHASE) != dbnic_cq_phase(f->aq_ci, AQ_LOG) ||
	    cqe->cmd_id != cmd->cmd_id) {
		fprintf(stderr, "harness: no admin completion\n");
		abort();
	}
	f->aq_ci++;
	if (result)
		*result = cqe->result;
	if (result2)
		*result2 = cqe->result2;
	return cqe->status;
}

uint32_t create_ctx(struct fake *f, bool privileged)
{
	struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_CTX };
	uint32_t ctx;

	cmd.create_ctx.flags = privileged ? DBNIC_CTX_F_PRIVILEGED : 0;
	if (admin(f, &cmd, &ctx) != DBNIC_AST_OK)
		abort();
	return ctx;
}

uint8_t reg_mr(struct fake *f, uint32_t ctx, uint64_t iova, uint64_t len,
	       const uint64_t *pages, uint32_t npages, uint8_t access,
	       uint32_t *key)
{
	struct dbnic_admin_cmd cmd;
	uint64_t list = fake_alloc(f, 8ull * npages, 8);

	memcpy(gpa(f, list), pages, 8ull * npages);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_REG_MR;
	cmd.reg_mr.iova = iova;
	cmd.reg_mr.length = len;
	cmd.reg_mr.pages = list;
	cmd.reg_mr.ctx = ctx;
	cmd.reg_mr.npages = npages;
	cmd.reg_mr.page_shift = 12;
	cmd.reg_mr.access = access;
	return admin(f, &cmd, key);
}

uint8_t dereg_mr(struct fake *f, uint32_t key)
{
	struct dbnic_admin_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_DEREG_MR;
	cmd.destroy.handle = key;
	return admin(f, &cmd, NULL);
}

uint8_t destroy(struct fake *f, uint8_t opcode, uint32_t handle)
{
	struct dbnic_admin_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = opcode;
	cmd.destroy.handle = handle;
	return admin(f, &cmd, NULL);
}

void hq_on_ctx(struct fake *f, struct hq *q, uint32_t ctx, uint8_t log_size,
	       uint8_t log_stride)
{
	struct dbnic_admin_cmd cmd;

	memset(q, 0, sizeof(*q));
	q->f = f;
	q->ctx = ctx;
	q->log_size = log_size;
	q->log_stride = log_stride;
	q->cq_log = harness_cq_log ? harness_cq_log : 6;
	q->cq_base = fake_alloc(f, sizeof(struct dbnic_cqe) << q->cq_log, 4096);
	q->sq_base = fake_alloc(f, (uint64_t)1 << (log_size + log_stride), 4096);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_CQ;
	cmd.create_cq.base = q->cq_base;
	cmd.create_cq.ctx = ctx;
	cmd.create_cq.log_size = q->cq_log;
	cmd.create_cq.msix_vector = harness_cq_vector ? harness_cq_vector : 1;
	if (admin(f, &cmd, &q->cqn) != DBNIC_AST_OK)
		abort();

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_SQ;
	cmd.create_sq.base = q->sq_base;
	cmd.create_sq.ctx = ctx;
	cmd.create_sq.cqn = q->cqn;
	cmd.create_sq.log_size = log_size;
	cmd.create_sq.log_stride = log_stride;
	if (admin(f, &cmd, &q->qid) != DBNIC_AST_OK)
		abort();
}

void hq_create(struct fake *f, struct hq *q, bool privileged, uint8_t log_size,
	       uint8_t log_stride)
{
	hq_on_ctx(f, q, create_ctx(f, privileged), log_size, log_stride);
}

void desc_nop(struct dbnic_desc *d, const struct hq *q, uint16_t index)
{
	memset(d, 0, sizeof(*d));
	d->hdr.opcode = DBNIC_OP_NOP;
	d->hdr.flags = DBNIC_DESC_F_COMPLETION;
	d->hdr.size = 1;
	d->hdr.index = index;
	d->hdr.qid = q->qid;
}

void desc_copy(struct dbnic_desc *d, const struct hq *q, uint16_t index,
	       const uint64_t *src, const uint32_t *slen, unsigned int nsrc,
	       const uint64_t *dst, const uint32_t *dlen, unsigned int ndst)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->hdr.opcode = DBNIC_OP_COPY;
	d->hdr.flags = DBNIC_DESC_F_COMPLETION;
	d->hdr.size = dbnic_desc_blocks(nsrc + ndst);
	d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, nsrc) |
		      DBNIC_SET(DBNIC_NSGE_DST, ndst);
	d->hdr.index = index;
	d->hdr.qid = q->qid;
	for (i = 0; i < nsrc; i++) {
		d->sge[i].addr = src[i];
		d->sge[i].len = slen[i];
	}
	for (i = 0; i < ndst; i++) {
		d->sge[nsrc + i].addr = dst[i];
		d->sge[nsrc + i].len = dlen[i];
	}
}

void desc_seal(struct dbnic_desc *d)
{
	d->hdr.csum = dbnic_desc_csum(d, d->hdr.size * DBNIC_DESC_BLOCK_SIZE / 8);
}

void ring_put(struct hq *q, const struct dbnic_desc *d)
{
	uint64_t a = q->sq_base +
		     ((uint64_t)dbnic_ring_slot(d->hdr.index, q->log_size) <<
		      q->log_stride);

	memcpy(gpa(q->f, a), d, (size_t)1 << q->log_stride);
}

void ring_doorbell(struct hq *q, uint16_t pi)
{
	dbnic_core_db_write(&q->f->core,
			    ((uint64_t)q->ctx << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_SQ,
			    dbnic_db_sq_val(q->qid, pi), 4);
}

uint16_t post_ring(struct hq *q, struct dbnic_desc *d)
{
	uint16_t index = q->pi++;

	d->hdr.index = index;
	ring_put(q, d);
	ring_doorbell(q, q->pi);
	return index;
}

void prio_store(struct fake *f, uint32_t ctx, unsigned int slot,
		unsigned int byte, uint64_t val, unsigned int size)
{
	dbnic_core_db_write(&f->core,
			    ((uint64_t)ctx << DBNIC_DB_PAGE_SHIFT) +
			    DBNIC_PRIO_SLOT_OFFSET(slot) + byte, val, size);
}

void prio_copy(struct fake *f, uint32_t ctx, unsigned int slot,
	       const struct dbnic_desc *d, const unsigned int *order,
	       unsigned int nwords)
{
	const uint8_t *p = (const uint8_t *)d;
	unsigned int i;

	for (i = 0; i < nwords; i++) {
		unsigned int w = order ? order[i] : i;
		uint64_t v;

		memcpy(&v, p + 8 * w, 8);
		prio_store(f, ctx, slot, 8 * w, v, 8);
	}
}

uint16_t post_prio(struct hq *q, struct dbnic_desc *d, const unsigned int *order)
{
	uint16_t index = q->pi++;
	unsigned int slot = q->pair * 2 + (q->next_slot ^= 1);

	d->hdr.index = index;
	desc_seal(d);
	ring_put(q, d);
	prio_copy(q->f, q->ctx, slot, d, order,
		  d->hdr.size * DBNIC_DESC_BLOCK_SIZE / 8);
	return index;
}

bool cq_poll(struct hq *q, struct dbnic_cqe *out)
{
	unsigned int slot = dbnic_ring_slot(q->cq_ci, q->cq_log);
	struct dbnic_cqe *cqe = gpa(q->f, q->cq_base + slot * sizeof(*cqe));

	if ((cqe->flags & DBNIC_CQE_F_PHASE) != dbnic_cq_phase(q->cq_ci, q->cq_log))
		return false;
	*out = *cqe;
	q->cq_ci++;
	dbnic_core_db_write(&q->f->core,
			    ((uint64_t)q->ctx << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_CQ,
			    dbnic_db_cq_val(q->cqn, q->cq_ci, 0), 4);
	return true;
}

bool eq_poll(struct fake *f, struct dbnic_eqe *out)
{
	unsigned int slot = dbnic_ring_slot(f->eq_ci, f->eq_log);
	struct dbnic_eqe *e = gpa(f, EQ_ADDR + slot * sizeof(*e));

	if (!f->eq_log ||
	    (e->flags & DBNIC_CQE_F_PHASE) != dbnic_cq_phase(f->eq_ci, f->eq_log))
		return false;
	*out = *e;
	f->eq_ci++;
	wr32(f, DBNIC_REG_EQ_CI, f->eq_ci);
	return true;
}

void cq_arm(struct hq *q)
{
	dbnic_core_db_write(&q->f->core,
			    ((uint64_t)q->ctx << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_CQ,
			    dbnic_db_cq_val(q->cqn, q->cq_ci, 1), 4);
}

/* ---- the network port ---- */

void hrq_create(struct hq *q, struct hrq *r, uint8_t log_size,
		uint8_t log_stride, uint16_t vector)
{
	struct fake *f = q->f;
	struct dbnic_admin_cmd cmd;

	memset(r, 0, sizeof(*r));
	r->f = f;
	r->ctx = q->ctx;
	r->log_size = log_size;
	r->log_stride = log_stride;
	r->cq_log = 6;
	r->cq_base = fake_alloc(f, sizeof(struct dbnic_cqe) << r->cq_log, 4096);
	r->base = fake_alloc(f, (uint64_t)1 << (log_size + log_stride), 4096);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_CQ;
	cmd.create_cq.base = r->cq_base;
	cmd.create_cq.ctx = q->ctx;
	cmd.create_cq.log_size = r->cq_log;
	cmd.create_cq.msix_vector = vector;
	if (admin(f, &cmd, &r->cqn) != DBNIC_AST_OK)
		abort();
	r->status = hrq_create_on(r, r->cqn);
}

uint8_t hrq_create_on(struct hrq *r, uint32_t cqn)
{
	struct dbnic_admin_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = DBNIC_ADM_CREATE_RQ;
	cmd.create_sq.base = r->base;
	cmd.create_sq.ctx = r->ctx;
	cmd.create_sq.cqn = cqn;
	cmd.create_sq.log_size = r->log_size;
	cmd.create_sq.log_stride = r->log_stride;
	return admin(r->f, &cmd, &r->rqn);
}

void recv_put(struct hrq *r, uint16_t index, const uint64_t *addr,
	      const uint32_t *len, unsigned int n)
{
	struct dbnic_desc d;
	unsigned int i;
	uint64_t a = r->base + ((uint64_t)dbnic_ring_slot(index, r->log_size) <<
				r->log_stride);

	memset(&d, 0, sizeof(d));
	d.hdr.opcode = DBNIC_OP_RECV;
	d.hdr.flags = DBNIC_DESC_F_COMPLETION;
	d.hdr.size = dbnic_desc_blocks(n);
	d.hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, n);
	d.hdr.index = index;
	d.hdr.qid = r->rqn;
	for (i = 0; i < n; i++) {
		d.sge[i].addr = addr[i];
		d.sge[i].len = len[i];
	}
	memcpy(gpa(r->f, a), &d, (size_t)1 << r->log_stride);
}

void *recv_slot(struct hrq *r, uint16_t index)
{
	return gpa(r->f, r->base + ((uint64_t)dbnic_ring_slot(index, r->log_size)
				   << r->log_stride));
}

void rq_doorbell(struct hrq *r, uint16_t pi)
{
	dbnic_core_db_write(&r->f->core,
			    ((uint64_t)r->ctx << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_RQ,
			    dbnic_db_rq_val(r->rqn, pi), 4);
}

uint64_t recv_post(struct hrq *r, uint32_t len)
{
	uint64_t buf = fake_alloc(r->f, len, 64);

	recv_put(r, r->pi, &buf, &len, 1);
	r->pi++;
	rq_doorbell(r, r->pi);
	return buf;
}

bool rx_cq_poll(struct hrq *r, struct dbnic_rx_cqe *out)
{
	unsigned int slot = dbnic_ring_slot(r->cq_ci, r->cq_log);
	struct dbnic_rx_cqe *cqe = gpa(r->f, r->cq_base + slot * sizeof(*cqe));

	if ((cqe->flags & DBNIC_CQE_F_PHASE) != dbnic_cq_phase(r->cq_ci, r->cq_log))
		return false;
	*out = *cqe;
	r->cq_ci++;
	dbnic_core_db_write(&r->f->core,
			    ((uint64_t)r->ctx << DBNIC_DB_PAGE_SHIFT) + DBNIC_DB_CQ,
			    dbnic_db_cq_val(r->cqn, r->cq_ci, 0), 4);
	return true;
}

void desc_eth_tx(struct dbnic_desc *d, const struct hq *q, uint16_t offload,
		 uint16_t mss, const uint64_t *addr, const uint32_t *len,
		 unsigned int n)
{
	struct dbnic_eth_tx *e = dbnic_eth_tx_of(d);
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->hdr.opcode = DBNIC_OP_ETH_TX;
	d->hdr.flags = DBNIC_DESC_F_COMPLETION;
	d->hdr.size = dbnic_eth_tx_blocks(n, 0);
	d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, n);
	d->hdr.qid = q->qid;
	e->offload = offload;
	e->mss = mss;
	for (i = 0; i < n; i++) {
		d->sge[1 + i].addr = addr[i];
		d->sge[1 + i].len = len[i];
	}
}

void desc_eth_tx_inline(struct dbnic_desc *d, const struct hq *q,
			const void *frame, uint16_t len)
{
	memset(d, 0, sizeof(*d));
	d->hdr.opcode = DBNIC_OP_ETH_TX;
	d->hdr.flags = DBNIC_DESC_F_COMPLETION;
	d->hdr.size = dbnic_eth_tx_blocks(0, len);
	if (d->hdr.size > DBNIC_DESC_MAX_BLOCKS)	/* too long: a bad one */
		d->hdr.size = DBNIC_DESC_MAX_BLOCKS;
	d->hdr.qid = q->qid;
	dbnic_eth_tx_of(d)->inline_len = len;
	memcpy((uint8_t *)d + DBNIC_ETH_TX_DATA_OFFSET, frame,
	       len <= DBNIC_ETH_TX_MAX_INLINE ? len : DBNIC_ETH_TX_MAX_INLINE);
}

int eth_rx(struct fake *f, const void *frame, size_t len, uint32_t hash,
	   uint8_t type, uint8_t rx_flags)
{
	struct dbnic_eth_rx_meta m = {
		.hash = hash, .hash_type = type, .rx_flags = rx_flags,
	};

	return dbnic_core_eth_rx(&f->core, frame, len, &m);
}

const uint8_t *tx_frame(struct fake *f, unsigned int k, size_t *len,
			struct dbnic_eth_tx_offload *off)
{
	unsigned int i = k % HARNESS_TX_KEEP;

	if (k >= f->tx_frames || k + HARNESS_TX_KEEP < f->tx_frames)
		return NULL;
	if (len)
		*len = f->tx_len[i];
	if (off)
		*off = f->tx_off[i];
	return f->tx_buf[i];
}
