/*
 * What json-glib 1.6 would accept but corrupt, refused before it parses:
 * for every JSON text that comes from outside (QMP requests, the JSON form
 * of -device/-object/-blockdev).
 */
#ifndef QEMU_REMOTE_JSON_TEXT_H
#define QEMU_REMOTE_JSON_TEXT_H

#include "qemu-remote/osdep.h"

/*
 * False with @errp set ("JSON parse error, ...") when the @len bytes at @s
 * hold an integer beyond int64 (json-glib wraps it), "\u0000" (it cuts
 * the string there) or a "\u" escape that is not a Unicode character: not
 * four hex digits, or a surrogate not in a pair (json-glib writes invalid
 * UTF-8, and leaks memory for a high surrogate followed by another escape).
 * Does not check the syntax otherwise; json-glib does.
 */
bool json_text_is_valid(const char *s, size_t len, GError **errp);

#endif
