/*
 * Virtio core internals shared by virtio.c (device life cycle, status,
 * queue start/stop) and virtqueue.c (the ring itself).
 */
#ifndef HW_VIRTIO_INTERNAL_H
#define HW_VIRTIO_INTERNAL_H

#include "qemu-remote/osdep.h"
#include "hw/virtio.h"

struct VirtQueue {
    VirtIODevice *vdev;
    unsigned index;
    uint16_t max_size;
    IOThread *iothread;         /* NULL: the device's */

    /* Set up by the transport while the queue is stopped. */
    uint16_t num;
    uint64_t desc_addr;
    uint64_t avail_addr;
    uint64_t used_addr;
    bool enabled;
    uint16_t vector;
    bool restore;               /* start from base / used->idx in memory */
    uint16_t base;
    int own_kick_fd;            /* eventfd of our own */
    int kick_fd;                /* watched: own_kick_fd or borrowed */
    int call_fd;                /* -1: transport notify_queue */
    int err_fd;                 /* -1: none */
    bool log_used;
    uint64_t log_used_gpa;
    const VirtQueueInflightOps *inflight_ops;
    void *inflight_opaque;
    uint16_t *resubmit;         /* heads to pop before the avail ring */
    unsigned n_resubmit;

    /* Running state, iothread only (running is read atomically). */
    int running;
    GSource *kick_source;
    DMATable *table;            /* snapshot the rings are mapped from */
    uint8_t *desc;              /* host pointers into @table */
    uint8_t *avail;
    uint8_t *used;
    bool event_idx;
    bool indirect;
    bool notify_on_empty;
    uint16_t last_avail_idx;
    uint16_t shadow_avail_idx;  /* avail->idx as last read */
    uint16_t used_idx;
    uint16_t signalled_used;
    bool signalled_used_valid;
    bool notify_off;            /* the device turned driver kicks off */
    bool polling;               /* the iothread polls: kicks off too */
    bool poll_registered;       /* an iothread poll handler is set */
    unsigned inuse;
    unsigned filled;            /* used elements written, not published */
    uint16_t *batch_heads;      /* their heads, for the in-flight hooks */
    unsigned resubmit_pos;
    unsigned budget;            /* pops left in this kick */
    bool budget_exhausted;
};

/* virtqueue.c: maps the rings of @vq from @table (which the queue then
 * references).  False (nothing changed) when a part is misaligned or not
 * inside granted memory. */
bool virtqueue_map_rings(VirtQueue *vq, DMATable *table);
/* Drops the ring mapping and its table reference. */
void virtqueue_unmap_rings(VirtQueue *vq);
/* Reads used->idx from the ring. */
uint16_t virtqueue_read_used_idx(VirtQueue *vq);
/* The iothread polls @vq's avail ring (true) or is about to sleep (false):
 * driver kicks stay off while it polls, whatever the device asks. */
void virtqueue_set_polling(VirtQueue *vq, bool polling);

#endif
