/*
 * Shared inside monitor/ only.
 *
 * monitor.c  listening sockets, the client list, events, cleanup
 * client.c   one connection: reading, framing, output buffering
 * qmp.c      the protocol: greeting, negotiation, dispatch, replies
 * qmp-cmds-*.c  the command handlers of the schema's commands
 */
#ifndef MONITOR_INTERNAL_H
#define MONITOR_INTERNAL_H

#include "qemu-remote/osdep.h"
#include "monitor/monitor.h"
#include "qapi/qapi-types.h"

typedef struct QmpClient QmpClient;

/* client.c */

/* Starts serving QMP on connected socket @fd (non-blocking, owned by the
 * client from now on) in @ctx: the greeting is queued at once.  @desc
 * names the client in logs. */
QmpClient *qmp_client_new(int fd, GMainContext *ctx, const char *desc);
/* Queues @msg (taken) as one line.  When more than MONITOR_MAX_OUTPUT
 * bytes are waiting, the client is dropped instead. */
void qmp_client_send(QmpClient *client, JsonObject *msg);
bool qmp_client_negotiated(const QmpClient *client);
/* "client N on PATH", for logs. */
const char *qmp_client_describe(const QmpClient *client);
void qmp_client_set_negotiated(QmpClient *client);
/* Writes what is queued, waiting until @deadline (g_get_monotonic_time()
 * microseconds) at most, then closes and frees the client. */
void qmp_client_close(QmpClient *client, gint64 deadline);

/* monitor.c: called by a client that closes itself (peer gone, error). */
void monitor_client_gone(QmpClient *client);

/* qmp.c */

/* The greeting, {"QMP": {"version": ..., "capabilities": []}}. */
JsonObject *qmp_greeting(void);
/* Answers one request (or the parse error @err), taking both. */
void qmp_handle_request(QmpClient *client, JsonNode *request, GError *err);
/* The client whose command is running, or NULL outside a command. */
QmpClient *qmp_current_client(void);
/* The version reported by the greeting and query-version. */
VersionInfo *qmp_version_info(void);

#endif
