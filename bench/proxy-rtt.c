/*
 * proxy-rtt: what one config-space read, BAR read and BAR write cost
 * through QEMU's x-pci-proxy-dev, for qemu-remote and for QEMU's own
 * remote hosting the same kind of device, in the same run.
 *
 * Each figure is a qtest loop through the real VMM: the per-access time of
 * a command that reaches the device, minus the same command aimed at
 * something the VMM answers itself (the host bridge's CONFIG_ADDRESS port
 * for config reads, guest RAM for BAR accesses).  The difference is the
 * proxy round trip: VMM -> socket -> remote -> socket -> VMM.
 *
 * The host is small and shared, so single figures drift: both pairs run at
 * the same time and the measurement goes in rounds, each timing one batch
 * of every command on every pair, base and device command back to back.
 * Reported: the median over rounds of the raw per-command time and of the
 * per-round difference to the base command.
 *
 * Usage: proxy-rtt [-n COMMANDS_PER_BATCH] [-R ROUNDS] [-r ours|qemu|both]
 *                  [-d DEVICE] [-j FILE]
 * -j writes the figures as JSON too (bench/run.sh reads it):
 *   {"commands": N, "rounds": R, "remotes": {"qemu-remote": {"device": T,
 *    "base_pio_us": x, "base_mmio_us": x, "config_read_us": x, ...,
 *    "config_read_delta_us": x, "bar_read_delta_us": x,
 *    "bar_write_delta_us": x}, ...}}
 * Each remote serves an image file of its own: both take QEMU's write lock.
 * Binaries as libqtest finds them: $QTEST_QEMU_BINARY and
 * $QTEST_QEMU_REMOTE_BINARY (set by meson's devenv, or give paths).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "libqtest.h"
#include "libqos/virtio.h"

#define IMAGE_SIZE (1 << 20)

typedef struct Target {
    const char *type;
    const char *extra_args;     /* after "-device TYPE,id=b0" */
} Target;

/* Devices both remotes can host come first: the comparison is fairest
 * when the device model is the same.  The register read and written is
 * side-effect free (a feature-select or scratch register). */
static const Target targets[] = {
    { "virtio-blk-pci", ",drive=bd0 -drive id=bd0,if=none,format=raw,file=%s" },
    { "x-remote-testdev", "" },
    { "lsi53c895a", "" },
};

enum { CMD_BASE_PIO, CMD_CFG_READ, CMD_BASE_MMIO, CMD_BAR_READ, CMD_BAR_WRITE,
       NCMDS };

/* The base command each measured command is compared with (a base
 * command is its own). */
static const int base_of[NCMDS] = {
    [CMD_BASE_PIO] = CMD_BASE_PIO,
    [CMD_BASE_MMIO] = CMD_BASE_MMIO,
    [CMD_CFG_READ] = CMD_BASE_PIO,
    [CMD_BAR_READ] = CMD_BASE_MMIO,
    [CMD_BAR_WRITE] = CMD_BASE_MMIO,
};

typedef struct Bench {
    QTestRemote kind;
    const Target *target;
    QTestState *qts;
    QPCIBus bus;
    QVirtioPCIDevice vd;        /* virtio-blk-pci's BARs, on bus */
    char *cmd[NCMDS];
    double *us[NCMDS];          /* per round */
} Bench;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* µs per command of one batch of @n identical commands. */
static double batch_us(QTestState *qts, unsigned n, const char *cmd)
{
    int64_t t0 = g_get_monotonic_time();

    for (unsigned i = 0; i < n; i++) {
        g_free(qtest_command(qts, "%s", cmd));
    }
    return (double)(g_get_monotonic_time() - t0) / n;
}

/* Finds the memory-mapped register to time on the device at @devfn. */
static bool bar_register(QPCIBus *bus, const char *type, uint8_t devfn,
                         QVirtioPCIDevice *vd, uint64_t *addr, GError **errp)
{
    QPCIDevice dev;
    QPCIBar bar;

    if (strcmp(type, "virtio-blk-pci") == 0) {
        if (!qvirtio_pci_init(vd, bus, devfn, true, errp)) {
            return false;
        }
        /* device_feature_select */
        *addr = vd->common.bar->addr + vd->common.offset +
                VIRTIO_PCI_COMMON_DFSELECT;
        return true;
    }
    qpci_device_at(bus, devfn, &dev);
    /* x-remote-testdev: SCRATCH in BAR0; lsi53c895a: SCRATCHA in BAR1. */
    bar = qpci_map_bar(&dev, strcmp(type, "lsi53c895a") == 0 ? 1 : 0);
    if (!bar.size || bar.io) {
        error_setg(errp, "%s: no memory BAR to time", type);
        return false;
    }
    qpci_enable(&dev);
    *addr = bar.addr + (strcmp(type, "lsi53c895a") == 0 ? 0x34 : 0x08);
    return true;
}

static bool bench_start(Bench *b, unsigned rounds, GError **errp)
{
    g_autofree char *image = g_strdup_printf("%s/%s.img", qtest_scratch_dir(),
                                             qtest_remote_name(b->kind));
    g_autofree char *extra = g_strdup_printf(b->target->extra_args, image);
    g_autofree char *args = g_strdup_printf("-device %s,id=b0%s",
                                            b->target->type, extra);
    QTestOptions opts = {
        .remote = b->kind,
        .devices = { { .id = "b0", .args = args } },
    };
    uint64_t reg, ram;
    int devfn;

    if (!g_file_set_contents(image, "", 0, errp)) {
        return false;
    }
    if (truncate(image, IMAGE_SIZE) < 0) {
        error_setg_errno(errp, errno, "cannot size %s", image);
        return false;
    }
    b->qts = qtest_start(&opts, errp);
    if (!b->qts) {
        return false;
    }
    qpci_bus_init(&b->bus, b->qts);
    devfn = qtest_device_devfn(b->qts, "b0");
    if (!bar_register(&b->bus, b->target->type, devfn, &b->vd, &reg, errp)) {
        return false;
    }
    ram = qtest_guest_alloc(b->qts, 4, 4);
    /* CONFIG_ADDRESS stays selected: "inl 0xcfc" is one config read of
     * the device's vendor/device ID; "inl 0xcf8" reads the selection
     * back from the host bridge without a config cycle. */
    g_free(qtest_command(b->qts, "outl 0xcf8 0x%x",
                         0x80000000u | devfn << 8));
    b->cmd[CMD_BASE_PIO] = g_strdup("inl 0xcf8");
    b->cmd[CMD_CFG_READ] = g_strdup("inl 0xcfc");
    b->cmd[CMD_BASE_MMIO] = g_strdup_printf("readl 0x%" PRIx64, ram);
    b->cmd[CMD_BAR_READ] = g_strdup_printf("readl 0x%" PRIx64, reg);
    b->cmd[CMD_BAR_WRITE] = g_strdup_printf("writel 0x%" PRIx64 " 0x0", reg);
    for (int c = 0; c < NCMDS; c++) {
        b->us[c] = g_new0(double, rounds);
        batch_us(b->qts, 50, b->cmd[c]);        /* warm-up */
    }
    return true;
}

static void bench_free(Bench *b)
{
    qtest_quit(b->qts);
    for (int c = 0; c < NCMDS; c++) {
        g_free(b->cmd[c]);
        g_free(b->us[c]);
    }
}

/* Median over rounds of the raw time of @c, or of its difference to its
 * base command when @delta. */
static double figure(Bench *b, int c, unsigned rounds, bool delta)
{
    g_autofree double *v = g_new(double, rounds);

    for (unsigned r = 0; r < rounds; r++) {
        v[r] = b->us[c][r] - (delta ? b->us[base_of[c]][r] : 0);
    }
    return median(v, rounds);
}

static void print_figures(Bench *b, unsigned rounds)
{
    printf("%-12s %-18s %5.1f/%5.1f %7.1f (%+6.1f) %7.1f (%+6.1f) "
           "%7.1f (%+6.1f)\n",
           qtest_remote_name(b->kind), b->target->type,
           figure(b, CMD_BASE_PIO, rounds, false),
           figure(b, CMD_BASE_MMIO, rounds, false),
           figure(b, CMD_CFG_READ, rounds, false),
           figure(b, CMD_CFG_READ, rounds, true),
           figure(b, CMD_BAR_READ, rounds, false),
           figure(b, CMD_BAR_READ, rounds, true),
           figure(b, CMD_BAR_WRITE, rounds, false),
           figure(b, CMD_BAR_WRITE, rounds, true));
}

/* Appends '"NAME": {...}, ' with every figure of @b. */
static void json_figures(GString *json, Bench *b, unsigned rounds)
{
    static const char *const names[NCMDS] = {
        [CMD_BASE_PIO] = "base_pio", [CMD_CFG_READ] = "config_read",
        [CMD_BASE_MMIO] = "base_mmio", [CMD_BAR_READ] = "bar_read",
        [CMD_BAR_WRITE] = "bar_write",
    };

    g_string_append_printf(json, "\"%s\": {\"device\": \"%s\"",
                           qtest_remote_name(b->kind), b->target->type);
    for (int c = 0; c < NCMDS; c++) {
        g_string_append_printf(json, ", \"%s_us\": %.3f", names[c],
                               figure(b, c, rounds, false));
        if (c != base_of[c]) {
            g_string_append_printf(json, ", \"%s_delta_us\": %.3f",
                                   names[c], figure(b, c, rounds, true));
        }
    }
    g_string_append(json, "}, ");
}

static const Target *pick_target(QTestRemote a, QTestRemote b,
                                 const char *only)
{
    for (size_t i = 0; i < G_N_ELEMENTS(targets); i++) {
        if (only && strcmp(only, targets[i].type)) {
            continue;
        }
        if (qtest_remote_has_device(a, targets[i].type, NULL) &&
            qtest_remote_has_device(b, targets[i].type, NULL)) {
            return &targets[i];
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = 200, rounds = 31;
    g_autofree char *which = NULL;
    g_autofree char *device = NULL;
    g_autofree char *json_path = NULL;
    GOptionEntry entries[] = {
        { "commands", 'n', 0, G_OPTION_ARG_INT, &n,
          "commands per batch (200)", "N" },
        { "rounds", 'R', 0, G_OPTION_ARG_INT, &rounds,
          "rounds; medians are reported (31)", "R" },
        { "remote", 'r', 0, G_OPTION_ARG_STRING, &which,
          "ours, qemu or both (both)", "WHICH" },
        { "device", 'd', 0, G_OPTION_ARG_STRING, &device,
          "device type to host (default: the first of virtio-blk-pci, "
          "x-remote-testdev, lsi53c895a that both remotes have, else each "
          "its own first)", "TYPE" },
        { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path,
          "also write the figures as JSON to FILE", "FILE" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- proxy round trips");
    g_autoptr(GError) err = NULL;
    g_autoptr(GString) json = g_string_new(NULL);
    QTestRemote kinds[2] = { QTEST_REMOTE_OURS, QTEST_REMOTE_QEMU };
    Bench benches[2] = { { 0 } };
    unsigned nkinds = 2, nbench = 0;
    int status = 0;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || n <= 0 ||
        rounds <= 0) {
        g_printerr("proxy-rtt: %s\n", err ? err->message : "bad arguments");
        return 2;
    }
    if (which && strcmp(which, "ours") == 0) {
        nkinds = 1;
    } else if (which && strcmp(which, "qemu") == 0) {
        kinds[0] = QTEST_REMOTE_QEMU;
        nkinds = 1;
    }
    if (!qtest_scratch_dir()) {
        return 1;
    }

    for (unsigned k = 0; k < nkinds; k++) {
        const Target *t = pick_target(kinds[k], kinds[nkinds - 1 - k], device);
        g_autoptr(GError) start_err = NULL;
        Bench *b = &benches[nbench];

        if (!t) {
            t = pick_target(kinds[k], kinds[k], device);
        }
        if (!t) {
            g_autofree char *why = NULL;

            qtest_remote_has_device(kinds[k], device ? device : targets[0].type,
                                    &why);
            printf("# %s unavailable: %s\n", qtest_remote_name(kinds[k]), why);
            continue;
        }
        b->kind = kinds[k];
        b->target = t;
        if (!bench_start(b, rounds, &start_err)) {
            printf("# %s with %s failed to start: %s\n",
                   qtest_remote_name(kinds[k]), t->type, start_err->message);
            bench_free(b);
            memset(b, 0, sizeof(*b));
            status = 1;
            continue;
        }
        nbench++;
    }

    for (int r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < nbench; i++) {
            for (int c = 0; c < NCMDS; c++) {
                benches[i].us[c][r] = batch_us(benches[i].qts, n,
                                               benches[i].cmd[c]);
            }
        }
    }

    printf("# µs per access: median raw time (median difference to the same "
           "qtest command answered by the VMM itself)\n");
    printf("%-12s %-18s %11s %16s %16s %16s\n", "remote", "device",
           "base io/mem", "config read", "BAR read", "BAR write");
    g_string_append_printf(json, "{\"commands\": %d, \"rounds\": %d, "
                           "\"remotes\": {", n, rounds);
    for (unsigned i = 0; i < nbench; i++) {
        Bench *b = &benches[i];

        if (!qtest_ok(b->qts)) {
            printf("%-12s %-18s failed: the qtest connection broke\n",
                   qtest_remote_name(b->kind), b->target->type);
            status = 1;
        } else {
            print_figures(b, rounds);
            json_figures(json, b, rounds);
        }
        bench_free(b);
    }
    /* Drop the separator after the last remote. */
    if (json->str[json->len - 1] == ' ') {
        g_string_truncate(json, json->len - 2);
    }
    g_string_append(json, "}}\n");
    if (json_path && !g_file_set_contents(json_path, json->str, -1, &err)) {
        g_printerr("proxy-rtt: %s\n", err->message);
        status = 1;
    }
    return status;
}
