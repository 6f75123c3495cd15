/*
 * virtio-pci modern interface: BAR4 with the common configuration, ISR,
 * device configuration and notification regions (virtio 1.2, 4.1.4).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/log.h"
#include "hw/virtio-pci.h"
#include "virtio-pci-regs.h"

#include <linux/virtio_pci.h>

#define REGION_SIZE         0x1000
#define REGION_COMMON       0
#define REGION_ISR          1
#define REGION_DEVICE       2
#define REGION_NOTIFY       3
#define NOTIFY_MULTIPLIER   4

/* Fields after queue_used_hi, newer than the uapi header we build with. */
#define COMMON_Q_NOTIFY_DATA    56
#define COMMON_Q_RESET          58

/* Legacy-only transport bits, hidden from modern drivers. */
#define LEGACY_ONLY_FEATURES ((1ull << VIRTIO_F_NOTIFY_ON_EMPTY) | \
                              (1ull << VIRTIO_F_ANY_LAYOUT))

static const RegField common_fields[] = {
    { VIRTIO_PCI_COMMON_DFSELECT, 4 }, { VIRTIO_PCI_COMMON_DF, 4 },
    { VIRTIO_PCI_COMMON_GFSELECT, 4 }, { VIRTIO_PCI_COMMON_GF, 4 },
    { VIRTIO_PCI_COMMON_MSIX, 2 }, { VIRTIO_PCI_COMMON_NUMQ, 2 },
    { VIRTIO_PCI_COMMON_STATUS, 1 }, { VIRTIO_PCI_COMMON_CFGGENERATION, 1 },
    { VIRTIO_PCI_COMMON_Q_SELECT, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 2 },
    { VIRTIO_PCI_COMMON_Q_MSIX, 2 }, { VIRTIO_PCI_COMMON_Q_ENABLE, 2 },
    { VIRTIO_PCI_COMMON_Q_NOFF, 2 },
    { VIRTIO_PCI_COMMON_Q_DESCLO, 4 }, { VIRTIO_PCI_COMMON_Q_DESCHI, 4 },
    { VIRTIO_PCI_COMMON_Q_AVAILLO, 4 }, { VIRTIO_PCI_COMMON_Q_AVAILHI, 4 },
    { VIRTIO_PCI_COMMON_Q_USEDLO, 4 }, { VIRTIO_PCI_COMMON_Q_USEDHI, 4 },
    { COMMON_Q_NOTIFY_DATA, 2 }, { COMMON_Q_RESET, 2 },
};

/* A modern common-config access and whether it may block. */
typedef struct CommonAccess {
    VirtIOPCIProxy *p;
    bool wait;
} CommonAccess;

static uint64_t modern_features(VirtIOPCIProxy *p)
{
    return p->vdev->host_features & ~LEGACY_ONLY_FEATURES;
}

static uint64_t queue_addr_get(VirtQueue *vq, unsigned off)
{
    uint64_t desc, avail, used, a;

    virtio_queue_get_addrs(vq, &desc, &avail, &used);
    switch (off & ~7u) {
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        a = desc;
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        a = avail;
        break;
    default:
        a = used;
        break;
    }
    return (off & 4) ? a >> 32 : a & 0xffffffff;
}

static uint64_t common_get(void *opaque, unsigned off)
{
    VirtIOPCIProxy *p = ((CommonAccess *)opaque)->p;
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = virtio_get_queue(vdev, p->queue_select);

    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        return p->dfselect;
    case VIRTIO_PCI_COMMON_DF:
        return p->dfselect < 2
               ? (modern_features(p) >> (32 * p->dfselect)) & 0xffffffff : 0;
    case VIRTIO_PCI_COMMON_GFSELECT:
        return p->gfselect;
    case VIRTIO_PCI_COMMON_GF:
        return p->gfselect < 2
               ? (p->gfeatures >> (32 * p->gfselect)) & 0xffffffff : 0;
    case VIRTIO_PCI_COMMON_MSIX:
        return __atomic_load_n(&p->config_vector, __ATOMIC_RELAXED);
    case VIRTIO_PCI_COMMON_NUMQ:
        return vdev->num_queues;
    case VIRTIO_PCI_COMMON_STATUS:
        return virtio_get_status(vdev);
    case VIRTIO_PCI_COMMON_CFGGENERATION:
        return __atomic_load_n(&vdev->config_generation, __ATOMIC_SEQ_CST);
    case VIRTIO_PCI_COMMON_Q_SELECT:
        return p->queue_select;
    }
    /* Queue fields of a queue that does not exist read as 0. */
    if (!vq) {
        return 0;
    }
    switch (off) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
        return virtio_queue_get_size(vq);
    case VIRTIO_PCI_COMMON_Q_MSIX:
        return virtio_queue_get_vector(vq);
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        return virtio_queue_enabled(vq);
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return virtio_queue_index(vq);
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        return queue_addr_get(vq, off);
    default:
        return 0;   /* queue_notify_data, queue_reset: not offered */
    }
}

static void queue_addr_set(VirtQueue *vq, unsigned off, uint64_t v)
{
    uint64_t a[3], *field;

    virtio_queue_get_addrs(vq, &a[0], &a[1], &a[2]);
    field = &a[(off - VIRTIO_PCI_COMMON_Q_DESCLO) / 8];
    if (off & 4) {
        *field = (*field & 0xffffffffull) | (v << 32);
    } else {
        *field = (*field & ~0xffffffffull) | v;
    }
    virtio_queue_set_addrs(vq, a[0], a[1], a[2]);
}

static void status_write(VirtIOPCIProxy *p, uint8_t v, bool wait)
{
    virtio_set_status(p->vdev, v, true, wait);
    if (v == 0) {
        virtio_pci_reset_registers(p, !wait);
    }
}

static void queue_enable(VirtIOPCIProxy *p, VirtQueue *vq, uint64_t v,
                         bool wait)
{
    if (v != 1) {
        /* Only RING_RESET may disable a queue, and we do not offer it. */
        qr_log_mask(LOG_GUEST_ERROR, "virtio-pci: %s: queue_enable=%" PRIu64
                    " ignored", p->vdev->name, v);
        return;
    }
    if (virtio_queue_enabled(vq)) {
        return;
    }
    virtio_queue_set_enabled(vq, true);
    if (virtio_get_status(p->vdev) & VIRTIO_CONFIG_S_DRIVER_OK) {
        virtio_queue_start(vq, wait, NULL);
    }
}

static void common_set(void *opaque, unsigned off, uint64_t v)
{
    CommonAccess *a = opaque;
    VirtIOPCIProxy *p = a->p;
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = virtio_get_queue(vdev, p->queue_select);

    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        p->dfselect = (uint32_t)v;
        return;
    case VIRTIO_PCI_COMMON_GFSELECT:
        p->gfselect = (uint32_t)v;
        return;
    case VIRTIO_PCI_COMMON_GF:
        /* Features are final once FEATURES_OK is set. */
        if (p->gfselect < 2 &&
            !(virtio_get_status(vdev) & VIRTIO_CONFIG_S_FEATURES_OK)) {
            unsigned shift = 32 * p->gfselect;

            p->gfeatures = (p->gfeatures & ~(0xffffffffull << shift)) |
                           (v << shift);
            virtio_stage_features(vdev, p->gfeatures & modern_features(p));
        }
        return;
    case VIRTIO_PCI_COMMON_MSIX:
        __atomic_store_n(&p->config_vector,
                         virtio_pci_valid_vector(p, (uint16_t)v),
                         __ATOMIC_RELAXED);
        return;
    case VIRTIO_PCI_COMMON_STATUS:
        status_write(p, (uint8_t)v, a->wait);
        return;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        p->queue_select = (uint16_t)v;
        return;
    }
    if (!vq) {
        qr_log_mask(LOG_GUEST_ERROR, "virtio-pci: %s: write to offset %u of "
                    "queue %u, which does not exist", vdev->name, off,
                    p->queue_select);
        return;
    }
    switch (off) {
    case VIRTIO_PCI_COMMON_Q_MSIX:
        virtio_queue_set_vector(vq, virtio_pci_valid_vector(p, (uint16_t)v));
        return;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        queue_enable(p, vq, v, a->wait);
        return;
    }
    /* The ring set-up of an enabled queue is frozen. */
    if (virtio_queue_enabled(vq)) {
        qr_log_mask(LOG_GUEST_ERROR, "virtio-pci: %s: queue %u is enabled; "
                    "write to offset %u ignored", vdev->name,
                    p->queue_select, off);
        return;
    }
    switch (off) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
        if (!virtio_queue_set_size(vq, (uint16_t)v)) {
            qr_log_mask(LOG_GUEST_ERROR, "virtio-pci: %s: queue %u: size %"
                        PRIu64 " is not a power of 2 up to %u", vdev->name,
                        p->queue_select, v, virtio_queue_get_max_size(vq));
        }
        return;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        queue_addr_set(vq, off, v);
        return;
    default:
        return;     /* read-only */
    }
}

uint64_t virtio_pci_modern_read(VirtIOPCIProxy *p, uint64_t offset,
                                unsigned size, bool wait)
{
    uint64_t region_off = offset % REGION_SIZE;
    CommonAccess a = { .p = p, .wait = wait };
    uint64_t val = 0;

    switch (offset / REGION_SIZE) {
    case REGION_COMMON:
        val = regs_read(common_fields, G_N_ELEMENTS(common_fields),
                        region_off, size, common_get, &a);
        break;
    case REGION_ISR:
        if (region_off == 0) {
            /* Reading clears the ISR and de-asserts INTx. */
            val = (uint8_t)__atomic_exchange_n(&p->isr, 0, __ATOMIC_SEQ_CST);
            virtio_pci_update_intx(p, !wait);
        }
        break;
    case REGION_DEVICE:
        virtio_config_read(p->vdev, (uint32_t)region_off, size, &val);
        break;
    default:
        break;      /* notify region: reads 0 */
    }
    qr_log_mask(LOG_VIRTIO, "virtio-pci: %s: read 0x%" PRIx64 "/%u = 0x%"
                PRIx64, p->vdev->name, offset, size, val);
    return val;
}

void virtio_pci_modern_write(VirtIOPCIProxy *p, uint64_t offset,
                             uint64_t value, unsigned size, bool wait)
{
    uint64_t region_off = offset % REGION_SIZE;
    CommonAccess a = { .p = p, .wait = wait };
    VirtQueue *vq;

    qr_log_mask(LOG_VIRTIO, "virtio-pci: %s: write 0x%" PRIx64 "/%u = 0x%"
                PRIx64, p->vdev->name, offset, size, value);
    switch (offset / REGION_SIZE) {
    case REGION_COMMON:
        regs_write(common_fields, G_N_ELEMENTS(common_fields), region_off,
                   size, value, common_get, common_set, &a);
        break;
    case REGION_DEVICE:
        virtio_config_write(p->vdev, (uint32_t)region_off, size, value);
        break;
    case REGION_NOTIFY:
        /* The doorbell's address names the queue (QEMU ignores the
         * value too); a queue that does not exist is ignored. */
        vq = region_off % NOTIFY_MULTIPLIER == 0
             ? virtio_get_queue(p->vdev,
                                (unsigned)(region_off / NOTIFY_MULTIPLIER))
             : NULL;
        if (vq) {
            virtio_queue_notify(vq);
        } else {
            qr_log_mask(LOG_GUEST_ERROR, "virtio-pci: %s: doorbell at 0x%"
                        PRIx64 " names no queue", p->vdev->name, region_off);
        }
        break;
    default:
        break;      /* ISR is read-only */
    }
}

static uint64_t modern_bar_read(void *opaque, uint64_t offset, unsigned size)
{
    return virtio_pci_modern_read(opaque, offset, size, true);
}

static void modern_bar_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size)
{
    virtio_pci_modern_write(opaque, offset, value, size, true);
}

const PCIBarOps virtio_pci_modern_ops = {
    .read = modern_bar_read,
    .write = modern_bar_write,
};
