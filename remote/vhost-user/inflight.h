/*
 * In-flight request tracking in a region shared with the frontend
 * (vhost-user INFLIGHT_SHMFD, split rings).
 *
 * The frontend keeps the region's fd while the backend lives; when the
 * backend dies and a new one connects, SET_INFLIGHT_FD hands the same
 * region back and the new backend resubmits every request that was popped
 * but never completed.  Layout per queue (docs/interop/vhost-user.md):
 *
 *   0  u64 features         (0)
 *   8  u16 version          (1; 0 = never initialised)
 *  10  u16 desc_num         (queue size)
 *  12  u16 last_batch_head  (head of the last completed batch's chain)
 *  14  u16 used_idx         (used->idx after the last completed batch)
 *  16  desc[desc_num], 16 bytes each:
 *        u8 inflight, u8 pad[5], u16 next, u64 counter
 *
 * Queue i starts at i * vu_inflight_queue_region_size(queue size).
 *
 * The region is shared with the frontend, which may scribble on it at any
 * time: every index read from it is checked before use, and nothing read
 * from it can make the backend loop or touch memory outside it.
 *
 * Thread: a queue's functions run in the thread that processes the queue.
 */
#ifndef REMOTE_VHOST_USER_INFLIGHT_H
#define REMOTE_VHOST_USER_INFLIGHT_H

#include "qemu-remote/osdep.h"

#define VU_INFLIGHT_VERSION         1
#define VU_INFLIGHT_HEADER_SIZE     16
#define VU_INFLIGHT_DESC_SIZE       16
#define VU_INFLIGHT_ALIGN           64

/* The view of one queue's part of the region. */
typedef struct VuInflightQueue {
    uint8_t *base;          /* start of this queue's region */
    uint16_t queue_size;
    uint64_t counter;       /* the last counter value handed out */
    /* The region was blank (version 0) and initialised by the attach:
     * nothing to recover, the frontend's ring base stands. */
    bool fresh;
} VuInflightQueue;

/*
 * Bytes one queue of @queue_size descriptors needs (the header and the
 * descriptor states, rounded up to 64 bytes: libvhost-user's size, so a
 * region either created stays usable by the other).
 */
uint64_t vu_inflight_queue_region_size(uint16_t queue_size);

/*
 * Attaches @q to the queue region at @base, which must be at least
 * vu_inflight_queue_region_size(@queue_size) bytes.  A region whose
 * version is 0 (fresh from GET_INFLIGHT_FD) is initialised and has nothing
 * to resubmit.  Fails when the region was written for another queue size
 * or version.
 */
bool vu_inflight_queue_attach(VuInflightQueue *q, void *base,
                              uint16_t queue_size, GError **errp);

/*
 * Recovery after a backend restart, called before the queue processes its
 * avail ring.  @guest_used_idx is used->idx as the guest sees it.  If the
 * last batch was published to the used ring but not yet retired in the
 * region, retires it first.  Then stores in @heads (room for queue_size
 * entries) every head still marked in flight, oldest (lowest counter)
 * first, and returns how many.  Returns -1 with @errp set when the region
 * is inconsistent (a batch chain that leaves the table or is longer than
 * the queue); the caller then treats the queue as broken.
 *
 * Every avail entry the old backend consumed was either completed (counted
 * in used->idx) or is among these heads, so the caller resubmits the heads
 * and then continues the avail ring at @guest_used_idx + the count, not at
 * the frontend's SET_VRING_BASE value (after a crash QEMU can only guess
 * used->idx there).
 */
int vu_inflight_recover(VuInflightQueue *q, uint16_t guest_used_idx,
                        uint16_t *heads, GError **errp);

/* A request with head descriptor @head was popped from the avail ring. */
void vu_inflight_pop(VuInflightQueue *q, uint16_t head);

/*
 * Completing a batch of @n requests, in two steps around writing the used
 * ring: batch_begin() before the used elements are written (links the
 * batch into a chain a restarted backend can walk), batch_end() after
 * used->idx was published as @used_idx (clears the in-flight marks).
 * @heads are the head descriptors of the batch; each must be < queue size.
 */
void vu_inflight_batch_begin(VuInflightQueue *q, const uint16_t *heads,
                             unsigned n);
void vu_inflight_batch_end(VuInflightQueue *q, const uint16_t *heads,
                           unsigned n, uint16_t used_idx);

#endif
