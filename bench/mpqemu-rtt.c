/*
 * mpqemu-rtt: what one request costs through qemu-remote's mpqemu
 * transport alone, from the VMM-side library (proxy/): a config read, a BAR
 * read and a BAR write to x-remote-testdev, round trip over the socket
 * (send, remote thread wakes, dispatch, RET, receive).  Compare with
 * bench/proxy-rtt, which adds the real VMM's share.
 *
 * On a virtual machine a cross-CPU wake-up can cost more than everything
 * else, so the same loop is first run against a "floor": a process that
 * answers every message with a RET using the same system calls as the
 * transport (poll, two reads, one write) and no work.  ours - floor is what
 * qemu-remote adds to the socket round trip itself.
 *
 * Usage: mpqemu-rtt [-n ITERATIONS] [-b BATCHES] [-c same|split|any]
 *                   [QEMU-REMOTE]
 * -c: both processes on CPU 0, on CPUs 0 and 1, or unpinned (default).
 * The binary defaults to $QEMU_REMOTE.  Prints the median of the batches'
 * per-access times in microseconds, and the fastest and slowest batch.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "proxy/mpqemu-proxy.h"
#include "hw/misc/testdev.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define MMIO_BASE 0xfebf0000u

typedef enum Op { OP_CONFIG_READ, OP_BAR_READ, OP_BAR_WRITE } Op;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static bool one(MPQemuProxy *p, Op op, GError **errp)
{
    uint32_t v32;
    uint64_t v;

    switch (op) {
    case OP_CONFIG_READ:
        return mpqemu_proxy_config_read(p, PCI_VENDOR_ID, 2, &v32, errp);
    case OP_BAR_READ:
        return mpqemu_proxy_bar_read(p, true, MMIO_BASE + TESTDEV_REG_SCRATCH,
                                     4, &v, errp);
    default:
        return mpqemu_proxy_bar_write(p, true,
                                      MMIO_BASE + TESTDEV_REG_SCRATCH, 4, 1,
                                      errp);
    }
}

static void pin(int cpu)
{
    cpu_set_t set;

    if (cpu < 0) {
        return;
    }
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0) {
        perror("sched_setaffinity");
        exit(1);
    }
}

/* The floor's server: RET 0 for every message, nothing else. */
static void floor_serve(int sock)
{
    MPQemuHeader hdr;
    uint8_t payload[MPQEMU_MAX_PAYLOAD];
    uint64_t ret = 0;

    for (;;) {
        struct pollfd pfd = { .fd = sock, .events = POLLIN };

        if (poll(&pfd, 1, -1) < 0 ||
            recv(sock, &hdr, sizeof(hdr), MSG_WAITALL) != sizeof(hdr) ||
            hdr.size > sizeof(payload) ||
            recv(sock, payload, hdr.size, MSG_WAITALL) != (ssize_t)hdr.size ||
            !mpqemu_msg_send(sock, MPQEMU_CMD_RET, &ret, sizeof(ret), NULL,
                             0, NULL)) {
            _exit(0);
        }
    }
}

static bool measure(MPQemuProxy *p, Op op, const char *name, int n,
                    int batches, GError **errp)
{
    g_autofree double *us = g_new(double, batches);

    for (int b = 0; b < batches; b++) {
        gint64 start = g_get_monotonic_time();

        for (int i = 0; i < n; i++) {
            if (!one(p, op, errp)) {
                return false;
            }
        }
        us[b] = (double)(g_get_monotonic_time() - start) / n;
    }
    qsort(us, batches, sizeof(us[0]), cmp_double);
    printf("%-12s %8.2f us/access (batches: min %.2f, max %.2f; %d x %d)\n",
           name, us[batches / 2], us[0], us[batches - 1], batches, n);
    return true;
}

int main(int argc, char **argv)
{
    const char *devices[] = { "x-remote-testdev,id=t0", NULL };
    const char *binary = g_getenv("QEMU_REMOTE");
    const char *cpus = "any";
    g_autoptr(QemuRemote) r = NULL;
    g_autoptr(MPQemuProxy) floor_proxy = NULL;
    int my_cpu = -1, remote_cpu = -1;
    GError *err = NULL;
    MPQemuProxy *p;
    int n = 20000, batches = 7, opt, sv[2];
    pid_t floor_pid;

    while ((opt = getopt(argc, argv, "n:b:c:")) != -1) {
        switch (opt) {
        case 'n':
            n = atoi(optarg);
            break;
        case 'b':
            batches = atoi(optarg);
            break;
        case 'c':
            cpus = optarg;
            break;
        default:
            fprintf(stderr, "usage: %s [-n ITERATIONS] [-b BATCHES] "
                    "[-c same|split|any] [QEMU-REMOTE]\n", argv[0]);
            return 2;
        }
    }
    if (optind < argc) {
        binary = argv[optind];
    }
    if (!binary || n <= 0 || batches <= 0) {
        fprintf(stderr, "%s: give the qemu-remote binary (or set "
                "QEMU_REMOTE) and positive counts\n", argv[0]);
        return 2;
    }
    if (g_str_equal(cpus, "same")) {
        my_cpu = remote_cpu = 0;
    } else if (g_str_equal(cpus, "split")) {
        my_cpu = 0;
        remote_cpu = 1;
    } else if (!g_str_equal(cpus, "any")) {
        fprintf(stderr, "%s: -c same, split or any\n", argv[0]);
        return 2;
    }
    printf("cpus: %s\n", cpus);

    /* Children inherit the affinity they are started with. */
    pin(remote_cpu);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("socketpair");
        return 1;
    }
    floor_pid = fork();
    if (floor_pid == 0) {
        close(sv[0]);
        floor_serve(sv[1]);
    }
    close(sv[1]);
    r = qemu_remote_spawn(binary, devices, NULL, NULL, &err);
    pin(my_cpu);
    if (!r) {
        error_report_err(err);
        return 1;
    }
    floor_proxy = mpqemu_proxy_new(sv[0]);
    p = qemu_remote_proxy(r, 0);
    printf("floor (echo process, same system calls):\n");
    if (!measure(floor_proxy, OP_CONFIG_READ, "config-read", n, batches,
                 &err)) {
        error_report_err(err);
        return 1;
    }
    g_clear_pointer(&floor_proxy, mpqemu_proxy_free);
    waitpid(floor_pid, NULL, 0);

    printf("qemu-remote, x-remote-testdev:\n");
    if (!mpqemu_proxy_config_write(p, PCI_BASE_ADDRESS_0, MMIO_BASE, 4,
                                   &err) ||
        !mpqemu_proxy_config_write(p, PCI_COMMAND, PCI_COMMAND_MEMORY, 2,
                                   &err) ||
        !measure(p, OP_CONFIG_READ, "config-read", n, batches, &err) ||
        !measure(p, OP_BAR_READ, "bar-read", n, batches, &err) ||
        !measure(p, OP_BAR_WRITE, "bar-write", n, batches, &err)) {
        error_report_err(err);
        return 1;
    }
    return 0;
}
