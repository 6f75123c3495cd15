/*
 * The vhost-user-blk export: a virtio-blk device (hw/block/virtio-blk.c,
 * the same device virtio-blk-pci serves) on a block node, served by the
 * vhost-user transport (remote/vhost-user) on a socket.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/iothread.h"
#include "qemu-remote/log.h"
#include "qemu-remote/option.h"
#include "qemu-remote/runstate.h"
#include "block/block.h"
#include "hw/virtio-blk.h"
#include "remote/export.h"
#include "remote/export/internal.h"
#include "remote/vhost-user.h"

#include <fcntl.h>

/*
 * Entries per ring the device accepts: the frontend picks the size
 * (QEMU 7.2's vhost-user-blk-pci queue-size, 128 by default, at most
 * 1024).
 */
#define EXPORT_QUEUE_SIZE VIRTQUEUE_MAX_SIZE

/* QEMU's virtio-blk seg_max without seg-max-adjust, what
 * qemu-storage-daemon reports: fits any ring size the frontend picks. */
#define EXPORT_SEG_MAX_ADJUST false

typedef struct VhostUserBlkExport {
    BlockExport common;
    /* The device's identity towards the block layer (image locks) and in
     * messages; not in the -device list. */
    Device owner;
    VirtIOBlock blk;
    bool realized;
    DMASpace *dma;
    VhostUserServer *server;
    char *socket_path;          /* created by us: unlinked at the end */
} VhostUserBlkExport;

static const DeviceType export_device_type = {
    .name = "vhost-user-blk",
    .desc = "virtio block device served by a vhost-user-blk export",
};

static const char *transport_state(void *opaque)
{
    VhostUserBlkExport *e = opaque;

    return e->server && vhost_user_server_is_connected(e->server)
           ? "connected" : "listening";
}

/* Interrupts go through the frontend's call eventfds; a config change
 * reaches QEMU only as CONFIG_CHANGE_MSG, which the export sends itself. */
static void notify_queue(void *opaque, VirtQueue *vq)
{
}

static void notify_config(void *opaque)
{
    VhostUserBlkExport *e = opaque;

    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: config change or device "
                "error (reported through the error eventfd)",
                e->common.id);
}

static const VirtioTransportOps transport_ops = {
    .notify_queue = notify_queue,
    .notify_config = notify_config,
};

/* A connected socket (inherited with addr.type=fd) serves one frontend. */
static void session_over(void *opaque)
{
    VhostUserBlkExport *e = opaque;

    info_report("export '%s': the vhost-user frontend disconnected; "
                "exiting", e->common.id);
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
}

static int open_socket(VhostUserBlkExport *e, const SocketAddress *addr,
                       GError **errp)
{
    uint64_t fd;
    int ret;

    switch (addr->type) {
    case SOCKET_ADDRESS_TYPE_UNIX:
        ret = vhost_user_listen_unix(addr->u.q_unix.path, errp);
        if (ret >= 0) {
            e->socket_path = g_strdup(addr->u.q_unix.path);
        }
        return ret;
    case SOCKET_ADDRESS_TYPE_FD:
        if (!qemu_parse_uint(addr->u.fd.str, &fd, NULL) || fd > INT_MAX ||
            fcntl((int)fd, F_GETFD) < 0) {
            error_setg(errp, "'%s' is not an open file descriptor",
                       addr->u.fd.str);
            return -1;
        }
        return (int)fd;
    default:
        error_setg(errp, "unsupported socket address type");
        return -1;
    }
}

static void vu_blk_destroy(BlockExport *exp)
{
    VhostUserBlkExport *e = container_of(exp, VhostUserBlkExport, common);

    /* The session stops and drains the rings and resets the device. */
    vhost_user_server_free(e->server);
    e->server = NULL;
    if (e->socket_path) {
        unlink(e->socket_path);
        g_clear_pointer(&e->socket_path, g_free);
    }
    if (e->realized) {
        virtio_blk_unrealize(&e->blk);
        e->realized = false;
    }
    g_clear_pointer(&e->owner.id, g_free);
    g_clear_pointer(&e->blk.conf.serial, g_free);
    g_clear_pointer(&e->dma, dma_space_free);
}

static bool vu_blk_create(BlockExport *exp, const BlockExportOptions *opts,
                          GError **errp)
{
    VhostUserBlkExport *e = container_of(exp, VhostUserBlkExport, common);
    const BlockExportOptionsVhostUserBlk *o = &opts->u.vhost_user_blk;
    VirtIOBlockConf *c = &e->blk.conf;
    unsigned nq = o->has_num_queues ? o->num_queues : 1;
    g_autofree char *label = g_strdup_printf("export '%s'", opts->id);
    VhostUserBackend be;
    int fd;

    c->blk = blk_by_name(opts->node_name);
    if (!c->blk) {
        error_setg(errp, "Cannot find device=%s nor node-name=%s",
                   opts->node_name, opts->node_name);
        return false;
    }
    if (opts->writable && blk_is_read_only(c->blk)) {
        error_setg(errp, "Cannot export node '%s' as writable: it is "
                   "read-only", opts->node_name);
        return false;
    }
    if (nq < 1 || nq > VIRTIO_BLK_MAX_QUEUES) {
        error_setg(errp, "num-queues must be between 1 and %d",
                   VIRTIO_BLK_MAX_QUEUES);
        return false;
    }
    if (opts->iothread && o->iothread_vq_mapping) {
        error_setg(errp, "iothread and iothread-vq-mapping cannot be used "
                   "together");
        return false;
    }
    /* The device itself (reset, config) then keeps a private iothread,
     * which only waits for the mapped ones: two exports mapping queues to
     * each other's iothreads cannot wait for each other. */
    if (o->iothread_vq_mapping &&
        !iothread_vq_mapping_apply(o->iothread_vq_mapping, nq,
                                   c->vq_iothread, errp)) {
        return false;
    }
    if (opts->iothread) {
        c->iothread = iothread_find(opts->iothread);
        if (!c->iothread) {
            error_setg(errp, "iothread \"%s\" not found", opts->iothread);
            return false;
        }
    }
    c->num_queues = nq;
    c->queue_size = EXPORT_QUEUE_SIZE;
    c->logical_block_size = o->has_logical_block_size
                            ? o->logical_block_size : 512;
    if (c->logical_block_size > 4096) {
        error_setg(errp, "logical-block-size must be a power of two between "
                   "512 and 4096");
        return false;
    }
    c->read_only = !opts->writable;
    c->discard = true;
    c->write_zeroes = true;
    c->max_discard_sectors = VIRTIO_BLK_MAX_REQUEST_SECTORS;
    c->max_write_zeroes_sectors = VIRTIO_BLK_MAX_REQUEST_SECTORS;
    c->config_wce = true;
    c->write_cache = opts->writethrough ? ON_OFF_AUTO_OFF : ON_OFF_AUTO_ON;
    c->seg_max_adjust = EXPORT_SEG_MAX_ADJUST;
    c->indirect_desc = true;
    c->event_idx = true;

    e->owner.type = &export_device_type;
    e->owner.id = g_strdup(opts->id);
    e->owner.realized = true;
    if (!virtio_blk_realize(&e->blk, &e->owner, opts->id, errp)) {
        vu_blk_destroy(exp);
        return false;
    }
    e->realized = true;
    e->dma = dma_space_new(opts->id);
    virtio_device_set_transport(&e->blk.vdev, &transport_ops, e, e->dma);
    vhost_user_virtio_backend(&be, &e->blk.vdev);

    fd = open_socket(e, o->addr, errp);
    if (fd < 0) {
        vu_blk_destroy(exp);
        return false;
    }
    e->server = vhost_user_server_new(label, fd, &be, session_over, e,
                                      errp);
    if (!e->server) {
        if (o->addr->type != SOCKET_ADDRESS_TYPE_FD) {
            close(fd);
        }
        vu_blk_destroy(exp);
        return false;
    }
    device_set_transport(&e->owner, &(DeviceTransport) {
        .name = "vhost-user",
        .state = transport_state,
        .opaque = e,
    });
    qr_log_mask(LOG_VHOST_USER, "vhost-user export '%s': node '%s', %u "
                "queue(s), %s", opts->id, opts->node_name, nq,
                opts->writable ? "writable" : "read-only");
    return true;
}

static bool vu_blk_in_use(BlockExport *exp)
{
    VhostUserBlkExport *e = container_of(exp, VhostUserBlkExport, common);

    return vhost_user_server_is_connected(e->server);
}

const BlockExportDriver block_export_vhost_user_blk = {
    .type = BLOCK_EXPORT_TYPE_VHOST_USER_BLK,
    .instance_size = sizeof(VhostUserBlkExport),
    .create = vu_blk_create,
    .in_use = vu_blk_in_use,
    .destroy = vu_blk_destroy,
};
