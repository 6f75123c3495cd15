/*
 * PCI device life cycle: the bus part of realize/reset/unrealize, transport
 * binding and the identity fields (see include/hw/pci.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/log.h"
#include "pci-internal.h"

const char *pci_dev_name(const PCIDevice *d)
{
    return d->qdev.id ? d->qdev.id : d->qdev.type->name;
}

void pci_device_set_transport(PCIDevice *d, const PCITransportOps *ops,
                              void *opaque)
{
    /* Once realized, other threads may be raising interrupts through it. */
    bool realized = d->qdev.realized;

    if (realized) {
        g_mutex_lock(&d->lock);
    }
    d->transport = ops;
    d->transport_opaque = opaque;
    if (realized) {
        g_mutex_unlock(&d->lock);
    }
}

static void pci_release(PCIDevice *d)
{
    msix_free(d);
    dma_space_free(d->dma);
    d->dma = NULL;
    g_mutex_clear(&d->lock);
}

static bool pci_bus_realize(Device *dev, GError **errp)
{
    PCIDevice *d = PCI_DEVICE(dev);
    g_autofree char *dma_name = g_strdup_printf("pci:%s", pci_dev_name(d));

    g_mutex_init(&d->lock);
    d->config_size = PCI_CONFIG_SPACE_SIZE;
    d->msix_bar = -1;
    pci_config_init_header(d);
    /* Guest memory stays out of reach until the guest enables bus
     * mastering. */
    d->dma = dma_space_new(dma_name);
    dma_space_set_enabled(d->dma, false);

    if (dev->type->realize && !dev->type->realize(dev, errp)) {
        pci_release(d);
        return false;
    }

    memcpy(d->power_on, d->config, d->config_size);
    pci_set_word(d->power_on + PCI_STATUS,
                 pci_get_word(d->power_on + PCI_STATUS) &
                 ~PCI_STATUS_INTERRUPT);
    return true;
}

void pci_device_reset(PCIDevice *d)
{
    /* The device drains its own work first, so whatever it raises or
     * enables while finishing is undone below. */
    if (d->qdev.type->reset) {
        d->qdev.type->reset(&d->qdev);
    }

    g_mutex_lock(&d->lock);
    memcpy(d->config, d->power_on, d->config_size);
    d->irq_level = false;
    msix_reset_locked(d);
    dma_space_set_enabled(d->dma, false);
    pci_intx_update_locked(d);
    g_mutex_unlock(&d->lock);
    qr_log_mask(LOG_PCI, "pci: %s: function reset", pci_dev_name(d));
}

static void pci_bus_reset(Device *dev)
{
    pci_device_reset(PCI_DEVICE(dev));
}

static void pci_bus_unrealize(Device *dev)
{
    if (dev->type->unrealize) {
        dev->type->unrealize(dev);
    }
    pci_release(PCI_DEVICE(dev));
}

const DeviceBusInfo pci_bus_info = {
    .name = "PCI",
    .realize = pci_bus_realize,
    .reset = pci_bus_reset,
    .unrealize = pci_bus_unrealize,
};

void pci_config_set_vendor_id(PCIDevice *d, uint16_t id)
{
    pci_set_word(d->config + PCI_VENDOR_ID, id);
}

void pci_config_set_device_id(PCIDevice *d, uint16_t id)
{
    pci_set_word(d->config + PCI_DEVICE_ID, id);
}

void pci_config_set_revision(PCIDevice *d, uint8_t rev)
{
    pci_set_byte(d->config + PCI_REVISION_ID, rev);
}

void pci_config_set_class(PCIDevice *d, uint32_t class_code)
{
    pci_set_byte(d->config + PCI_CLASS_PROG, class_code & 0xff);
    pci_set_word(d->config + PCI_CLASS_DEVICE, (class_code >> 8) & 0xffff);
}

void pci_config_set_subsystem(PCIDevice *d, uint16_t vendor, uint16_t id)
{
    pci_set_word(d->config + PCI_SUBSYSTEM_VENDOR_ID, vendor);
    pci_set_word(d->config + PCI_SUBSYSTEM_ID, id);
}

void pci_config_set_interrupt_pin(PCIDevice *d, uint8_t pin)
{
    pci_set_byte(d->config + PCI_INTERRUPT_PIN, pin);
}

void pci_set_express_config(PCIDevice *d)
{
    d->config_size = PCIE_CONFIG_SPACE_SIZE;
}
