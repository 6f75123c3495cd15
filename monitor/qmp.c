/*
 * The QMP protocol on one connection: greeting, capability negotiation,
 * dispatch through the generated command table, replies.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "qapi/json-writer.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-visit.h"
#include "monitor-internal.h"

static QmpClient *current_client;

QmpClient *qmp_current_client(void)
{
    return current_client;
}

VersionInfo *qmp_version_info(void)
{
    VersionInfo *info = g_new0(VersionInfo, 1);
    unsigned major = 0, minor = 0, micro = 0;

    /* QEMU_REMOTE_VERSION is "MAJOR.MINOR.MICRO" from meson.build. */
    sscanf(QEMU_REMOTE_VERSION, "%u.%u.%u", &major, &minor, &micro);
    info->qemu = g_new0(VersionTriple, 1);
    info->qemu->major = major;
    info->qemu->minor = minor;
    info->qemu->micro = micro;
    info->package = g_strdup("qemu-remote " QEMU_REMOTE_VERSION);
    return info;
}

JsonObject *qmp_greeting(void)
{
    g_autoptr(VersionInfo) info = qmp_version_info();
    JsonObject *qmp = json_object_new();
    JsonObject *greeting = json_object_new();

    json_object_set_member(qmp, "version", qapi_to_json_VersionInfo(info));
    json_object_set_array_member(qmp, "capabilities", json_array_new());
    json_object_set_object_member(greeting, "QMP", qmp);
    return greeting;
}

/* Refuses commands that the negotiation state does not allow, with
 * QEMU's class and text. */
static bool is_allowed_now(QmpClient *client, const char *name,
                           GError **errp)
{
    bool is_caps = g_str_equal(name, "qmp_capabilities");

    if (!qmp_client_negotiated(client) && !is_caps) {
        error_set(errp, QR_ERROR_COMMAND_NOT_FOUND,
                  "Expecting capabilities negotiation with "
                  "'qmp_capabilities'");
        return false;
    }
    if (qmp_client_negotiated(client) && is_caps) {
        error_set(errp, QR_ERROR_COMMAND_NOT_FOUND,
                  "Capabilities negotiation is already complete, command "
                  "ignored");
        return false;
    }
    return true;
}

void qmp_handle_request(QmpClient *client, JsonNode *request, GError *err)
{
    g_autoptr(JsonNode) req = request;
    g_autoptr(JsonNode) id = NULL;
    JsonObject *args = NULL;
    JsonNode *ret = NULL;
    const char *name;

    if (req && qr_log_enabled(LOG_QMP)) {
        g_autofree char *text = qapi_json_to_string(req);

        qr_log("qmp: %s -> %s", qmp_client_describe(client), text);
    }
    if (!err && qmp_check_request(req, &name, &args, &id, &err) &&
        is_allowed_now(client, name, &err)) {
        current_client = client;
        qmp_run_command(qmp_commands, name, args, &ret, &err);
        current_client = NULL;
    }
    if (args) {
        json_object_unref(args);
    }
    qmp_client_send(client, qmp_build_reply(ret, err, id));
    if (err) {
        g_error_free(err);
    }
}
