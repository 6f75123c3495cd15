/*
 * QEMU option syntax (see include/qemu-remote/option.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/option.h"

static void keyvalue_free(gpointer p)
{
    KeyValue *kv = p;

    g_free(kv->key);
    g_free(kv->value);
    g_free(kv);
}

void keyval_free(KeyValList *list)
{
    if (list) {
        g_ptr_array_unref(list->items);
        g_free(list);
    }
}

/*
 * Reads one element of @str starting at *@pos up to an unescaped ',' (or,
 * when @stop_at_eq, an '='), unescaping ",,".  Leaves *@pos at the
 * terminator.
 */
static char *read_element(const char *str, size_t *pos, bool stop_at_eq)
{
    GString *out = g_string_new(NULL);
    size_t i = *pos;

    for (; str[i]; i++) {
        if (str[i] == ',') {
            if (str[i + 1] == ',') {
                g_string_append_c(out, ',');
                i++;
                continue;
            }
            break;
        }
        if (stop_at_eq && str[i] == '=') {
            break;
        }
        g_string_append_c(out, str[i]);
    }
    *pos = i;
    return g_string_free(out, FALSE);
}

KeyValList *keyval_parse(const char *str, const char *implied_key,
                         GError **errp)
{
    g_autoptr(KeyValList) list = g_new0(KeyValList, 1);
    size_t pos = 0;
    bool first = true;

    list->items = g_ptr_array_new_with_free_func(keyvalue_free);
    if (!*str) {
        return g_steal_pointer(&list);
    }
    for (;;) {
        g_autofree char *key = read_element(str, &pos, true);
        KeyValue *kv;

        if (str[pos] == '=') {
            pos++;
            if (!*key) {
                error_setg(errp, "Expected parameter before '=%s'",
                           str + pos);
                return NULL;
            }
            kv = g_new(KeyValue, 1);
            kv->key = g_steal_pointer(&key);
            kv->value = read_element(str, &pos, false);
        } else if (first && implied_key) {
            kv = g_new(KeyValue, 1);
            kv->key = g_strdup(implied_key);
            kv->value = g_steal_pointer(&key);
        } else if (!*key) {
            error_setg(errp, "Empty parameter in '%s'", str);
            return NULL;
        } else {
            error_setg(errp, "Expected '=' after parameter '%s'", key);
            return NULL;
        }
        g_ptr_array_add(list->items, kv);
        first = false;

        if (!str[pos]) {
            break;
        }
        pos++; /* skip ',' */
        if (!str[pos]) {
            error_setg(errp, "Empty parameter at the end of '%s'", str);
            return NULL;
        }
    }
    return g_steal_pointer(&list);
}

const char *keyval_get(const KeyValList *list, const char *key)
{
    for (guint i = list->items->len; i > 0; i--) {
        KeyValue *kv = g_ptr_array_index(list->items, i - 1);

        if (g_str_equal(kv->key, key)) {
            return kv->value;
        }
    }
    return NULL;
}

bool keyval_check_keys(const KeyValList *list, const char *const *allowed,
                       GError **errp)
{
    for (guint i = 0; i < list->items->len; i++) {
        KeyValue *kv = g_ptr_array_index(list->items, i);

        if (!g_strv_contains(allowed, kv->key)) {
            error_setg(errp, "Invalid parameter '%s'", kv->key);
            return false;
        }
    }
    return true;
}

JsonNode *keyval_to_json(const KeyValList *list, GError **errp)
{
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(root, json_object_new());
    for (guint i = 0; i < list->items->len; i++) {
        KeyValue *kv = g_ptr_array_index(list->items, i);
        g_auto(GStrv) parts = g_strsplit(kv->key, ".", -1);
        JsonObject *obj = json_node_get_object(root);
        guint n = g_strv_length(parts);

        for (guint p = 0; p < n; p++) {
            const char *name = parts[p];
            JsonNode *member = json_object_get_member(obj, name);

            if (!*name) {
                error_setg(errp, "Invalid parameter '%s'", kv->key);
                return NULL;
            }
            if (p == n - 1) {
                if (member) {
                    error_setg(errp, "Parameter '%s' given twice or "
                               "conflicts with a nested parameter", kv->key);
                    return NULL;
                }
                json_object_set_string_member(obj, name, kv->value);
                break;
            }
            if (!member) {
                json_object_set_object_member(obj, name, json_object_new());
                member = json_object_get_member(obj, name);
            } else if (!JSON_NODE_HOLDS_OBJECT(member)) {
                error_setg(errp, "Parameter '%s' conflicts with a "
                           "non-nested parameter", kv->key);
                return NULL;
            }
            obj = json_node_get_object(member);
        }
    }
    return g_steal_pointer(&root);
}

bool qemu_parse_bool(const char *str, bool *value, GError **errp)
{
    static const char *const yes[] = { "on", "yes", "true", NULL };
    static const char *const no[] = { "off", "no", "false", NULL };

    if (g_strv_contains(yes, str)) {
        *value = true;
        return true;
    }
    if (g_strv_contains(no, str)) {
        *value = false;
        return true;
    }
    error_setg(errp, "'%s' is not a boolean (use on/off, yes/no or "
               "true/false)", str);
    return false;
}

bool qemu_parse_uint(const char *str, uint64_t *value, GError **errp)
{
    char *end;
    guint64 v;

    errno = 0;
    if (!*str || g_ascii_isspace(*str) || *str == '-' || *str == '+') {
        goto bad;
    }
    v = g_ascii_strtoull(str, &end, 0);
    if (errno == ERANGE) {
        error_setg(errp, "'%s' is too large", str);
        return false;
    }
    if (errno || *end) {
        goto bad;
    }
    *value = v;
    return true;
bad:
    error_setg(errp, "'%s' is not a non-negative number", str);
    return false;
}

bool qemu_parse_int(const char *str, int64_t *value, GError **errp)
{
    char *end;
    gint64 v;

    errno = 0;
    if (!*str || g_ascii_isspace(*str)) {
        goto bad;
    }
    v = g_ascii_strtoll(str, &end, 0);
    if (errno == ERANGE) {
        error_setg(errp, "'%s' is out of range", str);
        return false;
    }
    if (errno || *end) {
        goto bad;
    }
    *value = v;
    return true;
bad:
    error_setg(errp, "'%s' is not a number", str);
    return false;
}

bool qemu_parse_size(const char *str, uint64_t *value, GError **errp)
{
    static const char suffixes[] = "bkmgtpe";
    const char *s;
    char *end;
    uint64_t v;
    int shift = 0;

    errno = 0;
    if (!*str || !g_ascii_isdigit(*str)) {
        goto bad;
    }
    v = g_ascii_strtoull(str, &end, 10);
    if (errno == ERANGE) {
        goto range;
    }
    if (errno) {
        goto bad;
    }
    if (*end) {
        s = strchr(suffixes, g_ascii_tolower(*end));
        if (!s) {
            goto bad;
        }
        shift = 10 * (int)(s - suffixes);
        end++;
        /* "4KB", "1MiB"-style trailing unit letters are not QEMU's; only a
         * bare "B" after a multiplier is accepted, as QEMU does. */
        if (shift && (*end == 'B' || *end == 'b')) {
            end++;
        }
        if (*end) {
            goto bad;
        }
    }
    if (shift && v > (UINT64_MAX >> shift)) {
        goto range;
    }
    *value = v << shift;
    return true;
bad:
    error_setg(errp, "'%s' is not a size (a number with an optional k, M, "
               "G, T, P or E suffix)", str);
    return false;
range:
    error_setg(errp, "size '%s' is too large", str);
    return false;
}
