/*
 * QEMU option syntax: key=value lists, escapes, help, the JSON form and
 * the scalar forms (util/option.c).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/option.h"

/* Parses @str and expects it to fail with exactly @message. */
static void assert_parse_error(const char *str, const char *implied,
                               const char *message)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(KeyValList) l = keyval_parse(str, implied, &err);

    g_assert_null(l);
    g_assert_error(err, QR_ERROR, QR_ERROR_GENERIC);
    g_assert_cmpstr(err->message, ==, message);
}

static KeyValList *parse_ok(const char *str, const char *implied)
{
    g_autoptr(GError) err = NULL;
    KeyValList *l = keyval_parse(str, implied, &err);

    g_assert_no_error(err);
    g_assert_nonnull(l);
    return l;
}

/* --- key=value lists ------------------------------------------------- */

static void test_implied_key_and_escaped_comma(void)
{
    g_autoptr(KeyValList) l =
        parse_ok("virtio-blk-pci,id=d0,serial=a,,b", "driver");

    g_assert_cmpstr(keyval_get(l, "driver"), ==, "virtio-blk-pci");
    g_assert_cmpstr(keyval_get(l, "id"), ==, "d0");
    g_assert_cmpstr(keyval_get(l, "serial"), ==, "a,b");
}

static void test_escaped_comma_at_end_of_value(void)
{
    g_autoptr(KeyValList) l = parse_ok("a=1,,,b=2", NULL);

    g_assert_cmpstr(keyval_get(l, "a"), ==, "1,");
    g_assert_cmpstr(keyval_get(l, "b"), ==, "2");
}

static void test_escaped_comma_in_implied_value(void)
{
    g_autoptr(KeyValList) l = parse_ok("/tmp/a,,b.img,format=raw", "file");

    g_assert_cmpstr(keyval_get(l, "file"), ==, "/tmp/a,b.img");
}

static void test_equals_sign_inside_value(void)
{
    g_autoptr(KeyValList) l = parse_ok("id=a=b", NULL);

    g_assert_cmpstr(keyval_get(l, "id"), ==, "a=b");
}

static void test_empty_value(void)
{
    g_autoptr(KeyValList) l = parse_ok("serial=", NULL);

    g_assert_cmpstr(keyval_get(l, "serial"), ==, "");
}

static void test_empty_string_is_an_empty_list(void)
{
    g_autoptr(KeyValList) l = parse_ok("", "driver");

    g_assert_cmpuint(l->items->len, ==, 0);
}

static void test_repeated_key_keeps_order_last_wins(void)
{
    g_autoptr(KeyValList) l = parse_ok("a=1,b=2,a=3", NULL);
    KeyValue *first = g_ptr_array_index(l->items, 0);

    g_assert_cmpuint(l->items->len, ==, 3);
    g_assert_cmpstr(first->value, ==, "1");
    g_assert_cmpstr(keyval_get(l, "a"), ==, "3");
    g_assert_null(keyval_get(l, "c"));
}

static void test_dotted_keys(void)
{
    g_autoptr(KeyValList) l =
        parse_ok("file.filename=x.img,addr.type=unix,list.0=a", NULL);

    g_assert_cmpstr(keyval_get(l, "file.filename"), ==, "x.img");
    g_assert_cmpstr(keyval_get(l, "list.0"), ==, "a");
}

static void test_one_trailing_comma_is_accepted(void)
{
    g_autoptr(KeyValList) l = parse_ok("x-remote-object,id=r0,fd=4,",
                                       "qom-type");

    g_assert_cmpuint(l->items->len, ==, 3);
    g_assert_cmpstr(keyval_get(l, "fd"), ==, "4");
}

static void test_two_trailing_commas_escape_a_comma(void)
{
    g_autoptr(KeyValList) l = parse_ok("serial=a,,", NULL);

    g_assert_cmpstr(keyval_get(l, "serial"), ==, "a,");
}

static void test_bare_element_without_implied_key(void)
{
    assert_parse_error("foo,id=x", NULL, "Expected '=' after parameter "
                       "'foo'");
}

static void test_bare_element_after_the_first(void)
{
    assert_parse_error("foo,server", "driver", "Expected '=' after "
                       "parameter 'server'");
}

static void test_equals_without_key(void)
{
    assert_parse_error("=x", NULL, "Expected parameter before '=x'");
}

static void test_leading_comma(void)
{
    assert_parse_error(",a=1", NULL, "Empty parameter in ',a=1'");
}

static void test_key_with_space(void)
{
    assert_parse_error("a b=1", NULL, "Invalid parameter 'a b'");
}

static void test_key_with_escaped_comma(void)
{
    assert_parse_error("a,,b=1", NULL, "Invalid parameter 'a,b'");
}

static void test_key_with_empty_fragment(void)
{
    assert_parse_error("file..name=1", NULL, "Invalid parameter "
                       "'file..name'");
    assert_parse_error(".a=1", NULL, "Invalid parameter '.a'");
    assert_parse_error("a.=1", NULL, "Invalid parameter 'a.'");
}

/* --- help ------------------------------------------------------------- */

static void test_help_alone(void)
{
    g_autoptr(GError) err = NULL;
    bool help = false;
    g_autoptr(KeyValList) l = keyval_parse_help("help", "driver", &help,
                                                &err);

    g_assert_no_error(err);
    g_assert_true(help);
    g_assert_null(keyval_get(l, "driver"));
}

static void test_help_after_type(void)
{
    g_autoptr(GError) err = NULL;
    bool help = false;
    g_autoptr(KeyValList) l = keyval_parse_help("x-remote-testdev,help",
                                                "driver", &help, &err);

    g_assert_no_error(err);
    g_assert_true(help);
    g_assert_cmpstr(keyval_get(l, "driver"), ==, "x-remote-testdev");
    g_assert_cmpuint(l->items->len, ==, 1);
}

static void test_question_mark_is_help(void)
{
    bool help = false;
    g_autoptr(KeyValList) l = keyval_parse_help("?", "driver", &help, NULL);

    g_assert_nonnull(l);
    g_assert_true(help);
}

static void test_help_as_a_value_is_not_help(void)
{
    bool help = true;
    g_autoptr(KeyValList) l = keyval_parse_help("x,help=on", "driver",
                                                &help, NULL);

    g_assert_false(help);
    g_assert_cmpstr(keyval_get(l, "help"), ==, "on");
}

static void test_help_is_an_error_without_help_pointer(void)
{
    assert_parse_error("x,help", "driver", "Expected '=' after parameter "
                       "'help'");
}

/* --- key checks and booleans ----------------------------------------- */

static void test_check_keys_names_the_first_unknown(void)
{
    static const char *const allowed[] = { "id", "driver", NULL };
    g_autoptr(KeyValList) l = parse_ok("x,id=a,foo=1,bar=2", "driver");
    g_autoptr(GError) err = NULL;

    g_assert_false(keyval_check_keys(l, allowed, &err));
    g_assert_cmpstr(err->message, ==, "Invalid parameter 'foo'");
}

static void test_get_bool_forms(void)
{
    g_autoptr(KeyValList) l = parse_ok("a=on,b=no,c=true,d=off", NULL);
    bool a = false, b = true, c = false, d = true, absent = true;

    g_assert_true(keyval_get_bool(l, "a", &a, NULL));
    g_assert_true(keyval_get_bool(l, "b", &b, NULL));
    g_assert_true(keyval_get_bool(l, "c", &c, NULL));
    g_assert_true(keyval_get_bool(l, "d", &d, NULL));
    g_assert_true(keyval_get_bool(l, "absent", &absent, NULL));
    g_assert_true(a && !b && c && !d && absent);
}

static void test_get_bool_rejects_maybe(void)
{
    g_autoptr(KeyValList) l = parse_ok("wait=maybe", NULL);
    g_autoptr(GError) err = NULL;
    bool v = false;

    g_assert_false(keyval_get_bool(l, "wait", &v, &err));
    g_assert_cmpstr(err->message, ==, "Parameter 'wait' expects 'on' or "
                    "'off'");
}

/* --- keyval_to_json --------------------------------------------------- */

static void test_to_json_nests_dotted_keys(void)
{
    g_autoptr(KeyValList) l = parse_ok("type=unix,addr.type=unix,"
                                       "addr.path=/s", NULL);
    g_autoptr(JsonNode) root = keyval_to_json(l, NULL);
    g_autofree char *text = json_to_string(root, FALSE);

    g_assert_cmpstr(text, ==, "{\"type\":\"unix\",\"addr\":{\"type\":"
                    "\"unix\",\"path\":\"/s\"}}");
}

static void test_to_json_value_and_object_conflict(void)
{
    g_autoptr(KeyValList) l = parse_ok("addr=x,addr.type=unix", NULL);
    g_autoptr(GError) err = NULL;

    g_assert_null(keyval_to_json(l, &err));
    g_assert_cmpstr(err->message, ==, "Parameter 'addr.type' conflicts "
                    "with a non-nested parameter");
}

static void test_to_json_key_given_twice(void)
{
    g_autoptr(KeyValList) l = parse_ok("a=1,a=2", NULL);
    g_autoptr(GError) err = NULL;

    g_assert_null(keyval_to_json(l, &err));
    g_assert_cmpstr(err->message, ==, "Parameter 'a' given twice or "
                    "conflicts with a nested parameter");
}

/* --- the JSON form ----------------------------------------------------- */

static void test_from_json_flattens(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(KeyValList) l = keyval_from_json(
        "{\"driver\": \"raw\", \"file\": {\"driver\": \"file\", "
        "\"filename\": \"a.img\"}, \"read-only\": true, \"n\": -3, "
        "\"r\": 0.5, \"l\": [\"x\", {\"y\": false}]}", &err);

    g_assert_no_error(err);
    g_assert_cmpstr(keyval_get(l, "driver"), ==, "raw");
    g_assert_cmpstr(keyval_get(l, "file.driver"), ==, "file");
    g_assert_cmpstr(keyval_get(l, "file.filename"), ==, "a.img");
    g_assert_cmpstr(keyval_get(l, "read-only"), ==, "on");
    g_assert_cmpstr(keyval_get(l, "n"), ==, "-3");
    g_assert_cmpstr(keyval_get(l, "r"), ==, "0.5");
    g_assert_cmpstr(keyval_get(l, "l.0"), ==, "x");
    g_assert_cmpstr(keyval_get(l, "l.1.y"), ==, "off");
    g_assert_cmpuint(l->items->len, ==, 8);
}

static void assert_json_error(const char *str, const char *message)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(KeyValList) l = keyval_from_json(str, &err);

    g_assert_null(l);
    g_assert_nonnull(err);
    g_assert_cmpstr(err->message, ==, message);
}

static void test_from_json_rejects_non_objects(void)
{
    assert_json_error("[1, 2]", "JSON option must be an object");
    assert_json_error("\"x\"", "JSON option must be an object");
}

/* Found by fuzz-option: json-glib took both and leaked the second. */
static void test_from_json_two_objects(void)
{
    assert_json_error("{\"driver\": \"a\"}{\"driver\": \"b\"}",
                      "Expecting at most one JSON value");
    assert_json_error("{\"a\": \"}{\"} [1]",
                      "Expecting at most one JSON value");
    assert_json_error("true{\"a\": 1}", "JSON option must be an object");
}

/* What json-glib would take but corrupt is refused, as in QMP requests. */
static void test_from_json_text_json_glib_would_corrupt(void)
{
    assert_json_error("{\"id\": \"\\ud800\\u0041\"}",
                      "JSON parse error, \\u escape that is not a "
                      "Unicode character");
    assert_json_error("{\"id\": \"\\udc00\"}",
                      "JSON parse error, \\u escape that is not a "
                      "Unicode character");
    assert_json_error("{\"id\": \"a\\u0000b\"}",
                      "JSON parse error, \\u0000 is not supported");
    assert_json_error("{\"size\": 99999999999999999999}",
                      "JSON parse error, integer 99999999999999999999 is "
                      "out of range");
}

static void test_from_json_whitespace_around_one_object(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(KeyValList) l = keyval_from_json(
        " \n{\"a\": \"}\\\"{\", \"b\": [{}]}\t\r\n", &err);

    g_assert_no_error(err);
    g_assert_cmpstr(keyval_get(l, "a"), ==, "}\"{");
}

static void test_from_json_rejects_null(void)
{
    assert_json_error("{\"a\": {\"b\": null}}",
                      "Parameter 'a.b' must not be null");
}

static void test_from_json_rejects_bad_keys(void)
{
    assert_json_error("{\"a b\": 1}", "Invalid parameter 'a b'");
}

static void test_from_json_syntax_error(void)
{
    g_autoptr(GError) err = NULL;

    g_assert_null(keyval_from_json("{\"a\": ", &err));
    g_assert_true(g_str_has_prefix(err->message, "JSON parse error: "));
}

static void test_from_json_nesting_limit(void)
{
    /* 32 levels below the top object are allowed, 33 are not. */
    g_autoptr(GString) ok = g_string_new("{\"a\":");
    g_autoptr(GString) deep = g_string_new("{\"a\":");
    g_autoptr(KeyValList) l = NULL;

    for (int i = 0; i < 31; i++) {
        g_string_append(ok, "[");
    }
    g_string_append(ok, "1");
    for (int i = 0; i < 31; i++) {
        g_string_append(ok, "]");
    }
    g_string_append(ok, "}");
    for (int i = 0; i < 32; i++) {
        g_string_append(deep, "[");
    }
    g_string_append(deep, "1");
    for (int i = 0; i < 32; i++) {
        g_string_append(deep, "]");
    }
    g_string_append(deep, "}");

    l = keyval_from_json(ok->str, NULL);
    g_assert_nonnull(l);
    assert_json_error(deep->str, "JSON option nested deeper than 32 levels");
}

/* --- scalars ----------------------------------------------------------- */

static void test_bool_forms(void)
{
    static const char *const yes[] = { "on", "yes", "true" };
    static const char *const no[] = { "off", "no", "false" };
    g_autoptr(GError) err = NULL;
    bool v;

    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        v = false;
        g_assert_true(qemu_parse_bool(yes[i], &v, NULL));
        g_assert_true(v);
        g_assert_true(qemu_parse_bool(no[i], &v, NULL));
        g_assert_false(v);
    }
    g_assert_false(qemu_parse_bool("ON", &v, &err));
    g_assert_cmpstr(err->message, ==, "'ON' is not a boolean (use on/off, "
                    "yes/no or true/false)");
}

static void test_uint_forms(void)
{
    uint64_t v = 0;

    g_assert_true(qemu_parse_uint("42", &v, NULL));
    g_assert_cmpuint(v, ==, 42);
    g_assert_true(qemu_parse_uint("0x10", &v, NULL));
    g_assert_cmpuint(v, ==, 16);
    g_assert_true(qemu_parse_uint("18446744073709551615", &v, NULL));
    g_assert_cmpuint(v, ==, UINT64_MAX);
}

static void test_uint_errors(void)
{
    static const char *const bad[] = { "", "-1", "+1", " 1", "12a", "x" };
    g_autoptr(GError) err = NULL;
    uint64_t v;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(qemu_parse_uint(bad[i], &v, NULL));
    }
    g_assert_false(qemu_parse_uint("18446744073709551616", &v, &err));
    g_assert_cmpstr(err->message, ==, "'18446744073709551616' is too large");
}

static void test_int_forms_and_errors(void)
{
    g_autoptr(GError) err = NULL;
    int64_t v = 0;

    g_assert_true(qemu_parse_int("-5", &v, NULL));
    g_assert_cmpint(v, ==, -5);
    g_assert_false(qemu_parse_int("", &v, NULL));
    g_assert_false(qemu_parse_int("5x", &v, NULL));
    g_assert_false(qemu_parse_int("9223372036854775808", &v, &err));
    g_assert_cmpstr(err->message, ==, "'9223372036854775808' is out of "
                    "range");
}

static void assert_size(const char *str, uint64_t want)
{
    g_autoptr(GError) err = NULL;
    uint64_t v = 0;

    g_assert_true(qemu_parse_size(str, &v, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(v, ==, want);
}

static void assert_not_size(const char *str)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *msg = NULL;
    uint64_t v = 0;

    g_assert_false(qemu_parse_size(str, &v, &err));
    msg = g_strdup_printf("'%s' is not a size (a number with an optional "
                          "k, M, G, T, P or E suffix)", str);
    g_assert_cmpstr(err->message, ==, msg);
}

static void test_size_suffixes(void)
{
    assert_size("512", 512);
    assert_size("512b", 512);
    assert_size("4k", 4096);
    assert_size("4K", 4096);
    assert_size("4KB", 4096);
    assert_size("2G", 2ULL << 30);
    assert_size("3T", 3ULL << 40);
    assert_size("1P", 1ULL << 50);
    assert_size("15E", 15ULL << 60);
}

static void test_size_fractions(void)
{
    assert_size("1.5k", 1536);
    assert_size("0.5M", 512 * 1024);
    /* Rounded down to whole bytes: 0.3 KiB is 307.2 bytes. */
    assert_size("0.3k", 307);
    assert_not_size("1.5");
    assert_not_size("1.k");
    assert_not_size("1.5b");
}

/*
 * Found by fuzz-option: the fraction was read with strtod(), which also
 * took the exponent after the exabyte suffix "e" and returned infinity
 * (undefined when converted to an integer; UBSan stops here).
 */
static void test_size_fraction_followed_by_exponent(void)
{
    assert_not_size("5.66666666666666666e666666666693666");
    assert_not_size("1.5e400");
    assert_size("1.5e", 3ULL << 59);
}

static void test_size_hex(void)
{
    assert_size("0x1000", 4096);
    assert_size("0XfF", 255);
    assert_not_size("0x");
    assert_not_size("0x10k");
    assert_not_size("0x1.8");
}

static void test_size_errors(void)
{
    assert_not_size("");
    assert_not_size("-1");
    assert_not_size(" 1");
    assert_not_size("1 k");
    assert_not_size("12x");
    assert_not_size("4kk");
}

static void test_size_too_large(void)
{
    g_autoptr(GError) err = NULL;
    uint64_t v;

    g_assert_false(qemu_parse_size("16E", &v, &err));
    g_assert_cmpstr(err->message, ==, "size '16E' is too large");
    g_clear_error(&err);
    g_assert_false(qemu_parse_size("18446744073709551616", &v, &err));
    g_assert_cmpstr(err->message, ==, "size '18446744073709551616' is too "
                    "large");
    g_clear_error(&err);
    /* The fraction rounds to a whole 1E, and 15E + 1E overflows. */
    g_assert_false(qemu_parse_size("15.99999999999999999999E", &v, &err));
    g_assert_cmpstr(err->message, ==, "size '15.99999999999999999999E' is "
                    "too large");
    assert_size("18446744073709551615", UINT64_MAX);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keyval/implied-key-and-escaped-comma",
                    test_implied_key_and_escaped_comma);
    g_test_add_func("/keyval/escaped-comma-at-end-of-value",
                    test_escaped_comma_at_end_of_value);
    g_test_add_func("/keyval/escaped-comma-in-implied-value",
                    test_escaped_comma_in_implied_value);
    g_test_add_func("/keyval/equals-sign-inside-value",
                    test_equals_sign_inside_value);
    g_test_add_func("/keyval/empty-value", test_empty_value);
    g_test_add_func("/keyval/empty-string-is-an-empty-list",
                    test_empty_string_is_an_empty_list);
    g_test_add_func("/keyval/repeated-key-keeps-order-last-wins",
                    test_repeated_key_keeps_order_last_wins);
    g_test_add_func("/keyval/dotted-keys", test_dotted_keys);
    g_test_add_func("/keyval/one-trailing-comma-is-accepted",
                    test_one_trailing_comma_is_accepted);
    g_test_add_func("/keyval/two-trailing-commas-escape-a-comma",
                    test_two_trailing_commas_escape_a_comma);
    g_test_add_func("/keyval/bare-element-without-implied-key",
                    test_bare_element_without_implied_key);
    g_test_add_func("/keyval/bare-element-after-the-first",
                    test_bare_element_after_the_first);
    g_test_add_func("/keyval/equals-without-key", test_equals_without_key);
    g_test_add_func("/keyval/leading-comma", test_leading_comma);
    g_test_add_func("/keyval/key-with-space", test_key_with_space);
    g_test_add_func("/keyval/key-with-escaped-comma",
                    test_key_with_escaped_comma);
    g_test_add_func("/keyval/key-with-empty-fragment",
                    test_key_with_empty_fragment);
    g_test_add_func("/keyval/help/alone", test_help_alone);
    g_test_add_func("/keyval/help/after-type", test_help_after_type);
    g_test_add_func("/keyval/help/question-mark", test_question_mark_is_help);
    g_test_add_func("/keyval/help/as-a-value-is-not-help",
                    test_help_as_a_value_is_not_help);
    g_test_add_func("/keyval/help/error-without-help-pointer",
                    test_help_is_an_error_without_help_pointer);
    g_test_add_func("/keyval/check-keys-names-the-first-unknown",
                    test_check_keys_names_the_first_unknown);
    g_test_add_func("/keyval/get-bool/forms", test_get_bool_forms);
    g_test_add_func("/keyval/get-bool/rejects-maybe",
                    test_get_bool_rejects_maybe);
    g_test_add_func("/keyval/to-json/nests-dotted-keys",
                    test_to_json_nests_dotted_keys);
    g_test_add_func("/keyval/to-json/value-and-object-conflict",
                    test_to_json_value_and_object_conflict);
    g_test_add_func("/keyval/to-json/key-given-twice",
                    test_to_json_key_given_twice);
    g_test_add_func("/keyval/from-json/flattens", test_from_json_flattens);
    g_test_add_func("/keyval/from-json/two-objects",
                    test_from_json_two_objects);
    g_test_add_func("/keyval/from-json/text-json-glib-would-corrupt",
                    test_from_json_text_json_glib_would_corrupt);
    g_test_add_func("/keyval/from-json/whitespace-around-one-object",
                    test_from_json_whitespace_around_one_object);
    g_test_add_func("/keyval/from-json/rejects-non-objects",
                    test_from_json_rejects_non_objects);
    g_test_add_func("/keyval/from-json/rejects-null",
                    test_from_json_rejects_null);
    g_test_add_func("/keyval/from-json/rejects-bad-keys",
                    test_from_json_rejects_bad_keys);
    g_test_add_func("/keyval/from-json/syntax-error",
                    test_from_json_syntax_error);
    g_test_add_func("/keyval/from-json/nesting-limit",
                    test_from_json_nesting_limit);
    g_test_add_func("/scalar/bool-forms", test_bool_forms);
    g_test_add_func("/scalar/uint-forms", test_uint_forms);
    g_test_add_func("/scalar/uint-errors", test_uint_errors);
    g_test_add_func("/scalar/int-forms-and-errors",
                    test_int_forms_and_errors);
    g_test_add_func("/scalar/size/suffixes", test_size_suffixes);
    g_test_add_func("/scalar/size/fractions", test_size_fractions);
    g_test_add_func("/scalar/size/fraction-followed-by-exponent",
                    test_size_fraction_followed_by_exponent);
    g_test_add_func("/scalar/size/hex", test_size_hex);
    g_test_add_func("/scalar/size/errors", test_size_errors);
    g_test_add_func("/scalar/size/too-large", test_size_too_large);
    return g_test_run();
}
