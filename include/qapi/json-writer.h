/*
 * JSON text output in QEMU's QMP style: one line, ", " and ": " between
 * items, object members in insertion order, strings in pure ASCII (other
 * characters as \uXXXX escapes, invalid UTF-8 as U+FFFD), doubles that read
 * back to the same double (with ".0" when integral, so they stay doubles).
 * NaN and infinities, which JSON cannot carry, are written as null.
 */
#ifndef QAPI_JSON_WRITER_H
#define QAPI_JSON_WRITER_H

#include "qemu-remote/osdep.h"

#include <json-glib/json-glib.h>

/* Appends @node (NULL: null) to @out. */
void qapi_json_append(GString *out, JsonNode *node);

/* @node as a new string (g_free() it). */
char *qapi_json_to_string(JsonNode *node);

#endif
