/*
 * Giving up privileges after set-up: "-run-with user=,chroot=", "-runas",
 * "-chroot" (see include/qemu-remote/sandbox.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "qemu-remote/option.h"
#include "qemu-remote/sandbox.h"

#include <cap-ng.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>

/* Supplementary groups kept for a named user (as initgroups() would). */
#define MAX_GROUPS 64

/* Main thread only. */
static struct {
    bool have_user;
    char *user;             /* as given, for messages */
    uid_t uid;
    gid_t gid;
    gid_t groups[MAX_GROUPS];
    int ngroups;
    char *chroot_dir;
} priv;

/* "UID:GID" in numbers, as QEMU's -run-with user= also takes. */
static bool parse_uid_gid(const char *s, uid_t *uid, gid_t *gid)
{
    g_auto(GStrv) parts = g_strsplit(s, ":", 3);
    uint64_t u, g;

    return g_strv_length(parts) == 2 &&
           qemu_parse_uint(parts[0], &u, NULL) && u < (uid_t)-1 &&
           qemu_parse_uint(parts[1], &g, NULL) && g < (gid_t)-1 &&
           (*uid = (uid_t)u, *gid = (gid_t)g, true);
}

bool privileges_set_user(const char *user, GError **errp)
{
    struct passwd *pw;
    int n = MAX_GROUPS;

    g_free(priv.user);
    priv.user = g_strdup(user);
    priv.have_user = true;
    if (parse_uid_gid(user, &priv.uid, &priv.gid)) {
        priv.groups[0] = priv.gid;
        priv.ngroups = 1;
        return true;
    }
    errno = 0;
    pw = getpwnam(user);
    if (!pw) {
        if (errno) {
            error_setg_errno(errp, errno, "cannot look up user '%s'", user);
        } else {
            error_setg(errp, "User \"%s\" doesn't exist", user);
        }
        return false;
    }
    priv.uid = pw->pw_uid;
    priv.gid = pw->pw_gid;
    if (getgrouplist(pw->pw_name, pw->pw_gid, priv.groups, &n) < 0) {
        error_setg(errp, "user '%s' is in more than %d groups", user,
                   MAX_GROUPS);
        return false;
    }
    priv.ngroups = n;
    return true;
}

bool privileges_set_chroot(const char *dir, GError **errp)
{
    struct stat st;

    if (stat(dir, &st) < 0) {
        error_setg_errno(errp, errno, "cannot use '%s' as the chroot", dir);
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        error_setg(errp, "'%s' is not a directory", dir);
        return false;
    }
    g_free(priv.chroot_dir);
    priv.chroot_dir = g_strdup(dir);
    return true;
}

bool privileges_parse_run_with(const char *arg, GError **errp)
{
    static const char *const allowed[] = { "user", "chroot", NULL };
    g_autoptr(KeyValList) kv = keyval_parse(arg, NULL, errp);
    const char *user, *dir;

    if (!kv || !keyval_check_keys(kv, allowed, errp)) {
        return false;
    }
    user = keyval_get(kv, "user");
    dir = keyval_get(kv, "chroot");
    if (!user && !dir) {
        error_setg(errp, "-run-with needs user=NAME or chroot=DIR");
        return false;
    }
    return (!user || privileges_set_user(user, errp)) &&
           (!dir || privileges_set_chroot(dir, errp));
}

static bool do_chroot(GError **errp)
{
    if (chroot(priv.chroot_dir) < 0) {
        error_setg_errno(errp, errno, "cannot chroot to '%s'",
                         priv.chroot_dir);
        return false;
    }
    if (chdir("/") < 0) {
        error_setg_errno(errp, errno, "cannot change to / in the chroot");
        return false;
    }
    qr_log_mask(LOG_SANDBOX, "sandbox: chroot to %s", priv.chroot_dir);
    return true;
}

/* Groups, then gid, then uid: each later step needs the privilege the
 * one after it gives up. */
static bool change_user(GError **errp)
{
    if (geteuid() != 0 && priv.uid == geteuid() && priv.gid == getegid()) {
        return true;    /* already that user: nothing to give up */
    }
    if (setgroups(priv.ngroups, priv.groups) < 0) {
        error_setg_errno(errp, errno, "Failed to setgroups for user %s",
                         priv.user);
        return false;
    }
    if (setresgid(priv.gid, priv.gid, priv.gid) < 0) {
        error_setg_errno(errp, errno, "Failed to setgid(%d)", (int)priv.gid);
        return false;
    }
    if (setresuid(priv.uid, priv.uid, priv.uid) < 0) {
        error_setg_errno(errp, errno, "Failed to setuid(%d)", (int)priv.uid);
        return false;
    }
    /* A non-root user must not be able to go back. */
    if (priv.uid != 0 && setuid(0) == 0) {
        error_setg(errp, "could regain root after dropping to user %s",
                   priv.user);
        return false;
    }
    qr_log_mask(LOG_SANDBOX, "sandbox: now uid %d gid %d (%d groups)",
                (int)priv.uid, (int)priv.gid, priv.ngroups);
    return true;
}

/*
 * Capabilities are per thread, and set-up has started threads already
 * (iothreads, mpqemu links).  The uid change reaches all of them: glibc
 * applies setresuid() to every thread, and the kernel clears a thread's
 * permitted and effective sets when its uids all leave 0.  The bounding
 * set goes first (dropping it needs CAP_SETPCAP, which the uid change
 * takes away); without CAP_SETPCAP (started unprivileged) it stays, which
 * is harmless: with no_new_privs nothing can gain capabilities again.
 */
static bool drop_bounding_set(GError **errp)
{
    if (capng_get_caps_process() < 0) {
        error_setg(errp, "cannot read the process's capabilities");
        return false;
    }
    if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP)) {
        return true;
    }
    capng_clear(CAPNG_SELECT_BOUNDS);
    if (capng_apply(CAPNG_SELECT_BOUNDS) < 0) {
        error_setg(errp, "cannot clear the capability bounding set");
        return false;
    }
    return true;
}

/* What is left after the uid change: ambient and inheritable sets (and
 * anything a file capability gave an unprivileged start). */
static bool drop_capabilities(GError **errp)
{
    if (capng_get_caps_process() < 0) {
        error_setg(errp, "cannot read the process's capabilities");
        return false;
    }
    if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
        capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
        if (capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) < 0 ||
            capng_get_caps_process() < 0 ||
            capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
            error_setg(errp, "cannot drop every capability");
            return false;
        }
    }
    return true;
}

bool privileges_drop(GError **errp)
{
    if (!priv.have_user && !priv.chroot_dir) {
        return true;
    }
    if (!drop_bounding_set(errp) ||
        (priv.chroot_dir && !do_chroot(errp))) {
        return false;
    }
    if (!priv.have_user) {
        return true;
    }
    if (!change_user(errp) || !drop_capabilities(errp)) {
        return false;
    }
    /* This thread's; the sandbox sets it for every thread (TSYNC). */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        error_setg_errno(errp, errno, "cannot set no_new_privs");
        return false;
    }
    qr_log_mask(LOG_SANDBOX, "sandbox: no capabilities left");
    return true;
}
