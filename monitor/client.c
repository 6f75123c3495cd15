/*
 * One QMP connection: non-blocking reads fed to the JSON streamer,
 * requests answered in order, replies and events buffered for writing.
 *
 * Back-pressure: requests are parsed into a queue and answered only while
 * less than OUTPUT_HIGH bytes of output wait to be sent; input is read only
 * when that queue is empty.  So a client that sends without reading stalls
 * itself (the kernel's socket buffers fill) and costs us at most one read's
 * worth of parsed requests plus MONITOR_MAX_OUTPUT bytes of output.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "qapi/json-writer.h"
#include "json-streamer.h"
#include "monitor-internal.h"

#include <poll.h>
#include <sys/socket.h>

/* Bytes read per wakeup; also bounds the requests one read can queue. */
#define READ_CHUNK 4096
/* Stop answering queued requests while this much output is unsent. */
#define OUTPUT_HIGH (64 * 1024)

typedef struct PendingRequest {
    JsonNode *request;
    GError *err;
} PendingRequest;

typedef struct ClientSource {
    GSource source;
    QmpClient *client;
} ClientSource;

struct QmpClient {
    int fd;
    char *desc;
    GSource *source;
    gpointer fd_tag;
    JsonStreamer *streamer;
    GQueue pending;     /* of PendingRequest */
    GString *out;       /* output; bytes before out_pos are already sent */
    size_t out_pos;
    bool negotiated;
    bool eof;           /* the peer will send nothing more */
    bool dead;          /* close at the next dispatch */
};

static void pending_free(PendingRequest *p)
{
    if (p->request) {
        json_node_unref(p->request);
    }
    if (p->err) {
        g_error_free(p->err);
    }
    g_free(p);
}

static size_t out_len(const QmpClient *c)
{
    return c->out->len - c->out_pos;
}

static void on_value(void *opaque, JsonNode *value, GError *err)
{
    QmpClient *c = opaque;
    PendingRequest *p = g_new0(PendingRequest, 1);

    p->request = value;
    p->err = err;
    g_queue_push_tail(&c->pending, p);
}

static void update_conditions(QmpClient *c)
{
    GIOCondition cond = 0;

    if (c->dead) {
        g_source_set_ready_time(c->source, 0);
        return;
    }
    if (!c->eof && g_queue_is_empty(&c->pending) && out_len(c) < OUTPUT_HIGH) {
        cond |= G_IO_IN;
    }
    if (out_len(c)) {
        cond |= G_IO_OUT;
    }
    g_source_modify_unix_fd(c->source, c->fd_tag, cond);
    /* Queued requests wait only for room in the output, and the socket
     * may have taken it all at once: then no fd event would come. */
    if (!g_queue_is_empty(&c->pending) && out_len(c) < OUTPUT_HIGH) {
        g_source_set_ready_time(c->source, 0);
    }
}

/* Sends what the socket takes now; false when the peer is gone. */
static bool flush_some(QmpClient *c)
{
    while (out_len(c)) {
        ssize_t n = send(c->fd, c->out->str + c->out_pos, out_len(c),
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return true;
            }
            qr_log_mask(LOG_QMP, "qmp: %s: write failed: %s", c->desc,
                        g_strerror(errno));
            return false;
        }
        c->out_pos += n;
    }
    g_string_truncate(c->out, 0);
    c->out_pos = 0;
    return true;
}

static void read_input(QmpClient *c)
{
    char buf[READ_CHUNK];
    ssize_t n;

    do {
        n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            qr_log_mask(LOG_QMP, "qmp: %s: read failed: %s", c->desc,
                        g_strerror(errno));
            c->dead = true;
        }
        return;
    }
    if (n == 0) {
        /* Answer what was already sent, then close (a client may
         * half-close its side and still read the replies). */
        qr_log_mask(LOG_QMP, "qmp: %s: end of input", c->desc);
        c->eof = true;
        return;
    }
    json_streamer_feed(c->streamer, buf, n);
}

static void process_pending(QmpClient *c)
{
    PendingRequest *p;

    while (!c->dead && out_len(c) < OUTPUT_HIGH &&
           (p = g_queue_pop_head(&c->pending))) {
        qmp_handle_request(c, p->request, p->err);
        g_free(p);
    }
}

static gboolean client_dispatch(GSource *source, GSourceFunc cb,
                                gpointer data)
{
    QmpClient *c = ((ClientSource *)source)->client;
    GIOCondition rev = g_source_query_unix_fd(source, c->fd_tag);

    g_source_set_ready_time(source, -1);
    if (!c->dead && (rev & G_IO_OUT) && !flush_some(c)) {
        c->dead = true;
    }
    if (!c->dead && !c->eof && (rev & (G_IO_IN | G_IO_HUP | G_IO_ERR)) &&
        g_queue_is_empty(&c->pending)) {
        read_input(c);
    }
    process_pending(c);
    if (!c->dead && !flush_some(c)) {
        c->dead = true;
    }
    if (!c->dead && c->eof && g_queue_is_empty(&c->pending) && !out_len(c)) {
        c->dead = true;
    }
    if (c->dead) {
        monitor_client_gone(c);
        qmp_client_close(c, 0);
        return G_SOURCE_REMOVE;
    }
    update_conditions(c);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs client_source_funcs = {
    .dispatch = client_dispatch,
};

QmpClient *qmp_client_new(int fd, GMainContext *ctx, const char *desc)
{
    QmpClient *c = g_new0(QmpClient, 1);

    c->fd = fd;
    c->desc = g_strdup(desc);
    c->out = g_string_new(NULL);
    c->streamer = json_streamer_new(MONITOR_MAX_REQUEST_SIZE,
                                    MONITOR_MAX_NESTING, on_value, c);
    g_queue_init(&c->pending);
    c->source = g_source_new(&client_source_funcs, sizeof(ClientSource));
    ((ClientSource *)c->source)->client = c;
    g_source_set_name(c->source, "qmp-client");
    c->fd_tag = g_source_add_unix_fd(c->source, fd, G_IO_IN);
    g_source_attach(c->source, ctx);
    qr_log_mask(LOG_QMP, "qmp: %s: connected", c->desc);
    qmp_client_send(c, qmp_greeting());
    return c;
}

void qmp_client_send(QmpClient *c, JsonObject *msg)
{
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    size_t before = c->out->len;

    json_node_take_object(node, msg);
    if (c->dead) {
        return;
    }
    qapi_json_append(c->out, node);
    qr_log_mask(LOG_QMP, "qmp: %s <- %s", c->desc, c->out->str + before);
    g_string_append(c->out, "\r\n");
    if (out_len(c) > MONITOR_MAX_OUTPUT) {
        warn_report("QMP %s: disconnecting: more than %d bytes of output "
                    "unread", c->desc, MONITOR_MAX_OUTPUT);
        c->dead = true;
    }
    update_conditions(c);
}

const char *qmp_client_describe(const QmpClient *c)
{
    return c->desc;
}

bool qmp_client_negotiated(const QmpClient *c)
{
    return c->negotiated;
}

void qmp_client_set_negotiated(QmpClient *c)
{
    c->negotiated = true;
}

void qmp_client_close(QmpClient *c, gint64 deadline)
{
    PendingRequest *p;

    /* Whatever the socket takes at once is always written; waiting for
     * the peer to read more is bounded by @deadline. */
    while (!c->dead && out_len(c) && flush_some(c) && out_len(c)) {
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };

        if (left_ms <= 0 || poll(&pfd, 1, left_ms) <= 0) {
            break;
        }
    }
    qr_log_mask(LOG_QMP, "qmp: %s: closed", c->desc);
    g_source_destroy(c->source);
    g_source_unref(c->source);
    close(c->fd);
    while ((p = g_queue_pop_head(&c->pending))) {
        pending_free(p);
    }
    json_streamer_free(c->streamer);
    g_string_free(c->out, TRUE);
    g_free(c->desc);
    g_free(c);
}
