// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic dmaengine self-test, run by reading debugfs "dma_selftest".
 *
 * dmatest covers memcpy and memset of up to a few pages; this covers
 * what it does not, through the dmaengine client API on each of the
 * device's channels (taken with dma_request_channel() and a filter on
 * the device, as any client of dbnic_dma.ko would, so a channel that a
 * client holds is left out):
 *
 *   interleaved  COPY gathering 30 chunks from a strided source and
 *                scattering them with other gaps: more SGEs than one
 *                descriptor holds, so several device descriptors
 *   memset_sg    FILL over 20 ranges with gaps: split at the SGE limit
 *   memset_big   FILL over 12 ranges of 1.5 MiB that overlap in one
 *                2 MiB buffer: 18 MiB, split at CAP_MAX_XFER inside a range
 *   fence        a memcpy with DMA_PREP_FENCE, then a memcpy of its
 *                destination
 *   terminate    64 memsets issued, then terminate_sync: the channel
 *                drains and takes the next transaction
 *   error        a memcpy to a bus address with no memory behind it:
 *                the device's error completion fails the transaction
 *                (result and tx_status; the driver logs it), and the
 *                channel goes on ("after error": fence again)
 *   two errors   two such memcpys, then a good one: tx_status reports
 *                each failure on its own cookie, the good one COMPLETE
 *   terminate in flight
 *                128 memcpys of 1 MiB into one destination, issued,
 *                then terminate_sync and the destination reused; a
 *                memcpy after a fenced one (so the device runs it after
 *                every lower ring index) proves that nothing of the 128
 *                wrote the destination after terminate_sync returned
 *
 * Bytes the transfer must not touch are checked too.  Reading
 * "dma_sync_test" runs "terminate in flight" only: a guest test runs it
 * on a device with a slow PCIe timing model (dma-latency-ns), where the
 * 128 copies take longer than any fixed wait.
 */

#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dbnic.h"
#include "dbnic_test.h"

#define DST_TIMEOUT_MS	5000
#define DST_REPORT	2048
#define DST_MAX_CHANS	256	/* the core's dma_queues limit */
#define DST_CANARY	0x5a
#define DST_SMALL	SZ_64K		/* buffers of the small cases */
#define DST_BIG		SZ_2M		/* buffer of memset_big */
#define DST_TERMINATE	64
#define DST_NOWHERE	BIT_ULL(46)	/* no RAM or BAR in the guest there */
#define DST_INFLIGHT	128		/* terminate in flight: copies */
#define DST_INFLIGHT_MS	120000		/* ... and the marker's wait */

struct dst_buf {
	void *cpu;
	dma_addr_t dma;
	size_t len;
};

struct dst_ctx {
	struct device *dev;
	struct dma_chan *chan;
	char *report;
	size_t len;
	bool failed;
};

struct dst_wait {
	struct completion done;
	enum dmaengine_tx_result result;
};

static __printf(2, 3) void dst_log(struct dst_ctx *c, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	c->len += vscnprintf(c->report + c->len, DST_REPORT - c->len, fmt,
			     args);
	va_end(args);
}

static int dst_alloc(struct dst_ctx *c, struct dst_buf *b, size_t len)
{
	b->len = len;
	b->cpu = dma_alloc_coherent(c->dev, len, &b->dma, GFP_KERNEL);
	return b->cpu ? 0 : -ENOMEM;
}

static void dst_free(struct dst_ctx *c, struct dst_buf *b)
{
	if (b->cpu)
		dma_free_coherent(c->dev, b->len, b->cpu, b->dma);
	b->cpu = NULL;
}

static void dst_callback(void *arg, const struct dmaengine_result *res)
{
	struct dst_wait *w = arg;

	w->result = res->result;
	complete(&w->done);
}

/* Submit @tx, issue, wait.  Returns 0 or a negative errno. */
static int dst_run(struct dst_ctx *c, struct dma_async_tx_descriptor *tx)
{
	struct dst_wait w;
	dma_cookie_t cookie;

	if (!tx)
		return -EINVAL;
	init_completion(&w.done);
	w.result = DMA_TRANS_ABORTED;
	tx->callback_result = dst_callback;
	tx->callback_param = &w;
	cookie = dmaengine_submit(tx);
	if (dma_submit_error(cookie))
		return -EIO;
	dma_async_issue_pending(c->chan);
	if (!wait_for_completion_timeout(&w.done,
					 msecs_to_jiffies(DST_TIMEOUT_MS))) {
		dmaengine_terminate_sync(c->chan);
		return -ETIMEDOUT;
	}
	if (w.result != DMA_TRANS_NOERROR)
		return -EIO;
	return dma_async_is_tx_complete(c->chan, cookie, NULL, NULL) ==
	       DMA_COMPLETE ? 0 : -EIO;
}

/* First byte of @b that differs from @want (a buffer or a byte), or -1. */
static long dst_diff(const u8 *got, const u8 *want, int byte, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (got[i] != (want ? want[i] : byte))
			return i;
	return -1;
}

static void dst_result(struct dst_ctx *c, const char *name, int ret,
		       long bad)
{
	if (ret) {
		dst_log(c, "%s %s: FAIL %pe\n", dma_chan_name(c->chan), name,
			ERR_PTR(ret));
		c->failed = true;
	} else if (bad >= 0) {
		dst_log(c, "%s %s: FAIL byte %ld\n", dma_chan_name(c->chan),
			name, bad);
		c->failed = true;
	} else {
		dst_log(c, "%s %s: ok\n", dma_chan_name(c->chan), name);
	}
}

static void dst_interleaved(struct dst_ctx *c, struct dst_buf *src,
			    struct dst_buf *dst)
{
	static const size_t size[] = { 100, 37, 512, 1, 250, 3000 };
	static const size_t src_gap[] = { 13, 0, 64, 7, 1, 100 };
	static const size_t dst_gap[] = { 3, 50, 0, 9, 200, 11 };
	struct dma_interleaved_template *xt;
	size_t f, i, s = 0, d = 0;
	u8 *want;
	int ret;

	xt = kzalloc(struct_size(xt, sgl, ARRAY_SIZE(size)), GFP_KERNEL);
	want = kmalloc(dst->len, GFP_KERNEL);
	if (!xt || !want) {
		dst_result(c, "interleaved", -ENOMEM, -1);
		goto out;
	}
	get_random_bytes(src->cpu, src->len);
	memset(dst->cpu, DST_CANARY, dst->len);
	memset(want, DST_CANARY, dst->len);

	xt->src_start = src->dma;
	xt->dst_start = dst->dma;
	xt->dir = DMA_MEM_TO_MEM;
	xt->src_inc = true;
	xt->dst_inc = true;
	xt->src_sgl = true;
	xt->dst_sgl = true;
	xt->numf = 5;
	xt->frame_size = ARRAY_SIZE(size);
	for (i = 0; i < ARRAY_SIZE(size); i++) {
		xt->sgl[i].size = size[i];
		xt->sgl[i].src_icg = src_gap[i];
		xt->sgl[i].dst_icg = dst_gap[i];
	}
	/* What the template means, done by the CPU. */
	for (f = 0; f < xt->numf; f++) {
		for (i = 0; i < ARRAY_SIZE(size); i++) {
			memcpy(want + d, src->cpu + s, size[i]);
			s += size[i] + src_gap[i];
			d += size[i] + dst_gap[i];
		}
	}
	if (s > src->len || d > dst->len) {
		dst_result(c, "interleaved", -EOVERFLOW, -1);
		goto out;
	}

	ret = dst_run(c, dmaengine_prep_interleaved_dma(c->chan, xt,
							DMA_PREP_INTERRUPT |
							DMA_CTRL_ACK));
	dst_result(c, "interleaved", ret,
		   ret ? -1 : dst_diff(dst->cpu, want, 0, dst->len));
out:
	kfree(want);
	kfree(xt);
}

/*
 * memset over @n ranges of @len bytes, @stride apart, in @b (ranges may
 * overlap); every other byte must keep the canary.
 */
static void dst_memset_sg(struct dst_ctx *c, const char *name,
			  struct dst_buf *b, unsigned int n, size_t len,
			  size_t stride)
{
	struct dma_async_tx_descriptor *tx;
	const u8 value = 0xc3;
	struct scatterlist *sgl, *sg;
	unsigned int i;
	u8 *want;
	int ret;

	if ((n - 1) * stride + len > b->len) {
		dst_result(c, name, -EOVERFLOW, -1);
		return;
	}
	sgl = kcalloc(n, sizeof(*sgl), GFP_KERNEL);
	want = kvmalloc(b->len, GFP_KERNEL);
	if (!sgl || !want) {
		dst_result(c, name, -ENOMEM, -1);
		goto out;
	}
	memset(want, DST_CANARY, b->len);
	sg_init_table(sgl, n);
	for_each_sg(sgl, sg, n, i) {
		sg_dma_address(sg) = b->dma + i * stride;
		sg_dma_len(sg) = len;
		memset(want + i * stride, value, len);
	}
	memset(b->cpu, DST_CANARY, b->len);

	/* No dmaengine_prep_ wrapper for memset_sg in 6.12. */
	tx = c->chan->device->device_prep_dma_memset_sg(c->chan, sgl, n, value,
							DMA_PREP_INTERRUPT |
							DMA_CTRL_ACK);
	ret = dst_run(c, tx);
	dst_result(c, name, ret,
		   ret ? -1 : dst_diff(b->cpu, want, 0, b->len));
out:
	kvfree(want);
	kfree(sgl);
}

static void dst_fence(struct dst_ctx *c, const char *name,
		      struct dst_buf *src, struct dst_buf *dst)
{
	const size_t half = dst->len / 2;
	struct dma_async_tx_descriptor *a;
	int ret;

	get_random_bytes(src->cpu, src->len);
	memset(dst->cpu, DST_CANARY, dst->len);
	/* src -> first half of dst, fenced; then first half -> second. */
	a = dmaengine_prep_dma_memcpy(c->chan, dst->dma, src->dma, half,
				      DMA_PREP_FENCE | DMA_CTRL_ACK);
	if (!a || dma_submit_error(dmaengine_submit(a))) {
		dst_result(c, name, -EIO, -1);
		return;
	}
	ret = dst_run(c, dmaengine_prep_dma_memcpy(c->chan, dst->dma + half,
						   dst->dma, half,
						   DMA_PREP_INTERRUPT |
						   DMA_CTRL_ACK));
	dst_result(c, name, ret,
		   ret ? -1 : dst_diff(dst->cpu + half, src->cpu, 0, half));
}

static void dst_terminate(struct dst_ctx *c, struct dst_buf *b)
{
	struct dma_async_tx_descriptor *tx;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < DST_TERMINATE && !ret; i++) {
		tx = dmaengine_prep_dma_memset(c->chan, b->dma, i, b->len,
					       DMA_CTRL_ACK);
		if (!tx || dma_submit_error(dmaengine_submit(tx)))
			ret = -EIO;
		if (i == DST_TERMINATE / 2)
			dma_async_issue_pending(c->chan);
	}
	dmaengine_terminate_sync(c->chan);
	if (ret) {
		dst_result(c, "terminate", ret, -1);
		return;
	}
	/* The channel still works, and nothing old lands afterwards. */
	ret = dst_run(c, dmaengine_prep_dma_memset(c->chan, b->dma, 0x77,
						   b->len,
						   DMA_PREP_INTERRUPT |
						   DMA_CTRL_ACK));
	dst_result(c, "terminate", ret,
		   ret ? -1 : dst_diff(b->cpu, NULL, 0x77, b->len));
}

static void dst_error(struct dst_ctx *c, struct dst_buf *src)
{
	struct dma_async_tx_descriptor *tx;
	struct dst_wait w;
	dma_cookie_t cookie;
	enum dma_status st;

	tx = dmaengine_prep_dma_memcpy(c->chan, DST_NOWHERE, src->dma, SZ_4K,
				       DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
	if (!tx) {
		dst_result(c, "error", -EINVAL, -1);
		return;
	}
	init_completion(&w.done);
	w.result = DMA_TRANS_NOERROR;
	tx->callback_result = dst_callback;
	tx->callback_param = &w;
	cookie = dmaengine_submit(tx);
	dma_async_issue_pending(c->chan);
	if (!wait_for_completion_timeout(&w.done,
					 msecs_to_jiffies(DST_TIMEOUT_MS))) {
		dmaengine_terminate_sync(c->chan);
		dst_result(c, "error", -ETIMEDOUT, -1);
		return;
	}
	st = dma_async_is_tx_complete(c->chan, cookie, NULL, NULL);
	if (w.result == DMA_TRANS_NOERROR || st != DMA_ERROR) {
		dst_log(c, "%s error: FAIL result %d status %d\n",
			dma_chan_name(c->chan), w.result, st);
		c->failed = true;
		return;
	}
	dst_result(c, "error", 0, -1);
}

/* Two failures, then a success: each cookie reports its own result. */
static void dst_two_errors(struct dst_ctx *c, struct dst_buf *src,
			   struct dst_buf *dst)
{
	struct dma_async_tx_descriptor *tx;
	dma_cookie_t cookie[2];
	enum dma_status st[3];
	struct dma_tx_state state;
	unsigned int i;
	int ret;

	for (i = 0; i < 2; i++) {
		tx = dmaengine_prep_dma_memcpy(c->chan, DST_NOWHERE + i * SZ_4K,
					       src->dma, SZ_4K, DMA_CTRL_ACK);
		cookie[i] = tx ? dmaengine_submit(tx) : -EINVAL;
		if (dma_submit_error(cookie[i])) {
			dst_result(c, "two errors", -EIO, -1);
			return;
		}
	}
	/* In order: once this completes, both failures have been seen. */
	ret = dst_run(c, dmaengine_prep_dma_memcpy(c->chan, dst->dma, src->dma,
						   SZ_4K, DMA_PREP_INTERRUPT |
						   DMA_CTRL_ACK));
	if (ret) {
		dst_result(c, "two errors", ret, -1);
		return;
	}
	st[0] = dma_async_is_tx_complete(c->chan, cookie[0], NULL, NULL);
	st[1] = dma_async_is_tx_complete(c->chan, cookie[1], NULL, NULL);
	st[2] = dmaengine_tx_status(c->chan, cookie[0], &state);
	if (st[0] != DMA_ERROR || st[1] != DMA_ERROR || st[2] != DMA_ERROR ||
	    state.residue != SZ_4K) {
		dst_log(c, "%s two errors: FAIL status %d %d, again %d residue %u\n",
			dma_chan_name(c->chan), st[0], st[1], st[2],
			state.residue);
		c->failed = true;
		return;
	}
	dst_result(c, "two errors", 0, -1);
}

/*
 * dmaengine_terminate_sync() with descriptors in flight, then reuse the
 * destination: the device must not write it afterwards.  @src and @dst
 * are 1 MiB; @mark is a small buffer for the fenced marker copy.
 */
static void dst_terminate_inflight(struct dst_ctx *c, struct dst_buf *src,
				   struct dst_buf *dst, struct dst_buf *mark)
{
	const char *name = "terminate in flight";
	struct dma_async_tx_descriptor *tx;
	struct dst_wait w;
	dma_cookie_t cookie;
	unsigned int i;
	int ret = 0;

	memset(src->cpu, 0xa5, src->len);
	memset(dst->cpu, 0, dst->len);
	for (i = 0; i < DST_INFLIGHT && !ret; i++) {
		tx = dmaengine_prep_dma_memcpy(c->chan, dst->dma, src->dma,
					       dst->len, DMA_CTRL_ACK);
		if (!tx || dma_submit_error(dmaengine_submit(tx)))
			ret = -EIO;
	}
	dma_async_issue_pending(c->chan);
	dmaengine_terminate_sync(c->chan);
	/* The buffer is the caller's again: reuse it. */
	memset(dst->cpu, DST_CANARY, dst->len);
	if (ret) {
		dst_result(c, name, ret, -1);
		return;
	}

	/*
	 * A fenced transaction, then the marker: the driver posts the
	 * marker with the descriptor FENCE flag, so the device runs it only
	 * after every lower index of the ring (datasheet section 8).
	 */
	tx = dmaengine_prep_dma_memcpy(c->chan, mark->dma, src->dma, 64,
				       DMA_PREP_FENCE | DMA_CTRL_ACK);
	if (!tx || dma_submit_error(dmaengine_submit(tx))) {
		dst_result(c, name, -EIO, -1);
		return;
	}
	tx = dmaengine_prep_dma_memcpy(c->chan, mark->dma + mark->len / 2,
				       src->dma, 64,
				       DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
	if (!tx) {
		dst_result(c, name, -EINVAL, -1);
		return;
	}
	init_completion(&w.done);
	w.result = DMA_TRANS_ABORTED;
	tx->callback_result = dst_callback;
	tx->callback_param = &w;
	cookie = dmaengine_submit(tx);
	dma_async_issue_pending(c->chan);
	/* Not a deadline for the test: only a bound on a broken device. */
	if (dma_submit_error(cookie) ||
	    !wait_for_completion_timeout(&w.done,
					 msecs_to_jiffies(DST_INFLIGHT_MS))) {
		dmaengine_terminate_sync(c->chan);
		dst_result(c, name, -ETIMEDOUT, -1);
		return;
	}
	dst_result(c, name, w.result == DMA_TRANS_NOERROR ? 0 : -EIO,
		   dst_diff(dst->cpu, NULL, DST_CANARY, dst->len));
}

static void dst_channel_sync(struct dst_ctx *c)
{
	struct dst_buf src = {}, dst = {}, mark = {};

	if (!dma_has_cap(DMA_MEMCPY, c->chan->device->cap_mask)) {
		dst_log(c, "%s terminate in flight: skipped (no memcpy)\n",
			dma_chan_name(c->chan));
		return;
	}
	if (dst_alloc(c, &src, SZ_1M) || dst_alloc(c, &dst, SZ_1M) ||
	    dst_alloc(c, &mark, SZ_4K))
		dst_result(c, "buffers", -ENOMEM, -1);
	else
		dst_terminate_inflight(c, &src, &dst, &mark);
	dst_free(c, &mark);
	dst_free(c, &dst);
	dst_free(c, &src);
}

static void dst_channel(struct dst_ctx *c)
{
	struct dst_buf src = {}, dst = {}, big = {};

	if (dst_alloc(c, &src, DST_SMALL) || dst_alloc(c, &dst, DST_SMALL) ||
	    dst_alloc(c, &big, DST_BIG)) {
		dst_result(c, "buffers", -ENOMEM, -1);
		goto out;
	}
	if (dma_has_cap(DMA_INTERLEAVE, c->chan->device->cap_mask))
		dst_interleaved(c, &src, &dst);
	if (dma_has_cap(DMA_MEMSET_SG, c->chan->device->cap_mask)) {
		dst_memset_sg(c, "memset_sg", &dst, 20, 100, 1000);
		dst_memset_sg(c, "memset_big", &big, 12, SZ_1M + SZ_512K,
			      SZ_32K);
	}
	if (dma_has_cap(DMA_MEMCPY, c->chan->device->cap_mask))
		dst_fence(c, "fence", &src, &dst);
	if (dma_has_cap(DMA_MEMSET, c->chan->device->cap_mask))
		dst_terminate(c, &dst);
	if (dma_has_cap(DMA_MEMCPY, c->chan->device->cap_mask)) {
		dst_error(c, &src);
		/* After the error, the channel still copies. */
		dst_fence(c, "after error", &src, &dst);
		dst_two_errors(c, &src, &dst);
	}
out:
	dst_free(c, &big);
	dst_free(c, &dst);
	dst_free(c, &src);
}

/* The device's channels: those whose dma_device is the PCI device's. */
static bool dst_filter(struct dma_chan *chan, void *param)
{
	return chan->device->dev == param;
}

static char *dbnic_dma_selftest_run(struct dbnic_dev *dd, bool sync_only,
				    size_t *len)
{
	static DEFINE_MUTEX(lock);	/* one run at a time */
	struct dst_ctx c = { .dev = dbnic_to_dev(dd) };
	struct dma_chan **chans;
	unsigned int i, n = 0;
	dma_cap_mask_t mask;

	c.report = kzalloc(DST_REPORT, GFP_KERNEL);
	chans = kcalloc(DST_MAX_CHANS, sizeof(*chans), GFP_KERNEL);
	if (!c.report || !chans) {
		kfree(chans);
		kfree(c.report);
		return NULL;
	}
	dma_cap_zero(mask);
	mutex_lock(&lock);
	/* A client's way to get channels: each taken is not offered again. */
	while (n < DST_MAX_CHANS &&
	       (chans[n] = dma_request_channel(mask, dst_filter, c.dev)))
		n++;
	for (i = 0; i < n; i++) {
		c.chan = chans[i];
		if (!sync_only)
			dst_channel(&c);
		dst_channel_sync(&c);
	}
	for (i = 0; i < n; i++)
		dma_release_channel(chans[i]);
	mutex_unlock(&lock);
	kfree(chans);
	dst_log(&c, "%s: %s\n", sync_only ? "dma_sync_test" : "dma_selftest",
		c.failed ? "FAIL" : n ? "PASS" : "no channel");
	*len = c.len;
	return c.report;
}

/* The test runs once, at open; reads return its report. */
struct dst_report {
	char *text;
	size_t len;
};

static int dst_open_report(struct inode *inode, struct file *file,
			   bool sync_only)
{
	struct dst_report *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return -ENOMEM;
	r->text = dbnic_dma_selftest_run(inode->i_private, sync_only, &r->len);
	if (!r->text) {
		kfree(r);
		return -ENOMEM;
	}
	file->private_data = r;
	return nonseekable_open(inode, file);
}

static int dst_open(struct inode *inode, struct file *file)
{
	return dst_open_report(inode, file, false);
}

static int dst_sync_open(struct inode *inode, struct file *file)
{
	return dst_open_report(inode, file, true);
}

static ssize_t dst_read(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	struct dst_report *r = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, r->text, r->len);
}

static int dst_release(struct inode *inode, struct file *file)
{
	struct dst_report *r = file->private_data;

	kfree(r->text);
	kfree(r);
	return 0;
}

static const struct file_operations dst_fops = {
	.owner = THIS_MODULE,
	.open = dst_open,
	.read = dst_read,
	.release = dst_release,
};

static const struct file_operations dst_sync_fops = {
	.owner = THIS_MODULE,
	.open = dst_sync_open,
	.read = dst_read,
	.release = dst_release,
};

/* "dma_selftest" and "dma_sync_test" in the device's directory @dir. */
void dbnic_test_dma_add(struct dbnic_dev *dd, struct dentry *dir)
{
	debugfs_create_file("dma_selftest", 0444, dir, dd, &dst_fops);
	debugfs_create_file("dma_sync_test", 0444, dir, dd, &dst_sync_fops);
}
