/*
 * The capability list builder and the power management capability (see
 * include/hw/pci.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "pci-internal.h"

/* A list in 256 bytes after the 64-byte header holds at most 48 dword-
 * aligned entries; walking more means the list has a loop. */
#define PCI_CAP_MAX_WALK ((PCI_CONFIG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / 4)

static bool cap_range_free(const PCIDevice *d, unsigned offset, unsigned size)
{
    for (unsigned i = offset; i < offset + size; i++) {
        if (d->cap_used[i]) {
            return false;
        }
    }
    return true;
}

/* First dword-aligned offset at or after the allocator hint that has
 * @size free bytes, or 0. */
static unsigned cap_find_free(const PCIDevice *d, unsigned size)
{
    unsigned start = MAX(QR_ALIGN_UP((unsigned)d->next_cap_offset, 4u),
                         (unsigned)PCI_STD_HEADER_SIZEOF);

    for (unsigned off = start; off + size <= PCI_CONFIG_SPACE_SIZE;
         off += 4) {
        if (cap_range_free(d, off, size)) {
            return off;
        }
    }
    return 0;
}

uint8_t pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t offset,
                           uint8_t size, GError **errp)
{
    unsigned off = offset;
    unsigned link = PCI_CAPABILITY_LIST;

    if (size < 2) {
        error_setg(errp, "capability 0x%x: size %u is too small", cap_id,
                   size);
        return 0;
    }
    if (off == 0) {
        off = cap_find_free(d, size);
        if (!off) {
            error_setg(errp, "capability 0x%x: no room for %u bytes in "
                       "config space", cap_id, size);
            return 0;
        }
    } else if (off < PCI_STD_HEADER_SIZEOF || off % 4 ||
               off + size > PCI_CONFIG_SPACE_SIZE ||
               !cap_range_free(d, off, size)) {
        error_setg(errp, "capability 0x%x: offset 0x%x size %u does not "
                   "fit or overlaps", cap_id, off, size);
        return 0;
    }

    /* Append to the end of the list so it reads in declaration order. */
    for (unsigned n = 0; d->config[link] && n < PCI_CAP_MAX_WALK; n++) {
        link = d->config[link] + PCI_CAP_LIST_NEXT;
    }
    d->config[link] = off;
    d->config[off + PCI_CAP_LIST_ID] = cap_id;
    d->config[off + PCI_CAP_LIST_NEXT] = 0;
    memset(d->cap_used + off, 1, size);
    pci_set_word(d->config + PCI_STATUS,
                 pci_get_word(d->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    if (off + size > d->next_cap_offset) {
        d->next_cap_offset = QR_ALIGN_UP(off + size, 4u) & 0xff;
    }
    return off;
}

uint8_t pci_find_capability(PCIDevice *d, uint8_t cap_id)
{
    uint8_t off = d->config[PCI_CAPABILITY_LIST];

    for (unsigned n = 0; off && n < PCI_CAP_MAX_WALK; n++) {
        if (d->config[off + PCI_CAP_LIST_ID] == cap_id) {
            return off;
        }
        off = d->config[off + PCI_CAP_LIST_NEXT];
    }
    return 0;
}

bool pci_pm_init(PCIDevice *d, GError **errp)
{
    uint8_t off = pci_add_capability(d, PCI_CAP_ID_PM, 0, PCI_PM_SIZEOF,
                                     errp);

    if (!off) {
        return false;
    }
    d->pm_cap = off;
    /* Version 3 (PCI PM 1.2), D0 and D3hot only, no PME. */
    pci_set_word(d->config + off + PCI_PM_PMC, 3);
    /* D3hot -> D0 keeps the device's state: we never reset on it. */
    pci_set_word(d->config + off + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
    pci_set_word(d->wmask + off + PCI_PM_CTRL, PCI_PM_CTRL_STATE_MASK);
    return true;
}

void pci_pm_written_locked(PCIDevice *d, uint16_t old_pmcsr)
{
    uint8_t *reg = d->config + d->pm_cap + PCI_PM_CTRL;
    uint16_t pmcsr = pci_get_word(reg);
    unsigned state = pmcsr & PCI_PM_CTRL_STATE_MASK;

    if (state == 1 || state == 2) {
        /* D1 and D2 are not advertised: ignore the request. */
        pci_set_word(reg, old_pmcsr);
        return;
    }
    if ((old_pmcsr ^ pmcsr) & PCI_PM_CTRL_STATE_MASK) {
        qr_log_mask(LOG_PCI, "pci: %s: power state D%u", pci_dev_name(d),
                    state);
    }
}

bool pci_pm_in_d3_locked(const PCIDevice *d)
{
    return d->pm_cap &&
           (pci_get_word(d->config + d->pm_cap + PCI_PM_CTRL) &
            PCI_PM_CTRL_STATE_MASK) == 3;
}
