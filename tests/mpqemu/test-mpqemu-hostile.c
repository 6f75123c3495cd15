/*
 * A hostile VMM on the raw mpqemu socket.  qemu-remote serves two
 * testdevs; the test misbehaves on the first ("victim") connection and
 * checks each time that:
 *   - that connection is closed, with the reason on stderr;
 *   - the second device ("witness") in the same process still answers;
 *   - no fd or file mapping leaked: the process has exactly one fd fewer
 *     (the victim's socket) and the same file mappings as before (the same
 *     total mappings too, where no sanitizer allocator adds its own).
 */
#include "mpqemu-test.h"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

typedef struct Hostile {
    MPQemuTest t;
    MPQemuProxy *victim;
    MPQemuProxy *witness;
    pid_t pid;
    unsigned fds;
    unsigned maps;
    unsigned file_maps;
} Hostile;

typedef struct HostileCase {
    const char *path;
    void (*send)(Hostile *h);
    const char *reason;         /* expected in the logged line */
} HostileCase;

static void hostile_setup(Hostile *h, gconstpointer data)
{
    const char *devices[] = {
        "x-remote-testdev,id=victim", "x-remote-testdev,id=witness", NULL
    };

    if (!mpqemu_test_start(&h->t, devices, NULL)) {
        return;
    }
    h->victim = mpqemu_test_proxy(&h->t, 0);
    h->witness = mpqemu_test_proxy(&h->t, 1);
    h->pid = mpqemu_test_pid(&h->t);
    /* Both connection threads have run once before the baseline. */
    config_read(h->victim, PCI_VENDOR_ID, 2);
    config_read(h->witness, PCI_VENDOR_ID, 2);
    h->fds = proc_count_fds(h->pid);
    h->maps = proc_count_maps(h->pid, false);
    h->file_maps = proc_count_maps(h->pid, true);
}

static void hostile_teardown(Hostile *h, gconstpointer data)
{
    mpqemu_test_stop(&h->t);
}

static void run_case(Hostile *h, gconstpointer data)
{
    const HostileCase *c = data;
    g_autofree char *log = NULL;

    if (!h->victim) {
        return;
    }
    c->send(h);

    g_assert_true(mpqemu_proxy_wait_closed(h->victim, TEST_WAIT_MS));
    log = mpqemu_test_stderr(&h->t);
    g_assert_nonnull(strstr(log, "x-remote-object rvictim: closing the "
                            "connection"));
    g_assert_nonnull(strstr(log, c->reason));
    g_assert_cmphex(config_read(h->witness, PCI_VENDOR_ID, 2), ==,
                    TESTDEV_VENDOR_ID);
    g_assert_cmpuint(proc_count_fds(h->pid), ==, h->fds - 1);
    g_assert_cmpuint(proc_count_maps(h->pid, true), ==, h->file_maps);
#ifndef UNDER_ASAN
    g_assert_cmpuint(proc_count_maps(h->pid, false), ==, h->maps);
#endif
}

/* --- what the hostile VMM sends ---------------------------------------- */

static void send_msg(Hostile *h, int32_t cmd, uint64_t size,
                     const void *payload, size_t len, const int *fds,
                     unsigned nfds)
{
    MPQemuHeader hdr = { .cmd = cmd, .size = size };
    GError *err = NULL;

    mpqemu_proxy_send_raw(h->victim, &hdr, payload, len, fds, nfds, &err);
    g_assert_no_error(err);
}

static int memfd_of(uint64_t size)
{
    int fd = memfd_create("hostile-ram", MFD_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    return fd;
}

static void send_unknown_command(Hostile *h)
{
    send_msg(h, MPQEMU_CMD_MAX, 0, NULL, 0, NULL, 0);
}

static void send_negative_command(Hostile *h)
{
    send_msg(h, -1, 0, NULL, 0, NULL, 0);
}

static void send_ret_to_remote(Hostile *h)
{
    uint64_t v = 0;

    send_msg(h, MPQEMU_CMD_RET, 8, &v, 8, NULL, 0);
}

static void send_size_beyond_maximum(Hostile *h)
{
    /* The remote must not read (or allocate for) 1 GiB of payload. */
    send_msg(h, MPQEMU_CMD_PCI_CFGREAD, 1ULL << 30, NULL, 0, NULL, 0);
}

static void send_config_read_with_oversized_payload(Hostile *h)
{
    uint8_t payload[24] = { 0 };

    send_msg(h, MPQEMU_CMD_PCI_CFGREAD, sizeof(payload), payload,
             sizeof(payload), NULL, 0);
}

static void send_bar_read_with_short_payload(Hostile *h)
{
    uint8_t payload[12] = { 0 };

    send_msg(h, MPQEMU_CMD_BAR_READ, sizeof(payload), payload,
             sizeof(payload), NULL, 0);
}

static void send_device_reset_with_payload(Hostile *h)
{
    uint64_t v = 0;

    send_msg(h, MPQEMU_CMD_DEVICE_RESET, 8, &v, 8, NULL, 0);
}

static void send_config_read_with_fd(Hostile *h)
{
    MPQemuPciConf c = { .addr = 0, .len = 4 };
    int fd = eventfd(0, EFD_CLOEXEC);

    send_msg(h, MPQEMU_CMD_PCI_CFGREAD, sizeof(c), &c, sizeof(c), &fd, 1);
    close(fd);
}

static void send_fd_on_payload_bytes(Hostile *h)
{
    MPQemuHeader hdr = { .cmd = MPQEMU_CMD_PCI_CFGREAD, .size = 12 };
    MPQemuPciConf c = { .addr = 0, .len = 4 };
    int fd = eventfd(0, EFD_CLOEXEC);
    GError *err = NULL;

    mpqemu_proxy_send_bytes(h->victim, &hdr, sizeof(hdr), NULL, 0, &err);
    g_assert_no_error(err);
    mpqemu_proxy_send_bytes(h->victim, &c, sizeof(c), &fd, 1, &err);
    g_assert_no_error(err);
    close(fd);
}

static void send_sysmem_with_n_memfds(Hostile *h, unsigned n)
{
    MPQemuSyncSysmem s = { 0 };
    int fds[MPQEMU_PROXY_MAX_SEND_FDS];
    MPQemuHeader hdr = { .cmd = MPQEMU_CMD_SYNC_SYSMEM, .size = sizeof(s) };
    g_autofree uint8_t *msg = g_malloc(sizeof(hdr) + sizeof(s));
    GError *err = NULL;

    for (unsigned i = 0; i < n; i++) {
        fds[i] = memfd_of(0x1000);
        if (i < MPQEMU_MAX_REGIONS) {
            s.gpas[i] = (uint64_t)i << 20;
            s.sizes[i] = 0x1000;
        }
    }
    memcpy(msg, &hdr, sizeof(hdr));
    memcpy(msg + sizeof(hdr), &s, sizeof(s));
    mpqemu_proxy_send_bytes(h->victim, msg, sizeof(hdr) + sizeof(s), fds, n,
                            &err);
    g_assert_no_error(err);
    for (unsigned i = 0; i < n; i++) {
        close(fds[i]);
    }
}

static void send_sysmem_with_nine_fds(Hostile *h)
{
    send_sysmem_with_n_memfds(h, MPQEMU_MAX_REGIONS + 1);
}

static void send_sysmem_with_more_fds_than_fit(Hostile *h)
{
    send_sysmem_with_n_memfds(h, MPQEMU_MAX_FDS + 4);
}

static void send_sysmem_without_fds(Hostile *h)
{
    MPQemuSyncSysmem s = { .sizes = { 0x1000 } };

    send_msg(h, MPQEMU_CMD_SYNC_SYSMEM, sizeof(s), &s, sizeof(s), NULL, 0);
}

/* One SYNC_SYSMEM with the regions @s describes, each backed by one
 * @fd_size memfd (or by @fd_override when >= 0). */
static void send_sysmem(Hostile *h, MPQemuSyncSysmem *s, unsigned n,
                        uint64_t fd_size, int fd_override)
{
    int fds[MPQEMU_MAX_REGIONS];

    for (unsigned i = 0; i < n; i++) {
        fds[i] = fd_override >= 0 ? dup(fd_override) : memfd_of(fd_size);
    }
    send_msg(h, MPQEMU_CMD_SYNC_SYSMEM, sizeof(*s), s, sizeof(*s), fds, n);
    for (unsigned i = 0; i < n; i++) {
        close(fds[i]);
    }
}

static void send_sysmem_overlapping_regions(Hostile *h)
{
    MPQemuSyncSysmem s = {
        .gpas = { 0, 0x1000 },
        .sizes = { 0x2000, 0x2000 },
    };

    send_sysmem(h, &s, 2, 0x2000, -1);
}

static void send_sysmem_region_beyond_file(Hostile *h)
{
    MPQemuSyncSysmem s = { .sizes = { 1ULL << 40 } };

    send_sysmem(h, &s, 1, 0x1000, -1);
}

static void send_sysmem_offset_beyond_file(Hostile *h)
{
    MPQemuSyncSysmem s = { .sizes = { 0x1000 }, .offsets = { 0x1000 } };

    send_sysmem(h, &s, 1, 0x1000, -1);
}

static void send_sysmem_zero_sized_region(Hostile *h)
{
    MPQemuSyncSysmem s = { .gpas = { 0x1000 } };

    send_sysmem(h, &s, 1, 0x1000, -1);
}

static void send_sysmem_unmappable_fd(Hostile *h)
{
    MPQemuSyncSysmem s = { .sizes = { 0x1000 } };
    int efd = eventfd(0, EFD_CLOEXEC);

    send_sysmem(h, &s, 1, 0, efd);
    close(efd);
}

static void send_sysmem_unaligned_offset(Hostile *h)
{
    MPQemuSyncSysmem s = { .sizes = { 0x1000 }, .offsets = { 0x10 } };

    send_sysmem(h, &s, 1, 0x2000, -1);
}

static void send_sysmem_negative_offset(Hostile *h)
{
    MPQemuSyncSysmem s = { .sizes = { 0x1000 }, .offsets = { -0x1000 } };

    send_sysmem(h, &s, 1, 0x2000, -1);
}

static void send_sysmem_wrapping_region(Hostile *h)
{
    MPQemuSyncSysmem s = {
        .gpas = { 0xfffffffffffff000ULL }, .sizes = { 0x2000 },
    };

    send_sysmem(h, &s, 1, 0x2000, -1);
}

static void send_sysmem_slot_without_fd(Hostile *h)
{
    MPQemuSyncSysmem s = {
        .gpas = { 0, 0x100000 }, .sizes = { 0x1000, 0x1000 },
    };

    send_sysmem(h, &s, 1, 0x1000, -1);
}

static void send_valid_sysmem_then_bad_one(Hostile *h)
{
    MPQemuSyncSysmem good = { .sizes = { 0x10000 } };
    MPQemuSyncSysmem bad = { .sizes = { 0 } };

    /* The first table is mapped; closing must release it. */
    send_sysmem(h, &good, 1, 0x10000, -1);
    config_read(h->victim, PCI_VENDOR_ID, 2);
    g_assert_cmpuint(proc_count_maps(h->pid, true), ==, h->file_maps + 1);
    send_sysmem(h, &bad, 1, 0x1000, -1);
}

static void send_set_irqfd_with_one_fd(Hostile *h)
{
    int fd = eventfd(0, EFD_CLOEXEC);

    send_msg(h, MPQEMU_CMD_SET_IRQFD, 0, NULL, 0, &fd, 1);
    close(fd);
}

static void send_set_irqfd_with_memfds(Hostile *h)
{
    int fds[2] = { memfd_of(0x1000), memfd_of(0x1000) };

    send_msg(h, MPQEMU_CMD_SET_IRQFD, 0, NULL, 0, fds, 2);
    close(fds[0]);
    close(fds[1]);
}

/* Anonymous inodes like eventfds, but never writable: they pass a check
 * of the file type alone. */
static void send_set_irqfd_with_timerfds(Hostile *h)
{
    int fds[2] = {
        timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC),
        timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC),
    };

    send_msg(h, MPQEMU_CMD_SET_IRQFD, 0, NULL, 0, fds, 2);
    close(fds[0]);
    close(fds[1]);
}

static void send_set_irqfd_with_one_eventfd_twice(Hostile *h)
{
    int fd = eventfd(0, EFD_CLOEXEC);
    int fds[2] = { fd, fd };

    send_msg(h, MPQEMU_CMD_SET_IRQFD, 0, NULL, 0, fds, 2);
    close(fd);
}

static void send_config(Hostile *h, int32_t cmd, uint32_t addr, int32_t len)
{
    MPQemuPciConf c = { .addr = addr, .val = 0xffffffff, .len = len };

    send_msg(h, cmd, sizeof(c), &c, sizeof(c), NULL, 0);
}

static void send_config_read_past_end(Hostile *h)
{
    send_config(h, MPQEMU_CMD_PCI_CFGREAD, 0xfe, 4);
}

static void send_config_write_far_past_end(Hostile *h)
{
    send_config(h, MPQEMU_CMD_PCI_CFGWRITE, 0xfffffffe, 4);
}

static void send_config_read_length_zero(Hostile *h)
{
    send_config(h, MPQEMU_CMD_PCI_CFGREAD, 0, 0);
}

static void send_config_read_length_eight(Hostile *h)
{
    send_config(h, MPQEMU_CMD_PCI_CFGREAD, 0, 8);
}

static void send_config_write_negative_length(Hostile *h)
{
    send_config(h, MPQEMU_CMD_PCI_CFGWRITE, 0, -4);
}

static void send_config_read_length_three(Hostile *h)
{
    send_config(h, MPQEMU_CMD_PCI_CFGREAD, 0, 3);
}

static void send_bar(Hostile *h, int32_t cmd, uint64_t addr, uint32_t size,
                     uint8_t memory)
{
    MPQemuBarAccess b = {
        .addr = addr, .size = size, .memory = memory,
    };

    send_msg(h, cmd, sizeof(b), &b, sizeof(b), NULL, 0);
}

static void send_bar_read_size_three(Hostile *h)
{
    send_bar(h, MPQEMU_CMD_BAR_READ, TEST_MMIO_BASE, 3, 1);
}

static void send_bar_write_size_sixteen(Hostile *h)
{
    send_bar(h, MPQEMU_CMD_BAR_WRITE, TEST_MMIO_BASE, 16, 1);
}

static void send_bar_read_wrapping_address(Hostile *h)
{
    send_bar(h, MPQEMU_CMD_BAR_READ, UINT64_MAX - 1, 4, 1);
}

static void send_bar_read_bad_memory_flag(Hostile *h)
{
    send_bar(h, MPQEMU_CMD_BAR_READ, TEST_MMIO_BASE, 4, 2);
}

static void send_half_header_then_close(Hostile *h)
{
    MPQemuHeader hdr = { .cmd = MPQEMU_CMD_PCI_CFGREAD, .size = 12 };
    GError *err = NULL;

    mpqemu_proxy_send_bytes(h->victim, &hdr, 8, NULL, 0, &err);
    g_assert_no_error(err);
    mpqemu_proxy_shutdown_send(h->victim);
}

static void send_half_payload_then_close(Hostile *h)
{
    MPQemuHeader hdr = { .cmd = MPQEMU_CMD_PCI_CFGREAD, .size = 12 };
    MPQemuPciConf c = { .addr = 0, .len = 4 };
    GError *err = NULL;

    mpqemu_proxy_send_raw(h->victim, &hdr, &c, 4, NULL, 0, &err);
    g_assert_no_error(err);
    mpqemu_proxy_shutdown_send(h->victim);
}

static void send_fds_then_close(Hostile *h)
{
    int fd = memfd_of(0x1000);
    GError *err = NULL;

    /* One byte of a header carrying an fd, then nothing. */
    mpqemu_proxy_send_bytes(h->victim, "\0", 1, &fd, 1, &err);
    g_assert_no_error(err);
    close(fd);
    mpqemu_proxy_shutdown_send(h->victim);
}

static const HostileCase cases[] = {
    { "/hostile/unknown-command", send_unknown_command,
      "unknown command 8" },
    { "/hostile/negative-command", send_negative_command,
      "unknown command -1" },
    { "/hostile/ret-sent-to-remote", send_ret_to_remote,
      "RET is a reply" },
    { "/hostile/size-beyond-maximum", send_size_beyond_maximum,
      "exceeds the maximum" },
    { "/hostile/config-read-with-oversized-payload",
      send_config_read_with_oversized_payload,
      "PCI_CFGREAD: payload size 24, expected 12" },
    { "/hostile/bar-read-with-short-payload",
      send_bar_read_with_short_payload,
      "BAR_READ: payload size 12, expected 24" },
    { "/hostile/device-reset-with-payload", send_device_reset_with_payload,
      "DEVICE_RESET: payload size 8, expected 0" },
    { "/hostile/config-read-with-fd", send_config_read_with_fd,
      "PCI_CFGREAD: 1 fds, expected 0" },
    { "/hostile/fd-on-payload-bytes", send_fd_on_payload_bytes,
      "fds attached to the message payload" },
    { "/hostile/sysmem-with-nine-fds", send_sysmem_with_nine_fds,
      "SYNC_SYSMEM: 9 fds, expected 1 to 8" },
    { "/hostile/sysmem-with-more-fds-than-fit",
      send_sysmem_with_more_fds_than_fit, "control data truncated" },
    { "/hostile/sysmem-without-fds", send_sysmem_without_fds,
      "SYNC_SYSMEM: 0 fds, expected 1 to 8" },
    { "/hostile/sysmem-overlapping-regions", send_sysmem_overlapping_regions,
      "overlap" },
    { "/hostile/sysmem-region-beyond-file", send_sysmem_region_beyond_file,
      "extends beyond its backing file" },
    { "/hostile/sysmem-offset-beyond-file", send_sysmem_offset_beyond_file,
      "extends beyond its backing file" },
    { "/hostile/sysmem-zero-sized-region", send_sysmem_zero_sized_region,
      "region 0 is empty" },
    { "/hostile/sysmem-unmappable-fd", send_sysmem_unmappable_fd,
      "not backed by a memory file" },
    { "/hostile/sysmem-unaligned-offset", send_sysmem_unaligned_offset,
      "not page-aligned" },
    { "/hostile/sysmem-negative-offset", send_sysmem_negative_offset,
      "negative offset" },
    { "/hostile/sysmem-wrapping-region", send_sysmem_wrapping_region,
      "wraps around" },
    { "/hostile/sysmem-slot-without-fd", send_sysmem_slot_without_fd,
      "region 1 has no fd but is not empty" },
    { "/hostile/valid-sysmem-then-bad-one", send_valid_sysmem_then_bad_one,
      "region 0 is empty" },
    { "/hostile/set-irqfd-with-one-fd", send_set_irqfd_with_one_fd,
      "SET_IRQFD: 1 fds, expected 2" },
    { "/hostile/set-irqfd-with-memfds", send_set_irqfd_with_memfds,
      "not eventfds" },
    { "/hostile/set-irqfd-with-timerfds", send_set_irqfd_with_timerfds,
      "not eventfds" },
    { "/hostile/set-irqfd-with-one-eventfd-twice",
      send_set_irqfd_with_one_eventfd_twice, "the same eventfd twice" },
    { "/hostile/config-read-past-end", send_config_read_past_end,
      "outside the config space" },
    { "/hostile/config-write-far-past-end", send_config_write_far_past_end,
      "outside the config space" },
    { "/hostile/config-read-length-zero", send_config_read_length_zero,
      "length 0 is not 1, 2 or 4" },
    { "/hostile/config-read-length-eight", send_config_read_length_eight,
      "length 8 is not 1, 2 or 4" },
    { "/hostile/config-write-negative-length",
      send_config_write_negative_length, "length -4 is not 1, 2 or 4" },
    { "/hostile/config-read-length-three", send_config_read_length_three,
      "length 3 is not 1, 2 or 4" },
    { "/hostile/bar-read-size-three", send_bar_read_size_three,
      "size 3 is not 1, 2, 4 or 8" },
    { "/hostile/bar-write-size-sixteen", send_bar_write_size_sixteen,
      "size 16 is not 1, 2, 4 or 8" },
    { "/hostile/bar-read-wrapping-address", send_bar_read_wrapping_address,
      "wraps around" },
    { "/hostile/bar-read-bad-memory-flag", send_bar_read_bad_memory_flag,
      "memory flag 2 is not 0 or 1" },
    { "/hostile/half-header-then-close", send_half_header_then_close,
      "end of file inside the message header" },
    { "/hostile/half-payload-then-close", send_half_payload_then_close,
      "end of file inside the message payload" },
    { "/hostile/fds-then-close", send_fds_then_close,
      "end of file inside the message header" },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* One malloc arena: a thread's first allocation must not add mappings
     * that would read as a leak. */
    g_setenv("MALLOC_ARENA_MAX", "1", TRUE);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_add(cases[i].path, Hostile, &cases[i], hostile_setup,
                   run_case, hostile_teardown);
    }
    return g_test_run();
}
