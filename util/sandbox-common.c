/*
 * The base of every sandbox policy: what glibc, GLib and qemu-remote's own
 * threads, memory, event loops and logging need on every configuration;
 * and the groups QEMU's -sandbox sub-options allow.
 */
#include "qemu-remote/osdep.h"
#include "sandbox-internal.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <termios.h>

static const SandboxRule common_rules[] = {
    /* Memory: never executable (no new code after start-up). */
    SANDBOX_ALLOW("brk"),
    SANDBOX_ALLOW_ARG_MASKED("mmap", 2, PROT_EXEC, 0),
    SANDBOX_ALLOW_ARG_MASKED("mprotect", 2, PROT_EXEC, 0),
    SANDBOX_ALLOW("munmap"),
    SANDBOX_ALLOW("mremap"),
    SANDBOX_ALLOW("madvise"),

    /* Threads (glib's GThread on pthreads).  clone() only for threads:
     * with CLONE_THREAD; clone3's flags sit in memory a filter cannot
     * read, so it fails with ENOSYS and glibc falls back to clone(). */
    SANDBOX_ALLOW_ARG_MASKED("clone", 0, CLONE_THREAD, CLONE_THREAD),
    SANDBOX_FAIL("clone3", ENOSYS),
    SANDBOX_ALLOW("set_robust_list"),
    SANDBOX_ALLOW("rseq"),
    SANDBOX_ALLOW("futex"),
    SANDBOX_ALLOW("sched_yield"),
    SANDBOX_ALLOW("gettid"),
    SANDBOX_ALLOW("getpid"),
    SANDBOX_ALLOW("exit"),
    SANDBOX_ALLOW("exit_group"),
    /* Thread names ("io:ID", "mpqemu:ID"), set by the thread itself. */
    SANDBOX_ALLOW_ARG_EQ("prctl", 0, PR_SET_NAME),
    SANDBOX_ALLOW_ARG_EQ("prctl", 0, PR_GET_NAME),

    /* Signals: SIGTERM/SIGINT/SIGHUP handlers, glib's signal masks, and
     * abort() raising SIGABRT at itself. */
    SANDBOX_ALLOW("rt_sigaction"),
    SANDBOX_ALLOW("rt_sigprocmask"),
    SANDBOX_ALLOW("rt_sigreturn"),
    SANDBOX_ALLOW("sigaltstack"),
    SANDBOX_ALLOW("restart_syscall"),
    SANDBOX_ALLOW("tgkill"),

    /* Time and waiting. */
    SANDBOX_ALLOW("clock_gettime"),
    SANDBOX_ALLOW("clock_getres"),
    SANDBOX_ALLOW("gettimeofday"),
    SANDBOX_ALLOW("clock_nanosleep"),
    SANDBOX_ALLOW("nanosleep"),

    /* Event loops: poll on fds, eventfds for wake-ups. */
    SANDBOX_ALLOW("poll"),
    SANDBOX_ALLOW("ppoll"),
    SANDBOX_ALLOW("eventfd2"),

    /* I/O on fds the process already holds. */
    SANDBOX_ALLOW("read"),
    SANDBOX_ALLOW("write"),
    SANDBOX_ALLOW("readv"),
    SANDBOX_ALLOW("writev"),
    SANDBOX_ALLOW("close"),
    SANDBOX_ALLOW("dup"),
    SANDBOX_ALLOW("dup2"),
    SANDBOX_ALLOW("dup3"),
    SANDBOX_ALLOW("fstat"),
    /* fstat() is newfstatat(fd, "", AT_EMPTY_PATH) in glibc; a path is
     * refused (stat of a pidfile or socket before removing it). */
    SANDBOX_ALLOW_ARG_MASKED("newfstatat", 3, AT_EMPTY_PATH, AT_EMPTY_PATH),
    SANDBOX_ALLOW_ARG_EQ("fcntl", 1, F_GETFD),
    SANDBOX_ALLOW_ARG_EQ("fcntl", 1, F_SETFD),
    SANDBOX_ALLOW_ARG_EQ("fcntl", 1, F_GETFL),
    SANDBOX_ALLOW_ARG_EQ("fcntl", 1, F_SETFL),
    SANDBOX_ALLOW_ARG_EQ("fcntl", 1, F_DUPFD_CLOEXEC),
    /* isatty() (glib's log writer, stdio buffering); non-blocking and
     * close-on-exec flags. */
    SANDBOX_ALLOW_ARG_EQ("ioctl", 1, TCGETS),
    SANDBOX_ALLOW_ARG_EQ("ioctl", 1, FIONBIO),
    SANDBOX_ALLOW_ARG_EQ("ioctl", 1, FIOCLEX),

    /* Harmless facts glib asks for. */
    SANDBOX_ALLOW("getrandom"),
    SANDBOX_ALLOW("getuid"),
    SANDBOX_ALLOW("geteuid"),
    SANDBOX_ALLOW("getgid"),
    SANDBOX_ALLOW("getegid"),

    /* After set-up nothing new is opened: libraries that try (locale
     * data, /proc/PID/comm for the exit message) see EPERM and cope. */
    SANDBOX_FAIL("open", EPERM),
    SANDBOX_FAIL("openat", EPERM),
    SANDBOX_FAIL("openat2", EPERM),
    SANDBOX_FAIL("creat", EPERM),
    SANDBOX_FAIL_ARG_MASKED("newfstatat", 3, AT_EMPTY_PATH, 0, EPERM),
    SANDBOX_FAIL("stat", EPERM),
    SANDBOX_FAIL("lstat", EPERM),
    SANDBOX_FAIL("statx", EPERM),
    SANDBOX_FAIL("access", EPERM),
    SANDBOX_FAIL("faccessat", EPERM),
    SANDBOX_FAIL("faccessat2", EPERM),
    SANDBOX_FAIL("readlink", EPERM),
    SANDBOX_FAIL("readlinkat", EPERM),
    /* Which CPUs we may run on (glib's thread pools, glibc's
     * pthread_getattr_np()): ENOSYS means "no affinity support", and both
     * carry on without it. */
    SANDBOX_FAIL("sched_getaffinity", ENOSYS),
    /* glib's thread pools copy the creating thread's scheduler settings
     * when they can read them; refused, they start threads from a helper
     * thread instead (QEMU's resourcecontrol group denies both too). */
    SANDBOX_FAIL("sched_getattr", EPERM),
    SANDBOX_FAIL("sched_setattr", EPERM),
    SANDBOX_RULES_END
};

const SandboxPolicy sandbox_common_policy = {
    .name = "common",
    .keeps = "stdin, stdout, stderr; the -D log file; glib's wake-up "
             "eventfds",
    .rules = common_rules,
};

/*
 * For what removes its own files at exit (the pidfile, UNIX socket files):
 * stat() to check the file is still ours, then unlink().
 */
static const SandboxRule remove_files_rules[] = {
    SANDBOX_ALLOW("newfstatat"),
    SANDBOX_ALLOW("unlink"),
    SANDBOX_ALLOW("unlinkat"),
    SANDBOX_RULES_END
};

const SandboxPolicy sandbox_remove_files_policy = {
    .name = "remove-own-files",
    .rules = remove_files_rules,
};

/* QEMU's "obsolete" group: calls no current program needs. */
static const SandboxRule obsolete_rules[] = {
    SANDBOX_ALLOW("_sysctl"),
    SANDBOX_ALLOW("create_module"),
    SANDBOX_ALLOW("get_kernel_syms"),
    SANDBOX_ALLOW("query_module"),
    SANDBOX_ALLOW("sysfs"),
    SANDBOX_ALLOW("uselib"),
    SANDBOX_ALLOW("ustat"),
    SANDBOX_RULES_END
};

const SandboxPolicy sandbox_obsolete_policy = {
    .name = "obsolete=allow",
    .rules = obsolete_rules,
};

/* QEMU's "elevateprivileges" group: changing user and group ids. */
static const SandboxRule elevate_rules[] = {
    SANDBOX_ALLOW("setuid"),
    SANDBOX_ALLOW("setgid"),
    SANDBOX_ALLOW("setpgid"),
    SANDBOX_ALLOW("setsid"),
    SANDBOX_ALLOW("setreuid"),
    SANDBOX_ALLOW("setregid"),
    SANDBOX_ALLOW("setresuid"),
    SANDBOX_ALLOW("setresgid"),
    SANDBOX_ALLOW("setfsuid"),
    SANDBOX_ALLOW("setfsgid"),
    SANDBOX_RULES_END
};

const SandboxPolicy sandbox_elevate_policy = {
    .name = "elevateprivileges=allow",
    .rules = elevate_rules,
};

/* QEMU's "spawn" group: new processes and programs. */
static const SandboxRule spawn_rules[] = {
    SANDBOX_ALLOW("fork"),
    SANDBOX_ALLOW("vfork"),
    SANDBOX_ALLOW("clone"),
    SANDBOX_ALLOW("clone3"),
    SANDBOX_ALLOW("execve"),
    SANDBOX_ALLOW("execveat"),
    SANDBOX_ALLOW("wait4"),
    SANDBOX_RULES_END
};

const SandboxPolicy sandbox_spawn_policy = {
    .name = "spawn=allow",
    .rules = spawn_rules,
};

/* QEMU's "resourcecontrol" group: CPU affinity and scheduling. */
static const SandboxRule resourcecontrol_rules[] = {
    SANDBOX_ALLOW("getpriority"),
    SANDBOX_ALLOW("setpriority"),
    SANDBOX_ALLOW("sched_setparam"),
    SANDBOX_ALLOW("sched_getparam"),
    SANDBOX_ALLOW("sched_setscheduler"),
    SANDBOX_ALLOW("sched_getscheduler"),
    SANDBOX_ALLOW("sched_setaffinity"),
    SANDBOX_ALLOW("sched_getaffinity"),
    SANDBOX_ALLOW("sched_get_priority_max"),
    SANDBOX_ALLOW("sched_get_priority_min"),
    SANDBOX_ALLOW("sched_setattr"),
    SANDBOX_ALLOW("sched_getattr"),
    SANDBOX_RULES_END
};

const SandboxPolicy sandbox_resourcecontrol_policy = {
    .name = "resourcecontrol=allow",
    .rules = resourcecontrol_rules,
};
