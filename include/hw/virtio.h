/*
 * The virtio core: devices, feature negotiation, status, config space and
 * split virtqueues, independent of the transport that carries them
 * (virtio-pci over mpqemu or vfio-user, vhost-user).
 *
 * Who calls what, from which thread:
 *
 *   device model (virtio-blk...)      transport (virtio-pci, vhost-user)
 *   ----------------------------      ----------------------------------
 *   VirtioDeviceOps callbacks   <---  virtio_set_status(), features,
 *   virtqueue_pop()/push() in         config, queue setup/start/stop,
 *   its iothread                      doorbells: its own thread
 *                               --->  VirtioTransportOps: interrupts
 *
 * A device embeds a VirtIODevice as its first member and calls
 * virtio_device_init() with its ops.  Each device has one iothread; every
 * queue's kick eventfd is watched by that iothread's GMainContext, and the
 * device's handle_queue(), drain() and reset() run there — unless a queue
 * was given an iothread of its own (virtio_queue_set_iothread()), whose
 * handle_queue() and drain() then run in that one.  Operations that must
 * not race with queue processing (reset, queue stop) are marshalled into
 * the iothreads and wait for them (iothread_run_sync), after the device
 * has completed and pushed every request it had in flight.
 *
 * Guest memory is reached only through the device's DMASpace
 * (include/hw/dma.h).  Each kick takes a reference to the current DMATable
 * snapshot; a popped element keeps the reference its iovecs came from
 * until it is pushed or detached, so the VMM can replace the memory table
 * at any time.
 *
 * Untrusted guest: everything the driver controls is validated in
 * hw/virtio/virtqueue.c (the checklist of docs/interop/virtio.md and
 * specs/virtio.md §11).  A violation marks the device broken: it logs the
 * reason once, sets DEVICE_NEEDS_RESET (modern drivers) with a config
 * interrupt, signals the queue's error eventfd if one is set, and never
 * touches the rings again until the driver resets the device.
 *
 * The transport seam (docs/devel/adding-a-transport.md):
 *  - status-register transports (virtio-pci) call virtio_set_status(),
 *    which negotiates features at FEATURES_OK, starts enabled queues at
 *    DRIVER_OK and resets on 0;
 *  - transports without a status register (vhost-user) call
 *    virtio_set_features() and start/stop each queue themselves with its
 *    base index, kick/call/error eventfds, dirty logging of the used ring
 *    and in-flight tracking hooks, and read the base back after a stop.
 */
#ifndef HW_VIRTIO_H
#define HW_VIRTIO_H

#include "qemu-remote/osdep.h"
#include "qemu-remote/iothread.h"
#include "hw/dma.h"

#include <sys/uio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

/*
 * Largest queue a device may declare: QEMU's VIRTQUEUE_MAX_SIZE, what
 * virtio-blk-pci's queue-size accepts.
 */
#define VIRTQUEUE_MAX_SIZE 1024

/*
 * Most entries of one indirect table.  The spec bounds direct chains by
 * the queue size only; an indirect table is bounded by its length, which
 * the guest picks, so we cap it at the largest queue we support.
 */
#define VIRTQUEUE_MAX_INDIRECT 1024

/*
 * Most iovecs one element may map to: preadv/pwritev's IOV_MAX.  A
 * descriptor that crosses from one granted region into the next takes two.
 */
#define VIRTQUEUE_MAX_SG 1024

/* MSI-X "no vector". */
#define VIRTIO_NO_VECTOR 0xffff

typedef struct VirtIODevice VirtIODevice;
typedef struct VirtQueue VirtQueue;

/* Number of iovecs an element holds without allocating. */
#define VIRTQUEUE_ELEMENT_INLINE_SG 8

/*
 * One request: a descriptor chain mapped into host iovecs.  Device-readable
 * buffers ("out") come first, device-writable ones ("in") after them.  The
 * caller provides the storage (from a free list); it grows on demand up to
 * VIRTQUEUE_MAX_SG entries and is kept for reuse.
 */
typedef struct VirtQueueElement {
    uint16_t index;             /* head descriptor, the id pushed back */
    unsigned out_num;
    unsigned in_num;
    struct iovec *out_sg;
    struct iovec *in_sg;
    uint64_t out_len;           /* total bytes of out_sg */
    uint64_t in_len;            /* total bytes of in_sg */
    DMATable *table;            /* the snapshot out_sg/in_sg point into */

    /* Storage; private to the core. */
    unsigned sg_cap;
    struct iovec *sg;
    uint64_t *sg_gpa;           /* guest address of each sg entry */
    struct iovec inline_sg[VIRTQUEUE_ELEMENT_INLINE_SG];
    uint64_t inline_gpa[VIRTQUEUE_ELEMENT_INLINE_SG];
} VirtQueueElement;

/* What a device model implements.  Unset optional callbacks do nothing. */
typedef struct VirtioDeviceOps {
    /* Device-specific feature bits (0-23, and e.g. VERSION_1 is added by
     * the core); read once at virtio_device_init(). */
    uint64_t (*get_features)(VirtIODevice *vdev);
    /* Optional: refuse an acknowledged feature set (missing dependency).
     * Any thread. */
    bool (*validate_features)(VirtIODevice *vdev, uint64_t features);
    /* Optional: the driver's features are final.  Transport thread, while
     * no queue runs. */
    void (*set_features)(VirtIODevice *vdev, uint64_t features);
    /* Fills @config (config_len bytes, zeroed first).  Transport thread. */
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    /* Optional: the driver wrote config bytes; @config holds the whole
     * space after the write.  Take only writable fields.  Transport
     * thread. */
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /* A running queue was kicked (or started): pop and process requests.
     * Iothread. */
    void (*handle_queue)(VirtIODevice *vdev, VirtQueue *vq);
    /* Complete every request popped from the queues processed in the calling
     * iothread (wait for the backend) and push it.  Iothread; those queues
     * are not popped meanwhile.  A device whose queues all run in its own
     * iothread drains everything. */
    void (*drain)(VirtIODevice *vdev);
    /* Optional: back to the power-on state, after drain().  Iothread. */
    void (*reset)(VirtIODevice *vdev);
} VirtioDeviceOps;

/* What a transport implements. */
typedef struct VirtioTransportOps {
    /* Interrupt for @vq (used ring updated, suppression already checked).
     * Iothread.  Not called for queues with a call eventfd. */
    void (*notify_queue)(void *opaque, VirtQueue *vq);
    /* Configuration-change interrupt (config changed, NEEDS_RESET).  Any
     * thread. */
    void (*notify_config)(void *opaque);
} VirtioTransportOps;

/* Hooks at pop and push for vhost-user in-flight tracking. */
typedef struct VirtQueueInflightOps {
    /* A request with head @head was popped from the avail ring. */
    void (*pop)(void *opaque, uint16_t head);
    /* @heads are about to appear in the used ring (before the used
     * elements are written). */
    void (*batch_begin)(void *opaque, const uint16_t *heads, unsigned n);
    /* used->idx now is @used_idx and includes @heads. */
    void (*batch_end)(void *opaque, const uint16_t *heads, unsigned n,
                      uint16_t used_idx);
} VirtQueueInflightOps;

struct VirtIODevice {
    const VirtioDeviceOps *ops;
    char *name;                 /* for messages: the device id */
    uint16_t device_id;         /* VIRTIO_ID_* */
    IOThread *iothread;
    DMASpace *dma;              /* set by the transport */
    const VirtioTransportOps *transport;
    void *transport_opaque;

    GMutex lock;                /* status, features, broken */
    uint8_t status;
    bool reset_pending;         /* an asynchronous reset is running */
    uint64_t host_features;     /* offered */
    uint64_t guest_features;    /* acknowledged and accepted */
    uint64_t staged_features;   /* written by the driver, not yet final */
    bool broken;
    bool broken_reported;       /* warned once for this device */
    uint8_t config_generation;
    uint32_t config_len;
    uint8_t *config;

    unsigned num_queues;
    VirtQueue *vqs;
};

/* --- device side ----------------------------------------------------- */

/*
 * Initialises @vdev (embedded in the device's instance) with @num_queues
 * queues of at most @queue_size entries (a power of two, <=
 * VIRTQUEUE_MAX_SIZE) each, a config space of @config_len bytes, and
 * @iothread for its data path.  The offered features are the device's
 * get_features() plus VERSION_1, INDIRECT_DESC (if @indirect_desc) and
 * RING_EVENT_IDX (if @event_idx).  Fails when an eventfd cannot be made.
 */
bool virtio_device_init(VirtIODevice *vdev, const VirtioDeviceOps *ops,
                        const char *name, uint16_t device_id,
                        uint32_t config_len, unsigned num_queues,
                        uint16_t queue_size, bool indirect_desc,
                        bool event_idx, IOThread *iothread, GError **errp);

/* Stops and resets the device (draining requests), frees its queues.
 * The iothread is not destroyed. */
void virtio_device_cleanup(VirtIODevice *vdev);

/* True when @bit was negotiated.  Any thread. */
static inline bool virtio_has_feature(const VirtIODevice *vdev,
                                      unsigned bit)
{
    return (vdev->guest_features >> bit) & 1;
}

/*
 * The device is broken beyond what a request status can express: logs
 * @fmt once, marks the device broken, sets DEVICE_NEEDS_RESET and sends a
 * config interrupt (VERSION_1 drivers), signals @vq's error eventfd (or
 * every queue's, when @vq is NULL).  Queues stop until reset.  Any thread.
 */
void virtio_error(VirtIODevice *vdev, VirtQueue *vq, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* The device changed its config: bumps config_generation and sends a
 * config interrupt. */
void virtio_notify_config(VirtIODevice *vdev);

/* --- transport side: device level ----------------------------------- */

void virtio_device_set_transport(VirtIODevice *vdev,
                                 const VirtioTransportOps *ops, void *opaque,
                                 DMASpace *dma);

/*
 * Accepts @features as the driver's final set: fails (nothing changed)
 * when it has bits that were not offered or the device refuses it.  A
 * transport without a status register (vhost-user, legacy virtio-pci)
 * calls it directly.  Transport thread, while no queue runs.
 */
bool virtio_set_features(VirtIODevice *vdev, uint64_t features,
                         GError **errp);

/*
 * Stores what a modern driver wrote to its feature registers; they take
 * effect when it sets FEATURES_OK.  Bits not offered are dropped.
 */
void virtio_stage_features(VirtIODevice *vdev, uint64_t features);

/*
 * The driver wrote the device status register.  0 resets the device
 * (after draining its requests) and returns once done.  FEATURES_OK is
 * kept only if the staged features are acceptable (and include VERSION_1
 * when @modern).  DRIVER_OK starts every enabled queue.  Bits already set
 * cannot be cleared except by writing 0; DEVICE_NEEDS_RESET is the
 * device's own.
 *
 * With @wait false nothing blocks (for callers holding locks the iothread
 * may need): a reset then completes asynchronously, status reads keep
 * showing the old value until it has, and queues start asynchronously.
 */
void virtio_set_status(VirtIODevice *vdev, uint8_t status, bool modern,
                       bool wait);

/* Status as the driver reads it (non-zero while a reset is pending). */
uint8_t virtio_get_status(VirtIODevice *vdev);

/*
 * Full reset: stops the queues, waits for the device to complete and push
 * every request in flight, calls its reset(), forgets features, status and
 * queue setup.  No completion is written to guest memory after it returns.
 * Transport or main thread.
 */
void virtio_reset(VirtIODevice *vdev);

/*
 * Config space access of @len (1, 2, 4 or 8) bytes at @offset, little-
 * endian.  Reads beyond the config space return 0, writes beyond it are
 * ignored; false in both cases.  Transport thread.
 */
bool virtio_config_read(VirtIODevice *vdev, uint32_t offset, unsigned len,
                        uint64_t *val);
bool virtio_config_write(VirtIODevice *vdev, uint32_t offset, unsigned len,
                         uint64_t val);
/* Copies [@offset, @offset + @len) of the config space (vhost-user
 * GET_CONFIG); bytes beyond config_len read as 0. */
void virtio_config_get_bytes(VirtIODevice *vdev, uint32_t offset,
                             uint8_t *buf, uint32_t len);
/* Writes bytes as the driver would (vhost-user SET_CONFIG). */
void virtio_config_set_bytes(VirtIODevice *vdev, uint32_t offset,
                             const uint8_t *buf, uint32_t len);

/* --- transport side: queues ----------------------------------------- */

/* Queue @n, or NULL when @n >= num_queues. */
VirtQueue *virtio_get_queue(VirtIODevice *vdev, unsigned n);
unsigned virtio_queue_index(const VirtQueue *vq);
VirtIODevice *virtio_queue_device(const VirtQueue *vq);

/* Largest size (what the driver reads before choosing one). */
uint16_t virtio_queue_get_max_size(const VirtQueue *vq);
uint16_t virtio_queue_get_size(const VirtQueue *vq);
/* Sets the ring size: a power of two, 1..max.  False (ignored) otherwise
 * or while the queue runs. */
bool virtio_queue_set_size(VirtQueue *vq, uint16_t size);

/* Guest-physical addresses of descriptor table, avail (driver) ring and
 * used (device) ring.  Ignored while the queue runs. */
void virtio_queue_set_addrs(VirtQueue *vq, uint64_t desc, uint64_t avail,
                            uint64_t used);
void virtio_queue_get_addrs(const VirtQueue *vq, uint64_t *desc,
                            uint64_t *avail, uint64_t *used);

/* The driver's enable bit (virtio-pci queue_enable, legacy PFN != 0). */
void virtio_queue_set_enabled(VirtQueue *vq, bool enabled);
bool virtio_queue_enabled(const VirtQueue *vq);

/* The transport's interrupt vector for the queue (VIRTIO_NO_VECTOR after
 * reset); stored here for the transport's convenience. */
void virtio_queue_set_vector(VirtQueue *vq, uint16_t vector);
uint16_t virtio_queue_get_vector(const VirtQueue *vq);

/*
 * Next avail index to process (vhost-user SET_VRING_BASE).  When set, the
 * next start reads the used index from the used ring in guest memory
 * instead of starting at 0.  Ignored while the queue runs.
 */
void virtio_queue_set_last_avail_idx(VirtQueue *vq, uint16_t idx);
/* The next avail index to process (GET_VRING_BASE after a stop). */
uint16_t virtio_queue_get_last_avail_idx(const VirtQueue *vq);

/*
 * Eventfds.  Each queue has a kick eventfd of its own; @fd >= 0 makes the
 * queue watch @fd instead (borrowed: the caller keeps it open until it is
 * replaced or the queue stops), -1 goes back to the queue's own.  Set
 * before start.  A call eventfd (>= 0) receives the queue's interrupts
 * instead of VirtioTransportOps.notify_queue; it may be replaced while
 * the queue runs.  An error eventfd is signalled when the queue breaks.
 */
void virtio_queue_set_kick_fd(VirtQueue *vq, int fd);
void virtio_queue_set_call_fd(VirtQueue *vq, int fd);
void virtio_queue_set_err_fd(VirtQueue *vq, int fd);

/*
 * Dirty logging of the used ring (vhost-user VHOST_VRING_F_LOG): every
 * used-ring write is marked at @log_gpa + its offset in the ring.
 * Buffers the device writes are always marked while the DMA space has a
 * log.  May change while the queue runs.
 */
void virtio_queue_set_used_log(VirtQueue *vq, bool enable, uint64_t log_gpa);

/*
 * The iothread that processes @vq (NULL: the device's), for devices whose
 * queues run in several iothreads (vhost-user exports with
 * iothread-vq-mapping).  The device must support it: its handle_queue()
 * and drain() then run in each queue's iothread.  Returns false (nothing
 * changed) while the queue runs.  virtio_queue_get_iothread() never
 * returns NULL.
 */
bool virtio_queue_set_iothread(VirtQueue *vq, IOThread *iothread);
IOThread *virtio_queue_get_iothread(const VirtQueue *vq);

/* In-flight tracking hooks (NULL ops: none).  Set before start. */
void virtio_queue_set_inflight_ops(VirtQueue *vq,
                                   const VirtQueueInflightOps *ops,
                                   void *opaque);

/*
 * Heads to process before the avail ring at the next start (requests a
 * crashed backend had popped but not completed; their chains are re-read
 * from the descriptor table).  Each must be < the queue size; at most the
 * queue size of them.  Set before start.
 */
bool virtio_queue_set_resubmit(VirtQueue *vq, const uint16_t *heads,
                               unsigned n, GError **errp);

/*
 * Starts processing @vq in the device's iothread: maps and checks the
 * rings (alignment, inside guest memory), watches the kick eventfd and
 * processes what is already available.  Waits for the iothread when
 * @wait; else returns at once (a failure then breaks the device).  Fails
 * when the ring is unusable, marking the device broken.  A queue of a
 * broken device does not start.
 */
bool virtio_queue_start(VirtQueue *vq, bool wait, GError **errp);

/*
 * Stops @vq: no more pops, the device completes and pushes everything it
 * had in flight, the kick eventfd is no longer watched.  Returns the next
 * avail index.  Waits for the iothread.  A stopped queue may be started
 * again.
 */
uint16_t virtio_queue_stop(VirtQueue *vq);

bool virtio_queue_running(const VirtQueue *vq);

/* Doorbell: wakes the iothread to process @vq (its own kick eventfd).
 * Any thread; ignored unless the queue runs. */
void virtio_queue_notify(VirtQueue *vq);

/* --- device side: the ring (iothread only) ---------------------------- */

/* Prepares/frees element storage. */
void virtqueue_element_init(VirtQueueElement *elem);
void virtqueue_element_release(VirtQueueElement *elem);

/*
 * Takes the next available request into @elem (which must not hold one).
 * False when there is none, the queue is not running, the device is
 * broken, or this kick's work budget (one queue's worth of requests) is
 * spent: the core then kicks the queue again after other work.  A
 * malformed chain breaks the device and returns false.
 */
bool virtqueue_pop(VirtQueue *vq, VirtQueueElement *elem);

/*
 * Returns @elem to the driver with @len bytes written into its in_sg:
 * writes the used element (published by the next flush), marks the
 * written bytes in the dirty log, drops the element's table reference.
 * @len is clamped to in_len.  On a broken device nothing is written.
 */
void virtqueue_fill(VirtQueue *vq, VirtQueueElement *elem, uint32_t len);

/* Publishes the filled elements (used->idx) and interrupts the driver if
 * it wants one. */
void virtqueue_flush(VirtQueue *vq);

/* fill + flush. */
void virtqueue_push(VirtQueue *vq, VirtQueueElement *elem, uint32_t len);

/* Gives up @elem without completing it (the device is broken anyway, or
 * the request is being dropped): releases its table reference. */
void virtqueue_detach_element(VirtQueue *vq, VirtQueueElement *elem);

/* True when no request is available (or the queue cannot be read). */
bool virtqueue_empty(VirtQueue *vq);

/*
 * Enables/disables kicks from the driver (used.flags NO_NOTIFY, or the
 * avail_event index with EVENT_IDX).  After enabling, re-check
 * virtqueue_empty(): a request may have arrived just before.
 */
void virtqueue_set_notification(VirtQueue *vq, bool enable);

/* Requests popped and not yet pushed or detached. */
unsigned virtqueue_in_use(const VirtQueue *vq);

/* True when virtqueue_pop() refused because this kick's budget is spent
 * (a handler's loop must stop then; the core calls it again). */
bool virtqueue_budget_exhausted(const VirtQueue *vq);

/* --- iovec helpers ----------------------------------------------------- */

/* Copies up to @len bytes from @iov starting at byte @offset into @buf;
 * returns the number copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned niov, size_t offset,
                  void *buf, size_t len);
/* Copies @len bytes of @buf into @iov from byte @offset; returns the
 * number copied. */
size_t iov_from_buf(const struct iovec *iov, unsigned niov, size_t offset,
                    const void *buf, size_t len);

#endif
