/*
 * What a virtio-blk device needs under -sandbox, with any transport
 * (include/qemu-remote/sandbox.h).  Its data path is an iothread that
 * waits on kick eventfds, pops requests, submits them to its block node
 * and signals completions: threads, polling and eventfd reads and writes
 * are in the common base, the I/O in the block node's policy.
 */
#include "qemu-remote/osdep.h"
#include "hw/virtio-blk.h"

static const SandboxRule virtio_blk_rules[] = {
    SANDBOX_RULES_END
};

static const SandboxPolicy *const virtio_blk_includes[] = {
    &block_sandbox_policy,
    NULL
};

const SandboxPolicy virtio_blk_sandbox_policy = {
    .name = "virtio-blk",
    .keeps = "a kick eventfd per queue (or the transport's), call and error "
             "eventfds when the transport sets them, its iothread's "
             "wake-up eventfd, its drive",
    .rules = virtio_blk_rules,
    .includes = virtio_blk_includes,
};
