/*
 * Export types (remote/export/export.c lists them).
 */
#ifndef REMOTE_EXPORT_INTERNAL_H
#define REMOTE_EXPORT_INTERNAL_H

#include "remote/export.h"

/* vhost-user-blk.c */
extern const BlockExportDriver block_export_vhost_user_blk;

#endif
