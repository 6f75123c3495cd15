/*
 * -add-fd and /dev/fdset/N (util/fdset.c): which fd a name opens, and
 * every way it refuses.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/fdset.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* A memory file opened with @flags (its own open file description). */
static int file_with_flags(int flags)
{
    int fd = memfd_create("fdset-test", MFD_CLOEXEC);
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);
    int reopened;

    g_assert_cmpint(fd, >=, 0);
    reopened = open(path, flags);
    g_assert_cmpint(reopened, >=, 0);
    close(fd);
    return reopened;
}

static void add(int fd, unsigned set)
{
    g_autofree char *arg = g_strdup_printf("fd=%d,set=%u", fd, set);
    g_autoptr(GError) err = NULL;

    g_assert_true(fdset_add_option(arg, &err));
    g_assert_no_error(err);
}

static bool same_file(int a, int b)
{
    struct stat sa, sb;

    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void test_open_picks_the_fd_with_the_access_mode(void)
{
    int ro = file_with_flags(O_RDONLY);
    int rw = file_with_flags(O_RDWR);
    int a, b;

    add(ro, 1);
    add(rw, 1);
    a = qemu_open("/dev/fdset/1", O_RDWR, 0);
    b = qemu_open("/dev/fdset/1", O_RDONLY, 0);

    g_assert_cmpint(a, >=, 0);
    g_assert_cmpint(b, >=, 0);
    g_assert_true(same_file(a, rw));
    g_assert_true(same_file(b, ro));
    g_assert_cmpint(fcntl(a, F_GETFL) & O_ACCMODE, ==, O_RDWR);
    g_assert_cmpint(fcntl(a, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
    close(a);
    close(b);
    fdset_close_all();
}

static void test_open_without_matching_mode_is_eacces(void)
{
    add(file_with_flags(O_RDONLY), 2);

    g_assert_cmpint(qemu_open("/dev/fdset/2", O_RDWR, 0), ==, -1);
    g_assert_cmpint(errno, ==, EACCES);
    fdset_close_all();
}

static void test_open_of_missing_set_is_enoent(void)
{
    g_assert_cmpint(qemu_open("/dev/fdset/7", O_RDONLY, 0), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);
    g_assert_cmpint(qemu_open("/dev/fdset/x", O_RDONLY, 0), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);
}

static void test_open_applies_nonblock(void)
{
    int fd;

    add(file_with_flags(O_RDWR), 3);
    fd = qemu_open("/dev/fdset/3", O_RDWR | O_NONBLOCK, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fcntl(fd, F_GETFL) & O_NONBLOCK, ==, O_NONBLOCK);
    close(fd);
    fdset_close_all();
}

static void test_close_all_keeps_the_duplicates(void)
{
    int orig = file_with_flags(O_RDWR);
    int dup_fd;

    add(orig, 4);
    dup_fd = qemu_open("/dev/fdset/4", O_RDWR, 0);
    fdset_close_all();

    g_assert_cmpint(fcntl(orig, F_GETFD), ==, -1);
    g_assert_cmpint(fcntl(dup_fd, F_GETFD), >=, 0);
    g_assert_cmpint(qemu_open("/dev/fdset/4", O_RDWR, 0), ==, -1);
    close(dup_fd);
}

static void test_other_paths_are_opened(void)
{
    int fd = qemu_open("/dev/null", O_RDONLY, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
    close(fd);
}

static void assert_refused(const char *arg, const char *message)
{
    g_autoptr(GError) err = NULL;

    g_assert_false(fdset_add_option(arg, &err));
    g_assert_cmpstr(err->message, ==, message);
}

static void test_add_fd_refusals(void)
{
    int fd = file_with_flags(O_RDONLY);
    g_autofree char *twice = g_strdup_printf("fd=%d,set=5", fd);
    g_autofree char *twice_msg = g_strdup_printf("fd %d is already in fd "
                                                 "set 5", fd);

    assert_refused("set=1", "fd option is required and must be "
                   "non-negative");
    assert_refused("fd=-3,set=1", "fd option is required and must be "
                   "non-negative");
    assert_refused("fd=9", "set option is required and must be "
                   "non-negative");
    assert_refused("fd=2,set=1", "fd cannot be a standard I/O stream");
    assert_refused("fd=1000000,set=1", "fd 1000000 is not open");
    assert_refused("fd=5,set=1,size=2", "Invalid parameter 'size'");
    add(fd, 5);
    assert_refused(twice, twice_msg);
    fdset_close_all();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fdset/open-picks-the-fd-with-the-access-mode",
                    test_open_picks_the_fd_with_the_access_mode);
    g_test_add_func("/fdset/open-without-matching-mode-is-eacces",
                    test_open_without_matching_mode_is_eacces);
    g_test_add_func("/fdset/open-of-missing-set-is-enoent",
                    test_open_of_missing_set_is_enoent);
    g_test_add_func("/fdset/open-applies-nonblock",
                    test_open_applies_nonblock);
    g_test_add_func("/fdset/close-all-keeps-the-duplicates",
                    test_close_all_keeps_the_duplicates);
    g_test_add_func("/fdset/other-paths-are-opened",
                    test_other_paths_are_opened);
    g_test_add_func("/fdset/add-fd-refusals", test_add_fd_refusals);
    return g_test_run();
}
