/*
 * libqtest: starting and tearing down the VMM + remote pair.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "libqtest-internal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#define DEFAULT_RAM_SIZE    (256 * 1024 * 1024ULL)
#define MAX_RAM_SIZE        (2ULL << 30)   /* all of it below the PCI hole */
#define HLT_BIOS_SIZE       (64 * 1024)    /* the smallest BIOS image QEMU maps */
#define FIRST_SLOT          4              /* q35 uses 0 (MCH) and 0x1f (ICH9) */

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
        /* Every story runs confined, so the seccomp allowlists meet a real
         * VMM's traffic; QEMU_REMOTE_ARGS may add to it (a later -sandbox
         * wins: "-sandbox on,debug=eperm" names a blocked call). */
        g_ptr_array_add(argv, g_strdup("-sandbox"));
        g_ptr_array_add(argv, g_strdup("on"));
        if (!add_shell_args(argv, g_getenv("QEMU_REMOTE_ARGS"), errp) ||
            !add_shell_args(argv, opts->remote_args, errp)) {
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
        return qtest_spawn(s, &s->remotes[0], argv, remote_ends, dst,
                           s->ndevices, errp);
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
        if (!qtest_spawn(s, &s->remotes[i], argv, &remote_ends[i], &dst, 1,
                         errp)) {
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
    return qtest_spawn(s, &s->vmm, argv, vmm_ends, dst, s->ndevices, errp);
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
        if (qtest_process_poll(&s->vmm)) {
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
    qtest_register_live(s);

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
        if (qtest_process_poll(&s->remotes[i])) {
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
            qtest_print_stderr(qtest_remote_name(s->kind), e);
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
    qtest_unregister_live(s);
    if (s->dir) {
        qtest_remove_dir(s->dir);
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
    if (!qtest_process_wait(&s->vmm, QTEST_TIMEOUT_MS)) {
        error_setg(errp, "the VMM did not exit after quit");
        return false;
    }
    for (unsigned i = 0; i < s->nremotes; i++) {
        g_autofree char *text = NULL;

        if (!qtest_process_wait(&s->remotes[i], QTEST_TIMEOUT_MS)) {
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
    if (!qtest_process_wait(&s->vmm, timeout_ms)) {
        return false;
    }
    *wstatus = s->vmm.wstatus;
    return true;
}

bool qtest_remote_wait(QTestState *s, unsigned idx, unsigned timeout_ms,
                       int *wstatus)
{
    if (idx >= s->nremotes || !qtest_process_wait(&s->remotes[idx], timeout_ms)) {
        return false;
    }
    *wstatus = s->remotes[idx].wstatus;
    return true;
}

char *qtest_remote_stderr(QTestState *s, unsigned idx)
{
    return qtest_read_fd(idx < s->nremotes ? s->remotes[idx].stderr_fd : -1);
}

char *qtest_vmm_stderr(QTestState *s)
{
    return qtest_read_fd(s->vmm.stderr_fd);
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
