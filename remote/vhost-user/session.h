/*
 * One vhost-user connection (session.c), driven by the server (server.c)
 * and by the unit tests, which feed it messages without a socket loop.
 */
#ifndef REMOTE_VHOST_USER_SESSION_H
#define REMOTE_VHOST_USER_SESSION_H

#include "remote/vhost-user/internal.h"

typedef enum VuSessionResult {
    VU_SESSION_CONTINUE,    /* wait for more input */
    VU_SESSION_CLOSED,      /* the frontend hung up between messages */
    VU_SESSION_FAILED,      /* protocol violation or I/O error (*errp) */
} VuSessionResult;

/* A session on connected socket @fd (taken over; closed by free). */
VuSession *vu_session_new(VhostUserServer *server,
                          const VhostUserBackend *be, const char *name,
                          int fd);

/* Stops the device's rings, resets it, releases every mapping and fd. */
void vu_session_free(VuSession *s);

/* Reads and handles every complete message available on the socket. */
VuSessionResult vu_session_read(VuSession *s, GError **errp);

/*
 * Checks one message (request table and its is_valid_*() predicate),
 * handles it and sends its reply or ack.  Always consumes the message's
 * fds.  Returns false with @errp set when the connection must end.
 */
bool vu_session_dispatch(VuSession *s, VuMsg *msg, GError **errp);

/* The request-level checks alone (tests use them). */
bool is_valid_request(const VuSession *s, const VuMsg *msg, GError **errp);

#endif
