/*
 * BlockIOContext: one per GMainContext that submits block I/O.  Owns the
 * context's io_uring ring and the eventfd through which the ring and the
 * thread pool report completions; routes requests (see
 * include/block/block.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "block-int.h"

#include <limits.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <glib-unix.h>

typedef struct BatchNotifier {
    void (*fn)(void *opaque);
    void *opaque;
} BatchNotifier;

typedef struct IocSource {
    GSource source;
    BlockIOContext *ioc;
    gpointer tag;               /* the eventfd's poll record */
} IocSource;

struct BlockIOContext {
    int refcnt;                 /* under contexts_lock */
    GMainContext *ctx;
    int efd;
    IocSource *source;
    BlockUring *uring;          /* NULL: thread pool only */
    unsigned plug;
    unsigned in_flight;         /* context thread only */
    GMutex lock;                /* guards thread_done */
    BlockRequest *thread_done;  /* finished by pool threads */
    BlockRequest *deferred;     /* finished at submit time */
    BlockRequest *lone_write;   /* held until unplug: write_in_place() */
    GArray *notifiers;          /* of BatchNotifier */
};

static void write_lone_write(BlockIOContext *ioc);

static GMutex contexts_lock;
static GHashTable *contexts;    /* GMainContext * -> BlockIOContext * */

static void ioc_kick(BlockIOContext *ioc)
{
    uint64_t one = 1;

    /* Only fails when the counter would overflow: then it is non-zero and
     * the dispatch is already due. */
    if (write(ioc->efd, &one, sizeof(one)) < 0) {
        qr_log_mask(LOG_BLOCK, "block: eventfd write: %s", g_strerror(errno));
    }
}

void block_req_defer(BlockIOContext *ioc, BlockRequest *req, int ret)
{
    /* The context's source sees the list before its next poll. */
    req->priv.ret = ret;
    req->priv.next = ioc->deferred;
    ioc->deferred = req;
}

void block_aio_thread_done(BlockIOContext *ioc, BlockRequest *req)
{
    g_mutex_lock(&ioc->lock);
    req->priv.next = ioc->thread_done;
    ioc->thread_done = req;
    g_mutex_unlock(&ioc->lock);
    ioc_kick(ioc);
}

/* Copies @len bytes of @buf into the vector @iov. */
static void iov_from_buf(const struct iovec *iov, int niov, const void *buf,
                         size_t len)
{
    const uint8_t *p = buf;

    for (int i = 0; i < niov && len > 0; i++) {
        size_t n = MIN(len, iov[i].iov_len);

        memcpy(iov[i].iov_base, p, n);
        p += n;
        len -= n;
    }
}

void block_req_finish(BlockIOContext *ioc, BlockRequest *req, int ret)
{
    if (req->priv.bounce) {
        if (ret == 0 && req->op == BLOCK_OP_READ) {
            iov_from_buf(req->iov, req->niov, req->priv.bounce,
                         req->priv.bounce_len);
        }
        free(req->priv.bounce);
        req->priv.bounce = NULL;
    }
    if (ret < 0) {
        qr_log_mask(LOG_BLOCK, "block: op %d offset 0x%" PRIx64 " failed: %s",
                    req->op, req->offset, g_strerror(-ret));
    }
    ioc->in_flight--;
    req->cb(req, ret);
}

/* Runs the callbacks of every finished request; returns how many. */
static unsigned ioc_dispatch_completions(BlockIOContext *ioc)
{
    unsigned n = 0;
    BlockRequest *list;

    if (ioc->uring) {
        n += block_uring_complete(ioc->uring, ioc);
    }

    g_mutex_lock(&ioc->lock);
    list = ioc->thread_done;
    ioc->thread_done = NULL;
    g_mutex_unlock(&ioc->lock);
    while (list) {
        BlockRequest *req = list;

        list = req->priv.next;
        block_req_finish(ioc, req, req->priv.ret);
        n++;
    }

    list = ioc->deferred;
    ioc->deferred = NULL;
    while (list) {
        BlockRequest *req = list;

        list = req->priv.next;
        block_req_finish(ioc, req, req->priv.ret);
        n++;
    }

    if (n > 0) {
        for (guint i = 0; i < ioc->notifiers->len; i++) {
            BatchNotifier *bn = &g_array_index(ioc->notifiers, BatchNotifier,
                                               i);

            bn->fn(bn->opaque);
        }
    }
    /* Callbacks may have submitted more (short transfers, new requests). */
    if (ioc->uring && ioc->plug == 0) {
        block_uring_flush(ioc->uring);
    }
    return n;
}

static void ioc_drain_eventfd(BlockIOContext *ioc)
{
    uint64_t cnt;

    /* Non-blocking: a concurrent reader may have emptied it already. */
    if (read(ioc->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN) {
        qr_log_mask(LOG_BLOCK, "block: eventfd read: %s", g_strerror(errno));
    }
}

/*
 * Completions waiting to be dispatched, seen without a system call: in the
 * ring (posted while submitting, before the eventfd wake-up is seen),
 * requests failed at submission, and what pool threads finished (they also
 * write the eventfd to wake the context).
 */
static bool ioc_has_work(BlockIOContext *ioc)
{
    return (ioc->uring && block_uring_has_completions(ioc->uring)) ||
           ioc->deferred || g_atomic_pointer_get(&ioc->thread_done);
}

static gboolean ioc_source_prepare(GSource *source, gint *timeout)
{
    *timeout = -1;
    return ioc_has_work(((IocSource *)source)->ioc);
}

static gboolean ioc_source_check(GSource *source)
{
    IocSource *s = (IocSource *)source;

    return ioc_has_work(s->ioc) ||
           (g_source_query_unix_fd(source, s->tag) & G_IO_IN);
}

static gboolean ioc_source_dispatch(GSource *source, GSourceFunc cb,
                                    gpointer data)
{
    IocSource *s = (IocSource *)source;

    if (g_source_query_unix_fd(source, s->tag) & G_IO_IN) {
        ioc_drain_eventfd(s->ioc);
    }
    ioc_dispatch_completions(s->ioc);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs ioc_source_funcs = {
    .prepare = ioc_source_prepare,
    .check = ioc_source_check,
    .dispatch = ioc_source_dispatch,
};

BlockIOContext *blk_io_context_get(GMainContext *ctx, GError **errp)
{
    BlockIOContext *ioc;

    if (!ctx) {
        ctx = g_main_context_default();
    }
    g_mutex_lock(&contexts_lock);
    if (!contexts) {
        contexts = g_hash_table_new(NULL, NULL);
    }
    ioc = g_hash_table_lookup(contexts, ctx);
    if (ioc) {
        ioc->refcnt++;
        g_mutex_unlock(&contexts_lock);
        return ioc;
    }

    ioc = g_new0(BlockIOContext, 1);
    ioc->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ioc->efd < 0) {
        error_setg_errno(errp, errno, "cannot create an eventfd for block I/O");
        g_mutex_unlock(&contexts_lock);
        g_free(ioc);
        return NULL;
    }
    ioc->refcnt = 1;
    ioc->ctx = g_main_context_ref(ctx);
    g_mutex_init(&ioc->lock);
    ioc->notifiers = g_array_new(FALSE, FALSE, sizeof(BatchNotifier));
    ioc->uring = block_uring_new(ioc->efd);
    ioc->source = (IocSource *)g_source_new(&ioc_source_funcs,
                                            sizeof(IocSource));
    ioc->source->ioc = ioc;
    ioc->source->tag = g_source_add_unix_fd(&ioc->source->source, ioc->efd,
                                            G_IO_IN);
    /* Never dispatched recursively (blk_io_context_wait() polls the eventfd
     * itself); saves GLib's blocking of the source around each dispatch:
     * two wake-up eventfd writes and a loop iteration per completion. */
    g_source_set_can_recurse(&ioc->source->source, TRUE);
    g_source_attach(&ioc->source->source, ctx);
    g_hash_table_insert(contexts, ctx, ioc);
    g_mutex_unlock(&contexts_lock);
    qr_log_mask(LOG_BLOCK, "block: new I/O context (%s)",
                ioc->uring ? "io_uring" : "thread pool");
    return ioc;
}

void blk_io_context_unref(BlockIOContext *ioc)
{
    if (!ioc) {
        return;
    }
    g_mutex_lock(&contexts_lock);
    if (--ioc->refcnt > 0) {
        g_mutex_unlock(&contexts_lock);
        return;
    }
    g_hash_table_remove(contexts, ioc->ctx);
    g_mutex_unlock(&contexts_lock);

    /* Users drain before letting go; anything still running would write
     * into freed memory, so wait for it rather than free under it. */
    while (ioc->in_flight > 0) {
        blk_io_context_wait(ioc);
    }
    g_source_destroy(&ioc->source->source);
    g_source_unref(&ioc->source->source);
    block_uring_free(ioc->uring);
    close(ioc->efd);
    g_array_free(ioc->notifiers, TRUE);
    g_mutex_clear(&ioc->lock);
    g_main_context_unref(ioc->ctx);
    g_free(ioc);
}

bool blk_io_context_uses_io_uring(const BlockIOContext *ioc)
{
    return ioc->uring != NULL;
}

unsigned blk_io_context_in_flight(const BlockIOContext *ioc)
{
    return ioc->in_flight;
}

void blk_io_plug(BlockIOContext *ioc)
{
    ioc->plug++;
}

void blk_io_unplug(BlockIOContext *ioc)
{
    if (ioc->plug > 0 && --ioc->plug == 0) {
        write_lone_write(ioc);
        if (ioc->uring) {
            block_uring_flush(ioc->uring);
        }
    }
}

void blk_io_context_add_batch_notifier(BlockIOContext *ioc,
                                       void (*fn)(void *opaque),
                                       void *opaque)
{
    BatchNotifier bn = { .fn = fn, .opaque = opaque };

    g_array_append_val(ioc->notifiers, bn);
}

void blk_io_context_remove_batch_notifier(BlockIOContext *ioc,
                                          void (*fn)(void *opaque),
                                          void *opaque)
{
    for (guint i = 0; i < ioc->notifiers->len; i++) {
        BatchNotifier *bn = &g_array_index(ioc->notifiers, BatchNotifier, i);

        if (bn->fn == fn && bn->opaque == opaque) {
            g_array_remove_index(ioc->notifiers, i);
            return;
        }
    }
}

unsigned blk_io_context_poll(BlockIOContext *ioc)
{
    return ioc_dispatch_completions(ioc);
}

void blk_io_context_wait(BlockIOContext *ioc)
{
    while (ioc->in_flight > 0) {
        struct pollfd pfd = { .fd = ioc->efd, .events = POLLIN };

        write_lone_write(ioc);
        if (ioc->uring) {
            block_uring_flush(ioc->uring);
        }
        if (ioc_dispatch_completions(ioc) > 0) {
            return;
        }
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
            qr_log_mask(LOG_BLOCK, "block: poll: %s", g_strerror(errno));
        }
        ioc_drain_eventfd(ioc);
    }
}

static uint64_t iov_total(const struct iovec *iov, int niov, bool *overflow)
{
    uint64_t total = 0;

    *overflow = false;
    for (int i = 0; i < niov; i++) {
        if (iov[i].iov_len > UINT64_MAX - total) {
            *overflow = true;
            return 0;
        }
        total += iov[i].iov_len;
    }
    return total;
}

static bool is_write_op(BlockOp op)
{
    return op == BLOCK_OP_WRITE || op == BLOCK_OP_DISCARD ||
           op == BLOCK_OP_WRITE_ZEROES;
}

/* Does @req's memory need bouncing for O_DIRECT on @file? */
static bool needs_bounce(const BlockBackend *file, const BlockRequest *req)
{
    if (!file->direct) {
        return false;
    }
    for (int i = 0; i < req->niov; i++) {
        if ((uintptr_t)req->iov[i].iov_base % file->mem_align ||
            req->iov[i].iov_len % file->mem_align) {
            return true;
        }
    }
    return false;
}

/* Copies the vector into a bounce buffer (for writes) and points the I/O
 * at it.  Returns -errno. */
static int setup_bounce(BlockRequest *req)
{
    size_t len = req->priv.left;
    uint8_t *p;
    void *buf;

    if (posix_memalign(&buf, MAX(req->priv.file->mem_align, 512),
                       MAX(len, 1)) != 0) {
        return -ENOMEM;
    }
    req->priv.bounce = buf;
    req->priv.bounce_len = len;
    if (req->op == BLOCK_OP_WRITE) {
        p = buf;
        for (int i = 0; i < req->niov; i++) {
            memcpy(p, req->iov[i].iov_base, req->iov[i].iov_len);
            p += req->iov[i].iov_len;
        }
    }
    req->priv.bounce_iov.iov_base = buf;
    req->priv.bounce_iov.iov_len = len;
    req->priv.io_iov = &req->priv.bounce_iov;
    req->priv.io_niov = 1;
    return 0;
}

/* Checks @req against @blk and resolves it to the file node.  Returns 0,
 * 1 when the request is already complete (a no-op), or -errno. */
static int req_prepare(BlockBackend *blk, BlockRequest *req)
{
    BlockBackend *file = blk;
    uint64_t offset = req->offset;
    bool overflow;

    if (req->op == BLOCK_OP_READ || req->op == BLOCK_OP_WRITE) {
        if (req->niov < 0 || req->niov > IOV_MAX) {
            return -EINVAL;
        }
        req->bytes = iov_total(req->iov, req->niov, &overflow);
        if (overflow) {
            return -EINVAL;
        }
    } else if (req->op == BLOCK_OP_FLUSH) {
        req->bytes = 0;
        offset = 0;
    } else if (req->op != BLOCK_OP_DISCARD &&
               req->op != BLOCK_OP_WRITE_ZEROES) {
        return -EINVAL;
    }
    if (!range_fits(offset, req->bytes, blk->size)) {
        return -EINVAL;
    }
    if (is_write_op(req->op) && blk->read_only) {
        return -EROFS;
    }
    if (blk->kind == BLOCK_NODE_RAW) {
        offset += blk->offset;
        file = blk->child;
    }
    req->priv.file = file;
    req->priv.pos = offset;
    req->priv.left = req->bytes;
    req->priv.io_iov = req->iov;
    req->priv.io_niov = req->niov;
    req->priv.bounce = NULL;

    switch (req->op) {
    case BLOCK_OP_FLUSH:
        return file->no_flush ? 1 : 0;
    case BLOCK_OP_DISCARD:
        return (req->bytes == 0 || !blk->discard_unmap) ? 1 : 0;
    case BLOCK_OP_WRITE_ZEROES:
        if (req->bytes == 0) {
            return 1;
        }
        break;
    default:
        if (req->bytes == 0) {
            return 1;
        }
        break;
    }
    if (file->direct &&
        (offset % file->req_align || req->bytes % file->req_align)) {
        return -EINVAL;
    }
    if (needs_bounce(file, req)) {
        return setup_bounce(req);
    }
    return 0;
}

/* Largest buffered write done in place (a few µs of copying at most). */
#define WRITE_IN_PLACE_MAX (64 * 1024)

/*
 * A small buffered write that is the only request in flight in the context
 * is written in place.  On a filesystem without non-blocking buffered
 * writes (ext4), io_uring hands each one to an io-wq worker, and that
 * wake-up costs several times the copy into the page cache
 * (docs/performance.md).  Submitted in a plugged batch, the write is held
 * until unplug and goes to the ring if more requests follow, so deep queues
 * keep overlapping and a write stalled on a journal commit holds up no
 * other request.
 */
static bool write_in_place(const BlockIOContext *ioc, const BlockRequest *req)
{
    const BlockBackend *file = req->priv.file;

    return req->op == BLOCK_OP_WRITE && ioc->uring &&
           file->aio != BLOCK_AIO_THREADS && !file->direct &&
           ioc->in_flight == 1 && req->priv.left <= WRITE_IN_PLACE_MAX;
}

/* Writes the held lone write, which completes like a no-op request:
 * before the context next polls. */
static void write_lone_write(BlockIOContext *ioc)
{
    BlockRequest *req = ioc->lone_write;

    if (req) {
        ioc->lone_write = NULL;
        block_req_defer(ioc, req, block_file_do_sync(req));
    }
}

/* The asynchronous path: the ring, or the thread pool. */
static void submit_async(BlockIOContext *ioc, BlockRequest *req)
{
    if (ioc->uring && req->priv.file->aio != BLOCK_AIO_THREADS) {
        block_uring_submit(ioc->uring, req);
        if (ioc->plug == 0) {
            block_uring_flush(ioc->uring);
        }
    } else {
        block_thread_pool_submit(req);
    }
}

void blk_submit(BlockBackend *blk, BlockIOContext *ioc, BlockRequest *req)
{
    int ret;

    req->priv.ioc = ioc;
    req->priv.threaded = false;
    ioc->in_flight++;
    ret = req_prepare(blk, req);
    if (ret != 0) {
        block_req_defer(ioc, req, ret < 0 ? ret : 0);
        return;
    }
    if (ioc->lone_write) {
        /* Not alone after all. */
        submit_async(ioc, ioc->lone_write);
        ioc->lone_write = NULL;
    }
    if (write_in_place(ioc, req)) {
        ioc->lone_write = req;
        if (ioc->plug == 0) {
            write_lone_write(ioc);
        }
        return;
    }
    submit_async(ioc, req);
}

void block_req_advance(BlockRequest *req, uint64_t done)
{
    req->priv.pos += done;
    req->priv.left -= done;
    while (done > 0 && req->priv.io_niov > 0) {
        struct iovec *v = req->priv.io_iov;

        if (done < v->iov_len) {
            v->iov_base = (uint8_t *)v->iov_base + done;
            v->iov_len -= done;
            return;
        }
        done -= v->iov_len;
        req->priv.io_iov++;
        req->priv.io_niov--;
    }
    /* Drop empty leading entries so a resubmission starts with data. */
    while (req->priv.io_niov > 0 && req->priv.io_iov->iov_len == 0) {
        req->priv.io_iov++;
        req->priv.io_niov--;
    }
}
