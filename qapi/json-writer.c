/*
 * JSON text output (see include/qapi/json-writer.h).
 */
#include "qemu-remote/osdep.h"
#include "qapi/json-writer.h"

#include <math.h>

static void append_escaped_unit(GString *out, gunichar unit)
{
    g_string_append_printf(out, "\\u%04X", unit);
}

static void append_string(GString *out, const char *str)
{
    const char *p = str ? str : "";
    const char *end = p + strlen(p);

    g_string_append_c(out, '"');
    while (p < end) {
        unsigned char c = *p;
        gunichar ch;

        switch (c) {
        case '"':
            g_string_append(out, "\\\"");
            p++;
            continue;
        case '\\':
            g_string_append(out, "\\\\");
            p++;
            continue;
        case '\b':
            g_string_append(out, "\\b");
            p++;
            continue;
        case '\f':
            g_string_append(out, "\\f");
            p++;
            continue;
        case '\n':
            g_string_append(out, "\\n");
            p++;
            continue;
        case '\r':
            g_string_append(out, "\\r");
            p++;
            continue;
        case '\t':
            g_string_append(out, "\\t");
            p++;
            continue;
        }
        if (c >= 0x20 && c < 0x7f) {
            g_string_append_c(out, c);
            p++;
            continue;
        }
        if (c < 0x80) {
            append_escaped_unit(out, c);
            p++;
            continue;
        }
        ch = g_utf8_get_char_validated(p, end - p);
        if (ch == (gunichar)-1 || ch == (gunichar)-2) {
            append_escaped_unit(out, 0xFFFD);
            p++;
            continue;
        }
        if (ch >= 0x10000) {
            /* Outside the BMP: a UTF-16 surrogate pair, as JSON wants. */
            ch -= 0x10000;
            append_escaped_unit(out, 0xD800 + (ch >> 10));
            append_escaped_unit(out, 0xDC00 + (ch & 0x3FF));
        } else {
            append_escaped_unit(out, ch);
        }
        p = g_utf8_next_char(p);
    }
    g_string_append_c(out, '"');
}

static void append_double(GString *out, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (!isfinite(v)) {
        g_string_append(out, "null");
        return;
    }
    /* The shortest of %.15g / %.17g that reads back exactly. */
    g_ascii_formatd(buf, sizeof(buf), "%.15g", v);
    if (g_ascii_strtod(buf, NULL) != v) {
        g_ascii_formatd(buf, sizeof(buf), "%.17g", v);
    }
    g_string_append(out, buf);
    /* 2.0 stays a double when read back: not "2", which is an integer. */
    if (!strpbrk(buf, ".eE")) {
        g_string_append(out, ".0");
    }
}

static void append_value(GString *out, JsonNode *node)
{
    switch (json_node_get_value_type(node)) {
    case G_TYPE_INT64:
        g_string_append_printf(out, "%" G_GINT64_FORMAT,
                               json_node_get_int(node));
        break;
    case G_TYPE_DOUBLE:
        append_double(out, json_node_get_double(node));
        break;
    case G_TYPE_BOOLEAN:
        g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
        break;
    case G_TYPE_STRING:
        append_string(out, json_node_get_string(node));
        break;
    default:
        g_string_append(out, "null");
        break;
    }
}

void qapi_json_append(GString *out, JsonNode *node)
{
    if (!node) {
        g_string_append(out, "null");
        return;
    }
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT: {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;
        bool first = true;

        g_string_append_c(out, '{');
        json_object_iter_init_ordered(&iter, json_node_get_object(node));
        while (json_object_iter_next_ordered(&iter, &name, &member)) {
            if (!first) {
                g_string_append(out, ", ");
            }
            first = false;
            append_string(out, name);
            g_string_append(out, ": ");
            qapi_json_append(out, member);
        }
        g_string_append_c(out, '}');
        break;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *arr = json_node_get_array(node);
        guint len = json_array_get_length(arr);

        g_string_append_c(out, '[');
        for (guint i = 0; i < len; i++) {
            if (i) {
                g_string_append(out, ", ");
            }
            qapi_json_append(out, json_array_get_element(arr, i));
        }
        g_string_append_c(out, ']');
        break;
    }
    case JSON_NODE_VALUE:
        append_value(out, node);
        break;
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        break;
    }
}

char *qapi_json_to_string(JsonNode *node)
{
    GString *out = g_string_new(NULL);

    qapi_json_append(out, node);
    return g_string_free(out, FALSE);
}
