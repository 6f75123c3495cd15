/*
 * What remote/vl.c (start-up order, main loop, exit) calls in the other
 * remote/ files.  The option handlers themselves are in remote/cmdline.h.
 */
#ifndef REMOTE_VL_H
#define REMOTE_VL_H

#include "qemu-remote/osdep.h"

/* remote/objects.c */

/*
 * Realizes every device created from -device, in command-line order.
 * Fails with "<-device option>: <reason>" for the first that fails.
 */
bool cli_devices_realize(GError **errp);

/* Runs every object type's start() (after all devices are realized). */
bool cli_objects_start(GError **errp);

/*
 * Tears down in the safe order: non-early object types' cleanup()
 * (transports stop), every device freed (newest first), every block node
 * closed, then early types' cleanup() (iothreads, which devices used).
 * Safe after a partial start-up.
 */
void cli_teardown(void);

/* remote/monitors.c */

/* Closes the monitors (removing their socket files); frees the -qmp,
 * -chardev and -mon settings. */
void cli_monitors_cleanup(void);

/* remote/security.c */

/*
 * Once start-up is over: closes the -add-fd sets, drops privileges
 * (-run-with, -runas, -chroot) and installs the -sandbox filter composed
 * from what start-up required.  Fails with the reason; the process must
 * then exit.
 */
bool confine_process(GError **errp);

/* remote/daemon.c */

/*
 * With -daemonize: forks; the parent waits until the daemon calls
 * daemon_ready() and exits 0 then, or 1 if the daemon exits first.
 * Returns in the daemon (a new session, no controlling terminal).  Must
 * run before any thread is started.  Without -daemonize does nothing.
 */
bool daemon_start(GError **errp);

/* The daemon is ready to serve: tells the parent, moves stdin, stdout and
 * stderr to /dev/null and changes to /.  No-op without -daemonize. */
void daemon_ready(void);

/* True when -daemonize was given. */
bool daemon_requested(void);

/* remote/pidfile.c */

/*
 * With -pidfile FILE: creates or reuses FILE, takes an exclusive lock on
 * it (failing if another process holds it), and writes our pid.  The lock
 * lasts as long as the process.  Without -pidfile does nothing.
 */
bool pidfile_create(GError **errp);

/* Removes the pidfile if it still is the one we wrote. */
void pidfile_remove(void);

#endif
