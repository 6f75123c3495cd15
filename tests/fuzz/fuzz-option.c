/*
 * Fuzz target: the option parsers (util/option.c: key=value lists with
 * escapes, help elements, QEMU's JSON form, the dotted-key tree for the
 * QAPI keyval visitor, scalar forms) and what consumes their output:
 * device properties (hw/core/qdev-properties.c, every property of
 * x-remote-testdev and virtio-blk-pci) and the -sandbox sub-options.
 * The first byte picks the parser; the rest, up to a NUL, is the option
 * text.
 *
 * Whatever the text, the process must not crash or leak: every parser
 * accepts it or fails with an error.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/fdset.h"
#include "qemu-remote/iothread.h"
#include "qemu-remote/log.h"
#include "qemu-remote/option.h"
#include "qemu-remote/sandbox.h"
#include "block/block.h"
#include "hw/misc/testdev.h"
#include "hw/virtio-blk.h"

#include <sys/mman.h>

#define FUZZ_MAX_INPUT 4096

const DeviceType *const device_types[] = {
    &testdev_type, &virtio_blk_pci_type, NULL
};

/* What drive= and iothread= can name. */
static void fz_init(void)
{
    g_autoptr(KeyValList) blockdev = NULL;
    g_autofree char *add_fd = NULL;
    int disk = memfd_create("fuzz-disk", 0);

    qr_log_mask = 0;
    g_assert_cmpint(disk, >=, 0);
    g_assert_cmpint(ftruncate(disk, 1 << 20), ==, 0);
    add_fd = g_strdup_printf("fd=%d,set=1", disk);
    g_assert_true(fdset_add_option(add_fd, NULL));
    blockdev = keyval_parse("driver=file,node-name=disk0,"
                            "filename=/dev/fdset/1", NULL, NULL);
    g_assert_nonnull(blockdev_add_keyval(blockdev, NULL));
    g_assert_nonnull(iothread_create("io0", NULL));
}

static void use_list(KeyValList *kv)
{
    static const char *const allowed[] = { "id", "driver", "x", NULL };
    g_autoptr(JsonNode) tree = NULL;
    bool b;

    if (!kv) {
        return;
    }
    keyval_get(kv, "id");
    keyval_get_bool(kv, "x", &b, NULL);
    keyval_check_keys(kv, allowed, NULL);
    tree = keyval_to_json(kv, NULL);
    keyval_free(kv);
}

static void parse_scalars(const char *text)
{
    uint64_t u;
    int64_t i;
    bool b;

    qemu_parse_bool(text, &b, NULL);
    qemu_parse_uint(text, &u, NULL);
    qemu_parse_int(text, &i, NULL);
    qemu_parse_size(text, &u, NULL);
}

static void new_device(const char *text)
{
    g_autoptr(KeyValList) kv = keyval_parse(text, "driver", NULL);
    Device *dev;

    if (!kv) {
        return;
    }
    dev = device_new(kv, NULL);
    if (dev) {
        device_free(dev);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool initialized;
    g_autofree char *text = NULL;
    bool help;

    if (!initialized) {
        fz_init();
        initialized = true;
    }
    if (size < 1 || size > FUZZ_MAX_INPUT) {
        return 0;
    }
    text = g_strndup((const char *)data + 1, size - 1);
    switch (data[0] % 6) {
    case 0:
        use_list(keyval_parse(text, NULL, NULL));
        break;
    case 1:
        use_list(keyval_parse_help(text, "driver", &help, NULL));
        break;
    case 2:
        use_list(keyval_from_json(text, NULL));
        break;
    case 3:
        new_device(text);
        break;
    case 4:
        parse_scalars(text);
        break;
    default:
        sandbox_parse_option(text, NULL);
        break;
    }
    return 0;
}
