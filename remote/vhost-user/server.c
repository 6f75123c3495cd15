/*
 * vhost-user server: the socket a frontend connects to, one session at a
 * time (see include/remote/vhost-user.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/sockets.h"
#include "qemu-remote/log.h"
#include "remote/vhost-user/session.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <sys/socket.h>

struct VhostUserServer {
    char *name;
    VhostUserBackend be;
    int fd;                     /* listening, or the one connection */
    bool listening;
    GMainContext *ctx;
    GSource *listen_source;
    GSource *conn_source;
    VuSession *session;
    void (*disconnected)(void *opaque);
    void *opaque;
};

static void server_listen(VhostUserServer *srv);

static void session_end(VhostUserServer *srv)
{
    g_source_destroy(srv->conn_source);
    g_source_unref(srv->conn_source);
    srv->conn_source = NULL;
    vu_session_free(srv->session);
    srv->session = NULL;
    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: frontend disconnected",
                srv->name);
    if (srv->listening) {
        server_listen(srv);
    } else {
        /* The session owned the connected fd and closed it. */
        srv->fd = -1;
        if (srv->disconnected) {
            srv->disconnected(srv->opaque);
        }
    }
}

static gboolean session_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    VhostUserServer *srv = opaque;
    GError *err = NULL;

    switch (vu_session_read(srv->session, &err)) {
    case VU_SESSION_CONTINUE:
        return G_SOURCE_CONTINUE;
    case VU_SESSION_FAILED:
        warn_report("%s: vhost-user: %s; closing the connection", srv->name,
                    err->message);
        g_error_free(err);
        break;
    case VU_SESSION_CLOSED:
        break;
    }
    session_end(srv);
    return G_SOURCE_REMOVE;
}

static void session_begin(VhostUserServer *srv, int fd)
{
    srv->session = vu_session_new(srv, &srv->be, srv->name, fd);
    srv->conn_source = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP |
                                                G_IO_ERR);
    g_source_set_callback(srv->conn_source, G_SOURCE_FUNC(session_readable),
                          srv, NULL);
    g_source_attach(srv->conn_source, srv->ctx);
    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: frontend connected",
                srv->name);
}

/* One frontend at a time: stop accepting while a session runs; a second
 * client waits in the backlog until the first one leaves. */
static gboolean listen_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    VhostUserServer *srv = opaque;
    int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (conn < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
            warn_report("%s: vhost-user: accept: %s", srv->name,
                        g_strerror(errno));
        }
        return G_SOURCE_CONTINUE;
    }
    g_source_unref(srv->listen_source);
    srv->listen_source = NULL;
    session_begin(srv, conn);
    return G_SOURCE_REMOVE;
}

static void server_listen(VhostUserServer *srv)
{
    srv->listen_source = g_unix_fd_source_new(srv->fd, G_IO_IN);
    g_source_set_callback(srv->listen_source, G_SOURCE_FUNC(listen_readable),
                          srv, NULL);
    g_source_attach(srv->listen_source, srv->ctx);
}

static bool is_unix_stream(int fd, bool *listening, GError **errp)
{
    int domain = 0, type = 0, acceptconn = 0;
    socklen_t len = sizeof(int);

    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acceptconn, &len) < 0) {
        error_setg_errno(errp, errno, "fd %d is not a socket", fd);
        return false;
    }
    if (domain != AF_UNIX || type != SOCK_STREAM) {
        error_setg(errp, "fd %d is not a UNIX stream socket", fd);
        return false;
    }
    *listening = acceptconn;
    return true;
}

VhostUserServer *vhost_user_server_new(const char *name, int fd,
                                       const VhostUserBackend *backend,
                                       void (*disconnected)(void *opaque),
                                       void *opaque, GError **errp)
{
    VhostUserServer *srv;
    bool listening;
    int flags;

    if (!sandbox_require(&vhost_user_sandbox_policy, errp) ||
        !is_unix_stream(fd, &listening, errp)) {
        return NULL;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        error_setg_errno(errp, errno, "fd %d", fd);
        return NULL;
    }

    srv = g_new0(VhostUserServer, 1);
    srv->name = g_strdup(name);
    srv->be = *backend;
    srv->fd = fd;
    srv->listening = listening;
    srv->ctx = g_main_context_ref_thread_default();
    srv->disconnected = disconnected;
    srv->opaque = opaque;
    if (listening) {
        server_listen(srv);
    } else {
        session_begin(srv, fd);
    }
    return srv;
}

void vhost_user_server_free(VhostUserServer *srv)
{
    if (!srv) {
        return;
    }
    if (srv->listen_source) {
        g_source_destroy(srv->listen_source);
        g_source_unref(srv->listen_source);
    }
    if (srv->session) {
        g_source_destroy(srv->conn_source);
        g_source_unref(srv->conn_source);
        vu_session_free(srv->session);
        if (!srv->listening) {
            srv->fd = -1;
        }
    }
    if (srv->fd >= 0) {
        close(srv->fd);
    }
    g_main_context_unref(srv->ctx);
    g_free(srv->name);
    g_free(srv);
}

bool vhost_user_server_is_connected(VhostUserServer *srv)
{
    return srv->session != NULL;
}

bool vhost_user_server_config_changed(VhostUserServer *srv, GError **errp)
{
    if (!srv->session) {
        error_setg(errp, "%s: no vhost-user frontend is connected",
                   srv->name);
        return false;
    }
    return vu_session_config_changed(srv->session, errp);
}

int vhost_user_listen_unix(const char *path, GError **errp)
{
    if (!sandbox_require(&vhost_user_listen_sandbox_policy, errp)) {
        return -1;
    }
    /* A stale socket file is one a backend that died left behind (reconnect
     * restarts us on the same path). */
    return unix_socket_listen(path, 1, errp);
}

char *vhost_user_capabilities_json(const char *type,
                                   const char *const *features)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, type);
    json_builder_set_member_name(b, "features");
    json_builder_begin_array(b);
    for (const char *const *f = features; *f; f++) {
        json_builder_add_string_value(b, *f);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    return json_generator_to_data(gen, NULL);
}
