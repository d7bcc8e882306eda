/* SPDX-License-Identifier: ((GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * dbnic user-space submission: the ioctl and mmap ABI of /dev/dbnic<N>.
 *
 * This is the driver's interface, not the device's: every hardware fact
 * (descriptor and completion layouts, doorbell offsets, limits) is in
 * dbnic_hw.h, which this file includes for its types.
 *
 * Each open() of /dev/dbnic<N> creates one unprivileged device context:
 * its own doorbell page and nothing else.  The process then
 *   1. DBNIC_IOC_QUERY to learn its context, limits and mmap offsets;
 *   2. mmap()s its doorbell region (uncached) and, if prio_slots is not 0,
 *      its priority area (write-combining), each one page at the offsets
 *      QUERY returned;
 *   3. DBNIC_IOC_CREATE_QP for a send queue and its completion queue, and
 *      mmap()s both rings at the offsets CREATE_QP returned;
 *   4. DBNIC_IOC_REG_MR for each buffer; descriptors name buffers by
 *      (user address, key);
 *   5. posts without system calls: descriptor into the ring, then a DB_SQ
 *      write or a copy into a priority slot; polls its CQ by phase and
 *      reports its consumer index with DB_CQ (datasheet sections 3, 6).
 *
 * Mappings must be MAP_SHARED, not executable, exactly one object each
 * (offset as returned, length at most the object's size rounded up to
 * pages), and made by the process that opened the file.  They are not
 * inherited across fork().  Only that process may issue ioctls (EPERM).
 *
 * close() (or the death of the process) destroys the context: its queues
 * and registrations go, pinned memory is released.  When the device goes
 * away (unbind, hot unplug) or is reset (sysfs "reset", a PCI error) the
 * mappings are revoked (further accesses raise SIGBUS) and every ioctl
 * fails with ENODEV; close the file.  After a reset, open the device
 * again.  The driver module cannot be unloaded while any such file is
 * open.
 *
 * Limits: a user (real uid) may have at most max_user_contexts (module
 * parameter, default 16) files of one device open at a time; open()
 * fails with EUSERS past that, unless the caller has CAP_SYS_RESOURCE.
 * The rings of queue pairs and the pages of registrations count against
 * RLIMIT_MEMLOCK (VmPin) unless the process has CAP_IPC_LOCK, and the
 * memory is charged to the opener's memory cgroup.
 *
 * Completion queues are polled: arming one (DB_CQ with ARM) has no effect
 * visible to the process, and sends no interrupt anywhere.
 *
 * A completion queue that overflows (more CQEs due than the process
 * consumed) enters the device's error state (datasheet section 6.1):
 * it takes no more CQEs and its send queue runs nothing more.
 * DBNIC_IOC_QUERY_QP reports DBNIC_UQP_F_CQ_ERROR then; destroy the queue
 * pair and create a new one.  Descriptors without a CQE have failed.
 */
#ifndef DBNIC_UAPI_H
#define DBNIC_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#include "dbnic_hw.h"

#define DBNIC_UAPI_VERSION		1

/* Returned as prio_slot when the queue got no pair of priority slots. */
#define DBNIC_UAPI_NO_PRIO_SLOT		0xffffffffu

/**
 * struct dbnic_uinfo - DBNIC_IOC_QUERY
 * @abi_version:	DBNIC_UAPI_VERSION
 * @ctx:		the context, which is also the doorbell page index
 * @db_page_size:	bytes of a doorbell page (both halves)
 * @db_size:		bytes of the doorbell region, mapped at @db_offset
 * @prio_size:		bytes of the priority area, mapped at @prio_offset
 * @prio_slots:		priority slots in the area; 0: ring path only
 * @features:		DBNIC_FEAT_* of the device
 * @max_xfer:		bytes one descriptor may move
 * @max_sge:		SGEs per descriptor
 * @max_blocks:		64-byte blocks per descriptor
 * @max_log_ring:	largest log2 ring size of a queue
 * @max_qps:		queue pairs one open file may create
 * @max_mrs:		registrations one open file may hold
 * @rsvd:		0
 * @max_mr_bytes:	largest registration
 * @db_offset:		mmap offset of the doorbell region (uncached)
 * @prio_offset:	mmap offset of the priority area (write-combining)
 */
struct dbnic_uinfo {
	__u32	abi_version;
	__u32	ctx;
	__u32	db_page_size;
	__u32	db_size;
	__u32	prio_size;
	__u32	prio_slots;
	__u32	features;
	__u32	max_xfer;
	__u32	max_sge;
	__u32	max_blocks;
	__u32	max_log_ring;
	__u32	max_qps;
	__u32	max_mrs;
	__u32	rsvd;
	__u64	max_mr_bytes;
	__u64	db_offset;
	__u64	prio_offset;
};

/**
 * struct dbnic_ucreate_qp - DBNIC_IOC_CREATE_QP
 * @sq_log_size:	in: log2 send queue entries, 1..max_log_ring
 * @cq_log_size:	in: log2 completion queue entries; 0 picks
 *			sq_log_size + 1 (capped at max_log_ring)
 * @sq_log_stride:	in: log2 bytes per send queue slot,
 *			DBNIC_LOG_STRIDE_MIN..MAX; 0 picks the smallest that
 *			holds a max_blocks descriptor
 * @rsvd0:		in: 0
 * @flags:		in: 0
 * @qid:		out: the send queue, for descriptors and DB_SQ
 * @cqn:		out: the completion queue, for DB_CQ
 * @prio_slot:		out: first of two priority slots this file gives
 *			the queue (slot and slot + 1), or
 *			DBNIC_UAPI_NO_PRIO_SLOT.  The driver only hands out
 *			disjoint pairs; the device does not enforce them.
 * @sq_log_stride_out:	out: the stride chosen
 * @cq_log_size_out:	out: the CQ size chosen
 * @sq_size:		out: bytes to map at @sq_offset
 * @cq_size:		out: bytes to map at @cq_offset
 * @rsvd1:		out: 0
 * @sq_offset:		out: mmap offset of the send ring
 * @cq_offset:		out: mmap offset of the completion ring
 *
 * The rings are zeroed driver memory that the device reads and writes by
 * DMA; the driver never reads them.  Their pages (@sq_size + @cq_size)
 * count against RLIMIT_MEMLOCK: ENOMEM past it.
 */
struct dbnic_ucreate_qp {
	__u8	sq_log_size;
	__u8	cq_log_size;
	__u8	sq_log_stride;
	__u8	rsvd0;
	__u32	flags;
	__u32	qid;
	__u32	cqn;
	__u32	prio_slot;
	__u8	sq_log_stride_out;
	__u8	cq_log_size_out;
	__u16	rsvd1;
	__u32	sq_size;
	__u32	cq_size;
	__u64	sq_offset;
	__u64	cq_offset;
};

/**
 * struct dbnic_udestroy_qp - DBNIC_IOC_DESTROY_QP
 * @qid:	a queue this file created
 * @rsvd:	0
 *
 * Pending descriptors are dropped.  Mappings of the rings are revoked.
 */
struct dbnic_udestroy_qp {
	__u32	qid;
	__u32	rsvd;
};

/**
 * struct dbnic_uquery_qp - DBNIC_IOC_QUERY_QP
 * @qid:	in: a queue this file created
 * @flags:	in: 0; out: DBNIC_UQP_F_*
 */
struct dbnic_uquery_qp {
	__u32	qid;
	__u32	flags;
};

/* The queue's CQ overflowed: the queue is stopped for good. */
#define DBNIC_UQP_F_CQ_ERROR		(1u << 0)

/**
 * struct dbnic_ureg_mr - DBNIC_IOC_REG_MR
 * @addr:	in: first byte; descriptors use user addresses in
 *		[addr, addr + length) with @key
 * @length:	in: bytes, 1..max_mr_bytes
 * @access:	in: 0 (a source only) or DBNIC_MR_LOCAL_WRITE (may also be
 *		a destination); other bits are reserved
 * @key:	out: the key for SGEs
 *
 * The pages are pinned until DEREG_MR or close() and count against
 * RLIMIT_MEMLOCK (VmPin in /proc/<pid>/status) unless the process has
 * CAP_IPC_LOCK.  The range must be writable memory of the process, even
 * for a source-only registration.
 */
struct dbnic_ureg_mr {
	__u64	addr;
	__u64	length;
	__u32	access;
	__u32	key;
};

/**
 * struct dbnic_udereg_mr - DBNIC_IOC_DEREG_MR
 * @key:	a key this file registered
 * @rsvd:	0
 */
struct dbnic_udereg_mr {
	__u32	key;
	__u32	rsvd;
};

/* 0xDB 0x00-0x0F is mwave's (ioctl-number.rst); dbnic uses 0x80-0x8F. */
#define DBNIC_IOC_MAGIC			0xDB
#define DBNIC_IOC_QUERY		_IOR(DBNIC_IOC_MAGIC, 0x80, struct dbnic_uinfo)
#define DBNIC_IOC_CREATE_QP	_IOWR(DBNIC_IOC_MAGIC, 0x81, struct dbnic_ucreate_qp)
#define DBNIC_IOC_DESTROY_QP	_IOW(DBNIC_IOC_MAGIC, 0x82, struct dbnic_udestroy_qp)
#define DBNIC_IOC_REG_MR	_IOWR(DBNIC_IOC_MAGIC, 0x83, struct dbnic_ureg_mr)
#define DBNIC_IOC_DEREG_MR	_IOW(DBNIC_IOC_MAGIC, 0x84, struct dbnic_udereg_mr)
#define DBNIC_IOC_QUERY_QP	_IOWR(DBNIC_IOC_MAGIC, 0x85, struct dbnic_uquery_qp)

#endif /* DBNIC_UAPI_H */
