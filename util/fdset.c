/*
 * File descriptor sets (see include/qemu-remote/fdset.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/fdset.h"
#include "qemu-remote/log.h"
#include "qemu-remote/option.h"

#include <fcntl.h>

#define FDSET_PREFIX "/dev/fdset/"

typedef struct FdSetEntry {
    int fd;
    uint64_t set;
    char *opaque;
} FdSetEntry;

static GArray *entries; /* of FdSetEntry */

bool fdset_add_option(const char *arg, GError **errp)
{
    static const char *const allowed[] = { "fd", "set", "opaque", NULL };
    g_autoptr(KeyValList) kv = keyval_parse(arg, NULL, errp);
    const char *fd_str, *set_str;
    FdSetEntry e = { 0 };
    uint64_t fd;

    if (!kv || !keyval_check_keys(kv, allowed, errp)) {
        return false;
    }
    fd_str = keyval_get(kv, "fd");
    set_str = keyval_get(kv, "set");
    if (!fd_str) {
        error_setg(errp, "fd option is required and must be non-negative");
        return false;
    }
    if (!set_str) {
        error_setg(errp, "set option is required and must be non-negative");
        return false;
    }
    if (!qemu_parse_uint(fd_str, &fd, NULL) || fd > INT_MAX) {
        error_setg(errp, "fd option is required and must be non-negative");
        return false;
    }
    if (fd <= STDERR_FILENO) {
        error_setg(errp, "fd cannot be a standard I/O stream");
        return false;
    }
    if (!qemu_parse_uint(set_str, &e.set, NULL)) {
        error_setg(errp, "set option is required and must be non-negative");
        return false;
    }
    for (guint i = 0; entries && i < entries->len; i++) {
        if (g_array_index(entries, FdSetEntry, i).fd == (int)fd) {
            error_setg(errp, "fd %d is already in fd set %" PRIu64, (int)fd,
                       g_array_index(entries, FdSetEntry, i).set);
            return false;
        }
    }
    if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) {
        error_setg(errp, "fd %d is not open", (int)fd);
        return false;
    }
    e.fd = (int)fd;
    e.opaque = g_strdup(keyval_get(kv, "opaque"));
    if (!entries) {
        entries = g_array_new(FALSE, FALSE, sizeof(FdSetEntry));
    }
    g_array_append_val(entries, e);
    qr_log_mask(LOG_SANDBOX, "fdset: fd %d in set %" PRIu64, e.fd, e.set);
    return true;
}

/* An fd of @set opened with the access mode of @flags; -1 and errno. */
static int find_fd(uint64_t set, int flags)
{
    bool set_exists = false;

    for (guint i = 0; entries && i < entries->len; i++) {
        FdSetEntry *e = &g_array_index(entries, FdSetEntry, i);
        int fl;

        if (e->set != set) {
            continue;
        }
        set_exists = true;
        fl = fcntl(e->fd, F_GETFL);
        if (fl >= 0 && (fl & O_ACCMODE) == (flags & O_ACCMODE)) {
            return e->fd;
        }
    }
    errno = set_exists ? EACCES : ENOENT;
    return -1;
}

static int open_fdset(const char *name, int flags)
{
    uint64_t set;
    int fd, dup_fd, fl;

    if (!qemu_parse_uint(name, &set, NULL)) {
        errno = ENOENT;
        return -1;
    }
    fd = find_fd(set, flags);
    if (fd < 0) {
        return -1;
    }
    dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) {
        return -1;
    }
    /* The status flags open() would have set (shared with the set's fd,
     * as in QEMU). */
    fl = fcntl(dup_fd, F_GETFL);
    if (fl < 0 ||
        fcntl(dup_fd, F_SETFL, (fl & ~(O_DIRECT | O_NONBLOCK)) |
              (flags & (O_DIRECT | O_NONBLOCK))) < 0) {
        int saved = errno;

        close(dup_fd);
        errno = saved;
        return -1;
    }
    return dup_fd;
}

int qemu_open(const char *path, int flags, mode_t mode)
{
    if (g_str_has_prefix(path, FDSET_PREFIX)) {
        return open_fdset(path + strlen(FDSET_PREFIX), flags);
    }
    return open(path, flags | O_CLOEXEC, mode);
}

void fdset_close_all(void)
{
    for (guint i = 0; entries && i < entries->len; i++) {
        FdSetEntry *e = &g_array_index(entries, FdSetEntry, i);

        close(e->fd);
        g_free(e->opaque);
    }
    g_clear_pointer(&entries, g_array_unref);
}
