/*
 * virtio-pci (hw/virtio/virtio-pci*.c) with virtio-blk behind it and a
 * fake transport: the PCI face QEMU 7.2's virtio-blk-pci shows (IDs, BARs,
 * capability offsets), with and without MSI-X and 64-bit BARs, the common
 * and legacy register files, a whole request through the BARs, ISR/INTx,
 * the PCI_CFG window and reset.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/iothread.h"
#include "hw/pci.h"
#include "hw/virtio-blk.h"
#include "hw/virtio-pci.h"
#include "virtio-fake-guest.h"

#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_pci.h>

/* The device registry hw/core/qdev.c looks types up in. */
const DeviceType *const device_types[] = { &virtio_blk_pci_type, NULL };

typedef struct Transport {
    bool level;
    int vectors_sent;
} Transport;

static void t_set_irq(void *opaque, bool level)
{
    ((Transport *)opaque)->level = level;
}

static void t_notify_vector(void *opaque, bool msix, unsigned vector)
{
    g_atomic_int_inc(&((Transport *)opaque)->vectors_sent);
}

/* vfio-user-like: MSI-X and 64-bit BARs. */
static const PCITransportOps full_ops = {
    .set_irq = t_set_irq, .notify_vector = t_notify_vector, .bar64 = true,
};
/* mpqemu-like: INTx only, 32-bit BARs. */
static const PCITransportOps intx_ops = {
    .set_irq = t_set_irq, .bar64 = false,
};

typedef struct Fixture {
    char *dir;
    char *img;
    FakeGuest g;
    Transport t;
    PCIDevice *d;
} Fixture;

static void image_new(Fixture *f)
{
    g_autofree char *zeros = g_malloc0(1 << 20);
    g_autofree char *s = NULL;
    g_autoptr(KeyValList) o = NULL;

    f->dir = g_dir_make_tmp("qr-vpci-XXXXXX", NULL);
    f->img = g_build_filename(f->dir, "disk.raw", NULL);
    g_assert_true(g_file_set_contents(f->img, zeros, 1 << 20, NULL));
    s = g_strdup_printf("if=none,id=d0,format=raw,file=%s", f->img);
    o = keyval_parse(s, NULL, NULL);
    g_assert_nonnull(drive_add_keyval(o, NULL));
}

static PCIDevice *device(Fixture *f, const PCITransportOps *ops,
                         const char *props, GError **errp)
{
    g_autofree char *s = g_strdup_printf("virtio-blk-pci,id=v0,drive=d0%s%s",
                                         props ? "," : "", props ? props : "");
    g_autoptr(KeyValList) o = keyval_parse(s, "driver", NULL);
    Device *dev = device_new(o, errp);
    DMARegionDesc r = { .gpa = FG_BASE, .size = FG_SIZE, .fd = f->g.fd };

    if (!dev) {
        return NULL;
    }
    pci_device_set_transport(PCI_DEVICE(dev), ops, &f->t);
    if (!device_realize(dev, errp)) {
        device_free(dev);
        return NULL;
    }
    g_assert_true(dma_space_set_table(pci_get_dma(PCI_DEVICE(dev)), &r, 1,
                                      NULL));
    return PCI_DEVICE(dev);
}

static void setup_with(Fixture *f, const PCITransportOps *ops,
                       const char *props)
{
    g_autoptr(GError) err = NULL;

    memset(f, 0, sizeof(*f));
    fg_init(&f->g, false);
    image_new(f);
    f->d = device(f, ops, props, &err);
    g_assert_no_error(err);
}

static void teardown(Fixture *f, gconstpointer unused)
{
    if (f->d) {
        device_free(&f->d->qdev);
    }
    blockdev_close_all();
    fg_cleanup(&f->g);
    unlink(f->img);
    rmdir(f->dir);
    g_free(f->img);
    g_free(f->dir);
}

static uint32_t cfg_rd(Fixture *f, uint32_t addr, unsigned len)
{
    uint32_t v = 0;

    g_assert_true(pci_config_read(f->d, addr, len, &v));
    return v;
}

static void cfg_wr(Fixture *f, uint32_t addr, uint32_t v, unsigned len)
{
    g_assert_true(pci_config_write(f->d, addr, v, len));
}

/* The BAR sizing protocol: all-ones, read the mask, restore. */
static uint32_t bar_mask(Fixture *f, int bar)
{
    uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t old = cfg_rd(f, reg, 4), mask;

    cfg_wr(f, reg, 0xffffffff, 4);
    mask = cfg_rd(f, reg, 4);
    cfg_wr(f, reg, old, 4);
    return mask;
}

static uint64_t bar_rd(Fixture *f, int bar, uint64_t off, unsigned size)
{
    uint64_t v = 0;

    g_assert_true(pci_bar_access(f->d, bar, off, size, false, &v));
    return v;
}

static void bar_wr(Fixture *f, int bar, uint64_t off, uint64_t v,
                   unsigned size)
{
    g_assert_true(pci_bar_access(f->d, bar, off, size, true, &v));
}

/* Modern common config through BAR4. */
static uint64_t common_rd(Fixture *f, unsigned off, unsigned size)
{
    return bar_rd(f, 4, off, size);
}

static void common_wr(Fixture *f, unsigned off, uint64_t v, unsigned size)
{
    bar_wr(f, 4, off, v, size);
}

/* --- the PCI face -------------------------------------------------------------- */

static void test_transitional_like_qemu(Fixture *f, gconstpointer u)
{
    g_assert_cmphex(cfg_rd(f, PCI_VENDOR_ID, 2), ==, 0x1af4);
    g_assert_cmphex(cfg_rd(f, PCI_DEVICE_ID, 2), ==, 0x1001);
    g_assert_cmphex(cfg_rd(f, PCI_REVISION_ID, 1), ==, 0);
    g_assert_cmphex(cfg_rd(f, PCI_SUBSYSTEM_VENDOR_ID, 2), ==, 0x1af4);
    g_assert_cmphex(cfg_rd(f, PCI_SUBSYSTEM_ID, 2), ==, 0x0002);
    g_assert_cmphex(cfg_rd(f, PCI_CLASS_REVISION, 4) >> 8, ==, 0x010000);
    g_assert_cmphex(cfg_rd(f, PCI_INTERRUPT_PIN, 1), ==, 1);
    /* BAR0: 128 bytes of I/O. */
    g_assert_cmphex(bar_mask(f, 0), ==, 0xffffff81);
    /* BAR1: 4 KiB for MSI-X. */
    g_assert_cmphex(bar_mask(f, 1), ==, 0xfffff000);
    /* BAR4: 16 KiB, 64-bit prefetchable. */
    g_assert_cmphex(bar_mask(f, 4), ==, 0xffffc00c);
}

static void test_capabilities_at_qemu_offsets(Fixture *f, gconstpointer u)
{
    static const struct {
        uint8_t off, cfg_type;
        uint32_t bar_off;
    } caps[] = {
        { 0x40, VIRTIO_PCI_CAP_COMMON_CFG, 0x0000 },
        { 0x50, VIRTIO_PCI_CAP_ISR_CFG, 0x1000 },
        { 0x60, VIRTIO_PCI_CAP_DEVICE_CFG, 0x2000 },
        { 0x70, VIRTIO_PCI_CAP_NOTIFY_CFG, 0x3000 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(caps); i++) {
        uint8_t o = caps[i].off;

        g_assert_cmphex(cfg_rd(f, o, 1), ==, PCI_CAP_ID_VNDR);
        g_assert_cmphex(cfg_rd(f, o + 3, 1), ==, caps[i].cfg_type);
        g_assert_cmphex(cfg_rd(f, o + 4, 1), ==, 4);
        g_assert_cmphex(cfg_rd(f, o + 8, 4), ==, caps[i].bar_off);
        g_assert_cmphex(cfg_rd(f, o + 12, 4), ==, 0x1000);
    }
    g_assert_cmphex(cfg_rd(f, 0x70 + 2, 1), ==, 20);
    g_assert_cmphex(cfg_rd(f, 0x70 + 16, 4), ==, 4);    /* multiplier */
    g_assert_cmphex(cfg_rd(f, 0x84, 1), ==, PCI_CAP_ID_VNDR);
    g_assert_cmphex(cfg_rd(f, 0x84 + 3, 1), ==, VIRTIO_PCI_CAP_PCI_CFG);
    g_assert_cmphex(cfg_rd(f, 0x84 + 2, 1), ==, 20);
    g_assert_cmphex(pci_find_capability(f->d, PCI_CAP_ID_MSIX), ==, 0x98);
    /* Two vectors: one queue plus config. */
    g_assert_cmphex(cfg_rd(f, 0x98 + PCI_MSIX_FLAGS, 2) & 0x7ff, ==, 1);
}

static void test_modern_only_ids(Fixture *f, gconstpointer u)
{
    g_assert_cmphex(cfg_rd(f, PCI_DEVICE_ID, 2), ==, 0x1042);
    g_assert_cmphex(cfg_rd(f, PCI_REVISION_ID, 1), ==, 1);
    g_assert_cmphex(cfg_rd(f, PCI_SUBSYSTEM_ID, 2), ==, 0x1100);
    g_assert_cmphex(bar_mask(f, 0), ==, 0);
}

static void test_intx_transport_has_no_msix_and_32bit_bar(Fixture *f,
                                                          gconstpointer u)
{
    g_assert_cmphex(pci_find_capability(f->d, PCI_CAP_ID_MSIX), ==, 0);
    g_assert_cmphex(cfg_rd(f, PCI_CAPABILITY_LIST, 1), ==, 0x40);
    g_assert_cmphex(bar_mask(f, 1), ==, 0);
    g_assert_cmphex(bar_mask(f, 4), ==, 0xffffc000);
    g_assert_cmphex(bar_mask(f, 0), ==, 0xffffff81);
}

static void test_neither_interface_is_refused(void)
{
    Fixture f = { 0 };
    g_autoptr(GError) err = NULL;

    fg_init(&f.g, false);
    image_new(&f);
    g_assert_null(device(&f, &full_ops, "disable-legacy=on,"
                         "disable-modern=on", &err));
    g_assert_nonnull(strstr(err->message, "neither modern nor legacy"));
    teardown(&f, NULL);
}

/* --- registers ----------------------------------------------------------------- */

static void test_feature_words(Fixture *f, gconstpointer u)
{
    common_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    g_assert_true(common_rd(f, VIRTIO_PCI_COMMON_DF, 4) &
                  (1u << (VIRTIO_F_VERSION_1 - 32)));
    common_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
    g_assert_true(common_rd(f, VIRTIO_PCI_COMMON_DF, 4) &
                  (1u << VIRTIO_BLK_F_FLUSH));
    g_assert_false(common_rd(f, VIRTIO_PCI_COMMON_DF, 4) &
                   (1u << VIRTIO_F_NOTIFY_ON_EMPTY));
    common_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 2, 4);
    g_assert_cmphex(common_rd(f, VIRTIO_PCI_COMMON_DF, 4), ==, 0);
    /* The legacy view: the low word, with the legacy-only bits. */
    g_assert_true(bar_rd(f, 0, VIRTIO_PCI_HOST_FEATURES, 4) &
                  (1u << VIRTIO_F_NOTIFY_ON_EMPTY));
}

static void test_missing_queue_reads_zero_and_ignores_writes(Fixture *f,
                                                             gconstpointer u)
{
    common_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 7, 2);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 0);
    common_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
    common_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
    common_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 256);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), ==, 1);
}

static void test_queue_size_not_power_of_two_ignored(Fixture *f,
                                                     gconstpointer u)
{
    common_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 100, 2);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 256);
    common_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 64, 2);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 64);
}

static void test_msix_vector_out_of_range_reads_no_vector(Fixture *f,
                                                          gconstpointer u)
{
    common_wr(f, VIRTIO_PCI_COMMON_MSIX, 1, 2);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_MSIX, 2), ==, 1);
    common_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
    g_assert_cmphex(common_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), ==,
                    VIRTIO_MSI_NO_VECTOR);
}

static void test_vectors_without_msix_read_no_vector(Fixture *f,
                                                     gconstpointer u)
{
    common_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 0, 2);
    g_assert_cmphex(common_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), ==,
                    VIRTIO_MSI_NO_VECTOR);
}

static void test_split_access_to_a_32bit_field(Fixture *f, gconstpointer u)
{
    common_wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 0x5678, 2);
    common_wr(f, VIRTIO_PCI_COMMON_Q_DESCLO + 2, 0x1234, 2);
    g_assert_cmphex(common_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), ==,
                    0x12345678);
    g_assert_cmphex(common_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO + 1, 1), ==,
                    0x56);
}

/* --- a request through the BARs ------------------------------------------------ */

typedef struct Ring {
    FakeRing r;
    uint64_t hdr, data, status;
} Ring;

/* A one-sector read request in a new ring of 16 entries. */
static void ring_with_read(Fixture *f, Ring *q)
{
    struct virtio_blk_outhdr h = { .type = htole32(VIRTIO_BLK_T_IN) };

    fr_init(&q->r, &f->g, 16);
    q->hdr = fg_alloc(&f->g, 16, 16);
    q->data = fg_alloc(&f->g, 512, 512);
    q->status = fg_alloc(&f->g, 1, 1);
    memcpy(fg_ptr(&f->g, q->hdr), &h, sizeof(h));
    *(uint8_t *)fg_ptr(&f->g, q->status) = 0xaa;
    fr_desc(&q->r, 0, q->hdr, 16, VRING_DESC_F_NEXT, 1);
    fr_desc(&q->r, 1, q->data, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
            2);
    fr_desc(&q->r, 2, q->status, 1, VRING_DESC_F_WRITE, 0);
}

static void modern_driver_start(Fixture *f, Ring *q)
{
    cfg_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    common_wr(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    common_wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
              VIRTIO_CONFIG_S_DRIVER, 1);
    common_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    common_wr(f, VIRTIO_PCI_COMMON_GF, 1u << (VIRTIO_F_VERSION_1 - 32), 4);
    common_wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
              VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK, 1);
    g_assert_true(common_rd(f, VIRTIO_PCI_COMMON_STATUS, 1) &
                  VIRTIO_CONFIG_S_FEATURES_OK);
    ring_with_read(f, q);
    common_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    common_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
    common_wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, q->r.desc, 4);
    common_wr(f, VIRTIO_PCI_COMMON_Q_AVAILLO, q->r.avail, 4);
    common_wr(f, VIRTIO_PCI_COMMON_Q_USEDLO, q->r.used, 4);
    common_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    common_wr(f, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
              VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
              VIRTIO_CONFIG_S_DRIVER_OK, 1);
}

static void test_request_through_modern_bar_raises_intx(Fixture *f,
                                                        gconstpointer u)
{
    Ring q;

    modern_driver_start(f, &q);
    fr_publish(&q.r, 0);
    bar_wr(f, 4, 0x3000, 0, 2);             /* doorbell of queue 0 */

    g_assert_true(fr_wait_used(&q.r, 1));
    g_assert_cmpuint(*(uint8_t *)fg_ptr(&f->g, q.status), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_true(f->t.level);
    /* Reading the ISR returns the queue bit, clears it, lowers INTx. */
    g_assert_cmphex(bar_rd(f, 4, 0x1000, 1), ==, 1);
    g_assert_false(f->t.level);
    g_assert_cmphex(bar_rd(f, 4, 0x1000, 1), ==, 0);
}

static void test_msix_delivers_vectors_not_intx(Fixture *f, gconstpointer u)
{
    Ring q;

    modern_driver_start(f, &q);
    /* Enable MSI-X, unmask vector 0, give it to queue 0. */
    cfg_wr(f, 0x98 + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
    bar_wr(f, 1, PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
    common_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 0, 2);
    fr_publish(&q.r, 0);
    bar_wr(f, 4, 0x3000, 0, 2);

    g_assert_true(fr_wait_used(&q.r, 1));
    g_assert_cmpint(g_atomic_int_get(&f->t.vectors_sent), ==, 1);
    g_assert_false(f->t.level);
}

static void test_request_through_legacy_bar(Fixture *f, gconstpointer u)
{
    Ring q;
    uint16_t num;

    cfg_wr(f, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    bar_wr(f, 0, VIRTIO_PCI_STATUS, 0, 1);
    bar_wr(f, 0, VIRTIO_PCI_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
           VIRTIO_CONFIG_S_DRIVER, 1);
    bar_wr(f, 0, VIRTIO_PCI_GUEST_FEATURES, 0, 4);
    num = (uint16_t)bar_rd(f, 0, VIRTIO_PCI_QUEUE_NUM, 2);
    g_assert_cmpuint(num, ==, 256);
    /* The legacy layout: one page-aligned area, used ring 4 KiB aligned. */
    {
        uint64_t base = fg_alloc(&f->g, 3 * 4096 + 16 * 256, 4096);
        struct virtio_blk_outhdr h = { .type = htole32(VIRTIO_BLK_T_IN) };

        q.r.g = &f->g;
        q.r.num = num;
        q.r.desc = base;
        q.r.avail = base + 16 * num;
        q.r.used = QR_ALIGN_UP(q.r.avail + 6 + 2 * num, 4096);
        q.r.avail_idx = 0;
        q.hdr = fg_alloc(&f->g, 16, 16);
        q.data = fg_alloc(&f->g, 512, 512);
        q.status = fg_alloc(&f->g, 1, 1);
        memcpy(fg_ptr(&f->g, q.hdr), &h, sizeof(h));
        fr_desc(&q.r, 0, q.hdr, 16, VRING_DESC_F_NEXT, 1);
        fr_desc(&q.r, 1, q.data, 512,
                VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
        fr_desc(&q.r, 2, q.status, 1, VRING_DESC_F_WRITE, 0);
        bar_wr(f, 0, VIRTIO_PCI_QUEUE_SEL, 0, 2);
        bar_wr(f, 0, VIRTIO_PCI_QUEUE_PFN, base >> 12, 4);
    }
    bar_wr(f, 0, VIRTIO_PCI_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
           VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK, 1);
    fr_publish(&q.r, 0);
    bar_wr(f, 0, VIRTIO_PCI_QUEUE_NOTIFY, 0, 2);

    g_assert_true(fr_wait_used(&q.r, 1));
    g_assert_cmpuint(*(uint8_t *)fg_ptr(&f->g, q.status), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmphex(bar_rd(f, 0, VIRTIO_PCI_ISR, 1), ==, 1);
    /* Device config follows the 20-byte header (no MSI-X). */
    g_assert_cmpuint(bar_rd(f, 0, 20, 4), ==, 2048);
}

/* Without iothread= the device's own iothread polls long enough that a busy
 * driver need not ring the doorbell, a round trip through the VMM. */
static void test_private_iothread_polls_past_a_doorbell(Fixture *f,
                                                        gconstpointer u)
{
    IOThread *own = iothread_find("v0-iothread");

    g_assert_nonnull(own);
    g_assert_cmpint(iothread_get_poll_max_ns(own), ==,
                    VIRTIO_PCI_POLL_MAX_NS);
}

/* A named iothread keeps the poll window its -object gave it. */
static void test_named_iothread_keeps_its_window(void)
{
    g_autoptr(GError) err = NULL;
    IOThread *io0 = iothread_create("io0", &err);
    Fixture f;

    g_assert_no_error(err);
    setup_with(&f, &full_ops, "iothread=io0");
    g_assert_null(iothread_find("v0-iothread"));
    g_assert_cmpint(iothread_get_poll_max_ns(io0), ==,
                    IOTHREAD_POLL_MAX_NS_DEFAULT);
    teardown(&f, NULL);
    iothread_destroy(io0);
}

static void test_status_zero_resets(Fixture *f, gconstpointer u)
{
    Ring q;

    modern_driver_start(f, &q);
    common_wr(f, VIRTIO_PCI_COMMON_STATUS, 0, 1);

    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_STATUS, 1), ==, 0);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 256);
}

static void test_function_reset_resets_the_device(Fixture *f,
                                                  gconstpointer u)
{
    Ring q;

    modern_driver_start(f, &q);
    pci_device_reset(f->d);

    g_assert_cmpuint(cfg_rd(f, PCI_COMMAND, 2), ==, 0);
    cfg_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_STATUS, 1), ==, 0);
}

/* --- the PCI_CFG window ---------------------------------------------------------- */

static void window_point(Fixture *f, uint32_t off, uint32_t len)
{
    cfg_wr(f, 0x84 + 4, 4, 1);                  /* bar */
    cfg_wr(f, 0x84 + 8, off, 4);                /* offset */
    cfg_wr(f, 0x84 + 12, len, 4);               /* length */
}

static void test_window_reads_common_config(Fixture *f, gconstpointer u)
{
    window_point(f, VIRTIO_PCI_COMMON_NUMQ, 2);
    g_assert_cmpuint(cfg_rd(f, 0x84 + 16, 2), ==, 1);
    window_point(f, VIRTIO_PCI_COMMON_Q_SIZE, 2);
    g_assert_cmpuint(cfg_rd(f, 0x84 + 16, 2), ==, 256);
}

static void test_window_to_another_bar_does_nothing(Fixture *f,
                                                    gconstpointer u)
{
    cfg_wr(f, 0x84 + 4, 0, 1);
    cfg_wr(f, 0x84 + 8, VIRTIO_PCI_STATUS, 4);
    cfg_wr(f, 0x84 + 12, 1, 4);
    cfg_wr(f, 0x84 + 16, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_STATUS, 1), ==, 0);
}

static void test_window_status_reset_completes(Fixture *f, gconstpointer u)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    Ring q;

    modern_driver_start(f, &q);
    window_point(f, VIRTIO_PCI_COMMON_STATUS, 1);
    cfg_wr(f, 0x84 + 16, 0, 1);

    /* The reset runs in the background; the driver polls for 0. */
    while (cfg_rd(f, 0x84 + 16, 1) != 0) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
    g_assert_cmpuint(common_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
}

typedef struct Setup {
    const PCITransportOps *ops;
    const char *props;
} Setup;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    const Setup *s = data;

    setup_with(f, s->ops, s->props);
}

static const Setup full = { &full_ops, NULL };
static const Setup intx = { &intx_ops, NULL };
static const Setup modern_only = { &full_ops, "disable-legacy=on" };

static void add(const char *path, const Setup *s,
                void (*fn)(Fixture *, gconstpointer))
{
    g_test_add(path, Fixture, s, fixture_setup, fn, teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add("/virtio-pci/face/transitional-like-qemu", &full,
        test_transitional_like_qemu);
    add("/virtio-pci/face/capabilities-at-qemu-offsets", &full,
        test_capabilities_at_qemu_offsets);
    add("/virtio-pci/face/modern-only", &modern_only, test_modern_only_ids);
    add("/virtio-pci/face/intx-transport", &intx,
        test_intx_transport_has_no_msix_and_32bit_bar);
    g_test_add_func("/virtio-pci/face/neither-interface",
                    test_neither_interface_is_refused);
    add("/virtio-pci/regs/feature-words", &full, test_feature_words);
    add("/virtio-pci/regs/missing-queue", &full,
        test_missing_queue_reads_zero_and_ignores_writes);
    add("/virtio-pci/regs/queue-size-power-of-two", &full,
        test_queue_size_not_power_of_two_ignored);
    add("/virtio-pci/regs/msix-vector-out-of-range", &full,
        test_msix_vector_out_of_range_reads_no_vector);
    add("/virtio-pci/regs/vectors-without-msix", &intx,
        test_vectors_without_msix_read_no_vector);
    add("/virtio-pci/regs/split-access", &full,
        test_split_access_to_a_32bit_field);
    add("/virtio-pci/io/modern-request-intx", &intx,
        test_request_through_modern_bar_raises_intx);
    add("/virtio-pci/io/msix", &full, test_msix_delivers_vectors_not_intx);
    add("/virtio-pci/io/legacy-request", &intx,
        test_request_through_legacy_bar);
    add("/virtio-pci/iothread/private-polls-past-a-doorbell", &full,
        test_private_iothread_polls_past_a_doorbell);
    g_test_add_func("/virtio-pci/iothread/named-keeps-its-window",
                    test_named_iothread_keeps_its_window);
    add("/virtio-pci/reset/status-zero", &full, test_status_zero_resets);
    add("/virtio-pci/reset/function-reset", &intx,
        test_function_reset_resets_the_device);
    add("/virtio-pci/window/reads-common-config", &full,
        test_window_reads_common_config);
    add("/virtio-pci/window/other-bar-ignored", &full,
        test_window_to_another_bar_does_nothing);
    add("/virtio-pci/window/status-reset", &intx,
        test_window_status_reset_completes);
    return g_test_run();
}
