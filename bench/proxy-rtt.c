/*
 * proxy-rtt: what one config-space read, BAR read and BAR write cost
 * through QEMU's x-pci-proxy-dev, for qemu-remote and for QEMU's own
 * remote hosting the same kind of device, in the same run.
 *
 * Each figure is a qtest loop through the real VMM: the per-access time of
 * a command that reaches the device, minus the same command aimed at
 * something the VMM answers itself (the host bridge's CONFIG_ADDRESS port
 * for config reads, guest RAM for BAR accesses).  The difference is the
 * proxy round trip: VMM -> socket -> remote -> socket -> VMM.  Medians of
 * several batches; the raw figures are printed too.
 *
 * Usage: proxy-rtt [-n ITERATIONS] [-b BATCHES] [-r ours|qemu|both]
 *                  [-d DEVICE]
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

typedef struct Result {
    double base_pio, cfg_read;
    double base_mmio, bar_read, bar_write;
} Result;

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

static double measure(QTestState *qts, unsigned n, unsigned batches,
                      const char *cmd)
{
    g_autofree double *v = g_new(double, batches);

    batch_us(qts, n / 10 + 1, cmd);     /* warm-up */
    for (unsigned b = 0; b < batches; b++) {
        v[b] = batch_us(qts, n, cmd);
    }
    return median(v, batches);
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

static bool run_one(QTestRemote kind, const Target *t, const char *image,
                    unsigned n, unsigned batches, Result *r, GError **errp)
{
    g_autofree char *extra = g_strdup_printf(t->extra_args, image);
    g_autofree char *args = g_strdup_printf("-device %s,id=b0%s", t->type,
                                            extra);
    QTestOptions opts = {
        .remote = kind,
        .devices = { { .id = "b0", .args = args } },
    };
    QTestState *qts = qtest_start(&opts, errp);
    g_autofree char *cfg_sel = NULL;
    g_autofree char *ram_read = NULL;
    g_autofree char *bar_read = NULL;
    g_autofree char *bar_write = NULL;
    QPCIBus bus;
    QVirtioPCIDevice vd;
    uint64_t reg, ram;
    int devfn;
    bool ok = false;

    if (!qts) {
        return false;
    }
    qpci_bus_init(&bus, qts);
    devfn = qtest_device_devfn(qts, "b0");
    if (!bar_register(&bus, t->type, devfn, &vd, &reg, errp)) {
        goto out;
    }
    ram = qtest_guest_alloc(qts, 4, 4);
    cfg_sel = g_strdup_printf("outl 0xcf8 0x%x", 0x80000000u | devfn << 8);
    g_free(qtest_command(qts, "%s", cfg_sel));
    ram_read = g_strdup_printf("readl 0x%" PRIx64, ram);
    bar_read = g_strdup_printf("readl 0x%" PRIx64, reg);
    bar_write = g_strdup_printf("writel 0x%" PRIx64 " 0x0", reg);

    /* CONFIG_ADDRESS stays selected: "inl 0xcfc" is one config read of
     * the device's vendor/device ID; "inl 0xcf8" reads the selection
     * back from the host bridge without a config cycle. */
    r->base_pio = measure(qts, n, batches, "inl 0xcf8");
    r->cfg_read = measure(qts, n, batches, "inl 0xcfc");
    r->base_mmio = measure(qts, n, batches, ram_read);
    r->bar_read = measure(qts, n, batches, bar_read);
    r->bar_write = measure(qts, n, batches, bar_write);
    ok = qtest_ok(qts);
    if (!ok) {
        error_setg(errp, "the qtest connection broke during the run");
    }
out:
    qtest_quit(qts);
    return ok;
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
    int n = 2000, batches = 7;
    g_autofree char *which = NULL;
    g_autofree char *device = NULL;
    GOptionEntry entries[] = {
        { "iterations", 'n', 0, G_OPTION_ARG_INT, &n,
          "accesses per batch (2000)", "N" },
        { "batches", 'b', 0, G_OPTION_ARG_INT, &batches,
          "batches per figure; the median is reported (7)", "B" },
        { "remote", 'r', 0, G_OPTION_ARG_STRING, &which,
          "ours, qemu or both (both)", "R" },
        { "device", 'd', 0, G_OPTION_ARG_STRING, &device,
          "device type to host (first both remotes have of virtio-blk-pci, "
          "x-remote-testdev, lsi53c895a)", "TYPE" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- proxy round trips");
    g_autoptr(GError) err = NULL;
    g_autofree char *image = NULL;
    QTestRemote kinds[2] = { QTEST_REMOTE_OURS, QTEST_REMOTE_QEMU };
    unsigned nkinds = 2;
    int status = 0;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || n <= 0 ||
        batches <= 0) {
        g_printerr("proxy-rtt: %s\n", err ? err->message : "bad arguments");
        return 2;
    }
    if (which && strcmp(which, "ours") == 0) {
        nkinds = 1;
    } else if (which && strcmp(which, "qemu") == 0) {
        kinds[0] = QTEST_REMOTE_QEMU;
        nkinds = 1;
    }
    image = g_build_filename(qtest_scratch_dir(), "rtt.img", NULL);
    if (!g_file_set_contents(image, "", 0, &err) ||
        truncate(image, IMAGE_SIZE) < 0) {
        g_printerr("proxy-rtt: cannot create %s\n", image);
        return 1;
    }

    printf("# per access, µs: raw (minus the same command answered by the "
           "VMM itself)\n");
    printf("%-12s %-18s %11s %16s %16s %16s\n", "remote", "device",
           "base io/mem", "config read", "BAR read", "BAR write");
    for (unsigned k = 0; k < nkinds; k++) {
        const Target *t = pick_target(kinds[k], kinds[nkinds - 1 - k], device);
        g_autoptr(GError) run_err = NULL;
        Result r;

        if (!t) {
            t = pick_target(kinds[k], kinds[k], device);
        }
        if (!t) {
            g_autofree char *why = NULL;

            qtest_remote_has_device(kinds[k], device ? device : targets[0].type,
                                    &why);
            printf("%-12s unavailable: %s\n", qtest_remote_name(kinds[k]), why);
            continue;
        }
        if (!run_one(kinds[k], t, image, n, batches, &r, &run_err)) {
            printf("%-12s %-18s failed: %s\n", qtest_remote_name(kinds[k]),
                   t->type, run_err->message);
            status = 1;
            continue;
        }
        printf("%-12s %-18s %5.1f/%5.1f %7.1f (%+6.1f) %7.1f (%+6.1f) "
               "%7.1f (%+6.1f)\n",
               qtest_remote_name(kinds[k]), t->type, r.base_pio, r.base_mmio,
               r.cfg_read, r.cfg_read - r.base_pio,
               r.bar_read, r.bar_read - r.base_mmio,
               r.bar_write, r.bar_write - r.base_mmio);
    }
    return status;
}
