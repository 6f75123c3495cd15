/*
 * QMP input framing (see json-streamer.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/json-text.h"
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
    if (!json_text_is_valid(js->buf->str, js->buf->len, &err)) {
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
