/* SPDX-License-Identifier: ((GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * dbnic RDMA user ABI: the driver-specific parts of the uverbs commands,
 * shared by the kernel's dbnic_rdma driver (drivers/rdma) and the
 * rdma-core provider (user/rdma-core/providers/dbnic).
 *
 * This is the driver's interface, not the device's: every hardware fact
 * (WQE and CQE layouts, doorbell offsets, limits) is in dbnic_hw.h
 * (datasheet section 11).
 *
 * Versioning.  The kernel reports DBNIC_UVERBS_ABI_VERSION as the
 * device's uverbs ABI version; the provider accepts exactly that one.
 * Every request starts with comp_mask: a bit set there names a field or
 * behaviour added later.  The kernel copies what it knows of a request
 * (ib_copy_from_udata of min(inlen, sizeof)), refuses unknown comp_mask
 * bits and a longer request whose extra bytes are not zero (EOPNOTSUPP),
 * and answers with min(outlen, sizeof(resp)) bytes, so that an older
 * provider (shorter structs) keeps working with a newer kernel.
 *
 * Mapping.  Each user context owns one doorbell page of the device
 * (datasheet section 3), given to the process as two mmap offsets:
 * db_key (4 KiB doorbell region, mapped uncached) and prio_key (4 KiB
 * priority area, write-combining; 0 when the device has no priority
 * slots).  Rings live in driver memory and are mapped cached at their
 * *_key offsets with MAP_SHARED, length = the ring's size rounded up to
 * pages.  Offsets are opaque cookies of rdma_user_mmap_entry.
 */
#ifndef DBNIC_ABI_H
#define DBNIC_ABI_H

#include <linux/types.h>

#define DBNIC_UVERBS_ABI_VERSION	1

/* alloc_ucontext: no request fields. */
struct dbnic_alloc_ucontext_resp {
	__u32	comp_mask;
	__u32	ctx;		/* device context = doorbell page index */
	__aligned_u64 db_key;	/* mmap offset: doorbell region, UC */
	__aligned_u64 prio_key;	/* mmap offset: priority area, WC; 0: none */
	__u32	prio_slots;	/* DBNIC_PRIO_SLOTS, or 0 */
	__u32	max_inline;	/* DBNIC_RDMA_MAX_INLINE */
};

/*
 * CQ ring: the kernel makes it at least twice the depth asked for (a
 * power of two), so the provider may report its consumer index lazily,
 * every quarter ring and with each ARM, without the device ever finding
 * the ring full (datasheet 6.1) while the application has at most the
 * asked-for depth outstanding.
 */
struct dbnic_create_cq_resp {
	__u32	comp_mask;
	__u32	cqn;
	__aligned_u64 ring_key;	/* mmap offset of the CQE ring */
	__u32	log_size;	/* 2^log_size struct dbnic_rdma_cqe */
	__u32	rsvd;
};

struct dbnic_create_qp {
	__u32	comp_mask;
	__u32	rsvd;
};

struct dbnic_create_qp_resp {
	__u32	comp_mask;
	__u32	qpn;
	__u32	qid;		/* the QP's send queue: DB_SQ, DB_QP_RQ, CQEs */
	__u8	sq_log_size;
	__u8	sq_log_stride;
	__u8	rq_log_size;
	__u8	rq_log_stride;
	__aligned_u64 sq_key;	/* mmap offset of the send ring */
	__aligned_u64 rq_key;	/* mmap offset of the receive ring */
	__u32	prio_slot;	/* first slot of the QP's pair (0, 2, 4, 6) */
	__u32	rsvd;
};

struct dbnic_create_ah_resp {
	__u32	comp_mask;
	__u32	ah;		/* device handle for dbnic_rdma_seg.ah */
};

#endif /* DBNIC_ABI_H */
