/*
 * mpqemu message I/O on a stream socket (see include/remote/mpqemu.h).
 *
 * QEMU sends header and payload in one sendmsg() with the fds attached, and
 * receives fds only with the header (mpqemu.md 1.3); we do the same.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "remote/mpqemu.h"
#include "qemu-remote/sockets.h"

#include <sys/socket.h>

static const char *const cmd_names[MPQEMU_CMD_MAX] = {
    [MPQEMU_CMD_SYNC_SYSMEM] = "SYNC_SYSMEM",
    [MPQEMU_CMD_RET] = "RET",
    [MPQEMU_CMD_PCI_CFGWRITE] = "PCI_CFGWRITE",
    [MPQEMU_CMD_PCI_CFGREAD] = "PCI_CFGREAD",
    [MPQEMU_CMD_BAR_WRITE] = "BAR_WRITE",
    [MPQEMU_CMD_BAR_READ] = "BAR_READ",
    [MPQEMU_CMD_SET_IRQFD] = "SET_IRQFD",
    [MPQEMU_CMD_DEVICE_RESET] = "DEVICE_RESET",
};

const char *mpqemu_cmd_name(int32_t cmd)
{
    return cmd >= 0 && cmd < MPQEMU_CMD_MAX ? cmd_names[cmd] : "unknown";
}

void mpqemu_msg_close_fds(MPQemuMsg *msg)
{
    for (unsigned i = 0; i < msg->nfds; i++) {
        close(msg->fds[i]);
    }
    msg->nfds = 0;
}

typedef union {
    char buf[CMSG_SPACE(sizeof(int) * MPQEMU_MAX_FDS)];
    struct cmsghdr align;
} MPQemuControl;

/* Moves the fds of @mh into @msg; fails (closing the excess) on control
 * data that is not SCM_RIGHTS or on more than MPQEMU_MAX_FDS in total. */
static bool collect_fds(struct msghdr *mh, MPQemuMsg *msg, GError **errp)
{
    bool ok = true;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        size_t n;
        int *fds = (int *)CMSG_DATA(c);

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            error_setg(errp, "unexpected control message (level %d type %d)",
                       c->cmsg_level, c->cmsg_type);
            ok = false;
            continue;
        }
        n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            if (msg->nfds < MPQEMU_MAX_FDS) {
                msg->fds[msg->nfds++] = fds[i];
            } else {
                close(fds[i]);
                if (ok) {
                    error_setg(errp, "more than %d fds", MPQEMU_MAX_FDS);
                    ok = false;
                }
            }
        }
    }
    return ok;
}

/*
 * Reads exactly @len bytes into @buf.  @allow_fds: fds arriving with these
 * bytes are kept in @msg (header); otherwise they are an error.  *@eof_at_start
 * (if not NULL) is set when the peer closed before the first byte.
 */
static bool read_full(int sock, void *buf, size_t len, MPQemuMsg *msg,
                      bool allow_fds, bool *eof_at_start, const char *what,
                      GError **errp)
{
    size_t got = 0;

    while (got < len) {
        struct iovec iov = {
            .iov_base = (char *)buf + got,
            .iov_len = len - got,
        };
        MPQemuControl control;
        struct msghdr mh = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = control.buf,
            .msg_controllen = sizeof(control.buf),
        };
        unsigned before = msg->nfds;
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            error_setg_errno(errp, errno, "cannot read %s", what);
            return false;
        }
        if (!collect_fds(&mh, msg, errp)) {
            return false;
        }
        if (mh.msg_flags & MSG_CTRUNC) {
            error_setg(errp, "more than %d fds with the %s (control data "
                       "truncated)", MPQEMU_MAX_FDS, what);
            return false;
        }
        if (!allow_fds && msg->nfds != before) {
            error_setg(errp, "fds attached to the %s", what);
            return false;
        }
        if (n == 0) {
            if (got == 0 && eof_at_start) {
                *eof_at_start = true;
                return false;
            }
            error_setg(errp, "end of file inside the %s (%zu of %zu bytes)",
                       what, got, len);
            return false;
        }
        got += n;
    }
    return true;
}

MPQemuRecv mpqemu_msg_recv(int sock, MPQemuMsg *msg, GError **errp)
{
    bool eof = false;

    msg->nfds = 0;
    if (!read_full(sock, &msg->hdr, sizeof(msg->hdr), msg, true, &eof,
                   "message header", errp)) {
        if (eof && msg->nfds == 0) {
            return MPQEMU_RECV_EOF;
        }
        if (eof) {
            error_setg(errp, "end of file after fds without a header");
        }
        goto fail;
    }
    if (msg->hdr.size > MPQEMU_MAX_PAYLOAD) {
        error_setg(errp, "%s: payload size %" PRIu64 " exceeds the maximum "
                   "%zu", mpqemu_cmd_name(msg->hdr.cmd), msg->hdr.size,
                   MPQEMU_MAX_PAYLOAD);
        goto fail;
    }
    memset(&msg->data, 0, sizeof(msg->data));
    if (!read_full(sock, &msg->data, msg->hdr.size, msg, false, NULL,
                   "message payload", errp)) {
        goto fail;
    }
    return MPQEMU_RECV_OK;

fail:
    mpqemu_msg_close_fds(msg);
    return MPQEMU_RECV_ERROR;
}

bool mpqemu_msg_send_raw(int sock, const MPQemuHeader *hdr,
                         const void *payload, size_t len, const int *fds,
                         unsigned nfds, GError **errp)
{
    struct iovec iov[2] = {
        { .iov_base = (void *)hdr, .iov_len = sizeof(*hdr) },
        { .iov_base = (void *)payload, .iov_len = len },
    };
    struct iovec *cur = iov;
    int niov = len ? 2 : 1;
    MPQemuControl control;
    bool with_fds = nfds > 0;

    if (nfds > MPQEMU_MAX_FDS) {
        error_setg(errp, "cannot send %u fds (at most %d)", nfds,
                   MPQEMU_MAX_FDS);
        return false;
    }
    while (niov > 0) {
        struct msghdr mh = { .msg_iov = cur, .msg_iovlen = niov };
        ssize_t n;

        if (with_fds) {
            unix_socket_attach_fds(&mh, control.buf, fds, nfds);
        }
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            error_setg_errno(errp, errno, "cannot send %s",
                             mpqemu_cmd_name(hdr->cmd));
            return false;
        }
        /* The fds went with the first byte; the rest is plain data. */
        with_fds = false;
        while (niov > 0 && (size_t)n >= cur->iov_len) {
            n -= cur->iov_len;
            cur++;
            niov--;
        }
        if (niov > 0) {
            cur->iov_base = (char *)cur->iov_base + n;
            cur->iov_len -= n;
        }
    }
    return true;
}

bool mpqemu_msg_send(int sock, MPQemuCmd cmd, const void *payload,
                     size_t len, const int *fds, unsigned nfds,
                     GError **errp)
{
    MPQemuHeader hdr = { .cmd = cmd, .size = len };

    return mpqemu_msg_send_raw(sock, &hdr, payload, len, fds, nfds, errp);
}
