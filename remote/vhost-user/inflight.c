/*
 * In-flight request tracking in the shared INFLIGHT_SHMFD region (see
 * inflight.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "remote/vhost-user/inflight.h"

/*
 * Field accessors.  The frontend maps the region too; single naturally
 * aligned loads and stores keep every field intact, and the explicit
 * orderings below make the backend's updates visible in the order the
 * recovery protocol depends on.
 */
#define HDR_VERSION         8
#define HDR_DESC_NUM        10
#define HDR_LAST_BATCH_HEAD 12
#define HDR_USED_IDX        14
#define DESC_INFLIGHT       0
#define DESC_NEXT           6
#define DESC_COUNTER        8

static inline uint16_t *hdr16(VuInflightQueue *q, unsigned off)
{
    return (uint16_t *)(q->base + off);
}

static inline uint8_t *desc_base(VuInflightQueue *q, uint16_t i)
{
    return q->base + VU_INFLIGHT_HEADER_SIZE + (size_t)i * VU_INFLIGHT_DESC_SIZE;
}

static inline uint8_t *desc_inflight(VuInflightQueue *q, uint16_t i)
{
    return desc_base(q, i) + DESC_INFLIGHT;
}

static inline uint16_t *desc_next(VuInflightQueue *q, uint16_t i)
{
    return (uint16_t *)(desc_base(q, i) + DESC_NEXT);
}

static inline uint64_t *desc_counter(VuInflightQueue *q, uint16_t i)
{
    return (uint64_t *)(desc_base(q, i) + DESC_COUNTER);
}

uint64_t vu_inflight_queue_region_size(uint16_t queue_size)
{
    return QR_ALIGN_UP((uint64_t)VU_INFLIGHT_HEADER_SIZE +
                       (uint64_t)queue_size * VU_INFLIGHT_DESC_SIZE,
                       (uint64_t)VU_INFLIGHT_ALIGN);
}

bool vu_inflight_queue_attach(VuInflightQueue *q, void *base,
                              uint16_t queue_size, GError **errp)
{
    uint16_t version, desc_num;

    q->base = base;
    q->queue_size = queue_size;
    q->counter = 0;
    q->fresh = false;

    version = __atomic_load_n(hdr16(q, HDR_VERSION), __ATOMIC_ACQUIRE);
    desc_num = *hdr16(q, HDR_DESC_NUM);
    if (version == 0) {
        memset(q->base, 0, vu_inflight_queue_region_size(queue_size));
        *hdr16(q, HDR_DESC_NUM) = queue_size;
        __atomic_store_n(hdr16(q, HDR_VERSION), VU_INFLIGHT_VERSION,
                         __ATOMIC_RELEASE);
        q->fresh = true;
        return true;
    }
    if (version != VU_INFLIGHT_VERSION) {
        error_setg(errp, "inflight region has unknown version %u", version);
        return false;
    }
    if (desc_num != queue_size) {
        error_setg(errp, "inflight region was written for %u descriptors, "
                   "the queue has %u", desc_num, queue_size);
        return false;
    }
    /* Continue numbering after the newest request of the old backend. */
    for (uint16_t i = 0; i < queue_size; i++) {
        q->counter = MAX(q->counter, *desc_counter(q, i));
    }
    return true;
}

/* Retires the batch that was published to the used ring but whose
 * in-flight marks the old backend did not clear before it died. */
static bool retire_published_batch(VuInflightQueue *q, uint16_t guest_used_idx,
                                   GError **errp)
{
    uint16_t used_idx = *hdr16(q, HDR_USED_IDX);
    uint16_t n = (uint16_t)(guest_used_idx - used_idx);
    uint16_t head = *hdr16(q, HDR_LAST_BATCH_HEAD);

    if (n == 0) {
        return true;
    }
    if (n > q->queue_size) {
        error_setg(errp, "inflight region's used index %u is %u behind the "
                   "used ring's %u (queue size %u)", used_idx, n,
                   guest_used_idx, q->queue_size);
        return false;
    }
    /* The chain links the batch's heads newest first; walk n of them. */
    for (uint16_t i = 0; i < n; i++) {
        if (head >= q->queue_size) {
            error_setg(errp, "inflight batch chain leaves the descriptor "
                       "table (head %u, queue size %u)", head,
                       q->queue_size);
            return false;
        }
        *desc_inflight(q, head) = 0;
        head = *desc_next(q, head);
    }
    __atomic_store_n(hdr16(q, HDR_USED_IDX), guest_used_idx, __ATOMIC_RELEASE);
    return true;
}

typedef struct HeadCounter {
    uint64_t counter;
    uint16_t head;
} HeadCounter;

static int head_counter_cmp(const void *a, const void *b)
{
    const HeadCounter *x = a, *y = b;

    if (x->counter != y->counter) {
        return x->counter < y->counter ? -1 : 1;
    }
    return x->head < y->head ? -1 : x->head > y->head;
}

int vu_inflight_recover(VuInflightQueue *q, uint16_t guest_used_idx,
                        uint16_t *heads, GError **errp)
{
    g_autofree HeadCounter *found = NULL;
    int n = 0;

    if (!retire_published_batch(q, guest_used_idx, errp)) {
        return -1;
    }
    found = g_new(HeadCounter, q->queue_size);
    for (uint16_t i = 0; i < q->queue_size; i++) {
        if (*desc_inflight(q, i) == 1) {
            found[n].counter = *desc_counter(q, i);
            found[n].head = i;
            n++;
        }
    }
    qsort(found, (size_t)n, sizeof(found[0]), head_counter_cmp);
    for (int i = 0; i < n; i++) {
        heads[i] = found[i].head;
    }
    return n;
}

void vu_inflight_pop(VuInflightQueue *q, uint16_t head)
{
    *desc_counter(q, head) = ++q->counter;
    /* The counter must be in place before the mark that makes it count. */
    __atomic_store_n(desc_inflight(q, head), 1, __ATOMIC_RELEASE);
}

void vu_inflight_batch_begin(VuInflightQueue *q, const uint16_t *heads,
                             unsigned n)
{
    uint16_t last = *hdr16(q, HDR_LAST_BATCH_HEAD);

    for (unsigned i = 0; i < n; i++) {
        *desc_next(q, heads[i]) = last;
        last = heads[i];
    }
    /* The chain must be complete before the used ring shows the batch. */
    __atomic_store_n(hdr16(q, HDR_LAST_BATCH_HEAD), last, __ATOMIC_RELEASE);
}

void vu_inflight_batch_end(VuInflightQueue *q, const uint16_t *heads,
                           unsigned n, uint16_t used_idx)
{
    for (unsigned i = 0; i < n; i++) {
        __atomic_store_n(desc_inflight(q, heads[i]), 0, __ATOMIC_RELAXED);
    }
    __atomic_store_n(hdr16(q, HDR_USED_IDX), used_idx, __ATOMIC_RELEASE);
}
