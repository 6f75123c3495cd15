/*
 * QAPI run time: enum lookups and the event hook (include/qapi/util.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qapi/util.h"

static QapiEventHandler *event_handler;

const char *qapi_enum_lookup(const QEnumLookup *lookup, int val)
{
    if (val < 0 || val >= lookup->size) {
        return "<invalid>";
    }
    return lookup->array[val];
}

int qapi_enum_parse(const QEnumLookup *lookup, const char *name,
                    GError **errp)
{
    g_autoptr(GString) valid = g_string_new(NULL);

    for (int i = 0; name && i < lookup->size; i++) {
        if (g_str_equal(lookup->array[i], name)) {
            return i;
        }
    }
    for (int i = 0; i < lookup->size; i++) {
        g_string_append_printf(valid, "%s%s", i ? ", " : "",
                               lookup->array[i]);
    }
    error_setg(errp, "'%s' is not a valid value (valid: %s)",
               name ? name : "", valid->str);
    return -1;
}

void qapi_event_set_handler(QapiEventHandler *handler)
{
    event_handler = handler;
}

void qapi_event_emit(const char *name, JsonObject *data)
{
    if (event_handler) {
        event_handler(name, data);
    } else if (data) {
        json_object_unref(data);
    }
}
