/*
 * Starting qemu-remote with one socketpair per device, as a launcher does
 * (see include/proxy/mpqemu-proxy.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "proxy/mpqemu-proxy.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* How long qemu_remote_free() lets the process exit on its own, then
 * after SIGTERM. */
#define QEMU_REMOTE_TERM_GRACE_MS 5000

struct QemuRemote {
    pid_t pid;
    int pidfd;          /* readable once the process has exited */
    bool reaped;
    int status;
    GPtrArray *proxies;     /* MPQemuProxy *, NULL once closed */
};

/* The value of "id=" in a -device spec, or NULL. */
static char *device_id(const char *spec)
{
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);

    for (char **p = parts; *p; p++) {
        if (g_str_has_prefix(*p, "id=")) {
            return g_strdup(*p + 3);
        }
    }
    return NULL;
}

QemuRemote *qemu_remote_spawn(const char *binary,
                              const char *const *devices,
                              const char *const *extra_args,
                              const char *stderr_path, GError **errp)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) child_fds = g_array_new(FALSE, FALSE, sizeof(int));
    QemuRemote *r = g_new0(QemuRemote, 1);
    int stderr_fd = -1;
    GPid pid;
    bool ok;

    r->proxies = g_ptr_array_new();
    r->pidfd = -1;
    g_ptr_array_add(argv, g_strdup(binary));
    g_ptr_array_add(argv, g_strdup("-machine"));
    g_ptr_array_add(argv, g_strdup("x-remote"));
    g_ptr_array_add(argv, g_strdup("-nodefaults"));
    for (const char *const *a = extra_args; a && *a; a++) {
        g_ptr_array_add(argv, g_strdup(*a));
    }
    for (const char *const *d = devices; d && *d; d++) {
        g_autofree char *id = device_id(*d);
        int sv[2];

        if (!id) {
            error_setg(errp, "device '%s' has no id", *d);
            goto fail;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            error_setg_errno(errp, errno, "socketpair");
            goto fail;
        }
        g_ptr_array_add(r->proxies, mpqemu_proxy_new(sv[0]));
        g_array_append_val(child_fds, sv[1]);
        g_ptr_array_add(argv, g_strdup("-device"));
        g_ptr_array_add(argv, g_strdup(*d));
        g_ptr_array_add(argv, g_strdup("-object"));
        g_ptr_array_add(argv, g_strdup_printf(
                            "x-remote-object,id=r%s,devid=%s,fd=%d", id, id,
                            sv[1]));
    }
    g_ptr_array_add(argv, NULL);

    if (stderr_path) {
        stderr_fd = open(stderr_path, O_WRONLY | O_CREAT | O_APPEND |
                         O_CLOEXEC, 0600);
        if (stderr_fd < 0) {
            error_setg_errno(errp, errno, "%s", stderr_path);
            goto fail;
        }
    }
    /* The child's ends keep their numbers, so "fd=N" names them. */
    ok = g_spawn_async_with_pipes_and_fds(
        NULL, (const char *const *)argv->pdata, NULL,
        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CHILD_INHERITS_STDIN,
        NULL, NULL, -1, -1, stderr_fd,
        (const int *)child_fds->data, (const int *)child_fds->data,
        child_fds->len, &pid, NULL, NULL, NULL, errp);
    if (stderr_fd >= 0) {
        close(stderr_fd);
    }
    for (guint i = 0; i < child_fds->len; i++) {
        close(g_array_index(child_fds, int, i));
    }
    g_array_set_size(child_fds, 0);
    if (!ok) {
        goto fail;
    }
    r->pid = pid;
    r->pidfd = pidfd_open(pid, 0);
    if (r->pidfd < 0) {
        error_setg_errno(errp, errno, "pidfd_open");
        goto fail;
    }
    return r;

fail:
    for (guint i = 0; i < child_fds->len; i++) {
        close(g_array_index(child_fds, int, i));
    }
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
    }
    r->reaped = true;
    qemu_remote_free(r);
    return NULL;
}

MPQemuProxy *qemu_remote_proxy(QemuRemote *r, unsigned index)
{
    return index < r->proxies->len ? g_ptr_array_index(r->proxies, index)
                                   : NULL;
}

void qemu_remote_close_proxy(QemuRemote *r, unsigned index)
{
    if (index < r->proxies->len) {
        mpqemu_proxy_free(g_ptr_array_index(r->proxies, index));
        g_ptr_array_index(r->proxies, index) = NULL;
    }
}

void qemu_remote_close_proxies(QemuRemote *r)
{
    for (guint i = 0; i < r->proxies->len; i++) {
        qemu_remote_close_proxy(r, i);
    }
}

pid_t qemu_remote_pid(QemuRemote *r)
{
    return r->pid;
}

bool qemu_remote_wait(QemuRemote *r, int timeout_ms, int *status)
{
    if (!r->reaped) {
        struct pollfd pfd = { .fd = r->pidfd, .events = POLLIN };

        if (poll(&pfd, 1, timeout_ms) != 1 ||
            waitpid(r->pid, &r->status, 0) != r->pid) {
            return false;
        }
        r->reaped = true;
    }
    if (status) {
        *status = r->status;
    }
    return true;
}

void qemu_remote_free(QemuRemote *r)
{
    if (!r) {
        return;
    }
    qemu_remote_close_proxies(r);
    /* With its connections gone, an auto-shutdown process exits alone. */
    if (!r->reaped && r->pid > 0 &&
        !qemu_remote_wait(r, QEMU_REMOTE_TERM_GRACE_MS, NULL)) {
        kill(r->pid, SIGTERM);
        if (!qemu_remote_wait(r, QEMU_REMOTE_TERM_GRACE_MS, NULL)) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &r->status, 0);
        }
    }
    if (r->pidfd >= 0) {
        close(r->pidfd);
    }
    g_ptr_array_unref(r->proxies);
    g_free(r);
}
