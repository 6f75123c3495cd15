/*
 * QMP servers: listening sockets, the list of clients, event broadcast and
 * cleanup (include/monitor/monitor.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "qemu-remote/sockets.h"
#include "qapi/qapi-events.h"
#include "monitor-internal.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* After accept() fails for lack of fds, wait this long before retrying
 * rather than spinning on the still-readable listening socket. */
#define ACCEPT_RETRY_MS 1000

typedef struct QmpServer {
    int fd;
    char *path;         /* socket file we created, or NULL */
    dev_t dev;          /* its identity, to remove only our own file */
    ino_t ino;
    GMainContext *ctx;
    GSource *source;    /* accept watch, or the retry timer */
} QmpServer;

static GList *servers;  /* of QmpServer */
static GList *clients;  /* of QmpClient */
static unsigned client_count;
static unsigned next_client_id;

static void server_watch(QmpServer *s);

static void accept_one(QmpServer *s, int fd)
{
    g_autofree char *desc = NULL;

    if (client_count >= MONITOR_MAX_CLIENTS) {
        warn_report("QMP: refusing a client on %s: %d clients are "
                    "connected already", s->path ? s->path : "fd",
                    MONITOR_MAX_CLIENTS);
        close(fd);
        return;
    }
    desc = g_strdup_printf("client %u on %s", ++next_client_id,
                           s->path ? s->path : "passed fd");
    clients = g_list_append(clients, qmp_client_new(fd, s->ctx, desc));
    client_count++;
}

static gboolean retry_accept(gpointer opaque)
{
    QmpServer *s = opaque;

    g_source_unref(s->source);
    s->source = NULL;
    server_watch(s);
    return G_SOURCE_REMOVE;
}

static gboolean on_listen_ready(int fd, GIOCondition cond, gpointer opaque)
{
    QmpServer *s = opaque;

    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (cfd >= 0) {
            accept_one(s, cfd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
            errno == ENOMEM) {
            warn_report("QMP: cannot accept a client: %s",
                        g_strerror(errno));
            g_source_unref(s->source);
            s->source = g_timeout_source_new(ACCEPT_RETRY_MS);
            g_source_set_callback(s->source, retry_accept, s, NULL);
            g_source_attach(s->source, s->ctx);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;  /* EAGAIN: nothing more to accept */
    }
}

static void server_watch(QmpServer *s)
{
    s->source = g_unix_fd_source_new(s->fd, G_IO_IN);
    g_source_set_callback(s->source, (GSourceFunc)(void (*)(void))
                          on_listen_ready, s, NULL);
    g_source_attach(s->source, s->ctx);
}

static void ensure_event_handler(void)
{
    qapi_event_set_handler(monitor_emit_event);
}

static void add_server(int fd, const char *path, const struct stat *st)
{
    QmpServer *s = g_new0(QmpServer, 1);

    s->fd = fd;
    s->path = g_strdup(path);
    if (st) {
        s->dev = st->st_dev;
        s->ino = st->st_ino;
    }
    s->ctx = g_main_context_ref_thread_default();
    server_watch(s);
    servers = g_list_append(servers, s);
    ensure_event_handler();
}

bool monitor_add_qmp_unix(const char *path, bool wait, GError **errp)
{
    struct stat st;
    int fd;

    if (wait) {
        error_setg(errp, "QMP socket '%s': wait=on is not supported, use "
                   "server=on,wait=off", path);
        return false;
    }
    if (!sandbox_require(&qmp_sandbox_policy, errp) ||
        !sandbox_require(&sandbox_remove_files_policy, errp)) {
        return false;
    }
    fd = unix_socket_listen(path, 16, errp);
    if (fd < 0) {
        return false;
    }
    if (stat(path, &st) < 0) {
        error_setg_errno(errp, errno, "Failed to listen on %s", path);
        unlink(path);
        close(fd);
        return false;
    }
    add_server(fd, path, &st);
    qr_log_mask(LOG_QMP, "qmp: listening on %s", path);
    return true;
}

bool monitor_add_qmp_fd(int fd, GError **errp)
{
    int type = 0;
    int listening = 0;
    socklen_t len = sizeof(type);

    if (!sandbox_require(&qmp_sandbox_policy, errp)) {
        close(fd);
        return false;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        type != SOCK_STREAM) {
        error_setg(errp, "QMP: fd %d is not a stream socket", fd);
        close(fd);
        return false;
    }
    len = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) {
        error_setg_errno(errp, errno, "QMP: fd %d", fd);
        close(fd);
        return false;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (listening) {
        add_server(fd, NULL, NULL);
    } else {
        g_autoptr(GMainContext) ctx = g_main_context_ref_thread_default();
        g_autofree char *desc = g_strdup_printf("client %u on fd %d",
                                                ++next_client_id, fd);

        clients = g_list_append(clients, qmp_client_new(fd, ctx, desc));
        client_count++;
        ensure_event_handler();
    }
    return true;
}

void monitor_client_gone(QmpClient *client)
{
    clients = g_list_remove(clients, client);
    client_count--;
}

void monitor_emit_event(const char *name, JsonObject *data)
{
    gint64 now = g_get_real_time();

    qr_log_mask(LOG_QMP, "qmp: event %s", name);
    for (GList *l = clients; l; l = l->next) {
        QmpClient *c = l->data;
        JsonObject *msg;
        JsonObject *stamp;

        if (!qmp_client_negotiated(c)) {
            continue;
        }
        msg = json_object_new();
        stamp = json_object_new();
        json_object_set_int_member(stamp, "seconds", now / G_USEC_PER_SEC);
        json_object_set_int_member(stamp, "microseconds",
                                   now % G_USEC_PER_SEC);
        json_object_set_object_member(msg, "timestamp", stamp);
        json_object_set_string_member(msg, "event", name);
        if (data) {
            json_object_set_object_member(msg, "data",
                                          json_object_ref(data));
        }
        qmp_client_send(c, msg);
    }
    if (data) {
        json_object_unref(data);
    }
}

void monitor_emit_shutdown(ShutdownCause cause)
{
    int reason = qapi_enum_parse(&ShutdownReason_lookup,
                                 shutdown_cause_name(cause), NULL);

    if (reason < 0) {
        reason = SHUTDOWN_REASON_HOST_ERROR;
    }
    qapi_event_send_shutdown(cause == SHUTDOWN_CAUSE_GUEST_SHUTDOWN, reason);
}

static void server_free(QmpServer *s)
{
    struct stat st;

    g_source_destroy(s->source);
    g_source_unref(s->source);
    close(s->fd);
    /* Remove the socket file only if it is still the one we bound. */
    if (s->path && stat(s->path, &st) == 0 && st.st_dev == s->dev &&
        st.st_ino == s->ino) {
        unlink(s->path);
    }
    g_main_context_unref(s->ctx);
    g_free(s->path);
    g_free(s);
}

void monitor_cleanup(void)
{
    gint64 deadline = g_get_monotonic_time() +
                      MONITOR_FLUSH_TIMEOUT_MS * (gint64)1000;

    qapi_event_set_handler(NULL);
    while (clients) {
        QmpClient *c = clients->data;

        clients = g_list_delete_link(clients, clients);
        client_count--;
        qmp_client_close(c, deadline);
    }
    g_list_free_full(g_steal_pointer(&servers), (GDestroyNotify)server_free);
}
