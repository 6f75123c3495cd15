/*
 * QMP input framing (see json-streamer.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "json-streamer.h"

struct JsonStreamer {
    size_t max_size;
    unsigned max_depth;
    JsonStreamerEmit *emit;
    void *opaque;
    JsonParser *parser;

    GString *buf;       /* the current value's text */
    bool active;        /* inside a value */
    bool scalar;        /* ... which is a bare top-level token */
    uint64_t depth;     /* open braces/brackets; wide, as skipped input
                           may nest without bound */
    char quote;         /* inside a string: its quote character, else 0 */
    bool escape;        /* the previous string character was a backslash */
    bool skipping;      /* bound exceeded: drop the rest of this value */
};

JsonStreamer *json_streamer_new(size_t max_size, unsigned max_depth,
                                JsonStreamerEmit *emit, void *opaque)
{
    JsonStreamer *js = g_new0(JsonStreamer, 1);

    js->max_size = max_size;
    js->max_depth = max_depth;
    js->emit = emit;
    js->opaque = opaque;
    js->parser = json_parser_new();
    js->buf = g_string_new(NULL);
    return js;
}

void json_streamer_free(JsonStreamer *js)
{
    if (js) {
        g_object_unref(js->parser);
        g_string_free(js->buf, TRUE);
        g_free(js);
    }
}

static void reset(JsonStreamer *js)
{
    g_string_truncate(js->buf, 0);
    js->active = js->scalar = js->escape = js->skipping = false;
    js->depth = 0;
    js->quote = 0;
}

static void emit_error(JsonStreamer *js, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static void emit_error(JsonStreamer *js, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    GError *err = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_setg(&err, "%s", msg);
    js->emit(js->opaque, NULL, err);
}

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

/*
 * Refuses what json-glib would accept but corrupt: integers beyond int64
 * (it wraps them), "\\u0000" (it truncates the string there) and "\\u"
 * escapes that are not a Unicode character.
 */
static bool is_valid_json_text(const char *s, size_t len, GError **errp)
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

/* json-glib says "<data>:1:7: Parse error: unexpected ..."; QEMU says
 * "JSON parse error, unexpected ...". */
static const char *parse_error_detail(const char *msg)
{
    const char *p = strstr(msg, "Parse error: ");

    return p ? p + strlen("Parse error: ") : msg;
}

static void finish_value(JsonStreamer *js)
{
    GError *err = NULL;
    GError *perr = NULL;

    if (js->skipping) {
        reset(js);
        return;
    }
    if (!is_valid_json_text(js->buf->str, js->buf->len, &err)) {
        reset(js);
        js->emit(js->opaque, NULL, err);
        return;
    }
    if (!json_parser_load_from_data(js->parser, js->buf->str, js->buf->len,
                                    &perr)) {
        reset(js);
        emit_error(js, "JSON parse error, %s",
                   parse_error_detail(perr->message));
        g_error_free(perr);
        return;
    }
    reset(js);
    js->emit(js->opaque, json_parser_steal_root(js->parser), NULL);
}

static bool is_delimiter(char c)
{
    return g_ascii_isspace(c) || strchr("{}[],:\"'", c);
}

/* Appends @c to the current value unless a bound is crossed. */
static void store(JsonStreamer *js, char c)
{
    if (js->skipping) {
        return;
    }
    if (js->buf->len >= js->max_size) {
        js->skipping = true;
        g_string_truncate(js->buf, 0);
        emit_error(js, "JSON parse error, request longer than %zu bytes",
                   js->max_size);
        return;
    }
    g_string_append_c(js->buf, c);
}

static void start_value(JsonStreamer *js, char c)
{
    js->active = true;
    store(js, c);
    if (c == '{' || c == '[') {
        js->depth = 1;
    } else if (c == '"' || c == '\'') {
        js->quote = c;
    } else {
        js->scalar = true;
    }
}

void json_streamer_feed(JsonStreamer *js, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if ((unsigned char)c == 0xFF) {
            reset(js);
            continue;
        }
        if (!js->active) {
            if (g_ascii_isspace(c)) {
                continue;
            }
            if (strchr("}],:", c)) {
                emit_error(js, "JSON parse error, expecting value");
                continue;
            }
            start_value(js, c);
            continue;
        }
        if (js->scalar) {
            if (is_delimiter(c)) {
                finish_value(js);
                i--;        /* @c begins what follows */
                continue;
            }
            store(js, c);
            continue;
        }
        store(js, c);
        if (js->quote) {
            if (js->escape) {
                js->escape = false;
            } else if (c == '\\') {
                js->escape = true;
            } else if (c == js->quote) {
                js->quote = 0;
                if (js->depth == 0) {
                    finish_value(js);
                }
            }
            continue;
        }
        switch (c) {
        case '"':
        case '\'':
            js->quote = c;
            break;
        case '{':
        case '[':
            js->depth++;
            if (js->depth > js->max_depth && !js->skipping) {
                js->skipping = true;
                g_string_truncate(js->buf, 0);
                emit_error(js, "JSON nesting depth limit exceeded");
            }
            break;
        case '}':
        case ']':
            if (--js->depth == 0) {
                finish_value(js);
            }
            break;
        }
    }
}
