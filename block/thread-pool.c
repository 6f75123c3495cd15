/*
 * Thread-pool fallback for block I/O: each request runs as blocking system
 * calls in a worker thread, and its completion goes back to the submitting
 * context through block_aio_thread_done().  Used where io_uring is
 * unavailable, with aio=threads, and for the write-zeroes fallback.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "block-int.h"

/*
 * Workers block in the kernel, so more of them than cores is useful; QEMU
 * uses 64.  This bounds the threads, not the queue: extra requests wait.
 */
#define BLOCK_POOL_MAX_THREADS 16

static GThreadPool *pool;
static GOnce pool_once = G_ONCE_INIT;

static void pool_worker(gpointer data, gpointer user_data)
{
    BlockRequest *req = data;

    req->priv.ret = block_file_do_sync(req);
    block_aio_thread_done(req->priv.ioc, req);
}

static gpointer pool_create(gpointer unused)
{
    /* Non-exclusive pools never fail to be created. */
    return g_thread_pool_new(pool_worker, NULL, BLOCK_POOL_MAX_THREADS,
                             FALSE, NULL);
}

void block_thread_pool_submit(BlockRequest *req)
{
    pool = g_once(&pool_once, pool_create, NULL);
    req->priv.threaded = true;
    /* A non-exclusive pool queues the task and cannot fail. */
    g_thread_pool_push(pool, req, NULL);
}
