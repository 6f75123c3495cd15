/*
 * One vhost-user connection: reading messages, checking them against the
 * request table, dispatching to the per-family handlers and replying.
 *
 * Every message passes, in order: the header checks (msg.c, before the
 * payload is read), the request table (known code, owner, negotiated
 * protocol feature), the request's is_valid_*() predicate (validate.c),
 * then its handler.  Any failure ends the connection with a logged reason;
 * the server then waits for the next frontend.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "remote/vhost-user/internal.h"
#include "remote/vhost-user/session.h"

#include <glib-unix.h>

typedef struct VuRequestInfo {
    VuValidator *valid;
    VuHandler *handle;
    VuReplyKind reply;
    bool needs_owner;           /* only after SET_OWNER */
    int protocol_feature;       /* only when negotiated; -1: always */
} VuRequestInfo;

#define PF(bit) VHOST_USER_PROTOCOL_F_##bit

static const VuRequestInfo requests[VHOST_USER_REQUEST_MAX] = {
    [VHOST_USER_GET_FEATURES] =
        { is_valid_no_payload, vu_get_features, VU_REPLY_ALWAYS, false, -1 },
    [VHOST_USER_SET_FEATURES] =
        { is_valid_features, vu_set_features, VU_REPLY_NONE, true, -1 },
    [VHOST_USER_SET_OWNER] =
        { is_valid_no_payload, vu_set_owner, VU_REPLY_NONE, false, -1 },
    [VHOST_USER_RESET_OWNER] =
        { is_valid_no_payload, vu_reset_owner, VU_REPLY_NONE, true, -1 },
    [VHOST_USER_SET_MEM_TABLE] =
        { is_valid_mem_table, vu_set_mem_table, VU_REPLY_NONE, true, -1 },
    [VHOST_USER_SET_LOG_BASE] =
        { is_valid_log_base, vu_set_log_base, VU_REPLY_ALWAYS, true,
          PF(LOG_SHMFD) },
    [VHOST_USER_SET_VRING_NUM] =
        { is_valid_vring_num, vu_set_vring_num, VU_REPLY_NONE, true, -1 },
    [VHOST_USER_SET_VRING_ADDR] =
        { is_valid_vring_addr, vu_set_vring_addr, VU_REPLY_NONE, true, -1 },
    [VHOST_USER_SET_VRING_BASE] =
        { is_valid_vring_base, vu_set_vring_base, VU_REPLY_NONE, true, -1 },
    [VHOST_USER_GET_VRING_BASE] =
        { is_valid_vring_state, vu_get_vring_base, VU_REPLY_ALWAYS, true,
          -1 },
    [VHOST_USER_SET_VRING_KICK] =
        { is_valid_vring_fd, vu_set_vring_kick, VU_REPLY_NONE, true, -1 },
    [VHOST_USER_SET_VRING_CALL] =
        { is_valid_vring_fd, vu_set_vring_call, VU_REPLY_NONE, true, -1 },
    [VHOST_USER_SET_VRING_ERR] =
        { is_valid_vring_fd, vu_set_vring_err, VU_REPLY_NONE, true, -1 },
    [VHOST_USER_GET_PROTOCOL_FEATURES] =
        { is_valid_no_payload, vu_get_protocol_features, VU_REPLY_ALWAYS,
          false, -1 },
    [VHOST_USER_SET_PROTOCOL_FEATURES] =
        { is_valid_protocol_features, vu_set_protocol_features,
          VU_REPLY_NONE, false, -1 },
    [VHOST_USER_GET_QUEUE_NUM] =
        { is_valid_no_payload, vu_get_queue_num, VU_REPLY_ALWAYS, false,
          PF(MQ) },
    [VHOST_USER_SET_VRING_ENABLE] =
        { is_valid_vring_enable, vu_set_vring_enable, VU_REPLY_NONE, true,
          -1 },
    [VHOST_USER_SET_BACKEND_REQ_FD] =
        { is_valid_backend_req_fd, vu_set_backend_req_fd, VU_REPLY_NONE,
          false, PF(BACKEND_REQ) },
    [VHOST_USER_GET_CONFIG] =
        { is_valid_config_get, vu_get_config, VU_REPLY_ALWAYS, false,
          PF(CONFIG) },
    [VHOST_USER_SET_CONFIG] =
        { is_valid_config_set, vu_set_config, VU_REPLY_NONE, true,
          PF(CONFIG) },
    [VHOST_USER_GET_INFLIGHT_FD] =
        { is_valid_inflight_get, vu_get_inflight_fd, VU_REPLY_ALWAYS, true,
          PF(INFLIGHT_SHMFD) },
    [VHOST_USER_SET_INFLIGHT_FD] =
        { is_valid_inflight_set, vu_set_inflight_fd, VU_REPLY_NONE, true,
          PF(INFLIGHT_SHMFD) },
    [VHOST_USER_RESET_DEVICE] =
        { is_valid_no_payload, vu_reset_device, VU_REPLY_NONE, true,
          PF(RESET_DEVICE) },
    [VHOST_USER_GET_MAX_MEM_SLOTS] =
        { is_valid_no_payload, vu_get_max_mem_slots, VU_REPLY_ALWAYS, false,
          PF(CONFIGURE_MEM_SLOTS) },
    [VHOST_USER_ADD_MEM_REG] =
        { is_valid_mem_reg, vu_add_mem_reg, VU_REPLY_NONE, true,
          PF(CONFIGURE_MEM_SLOTS) },
    [VHOST_USER_REM_MEM_REG] =
        { is_valid_mem_reg, vu_rem_mem_reg, VU_REPLY_NONE, true,
          PF(CONFIGURE_MEM_SLOTS) },
    [VHOST_USER_SET_STATUS] =
        { is_valid_status, vu_set_status, VU_REPLY_NONE, true, PF(STATUS) },
    [VHOST_USER_GET_STATUS] =
        { is_valid_no_payload, vu_get_status, VU_REPLY_ALWAYS, true,
          PF(STATUS) },
};

bool is_valid_request(const VuSession *s, const VuMsg *m, GError **errp)
{
    uint32_t req = m->hdr.request;
    const VuRequestInfo *info;

    if (req >= VHOST_USER_REQUEST_MAX || !requests[req].handle) {
        error_setg(errp, "unsupported request %u (%s)", req,
                   vhost_user_request_name(req));
        return false;
    }
    info = &requests[req];
    if (info->needs_owner && !s->owner) {
        error_setg(errp, "%s before SET_OWNER", vhost_user_request_name(req));
        return false;
    }
    if (info->protocol_feature >= 0 &&
        !vu_has_protocol_feature(s, (unsigned)info->protocol_feature)) {
        error_setg(errp, "%s without protocol feature %d negotiated",
                   vhost_user_request_name(req), info->protocol_feature);
        return false;
    }
    return info->valid(s, m, errp);
}

static void trace_msg(VuSession *s, const VuMsg *m)
{
    if (!qr_log_enabled(LOG_VHOST_USER)) {
        return;
    }
    switch (m->hdr.size) {
    case sizeof(uint64_t):
        qr_log("vhost-user %s: %s flags=0x%x u64=0x%" PRIx64 " fds=%u",
               s->name, vhost_user_request_name(m->hdr.request), m->hdr.flags,
               m->payload.u64, m->nfds);
        break;
    default:
        qr_log("vhost-user %s: %s flags=0x%x size=%u fds=%u", s->name,
               vhost_user_request_name(m->hdr.request), m->hdr.flags,
               m->hdr.size, m->nfds);
        break;
    }
}

static bool send_reply(VuSession *s, uint32_t request, const void *payload,
                       uint32_t size, int fd, GError **errp)
{
    return vu_msg_send(s->fd, request,
                       VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, payload,
                       size, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, errp);
}

bool vu_session_dispatch(VuSession *s, VuMsg *m, GError **errp)
{
    const VuRequestInfo *info;
    VuReply reply = { .fd = -1 };
    GError *err = NULL;
    bool ack, ok;

    trace_msg(s, m);
    if (!is_valid_request(s, m, errp)) {
        vu_msg_close_fds(m);
        return false;
    }
    info = &requests[m->hdr.request];
    ack = info->reply == VU_REPLY_NONE &&
          (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) &&
          vu_has_protocol_feature(s, VHOST_USER_PROTOCOL_F_REPLY_ACK);

    ok = info->handle(s, m, &reply, &err);
    /* Handlers take the fds they keep; close whatever is left. */
    vu_msg_close_fds(m);

    if (!ok) {
        if (ack) {
            uint64_t status = 1;

            /* Tell a waiting frontend why its request failed before we
             * hang up; the send may fail if it is gone. */
            send_reply(s, m->hdr.request, &status, sizeof(status), -1, NULL);
        }
        if (reply.fd >= 0) {
            close(reply.fd);
        }
        g_propagate_error(errp, err);
        return false;
    }
    if (info->reply == VU_REPLY_ALWAYS) {
        ok = send_reply(s, m->hdr.request, &reply.payload, reply.size,
                        reply.fd, errp);
    } else if (ack) {
        uint64_t status = 0;

        ok = send_reply(s, m->hdr.request, &status, sizeof(status), -1, errp);
    }
    if (reply.fd >= 0) {
        close(reply.fd);
    }
    return ok;
}

VuSession *vu_session_new(VhostUserServer *server,
                          const VhostUserBackend *be, const char *name,
                          int fd)
{
    VuSession *s = g_new0(VuSession, 1);

    s->server = server;
    s->be = be;
    s->name = g_strdup(name);
    s->fd = fd;
    s->backend_fd = -1;
    s->log_fd = -1;
    g_mutex_init(&s->backend_lock);
    vu_vrings_init(s);
    return s;
}

void vu_session_free(VuSession *s)
{
    if (!s) {
        return;
    }
    vu_vrings_reset(s);
    vu_inflight_unmap(s);
    vu_log_close(s);
    vu_mem_reset(s);
    vu_backend_channel_close(s);
    s->be->ops->reset(s->be->opaque);
    vu_msg_reset(&s->reader);
    if (s->fd >= 0) {
        close(s->fd);
    }
    g_mutex_clear(&s->backend_lock);
    g_free(s->name);
    g_free(s);
}

VuSessionResult vu_session_read(VuSession *s, GError **errp)
{
    for (;;) {
        switch (vu_msg_read(s->fd, &s->reader, errp)) {
        case VU_READ_AGAIN:
            return VU_SESSION_CONTINUE;
        case VU_READ_EOF:
            return VU_SESSION_CLOSED;
        case VU_READ_ERROR:
            return VU_SESSION_FAILED;
        case VU_READ_DONE:
            break;
        }
        if (!vu_session_dispatch(s, &s->reader.msg, errp)) {
            return VU_SESSION_FAILED;
        }
        vu_msg_reset(&s->reader);
    }
}
