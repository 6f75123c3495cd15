/*
 * vhost-user session state shared by the per-message-family files:
 *   session.c   connection life cycle, header checks, dispatch and replies
 *   features.c  features, protocol features, owner, queue count, status,
 *               reset
 *   mem.c       memory table (SET_MEM_TABLE, ADD/REM_MEM_REG), dirty log
 *   vring.c     ring setup, start/stop, kick/call/err fds, in-flight region
 *   config.c    device config and the backend channel
 *   validate.c  the is_valid_*() predicates every message passes first
 */
#ifndef REMOTE_VHOST_USER_INTERNAL_H
#define REMOTE_VHOST_USER_INTERNAL_H

#include "qemu-remote/osdep.h"
#include "remote/vhost-user.h"
#include "remote/vhost-user/inflight.h"
#include "remote/vhost-user/msg.h"

/* Protocol features we offer.  PAGEFAULT (postcopy), HOST_NOTIFIER,
 * INBAND_NOTIFICATIONS, CROSS_ENDIAN and the net/crypto ones are not. */
#define VU_PROTOCOL_FEATURES                                       \
    (uint64_t)((1ull << VHOST_USER_PROTOCOL_F_MQ) |                \
     (1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD) |                   \
     (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |                   \
     (1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ) |                 \
     (1ull << VHOST_USER_PROTOCOL_F_CONFIG) |                      \
     (1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) |              \
     (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE) |                \
     (1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |         \
     (1ull << VHOST_USER_PROTOCOL_F_STATUS))

/* Virtio feature bits that belong to the transport, not the device. */
#define VU_TRANSPORT_FEATURES \
    (uint64_t)((1ull << VHOST_USER_F_PROTOCOL_FEATURES) | \
               (1ull << VHOST_F_LOG_ALL))

typedef struct VuVring {
    uint16_t num;               /* 0 until SET_VRING_NUM */
    bool has_addr;
    VhostUserVringAddr addr;
    uint16_t base;              /* next avail index while not running */
    bool kick_set;              /* SET_VRING_KICK received since the last
                                   GET_VRING_BASE */
    int kick_fd;
    int call_fd;
    int err_fd;
    bool enabled;
    bool running;
} VuVring;

typedef struct VuSession VuSession;

struct VuSession {
    VhostUserServer *server;
    const VhostUserBackend *be;
    char *name;                 /* for messages */
    int fd;
    VuMsgReader reader;

    bool owner;                 /* SET_OWNER received */
    uint64_t protocol_features; /* negotiated */
    bool features_set;          /* SET_FEATURES received */
    uint64_t features;          /* acked, transport bits included */
    uint8_t status;             /* SET_STATUS */

    int backend_fd;             /* backend channel; -1 none */
    GMutex backend_lock;        /* one request at a time on it */

    VuVring vrings[VHOST_USER_MAX_QUEUES];

    /* INFLIGHT_SHMFD region (SET_INFLIGHT_FD) */
    void *inflight_map;
    size_t inflight_len;
    uint16_t inflight_num_queues;
    uint16_t inflight_queue_size;
    VuInflightQueue inflight[VHOST_USER_MAX_QUEUES];

    /* LOG_SHMFD dirty log (SET_LOG_BASE); installed in the DMASpace while
     * LOG_ALL is negotiated. */
    int log_fd;
    uint64_t log_size;
    uint64_t log_offset;
    bool log_installed;
};

/* How a request is answered. */
typedef enum VuReplyKind {
    VU_REPLY_NONE,      /* never (ack only if NEED_REPLY and REPLY_ACK) */
    VU_REPLY_ALWAYS,    /* the handler fills a reply */
} VuReplyKind;

/* A reply built by a handler: payload bytes and at most one fd. */
typedef struct VuReply {
    VhostUserPayload payload;
    uint32_t size;
    int fd;             /* sent and then closed by the dispatcher; -1 none */
} VuReply;

/*
 * Handlers: the message was validated by its is_valid_*() predicate.  They
 * take ownership of every fd in @msg (close or keep each, and set the slot
 * to -1).  Return false with @errp set to end the connection.
 */
typedef bool VuHandler(VuSession *s, VuMsg *msg, VuReply *reply,
                       GError **errp);
typedef bool VuValidator(const VuSession *s, const VuMsg *msg, GError **errp);

VuHandler vu_get_features, vu_set_features, vu_set_owner, vu_reset_owner,
    vu_get_protocol_features, vu_set_protocol_features, vu_get_queue_num,
    vu_set_status, vu_get_status, vu_reset_device;
VuHandler vu_set_mem_table, vu_get_max_mem_slots, vu_add_mem_reg,
    vu_rem_mem_reg, vu_set_log_base;
VuHandler vu_set_vring_num, vu_set_vring_addr, vu_set_vring_base,
    vu_get_vring_base, vu_set_vring_kick, vu_set_vring_call,
    vu_set_vring_err, vu_set_vring_enable, vu_get_inflight_fd,
    vu_set_inflight_fd;
VuHandler vu_get_config, vu_set_config, vu_set_backend_req_fd;

/* validate.c: one predicate per payload shape. */
VuValidator is_valid_no_payload, is_valid_u64, is_valid_features,
    is_valid_protocol_features, is_valid_status, is_valid_vring_state,
    is_valid_vring_base, is_valid_vring_num, is_valid_vring_addr,
    is_valid_vring_fd, is_valid_vring_enable, is_valid_mem_table,
    is_valid_mem_reg,
    is_valid_log_base, is_valid_config_get, is_valid_config_set,
    is_valid_inflight_get, is_valid_inflight_set, is_valid_backend_req_fd;

/* True when protocol feature @bit was negotiated. */
static inline bool vu_has_protocol_feature(const VuSession *s, unsigned bit)
{
    return s->protocol_features & (1ull << bit);
}

/* True when virtio feature @bit was acknowledged by SET_FEATURES. */
static inline bool vu_has_feature(const VuSession *s, unsigned bit)
{
    return s->features_set && (s->features & (1ull << bit));
}

/* vring.c */
void vu_vrings_init(VuSession *s);
/* Starts or stops ring @index to match its state (owner, features,
 * setup, enable, memory).  Fails when a start fails. */
bool vu_vring_update(VuSession *s, unsigned index, GError **errp);
/* Stops every running ring (draining), returning which ones ran. */
uint64_t vu_vrings_pause(VuSession *s);
/* Restarts the rings of a vu_vrings_pause() mask. */
bool vu_vrings_resume(VuSession *s, uint64_t mask, GError **errp);
/* Stops every ring and forgets all ring state and fds (disconnect,
 * RESET_DEVICE). */
void vu_vrings_reset(VuSession *s);
void vu_inflight_unmap(VuSession *s);

/* mem.c */
/* Installs or removes the dirty log to match SET_LOG_BASE and LOG_ALL. */
bool vu_log_update(VuSession *s, GError **errp);
void vu_log_close(VuSession *s);
/* Drops the memory table. */
void vu_mem_reset(VuSession *s);

/* config.c */
void vu_backend_channel_close(VuSession *s);
/* CONFIG_CHANGE_MSG on the backend channel. */
bool vu_session_config_changed(VuSession *s, GError **errp);

#endif
