/*
 * Block layer internals shared by the files of block/.
 */
#ifndef BLOCK_BLOCK_INT_H
#define BLOCK_BLOCK_INT_H

#include "qemu-remote/osdep.h"
#include "block/block.h"

typedef enum BlockNodeKind {
    BLOCK_NODE_FILE,
    BLOCK_NODE_RAW,
} BlockNodeKind;

typedef enum BlockAioMode {
    BLOCK_AIO_DEFAULT,      /* io_uring where available, else threads */
    BLOCK_AIO_THREADS,
    BLOCK_AIO_IO_URING,     /* io_uring required (aio=io_uring|native) */
} BlockAioMode;

/* QEMU's permission bits; their lock bytes are base + bit number. */
enum {
    BLOCK_PERM_CONSISTENT_READ = 1u << 0,
    BLOCK_PERM_WRITE           = 1u << 1,
    BLOCK_PERM_WRITE_UNCHANGED = 1u << 2,
    BLOCK_PERM_RESIZE          = 1u << 3,
    BLOCK_PERM_ALL             = 0xf,
};

struct BlockBackend {
    char *name;             /* NULL: anonymous */
    BlockNodeKind kind;
    bool read_only;
    bool write_cache;       /* -drive cache mode's write-back setting */
    bool no_flush;          /* cache.no-flush=on (cache=unsafe) */
    bool discard_unmap;     /* discard=unmap */
    bool force_share;
    bool is_drive;          /* created by -drive (its name is an id) */
    Device *dev;            /* attached device, if any */
    unsigned parents;       /* raw nodes using this one as their child */

    /* BLOCK_NODE_FILE */
    char *filename;
    int fd;
    bool direct;            /* O_DIRECT */
    bool locking;           /* locking=on|auto */
    BlockAioMode aio;
    uint32_t req_align;     /* offset/length alignment (O_DIRECT) */
    uint32_t mem_align;     /* buffer alignment (O_DIRECT) */
    unsigned locked_perm;   /* lock bytes held: 100 + bit */
    unsigned locked_unshared; /* 200 + bit */
    /* Set once the filesystem refused an fallocate mode, so later
     * requests go straight to the fallback (accessed with atomics). */
    int no_zero_range;
    int no_punch_hole;

    /* BLOCK_NODE_RAW */
    BlockBackend *child;
    uint64_t offset;

    uint64_t size;          /* bytes exposed by this node */
};

/* --- file-posix.c --------------------------------------------------- */

typedef struct BlockFileOpts {
    const char *filename;
    bool read_only;
    bool auto_read_only;
    bool direct;
    bool no_flush;
    bool discard_unmap;
    bool force_share;
    bool locking;
    BlockAioMode aio;
} BlockFileOpts;

/* Opens a file node (anonymous; the caller names and registers it). */
BlockBackend *block_file_open(const BlockFileOpts *o, GError **errp);
void block_file_close(BlockBackend *file);

/* file-lock.c: QEMU-compatible image locks on a file node. */
bool block_file_lock(BlockBackend *file, unsigned perm, unsigned unshared,
                     GError **errp);
void block_file_unlock(BlockBackend *file);

/* --- block-backend.c: the node registry ------------------------------ */

/* Registers @blk under its name (or anonymously). */
void block_node_register(BlockBackend *blk);
/* Unregisters and closes @blk (and its child, if no longer used). */
void block_node_close(BlockBackend *blk);
bool block_name_in_use(const char *name);

/* --- aio.c: BlockIOContext and request routing ----------------------- */

/* Completes @req with @ret from the context's own thread (deferred to the
 * next dispatch, which the context's source runs before it next sleeps, so
 * callbacks never run inside blk_submit()). */
void block_req_defer(BlockIOContext *ioc, BlockRequest *req, int ret);

/* Finishes @req: bounce copy-out, callback.  Context thread only. */
void block_req_finish(BlockIOContext *ioc, BlockRequest *req, int ret);

/* --- thread-pool.c ---------------------------------------------------- */

/* Runs @req synchronously in a pool thread; the result comes back through
 * block_thread_pool_complete(). */
void block_thread_pool_submit(BlockRequest *req);
/* Called by a pool thread when @req is done (any thread). */
void block_aio_thread_done(BlockIOContext *ioc, BlockRequest *req);
/* The synchronous implementation of one request (pool threads). */
int block_file_do_sync(BlockRequest *req);

/* --- io-uring.c ------------------------------------------------------- */

typedef struct BlockUring BlockUring;

/* NULL when io_uring is unavailable or disabled (QEMU_REMOTE_AIO=threads). */
BlockUring *block_uring_new(int eventfd);
void block_uring_free(BlockUring *u);
/* True when io_uring can be used in this process at all. */
bool block_uring_available(void);
/* Queues @req; submitted now or at unplug. */
void block_uring_submit(BlockUring *u, BlockRequest *req);
void block_uring_flush(BlockUring *u);
/* True when completions wait in the ring (no system call). */
bool block_uring_has_completions(BlockUring *u);
/* Handles every available completion; returns how many finished. */
unsigned block_uring_complete(BlockUring *u, BlockIOContext *ioc);

/* Advances @req's I/O vector past @done bytes (short transfers). */
void block_req_advance(BlockRequest *req, uint64_t done);

#endif
