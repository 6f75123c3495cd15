/*
 * Error creation and reporting (see include/qemu-remote/error.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "log-internal.h"

G_DEFINE_QUARK(qemu-remote-error-quark, qr_error)

static const char *const error_class_names[] = {
    [QR_ERROR_GENERIC] = "GenericError",
    [QR_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
    [QR_ERROR_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
    [QR_ERROR_DEVICE_NOT_FOUND] = "DeviceNotFound",
};

static const char *progname = "qemu-remote";
static bool timestamps;
static __thread char *location;

const char *qr_error_class_name(QrErrorClass cls)
{
    if ((unsigned)cls >= G_N_ELEMENTS(error_class_names)) {
        return "GenericError";
    }
    return error_class_names[cls];
}

static void error_setv(GError **errp, QrErrorClass cls, const char *fmt,
                       va_list ap)
{
    if (!errp) {
        return;
    }
    g_assert(*errp == NULL);
    *errp = g_error_new_valist(QR_ERROR, cls, fmt, ap);
}

void error_setg(GError **errp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_setv(errp, QR_ERROR_GENERIC, fmt, ap);
    va_end(ap);
}

void error_set(GError **errp, QrErrorClass cls, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_setv(errp, cls, fmt, ap);
    va_end(ap);
}

void error_setg_errno(GError **errp, int errnum, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    if (!errp) {
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_setg(errp, "%s: %s", msg, g_strerror(errnum));
}

void error_set_location(const char *loc)
{
    g_free(location);
    location = g_strdup(loc);
}

void error_set_timestamps(bool on)
{
    timestamps = on;
}

bool error_timestamps_enabled(void)
{
    return timestamps;
}

void error_set_progname(const char *name)
{
    progname = name;
}

static void vreport(const char *kind, const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    g_autofree char *stamp = timestamps ? log_timestamp() : NULL;
    g_autofree char *line = NULL;

    line = g_strdup_printf("%s%s%s: %s%s%s%s", stamp ? stamp : "",
                           stamp ? " " : "", progname,
                           location ? location : "", location ? ": " : "",
                           kind, msg);
    log_write_report(line);
}

void error_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

void info_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("info: ", fmt, ap);
    va_end(ap);
}

void error_report_err(GError *err)
{
    if (err) {
        error_report("%s", err->message);
        g_error_free(err);
    }
}

void warn_report_err(GError *err)
{
    if (err) {
        warn_report("%s", err->message);
        g_error_free(err);
    }
}
