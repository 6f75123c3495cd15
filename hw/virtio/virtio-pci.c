/*
 * virtio-pci: identity, BARs, capabilities, interrupts, reset and the
 * PCI_CFG window (see include/hw/virtio-pci.h).  The register files are
 * virtio-pci-modern.c and virtio-pci-legacy.c.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "hw/virtio-pci.h"

#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#define PCI_VENDOR_ID_REDHAT_QUMRANET   0x1af4
#define VIRTIO_PCI_MODERN_DEVICE_BASE   0x1040
/* Subsystem id of modern-only devices (QEMU's; drivers ignore it). */
#define VIRTIO_PCI_MODERN_SUBSYS_ID     0x1100

#define MODERN_BAR                      4
#define MODERN_BAR_SIZE                 0x4000
#define MODERN_REGION_SIZE              0x1000
#define MSIX_BAR                        1
#define LEGACY_BAR                      0
/* Legacy header: 20 bytes, 24 with MSI-X (vectors at 20 and 22). */
#define LEGACY_HDR_SIZE(msix)           ((msix) ? 24 : 20)

/* QEMU 7.2's capability offsets (virtio.md §2). */
#define CAP_COMMON_OFF                  0x40
#define CAP_ISR_OFF                     0x50
#define CAP_DEVICE_OFF                  0x60
#define CAP_NOTIFY_OFF                  0x70
#define CAP_PCI_CFG_OFF                 0x84
#define NOTIFY_OFF_MULTIPLIER           4

/* ISR bit 0: a queue interrupt (bit 1, VIRTIO_PCI_ISR_CONFIG: config). */
#define ISR_QUEUE                       0x1

const DeviceProperty virtio_pci_props[] = {
    { .name = "disable-legacy", .info = &prop_info_on_off_auto,
      .offset = offsetof(VirtIOPCIProxy, disable_legacy), .defval = "auto",
      .help = "on/off/auto: no legacy I/O BAR (auto: off, as on a "
              "conventional PCI bus)" },
    { .name = "disable-modern", .info = &prop_info_bool,
      .offset = offsetof(VirtIOPCIProxy, disable_modern), .defval = "off",
      .help = "no modern (virtio 1.x) interface" },
    { .name = "vectors", .info = &prop_info_uint32,
      .offset = offsetof(VirtIOPCIProxy, vectors), .defval = "4294967295",
      .help = "MSI-X vectors; 4294967295: one per queue plus one (unused "
              "where the transport cannot deliver MSI-X)" },
    { NULL }
};

/* Transitional device ids, by virtio device id (virtio 1.2, 4.1.2.1). */
static uint16_t transitional_device_id(uint16_t virtio_id)
{
    switch (virtio_id) {
    case VIRTIO_ID_NET:
        return 0x1000;
    case VIRTIO_ID_BLOCK:
        return 0x1001;
    case VIRTIO_ID_BALLOON:
        return 0x1002;
    case VIRTIO_ID_CONSOLE:
        return 0x1003;
    case VIRTIO_ID_SCSI:
        return 0x1004;
    case VIRTIO_ID_RNG:
        return 0x1005;
    case VIRTIO_ID_9P:
        return 0x1009;
    default:
        return 0;
    }
}

/* --- interrupts ------------------------------------------------------------ */

uint16_t virtio_pci_valid_vector(VirtIOPCIProxy *p, uint16_t vector)
{
    return p->msix && vector < p->nvectors ? vector : VIRTIO_NO_VECTOR;
}

static void update_intx_fn(void *opaque)
{
    VirtIOPCIProxy *p = opaque;

    pci_set_irq(&p->pci_dev,
                (__atomic_load_n(&p->isr, __ATOMIC_SEQ_CST) & ISR_QUEUE) != 0);
}

void virtio_pci_update_intx(VirtIOPCIProxy *p, bool pci_locked)
{
    if (pci_locked) {
        /* pci_set_irq() takes the PCI lock the caller holds: let the
         * iothread do it; it re-reads the ISR, so a raise in between
         * is not lost. */
        iothread_run_async(p->vdev->iothread, update_intx_fn, p);
    } else {
        update_intx_fn(p);
    }
}

/*
 * Signals @vector if MSI-X is on, else sets ISR bits and asserts INTx.
 * Like QEMU, a config change in INTx mode sets both ISR bits, so the line
 * (which follows bit 0) rises for it too.
 */
static void notify_vector(VirtIOPCIProxy *p, uint16_t vector, bool config)
{
    if (p->msix && msix_enabled(&p->pci_dev)) {
        if (config) {
            __atomic_fetch_or(&p->isr, VIRTIO_PCI_ISR_CONFIG,
                              __ATOMIC_SEQ_CST);
        }
        if (vector != VIRTIO_NO_VECTOR) {
            msix_notify(&p->pci_dev, vector);
        }
        return;
    }
    __atomic_fetch_or(&p->isr, config ? ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG
                                      : ISR_QUEUE, __ATOMIC_SEQ_CST);
    pci_set_irq(&p->pci_dev, true);
}

static void virtio_pci_notify_queue(void *opaque, VirtQueue *vq)
{
    VirtIOPCIProxy *p = opaque;

    qr_log_mask(LOG_IRQ, "virtio-pci: %s: queue %u interrupt",
                p->vdev->name, virtio_queue_index(vq));
    notify_vector(p, virtio_queue_get_vector(vq), false);
}

static void virtio_pci_notify_config(void *opaque)
{
    VirtIOPCIProxy *p = opaque;

    qr_log_mask(LOG_IRQ, "virtio-pci: %s: config interrupt", p->vdev->name);
    notify_vector(p, __atomic_load_n(&p->config_vector, __ATOMIC_RELAXED),
                  true);
}

static const VirtioTransportOps virtio_pci_transport_ops = {
    .notify_queue = virtio_pci_notify_queue,
    .notify_config = virtio_pci_notify_config,
};

/* --- reset ------------------------------------------------------------------ */

void virtio_pci_reset_registers(VirtIOPCIProxy *p, bool pci_locked)
{
    p->dfselect = 0;
    p->gfselect = 0;
    p->gfeatures = 0;
    p->queue_select = 0;
    __atomic_store_n(&p->config_vector, VIRTIO_NO_VECTOR, __ATOMIC_RELAXED);
    __atomic_store_n(&p->isr, 0, __ATOMIC_SEQ_CST);
    virtio_pci_update_intx(p, pci_locked);
}

void virtio_pci_reset(VirtIOPCIProxy *p)
{
    if (!p->vdev) {
        return;
    }
    virtio_reset(p->vdev);
    virtio_pci_reset_registers(p, false);
}

/* --- the PCI_CFG window (runs with the PCI lock held) ----------------------- */

/* The BAR access the window's registers describe, if valid: only the
 * modern BAR, 1/2/4 bytes inside it. */
static bool window_target(VirtIOPCIProxy *p, uint32_t *off, unsigned *len)
{
    const uint8_t *cap = p->pci_dev.config + p->pci_cfg_cap;
    uint8_t bar = cap[offsetof(struct virtio_pci_cap, bar)];

    *off = pci_get_long(cap + offsetof(struct virtio_pci_cap, offset));
    *len = pci_get_long(cap + offsetof(struct virtio_pci_cap, length));
    return bar == MODERN_BAR && (*len == 1 || *len == 2 || *len == 4) &&
           range_fits(*off, *len, MODERN_BAR_SIZE);
}

static bool touches_window_data(VirtIOPCIProxy *p, uint32_t addr,
                                unsigned len)
{
    uint32_t data = p->pci_cfg_cap + offsetof(struct virtio_pci_cfg_cap,
                                              pci_cfg_data);

    return p->pci_cfg_cap && addr < data + 4 && data < addr + len;
}

static uint32_t virtio_pci_config_read(PCIDevice *d, uint32_t addr,
                                       unsigned len)
{
    VirtIOPCIProxy *p = container_of(d, VirtIOPCIProxy, pci_dev);
    uint32_t off;
    unsigned n;

    if (touches_window_data(p, addr, len) && window_target(p, &off, &n)) {
        uint64_t v = virtio_pci_modern_read(p, off, n, false);

        pci_set_long(d->config + p->pci_cfg_cap +
                     offsetof(struct virtio_pci_cfg_cap, pci_cfg_data),
                     (uint32_t)v);
    }
    return pci_default_config_read(d, addr, len);
}

static void virtio_pci_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                                    unsigned len)
{
    VirtIOPCIProxy *p = container_of(d, VirtIOPCIProxy, pci_dev);
    uint32_t off;
    unsigned n;

    pci_default_config_write(d, addr, val, len);
    if (touches_window_data(p, addr, len) && window_target(p, &off, &n)) {
        uint32_t v = pci_get_long(d->config + p->pci_cfg_cap +
                                  offsetof(struct virtio_pci_cfg_cap,
                                           pci_cfg_data));

        /* The PCI lock is held: nothing here may wait for the iothread. */
        virtio_pci_modern_write(p, off, v, n, false);
    }
}

/* --- realize ----------------------------------------------------------------- */

/* Adds a vendor capability describing [@offset, +@length) of @bar. */
static bool add_virtio_cap(PCIDevice *d, uint8_t at, uint8_t cap_len,
                           uint8_t cfg_type, uint8_t bar, uint32_t offset,
                           uint32_t length, GError **errp)
{
    uint8_t off = pci_add_capability(d, PCI_CAP_ID_VNDR, at, cap_len, errp);
    uint8_t *cap = d->config + off;

    if (!off) {
        return false;
    }
    cap[offsetof(struct virtio_pci_cap, cap_len)] = cap_len;
    cap[offsetof(struct virtio_pci_cap, cfg_type)] = cfg_type;
    cap[offsetof(struct virtio_pci_cap, bar)] = bar;
    pci_set_long(cap + offsetof(struct virtio_pci_cap, offset), offset);
    pci_set_long(cap + offsetof(struct virtio_pci_cap, length), length);
    return true;
}

static bool add_modern_caps(VirtIOPCIProxy *p, GError **errp)
{
    PCIDevice *d = &p->pci_dev;
    uint8_t *wm;

    if (!add_virtio_cap(d, CAP_COMMON_OFF, sizeof(struct virtio_pci_cap),
                        VIRTIO_PCI_CAP_COMMON_CFG, MODERN_BAR, 0,
                        MODERN_REGION_SIZE, errp) ||
        !add_virtio_cap(d, CAP_ISR_OFF, sizeof(struct virtio_pci_cap),
                        VIRTIO_PCI_CAP_ISR_CFG, MODERN_BAR,
                        MODERN_REGION_SIZE, MODERN_REGION_SIZE, errp) ||
        !add_virtio_cap(d, CAP_DEVICE_OFF, sizeof(struct virtio_pci_cap),
                        VIRTIO_PCI_CAP_DEVICE_CFG, MODERN_BAR,
                        2 * MODERN_REGION_SIZE, MODERN_REGION_SIZE, errp) ||
        !add_virtio_cap(d, CAP_NOTIFY_OFF,
                        sizeof(struct virtio_pci_notify_cap),
                        VIRTIO_PCI_CAP_NOTIFY_CFG, MODERN_BAR,
                        3 * MODERN_REGION_SIZE, MODERN_REGION_SIZE, errp) ||
        !add_virtio_cap(d, CAP_PCI_CFG_OFF, sizeof(struct virtio_pci_cfg_cap),
                        VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, errp)) {
        return false;
    }
    pci_set_long(d->config + CAP_NOTIFY_OFF +
                 offsetof(struct virtio_pci_notify_cap,
                          notify_off_multiplier), NOTIFY_OFF_MULTIPLIER);

    /* The window's bar, offset, length and data are the driver's. */
    p->pci_cfg_cap = CAP_PCI_CFG_OFF;
    wm = d->wmask + CAP_PCI_CFG_OFF;
    wm[offsetof(struct virtio_pci_cap, bar)] = 0xff;
    memset(wm + offsetof(struct virtio_pci_cap, offset), 0xff, 8);
    memset(wm + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data), 0xff, 4);
    d->config_read = virtio_pci_config_read;
    d->config_write = virtio_pci_config_write;
    return true;
}

static uint32_t pow2_ceil(uint32_t v)
{
    uint32_t r = 1;

    while (r < v) {
        r <<= 1;
    }
    return r;
}

bool virtio_pci_realize(VirtIOPCIProxy *p, VirtIODevice *vdev,
                        uint32_t class_code, GError **errp)
{
    PCIDevice *d = &p->pci_dev;
    uint16_t trans_id = transitional_device_id(vdev->device_id);
    unsigned nvectors;
    int r;

    p->modern = !p->disable_modern;
    p->legacy = p->disable_legacy != ON_OFF_AUTO_ON;
    if (!p->modern && !p->legacy) {
        error_setg(errp, "device cannot work as neither modern nor legacy "
                   "mode is enabled");
        return false;
    }
    if (p->legacy && !trans_id) {
        if (p->disable_legacy == ON_OFF_AUTO_OFF) {
            error_setg(errp, "virtio device type %u has no legacy interface",
                       vdev->device_id);
            return false;
        }
        p->legacy = false;
    }
    p->vdev = vdev;

    pci_config_set_vendor_id(d, PCI_VENDOR_ID_REDHAT_QUMRANET);
    if (p->legacy) {
        pci_config_set_device_id(d, trans_id);
        pci_config_set_revision(d, 0);
        pci_config_set_subsystem(d, PCI_VENDOR_ID_REDHAT_QUMRANET,
                                 vdev->device_id);
    } else {
        pci_config_set_device_id(d, VIRTIO_PCI_MODERN_DEVICE_BASE +
                                    vdev->device_id);
        pci_config_set_revision(d, 1);
        pci_config_set_subsystem(d, PCI_VENDOR_ID_REDHAT_QUMRANET,
                                 VIRTIO_PCI_MODERN_SUBSYS_ID);
    }
    pci_config_set_class(d, class_code);
    pci_config_set_interrupt_pin(d, 1);

    if (p->modern) {
        if (!add_modern_caps(p, errp) ||
            !pci_register_bar(d, MODERN_BAR,
                              PCI_BASE_ADDRESS_SPACE_MEMORY |
                              PCI_BASE_ADDRESS_MEM_TYPE_64 |
                              PCI_BASE_ADDRESS_MEM_PREFETCH,
                              MODERN_BAR_SIZE, &virtio_pci_modern_ops, p,
                              errp)) {
            return false;
        }
    }

    nvectors = p->vectors == VIRTIO_PCI_VECTORS_AUTO ? vdev->num_queues + 1
                                                     : p->vectors;
    if (nvectors > 0) {
        r = msix_init_exclusive_bar(d, nvectors, MSIX_BAR, errp);
        if (r == -EINVAL) {
            return false;
        }
        p->msix = r == 0;
        p->nvectors = p->msix ? nvectors : 0;
    }

    if (p->legacy) {
        /* QEMU's size: the legacy header plus the device config, rounded
         * up to a power of two. */
        uint32_t size = pow2_ceil(LEGACY_HDR_SIZE(p->msix) +
                                  vdev->config_len);

        if (!pci_register_bar(d, LEGACY_BAR, PCI_BASE_ADDRESS_SPACE_IO,
                              MAX(size, 4u), &virtio_pci_legacy_ops, p,
                              errp)) {
            return false;
        }
    }

    virtio_pci_reset_registers(p, false);
    virtio_device_set_transport(vdev, &virtio_pci_transport_ops, p,
                                pci_get_dma(d));
    qr_log_mask(LOG_VIRTIO, "virtio-pci: %s: %s%s%s, %u MSI-X vectors",
                vdev->name, p->legacy ? "legacy" : "",
                p->legacy && p->modern ? "+" : "", p->modern ? "modern" : "",
                p->nvectors);
    return true;
}
