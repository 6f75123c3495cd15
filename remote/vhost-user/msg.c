/*
 * vhost-user message framing (see msg.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "remote/vhost-user/msg.h"
#include "qemu-remote/sockets.h"

#include <poll.h>
#include <sys/socket.h>

G_STATIC_ASSERT(sizeof(VhostUserHeader) == 12);
G_STATIC_ASSERT(sizeof(VhostUserVringState) == 8);
G_STATIC_ASSERT(sizeof(VhostUserVringAddr) == 40);
G_STATIC_ASSERT(sizeof(VhostUserMemoryRegion) == 32);
G_STATIC_ASSERT(sizeof(VhostUserMemRegMsg) == 40);
G_STATIC_ASSERT(sizeof(VhostUserLog) == 16);
G_STATIC_ASSERT(sizeof(VhostUserInflight) == 24);
G_STATIC_ASSERT(offsetof(VhostUserConfig, region) == VHOST_USER_CONFIG_HDR_SIZE);

#define HDR_SIZE sizeof(VhostUserHeader)

static const char *const request_names[VHOST_USER_REQUEST_MAX] = {
    [VHOST_USER_NONE] = "NONE",
    [VHOST_USER_GET_FEATURES] = "GET_FEATURES",
    [VHOST_USER_SET_FEATURES] = "SET_FEATURES",
    [VHOST_USER_SET_OWNER] = "SET_OWNER",
    [VHOST_USER_RESET_OWNER] = "RESET_OWNER",
    [VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
    [VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
    [VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
    [VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
    [VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
    [VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
    [VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
    [VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
    [VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
    [VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
    [VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
    [VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
    [VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
    [VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
    [VHOST_USER_SEND_RARP] = "SEND_RARP",
    [VHOST_USER_NET_SET_MTU] = "NET_SET_MTU",
    [VHOST_USER_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
    [VHOST_USER_IOTLB_MSG] = "IOTLB_MSG",
    [VHOST_USER_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
    [VHOST_USER_GET_CONFIG] = "GET_CONFIG",
    [VHOST_USER_SET_CONFIG] = "SET_CONFIG",
    [VHOST_USER_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
    [VHOST_USER_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
    [VHOST_USER_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
    [VHOST_USER_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
    [VHOST_USER_POSTCOPY_END] = "POSTCOPY_END",
    [VHOST_USER_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
    [VHOST_USER_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
    [VHOST_USER_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
    [VHOST_USER_RESET_DEVICE] = "RESET_DEVICE",
    [VHOST_USER_VRING_KICK] = "VRING_KICK",
    [VHOST_USER_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
    [VHOST_USER_ADD_MEM_REG] = "ADD_MEM_REG",
    [VHOST_USER_REM_MEM_REG] = "REM_MEM_REG",
    [VHOST_USER_SET_STATUS] = "SET_STATUS",
    [VHOST_USER_GET_STATUS] = "GET_STATUS",
};

const char *vhost_user_request_name(uint32_t request)
{
    if (request < VHOST_USER_REQUEST_MAX && request_names[request]) {
        return request_names[request];
    }
    return "UNKNOWN";
}

void vu_msg_close_fds(VuMsg *msg)
{
    for (unsigned i = 0; i < msg->nfds; i++) {
        if (msg->fds[i] >= 0) {
            close(msg->fds[i]);
        }
        msg->fds[i] = -1;
    }
    msg->nfds = 0;
}

void vu_msg_reset(VuMsgReader *r)
{
    vu_msg_close_fds(&r->msg);
    r->have = 0;
    memset(&r->msg.hdr, 0, sizeof(r->msg.hdr));
}

bool vu_msg_header_is_valid(const VhostUserHeader *hdr, GError **errp)
{
    const uint32_t known = VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK |
                           VHOST_USER_NEED_REPLY_MASK;

    if ((hdr->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
        error_setg(errp, "%s: unsupported protocol version %u",
                   vhost_user_request_name(hdr->request),
                   hdr->flags & VHOST_USER_VERSION_MASK);
        return false;
    }
    if (hdr->flags & ~known) {
        error_setg(errp, "%s: unknown header flags 0x%x",
                   vhost_user_request_name(hdr->request), hdr->flags & ~known);
        return false;
    }
    if (hdr->flags & VHOST_USER_REPLY_MASK) {
        error_setg(errp, "%s: a reply where a request was expected",
                   vhost_user_request_name(hdr->request));
        return false;
    }
    if (hdr->size > VHOST_USER_PAYLOAD_MAX) {
        error_setg(errp, "%s: payload size %u exceeds the limit of %u",
                   vhost_user_request_name(hdr->request), hdr->size,
                   VHOST_USER_PAYLOAD_MAX);
        return false;
    }
    return true;
}

/* Takes the fds of @mh's control data into @msg.  Every fd received is
 * either stored or closed, whatever the outcome. */
static bool take_fds(VuMsg *msg, struct msghdr *mh, GError **errp)
{
    bool ok = true;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        size_t n;
        int *fds;

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        fds = (int *)CMSG_DATA(c);
        for (size_t i = 0; i < n; i++) {
            if (msg->nfds < VHOST_USER_MAX_FDS) {
                msg->fds[msg->nfds++] = fds[i];
            } else {
                close(fds[i]);
                ok = false;
            }
        }
    }
    if (!ok || (mh->msg_flags & MSG_CTRUNC)) {
        error_setg(errp, "%s: more than %d fds",
                   vhost_user_request_name(msg->hdr.request),
                   VHOST_USER_MAX_FDS);
        return false;
    }
    return true;
}

VuReadResult vu_msg_read(int fd, VuMsgReader *r, GError **errp)
{
    /* Room for one more fd than allowed, so that excess is detected as
     * such rather than as truncation only. */
    union {
        char buf[CMSG_SPACE((VHOST_USER_MAX_FDS + 1) * sizeof(int))];
        struct cmsghdr align;
    } control;

    for (;;) {
        size_t want;
        uint8_t *dst;
        struct iovec iov;
        struct msghdr mh = { 0 };
        ssize_t n;

        if (r->have < HDR_SIZE) {
            want = HDR_SIZE - r->have;
            dst = (uint8_t *)&r->msg.hdr + r->have;
        } else if (r->have < HDR_SIZE + r->msg.hdr.size) {
            want = HDR_SIZE + r->msg.hdr.size - r->have;
            dst = r->msg.payload.bytes + (r->have - HDR_SIZE);
        } else {
            return VU_READ_DONE;
        }

        iov.iov_base = dst;
        iov.iov_len = want;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof(control.buf);
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return VU_READ_AGAIN;
            }
            error_setg_errno(errp, errno, "cannot read from the frontend");
            return VU_READ_ERROR;
        }
        if (!take_fds(&r->msg, &mh, errp)) {
            return VU_READ_ERROR;
        }
        if (n == 0) {
            if (r->have == 0 && r->msg.nfds == 0) {
                return VU_READ_EOF;
            }
            error_setg(errp, "the frontend closed the connection in the "
                       "middle of a message (%zu bytes received)", r->have);
            return VU_READ_ERROR;
        }
        r->have += (size_t)n;
        if (r->have == HDR_SIZE &&
            !vu_msg_header_is_valid(&r->msg.hdr, errp)) {
            return VU_READ_ERROR;
        }
    }
}

bool vu_msg_send(int fd, uint32_t request, uint32_t flags,
                 const void *payload, uint32_t size, const int *fds,
                 unsigned nfds, GError **errp)
{
    VhostUserHeader hdr = { .request = request, .flags = flags,
                            .size = size };
    union {
        char buf[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov[2] = {
        { .iov_base = &hdr, .iov_len = sizeof(hdr) },
        { .iov_base = (void *)payload, .iov_len = size },
    };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
    size_t total = sizeof(hdr) + size;
    size_t sent = 0;

    g_assert(nfds <= VHOST_USER_MAX_FDS);
    if (nfds) {
        unix_socket_attach_fds(&mh, control.buf, fds, nfds);
    }

    while (sent < total) {
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };

                /* The frontend reads replies synchronously; a stuck peer
                 * means it is gone or hostile. */
                if (poll(&p, 1, 5000) <= 0) {
                    error_setg(errp, "the frontend does not read replies");
                    return false;
                }
                continue;
            }
            error_setg_errno(errp, errno, "cannot send %s",
                             vhost_user_request_name(request));
            return false;
        }
        sent += (size_t)n;
        /* Drop what was written; fds went with the first byte. */
        mh.msg_control = NULL;
        mh.msg_controllen = 0;
        while (n > 0 && mh.msg_iovlen > 0) {
            size_t step = MIN((size_t)n, mh.msg_iov[0].iov_len);

            mh.msg_iov[0].iov_base = (char *)mh.msg_iov[0].iov_base + step;
            mh.msg_iov[0].iov_len -= step;
            n -= (ssize_t)step;
            if (mh.msg_iov[0].iov_len == 0) {
                mh.msg_iov++;
                mh.msg_iovlen--;
            }
        }
    }
    return true;
}
