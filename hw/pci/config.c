/*
 * Config space accesses: write masks, write-1-to-clear bits and the side
 * effects of the command register (see include/hw/pci.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/log.h"
#include "pci-internal.h"

/* Status bits an error report sets and the guest clears by writing 1. */
#define PCI_STATUS_W1C_BITS (PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
                             PCI_STATUS_REC_TARGET_ABORT |                    \
                             PCI_STATUS_REC_MASTER_ABORT |                    \
                             PCI_STATUS_SIG_SYSTEM_ERROR |                    \
                             PCI_STATUS_DETECTED_PARITY)

#define PCI_COMMAND_WRITABLE (PCI_COMMAND_IO | PCI_COMMAND_MEMORY |           \
                              PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |       \
                              PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

void pci_config_init_header(PCIDevice *d)
{
    pci_set_word(d->wmask + PCI_COMMAND, PCI_COMMAND_WRITABLE);
    pci_set_word(d->w1cmask + PCI_STATUS, PCI_STATUS_W1C_BITS);
    pci_set_byte(d->wmask + PCI_CACHE_LINE_SIZE, 0xff);
    pci_set_byte(d->wmask + PCI_LATENCY_TIMER, 0xff);
    pci_set_byte(d->wmask + PCI_INTERRUPT_LINE, 0xff);
    pci_set_byte(d->config + PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
    /* INTA: QEMU's proxy always raises INTA, and the guest routes the pin
     * it reads here (mpqemu.md 2.5). */
    pci_set_byte(d->config + PCI_INTERRUPT_PIN, 1);
    memset(d->cap_used, 1, PCI_STD_HEADER_SIZEOF);
    d->next_cap_offset = PCI_STD_HEADER_SIZEOF;
}

uint32_t pci_default_config_read(PCIDevice *d, uint32_t addr, unsigned len)
{
    uint32_t val = 0;

    if (len > 4 || !range_fits(addr, len, d->config_size)) {
        return UINT32_MAX;
    }
    for (unsigned i = 0; i < len; i++) {
        val |= (uint32_t)d->config[addr + i] << (8 * i);
    }
    return val;
}

static void pci_command_written_locked(PCIDevice *d)
{
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);

    dma_space_set_enabled(d->dma, cmd & PCI_COMMAND_MASTER);
    pci_intx_update_locked(d);
}

void pci_default_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                              unsigned len)
{
    uint16_t old_pmcsr = 0;

    if (len > 4 || !range_fits(addr, len, d->config_size)) {
        return;
    }
    if (d->pm_cap) {
        old_pmcsr = pci_get_word(d->config + d->pm_cap + PCI_PM_CTRL);
    }
    for (unsigned i = 0; i < len; i++) {
        uint8_t byte = (val >> (8 * i)) & 0xff;
        uint8_t wmask = d->wmask[addr + i];

        d->config[addr + i] = (d->config[addr + i] & ~wmask) |
                              (byte & wmask);
        d->config[addr + i] &= ~(byte & d->w1cmask[addr + i]);
    }

    if (pci_ranges_touch(addr, len, PCI_COMMAND, 2)) {
        pci_command_written_locked(d);
    }
    if (d->pm_cap && pci_ranges_touch(addr, len, d->pm_cap + PCI_PM_CTRL, 2)) {
        pci_pm_written_locked(d, old_pmcsr);
    }
    if (d->msi_cap && pci_ranges_touch(addr, len, d->msi_cap,
                                       PCI_MSI_CAP_SIZE)) {
        msi_written_locked(d);
    }
    if (d->msix_cap && pci_ranges_touch(addr, len, d->msix_cap,
                                        PCI_MSIX_CAP_SIZE)) {
        msix_written_locked(d);
    }
}

/* The access a transport may pass on: width 1, 2 or 4, inside the space. */
static bool is_valid_config_access(const PCIDevice *d, uint32_t addr,
                                   unsigned len)
{
    return (len == 1 || len == 2 || len == 4) &&
           range_fits(addr, len, d->config_size);
}

bool pci_config_read(PCIDevice *d, uint32_t addr, unsigned len,
                     uint32_t *val)
{
    uint32_t v;

    if (!is_valid_config_access(d, addr, len)) {
        qr_log_mask(LOG_PCI, "pci: %s: invalid config read 0x%x len %u",
                    pci_dev_name(d), addr, len);
        *val = UINT32_MAX;
        return false;
    }
    g_mutex_lock(&d->lock);
    v = d->config_read ? d->config_read(d, addr, len)
                       : pci_default_config_read(d, addr, len);
    g_mutex_unlock(&d->lock);
    if (len < 4) {
        v &= (1u << (8 * len)) - 1;
    }
    qr_log_mask(LOG_PCI, "pci: %s: config read 0x%x len %u -> 0x%x",
                pci_dev_name(d), addr, len, v);
    *val = v;
    return true;
}

bool pci_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                      unsigned len)
{
    if (!is_valid_config_access(d, addr, len)) {
        qr_log_mask(LOG_PCI, "pci: %s: invalid config write 0x%x len %u",
                    pci_dev_name(d), addr, len);
        return false;
    }
    if (len < 4) {
        val &= (1u << (8 * len)) - 1;
    }
    qr_log_mask(LOG_PCI, "pci: %s: config write 0x%x len %u <- 0x%x",
                pci_dev_name(d), addr, len, val);
    g_mutex_lock(&d->lock);
    if (d->config_write) {
        d->config_write(d, addr, val, len);
    } else {
        pci_default_config_write(d, addr, val, len);
    }
    g_mutex_unlock(&d->lock);
    return true;
}

bool pci_bus_master_enabled(PCIDevice *d)
{
    bool on;

    g_mutex_lock(&d->lock);
    on = pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER;
    g_mutex_unlock(&d->lock);
    return on;
}
