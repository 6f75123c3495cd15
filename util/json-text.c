/*
 * Checks of JSON text before json-glib parses it (see
 * include/qemu-remote/json-text.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/json-text.h"

static bool is_number_char(char c)
{
    return g_ascii_isdigit(c) || c == '-' || c == '+' || c == '.' ||
           c == 'e' || c == 'E';
}

/* The code unit of the "\\uXXXX" at @s (@len bytes left), or -1. */
static int unicode_escape(const char *s, size_t len)
{
    int cu = 0;

    if (len < 6 || s[0] != '\\' || s[1] != 'u') {
        return -1;
    }
    for (int i = 2; i < 6; i++) {
        if (!g_ascii_isxdigit(s[i])) {
            return -1;
        }
        cu = cu * 16 + g_ascii_xdigit_value(s[i]);
    }
    return cu;
}

/*
 * Bytes taken by the "\\u" escape at @s: 6, or 12 for a surrogate pair;
 * 0 if it is not 4 hex digits or a surrogate not in a pair.  json-glib
 * 1.6.6 takes those, writes a lone surrogate as invalid UTF-8, and leaks
 * memory for a high surrogate followed by another escape (found by
 * fuzz-qmp).
 */
static size_t valid_unicode_escape_len(const char *s, size_t len)
{
    int hi = unicode_escape(s, len);
    int lo;

    if (hi < 0 || (hi >= 0xdc00 && hi <= 0xdfff)) {
        return 0;
    }
    if (hi < 0xd800 || hi > 0xdbff) {
        return 6;
    }
    lo = unicode_escape(s + 6, len - 6);
    return lo >= 0xdc00 && lo <= 0xdfff ? 12 : 0;
}

bool json_text_is_valid(const char *s, size_t len, GError **errp)
{
    char quote = 0;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (quote) {
            if (c == '\\' && i + 1 < len) {
                size_t esc = 2;

                if (s[i + 1] == 'u' && len - i >= 6 &&
                    !memcmp(s + i + 2, "0000", 4)) {
                    error_setg(errp, "JSON parse error, \\u0000 is not "
                               "supported");
                    return false;
                }
                if (s[i + 1] == 'u') {
                    esc = valid_unicode_escape_len(s + i, len - i);
                    if (!esc) {
                        error_setg(errp, "JSON parse error, \\u escape "
                                   "that is not a Unicode character");
                        return false;
                    }
                }
                i += esc - 1;
            } else if (c == quote) {
                quote = 0;
            }
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if ((g_ascii_isdigit(c) || c == '-') &&
                   (i == 0 || !(g_ascii_isalnum(s[i - 1]) ||
                                is_number_char(s[i - 1])))) {
            size_t end = i;
            bool integer = true;

            while (end < len && is_number_char(s[end])) {
                if (s[end] == '.' || s[end] == 'e' || s[end] == 'E') {
                    integer = false;
                }
                end++;
            }
            if (integer) {
                g_autofree char *tok = g_strndup(s + i, end - i);

                errno = 0;
                g_ascii_strtoll(tok, NULL, 10);
                if (errno == ERANGE) {
                    error_setg(errp, "JSON parse error, integer %s is out "
                               "of range", tok);
                    return false;
                }
            }
            i = end - 1;
        }
    }
    return true;
}
