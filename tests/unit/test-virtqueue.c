/*
 * Split virtqueues and the virtio core (hw/virtio/virtqueue.c, virtio.c)
 * against a fake guest: chains, indirect tables, EVENT_IDX, 16-bit index
 * wrap-around, queue size limits, every validation rule of specs/virtio.md
 * §11 (a violation breaks the device: NEEDS_RESET, a config interrupt and
 * the error eventfd), and the seam vhost-user uses (base index, kick/call
 * eventfds, in-flight hooks, resubmission, dirty log).
 *
 * Rings are started through the core (which runs the iothread); the tests
 * then pop and push from the test thread while the iothread is idle, or
 * kick and let the device's handler complete everything.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "hw/virtio.h"
#include "hw/virtio/virtio-internal.h"  /* virtqueue_set_polling() */
#include "virtio-fake-guest.h"

#include <linux/virtio_ids.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#define QSIZE 16            /* ring entries unless a test says otherwise */
#define MODERN (1ull << VIRTIO_F_VERSION_1)
#define INDIRECT (1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)

typedef struct TestDev {
    VirtIODevice vdev;
    FakeGuest g;
    FakeRing r;
    IOThread *iothread;
    VirtQueue *vq;
    bool auto_complete;         /* the handler pops and pushes everything */
    int handled;                /* handle_queue calls */
    int max_pops_per_call;
    int queue_irqs;
    int config_irqs;
} TestDev;

static TestDev *to_test(VirtIODevice *vdev)
{
    return container_of(vdev, TestDev, vdev);
}

static uint64_t test_get_features(VirtIODevice *vdev)
{
    return 0;
}

static void test_handle_queue(VirtIODevice *vdev, VirtQueue *vq)
{
    TestDev *t = to_test(vdev);
    VirtQueueElement elem;
    int pops = 0;

    g_atomic_int_inc(&t->handled);
    if (!t->auto_complete) {
        return;
    }
    virtqueue_element_init(&elem);
    while (virtqueue_pop(vq, &elem)) {
        virtqueue_fill(vq, &elem, (uint32_t)elem.in_len);
        pops++;
    }
    virtqueue_flush(vq);
    virtqueue_element_release(&elem);
    if (pops > g_atomic_int_get(&t->max_pops_per_call)) {
        g_atomic_int_set(&t->max_pops_per_call, pops);
    }
}

static const VirtioDeviceOps test_ops = {
    .get_features = test_get_features,
    .handle_queue = test_handle_queue,
};

static void test_notify_queue(void *opaque, VirtQueue *vq)
{
    g_atomic_int_inc(&((TestDev *)opaque)->queue_irqs);
}

static void test_notify_config(void *opaque)
{
    g_atomic_int_inc(&((TestDev *)opaque)->config_irqs);
}

static const VirtioTransportOps test_transport = {
    .notify_queue = test_notify_queue,
    .notify_config = test_notify_config,
};

static unsigned iothread_count;

/* A device with one queue of @qsize entries (max 1024) over a fake guest. */
static TestDev *dev_new(uint16_t qsize, bool split_memory)
{
    TestDev *t = g_new0(TestDev, 1);
    g_autofree char *id = g_strdup_printf("vq-test-%u", iothread_count++);

    fg_init(&t->g, split_memory);
    t->iothread = iothread_create(id, NULL);
    g_assert_nonnull(t->iothread);
    /* Tests pop from their own thread while the iothread is idle: it must
     * not poll the ring behind their back (polling stories turn it on). */
    iothread_set_poll_max_ns(t->iothread, 0);
    g_assert_true(virtio_device_init(&t->vdev, &test_ops, "vq-test",
                                     VIRTIO_ID_BLOCK, 8, 1,
                                     VIRTQUEUE_MAX_SIZE, true, true,
                                     t->iothread, NULL));
    virtio_device_set_transport(&t->vdev, &test_transport, t, t->g.dma);
    t->vq = virtio_get_queue(&t->vdev, 0);
    g_assert_true(virtio_queue_set_size(t->vq, qsize));
    fr_init(&t->r, &t->g, qsize);
    virtio_queue_set_addrs(t->vq, t->r.desc, t->r.avail, t->r.used);
    return t;
}

/* Negotiates @features (modern: through the status register, so that
 * NEEDS_RESET applies) and starts the queue. */
static void dev_start(TestDev *t, uint64_t features)
{
    virtio_stage_features(&t->vdev, features | MODERN);
    virtio_set_status(&t->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                      VIRTIO_CONFIG_S_DRIVER, true, true);
    virtio_set_status(&t->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                      VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK,
                      true, true);
    virtio_queue_set_enabled(t->vq, true);
    virtio_set_status(&t->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                      VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
                      VIRTIO_CONFIG_S_DRIVER_OK, true, true);
    g_assert_true(virtio_queue_running(t->vq));
}

static void dev_free(TestDev *t)
{
    virtio_device_cleanup(&t->vdev);
    iothread_destroy(t->iothread);
    fg_cleanup(&t->g);
    g_free(t);
}

static bool broken(TestDev *t)
{
    return (virtio_get_status(&t->vdev) & VIRTIO_CONFIG_S_NEEDS_RESET) != 0;
}

/* Buffer helpers: a readable 16-byte header and a writable 512-byte one. */
static uint64_t buf(TestDev *t, uint32_t len)
{
    return fg_alloc(&t->g, len, 16);
}

static void chain_hdr_data(TestDev *t, uint16_t head)
{
    fr_desc(&t->r, head, buf(t, 16), 16, VRING_DESC_F_NEXT, head + 1);
    fr_desc(&t->r, head + 1, buf(t, 512), 512, VRING_DESC_F_WRITE, 0);
}

/* Pops expecting a violation: nothing popped, the device broken. */
static void assert_pop_breaks(TestDev *t)
{
    VirtQueueElement e;

    virtqueue_element_init(&e);
    g_assert_false(virtqueue_pop(t->vq, &e));
    g_assert_true(broken(t));
    g_assert_cmpint(g_atomic_int_get(&t->config_irqs), ==, 1);
    virtqueue_element_release(&e);
}

/* --- chains ------------------------------------------------------------------ */

static void test_pop_header_and_writable_data(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t hdr = buf(t, 16), data = buf(t, 512);
    VirtQueueElement e;

    dev_start(t, 0);
    memcpy(fg_ptr(&t->g, hdr), "header bytes", 13);
    memcpy(fg_ptr(&t->g, data), "data bytes", 11);
    fr_desc(&t->r, 0, hdr, 16, VRING_DESC_F_NEXT, 1);
    fr_desc(&t->r, 1, data, 512, VRING_DESC_F_WRITE, 0);
    fr_publish(&t->r, 0);

    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    g_assert_cmpuint(e.index, ==, 0);
    g_assert_cmpuint(e.out_num, ==, 1);
    g_assert_cmpuint(e.in_num, ==, 1);
    g_assert_cmpuint(e.out_len, ==, 16);
    g_assert_cmpuint(e.in_len, ==, 512);
    /* The device maps the same guest pages (its own mapping). */
    g_assert_cmpstr(e.out_sg[0].iov_base, ==, "header bytes");
    g_assert_cmpstr(e.in_sg[0].iov_base, ==, "data bytes");
    virtqueue_push(t->vq, &e, 512);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_pop_from_empty_ring_returns_nothing(void)
{
    TestDev *t = dev_new(QSIZE, false);
    VirtQueueElement e;

    dev_start(t, 0);
    virtqueue_element_init(&e);
    g_assert_false(virtqueue_pop(t->vq, &e));
    g_assert_true(virtqueue_empty(t->vq));
    g_assert_false(broken(t));
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_push_publishes_id_and_written_length(void)
{
    TestDev *t = dev_new(QSIZE, false);
    VirtQueueElement e;
    uint32_t id, len;

    dev_start(t, 0);
    chain_hdr_data(t, 4);
    fr_publish(&t->r, 4);
    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));

    virtqueue_push(t->vq, &e, 100);

    g_assert_cmpuint(fr_used_idx(&t->r), ==, 1);
    fr_used_elem(&t->r, 0, &id, &len);
    g_assert_cmpuint(id, ==, 4);
    g_assert_cmpuint(len, ==, 100);
    g_assert_cmpuint(virtqueue_in_use(t->vq), ==, 0);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_push_clamps_length_to_writable_bytes(void)
{
    TestDev *t = dev_new(QSIZE, false);
    VirtQueueElement e;
    uint32_t id, len;

    dev_start(t, 0);
    chain_hdr_data(t, 0);
    fr_publish(&t->r, 0);
    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));

    virtqueue_push(t->vq, &e, 100000);

    fr_used_elem(&t->r, 0, &id, &len);
    g_assert_cmpuint(len, ==, 512);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_zero_length_descriptor_is_skipped(void)
{
    TestDev *t = dev_new(QSIZE, false);
    VirtQueueElement e;

    dev_start(t, 0);
    fr_desc(&t->r, 0, buf(t, 16), 16, VRING_DESC_F_NEXT, 1);
    fr_desc(&t->r, 1, 0, 0, VRING_DESC_F_NEXT, 2);
    fr_desc(&t->r, 2, buf(t, 8), 8, VRING_DESC_F_WRITE, 0);
    fr_publish(&t->r, 0);

    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    g_assert_cmpuint(e.out_num + e.in_num, ==, 2);
    g_assert_false(broken(t));
    virtqueue_push(t->vq, &e, 0);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_buffer_across_two_regions_maps_to_two_iovecs(void)
{
    TestDev *t = dev_new(QSIZE, true);
    VirtQueueElement e;
    uint64_t middle = FG_BASE + FG_SIZE / 2;

    dev_start(t, 0);
    fr_desc(&t->r, 0, middle - 100, 300, VRING_DESC_F_WRITE, 0);
    fr_publish(&t->r, 0);

    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    g_assert_cmpuint(e.in_num, ==, 2);
    g_assert_cmpuint(e.in_sg[0].iov_len, ==, 100);
    g_assert_cmpuint(e.in_sg[1].iov_len, ==, 200);
    g_assert_cmpuint(e.in_len, ==, 300);
    virtqueue_push(t->vq, &e, 0);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_long_chain_grows_element_storage(void)
{
    enum { N = VIRTQUEUE_ELEMENT_INLINE_SG * 3 };
    TestDev *t = dev_new(64, false);
    VirtQueueElement e;

    dev_start(t, 0);
    for (unsigned i = 0; i < N; i++) {
        fr_desc(&t->r, i, buf(t, 64), 64,
                VRING_DESC_F_WRITE | (i + 1 < N ? VRING_DESC_F_NEXT : 0),
                i + 1);
    }
    fr_publish(&t->r, 0);

    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    g_assert_cmpuint(e.in_num, ==, N);
    g_assert_cmpuint(e.in_len, ==, N * 64);
    virtqueue_push(t->vq, &e, 0);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_indirect_table_is_followed(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t table = buf(t, 3 * 16);
    VirtQueueElement e;

    dev_start(t, INDIRECT);
    fr_desc_at(&t->r, table, 0, buf(t, 16), 16, VRING_DESC_F_NEXT, 1);
    fr_desc_at(&t->r, table, 1, buf(t, 512), 512,
               VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    fr_desc_at(&t->r, table, 2, buf(t, 1), 1, VRING_DESC_F_WRITE, 0);
    fr_desc(&t->r, 5, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 5);

    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    g_assert_cmpuint(e.index, ==, 5);
    g_assert_cmpuint(e.out_len, ==, 16);
    g_assert_cmpuint(e.in_len, ==, 513);
    virtqueue_push(t->vq, &e, 513);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_direct_descriptors_before_indirect_table(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t table = buf(t, 16);
    VirtQueueElement e;

    dev_start(t, INDIRECT);
    fr_desc_at(&t->r, table, 0, buf(t, 32), 32, VRING_DESC_F_WRITE, 0);
    fr_desc(&t->r, 0, buf(t, 16), 16, VRING_DESC_F_NEXT, 1);
    fr_desc(&t->r, 1, table, 16, VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    g_assert_cmpuint(e.out_len, ==, 16);
    g_assert_cmpuint(e.in_len, ==, 32);
    virtqueue_push(t->vq, &e, 0);
    virtqueue_element_release(&e);
    dev_free(t);
}

/* --- violations: each breaks the device ---------------------------------------- */

static void test_indirect_without_feature_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t table = buf(t, 16);

    dev_start(t, 0);
    fr_desc_at(&t->r, table, 0, buf(t, 16), 16, 0, 0);
    fr_desc(&t->r, 0, table, 16, VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_indirect_length_not_multiple_of_16_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t table = buf(t, 48);

    dev_start(t, INDIRECT);
    fr_desc(&t->r, 0, table, 47, VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_indirect_length_zero_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, INDIRECT);
    fr_desc(&t->r, 0, buf(t, 16), 0, VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_indirect_table_at_limit_is_accepted(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t table = buf(t, VIRTQUEUE_MAX_INDIRECT * 16);
    uint64_t data = buf(t, 16);
    VirtQueueElement e;

    dev_start(t, INDIRECT);
    for (unsigned i = 0; i < VIRTQUEUE_MAX_INDIRECT; i++) {
        fr_desc_at(&t->r, table, i, data, 16,
                   i + 1 < VIRTQUEUE_MAX_INDIRECT ? VRING_DESC_F_NEXT : 0,
                   i + 1);
    }
    fr_desc(&t->r, 0, table, VIRTQUEUE_MAX_INDIRECT * 16,
            VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    g_assert_cmpuint(e.out_num, ==, VIRTQUEUE_MAX_INDIRECT);
    virtqueue_push(t->vq, &e, 0);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_indirect_table_one_past_limit_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t table = buf(t, (VIRTQUEUE_MAX_INDIRECT + 1) * 16);

    dev_start(t, INDIRECT);
    fr_desc(&t->r, 0, table, (VIRTQUEUE_MAX_INDIRECT + 1) * 16,
            VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_nested_indirect_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t outer = buf(t, 16), inner = buf(t, 16);

    dev_start(t, INDIRECT);
    fr_desc_at(&t->r, inner, 0, buf(t, 16), 16, 0, 0);
    fr_desc_at(&t->r, outer, 0, inner, 16, VRING_DESC_F_INDIRECT, 0);
    fr_desc(&t->r, 0, outer, 16, VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_indirect_with_next_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t table = buf(t, 16);

    dev_start(t, INDIRECT);
    fr_desc_at(&t->r, table, 0, buf(t, 16), 16, 0, 0);
    fr_desc(&t->r, 0, table, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
            1);
    fr_desc(&t->r, 1, buf(t, 1), 1, VRING_DESC_F_WRITE, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_indirect_table_outside_memory_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, INDIRECT);
    fr_desc(&t->r, 0, FG_BASE + FG_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_indirect_next_beyond_table_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t table = buf(t, 32);

    dev_start(t, INDIRECT);
    fr_desc_at(&t->r, table, 0, buf(t, 16), 16, VRING_DESC_F_NEXT, 2);
    fr_desc(&t->r, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_indirect_loop_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t table = buf(t, 32), data = buf(t, 16);

    dev_start(t, INDIRECT);
    fr_desc_at(&t->r, table, 0, data, 16, VRING_DESC_F_NEXT, 1);
    fr_desc_at(&t->r, table, 1, data, 16, VRING_DESC_F_NEXT, 0);
    fr_desc(&t->r, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_descriptor_loop_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t data = buf(t, 16);

    dev_start(t, 0);
    fr_desc(&t->r, 0, data, 16, VRING_DESC_F_NEXT, 1);
    fr_desc(&t->r, 1, data, 16, VRING_DESC_F_NEXT, 2);
    fr_desc(&t->r, 2, data, 16, VRING_DESC_F_NEXT, 1);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_chain_of_queue_size_is_accepted(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t data = buf(t, 16);
    VirtQueueElement e;

    dev_start(t, 0);
    for (unsigned i = 0; i < QSIZE; i++) {
        fr_desc(&t->r, i, data, 16, i + 1 < QSIZE ? VRING_DESC_F_NEXT : 0,
                i + 1);
    }
    fr_publish(&t->r, 0);

    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    g_assert_cmpuint(e.out_num, ==, QSIZE);
    virtqueue_push(t->vq, &e, 0);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_next_index_beyond_queue_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    fr_desc(&t->r, 0, buf(t, 16), 16, VRING_DESC_F_NEXT, QSIZE);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_head_index_beyond_queue_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    fr_publish(&t->r, QSIZE);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_avail_index_more_than_queue_size_ahead_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    chain_hdr_data(t, 0);
    fr_set_avail_idx(&t->r, QSIZE + 1);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_buffer_outside_memory_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    fr_desc(&t->r, 0, FG_BASE + FG_SIZE - 8, 16, VRING_DESC_F_WRITE, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_buffer_below_memory_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    fr_desc(&t->r, 0, 0, 512, VRING_DESC_F_WRITE, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_buffer_address_wrapping_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    fr_desc(&t->r, 0, UINT64_MAX - 7, 16, 0, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_readable_after_writable_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    fr_desc(&t->r, 0, buf(t, 16), 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
            1);
    fr_desc(&t->r, 1, buf(t, 16), 16, 0, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_request_longer_than_4gib_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    fr_desc(&t->r, 0, buf(t, 16), 16, VRING_DESC_F_NEXT, 1);
    fr_desc(&t->r, 1, FG_BASE, UINT32_MAX, 0, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_more_segments_than_an_element_holds_breaks(void)
{
    /* 1024 table entries, each crossing the middle of split memory: 2048
     * iovecs, twice what preadv takes. */
    TestDev *t = dev_new(QSIZE, true);
    uint64_t table = buf(t, VIRTQUEUE_MAX_INDIRECT * 16);
    uint64_t middle = FG_BASE + FG_SIZE / 2;

    dev_start(t, INDIRECT);
    for (unsigned i = 0; i < VIRTQUEUE_MAX_INDIRECT; i++) {
        fr_desc_at(&t->r, table, i, middle - 8, 16,
                   i + 1 < VIRTQUEUE_MAX_INDIRECT ? VRING_DESC_F_NEXT : 0,
                   i + 1);
    }
    fr_desc(&t->r, 0, table, VIRTQUEUE_MAX_INDIRECT * 16,
            VRING_DESC_F_INDIRECT, 0);
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    dev_free(t);
}

static void test_more_requests_in_flight_than_queue_size_breaks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    VirtQueueElement e[QSIZE];

    dev_start(t, 0);
    chain_hdr_data(t, 0);
    for (unsigned i = 0; i < QSIZE; i++) {
        fr_publish(&t->r, 0);   /* the same head, over and over */
        virtqueue_element_init(&e[i]);
        g_assert_true(virtqueue_pop(t->vq, &e[i]));
    }
    fr_publish(&t->r, 0);

    assert_pop_breaks(t);
    for (unsigned i = 0; i < QSIZE; i++) {
        virtqueue_detach_element(t->vq, &e[i]);
        virtqueue_element_release(&e[i]);
    }
    dev_free(t);
}

static void test_broken_device_pops_nothing_and_writes_nothing(void)
{
    TestDev *t = dev_new(QSIZE, false);
    VirtQueueElement e, bad;

    dev_start(t, 0);
    chain_hdr_data(t, 0);
    fr_publish(&t->r, 0);
    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    fr_publish(&t->r, QSIZE + 3);
    assert_pop_breaks(t);

    /* A good request behind the bad one is not taken... */
    chain_hdr_data(t, 2);
    fr_publish(&t->r, 2);
    virtqueue_element_init(&bad);
    g_assert_false(virtqueue_pop(t->vq, &bad));
    /* ...and the one in flight is not published. */
    virtqueue_push(t->vq, &e, 1);
    g_assert_cmpuint(fr_used_idx(&t->r), ==, 0);
    virtqueue_element_release(&e);
    virtqueue_element_release(&bad);
    dev_free(t);
}

static void test_reset_clears_needs_reset(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    fr_publish(&t->r, QSIZE);
    assert_pop_breaks(t);

    virtio_set_status(&t->vdev, 0, true, true);

    g_assert_cmpuint(virtio_get_status(&t->vdev), ==, 0);
    g_assert_false(virtio_queue_running(t->vq));
    /* Restarted from scratch, the queue works again. */
    fr_init(&t->r, &t->g, QSIZE);
    g_assert_true(virtio_queue_set_size(t->vq, QSIZE));
    virtio_queue_set_addrs(t->vq, t->r.desc, t->r.avail, t->r.used);
    dev_start(t, 0);
    t->auto_complete = true;
    chain_hdr_data(t, 0);
    fr_publish(&t->r, 0);
    virtio_queue_notify(t->vq);
    g_assert_true(fr_wait_used(&t->r, 1));
    dev_free(t);
}

static void test_violation_signals_error_eventfd(void)
{
    TestDev *t = dev_new(QSIZE, false);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    uint64_t cnt = 0;

    virtio_queue_set_err_fd(t->vq, efd);
    dev_start(t, 0);
    fr_publish(&t->r, QSIZE);

    assert_pop_breaks(t);

    g_assert_cmpint(read(efd, &cnt, sizeof(cnt)), ==, sizeof(cnt));
    g_assert_cmpuint(cnt, ==, 1);
    dev_free(t);
    close(efd);
}

/* --- ring set-up ---------------------------------------------------------------- */

static void test_queue_size_must_be_power_of_two_up_to_max(void)
{
    TestDev *t = dev_new(QSIZE, false);

    g_assert_false(virtio_queue_set_size(t->vq, 0));
    g_assert_false(virtio_queue_set_size(t->vq, 3));
    g_assert_false(virtio_queue_set_size(t->vq, 100));
    g_assert_false(virtio_queue_set_size(t->vq, 2 * VIRTQUEUE_MAX_SIZE));
    g_assert_true(virtio_queue_set_size(t->vq, 1));
    g_assert_true(virtio_queue_set_size(t->vq, VIRTQUEUE_MAX_SIZE));
    g_assert_cmpuint(virtio_queue_get_size(t->vq), ==, VIRTQUEUE_MAX_SIZE);
    dev_free(t);
}

static void test_device_queue_size_above_limit_is_refused(void)
{
    VirtIODevice vdev = { 0 };
    g_autoptr(GError) err = NULL;

    g_assert_false(virtio_device_init(&vdev, &test_ops, "big",
                                      VIRTIO_ID_BLOCK, 8, 1,
                                      2 * VIRTQUEUE_MAX_SIZE, true, true,
                                      NULL, &err));
    g_assert_nonnull(err);
}

static void test_largest_queue_runs(void)
{
    TestDev *t = dev_new(VIRTQUEUE_MAX_SIZE, false);
    VirtQueueElement e;

    dev_start(t, 0);
    chain_hdr_data(t, VIRTQUEUE_MAX_SIZE - 2);
    fr_publish(&t->r, VIRTQUEUE_MAX_SIZE - 2);
    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    virtqueue_push(t->vq, &e, 0);
    g_assert_cmpuint(fr_used_idx(&t->r), ==, 1);
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_misaligned_ring_fails_start(void)
{
    TestDev *t = dev_new(QSIZE, false);
    g_autoptr(GError) err = NULL;

    virtio_queue_set_addrs(t->vq, t->r.desc + 8, t->r.avail, t->r.used);
    virtio_queue_set_enabled(t->vq, true);

    g_assert_false(virtio_queue_start(t->vq, true, &err));
    g_assert_nonnull(err);
    g_assert_false(virtio_queue_running(t->vq));
    dev_free(t);
}

static void test_ring_outside_memory_fails_start(void)
{
    TestDev *t = dev_new(QSIZE, false);
    g_autoptr(GError) err = NULL;

    virtio_queue_set_addrs(t->vq, t->r.desc, t->r.avail,
                           FG_BASE + FG_SIZE - 64);
    g_assert_false(virtio_queue_start(t->vq, true, &err));
    g_assert_nonnull(err);
    dev_free(t);
}

static void test_ring_setup_frozen_while_running(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t desc, avail, used;

    dev_start(t, 0);
    virtio_queue_set_addrs(t->vq, 0x1000, 0x2000, 0x3000);
    g_assert_false(virtio_queue_set_size(t->vq, 4));

    virtio_queue_get_addrs(t->vq, &desc, &avail, &used);
    g_assert_cmpuint(desc, ==, t->r.desc);
    g_assert_cmpuint(virtio_queue_get_size(t->vq), ==, QSIZE);
    dev_free(t);
}

/* --- kicks, budget, wrap-around ------------------------------------------------- */

static void test_kick_processes_the_ring_in_the_iothread(void)
{
    TestDev *t = dev_new(QSIZE, false);

    t->auto_complete = true;
    dev_start(t, 0);
    for (uint16_t i = 0; i < 4; i++) {
        chain_hdr_data(t, 2 * i);
        fr_publish(&t->r, 2 * i);
    }

    virtio_queue_notify(t->vq);

    g_assert_true(fr_wait_used(&t->r, 4));
    g_assert_cmpint(g_atomic_int_get(&t->queue_irqs), >=, 1);
    dev_free(t);
}

static void test_requests_queued_before_start_are_processed(void)
{
    TestDev *t = dev_new(QSIZE, false);

    t->auto_complete = true;
    chain_hdr_data(t, 0);
    fr_publish(&t->r, 0);

    dev_start(t, 0);

    g_assert_true(fr_wait_used(&t->r, 1));
    dev_free(t);
}

static void test_one_kick_pops_at_most_a_queue_worth(void)
{
    /* Starting the queue gave this kick a budget of QSIZE pops.  The
     * guest refills as fast as requests complete, so the ring never runs
     * dry; the pop after QSIZE is refused all the same. */
    TestDev *t = dev_new(QSIZE, false);
    VirtQueueElement e;

    dev_start(t, 0);
    chain_hdr_data(t, 0);
    virtqueue_element_init(&e);
    for (unsigned i = 0; i < QSIZE; i++) {
        fr_publish(&t->r, 0);
        g_assert_true(virtqueue_pop(t->vq, &e));
        virtqueue_push(t->vq, &e, 1);
    }
    fr_publish(&t->r, 0);

    g_assert_false(virtqueue_pop(t->vq, &e));
    g_assert_true(virtqueue_budget_exhausted(t->vq));
    g_assert_false(virtqueue_empty(t->vq));
    g_assert_false(broken(t));
    /* The next kick gets a fresh budget. */
    t->auto_complete = true;
    virtio_queue_notify(t->vq);
    g_assert_true(fr_wait_used(&t->r, QSIZE + 1));
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_indices_wrap_around_16_bits(void)
{
    TestDev *t = dev_new(QSIZE, false);
    const uint16_t start = 65533;
    uint16_t used_start = 65533;
    uint32_t id, len;

    /* Rings already in use (vhost-user SET_VRING_BASE): avail and used
     * indices just below the wrap. */
    *(uint16_t *)fg_ptr(&t->g, t->r.used + 2) = htole16(used_start);
    fr_set_avail_idx(&t->r, start);
    virtio_queue_set_last_avail_idx(t->vq, start);
    t->auto_complete = true;
    dev_start(t, 0);

    for (uint16_t i = 0; i < 6; i++) {
        chain_hdr_data(t, 2 * i);
        fr_publish(&t->r, 2 * i);
    }
    virtio_queue_notify(t->vq);

    g_assert_true(fr_wait_used(&t->r, (uint16_t)(used_start + 6)));
    g_assert_cmpuint(fr_used_idx(&t->r), ==, 3);
    fr_used_elem(&t->r, (uint16_t)(used_start + 5), &id, &len);
    g_assert_cmpuint(id, ==, 10);
    g_assert_cmpuint(virtio_queue_stop(t->vq), ==, (uint16_t)(start + 6));
    dev_free(t);
}

/* --- iothread polling ------------------------------------------------------------- */

/* Kicked requests, each completed before the next: after the first, the
 * iothread polls the ring after every dispatch (its window adapts). */
#define POLL_WARMUP_REQUESTS 4

static void publish_fn(void *opaque)
{
    TestDev *t = opaque;

    chain_hdr_data(t, 2);
    fr_publish(&t->r, 2);
}

static void test_polling_iothread_serves_requests_without_kicks(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint16_t n;

    t->auto_complete = true;
    dev_start(t, 0);
    iothread_set_poll_max_ns(t->iothread, 1000000000);
    for (n = 0; n < POLL_WARMUP_REQUESTS; n++) {
        chain_hdr_data(t, 0);
        fr_publish(&t->r, 0);
        virtio_queue_notify(t->vq);
        g_assert_true(fr_wait_used(&t->r, n + 1));
    }

    /* Published from inside the iothread, no kick: the poll phase that
     * follows this dispatch must find it. */
    iothread_run_sync(t->iothread, publish_fn, t);

    g_assert_true(fr_wait_used(&t->r, n + 1));
    dev_free(t);
}

static void test_polling_keeps_kicks_off_whatever_the_device_asks(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    virtqueue_set_polling(t->vq, true);
    g_assert_cmpuint(fr_used_flags(&t->r), ==, VRING_USED_F_NO_NOTIFY);

    virtqueue_set_notification(t->vq, true);
    g_assert_cmpuint(fr_used_flags(&t->r), ==, VRING_USED_F_NO_NOTIFY);

    virtqueue_set_polling(t->vq, false);
    g_assert_cmpuint(fr_used_flags(&t->r), ==, 0);
    dev_free(t);
}

static void test_polling_leaves_avail_event_behind_until_it_stops(void)
{
    /* EVENT_IDX: a stale avail_event is what keeps the driver from
     * kicking; leaving polling publishes the current avail index. */
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, EVENT_IDX);
    virtqueue_set_polling(t->vq, true);
    fr_set_avail_idx(&t->r, 3);
    virtqueue_set_notification(t->vq, true);
    g_assert_cmpuint(fr_avail_event(&t->r), ==, 0);

    virtqueue_set_polling(t->vq, false);
    g_assert_cmpuint(fr_avail_event(&t->r), ==, 3);
    dev_free(t);
}

static void test_device_kicks_off_stay_off_when_polling_stops(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    virtqueue_set_notification(t->vq, false);
    virtqueue_set_polling(t->vq, true);
    virtqueue_set_polling(t->vq, false);

    g_assert_cmpuint(fr_used_flags(&t->r), ==, VRING_USED_F_NO_NOTIFY);
    dev_free(t);
}

/* --- notification suppression ---------------------------------------------------- */

static void complete_one(TestDev *t, uint16_t head)
{
    VirtQueueElement e;

    chain_hdr_data(t, head);
    fr_publish(&t->r, head);
    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));
    virtqueue_push(t->vq, &e, 1);
    virtqueue_element_release(&e);
}

static void test_no_interrupt_flag_suppresses_interrupts(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    fr_set_avail_flags(&t->r, VRING_AVAIL_F_NO_INTERRUPT);
    complete_one(t, 0);
    g_assert_cmpint(g_atomic_int_get(&t->queue_irqs), ==, 0);

    fr_set_avail_flags(&t->r, 0);
    complete_one(t, 2);
    g_assert_cmpint(g_atomic_int_get(&t->queue_irqs), ==, 1);
    dev_free(t);
}

static void test_event_idx_interrupts_only_when_used_event_passed(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, EVENT_IDX);
    /* The driver wants an interrupt once used->idx moves past 2. */
    fr_set_used_event(&t->r, 2);
    complete_one(t, 0);         /* used 0 -> 1: the first always signals */
    complete_one(t, 2);         /* 1 -> 2: not past 2 */
    g_assert_cmpint(g_atomic_int_get(&t->queue_irqs), ==, 1);
    complete_one(t, 4);         /* 2 -> 3: passes used_event 2 */
    g_assert_cmpint(g_atomic_int_get(&t->queue_irqs), ==, 2);
    complete_one(t, 6);         /* 3 -> 4: already signalled past 2 */
    g_assert_cmpint(g_atomic_int_get(&t->queue_irqs), ==, 2);
    dev_free(t);
}

static void test_event_idx_ignores_no_interrupt_flag(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, EVENT_IDX);
    fr_set_avail_flags(&t->r, VRING_AVAIL_F_NO_INTERRUPT);
    fr_set_used_event(&t->r, 0);
    complete_one(t, 0);
    g_assert_cmpint(g_atomic_int_get(&t->queue_irqs), ==, 1);
    dev_free(t);
}

static void test_event_idx_device_writes_avail_event(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, EVENT_IDX);
    fr_set_avail_idx(&t->r, 0);
    complete_one(t, 0);
    complete_one(t, 2);

    virtqueue_set_notification(t->vq, true);

    g_assert_cmpuint(fr_avail_event(&t->r), ==, 2);
    dev_free(t);
}

static void test_disabling_notifications_sets_no_notify(void)
{
    TestDev *t = dev_new(QSIZE, false);

    dev_start(t, 0);
    virtqueue_set_notification(t->vq, false);
    g_assert_cmpuint(fr_used_flags(&t->r), ==, VRING_USED_F_NO_NOTIFY);
    virtqueue_set_notification(t->vq, true);
    g_assert_cmpuint(fr_used_flags(&t->r), ==, 0);
    dev_free(t);
}

/* --- the vhost-user seam -------------------------------------------------------- */

static void test_stop_returns_next_avail_index_and_start_resumes(void)
{
    TestDev *t = dev_new(QSIZE, false);

    t->auto_complete = true;
    dev_start(t, 0);
    chain_hdr_data(t, 0);
    fr_publish(&t->r, 0);
    virtio_queue_notify(t->vq);
    g_assert_true(fr_wait_used(&t->r, 1));

    g_assert_cmpuint(virtio_queue_stop(t->vq), ==, 1);
    g_assert_false(virtio_queue_running(t->vq));
    fr_publish(&t->r, 0);
    g_assert_true(virtio_queue_start(t->vq, true, NULL));

    g_assert_true(fr_wait_used(&t->r, 2));
    dev_free(t);
}

static void test_call_eventfd_replaces_transport_interrupt(void)
{
    TestDev *t = dev_new(QSIZE, false);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    uint64_t cnt = 0;

    virtio_queue_set_call_fd(t->vq, efd);
    dev_start(t, 0);
    complete_one(t, 0);

    g_assert_cmpint(read(efd, &cnt, sizeof(cnt)), ==, sizeof(cnt));
    g_assert_cmpuint(cnt, ==, 1);
    g_assert_cmpint(g_atomic_int_get(&t->queue_irqs), ==, 0);
    dev_free(t);
    close(efd);
}

static void test_borrowed_kick_eventfd_wakes_the_queue(void)
{
    TestDev *t = dev_new(QSIZE, false);
    int efd = eventfd(0, EFD_CLOEXEC);
    uint64_t one = 1;

    virtio_queue_set_kick_fd(t->vq, efd);
    t->auto_complete = true;
    dev_start(t, 0);
    chain_hdr_data(t, 0);
    fr_publish(&t->r, 0);

    g_assert_cmpint(write(efd, &one, sizeof(one)), ==, sizeof(one));

    g_assert_true(fr_wait_used(&t->r, 1));
    dev_free(t);
    close(efd);
}

typedef struct InflightLog {
    GArray *popped;
    GArray *begun;
    GArray *ended;
    uint16_t last_used_idx;
} InflightLog;

static void log_pop(void *opaque, uint16_t head)
{
    InflightLog *l = opaque;

    g_array_append_val(l->popped, head);
}

static void log_begin(void *opaque, const uint16_t *heads, unsigned n)
{
    g_array_append_vals(((InflightLog *)opaque)->begun, heads, n);
}

static void log_end(void *opaque, const uint16_t *heads, unsigned n,
                    uint16_t used_idx)
{
    InflightLog *l = opaque;

    g_array_append_vals(l->ended, heads, n);
    l->last_used_idx = used_idx;
}

static const VirtQueueInflightOps inflight_ops = {
    .pop = log_pop, .batch_begin = log_begin, .batch_end = log_end,
};

static void test_inflight_hooks_see_pop_and_batched_push(void)
{
    TestDev *t = dev_new(QSIZE, false);
    InflightLog l = {
        .popped = g_array_new(FALSE, FALSE, 2),
        .begun = g_array_new(FALSE, FALSE, 2),
        .ended = g_array_new(FALSE, FALSE, 2),
    };
    VirtQueueElement a, b;

    virtio_queue_set_inflight_ops(t->vq, &inflight_ops, &l);
    dev_start(t, 0);
    chain_hdr_data(t, 0);
    chain_hdr_data(t, 6);
    fr_publish(&t->r, 0);
    fr_publish(&t->r, 6);
    virtqueue_element_init(&a);
    virtqueue_element_init(&b);
    g_assert_true(virtqueue_pop(t->vq, &a));
    g_assert_true(virtqueue_pop(t->vq, &b));

    virtqueue_fill(t->vq, &b, 1);
    virtqueue_fill(t->vq, &a, 1);
    g_assert_cmpuint(l.ended->len, ==, 0);
    virtqueue_flush(t->vq);

    g_assert_cmpuint(l.popped->len, ==, 2);
    g_assert_cmpuint(g_array_index(l.popped, uint16_t, 1), ==, 6);
    g_assert_cmpuint(l.begun->len, ==, 2);
    g_assert_cmpuint(g_array_index(l.begun, uint16_t, 0), ==, 6);
    g_assert_cmpuint(l.ended->len, ==, 2);
    g_assert_cmpuint(l.last_used_idx, ==, 2);
    virtqueue_element_release(&a);
    virtqueue_element_release(&b);
    dev_free(t);
    g_array_free(l.popped, TRUE);
    g_array_free(l.begun, TRUE);
    g_array_free(l.ended, TRUE);
}

static void test_resubmitted_heads_are_popped_before_the_avail_ring(void)
{
    TestDev *t = dev_new(QSIZE, false);
    const uint16_t heads[] = { 8, 4 };
    VirtQueueElement e;

    chain_hdr_data(t, 4);
    chain_hdr_data(t, 8);
    chain_hdr_data(t, 0);
    fr_publish(&t->r, 0);
    g_assert_true(virtio_queue_set_resubmit(t->vq, heads, 2, NULL));
    dev_start(t, 0);

    virtqueue_element_init(&e);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_true(virtqueue_pop(t->vq, &e));
        g_assert_cmpuint(e.index, ==, i < 2 ? heads[i] : 0);
        virtqueue_push(t->vq, &e, 0);
    }
    g_assert_false(virtqueue_pop(t->vq, &e));
    virtqueue_element_release(&e);
    dev_free(t);
}

static void test_resubmit_head_beyond_queue_is_refused(void)
{
    TestDev *t = dev_new(QSIZE, false);
    const uint16_t heads[] = { QSIZE };
    g_autoptr(GError) err = NULL;

    g_assert_false(virtio_queue_set_resubmit(t->vq, heads, 1, &err));
    g_assert_nonnull(err);
    dev_free(t);
}

static void test_dirty_log_marks_written_buffer_and_used_ring(void)
{
    TestDev *t = dev_new(QSIZE, false);
    int logfd = memfd_create("dirty-log", MFD_CLOEXEC);
    uint64_t log_size = (FG_BASE + FG_SIZE) / DMA_LOG_PAGE_SIZE / 8;
    uint64_t data = fg_alloc(&t->g, DMA_LOG_PAGE_SIZE, DMA_LOG_PAGE_SIZE);
    uint64_t page = data / DMA_LOG_PAGE_SIZE;
    uint64_t used_page = t->r.used / DMA_LOG_PAGE_SIZE;
    VirtQueueElement e;
    uint8_t *log;

    g_assert_cmpint(ftruncate(logfd, (off_t)log_size), ==, 0);
    g_assert_true(dma_space_set_log(t->g.dma, logfd, 0, log_size, NULL));
    virtio_queue_set_used_log(t->vq, true, t->r.used);
    dev_start(t, 0);
    fr_desc(&t->r, 0, buf(t, 16), 16, VRING_DESC_F_NEXT, 1);
    fr_desc(&t->r, 1, data, 512, VRING_DESC_F_WRITE, 0);
    fr_publish(&t->r, 0);
    virtqueue_element_init(&e);
    g_assert_true(virtqueue_pop(t->vq, &e));

    virtqueue_push(t->vq, &e, 512);

    log = mmap(NULL, log_size, PROT_READ, MAP_SHARED, logfd, 0);
    g_assert_true(log != MAP_FAILED);
    g_assert_true(log[page / 8] & (1u << (page % 8)));
    g_assert_true(log[used_page / 8] & (1u << (used_page % 8)));
    munmap(log, log_size);
    virtqueue_element_release(&e);
    dev_free(t);
    close(logfd);
}

/* --- status and features --------------------------------------------------------- */

static void test_features_ok_refused_without_version_1(void)
{
    TestDev *t = dev_new(QSIZE, false);

    virtio_stage_features(&t->vdev, EVENT_IDX);
    virtio_set_status(&t->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                      VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK,
                      true, true);

    g_assert_false(virtio_get_status(&t->vdev) & VIRTIO_CONFIG_S_FEATURES_OK);
    dev_free(t);
}

static void test_features_not_offered_are_refused(void)
{
    TestDev *t = dev_new(QSIZE, false);
    g_autoptr(GError) err = NULL;

    g_assert_false(virtio_set_features(&t->vdev, MODERN | (1ull << 60),
                                       &err));
    g_assert_nonnull(err);
    g_assert_cmpuint(t->vdev.guest_features, ==, 0);
    dev_free(t);
}

static void test_status_bits_cannot_be_cleared_without_reset(void)
{
    TestDev *t = dev_new(QSIZE, false);

    virtio_set_status(&t->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                      VIRTIO_CONFIG_S_DRIVER, true, true);
    virtio_set_status(&t->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE, true, true);

    g_assert_cmpuint(virtio_get_status(&t->vdev), ==,
                     VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    dev_free(t);
}

static void test_driver_cannot_set_needs_reset(void)
{
    TestDev *t = dev_new(QSIZE, false);

    virtio_set_status(&t->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                      VIRTIO_CONFIG_S_NEEDS_RESET, true, true);

    g_assert_cmpuint(virtio_get_status(&t->vdev), ==,
                     VIRTIO_CONFIG_S_ACKNOWLEDGE);
    dev_free(t);
}

static void test_driver_ok_without_features_ok_starts_nothing(void)
{
    TestDev *t = dev_new(QSIZE, false);

    virtio_queue_set_enabled(t->vq, true);
    virtio_set_status(&t->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                      VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK,
                      true, true);

    g_assert_false(virtio_queue_running(t->vq));
    dev_free(t);
}

static void test_config_access_beyond_space_reads_zero(void)
{
    TestDev *t = dev_new(QSIZE, false);
    uint64_t v = 0xdead;

    g_assert_false(virtio_config_read(&t->vdev, 6, 4, &v));
    g_assert_cmpuint(v, ==, 0);
    g_assert_false(virtio_config_read(&t->vdev, UINT32_MAX, 1, &v));
    g_assert_false(virtio_config_write(&t->vdev, 8, 1, 1));
    g_assert_false(virtio_config_read(&t->vdev, 0, 3, &v));
    g_assert_true(virtio_config_read(&t->vdev, 4, 4, &v));
    dev_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtqueue/chain/header-and-writable-data",
                    test_pop_header_and_writable_data);
    g_test_add_func("/virtqueue/chain/empty-ring-returns-nothing",
                    test_pop_from_empty_ring_returns_nothing);
    g_test_add_func("/virtqueue/chain/push-publishes-id-and-length",
                    test_push_publishes_id_and_written_length);
    g_test_add_func("/virtqueue/chain/push-clamps-length",
                    test_push_clamps_length_to_writable_bytes);
    g_test_add_func("/virtqueue/chain/zero-length-descriptor-skipped",
                    test_zero_length_descriptor_is_skipped);
    g_test_add_func("/virtqueue/chain/buffer-across-two-regions",
                    test_buffer_across_two_regions_maps_to_two_iovecs);
    g_test_add_func("/virtqueue/chain/long-chain-grows-element",
                    test_long_chain_grows_element_storage);
    g_test_add_func("/virtqueue/chain/queue-size-chain-accepted",
                    test_chain_of_queue_size_is_accepted);
    g_test_add_func("/virtqueue/indirect/table-followed",
                    test_indirect_table_is_followed);
    g_test_add_func("/virtqueue/indirect/direct-before-indirect",
                    test_direct_descriptors_before_indirect_table);
    g_test_add_func("/virtqueue/indirect/table-at-limit",
                    test_indirect_table_at_limit_is_accepted);
    g_test_add_func("/virtqueue/bad/indirect-without-feature",
                    test_indirect_without_feature_breaks);
    g_test_add_func("/virtqueue/bad/indirect-len-not-multiple-of-16",
                    test_indirect_length_not_multiple_of_16_breaks);
    g_test_add_func("/virtqueue/bad/indirect-len-zero",
                    test_indirect_length_zero_breaks);
    g_test_add_func("/virtqueue/bad/indirect-one-past-limit",
                    test_indirect_table_one_past_limit_breaks);
    g_test_add_func("/virtqueue/bad/nested-indirect",
                    test_nested_indirect_breaks);
    g_test_add_func("/virtqueue/bad/indirect-with-next",
                    test_indirect_with_next_breaks);
    g_test_add_func("/virtqueue/bad/indirect-table-outside-memory",
                    test_indirect_table_outside_memory_breaks);
    g_test_add_func("/virtqueue/bad/indirect-next-beyond-table",
                    test_indirect_next_beyond_table_breaks);
    g_test_add_func("/virtqueue/bad/indirect-loop",
                    test_indirect_loop_breaks);
    g_test_add_func("/virtqueue/bad/descriptor-loop",
                    test_descriptor_loop_breaks);
    g_test_add_func("/virtqueue/bad/next-beyond-queue",
                    test_next_index_beyond_queue_breaks);
    g_test_add_func("/virtqueue/bad/head-beyond-queue",
                    test_head_index_beyond_queue_breaks);
    g_test_add_func("/virtqueue/bad/avail-index-too-far-ahead",
                    test_avail_index_more_than_queue_size_ahead_breaks);
    g_test_add_func("/virtqueue/bad/buffer-outside-memory",
                    test_buffer_outside_memory_breaks);
    g_test_add_func("/virtqueue/bad/buffer-below-memory",
                    test_buffer_below_memory_breaks);
    g_test_add_func("/virtqueue/bad/buffer-address-wraps",
                    test_buffer_address_wrapping_breaks);
    g_test_add_func("/virtqueue/bad/readable-after-writable",
                    test_readable_after_writable_breaks);
    g_test_add_func("/virtqueue/bad/request-longer-than-4gib",
                    test_request_longer_than_4gib_breaks);
    g_test_add_func("/virtqueue/bad/too-many-segments",
                    test_more_segments_than_an_element_holds_breaks);
    g_test_add_func("/virtqueue/bad/too-many-in-flight",
                    test_more_requests_in_flight_than_queue_size_breaks);
    g_test_add_func("/virtqueue/bad/broken-device-stays-quiet",
                    test_broken_device_pops_nothing_and_writes_nothing);
    g_test_add_func("/virtqueue/bad/reset-clears-needs-reset",
                    test_reset_clears_needs_reset);
    g_test_add_func("/virtqueue/bad/error-eventfd-signalled",
                    test_violation_signals_error_eventfd);
    g_test_add_func("/virtqueue/setup/size-power-of-two-up-to-max",
                    test_queue_size_must_be_power_of_two_up_to_max);
    g_test_add_func("/virtqueue/setup/device-queue-size-above-limit",
                    test_device_queue_size_above_limit_is_refused);
    g_test_add_func("/virtqueue/setup/largest-queue-runs",
                    test_largest_queue_runs);
    g_test_add_func("/virtqueue/setup/misaligned-ring-fails-start",
                    test_misaligned_ring_fails_start);
    g_test_add_func("/virtqueue/setup/ring-outside-memory-fails-start",
                    test_ring_outside_memory_fails_start);
    g_test_add_func("/virtqueue/setup/frozen-while-running",
                    test_ring_setup_frozen_while_running);
    g_test_add_func("/virtqueue/kick/processed-in-iothread",
                    test_kick_processes_the_ring_in_the_iothread);
    g_test_add_func("/virtqueue/kick/queued-before-start",
                    test_requests_queued_before_start_are_processed);
    g_test_add_func("/virtqueue/kick/budget-per-call",
                    test_one_kick_pops_at_most_a_queue_worth);
    g_test_add_func("/virtqueue/kick/indices-wrap-16-bits",
                    test_indices_wrap_around_16_bits);
    g_test_add_func("/virtqueue/notify/no-interrupt-flag",
                    test_no_interrupt_flag_suppresses_interrupts);
    g_test_add_func("/virtqueue/notify/event-idx-used-event",
                    test_event_idx_interrupts_only_when_used_event_passed);
    g_test_add_func("/virtqueue/notify/event-idx-ignores-flag",
                    test_event_idx_ignores_no_interrupt_flag);
    g_test_add_func("/virtqueue/notify/event-idx-avail-event",
                    test_event_idx_device_writes_avail_event);
    g_test_add_func("/virtqueue/notify/no-notify-flag",
                    test_disabling_notifications_sets_no_notify);
    g_test_add_func("/virtqueue/seam/stop-returns-base-start-resumes",
                    test_stop_returns_next_avail_index_and_start_resumes);
    g_test_add_func("/virtqueue/seam/call-eventfd",
                    test_call_eventfd_replaces_transport_interrupt);
    g_test_add_func("/virtqueue/seam/borrowed-kick-eventfd",
                    test_borrowed_kick_eventfd_wakes_the_queue);
    g_test_add_func("/virtqueue/seam/inflight-hooks",
                    test_inflight_hooks_see_pop_and_batched_push);
    g_test_add_func("/virtqueue/seam/resubmit-first",
                    test_resubmitted_heads_are_popped_before_the_avail_ring);
    g_test_add_func("/virtqueue/seam/resubmit-head-beyond-queue",
                    test_resubmit_head_beyond_queue_is_refused);
    g_test_add_func("/virtqueue/seam/dirty-log",
                    test_dirty_log_marks_written_buffer_and_used_ring);
    g_test_add_func("/virtqueue/status/features-ok-needs-version-1",
                    test_features_ok_refused_without_version_1);
    g_test_add_func("/virtqueue/status/features-not-offered",
                    test_features_not_offered_are_refused);
    g_test_add_func("/virtqueue/status/bits-not-cleared",
                    test_status_bits_cannot_be_cleared_without_reset);
    g_test_add_func("/virtqueue/status/driver-cannot-set-needs-reset",
                    test_driver_cannot_set_needs_reset);
    g_test_add_func("/virtqueue/status/driver-ok-without-features-ok",
                    test_driver_ok_without_features_ok_starts_nothing);
    g_test_add_func("/virtqueue/config/beyond-space",
                    test_config_access_beyond_space_reads_zero);
    g_test_add_func("/virtqueue/poll/serves-without-kicks",
                    test_polling_iothread_serves_requests_without_kicks);
    g_test_add_func("/virtqueue/poll/keeps-kicks-off",
                    test_polling_keeps_kicks_off_whatever_the_device_asks);
    g_test_add_func("/virtqueue/poll/event-idx-stays-behind",
                    test_polling_leaves_avail_event_behind_until_it_stops);
    g_test_add_func("/virtqueue/poll/device-off-stays-off",
                    test_device_kicks_off_stay_off_when_polling_stops);
    return g_test_run();
}
