/*
 * Fuzz target: the QMP server (monitor/: the JSON streamer with its
 * bounds, request checks, negotiation and the command dispatcher with
 * every command's argument visitor).  The input is what a client sends
 * on its socket; the server runs on this thread's main context, as in
 * qemu-remote, until it has answered and closed the half-closed
 * connection.  A device exists so that x-query-remote-devices has
 * something to list.
 *
 * Whatever the bytes, the process must not crash, hang or leak; the
 * client may only get errors or be disconnected.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/log.h"
#include "hw/misc/testdev.h"
#include "monitor/monitor.h"

#include <poll.h>
#include <sys/socket.h>

/* Beyond MONITOR_MAX_REQUEST_SIZE nothing new happens but copying. */
#define FUZZ_MAX_INPUT (512 * 1024)

const DeviceType *const device_types[] = { &testdev_type, NULL };

static void fz_init(void)
{
    g_autoptr(KeyValList) opts = keyval_parse("x-remote-testdev,id=dev0",
                                              "driver", NULL);

    qr_log_mask = 0;
    g_assert_nonnull(device_new(opts, NULL));
}

/* Reads what the server wrote; true at end of stream. */
static bool drain(int fd)
{
    char buf[65536];
    ssize_t n;

    for (;;) {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            continue;
        }
        return n == 0 || (errno != EAGAIN && errno != EINTR);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool initialized;
    int sv[2];

    if (!initialized) {
        fz_init();
        initialized = true;
    }
    if (size > FUZZ_MAX_INPUT) {
        return 0;
    }
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    g_assert_true(monitor_add_qmp_fd(sv[1], NULL));

    /* Send it all, letting the server run whenever the socket is full. */
    while (size) {
        ssize_t n = send(sv[0], data, size, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n > 0) {
            data += n;
            size -= n;
        } else if (n < 0 && errno == EAGAIN) {
            drain(sv[0]);
            g_main_context_iteration(NULL, FALSE);
        } else {
            break;      /* the server hung up */
        }
    }
    shutdown(sv[0], SHUT_WR);
    /* It answers what it got, then closes: run it until it has. */
    while (!drain(sv[0])) {
        g_main_context_iteration(NULL, TRUE);
    }
    close(sv[0]);
    return 0;
}
