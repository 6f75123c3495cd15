/*
 * Confinement from the command line: -sandbox, -run-with, -runas, -chroot
 * and -add-fd; and the step that applies them once start-up is over.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/fdset.h"
#include "qemu-remote/sandbox.h"
#include "block/block.h"
#include "hw/virtio-blk.h"
#include "monitor/monitor.h"
#include "remote/vhost-user.h"
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

/*
 * QMP's block-export-add can serve a block node over vhost-user after
 * start-up (there is no blockdev-add, so only when a node exists): what
 * that needs must be in the filter from the start.
 */
static const SandboxPolicy *const qmp_export_includes[] = {
    &vhost_user_listen_sandbox_policy,
    &virtio_blk_sandbox_policy,
    NULL
};

static const SandboxPolicy qmp_export_sandbox_policy = {
    .name = "qmp-block-export-add",
    .includes = qmp_export_includes,
};

bool confine_process(GError **errp)
{
    /* Nothing opens a /dev/fdset name after start-up. */
    fdset_close_all();
    if (sandbox_is_required(&qmp_sandbox_policy) &&
        sandbox_is_required(&block_sandbox_policy) &&
        !sandbox_require(&qmp_export_sandbox_policy, errp)) {
        return false;
    }
    return privileges_drop(errp) && sandbox_install(errp);
}
