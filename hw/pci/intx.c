/*
 * INTx: the device's line, STATUS.INTERRUPT and COMMAND.INTX_DISABLE (see
 * include/hw/pci.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/log.h"
#include "pci-internal.h"

static bool pci_intx_effective_locked(const PCIDevice *d)
{
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);

    return d->irq_level && !(cmd & PCI_COMMAND_INTX_DISABLE) &&
           d->config[PCI_INTERRUPT_PIN] != 0;
}

void pci_intx_update_locked(PCIDevice *d)
{
    bool level = pci_intx_effective_locked(d);

    if (level == d->intx_out) {
        return;
    }
    d->intx_out = level;
    qr_log_mask(LOG_IRQ, "pci: %s: INTx %s", pci_dev_name(d),
                level ? "asserted" : "deasserted");
    if (d->transport && d->transport->set_irq) {
        d->transport->set_irq(d->transport_opaque, level);
    }
}

void pci_set_irq(PCIDevice *d, bool level)
{
    uint16_t status;

    g_mutex_lock(&d->lock);
    d->irq_level = level;
    /* STATUS.INTERRUPT shows the device's own line, masked or not. */
    status = pci_get_word(d->config + PCI_STATUS);
    if (level) {
        status |= PCI_STATUS_INTERRUPT;
    } else {
        status &= ~PCI_STATUS_INTERRUPT;
    }
    pci_set_word(d->config + PCI_STATUS, status);
    pci_intx_update_locked(d);
    g_mutex_unlock(&d->lock);
}

bool pci_irq_asserted(PCIDevice *d)
{
    bool level;

    g_mutex_lock(&d->lock);
    level = pci_intx_effective_locked(d);
    g_mutex_unlock(&d->lock);
    return level;
}
