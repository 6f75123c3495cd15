/*
 * "-d" categories and the "-D" log file (see include/qemu-remote/log.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "log-internal.h"

unsigned qr_log_mask;

static const struct {
    const char *name;
    unsigned mask;
    const char *help;
} log_items[] = {
    { "guest_errors", LOG_GUEST_ERROR, "log when the guest does something invalid" },
    { "unimp", LOG_UNIMP, "log unimplemented functionality the guest used" },
    { "vmm_errors", LOG_VMM_ERROR, "log invalid messages from the VMM" },
    { "mpqemu", LOG_MPQEMU, "trace every multi-process (mpqemu) message" },
    { "pci", LOG_PCI, "trace PCI config space and BAR accesses" },
    { "dma", LOG_DMA, "trace DMA region table changes" },
    { "virtio", LOG_VIRTIO, "trace virtio status, features and queues" },
    { "block", LOG_BLOCK, "trace block requests and backend I/O" },
    { "vhost_user", LOG_VHOST_USER, "trace every vhost-user message" },
    { "qmp", LOG_QMP, "trace QMP commands and replies" },
    { "irq", LOG_IRQ, "trace interrupt raise, lower and notify" },
    { "sandbox", LOG_SANDBOX, "trace seccomp and privilege changes" },
};

static GMutex log_lock;
static FILE *log_file; /* NULL: stderr */

char *log_timestamp(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();

    return g_date_time_format_iso8601(now);
}

void log_write_report(const char *line)
{
    g_mutex_lock(&log_lock);
    fprintf(stderr, "%s\n", line);
    if (log_file) {
        fprintf(log_file, "%s\n", line);
        fflush(log_file);
    }
    g_mutex_unlock(&log_lock);
}

void qr_log(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    g_autofree char *stamp = NULL;
    FILE *out;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (error_timestamps_enabled()) {
        stamp = log_timestamp();
    }

    g_mutex_lock(&log_lock);
    out = log_file ? log_file : stderr;
    fprintf(out, "%s%s%s\n", stamp ? stamp : "", stamp ? " " : "", msg);
    fflush(out);
    g_mutex_unlock(&log_lock);
}

void qr_log_print_help(FILE *out)
{
    fprintf(out, "Log items (comma separated):\n");
    for (size_t i = 0; i < G_N_ELEMENTS(log_items); i++) {
        fprintf(out, "%-12s %s\n", log_items[i].name, log_items[i].help);
    }
}

bool qr_log_parse_items(const char *items, unsigned *mask, bool *help,
                        GError **errp)
{
    g_auto(GStrv) names = g_strsplit(items, ",", -1);
    unsigned result = 0;

    *help = false;
    for (char **n = names; *n; n++) {
        size_t i;

        if (g_str_equal(*n, "help") || g_str_equal(*n, "?")) {
            *help = true;
            continue;
        }
        for (i = 0; i < G_N_ELEMENTS(log_items); i++) {
            if (g_str_equal(*n, log_items[i].name)) {
                result |= log_items[i].mask;
                break;
            }
        }
        if (i == G_N_ELEMENTS(log_items)) {
            error_setg(errp, "unknown log item '%s' (try -d help)", *n);
            return false;
        }
    }
    *mask = result;
    return true;
}

bool qr_log_set_file(const char *path, GError **errp)
{
    FILE *f = fopen(path, "ae");

    if (!f) {
        error_setg_errno(errp, errno, "cannot open log file '%s'", path);
        return false;
    }
    g_mutex_lock(&log_lock);
    if (log_file) {
        fclose(log_file);
    }
    log_file = f;
    g_mutex_unlock(&log_lock);
    return true;
}
