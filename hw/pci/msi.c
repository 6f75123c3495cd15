/*
 * MSI: a 64-bit capability with per-vector masking (see include/hw/pci.h).
 * The whole state lives in config space, so a reset restores it.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "pci-internal.h"

#define MSI_MAX_VECTORS 32

static uint16_t msi_flags_locked(const PCIDevice *d)
{
    return pci_get_word(d->config + d->msi_cap + PCI_MSI_FLAGS);
}

/* Vectors the guest enabled (Multiple Message Enable), capped by what the
 * device offers (Multiple Message Capable). */
static unsigned msi_allocated_locked(const PCIDevice *d)
{
    uint16_t flags = msi_flags_locked(d);
    unsigned mmc = (flags & PCI_MSI_FLAGS_QMASK) >> 1;
    unsigned mme = (flags & PCI_MSI_FLAGS_QSIZE) >> 4;

    return 1u << MIN(mmc, mme);
}

int msi_init(PCIDevice *d, unsigned nvectors, GError **errp)
{
    uint8_t off;

    if (!QR_IS_POWER_OF_2(nvectors) || nvectors > MSI_MAX_VECTORS) {
        error_setg(errp, "MSI: %u vectors is not a power of two up to %d",
                   nvectors, MSI_MAX_VECTORS);
        return -EINVAL;
    }
    if (d->msi_cap) {
        error_setg(errp, "MSI: capability already present");
        return -EINVAL;
    }
    if (d->transport && !d->transport->notify_vector) {
        qr_log_mask(LOG_PCI, "pci: %s: transport cannot deliver MSI; "
                    "capability not presented", pci_dev_name(d));
        return -ENOTSUP;
    }
    off = pci_add_capability(d, PCI_CAP_ID_MSI, 0, PCI_MSI_CAP_SIZE, errp);
    if (!off) {
        return -EINVAL;
    }
    d->msi_cap = off;
    pci_set_word(d->config + off + PCI_MSI_FLAGS,
                 PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT |
                 (__builtin_ctz(nvectors) << 1));
    pci_set_word(d->wmask + off + PCI_MSI_FLAGS,
                 PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    pci_set_long(d->wmask + off + PCI_MSI_ADDRESS_LO, 0xfffffffc);
    pci_set_long(d->wmask + off + PCI_MSI_ADDRESS_HI, 0xffffffff);
    pci_set_word(d->wmask + off + PCI_MSI_DATA_64, 0xffff);
    pci_set_long(d->wmask + off + PCI_MSI_MASK_64,
                 nvectors == 32 ? 0xffffffff : (1u << nvectors) - 1);
    return 0;
}

bool msi_enabled(PCIDevice *d)
{
    bool on;

    g_mutex_lock(&d->lock);
    on = d->msi_cap && (msi_flags_locked(d) & PCI_MSI_FLAGS_ENABLE);
    g_mutex_unlock(&d->lock);
    return on;
}

static void msi_deliver_locked(PCIDevice *d, unsigned vector)
{
    qr_log_mask(LOG_IRQ, "pci: %s: MSI vector %u", pci_dev_name(d), vector);
    if (d->transport && d->transport->notify_vector) {
        d->transport->notify_vector(d->transport_opaque, false, vector);
    }
}

void msi_notify(PCIDevice *d, unsigned vector)
{
    uint8_t *pending, *mask;

    g_mutex_lock(&d->lock);
    if (!d->msi_cap || !(msi_flags_locked(d) & PCI_MSI_FLAGS_ENABLE) ||
        vector >= msi_allocated_locked(d)) {
        qr_log_mask(LOG_IRQ, "pci: %s: MSI vector %u not enabled, dropped",
                    pci_dev_name(d), vector);
        g_mutex_unlock(&d->lock);
        return;
    }
    pending = d->config + d->msi_cap + PCI_MSI_PENDING_64;
    mask = d->config + d->msi_cap + PCI_MSI_MASK_64;
    if (pci_get_long(mask) & (1u << vector)) {
        pci_set_long(pending, pci_get_long(pending) | (1u << vector));
    } else {
        msi_deliver_locked(d, vector);
    }
    g_mutex_unlock(&d->lock);
}

void msi_written_locked(PCIDevice *d)
{
    uint8_t *pending = d->config + d->msi_cap + PCI_MSI_PENDING_64;
    uint32_t mask = pci_get_long(d->config + d->msi_cap + PCI_MSI_MASK_64);
    uint32_t bits = pci_get_long(pending);

    if (!(msi_flags_locked(d) & PCI_MSI_FLAGS_ENABLE)) {
        return;
    }
    for (unsigned v = 0; v < msi_allocated_locked(d); v++) {
        if ((bits & (1u << v)) && !(mask & (1u << v))) {
            bits &= ~(1u << v);
            msi_deliver_locked(d, v);
        }
    }
    pci_set_long(pending, bits);
}
