/*
 * libqos PCI: config space, capabilities, BAR sizing and mapping.
 */
#include "qemu-remote/osdep.h"
#include "libqos/pci.h"

#define MMIO_WINDOW_START   0xe0000000ULL
#define MMIO_WINDOW_END     0xfec00000ULL   /* IOAPIC, HPET, LAPIC above */
#define PIO_WINDOW_START    0xc000u
#define PIO_WINDOW_END      0x10000u
/* 256 bytes of config space hold at most 48 dword-aligned capabilities
 * after the header: more hops than that means the list loops. */
#define MAX_CAPABILITIES    48

void qpci_bus_init(QPCIBus *bus, QTestState *qts)
{
    bus->qts = qts;
    bus->mmio_next = MMIO_WINDOW_START;
    bus->mmio_end = MMIO_WINDOW_END;
    bus->pio_next = PIO_WINDOW_START;
    bus->pio_end = PIO_WINDOW_END;
}

bool qpci_find_device(QPCIBus *bus, uint16_t vendor, uint16_t device,
                      int from_devfn, QPCIDevice *dev)
{
    int devfn = qtest_pci_find(bus->qts, vendor, device, from_devfn);

    if (devfn < 0) {
        return false;
    }
    qpci_device_at(bus, devfn, dev);
    return true;
}

void qpci_device_at(QPCIBus *bus, uint8_t devfn, QPCIDevice *dev)
{
    dev->bus = bus;
    dev->devfn = devfn;
}

uint8_t qpci_config_readb(QPCIDevice *dev, uint8_t offset)
{
    return qtest_pci_config_read(dev->bus->qts, dev->devfn, offset, 1);
}

uint16_t qpci_config_readw(QPCIDevice *dev, uint8_t offset)
{
    return qtest_pci_config_read(dev->bus->qts, dev->devfn, offset, 2);
}

uint32_t qpci_config_readl(QPCIDevice *dev, uint8_t offset)
{
    return qtest_pci_config_read(dev->bus->qts, dev->devfn, offset, 4);
}

void qpci_config_writeb(QPCIDevice *dev, uint8_t offset, uint8_t val)
{
    qtest_pci_config_write(dev->bus->qts, dev->devfn, offset, val, 1);
}

void qpci_config_writew(QPCIDevice *dev, uint8_t offset, uint16_t val)
{
    qtest_pci_config_write(dev->bus->qts, dev->devfn, offset, val, 2);
}

void qpci_config_writel(QPCIDevice *dev, uint8_t offset, uint32_t val)
{
    qtest_pci_config_write(dev->bus->qts, dev->devfn, offset, val, 4);
}

uint8_t qpci_find_capability(QPCIDevice *dev, uint8_t cap_id, uint8_t start)
{
    uint8_t off;

    if (!(qpci_config_readw(dev, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    off = start ? qpci_config_readb(dev, start + PCI_CAP_LIST_NEXT)
                : qpci_config_readb(dev, PCI_CAPABILITY_LIST);
    for (unsigned hops = 0; off && hops < MAX_CAPABILITIES; hops++) {
        off &= ~3;
        if (off < PCI_STD_HEADER_SIZEOF) {
            return 0;
        }
        if (qpci_config_readb(dev, off + PCI_CAP_LIST_ID) == cap_id) {
            return off;
        }
        off = qpci_config_readb(dev, off + PCI_CAP_LIST_NEXT);
    }
    return 0;
}

uint64_t qpci_bar_probe(QPCIDevice *dev, int bar, QPCIBar *info)
{
    uint8_t reg = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint16_t cmd = qpci_config_readw(dev, PCI_COMMAND);
    uint32_t orig_lo, mask_lo, orig_hi = 0, mask_hi = 0;
    QPCIBar b = { 0 };
    uint64_t mask;

    /* Sizing with decoding on would map the BAR at the all-ones address
     * in the VMM for a moment. */
    qpci_config_writew(dev, PCI_COMMAND,
                       cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    orig_lo = qpci_config_readl(dev, reg);
    qpci_config_writel(dev, reg, 0xffffffff);
    mask_lo = qpci_config_readl(dev, reg);
    qpci_config_writel(dev, reg, orig_lo);

    b.io = mask_lo & PCI_BASE_ADDRESS_SPACE_IO;
    if (!b.io && (mask_lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                 PCI_BASE_ADDRESS_MEM_TYPE_64 && bar < 5) {
        b.is64 = true;
        orig_hi = qpci_config_readl(dev, reg + 4);
        qpci_config_writel(dev, reg + 4, 0xffffffff);
        mask_hi = qpci_config_readl(dev, reg + 4);
        qpci_config_writel(dev, reg + 4, orig_hi);
    }
    qpci_config_writew(dev, PCI_COMMAND, cmd);

    if (b.io) {
        mask = mask_lo & PCI_BASE_ADDRESS_IO_MASK;
        /* Upper 16 bits of an I/O BAR may be hardwired to 0. */
        mask |= mask & 0x8000 ? 0xffffffffffff0000ULL : 0;
        mask |= 0xffffffff00000000ULL;
        b.addr = orig_lo & PCI_BASE_ADDRESS_IO_MASK;
    } else {
        b.prefetch = mask_lo & PCI_BASE_ADDRESS_MEM_PREFETCH;
        mask = (uint64_t)mask_hi << 32 | (mask_lo & PCI_BASE_ADDRESS_MEM_MASK);
        if (!b.is64) {
            mask |= 0xffffffff00000000ULL;
        }
        b.addr = (uint64_t)orig_hi << 32 | (orig_lo & PCI_BASE_ADDRESS_MEM_MASK);
    }
    b.size = (mask_lo == 0 || mask_lo == 0xffffffff) ? 0 : ~mask + 1;
    if (info) {
        *info = b;
    }
    return b.size;
}

QPCIBar qpci_map_bar(QPCIDevice *dev, int bar)
{
    uint8_t reg = PCI_BASE_ADDRESS_0 + 4 * bar;
    QPCIBus *bus = dev->bus;
    QPCIBar b;

    if (!qpci_bar_probe(dev, bar, &b)) {
        g_printerr("libqos: BAR%d of %02x.%x is not implemented\n", bar,
                   dev->devfn >> 3, dev->devfn & 7);
        if (g_test_initialized()) {
            g_test_fail();
        }
        return (QPCIBar){ 0 };
    }
    if (b.io) {
        uint32_t addr = QR_ALIGN_UP(bus->pio_next, (uint32_t)b.size);

        if (!range_fits(addr, b.size, bus->pio_end)) {
            g_printerr("libqos: I/O window exhausted\n");
            if (g_test_initialized()) {
                g_test_fail();
            }
            return (QPCIBar){ 0 };
        }
        bus->pio_next = addr + b.size;
        b.addr = addr;
        qpci_config_writel(dev, reg, addr);
    } else {
        uint64_t addr = QR_ALIGN_UP(bus->mmio_next, b.size);

        if (!range_fits(addr, b.size, bus->mmio_end)) {
            g_printerr("libqos: memory window exhausted\n");
            if (g_test_initialized()) {
                g_test_fail();
            }
            return (QPCIBar){ 0 };
        }
        bus->mmio_next = addr + b.size;
        b.addr = addr;
        qpci_config_writel(dev, reg, (uint32_t)addr);
        if (b.is64) {
            qpci_config_writel(dev, reg + 4, 0);
        }
    }
    return b;
}

void qpci_enable(QPCIDevice *dev)
{
    uint16_t cmd = qpci_config_readw(dev, PCI_COMMAND);

    qpci_config_writew(dev, PCI_COMMAND, cmd | PCI_COMMAND_IO |
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

uint8_t qpci_io_readb(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset)
{
    return bar->io ? qtest_inb(dev->bus->qts, bar->addr + offset)
                   : qtest_readb(dev->bus->qts, bar->addr + offset);
}

uint16_t qpci_io_readw(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset)
{
    return bar->io ? qtest_inw(dev->bus->qts, bar->addr + offset)
                   : qtest_readw(dev->bus->qts, bar->addr + offset);
}

uint32_t qpci_io_readl(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset)
{
    return bar->io ? qtest_inl(dev->bus->qts, bar->addr + offset)
                   : qtest_readl(dev->bus->qts, bar->addr + offset);
}

uint64_t qpci_io_readq(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset)
{
    if (bar->io) {
        uint64_t lo = qpci_io_readl(dev, bar, offset);

        return lo | (uint64_t)qpci_io_readl(dev, bar, offset + 4) << 32;
    }
    return qtest_readq(dev->bus->qts, bar->addr + offset);
}

void qpci_io_writeb(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset,
                    uint8_t val)
{
    if (bar->io) {
        qtest_outb(dev->bus->qts, bar->addr + offset, val);
    } else {
        qtest_writeb(dev->bus->qts, bar->addr + offset, val);
    }
}

void qpci_io_writew(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset,
                    uint16_t val)
{
    if (bar->io) {
        qtest_outw(dev->bus->qts, bar->addr + offset, val);
    } else {
        qtest_writew(dev->bus->qts, bar->addr + offset, val);
    }
}

void qpci_io_writel(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset,
                    uint32_t val)
{
    if (bar->io) {
        qtest_outl(dev->bus->qts, bar->addr + offset, val);
    } else {
        qtest_writel(dev->bus->qts, bar->addr + offset, val);
    }
}

void qpci_io_writeq(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset,
                    uint64_t val)
{
    if (bar->io) {
        qpci_io_writel(dev, bar, offset, (uint32_t)val);
        qpci_io_writel(dev, bar, offset + 4, val >> 32);
    } else {
        qtest_writeq(dev->bus->qts, bar->addr + offset, val);
    }
}
