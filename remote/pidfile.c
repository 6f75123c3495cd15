/*
 * "-pidfile FILE": the daemon's pid in FILE, locked for the life of the
 * process so that a second instance with the same FILE fails instead of
 * overwriting it, and removed at exit.
 *
 * As QEMU does, an existing FILE that nobody holds locked is stale (its
 * process is gone) and is taken over.  The lock is an open file
 * description lock on our own open of FILE; after locking, FILE must still
 * be the inode we locked, or a process that was removing it at that moment
 * won the race and we try again.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/sandbox.h"
#include "cmdline.h"
#include "vl.h"

#include <fcntl.h>
#include <sys/stat.h>

/* A racing remover can make us retry; more than this many is not a race. */
#define PIDFILE_LOCK_ATTEMPTS 10

static char *pidfile_path; /* absolute: the daemon changes to / */
static int pidfile_fd = -1;

bool opt_pidfile(OptionPhase phase, const char *arg, GError **errp)
{
    g_free(pidfile_path);
    pidfile_path = g_canonicalize_filename(arg, NULL);
    return true;
}

static bool same_inode(int fd, const char *path)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Opens and locks the pidfile; returns the fd, or -1 with @errp set. */
static int open_locked(const char *path, GError **errp)
{
    struct flock lock = {
        .l_type = F_WRLCK,
        .l_whence = SEEK_SET,
    };

    for (int i = 0; i < PIDFILE_LOCK_ATTEMPTS; i++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

        if (fd < 0) {
            error_setg_errno(errp, errno, "cannot create PID file: Could "
                             "not create '%s'", path);
            return -1;
        }
        if (fcntl(fd, F_OFD_SETLK, &lock) < 0) {
            error_setg_errno(errp, errno, "cannot create PID file: Cannot "
                             "lock pid file");
            close(fd);
            return -1;
        }
        if (same_inode(fd, path)) {
            return fd;
        }
        close(fd);
    }
    error_setg(errp, "cannot create PID file: '%s' keeps being replaced",
               path);
    return -1;
}

bool pidfile_create(GError **errp)
{
    g_autofree char *text = NULL;
    int fd;

    if (!pidfile_path) {
        return true;
    }
    /* Removed at exit. */
    if (!sandbox_require(&sandbox_remove_files_policy, errp)) {
        return false;
    }
    fd = open_locked(pidfile_path, errp);
    if (fd < 0) {
        return false;
    }
    text = g_strdup_printf("%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 ||
        pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text)) {
        error_setg_errno(errp, errno, "cannot write PID file '%s'",
                         pidfile_path);
        /* Ours and empty or partial: remove it. */
        unlink(pidfile_path);
        close(fd);
        return false;
    }
    pidfile_fd = fd;
    return true;
}

void pidfile_remove(void)
{
    if (pidfile_fd >= 0) {
        /* Still locked by us, so nobody else can have taken it over. */
        if (same_inode(pidfile_fd, pidfile_path)) {
            unlink(pidfile_path);
        }
        close(pidfile_fd);
        pidfile_fd = -1;
    }
    g_clear_pointer(&pidfile_path, g_free);
}
