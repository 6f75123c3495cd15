/*
 * "-daemonize": run in the background, but only once ready to serve.
 *
 * The parent forks and waits on a pipe; the child starts a new session and
 * forks again (so the daemon is not a session leader and never gains a
 * controlling terminal), and the grandchild is the daemon.  When start-up
 * is complete the daemon writes one byte into the pipe and the parent exits
 * 0; if the daemon exits first, the pipe closes empty and the parent exits
 * 1.  Until then the daemon's error messages still reach the user's stderr.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/sandbox.h"
#include "cmdline.h"
#include "vl.h"

#include <fcntl.h>
#include <sys/wait.h>

static bool daemonize;
static int ready_fd = -1; /* the daemon's end of the pipe */
/* Opened before start-up ends: a chroot or the sandbox may hide it. */
static int null_fd = -1;

/* daemon_ready() runs after the sandbox is installed. */
static const SandboxRule daemon_rules[] = {
    SANDBOX_ALLOW("chdir"),
    SANDBOX_RULES_END
};

static const SandboxPolicy daemon_sandbox_policy = {
    .name = "daemonize",
    .keeps = "/dev/null until ready",
    .rules = daemon_rules,
};

bool opt_daemonize(OptionPhase phase, const char *arg, GError **errp)
{
    daemonize = true;
    return true;
}

bool daemon_requested(void)
{
    return daemonize;
}

/* In the original parent: wait for the daemon's verdict, then exit. */
static G_NORETURN void parent_wait(int fd, pid_t child)
{
    char byte;
    ssize_t n;

    /* The intermediate child exits as soon as it has forked the daemon. */
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
    do {
        n = read(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    _exit(n == 1 ? 0 : 1);
}

bool daemon_start(GError **errp)
{
    int fds[2];
    pid_t pid;

    if (!daemonize) {
        return true;
    }
    if (!sandbox_require(&daemon_sandbox_policy, errp)) {
        return false;
    }
    if (pipe2(fds, O_CLOEXEC) < 0) {
        error_setg_errno(errp, errno, "cannot daemonize: pipe");
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        error_setg_errno(errp, errno, "cannot daemonize: fork");
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid > 0) {
        close(fds[1]);
        parent_wait(fds[0], pid);
    }

    close(fds[0]);
    if (setsid() < 0) {
        /* Cannot happen: a fresh child is never a process group leader. */
        error_report("cannot daemonize: setsid: %s", g_strerror(errno));
        _exit(1);
    }
    pid = fork();
    if (pid < 0) {
        error_report("cannot daemonize: fork: %s", g_strerror(errno));
        _exit(1);
    }
    if (pid > 0) {
        _exit(0);
    }
    ready_fd = fds[1];
    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    return true;
}

void daemon_ready(void)
{
    static const char ok = 0;
    ssize_t n;

    if (ready_fd < 0) {
        return;
    }
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        dup2(null_fd, STDERR_FILENO);
        if (null_fd > STDERR_FILENO) {
            close(null_fd);
        }
        null_fd = -1;
    }
    if (chdir("/") < 0) {
        warn_report("cannot change to /: %s", g_strerror(errno));
    }
    do {
        n = write(ready_fd, &ok, 1);
    } while (n < 0 && errno == EINTR);
    close(ready_fd);
    ready_fd = -1;
}
