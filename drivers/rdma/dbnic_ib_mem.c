// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic RDMA: rings, user contexts and their mappings, protection
 * domains, memory regions and address handles (datasheet 11.1, 11.2).
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <rdma/ib_cache.h>
#include <rdma/iter.h>
#include <rdma/uverbs_ioctl.h>

#include "dbnic_ib.h"

static unsigned int max_user_contexts = 16;
module_param(max_user_contexts, uint, 0644);
MODULE_PARM_DESC(max_user_contexts,
		 "Verbs contexts (device contexts and doorbell pages) one user may hold per device; 0: no limit; CAP_SYS_RESOURCE is exempt (default: 16, as dbnic_cdev's)");

static struct device *dbnic_ib_dma_dev(struct dbnic_ib_dev *ibd)
{
	return dbnic_to_dev(ibd->dd);
}

/* ------------------------------------------------------------------ */
/* Rings and holds                                                      */
/* ------------------------------------------------------------------ */

/**
 * dbnic_ib_ring_alloc - zeroed pages for a ring, mapped for the device
 * @ibd: the device
 * @r: filled in
 * @bytes: the ring's size, rounded up to whole pages
 *
 * The pages are charged to the caller's memory cgroup.  The device and
 * the host share them for the ring's life, so a mapping that needs
 * syncing (a bounce buffer, a non-coherent device) cannot be used.
 *
 * Return: 0, -ENOMEM, or -EOPNOTSUPP when the mapping is not coherent.
 */
int dbnic_ib_ring_alloc(struct dbnic_ib_dev *ibd, struct dbnic_ib_ring *r,
			size_t bytes)
{
	struct device *dev = dbnic_ib_dma_dev(ibd);

	r->bytes = PAGE_ALIGN(bytes);
	r->cpu = alloc_pages_exact(r->bytes, GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!r->cpu)
		return -ENOMEM;
	r->dma = dma_map_single(dev, r->cpu, r->bytes, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, r->dma)) {
		free_pages_exact(r->cpu, r->bytes);
		r->cpu = NULL;
		return -ENOMEM;
	}
	if (dma_need_sync(dev, r->dma)) {
		dbnic_ib_ring_free(ibd, r);
		return -EOPNOTSUPP;
	}
	return 0;
}

/**
 * dbnic_ib_ring_free - unmap a ring the device no longer uses, drop its pages
 * @ibd: the device
 * @r: the ring (or one never allocated); zeroed
 *
 * A process's mapping (and a mmap entry) holds its own page references:
 * the pages go when the last of them is gone.
 */
void dbnic_ib_ring_free(struct dbnic_ib_dev *ibd, struct dbnic_ib_ring *r)
{
	if (!r->cpu)
		return;
	dma_unmap_single(dbnic_ib_dma_dev(ibd), r->dma, r->bytes,
			 DMA_BIDIRECTIONAL);
	free_pages_exact(r->cpu, r->bytes);
	memset(r, 0, sizeof(*r));
}

static void dbnic_ib_hold_release(struct dbnic_dev *dd,
				  struct dbnic_admin_hold *hold)
{
	dbnic_ib_hold_free(container_of(hold, struct dbnic_ib_hold, hold));
}

/**
 * dbnic_ib_hold_alloc - an empty hold for rings, a page list and pages
 * @ibd: the device; the hold keeps its struct device (and so its DMA
 *	device) alive until freed, even past the function's removal when
 *	the admin queue releases it at reset
 *
 * Return: the hold, or NULL.
 */
struct dbnic_ib_hold *dbnic_ib_hold_alloc(struct dbnic_ib_dev *ibd)
{
	struct dbnic_ib_hold *h = kzalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return NULL;
	h->ibd = ibd;
	h->hold.release = dbnic_ib_hold_release;
	h->hold.owner = THIS_MODULE;
	get_device(&ibd->ibdev.dev);
	return h;
}

/* Free the hold only: what it names still belongs to its object. */
void dbnic_ib_hold_shell_free(struct dbnic_ib_hold *h)
{
	if (!h)
		return;
	put_device(&h->ibd->ibdev.dev);
	kfree(h);
}

/* Free the hold and everything it names; the device uses none of it. */
void dbnic_ib_hold_free(struct dbnic_ib_hold *h)
{
	struct dbnic_ib_dev *ibd;

	if (!h)
		return;
	ibd = h->ibd;
	dbnic_ib_ring_free(ibd, &h->ring[0]);
	dbnic_ib_ring_free(ibd, &h->ring[1]);
	if (h->list.cpu)
		dma_free_coherent(dbnic_ib_dma_dev(ibd), h->list.bytes,
				  h->list.cpu, h->list.dma);
	ib_umem_release(h->umem);
	dbnic_ib_hold_shell_free(h);
}

/**
 * dbnic_ib_park - keep what an object names until the device is reset
 * @ibd: the device
 * @h: the hold naming it; the admin queue owns it from now on
 * @what: the object, for the log
 * @handle: its handle
 *
 * For an object whose destroy failed: the device may still use its memory.
 */
void dbnic_ib_park(struct dbnic_ib_dev *ibd, struct dbnic_ib_hold *h,
		   const char *what, u32 handle)
{
	dev_warn(&ibd->ibdev.dev, "%s %#x still known to the device: keeping its memory until reset\n",
		 what, handle);
	h->hold.pages = PFN_UP(h->ring[0].bytes) + PFN_UP(h->ring[1].bytes) +
			(h->umem ? ib_umem_num_pages(h->umem) : 0);
	dbnic_admin_park(ibd->dd, &h->hold);
}

/* ------------------------------------------------------------------ */
/* The user ABI (include/dbnic_abi.h)                                  */
/* ------------------------------------------------------------------ */

/**
 * dbnic_ib_udata_in - take a request of the ABI
 * @udata: the driver's part of the command, or NULL (kernel)
 * @req: @len bytes, filled with what the caller sent, zero past it
 * @len: the request this driver knows (0: none)
 *
 * Return: 0, -EFAULT, or -EOPNOTSUPP for a longer request whose extra
 * bytes are not zero (a newer provider asking for what this driver does
 * not know).  The caller checks comp_mask.
 */
int dbnic_ib_udata_in(struct ib_udata *udata, void *req, size_t len)
{
	size_t n;

	if (len)
		memset(req, 0, len);
	if (!udata)
		return 0;
	n = min(udata->inlen, len);
	if (n && ib_copy_from_udata(req, udata, n))
		return -EFAULT;
	if (udata->inlen > len &&
	    !ib_is_udata_cleared(udata, len, udata->inlen - len))
		return -EOPNOTSUPP;
	return 0;
}

/**
 * dbnic_ib_udata_out - answer with a response of the ABI
 * @udata: the driver's part of the command, or NULL (kernel)
 * @resp: the response
 * @len: its size; an older provider gets the part it asked for
 *
 * Return: 0 or -EFAULT.
 */
int dbnic_ib_udata_out(struct ib_udata *udata, void *resp, size_t len)
{
	if (!udata || !udata->outlen)
		return 0;
	return ib_copy_to_udata(udata, resp, min(udata->outlen, len));
}

/* ------------------------------------------------------------------ */
/* User contexts and mappings                                           */
/* ------------------------------------------------------------------ */

static struct rdma_user_mmap_entry *
dbnic_ib_mmap_insert(struct dbnic_ib_ucontext *uctx,
		     enum dbnic_ib_mmap_kind kind, phys_addr_t phys, void *cpu,
		     size_t bytes, u64 *key)
{
	struct dbnic_ib_mmap *e = kzalloc(sizeof(*e), GFP_KERNEL);
	int ret;

	if (!e)
		return ERR_PTR(-ENOMEM);
	e->kind = kind;
	e->phys = phys;
	e->cpu = cpu;
	ret = rdma_user_mmap_entry_insert(&uctx->ibuc, &e->rdma_entry, bytes);
	if (ret) {
		kfree(e);
		return ERR_PTR(ret);
	}
	*key = rdma_user_mmap_get_offset(&e->rdma_entry);
	return &e->rdma_entry;
}

/* Each page of a ring: one reference per holder (ring, entry, mapping). */
static void dbnic_ib_ring_pages_ref(void *cpu, size_t bytes, bool get)
{
	size_t off;

	for (off = 0; off < bytes; off += PAGE_SIZE) {
		struct page *pg = virt_to_page(cpu + off);

		if (get)
			get_page(pg);
		else
			put_page(pg);
	}
}

/**
 * dbnic_ib_mmap_ring - let a process map a ring
 * @uctx: the process's context
 * @r: the ring; the entry takes its own page references, so the ring
 *	may be freed before the entry goes (rdma_user_mmap_entry_remove())
 * @key: the mmap offset for the ABI
 *
 * Return: the entry, or an ERR_PTR (-ENOMEM, or the core's errno).
 */
struct rdma_user_mmap_entry *
dbnic_ib_mmap_ring(struct dbnic_ib_ucontext *uctx, struct dbnic_ib_ring *r,
		   u64 *key)
{
	struct rdma_user_mmap_entry *e;

	dbnic_ib_ring_pages_ref(r->cpu, r->bytes, true);
	e = dbnic_ib_mmap_insert(uctx, DBNIC_IB_MMAP_RING, 0, r->cpu, r->bytes,
				 key);
	if (IS_ERR(e))
		dbnic_ib_ring_pages_ref(r->cpu, r->bytes, false);
	return e;
}

void dbnic_ib_mmap_free(struct rdma_user_mmap_entry *entry)
{
	struct dbnic_ib_mmap *e = to_dbnic_mmap(entry);

	if (e->kind == DBNIC_IB_MMAP_RING)
		dbnic_ib_ring_pages_ref(e->cpu, entry->npages << PAGE_SHIFT,
					false);
	kfree(e);
}

/*
 * The doorbell region uncached, the priority area write-combining: each
 * is one 4 KiB page of BAR 2 with its own memory type (datasheet 3), and
 * rdma_user_mmap_io() lets the core revoke them when the device goes.
 * Rings are the driver's pages, mapped cached.
 */
int dbnic_ib_mmap(struct ib_ucontext *ibuc, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *entry;
	struct dbnic_ib_mmap *e;
	unsigned long i;
	int ret;

	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	entry = rdma_user_mmap_entry_get(ibuc, vma);
	if (!entry)
		return -EINVAL;
	e = to_dbnic_mmap(entry);
	vm_flags_clear(vma, VM_MAYEXEC);
	switch (e->kind) {
	case DBNIC_IB_MMAP_DB:
		ret = rdma_user_mmap_io(ibuc, vma, PHYS_PFN(e->phys), PAGE_SIZE,
					pgprot_noncached(vma->vm_page_prot),
					entry);
		break;
	case DBNIC_IB_MMAP_PRIO:
		ret = rdma_user_mmap_io(ibuc, vma, PHYS_PFN(e->phys), PAGE_SIZE,
					pgprot_writecombine(vma->vm_page_prot),
					entry);
		break;
	default:
		ret = 0;
		vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP);
		for (i = 0; i < entry->npages && !ret; i++)
			ret = vm_insert_page(vma, vma->vm_start + i * PAGE_SIZE,
					     virt_to_page(e->cpu + i * PAGE_SIZE));
		break;
	}
	rdma_user_mmap_entry_put(entry);
	return ret;
}

/*
 * Count @uctx against its user's limit (max_user_contexts): the device's
 * contexts are few (CAP_DB.pages) and shared with /dev/dbnic<N>.
 * Return: 0, or -EUSERS when the user holds the limit already.
 */
static int dbnic_ib_uctx_claim(struct dbnic_ib_dev *ibd,
			       struct dbnic_ib_ucontext *uctx)
{
	unsigned int max = READ_ONCE(max_user_contexts), n = 0;
	struct dbnic_ib_ucontext *other;
	bool exempt = capable(CAP_SYS_RESOURCE);
	int ret = 0;

	uctx->uid = current_uid();
	spin_lock(&ibd->uctx_lock);
	if (max && !exempt) {
		list_for_each_entry(other, &ibd->uctxs, node)
			if (uid_eq(other->uid, uctx->uid))
				n++;
		if (n >= max)
			ret = -EUSERS;
	}
	if (!ret) {
		list_add_tail(&uctx->node, &ibd->uctxs);
		uctx->counted = true;
	}
	spin_unlock(&ibd->uctx_lock);
	return ret;
}

/**
 * dbnic_ib_alloc_ucontext - a process's device context and doorbell page
 * @ibuc: the core's context
 * @udata: no request; struct dbnic_alloc_ucontext_resp
 *
 * CREATE_CTX, unprivileged (datasheet 4): the device lets the page act
 * only on the context's queues and QPs, and its SGEs reach only its
 * registrations.
 *
 * Return: 0, -EOPNOTSUPP (request bytes this driver does not know),
 * -EUSERS (the user holds max_user_contexts already), -EFAULT, -ENOMEM,
 * -EIO (a context without a page), or an errno of the admin queue
 * (-ENOSPC: no context left).
 */
int dbnic_ib_alloc_ucontext(struct ib_ucontext *ibuc, struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibuc->device);
	struct dbnic_ib_ucontext *uctx = to_dbnic_uctx(ibuc);
	struct dbnic_alloc_ucontext_resp resp = {};
	struct dbnic_dev *dd = ibd->dd;
	u64 key;
	int ret;

	ret = dbnic_ib_udata_in(udata, NULL, 0);
	if (ret)
		return ret;
	spin_lock_init(&uctx->lock);
	ret = dbnic_ib_uctx_claim(ibd, uctx);
	if (ret)
		return ret;
	ret = dbnic_admin_create_ctx(dd, 0, &uctx->ctx);
	if (ret)
		goto err_unclaim;
	if (uctx->ctx >= dd->caps.db_pages) {
		ret = -EIO;
		goto err;
	}
	uctx->db_phys = ibd->db_base +
			((phys_addr_t)uctx->ctx << DBNIC_DB_PAGE_SHIFT);
	uctx->db_entry = dbnic_ib_mmap_insert(uctx, DBNIC_IB_MMAP_DB,
					      uctx->db_phys +
					      DBNIC_DB_REGION_OFFSET, NULL,
					      DBNIC_DB_REGION_SIZE, &key);
	if (IS_ERR(uctx->db_entry)) {
		ret = PTR_ERR(uctx->db_entry);
		uctx->db_entry = NULL;
		goto err;
	}
	resp.db_key = key;
	if (ibd->prio_slots) {
		uctx->prio_entry = dbnic_ib_mmap_insert(uctx, DBNIC_IB_MMAP_PRIO,
							uctx->db_phys +
							DBNIC_PRIO_OFFSET, NULL,
							DBNIC_PRIO_AREA_SIZE,
							&key);
		if (IS_ERR(uctx->prio_entry)) {
			ret = PTR_ERR(uctx->prio_entry);
			uctx->prio_entry = NULL;
			goto err;
		}
		resp.prio_key = key;
		resp.prio_slots = ibd->prio_slots;
	}
	resp.ctx = uctx->ctx;
	resp.max_inline = DBNIC_RDMA_MAX_INLINE;
	ret = dbnic_ib_udata_out(udata, &resp, sizeof(resp));
	if (ret)
		goto err;
	return 0;

err:
	dbnic_ib_dealloc_ucontext(ibuc);
	return ret;
err_unclaim:
	spin_lock(&ibd->uctx_lock);
	list_del(&uctx->node);
	spin_unlock(&ibd->uctx_lock);
	return ret;
}

/* The core destroyed the context's objects first; mappings are gone. */
void dbnic_ib_dealloc_ucontext(struct ib_ucontext *ibuc)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibuc->device);
	struct dbnic_ib_ucontext *uctx = to_dbnic_uctx(ibuc);
	int ret;

	if (uctx->prio_entry)
		rdma_user_mmap_entry_remove(uctx->prio_entry);
	if (uctx->db_entry)
		rdma_user_mmap_entry_remove(uctx->db_entry);
	uctx->prio_entry = NULL;
	uctx->db_entry = NULL;
	/* Its QPs, CQs, AHs and MRs are gone: only the context is left. */
	ret = dbnic_admin_destroy(ibd->dd, DBNIC_ADM_DESTROY_CTX, uctx->ctx);
	if (ret && ret != -ENODEV)
		dev_warn(&ibd->ibdev.dev, "context %u not destroyed: %d\n",
			 uctx->ctx, ret);
	spin_lock(&ibd->uctx_lock);
	if (uctx->counted)
		list_del(&uctx->node);
	uctx->counted = false;
	spin_unlock(&ibd->uctx_lock);
}

/* ------------------------------------------------------------------ */
/* Protection domains and memory regions                                */
/* ------------------------------------------------------------------ */

/* A pd is a tag the device compares (datasheet 11.1); 0 means none. */
int dbnic_ib_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibpd->device);
	int tag;

	tag = ida_alloc_range(&ibd->pd_ida, 1, INT_MAX, GFP_KERNEL);
	if (tag < 0)
		return tag;
	to_dbnic_pd(ibpd)->tag = tag;
	return 0;
}

int dbnic_ib_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibpd->device);

	ida_free(&ibd->pd_ida, to_dbnic_pd(ibpd)->tag);
	return 0;
}

/* The context of an object: the process's, or the kernel's. */
static u32 dbnic_ib_ctx_of(struct dbnic_ib_dev *ibd, struct ib_udata *udata)
{
	struct dbnic_ib_ucontext *uctx =
		rdma_udata_to_drv_context(udata, struct dbnic_ib_ucontext, ibuc);

	return uctx ? uctx->ctx : ibd->kctx.ctx;
}

static u32 dbnic_ib_mr_access(int access)
{
	return (access & IB_ACCESS_LOCAL_WRITE ? DBNIC_MR_LOCAL_WRITE : 0) |
	       (access & IB_ACCESS_REMOTE_READ ? DBNIC_MR_REMOTE_READ : 0) |
	       (access & IB_ACCESS_REMOTE_WRITE ? DBNIC_MR_REMOTE_WRITE : 0);
}

/**
 * dbnic_ib_reg_user_mr - register a process's memory (datasheet 4.1, 11.1)
 * @ibpd: the pd the registration belongs to
 * @start: user address of the first byte
 * @length: bytes, at most what DBNIC_MR_MAX_PAGES pages describe
 * @virt: its address in SGEs and rkeys (iova)
 * @access: IB_ACCESS_LOCAL_WRITE, _REMOTE_READ, _REMOTE_WRITE (optional
 *	flags are ignored)
 * @udata: the process's
 *
 * The pages are pinned (ib_umem), described to the device by a list of
 * the largest page size the mapping allows (4 KiB..1 GiB), and both are
 * kept until DEREG_MR.  lkey = rkey = the device's key.
 *
 * Return: the MR, or ERR_PTR: -EOPNOTSUPP (atomics, memory windows,
 * on-demand paging), -EINVAL (length, alignment), -ENOMEM, -EFAULT, or
 * an errno of the admin queue (-ENOSPC: no registration left).
 */
struct ib_mr *dbnic_ib_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
				   u64 virt, int access,
				   struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibpd->device);
	struct dbnic_ib_hold *res;
	struct ib_block_iter biter;
	struct dbnic_ib_mr *mr;
	unsigned long pgsz;
	__le64 *list;
	size_t npages, i = 0;
	int ret;

	if ((access & ~IB_ACCESS_OPTIONAL) &
	    ~(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_READ |
	      IB_ACCESS_REMOTE_WRITE))
		return ERR_PTR(-EOPNOTSUPP);
	if (!length)
		return ERR_PTR(-EINVAL);

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	res = dbnic_ib_hold_alloc(ibd);
	if (!mr || !res) {
		ret = -ENOMEM;
		goto err;
	}
	res->umem = ib_umem_get(ibpd->device, start, length, access);
	if (IS_ERR(res->umem)) {
		ret = PTR_ERR(res->umem);
		res->umem = NULL;
		goto err;
	}
	pgsz = ib_umem_find_best_pgsz(res->umem,
				      GENMASK_ULL(DBNIC_MR_PAGE_SHIFT_MAX,
						  DBNIC_MR_PAGE_SHIFT_MIN),
				      virt);
	npages = pgsz ? ib_umem_num_dma_blocks(res->umem, pgsz) : 0;
	if (!npages || npages > DBNIC_MR_MAX_PAGES) {
		ret = -EINVAL;
		goto err;
	}
	/* The device reads the list by DMA until DEREG_MR completes. */
	res->list.bytes = npages * sizeof(*list);
	res->list.cpu = dma_alloc_coherent(dbnic_ib_dma_dev(ibd),
					   res->list.bytes, &res->list.dma,
					   GFP_KERNEL_ACCOUNT);
	if (!res->list.cpu) {
		ret = -ENOMEM;
		goto err;
	}
	list = res->list.cpu;
	rdma_umem_for_each_dma_block(res->umem, &biter, pgsz)
		list[i++] = cpu_to_le64(rdma_block_iter_dma_address(&biter));

	res->hold.pages = ib_umem_num_pages(res->umem);
	ret = dbnic_admin_reg_mr_pd(ibd->dd, dbnic_ib_ctx_of(ibd, udata),
				    to_dbnic_pd(ibpd)->tag, virt, length,
				    res->list.dma, npages, ilog2(pgsz),
				    dbnic_ib_mr_access(access), &mr->key,
				    &res->hold);
	if (ret == -ETIMEDOUT) {
		/* The admin queue owns the pages and the list now. */
		kfree(mr);
		return ERR_PTR(ret);
	}
	if (ret)
		goto err;
	mr->registered = true;
	mr->res = res;
	mr->ibmr.lkey = mr->key;
	mr->ibmr.rkey = mr->key;
	return &mr->ibmr;

err:
	dbnic_ib_hold_free(res);
	kfree(mr);
	return ERR_PTR(ret);
}

/**
 * dbnic_ib_get_dma_mr - the kernel's DMA MR: key 0 of the kernel context
 * @ibpd: a kernel pd
 * @access: local rights only: key 0 is never an rkey (datasheet 11.1)
 *
 * Return: the MR, or ERR_PTR(-EOPNOTSUPP) for remote rights, -ENOMEM.
 */
struct ib_mr *dbnic_ib_get_dma_mr(struct ib_pd *ibpd, int access)
{
	struct dbnic_ib_mr *mr;

	if (access & (IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_WRITE |
		      IB_ACCESS_REMOTE_ATOMIC))
		return ERR_PTR(-EOPNOTSUPP);
	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	return &mr->ibmr;
}

int dbnic_ib_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibmr->device);
	struct dbnic_ib_mr *mr = to_dbnic_mr(ibmr);
	int ret = 0;

	if (mr->registered)
		ret = dbnic_admin_destroy(ibd->dd, DBNIC_ADM_DEREG_MR, mr->key);
	/*
	 * Gone with its context or the device (-ENOENT, -ENODEV) is as good
	 * as deregistered; otherwise the device may still reach the pages.
	 */
	if (ret && ret != -ENOENT && ret != -ENODEV)
		dbnic_ib_park(ibd, mr->res, "MR", mr->key);
	else
		dbnic_ib_hold_free(mr->res);
	kfree(mr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Address handles                                                      */
/* ------------------------------------------------------------------ */

/**
 * dbnic_ib_av_from_attr - the device's address vector (datasheet 11.2)
 * @ibd: the device
 * @ah_attr: a RoCE v2 destination: GRH with the source GID's attribute,
 *	the next hop's MAC (resolved by the core or the caller)
 * @lqpn: the local QPN, @rqpn the remote one, for the UDP source port
 *	(0, 0 for an AH)
 * @rqpn: the remote QPN
 * @av: filled in
 *
 * Return: 0, -EINVAL (no GRH, no or a non-RoCE v2 source GID), -ENODEV
 * (the GID's netdev is gone).
 */
int dbnic_ib_av_from_attr(struct dbnic_ib_dev *ibd,
			  const struct rdma_ah_attr *ah_attr, u32 lqpn,
			  u32 rqpn, struct dbnic_av *av)
{
	const struct ib_global_route *grh;
	const struct ib_gid_attr *sgid;
	u16 vlan;
	int ret;

	if (!(rdma_ah_get_ah_flags(ah_attr) & IB_AH_GRH))
		return -EINVAL;
	grh = rdma_ah_read_grh(ah_attr);
	sgid = grh->sgid_attr;
	if (!sgid || sgid->gid_type != IB_GID_TYPE_ROCE_UDP_ENCAP)
		return -EINVAL;
	ret = rdma_read_gid_l2_fields(sgid, &vlan, NULL);
	if (ret)
		return ret;
	memset(av, 0, sizeof(*av));
	memcpy(av->dgid, grh->dgid.raw, sizeof(av->dgid));
	av->flow_label = cpu_to_le32(grh->flow_label & IB_GRH_FLOWLABEL_MASK);
	ether_addr_copy(av->dmac, ah_attr->roce.dmac);
	av->vlan = cpu_to_le16(vlan < VLAN_N_VID ? vlan : DBNIC_VLAN_NONE);
	av->udp_sport = cpu_to_le16(rdma_get_udp_sport(grh->flow_label, lqpn,
						       rqpn));
	av->sgid_index = sgid->index;
	av->traffic_class = grh->traffic_class;
	av->hop_limit = grh->hop_limit;
	av->net = rdma_gid_attr_network_type(sgid) == RDMA_NETWORK_IPV4 ?
		  DBNIC_NET_IPV4 : DBNIC_NET_IPV6;
	return 0;
}

/* The device's AH is gone from the host: destroy it (process context). */
static void dbnic_ib_ahw_free(struct dbnic_ib_ahw *hw)
{
	if (hw->state == DBNIC_IB_AH_READY)
		dbnic_admin_destroy(hw->ibd->dd, DBNIC_ADM_DESTROY_AH, hw->ah);
	kfree(hw);
}

static void dbnic_ib_ahw_free_work(struct work_struct *work)
{
	dbnic_ib_ahw_free(container_of(work, struct dbnic_ib_ahw, free_work));
}

/**
 * dbnic_ib_ahw_put - drop a reference to a device AH
 * @hw: the AH
 * @can_sleep: the caller may sleep: the last reference destroys the AH
 *	at once; otherwise DESTROY_AH runs from the AH workqueue, which
 *	removal drains
 */
void dbnic_ib_ahw_put(struct dbnic_ib_ahw *hw, bool can_sleep)
{
	if (!refcount_dec_and_test(&hw->ref))
		return;
	if (can_sleep)
		dbnic_ib_ahw_free(hw);
	else
		queue_work(hw->ibd->ah_wq, &hw->free_work);
}

/*
 * CREATE_AH of an AH made in atomic context.  Then the WRs that waited
 * for it are posted (or, if it failed, completed with an error).
 */
static void dbnic_ib_ahw_create_work(struct work_struct *work)
{
	struct dbnic_ib_ahw *hw = container_of(work, struct dbnic_ib_ahw,
					       create_work);
	struct dbnic_ib_dev *ibd = hw->ibd;
	u32 handle = 0;
	int ret;

	ret = dbnic_admin_create_ah(ibd->dd, hw->ctx, hw->pd, &hw->av, &handle);
	if (ret)
		dev_warn_ratelimited(&ibd->ibdev.dev, "AH not created: %d\n",
				     ret);
	spin_lock_irq(&ibd->ah_lock);
	hw->ah = handle;
	hw->state = ret ? DBNIC_IB_AH_FAILED : DBNIC_IB_AH_READY;
	spin_unlock_irq(&ibd->ah_lock);
	dbnic_ib_flush_deferred(ibd);
	dbnic_ib_ahw_put(hw, true);
}

/**
 * dbnic_ib_create_ah - CREATE_AH (datasheet 11.2), for the kernel and
 *	processes (create_user_ah)
 * @ibah: the core's AH, with its pd
 * @init: the destination
 * @udata: a process's (struct dbnic_create_ah_resp), or NULL
 *
 * An admin command sleeps, and Linux's CM creates its AHs under a
 * spinlock (cm.c cm_alloc_msg(), without RDMA_CREATE_AH_SLEEPABLE): such
 * an AH is created from the AH workqueue, and the kernel UD and GSI WRs
 * that name it meanwhile wait in their QP, in order (post_send).
 *
 * Return: 0, -ENOMEM, an errno of dbnic_ib_av_from_attr() or (sleepable
 * creates) of the admin queue.
 */
int dbnic_ib_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init,
		       struct ib_udata *udata)
{
	struct dbnic_ib_dev *ibd = to_dbnic_ib(ibah->device);
	bool sleepable = init->flags & RDMA_CREATE_AH_SLEEPABLE;
	struct dbnic_ib_ah *ah = to_dbnic_ah(ibah);
	struct dbnic_create_ah_resp resp = {};
	struct dbnic_ib_ahw *hw;
	int ret;

	ret = dbnic_ib_udata_in(udata, NULL, 0);
	if (ret)
		return ret;
	hw = kzalloc(sizeof(*hw), sleepable ? GFP_KERNEL : GFP_ATOMIC);
	if (!hw)
		return -ENOMEM;
	refcount_set(&hw->ref, 1);
	hw->ibd = ibd;
	INIT_WORK(&hw->create_work, dbnic_ib_ahw_create_work);
	INIT_WORK(&hw->free_work, dbnic_ib_ahw_free_work);
	hw->ctx = dbnic_ib_ctx_of(ibd, udata);
	hw->pd = to_dbnic_pd(ibah->pd)->tag;
	ret = dbnic_ib_av_from_attr(ibd, init->ah_attr, 0, 0, &hw->av);
	if (ret)
		goto err;
	ah->hw = hw;
	if (!sleepable) {
		hw->state = DBNIC_IB_AH_PENDING;
		refcount_inc(&hw->ref);		/* the work's */
		queue_work(ibd->ah_wq, &hw->create_work);
		return 0;
	}
	ret = dbnic_admin_create_ah(ibd->dd, hw->ctx, hw->pd, &hw->av, &hw->ah);
	if (ret)
		goto err;
	hw->state = DBNIC_IB_AH_READY;
	resp.ah = hw->ah;
	ret = dbnic_ib_udata_out(udata, &resp, sizeof(resp));
	if (ret) {
		ah->hw = NULL;
		dbnic_ib_ahw_put(hw, true);
	}
	return ret;

err:
	ah->hw = NULL;
	kfree(hw);
	return ret;
}

/*
 * DESTROY_AH once nothing names it: WRs still waiting for it hold it.
 * From atomic context (flags without SLEEPABLE) the command runs from the
 * AH workqueue.
 */
int dbnic_ib_destroy_ah(struct ib_ah *ibah, u32 flags)
{
	struct dbnic_ib_ah *ah = to_dbnic_ah(ibah);

	if (ah->hw)
		dbnic_ib_ahw_put(ah->hw, flags & RDMA_DESTROY_AH_SLEEPABLE);
	ah->hw = NULL;
	return 0;
}
