/*
 * Conversion of single JSON values to and from C for generated code
 * (include/qapi/visit-core.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/option.h"
#include "qapi/visit-core.h"

void qapi_in_init(QapiIn *in, QapiInputMode mode)
{
    in->mode = mode;
    in->path = g_string_new(NULL);
}

void qapi_in_cleanup(QapiIn *in)
{
    g_string_free(in->path, TRUE);
    in->path = NULL;
}

size_t qapi_in_push(QapiIn *in, const char *name)
{
    size_t mark = in->path->len;

    if (name) {
        if (in->path->len) {
            g_string_append_c(in->path, '.');
        }
        g_string_append(in->path, name);
    }
    return mark;
}

size_t qapi_in_push_index(QapiIn *in, size_t index)
{
    size_t mark = in->path->len;

    /* QMP names list elements "list[0]", -option syntax "list.0". */
    g_string_append_printf(in->path, in->mode == QAPI_INPUT_KEYVAL ?
                           ".%zu" : "[%zu]", index);
    return mark;
}

void qapi_in_pop(QapiIn *in, size_t mark)
{
    g_string_truncate(in->path, mark);
}

/* The full name of member @name of the current value (NULL: the current
 * value itself); "" at the top level. */
static char *full_name(QapiIn *in, const char *name)
{
    if (!name) {
        return g_strdup(in->path->str);
    }
    if (!in->path->len) {
        return g_strdup(name);
    }
    return g_strdup_printf("%s.%s", in->path->str, name);
}

static void error_type(QapiIn *in, const char *name, const char *expected,
                       GError **errp)
{
    g_autofree char *full = full_name(in, name);

    if (*full) {
        error_setg(errp, "Invalid parameter type for '%s', expected: %s",
                   full, expected);
    } else {
        error_setg(errp, "Invalid parameter type, expected: %s", expected);
    }
}

static void error_value(QapiIn *in, const char *name, const char *expects,
                        GError **errp)
{
    g_autofree char *full = full_name(in, name);

    error_setg(errp, "Parameter '%s' expects %s", *full ? full : "value",
               expects);
}

void qapi_in_error_missing(QapiIn *in, const char *name, GError **errp)
{
    g_autofree char *full = full_name(in, name);

    error_setg(errp, "Parameter '%s' is missing", full);
}

JsonObject *qapi_in_object(QapiIn *in, JsonNode *node, const char *name,
                           GError **errp)
{
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        error_type(in, name, "object", errp);
        return NULL;
    }
    return json_node_get_object(node);
}

bool qapi_in_check_members(QapiIn *in, JsonObject *obj, unsigned consumed,
                           bool (*is_member)(const void *value,
                                             const char *name),
                           const void *value, GError **errp)
{
    JsonObjectIter iter;
    const char *member;
    JsonNode *node;

    if (consumed == json_object_get_size(obj)) {
        return true;
    }
    json_object_iter_init_ordered(&iter, obj);
    while (json_object_iter_next_ordered(&iter, &member, &node)) {
        if (!is_member || !is_member(value, member)) {
            g_autofree char *full = full_name(in, member);

            error_setg(errp, "Parameter '%s' is unexpected", full);
            return false;
        }
    }
    /* Only reachable if the reader miscounted: still refuse. */
    error_setg(errp, "Parameters do not match the schema");
    return false;
}

bool qapi_in_check_no_members(QapiIn *in, JsonObject *obj, GError **errp)
{
    return qapi_in_check_members(in, obj, 0, NULL, NULL, errp);
}

/* Keyval lists are objects {"0": ..., "1": ...}; see qapi_in_list(). */
static bool is_keyval_list(QapiIn *in, JsonNode *node)
{
    return in->mode == QAPI_INPUT_KEYVAL && JSON_NODE_HOLDS_OBJECT(node);
}

bool qapi_in_list(QapiIn *in, JsonNode *node, const char *name, guint *len,
                  GError **errp)
{
    if (JSON_NODE_HOLDS_ARRAY(node)) {
        *len = json_array_get_length(json_node_get_array(node));
        return true;
    }
    if (is_keyval_list(in, node)) {
        *len = json_object_get_size(json_node_get_object(node));
        return true;
    }
    error_type(in, name, "array", errp);
    return false;
}

JsonNode *qapi_in_list_elem(QapiIn *in, JsonNode *node, guint index,
                            GError **errp)
{
    char key[16];
    JsonNode *elem;

    if (JSON_NODE_HOLDS_ARRAY(node)) {
        return json_array_get_element(json_node_get_array(node), index);
    }
    /* A keyval list of N members must use exactly the keys 0..N-1: a
     * missing index means some other key is there instead. */
    g_snprintf(key, sizeof(key), "%u", index);
    elem = json_object_get_member(json_node_get_object(node), key);
    if (!elem) {
        qapi_in_error_missing(in, NULL, errp);
    }
    return elem;
}

/* In keyval mode every scalar must be a string; NULL with the type error
 * set otherwise. */
static const char *keyval_text(QapiIn *in, JsonNode *node, const char *name,
                               const char *expected, GError **errp)
{
    if (!JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) != G_TYPE_STRING) {
        error_type(in, name, expected, errp);
        return NULL;
    }
    return json_node_get_string(node);
}

static bool holds(JsonNode *node, GType type)
{
    return JSON_NODE_HOLDS_VALUE(node) &&
           json_node_get_value_type(node) == type;
}

bool qapi_in_str(QapiIn *in, JsonNode *node, const char *name, char **out,
                 GError **errp)
{
    if (!holds(node, G_TYPE_STRING)) {
        error_type(in, name, "string", errp);
        return false;
    }
    *out = g_strdup(json_node_get_string(node));
    return true;
}

bool qapi_in_int(QapiIn *in, JsonNode *node, const char *name, int64_t min,
                 int64_t max, const char *type, int64_t *out, GError **errp)
{
    int64_t v;

    if (in->mode == QAPI_INPUT_KEYVAL) {
        const char *text = keyval_text(in, node, name, "integer", errp);

        if (!text) {
            return false;
        }
        if (!qemu_parse_int(text, &v, NULL)) {
            error_value(in, name, "integer", errp);
            return false;
        }
    } else if (holds(node, G_TYPE_INT64)) {
        v = json_node_get_int(node);
    } else {
        error_type(in, name, "integer", errp);
        return false;
    }
    if (v < min || v > max) {
        error_value(in, name, type, errp);
        return false;
    }
    *out = v;
    return true;
}

bool qapi_in_uint(QapiIn *in, JsonNode *node, const char *name, uint64_t max,
                  const char *type, uint64_t *out, GError **errp)
{
    uint64_t v;

    if (in->mode == QAPI_INPUT_KEYVAL) {
        const char *text = keyval_text(in, node, name, "integer", errp);

        if (!text) {
            return false;
        }
        if (!qemu_parse_uint(text, &v, NULL)) {
            error_value(in, name, type, errp);
            return false;
        }
    } else if (holds(node, G_TYPE_INT64)) {
        int64_t s = json_node_get_int(node);

        if (s < 0) {
            error_value(in, name, type, errp);
            return false;
        }
        v = s;
    } else {
        error_type(in, name, "integer", errp);
        return false;
    }
    if (v > max) {
        error_value(in, name, type, errp);
        return false;
    }
    *out = v;
    return true;
}

bool qapi_in_size(QapiIn *in, JsonNode *node, const char *name,
                  uint64_t *out, GError **errp)
{
    const char *text;

    if (in->mode != QAPI_INPUT_KEYVAL) {
        return qapi_in_uint(in, node, name, UINT64_MAX, "size", out, errp);
    }
    text = keyval_text(in, node, name, "size", errp);
    if (!text) {
        return false;
    }
    if (!qemu_parse_size(text, out, NULL)) {
        error_value(in, name, "a size value", errp);
        return false;
    }
    return true;
}

bool qapi_in_bool(QapiIn *in, JsonNode *node, const char *name, bool *out,
                  GError **errp)
{
    if (in->mode == QAPI_INPUT_KEYVAL) {
        const char *text = keyval_text(in, node, name, "boolean", errp);

        if (!text) {
            return false;
        }
        if (!qemu_parse_bool(text, out, NULL)) {
            error_value(in, name, "'on' or 'off'", errp);
            return false;
        }
        return true;
    }
    if (!holds(node, G_TYPE_BOOLEAN)) {
        error_type(in, name, "boolean", errp);
        return false;
    }
    *out = json_node_get_boolean(node);
    return true;
}

bool qapi_in_number(QapiIn *in, JsonNode *node, const char *name,
                    double *out, GError **errp)
{
    if (in->mode == QAPI_INPUT_KEYVAL) {
        const char *text = keyval_text(in, node, name, "number", errp);
        char *end;
        double v;

        if (!text) {
            return false;
        }
        errno = 0;
        v = g_ascii_strtod(text, &end);
        if (!*text || *end || errno || g_ascii_isspace(*text)) {
            error_value(in, name, "number", errp);
            return false;
        }
        *out = v;
        return true;
    }
    if (holds(node, G_TYPE_INT64)) {
        *out = json_node_get_int(node);
        return true;
    }
    if (!holds(node, G_TYPE_DOUBLE)) {
        error_type(in, name, "number", errp);
        return false;
    }
    *out = json_node_get_double(node);
    return true;
}

bool qapi_in_enum(QapiIn *in, JsonNode *node, const char *name,
                  const QEnumLookup *lookup, int *out, GError **errp)
{
    const char *text;

    if (!holds(node, G_TYPE_STRING)) {
        error_type(in, name, "string", errp);
        return false;
    }
    text = json_node_get_string(node);
    for (int i = 0; i < lookup->size; i++) {
        if (g_str_equal(lookup->array[i], text)) {
            *out = i;
            return true;
        }
    }
    {
        g_autofree char *full = full_name(in, name);

        error_setg(errp, "Parameter '%s' does not accept value '%s'",
                   *full ? full : "value", text);
    }
    return false;
}

bool qapi_in_any(QapiIn *in, JsonNode *node, const char *name,
                 JsonNode **out, GError **errp)
{
    *out = json_node_copy(node);
    return true;
}

bool qapi_in_null(QapiIn *in, JsonNode *node, const char *name,
                  JsonNode **out, GError **errp)
{
    bool ok;

    if (in->mode == QAPI_INPUT_KEYVAL) {
        ok = holds(node, G_TYPE_STRING) && !*json_node_get_string(node);
    } else {
        ok = JSON_NODE_HOLDS_NULL(node);
    }
    if (!ok) {
        error_type(in, name, "null", errp);
        return false;
    }
    *out = json_node_new(JSON_NODE_NULL);
    return true;
}

JsonNode *qapi_out_str(const char *value)
{
    JsonNode *node = json_node_new(JSON_NODE_VALUE);

    json_node_set_string(node, value ? value : "");
    return node;
}

JsonNode *qapi_out_int(int64_t value)
{
    JsonNode *node = json_node_new(JSON_NODE_VALUE);

    json_node_set_int(node, value);
    return node;
}

JsonNode *qapi_out_uint(uint64_t value)
{
    JsonNode *node = json_node_new(JSON_NODE_VALUE);

    if (value > INT64_MAX) {
        json_node_set_double(node, (double)value);
    } else {
        json_node_set_int(node, (int64_t)value);
    }
    return node;
}

JsonNode *qapi_out_bool(bool value)
{
    JsonNode *node = json_node_new(JSON_NODE_VALUE);

    json_node_set_boolean(node, value);
    return node;
}

JsonNode *qapi_out_number(double value)
{
    JsonNode *node = json_node_new(JSON_NODE_VALUE);

    json_node_set_double(node, value);
    return node;
}

JsonNode *qapi_out_enum(const QEnumLookup *lookup, int value)
{
    return qapi_out_str(qapi_enum_lookup(lookup, value));
}

JsonNode *qapi_out_any(JsonNode *value)
{
    return value ? json_node_copy(value) : json_node_new(JSON_NODE_NULL);
}

JsonNode *qapi_out_null(void)
{
    return json_node_new(JSON_NODE_NULL);
}

JsonNode *qapi_out_object(JsonObject *obj)
{
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(node, obj);
    return node;
}
