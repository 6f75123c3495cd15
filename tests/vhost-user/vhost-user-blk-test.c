/*
 * Debian's QEMU 7.2 with -device vhost-user-blk-pci against a vhost-user
 * block backend: qemu-remote (-export type=vhost-user-blk), or with
 * VU_BACKEND=qsd qemu-storage-daemon as the reference.
 *
 * The VM runs a BIOS of hlt instructions (vhost starts only in a running
 * VM); libqos's polling virtio-pci driver plays the guest through qtest:
 * it reads the config QEMU got with GET_CONFIG, negotiates features, sets
 * up rings in guest RAM and sets DRIVER_OK, which makes QEMU hand the rings
 * to the backend (SET_VRING_*).  Requests then go from guest RAM to the
 * backend and back without QEMU in the data path; the test polls the used
 * ring and checks the data in the image file.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "libqtest.h"
#include "libqos/virtio-blk.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#define IMAGE_SECTORS       16384           /* 8 MiB */
#define IMAGE_SIZE          ((uint64_t)IMAGE_SECTORS * QVIRTIO_BLK_SECTOR)
#define NUM_QUEUES          2               /* QEMU's num-queues= */
#define SLOT                5
#define DEVFN               (SLOT << 3)
#define SOCKET_TIMEOUT_MS   30000

/* Sectors each story owns. */
enum {
    SECTOR_WRITE = 64,
    SECTOR_QUEUE1 = 128,
    SECTOR_RESTART = 192,
    SECTOR_STOPCONT = 256,
    SECTOR_MULTISEG = 320,
};

static const char *backend;     /* "qemu-remote" or "qsd" */
static char *image;
static char *sock_path;
static GPid backend_pid;
static QTestState *qts;
static QPCIBus bus;
static QVirtioPCIDevice dev;
static char *skip_reason;
static char *setup_error;

static uint8_t pattern_byte(uint64_t sector, unsigned i)
{
    return (sector * 31 + i * 3 + 7) & 0xff;
}

static void fill_pattern(uint8_t *buf, uint64_t sector, unsigned nsectors)
{
    for (unsigned s = 0; s < nsectors; s++) {
        for (unsigned i = 0; i < QVIRTIO_BLK_SECTOR; i++) {
            buf[s * QVIRTIO_BLK_SECTOR + i] = pattern_byte(sector + s, i);
        }
    }
}

/* The image's bytes at @sector, read by the host. */
static void read_image(uint64_t sector, void *buf, size_t len)
{
    int fd = open(image, O_RDONLY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, sector * QVIRTIO_BLK_SECTOR), ==,
                    (ssize_t)len);
    close(fd);
}

static bool start_backend(GError **errp)
{
    g_autofree char *bdev = g_strdup_printf(
        "driver=file,node-name=disk0,filename=%s", image);
    g_autofree char *exp = g_strdup_printf(
        "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,"
        "addr.path=%s,writable=on,num-queues=%d", sock_path, NUM_QUEUES);
    const char *remote = g_getenv("QEMU_REMOTE");
    const char *qsd = g_getenv("QEMU_STORAGE_DAEMON");
    const char *argv[8];
    int64_t deadline;

    if (g_str_equal(backend, "qsd")) {
        argv[0] = qsd ? qsd : "qemu-storage-daemon";
        argv[1] = "--blockdev";
        argv[3] = "--export";
        argv[5] = NULL;
    } else {
        argv[0] = remote ? remote : "qemu-remote";
        argv[1] = "-blockdev";
        argv[3] = "-export";
        /* Sandboxed as in production: the allowlist meets a real VMM. */
        argv[5] = "-sandbox";
        argv[6] = "on";
        argv[7] = NULL;
    }
    argv[2] = bdev;
    argv[4] = exp;
    if (!g_spawn_async(NULL, (char **)argv, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                       NULL, NULL, &backend_pid, errp)) {
        return false;
    }
    deadline = qtest_now_ms() + SOCKET_TIMEOUT_MS;
    while (!g_file_test(sock_path, G_FILE_TEST_EXISTS)) {
        int status;

        if (waitpid(backend_pid, &status, WNOHANG) == backend_pid) {
            backend_pid = 0;
            error_setg(errp, "%s exited before listening", argv[0]);
            return false;
        }
        if (qtest_now_ms() > deadline) {
            error_setg(errp, "%s did not listen on %s", argv[0], sock_path);
            return false;
        }
        g_usleep(10000);
    }
    return true;
}

/* SIGTERM, as a launcher stops a backend; it must exit 0 in time. */
static int stop_backend(void)
{
    int64_t deadline = qtest_now_ms() + 10000;
    int status = 0;

    if (!backend_pid) {
        return -1;
    }
    kill(backend_pid, SIGTERM);
    while (waitpid(backend_pid, &status, WNOHANG) == 0) {
        if (qtest_now_ms() > deadline) {
            kill(backend_pid, SIGKILL);
            waitpid(backend_pid, &status, 0);
            break;
        }
        g_usleep(10000);
    }
    backend_pid = 0;
    return status;
}

static bool setup(GError **errp)
{
    g_autofree char *vmm_args = NULL;
    QTestOptions opts = { .running = true, .ram_size = 256 << 20 };
    int fd;

    image = g_build_filename(qtest_scratch_dir(), "disk.img", NULL);
    sock_path = g_build_filename(qtest_scratch_dir(), "vhost.sock", NULL);
    fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, IMAGE_SIZE) < 0) {
        error_setg_errno(errp, errno, "cannot create %s", image);
        return false;
    }
    close(fd);
    if (!start_backend(errp)) {
        return false;
    }
    vmm_args = g_strdup_printf(
        "-chardev socket,id=vu0,path=%s -device vhost-user-blk-pci,"
        "chardev=vu0,id=vblk0,num-queues=%d,addr=0x%x", sock_path,
        NUM_QUEUES, SLOT);
    opts.vmm_args = vmm_args;
    qts = qtest_start(&opts, errp);
    if (!qts) {
        return false;
    }
    qpci_bus_init(&bus, qts);
    return qvirtio_pci_init(&dev, &bus, DEVFN, true, errp);
}

/* True (the story skipped or failed) when there is nothing to test. */
static bool skipped(void)
{
    if (skip_reason) {
        g_test_skip(skip_reason);
        return true;
    }
    if (setup_error) {
        g_test_message("%s", setup_error);
        g_test_fail();
        return true;
    }
    return false;
}

/* Why @backend cannot be tested here, or NULL. */
static char *backend_missing(void)
{
    g_autofree char *out = NULL;
    const char *remote = g_getenv("QEMU_REMOTE");
    const char *argv[] = { remote, "--print-capabilities", NULL };
    int status = -1;

    if (g_str_equal(backend, "qsd")) {
        g_autofree char *qsd = g_find_program_in_path(
            g_getenv("QEMU_STORAGE_DAEMON") ? g_getenv("QEMU_STORAGE_DAEMON")
                                            : "qemu-storage-daemon");

        return qsd ? NULL : g_strdup("qemu-storage-daemon is not installed");
    }
    if (!remote) {
        return g_strdup("QEMU_REMOTE is not set (run through meson test)");
    }
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL) || !strstr(out, "block")) {
        return g_strdup("qemu-remote has no vhost-user-blk export yet");
    }
    return NULL;
}

/* The features a driver like Linux 6.1 acknowledges, minus what the
 * device does not offer. */
static uint64_t driver_features(void)
{
    uint64_t want = (1ull << VIRTIO_F_VERSION_1) |
                    (1ull << VIRTIO_BLK_F_SEG_MAX) |
                    (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                    (1ull << VIRTIO_BLK_F_FLUSH) |
                    (1ull << VIRTIO_BLK_F_MQ) |
                    (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                    (1ull << VIRTIO_RING_F_EVENT_IDX);

    return want & qvirtio_device_features(&dev);
}

/* Brings the device up with @nqueues rings; returns them. */
static void start_device(QVirtQueue **vqs, unsigned nqueues)
{
    g_assert_true(qvirtio_negotiate(&dev, driver_features()));
    for (unsigned i = 0; i < nqueues; i++) {
        vqs[i] = qvirtqueue_setup(&dev, i, 128);
        g_assert_nonnull(vqs[i]);
    }
    qvirtio_set_driver_ok(&dev);
}

static void stop_device(QVirtQueue **vqs, unsigned nqueues)
{
    g_assert_true(qvirtio_reset(&dev));
    for (unsigned i = 0; i < nqueues; i++) {
        g_free(vqs[i]);
    }
    qtest_guest_alloc_reset(qts);
}

static uint8_t write_sectors(QVirtQueue *vq, uint64_t sector,
                             unsigned nsectors, unsigned segments)
{
    g_autofree uint8_t *buf = g_malloc(nsectors * QVIRTIO_BLK_SECTOR);
    QVirtioBlkReq req;

    fill_pattern(buf, sector, nsectors);
    qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_OUT, sector, buf,
                         nsectors * QVIRTIO_BLK_SECTOR, false);
    return qvirtio_blk_req_run(vq, &req, segments, false, NULL);
}

/* Reads and checks the pattern; returns the status. */
static uint8_t read_and_check(QVirtQueue *vq, uint64_t sector,
                              unsigned nsectors)
{
    size_t len = nsectors * QVIRTIO_BLK_SECTOR;
    g_autofree uint8_t *want = g_malloc(len);
    g_autofree uint8_t *got = g_malloc(len);
    QVirtioBlkReq req;
    uint32_t used_len;
    uint8_t status;

    fill_pattern(want, sector, nsectors);
    qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_IN, sector, NULL, len, true);
    status = qvirtio_blk_req_run(vq, &req, 1, false, &used_len);
    qtest_memread(qts, req.data, got, len);
    g_assert_cmpmem(got, len, want, len);
    g_assert_cmpuint(used_len, ==, len + 1);
    return status;
}

static void test_config_read_shows_the_backend_config(void)
{
    if (skipped()) {
        return;
    }

    g_assert_cmpuint(qvirtio_config_readq(&dev, 0), ==, IMAGE_SECTORS);
    g_assert_cmpuint(qvirtio_config_readl(&dev, 20), ==, 512);
    /* QEMU overrides num_queues with its own property. */
    g_assert_cmpuint(qvirtio_config_readw(&dev, 34), ==, NUM_QUEUES);
    g_assert_cmpuint(qvirtio_config_readl(&dev, 12), >, 0);
}

static void test_features_a_linux_driver_needs_are_offered(void)
{
    uint64_t f;

    if (skipped()) {
        return;
    }
    f = qvirtio_device_features(&dev);

    g_assert_true(f & (1ull << VIRTIO_F_VERSION_1));
    g_assert_true(f & (1ull << VIRTIO_BLK_F_FLUSH));
    g_assert_true(f & (1ull << VIRTIO_BLK_F_MQ));
    g_assert_true(f & (1ull << VIRTIO_BLK_F_BLK_SIZE));
    g_assert_true(f & (1ull << VIRTIO_BLK_F_SEG_MAX));
    g_assert_true(f & (1ull << VIRTIO_RING_F_EVENT_IDX));
    g_assert_false(f & (1ull << VIRTIO_F_RING_PACKED));
    /* bit 30 is vhost-user's own; QEMU must not show it to the guest */
    g_assert_false(f & (1ull << 30));
}

static void test_write_then_read_back(void)
{
    QVirtQueue *vqs[1];
    uint8_t want[4 * QVIRTIO_BLK_SECTOR], got[sizeof(want)];

    if (skipped()) {
        return;
    }
    start_device(vqs, 1);

    g_assert_cmpuint(write_sectors(vqs[0], SECTOR_WRITE, 4, 1), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(read_and_check(vqs[0], SECTOR_WRITE, 4), ==,
                     VIRTIO_BLK_S_OK);

    stop_device(vqs, 1);
    fill_pattern(want, SECTOR_WRITE, 4);
    read_image(SECTOR_WRITE, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
}

static void test_both_queues_serve_requests(void)
{
    QVirtQueue *vqs[NUM_QUEUES];

    if (skipped()) {
        return;
    }
    start_device(vqs, NUM_QUEUES);

    g_assert_cmpuint(write_sectors(vqs[1], SECTOR_QUEUE1, 8, 1), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(read_and_check(vqs[0], SECTOR_QUEUE1, 8), ==,
                     VIRTIO_BLK_S_OK);

    stop_device(vqs, NUM_QUEUES);
}

static void test_multi_segment_and_indirect_requests(void)
{
    QVirtQueue *vqs[1];
    g_autofree uint8_t *buf = g_malloc(16 * QVIRTIO_BLK_SECTOR);
    QVirtioBlkReq req;

    if (skipped()) {
        return;
    }
    start_device(vqs, 1);
    fill_pattern(buf, SECTOR_MULTISEG, 16);
    qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_OUT, SECTOR_MULTISEG, buf,
                         16 * QVIRTIO_BLK_SECTOR, false);

    g_assert_cmpuint(qvirtio_blk_req_run(vqs[0], &req, 5, true, NULL), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(read_and_check(vqs[0], SECTOR_MULTISEG, 16), ==,
                     VIRTIO_BLK_S_OK);

    stop_device(vqs, 1);
}

static void test_flush_completes(void)
{
    QVirtQueue *vqs[1];
    QVirtioBlkReq req;

    if (skipped()) {
        return;
    }
    start_device(vqs, 1);
    qvirtio_blk_req_init(qts, &req, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false);

    g_assert_cmpuint(qvirtio_blk_req_run(vqs[0], &req, 1, false, NULL), ==,
                     VIRTIO_BLK_S_OK);

    stop_device(vqs, 1);
}

/*
 * SeaBIOS then Linux: one queue with few features, a reset, then every
 * queue with the full set — two vhost starts on one connection.
 */
static void test_driver_restart_with_other_features(void)
{
    QVirtQueue *vqs[NUM_QUEUES];

    if (skipped()) {
        return;
    }
    g_assert_true(qvirtio_negotiate(&dev, 1ull << VIRTIO_F_VERSION_1));
    vqs[0] = qvirtqueue_setup(&dev, 0, 128);
    qvirtio_set_driver_ok(&dev);
    g_assert_cmpuint(write_sectors(vqs[0], SECTOR_RESTART, 1, 1), ==,
                     VIRTIO_BLK_S_OK);
    stop_device(vqs, 1);

    start_device(vqs, NUM_QUEUES);

    g_assert_cmpuint(read_and_check(vqs[1], SECTOR_RESTART, 1), ==,
                     VIRTIO_BLK_S_OK);
    stop_device(vqs, NUM_QUEUES);
}

/* VM stop/cont: QEMU stops the rings (GET_VRING_BASE) and restarts them
 * at the bases the backend returned; the ring carries on. */
static void test_vm_stop_and_cont_keep_the_ring_position(void)
{
    QVirtQueue *vqs[1];

    if (skipped()) {
        return;
    }
    start_device(vqs, 1);
    g_assert_cmpuint(write_sectors(vqs[0], SECTOR_STOPCONT, 2, 1), ==,
                     VIRTIO_BLK_S_OK);

    g_assert_true(qtest_qmp_ok(qts, "{'execute': 'stop'}"));
    g_assert_true(qtest_qmp_ok(qts, "{'execute': 'cont'}"));

    g_assert_cmpuint(read_and_check(vqs[0], SECTOR_STOPCONT, 2), ==,
                     VIRTIO_BLK_S_OK);
    stop_device(vqs, 1);
}

/* SIGTERM ends the backend with status 0 (qemu-storage-daemon's
 * behaviour launchers rely on), also with a frontend connected. */
static void test_sigterm_exits_with_status_zero(void)
{
    int status;

    if (skipped()) {
        return;
    }

    status = stop_backend();

    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    backend = g_getenv("VU_BACKEND") ? g_getenv("VU_BACKEND")
                                     : "qemu-remote";
    skip_reason = backend_missing();
    if (!skip_reason && !setup(&err)) {
        setup_error = g_strdup_printf("cannot start %s with QEMU: %s",
                                      backend, err->message);
    }
    g_test_add_func("/vhost-user-blk/config-from-backend",
                    test_config_read_shows_the_backend_config);
    g_test_add_func("/vhost-user-blk/features-for-linux",
                    test_features_a_linux_driver_needs_are_offered);
    g_test_add_func("/vhost-user-blk/write-then-read",
                    test_write_then_read_back);
    g_test_add_func("/vhost-user-blk/both-queues",
                    test_both_queues_serve_requests);
    g_test_add_func("/vhost-user-blk/multi-segment-indirect",
                    test_multi_segment_and_indirect_requests);
    g_test_add_func("/vhost-user-blk/flush", test_flush_completes);
    g_test_add_func("/vhost-user-blk/driver-restart",
                    test_driver_restart_with_other_features);
    g_test_add_func("/vhost-user-blk/stop-cont",
                    test_vm_stop_and_cont_keep_the_ring_position);
    g_test_add_func("/vhost-user-blk/sigterm-exits-0",
                    test_sigterm_exits_with_status_zero);
    ret = g_test_run();
    qtest_quit(qts);
    stop_backend();
    return ret;
}
