/*
 * libqtest: the QMP client (one JSON object per line from QEMU).
 */
#include "qemu-remote/osdep.h"
#include "libqtest-internal.h"

/* Reads the next QMP message before @deadline, or NULL. */
static JsonNode *qmp_read(QTestState *s, int64_t deadline)
{
    for (;;) {
        g_autofree char *line = qtest_channel_read_line(&s->qmp, deadline);
        g_autoptr(JsonParser) parser = NULL;
        JsonNode *root;

        if (!line) {
            return NULL;
        }
        if (!*line) {
            continue;
        }
        parser = json_parser_new();
        if (!json_parser_load_from_data(parser, line, -1, NULL) ||
            !(root = json_parser_get_root(parser)) ||
            !JSON_NODE_HOLDS_OBJECT(root)) {
            g_printerr("libqtest: unparsable QMP message: %.80s\n", line);
            continue;
        }
        return json_node_ref(root);
    }
}

static bool is_event(JsonNode *msg)
{
    return json_object_has_member(json_node_get_object(msg), "event");
}

JsonNode *qtest_qmp(QTestState *s, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    g_autofree char *line = NULL;
    int64_t deadline = qtest_now_ms() + QTEST_TIMEOUT_MS;
    va_list ap;

    if (s->broken) {
        return NULL;
    }
    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    line = g_strconcat(cmd, "\n", NULL);
    if (!qtest_channel_write(&s->qmp, line, strlen(line))) {
        qtest_set_broken(s, "cannot write to the QMP socket");
        return NULL;
    }
    for (;;) {
        JsonNode *msg = qmp_read(s, deadline);

        if (!msg) {
            g_autofree char *what = g_strdup_printf(
                "no QMP reply to %.60s", cmd);
            qtest_set_broken(s, what);
            return NULL;
        }
        if (is_event(msg)) {
            g_queue_push_tail(&s->events, msg);
            continue;
        }
        return msg;
    }
}

bool qtest_qmp_ok(QTestState *s, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    g_autoptr(JsonNode) reply = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    reply = qtest_qmp(s, "%s", cmd);
    if (!reply) {
        return false;
    }
    if (!json_object_has_member(json_node_get_object(reply), "return")) {
        g_autofree char *text = json_to_string(reply, FALSE);

        g_printerr("libqtest: %s failed: %s\n", cmd, text);
        if (g_test_initialized()) {
            g_test_fail();
        }
        return false;
    }
    return true;
}

static bool event_is(JsonNode *msg, const char *name)
{
    return g_strcmp0(json_object_get_string_member_with_default(
                         json_node_get_object(msg), "event", NULL),
                     name) == 0;
}

JsonNode *qtest_qmp_event_wait(QTestState *s, const char *event,
                               unsigned timeout_ms)
{
    int64_t deadline = qtest_now_ms() + timeout_ms;

    for (GList *l = s->events.head; l; l = l->next) {
        if (event_is(l->data, event)) {
            JsonNode *msg = l->data;

            g_queue_delete_link(&s->events, l);
            return msg;
        }
    }
    while (!s->broken) {
        JsonNode *msg = qmp_read(s, deadline);

        if (!msg) {
            return NULL;
        }
        if (is_event(msg) && event_is(msg, event)) {
            return msg;
        }
        if (is_event(msg)) {
            g_queue_push_tail(&s->events, msg);
        } else {
            json_node_unref(msg);
        }
    }
    return NULL;
}

void qtest_system_reset(QTestState *s)
{
    g_autoptr(JsonNode) ev = NULL;

    if (!qtest_qmp_ok(s, "{\"execute\": \"system_reset\"}")) {
        return;
    }
    /* The reset runs in the VMM's main loop after the reply; the RESET
     * event says it (and so every proxy's DEVICE_RESET) has completed. */
    ev = qtest_qmp_event_wait(s, "RESET", QTEST_TIMEOUT_MS);
    if (!ev) {
        qtest_set_broken(s, "no RESET event after system_reset");
    }
}
