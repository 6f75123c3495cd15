/*
 * x-remote-testdev (hw/misc/testdev.c) on a fake transport: the register
 * map of docs/testdev.md, the DMA engine and its errors, interrupts.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "hw/pci.h"
#include "hw/misc/testdev.h"

#include <sys/mman.h>

const DeviceType *const device_types[] = { &testdev_type, NULL };

#define MMIO 0xfebf0000u
#define IO 0xc000u
#define RAM_SIZE 0x10000
/* Guest RAM: [0, RAM_SIZE) granted, nothing above. */

typedef struct Fixture {
    PCIDevice *d;
    int ram_fd;
    uint8_t *ram;
    bool level;
    unsigned msi;
} Fixture;

static void t_set_irq(void *opaque, bool level)
{
    ((Fixture *)opaque)->level = level;
}

static void t_notify(void *opaque, bool msix, unsigned vector)
{
    ((Fixture *)opaque)->msi++;
}

static const PCITransportOps intx_ops = { .set_irq = t_set_irq };
static const PCITransportOps msi_ops = {
    .set_irq = t_set_irq, .notify_vector = t_notify, .bar64 = true,
};

static void fixture_init(Fixture *fx, const PCITransportOps *ops,
                         const char *spec)
{
    g_autoptr(KeyValList) opts = keyval_parse(spec, "driver", NULL);
    DMARegionDesc r;
    Device *dev;

    dev = device_new(opts, NULL);
    g_assert_nonnull(dev);
    fx->d = PCI_DEVICE(dev);
    pci_device_set_transport(fx->d, ops, fx);
    g_assert_true(device_realize(dev, NULL));

    fx->ram_fd = memfd_create("testdev-ram", MFD_CLOEXEC);
    g_assert_cmpint(ftruncate(fx->ram_fd, RAM_SIZE), ==, 0);
    fx->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                   fx->ram_fd, 0);
    g_assert_true(fx->ram != MAP_FAILED);
    r = (DMARegionDesc) { .gpa = 0, .size = RAM_SIZE, .fd = fx->ram_fd };
    g_assert_true(dma_space_set_table(pci_get_dma(fx->d), &r, 1, NULL));

    g_assert_true(pci_config_write(fx->d, PCI_BASE_ADDRESS_0, MMIO, 4));
    g_assert_true(pci_config_write(fx->d, PCI_BASE_ADDRESS_1, IO, 4));
    g_assert_true(pci_config_write(fx->d, PCI_COMMAND, PCI_COMMAND_MEMORY |
                                   PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2));
}

static void fixture_cleanup(Fixture *fx)
{
    device_free(&fx->d->qdev);
    munmap(fx->ram, RAM_SIZE);
    close(fx->ram_fd);
}

static uint64_t mmio_read(Fixture *fx, uint32_t off, unsigned size)
{
    uint64_t v;

    g_assert_true(pci_bar_access_addr(fx->d, false, MMIO + off, size, false,
                                      &v));
    return v;
}

static void mmio_write(Fixture *fx, uint32_t off, uint64_t v, unsigned size)
{
    g_assert_true(pci_bar_access_addr(fx->d, false, MMIO + off, size, true,
                                      &v));
}

static void dma(Fixture *fx, uint64_t src, uint64_t dst, uint32_t len,
                uint32_t cmd)
{
    mmio_write(fx, TESTDEV_REG_DMA_SRC_LO, src, 8);     /* LO and HI */
    mmio_write(fx, TESTDEV_REG_DMA_DST_LO, dst, 8);
    mmio_write(fx, TESTDEV_REG_DMA_LEN, len, 4);
    mmio_write(fx, TESTDEV_REG_DMA_CMD, cmd, 4);
}

static void test_identity_registers(void)
{
    Fixture fx = { 0 };
    uint64_t io_id;

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");

    g_assert_true(pci_bar_access_addr(fx.d, true, IO + TESTDEV_IO_ID, 4,
                                      false, &io_id));
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_ID, 4), ==, TESTDEV_MAGIC);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_VERSION, 4), ==,
                    TESTDEV_VERSION);
    g_assert_cmphex(io_id, ==, TESTDEV_MAGIC);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_ID + 1, 1), ==, 'R');
    /* Over mpqemu-like transports: no MSI, BAR0 32-bit. */
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_FEATURES, 4), ==, 0);
    fixture_cleanup(&fx);
}

static void test_scratch_merges_partial_writes(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");
    mmio_write(&fx, TESTDEV_REG_SCRATCH, 0x11223344, 4);

    mmio_write(&fx, TESTDEV_REG_SCRATCH + 2, 0xaa, 1);

    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_SCRATCH, 4), ==, 0x11aa3344);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_SCRATCH + 2, 2), ==, 0x11aa);
    fixture_cleanup(&fx);
}

static void test_buffer_takes_every_width(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");

    mmio_write(&fx, TESTDEV_BUF_OFFSET, 0x0807060504030201ULL, 8);
    mmio_write(&fx, TESTDEV_BUF_OFFSET + 8, 0xbbaa, 2);

    g_assert_cmphex(mmio_read(&fx, TESTDEV_BUF_OFFSET + 4, 4), ==,
                    0x08070605);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_BUF_OFFSET + 9, 1), ==, 0xbb);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_BUF_OFFSET + TESTDEV_BUF_SIZE - 8,
                              8), ==, 0);
    fixture_cleanup(&fx);
}

static void test_dma_copies_within_guest_memory(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");
    memcpy(fx.ram + 0x1000, "payload", 8);

    dma(&fx, 0x1000, 0x8000, 8, TESTDEV_DMA_CMD_START);

    g_assert_cmpstr((char *)fx.ram + 0x8000, ==, "payload");
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_DMA_STATUS, 4), ==,
                    TESTDEV_DMA_DONE);
    g_assert_cmpuint(mmio_read(&fx, TESTDEV_REG_DMA_COUNT, 4), ==, 1);
    mmio_write(&fx, TESTDEV_REG_DMA_STATUS, TESTDEV_DMA_DONE, 4);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_DMA_STATUS, 4), ==, 0);
    fixture_cleanup(&fx);
}

static void test_dma_overlapping_copy_is_a_move(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");
    memcpy(fx.ram, "abcdef", 6);

    dma(&fx, 0, 2, 4, TESTDEV_DMA_CMD_START);

    g_assert_cmpmem(fx.ram, 6, "ababcd", 6);
    fixture_cleanup(&fx);
}

static void assert_dma_error(Fixture *fx, uint32_t code)
{
    g_assert_cmphex(mmio_read(fx, TESTDEV_REG_DMA_STATUS, 4), ==,
                    TESTDEV_DMA_ERROR | (code << TESTDEV_DMA_ERR_SHIFT));
    g_assert_cmpuint(mmio_read(fx, TESTDEV_REG_DMA_COUNT, 4), ==, 0);
}

static void test_dma_from_ungranted_memory_fails(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");

    dma(&fx, RAM_SIZE - 4, 0, 8, TESTDEV_DMA_CMD_START);

    assert_dma_error(&fx, TESTDEV_DMA_ERR_SRC);
    fixture_cleanup(&fx);
}

static void test_dma_to_ungranted_memory_fails(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");
    fx.ram[RAM_SIZE - 4] = 0x11;

    dma(&fx, 0, 0x100000000ULL, 8, TESTDEV_DMA_CMD_START);

    assert_dma_error(&fx, TESTDEV_DMA_ERR_DST);
    fixture_cleanup(&fx);
}

static void test_dma_without_bus_master_fails(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");
    memcpy(fx.ram, "x", 2);
    g_assert_true(pci_config_write(fx.d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2));

    dma(&fx, 0, 0x100, 2, TESTDEV_DMA_CMD_START);

    assert_dma_error(&fx, TESTDEV_DMA_ERR_NO_MASTER);
    g_assert_cmpint(fx.ram[0x100], ==, 0);
    fixture_cleanup(&fx);
}

static void test_dma_longer_than_limit_fails(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");

    dma(&fx, 0, 0x100, TESTDEV_DMA_MAX_LEN + 1, TESTDEV_DMA_CMD_START);

    assert_dma_error(&fx, TESTDEV_DMA_ERR_LEN);
    fixture_cleanup(&fx);
}

static void test_irq_raise_and_ack_drive_intx(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");

    mmio_write(&fx, TESTDEV_REG_IRQ_RAISE, TESTDEV_IRQ_SOFT, 4);
    g_assert_true(fx.level);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_IRQ_STATUS, 4), ==,
                    TESTDEV_IRQ_SOFT);

    mmio_write(&fx, TESTDEV_REG_IRQ_ACK, TESTDEV_IRQ_SOFT, 4);

    g_assert_false(fx.level);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_IRQ_STATUS, 4), ==, 0);
    fixture_cleanup(&fx);
}

static void test_dma_completion_raises_irq_when_asked(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");

    dma(&fx, 0, 0x100, 4, TESTDEV_DMA_CMD_START);
    g_assert_false(fx.level);
    dma(&fx, 0, 0x100, 4, TESTDEV_DMA_CMD_START | TESTDEV_DMA_CMD_IRQ);

    g_assert_true(fx.level);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_IRQ_STATUS, 4), ==,
                    TESTDEV_IRQ_DMA);
    fixture_cleanup(&fx);
}

static void test_msi_replaces_intx_when_enabled(void)
{
    Fixture fx = { 0 };
    uint8_t cap;

    fixture_init(&fx, &msi_ops, "x-remote-testdev,id=t0,msix=on");
    cap = pci_find_capability(fx.d, PCI_CAP_ID_MSI);
    g_assert_cmpuint(cap, !=, 0);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_FEATURES, 4), ==,
                    TESTDEV_FEAT_MSI | TESTDEV_FEAT_MSIX);
    g_assert_true(pci_config_write(fx.d, cap + PCI_MSI_FLAGS,
                                   PCI_MSI_FLAGS_ENABLE, 2));

    mmio_write(&fx, TESTDEV_REG_IRQ_RAISE, TESTDEV_IRQ_SOFT, 4);

    g_assert_cmpuint(fx.msi, ==, 1);
    g_assert_false(fx.level);
    fixture_cleanup(&fx);
}

static void test_bar64_property_declares_64bit_bar(void)
{
    Fixture fx = { 0 };
    uint32_t bar0;

    fixture_init(&fx, &msi_ops, "x-remote-testdev,id=t0,bar64=on,msi=off");
    /* BAR1 is BAR0's upper half here; the I/O BAR moved to BAR2. */
    g_assert_true(pci_config_write(fx.d, PCI_BASE_ADDRESS_1, 0, 4));
    g_assert_true(pci_config_read(fx.d, PCI_BASE_ADDRESS_0, 4, &bar0));

    g_assert_true(bar0 & PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert_cmpuint(fx.d->bars[2].size, ==, TESTDEV_IO_SIZE);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_FEATURES, 4), ==,
                    TESTDEV_FEAT_BAR64);
    fixture_cleanup(&fx);
}

static void test_reset_clears_registers(void)
{
    Fixture fx = { 0 };

    fixture_init(&fx, &intx_ops, "x-remote-testdev,id=t0");
    mmio_write(&fx, TESTDEV_REG_SCRATCH, 0x1234, 4);
    mmio_write(&fx, TESTDEV_BUF_OFFSET, 0xff, 1);
    mmio_write(&fx, TESTDEV_REG_IRQ_RAISE, TESTDEV_IRQ_SOFT, 4);

    pci_device_reset(fx.d);

    g_assert_false(fx.level);
    g_assert_true(pci_config_write(fx.d, PCI_BASE_ADDRESS_0, MMIO, 4));
    g_assert_true(pci_config_write(fx.d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2));
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_SCRATCH, 4), ==, 0);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_BUF_OFFSET, 1), ==, 0);
    g_assert_cmphex(mmio_read(&fx, TESTDEV_REG_IRQ_STATUS, 4), ==, 0);
    fixture_cleanup(&fx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/testdev/identity-registers", test_identity_registers);
    g_test_add_func("/testdev/scratch-merges-partial-writes",
                    test_scratch_merges_partial_writes);
    g_test_add_func("/testdev/buffer-takes-every-width",
                    test_buffer_takes_every_width);
    g_test_add_func("/testdev/dma-copies-within-guest-memory",
                    test_dma_copies_within_guest_memory);
    g_test_add_func("/testdev/dma-overlapping-copy-is-a-move",
                    test_dma_overlapping_copy_is_a_move);
    g_test_add_func("/testdev/dma-from-ungranted-memory-fails",
                    test_dma_from_ungranted_memory_fails);
    g_test_add_func("/testdev/dma-to-ungranted-memory-fails",
                    test_dma_to_ungranted_memory_fails);
    g_test_add_func("/testdev/dma-without-bus-master-fails",
                    test_dma_without_bus_master_fails);
    g_test_add_func("/testdev/dma-longer-than-limit-fails",
                    test_dma_longer_than_limit_fails);
    g_test_add_func("/testdev/irq-raise-and-ack-drive-intx",
                    test_irq_raise_and_ack_drive_intx);
    g_test_add_func("/testdev/dma-completion-raises-irq-when-asked",
                    test_dma_completion_raises_irq_when_asked);
    g_test_add_func("/testdev/msi-replaces-intx-when-enabled",
                    test_msi_replaces_intx_when_enabled);
    g_test_add_func("/testdev/bar64-property-declares-64bit-bar",
                    test_bar64_property_declares_64bit_bar);
    g_test_add_func("/testdev/reset-clears-registers",
                    test_reset_clears_registers);
    return g_test_run();
}
