/*
 * QEMU option syntax: key=value lists and the scalar forms they carry.
 *
 *   "virtio-blk-pci,id=disk0,drive=d0,serial=a,,b"
 *
 * is the implied key ("driver") = "virtio-blk-pci", then id, drive, and
 * serial = "a,b" (",," escapes a comma).  Booleans are on|off|yes|no|
 * true|false; sizes take k, M, G, T, P, E suffixes (powers of 1024) and an
 * optional trailing B, a fraction with a suffix ("1.5G", rounded down to
 * bytes) or hexadecimal without one ("0x1000").
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
 * @implied_key (an error if @implied_key is NULL).  Empty keys and keys
 * with characters other than letters, digits, '-', '_' and '.' are errors;
 * one trailing comma is allowed, as in QEMU ("id=d0,").  Returns NULL with
 * @errp set on error.
 */
KeyValList *keyval_parse(const char *str, const char *implied_key,
                         GError **errp);

/*
 * Like keyval_parse(), and keys must be QEMU-style (dotted fragments of
 * letters, digits, '-' and '_'; else "Invalid parameter 'KEY'").  When
 * @help is not NULL, a bare "help" or "?" element anywhere ("-device help",
 * "-device TYPE,help") sets *@help instead of being stored or rejected;
 * *@help is false otherwise.
 */
KeyValList *keyval_parse_help(const char *str, const char *implied_key,
                              bool *help, GError **errp);

/*
 * QEMU's JSON form of an option ("-device '{"driver": "x", "id": "y"}'"):
 * @str must hold one JSON object.  Nested objects become dotted keys and
 * arrays numbered ones ("file.filename", "list.0"); booleans become "on"/
 * "off", numbers their decimal text, strings stay as they are.  Fails on
 * a JSON syntax error, a non-object, more than one value, null, a key that
 * is not QEMU-style or nesting deeper than 32 levels.
 */
KeyValList *keyval_from_json(const char *str, GError **errp);

void keyval_free(KeyValList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KeyValList, keyval_free)

/* The last value given for @key, or NULL. */
const char *keyval_get(const KeyValList *list, const char *key);

/*
 * Parses the last value of @key as a boolean into *@value; leaves *@value
 * alone when @key is absent.  Fails with "Parameter 'KEY' expects 'on' or
 * 'off'" (QEMU's text; yes/no/true/false are accepted too).
 */
bool keyval_get_bool(const KeyValList *list, const char *key, bool *value,
                     GError **errp);

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
