/*
 * Confinement from the command line: -sandbox, -run-with, -runas, -chroot
 * and -add-fd; and the step that applies them once start-up is over.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/fdset.h"
#include "qemu-remote/sandbox.h"
#include "cmdline.h"
#include "vl.h"

/* "-sandbox on[,obsolete=...][,debug=...]" (see qemu-remote/sandbox.h). */
bool opt_sandbox(OptionPhase phase, const char *arg, GError **errp)
{
    return sandbox_parse_option(arg, errp);
}

/* "-run-with user=NAME|UID:GID[,chroot=DIR]" (QEMU 9's spelling). */
bool opt_run_with(OptionPhase phase, const char *arg, GError **errp)
{
    return privileges_parse_run_with(arg, errp);
}

/* "-runas NAME" (QEMU 7.2). */
bool opt_runas(OptionPhase phase, const char *arg, GError **errp)
{
    return privileges_set_user(arg, errp);
}

/* "-chroot DIR" (QEMU 7.2). */
bool opt_chroot(OptionPhase phase, const char *arg, GError **errp)
{
    return privileges_set_chroot(arg, errp);
}

/* "-add-fd fd=M,set=N[,opaque=TEXT]". */
bool opt_add_fd(OptionPhase phase, const char *arg, GError **errp)
{
    return fdset_add_option(arg, errp);
}

bool confine_process(GError **errp)
{
    /* Nothing opens a /dev/fdset name after start-up. */
    fdset_close_all();
    return privileges_drop(errp) && sandbox_install(errp);
}
