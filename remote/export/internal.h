/*
 * Export types (remote/export/export.c lists them).
 */
#ifndef REMOTE_EXPORT_INTERNAL_H
#define REMOTE_EXPORT_INTERNAL_H

#include "remote/export.h"
#include "qemu-remote/iothread.h"

/*
 * iothread-vq-mapping.c: fills @vq_iothread[0..@num_queues-1] with the
 * iothread of each queue that the non-empty @list (the export option)
 * assigns, explicitly (every entry lists its vqs) or round-robin (none
 * does).  Fails, with a message naming the option, on an unknown
 * iothread, an iothread named twice, vqs given for some entries only, a
 * queue index >= @num_queues, a queue listed twice or a queue left out;
 * @vq_iothread is then partly filled.
 */
bool iothread_vq_mapping_apply(const IOThreadVirtQueueMappingList *list,
                               unsigned num_queues, IOThread **vq_iothread,
                               GError **errp);

/* vhost-user-blk.c */
extern const BlockExportDriver block_export_vhost_user_blk;

#endif
