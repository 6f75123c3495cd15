/*
 * Block exports: a block node served to a client outside the process —
 * today a virtio block device over vhost-user (qemu-storage-daemon's
 * "--export type=vhost-user-blk").  Created by "-export", the vhost-user
 * backend program options ("--socket-path ... --blk-file ...") or QMP
 * block-export-add; listed by query-block-exports; removed by
 * block-export-del or at exit.
 *
 * Threads: everything here runs on the main thread.
 */
#ifndef REMOTE_EXPORT_H
#define REMOTE_EXPORT_H

#include "qemu-remote/osdep.h"
#include "qapi/qapi-types.h"

typedef struct BlockExport BlockExport;

/* One export type. */
typedef struct BlockExportDriver {
    BlockExportType type;
    size_t instance_size;       /* starts with a BlockExport */
    /* Validates @opts (type-specific part included) and starts serving.
     * On failure releases what it took; the caller frees @exp. */
    bool (*create)(BlockExport *exp, const BlockExportOptions *opts,
                   GError **errp);
    /* True while a client is connected. */
    bool (*in_use)(BlockExport *exp);
    /* Disconnects the client (its requests drained first), stops serving
     * and releases everything create() took. */
    void (*destroy)(BlockExport *exp);
} BlockExportDriver;

struct BlockExport {
    const BlockExportDriver *drv;
    char *id;
    char *node_name;
    bool shutting_down;
};

/*
 * Creates an export (block-export-add).  Fails when the id is taken, the
 * node does not exist, or the type rejects the options.
 */
bool block_export_add(const BlockExportOptions *opts, GError **errp);

/*
 * "-export [type=]vhost-user-blk,id=ID,node-name=NODE,..." — the same
 * members as block-export-add in key=value form, parsed by the QAPI keyval
 * visitor.
 */
bool block_export_add_keyval(const char *optarg, GError **errp);

/*
 * Removes export @id (block-export-del); BLOCK_EXPORT_DELETED follows.
 * With BLOCK_EXPORT_REMOVE_MODE_SAFE fails while a client is connected.
 */
bool block_export_del(const char *id, BlockExportRemoveMode mode,
                      GError **errp);

/* Removes every export, disconnecting clients (at exit). */
void block_export_del_all(void);

/* The export named @id, or NULL. */
BlockExport *block_export_find(const char *id);

/*
 * The vhost-user backend program conventions (docs/vhost-user.md):
 * option handlers for "--socket-path", "--fd", "--blk-file",
 * "--read-only" and "--print-capabilities", in remote/export/.
 */
bool backend_program_print_capabilities(GError **errp);
bool backend_program_set(const char *name, const char *value, GError **errp);
/* Creates the block node and the export the options describe; does
 * nothing when none was given.  Idempotent. */
bool backend_program_start(GError **errp);

#endif
