/*
 * What the AddressSanitizer/LeakSanitizer runtime needs inside the sandbox
 * (--enable-sanitizers builds only): the leak check at exit stops every
 * thread with ptrace from a helper task it clones, reading the thread list
 * and memory map from /proc; reports are written before abort().  These
 * calls widen the filter considerably, which is acceptable for a test
 * build and is why the sandbox tests that prove open() fails skip there.
 */
#include "qemu-remote/osdep.h"
#include "sandbox-internal.h"

#include <fcntl.h>
#include <linux/sched.h>

#if defined(__SANITIZE_ADDRESS__)
#define QR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QR_ASAN 1
#endif
#endif

#ifdef QR_ASAN
static const SandboxRule sanitizer_rules[] = {
    /* /proc/PID/task and /proc/self/maps, read-only. */
    SANDBOX_ALLOW_ARG_MASKED("open", 1, O_ACCMODE | O_CREAT, O_RDONLY),
    SANDBOX_ALLOW_ARG_MASKED("openat", 2, O_ACCMODE | O_CREAT, O_RDONLY),
    SANDBOX_ALLOW("lseek"),
    SANDBOX_ALLOW("getdents"),
    SANDBOX_ALLOW("getdents64"),
    /* The leak checker's tracer: a task sharing our memory, untraced. */
    SANDBOX_ALLOW_ARG_MASKED("clone", 0, CLONE_VM | CLONE_UNTRACED,
                             CLONE_VM | CLONE_UNTRACED),
    SANDBOX_ALLOW("ptrace"),
    SANDBOX_ALLOW("wait4"),
    SANDBOX_ALLOW("prctl"),
    SANDBOX_ALLOW("getppid"),
    SANDBOX_RULES_END
};

const SandboxPolicy sandbox_sanitizer_policy = {
    .name = "sanitizers",
    .keeps = "the sanitizer runtime's own fds",
    .rules = sanitizer_rules,
};
#else
const SandboxPolicy sandbox_sanitizer_policy = {
    .name = "sanitizers",
};
#endif
