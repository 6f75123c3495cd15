/*
 * The QMP server in-process: a client on a socketpair or on the UNIX
 * socket of monitor_add_qmp_unix(), the main context run by the test.
 * (tests/qmp/ drives the real binary the same way over its -qmp socket.)
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/runstate.h"
#include "qapi/json-writer.h"
#include "hw/qdev.h"
#include "monitor/monitor.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/* Bound on every wait for the server; generous for loaded machines. */
#define WAIT_US (10 * G_USEC_PER_SEC)

/* A device type of our own for x-query-remote-devices. */
static const DeviceProperty no_props[] = { { NULL } };
static const DeviceType test_dev_type = {
    .name = "test-dev",
    .desc = "a device with nothing in it",
    .instance_size = sizeof(Device),
    .props = no_props,
};
const DeviceType *const device_types[] = { &test_dev_type, NULL };

typedef struct Client {
    int fd;
    GString *in;
} Client;

static Client *client_new(int fd)
{
    Client *c = g_new0(Client, 1);

    c->fd = fd;
    c->in = g_string_new(NULL);
    return c;
}

static void client_free(Client *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    g_string_free(c->in, TRUE);
    g_free(c);
}

static Client *client_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==,
                    0);
    return client_new(fd);
}

/* A client on a socketpair whose other end the monitor serves. */
static Client *client_pair(void)
{
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    g_assert_true(monitor_add_qmp_fd(sv[0], NULL));
    return client_new(sv[1]);
}

static void client_send(Client *c, const char *text)
{
    size_t len = strlen(text);

    while (len) {
        ssize_t n = send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            g_assert_cmpint(errno, ==, EAGAIN);
            g_main_context_iteration(NULL, FALSE);
            continue;
        }
        text += n;
        len -= n;
    }
}

/* The server runs on this thread: give it a turn, then wait briefly for
 * @fd to become readable (callers loop until their deadline). */
static void wait_readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    g_main_context_iteration(NULL, FALSE);
    poll(&pfd, 1, 10);
}

/* Runs the server until @c has a whole line; returns it without "\r\n",
 * or NULL at end of stream. */
static char *client_line(Client *c)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;

    for (;;) {
        char *nl = strstr(c->in->str, "\r\n");
        char buf[65536];
        ssize_t n;

        if (nl) {
            char *line = g_strndup(c->in->str, nl - c->in->str);

            g_string_erase(c->in, 0, nl - c->in->str + 2);
            return line;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
        n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0) {
            return NULL;
        }
        if (n < 0) {
            g_assert_true(errno == EAGAIN || errno == ECONNRESET);
            if (errno == ECONNRESET) {
                return NULL;
            }
            wait_readable(c->fd);
            continue;
        }
        g_string_append_len(c->in, buf, n);
    }
}

static JsonObject *client_reply(Client *c)
{
    g_autofree char *line = client_line(c);
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;

    g_assert_nonnull(line);
    g_assert_true(json_parser_load_from_data(parser, line, -1, NULL));
    root = json_parser_get_root(parser);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    return json_object_ref(json_node_get_object(root));
}

/* Sends @request and checks the whole reply line. */
static void assert_exchange(Client *c, const char *request,
                            const char *reply)
{
    g_autofree char *line = NULL;

    client_send(c, request);
    line = client_line(c);
    g_assert_cmpstr(line, ==, reply);
}

static void negotiate(Client *c)
{
    g_autoptr(JsonObject) greeting = client_reply(c);

    g_assert_true(json_object_has_member(greeting, "QMP"));
    assert_exchange(c, "{\"execute\": \"qmp_capabilities\"}",
                    "{\"return\": {}}");
}

static const char *error_desc(JsonObject *reply)
{
    return json_object_get_string_member(
        json_object_get_object_member(reply, "error"), "desc");
}

static void test_greeting_has_qemus_shape(void)
{
    Client *c = client_pair();
    g_autofree char *line = client_line(c);

    g_assert_cmpstr(line, ==, "{\"QMP\": {\"version\": {\"qemu\": "
                    "{\"major\": 0, \"minor\": 1, \"micro\": 0}, "
                    "\"package\": \"qemu-remote " QEMU_REMOTE_VERSION "\"}, "
                    "\"capabilities\": []}}");
    client_free(c);
    monitor_cleanup();
}

static void test_command_before_negotiation_is_refused(void)
{
    Client *c = client_pair();

    g_free(client_line(c));
    assert_exchange(c, "{\"execute\": \"query-status\", \"id\": 1}",
                    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                    "\"Expecting capabilities negotiation with "
                    "'qmp_capabilities'\"}, \"id\": 1}");
    assert_exchange(c, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                    "{\"enable\": [\"oob\"]}}",
                    "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                    "\"Capability 'oob' not available\"}}");
    assert_exchange(c, "{\"execute\": \"qmp_capabilities\"}",
                    "{\"return\": {}}");
    assert_exchange(c, "{\"execute\": \"qmp_capabilities\"}",
                    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                    "\"Capabilities negotiation is already complete, "
                    "command ignored\"}}");
    client_free(c);
    monitor_cleanup();
}

static void test_queries_answer_after_negotiation(void)
{
    Client *c = client_pair();
    g_autoptr(JsonObject) schema = NULL;

    negotiate(c);
    assert_exchange(c, "{\"execute\": \"query-status\"}",
                    "{\"return\": {\"running\": true, \"singlestep\": false, "
                    "\"status\": \"running\"}}");
    assert_exchange(c, "{\"execute\": \"query-name\", \"id\": {\"a\": [1]}}",
                    "{\"return\": {}, \"id\": {\"a\": [1]}}");
    assert_exchange(c, "{\"execute\": \"x-query-remote-devices\"}",
                    "{\"return\": []}");
    client_send(c, "{\"execute\": \"query-qmp-schema\"}");
    schema = client_reply(c);
    g_assert_cmpuint(json_array_get_length(
                         json_object_get_array_member(schema, "return")), >,
                     20);
    client_free(c);
    monitor_cleanup();
}

static const char *fake_transport_state(void *opaque)
{
    return opaque;
}

static void test_remote_devices_are_listed_with_their_transport(void)
{
    static const DeviceTransport fake = {
        .name = "mpqemu",
        .state = fake_transport_state,
        .opaque = (void *)"connected",
    };
    g_autoptr(KeyValList) opts0 = keyval_parse("test-dev,id=dev0", "driver",
                                               NULL);
    g_autoptr(KeyValList) opts1 = keyval_parse("test-dev", "driver", NULL);
    Device *dev0 = device_new(opts0, NULL);
    Device *dev1 = device_new(opts1, NULL);
    Client *c = client_pair();

    device_set_transport(dev0, &fake);
    g_assert_true(device_realize(dev0, NULL));
    negotiate(c);
    assert_exchange(c, "{\"execute\": \"x-query-remote-devices\"}",
                    "{\"return\": [{\"id\": \"dev0\", \"type\": "
                    "\"test-dev\", \"realized\": true, \"transport\": "
                    "\"mpqemu\", \"state\": \"connected\"}, "
                    "{\"type\": \"test-dev\", \"realized\": false, "
                    "\"state\": \"unbound\"}]}");
    device_free(dev0);
    device_free(dev1);
    client_free(c);
    monitor_cleanup();
}

static void test_bad_input_is_answered_and_the_session_goes_on(void)
{
    Client *c = client_pair();
    g_autofree char *big = g_strnfill(1024 * 1024, 'x');
    g_autofree char *big_request =
        g_strdup_printf("{\"execute\": \"query-name\", \"id\": \"%s\"}\n",
                        big);
    g_autoptr(JsonObject) too_long = NULL;
    g_autoptr(JsonObject) malformed = NULL;

    negotiate(c);
    client_send(c, "{\"execute\": \"query-name\",}\n");
    malformed = client_reply(c);
    /* The detail after the comma is json-glib's wording. */
    g_assert_true(g_str_has_prefix(error_desc(malformed),
                                   "JSON parse error, "));
    assert_exchange(c, "[1]\n", "{\"error\": {\"class\": \"GenericError\", "
                    "\"desc\": \"QMP input must be a JSON object\"}}");
    client_send(c, big_request);
    too_long = client_reply(c);
    g_assert_cmpstr(error_desc(too_long), ==,
                    "JSON parse error, request longer than 262144 bytes");
    assert_exchange(c, "{\"execute\": \"query-name\"}", "{\"return\": {}}");
    client_free(c);
    monitor_cleanup();
}

static void test_unix_socket_serves_two_clients_and_events(void)
{
    g_autofree char *dir = g_dir_make_tmp("qr-monitor-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
    Client *a, *b, *late;
    g_autoptr(JsonObject) ev_a = NULL;
    g_autoptr(JsonObject) ev_b = NULL;
    JsonObject *data;

    g_assert_true(monitor_add_qmp_unix(path, false, NULL));
    a = client_connect(path);
    b = client_connect(path);
    late = client_connect(path);
    negotiate(a);
    negotiate(b);
    g_free(client_line(late));

    monitor_emit_shutdown(SHUTDOWN_CAUSE_HOST_SIGNAL);
    ev_a = client_reply(a);
    ev_b = client_reply(b);
    g_assert_cmpstr(json_object_get_string_member(ev_a, "event"), ==,
                    "SHUTDOWN");
    g_assert_true(json_object_has_member(
        json_object_get_object_member(ev_a, "timestamp"), "microseconds"));
    data = json_object_get_object_member(ev_b, "data");
    g_assert_false(json_object_get_boolean_member(data, "guest"));
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    "host-signal");
    /* The client that did not negotiate gets no event: only end of
     * stream once the monitor closes. */
    monitor_cleanup();
    g_assert_null(client_line(late));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    client_free(a);
    client_free(b);
    client_free(late);
    rmdir(dir);
}

static void test_socket_path_problems_are_reported(void)
{
    g_autofree char *dir = g_dir_make_tmp("qr-monitor-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "plain-file", NULL);
    g_autofree char *stale = g_build_filename(dir, "stale.sock", NULL);
    g_autofree char *longpath = g_strnfill(200, 'a');
    g_autoptr(GError) err1 = NULL;
    g_autoptr(GError) err2 = NULL;
    g_autoptr(GError) err3 = NULL;
    g_autofree char *greeting = NULL;
    Client *c;

    g_assert_true(g_file_set_contents(file, "keep me", -1, NULL));
    g_assert_false(monitor_add_qmp_unix(file, false, &err1));
    g_assert_nonnull(strstr(err1->message, "not a socket"));
    g_assert_true(g_file_test(file, G_FILE_TEST_EXISTS));
    g_assert_false(monitor_add_qmp_unix(stale, true, &err2));
    g_assert_nonnull(strstr(err2->message, "wait=on is not supported"));
    g_assert_false(monitor_add_qmp_unix(longpath, false, &err3));
    g_assert_nonnull(strstr(err3->message, "too long"));

    /* A socket left behind by an earlier run is replaced. */
    g_assert_true(monitor_add_qmp_unix(stale, false, NULL));
    monitor_cleanup();
    g_assert_cmpint(mknod(stale, S_IFSOCK | 0600, 0), ==, 0);
    g_assert_true(monitor_add_qmp_unix(stale, false, NULL));
    c = client_connect(stale);
    greeting = client_line(c);
    g_assert_nonnull(strstr(greeting, "\"QMP\""));
    client_free(c);
    monitor_cleanup();

    unlink(file);
    rmdir(dir);
}

static void test_client_gone_mid_command_leaves_others_served(void)
{
    Client *gone = client_pair();
    Client *stays = client_pair();

    negotiate(stays);
    /* Half a request, then the peer closes: nothing to answer. */
    client_send(gone, "{\"execute\": \"query-sta");
    close(gone->fd);
    gone->fd = -1;
    assert_exchange(stays, "{\"execute\": \"query-name\"}",
                    "{\"return\": {}}");
    client_free(gone);
    client_free(stays);
    monitor_cleanup();
}

static void test_client_that_never_reads_is_dropped_at_the_output_limit(void)
{
    Client *lazy = client_pair();
    Client *reader = client_pair();
    g_autofree char *pad = g_strnfill(64 * 1024, 'p');
    size_t received = 0;
    bool eof = false;
    gint64 deadline = g_get_monotonic_time() + WAIT_US;

    negotiate(lazy);
    negotiate(reader);
    /* Each event carries 64 KiB; more than the limit in total. */
    for (int i = 0; i < 2 * MONITOR_MAX_OUTPUT / (64 * 1024); i++) {
        JsonObject *data = json_object_new();

        json_object_set_string_member(data, "pad", pad);
        monitor_emit_event("TEST_PADDING", data);
        g_main_context_iteration(NULL, FALSE);
        /* The other client reads along and stays connected. */
        g_free(client_line(reader));
    }
    while (!eof) {
        char buf[65536];
        ssize_t n;

        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
        n = recv(lazy->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            received += n;
        }
        eof = n == 0 || (n < 0 && errno == ECONNRESET);
    }
    /* Cut off before everything was delivered. */
    g_assert_cmpuint(received, <, 2 * MONITOR_MAX_OUTPUT);
    assert_exchange(reader, "{\"execute\": \"query-name\"}",
                    "{\"return\": {}}");
    client_free(lazy);
    client_free(reader);
    monitor_cleanup();
}

/*
 * Found by fuzz-qmp: requests queued behind a full output buffer were
 * never answered once the socket took the whole buffer in one go (no fd
 * event was left to wake the client up).  Sixteen schemas are about
 * twice the output a client may have pending before requests wait.
 */
static void test_pipelined_requests_with_large_replies_all_answered(void)
{
    Client *c = client_pair();
    g_autoptr(GString) burst = g_string_new(NULL);

    negotiate(c);
    for (int i = 0; i < 16; i++) {
        g_string_append(burst, "{\"execute\": \"query-qmp-schema\"}\n");
    }
    client_send(c, burst->str);
    for (int i = 0; i < 16; i++) {
        g_autoptr(JsonObject) reply = client_reply(c);

        g_assert_true(json_object_has_member(reply, "return"));
    }
    client_free(c);
    monitor_cleanup();
}

static void test_quit_requests_shutdown_after_replying(void)
{
    Client *c = client_pair();
    ShutdownCause cause;

    negotiate(c);
    assert_exchange(c, "{\"execute\": \"quit\"}", "{\"return\": {}}");
    g_assert_true(qemu_system_shutdown_requested(&cause));
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    client_free(c);
    monitor_cleanup();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/monitor/greeting", test_greeting_has_qemus_shape);
    g_test_add_func("/monitor/negotiation",
                    test_command_before_negotiation_is_refused);
    g_test_add_func("/monitor/queries",
                    test_queries_answer_after_negotiation);
    g_test_add_func("/monitor/remote-devices",
                    test_remote_devices_are_listed_with_their_transport);
    g_test_add_func("/monitor/bad-input",
                    test_bad_input_is_answered_and_the_session_goes_on);
    g_test_add_func("/monitor/unix-two-clients-and-events",
                    test_unix_socket_serves_two_clients_and_events);
    g_test_add_func("/monitor/socket-path-problems",
                    test_socket_path_problems_are_reported);
    g_test_add_func("/monitor/client-gone-mid-command",
                    test_client_gone_mid_command_leaves_others_served);
    g_test_add_func("/monitor/output-limit",
                    test_client_that_never_reads_is_dropped_at_the_output_limit);
    /* Last: a shutdown request cannot be taken back. */
    g_test_add_func("/monitor/pipelined-large-replies",
                    test_pipelined_requests_with_large_replies_all_answered);
    g_test_add_func("/monitor/quit", test_quit_requests_shutdown_after_replying);
    return g_test_run();
}
