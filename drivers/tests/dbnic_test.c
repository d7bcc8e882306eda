// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbnic_test.ko: self-tests and benchmark of a running dbnic, in debugfs.
 *
 * For every PCI device bound to dbnic_core, it adds to the device's
 * directory /sys/kernel/debug/dbnic/<pci-name>/:
 *
 *   selftest       reading it runs the self-test on the kernel queue
 *                  (dbnic_selftest.c)
 *   dma_selftest   reading it runs the dmaengine self-test on every free
 *                  channel of the device (dbnic_dma_selftest.c); "no
 *                  channel" without dbnic_dma.ko
 *   dma_sync_test  its "terminate in flight" case alone
 *   bench          reading it runs the benchmark (dbnic_bench.c); write
 *                  "key=value ..." to set its parameters
 *
 * It finds the devices through the driver core, not through a hook of
 * the core module: those bound when it loads, and those bound later (a
 * PCI bus notifier).  The core recreates a device's directory after a
 * function reset; the files are then gone until this module is loaded
 * again.  At unload it removes its files by name, under the device
 * lock, so it never touches a directory the core has removed.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dbnic.h"
#include "dbnic_test.h"

static const char * const dbnic_test_files[] = {
	"selftest", "dma_selftest", "dma_sync_test", "bench",
};

/* The self-test runs once, at open; reads return its report. */
struct dbnic_selftest_report {
	char *text;
	size_t len;
};

static int selftest_open(struct inode *inode, struct file *file)
{
	struct dbnic_selftest_report *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->text = dbnic_selftest_run(inode->i_private, &r->len);
	if (!r->text) {
		kfree(r);
		return -ENOMEM;
	}
	file->private_data = r;
	return nonseekable_open(inode, file);
}

static ssize_t selftest_read(struct file *file, char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	struct dbnic_selftest_report *r = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, r->text, r->len);
}

static int selftest_release(struct inode *inode, struct file *file)
{
	struct dbnic_selftest_report *r = file->private_data;

	kfree(r->text);
	kfree(r);
	return 0;
}

static const struct file_operations selftest_fops = {
	.owner = THIS_MODULE,
	.open = selftest_open,
	.read = selftest_read,
	.release = selftest_release,
};

/* Is @dev a PCI device that dbnic_core drives?  Device lock held. */
static struct dbnic_dev *dbnic_test_dd(struct device *dev)
{
	if (!dev_is_pci(dev) || !dev->driver ||
	    strcmp(dev->driver->name, DBNIC_DRV_NAME))
		return NULL;
	return dev_get_drvdata(dev);
}

/* Add the files to a bound device's directory.  Device lock held. */
static void dbnic_test_add(struct device *dev)
{
	struct dbnic_dev *dd = dbnic_test_dd(dev);
	struct dentry *old;

	if (!dd || IS_ERR_OR_NULL(dd->debugfs))
		return;
	/* Both the notifier and the walk at load may see a new device. */
	old = debugfs_lookup("selftest", dd->debugfs);
	if (old) {
		dput(old);
		return;
	}
	debugfs_create_file("selftest", 0444, dd->debugfs, dd, &selftest_fops);
	dbnic_test_dma_add(dd, dd->debugfs);
	debugfs_create_file("bench", 0644, dd->debugfs, dd, &dbnic_bench_fops);
}

static int dbnic_test_add_locked(struct device *dev, void *unused)
{
	device_lock(dev);
	dbnic_test_add(dev);
	device_unlock(dev);
	return 0;
}

static int dbnic_test_remove_locked(struct device *dev, void *unused)
{
	struct dbnic_dev *dd;
	unsigned int i;

	device_lock(dev);
	dd = dbnic_test_dd(dev);
	if (dd && !IS_ERR_OR_NULL(dd->debugfs))
		for (i = 0; i < ARRAY_SIZE(dbnic_test_files); i++)
			debugfs_lookup_and_remove(dbnic_test_files[i],
						  dd->debugfs);
	device_unlock(dev);
	return 0;
}

/* A device was bound: called by the driver core with its lock held. */
static int dbnic_test_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	if (action == BUS_NOTIFY_BOUND_DRIVER)
		dbnic_test_add(data);
	return NOTIFY_DONE;
}

static struct notifier_block dbnic_test_nb = {
	.notifier_call = dbnic_test_notify,
};

static int __init dbnic_test_init(void)
{
	int ret;

	ret = bus_register_notifier(&pci_bus_type, &dbnic_test_nb);
	if (ret)
		return ret;
	bus_for_each_dev(&pci_bus_type, NULL, NULL, dbnic_test_add_locked);
	return 0;
}
module_init(dbnic_test_init);

static void __exit dbnic_test_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &dbnic_test_nb);
	bus_for_each_dev(&pci_bus_type, NULL, NULL, dbnic_test_remove_locked);
}
module_exit(dbnic_test_exit);

MODULE_DESCRIPTION("dbnic self-tests and benchmark in debugfs");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DBNIC);
