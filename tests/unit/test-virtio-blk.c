/*
 * virtio-blk (hw/block/virtio-blk.c) driven through the virtio core with no
 * PCI: a fake guest builds requests in memfd RAM, kicks the queue and reads
 * back status bytes, used lengths and the backing file.  Covers every
 * request type, the status codes, requests past the end, read-only drives,
 * malformed chains, host errors, reset with requests in flight, and queues
 * processed in two iothreads.
 *
 * The device is created through the generic -device machinery from a test
 * DeviceType carrying the same property table as virtio-blk-pci.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "hw/virtio-blk.h"
#include "virtio-fake-guest.h"

#include <endian.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <linux/virtio_blk.h>

#define IMG_SECTORS 2048                /* 1 MiB */
#define IMG_SIZE    (IMG_SECTORS * 512)
#define QSIZE       64
#define MODERN      (1ull << VIRTIO_F_VERSION_1)
#define STATUS_NONE 0xaa                /* what the device must overwrite */

typedef struct TestBlk {
    Device dev;
    VirtIOBlock blk;
} TestBlk;

static FakeGuest guest;
static int config_irqs;
/* The iothread of each queue the next device gets (the conf field a
 * vhost-user export's iothread-vq-mapping fills; not a property). */
static IOThread *next_vq_iothread[VIRTIO_BLK_MAX_QUEUES];

static void t_notify_queue(void *opaque, VirtQueue *vq)
{
}

static void t_notify_config(void *opaque)
{
    g_atomic_int_inc(&config_irqs);
}

static const VirtioTransportOps t_transport = {
    .notify_queue = t_notify_queue,
    .notify_config = t_notify_config,
};

static bool t_realize(Device *dev, GError **errp)
{
    TestBlk *t = (TestBlk *)dev;

    memcpy(t->blk.conf.vq_iothread, next_vq_iothread,
           sizeof(next_vq_iothread));
    if (!virtio_blk_realize(&t->blk, dev, dev->id ? dev->id : "blk",
                            errp)) {
        return false;
    }
    virtio_device_set_transport(&t->blk.vdev, &t_transport, t, guest.dma);
    return true;
}

static void t_unrealize(Device *dev)
{
    virtio_blk_unrealize(&((TestBlk *)dev)->blk);
}

static const DeviceProperty t_props[] = {
    VIRTIO_BLK_PROPS(offsetof(TestBlk, blk.conf)),
    { NULL }
};

static const DeviceType t_type = {
    .name = "test-virtio-blk",
    .desc = "virtio-blk without a transport",
    .instance_size = sizeof(TestBlk),
    .props = t_props,
    .realize = t_realize,
    .unrealize = t_unrealize,
};

/* The device registry hw/core/qdev.c looks types up in. */
const DeviceType *const device_types[] = { &t_type, NULL };

/* --- fixture ------------------------------------------------------------------- */

typedef struct Fixture {
    char *dir;
    char *img;
    TestBlk *t;
    VirtIODevice *vdev;
    VirtQueue *vq;
    FakeRing r;
    uint16_t next_desc;
} Fixture;

static uint8_t pattern(uint64_t off)
{
    return (uint8_t)(off * 31 + 7);
}

static void make_image(Fixture *f)
{
    g_autofree uint8_t *data = g_malloc(IMG_SIZE);

    for (uint64_t i = 0; i < IMG_SIZE; i++) {
        data[i] = pattern(i);
    }
    f->dir = g_dir_make_tmp("qr-vblk-XXXXXX", NULL);
    f->img = g_build_filename(f->dir, "disk.raw", NULL);
    g_assert_true(g_file_set_contents(f->img, (char *)data, IMG_SIZE, NULL));
}

static void add_drive(Fixture *f, const char *extra)
{
    g_autofree char *s = g_strdup_printf("if=none,id=d0,format=raw,file=%s%s%s",
                                         f->img, extra ? "," : "",
                                         extra ? extra : "");
    g_autoptr(KeyValList) o = keyval_parse(s, NULL, NULL);
    g_autoptr(GError) err = NULL;

    g_assert_nonnull(drive_add_keyval(o, &err));
    g_assert_no_error(err);
}

static Device *new_device(const char *props, GError **errp)
{
    g_autofree char *s = g_strdup_printf("test-virtio-blk,id=vblk,drive=d0%s%s",
                                         props ? "," : "", props ? props : "");
    g_autoptr(KeyValList) o = keyval_parse(s, "driver", NULL);
    Device *dev = device_new(o, errp);

    if (dev && !device_realize(dev, errp)) {
        device_free(dev);
        return NULL;
    }
    return dev;
}

/* Negotiates all offered features but @drop and starts queue @q. */
static void start_queue(Fixture *f, unsigned q, uint64_t drop)
{
    VirtQueue *vq = virtio_get_queue(f->vdev, q);

    fr_init(&f->r, &guest, QSIZE);
    g_assert_true(virtio_queue_set_size(vq, QSIZE));
    virtio_queue_set_addrs(vq, f->r.desc, f->r.avail, f->r.used);
    virtio_queue_set_enabled(vq, true);
    if (!(virtio_get_status(f->vdev) & VIRTIO_CONFIG_S_DRIVER_OK)) {
        virtio_stage_features(f->vdev, f->vdev->host_features & ~drop);
        virtio_set_status(f->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                          VIRTIO_CONFIG_S_DRIVER |
                          VIRTIO_CONFIG_S_FEATURES_OK, true, true);
        virtio_set_status(f->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                          VIRTIO_CONFIG_S_DRIVER |
                          VIRTIO_CONFIG_S_FEATURES_OK |
                          VIRTIO_CONFIG_S_DRIVER_OK, true, true);
    } else {
        g_assert_true(virtio_queue_start(vq, true, NULL));
    }
    f->vq = vq;
    f->next_desc = 0;
}

static void setup_with(Fixture *f, const char *drive_opts,
                       const char *dev_props, uint64_t drop)
{
    g_autoptr(GError) err = NULL;

    memset(f, 0, sizeof(*f));
    fg_init(&guest, false);
    config_irqs = 0;
    make_image(f);
    add_drive(f, drive_opts);
    f->t = (TestBlk *)new_device(dev_props, &err);
    g_assert_no_error(err);
    f->vdev = &f->t->blk.vdev;
    start_queue(f, 0, drop);
}

static void teardown(Fixture *f, gconstpointer unused)
{
    if (f->t) {
        device_free(&f->t->dev);
    }
    blockdev_close_all();
    fg_cleanup(&guest);
    unlink(f->img);
    rmdir(f->dir);
    g_free(f->img);
    g_free(f->dir);
}

/* --- building requests --------------------------------------------------------- */

typedef struct Req {
    uint16_t head;
    uint64_t hdr, data, status;
    uint32_t data_len;
} Req;

static uint16_t desc(Fixture *f, uint64_t addr, uint32_t len, uint16_t flags,
                     bool more)
{
    uint16_t i = f->next_desc++;

    g_assert_cmpuint(i, <, QSIZE);
    fr_desc(&f->r, i, addr, len, flags | (more ? VRING_DESC_F_NEXT : 0),
            (uint16_t)(i + 1));
    return i;
}

static uint64_t put_header(uint32_t type, uint64_t sector)
{
    struct virtio_blk_outhdr h = {
        .type = htole32(type), .sector = htole64(sector),
    };
    uint64_t a = fg_alloc(&guest, sizeof(h), 16);

    memcpy(fg_ptr(&guest, a), &h, sizeof(h));
    return a;
}

static uint64_t put_status(void)
{
    uint64_t a = fg_alloc(&guest, 1, 1);

    *(uint8_t *)fg_ptr(&guest, a) = STATUS_NONE;
    return a;
}

/* The usual three descriptors: header, data (writable for reads), status. */
static Req request(Fixture *f, uint32_t type, uint64_t sector,
                   uint32_t data_len, bool data_writable)
{
    Req r = { .data_len = data_len };

    r.hdr = put_header(type, sector);
    r.status = put_status();
    r.head = desc(f, r.hdr, 16, 0, true);
    if (data_len) {
        r.data = fg_alloc(&guest, data_len, 512);
        desc(f, r.data, data_len, data_writable ? VRING_DESC_F_WRITE : 0,
             true);
    }
    desc(f, r.status, 1, VRING_DESC_F_WRITE, false);
    return r;
}

/* Publishes @r and waits until the device returns it; the used length. */
static uint32_t submit(Fixture *f, const Req *r)
{
    uint16_t before = fr_used_idx(&f->r);
    uint32_t id, len;

    fr_publish(&f->r, r->head);
    virtio_queue_notify(f->vq);
    g_assert_true(fr_wait_used(&f->r, (uint16_t)(before + 1)));
    fr_used_elem(&f->r, before, &id, &len);
    g_assert_cmpuint(id, ==, r->head);
    return len;
}

static uint8_t status_of(const Req *r)
{
    return *(uint8_t *)fg_ptr(&guest, r->status);
}

static uint8_t run(Fixture *f, uint32_t type, uint64_t sector,
                   uint32_t data_len, bool writable)
{
    Req r = request(f, type, sector, data_len, writable);

    submit(f, &r);
    return status_of(&r);
}

static bool needs_reset(Fixture *f)
{
    return virtio_get_status(f->vdev) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

/* Waits until the device reports NEEDS_RESET (the kick is asynchronous). */
static bool wait_needs_reset(Fixture *f)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (!needs_reset(f)) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

static void file_read(Fixture *f, uint64_t off, void *buf, size_t len)
{
    int fd = open(f->img, O_RDONLY | O_CLOEXEC);

    g_assert_cmpint(pread(fd, buf, len, (off_t)off), ==, (ssize_t)len);
    close(fd);
}

static bool file_is_zero(Fixture *f, uint64_t off, size_t len)
{
    g_autofree uint8_t *b = g_malloc(len);

    file_read(f, off, b, len);
    for (size_t i = 0; i < len; i++) {
        if (b[i]) {
            return false;
        }
    }
    return true;
}

static uint64_t put_segment(uint64_t sector, uint32_t num, uint32_t flags)
{
    struct virtio_blk_discard_write_zeroes s = {
        .sector = htole64(sector), .num_sectors = htole32(num),
        .flags = htole32(flags),
    };
    uint64_t a = fg_alloc(&guest, sizeof(s), 16);

    memcpy(fg_ptr(&guest, a), &s, sizeof(s));
    return a;
}

/* A discard/write-zeroes request whose segment area is @seg_len bytes at
 * @seg. */
static uint8_t run_dwz(Fixture *f, uint32_t type, uint64_t seg,
                       uint32_t seg_len)
{
    Req r = { 0 };

    r.hdr = put_header(type, 0);
    r.status = put_status();
    r.head = desc(f, r.hdr, 16, 0, true);
    desc(f, seg, seg_len, 0, true);
    desc(f, r.status, 1, VRING_DESC_F_WRITE, false);
    submit(f, &r);
    return status_of(&r);
}

/* --- features and config -------------------------------------------------------- */

static void test_offers_qemu_features(Fixture *f, gconstpointer unused)
{
    uint64_t feat = f->vdev->host_features;
    const unsigned expected[] = {
        VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_GEOMETRY, VIRTIO_BLK_F_BLK_SIZE,
        VIRTIO_BLK_F_TOPOLOGY, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_CONFIG_WCE,
        VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES,
        VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX,
        VIRTIO_F_VERSION_1,
    };

    for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
        g_assert_true(feat & (1ull << expected[i]));
    }
    g_assert_false(feat & (1ull << VIRTIO_BLK_F_MQ));
    g_assert_false(feat & (1ull << VIRTIO_BLK_F_RO));
    g_assert_false(feat & (1ull << VIRTIO_BLK_F_SIZE_MAX));
}

static uint64_t cfg(Fixture *f, size_t off, unsigned len)
{
    uint64_t v = 0;

    g_assert_true(virtio_config_read(f->vdev, (uint32_t)off, len, &v));
    return v;
}

static void test_config_like_qemu(Fixture *f, gconstpointer unused)
{
    uint64_t v;

    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config, capacity), 8),
                     ==, IMG_SECTORS);
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config, seg_max), 4),
                     ==, 256 - 2);
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config, blk_size), 4),
                     ==, 512);
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config, num_queues),
                         2), ==, 1);
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config, wce), 1), ==,
                     1);
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config,
                                     max_discard_sectors), 4), ==, 4194303);
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config,
                                     max_discard_seg), 4), ==, 1);
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config,
                                     max_write_zeroes_seg), 4), ==, 1);
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config,
                                     write_zeroes_may_unmap), 1), ==, 1);
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config, geometry) +
                         2, 1), ==, 16);
    /* 57 bytes, as QEMU sizes it with WRITE_ZEROES offered. */
    g_assert_cmpuint(f->vdev->config_len, ==, 57);
    g_assert_false(virtio_config_read(f->vdev, 57, 1, &v));
}

static void test_guest_can_switch_write_cache(Fixture *f, gconstpointer u)
{
    size_t wce = offsetof(struct virtio_blk_config, wce);

    g_assert_true(virtio_config_write(f->vdev, (uint32_t)wce, 1, 0));
    g_assert_cmpuint(cfg(f, wce, 1), ==, 0);
    /* Read-only fields stay as they are. */
    g_assert_true(virtio_config_write(f->vdev, 0, 8, 1));
    g_assert_cmpuint(cfg(f, 0, 8), ==, IMG_SECTORS);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_OUT, 8, 512, false), ==,
                     VIRTIO_BLK_S_OK);
}

static void test_write_cache_default_back_when_config_wce_follows(
    Fixture *f, gconstpointer u)
{
    /* vhost-user: QEMU negotiates without FLUSH at realize, then the
     * driver's full set, with no reset in between. */
    size_t wce = offsetof(struct virtio_blk_config, wce);

    g_assert_true(virtio_set_features(f->vdev, MODERN, NULL));
    g_assert_cmpuint(cfg(f, wce, 1), ==, 0);

    g_assert_true(virtio_set_features(f->vdev, f->vdev->host_features,
                                      NULL));

    g_assert_cmpuint(cfg(f, wce, 1), ==, 1);
}

static void test_driver_write_cache_choice_survives_renegotiation(
    Fixture *f, gconstpointer u)
{
    size_t wce = offsetof(struct virtio_blk_config, wce);

    g_assert_true(virtio_config_write(f->vdev, (uint32_t)wce, 1, 0));

    g_assert_true(virtio_set_features(f->vdev, f->vdev->host_features,
                                      NULL));

    g_assert_cmpuint(cfg(f, wce, 1), ==, 0);
}

/* --- requests ----------------------------------------------------------------- */

static void test_read_returns_file_data(Fixture *f, gconstpointer unused)
{
    Req r = request(f, VIRTIO_BLK_T_IN, 4, 1024, true);
    const uint8_t *data = fg_ptr(&guest, r.data);

    g_assert_cmpuint(submit(f, &r), ==, 1024 + 1);
    g_assert_cmpuint(status_of(&r), ==, VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < 1024; i++) {
        g_assert_cmpuint(data[i], ==, pattern(4 * 512 + i));
    }
}

static void test_write_lands_in_file(Fixture *f, gconstpointer unused)
{
    Req r = request(f, VIRTIO_BLK_T_OUT, 10, 512, false);
    uint8_t got[512];

    memset(fg_ptr(&guest, r.data), 0x3c, 512);
    g_assert_cmpuint(submit(f, &r), ==, 1);
    g_assert_cmpuint(status_of(&r), ==, VIRTIO_BLK_S_OK);
    file_read(f, 10 * 512, got, sizeof(got));
    for (unsigned i = 0; i < sizeof(got); i++) {
        g_assert_cmpuint(got[i], ==, 0x3c);
    }
}

static void test_header_split_and_status_sharing_data(Fixture *f,
                                                      gconstpointer unused)
{
    /* ANY_LAYOUT: an 8+8 header, and data and status in one descriptor. */
    uint64_t hdr = put_header(VIRTIO_BLK_T_IN, 2);
    uint64_t buf = fg_alloc(&guest, 513, 512);
    Req r = { 0 };

    r.head = desc(f, hdr, 8, 0, true);
    desc(f, hdr + 8, 8, 0, true);
    desc(f, buf, 513, VRING_DESC_F_WRITE, false);
    r.status = buf + 512;

    g_assert_cmpuint(submit(f, &r), ==, 513);
    g_assert_cmpuint(status_of(&r), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(*(uint8_t *)fg_ptr(&guest, buf), ==, pattern(2 * 512));
}

static void test_flush_succeeds(Fixture *f, gconstpointer unused)
{
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_FLUSH, 0, 0, false), ==,
                     VIRTIO_BLK_S_OK);
}

static void test_flush_without_feature_is_unsupported(Fixture *f,
                                                      gconstpointer u)
{
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_FLUSH, 0, 0, false), ==,
                     VIRTIO_BLK_S_UNSUPP);
}

static void test_get_id_returns_padded_serial(Fixture *f, gconstpointer u)
{
    Req r = request(f, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true);
    char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };

    memset(fg_ptr(&guest, r.data), 0xff, VIRTIO_BLK_ID_BYTES);
    g_assert_cmpuint(submit(f, &r), ==, VIRTIO_BLK_ID_BYTES + 1);
    g_assert_cmpuint(status_of(&r), ==, VIRTIO_BLK_S_OK);
    memcpy(id, fg_ptr(&guest, r.data), VIRTIO_BLK_ID_BYTES);
    g_assert_cmpstr(id, ==, "QR-SERIAL");
    g_assert_cmpuint(id[VIRTIO_BLK_ID_BYTES - 1], ==, 0);
}

static void test_get_id_truncates_long_serial(Fixture *f, gconstpointer u)
{
    Req r = request(f, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true);

    submit(f, &r);
    g_assert_cmpmem(fg_ptr(&guest, r.data), VIRTIO_BLK_ID_BYTES,
                    "0123456789abcdefghij", VIRTIO_BLK_ID_BYTES);
}

static void test_write_zeroes_clears_file(Fixture *f, gconstpointer unused)
{
    uint64_t seg = put_segment(16, 8, 0);

    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, seg, 16), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_true(file_is_zero(f, 16 * 512, 8 * 512));
    g_assert_false(file_is_zero(f, 24 * 512, 512));
}

static void test_write_zeroes_with_unmap_clears_file(Fixture *f,
                                                     gconstpointer u)
{
    uint64_t seg = put_segment(32, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);

    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, seg, 16), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_true(file_is_zero(f, 32 * 512, 8 * 512));
}

static void test_discard_succeeds(Fixture *f, gconstpointer unused)
{
    uint64_t seg = put_segment(64, 64, 0);

    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_DISCARD, seg, 16), ==,
                     VIRTIO_BLK_S_OK);
}

static void test_discard_with_unmap_flag_is_unsupported(Fixture *f,
                                                        gconstpointer u)
{
    uint64_t seg = put_segment(64, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);

    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_DISCARD, seg, 16), ==,
                     VIRTIO_BLK_S_UNSUPP);
}

static void test_segment_with_unknown_flag_is_unsupported(Fixture *f,
                                                          gconstpointer u)
{
    uint64_t seg = put_segment(64, 8, 0x2);

    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, seg, 16), ==,
                     VIRTIO_BLK_S_UNSUPP);
}

static void test_two_segments_are_unsupported(Fixture *f, gconstpointer u)
{
    uint64_t seg = put_segment(64, 8, 0);

    put_segment(80, 8, 0);      /* right behind: 32 bytes of segments */
    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_DISCARD, seg, 32), ==,
                     VIRTIO_BLK_S_UNSUPP);
}

static void test_segment_area_not_multiple_of_16_fails(Fixture *f,
                                                       gconstpointer u)
{
    uint64_t seg = put_segment(64, 8, 0);

    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, seg, 15), ==,
                     VIRTIO_BLK_S_IOERR);
}

static void test_segment_past_the_end_fails(Fixture *f, gconstpointer u)
{
    uint64_t seg = put_segment(IMG_SECTORS - 4, 8, 0);

    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_DISCARD, seg, 16), ==,
                     VIRTIO_BLK_S_IOERR);
}

static void test_segment_above_max_sectors_fails(Fixture *f, gconstpointer u)
{
    uint64_t seg = put_segment(0, 16, 0);

    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, seg, 16), ==,
                     VIRTIO_BLK_S_IOERR);
}

static void test_read_past_the_end_fails(Fixture *f, gconstpointer u)
{
    Req r = request(f, VIRTIO_BLK_T_IN, IMG_SECTORS - 1, 1024, true);

    g_assert_cmpuint(submit(f, &r), ==, 1);
    g_assert_cmpuint(status_of(&r), ==, VIRTIO_BLK_S_IOERR);
}

static void test_read_at_huge_sector_fails(Fixture *f, gconstpointer u)
{
    /* sector * 512 would overflow 64 bits. */
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, UINT64_MAX / 256, 512, true), ==,
                     VIRTIO_BLK_S_IOERR);
}

static void test_read_of_partial_sector_fails(Fixture *f, gconstpointer u)
{
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 0, 100, true), ==,
                     VIRTIO_BLK_S_IOERR);
}

static void test_unknown_type_is_unsupported(Fixture *f, gconstpointer u)
{
    g_assert_cmpuint(run(f, 0x1234, 0, 0, false), ==, VIRTIO_BLK_S_UNSUPP);
    /* SCSI commands and barriers are legacy-only features we never offer. */
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_SCSI_CMD, 0, 0, false), ==,
                     VIRTIO_BLK_S_UNSUPP);
}

static void test_read_only_drive(Fixture *f, gconstpointer unused)
{
    uint64_t seg = put_segment(0, 8, 0);

    g_assert_true(f->vdev->host_features & (1ull << VIRTIO_BLK_F_RO));
    g_assert_false(f->vdev->host_features & (1ull << VIRTIO_BLK_F_DISCARD));
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_OUT, 0, 512, false), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(run_dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, seg, 16), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 0, 512, true), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_false(file_is_zero(f, 0, 512));
}

static void test_host_error_is_ioerr(Fixture *f, gconstpointer unused)
{
    /* Writes beyond RLIMIT_FSIZE fail with EFBIG in the kernel. */
    struct rlimit old, lim;
    uint8_t st;

    g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old), ==, 0);
    lim = old;
    lim.rlim_cur = IMG_SIZE / 2;
    signal(SIGXFSZ, SIG_IGN);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &lim), ==, 0);
    st = run(f, VIRTIO_BLK_T_OUT, IMG_SECTORS - 8, 4096, false);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old), ==, 0);

    g_assert_cmpuint(st, ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_OUT, IMG_SECTORS - 8, 4096, false),
                     ==, VIRTIO_BLK_S_OK);
}

static void test_4k_logical_blocks(Fixture *f, gconstpointer unused)
{
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config, blk_size), 4),
                     ==, 4096);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 0, 512, true), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 1, 4096, true), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 8, 4096, true), ==,
                     VIRTIO_BLK_S_OK);
}

/* --- malformed requests break the device ------------------------------------------ */

static void test_missing_status_byte_breaks(Fixture *f, gconstpointer u)
{
    uint64_t hdr = put_header(VIRTIO_BLK_T_IN, 0);
    uint16_t head = desc(f, hdr, 16, 0, false);

    fr_publish(&f->r, head);
    virtio_queue_notify(f->vq);

    g_assert_true(wait_needs_reset(f));
    g_assert_cmpuint(fr_used_idx(&f->r), ==, 0);
    g_assert_cmpint(g_atomic_int_get(&config_irqs), ==, 1);
}

static void test_short_header_breaks(Fixture *f, gconstpointer u)
{
    uint64_t hdr = put_header(VIRTIO_BLK_T_IN, 0);
    uint16_t head = desc(f, hdr, 8, 0, true);

    desc(f, put_status(), 1, VRING_DESC_F_WRITE, false);
    fr_publish(&f->r, head);
    virtio_queue_notify(f->vq);

    g_assert_true(wait_needs_reset(f));
}

static void test_read_into_readable_buffer_breaks(Fixture *f, gconstpointer u)
{
    Req r = request(f, VIRTIO_BLK_T_IN, 0, 512, false);

    fr_publish(&f->r, r.head);
    virtio_queue_notify(f->vq);

    g_assert_true(wait_needs_reset(f));
    g_assert_cmpuint(status_of(&r), ==, STATUS_NONE);
}

/* --- reset and queues ------------------------------------------------------------- */

static void test_reset_drains_requests_in_flight(Fixture *f, gconstpointer u)
{
    enum { N = QSIZE / 3 };     /* three descriptors each */
    uint8_t used_before[4 + 8 * QSIZE], used_after[sizeof(used_before)];
    uint64_t old_used = f->r.used;

    for (unsigned i = 0; i < N; i++) {
        Req r = request(f, VIRTIO_BLK_T_OUT, i * 8, 4096, false);

        fr_publish(&f->r, r.head);
    }
    virtio_queue_notify(f->vq);
    g_assert_false(needs_reset(f));

    virtio_set_status(f->vdev, 0, true, true);

    /* Once reset returned nothing is in flight: the old queue's used ring
     * stays as it is while the device serves a new one. */
    g_assert_cmpuint(f->t->blk.ctx[0].inflight, ==, 0);
    g_assert_false(virtio_queue_running(f->vq));
    memcpy(used_before, fg_ptr(&guest, old_used), sizeof(used_before));
    start_queue(f, 0, 0);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 0, 512, true), ==,
                     VIRTIO_BLK_S_OK);
    memcpy(used_after, fg_ptr(&guest, old_used), sizeof(used_after));
    g_assert_cmpmem(used_after, sizeof(used_after), used_before,
                    sizeof(used_before));
}

static void test_two_queues_serve_requests(Fixture *f, gconstpointer u)
{
    FakeRing first;

    g_assert_true(f->vdev->host_features & (1ull << VIRTIO_BLK_F_MQ));
    g_assert_cmpuint(cfg(f, offsetof(struct virtio_blk_config, num_queues),
                         2), ==, 2);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 0, 512, true), ==,
                     VIRTIO_BLK_S_OK);
    first = f->r;
    start_queue(f, 1, 0);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 8, 512, true), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(fr_used_idx(&first), ==, 1);
}

static void test_named_iothread_is_used(Fixture *f, gconstpointer u)
{
    g_assert_nonnull(iothread_find("iot0"));
    g_assert_true(f->vdev->iothread == iothread_find("iot0"));
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 0, 512, true), ==,
                     VIRTIO_BLK_S_OK);
}

/* Queue 0 in the device's iothread, queue 1 in iot1 (split_queues). */

/* Publishes @n writes of 4 KiB on the current ring without kicking. */
static void publish_writes(Fixture *f, unsigned n, uint64_t first_sector)
{
    for (unsigned i = 0; i < n; i++) {
        Req r = request(f, VIRTIO_BLK_T_OUT, first_sector + i * 8, 4096,
                        false);

        fr_publish(&f->r, r.head);
    }
}

/* Waits until the device popped @n requests of @vq (it may still be
 * processing them). */
static bool wait_popped(VirtQueue *vq, uint16_t n)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (virtio_queue_get_last_avail_idx(vq) != n) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

static void test_each_queue_is_served_by_its_iothread(Fixture *f,
                                                      gconstpointer u)
{
    VirtQueue *q0 = f->vq;

    start_queue(f, 1, 0);

    g_assert_true(virtio_queue_get_iothread(q0) == f->vdev->iothread);
    g_assert_true(virtio_queue_get_iothread(f->vq) == iothread_find("iot1"));
    g_assert_cmpuint(f->t->blk.nctx, ==, 2);
    g_assert_cmpuint(run(f, VIRTIO_BLK_T_IN, 8, 512, true), ==,
                     VIRTIO_BLK_S_OK);
}

static void test_reset_drains_queues_of_both_iothreads(Fixture *f,
                                                       gconstpointer u)
{
    enum { N = QSIZE / 3 };     /* three descriptors each */
    FakeRing ring0 = f->r;
    VirtQueue *q0 = f->vq;

    publish_writes(f, N, 0);
    start_queue(f, 1, 0);
    publish_writes(f, N, 1024);
    virtio_queue_notify(q0);
    virtio_queue_notify(f->vq);
    g_assert_true(wait_popped(q0, N));
    g_assert_true(wait_popped(f->vq, N));

    virtio_set_status(f->vdev, 0, true, true);

    /* Every request popped in either iothread completed and was published
     * before the reset took effect. */
    g_assert_cmpuint(f->t->blk.ctx[0].inflight, ==, 0);
    g_assert_cmpuint(f->t->blk.ctx[1].inflight, ==, 0);
    g_assert_cmpuint(fr_used_idx(&ring0), ==, N);
    g_assert_cmpuint(fr_used_idx(&f->r), ==, N);
    g_assert_false(virtio_queue_running(q0));
    g_assert_false(virtio_queue_running(f->vq));
}

static void test_stop_drains_the_queue_in_its_iothread(Fixture *f,
                                                       gconstpointer u)
{
    enum { N = QSIZE / 3 };
    VirtQueue *q0 = f->vq;

    start_queue(f, 1, 0);
    publish_writes(f, N, 1024);
    virtio_queue_notify(f->vq);
    g_assert_true(wait_popped(f->vq, N));

    g_assert_cmpuint(virtio_queue_stop(f->vq), ==, N);

    /* Stopped in iot1: what it popped is published; queue 0, in the
     * device's iothread, serves on. */
    g_assert_cmpuint(f->t->blk.ctx[1].inflight, ==, 0);
    g_assert_cmpuint(fr_used_idx(&f->r), ==, N);
    g_assert_false(virtio_queue_running(f->vq));
    g_assert_true(virtio_queue_running(q0));
}

/* --- realize ----------------------------------------------------------------------- */

static void assert_realize_fails(const char *drive, const char *props,
                                 const char *expected)
{
    Fixture f = { 0 };
    g_autoptr(GError) err = NULL;

    fg_init(&guest, false);
    make_image(&f);
    if (drive) {
        add_drive(&f, NULL);
    }
    g_assert_null(new_device(props, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, expected));
    teardown(&f, NULL);
}

static void test_realize_errors(void)
{
    assert_realize_fails(NULL, NULL, "Cannot find device='d0'");
    assert_realize_fails("d0", "queue-size=6", "invalid queue-size property");
    assert_realize_fails("d0", "logical_block_size=1000",
                         "powers of two between 512 B and 2 MiB");
    assert_realize_fails("d0", "logical_block_size=4096,"
                         "physical_block_size=512",
                         "must not be smaller than logical_block_size");
    assert_realize_fails("d0", "min_io_size=100",
                         "multiples of logical_block_size");
    assert_realize_fails("d0", "num-queues=0", "out of range");
}

static void test_second_device_on_drive_is_refused(Fixture *f,
                                                   gconstpointer u)
{
    g_autofree char *s = g_strdup("test-virtio-blk,id=second,drive=d0");
    g_autoptr(KeyValList) o = keyval_parse(s, "driver", NULL);
    g_autoptr(GError) err = NULL;
    Device *dev = device_new(o, &err);

    g_assert_nonnull(dev);
    g_assert_false(device_realize(dev, &err));
    g_assert_nonnull(strstr(err->message, "already in use"));
    device_free(dev);
}

typedef struct Setup {
    const char *drive;          /* extra -drive options */
    const char *props;          /* extra device properties */
    uint64_t drop;              /* features the driver does not accept */
    bool split_queues;          /* queue 1 in iot1 */
} Setup;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    const Setup *s = data;

    memset(next_vq_iothread, 0, sizeof(next_vq_iothread));
    if (s->split_queues) {
        next_vq_iothread[1] = iothread_find("iot1");
    }
    setup_with(f, s->drive, s->props, s->drop);
}

static const Setup plain = { .props = "serial=QR-SERIAL" };
static const Setup no_flush = { .drop = 1ull << VIRTIO_BLK_F_FLUSH };
static const Setup long_serial = { .props = "serial=0123456789abcdefghijKL" };
static const Setup read_only = { .drive = "readonly=on" };
static const Setup unmap = { .drive = "discard=unmap" };
static const Setup small_max = { .props = "max-write-zeroes-sectors=8" };
static const Setup blk4k = { .props = "logical_block_size=4096" };
static const Setup two_queues = { .props = "num-queues=2" };
static const Setup named_iothread = { .props = "iothread=iot0" };
static const Setup split_queues = { .props = "num-queues=2",
                                    .split_queues = true };

static void add(const char *path, const Setup *s,
                void (*fn)(Fixture *, gconstpointer))
{
    g_test_add(path, Fixture, s, fixture_setup, fn, teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* The -object iothread,id=iot0 of a command line. */
    g_assert_nonnull(iothread_create("iot0", NULL));
    g_assert_nonnull(iothread_create("iot1", NULL));

    add("/virtio-blk/features/like-qemu", &plain, test_offers_qemu_features);
    add("/virtio-blk/config/like-qemu", &plain, test_config_like_qemu);
    add("/virtio-blk/config/write-cache-switch", &plain,
        test_guest_can_switch_write_cache);
    add("/virtio-blk/config/write-cache-default-after-inferred", &plain,
        test_write_cache_default_back_when_config_wce_follows);
    add("/virtio-blk/config/write-cache-choice-kept", &plain,
        test_driver_write_cache_choice_survives_renegotiation);
    add("/virtio-blk/req/read", &plain, test_read_returns_file_data);
    add("/virtio-blk/req/write", &plain, test_write_lands_in_file);
    add("/virtio-blk/req/any-layout", &plain,
        test_header_split_and_status_sharing_data);
    add("/virtio-blk/req/flush", &plain, test_flush_succeeds);
    add("/virtio-blk/req/flush-without-feature", &no_flush,
        test_flush_without_feature_is_unsupported);
    add("/virtio-blk/req/get-id", &plain, test_get_id_returns_padded_serial);
    add("/virtio-blk/req/get-id-long-serial", &long_serial,
        test_get_id_truncates_long_serial);
    add("/virtio-blk/req/write-zeroes", &plain,
        test_write_zeroes_clears_file);
    add("/virtio-blk/req/write-zeroes-unmap", &unmap,
        test_write_zeroes_with_unmap_clears_file);
    add("/virtio-blk/req/discard", &unmap, test_discard_succeeds);
    add("/virtio-blk/req/discard-unmap-flag", &plain,
        test_discard_with_unmap_flag_is_unsupported);
    add("/virtio-blk/req/segment-unknown-flag", &plain,
        test_segment_with_unknown_flag_is_unsupported);
    add("/virtio-blk/req/two-segments", &plain,
        test_two_segments_are_unsupported);
    add("/virtio-blk/req/segment-area-not-multiple-of-16", &plain,
        test_segment_area_not_multiple_of_16_fails);
    add("/virtio-blk/req/segment-past-end", &plain,
        test_segment_past_the_end_fails);
    add("/virtio-blk/req/segment-above-max", &small_max,
        test_segment_above_max_sectors_fails);
    add("/virtio-blk/req/read-past-end", &plain,
        test_read_past_the_end_fails);
    add("/virtio-blk/req/read-huge-sector", &plain,
        test_read_at_huge_sector_fails);
    add("/virtio-blk/req/read-partial-sector", &plain,
        test_read_of_partial_sector_fails);
    add("/virtio-blk/req/unknown-type", &plain,
        test_unknown_type_is_unsupported);
    add("/virtio-blk/req/read-only-drive", &read_only, test_read_only_drive);
    add("/virtio-blk/req/host-error-ioerr", &plain, test_host_error_is_ioerr);
    add("/virtio-blk/req/4k-logical-blocks", &blk4k, test_4k_logical_blocks);
    add("/virtio-blk/bad/missing-status", &plain,
        test_missing_status_byte_breaks);
    add("/virtio-blk/bad/short-header", &plain, test_short_header_breaks);
    add("/virtio-blk/bad/read-into-readable-buffer", &plain,
        test_read_into_readable_buffer_breaks);
    add("/virtio-blk/reset/drains-in-flight", &plain,
        test_reset_drains_requests_in_flight);
    add("/virtio-blk/queues/two-queues", &two_queues,
        test_two_queues_serve_requests);
    add("/virtio-blk/queues/named-iothread", &named_iothread,
        test_named_iothread_is_used);
    add("/virtio-blk/queues/iothread-per-queue", &split_queues,
        test_each_queue_is_served_by_its_iothread);
    add("/virtio-blk/queues/reset-drains-both-iothreads", &split_queues,
        test_reset_drains_queues_of_both_iothreads);
    add("/virtio-blk/queues/stop-drains-in-queue-iothread", &split_queues,
        test_stop_drains_the_queue_in_its_iothread);
    add("/virtio-blk/realize/second-device-on-drive", &plain,
        test_second_device_on_drive_is_refused);
    g_test_add_func("/virtio-blk/realize/errors", test_realize_errors);
    return g_test_run();
}
