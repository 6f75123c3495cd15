/*
 * io_uring submission and completion for one BlockIOContext.  Completions
 * are handled in the thread that submitted them: they signal the context's
 * eventfd, and the context's GSource also looks at the ring directly.
 * Requests the ring cannot finish by itself (write-zeroes on a filesystem
 * without FALLOC_FL_ZERO_RANGE) move to the thread pool.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "block-int.h"

#include <linux/falloc.h>
#include <liburing.h>

/*
 * Submission queue entries.  Not a limit on requests in flight (the kernel
 * takes entries at each submit and the completion queue, twice as large,
 * does not drop when full); it bounds one batch between submits, and
 * requests beyond it wait on the overflow list for the next flush.
 */
#define URING_ENTRIES 256

struct BlockUring {
    struct io_uring ring;
    unsigned queued;            /* prepared, not yet submitted */
    BlockRequest *overflow;     /* waiting for a free SQE */
    BlockRequest **overflow_tail;
};

static int uring_probe_result = -1;     /* -1 unknown, 0 no, 1 yes */
static GMutex probe_lock;

/* QEMU_REMOTE_AIO=threads disables io_uring in the whole process. */
static bool uring_disabled_by_env(void)
{
    const char *e = g_getenv("QEMU_REMOTE_AIO");

    return e && g_str_equal(e, "threads");
}

bool block_uring_available(void)
{
    g_mutex_lock(&probe_lock);
    if (uring_probe_result < 0) {
        struct io_uring ring;

        if (uring_disabled_by_env()) {
            uring_probe_result = 0;
        } else if (io_uring_queue_init(2, &ring, 0) == 0) {
            io_uring_queue_exit(&ring);
            uring_probe_result = 1;
        } else {
            uring_probe_result = 0;
        }
    }
    g_mutex_unlock(&probe_lock);
    return uring_probe_result == 1;
}

/*
 * Whether block_uring_new() should try a ring: false once io_uring is
 * known to be unavailable.  While that is unknown, the first real ring is
 * the probe (a probe ring of its own cost a setup and teardown at start).
 */
static bool uring_worth_trying(void)
{
    bool worth;

    g_mutex_lock(&probe_lock);
    if (uring_probe_result < 0 && uring_disabled_by_env()) {
        uring_probe_result = 0;
    }
    worth = uring_probe_result != 0;
    g_mutex_unlock(&probe_lock);
    return worth;
}

/* Remembers what the first ring setup showed, unless already known. */
static void uring_setup_result(bool ok)
{
    g_mutex_lock(&probe_lock);
    if (uring_probe_result < 0) {
        uring_probe_result = ok;
    }
    g_mutex_unlock(&probe_lock);
}

/*
 * A ring's operations bypass seccomp, so every ring is restricted to the
 * operations prep_sqe() uses before it is enabled: under the sandbox, a
 * compromised process cannot make it open, connect or read anything else.
 * (The sandbox refuses io_uring_setup(), so no unrestricted ring can be
 * made after start-up; contexts created then use the thread pool.)
 */
static int uring_restrict(struct io_uring *ring)
{
    static const uint8_t ops[] = {
        IORING_OP_NOP, IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC,
        IORING_OP_FALLOCATE,
    };
    struct io_uring_restriction res[G_N_ELEMENTS(ops)] = { 0 };

    for (size_t i = 0; i < G_N_ELEMENTS(ops); i++) {
        res[i].opcode = IORING_RESTRICTION_SQE_OP;
        res[i].sqe_op = ops[i];
    }
    /* Debian's liburing 2.3 does not export io_uring_register_restrictions()
     * or io_uring_enable_rings(): the plain register call does both. */
    return io_uring_register(ring->ring_fd, IORING_REGISTER_RESTRICTIONS, res,
                             G_N_ELEMENTS(res));
}

BlockUring *block_uring_new(int efd)
{
    struct io_uring_params params = { .flags = IORING_SETUP_R_DISABLED };
    BlockUring *u;
    int r;

    if (!uring_worth_trying()) {
        return NULL;
    }
    u = g_new0(BlockUring, 1);
    r = io_uring_queue_init_params(URING_ENTRIES, &u->ring, &params);
    uring_setup_result(r == 0);
    if (r < 0) {
        qr_log_mask(LOG_BLOCK, "block: io_uring_queue_init: %s; using the "
                    "thread pool", g_strerror(-r));
        g_free(u);
        return NULL;
    }
    /*
     * Every completion signals the eventfd.  (The _async variant would
     * spare the wake-up for completions posted while submitting, but it
     * also skips those delivered by task work, e.g. O_DIRECT, which then
     * never wake a thread sleeping in poll.)  Completions already posted
     * are found without waiting: block_uring_has_completions().
     */
    r = io_uring_register_eventfd(&u->ring, efd);
    if (r < 0) {
        qr_log_mask(LOG_BLOCK, "block: io_uring_register_eventfd: %s; using "
                    "the thread pool", g_strerror(-r));
        io_uring_queue_exit(&u->ring);
        g_free(u);
        return NULL;
    }
    r = uring_restrict(&u->ring);
    if (r == 0) {
        r = io_uring_register(u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
                              NULL, 0);
    }
    if (r < 0) {
        qr_log_mask(LOG_BLOCK, "block: cannot restrict the io_uring ring: "
                    "%s; using the thread pool", g_strerror(-r));
        io_uring_queue_exit(&u->ring);
        g_free(u);
        return NULL;
    }
    u->overflow_tail = &u->overflow;
    return u;
}

void block_uring_free(BlockUring *u)
{
    if (u) {
        io_uring_queue_exit(&u->ring);
        g_free(u);
    }
}

/* Fills an SQE for @req; false when the ring cannot express it. */
static bool prep_sqe(struct io_uring_sqe *sqe, BlockRequest *req)
{
    BlockBackend *f = req->priv.file;

    switch (req->op) {
    case BLOCK_OP_READ:
        io_uring_prep_readv(sqe, f->fd, req->priv.io_iov,
                            (unsigned)req->priv.io_niov, req->priv.pos);
        break;
    case BLOCK_OP_WRITE:
        io_uring_prep_writev(sqe, f->fd, req->priv.io_iov,
                             (unsigned)req->priv.io_niov, req->priv.pos);
        break;
    case BLOCK_OP_FLUSH:
        io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
        break;
    case BLOCK_OP_DISCARD:
        if (g_atomic_int_get(&f->no_punch_hole)) {
            return false;
        }
        io_uring_prep_fallocate(sqe, f->fd,
                                FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                req->priv.pos, req->priv.left);
        break;
    case BLOCK_OP_WRITE_ZEROES:
        if ((req->flags & BLOCK_REQ_MAY_UNMAP) && f->discard_unmap) {
            /* The thread pool runs the whole punch/zero/write chain. */
            return false;
        }
        if (g_atomic_int_get(&f->no_zero_range)) {
            return false;
        }
        io_uring_prep_fallocate(sqe, f->fd, FALLOC_FL_ZERO_RANGE,
                                req->priv.pos, req->priv.left);
        break;
    }
    io_uring_sqe_set_data(sqe, req);
    return true;
}

/* Puts @req into the ring, or on the overflow list when it is full. */
static void uring_queue(BlockUring *u, BlockRequest *req)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

    if (!sqe && u->queued > 0) {
        io_uring_submit(&u->ring);
        u->queued = 0;
        sqe = io_uring_get_sqe(&u->ring);
    }
    if (!sqe) {
        req->priv.next = NULL;
        *u->overflow_tail = req;
        u->overflow_tail = &req->priv.next;
        return;
    }
    if (!prep_sqe(sqe, req)) {
        /* Give the slot back as a no-op rather than leave it half set. */
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data(sqe, NULL);
        u->queued++;
        block_thread_pool_submit(req);
        return;
    }
    u->queued++;
}

void block_uring_submit(BlockUring *u, BlockRequest *req)
{
    if (u->overflow) {
        /* Keep order behind the requests already waiting. */
        req->priv.next = NULL;
        *u->overflow_tail = req;
        u->overflow_tail = &req->priv.next;
        return;
    }
    uring_queue(u, req);
}

void block_uring_flush(BlockUring *u)
{
    while (u->overflow) {
        BlockRequest *req = u->overflow;

        u->overflow = req->priv.next;
        if (!u->overflow) {
            u->overflow_tail = &u->overflow;
        }
        uring_queue(u, req);
        if (u->overflow_tail == &req->priv.next) {
            break;      /* the ring is still full: retry at the next flush */
        }
    }
    if (u->queued > 0) {
        int r = io_uring_submit(&u->ring);

        if (r < 0) {
            qr_log_mask(LOG_BLOCK, "block: io_uring_submit: %s",
                        g_strerror(-r));
        }
        u->queued = 0;
    }
}

/* Handles one completion.  Returns true when @req finished. */
static bool uring_handle(BlockUring *u, BlockIOContext *ioc,
                         BlockRequest *req, int res)
{
    BlockBackend *f = req->priv.file;

    if (res == -EINTR || res == -EAGAIN) {
        uring_queue(u, req);
        return false;
    }
    switch (req->op) {
    case BLOCK_OP_READ:
    case BLOCK_OP_WRITE:
        if (res < 0) {
            break;
        }
        if (res == 0) {
            if (req->op == BLOCK_OP_WRITE) {
                res = -ENOSPC;
                break;
            }
            /* End of file: the rest reads as zeroes. */
            for (int i = 0; i < req->priv.io_niov; i++) {
                memset(req->priv.io_iov[i].iov_base, 0,
                       req->priv.io_iov[i].iov_len);
            }
            res = 0;
            break;
        }
        block_req_advance(req, (uint64_t)res);
        if (req->priv.left > 0) {
            uring_queue(u, req);
            return false;
        }
        res = 0;
        break;
    case BLOCK_OP_DISCARD:
        if (res < 0 && (res == -EOPNOTSUPP || res == -ENOSYS ||
                        res == -EINVAL)) {
            g_atomic_int_set(&f->no_punch_hole, 1);
            res = 0;
        }
        break;
    case BLOCK_OP_WRITE_ZEROES:
        if (res < 0 && (res == -EOPNOTSUPP || res == -ENOSYS ||
                        res == -EINVAL)) {
            g_atomic_int_set(&f->no_zero_range, 1);
            block_thread_pool_submit(req);
            return false;
        }
        break;
    case BLOCK_OP_FLUSH:
        break;
    }
    block_req_finish(ioc, req, res < 0 ? res : 0);
    return true;
}

bool block_uring_has_completions(BlockUring *u)
{
    return io_uring_cq_ready(&u->ring) > 0;
}

unsigned block_uring_complete(BlockUring *u, BlockIOContext *ioc)
{
    unsigned finished = 0;
    struct io_uring_cqe *cqe;

    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        BlockRequest *req = io_uring_cqe_get_data(cqe);
        int res = cqe->res;

        io_uring_cqe_seen(&u->ring, cqe);
        if (req && uring_handle(u, ioc, req, res)) {
            finished++;
        }
    }
    return finished;
}
