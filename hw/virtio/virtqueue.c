/*
 * Split virtqueues: descriptor chains (direct and indirect) mapped into
 * iovecs, used-ring updates, notification suppression (flags and
 * EVENT_IDX in both directions).
 *
 * Everything here reads memory the guest writes concurrently and is
 * written to be fed garbage (it is the fuzz target of tests/fuzz):
 * every index, length and address comes from the guest, is read once
 * into a local copy, and is checked before use.  A violation calls
 * virtio_error(): the device is broken until reset, and nothing more is
 * read or written.  The checks, in the order they apply:
 *   - avail->idx may run ahead of last_avail_idx by at most the queue size;
 *   - at most queue-size requests in flight;
 *   - head and every next index < queue size (or the indirect table size);
 *   - a chain visits at most queue-size descriptors (table size inside an
 *     indirect table): this also ends loops;
 *   - INDIRECT only when negotiated, not with NEXT, not inside a table;
 *     the table is a non-zero multiple of 16 bytes, at most
 *     VIRTQUEUE_MAX_INDIRECT entries, inside one granted region;
 *   - every buffer lies wholly inside granted memory (split into two
 *     iovecs where it crosses into an adjacent region), at most
 *     VIRTQUEUE_MAX_SG iovecs per request;
 *   - no device-readable buffer after a device-writable one;
 *   - each direction's total fits in 32 bits (the used length is 32-bit).
 * Iothread only, except where noted.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/log.h"
#include "virtio-internal.h"

#include <endian.h>

/* Ring layout (virtio 1.2, 2.7): sizes of each part for @num entries. */
#define DESC_SIZE               16
#define AVAIL_HDR               4   /* flags, idx */
#define USED_HDR                4
#define USED_ELEM_SIZE          8

typedef struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} Desc;

/* --- ring memory access ------------------------------------------------
 * The rings live in memory the guest writes at any time: 16- and 32-bit
 * fields are accessed with single atomic loads/stores (their alignment is
 * checked when the rings are mapped), descriptors are copied once. */

static inline uint16_t ld16(const uint8_t *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static inline void st16(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static inline void st32(uint8_t *p, uint32_t v)
{
    __atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

static void desc_read(const uint8_t *p, Desc *d)
{
    uint8_t raw[DESC_SIZE];

    memcpy(raw, p, sizeof(raw));
    memcpy(&d->addr, raw, 8);
    memcpy(&d->len, raw + 8, 4);
    memcpy(&d->flags, raw + 12, 2);
    memcpy(&d->next, raw + 14, 2);
    d->addr = le64toh(d->addr);
    d->len = le32toh(d->len);
    d->flags = le16toh(d->flags);
    d->next = le16toh(d->next);
}

static uint16_t avail_idx(VirtQueue *vq)
{
    /* Acquire: the ring entries and descriptors the driver published
     * before this index must be visible when we read them. */
    uint16_t v = __atomic_load_n((const uint16_t *)(vq->avail + 2),
                                 __ATOMIC_ACQUIRE);

    vq->shadow_avail_idx = le16toh(v);
    return vq->shadow_avail_idx;
}

static uint16_t avail_flags(VirtQueue *vq)
{
    return ld16(vq->avail);
}

static uint16_t avail_ring(VirtQueue *vq, unsigned i)
{
    return ld16(vq->avail + AVAIL_HDR + 2 * i);
}

static uint16_t used_event(VirtQueue *vq)
{
    return ld16(vq->avail + AVAIL_HDR + 2 * vq->num);
}

/* Marks [@off, @off + @len) of the used ring in the dirty log. */
static void log_used(VirtQueue *vq, uint64_t off, uint64_t len)
{
    if (vq->log_used && dma_table_logging(vq->table)) {
        dma_table_mark_dirty(vq->table, vq->log_used_gpa + off, len);
    }
}

/* --- mapping ----------------------------------------------------------- */

static uint64_t avail_size(const VirtQueue *vq, bool event_idx)
{
    return AVAIL_HDR + 2ull * vq->num + (event_idx ? 2 : 0);
}

static uint64_t used_size(const VirtQueue *vq, bool event_idx)
{
    return USED_HDR + (uint64_t)USED_ELEM_SIZE * vq->num +
           (event_idx ? 2 : 0);
}

bool virtqueue_map_rings(VirtQueue *vq, DMATable *table)
{
    bool event_idx = virtio_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX);
    uint8_t *desc, *avail, *used;

    /* Alignment the split ring requires (virtio 1.2, 2.7). */
    if (vq->desc_addr % 16 || vq->avail_addr % 2 || vq->used_addr % 4) {
        return false;
    }
    desc = dma_table_translate(table, vq->desc_addr,
                               (uint64_t)DESC_SIZE * vq->num);
    avail = dma_table_translate(table, vq->avail_addr,
                                avail_size(vq, event_idx));
    used = dma_table_translate(table, vq->used_addr,
                               used_size(vq, event_idx));
    if (!desc || !avail || !used) {
        return false;
    }
    if (vq->table != table) {
        dma_table_ref(table);
        dma_table_unref(vq->table);
        vq->table = table;
    }
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->event_idx = event_idx;
    return true;
}

void virtqueue_unmap_rings(VirtQueue *vq)
{
    g_clear_pointer(&vq->table, dma_table_unref);
    vq->desc = vq->avail = vq->used = NULL;
}

uint16_t virtqueue_read_used_idx(VirtQueue *vq)
{
    return ld16(vq->used + 2);
}

/* --- elements ---------------------------------------------------------- */

void virtqueue_element_init(VirtQueueElement *elem)
{
    memset(elem, 0, sizeof(*elem));
    elem->sg = elem->inline_sg;
    elem->sg_gpa = elem->inline_gpa;
    elem->sg_cap = VIRTQUEUE_ELEMENT_INLINE_SG;
}

static void element_free_storage(VirtQueueElement *elem)
{
    if (elem->sg != elem->inline_sg) {
        g_free(elem->sg);
        g_free(elem->sg_gpa);
    }
}

void virtqueue_element_release(VirtQueueElement *elem)
{
    g_clear_pointer(&elem->table, dma_table_unref);
    element_free_storage(elem);
    virtqueue_element_init(elem);
}

/* Doubles the element's storage; false at VIRTQUEUE_MAX_SG or OOM. */
static bool element_grow(VirtQueueElement *elem, unsigned used)
{
    unsigned cap = MIN(elem->sg_cap * 2, VIRTQUEUE_MAX_SG);
    struct iovec *sg;
    uint64_t *gpa;

    if (cap <= elem->sg_cap) {
        return false;
    }
    sg = g_try_new(struct iovec, cap);
    gpa = g_try_new(uint64_t, cap);
    if (!sg || !gpa) {
        g_free(sg);
        g_free(gpa);
        return false;
    }
    memcpy(sg, elem->sg, used * sizeof(*sg));
    memcpy(gpa, elem->sg_gpa, used * sizeof(*gpa));
    element_free_storage(elem);
    elem->sg = sg;
    elem->sg_gpa = gpa;
    elem->sg_cap = cap;
    return true;
}

/* The chain being mapped. */
typedef struct PopState {
    VirtQueueElement *elem;
    unsigned nsg;
    bool seen_write;
} PopState;

/* Maps one descriptor's buffer into the element.  NULL on success, else
 * the reason it is refused. */
static const char *add_buffer(VirtQueue *vq, PopState *ps, const Desc *d)
{
    VirtQueueElement *elem = ps->elem;
    bool write = d->flags & VRING_DESC_F_WRITE;
    uint64_t *total = write ? &elem->in_len : &elem->out_len;
    struct iovec piece[DMA_MAX_REGIONS];
    uint64_t gpa = d->addr;
    int n;

    if (!write && ps->seen_write) {
        return "device-readable descriptor after a device-writable one";
    }
    ps->seen_write |= write;
    if (d->len == 0) {
        return NULL;    /* legal and useless */
    }
    if (d->len > UINT32_MAX - *total) {
        return "request longer than 4 GiB";
    }
    /* A range crosses at most every region once. */
    n = dma_table_map_iov(elem->table, d->addr, d->len, piece,
                          DMA_MAX_REGIONS);
    if (n < 0) {
        return "descriptor buffer outside guest memory";
    }
    while (elem->sg_cap - ps->nsg < (unsigned)n) {
        if (!element_grow(elem, ps->nsg)) {
            return "descriptor chain maps to too many segments";
        }
    }
    for (int i = 0; i < n; i++) {
        elem->sg[ps->nsg + i] = piece[i];
        elem->sg_gpa[ps->nsg + i] = gpa;
        gpa += piece[i].iov_len;
    }
    ps->nsg += (unsigned)n;
    if (write) {
        elem->in_num += (unsigned)n;
    } else {
        elem->out_num += (unsigned)n;
    }
    *total += d->len;
    return NULL;
}

/* Walks the chain at @head into @elem.  NULL on success, else why not. */
static const char *map_chain(VirtQueue *vq, uint16_t head,
                             VirtQueueElement *elem)
{
    PopState ps = { .elem = elem };
    const uint8_t *table = vq->desc;
    unsigned max = vq->num;     /* entries in the current table */
    unsigned count = 0;         /* descriptors visited in it */
    bool in_indirect = false;
    unsigned i = head;
    const char *why;
    Desc d;

    if (head >= vq->num) {
        return "head index beyond the queue size";
    }
    for (;;) {
        if (++count > max) {
            return "descriptor chain longer than its table (a loop?)";
        }
        desc_read(table + (size_t)i * DESC_SIZE, &d);

        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (!vq->indirect) {
                return "indirect descriptor without INDIRECT_DESC";
            }
            if (in_indirect) {
                return "indirect descriptor inside an indirect table";
            }
            if (d.flags & VRING_DESC_F_NEXT) {
                return "indirect descriptor with NEXT";
            }
            if (d.len == 0 || d.len % DESC_SIZE ||
                d.len / DESC_SIZE > VIRTQUEUE_MAX_INDIRECT) {
                return "indirect table length invalid";
            }
            table = dma_table_translate(elem->table, d.addr, d.len);
            if (!table) {
                return "indirect table outside guest memory";
            }
            in_indirect = true;
            max = d.len / DESC_SIZE;
            count = 0;
            i = 0;
            continue;
        }

        why = add_buffer(vq, &ps, &d);
        if (why) {
            return why;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            break;
        }
        i = d.next;
        if (i >= max) {
            return "next index beyond the descriptor table";
        }
    }
    elem->out_sg = elem->sg;
    elem->in_sg = elem->sg + elem->out_num;
    return NULL;
}

/* Resets @elem's chain fields, keeping its storage. */
static void element_clear(VirtQueueElement *elem)
{
    elem->out_num = elem->in_num = 0;
    elem->out_len = elem->in_len = 0;
    elem->out_sg = elem->in_sg = NULL;
}

/* The next head to process: a resubmitted one, else from the avail ring.
 * False when none is available or the ring is corrupt (then broken). */
static bool next_head(VirtQueue *vq, uint16_t *head, bool *from_avail)
{
    uint16_t pending;

    if (vq->resubmit_pos < vq->n_resubmit) {
        *head = vq->resubmit[vq->resubmit_pos++];
        *from_avail = false;
        return true;
    }
    if (vq->shadow_avail_idx == vq->last_avail_idx &&
        avail_idx(vq) == vq->last_avail_idx) {
        return false;
    }
    pending = (uint16_t)(vq->shadow_avail_idx - vq->last_avail_idx);
    if (pending > vq->num) {
        virtio_error(vq->vdev, vq, "queue %u: avail index %u is %u entries "
                     "ahead of %u, more than the queue size %u", vq->index,
                     vq->shadow_avail_idx, pending, vq->last_avail_idx,
                     vq->num);
        return false;
    }
    *head = avail_ring(vq, vq->last_avail_idx & (vq->num - 1));
    vq->last_avail_idx++;
    *from_avail = true;
    return true;
}

bool virtqueue_pop(VirtQueue *vq, VirtQueueElement *elem)
{
    const char *why;
    bool from_avail;
    uint16_t head;

    if (!g_atomic_int_get(&vq->running) || vq->vdev->broken || !vq->desc) {
        return false;
    }
    if (vq->inuse >= vq->num) {
        /* More in flight than fit the ring: the driver re-offered heads
         * it has not got back (or moved avail->idx past them). */
        if (!virtqueue_empty(vq)) {
            virtio_error(vq->vdev, vq, "queue %u: more than %u requests in "
                         "flight", vq->index, vq->num);
        }
        return false;
    }
    if (vq->budget == 0) {
        vq->budget_exhausted = true;
        return false;
    }
    if (!next_head(vq, &head, &from_avail)) {
        return false;
    }
    vq->budget--;

    element_clear(elem);
    elem->index = head;
    elem->table = dma_table_ref(vq->table);
    why = map_chain(vq, head, elem);
    if (why) {
        virtio_error(vq->vdev, vq, "queue %u: head %u: %s", vq->index, head,
                     why);
        g_clear_pointer(&elem->table, dma_table_unref);
        element_clear(elem);
        return false;
    }
    vq->inuse++;
    if (from_avail && vq->inflight_ops) {
        vq->inflight_ops->pop(vq->inflight_opaque, head);
    }
    return true;
}

/* --- completion -------------------------------------------------------- */

/* Marks the first @len bytes the device wrote into @elem's in_sg. */
static void log_written(VirtQueueElement *elem, uint32_t len)
{
    for (unsigned i = 0; i < elem->in_num && len > 0; i++) {
        uint32_t n = (uint32_t)MIN(len, elem->in_sg[i].iov_len);

        dma_table_mark_dirty(elem->table, elem->sg_gpa[elem->out_num + i], n);
        len -= n;
    }
}

static void element_done(VirtQueue *vq, VirtQueueElement *elem)
{
    g_clear_pointer(&elem->table, dma_table_unref);
    element_clear(elem);
    if (vq->inuse > 0) {
        vq->inuse--;
    }
}

void virtqueue_fill(VirtQueue *vq, VirtQueueElement *elem, uint32_t len)
{
    unsigned slot;

    if (vq->vdev->broken || !vq->used) {
        element_done(vq, elem);
        return;
    }
    len = (uint32_t)MIN((uint64_t)len, elem->in_len);
    if (dma_table_logging(elem->table)) {
        log_written(elem, len);
    }
    slot = (vq->used_idx + vq->filled) & (vq->num - 1);
    if (vq->inflight_ops) {
        vq->inflight_ops->batch_begin(vq->inflight_opaque, &elem->index, 1);
        vq->batch_heads[vq->filled] = elem->index;
    }
    st32(vq->used + USED_HDR + USED_ELEM_SIZE * slot, elem->index);
    st32(vq->used + USED_HDR + USED_ELEM_SIZE * slot + 4, len);
    log_used(vq, USED_HDR + USED_ELEM_SIZE * slot, USED_ELEM_SIZE);
    vq->filled++;
    element_done(vq, elem);
}

/* Does the driver want an interrupt for what was just published? */
static bool should_notify(VirtQueue *vq)
{
    uint16_t old, new;
    bool valid;

    /* Publish used->idx before reading the driver's suppression state,
     * or a driver that just re-enabled interrupts could be missed. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vq->notify_on_empty && vq->inuse == 0 && virtqueue_empty(vq)) {
        return true;
    }
    if (!vq->event_idx) {
        return !(avail_flags(vq) & VRING_AVAIL_F_NO_INTERRUPT);
    }
    valid = vq->signalled_used_valid;
    old = vq->signalled_used;
    new = vq->signalled_used = vq->used_idx;
    vq->signalled_used_valid = true;
    return !valid || vring_need_event(used_event(vq), new, old);
}

static void notify_guest(VirtQueue *vq)
{
    int call_fd = g_atomic_int_get(&vq->call_fd);

    if (!should_notify(vq)) {
        return;
    }
    if (call_fd >= 0) {
        uint64_t one = 1;

        if (write(call_fd, &one, sizeof(one)) < 0) {
            qr_log_mask(LOG_VIRTIO, "virtio: %s: queue %u: call eventfd: %s",
                        vq->vdev->name, vq->index, g_strerror(errno));
        }
    } else if (vq->vdev->transport && vq->vdev->transport->notify_queue) {
        vq->vdev->transport->notify_queue(vq->vdev->transport_opaque, vq);
    }
}

void virtqueue_flush(VirtQueue *vq)
{
    uint16_t new;

    if (vq->filled == 0) {
        return;
    }
    if (vq->vdev->broken || !vq->used) {
        vq->filled = 0;
        return;
    }
    new = (uint16_t)(vq->used_idx + vq->filled);
    /* Release: the used elements are visible before the index that
     * publishes them. */
    __atomic_store_n((uint16_t *)(vq->used + 2), htole16(new),
                     __ATOMIC_RELEASE);
    log_used(vq, 2, 2);
    if (vq->inflight_ops) {
        vq->inflight_ops->batch_end(vq->inflight_opaque, vq->batch_heads,
                                    vq->filled, new);
    }
    vq->used_idx = new;
    vq->filled = 0;
    notify_guest(vq);
}

void virtqueue_push(VirtQueue *vq, VirtQueueElement *elem, uint32_t len)
{
    virtqueue_fill(vq, elem, len);
    virtqueue_flush(vq);
}

void virtqueue_detach_element(VirtQueue *vq, VirtQueueElement *elem)
{
    element_done(vq, elem);
}

bool virtqueue_empty(VirtQueue *vq)
{
    if (!vq->avail || vq->vdev->broken) {
        return true;
    }
    if (vq->resubmit_pos < vq->n_resubmit) {
        return false;
    }
    if (vq->shadow_avail_idx != vq->last_avail_idx) {
        return false;
    }
    return avail_idx(vq) == vq->last_avail_idx;
}

/* Publishes whether the driver should kick: only when both the device and
 * the iothread's polling want it. */
static void apply_notification(VirtQueue *vq)
{
    bool enable = !vq->notify_off && !vq->polling;

    if (!vq->used || vq->vdev->broken) {
        return;
    }
    if (vq->event_idx) {
        /* Off: avail_event stays behind, so the driver does not kick. */
        if (enable) {
            st16(vq->used + USED_HDR + USED_ELEM_SIZE * vq->num,
                 avail_idx(vq));
            log_used(vq, USED_HDR + USED_ELEM_SIZE * vq->num, 2);
        }
    } else {
        st16(vq->used, enable ? 0 : VRING_USED_F_NO_NOTIFY);
        log_used(vq, 0, 2);
    }
    if (enable) {
        /* The driver must see the re-enabled state before we look at the
         * avail ring again. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
}

void virtqueue_set_notification(VirtQueue *vq, bool enable)
{
    vq->notify_off = !enable;
    apply_notification(vq);
}

void virtqueue_set_polling(VirtQueue *vq, bool polling)
{
    vq->polling = polling;
    apply_notification(vq);
}

unsigned virtqueue_in_use(const VirtQueue *vq)
{
    return vq->inuse;
}

bool virtqueue_budget_exhausted(const VirtQueue *vq)
{
    return vq->budget_exhausted;
}

/* --- iovec helpers (any thread) ---------------------------------------- */

size_t iov_to_buf(const struct iovec *iov, unsigned niov, size_t offset,
                  void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t done = 0;

    for (unsigned i = 0; i < niov && done < len; i++) {
        size_t n;

        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        n = MIN(len - done, iov[i].iov_len - offset);
        memcpy(p + done, (uint8_t *)iov[i].iov_base + offset, n);
        done += n;
        offset = 0;
    }
    return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned niov, size_t offset,
                    const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t done = 0;

    for (unsigned i = 0; i < niov && done < len; i++) {
        size_t n;

        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        n = MIN(len - done, iov[i].iov_len - offset);
        memcpy((uint8_t *)iov[i].iov_base + offset, p + done, n);
        done += n;
        offset = 0;
    }
    return done;
}
