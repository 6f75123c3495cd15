/*
 * vhost-user wire format: request codes, flags, feature bits and payload
 * layouts, as docs/interop/vhost-user.md describes them.  All fields are
 * host-endian (the protocol only runs between processes on one host).
 *
 * Linux's uapi headers define the vhost kernel ABI (VHOST_F_LOG_ALL,
 * VHOST_VRING_F_LOG, the log page size) but not vhost-user's own codes,
 * which are defined here.
 */
#ifndef REMOTE_VHOST_USER_PROTO_H
#define REMOTE_VHOST_USER_PROTO_H

#include "qemu-remote/osdep.h"

#include <linux/vhost_types.h>

/* Frontend -> backend requests. */
typedef enum VhostUserRequest {
    VHOST_USER_NONE = 0,
    VHOST_USER_GET_FEATURES = 1,
    VHOST_USER_SET_FEATURES = 2,
    VHOST_USER_SET_OWNER = 3,
    VHOST_USER_RESET_OWNER = 4,
    VHOST_USER_SET_MEM_TABLE = 5,
    VHOST_USER_SET_LOG_BASE = 6,
    VHOST_USER_SET_LOG_FD = 7,
    VHOST_USER_SET_VRING_NUM = 8,
    VHOST_USER_SET_VRING_ADDR = 9,
    VHOST_USER_SET_VRING_BASE = 10,
    VHOST_USER_GET_VRING_BASE = 11,
    VHOST_USER_SET_VRING_KICK = 12,
    VHOST_USER_SET_VRING_CALL = 13,
    VHOST_USER_SET_VRING_ERR = 14,
    VHOST_USER_GET_PROTOCOL_FEATURES = 15,
    VHOST_USER_SET_PROTOCOL_FEATURES = 16,
    VHOST_USER_GET_QUEUE_NUM = 17,
    VHOST_USER_SET_VRING_ENABLE = 18,
    VHOST_USER_SEND_RARP = 19,
    VHOST_USER_NET_SET_MTU = 20,
    VHOST_USER_SET_BACKEND_REQ_FD = 21,
    VHOST_USER_IOTLB_MSG = 22,
    VHOST_USER_SET_VRING_ENDIAN = 23,
    VHOST_USER_GET_CONFIG = 24,
    VHOST_USER_SET_CONFIG = 25,
    VHOST_USER_CREATE_CRYPTO_SESSION = 26,
    VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
    VHOST_USER_POSTCOPY_ADVISE = 28,
    VHOST_USER_POSTCOPY_LISTEN = 29,
    VHOST_USER_POSTCOPY_END = 30,
    VHOST_USER_GET_INFLIGHT_FD = 31,
    VHOST_USER_SET_INFLIGHT_FD = 32,
    VHOST_USER_GPU_SET_SOCKET = 33,
    VHOST_USER_RESET_DEVICE = 34,
    VHOST_USER_VRING_KICK = 35,
    VHOST_USER_GET_MAX_MEM_SLOTS = 36,
    VHOST_USER_ADD_MEM_REG = 37,
    VHOST_USER_REM_MEM_REG = 38,
    VHOST_USER_SET_STATUS = 39,
    VHOST_USER_GET_STATUS = 40,
    VHOST_USER_REQUEST_MAX = 41, /* first code we do not know */
} VhostUserRequest;

/* Backend -> frontend requests, on the SET_BACKEND_REQ_FD channel. */
typedef enum VhostUserBackendRequest {
    VHOST_USER_BACKEND_IOTLB_MSG = 1,
    VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
    VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
} VhostUserBackendRequest;

/* Header flags. */
#define VHOST_USER_VERSION          0x1u
#define VHOST_USER_VERSION_MASK     0x3u
#define VHOST_USER_REPLY_MASK       (1u << 2)
#define VHOST_USER_NEED_REPLY_MASK  (1u << 3)

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
enum {
    VHOST_USER_PROTOCOL_F_MQ = 0,
    VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
    VHOST_USER_PROTOCOL_F_RARP = 2,
    VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
    VHOST_USER_PROTOCOL_F_NET_MTU = 4,
    VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
    VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
    VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
    VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
    VHOST_USER_PROTOCOL_F_CONFIG = 9,
    VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
    VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
    VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
    VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
    VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
    VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
    VHOST_USER_PROTOCOL_F_STATUS = 16,
};

/* Virtio feature bit 30: the frontend may use the PROTOCOL_FEATURES
 * requests.  vhost-only; never shown to the guest. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30

/* KICK/CALL/ERR payload: queue index in bits 0-7, "no fd" in bit 8. */
#define VHOST_USER_VRING_IDX_MASK   0xffu
#define VHOST_USER_VRING_NOFD_MASK  (1u << 8)

/* The most fds one message carries (QEMU's VHOST_MEMORY_BASELINE_NREGIONS). */
#define VHOST_USER_MAX_FDS          8
/* Regions in one SET_MEM_TABLE: the same limit. */
#define VHOST_USER_MEM_TABLE_MAX    8

/*
 * Largest payload we accept.  The biggest request QEMU sends is GET_CONFIG
 * (12 + 256 bytes); QEMU's own payload union is smaller than this page.  A
 * frontend announcing more is broken or hostile, and we close before
 * reading the body.
 */
#define VHOST_USER_PAYLOAD_MAX      4096

/* Largest device config a GET/SET_CONFIG may carry (QEMU's limit). */
#define VHOST_USER_CONFIG_MAX       256

/* Largest split ring the virtio spec allows. */
#define VHOST_USER_VRING_MAX_SIZE   32768

/* Header: 12 bytes on the wire. */
typedef struct VhostUserHeader {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
} VhostUserHeader;

typedef struct VhostUserVringState {
    uint32_t index;
    uint32_t num;
} VhostUserVringState;

typedef struct VhostUserVringAddr {
    uint32_t index;
    uint32_t flags;             /* bit VHOST_VRING_F_LOG */
    uint64_t desc_user_addr;
    uint64_t used_user_addr;
    uint64_t avail_user_addr;
    uint64_t log_guest_addr;
} VhostUserVringAddr;

typedef struct VhostUserMemoryRegion {
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t mmap_offset;
} VhostUserMemoryRegion;

/* SET_MEM_TABLE: only @nregions entries are sent. */
typedef struct VhostUserMemory {
    uint32_t nregions;
    uint32_t padding;
    VhostUserMemoryRegion regions[VHOST_USER_MEM_TABLE_MAX];
} VhostUserMemory;

/* ADD_MEM_REG / REM_MEM_REG. */
typedef struct VhostUserMemRegMsg {
    uint64_t padding;
    VhostUserMemoryRegion region;
} VhostUserMemRegMsg;

typedef struct VhostUserLog {
    uint64_t mmap_size;
    uint64_t mmap_offset;
} VhostUserLog;

typedef struct VhostUserConfig {
    uint32_t offset;
    uint32_t size;
    uint32_t flags;
    uint8_t region[VHOST_USER_CONFIG_MAX];
} VhostUserConfig;
#define VHOST_USER_CONFIG_HDR_SIZE  12

/*
 * GET/SET_INFLIGHT_FD.  20 bytes of fields, 24 on the wire: QEMU sends the
 * compiler-padded struct (docs/interop/vhost-user.md).  We accept both.
 */
typedef struct VhostUserInflight {
    uint64_t mmap_size;
    uint64_t mmap_offset;
    uint16_t num_queues;
    uint16_t queue_size;
    uint32_t padding;
} VhostUserInflight;
#define VHOST_USER_INFLIGHT_MIN_SIZE 20

/* Every payload a request can carry, for one receive buffer. */
typedef union VhostUserPayload {
    uint64_t u64;
    VhostUserVringState state;
    VhostUserVringAddr addr;
    VhostUserMemory memory;
    VhostUserMemRegMsg memreg;
    VhostUserLog log;
    VhostUserConfig config;
    VhostUserInflight inflight;
    uint8_t bytes[VHOST_USER_PAYLOAD_MAX];
} VhostUserPayload;

/* "GET_FEATURES", ...; "UNKNOWN" for codes we do not know. */
const char *vhost_user_request_name(uint32_t request);

#endif
