/*
 * mpqemu message I/O and validation (remote/mpqemu/message.c, validate.c)
 * on a socketpair, plus random message streams through the real
 * dispatcher against an x-remote-testdev.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "hw/misc/testdev.h"
#include "remote/mpqemu.h"
#include "../../remote/mpqemu/mpqemu-internal.h"
#include "qemu-remote/sockets.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

const DeviceType *const device_types[] = { &testdev_type, NULL };

static void pair(int sv[2])
{
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
}

static unsigned open_fds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    unsigned n = 0;

    while (g_dir_read_name(dir)) {
        n++;
    }
    return n;
}

/* Sends @len raw bytes with @nfds copies of a fresh eventfd attached. */
static void send_bytes_with_fds(int sock, const void *buf, size_t len,
                                unsigned nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 32)];
        struct cmsghdr align;
    } control;
    int fds[32];
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    g_assert_cmpuint(nfds, <=, 32);
    for (unsigned i = 0; i < nfds; i++) {
        fds[i] = eventfd(0, EFD_CLOEXEC);
    }
    if (nfds) {
        unix_socket_attach_fds(&mh, control.buf, fds, nfds);
    }
    g_assert_cmpint(sendmsg(sock, &mh, 0), ==, (ssize_t)len);
    for (unsigned i = 0; i < nfds; i++) {
        close(fds[i]);
    }
}

static void test_fds_arrive_with_header_close_on_exec(void)
{
    int sv[2];
    int fds[2] = { eventfd(0, 0), eventfd(0, 0) };
    MPQemuMsg msg;

    pair(sv);
    g_assert_true(mpqemu_msg_send(sv[0], MPQEMU_CMD_SET_IRQFD, NULL, 0, fds,
                                  2, NULL));

    g_assert_cmpint(mpqemu_msg_recv(sv[1], &msg, NULL), ==, MPQEMU_RECV_OK);

    g_assert_cmpint(msg.hdr.cmd, ==, MPQEMU_CMD_SET_IRQFD);
    g_assert_cmpuint(msg.nfds, ==, 2);
    g_assert_true(fcntl(msg.fds[0], F_GETFD) & FD_CLOEXEC);
    mpqemu_msg_close_fds(&msg);
    close(fds[0]);
    close(fds[1]);
    close(sv[0]);
    close(sv[1]);
}

static void test_more_fds_than_fit_are_all_closed(void)
{
    MPQemuHeader hdr = { .cmd = MPQEMU_CMD_SYNC_SYSMEM, .size = 0 };
    unsigned before;
    GError *err = NULL;
    MPQemuMsg msg;
    int sv[2];

    pair(sv);
    before = open_fds();
    send_bytes_with_fds(sv[0], &hdr, sizeof(hdr), MPQEMU_MAX_FDS + 1);

    g_assert_cmpint(mpqemu_msg_recv(sv[1], &msg, &err), ==,
                    MPQEMU_RECV_ERROR);

    g_assert_nonnull(strstr(err->message, "control data truncated"));
    g_assert_cmpuint(open_fds(), ==, before);
    g_error_free(err);
    close(sv[0]);
    close(sv[1]);
}

static void test_fds_at_the_limit_are_received(void)
{
    MPQemuHeader hdr = { .cmd = MPQEMU_CMD_SYNC_SYSMEM, .size = 0 };
    MPQemuMsg msg;
    int sv[2];

    pair(sv);
    send_bytes_with_fds(sv[0], &hdr, sizeof(hdr), MPQEMU_MAX_FDS);

    g_assert_cmpint(mpqemu_msg_recv(sv[1], &msg, NULL), ==, MPQEMU_RECV_OK);

    g_assert_cmpuint(msg.nfds, ==, MPQEMU_MAX_FDS);
    mpqemu_msg_close_fds(&msg);
    close(sv[0]);
    close(sv[1]);
}

static void test_fds_with_payload_rejected_and_closed(void)
{
    MPQemuHeader hdr = { .cmd = MPQEMU_CMD_PCI_CFGREAD, .size = 12 };
    uint8_t payload[12] = { 0 };
    unsigned before;
    GError *err = NULL;
    MPQemuMsg msg;
    int sv[2];

    pair(sv);
    before = open_fds();
    send_bytes_with_fds(sv[0], &hdr, sizeof(hdr), 0);
    send_bytes_with_fds(sv[0], payload, sizeof(payload), 2);

    g_assert_cmpint(mpqemu_msg_recv(sv[1], &msg, &err), ==,
                    MPQEMU_RECV_ERROR);

    g_assert_nonnull(strstr(err->message, "fds attached to the message "
                            "payload"));
    g_assert_cmpuint(open_fds(), ==, before);
    g_error_free(err);
    close(sv[0]);
    close(sv[1]);
}

static void test_eof_between_messages_is_not_an_error(void)
{
    MPQemuMsg msg;
    GError *err = NULL;
    int sv[2];

    pair(sv);
    close(sv[0]);

    g_assert_cmpint(mpqemu_msg_recv(sv[1], &msg, &err), ==, MPQEMU_RECV_EOF);
    g_assert_null(err);
    close(sv[1]);
}

static void test_eof_inside_header_is_an_error(void)
{
    MPQemuHeader hdr = { .cmd = MPQEMU_CMD_DEVICE_RESET };
    GError *err = NULL;
    MPQemuMsg msg;
    int sv[2];

    pair(sv);
    send_bytes_with_fds(sv[0], &hdr, 10, 0);
    close(sv[0]);

    g_assert_cmpint(mpqemu_msg_recv(sv[1], &msg, &err), ==,
                    MPQEMU_RECV_ERROR);
    g_assert_nonnull(strstr(err->message, "10 of 16 bytes"));
    g_error_free(err);
    close(sv[1]);
}

static void test_oversized_payload_is_not_read(void)
{
    MPQemuHeader hdr = { .cmd = MPQEMU_CMD_PCI_CFGREAD,
                         .size = MPQEMU_MAX_PAYLOAD + 1 };
    GError *err = NULL;
    MPQemuMsg msg;
    int sv[2];
    char byte;

    pair(sv);
    send_bytes_with_fds(sv[0], &hdr, sizeof(hdr), 0);
    send_bytes_with_fds(sv[0], "x", 1, 0);

    g_assert_cmpint(mpqemu_msg_recv(sv[1], &msg, &err), ==,
                    MPQEMU_RECV_ERROR);

    /* The byte after the header is still in the socket. */
    g_assert_cmpint(recv(sv[1], &byte, 1, MSG_DONTWAIT), ==, 1);
    g_error_free(err);
    close(sv[0]);
    close(sv[1]);
}

static MPQemuMsg conf_msg(int32_t cmd, uint32_t addr, int32_t len)
{
    MPQemuMsg m = { .hdr = { .cmd = cmd, .size = sizeof(MPQemuPciConf) } };

    m.data.conf = (MPQemuPciConf) { .addr = addr, .len = len };
    return m;
}

static void test_config_access_limits(void)
{
    MPQemuMsg at_end = conf_msg(MPQEMU_CMD_PCI_CFGREAD, 0xfc, 4);
    MPQemuMsg past_end = conf_msg(MPQEMU_CMD_PCI_CFGREAD, 0xfd, 4);
    MPQemuMsg last_byte = conf_msg(MPQEMU_CMD_PCI_CFGWRITE, 0xff, 1);
    MPQemuMsg wraps = conf_msg(MPQEMU_CMD_PCI_CFGWRITE, UINT32_MAX, 2);

    g_assert_true(is_valid_pci_config(&at_end, PCI_CONFIG_SPACE_SIZE, NULL));
    g_assert_false(is_valid_pci_config(&past_end, PCI_CONFIG_SPACE_SIZE,
                                       NULL));
    g_assert_true(is_valid_pci_config(&past_end, PCIE_CONFIG_SPACE_SIZE,
                                      NULL));
    g_assert_true(is_valid_pci_config(&last_byte, PCI_CONFIG_SPACE_SIZE,
                                      NULL));
    g_assert_false(is_valid_pci_config(&wraps, PCIE_CONFIG_SPACE_SIZE, NULL));
}

static void test_sysmem_fd_count_limits(void)
{
    MPQemuMsg m = {
        .hdr = { .cmd = MPQEMU_CMD_SYNC_SYSMEM,
                 .size = sizeof(MPQemuSyncSysmem) },
    };

    for (unsigned i = 0; i < MPQEMU_MAX_REGIONS; i++) {
        m.data.sysmem.gpas[i] = (uint64_t)i << 20;
        m.data.sysmem.sizes[i] = 0x1000;
    }
    m.nfds = MPQEMU_MAX_REGIONS;        /* only counted, never used here */
    g_assert_true(is_valid_sync_sysmem(&m, NULL));
    m.nfds = MPQEMU_MAX_REGIONS + 1;
    g_assert_false(is_valid_sync_sysmem(&m, NULL));
    m.nfds = 0;
    g_assert_false(is_valid_sync_sysmem(&m, NULL));
}

static void test_bar_access_limits(void)
{
    MPQemuMsg m = {
        .hdr = { .cmd = MPQEMU_CMD_BAR_READ,
                 .size = sizeof(MPQemuBarAccess) },
    };

    /* addr + size must be representable: the last 8 bytes below 2^64 - 1
     * are the highest access allowed. */
    m.data.bar = (MPQemuBarAccess) {
        .addr = UINT64_MAX - 8, .size = 8, .memory = 1,
    };
    g_assert_true(is_valid_bar_access(&m, NULL));
    m.data.bar.addr++;
    g_assert_false(is_valid_bar_access(&m, NULL));
    m.data.bar = (MPQemuBarAccess) { .addr = 0x1000, .size = 4 };
    m.nfds = 1;
    g_assert_false(is_valid_bar_access(&m, NULL));
}

/*
 * Random requests (commands around the valid range, sizes the commands use
 * and others, random payloads, no fds) through validation and dispatch to a
 * testdev.  Whatever ends the connection, nothing may crash or leak.
 */
static void test_random_streams_through_dispatch(void)
{
    static const uint64_t sizes[] = { 0, 8, 12, 24, 192 };
    g_autoptr(KeyValList) opts = keyval_parse("x-remote-testdev,id=t0",
                                              "driver", NULL);
    Device *dev = device_new(opts, NULL);
    GRand *rand = g_rand_new_with_seed(20261125);
    unsigned handled = 0, rejected = 0;
    MPQemuLink *link;
    int sv[2];

    pair(sv);
    link = mpqemu_link_new(PCI_DEVICE(dev), sv[1], "fuzz");
    g_assert_true(device_realize(dev, NULL));
    for (int i = 0; i < 20000; i++) {
        MPQemuMsg msg = { 0 };
        GError *err = NULL;
        char drain[4096];

        msg.hdr.cmd = g_rand_int_range(rand, -1, MPQEMU_CMD_MAX + 2);
        msg.hdr.size = sizes[g_rand_int_range(rand, 0, G_N_ELEMENTS(sizes))];
        for (size_t b = 0; b < msg.hdr.size; b++) {
            msg.data.bytes[b] = g_rand_int(rand);
        }
        /* Mostly small config offsets and lengths, so some succeed. */
        if (g_rand_boolean(rand)) {
            msg.data.conf.addr &= 0xff;
            msg.data.conf.len = 1 << g_rand_int_range(rand, 0, 4);
        }
        if (mpqemu_dispatch(link, &msg, &err)) {
            handled++;
        } else {
            rejected++;
            g_error_free(err);
        }
        while (recv(sv[0], drain, sizeof(drain), MSG_DONTWAIT) > 0) {
            continue;
        }
    }
    g_test_message("%u handled, %u rejected", handled, rejected);
    g_assert_cmpuint(handled, >, 0);
    g_assert_cmpuint(rejected, >, 0);
    mpqemu_link_free(link);
    device_free(dev);
    g_rand_free(rand);
    close(sv[0]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mpqemu/message/fds-arrive-with-header-close-on-exec",
                    test_fds_arrive_with_header_close_on_exec);
    g_test_add_func("/mpqemu/message/more-fds-than-fit-are-all-closed",
                    test_more_fds_than_fit_are_all_closed);
    g_test_add_func("/mpqemu/message/fds-at-the-limit-are-received",
                    test_fds_at_the_limit_are_received);
    g_test_add_func("/mpqemu/message/fds-with-payload-rejected-and-closed",
                    test_fds_with_payload_rejected_and_closed);
    g_test_add_func("/mpqemu/message/eof-between-messages-is-not-an-error",
                    test_eof_between_messages_is_not_an_error);
    g_test_add_func("/mpqemu/message/eof-inside-header-is-an-error",
                    test_eof_inside_header_is_an_error);
    g_test_add_func("/mpqemu/message/oversized-payload-is-not-read",
                    test_oversized_payload_is_not_read);
    g_test_add_func("/mpqemu/validate/config-access-limits",
                    test_config_access_limits);
    g_test_add_func("/mpqemu/validate/sysmem-fd-count-limits",
                    test_sysmem_fd_count_limits);
    g_test_add_func("/mpqemu/validate/bar-access-limits",
                    test_bar_access_limits);
    g_test_add_func("/mpqemu/dispatch/random-streams",
                    test_random_streams_through_dispatch);
    return g_test_run();
}
