/*
 * vhost-user: device config (GET/SET_CONFIG) and the backend channel
 * (SET_BACKEND_REQ_FD, CONFIG_CHANGE_MSG).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "remote/vhost-user/internal.h"

/* The reply repeats the request's head and carries the bytes asked for. */
bool vu_get_config(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    const VhostUserConfig *c = &m->payload.config;

    reply->payload.config.offset = c->offset;
    reply->payload.config.size = c->size;
    reply->payload.config.flags = c->flags;
    s->be->ops->get_config(s->be->opaque, reply->payload.config.region,
                           c->offset, c->size);
    reply->size = VHOST_USER_CONFIG_HDR_SIZE + c->size;
    return true;
}

bool vu_set_config(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    const VhostUserConfig *c = &m->payload.config;

    s->be->ops->set_config(s->be->opaque, c->region, c->offset, c->size);
    return true;
}

bool vu_set_backend_req_fd(VuSession *s, VuMsg *m, VuReply *reply,
                           GError **errp)
{
    g_mutex_lock(&s->backend_lock);
    if (s->backend_fd >= 0) {
        close(s->backend_fd);
    }
    s->backend_fd = m->fds[0];
    m->fds[0] = -1;
    g_mutex_unlock(&s->backend_lock);
    return true;
}

void vu_backend_channel_close(VuSession *s)
{
    g_mutex_lock(&s->backend_lock);
    if (s->backend_fd >= 0) {
        close(s->backend_fd);
        s->backend_fd = -1;
    }
    g_mutex_unlock(&s->backend_lock);
}

/*
 * Sent without NEED_REPLY: waiting for QEMU's answer here could deadlock
 * with QEMU waiting for one of our replies on the main socket, and QEMU
 * reports its own failure to re-read the config.
 */
bool vu_session_config_changed(VuSession *s, GError **errp)
{
    bool ok;

    if (!vu_has_protocol_feature(s, VHOST_USER_PROTOCOL_F_CONFIG)) {
        error_setg(errp, "the frontend did not negotiate CONFIG");
        return false;
    }
    g_mutex_lock(&s->backend_lock);
    if (s->backend_fd < 0) {
        g_mutex_unlock(&s->backend_lock);
        error_setg(errp, "the frontend set up no backend channel");
        return false;
    }
    ok = vu_msg_send(s->backend_fd, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
                     VHOST_USER_VERSION, NULL, 0, NULL, 0, errp);
    g_mutex_unlock(&s->backend_lock);
    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: CONFIG_CHANGE_MSG sent",
                s->name);
    return ok;
}
