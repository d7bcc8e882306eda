// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic user-space submission: /dev/dbnic<N>, one misc device per dbnic.
 * dbnic_cdev.ko, the driver of the "cdev" auxiliary device the core adds
 * for each dbnic (dbnic_aux.h).
 *
 * Each open file is one process's unprivileged device context and its
 * doorbell page (datasheet section 3).  The process maps its doorbell
 * region uncached and its priority area write-combining, creates queue
 * pairs whose rings the driver allocates and the process maps, registers
 * its buffers (pinned, DMA-mapped, described to the device by a page list,
 * datasheet section 4.1), and then posts and polls without system calls.
 * The ABI is include/dbnic_uapi.h.
 *
 * Isolation is the device's: a page only acts on queues of its context,
 * and an unprivileged context only reaches memory registered for it.  The
 * driver's part is to map a process nothing but its own page and rings,
 * to the process that opened the file only (VM_DONTCOPY, mm checks), and
 * never to free memory that is still mapped or known to the device.
 *
 * Lifetime and locking:
 *  - struct dbnic_ucdev lives from probe until the device is removed and
 *    the last file is closed (kref).  Its rwsem is held for read by every
 *    file operation that talks to the device and for write by removal, so
 *    removal waits for them and they see ->dd == NULL (ENODEV) after it.
 *  - No user memory is touched with the rwsem held: a page fault on a
 *    buffer backed by userfaultfd or FUSE may never end, and removal (or
 *    a reset) would wait for it.  ioctls copy their arguments in and pin
 *    the pages of a registration before taking it, and copy results out
 *    after dropping it (undoing the call if that faults).
 *  - A file's objects are under its mutex; ->mmap() and the fault
 *    handler only take that mutex, never the rwsem, because they run
 *    under the mmap lock.  Lock order: ucdev rwsem, then mmap lock, then
 *    file mutex.
 *  - ->mmap() makes no page table entries: a fault inserts the page,
 *    under the file mutex, only while the file still has the object the
 *    VMA maps.  Revoking forgets the object (or marks the file dead)
 *    under the mutex, then zaps with unmap_mapping_range(), so no entry
 *    survives and none comes back: the next access gets SIGBUS.  Queue
 *    numbers are unique on the device, so a queue's mmap window names
 *    that queue only.
 *  - Why faults and not remap_pfn_range() at ->mmap(): a VMA remapped
 *    whole gets an x86 PAT reservation (VM_PAT), and untrack_pfn() frees
 *    it, at the first zap or unmap of the VMA, by reading the PFN back
 *    from the page table.  Revoking zaps under the mmap lock for read,
 *    as exit_mmap() unmaps: when a process dies (of the SIGBUS revoking
 *    gives it) while its VMAs are zapped, one side finds the table
 *    already empty, warns (get_pat_info()) and leaks the reservation.
 *    Pages inserted by a fault take no reservation: their memory type is
 *    the one PAT already has for the address, so the priority areas are
 *    reserved write-combining once per device (dbnic_cdev_probe()), and the
 *    doorbell regions, reserved by nobody, are uncached (UC-).
 *  - Device removal revokes every mapping, destroys the contexts and
 *    frees all DMA memory before it returns; the files stay, return
 *    ENODEV, and are freed at their last close.  An open file holds a
 *    reference on this module (the misc core's fops_get()), and through
 *    it on dbnic_core, so rmmod is refused while a process has the
 *    device open or mapped; unbinding the PCI device (or this driver
 *    from the auxiliary device) is what revokes.
 *  - Per-user limits: a user (real uid) may hold max_user_contexts open
 *    files per device (EUSERS past it) unless it has CAP_SYS_RESOURCE.
 *    The rings of its queues count against RLIMIT_MEMLOCK like the pages
 *    it registers (unless CAP_IPC_LOCK), and all memory a file allocates
 *    is charged to the opener's memory cgroup (__GFP_ACCOUNT).
 *  - Completion queues of processes are polled, and never share a vector
 *    with the kernel's queues: a process that loops DB_CQ with ARM over
 *    an unconsumed CQE would otherwise send an MSI per write (the device
 *    does not rate-limit, datasheet section 4).  They are created with
 *    NO_VECTOR (v1.2), or on a v1.1 device with a vector the driver
 *    never allocated (its table entry stays masked); without either,
 *    there is no user-space submission.
 *  - A process's CQ that overflows enters the error state and stops its
 *    queue (datasheet 6.1); the vector-0 handler marks it in
 *    dd->ucq_err and DBNIC_IOC_QUERY_QP reports it.
 */

#include <linux/auxiliary_bus.h>
#include <linux/capability.h>
#include <linux/cc_platform.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "dbnic.h"
#include "dbnic_aux.h"
#include "dbnic_cdev.h"
#include "dbnic_uapi.h"

#define DBNIC_UQP_MAX		16		/* queue pairs per open file */
#define DBNIC_UMR_MAX		64		/* registrations per open file */
#define DBNIC_UMR_MAX_BYTES	SZ_1G		/* bytes per registration */

/*
 * What a VMA maps, kept in its vm_private_data (a split VMA keeps it
 * too): the kind in the low bits and, for a ring, the serial of its
 * queue, so that a queue destroyed and created again under the same
 * number is not mapped through the VMAs of the old one.
 */
#define DBNIC_UVMA_KIND_BITS	3
#define DBNIC_UVMA_SERIAL_MAX	(U32_MAX >> DBNIC_UVMA_KIND_BITS)

static unsigned int max_user_contexts = 16;
module_param(max_user_contexts, uint, 0644);
MODULE_PARM_DESC(max_user_contexts,
		 "Open files (device contexts) one user may hold per device; 0: no limit; CAP_SYS_RESOURCE is exempt (default: 16)");

static DEFINE_IDA(dbnic_cdev_ida);

struct dbnic_ucdev {
	struct kref ref;
	struct rw_semaphore rwsem;	/* see the top of the file */
	struct dbnic_dev *dd;		/* NULL once the device is removed */
	struct mutex lock;		/* files */
	struct list_head files;
	struct miscdevice misc;
	struct dentry *debugfs;
	phys_addr_t db_base;		/* BAR 2 */
	unsigned int max_seg;		/* DMA segment bytes, for pinning */
	unsigned int prio_slots;	/* per page; 0: ring path only */
	unsigned int wc_pages;		/* priority areas reserved WC */
	u16 cq_vector;
	int id;
	char name[16];
};

struct dbnic_uqp {
	struct list_head node;
	u32 serial;			/* unique in the file: its VMAs' tag */
	u32 qid;
	u32 cqn;
	unsigned int sq_log;
	unsigned int cq_log;
	unsigned int stride;
	int prio_pair;			/* slots 2 * pair and 2 * pair + 1 */
	bool sq_created;
	bool cq_created;
	void *sq_ring;
	void *cq_ring;
	dma_addr_t sq_dma;
	dma_addr_t cq_dma;
	size_t sq_bytes;		/* whole pages */
	size_t cq_bytes;
	unsigned long accounted;	/* pages added to mm->pinned_vm */
};

struct dbnic_umr {
	struct list_head node;
	struct dbnic_admin_hold hold;	/* should REG_MR time out */
	struct mm_struct *mm;		/* pinned_vm charged, mmgrab()ed */
	u32 key;
	bool registered;		/* known to the device */
	bool write;			/* DBNIC_MR_LOCAL_WRITE */
	bool mapped;			/* sgt is DMA-mapped */
	u64 iova;
	u64 length;
	unsigned long accounted;	/* pages added to mm->pinned_vm */
	struct sg_append_table sgt;	/* the pinned pages */
	__le64 *list;			/* page list the device reads */
	dma_addr_t list_dma;
	size_t list_bytes;
	u32 npages;
	unsigned int shift;
};

struct dbnic_ufile {
	struct dbnic_ucdev *uc;
	struct list_head node;		/* in uc->files */
	struct mutex lock;		/* everything below */
	struct mm_struct *mm;		/* the opener's, mmgrab()ed */
	struct address_space *mapping;
	phys_addr_t db_phys;		/* this context's doorbell page */
	u32 ctx;
	bool have_ctx;
	bool dead;			/* device removed: nothing left */
	struct list_head qps;
	struct list_head mrs;
	unsigned int nqps;
	unsigned int nmrs;
	unsigned long prio_pairs;	/* bitmap of pairs given to queues */
	u32 qp_serial;			/* last dbnic_uqp.serial given */
	atomic_long_t pinned;		/* pages */
	kuid_t uid;			/* the opener's real uid */
	pid_t pid;
	char comm[TASK_COMM_LEN];
};

/* Last reference: removal done and every file closed. */
static void dbnic_ucdev_release(struct kref *ref)
{
	struct dbnic_ucdev *uc = container_of(ref, struct dbnic_ucdev, ref);

	mutex_destroy(&uc->lock);
	kfree(uc);
}

/* ------------------------------------------------------------------ */
/* Pure logic: mmap offsets and page lists                              */
/* ------------------------------------------------------------------ */

/**
 * dbnic_umap_offset - the mmap offset of an object
 * @kind: which object
 * @qid: its queue, for DBNIC_UMAP_SQ and DBNIC_UMAP_CQ
 *
 * Return: the byte offset (see dbnic_cdev.h), or U64_MAX for
 * DBNIC_UMAP_NONE.
 */
VISIBLE_IF_KUNIT u64 dbnic_umap_offset(enum dbnic_umap_kind kind, u32 qid)
{
	u64 window = (u64)(qid + 1) << DBNIC_UMAP_WINDOW_SHIFT;

	switch (kind) {
	case DBNIC_UMAP_DB:
		return DBNIC_DB_REGION_OFFSET;
	case DBNIC_UMAP_PRIO:
		return DBNIC_PRIO_OFFSET;
	case DBNIC_UMAP_SQ:
		return window;
	case DBNIC_UMAP_CQ:
		return window + DBNIC_UMAP_CQ_OFFSET;
	default:
		return U64_MAX;
	}
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_umap_offset);

/**
 * dbnic_umap_decode - which object an mmap offset names
 * @offset: byte offset of the mapping
 * @qid: the queue, for DBNIC_UMAP_SQ and DBNIC_UMAP_CQ
 *
 * Return: the kind; DBNIC_UMAP_NONE for an offset inside an object or
 * between objects.  Whether the object exists is for the caller to check.
 */
VISIBLE_IF_KUNIT enum dbnic_umap_kind dbnic_umap_decode(u64 offset, u32 *qid)
{
	u64 window = offset >> DBNIC_UMAP_WINDOW_SHIFT;
	u64 in = offset & ((1ull << DBNIC_UMAP_WINDOW_SHIFT) - 1);

	if (offset == DBNIC_DB_REGION_OFFSET)
		return DBNIC_UMAP_DB;
	if (offset == DBNIC_PRIO_OFFSET)
		return DBNIC_UMAP_PRIO;
	/* Queue numbers are 16 bits (DB_SQ). */
	if (!window || window - 1 > U16_MAX)
		return DBNIC_UMAP_NONE;
	*qid = window - 1;
	if (in == 0)
		return DBNIC_UMAP_SQ;
	if (in == DBNIC_UMAP_CQ_OFFSET)
		return DBNIC_UMAP_CQ;
	return DBNIC_UMAP_NONE;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_umap_decode);

/**
 * dbnic_mr_npages - entries of a page list
 * @iova: first byte of the registration
 * @length: its bytes
 * @shift: log2 of the list's page size
 *
 * Return: pages of 2^@shift bytes from the one holding @iova to the one
 * holding its last byte (datasheet section 4.1), at most U32_MAX.
 */
VISIBLE_IF_KUNIT u32 dbnic_mr_npages(u64 iova, u64 length, unsigned int shift)
{
	u64 fbo = iova & ((1ull << shift) - 1);
	u64 n = (fbo + length + (1ull << shift) - 1) >> shift;

	return min_t(u64, n, U32_MAX);
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_mr_npages);

/**
 * dbnic_mr_page_shift - page size for the page list of a registration
 * @sgt: DMA-mapped pages backing [@iova & PAGE_MASK, ...), in order
 * @iova: first byte of the registration (a user address)
 * @length: its bytes
 *
 * A list of 2^s-byte pages can describe the mapping when each DMA segment
 * is congruent to its user address modulo 2^s and every segment but the
 * first starts on a 2^s boundary (so the ends of all but the last do
 * too).  Of the sizes that work, this picks the smallest that needs the
 * fewest entries, as large pages would only add slack.
 *
 * Return: the shift, or 0 if not even PAGE_SIZE pages can describe it.
 */
VISIBLE_IF_KUNIT unsigned int dbnic_mr_page_shift(const struct sg_table *sgt,
						  u64 iova, u64 length)
{
	unsigned int min_shift = max_t(unsigned int, PAGE_SHIFT,
				       DBNIC_MR_PAGE_SHIFT_MIN);
	u64 va = iova & PAGE_MASK, mask = 0;
	struct scatterlist *sg;
	unsigned int i, shift;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		u64 dma = sg_dma_address(sg);

		mask |= va ^ dma;
		if (i)
			mask |= dma;
		va += sg_dma_len(sg);
	}
	shift = mask ? __ffs64(mask) : DBNIC_MR_PAGE_SHIFT_MAX;
	if (shift < min_shift)
		return 0;
	shift = min_t(unsigned int, shift, DBNIC_MR_PAGE_SHIFT_MAX);
	while (shift > min_shift &&
	       dbnic_mr_npages(iova, length, shift - 1) ==
	       dbnic_mr_npages(iova, length, shift))
		shift--;
	return shift;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_mr_page_shift);

/**
 * dbnic_mr_fill_list - write the page list of a registration
 * @sgt: as for dbnic_mr_page_shift()
 * @shift: what dbnic_mr_page_shift() returned
 * @list: @npages little-endian DMA addresses, filled in
 * @npages: dbnic_mr_npages() for the registration
 *
 * Return: 0, or -EINVAL if the segments do not hold @npages pages.
 */
VISIBLE_IF_KUNIT int dbnic_mr_fill_list(const struct sg_table *sgt,
					unsigned int shift, __le64 *list,
					u32 npages)
{
	u64 psize = 1ull << shift;
	struct scatterlist *sg;
	unsigned int i;
	u32 n = 0;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		u64 end = sg_dma_address(sg) + sg_dma_len(sg);
		u64 p;

		for (p = sg_dma_address(sg) & ~(psize - 1); p < end && n < npages;
		     p += psize)
			list[n++] = cpu_to_le64(p);
	}
	return n == npages ? 0 : -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_mr_fill_list);

/* ------------------------------------------------------------------ */
/* Accounting                                                           */
/* ------------------------------------------------------------------ */

/*
 * Count @npages against RLIMIT_MEMLOCK in the opener's pinned_vm: the
 * pages of its registrations, pinned, and the rings of its queues, which
 * it maps and which cannot be swapped either.
 *
 * Return: 0, or -ENOMEM past the limit (without CAP_IPC_LOCK).
 */
static int dbnic_uaccount(struct dbnic_ufile *uf, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	u64 pinned = atomic64_add_return(npages, &uf->mm->pinned_vm);

	if (pinned > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(npages, &uf->mm->pinned_vm);
		return -ENOMEM;
	}
	atomic_long_add(npages, &uf->pinned);
	return 0;
}

static void dbnic_uunaccount(struct dbnic_ufile *uf, unsigned long npages)
{
	atomic64_sub(npages, &uf->mm->pinned_vm);
	atomic_long_sub(npages, &uf->pinned);
}

/* ------------------------------------------------------------------ */
/* Queue pairs                                                          */
/* ------------------------------------------------------------------ */

static unsigned int dbnic_umax_log(struct dbnic_dev *dd)
{
	return min_t(unsigned int, dd->caps.max_log_ring, DBNIC_LOG_RING_MAX);
}

/* Smallest stride that holds the device's largest descriptor. */
static unsigned int dbnic_ustride(struct dbnic_dev *dd)
{
	unsigned int blocks = clamp_t(unsigned int, dd->caps.max_blocks, 1,
				      DBNIC_DESC_MAX_BLOCKS);

	return clamp_t(unsigned int, order_base_2(blocks * DBNIC_DESC_BLOCK_SIZE),
		       DBNIC_LOG_STRIDE_MIN, DBNIC_LOG_STRIDE_MAX);
}

static struct dbnic_uqp *dbnic_uqp_find(struct dbnic_ufile *uf, u32 qid)
{
	struct dbnic_uqp *qp;

	lockdep_assert_held(&uf->lock);
	list_for_each_entry(qp, &uf->qps, node)
		if (qp->qid == qid)
			return qp;
	return NULL;
}

static void dbnic_uqp_destroy_hw(struct dbnic_dev *dd, struct dbnic_uqp *qp)
{
	if (qp->sq_created &&
	    !dbnic_admin_destroy(dd, DBNIC_ADM_DESTROY_SQ, qp->qid))
		qp->sq_created = false;
	if (qp->cq_created &&
	    !dbnic_admin_destroy(dd, DBNIC_ADM_DESTROY_CQ, qp->cqn))
		qp->cq_created = false;
}

/* Free a queue pair nobody maps and the device no longer knows. */
static void dbnic_uqp_free(struct dbnic_ufile *uf, struct dbnic_dev *dd,
			   struct dbnic_uqp *qp)
{
	struct device *dev = dbnic_to_dev(dd);

	if (qp->accounted)
		dbnic_uunaccount(uf, qp->accounted);

	if (qp->sq_created || qp->cq_created) {
		/* The device may still write them: keep them until reset. */
		if (dbnic_admin_park_rings(dd, qp->sq_ring, qp->sq_dma,
					   qp->sq_bytes, qp->cq_ring,
					   qp->cq_dma, qp->cq_bytes))
			dev_warn(dev, "user queue %u still known to the device: leaking its rings\n",
				 qp->qid);
		else
			dev_warn(dev, "user queue %u still known to the device: keeping its rings until reset\n",
				 qp->qid);
	} else {
		if (qp->sq_ring)
			dma_free_coherent(dev, qp->sq_bytes, qp->sq_ring,
					  qp->sq_dma);
		if (qp->cq_ring)
			dma_free_coherent(dev, qp->cq_bytes, qp->cq_ring,
					  qp->cq_dma);
	}
	kfree(qp);
}

/* Forget a queue's slot in the file's count and its priority pair. */
static void dbnic_uqp_unlink(struct dbnic_ufile *uf, struct dbnic_uqp *qp)
{
	lockdep_assert_held(&uf->lock);
	uf->nqps--;
	if (qp->prio_pair >= 0)
		clear_bit(qp->prio_pair, &uf->prio_pairs);
}

/* Revoke every mapping of a queue's window. */
static void dbnic_uqp_zap(struct dbnic_ufile *uf, u32 qid)
{
	unmap_mapping_range(uf->mapping,
			    dbnic_umap_offset(DBNIC_UMAP_SQ, qid),
			    1ull << DBNIC_UMAP_WINDOW_SHIFT, 1);
}

static int dbnic_udestroy_qp(struct dbnic_ufile *uf, struct dbnic_dev *dd,
			     u32 qid)
{
	struct dbnic_uqp *qp;

	/* Off the list first: no fault maps its rings after this. */
	mutex_lock(&uf->lock);
	qp = dbnic_uqp_find(uf, qid);
	if (qp) {
		list_del(&qp->node);
		dbnic_uqp_unlink(uf, qp);
	}
	mutex_unlock(&uf->lock);
	if (!qp)
		return -ENOENT;
	dbnic_uqp_zap(uf, qid);

	dbnic_uqp_destroy_hw(dd, qp);
	dbnic_uqp_free(uf, dd, qp);
	return 0;
}

/*
 * DBNIC_IOC_QUERY_QP: is the queue stopped by an error of its CQ?
 * @req: the caller's copy, in and out; the caller copies it out.
 */
static int dbnic_uquery_qp(struct dbnic_ufile *uf, struct dbnic_dev *dd,
			   struct dbnic_uquery_qp *req)
{
	struct dbnic_uqp *qp;
	int ret = 0;

	if (req->flags)
		return -EINVAL;
	mutex_lock(&uf->lock);
	qp = dbnic_uqp_find(uf, req->qid);
	if (!qp)
		ret = -ENOENT;
	else if (qp->cqn < dd->caps.max_cq && test_bit(qp->cqn, dd->ucq_err))
		req->flags |= DBNIC_UQP_F_CQ_ERROR;
	mutex_unlock(&uf->lock);
	return ret;
}

/* @arg: the caller's copy, in and out; the caller copies it out. */
static int dbnic_ucreate_qp(struct dbnic_ufile *uf, struct dbnic_dev *dd,
			    struct dbnic_ucreate_qp *arg)
{
	struct device *dev = dbnic_to_dev(dd);
	unsigned int max_log = dbnic_umax_log(dd);
	unsigned int npairs = uf->uc->prio_slots / 2;
	struct dbnic_admin_hold *hold = NULL;
	struct dbnic_ucreate_qp req = *arg;
	struct dbnic_uqp *qp;
	unsigned int pair;
	u32 cqn, qid;
	int ret;

	if (req.rsvd0 || req.flags || req.sq_log_size < DBNIC_LOG_RING_MIN ||
	    req.sq_log_size > max_log || req.cq_log_size > max_log ||
	    (req.cq_log_size && req.cq_log_size < DBNIC_LOG_RING_MIN) ||
	    (req.sq_log_stride && (req.sq_log_stride < DBNIC_LOG_STRIDE_MIN ||
				   req.sq_log_stride > DBNIC_LOG_STRIDE_MAX)))
		return -EINVAL;

	qp = kzalloc(sizeof(*qp), GFP_KERNEL_ACCOUNT);
	if (!qp)
		return -ENOMEM;
	qp->sq_log = req.sq_log_size;
	qp->cq_log = req.cq_log_size ?: min(qp->sq_log + 1, max_log);
	qp->stride = req.sq_log_stride ?: dbnic_ustride(dd);
	qp->prio_pair = -1;

	mutex_lock(&uf->lock);
	if (uf->nqps >= DBNIC_UQP_MAX) {
		mutex_unlock(&uf->lock);
		kfree(qp);
		return -ENOSPC;
	}
	uf->nqps++;
	uf->qp_serial = (uf->qp_serial + 1) & DBNIC_UVMA_SERIAL_MAX;
	qp->serial = uf->qp_serial;
	pair = find_first_zero_bit(&uf->prio_pairs, npairs);
	if (pair < npairs) {
		set_bit(pair, &uf->prio_pairs);
		qp->prio_pair = pair;
	}
	mutex_unlock(&uf->lock);

	/* Zeroed: every CQE starts with the phase of no completion. */
	qp->sq_bytes = PAGE_ALIGN((size_t)1 << (qp->sq_log + qp->stride));
	qp->cq_bytes = PAGE_ALIGN(sizeof(struct dbnic_cqe) << qp->cq_log);
	ret = dbnic_uaccount(uf, (qp->sq_bytes + qp->cq_bytes) >> PAGE_SHIFT);
	if (ret)
		goto err;
	qp->accounted = (qp->sq_bytes + qp->cq_bytes) >> PAGE_SHIFT;
	qp->sq_ring = dma_alloc_coherent(dev, qp->sq_bytes, &qp->sq_dma,
					 GFP_KERNEL_ACCOUNT);
	qp->cq_ring = dma_alloc_coherent(dev, qp->cq_bytes, &qp->cq_dma,
					 GFP_KERNEL_ACCOUNT);
	/* Takes the rings should a create time out (the device may run it). */
	hold = kzalloc(sizeof(*hold), GFP_KERNEL);
	if (!qp->sq_ring || !qp->cq_ring || !hold) {
		ret = -ENOMEM;
		goto err;
	}
	hold->buf[0].cpu = qp->sq_ring;
	hold->buf[0].dma = qp->sq_dma;
	hold->buf[0].bytes = qp->sq_bytes;
	hold->buf[1].cpu = qp->cq_ring;
	hold->buf[1].dma = qp->cq_dma;
	hold->buf[1].bytes = qp->cq_bytes;
	hold->pages = PFN_UP(qp->sq_bytes) + PFN_UP(qp->cq_bytes);

	ret = dbnic_admin_create_cq(dd, uf->ctx, qp->cq_dma, qp->cq_log,
				    uf->uc->cq_vector, &cqn, hold);
	if (ret)
		goto err;
	qp->cqn = cqn;
	qp->cq_created = true;
	/* A former CQ of this number may have been in error. */
	if (cqn < dd->caps.max_cq)
		clear_bit(cqn, dd->ucq_err);
	/* If CREATE_SQ times out, its CQ goes after it, then the rings. */
	hold->undo[0].opcode = DBNIC_ADM_DESTROY_CQ;
	hold->undo[0].handle = cqn;
	hold->nundo = 1;
	ret = dbnic_admin_create_sq(dd, uf->ctx, cqn, qp->sq_dma, qp->sq_log,
				    qp->stride, &qid, hold);
	if (ret)
		goto err;
	kfree(hold);
	hold = NULL;
	qp->qid = qid;
	qp->sq_created = true;
	if (qid > U16_MAX) {
		ret = -EIO;
		goto err;
	}

	memset(&req, 0, sizeof(req));
	req.sq_log_size = qp->sq_log;
	req.cq_log_size = qp->cq_log;
	req.sq_log_stride = qp->stride;
	req.qid = qid;
	req.cqn = cqn;
	req.prio_slot = qp->prio_pair >= 0 ? 2 * qp->prio_pair :
					     DBNIC_UAPI_NO_PRIO_SLOT;
	req.sq_log_stride_out = qp->stride;
	req.cq_log_size_out = qp->cq_log;
	req.sq_size = qp->sq_bytes;
	req.cq_size = qp->cq_bytes;
	req.sq_offset = dbnic_umap_offset(DBNIC_UMAP_SQ, qid);
	req.cq_offset = dbnic_umap_offset(DBNIC_UMAP_CQ, qid);

	mutex_lock(&uf->lock);
	list_add_tail(&qp->node, &uf->qps);
	mutex_unlock(&uf->lock);

	*arg = req;
	return 0;

err:
	if (ret == -ETIMEDOUT) {
		/*
		 * The device may still run the create: the admin queue owns
		 * the rings and destroys what it made, the CQ included.
		 */
		qp->sq_ring = NULL;
		qp->cq_ring = NULL;
		qp->cq_created = false;
	} else {
		kfree(hold);
	}
	dbnic_uqp_destroy_hw(dd, qp);
	mutex_lock(&uf->lock);
	dbnic_uqp_unlink(uf, qp);
	mutex_unlock(&uf->lock);
	dbnic_uqp_free(uf, dd, qp);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Memory registrations                                                 */
/* ------------------------------------------------------------------ */

static enum dma_data_direction dbnic_umr_dir(const struct dbnic_umr *mr)
{
	return mr->write ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
}

/*
 * Pin the pages under [iova, iova + length) into mr->sgt.  Runs without
 * the rwsem: the faults it takes may wait on user space for ever.
 */
static int dbnic_umr_pin(struct dbnic_ufile *uf, struct dbnic_umr *mr)
{
	unsigned long start = mr->iova & PAGE_MASK;
	unsigned long left = (PAGE_ALIGN(mr->iova + mr->length) - start) >>
			     PAGE_SHIFT;
	unsigned int max_batch = PAGE_SIZE / sizeof(struct page *);
	struct page **batch;
	int ret;

	ret = dbnic_uaccount(uf, left);
	if (ret)
		return ret;
	mr->accounted = left;
	batch = (struct page **)__get_free_page(GFP_KERNEL);
	if (!batch)
		return -ENOMEM;

	while (left) {
		int n = min_t(unsigned long, left, max_batch);
		int got;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		/* Long-term: the pages must not move while the device uses them. */
		got = pin_user_pages_fast(start, n, FOLL_WRITE | FOLL_LONGTERM,
					  batch);
		if (got <= 0) {
			ret = got ?: -EFAULT;
			break;
		}
		ret = sg_alloc_append_table_from_pages(&mr->sgt, batch, got, 0,
						       (unsigned long)got << PAGE_SHIFT,
						       uf->uc->max_seg,
						       left - got,
						       GFP_KERNEL_ACCOUNT);
		if (ret) {
			unpin_user_pages(batch, got);
			break;
		}
		start += (unsigned long)got << PAGE_SHIFT;
		left -= got;
	}
	free_page((unsigned long)batch);
	return ret;
}

/*
 * Unpin and free a registration the device no longer knows, and take its
 * pages off the opener's pinned_vm.  Needs nothing of the file, which may
 * be gone when a held registration is released (dbnic_umr_held_release).
 * @dev may be NULL for one that was only pinned (never DMA-mapped).
 */
static void dbnic_umr_release_mem(struct device *dev, struct dbnic_umr *mr)
{
	struct scatterlist *sg;
	unsigned int i;

	if (mr->list)
		dma_free_coherent(dev, mr->list_bytes, mr->list, mr->list_dma);
	if (mr->mapped)
		dma_unmap_sgtable(dev, &mr->sgt.sgt, dbnic_umr_dir(mr), 0);
	for_each_sgtable_sg(&mr->sgt.sgt, sg, i)
		unpin_user_page_range_dirty_lock(sg_page(sg),
						 DIV_ROUND_UP(sg->length, PAGE_SIZE),
						 mr->write);
	sg_free_append_table(&mr->sgt);
	if (mr->accounted)
		atomic64_sub(mr->accounted, &mr->mm->pinned_vm);
	mmdrop(mr->mm);
	kfree(mr);
}

/* A REG_MR that timed out has been answered (and undone), or reset. */
static void dbnic_umr_held_release(struct dbnic_dev *dd,
				   struct dbnic_admin_hold *hold)
{
	dbnic_umr_release_mem(dbnic_to_dev(dd),
			      container_of(hold, struct dbnic_umr, hold));
}

/*
 * Free a registration the device no longer knows.  @dd may be NULL for
 * one that was only pinned (never DMA-mapped).
 */
static void dbnic_umr_free(struct dbnic_ufile *uf, struct dbnic_dev *dd,
			   struct dbnic_umr *mr)
{
	atomic_long_sub(mr->accounted, &uf->pinned);
	if (mr->registered) {
		/* The device may still translate through it: until reset. */
		dev_warn(dbnic_to_dev(dd), "user registration %#x still known to the device: keeping its pages until reset\n",
			 mr->key);
		mr->hold.pages = mr->accounted;
		dbnic_admin_park(dd, &mr->hold);
		return;
	}
	dbnic_umr_release_mem(dd ? dbnic_to_dev(dd) : NULL, mr);
}

static void dbnic_umr_dereg_hw(struct dbnic_dev *dd, struct dbnic_umr *mr)
{
	if (mr->registered &&
	    !dbnic_admin_destroy(dd, DBNIC_ADM_DEREG_MR, mr->key))
		mr->registered = false;
}

static int dbnic_udereg_mr(struct dbnic_ufile *uf, struct dbnic_dev *dd,
			   u32 key)
{
	struct dbnic_umr *mr, *found = NULL;

	mutex_lock(&uf->lock);
	list_for_each_entry(mr, &uf->mrs, node) {
		if (mr->key == key) {
			found = mr;
			list_del(&mr->node);
			uf->nmrs--;
			break;
		}
	}
	mutex_unlock(&uf->lock);
	if (!found)
		return -ENOENT;
	/* After DEREG_MR completes the device reads neither list nor pages. */
	dbnic_umr_dereg_hw(dd, found);
	dbnic_umr_free(uf, dd, found);
	return 0;
}

/* Give up a registration before it was DMA-mapped. */
static void dbnic_umr_discard(struct dbnic_ufile *uf, struct dbnic_umr *mr)
{
	mutex_lock(&uf->lock);
	uf->nmrs--;
	mutex_unlock(&uf->lock);
	dbnic_umr_free(uf, NULL, mr);
}

/*
 * The half of REG_MR that touches user memory, run before the rwsem is
 * taken: check the request, take one of the file's registrations,
 * account and pin the pages.
 *
 * Return: the registration for dbnic_ureg_mr() (or dbnic_umr_discard()),
 * or an ERR_PTR: -EINVAL, -EFAULT, -ENOSPC (DBNIC_UMR_MAX), -ENOMEM
 * (also past RLIMIT_MEMLOCK), -EINTR.
 */
static struct dbnic_umr *dbnic_umr_prepare(struct dbnic_ufile *uf,
					   const struct dbnic_ureg_mr *req)
{
	struct dbnic_umr *mr;
	int ret;

	if ((req->access & ~DBNIC_MR_LOCAL_WRITE) || !req->length ||
	    req->length > DBNIC_UMR_MAX_BYTES ||
	    req->addr + req->length < req->addr)
		return ERR_PTR(-EINVAL);
	if (!access_ok(u64_to_user_ptr(req->addr), req->length))
		return ERR_PTR(-EFAULT);

	mr = kzalloc(sizeof(*mr), GFP_KERNEL_ACCOUNT);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	mr->iova = req->addr;
	mr->length = req->length;
	mr->write = req->access & DBNIC_MR_LOCAL_WRITE;
	mr->hold.release = dbnic_umr_held_release;
	mr->hold.owner = THIS_MODULE;
	mr->mm = uf->mm;
	mmgrab(mr->mm);

	mutex_lock(&uf->lock);
	if (uf->nmrs >= DBNIC_UMR_MAX) {
		mutex_unlock(&uf->lock);
		mmdrop(mr->mm);
		kfree(mr);
		return ERR_PTR(-ENOSPC);
	}
	uf->nmrs++;
	mutex_unlock(&uf->lock);

	ret = dbnic_umr_pin(uf, mr);
	if (ret) {
		dbnic_umr_discard(uf, mr);
		return ERR_PTR(ret);
	}
	return mr;
}

/*
 * The half of REG_MR that talks to the device, with the rwsem held: map
 * the pinned pages of @mr, write its page list and register it.  @mr is
 * consumed; @req->key is set on success.
 */
static int dbnic_ureg_mr(struct dbnic_ufile *uf, struct dbnic_dev *dd,
			 struct dbnic_ureg_mr *req, struct dbnic_umr *mr)
{
	struct device *dev = dbnic_to_dev(dd);
	unsigned long accounted;
	u32 key;
	int ret;

	ret = dma_map_sgtable(dev, &mr->sgt.sgt, dbnic_umr_dir(mr), 0);
	if (ret)
		goto err;
	mr->mapped = true;

	mr->shift = dbnic_mr_page_shift(&mr->sgt.sgt, mr->iova, mr->length);
	if (!mr->shift) {
		ret = -EINVAL;
		goto err;
	}
	mr->npages = dbnic_mr_npages(mr->iova, mr->length, mr->shift);
	if (mr->npages > DBNIC_MR_MAX_PAGES) {
		ret = -EINVAL;
		goto err;
	}
	/* The device reads the list by DMA until DEREG_MR completes. */
	mr->list_bytes = mr->npages * sizeof(*mr->list);
	mr->list = dma_alloc_coherent(dev, mr->list_bytes, &mr->list_dma,
				      GFP_KERNEL_ACCOUNT);
	if (!mr->list) {
		ret = -ENOMEM;
		goto err;
	}
	ret = dbnic_mr_fill_list(&mr->sgt.sgt, mr->shift, mr->list,
				 mr->npages);
	if (ret)
		goto err;

	accounted = mr->accounted;
	mr->hold.pages = accounted;
	ret = dbnic_admin_reg_mr(dd, uf->ctx, mr->iova, mr->length,
				 mr->list_dma, mr->npages, mr->shift,
				 req->access, &key, &mr->hold);
	if (ret == -ETIMEDOUT) {
		/*
		 * The device may still run it: the admin queue owns the
		 * list and the pinned pages (still charged to the opener's
		 * pinned_vm) until the answer, and deregisters a late key.
		 * mr may be gone already.
		 */
		mutex_lock(&uf->lock);
		uf->nmrs--;
		mutex_unlock(&uf->lock);
		atomic_long_sub(accounted, &uf->pinned);
		return ret;
	}
	if (ret)
		goto err;
	mr->key = key;
	mr->registered = true;

	mutex_lock(&uf->lock);
	list_add_tail(&mr->node, &uf->mrs);
	mutex_unlock(&uf->lock);

	req->key = key;
	return 0;

err:
	mutex_lock(&uf->lock);
	uf->nmrs--;
	mutex_unlock(&uf->lock);
	dbnic_umr_free(uf, dd, mr);
	return ret;
}

/* ------------------------------------------------------------------ */
/* File operations                                                      */
/* ------------------------------------------------------------------ */

/*
 * Destroy the context and free everything of a file.  Called with the
 * rwsem held and no mapping of the file left (release) or all of them
 * revoked (removal).  DESTROY_CTX drops the context's queues and
 * registrations in the device; should it fail, each is destroyed alone,
 * and what the device may still use is leaked rather than freed.
 */
static void dbnic_ufile_destroy(struct dbnic_ufile *uf)
{
	struct dbnic_dev *dd = uf->uc->dd;
	struct dbnic_uqp *qp, *qtmp;
	struct dbnic_umr *mr, *mtmp;
	bool ctx_gone = false;

	mutex_lock(&uf->lock);
	/*
	 * -ENODEV: on a frozen link (PCI error recovery), a device that has
	 * gone (surprise removal) or one already disabled, the command fails
	 * at once; the device neither reaches memory nor runs again before a
	 * reset destroys the context, so its memory can go.
	 */
	if (uf->have_ctx) {
		int ret = dbnic_admin_destroy(dd, DBNIC_ADM_DESTROY_CTX, uf->ctx);

		if (!ret || ret == -ENODEV) {
			uf->have_ctx = false;
			ctx_gone = true;
		}
	}
	list_for_each_entry_safe(qp, qtmp, &uf->qps, node) {
		if (ctx_gone) {
			qp->sq_created = false;
			qp->cq_created = false;
		} else {
			dbnic_uqp_destroy_hw(dd, qp);
		}
		list_del(&qp->node);
		dbnic_uqp_free(uf, dd, qp);
	}
	list_for_each_entry_safe(mr, mtmp, &uf->mrs, node) {
		if (ctx_gone)
			mr->registered = false;
		else
			dbnic_umr_dereg_hw(dd, mr);
		list_del(&mr->node);
		/* Not to 0: a REG_MR may be pinning, its count taken. */
		uf->nmrs--;
		dbnic_umr_free(uf, dd, mr);
	}
	uf->nqps = 0;
	uf->prio_pairs = 0;
	mutex_unlock(&uf->lock);
}

/*
 * Take a place for @uf in the device's files, within its user's limit
 * (max_user_contexts, read once per call).  Called with uc->lock held.
 *
 * Return: 0, or -EUSERS when the user holds the limit already.
 */
static int dbnic_uclaim(struct dbnic_ucdev *uc, struct dbnic_ufile *uf)
{
	unsigned int max = READ_ONCE(max_user_contexts), n = 0;
	struct dbnic_ufile *other;

	lockdep_assert_held(&uc->lock);
	if (max && !capable(CAP_SYS_RESOURCE)) {
		list_for_each_entry(other, &uc->files, node)
			if (uid_eq(other->uid, uf->uid))
				n++;
		if (n >= max)
			return -EUSERS;
	}
	list_add_tail(&uf->node, &uc->files);
	return 0;
}

static int dbnic_cdev_open(struct inode *inode, struct file *file)
{
	struct dbnic_ucdev *uc = container_of(file->private_data,
					      struct dbnic_ucdev, misc);
	struct dbnic_ufile *uf;
	struct dbnic_dev *dd;
	int ret;

	if (!current->mm)
		return -EINVAL;
	uf = kzalloc(sizeof(*uf), GFP_KERNEL_ACCOUNT);
	if (!uf)
		return -ENOMEM;
	mutex_init(&uf->lock);
	INIT_LIST_HEAD(&uf->qps);
	INIT_LIST_HEAD(&uf->mrs);
	atomic_long_set(&uf->pinned, 0);
	uf->uc = uc;
	uf->uid = current_uid();
	uf->pid = task_tgid_nr(current);
	get_task_comm(uf->comm, current);

	down_read(&uc->rwsem);
	dd = uc->dd;
	if (!dd) {
		ret = -ENODEV;
		goto err;
	}
	/* The place first, so that concurrent opens see it. */
	mutex_lock(&uc->lock);
	ret = dbnic_uclaim(uc, uf);
	mutex_unlock(&uc->lock);
	if (ret)
		goto err;
	ret = dbnic_admin_create_ctx(dd, 0, &uf->ctx);
	if (ret)
		goto err_unlist;
	uf->have_ctx = true;
	if (uf->ctx >= dd->caps.db_pages) {
		dbnic_ufile_destroy(uf);
		ret = -EIO;
		goto err_unlist;
	}
	uf->db_phys = uc->db_base + ((phys_addr_t)uf->ctx << DBNIC_DB_PAGE_SHIFT);
	uf->mm = current->mm;
	mmgrab(uf->mm);
	uf->mapping = file->f_mapping;
	kref_get(&uc->ref);
	up_read(&uc->rwsem);

	file->private_data = uf;
	return nonseekable_open(inode, file);

err_unlist:
	mutex_lock(&uc->lock);
	list_del(&uf->node);
	mutex_unlock(&uc->lock);
err:
	up_read(&uc->rwsem);
	mutex_destroy(&uf->lock);
	kfree(uf);
	return ret;
}

static int dbnic_cdev_release(struct inode *inode, struct file *file)
{
	struct dbnic_ufile *uf = file->private_data;
	struct dbnic_ucdev *uc = uf->uc;

	/* Every VMA holds the file: none is left. */
	down_read(&uc->rwsem);
	if (!uf->dead)
		dbnic_ufile_destroy(uf);
	mutex_lock(&uc->lock);
	list_del(&uf->node);
	mutex_unlock(&uc->lock);
	up_read(&uc->rwsem);

	mmdrop(uf->mm);
	mutex_destroy(&uf->lock);
	kfree(uf);
	kref_put(&uc->ref, dbnic_ucdev_release);
	return 0;
}

static void dbnic_uquery(struct dbnic_ufile *uf, struct dbnic_dev *dd,
			 struct dbnic_uinfo *arg)
{
	*arg = (struct dbnic_uinfo){
		.abi_version = DBNIC_UAPI_VERSION,
		.ctx = uf->ctx,
		.db_page_size = DBNIC_DB_PAGE_SIZE,
		.db_size = DBNIC_DB_REGION_SIZE,
		.prio_size = uf->uc->prio_slots ? DBNIC_PRIO_AREA_SIZE : 0,
		.prio_slots = uf->uc->prio_slots,
		.features = dd->caps.features,
		.max_xfer = dd->caps.max_xfer,
		.max_sge = min_t(u32, dd->caps.max_sge, DBNIC_MAX_SGE),
		.max_blocks = min_t(u32, dd->caps.max_blocks,
				    DBNIC_DESC_MAX_BLOCKS),
		.max_log_ring = dbnic_umax_log(dd),
		.max_qps = DBNIC_UQP_MAX,
		.max_mrs = DBNIC_UMR_MAX,
		.max_mr_bytes = DBNIC_UMR_MAX_BYTES,
		.db_offset = dbnic_umap_offset(DBNIC_UMAP_DB, 0),
		.prio_offset = dbnic_umap_offset(DBNIC_UMAP_PRIO, 0),
	};
}

union dbnic_uargs {
	struct dbnic_uinfo info;
	struct dbnic_ucreate_qp cq;
	struct dbnic_udestroy_qp dq;
	struct dbnic_ureg_mr rm;
	struct dbnic_udereg_mr dm;
	struct dbnic_uquery_qp qq;
};

/*
 * A created queue or registration whose result could not be copied out:
 * the process never learns of it, so it goes again.
 */
static void dbnic_uundo(struct dbnic_ufile *uf, unsigned int cmd, u32 handle)
{
	struct dbnic_ucdev *uc = uf->uc;

	down_read(&uc->rwsem);
	if (uc->dd && !uf->dead) {
		if (cmd == DBNIC_IOC_CREATE_QP)
			dbnic_udestroy_qp(uf, uc->dd, handle);
		else
			dbnic_udereg_mr(uf, uc->dd, handle);
	}
	up_read(&uc->rwsem);
}

static long dbnic_cdev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct dbnic_ufile *uf = file->private_data;
	struct dbnic_ucdev *uc = uf->uc;
	void __user *uarg = (void __user *)arg;
	struct dbnic_umr *mr = NULL;
	union dbnic_uargs u;
	struct dbnic_dev *dd;
	long ret;

	/* Only the opener acts on the context (its pins, its mappings). */
	if (current->mm != uf->mm)
		return -EPERM;

	/* User memory first, without the rwsem (see the top of the file). */
	switch (cmd) {
	case DBNIC_IOC_QUERY:
		break;
	case DBNIC_IOC_CREATE_QP:
	case DBNIC_IOC_DESTROY_QP:
	case DBNIC_IOC_REG_MR:
	case DBNIC_IOC_DEREG_MR:
	case DBNIC_IOC_QUERY_QP:
		if (copy_from_user(&u, uarg, _IOC_SIZE(cmd)))
			return -EFAULT;
		break;
	default:
		return -ENOTTY;
	}
	if (cmd == DBNIC_IOC_REG_MR) {
		mr = dbnic_umr_prepare(uf, &u.rm);
		if (IS_ERR(mr))
			return PTR_ERR(mr);
	}

	down_read(&uc->rwsem);
	dd = uc->dd;
	if (!dd || uf->dead) {
		ret = -ENODEV;
		goto out;
	}
	switch (cmd) {
	case DBNIC_IOC_QUERY:
		dbnic_uquery(uf, dd, &u.info);
		ret = 0;
		break;
	case DBNIC_IOC_CREATE_QP:
		ret = dbnic_ucreate_qp(uf, dd, &u.cq);
		break;
	case DBNIC_IOC_DESTROY_QP:
		ret = u.dq.rsvd ? -EINVAL : dbnic_udestroy_qp(uf, dd, u.dq.qid);
		break;
	case DBNIC_IOC_REG_MR:
		ret = dbnic_ureg_mr(uf, dd, &u.rm, mr);
		mr = NULL;
		break;
	case DBNIC_IOC_DEREG_MR:
		ret = u.dm.rsvd ? -EINVAL : dbnic_udereg_mr(uf, dd, u.dm.key);
		break;
	case DBNIC_IOC_QUERY_QP:
		ret = dbnic_uquery_qp(uf, dd, &u.qq);
		break;
	default:
		ret = -ENOTTY;
	}
out:
	up_read(&uc->rwsem);
	/* Pinned, but the device went away before it could be registered. */
	if (mr)
		dbnic_umr_discard(uf, mr);
	if (ret)
		return ret;

	switch (cmd) {
	case DBNIC_IOC_QUERY:
		if (copy_to_user(uarg, &u.info, sizeof(u.info)))
			ret = -EFAULT;
		break;
	case DBNIC_IOC_QUERY_QP:
		if (copy_to_user(uarg, &u.qq, sizeof(u.qq)))
			ret = -EFAULT;
		break;
	case DBNIC_IOC_CREATE_QP:
		if (copy_to_user(uarg, &u.cq, sizeof(u.cq))) {
			dbnic_uundo(uf, cmd, u.cq.qid);
			ret = -EFAULT;
		}
		break;
	case DBNIC_IOC_REG_MR:
		if (copy_to_user(uarg, &u.rm, sizeof(u.rm))) {
			dbnic_uundo(uf, cmd, u.rm.key);
			ret = -EFAULT;
		}
		break;
	}
	return ret;
}

static void *dbnic_uvma_tag(enum dbnic_umap_kind kind, u32 serial)
{
	return (void *)(((unsigned long)serial << DBNIC_UVMA_KIND_BITS) | kind);
}

/*
 * The page of a ring to map at @pgoff (a file offset in pages), or 0 if
 * the file no longer has that queue.  Called with uf->lock held.
 */
static unsigned long dbnic_uring_pfn(struct dbnic_ufile *uf,
				     enum dbnic_umap_kind kind, u32 serial,
				     pgoff_t pgoff)
{
	struct dbnic_uqp *qp;
	pgoff_t first, index;
	size_t bytes;
	void *ring;

	lockdep_assert_held(&uf->lock);
	list_for_each_entry(qp, &uf->qps, node)
		if (qp->serial == serial)
			break;
	if (list_entry_is_head(qp, &uf->qps, node))
		return 0;
	ring = kind == DBNIC_UMAP_SQ ? qp->sq_ring : qp->cq_ring;
	bytes = kind == DBNIC_UMAP_SQ ? qp->sq_bytes : qp->cq_bytes;
	first = dbnic_umap_offset(kind, qp->qid) >> PAGE_SHIFT;
	if (pgoff < first)
		return 0;
	index = pgoff - first;
	if (index >= bytes >> PAGE_SHIFT)
		return 0;
	/* Linear-mapped (checked at ->mmap()): one struct page per page. */
	return page_to_pfn(virt_to_page(ring + (index << PAGE_SHIFT)));
}

/*
 * A process touches a page of its mappings: insert it if the file still
 * has what the VMA maps (see the top of the file), else SIGBUS.  The
 * caching is the VMA's, as PAT allows it for the address: UC- for a
 * doorbell region, WC for a priority area (reserved so), WB for rings.
 */
static vm_fault_t dbnic_uvma_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct dbnic_ufile *uf = vma->vm_file->private_data;
	unsigned long tag = (unsigned long)vma->vm_private_data;
	enum dbnic_umap_kind kind = tag & GENMASK(DBNIC_UVMA_KIND_BITS - 1, 0);
	u32 serial = tag >> DBNIC_UVMA_KIND_BITS;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	phys_addr_t phys;
	unsigned long pfn;

	mutex_lock(&uf->lock);
	if (uf->dead)
		goto out;
	switch (kind) {
	case DBNIC_UMAP_DB:
	case DBNIC_UMAP_PRIO:
		/* One page, at the object's own offset (->mmap() checked). */
		if (vmf->pgoff != dbnic_umap_offset(kind, 0) >> PAGE_SHIFT)
			goto out;
		phys = uf->db_phys + (kind == DBNIC_UMAP_DB ?
				      DBNIC_DB_REGION_OFFSET : DBNIC_PRIO_OFFSET);
		ret = vmf_insert_pfn_prot(vma, vmf->address, PHYS_PFN(phys),
					  vma->vm_page_prot);
		break;
	case DBNIC_UMAP_SQ:
	case DBNIC_UMAP_CQ:
		pfn = dbnic_uring_pfn(uf, kind, serial, vmf->pgoff);
		if (pfn)
			ret = vmf_insert_pfn_prot(vma, vmf->address, pfn,
						  vma->vm_page_prot);
		break;
	default:
		break;
	}
out:
	mutex_unlock(&uf->lock);
	return ret;
}

static const struct vm_operations_struct dbnic_uvma_ops = {
	.fault = dbnic_uvma_fault,
};

/* Check a mapping of a page of BAR 2: doorbell region or priority area. */
static int dbnic_umap_bar(struct vm_area_struct *vma, pgprot_t prot)
{
	if (vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	vma->vm_page_prot = pgprot_decrypted(prot);
	return 0;
}

/*
 * Check a mapping of a ring.  The fault handler maps a ring's pages by
 * their struct page, which dma_alloc_coherent() memory has only when it
 * is in the linear map (dma-direct without remapping, as on x86), and
 * in the processor's ordinary (encrypted) view only without memory
 * encryption: otherwise refuse rather than map the wrong thing.
 */
static int dbnic_umap_ring(struct vm_area_struct *vma, void *ring, size_t bytes)
{
	if (vma->vm_end - vma->vm_start > bytes)
		return -EINVAL;
	if (is_vmalloc_addr(ring) || !virt_addr_valid(ring) ||
	    cc_platform_has(CC_ATTR_MEM_ENCRYPT))
		return -EOPNOTSUPP;
	return 0;
}

static int dbnic_cdev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dbnic_ufile *uf = file->private_data;
	struct dbnic_ucdev *uc = uf->uc;
	u64 offset = (u64)vma->vm_pgoff << PAGE_SHIFT;
	enum dbnic_umap_kind kind;
	struct dbnic_uqp *qp;
	u32 qid = 0, serial = 0;
	int ret;

	if (current->mm != uf->mm)
		return -EPERM;
	/* Shared (a private COW copy of a BAR is meaningless), never code. */
	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;

	mutex_lock(&uf->lock);
	if (uf->dead) {
		ret = -ENODEV;
		goto out;
	}
	kind = dbnic_umap_decode(offset, &qid);
	switch (kind) {
	case DBNIC_UMAP_DB:
		ret = dbnic_umap_bar(vma, pgprot_noncached(vma->vm_page_prot));
		break;
	case DBNIC_UMAP_PRIO:
		ret = -EINVAL;
		if (uc->prio_slots)
			ret = dbnic_umap_bar(vma, pgprot_writecombine(vma->vm_page_prot));
		break;
	case DBNIC_UMAP_SQ:
	case DBNIC_UMAP_CQ:
		qp = dbnic_uqp_find(uf, qid);
		if (!qp) {
			ret = -EINVAL;
			break;
		}
		serial = qp->serial;
		ret = dbnic_umap_ring(vma, kind == DBNIC_UMAP_SQ ? qp->sq_ring : qp->cq_ring,
				      kind == DBNIC_UMAP_SQ ? qp->sq_bytes : qp->cq_bytes);
		break;
	default:
		ret = -EINVAL;
	}
	if (!ret) {
		/* Pages come at fault time; see the top of the file. */
		vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTCOPY |
			     VM_DONTEXPAND | VM_DONTDUMP);
		vm_flags_clear(vma, VM_MAYEXEC);
		vma->vm_private_data = dbnic_uvma_tag(kind, serial);
		vma->vm_ops = &dbnic_uvma_ops;
	}
out:
	mutex_unlock(&uf->lock);
	return ret;
}

static const struct file_operations dbnic_cdev_fops = {
	.owner = THIS_MODULE,
	.open = dbnic_cdev_open,
	.release = dbnic_cdev_release,
	.unlocked_ioctl = dbnic_cdev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = dbnic_cdev_mmap,
};

/* ------------------------------------------------------------------ */
/* debugfs: users                                                       */
/* ------------------------------------------------------------------ */

static int users_show(struct seq_file *s, void *unused)
{
	struct dbnic_ucdev *uc = s->private;
	struct dbnic_ufile *uf;
	unsigned long pinned = 0;
	unsigned int n = 0;

	mutex_lock(&uc->lock);
	list_for_each_entry(uf, &uc->files, node) {
		n++;
		pinned += atomic_long_read(&uf->pinned);
	}
	seq_printf(s, "device %s contexts %u pinned_pages %lu cq_vector %u\n",
		   uc->name, n, pinned, uc->cq_vector);
	list_for_each_entry(uf, &uc->files, node) {
		struct dbnic_uqp *qp;
		struct dbnic_umr *mr;

		mutex_lock(&uf->lock);
		seq_printf(s, "ctx %u uid %u pid %d comm %s qps %u mrs %u pinned %lu%s\n",
			   uf->ctx, from_kuid(&init_user_ns, uf->uid), uf->pid,
			   uf->comm, uf->nqps, uf->nmrs,
			   atomic_long_read(&uf->pinned),
			   uf->dead ? " dead" : "");
		list_for_each_entry(qp, &uf->qps, node)
			seq_printf(s, " qp %u cq %u sq_log %u cq_log %u stride %u prio_slot %d\n",
				   qp->qid, qp->cqn, qp->sq_log, qp->cq_log,
				   qp->stride,
				   qp->prio_pair >= 0 ? 2 * qp->prio_pair : -1);
		list_for_each_entry(mr, &uf->mrs, node)
			seq_printf(s, " mr %#x length %llu pages %u shift %u%s\n",
				   mr->key, mr->length, mr->npages, mr->shift,
				   mr->write ? " write" : "");
		mutex_unlock(&uf->lock);
	}
	mutex_unlock(&uc->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(users);

/* ------------------------------------------------------------------ */
/* Device life cycle                                                    */
/* ------------------------------------------------------------------ */

/*
 * The vector of processes' CQs: none (v1.2), else the first MSI-X vector
 * the driver did not allocate (left masked).  Never one of the kernel's:
 * -ENOSPC if there is no such vector.
 */
static int dbnic_ucq_vector(struct dbnic_dev *dd)
{
	unsigned int v;

	if (dd->caps.features & DBNIC_FEAT_EQ)
		return DBNIC_CQ_NO_VECTOR;
	for (v = 0; v < dd->caps.msix; v++)
		if (pci_irq_vector(dd->pdev, v) < 0)
			return v;
	return -ENOSPC;
}

/* The priority area of context @ctx's doorbell page: physical address. */
static resource_size_t dbnic_uprio_phys(struct dbnic_ucdev *uc, unsigned int ctx)
{
	return uc->db_base + ((resource_size_t)ctx << DBNIC_DB_PAGE_SHIFT) +
	       DBNIC_PRIO_OFFSET;
}

static void dbnic_uprio_free_wc(struct dbnic_ucdev *uc, unsigned int n)
{
	while (n--)
		arch_io_free_memtype_wc(dbnic_uprio_phys(uc, n),
					DBNIC_PRIO_AREA_SIZE);
}

/*
 * Reserve every context's priority area write-combining, so that the
 * pages the fault handler inserts really are WC: an inserted page gets
 * the type PAT has for its address, and UC- where it has none (x86; a
 * no-op where the architecture does not track types).  Return: 0 or the
 * first failure, with nothing left reserved.
 */
static int dbnic_uprio_reserve_wc(struct dbnic_ucdev *uc, unsigned int pages)
{
	unsigned int i;
	int ret;

	for (i = 0; i < pages; i++) {
		ret = arch_io_reserve_memtype_wc(dbnic_uprio_phys(uc, i),
						 DBNIC_PRIO_AREA_SIZE);
		if (ret) {
			dbnic_uprio_free_wc(uc, i);
			return ret;
		}
	}
	return 0;
}

/**
 * dbnic_cdev_probe - create /dev/dbnic<N> for a device
 * @adev: the device's "cdev" auxiliary device; its dbnic has its admin
 *	queue running
 * @id: its entry in the id table
 *
 * A failure is logged; the kernel's own use of the device goes on.
 *
 * Return: 0, -ENODEV when the device cannot offer user-space submission
 * (pages larger than a doorbell page's halves, no vector for user CQs),
 * or the errno of what failed.
 */
static int dbnic_cdev_probe(struct auxiliary_device *adev,
			    const struct auxiliary_device_id *id)
{
	struct dbnic_dev *dd = dbnic_aux_dd(adev);
	struct device *dev = dbnic_to_dev(dd);
	struct dbnic_ucdev *uc;
	int ret;

	/*
	 * A user mapping is a page: each half of a doorbell page must be one
	 * (Linux pages are at least 4 KiB).
	 */
	if (DBNIC_DB_REGION_SIZE % PAGE_SIZE || DBNIC_PRIO_AREA_SIZE % PAGE_SIZE) {
		dev_info(dev, "no user-space submission with %lu-byte pages\n",
			 PAGE_SIZE);
		return -ENODEV;
	}
	ret = dbnic_ucq_vector(dd);
	if (ret < 0) {
		dev_info(dev, "no user-space submission: no MSI-X vector that user CQs could have to themselves\n");
		return -ENODEV;
	}
	uc = kzalloc(sizeof(*uc), GFP_KERNEL);
	if (!uc) {
		ret = -ENOMEM;
		goto err;
	}
	kref_init(&uc->ref);
	init_rwsem(&uc->rwsem);
	mutex_init(&uc->lock);
	INIT_LIST_HEAD(&uc->files);
	uc->dd = dd;
	uc->db_base = pci_resource_start(dd->pdev, DBNIC_BAR_DB);
	uc->max_seg = dma_get_max_seg_size(dev);
	if (dd->caps.features & DBNIC_FEAT_PRIORITY)
		uc->prio_slots = min_t(unsigned int, dd->caps.prio_slots,
				       DBNIC_PRIO_SLOTS);
	uc->cq_vector = dbnic_ucq_vector(dd);	/* checked above */
	if (uc->prio_slots) {
		ret = dbnic_uprio_reserve_wc(uc, dd->caps.db_pages);
		if (ret) {
			dev_warn(dev, "priority areas cannot be write-combining for user space (%d): ring path only\n",
				 ret);
			uc->prio_slots = 0;
		} else {
			uc->wc_pages = dd->caps.db_pages;
		}
	}

	uc->id = ida_alloc(&dbnic_cdev_ida, GFP_KERNEL);
	if (uc->id < 0) {
		ret = uc->id;
		goto err_free;
	}
	snprintf(uc->name, sizeof(uc->name), DBNIC_DRV_NAME "%d", uc->id);
	uc->misc.minor = MISC_DYNAMIC_MINOR;
	uc->misc.name = uc->name;
	uc->misc.fops = &dbnic_cdev_fops;
	uc->misc.parent = dev;
	ret = misc_register(&uc->misc);
	if (ret)
		goto err_ida;

	auxiliary_set_drvdata(adev, uc);
	uc->debugfs = debugfs_create_file("users", 0444, dd->debugfs, uc,
					  &users_fops);
	dev_info(dev, "user-space submission on /dev/%s\n", uc->name);
	return 0;

err_ida:
	ida_free(&dbnic_cdev_ida, uc->id);
err_free:
	dbnic_uprio_free_wc(uc, uc->wc_pages);
	kfree(uc);
err:
	dev_warn(dev, "no user-space submission: %d\n", ret);
	return ret;
}

/*
 * Revoke a file's mappings and free all it has.  Called by removal, with
 * the rwsem held for write: no ioctl or release runs.
 */
static void dbnic_ufile_kill(struct dbnic_ufile *uf)
{
	/* Dead first: no fault maps anything of the file after this. */
	mutex_lock(&uf->lock);
	uf->dead = true;
	mutex_unlock(&uf->lock);
	unmap_mapping_range(uf->mapping, 0, 0, 1);

	dbnic_ufile_destroy(uf);
}

/**
 * dbnic_cdev_remove - remove /dev/dbnic<N> before the device goes
 * @adev: the device's "cdev" auxiliary device; its dbnic has its admin
 *	queue still running
 *
 * On return no process maps anything of the device and all memory the
 * device could reach through user contexts is freed; open files remain
 * and fail with ENODEV until closed.
 */
static void dbnic_cdev_remove(struct auxiliary_device *adev)
{
	struct dbnic_ucdev *uc = auxiliary_get_drvdata(adev);
	struct dbnic_ufile *uf;

	debugfs_remove(uc->debugfs);
	uc->debugfs = NULL;
	/* No open() is running after this, and none can start. */
	misc_deregister(&uc->misc);

	down_write(&uc->rwsem);
	/* Opens and releases change the list under the rwsem. */
	list_for_each_entry(uf, &uc->files, node)
		if (!uf->dead)
			dbnic_ufile_kill(uf);
	uc->dd = NULL;
	up_write(&uc->rwsem);

	/* Every file is dead and zapped: no page of a priority area is mapped. */
	dbnic_uprio_free_wc(uc, uc->wc_pages);
	ida_free(&dbnic_cdev_ida, uc->id);
	kref_put(&uc->ref, dbnic_ucdev_release);
}

static const struct auxiliary_device_id dbnic_cdev_ids[] = {
	{ .name = DBNIC_AUX_ID(DBNIC_AUX_CDEV_NAME) },
	{ }
};
MODULE_DEVICE_TABLE(auxiliary, dbnic_cdev_ids);

static struct auxiliary_driver dbnic_cdev_driver = {
	.name = "cdev",
	.probe = dbnic_cdev_probe,
	.remove = dbnic_cdev_remove,
	.id_table = dbnic_cdev_ids,
};
module_auxiliary_driver(dbnic_cdev_driver);

MODULE_DESCRIPTION("dbnic user-space submission, /dev/dbnic<N> (auxiliary driver of dbnic_core)");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DBNIC);
