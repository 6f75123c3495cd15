/*
 * "-blockdev" and "-drive" option parsing into file and raw nodes, with
 * QEMU's option names and error messages.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "block-int.h"

/* Options common to both drivers, inherited by an inline file child. */
typedef struct NodeOpts {
    bool read_only;
    bool auto_read_only;
    bool direct;
    bool no_flush;
    bool discard_unmap;
    bool force_share;
    bool write_cache;
} NodeOpts;

static bool get_bool(const KeyValList *opts, const char *key, bool *out,
                     GError **errp)
{
    const char *v = keyval_get(opts, key);

    if (v && !qemu_parse_bool(v, out, NULL)) {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", key);
        return false;
    }
    return true;
}

static bool get_size(const KeyValList *opts, const char *key, uint64_t *out,
                     GError **errp)
{
    const char *v = keyval_get(opts, key);

    if (v && !qemu_parse_size(v, out, NULL)) {
        error_setg(errp, "Parameter '%s' expects a size", key);
        return false;
    }
    return true;
}

/* Parses enum @key into the index of its value in @values (NULL-ended). */
static bool get_enum(const KeyValList *opts, const char *key,
                     const char *const *values, int *out, GError **errp)
{
    const char *v = keyval_get(opts, key);

    if (!v) {
        return true;
    }
    for (int i = 0; values[i]; i++) {
        if (g_str_equal(v, values[i])) {
            *out = i;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'", key, v);
    return false;
}

/* Fails on the first key not in @allowed and not starting with @prefix. */
static bool check_keys(const KeyValList *opts, const char *const *allowed,
                       const char *prefix, GError **errp)
{
    for (guint i = 0; i < opts->items->len; i++) {
        const KeyValue *kv = g_ptr_array_index(opts->items, i);
        bool ok = prefix && g_str_has_prefix(kv->key, prefix);

        for (int j = 0; !ok && allowed[j]; j++) {
            ok = g_str_equal(kv->key, allowed[j]);
        }
        if (!ok) {
            error_setg(errp, "Parameter '%s' is unexpected", kv->key);
            return false;
        }
    }
    return true;
}

/* Reads the options both drivers share, on top of @inherit. */
static bool parse_node_opts(const KeyValList *opts, const NodeOpts *inherit,
                            NodeOpts *o, GError **errp)
{
    static const char *const discard_values[] = { "ignore", "unmap", "off",
                                                  "on", NULL };
    int discard = -1;

    *o = *inherit;
    if (!get_bool(opts, "read-only", &o->read_only, errp) ||
        !get_bool(opts, "auto-read-only", &o->auto_read_only, errp) ||
        !get_bool(opts, "cache.direct", &o->direct, errp) ||
        !get_bool(opts, "cache.no-flush", &o->no_flush, errp) ||
        !get_bool(opts, "force-share", &o->force_share, errp) ||
        !get_enum(opts, "discard", discard_values, &discard, errp)) {
        return false;
    }
    if (discard >= 0) {
        /* QEMU spells unmap also "on", ignore also "off". */
        o->discard_unmap = discard == 1 || discard == 3;
    }
    if (o->force_share && !o->read_only) {
        error_setg(errp, "force-share=on can only be used with read-only "
                   "images");
        return false;
    }
    return true;
}

static const char *const file_keys[] = {
    "driver", "node-name", "filename", "read-only", "auto-read-only",
    "cache.direct", "cache.no-flush", "locking", "discard", "aio",
    "force-share", NULL,
};

/* Opens a file node from @opts (keys as in file_keys). */
static BlockBackend *open_file_node(const KeyValList *opts,
                                    const NodeOpts *inherit, GError **errp)
{
    static const char *const locking_values[] = { "auto", "on", "off",
                                                  NULL };
    static const char *const aio_values[] = { "threads", "io_uring",
                                              "native", NULL };
    int locking = 0, aio = -1;
    BlockFileOpts fo = { 0 };
    BlockBackend *f;
    NodeOpts o;

    if (!check_keys(opts, file_keys, NULL, errp) ||
        !parse_node_opts(opts, inherit, &o, errp) ||
        !get_enum(opts, "locking", locking_values, &locking, errp) ||
        !get_enum(opts, "aio", aio_values, &aio, errp)) {
        return NULL;
    }
    fo.filename = keyval_get(opts, "filename");
    if (!fo.filename) {
        error_setg(errp, "Parameter 'filename' is missing");
        return NULL;
    }
    if (aio == 2 && !o.direct) {
        error_setg(errp, "aio=native was specified, but it requires "
                   "cache.direct=on, which was not specified.");
        return NULL;
    }
    fo.aio = aio < 0 ? BLOCK_AIO_DEFAULT
                     : aio == 0 ? BLOCK_AIO_THREADS : BLOCK_AIO_IO_URING;
    if (fo.aio == BLOCK_AIO_IO_URING && !block_uring_available()) {
        error_setg(errp, "Unable to use io_uring: it is not available in "
                   "this process");
        return NULL;
    }
    fo.read_only = o.read_only;
    fo.auto_read_only = o.auto_read_only;
    fo.direct = o.direct;
    fo.no_flush = o.no_flush;
    fo.discard_unmap = o.discard_unmap;
    fo.force_share = o.force_share;
    /* OFD locks always exist on Linux, so auto means on. */
    fo.locking = locking != 2;

    f = block_file_open(&fo, errp);
    if (f) {
        f->write_cache = o.write_cache;
    }
    return f;
}

/* Builds the inline child's options: keys under "file." without it. */
static KeyValList *child_opts(const KeyValList *opts)
{
    KeyValList *child = g_new0(KeyValList, 1);

    child->items = g_ptr_array_new_with_free_func(NULL);
    g_ptr_array_set_free_func(child->items, g_free);
    for (guint i = 0; i < opts->items->len; i++) {
        const KeyValue *kv = g_ptr_array_index(opts->items, i);

        if (g_str_has_prefix(kv->key, "file.")) {
            /* Borrowed strings: only the KeyValue shells are ours. */
            KeyValue *c = g_new(KeyValue, 1);

            c->key = kv->key + strlen("file.");
            c->value = kv->value;
            g_ptr_array_add(child->items, c);
        }
    }
    return child;
}

static void child_opts_free(KeyValList *child)
{
    g_ptr_array_unref(child->items);
    g_free(child);
}

static bool has_child_opts(const KeyValList *opts)
{
    for (guint i = 0; i < opts->items->len; i++) {
        const KeyValue *kv = g_ptr_array_index(opts->items, i);

        if (g_str_has_prefix(kv->key, "file.")) {
            return true;
        }
    }
    return false;
}

static const char *const raw_keys[] = {
    "driver", "node-name", "file", "read-only", "auto-read-only",
    "cache.direct", "cache.no-flush", "discard", "force-share", "offset",
    "size", NULL,
};

/*
 * The file child of a raw node: an existing node named by "file=", or one
 * opened from "file.*" options (anonymous unless file.node-name is given).
 */
static BlockBackend *raw_child(const KeyValList *opts, const NodeOpts *o,
                               GError **errp)
{
    const char *ref = keyval_get(opts, "file");
    KeyValList *copts;
    const char *driver, *name;
    BlockBackend *child;

    if (ref) {
        if (has_child_opts(opts)) {
            error_setg(errp, "Cannot reference an existing block device "
                       "with additional options or a new filename");
            return NULL;
        }
        child = blk_by_name(ref);
        if (!child) {
            error_setg(errp, "Cannot find device='%s' nor node-name='%s'",
                       ref, ref);
            return NULL;
        }
        if (child->kind != BLOCK_NODE_FILE) {
            error_setg(errp, "Node '%s' is not a file node", ref);
            return NULL;
        }
        if (child->dev || child->parents > 0) {
            error_setg(errp, "Node '%s' is already in use", ref);
            return NULL;
        }
        if (!o->read_only && child->read_only) {
            error_setg(errp, "Cannot make a read-write node on top of the "
                       "read-only node '%s'", ref);
            return NULL;
        }
        return child;
    }
    if (!has_child_opts(opts)) {
        error_setg(errp, "A block device must be specified for \"file\"");
        return NULL;
    }
    copts = child_opts(opts);
    driver = keyval_get(copts, "driver");
    name = keyval_get(copts, "node-name");
    if (!driver) {
        error_setg(errp, "Parameter 'file.driver' is missing");
        child_opts_free(copts);
        return NULL;
    }
    if (!g_str_equal(driver, "file")) {
        error_setg(errp, "Parameter 'file.driver' does not accept value "
                   "'%s'", driver);
        child_opts_free(copts);
        return NULL;
    }
    if (name && block_name_in_use(name)) {
        error_setg(errp, "Duplicate nodes with node-name='%s'", name);
        child_opts_free(copts);
        return NULL;
    }
    child = open_file_node(copts, o, errp);
    child_opts_free(copts);
    if (!child) {
        error_prepend(errp, "file: ");
        return NULL;
    }
    child->name = g_strdup(name);
    block_node_register(child);
    return child;
}

static void release_child(BlockBackend *child)
{
    if (!child->name && child->parents == 0) {
        block_node_close(child);
    }
}

/* Opens a raw node from @opts. */
static BlockBackend *open_raw_node(const KeyValList *opts,
                                   const NodeOpts *inherit, GError **errp)
{
    uint64_t offset = 0, size = 0;
    BlockBackend *child, *raw;
    bool has_size;
    NodeOpts o;

    if (!check_keys(opts, raw_keys, "file.", errp) ||
        !parse_node_opts(opts, inherit, &o, errp) ||
        !get_size(opts, "offset", &offset, errp) ||
        !get_size(opts, "size", &size, errp)) {
        return NULL;
    }
    has_size = keyval_get(opts, "size") != NULL;
    if (has_size && size % 512) {
        error_setg(errp, "Specified size is not multiple of 512");
        return NULL;
    }
    child = raw_child(opts, &o, errp);
    if (!child) {
        return NULL;
    }
    if (!has_size) {
        size = offset <= child->size ? child->size - offset : 0;
    }
    if (!range_fits(offset, size, child->size)) {
        error_setg(errp, "The sum of offset (%" PRIu64 ") and size (%" PRIu64
                   ") has to be smaller or equal to the actual size of the "
                   "containing file (%" PRIu64 ")", offset, size,
                   child->size);
        release_child(child);
        return NULL;
    }
    raw = g_new0(BlockBackend, 1);
    raw->kind = BLOCK_NODE_RAW;
    raw->child = child;
    raw->offset = offset;
    raw->size = size;
    /* A read-only child makes its parent read-only (auto-read-only). */
    raw->read_only = o.read_only || child->read_only;
    raw->write_cache = o.write_cache;
    raw->no_flush = child->no_flush;
    raw->discard_unmap = o.discard_unmap;
    raw->force_share = o.force_share;
    child->parents++;
    return raw;
}

static const NodeOpts blockdev_defaults = {
    .write_cache = true,
};

BlockBackend *blockdev_add_keyval(const KeyValList *opts, GError **errp)
{
    const char *driver = keyval_get(opts, "driver");
    const char *name = keyval_get(opts, "node-name");
    BlockBackend *blk;

    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    if (!g_str_equal(driver, "file") && !g_str_equal(driver, "raw")) {
        error_setg(errp, "Parameter 'driver' does not accept value '%s'",
                   driver);
        return NULL;
    }
    if (!name) {
        error_setg(errp, "'node-name' must be specified for the root node");
        return NULL;
    }
    if (!*name) {
        error_setg(errp, "Invalid node-name: ''");
        return NULL;
    }
    if (block_name_in_use(name)) {
        error_setg(errp, "Duplicate nodes with node-name='%s'", name);
        return NULL;
    }
    if (g_str_equal(driver, "file")) {
        blk = open_file_node(opts, &blockdev_defaults, errp);
    } else {
        blk = open_raw_node(opts, &blockdev_defaults, errp);
    }
    if (!blk) {
        return NULL;
    }
    blk->name = g_strdup(name);
    block_node_register(blk);
    return blk;
}

/* -drive cache= modes: O_DIRECT, write-back, no-flush (as QEMU). */
static bool parse_cache_mode(const char *mode, NodeOpts *o, GError **errp)
{
    static const struct {
        const char *name;
        bool direct, write_cache, no_flush;
    } modes[] = {
        { "writeback",    false, true,  false },
        { "none",         true,  true,  false },
        { "off",          true,  true,  false },
        { "writethrough", false, false, false },
        { "directsync",   true,  false, false },
        { "unsafe",       false, true,  true },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        if (g_str_equal(mode, modes[i].name)) {
            o->direct = modes[i].direct;
            o->write_cache = modes[i].write_cache;
            o->no_flush = modes[i].no_flush;
            return true;
        }
    }
    error_setg(errp, "invalid cache option");
    return false;
}

static const char *const drive_keys[] = {
    "if", "id", "file", "format", "readonly", "cache", "aio", "discard",
    "cache.direct", "cache.no-flush", "auto-read-only", "force-share", NULL,
};

/* Default -drive ids as QEMU builds them for if=none: "none0", ... */
static char *drive_default_id(void)
{
    for (unsigned i = 0;; i++) {
        char *id = g_strdup_printf("none%u", i);

        if (!block_name_in_use(id)) {
            return id;
        }
        g_free(id);
    }
}

/* Adds a "file.KEY=value" copy of @key's value to @list, if set. */
static void forward(KeyValList *list, const KeyValList *opts,
                    const char *key, const char *as)
{
    const char *v = keyval_get(opts, key);

    if (v) {
        KeyValue *kv = g_new(KeyValue, 1);

        kv->key = g_strdup(as);
        kv->value = g_strdup(v);
        g_ptr_array_add(list->items, kv);
    }
}

static void keyvalue_free(gpointer p)
{
    KeyValue *kv = p;

    g_free(kv->key);
    g_free(kv->value);
    g_free(kv);
}

BlockBackend *drive_add_keyval(const KeyValList *opts, GError **errp)
{
    const char *iface = keyval_get(opts, "if");
    const char *format = keyval_get(opts, "format");
    const char *file = keyval_get(opts, "file");
    const char *cache = keyval_get(opts, "cache");
    g_autofree char *id = g_strdup(keyval_get(opts, "id"));
    NodeOpts o = blockdev_defaults;
    g_autoptr(KeyValList) raw = NULL;
    BlockBackend *blk;

    for (guint i = 0; i < opts->items->len; i++) {
        const KeyValue *kv = g_ptr_array_index(opts->items, i);
        bool known = g_str_has_prefix(kv->key, "file.");

        for (int j = 0; !known && drive_keys[j]; j++) {
            known = g_str_equal(kv->key, drive_keys[j]);
        }
        if (!known) {
            error_setg(errp, "Block format 'raw' does not support the "
                       "option '%s'", kv->key);
            return NULL;
        }
    }
    if (iface && !g_str_equal(iface, "none")) {
        error_setg(errp, "if=%s is not supported (qemu-remote hosts devices "
                   "with -device; use if=none)", iface);
        return NULL;
    }
    if (format && !g_str_equal(format, "raw")) {
        error_setg(errp, "Unknown driver '%s'", format);
        return NULL;
    }
    if (!file || !*file) {
        error_setg(errp, "A block device must be specified for \"file\"");
        return NULL;
    }
    if (cache && !parse_cache_mode(cache, &o, errp)) {
        return NULL;
    }
    if (!get_bool(opts, "readonly", &o.read_only, errp)) {
        return NULL;
    }
    if (id && block_name_in_use(id)) {
        error_setg(errp, blk_by_name(id)->is_drive
                   ? "Duplicate ID '%s' for drive"
                   : "Device name '%s' conflicts with an existing node name",
                   id);
        return NULL;
    }
    if (!id) {
        id = drive_default_id();
    }
    if (!format) {
        warn_report("Image format was not specified for '%s' and probing "
                    "guessed raw; specify format=raw to remove this warning",
                    file);
    }

    /* The raw node over an inline file node, as a -blockdev would say. */
    raw = g_new0(KeyValList, 1);
    raw->items = g_ptr_array_new_with_free_func(keyvalue_free);
    forward(raw, opts, "discard", "discard");
    forward(raw, opts, "auto-read-only", "auto-read-only");
    forward(raw, opts, "force-share", "force-share");
    forward(raw, opts, "aio", "file.aio");
    forward(raw, opts, "cache.direct", "cache.direct");
    forward(raw, opts, "cache.no-flush", "cache.no-flush");
    for (guint i = 0; i < opts->items->len; i++) {
        const KeyValue *kv = g_ptr_array_index(opts->items, i);

        if (g_str_has_prefix(kv->key, "file.")) {
            forward(raw, opts, kv->key, kv->key);
        }
    }
    {
        KeyValue *d = g_new(KeyValue, 1), *f = g_new(KeyValue, 1);

        d->key = g_strdup("file.driver");
        d->value = g_strdup("file");
        f->key = g_strdup("file.filename");
        f->value = g_strdup(file);
        g_ptr_array_add(raw->items, d);
        g_ptr_array_add(raw->items, f);
    }
    blk = open_raw_node(raw, &o, errp);
    if (!blk) {
        return NULL;
    }
    blk->name = g_steal_pointer(&id);
    blk->is_drive = true;
    block_node_register(blk);
    return blk;
}
