/*
 * The mpqemu transport with well-behaved VMM traffic: what QEMU 7.2's
 * x-pci-proxy-dev sends (mpqemu.md 2.1-2.4), replies, guest memory, several
 * devices per process and auto-shutdown.
 */
#include "mpqemu-test.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static const char *const one_testdev[] = { "x-remote-testdev,id=t0", NULL };

static void test_realize_probe_sees_testdev(void)
{
    /* The proxy's realize: identity, then 7 BAR registers sized with the
     * all-ones protocol (the 7th is the CardBus CIS pointer). */
    static const uint32_t expect_mask[7] = {
        0xfffff000,                             /* BAR0: 4 KiB memory */
        0xfffffff0 | PCI_BASE_ADDRESS_SPACE_IO, /* BAR1: 16 I/O ports */
        0, 0, 0, 0, 0,
    };
    MPQemuTest t;
    MPQemuProxy *p;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);

    g_assert_cmphex(config_read(p, PCI_VENDOR_ID, 2), ==, TESTDEV_VENDOR_ID);
    g_assert_cmphex(config_read(p, PCI_DEVICE_ID, 2), ==, TESTDEV_DEVICE_ID);
    g_assert_cmphex(config_read(p, PCI_CLASS_DEVICE, 2), ==,
                    TESTDEV_CLASS >> 8);
    g_assert_cmphex(config_read(p, PCI_SUBSYSTEM_ID, 2), ==, 0x1100);
    for (int i = 0; i < 7; i++) {
        uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * i;
        uint32_t orig = config_read(p, reg, 4);

        config_write(p, reg, 0xffffffff, 4);
        g_assert_cmphex(config_read(p, reg, 4), ==, expect_mask[i]);
        config_write(p, reg, orig, 4);
    }
    g_assert_cmphex(config_read(p, PCI_INTERRUPT_PIN, 1), ==, 1);
    mpqemu_test_stop(&t);
}

static void test_no_msi_capabilities_over_mpqemu(void)
{
    const char *devices[] = { "x-remote-testdev,id=t0,msi=on,msix=on", NULL };
    MPQemuTest t;
    MPQemuProxy *p;
    uint8_t cap;

    if (!mpqemu_test_start(&t, devices, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);

    cap = config_read(p, PCI_CAPABILITY_LIST, 1);
    g_assert_cmphex(config_read(p, cap, 1), ==, PCI_CAP_ID_PM);
    g_assert_cmphex(config_read(p, cap + PCI_CAP_LIST_NEXT, 1), ==, 0);
    mpqemu_test_stop(&t);
}

static void test_bar64_device_presents_32bit_bar(void)
{
    const char *devices[] = { "x-remote-testdev,id=t0,bar64=on", NULL };
    MPQemuTest t;
    MPQemuProxy *p;

    if (!mpqemu_test_start(&t, devices, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);

    config_write(p, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
    config_write(p, PCI_BASE_ADDRESS_1, 0xffffffff, 4);

    /* 32-bit non-prefetchable: the proxy would otherwise register BAR1 as
     * a bogus I/O BAR (mpqemu.md 2.1). */
    g_assert_cmphex(config_read(p, PCI_BASE_ADDRESS_0, 4), ==, 0xfffff000);
    g_assert_cmphex(config_read(p, PCI_BASE_ADDRESS_1, 4), ==, 0);
    mpqemu_test_stop(&t);
}

static void test_bar_accesses_at_every_size(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;
    uint64_t v = 0;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);
    testdev_enable(p);

    for (unsigned size = 1; size <= 8; size *= 2) {
        uint64_t addr = TEST_MMIO_BASE + TESTDEV_BUF_OFFSET + 8 * size;
        uint64_t val = 0x0123456789abcdefULL & (size == 8 ? UINT64_MAX :
                       (1ULL << (8 * size)) - 1);

        mpqemu_proxy_bar_write(p, true, addr, size, val, &err);
        g_assert_no_error(err);
        mpqemu_proxy_bar_read(p, true, addr, size, &v, &err);
        g_assert_no_error(err);
        g_assert_cmphex(v, ==, val);
    }
    mpqemu_proxy_bar_write(p, false, TEST_IO_BASE + TESTDEV_IO_SCRATCH, 4,
                           0xcafe, &err);
    g_assert_no_error(err);
    mpqemu_proxy_bar_read(p, false, TEST_IO_BASE + TESTDEV_IO_SCRATCH + 1, 1,
                          &v, &err);
    g_assert_no_error(err);
    g_assert_cmphex(v, ==, 0xca);
    mpqemu_test_stop(&t);
}

static void test_undecoded_bar_access_answers_all_ones(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;
    uint64_t v = 0;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);
    testdev_enable(p);

    /* Where BAR0 was before the guest moved it: a race the VMM can lose. */
    config_write(p, PCI_BASE_ADDRESS_0, TEST_MMIO_BASE + 0x10000, 4);
    mpqemu_proxy_bar_read(p, true, TEST_MMIO_BASE, 4, &v, &err);
    g_assert_no_error(err);
    g_assert_cmphex(v, ==, UINT64_MAX);
    mpqemu_proxy_bar_write(p, true, TEST_MMIO_BASE, 4, 1, &err);
    g_assert_no_error(err);

    /* The connection keeps serving. */
    mpqemu_proxy_bar_read(p, true, TEST_MMIO_BASE + 0x10000, 4, &v, &err);
    g_assert_no_error(err);
    g_assert_cmphex(v, ==, TESTDEV_MAGIC);
    mpqemu_test_stop(&t);
}

static void test_device_reset_restores_power_on_state(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);
    testdev_enable(p);
    testdev_mmio_write(p, TESTDEV_REG_SCRATCH, 0x5a5a);
    config_write(p, PCI_INTERRUPT_LINE, 11, 1);

    mpqemu_proxy_device_reset(p, &err);
    g_assert_no_error(err);

    /* QEMU's remote keeps COMMAND and BARs here (mpqemu.md 3.5). */
    g_assert_cmphex(config_read(p, PCI_COMMAND, 2), ==, 0);
    g_assert_cmphex(config_read(p, PCI_BASE_ADDRESS_0, 4), ==, 0);
    g_assert_cmphex(config_read(p, PCI_INTERRUPT_LINE, 1), ==, 0);
    testdev_enable(p);
    g_assert_cmphex(testdev_mmio_read(p, TESTDEV_REG_SCRATCH), ==, 0);
    mpqemu_test_stop(&t);
}

static void dma_copy(MPQemuProxy *p, uint64_t src, uint64_t dst, uint32_t len)
{
    testdev_mmio_write(p, TESTDEV_REG_DMA_SRC_LO, (uint32_t)src);
    testdev_mmio_write(p, TESTDEV_REG_DMA_SRC_HI, src >> 32);
    testdev_mmio_write(p, TESTDEV_REG_DMA_DST_LO, (uint32_t)dst);
    testdev_mmio_write(p, TESTDEV_REG_DMA_DST_HI, dst >> 32);
    testdev_mmio_write(p, TESTDEV_REG_DMA_LEN, len);
    testdev_mmio_write(p, TESTDEV_REG_DMA_CMD, TESTDEV_DMA_CMD_START);
}

static void test_dma_reaches_granted_ram(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;
    uint8_t *ram;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);
    ram = mpqemu_proxy_ram_new(p, 0, TEST_RAM_SIZE, &err);
    g_assert_no_error(err);
    testdev_enable(p);
    memcpy(ram + 0x2000, "through the memfd", 18);

    dma_copy(p, 0x2000, 0x9000, 18);

    g_assert_cmphex(testdev_mmio_read(p, TESTDEV_REG_DMA_STATUS), ==,
                    TESTDEV_DMA_DONE);
    g_assert_cmpstr((char *)ram + 0x9000, ==, "through the memfd");
    mpqemu_test_stop(&t);
}

static void test_dma_outside_ram_sets_error_status(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);
    mpqemu_proxy_ram_new(p, 0, TEST_RAM_SIZE, &err);
    g_assert_no_error(err);
    testdev_enable(p);

    dma_copy(p, TEST_RAM_SIZE - 8, 0, 16);

    g_assert_cmphex(testdev_mmio_read(p, TESTDEV_REG_DMA_STATUS), ==,
                    TESTDEV_DMA_ERROR |
                    (TESTDEV_DMA_ERR_SRC << TESTDEV_DMA_ERR_SHIFT));
    mpqemu_test_stop(&t);
}

static void test_dma_follows_replaced_table(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;
    uint8_t *ram;
    MPQemuProxyRegion moved;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);
    ram = mpqemu_proxy_ram_new(p, 0, TEST_RAM_SIZE, &err);
    g_assert_no_error(err);
    testdev_enable(p);
    /* Now guest address 0x100000 is the RAM's second half, 0 is gone. */
    moved = (MPQemuProxyRegion) {
        .gpa = 0x100000, .size = TEST_RAM_SIZE / 2,
        .offset = TEST_RAM_SIZE / 2, .fd = mpqemu_proxy_ram_fd(p),
    };
    mpqemu_proxy_sync_sysmem(p, &moved, 1, &err);
    g_assert_no_error(err);
    memcpy(ram + TEST_RAM_SIZE / 2, "moved", 6);

    dma_copy(p, 0x100000, 0x100100, 6);
    g_assert_cmpstr((char *)ram + TEST_RAM_SIZE / 2 + 0x100, ==, "moved");
    dma_copy(p, 0, 0x100000, 6);

    g_assert_cmphex(testdev_mmio_read(p, TESTDEV_REG_DMA_STATUS), ==,
                    TESTDEV_DMA_ERROR |
                    (TESTDEV_DMA_ERR_SRC << TESTDEV_DMA_ERR_SHIFT));
    mpqemu_test_stop(&t);
}

static unsigned memfd_maps(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", (int)pid);
    g_autofree char *maps = NULL;
    unsigned n = 0;

    g_assert_true(g_file_get_contents(path, &maps, NULL, NULL));
    for (const char *s = maps; (s = strstr(s, "memfd:mpqemu-proxy-ram"));
         s++) {
        n++;
    }
    return n;
}

static void test_repeated_identical_sysmem_keeps_one_mapping(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;
    MPQemuProxyRegion r;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);
    mpqemu_proxy_ram_new(p, 0, TEST_RAM_SIZE, &err);
    g_assert_no_error(err);
    r = (MPQemuProxyRegion) {
        .gpa = 0, .size = TEST_RAM_SIZE, .fd = mpqemu_proxy_ram_fd(p),
    };

    /* QEMU re-sends its table ~100 times during a Linux boot. */
    for (int i = 0; i < 100; i++) {
        mpqemu_proxy_sync_sysmem(p, &r, 1, &err);
        g_assert_no_error(err);
    }
    config_read(p, PCI_VENDOR_ID, 2);

    g_assert_cmpuint(memfd_maps(mpqemu_test_pid(&t)), ==, 1);
    mpqemu_test_stop(&t);
}

static void test_sysmem_with_eight_regions_accepted(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;
    MPQemuProxyRegion r[MPQEMU_MAX_REGIONS];
    uint8_t *ram;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);
    ram = mpqemu_proxy_ram_new(p, 0, TEST_RAM_SIZE, &err);
    g_assert_no_error(err);
    /* QEMU's remote rejects 8 (an off-by-one); the payload has 8 slots. */
    for (int i = 0; i < MPQEMU_MAX_REGIONS; i++) {
        r[i] = (MPQemuProxyRegion) {
            .gpa = (uint64_t)i << 20, .size = 0x1000,
            .offset = (uint64_t)i * 0x1000, .fd = mpqemu_proxy_ram_fd(p),
        };
    }
    mpqemu_proxy_sync_sysmem(p, r, MPQEMU_MAX_REGIONS, &err);
    g_assert_no_error(err);
    testdev_enable(p);
    memcpy(ram + 7 * 0x1000, "eighth", 7);

    dma_copy(p, 7ULL << 20, 0, 7);

    g_assert_cmpstr((char *)ram, ==, "eighth");
    mpqemu_test_stop(&t);
}

static void test_pipelined_requests_answered_in_order(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;
    MPQemuPciConf c[3] = {
        { .addr = PCI_VENDOR_ID, .len = 2 },
        { .addr = PCI_DEVICE_ID, .len = 2 },
        { .addr = PCI_INTERRUPT_PIN, .len = 1 },
    };
    uint64_t expect[3] = { TESTDEV_VENDOR_ID, TESTDEV_DEVICE_ID, 1 };
    int sock;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);
    sock = mpqemu_proxy_socket(p);

    for (int i = 0; i < 3; i++) {
        mpqemu_msg_send(sock, MPQEMU_CMD_PCI_CFGREAD, &c[i], sizeof(c[i]),
                        NULL, 0, &err);
        g_assert_no_error(err);
    }
    for (int i = 0; i < 3; i++) {
        uint64_t v, size;

        mpqemu_proxy_recv_ret(p, &v, &size, &err);
        g_assert_no_error(err);
        g_assert_cmpuint(size, ==, 8);
        g_assert_cmphex(v, ==, expect[i]);
    }
    mpqemu_test_stop(&t);
}

static void test_sysmem_between_request_and_reply(void)
{
    MPQemuTest t;
    MPQemuProxy *p;
    GError *err = NULL;
    MPQemuPciConf c = { .addr = PCI_VENDOR_ID, .len = 2 };
    uint64_t v, size;

    if (!mpqemu_test_start(&t, one_testdev, NULL)) {
        return;
    }
    p = mpqemu_test_proxy(&t, 0);

    /* The VMM's main thread may sync memory while a vCPU awaits a RET. */
    mpqemu_msg_send(mpqemu_proxy_socket(p), MPQEMU_CMD_PCI_CFGREAD, &c,
                    sizeof(c), NULL, 0, &err);
    g_assert_no_error(err);
    mpqemu_proxy_ram_new(p, 0, TEST_RAM_SIZE, &err);
    g_assert_no_error(err);

    mpqemu_proxy_recv_ret(p, &v, &size, &err);
    g_assert_no_error(err);
    g_assert_cmphex(v, ==, TESTDEV_VENDOR_ID);
    g_assert_cmphex(config_read(p, PCI_DEVICE_ID, 2), ==, TESTDEV_DEVICE_ID);
    mpqemu_test_stop(&t);
}

static void test_two_devices_served_independently(void)
{
    const char *devices[] = {
        "x-remote-testdev,id=t0", "x-remote-testdev,id=t1", NULL
    };
    MPQemuTest t;
    MPQemuProxy *p0, *p1;

    if (!mpqemu_test_start(&t, devices, NULL)) {
        return;
    }
    p0 = mpqemu_test_proxy(&t, 0);
    p1 = mpqemu_test_proxy(&t, 1);
    testdev_enable(p0);
    testdev_enable(p1);

    testdev_mmio_write(p0, TESTDEV_REG_SCRATCH, 0x1111);
    testdev_mmio_write(p1, TESTDEV_REG_SCRATCH, 0x2222);

    g_assert_cmphex(testdev_mmio_read(p0, TESTDEV_REG_SCRATCH), ==, 0x1111);
    g_assert_cmphex(testdev_mmio_read(p1, TESTDEV_REG_SCRATCH), ==, 0x2222);
    mpqemu_test_stop(&t);
}

static void test_exits_when_last_connection_closes(void)
{
    const char *devices[] = {
        "x-remote-testdev,id=t0", "x-remote-testdev,id=t1", NULL
    };
    MPQemuTest t;
    int status;

    if (!mpqemu_test_start(&t, devices, NULL)) {
        return;
    }
    config_read(mpqemu_test_proxy(&t, 1), PCI_VENDOR_ID, 2);

    qemu_remote_close_proxy(t.remote, 0);
    /* Still serving the other device. */
    g_assert_cmphex(config_read(mpqemu_test_proxy(&t, 1), PCI_VENDOR_ID, 2),
                    ==, TESTDEV_VENDOR_ID);
    qemu_remote_close_proxy(t.remote, 1);

    g_assert_true(qemu_remote_wait(t.remote, TEST_WAIT_MS, &status));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    mpqemu_test_stop(&t);
}

static void test_auto_shutdown_off_keeps_serving_until_signalled(void)
{
    const char *extra[] = { "-machine", "x-remote,auto-shutdown=off", NULL };
    MPQemuTest t;
    int status;

    if (!mpqemu_test_start(&t, one_testdev, extra)) {
        return;
    }
    config_read(mpqemu_test_proxy(&t, 0), PCI_VENDOR_ID, 2);

    qemu_remote_close_proxy(t.remote, 0);

    /* A bounded negative check: it has not exited 200 ms later. */
    g_assert_false(qemu_remote_wait(t.remote, 200, &status));
    kill(mpqemu_test_pid(&t), SIGTERM);
    g_assert_true(qemu_remote_wait(t.remote, TEST_WAIT_MS, &status));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    mpqemu_test_stop(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mpqemu/transport/realize-probe-sees-testdev",
                    test_realize_probe_sees_testdev);
    g_test_add_func("/mpqemu/transport/no-msi-capabilities",
                    test_no_msi_capabilities_over_mpqemu);
    g_test_add_func("/mpqemu/transport/bar64-device-presents-32bit-bar",
                    test_bar64_device_presents_32bit_bar);
    g_test_add_func("/mpqemu/transport/bar-accesses-at-every-size",
                    test_bar_accesses_at_every_size);
    g_test_add_func("/mpqemu/transport/undecoded-bar-access-answers-all-ones",
                    test_undecoded_bar_access_answers_all_ones);
    g_test_add_func("/mpqemu/transport/device-reset-restores-power-on-state",
                    test_device_reset_restores_power_on_state);
    g_test_add_func("/mpqemu/transport/dma-reaches-granted-ram",
                    test_dma_reaches_granted_ram);
    g_test_add_func("/mpqemu/transport/dma-outside-ram-sets-error-status",
                    test_dma_outside_ram_sets_error_status);
    g_test_add_func("/mpqemu/transport/dma-follows-replaced-table",
                    test_dma_follows_replaced_table);
    g_test_add_func("/mpqemu/transport/repeated-sysmem-keeps-one-mapping",
                    test_repeated_identical_sysmem_keeps_one_mapping);
    g_test_add_func("/mpqemu/transport/sysmem-with-eight-regions-accepted",
                    test_sysmem_with_eight_regions_accepted);
    g_test_add_func("/mpqemu/transport/pipelined-requests-answered-in-order",
                    test_pipelined_requests_answered_in_order);
    g_test_add_func("/mpqemu/transport/sysmem-between-request-and-reply",
                    test_sysmem_between_request_and_reply);
    g_test_add_func("/mpqemu/transport/two-devices-served-independently",
                    test_two_devices_served_independently);
    g_test_add_func("/mpqemu/transport/exits-when-last-connection-closes",
                    test_exits_when_last_connection_closes);
    g_test_add_func("/mpqemu/transport/auto-shutdown-off-keeps-serving",
                    test_auto_shutdown_off_keeps_serving_until_signalled);
    return g_test_run();
}
