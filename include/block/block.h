/*
 * Block layer: named block nodes opened from "-blockdev" / "-drive", with
 * asynchronous I/O for device models.
 *
 * Nodes.  A "file" node is an open host file or block device; a "raw" node
 * sits on a file node (its "file" child) and may expose a window of it
 * (offset=, size=).  "-drive if=none,id=ID,..." creates a raw node named ID
 * over an anonymous file node.  Node names and drive ids share one
 * namespace.  Nodes are created and closed on the main thread.
 *
 * Users.  A device attaches to one node (blk_attach_dev()) at realize; that
 * is when QEMU-compatible image locks are taken (OFD locks on bytes 100+n
 * for the permissions held and 200+n for those not shared, as QEMU's
 * file-posix does), so two processes cannot open one image for writing by
 * accident.
 *
 * I/O.  Requests are submitted from a thread that runs a GMainContext and
 * complete in that same thread: each context gets one BlockIOContext (an
 * io_uring ring, or the thread-pool fallback when io_uring is unavailable,
 * disabled with aio=threads or QEMU_REMOTE_AIO=threads) whose completion
 * eventfd is watched by the context.  The caller embeds a BlockRequest in
 * its own request structure, so the block layer allocates nothing per
 * request except bounce buffers for O_DIRECT with misaligned memory.
 * Every host error reaches the completion callback as -errno.
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include "qemu-remote/osdep.h"
#include "qemu-remote/option.h"
#include "qemu-remote/sandbox.h"
#include "hw/qdev.h"

#include <sys/uio.h>

typedef struct BlockBackend BlockBackend;
typedef struct BlockIOContext BlockIOContext;
typedef struct BlockRequest BlockRequest;

/*
 * "-blockdev driver=file,node-name=N,filename=F[,read-only=on]
 * [,cache.direct=on][,cache.no-flush=on][,locking=on|off|auto]
 * [,discard=ignore|unmap][,aio=threads|io_uring][,force-share=on]
 * [,auto-read-only=on]" and "driver=raw,node-name=N,file=CHILD
 * [,offset=O][,size=S]" (or the child given inline as file.driver=file,
 * file.filename=F, ...) on top of a file node.
 * Returns the new node, or NULL with @errp set.
 */
BlockBackend *blockdev_add_keyval(const KeyValList *opts, GError **errp);

/*
 * "-drive if=none,id=ID,file=F[,format=raw][,readonly=on]
 * [,cache=writeback|none|writethrough|directsync|unsafe][,aio=...]
 * [,discard=ignore|unmap][,node-name=N][,file.locking=on|off|auto]".
 * Returns the raw node named ID, or NULL with @errp set.
 */
BlockBackend *drive_add_keyval(const KeyValList *opts, GError **errp);

/* A node by node-name (or -drive id); NULL if none. */
BlockBackend *blk_by_name(const char *name);

/* Closes every node (at exit, after devices are gone). */
void blockdev_close_all(void);

/* The system calls open nodes need (block/seccomp.c); every file node
 * requires it when it opens. */
extern const SandboxPolicy block_sandbox_policy;

/* Device property "drive=NODE": a BlockBackend * field. */
extern const PropertyInfo prop_info_drive;

/* --- node properties (any thread; they do not change once open) ----- */

/* The node's name ("" for anonymous nodes). */
const char *blk_name(const BlockBackend *blk);

/* Size in bytes of what the node exposes. */
uint64_t blk_getlength(const BlockBackend *blk);

bool blk_is_read_only(const BlockBackend *blk);

/*
 * Whether the node was opened with a write-back cache (-drive cache= modes
 * writeback, none, unsafe; always for -blockdev).  Devices use it as the
 * default for their write-cache setting.
 */
bool blk_enable_write_cache(const BlockBackend *blk);

/*
 * Offset and length alignment every request must have: the O_DIRECT
 * alignment of the file with cache.direct=on, else 1.  Requests that are
 * not aligned fail with -EINVAL (memory alignment is handled by bouncing).
 */
uint32_t blk_get_request_alignment(const BlockBackend *blk);

/* True when discard requests punch holes (discard=unmap). */
bool blk_discard_unmaps(const BlockBackend *blk);

/*
 * Attaches device @dev to @blk and takes the image locks for reading and,
 * if @writable, writing; unless @share_rw, other writers are refused.
 * Fails when the node already has a device, @writable on a read-only node,
 * or another process holds a conflicting lock (QEMU's message: 'Failed to
 * get "write" lock' / 'Is another process using the image [F]?').
 */
bool blk_attach_dev(BlockBackend *blk, Device *dev, bool writable,
                    bool share_rw, GError **errp);
/* Releases the locks and the node for another device.  No I/O may be in
 * flight on behalf of @dev. */
void blk_detach_dev(BlockBackend *blk, Device *dev);

/* --- asynchronous I/O ---------------------------------------------- */

typedef enum BlockOp {
    BLOCK_OP_READ,
    BLOCK_OP_WRITE,
    BLOCK_OP_FLUSH,         /* fdatasync (a no-op with cache.no-flush=on) */
    BLOCK_OP_DISCARD,       /* hole punch with discard=unmap, else no-op */
    BLOCK_OP_WRITE_ZEROES,  /* zero range, falling back to writing zeroes */
} BlockOp;

/* WRITE_ZEROES may deallocate (punch a hole) if the node has
 * discard=unmap. */
#define BLOCK_REQ_MAY_UNMAP 0x1u

/*
 * Called once per request, in the submitting thread, never from inside
 * blk_submit().  @ret is 0 on success or a negative errno.
 */
typedef void BlockCompletionFunc(BlockRequest *req, int ret);

struct BlockRequest {
    /* Filled in by the caller. */
    BlockOp op;
    unsigned flags;             /* BLOCK_REQ_* */
    uint64_t offset;            /* bytes, within the node */
    uint64_t bytes;             /* DISCARD / WRITE_ZEROES length */
    /* READ / WRITE buffers; the array is owned by the block layer until
     * completion and may be modified (advanced past short transfers). */
    struct iovec *iov;
    int niov;
    BlockCompletionFunc *cb;

    /* Private to the block layer. */
    struct {
        BlockBackend *file;     /* the file node doing the I/O */
        BlockIOContext *ioc;
        uint64_t pos;           /* file offset of the next byte */
        uint64_t left;          /* bytes still to transfer */
        struct iovec *io_iov;   /* what the system calls use: the */
        int io_niov;            /* caller's vector or the bounce one */
        void *bounce;
        size_t bounce_len;
        struct iovec bounce_iov;
        int ret;
        bool threaded;          /* runs in the thread pool */
        BlockRequest *next;     /* completion and overflow lists */
    } priv;
};

/*
 * The I/O context of @ctx (NULL: the global default context), created on
 * first use and shared by everyone submitting from that context; each call
 * takes a reference.  Fails only when no eventfd can be created.
 * Call from the thread that runs @ctx.
 */
BlockIOContext *blk_io_context_get(GMainContext *ctx, GError **errp);
void blk_io_context_unref(BlockIOContext *ioc);

/* True when @ioc submits through io_uring (false: thread pool only). */
bool blk_io_context_uses_io_uring(const BlockIOContext *ioc);

/*
 * Starts @req on @blk.  Call from @ioc's thread.  Requests that reach
 * outside the node or are misaligned for O_DIRECT (-EINVAL), and writes to
 * a read-only node (-EROFS), fail through the callback like host errors.
 */
void blk_submit(BlockBackend *blk, BlockIOContext *ioc, BlockRequest *req);

/*
 * Batching: between plug and unplug, io_uring submissions are queued and
 * handed to the kernel with one system call at the outermost unplug.
 */
void blk_io_plug(BlockIOContext *ioc);
void blk_io_unplug(BlockIOContext *ioc);

/*
 * Registers @fn(@opaque) to run after each batch of completion callbacks
 * (so a device can publish all of a batch's results to the guest at once).
 */
void blk_io_context_add_batch_notifier(BlockIOContext *ioc,
                                       void (*fn)(void *opaque),
                                       void *opaque);
void blk_io_context_remove_batch_notifier(BlockIOContext *ioc,
                                          void (*fn)(void *opaque),
                                          void *opaque);

/*
 * Runs, now, the callbacks of requests that have already completed (and
 * the batch notifiers if there were any); returns how many.  A device
 * calls it right after blk_io_unplug() so that requests served from the
 * page cache complete within the same wake-up.  Call from @ioc's thread,
 * not from inside a completion callback.
 */
unsigned blk_io_context_poll(BlockIOContext *ioc);

/*
 * Waits until at least one request submitted through @ioc completes, and
 * runs the callbacks of all completed ones (and the batch notifiers).
 * Dispatches nothing else of the GMainContext: a device drains its own
 * requests with "while (inflight) blk_io_context_wait(ioc);".  Returns at
 * once when nothing is in flight.  Call from @ioc's thread.
 */
void blk_io_context_wait(BlockIOContext *ioc);

/* Requests submitted through @ioc and not yet completed. */
unsigned blk_io_context_in_flight(const BlockIOContext *ioc);

#endif
