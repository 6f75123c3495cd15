/*
 * unix_socket_listen(): stale, live and non-socket files at the path, and a
 * socket file that only appears once it accepts connections.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/sockets.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static char *tmpdir;

static char *sock_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static bool can_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(fd);
    return ok;
}

static void test_listen_creates_a_connectable_socket(void)
{
    g_autofree char *path = sock_path("fresh");
    g_autoptr(GError) err = NULL;
    int fd = unix_socket_listen(path, 1, &err);

    g_assert_no_error(err);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(can_connect(path));
    close(fd);
    unlink(path);
}

static void test_listen_replaces_a_stale_socket(void)
{
    g_autofree char *path = sock_path("stale");
    g_autoptr(GError) err = NULL;
    int first = unix_socket_listen(path, 1, NULL);
    int second;

    close(first); /* the file stays behind, nobody accepts on it */
    second = unix_socket_listen(path, 1, &err);
    g_assert_no_error(err);
    g_assert_true(can_connect(path));
    close(second);
    unlink(path);
}

static void test_listen_refuses_a_live_socket(void)
{
    g_autofree char *path = sock_path("live");
    g_autoptr(GError) err = NULL;
    int first = unix_socket_listen(path, 1, NULL);
    int second = unix_socket_listen(path, 1, &err);

    g_assert_cmpint(second, ==, -1);
    g_assert_nonnull(strstr(err->message, "another process"));
    g_assert_true(can_connect(path)); /* the first one still serves */
    close(first);
    unlink(path);
}

static void test_listen_refuses_a_regular_file(void)
{
    g_autofree char *path = sock_path("file");
    g_autoptr(GError) err = NULL;
    struct stat st;

    g_assert_true(g_file_set_contents(path, "keep me", -1, NULL));
    g_assert_cmpint(unix_socket_listen(path, 1, &err), ==, -1);
    g_assert_nonnull(strstr(err->message, "not a socket"));
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    unlink(path);
}

static void test_listen_leaves_no_temporary_file(void)
{
    g_autofree char *path = sock_path("tidy");
    int fd = unix_socket_listen(path, 1, NULL);
    g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name(dir))) {
        g_assert_null(strstr(name, ".tmp"));
    }
    close(fd);
    unlink(path);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("test-unix-socket-XXXXXX", NULL);
    g_test_add_func("/unix-socket/listen-creates-a-connectable-socket",
                    test_listen_creates_a_connectable_socket);
    g_test_add_func("/unix-socket/listen-replaces-a-stale-socket",
                    test_listen_replaces_a_stale_socket);
    g_test_add_func("/unix-socket/listen-refuses-a-live-socket",
                    test_listen_refuses_a_live_socket);
    g_test_add_func("/unix-socket/listen-refuses-a-regular-file",
                    test_listen_refuses_a_regular_file);
    g_test_add_func("/unix-socket/listen-leaves-no-temporary-file",
                    test_listen_leaves_no_temporary_file);
    ret = g_test_run();
    rmdir(tmpdir);
    g_free(tmpdir);
    return ret;
}
