/*
 * libqos virtio-blk: request builder.
 */
#include "qemu-remote/osdep.h"
#include "libqos/virtio-blk.h"

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        p[i] = v >> (8 * i);
    }
}

void qvirtio_blk_req_init(QTestState *qts, QVirtioBlkReq *req, uint32_t type,
                          uint64_t sector, const void *out, uint32_t len,
                          bool data_in)
{
    uint8_t hdr[QVIRTIO_BLK_HDR_SIZE] = { 0 };

    memset(req, 0, sizeof(*req));
    req->type = type;
    req->sector = sector;
    req->data_len = len;
    req->data_in = data_in;

    put_le(hdr, type, 4);           /* type; then 4 reserved bytes */
    put_le(hdr + 8, sector, 8);
    req->hdr = qtest_guest_alloc(qts, sizeof(hdr), 16);
    qtest_memwrite(qts, req->hdr, hdr, sizeof(hdr));
    if (len) {
        req->data = qtest_guest_alloc(qts, len, 16);
        if (out) {
            qtest_memwrite(qts, req->data, out, len);
        } else {
            qtest_memset(qts, req->data, 0, len);
        }
    }
    req->status = qtest_guest_alloc(qts, 1, 1);
    qtest_writeb(qts, req->status, QVIRTIO_BLK_S_UNSET);
}

uint16_t qvirtio_blk_req_add(QVirtQueue *vq, const QVirtioBlkReq *req,
                             unsigned segments, bool indirect)
{
    QTestState *qts = qvirtio_qts(vq->dev);
    QVRingIndirect ind = { 0 };
    uint32_t done = 0;
    uint16_t head = 0;

    segments = req->data_len ? CLAMP(segments, 1, req->data_len) : 0;
    if (indirect) {
        ind = qvring_indirect_new(qts, segments + 2);
        qvring_indirect_add(qts, &ind, req->hdr, QVIRTIO_BLK_HDR_SIZE, false);
    } else {
        head = qvirtqueue_add(vq, req->hdr, QVIRTIO_BLK_HDR_SIZE, false, true);
    }
    for (unsigned i = 0; i < segments; i++) {
        uint32_t piece = i + 1 == segments ? req->data_len - done
                                           : req->data_len / segments;

        if (indirect) {
            qvring_indirect_add(qts, &ind, req->data + done, piece,
                                req->data_in);
        } else {
            qvirtqueue_add(vq, req->data + done, piece, req->data_in, true);
        }
        done += piece;
    }
    if (indirect) {
        qvring_indirect_add(qts, &ind, req->status, 1, true);
        head = qvirtqueue_add_indirect(vq, &ind);
    } else {
        qvirtqueue_add(vq, req->status, 1, true, false);
    }
    return head;
}

uint8_t qvirtio_blk_req_status(QTestState *qts, const QVirtioBlkReq *req)
{
    return qtest_readb(qts, req->status);
}

uint8_t qvirtio_blk_req_run(QVirtQueue *vq, const QVirtioBlkReq *req,
                            unsigned segments, bool indirect,
                            uint32_t *used_len)
{
    QTestState *qts = qvirtio_qts(vq->dev);
    uint16_t head = qvirtio_blk_req_add(vq, req, segments, indirect);
    uint32_t id, len;

    qvirtqueue_kick(vq, head);
    if (!qvirtqueue_wait_used(vq, &id, &len, QTEST_TIMEOUT_MS)) {
        g_printerr("libqos: virtio-blk request (type %u) never completed\n",
                   req->type);
        if (g_test_initialized()) {
            g_test_fail();
        }
        return QVIRTIO_BLK_S_UNSET;
    }
    if (id != head) {
        g_printerr("libqos: completed head %u, expected %u\n", id, head);
        if (g_test_initialized()) {
            g_test_fail();
        }
        return QVIRTIO_BLK_S_UNSET;
    }
    if (used_len) {
        *used_len = len;
    }
    return qvirtio_blk_req_status(qts, req);
}

void qvirtio_blk_dwz_segment(uint8_t out[QVIRTIO_BLK_DWZ_SIZE],
                             uint64_t sector, uint32_t num_sectors,
                             uint32_t flags)
{
    put_le(out, sector, 8);
    put_le(out + 8, num_sectors, 4);
    put_le(out + 12, flags, 4);
}
