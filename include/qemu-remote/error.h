/*
 * Errors: QEMU's error contract expressed with GError.
 *
 * A function that can fail takes "GError **errp" last and returns bool (or a
 * pointer, NULL on failure).  It sets *errp only on failure; errp may be NULL
 * when the caller does not care.  The function that detects an error creates
 * it; the caller that can act on it reports it (error_report_err()).  Nothing a
 * guest, VMM or QMP client can trigger calls exit() or abort().
 *
 * The GError code is the QMP error class, so QMP can answer with it directly.
 */
#ifndef QEMU_REMOTE_ERROR_H
#define QEMU_REMOTE_ERROR_H

#include "qemu-remote/osdep.h"

#define QR_ERROR (qr_error_quark())
GQuark qr_error_quark(void);

/* QMP error classes, as QEMU names them on the wire. */
typedef enum QrErrorClass {
    QR_ERROR_GENERIC,           /* "GenericError" */
    QR_ERROR_COMMAND_NOT_FOUND, /* "CommandNotFound" */
    QR_ERROR_DEVICE_NOT_ACTIVE, /* "DeviceNotActive" */
    QR_ERROR_DEVICE_NOT_FOUND,  /* "DeviceNotFound" */
} QrErrorClass;

/* The wire name of an error class ("GenericError", ...). */
const char *qr_error_class_name(QrErrorClass cls);

void error_setg(GError **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void error_set(GError **errp, QrErrorClass cls, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Appends ": strerror(errnum)" to the message. */
void error_setg_errno(GError **errp, int errnum, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Prefixes an existing error's message; no-op when errp or *errp is NULL. */
#define error_prepend(errp, ...) g_prefix_error(errp, __VA_ARGS__)
/* Moves @err into @errp (freeing it when errp is NULL); like error_propagate. */
#define error_propagate(errp, err) g_propagate_error(errp, err)

/*
 * Reporting to humans, on stderr (and the -D log file if any):
 *   qemu-remote: [timestamp ][location: ]message
 * The location is the command-line option being processed, if any
 * (error_set_location()), so messages read like QEMU's:
 *   qemu-remote: -device foo: 'foo' is not a valid device model name
 */
void error_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void warn_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void info_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Reports @err's message and frees it.  @err may be NULL. */
void error_report_err(GError *err);
void warn_report_err(GError *err);

/*
 * The location prefix for reports made from this thread; NULL clears it.
 * The command-line parser sets it to e.g. "-device foo,id=x" while it
 * processes that option.  The string is copied.
 */
void error_set_location(const char *loc);

/* "-msg timestamp=on": prefix reports with an ISO 8601 UTC timestamp. */
void error_set_timestamps(bool on);

/* Program name used in reports; defaults to "qemu-remote". */
void error_set_progname(const char *name);

#endif
