/*
 * Host test harness for the dbnic device core: a fake machine (guest
 * memory, interrupts, clock, bottom half) and a minimal host driver that
 * speaks the datasheet through the core's MMIO entry points.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DBNIC_HARNESS_H
#define DBNIC_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dbnic_core.h"

/* Guest memory: [MEM_BASE, MEM_BASE + MEM_SIZE); DMA elsewhere fails. */
#define MEM_BASE	0x100000ull
#define MEM_SIZE	(8u << 20)

#define AQ_SQ_ADDR	(MEM_BASE + 0x0000)
#define AQ_CQ_ADDR	(MEM_BASE + 0x1000)
#define AQ_LOG		3
#define EQ_ADDR		(MEM_BASE + 0x1400)	/* up to 64 entries */

struct fake {
	struct dbnic_core core;
	uint8_t *mem;
	uint64_t now;
	bool scheduled;
	uint64_t timer_at;		/* 0: not armed */
	unsigned int irqs[256];		/* per vector */
	unsigned int dma_reads;
	unsigned int dma_writes;
	uint16_t aq_pi;
	uint16_t aq_ci;
	uint16_t eq_ci;			/* host consumer of the EQ */
	unsigned int eq_log;		/* 0: no EQ */
	bool ack_irq0;			/* host acks vector 0 at once */
	unsigned int acks;		/* vector-0 interrupts it acked */
	unsigned int runs;		/* dbnic_core_run() calls traced */
	uint64_t visits;		/* queue scan visits, all runs */
	uint32_t max_visits;		/* most visits of one run */
	uint64_t alloc_next;		/* bump allocator for test buffers */
	unsigned int maps;		/* successful ops->map() calls */
	unsigned int maps_live;		/* mapped and not yet unmapped */
	uint64_t map_bytes;		/* bytes accessed through mappings */
	uint64_t nomap_lo, nomap_hi;	/* map() refuses this, as MMIO */
	/* The port: frames ops->eth_tx took, the last HARNESS_TX_KEEP kept. */
	unsigned int tx_frames;
	uint8_t *tx_buf[8];
	size_t tx_len[8];
	struct dbnic_eth_tx_offload tx_off[8];
	bool tx_busy;			/* eth_tx answers BUSY */
	unsigned int tx_held;		/* frames eth_reset says it dropped */
	unsigned int eth_resets;	/* eth_reset calls */
	unsigned int rx_ready;		/* eth_rx_ready calls */
	/* Optional: each frame ops->eth_tx takes, as it takes it (a wire). */
	void (*tx_hook)(struct fake *f, const void *buf, size_t len);
	/* Called after each DMA read: a guest that writes in between. */
	void (*after_read)(struct fake *f, uint64_t addr, size_t len);
	/* Called after each DMA write that succeeded. */
	void (*after_write)(struct fake *f, uint64_t addr, size_t len);
};

#define HARNESS_TX_KEEP	8

/* A host view of one receive queue and its own CQ. */
struct hrq {
	struct fake *f;
	uint32_t ctx;
	uint32_t rqn;
	uint32_t cqn;
	uint64_t base;
	uint64_t cq_base;
	uint8_t log_size;
	uint8_t log_stride;
	uint8_t cq_log;
	uint8_t status;			/* of CREATE_RQ */
	uint16_t pi;
	uint16_t cq_ci;
};

/*
 * ops->map() cuts each mapping at a multiple of this, as QEMU's stops at
 * the end of a memory region, so that copies see short mappings.
 */
#define HARNESS_MAP_SPLIT	(16u << 10)

/* A host view of one context with one CQ and one SQ. */
struct hq {
	struct fake *f;
	uint32_t ctx;
	uint32_t cqn;
	uint32_t qid;
	uint64_t sq_base;
	uint64_t cq_base;
	uint8_t log_size;
	uint8_t log_stride;
	uint8_t cq_log;
	uint16_t pi;			/* host producer */
	uint16_t cq_ci;			/* host consumer */
	unsigned int next_slot;		/* priority slot pair: 0/1 + 2 * pair */
	unsigned int pair;
};

extern int t_failed;
/* Timing model for the next fake_init(); reset after each test. */
extern uint32_t harness_dma_latency_ns;
extern uint32_t harness_db_latency_ns;
extern uint32_t harness_desc_ns;
extern uint32_t harness_byte_ps;
/* Doorbell pages for the next fake_init() (0: 4); reset after each test. */
extern uint32_t harness_db_pages;
/* Test-only admin delay for the next fake_init(); reset after each test. */
extern uint32_t harness_admin_delay_ms;
extern uint32_t harness_admin_delay_ops;
/* For the next fake_init() / hq_on_ctx(); reset after each test. */
extern unsigned int harness_eq_log;	/* 0: no event queue */
extern uint32_t harness_max_sq;		/* 0: 8 */
extern unsigned int harness_cq_log;	/* 0: 6 */
extern unsigned int harness_cq_vector;	/* 0: 1 */
/* Inline execution off (device default: on); no ops->map (default: has it). */
extern bool harness_no_inline;
extern bool harness_no_map;
/* A device without RDMA (the roce property off); default: with it. */
extern bool harness_no_roce;
/*
 * Every test runs in both modes: inline execution and map on (as the
 * device is by default), then both off.  Set by main() for all tests.
 */
extern bool harness_legacy;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "    %s:%d: CHECK(%s) failed\n",	\
				__FILE__, __LINE__, #cond);		\
			t_failed = 1;					\
			return;						\
		}							\
	} while (0)

#define CHECK_EQ(a, b)							\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (_a != _b) {						\
			fprintf(stderr, "    %s:%d: %s == %lld, want %s == %lld\n", \
				__FILE__, __LINE__, #a, _a, #b, _b);	\
			t_failed = 1;					\
			return;						\
		}							\
	} while (0)

/* Machine. */
void fake_init(struct fake *f);		/* core + admin queue, enabled */
void fake_free(struct fake *f);
void harness_cleanup(void);	/* free what a failed test left */
void fake_run(struct fake *f);		/* run the bottom half until idle */
void fake_advance(struct fake *f, uint64_t ns);	/* clock; fires timer */
/*
 * Leave the engine a run to do (a repeated admin doorbell), as when other
 * queues keep it busy: nothing runs inline until the next fake_run().
 */
void engine_pending(struct fake *f);
uint64_t fake_alloc(struct fake *f, uint64_t size, uint64_t align);
void *gpa(struct fake *f, uint64_t addr);
uint64_t counter(struct fake *f, enum dbnic_counter i);

/* Admin. */
uint8_t admin(struct fake *f, struct dbnic_admin_cmd *cmd, uint32_t *result);
/* The same, with the admin CQE's result2 (1.4) in *result2 if not NULL. */
uint8_t admin_r2(struct fake *f, struct dbnic_admin_cmd *cmd, uint32_t *result,
		 uint32_t *result2);
uint32_t create_ctx(struct fake *f, bool privileged);

/*
 * Register [iova, iova + len) backed by the given guest pages (4 KiB each);
 * returns the status, the key in *key.
 */
uint8_t reg_mr(struct fake *f, uint32_t ctx, uint64_t iova, uint64_t len,
	       const uint64_t *pages, uint32_t npages, uint8_t access,
	       uint32_t *key);
uint8_t dereg_mr(struct fake *f, uint32_t key);
/* DESTROY_CTX, DESTROY_CQ, DESTROY_SQ: the admin status. */
uint8_t destroy(struct fake *f, uint8_t opcode, uint32_t handle);

/* Queues. */
void hq_create(struct fake *f, struct hq *q, bool privileged,
	       uint8_t log_size, uint8_t log_stride);
void hq_on_ctx(struct fake *f, struct hq *q, uint32_t ctx,
	       uint8_t log_size, uint8_t log_stride);

/* Descriptors. */
void desc_nop(struct dbnic_desc *d, const struct hq *q, uint16_t index);
void desc_copy(struct dbnic_desc *d, const struct hq *q, uint16_t index,
	       const uint64_t *src, const uint32_t *slen, unsigned int nsrc,
	       const uint64_t *dst, const uint32_t *dlen, unsigned int ndst);
void desc_seal(struct dbnic_desc *d);	/* compute csum */

/* Write d into the ring at its index (does not ring). */
void ring_put(struct hq *q, const struct dbnic_desc *d);
void ring_doorbell(struct hq *q, uint16_t pi);
/* Ring path: ring_put + doorbell; returns the index. */
uint16_t post_ring(struct hq *q, struct dbnic_desc *d);
/*
 * Priority path: ring_put, then the copy into a priority slot, 8-byte
 * words in the given order (NULL: ascending).  Returns the index.
 */
uint16_t post_prio(struct hq *q, struct dbnic_desc *d, const unsigned int *order);
/* Raw priority stores into the page of ctx. */
void prio_store(struct fake *f, uint32_t ctx, unsigned int slot,
		unsigned int byte, uint64_t val, unsigned int size);
void prio_copy(struct fake *f, uint32_t ctx, unsigned int slot,
	       const struct dbnic_desc *d, const unsigned int *order,
	       unsigned int nwords);

/* Events: the next EQE (consumed and reported with EQ_CI), or false. */
bool eq_poll(struct fake *f, struct dbnic_eqe *out);

/* Completions: the next CQE, or false if none is there. */
bool cq_poll(struct hq *q, struct dbnic_cqe *out);
void cq_arm(struct hq *q);

/*
 * The network port.  hrq_create: a CQ on vector (q's context) and an RQ
 * on it; CREATE_RQ's status in r->status.  hrq_create_on: CREATE_RQ
 * again, on CQ cqn, for r's ring.
 */
void hrq_create(struct hq *q, struct hrq *r, uint8_t log_size,
		uint8_t log_stride, uint16_t vector);
uint8_t hrq_create_on(struct hrq *r, uint32_t cqn);
/* Write a RECV of n SGEs (key 0) at ring index index (no doorbell). */
void recv_put(struct hrq *r, uint16_t index, const uint64_t *addr,
	      const uint32_t *len, unsigned int n);
void *recv_slot(struct hrq *r, uint16_t index);
void rq_doorbell(struct hrq *r, uint16_t pi);
/* Post one fresh buffer of len bytes; returns its address. */
uint64_t recv_post(struct hrq *r, uint32_t len);
bool rx_cq_poll(struct hrq *r, struct dbnic_rx_cqe *out);
/* ETH_TX of n SGEs (key 0), or of len inline bytes. */
void desc_eth_tx(struct dbnic_desc *d, const struct hq *q, uint16_t offload,
		 uint16_t mss, const uint64_t *addr, const uint32_t *len,
		 unsigned int n);
void desc_eth_tx_inline(struct dbnic_desc *d, const struct hq *q,
			const void *frame, uint16_t len);
/* A frame from the network, with the glue's metadata. */
int eth_rx(struct fake *f, const void *frame, size_t len, uint32_t hash,
	   uint8_t type, uint8_t rx_flags);
/* Frame k (0: the first) that ops->eth_tx took, or NULL. */
const uint8_t *tx_frame(struct fake *f, unsigned int k, size_t *len,
			struct dbnic_eth_tx_offload *off);

#endif
