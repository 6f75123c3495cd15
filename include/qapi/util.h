/*
 * QAPI run time: what generated code (qapi-types.h, qapi-visit.h,
 * qapi-events.h) and its users share.  See docs/devel/qapi.md.
 */
#ifndef QAPI_UTIL_H
#define QAPI_UTIL_H

#include "qemu-remote/osdep.h"

#include <json-glib/json-glib.h>

/* The wire names of a generated enum, indexed by its C value. */
typedef struct QEnumLookup {
    const char *const *array;
    int size;
} QEnumLookup;

/*
 * The wire name of @val, or "<invalid>" (never NULL) when @val is out of
 * range.
 */
const char *qapi_enum_lookup(const QEnumLookup *lookup, int val);

/*
 * The C value whose wire name is @name.  Returns -1 with @errp set
 * ("'NAME' is not a valid value (valid: a, b, c)") when @name is NULL or
 * not a value of the enum.
 */
int qapi_enum_parse(const QEnumLookup *lookup, const char *name,
                    GError **errp);

/*
 * How JSON input is converted into C (qapi_from_json_*()):
 * STRICT is QMP: every JSON value must have the schema's type, unknown
 * members are rejected.  KEYVAL is command-line options turned into JSON by
 * keyval_to_json(): every scalar is a string and is converted to the
 * schema's type (numbers, sizes with suffixes, on/off/yes/no/true/false);
 * lists may be written as objects with keys "0", "1", ...
 */
typedef enum QapiInputMode {
    QAPI_INPUT_STRICT,
    QAPI_INPUT_KEYVAL,
} QapiInputMode;

/*
 * Events.  The generated qapi_event_send_NAME() functions build the data
 * object and call qapi_event_emit(), which passes it to the handler set
 * with qapi_event_set_handler() (the monitor sets monitor_emit_event) or,
 * when none is set, drops it.  @data may be NULL (no "data" member); the
 * handler takes ownership of it.  Main thread only.
 */
typedef void QapiEventHandler(const char *name, JsonObject *data);
void qapi_event_set_handler(QapiEventHandler *handler);
void qapi_event_emit(const char *name, JsonObject *data);

#endif
