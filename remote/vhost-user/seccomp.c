/*
 * What the vhost-user backend needs once running (include/qemu-remote/
 * sandbox.h): sessions on its sockets, guest memory and the dirty log
 * mapped from the frontend's fds (mmap in the common base: never
 * executable), and the in-flight region it creates for the frontend.
 */
#include "qemu-remote/osdep.h"
#include "remote/vhost-user.h"

#include <fcntl.h>
#include <sys/socket.h>

static const SandboxRule vhost_user_rules[] = {
    SANDBOX_ALLOW("accept4"),
    SANDBOX_ALLOW("recvmsg"),
    SANDBOX_ALLOW("sendmsg"),
    /* A server made later checks what it was given (vhost_user_server_new). */
    SANDBOX_ALLOW("getsockopt"),
    /* GET_INFLIGHT_FD: a sealed memfd for the frontend. */
    SANDBOX_ALLOW("memfd_create"),
    SANDBOX_ALLOW("ftruncate"),
    SANDBOX_ALLOW_ARG_EQ("fcntl", 1, F_ADD_SEALS),
    SANDBOX_RULES_END
};

const SandboxPolicy vhost_user_sandbox_policy = {
    .name = "vhost-user",
    .keeps = "the listening socket and one frontend's; its kick, call and "
             "error eventfds and backend channel; guest memory and the log "
             "as mappings; the in-flight region",
    .rules = vhost_user_rules,
};

/*
 * Listening on a UNIX socket path after start-up (a QMP block-export-add):
 * a stale socket file is checked with connect() and replaced; the socket
 * is bound under a temporary name and renamed into place once listening.
 */
static const SandboxRule vhost_user_listen_rules[] = {
    SANDBOX_ALLOW_ARG_EQ("socket", 0, AF_UNIX),
    SANDBOX_ALLOW("bind"),
    SANDBOX_ALLOW("listen"),
    SANDBOX_ALLOW("connect"),
    SANDBOX_ALLOW("rename"),
    SANDBOX_RULES_END
};

static const SandboxPolicy *const vhost_user_listen_includes[] = {
    &vhost_user_sandbox_policy,
    &sandbox_remove_files_policy,
    NULL
};

const SandboxPolicy vhost_user_listen_sandbox_policy = {
    .name = "vhost-user-listen",
    .keeps = "socket files it creates, removed at exit",
    .rules = vhost_user_listen_rules,
    .includes = vhost_user_listen_includes,
};
