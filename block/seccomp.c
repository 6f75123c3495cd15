/*
 * What block nodes need once open (include/qemu-remote/sandbox.h): I/O on
 * their files through restricted io_uring rings or the thread pool, and
 * the image locks taken and released as devices attach and detach.
 */
#include "qemu-remote/osdep.h"
#include "block-int.h"

#include <fcntl.h>

static const SandboxRule block_rules[] = {
    /* Thread pool (aio=threads, the write-zeroes fallback, contexts made
     * after start-up) and the O_DIRECT alignment probe. */
    SANDBOX_ALLOW("pread64"),
    SANDBOX_ALLOW("pwrite64"),
    SANDBOX_ALLOW("preadv"),
    SANDBOX_ALLOW("pwritev"),
    SANDBOX_ALLOW("fdatasync"),
    SANDBOX_ALLOW("fallocate"),
    /* Rings made during start-up, restricted to these operations. */
    SANDBOX_ALLOW("io_uring_enter"),
    /* A ring made later could not be restricted before use: refused, so
     * the context uses the thread pool. */
    SANDBOX_FAIL("io_uring_setup", EPERM),
    /* QEMU-compatible image locks (block/file-lock.c). */
    SANDBOX_ALLOW_ARG_EQ("fcntl", 1, F_OFD_SETLK),
    SANDBOX_ALLOW_ARG_EQ("fcntl", 1, F_OFD_GETLK),
    SANDBOX_RULES_END
};

const SandboxPolicy block_sandbox_policy = {
    .name = "block",
    .keeps = "each node's image file; an io_uring ring and an eventfd per "
             "I/O context",
    .rules = block_rules,
};
