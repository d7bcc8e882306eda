/*
 * QTest of the dbnic QEMU glue (qemu-device/dbnic_pci.c): what the core's
 * host tests cannot see because they call the core directly.  PCI
 * identity, BAR access sizes as the memory API delivers them, MSI-X,
 * reset, and the device's re-entrancy guard: MSI-X messages and DMA aimed
 * at the device's own BARs, from the bottom half, from an MMIO handler and
 * from the priority-flush timer.
 *
 * scripts/build-qemu.sh grafts this file into QEMU's tests/qtest; the
 * datasheet is docs/hardware.md in the dbnic repository.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/libqos-malloc.h"
#include "libqos/malloc-pc.h"
#include "hw/pci/pci_regs.h"
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include "../../hw/misc/dbnic/dbnic_hw.h"

#define AQ_LOG          3
/* Bounded polls: the device works in a bottom half or on a timer. */
#define POLL_STEPS      1000
#define POLL_STEP_NS    10000

typedef struct Dbnic {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar0, bar2;
    uint64_t bar2_size;
    QGuestAllocator alloc;
    uint64_t aq_sq, aq_cq;
    uint16_t aq_pi;
    uint64_t msi_buf;   /* guest RAM that MSI-X messages are aimed at */
} Dbnic;

static uint32_t rd32(Dbnic *d, uint64_t off)
{
    return qpci_io_readl(d->dev, d->bar0, off);
}

static void wr32(Dbnic *d, uint64_t off, uint32_t val)
{
    qpci_io_writel(d->dev, d->bar0, off, val);
}

static uint64_t counter(Dbnic *d, enum dbnic_counter i)
{
    return qpci_io_readq(d->dev, d->bar0, DBNIC_REG_COUNTER(i));
}

/*
 * Wait (real time, up to 30 s) until counter i is at least n: with the
 * engine in an IOThread, work runs asynchronously to the qtest protocol,
 * and on a host busy with guests (a fresh machine's suite) it once took
 * more than 10 s.
 */
static uint64_t counter_wait(Dbnic *d, enum dbnic_counter i, uint64_t n)
{
    uint64_t v = counter(d, i);

    for (int t = 0; v < n && t < 30000; t++) {
        g_usleep(1000);
        v = counter(d, i);
    }
    return v;
}

static void dbnic_map(Dbnic *d)
{
    qpci_device_enable(d->dev);
    d->bar0 = qpci_iomap(d->dev, DBNIC_BAR_CTRL, NULL);
    d->bar2 = qpci_iomap(d->dev, DBNIC_BAR_DB, &d->bar2_size);
}

/* Slot of the device: addr=04.0 on the machine's root bus. */
#define DBNIC_SLOT      4

/* DBNIC_QTEST_ENGINE=thread: every device gets iothread=io0. */
static bool dbnic_thread_engine(void)
{
    return !g_strcmp0(getenv("DBNIC_QTEST_ENGINE"), "thread");
}

static void dbnic_start_on(Dbnic *d, const char *machine, const char *props)
{
    memset(d, 0, sizeof(*d));
    /*
     * DBNIC_QTEST_ARGS: extra QEMU arguments, e.g. the firmware search
     * path (-L) of a QEMU built without its blobs.
     */
    /*
     * DBNIC_QTEST_ENGINE=thread: the engine runs in an IOThread, off the
     * BQL (the launcher's default); otherwise in the main loop.
     */
    bool thread = dbnic_thread_engine();

    d->qts = qtest_initf("-M %s %s %s -device dbnic,addr=04.0%s%s", machine,
                         getenv("DBNIC_QTEST_ARGS") ?: "",
                         thread ? "-object iothread,id=io0" : "",
                         thread ? ",iothread=io0" : "", props);
    pc_alloc_init(&d->alloc, d->qts, ALLOC_NO_FLAGS);
    d->bus = qpci_new_pc(d->qts, &d->alloc);
    d->dev = qpci_device_find(d->bus, QPCI_DEVFN(4, 0));
    g_assert(d->dev);
    dbnic_map(d);
    d->aq_sq = guest_alloc(&d->alloc, DBNIC_ADMIN_CMD_SIZE << AQ_LOG);
    d->aq_cq = guest_alloc(&d->alloc,
                           sizeof(struct dbnic_admin_cqe) << AQ_LOG);
    d->msi_buf = guest_alloc(&d->alloc, 64);
}

static void dbnic_start(Dbnic *d, const char *props)
{
    dbnic_start_on(d, "q35", props);
}

static void dbnic_stop(Dbnic *d)
{
    g_free(d->dev);
    qpci_free_pc(d->bus);
    alloc_destroy(&d->alloc);
    qtest_quit(d->qts);
}

/*
 * One poll step: virtual time for the main-loop engine and its timers;
 * with the engine in an IOThread, real time as well (2 ms: a loop of
 * POLL_STEPS then waits at least 2 s), since that thread runs on its own
 * and a loaded host may not schedule it for a while.
 */
static void settle(Dbnic *d)
{
    qtest_clock_step(d->qts, POLL_STEP_NS);
    if (dbnic_thread_engine()) {
        g_usleep(2000);
    }
}

/* Datasheet 2.1: reset, admin queue in guest RAM, enable. */
static void dbnic_enable(Dbnic *d, uint64_t aq_sq, uint64_t aq_cq)
{
    wr32(d, DBNIC_REG_CTRL, DBNIC_CTRL_RESET);
    g_assert_cmpuint(rd32(d, DBNIC_REG_STATUS), ==, 0);
    qtest_memset(d->qts, d->aq_cq, 0,
                 sizeof(struct dbnic_admin_cqe) << AQ_LOG);
    qpci_io_writeq(d->dev, d->bar0, DBNIC_REG_AQ_SQ_BASE, aq_sq);
    qpci_io_writeq(d->dev, d->bar0, DBNIC_REG_AQ_CQ_BASE, aq_cq);
    wr32(d, DBNIC_REG_AQ_CFG, AQ_LOG);
    wr32(d, DBNIC_REG_CTRL, DBNIC_CTRL_ENABLE);
    d->aq_pi = 0;
}

static void admin_post(Dbnic *d, struct dbnic_admin_cmd *cmd)
{
    unsigned int slot = d->aq_pi & ((1u << AQ_LOG) - 1);

    cmd->cmd_id = d->aq_pi;
    qtest_memwrite(d->qts, d->aq_sq + slot * sizeof(*cmd), cmd, sizeof(*cmd));
    d->aq_pi++;
    wr32(d, DBNIC_REG_AQ_DB, d->aq_pi);
}

/* Wait for the completion of admin command idx; false if none came. */
static bool admin_wait(Dbnic *d, uint16_t idx, struct dbnic_admin_cqe *cqe)
{
    unsigned int slot = idx & ((1u << AQ_LOG) - 1);
    int i;

    for (i = 0; i < POLL_STEPS; i++) {
        qtest_memread(d->qts, d->aq_cq + slot * sizeof(*cqe), cqe,
                      sizeof(*cqe));
        if ((cqe->flags & DBNIC_CQE_F_PHASE) == dbnic_cq_phase(idx, AQ_LOG) &&
            cqe->cmd_id == idx) {
            return true;
        }
        settle(d);
    }
    return false;
}

static uint32_t create_ctx(Dbnic *d)
{
    struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_CTX };
    struct dbnic_admin_cqe cqe;

    admin_post(d, &cmd);
    g_assert(admin_wait(d, d->aq_pi - 1, &cqe));
    g_assert_cmpuint(cqe.status, ==, DBNIC_AST_OK);
    return cqe.result;
}

/* Aim MSI-X vector v at addr with data, unmasked. */
static void msix_aim(Dbnic *d, unsigned int v, uint64_t addr, uint32_t data)
{
    uint64_t e = d->dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;

    qpci_io_writel(d->dev, d->dev->msix_table_bar,
                   e + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)addr);
    qpci_io_writel(d->dev, d->dev->msix_table_bar,
                   e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32);
    qpci_io_writel(d->dev, d->dev->msix_table_bar,
                   e + PCI_MSIX_ENTRY_DATA, data);
    qpci_io_writel(d->dev, d->dev->msix_table_bar,
                   e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

static void msix_mask(Dbnic *d, unsigned int v, bool mask)
{
    uint64_t e = d->dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;

    qpci_io_writel(d->dev, d->dev->msix_table_bar,
                   e + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   mask ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

static uint64_t db_off(uint32_t page, uint32_t off)
{
    return ((uint64_t)page << DBNIC_DB_PAGE_SHIFT) + off;
}

/* ---- identity ------------------------------------------------------ */

/* Datasheet 1: MSI-X only, so no INTx pin. */
static void test_pci_identity(void)
{
    Dbnic d;

    dbnic_start(&d, "");
    g_assert_cmphex(qpci_config_readw(d.dev, PCI_VENDOR_ID), ==,
                    DBNIC_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(d.dev, PCI_DEVICE_ID), ==,
                    DBNIC_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readb(d.dev, PCI_INTERRUPT_PIN), ==, 0);
    g_assert_cmphex(qpci_find_capability(d.dev, PCI_CAP_ID_MSIX, 0), !=, 0);
    g_assert_cmphex(rd32(&d, DBNIC_REG_ID), ==, DBNIC_ID_MAGIC);
    dbnic_stop(&d);
}

/* ---- access sizes ---------------------------------------------------- */

/*
 * Datasheet 2: BAR 0 takes aligned 4-byte accesses (and 8 on 64-bit
 * registers); anything else is ignored and reads as 0.
 */
static void test_bar0_access_sizes(void)
{
    Dbnic d;
    uint64_t base = 0x123456789abcdef0ull & ~63ull;

    dbnic_start(&d, "");
    g_assert_cmphex(qpci_io_readb(d.dev, d.bar0, DBNIC_REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readw(d.dev, d.bar0, DBNIC_REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readl(d.dev, d.bar0, DBNIC_REG_ID + 1), ==, 0);
    g_assert_cmphex(qpci_io_readq(d.dev, d.bar0, DBNIC_REG_ID), ==, 0);

    qpci_io_writeq(d.dev, d.bar0, DBNIC_REG_AQ_SQ_BASE, base);
    g_assert_cmphex(qpci_io_readq(d.dev, d.bar0, DBNIC_REG_AQ_SQ_BASE), ==,
                    base);
    g_assert_cmphex(rd32(&d, DBNIC_REG_AQ_SQ_BASE + 4), ==, base >> 32);
    /* Narrow or unaligned writes change nothing. */
    qpci_io_writeb(d.dev, d.bar0, DBNIC_REG_AQ_SQ_BASE, 0xff);
    qpci_io_writew(d.dev, d.bar0, DBNIC_REG_AQ_SQ_BASE, 0xffff);
    qpci_io_writel(d.dev, d.bar0, DBNIC_REG_AQ_SQ_BASE + 2, 0xffffffff);
    g_assert_cmphex(qpci_io_readq(d.dev, d.bar0, DBNIC_REG_AQ_SQ_BASE), ==,
                    base);
    qpci_io_writeb(d.dev, d.bar0, DBNIC_REG_CTRL, DBNIC_CTRL_ENABLE);
    g_assert_cmphex(rd32(&d, DBNIC_REG_CTRL), ==, 0);
    g_assert_cmphex(rd32(&d, DBNIC_REG_ID), ==, DBNIC_ID_MAGIC);
    dbnic_stop(&d);
}

/*
 * Datasheet 3: BAR 2 writes of 1 or 2 bytes, unaligned writes, 8-byte
 * doorbell writes and writes to padding pages reach the device and count
 * in DB_BAD (QEMU used to drop the narrow and unaligned ones first).
 */
static void test_bar2_access_sizes(void)
{
    Dbnic d;
    uint64_t bad;

    dbnic_start(&d, ",db-pages=3");
    g_assert_cmpuint(d.bar2_size, ==, 4 * DBNIC_DB_PAGE_SIZE);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, DBNIC_STATUS_READY);
    g_assert_cmpuint(create_ctx(&d), ==, 0);
    g_assert_cmphex(qpci_io_readl(d.dev, d.bar2, 0), ==, 0);
    bad = counter(&d, DBNIC_CNT_DB_BAD);

    qpci_io_writeb(d.dev, d.bar2, db_off(0, DBNIC_DB_SQ), 1);
    qpci_io_writew(d.dev, d.bar2, db_off(0, DBNIC_DB_SQ), 1);
    qpci_io_writel(d.dev, d.bar2, db_off(0, DBNIC_DB_SQ + 1), 1);
    qpci_io_writeq(d.dev, d.bar2, db_off(0, DBNIC_DB_SQ), 1);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, bad + 4);

    qpci_io_writew(d.dev, d.bar2, db_off(0, DBNIC_PRIO_SLOT_OFFSET(0)), 1);
    qpci_io_writel(d.dev, d.bar2, db_off(0, DBNIC_PRIO_SLOT_OFFSET(0) + 2),
                   1);
    qpci_io_writeq(d.dev, d.bar2,
                   db_off(0, DBNIC_PRIO_SLOT_OFFSET(0) + 4), 1);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, bad + 7);

    /* Page 3 is padding: the BAR is rounded up to 4 pages. */
    qpci_io_writel(d.dev, d.bar2, db_off(3, DBNIC_DB_SQ), 1);
    qpci_io_writeb(d.dev, d.bar2, db_off(3, DBNIC_PRIO_OFFSET + 7), 1);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, bad + 9);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, DBNIC_STATUS_READY);
    dbnic_stop(&d);
}

/* ---- MSI-X and reset -------------------------------------------------- */

/* Vector 0 after an admin completion; a masked vector is left pending. */
static void test_msix_delivery(void)
{
    Dbnic d;
    struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_CTX };
    struct dbnic_admin_cqe cqe;

    dbnic_start(&d, "");
    qpci_msix_enable(d.dev);
    g_assert_cmpuint(qpci_msix_table_size(d.dev), ==, 8);
    msix_aim(&d, 0, d.msi_buf, 0x5a5a0001);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    create_ctx(&d);
    g_assert_cmphex(qtest_readl(d.qts, d.msi_buf), ==, 0x5a5a0001);

    qtest_writel(d.qts, d.msi_buf, 0);
    wr32(&d, DBNIC_REG_INTR_CAUSE, DBNIC_INTR_ADMIN);
    msix_mask(&d, 0, true);
    admin_post(&d, &cmd);
    g_assert(admin_wait(&d, d.aq_pi - 1, &cqe));
    g_assert_cmphex(qtest_readl(d.qts, d.msi_buf), ==, 0);
    g_assert(qpci_msix_pending(d.dev, 0));
    msix_mask(&d, 0, false);
    g_assert(!qpci_msix_pending(d.dev, 0));
    g_assert_cmphex(qtest_readl(d.qts, d.msi_buf), ==, 0x5a5a0001);
    dbnic_stop(&d);
}

/*
 * CTRL.RESET forgets everything; a machine reset with a priority flush
 * pending leaves no timer behind, and the device comes back.
 */
static void test_reset(void)
{
    Dbnic d;
    uint64_t hdr = 0;
    struct dbnic_desc_hdr h = {
        .opcode = DBNIC_OP_NOP, .size = 1, .qid = 0, .index = 0,
    };

    dbnic_start(&d, "");
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    g_assert_cmpuint(create_ctx(&d), ==, 0);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_ADMIN_CMDS), ==, 1);
    wr32(&d, DBNIC_REG_CTRL, DBNIC_CTRL_RESET);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, 0);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_ADMIN_CMDS), ==, 0);

    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    g_assert_cmpuint(create_ctx(&d), ==, 0);
    memcpy(&hdr, &h, sizeof(hdr));
    qpci_io_writeq(d.dev, d.bar2, db_off(0, DBNIC_PRIO_SLOT_OFFSET(0)), hdr);
    qtest_system_reset(d.qts);
    qtest_clock_step(d.qts, 2 * DBNIC_PRIO_FLUSH_TIMEOUT_NS);

    /* Config space was reset too: map the BARs again. */
    dbnic_map(&d);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, 0);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, 0);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    g_assert_cmpuint(create_ctx(&d), ==, 0);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, DBNIC_STATUS_READY);
    dbnic_stop(&d);
}

/* ---- re-entrancy ------------------------------------------------------ */

/*
 * Vector 0 aimed at the device's own CTRL register with data RESET: if
 * the message got through, the device would reset itself from inside its
 * own interrupt path.  The re-entrancy guard must drop it.
 */
static void aim_at_own_reset(Dbnic *d)
{
    msix_aim(d, 0, d->bar0.addr + DBNIC_REG_CTRL, DBNIC_CTRL_RESET);
}

/* The bottom half raises vector 0 after an admin command. */
static void test_reentrancy_bh(void)
{
    Dbnic d;

    dbnic_start(&d, "");
    qpci_msix_enable(d.dev);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    aim_at_own_reset(&d);
    g_assert_cmpuint(create_ctx(&d), ==, 0);
    settle(&d);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, DBNIC_STATUS_READY);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_INTERRUPTS), ==, 1);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_ADMIN_CMDS), ==, 1);
    dbnic_stop(&d);
}

/* An MMIO handler raises vector 0: a doorbell for a queue that is not. */
static void test_reentrancy_mmio(void)
{
    Dbnic d;

    dbnic_start(&d, "");
    qpci_msix_enable(d.dev);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    g_assert_cmpuint(create_ctx(&d), ==, 0);
    aim_at_own_reset(&d);
    qpci_io_writel(d.dev, d.bar2, db_off(0, DBNIC_DB_SQ),
                   dbnic_db_sq_val(5, 1));
    settle(&d);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, DBNIC_STATUS_READY);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, 1);
    dbnic_stop(&d);
}

/*
 * The priority-flush timer raises vector 0: a partial priority write
 * whose header names a queue the page does not own falls back after
 * 10 ms and is refused.  The timer used to call the core outside the
 * guard, and the message reset the device.
 */
static void test_reentrancy_flush_timer(void)
{
    Dbnic d;
    uint64_t hdr = 0;
    struct dbnic_desc_hdr h = {
        .opcode = DBNIC_OP_NOP, .size = 1, .qid = 5, .index = 0,
    };
    int i;

    dbnic_start(&d, "");
    qpci_msix_enable(d.dev);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    g_assert_cmpuint(create_ctx(&d), ==, 0);
    wr32(&d, DBNIC_REG_INTR_CAUSE, DBNIC_INTR_ADMIN | DBNIC_INTR_ERROR);
    aim_at_own_reset(&d);
    memcpy(&hdr, &h, sizeof(hdr));
    qpci_io_writeq(d.dev, d.bar2, db_off(0, DBNIC_PRIO_SLOT_OFFSET(0)), hdr);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, 0);
    qtest_clock_step(d.qts, DBNIC_PRIO_FLUSH_TIMEOUT_NS + 1000000);
    for (i = 0; i < POLL_STEPS && rd32(&d, DBNIC_REG_STATUS) ==
         DBNIC_STATUS_READY && !counter(&d, DBNIC_CNT_DB_BAD); i++) {
        settle(&d);
    }
    g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, DBNIC_STATUS_READY);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, 1);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_PRIO_FALLBACK), ==, 1);
    dbnic_stop(&d);
}

/*
 * DMA aimed at the device's own BARs: an admin ring or admin CQ that
 * points into BAR 0 or BAR 2.  The guard refuses the access, the admin
 * queue goes FATAL (datasheet 7), and a reset recovers.
 */
static void test_dma_to_own_bars(void)
{
    Dbnic d;
    struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_CREATE_CTX };
    uint64_t targets[3][2];
    unsigned int i;

    dbnic_start(&d, "");
    targets[0][0] = d.bar0.addr;                /* read commands from BAR 0 */
    targets[0][1] = d.aq_cq;
    targets[1][0] = d.aq_sq;                    /* CQE onto CTRL */
    targets[1][1] = d.bar0.addr + DBNIC_REG_CTRL;
    targets[2][0] = d.aq_sq;                    /* CQE onto DB_SQ of page 0 */
    targets[2][1] = d.bar2.addr;
    for (i = 0; i < 3; i++) {
        dbnic_enable(&d, targets[i][0], targets[i][1]);
        g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, DBNIC_STATUS_READY);
        admin_post(&d, &cmd);
        /* The IOThread engine may take a while to run on a loaded host. */
        for (int t = 0; t < POLL_STEPS &&
             !(rd32(&d, DBNIC_REG_STATUS) & DBNIC_STATUS_FATAL); t++) {
            settle(&d);
        }
        g_assert_cmphex(rd32(&d, DBNIC_REG_STATUS), ==,
                        DBNIC_STATUS_READY | DBNIC_STATUS_FATAL);
        g_assert_cmphex(rd32(&d, DBNIC_REG_ID), ==, DBNIC_ID_MAGIC);
        g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, 0);
    }
    /* And the device works again after a reset. */
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    g_assert_cmpuint(create_ctx(&d), ==, 0);
    dbnic_stop(&d);
}

static uint32_t admin_ok(Dbnic *d, struct dbnic_admin_cmd *cmd)
{
    struct dbnic_admin_cqe cqe;

    admin_post(d, cmd);
    g_assert(admin_wait(d, d->aq_pi - 1, &cqe));
    g_assert_cmpuint(cqe.status, ==, DBNIC_AST_OK);
    return cqe.result;
}

/*
 * Payload DMA aimed at the device's own BARs: a COPY from BAR 0 (ERR is
 * read-to-clear) and a COPY onto BAR 2's DB_SQ (a doorbell rung by the
 * engine itself).  Both are refused by the guard: DMA_ERROR completions,
 * no register touched, no doorbell counted.
 */
static void test_payload_dma_to_own_bars(void)
{
    Dbnic d;
    struct dbnic_admin_cmd cmd;
    struct dbnic_desc desc;
    struct dbnic_cqe cqe;
    uint64_t cq, sq, buf, src[2], dst[2];
    uint32_t ctx, cqn, qid;
    unsigned int i, j;

    dbnic_start(&d, "");
    cq = guest_alloc(&d.alloc, 4 * sizeof(cqe));
    sq = guest_alloc(&d.alloc, 4 * DBNIC_DESC_BLOCK_SIZE);
    buf = guest_alloc(&d.alloc, 64);
    qtest_memset(d.qts, cq, 0, 4 * sizeof(cqe));
    dbnic_enable(&d, d.aq_sq, d.aq_cq);

    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_CTX;
    cmd.create_ctx.flags = DBNIC_CTX_F_PRIVILEGED;
    ctx = admin_ok(&d, &cmd);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_CQ;
    cmd.create_cq.base = cq;
    cmd.create_cq.ctx = ctx;
    cmd.create_cq.log_size = 2;
    cmd.create_cq.msix_vector = 1;
    cqn = admin_ok(&d, &cmd);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_SQ;
    cmd.create_sq.base = sq;
    cmd.create_sq.ctx = ctx;
    cmd.create_sq.cqn = cqn;
    cmd.create_sq.log_size = 2;
    cmd.create_sq.log_stride = 6;
    qid = admin_ok(&d, &cmd);

    /* Something for ERR to hold: a doorbell for a queue that is not. */
    qpci_io_writel(d.dev, d.bar2, db_off(ctx, DBNIC_DB_SQ),
                   dbnic_db_sq_val(qid + 1, 1));
    qtest_writel(d.qts, buf, dbnic_db_sq_val(qid, 3));
    src[0] = d.bar0.addr + DBNIC_REG_ERR;
    dst[0] = buf + 8;
    src[1] = buf;
    dst[1] = d.bar2.addr + db_off(ctx, DBNIC_DB_SQ);
    for (i = 0; i < 2; i++) {
        memset(&desc, 0, sizeof(desc));
        desc.hdr.opcode = DBNIC_OP_COPY;
        desc.hdr.flags = DBNIC_DESC_F_COMPLETION;
        desc.hdr.size = dbnic_desc_blocks(2);
        desc.hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, 1) |
                        DBNIC_SET(DBNIC_NSGE_DST, 1);
        desc.hdr.index = i;
        desc.hdr.qid = qid;
        desc.sge[0].addr = src[i];
        desc.sge[0].len = 4;
        desc.sge[1].addr = dst[i];
        desc.sge[1].len = 4;
        qtest_memwrite(d.qts, sq + i * DBNIC_DESC_BLOCK_SIZE, &desc,
                       DBNIC_DESC_BLOCK_SIZE);
    }
    qpci_io_writel(d.dev, d.bar2, db_off(ctx, DBNIC_DB_SQ),
                   dbnic_db_sq_val(qid, 2));
    for (i = 0; i < 2; i++) {
        for (j = 0; j < POLL_STEPS; j++) {
            qtest_memread(d.qts, cq + i * sizeof(cqe), &cqe, sizeof(cqe));
            if (cqe.flags & DBNIC_CQE_F_PHASE) {
                break;
            }
            settle(&d);
        }
        g_assert(cqe.flags & DBNIC_CQE_F_PHASE);
        g_assert_cmpuint(cqe.index, ==, i);
        g_assert_cmpuint(cqe.status, ==, DBNIC_ST_DMA_ERROR);
    }
    /* ERR was not read by the DMA; only the one bad doorbell counted. */
    g_assert_cmpuint(DBNIC_GET(rd32(&d, DBNIC_REG_ERR), DBNIC_ERR_CODE), ==,
                     DBNIC_AERR_DB_BAD_QUEUE);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, 1);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_STATUS), ==, DBNIC_STATUS_READY);
    dbnic_stop(&d);
}

/* ---- hot-unplug ------------------------------------------------------- */

/*
 * A privileged context with one CQ (vector 1) and one SQ of 2^log
 * entries of one block each; returns the SQ's qid, *ctx its context.
 */
static uint32_t make_queue(Dbnic *d, uint64_t cq, uint64_t sq,
                           unsigned int log, uint32_t *ctx)
{
    struct dbnic_admin_cmd cmd;
    uint32_t cqn;

    qtest_memset(d->qts, cq, 0, sizeof(struct dbnic_cqe) << log);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_CTX;
    cmd.create_ctx.flags = DBNIC_CTX_F_PRIVILEGED;
    *ctx = admin_ok(d, &cmd);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_CQ;
    cmd.create_cq.base = cq;
    cmd.create_cq.ctx = *ctx;
    cmd.create_cq.log_size = log;
    cmd.create_cq.msix_vector = 1;
    cqn = admin_ok(d, &cmd);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_SQ;
    cmd.create_sq.base = sq;
    cmd.create_sq.ctx = *ctx;
    cmd.create_sq.cqn = cqn;
    cmd.create_sq.log_size = log;
    cmd.create_sq.log_stride = 6;
    return admin_ok(d, &cmd);
}

/* Ring entry i: a COPY of len bytes from src to dst, with a completion. */
static void post_copy(Dbnic *d, uint64_t sq, uint32_t qid, uint16_t i,
                      unsigned int log, uint64_t src, uint64_t dst,
                      uint32_t len)
{
    struct dbnic_desc desc;

    memset(&desc, 0, sizeof(desc));
    desc.hdr.opcode = DBNIC_OP_COPY;
    desc.hdr.flags = DBNIC_DESC_F_COMPLETION;
    desc.hdr.size = dbnic_desc_blocks(2);
    desc.hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, 1) |
                    DBNIC_SET(DBNIC_NSGE_DST, 1);
    desc.hdr.index = i;
    desc.hdr.qid = qid;
    desc.sge[0].addr = src;
    desc.sge[0].len = len;
    desc.sge[1].addr = dst;
    desc.sge[1].len = len;
    qtest_memwrite(d->qts,
                   sq + (i & ((1u << log) - 1)) * DBNIC_DESC_BLOCK_SIZE,
                   &desc, DBNIC_DESC_BLOCK_SIZE);
}

/* Room in the ring for the priority copy of index UNPLUG_JOBS too. */
#define UNPLUG_LOG      4
#define UNPLUG_JOBS     8
#define UNPLUG_LEN      (1u << 20)
/* Two round trips per job: the first job runs after about 2 ms. */
#define UNPLUG_RTT_NS   1000000

/*
 * Datasheet section 1 / issue 6: the device is hot-unplugged (ACPI, on
 * the pc machine, as QEMU's own qtests do it) while its queue holds
 * eight 1 MiB COPYs under a 1 ms DMA round trip (one running, the rest
 * announced), and a partial priority write waits for its 10 ms flush
 * timer.  Unrealize must free all that without running any of it later
 * (ASan build: no use after free, no leak), QEMU must keep running, and
 * a device plugged into the same slot afterwards must work.
 */
static void test_unplug_in_flight(void)
{
    Dbnic d;
    struct dbnic_desc_hdr h = {
        .opcode = DBNIC_OP_NOP, .size = 1, .index = UNPLUG_JOBS,
    };
    struct dbnic_cqe cqe;
    uint64_t cq, sq, src, dst, hdr = 0, done;
    uint32_t ctx, qid;
    uint8_t *pat, *got;
    int i;

    dbnic_start_on(&d, "pc",
                   ",id=dbnic0,dma-latency-ns=" G_STRINGIFY(UNPLUG_RTT_NS));
    cq = guest_alloc(&d.alloc, sizeof(cqe) << UNPLUG_LOG);
    sq = guest_alloc(&d.alloc, DBNIC_DESC_BLOCK_SIZE << UNPLUG_LOG);
    src = guest_alloc(&d.alloc, UNPLUG_LEN);
    dst = guest_alloc(&d.alloc, UNPLUG_LEN);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    qid = make_queue(&d, cq, sq, UNPLUG_LOG, &ctx);
    for (i = 0; i < UNPLUG_JOBS; i++) {
        post_copy(&d, sq, qid, i, UNPLUG_LOG, src, dst, UNPLUG_LEN);
    }
    qpci_io_writel(d.dev, d.bar2, db_off(ctx, DBNIC_DB_SQ),
                   dbnic_db_sq_val(qid, UNPLUG_JOBS));
    /* The header alone: the rest of the copy never comes. */
    h.qid = qid;
    memcpy(&hdr, &h, sizeof(hdr));
    qpci_io_writeq(d.dev, d.bar2, db_off(ctx, DBNIC_PRIO_SLOT_OFFSET(0)),
                   hdr);
    qtest_clock_step(d.qts, 3 * UNPLUG_RTT_NS);
    g_assert_cmpuint(counter_wait(&d, DBNIC_CNT_RING_FETCH, 1), >, 0);
    done = counter(&d, DBNIC_CNT_COMPLETIONS);
    g_test_message("before the unplug: %" PRIu64 " of %d completed, "
                   "%" PRIu64 " bytes moved", done, UNPLUG_JOBS,
                   counter(&d, DBNIC_CNT_BYTES));
    g_assert_cmpuint(done, <, UNPLUG_JOBS - 1);
    /* The partial priority copy waits for its flush timer. */
    g_assert_cmpuint(counter(&d, DBNIC_CNT_PRIO_FALLBACK), ==, 0);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_PRIO_STALE), ==, 0);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_PRIO_TORN), ==, 0);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_DB_BAD), ==, 0);

    qpci_unplug_acpi_device_test(d.qts, "dbnic0", DBNIC_SLOT);
    g_free(d.dev);
    d.dev = NULL;
    /* Past every deadline the old device had set. */
    qtest_clock_step(d.qts, 100 * UNPLUG_RTT_NS);
    g_assert_null(qpci_device_find(d.bus, QPCI_DEVFN(DBNIC_SLOT, 0)));

    /* A new device in the same slot: the whole copy, verified. */
    qtest_qmp_device_add(d.qts, "dbnic", "dbnic1",
                         dbnic_thread_engine() ?
                         "{'addr': '0x04', 'iothread': 'io0'}" :
                         "{'addr': '0x04'}");
    d.dev = qpci_device_find(d.bus, QPCI_DEVFN(DBNIC_SLOT, 0));
    g_assert(d.dev);
    dbnic_map(&d);
    g_assert_cmphex(rd32(&d, DBNIC_REG_ID), ==, DBNIC_ID_MAGIC);
    g_assert_cmpuint(counter(&d, DBNIC_CNT_COMPLETIONS), ==, 0);
    pat = g_malloc(UNPLUG_LEN);
    got = g_malloc(UNPLUG_LEN);
    for (i = 0; i < UNPLUG_LEN; i++) {
        pat[i] = i * 7 + (i >> 12);
    }
    qtest_memwrite(d.qts, src, pat, UNPLUG_LEN);
    qtest_memset(d.qts, dst, 0, UNPLUG_LEN);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    qid = make_queue(&d, cq, sq, UNPLUG_LOG, &ctx);
    post_copy(&d, sq, qid, 0, UNPLUG_LOG, src, dst, UNPLUG_LEN);
    qpci_io_writel(d.dev, d.bar2, db_off(ctx, DBNIC_DB_SQ),
                   dbnic_db_sq_val(qid, 1));
    for (i = 0; i < POLL_STEPS; i++) {
        qtest_memread(d.qts, cq, &cqe, sizeof(cqe));
        if (cqe.flags & DBNIC_CQE_F_PHASE) {
            break;
        }
        qtest_clock_step(d.qts, UNPLUG_RTT_NS);
    }
    g_assert(cqe.flags & DBNIC_CQE_F_PHASE);
    g_assert_cmpuint(cqe.status, ==, DBNIC_ST_OK);
    qtest_memread(d.qts, dst, got, UNPLUG_LEN);
    g_assert(memcmp(pat, got, UNPLUG_LEN) == 0);
    g_free(pat);
    g_free(got);
    dbnic_stop(&d);
}

/* ---- the network port (datasheet 10) ------------------------------------ */

/*
 * Two dbnic devices on one QEMU hub (hubid 0): A at 04.0 on n0, B at
 * 05.0 on n1.  Each has a privileged context with a send queue and a
 * receive queue, each on a CQ of its own.
 */
#define NET_LOG         5       /* 32 entries in every ring */
#define NET_BUF         2048    /* receive buffer bytes */
#define NET_MAC_A       "52:54:00:00:00:0a"

typedef struct NetQ {
    Dbnic *d;
    uint32_t ctx, qid, rqn, rcqn;
    uint32_t scqn;          /* the send queue's CQ */
    uint64_t sq, rq, scq, rcq;
    uint16_t pi, rq_pi, scq_ci, rcq_ci;
    unsigned int slot;      /* next priority slot */
} NetQ;

/* Poll step (settle() gives the IOThread engine real time). */
static void net_settle(Dbnic *d)
{
    settle(d);
}

static void net_start_on(Dbnic *a, Dbnic *b, const char *machine)
{
    bool thread = dbnic_thread_engine();
    char *props = g_strdup_printf(
        ",netdev=n0,mac=" NET_MAC_A " -netdev hubport,id=n0,hubid=0"
        " -netdev hubport,id=n1,hubid=0"
        " -device dbnic,addr=05.0,netdev=n1,id=dbnicb%s",
        thread ? ",iothread=io0" : "");

    dbnic_start_on(a, machine, props);
    g_free(props);
    *b = *a;
    b->dev = qpci_device_find(a->bus, QPCI_DEVFN(5, 0));
    g_assert(b->dev);
    dbnic_map(b);
    b->aq_sq = guest_alloc(&a->alloc, DBNIC_ADMIN_CMD_SIZE << AQ_LOG);
    b->aq_cq = guest_alloc(&a->alloc,
                           sizeof(struct dbnic_admin_cqe) << AQ_LOG);
}

static void net_start(Dbnic *a, Dbnic *b)
{
    net_start_on(a, b, "q35");
}

static void net_stop(Dbnic *a, Dbnic *b)
{
    g_free(b->dev);
    dbnic_stop(a);
}

static uint32_t net_cq(Dbnic *d, uint32_t ctx, uint64_t *ring, uint16_t vec)
{
    struct dbnic_admin_cmd cmd;

    *ring = guest_alloc(&d->alloc, sizeof(struct dbnic_cqe) << NET_LOG);
    qtest_memset(d->qts, *ring, 0, sizeof(struct dbnic_cqe) << NET_LOG);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_CQ;
    cmd.create_cq.base = *ring;
    cmd.create_cq.ctx = ctx;
    cmd.create_cq.log_size = NET_LOG;
    cmd.create_cq.msix_vector = vec;
    return admin_ok(d, &cmd);
}

/*
 * Enable d and make its queues.  Both devices' Dbnic share one guest
 * allocator (net_start copies it, and its lists are shared).
 */
static void net_setup(Dbnic *d, NetQ *q)
{
    struct dbnic_admin_cmd cmd;

    memset(q, 0, sizeof(*q));
    q->d = d;
    dbnic_enable(d, d->aq_sq, d->aq_cq);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_CTX;
    cmd.create_ctx.flags = DBNIC_CTX_F_PRIVILEGED;
    q->ctx = admin_ok(d, &cmd);
    q->sq = guest_alloc(&d->alloc, 256 << NET_LOG);
    q->rq = guest_alloc(&d->alloc, 64 << NET_LOG);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_SQ;
    cmd.create_sq.base = q->sq;
    cmd.create_sq.ctx = q->ctx;
    q->scqn = net_cq(d, q->ctx, &q->scq, 1);
    cmd.create_sq.cqn = q->scqn;
    cmd.create_sq.log_size = NET_LOG;
    cmd.create_sq.log_stride = 8;
    q->qid = admin_ok(d, &cmd);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_RQ;
    cmd.create_sq.base = q->rq;
    cmd.create_sq.ctx = q->ctx;
    q->rcqn = net_cq(d, q->ctx, &q->rcq, 2);
    cmd.create_sq.cqn = q->rcqn;
    cmd.create_sq.log_size = NET_LOG;
    cmd.create_sq.log_stride = 6;
    q->rqn = admin_ok(d, &cmd);
}

/* Post one receive buffer of NET_BUF bytes; returns its address. */
static uint64_t net_post_buf(NetQ *q)
{
    Dbnic *d = q->d;
    struct dbnic_desc desc;
    uint64_t buf = guest_alloc(&d->alloc, NET_BUF);

    qtest_memset(d->qts, buf, 0, NET_BUF);
    memset(&desc, 0, sizeof(desc));
    desc.hdr.opcode = DBNIC_OP_RECV;
    desc.hdr.size = 1;
    desc.hdr.nsge = DBNIC_SET(DBNIC_NSGE_DST, 1);
    desc.hdr.index = q->rq_pi;
    desc.hdr.qid = q->rqn;
    desc.sge[0].addr = buf;
    desc.sge[0].len = NET_BUF;
    qtest_memwrite(d->qts, q->rq + (q->rq_pi % (1u << NET_LOG)) * 64, &desc,
                   64);
    q->rq_pi++;
    qpci_io_writel(d->dev, d->bar2, db_off(q->ctx, DBNIC_DB_RQ),
                   dbnic_db_rq_val(q->rqn, q->rq_pi));
    return buf;
}

/* Ring path: an ETH_TX descriptor d (index and qid are set here). */
static void net_post_tx(NetQ *q, struct dbnic_desc *desc)
{
    Dbnic *d = q->d;

    desc->hdr.index = q->pi;
    desc->hdr.qid = q->qid;
    qtest_memwrite(d->qts, q->sq + (q->pi % (1u << NET_LOG)) * 256, desc,
                   256);
    q->pi++;
    qpci_io_writel(d->dev, d->bar2, db_off(q->ctx, DBNIC_DB_SQ),
                   dbnic_db_sq_val(q->qid, q->pi));
}

/* Priority path: the ring copy, then the whole descriptor into a slot. */
static void net_post_tx_prio(NetQ *q, struct dbnic_desc *desc)
{
    Dbnic *d = q->d;
    unsigned int words = desc->hdr.size * DBNIC_DESC_BLOCK_SIZE / 8;
    const uint8_t *p = (const uint8_t *)desc;

    desc->hdr.index = q->pi;
    desc->hdr.qid = q->qid;
    desc->hdr.csum = dbnic_desc_csum(desc, words);
    qtest_memwrite(d->qts, q->sq + (q->pi % (1u << NET_LOG)) * 256, desc,
                   256);
    q->pi++;
    for (unsigned int w = 0; w < words; w++) {
        uint64_t v;

        memcpy(&v, p + 8 * w, 8);
        qpci_io_writeq(d->dev, d->bar2,
                       db_off(q->ctx, DBNIC_PRIO_SLOT_OFFSET(q->slot) + 8 * w),
                       v);
    }
    q->slot ^= 1;
}

/* The next CQE of a ring (16 bytes), waiting for it; false if none. */
static bool net_cqe(Dbnic *d, uint64_t ring, uint16_t *ci, void *out)
{
    uint8_t *e = out;

    for (int i = 0; i < POLL_STEPS; i++) {
        qtest_memread(d->qts, ring + (*ci % (1u << NET_LOG)) * 16, e, 16);
        if ((e[15] & DBNIC_CQE_F_PHASE) == dbnic_cq_phase(*ci, NET_LOG)) {
            (*ci)++;
            return true;
        }
        net_settle(d);
    }
    return false;
}

static void net_tx_ok(NetQ *q, uint32_t bytes)
{
    struct dbnic_cqe cqe;

    g_assert(net_cqe(q->d, q->scq, &q->scq_ci, &cqe));
    g_assert_cmpuint(cqe.status, ==, DBNIC_ST_OK);
    g_assert_cmpuint(cqe.byte_count, ==, bytes);
}

/* The next received frame: its CQE checked, its bytes to buf. */
static uint32_t net_rx(NetQ *q, uint64_t at, uint8_t *buf,
                       struct dbnic_rx_cqe *cqe)
{
    g_assert(net_cqe(q->d, q->rcq, &q->rcq_ci, cqe));
    g_assert_cmpuint(cqe->status, ==, DBNIC_ST_OK);
    g_assert(cqe->flags & DBNIC_CQE_F_RX);
    g_assert_cmpuint(cqe->qid, ==, q->rqn);
    g_assert_cmpuint(cqe->byte_count, <=, NET_BUF);
    qtest_memread(q->d->qts, at, buf, cqe->byte_count);
    return cqe->byte_count;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static uint16_t get_be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

/* One's complement sum of n bytes, folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += get_be16(p + i);
    }
    if (n & 1) {
        sum += p[n - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/* Is the TCP/UDP checksum of an IPv4 frame right (sums to 0xffff)? */
static bool l4_csum_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    size_t ihl = (ip[0] & 0xf) * 4, l4len = get_be16(ip + 2) - ihl;
    uint32_t sum = csum_add(0, ip + 12, 8);

    g_assert_cmpuint(14 + ihl + l4len, <=, len);
    sum += ip[9] + l4len;
    return csum_fold(csum_add(sum, ip + ihl, l4len)) == 0xffff;
}

/* Is the TCP checksum of an IPv6 frame (no extension header) right? */
static bool l4_csum6_ok(const uint8_t *f)
{
    const uint8_t *ip = f + 14;
    size_t l4len = get_be16(ip + 4);
    uint32_t sum = csum_add(0, ip + 8, 32);

    sum += ip[6] + l4len;
    return csum_fold(csum_add(sum, ip + 40, l4len)) == 0xffff;
}

static bool ip_csum_ok(const uint8_t *f)
{
    return csum_fold(csum_add(0, f + 14, (f[14] & 0xf) * 4)) == 0xffff;
}

/* Ethernet to A's peer B, IPv4 (proto), a 20-byte TCP or 8-byte UDP. */
static size_t net_frame(uint8_t *f, uint8_t proto, size_t payload)
{
    size_t l4 = proto == 6 ? 20 : 8, n = 14 + 20 + l4 + payload;
    uint8_t *ip = f + 14;

    memset(f, 0, 14 + 20 + l4);
    memcpy(f, "\x52\x54\x00\x00\x00\x0b", 6);
    memcpy(f + 6, "\x52\x54\x00\x00\x00\x0a", 6);
    put_be16(f + 12, 0x0800);
    ip[0] = 0x45;
    put_be16(ip + 2, 20 + l4 + payload);
    put_be16(ip + 4, 0x4242);
    put_be16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    put_be16(ip + 10, ~csum_fold(csum_add(0, ip, 20)));
    put_be16(ip + 20, 1234);
    put_be16(ip + 22, 5678);
    if (proto == 6) {
        put_be16(ip + 24, 0x0001);          /* seq 0x00010000 */
        ip[32] = 5 << 4;
        ip[33] = 0x18 | 0x01;               /* PSH ACK FIN */
        put_be16(ip + 34, 0xffff);
    } else {
        put_be16(ip + 24, 8 + payload);
    }
    for (size_t i = 0; i < payload; i++) {
        f[n - payload + i] = (uint8_t)(i * 7 + 3);
    }
    return n;
}

/* An ETH_TX of the frame at addr, len bytes, one SGE. */
static void net_desc_sge(struct dbnic_desc *desc, uint64_t addr, uint32_t len,
                         uint16_t offload, uint16_t mss)
{
    memset(desc, 0, sizeof(*desc));
    desc->hdr.opcode = DBNIC_OP_ETH_TX;
    desc->hdr.flags = DBNIC_DESC_F_COMPLETION;
    desc->hdr.size = dbnic_eth_tx_blocks(1, 0);
    desc->hdr.nsge = DBNIC_SET(DBNIC_NSGE_SRC, 1);
    dbnic_eth_tx_of(desc)->offload = offload;
    dbnic_eth_tx_of(desc)->mss = mss;
    desc->sge[1].addr = addr;
    desc->sge[1].len = len;
}

/*
 * Datasheet 10: A's ETH_TX (an SGE on the ring path, then an inline
 * frame through the priority area) arrives byte for byte in B's posted
 * buffers, with receive completions; the MAC property is in BAR 0.
 */
static void test_net_tx_rx(void)
{
    Dbnic a, b;
    NetQ qa, qb;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    uint8_t f[1500], got[NET_BUF];
    uint64_t addr, bufs[5];
    size_t n;

    net_start(&a, &b);
    g_assert_cmphex(rd32(&a, DBNIC_REG_MAC_LO), ==, 0x00005452);
    g_assert_cmphex(rd32(&a, DBNIC_REG_MAC_HI), ==, 0x0a00);
    g_assert(rd32(&a, DBNIC_REG_CAP_FEATURES) & DBNIC_FEAT_NET);
    net_setup(&a, &qa);
    net_setup(&b, &qb);
    g_assert_cmpuint(rd32(&a, DBNIC_REG_NET_STATUS), ==, DBNIC_NET_LINK_UP);
    g_assert_cmpuint(rd32(&b, DBNIC_REG_NET_STATUS), ==, DBNIC_NET_LINK_UP);
    bufs[0] = net_post_buf(&qb);
    bufs[1] = net_post_buf(&qb);
    bufs[2] = net_post_buf(&qb);
    bufs[3] = net_post_buf(&qb);
    bufs[4] = net_post_buf(&qb);

    n = net_frame(f, 17, 1400);
    addr = guest_alloc(&a.alloc, n);
    qtest_memwrite(a.qts, addr, f, n);
    net_desc_sge(&desc, addr, n, 0, 0);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(net_rx(&qb, bufs[0], got, &rcqe), ==, n);
    g_assert(memcmp(got, f, n) == 0);
    g_assert_cmpuint(rcqe.index, ==, 0);
    /* UDP checksum 0: none, not checked. */
    g_assert_cmphex(rcqe.rx_flags, ==, DBNIC_RX_IP_OK);

    /* Inline, written whole into the priority area: nothing read. */
    n = net_frame(f, 17, 150);
    memset(&desc, 0, sizeof(desc));
    desc.hdr.opcode = DBNIC_OP_ETH_TX;
    desc.hdr.flags = DBNIC_DESC_F_COMPLETION;
    desc.hdr.size = dbnic_eth_tx_blocks(0, n);
    dbnic_eth_tx_of(&desc)->inline_len = n;
    memcpy((uint8_t *)&desc + DBNIC_ETH_TX_DATA_OFFSET, f, n);
    net_post_tx_prio(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(net_rx(&qb, bufs[1], got, &rcqe), ==, n);
    g_assert(memcmp(got, f, n) == 0);
    g_assert_cmpuint(rcqe.index, ==, 1);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_TX_INLINE), ==, 1);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_TX), ==, 2);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_RING_FETCH), ==, 1);
    g_assert_cmpuint(counter(&b, DBNIC_CNT_ETH_RX), ==, 2);

    /* VLAN insertion: the tag after the source address. */
    addr = guest_alloc(&a.alloc, n);
    qtest_memwrite(a.qts, addr, f, n);
    net_desc_sge(&desc, addr, n, DBNIC_ETH_TX_F_VLAN, 0);
    dbnic_eth_tx_of(&desc)->vlan_tci = 0x2123;
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(net_rx(&qb, bufs[2], got, &rcqe), ==, n + 4);
    g_assert(memcmp(got, f, 12) == 0);
    g_assert_cmphex(get_be16(got + 12), ==, 0x8100);
    g_assert_cmphex(get_be16(got + 14), ==, 0x2123);
    g_assert(memcmp(got + 16, f + 12, n - 12) == 0);

    /*
     * With CSUM asked, a frame that is not IP (ARP's EtherType) and one
     * whose IPv4 header is cut short leave as given.
     */
    for (int k = 0; k < 2; k++) {
        n = net_frame(f, 6, 0);
        if (k == 0) {
            put_be16(f + 12, 0x0806);
        } else {
            f[14] = 0x4f;               /* 60-byte IPv4 header */
            n = 60;
        }
        addr = guest_alloc(&a.alloc, n);
        qtest_memwrite(a.qts, addr, f, n);
        net_desc_sge(&desc, addr, n, DBNIC_ETH_TX_F_CSUM, 0);
        net_post_tx(&qa, &desc);
        net_tx_ok(&qa, n);
        g_assert_cmpuint(net_rx(&qb, bufs[3 + k], got, &rcqe), ==, n);
        g_assert(memcmp(got, f, n) == 0);
    }
    net_stop(&a, &b);
}

/*
 * TSO: a 4000-byte TCP payload with mss 1000 leaves as four frames,
 * each with its IP length and ID, sequence number, flags and both
 * checksums right; checksum offload of a UDP frame.
 */
static void test_net_tso_csum(void)
{
    Dbnic a, b;
    NetQ qa, qb;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    static uint8_t f[4200], got[NET_BUF];
    uint64_t addr, bufs[5];
    size_t n, off = 0;
    int i;

    net_start(&a, &b);
    net_setup(&a, &qa);
    net_setup(&b, &qb);
    for (i = 0; i < 5; i++) {
        bufs[i] = net_post_buf(&qb);
    }
    n = net_frame(f, 6, 4000);
    put_be16(f + 14 + 10, 0);           /* the device computes them all */
    addr = guest_alloc(&a.alloc, n);
    qtest_memwrite(a.qts, addr, f, n);
    net_desc_sge(&desc, addr, n, DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_CSUM,
                 1000);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    for (i = 0; i < 4; i++) {
        const uint8_t *ip = got + 14, *tcp = got + 34;
        uint32_t len = net_rx(&qb, bufs[i], got, &rcqe);

        g_assert_cmpuint(len, ==, 14 + 20 + 20 + 1000);
        g_assert(memcmp(got, f, 14) == 0);
        g_assert_cmpuint(get_be16(ip + 2), ==, 20 + 20 + 1000);
        g_assert_cmphex(get_be16(ip + 4), ==, 0x4242 + i);
        g_assert(ip_csum_ok(got));
        g_assert_cmphex(get_be32(tcp + 4), ==, 0x00010000 + off);
        g_assert(memcmp(tcp + 20, f + 54 + off, 1000) == 0);
        /* FIN and PSH on the last segment only; ACK on all. */
        g_assert_cmphex(tcp[13], ==, i == 3 ? 0x19 : 0x10);
        g_assert(l4_csum_ok(got, len));
        g_assert_cmphex(rcqe.rx_flags, ==, DBNIC_RX_IP_OK | DBNIC_RX_L4_OK);
        off += 1000;
    }

    /* Checksum offload: a UDP frame whose checksum field is garbage. */
    n = net_frame(f, 17, 999);
    put_be16(f + 34 + 6, 0xdead);
    addr = guest_alloc(&a.alloc, n);
    qtest_memwrite(a.qts, addr, f, n);
    net_desc_sge(&desc, addr, n, DBNIC_ETH_TX_F_CSUM, 0);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(net_rx(&qb, bufs[4], got, &rcqe), ==, n);
    g_assert(l4_csum_ok(got, n));
    g_assert(memcmp(got, f, 40) == 0);
    g_assert(memcmp(got + 42, f + 42, n - 42) == 0);
    g_assert_cmphex(rcqe.rx_flags, ==, DBNIC_RX_IP_OK | DBNIC_RX_L4_OK);
    net_stop(&a, &b);
}

/*
 * No buffer: the frames are counted in ETH_RX_NOBUF and held; posting
 * buffers lets them through, in order.  Held longer than
 * DBNIC_ETH_RX_HOLD_NS, they are dropped, and so are later ones until
 * buffers come; then traffic flows again.
 */
static void test_net_no_buffer(void)
{
    Dbnic a, b;
    NetQ qa, qb;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    uint8_t f[200], got[NET_BUF];
    uint64_t addr[3], bufs[3], nobuf;
    size_t n;
    int i;

    net_start(&a, &b);
    net_setup(&a, &qa);
    net_setup(&b, &qb);
    n = net_frame(f, 17, 100);
    for (i = 0; i < 3; i++) {
        f[60] = i;
        addr[i] = guest_alloc(&a.alloc, n);
        qtest_memwrite(a.qts, addr[i], f, n);
        net_desc_sge(&desc, addr[i], n, 0, 0);
        net_post_tx(&qa, &desc);
        net_tx_ok(&qa, n);
    }
    g_assert_cmpuint(counter_wait(&b, DBNIC_CNT_ETH_RX_NOBUF, 1), >=, 1);
    g_assert_cmpuint(counter(&b, DBNIC_CNT_ETH_RX), ==, 0);
    for (i = 0; i < 3; i++) {
        bufs[i] = net_post_buf(&qb);
    }
    for (i = 0; i < 3; i++) {
        g_assert_cmpuint(net_rx(&qb, bufs[i], got, &rcqe), ==, n);
        g_assert_cmpuint(got[60], ==, i);
    }
    g_assert_cmpuint(counter(&b, DBNIC_CNT_ETH_RX), ==, 3);

    /* Held past the limit: dropped, and the next one too. */
    nobuf = counter(&b, DBNIC_CNT_ETH_RX_NOBUF);
    net_desc_sge(&desc, addr[0], n, 0, 0);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(counter_wait(&b, DBNIC_CNT_ETH_RX_NOBUF, nobuf + 1), ==,
                     nobuf + 1);
    qtest_clock_step(a.qts, DBNIC_ETH_RX_HOLD_NS + 1);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(counter_wait(&b, DBNIC_CNT_ETH_RX_NOBUF, nobuf + 2), ==,
                     nobuf + 2);
    bufs[0] = net_post_buf(&qb);
    f[60] = 9;
    qtest_memwrite(a.qts, addr[1], f, n);
    net_desc_sge(&desc, addr[1], n, 0, 0);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(net_rx(&qb, bufs[0], got, &rcqe), ==, n);
    g_assert_cmpuint(got[60], ==, 9);
    g_assert_cmpuint(counter(&b, DBNIC_CNT_ETH_RX), ==, 4);
    net_stop(&a, &b);
}

/*
 * The link follows the backend (set_link, netdev_del), with a LINK
 * event; with the link down ETH_TX completes and its frame is dropped.
 */
static void test_net_link(void)
{
    Dbnic a, b;
    NetQ qa, qb;
    struct dbnic_desc desc;
    uint8_t f[100];
    uint64_t addr;
    size_t n;

    net_start(&a, &b);
    net_setup(&a, &qa);
    net_setup(&b, &qb);
    g_assert_cmpuint(rd32(&b, DBNIC_REG_NET_STATUS), ==, DBNIC_NET_LINK_UP);
    qtest_qmp_assert_success(a.qts, "{'execute': 'set_link', 'arguments':"
                             " {'name': 'dbnicb', 'up': false}}");
    g_assert_cmpuint(rd32(&b, DBNIC_REG_NET_STATUS), ==, 0);
    /* Without an EQ the event is in ERR. */
    g_assert_cmphex(DBNIC_GET(rd32(&b, DBNIC_REG_ERR), DBNIC_ERR_CODE), ==,
                    DBNIC_AERR_LINK);
    n = net_frame(f, 17, 40);
    addr = guest_alloc(&a.alloc, n);
    qtest_memwrite(a.qts, addr, f, n);
    memset(&desc, 0, sizeof(desc));
    net_desc_sge(&desc, addr, n, 0, 0);
    net_post_tx(&qb, &desc);
    net_tx_ok(&qb, n);
    g_assert_cmpuint(counter(&b, DBNIC_CNT_ETH_TX_DROP), ==, 1);
    qtest_qmp_assert_success(a.qts, "{'execute': 'set_link', 'arguments':"
                             " {'name': 'dbnicb', 'up': true}}");
    g_assert_cmpuint(rd32(&b, DBNIC_REG_NET_STATUS), ==, DBNIC_NET_LINK_UP);
    /* The backend goes away (netdev hot-unplug): the link goes down. */
    qtest_qmp_assert_success(a.qts, "{'execute': 'netdev_del', 'arguments':"
                             " {'id': 'n1'}}");
    g_assert_cmpuint(rd32(&b, DBNIC_REG_NET_STATUS), ==, 0);
    net_post_tx(&qb, &desc);
    net_tx_ok(&qb, n);
    g_assert_cmpuint(counter(&b, DBNIC_CNT_ETH_TX_DROP), ==, 2);
    g_assert_cmpuint(rd32(&a, DBNIC_REG_NET_STATUS), ==, DBNIC_NET_LINK_UP);
    /*
     * QEMU keeps the deleted backend's client until the NIC goes, and
     * set_link on the NIC clears its link_down: the link stays down, and
     * the frame is not sent into the hub through the deleted port.
     */
    qtest_qmp_assert_success(a.qts, "{'execute': 'set_link', 'arguments':"
                             " {'name': 'dbnicb', 'up': true}}");
    g_assert_cmpuint(rd32(&b, DBNIC_REG_NET_STATUS), ==, 0);
    net_post_buf(&qa);
    net_post_tx(&qb, &desc);
    net_tx_ok(&qb, n);
    g_assert_cmpuint(counter(&b, DBNIC_CNT_ETH_TX_DROP), ==, 3);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_RX), ==, 0);
    net_stop(&a, &b);
}

/*
 * A backend other than a hub: -netdev user (slirp).  An ARP request for
 * slirp's gateway, sent inline, gets slirp's ARP reply into a buffer.
 */
static void test_net_user(void)
{
    Dbnic a;
    NetQ qa;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    uint8_t f[60], got[NET_BUF];
    uint64_t buf;

    dbnic_start(&a, ",netdev=n0,mac=" NET_MAC_A " -netdev user,id=n0");
    net_setup(&a, &qa);
    g_assert_cmpuint(rd32(&a, DBNIC_REG_NET_STATUS), ==, DBNIC_NET_LINK_UP);
    buf = net_post_buf(&qa);
    memset(f, 0, sizeof(f));
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x52\x54\x00\x00\x00\x0a", 6);
    put_be16(f + 12, 0x0806);
    memcpy(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
    memcpy(f + 22, "\x52\x54\x00\x00\x00\x0a\x0a\x00\x02\x0f", 10);
    memcpy(f + 38, "\x0a\x00\x02\x02", 4);   /* who has 10.0.2.2? */
    memset(&desc, 0, sizeof(desc));
    desc.hdr.opcode = DBNIC_OP_ETH_TX;
    desc.hdr.flags = DBNIC_DESC_F_COMPLETION;
    desc.hdr.size = dbnic_eth_tx_blocks(0, sizeof(f));
    dbnic_eth_tx_of(&desc)->inline_len = sizeof(f);
    memcpy((uint8_t *)&desc + DBNIC_ETH_TX_DATA_OFFSET, f, sizeof(f));
    net_post_tx_prio(&qa, &desc);
    net_tx_ok(&qa, sizeof(f));
    g_assert_cmpuint(net_rx(&qa, buf, got, &rcqe), >=, 42);
    g_assert(memcmp(got, f + 6, 6) == 0);       /* to us */
    g_assert_cmphex(get_be16(got + 12), ==, 0x0806);
    g_assert_cmphex(get_be16(got + 20), ==, 2);  /* reply */
    g_assert(memcmp(got + 28, "\x0a\x00\x02\x02", 4) == 0);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_TX_INLINE), ==, 1);
    dbnic_stop(&a);
}

/*
 * RSS end to end: B's glue hashes with net_rx_pkt's Toeplitz and the key
 * SET_RSS gave; the test vector of Microsoft's RSS specification
 * ("Verifying the RSS hash calculation": 66.9.149.187:2794 to
 * 161.142.100.80:1766, TCP over IPv4, hash 0x51ccc178) lands in the RQ
 * that table[0x51ccc178 mod 128] names, with hash and type in its CQE;
 * a UDP frame, whose type is not enabled, goes to table[0] with none.
 */
static void test_net_rss(void)
{
    static const uint8_t key[DBNIC_RSS_KEY_SIZE] = {
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
        0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
        0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
        0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    };
    Dbnic a, b;
    NetQ qa, qb, q2;
    struct dbnic_admin_cmd cmd;
    struct dbnic_rss_config cfg;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    uint8_t f[200], got[NET_BUF];
    uint64_t addr, buf1, buf2;
    size_t n;

    net_start(&a, &b);
    net_setup(&a, &qa);
    net_setup(&b, &qb);
    /* A second RQ on B's context, with a CQ (and vector) of its own. */
    q2 = qb;
    q2.rq = guest_alloc(&b.alloc, 64 << NET_LOG);
    q2.rq_pi = 0;
    q2.rcq_ci = 0;
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_RQ;
    cmd.create_sq.base = q2.rq;
    cmd.create_sq.ctx = qb.ctx;
    cmd.create_sq.cqn = net_cq(&b, qb.ctx, &q2.rcq, 3);
    cmd.create_sq.log_size = NET_LOG;
    cmd.create_sq.log_stride = 6;
    q2.rqn = admin_ok(&b, &cmd);
    buf1 = net_post_buf(&qb);
    buf2 = net_post_buf(&q2);

    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.key, key, sizeof(key));
    cfg.hash_types = 1u << DBNIC_RSS_HASH_TCP_IPV4;
    for (int i = 0; i < DBNIC_RSS_TABLE_SIZE; i++) {
        cfg.table[i] = i == (0x51ccc178 % DBNIC_RSS_TABLE_SIZE) ? q2.rqn
                                                               : qb.rqn;
    }
    addr = guest_alloc(&b.alloc, sizeof(cfg));
    qtest_memwrite(b.qts, addr, &cfg, sizeof(cfg));
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_SET_RSS;
    cmd.set_rss.ctx = qb.ctx;
    cmd.set_rss.config = addr;
    admin_ok(&b, &cmd);

    for (int k = 0; k < 2; k++) {
        uint8_t *ip = f + 14;

        n = net_frame(f, k ? 17 : 6, 100);
        memcpy(ip + 12, "\x42\x09\x95\xbb\xa1\x8e\x64\x50", 8);
        put_be16(ip + 20, 2794);
        put_be16(ip + 22, 1766);
        put_be16(ip + 10, 0);
        put_be16(ip + 10, ~csum_fold(csum_add(0, ip, 20)));
        addr = guest_alloc(&a.alloc, n);
        qtest_memwrite(a.qts, addr, f, n);
        net_desc_sge(&desc, addr, n, DBNIC_ETH_TX_F_CSUM, 0);
        net_post_tx(&qa, &desc);
        net_tx_ok(&qa, n);
        if (k == 0) {
            g_assert_cmpuint(net_rx(&q2, buf2, got, &rcqe), ==, n);
            g_assert_cmphex(rcqe.rss_hash, ==, 0x51ccc178);
            g_assert_cmpuint(rcqe.hash_type, ==, DBNIC_RSS_HASH_TCP_IPV4);
        } else {
            g_assert_cmpuint(net_rx(&qb, buf1, got, &rcqe), ==, n);
            g_assert_cmphex(rcqe.rss_hash, ==, 0);
            g_assert_cmpuint(rcqe.hash_type, ==, DBNIC_RSS_HASH_NONE);
        }
        g_assert_cmphex(rcqe.rx_flags, ==, DBNIC_RX_IP_OK | DBNIC_RX_L4_OK);
        g_assert(memcmp(got, f, 40) == 0);
    }
    net_stop(&a, &b);
}

/* TSO over IPv6: payload length and TCP checksum of each segment. */
static void test_net_tso6(void)
{
    Dbnic a, b;
    NetQ qa, qb;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    static uint8_t f[3200], got[NET_BUF];
    static const size_t seg[] = { 1400, 1400, 200 };
    uint8_t *ip = f + 14, *tcp = ip + 40;
    uint64_t addr, bufs[3];
    size_t n = 14 + 40 + 20 + 3000, off = 0;

    net_start(&a, &b);
    net_setup(&a, &qa);
    net_setup(&b, &qb);
    for (int i = 0; i < 3; i++) {
        bufs[i] = net_post_buf(&qb);
    }
    memset(f, 0, 14 + 40 + 20);
    memcpy(f, "\x52\x54\x00\x00\x00\x0b\x52\x54\x00\x00\x00\x0a", 12);
    put_be16(f + 12, 0x86dd);
    ip[0] = 0x60;
    put_be16(ip + 4, 20 + 3000);
    ip[6] = 6;
    ip[7] = 64;
    ip[8] = 0xfd;
    ip[23] = 1;
    ip[24] = 0xfd;
    ip[39] = 2;
    put_be16(tcp, 4000);
    put_be16(tcp + 2, 80);
    put_be16(tcp + 4, 0x1234);
    tcp[12] = 5 << 4;
    tcp[13] = 0x10;
    put_be16(tcp + 14, 0xffff);
    for (size_t i = 0; i < 3000; i++) {
        tcp[20 + i] = (uint8_t)(i * 5 + 1);
    }
    addr = guest_alloc(&a.alloc, n);
    qtest_memwrite(a.qts, addr, f, n);
    net_desc_sge(&desc, addr, n, DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_CSUM,
                 1400);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    for (int i = 0; i < 3; i++) {
        uint32_t len = net_rx(&qb, bufs[i], got, &rcqe);

        g_assert_cmpuint(len, ==, 14 + 40 + 20 + seg[i]);
        g_assert_cmpuint(get_be16(got + 14 + 4), ==, 20 + seg[i]);
        g_assert_cmphex(get_be32(got + 54 + 4), ==, 0x12340000 + off);
        g_assert(memcmp(got + 74, tcp + 20 + off, seg[i]) == 0);
        g_assert(l4_csum6_ok(got));
        g_assert_cmphex(rcqe.rx_flags, ==, DBNIC_RX_L4_OK);
        off += seg[i];
    }
    net_stop(&a, &b);
}

/*
 * TSO of a frame with no TCP payload (a FIN, a bare ACK): it fits one
 * mss, so it leaves as one frame (datasheet 10.2), with the lengths,
 * checksums and flags a segment gets, over IPv4 and IPv6.  QEMU's
 * segmentation alone sends nothing for it, and the CQE said OK.
 */
static void test_net_tso_empty(void)
{
    Dbnic a, b;
    NetQ qa, qb;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    uint8_t f[200], got[NET_BUF];
    uint64_t addr, bufs[2];
    size_t n;

    net_start(&a, &b);
    net_setup(&a, &qa);
    net_setup(&b, &qb);
    bufs[0] = net_post_buf(&qb);
    bufs[1] = net_post_buf(&qb);

    /* IPv4: PSH ACK FIN, a wrong total length and no header checksum. */
    n = net_frame(f, 6, 0);
    put_be16(f + 14 + 2, 999);
    put_be16(f + 14 + 10, 0);
    addr = guest_alloc(&a.alloc, n);
    qtest_memwrite(a.qts, addr, f, n);
    net_desc_sge(&desc, addr, n, DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_CSUM,
                 1000);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(net_rx(&qb, bufs[0], got, &rcqe), ==, n);
    g_assert_cmpuint(get_be16(got + 14 + 2), ==, 40);
    g_assert(ip_csum_ok(got));
    g_assert_cmphex(got[34 + 13], ==, 0x19);
    g_assert(l4_csum_ok(got, n));
    g_assert_cmphex(rcqe.rx_flags, ==, DBNIC_RX_IP_OK | DBNIC_RX_L4_OK);

    /* IPv6: an ACK, a wrong payload length. */
    n = 14 + 40 + 20;
    memset(f, 0, n);
    memcpy(f, "\x52\x54\x00\x00\x00\x0b\x52\x54\x00\x00\x00\x0a", 12);
    put_be16(f + 12, 0x86dd);
    f[14] = 0x60;
    put_be16(f + 14 + 4, 1234);
    f[14 + 6] = 6;
    f[14 + 7] = 64;
    f[14 + 23] = 1;
    f[14 + 39] = 2;
    put_be16(f + 54, 4000);
    put_be16(f + 56, 80);
    f[54 + 12] = 5 << 4;
    f[54 + 13] = 0x10;
    addr = guest_alloc(&a.alloc, n);
    qtest_memwrite(a.qts, addr, f, n);
    net_desc_sge(&desc, addr, n, DBNIC_ETH_TX_F_TSO | DBNIC_ETH_TX_F_CSUM,
                 1000);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(net_rx(&qb, bufs[1], got, &rcqe), ==, n);
    g_assert_cmpuint(get_be16(got + 14 + 4), ==, 20);
    g_assert_cmphex(got[54 + 13], ==, 0x10);
    g_assert(l4_csum6_ok(got));
    g_assert_cmphex(rcqe.rx_flags, ==, DBNIC_RX_L4_OK);
    net_stop(&a, &b);
}

/*
 * A's port on a socket backend whose other end the test holds (*peer):
 * frames arrive there as a 4-byte big-endian length and the frame.  The
 * QEMU end's send buffer is small, so a test that does not read fills it
 * after a few frames.
 */
#define SOCK_FRAME      200     /* inline ETH_TX frames */
#define SOCK_TOTAL      200     /* far more than socket, queue and port */

static void sock_start(Dbnic *a, NetQ *q, int *peer)
{
    int sv[2], sz = 4096;
    char *props;

    g_assert(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    g_assert(!setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
    props = g_strdup_printf(",netdev=n0,id=nica -netdev socket,id=n0,fd=%d",
                            sv[1]);
    dbnic_start(a, props);
    g_free(props);
    close(sv[1]);
    *peer = sv[0];
    net_setup(a, q);
}

/* An inline frame carrying seq at byte 42 (the UDP payload). */
static void sock_post(NetQ *q, uint32_t seq)
{
    struct dbnic_desc desc;
    uint8_t f[SOCK_FRAME];

    net_frame(f, 17, SOCK_FRAME - 42);
    memcpy(f + 42, &seq, 4);
    memset(&desc, 0, sizeof(desc));
    desc.hdr.opcode = DBNIC_OP_ETH_TX;
    desc.hdr.flags = DBNIC_DESC_F_COMPLETION;
    desc.hdr.size = dbnic_eth_tx_blocks(0, SOCK_FRAME);
    dbnic_eth_tx_of(&desc)->inline_len = SOCK_FRAME;
    memcpy((uint8_t *)&desc + DBNIC_ETH_TX_DATA_OFFSET, f, SOCK_FRAME);
    net_post_tx(q, &desc);
}

/* Read n bytes from the peer socket (a hang guard of 20 s, not a timing). */
static void sock_read(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;

    while (n) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t r;

        g_assert_cmpint(poll(&pfd, 1, 20000), ==, 1);
        r = read(fd, p, n);
        g_assert_cmpint(r, >, 0);
        p += r;
        n -= r;
    }
}

/* The next frame at the peer: its sequence number. */
static uint32_t sock_frame(int fd)
{
    uint8_t f[SOCK_FRAME];
    uint32_t len, seq;

    sock_read(fd, &len, 4);
    g_assert_cmpuint(ntohl(len), ==, SOCK_FRAME);
    sock_read(fd, f, SOCK_FRAME);
    memcpy(&seq, f + 42, 4);
    return seq;
}

/*
 * The next send CQE, OK, waiting for it or not; the consumer index goes
 * to the device (DB_CQ), since these tests run more frames than the CQ
 * holds.
 */
static bool sock_cqe(NetQ *q, bool wait)
{
    struct dbnic_cqe cqe;

    if (wait) {
        if (!net_cqe(q->d, q->scq, &q->scq_ci, &cqe)) {
            return false;
        }
    } else {
        qtest_memread(q->d->qts, q->scq + (q->scq_ci % (1u << NET_LOG)) * 16,
                      &cqe, 16);
        if ((cqe.flags & DBNIC_CQE_F_PHASE) !=
            dbnic_cq_phase(q->scq_ci, NET_LOG)) {
            return false;
        }
        q->scq_ci++;
    }
    g_assert_cmpuint(cqe.status, ==, DBNIC_ST_OK);
    qpci_io_writel(q->d->dev, q->d->bar2, db_off(q->ctx, DBNIC_DB_CQ),
                   dbnic_db_cq_val(q->scqn, q->scq_ci, 0));
    return true;
}

/*
 * Post frames seq *posted.. while the ring has room and take their CQEs,
 * until SOCK_TOTAL have completed or no CQE comes (the port stopped).
 */
static void sock_fill(NetQ *q, uint32_t *posted, uint32_t *done)
{
    while (*done < SOCK_TOTAL) {
        while (*posted < SOCK_TOTAL && *posted - *done < (1u << NET_LOG)) {
            sock_post(q, (*posted)++);
        }
        if (!sock_cqe(q, true)) {
            return;
        }
        (*done)++;
    }
}

/*
 * Datasheet 10.2: a backend that cannot take frames stops the port
 * instead of losing them (QEMU drops what a sender without a sent
 * callback queues past 10000 packets): ETH_TX waits while the peer does
 * not read, and when it reads, every frame arrives, in order.
 */
static void test_net_backpressure(void)
{
    Dbnic a;
    NetQ qa;
    uint32_t posted = 0, done = 0, got;
    int peer;

    sock_start(&a, &qa, &peer);
    sock_fill(&qa, &posted, &done);
    g_assert_cmpuint(done, <, SOCK_TOTAL);
    for (got = 0; got < SOCK_TOTAL; got++) {
        g_assert_cmpuint(sock_frame(peer), ==, got);
        while (sock_cqe(&qa, false)) {
            done++;
        }
        while (posted < SOCK_TOTAL && posted - done < (1u << NET_LOG)) {
            sock_post(&qa, posted++);
        }
    }
    while (done < SOCK_TOTAL) {
        g_assert(sock_cqe(&qa, true));
        done++;
    }
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_TX), ==, SOCK_TOTAL);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_TX_DROP), ==, 0);
    close(peer);
    dbnic_stop(&a);
}

/*
 * Datasheet 10.2: frames waiting in the port when the link goes down are
 * dropped and counted in ETH_TX_DROP, so every frame is either at the
 * peer or counted; nothing of them leaves when the link comes back.
 */
static void test_net_link_down_backlog(void)
{
    Dbnic a;
    NetQ qa;
    uint32_t posted = 0, done = 0, got, dropped;
    int peer;

    sock_start(&a, &qa, &peer);
    sock_fill(&qa, &posted, &done);
    g_assert_cmpuint(done, <, SOCK_TOTAL);
    qtest_qmp_assert_success(a.qts, "{'execute': 'set_link', 'arguments':"
                             " {'name': 'nica', 'up': false}}");
    while (done < posted) {
        g_assert(sock_cqe(&qa, true));
        done++;
    }
    dropped = counter(&a, DBNIC_CNT_ETH_TX_DROP);
    g_assert_cmpuint(dropped, >, 0);
    g_assert_cmpuint(dropped, <, posted);
    /* The frames that had left arrive, in order; then the marker. */
    for (got = 0; got < posted - dropped; got++) {
        g_assert_cmpuint(sock_frame(peer), ==, got);
    }
    qtest_qmp_assert_success(a.qts, "{'execute': 'set_link', 'arguments':"
                             " {'name': 'nica', 'up': true}}");
    sock_post(&qa, 0xffff);
    g_assert(sock_cqe(&qa, true));
    g_assert_cmpuint(sock_frame(peer), ==, 0xffff);
    close(peer);
    dbnic_stop(&a);
}

/*
 * Datasheet 2.1, 10.2, 10.3: a reset drops the frames the port took and
 * has not handed to the backend, and a received frame it holds for want
 * of a buffer: after the reset the peer gets none of the former, and the
 * host none of the latter.
 */
static void test_net_reset_drops(void)
{
    Dbnic a, b;
    NetQ qa, qb;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    uint8_t f[200], got[NET_BUF];
    uint32_t posted = 0, done = 0, seq, k;
    uint64_t addr, buf;
    size_t n;
    int peer;

    /* Receive: B holds A's frame 1 (no buffer), then B is reset. */
    net_start(&a, &b);
    net_setup(&a, &qa);
    net_setup(&b, &qb);
    n = net_frame(f, 17, 100);
    addr = guest_alloc(&a.alloc, n);
    f[60] = 1;
    qtest_memwrite(a.qts, addr, f, n);
    net_desc_sge(&desc, addr, n, 0, 0);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(counter_wait(&b, DBNIC_CNT_ETH_RX_NOBUF, 1), ==, 1);
    net_setup(&b, &qb);
    buf = net_post_buf(&qb);
    f[60] = 2;
    qtest_memwrite(a.qts, addr, f, n);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmpuint(net_rx(&qb, buf, got, &rcqe), ==, n);
    g_assert_cmpuint(got[60], ==, 2);
    g_assert_cmpuint(counter(&b, DBNIC_CNT_ETH_RX), ==, 1);
    net_stop(&a, &b);

    /* Transmit: the port is full of frames the peer has not read. */
    sock_start(&a, &qa, &peer);
    sock_fill(&qa, &posted, &done);
    g_assert_cmpuint(done, <, SOCK_TOTAL);
    net_setup(&a, &qa);
    sock_post(&qa, 0xffff);
    g_assert(sock_cqe(&qa, true));
    /* A gap-free prefix of what completed, then the marker. */
    for (k = 0; (seq = sock_frame(peer)) != 0xffff; k++) {
        g_assert_cmpuint(seq, ==, k);
    }
    g_assert_cmpuint(k, <, done);
    close(peer);
    dbnic_stop(&a);
}

/*
 * B is unplugged while it holds a frame that found no buffer, with more
 * queued behind it and its hold timer armed: QEMU goes on, A's traffic
 * still completes, the timer never fires on the freed device, and a new
 * device on the same backend receives A's next frame.
 */
static void test_net_unplug_held(void)
{
    Dbnic a, b;
    NetQ qa, qb;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    uint8_t f[200], got[NET_BUF];
    uint64_t addr, buf;
    size_t n;
    int i;

    net_start_on(&a, &b, "pc");
    net_setup(&a, &qa);
    net_setup(&b, &qb);
    n = net_frame(f, 17, 100);
    addr = guest_alloc(&a.alloc, n);
    qtest_memwrite(a.qts, addr, f, n);
    net_desc_sge(&desc, addr, n, 0, 0);
    for (i = 0; i < 3; i++) {
        net_post_tx(&qa, &desc);
        net_tx_ok(&qa, n);
    }
    g_assert_cmpuint(counter_wait(&b, DBNIC_CNT_ETH_RX_NOBUF, 1), >=, 1);

    qpci_unplug_acpi_device_test(a.qts, "dbnicb", 5);
    g_free(b.dev);
    b.dev = NULL;
    qtest_clock_step(a.qts, 2 * DBNIC_ETH_RX_HOLD_NS);
    g_assert_null(qpci_device_find(a.bus, QPCI_DEVFN(5, 0)));
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    g_assert_cmphex(rd32(&a, DBNIC_REG_ID), ==, DBNIC_ID_MAGIC);

    qtest_qmp_device_add(a.qts, "dbnic", "dbnicc",
                         dbnic_thread_engine() ?
                         "{'addr': '0x05', 'netdev': 'n1', 'iothread': 'io0'}"
                         : "{'addr': '0x05', 'netdev': 'n1'}");
    b.dev = qpci_device_find(a.bus, QPCI_DEVFN(5, 0));
    g_assert(b.dev);
    dbnic_map(&b);
    net_setup(&b, &qb);
    buf = net_post_buf(&qb);
    f[60] = 0x5a;
    qtest_memwrite(a.qts, addr, f, n);
    net_post_tx(&qa, &desc);
    net_tx_ok(&qa, n);
    /* Frames queued for the old device may come first: find ours. */
    for (i = 0; i < 8; i++) {
        g_assert_cmpuint(net_rx(&qb, buf, got, &rcqe), ==, n);
        if (got[60] == 0x5a) {
            break;
        }
        buf = net_post_buf(&qb);
    }
    g_assert_cmpuint(got[60], ==, 0x5a);
    net_stop(&a, &b);
}

/*
 * A hostile peer on a socket backend (-netdev socket over a socketpair:
 * each frame is a 4-byte length and its bytes).  Runts of 0 to 13 bytes,
 * cut VLAN tags, 802.3 lengths past the frame and giants up to 64 KiB are
 * dropped and counted in ETH_RX_BAD (datasheet 10.3).  Frames whose
 * IPv4/IPv6/TCP/UDP headers lie (IHL 0 or past the frame, lengths
 * too short or too long, TCP data offset past the frame, extension
 * header chains to the end of the frame or past it, routing and
 * home-address options for net_rx_pkt's RSS parse, fragments) are
 * Ethernet frames all the same: with RSS on every hash type and the
 * checksums checked, each arrives whole in its buffer.  Then, with the
 * link set down, frames are not taken nor counted, and an empty one
 * that QEMU queued for us then does not stall the backend; and frames keep
 * coming while the only RQ is destroyed with one held, then a new RQ
 * takes traffic again.
 */
static void net_peer_send(int fd, const uint8_t *f, uint32_t n)
{
    uint32_t be = htonl(n);
    struct iovec iov[2] = { { &be, 4 }, { (void *)f, n } };

    /* One write: QEMU's one read takes the frame whole. */
    g_assert_cmpint(writev(fd, iov, 2), ==, 4 + n);
}

/* Wait (real time, up to 10 s) until QEMU has read all we sent. */
static void net_peer_drained(Dbnic *d, int fd)
{
    int left = 1;

    for (int t = 0; t < 10000; t++) {
        g_assert_cmpint(ioctl(fd, SIOCOUTQ, &left), ==, 0);
        if (!left) {
            return;
        }
        settle(d);
        g_usleep(1000);
    }
    g_assert_cmpint(left, ==, 0);
}

/* Ethernet header to A (NET_MAC_A) with EtherType type; returns 14. */
static size_t net_peer_eth(uint8_t *f, uint16_t type)
{
    memcpy(f, "\x52\x54\x00\x00\x00\x0a\x52\x54\x00\x00\x00\x0c", 12);
    put_be16(f + 12, type);
    return 14;
}

/* IPv6 header at p: payload length plen, next header nh. */
static void net_peer_ip6(uint8_t *p, uint16_t plen, uint8_t nh)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    put_be16(p + 4, plen);
    p[6] = nh;
    p[7] = 64;
    p[8] = 0xfd;
    p[23] = 1;
    p[24] = 0xfd;
    p[39] = 2;
}

/* Frame k of the lying-header set into f; its length, 0 past the set. */
static size_t net_peer_lie(uint8_t *f, int k)
{
    uint8_t *ip = f + 14, *l4;
    size_t n;

    memset(f, 0, 1600);
    switch (k) {
    case 0:     /* IPv4, IHL 0: "TCP" inside the IP header */
        n = net_frame(f, 6, 10);
        ip[0] = 0x40;
        return n;
    case 1:     /* IHL 15, the frame ends after 20 bytes of it */
        net_frame(f, 6, 0);
        ip[0] = 0x4f;
        return 14 + 20;
    case 2:     /* total length 0, below the header */
        n = net_frame(f, 6, 30);
        put_be16(ip + 2, 0);
        return n;
    case 3:     /* total length 65535 in a short frame */
        n = net_frame(f, 6, 30);
        put_be16(ip + 2, 65535);
        return n;
    case 4:     /* TCP data offset 15 with a 20-byte header */
        n = net_frame(f, 6, 0);
        ip[32] = 0xf0;
        return n;
    case 5:     /* TCP data offset 0 */
        n = net_frame(f, 6, 8);
        ip[32] = 0;
        return n;
    case 6:     /* UDP length 0, a checksum to check */
    case 7:     /* UDP length 7 */
    case 8:     /* UDP length 65535 */
        n = net_frame(f, 17, 40);
        put_be16(ip + 24, k == 6 ? 0 : k == 7 ? 7 : 65535);
        put_be16(ip + 26, 0x1234);
        return n;
    case 9:     /* IPv4 cut after 10 bytes */
        net_frame(f, 17, 0);
        return 14 + 10;
    case 10:    /* a fragment (MF) of TCP */
        n = net_frame(f, 6, 100);
        put_be16(ip + 6, 0x2000);
        return n;
    case 11:    /* EtherType IPv4, version 6 */
        n = net_frame(f, 6, 20);
        ip[0] = 0x65;
        return n;
    case 12:    /* TCP over IPv4 with its header cut */
        net_frame(f, 6, 0);
        return 14 + 20 + 11;
    case 13:    /* SCTP over IPv4, no SCTP header */
        net_frame(f, 132, 0);
        return 14 + 20 + 2;
    case 14:    /* IPv6 cut after 30 bytes */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 100, 6);
        return 14 + 30;
    case 15: {  /* destination options, each 8 bytes, to the frame's end */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 8 * 150, 60);
        for (int i = 0; i < 150; i++) {
            ip[40 + 8 * i] = 60;
        }
        return 14 + 40 + 8 * 150;
    }
    case 16:    /* a hop-by-hop header claiming 2 KiB past the frame */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 200, 0);
        ip[40] = 6;
        ip[41] = 255;
        return 14 + 40 + 64;
    case 17:    /* a fragment header, then TCP */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 8 + 20 + 40, 44);
        ip[40] = 6;
        put_be16(ip + 42, 0x0001);          /* offset 0, M */
        l4 = ip + 48;
        l4[12] = 5 << 4;
        return 14 + 40 + 8 + 20 + 40;
    case 18:    /* routing header type 2 (home address), then TCP */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 24 + 20, 43);
        ip[40] = 6;
        ip[41] = 2;
        ip[42] = 2;
        ip[43] = 1;
        ip[48 + 15] = 9;
        l4 = ip + 64;
        l4[12] = 5 << 4;
        return 14 + 40 + 24 + 20;
    case 19:    /* routing header type 2 cut after 12 bytes */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 24, 43);
        ip[40] = 6;
        ip[41] = 2;
        ip[42] = 2;
        return 14 + 40 + 12;
    case 20:    /* destination options: a home address option, cut */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 24, 60);
        ip[40] = 17;
        ip[41] = 2;
        ip[42] = 1;                         /* PadN over 4 bytes */
        ip[43] = 2;
        ip[46] = 201;                       /* HAO, 16 bytes */
        ip[47] = 16;
        return 14 + 40 + 20;
    case 21:    /* destination options: an option longer than the header */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 8 + 8, 60);
        ip[40] = 17;
        ip[41] = 0;
        ip[42] = 201;
        ip[43] = 200;
        return 14 + 40 + 8 + 8;
    case 22:    /* TCP over IPv6, payload length 0 */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 0, 6);
        ip[40 + 12] = 5 << 4;
        return 14 + 40 + 20 + 10;
    case 23:    /* UDP over IPv6, length 3 */
        net_peer_eth(f, 0x86dd);
        net_peer_ip6(ip, 30, 17);
        put_be16(ip + 44, 3);
        put_be16(ip + 46, 0x4321);
        return 14 + 40 + 30;
    case 24:    /* 802.1Q, then IPv4 cut after 6 bytes */
        net_peer_eth(f, 0x8100);
        put_be16(f + 14, 5);
        put_be16(f + 16, 0x0800);
        f[18] = 0x45;
        return 18 + 6;
    case 25:    /* QinQ: 802.1ad, 802.1Q, IPv6 cut short */
        net_peer_eth(f, 0x88a8);
        put_be16(f + 16, 0x8100);
        put_be16(f + 20, 0x86dd);
        f[22] = 0x60;
        return 22 + 8;
    case 26:    /* QinQ of 20 bytes: the inner tag cut */
        net_peer_eth(f, 0x88a8);
        put_be16(f + 16, 0x8100);
        return 20;
    case 27:    /* the smallest frame: a header alone */
        return net_peer_eth(f, 0x0800);
    default:
        return 0;
    }
}

static void test_net_hostile_peer(void)
{
    Dbnic a;
    NetQ qa;
    struct dbnic_admin_cmd cmd;
    struct dbnic_rss_config cfg;
    struct dbnic_rx_cqe rcqe;
    static uint8_t f[70000], got[NET_BUF];
    static const uint32_t bad[] = {
        0, 1, 6, 13, 9019, 9023, 12000, 65535, 69000,
    };
    uint64_t addr, buf, nbad = 0, nrx = 0;
    char *props;
    size_t n;
    int sv[2], k;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    props = g_strdup_printf(",id=dbnica,netdev=n0,mac=" NET_MAC_A
                            " -netdev socket,id=n0,fd=%d", sv[1]);
    dbnic_start(&a, props);
    g_free(props);
    close(sv[1]);
    net_setup(&a, &qa);
    g_assert_cmpuint(rd32(&a, DBNIC_REG_NET_STATUS), ==, DBNIC_NET_LINK_UP);

    /* RSS on, every hash type: net_rx_pkt parses and hashes each frame. */
    memset(&cfg, 0, sizeof(cfg));
    memset(cfg.key, 0x6d, sizeof(cfg.key));
    cfg.hash_types = (1u << DBNIC_RSS_HASH_NUM) - 2;
    for (int i = 0; i < DBNIC_RSS_TABLE_SIZE; i++) {
        cfg.table[i] = qa.rqn;
    }
    addr = guest_alloc(&a.alloc, sizeof(cfg));
    qtest_memwrite(a.qts, addr, &cfg, sizeof(cfg));
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_SET_RSS;
    cmd.set_rss.ctx = qa.ctx;
    cmd.set_rss.config = addr;
    admin_ok(&a, &cmd);

    /* Runts, cut tags, 802.3 lengths past the end, giants. */
    memset(f, 0x11, sizeof(f));
    net_peer_eth(f, 0x0800);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        net_peer_send(sv[0], f, bad[i]);
        nbad++;
    }
    for (n = 14; n < 18; n++) {
        net_peer_eth(f, n & 1 ? 0x88a8 : 0x8100);
        net_peer_send(sv[0], f, n);
        nbad++;
    }
    net_peer_eth(f, 47);
    net_peer_send(sv[0], f, 60);
    nbad++;
    g_assert_cmpuint(counter_wait(&a, DBNIC_CNT_ETH_RX_BAD, nbad), ==, nbad);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_RX), ==, 0);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_RX_NOBUF), ==, 0);

    /* Lying headers: each one delivered whole, flagged as it may be. */
    for (k = 0; (n = net_peer_lie(f, k)) != 0; k++) {
        buf = net_post_buf(&qa);
        net_peer_send(sv[0], f, n);
        g_assert_cmpuint(net_rx(&qa, buf, got, &rcqe), ==, n);
        g_assert(memcmp(got, f, n) == 0);
        g_assert_cmpuint(rcqe.hash_type, <, DBNIC_RSS_HASH_NUM);
        qpci_io_writel(a.dev, a.bar2, db_off(qa.ctx, DBNIC_DB_CQ),
                       dbnic_db_cq_val(qa.rcqn, qa.rcq_ci, 0));
        nrx++;
    }
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_RX), ==, nrx);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_RX_BAD), ==, nbad);

    /* Link down: frames are neither taken nor counted. */
    qtest_qmp_assert_success(a.qts, "{'execute': 'set_link', 'arguments':"
                             " {'name': 'dbnica', 'up': false}}");
    buf = net_post_buf(&qa);
    n = net_frame(f, 17, 50);
    net_peer_send(sv[0], f, n);
    /*
     * An empty frame (the socket backend passes it on when the next
     * one's bytes come): QEMU answers "0 bytes taken" for a NIC whose
     * link is down, so it queues the frame for us and the backend stops
     * reading until our queue is flushed.
     */
    net_peer_send(sv[0], f, 0);
    net_peer_send(sv[0], f, 5);
    net_peer_drained(&a, sv[0]);
    qtest_qmp_assert_success(a.qts, "{'execute': 'set_link', 'arguments':"
                             " {'name': 'dbnica', 'up': true}}");
    /* The link up flushes it: a runt now, and the backend reads again. */
    nbad++;
    f[60] = 0x77;
    net_peer_send(sv[0], f, n);
    g_assert_cmpuint(net_rx(&qa, buf, got, &rcqe), ==, n);
    g_assert_cmpuint(got[60], ==, 0x77);
    g_assert_cmphex(rcqe.hash_type, ==, DBNIC_RSS_HASH_UDP_IPV4);
    nrx++;
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_RX), ==, nrx);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_RX_BAD), ==, nbad);

    /*
     * No buffer: a frame is held, more queue behind it; the only RQ is
     * destroyed (RSS off first: the table names it) and made again, and
     * traffic flows into the new one.
     */
    f[60] = 1;
    net_peer_send(sv[0], f, n);
    g_assert_cmpuint(counter_wait(&a, DBNIC_CNT_ETH_RX_NOBUF, 1), ==, 1);
    f[60] = 2;
    net_peer_send(sv[0], f, n);
    net_peer_send(sv[0], f, 3);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_SET_RSS;
    cmd.set_rss.ctx = qa.ctx;
    admin_ok(&a, &cmd);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_DESTROY_RQ;
    cmd.destroy.handle = qa.rqn;
    admin_ok(&a, &cmd);
    net_peer_send(sv[0], f, 70);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_RQ;
    cmd.create_sq.base = qa.rq;
    cmd.create_sq.ctx = qa.ctx;
    qa.rcqn = net_cq(&a, qa.ctx, &qa.rcq, 2);
    cmd.create_sq.cqn = qa.rcqn;
    cmd.create_sq.log_size = NET_LOG;
    cmd.create_sq.log_stride = 6;
    qa.rqn = admin_ok(&a, &cmd);
    qa.rq_pi = 0;
    qa.rcq_ci = 0;
    f[60] = 0x5a;
    net_peer_send(sv[0], f, n);
    /* What was held or queued may come first, or have been dropped. */
    for (k = 0; k < 5; k++) {
        uint32_t len;

        buf = net_post_buf(&qa);
        len = net_rx(&qa, buf, got, &rcqe);
        if (got[60] == 0x5a) {
            g_assert_cmpuint(len, ==, n);
            break;
        }
    }
    g_assert_cmpuint(got[60], ==, 0x5a);
    g_assert_cmphex(rd32(&a, DBNIC_REG_ID), ==, DBNIC_ID_MAGIC);
    close(sv[0]);
    dbnic_stop(&a);
}

/* The next frame the device sent to the socket peer; its length. */
static uint32_t net_peer_recv(int fd, uint8_t *f, uint32_t max)
{
    uint32_t be, n;
    size_t off = 0;

    while (off < 4 + (off >= 4 ? n : 0)) {
        ssize_t r = off < 4 ? read(fd, (uint8_t *)&be + off, 4 - off)
                            : read(fd, f + off - 4, 4 + n - off);

        g_assert_cmpint(r, >, 0);
        off += r;
        if (off == 4) {
            n = ntohl(be);
            g_assert_cmpuint(n, <=, max);
        }
    }
    return n;
}

/*
 * A hostile guest's frames through the glue's offloads (net_tx_pkt):
 * the lying headers of net_peer_lie without offloads, with CSUM, then
 * with VLAN insertion as well (a third tag on a QinQ frame among them),
 * each leaves as one frame of its length (4 more with the tag), with
 * its addresses and EtherType; without offloads byte for byte, and with
 * CSUM so do the frames it does not apply to (datasheet 10.2).  Then
 * the device still sends a frame and takes one.
 */
static void test_net_hostile_guest_tx(void)
{
    Dbnic a;
    NetQ qa;
    struct dbnic_desc desc;
    struct dbnic_rx_cqe rcqe;
    static uint8_t f[2000], out[4000], got[NET_BUF];
    struct timeval tv = { .tv_sec = 10 };
    uint64_t addr, buf;
    char *props;
    size_t n;
    int sv[2], k, vlan, mode;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    g_assert_cmpint(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv,
                               sizeof(tv)), ==, 0);
    props = g_strdup_printf(",netdev=n0,mac=" NET_MAC_A
                            " -netdev socket,id=n0,fd=%d", sv[1]);
    dbnic_start(&a, props);
    g_free(props);
    close(sv[1]);
    net_setup(&a, &qa);
    addr = guest_alloc(&a.alloc, sizeof(f));
    for (mode = 0; mode < 3; mode++) {
        vlan = mode == 2;
        for (k = 0; (n = net_peer_lie(f, k)) != 0; k++) {
            uint32_t len;

            qtest_memwrite(a.qts, addr, f, n);
            net_desc_sge(&desc, addr, n, (mode ? DBNIC_ETH_TX_F_CSUM : 0) |
                         (vlan ? DBNIC_ETH_TX_F_VLAN : 0), 0);
            dbnic_eth_tx_of(&desc)->vlan_tci = vlan ? 0x0123 : 0;
            net_post_tx(&qa, &desc);
            net_tx_ok(&qa, n);
            /* More than a ring of them: give the CQ entries back. */
            qpci_io_writel(a.dev, a.bar2, db_off(qa.ctx, DBNIC_DB_CQ),
                           dbnic_db_cq_val(qa.scqn, qa.scq_ci, 0));
            len = net_peer_recv(sv[0], out, sizeof(out));
            g_assert_cmpuint(len, ==, n + 4 * vlan);
            g_assert(memcmp(out, f, 12) == 0);
            if (vlan) {
                g_assert_cmphex(get_be16(out + 12), ==, 0x8100);
                g_assert_cmphex(get_be16(out + 14), ==, 0x0123);
            }
            /* The EtherType and what follows it up to the IP header. */
            g_assert(memcmp(out + 12 + 4 * vlan, f + 12, MIN(n, 15) - 12) == 0);
            /*
             * Without offloads a frame leaves as given (QEMU's helpers
             * would set an IPv6 payload length of 0); CSUM leaves a
             * fragment alone, and an IPv4 EtherType over version 6.
             */
            if (mode == 0 ||
                (mode == 1 && (k == 10 || k == 11 || k == 17))) {
                g_assert(memcmp(out, f, n) == 0);
            }
        }
    }
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_TX), ==, 3 * k);
    g_assert_cmpuint(counter(&a, DBNIC_CNT_ETH_TX_DROP), ==, 0);

    /* The port still works both ways. */
    buf = net_post_buf(&qa);
    n = net_frame(f, 17, 300);
    net_peer_send(sv[0], f, n);
    g_assert_cmpuint(net_rx(&qa, buf, got, &rcqe), ==, n);
    g_assert(memcmp(got, f, n) == 0);
    close(sv[0]);
    dbnic_stop(&a);
}

/* ---- RDMA (datasheet 11) ---------------------------------------------- */

/* SET_GID from ctx: the admin status. */
static uint8_t set_gid(Dbnic *d, uint32_t ctx)
{
    struct dbnic_admin_cmd cmd = { .opcode = DBNIC_ADM_SET_GID };
    struct dbnic_admin_cqe cqe;

    cmd.set_gid.ctx = ctx;
    cmd.set_gid.net = DBNIC_NET_IPV4;
    cmd.set_gid.vlan = DBNIC_VLAN_NONE;
    cmd.set_gid.gid[10] = cmd.set_gid.gid[11] = 0xff;
    cmd.set_gid.gid[12] = 10;
    admin_post(d, &cmd);
    g_assert(admin_wait(d, d->aq_pi - 1, &cqe));
    return cqe.status;
}

/*
 * The roce, max-qp and max-ah properties reach the capability registers
 * and the admin queue: off (QP commands unknown), on by default (the
 * datasheet's) and with the limits given; CREATE_QP answers the QPN
 * and, in result2, the qid.
 */
static void test_rdma_properties(void)
{
    struct dbnic_admin_cmd cmd;
    struct dbnic_admin_cqe cqe;
    uint32_t ctx, cqn;
    Dbnic d;

    dbnic_start(&d, "");
    g_assert_cmphex(rd32(&d, DBNIC_REG_CAP_FEATURES) & DBNIC_FEAT_RDMA, ==,
                    DBNIC_FEAT_RDMA);
    dbnic_stop(&d);

    dbnic_start(&d, ",roce=off");
    g_assert_cmphex(rd32(&d, DBNIC_REG_CAP_FEATURES) & DBNIC_FEAT_RDMA, ==, 0);
    g_assert_cmphex(rd32(&d, DBNIC_REG_CAP_QP), ==, 0);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_CTX;
    cmd.create_ctx.flags = DBNIC_CTX_F_PRIVILEGED;
    ctx = admin_ok(&d, &cmd);
    g_assert_cmpuint(set_gid(&d, ctx), ==, DBNIC_AST_BAD_OPCODE);
    dbnic_stop(&d);

    dbnic_start(&d, ",roce=on,max-qp=17,max-ah=9");
    g_assert_cmphex(rd32(&d, DBNIC_REG_CAP_FEATURES) & DBNIC_FEAT_RDMA, ==,
                    DBNIC_FEAT_RDMA);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_CAP_QP), ==, 17);
    g_assert_cmpuint(rd32(&d, DBNIC_REG_CAP_AH), ==, 9);
    g_assert_cmpuint(DBNIC_GET(rd32(&d, DBNIC_REG_CAP_RDMA), DBNIC_CAPR_GIDS),
                     ==, DBNIC_GID_TBL_LEN);
    dbnic_enable(&d, d.aq_sq, d.aq_cq);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_CTX;
    cmd.create_ctx.flags = DBNIC_CTX_F_PRIVILEGED;
    ctx = admin_ok(&d, &cmd);
    g_assert_cmpuint(set_gid(&d, ctx), ==, DBNIC_AST_OK);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_CQ;
    cmd.create_cq.base = guest_alloc(&d.alloc, 32 << 4);
    cmd.create_cq.ctx = ctx;
    cmd.create_cq.log_size = 4;
    cmd.create_cq.log_cqe = DBNIC_LOG_CQE_32;
    cmd.create_cq.msix_vector = DBNIC_CQ_NO_VECTOR;
    cqn = admin_ok(&d, &cmd);
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DBNIC_ADM_CREATE_QP;
    cmd.create_qp.sq_base = guest_alloc(&d.alloc, 64 << 4);
    cmd.create_qp.rq_base = guest_alloc(&d.alloc, 64 << 4);
    cmd.create_qp.ctx = ctx;
    cmd.create_qp.scqn = cqn;
    cmd.create_qp.rcqn = cqn;
    cmd.create_qp.type = DBNIC_QPT_GSI;
    cmd.create_qp.sq_log_size = 4;
    cmd.create_qp.sq_log_stride = 6;
    cmd.create_qp.rq_log_size = 4;
    cmd.create_qp.rq_log_stride = 6;
    admin_post(&d, &cmd);
    g_assert(admin_wait(&d, d.aq_pi - 1, &cqe));
    g_assert_cmpuint(cqe.status, ==, DBNIC_AST_OK);
    g_assert_cmpuint(cqe.result, ==, DBNIC_GSI_QPN);
    g_assert_cmpuint(cqe.result2, ==, 0); /* the first qid */
    dbnic_stop(&d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/dbnic/pci-identity", test_pci_identity);
    qtest_add_func("/dbnic/bar0-access-sizes", test_bar0_access_sizes);
    qtest_add_func("/dbnic/bar2-access-sizes", test_bar2_access_sizes);
    qtest_add_func("/dbnic/msix-delivery", test_msix_delivery);
    qtest_add_func("/dbnic/reset", test_reset);
    qtest_add_func("/dbnic/reentrancy/bh", test_reentrancy_bh);
    qtest_add_func("/dbnic/reentrancy/mmio", test_reentrancy_mmio);
    qtest_add_func("/dbnic/reentrancy/flush-timer",
                   test_reentrancy_flush_timer);
    qtest_add_func("/dbnic/dma-to-own-bars", test_dma_to_own_bars);
    qtest_add_func("/dbnic/payload-dma-to-own-bars",
                   test_payload_dma_to_own_bars);
    qtest_add_func("/dbnic/unplug-in-flight", test_unplug_in_flight);
    qtest_add_func("/dbnic/net/tx-rx", test_net_tx_rx);
    qtest_add_func("/dbnic/net/tso-csum", test_net_tso_csum);
    qtest_add_func("/dbnic/net/no-buffer", test_net_no_buffer);
    qtest_add_func("/dbnic/net/link", test_net_link);
    qtest_add_func("/dbnic/net/user", test_net_user);
    qtest_add_func("/dbnic/net/rss", test_net_rss);
    qtest_add_func("/dbnic/net/tso6", test_net_tso6);
    qtest_add_func("/dbnic/net/tso-empty", test_net_tso_empty);
    qtest_add_func("/dbnic/net/unplug-held", test_net_unplug_held);
    qtest_add_func("/dbnic/net/backpressure", test_net_backpressure);
    qtest_add_func("/dbnic/net/link-down-backlog",
                   test_net_link_down_backlog);
    qtest_add_func("/dbnic/net/reset-drops", test_net_reset_drops);
    qtest_add_func("/dbnic/net/hostile-peer", test_net_hostile_peer);
    qtest_add_func("/dbnic/net/hostile-guest-tx", test_net_hostile_guest_tx);
    qtest_add_func("/dbnic/rdma/properties", test_rdma_properties);
    return g_test_run();
}
