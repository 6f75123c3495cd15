/*
 * x-remote-testdev: a PCI device for exercising transports without virtio
 * (register map in include/hw/misc/testdev.h and docs/testdev.md).
 *
 * All registers are guarded by ts->lock; BAR callbacks run on the
 * transport's connection thread and the DMA copy runs synchronously inside
 * the DMA_CMD write.  Lock order: ts->lock, then the PCI core's d->lock.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "hw/pci.h"
#include "hw/misc/testdev.h"

typedef struct TestDev {
    PCIDevice pci;

    /* properties */
    bool msi;
    bool msix;
    bool bar64;

    GMutex lock;
    uint32_t features;
    uint32_t scratch;
    uint32_t io_scratch;
    uint64_t dma_src;
    uint64_t dma_dst;
    uint32_t dma_len;
    uint32_t dma_status;
    uint32_t dma_count;
    uint32_t irq_status;
    uint8_t buf[TESTDEV_BUF_SIZE];
} TestDev;

/* Signals the interrupt state after it changed; @event is true when a new
 * interrupt condition arose (message-signalled interrupts are edges). */
static void testdev_update_irq_locked(TestDev *ts, bool event)
{
    PCIDevice *d = &ts->pci;

    if (ts->msix && msix_enabled(d)) {
        if (event) {
            msix_notify(d, 0);
        }
    } else if (ts->msi && msi_enabled(d)) {
        if (event) {
            msi_notify(d, 0);
        }
    } else {
        pci_set_irq(d, ts->irq_status != 0);
    }
}

static void testdev_set_irq_locked(TestDev *ts, uint32_t bits)
{
    bool event = bits & ~ts->irq_status;

    ts->irq_status |= bits;
    testdev_update_irq_locked(ts, event);
}

static uint32_t testdev_dma_copy_locked(TestDev *ts)
{
    g_autoptr(DMATable) table = NULL;
    g_autofree uint8_t *bounce = NULL;

    if (ts->dma_len > TESTDEV_DMA_MAX_LEN) {
        return TESTDEV_DMA_ERR_LEN;
    }
    if (!pci_bus_master_enabled(&ts->pci)) {
        return TESTDEV_DMA_ERR_NO_MASTER;
    }
    table = dma_space_acquire(pci_get_dma(&ts->pci));
    /* A bounce buffer makes overlapping source and destination safe. */
    bounce = g_malloc(MAX(ts->dma_len, 1u));
    if (!dma_table_read(table, ts->dma_src, bounce, ts->dma_len)) {
        return TESTDEV_DMA_ERR_SRC;
    }
    if (!dma_table_write(table, ts->dma_dst, bounce, ts->dma_len)) {
        return TESTDEV_DMA_ERR_DST;
    }
    return 0;
}

static void testdev_dma_start_locked(TestDev *ts, uint32_t cmd)
{
    uint32_t err = testdev_dma_copy_locked(ts);

    if (err) {
        qr_log_mask(LOG_GUEST_ERROR, "x-remote-testdev %s: DMA of 0x%x bytes "
                    "0x%" PRIx64 " -> 0x%" PRIx64 " failed (error %u)",
                    ts->pci.qdev.id, ts->dma_len, ts->dma_src, ts->dma_dst,
                    err);
        ts->dma_status = TESTDEV_DMA_ERROR | (err << TESTDEV_DMA_ERR_SHIFT);
    } else {
        ts->dma_status = TESTDEV_DMA_DONE;
        ts->dma_count++;
    }
    if (cmd & TESTDEV_DMA_CMD_IRQ) {
        testdev_set_irq_locked(ts, TESTDEV_IRQ_DMA);
    }
}

static uint32_t testdev_reg_read_locked(TestDev *ts, uint64_t reg)
{
    switch (reg) {
    case TESTDEV_REG_ID:
        return TESTDEV_MAGIC;
    case TESTDEV_REG_VERSION:
        return TESTDEV_VERSION;
    case TESTDEV_REG_SCRATCH:
        return ts->scratch;
    case TESTDEV_REG_FEATURES:
        return ts->features;
    case TESTDEV_REG_DMA_SRC_LO:
        return (uint32_t)ts->dma_src;
    case TESTDEV_REG_DMA_SRC_HI:
        return ts->dma_src >> 32;
    case TESTDEV_REG_DMA_DST_LO:
        return (uint32_t)ts->dma_dst;
    case TESTDEV_REG_DMA_DST_HI:
        return ts->dma_dst >> 32;
    case TESTDEV_REG_DMA_LEN:
        return ts->dma_len;
    case TESTDEV_REG_DMA_STATUS:
        return ts->dma_status;
    case TESTDEV_REG_DMA_COUNT:
        return ts->dma_count;
    case TESTDEV_REG_IRQ_STATUS:
        return ts->irq_status;
    default:
        return 0;
    }
}

static void set_lo(uint64_t *r, uint32_t v)
{
    *r = (*r & ~0xffffffffULL) | v;
}

static void set_hi(uint64_t *r, uint32_t v)
{
    *r = (*r & 0xffffffffULL) | ((uint64_t)v << 32);
}

/* @val holds the written bytes merged into the current register value;
 * @bits are only the written bytes (for command-like registers). */
static void testdev_reg_write_locked(TestDev *ts, uint64_t reg, uint32_t val,
                                     uint32_t bits)
{
    switch (reg) {
    case TESTDEV_REG_SCRATCH:
        ts->scratch = val;
        break;
    case TESTDEV_REG_DMA_SRC_LO:
        set_lo(&ts->dma_src, val);
        break;
    case TESTDEV_REG_DMA_SRC_HI:
        set_hi(&ts->dma_src, val);
        break;
    case TESTDEV_REG_DMA_DST_LO:
        set_lo(&ts->dma_dst, val);
        break;
    case TESTDEV_REG_DMA_DST_HI:
        set_hi(&ts->dma_dst, val);
        break;
    case TESTDEV_REG_DMA_LEN:
        ts->dma_len = val;
        break;
    case TESTDEV_REG_DMA_CMD:
        if (bits & TESTDEV_DMA_CMD_START) {
            testdev_dma_start_locked(ts, bits);
        }
        break;
    case TESTDEV_REG_DMA_STATUS:
        if (bits & (TESTDEV_DMA_DONE | TESTDEV_DMA_ERROR)) {
            ts->dma_status = 0;
        }
        break;
    case TESTDEV_REG_IRQ_RAISE:
        testdev_set_irq_locked(ts, bits & (TESTDEV_IRQ_SOFT |
                                           TESTDEV_IRQ_DMA));
        break;
    case TESTDEV_REG_IRQ_ACK:
        ts->irq_status &= ~bits;
        testdev_update_irq_locked(ts, false);
        break;
    default:
        qr_log_mask(LOG_GUEST_ERROR, "x-remote-testdev %s: write to "
                    "read-only or unassigned register 0x%" PRIx64,
                    ts->pci.qdev.id, reg);
        break;
    }
}

/*
 * Registers are 32 bits wide.  Narrower accesses address byte lanes of
 * one register; an 8-byte access covers two registers, low one first.
 */
static uint64_t testdev_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    TestDev *ts = opaque;
    uint64_t val = 0;

    g_mutex_lock(&ts->lock);
    if (offset >= TESTDEV_BUF_OFFSET &&
        offset - TESTDEV_BUF_OFFSET < TESTDEV_BUF_SIZE) {
        for (unsigned i = 0; i < size; i++) {
            val |= (uint64_t)ts->buf[offset - TESTDEV_BUF_OFFSET + i] << (8 * i);
        }
    } else if (size == 8) {
        val = testdev_reg_read_locked(ts, offset) |
              (uint64_t)testdev_reg_read_locked(ts, offset + 4) << 32;
    } else {
        unsigned shift = 8 * (offset & 3);

        val = testdev_reg_read_locked(ts, offset & ~3ULL) >> shift;
    }
    g_mutex_unlock(&ts->lock);
    return val;
}

static void testdev_mmio_write_reg_locked(TestDev *ts, uint64_t offset,
                                          uint32_t val, unsigned size)
{
    uint64_t reg = offset & ~3ULL;
    unsigned shift = 8 * (offset & 3);
    uint32_t lanes = (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1)
                     << shift;
    uint32_t bits = (val << shift) & lanes;
    uint32_t merged = (testdev_reg_read_locked(ts, reg) & ~lanes) | bits;

    testdev_reg_write_locked(ts, reg, merged, bits);
}

static void testdev_mmio_write(void *opaque, uint64_t offset, uint64_t value,
                               unsigned size)
{
    TestDev *ts = opaque;

    g_mutex_lock(&ts->lock);
    if (offset >= TESTDEV_BUF_OFFSET &&
        offset - TESTDEV_BUF_OFFSET < TESTDEV_BUF_SIZE) {
        for (unsigned i = 0; i < size; i++) {
            ts->buf[offset - TESTDEV_BUF_OFFSET + i] = value >> (8 * i);
        }
    } else if (size == 8) {
        testdev_mmio_write_reg_locked(ts, offset, (uint32_t)value, 4);
        testdev_mmio_write_reg_locked(ts, offset + 4, value >> 32, 4);
    } else {
        testdev_mmio_write_reg_locked(ts, offset, (uint32_t)value, size);
    }
    g_mutex_unlock(&ts->lock);
}

static const PCIBarOps testdev_mmio_ops = {
    .read = testdev_mmio_read,
    .write = testdev_mmio_write,
};

static uint32_t testdev_io_reg_locked(TestDev *ts, uint64_t reg)
{
    switch (reg) {
    case TESTDEV_IO_ID:
        return TESTDEV_MAGIC;
    case TESTDEV_IO_SCRATCH:
        return ts->io_scratch;
    case TESTDEV_IO_IRQ_STATUS:
        return ts->irq_status;
    default:
        return 0;
    }
}

static uint64_t testdev_io_read(void *opaque, uint64_t offset, unsigned size)
{
    TestDev *ts = opaque;
    uint64_t val;

    g_mutex_lock(&ts->lock);
    if (size == 8) {
        val = testdev_io_reg_locked(ts, offset) |
              (uint64_t)testdev_io_reg_locked(ts, offset + 4) << 32;
    } else {
        val = testdev_io_reg_locked(ts, offset & ~3ULL) >> (8 * (offset & 3));
    }
    g_mutex_unlock(&ts->lock);
    return val;
}

static void testdev_io_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size)
{
    TestDev *ts = opaque;
    unsigned shift = 8 * (offset & 3);
    uint32_t lanes;

    if (size == 8 || (offset & ~3ULL) != TESTDEV_IO_SCRATCH) {
        qr_log_mask(LOG_GUEST_ERROR, "x-remote-testdev %s: I/O write to "
                    "0x%" PRIx64 " size %u ignored", ts->pci.qdev.id, offset,
                    size);
        return;
    }
    lanes = (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << shift;
    g_mutex_lock(&ts->lock);
    ts->io_scratch = (ts->io_scratch & ~lanes) |
                     (((uint32_t)value << shift) & lanes);
    g_mutex_unlock(&ts->lock);
}

static const PCIBarOps testdev_io_ops = {
    .read = testdev_io_read,
    .write = testdev_io_write,
};

static bool testdev_realize(Device *dev, GError **errp)
{
    TestDev *ts = (TestDev *)dev;
    PCIDevice *d = &ts->pci;
    uint8_t mmio_type = PCI_BASE_ADDRESS_SPACE_MEMORY;
    int io_bar = 1;

    g_mutex_init(&ts->lock);
    pci_config_set_vendor_id(d, TESTDEV_VENDOR_ID);
    pci_config_set_device_id(d, TESTDEV_DEVICE_ID);
    pci_config_set_revision(d, TESTDEV_REVISION);
    pci_config_set_class(d, TESTDEV_CLASS);
    pci_config_set_subsystem(d, 0x1af4, 0x1100);

    if (ts->bar64) {
        mmio_type |= PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH;
        io_bar = 2;
    }
    if (!pci_register_bar(d, 0, mmio_type, TESTDEV_MMIO_SIZE,
                          &testdev_mmio_ops, ts, errp) ||
        !pci_register_bar(d, io_bar, PCI_BASE_ADDRESS_SPACE_IO,
                          TESTDEV_IO_SIZE, &testdev_io_ops, ts, errp) ||
        !pci_pm_init(d, errp)) {
        goto fail;
    }
    /* The transport may not deliver MSI/MSI-X (-ENOTSUP): run on INTx. */
    if (ts->msi) {
        int ret = msi_init(d, 1, errp);

        if (ret == -EINVAL) {
            goto fail;
        }
        ts->msi = ret == 0;
    }
    if (ts->msix) {
        int ret = msix_init_exclusive_bar(d, 1, TESTDEV_MSIX_BAR, errp);

        if (ret == -EINVAL) {
            goto fail;
        }
        ts->msix = ret == 0;
    }
    ts->features = (ts->msi ? TESTDEV_FEAT_MSI : 0) |
                   (ts->msix ? TESTDEV_FEAT_MSIX : 0) |
                   ((d->bars[0].type & PCI_BASE_ADDRESS_MEM_TYPE_64)
                    ? TESTDEV_FEAT_BAR64 : 0);
    return true;

fail:
    g_mutex_clear(&ts->lock);
    return false;
}

static void testdev_reset(Device *dev)
{
    TestDev *ts = (TestDev *)dev;

    g_mutex_lock(&ts->lock);
    ts->scratch = 0;
    ts->io_scratch = 0;
    ts->dma_src = 0;
    ts->dma_dst = 0;
    ts->dma_len = 0;
    ts->dma_status = 0;
    ts->dma_count = 0;
    ts->irq_status = 0;
    memset(ts->buf, 0, sizeof(ts->buf));
    g_mutex_unlock(&ts->lock);
}

static void testdev_unrealize(Device *dev)
{
    TestDev *ts = (TestDev *)dev;

    g_mutex_clear(&ts->lock);
}

static const DeviceProperty testdev_props[] = {
    { .name = "msi", .info = &prop_info_bool,
      .offset = offsetof(TestDev, msi), .defval = "on",
      .help = "offer an MSI capability (1 vector) when the transport can "
              "deliver MSI" },
    { .name = "msix", .info = &prop_info_bool,
      .offset = offsetof(TestDev, msix), .defval = "off",
      .help = "offer MSI-X (1 vector, table in BAR3) when the transport can "
              "deliver it" },
    { .name = "bar64", .info = &prop_info_bool,
      .offset = offsetof(TestDev, bar64), .defval = "off",
      .help = "declare BAR0 as 64-bit prefetchable (I/O moves to BAR2); "
              "over mpqemu it is downgraded to 32-bit" },
    { NULL }
};

/* Registers, DMA through the transport's mapped guest memory and
 * interrupts through the transport: nothing beyond the common base. */
static const SandboxRule testdev_sandbox_rules[] = {
    SANDBOX_RULES_END
};

static const SandboxPolicy testdev_sandbox_policy = {
    .name = "x-remote-testdev",
    .keeps = "no fds of its own",
    .rules = testdev_sandbox_rules,
};

const DeviceType testdev_type = {
    .name = "x-remote-testdev",
    .desc = "PCI test device: registers, scratch, DMA engine, interrupts",
    .bus = &pci_bus_info,
    .instance_size = sizeof(TestDev),
    .props = testdev_props,
    .realize = testdev_realize,
    .unrealize = testdev_unrealize,
    .reset = testdev_reset,
    .sandbox = &testdev_sandbox_policy,
};
