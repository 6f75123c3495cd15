/*
 * virtio-blk-pci through the real proxy, driven by libqos's polling
 * virtio driver: the remote (qemu-remote, or with QTEST_REMOTE=qemu QEMU's
 * own x-remote as the reference) hosts two devices on raw images:
 *   v0 — read-write, serial "QRTEST-V0", modern and legacy interfaces;
 *   v1 — the same on a read-only drive.
 * Every story starts from a device reset and a fresh queue, so one VMM +
 * remote pair serves them all.  Data are checked in the backing files.
 */
#include "qemu-remote/osdep.h"
#include "libqtest.h"
#include "libqos/virtio-blk.h"

#include <fcntl.h>
#include <linux/virtio_ring.h>

#define IMAGE_SECTORS       8192            /* 4 MiB */
#define IMAGE_SIZE          (IMAGE_SECTORS * QVIRTIO_BLK_SECTOR)
#define SERIAL              "QRTEST-V0"
#define VIRTIO_BLK_DEVICE   0x1001          /* transitional virtio-blk */

/* Sectors each story owns, so stories never see each other's writes. */
enum {
    SECTOR_READ = 16,           /* read-only stories: preset pattern */
    SECTOR_WRITE = 256,
    SECTOR_MULTI = 512,
    SECTOR_INDIRECT = 768,
    SECTOR_ZEROES = 1024,
    SECTOR_DISCARD = 1280,
    SECTOR_LEGACY = 1536,
    SECTOR_INFLIGHT = 2048,
    SECTOR_RO = 16,
};

static char *image_rw, *image_ro;
static QTestState *qts;
static QPCIBus bus;
static QVirtioPCIDevice modern, legacy, ro_modern;
static char *skip_reason;

static uint8_t pattern_byte(uint64_t sector, unsigned i)
{
    return (sector * 13 + i * 7 + 1) & 0xff;
}

static void fill_pattern(uint8_t *buf, uint64_t sector, unsigned nsectors)
{
    for (unsigned s = 0; s < nsectors; s++) {
        for (unsigned i = 0; i < QVIRTIO_BLK_SECTOR; i++) {
            buf[s * QVIRTIO_BLK_SECTOR + i] = pattern_byte(sector + s, i);
        }
    }
}

static char *make_image(const char *name)
{
    g_autofree uint8_t *data = g_malloc(IMAGE_SIZE);
    g_autoptr(GError) err = NULL;
    char *path = g_build_filename(qtest_scratch_dir(), name, NULL);

    fill_pattern(data, 0, IMAGE_SECTORS);
    g_assert_true(g_file_set_contents(path, (char *)data, IMAGE_SIZE, &err));
    return path;
}

static void read_image(const char *path, uint64_t sector, void *buf,
                       size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, sector * QVIRTIO_BLK_SECTOR), ==, len);
    close(fd);
}

static bool setup(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *args0 = NULL;
    g_autofree char *args1 = NULL;
    QTestOptions opts = { .remote = QTEST_REMOTE_DEFAULT };

    if (skip_reason) {
        g_test_skip(skip_reason);
        return false;
    }
    if (qts) {
        return true;
    }
    image_rw = make_image("rw.img");
    image_ro = make_image("ro.img");
    args0 = g_strdup_printf("-device virtio-blk-pci,id=v0,drive=d0,"
                            "serial=" SERIAL " "
                            "-drive id=d0,if=none,format=raw,file=%s",
                            image_rw);
    args1 = g_strdup_printf("-device virtio-blk-pci,id=v1,drive=d1 "
                            "-drive id=d1,if=none,format=raw,readonly=on,"
                            "file=%s", image_ro);
    opts.devices[0] = (QTestDeviceSpec){ .id = "v0", .args = args0 };
    opts.devices[1] = (QTestDeviceSpec){ .id = "v1", .args = args1 };
    qts = qtest_start(&opts, &err);
    g_assert_no_error(err);
    qpci_bus_init(&bus, qts);

    g_assert_true(qvirtio_pci_init(&modern, &bus,
                                   qtest_device_devfn(qts, "v0"), true, &err));
    g_assert_no_error(err);
    g_assert_true(qvirtio_pci_init(&legacy, &bus,
                                   qtest_device_devfn(qts, "v0"), false, &err));
    g_assert_no_error(err);
    g_assert_true(qvirtio_pci_init(&ro_modern, &bus,
                                   qtest_device_devfn(qts, "v1"), true, &err));
    g_assert_no_error(err);
    return true;
}

/* For stories where QEMU's remote falls short of virtio.md: skip there. */
static bool ours_only(const char *qemu_does)
{
    if (qtest_remote_kind(qts) == QTEST_REMOTE_QEMU) {
        g_test_skip(qemu_does);
        return false;
    }
    return true;
}

/* The features every modern story negotiates. */
static uint64_t base_features(QVirtioPCIDevice *d)
{
    uint64_t want = 1ULL << VIRTIO_F_VERSION_1 |
                    1ULL << VIRTIO_RING_F_INDIRECT_DESC |
                    1ULL << VIRTIO_BLK_F_FLUSH |
                    1ULL << VIRTIO_BLK_F_SEG_MAX |
                    1ULL << VIRTIO_BLK_F_BLK_SIZE |
                    1ULL << VIRTIO_BLK_F_RO |
                    1ULL << VIRTIO_BLK_F_DISCARD |
                    1ULL << VIRTIO_BLK_F_WRITE_ZEROES;

    return want & qvirtio_device_features(d);
}

/* Reset, negotiate @features, set up queue 0 and DRIVER_OK. */
static QVirtQueue *start_device(QVirtioPCIDevice *d, uint64_t features)
{
    QVirtQueue *vq;

    g_assert_true(qvirtio_negotiate(d, features));
    vq = qvirtqueue_setup(d, 0, 0);
    g_assert_nonnull(vq);
    qvirtio_set_driver_ok(d);
    return vq;
}

static QVirtQueue *start_modern(void)
{
    return start_device(&modern, base_features(&modern));
}

/* Runs one request; returns its status. */
static uint8_t run(QVirtQueue *vq, uint32_t type, uint64_t sector,
                   const void *out, uint32_t len, bool data_in,
                   QVirtioBlkReq *req_out, uint32_t *used_len)
{
    QVirtioBlkReq req;

    qvirtio_blk_req_init(qts, &req, type, sector, out, len, data_in);
    if (req_out) {
        *req_out = req;
    }
    return qvirtio_blk_req_run(vq, &req, 1, false, used_len);
}

/* --- negotiation and configuration ------------------------------------ */

static void test_features_offered_and_accepted(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint64_t offered;

    if (!setup()) {
        return;
    }
    offered = qvirtio_device_features(&modern);

    vq = start_modern();

    g_assert_true(offered & 1ULL << VIRTIO_F_VERSION_1);
    g_assert_true(offered & 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
    g_assert_true(offered & 1ULL << VIRTIO_BLK_F_FLUSH);
    g_assert_false(offered & 1ULL << VIRTIO_BLK_F_RO);
    g_assert_cmphex(qvirtio_driver_features(&modern), ==,
                    base_features(&modern));
    g_assert_cmphex(qvirtio_get_status(&modern), ==,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void test_event_idx_requests_complete(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint64_t features;

    if (!setup()) {
        return;
    }
    features = base_features(&modern) | 1ULL << VIRTIO_RING_F_EVENT_IDX;
    g_assert_true(qvirtio_device_features(&modern) &
                  1ULL << VIRTIO_RING_F_EVENT_IDX);
    vq = start_device(&modern, features);

    /* The driver never moves used_event; completions still arrive in the
     * used ring (only interrupts are suppressed). */
    for (int i = 0; i < 3; i++) {
        g_assert_cmpuint(run(vq, VIRTIO_BLK_T_IN, SECTOR_READ, NULL,
                             QVIRTIO_BLK_SECTOR, true, NULL, NULL), ==,
                         VIRTIO_BLK_S_OK);
    }
    g_assert_cmpuint(qvirtqueue_used_idx(vq), ==, 3);
}

static void test_config_capacity_matches_image(void)
{
    if (!setup()) {
        return;
    }
    g_assert_true(qvirtio_negotiate(&modern, base_features(&modern)));

    g_assert_cmpuint(qvirtio_config_readq(&modern, 0), ==, IMAGE_SECTORS);
    g_assert_cmpuint(qvirtio_config_readl(&modern, 20), ==,
                     QVIRTIO_BLK_SECTOR);   /* blk_size */
    g_assert_cmpuint(qvirtio_config_readl(&modern, 12), >=, 1); /* seg_max */
}

static void test_read_only_drive_offers_ro(void)
{
    if (!setup()) {
        return;
    }
    g_assert_true(qvirtio_device_features(&ro_modern) &
                  1ULL << VIRTIO_BLK_F_RO);
}

/* --- requests --------------------------------------------------------- */

static void test_read_returns_image_data(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t want[2 * QVIRTIO_BLK_SECTOR], got[sizeof(want)];
    QVirtioBlkReq req;
    uint32_t used_len = 0;

    if (!setup()) {
        return;
    }
    vq = start_modern();
    fill_pattern(want, SECTOR_READ, 2);

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_IN, SECTOR_READ, NULL, sizeof(got),
                         true, &req, &used_len), ==, VIRTIO_BLK_S_OK);

    qtest_memread(qts, req.data, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
    /* Bytes written into the guest: the data and the status byte. */
    g_assert_cmpuint(used_len, ==, sizeof(got) + 1);
}

static void test_write_lands_in_image(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t data[4 * QVIRTIO_BLK_SECTOR], file[sizeof(data)];

    if (!setup()) {
        return;
    }
    vq = start_modern();
    memset(data, 0xa5, sizeof(data));

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_OUT, SECTOR_WRITE, data,
                         sizeof(data), false, NULL, NULL), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, NULL,
                         NULL), ==, VIRTIO_BLK_S_OK);

    read_image(image_rw, SECTOR_WRITE, file, sizeof(file));
    g_assert_cmpmem(file, sizeof(file), data, sizeof(data));
}

static void test_flush_succeeds(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint32_t used_len = 0;

    if (!setup()) {
        return;
    }
    vq = start_modern();

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, NULL,
                         &used_len), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(used_len, ==, 1);
}

static void test_flush_without_feature_is_unsupported(void)
{
    g_autofree QVirtQueue *vq = NULL;

    if (!setup() ||
        !ours_only("QEMU's virtio-blk flushes without VIRTIO_BLK_F_FLUSH")) {
        return;
    }
    vq = start_device(&modern, base_features(&modern) &
                               ~(1ULL << VIRTIO_BLK_F_FLUSH));

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, NULL,
                         NULL), ==, VIRTIO_BLK_S_UNSUPP);
}

static void test_get_id_returns_serial(void)
{
    g_autofree QVirtQueue *vq = NULL;
    char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
    QVirtioBlkReq req;

    if (!setup()) {
        return;
    }
    vq = start_modern();

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_GET_ID, 0, NULL, VIRTIO_BLK_ID_BYTES,
                         true, &req, NULL), ==, VIRTIO_BLK_S_OK);

    qtest_memread(qts, req.data, id, VIRTIO_BLK_ID_BYTES);
    g_assert_cmpstr(id, ==, SERIAL);
}

static void test_write_zeroes_clears_image(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t seg[QVIRTIO_BLK_DWZ_SIZE];
    uint8_t file[8 * QVIRTIO_BLK_SECTOR], zero[sizeof(file)] = { 0 };

    if (!setup()) {
        return;
    }
    vq = start_modern();
    qvirtio_blk_dwz_segment(seg, SECTOR_ZEROES, 8, 0);

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, sizeof(seg),
                         false, NULL, NULL), ==, VIRTIO_BLK_S_OK);

    read_image(image_rw, SECTOR_ZEROES, file, sizeof(file));
    g_assert_cmpmem(file, sizeof(file), zero, sizeof(zero));
}

static void test_write_zeroes_with_unmap_clears_image(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t seg[QVIRTIO_BLK_DWZ_SIZE];
    uint8_t file[8 * QVIRTIO_BLK_SECTOR], zero[sizeof(file)] = { 0 };

    if (!setup()) {
        return;
    }
    vq = start_modern();
    qvirtio_blk_dwz_segment(seg, SECTOR_ZEROES + 8, 8,
                            VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, sizeof(seg),
                         false, NULL, NULL), ==, VIRTIO_BLK_S_OK);

    read_image(image_rw, SECTOR_ZEROES + 8, file, sizeof(file));
    g_assert_cmpmem(file, sizeof(file), zero, sizeof(zero));
}

static void test_discard_succeeds(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t seg[QVIRTIO_BLK_DWZ_SIZE];
    uint32_t used_len = 0;

    if (!setup()) {
        return;
    }
    vq = start_modern();
    qvirtio_blk_dwz_segment(seg, SECTOR_DISCARD, 8, 0);

    /* What discarded sectors read back as is unspecified: only the status
     * can be checked. */
    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_DISCARD, 0, seg, sizeof(seg), false,
                         NULL, &used_len), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(used_len, ==, 1);
}

static void test_discard_with_unmap_flag_is_unsupported(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t seg[QVIRTIO_BLK_DWZ_SIZE];

    if (!setup()) {
        return;
    }
    vq = start_modern();
    /* UNMAP is meaningful for WRITE_ZEROES only. */
    qvirtio_blk_dwz_segment(seg, SECTOR_DISCARD, 8,
                            VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_DISCARD, 0, seg, sizeof(seg), false,
                         NULL, NULL), ==, VIRTIO_BLK_S_UNSUPP);
}

static void test_discard_past_the_end_fails(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t seg[QVIRTIO_BLK_DWZ_SIZE];

    if (!setup()) {
        return;
    }
    vq = start_modern();
    qvirtio_blk_dwz_segment(seg, IMAGE_SECTORS - 4, 8, 0);

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_DISCARD, 0, seg, sizeof(seg), false,
                         NULL, NULL), ==, VIRTIO_BLK_S_IOERR);
}

static void test_read_past_the_end_fails(void)
{
    g_autofree QVirtQueue *vq = NULL;

    if (!setup()) {
        return;
    }
    vq = start_modern();

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_IN, IMAGE_SECTORS - 1, NULL,
                         2 * QVIRTIO_BLK_SECTOR, true, NULL, NULL), ==,
                     VIRTIO_BLK_S_IOERR);
}

static void test_read_of_partial_sector_fails(void)
{
    g_autofree QVirtQueue *vq = NULL;

    if (!setup()) {
        return;
    }
    vq = start_modern();

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_IN, SECTOR_READ, NULL, 100, true,
                         NULL, NULL), ==, VIRTIO_BLK_S_IOERR);
}

static void test_unknown_request_type_is_unsupported(void)
{
    g_autofree QVirtQueue *vq = NULL;

    if (!setup()) {
        return;
    }
    vq = start_modern();

    /* 0x7f is no request type of virtio 1.2. */
    g_assert_cmpuint(run(vq, 0x7f, 0, NULL, 0, false, NULL, NULL), ==,
                     VIRTIO_BLK_S_UNSUPP);
}

static void test_write_to_read_only_drive_fails(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t data[QVIRTIO_BLK_SECTOR], file[sizeof(data)], want[sizeof(data)];

    if (!setup()) {
        return;
    }
    vq = start_device(&ro_modern, base_features(&ro_modern));
    memset(data, 0x3c, sizeof(data));

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_OUT, SECTOR_RO, data, sizeof(data),
                         false, NULL, NULL), ==, VIRTIO_BLK_S_IOERR);

    fill_pattern(want, SECTOR_RO, 1);
    read_image(image_ro, SECTOR_RO, file, sizeof(file));
    g_assert_cmpmem(file, sizeof(file), want, sizeof(want));
}

/* A DISCARD or WRITE_ZEROES of 8 sectors on the read-only drive. */
static uint8_t run_ro_dwz(uint32_t type)
{
    g_autofree QVirtQueue *vq = start_device(&ro_modern,
                                             base_features(&ro_modern));
    uint8_t seg[QVIRTIO_BLK_DWZ_SIZE];

    qvirtio_blk_dwz_segment(seg, SECTOR_RO, 8, 0);
    return run(vq, type, 0, seg, sizeof(seg), false, NULL, NULL);
}

static void test_discard_on_read_only_drive_fails(void)
{
    /* QEMU's -drive default discard=ignore completes it with OK. */
    if (!setup() ||
        !ours_only("QEMU completes DISCARD on a read-only drive with OK")) {
        return;
    }

    g_assert_cmpuint(run_ro_dwz(VIRTIO_BLK_T_DISCARD), ==, VIRTIO_BLK_S_IOERR);
}

static void test_write_zeroes_on_read_only_drive_fails(void)
{
    uint8_t file[8 * QVIRTIO_BLK_SECTOR], want[sizeof(file)];

    if (!setup()) {
        return;
    }

    g_assert_cmpuint(run_ro_dwz(VIRTIO_BLK_T_WRITE_ZEROES), ==,
                     VIRTIO_BLK_S_IOERR);

    fill_pattern(want, SECTOR_RO, 8);
    read_image(image_ro, SECTOR_RO, file, sizeof(file));
    g_assert_cmpmem(file, sizeof(file), want, sizeof(want));
}

/* --- chain shapes -------------------------------------------------------------- */

/* Writes 8 sectors in @segments pieces (indirectly or not), reads them
 * back the same way, and checks guest buffer and image. */
static void write_read_chain(uint64_t sector, unsigned segments,
                             bool indirect)
{
    g_autofree QVirtQueue *vq = start_modern();
    uint8_t data[8 * QVIRTIO_BLK_SECTOR], got[sizeof(data)], file[sizeof(data)];
    QVirtioBlkReq w, r;

    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = i ^ (i >> 8) ^ segments;
    }
    qvirtio_blk_req_init(qts, &w, VIRTIO_BLK_T_OUT, sector, data, sizeof(data),
                         false);
    qvirtio_blk_req_init(qts, &r, VIRTIO_BLK_T_IN, sector, NULL, sizeof(data),
                         true);

    g_assert_cmpuint(qvirtio_blk_req_run(vq, &w, segments, indirect, NULL), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_req_run(vq, &r, segments, indirect, NULL), ==,
                     VIRTIO_BLK_S_OK);

    qtest_memread(qts, r.data, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), data, sizeof(data));
    read_image(image_rw, sector, file, sizeof(file));
    g_assert_cmpmem(file, sizeof(file), data, sizeof(data));
}

static void test_multi_segment_write_and_read(void)
{
    if (!setup()) {
        return;
    }
    /* 7 data descriptors of uneven length (4096 / 7). */
    write_read_chain(SECTOR_MULTI, 7, false);
}

static void test_indirect_write_and_read(void)
{
    if (!setup()) {
        return;
    }
    write_read_chain(SECTOR_INDIRECT, 4, true);
}

static void test_small_queue_wraps_around(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t want[QVIRTIO_BLK_SECTOR], got[sizeof(want)];

    if (!setup()) {
        return;
    }
    g_assert_true(qvirtio_negotiate(&modern, base_features(&modern)));
    /* A driver may choose a smaller (power of two) size than the maximum. */
    vq = qvirtqueue_setup(&modern, 0, 16);
    g_assert_nonnull(vq);
    qvirtio_set_driver_ok(&modern);

    /* 3 descriptors per request: 40 requests wrap the descriptor table
     * 7 times and the avail and used rings twice. */
    for (unsigned i = 0; i < 40; i++) {
        QVirtioBlkReq req;

        g_assert_cmpuint(run(vq, VIRTIO_BLK_T_IN, SECTOR_READ + i % 8, NULL,
                             sizeof(got), true, &req, NULL), ==,
                         VIRTIO_BLK_S_OK);
        qtest_memread(qts, req.data, got, sizeof(got));
        fill_pattern(want, SECTOR_READ + i % 8, 1);
        g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
    }
    g_assert_cmpuint(qvirtqueue_used_idx(vq), ==, 40);
}

/* --- malformed requests -------------------------------------------------------- */

static void assert_needs_reset_then_recovers(QVirtQueue *vq)
{
    g_autofree QVirtQueue *fresh = NULL;
    uint32_t id, len;

    g_assert_true(qvirtio_wait_status(&modern, VIRTIO_CONFIG_S_NEEDS_RESET,
                                      QTEST_TIMEOUT_MS));
    /* Nothing was completed for the malformed chain. */
    g_assert_false(qvirtqueue_get_used(vq, &id, &len));

    fresh = start_modern();
    g_assert_cmpuint(run(fresh, VIRTIO_BLK_T_IN, SECTOR_READ, NULL,
                         QVIRTIO_BLK_SECTOR, true, NULL, NULL), ==,
                     VIRTIO_BLK_S_OK);
}

static void test_descriptor_beyond_guest_ram_needs_reset(void)
{
    g_autofree QVirtQueue *vq = NULL;
    QVirtioBlkReq req;
    uint16_t head;

    /* QEMU's remote DMA reaches its whole address space: the read "lands"
     * in unassigned memory and completes with status OK. */
    if (!setup() ||
        !ours_only("QEMU's remote does not bound DMA to granted RAM")) {
        return;
    }
    vq = start_modern();
    qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_IN, SECTOR_READ, NULL,
                         QVIRTIO_BLK_SECTOR, true);
    /* Data buffer 1 GiB past the end of guest RAM. */
    req.data = qtest_ram_size(qts) + (1ULL << 30);

    head = qvirtio_blk_req_add(vq, &req, 1, false);
    qvirtqueue_kick(vq, head);

    assert_needs_reset_then_recovers(vq);
}

static void test_read_into_device_readable_buffer_needs_reset(void)
{
    g_autofree QVirtQueue *vq = NULL;
    QVirtioBlkReq req;
    uint16_t head;

    if (!setup() ||
        !ours_only("QEMU's virtio-blk completes the read with no data")) {
        return;
    }
    vq = start_modern();
    /* An IN request whose data buffer lacks VRING_DESC_F_WRITE. */
    qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_IN, SECTOR_READ, NULL,
                         QVIRTIO_BLK_SECTOR, false);

    head = qvirtio_blk_req_add(vq, &req, 1, false);
    qvirtqueue_kick(vq, head);

    assert_needs_reset_then_recovers(vq);
}

static void test_descriptor_loop_needs_reset(void)
{
    g_autofree QVirtQueue *vq = NULL;
    QVirtioBlkReq req;

    if (!setup()) {
        return;
    }
    vq = start_modern();
    qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_IN, SECTOR_READ, NULL,
                         QVIRTIO_BLK_SECTOR, true);
    /* header (0) -> 1 -> 2 -> 1 -> 2 ...: all device-readable, so only
     * the loop is wrong (a writable one would first break the rule that
     * readable descriptors come first). */
    qvirtqueue_write_desc(vq, 0, req.hdr, QVIRTIO_BLK_HDR_SIZE,
                          VRING_DESC_F_NEXT, 1);
    qvirtqueue_write_desc(vq, 1, req.data, 256, VRING_DESC_F_NEXT, 2);
    qvirtqueue_write_desc(vq, 2, req.data + 256, 256, VRING_DESC_F_NEXT, 1);

    qvirtqueue_kick(vq, 0);

    assert_needs_reset_then_recovers(vq);
}

static void test_next_index_out_of_range_needs_reset(void)
{
    g_autofree QVirtQueue *vq = NULL;
    QVirtioBlkReq req;

    if (!setup()) {
        return;
    }
    vq = start_modern();
    qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_IN, SECTOR_READ, NULL,
                         QVIRTIO_BLK_SECTOR, true);
    qvirtqueue_write_desc(vq, 0, req.hdr, QVIRTIO_BLK_HDR_SIZE,
                          VRING_DESC_F_NEXT, vq->size);

    qvirtqueue_kick(vq, 0);

    assert_needs_reset_then_recovers(vq);
}

static void test_indirect_table_not_multiple_of_16_needs_reset(void)
{
    g_autofree QVirtQueue *vq = NULL;
    QVirtioBlkReq req;
    QVRingIndirect ind;

    if (!setup()) {
        return;
    }
    vq = start_modern();
    qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_IN, SECTOR_READ, NULL,
                         QVIRTIO_BLK_SECTOR, true);
    ind = qvring_indirect_new(qts, 3);
    qvring_indirect_add(qts, &ind, req.hdr, QVIRTIO_BLK_HDR_SIZE, false);
    qvring_indirect_add(qts, &ind, req.data, QVIRTIO_BLK_SECTOR, true);
    qvring_indirect_add(qts, &ind, req.status, 1, true);
    qvirtqueue_write_desc(vq, 0, ind.addr, 3 * 16 - 1, VRING_DESC_F_INDIRECT, 0);

    qvirtqueue_kick(vq, 0);

    assert_needs_reset_then_recovers(vq);
}

/* --- reset and transports ------------------------------------------------------ */

static void test_reset_with_requests_in_flight(void)
{
    enum { NREQ = 16 };
    g_autofree QVirtQueue *vq = NULL;
    g_autofree QVirtQueue *fresh = NULL;
    g_autofree uint8_t *data = g_malloc(64 * 1024);
    uint8_t used_before[4 + 8 * NREQ], used_after[sizeof(used_before)];

    if (!setup()) {
        return;
    }
    vq = start_modern();
    memset(data, 0x77, 64 * 1024);
    for (unsigned i = 0; i < NREQ; i++) {
        QVirtioBlkReq req;

        qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_OUT,
                             SECTOR_INFLIGHT + i * 128, data, 64 * 1024,
                             false);
        qvirtqueue_publish(vq, qvirtio_blk_req_add(vq, &req, 1, false));
    }
    qvirtqueue_notify(vq);

    g_assert_true(qvirtio_reset(&modern));

    /* Once reset reads back 0 the old rings are the driver's again: no
     * completion may land there any more, even while the device serves a
     * new queue. */
    qtest_memread(qts, vq->used, used_before, sizeof(used_before));
    fresh = start_modern();
    g_assert_cmpuint(run(fresh, VIRTIO_BLK_T_IN, SECTOR_READ, NULL,
                         QVIRTIO_BLK_SECTOR, true, NULL, NULL), ==,
                     VIRTIO_BLK_S_OK);
    qtest_memread(qts, vq->used, used_after, sizeof(used_after));
    g_assert_cmpmem(used_after, sizeof(used_after), used_before,
                    sizeof(used_before));
}

static void test_isr_set_by_completion_and_cleared_by_read(void)
{
    g_autofree QVirtQueue *vq = NULL;

    if (!setup()) {
        return;
    }
    vq = start_modern();
    qvirtio_isr(&modern);

    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_IN, SECTOR_READ, NULL,
                         QVIRTIO_BLK_SECTOR, true, NULL, NULL), ==,
                     VIRTIO_BLK_S_OK);

    g_assert_cmphex(qvirtio_isr(&modern) & 1, ==, 1);
    g_assert_cmphex(qvirtio_isr(&modern), ==, 0);
}

static void test_legacy_interface_reads_and_writes(void)
{
    g_autofree QVirtQueue *vq = NULL;
    uint8_t data[2 * QVIRTIO_BLK_SECTOR], got[sizeof(data)], file[sizeof(data)];
    QVirtioBlkReq req;

    if (!setup()) {
        return;
    }
    g_assert_false(qvirtio_device_features(&legacy) >> 32);
    vq = start_device(&legacy, qvirtio_device_features(&legacy) &
                               (1u << VIRTIO_BLK_F_SEG_MAX |
                                1u << VIRTIO_BLK_F_BLK_SIZE |
                                1u << VIRTIO_BLK_F_FLUSH));
    memset(data, 0x4e, sizeof(data));

    g_assert_cmpuint(qvirtio_config_readl(&legacy, 0), ==, IMAGE_SECTORS);
    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_OUT, SECTOR_LEGACY, data,
                         sizeof(data), false, NULL, NULL), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(run(vq, VIRTIO_BLK_T_IN, SECTOR_LEGACY, NULL, sizeof(got),
                         true, &req, NULL), ==, VIRTIO_BLK_S_OK);

    qtest_memread(qts, req.data, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), data, sizeof(data));
    read_image(image_rw, SECTOR_LEGACY, file, sizeof(file));
    g_assert_cmpmem(file, sizeof(file), data, sizeof(data));
    g_assert_true(qvirtio_reset(&legacy));
}

static void test_remote_exits_cleanly_after_every_story(void)
{
    g_autoptr(GError) err = NULL;
    bool clean;

    /* Last story: every request above ran on these remotes; they must
     * still end with status 0 and no sanitizer report. */
    if (!setup()) {
        return;
    }

    clean = qtest_shutdown_cleanly(qts, &err);

    g_assert_no_error(err);
    g_assert_true(clean);
    qtest_quit(qts);
    qts = NULL;
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    qtest_remote_has_device(QTEST_REMOTE_DEFAULT, "virtio-blk-pci",
                            &skip_reason);

    g_test_add_func("/virtio-blk/features/offered-and-accepted",
                    test_features_offered_and_accepted);
    g_test_add_func("/virtio-blk/features/event-idx-requests-complete",
                    test_event_idx_requests_complete);
    g_test_add_func("/virtio-blk/config/capacity-matches-image",
                    test_config_capacity_matches_image);
    g_test_add_func("/virtio-blk/config/read-only-drive-offers-ro",
                    test_read_only_drive_offers_ro);
    g_test_add_func("/virtio-blk/req/read-returns-image-data",
                    test_read_returns_image_data);
    g_test_add_func("/virtio-blk/req/write-lands-in-image",
                    test_write_lands_in_image);
    g_test_add_func("/virtio-blk/req/flush-succeeds", test_flush_succeeds);
    g_test_add_func("/virtio-blk/req/flush-without-feature-is-unsupported",
                    test_flush_without_feature_is_unsupported);
    g_test_add_func("/virtio-blk/req/get-id-returns-serial",
                    test_get_id_returns_serial);
    g_test_add_func("/virtio-blk/req/write-zeroes-clears-image",
                    test_write_zeroes_clears_image);
    g_test_add_func("/virtio-blk/req/write-zeroes-with-unmap-clears-image",
                    test_write_zeroes_with_unmap_clears_image);
    g_test_add_func("/virtio-blk/req/discard-succeeds",
                    test_discard_succeeds);
    g_test_add_func("/virtio-blk/req/discard-with-unmap-flag-is-unsupported",
                    test_discard_with_unmap_flag_is_unsupported);
    g_test_add_func("/virtio-blk/req/discard-past-the-end-fails",
                    test_discard_past_the_end_fails);
    g_test_add_func("/virtio-blk/req/read-past-the-end-fails",
                    test_read_past_the_end_fails);
    g_test_add_func("/virtio-blk/req/read-of-partial-sector-fails",
                    test_read_of_partial_sector_fails);
    g_test_add_func("/virtio-blk/req/unknown-request-type-is-unsupported",
                    test_unknown_request_type_is_unsupported);
    g_test_add_func("/virtio-blk/req/write-to-read-only-drive-fails",
                    test_write_to_read_only_drive_fails);
    g_test_add_func("/virtio-blk/req/discard-on-read-only-drive-fails",
                    test_discard_on_read_only_drive_fails);
    g_test_add_func("/virtio-blk/req/write-zeroes-on-read-only-drive-fails",
                    test_write_zeroes_on_read_only_drive_fails);
    g_test_add_func("/virtio-blk/chain/small-queue-wraps-around",
                    test_small_queue_wraps_around);
    g_test_add_func("/virtio-blk/chain/multi-segment-write-and-read",
                    test_multi_segment_write_and_read);
    g_test_add_func("/virtio-blk/chain/indirect-write-and-read",
                    test_indirect_write_and_read);
    g_test_add_func("/virtio-blk/bad/descriptor-beyond-guest-ram-needs-reset",
                    test_descriptor_beyond_guest_ram_needs_reset);
    g_test_add_func("/virtio-blk/bad/read-into-device-readable-buffer-needs-reset",
                    test_read_into_device_readable_buffer_needs_reset);
    g_test_add_func("/virtio-blk/bad/descriptor-loop-needs-reset",
                    test_descriptor_loop_needs_reset);
    g_test_add_func("/virtio-blk/bad/next-index-out-of-range-needs-reset",
                    test_next_index_out_of_range_needs_reset);
    g_test_add_func("/virtio-blk/bad/indirect-table-not-multiple-of-16-needs-reset",
                    test_indirect_table_not_multiple_of_16_needs_reset);
    g_test_add_func("/virtio-blk/reset/with-requests-in-flight",
                    test_reset_with_requests_in_flight);
    g_test_add_func("/virtio-blk/isr/set-by-completion-and-cleared-by-read",
                    test_isr_set_by_completion_and_cleared_by_read);
    g_test_add_func("/virtio-blk/legacy/reads-and-writes",
                    test_legacy_interface_reads_and_writes);
    g_test_add_func("/virtio-blk/remote/exits-cleanly-after-every-story",
                    test_remote_exits_cleanly_after_every_story);

    ret = g_test_run();
    qtest_quit(qts);
    g_free(image_rw);
    g_free(image_ro);
    g_free(skip_reason);
    return ret;
}
