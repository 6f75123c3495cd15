/*
 * libqos virtio: split virtqueues in guest RAM, driver side.
 */
#include "qemu-remote/osdep.h"
#include "libqos/virtio.h"
#include "libqos/virtio-internal.h"

#define DESC_SIZE           16
#define RING_HDR            4   /* flags + idx of the avail and used rings */
#define USED_ELEM_SIZE      8

/* One layout for both transports: legacy's contiguous ring (used ring on
 * the next 4 KiB boundary) satisfies every modern alignment too. */
static uint64_t ring_bytes(uint16_t size)
{
    uint64_t avail_end = (uint64_t)DESC_SIZE * size + RING_HDR + 2 * size + 2;

    return QR_ALIGN_UP(avail_end, VIRTIO_PCI_VRING_ALIGN) +
           QR_ALIGN_UP(RING_HDR + (uint64_t)USED_ELEM_SIZE * size + 2,
                       VIRTIO_PCI_VRING_ALIGN);
}

QVirtQueue *qvirtqueue_setup(QVirtioPCIDevice *d, uint16_t index,
                             uint16_t size)
{
    QTestState *qts = qvirtio_qts(d);
    uint16_t max = qvirtio_queue_max_size(d, index);
    QVirtQueue *vq;
    uint64_t base;

    if (!max || (size && (size > max || !QR_IS_POWER_OF_2(size) ||
                          (!d->modern && size != max)))) {
        g_printerr("libqos: queue %u: size %u unusable (max %u)\n", index,
                   size, max);
        if (g_test_initialized()) {
            g_test_fail();
        }
        return NULL;
    }
    vq = g_new0(QVirtQueue, 1);
    vq->dev = d;
    vq->index = index;
    vq->size = size ? size : max;
    base = qtest_guest_alloc(qts, ring_bytes(vq->size), VIRTIO_PCI_VRING_ALIGN);
    qtest_memset(qts, base, 0, ring_bytes(vq->size));
    vq->desc = base;
    vq->avail = base + (uint64_t)DESC_SIZE * vq->size;
    vq->used = QR_ALIGN_UP(vq->avail + RING_HDR + 2 * vq->size + 2,
                           VIRTIO_PCI_VRING_ALIGN);
    qvirtio_pci_queue_program(d, vq);
    return vq;
}

void qvirtqueue_write_desc(QVirtQueue *vq, uint16_t idx, uint64_t addr,
                           uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t desc[DESC_SIZE];

    for (int i = 0; i < 8; i++) {
        desc[i] = addr >> (8 * i);
    }
    for (int i = 0; i < 4; i++) {
        desc[8 + i] = len >> (8 * i);
    }
    desc[12] = flags;
    desc[13] = flags >> 8;
    desc[14] = next;
    desc[15] = next >> 8;
    qtest_memwrite(qvirtio_qts(vq->dev), vq->desc + (uint64_t)DESC_SIZE * idx,
                   desc, sizeof(desc));
}

uint16_t qvirtqueue_add(QVirtQueue *vq, uint64_t addr, uint32_t len,
                        bool write, bool next)
{
    uint16_t idx = vq->free_head;
    uint16_t following = (idx + 1) % vq->size;

    qvirtqueue_write_desc(vq, idx, addr, len,
                          (write ? VRING_DESC_F_WRITE : 0) |
                          (next ? VRING_DESC_F_NEXT : 0),
                          next ? following : 0);
    vq->free_head = following;
    return idx;
}

QVRingIndirect qvring_indirect_new(QTestState *qts, uint16_t count)
{
    QVRingIndirect ind = {
        .addr = qtest_guest_alloc(qts, (uint64_t)DESC_SIZE * count, DESC_SIZE),
        .count = count,
    };

    qtest_memset(qts, ind.addr, 0, (uint64_t)DESC_SIZE * count);
    return ind;
}

void qvring_indirect_add(QTestState *qts, QVRingIndirect *ind, uint64_t addr,
                         uint32_t len, bool write)
{
    uint64_t entry;

    g_assert_cmpuint(ind->used, <, ind->count);
    entry = ind->addr + (uint64_t)DESC_SIZE * ind->used;
    if (ind->used) {
        uint64_t prev = entry - DESC_SIZE;
        uint16_t flags = qtest_readw(qts, prev + 12);

        qtest_writew(qts, prev + 12, flags | VRING_DESC_F_NEXT);
        qtest_writew(qts, prev + 14, ind->used);
    }
    qtest_writeq(qts, entry, addr);
    qtest_writel(qts, entry + 8, len);
    qtest_writew(qts, entry + 12, write ? VRING_DESC_F_WRITE : 0);
    qtest_writew(qts, entry + 14, 0);
    ind->used++;
}

uint16_t qvirtqueue_add_indirect(QVirtQueue *vq, const QVRingIndirect *ind)
{
    uint16_t idx = vq->free_head;

    qvirtqueue_write_desc(vq, idx, ind->addr, (uint32_t)DESC_SIZE * ind->used,
                          VRING_DESC_F_INDIRECT, 0);
    vq->free_head = (idx + 1) % vq->size;
    return idx;
}

void qvirtqueue_publish(QVirtQueue *vq, uint16_t head)
{
    QTestState *qts = qvirtio_qts(vq->dev);

    qtest_writew(qts, vq->avail + RING_HDR + 2 * (vq->avail_idx % vq->size),
                 head);
    /* The ring entry is in place before the index makes it visible;
     * qtest commands are executed in order. */
    vq->avail_idx++;
    qtest_writew(qts, vq->avail + 2, vq->avail_idx);
}

void qvirtqueue_notify(QVirtQueue *vq)
{
    QTestState *qts = qvirtio_qts(vq->dev);

    if (vq->notify_io) {
        qtest_outw(qts, vq->notify_addr, vq->index);
    } else {
        qtest_writew(qts, vq->notify_addr, vq->index);
    }
}

void qvirtqueue_kick(QVirtQueue *vq, uint16_t head)
{
    qvirtqueue_publish(vq, head);
    qvirtqueue_notify(vq);
}

uint16_t qvirtqueue_used_idx(QVirtQueue *vq)
{
    return qtest_readw(qvirtio_qts(vq->dev), vq->used + 2);
}

bool qvirtqueue_get_used(QVirtQueue *vq, uint32_t *id, uint32_t *len)
{
    QTestState *qts = qvirtio_qts(vq->dev);
    uint64_t elem;

    if (qvirtqueue_used_idx(vq) == vq->last_used_idx || !qtest_ok(qts)) {
        return false;
    }
    elem = vq->used + RING_HDR +
           (uint64_t)USED_ELEM_SIZE * (vq->last_used_idx % vq->size);
    *id = qtest_readl(qts, elem);
    *len = qtest_readl(qts, elem + 4);
    vq->last_used_idx++;
    return true;
}

typedef struct UsedWait {
    QVirtQueue *vq;
    uint32_t *id, *len;
} UsedWait;

static bool used_ready(QTestState *qts, void *opaque)
{
    UsedWait *w = opaque;

    return qvirtqueue_get_used(w->vq, w->id, w->len);
}

bool qvirtqueue_wait_used(QVirtQueue *vq, uint32_t *id, uint32_t *len,
                          unsigned timeout_ms)
{
    UsedWait w = { vq, id, len };

    return qtest_wait_for(qvirtio_qts(vq->dev), timeout_ms, used_ready, &w);
}
