/*
 * Fuzz target: split virtqueues (hw/virtio/virtqueue.c) parsing rings a
 * hostile guest wrote.  The input describes a ring — negotiated features,
 * queue size, avail entries, descriptors (including indirect tables) with
 * addresses mostly inside a small guest RAM and sometimes outside it — and
 * the device pops and completes whatever the ring offers.  Whatever the
 * bytes, the process must not crash, hang or touch memory outside guest RAM
 * (ASan); a violation may only break the device.
 *
 * Built with libFuzzer (configure --enable-fuzzing), or replayed over
 * generated inputs by tests/fuzz/fuzz-replay.c in the fuzz suite.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/log.h"
#include "hw/virtio.h"
#include "fuzz-input.h"

#include <endian.h>
#include <linux/virtio_ids.h>
#include <sys/mman.h>

#define RAM_BASE    0x10000ull
#define RAM_SIZE    0x10000ull          /* 64 KiB: rings and buffers */
#define MAX_QSIZE   16
#define DESC_OFF    0x0000              /* descriptor table */
#define AVAIL_OFF   0x1000
#define USED_OFF    0x2000
#define TABLE_OFF   0x3000              /* indirect tables */
#define DATA_OFF    0x4000              /* buffers and raw input bytes */

typedef struct Fuzz {
    VirtIODevice vdev;
    IOThread *iothread;
    DMASpace *dma;
    uint8_t *ram;
} Fuzz;

static Fuzz fz;

static uint64_t fz_features(VirtIODevice *vdev)
{
    return 0;
}

/* Pops everything the ring offers; completes some, drops others. */
static void fz_handle(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtQueueElement elem;
    unsigned n = 0;

    virtqueue_element_init(&elem);
    virtqueue_set_notification(vq, false);
    while (virtqueue_pop(vq, &elem)) {
        if (elem.in_num > 0) {
            /* Write into the device-writable buffers like a device. */
            memset(elem.in_sg[0].iov_base, 0x5a, elem.in_sg[0].iov_len);
        }
        if (++n % 5 == 0) {
            virtqueue_detach_element(vq, &elem);
        } else {
            virtqueue_fill(vq, &elem, (uint32_t)elem.in_len);
        }
    }
    virtqueue_set_notification(vq, true);
    virtqueue_flush(vq);
    virtqueue_element_release(&elem);
}

static const VirtioDeviceOps fz_ops = {
    .get_features = fz_features,
    .handle_queue = fz_handle,
};

static void fz_notify(void *opaque, VirtQueue *vq)
{
}

static void fz_notify_config(void *opaque)
{
}

static const VirtioTransportOps fz_transport = {
    .notify_queue = fz_notify,
    .notify_config = fz_notify_config,
};

static void fz_init(void)
{
    int fd = memfd_create("fuzz-ram", MFD_CLOEXEC);
    DMARegionDesc r = { .gpa = RAM_BASE, .size = RAM_SIZE, .fd = fd };

    if (fd < 0 || ftruncate(fd, RAM_SIZE) < 0) {
        abort();
    }
    fz.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    fz.dma = dma_space_new("fuzz");
    if (fz.ram == MAP_FAILED || !dma_space_set_table(fz.dma, &r, 1, NULL)) {
        abort();
    }
    close(fd);
    fz.iothread = iothread_create("fuzz", NULL);
    if (!fz.iothread ||
        !virtio_device_init(&fz.vdev, &fz_ops, "fuzz", VIRTIO_ID_BLOCK, 8, 1,
                            MAX_QSIZE, true, true, fz.iothread, NULL)) {
        abort();
    }
    virtio_device_set_transport(&fz.vdev, &fz_transport, &fz, fz.dma);
    /* Violations are the point here; keep stderr quiet. */
    qr_log_mask = 0;
}

static void put16(uint64_t off, uint16_t v)
{
    v = htole16(v);
    memcpy(fz.ram + off, &v, 2);
}

/* A buffer address: usually inside RAM, sometimes anywhere. */
static uint64_t in_addr(Input *in)
{
    uint8_t kind = in8(in);
    uint16_t v = in16(in);

    switch (kind % 8) {
    case 0:
        return (uint64_t)v << 24;           /* far outside */
    case 1:
        return RAM_BASE + RAM_SIZE - (v % 64);  /* straddles the end */
    case 2:
        return RAM_BASE + TABLE_OFF + (v % 0x1000);
    default:
        return RAM_BASE + DATA_OFF + (v % 0xc000);
    }
}

static void put_desc(uint64_t off, Input *in)
{
    uint64_t addr = htole64(in_addr(in));
    uint32_t len = htole32(in8(in) & 0x80 ? in16(in) << 4 : in16(in));
    uint16_t flags = htole16(in8(in) & 7);
    uint16_t next = htole16(in8(in) % (MAX_QSIZE + 2));

    memcpy(fz.ram + off, &addr, 8);
    memcpy(fz.ram + off + 8, &len, 4);
    memcpy(fz.ram + off + 12, &flags, 2);
    memcpy(fz.ram + off + 14, &next, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Input in = { data, size };
    VirtQueue *vq;
    uint8_t opts;
    uint16_t num, navail;

    if (!fz.ram) {
        fz_init();
    }
    memset(fz.ram, 0, RAM_SIZE);

    opts = in8(&in);
    num = (uint16_t)(1u << (in8(&in) % 5));      /* 1..16 */
    navail = in8(&in) % (num + 3);              /* sometimes too many */
    for (uint16_t i = 0; i < navail; i++) {
        /* Heads: mostly valid, sometimes beyond the queue. */
        put16(AVAIL_OFF + 4 + 2u * (i % num), in8(&in) % (num + 2));
    }
    put16(AVAIL_OFF + 2, (opts & 0x8) ? in16(&in) : navail);
    put16(AVAIL_OFF, in8(&in) & 1);                 /* NO_INTERRUPT */
    put16(AVAIL_OFF + 4 + 2u * num, in16(&in));     /* used_event */
    for (unsigned i = 0; i < num; i++) {
        put_desc(DESC_OFF + 16u * i, &in);
    }
    for (unsigned i = 0; i < 16; i++) {
        put_desc(TABLE_OFF + 16u * i, &in);
    }
    memcpy(fz.ram + DATA_OFF, in.p, MIN(in.left, RAM_SIZE - DATA_OFF));

    vq = virtio_get_queue(&fz.vdev, 0);
    virtio_reset(&fz.vdev);
    virtio_set_features(&fz.vdev, (1ull << VIRTIO_F_VERSION_1) |
                        ((opts & 1) ? 1ull << VIRTIO_RING_F_INDIRECT_DESC
                                    : 0) |
                        ((opts & 2) ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0),
                        NULL);
    virtio_queue_set_size(vq, num);
    virtio_queue_set_addrs(vq, RAM_BASE + DESC_OFF, RAM_BASE + AVAIL_OFF,
                           RAM_BASE + USED_OFF);
    if (opts & 4) {
        virtio_queue_set_last_avail_idx(vq, in16(&in));
    }
    /* Starting processes what the ring offers, in the iothread. */
    if (virtio_queue_start(vq, true, NULL)) {
        virtio_queue_stop(vq);
    }
    return 0;
}
