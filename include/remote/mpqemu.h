/*
 * mpqemu: QEMU 7.2's multi-process PCI protocol (x-pci-proxy-dev <->
 * x-remote), the remote side.  docs/interop/mpqemu.md describes the
 * protocol as we implement it.
 *
 * Layers in this header:
 *  - the wire format (x86-64 native layout, pinned with static asserts);
 *  - message I/O on a stream socket: fds ride only on the header;
 *  - is_valid_*() predicates, one per message, run before dispatch;
 *  - MPQemuLink: one connection serving one PCI device on its own thread;
 *  - the "x-remote-object" -object type that creates links.
 *
 * The message I/O half is also used by the VMM-side library in proxy/.
 */
#ifndef REMOTE_MPQEMU_H
#define REMOTE_MPQEMU_H

#include "qemu-remote/osdep.h"
#include "qemu-remote/object.h"
#include "qemu-remote/sandbox.h"
#include "hw/pci.h"

/* --- wire format ---------------------------------------------------- */

typedef enum MPQemuCmd {
    MPQEMU_CMD_SYNC_SYSMEM = 0,     /* V->R, 1..8 fds, no reply */
    MPQEMU_CMD_RET = 1,             /* R->V reply, 8 bytes (0 after reset) */
    MPQEMU_CMD_PCI_CFGWRITE = 2,    /* V->R, MPQemuPciConf, RET 0 */
    MPQEMU_CMD_PCI_CFGREAD = 3,     /* V->R, MPQemuPciConf, RET value */
    MPQEMU_CMD_BAR_WRITE = 4,       /* V->R, MPQemuBarAccess, RET 0 */
    MPQEMU_CMD_BAR_READ = 5,        /* V->R, MPQemuBarAccess, RET value */
    MPQEMU_CMD_SET_IRQFD = 6,       /* V->R, no payload, 2 fds, no reply */
    MPQEMU_CMD_DEVICE_RESET = 7,    /* V->R, no payload, RET size 0 */
    MPQEMU_CMD_MAX,
} MPQemuCmd;

typedef struct MPQemuHeader {
    int32_t cmd;
    uint32_t pad;       /* QEMU sends 0; ignored */
    uint64_t size;      /* payload bytes that follow */
} MPQemuHeader;

typedef struct MPQemuPciConf {
    uint32_t addr;      /* config offset */
    uint32_t val;       /* value to write, low @len bytes; 0 in reads */
    int32_t len;        /* 1, 2 or 4 */
} MPQemuPciConf;

typedef struct MPQemuBarAccess {
    uint64_t addr;      /* absolute guest address (or I/O port) */
    uint64_t val;       /* value to write; 0 in reads */
    uint32_t size;      /* 1, 2, 4 or 8 */
    uint8_t memory;     /* 1: memory space, 0: I/O space */
    uint8_t pad[3];
} MPQemuBarAccess;

/* Slots in a SYNC_SYSMEM payload. */
#define MPQEMU_MAX_REGIONS 8

typedef struct MPQemuSyncSysmem {
    uint64_t gpas[MPQEMU_MAX_REGIONS];
    uint64_t sizes[MPQEMU_MAX_REGIONS];
    int64_t offsets[MPQEMU_MAX_REGIONS];
} MPQemuSyncSysmem;

/* The receiver's payload buffer is a union sized by SYNC_SYSMEM: a larger
 * size field is a protocol error on both peers. */
#define MPQEMU_MAX_PAYLOAD sizeof(MPQemuSyncSysmem)

/*
 * Room for fds in one header's control message.  QEMU receives up to 16
 * (and rejects more than 7); we take as many so that an excess is reported
 * as "N fds" rather than as truncation, and reject above what the command
 * allows.  More than this sets MSG_CTRUNC: the kernel drops the rest.
 */
#define MPQEMU_MAX_FDS 16

G_STATIC_ASSERT(sizeof(MPQemuHeader) == 16);
G_STATIC_ASSERT(offsetof(MPQemuHeader, size) == 8);
G_STATIC_ASSERT(sizeof(MPQemuPciConf) == 12);
G_STATIC_ASSERT(sizeof(MPQemuBarAccess) == 24);
G_STATIC_ASSERT(offsetof(MPQemuBarAccess, memory) == 20);
G_STATIC_ASSERT(sizeof(MPQemuSyncSysmem) == 192);

typedef struct MPQemuMsg {
    MPQemuHeader hdr;
    union {
        uint8_t bytes[MPQEMU_MAX_PAYLOAD];
        uint64_t u64;
        MPQemuPciConf conf;
        MPQemuBarAccess bar;
        MPQemuSyncSysmem sysmem;
    } data;
    int fds[MPQEMU_MAX_FDS];
    unsigned nfds;
} MPQemuMsg;

/* "SYNC_SYSMEM", ..., or "unknown". */
const char *mpqemu_cmd_name(int32_t cmd);

/* --- message I/O ---------------------------------------------------- */

typedef enum MPQemuRecv {
    MPQEMU_RECV_OK,
    MPQEMU_RECV_EOF,    /* the peer closed the socket at a message boundary */
    MPQEMU_RECV_ERROR,  /* *errp says why; the stream is unusable */
} MPQemuRecv;

/*
 * Reads one message from the blocking stream socket @sock: the 16-byte
 * header with a control buffer for MPQEMU_MAX_FDS fds (MSG_CMSG_CLOEXEC),
 * then exactly hdr.size payload bytes.  Fails on a short read (EOF inside
 * a message), MSG_CTRUNC (more fds than fit), control data that is not
 * SCM_RIGHTS, fds attached to payload bytes, and hdr.size >
 * MPQEMU_MAX_PAYLOAD (the payload is then not read).  On success the
 * caller owns msg->fds; on failure none are left open.
 */
MPQemuRecv mpqemu_msg_recv(int sock, MPQemuMsg *msg, GError **errp);

/*
 * Sends @hdr (as given, so a test may lie in hdr.size) and @len payload
 * bytes, with @nfds fds attached to the first byte.  Retries short writes
 * and EINTR; never raises SIGPIPE.  The caller keeps its fds.
 */
bool mpqemu_msg_send_raw(int sock, const MPQemuHeader *hdr,
                         const void *payload, size_t len, const int *fds,
                         unsigned nfds, GError **errp);

/* Sends command @cmd with a payload of @len bytes (hdr.size = @len). */
bool mpqemu_msg_send(int sock, MPQemuCmd cmd, const void *payload,
                     size_t len, const int *fds, unsigned nfds,
                     GError **errp);

/* Closes every fd a received message carries. */
void mpqemu_msg_close_fds(MPQemuMsg *msg);

/* --- validation (remote/mpqemu/validate.c) --------------------------- */

/*
 * Each predicate checks one request from the VMM completely: payload size,
 * fd count and every field.  @config_size is the device's config space size.
 * They fail with a message naming the offending field.
 */
bool is_valid_sync_sysmem(const MPQemuMsg *msg, GError **errp);
bool is_valid_pci_config(const MPQemuMsg *msg, uint32_t config_size,
                         GError **errp);
bool is_valid_bar_access(const MPQemuMsg *msg, GError **errp);
bool is_valid_set_irqfd(const MPQemuMsg *msg, GError **errp);
bool is_valid_device_reset(const MPQemuMsg *msg, GError **errp);
/* Dispatches to the above by command; rejects RET and unknown commands. */
bool is_valid_mpqemu_request(const MPQemuMsg *msg, uint32_t config_size,
                             GError **errp);

/* --- connections ---------------------------------------------------- */

typedef struct MPQemuLink MPQemuLink;

/*
 * Binds @dev (not yet realized) to the connected stream socket @sock, which
 * the link then owns.  Sets the device's PCI transport (INTx only: no
 * MSI/MSI-X, 32-bit BARs) and its QMP transport description.  @name names
 * the link in log lines (the x-remote-object id).
 */
MPQemuLink *mpqemu_link_new(PCIDevice *dev, int sock, const char *name);

/*
 * Starts the link's thread, which serves requests until the VMM closes the
 * socket or misbehaves; it then logs why, resets the device, releases
 * guest memory and the interrupt fds, closes the socket and counts the
 * link closed (qemu_remote_link_closed()).  Counts the link open first.
 */
bool mpqemu_link_start(MPQemuLink *link, GError **errp);

/* Stops the thread (shutting the socket down) and frees the link.  Main
 * thread, before the device is freed. */
void mpqemu_link_free(MPQemuLink *link);

/* "connected" while the socket is served, else "disconnected". */
const char *mpqemu_link_state(MPQemuLink *link);

/* --- -object x-remote-object,id=ID,devid=DEV,fd=N -------------------- */

/* Registered in remote/object-list.c. */
extern const ObjectType remote_object_type;

/* The system calls a running link needs (remote/mpqemu/seccomp.c);
 * x-remote-object requires it. */
extern const SandboxPolicy mpqemu_sandbox_policy;

#endif
