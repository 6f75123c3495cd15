/*
 * QMP input framing (monitor/json-streamer.c): where values end, what is
 * refused, and the size and nesting bounds.
 */
#include "qemu-remote/osdep.h"
#include "qapi/json-writer.h"
#include "monitor/json-streamer.h"

/* Small bounds so that tests can sit exactly on them. */
#define MAX_SIZE 64
#define MAX_DEPTH 4

/* Each emitted value as JSON text, or "E:" and the error message. */
static GPtrArray *seen;

static void record(void *opaque, JsonNode *value, GError *err)
{
    if (err) {
        g_ptr_array_add(seen, g_strdup_printf("E:%s", err->message));
        g_error_free(err);
    } else {
        g_ptr_array_add(seen, qapi_json_to_string(value));
        json_node_unref(value);
    }
}

/* Feeds @input (of @len bytes, -1: strlen) and returns what came out. */
static GPtrArray *feed(const char *input, gssize len)
{
    JsonStreamer *js = json_streamer_new(MAX_SIZE, MAX_DEPTH, record, NULL);

    seen = g_ptr_array_new_with_free_func(g_free);
    json_streamer_feed(js, input, len < 0 ? strlen(input) : (size_t)len);
    json_streamer_free(js);
    return seen;
}

static void assert_seen(GPtrArray *got, const char *const *want)
{
    guint n = 0;

    while (want[n]) {
        n++;
    }
    for (guint i = 0; i < got->len && i < n; i++) {
        g_assert_cmpstr(g_ptr_array_index(got, i), ==, want[i]);
    }
    g_assert_cmpuint(got->len, ==, n);
    g_ptr_array_unref(got);
}

static void test_two_values_on_one_line_are_split(void)
{
    static const char *const want[] = { "{\"a\": 1}", "[2]", NULL };

    assert_seen(feed("{\"a\":1}[2]\n", -1), want);
}

static void test_value_fed_byte_by_byte(void)
{
    static const char *const text = "  {\"execute\": \"x\"}\r\n";
    JsonStreamer *js = json_streamer_new(MAX_SIZE, MAX_DEPTH, record, NULL);
    static const char *const want[] = { "{\"execute\": \"x\"}", NULL };

    seen = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; text[i]; i++) {
        json_streamer_feed(js, text + i, 1);
    }
    json_streamer_free(js);
    assert_seen(seen, want);
}

static void test_value_without_newline_is_complete_at_its_brace(void)
{
    static const char *const want[] = { "{}", NULL };

    assert_seen(feed("{}", -1), want);
}

static void test_bare_scalars_end_at_a_delimiter(void)
{
    static const char *const want[] = { "42", "true", "\"s\"", "{}", NULL };

    /* "null" has no delimiter after it yet: not complete. */
    assert_seen(feed("42 true\"s\"{}null", -1), want);
}

static void test_braces_inside_strings_do_not_count(void)
{
    static const char *const want[] = {
        "{\"a\": \"}{][\\\"\"}", "{\"b\": \"x\"}", NULL,
    };

    assert_seen(feed("{\"a\":\"}{][\\\"\"} {'b': 'x'}", -1), want);
}

static void test_malformed_json_reports_an_error_and_continues(void)
{
    static const char *const want[] = {
        "E:JSON parse error, unexpected character `,', expected character "
        "`]'",
        "E:JSON parse error, expecting value",
        "[1]",
        NULL,
    };

    assert_seen(feed("{\"a\":1,}\n}\n[1]\n", -1), want);
}

static void test_0xff_discards_a_partial_value(void)
{
    static const char *const want[] = { "{\"b\": 2}", NULL };

    assert_seen(feed("{\"a\": [1, \xff{\"b\": 2}", -1), want);
}

static void test_integer_beyond_int64_is_refused(void)
{
    static const char *const want[] = {
        "E:JSON parse error, integer 9223372036854775808 is out of range",
        "E:JSON parse error, integer -9223372036854775809 is out of range",
        "[9223372036854775807, -9223372036854775808, 1e+30, \"1e99999\"]",
        NULL,
    };

    assert_seen(feed("[9223372036854775808] [-9223372036854775809] "
                     "[9223372036854775807,-9223372036854775808,1e30,"
                     "\"1e99999\"]", -1), want);
}

static void test_nul_escape_is_refused(void)
{
    static const char *const want[] = {
        "E:JSON parse error, \\u0000 is not supported",
        "[\"\\\\u0000\"]",
        NULL,
    };

    /* An escaped backslash followed by "u0000" is just text. */
    assert_seen(feed("[\"a\\u0000b\"] [\"\\\\u0000\"]", -1), want);
}

/* Found by fuzz-qmp: json-glib leaked memory on the first of these. */
static void test_unicode_escapes_that_are_not_characters_are_refused(void)
{
    static const char *const want[] = {
        "E:JSON parse error, \\u escape that is not a Unicode character",
        "E:JSON parse error, \\u escape that is not a Unicode character",
        "E:JSON parse error, \\u escape that is not a Unicode character",
        "E:JSON parse error, \\u escape that is not a Unicode character",
        "[\"\\uD83D\\uDE00A\"]",
        NULL,
    };

    /* A high surrogate followed by a non-surrogate, a lone high and a lone
     * low surrogate, bad hex digits; then a pair and an escaped 'A'. */
    assert_seen(feed("[\"\\ud800\\u0041\"] [\"\\ud800\"] [\"\\udc00\"] "
                     "[\"\\u12g4\"] [\"\\ud83d\\ude00\\u0041\"]", -1), want);
}

static void test_request_at_the_size_limit_is_accepted(void)
{
    g_autofree char *text = g_strdup_printf("[\"%0*d\"]", MAX_SIZE - 4, 0);
    g_autofree char *expected = g_strdup_printf("[\"%0*d\"]", MAX_SIZE - 4,
                                                0);
    const char *const want[] = { expected, NULL };

    g_assert_cmpuint(strlen(text), ==, MAX_SIZE);
    assert_seen(feed(text, -1), want);
}

static void test_request_one_byte_past_the_limit_is_refused_once(void)
{
    g_autofree char *text = g_strdup_printf("[\"%0*d\"] {}", MAX_SIZE - 3,
                                            0);
    static const char *const want[] = {
        "E:JSON parse error, request longer than 64 bytes",
        "{}",
        NULL,
    };

    assert_seen(feed(text, -1), want);
}

static void test_megabyte_line_is_refused_once_and_skipped(void)
{
    size_t len = 1024 * 1024;
    g_autofree char *text = g_malloc(len + 16);
    static const char *const want[] = {
        "E:JSON parse error, request longer than 64 bytes",
        "[]",
        NULL,
    };

    /* One string of 1 MiB, then a small value on the next line. */
    text[0] = '"';
    memset(text + 1, 'x', len);
    memcpy(text + 1 + len, "\"\n[]\n", 5);
    assert_seen(feed(text, len + 6), want);
}

static void test_nesting_at_the_limit_is_accepted(void)
{
    static const char *const want[] = { "[[[[1]]]]", NULL };

    assert_seen(feed("[[[[1]]]]", -1), want);
}

static void test_nesting_one_past_the_limit_is_refused_and_skipped(void)
{
    static const char *const want[] = {
        "E:JSON nesting depth limit exceeded",
        "{}",
        NULL,
    };

    assert_seen(feed("[[[[[1,{\"a\":[\"]\"]}]]]]] {}", -1), want);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-streamer/two-values-on-one-line",
                    test_two_values_on_one_line_are_split);
    g_test_add_func("/json-streamer/byte-by-byte",
                    test_value_fed_byte_by_byte);
    g_test_add_func("/json-streamer/no-newline-needed",
                    test_value_without_newline_is_complete_at_its_brace);
    g_test_add_func("/json-streamer/bare-scalars",
                    test_bare_scalars_end_at_a_delimiter);
    g_test_add_func("/json-streamer/braces-in-strings",
                    test_braces_inside_strings_do_not_count);
    g_test_add_func("/json-streamer/malformed-json",
                    test_malformed_json_reports_an_error_and_continues);
    g_test_add_func("/json-streamer/0xff-reset",
                    test_0xff_discards_a_partial_value);
    g_test_add_func("/json-streamer/integer-beyond-int64",
                    test_integer_beyond_int64_is_refused);
    g_test_add_func("/json-streamer/nul-escape", test_nul_escape_is_refused);
    g_test_add_func("/json-streamer/unicode-escapes-not-characters",
                    test_unicode_escapes_that_are_not_characters_are_refused);
    g_test_add_func("/json-streamer/size-at-limit",
                    test_request_at_the_size_limit_is_accepted);
    g_test_add_func("/json-streamer/size-past-limit",
                    test_request_one_byte_past_the_limit_is_refused_once);
    g_test_add_func("/json-streamer/megabyte-line",
                    test_megabyte_line_is_refused_once_and_skipped);
    g_test_add_func("/json-streamer/depth-at-limit",
                    test_nesting_at_the_limit_is_accepted);
    g_test_add_func("/json-streamer/depth-past-limit",
                    test_nesting_one_past_the_limit_is_refused_and_skipped);
    return g_test_run();
}
