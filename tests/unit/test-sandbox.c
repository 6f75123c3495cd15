/*
 * The seccomp sandbox and the privilege drop (util/sandbox.c,
 * util/privileges.c).  Each story forks: the child installs the filter (or
 * drops privileges), makes the system call the story is about, and reports
 * through its exit status or the signal that killed it.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/sandbox.h"
#include "util/sandbox-internal.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Child exit codes. */
enum {
    CHILD_OK = 0,
    CHILD_SETUP_FAILED = 90,
    CHILD_CALL_SUCCEEDED = 91,
    CHILD_WRONG_ERRNO = 92,
};

/* A policy of the test's own: AF_UNIX sockets only. */
static const SandboxRule unix_socket_rules[] = {
    SANDBOX_ALLOW_ARG_EQ("socket", 0, AF_UNIX),
    SANDBOX_RULES_END
};

static const SandboxPolicy unix_socket_policy = {
    .name = "test-unix-sockets",
    .rules = unix_socket_rules,
};

/* The same rule as unix_socket_policy's, in another policy. */
static const SandboxPolicy unix_socket_again_policy = {
    .name = "test-unix-sockets-again",
    .rules = unix_socket_rules,
};

/* One that no other policy has, to count. */
static const SandboxRule getcpu_rules[] = {
    SANDBOX_ALLOW("getcpu"),
    SANDBOX_RULES_END
};

static const SandboxPolicy getcpu_policy = {
    .name = "test-getcpu",
    .rules = getcpu_rules,
};

static const SandboxPolicy *const includes_getcpu[] = {
    &getcpu_policy, NULL
};

static const SandboxPolicy includer_policy = {
    .name = "test-includer",
    .rules = unix_socket_rules,
    .includes = includes_getcpu,
};

/* In the child: -sandbox @option with @policy required, installed. */
static void child_install(const char *option, const SandboxPolicy *policy)
{
    if (!sandbox_parse_option(option, NULL) ||
        !sandbox_require(policy, NULL) ||
        !sandbox_install(NULL)) {
        _exit(CHILD_SETUP_FAILED);
    }
}

/* Runs @fn in a child with stderr going to a pipe; returns the wait
 * status and (if @err_out) what the child wrote on stderr. */
static int run_child(void (*fn)(void), char **err_out)
{
    int pipefd[2];
    GString *err = g_string_new(NULL);
    char buf[512];
    ssize_t n;
    int status;
    pid_t pid;

    g_assert_cmpint(pipe2(pipefd, O_CLOEXEC), ==, 0);
    fflush(stdout);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        fn();
        _exit(CHILD_OK);
    }
    close(pipefd[1]);
    while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) {
        g_string_append_len(err, buf, n);
    }
    close(pipefd[0]);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    if (err_out) {
        *err_out = g_string_free(err, FALSE);
    } else {
        g_string_free(err, TRUE);
    }
    return status;
}

static void assert_exited(int status, int code)
{
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, code);
}

static void assert_killed_by_sigsys(int status)
{
    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGSYS);
}

/* --- what the children do ---------------------------------------------- */

static void child_allowed_calls_work(void)
{
    void *p;

    child_install("on", NULL);
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED || munmap(p, 4096) < 0 || getpid() <= 0) {
        _exit(CHILD_CALL_SUCCEEDED);
    }
}

static void child_socket_inet(void)
{
    child_install("on", &unix_socket_policy);
    socket(AF_INET, SOCK_STREAM, 0);
    _exit(CHILD_CALL_SUCCEEDED);
}

static void child_socket_unix(void)
{
    child_install("on", &unix_socket_policy);
    if (socket(AF_UNIX, SOCK_STREAM, 0) < 0) {
        _exit(CHILD_SETUP_FAILED);
    }
}

static void child_same_rule_twice(void)
{
    if (!sandbox_parse_option("on", NULL) ||
        !sandbox_require(&unix_socket_policy, NULL) ||
        !sandbox_require(&unix_socket_again_policy, NULL) ||
        !sandbox_install(NULL) ||
        socket(AF_UNIX, SOCK_STREAM, 0) < 0) {
        _exit(CHILD_SETUP_FAILED);
    }
}

static void child_mmap_exec(void)
{
    child_install("on", NULL);
    mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
         0);
    _exit(CHILD_CALL_SUCCEEDED);
}

static void child_mprotect_exec(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    child_install("on", NULL);
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
    _exit(CHILD_CALL_SUCCEEDED);
}

static void child_fork(void)
{
    child_install("on", NULL);
    /* glibc's fork() is clone() without CLONE_THREAD. */
    syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
    _exit(CHILD_CALL_SUCCEEDED);
}

static void child_fork_with_spawn_allowed(void)
{
    pid_t pid;

    child_install("on,spawn=allow", NULL);
    pid = fork();
    if (pid == 0) {
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, NULL, 0) != pid) {
        _exit(CHILD_SETUP_FAILED);
    }
}

static gpointer thread_fn(gpointer data)
{
    return GINT_TO_POINTER(42);
}

static void child_thread_created_after_install(void)
{
    GThread *t;

    child_install("on", NULL);
    t = g_thread_new("after", thread_fn, NULL);
    if (GPOINTER_TO_INT(g_thread_join(t)) != 42) {
        _exit(CHILD_SETUP_FAILED);
    }
}

/* Waits until the main thread has installed the filter, then makes a
 * forbidden call. */
static gpointer wait_then_socket_inet(gpointer data)
{
    GMutex *lock = data;

    g_mutex_lock(lock);
    g_mutex_unlock(lock);
    socket(AF_INET, SOCK_STREAM, 0);
    return NULL;
}

/* A thread that exists before the filter is installed is covered too
 * (TSYNC): its forbidden call kills the process. */
static void child_thread_started_before_install(void)
{
    GMutex lock;
    GThread *t;

    g_mutex_init(&lock);
    g_mutex_lock(&lock);
    t = g_thread_new("before", wait_then_socket_inet, &lock);
    child_install("on", NULL);
    g_mutex_unlock(&lock);
    g_thread_join(t);
    _exit(CHILD_CALL_SUCCEEDED);
}

static void child_open(void)
{
    child_install("on", NULL);
    if (open("/dev/null", O_RDONLY) >= 0) {
        _exit(CHILD_CALL_SUCCEEDED);
    }
    if (errno != EPERM) {
        _exit(CHILD_WRONG_ERRNO);
    }
}

static void child_stat_path(void)
{
    struct stat st;

    child_install("on", NULL);
    if (stat("/", &st) == 0) {
        _exit(CHILD_CALL_SUCCEEDED);
    }
    if (errno != EPERM) {
        _exit(CHILD_WRONG_ERRNO);
    }
    /* fstat() of an fd stays allowed. */
    if (fstat(STDIN_FILENO, &st) < 0) {
        _exit(CHILD_SETUP_FAILED);
    }
}

static void child_clone3(void)
{
    child_install("on", NULL);
    if (syscall(SYS_clone3, NULL, 0) >= 0) {
        _exit(CHILD_CALL_SUCCEEDED);
    }
    if (errno != ENOSYS) {
        _exit(CHILD_WRONG_ERRNO);
    }
}

static void child_debug_eperm(void)
{
    child_install("on,debug=eperm", NULL);
    if (socket(AF_INET, SOCK_STREAM, 0) >= 0) {
        _exit(CHILD_CALL_SUCCEEDED);
    }
    if (errno != EPERM) {
        _exit(CHILD_WRONG_ERRNO);
    }
}

static void child_require_after_install(void)
{
    child_install("on", &unix_socket_policy);
    /* Covered: composed in at install time. */
    if (!sandbox_require(&unix_socket_policy, NULL)) {
        _exit(CHILD_SETUP_FAILED);
    }
    if (sandbox_require(&getcpu_policy, NULL)) {
        _exit(CHILD_CALL_SUCCEEDED);
    }
}

static void child_included_policy(void)
{
    unsigned cpu;

    child_install("on", &includer_policy);
    if (syscall(SYS_getcpu, &cpu, NULL, NULL) < 0 ||
        !sandbox_is_required(&getcpu_policy)) {
        _exit(CHILD_SETUP_FAILED);
    }
}

/* --- stories ------------------------------------------------------------- */

/* Sanitizer builds allow what LeakSanitizer needs (open, clone, ...). */
static bool skip_in_sanitizer_build(void)
{
    if (sandbox_sanitizer_policy.rules) {
        g_test_skip("the sanitizer runtime's policy allows this call");
        return true;
    }
    return false;
}


static void test_allowed_calls_work(void)
{
    assert_exited(run_child(child_allowed_calls_work, NULL), CHILD_OK);
}

static void test_socket_inet_kills(void)
{
    assert_killed_by_sigsys(run_child(child_socket_inet, NULL));
}

static void test_socket_unix_allowed_by_argument(void)
{
    assert_exited(run_child(child_socket_unix, NULL), CHILD_OK);
}

static void test_same_rule_in_two_policies(void)
{
    assert_exited(run_child(child_same_rule_twice, NULL), CHILD_OK);
}

static void test_mmap_exec_kills(void)
{
    assert_killed_by_sigsys(run_child(child_mmap_exec, NULL));
}

static void test_mprotect_exec_kills(void)
{
    assert_killed_by_sigsys(run_child(child_mprotect_exec, NULL));
}

static void test_fork_kills(void)
{
    if (skip_in_sanitizer_build()) {
        return;
    }
    assert_killed_by_sigsys(run_child(child_fork, NULL));
}

static void test_fork_allowed_with_spawn_allow(void)
{
    assert_exited(run_child(child_fork_with_spawn_allowed, NULL), CHILD_OK);
}

static void test_thread_created_after_install(void)
{
    assert_exited(run_child(child_thread_created_after_install, NULL),
                  CHILD_OK);
}

static void test_thread_started_before_install_is_covered(void)
{
    assert_killed_by_sigsys(run_child(child_thread_started_before_install,
                                      NULL));
}

static void test_open_fails_with_eperm(void)
{
    if (skip_in_sanitizer_build()) {
        return;
    }
    assert_exited(run_child(child_open, NULL), CHILD_OK);
}

static void test_stat_of_path_fails_with_eperm(void)
{
    if (skip_in_sanitizer_build()) {
        return;
    }
    assert_exited(run_child(child_stat_path, NULL), CHILD_OK);
}

static void test_clone3_fails_with_enosys(void)
{
    assert_exited(run_child(child_clone3, NULL), CHILD_OK);
}

static void test_debug_eperm_names_the_call(void)
{
    g_autofree char *err = NULL;
    int status = run_child(child_debug_eperm, &err);

    assert_exited(status, CHILD_OK);
    g_assert_nonnull(strstr(err, "sandbox: blocked system call socket ("));
}

static void test_require_after_install_needs_composed_policy(void)
{
    assert_exited(run_child(child_require_after_install, NULL), CHILD_OK);
}

static void test_included_policy_is_composed(void)
{
    assert_exited(run_child(child_included_policy, NULL), CHILD_OK);
}

static void count_with(const char *option, const SandboxPolicy *policy,
                       unsigned *allowed, unsigned *filtered,
                       unsigned *refused)
{
    g_assert_true(sandbox_parse_option(option, NULL));
    g_assert_true(sandbox_require(policy, NULL));
    sandbox_count(allowed, filtered, refused);
}

static void test_count_adds_each_policy(void)
{
    unsigned base[3], more[3];

    count_with("on", NULL, &base[0], &base[1], &base[2]);
    count_with("on", &getcpu_policy, &more[0], &more[1], &more[2]);
    g_assert_cmpuint(more[0], ==, base[0] + 1);
    g_assert_cmpuint(more[1], ==, base[1]);
    g_assert_cmpuint(more[2], ==, base[2]);
    count_with("on", &unix_socket_policy, &more[0], &more[1], &more[2]);
    g_assert_cmpuint(more[0], ==, base[0] + 2);
    g_assert_cmpuint(more[1], ==, base[1] + 1);
}

static void test_count_spawn_allow_lifts_clone_filter(void)
{
    unsigned deny[3], allow[3];

    count_with("on", NULL, &deny[0], &deny[1], &deny[2]);
    count_with("on,spawn=allow", NULL, &allow[0], &allow[1], &allow[2]);
    /* clone becomes unconditional; clone3 moves from refused to allowed. */
    g_assert_cmpuint(allow[1], ==, deny[1] - 1);
    g_assert_cmpuint(allow[2], ==, deny[2] - 1);
    g_assert_cmpuint(allow[0], >, deny[0]);
}

static void test_option_rejects_bad_values(void)
{
    static const struct {
        const char *option;
        const char *message;
    } cases[] = {
        { "obsolete=allow", "Parameter 'enable' is missing" },
        { "on,spawn=maybe", "invalid argument for spawn" },
        { "on,elevateprivileges=yes", "invalid argument for "
          "elevateprivileges" },
        { "on,debug=loud", "invalid argument for debug" },
        { "on,bogus=1", "Invalid parameter 'bogus'" },
        { "maybe", "expects 'on' or 'off'" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;

        g_assert_false(sandbox_parse_option(cases[i].option, &err));
        g_assert_nonnull(err);
        g_assert_nonnull(strstr(err->message, cases[i].message));
    }
}

static void test_option_off_installs_nothing(void)
{
    g_assert_true(sandbox_parse_option("off", NULL));
    g_assert_false(sandbox_enabled());
    g_assert_true(sandbox_install(NULL));
    g_assert_false(sandbox_installed());
}

/* --- privileges ------------------------------------------------------- */

/* CapEff of this process, from /proc (hex). */
static uint64_t cap_eff(void)
{
    g_autofree char *status = NULL;
    const char *p;

    if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL)) {
        return UINT64_MAX;
    }
    p = strstr(status, "\nCapEff:");
    return p ? g_ascii_strtoull(p + strlen("\nCapEff:"), NULL, 16)
             : UINT64_MAX;
}

static void child_drop_to_nobody(void)
{
    struct passwd *pw = getpwnam("nobody");

    if (!pw || !privileges_set_user("nobody", NULL) ||
        !privileges_drop(NULL)) {
        _exit(CHILD_SETUP_FAILED);
    }
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
        getgid() != pw->pw_gid || cap_eff() != 0) {
        _exit(CHILD_WRONG_ERRNO);
    }
    if (setuid(0) == 0) {
        _exit(CHILD_CALL_SUCCEEDED);
    }
}

static void test_drop_to_nobody_leaves_no_capability(void)
{
    if (geteuid() != 0) {
        g_test_skip("needs root to change user");
        return;
    }
    if (!getpwnam("nobody")) {
        g_test_skip("no user 'nobody'");
        return;
    }
    assert_exited(run_child(child_drop_to_nobody, NULL), CHILD_OK);
}

static void child_drop_by_uid_gid(void)
{
    if (!privileges_set_user("65534:65534", NULL) ||
        !privileges_drop(NULL)) {
        _exit(CHILD_SETUP_FAILED);
    }
    if (getuid() != 65534 || getgid() != 65534 || cap_eff() != 0) {
        _exit(CHILD_WRONG_ERRNO);
    }
}

static void test_drop_by_uid_gid(void)
{
    if (geteuid() != 0) {
        g_test_skip("needs root to change user");
        return;
    }
    assert_exited(run_child(child_drop_by_uid_gid, NULL), CHILD_OK);
}

static void test_unknown_user_is_refused(void)
{
    g_autoptr(GError) err = NULL;

    g_assert_false(privileges_set_user("no-such-user-qr", &err));
    g_assert_cmpstr(err->message, ==, "User \"no-such-user-qr\" doesn't "
                    "exist");
}

static void test_chroot_must_be_a_directory(void)
{
    g_autoptr(GError) err = NULL;

    g_assert_false(privileges_set_chroot("/dev/null", &err));
    g_assert_cmpstr(err->message, ==, "'/dev/null' is not a directory");
}

static void test_run_with_needs_a_key(void)
{
    g_autoptr(GError) err = NULL;

    g_assert_false(privileges_parse_run_with("async-teardown=on", &err));
    g_assert_nonnull(strstr(err->message, "Invalid parameter "
                            "'async-teardown'"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/allowed-calls-work", test_allowed_calls_work);
    g_test_add_func("/sandbox/socket-inet-kills", test_socket_inet_kills);
    g_test_add_func("/sandbox/socket-unix-allowed-by-argument",
                    test_socket_unix_allowed_by_argument);
    g_test_add_func("/sandbox/same-rule-in-two-policies",
                    test_same_rule_in_two_policies);
    g_test_add_func("/sandbox/mmap-exec-kills", test_mmap_exec_kills);
    g_test_add_func("/sandbox/mprotect-exec-kills",
                    test_mprotect_exec_kills);
    g_test_add_func("/sandbox/fork-kills", test_fork_kills);
    g_test_add_func("/sandbox/fork-allowed-with-spawn-allow",
                    test_fork_allowed_with_spawn_allow);
    g_test_add_func("/sandbox/thread-created-after-install",
                    test_thread_created_after_install);
    g_test_add_func("/sandbox/thread-started-before-install-is-covered",
                    test_thread_started_before_install_is_covered);
    g_test_add_func("/sandbox/open-fails-with-eperm",
                    test_open_fails_with_eperm);
    g_test_add_func("/sandbox/stat-of-path-fails-with-eperm",
                    test_stat_of_path_fails_with_eperm);
    g_test_add_func("/sandbox/clone3-fails-with-enosys",
                    test_clone3_fails_with_enosys);
    g_test_add_func("/sandbox/debug-eperm-names-the-call",
                    test_debug_eperm_names_the_call);
    g_test_add_func("/sandbox/require-after-install-needs-composed-policy",
                    test_require_after_install_needs_composed_policy);
    g_test_add_func("/sandbox/included-policy-is-composed",
                    test_included_policy_is_composed);
    g_test_add_func("/sandbox/count-adds-each-policy",
                    test_count_adds_each_policy);
    g_test_add_func("/sandbox/count-spawn-allow-lifts-clone-filter",
                    test_count_spawn_allow_lifts_clone_filter);
    g_test_add_func("/sandbox/option-rejects-bad-values",
                    test_option_rejects_bad_values);
    g_test_add_func("/sandbox/option-off-installs-nothing",
                    test_option_off_installs_nothing);
    g_test_add_func("/privileges/drop-to-nobody-leaves-no-capability",
                    test_drop_to_nobody_leaves_no_capability);
    g_test_add_func("/privileges/drop-by-uid-gid", test_drop_by_uid_gid);
    g_test_add_func("/privileges/unknown-user-is-refused",
                    test_unknown_user_is_refused);
    g_test_add_func("/privileges/chroot-must-be-a-directory",
                    test_chroot_must_be_a_directory);
    g_test_add_func("/privileges/run-with-needs-a-key",
                    test_run_with_needs_a_key);
    return g_test_run();
}
