/*
 * Splits a QMP byte stream into JSON values, with bounds.
 *
 * Like QEMU's streamer, a value ends where its outermost brace or bracket
 * closes (or, for a bare scalar, at the next whitespace or structural
 * character): no newline is needed and several values may share a line.
 * Whitespace between values is skipped.  A 0xFF byte (never valid in
 * UTF-8) discards any partial value: QMP clients send it to resynchronise.
 *
 * Bounds: a value longer than @max_size bytes or nested deeper than
 * @max_depth is reported once, as soon as the bound is crossed, and the
 * rest of it is skipped without being stored; the stream resumes after its
 * end.  Integers outside the int64 range and "\u0000" escapes are refused
 * (json-glib would silently wrap or truncate them).
 */
#ifndef MONITOR_JSON_STREAMER_H
#define MONITOR_JSON_STREAMER_H

#include "qemu-remote/osdep.h"

#include <json-glib/json-glib.h>

typedef struct JsonStreamer JsonStreamer;

/*
 * Called once per value, in order: with the parsed @value, or with @err
 * ("JSON parse error, ..." / "JSON nesting depth limit exceeded").  The
 * callee owns whichever is non-NULL.
 */
typedef void JsonStreamerEmit(void *opaque, JsonNode *value, GError *err);

JsonStreamer *json_streamer_new(size_t max_size, unsigned max_depth,
                                JsonStreamerEmit *emit, void *opaque);
/* Consumes @len bytes of @data, calling the emit callback for each value
 * they complete. */
void json_streamer_feed(JsonStreamer *js, const char *data, size_t len);
/* Frees @js; a partial value is dropped.  NULL is ignored. */
void json_streamer_free(JsonStreamer *js);

#endif
