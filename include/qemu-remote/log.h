/*
 * Diagnostics that are not errors: "-d ITEMS" categories written to "-D
 * FILE" (stderr by default).  A category is one bit; checking it costs one
 * load and a branch, so trace points may stay on hot paths.
 *
 * Adding a category: one enum value here and one row in util/log.c's table
 * (name and help line, shown by "-d help").
 */
#ifndef QEMU_REMOTE_LOG_H
#define QEMU_REMOTE_LOG_H

#include "qemu-remote/osdep.h"

enum {
    LOG_GUEST_ERROR = 1u << 0,  /* the guest did something wrong */
    LOG_UNIMP       = 1u << 1,  /* the guest used something we do not emulate */
    LOG_VMM_ERROR   = 1u << 2,  /* the VMM sent something invalid */
    LOG_MPQEMU      = 1u << 3,  /* every mpqemu message */
    LOG_PCI         = 1u << 4,  /* config space and BAR accesses */
    LOG_DMA         = 1u << 5,  /* DMA table changes */
    LOG_VIRTIO      = 1u << 6,  /* virtio status, features, queues */
    LOG_BLOCK       = 1u << 7,  /* block requests and backend I/O */
    LOG_VHOST_USER  = 1u << 8,  /* every vhost-user message */
    LOG_QMP         = 1u << 9,  /* every QMP command and reply */
    LOG_IRQ         = 1u << 10, /* interrupt raise/lower/notify */
    LOG_SANDBOX     = 1u << 11, /* seccomp and privilege changes */
};

extern unsigned qr_log_mask;

static inline bool qr_log_enabled(unsigned mask)
{
    return __builtin_expect((qr_log_mask & mask) != 0, 0);
}

/* Writes one line (a newline is added) to the log, with the timestamp prefix
 * if enabled.  Thread-safe; lines from different threads do not interleave. */
void qr_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#define qr_log_mask(mask, ...)                  \
    do {                                        \
        if (qr_log_enabled(mask)) {             \
            qr_log(__VA_ARGS__);                \
        }                                       \
    } while (0)

/*
 * Parses "-d" items: a comma-separated list of category names, or "help"
 * (which prints the list to stdout and sets *@help).  Returns the mask.
 */
bool qr_log_parse_items(const char *items, unsigned *mask, bool *help,
                        GError **errp);

/* "-D FILE": log to FILE (opened for append) instead of stderr. */
bool qr_log_set_file(const char *path, GError **errp);

/* Prints "-d help". */
void qr_log_print_help(FILE *out);

#endif
