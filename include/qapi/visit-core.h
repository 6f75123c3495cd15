/*
 * Conversion of single JSON values to and from C, for the code that
 * scripts/qapi-gen.py generates (qapi-visit.c, qapi-commands.c,
 * qapi-events.c).  Hand-written code uses the generated
 * qapi_from_json_TYPE() / qapi_to_json_TYPE() instead.
 *
 * Every reader takes the member @name being read (NULL for a list element
 * or the top-level value) and reports errors with the member's full name
 * ("addr.path", "caps[0].state"; "caps.0.state" in keyval mode), in QEMU's
 * words:
 *   Parameter 'NAME' is missing
 *   Parameter 'NAME' is unexpected
 *   Invalid parameter type for 'NAME', expected: integer
 *   Parameter 'NAME' expects uint8_t          (out of range)
 *   Parameter 'NAME' does not accept value 'VALUE'   (enums)
 * Readers return false (or NULL) with @errp set on error and leave *@out
 * untouched; on success they store a value the caller owns.
 */
#ifndef QAPI_VISIT_CORE_H
#define QAPI_VISIT_CORE_H

#include "qapi/util.h"

/* One conversion from JSON: the mode and where in the input we are. */
typedef struct QapiIn {
    QapiInputMode mode;
    GString *path;  /* full name of the innermost member being read */
} QapiIn;

void qapi_in_init(QapiIn *in, QapiInputMode mode);
void qapi_in_cleanup(QapiIn *in);

/*
 * Enter member @name (no-op for NULL) or list element @index.  Both return
 * a mark to hand to qapi_in_pop() when leaving it.
 */
size_t qapi_in_push(QapiIn *in, const char *name);
size_t qapi_in_push_index(QapiIn *in, size_t index);
void qapi_in_pop(QapiIn *in, size_t mark);

/* Sets "Parameter 'NAME' is missing". */
void qapi_in_error_missing(QapiIn *in, const char *name, GError **errp);

/* The object @node holds, or NULL with "expected: object" set. */
JsonObject *qapi_in_object(QapiIn *in, JsonNode *node, const char *name,
                           GError **errp);

/*
 * Checks that every member of @obj is one the type knows: @consumed is how
 * many members the generated reader recognised; when that is fewer than
 * @obj has, the first member for which @is_member(@value, member) is false
 * is reported as unexpected.
 */
bool qapi_in_check_members(QapiIn *in, JsonObject *obj, unsigned consumed,
                           bool (*is_member)(const void *value,
                                             const char *name),
                           const void *value, GError **errp);

/* Fails naming the first member of @obj, if any: for commands without
 * arguments. */
bool qapi_in_check_no_members(QapiIn *in, JsonObject *obj, GError **errp);

/*
 * Lists: qapi_in_list() checks that @node is a JSON array (in keyval mode
 * also an object with keys "0".."N-1") and gives its length;
 * qapi_in_list_elem() returns element @index (NULL with an error when a
 * keyval list lacks that key).
 */
bool qapi_in_list(QapiIn *in, JsonNode *node, const char *name, guint *len,
                  GError **errp);
JsonNode *qapi_in_list_elem(QapiIn *in, JsonNode *node, guint index,
                            GError **errp);

/* Scalars.  Integer readers check [@min, @max]; @type names the C type in
 * the range error ("uint8_t"). */
bool qapi_in_str(QapiIn *in, JsonNode *node, const char *name, char **out,
                 GError **errp);
bool qapi_in_int(QapiIn *in, JsonNode *node, const char *name, int64_t min,
                 int64_t max, const char *type, int64_t *out, GError **errp);
bool qapi_in_uint(QapiIn *in, JsonNode *node, const char *name, uint64_t max,
                  const char *type, uint64_t *out, GError **errp);
bool qapi_in_size(QapiIn *in, JsonNode *node, const char *name,
                  uint64_t *out, GError **errp);
bool qapi_in_bool(QapiIn *in, JsonNode *node, const char *name, bool *out,
                  GError **errp);
bool qapi_in_number(QapiIn *in, JsonNode *node, const char *name,
                    double *out, GError **errp);
bool qapi_in_enum(QapiIn *in, JsonNode *node, const char *name,
                  const QEnumLookup *lookup, int *out, GError **errp);
/* "any": a copy of @node.  "null": JSON null (keyval: the empty string). */
bool qapi_in_any(QapiIn *in, JsonNode *node, const char *name,
                 JsonNode **out, GError **errp);
bool qapi_in_null(QapiIn *in, JsonNode *node, const char *name,
                  JsonNode **out, GError **errp);

/*
 * Writers: new floating-free JsonNodes the caller owns.  NULL strings are
 * written as "", NULL "any" as null.  A uint64 above INT64_MAX cannot be a
 * json-glib integer and is written as the nearest double.
 */
JsonNode *qapi_out_str(const char *value);
JsonNode *qapi_out_int(int64_t value);
JsonNode *qapi_out_uint(uint64_t value);
JsonNode *qapi_out_bool(bool value);
JsonNode *qapi_out_number(double value);
JsonNode *qapi_out_enum(const QEnumLookup *lookup, int value);
JsonNode *qapi_out_any(JsonNode *value);
JsonNode *qapi_out_null(void);
JsonNode *qapi_out_object(JsonObject *obj);   /* takes @obj */

#endif
