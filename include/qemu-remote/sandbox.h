/*
 * Confinement: the seccomp allowlist ("-sandbox on,..."), the privilege
 * drop ("-run-with user=,chroot=", "-runas", "-chroot") and the check that
 * the process holds no capabilities afterwards.  docs/security.md is the
 * user's view; this header is the contributor's.
 *
 * Policies.  The allowlist is composed from parts kept beside the code
 * that needs them (crosvm's common + device + transport files): a common
 * base (util/sandbox-common.c) plus one SandboxPolicy per transport
 * (remote/mpqemu/seccomp.c, remote/vhost-user/seccomp.c), server
 * (monitor/seccomp.c), backend (block/seccomp.c) and device type
 * (DeviceType.sandbox, e.g. hw/block/virtio-blk-seccomp.c).  Whatever
 * creates one of these during start-up calls sandbox_require() with its
 * policy; sandbox_install() then loads exactly the union of what was
 * required.  Something created later (a QMP block-export-add, a
 * vhost-user frontend that connects) calls sandbox_require() too: it
 * succeeds only if the installed filter already covers that policy, so a
 * feature the filter would kill fails as a clean error instead.
 *
 * Rules.  A rule allows a system call, optionally only when one argument
 * matches (mmap without PROT_EXEC, socket(AF_UNIX, ...), a list of ioctl
 * numbers: several rules for one call are alternatives), or makes it fail
 * with an errno (calls that libraries try and cope with: open() after
 * setup fails with EPERM, clone3() with ENOSYS so glibc falls back to the
 * filterable clone()).  Any call no rule names kills the process (or, in
 * the debug modes, is logged).  A call that one policy allows
 * unconditionally is allowed unconditionally in the union; a refusal
 * without an argument check applies only while no policy allows the call
 * for some arguments (the other arguments then kill).
 *
 * Threads: the filter is loaded with TSYNC, so it covers every thread that
 * exists then, and every thread created later inherits it.
 *
 * All functions run on the main thread.
 */
#ifndef QEMU_REMOTE_SANDBOX_H
#define QEMU_REMOTE_SANDBOX_H

#include "qemu-remote/osdep.h"

typedef enum SandboxArgCheck {
    SANDBOX_ARG_ANY,        /* no condition */
    SANDBOX_ARG_EQ,         /* args[arg] == value */
    SANDBOX_ARG_MASKED_EQ,  /* (args[arg] & mask) == value */
} SandboxArgCheck;

typedef struct SandboxRule {
    const char *syscall;    /* the name as in syscalls(2); NULL ends a list */
    int err;                /* 0: allow; else fail with this errno */
    SandboxArgCheck check;
    unsigned arg;           /* argument index (0-5) for the check */
    uint64_t mask;          /* SANDBOX_ARG_MASKED_EQ */
    uint64_t value;
} SandboxRule;

/* Initialisers for the rule tables. */
#define SANDBOX_ALLOW(name) { .syscall = (name) }
#define SANDBOX_ALLOW_ARG_EQ(name, argn, v) \
    { .syscall = (name), .check = SANDBOX_ARG_EQ, .arg = (argn), \
      .value = (v) }
#define SANDBOX_ALLOW_ARG_MASKED(name, argn, m, v) \
    { .syscall = (name), .check = SANDBOX_ARG_MASKED_EQ, .arg = (argn), \
      .mask = (m), .value = (v) }
#define SANDBOX_FAIL(name, e) { .syscall = (name), .err = (e) }
#define SANDBOX_FAIL_ARG_MASKED(name, argn, m, v, e) \
    { .syscall = (name), .err = (e), .check = SANDBOX_ARG_MASKED_EQ, \
      .arg = (argn), .mask = (m), .value = (v) }
#define SANDBOX_RULES_END { NULL }

typedef struct SandboxPolicy SandboxPolicy;

struct SandboxPolicy {
    const char *name;           /* "mpqemu", "virtio-blk-pci", ... */
    /* The fds this part holds once set up, for docs and "-d sandbox". */
    const char *keeps;
    const SandboxRule *rules;   /* ends with SANDBOX_RULES_END */
    /* Policies this one needs too (NULL-terminated; may be NULL). */
    const SandboxPolicy *const *includes;
};

/* The base every composed policy starts from (util/sandbox-common.c). */
extern const SandboxPolicy sandbox_common_policy;

/* For what removes files it created (pidfile, socket files) at exit:
 * stat() of a path and unlink(). */
extern const SandboxPolicy sandbox_remove_files_policy;

/*
 * "-sandbox on|off[,obsolete=allow|deny][,elevateprivileges=allow|deny|
 * children][,spawn=allow|deny][,resourcecontrol=allow|deny]
 * [,debug=off|eperm|log]".  QEMU's sub-options keep QEMU's meaning and
 * default (deny): each "allow" adds that group of calls to the allowlist.
 * debug=eperm makes a call outside the allowlist fail with EPERM and print
 * "sandbox: blocked system call NAME (NR)" on stderr; debug=log lets it
 * run and has the kernel log it (SECCOMP_RET_LOG, in the audit log).
 * Several -sandbox options: the last wins.  Fails on an unknown key or
 * value, with QEMU's texts where QEMU has them.
 */
bool sandbox_parse_option(const char *arg, GError **errp);

/* True when -sandbox on was given. */
bool sandbox_enabled(void);

/*
 * Declares that @policy (and what it includes) is needed.  Before
 * sandbox_install() it is recorded and always succeeds; afterwards it
 * succeeds only when the installed filter was composed with @policy, and
 * otherwise fails with "the sandbox installed at start-up does not allow
 * NAME (...)".  Without -sandbox on it always succeeds.  @policy NULL is
 * a no-op.
 */
bool sandbox_require(const SandboxPolicy *policy, GError **errp);

/*
 * Composes the common base, the groups the sub-options allow and every
 * required policy, and loads it into the kernel for every thread (TSYNC),
 * with no_new_privs set.  Call once, after set-up and the privilege drop.
 * Without -sandbox on does nothing.  Fails when libseccomp rejects the
 * filter or the kernel cannot load it (no CONFIG_SECCOMP_FILTER, or a
 * thread that cannot be synchronised).
 */
bool sandbox_install(GError **errp);

/* True when @policy was required (directly or through another). */
bool sandbox_is_required(const SandboxPolicy *policy);

/* True once sandbox_install() loaded a filter. */
bool sandbox_installed(void);

/*
 * For tests and "-d sandbox": composes the policy that sandbox_install()
 * would load and counts it: distinct system calls allowed (@allowed),
 * those among them allowed only for some arguments (@filtered), and those
 * that fail with an errno (@refused).  Works without -sandbox on.
 */
void sandbox_count(unsigned *allowed, unsigned *filtered, unsigned *refused);

/* --- privileges (util/privileges.c) --------------------------------- */

/*
 * "-run-with [user=NAME|UID:GID][,chroot=DIR]" (and QEMU 7.2's "-runas
 * NAME", "-chroot DIR", which set the same fields).  The user is looked
 * up at once (before any chroot hides /etc/passwd); fails when it does not
 * exist or DIR is not a directory.
 */
bool privileges_set_user(const char *user, GError **errp);
bool privileges_set_chroot(const char *dir, GError **errp);
bool privileges_parse_run_with(const char *arg, GError **errp);

/*
 * After set-up (every file, socket and device open): chroot to the
 * chroot directory if one was given, then change to the user if one was
 * given (supplementary groups, gid, uid: for every thread), which leaves
 * no capability in any thread; the bounding set is cleared first when we
 * may (CAP_SETPCAP), and no_new_privs is set.  A chroot without a user
 * keeps root's capabilities (and root can leave a chroot).  Fails when
 * any step fails, root can be regained, or a capability survives.
 * Without -run-with/-runas/-chroot does nothing.
 */
bool privileges_drop(GError **errp);

#endif
