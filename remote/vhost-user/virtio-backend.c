/*
 * VhostUserBackendOps for a device of the virtio core (include/hw/virtio.h):
 * how vhost-user ring messages become virtio queue setup, start and stop.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "remote/vhost-user.h"
#include "remote/vhost-user/inflight.h"
#include "hw/virtio.h"

static void inflight_pop(void *opaque, uint16_t head)
{
    vu_inflight_pop(opaque, head);
}

static void inflight_batch_begin(void *opaque, const uint16_t *heads,
                                 unsigned n)
{
    vu_inflight_batch_begin(opaque, heads, n);
}

static void inflight_batch_end(void *opaque, const uint16_t *heads,
                               unsigned n, uint16_t used_idx)
{
    vu_inflight_batch_end(opaque, heads, n, used_idx);
}

static const VirtQueueInflightOps inflight_ops = {
    .pop = inflight_pop,
    .batch_begin = inflight_batch_begin,
    .batch_end = inflight_batch_end,
};

static uint64_t vb_get_features(void *opaque)
{
    VirtIODevice *vdev = opaque;

    return vdev->host_features;
}

/*
 * vhost-user has no device reset: a new device lifetime (the guest driver
 * reset and started again) shows as features set while no ring runs.  A
 * device that broke in the previous lifetime is reset first, so the
 * driver's new rings can run.
 */
static bool vb_set_features(void *opaque, uint64_t features, GError **errp)
{
    VirtIODevice *vdev = opaque;

    if (vdev->broken) {
        virtio_reset(vdev);
    }
    return virtio_set_features(vdev, features, errp);
}

static uint32_t vb_get_config_size(void *opaque)
{
    VirtIODevice *vdev = opaque;

    return vdev->config_len;
}

static void vb_get_config(void *opaque, uint8_t *buf, uint32_t offset,
                          uint32_t len)
{
    virtio_config_get_bytes(opaque, offset, buf, len);
}

static void vb_set_config(void *opaque, const uint8_t *buf, uint32_t offset,
                          uint32_t len)
{
    virtio_config_set_bytes(opaque, offset, buf, len);
}

/*
 * With an in-flight region that a previous backend used, the avail ring
 * continues after everything that backend consumed: the requests it
 * completed (used->idx in guest memory) and those it left in flight
 * (resubmitted first).
 */
static bool setup_inflight(VirtIODevice *vdev, VirtQueue *vq,
                           const VhostUserVringInfo *info, GError **errp)
{
    VuInflightQueue *q = info->inflight;
    g_autofree uint16_t *heads = NULL;
    uint16_t used_idx;
    int n;

    virtio_queue_set_inflight_ops(vq, &inflight_ops, q);
    if (q->fresh) {
        virtio_queue_set_last_avail_idx(vq, info->last_avail_idx);
        return true;
    }
    if (!dma_read(vdev->dma, info->used_gpa + 2, &used_idx,
                  sizeof(used_idx), errp)) {
        return false;
    }
    used_idx = GUINT16_FROM_LE(used_idx);
    heads = g_new(uint16_t, info->size);
    n = vu_inflight_recover(q, used_idx, heads, errp);
    if (n < 0 || !virtio_queue_set_resubmit(vq, heads, (unsigned)n, errp)) {
        return false;
    }
    virtio_queue_set_last_avail_idx(vq, (uint16_t)(used_idx + n));
    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: queue %u resubmits %d "
                "requests, then continues at avail %u (frontend's base %u)",
                vdev->name, info->index, n, (uint16_t)(used_idx + n),
                info->last_avail_idx);
    return true;
}

static void release_fds(VirtQueue *vq)
{
    virtio_queue_set_kick_fd(vq, -1);
    virtio_queue_set_call_fd(vq, -1);
    virtio_queue_set_err_fd(vq, -1);
    virtio_queue_set_inflight_ops(vq, NULL, NULL);
    virtio_queue_set_used_log(vq, false, 0);
}

static bool vb_queue_start(void *opaque, const VhostUserVringInfo *info,
                           GError **errp)
{
    VirtIODevice *vdev = opaque;
    VirtQueue *vq = virtio_get_queue(vdev, info->index);

    if (!vq) {
        error_setg(errp, "the device has no queue %u", info->index);
        return false;
    }
    if (!virtio_queue_set_size(vq, info->size)) {
        error_setg(errp, "ring size %u exceeds the device's %u", info->size,
                   virtio_queue_get_max_size(vq));
        return false;
    }
    virtio_queue_set_addrs(vq, info->desc_gpa, info->avail_gpa,
                           info->used_gpa);
    virtio_queue_set_kick_fd(vq, info->kick_fd);
    virtio_queue_set_call_fd(vq, info->call_fd);
    virtio_queue_set_err_fd(vq, info->err_fd);
    virtio_queue_set_used_log(vq, info->log_used, info->used_gpa);
    if (info->inflight) {
        if (!setup_inflight(vdev, vq, info, errp)) {
            release_fds(vq);
            return false;
        }
    } else {
        virtio_queue_set_inflight_ops(vq, NULL, NULL);
        virtio_queue_set_last_avail_idx(vq, info->last_avail_idx);
    }
    virtio_queue_set_enabled(vq, true);
    if (!virtio_queue_start(vq, true, errp)) {
        release_fds(vq);
        return false;
    }
    return true;
}

static uint16_t vb_queue_stop(void *opaque, unsigned index)
{
    VirtQueue *vq = virtio_get_queue(opaque, index);
    uint16_t base = virtio_queue_stop(vq);

    /* The transport closes the fds and may unmap the region after this. */
    release_fds(vq);
    return base;
}

static void vb_queue_set_call(void *opaque, unsigned index, int call_fd)
{
    virtio_queue_set_call_fd(virtio_get_queue(opaque, index), call_fd);
}

static void vb_queue_set_log(void *opaque, unsigned index, bool log_used,
                             uint64_t used_gpa)
{
    virtio_queue_set_used_log(virtio_get_queue(opaque, index), log_used,
                              used_gpa);
}

static void vb_reset(void *opaque)
{
    virtio_reset(opaque);
}

const VhostUserBackendOps vhost_user_virtio_ops = {
    .get_features = vb_get_features,
    .set_features = vb_set_features,
    .get_config_size = vb_get_config_size,
    .get_config = vb_get_config,
    .set_config = vb_set_config,
    .queue_start = vb_queue_start,
    .queue_stop = vb_queue_stop,
    .queue_set_call = vb_queue_set_call,
    .queue_set_log = vb_queue_set_log,
    .reset = vb_reset,
};

void vhost_user_virtio_backend(VhostUserBackend *be, VirtIODevice *vdev)
{
    *be = (VhostUserBackend) {
        .ops = &vhost_user_virtio_ops,
        .opaque = vdev,
        .num_queues = vdev->num_queues,
        .max_queue_size = virtio_queue_get_max_size(virtio_get_queue(vdev,
                                                                     0)),
        .dma = vdev->dma,
    };
}
