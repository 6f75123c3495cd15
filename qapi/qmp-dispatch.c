/*
 * QMP request checking, command dispatch and replies
 * (include/qapi/qmp-dispatch.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qapi/qmp-dispatch.h"

const QmpCommand *qmp_find_command(const QmpCommand *table, const char *name)
{
    for (const QmpCommand *cmd = table; cmd->name; cmd++) {
        if (g_str_equal(cmd->name, name)) {
            return cmd;
        }
    }
    return NULL;
}

bool qmp_check_request(JsonNode *request, const char **name,
                       JsonObject **args, JsonNode **id, GError **errp)
{
    JsonObject *obj;
    JsonObjectIter iter;
    const char *member;
    JsonNode *node;
    JsonNode *exec;
    JsonNode *arguments;

    *id = NULL;
    if (!JSON_NODE_HOLDS_OBJECT(request)) {
        error_setg(errp, "QMP input must be a JSON object");
        return false;
    }
    obj = json_node_get_object(request);
    node = json_object_get_member(obj, "id");
    if (node) {
        *id = json_node_copy(node);
    }

    /* QEMU checks the members in the order the client wrote them. */
    json_object_iter_init_ordered(&iter, obj);
    while (json_object_iter_next_ordered(&iter, &member, &node)) {
        if (g_str_equal(member, "execute")) {
            if (!JSON_NODE_HOLDS_VALUE(node) ||
                json_node_get_value_type(node) != G_TYPE_STRING) {
                error_setg(errp, "QMP input member 'execute' must be a "
                           "string");
                return false;
            }
        } else if (g_str_equal(member, "arguments")) {
            if (!JSON_NODE_HOLDS_OBJECT(node)) {
                error_setg(errp, "QMP input member 'arguments' must be an "
                           "object");
                return false;
            }
        } else if (!g_str_equal(member, "id")) {
            error_setg(errp, "QMP input member '%s' is unexpected", member);
            return false;
        }
    }
    exec = json_object_get_member(obj, "execute");
    if (!exec) {
        error_setg(errp, "QMP input lacks member 'execute'");
        return false;
    }
    *name = json_node_get_string(exec);
    arguments = json_object_get_member(obj, "arguments");
    *args = arguments ? json_object_ref(json_node_get_object(arguments))
                      : json_object_new();
    return true;
}

bool qmp_run_command(const QmpCommand *table, const char *name,
                     JsonObject *args, JsonNode **ret, GError **errp)
{
    const QmpCommand *cmd = qmp_find_command(table, name);
    GError *err = NULL;

    if (!cmd) {
        error_set(errp, QR_ERROR_COMMAND_NOT_FOUND,
                  "The command %s has not been found", name);
        return false;
    }
    *ret = NULL;
    if (!cmd->fn(args, ret, &err)) {
        if (!err) {
            error_setg(&err, "Command %s failed", name);
        }
        if (*ret) {
            json_node_unref(*ret);
            *ret = NULL;
        }
        g_propagate_error(errp, err);
        return false;
    }
    if (err) {
        /* Success wins over an error the handler set anyway. */
        g_error_free(err);
    }
    if (!*ret) {
        /* A handler that returned nothing still owes a JSON value. */
        *ret = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(*ret, json_object_new());
    }
    return true;
}

JsonObject *qmp_build_reply(JsonNode *ret, const GError *err, JsonNode *id)
{
    JsonObject *reply = json_object_new();

    if (err) {
        JsonObject *error = json_object_new();
        const char *cls = err->domain == QR_ERROR ?
            qr_error_class_name(err->code) : "GenericError";

        json_object_set_string_member(error, "class", cls);
        json_object_set_string_member(error, "desc", err->message);
        json_object_set_object_member(reply, "error", error);
        if (ret) {
            json_node_unref(ret);
        }
    } else {
        if (!ret) {
            ret = json_node_new(JSON_NODE_OBJECT);
            json_node_take_object(ret, json_object_new());
        }
        json_object_set_member(reply, "return", ret);
    }
    if (id) {
        json_object_set_member(reply, "id", json_node_copy(id));
    }
    return reply;
}

JsonObject *qmp_dispatch(const QmpCommand *table, JsonNode *request)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) id = NULL;
    const char *name;
    JsonObject *args = NULL;
    JsonNode *ret = NULL;

    if (qmp_check_request(request, &name, &args, &id, &err)) {
        qmp_run_command(table, name, args, &ret, &err);
        json_object_unref(args);
    }
    return qmp_build_reply(ret, err, id);
}
