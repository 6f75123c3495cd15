/*
 * launch: how long a device process takes from exec to its first answered
 * request, and how much memory it holds then.
 *
 *   launch [-n RUNS] [-j FILE] mpqemu BINARY DEVICE [ARG...]
 *       BINARY -machine x-remote -nodefaults ARG... -device DEVICE
 *       -object x-remote-object,...,fd=N (proxy/spawn.c), then one PCI
 *       config read (the vendor ID) over the socketpair.  Works for
 *       qemu-remote and for qemu-system-x86_64 (QEMU's own remote).
 *   launch [-n RUNS] [-j FILE] vhost-user SOCKET BINARY [ARG...]
 *       BINARY ARG... (which must listen on the UNIX socket SOCKET), then
 *       connect as soon as the socket accepts and send GET_FEATURES.
 *
 * Each run starts the clock just before the fork, stops it when the answer
 * is in, reads the process's VmRSS, then ends the process (hang up; SIGTERM
 * after a grace period).  Prints one line per run and, with -j, writes
 *   {"launch_ms": [...], "rss_kib": [...]}
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "proxy/mpqemu-proxy.h"

#include <linux/pci_regs.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

/* vhost-user: the front-end's first request and the header layout
 * (docs/interop/vhost-user.rst of QEMU). */
#define VHOST_USER_GET_FEATURES 1
#define VHOST_USER_VERSION 0x1
#define VHOST_USER_REPLY_MASK (1u << 2)

/* Bound on every wait for the process under test. */
#define LAUNCH_TIMEOUT_MS 10000
/* Pause between connection attempts while the socket does not accept yet:
 * short against a launch time of milliseconds. */
#define CONNECT_RETRY_US 100
/* How long a vhost-user backend may take to exit after SIGTERM. */
#define TERM_GRACE_MS 5000

typedef struct __attribute__((packed)) VhostUserHeader {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
} VhostUserHeader;

/* VmRSS of @pid in KiB, or -1. */
static long rss_kib(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    g_autofree char *text = NULL;
    const char *line;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return -1;
    }
    line = strstr(text, "\nVmRSS:");
    return line ? strtol(line + strlen("\nVmRSS:"), NULL, 10) : -1;
}

static bool run_mpqemu(const char *binary, const char *device,
                       const char *const *args, double *ms, long *rss,
                       GError **errp)
{
    const char *const devices[] = { device, NULL };
    g_autoptr(QemuRemote) r = NULL;
    int64_t t0 = g_get_monotonic_time();
    uint32_t vendor;

    r = qemu_remote_spawn(binary, devices, args, NULL, errp);
    if (!r) {
        return false;
    }
    mpqemu_proxy_set_timeout(qemu_remote_proxy(r, 0), LAUNCH_TIMEOUT_MS);
    if (!mpqemu_proxy_config_read(qemu_remote_proxy(r, 0), PCI_VENDOR_ID, 2,
                                  &vendor, errp)) {
        return false;
    }
    *ms = (g_get_monotonic_time() - t0) / 1000.0;
    *rss = rss_kib(qemu_remote_pid(r));
    return true;
}

/* Full-length read or write on a blocking socket, bounded by a deadline. */
static bool xfer(int fd, void *buf, size_t len, bool out, GError **errp)
{
    char *p = buf;

    while (len) {
        struct pollfd pfd = { .fd = fd, .events = out ? POLLOUT : POLLIN };
        ssize_t n;

        if (poll(&pfd, 1, LAUNCH_TIMEOUT_MS) != 1) {
            error_setg(errp, "the backend did not answer GET_FEATURES");
            return false;
        }
        n = out ? write(fd, p, len) : read(fd, p, len);
        if (n <= 0) {
            error_setg(errp, "vhost-user socket: %s",
                       n < 0 ? g_strerror(errno) : "closed");
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

static bool vhost_user_first_answer(int fd, GError **errp)
{
    VhostUserHeader req = { .request = VHOST_USER_GET_FEATURES,
                            .flags = VHOST_USER_VERSION };
    VhostUserHeader reply;
    uint64_t features;

    if (!xfer(fd, &req, sizeof(req), true, errp) ||
        !xfer(fd, &reply, sizeof(reply), false, errp)) {
        return false;
    }
    if (reply.request != VHOST_USER_GET_FEATURES ||
        !(reply.flags & VHOST_USER_REPLY_MASK) ||
        reply.size != sizeof(features)) {
        error_setg(errp, "unexpected reply to GET_FEATURES");
        return false;
    }
    return xfer(fd, &features, sizeof(features), false, errp);
}

/* Connects to @path, retrying until it accepts or @pid exits. */
static int connect_when_ready(const char *path, pid_t pid, GError **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int64_t deadline = g_get_monotonic_time() + LAUNCH_TIMEOUT_MS * 1000LL;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        error_setg(errp, "socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0) {
            error_setg_errno(errp, errno, "socket");
            return -1;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            return fd;
        }
        close(fd);
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            error_setg(errp, "the backend exited before accepting");
            return -1;
        }
        if (g_get_monotonic_time() > deadline) {
            error_setg(errp, "%s did not accept within %d ms", path,
                       LAUNCH_TIMEOUT_MS);
            return -1;
        }
        g_usleep(CONNECT_RETRY_US);
    }
}

/* SIGTERM, then SIGKILL after TERM_GRACE_MS; reaps. */
static void stop(pid_t pid)
{
    int64_t deadline = g_get_monotonic_time() + TERM_GRACE_MS * 1000LL;

    kill(pid, SIGTERM);
    while (waitpid(pid, NULL, WNOHANG) == 0) {
        if (g_get_monotonic_time() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return;
        }
        g_usleep(1000);
    }
}

static bool run_vhost_user(const char *socket_path, char **argv, double *ms,
                           long *rss, GError **errp)
{
    int64_t t0;
    GPid pid;
    int fd;
    bool ok;

    unlink(socket_path);
    t0 = g_get_monotonic_time();
    if (!g_spawn_async(NULL, argv, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                       G_SPAWN_CHILD_INHERITS_STDIN,
                       NULL, NULL, &pid, errp)) {
        return false;
    }
    fd = connect_when_ready(socket_path, pid, errp);
    ok = fd >= 0 && vhost_user_first_answer(fd, errp);
    if (ok) {
        *ms = (g_get_monotonic_time() - t0) / 1000.0;
        *rss = rss_kib(pid);
    }
    if (fd >= 0) {
        close(fd);
    }
    stop(pid);
    unlink(socket_path);
    return ok;
}

int main(int argc, char **argv)
{
    int runs = 5;
    g_autofree char *json_path = NULL;
    GOptionEntry entries[] = {
        { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "runs (5)", "N" },
        { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path,
          "write the samples as JSON to FILE", "FILE" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "mpqemu BINARY DEVICE [ARG...] | vhost-user SOCKET BINARY [ARG...]");
    g_autoptr(GError) err = NULL;
    g_autoptr(GString) ms_list = g_string_new(NULL);
    g_autoptr(GString) rss_list = g_string_new(NULL);
    bool mpqemu;

    g_option_context_add_main_entries(ctx, entries, NULL);
    /* Arguments after the mode belong to the process under test. */
    g_option_context_set_strict_posix(ctx, TRUE);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || runs <= 0 ||
        argc < 4 || (strcmp(argv[1], "mpqemu") &&
                     strcmp(argv[1], "vhost-user"))) {
        g_printerr("launch: %s\n", err ? err->message : "bad arguments "
                   "(see the comment at the top of bench/launch.c)");
        return 2;
    }
    mpqemu = strcmp(argv[1], "mpqemu") == 0;
    for (int i = 0; i < runs; i++) {
        double ms = 0;
        long rss = 0;
        bool ok = mpqemu
            ? run_mpqemu(argv[2], argv[3], (const char *const *)argv + 4,
                         &ms, &rss, &err)
            : run_vhost_user(argv[2], argv + 3, &ms, &rss, &err);

        if (!ok) {
            g_printerr("launch: %s: %s\n", argv[mpqemu ? 2 : 3],
                       err->message);
            return 1;
        }
        printf("run %d: first answer after %.2f ms, VmRSS %ld KiB\n", i + 1,
               ms, rss);
        g_string_append_printf(ms_list, "%s%.3f", i ? ", " : "", ms);
        g_string_append_printf(rss_list, "%s%ld", i ? ", " : "", rss);
    }
    if (json_path) {
        g_autofree char *json = g_strdup_printf(
            "{\"launch_ms\": [%s], \"rss_kib\": [%s]}\n", ms_list->str,
            rss_list->str);

        if (!g_file_set_contents(json_path, json, -1, &err)) {
            g_printerr("launch: %s\n", err->message);
            return 1;
        }
    }
    return 0;
}
