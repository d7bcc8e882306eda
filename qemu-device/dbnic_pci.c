/*
 * dbnic: emulated PCIe NIC / DMA engine with a doorbell BAR.
 *
 * QEMU glue only: PCI config, the three BARs, MSI-X, the NIC backend,
 * the engine's thread, trace events and vmstate.  The device's behaviour
 * lives in dbnic_core.c, which knows nothing of QEMU; this file forwards
 * MMIO to it and gives it DMA, interrupts and a clock.
 *
 * Threads and locks.  With an "iothread" the engine (dbnic_core_run) runs
 * there, off the BQL, the way virtio dataplane does; without one it runs
 * in a bottom half of the main loop, under the BQL (and, with -icount, in
 * deterministic virtual time).  Either way:
 * - s->lock serialises every call into the core.  The order is BQL, then
 *   s->lock: MMIO handlers hold the BQL (QEMU 10.0 dispatches all MMIO
 *   under it) and take s->lock; the engine thread takes s->lock only, and
 *   never the BQL while it holds s->lock.
 * - The engine gives s->lock up after every 64 KiB piece (cfg.run_bytes)
 *   and, in the iothread, waits until a vCPU that was blocked on it has had it: a mutex
 *   release alone is no hand-off, the engine would take it again first.
 * - Interrupts are recorded under s->lock (dbnic_irq) and sent after it is
 *   released, under the BQL: directly by an MMIO handler, through a main
 *   loop bottom half by the engine thread.
 * - Device DMA reaches guest RAM only (MemTxAttrs.memory): a DMA aimed at
 *   MMIO, our own BARs included, fails with an error completion instead of
 *   re-entering the device or taking the BQL in the engine thread.
 *
 * The datasheet is docs/hardware.md in the dbnic repository.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qemu/bitops.h"
#include "qemu/thread.h"
#include "block/aio.h"
#include "block/aio-wait.h"
#include "system/iothread.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/pcie_aer.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "net/net.h"
#include "net/eth.h"
#include "standard-headers/linux/virtio_net.h"
#include "qom/object.h"
#include "trace.h"
#include "../../net/net_tx_pkt.h"
#include "../../net/net_rx_pkt.h"

#include "dbnic_core.h"

#define TYPE_DBNIC "dbnic"
OBJECT_DECLARE_SIMPLE_TYPE(DbnicState, DBNIC)

#define DBNIC_PCIE_CAP_OFFSET   0xe0
/* First extended capability: AER (datasheet section 1). */
#define DBNIC_AER_CAP_OFFSET    PCI_CONFIG_SPACE_SIZE

/* A timing property left unset takes the profile's figure. */
#define DBNIC_TIMING_UNSET      UINT32_MAX

/*
 * Frames the port has taken (their CQEs written) and not handed to the
 * network backend yet; beyond it ETH_TX waits (DBNIC_ETH_TX_BUSY).  The
 * datasheet (10.2) only says "a few dozen": the host needs no number.
 */
#define DBNIC_TX_BACKLOG        64

/* A frame the engine handed over, sent from the main loop. */
typedef struct DbnicTxFrame {
    struct dbnic_eth_tx_offload off;
    size_t len;
    uint8_t data[];
} DbnicTxFrame;

/* The receive side's answer to a frame that found no buffer (10.3). */
enum {
    DBNIC_RX_TAKE,  /* take frames */
    DBNIC_RX_HELD,  /* no buffer: QEMU queues frames, for a while */
    DBNIC_RX_DROP,  /* held too long: drop what finds no buffer */
};

struct DbnicState {
    PCIDevice parent_obj;

    MemoryRegion ctrl_bar;
    MemoryRegion db_bar;
    MemoryRegion msix_bar;
    /* The bus-master address space, looked up once: DMA runs per page. */
    AddressSpace *dma_as;
    NICState *nic;
    NICConf conf;

    /* The engine: in iothread's AioContext, or the main loop's. */
    IOThread *iothread;
    AioContext *ctx;
    QEMUBH *bh;                 /* runs the core's engine */
    QEMUTimer *prio_timer;      /* the core's timer, in ctx */
    bool timer_due;             /* the timer fired; the BH tells the core */
    /* Threads that wait for s->lock outside the engine: see dbnic_lock(). */
    int lock_waiters;
    unsigned lock_handoffs;     /* waiters that got s->lock, ever */

    /* Interrupts the core raised, sent once s->lock is released. */
    QEMUBH *irq_bh;             /* main loop, for the engine thread */
    unsigned long irq_pending[BITS_TO_LONGS(256)];

    QemuMutex lock;             /* serialises every call into the core */
    struct dbnic_core core;
    struct dbnic_core_config cfg;
    /* Timing model (datasheet 9): a profile, and figures overriding it. */
    char *timing;
    uint32_t db_latency_ns;
    uint32_t mmio_cost_ns;      /* old name of db-latency-ns */
    uint32_t dma_latency_ns;
    uint32_t desc_ns;
    uint32_t byte_ps;
    /*
     * RoCE fault injection (datasheet 11.11): QOM properties, settable at
     * run time too; the core gets a copy under s->lock (dbnic_fault_set).
     */
    struct dbnic_fault_config fault;
    uint64_t fault_seed;

    /*
     * The network port (datasheet 10).  The engine hands frames over
     * under s->lock, in whichever thread it runs; the main loop sends
     * them (tx_bh), under the BQL as the net layer needs, and applies
     * the offloads with tx_pkt.  Receive runs in the main loop.
     */
    DbnicTxFrame *tx_q[DBNIC_TX_BACKLOG]; /* under s->lock */
    unsigned tx_head, tx_len;
    QEMUBH *tx_bh;
    /* A frame waits in the backend's queue: dbnic_tx_sent(), BQL. */
    bool tx_wait;
    struct NetTxPkt *tx_pkt;    /* main loop only */
    struct NetRxPkt *rx_pkt;    /* main loop only */
    QEMUBH *rx_bh;              /* buffers were posted: flush the queue */
    QEMUTimer *rx_hold_timer;   /* DBNIC_ETH_RX_HOLD_NS, virtual clock */
    int rx_state;               /* DBNIC_RX_*, BQL */
    uint8_t *rx_held;           /* DBNIC_RX_HELD: the frame with no buffer */
    size_t rx_held_len;
    bool rx_flush;              /* a reset ended a hold: rx_bh flushes */
};

/* ---- services for the core ---------------------------------------- */

/*
 * Guest RAM only (attrs.memory): a DMA that names MMIO would run another
 * device's handler, which needs the BQL, from the engine thread while it
 * holds s->lock (the wrong lock order), or our own handler again.  ROM and
 * ROM devices are RAM too, but a write to them is dispatched like MMIO,
 * so a write is checked for direct access first; those regions do not move
 * while the guest runs, so the check cannot go stale.
 */
static bool dbnic_dma_writable(AddressSpace *as, dma_addr_t addr, size_t len)
{
    RCU_READ_LOCK_GUARD();

    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l, true,
                                                   MEMTXATTRS_UNSPECIFIED);

        if (!l || !memory_access_is_direct(mr, true,
                                           MEMTXATTRS_UNSPECIFIED)) {
            return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}

static int dbnic_dma_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
    DbnicState *s = opaque;
    MemTxAttrs ram_only = { .memory = 1 };

    return dma_memory_rw(s->dma_as, addr, buf, len, DMA_DIRECTION_TO_DEVICE,
                         ram_only) == MEMTX_OK ? 0 : -1;
}

static int dbnic_dma_write(void *opaque, uint64_t addr, const void *buf,
                           size_t len)
{
    DbnicState *s = opaque;
    MemTxAttrs ram_only = { .memory = 1 };

    if (!dbnic_dma_writable(s->dma_as, addr, len)) {
        return -1;
    }
    return dma_memory_rw(s->dma_as, addr, (void *)buf, len,
                         DMA_DIRECTION_FROM_DEVICE, ram_only) == MEMTX_OK ?
           0 : -1;
}

/*
 * Direct access for the core's COPY, guest RAM only.  A range that is not
 * directly accessible RAM (MMIO, ROM for a write, unassigned, bus
 * mastering off) is refused before address_space_map() would stage it in
 * one of QEMU's bounce buffers, reading MMIO as a side effect: the core
 * then falls back to dbnic_dma_read()/dbnic_dma_write() for it.
 */
static void *dbnic_map(void *opaque, uint64_t addr, size_t *len, bool write)
{
    AddressSpace *as = ((DbnicState *)opaque)->dma_as;
    DMADirection dir = write ? DMA_DIRECTION_FROM_DEVICE
                             : DMA_DIRECTION_TO_DEVICE;
    hwaddr xlat, plen = *len;
    dma_addr_t mlen;
    MemoryRegion *mr;
    void *p;

    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(as, addr, &xlat, &plen, write,
                                 MEMTXATTRS_UNSPECIFIED);
    if (!plen || !memory_access_is_direct(mr, write, MEMTXATTRS_UNSPECIFIED)) {
        return NULL;
    }
    mlen = plen; /* within that one RAM section: never bounced */
    p = dma_memory_map(as, addr, &mlen, dir, MEMTXATTRS_UNSPECIFIED);
    if (p && !mlen) {
        dma_memory_unmap(as, p, mlen, dir, 0);
        p = NULL;
    }
    *len = mlen;
    return p;
}

static void dbnic_unmap(void *opaque, void *host, size_t len, bool write,
                        size_t access)
{
    dma_memory_unmap(((DbnicState *)opaque)->dma_as, host, len,
                     write ? DMA_DIRECTION_FROM_DEVICE
                           : DMA_DIRECTION_TO_DEVICE,
                     access);
}

/* Called under s->lock: only record; dbnic_irq_send() sends. */
static void dbnic_irq(void *opaque, unsigned int vector)
{
    DbnicState *s = opaque;

    if (vector < 256) {
        qatomic_or(&s->irq_pending[BIT_WORD(vector)], BIT_MASK(vector));
    }
}

/* Send the recorded interrupts.  The BQL is held, s->lock is not. */
static void dbnic_irq_send(DbnicState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    for (unsigned w = 0; w < ARRAY_SIZE(s->irq_pending); w++) {
        unsigned long bits = qatomic_xchg(&s->irq_pending[w], 0);

        while (bits) {
            unsigned vector = w * BITS_PER_LONG + ctzl(bits);

            bits &= bits - 1;
            if (msix_enabled(pdev) &&
                vector < msix_nr_vectors_allocated(pdev)) {
                msix_notify(pdev, vector);
            }
        }
    }
}

static bool dbnic_irq_waiting(DbnicState *s)
{
    for (unsigned w = 0; w < ARRAY_SIZE(s->irq_pending); w++) {
        if (qatomic_read(&s->irq_pending[w])) {
            return true;
        }
    }
    return false;
}

/*
 * The main loop's half of the engine thread's interrupts, guarded: an
 * MSI-X entry aimed at our own BARs is blocked, not dispatched to us.
 */
static void dbnic_irq_bh(void *opaque)
{
    dbnic_irq_send(opaque);
}

/*
 * ETH_TX: the core hands a frame over, under s->lock, from the engine's
 * thread or a vCPU's.  The net layer wants the BQL, which the engine
 * thread may not take while it holds s->lock, so the frame waits for
 * tx_bh in the main loop; a full backlog pushes back on the engine.
 */
static int dbnic_eth_tx(void *opaque, const void *buf, size_t len,
                        const struct dbnic_eth_tx_offload *off)
{
    DbnicState *s = opaque;
    DbnicTxFrame *f;

    if (!s->nic) {
        return DBNIC_ETH_TX_DROPPED;
    }
    if (s->tx_len == DBNIC_TX_BACKLOG) {
        trace_dbnic_eth_tx_busy(len);
        return DBNIC_ETH_TX_BUSY;
    }
    f = g_malloc(sizeof(*f) + len);
    f->off = *off;
    f->len = len;
    memcpy(f->data, buf, len);
    s->tx_q[(s->tx_head + s->tx_len++) % DBNIC_TX_BACKLOG] = f;
    qemu_bh_schedule(s->tx_bh);
    return DBNIC_ETH_TX_SENT;
}

/* Buffers were posted (DB_RQ, under s->lock): rx_bh flushes the queue. */
static void dbnic_eth_rx_ready(void *opaque)
{
    DbnicState *s = opaque;

    qemu_bh_schedule(s->rx_bh);
}

static void dbnic_rx_hold_end(DbnicState *s);

/*
 * Reset or disable (datasheet 2.1, 10.2), under s->lock and the BQL (an
 * MMIO write, or the reset phase): the frames taken and not sent go,
 * those of ours in the backend's queue too (the backend has not taken
 * them), and a held received frame; what QEMU queued behind that one
 * arrives at the reset device, like any new frame.  Before realize has
 * made the port there is nothing to drop.
 */
static unsigned int dbnic_eth_port_reset(void *opaque)
{
    DbnicState *s = opaque;
    unsigned int n = s->tx_len;

    if (!s->nic) {
        return 0;
    }
    while (s->tx_len) {
        g_free(s->tx_q[s->tx_head]);
        s->tx_head = (s->tx_head + 1) % DBNIC_TX_BACKLOG;
        s->tx_len--;
    }
    /* Calls dbnic_tx_sent() for each: tx_bh finds nothing to send. */
    qemu_purge_queued_packets(qemu_get_queue(s->nic));
    s->tx_wait = false;
    if (s->rx_state != DBNIC_RX_TAKE) {
        s->rx_held_len = 0;
        dbnic_rx_hold_end(s);
    }
    return n;
}

static uint64_t dbnic_clock_ns(void *opaque)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

/* Thread-safe: the BH and the timer belong to s->ctx. */
static void dbnic_schedule(void *opaque)
{
    DbnicState *s = opaque;

    qemu_bh_schedule(s->bh);
}

static void dbnic_timer_mod(void *opaque, uint64_t when_ns)
{
    DbnicState *s = opaque;

    timer_mod(s->prio_timer, when_ns);
}

static void dbnic_trace(void *opaque, enum dbnic_trace_event ev, uint32_t a,
                        uint32_t b, uint64_t c)
{
    switch (ev) {
    case DBNIC_TR_DB_SQ:
        trace_dbnic_db_sq(a, b, c);
        break;
    case DBNIC_TR_DB_CQ:
        trace_dbnic_db_cq(a, b, c);
        break;
    case DBNIC_TR_DB_REFUSED:
        trace_dbnic_db_refused(a, b, c);
        break;
    case DBNIC_TR_PRIO_WRITE:
        trace_dbnic_prio_write(a, b, c & 0xffff, c >> 16);
        break;
    case DBNIC_TR_PRIO_QUEUED:
        trace_dbnic_prio_queued(a, b, c);
        break;
    case DBNIC_TR_PRIO_FALLBACK:
        trace_dbnic_prio_fallback(a, b, c);
        break;
    case DBNIC_TR_PRIO_TORN:
        trace_dbnic_prio_torn(a, b, c);
        break;
    case DBNIC_TR_PRIO_STALE:
        trace_dbnic_prio_stale(a, b, c);
        break;
    case DBNIC_TR_RING_FETCH:
        trace_dbnic_ring_fetch(a, b, c);
        break;
    case DBNIC_TR_RING_SKIP:
        trace_dbnic_ring_skip(a, b);
        break;
    case DBNIC_TR_EXEC:
        trace_dbnic_exec(a, b, c & 0xff, c >> 8);
        break;
    case DBNIC_TR_CQE:
        trace_dbnic_cqe(a, b, c);
        break;
    case DBNIC_TR_IRQ:
        trace_dbnic_irq(a);
        break;
    case DBNIC_TR_ADMIN:
        trace_dbnic_admin(a, b, c);
        break;
    case DBNIC_TR_REG_WRITE:
        trace_dbnic_reg_write(a, c);
        break;
    case DBNIC_TR_BAD_ACCESS:
        trace_dbnic_bad_access(a, b, c);
        break;
    case DBNIC_TR_ACCESS_FAULT:
        trace_dbnic_access_fault(a, b, c);
        break;
    case DBNIC_TR_MR:
        trace_dbnic_mr(a, b, c);
        break;
    case DBNIC_TR_RUN:
        trace_dbnic_run(a, b);
        break;
    case DBNIC_TR_EVENT:
        trace_dbnic_event(a, b, c);
        break;
    case DBNIC_TR_ETH_TX:
        trace_dbnic_eth_tx(a, b, c & 0xffff, c >> 16);
        break;
    case DBNIC_TR_ETH_RX:
        trace_dbnic_eth_rx(a, b, c);
        break;
    case DBNIC_TR_ETH_DROP:
        trace_dbnic_eth_drop(a, b);
        break;
    case DBNIC_TR_LINK:
        trace_dbnic_link(a);
        break;
    case DBNIC_TR_DB_RQ:
        trace_dbnic_db_rq(a, b, c);
        break;
    case DBNIC_TR_QP:
        trace_dbnic_qp(a, b, c & 0xffff, c >> 16);
        break;
    case DBNIC_TR_QP_STATE:
        trace_dbnic_qp_state(a, b, c & 0xff, c >> 8);
        break;
    case DBNIC_TR_AH:
        trace_dbnic_ah(a, b, c);
        break;
    case DBNIC_TR_GID:
        trace_dbnic_gid(a, b, c);
        break;
    case DBNIC_TR_DB_QP_RQ:
        trace_dbnic_db_qp_rq(a, b, c);
        break;
    case DBNIC_TR_ROCE_TX:
        trace_dbnic_roce_tx(a, b, c & 0xffffff, c >> 32);
        break;
    case DBNIC_TR_ROCE_RX:
        trace_dbnic_roce_rx(a, b, c & 0xffffff, c >> 32);
        break;
    case DBNIC_TR_ROCE_DROP:
        trace_dbnic_roce_drop(a, b, c);
        break;
    case DBNIC_TR_ROCE_RETRY:
        trace_dbnic_roce_retry(a, b, c);
        break;
    case DBNIC_TR_ROCE_FAULT: {
        static const char *const kind[] = {
            [DBNIC_FAULT_DROP] = "drop", [DBNIC_FAULT_DUP] = "duplicate",
            [DBNIC_FAULT_REORDER] = "reorder", [DBNIC_FAULT_DELAY] = "delay",
            [DBNIC_FAULT_CORRUPT] = "corrupt",
            [DBNIC_FAULT_HOLD_FULL] = "none (hold full)",
        };

        trace_dbnic_roce_fault(a == DBNIC_FAULT_TX ? "tx" : "rx",
                               b < ARRAY_SIZE(kind) ? kind[b] : "?", c);
        break;
    }
    }
}

static const struct dbnic_core_ops dbnic_core_ops = {
    .dma_read = dbnic_dma_read,
    .dma_write = dbnic_dma_write,
    .irq = dbnic_irq,
    .eth_tx = dbnic_eth_tx,
    .eth_rx_ready = dbnic_eth_rx_ready,
    .eth_reset = dbnic_eth_port_reset,
    .clock_ns = dbnic_clock_ns,
    .schedule = dbnic_schedule,
    .timer_mod = dbnic_timer_mod,
    .map = dbnic_map,
    .unmap = dbnic_unmap,
    .trace = dbnic_trace,
};

/* ---- locking and the engine ----------------------------------------- */

/*
 * For MMIO handlers and other callers outside the engine: announce the
 * wait, so that the engine hands the lock over after its current piece.
 */
static void dbnic_lock(DbnicState *s)
{
    qatomic_inc(&s->lock_waiters);
    qemu_mutex_lock(&s->lock);
    qatomic_dec(&s->lock_waiters);
    qatomic_inc(&s->lock_handoffs);
}

/* Release s->lock and send what the core raised.  The BQL is held. */
static void dbnic_unlock(DbnicState *s)
{
    qemu_mutex_unlock(&s->lock);
    dbnic_irq_send(s);
}

/*
 * Upper bound of one hand-off wait, in polls: a vCPU that is about to take
 * the lock takes it within a few; a guest that keeps a waiter there all
 * the time must not stop the engine.
 */
#define DBNIC_HANDOFF_POLLS 1000

/*
 * Runs of the core one BH may make in the iothread while nobody waits for
 * s->lock: 16 pieces of 64 KiB.  Each return to aio_poll() costs a system
 * call, as much as copying a piece; after this many the BH returns anyway,
 * so that the iothread's timers and other BHs are not held up.
 */
#define DBNIC_RUNS_PER_BH 16

/*
 * Engine runs: each moves at most one 64 KiB piece of payload
 * (cfg.run_bytes) and ends with s->lock released.  In the main loop, one
 * run per BH (the main loop goes round between two runs, the vCPUs get
 * the BQL).  In the iothread, runs follow each other in this BH while
 * the core asks for more and nobody waits for the lock; a waiter gets it
 * handed over, and the rest follows in the next BH (the core scheduled it).
 */
static void dbnic_bh(void *opaque)
{
    DbnicState *s = opaque;
    bool in_iothread = s->iothread != NULL;
    unsigned handoffs, runs = 0;
    bool more;

    for (;;) {
        qemu_mutex_lock(&s->lock);
        if (qatomic_xchg(&s->timer_due, false)) {
            dbnic_core_timer(&s->core);
        }
        dbnic_core_run(&s->core);
        /* Under the timing model the timer brings the next run. */
        more = s->core.run_asked && !dbnic_core_timed(&s->core);
        handoffs = qatomic_read(&s->lock_handoffs); /* none can pass here */
        qemu_mutex_unlock(&s->lock);

        if (!in_iothread) {
            /* Main loop: the BQL is held and the BH is guarded. */
            dbnic_irq_send(s);
            return;
        }
        if (dbnic_irq_waiting(s)) {
            qemu_bh_schedule(s->irq_bh);
        }
        if (!more || qatomic_read(&s->lock_waiters) ||
            ++runs == DBNIC_RUNS_PER_BH) {
            break;
        }
        /*
         * The core scheduled this BH for its next run, which follows
         * here instead; anything scheduled after this is done by the
         * run too, or by the next BH.
         */
        qemu_bh_cancel(s->bh);
    }
    /*
     * Until one waiter got the lock: a vCPU that stores to the BARs again
     * and again keeps lock_waiters up, and waiting for all of them would
     * spin the engine's thread in sched_yield() instead of copying.
     */
    for (unsigned i = 0; i < DBNIC_HANDOFF_POLLS &&
         qatomic_read(&s->lock_waiters) &&
         qatomic_read(&s->lock_handoffs) == handoffs; i++) {
        sched_yield();
    }
}

/*
 * The timer.  In the main loop it runs the core itself, under the
 * re-entrancy guard the BH would have set: under the timing model the
 * timer alone drives the engine, and with -icount QEMU runs virtual-clock
 * timers at the exact instruction count where they fall due, while a BH
 * runs whenever the main loop gets to it, so only this keeps completion
 * times deterministic (datasheet 9.2).  In the iothread it leaves the
 * work to the BH (the timing model works there too, but is exact only in
 * the main loop: the launcher's --timing picks it).
 */
static void dbnic_prio_timer(void *opaque)
{
    DbnicState *s = opaque;
    MemReentrancyGuard *guard = &DEVICE(s)->mem_reentrancy_guard;

    if (s->iothread || guard->engaged_in_io) {
        qatomic_set(&s->timer_due, true);
        qemu_bh_schedule(s->bh);
        return;
    }
    guard->engaged_in_io = true;
    qemu_mutex_lock(&s->lock);
    dbnic_core_timer(&s->core);
    dbnic_core_run(&s->core);
    qemu_mutex_unlock(&s->lock);
    dbnic_irq_send(s);
    guard->engaged_in_io = false;
}

/* ---- BARs ---------------------------------------------------------- */

static uint64_t dbnic_ctrl_read(void *opaque, hwaddr addr, unsigned size)
{
    DbnicState *s = opaque;
    uint64_t val;

    dbnic_lock(s);
    val = dbnic_core_ctrl_read(&s->core, addr, size);
    dbnic_unlock(s);
    trace_dbnic_ctrl_read(addr, size, val);
    return val;
}

static void dbnic_ctrl_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    DbnicState *s = opaque;

    dbnic_lock(s);
    dbnic_core_ctrl_write(&s->core, addr, val, size);
    dbnic_unlock(s);
}

/* As BAR 2: the core ignores what the datasheet does not allow. */
static const MemoryRegionOps dbnic_ctrl_ops = {
    .read = dbnic_ctrl_read,
    .write = dbnic_ctrl_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8,
               .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8,
              .unaligned = true },
};

static uint64_t dbnic_db_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0;
}

static void dbnic_db_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    DbnicState *s = opaque;

    dbnic_lock(s);
    dbnic_core_db_write(&s->core, addr, val, size);
    dbnic_unlock(s);
}

/*
 * Every access reaches the core as it was made, whatever its size and
 * alignment: a guest's write-combined 64-byte copy arrives as eight 8-byte
 * writes, which is what the priority-slot assembly expects, and the
 * 1-, 2-byte and unaligned writes the datasheet forbids reach the core
 * too, so that it can count them in DB_BAD instead of QEMU dropping them.
 */
static const MemoryRegionOps dbnic_db_ops = {
    .read = dbnic_db_read,
    .write = dbnic_db_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8,
               .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8,
              .unaligned = true },
};

/* ---- the network port (datasheet 10) -------------------------------- */

static void dbnic_tx_frag_free(void *opaque, void *base, size_t len)
{
    /* The fragment is a DbnicTxFrame's data: freed with the frame. */
}

/*
 * QEMU's TCP segmentation clears FIN and PSH on every segment; a TSO
 * frame that carries them gets them back on its last segment here
 * (datasheet 10.2), with the checksum updated for the changed word.
 */
typedef struct DbnicTsoSend {
    NetClientState *nc;
    bool offload;       /* the peer takes virtio-net headers: virt_iov */
    bool queued;        /* the backend could not take a packet now */
    size_t left;        /* TCP payload bytes still to go */
    uint8_t flags;      /* FIN and PSH of the frame, 0: leave as is */
} DbnicTsoSend;

#define DBNIC_TCP_FIN   0x01
#define DBNIC_TCP_PSH   0x08

/*
 * A packet the backend cannot take now waits in its queue, never dropped
 * (a sent callback lifts QEMU's queue limit), and the port stops until
 * it has gone: back-pressure, as virtio-net's TX does (datasheet 10.2).
 */
static void dbnic_tx_sent(NetClientState *nc, ssize_t len)
{
    DbnicState *s = qemu_get_nic_opaque(nc);

    trace_dbnic_eth_tx_sent();
    s->tx_wait = false;
    qemu_bh_schedule(s->tx_bh);
}

/* FIN and PSH back on the last segment, the TCP checksum updated. */
static void dbnic_tso_fin_psh_fix(DbnicTsoSend *t, const struct iovec *iov,
                                  int iovcnt)
{
    size_t payload = 0;

    /* iov: L2 header, L3 header, TCP header, then the segment's payload. */
    for (int i = 3; i < iovcnt; i++) {
        payload += iov[i].iov_len;
    }
    t->left -= MIN(payload, t->left);
    if (!t->left && iovcnt >= 3 && iov[2].iov_len >= 20) {
        uint8_t *th = iov[2].iov_base;
        uint16_t old = th[12] << 8 | th[13], new = old | t->flags;
        uint32_t sum = (uint16_t)~(th[16] << 8 | th[17]) +
                       (uint16_t)~old + new;

        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        th[13] = new;
        th[16] = ~sum >> 8;
        th[17] = ~sum;
    }
}

/* net_tx_pkt's sender: each packet (segment) of the frame. */
static void dbnic_tx_out(void *opaque, const struct iovec *iov, int iovcnt,
                         const struct iovec *virt_iov, int virt_iovcnt)
{
    DbnicTsoSend *t = opaque;
    ssize_t r;

    if (t->offload) {
        r = qemu_sendv_packet_async(t->nc, virt_iov, virt_iovcnt,
                                    dbnic_tx_sent);
    } else {
        if (t->flags) {
            dbnic_tso_fin_psh_fix(t, iov, iovcnt);
        }
        r = qemu_sendv_packet_async(t->nc, iov, iovcnt, dbnic_tx_sent);
    }
    if (!r) {
        t->queued = true;
    }
}

/*
 * The frame's L4 protocol, by QEMU's parser (eth_get_protocols), and the
 * offsets of its L4 header and payload.  ETH_L4_HDR_PROTO_INVALID for a
 * fragment or a cut L4 header.
 */
static EthL4HdrProto dbnic_frame_l4(const DbnicTxFrame *f, size_t *l4,
                                    size_t *l5)
{
    struct iovec iov = { (void *)f->data, f->len };
    bool ip4, ip6;
    size_t l3;
    eth_ip6_hdr_info i6;
    eth_ip4_hdr_info i4;
    eth_l4_hdr_info l4i;

    eth_get_protocols(&iov, 1, 0, &ip4, &ip6, &l3, l4, l5, &i6, &i4, &l4i);
    return l4i.proto;
}

/* Does the TSO frame carry FIN or PSH?  Then t says what to restore. */
static bool dbnic_tso_fin_psh(const DbnicTxFrame *f, DbnicTsoSend *t)
{
    size_t l4, l5;

    if (dbnic_frame_l4(f, &l4, &l5) != ETH_L4_HDR_PROTO_TCP ||
        l5 > f->len || l4 + 14 > l5 ||
        !(f->data[l4 + 13] & (DBNIC_TCP_FIN | DBNIC_TCP_PSH))) {
        return false;
    }
    t->left = f->len - l5;
    t->flags = f->data[l4 + 13] & (DBNIC_TCP_FIN | DBNIC_TCP_PSH);
    return true;
}

/*
 * A TSO frame with no TCP payload (a bare ACK or FIN) still leaves as
 * one frame (datasheet 10.2), where QEMU's segmentation sends nothing
 * for it: segmentation is turned off for it, the TCP checksum stays on,
 * and net_tx_pkt_update_ip_checksums() has given an IPv4 header its
 * length and checksum.  False: the frame has a TCP payload.
 */
static bool dbnic_tso_empty(struct NetTxPkt *pkt)
{
    struct virtio_net_hdr *vh = net_tx_pkt_get_vhdr(pkt);

    if (vh->hdr_len < net_tx_pkt_get_total_len(pkt)) {
        return false;
    }
    vh->gso_type = VIRTIO_NET_HDR_GSO_NONE;
    vh->gso_size = 0;
    vh->hdr_len = 0;
    return true;
}

/*
 * The IPv6 payload length of a TSO frame, as the frame is: segments get
 * their own, a frame that leaves whole (dbnic_tso_empty) keeps this one.
 * Before net_tx_pkt_parse(), which copies the headers.
 */
static void dbnic_tso_ip6_len(DbnicTxFrame *f)
{
    struct iovec iov = { f->data, f->len };
    size_t l2 = eth_get_l2_hdr_length(f->data);

    /* The core checked: TCP over IPv4 or IPv6, its headers whole. */
    if (f->len >= l2 + sizeof(struct ip6_header) &&
        eth_get_l3_proto(&iov, 1, l2) == ETH_P_IPV6) {
        stw_be_p(f->data + l2 + 4, f->len - l2 - sizeof(struct ip6_header));
    }
}

/*
 * A frame as given, with its VLAN tag if asked: no other offload.  True
 * if the backend queued it (dbnic_tx_sent follows).
 */
static bool dbnic_tx_send_raw(DbnicState *s, const DbnicTxFrame *f)
{
    NetClientState *nc = qemu_get_queue(s->nic);
    ssize_t r;

    if (f->off.flags & DBNIC_ETH_TX_F_VLAN) {
        uint8_t tag[4] = { ETH_P_VLAN >> 8, ETH_P_VLAN & 0xff,
                           f->off.vlan_tci >> 8, f->off.vlan_tci & 0xff };
        struct iovec iov[3] = {
            { (void *)f->data, 12 }, { tag, 4 },
            { (void *)(f->data + 12), f->len - 12 },
        };

        r = qemu_sendv_packet_async(nc, iov, 3, dbnic_tx_sent);
    } else {
        r = qemu_send_packet_async(nc, f->data, f->len, dbnic_tx_sent);
    }
    trace_dbnic_eth_send(f->len, f->off.flags, 0, true);
    return r == 0;
}

/*
 * Does CSUM apply (datasheet 10.2): a whole TCP or UDP datagram over
 * IPv4 or IPv6, its L4 header in the frame?  net_tx_pkt would also
 * "checksum" a fragment (a later one has no L4 header: it would write
 * into the payload) and an IPv4 EtherType over another IP version.
 */
static bool dbnic_csum_applies(const DbnicTxFrame *f)
{
    size_t l4, l5;
    EthL4HdrProto proto = dbnic_frame_l4(f, &l4, &l5);

    return proto == ETH_L4_HDR_PROTO_TCP || proto == ETH_L4_HDR_PROTO_UDP;
}

/*
 * Send one frame with its offloads, through QEMU's own packet helpers:
 * checksums, TSO segmentation (or the peer's, if it takes virtio-net
 * headers) and the VLAN tag.  The core has checked lengths and that a
 * TSO frame is TCP over IP; what net_tx_pkt still refuses is dropped.
 * True if the backend queued a packet of it: send no more until
 * dbnic_tx_sent().
 */
static bool dbnic_tx_send(DbnicState *s, DbnicTxFrame *f)
{
    struct NetTxPkt *pkt = s->tx_pkt;
    bool tso = f->off.flags & DBNIC_ETH_TX_F_TSO;
    bool csum = f->off.flags & DBNIC_ETH_TX_F_CSUM;
    bool ok, empty = false;
    DbnicTsoSend t = { 0 };

    /*
     * Nothing to offload: the frame leaves as given.  net_tx_pkt would
     * still rewrite an IPv6 payload length of 0.
     */
    if (!tso && !(csum && dbnic_csum_applies(f))) {
        return dbnic_tx_send_raw(s, f);
    }
    if (tso) {
        dbnic_tso_ip6_len(f);
    }
    ok = net_tx_pkt_add_raw_fragment(pkt, f->data, f->len) &&
         net_tx_pkt_parse(pkt);
    if (!ok && !tso) {
        /*
         * Headers net_tx_pkt cannot parse (a cut or odd IP header): no
         * checksum to offload, the frame leaves as given, tagged if asked.
         */
        net_tx_pkt_reset(pkt, dbnic_tx_frag_free, s);
        return dbnic_tx_send_raw(s, f);
    }
    if (ok && (f->off.flags & DBNIC_ETH_TX_F_VLAN)) {
        net_tx_pkt_setup_vlan_header_ex(pkt, f->off.vlan_tci, ETH_P_VLAN);
    }
    if (ok && tso) {
        ok = net_tx_pkt_build_vheader(pkt, true, true, f->off.mss);
        if (ok) {
            net_tx_pkt_update_ip_checksums(pkt);
            empty = dbnic_tso_empty(pkt);
        }
    } else if (ok && csum) {
        /*
         * Frames that are not TCP/UDP over IP need no checksum and leave
         * unchanged; so does one whose TCP or UDP header is cut short
         * (the call fails before it asks for a checksum).
         */
        net_tx_pkt_build_vheader(pkt, false, true, 0);
    }
    if (ok) {
        t.nc = qemu_get_queue(s->nic);
        /*
         * FIN or PSH to restore on the last segment: segment here, even
         * for a peer that would take the virtio-net header.
         */
        if (!(tso && !empty && dbnic_tso_fin_psh(f, &t))) {
            t.offload = qemu_get_vnet_hdr_len(t.nc->peer) != 0;
        }
        ok = net_tx_pkt_send_custom(pkt, t.offload, dbnic_tx_out, &t);
    }
    trace_dbnic_eth_send(f->len, f->off.flags, f->off.mss, ok);
    net_tx_pkt_reset(pkt, dbnic_tx_frag_free, s);
    return t.queued;
}

/*
 * The main loop hands what the engine took to the backend, in order,
 * until the backend queues one (it cannot take more now: the rest waits
 * for dbnic_tx_sent), then lets the engine go on.  With the link down
 * the frames are dropped and counted (datasheet 10.2).  The frames stay
 * in tx_q while they are sent: the engine only adds behind them, and a
 * reset, which empties tx_q, needs the BQL this holds.
 */
static void dbnic_tx_bh(void *opaque)
{
    DbnicState *s = opaque;
    NetClientState *nc = s->nic ? qemu_get_queue(s->nic) : NULL;
    bool down = !nc || nc->link_down || !nc->peer, queued = false;
    DbnicTxFrame *q[DBNIC_TX_BACKLOG];
    unsigned n, i;

    if (s->tx_wait && !down) {
        return;
    }
    dbnic_lock(s);
    n = s->tx_len;
    for (i = 0; i < n; i++) {
        q[i] = s->tx_q[(s->tx_head + i) % DBNIC_TX_BACKLOG];
    }
    dbnic_unlock(s);

    for (i = 0; i < n && !queued; i++) {
        if (!down) {
            queued = dbnic_tx_send(s, q[i]);
        }
        g_free(q[i]);
    }
    s->tx_wait = queued;
    trace_dbnic_eth_tx_bh(i, n - i, queued, down);

    dbnic_lock(s);
    s->tx_head = (s->tx_head + i) % DBNIC_TX_BACKLOG;
    s->tx_len -= i;
    if (down) {
        dbnic_core_eth_tx_dropped(&s->core, i);
    }
    if (i) {
        dbnic_core_eth_tx_resume(&s->core);
    }
    dbnic_unlock(s);
}

/*
 * What the core wants to know of a received frame, from net_rx_pkt's
 * parse: the checksum status and, with RSS on, the Toeplitz hash of the
 * frame's hash type if the host enabled it.
 */
static void dbnic_rx_meta(DbnicState *s, const uint8_t *buf, size_t size,
                          struct dbnic_eth_rx_meta *m)
{
    static const struct {
        bool ip4, ip6;
        EthL4HdrProto l4;
        uint8_t type;
        NetRxPktRssType rss;
    } map[] = {
        { true, false, ETH_L4_HDR_PROTO_TCP, DBNIC_RSS_HASH_TCP_IPV4,
          NetPktRssIpV4Tcp },
        { true, false, ETH_L4_HDR_PROTO_UDP, DBNIC_RSS_HASH_UDP_IPV4,
          NetPktRssIpV4Udp },
        { false, true, ETH_L4_HDR_PROTO_TCP, DBNIC_RSS_HASH_TCP_IPV6,
          NetPktRssIpV6Tcp },
        { false, true, ETH_L4_HDR_PROTO_UDP, DBNIC_RSS_HASH_UDP_IPV6,
          NetPktRssIpV6Udp },
    };
    struct NetRxPkt *pkt = s->rx_pkt;
    struct iovec iov = { (void *)buf, size };
    uint8_t key[DBNIC_RSS_KEY_SIZE];
    uint32_t types;
    bool ip4, ip6, valid, rss;
    EthL4HdrProto l4;
    uint8_t type = DBNIC_RSS_HASH_NONE;
    NetRxPktRssType rtype = NetPktRssIpV4;

    memset(m, 0, sizeof(*m));
    if (size < DBNIC_ETH_MIN_FRAME || size > DBNIC_ETH_MAX_FRAME) {
        return; /* the core drops it */
    }
    rss = dbnic_core_eth_rss(&s->core, key, &types);
    net_rx_pkt_set_packet_type(pkt, get_eth_packet_type(PKT_GET_ETH_HDR(buf)));
    net_rx_pkt_set_protocols(pkt, &iov, 1, 0);
    net_rx_pkt_attach_data(pkt, buf, size, false);
    net_rx_pkt_get_protocols(pkt, &ip4, &ip6, &l4);

    if (ip4 && net_rx_pkt_validate_l3_csum(pkt, &valid)) {
        m->rx_flags |= valid ? DBNIC_RX_IP_OK : DBNIC_RX_IP_BAD;
    }
    if ((l4 == ETH_L4_HDR_PROTO_TCP || l4 == ETH_L4_HDR_PROTO_UDP) &&
        net_rx_pkt_validate_l4_csum(pkt, &valid)) {
        m->rx_flags |= valid ? DBNIC_RX_L4_OK : DBNIC_RX_L4_BAD;
    }
    if (!rss || !(ip4 || ip6)) {
        return;
    }
    type = ip4 ? DBNIC_RSS_HASH_IPV4 : DBNIC_RSS_HASH_IPV6;
    rtype = ip4 ? NetPktRssIpV4 : NetPktRssIpV6;
    /* Ports only of a whole datagram: a fragment hashes addresses. */
    if (!(ip4 && net_rx_pkt_get_ip4_info(pkt)->fragment)) {
        for (unsigned i = 0; i < ARRAY_SIZE(map); i++) {
            if (map[i].ip4 == ip4 && map[i].ip6 == ip6 && map[i].l4 == l4 &&
                (types & (1u << map[i].type))) {
                type = map[i].type;
                rtype = map[i].rss;
            }
        }
    }
    if (types & (1u << type)) {
        m->hash_type = type;
        m->hash = net_rx_pkt_calc_rss_hash(pkt, rtype, key);
    }
}

static bool dbnic_can_receive(NetClientState *nc)
{
    DbnicState *s = qemu_get_nic_opaque(nc);

    return s->rx_state != DBNIC_RX_HELD;
}

/* Give a frame to the core; enum dbnic_eth_rx_result.  BQL held. */
static int dbnic_rx_deliver(DbnicState *s, const uint8_t *buf, size_t size)
{
    struct dbnic_eth_rx_meta meta;
    int r;

    dbnic_lock(s);
    dbnic_rx_meta(s, buf, size, &meta);
    r = dbnic_core_eth_rx(&s->core, buf, size, &meta);
    dbnic_unlock(s);
    return r;
}

/*
 * A frame from the network, in the main loop under the BQL.  One that
 * finds no buffer is kept, and the port holds the network (can_receive
 * false: QEMU queues what follows, in order) until buffers are posted or
 * DBNIC_ETH_RX_HOLD_NS have passed; after that it drops frames that find
 * no buffer until buffers come (datasheet 10.3).  The frame is kept here
 * rather than left to QEMU's queue (receive returning 0) because a hub
 * flushes its other ports' queues before the receiver's own, and the
 * held frame would arrive after those that followed it.
 */
static ssize_t dbnic_receive(NetClientState *nc, const uint8_t *buf,
                             size_t size)
{
    DbnicState *s = qemu_get_nic_opaque(nc);

    if (s->rx_state == DBNIC_RX_HELD) {
        return 0; /* not asked for (can_receive): QEMU keeps it queued */
    }
    if (dbnic_rx_deliver(s, buf, size) == DBNIC_ETH_RX_NOBUF &&
        s->rx_state == DBNIC_RX_TAKE) {
        /* NOBUF means the core took the frame's length as valid. */
        memcpy(s->rx_held, buf, size);
        s->rx_held_len = size;
        s->rx_state = DBNIC_RX_HELD;
        trace_dbnic_rx_hold(s->rx_state);
        timer_mod(s->rx_hold_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                                        DBNIC_ETH_RX_HOLD_NS);
    }
    /*
     * An empty frame (a stream or socket peer can send one) was counted
     * as a runt.  Its size, 0, would tell QEMU "not taken": it would
     * queue it, stop delivering to us (receive_disabled) and stall the
     * backend until a flush, which meets the same frame again.  -1 is
     * QEMU's "dropped".
     */
    return size ? (ssize_t)size : -1;
}

/*
 * The port takes frames again (datasheet 10.3).  Under s->lock, from a
 * reset: rx_bh flushes what QEMU queued, outside it (the flush calls
 * dbnic_receive, which takes s->lock).
 */
static void dbnic_rx_hold_end(DbnicState *s)
{
    s->rx_state = DBNIC_RX_TAKE;
    trace_dbnic_rx_hold(s->rx_state);
    timer_del(s->rx_hold_timer);
    s->rx_flush = true;
    qemu_bh_schedule(s->rx_bh);
}

/* Buffers came back: the held frame, then what QEMU queued. */
static void dbnic_rx_bh(void *opaque)
{
    DbnicState *s = opaque;

    if (s->rx_state == DBNIC_RX_TAKE && !s->rx_flush) {
        return;
    }
    if (s->rx_state == DBNIC_RX_HELD &&
        dbnic_rx_deliver(s, s->rx_held, s->rx_held_len) ==
            DBNIC_ETH_RX_NOBUF) {
        return; /* buffers of another RQ: still held, the timer runs */
    }
    s->rx_flush = false;
    if (s->rx_state != DBNIC_RX_TAKE) {
        s->rx_state = DBNIC_RX_TAKE;
        trace_dbnic_rx_hold(s->rx_state);
        timer_del(s->rx_hold_timer);
    }
    if (s->nic) {
        qemu_flush_queued_packets(qemu_get_queue(s->nic));
    }
}

/* Held too long: drop the held frame; what is queued, and what comes. */
static void dbnic_rx_hold_expired(void *opaque)
{
    DbnicState *s = opaque;

    if (s->rx_state != DBNIC_RX_HELD) {
        return;
    }
    s->rx_state = DBNIC_RX_DROP;
    trace_dbnic_rx_hold(s->rx_state);
    if (s->nic) {
        qemu_flush_queued_packets(qemu_get_queue(s->nic));
    }
}

/*
 * The link follows the backend: up when there is one and it is up.  A
 * deleted backend (netdev_del) stays our peer until the NIC goes, and
 * set_link on the NIC would clear link_down: peer_deleted keeps it down.
 */
static void dbnic_link_update(DbnicState *s)
{
    NetClientState *nc = qemu_get_queue(s->nic);
    bool up = nc->peer && !s->nic->peer_deleted && !nc->link_down;

    dbnic_lock(s);
    dbnic_core_eth_set_link(&s->core, up);
    dbnic_unlock(s);
    /* Down: what waits in tx_q is dropped (and counted) now. */
    if (s->tx_bh) {
        qemu_bh_schedule(s->tx_bh);
    }
    /*
     * While our link was down QEMU answered "0 bytes taken" for us to an
     * empty frame, queued it and stopped its backend until our queue is
     * flushed: nothing else would flush it.
     */
    if (up) {
        qemu_flush_queued_packets(nc);
    }
}

static void dbnic_link_status_changed(NetClientState *nc)
{
    dbnic_link_update(qemu_get_nic_opaque(nc));
}

static NetClientInfo dbnic_net_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = dbnic_can_receive,
    .receive = dbnic_receive,
    .link_status_changed = dbnic_link_status_changed,
};

/* ---- QOM ------------------------------------------------------------ */

/* The profile's figures, then those given one by one (datasheet 9.3). */
static bool dbnic_timing_config(DbnicState *s, Error **errp)
{
    struct dbnic_core_config *cfg = &s->cfg;

    if (dbnic_core_timing_profile(s->timing ? s->timing : "off", cfg)) {
        error_setg(errp, "dbnic: timing must be off or gen3x8 (got %s)",
                   s->timing);
        return false;
    }
    if (s->mmio_cost_ns != DBNIC_TIMING_UNSET) {
        cfg->db_latency_ns = s->mmio_cost_ns;
    }
    if (s->db_latency_ns != DBNIC_TIMING_UNSET) {
        cfg->db_latency_ns = s->db_latency_ns;
    }
    if (s->dma_latency_ns != DBNIC_TIMING_UNSET) {
        cfg->dma_latency_ns = s->dma_latency_ns;
    }
    if (s->desc_ns != DBNIC_TIMING_UNSET) {
        cfg->desc_ns = s->desc_ns;
    }
    if (s->byte_ps != DBNIC_TIMING_UNSET) {
        cfg->byte_ps = s->byte_ps;
    }
    return true;
}

static void dbnic_realize(PCIDevice *pdev, Error **errp)
{
    DbnicState *s = DBNIC(pdev);
    uint32_t db_pages = s->cfg.db_pages;

    /*
     * One 64 KiB piece per run: in its own thread the engine then gives
     * s->lock up, in the main loop the BQL (the main loop goes round
     * between two runs of the BH).
     */
    s->cfg.run_bytes = DBNIC_CHUNK_BYTES;
    s->dma_as = pci_get_address_space(pdev);
    if (!dbnic_timing_config(s, errp)) {
        return;
    }

    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    memcpy(s->cfg.mac, s->conf.macaddr.a, sizeof(s->cfg.mac));
    if (dbnic_core_init(&s->core, &s->cfg, &dbnic_core_ops, s)) {
        error_setg(errp, "dbnic: db-pages must be 1..256, max-sq 1..65535, "
                   "max-cq 1..32767, msix-vectors 1..255, max-mr 1..65535, "
                   "max-qp 1..%u, max-ah 1..%u, admin-delay-ms 0..%u "
                   "(got %u/%u/%u/%u/%u/%u/%u/%u)",
                   DBNIC_MAX_QP, DBNIC_MAX_AH, DBNIC_CORE_ADMIN_DELAY_MAX_MS,
                   db_pages, s->cfg.max_sq, s->cfg.max_cq,
                   s->cfg.msix_vectors, s->cfg.max_mr, s->cfg.max_qp,
                   s->cfg.max_ah, s->cfg.admin_delay_ms);
        return;
    }

    /* The setters checked every figure: this cannot fail. */
    dbnic_core_fault_config(&s->core, &s->fault);
    dbnic_core_fault_seed(&s->core, s->fault_seed);

    /* MSI-X only (datasheet section 1): no INTx pin. */
    pdev->config[PCI_INTERRUPT_PIN] = 0;

    memory_region_init_io(&s->ctrl_bar, OBJECT(s), &dbnic_ctrl_ops, s,
                          "dbnic-ctrl", DBNIC_CTRL_BAR_SIZE);
    pci_register_bar(pdev, DBNIC_BAR_CTRL,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->ctrl_bar);

    memory_region_init_io(&s->db_bar, OBJECT(s), &dbnic_db_ops, s,
                          "dbnic-doorbell", dbnic_core_db_bar_size(&s->core));
    pci_register_bar(pdev, DBNIC_BAR_DB,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &s->db_bar);

    memory_region_init(&s->msix_bar, OBJECT(s), "dbnic-msix",
                       DBNIC_MSIX_BAR_SIZE);
    pci_register_bar(pdev, DBNIC_BAR_MSIX,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->msix_bar);
    if (msix_init(pdev, s->cfg.msix_vectors,
                  &s->msix_bar, DBNIC_BAR_MSIX, DBNIC_MSIX_TABLE_OFFSET,
                  &s->msix_bar, DBNIC_BAR_MSIX, DBNIC_MSIX_PBA_OFFSET,
                  0, errp) < 0) {
        dbnic_core_free(&s->core);
        return;
    }
    for (unsigned i = 0; i < s->cfg.msix_vectors; i++) {
        msix_vector_use(pdev, i);
    }

    if (pcie_endpoint_cap_init(pdev, DBNIC_PCIE_CAP_OFFSET) < 0) {
        error_setg(errp, "dbnic: cannot add the PCIe capability");
        msix_uninit(pdev, &s->msix_bar, &s->msix_bar);
        dbnic_core_free(&s->core);
        return;
    }
    /*
     * AER, and the Device Control bits that let errors be reported: the
     * host's recovery (error_detected, slot reset, resume) can then be
     * exercised with pcie_aer_inject_error.
     */
    pcie_cap_deverr_init(pdev);
    if (pcie_aer_init(pdev, PCI_ERR_VER, DBNIC_AER_CAP_OFFSET,
                      PCI_ERR_SIZEOF, errp) < 0) {
        pcie_cap_exit(pdev);
        msix_uninit(pdev, &s->msix_bar, &s->msix_bar);
        dbnic_core_free(&s->core);
        return;
    }

    qemu_mutex_init(&s->lock);
    s->irq_bh = qemu_bh_new_guarded(dbnic_irq_bh, s,
                                    &DEVICE(pdev)->mem_reentrancy_guard);
    if (s->iothread) {
        /*
         * Not guarded: the guard is one flag per device, and the engine
         * holding it would make QEMU refuse the vCPUs' concurrent
         * doorbell writes as re-entrant.  Re-entry cannot happen from
         * the engine: its DMA reaches RAM only, its interrupts are sent
         * by irq_bh.
         */
        object_ref(OBJECT(s->iothread));
        s->ctx = iothread_get_aio_context(s->iothread);
        s->bh = aio_bh_new(s->ctx, dbnic_bh, s);
        s->prio_timer = aio_timer_new(s->ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                                      dbnic_prio_timer, s);
    } else {
        s->ctx = qemu_get_aio_context();
        s->bh = qemu_bh_new_guarded(dbnic_bh, s,
                                    &DEVICE(pdev)->mem_reentrancy_guard);
        s->prio_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, dbnic_prio_timer, s);
    }

    /* The port: a NIC on QEMU's network, with or without a backend. */
    net_tx_pkt_init(&s->tx_pkt, 1);
    net_rx_pkt_init(&s->rx_pkt);
    s->tx_bh = qemu_bh_new_guarded(dbnic_tx_bh, s,
                                   &DEVICE(pdev)->mem_reentrancy_guard);
    s->rx_bh = qemu_bh_new_guarded(dbnic_rx_bh, s,
                                   &DEVICE(pdev)->mem_reentrancy_guard);
    s->rx_hold_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, dbnic_rx_hold_expired,
                                    s);
    s->rx_held = g_malloc(DBNIC_ETH_MAX_FRAME);
    s->nic = qemu_new_nic(&dbnic_net_info, &s->conf,
                          object_get_typename(OBJECT(s)), DEVICE(pdev)->id,
                          &DEVICE(pdev)->mem_reentrancy_guard, s);
    qemu_format_nic_info_str(qemu_get_queue(s->nic), s->conf.macaddr.a);
    dbnic_link_update(s);
}

/* Runs in the engine's context: nothing of the engine runs after it. */
static void dbnic_engine_stop(void *opaque)
{
    DbnicState *s = opaque;

    timer_free(s->prio_timer);
    s->prio_timer = NULL;
    qemu_bh_delete(s->bh);
    s->bh = NULL;
}

static void dbnic_exit(PCIDevice *pdev)
{
    DbnicState *s = DBNIC(pdev);

    if (s->nic) {
        NICState *nic = s->nic;

        /* The engine reads s->nic under the lock (dbnic_eth_tx). */
        qemu_mutex_lock(&s->lock);
        s->nic = NULL;
        qemu_mutex_unlock(&s->lock);
        qemu_del_nic(nic);
    }
    if (s->iothread) {
        /* Waits for a run in progress there; the engine takes no BQL. */
        aio_wait_bh_oneshot(s->ctx, dbnic_engine_stop, s);
        object_unref(OBJECT(s->iothread));
    } else {
        dbnic_engine_stop(s);
    }
    qemu_bh_delete(s->irq_bh);
    /* The engine has stopped: nothing hands frames over any more. */
    qemu_bh_delete(s->tx_bh);
    qemu_bh_delete(s->rx_bh);
    timer_free(s->rx_hold_timer);
    while (s->tx_len) {
        g_free(s->tx_q[s->tx_head]);
        s->tx_head = (s->tx_head + 1) % DBNIC_TX_BACKLOG;
        s->tx_len--;
    }
    net_tx_pkt_uninit(s->tx_pkt);
    net_rx_pkt_uninit(s->rx_pkt);
    g_free(s->rx_held);
    qemu_mutex_destroy(&s->lock);
    pcie_aer_exit(pdev);
    pcie_cap_exit(pdev);
    msix_unuse_all_vectors(pdev);
    msix_uninit(pdev, &s->msix_bar, &s->msix_bar);
    dbnic_core_free(&s->core);
}

static void dbnic_reset_hold(Object *obj, ResetType type)
{
    DbnicState *s = DBNIC(obj);

    dbnic_lock(s);
    timer_del(s->prio_timer);
    s->timer_due = false;
    pcie_cap_deverr_reset(PCI_DEVICE(obj));
    dbnic_core_reset(&s->core);
    /* What the core raised before the reset is not sent after it. */
    memset(s->irq_pending, 0, sizeof(s->irq_pending));
    qemu_mutex_unlock(&s->lock);
    /* Queues are gone: nothing holds the network any more. */
    timer_del(s->rx_hold_timer);
    s->rx_state = DBNIC_RX_TAKE;
    if (s->nic) {
        qemu_flush_queued_packets(qemu_get_queue(s->nic));
    }
}

static const Property dbnic_properties[] = {
    DEFINE_NIC_PROPERTIES(DbnicState, conf),
    /* Run the engine in this IOThread, off the BQL; see the top. */
    DEFINE_PROP_LINK("iothread", DbnicState, iothread, TYPE_IOTHREAD,
                     IOThread *),
    DEFINE_PROP_UINT32("db-pages", DbnicState, cfg.db_pages, 64),
    DEFINE_PROP_UINT32("max-sq", DbnicState, cfg.max_sq, 256),
    DEFINE_PROP_UINT32("max-cq", DbnicState, cfg.max_cq, 256),
    DEFINE_PROP_UINT32("msix-vectors", DbnicState, cfg.msix_vectors, 8),
    DEFINE_PROP_UINT32("max-mr", DbnicState, cfg.max_mr, 1024),
    /* RDMA (datasheet 11): on by default, as the datasheet says. */
    DEFINE_PROP_BOOL("roce", DbnicState, cfg.roce, true),
    DEFINE_PROP_UINT32("max-qp", DbnicState, cfg.max_qp, 256),
    DEFINE_PROP_UINT32("max-ah", DbnicState, cfg.max_ah, 1024),
    /* PCIe timing model, off by default: datasheet 9.3, dbnic_core.h. */
    DEFINE_PROP_STRING("timing", DbnicState, timing),
    DEFINE_PROP_UINT32("db-latency-ns", DbnicState, db_latency_ns,
                       DBNIC_TIMING_UNSET),
    DEFINE_PROP_UINT32("mmio-cost-ns", DbnicState, mmio_cost_ns,
                       DBNIC_TIMING_UNSET),
    DEFINE_PROP_UINT32("dma-latency-ns", DbnicState, dma_latency_ns,
                       DBNIC_TIMING_UNSET),
    DEFINE_PROP_UINT32("desc-ns", DbnicState, desc_ns, DBNIC_TIMING_UNSET),
    DEFINE_PROP_UINT32("byte-ps", DbnicState, byte_ps, DBNIC_TIMING_UNSET),
    /* Small work on an idle engine runs in the MMIO write; 0: never. */
    DEFINE_PROP_UINT32("inline-bytes", DbnicState, cfg.inline_bytes,
                       DBNIC_CORE_INLINE_DEFAULT),
    /* Test-only: answer admin commands late; see dbnic_core.h. */
    DEFINE_PROP_UINT32("admin-delay-ms", DbnicState, cfg.admin_delay_ms, 0),
    DEFINE_PROP_UINT32("admin-delay-ops", DbnicState, cfg.admin_delay_ops,
                       UINT32_MAX),
};

/* ---- RoCE fault injection (datasheet 11.11) -------------------------- */

/*
 * The fault injector's figures are QOM properties of their own rather
 * than qdev ones: a qdev property refuses a set after realize, and these
 * are meant to change while the guest runs (QMP qom-set).  opaque names
 * the figure: dir < DBNIC_FAULT_DIRS a rate, else one of the times.
 */
typedef struct DbnicFaultProp {
    const char *name;
    int dir;                    /* enum dbnic_fault_dir, or -1: a time */
    int kind;                   /* enum dbnic_fault_kind; time: 0 delay */
    uint32_t def;
    const char *desc;
} DbnicFaultProp;

static const DbnicFaultProp dbnic_fault_props[] = {
#define DBNIC_FAULT_RATE(n, d, k, what) \
    { n, d, k, 0, "RoCE fault injection (datasheet 11.11): " what \
      ", in parts per million (0..1000000, 0: off)" }
    DBNIC_FAULT_RATE("roce-rx-drop", DBNIC_FAULT_RX, DBNIC_FAULT_DROP,
                     "received packets dropped"),
    DBNIC_FAULT_RATE("roce-rx-dup", DBNIC_FAULT_RX, DBNIC_FAULT_DUP,
                     "received packets duplicated"),
    DBNIC_FAULT_RATE("roce-rx-reorder", DBNIC_FAULT_RX, DBNIC_FAULT_REORDER,
                     "received packets held behind the next one"),
    DBNIC_FAULT_RATE("roce-rx-delay", DBNIC_FAULT_RX, DBNIC_FAULT_DELAY,
                     "received packets delayed by roce-fault-delay-us"),
    DBNIC_FAULT_RATE("roce-rx-corrupt", DBNIC_FAULT_RX, DBNIC_FAULT_CORRUPT,
                     "received packets damaged (dropped as bad ICRC/header)"),
    DBNIC_FAULT_RATE("roce-tx-drop", DBNIC_FAULT_TX, DBNIC_FAULT_DROP,
                     "sent packets dropped"),
    DBNIC_FAULT_RATE("roce-tx-dup", DBNIC_FAULT_TX, DBNIC_FAULT_DUP,
                     "sent packets duplicated"),
    DBNIC_FAULT_RATE("roce-tx-reorder", DBNIC_FAULT_TX, DBNIC_FAULT_REORDER,
                     "sent packets held behind the next one"),
    DBNIC_FAULT_RATE("roce-tx-delay", DBNIC_FAULT_TX, DBNIC_FAULT_DELAY,
                     "sent packets delayed by roce-fault-delay-us"),
    DBNIC_FAULT_RATE("roce-tx-corrupt", DBNIC_FAULT_TX, DBNIC_FAULT_CORRUPT,
                     "sent packets damaged (a bit flipped, or cut short)"),
#undef DBNIC_FAULT_RATE
    { "roce-fault-delay-us", -1, 0, 1000,
      "RoCE fault injection (datasheet 11.11): the delay of a delayed "
      "packet, in microseconds (0..1000000)" },
    { "roce-fault-reorder-us", -1, 1, 100,
      "RoCE fault injection (datasheet 11.11): the longest a reordered "
      "packet waits for the next one, in microseconds (0..1000000)" },
};

static uint32_t *dbnic_fault_field(DbnicState *s, const DbnicFaultProp *p)
{
    if (p->dir >= 0) {
        return &s->fault.rate[p->dir][p->kind];
    }
    return p->kind ? &s->fault.reorder_us : &s->fault.delay_us;
}

static void dbnic_fault_get(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    uint32_t val = *dbnic_fault_field(DBNIC(obj), opaque);

    visit_type_uint32(v, name, &val, errp);
}

/*
 * Before realize the figure is only kept (realize hands them all to the
 * core); after it the core takes it at once, under s->lock, so that a
 * QMP qom-set (main loop, BQL held) never races the engine's thread.
 */
static void dbnic_fault_set(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    DbnicState *s = DBNIC(obj);
    const DbnicFaultProp *p = opaque;
    uint32_t val, max = p->dir >= 0 ? DBNIC_FAULT_PPM : DBNIC_FAULT_US_MAX;

    if (!visit_type_uint32(v, name, &val, errp)) {
        return;
    }
    if (val > max) {
        error_setg(errp, "dbnic: %s must be 0..%u (got %u)", name, max, val);
        return;
    }
    *dbnic_fault_field(s, p) = val;
    if (DEVICE(s)->realized) {
        dbnic_lock(s);
        dbnic_core_fault_config(&s->core, &s->fault);
        dbnic_unlock(s);
    }
}

static void dbnic_fault_seed_get(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    visit_type_uint64(v, name, &DBNIC(obj)->fault_seed, errp);
}

/* Setting the seed, even to its value, restarts the generators (11.11). */
static void dbnic_fault_seed_set(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    DbnicState *s = DBNIC(obj);
    uint64_t val;

    if (!visit_type_uint64(v, name, &val, errp)) {
        return;
    }
    s->fault_seed = val;
    if (DEVICE(s)->realized) {
        dbnic_lock(s);
        dbnic_core_fault_seed(&s->core, val);
        dbnic_unlock(s);
    }
}

static void dbnic_fault_class_init(ObjectClass *klass)
{
    ObjectProperty *op;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(dbnic_fault_props); i++) {
        const DbnicFaultProp *p = &dbnic_fault_props[i];

        op = object_class_property_add(klass, p->name, "uint32",
                                       dbnic_fault_get, dbnic_fault_set,
                                       NULL, (void *)p);
        object_property_set_default_uint(op, p->def);
        object_class_property_set_description(klass, p->name, p->desc);
    }
    op = object_class_property_add(klass, "roce-fault-seed", "uint64",
                                   dbnic_fault_seed_get, dbnic_fault_seed_set,
                                   NULL, NULL);
    object_property_set_default_uint(op, 0);
    object_class_property_set_description(klass, "roce-fault-seed",
        "RoCE fault injection (datasheet 11.11): the generator's seed; "
        "setting it restarts the generators, so a run replays");
}

/*
 * Queue, slot and lane state is not migrated yet, nor the port's (RQs,
 * RSS, the TX backlog, the receive hold) nor the RDMA objects (QPs, AHs,
 * GIDs): refuse migration rather than lose in-flight descriptors and
 * frames silently.  The fault injector (11.11) needs nothing of its own
 * once the rest migrates: its figures are properties, which the
 * destination is started with (a run-time qom-set must be repeated
 * there), its generators' two 64-bit states would go in a subsection
 * for an exact replay, and its held packets may be dropped, as a
 * network may drop them.
 */
static const VMStateDescription dbnic_vmstate = {
    .name = "dbnic",
    .unmigratable = 1,
};

static void dbnic_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = dbnic_realize;
    k->exit = dbnic_exit;
    k->vendor_id = DBNIC_PCI_VENDOR_ID;
    k->device_id = DBNIC_PCI_DEVICE_ID;
    k->revision = DBNIC_PCI_REVISION;
    k->class_id = DBNIC_PCI_CLASS >> 8;
    rc->phases.hold = dbnic_reset_hold;

    dc->desc = "dbnic doorbell NIC / DMA engine";
    dc->vmsd = &dbnic_vmstate;
    device_class_set_props(dc, dbnic_properties);
    object_class_property_set_description(klass, "roce",
        "RDMA (datasheet 11): CAP_FEATURES.RDMA, the QP, AH and GID admin "
        "commands and the RoCE v2 transport on the port (on by default)");
    object_class_property_set_description(klass, "max-qp",
        "queue pairs, 1..4096 (CAP_QP)");
    object_class_property_set_description(klass, "max-ah",
        "address handles, 1..65535 (CAP_AH)");
    dbnic_fault_class_init(klass);
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
}

static const TypeInfo dbnic_info = {
    .name = TYPE_DBNIC,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(DbnicState),
    .class_init = dbnic_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void dbnic_register_types(void)
{
    type_register_static(&dbnic_info);
}

type_init(dbnic_register_types)
