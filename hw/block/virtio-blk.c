/*
 * virtio-blk device model (see include/hw/virtio-blk.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "hw/virtio-blk.h"

#include <endian.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <sys/syscall.h>

#define SECTOR_SIZE     512
#define BLK_HDR_SIZE    16      /* type, reserved/ioprio, sector */
#define BLK_SEG_SIZE    16      /* discard/write-zeroes segment */

/* Config size QEMU exposes: up to num_queues, and further when a later
 * field's feature is offered (its feature_sizes table). */
#define CFG_SIZE_BASE   offsetof(struct virtio_blk_config, max_discard_sectors)
#define CFG_SIZE_DISCARD \
    (offsetof(struct virtio_blk_config, discard_sector_alignment) + 4)
#define CFG_SIZE_WRITE_ZEROES \
    (offsetof(struct virtio_blk_config, write_zeroes_may_unmap) + 1)

/* Discard and write-zeroes take one segment per request, as in QEMU. */
#define MAX_DWZ_SEGS    1

/* Handler results besides the virtio status codes. */
#define VIRTIO_BLK_S_INFLIGHT   0xff    /* submitted; completes later */
#define VIRTIO_BLK_S_BROKEN     0xfe    /* device broken; drop the request */

struct VirtIOBlockReq {
    BlockRequest breq;
    VirtQueueElement elem;
    VirtIOBlock *s;
    VirtIOBlockCtx *ctx;        /* of the queue it came from */
    VirtQueue *vq;
    uint32_t type;
    uint32_t used_len;          /* bytes written on success, status incl. */
    struct iovec *iov;          /* the data part of the element */
    unsigned iov_cap;
    VirtIOBlockReq *next;       /* free list */
};

static VirtIOBlock *to_blk(VirtIODevice *vdev)
{
    return container_of(vdev, VirtIOBlock, vdev);
}

/* --- request pool (iothread) ------------------------------------------ */

static VirtIOBlockCtx *vq_ctx(VirtIOBlock *s, VirtQueue *vq)
{
    return &s->ctx[s->vq_ctx[virtio_queue_index(vq)]];
}

static VirtIOBlockReq *req_get(VirtIOBlock *s, VirtQueue *vq)
{
    VirtIOBlockCtx *ctx = vq_ctx(s, vq);
    VirtIOBlockReq *req = ctx->free_reqs;

    if (req) {
        ctx->free_reqs = req->next;
    } else {
        /* At most queue-size requests per queue exist, so the pool stays
         * bounded; each allocation happens once. */
        req = g_new0(VirtIOBlockReq, 1);
        virtqueue_element_init(&req->elem);
        req->s = s;
    }
    req->ctx = ctx;
    req->vq = vq;
    return req;
}

static void req_put(VirtIOBlockReq *req)
{
    req->next = req->ctx->free_reqs;
    req->ctx->free_reqs = req;
}

static void req_pool_free(VirtIOBlockCtx *ctx)
{
    while (ctx->free_reqs) {
        VirtIOBlockReq *req = ctx->free_reqs;

        ctx->free_reqs = req->next;
        virtqueue_element_release(&req->elem);
        g_free(req->iov);
        g_free(req);
    }
}

/* --- completion -------------------------------------------------------- */

/* Writes the status byte (the last byte the driver made writable) and
 * returns the request to the driver. */
static void req_complete(VirtIOBlockReq *req, uint8_t status)
{
    VirtQueueElement *elem = &req->elem;
    uint32_t len = status == VIRTIO_BLK_S_OK ? req->used_len : 1;

    iov_from_buf(elem->in_sg, elem->in_num, elem->in_len - 1, &status, 1);
    qr_log_mask(LOG_BLOCK, "virtio-blk: %s: queue %u head %u type %u "
                "status %u (thread %d)", req->s->vdev.name,
                virtio_queue_index(req->vq), elem->index, req->type, status,
                (int)syscall(SYS_gettid));
    virtqueue_fill(req->vq, elem, len);
    req_put(req);
}

/* Publishes what the queues of @opaque (a context) completed. */
static void flush_ctx_queues(void *opaque)
{
    VirtIOBlockCtx *ctx = opaque;
    VirtIOBlock *s = ctx->s;

    for (unsigned i = 0; i < s->vdev.num_queues; i++) {
        if (&s->ctx[s->vq_ctx[i]] == ctx) {
            virtqueue_flush(virtio_get_queue(&s->vdev, i));
        }
    }
}

static void req_io_done(BlockRequest *breq, int ret)
{
    VirtIOBlockReq *req = container_of(breq, VirtIOBlockReq, breq);
    VirtIOBlock *s = req->s;

    /* Write-through: a write completes once it is durable. */
    if (ret == 0 && breq->op == BLOCK_OP_WRITE &&
        !g_atomic_int_get(&s->writeback)) {
        breq->op = BLOCK_OP_FLUSH;
        blk_submit(s->conf.blk, req->ctx->ioc, breq);
        return;
    }
    req->ctx->inflight--;
    req_complete(req, ret == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
}

static void req_submit(VirtIOBlockReq *req, BlockOp op, uint64_t offset,
                       uint64_t bytes, unsigned flags)
{
    VirtIOBlock *s = req->s;

    req->breq.op = op;
    req->breq.flags = flags;
    req->breq.offset = offset;
    req->breq.bytes = bytes;
    req->breq.cb = req_io_done;
    req->ctx->inflight++;
    blk_submit(s->conf.blk, req->ctx->ioc, &req->breq);
}

/* --- request checks ---------------------------------------------------- */

/* [sector, sector + bytes) is aligned to the logical block size and
 * within the disk (QEMU's virtio_blk_sect_range_ok). */
static bool is_valid_sector_range(const VirtIOBlock *s, uint64_t sector,
                                  uint64_t bytes)
{
    uint64_t sectors_per_block = s->blk_size / SECTOR_SIZE;

    if (sector % sectors_per_block || bytes % s->blk_size) {
        return false;
    }
    return sector <= s->capacity &&
           bytes / SECTOR_SIZE <= s->capacity - sector;
}

/* Points req->iov at [@offset, @offset + @len) of @sg.  False when the
 * request has more segments than we can hold. */
static bool req_map_data(VirtIOBlockReq *req, const struct iovec *sg,
                         unsigned n, uint64_t offset, uint64_t len)
{
    unsigned cnt = 0;

    if (req->iov_cap < n) {
        g_free(req->iov);
        req->iov = g_try_new(struct iovec, n);
        req->iov_cap = req->iov ? n : 0;
        if (!req->iov) {
            return false;
        }
    }
    for (unsigned i = 0; i < n && len > 0; i++) {
        uint64_t l = sg[i].iov_len;

        if (offset >= l) {
            offset -= l;
            continue;
        }
        req->iov[cnt].iov_base = (uint8_t *)sg[i].iov_base + offset;
        req->iov[cnt].iov_len = MIN(l - offset, len);
        len -= req->iov[cnt].iov_len;
        offset = 0;
        cnt++;
    }
    req->breq.iov = req->iov;
    req->breq.niov = (int)cnt;
    return true;
}

static uint8_t handle_rw(VirtIOBlockReq *req, uint64_t sector, bool write)
{
    VirtIOBlock *s = req->s;
    VirtQueueElement *elem = &req->elem;
    uint64_t len = write ? elem->out_len - BLK_HDR_SIZE : elem->in_len - 1;
    bool ok;

    /* Data must flow the request's way: a read's buffers device-writable,
     * a write's device-readable (the status byte aside). */
    if (write ? elem->in_len != 1 : elem->out_len != BLK_HDR_SIZE) {
        virtio_error(&s->vdev, req->vq, "virtio-blk: %s request with %"
                     PRIu64 " data bytes in the wrong direction",
                     write ? "write" : "read",
                     write ? elem->in_len - 1 : elem->out_len - BLK_HDR_SIZE);
        return VIRTIO_BLK_S_BROKEN;
    }
    if (write && s->read_only) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (!is_valid_sector_range(s, sector, len)) {
        qr_log_mask(LOG_GUEST_ERROR, "virtio-blk: %s: %s of 0x%" PRIx64
                    " bytes at sector %" PRIu64 " misaligned or beyond the "
                    "disk (%" PRIu64 " sectors)", s->vdev.name,
                    write ? "write" : "read", len, sector, s->capacity);
        return VIRTIO_BLK_S_IOERR;
    }
    ok = write ? req_map_data(req, elem->out_sg, elem->out_num, BLK_HDR_SIZE,
                              len)
               : req_map_data(req, elem->in_sg, elem->in_num, 0, len);
    if (!ok) {
        return VIRTIO_BLK_S_IOERR;
    }
    req->used_len = write ? 1 : (uint32_t)len + 1;
    req_submit(req, write ? BLOCK_OP_WRITE : BLOCK_OP_READ,
               sector * SECTOR_SIZE, len, 0);
    return VIRTIO_BLK_S_INFLIGHT;
}

static uint8_t handle_get_id(VirtIOBlockReq *req)
{
    VirtIOBlock *s = req->s;
    VirtQueueElement *elem = &req->elem;
    char id[VIRTIO_BLK_ID_BYTES] = { 0 };
    size_t n = MIN(elem->in_len - 1, (uint64_t)VIRTIO_BLK_ID_BYTES);

    /* NUL-padded, not terminated when it fills all 20 bytes. */
    if (s->conf.serial) {
        memcpy(id, s->conf.serial, MIN(strlen(s->conf.serial), sizeof(id)));
    }
    iov_from_buf(elem->in_sg, elem->in_num, 0, id, n);
    req->used_len = (uint32_t)n + 1;
    return VIRTIO_BLK_S_OK;
}

static uint8_t handle_discard_write_zeroes(VirtIOBlockReq *req,
                                           bool write_zeroes)
{
    VirtIOBlock *s = req->s;
    VirtQueueElement *elem = &req->elem;
    uint64_t seg_len = elem->out_len - BLK_HDR_SIZE;
    uint32_t max_sectors = write_zeroes ? s->conf.max_write_zeroes_sectors
                                        : s->conf.max_discard_sectors;
    struct virtio_blk_discard_write_zeroes seg;
    uint64_t sector;
    uint32_t num, flags;

    if (s->read_only) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (!virtio_has_feature(&s->vdev, write_zeroes
                                      ? VIRTIO_BLK_F_WRITE_ZEROES
                                      : VIRTIO_BLK_F_DISCARD)) {
        return VIRTIO_BLK_S_UNSUPP;
    }
    if (seg_len == 0 || seg_len % BLK_SEG_SIZE) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (seg_len / BLK_SEG_SIZE > MAX_DWZ_SEGS) {
        return VIRTIO_BLK_S_UNSUPP;
    }
    /* One copy of the segment; the guest may change its memory meanwhile. */
    iov_to_buf(elem->out_sg, elem->out_num, BLK_HDR_SIZE, &seg, sizeof(seg));
    sector = le64toh(seg.sector);
    num = le32toh(seg.num_sectors);
    flags = le32toh(seg.flags);

    if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) {
        return VIRTIO_BLK_S_UNSUPP;
    }
    if (!write_zeroes && (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) {
        return VIRTIO_BLK_S_UNSUPP;
    }
    if (num > max_sectors ||
        !is_valid_sector_range(s, sector, (uint64_t)num * SECTOR_SIZE)) {
        return VIRTIO_BLK_S_IOERR;
    }
    req->used_len = 1;
    req_submit(req, write_zeroes ? BLOCK_OP_WRITE_ZEROES : BLOCK_OP_DISCARD,
               sector * SECTOR_SIZE, (uint64_t)num * SECTOR_SIZE,
               (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
               ? BLOCK_REQ_MAY_UNMAP : 0);
    return VIRTIO_BLK_S_INFLIGHT;
}

/* Starts @req; completes it at once unless it went to the block layer. */
static void handle_request(VirtIOBlockReq *req)
{
    VirtIOBlock *s = req->s;
    VirtQueueElement *elem = &req->elem;
    struct virtio_blk_outhdr hdr;
    uint64_t sector;
    uint8_t status;

    if (elem->out_len < BLK_HDR_SIZE || elem->in_len < 1) {
        virtio_error(&s->vdev, req->vq, "virtio-blk: request without a "
                     "header (%" PRIu64 " readable bytes) or a status byte "
                     "(%" PRIu64 " writable)", elem->out_len, elem->in_len);
        virtqueue_detach_element(req->vq, elem);
        req_put(req);
        return;
    }
    /* The header is read once; later guest writes to it do not matter. */
    iov_to_buf(elem->out_sg, elem->out_num, 0, &hdr, sizeof(hdr));
    req->type = le32toh(hdr.type);
    sector = le64toh(hdr.sector);
    req->used_len = 1;

    switch (req->type) {
    case VIRTIO_BLK_T_IN:
        status = handle_rw(req, sector, false);
        break;
    case VIRTIO_BLK_T_OUT:
        status = handle_rw(req, sector, true);
        break;
    case VIRTIO_BLK_T_FLUSH:
        if (!virtio_has_feature(&s->vdev, VIRTIO_BLK_F_FLUSH)) {
            status = VIRTIO_BLK_S_UNSUPP;
            break;
        }
        req_submit(req, BLOCK_OP_FLUSH, 0, 0, 0);
        status = VIRTIO_BLK_S_INFLIGHT;
        break;
    case VIRTIO_BLK_T_GET_ID:
        status = handle_get_id(req);
        break;
    case VIRTIO_BLK_T_DISCARD:
        status = handle_discard_write_zeroes(req, false);
        break;
    case VIRTIO_BLK_T_WRITE_ZEROES:
        status = handle_discard_write_zeroes(req, true);
        break;
    default:
        qr_log_mask(LOG_UNIMP, "virtio-blk: %s: request type %u "
                    "unsupported", s->vdev.name, req->type);
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    if (status == VIRTIO_BLK_S_BROKEN) {
        virtqueue_detach_element(req->vq, elem);
        req_put(req);
    } else if (status != VIRTIO_BLK_S_INFLIGHT) {
        req_complete(req, status);
    }
}

/* --- virtio device ops ---------------------------------------------------- */

static void blk_handle_queue(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBlock *s = to_blk(vdev);
    VirtIOBlockCtx *ctx = vq_ctx(s, vq);
    VirtIOBlockReq *req;

    blk_io_plug(ctx->ioc);
    for (;;) {
        virtqueue_set_notification(vq, false);
        for (;;) {
            req = req_get(s, vq);
            if (!virtqueue_pop(vq, &req->elem)) {
                req_put(req);
                break;
            }
            handle_request(req);
        }
        virtqueue_set_notification(vq, true);
        /* With the budget spent the core kicks us again after other work;
         * otherwise look once more for requests that raced the re-enable. */
        if (vdev->broken || virtqueue_budget_exhausted(vq) ||
            virtqueue_empty(vq)) {
            break;
        }
    }
    blk_io_unplug(ctx->ioc);
    /* Page-cache hits have completed already: publish them now. */
    blk_io_context_poll(ctx->ioc);
    flush_ctx_queues(ctx);
}

static void ctx_drain(VirtIOBlockCtx *ctx)
{
    while (ctx->ioc && ctx->inflight > 0) {
        blk_io_context_wait(ctx->ioc);
    }
    flush_ctx_queues(ctx);
}

/* The requests of the queues processed in the calling iothread. */
static void blk_drain(VirtIODevice *vdev)
{
    VirtIOBlock *s = to_blk(vdev);

    for (unsigned i = 0; i < s->nctx; i++) {
        if (iothread_is_current(s->ctx[i].iothread)) {
            ctx_drain(&s->ctx[i]);
        }
    }
}

static void blk_reset(VirtIODevice *vdev)
{
    VirtIOBlock *s = to_blk(vdev);

    g_atomic_int_set(&s->writeback, s->default_wce);
    s->wce_inferred = false;
}

static uint64_t blk_get_features(VirtIODevice *vdev)
{
    VirtIOBlock *s = to_blk(vdev);
    uint64_t f = (1ull << VIRTIO_BLK_F_SEG_MAX) |
                 (1ull << VIRTIO_BLK_F_GEOMETRY) |
                 (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                 (1ull << VIRTIO_BLK_F_TOPOLOGY) |
                 (1ull << VIRTIO_BLK_F_FLUSH);

    if (s->conf.config_wce) {
        f |= 1ull << VIRTIO_BLK_F_CONFIG_WCE;
    }
    if (s->conf.num_queues > 1) {
        f |= 1ull << VIRTIO_BLK_F_MQ;
    }
    /* A read-only backend cannot honour discard or write-zeroes. */
    if (s->read_only) {
        f |= 1ull << VIRTIO_BLK_F_RO;
    } else {
        if (s->conf.discard) {
            f |= 1ull << VIRTIO_BLK_F_DISCARD;
        }
        if (s->conf.write_zeroes) {
            f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
        }
    }
    return f;
}

static void blk_set_features(VirtIODevice *vdev, uint64_t features)
{
    VirtIOBlock *s = to_blk(vdev);

    /* Without CONFIG_WCE a driver infers the cache mode from FLUSH. */
    if (!(features & (1ull << VIRTIO_BLK_F_CONFIG_WCE))) {
        g_atomic_int_set(&s->writeback,
                         !!(features & (1ull << VIRTIO_BLK_F_FLUSH)));
        s->wce_inferred = true;
    } else if (s->wce_inferred) {
        /*
         * From now on the driver reads and sets the mode in config space:
         * start it from the configured default, not from what a
         * negotiation without CONFIG_WCE inferred.  A vhost-user frontend
         * negotiates again without a reset in between (QEMU's first
         * SET_FEATURES, at realize, has no FLUSH), and the guest, told
         * "write back" by the config QEMU read before, would otherwise
         * get a flush after every write.
         */
        g_atomic_int_set(&s->writeback, s->default_wce);
        s->wce_inferred = false;
    }
}

/* QEMU's geometry guess for a disk without a partition table to go by. */
static void guess_geometry(const VirtIOBlock *s, uint32_t *cyls,
                           uint32_t *heads, uint32_t *secs)
{
    uint64_t c = s->capacity / (16 * 63);

    *heads = s->conf.heads ? s->conf.heads : 16;
    *secs = s->conf.secs ? s->conf.secs : 63;
    *cyls = s->conf.cyls ? s->conf.cyls : (uint32_t)CLAMP(c, 2, 16383);
}

static void blk_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOBlock *s = to_blk(vdev);
    struct virtio_blk_config cfg;
    uint32_t cyls, heads, secs;
    uint32_t seg_max = s->conf.seg_max_adjust ? s->conf.queue_size - 2u
                                               : 128u - 2u;

    memset(&cfg, 0, sizeof(cfg));
    guess_geometry(s, &cyls, &heads, &secs);
    cfg.capacity = htole64(s->capacity);
    cfg.seg_max = htole32(seg_max);
    cfg.geometry.cylinders = htole16((uint16_t)cyls);
    cfg.geometry.heads = (uint8_t)heads;
    cfg.geometry.sectors = (uint8_t)secs;
    cfg.blk_size = htole32(s->blk_size);
    cfg.physical_block_exp = (uint8_t)(__builtin_ctz(s->phys_size) -
                                       __builtin_ctz(s->blk_size));
    cfg.alignment_offset = 0;
    cfg.min_io_size = htole16((uint16_t)(s->conf.min_io_size / s->blk_size));
    cfg.opt_io_size = htole32((uint32_t)(s->conf.opt_io_size / s->blk_size));
    cfg.wce = (uint8_t)g_atomic_int_get(&s->writeback);
    cfg.num_queues = htole16(s->conf.num_queues);
    cfg.max_discard_sectors = htole32(s->conf.max_discard_sectors);
    cfg.max_discard_seg = htole32(MAX_DWZ_SEGS);
    cfg.discard_sector_alignment = htole32(s->blk_size / SECTOR_SIZE);
    cfg.max_write_zeroes_sectors = htole32(s->conf.max_write_zeroes_sectors);
    cfg.max_write_zeroes_seg = htole32(MAX_DWZ_SEGS);
    cfg.write_zeroes_may_unmap = 1;
    memcpy(config, &cfg, MIN(sizeof(cfg), (size_t)s->config_len));
}

static void blk_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIOBlock *s = to_blk(vdev);
    uint8_t wce = config[offsetof(struct virtio_blk_config, wce)];

    /* writeback is the only writable field, and only with CONFIG_WCE. */
    if (virtio_has_feature(vdev, VIRTIO_BLK_F_CONFIG_WCE)) {
        g_atomic_int_set(&s->writeback, wce != 0);
    }
}

static const VirtioDeviceOps virtio_blk_ops = {
    .get_features = blk_get_features,
    .set_features = blk_set_features,
    .get_config = blk_get_config,
    .set_config = blk_set_config,
    .handle_queue = blk_handle_queue,
    .drain = blk_drain,
    .reset = blk_reset,
};

/* --- realize ------------------------------------------------------------ */

static bool is_valid_block_size(uint64_t size)
{
    /* QEMU's range: a power of two between 512 B and 2 MiB. */
    return QR_IS_POWER_OF_2(size) && size >= 512 && size <= 2 * 1024 * 1024;
}

static bool check_conf(VirtIOBlock *s, GError **errp)
{
    VirtIOBlockConf *c = &s->conf;
    uint32_t align;

    if (!c->blk) {
        error_setg(errp, "drive property not set");
        return false;
    }
    if (!QR_IS_POWER_OF_2(c->queue_size) || c->queue_size <= 2 ||
        c->queue_size > VIRTQUEUE_MAX_SIZE) {
        error_setg(errp, "invalid queue-size property (%u), must be a power "
                   "of 2 (> 2) and <= %d", c->queue_size, VIRTQUEUE_MAX_SIZE);
        return false;
    }
    align = blk_get_request_alignment(c->blk);
    s->blk_size = c->logical_block_size ? (uint32_t)c->logical_block_size
                                        : MAX(512u, align);
    s->phys_size = c->physical_block_size ? (uint32_t)c->physical_block_size
                                          : s->blk_size;
    if (!is_valid_block_size(s->blk_size) ||
        !is_valid_block_size(s->phys_size)) {
        error_setg(errp, "logical_block_size and physical_block_size must be "
                   "powers of two between 512 B and 2 MiB");
        return false;
    }
    if (s->phys_size < s->blk_size) {
        error_setg(errp, "physical_block_size (%u) must not be smaller than "
                   "logical_block_size (%u)", s->phys_size, s->blk_size);
        return false;
    }
    if (s->blk_size % align) {
        error_setg(errp, "logical_block_size (%u) is not a multiple of the "
                   "O_DIRECT alignment of drive '%s' (%u)", s->blk_size,
                   blk_name(c->blk), align);
        return false;
    }
    if (c->min_io_size % s->blk_size || c->opt_io_size % s->blk_size ||
        c->min_io_size / s->blk_size > UINT16_MAX ||
        c->opt_io_size / s->blk_size > UINT32_MAX) {
        error_setg(errp, "min_io_size and opt_io_size must be multiples of "
                   "logical_block_size (%u) and fit the config fields",
                   s->blk_size);
        return false;
    }
    return true;
}

typedef struct SetupCall {
    VirtIOBlockCtx *ctx;
    GError *err;
} SetupCall;

static void ctx_setup(void *opaque)
{
    SetupCall *c = opaque;
    VirtIOBlockCtx *ctx = c->ctx;

    ctx->ioc = blk_io_context_get(iothread_get_context(ctx->iothread),
                                  &c->err);
    if (ctx->ioc) {
        blk_io_context_add_batch_notifier(ctx->ioc, flush_ctx_queues, ctx);
    }
}

static void ctx_teardown(void *opaque)
{
    VirtIOBlockCtx *ctx = opaque;

    if (ctx->ioc) {
        while (ctx->inflight > 0) {
            blk_io_context_wait(ctx->ioc);
        }
        blk_io_context_remove_batch_notifier(ctx->ioc, flush_ctx_queues,
                                             ctx);
        g_clear_pointer(&ctx->ioc, blk_io_context_unref);
    }
    req_pool_free(ctx);
}

/*
 * One context per iothread that processes queues, in the order of their
 * first queue; each queue is bound to its iothread and context.  A
 * context's I/O is set up in its own iothread (the block layer's rule for
 * I/O contexts).
 */
static bool ctxs_setup(VirtIOBlock *s, IOThread *iothread, GError **errp)
{
    VirtIOBlockConf *c = &s->conf;

    s->nctx = 0;
    for (unsigned i = 0; i < c->num_queues; i++) {
        IOThread *t = c->vq_iothread[i] ? c->vq_iothread[i] : iothread;
        unsigned k;

        for (k = 0; k < s->nctx && s->ctx[k].iothread != t; k++) {
            continue;
        }
        if (k == s->nctx) {
            SetupCall setup = { .ctx = &s->ctx[k] };

            s->ctx[k].s = s;
            s->ctx[k].iothread = t;
            s->nctx++;
            iothread_run_sync(t, ctx_setup, &setup);
            if (!s->ctx[k].ioc) {
                g_propagate_error(errp, setup.err);
                return false;
            }
        }
        s->vq_ctx[i] = (uint8_t)k;
        virtio_queue_set_iothread(virtio_get_queue(&s->vdev, i), t);
    }
    return true;
}

bool virtio_blk_realize(VirtIOBlock *s, Device *owner, const char *name,
                        GError **errp)
{
    VirtIOBlockConf *c = &s->conf;
    IOThread *iothread = c->iothread;
    uint64_t len;

    /* Also for transports that realize it without device_realize(). */
    if (!sandbox_require(&virtio_blk_sandbox_policy, errp) ||
        !check_conf(s, errp)) {
        return false;
    }
    s->read_only = c->read_only || blk_is_read_only(c->blk);
    if (!blk_attach_dev(c->blk, owner, !s->read_only, c->share_rw, errp)) {
        return false;
    }
    s->owner = owner;
    len = blk_getlength(c->blk);
    /* Whole logical blocks only. */
    s->capacity = (len - len % s->blk_size) / SECTOR_SIZE;
    s->default_wce = c->write_cache == ON_OFF_AUTO_AUTO
                     ? blk_enable_write_cache(c->blk)
                     : c->write_cache == ON_OFF_AUTO_ON;
    s->writeback = s->default_wce;
    s->config_len = CFG_SIZE_BASE;
    if (c->discard) {
        s->config_len = CFG_SIZE_DISCARD;
    }
    if (c->write_zeroes) {
        s->config_len = CFG_SIZE_WRITE_ZEROES;
    }

    if (!iothread) {
        g_autofree char *id = g_strdup_printf("%s-iothread", name);

        s->private_iothread = iothread_create(id, errp);
        if (!s->private_iothread) {
            virtio_blk_unrealize(s);
            return false;
        }
        iothread = s->private_iothread;
    }
    if (!virtio_device_init(&s->vdev, &virtio_blk_ops, name, VIRTIO_ID_BLOCK,
                            s->config_len, c->num_queues, c->queue_size,
                            c->indirect_desc, c->event_idx, iothread, errp)) {
        virtio_blk_unrealize(s);
        return false;
    }
    if (!ctxs_setup(s, iothread, errp)) {
        virtio_blk_unrealize(s);
        return false;
    }
    qr_log_mask(LOG_BLOCK, "virtio-blk: %s: %" PRIu64 " sectors, block %u, "
                "%u queue(s) of %u, %s", name, s->capacity, s->blk_size,
                c->num_queues, c->queue_size,
                s->read_only ? "read-only" : "read-write");
    return true;
}

void virtio_blk_unrealize(VirtIOBlock *s)
{
    if (s->vdev.vqs) {
        virtio_device_cleanup(&s->vdev);
    }
    for (unsigned i = 0; i < s->nctx; i++) {
        iothread_run_sync(s->ctx[i].iothread, ctx_teardown, &s->ctx[i]);
    }
    s->nctx = 0;
    if (s->private_iothread) {
        iothread_destroy(s->private_iothread);
        s->private_iothread = NULL;
    }
    if (s->owner) {
        blk_detach_dev(s->conf.blk, s->owner);
        s->owner = NULL;
    }
    s->vdev.iothread = NULL;
}
