/*
 * The transport fuzz targets' input program (see fuzz-stream.h).
 */
#include "fuzz-stream.h"
#include "fuzz-input.h"
#include "qemu-remote/fdset.h"
#include "qemu-remote/option.h"
#include "block/block.h"
#include "qemu-remote/sockets.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

enum {
    OP_SEND = 0,
    OP_SEND_RAM = 1,
    OP_SEND_EFD = 2,
    OP_SEND_SOCK = 3,
    OP_RAM_WRITE = 4,
    OP_KICK = 5,
    OP_SEND_PIPE = 6,
};

/* Most fds on one send: as many as SEND_RAM/SEND_EFD can ask for. */
#define MAX_SEND_FDS 8

/* The next @len bytes (fewer at the end of the input). */
static const uint8_t *in_bytes(Input *in, size_t *len)
{
    const uint8_t *p = in->p;

    *len = MIN(*len, in->left);
    in->p += *len;
    in->left -= *len;
    return p;
}

void fuzz_stream_init(FuzzStream *fs)
{
    memset(fs, 0, sizeof(*fs));
    fs->ram_fd = memfd_create("fuzz-guest-ram", MFD_CLOEXEC);
    g_assert_cmpint(fs->ram_fd, >=, 0);
    g_assert_cmpint(ftruncate(fs->ram_fd, FUZZ_RAM_SIZE), ==, 0);
}

/*
 * Sends @len bytes with @nfds fds (on the first byte), draining what the
 * transport sends back whenever the socket is full so that neither side
 * waits for the other.  False once the transport closed the connection.
 */
static bool send_with_fds(FuzzStream *fs, int sock, const uint8_t *buf,
                          size_t len, const int *fds, unsigned nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_SEND_FDS)];
        struct cmsghdr align;
    } control;
    /* A message needs a byte to carry fds. */
    static const uint8_t zero;

    if (!len && !nfds) {
        return true;
    }
    if (!len) {
        buf = &zero;
        len = 1;
    }
    while (len) {
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (nfds) {
            unix_socket_attach_fds(&mh, control.buf, fds, nfds);
        }
        n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = { .fd = sock, .events = POLLIN | POLLOUT };

            fuzz_stream_drain(sock);
            if (fs->pump) {
                fs->pump(fs->pump_opaque);
            } else {
                poll(&pfd, 1, -1);
            }
            continue;
        }
        if (n <= 0) {
            return false;   /* the transport hung up */
        }
        buf += n;
        len -= n;
        nfds = 0;           /* they went with the first byte */
    }
    return true;
}

static void op_send(FuzzStream *fs, int sock, Input *in, uint8_t op)
{
    unsigned count = ((op >> 3) & 7) + 1;
    int fds[MAX_SEND_FDS];
    unsigned nfds = 0;
    int close_fds[MAX_SEND_FDS];
    unsigned nclose = 0;
    size_t len = in16(in);
    const uint8_t *buf = in_bytes(in, &len);

    switch (op & 7) {
    case OP_SEND_RAM:
        for (unsigned i = 0; i < count; i++) {
            fds[nfds++] = fs->ram_fd;
        }
        break;
    case OP_SEND_EFD:
        for (unsigned i = 0; i < count && fs->n_eventfds < FUZZ_MAX_EVENTFDS;
             i++) {
            int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

            g_assert_cmpint(efd, >=, 0);
            fs->eventfds[fs->n_eventfds++] = efd;
            fds[nfds++] = efd;
        }
        break;
    case OP_SEND_SOCK:
        if (fs->n_peer_socks < FUZZ_MAX_EVENTFDS) {
            int sv[2];

            g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
                                       SOCK_NONBLOCK, 0, sv), ==, 0);
            fs->peer_socks[fs->n_peer_socks++] = sv[0];
            fds[nfds++] = sv[1];
            close_fds[nclose++] = sv[1];
        }
        break;
    case OP_SEND_PIPE: {
        int p[2];

        g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
        fds[nfds++] = p[0];
        close_fds[nclose++] = p[0];
        close_fds[nclose++] = p[1];
        break;
    }
    default:
        break;
    }
    if (!fs->hung_up && !send_with_fds(fs, sock, buf, len, fds, nfds)) {
        fs->hung_up = true;
    }
    for (unsigned i = 0; i < nclose; i++) {
        close(close_fds[i]);
    }
}

static void op_ram_write(FuzzStream *fs, Input *in)
{
    uint64_t offset = in32(in);
    size_t len = in16(in);
    const uint8_t *buf = in_bytes(in, &len);

    if (pwrite(fs->ram_fd, buf, len, (off_t)(offset % FUZZ_RAM_SIZE)) < 0) {
        g_assert_not_reached();
    }
}

static void op_kick(FuzzStream *fs)
{
    uint64_t one = 1;

    for (unsigned i = 0; i < fs->n_eventfds; i++) {
        /* Non-blocking: a counter at its maximum just stays there. */
        if (write(fs->eventfds[i], &one, sizeof(one)) < 0) {
            continue;
        }
    }
}

void fuzz_stream_play(FuzzStream *fs, int sock, const uint8_t *data,
                      size_t size)
{
    Input in = { .p = data, .left = size };

    fs->hung_up = false;
    while (in.left) {
        uint8_t op = in8(&in);

        switch (op & 7) {
        case OP_RAM_WRITE:
            op_ram_write(fs, &in);
            break;
        case OP_KICK:
            op_kick(fs);
            break;
        default:
            op_send(fs, sock, &in, op);
            break;
        }
        if (fs->pump) {
            fs->pump(fs->pump_opaque);
        }
    }
}

void fuzz_stream_drain(int sock)
{
    char buf[4096];

    while (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
    }
}

void fuzz_stream_reset(FuzzStream *fs)
{
    for (unsigned i = 0; i < fs->n_eventfds; i++) {
        close(fs->eventfds[i]);
    }
    fs->n_eventfds = 0;
    for (unsigned i = 0; i < fs->n_peer_socks; i++) {
        close(fs->peer_socks[i]);
    }
    fs->n_peer_socks = 0;
    /* Drops every page the input wrote. */
    g_assert_cmpint(fallocate(fs->ram_fd, FALLOC_FL_PUNCH_HOLE |
                              FALLOC_FL_KEEP_SIZE, 0, FUZZ_RAM_SIZE), ==, 0);
}

void fuzz_stream_open_disk(uint64_t size)
{
    g_autoptr(KeyValList) blockdev = NULL;
    g_autofree char *add_fd = NULL;
    int disk = memfd_create("fuzz-disk", 0);

    g_assert_cmpint(disk, >=, 0);
    g_assert_cmpint(ftruncate(disk, size), ==, 0);
    add_fd = g_strdup_printf("fd=%d,set=1", disk);
    g_assert_true(fdset_add_option(add_fd, NULL));
    blockdev = keyval_parse("driver=file,node-name=disk0,"
                            "filename=/dev/fdset/1", NULL, NULL);
    g_assert_nonnull(blockdev_add_keyval(blockdev, NULL));
}
