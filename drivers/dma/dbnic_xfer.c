// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic transfers: building lists of DMA ranges (from a plain range, a
 * scatterlist or a dmaengine interleaved template) and cutting them into
 * device descriptors that respect the device's limits (datasheet section
 * 5: at most CAP_MAX_XFER bytes and DBNIC_MAX_SGE SGEs per descriptor,
 * no empty SGE).
 *
 * COPY gathers its sources in order and scatters them to its
 * destinations in order, so a transfer may be cut anywhere: each piece is
 * a COPY of the next n bytes of the source stream to the next n bytes of
 * the destination stream.  FILL repeats its 32-bit pattern over the
 * destinations "across range boundaries" (byte i is byte i mod 4 of imm);
 * the pattern of a memset is one byte replicated, so cutting anywhere is
 * also exact.
 */

#include <linux/dmaengine.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <kunit/visibility.h>

#include "dbnic_xfer.h"

/**
 * dbnic_fill_pattern - the FILL immediate of a memset
 * @value: the byte value (dmaengine passes an int; only the low byte counts)
 *
 * Return: the byte replicated into all four bytes of the 32-bit pattern.
 */
u32 dbnic_fill_pattern(int value)
{
	return (u8)value * 0x01010101u;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_fill_pattern);

/**
 * dbnic_xfer_add - append a range to a list
 * @l: the list; with l->sg NULL the ranges are only counted
 * @addr: DMA address
 * @len: bytes, may exceed DBNIC_XFER_RANGE_MAX
 *
 * A range that starts where the last one ended extends it, up to
 * DBNIC_XFER_RANGE_MAX bytes per range.
 *
 * Return: 0, -EINVAL for an empty range or one that wraps the address
 * space, -E2BIG when an array-backed list is full.
 */
int dbnic_xfer_add(struct dbnic_xfer_list *l, dma_addr_t addr, u64 len)
{
	if (!len || (u64)addr + (len - 1) < (u64)addr)
		return -EINVAL;

	while (len) {
		u32 step;

		if (l->n && addr == l->end &&
		    l->last_len < DBNIC_XFER_RANGE_MAX) {
			step = min_t(u64, len,
				     DBNIC_XFER_RANGE_MAX - l->last_len);
			l->last_len += step;
			if (l->sg)
				l->sg[l->n - 1].len = l->last_len;
		} else {
			if (l->n == (l->sg ? l->max : UINT_MAX))
				return -E2BIG;
			step = min_t(u64, len, DBNIC_XFER_RANGE_MAX);
			if (l->sg) {
				l->sg[l->n].addr = addr;
				l->sg[l->n].len = step;
			}
			l->n++;
			l->last_len = step;
		}
		addr += step;
		len -= step;
		l->end = addr;
		l->bytes += step;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_xfer_add);

/**
 * dbnic_xfer_interleaved - the source and destination lists of a template
 * @xt: a DMA_MEM_TO_MEM template with incrementing addresses
 * @src: list the source chunks are added to
 * @dst: list the destination chunks are added to
 *
 * Frame after frame, chunk i of a frame reads sgl[i].size bytes and then
 * skips the chunk's source gap, and writes as many bytes and then skips
 * its destination gap (dmaengine_get_src_icg() and _dst_icg() decide
 * which gap applies).
 *
 * Return: 0, -EINVAL for a template the device cannot run (not memory to
 * memory, a fixed address, no bytes), or an error of dbnic_xfer_add().
 */
int dbnic_xfer_interleaved(struct dma_interleaved_template *xt,
			   struct dbnic_xfer_list *src,
			   struct dbnic_xfer_list *dst)
{
	dma_addr_t s = xt->src_start, d = xt->dst_start;
	size_t f, i;
	int ret;

	if (xt->dir != DMA_MEM_TO_MEM || !xt->src_inc || !xt->dst_inc ||
	    !xt->numf || !xt->frame_size)
		return -EINVAL;

	for (f = 0; f < xt->numf; f++) {
		for (i = 0; i < xt->frame_size; i++) {
			struct data_chunk *c = &xt->sgl[i];

			if (c->size) {
				ret = dbnic_xfer_add(src, s, c->size);
				if (ret)
					return ret;
				ret = dbnic_xfer_add(dst, d, c->size);
				if (ret)
					return ret;
			}
			if (check_add_overflow(s, c->size, &s) ||
			    check_add_overflow(s, dmaengine_get_src_icg(xt, c),
					       &s) ||
			    check_add_overflow(d, c->size, &d) ||
			    check_add_overflow(d, dmaengine_get_dst_icg(xt, c),
					       &d))
				return -EINVAL;
		}
	}
	return src->bytes ? 0 : -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_xfer_interleaved);

/**
 * dbnic_xfer_cursor_init - start cutting a transfer
 * @c: the cursor
 * @src: source ranges, or NULL for FILL
 * @nsrc: their number (0 for FILL)
 * @dst: destination ranges
 * @ndst: their number
 *
 * For COPY the two lists must hold the same number of bytes.
 */
void dbnic_xfer_cursor_init(struct dbnic_xfer_cursor *c,
			    const struct dbnic_sg *src, unsigned int nsrc,
			    const struct dbnic_sg *dst, unsigned int ndst)
{
	*c = (struct dbnic_xfer_cursor) {
		.src = src, .nsrc = nsrc, .dst = dst, .ndst = ndst,
	};
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_xfer_cursor_init);

/* Return: true when every byte has been handed out. */
bool dbnic_xfer_done(const struct dbnic_xfer_cursor *c)
{
	return c->di >= c->ndst;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_xfer_done);

/*
 * Move @step bytes of range *@idx, from offset *@off, into the SGE list
 * @out of *@n entries: a new entry, or the last one when @open says it
 * continues this range.  Steps to the next range at the end of this one.
 */
static void dbnic_xfer_take(const struct dbnic_sg *r, unsigned int *idx,
			    u32 *off, u32 step, struct dbnic_sg *out,
			    unsigned int *n, bool *open)
{
	if (!*open) {
		out[*n].addr = r[*idx].addr + *off;
		out[*n].len = 0;
		(*n)++;
		*open = true;
	}
	out[*n - 1].len += step;
	*off += step;
	if (*off == r[*idx].len) {
		(*idx)++;
		*off = 0;
		*open = false;
	}
}

/**
 * dbnic_xfer_next - cut the next device descriptor off a transfer
 * @c: the cursor, advanced past what is returned
 * @max_xfer: most bytes one descriptor may move (CAP_MAX_XFER)
 * @max_sge: most SGEs one descriptor may hold, sources and destinations
 *           together; at least 2 for COPY and 1 for FILL
 * @src: array of @max_sge entries for the source SGEs (unused for FILL)
 * @nsrc: number of source SGEs returned
 * @dst: array of @max_sge entries for the destination SGEs
 * @ndst: number of destination SGEs returned
 *
 * The piece ends where the byte budget, the SGE budget or the transfer
 * runs out, whichever comes first; none of the SGEs is empty, and source
 * and destination totals are equal.
 *
 * Return: the bytes of the piece; 0 when the transfer is done (or the
 * limits allow no progress).
 */
u32 dbnic_xfer_next(struct dbnic_xfer_cursor *c, u32 max_xfer,
		    unsigned int max_sge,
		    struct dbnic_sg *src, unsigned int *nsrc,
		    struct dbnic_sg *dst, unsigned int *ndst)
{
	bool fill = !c->nsrc, src_open = false, dst_open = false;
	unsigned int ns = 0, nd = 0;
	u32 budget = max_xfer;

	while (budget && c->di < c->ndst && (fill || c->si < c->nsrc)) {
		u32 step = min(budget, c->dst[c->di].len - c->doff);
		unsigned int need = ns + nd + !dst_open;

		if (!fill) {
			step = min(step, c->src[c->si].len - c->soff);
			need += !src_open;
		}
		if (need > max_sge)
			break;
		dbnic_xfer_take(c->dst, &c->di, &c->doff, step, dst, &nd,
				&dst_open);
		if (!fill)
			dbnic_xfer_take(c->src, &c->si, &c->soff, step, src,
					&ns, &src_open);
		budget -= step;
	}
	*nsrc = ns;
	*ndst = nd;
	return max_xfer - budget;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_xfer_next);
