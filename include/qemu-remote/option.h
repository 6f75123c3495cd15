/*
 * QEMU option syntax: key=value lists and the scalar forms they carry.
 *
 *   "virtio-blk-pci,id=disk0,drive=d0,serial=a,,b"
 *
 * is the implied key ("driver") = "virtio-blk-pci", then id, drive, and
 * serial = "a,b" (",," escapes a comma).  Booleans are on|off|yes|no|
 * true|false; sizes take k, M, G, T, P, E suffixes (powers of 1024) and an
 * optional trailing B.
 */
#ifndef QEMU_REMOTE_OPTION_H
#define QEMU_REMOTE_OPTION_H

#include "qemu-remote/osdep.h"

#include <json-glib/json-glib.h>

typedef struct KeyValue {
    char *key;
    char *value;
} KeyValue;

/* An ordered key=value list, as written.  Keys may repeat. */
typedef struct KeyValList {
    GPtrArray *items; /* of KeyValue */
} KeyValList;

/*
 * Parses @str.  If the first element has no '=' it is the value of
 * @implied_key (an error if @implied_key is NULL).  Empty keys and a
 * dangling trailing comma are errors.  Returns NULL with @errp set on error.
 */
KeyValList *keyval_parse(const char *str, const char *implied_key,
                         GError **errp);
void keyval_free(KeyValList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KeyValList, keyval_free)

/* The last value given for @key, or NULL. */
const char *keyval_get(const KeyValList *list, const char *key);

/*
 * Fails naming the first key of @list that is not in the NULL-terminated
 * @allowed list: "Invalid parameter 'foo'".
 */
bool keyval_check_keys(const KeyValList *list, const char *const *allowed,
                       GError **errp);

/*
 * Converts @list into a JSON object for the QAPI keyval visitor: dotted keys
 * become nested objects ("addr.type=unix" -> {"addr": {"type": "unix"}});
 * all values stay strings.  Fails on a key used both as a value and as an
 * object, or given twice.
 */
JsonNode *keyval_to_json(const KeyValList *list, GError **errp);

/* Scalar parsers.  Each names the offending text in its error. */
bool qemu_parse_bool(const char *str, bool *value, GError **errp);
bool qemu_parse_uint(const char *str, uint64_t *value, GError **errp);
bool qemu_parse_int(const char *str, int64_t *value, GError **errp);
bool qemu_parse_size(const char *str, uint64_t *value, GError **errp);

#endif
