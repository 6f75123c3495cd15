/*
 * libqos virtio: the virtio-pci transport (modern capabilities and the
 * legacy I/O BAR0 register block).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "libqos/virtio.h"
#include "libqos/virtio-internal.h"

#define RESET_TIMEOUT_MS QTEST_TIMEOUT_MS

QTestState *qvirtio_qts(QVirtioPCIDevice *d)
{
    return d->pdev.bus->qts;
}

/* --- register access ------------------------------------------------------ */

static uint8_t region_readb(QVirtioPCIDevice *d, const QVirtioRegion *r,
                            uint32_t off)
{
    return qpci_io_readb(&d->pdev, r->bar, r->offset + off);
}

static uint16_t region_readw(QVirtioPCIDevice *d, const QVirtioRegion *r,
                             uint32_t off)
{
    return qpci_io_readw(&d->pdev, r->bar, r->offset + off);
}

static uint32_t region_readl(QVirtioPCIDevice *d, const QVirtioRegion *r,
                             uint32_t off)
{
    return qpci_io_readl(&d->pdev, r->bar, r->offset + off);
}

static void region_writeb(QVirtioPCIDevice *d, const QVirtioRegion *r,
                          uint32_t off, uint8_t val)
{
    qpci_io_writeb(&d->pdev, r->bar, r->offset + off, val);
}

static void region_writew(QVirtioPCIDevice *d, const QVirtioRegion *r,
                          uint32_t off, uint16_t val)
{
    qpci_io_writew(&d->pdev, r->bar, r->offset + off, val);
}

static void region_writel(QVirtioPCIDevice *d, const QVirtioRegion *r,
                          uint32_t off, uint32_t val)
{
    qpci_io_writel(&d->pdev, r->bar, r->offset + off, val);
}

/* The legacy register block is BAR0 as a whole. */
static QVirtioRegion legacy_region(QVirtioPCIDevice *d)
{
    return (QVirtioRegion){ .bar = &d->bars[0], .offset = 0,
                            .length = d->bars[0].size };
}

/* --- discovery ------------------------------------------------------------ */

static const QPCIBar *map_bar_once(QVirtioPCIDevice *d, uint8_t bar)
{
    if (!d->bars[bar].size) {
        d->bars[bar] = qpci_map_bar(&d->pdev, bar);
    }
    return d->bars[bar].size ? &d->bars[bar] : NULL;
}

static bool find_modern_caps(QVirtioPCIDevice *d, GError **errp)
{
    QVirtioRegion *slots[] = {
        [VIRTIO_PCI_CAP_COMMON_CFG] = &d->common,
        [VIRTIO_PCI_CAP_NOTIFY_CFG] = &d->notify,
        [VIRTIO_PCI_CAP_ISR_CFG] = &d->isr,
        [VIRTIO_PCI_CAP_DEVICE_CFG] = &d->device,
    };
    uint8_t cap = 0;

    while ((cap = qpci_find_capability(&d->pdev, PCI_CAP_ID_VNDR, cap))) {
        uint8_t type = qpci_config_readb(&d->pdev, cap + VIRTIO_PCI_CAP_CFG_TYPE);
        uint8_t bar = qpci_config_readb(&d->pdev, cap + VIRTIO_PCI_CAP_BAR);
        QVirtioRegion *r;

        if (type >= G_N_ELEMENTS(slots) || !slots[type] || slots[type]->bar) {
            continue;   /* other types, and all but the first of a type */
        }
        if (bar >= 6) {
            error_setg(errp, "virtio capability at 0x%x names BAR %u", cap, bar);
            return false;
        }
        r = slots[type];
        r->bar = map_bar_once(d, bar);
        if (!r->bar) {
            error_setg(errp, "virtio capability at 0x%x names missing BAR %u",
                       cap, bar);
            return false;
        }
        r->offset = qpci_config_readl(&d->pdev, cap + VIRTIO_PCI_CAP_OFFSET);
        r->length = qpci_config_readl(&d->pdev, cap + VIRTIO_PCI_CAP_LENGTH);
        if (!range_fits(r->offset, r->length, r->bar->size)) {
            error_setg(errp, "virtio capability at 0x%x exceeds BAR %u", cap,
                       bar);
            return false;
        }
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
            d->notify_off_multiplier =
                qpci_config_readl(&d->pdev, cap + VIRTIO_PCI_NOTIFY_CAP_MULT);
        }
    }
    if (!d->common.bar || !d->notify.bar || !d->isr.bar) {
        error_setg(errp, "virtio common, notify or ISR capability missing");
        return false;
    }
    return true;
}

bool qvirtio_pci_init(QVirtioPCIDevice *d, QPCIBus *bus, uint8_t devfn,
                      bool modern, GError **errp)
{
    memset(d, 0, sizeof(*d));
    qpci_device_at(bus, devfn, &d->pdev);
    d->modern = modern;
    if (modern) {
        if (!find_modern_caps(d, errp)) {
            return false;
        }
    } else if (!map_bar_once(d, 0) || !d->bars[0].io) {
        error_setg(errp, "no legacy I/O BAR0");
        return false;
    }
    qpci_enable(&d->pdev);
    return true;
}

/* --- status and features ---------------------------------------------- */

uint8_t qvirtio_get_status(QVirtioPCIDevice *d)
{
    QVirtioRegion legacy = legacy_region(d);

    return d->modern ? region_readb(d, &d->common, VIRTIO_PCI_COMMON_STATUS)
                     : region_readb(d, &legacy, VIRTIO_PCI_STATUS);
}

void qvirtio_set_status(QVirtioPCIDevice *d, uint8_t status)
{
    QVirtioRegion legacy = legacy_region(d);

    if (d->modern) {
        region_writeb(d, &d->common, VIRTIO_PCI_COMMON_STATUS, status);
    } else {
        region_writeb(d, &legacy, VIRTIO_PCI_STATUS, status);
    }
}

static bool status_is_zero(QTestState *qts, void *opaque)
{
    return qvirtio_get_status(opaque) == 0;
}

bool qvirtio_reset(QVirtioPCIDevice *d)
{
    qvirtio_set_status(d, 0);
    return qtest_wait_for(qvirtio_qts(d), RESET_TIMEOUT_MS, status_is_zero, d);
}

uint64_t qvirtio_device_features(QVirtioPCIDevice *d)
{
    QVirtioRegion legacy = legacy_region(d);
    uint64_t f;

    if (!d->modern) {
        return region_readl(d, &legacy, VIRTIO_PCI_HOST_FEATURES);
    }
    region_writel(d, &d->common, VIRTIO_PCI_COMMON_DFSELECT, 0);
    f = region_readl(d, &d->common, VIRTIO_PCI_COMMON_DF);
    region_writel(d, &d->common, VIRTIO_PCI_COMMON_DFSELECT, 1);
    f |= (uint64_t)region_readl(d, &d->common, VIRTIO_PCI_COMMON_DF) << 32;
    return f;
}

void qvirtio_set_driver_features(QVirtioPCIDevice *d, uint64_t features)
{
    QVirtioRegion legacy = legacy_region(d);

    if (!d->modern) {
        region_writel(d, &legacy, VIRTIO_PCI_GUEST_FEATURES, features);
        return;
    }
    region_writel(d, &d->common, VIRTIO_PCI_COMMON_GFSELECT, 0);
    region_writel(d, &d->common, VIRTIO_PCI_COMMON_GF, features);
    region_writel(d, &d->common, VIRTIO_PCI_COMMON_GFSELECT, 1);
    region_writel(d, &d->common, VIRTIO_PCI_COMMON_GF, features >> 32);
}

uint64_t qvirtio_driver_features(QVirtioPCIDevice *d)
{
    QVirtioRegion legacy = legacy_region(d);
    uint64_t f;

    if (!d->modern) {
        return region_readl(d, &legacy, VIRTIO_PCI_GUEST_FEATURES);
    }
    region_writel(d, &d->common, VIRTIO_PCI_COMMON_GFSELECT, 0);
    f = region_readl(d, &d->common, VIRTIO_PCI_COMMON_GF);
    region_writel(d, &d->common, VIRTIO_PCI_COMMON_GFSELECT, 1);
    f |= (uint64_t)region_readl(d, &d->common, VIRTIO_PCI_COMMON_GF) << 32;
    return f;
}

bool qvirtio_negotiate(QVirtioPCIDevice *d, uint64_t features)
{
    uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

    if (!qvirtio_reset(d)) {
        return false;
    }
    qvirtio_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    qvirtio_set_status(d, st);
    qvirtio_set_driver_features(d, features);
    d->features = features;
    if (!d->modern) {
        return true;
    }
    qvirtio_set_status(d, st | VIRTIO_CONFIG_S_FEATURES_OK);
    return qvirtio_get_status(d) & VIRTIO_CONFIG_S_FEATURES_OK;
}

void qvirtio_set_driver_ok(QVirtioPCIDevice *d)
{
    qvirtio_set_status(d, qvirtio_get_status(d) | VIRTIO_CONFIG_S_DRIVER_OK);
}

uint8_t qvirtio_isr(QVirtioPCIDevice *d)
{
    QVirtioRegion legacy = legacy_region(d);

    return d->modern ? region_readb(d, &d->isr, 0)
                     : region_readb(d, &legacy, VIRTIO_PCI_ISR);
}

uint16_t qvirtio_num_queues(QVirtioPCIDevice *d)
{
    return d->modern ? region_readw(d, &d->common, VIRTIO_PCI_COMMON_NUMQ) : 0;
}

uint8_t qvirtio_config_generation(QVirtioPCIDevice *d)
{
    return d->modern ? region_readb(d, &d->common,
                                    VIRTIO_PCI_COMMON_CFGGENERATION) : 0;
}

bool qvirtio_wait_status(QVirtioPCIDevice *d, uint8_t bits,
                         unsigned timeout_ms)
{
    int64_t deadline = qtest_now_ms() + timeout_ms;

    for (;;) {
        if ((qvirtio_get_status(d) & bits) == bits) {
            return true;
        }
        if (!qtest_ok(qvirtio_qts(d)) || qtest_now_ms() >= deadline) {
            return false;
        }
        g_usleep(100);
    }
}

/* --- device configuration ------------------------------------------------- */

/* Where device config starts.  Legacy: after the 20-byte register block;
 * MSI-X (which would move it to 24) is never enabled by this driver. */
static QVirtioRegion config_region(QVirtioPCIDevice *d)
{
    QVirtioRegion r = legacy_region(d);

    if (d->modern) {
        return d->device;
    }
    r.offset = VIRTIO_PCI_CONFIG_OFF(false);
    return r;
}

uint8_t qvirtio_config_readb(QVirtioPCIDevice *d, uint32_t offset)
{
    QVirtioRegion r = config_region(d);

    return region_readb(d, &r, offset);
}

uint16_t qvirtio_config_readw(QVirtioPCIDevice *d, uint32_t offset)
{
    QVirtioRegion r = config_region(d);

    return region_readw(d, &r, offset);
}

uint32_t qvirtio_config_readl(QVirtioPCIDevice *d, uint32_t offset)
{
    QVirtioRegion r = config_region(d);

    return region_readl(d, &r, offset);
}

uint64_t qvirtio_config_readq(QVirtioPCIDevice *d, uint32_t offset)
{
    QVirtioRegion r = config_region(d);
    uint64_t lo = region_readl(d, &r, offset);

    /* Two 4-byte reads, as the proxy would split them anyway. */
    return lo | (uint64_t)region_readl(d, &r, offset + 4) << 32;
}

void qvirtio_config_writeb(QVirtioPCIDevice *d, uint32_t offset, uint8_t val)
{
    QVirtioRegion r = config_region(d);

    region_writeb(d, &r, offset, val);
}

/* --- queue registers ------------------------------------------------------ */

uint16_t qvirtio_queue_max_size(QVirtioPCIDevice *d, uint16_t index)
{
    QVirtioRegion legacy = legacy_region(d);

    if (d->modern) {
        region_writew(d, &d->common, VIRTIO_PCI_COMMON_Q_SELECT, index);
        return region_readw(d, &d->common, VIRTIO_PCI_COMMON_Q_SIZE);
    }
    region_writew(d, &legacy, VIRTIO_PCI_QUEUE_SEL, index);
    return region_readw(d, &legacy, VIRTIO_PCI_QUEUE_NUM);
}

void qvirtio_pci_queue_program(QVirtioPCIDevice *d, QVirtQueue *vq)
{
    QVirtioRegion legacy = legacy_region(d);
    const QVirtioRegion *c = &d->common;
    uint16_t noff;

    if (!d->modern) {
        region_writew(d, &legacy, VIRTIO_PCI_QUEUE_SEL, vq->index);
        region_writel(d, &legacy, VIRTIO_PCI_QUEUE_PFN,
                      vq->desc >> VIRTIO_PCI_QUEUE_ADDR_SHIFT);
        vq->notify_addr = d->bars[0].addr + VIRTIO_PCI_QUEUE_NOTIFY;
        vq->notify_io = true;
        return;
    }
    region_writew(d, c, VIRTIO_PCI_COMMON_Q_SELECT, vq->index);
    region_writew(d, c, VIRTIO_PCI_COMMON_Q_SIZE, vq->size);
    region_writel(d, c, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)vq->desc);
    region_writel(d, c, VIRTIO_PCI_COMMON_Q_DESCHI, vq->desc >> 32);
    region_writel(d, c, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)vq->avail);
    region_writel(d, c, VIRTIO_PCI_COMMON_Q_AVAILHI, vq->avail >> 32);
    region_writel(d, c, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)vq->used);
    region_writel(d, c, VIRTIO_PCI_COMMON_Q_USEDHI, vq->used >> 32);
    noff = region_readw(d, c, VIRTIO_PCI_COMMON_Q_NOFF);
    region_writew(d, c, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    vq->notify_addr = d->notify.bar->addr + d->notify.offset +
                      (uint64_t)noff * d->notify_off_multiplier;
    vq->notify_io = d->notify.bar->io;
}
