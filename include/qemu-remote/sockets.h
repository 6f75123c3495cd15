/*
 * UNIX socket helpers shared by every listener (QMP, vhost-user exports).
 */
#ifndef QEMU_REMOTE_SOCKETS_H
#define QEMU_REMOTE_SOCKETS_H

#include "qemu-remote/osdep.h"

#include <sys/socket.h>

/*
 * Creates a listening SOCK_STREAM socket (close-on-exec, non-blocking) at
 * @path with @backlog.  A stale socket file at @path (nothing accepts on it)
 * is replaced, as QEMU does; a live one, or a file that is not a socket, is
 * an error.  The socket file appears only once the socket is listening (it
 * is bound under a temporary name and renamed into place), so a client
 * that connects as soon as the file exists is never refused.
 * Returns the fd, or -1 with @errp set.
 */
int unix_socket_listen(const char *path, int backlog, GError **errp);

/* Bytes of control buffer that unix_socket_attach_fds() needs for @n fds. */
#define UNIX_SOCKET_FDS_SPACE(n) CMSG_SPACE(sizeof(int) * (n))

/*
 * Attaches @nfds (> 0) file descriptors to @mh as one SCM_RIGHTS message
 * built in @control, a cmsghdr-aligned buffer of at least
 * UNIX_SOCKET_FDS_SPACE(@nfds) bytes that must live until sendmsg().
 */
void unix_socket_attach_fds(struct msghdr *mh, void *control,
                            const int *fds, unsigned nfds);

#endif
