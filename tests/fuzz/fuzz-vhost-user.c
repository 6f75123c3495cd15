/*
 * Fuzz target: the vhost-user backend (remote/vhost-user: framing with
 * fds, the request table and is_valid_*() predicates, the session state
 * machine, memory table and dirty log through the DMA space, rings, the
 * in-flight region, the backend channel) serving a real virtio-blk device
 * on a memfd disk handed over as /dev/fdset/1, with guest RAM the input
 * fills.  The input is a frontend program (fuzz-stream.h) sent to the
 * session's socket; the session runs on this thread, as on qemu-remote's
 * main loop, and the device's queues in its iothread.  Each input gets a
 * fresh session; the device is reset between them.
 *
 * Whatever the bytes, the process must not crash, hang or leak; the
 * session may only fail and close.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/iothread.h"
#include "qemu-remote/log.h"
#include "block/block.h"
#include "hw/virtio-blk.h"
#include "remote/vhost-user.h"
#include "remote/vhost-user/session.h"
#include "fuzz-stream.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>

/* Larger inputs only repeat what smaller ones do, slower. */
#define FUZZ_MAX_INPUT (64 * 1024)
#define DISK_SIZE (1 << 20)
/* QEMU 7.2's vhost-user-blk-pci uses 2 queues of 128 in our traces. */
#define NUM_QUEUES 2
#define QUEUE_SIZE 256

const DeviceType *const device_types[] = { NULL };

static const DeviceType owner_type = {
    .name = "fuzz-vhost-user-blk",
    .desc = "the fuzzed export's device",
};

static struct {
    FuzzStream fs;
    Device owner;
    VirtIOBlock blk;
    VhostUserBackend be;
    VuSession *session;
} fz;

static void notify_queue(void *opaque, VirtQueue *vq)
{
}

static void notify_config(void *opaque)
{
}

static const VirtioTransportOps transport_ops = {
    .notify_queue = notify_queue,
    .notify_config = notify_config,
};

static void fz_init(void)
{
    VirtIOBlockConf *c = &fz.blk.conf;
    DMASpace *dma;

    qr_log_mask = 0;
    fuzz_stream_init(&fz.fs);
    fuzz_stream_open_disk(DISK_SIZE);

    /* What "-export type=vhost-user-blk,writable=on" configures. */
    c->blk = blk_by_name("disk0");
    c->iothread = iothread_create("fuzz-io", NULL);
    c->num_queues = NUM_QUEUES;
    c->queue_size = QUEUE_SIZE;
    c->logical_block_size = 512;
    c->discard = true;
    c->write_zeroes = true;
    c->max_discard_sectors = VIRTIO_BLK_MAX_REQUEST_SECTORS;
    c->max_write_zeroes_sectors = VIRTIO_BLK_MAX_REQUEST_SECTORS;
    c->config_wce = true;
    c->write_cache = ON_OFF_AUTO_ON;
    c->indirect_desc = true;
    c->event_idx = true;
    fz.owner.type = &owner_type;
    fz.owner.id = g_strdup("fuzz0");
    fz.owner.realized = true;
    g_assert_true(virtio_blk_realize(&fz.blk, &fz.owner, "fuzz0", NULL));
    dma = dma_space_new("fuzz0");
    virtio_device_set_transport(&fz.blk.vdev, &transport_ops, NULL, dma);
    vhost_user_virtio_backend(&fz.be, &fz.blk.vdev);
}

/* Lets the session handle what arrived; it ends at EOF or an error. */
static void pump(void *opaque)
{
    if (fz.session &&
        vu_session_read(fz.session, NULL) != VU_SESSION_CONTINUE) {
        /* Stops the rings, resets the device, closes its socket. */
        vu_session_free(fz.session);
        fz.session = NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool initialized;
    int sv[2];

    if (!initialized) {
        fz_init();
        fz.fs.pump = pump;
        initialized = true;
    }
    if (size > FUZZ_MAX_INPUT) {
        return 0;
    }
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    g_assert_cmpint(fcntl(sv[1], F_SETFL, O_NONBLOCK), ==, 0);
    fz.session = vu_session_new(NULL, &fz.be, "fuzz", sv[1]);

    fuzz_stream_play(&fz.fs, sv[0], data, size);
    shutdown(sv[0], SHUT_WR);
    while (fz.session) {
        fuzz_stream_drain(sv[0]);
        pump(NULL);
    }

    close(sv[0]);
    fuzz_stream_reset(&fz.fs);
    return 0;
}
