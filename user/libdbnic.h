/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libdbnic: user-space submission to a dbnic device through /dev/dbnic<N>
 * (include/dbnic_uapi.h).  No system call per descriptor: descriptors go
 * into the queue's ring in the process's memory and are announced with a
 * 32-bit store to the process's doorbell page, or copied whole into a
 * priority slot of its write-combining priority area.  Completions are
 * polled by phase bit.
 *
 * Not thread-safe: one thread per queue (struct dbnic_qp), and the
 * priority slots a queue uses are the pair the driver gave it.
 */
#ifndef LIBDBNIC_H
#define LIBDBNIC_H

#include <stddef.h>
#include <stdint.h>

#include "dbnic_uapi.h"

/*
 * Barriers (datasheet section 8), for x86-64.
 *
 * x86 is TSO: stores become visible in program order, and a store to an
 * uncached (UC) mapping is not reordered with earlier stores either; loads
 * are not reordered with older loads.  So where the datasheet says
 * dma_wmb() / dma_rmb() (ring descriptor stores before the DB_SQ store;
 * the CQE phase load before the loads of the rest), only the compiler must
 * be stopped from moving or merging accesses: an empty asm with a memory
 * clobber, as the kernel's dma_wmb()/dma_rmb() are on x86.
 *
 * Write-combining (WC) stores are the exception: they are weakly ordered
 * among themselves and sit in a WC buffer for an unbounded time.  Earlier
 * stores still drain before them (stores leave the store buffer in order),
 * so the ring copy, the fallback, is visible before any word of the
 * priority copy.  After the priority copy, sfence drains the WC buffer: the
 * slot reaches the device now, whole, before the next post (which uses
 * the pair's other slot) and before any later store.  This is the wmb()
 * of the datasheet's protocol.
 */
#if defined(__x86_64__)
#define dbnic_barrier()		__asm__ __volatile__("" ::: "memory")
#define dbnic_dma_wmb()		dbnic_barrier()
#define dbnic_dma_rmb()		dbnic_barrier()
#define dbnic_wc_flush()	__asm__ __volatile__("sfence" ::: "memory")
#else
#error "libdbnic: the barriers are written for x86-64 only"
#endif

/* How a descriptor is announced. */
enum dbnic_upath {
	DBNIC_UPATH_AUTO,	/* the queue's policy */
	DBNIC_UPATH_RING,	/* ring, then a DB_SQ store */
	DBNIC_UPATH_PRIO,	/* ring, then the whole descriptor into a slot */
};

/* A queue's policy for DBNIC_UPATH_AUTO. */
enum dbnic_upolicy {
	DBNIC_UPOLICY_RING,	/* always the ring */
	DBNIC_UPOLICY_PRIO,	/* always the priority area, if any */
	DBNIC_UPOLICY_AUTO,	/* priority for descriptors of fit_blocks */
};

/* An open device: one context and its doorbell page. */
struct dbnic_handle {
	int fd;
	struct dbnic_uinfo info;
	volatile uint32_t *db;		/* doorbell region, uncached */
	volatile uint64_t *prio;	/* priority area, WC; NULL: none */
};

struct dbnic_qp {
	struct dbnic_handle *h;
	uint32_t qid;
	uint32_t cqn;
	uint8_t *sq;			/* ring of 2^sq_log slots */
	volatile struct dbnic_cqe *cq;	/* 2^cq_log entries */
	size_t sq_map;
	size_t cq_map;
	unsigned int sq_log;
	unsigned int cq_log;
	unsigned int stride;		/* log2 bytes per slot */
	uint16_t pi;			/* next index */
	uint16_t head;			/* ring slots before it are free */
	uint16_t ci;			/* next CQE */
	unsigned int outstanding;	/* posted, CQE not yet polled */
	unsigned int prio_slot;		/* first of the pair, or NO_PRIO */
	unsigned int prio_next;		/* 0 or 1 */
	enum dbnic_upolicy policy;
	unsigned int fit_blocks;	/* largest AUTO sends as priority */
	uint64_t posted_ring;
	uint64_t posted_prio;
};

/* A registered buffer. */
struct dbnic_umr {
	uint32_t key;
	void *addr;
	size_t len;
};

/* All return 0 or a negative errno unless said otherwise. */
int dbnic_open(struct dbnic_handle *h, const char *path);
void dbnic_close(struct dbnic_handle *h);

int dbnic_qp_create(struct dbnic_handle *h, struct dbnic_qp *qp,
		    unsigned int sq_log, enum dbnic_upolicy policy);
/* As dbnic_qp_create(), with a CQ of 2^cq_log entries (0: the default). */
int dbnic_qp_create_cq(struct dbnic_handle *h, struct dbnic_qp *qp,
		       unsigned int sq_log, unsigned int cq_log,
		       enum dbnic_upolicy policy);
/* DBNIC_UQP_F_* of the queue in *flags (CQ in error: queue stopped). */
int dbnic_qp_query(struct dbnic_qp *qp, uint32_t *flags);
int dbnic_qp_destroy(struct dbnic_qp *qp);
int dbnic_qp_has_prio(const struct dbnic_qp *qp);

/* access: 0 (source only) or DBNIC_MR_LOCAL_WRITE. */
int dbnic_mr_reg(struct dbnic_handle *h, struct dbnic_umr *mr, void *addr,
		 size_t len, uint32_t access);
int dbnic_mr_dereg(struct dbnic_handle *h, struct dbnic_umr *mr);

/* Descriptors: SGEs name user addresses with the key of their buffer. */
void dbnic_sge(struct dbnic_sge *s, const void *addr, uint32_t len,
	       uint32_t key);
int dbnic_build_copy(struct dbnic_desc *d, const struct dbnic_sge *src,
		     unsigned int nsrc, const struct dbnic_sge *dst,
		     unsigned int ndst);
int dbnic_build_fill(struct dbnic_desc *d, uint32_t pattern,
		     const struct dbnic_sge *dst, unsigned int ndst);

/* Descriptors the queue can take now. */
unsigned int dbnic_qp_space(const struct dbnic_qp *qp);

/*
 * Post @d (hdr.index, qid and csum are filled in; COMPLETION is forced,
 * every post gets one CQE).  Return: the path used, -EAGAIN when the
 * queue is full (poll), -EINVAL, -EOPNOTSUPP (no priority slots).
 */
int dbnic_post(struct dbnic_qp *qp, struct dbnic_desc *d,
	       enum dbnic_upath path);

/* Take up to @max completions.  Return: how many. */
int dbnic_poll(struct dbnic_qp *qp, struct dbnic_cqe *out, int max);

/*
 * Raw primitives, for tests that misbehave on purpose.  They follow the
 * same barriers as dbnic_post() but check nothing.
 */
uint16_t dbnic_ring_put(struct dbnic_qp *qp, struct dbnic_desc *d, int prio);
void dbnic_db_sq(struct dbnic_handle *h, uint32_t qid, uint16_t pi);
void dbnic_db_cq(struct dbnic_handle *h, uint32_t cqn, uint16_t ci, int arm);
/* 64-bit stores of words [first, first + n) of @desc into slot @slot. */
void dbnic_prio_put(struct dbnic_handle *h, unsigned int slot,
		    const void *desc, unsigned int first, unsigned int n);

const char *dbnic_status_name(unsigned int status);

#endif /* LIBDBNIC_H */
