/*
 * PCI semantics through the real proxy: Debian's QEMU with
 * x-pci-proxy-dev, the device in qemu-remote (x-remote-testdev, register
 * map in include/hw/misc/testdev.h and docs/testdev.md).
 *
 * With QTEST_REMOTE=qemu the same stories run against QEMU's own remote
 * hosting lsi53c895a, which pins down what the proxy itself does; stories
 * that need our device or our remote's behaviour skip there.
 *
 * Stories that leave the device as they found it share one VMM + remote
 * pair; reset, two-device and exit stories start their own.
 */
#include "qemu-remote/osdep.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "hw/misc/testdev.h"

#include <sys/wait.h>

#define PCI_NUM_BARS            6

typedef struct DutBar {
    int bar;
    bool io;
    uint64_t size;
} DutBar;

/* The device under test and what the stories expect of it. */
typedef struct Dut {
    const char *type;
    uint16_t vendor, device;
    DutBar bars[3];             /* implemented BARs as the VMM sees them */
    unsigned nbars;
    int mmio_bar;               /* a memory BAR with ... */
    uint64_t mmio_scratch;      /* ... a 32-bit read/write register */
    uint64_t mmio_scratch8;     /* ... 8 read/write bytes */
    int io_bar;                 /* an I/O BAR with ... */
    uint64_t io_scratch;        /* ... a 32-bit read/write register */
    uint8_t cap_id;             /* a capability the list holds, 0: no list */
    uint16_t command_writable;  /* COMMAND bits that take a written 1 */
} Dut;

/* Our device.  Over mpqemu it has no MSI/MSI-X (the proxy cannot deliver
 * them) and BAR0 is 32-bit (the proxy maps only 32-bit BARs). */
static const Dut testdev_dut = {
    .type = "x-remote-testdev",
    .vendor = TESTDEV_VENDOR_ID, .device = TESTDEV_DEVICE_ID,
    .bars = { { 0, false, TESTDEV_MMIO_SIZE }, { 1, true, TESTDEV_IO_SIZE } },
    .nbars = 2,
    .mmio_bar = 0, .mmio_scratch = TESTDEV_REG_SCRATCH,
    .mmio_scratch8 = TESTDEV_BUF_OFFSET,
    .io_bar = 1, .io_scratch = TESTDEV_IO_SCRATCH,
    .cap_id = PCI_CAP_ID_PM,
    .command_writable = PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                        PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
                        PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
};

/* QEMU's LSI 53C895A: SCRATCHA (0x34) in both register BARs; SCRATCHB and
 * SCRATCHC (0x5c, 0x60) are adjacent, for 8-byte accesses. */
static const Dut lsi_dut = {
    .type = "lsi53c895a",
    .vendor = 0x1000, .device = 0x0012,
    .bars = { { 0, true, 256 }, { 1, false, 1024 }, { 2, false, 8192 } },
    .nbars = 3,
    .mmio_bar = 1, .mmio_scratch = 0x34, .mmio_scratch8 = 0x5c,
    .io_bar = 0, .io_scratch = 0x34,
    .cap_id = 0,
    /* QEMU's core leaves PARITY read-only. */
    .command_writable = PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                        PCI_COMMAND_MASTER | PCI_COMMAND_SERR |
                        PCI_COMMAND_INTX_DISABLE,
};

static const Dut *dut;
static bool ours;               /* the remote is our qemu-remote */
static char *skip_reason;       /* why nothing can run, or NULL */

/* The shared pair and the device on it. */
static QTestState *shared_qts;
static QPCIBus shared_bus;
static QPCIDevice shared_dev;
static QPCIBar shared_mmio, shared_io;

static char *device_args(const char *id)
{
    return g_strdup_printf("-device %s,id=%s", dut->type, id);
}

static QTestState *start_pair_opts(unsigned ndevices, const char *remote_args,
                                   bool running)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *a0 = device_args("d0");
    g_autofree char *a1 = device_args("d1");
    QTestOptions opts = {
        .remote = QTEST_REMOTE_DEFAULT,
        .remote_args = remote_args,
        .running = running,
        .devices = { { .id = "d0", .args = a0 } },
    };
    QTestState *qts;

    if (ndevices > 1) {
        opts.devices[1] = (QTestDeviceSpec){ .id = "d1", .args = a1 };
    }
    qts = qtest_start(&opts, &err);
    g_assert_no_error(err);
    return qts;
}

static QTestState *start_pair(unsigned ndevices, const char *remote_args)
{
    return start_pair_opts(ndevices, remote_args, false);
}

/* Finds the next device under test on bus 0 at or after @from_devfn, by
 * vendor/device ID, and checks it is the proxy of device @id. */
static void find_dut(QTestState *qts, QPCIBus *bus, const char *id,
                     int from_devfn, QPCIDevice *dev)
{
    g_assert_true(qpci_find_device(bus, dut->vendor, dut->device, from_devfn,
                                   dev));
    g_assert_cmpint(dev->devfn, ==, qtest_device_devfn(qts, id));
}

/* Maps the scratch BARs of @dev and enables decoding and bus mastering. */
static void map_dut(QPCIDevice *dev, QPCIBar *mmio, QPCIBar *io)
{
    *mmio = qpci_map_bar(dev, dut->mmio_bar);
    *io = qpci_map_bar(dev, dut->io_bar);
    qpci_enable(dev);
}

static bool shared_pair(void)
{
    if (skip_reason) {
        g_test_skip(skip_reason);
        return false;
    }
    if (!shared_qts) {
        shared_qts = start_pair(1, NULL);
        qpci_bus_init(&shared_bus, shared_qts);
        find_dut(shared_qts, &shared_bus, "d0", 0, &shared_dev);
        map_dut(&shared_dev, &shared_mmio, &shared_io);
    }
    return true;
}

static bool need_ours(const char *why)
{
    if (!ours) {
        g_test_skip(why);
        return false;
    }
    return true;
}

/* --- config space ----------------------------------------------------- */

static void test_config_ids_are_read_only(void)
{
    uint32_t id, class_rev;

    if (!shared_pair()) {
        return;
    }
    id = qpci_config_readl(&shared_dev, PCI_VENDOR_ID);
    class_rev = qpci_config_readl(&shared_dev, PCI_CLASS_REVISION);

    qpci_config_writel(&shared_dev, PCI_VENDOR_ID, 0xffffffff);
    qpci_config_writel(&shared_dev, PCI_CLASS_REVISION, 0xffffffff);

    g_assert_cmphex(id, ==, (uint32_t)dut->device << 16 | dut->vendor);
    g_assert_cmphex(qpci_config_readl(&shared_dev, PCI_VENDOR_ID), ==, id);
    g_assert_cmphex(qpci_config_readl(&shared_dev, PCI_CLASS_REVISION), ==,
                    class_rev);
}

static void test_config_command_writable_bits(void)
{
    uint16_t saved;

    if (!shared_pair()) {
        return;
    }
    saved = qpci_config_readw(&shared_dev, PCI_COMMAND);

    qpci_config_writew(&shared_dev, PCI_COMMAND, 0xffff);
    g_assert_cmphex(qpci_config_readw(&shared_dev, PCI_COMMAND), ==,
                    dut->command_writable);
    qpci_config_writew(&shared_dev, PCI_COMMAND, saved);

    g_assert_cmphex(qpci_config_readw(&shared_dev, PCI_COMMAND), ==, saved);
}

static void test_config_status_ones_written_set_nothing(void)
{
    /* Error bits are write-1-to-clear (writing 1 never sets them) and
     * CAP_LIST is read-only. */
    uint16_t before;

    if (!shared_pair()) {
        return;
    }
    before = qpci_config_readw(&shared_dev, PCI_STATUS);

    qpci_config_writew(&shared_dev, PCI_STATUS, 0xffff);

    g_assert_cmphex(before & 0xf900, ==, 0);
    g_assert_cmphex(qpci_config_readw(&shared_dev, PCI_STATUS), ==, before);
}

static void test_config_status_interrupt_survives_w1c_write(void)
{
    /* STATUS.INTERRUPT follows the device's line; it is read-only, so a
     * write of all-ones to STATUS (clearing the W1C bits) leaves it set. */
    if (!shared_pair() ||
        !need_ours("needs x-remote-testdev's IRQ_RAISE register")) {
        return;
    }
    qpci_io_writel(&shared_dev, &shared_mmio, TESTDEV_REG_IRQ_RAISE,
                   TESTDEV_IRQ_SOFT);

    qpci_config_writew(&shared_dev, PCI_STATUS, 0xffff);

    g_assert_cmphex(qpci_config_readw(&shared_dev, PCI_STATUS) &
                    PCI_STATUS_INTERRUPT, ==, PCI_STATUS_INTERRUPT);
    qpci_io_writel(&shared_dev, &shared_mmio, TESTDEV_REG_IRQ_ACK,
                   TESTDEV_IRQ_SOFT);
    g_assert_cmphex(qpci_config_readw(&shared_dev, PCI_STATUS) &
                    PCI_STATUS_INTERRUPT, ==, 0);
}

static const DutBar *expected_bar(int bar)
{
    for (unsigned i = 0; i < dut->nbars; i++) {
        if (dut->bars[i].bar == bar) {
            return &dut->bars[i];
        }
    }
    return NULL;
}

static void test_bar_sizing_every_bar(void)
{
    if (!shared_pair()) {
        return;
    }
    for (int bar = 0; bar < PCI_NUM_BARS; bar++) {
        const DutBar *want = expected_bar(bar);
        uint8_t reg = PCI_BASE_ADDRESS_0 + 4 * bar;
        uint32_t before = qpci_config_readl(&shared_dev, reg);
        QPCIBar got;

        qpci_bar_probe(&shared_dev, bar, &got);

        g_test_message("BAR%d: size 0x%" PRIx64 " %s", bar, got.size,
                       got.io ? "io" : "mem");
        g_assert_cmphex(got.size, ==, want ? want->size : 0);
        if (want) {
            g_assert_cmpint(got.io, ==, want->io);
        }
        /* Sizing restored the address the BAR had. */
        g_assert_cmphex(qpci_config_readl(&shared_dev, reg), ==, before);
    }
}

static void test_capability_walk_ends_and_finds_cap(void)
{
    uint16_t status;
    uint8_t off;
    unsigned n = 0;

    if (!shared_pair()) {
        return;
    }
    status = qpci_config_readw(&shared_dev, PCI_STATUS);
    if (!dut->cap_id) {
        g_assert_cmphex(status & PCI_STATUS_CAP_LIST, ==, 0);
        return;
    }
    g_assert_cmphex(status & PCI_STATUS_CAP_LIST, ==, PCI_STATUS_CAP_LIST);

    /* Every entry is dword-aligned, after the header, and the list ends
     * within the 48 entries 256 bytes can hold. */
    for (off = qpci_config_readb(&shared_dev, PCI_CAPABILITY_LIST);
         off && n < 48; off = qpci_config_readb(&shared_dev, off + 1), n++) {
        g_assert_cmphex(off & 3, ==, 0);
        g_assert_cmphex(off, >=, PCI_STD_HEADER_SIZEOF);
    }
    g_assert_cmphex(off, ==, 0);
    g_assert_cmphex(qpci_find_capability(&shared_dev, dut->cap_id, 0), !=, 0);
}

static void test_no_msi_capabilities_over_mpqemu(void)
{
    /* The proxy forwards no MSI/MSI-X: a device must not offer them. */
    if (!shared_pair()) {
        return;
    }
    g_assert_cmphex(qpci_find_capability(&shared_dev, PCI_CAP_ID_MSI, 0), ==, 0);
    g_assert_cmphex(qpci_find_capability(&shared_dev, PCI_CAP_ID_MSIX, 0), ==,
                    0);
}

static void test_interrupt_pin_is_inta(void)
{
    if (!shared_pair()) {
        return;
    }
    g_assert_cmphex(qpci_config_readb(&shared_dev, PCI_INTERRUPT_PIN), ==, 1);
}

static void test_cardbus_cis_and_rom_bar_read_zero(void)
{
    /* The proxy probes 0x28 as a 7th BAR and never maps a ROM, so both
     * must read 0, even after a sizing write. */
    if (!shared_pair()) {
        return;
    }
    qpci_config_writel(&shared_dev, PCI_CARDBUS_CIS, 0xffffffff);
    qpci_config_writel(&shared_dev, PCI_ROM_ADDRESS, 0xfffff800);

    g_assert_cmphex(qpci_config_readl(&shared_dev, PCI_CARDBUS_CIS), ==, 0);
    g_assert_cmphex(qpci_config_readl(&shared_dev, PCI_ROM_ADDRESS), ==, 0);
}

/* --- BAR accesses ----------------------------------------------------- */

static void check_access_sizes(const QPCIBar *bar, uint64_t reg)
{
    QPCIDevice *d = &shared_dev;

    qpci_io_writel(d, bar, reg, 0x11223344);
    g_assert_cmphex(qpci_io_readl(d, bar, reg), ==, 0x11223344);
    g_assert_cmphex(qpci_io_readw(d, bar, reg), ==, 0x3344);
    g_assert_cmphex(qpci_io_readw(d, bar, reg + 2), ==, 0x1122);
    g_assert_cmphex(qpci_io_readb(d, bar, reg), ==, 0x44);
    g_assert_cmphex(qpci_io_readb(d, bar, reg + 3), ==, 0x11);

    qpci_io_writeb(d, bar, reg + 1, 0xaa);
    g_assert_cmphex(qpci_io_readl(d, bar, reg), ==, 0x1122aa44);
    qpci_io_writew(d, bar, reg + 2, 0xbbcc);
    g_assert_cmphex(qpci_io_readl(d, bar, reg), ==, 0xbbccaa44);
    qpci_io_writel(d, bar, reg, 0);
    g_assert_cmphex(qpci_io_readl(d, bar, reg), ==, 0);
}

static void test_mmio_scratch_at_sizes_1_2_4(void)
{
    if (!shared_pair()) {
        return;
    }
    check_access_sizes(&shared_mmio, dut->mmio_scratch);
}

static void test_pio_scratch_at_sizes_1_2_4(void)
{
    if (!shared_pair()) {
        return;
    }
    check_access_sizes(&shared_io, dut->io_scratch);
}

static void test_mmio_8_byte_access_is_split(void)
{
    /* The proxy turns an 8-byte guest access into two 4-byte accesses,
     * low address first: both halves land and read back. */
    QPCIBar *b = &shared_mmio;
    uint64_t reg = dut->mmio_scratch8;

    if (!shared_pair()) {
        return;
    }
    qpci_io_writeq(&shared_dev, b, reg, 0x8877665544332211ULL);

    g_assert_cmphex(qpci_io_readq(&shared_dev, b, reg), ==,
                    0x8877665544332211ULL);
    g_assert_cmphex(qpci_io_readl(&shared_dev, b, reg), ==, 0x44332211);
    g_assert_cmphex(qpci_io_readl(&shared_dev, b, reg + 4), ==, 0x88776655);
    qpci_io_writeq(&shared_dev, b, reg, 0);
}

static void test_mmio_unaligned_access_is_split(void)
{
    /* The VMM's memory core splits a misaligned access into aligned
     * pieces (4 bytes at +2 become 2 + 2) before the proxy forwards them;
     * the bytes must land where the guest put them. */
    QPCIBar *b = &shared_mmio;
    uint64_t reg = dut->mmio_scratch8;

    if (!shared_pair()) {
        return;
    }
    qpci_io_writeq(&shared_dev, b, reg, 0);

    qpci_io_writel(&shared_dev, b, reg + 2, 0xa1b2c3d4);
    qpci_io_writew(&shared_dev, b, reg + 7, 0xeeff);

    g_assert_cmphex(qpci_io_readl(&shared_dev, b, reg), ==, 0xc3d40000);
    g_assert_cmphex(qpci_io_readl(&shared_dev, b, reg + 4), ==, 0xff00a1b2);
    g_assert_cmphex(qpci_io_readl(&shared_dev, b, reg + 2), ==, 0xa1b2c3d4);
    qpci_io_writeq(&shared_dev, b, reg, 0);
}

static void test_bar_moved_answers_at_new_address(void)
{
    uint8_t reg = PCI_BASE_ADDRESS_0 + 4 * dut->mmio_bar;
    QPCIBar old;

    if (!shared_pair()) {
        return;
    }
    old = shared_mmio;

    /* Reprogrammed while decoding is on: the remote must decode accesses
     * against the new base the VMM now forwards. */
    shared_mmio = qpci_map_bar(&shared_dev, dut->mmio_bar);
    qpci_io_writel(&shared_dev, &shared_mmio, dut->mmio_scratch, 0x600d);

    g_assert_cmphex(shared_mmio.addr, !=, old.addr);
    g_assert_cmphex(qpci_config_readl(&shared_dev, reg) &
                    PCI_BASE_ADDRESS_MEM_MASK, ==, shared_mmio.addr);
    g_assert_cmphex(qpci_io_readl(&shared_dev, &shared_mmio,
                                  dut->mmio_scratch), ==, 0x600d);
    qpci_io_writel(&shared_dev, &shared_mmio, dut->mmio_scratch, 0);
}

static void test_mmio_read_only_id_register(void)
{
    if (!shared_pair() || !need_ours("x-remote-testdev register")) {
        return;
    }
    qpci_io_writel(&shared_dev, &shared_mmio, TESTDEV_REG_ID, 0);

    g_assert_cmphex(qpci_io_readl(&shared_dev, &shared_mmio, TESTDEV_REG_ID),
                    ==, TESTDEV_MAGIC);
    g_assert_cmphex(qpci_io_readl(&shared_dev, &shared_io, TESTDEV_IO_ID),
                    ==, TESTDEV_MAGIC);
}

/* --- DMA engine (x-remote-testdev) ------------------------------------------ */

/* Starts a copy of @len bytes and returns DMA_STATUS (cleared after). */
static uint32_t dma_copy(uint64_t src, uint64_t dst, uint32_t len)
{
    QPCIBar *b = &shared_mmio;
    uint32_t st;

    qpci_io_writel(&shared_dev, b, TESTDEV_REG_DMA_SRC_LO, (uint32_t)src);
    qpci_io_writel(&shared_dev, b, TESTDEV_REG_DMA_SRC_HI, src >> 32);
    qpci_io_writel(&shared_dev, b, TESTDEV_REG_DMA_DST_LO, (uint32_t)dst);
    qpci_io_writel(&shared_dev, b, TESTDEV_REG_DMA_DST_HI, dst >> 32);
    qpci_io_writel(&shared_dev, b, TESTDEV_REG_DMA_LEN, len);
    qpci_io_writel(&shared_dev, b, TESTDEV_REG_DMA_CMD, TESTDEV_DMA_CMD_START);
    /* The copy completes inside the DMA_CMD write (docs/testdev.md). */
    st = qpci_io_readl(&shared_dev, b, TESTDEV_REG_DMA_STATUS);
    qpci_io_writel(&shared_dev, b, TESTDEV_REG_DMA_STATUS,
                   TESTDEV_DMA_DONE | TESTDEV_DMA_ERROR);
    return st;
}

static uint32_t dma_error(uint32_t code)
{
    return TESTDEV_DMA_ERROR | code << TESTDEV_DMA_ERR_SHIFT;
}

static bool dma_story(void)
{
    return shared_pair() && need_ours("x-remote-testdev DMA engine");
}

static void test_dma_copy_within_guest_ram(void)
{
    uint8_t pattern[4096], out[4096];
    uint64_t src, dst;

    if (!dma_story()) {
        return;
    }
    for (size_t i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 7 + 3;
    }
    src = qtest_guest_alloc(shared_qts, sizeof(pattern), 4096);
    dst = qtest_guest_alloc(shared_qts, sizeof(pattern), 4096);
    qtest_memwrite(shared_qts, src, pattern, sizeof(pattern));
    qtest_memset(shared_qts, dst, 0, sizeof(out));

    g_assert_cmphex(dma_copy(src, dst, sizeof(pattern)), ==, TESTDEV_DMA_DONE);

    qtest_memread(shared_qts, dst, out, sizeof(out));
    g_assert_cmpmem(out, sizeof(out), pattern, sizeof(pattern));
}

static void test_dma_source_beyond_ram_fails(void)
{
    uint64_t dst;

    if (!dma_story()) {
        return;
    }
    dst = qtest_guest_alloc(shared_qts, 64, 64);

    g_assert_cmphex(dma_copy(qtest_ram_size(shared_qts) + 0x100000, dst, 64),
                    ==, dma_error(TESTDEV_DMA_ERR_SRC));
}

static void test_dma_destination_straddling_ram_end_fails(void)
{
    uint64_t src, ram_end;

    if (!dma_story()) {
        return;
    }
    src = qtest_guest_alloc(shared_qts, 64, 64);
    ram_end = qtest_ram_size(shared_qts);

    /* 32 bytes inside RAM, 32 beyond it. */
    g_assert_cmphex(dma_copy(src, ram_end - 32, 64), ==,
                    dma_error(TESTDEV_DMA_ERR_DST));
}

static void test_dma_longer_than_max_len_fails(void)
{
    uint64_t buf;

    if (!dma_story()) {
        return;
    }
    buf = qtest_guest_alloc(shared_qts, 64, 64);

    g_assert_cmphex(dma_copy(buf, buf, TESTDEV_DMA_MAX_LEN + 1), ==,
                    dma_error(TESTDEV_DMA_ERR_LEN));
}

static void test_dma_without_bus_master_fails(void)
{
    uint64_t src, dst;
    uint16_t cmd;
    uint32_t st;

    if (!dma_story()) {
        return;
    }
    src = qtest_guest_alloc(shared_qts, 64, 64);
    dst = qtest_guest_alloc(shared_qts, 64, 64);
    qtest_memset(shared_qts, src, 0x5a, 64);
    qtest_memset(shared_qts, dst, 0, 64);
    cmd = qpci_config_readw(&shared_dev, PCI_COMMAND);
    qpci_config_writew(&shared_dev, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);

    st = dma_copy(src, dst, 64);

    qpci_config_writew(&shared_dev, PCI_COMMAND, cmd);
    g_assert_cmphex(st, ==, dma_error(TESTDEV_DMA_ERR_NO_MASTER));
    g_assert_cmphex(qtest_readl(shared_qts, dst), ==, 0);
}

/* --- stories with a pair of their own ---------------------------------- */

static void test_system_reset_restores_power_on_state(void)
{
    QTestState *qts;
    QPCIBus bus;
    QPCIDevice dev;
    QPCIBar mmio, io;

    if (skip_reason) {
        g_test_skip(skip_reason);
        return;
    }
    if (!need_ours("QEMU's remote does not reset config space on "
                   "DEVICE_RESET (mpqemu.md 3.5)")) {
        return;
    }
    qts = start_pair(1, NULL);
    qpci_bus_init(&bus, qts);
    find_dut(qts, &bus, "d0", 0, &dev);
    map_dut(&dev, &mmio, &io);
    qpci_io_writel(&dev, &mmio, TESTDEV_REG_SCRATCH, 0xcafe);
    qpci_io_writel(&dev, &io, TESTDEV_IO_SCRATCH, 0xbeef);

    qtest_system_reset(qts);

    g_assert_cmphex(qpci_config_readw(&dev, PCI_COMMAND), ==, 0);
    g_assert_cmphex(qpci_config_readl(&dev, PCI_BASE_ADDRESS_0), ==, 0);
    g_assert_cmphex(qpci_config_readl(&dev, PCI_BASE_ADDRESS_1), ==,
                    PCI_BASE_ADDRESS_SPACE_IO);
    map_dut(&dev, &mmio, &io);
    g_assert_cmphex(qpci_io_readl(&dev, &mmio, TESTDEV_REG_SCRATCH), ==, 0);
    g_assert_cmphex(qpci_io_readl(&dev, &io, TESTDEV_IO_SCRATCH), ==, 0);
    qtest_quit(qts);
}

static void test_two_devices_answer_independently(void)
{
    QTestState *qts;
    QPCIBus bus;
    QPCIDevice d0, d1;
    QPCIBar m0, i0, m1, i1;

    if (skip_reason) {
        g_test_skip(skip_reason);
        return;
    }
    qts = start_pair(2, NULL);
    qpci_bus_init(&bus, qts);
    find_dut(qts, &bus, "d0", 0, &d0);
    find_dut(qts, &bus, "d1", d0.devfn + 1, &d1);
    map_dut(&d0, &m0, &i0);
    map_dut(&d1, &m1, &i1);

    qpci_io_writel(&d0, &m0, dut->mmio_scratch, 0x0d0d0d0d);
    qpci_io_writel(&d1, &m1, dut->mmio_scratch, 0x1d1d1d1d);
    qpci_io_writel(&d1, &i1, dut->io_scratch, 0x1e1e1e1e);
    qpci_io_writel(&d0, &i0, dut->io_scratch, 0x0e0e0e0e);

    /* Ours hosts both in one process; QEMU's needs one per device. */
    g_assert_cmpuint(qtest_remote_count(qts), ==, ours ? 1 : 2);
    g_assert_cmphex(qpci_config_readw(&d1, PCI_VENDOR_ID), ==, dut->vendor);
    g_assert_cmphex(qpci_io_readl(&d1, &i1, dut->io_scratch), ==, 0x1e1e1e1e);
    g_assert_cmphex(qpci_io_readl(&d0, &i0, dut->io_scratch), ==, 0x0e0e0e0e);
    if (ours) {
        /* (LSI's scratch register is one register behind both BARs.) */
        g_assert_cmphex(qpci_io_readl(&d0, &m0, dut->mmio_scratch), ==,
                        0x0d0d0d0d);
        g_assert_cmphex(qpci_io_readl(&d1, &m1, dut->mmio_scratch), ==,
                        0x1d1d1d1d);
    }
    qtest_quit(qts);
}

static void test_device_answers_while_vm_runs(void)
{
    g_autoptr(JsonNode) reply = NULL;
    QTestState *qts;
    QPCIBus bus;
    QPCIDevice dev;
    QPCIBar mmio, io;
    JsonObject *ret;

    if (skip_reason) {
        g_test_skip(skip_reason);
        return;
    }
    /* The CPU runs a BIOS of hlt instructions and stops at once. */
    qts = start_pair_opts(1, NULL, true);
    qpci_bus_init(&bus, qts);
    find_dut(qts, &bus, "d0", 0, &dev);
    map_dut(&dev, &mmio, &io);

    qpci_io_writel(&dev, &mmio, dut->mmio_scratch, 0x5eed);
    reply = qtest_qmp(qts, "{\"execute\": \"query-status\"}");

    g_assert_nonnull(reply);
    ret = json_object_get_object_member(json_node_get_object(reply), "return");
    g_assert_cmpstr(json_object_get_string_member(ret, "status"), ==,
                    "running");
    g_assert_cmphex(qpci_io_readl(&dev, &mmio, dut->mmio_scratch), ==, 0x5eed);
    qtest_quit(qts);
}

static void test_remote_exits_cleanly_when_vmm_quits(void)
{
    g_autofree char *pidfile = NULL;
    g_autofree char *args = NULL;
    g_autofree char *err_text = NULL;
    QTestState *qts;
    int vmm_status, status;

    if (skip_reason) {
        g_test_skip(skip_reason);
        return;
    }
    pidfile = g_build_filename(g_get_tmp_dir(), "pci-test-remote-XXXXXX", NULL);
    close(g_mkstemp(pidfile));
    unlink(pidfile);
    args = g_strdup_printf("-pidfile %s", pidfile);
    qts = start_pair(1, args);
    g_assert_true(g_file_test(pidfile, G_FILE_TEST_EXISTS));

    g_assert_true(qtest_qmp_ok(qts, "{\"execute\": \"quit\"}"));

    g_assert_true(qtest_vmm_wait(qts, QTEST_TIMEOUT_MS, &vmm_status));
    g_assert_true(qtest_remote_wait(qts, 0, QTEST_TIMEOUT_MS, &status));
    err_text = qtest_remote_stderr(qts, 0);
    qtest_quit(qts);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_cmpstr(err_text, ==, "");
    g_assert_false(g_file_test(pidfile, G_FILE_TEST_EXISTS));
}

static void test_shared_pair_remote_exits_cleanly(void)
{
    g_autoptr(GError) err = NULL;
    bool clean;

    /* Last story: everything above ran on this remote; it must still end
     * with status 0 and no sanitizer report. */
    if (!shared_pair()) {
        return;
    }

    clean = qtest_shutdown_cleanly(shared_qts, &err);

    g_assert_no_error(err);
    g_assert_true(clean);
    qtest_quit(shared_qts);
    shared_qts = NULL;
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    ours = qtest_default_remote() == QTEST_REMOTE_OURS;
    dut = ours ? &testdev_dut : &lsi_dut;
    qtest_remote_has_device(QTEST_REMOTE_DEFAULT, dut->type, &skip_reason);

    g_test_add_func("/pci/config/ids-are-read-only",
                    test_config_ids_are_read_only);
    g_test_add_func("/pci/config/command-writable-bits",
                    test_config_command_writable_bits);
    g_test_add_func("/pci/config/status-ones-written-set-nothing",
                    test_config_status_ones_written_set_nothing);
    g_test_add_func("/pci/config/status-interrupt-survives-w1c-write",
                    test_config_status_interrupt_survives_w1c_write);
    g_test_add_func("/pci/config/bar-sizing-every-bar",
                    test_bar_sizing_every_bar);
    g_test_add_func("/pci/config/capability-walk-ends-and-finds-cap",
                    test_capability_walk_ends_and_finds_cap);
    g_test_add_func("/pci/config/no-msi-capabilities-over-mpqemu",
                    test_no_msi_capabilities_over_mpqemu);
    g_test_add_func("/pci/config/interrupt-pin-is-inta",
                    test_interrupt_pin_is_inta);
    g_test_add_func("/pci/config/cardbus-cis-and-rom-bar-read-zero",
                    test_cardbus_cis_and_rom_bar_read_zero);
    g_test_add_func("/pci/bar/mmio-scratch-at-sizes-1-2-4",
                    test_mmio_scratch_at_sizes_1_2_4);
    g_test_add_func("/pci/bar/pio-scratch-at-sizes-1-2-4",
                    test_pio_scratch_at_sizes_1_2_4);
    g_test_add_func("/pci/bar/mmio-8-byte-access-is-split",
                    test_mmio_8_byte_access_is_split);
    g_test_add_func("/pci/bar/mmio-unaligned-access-is-split",
                    test_mmio_unaligned_access_is_split);
    g_test_add_func("/pci/bar/moved-bar-answers-at-new-address",
                    test_bar_moved_answers_at_new_address);
    g_test_add_func("/pci/bar/mmio-read-only-id-register",
                    test_mmio_read_only_id_register);
    g_test_add_func("/pci/dma/copy-within-guest-ram",
                    test_dma_copy_within_guest_ram);
    g_test_add_func("/pci/dma/source-beyond-ram-fails",
                    test_dma_source_beyond_ram_fails);
    g_test_add_func("/pci/dma/destination-straddling-ram-end-fails",
                    test_dma_destination_straddling_ram_end_fails);
    g_test_add_func("/pci/dma/longer-than-max-len-fails",
                    test_dma_longer_than_max_len_fails);
    g_test_add_func("/pci/dma/without-bus-master-fails",
                    test_dma_without_bus_master_fails);
    g_test_add_func("/pci/reset/system-reset-restores-power-on-state",
                    test_system_reset_restores_power_on_state);
    g_test_add_func("/pci/remote/two-devices-answer-independently",
                    test_two_devices_answer_independently);
    g_test_add_func("/pci/remote/device-answers-while-vm-runs",
                    test_device_answers_while_vm_runs);
    g_test_add_func("/pci/remote/exits-cleanly-when-vmm-quits",
                    test_remote_exits_cleanly_when_vmm_quits);
    g_test_add_func("/pci/remote/shared-pair-remote-exits-cleanly",
                    test_shared_pair_remote_exits_cleanly);

    ret = g_test_run();
    qtest_quit(shared_qts);
    g_free(skip_reason);
    return ret;
}
