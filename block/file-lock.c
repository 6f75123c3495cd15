/*
 * Image locking compatible with QEMU's file-posix driver, so qemu-remote,
 * QEMU and qemu-img/qemu-io running on one host see each other's use of an
 * image.  With open-file-description (OFD) locks on the image itself:
 *  - a shared lock on byte 100 + n for each permission n a user holds,
 *  - a shared lock on byte 200 + n for each permission n it does not let
 *    others have.
 * Taking permission n conflicts with anyone's lock on 200 + n; refusing to
 * share n conflicts with anyone's lock on 100 + n.  (Observed on QEMU 7.2:
 * a writable virtio-blk drive holds 100, 101 and 201.)
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "block-int.h"

#include <fcntl.h>

#define LOCK_PERM_BASE   100
#define LOCK_SHARED_BASE 200
#define LOCK_NBITS       4

static const char *const perm_names[LOCK_NBITS] = {
    "consistent read", "write", "write unchanged", "resize",
};

static int ofd_lock(int fd, short type, off_t start, off_t len)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = start, .l_len = len, .l_type = type,
    };

    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* True when another open file description holds a lock on byte @off. */
static bool ofd_locked_by_other(int fd, off_t off, int *err)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = off, .l_len = 1, .l_type = F_WRLCK,
    };

    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        *err = errno;
        return true;
    }
    *err = 0;
    return fl.l_type != F_UNLCK;
}

void block_file_unlock(BlockBackend *f)
{
    if (!f->locked_perm && !f->locked_unshared) {
        return;
    }
    ofd_lock(f->fd, F_UNLCK, LOCK_PERM_BASE, LOCK_NBITS);
    ofd_lock(f->fd, F_UNLCK, LOCK_SHARED_BASE, LOCK_NBITS);
    f->locked_perm = 0;
    f->locked_unshared = 0;
}

static void conflict_error(BlockBackend *f, bool shared, unsigned bit,
                           int err, GError **errp)
{
    if (err) {
        error_setg_errno(errp, err, "Failed to check lock byte %u of '%s'",
                         (shared ? LOCK_PERM_BASE : LOCK_SHARED_BASE) + bit,
                         f->filename);
        return;
    }
    error_setg(errp, "Failed to get %s\"%s\" lock\n"
               "Is another process using the image [%s]?",
               shared ? "shared " : "", perm_names[bit], f->filename);
}

bool block_file_lock(BlockBackend *f, unsigned perm, unsigned unshared,
                     GError **errp)
{
    int err;

    if (!f->locking) {
        return true;
    }
    for (unsigned bit = 0; bit < LOCK_NBITS; bit++) {
        if (((perm >> bit) & 1) &&
            (err = ofd_lock(f->fd, F_RDLCK, LOCK_PERM_BASE + bit, 1)) < 0) {
            error_setg_errno(errp, -err, "Failed to lock byte %u of '%s'",
                             LOCK_PERM_BASE + bit, f->filename);
            goto fail;
        }
        f->locked_perm |= perm & (1u << bit);
        if (((unshared >> bit) & 1) &&
            (err = ofd_lock(f->fd, F_RDLCK, LOCK_SHARED_BASE + bit, 1)) < 0) {
            error_setg_errno(errp, -err, "Failed to lock byte %u of '%s'",
                             LOCK_SHARED_BASE + bit, f->filename);
            goto fail;
        }
        f->locked_unshared |= unshared & (1u << bit);
    }
    for (unsigned bit = 0; bit < LOCK_NBITS; bit++) {
        if (((perm >> bit) & 1) &&
            ofd_locked_by_other(f->fd, LOCK_SHARED_BASE + bit, &err)) {
            conflict_error(f, false, bit, err, errp);
            goto fail;
        }
        if (((unshared >> bit) & 1) &&
            ofd_locked_by_other(f->fd, LOCK_PERM_BASE + bit, &err)) {
            conflict_error(f, true, bit, err, errp);
            goto fail;
        }
    }
    qr_log_mask(LOG_BLOCK, "block: locked '%s' perm 0x%x unshared 0x%x",
                f->filename, perm, unshared);
    return true;

fail:
    block_file_unlock(f);
    return false;
}
