/*
 * The node registry, node properties, device attachment and the "drive="
 * device property (see include/block/block.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "block-int.h"

/* Every open node, named or not, in creation order; main thread only. */
static GPtrArray *nodes;

void block_node_register(BlockBackend *blk)
{
    if (!nodes) {
        nodes = g_ptr_array_new();
    }
    g_ptr_array_add(nodes, blk);
}

bool block_name_in_use(const char *name)
{
    return blk_by_name(name) != NULL;
}

BlockBackend *blk_by_name(const char *name)
{
    for (guint i = 0; nodes && i < nodes->len; i++) {
        BlockBackend *blk = g_ptr_array_index(nodes, i);

        if (blk->name && g_str_equal(blk->name, name)) {
            return blk;
        }
    }
    return NULL;
}

void block_node_close(BlockBackend *blk)
{
    BlockBackend *child = NULL;

    if (nodes) {
        g_ptr_array_remove(nodes, blk);
    }
    if (blk->kind == BLOCK_NODE_RAW) {
        child = blk->child;
        child->parents--;
        g_free(blk->name);
        g_free(blk);
    } else {
        g_free(blk->name);
        blk->name = NULL;
        block_file_close(blk);
    }
    /* An anonymous child lives only as long as its parent. */
    if (child && !child->name && child->parents == 0) {
        block_node_close(child);
    }
}

void blockdev_close_all(void)
{
    /* Parents first: close from the newest node down. */
    while (nodes && nodes->len > 0) {
        /* A node's parents were created after it, so they are gone. */
        block_node_close(g_ptr_array_index(nodes, nodes->len - 1));
    }
    g_clear_pointer(&nodes, g_ptr_array_unref);
}

const char *blk_name(const BlockBackend *blk)
{
    return blk->name ? blk->name : "";
}

uint64_t blk_getlength(const BlockBackend *blk)
{
    return blk->size;
}

bool blk_is_read_only(const BlockBackend *blk)
{
    return blk->read_only;
}

bool blk_enable_write_cache(const BlockBackend *blk)
{
    return blk->write_cache;
}

static const BlockBackend *file_of(const BlockBackend *blk)
{
    return blk->kind == BLOCK_NODE_RAW ? blk->child : blk;
}

uint32_t blk_get_request_alignment(const BlockBackend *blk)
{
    return file_of(blk)->req_align;
}

bool blk_discard_unmaps(const BlockBackend *blk)
{
    return blk->discard_unmap;
}

bool blk_attach_dev(BlockBackend *blk, Device *dev, bool writable,
                    bool share_rw, GError **errp)
{
    BlockBackend *file = (BlockBackend *)file_of(blk);
    unsigned perm = BLOCK_PERM_CONSISTENT_READ;
    unsigned unshared = 0;

    if (blk->dev) {
        error_setg(errp, "Drive '%s' is already in use by device '%s'",
                   blk_name(blk), blk->dev->id ? blk->dev->id
                                               : blk->dev->type->name);
        return false;
    }
    if (blk->parents > 0) {
        error_setg(errp, "Node '%s' is in use as the file of another node",
                   blk_name(blk));
        return false;
    }
    if (writable && blk->read_only) {
        error_setg(errp, "Block node '%s' is read-only", blk_name(blk));
        return false;
    }
    if (writable) {
        perm |= BLOCK_PERM_WRITE;
    }
    /* Like QEMU's block devices: others may read, and resize or write
     * without changing data, but not write unless share-rw=on. */
    if (!share_rw && !blk->force_share && !file->force_share) {
        unshared = BLOCK_PERM_WRITE;
    }
    if (!block_file_lock(file, perm, unshared, errp)) {
        return false;
    }
    blk->dev = dev;
    return true;
}

void blk_detach_dev(BlockBackend *blk, Device *dev)
{
    if (blk->dev != dev) {
        return;
    }
    block_file_unlock((BlockBackend *)file_of(blk));
    blk->dev = NULL;
}

static bool parse_drive(void *field, const DeviceProperty *prop,
                        const char *value, GError **errp)
{
    BlockBackend *blk = blk_by_name(value);

    if (!blk) {
        error_setg(errp, "Cannot find device='%s' nor node-name='%s'", value,
                   value);
        return false;
    }
    *(BlockBackend **)field = blk;
    return true;
}

const PropertyInfo prop_info_drive = {
    .type_name = "str",
    .parse = parse_drive,
};
