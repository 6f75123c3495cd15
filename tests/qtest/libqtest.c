/*
 * libqtest: starting and tearing down the VMM + remote pair.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "libqtest-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#define DEFAULT_RAM_SIZE    (256 * 1024 * 1024ULL)
#define MAX_RAM_SIZE        (2ULL << 30)   /* all of it below the PCI hole */
#define HLT_BIOS_SIZE       (64 * 1024)    /* the smallest BIOS image QEMU maps */
#define FIRST_SLOT          4              /* q35 uses 0 (MCH) and 0x1f (ICH9) */
#define STOP_TIMEOUT_MS     10000

/* States alive in this process, for the abort handler. */
#define MAX_LIVE_STATES 8
static QTestState *live_states[MAX_LIVE_STATES];
static char *scratch_dir;

static const char *vmm_binary(void)
{
    const char *b = g_getenv("QTEST_QEMU_BINARY");

    return b && *b ? b : "qemu-system-x86_64";
}

static const char *remote_binary(QTestRemote kind)
{
    const char *b;

    if (kind == QTEST_REMOTE_QEMU) {
        return vmm_binary();
    }
    b = g_getenv("QTEST_QEMU_REMOTE_BINARY");
    return b && *b ? b : "qemu-remote";
}

QTestRemote qtest_default_remote(void)
{
    const char *r = g_getenv("QTEST_REMOTE");

    if (r && strcmp(r, "qemu") == 0) {
        return QTEST_REMOTE_QEMU;
    }
    return QTEST_REMOTE_OURS;
}

static QTestRemote resolve_kind(QTestRemote kind)
{
    return kind == QTEST_REMOTE_DEFAULT ? qtest_default_remote() : kind;
}

const char *qtest_remote_name(QTestRemote kind)
{
    return resolve_kind(kind) == QTEST_REMOTE_QEMU ? "qemu" : "qemu-remote";
}

/* True when @text contains @word delimited by characters that cannot be
 * part of a device type name. */
static bool contains_word(const char *text, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        bool left = p == text || !(g_ascii_isalnum(p[-1]) || strchr("-_.", p[-1]));
        bool right = !(g_ascii_isalnum(p[n]) || (p[n] && strchr("-_.", p[n])));

        if (left && right) {
            return true;
        }
    }
    return false;
}

bool qtest_remote_has_device(QTestRemote kind, const char *type, char **why)
{
    static GHashTable *cache;
    g_autofree char *key = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err_out = NULL;
    g_autofree char *vmm = NULL;
    g_autofree char *prog = NULL;
    g_autoptr(GError) err = NULL;
    char *reason = NULL;
    const char *cached;
    int status = 0;

    kind = resolve_kind(kind);
    key = g_strdup_printf("%d:%s", kind, type);
    if (!cache) {
        cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    }
    if (g_hash_table_lookup_extended(cache, key, NULL, (gpointer *)&cached)) {
        if (why) {
            *why = g_strdup(cached);
        }
        return cached == NULL;
    }

    vmm = g_find_program_in_path(vmm_binary());
    prog = g_find_program_in_path(remote_binary(kind));
    if (!vmm) {
        reason = g_strdup_printf("%s not found", vmm_binary());
    } else if (!prog) {
        reason = g_strdup_printf("%s not found", remote_binary(kind));
    } else {
        const char *argv_ours[] = { prog, "-device", "help", NULL };
        const char *argv_qemu[] = { prog, "-machine", "x-remote", "-device",
                                    "help", NULL };

        if (!g_spawn_sync(NULL,
                          (char **)(kind == QTEST_REMOTE_QEMU ? argv_qemu
                                                              : argv_ours),
                          NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
                          &out, &err_out, &status, &err)) {
            reason = g_strdup_printf("cannot run %s: %s", prog, err->message);
        } else if (!g_spawn_check_wait_status(status, NULL)) {
            reason = g_strdup_printf("%s cannot list its devices yet "
                                     "('-device help' failed)",
                                     qtest_remote_name(kind));
        } else if (!contains_word(out, type) && !contains_word(err_out, type)) {
            reason = g_strdup_printf("%s has no %s yet",
                                     qtest_remote_name(kind), type);
        }
    }
    g_hash_table_insert(cache, g_steal_pointer(&key), reason);
    if (why) {
        *why = g_strdup(reason);
    }
    return reason == NULL;
}

/* --- small helpers ------------------------------------------------------- */

int64_t qtest_now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

static char *read_all_fd(int fd)
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

static int listen_unix(const char *path, GError **errp)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        error_setg(errp, "socket path too long: %s", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "socket");
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        listen(fd, 1) < 0) {
        error_setg_errno(errp, errno, "cannot listen on %s", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* Removes the regular files in @dir and @dir itself. */
static void remove_dir(const char *dir)
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
            remove_dir(s->dir);
        }
    }
    if (scratch_dir) {
        remove_dir(scratch_dir);
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

static void register_live(QTestState *s)
{
    install_abort_handler();
    for (unsigned i = 0; i < MAX_LIVE_STATES; i++) {
        if (!live_states[i]) {
            live_states[i] = s;
            return;
        }
    }
}

static void unregister_live(QTestState *s)
{
    for (unsigned i = 0; i < MAX_LIVE_STATES; i++) {
        if (live_states[i] == s) {
            live_states[i] = NULL;
        }
    }
}

static void remove_scratch_dir(void)
{
    remove_dir(scratch_dir);
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

static bool spawn(QTestState *s, QTestProcess *p, GPtrArray *argv,
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

static bool add_shell_args(GPtrArray *argv, const char *args, GError **errp)
{
    g_auto(GStrv) v = NULL;

    if (!args || !*args) {
        return true;
    }
    if (!g_shell_parse_argv(args, NULL, &v, errp)) {
        return false;
    }
    for (char **a = v; *a; a++) {
        g_ptr_array_add(argv, g_strdup(*a));
    }
    return true;
}

static bool process_poll(QTestProcess *p)
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

static bool process_wait(QTestProcess *p, unsigned timeout_ms)
{
    int64_t deadline = qtest_now_ms() + timeout_ms;

    while (!process_poll(p)) {
        if (qtest_now_ms() >= deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

static void process_stop(QTestProcess *p, unsigned grace_ms)
{
    if (p->pid <= 0 || process_wait(p, grace_ms)) {
        return;
    }
    kill(p->pid, SIGTERM);
    if (!process_wait(p, STOP_TIMEOUT_MS)) {
        kill(p->pid, SIGKILL);
        process_wait(p, STOP_TIMEOUT_MS);
    }
}

void qtest_kill_children(QTestState *s)
{
    /* The VMM first: closing its ends of the sockets lets the remotes see
     * EOF and exit by themselves, which is the normal way they end. */
    if (s->vmm.pid > 0 && !process_poll(&s->vmm)) {
        kill(s->vmm.pid, SIGTERM);
        process_stop(&s->vmm, STOP_TIMEOUT_MS);
    }
    for (unsigned i = 0; i < s->nremotes; i++) {
        process_stop(&s->remotes[i], STOP_TIMEOUT_MS);
    }
}

static void print_stderr(const char *who, const char *text)
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
    print_stderr("vmm", vmm_err);
    for (unsigned i = 0; i < s->nremotes; i++) {
        g_autofree char *e = qtest_remote_stderr(s, i);
        print_stderr("remote", e);
    }
    if (g_test_initialized()) {
        g_test_fail();
    }
}

/* --- start ------------------------------------------------------------------- */

static bool write_hlt_bios(const char *path, GError **errp)
{
    g_autofree char *bios = g_malloc(HLT_BIOS_SIZE);

    /* 0xf4 is "hlt": the CPU stops at the reset vector and stays there. */
    memset(bios, 0xf4, HLT_BIOS_SIZE);
    return g_file_set_contents(path, bios, HLT_BIOS_SIZE, errp);
}

static bool start_remotes(QTestState *s, const QTestOptions *opts,
                          const int *remote_ends, GError **errp)
{
    const char *prog = remote_binary(s->kind);

    if (s->kind == QTEST_REMOTE_OURS) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        int dst[QTEST_MAX_DEVICES];

        g_ptr_array_add(argv, g_strdup(prog));
        g_ptr_array_add(argv, g_strdup("-machine"));
        g_ptr_array_add(argv, g_strdup("x-remote"));
        if (!add_shell_args(argv, opts->remote_args, errp)) {
            return false;
        }
        for (unsigned i = 0; i < s->ndevices; i++) {
            if (!add_shell_args(argv, opts->devices[i].args, errp)) {
                return false;
            }
            dst[i] = 3 + i;
            g_ptr_array_add(argv, g_strdup("-object"));
            g_ptr_array_add(argv, g_strdup_printf(
                "x-remote-object,id=robj%u,devid=%s,fd=%d", i, s->dev_ids[i],
                dst[i]));
            s->dev_remote[i] = 0;
        }
        s->nremotes = 1;
        return spawn(s, &s->remotes[0], argv, remote_ends, dst, s->ndevices,
                     errp);
    }

    /* QEMU's remote serves one x-remote-object per process. */
    for (unsigned i = 0; i < s->ndevices; i++) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        int dst = 3;

        g_ptr_array_add(argv, g_strdup(prog));
        g_ptr_array_add(argv, g_strdup("-machine"));
        g_ptr_array_add(argv, g_strdup("x-remote"));
        g_ptr_array_add(argv, g_strdup("-nodefaults"));
        g_ptr_array_add(argv, g_strdup("-display"));
        g_ptr_array_add(argv, g_strdup("none"));
        if (!add_shell_args(argv, opts->remote_args, errp) ||
            !add_shell_args(argv, opts->devices[i].args, errp)) {
            return false;
        }
        g_ptr_array_add(argv, g_strdup("-object"));
        g_ptr_array_add(argv, g_strdup_printf(
            "x-remote-object,id=robj0,devid=%s,fd=%d", s->dev_ids[i], dst));
        s->dev_remote[i] = i;
        s->nremotes = i + 1;
        if (!spawn(s, &s->remotes[i], argv, &remote_ends[i], &dst, 1, errp)) {
            return false;
        }
    }
    return true;
}

static bool start_vmm(QTestState *s, const QTestOptions *opts,
                      const int *vmm_ends, GError **errp)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *qtest_path = g_build_filename(s->dir, "qtest.sock", NULL);
    g_autofree char *qmp_path = g_build_filename(s->dir, "qmp.sock", NULL);
    uint64_t mib = s->ram_size >> 20;
    int dst[QTEST_MAX_DEVICES];

    g_ptr_array_add(argv, g_strdup(vmm_binary()));
    g_ptr_array_add(argv, g_strdup("-accel"));
    g_ptr_array_add(argv, g_strdup("tcg"));
    g_ptr_array_add(argv, g_strdup("-qtest"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s", qtest_path));
    g_ptr_array_add(argv, g_strdup("-qtest-log"));
    g_ptr_array_add(argv, g_strdup("/dev/null"));
    g_ptr_array_add(argv, g_strdup("-qmp"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s", qmp_path));
    g_ptr_array_add(argv, g_strdup("-machine"));
    g_ptr_array_add(argv, g_strdup("q35,memory-backend=mem"));
    g_ptr_array_add(argv, g_strdup("-object"));
    g_ptr_array_add(argv, g_strdup_printf(
        "memory-backend-memfd,id=mem,size=%" PRIu64 "M,share=on", mib));
    g_ptr_array_add(argv, g_strdup("-m"));
    g_ptr_array_add(argv, g_strdup_printf("%" PRIu64 "M", mib));
    g_ptr_array_add(argv, g_strdup("-nodefaults"));
    g_ptr_array_add(argv, g_strdup("-display"));
    g_ptr_array_add(argv, g_strdup("none"));
    if (s->bios_path) {
        g_ptr_array_add(argv, g_strdup("-bios"));
        g_ptr_array_add(argv, g_strdup(s->bios_path));
    } else {
        g_ptr_array_add(argv, g_strdup("-S"));
    }
    if (!add_shell_args(argv, opts->vmm_args, errp)) {
        return false;
    }
    for (unsigned i = 0; i < s->ndevices; i++) {
        dst[i] = 3 + i;
        g_ptr_array_add(argv, g_strdup("-device"));
        g_ptr_array_add(argv, g_strdup_printf(
            "x-pci-proxy-dev,id=%s,fd=%d,addr=0x%x", s->dev_ids[i], dst[i],
            s->dev_slots[i]));
    }
    return spawn(s, &s->vmm, argv, vmm_ends, dst, s->ndevices, errp);
}

/* Accepts the VMM's connection on @lfd, failing early if the VMM dies. */
static int accept_vmm(QTestState *s, int lfd, const char *what,
                      int64_t deadline, GError **errp)
{
    for (;;) {
        struct pollfd pfd = { .fd = lfd, .events = POLLIN };
        int fd;

        if (poll(&pfd, 1, 20) > 0) {
            fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                return fd;
            }
        }
        if (process_poll(&s->vmm)) {
            error_setg(errp, "the VMM exited before connecting its %s socket",
                       what);
            return -1;
        }
        if (qtest_now_ms() >= deadline) {
            error_setg(errp, "the VMM did not connect its %s socket in time",
                       what);
            return -1;
        }
    }
}

static bool qmp_handshake(QTestState *s, int64_t deadline, GError **errp)
{
    g_autofree char *greeting = qtest_channel_read_line(&s->qmp, deadline);
    g_autoptr(JsonNode) reply = NULL;

    if (!greeting || !strstr(greeting, "\"QMP\"")) {
        error_setg(errp, "no QMP greeting from the VMM");
        return false;
    }
    reply = qtest_qmp(s, "{\"execute\": \"qmp_capabilities\"}");
    if (!reply || !json_object_has_member(json_node_get_object(reply),
                                          "return")) {
        error_setg(errp, "QMP capability negotiation failed");
        return false;
    }
    return true;
}

static void append_stderr(QTestState *s, GError **errp)
{
    g_autofree char *vmm = NULL;

    if (!errp || !*errp) {
        return;
    }
    vmm = qtest_vmm_stderr(s);
    if (vmm && *vmm) {
        g_prefix_error(errp, "%s\n", g_strstrip(vmm));
    }
    for (unsigned i = 0; i < s->nremotes; i++) {
        g_autofree char *r = qtest_remote_stderr(s, i);

        if (r && *r) {
            g_prefix_error(errp, "%s\n", g_strstrip(r));
        }
    }
}

QTestState *qtest_start(const QTestOptions *opts, GError **errp)
{
    g_autofree char *vmm_path = g_find_program_in_path(vmm_binary());
    QTestState *s;
    int vmm_ends[QTEST_MAX_DEVICES], remote_ends[QTEST_MAX_DEVICES];
    int qtest_lfd = -1, qmp_lfd = -1;
    g_autofree char *qtest_path = NULL;
    g_autofree char *qmp_path = NULL;
    int64_t deadline;
    bool ok = false;

    if (!vmm_path) {
        error_setg(errp, "%s not found", vmm_binary());
        return NULL;
    }
    if (opts->ram_size % (1 << 20) || opts->ram_size > MAX_RAM_SIZE) {
        error_setg(errp, "ram_size must be a multiple of 1 MiB up to 2 GiB");
        return NULL;
    }

    s = g_new0(QTestState, 1);
    s->kind = resolve_kind(opts->remote);
    s->ram_size = opts->ram_size ? opts->ram_size : DEFAULT_RAM_SIZE;
    s->alloc_next = 1 << 20;
    s->vmm.stderr_fd = -1;
    s->qtest.fd = s->qmp.fd = -1;
    s->qtest.inbuf = g_string_new(NULL);
    s->qmp.inbuf = g_string_new(NULL);
    g_queue_init(&s->events);
    for (unsigned i = 0; i < QTEST_MAX_DEVICES; i++) {
        s->remotes[i].stderr_fd = -1;
        vmm_ends[i] = remote_ends[i] = -1;
    }
    s->dir = g_dir_make_tmp("qtest-XXXXXX", errp);
    if (!s->dir) {
        qtest_quit(s);
        return NULL;
    }
    register_live(s);

    for (unsigned i = 0; i < QTEST_MAX_DEVICES && opts->devices[i].id; i++) {
        int sv[2];

        s->dev_ids[i] = g_strdup(opts->devices[i].id);
        s->dev_slots[i] = opts->devices[i].slot ? opts->devices[i].slot
                                                : FIRST_SLOT + i;
        s->ndevices = i + 1;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            error_setg_errno(errp, errno, "socketpair");
            goto out;
        }
        vmm_ends[i] = sv[0];
        remote_ends[i] = sv[1];
    }

    qtest_path = g_build_filename(s->dir, "qtest.sock", NULL);
    qmp_path = g_build_filename(s->dir, "qmp.sock", NULL);
    qtest_lfd = listen_unix(qtest_path, errp);
    if (qtest_lfd < 0) {
        goto out;
    }
    qmp_lfd = listen_unix(qmp_path, errp);
    if (qmp_lfd < 0) {
        goto out;
    }
    if (opts->running) {
        s->bios_path = g_build_filename(s->dir, "hlt-bios.bin", NULL);
        if (!write_hlt_bios(s->bios_path, errp)) {
            goto out;
        }
    }

    if (s->ndevices && !start_remotes(s, opts, remote_ends, errp)) {
        goto out;
    }
    if (!start_vmm(s, opts, vmm_ends, errp)) {
        goto out;
    }
    for (unsigned i = 0; i < s->ndevices; i++) {
        close(vmm_ends[i]);
        close(remote_ends[i]);
        vmm_ends[i] = remote_ends[i] = -1;
    }

    deadline = qtest_now_ms() + QTEST_TIMEOUT_MS;
    s->qtest.fd = accept_vmm(s, qtest_lfd, "qtest", deadline, errp);
    if (s->qtest.fd < 0) {
        goto out;
    }
    s->qmp.fd = accept_vmm(s, qmp_lfd, "QMP", deadline, errp);
    if (s->qmp.fd < 0) {
        goto out;
    }
    if (!qmp_handshake(s, deadline, errp)) {
        goto out;
    }
    /* QMP answers only once the machine is built: every proxy has done its
     * realize exchange with its remote by now. */
    for (unsigned i = 0; i < s->nremotes; i++) {
        if (process_poll(&s->remotes[i])) {
            error_setg(errp, "remote %u exited during start-up (status 0x%x)",
                       i, s->remotes[i].wstatus);
            goto out;
        }
    }
    ok = true;

out:
    for (unsigned i = 0; i < QTEST_MAX_DEVICES; i++) {
        if (vmm_ends[i] >= 0) {
            close(vmm_ends[i]);
        }
        if (remote_ends[i] >= 0) {
            close(remote_ends[i]);
        }
    }
    if (qtest_lfd >= 0) {
        close(qtest_lfd);
        unlink(qtest_path);
    }
    if (qmp_lfd >= 0) {
        close(qmp_lfd);
        unlink(qmp_path);
    }
    if (!ok) {
        append_stderr(s, errp);
        qtest_quit(s);
        return NULL;
    }
    return s;
}

/* --- teardown and accessors ---------------------------------------------- */

void qtest_quit(QTestState *s)
{
    if (!s) {
        return;
    }
    qtest_kill_children(s);
    for (unsigned i = 0; i < s->nremotes; i++) {
        g_autofree char *e = qtest_remote_stderr(s, i);

        if (!s->broken) {
            print_stderr(qtest_remote_name(s->kind), e);
        }
        if (s->remotes[i].stderr_fd >= 0) {
            close(s->remotes[i].stderr_fd);
        }
    }
    if (s->vmm.stderr_fd >= 0) {
        close(s->vmm.stderr_fd);
    }
    if (s->qtest.fd >= 0) {
        close(s->qtest.fd);
    }
    if (s->qmp.fd >= 0) {
        close(s->qmp.fd);
    }
    g_string_free(s->qtest.inbuf, TRUE);
    g_string_free(s->qmp.inbuf, TRUE);
    g_queue_clear_full(&s->events, (GDestroyNotify)json_node_unref);
    unregister_live(s);
    if (s->dir) {
        remove_dir(s->dir);
    }
    for (unsigned i = 0; i < s->ndevices; i++) {
        g_free(s->dev_ids[i]);
    }
    g_free(s->bios_path);
    g_free(s->dir);
    g_free(s);
}

/* Report headers of ASan, LSan and UBSan. */
static bool has_sanitizer_report(const char *text)
{
    return strstr(text, "AddressSanitizer") || strstr(text, "LeakSanitizer") ||
           strstr(text, "runtime error:");
}

bool qtest_shutdown_cleanly(QTestState *s, GError **errp)
{
    int st;

    if (!qtest_qmp_ok(s, "{\"execute\": \"quit\"}")) {
        error_setg(errp, "QMP quit failed");
        return false;
    }
    if (!process_wait(&s->vmm, QTEST_TIMEOUT_MS)) {
        error_setg(errp, "the VMM did not exit after quit");
        return false;
    }
    for (unsigned i = 0; i < s->nremotes; i++) {
        g_autofree char *text = NULL;

        if (!process_wait(&s->remotes[i], QTEST_TIMEOUT_MS)) {
            error_setg(errp, "remote %u did not exit after the VMM", i);
            return false;
        }
        st = s->remotes[i].wstatus;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            error_setg(errp, "remote %u ended with wait status 0x%x", i, st);
            return false;
        }
        text = qtest_remote_stderr(s, i);
        if (has_sanitizer_report(text)) {
            error_setg(errp, "remote %u wrote a sanitizer report:\n%s", i,
                       text);
            return false;
        }
    }
    return true;
}

QTestRemote qtest_remote_kind(QTestState *s)
{
    return s->kind;
}

bool qtest_ok(QTestState *s)
{
    return !s->broken;
}

const char *qtest_tmpdir(QTestState *s)
{
    return s->dir;
}

unsigned qtest_remote_count(QTestState *s)
{
    return s->nremotes;
}

int qtest_remote_for_device(QTestState *s, const char *id)
{
    for (unsigned i = 0; i < s->ndevices; i++) {
        if (strcmp(s->dev_ids[i], id) == 0) {
            return s->dev_remote[i];
        }
    }
    return -1;
}

pid_t qtest_remote_pid(QTestState *s, unsigned idx)
{
    return idx < s->nremotes ? s->remotes[idx].pid : -1;
}

pid_t qtest_vmm_pid(QTestState *s)
{
    return s->vmm.pid;
}

bool qtest_vmm_wait(QTestState *s, unsigned timeout_ms, int *wstatus)
{
    if (!process_wait(&s->vmm, timeout_ms)) {
        return false;
    }
    *wstatus = s->vmm.wstatus;
    return true;
}

bool qtest_remote_wait(QTestState *s, unsigned idx, unsigned timeout_ms,
                       int *wstatus)
{
    if (idx >= s->nremotes || !process_wait(&s->remotes[idx], timeout_ms)) {
        return false;
    }
    *wstatus = s->remotes[idx].wstatus;
    return true;
}

char *qtest_remote_stderr(QTestState *s, unsigned idx)
{
    return read_all_fd(idx < s->nremotes ? s->remotes[idx].stderr_fd : -1);
}

char *qtest_vmm_stderr(QTestState *s)
{
    return read_all_fd(s->vmm.stderr_fd);
}

int qtest_device_devfn(QTestState *s, const char *id)
{
    for (unsigned i = 0; i < s->ndevices; i++) {
        if (strcmp(s->dev_ids[i], id) == 0) {
            return s->dev_slots[i] << 3;
        }
    }
    return -1;
}

uint64_t qtest_ram_size(QTestState *s)
{
    return s->ram_size;
}
