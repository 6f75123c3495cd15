/*
 * Block layer: named block nodes opened from "-blockdev" / "-drive", with
 * asynchronous I/O for device models.
 *
 * This header is the contract the command line (remote/vl.c) and devices
 * use; the I/O interface below is completed by the block layer's owner.
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include "qemu-remote/osdep.h"
#include "qemu-remote/option.h"
#include "hw/qdev.h"

typedef struct BlockBackend BlockBackend;

/*
 * "-blockdev driver=file,node-name=N,filename=F[,read-only=on]
 * [,cache.direct=on][,locking=on|off|auto][,discard=ignore|unmap]" and
 * "driver=raw,node-name=N,file=CHILD" on top of a file node.
 * Returns the new node, or NULL with @errp set.
 */
BlockBackend *blockdev_add_keyval(const KeyValList *opts, GError **errp);

/* "-drive if=none,id=ID,file=F,format=raw[,readonly=on][,cache=...]". */
BlockBackend *drive_add_keyval(const KeyValList *opts, GError **errp);

/* A node by node-name (or -drive id); NULL if none. */
BlockBackend *blk_by_name(const char *name);

/* Closes every node (at exit, after devices are gone). */
void blockdev_close_all(void);

/* Device property "drive=NODE": a BlockBackend * field. */
extern const PropertyInfo prop_info_drive;

#endif
