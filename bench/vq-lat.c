/*
 * vq-lat: virtio-blk request latency through an mpqemu device process, with
 * a native driver instead of a guest.
 *
 * The driver (this program) plays QEMU's x-pci-proxy-dev and a Linux
 * virtio_blk driver at once: it starts the device process over a
 * socketpair (proxy/), grants it "guest RAM" (a memfd), programs the
 * virtio-pci BAR, initialises the device through the common configuration
 * structure, and then keeps QD requests in flight on queue 0, polling the
 * used ring for completions (no interrupts), kicking through the notify
 * region only when the device asks for it (VIRTIO_RING_F_EVENT_IDX), as
 * Linux does.  Without TCG and the VMM in the way, this isolates what the
 * device process costs per request; it runs unchanged against qemu-remote
 * and against QEMU's own remote (qemu-system-x86_64 -machine x-remote).
 *
 * Usage: vq-lat [-t SECONDS] [-q QD] [-b BLOCK] [-w] [-p PROPS] [-j FILE]
 *               BINARY IMAGE
 *   -w writes instead of reading.  Random BLOCK-aligned offsets in IMAGE.
 *      The device's write cache is on (FLUSH negotiated, as a Linux guest
 *      does), so writes land in the host page cache as a guest's would.
 * Prints IOPS, mean/median/99th percentile latency in µs and kicks per
 * request; -j writes them as JSON.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "proxy/mpqemu-proxy.h"

#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define RAM_SIZE (64u << 20)
/* Where the modern virtio BAR is placed (any free 32-bit MMIO address). */
#define BAR_BASE 0xe0000000ull
#define QUEUE_SIZE 256
#define MAX_QD 128
/* A request not completed after this long means the device is stuck. */
#define STALL_US (10 * G_USEC_PER_SEC)

/* Layout of "guest RAM". */
#define RING_GPA 0x100000ull
#define HDR_GPA 0x200000ull
#define DATA_GPA 0x400000ull
#define MAX_BLOCK (128u << 10)

typedef struct Driver {
    MPQemuProxy *p;
    uint8_t *ram;
    uint64_t common, notify, device;    /* absolute BAR addresses */
    uint32_t notify_mult;
    uint16_t notify_off;
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint16_t avail_idx, used_seen;
    uint64_t kicks;
} Driver;

static bool bar_write(Driver *d, uint64_t addr, unsigned size, uint64_t val)
{
    g_autoptr(GError) err = NULL;

    if (!mpqemu_proxy_bar_write(d->p, true, addr, size, val, &err)) {
        g_printerr("vq-lat: BAR write: %s\n", err->message);
        return false;
    }
    return true;
}

static uint64_t bar_read(Driver *d, uint64_t addr, unsigned size)
{
    g_autoptr(GError) err = NULL;
    uint64_t v = 0;

    if (!mpqemu_proxy_bar_read(d->p, true, addr, size, &v, &err)) {
        g_printerr("vq-lat: BAR read: %s\n", err->message);
    }
    return v;
}

static uint32_t cfg_read(Driver *d, uint32_t off, int len)
{
    uint32_t v = 0;

    mpqemu_proxy_config_read(d->p, off, len, &v, NULL);
    return v;
}

static void cfg_write(Driver *d, uint32_t off, uint32_t val, int len)
{
    mpqemu_proxy_config_write(d->p, off, val, len, NULL);
}

/* Places the BAR the virtio capabilities name, and finds the structures. */
static bool find_structures(Driver *d)
{
    int bar = -1;
    uint64_t base = 0;

    for (uint8_t pos = cfg_read(d, PCI_CAPABILITY_LIST, 1) & ~3u, n = 0;
         pos && n < 48; pos = cfg_read(d, pos + 1, 1) & ~3u, n++) {
        uint8_t type, b;
        uint32_t off;

        if (cfg_read(d, pos, 1) != PCI_CAP_ID_VNDR) {
            continue;
        }
        type = cfg_read(d, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1);
        b = cfg_read(d, pos + VIRTIO_PCI_CAP_BAR, 1);
        off = cfg_read(d, pos + VIRTIO_PCI_CAP_OFFSET, 4);
        if (type < VIRTIO_PCI_CAP_COMMON_CFG ||
            type > VIRTIO_PCI_CAP_DEVICE_CFG) {
            continue;
        }
        if (bar < 0) {
            uint32_t lo = PCI_BASE_ADDRESS_0 + 4 * b;

            bar = b;
            base = BAR_BASE;
            cfg_write(d, lo, (uint32_t)base, 4);
            if ((cfg_read(d, lo, 4) & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                PCI_BASE_ADDRESS_MEM_TYPE_64) {
                cfg_write(d, lo + 4, (uint32_t)(base >> 32), 4);
            }
        } else if (b != bar) {
            g_printerr("vq-lat: virtio structures in several BARs\n");
            return false;
        }
        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG:
            d->common = base + off;
            break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            d->notify = base + off;
            d->notify_mult = cfg_read(d, pos + sizeof(struct virtio_pci_cap),
                                      4);
            break;
        case VIRTIO_PCI_CAP_DEVICE_CFG:
            d->device = base + off;
            break;
        }
    }
    if (!d->common || !d->notify) {
        g_printerr("vq-lat: no modern virtio-pci structures\n");
        return false;
    }
    cfg_write(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    return true;
}

static bool virtio_init(Driver *d, uint16_t qsize)
{
    uint64_t c = d->common, f;
    uint64_t want = (1ull << VIRTIO_F_VERSION_1) |
                    (1ull << VIRTIO_RING_F_EVENT_IDX);

    bar_write(d, c + VIRTIO_PCI_COMMON_STATUS, 1, 0);
    bar_write(d, c + VIRTIO_PCI_COMMON_STATUS, 1,
              VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    bar_write(d, c + VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
    f = bar_read(d, c + VIRTIO_PCI_COMMON_DF, 4);
    bar_write(d, c + VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
    f |= bar_read(d, c + VIRTIO_PCI_COMMON_DF, 4) << 32;
    if ((f & want) != want) {
        g_printerr("vq-lat: device lacks VERSION_1 or EVENT_IDX\n");
        return false;
    }
    /* Linux's driver acks FLUSH when offered and then writes back; a
     * driver without it gets write-through (a flush after every write). */
    want |= f & (1ull << VIRTIO_BLK_F_FLUSH);
    bar_write(d, c + VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    bar_write(d, c + VIRTIO_PCI_COMMON_GF, 4, (uint32_t)want);
    bar_write(d, c + VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    bar_write(d, c + VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(want >> 32));
    bar_write(d, c + VIRTIO_PCI_COMMON_STATUS, 1,
              VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
              VIRTIO_CONFIG_S_FEATURES_OK);
    if (!(bar_read(d, c + VIRTIO_PCI_COMMON_STATUS, 1) &
          VIRTIO_CONFIG_S_FEATURES_OK)) {
        g_printerr("vq-lat: FEATURES_OK refused\n");
        return false;
    }

    bar_write(d, c + VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    if (bar_read(d, c + VIRTIO_PCI_COMMON_Q_SIZE, 2) < qsize) {
        g_printerr("vq-lat: queue 0 smaller than %u\n", qsize);
        return false;
    }
    bar_write(d, c + VIRTIO_PCI_COMMON_Q_SIZE, 2, qsize);
    bar_write(d, c + VIRTIO_PCI_COMMON_Q_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
    d->desc = (void *)(d->ram + RING_GPA);
    d->avail = (void *)(d->ram + RING_GPA + 16 * qsize);
    d->used = (void *)(d->ram + RING_GPA + 0x10000);
    bar_write(d, c + VIRTIO_PCI_COMMON_Q_DESCLO, 4, RING_GPA);
    bar_write(d, c + VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
    bar_write(d, c + VIRTIO_PCI_COMMON_Q_AVAILLO, 4, RING_GPA + 16 * qsize);
    bar_write(d, c + VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
    bar_write(d, c + VIRTIO_PCI_COMMON_Q_USEDLO, 4, RING_GPA + 0x10000);
    bar_write(d, c + VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0);
    d->notify_off = bar_read(d, c + VIRTIO_PCI_COMMON_Q_NOFF, 2);
    bar_write(d, c + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    bar_write(d, c + VIRTIO_PCI_COMMON_STATUS, 1,
              VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
              VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    return true;
}

/* Request slot @i: descriptors 3i (header), 3i+1 (data), 3i+2 (status). */
static void prepare_slot(Driver *d, unsigned i, bool write, uint32_t block,
                         uint64_t sector)
{
    struct virtio_blk_outhdr *h = (void *)(d->ram + HDR_GPA + 32 * i);
    uint16_t n = 3 * i;

    h->type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
    h->ioprio = 0;
    h->sector = sector;
    d->ram[HDR_GPA + 32 * i + 16] = 0xff;
    d->desc[n] = (struct vring_desc) {
        .addr = HDR_GPA + 32 * i, .len = 16, .flags = VRING_DESC_F_NEXT,
        .next = n + 1 };
    d->desc[n + 1] = (struct vring_desc) {
        .addr = DATA_GPA + (uint64_t)MAX_BLOCK * i, .len = block,
        .flags = VRING_DESC_F_NEXT | (write ? 0 : VRING_DESC_F_WRITE),
        .next = n + 2 };
    d->desc[n + 2] = (struct vring_desc) {
        .addr = HDR_GPA + 32 * i + 16, .len = 1,
        .flags = VRING_DESC_F_WRITE };
}

static void publish(Driver *d, uint16_t head, uint16_t qsize)
{
    d->avail->ring[d->avail_idx % qsize] = head;
    d->avail_idx++;
}

/* Makes the new avail entries visible and kicks if the device asked. */
static bool kick(Driver *d, uint16_t old, uint16_t qsize)
{
    uint16_t event;

    __atomic_store_n(&d->avail->idx, d->avail_idx, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* avail_event: the u16 after the used ring's elements. */
    event = __atomic_load_n((uint16_t *)&d->used->ring[qsize],
                            __ATOMIC_ACQUIRE);
    if (!vring_need_event(event, d->avail_idx, old)) {
        return true;
    }
    d->kicks++;
    return bar_write(d, d->notify + (uint64_t)d->notify_off * d->notify_mult,
                     2, 0);
}

/* Reads from @fd until a line ends; false on EOF, error or timeout. */
static bool read_line(int fd)
{
    char c = 0;

    while (c != '\n') {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        if (poll(&pfd, 1, STALL_US / 1000) != 1 || read(fd, &c, 1) != 1) {
            return false;
        }
    }
    return true;
}

/*
 * Waits until the process's main loop has run a QMP command: its start-up
 * is then over, including the system reset QEMU performs from the main
 * loop's first iteration (it resets every device, BARs included, so what
 * we program before it is lost).
 */
static bool wait_main_loop(const char *path, pid_t pid)
{
    static const char cmd[] = "{\"execute\": \"qmp_capabilities\"}\n";
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int64_t deadline = g_get_monotonic_time() + STALL_US;

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    while (g_get_monotonic_time() < deadline) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok = fd >= 0 &&
                  connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                  read_line(fd) &&
                  write(fd, cmd, sizeof(cmd) - 1) == sizeof(cmd) - 1 &&
                  read_line(fd);

        if (fd >= 0) {
            close(fd);
        }
        if (ok) {
            return true;
        }
        if (kill(pid, 0) < 0) {
            break;
        }
        g_usleep(1000);
    }
    g_printerr("vq-lat: the device process's QMP monitor did not answer\n");
    return false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int seconds = 5, qd = 1, block = 4096;
    gboolean write = FALSE;
    g_autofree char *json_path = NULL;
    g_autofree char *props = NULL;
    GOptionEntry entries[] = {
        { "props", 'p', 0, G_OPTION_ARG_STRING, &props,
          "extra virtio-blk-pci properties (\",name=value...\")", "P" },
        { "time", 't', 0, G_OPTION_ARG_INT, &seconds, "seconds (5)", "S" },
        { "qd", 'q', 0, G_OPTION_ARG_INT, &qd, "queue depth (1)", "N" },
        { "block", 'b', 0, G_OPTION_ARG_INT, &block, "bytes (4096)", "B" },
        { "write", 'w', 0, G_OPTION_ARG_NONE, &write, "write", NULL },
        { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path, "JSON", "F" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("BINARY IMAGE");
    g_autoptr(GError) err = NULL;
    g_autoptr(QemuRemote) r = NULL;
    g_autofree char *bdev = NULL;
    g_autofree double *lat = NULL;
    g_autofree int64_t *started = NULL;
    g_autofree char *dev_spec = NULL;
    const char *device[2] = { NULL, NULL };
    const char *args[8] = { "-blockdev", NULL, "-qmp", NULL, NULL };
    g_autofree char *dir = NULL;
    g_autofree char *qmp_path = NULL;
    g_autofree char *qmp_arg = NULL;
    Driver d = { 0 };
    struct stat st;
    uint64_t nblocks, done = 0, cap;
    int64_t t0, end, progress;
    double sum = 0;
    bool ok;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc != 3 ||
        qd < 1 || qd > MAX_QD || block < 512 || block > (int)MAX_BLOCK ||
        block % 512 || seconds < 1) {
        g_printerr("vq-lat: %s\n", err ? err->message : "bad arguments");
        return 2;
    }
    if (stat(argv[2], &st) < 0 || st.st_size < block) {
        g_printerr("vq-lat: %s: no image of at least one block\n", argv[2]);
        return 2;
    }
    nblocks = st.st_size / block;
    /*
     * QEMU's remote with ioeventfd=on (its default) never sees our kicks:
     * its dataplane start moves the queue to an ioeventfd handler that a
     * BAR write through mpqemu does not reach in this set-up.  Off, the
     * kick is handled in the BAR write itself, as a guest's is.
     */
    dev_spec = g_strdup_printf("virtio-blk-pci,id=vblk0,drive=n0%s%s",
                               strstr(argv[1], "qemu-system") ?
                               ",ioeventfd=off" : "", props ? props : "");
    device[0] = dev_spec;
    bdev = g_strdup_printf("driver=file,node-name=n0,filename=%s", argv[2]);
    args[1] = bdev;
    dir = g_dir_make_tmp("vq-lat-XXXXXX", &err);
    if (!dir) {
        g_printerr("vq-lat: %s\n", err->message);
        return 1;
    }
    qmp_path = g_build_filename(dir, "qmp.sock", NULL);
    qmp_arg = g_strdup_printf("unix:%s,server=on,wait=off", qmp_path);
    args[3] = qmp_arg;
    if (strstr(argv[1], "qemu-system")) {
        args[4] = "-display";
        args[5] = "none";
    }
    r = qemu_remote_spawn(argv[1], device, args, NULL, &err);
    if (!r) {
        g_printerr("vq-lat: %s\n", err->message);
        return 1;
    }
    ok = wait_main_loop(qmp_path, qemu_remote_pid(r));
    unlink(qmp_path);
    rmdir(dir);
    if (!ok) {
        return 1;
    }
    d.p = qemu_remote_proxy(r, 0);
    d.ram = mpqemu_proxy_ram_new(d.p, 0, RAM_SIZE, &err);
    if (!d.ram) {
        g_printerr("vq-lat: %s\n", err->message);
        return 1;
    }
    if (!find_structures(&d) || !virtio_init(&d, QUEUE_SIZE)) {
        return 1;
    }

    /* Room for 400k completions per second: more than reachable. */
    cap = (uint64_t)seconds * 400000;
    lat = g_new(double, cap);
    started = g_new(int64_t, qd);
    t0 = g_get_monotonic_time();
    end = t0 + (int64_t)seconds * G_USEC_PER_SEC;
    progress = t0;
    for (int i = 0; i < qd; i++) {
        prepare_slot(&d, i, write, block,
                     g_random_int_range(0, nblocks) * (block / 512ull));
        started[i] = g_get_monotonic_time();
        publish(&d, 3 * i, QUEUE_SIZE);
    }
    if (!kick(&d, 0, QUEUE_SIZE)) {
        return 1;
    }
    while (done < cap) {
        uint16_t used = __atomic_load_n(&d.used->idx, __ATOMIC_ACQUIRE);
        uint16_t old = d.avail_idx;
        int64_t now;

        now = g_get_monotonic_time();
        if (used == d.used_seen) {
            if (now - progress > STALL_US) {
                g_printerr("vq-lat: no completion for %d s\n",
                           (int)(STALL_US / G_USEC_PER_SEC));
                return 1;
            }
            continue;
        }
        progress = now;
        for (; d.used_seen != used && done < cap; d.used_seen++) {
            struct vring_used_elem *e = &d.used->ring[d.used_seen %
                                                      QUEUE_SIZE];
            unsigned i = e->id / 3;

            if (d.ram[HDR_GPA + 32 * i + 16] != VIRTIO_BLK_S_OK) {
                g_printerr("vq-lat: request failed (status %u)\n",
                           d.ram[HDR_GPA + 32 * i + 16]);
                return 1;
            }
            lat[done++] = now - started[i];
            if (now < end) {
                prepare_slot(&d, i, write, block,
                             g_random_int_range(0, nblocks) *
                             (block / 512ull));
                started[i] = g_get_monotonic_time();
                publish(&d, 3 * i, QUEUE_SIZE);
            }
        }
        /* used_event (after the avail ring's entries): we poll, so no
         * interrupt is wanted; keep it at what we have seen. */
        d.avail->ring[QUEUE_SIZE] = d.used_seen;
        if (d.avail_idx != old && !kick(&d, old, QUEUE_SIZE)) {
            return 1;
        }
        if (now >= end && d.used_seen == d.avail_idx) {
            break;
        }
    }
    end = g_get_monotonic_time();

    for (uint64_t i = 0; i < done; i++) {
        sum += lat[i];
    }
    qsort(lat, done, sizeof(*lat), cmp_double);
    {
        double secs = (end - t0) / 1e6;
        g_autofree char *line = g_strdup_printf(
            "{\"iops\": %.0f, \"lat_mean_us\": %.2f, \"lat_p50_us\": %.1f, "
            "\"lat_p99_us\": %.1f, \"kicks_per_req\": %.3f, "
            "\"requests\": %" PRIu64 "}\n",
            done / secs, sum / done, lat[done / 2],
            lat[done * 99 / 100], (double)d.kicks / done, done);

        printf("%s", line);
        if (json_path && !g_file_set_contents(json_path, line, -1, &err)) {
            g_printerr("vq-lat: %s\n", err->message);
            return 1;
        }
    }
    return 0;
}
