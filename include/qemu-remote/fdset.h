/*
 * File descriptor sets: resources handed over as inherited fds, so that a
 * privileged launcher opens them and qemu-remote never needs the
 * filesystem.  "-add-fd fd=M,set=N[,opaque=TEXT]" puts inherited fd M into
 * set N, and any file name "/dev/fdset/N" then opens by duplicating an fd
 * of set N whose access mode matches, as QEMU does (a set may hold a
 * read-only and a read-write fd of one image).
 *
 * Main thread only.
 */
#ifndef QEMU_REMOTE_FDSET_H
#define QEMU_REMOTE_FDSET_H

#include "qemu-remote/osdep.h"

/*
 * "-add-fd fd=M,set=N[,opaque=TEXT]": M must be open and not 0, 1 or 2;
 * it becomes close-on-exec and belongs to the set from now on.  Fails on
 * a bad or missing number, an fd that is not open, or an fd given twice.
 */
bool fdset_add_option(const char *arg, GError **errp);

/*
 * open(2) that also understands "/dev/fdset/N": returns a new
 * close-on-exec duplicate of an fd in set N opened with the access mode
 * of @flags (O_RDONLY, O_WRONLY or O_RDWR), with O_DIRECT and O_NONBLOCK
 * from @flags applied; -1 with errno ENOENT when set N does not exist or
 * N is not a number, EACCES when no fd in it has that access mode.  Any
 * other path is passed to open(2) with @flags | O_CLOEXEC and @mode.
 */
int qemu_open(const char *path, int flags, mode_t mode);

/*
 * Closes every fd still in a set (the duplicates qemu_open() returned
 * stay open).  Called once start-up is over: nothing can open a
 * /dev/fdset name after that.
 */
void fdset_close_all(void);

#endif
