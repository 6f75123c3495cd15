/*
 * DMA address spaces (hw/core/dma.c): bounds checks, region tables, mapping
 * reuse and release, gating, dirty logging, uaddr translation and limits.
 *
 * Guest memory is memfds; each test names its memfds so /proc/self/maps
 * shows exactly which of their mappings exist.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "hw/dma.h"

#include <sys/eventfd.h>
#include <sys/mman.h>

#define PAGE 4096

static int memfd_new(const char *name, uint64_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    return fd;
}

/* Lines of /proc/self/maps that map memfd @name. */
static unsigned maps_of(const char *name)
{
    g_autofree char *maps = NULL;
    g_autofree char *needle = g_strdup_printf("/memfd:%s ", name);
    unsigned n = 0;

    g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
    for (const char *p = maps; (p = strstr(p, needle)); p++) {
        n++;
    }
    return n;
}

static void fill_fd(int fd, uint64_t offset, uint8_t byte, size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);

    memset(buf, byte, len);
    g_assert_cmpint(pwrite(fd, buf, len, (off_t)offset), ==, (ssize_t)len);
}

static uint8_t fd_byte(int fd, uint64_t offset)
{
    uint8_t b;

    g_assert_cmpint(pread(fd, &b, 1, (off_t)offset), ==, 1);
    return b;
}

static DMARegionDesc region(uint64_t gpa, uint64_t size, int fd,
                            uint64_t offset)
{
    return (DMARegionDesc) {
        .gpa = gpa, .size = size, .fd = fd, .fd_offset = offset,
    };
}

static void test_write_then_read_inside_region(void)
{
    int fd = memfd_new("dma-rw", 4 * PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0x10000, 4 * PAGE, fd, 0);
    char out[6] = "";

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    g_assert_true(dma_write(s, 0x10000 + 100, "hello", 6, NULL));
    g_assert_true(dma_read(s, 0x10000 + 100, out, 6, NULL));

    g_assert_cmpstr(out, ==, "hello");
    g_assert_cmpint(fd_byte(fd, 100), ==, 'h');
    dma_space_free(s);
    close(fd);
}

static void test_access_spanning_adjacent_regions(void)
{
    /* Two regions back to back in guest space, from distant file offsets. */
    int fd = memfd_new("dma-span", 8 * PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r[2] = {
        region(0x0, PAGE, fd, 4 * PAGE),
        region(PAGE, PAGE, fd, 0),
    };
    uint8_t buf[16];

    fill_fd(fd, 5 * PAGE - 8, 0xaa, 8);
    fill_fd(fd, 0, 0xbb, 8);
    g_assert_true(dma_space_set_table(s, r, 2, NULL));

    g_assert_true(dma_read(s, PAGE - 8, buf, 16, NULL));

    for (int i = 0; i < 8; i++) {
        g_assert_cmpint(buf[i], ==, 0xaa);
        g_assert_cmpint(buf[8 + i], ==, 0xbb);
    }
    dma_space_free(s);
    close(fd);
}

static void test_write_spanning_into_gap_touches_nothing(void)
{
    int fd = memfd_new("dma-gap", 4 * PAGE);
    DMASpace *s = dma_space_new("t");
    /* [0, PAGE) and [2*PAGE, 3*PAGE): a one-page hole between. */
    DMARegionDesc r[2] = {
        region(0, PAGE, fd, 0),
        region(2 * PAGE, PAGE, fd, PAGE),
    };
    uint8_t data[16];
    GError *err = NULL;

    memset(data, 0x5a, sizeof(data));
    g_assert_true(dma_space_set_table(s, r, 2, NULL));

    g_assert_false(dma_write(s, PAGE - 8, data, sizeof(data), &err));

    g_assert_nonnull(err);
    g_clear_error(&err);
    /* The part that was inside granted memory was not written either. */
    g_assert_cmpint(fd_byte(fd, PAGE - 8), ==, 0);
    dma_space_free(s);
    close(fd);
}

static void test_read_past_last_region_fails(void)
{
    int fd = memfd_new("dma-end", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0, PAGE, fd, 0);
    uint8_t buf[2];

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));

    g_assert_false(dma_read(s, PAGE - 1, buf, 2, NULL));
    g_assert_true(dma_read(s, PAGE - 2, buf, 2, NULL));
    dma_space_free(s);
    close(fd);
}

static void test_access_at_top_of_address_space_fails(void)
{
    int fd = memfd_new("dma-top", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0, PAGE, fd, 0);
    uint8_t buf[4];
    struct iovec iov;
    DMATable *t;

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));

    t = dma_space_acquire(s);

    /* gpa + len wraps around to inside the region. */
    g_assert_false(dma_read(s, UINT64_MAX - 1, buf, 4, NULL));
    g_assert_null(dma_table_translate(t, UINT64_MAX, 2));
    g_assert_cmpint(dma_table_map_iov(t, UINT64_MAX, 2, &iov, 1), ==, -1);
    dma_table_unref(t);
    dma_space_free(s);
    close(fd);
}

static void test_translate_zero_length_at_region_end(void)
{
    int fd = memfd_new("dma-len0", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0x1000, PAGE, fd, 0);
    g_autoptr(DMATable) t = NULL;

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    t = dma_space_acquire(s);

    g_assert_nonnull(dma_table_translate(t, 0x1000 + PAGE, 0));
    g_assert_null(dma_table_translate(t, 0x1000 + PAGE, 1));
    g_assert_null(dma_table_translate(t, 0x1000 - 1, 1));
    dma_space_free(s);
    close(fd);
}

static void assert_table_rejected(const DMARegionDesc *r, unsigned n)
{
    int keep_fd = memfd_new("dma-keep", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc keep = region(0x100000, PAGE, keep_fd, 0);
    GError *err = NULL;
    uint8_t b;

    g_assert_true(dma_space_set_table(s, &keep, 1, NULL));

    g_assert_false(dma_space_set_table(s, r, n, &err));

    g_assert_nonnull(err);
    g_test_message("rejected: %s", err->message);
    g_clear_error(&err);
    /* The previous table stays in force. */
    g_assert_cmpuint(dma_space_num_regions(s), ==, 1);
    g_assert_true(dma_read(s, 0x100000, &b, 1, NULL));
    dma_space_free(s);
    close(keep_fd);
}

static void test_region_beyond_file_rejected(void)
{
    int fd = memfd_new("dma-short", 2 * PAGE);
    DMARegionDesc r = region(0, 2 * PAGE, fd, PAGE);

    assert_table_rejected(&r, 1);
    close(fd);
}

static void test_region_offset_overflow_rejected(void)
{
    int fd = memfd_new("dma-ovf", PAGE);
    DMARegionDesc r = region(0, PAGE, fd, UINT64_MAX - 10);

    assert_table_rejected(&r, 1);
    close(fd);
}

static void test_overlapping_regions_rejected(void)
{
    int fd = memfd_new("dma-overlap", 4 * PAGE);
    DMARegionDesc r[2] = {
        region(0, 2 * PAGE, fd, 0),
        region(PAGE, 2 * PAGE, fd, 2 * PAGE),
    };

    assert_table_rejected(r, 2);
    close(fd);
}

static void test_empty_region_rejected(void)
{
    int fd = memfd_new("dma-empty", PAGE);
    DMARegionDesc r = region(0, 0, fd, 0);

    assert_table_rejected(&r, 1);
    close(fd);
}

static void test_wrapping_region_rejected(void)
{
    int fd = memfd_new("dma-wrap", 2 * PAGE);
    DMARegionDesc r = region(UINT64_MAX - PAGE + 1, 2 * PAGE, fd, 0);

    assert_table_rejected(&r, 1);
    close(fd);
}

static void test_eventfd_region_rejected(void)
{
    int fd = eventfd(0, EFD_CLOEXEC);
    DMARegionDesc r = region(0, PAGE, fd, 0);

    assert_table_rejected(&r, 1);
    close(fd);
}

static void test_invalid_fd_region_rejected(void)
{
    DMARegionDesc r = region(0, PAGE, -1, 0);

    assert_table_rejected(&r, 1);
}

static void test_unchanged_table_keeps_mappings(void)
{
    int fd = memfd_new("dma-same", 4 * PAGE);
    int fd2 = dup(fd);      /* the VMM sends a new fd number every time */
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0, 4 * PAGE, fd, 0);
    DMARegionDesc r2 = region(0, 4 * PAGE, fd2, 0);
    g_autoptr(DMATable) before = NULL;
    g_autoptr(DMATable) after = NULL;

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    before = dma_space_acquire(s);
    g_assert_cmpuint(maps_of("dma-same"), ==, 1);

    for (int i = 0; i < 100; i++) {
        g_assert_true(dma_space_set_table(s, &r2, 1, NULL));
    }

    after = dma_space_acquire(s);
    g_assert_cmpuint(maps_of("dma-same"), ==, 1);
    g_assert_true(dma_table_translate(before, 0, 1) ==
                  dma_table_translate(after, 0, 1));
    dma_space_free(s);
    close(fd);
    close(fd2);
}

static void test_replaced_region_is_unmapped(void)
{
    int old_fd = memfd_new("dma-old", PAGE);
    int new_fd = memfd_new("dma-new", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r_old = region(0, PAGE, old_fd, 0);
    DMARegionDesc r_new = region(0, PAGE, new_fd, 0);

    g_assert_true(dma_space_set_table(s, &r_old, 1, NULL));
    g_assert_cmpuint(maps_of("dma-old"), ==, 1);

    g_assert_true(dma_space_set_table(s, &r_new, 1, NULL));

    g_assert_cmpuint(maps_of("dma-old"), ==, 0);
    g_assert_cmpuint(maps_of("dma-new"), ==, 1);
    dma_space_free(s);
    g_assert_cmpuint(maps_of("dma-new"), ==, 0);
    close(old_fd);
    close(new_fd);
}

static void test_snapshot_keeps_mapping_until_released(void)
{
    int old_fd = memfd_new("dma-snap", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0, PAGE, old_fd, 0);
    DMATable *snap;
    uint8_t b = 0x42, out = 0;

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    snap = dma_space_acquire(s);

    g_assert_true(dma_space_set_table(s, NULL, 0, NULL));

    /* In-flight work keeps using the table it translated with. */
    g_assert_cmpuint(maps_of("dma-snap"), ==, 1);
    g_assert_true(dma_table_write(snap, 0, &b, 1));
    g_assert_true(dma_table_read(snap, 0, &out, 1));
    g_assert_cmpint(out, ==, 0x42);
    g_assert_false(dma_read(s, 0, &out, 1, NULL));
    dma_table_unref(snap);
    g_assert_cmpuint(maps_of("dma-snap"), ==, 0);
    dma_space_free(s);
    close(old_fd);
}

static void test_mapping_outlives_closed_fd(void)
{
    int fd = memfd_new("dma-closefd", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0, PAGE, fd, 0);
    uint8_t b = 7;

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    close(fd);

    g_assert_true(dma_write(s, 0, &b, 1, NULL));
    dma_space_free(s);
}

static void test_disabled_space_denies_access(void)
{
    int fd = memfd_new("dma-off", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0, PAGE, fd, 0);
    DMATable *before;
    uint8_t b = 1;

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    before = dma_space_acquire(s);

    dma_space_set_enabled(s, false);

    g_assert_false(dma_write(s, 0, &b, 1, NULL));
    g_assert_true(dma_table_write(before, 0, &b, 1));
    /* The grant itself is kept for when bus mastering comes back. */
    g_assert_cmpuint(dma_space_num_regions(s), ==, 1);
    dma_space_set_enabled(s, true);
    g_assert_true(dma_write(s, 0, &b, 1, NULL));
    dma_table_unref(before);
    dma_space_free(s);
    close(fd);
}

static void test_table_replaced_while_disabled_applies_on_enable(void)
{
    int fd = memfd_new("dma-offset", 2 * PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0x4000, PAGE, fd, PAGE);
    uint8_t b;

    dma_space_set_enabled(s, false);
    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    g_assert_false(dma_read(s, 0x4000, &b, 1, NULL));

    dma_space_set_enabled(s, true);

    g_assert_true(dma_read(s, 0x4000, &b, 1, NULL));
    dma_space_free(s);
    close(fd);
}

static void test_dirty_log_marks_written_pages(void)
{
    int fd = memfd_new("dma-dirty", 8 * PAGE);
    int log_fd = memfd_new("dma-log", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0, 8 * PAGE, fd, 0);
    uint8_t data[PAGE + 2] = { 0 };
    g_autoptr(DMATable) t = NULL;

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    g_assert_true(dma_space_set_log(s, log_fd, 0, 1, NULL));
    t = dma_space_acquire(s);
    g_assert_true(dma_table_logging(t));

    /* Pages 1 and 2: from the last byte of page 1 into page 2. */
    g_assert_true(dma_table_write(t, 2 * PAGE - 1, data, 2));
    /* A read marks nothing. */
    g_assert_true(dma_table_read(t, 5 * PAGE, data, 1));
    /* Page 7 through the explicit call. */
    dma_table_mark_dirty(t, 7 * PAGE + 10, 1);
    /* Page 9 is past the one-byte log: ignored, not a fault. */
    dma_table_mark_dirty(t, 9 * PAGE, 1);

    g_assert_cmphex(fd_byte(log_fd, 0), ==, (1u << 1) | (1u << 2) | (1u << 7));
    g_assert_cmphex(fd_byte(log_fd, 1), ==, 0);
    dma_space_free(s);
    close(fd);
    close(log_fd);
}

static void test_dirty_log_beyond_file_rejected(void)
{
    int log_fd = memfd_new("dma-log-short", PAGE);
    DMASpace *s = dma_space_new("t");

    g_assert_false(dma_space_set_log(s, log_fd, PAGE, 1, NULL));
    g_assert_false(dma_space_set_log(s, log_fd, 0, 0, NULL));
    dma_space_free(s);
    close(log_fd);
}

static void test_translate_uaddr_gives_gpa(void)
{
    int fd = memfd_new("dma-uaddr", 4 * PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0x100000, 4 * PAGE, fd, 0);
    g_autoptr(DMATable) t = NULL;
    uint64_t gpa = 0;
    uint8_t *by_uaddr, *by_gpa;

    r.uaddr = 0x7f0000000000;
    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    t = dma_space_acquire(s);

    by_uaddr = dma_table_translate_uaddr(t, 0x7f0000000000 + 0x123, 8, &gpa);
    by_gpa = dma_table_translate(t, 0x100123, 8);

    g_assert_cmphex(gpa, ==, 0x100123);
    g_assert_true(by_uaddr == by_gpa);
    g_assert_null(dma_table_translate_uaddr(t, 0x7f0000000000 + 4 * PAGE - 4,
                                            8, NULL));
    dma_space_free(s);
    close(fd);
}

static void test_translate_uaddr_of_region_without_uaddr_fails(void)
{
    int fd = memfd_new("dma-nouaddr", PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0, PAGE, fd, 0);
    g_autoptr(DMATable) t = NULL;

    g_assert_true(dma_space_set_table(s, &r, 1, NULL));
    t = dma_space_acquire(s);

    /* mpqemu grants carry no VMM address: a small "uaddr" must not hit
     * them as if the region started at virtual address 0. */
    g_assert_null(dma_table_translate_uaddr(t, 0x100, 8, NULL));
    dma_space_free(s);
    close(fd);
}

static void test_overlapping_uaddrs_rejected(void)
{
    int fd = memfd_new("dma-uovl", 4 * PAGE);
    DMARegionDesc r[2] = {
        region(0, 2 * PAGE, fd, 0),
        region(0x100000, 2 * PAGE, fd, 2 * PAGE),
    };

    r[0].uaddr = 0x10000;
    r[1].uaddr = 0x10000 + PAGE;
    assert_table_rejected(r, 2);
    close(fd);
}

static void test_map_iov_splits_at_region_boundary(void)
{
    int fd = memfd_new("dma-iov", 4 * PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r[2] = {
        region(0, PAGE, fd, 0),
        region(PAGE, PAGE, fd, 2 * PAGE),
    };
    g_autoptr(DMATable) t = NULL;
    struct iovec iov[2];

    g_assert_true(dma_space_set_table(s, r, 2, NULL));
    t = dma_space_acquire(s);

    g_assert_cmpint(dma_table_map_iov(t, PAGE - 16, 32, iov, 2), ==, 2);
    g_assert_cmpuint(iov[0].iov_len, ==, 16);
    g_assert_cmpuint(iov[1].iov_len, ==, 16);
    /* One iovec is not enough for a spanning range. */
    g_assert_cmpint(dma_table_map_iov(t, PAGE - 16, 32, iov, 1), ==, -1);
    /* Past the end. */
    g_assert_cmpint(dma_table_map_iov(t, 2 * PAGE - 16, 32, iov, 2), ==, -1);
    dma_space_free(s);
    close(fd);
}

/* DMA_MAX_REGIONS one-page regions at gpa 0, 2 pages, 4 pages, ... */
static DMARegionDesc *many_regions(int fd, unsigned n)
{
    DMARegionDesc *r = g_new0(DMARegionDesc, n);

    for (unsigned i = 0; i < n; i++) {
        r[i] = region((uint64_t)i * 2 * PAGE, PAGE, fd, (uint64_t)i * PAGE);
    }
    return r;
}

static void test_table_at_max_regions_accepted(void)
{
    int fd = memfd_new("dma-max", (DMA_MAX_REGIONS + 1) * PAGE);
    g_autofree DMARegionDesc *r = many_regions(fd, DMA_MAX_REGIONS);
    DMASpace *s = dma_space_new("t");

    g_assert_true(dma_space_set_table(s, r, DMA_MAX_REGIONS, NULL));

    g_assert_cmpuint(dma_space_num_regions(s), ==, DMA_MAX_REGIONS);
    g_assert_cmpuint(maps_of("dma-max"), ==, DMA_MAX_REGIONS);
    dma_space_free(s);
    close(fd);
}

static void test_table_one_past_max_rejected(void)
{
    int fd = memfd_new("dma-max1", (DMA_MAX_REGIONS + 1) * PAGE);
    g_autofree DMARegionDesc *r = many_regions(fd, DMA_MAX_REGIONS + 1);
    DMASpace *s = dma_space_new("t");

    g_assert_false(dma_space_set_table(s, r, DMA_MAX_REGIONS + 1, NULL));

    g_assert_cmpuint(dma_space_num_regions(s), ==, 0);
    g_assert_cmpuint(maps_of("dma-max1"), ==, 0);
    dma_space_free(s);
    close(fd);
}

static void test_add_region_past_max_rejected(void)
{
    int fd = memfd_new("dma-addmax", (DMA_MAX_REGIONS + 1) * PAGE);
    g_autofree DMARegionDesc *r = many_regions(fd, DMA_MAX_REGIONS + 1);
    DMASpace *s = dma_space_new("t");

    g_assert_true(dma_space_set_table(s, r, DMA_MAX_REGIONS, NULL));

    g_assert_false(dma_space_add_region(s, &r[DMA_MAX_REGIONS], NULL));

    g_assert_cmpuint(dma_space_num_regions(s), ==, DMA_MAX_REGIONS);
    g_assert_cmpuint(maps_of("dma-addmax"), ==, DMA_MAX_REGIONS);
    dma_space_free(s);
    close(fd);
}

static void test_add_and_remove_region(void)
{
    int fd = memfd_new("dma-addrem", 2 * PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc a = region(0, PAGE, fd, 0);
    DMARegionDesc b = region(0x10000, PAGE, fd, PAGE);
    uint8_t byte;

    g_assert_true(dma_space_add_region(s, &a, NULL));
    g_assert_true(dma_space_add_region(s, &b, NULL));
    g_assert_false(dma_space_add_region(s, &b, NULL));   /* overlaps itself */
    g_assert_cmpuint(maps_of("dma-addrem"), ==, 2);

    g_assert_true(dma_space_remove_region(s, 0, PAGE, 0, NULL));

    g_assert_false(dma_read(s, 0, &byte, 1, NULL));
    g_assert_true(dma_read(s, 0x10000, &byte, 1, NULL));
    g_assert_cmpuint(maps_of("dma-addrem"), ==, 1);
    g_assert_false(dma_space_remove_region(s, 0, PAGE, 0, NULL));
    dma_space_free(s);
    close(fd);
}

static void test_unaligned_file_offset_maps(void)
{
    int fd = memfd_new("dma-unal", 2 * PAGE);
    DMASpace *s = dma_space_new("t");
    DMARegionDesc r = region(0, PAGE, fd, 100);
    uint8_t b;

    fill_fd(fd, 100, 0x77, 1);
    g_assert_true(dma_space_set_table(s, &r, 1, NULL));

    g_assert_true(dma_read(s, 0, &b, 1, NULL));

    g_assert_cmpint(b, ==, 0x77);
    dma_space_free(s);
    close(fd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dma/write-then-read-inside-region",
                    test_write_then_read_inside_region);
    g_test_add_func("/dma/access-spanning-adjacent-regions",
                    test_access_spanning_adjacent_regions);
    g_test_add_func("/dma/write-spanning-into-gap-touches-nothing",
                    test_write_spanning_into_gap_touches_nothing);
    g_test_add_func("/dma/read-past-last-region-fails",
                    test_read_past_last_region_fails);
    g_test_add_func("/dma/access-at-top-of-address-space-fails",
                    test_access_at_top_of_address_space_fails);
    g_test_add_func("/dma/translate-zero-length-at-region-end",
                    test_translate_zero_length_at_region_end);
    g_test_add_func("/dma/region-beyond-file-rejected",
                    test_region_beyond_file_rejected);
    g_test_add_func("/dma/region-offset-overflow-rejected",
                    test_region_offset_overflow_rejected);
    g_test_add_func("/dma/overlapping-regions-rejected",
                    test_overlapping_regions_rejected);
    g_test_add_func("/dma/empty-region-rejected", test_empty_region_rejected);
    g_test_add_func("/dma/wrapping-region-rejected",
                    test_wrapping_region_rejected);
    g_test_add_func("/dma/eventfd-region-rejected",
                    test_eventfd_region_rejected);
    g_test_add_func("/dma/invalid-fd-region-rejected",
                    test_invalid_fd_region_rejected);
    g_test_add_func("/dma/unchanged-table-keeps-mappings",
                    test_unchanged_table_keeps_mappings);
    g_test_add_func("/dma/replaced-region-is-unmapped",
                    test_replaced_region_is_unmapped);
    g_test_add_func("/dma/snapshot-keeps-mapping-until-released",
                    test_snapshot_keeps_mapping_until_released);
    g_test_add_func("/dma/mapping-outlives-closed-fd",
                    test_mapping_outlives_closed_fd);
    g_test_add_func("/dma/disabled-space-denies-access",
                    test_disabled_space_denies_access);
    g_test_add_func("/dma/table-replaced-while-disabled-applies-on-enable",
                    test_table_replaced_while_disabled_applies_on_enable);
    g_test_add_func("/dma/dirty-log-marks-written-pages",
                    test_dirty_log_marks_written_pages);
    g_test_add_func("/dma/dirty-log-beyond-file-rejected",
                    test_dirty_log_beyond_file_rejected);
    g_test_add_func("/dma/translate-uaddr-gives-gpa",
                    test_translate_uaddr_gives_gpa);
    g_test_add_func("/dma/translate-uaddr-of-region-without-uaddr-fails",
                    test_translate_uaddr_of_region_without_uaddr_fails);
    g_test_add_func("/dma/overlapping-uaddrs-rejected",
                    test_overlapping_uaddrs_rejected);
    g_test_add_func("/dma/map-iov-splits-at-region-boundary",
                    test_map_iov_splits_at_region_boundary);
    g_test_add_func("/dma/table-at-max-regions-accepted",
                    test_table_at_max_regions_accepted);
    g_test_add_func("/dma/table-one-past-max-rejected",
                    test_table_one_past_max_rejected);
    g_test_add_func("/dma/add-region-past-max-rejected",
                    test_add_region_past_max_rejected);
    g_test_add_func("/dma/add-and-remove-region", test_add_and_remove_region);
    g_test_add_func("/dma/unaligned-file-offset-maps",
                    test_unaligned_file_offset_maps);
    return g_test_run();
}
