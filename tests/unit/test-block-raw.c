/*
 * The block layer (block/): -blockdev/-drive parsing and its messages, I/O
 * through io_uring and through the thread pool (aio=threads), O_DIRECT with
 * bounced misaligned buffers, discard and write-zeroes and their fallbacks,
 * host errors reaching the callback as -errno, and image locks that QEMU's
 * own tools respect.
 *
 * The program also runs with QEMU_REMOTE_AIO=threads (a second meson test):
 * then no context uses io_uring at all.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "block/block.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <linux/magic.h>

#define IMG_SIZE (1024 * 1024)
/* A request that never completes fails the test instead of hanging it. */
#define DEADLINE_MS 10000

static char *tmpdir;
static unsigned img_count;

static char *make_image(uint64_t size)
{
    g_autofree char *name = g_strdup_printf("img%u.raw", img_count++);
    char *path = g_build_filename(tmpdir, name, NULL);
    int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    close(fd);
    return path;
}

static KeyValList *opts(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static KeyValList *opts(const char *fmt, ...)
{
    g_autofree char *s = NULL;
    KeyValList *l;
    va_list ap;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    l = keyval_parse(s, NULL, NULL);
    g_assert_nonnull(l);
    return l;
}

static BlockBackend *blockdev(const char *fmt, const char *path)
{
    g_autoptr(KeyValList) o = opts(fmt, path);
    g_autoptr(GError) err = NULL;
    BlockBackend *blk = blockdev_add_keyval(o, &err);

    g_assert_no_error(err);
    return blk;
}

/* The error message blockdev_add_keyval() gives for @text. */
static char *blockdev_error(const char *text)
{
    g_autoptr(KeyValList) o = keyval_parse(text, NULL, NULL);
    GError *err = NULL;
    char *msg;

    g_assert_null(blockdev_add_keyval(o, &err));
    g_assert_nonnull(err);
    msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

static char *drive_error(const char *text)
{
    g_autoptr(KeyValList) o = keyval_parse(text, NULL, NULL);
    GError *err = NULL;
    char *msg;

    g_assert_null(drive_add_keyval(o, &err));
    g_assert_nonnull(err);
    msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

static void file_write(const char *path, uint64_t off, const void *buf,
                       size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    g_assert_cmpint(pwrite(fd, buf, len, (off_t)off), ==, (ssize_t)len);
    close(fd);
}

static void file_read(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    g_assert_cmpint(pread(fd, buf, len, (off_t)off), ==, (ssize_t)len);
    close(fd);
}

/* --- running requests ------------------------------------------------------- */

typedef struct Req {
    BlockRequest breq;
    struct iovec iov[4];
    int ret;
    bool done;
} Req;

static void req_done(BlockRequest *breq, int ret)
{
    Req *r = container_of(breq, Req, breq);

    r->ret = ret;
    r->done = true;
}

static gboolean deadline_hit(gpointer opaque)
{
    *(bool *)opaque = true;
    return G_SOURCE_REMOVE;
}

/* Runs the main context until every request in @reqs is done. */
static void wait_all(Req **reqs, unsigned n)
{
    bool late = false;
    GSource *timer = g_timeout_source_new(DEADLINE_MS);

    g_source_set_callback(timer, deadline_hit, &late, NULL);
    g_source_attach(timer, NULL);
    for (unsigned i = 0; i < n; i++) {
        while (!reqs[i]->done && !late) {
            g_main_context_iteration(NULL, TRUE);
        }
    }
    g_source_destroy(timer);
    g_source_unref(timer);
    g_assert_false(late);
}

static int run(BlockBackend *blk, BlockOp op, uint64_t off, void *buf,
               uint64_t len, unsigned flags)
{
    g_autoptr(GError) err = NULL;
    BlockIOContext *ioc = blk_io_context_get(NULL, &err);
    Req r = { 0 };
    Req *list[] = { &r };

    g_assert_no_error(err);
    r.breq.op = op;
    r.breq.flags = flags;
    r.breq.offset = off;
    r.breq.bytes = len;
    r.breq.cb = req_done;
    if (buf) {
        r.iov[0].iov_base = buf;
        r.iov[0].iov_len = len;
        r.breq.iov = r.iov;
        r.breq.niov = 1;
    }
    blk_submit(blk, ioc, &r.breq);
    g_assert_false(r.done);     /* never completes inside blk_submit */
    wait_all(list, 1);
    blk_io_context_unref(ioc);
    return r.ret;
}

static Device *dummy_device(void)
{
    static const DeviceType type = { .name = "test-device" };
    Device *dev = g_new0(Device, 1);

    dev->type = &type;
    dev->id = g_strdup("dev0");
    return dev;
}

static void dummy_device_free(Device *dev)
{
    g_free(dev->id);
    g_free(dev);
}

/* --- -blockdev and -drive ------------------------------------------------------- */

static void test_blockdev_file_reports_size_and_name(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = blockdev("driver=file,node-name=f0,filename=%s", img);

    g_assert_cmpuint(blk_getlength(blk), ==, IMG_SIZE);
    g_assert_cmpstr(blk_name(blk), ==, "f0");
    g_assert_true(blk_by_name("f0") == blk);
    g_assert_false(blk_is_read_only(blk));
    g_assert_cmpuint(blk_get_request_alignment(blk), ==, 1);
    blockdev_close_all();
    g_assert_null(blk_by_name("f0"));
}

static void test_blockdev_raw_over_named_and_inline_file(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *raw, *inline_raw;

    blockdev("driver=file,node-name=f1,filename=%s", img);
    raw = blockdev("driver=raw,node-name=r1,file=f1,offset=4096,size=8192",
                   NULL);
    inline_raw = blockdev("driver=raw,node-name=r2,file.driver=file,"
                          "file.filename=%s,file.locking=off,read-only=on",
                          img);

    g_assert_cmpuint(blk_getlength(raw), ==, 8192);
    g_assert_cmpuint(blk_getlength(inline_raw), ==, IMG_SIZE);
    g_assert_true(blk_is_read_only(inline_raw));
    blockdev_close_all();
}

static void assert_msg(char *msg, const char *expected)
{
    g_assert_cmpstr(msg, ==, expected);
    g_free(msg);
}

static void test_blockdev_errors_read_like_qemu(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    g_autofree char *s = NULL;

    assert_msg(blockdev_error("node-name=a"),
               "Parameter 'driver' is missing");
    assert_msg(blockdev_error("driver=qcow3,node-name=a"),
               "Parameter 'driver' does not accept value 'qcow3'");
    assert_msg(blockdev_error("driver=file,filename=x"),
               "'node-name' must be specified for the root node");
    assert_msg(blockdev_error("driver=file,node-name=a"),
               "Parameter 'filename' is missing");
    assert_msg(blockdev_error("driver=file,node-name=a,filename=/nonexistent"),
               "Could not open '/nonexistent': No such file or directory");
    s = g_strdup_printf("driver=file,node-name=a,filename=%s,foo=1", img);
    assert_msg(blockdev_error(s), "Parameter 'foo' is unexpected");
    g_free(s);
    s = g_strdup_printf("driver=file,node-name=a,filename=%s,locking=maybe",
                        img);
    assert_msg(blockdev_error(s),
               "Parameter 'locking' does not accept value 'maybe'");
    g_free(s);
    s = g_strdup_printf("driver=file,node-name=a,filename=%s,read-only=maybe",
                        img);
    assert_msg(blockdev_error(s),
               "Parameter 'read-only' expects 'on' or 'off'");
    g_free(s);
    s = g_strdup_printf("driver=file,node-name=a,filename=%s,force-share=on",
                        img);
    assert_msg(blockdev_error(s),
               "force-share=on can only be used with read-only images");
    assert_msg(blockdev_error("driver=raw,node-name=r,file=nope"),
               "Cannot find device='nope' nor node-name='nope'");
    assert_msg(blockdev_error("driver=raw,node-name=r"),
               "A block device must be specified for \"file\"");
    g_free(s);
    s = g_strdup_printf("driver=raw,node-name=r,file.filename=%s", img);
    assert_msg(blockdev_error(s), "Parameter 'file.driver' is missing");
    g_free(s);
    s = g_strdup_printf("driver=raw,node-name=r,file.driver=file,"
                        "file.filename=%s,size=1000", img);
    assert_msg(blockdev_error(s), "Specified size is not multiple of 512");
    g_free(s);
    s = g_strdup_printf("driver=raw,node-name=r,file.driver=file,"
                        "file.filename=%s,offset=512,size=%u", img, IMG_SIZE);
    assert_msg(blockdev_error(s), "The sum of offset (512) and size "
               "(1048576) has to be smaller or equal to the actual size of "
               "the containing file (1048576)");
    g_free(s);
    s = g_strdup_printf("driver=file,node-name=dup,filename=%s", img);
    blockdev(s, NULL);
    assert_msg(blockdev_error(s), "Duplicate nodes with node-name='dup'");
    blockdev_close_all();
}

static void test_drive_creates_raw_node_named_by_id(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    g_autoptr(KeyValList) o =
        opts("if=none,id=d0,file=%s,format=raw,readonly=on", img);
    BlockBackend *blk = drive_add_keyval(o, NULL);

    g_assert_nonnull(blk);
    g_assert_true(blk_by_name("d0") == blk);
    g_assert_true(blk_is_read_only(blk));
    g_assert_true(blk_enable_write_cache(blk));
    blockdev_close_all();
}

static void test_drive_cache_modes(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    g_autoptr(KeyValList) wt =
        opts("if=none,id=wt,file=%s,format=raw,cache=writethrough,"
             "file.locking=off", img);
    g_autoptr(KeyValList) none =
        opts("if=none,id=nc,file=%s,format=raw,cache=none,file.locking=off",
             img);
    BlockBackend *a = drive_add_keyval(wt, NULL);
    BlockBackend *b = drive_add_keyval(none, NULL);

    g_assert_false(blk_enable_write_cache(a));
    g_assert_cmpuint(blk_get_request_alignment(a), ==, 1);
    g_assert_true(blk_enable_write_cache(b));
    /* O_DIRECT: the filesystem's alignment, at least a sector. */
    g_assert_cmpuint(blk_get_request_alignment(b), >=, 512);
    blockdev_close_all();
}

static void test_drive_errors_read_like_qemu(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    g_autofree char *s = NULL;
    g_autoptr(KeyValList) o = NULL;

    s = g_strdup_printf("if=none,id=d0,file=%s,format=qcow9", img);
    assert_msg(drive_error(s), "Unknown driver 'qcow9'");
    g_free(s);
    s = g_strdup_printf("if=none,id=d0,file=%s,format=raw,cache=bogus", img);
    assert_msg(drive_error(s), "invalid cache option");
    g_free(s);
    s = g_strdup_printf("if=none,id=d0,file=%s,format=raw,bogus=1", img);
    assert_msg(drive_error(s),
               "Block format 'raw' does not support the option 'bogus'");
    assert_msg(drive_error("if=none,id=d0,format=raw"),
               "A block device must be specified for \"file\"");
    g_free(s);
    s = g_strdup_printf("if=none,id=d0,file=%s,format=raw", img);
    o = keyval_parse(s, NULL, NULL);
    g_assert_nonnull(drive_add_keyval(o, NULL));
    assert_msg(drive_error(s), "Duplicate ID 'd0' for drive");
    blockdev_close_all();
}

/* --- I/O ------------------------------------------------------------------------ */

static const char *aio_mode(void)
{
    return g_test_get_path() && strstr(g_test_get_path(), "/threads/")
           ? "threads" : "io_uring";
}

static BlockBackend *io_node(const char *img, const char *extra)
{
    g_autoptr(KeyValList) o = NULL;
    BlockBackend *blk;
    GError *err = NULL;

    /* aio=io_uring would fail where io_uring is disabled; the default
     * picks it when it can. */
    o = opts("driver=file,node-name=io,filename=%s%s%s%s", img,
             g_str_equal(aio_mode(), "threads") ? ",aio=threads" : "",
             extra ? "," : "", extra ? extra : "");
    blk = blockdev_add_keyval(o, &err);
    g_assert_no_error(err);
    return blk;
}

static void test_write_then_read_round_trip(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);
    uint8_t out[8192], in[8192], file[8192];

    for (size_t i = 0; i < sizeof(out); i++) {
        out[i] = (uint8_t)(i * 7 + 3);
    }
    g_assert_cmpint(run(blk, BLOCK_OP_WRITE, 65536, out, sizeof(out), 0),
                    ==, 0);
    g_assert_cmpint(run(blk, BLOCK_OP_READ, 65536, in, sizeof(in), 0), ==,
                    0);

    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
    file_read(img, 65536, file, sizeof(file));
    g_assert_cmpmem(file, sizeof(file), out, sizeof(out));
    blockdev_close_all();
}

static void test_many_requests_beyond_one_batch_complete(void)
{
    /* More than the ring's 256 submission entries at once. */
    enum { N = 300 };
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);
    g_autoptr(GError) err = NULL;
    BlockIOContext *ioc = blk_io_context_get(NULL, &err);
    g_autofree Req *reqs = g_new0(Req, N);
    g_autofree Req **list = g_new(Req *, N);
    g_autofree uint8_t *bufs = g_malloc(N * 512);

    blk_io_plug(ioc);
    for (unsigned i = 0; i < N; i++) {
        reqs[i].iov[0].iov_base = bufs + i * 512;
        reqs[i].iov[0].iov_len = 512;
        reqs[i].breq.op = BLOCK_OP_READ;
        reqs[i].breq.offset = i * 512;
        reqs[i].breq.iov = reqs[i].iov;
        reqs[i].breq.niov = 1;
        reqs[i].breq.cb = req_done;
        list[i] = &reqs[i];
        blk_submit(blk, ioc, &reqs[i].breq);
    }
    blk_io_unplug(ioc);
    wait_all(list, N);

    for (unsigned i = 0; i < N; i++) {
        g_assert_cmpint(reqs[i].ret, ==, 0);
    }
    g_assert_cmpuint(blk_io_context_in_flight(ioc), ==, 0);
    blk_io_context_unref(ioc);
    blockdev_close_all();
}

static void test_wait_drains_without_the_main_loop(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);
    g_autoptr(GError) err = NULL;
    BlockIOContext *ioc = blk_io_context_get(NULL, &err);
    Req reqs[8] = { 0 };
    uint8_t buf[8][512];

    for (unsigned i = 0; i < 8; i++) {
        reqs[i].iov[0] = (struct iovec) { buf[i], 512 };
        reqs[i].breq = (BlockRequest) {
            .op = BLOCK_OP_READ, .offset = i * 512, .iov = reqs[i].iov,
            .niov = 1, .cb = req_done,
        };
        blk_submit(blk, ioc, &reqs[i].breq);
    }

    while (blk_io_context_in_flight(ioc) > 0) {
        blk_io_context_wait(ioc);
    }

    for (unsigned i = 0; i < 8; i++) {
        g_assert_true(reqs[i].done);
    }
    blk_io_context_unref(ioc);
    blockdev_close_all();
}

static unsigned batches;

static void count_batch(void *opaque)
{
    batches++;
}

static void test_batch_notifier_runs_after_completions(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);
    g_autoptr(GError) err = NULL;
    BlockIOContext *ioc = blk_io_context_get(NULL, &err);
    uint8_t buf[512];

    batches = 0;
    blk_io_context_add_batch_notifier(ioc, count_batch, NULL);
    g_assert_cmpint(run(blk, BLOCK_OP_READ, 0, buf, sizeof(buf), 0), ==, 0);
    g_assert_cmpuint(batches, >=, 1);
    blk_io_context_remove_batch_notifier(ioc, count_batch, NULL);
    blk_io_context_unref(ioc);
    blockdev_close_all();
}

static void test_read_past_the_end_fails_einval(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);
    uint8_t buf[1024];

    g_assert_cmpint(run(blk, BLOCK_OP_READ, IMG_SIZE - 512, buf, sizeof(buf),
                        0), ==, -EINVAL);
    g_assert_cmpint(run(blk, BLOCK_OP_WRITE_ZEROES, UINT64_MAX - 511, NULL,
                        512, 0), ==, -EINVAL);
    blockdev_close_all();
}

static void test_write_to_read_only_node_fails_erofs(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, "read-only=on");
    uint8_t buf[512] = { 1 };

    g_assert_cmpint(run(blk, BLOCK_OP_WRITE, 0, buf, sizeof(buf), 0), ==,
                    -EROFS);
    g_assert_cmpint(run(blk, BLOCK_OP_DISCARD, 0, NULL, 512, 0), ==, -EROFS);
    g_assert_cmpint(run(blk, BLOCK_OP_WRITE_ZEROES, 0, NULL, 512, 0), ==,
                    -EROFS);
    blockdev_close_all();
}

static void test_flush_succeeds(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);

    g_assert_cmpint(run(blk, BLOCK_OP_FLUSH, 0, NULL, 0, 0), ==, 0);
    blockdev_close_all();
}

static void fill_file(const char *img, uint64_t off, uint8_t byte, size_t len)
{
    g_autofree uint8_t *b = g_malloc(len);

    memset(b, byte, len);
    file_write(img, off, b, len);
}

static bool file_range_is(const char *img, uint64_t off, uint8_t byte,
                          size_t len)
{
    g_autofree uint8_t *b = g_malloc(len);

    file_read(img, off, b, len);
    for (size_t i = 0; i < len; i++) {
        if (b[i] != byte) {
            return false;
        }
    }
    return true;
}

/* A lone write held in a plugged batch joins the ring when more requests
 * follow; every write of the batch lands exactly where it was aimed. */
static void test_writes_in_one_plugged_batch_all_land(void)
{
    enum { N = 3 };
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);
    g_autoptr(GError) err = NULL;
    BlockIOContext *ioc = blk_io_context_get(NULL, &err);
    Req reqs[N] = { 0 };
    Req *list[N];
    uint8_t buf[N][4096];

    blk_io_plug(ioc);
    for (unsigned i = 0; i < N; i++) {
        memset(buf[i], 0xa0 + i, sizeof(buf[i]));
        reqs[i].iov[0] = (struct iovec) { buf[i], sizeof(buf[i]) };
        reqs[i].breq = (BlockRequest) {
            .op = BLOCK_OP_WRITE, .offset = i * 8192, .iov = reqs[i].iov,
            .niov = 1, .cb = req_done,
        };
        list[i] = &reqs[i];
        blk_submit(blk, ioc, &reqs[i].breq);
    }
    blk_io_unplug(ioc);
    wait_all(list, N);

    for (unsigned i = 0; i < N; i++) {
        g_assert_cmpint(reqs[i].ret, ==, 0);
        g_assert_true(file_range_is(img, i * 8192, 0xa0 + i, 4096));
        g_assert_true(file_range_is(img, i * 8192 + 4096, 0, 4096));
    }
    g_assert_cmpuint(blk_io_context_in_flight(ioc), ==, 0);
    blk_io_context_unref(ioc);
    blockdev_close_all();
}

static void test_write_zeroes_clears_the_range(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);

    fill_file(img, 0, 0xab, 3 * 4096);
    g_assert_cmpint(run(blk, BLOCK_OP_WRITE_ZEROES, 4096, NULL, 4096, 0), ==,
                    0);
    g_assert_true(file_range_is(img, 0, 0xab, 4096));
    g_assert_true(file_range_is(img, 4096, 0, 4096));
    g_assert_true(file_range_is(img, 8192, 0xab, 4096));
    blockdev_close_all();
}

static void test_write_zeroes_may_unmap_punches_with_discard_unmap(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, "discard=unmap");

    fill_file(img, 0, 0xcd, 8192);
    g_assert_cmpint(run(blk, BLOCK_OP_WRITE_ZEROES, 0, NULL, 8192,
                        BLOCK_REQ_MAY_UNMAP), ==, 0);
    g_assert_true(file_range_is(img, 0, 0, 8192));
    blockdev_close_all();
}

static uint64_t allocated_bytes(const char *img)
{
    struct stat st;

    g_assert_cmpint(stat(img, &st), ==, 0);
    return (uint64_t)st.st_blocks * 512;
}

static void test_discard_unmap_frees_space(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, "discard=unmap");
    uint64_t before;

    fill_file(img, 0, 0xee, 64 * 1024);
    before = allocated_bytes(img);
    g_assert_cmpint(run(blk, BLOCK_OP_DISCARD, 0, NULL, 64 * 1024, 0), ==, 0);
    g_assert_cmpuint(allocated_bytes(img), <, before);
    blockdev_close_all();
}

static void test_discard_ignore_keeps_data(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);

    fill_file(img, 0, 0xee, 4096);
    g_assert_cmpint(run(blk, BLOCK_OP_DISCARD, 0, NULL, 4096, 0), ==, 0);
    g_assert_true(file_range_is(img, 0, 0xee, 4096));
    blockdev_close_all();
}

static void test_write_zeroes_falls_back_without_zero_range(void)
{
    /* tmpfs implements hole punching but not FALLOC_FL_ZERO_RANGE, so the
     * request ends up writing zeroes. */
    struct statfs sfs;
    g_autofree char *img = NULL;
    BlockBackend *blk;
    int fd;

    if (statfs("/dev/shm", &sfs) < 0 || sfs.f_type != TMPFS_MAGIC) {
        g_test_skip("no tmpfs at /dev/shm");
        return;
    }
    img = g_strdup_printf("/dev/shm/qr-test-zero-range-%d", (int)getpid());
    fd = open(img, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
    close(fd);
    blk = io_node(img, NULL);
    fill_file(img, 0, 0x5a, 8192);

    g_assert_cmpint(run(blk, BLOCK_OP_WRITE_ZEROES, 0, NULL, 4096, 0), ==, 0);

    g_assert_true(file_range_is(img, 0, 0, 4096));
    g_assert_true(file_range_is(img, 4096, 0x5a, 4096));
    blockdev_close_all();
    unlink(img);
}

static void test_odirect_misaligned_buffer_is_bounced(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, "cache.direct=on");
    g_autofree uint8_t *mem = g_malloc(2 * 8192 + 1);
    uint8_t *odd = mem + 1;     /* never sector-aligned */
    uint8_t file[8192];

    for (unsigned i = 0; i < 8192; i++) {
        odd[i] = (uint8_t)(i ^ 0x5c);
    }
    g_assert_cmpint(run(blk, BLOCK_OP_WRITE, 8192, odd, 8192, 0), ==, 0);
    file_read(img, 8192, file, sizeof(file));
    g_assert_cmpmem(file, sizeof(file), odd, 8192);

    memset(odd, 0, 8192);
    g_assert_cmpint(run(blk, BLOCK_OP_READ, 8192, odd, 8192, 0), ==, 0);
    g_assert_cmpmem(odd, 8192, file, sizeof(file));
    blockdev_close_all();
}

static void test_odirect_misaligned_offset_fails_einval(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, "cache.direct=on");
    void *buf = NULL;

    g_assert_cmpint(posix_memalign(&buf, 4096, 4096), ==, 0);
    g_assert_cmpint(run(blk, BLOCK_OP_READ, 1, buf, 4096, 0), ==, -EINVAL);
    free(buf);
    blockdev_close_all();
}

static void test_host_error_reaches_callback(void)
{
    /* Past the file-size limit the kernel refuses writes with EFBIG: a
     * host error the block layer must hand back, not die of. */
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *blk = io_node(img, NULL);
    struct rlimit old, lim;
    uint8_t buf[4096] = { 9 };

    g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old), ==, 0);
    lim = old;
    lim.rlim_cur = IMG_SIZE / 2;
    signal(SIGXFSZ, SIG_IGN);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &lim), ==, 0);

    g_assert_cmpint(run(blk, BLOCK_OP_WRITE, IMG_SIZE - 4096, buf,
                        sizeof(buf), 0), ==, -EFBIG);

    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old), ==, 0);
    g_assert_cmpint(run(blk, BLOCK_OP_WRITE, IMG_SIZE - 4096, buf,
                        sizeof(buf), 0), ==, 0);
    blockdev_close_all();
}

static void test_env_disables_io_uring(void)
{
    g_autoptr(GError) err = NULL;
    BlockIOContext *ioc = blk_io_context_get(NULL, &err);
    const char *env = g_getenv("QEMU_REMOTE_AIO");

    g_assert_no_error(err);
    if (env && g_str_equal(env, "threads")) {
        g_assert_false(blk_io_context_uses_io_uring(ioc));
    } else if (!blk_io_context_uses_io_uring(ioc)) {
        g_test_skip("io_uring is not available on this host");
    }
    blk_io_context_unref(ioc);
}

/* --- image locks ----------------------------------------------------------------- */

static void test_second_writer_is_refused_the_write_lock(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    g_autofree char *expected = g_strdup_printf(
        "Failed to get \"write\" lock\nIs another process using the image "
        "[%s]?", img);
    BlockBackend *a = blockdev("driver=file,node-name=wa,filename=%s", img);
    BlockBackend *b = blockdev("driver=file,node-name=wb,filename=%s", img);
    Device *da = dummy_device(), *db = dummy_device();
    g_autoptr(GError) err = NULL;

    g_assert_true(blk_attach_dev(a, da, true, false, NULL));
    g_assert_false(blk_attach_dev(b, db, true, false, &err));
    g_assert_cmpstr(err->message, ==, expected);

    blk_detach_dev(a, da);
    g_assert_true(blk_attach_dev(b, db, true, false, NULL));
    blk_detach_dev(b, db);
    dummy_device_free(da);
    dummy_device_free(db);
    blockdev_close_all();
}

static void test_reader_is_refused_while_a_writer_unshares(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *a = blockdev("driver=file,node-name=wa,filename=%s", img);
    BlockBackend *b = blockdev("driver=file,node-name=rb,filename=%s,"
                               "read-only=on", img);
    Device *da = dummy_device(), *db = dummy_device();
    g_autoptr(GError) err = NULL;

    g_assert_true(blk_attach_dev(a, da, true, false, NULL));
    g_assert_false(blk_attach_dev(b, db, false, false, &err));
    g_assert_true(g_str_has_prefix(err->message,
                                   "Failed to get shared \"write\" lock"));
    blk_detach_dev(a, da);
    dummy_device_free(da);
    dummy_device_free(db);
    blockdev_close_all();
}

static void test_locking_off_lets_two_writers_share(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    BlockBackend *a = blockdev("driver=file,node-name=wa,filename=%s,"
                               "locking=off", img);
    BlockBackend *b = blockdev("driver=file,node-name=wb,filename=%s,"
                               "locking=off", img);
    Device *da = dummy_device(), *db = dummy_device();

    g_assert_true(blk_attach_dev(a, da, true, false, NULL));
    g_assert_true(blk_attach_dev(b, db, true, false, NULL));
    blk_detach_dev(a, da);
    blk_detach_dev(b, db);
    dummy_device_free(da);
    dummy_device_free(db);
    blockdev_close_all();
}

static void test_qemu_io_sees_our_write_lock(void)
{
    g_autofree char *img = make_image(IMG_SIZE);
    g_autofree char *qemu_io = g_find_program_in_path("qemu-io");
    g_autofree char *out = NULL;
    BlockBackend *a;
    Device *da;
    int status = 0;

    if (!qemu_io) {
        g_test_skip("qemu-io is not installed");
        return;
    }
    a = blockdev("driver=file,node-name=wa,filename=%s", img);
    da = dummy_device();
    g_assert_true(blk_attach_dev(a, da, true, false, NULL));

    {
        const char *argv[] = { qemu_io, "-f", "raw", "-c", "write 0 512", img,
                               NULL };

        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                                   G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                   NULL, &out, &status, NULL));
    }
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(out, "Failed to get \"write\" lock"));

    blk_detach_dev(a, da);
    dummy_device_free(da);
    blockdev_close_all();
}

static void add_io_tests(const char *mode)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        { "write-then-read", test_write_then_read_round_trip },
        { "more-than-one-batch", test_many_requests_beyond_one_batch_complete },
        { "wait-drains", test_wait_drains_without_the_main_loop },
        { "plugged-writes-land", test_writes_in_one_plugged_batch_all_land },
        { "batch-notifier", test_batch_notifier_runs_after_completions },
        { "read-past-end-einval", test_read_past_the_end_fails_einval },
        { "write-read-only-erofs", test_write_to_read_only_node_fails_erofs },
        { "flush", test_flush_succeeds },
        { "write-zeroes", test_write_zeroes_clears_the_range },
        { "write-zeroes-may-unmap",
          test_write_zeroes_may_unmap_punches_with_discard_unmap },
        { "write-zeroes-fallback",
          test_write_zeroes_falls_back_without_zero_range },
        { "discard-unmap-frees-space", test_discard_unmap_frees_space },
        { "discard-ignore-keeps-data", test_discard_ignore_keeps_data },
        { "odirect-bounce", test_odirect_misaligned_buffer_is_bounced },
        { "odirect-misaligned-offset",
          test_odirect_misaligned_offset_fails_einval },
        { "host-error-to-callback", test_host_error_reaches_callback },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(tests); i++) {
        g_autofree char *path = g_strdup_printf("/block/%s/%s", mode,
                                                tests[i].name);

        g_test_add_func(path, tests[i].fn);
    }
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("qr-block-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);

    g_test_add_func("/block/opts/blockdev-file",
                    test_blockdev_file_reports_size_and_name);
    g_test_add_func("/block/opts/blockdev-raw",
                    test_blockdev_raw_over_named_and_inline_file);
    g_test_add_func("/block/opts/blockdev-errors",
                    test_blockdev_errors_read_like_qemu);
    g_test_add_func("/block/opts/drive", test_drive_creates_raw_node_named_by_id);
    g_test_add_func("/block/opts/drive-cache-modes", test_drive_cache_modes);
    g_test_add_func("/block/opts/drive-errors",
                    test_drive_errors_read_like_qemu);
    add_io_tests("io_uring");
    add_io_tests("threads");
    g_test_add_func("/block/aio/env-disables-io-uring",
                    test_env_disables_io_uring);
    g_test_add_func("/block/lock/second-writer-refused",
                    test_second_writer_is_refused_the_write_lock);
    g_test_add_func("/block/lock/reader-refused-by-writer",
                    test_reader_is_refused_while_a_writer_unshares);
    g_test_add_func("/block/lock/locking-off-shares",
                    test_locking_off_lets_two_writers_share);
    g_test_add_func("/block/lock/qemu-io-sees-our-lock",
                    test_qemu_io_sees_our_write_lock);

    ret = g_test_run();

    for (unsigned i = 0; i < img_count; i++) {
        g_autofree char *name = g_strdup_printf("img%u.raw", i);
        g_autofree char *path = g_build_filename(tmpdir, name, NULL);

        unlink(path);
    }
    rmdir(tmpdir);
    return ret;
}
