/*
 * The "file" driver: a host file or block device opened with open(2),
 * its O_DIRECT alignment, and the blocking implementation of each request
 * (used by the thread pool and by io_uring fallbacks).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/fdset.h"
#include "qemu-remote/log.h"
#include "block-int.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

/* Largest O_DIRECT alignment we probe for (the page size of every host
 * we run on; a 4 KiB-sector disk needs exactly this). */
#define MAX_DIRECT_ALIGN 4096

/* Write-zeroes fallback writes from this many zero bytes at a time. */
#define ZERO_BUF_SIZE (1024 * 1024)

/*
 * The smallest power of two from 512 up that O_DIRECT accepts, as the
 * length of a read at offset 0 (@probe_memory false), or as the alignment
 * of the buffer of a @req_align-byte read (@probe_memory true; @buf is
 * aligned to twice the largest candidate, so @buf + a is aligned to a and
 * no more).
 */
static uint32_t probe_read_align(int fd, uint8_t *buf, bool probe_memory,
                                 uint32_t req_align)
{
    for (uint32_t a = 512; a <= MAX_DIRECT_ALIGN; a *= 2) {
        ssize_t n;

        if (probe_memory) {
            n = pread(fd, buf + a, req_align, 0);
        } else {
            n = pread(fd, buf, a, 0);
        }
        if (n >= 0) {
            return a;
        }
    }
    return MAX_DIRECT_ALIGN;
}

static void probe_direct_alignment(BlockBackend *f, const struct stat *st)
{
    int sector = 0;
    void *buf;

    if (S_ISBLK(st->st_mode) && ioctl(f->fd, BLKSSZGET, &sector) == 0 &&
        sector > 0) {
        f->req_align = (uint32_t)sector;
    }
    /* Room for the largest skew plus the largest read. */
    if (posix_memalign(&buf, 2 * MAX_DIRECT_ALIGN, 3 * MAX_DIRECT_ALIGN)) {
        f->req_align = MAX(f->req_align, MAX_DIRECT_ALIGN);
        f->mem_align = MAX_DIRECT_ALIGN;
        return;
    }
    if (!f->req_align) {
        f->req_align = probe_read_align(f->fd, buf, false, 0);
    }
    f->mem_align = probe_read_align(f->fd, buf, true, f->req_align);
    free(buf);
}

static int open_flags(bool read_only, bool direct)
{
    return (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC |
           (direct ? O_DIRECT : 0);
}

BlockBackend *block_file_open(const BlockFileOpts *o, GError **errp)
{
    bool read_only = o->read_only;
    BlockBackend *f;
    struct stat st;
    uint64_t size;
    int fd;

    if (!sandbox_require(&block_sandbox_policy, errp)) {
        return NULL;
    }
    /* "/dev/fdset/N" takes an fd handed over with -add-fd. */
    fd = qemu_open(o->filename, open_flags(read_only, o->direct), 0);
    if (fd < 0 && !read_only && o->auto_read_only &&
        (errno == EACCES || errno == EROFS || errno == EPERM)) {
        read_only = true;
        fd = qemu_open(o->filename, open_flags(true, o->direct), 0);
    }
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", o->filename);
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        error_setg_errno(errp, errno, "Could not stat '%s'", o->filename);
        close(fd);
        return NULL;
    }
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
            error_setg_errno(errp, errno, "Could not get the size of '%s'",
                             o->filename);
            close(fd);
            return NULL;
        }
    } else if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
    } else {
        error_setg(errp, "'%s' is not a file or block device", o->filename);
        close(fd);
        return NULL;
    }

    f = g_new0(BlockBackend, 1);
    f->kind = BLOCK_NODE_FILE;
    f->filename = g_strdup(o->filename);
    f->fd = fd;
    f->read_only = read_only;
    f->write_cache = true;
    f->no_flush = o->no_flush;
    f->discard_unmap = o->discard_unmap;
    f->force_share = o->force_share;
    f->direct = o->direct;
    f->locking = o->locking;
    f->aio = o->aio;
    f->size = size;
    f->req_align = 1;
    f->mem_align = 1;
    if (o->direct) {
        f->req_align = 0;
        probe_direct_alignment(f, &st);
    }
    qr_log_mask(LOG_BLOCK, "block: opened '%s' size 0x%" PRIx64 "%s%s",
                o->filename, size, read_only ? " read-only" : "",
                o->direct ? " O_DIRECT" : "");
    return f;
}

void block_file_close(BlockBackend *f)
{
    block_file_unlock(f);
    close(f->fd);
    g_free(f->filename);
    g_free(f);
}

/* Fills what is left of the request's vector with zeroes (read at EOF). */
static void zero_rest(BlockRequest *req)
{
    for (int i = 0; i < req->priv.io_niov; i++) {
        memset(req->priv.io_iov[i].iov_base, 0, req->priv.io_iov[i].iov_len);
    }
    req->priv.left = 0;
}

static int do_rw(BlockRequest *req, bool write)
{
    int fd = req->priv.file->fd;

    while (req->priv.left > 0) {
        ssize_t n = write ? pwritev(fd, req->priv.io_iov, req->priv.io_niov,
                                    (off_t)req->priv.pos)
                          : preadv(fd, req->priv.io_iov, req->priv.io_niov,
                                   (off_t)req->priv.pos);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            if (write) {
                /* No progress and no error: nothing more fits. */
                return -ENOSPC;
            }
            zero_rest(req);
            return 0;
        }
        block_req_advance(req, (uint64_t)n);
    }
    return 0;
}

/* An fallocate mode the filesystem does not implement. */
static bool fallocate_unsupported(int err)
{
    return err == EOPNOTSUPP || err == ENOSYS || err == EINVAL;
}

static int do_fallocate(int fd, int mode, uint64_t offset, uint64_t len)
{
    int r;

    do {
        r = fallocate(fd, mode, (off_t)offset, (off_t)len);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

static uint8_t *zero_buffer;
static GOnce zero_once = G_ONCE_INIT;

static gpointer zero_buffer_alloc(gpointer unused)
{
    void *buf = NULL;

    if (posix_memalign(&buf, MAX_DIRECT_ALIGN, ZERO_BUF_SIZE) == 0) {
        memset(buf, 0, ZERO_BUF_SIZE);
    }
    return buf;
}

static int write_zero_buffers(BlockBackend *f, uint64_t pos, uint64_t len)
{
    zero_buffer = g_once(&zero_once, zero_buffer_alloc, NULL);
    if (!zero_buffer) {
        return -ENOMEM;
    }
    while (len > 0) {
        size_t chunk = MIN(len, ZERO_BUF_SIZE);
        ssize_t n = pwrite(f->fd, zero_buffer, chunk, (off_t)pos);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            return -ENOSPC;
        }
        pos += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

static int do_discard(BlockRequest *req)
{
    BlockBackend *f = req->priv.file;
    int r;

    if (g_atomic_int_get(&f->no_punch_hole)) {
        return 0;
    }
    r = do_fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                     req->priv.pos, req->priv.left);
    if (r < 0 && fallocate_unsupported(-r)) {
        /* Discard is advisory: not freeing space is a valid outcome. */
        g_atomic_int_set(&f->no_punch_hole, 1);
        return 0;
    }
    return r;
}

static int do_write_zeroes(BlockRequest *req)
{
    BlockBackend *f = req->priv.file;
    int r;

    if ((req->flags & BLOCK_REQ_MAY_UNMAP) && f->discard_unmap &&
        !g_atomic_int_get(&f->no_punch_hole)) {
        r = do_fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                         req->priv.pos, req->priv.left);
        if (r == 0 || !fallocate_unsupported(-r)) {
            return r;
        }
        g_atomic_int_set(&f->no_punch_hole, 1);
    }
    if (!g_atomic_int_get(&f->no_zero_range)) {
        r = do_fallocate(f->fd, FALLOC_FL_ZERO_RANGE, req->priv.pos,
                         req->priv.left);
        if (r == 0 || !fallocate_unsupported(-r)) {
            return r;
        }
        g_atomic_int_set(&f->no_zero_range, 1);
    }
    return write_zero_buffers(f, req->priv.pos, req->priv.left);
}

int block_file_do_sync(BlockRequest *req)
{
    switch (req->op) {
    case BLOCK_OP_READ:
        return do_rw(req, false);
    case BLOCK_OP_WRITE:
        return do_rw(req, true);
    case BLOCK_OP_FLUSH:
        return fdatasync(req->priv.file->fd) < 0 ? -errno : 0;
    case BLOCK_OP_DISCARD:
        return do_discard(req);
    case BLOCK_OP_WRITE_ZEROES:
        return do_write_zeroes(req);
    }
    return -EINVAL;
}
