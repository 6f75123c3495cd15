/*
 * Handlers of qapi/control.json: qmp_capabilities, query-version,
 * query-commands, quit, query-qmp-schema.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/runstate.h"
#include "qapi/qapi-commands.h"
#include "qapi/visit-core.h"
#include "monitor-internal.h"

bool qmp_qmp_capabilities(QMPCapabilityList *enable, GError **errp)
{
    QmpClient *client = qmp_current_client();

    if (enable) {
        error_setg(errp, "Capability '%s' not available",
                   QMPCapability_str(enable->value));
        return false;
    }
    if (client) {
        qmp_client_set_negotiated(client);
    }
    return true;
}

bool qmp_query_version(VersionInfo **ret, GError **errp)
{
    *ret = qmp_version_info();
    return true;
}

bool qmp_query_commands(CommandInfoList **ret, GError **errp)
{
    CommandInfoList **tail = ret;

    for (const QmpCommand *cmd = qmp_commands; cmd->name; cmd++) {
        CommandInfoList *cell = g_new0(CommandInfoList, 1);

        cell->value = g_new0(CommandInfo, 1);
        cell->value->name = g_strdup(cmd->name);
        *tail = cell;
        tail = &cell->next;
    }
    return true;
}

bool qmp_quit(GError **errp)
{
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    return true;
}

bool qmp_marshal_query_qmp_schema(JsonObject *args, JsonNode **ret,
                                  GError **errp)
{
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) err = NULL;
    QapiIn in;
    bool ok;

    qapi_in_init(&in, QAPI_INPUT_STRICT);
    ok = qapi_in_check_no_members(&in, args, errp);
    qapi_in_cleanup(&in);
    if (!ok) {
        return false;
    }
    /* Generated at build time: parsing it is the only work left. */
    parser = json_parser_new();
    if (!json_parser_load_from_data(parser, qapi_introspect_json, -1, &err)) {
        error_setg(errp, "Introspection data is corrupt: %s", err->message);
        return false;
    }
    *ret = json_parser_steal_root(parser);
    return true;
}
