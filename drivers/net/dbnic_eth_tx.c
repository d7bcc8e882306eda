// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic Ethernet function: path choice and ETH_TX descriptor building
 * (datasheet section 10.2).  Plain memory only: KUnit tests it.
 */

#include <linux/errno.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "dbnic_eth_tx.h"

/**
 * dbnic_eth_tx_pick - the path of one frame
 * @inline_prio: the queue's policy: small frames inline through the
 *	priority area (ethtool private flag "inline-prio")
 * @have_prio: the queue has a pair of priority slots
 * @ti: the frame
 *
 * A frame goes inline when the policy says so, the queue has priority
 * slots, it is not TSO and all of it fits the descriptor
 * (DBNIC_ETH_TX_MAX_INLINE, 224 bytes: a priority slot holds the whole
 * 256-byte descriptor).  Everything else takes the ring with SGEs.
 *
 * Return: DBNIC_ETH_TX_INLINE_PRIO or DBNIC_ETH_TX_RING.
 */
enum dbnic_eth_tx_path dbnic_eth_tx_pick(bool inline_prio, bool have_prio,
					 const struct dbnic_eth_tx_info *ti)
{
	if (inline_prio && have_prio && !ti->tso &&
	    ti->len >= DBNIC_ETH_MIN_FRAME && ti->len <= DBNIC_ETH_TX_MAX_INLINE)
		return DBNIC_ETH_TX_INLINE_PRIO;
	return DBNIC_ETH_TX_RING;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_eth_tx_pick);

/* Header and offload fields common to both forms; clears the rest. */
static int dbnic_eth_tx_head(struct dbnic_desc *d,
			     const struct dbnic_eth_tx_info *ti,
			     unsigned int nsge, unsigned int inline_len)
{
	struct dbnic_eth_tx *et = dbnic_eth_tx_of(d);
	u16 offload = 0;

	if (ti->len < DBNIC_ETH_MIN_FRAME)
		return -EINVAL;
	if (ti->tso) {
		if (ti->mss < DBNIC_ETH_MSS_MIN || ti->mss > DBNIC_ETH_MSS_MAX ||
		    ti->len > DBNIC_ETH_MAX_TSO)
			return -EINVAL;
		offload |= DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_CSUM;
	} else if (ti->len > DBNIC_ETH_MAX_FRAME -
		   (ti->vlan ? DBNIC_ETH_VLAN_HLEN : 0)) {
		/* The inserted tag counts: the frame on the wire fits. */
		return -EMSGSIZE;
	}
	if (ti->csum)
		offload |= DBNIC_ETH_TX_F_CSUM;
	if (ti->vlan)
		offload |= DBNIC_ETH_TX_F_VLAN;

	memset(d, 0, sizeof(*d));
	d->hdr.opcode = DBNIC_OP_ETH_TX;
	/* Every frame completes: its CQE frees the skb and feeds BQL. */
	d->hdr.flags = DBNIC_DESC_F_COMPLETION;
	d->hdr.size = dbnic_eth_tx_blocks(nsge, inline_len);
	d->hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, nsge);
	et->offload = cpu_to_le16(offload);
	et->mss = cpu_to_le16(ti->tso ? ti->mss : 0);
	et->vlan_tci = cpu_to_le16(ti->vlan ? ti->vlan_tci : 0);
	et->inline_len = cpu_to_le16(inline_len);
	return 0;
}

/**
 * dbnic_eth_tx_build_inline - an ETH_TX carrying the whole frame
 * @d: descriptor to fill (256 bytes); index, qid and csum are the
 *	posting code's
 * @ti: the frame; @ti->len bytes, 14..DBNIC_ETH_TX_MAX_INLINE (224)
 * @frame: its bytes
 *
 * The frame starts at byte DBNIC_ETH_TX_DATA_OFFSET (32); size is
 * dbnic_eth_tx_blocks(0, len) blocks and the bytes after the frame up
 * to the block's end are 0.
 *
 * Return: 0, -EINVAL for a frame that is TSO, shorter than an Ethernet
 * header or longer than the inline limit.
 */
int dbnic_eth_tx_build_inline(struct dbnic_desc *d,
			      const struct dbnic_eth_tx_info *ti,
			      const void *frame)
{
	int ret;

	if (ti->tso || ti->len > DBNIC_ETH_TX_MAX_INLINE)
		return -EINVAL;
	ret = dbnic_eth_tx_head(d, ti, 0, ti->len);
	if (ret)
		return ret;
	memcpy((u8 *)d + DBNIC_ETH_TX_DATA_OFFSET, frame, ti->len);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_eth_tx_build_inline);

/**
 * dbnic_eth_tx_build_sg - an ETH_TX gathering the frame from SGEs
 * @d: descriptor to fill (256 bytes)
 * @ti: the frame; @ti->len must be the SGEs' total
 * @sg: DMA ranges of the frame in order (key 0: the kernel's context is
 *	PRIVILEGED), each non-empty
 * @nsg: 1..DBNIC_ETH_TX_MAX_SGE (14); SGE k lands at byte 32 + 16 k
 *
 * Return: 0, -EINVAL for a bad SGE list (count, an empty range, a total
 * other than @ti->len) or bad TSO fields, -EMSGSIZE for a frame longer
 * than DBNIC_ETH_MAX_FRAME without TSO (less 4 with @ti->vlan).
 */
int dbnic_eth_tx_build_sg(struct dbnic_desc *d,
			  const struct dbnic_eth_tx_info *ti,
			  const struct dbnic_sg *sg, unsigned int nsg)
{
	u64 total = 0;
	unsigned int i;
	int ret;

	if (!nsg || nsg > DBNIC_ETH_TX_MAX_SGE)
		return -EINVAL;
	for (i = 0; i < nsg; i++) {
		if (!sg[i].len)
			return -EINVAL;
		total += sg[i].len;
	}
	if (total != ti->len)
		return -EINVAL;
	ret = dbnic_eth_tx_head(d, ti, nsg, 0);
	if (ret)
		return ret;
	/* sge[0] holds the ETH_TX fields: the frame's SGEs follow it. */
	for (i = 0; i < nsg; i++) {
		d->sge[1 + i].addr = cpu_to_le64(sg[i].addr);
		d->sge[1 + i].len = cpu_to_le32(sg[i].len);
		d->sge[1 + i].key = 0;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(dbnic_eth_tx_build_sg);
