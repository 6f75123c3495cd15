/*
 * Block export registry, QMP commands and "-export" (see
 * include/remote/export.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/option.h"
#include "remote/export.h"
#include "remote/export/internal.h"
#include "qapi/qapi-commands.h"
#include "qapi/qapi-events.h"
#include "qapi/qapi-visit.h"

static const BlockExportDriver *const drivers[] = {
    &block_export_vhost_user_blk,
};

/* In creation order (query-block-exports lists them so). */
static GPtrArray *exports;

static const BlockExportDriver *find_driver(BlockExportType type)
{
    for (size_t i = 0; i < G_N_ELEMENTS(drivers); i++) {
        if (drivers[i]->type == type) {
            return drivers[i];
        }
    }
    return NULL;
}

BlockExport *block_export_find(const char *id)
{
    for (guint i = 0; exports && i < exports->len; i++) {
        BlockExport *exp = g_ptr_array_index(exports, i);

        if (g_str_equal(exp->id, id)) {
            return exp;
        }
    }
    return NULL;
}

bool block_export_add(const BlockExportOptions *opts, GError **errp)
{
    const BlockExportDriver *drv = find_driver(opts->type);
    BlockExport *exp;

    if (!drv) {
        error_setg(errp, "export type '%s' is not supported",
                   BlockExportType_str(opts->type));
        return false;
    }
    if (!*opts->id) {
        error_setg(errp, "export id must not be empty");
        return false;
    }
    if (block_export_find(opts->id)) {
        error_setg(errp, "Block export id '%s' is already in use", opts->id);
        return false;
    }
    exp = g_malloc0(drv->instance_size);
    exp->drv = drv;
    exp->id = g_strdup(opts->id);
    exp->node_name = g_strdup(opts->node_name);
    if (!drv->create(exp, opts, errp)) {
        g_free(exp->id);
        g_free(exp->node_name);
        g_free(exp);
        return false;
    }
    if (!exports) {
        exports = g_ptr_array_new();
    }
    g_ptr_array_add(exports, exp);
    return true;
}

bool block_export_add_keyval(const char *optarg, GError **errp)
{
    g_autoptr(KeyValList) kv = keyval_parse(optarg, "type", errp);
    g_autoptr(JsonNode) json = NULL;
    g_autoptr(BlockExportOptions) opts = NULL;

    if (!kv) {
        return false;
    }
    json = keyval_to_json(kv, errp);
    if (!json ||
        !qapi_from_json_BlockExportOptions(json, QAPI_INPUT_KEYVAL, &opts,
                                           errp)) {
        return false;
    }
    return block_export_add(opts, errp);
}

static void export_remove(BlockExport *exp)
{
    g_autofree char *id = g_strdup(exp->id);

    exp->shutting_down = true;
    exp->drv->destroy(exp);
    g_ptr_array_remove(exports, exp);
    g_free(exp->id);
    g_free(exp->node_name);
    g_free(exp);
    qapi_event_send_block_export_deleted(id);
}

bool block_export_del(const char *id, BlockExportRemoveMode mode,
                      GError **errp)
{
    BlockExport *exp = block_export_find(id);

    if (!exp) {
        error_setg(errp, "Export '%s' is not found", id);
        return false;
    }
    if (mode == BLOCK_EXPORT_REMOVE_MODE_SAFE && exp->drv->in_use(exp)) {
        error_setg(errp, "export '%s' still in use (use mode 'hard' to "
                   "disconnect its client)", id);
        return false;
    }
    export_remove(exp);
    return true;
}

void block_export_del_all(void)
{
    while (exports && exports->len) {
        export_remove(g_ptr_array_index(exports, exports->len - 1));
    }
    g_clear_pointer(&exports, g_ptr_array_unref);
}

bool qmp_block_export_add(const BlockExportOptions *arg, GError **errp)
{
    return block_export_add(arg, errp);
}

bool qmp_block_export_del(const char *id, bool has_mode,
                          BlockExportRemoveMode mode, GError **errp)
{
    return block_export_del(id, has_mode ? mode
                                         : BLOCK_EXPORT_REMOVE_MODE_SAFE,
                            errp);
}

bool qmp_query_block_exports(BlockExportInfoList **ret, GError **errp)
{
    BlockExportInfoList **tail = ret;

    *ret = NULL;
    for (guint i = 0; exports && i < exports->len; i++) {
        BlockExport *exp = g_ptr_array_index(exports, i);
        BlockExportInfoList *cell = g_new0(BlockExportInfoList, 1);
        BlockExportInfo *info = g_new0(BlockExportInfo, 1);

        info->id = g_strdup(exp->id);
        info->type = exp->drv->type;
        info->node_name = g_strdup(exp->node_name);
        info->shutting_down = exp->shutting_down;
        cell->value = info;
        *tail = cell;
        tail = &cell->next;
    }
    return true;
}
