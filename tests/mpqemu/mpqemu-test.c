/*
 * Helpers for the mpqemu process-level tests (see mpqemu-test.h).
 */
#include "mpqemu-test.h"

#include <glib/gstdio.h>
#include <pwd.h>
#include <sys/wait.h>

bool mpqemu_test_start(MPQemuTest *t, const char *const *devices,
                       const char *const *extra_args)
{
    const char *binary = g_getenv("QEMU_REMOTE");
    /* Options every process of this run gets (e.g. "-sandbox
     * on,debug=eperm" while writing a policy). */
    const char *env_args = g_getenv("QEMU_REMOTE_ARGS");
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) env_argv = NULL;
    GError *err = NULL;

    memset(t, 0, sizeof(*t));
    if (!binary) {
        g_test_skip("QEMU_REMOTE is not set (run through meson test)");
        return false;
    }
    /* QEMU_REMOTE_CONFINED=1 (meson's confined runs): as in production,
     * sandboxed and unprivileged: run as root, qemu-remote drops to
     * "nobody"; run as another user, it is one already. */
    if (g_strcmp0(g_getenv("QEMU_REMOTE_CONFINED"), "1") == 0) {
        g_ptr_array_add(args, g_strdup("-sandbox"));
        g_ptr_array_add(args, g_strdup("on"));
        if (geteuid() == 0) {
            if (!getpwnam("nobody")) {
                g_test_skip("no user 'nobody' to run qemu-remote as");
                return false;
            }
            g_ptr_array_add(args, g_strdup("-run-with"));
            g_ptr_array_add(args, g_strdup("user=nobody"));
        }
    }
    if (env_args && *env_args) {
        g_assert_true(g_shell_parse_argv(env_args, NULL, &env_argv, NULL));
        for (char **a = env_argv; *a; a++) {
            g_ptr_array_add(args, g_strdup(*a));
        }
    }
    for (const char *const *a = extra_args; a && *a; a++) {
        g_ptr_array_add(args, g_strdup(*a));
    }
    g_ptr_array_add(args, NULL);
    extra_args = (const char *const *)args->pdata;
    t->dir = g_dir_make_tmp("mpqemu-test-XXXXXX", &err);
    g_assert_no_error(err);
    t->stderr_path = g_build_filename(t->dir, "stderr", NULL);
    t->remote = qemu_remote_spawn(binary, devices, extra_args,
                                  t->stderr_path, &err);
    g_assert_no_error(err);
    return true;
}

void mpqemu_test_stop(MPQemuTest *t)
{
    g_autofree char *log = NULL;
    int status = -1;
    bool exited;

    if (!t->dir) {
        return;
    }
    /* With its connections closed the process exits by itself, cleanly
     * (a sanitizer report would make the status non-zero). */
    qemu_remote_close_proxies(t->remote);
    exited = qemu_remote_wait(t->remote, TEST_WAIT_MS, &status);
    qemu_remote_free(t->remote);
    log = mpqemu_test_stderr(t);
    if (*log) {
        g_test_message("qemu-remote stderr:\n%s", log);
    }
    g_assert_true(exited);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_unlink(t->stderr_path);
    g_rmdir(t->dir);
    g_free(t->stderr_path);
    g_free(t->dir);
    memset(t, 0, sizeof(*t));
}

MPQemuProxy *mpqemu_test_proxy(MPQemuTest *t, unsigned index)
{
    return qemu_remote_proxy(t->remote, index);
}

pid_t mpqemu_test_pid(MPQemuTest *t)
{
    return qemu_remote_pid(t->remote);
}

char *mpqemu_test_stderr(MPQemuTest *t)
{
    char *text = NULL;

    if (!g_file_get_contents(t->stderr_path, &text, NULL, NULL)) {
        return g_strdup("");
    }
    return text;
}

unsigned proc_count_fds(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    unsigned n = 0;

    g_assert_nonnull(dir);
    while (g_dir_read_name(dir)) {
        n++;
    }
    return n;
}

unsigned proc_count_maps(pid_t pid, bool files_only)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", (int)pid);
    g_autofree char *maps = NULL;
    g_auto(GStrv) lines = NULL;
    unsigned n = 0;

    g_assert_true(g_file_get_contents(path, &maps, NULL, NULL));
    lines = g_strsplit(maps, "\n", -1);
    for (char **l = lines; *l; l++) {
        /* "addr perms offset dev inode [path]": files have an inode. */
        g_auto(GStrv) f = g_strsplit_set(*l, " ", -1);

        if (!**l) {
            continue;
        }
        if (!files_only || (g_strv_length(f) >= 5 && strcmp(f[4], "0"))) {
            n++;
        }
    }
    return n;
}

uint32_t config_read(MPQemuProxy *p, uint32_t addr, int len)
{
    GError *err = NULL;
    uint32_t v = 0;

    mpqemu_proxy_config_read(p, addr, len, &v, &err);
    g_assert_no_error(err);
    return v;
}

void config_write(MPQemuProxy *p, uint32_t addr, uint32_t val, int len)
{
    GError *err = NULL;

    mpqemu_proxy_config_write(p, addr, val, len, &err);
    g_assert_no_error(err);
}

void testdev_enable(MPQemuProxy *p)
{
    config_write(p, PCI_BASE_ADDRESS_0, TEST_MMIO_BASE, 4);
    config_write(p, PCI_BASE_ADDRESS_1, TEST_IO_BASE, 4);
    config_write(p, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO |
                 PCI_COMMAND_MASTER, 2);
}

uint32_t testdev_mmio_read(MPQemuProxy *p, uint32_t reg)
{
    GError *err = NULL;
    uint64_t v = 0;

    mpqemu_proxy_bar_read(p, true, TEST_MMIO_BASE + reg, 4, &v, &err);
    g_assert_no_error(err);
    return (uint32_t)v;
}

void testdev_mmio_write(MPQemuProxy *p, uint32_t reg, uint32_t val)
{
    GError *err = NULL;

    mpqemu_proxy_bar_write(p, true, TEST_MMIO_BASE + reg, 4, val, &err);
    g_assert_no_error(err);
}
