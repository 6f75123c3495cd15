/*
 * MSI-X with QEMU's exclusive-BAR layout: the vector table at offset 0 and
 * the pending bit array at 0x800 of a 4 KiB memory BAR (see
 * include/hw/pci.h).  The table and PBA live outside config space, so a
 * reset clears them here.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "pci-internal.h"

#define MSIX_BAR_SIZE       0x1000
#define MSIX_PBA_OFFSET     0x800
/* The table must end where the PBA starts. */
#define MSIX_MAX_VECTORS    (MSIX_PBA_OFFSET / PCI_MSIX_ENTRY_SIZE)

static unsigned msix_pba_size(unsigned nvectors)
{
    /* One bit per vector, in whole qwords as the spec lays the PBA out. */
    return QR_ALIGN_UP((nvectors + 7) / 8, 8u);
}

static uint16_t msix_ctrl_locked(const PCIDevice *d)
{
    return pci_get_word(d->config + d->msix_cap + PCI_MSIX_FLAGS);
}

static bool msix_vector_masked_locked(const PCIDevice *d, unsigned vector)
{
    const uint8_t *entry = d->msix_table + vector * PCI_MSIX_ENTRY_SIZE;

    return (msix_ctrl_locked(d) & PCI_MSIX_FLAGS_MASKALL) ||
           (pci_get_long(entry + PCI_MSIX_ENTRY_VECTOR_CTRL) &
            PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static void msix_deliver_locked(PCIDevice *d, unsigned vector)
{
    qr_log_mask(LOG_IRQ, "pci: %s: MSI-X vector %u", pci_dev_name(d), vector);
    if (d->transport && d->transport->notify_vector) {
        d->transport->notify_vector(d->transport_opaque, true, vector);
    }
}

static void msix_deliver_pending_locked(PCIDevice *d)
{
    if (!(msix_ctrl_locked(d) & PCI_MSIX_FLAGS_ENABLE)) {
        return;
    }
    for (unsigned v = 0; v < d->msix_nvectors; v++) {
        uint8_t bit = 1u << (v % 8);

        if ((d->msix_pba[v / 8] & bit) && !msix_vector_masked_locked(d, v)) {
            d->msix_pba[v / 8] &= ~bit;
            msix_deliver_locked(d, v);
        }
    }
}

/* The BAR: table and PBA, little-endian, any aligned width. */
static uint64_t msix_bar_read(void *opaque, uint64_t offset, unsigned size)
{
    PCIDevice *d = opaque;
    unsigned table_size = d->msix_nvectors * PCI_MSIX_ENTRY_SIZE;
    uint64_t val = 0;

    g_mutex_lock(&d->lock);
    for (unsigned i = 0; i < size; i++) {
        uint64_t off = offset + i;
        uint8_t byte = 0;

        if (off < table_size) {
            byte = d->msix_table[off];
        } else if (off >= MSIX_PBA_OFFSET &&
                   off - MSIX_PBA_OFFSET < msix_pba_size(d->msix_nvectors)) {
            byte = d->msix_pba[off - MSIX_PBA_OFFSET];
        }
        val |= (uint64_t)byte << (8 * i);
    }
    g_mutex_unlock(&d->lock);
    return val;
}

static void msix_bar_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    PCIDevice *d = opaque;
    unsigned table_size = d->msix_nvectors * PCI_MSIX_ENTRY_SIZE;

    if (!range_fits(offset, size, table_size)) {
        qr_log_mask(LOG_GUEST_ERROR, "pci: %s: MSI-X write outside the "
                    "table at 0x%" PRIx64, pci_dev_name(d), offset);
        return;
    }
    g_mutex_lock(&d->lock);
    for (unsigned i = 0; i < size; i++) {
        d->msix_table[offset + i] = value >> (8 * i);
    }
    msix_deliver_pending_locked(d);
    g_mutex_unlock(&d->lock);
}

static const PCIBarOps msix_bar_ops = {
    .read = msix_bar_read,
    .write = msix_bar_write,
};

int msix_init_exclusive_bar(PCIDevice *d, unsigned nvectors, int bar,
                            GError **errp)
{
    uint8_t off;

    if (nvectors == 0 || nvectors > MSIX_MAX_VECTORS) {
        error_setg(errp, "MSI-X: %u vectors is not between 1 and %d",
                   nvectors, MSIX_MAX_VECTORS);
        return -EINVAL;
    }
    if (d->msix_cap) {
        error_setg(errp, "MSI-X: capability already present");
        return -EINVAL;
    }
    if (d->transport && !d->transport->notify_vector) {
        qr_log_mask(LOG_PCI, "pci: %s: transport cannot deliver MSI-X; "
                    "capability not presented", pci_dev_name(d));
        return -ENOTSUP;
    }
    /* On failure the device fails realize and is discarded whole. */
    if (!pci_register_bar(d, bar, PCI_BASE_ADDRESS_SPACE_MEMORY,
                          MSIX_BAR_SIZE, &msix_bar_ops, d, errp)) {
        return -EINVAL;
    }
    off = pci_add_capability(d, PCI_CAP_ID_MSIX, 0, PCI_MSIX_CAP_SIZE, errp);
    if (!off) {
        return -EINVAL;
    }
    d->msix_cap = off;
    d->msix_nvectors = nvectors;
    d->msix_bar = bar;
    d->msix_table = g_new0(uint8_t, nvectors * PCI_MSIX_ENTRY_SIZE);
    d->msix_pba = g_new0(uint8_t, msix_pba_size(nvectors));

    pci_set_word(d->config + off + PCI_MSIX_FLAGS, nvectors - 1);
    pci_set_word(d->wmask + off + PCI_MSIX_FLAGS,
                 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    pci_set_long(d->config + off + PCI_MSIX_TABLE, 0 | bar);
    pci_set_long(d->config + off + PCI_MSIX_PBA, MSIX_PBA_OFFSET | bar);
    msix_reset_locked(d);
    return 0;
}

bool msix_enabled(PCIDevice *d)
{
    bool on;

    g_mutex_lock(&d->lock);
    on = d->msix_cap && (msix_ctrl_locked(d) & PCI_MSIX_FLAGS_ENABLE);
    g_mutex_unlock(&d->lock);
    return on;
}

void msix_notify(PCIDevice *d, unsigned vector)
{
    g_mutex_lock(&d->lock);
    if (!d->msix_cap || vector >= d->msix_nvectors ||
        !(msix_ctrl_locked(d) & PCI_MSIX_FLAGS_ENABLE)) {
        qr_log_mask(LOG_IRQ, "pci: %s: MSI-X vector %u not enabled, dropped",
                    pci_dev_name(d), vector);
    } else if (msix_vector_masked_locked(d, vector)) {
        d->msix_pba[vector / 8] |= 1u << (vector % 8);
    } else {
        msix_deliver_locked(d, vector);
    }
    g_mutex_unlock(&d->lock);
}

void msix_written_locked(PCIDevice *d)
{
    msix_deliver_pending_locked(d);
}

void msix_reset_locked(PCIDevice *d)
{
    if (!d->msix_cap) {
        return;
    }
    memset(d->msix_table, 0, d->msix_nvectors * PCI_MSIX_ENTRY_SIZE);
    for (unsigned v = 0; v < d->msix_nvectors; v++) {
        pci_set_long(d->msix_table + v * PCI_MSIX_ENTRY_SIZE +
                     PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }
    memset(d->msix_pba, 0, msix_pba_size(d->msix_nvectors));
}

void msix_free(PCIDevice *d)
{
    g_clear_pointer(&d->msix_table, g_free);
    g_clear_pointer(&d->msix_pba, g_free);
}
