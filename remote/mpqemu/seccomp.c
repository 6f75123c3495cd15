/*
 * What an mpqemu connection needs once running (include/qemu-remote/
 * sandbox.h): messages with fds on the socket, guest RAM mapped from the
 * memfds of SYNC_SYSMEM (mmap in the common base: never executable), the
 * INTx eventfds checked and written.
 */
#include "qemu-remote/osdep.h"
#include "remote/mpqemu.h"

#include <linux/kcmp.h>

static const SandboxRule mpqemu_rules[] = {
    SANDBOX_ALLOW("recvmsg"),
    SANDBOX_ALLOW("sendmsg"),
    /* mpqemu_link_free() wakes the connection thread at exit. */
    SANDBOX_ALLOW("shutdown"),
    /* SET_IRQFD: the same eventfd sent twice. */
    SANDBOX_ALLOW_ARG_EQ("kcmp", 2, KCMP_FILE),
    SANDBOX_RULES_END
};

const SandboxPolicy mpqemu_sandbox_policy = {
    .name = "mpqemu",
    .keeps = "the VMM's socket; the irqfd and resample eventfds; guest RAM "
             "as mappings (its memfds are closed once mapped)",
    .rules = mpqemu_rules,
};
