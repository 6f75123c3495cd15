/*
 * Virtio device core: initialisation, features, status, config space,
 * queue set-up, start/stop/reset marshalled into the device's iothread,
 * and kick handling (see include/hw/virtio.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "virtio-internal.h"

#include <sys/eventfd.h>
#include <glib-unix.h>

/* The iothread that processes @vq. */
static IOThread *vq_iothread(const VirtQueue *vq)
{
    return vq->iothread ? vq->iothread : vq->vdev->iothread;
}

static void signal_fd(int fd)
{
    uint64_t one = 1;

    if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
        qr_log_mask(LOG_VIRTIO, "virtio: eventfd write: %s",
                    g_strerror(errno));
    }
}

/* --- errors and notifications ------------------------------------------ */

void virtio_error(VirtIODevice *vdev, VirtQueue *vq, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    bool first, report, modern;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    g_mutex_lock(&vdev->lock);
    first = !vdev->broken;
    report = first && !vdev->broken_reported;
    modern = virtio_has_feature(vdev, VIRTIO_F_VERSION_1);
    vdev->broken = true;
    if (first) {
        vdev->broken_reported = true;
        if (modern) {
            vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
        }
    }
    g_mutex_unlock(&vdev->lock);

    /* Warn once per device; a guest that breaks it again after each reset
     * is only traced, so it cannot flood the log. */
    if (report) {
        warn_report("%s: virtio device needs a reset: %s", vdev->name, msg);
    }
    qr_log_mask(LOG_GUEST_ERROR, "%s: virtio device broken%s: %s", vdev->name,
                first ? "" : " (again)", msg);
    if (!first) {
        return;
    }
    if (vq) {
        signal_fd(g_atomic_int_get(&vq->err_fd));
    } else {
        for (unsigned i = 0; i < vdev->num_queues; i++) {
            signal_fd(g_atomic_int_get(&vdev->vqs[i].err_fd));
        }
    }
    if (modern) {
        virtio_notify_config(vdev);
    }
}

void virtio_notify_config(VirtIODevice *vdev)
{
    __atomic_fetch_add(&vdev->config_generation, 1, __ATOMIC_SEQ_CST);
    if (vdev->transport && vdev->transport->notify_config) {
        vdev->transport->notify_config(vdev->transport_opaque);
    }
}

/* --- queues: kicks, start, stop (iothread) ----------------------------- */

/* Processes @vq once: refreshes the memory snapshot, lets the device pop
 * up to one queue's worth of requests, re-kicks itself if there is more. */
static void vq_process(VirtQueue *vq)
{
    VirtIODevice *vdev = vq->vdev;
    DMATable *t;

    if (!g_atomic_int_get(&vq->running) || vdev->broken) {
        return;
    }
    t = dma_space_acquire(vdev->dma);
    if (t != vq->table && !virtqueue_map_rings(vq, t)) {
        dma_table_unref(t);
        virtio_error(vdev, vq, "queue %u: rings no longer in guest memory",
                     vq->index);
        return;
    }
    dma_table_unref(t);

    vq->budget = vq->num;
    vq->budget_exhausted = false;
    vdev->ops->handle_queue(vdev, vq);
    if (vq->budget_exhausted && g_atomic_int_get(&vq->running)) {
        /* Yield to the other sources of this iothread, then go on. */
        signal_fd(vq->kick_fd);
    }
}

static gboolean vq_kick_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    VirtQueue *vq = opaque;
    uint64_t cnt;

    /* Readable, so this does not block even on a blocking eventfd. */
    if (read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN) {
        qr_log_mask(LOG_VIRTIO, "virtio: %s: queue %u: kick read: %s",
                    vq->vdev->name, vq->index, g_strerror(errno));
    }
    vq_process(vq);
    return G_SOURCE_CONTINUE;
}

/* Iothread polling (include/qemu-remote/iothread.h): new requests are
 * found in the avail ring without a kick. */
static bool vq_poll(void *opaque)
{
    VirtQueue *vq = opaque;
    uint16_t before = vq->last_avail_idx;
    unsigned resubmitted = vq->resubmit_pos;

    if (!g_atomic_int_get(&vq->running) || vq->vdev->broken ||
        virtqueue_empty(vq)) {
        return false;
    }
    vq_process(vq);
    /* Progress only if the device took requests: one that leaves them in
     * the ring (all its slots busy) must not keep the iothread spinning. */
    return vq->last_avail_idx != before || vq->resubmit_pos != resubmitted;
}

static void vq_poll_set_notify(void *opaque, bool enable)
{
    virtqueue_set_polling(opaque, !enable);
}

static const IOThreadPollHandler vq_poll_handler = {
    .poll = vq_poll,
    .set_notify = vq_poll_set_notify,
};

static void vq_unwatch(VirtQueue *vq)
{
    if (vq->poll_registered) {
        iothread_remove_poll_handler(vq_iothread(vq), &vq_poll_handler, vq);
        vq->poll_registered = false;
    }
    vq->polling = false;
    g_atomic_int_set(&vq->running, 0);
    if (vq->kick_source) {
        g_source_destroy(vq->kick_source);
        g_clear_pointer(&vq->kick_source, g_source_unref);
    }
}

typedef struct StartCall {
    VirtQueue *vq;
    bool ok;
    GError *err;
    bool async;
} StartCall;

static void vq_start_fn(void *opaque)
{
    StartCall *c = opaque;
    VirtQueue *vq = c->vq;
    VirtIODevice *vdev = vq->vdev;
    DMATable *t;

    c->ok = false;
    if (g_atomic_int_get(&vq->running)) {
        c->ok = true;
        goto out;
    }
    if (vdev->broken) {
        error_setg(&c->err, "%s: queue %u: the device is broken", vdev->name,
                   vq->index);
        goto out;
    }
    vq->indirect = virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC);
    vq->notify_on_empty = virtio_has_feature(vdev, VIRTIO_F_NOTIFY_ON_EMPTY);
    t = dma_space_acquire(vdev->dma);
    if (!virtqueue_map_rings(vq, t)) {
        dma_table_unref(t);
        error_setg(&c->err, "queue %u: rings (desc 0x%" PRIx64 " avail 0x%"
                   PRIx64 " used 0x%" PRIx64 " size %u) are misaligned or "
                   "outside guest memory", vq->index, vq->desc_addr,
                   vq->avail_addr, vq->used_addr, vq->num);
        virtio_error(vdev, vq, "%s", c->err->message);
        goto out;
    }
    dma_table_unref(t);

    if (vq->restore) {
        vq->last_avail_idx = vq->base;
        vq->used_idx = virtqueue_read_used_idx(vq);
        vq->restore = false;
    }
    vq->shadow_avail_idx = vq->last_avail_idx;
    vq->signalled_used_valid = false;
    vq->filled = 0;
    vq->resubmit_pos = 0;
    if (vq->inflight_ops) {
        vq->batch_heads = g_renew(uint16_t, vq->batch_heads, vq->num);
    }
    vq->kick_source = g_unix_fd_source_new(vq->kick_fd, G_IO_IN);
    g_source_set_callback(vq->kick_source, G_SOURCE_FUNC(vq_kick_ready), vq,
                          NULL);
    /* Nothing iterates an iothread's context from inside a callback, so
     * GLib need not block the source around each dispatch, which costs two
     * wake-up eventfd writes and one more loop iteration per kick. */
    g_source_set_can_recurse(vq->kick_source, TRUE);
    g_source_attach(vq->kick_source, iothread_get_context(vq_iothread(vq)));
    vq->notify_off = false;
    vq->polling = false;
    iothread_add_poll_handler(vq_iothread(vq), &vq_poll_handler, vq);
    vq->poll_registered = true;
    g_atomic_int_set(&vq->running, 1);
    qr_log_mask(LOG_VIRTIO, "virtio: %s: queue %u started (size %u, avail "
                "%u, used %u)", vdev->name, vq->index, vq->num,
                vq->last_avail_idx, vq->used_idx);
    c->ok = true;
    /* The driver may have queued requests before the kick was watched. */
    vq_process(vq);
out:
    if (c->async) {
        if (c->err) {
            qr_log_mask(LOG_VIRTIO, "virtio: %s", c->err->message);
            g_error_free(c->err);
        }
        g_free(c);
    }
}

bool virtio_queue_start(VirtQueue *vq, bool wait, GError **errp)
{
    StartCall sync = { .vq = vq };
    StartCall *c;

    if (!wait) {
        c = g_new0(StartCall, 1);
        c->vq = vq;
        c->async = true;
        iothread_run_async(vq_iothread(vq), vq_start_fn, c);
        return true;
    }
    iothread_run_sync(vq_iothread(vq), vq_start_fn, &sync);
    if (!sync.ok) {
        g_propagate_error(errp, sync.err);
    }
    return sync.ok;
}

static void vq_stop_fn(void *opaque)
{
    VirtQueue *vq = opaque;
    VirtIODevice *vdev = vq->vdev;

    if (!g_atomic_int_get(&vq->running) && !vq->table) {
        return;
    }
    vq_unwatch(vq);
    /* Everything popped from the queues of this iothread completes and is
     * pushed first. */
    if (vdev->ops->drain) {
        vdev->ops->drain(vdev);
    }
    virtqueue_flush(vq);
    virtqueue_unmap_rings(vq);
    qr_log_mask(LOG_VIRTIO, "virtio: %s: queue %u stopped at avail %u",
                vdev->name, vq->index, vq->last_avail_idx);
}

uint16_t virtio_queue_stop(VirtQueue *vq)
{
    iothread_run_sync(vq_iothread(vq), vq_stop_fn, vq);
    return vq->last_avail_idx;
}

bool virtio_queue_running(const VirtQueue *vq)
{
    return g_atomic_int_get(&vq->running);
}

void virtio_queue_notify(VirtQueue *vq)
{
    if (g_atomic_int_get(&vq->running)) {
        signal_fd(vq->own_kick_fd);
    }
}

/* --- reset ------------------------------------------------------------- */

static void vq_clear(VirtQueue *vq)
{
    virtqueue_unmap_rings(vq);
    vq->num = vq->max_size;
    vq->desc_addr = vq->avail_addr = vq->used_addr = 0;
    vq->enabled = false;
    vq->vector = VIRTIO_NO_VECTOR;
    vq->restore = false;
    vq->base = 0;
    vq->last_avail_idx = vq->shadow_avail_idx = vq->used_idx = 0;
    vq->signalled_used_valid = false;
    vq->inuse = 0;
    vq->filled = 0;
    vq->kick_fd = vq->own_kick_fd;
    g_atomic_int_set(&vq->call_fd, -1);
    g_atomic_int_set(&vq->err_fd, -1);
    vq->log_used = false;
    vq->inflight_ops = NULL;
    vq->inflight_opaque = NULL;
    g_clear_pointer(&vq->resubmit, g_free);
    vq->n_resubmit = vq->resubmit_pos = 0;
}

typedef struct QuiesceCall {
    VirtIODevice *vdev;
    IOThread *iothread;
} QuiesceCall;

/* In @c->iothread: stops the queues it processes, lets the device complete
 * what they had in flight and publishes it. */
static void quiesce_fn(void *opaque)
{
    QuiesceCall *c = opaque;
    VirtIODevice *vdev = c->vdev;

    for (unsigned i = 0; i < vdev->num_queues; i++) {
        if (vq_iothread(&vdev->vqs[i]) == c->iothread) {
            vq_unwatch(&vdev->vqs[i]);
        }
    }
    /* Requests in flight complete (into the rings the driver still owns)
     * before the reset takes effect; nothing is written after it. */
    if (vdev->ops->drain) {
        vdev->ops->drain(vdev);
    }
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        if (vq_iothread(&vdev->vqs[i]) == c->iothread) {
            virtqueue_flush(&vdev->vqs[i]);
        }
    }
}

/* True when queue @n is the first one processed by its iothread. */
static bool first_of_its_iothread(VirtIODevice *vdev, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (vq_iothread(&vdev->vqs[i]) == vq_iothread(&vdev->vqs[n])) {
            return false;
        }
    }
    return true;
}

static void reset_fn(void *opaque)
{
    VirtIODevice *vdev = opaque;
    QuiesceCall own = { .vdev = vdev, .iothread = vdev->iothread };

    /* Queues in other iothreads stop there first (those iothreads never
     * wait for this one, so this cannot deadlock). */
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        QuiesceCall c = { .vdev = vdev,
                          .iothread = vq_iothread(&vdev->vqs[i]) };

        if (c.iothread != vdev->iothread && first_of_its_iothread(vdev, i)) {
            iothread_run_sync(c.iothread, quiesce_fn, &c);
        }
    }
    quiesce_fn(&own);
    if (vdev->ops->reset) {
        vdev->ops->reset(vdev);
    }
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        vq_clear(&vdev->vqs[i]);
    }
    g_mutex_lock(&vdev->lock);
    vdev->status = 0;
    vdev->guest_features = 0;
    vdev->staged_features = 0;
    vdev->broken = false;
    vdev->reset_pending = false;
    g_mutex_unlock(&vdev->lock);
    qr_log_mask(LOG_VIRTIO, "virtio: %s: reset", vdev->name);
}

void virtio_reset(VirtIODevice *vdev)
{
    iothread_run_sync(vdev->iothread, reset_fn, vdev);
}

/* --- features and status ----------------------------------------------- */

static bool set_features_locked(VirtIODevice *vdev, uint64_t features,
                                GError **errp)
{
    if (features & ~vdev->host_features) {
        error_setg(errp, "%s: features 0x%" PRIx64 " were not offered",
                   vdev->name, features & ~vdev->host_features);
        return false;
    }
    if (vdev->ops->validate_features &&
        !vdev->ops->validate_features(vdev, features)) {
        error_setg(errp, "%s: feature set 0x%" PRIx64 " refused", vdev->name,
                   features);
        return false;
    }
    vdev->guest_features = features;
    return true;
}

bool virtio_set_features(VirtIODevice *vdev, uint64_t features,
                         GError **errp)
{
    bool ok;

    g_mutex_lock(&vdev->lock);
    ok = set_features_locked(vdev, features, errp);
    g_mutex_unlock(&vdev->lock);
    if (ok) {
        qr_log_mask(LOG_VIRTIO, "virtio: %s: features 0x%" PRIx64,
                    vdev->name, features);
        if (vdev->ops->set_features) {
            vdev->ops->set_features(vdev, features);
        }
    }
    return ok;
}

void virtio_stage_features(VirtIODevice *vdev, uint64_t features)
{
    g_mutex_lock(&vdev->lock);
    vdev->staged_features = features & vdev->host_features;
    g_mutex_unlock(&vdev->lock);
}

void virtio_set_status(VirtIODevice *vdev, uint8_t val, bool modern,
                       bool wait)
{
    bool start = false, features_ok = false;
    uint8_t old, new;
    GError *err = NULL;

    if (val == 0) {
        if (wait) {
            virtio_reset(vdev);
            return;
        }
        g_mutex_lock(&vdev->lock);
        if (!vdev->reset_pending) {
            vdev->reset_pending = true;
            iothread_run_async(vdev->iothread, reset_fn, vdev);
        }
        g_mutex_unlock(&vdev->lock);
        return;
    }

    g_mutex_lock(&vdev->lock);
    old = vdev->status;
    if (vdev->reset_pending) {
        g_mutex_unlock(&vdev->lock);
        return;
    }
    /* DEVICE_NEEDS_RESET is the device's to set; the driver cannot. */
    new = (val & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
          (old & VIRTIO_CONFIG_S_NEEDS_RESET);
    if (old & ~new) {
        g_mutex_unlock(&vdev->lock);
        qr_log_mask(LOG_GUEST_ERROR, "%s: status write 0x%x would clear bits "
                    "of 0x%x; ignored", vdev->name, val, old);
        return;
    }
    if (modern && (new & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
        if (!(vdev->staged_features & (1ull << VIRTIO_F_VERSION_1))) {
            error_setg(&err, "%s: VERSION_1 not acknowledged", vdev->name);
        } else if (set_features_locked(vdev, vdev->staged_features, &err)) {
            features_ok = true;
        }
        if (err) {
            new &= ~VIRTIO_CONFIG_S_FEATURES_OK;
        }
    }
    if ((new & VIRTIO_CONFIG_S_DRIVER_OK) &&
        !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
        if (modern && !(new & VIRTIO_CONFIG_S_FEATURES_OK)) {
            qr_log_mask(LOG_GUEST_ERROR, "%s: DRIVER_OK without FEATURES_OK",
                        vdev->name);
        } else {
            start = !vdev->broken;
        }
    }
    vdev->status = new;
    g_mutex_unlock(&vdev->lock);

    qr_log_mask(LOG_VIRTIO, "virtio: %s: status 0x%x -> 0x%x", vdev->name,
                old, new);
    if (err) {
        qr_log_mask(LOG_GUEST_ERROR, "%s; FEATURES_OK refused",
                    err->message);
        g_error_free(err);
    }
    if (features_ok && vdev->ops->set_features) {
        vdev->ops->set_features(vdev, vdev->guest_features);
    }
    for (unsigned i = 0; start && i < vdev->num_queues; i++) {
        if (vdev->vqs[i].enabled) {
            /* A failure breaks the device; the driver sees NEEDS_RESET. */
            virtio_queue_start(&vdev->vqs[i], wait, NULL);
        }
    }
}

uint8_t virtio_get_status(VirtIODevice *vdev)
{
    uint8_t s;

    g_mutex_lock(&vdev->lock);
    s = vdev->status;
    g_mutex_unlock(&vdev->lock);
    return s;
}

/* --- config space ------------------------------------------------------ */

static void config_refresh(VirtIODevice *vdev)
{
    memset(vdev->config, 0, vdev->config_len);
    if (vdev->ops->get_config) {
        vdev->ops->get_config(vdev, vdev->config);
    }
}

static bool is_valid_config_access(VirtIODevice *vdev, uint32_t offset,
                                   unsigned len)
{
    return (len == 1 || len == 2 || len == 4 || len == 8) &&
           range_fits(offset, len, vdev->config_len);
}

bool virtio_config_read(VirtIODevice *vdev, uint32_t offset, unsigned len,
                        uint64_t *val)
{
    *val = 0;
    if (!is_valid_config_access(vdev, offset, len)) {
        return false;
    }
    config_refresh(vdev);
    for (unsigned i = 0; i < len; i++) {
        *val |= (uint64_t)vdev->config[offset + i] << (8 * i);
    }
    return true;
}

bool virtio_config_write(VirtIODevice *vdev, uint32_t offset, unsigned len,
                         uint64_t val)
{
    if (!is_valid_config_access(vdev, offset, len)) {
        return false;
    }
    config_refresh(vdev);
    for (unsigned i = 0; i < len; i++) {
        vdev->config[offset + i] = (uint8_t)(val >> (8 * i));
    }
    if (vdev->ops->set_config) {
        vdev->ops->set_config(vdev, vdev->config);
    }
    return true;
}

void virtio_config_get_bytes(VirtIODevice *vdev, uint32_t offset,
                             uint8_t *buf, uint32_t len)
{
    config_refresh(vdev);
    for (uint32_t i = 0; i < len; i++) {
        buf[i] = range_fits(offset, (uint64_t)i + 1, vdev->config_len)
                 ? vdev->config[offset + i] : 0;
    }
}

void virtio_config_set_bytes(VirtIODevice *vdev, uint32_t offset,
                             const uint8_t *buf, uint32_t len)
{
    if (!range_fits(offset, len, vdev->config_len)) {
        return;
    }
    config_refresh(vdev);
    memcpy(vdev->config + offset, buf, len);
    if (vdev->ops->set_config) {
        vdev->ops->set_config(vdev, vdev->config);
    }
}

/* --- queue set-up (transport thread, queue stopped) --------------------- */

VirtQueue *virtio_get_queue(VirtIODevice *vdev, unsigned n)
{
    return n < vdev->num_queues ? &vdev->vqs[n] : NULL;
}

unsigned virtio_queue_index(const VirtQueue *vq)
{
    return vq->index;
}

VirtIODevice *virtio_queue_device(const VirtQueue *vq)
{
    return vq->vdev;
}

uint16_t virtio_queue_get_max_size(const VirtQueue *vq)
{
    return vq->max_size;
}

uint16_t virtio_queue_get_size(const VirtQueue *vq)
{
    return vq->num;
}

/* Queue set-up is frozen while the queue runs or a reset is under way. */
static bool vq_settable(VirtQueue *vq)
{
    return !g_atomic_int_get(&vq->running) && !vq->vdev->reset_pending;
}

bool virtio_queue_set_size(VirtQueue *vq, uint16_t size)
{
    if (!vq_settable(vq) || !QR_IS_POWER_OF_2(size) || size > vq->max_size) {
        return false;
    }
    vq->num = size;
    return true;
}

void virtio_queue_set_addrs(VirtQueue *vq, uint64_t desc, uint64_t avail,
                            uint64_t used)
{
    if (!vq_settable(vq)) {
        return;
    }
    vq->desc_addr = desc;
    vq->avail_addr = avail;
    vq->used_addr = used;
}

void virtio_queue_get_addrs(const VirtQueue *vq, uint64_t *desc,
                            uint64_t *avail, uint64_t *used)
{
    *desc = vq->desc_addr;
    *avail = vq->avail_addr;
    *used = vq->used_addr;
}

void virtio_queue_set_enabled(VirtQueue *vq, bool enabled)
{
    if (!vq->vdev->reset_pending) {
        vq->enabled = enabled;
    }
}

bool virtio_queue_enabled(const VirtQueue *vq)
{
    return vq->enabled;
}

void virtio_queue_set_vector(VirtQueue *vq, uint16_t vector)
{
    __atomic_store_n(&vq->vector, vector, __ATOMIC_RELAXED);
}

uint16_t virtio_queue_get_vector(const VirtQueue *vq)
{
    return __atomic_load_n(&vq->vector, __ATOMIC_RELAXED);
}

void virtio_queue_set_last_avail_idx(VirtQueue *vq, uint16_t idx)
{
    if (!vq_settable(vq)) {
        return;
    }
    vq->base = idx;
    vq->last_avail_idx = idx;
    vq->restore = true;
}

uint16_t virtio_queue_get_last_avail_idx(const VirtQueue *vq)
{
    return vq->last_avail_idx;
}

bool virtio_queue_set_iothread(VirtQueue *vq, IOThread *iothread)
{
    if (!vq_settable(vq)) {
        return false;
    }
    vq->iothread = iothread;
    return true;
}

IOThread *virtio_queue_get_iothread(const VirtQueue *vq)
{
    return vq_iothread(vq);
}

void virtio_queue_set_kick_fd(VirtQueue *vq, int fd)
{
    if (!vq_settable(vq)) {
        return;
    }
    vq->kick_fd = fd >= 0 ? fd : vq->own_kick_fd;
}

typedef struct FdCall {
    int *field;
    int fd;
} FdCall;

static void set_fd_fn(void *opaque)
{
    FdCall *c = opaque;

    g_atomic_int_set(c->field, c->fd);
}

/* Replaces an eventfd the iothread may be writing, so that the caller can
 * close the old one as soon as this returns. */
static void vq_replace_fd(VirtQueue *vq, int *field, int fd)
{
    FdCall c = { .field = field, .fd = fd < 0 ? -1 : fd };

    if (g_atomic_int_get(&vq->running)) {
        iothread_run_sync(vq_iothread(vq), set_fd_fn, &c);
    } else {
        set_fd_fn(&c);
    }
}

void virtio_queue_set_call_fd(VirtQueue *vq, int fd)
{
    vq_replace_fd(vq, &vq->call_fd, fd);
}

void virtio_queue_set_err_fd(VirtQueue *vq, int fd)
{
    vq_replace_fd(vq, &vq->err_fd, fd);
}

typedef struct LogCall {
    VirtQueue *vq;
    bool enable;
    uint64_t gpa;
} LogCall;

static void set_log_fn(void *opaque)
{
    LogCall *c = opaque;

    c->vq->log_used = c->enable;
    c->vq->log_used_gpa = c->gpa;
}

void virtio_queue_set_used_log(VirtQueue *vq, bool enable, uint64_t log_gpa)
{
    LogCall c = { .vq = vq, .enable = enable, .gpa = log_gpa };

    if (g_atomic_int_get(&vq->running)) {
        iothread_run_sync(vq_iothread(vq), set_log_fn, &c);
    } else {
        set_log_fn(&c);
    }
}

void virtio_queue_set_inflight_ops(VirtQueue *vq,
                                   const VirtQueueInflightOps *ops,
                                   void *opaque)
{
    if (!vq_settable(vq)) {
        return;
    }
    vq->inflight_ops = ops;
    vq->inflight_opaque = opaque;
}

bool virtio_queue_set_resubmit(VirtQueue *vq, const uint16_t *heads,
                               unsigned n, GError **errp)
{
    if (!vq_settable(vq)) {
        error_setg(errp, "queue %u is running", vq->index);
        return false;
    }
    if (n > vq->num) {
        error_setg(errp, "queue %u: %u requests to resubmit, more than the "
                   "queue size %u", vq->index, n, vq->num);
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        if (heads[i] >= vq->num) {
            error_setg(errp, "queue %u: resubmitted head %u beyond the queue "
                       "size %u", vq->index, heads[i], vq->num);
            return false;
        }
    }
    g_free(vq->resubmit);
    vq->resubmit = n ? g_memdup2(heads, n * sizeof(*heads)) : NULL;
    vq->n_resubmit = n;
    vq->resubmit_pos = 0;
    return true;
}

/* --- device life cycle -------------------------------------------------- */

bool virtio_device_init(VirtIODevice *vdev, const VirtioDeviceOps *ops,
                        const char *name, uint16_t device_id,
                        uint32_t config_len, unsigned num_queues,
                        uint16_t queue_size, bool indirect_desc,
                        bool event_idx, IOThread *iothread, GError **errp)
{
    if (num_queues == 0 || !QR_IS_POWER_OF_2(queue_size) ||
        queue_size > VIRTQUEUE_MAX_SIZE) {
        error_setg(errp, "invalid virtio queue layout (%u queues of %u)",
                   num_queues, queue_size);
        return false;
    }
    vdev->ops = ops;
    vdev->name = g_strdup(name);
    vdev->device_id = device_id;
    vdev->iothread = iothread;
    g_mutex_init(&vdev->lock);
    /* Transport bits: VERSION_1 for modern drivers; NOTIFY_ON_EMPTY and
     * ANY_LAYOUT only mean something to legacy ones (virtio-pci shows
     * each interface its own). */
    vdev->host_features = ops->get_features(vdev) |
                          (1ull << VIRTIO_F_VERSION_1) |
                          (1ull << VIRTIO_F_NOTIFY_ON_EMPTY) |
                          (1ull << VIRTIO_F_ANY_LAYOUT);
    if (indirect_desc) {
        vdev->host_features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
    }
    if (event_idx) {
        vdev->host_features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
    }
    vdev->config_len = config_len;
    vdev->config = g_malloc0(MAX(config_len, 1));
    vdev->num_queues = num_queues;
    vdev->vqs = g_new0(VirtQueue, num_queues);
    for (unsigned i = 0; i < num_queues; i++) {
        VirtQueue *vq = &vdev->vqs[i];

        vq->vdev = vdev;
        vq->index = i;
        vq->max_size = queue_size;
        vq->own_kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (vq->own_kick_fd < 0) {
            error_setg_errno(errp, errno, "cannot create an eventfd");
            vdev->num_queues = i;
            virtio_device_cleanup(vdev);
            return false;
        }
        vq_clear(vq);
    }
    return true;
}

void virtio_device_cleanup(VirtIODevice *vdev)
{
    if (vdev->iothread && vdev->vqs) {
        virtio_reset(vdev);
    }
    for (unsigned i = 0; vdev->vqs && i < vdev->num_queues; i++) {
        VirtQueue *vq = &vdev->vqs[i];

        close(vq->own_kick_fd);
        g_free(vq->batch_heads);
        g_free(vq->resubmit);
    }
    g_clear_pointer(&vdev->vqs, g_free);
    g_clear_pointer(&vdev->config, g_free);
    g_clear_pointer(&vdev->name, g_free);
    g_mutex_clear(&vdev->lock);
}

void virtio_device_set_transport(VirtIODevice *vdev,
                                 const VirtioTransportOps *ops, void *opaque,
                                 DMASpace *dma)
{
    vdev->transport = ops;
    vdev->transport_opaque = opaque;
    vdev->dma = dma;
}
