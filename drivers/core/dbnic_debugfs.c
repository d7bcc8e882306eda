// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic debugfs: /sys/kernel/debug/dbnic/<pci-name>/
 *
 *   counters   device counters, one "name value" per line
 *   queue      the kernel queue's indices and driver counts
 *   admin      admin commands that timed out, and the memory each still
 *              holds until the device answers (dbnic_admin.c)
 *   policy     posting policy of the kernel queue; write a name to change
 *
 * The functions add their own files to the directory while they are
 * bound: dma (dbnic_dma.ko: each channel's queue and transaction counts)
 * and users (dbnic_cdev.ko).  So does dbnic_test.ko: selftest,
 * dma_selftest, dma_sync_test and bench (drivers/tests/).
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "dbnic.h"
#include "dbnic_queue.h"

#define DBNIC_COUNTER_NAME(id, name) \
	[DBNIC_CNT_##id] = #name,
static const char * const dbnic_counter_names[DBNIC_CNT_NUM] = {
	DBNIC_COUNTER_LIST(DBNIC_COUNTER_NAME)
};

#undef DBNIC_COUNTER_NAME

static struct dentry *dbnic_debugfs_root;

/**
 * dbnic_counter_name - the name of a device counter (datasheet section 8)
 * @counter: DBNIC_CNT_* index
 *
 * Return: its name as debugfs "counters" shows it, or NULL past the last.
 */
const char *dbnic_counter_name(unsigned int counter)
{
	return counter < DBNIC_CNT_NUM ? dbnic_counter_names[counter] : NULL;
}
EXPORT_SYMBOL_NS_GPL(dbnic_counter_name, DBNIC);

static int counters_show(struct seq_file *s, void *unused)
{
	struct dbnic_dev *dd = s->private;
	unsigned int i;

	for (i = 0; i < DBNIC_CNT_NUM; i++)
		seq_printf(s, "%s %llu\n", dbnic_counter_names[i],
			   dbnic_read_counter(dd, i));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(counters);

/* One queue's indices and driver counts. */
void dbnic_debugfs_show_queue(struct seq_file *s, struct dbnic_queue *q)
{
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	seq_printf(s, "sq %u log_size %u log_stride %u pi %u head %u\n",
		   q->sq.qid, q->sq.log_size, q->sq.log_stride, q->sq.pi,
		   q->sq.head);
	seq_printf(s, "cq %u log_size %u ci %u vector %u\n", q->cq.cqn,
		   q->cq.log_size, q->cq.ci, q->vector);
	seq_printf(s, "prio_slots %u,%u next %u fit_blocks %u%s\n",
		   q->sq.prio_slot, q->sq.prio_slot + 1, q->sq.prio_next,
		   q->sq.fit_blocks, q->sq.prio ? "" : " (no priority area)");
	seq_printf(s, "posted_ring %llu\nposted_prio %llu\n", q->posted_ring,
		   q->posted_prio);
	seq_printf(s, "completions %llu\nunexpected %llu\n", q->completions,
		   q->unexpected);
	seq_printf(s, "cq_error %d\nflushed %llu\n", q->error, q->flushed);
	seq_printf(s, "policy %s\n", dbnic_policy_names[q->sq.policy]);
	spin_unlock_irqrestore(&q->lock, flags);
}
EXPORT_SYMBOL_NS_GPL(dbnic_debugfs_show_queue, DBNIC);

static int queue_show(struct seq_file *s, void *unused)
{
	struct dbnic_dev *dd = s->private;

	seq_printf(s, "context %u\n", dd->ctx);
	if (dd->eq.ring)
		seq_printf(s, "event_queue log_size %u ci %u events %llu\n",
			   dd->eq.log_size, dd->eq.ci, dd->events);
	else
		seq_puts(s, "event_queue none (ERR register)\n");
	dbnic_debugfs_show_queue(s, dd->kq);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(queue);

static int admin_show(struct seq_file *s, void *unused)
{
	dbnic_admin_show_holds(s, s->private);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(admin);

static int policy_show(struct seq_file *s, void *unused)
{
	struct dbnic_dev *dd = s->private;
	enum dbnic_post_policy cur = READ_ONCE(dd->kq->sq.policy);
	unsigned int i;

	for (i = 0; i < DBNIC_POLICY_NUM; i++)
		seq_printf(s, i == cur ? "%s[%s]" : "%s%s", i ? " " : "",
			   dbnic_policy_names[i]);
	seq_putc(s, '\n');
	return 0;
}

static int policy_open(struct inode *inode, struct file *file)
{
	return single_open(file, policy_show, inode->i_private);
}

static ssize_t policy_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct dbnic_dev *dd = file_inode(file)->i_private;
	char buf[16];
	int i;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	i = sysfs_match_string(dbnic_policy_names, buf);
	if (i < 0)
		return i;
	dbnic_queue_set_policy(dd->kq, i);
	return count;
}

static const struct file_operations policy_fops = {
	.owner = THIS_MODULE,
	.open = policy_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.write = policy_write,
	.release = single_release,
};

void dbnic_debugfs_add(struct dbnic_dev *dd)
{
	struct dentry *dir;

	dir = debugfs_create_dir(pci_name(dd->pdev), dbnic_debugfs_root);
	debugfs_create_file("counters", 0444, dir, dd, &counters_fops);
	debugfs_create_file("queue", 0444, dir, dd, &queue_fops);
	debugfs_create_file("admin", 0444, dir, dd, &admin_fops);
	debugfs_create_file("policy", 0644, dir, dd, &policy_fops);
	dd->debugfs = dir;
}

void dbnic_debugfs_remove(struct dbnic_dev *dd)
{
	debugfs_remove_recursive(dd->debugfs);
	dd->debugfs = NULL;
}

void dbnic_debugfs_init(void)
{
	dbnic_debugfs_root = debugfs_create_dir(DBNIC_DRV_NAME, NULL);
}

void dbnic_debugfs_exit(void)
{
	debugfs_remove_recursive(dbnic_debugfs_root);
	dbnic_debugfs_root = NULL;
}
