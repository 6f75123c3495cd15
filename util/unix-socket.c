/*
 * UNIX socket helpers (see include/qemu-remote/sockets.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/sockets.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static bool fill_addr(struct sockaddr_un *addr, const char *path)
{
    if (strlen(path) >= sizeof(addr->sun_path)) {
        return false;
    }
    addr->sun_family = AF_UNIX;
    strcpy(addr->sun_path, path);
    return true;
}

/* True when something accepts connections at @addr. */
static bool socket_in_use(const struct sockaddr_un *addr)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool used;

    if (fd < 0) {
        return false;
    }
    used = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
    close(fd);
    return used;
}

int unix_socket_listen(const char *path, int backlog, GError **errp)
{
    struct sockaddr_un addr = { 0 }, tmp_addr = { 0 };
    g_autofree char *tmp = g_strdup_printf("%s.%d.tmp", path, getpid());
    const char *bind_path;
    struct stat st;
    int fd;

    if (!fill_addr(&addr, path)) {
        error_setg(errp, "UNIX socket path '%s' is too long (at most %zu "
                   "bytes)", path, sizeof(addr.sun_path) - 1);
        return -1;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            error_setg(errp, "Failed to bind socket to %s: a file that is "
                       "not a socket exists there", path);
            return -1;
        }
        if (socket_in_use(&addr)) {
            error_setg(errp, "Failed to bind socket to %s: another process "
                       "is listening on it", path);
            return -1;
        }
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create a UNIX socket");
        return -1;
    }
    /* A path too long for the temporary name binds in place instead. */
    bind_path = fill_addr(&tmp_addr, tmp) ? tmp : path;
    if (bind_path == tmp) {
        unlink(tmp);
    } else {
        unlink(path);
    }
    if (bind(fd, (struct sockaddr *)(bind_path == tmp ? &tmp_addr : &addr),
             sizeof(addr)) < 0) {
        error_setg_errno(errp, errno, "Failed to bind socket to %s", path);
        close(fd);
        return -1;
    }
    if (listen(fd, backlog) < 0 ||
        (bind_path == tmp && rename(tmp, path) < 0)) {
        error_setg_errno(errp, errno, "Failed to listen on %s", path);
        unlink(bind_path);
        close(fd);
        return -1;
    }
    return fd;
}

void unix_socket_attach_fds(struct msghdr *mh, void *control,
                            const int *fds, unsigned nfds)
{
    struct cmsghdr *c;

    memset(control, 0, UNIX_SOCKET_FDS_SPACE(nfds));
    mh->msg_control = control;
    mh->msg_controllen = UNIX_SOCKET_FDS_SPACE(nfds);
    c = CMSG_FIRSTHDR(mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
}
