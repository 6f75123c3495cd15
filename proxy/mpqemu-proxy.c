/*
 * The VMM side of mpqemu: requests, guest RAM and INTx eventfds (see
 * include/proxy/mpqemu-proxy.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "proxy/mpqemu-proxy.h"
#include "qemu-remote/sockets.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define MPQEMU_PROXY_DEFAULT_TIMEOUT_MS 10000

struct MPQemuProxy {
    int sock;
    int timeout_ms;
    int irq_fd;
    int resample_fd;
    int ram_fd;
    void *ram;
    uint64_t ram_size;
};

static void apply_timeout(MPQemuProxy *p)
{
    struct timeval tv = {
        .tv_sec = p->timeout_ms / 1000,
        .tv_usec = (p->timeout_ms % 1000) * 1000,
    };

    /* Bounds every blocking read and write on the socket. */
    setsockopt(p->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(p->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

MPQemuProxy *mpqemu_proxy_new(int sock)
{
    MPQemuProxy *p = g_new0(MPQemuProxy, 1);

    p->sock = sock;
    p->irq_fd = -1;
    p->resample_fd = -1;
    p->ram_fd = -1;
    p->timeout_ms = MPQEMU_PROXY_DEFAULT_TIMEOUT_MS;
    apply_timeout(p);
    return p;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void ram_release(MPQemuProxy *p)
{
    if (p->ram) {
        munmap(p->ram, p->ram_size);
        p->ram = NULL;
    }
    close_fd(&p->ram_fd);
}

void mpqemu_proxy_free(MPQemuProxy *p)
{
    if (!p) {
        return;
    }
    close_fd(&p->sock);
    close_fd(&p->irq_fd);
    close_fd(&p->resample_fd);
    ram_release(p);
    g_free(p);
}

int mpqemu_proxy_socket(MPQemuProxy *p)
{
    return p->sock;
}

void mpqemu_proxy_set_timeout(MPQemuProxy *p, int timeout_ms)
{
    p->timeout_ms = timeout_ms;
    apply_timeout(p);
}

bool mpqemu_proxy_sync_sysmem(MPQemuProxy *p, const MPQemuProxyRegion *r,
                              unsigned n, GError **errp)
{
    MPQemuSyncSysmem s = { 0 };
    int fds[MPQEMU_MAX_REGIONS];

    if (n > MPQEMU_MAX_REGIONS) {
        error_setg(errp, "%u regions, at most %d", n, MPQEMU_MAX_REGIONS);
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        s.gpas[i] = r[i].gpa;
        s.sizes[i] = r[i].size;
        s.offsets[i] = (int64_t)r[i].offset;
        fds[i] = r[i].fd;
    }
    return mpqemu_msg_send(p->sock, MPQEMU_CMD_SYNC_SYSMEM, &s, sizeof(s),
                           fds, n, errp);
}

void *mpqemu_proxy_ram_new(MPQemuProxy *p, uint64_t gpa, uint64_t size,
                           GError **errp)
{
    MPQemuProxyRegion region;
    int fd;
    void *ram;

    fd = memfd_create("mpqemu-proxy-ram", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        error_setg_errno(errp, errno, "cannot create guest RAM");
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ram == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot map guest RAM");
        close(fd);
        return NULL;
    }
    ram_release(p);
    p->ram_fd = fd;
    p->ram = ram;
    p->ram_size = size;
    region = (MPQemuProxyRegion) { .gpa = gpa, .size = size, .fd = fd };
    if (!mpqemu_proxy_sync_sysmem(p, &region, 1, errp)) {
        return NULL;
    }
    return ram;
}

int mpqemu_proxy_ram_fd(MPQemuProxy *p)
{
    return p->ram_fd;
}

bool mpqemu_proxy_set_irqfd(MPQemuProxy *p, GError **errp)
{
    int fds[2];

    close_fd(&p->irq_fd);
    close_fd(&p->resample_fd);
    p->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->resample_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->irq_fd < 0 || p->resample_fd < 0) {
        error_setg_errno(errp, errno, "cannot create eventfds");
        return false;
    }
    fds[0] = p->irq_fd;
    fds[1] = p->resample_fd;
    return mpqemu_msg_send(p->sock, MPQEMU_CMD_SET_IRQFD, NULL, 0, fds, 2,
                           errp);
}

int mpqemu_proxy_irq_fd(MPQemuProxy *p)
{
    return p->irq_fd;
}

int mpqemu_proxy_resample_fd(MPQemuProxy *p)
{
    return p->resample_fd;
}

uint64_t mpqemu_proxy_irq_take(MPQemuProxy *p)
{
    uint64_t count = 0;

    if (read(p->irq_fd, &count, sizeof(count)) != sizeof(count)) {
        return 0;
    }
    return count;
}

uint64_t mpqemu_proxy_irq_wait(MPQemuProxy *p, int timeout_ms)
{
    struct pollfd pfd = { .fd = p->irq_fd, .events = POLLIN };

    if (poll(&pfd, 1, timeout_ms) != 1) {
        return 0;
    }
    return mpqemu_proxy_irq_take(p);
}

bool mpqemu_proxy_resample(MPQemuProxy *p, GError **errp)
{
    uint64_t one = 1;

    if (write(p->resample_fd, &one, sizeof(one)) != sizeof(one)) {
        error_setg_errno(errp, errno, "cannot signal the resample eventfd");
        return false;
    }
    return true;
}

bool mpqemu_proxy_resample_pending(MPQemuProxy *p)
{
    struct pollfd pfd = { .fd = p->resample_fd, .events = POLLIN };

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

bool mpqemu_proxy_recv_ret(MPQemuProxy *p, uint64_t *val, uint64_t *size,
                           GError **errp)
{
    MPQemuMsg msg;

    switch (mpqemu_msg_recv(p->sock, &msg, errp)) {
    case MPQEMU_RECV_EOF:
        error_setg(errp, "the remote closed the connection");
        return false;
    case MPQEMU_RECV_ERROR:
        return false;
    case MPQEMU_RECV_OK:
        break;
    }
    if (msg.nfds || msg.hdr.cmd != MPQEMU_CMD_RET ||
        (msg.hdr.size != 0 && msg.hdr.size != sizeof(uint64_t))) {
        error_setg(errp, "invalid reply: %s, size %" PRIu64 ", %u fds",
                   mpqemu_cmd_name(msg.hdr.cmd), msg.hdr.size, msg.nfds);
        mpqemu_msg_close_fds(&msg);
        return false;
    }
    *val = msg.hdr.size ? msg.data.u64 : 0;
    if (size) {
        *size = msg.hdr.size;
    }
    return true;
}

static bool request(MPQemuProxy *p, MPQemuCmd cmd, const void *payload,
                    size_t len, uint64_t *val, GError **errp)
{
    uint64_t size;

    if (!mpqemu_msg_send(p->sock, cmd, payload, len, NULL, 0, errp) ||
        !mpqemu_proxy_recv_ret(p, val, &size, errp)) {
        return false;
    }
    if (size != sizeof(uint64_t)) {
        error_setg(errp, "%s: RET of %" PRIu64 " bytes",
                   mpqemu_cmd_name(cmd), size);
        return false;
    }
    return true;
}

bool mpqemu_proxy_config_read(MPQemuProxy *p, uint32_t addr, int len,
                              uint32_t *val, GError **errp)
{
    MPQemuPciConf c = { .addr = addr, .len = len };
    uint64_t ret;

    if (!request(p, MPQEMU_CMD_PCI_CFGREAD, &c, sizeof(c), &ret, errp)) {
        return false;
    }
    /* QEMU's proxy truncates the RET to 32 bits. */
    *val = (uint32_t)ret;
    return true;
}

bool mpqemu_proxy_config_write(MPQemuProxy *p, uint32_t addr, uint32_t val,
                               int len, GError **errp)
{
    MPQemuPciConf c = { .addr = addr, .val = val, .len = len };
    uint64_t ret;

    return request(p, MPQEMU_CMD_PCI_CFGWRITE, &c, sizeof(c), &ret, errp);
}

bool mpqemu_proxy_bar_read(MPQemuProxy *p, bool memory, uint64_t addr,
                           unsigned size, uint64_t *val, GError **errp)
{
    MPQemuBarAccess b = { .addr = addr, .size = size, .memory = memory };

    return request(p, MPQEMU_CMD_BAR_READ, &b, sizeof(b), val, errp);
}

bool mpqemu_proxy_bar_write(MPQemuProxy *p, bool memory, uint64_t addr,
                            unsigned size, uint64_t val, GError **errp)
{
    MPQemuBarAccess b = {
        .addr = addr, .val = val, .size = size, .memory = memory,
    };
    uint64_t ret;

    return request(p, MPQEMU_CMD_BAR_WRITE, &b, sizeof(b), &ret, errp);
}

bool mpqemu_proxy_device_reset(MPQemuProxy *p, GError **errp)
{
    uint64_t val, size;

    if (!mpqemu_msg_send(p->sock, MPQEMU_CMD_DEVICE_RESET, NULL, 0, NULL, 0,
                         errp) ||
        !mpqemu_proxy_recv_ret(p, &val, &size, errp)) {
        return false;
    }
    if (size != 0) {
        error_setg(errp, "DEVICE_RESET: RET of %" PRIu64 " bytes", size);
        return false;
    }
    return true;
}

bool mpqemu_proxy_send_raw(MPQemuProxy *p, const MPQemuHeader *hdr,
                           const void *payload, size_t len, const int *fds,
                           unsigned nfds, GError **errp)
{
    return mpqemu_msg_send_raw(p->sock, hdr, payload, len, fds, nfds, errp);
}

bool mpqemu_proxy_send_bytes(MPQemuProxy *p, const void *data, size_t len,
                             const int *fds, unsigned nfds, GError **errp)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * MPQEMU_PROXY_MAX_SEND_FDS)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n;

    if (nfds > MPQEMU_PROXY_MAX_SEND_FDS) {
        error_setg(errp, "cannot send %u fds", nfds);
        return false;
    }
    if (nfds) {
        unix_socket_attach_fds(&mh, control.buf, fds, nfds);
    }
    do {
        n = sendmsg(p->sock, &mh, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        error_setg_errno(errp, errno, "cannot send");
        return false;
    }
    if ((size_t)n != len) {
        error_setg(errp, "short send (%zd of %zu bytes)", n, len);
        return false;
    }
    return true;
}

void mpqemu_proxy_shutdown_send(MPQemuProxy *p)
{
    shutdown(p->sock, SHUT_WR);
}

bool mpqemu_proxy_wait_closed(MPQemuProxy *p, int timeout_ms)
{
    struct pollfd pfd = { .fd = p->sock, .events = POLLIN };
    char byte;
    ssize_t n;

    if (poll(&pfd, 1, timeout_ms) != 1) {
        return false;
    }
    /* A peer that closes with our data still unread resets the stream. */
    n = recv(p->sock, &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}
