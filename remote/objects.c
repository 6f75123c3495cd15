/*
 * What the process serves, from the command line: -object, -blockdev,
 * -drive and -device, created in start-up order, and torn down in reverse.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/object.h"
#include "qemu-remote/option.h"
#include "block/block.h"
#include "hw/qdev.h"
#include "cmdline.h"
#include "vl.h"

/* A device created from -device and the option it came from. */
typedef struct CliDevice {
    Device *dev;
    char *loc;
} CliDevice;

/* Main thread only. */
static GPtrArray *cli_devices;  /* of CliDevice */
static GHashTable *object_ids;  /* ids of every -object, checked early */

static void cli_device_free(gpointer p)
{
    CliDevice *cd = p;

    g_free(cd->loc);
    g_free(cd);
}

/*
 * An option's text in either of QEMU's forms: JSON when it starts with
 * '{' (as libvirt writes -object, -device and -blockdev), else key=value.
 * @help may be NULL where "help" means nothing.
 */
static KeyValList *parse_option_text(const char *arg, const char *implied,
                                     bool *help, GError **errp)
{
    if (arg[0] == '{') {
        if (help) {
            *help = false;
        }
        return keyval_from_json(arg, errp);
    }
    return keyval_parse_help(arg, implied, help, errp);
}

static bool print_object_help(const char *type, GError **errp)
{
    const ObjectType *t;

    if (!type) {
        object_print_types(stdout);
        return true;
    }
    t = object_type_find(type);
    if (!t) {
        error_setg(errp, "Parameter 'qom-type' does not accept value '%s'",
                   type);
        return false;
    }
    printf("%s: %s\n", t->name, t->desc);
    return true;
}

/*
 * "-object TYPE,id=ID,...": in PHASE_EARLY_OBJECTS every -object's type
 * and id are checked and the early types created; the others are created
 * in PHASE_LATE_OBJECTS, after the devices they bind to.
 */
bool opt_object(OptionPhase phase, const char *arg, GError **errp)
{
    g_autoptr(KeyValList) opts = NULL;
    const ObjectType *t;
    const char *type, *id;
    bool help;

    opts = parse_option_text(arg, "qom-type", &help, errp);
    if (!opts) {
        return false;
    }
    type = keyval_get(opts, "qom-type");
    if (phase == PHASE_HELP) {
        if (help || (type && g_str_equal(type, "help"))) {
            cmdline_set_help_printed();
            return print_object_help(help ? type : NULL, errp);
        }
        return true;
    }
    if (!type) {
        error_setg(errp, "Parameter 'qom-type' is missing");
        return false;
    }
    t = object_type_find(type);
    if (!t) {
        error_setg(errp, "Parameter 'qom-type' does not accept value '%s'",
                   type);
        return false;
    }
    if (phase == PHASE_EARLY_OBJECTS) {
        id = keyval_get(opts, "id");
        if (!id || !*id) {
            error_setg(errp, "Parameter 'id' is missing");
            return false;
        }
        if (!object_ids) {
            object_ids = g_hash_table_new_full(g_str_hash, g_str_equal,
                                               g_free, NULL);
        }
        if (!g_hash_table_add(object_ids, g_strdup(id))) {
            error_setg(errp, "Duplicate ID '%s' for object", id);
            return false;
        }
    }
    if (t->early != (phase == PHASE_EARLY_OBJECTS)) {
        return true;
    }
    return t->create(opts, errp);
}

/* "-device TYPE,id=ID,...", "-device help", "-device TYPE,help". */
bool opt_device(OptionPhase phase, const char *arg, GError **errp)
{
    g_autoptr(KeyValList) opts = NULL;
    const char *driver;
    CliDevice *cd;
    Device *dev;
    bool help;

    opts = parse_option_text(arg, "driver", &help, errp);
    if (!opts) {
        return false;
    }
    driver = keyval_get(opts, "driver");
    if (phase == PHASE_HELP) {
        if (!help) {
            return true;
        }
        cmdline_set_help_printed();
        if (!driver) {
            device_print_types(stdout);
            return true;
        }
        return device_print_properties(stdout, driver, errp);
    }
    dev = device_new(opts, errp);
    if (!dev) {
        return false;
    }
    cd = g_new0(CliDevice, 1);
    cd->dev = dev;
    cd->loc = g_strdup(cmdline_location());
    if (!cli_devices) {
        cli_devices = g_ptr_array_new_with_free_func(cli_device_free);
    }
    g_ptr_array_add(cli_devices, cd);
    return true;
}

/* "-blockdev driver=...,node-name=...": the block layer checks the rest. */
bool opt_blockdev(OptionPhase phase, const char *arg, GError **errp)
{
    g_autoptr(KeyValList) opts = parse_option_text(arg, NULL, NULL, errp);

    return opts && blockdev_add_keyval(opts, errp);
}

/* "-drive if=none,id=ID,file=FILE,format=raw"; "file" is implied, as in
 * QEMU. */
bool opt_drive(OptionPhase phase, const char *arg, GError **errp)
{
    g_autoptr(KeyValList) opts = keyval_parse(arg, "file", errp);

    return opts && drive_add_keyval(opts, errp);
}

bool cli_devices_realize(GError **errp)
{
    for (guint i = 0; cli_devices && i < cli_devices->len; i++) {
        CliDevice *cd = g_ptr_array_index(cli_devices, i);
        bool ok;

        error_set_location(cd->loc);
        ok = device_realize(cd->dev, errp);
        error_set_location(NULL);
        if (!ok) {
            error_prepend(errp, "%s: ", cd->loc);
            return false;
        }
    }
    return true;
}

bool cli_objects_start(GError **errp)
{
    for (const ObjectType *const *t = object_types; *t; t++) {
        if ((*t)->start && !(*t)->start(errp)) {
            error_prepend(errp, "-object %s: ", (*t)->name);
            return false;
        }
    }
    return true;
}

static void cleanup_object_types(bool early)
{
    for (const ObjectType *const *t = object_types; *t; t++) {
        if ((*t)->early == early && (*t)->cleanup) {
            (*t)->cleanup();
        }
    }
}

static void collect_device(Device *dev, void *opaque)
{
    g_ptr_array_add(opaque, dev);
}

void cli_teardown(void)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();

    cleanup_object_types(false);

    /* Every device, including any added after start-up, newest first. */
    g_clear_pointer(&cli_devices, g_ptr_array_unref);
    device_foreach(collect_device, all);
    for (guint i = all->len; i > 0; i--) {
        device_free(g_ptr_array_index(all, i - 1));
    }

    blockdev_close_all();
    cleanup_object_types(true);
    g_clear_pointer(&object_ids, g_hash_table_unref);
}
