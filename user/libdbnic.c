// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libdbnic: see libdbnic.h.  The protocol is the datasheet's (sections 3
 * and 6); the ABI is dbnic_uapi.h.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libdbnic.h"

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

static void *map(int fd, size_t len, uint64_t offset)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)offset);

	return p == MAP_FAILED ? NULL : p;
}

int dbnic_open(struct dbnic_handle *h, const char *path)
{
	int ret;

	memset(h, 0, sizeof(*h));
	h->fd = open(path ? path : "/dev/dbnic0", O_RDWR | O_CLOEXEC);
	if (h->fd < 0)
		return neg_errno();
	if (ioctl(h->fd, DBNIC_IOC_QUERY, &h->info)) {
		ret = neg_errno();
		goto err;
	}
	if (h->info.abi_version != DBNIC_UAPI_VERSION) {
		ret = -EPROTO;
		goto err;
	}
	h->db = map(h->fd, h->info.db_size, h->info.db_offset);
	if (!h->db) {
		ret = neg_errno();
		goto err;
	}
	if (h->info.prio_slots) {
		h->prio = map(h->fd, h->info.prio_size, h->info.prio_offset);
		if (!h->prio) {
			ret = neg_errno();
			goto err;
		}
	}
	return 0;
err:
	dbnic_close(h);
	return ret;
}

void dbnic_close(struct dbnic_handle *h)
{
	if (h->prio)
		munmap((void *)h->prio, h->info.prio_size);
	if (h->db)
		munmap((void *)h->db, h->info.db_size);
	if (h->fd >= 0)
		close(h->fd);
	h->prio = NULL;
	h->db = NULL;
	h->fd = -1;
}

int dbnic_qp_create(struct dbnic_handle *h, struct dbnic_qp *qp,
		    unsigned int sq_log, enum dbnic_upolicy policy)
{
	return dbnic_qp_create_cq(h, qp, sq_log, 0, policy);
}

int dbnic_qp_query(struct dbnic_qp *qp, uint32_t *flags)
{
	struct dbnic_uquery_qp req = { .qid = qp->qid };

	if (ioctl(qp->h->fd, DBNIC_IOC_QUERY_QP, &req))
		return neg_errno();
	*flags = req.flags;
	return 0;
}

int dbnic_qp_create_cq(struct dbnic_handle *h, struct dbnic_qp *qp,
		       unsigned int sq_log, unsigned int cq_log,
		       enum dbnic_upolicy policy)
{
	struct dbnic_ucreate_qp req;
	struct dbnic_udestroy_qp dq = { 0 };
	int ret;

	memset(qp, 0, sizeof(*qp));
	memset(&req, 0, sizeof(req));
	req.sq_log_size = sq_log;
	req.cq_log_size = cq_log;
	if (ioctl(h->fd, DBNIC_IOC_CREATE_QP, &req))
		return neg_errno();
	qp->h = h;
	qp->qid = req.qid;
	qp->cqn = req.cqn;
	qp->sq_log = req.sq_log_size;
	qp->cq_log = req.cq_log_size_out;
	qp->stride = req.sq_log_stride_out;
	qp->sq_map = req.sq_size;
	qp->cq_map = req.cq_size;
	qp->prio_slot = req.prio_slot;
	qp->policy = policy;
	qp->fit_blocks = 1;	/* one 64-byte WC line */
	qp->sq = map(h->fd, qp->sq_map, req.sq_offset);
	qp->cq = map(h->fd, qp->cq_map, req.cq_offset);
	if (!qp->sq || !qp->cq) {
		ret = neg_errno();
		if (qp->sq)
			munmap(qp->sq, qp->sq_map);
		if (qp->cq)
			munmap((void *)qp->cq, qp->cq_map);
		dq.qid = req.qid;
		ioctl(h->fd, DBNIC_IOC_DESTROY_QP, &dq);
		return ret;
	}
	return 0;
}

int dbnic_qp_destroy(struct dbnic_qp *qp)
{
	struct dbnic_udestroy_qp dq = { .qid = qp->qid };

	munmap(qp->sq, qp->sq_map);
	munmap((void *)qp->cq, qp->cq_map);
	return ioctl(qp->h->fd, DBNIC_IOC_DESTROY_QP, &dq) ? neg_errno() : 0;
}

int dbnic_qp_has_prio(const struct dbnic_qp *qp)
{
	return qp->h->prio && qp->prio_slot != DBNIC_UAPI_NO_PRIO_SLOT &&
	       qp->prio_slot + 1 < qp->h->info.prio_slots;
}

int dbnic_mr_reg(struct dbnic_handle *h, struct dbnic_umr *mr, void *addr,
		 size_t len, uint32_t access)
{
	struct dbnic_ureg_mr req = {
		.addr = (uintptr_t)addr,
		.length = len,
		.access = access,
	};

	if (ioctl(h->fd, DBNIC_IOC_REG_MR, &req))
		return neg_errno();
	mr->key = req.key;
	mr->addr = addr;
	mr->len = len;
	return 0;
}

int dbnic_mr_dereg(struct dbnic_handle *h, struct dbnic_umr *mr)
{
	struct dbnic_udereg_mr req = { .key = mr->key };

	return ioctl(h->fd, DBNIC_IOC_DEREG_MR, &req) ? neg_errno() : 0;
}

void dbnic_sge(struct dbnic_sge *s, const void *addr, uint32_t len,
	       uint32_t key)
{
	s->addr = htole64((uintptr_t)addr);
	s->len = htole32(len);
	s->key = htole32(key);
}

static int build(struct dbnic_desc *d, uint8_t opcode,
		 const struct dbnic_sge *src, unsigned int nsrc,
		 const struct dbnic_sge *dst, unsigned int ndst)
{
	if (!ndst || nsrc + ndst > DBNIC_MAX_SGE)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->hdr.opcode = opcode;
	d->hdr.flags = DBNIC_DESC_F_COMPLETION;
	d->hdr.size = dbnic_desc_blocks(nsrc + ndst);
	d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, nsrc) |
		      DBNIC_SET(DBNIC_NSGE_DST, ndst);
	if (nsrc)
		memcpy(d->sge, src, nsrc * sizeof(*src));
	memcpy(d->sge + nsrc, dst, ndst * sizeof(*dst));
	return 0;
}

int dbnic_build_copy(struct dbnic_desc *d, const struct dbnic_sge *src,
		     unsigned int nsrc, const struct dbnic_sge *dst,
		     unsigned int ndst)
{
	return nsrc ? build(d, DBNIC_OP_COPY, src, nsrc, dst, ndst) : -EINVAL;
}

int dbnic_build_fill(struct dbnic_desc *d, uint32_t pattern,
		     const struct dbnic_sge *dst, unsigned int ndst)
{
	int ret = build(d, DBNIC_OP_FILL, NULL, 0, dst, ndst);

	if (!ret)
		d->hdr.imm = htole32(pattern);
	return ret;
}

unsigned int dbnic_qp_space(const struct dbnic_qp *qp)
{
	unsigned int ring = (1u << qp->sq_log) - dbnic_ring_used(qp->pi, qp->head);
	/* Every post gets a CQE: never more in flight than the CQ holds. */
	unsigned int cq = (1u << qp->cq_log) - qp->outstanding;

	return ring < cq ? ring : cq;
}

void dbnic_db_sq(struct dbnic_handle *h, uint32_t qid, uint16_t pi)
{
	h->db[DBNIC_DB_SQ / 4] = htole32(dbnic_db_sq_val(qid, pi));
}

void dbnic_db_cq(struct dbnic_handle *h, uint32_t cqn, uint16_t ci, int arm)
{
	h->db[DBNIC_DB_CQ / 4] = htole32(dbnic_db_cq_val(cqn, ci, arm));
}

void dbnic_prio_put(struct dbnic_handle *h, unsigned int slot,
		    const void *desc, unsigned int first, unsigned int n)
{
	volatile uint64_t *dst = h->prio +
		(DBNIC_PRIO_SLOT_OFFSET(slot) - DBNIC_PRIO_OFFSET) / 8;
	const uint8_t *src = desc;
	unsigned int i;

	/* Aligned 8-byte stores only: the device takes no other size. */
	for (i = first; i < first + n; i++) {
		uint64_t w;

		memcpy(&w, src + 8 * i, 8);
		dst[i] = w;
	}
	dbnic_wc_flush();
}

uint16_t dbnic_ring_put(struct dbnic_qp *qp, struct dbnic_desc *d, int prio)
{
	unsigned int bytes = d->hdr.size * DBNIC_DESC_BLOCK_SIZE;
	uint16_t index = qp->pi++;

	d->hdr.index = htole16(index);
	d->hdr.qid = htole16(qp->qid);
	d->hdr.csum = prio ? htole32(dbnic_desc_csum(d, bytes / 8)) : 0;
	memcpy(qp->sq + ((size_t)dbnic_ring_slot(index, qp->sq_log) << qp->stride),
	       d, bytes);
	qp->outstanding++;
	/* The ring copy is in place before anything announces it. */
	dbnic_dma_wmb();
	return index;
}

int dbnic_post(struct dbnic_qp *qp, struct dbnic_desc *d,
	       enum dbnic_upath path)
{
	unsigned int bytes = d->hdr.size * DBNIC_DESC_BLOCK_SIZE;

	if (!d->hdr.size || d->hdr.size > DBNIC_DESC_MAX_BLOCKS ||
	    bytes > (1u << qp->stride))
		return -EINVAL;
	if (path == DBNIC_UPATH_AUTO) {
		path = DBNIC_UPATH_RING;
		if (dbnic_qp_has_prio(qp) &&
		    (qp->policy == DBNIC_UPOLICY_PRIO ||
		     (qp->policy == DBNIC_UPOLICY_AUTO &&
		      d->hdr.size <= qp->fit_blocks)))
			path = DBNIC_UPATH_PRIO;
	}
	if (path == DBNIC_UPATH_PRIO && !dbnic_qp_has_prio(qp))
		return -EOPNOTSUPP;
	if (!dbnic_qp_space(qp))
		return -EAGAIN;

	d->hdr.flags |= DBNIC_DESC_F_COMPLETION;
	dbnic_ring_put(qp, d, path == DBNIC_UPATH_PRIO);
	if (path == DBNIC_UPATH_RING) {
		dbnic_db_sq(qp->h, qp->qid, qp->pi);
		qp->posted_ring++;
	} else {
		/* The priority write is the doorbell for index + 1. */
		dbnic_prio_put(qp->h, qp->prio_slot + qp->prio_next, d, 0,
			       bytes / 8);
		qp->prio_next ^= 1;
		qp->posted_prio++;
	}
	return path;
}

int dbnic_poll(struct dbnic_qp *qp, struct dbnic_cqe *out, int max)
{
	int n = 0;

	while (n < max) {
		volatile struct dbnic_cqe *e =
			&qp->cq[dbnic_ring_slot(qp->ci, qp->cq_log)];
		uint16_t head;

		if ((e->flags & DBNIC_CQE_F_PHASE) !=
		    dbnic_cq_phase(qp->ci, qp->cq_log))
			break;
		/* The phase is new: so is the rest of the entry. */
		dbnic_dma_rmb();
		memcpy(&out[n], (const void *)e, sizeof(out[n]));
		head = le16toh(out[n].sq_head);
		/* Never free slots that were not posted. */
		if (dbnic_ring_used(head, qp->head) <=
		    dbnic_ring_used(qp->pi, qp->head))
			qp->head = head;
		qp->ci++;
		if (qp->outstanding)
			qp->outstanding--;
		n++;
	}
	/* The device drops CQEs when it thinks the CQ full: tell it. */
	if (n)
		dbnic_db_cq(qp->h, qp->cqn, qp->ci, 0);
	return n;
}

const char *dbnic_status_name(unsigned int status)
{
	static const char * const names[] = {
		[DBNIC_ST_OK] = "OK",
		[DBNIC_ST_BAD_OPCODE] = "BAD_OPCODE",
		[DBNIC_ST_BAD_DESC] = "BAD_DESC",
		[DBNIC_ST_BAD_LENGTH] = "BAD_LENGTH",
		[DBNIC_ST_DMA_ERROR] = "DMA_ERROR",
		[DBNIC_ST_ACCESS] = "ACCESS",
		[DBNIC_ST_MISMATCH] = "MISMATCH",
		[DBNIC_ST_BAD_DOORBELL] = "BAD_DOORBELL",
		[DBNIC_ST_FLUSHED] = "FLUSHED",
	};

	if (status < sizeof(names) / sizeof(names[0]) && names[status])
		return names[status];
	return "?";
}
