/*
 * vhost-user: features, protocol features, ownership, queue count, device
 * status and reset.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "remote/vhost-user/internal.h"

static void reply_u64(VuReply *reply, uint64_t v)
{
    reply->payload.u64 = v;
    reply->size = sizeof(uint64_t);
}

bool vu_get_features(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    reply_u64(reply, s->be->ops->get_features(s->be->opaque) |
                     VU_TRANSPORT_FEATURES);
    return true;
}

static bool any_ring_running(const VuSession *s)
{
    for (unsigned i = 0; i < s->be->num_queues; i++) {
        if (s->vrings[i].running) {
            return true;
        }
    }
    return false;
}

/*
 * QEMU sends SET_FEATURES twice per start and again, with LOG_ALL added or
 * removed, around a migration while the rings run.  The device sees its
 * own bits whenever no ring runs (a start: possibly a new lifetime of the
 * guest driver) and, while rings run, only a change of them, with the
 * rings stopped.  A LOG_ALL change only moves the dirty log in or out of
 * the DMA space (with the rings drained, so that no request popped before
 * the change completes after it unlogged).
 */
bool vu_set_features(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    uint64_t features = m->payload.u64;
    uint64_t device = features & ~VU_TRANSPORT_FEATURES;
    bool device_changed = !s->features_set || !any_ring_running(s) ||
                          device != (s->features & ~VU_TRANSPORT_FEATURES);
    bool log_changed = !s->features_set ||
                       ((features ^ s->features) & (1ull << VHOST_F_LOG_ALL));
    uint64_t paused = 0;

    if (device_changed || log_changed) {
        paused = vu_vrings_pause(s);
    }
    if (device_changed &&
        !s->be->ops->set_features(s->be->opaque, device, errp)) {
        return false;
    }
    s->features = features;
    s->features_set = true;
    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: features 0x%" PRIx64,
                s->name, features);
    return vu_log_update(s, errp) && vu_vrings_resume(s, paused, errp);
}

bool vu_set_owner(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    if (s->owner) {
        error_setg(errp, "SET_OWNER: the session already has an owner");
        return false;
    }
    s->owner = true;
    return true;
}

/*
 * Deprecated and never sent by QEMU; handled like RESET_DEVICE, and the
 * frontend must SET_OWNER again.
 */
bool vu_reset_owner(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    if (!vu_reset_device(s, m, reply, errp)) {
        return false;
    }
    s->owner = false;
    return true;
}

bool vu_get_protocol_features(VuSession *s, VuMsg *m, VuReply *reply,
                              GError **errp)
{
    reply_u64(reply, VU_PROTOCOL_FEATURES);
    return true;
}

bool vu_set_protocol_features(VuSession *s, VuMsg *m, VuReply *reply,
                              GError **errp)
{
    s->protocol_features = m->payload.u64;
    return true;
}

bool vu_get_queue_num(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    reply_u64(reply, s->be->num_queues);
    return true;
}

/*
 * QEMU adds bits with GET_STATUS + SET_STATUS(old | new) and clears them
 * with SET_STATUS(0) just before it stops the rings.  The rings' life
 * follows the ring messages, not this byte; we only remember it.
 */
bool vu_set_status(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    s->status = (uint8_t)m->payload.u64;
    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: status 0x%x", s->name,
                s->status);
    return true;
}

bool vu_get_status(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    reply_u64(reply, s->status);
    return true;
}

/* Stop all rings, forget features and ring state; keep the memory. */
bool vu_reset_device(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    vu_vrings_reset(s);
    vu_inflight_unmap(s);
    s->features = 0;
    s->features_set = false;
    s->status = 0;
    s->be->ops->reset(s->be->opaque);
    return vu_log_update(s, errp);
}
