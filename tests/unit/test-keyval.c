/*
 * QEMU option syntax: key=value lists, escapes and scalar forms.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/option.h"

static void test_implied_key_and_escaped_comma(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(KeyValList) l =
        keyval_parse("virtio-blk-pci,id=d0,serial=a,,b", "driver", &err);

    g_assert_no_error(err);
    g_assert_cmpstr(keyval_get(l, "driver"), ==, "virtio-blk-pci");
    g_assert_cmpstr(keyval_get(l, "id"), ==, "d0");
    g_assert_cmpstr(keyval_get(l, "serial"), ==, "a,b");
}

static void test_trailing_comma_is_an_error(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(KeyValList) l = keyval_parse("id=d0,", NULL, &err);

    g_assert_null(l);
    g_assert_error(err, QR_ERROR, QR_ERROR_GENERIC);
}

static void test_size_suffixes(void)
{
    uint64_t v = 0;

    g_assert_true(qemu_parse_size("4k", &v, NULL));
    g_assert_cmpuint(v, ==, 4096);
    g_assert_true(qemu_parse_size("2G", &v, NULL));
    g_assert_cmpuint(v, ==, 2ULL << 30);
    g_assert_false(qemu_parse_size("16E", &v, NULL));
    g_assert_false(qemu_parse_size("12x", &v, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keyval/implied-key-and-escaped-comma",
                    test_implied_key_and_escaped_comma);
    g_test_add_func("/keyval/trailing-comma-is-an-error",
                    test_trailing_comma_is_an_error);
    g_test_add_func("/keyval/size-suffixes", test_size_suffixes);
    return g_test_run();
}
