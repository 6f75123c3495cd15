/*
 * virtio-pci: serves a virtio device (include/hw/virtio.h) as a PCI
 * function, laid out like QEMU 7.2's own virtio-*-pci devices so drivers
 * and tools see the same thing:
 *
 *   transitional (default): vendor 1af4, device 0x1000 + n (blk 1001),
 *     revision 0, subsystem 1af4:<virtio id>; BAR0 legacy I/O registers
 *   modern only (disable-legacy=on): device 0x1040 + virtio id,
 *     revision 1, subsystem 1af4:1100
 *   BAR1: MSI-X table (0) and PBA (0x800), 4 KiB, when the transport can
 *     deliver MSI-X (not over mpqemu: INTx only there)
 *   BAR4: 16 KiB, 64-bit prefetchable (32-bit where the transport needs
 *     it): common config 0x0000, ISR 0x1000, device config 0x2000,
 *     notifications 0x3000 (queue n at 0x3000 + 4 n)
 *   capabilities: vendor-specific at 0x40 common, 0x50 ISR, 0x60 device,
 *     0x70 notify (multiplier 4), 0x84 PCI_CFG window; MSI-X at 0x98
 *
 * Register accesses run on the transport's connection thread.  A doorbell
 * only signals the queue's eventfd; the ring is processed in the device's
 * iothread.  Interrupts: MSI-X vectors when enabled, else INTx with the
 * ISR (read to clear, which lowers the line).
 */
#ifndef HW_VIRTIO_PCI_H
#define HW_VIRTIO_PCI_H

#include "qemu-remote/osdep.h"
#include "hw/pci.h"
#include "hw/virtio.h"

/* "vectors" default: one per queue plus one for config changes. */
#define VIRTIO_PCI_VECTORS_AUTO UINT32_MAX

/*
 * Poll window of the private iothread a virtio-pci device creates when it
 * is given no iothread=.  A doorbell to a remote PCI device is an MMIO write
 * that the VMM forwards and waits for: the vCPU stalls a whole round trip
 * (15-20 us measured through QEMU 7.2's proxy), not the microsecond of an
 * eventfd write.  Polling the avail ring for longer than QEMU's 32 us keeps
 * a busy driver from ringing at all (docs/performance.md); an idle device
 * still sleeps, as the window adapts.
 */
#define VIRTIO_PCI_POLL_MAX_NS 200000

typedef struct VirtIOPCIProxy {
    PCIDevice pci_dev;

    /* Properties. */
    OnOffAuto disable_legacy;
    bool disable_modern;
    uint32_t vectors;

    /* Fixed at realize. */
    VirtIODevice *vdev;
    bool legacy;                /* BAR0 legacy interface present */
    bool modern;                /* BAR4 modern interface present */
    bool msix;                  /* MSI-X capability present */
    unsigned nvectors;
    uint8_t pci_cfg_cap;        /* offset of the PCI_CFG window cap */

    /* Register state (connection thread; the iothread reads the vector
     * and sets ISR bits, atomically). */
    uint32_t dfselect;
    uint32_t gfselect;
    uint64_t gfeatures;         /* what the driver wrote, both words */
    uint16_t queue_select;
    uint16_t config_vector;
    int isr;
} VirtIOPCIProxy;

/*
 * Properties every virtio-*-pci type has (its DeviceType's bus_props):
 * disable-legacy (on/off/auto; auto = off, as on QEMU's conventional PCI
 * bus), disable-modern, vectors.
 */
extern const DeviceProperty virtio_pci_props[];

/*
 * Turns @proxy into the PCI face of @vdev (already initialised): IDs with
 * class @class_code, BARs, capabilities, MSI-X if the transport can
 * deliver it, and binds @vdev to this transport.  Call from the type's
 * realize.
 */
bool virtio_pci_realize(VirtIOPCIProxy *proxy, VirtIODevice *vdev,
                        uint32_t class_code, GError **errp);

/* Resets the virtio device (draining it) and the transport registers.
 * Call from the type's reset hook. */
void virtio_pci_reset(VirtIOPCIProxy *proxy);

/* --- internal to hw/virtio/virtio-pci*.c ------------------------------ */

extern const PCIBarOps virtio_pci_modern_ops;
extern const PCIBarOps virtio_pci_legacy_ops;

/*
 * Modern BAR access by offset; @wait false when the caller holds the PCI
 * lock (the PCI_CFG window), so nothing may wait for the iothread.
 */
uint64_t virtio_pci_modern_read(VirtIOPCIProxy *proxy, uint64_t offset,
                                unsigned size, bool wait);
void virtio_pci_modern_write(VirtIOPCIProxy *proxy, uint64_t offset,
                             uint64_t value, unsigned size, bool wait);

/* Resets the transport's own registers (after a device status of 0);
 * @pci_locked when the caller holds the PCI lock. */
void virtio_pci_reset_registers(VirtIOPCIProxy *proxy, bool pci_locked);

/* Sets INTx to follow the ISR's queue bit (deferred to the iothread when
 * the caller holds the PCI lock). */
void virtio_pci_update_intx(VirtIOPCIProxy *proxy, bool pci_locked);

/* A vector the driver may use: below the table size of a present MSI-X. */
uint16_t virtio_pci_valid_vector(VirtIOPCIProxy *proxy, uint16_t vector);

#endif
