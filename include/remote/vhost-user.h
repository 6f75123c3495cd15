/*
 * vhost-user backend transport: serves one virtio device to a vhost-user
 * frontend (QEMU's vhost-user-blk-pci) over a UNIX socket.  The data path
 * (virtqueues in guest memory, kick and call eventfds) runs between the
 * guest and the device's iothreads without passing through the frontend.
 *
 * The transport decodes and validates every message, keeps the session
 * state (features, memory table, rings, in-flight region, dirty log) and
 * drives the device through VhostUserBackendOps: the device never sees a
 * vhost-user message.  remote/vhost-user/virtio-backend.c implements these
 * ops for any device of the virtio core (include/hw/virtio.h).
 *
 * Threads: a server and its connection run in the GMainContext that was
 * current (thread-default) when the server was created, normally the main
 * loop.  Backend ops are called from that thread; queue_stop() blocks it
 * until the queue has drained.  See docs/interop/vhost-user.md for the
 * protocol subset and docs/vhost-user.md for users.
 */
#ifndef REMOTE_VHOST_USER_H
#define REMOTE_VHOST_USER_H

#include "qemu-remote/osdep.h"
#include "qemu-remote/sandbox.h"
#include "hw/dma.h"

/*
 * The most queues a backend may serve.  QEMU's vhost-user-blk asks for one
 * per vCPU by default and refuses a backend that offers fewer; the
 * protocol's KICK/CALL messages carry the queue index in 8 bits.
 */
#define VHOST_USER_MAX_QUEUES 64

typedef struct VuInflightQueue VuInflightQueue;

/* One ring as the transport hands it to the device at start. */
typedef struct VhostUserVringInfo {
    unsigned index;
    uint16_t size;              /* power of two */
    /* Guest-physical addresses of the three parts, translated from the
     * frontend's virtual addresses through the memory table; each part
     * lies wholly inside one region of the device's DMASpace. */
    uint64_t desc_gpa;
    uint64_t avail_gpa;
    uint64_t used_gpa;
    uint16_t last_avail_idx;    /* SET_VRING_BASE */
    int kick_fd;                /* eventfd the frontend signals */
    int call_fd;                /* eventfd to interrupt the guest; -1 none */
    int err_fd;                 /* eventfd to report a broken ring; -1 none */
    bool log_used;              /* mark used-ring writes in the dirty log */
    /* In-flight tracking region of this queue (INFLIGHT_SHMFD), or NULL.
     * The device records pops and completions in it and, at start,
     * resubmits what it holds (remote/vhost-user/inflight.h). */
    VuInflightQueue *inflight;
} VhostUserVringInfo;

/*
 * What the transport calls on the device.  All run on the server's thread.
 * The fds in VhostUserVringInfo stay owned by the transport and valid until
 * queue_stop() returns or queue_set_call() replaces them.
 */
typedef struct VhostUserBackendOps {
    /* Virtio features the device offers (device and transport bits such as
     * VERSION_1, EVENT_IDX); the transport adds its own vhost-only bits. */
    uint64_t (*get_features)(void *opaque);
    /* The features the driver acknowledged, vhost-only bits removed.
     * Called only while no queue runs.  Fails when the device cannot
     * honour them. */
    bool (*set_features)(void *opaque, uint64_t features, GError **errp);
    /* Size of the device config space (<= 256). */
    uint32_t (*get_config_size)(void *opaque);
    /* Reads/writes config bytes [@offset, @offset + @len), already checked
     * against get_config_size().  Writes to read-only fields are ignored
     * by the device. */
    void (*get_config)(void *opaque, uint8_t *buf, uint32_t offset,
                       uint32_t len);
    void (*set_config)(void *opaque, const uint8_t *buf, uint32_t offset,
                       uint32_t len);
    /* Starts processing a ring: resubmits its in-flight requests, then
     * serves the avail ring from @info->last_avail_idx and watches the kick
     * fd.  Fails (nothing started) when the ring cannot be used, e.g. its
     * in-flight region is inconsistent. */
    bool (*queue_start)(void *opaque, const VhostUserVringInfo *info,
                        GError **errp);
    /* Stops a running ring: no more pops, waits until every popped request
     * has completed and been pushed to the used ring, stops watching the
     * kick fd.  Returns the next avail index (GET_VRING_BASE). */
    uint16_t (*queue_stop)(void *opaque, unsigned index);
    /* Replaces the interrupt eventfd of a running ring (-1: none). */
    void (*queue_set_call)(void *opaque, unsigned index, int call_fd);
    /* Turns logging of a running ring's used-ring writes on or off (at
     * @used_gpa), without stopping it: QEMU flips it at the start and end
     * of a migration, on every ring, while the guest's I/O goes on. */
    void (*queue_set_log)(void *opaque, unsigned index, bool log_used,
                          uint64_t used_gpa);
    /* Back to the power-on state (no queue is running when called). */
    void (*reset)(void *opaque);
} VhostUserBackendOps;

/* A device as the transport sees it. */
typedef struct VhostUserBackend {
    const VhostUserBackendOps *ops;
    void *opaque;
    unsigned num_queues;        /* GET_QUEUE_NUM; 1..VHOST_USER_MAX_QUEUES */
    uint16_t max_queue_size;    /* largest ring accepted; power of two */
    /* The device's view of guest memory; the transport installs the
     * memory table and the dirty log into it. */
    DMASpace *dma;
} VhostUserBackend;

/*
 * The ops for a device of the virtio core (include/hw/virtio.h), in
 * remote/vhost-user/virtio-backend.c.  vhost_user_virtio_backend() fills
 * @be to serve @vdev, whose transport (virtio_device_set_transport(), with
 * its DMASpace) must be set: its queues, their maximum size, its DMA space.
 * The device's queues take the frontend's kick, call and error eventfds,
 * its used-ring logging and the in-flight region; a device broken by a
 * malformed request is reset when the frontend starts it again.
 */
typedef struct VirtIODevice VirtIODevice;
extern const VhostUserBackendOps vhost_user_virtio_ops;
void vhost_user_virtio_backend(VhostUserBackend *be, VirtIODevice *vdev);

/*
 * What a server and its sessions need under -sandbox
 * (remote/vhost-user/seccomp.c): vhost_user_server_new() requires the
 * first, vhost_user_listen_unix() the second (which includes the first).
 */
extern const SandboxPolicy vhost_user_sandbox_policy;
extern const SandboxPolicy vhost_user_listen_sandbox_policy;

typedef struct VhostUserServer VhostUserServer;

/*
 * Serves @backend (copied; its ops and opaque must outlive the server) on
 * @fd, which the server takes over (and closes when freed):
 *  - a listening UNIX socket: one frontend at a time; when it disconnects
 *    the server accepts the next;
 *  - a connected UNIX socket (backend program convention "--fd"): one
 *    session; @disconnected is called when it ends.
 * @name labels log and error messages ("export 'exp0'").  Fails when @fd is
 * not a UNIX stream socket.
 */
VhostUserServer *vhost_user_server_new(const char *name, int fd,
                                       const VhostUserBackend *backend,
                                       void (*disconnected)(void *opaque),
                                       void *opaque, GError **errp);

/*
 * Closes the connection (stopping the device's queues and resetting it)
 * and the socket, and frees the server.  Does not unlink socket files.
 */
void vhost_user_server_free(VhostUserServer *server);

/* True while a frontend is connected. */
bool vhost_user_server_is_connected(VhostUserServer *server);

/*
 * Tells the frontend that the device config changed (disk resize), with a
 * CONFIG_CHANGE_MSG on the backend channel.  Fails when no frontend is
 * connected or it did not negotiate the backend channel and CONFIG.
 */
bool vhost_user_server_config_changed(VhostUserServer *server, GError **errp);

/*
 * Creates a listening UNIX socket bound to @path (close-on-exec,
 * non-blocking).  A stale socket file is replaced; any other existing file
 * is an error.  Returns the fd or -1 with @errp set.
 */
int vhost_user_listen_unix(const char *path, GError **errp);

/*
 * The JSON that "--print-capabilities" prints for a backend of @type
 * ("block"), listing @features (NULL-terminated).  Newly allocated.
 */
char *vhost_user_capabilities_json(const char *type,
                                   const char *const *features);

#endif
