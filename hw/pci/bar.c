/*
 * Base address registers: declaration, the all-ones sizing protocol, and
 * accesses by guest address or by BAR offset (see include/hw/pci.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "pci-internal.h"

/* PCI allows I/O BARs up to 256 bytes; x86 port space is 64 KiB.  We take
 * the port-space bound so a device may decode a larger window. */
#define PCI_IO_BAR_MAX      0x10000
/* A 32-bit memory BAR's size must leave room below 4 GiB for its address. */
#define PCI_MEM32_BAR_MAX   0x80000000ULL

static bool bar_is_io(const PCIBar *b)
{
    return b->type & PCI_BASE_ADDRESS_SPACE_IO;
}

static bool bar_is_64(const PCIBar *b)
{
    return !bar_is_io(b) && (b->type & PCI_BASE_ADDRESS_MEM_TYPE_64);
}

static uint32_t bar_reg(int bar)
{
    return PCI_BASE_ADDRESS_0 + 4 * bar;
}

/* BAR @bar holds the upper half of the 64-bit BAR below it. */
static bool bar_is_upper_half(const PCIDevice *d, int bar)
{
    return bar > 0 && d->bars[bar - 1].size && bar_is_64(&d->bars[bar - 1]);
}

bool pci_register_bar(PCIDevice *d, int bar, uint8_t type, uint64_t size,
                      const PCIBarOps *ops, void *opaque, GError **errp)
{
    bool io = type & PCI_BASE_ADDRESS_SPACE_IO;
    uint64_t min = io ? 4 : 16;
    uint64_t max;
    uint64_t mask;
    PCIBar *b;

    if (!io && d->transport && !d->transport->bar64 &&
        (type & (PCI_BASE_ADDRESS_MEM_TYPE_64 |
                 PCI_BASE_ADDRESS_MEM_PREFETCH))) {
        /* QEMU 7.2's proxy registers every memory BAR as 32-bit
         * non-prefetchable and mistakes the upper half of a 64-bit one
         * for an I/O BAR (mpqemu.md 2.1). */
        qr_log_mask(LOG_PCI, "pci: %s: BAR%d declared as 32-bit "
                    "non-prefetchable for this transport",
                    pci_dev_name(d), bar);
        type &= ~(PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
    }
    if (io) {
        type = PCI_BASE_ADDRESS_SPACE_IO;
        max = PCI_IO_BAR_MAX;
    } else {
        type &= PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH;
        max = (type & PCI_BASE_ADDRESS_MEM_TYPE_64) ? 1ULL << 63
                                                    : PCI_MEM32_BAR_MAX;
    }

    if (bar < 0 || bar >= PCI_NUM_BARS ||
        ((type & PCI_BASE_ADDRESS_MEM_TYPE_64) && bar == PCI_NUM_BARS - 1)) {
        error_setg(errp, "BAR %d does not exist", bar);
        return false;
    }
    if (d->bars[bar].size || bar_is_upper_half(d, bar) ||
        ((type & PCI_BASE_ADDRESS_MEM_TYPE_64) && d->bars[bar + 1].size)) {
        error_setg(errp, "BAR %d is already in use", bar);
        return false;
    }
    if (!QR_IS_POWER_OF_2(size) || size < min || size > max) {
        error_setg(errp, "BAR %d: size 0x%" PRIx64 " is not a power of two "
                   "between 0x%" PRIx64 " and 0x%" PRIx64, bar, size, min,
                   max);
        return false;
    }

    b = &d->bars[bar];
    b->size = size;
    b->type = type;
    b->ops = ops;
    b->opaque = opaque;

    /* Sizing: the address bits below the size read back as zero. */
    mask = ~(size - 1);
    pci_set_long(d->config + bar_reg(bar), type);
    pci_set_long(d->wmask + bar_reg(bar),
                 (uint32_t)mask & (io ? PCI_BASE_ADDRESS_IO_MASK
                                      : PCI_BASE_ADDRESS_MEM_MASK));
    if (type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        pci_set_long(d->config + bar_reg(bar + 1), 0);
        pci_set_long(d->wmask + bar_reg(bar + 1), (uint32_t)(mask >> 32));
    }
    return true;
}

static uint64_t pci_bar_address_locked(const PCIDevice *d, int bar)
{
    const PCIBar *b = &d->bars[bar];
    uint32_t lo = pci_get_long(d->config + bar_reg(bar));
    uint64_t addr, last;

    if (!b->size) {
        return PCI_ALL_ONES;
    }
    if (bar_is_io(b)) {
        addr = lo & PCI_BASE_ADDRESS_IO_MASK;
    } else {
        addr = lo & PCI_BASE_ADDRESS_MEM_MASK;
        if (bar_is_64(b)) {
            addr |= (uint64_t)pci_get_long(d->config + bar_reg(bar + 1)) << 32;
        }
    }
    /* Address 0, and the all-ones pattern left by sizing, are unassigned
     * (as QEMU and real bridges treat them). */
    last = addr + b->size - 1;
    if (addr == 0 || last < addr ||
        (!bar_is_64(b) && last >= UINT32_MAX) || last == UINT64_MAX) {
        return PCI_ALL_ONES;
    }
    return addr;
}

uint64_t pci_bar_address(PCIDevice *d, int bar)
{
    uint64_t addr;

    if (bar < 0 || bar >= PCI_NUM_BARS) {
        return PCI_ALL_ONES;
    }
    g_mutex_lock(&d->lock);
    addr = pci_bar_address_locked(d, bar);
    g_mutex_unlock(&d->lock);
    return addr;
}

/* Access widths a BAR callback handles: 1, 2, 4, 8, naturally aligned
 * (QEMU's memory core only ever forwards aligned pieces). */
static bool is_valid_bar_access(const PCIBar *b, uint64_t offset,
                                unsigned size)
{
    return (size == 1 || size == 2 || size == 4 || size == 8) &&
           offset % size == 0 && range_fits(offset, size, b->size);
}

static uint64_t size_mask(unsigned size)
{
    return size == 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
}

static void bar_call(PCIDevice *d, int bar, uint64_t offset, unsigned size,
                     bool write, uint64_t *val)
{
    const PCIBar *b = &d->bars[bar];

    if (write) {
        *val &= size_mask(size);
        qr_log_mask(LOG_PCI, "pci: %s: BAR%d write 0x%" PRIx64 " size %u "
                    "<- 0x%" PRIx64, pci_dev_name(d), bar, offset, size,
                    *val);
        if (b->ops && b->ops->write) {
            b->ops->write(b->opaque, offset, *val, size);
        }
    } else {
        *val = b->ops && b->ops->read ? b->ops->read(b->opaque, offset, size)
                                      : 0;
        *val &= size_mask(size);
        qr_log_mask(LOG_PCI, "pci: %s: BAR%d read 0x%" PRIx64 " size %u "
                    "-> 0x%" PRIx64, pci_dev_name(d), bar, offset, size,
                    *val);
    }
}

bool pci_bar_access_addr(PCIDevice *d, bool io, uint64_t addr,
                         unsigned size, bool write, uint64_t *val)
{
    uint16_t enable = io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
    uint64_t offset = 0;
    int found = -1;

    g_mutex_lock(&d->lock);
    if ((pci_get_word(d->config + PCI_COMMAND) & enable) &&
        !pci_pm_in_d3_locked(d)) {
        for (int bar = 0; bar < PCI_NUM_BARS; bar++) {
            const PCIBar *b = &d->bars[bar];
            uint64_t base = pci_bar_address_locked(d, bar);

            if (b->size && bar_is_io(b) == io && base != PCI_ALL_ONES &&
                addr >= base && addr - base < b->size) {
                found = bar;
                offset = addr - base;
                break;
            }
        }
    }
    g_mutex_unlock(&d->lock);

    if (found < 0 || !is_valid_bar_access(&d->bars[found], offset, size)) {
        qr_log_mask(LOG_PCI, "pci: %s: %s %s at 0x%" PRIx64 " size %u "
                    "does not decode", pci_dev_name(d), io ? "I/O" : "memory",
                    write ? "write" : "read", addr, size);
        if (!write) {
            *val = PCI_ALL_ONES;
        }
        return false;
    }
    /* The callback runs unlocked: BARs never change after realize, and
     * devices synchronise their own registers. */
    bar_call(d, found, offset, size, write, val);
    return true;
}

bool pci_bar_access(PCIDevice *d, int bar, uint64_t offset, unsigned size,
                    bool write, uint64_t *val)
{
    if (bar < 0 || bar >= PCI_NUM_BARS || !d->bars[bar].size ||
        !is_valid_bar_access(&d->bars[bar], offset, size)) {
        qr_log_mask(LOG_PCI, "pci: %s: invalid BAR%d %s at 0x%" PRIx64
                    " size %u", pci_dev_name(d), bar,
                    write ? "write" : "read", offset, size);
        if (!write) {
            *val = PCI_ALL_ONES;
        }
        return false;
    }
    bar_call(d, bar, offset, size, write, val);
    return true;
}
