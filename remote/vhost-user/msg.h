/*
 * vhost-user message framing: reading one message (header, payload, fds)
 * from a non-blocking stream socket in as many pieces as it arrives, and
 * sending replies and backend-channel requests.
 */
#ifndef REMOTE_VHOST_USER_MSG_H
#define REMOTE_VHOST_USER_MSG_H

#include "qemu-remote/osdep.h"
#include "remote/vhost-user/proto.h"

/* One message with the fds that came with it (-1 for none). */
typedef struct VuMsg {
    VhostUserHeader hdr;
    VhostUserPayload payload;
    int fds[VHOST_USER_MAX_FDS];
    unsigned nfds;
} VuMsg;

/* Reassembles messages from a stream; zero-initialise, then vu_msg_reset(). */
typedef struct VuMsgReader {
    VuMsg msg;
    size_t have;        /* bytes of header + payload received so far */
} VuMsgReader;

typedef enum VuReadResult {
    VU_READ_AGAIN,      /* incomplete; wait for the socket to be readable */
    VU_READ_DONE,       /* r->msg holds a whole message */
    VU_READ_EOF,        /* the peer closed between messages */
    VU_READ_ERROR,      /* *errp says why; the connection must close */
} VuReadResult;

/* Empties @r, closing any fds it still holds. */
void vu_msg_reset(VuMsgReader *r);

/*
 * Reads what is available of the current message from @fd (non-blocking).
 * Checks the header (vu_msg_header_is_valid()) before reading the payload,
 * so an oversized or malformed message costs nothing.  A peer closing in
 * the middle of a message, more than VHOST_USER_MAX_FDS fds, or truncated
 * control data are errors.  After VU_READ_DONE the caller owns the fds in
 * r->msg (it must close or take every one) and calls vu_msg_reset() before
 * the next read.
 */
VuReadResult vu_msg_read(int fd, VuMsgReader *r, GError **errp);

/*
 * The header checks that need no session state: version 1, no REPLY bit,
 * no unknown flag bits, size <= VHOST_USER_PAYLOAD_MAX.
 */
bool vu_msg_header_is_valid(const VhostUserHeader *hdr, GError **errp);

/* Closes every fd of @msg and forgets them. */
void vu_msg_close_fds(VuMsg *msg);

/*
 * Sends @size payload bytes (and @nfds fds) as a message with @request and
 * @flags.  Blocks until written (the frontend reads replies synchronously;
 * a few hundred bytes always fit in the socket buffer).  Fails if the peer
 * is gone.
 */
bool vu_msg_send(int fd, uint32_t request, uint32_t flags,
                 const void *payload, uint32_t size, const int *fds,
                 unsigned nfds, GError **errp);

#endif
