/*
 * The QAPI generator's output for tests/qapi-schema/qapi-schema-test.json:
 * every type to JSON and back, strict (QMP) and keyval (command line)
 * input with their errors, command dispatch, events and introspection.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/option.h"
#include "qapi/json-writer.h"
#include "test-qapi-commands.h"
#include "test-qapi-events.h"
#include "test-qapi-visit.h"

/* --- helpers -------------------------------------------------------- */

static JsonNode *parse(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;

    g_assert_true(json_parser_load_from_data(parser, text, -1, &err));
    g_assert_no_error(err);
    return json_parser_steal_root(parser);
}

/* @text re-written by our JSON writer: the form every output has. */
static char *canonical(const char *text)
{
    g_autoptr(JsonNode) node = parse(text);

    return qapi_json_to_string(node);
}

static void assert_json(JsonNode *node, const char *expected)
{
    g_autofree char *got = qapi_json_to_string(node);
    g_autofree char *want = canonical(expected);

    g_assert_cmpstr(got, ==, want);
}

static JsonNode *keyval_json(const char *opts)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(KeyValList) list = keyval_parse(opts, NULL, &err);
    JsonNode *node;

    g_assert_no_error(err);
    node = keyval_to_json(list, &err);
    g_assert_no_error(err);
    return node;
}

/*
 * JSON text -> C (strict) -> JSON must give back the same text; written
 * out once per type because each type has its own pair of functions.
 * The text must list members in schema order (our output order).
 */
#define DEFINE_ROUND_TRIP(T)                                              \
    static void round_trip_##T(const char *text)                          \
    {                                                                     \
        g_autoptr(JsonNode) in = parse(text);                             \
        g_autoptr(GError) err = NULL;                                     \
        g_autoptr(JsonNode) out = NULL;                                   \
        g_autoptr(T) value = NULL;                                        \
                                                                          \
        g_assert_true(qapi_from_json_##T(in, QAPI_INPUT_STRICT, &value,   \
                                         &err));                          \
        g_assert_no_error(err);                                           \
        out = qapi_to_json_##T(value);                                    \
        assert_json(out, text);                                           \
    }

DEFINE_ROUND_TRIP(TestScalars)
DEFINE_ROUND_TRIP(TestOptional)
DEFINE_ROUND_TRIP(TestDerived)
DEFINE_ROUND_TRIP(TestEmpty)
DEFINE_ROUND_TRIP(TestLists)
DEFINE_ROUND_TRIP(TestUnion)
DEFINE_ROUND_TRIP(TestUnionNamedBase)
DEFINE_ROUND_TRIP(TestNested)
DEFINE_ROUND_TRIP(TestIncluded)

/* Strict input of @text as TestNested must fail with @message. */
static void assert_nested_rejected(const char *text, const char *message)
{
    g_autoptr(JsonNode) in = parse(text);
    g_autoptr(GError) err = NULL;
    TestNested *value = NULL;

    g_assert_false(qapi_from_json_TestNested(in, QAPI_INPUT_STRICT, &value,
                                             &err));
    g_assert_null(value);
    g_assert_error(err, QR_ERROR, QR_ERROR_GENERIC);
    g_assert_cmpstr(err->message, ==, message);
}

/* A valid TestNested, to break one member at a time. */
#define NESTED_OK_LISTS                                                   \
    "\"lists\": {\"strs\": [], \"ints\": [], \"i8s\": [], \"u64s\": [],"  \
    " \"sizes\": [], \"bools\": [], \"numbers\": [], \"anys\": [],"       \
    " \"enums\": [], \"structs\": [], \"unions\": [], \"empty\": []}"

/* --- round trips ----------------------------------------------------- */

static void test_scalars_round_trip_at_their_limits(void)
{
    round_trip_TestScalars(
        "{\"s\": \"x\\u00e9\\ud83d\\ude00\\n\", \"n\": -0.5, "
        "\"i\": -9223372036854775808, \"i8\": -128, \"i16\": 32767, "
        "\"i32\": -2147483648, \"i64\": 9223372036854775807, "
        "\"u8\": 255, \"u16\": 65535, \"u32\": 4294967295, "
        "\"u64\": 9223372036854775807, \"sz\": 0, \"b\": false, "
        "\"a\": {\"any\": [1, \"two\", null]}, \"nul\": null, "
        "\"e\": \"x.y\"}");
}

static void test_scalars_land_in_their_c_fields(void)
{
    g_autoptr(JsonNode) in = parse(
        "{\"s\": \"str\", \"n\": 2.5, \"i\": -1, \"i8\": -8, \"i16\": -16, "
        "\"i32\": -32, \"i64\": -64, \"u8\": 8, \"u16\": 16, \"u32\": 32, "
        "\"u64\": 64, \"sz\": 4096, \"b\": true, \"a\": 7, \"nul\": null, "
        "\"e\": \"2nd\"}");
    g_autoptr(TestScalars) v = NULL;

    g_assert_true(qapi_from_json_TestScalars(in, QAPI_INPUT_STRICT, &v,
                                             NULL));
    g_assert_cmpstr(v->s, ==, "str");
    g_assert_cmpfloat(v->n, ==, 2.5);
    g_assert_cmpint(v->i, ==, -1);
    g_assert_cmpint(v->i8, ==, -8);
    g_assert_cmpint(v->i16, ==, -16);
    g_assert_cmpint(v->i32, ==, -32);
    g_assert_cmpint(v->i64, ==, -64);
    g_assert_cmpuint(v->u8, ==, 8);
    g_assert_cmpuint(v->u16, ==, 16);
    g_assert_cmpuint(v->u32, ==, 32);
    g_assert_cmpuint(v->u64, ==, 64);
    g_assert_cmpuint(v->sz, ==, 4096);
    g_assert_true(v->b);
    g_assert_cmpint(json_node_get_int(v->a), ==, 7);
    g_assert_true(JSON_NODE_HOLDS_NULL(v->nul));
    g_assert_cmpint(v->e, ==, TEST_ENUM_2ND);
}

static void test_optional_members_absent_and_present(void)
{
    g_autoptr(JsonNode) in = parse("{\"i\": 0, \"default\": 5}");
    g_autoptr(TestOptional) v = NULL;

    round_trip_TestOptional("{}");
    round_trip_TestOptional(
        "{\"s\": \"\", \"n\": 0.25, \"i\": 0, \"u8\": 0, \"sz\": 1, "
        "\"b\": false, \"a\": null, \"e\": \"enum\", \"default\": 1, "
        "\"with-dash\": \"d\", \"sub\": {\"base-member\": 3}, "
        "\"list\": [1, 2]}");
    /* Zero values are present: the has_ flags, not the values, say so. */
    g_assert_true(qapi_from_json_TestOptional(in, QAPI_INPUT_STRICT, &v,
                                              NULL));
    g_assert_true(v->has_i);
    g_assert_cmpint(v->i, ==, 0);
    g_assert_true(v->has_q_default);
    g_assert_false(v->has_b);
    g_assert_null(v->s);
    g_assert_null(v->sub);
}

static void test_struct_with_base_and_empty_struct_round_trip(void)
{
    round_trip_TestDerived("{\"base-member\": -1, \"own\": \"o\"}");
    round_trip_TestEmpty("{}");
    round_trip_TestIncluded("{\"x\": 1}");
}

static void test_lists_of_every_kind_round_trip(void)
{
    round_trip_TestLists(
        "{\"strs\": [\"a\", \"\"], \"ints\": [-1, 0, 1], "
        "\"i8s\": [-128, 127], \"u64s\": [0, 9223372036854775807], "
        "\"sizes\": [512], \"bools\": [true, false], "
        "\"numbers\": [0.5, -1.25], \"anys\": [{}, [], \"s\", null], "
        "\"enums\": [\"value-one\", \"x.y\"], "
        "\"structs\": [{\"base-member\": 1, \"own\": \"a\"}], "
        "\"unions\": [{\"type\": \"none\"}, "
        "{\"type\": \"unix\", \"path\": \"/p\"}], \"empty\": []}");
}

static void test_union_each_branch_round_trips(void)
{
    round_trip_TestUnion("{\"type\": \"unix\", \"tag-line\": \"t\", "
                         "\"path\": \"/run/x.sock\"}");
    round_trip_TestUnion("{\"type\": \"inet\", \"host\": \"h\", "
                         "\"port\": 65535, \"ipv6\": true}");
    round_trip_TestUnion("{\"type\": \"none\"}");
    round_trip_TestUnionNamedBase("{\"kind\": \"inet\", \"id\": \"i\", "
                                  "\"host\": \"h\", \"port\": 1}");
    round_trip_TestUnionNamedBase("{\"kind\": \"none\", \"id\": \"i\"}");
}

static void test_union_branch_lands_in_its_c_field(void)
{
    g_autoptr(JsonNode) in = parse("{\"type\": \"inet\", \"host\": \"h\", "
                                   "\"port\": 22}");
    g_autoptr(TestUnion) v = NULL;

    g_assert_true(qapi_from_json_TestUnion(in, QAPI_INPUT_STRICT, &v, NULL));
    g_assert_cmpint(v->type, ==, TEST_KIND_INET);
    g_assert_cmpstr(v->u.inet.host, ==, "h");
    g_assert_cmpuint(v->u.inet.port, ==, 22);
    g_assert_false(v->u.inet.has_ipv6);
}

static void test_nested_round_trips(void)
{
    round_trip_TestNested(
        "{\"addr\": {\"type\": \"unix\", \"path\": \"/s\"}, "
        "\"derived\": {\"base-member\": 1, \"own\": \"x\"}, "
        NESTED_OK_LISTS ", "
        "\"opt-union\": {\"kind\": \"unix\", \"id\": \"u\", "
        "\"path\": \"/t\"}}");
}

static void test_enum_helpers(void)
{
    g_autoptr(GError) err = NULL;

    g_assert_cmpstr(TestEnum_str(TEST_ENUM_X_Y), ==, "x.y");
    g_assert_cmpstr(TestEnum_str(TEST_ENUM__MAX), ==, "<invalid>");
    g_assert_cmpint(TP_B, ==, 1);
    g_assert_cmpint(qapi_enum_parse(&TestEnum_lookup, "2nd", NULL), ==,
                    TEST_ENUM_2ND);
    g_assert_cmpint(qapi_enum_parse(&TestKind_lookup, "tcp", &err), ==, -1);
    g_assert_cmpstr(err->message, ==,
                    "'tcp' is not a valid value (valid: unix, inet, none)");
}

/* --- strict input: errors ------------------------------------------ */

static void test_strict_rejects_wrong_types(void)
{
    assert_nested_rejected("{\"addr\": [], \"derived\": {}}",
                           "Invalid parameter type for 'addr', "
                           "expected: object");
    assert_nested_rejected("{\"addr\": {\"type\": 1}}",
                           "Invalid parameter type for 'addr.type', "
                           "expected: string");
    assert_nested_rejected("{\"addr\": {\"type\": \"unix\", \"path\": 1}}",
                           "Invalid parameter type for 'addr.path', "
                           "expected: string");
    assert_nested_rejected("{\"addr\": {\"type\": \"inet\", \"host\": \"h\","
                           " \"port\": \"22\"}}",
                           "Invalid parameter type for 'addr.port', "
                           "expected: integer");
    assert_nested_rejected("{\"addr\": {\"type\": \"inet\", \"host\": \"h\","
                           " \"port\": 1.5}}",
                           "Invalid parameter type for 'addr.port', "
                           "expected: integer");
    assert_nested_rejected("{\"addr\": {\"type\": \"none\"}, \"derived\": "
                           "{\"base-member\": 1, \"own\": \"x\"}, "
                           "\"lists\": {\"strs\": {}}}",
                           "Invalid parameter type for 'lists.strs', "
                           "expected: array");
    assert_nested_rejected("{\"addr\": {\"type\": \"none\"}, \"derived\": "
                           "{\"base-member\": 1, \"own\": \"x\"}, "
                           "\"lists\": {\"strs\": [\"a\", 2]}}",
                           "Invalid parameter type for 'lists.strs[1]', "
                           "expected: string");
    assert_nested_rejected("{\"addr\": {\"type\": \"none\"}, \"derived\": "
                           "{\"base-member\": 1, \"own\": \"x\"}, "
                           "\"lists\": {\"strs\": [], \"ints\": [], "
                           "\"i8s\": [], \"u64s\": [], \"sizes\": [], "
                           "\"bools\": [1]}}",
                           "Invalid parameter type for 'lists.bools[0]', "
                           "expected: boolean");
}

static void test_strict_rejects_out_of_range_integers(void)
{
    assert_nested_rejected("{\"addr\": {\"type\": \"inet\", \"host\": \"h\","
                           " \"port\": 65536}}",
                           "Parameter 'addr.port' expects uint16_t");
    assert_nested_rejected("{\"addr\": {\"type\": \"inet\", \"host\": \"h\","
                           " \"port\": -1}}",
                           "Parameter 'addr.port' expects uint16_t");
    assert_nested_rejected("{\"addr\": {\"type\": \"none\"}, \"derived\": "
                           "{\"base-member\": 1, \"own\": \"x\"}, "
                           "\"lists\": {\"strs\": [], \"ints\": [], "
                           "\"i8s\": [0, -129]}}",
                           "Parameter 'lists.i8s[1]' expects int8_t");
    assert_nested_rejected("{\"addr\": {\"type\": \"none\"}, \"derived\": "
                           "{\"base-member\": 1, \"own\": \"x\"}, "
                           "\"lists\": {\"strs\": [], \"ints\": [], "
                           "\"i8s\": [], \"u64s\": [-1]}}",
                           "Parameter 'lists.u64s[0]' expects uint64");
}

static void test_strict_rejects_missing_members(void)
{
    assert_nested_rejected("{}", "Parameter 'addr' is missing");
    assert_nested_rejected("{\"addr\": {}}",
                           "Parameter 'addr.type' is missing");
    assert_nested_rejected("{\"addr\": {\"type\": \"inet\", \"port\": 1}}",
                           "Parameter 'addr.host' is missing");
    assert_nested_rejected("{\"addr\": {\"type\": \"none\"}, \"derived\": "
                           "{\"base-member\": 1, \"own\": \"x\"}, "
                           "\"lists\": {\"strs\": [], \"ints\": [], "
                           "\"i8s\": [], \"u64s\": [], \"sizes\": [], "
                           "\"bools\": [], \"numbers\": [], \"anys\": [], "
                           "\"enums\": [], \"structs\": [{\"own\": \"a\"}]}}",
                           "Parameter 'lists.structs[0].base-member' is "
                           "missing");
}

static void test_strict_rejects_unexpected_members(void)
{
    assert_nested_rejected("{\"addr\": {\"type\": \"none\"}, \"derived\": "
                           "{\"base-member\": 1, \"own\": \"x\"}, "
                           NESTED_OK_LISTS ", \"extra\": 1}",
                           "Parameter 'extra' is unexpected");
    /* A member of another branch is unexpected in this one. */
    assert_nested_rejected("{\"addr\": {\"type\": \"unix\", \"path\": \"/p\","
                           " \"port\": 1}}",
                           "Parameter 'addr.port' is unexpected");
    assert_nested_rejected("{\"addr\": {\"type\": \"none\", \"path\": \"/p\""
                           "}}", "Parameter 'addr.path' is unexpected");
}

static void test_strict_rejects_bad_enum_values(void)
{
    assert_nested_rejected("{\"addr\": {\"type\": \"tcp\"}}",
                           "Parameter 'addr.type' does not accept value "
                           "'tcp'");
    assert_nested_rejected("{\"addr\": {\"type\": \"none\"}, \"derived\": "
                           "{\"base-member\": 1, \"own\": \"x\"}, "
                           "\"lists\": {\"strs\": [], \"ints\": [], "
                           "\"i8s\": [], \"u64s\": [], \"sizes\": [], "
                           "\"bools\": [], \"numbers\": [], \"anys\": [], "
                           "\"enums\": [\"VALUE-ONE\"]}}",
                           "Parameter 'lists.enums[0]' does not accept "
                           "value 'VALUE-ONE'");
}

static void test_strict_rejects_strings_for_numbers_and_bools(void)
{
    g_autoptr(JsonNode) in = parse("{\"b\": \"on\"}");
    g_autoptr(JsonNode) nul = parse("{\"s\": \"s\", \"n\": 1, \"i\": 1, "
                                    "\"i8\": 1, \"i16\": 1, \"i32\": 1, "
                                    "\"i64\": 1, \"u8\": 1, \"u16\": 1, "
                                    "\"u32\": 1, \"u64\": 1, \"sz\": 1, "
                                    "\"b\": true, \"a\": 1, \"nul\": 0}");
    g_autoptr(JsonNode) top = parse("[1]");
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) err2 = NULL;
    g_autoptr(GError) err3 = NULL;
    TestOptional *v = NULL;
    TestScalars *s = NULL;

    g_assert_false(qapi_from_json_TestOptional(in, QAPI_INPUT_STRICT, &v,
                                               &err));
    g_assert_cmpstr(err->message, ==,
                    "Invalid parameter type for 'b', expected: boolean");
    g_assert_false(qapi_from_json_TestScalars(nul, QAPI_INPUT_STRICT, &s,
                                              &err2));
    g_assert_cmpstr(err2->message, ==,
                    "Invalid parameter type for 'nul', expected: null");
    g_assert_false(qapi_from_json_TestOptional(top, QAPI_INPUT_STRICT, &v,
                                               &err3));
    g_assert_cmpstr(err3->message, ==,
                    "Invalid parameter type, expected: object");
}

/* --- keyval input ---------------------------------------------------- */

static void test_keyval_converts_every_scalar(void)
{
    g_autoptr(JsonNode) in = keyval_json(
        "s=hello,n=-1.5e3,i=-3,i8=-128,i16=0x10,i32=7,i64=9,u8=255,u16=1,"
        "u32=2,u64=18446744073709551615,sz=4k,b=yes,a=text,nul=,e=x.y");
    g_autoptr(TestScalars) v = NULL;
    g_autoptr(GError) err = NULL;

    g_assert_true(qapi_from_json_TestScalars(in, QAPI_INPUT_KEYVAL, &v,
                                             &err));
    g_assert_no_error(err);
    g_assert_cmpstr(v->s, ==, "hello");
    g_assert_cmpfloat(v->n, ==, -1500.0);
    g_assert_cmpint(v->i, ==, -3);
    g_assert_cmpint(v->i8, ==, -128);
    g_assert_cmpint(v->i16, ==, 16);
    g_assert_cmpuint(v->u8, ==, 255);
    g_assert_cmpuint(v->u64, ==, UINT64_MAX);
    g_assert_cmpuint(v->sz, ==, 4096);
    g_assert_true(v->b);
    g_assert_cmpstr(json_node_get_string(v->a), ==, "text");
    g_assert_true(JSON_NODE_HOLDS_NULL(v->nul));
    g_assert_cmpint(v->e, ==, TEST_ENUM_X_Y);
}

static void test_keyval_accepts_every_bool_spelling(void)
{
    static const struct {
        const char *text;
        bool value;
    } cases[] = {
        { "b=on", true }, { "b=yes", true }, { "b=true", true },
        { "b=off", false }, { "b=no", false }, { "b=false", false },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(JsonNode) in = keyval_json(cases[i].text);
        g_autoptr(TestOptional) v = NULL;

        g_assert_true(qapi_from_json_TestOptional(in, QAPI_INPUT_KEYVAL, &v,
                                                  NULL));
        g_assert_true(v->has_b);
        g_assert_cmpint(v->b, ==, cases[i].value);
    }
}

static void test_keyval_nested_union_and_list(void)
{
    g_autoptr(JsonNode) in = keyval_json(
        "addr.type=inet,addr.host=h,addr.port=22,addr.ipv6=on,"
        "derived.base-member=1,derived.own=o,"
        "lists.strs.1=b,lists.strs.0=a,lists.ints.0=-1,lists.i8s.0=1,"
        "lists.u64s.0=2,lists.sizes.0=1M,lists.bools.0=off,"
        "lists.numbers.0=0.5,lists.anys.0=x,lists.enums.0=enum,"
        "lists.structs.0.base-member=2,lists.structs.0.own=p,"
        "lists.unions.0.type=unix,lists.unions.0.path=/q,lists.empty.0=0");
    g_autoptr(TestNested) v = NULL;
    g_autoptr(GError) err = NULL;

    g_assert_true(qapi_from_json_TestNested(in, QAPI_INPUT_KEYVAL, &v,
                                            &err));
    g_assert_no_error(err);
    g_assert_cmpint(v->addr->type, ==, TEST_KIND_INET);
    g_assert_cmpuint(v->addr->u.inet.port, ==, 22);
    g_assert_true(v->addr->u.inet.ipv6);
    /* List order comes from the indexes, not from the order written. */
    g_assert_cmpstr(v->lists->strs->value, ==, "a");
    g_assert_cmpstr(v->lists->strs->next->value, ==, "b");
    g_assert_cmpuint(v->lists->sizes->value, ==, 1024 * 1024);
    g_assert_false(v->lists->bools->value);
    g_assert_cmpstr(v->lists->structs->value->own, ==, "p");
    g_assert_cmpstr(v->lists->unions->value->u.q_unix.path, ==, "/q");
}

static void assert_keyval_rejected(const char *opts, const char *message)
{
    g_autoptr(JsonNode) in = keyval_json(opts);
    g_autoptr(GError) err = NULL;
    TestOptional *v = NULL;

    g_assert_false(qapi_from_json_TestOptional(in, QAPI_INPUT_KEYVAL, &v,
                                               &err));
    g_assert_null(v);
    g_assert_cmpstr(err->message, ==, message);
}

static void test_keyval_rejects_bad_text(void)
{
    assert_keyval_rejected("i=abc", "Parameter 'i' expects integer");
    assert_keyval_rejected("u8=256", "Parameter 'u8' expects uint8_t");
    assert_keyval_rejected("u8=-1", "Parameter 'u8' expects uint8_t");
    assert_keyval_rejected("b=maybe", "Parameter 'b' expects 'on' or 'off'");
    assert_keyval_rejected("sz=1x", "Parameter 'sz' expects a size value");
    assert_keyval_rejected("n=1.5.2", "Parameter 'n' expects number");
    assert_keyval_rejected("e=nope", "Parameter 'e' does not accept value "
                           "'nope'");
    assert_keyval_rejected("zzz=1", "Parameter 'zzz' is unexpected");
    assert_keyval_rejected("sub.base-member=1,sub.x=2",
                           "Parameter 'sub.x' is unexpected");
    assert_keyval_rejected("list.0=1,list.2=3",
                           "Parameter 'list.1' is missing");
    assert_keyval_rejected("list.0=1,list.1=x",
                           "Parameter 'list.1' expects integer");
    assert_keyval_rejected("sub=1",
                           "Invalid parameter type for 'sub', expected: "
                           "object");
}

/* --- commands ------------------------------------------------------- */

bool qmp_test_included(TestIncluded **ret, GError **errp)
{
    *ret = g_new0(TestIncluded, 1);
    (*ret)->x = 42;
    return true;
}

bool qmp_test_nothing(GError **errp)
{
    return true;
}

bool qmp_test_add(int64_t a, bool has_b, int64_t b, int64_t *ret,
                  GError **errp)
{
    *ret = a + (has_b ? b : 1);
    return true;
}

bool qmp_test_echo(const char *name, TestOptional *opt, strList *tags,
                   bool has_kind, TestEnum kind, TestOptional **ret,
                   GError **errp)
{
    TestOptional *r = g_new0(TestOptional, 1);

    r->s = g_strdup(name);
    r->has_e = has_kind;
    r->e = kind;
    r->with_dash = g_strdup(tags ? tags->value : NULL);
    r->has_u8 = opt && opt->has_u8;
    r->u8 = opt ? opt->u8 : 0;
    *ret = r;
    return true;
}

bool qmp_test_boxed(const TestUnion *arg, TestKindList **ret, GError **errp)
{
    TestKindList *cell = g_new0(TestKindList, 1);

    cell->value = arg->type;
    *ret = cell;
    return true;
}

bool qmp_test_struct_args(int64_t base_member, const char *own,
                          TestDerived **ret, GError **errp)
{
    *ret = g_new0(TestDerived, 1);
    (*ret)->base_member = base_member + 1;
    (*ret)->own = g_strdup_printf("%s!", own);
    return true;
}

bool qmp_test_fail(const char *class_name, GError **errp)
{
    if (class_name && g_str_equal(class_name, "DeviceNotFound")) {
        error_set(errp, QR_ERROR_DEVICE_NOT_FOUND, "no such device");
    } else {
        error_setg(errp, "failed as asked");
    }
    return false;
}

bool qmp_marshal_test_raw(JsonObject *args, JsonNode **ret, GError **errp)
{
    *ret = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(*ret, "raw");
    return true;
}

/* Sends @request (JSON text) to the test table; checks the reply text. */
static void assert_reply(const char *request, const char *reply)
{
    g_autoptr(JsonNode) req = parse(request);
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(node, qmp_dispatch(test_qmp_commands, req));
    assert_json(node, reply);
}

static void test_commands_run_with_arguments_and_return_values(void)
{
    assert_reply("{\"execute\": \"test-nothing\"}", "{\"return\": {}}");
    assert_reply("{\"execute\": \"test-add\", \"arguments\": {\"a\": 2}}",
                 "{\"return\": 3}");
    assert_reply("{\"execute\": \"test-add\", \"arguments\": {\"a\": 2, "
                 "\"b\": 5}, \"id\": 1}", "{\"return\": 7, \"id\": 1}");
    assert_reply("{\"execute\": \"test-echo\", \"arguments\": {\"name\": "
                 "\"n\", \"opt\": {\"u8\": 9}, \"tags\": [\"t\"], \"kind\": "
                 "\"2nd\"}}",
                 "{\"return\": {\"s\": \"n\", \"u8\": 9, \"e\": \"2nd\", "
                 "\"with-dash\": \"t\"}}");
    assert_reply("{\"execute\": \"test-boxed\", \"arguments\": {\"type\": "
                 "\"inet\", \"host\": \"h\", \"port\": 1}}",
                 "{\"return\": [\"inet\"]}");
    assert_reply("{\"execute\": \"test-struct-args\", \"arguments\": "
                 "{\"base-member\": 1, \"own\": \"o\"}}",
                 "{\"return\": {\"base-member\": 2, \"own\": \"o!\"}}");
    assert_reply("{\"execute\": \"test-raw\"}", "{\"return\": \"raw\"}");
    assert_reply("{\"execute\": \"test-included\"}",
                 "{\"return\": {\"x\": 42}}");
}

static void test_command_argument_errors(void)
{
    assert_reply("{\"execute\": \"test-add\", \"arguments\": {\"a\": \"1\"}}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"Invalid parameter type for 'a', expected: integer\"}}");
    assert_reply("{\"execute\": \"test-add\", \"arguments\": {}, \"id\": "
                 "\"x\"}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"Parameter 'a' is missing\"}, \"id\": \"x\"}");
    assert_reply("{\"execute\": \"test-add\", \"arguments\": {\"a\": 1, "
                 "\"c\": 2}}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"Parameter 'c' is unexpected\"}}");
    assert_reply("{\"execute\": \"test-nothing\", \"arguments\": {\"a\": "
                 "1}}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"Parameter 'a' is unexpected\"}}");
    assert_reply("{\"execute\": \"test-echo\", \"arguments\": {\"name\": "
                 "\"n\", \"tags\": [\"a\", 1]}}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"Invalid parameter type for 'tags[1]', expected: "
                 "string\"}}");
    assert_reply("{\"execute\": \"test-boxed\", \"arguments\": {\"type\": "
                 "\"inet\", \"host\": \"h\"}}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"Parameter 'port' is missing\"}}");
}

static void test_command_failures_carry_their_class(void)
{
    assert_reply("{\"execute\": \"test-fail\"}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"failed as asked\"}}");
    assert_reply("{\"execute\": \"test-fail\", \"arguments\": "
                 "{\"class-name\": \"DeviceNotFound\"}, \"id\": [1, {}]}",
                 "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": "
                 "\"no such device\"}, \"id\": [1, {}]}");
    assert_reply("{\"execute\": \"nope\"}",
                 "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                 "\"The command nope has not been found\"}}");
}

static void test_requests_of_the_wrong_shape(void)
{
    assert_reply("[1]", "{\"error\": {\"class\": \"GenericError\", "
                 "\"desc\": \"QMP input must be a JSON object\"}}");
    assert_reply("{\"id\": 5}", "{\"error\": {\"class\": \"GenericError\", "
                 "\"desc\": \"QMP input lacks member 'execute'\"}, "
                 "\"id\": 5}");
    assert_reply("{\"execute\": 1}", "{\"error\": {\"class\": "
                 "\"GenericError\", \"desc\": \"QMP input member 'execute' "
                 "must be a string\"}}");
    assert_reply("{\"execute\": \"test-nothing\", \"arguments\": null}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"QMP input member 'arguments' must be an object\"}}");
    assert_reply("{\"execute\": \"test-nothing\", \"foo\": 1, \"id\": "
                 "null}",
                 "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                 "\"QMP input member 'foo' is unexpected\"}, \"id\": null}");
}

/* --- events --------------------------------------------------------- */

static GString *events_seen;

static void record_event(const char *name, JsonObject *data)
{
    g_autoptr(JsonNode) node = NULL;

    g_string_append_printf(events_seen, "%s ", name);
    if (data) {
        node = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(node, data);
        qapi_json_append(events_seen, node);
    } else {
        g_string_append(events_seen, "-");
    }
    g_string_append_c(events_seen, ';');
}

static void test_events_hand_their_data_to_the_handler(void)
{
    TestUnion u = { .type = TEST_KIND_UNIX, .u.q_unix.path = (char *)"/p" };

    events_seen = g_string_new(NULL);
    qapi_event_set_handler(record_event);
    qapi_event_send_test_event_empty();
    qapi_event_send_test_event("e1", false, 0, TEST_KIND_NONE);
    qapi_event_send_test_event("e2", true, 7, TEST_KIND_INET);
    qapi_event_send_test_event_boxed(&u);
    qapi_event_set_handler(NULL);
    /* Without a handler, events are dropped (and freed). */
    qapi_event_send_test_event("dropped", false, 0, TEST_KIND_NONE);

    g_assert_cmpstr(events_seen->str, ==,
                    "TEST_EVENT_EMPTY -;"
                    "TEST_EVENT {\"id\": \"e1\", \"kind\": \"none\"};"
                    "TEST_EVENT {\"id\": \"e2\", \"count\": 7, "
                    "\"kind\": \"inet\"};"
                    "TEST_EVENT_BOXED {\"type\": \"unix\", \"path\": \"/p\"};");
    g_string_free(events_seen, TRUE);
}

/* --- introspection -------------------------------------------------- */

static JsonObject *find_entity(JsonArray *schema, const char *name)
{
    for (guint i = 0; i < json_array_get_length(schema); i++) {
        JsonObject *e = json_array_get_object_element(schema, i);

        if (g_str_equal(json_object_get_string_member(e, "name"), name)) {
            return e;
        }
    }
    return NULL;
}

static void test_introspection_lists_every_command_and_event(void)
{
    g_autoptr(JsonNode) root = parse(test_qapi_introspect_json);
    JsonArray *schema = json_node_get_array(root);
    static const char *const events[] = {
        "TEST_EVENT_EMPTY", "TEST_EVENT", "TEST_EVENT_BOXED",
    };

    for (const QmpCommand *cmd = test_qmp_commands; cmd->name; cmd++) {
        JsonObject *e = find_entity(schema, cmd->name);

        g_assert_nonnull(e);
        g_assert_cmpstr(json_object_get_string_member(e, "meta-type"), ==,
                        "command");
        g_assert_nonnull(find_entity(schema, json_object_get_string_member(
                                             e, "arg-type")));
        g_assert_nonnull(find_entity(schema, json_object_get_string_member(
                                             e, "ret-type")));
    }
    for (size_t i = 0; i < G_N_ELEMENTS(events); i++) {
        g_assert_nonnull(find_entity(schema, events[i]));
    }
}

static void test_introspection_describes_types_as_qemu_does(void)
{
    g_autoptr(JsonNode) root = parse(test_qapi_introspect_json);
    JsonArray *schema = json_node_get_array(root);
    g_autoptr(JsonNode) add = json_node_init_object(
        json_node_alloc(), find_entity(schema, "test-add"));
    g_autoptr(JsonNode) args = json_node_init_object(
        json_node_alloc(), find_entity(schema, "q_obj_test-add-arg"));
    g_autoptr(JsonNode) uni = json_node_init_object(
        json_node_alloc(), find_entity(schema, "TestUnion"));
    g_autoptr(JsonNode) kind = json_node_init_object(
        json_node_alloc(), find_entity(schema, "TestEnum"));
    g_autoptr(JsonNode) lists = json_node_init_object(
        json_node_alloc(), find_entity(schema, "[int]"));

    assert_json(add, "{\"name\": \"test-add\", \"meta-type\": \"command\", "
                "\"arg-type\": \"q_obj_test-add-arg\", \"ret-type\": "
                "\"int\"}");
    assert_json(args, "{\"name\": \"q_obj_test-add-arg\", \"meta-type\": "
                "\"object\", \"members\": [{\"name\": \"a\", \"type\": "
                "\"int\"}, {\"name\": \"b\", \"type\": \"int\", "
                "\"default\": null}]}");
    assert_json(uni, "{\"name\": \"TestUnion\", \"meta-type\": \"object\", "
                "\"members\": [{\"name\": \"type\", \"type\": \"TestKind\"}, "
                "{\"name\": \"tag-line\", \"type\": \"str\", \"default\": "
                "null}], \"tag\": \"type\", \"variants\": [{\"case\": "
                "\"unix\", \"type\": \"TestUnix\"}, {\"case\": \"inet\", "
                "\"type\": \"TestInet\"}, {\"case\": \"none\", \"type\": "
                "\"q_empty\"}]}");
    assert_json(kind, "{\"name\": \"TestEnum\", \"meta-type\": \"enum\", "
                "\"members\": [{\"name\": \"value-one\"}, {\"name\": "
                "\"enum\"}, {\"name\": \"2nd\"}, {\"name\": \"x.y\", "
                "\"features\": [\"deprecated\"]}], \"values\": "
                "[\"value-one\", \"enum\", \"2nd\", \"x.y\"]}");
    assert_json(lists, "{\"name\": \"[int]\", \"meta-type\": \"array\", "
                "\"element-type\": \"int\"}");
    /* Every integer type is introspected as the builtin "int". */
    g_assert_null(find_entity(schema, "int8"));
    g_assert_null(find_entity(schema, "uint16"));
}

/* --- JSON text output ----------------------------------------------- */

static void test_json_writer_matches_qemus_style(void)
{
    g_autoptr(JsonNode) node = parse(
        "{\"b\":[1,true,null,\"\\u00e9\\t\\ud83d\\ude00\"],\"a\":0.1,"
        "\"c\":{},\"d\":2.0,\"e\":-1e300}");
    g_autofree char *text = qapi_json_to_string(node);
    g_autoptr(JsonNode) big = qapi_out_uint(UINT64_MAX);
    g_autofree char *big_text = qapi_json_to_string(big);

    g_assert_cmpstr(text, ==,
                    "{\"b\": [1, true, null, \"\\u00E9\\t\\uD83D\\uDE00\"], "
                    "\"a\": 0.1, \"c\": {}, \"d\": 2.0, \"e\": -1e+300}");
    /* Beyond int64, json-glib holds a double: the nearest one. */
    g_assert_cmpstr(big_text, ==, "1.8446744073709552e+19");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qapi/round-trip/scalars-at-their-limits",
                    test_scalars_round_trip_at_their_limits);
    g_test_add_func("/qapi/round-trip/scalars-land-in-their-c-fields",
                    test_scalars_land_in_their_c_fields);
    g_test_add_func("/qapi/round-trip/optional-members",
                    test_optional_members_absent_and_present);
    g_test_add_func("/qapi/round-trip/base-and-empty-structs",
                    test_struct_with_base_and_empty_struct_round_trip);
    g_test_add_func("/qapi/round-trip/lists-of-every-kind",
                    test_lists_of_every_kind_round_trip);
    g_test_add_func("/qapi/round-trip/union-branches",
                    test_union_each_branch_round_trips);
    g_test_add_func("/qapi/round-trip/union-branch-c-field",
                    test_union_branch_lands_in_its_c_field);
    g_test_add_func("/qapi/round-trip/nested", test_nested_round_trips);
    g_test_add_func("/qapi/enum-helpers", test_enum_helpers);
    g_test_add_func("/qapi/strict/wrong-types",
                    test_strict_rejects_wrong_types);
    g_test_add_func("/qapi/strict/out-of-range-integers",
                    test_strict_rejects_out_of_range_integers);
    g_test_add_func("/qapi/strict/missing-members",
                    test_strict_rejects_missing_members);
    g_test_add_func("/qapi/strict/unexpected-members",
                    test_strict_rejects_unexpected_members);
    g_test_add_func("/qapi/strict/bad-enum-values",
                    test_strict_rejects_bad_enum_values);
    g_test_add_func("/qapi/strict/strings-for-numbers-and-bools",
                    test_strict_rejects_strings_for_numbers_and_bools);
    g_test_add_func("/qapi/keyval/every-scalar",
                    test_keyval_converts_every_scalar);
    g_test_add_func("/qapi/keyval/bool-spellings",
                    test_keyval_accepts_every_bool_spelling);
    g_test_add_func("/qapi/keyval/nested-union-and-list",
                    test_keyval_nested_union_and_list);
    g_test_add_func("/qapi/keyval/bad-text", test_keyval_rejects_bad_text);
    g_test_add_func("/qapi/commands/arguments-and-returns",
                    test_commands_run_with_arguments_and_return_values);
    g_test_add_func("/qapi/commands/argument-errors",
                    test_command_argument_errors);
    g_test_add_func("/qapi/commands/failure-classes",
                    test_command_failures_carry_their_class);
    g_test_add_func("/qapi/commands/wrong-shape",
                    test_requests_of_the_wrong_shape);
    g_test_add_func("/qapi/events/handler",
                    test_events_hand_their_data_to_the_handler);
    g_test_add_func("/qapi/introspection/commands-and-events",
                    test_introspection_lists_every_command_and_event);
    g_test_add_func("/qapi/introspection/types",
                    test_introspection_describes_types_as_qemu_does);
    g_test_add_func("/qapi/json-writer", test_json_writer_matches_qemus_style);
    return g_test_run();
}
