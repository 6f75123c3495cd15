/*
 * Process life cycle: shutdown requests and the machine's auto-shutdown.
 * Implemented in util/runstate.c; the main loop lives in remote/vl.c.
 */
#ifndef QEMU_REMOTE_RUNSTATE_H
#define QEMU_REMOTE_RUNSTATE_H

#include "qemu-remote/osdep.h"

/* Why the process stops (the SHUTDOWN event's "reason", as QEMU names it). */
typedef enum ShutdownCause {
    SHUTDOWN_CAUSE_HOST_QMP_QUIT,   /* "host-qmp-quit" */
    SHUTDOWN_CAUSE_HOST_SIGNAL,     /* "host-signal" */
    SHUTDOWN_CAUSE_HOST_ERROR,      /* "host-error" */
    SHUTDOWN_CAUSE_GUEST_SHUTDOWN,  /* "guest-shutdown": last VMM link gone */
} ShutdownCause;

/*
 * Asks the main loop to stop.  Thread-safe and async-signal-safe; the first
 * request's cause wins.  The main loop then emits SHUTDOWN, closes
 * connections and removes the pidfile and socket files.
 */
void qemu_system_shutdown_request(ShutdownCause cause);

/* True once a shutdown was requested; *@cause receives its cause. */
bool qemu_system_shutdown_requested(ShutdownCause *cause);

/* "host-qmp-quit", ... */
const char *shutdown_cause_name(ShutdownCause cause);

/* "-name": the process's name for query-name (NULL when not set). */
void qemu_set_name(const char *name);
const char *qemu_get_name(void);

/*
 * VMM links (one per served device connection, e.g. an mpqemu socket).
 * With "-machine x-remote,auto-shutdown=on" (the default) the process shuts
 * down when the last open link closes.  Thread-safe.
 */
void qemu_remote_link_opened(void);
void qemu_remote_link_closed(void);
void qemu_set_auto_shutdown(bool on);

/*
 * Start-up is complete (called once by vl.c, before the main loop).  Until
 * then a link closing does not shut down, since other links may still be
 * about to open; if links were opened and all have closed by now, this
 * requests the shutdown.
 */
void qemu_remote_links_ready(void);

/* Wakes the main loop when a shutdown is requested (set by vl.c). */
void qemu_set_main_context(GMainContext *ctx);

#endif
