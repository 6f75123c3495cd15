/*
 * virtio-pci legacy interface: the I/O BAR0 of transitional devices
 * (virtio 1.2, 4.1.4.8): 32 feature bits, one page-aligned ring per queue
 * given by its page frame number, device config after the header.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/log.h"
#include "hw/virtio-pci.h"
#include "virtio-pci-regs.h"

#include <linux/virtio_pci.h>

static const RegField legacy_fields[] = {
    { VIRTIO_PCI_HOST_FEATURES, 4 }, { VIRTIO_PCI_GUEST_FEATURES, 4 },
    { VIRTIO_PCI_QUEUE_PFN, 4 }, { VIRTIO_PCI_QUEUE_NUM, 2 },
    { VIRTIO_PCI_QUEUE_SEL, 2 }, { VIRTIO_PCI_QUEUE_NOTIFY, 2 },
    { VIRTIO_PCI_STATUS, 1 }, { VIRTIO_PCI_ISR, 1 },
    /* Present only while MSI-X is enabled (then config starts at 24). */
    { VIRTIO_MSI_CONFIG_VECTOR, 2 }, { VIRTIO_MSI_QUEUE_VECTOR, 2 },
};

/* Bits a legacy driver sees: the low word, without VERSION_1 (bit 32). */
static uint32_t legacy_features(VirtIOPCIProxy *p)
{
    return (uint32_t)p->vdev->host_features;
}

static bool msix_on(VirtIOPCIProxy *p)
{
    return p->msix && msix_enabled(&p->pci_dev);
}

static uint64_t legacy_get(void *opaque, unsigned off)
{
    VirtIOPCIProxy *p = opaque;
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = virtio_get_queue(vdev, p->queue_select);
    uint64_t desc, avail, used;

    switch (off) {
    case VIRTIO_PCI_HOST_FEATURES:
        return legacy_features(p);
    case VIRTIO_PCI_GUEST_FEATURES:
        return (uint32_t)vdev->guest_features;
    case VIRTIO_PCI_QUEUE_PFN:
        if (!vq) {
            return 0;
        }
        virtio_queue_get_addrs(vq, &desc, &avail, &used);
        return desc >> VIRTIO_PCI_QUEUE_ADDR_SHIFT;
    case VIRTIO_PCI_QUEUE_NUM:
        return vq ? virtio_queue_get_size(vq) : 0;
    case VIRTIO_PCI_QUEUE_SEL:
        return p->queue_select;
    case VIRTIO_PCI_STATUS:
        return virtio_get_status(vdev);
    case VIRTIO_PCI_ISR: {
        uint8_t isr = (uint8_t)__atomic_exchange_n(&p->isr, 0,
                                                   __ATOMIC_SEQ_CST);

        virtio_pci_update_intx(p, false);
        return isr;
    }
    case VIRTIO_MSI_CONFIG_VECTOR:
        return __atomic_load_n(&p->config_vector, __ATOMIC_RELAXED);
    case VIRTIO_MSI_QUEUE_VECTOR:
        return vq ? virtio_queue_get_vector(vq) : VIRTIO_NO_VECTOR;
    default:
        return 0;
    }
}

/* PFN != 0: the queue's ring at pfn << 12 in the legacy layout; 0: stop
 * and disable it. */
static void set_pfn(VirtIOPCIProxy *p, VirtQueue *vq, uint32_t pfn)
{
    uint64_t num = virtio_queue_get_size(vq);
    uint64_t desc, avail, used;

    if (pfn == 0) {
        if (virtio_queue_running(vq)) {
            virtio_queue_stop(vq);
        }
        virtio_queue_set_enabled(vq, false);
        virtio_queue_set_addrs(vq, 0, 0, 0);
        return;
    }
    if (virtio_queue_running(vq)) {
        qr_log_mask(LOG_GUEST_ERROR, "virtio-pci: %s: queue %u is running; "
                    "PFN write ignored", p->vdev->name,
                    virtio_queue_index(vq));
        return;
    }
    /* Descriptors, then the avail ring (with used_event), then the used
     * ring at the next 4 KiB boundary. */
    desc = (uint64_t)pfn << VIRTIO_PCI_QUEUE_ADDR_SHIFT;
    avail = desc + 16 * num;
    used = QR_ALIGN_UP(avail + 6 + 2 * num, (uint64_t)VIRTIO_PCI_VRING_ALIGN);
    virtio_queue_set_addrs(vq, desc, avail, used);
    virtio_queue_set_enabled(vq, true);
    if (virtio_get_status(p->vdev) & VIRTIO_CONFIG_S_DRIVER_OK) {
        virtio_queue_start(vq, true, NULL);
    }
}

static void legacy_set(void *opaque, unsigned off, uint64_t v)
{
    VirtIOPCIProxy *p = opaque;
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = virtio_get_queue(vdev, p->queue_select);
    GError *err = NULL;

    switch (off) {
    case VIRTIO_PCI_GUEST_FEATURES:
        if (!virtio_set_features(vdev, v & legacy_features(p), &err)) {
            qr_log_mask(LOG_GUEST_ERROR, "virtio-pci: %s", err->message);
            g_error_free(err);
        }
        return;
    case VIRTIO_PCI_QUEUE_PFN:
        if (vq) {
            set_pfn(p, vq, (uint32_t)v);
        }
        return;
    case VIRTIO_PCI_QUEUE_SEL:
        p->queue_select = (uint16_t)v;
        return;
    case VIRTIO_PCI_QUEUE_NOTIFY:
        vq = virtio_get_queue(vdev, (unsigned)v);
        if (vq) {
            virtio_queue_notify(vq);
        }
        return;
    case VIRTIO_PCI_STATUS:
        virtio_set_status(vdev, (uint8_t)v, false, true);
        if (v == 0) {
            virtio_pci_reset_registers(p, false);
        }
        return;
    case VIRTIO_MSI_CONFIG_VECTOR:
        __atomic_store_n(&p->config_vector,
                         virtio_pci_valid_vector(p, (uint16_t)v),
                         __ATOMIC_RELAXED);
        return;
    case VIRTIO_MSI_QUEUE_VECTOR:
        if (vq) {
            virtio_queue_set_vector(vq,
                                    virtio_pci_valid_vector(p, (uint16_t)v));
        }
        return;
    default:
        return;     /* read-only */
    }
}

static unsigned nfields(VirtIOPCIProxy *p)
{
    return G_N_ELEMENTS(legacy_fields) - (msix_on(p) ? 0 : 2);
}

static uint64_t legacy_bar_read(void *opaque, uint64_t offset, unsigned size)
{
    VirtIOPCIProxy *p = opaque;
    uint32_t cfg = VIRTIO_PCI_CONFIG_OFF(msix_on(p));
    uint64_t val = 0;

    if (offset >= cfg) {
        virtio_config_read(p->vdev, (uint32_t)(offset - cfg), size, &val);
    } else {
        val = regs_read(legacy_fields, nfields(p), offset,
                        MIN(size, (unsigned)(cfg - offset)), legacy_get, p);
    }
    qr_log_mask(LOG_VIRTIO, "virtio-pci: %s: legacy read 0x%" PRIx64 "/%u = "
                "0x%" PRIx64, p->vdev->name, offset, size, val);
    return val;
}

static void legacy_bar_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size)
{
    VirtIOPCIProxy *p = opaque;
    uint32_t cfg = VIRTIO_PCI_CONFIG_OFF(msix_on(p));

    qr_log_mask(LOG_VIRTIO, "virtio-pci: %s: legacy write 0x%" PRIx64 "/%u = "
                "0x%" PRIx64, p->vdev->name, offset, size, value);
    if (offset >= cfg) {
        virtio_config_write(p->vdev, (uint32_t)(offset - cfg), size, value);
    } else {
        regs_write(legacy_fields, nfields(p), offset,
                   MIN(size, (unsigned)(cfg - offset)), value, legacy_get,
                   legacy_set, p);
    }
}

const PCIBarOps virtio_pci_legacy_ops = {
    .read = legacy_bar_read,
    .write = legacy_bar_write,
};
