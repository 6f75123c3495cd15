/*
 * libqtest: child processes (spawning, waiting, stopping, their stderr),
 * and cleaning up after a test program that aborts or is terminated.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "libqtest-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define STOP_TIMEOUT_MS     10000

/* States alive in this process, for the abort handler. */
#define MAX_LIVE_STATES 8
static QTestState *live_states[MAX_LIVE_STATES];
static char *scratch_dir;

/* --- small helpers ------------------------------------------------------- */

int64_t qtest_now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

char *qtest_read_fd(int fd)
{
    GString *s = g_string_new(NULL);
    char buf[4096];
    off_t off = 0;
    ssize_t n;

    if (fd < 0) {
        return g_string_free(s, FALSE);
    }
    while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
        g_string_append_len(s, buf, n);
        off += n;
    }
    return g_string_free(s, FALSE);
}

/* An unlinked file in @dir: the child writes its stderr there and we can
 * read it at any time, and nothing is left behind whatever happens. */
static int open_capture_file(const char *dir, GError **errp)
{
    g_autofree char *path = g_build_filename(dir, "stderr-XXXXXX", NULL);
    int fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);

    if (fd < 0) {
        error_setg_errno(errp, errno, "cannot create %s", path);
        return -1;
    }
    unlink(path);
    return fd;
}

/* Removes the regular files in @dir and @dir itself. */
void qtest_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                unlinkat(dirfd(d), e->d_name, 0);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

/*
 * A failed g_assert aborts the test program, and a timeout terminates it:
 * take the children and files with it.  (Not async-signal-safe in the
 * strict sense: SIGABRT comes synchronously from g_assert in the main
 * thread, and a test ended by SIGTERM is being thrown away anyway.)
 */
static void abort_handler(int sig)
{
    for (unsigned i = 0; i < MAX_LIVE_STATES; i++) {
        QTestState *s = live_states[i];

        if (!s) {
            continue;
        }
        if (s->vmm.pid > 0 && !s->vmm.reaped) {
            kill(s->vmm.pid, SIGKILL);
        }
        for (unsigned r = 0; r < s->nremotes; r++) {
            if (s->remotes[r].pid > 0 && !s->remotes[r].reaped) {
                kill(s->remotes[r].pid, SIGKILL);
            }
        }
        if (s->dir) {
            qtest_remove_dir(s->dir);
        }
    }
    if (scratch_dir) {
        qtest_remove_dir(scratch_dir);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_abort_handler(void)
{
    static bool handler_installed;

    if (!handler_installed) {
        struct sigaction sa = { .sa_handler = abort_handler };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGABRT, &sa, NULL);
        /* meson's timeout ends a test with SIGTERM; ^C sends SIGINT. */
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        handler_installed = true;
    }
}

void qtest_register_live(QTestState *s)
{
    install_abort_handler();
    for (unsigned i = 0; i < MAX_LIVE_STATES; i++) {
        if (!live_states[i]) {
            live_states[i] = s;
            return;
        }
    }
}

void qtest_unregister_live(QTestState *s)
{
    for (unsigned i = 0; i < MAX_LIVE_STATES; i++) {
        if (live_states[i] == s) {
            live_states[i] = NULL;
        }
    }
}

static void remove_scratch_dir(void)
{
    qtest_remove_dir(scratch_dir);
    g_free(scratch_dir);
    scratch_dir = NULL;
}

const char *qtest_scratch_dir(void)
{
    g_autoptr(GError) err = NULL;

    if (!scratch_dir) {
        scratch_dir = g_dir_make_tmp("qtest-files-XXXXXX", &err);
        if (!scratch_dir) {
            g_printerr("libqtest: %s\n", err->message);
            return NULL;
        }
        install_abort_handler();
        atexit(remove_scratch_dir);
    }
    return scratch_dir;
}

/* Runs in the child between fork and exec: die with the test program, so
 * nothing outlives a test killed by a timeout. */
static void child_setup(gpointer opaque)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

bool qtest_spawn(QTestState *s, QTestProcess *p, GPtrArray *argv,
                  const int *src_fds, const int *dst_fds, unsigned nfds,
                  GError **errp)
{
    GPid pid;

    p->stderr_fd = open_capture_file(s->dir, errp);
    if (p->stderr_fd < 0) {
        return false;
    }
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_async_with_pipes_and_fds(NULL,
                                          (const char * const *)argv->pdata,
                                          NULL,
                                          G_SPAWN_DO_NOT_REAP_CHILD |
                                          G_SPAWN_SEARCH_PATH |
                                          G_SPAWN_STDIN_FROM_DEV_NULL,
                                          child_setup, NULL,
                                          -1, p->stderr_fd, p->stderr_fd,
                                          src_fds, dst_fds, nfds,
                                          &pid, NULL, NULL, NULL, errp)) {
        return false;
    }
    p->pid = pid;
    return true;
}

bool qtest_process_poll(QTestProcess *p)
{
    int st;
    pid_t r;

    if (p->reaped || p->pid <= 0) {
        return true;
    }
    r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->reaped = true;
        p->wstatus = r == p->pid ? st : -1;
        return true;
    }
    return false;
}

bool qtest_process_wait(QTestProcess *p, unsigned timeout_ms)
{
    int64_t deadline = qtest_now_ms() + timeout_ms;

    while (!qtest_process_poll(p)) {
        if (qtest_now_ms() >= deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

static void process_stop(QTestProcess *p, unsigned grace_ms)
{
    if (p->pid <= 0 || qtest_process_wait(p, grace_ms)) {
        return;
    }
    kill(p->pid, SIGTERM);
    if (!qtest_process_wait(p, STOP_TIMEOUT_MS)) {
        kill(p->pid, SIGKILL);
        qtest_process_wait(p, STOP_TIMEOUT_MS);
    }
}

void qtest_kill_children(QTestState *s)
{
    /* The VMM first: closing its ends of the sockets lets the remotes see
     * EOF and exit by themselves, which is the normal way they end. */
    if (s->vmm.pid > 0 && !qtest_process_poll(&s->vmm)) {
        kill(s->vmm.pid, SIGTERM);
        process_stop(&s->vmm, STOP_TIMEOUT_MS);
    }
    for (unsigned i = 0; i < s->nremotes; i++) {
        process_stop(&s->remotes[i], STOP_TIMEOUT_MS);
    }
}

void qtest_print_stderr(const char *who, const char *text)
{
    g_auto(GStrv) lines = NULL;

    if (!text || !*text) {
        return;
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (**l) {
            g_printerr("%s: %s\n", who, *l);
        }
    }
}

void qtest_set_broken(QTestState *s, const char *what)
{
    g_autofree char *vmm_err = NULL;

    if (s->broken) {
        return;
    }
    s->broken = true;
    g_printerr("libqtest: %s\n", what);
    vmm_err = qtest_vmm_stderr(s);
    qtest_print_stderr("vmm", vmm_err);
    for (unsigned i = 0; i < s->nremotes; i++) {
        g_autofree char *e = qtest_remote_stderr(s, i);
        qtest_print_stderr("remote", e);
    }
    if (g_test_initialized()) {
        g_test_fail();
    }
}

