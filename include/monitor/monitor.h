/*
 * The QMP server: QEMU's JSON management protocol on UNIX sockets.
 *
 * Each monitor is a listening socket (or one connected socket) served on
 * the GLib main context that is the thread-default one of the thread that
 * adds it (the main thread's: the global default context, which
 * remote/vl.c runs).  Every monitor accepts several clients at once (QEMU's
 * socket chardev serves one at a time; we serve up to MONITOR_MAX_CLIENTS
 * together).  A client gets the greeting
 *
 *   {"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0},
 *            "package": "qemu-remote 0.1.0"}, "capabilities": []}}
 *
 * then must send {"execute": "qmp_capabilities"} before any other command.
 * Commands run synchronously on the main thread, one at a time.  Events are
 * broadcast to every client that completed negotiation.  The wire protocol,
 * limits and error texts are described in docs/qmp.md.
 *
 * All functions here must be called from the main thread.
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include "qemu-remote/osdep.h"
#include "qemu-remote/runstate.h"
#include "qemu-remote/sandbox.h"

#include <json-glib/json-glib.h>

/*
 * Bounds on what one client may make us hold.  A longer request is answered
 * with an error and skipped up to its end; a client that lets this much
 * output pile up unread is disconnected.
 */
#define MONITOR_MAX_REQUEST_SIZE (256 * 1024) /* bytes of one JSON request */
#define MONITOR_MAX_NESTING      1024         /* {/[ depth, as QEMU */
#define MONITOR_MAX_OUTPUT       (4 * 1024 * 1024) /* unread reply bytes */
#define MONITOR_MAX_CLIENTS      32           /* per process */

/*
 * "-qmp unix:PATH,server=on,wait=off" and "-chardev socket,path=PATH,
 * server=on,wait=off" + "-mon chardev=ID,mode=control".
 *
 * Creates a listening UNIX stream socket at @path and serves QMP on it.  A
 * stale socket file at @path is replaced (as QEMU does); any other kind of
 * file there is an error.  @wait must be false: blocking start-up until a
 * client connects ("wait=on") is not supported.  The socket file is removed
 * by monitor_cleanup().
 *
 * Returns false with @errp set if @wait is true, @path is too long for a
 * UNIX socket address, or the socket cannot be created, bound or listened on
 * ("Failed to bind socket to PATH: <strerror>").
 */
bool monitor_add_qmp_unix(const char *path, bool wait, GError **errp);

/*
 * Serves QMP on @fd, which the caller hands over (it is closed by
 * monitor_cleanup(), or at once on failure).  @fd may be a listening
 * stream socket (clients are accepted from it) or a connected stream
 * socket (exactly one client, which gets the greeting at once).
 *
 * Returns false with @errp set if @fd is not a stream socket.
 */
bool monitor_add_qmp_fd(int fd, GError **errp);

/*
 * What a monitor needs under -sandbox once serving (monitor/seccomp.c);
 * monitor_add_qmp_unix() and monitor_add_qmp_fd() require it, the former
 * also sandbox_remove_files_policy (the socket file goes at exit).
 */
extern const SandboxPolicy qmp_sandbox_policy;

/*
 * Broadcasts event @name with @data (may be NULL: no "data" member) to
 * every negotiated client as
 *   {"timestamp": {"seconds": S, "microseconds": US}, "event": NAME,
 *    "data": {...}}
 * Takes ownership of @data.  The generated qapi_event_send_*() emitters
 * (qapi-events.h) call this; most code should call those instead.
 */
void monitor_emit_event(const char *name, JsonObject *data);

/*
 * Emits the SHUTDOWN event for @cause: "guest" is true only for
 * SHUTDOWN_CAUSE_GUEST_SHUTDOWN, "reason" is shutdown_cause_name(@cause).
 * Called once by the main loop when it stops, before monitor_cleanup().
 */
void monitor_emit_shutdown(ShutdownCause cause);

/*
 * Closes every monitor: tries to deliver pending output to each client
 * (waiting at most MONITOR_FLUSH_TIMEOUT_MS in total), closes the clients
 * and listening sockets, and removes the socket files created by
 * monitor_add_qmp_unix() (only if they still are the sockets we bound).
 * Safe to call when no monitor was added, and more than once.
 */
#define MONITOR_FLUSH_TIMEOUT_MS 1000
void monitor_cleanup(void);

#endif
