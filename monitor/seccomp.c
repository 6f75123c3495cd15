/*
 * What the QMP server needs once running (include/qemu-remote/sandbox.h):
 * accepting clients on its listening sockets and talking to them.
 */
#include "qemu-remote/osdep.h"
#include "monitor-internal.h"

static const SandboxRule qmp_rules[] = {
    SANDBOX_ALLOW("accept4"),
    SANDBOX_ALLOW("recvfrom"),
    SANDBOX_ALLOW("sendto"),
    SANDBOX_RULES_END
};

const SandboxPolicy qmp_sandbox_policy = {
    .name = "qmp",
    .keeps = "each monitor's listening socket and its clients' sockets",
    .rules = qmp_rules,
};
