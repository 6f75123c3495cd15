/*
 * What the files of hw/pci share among themselves; not for devices or
 * transports (they use include/hw/pci.h).
 *
 * Functions named *_locked expect d->lock to be held.
 */
#ifndef HW_PCI_INTERNAL_H
#define HW_PCI_INTERNAL_H

#include "hw/pci.h"

/* Bytes of the MSI capability as msi_init() lays it out (64-bit addresses
 * and per-vector masking), and of the MSI-X capability. */
#define PCI_MSI_CAP_SIZE    24
#define PCI_MSIX_CAP_SIZE   12

/* A name for log lines: the device id, else its type name. */
const char *pci_dev_name(const PCIDevice *d);

/* True when [@addr, @addr + @len) and [@start, @start + @size) share a
 * byte.  All values are config-space offsets (< 4096). */
static inline bool pci_ranges_touch(uint32_t addr, unsigned len,
                                    uint32_t start, unsigned size)
{
    return addr < start + size && start < addr + len;
}

/* config.c: the header's writable and write-1-to-clear bits. */
void pci_config_init_header(PCIDevice *d);

/* intx.c: re-evaluates the effective INTx level (line, INTX_DISABLE,
 * interrupt pin) and tells the transport when it changed. */
void pci_intx_update_locked(PCIDevice *d);

/* capability.c: power management state after a PMCSR write (@old is the
 * register before it); D1/D2 are not supported and leave it unchanged. */
void pci_pm_written_locked(PCIDevice *d, uint16_t old_pmcsr);
/* True while the function is in D3hot (no memory or I/O decoding). */
bool pci_pm_in_d3_locked(const PCIDevice *d);

/* msi.c: delivers pending vectors the guest has just unmasked. */
void msi_written_locked(PCIDevice *d);

/* msix.c */
void msix_written_locked(PCIDevice *d);
/* Back to power-on: every vector masked, nothing pending. */
void msix_reset_locked(PCIDevice *d);
void msix_free(PCIDevice *d);

#endif
