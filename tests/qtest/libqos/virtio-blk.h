/*
 * libqos virtio-blk: building requests (header, data, status) in guest RAM
 * and submitting them as direct, multi-segment or indirect chains.
 * Constants come from <linux/virtio_blk.h>.
 */
#ifndef TESTS_QTEST_LIBQOS_VIRTIO_BLK_H
#define TESTS_QTEST_LIBQOS_VIRTIO_BLK_H

#include "libqos/virtio.h"

#include <linux/virtio_blk.h>

#define QVIRTIO_BLK_SECTOR      512
#define QVIRTIO_BLK_HDR_SIZE    16
#define QVIRTIO_BLK_DWZ_SIZE    16  /* one discard/write-zeroes segment */

/* Status byte value before the device writes one. */
#define QVIRTIO_BLK_S_UNSET     0xff

typedef struct QVirtioBlkReq {
    uint32_t type;          /* VIRTIO_BLK_T_* */
    uint64_t sector;
    uint64_t hdr;           /* guest address of the 16-byte header */
    uint64_t data;          /* guest address of the data buffer, 0: none */
    uint32_t data_len;
    bool data_in;           /* the device writes the data buffer */
    uint64_t status;        /* guest address of the status byte */
} QVirtioBlkReq;

/*
 * Allocates and fills a request in guest RAM: the header (@type, @sector),
 * @len bytes of data (copied from @out when not NULL; for reads pass NULL
 * and @data_in = true), and a status byte preset to QVIRTIO_BLK_S_UNSET.
 */
void qvirtio_blk_req_init(QTestState *qts, QVirtioBlkReq *req, uint32_t type,
                          uint64_t sector, const void *out, uint32_t len,
                          bool data_in);

/*
 * Adds @req to @vq as one chain — header, the data split into @segments
 * descriptors of (nearly) equal size, status — directly or, with
 * @indirect, through an indirect table behind one descriptor.  Returns the
 * head index to publish.  @segments is clamped to [1, data_len].
 */
uint16_t qvirtio_blk_req_add(QVirtQueue *vq, const QVirtioBlkReq *req,
                             unsigned segments, bool indirect);

/* The request's status byte as the device left it. */
uint8_t qvirtio_blk_req_status(QTestState *qts, const QVirtioBlkReq *req);

/*
 * Submits @req as qvirtio_blk_req_add() builds it, kicks, and polls for its
 * completion.  Returns the status byte, storing the used element's length
 * in *@used_len when not NULL.  Returns QVIRTIO_BLK_S_UNSET after failing
 * the test when nothing completes within QTEST_TIMEOUT_MS, or when another
 * head completes.
 */
uint8_t qvirtio_blk_req_run(QVirtQueue *vq, const QVirtioBlkReq *req,
                            unsigned segments, bool indirect,
                            uint32_t *used_len);

/* Encodes one discard / write-zeroes segment (16 bytes, little-endian). */
void qvirtio_blk_dwz_segment(uint8_t out[QVIRTIO_BLK_DWZ_SIZE],
                             uint64_t sector, uint32_t num_sectors,
                             uint32_t flags);

#endif
