/*
 * vhost-user in-flight region: initialisation, tracking and recovery after
 * a backend restart (remote/vhost-user/inflight.c).
 *
 * Each test plays the old backend on a region, "crashes" at some point by
 * dropping its VuInflightQueue, and attaches a new one to the same bytes as
 * a restarted backend would after SET_INFLIGHT_FD.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "remote/vhost-user/inflight.h"

#define QSIZE 8     /* a small queue keeps the tables readable */

typedef struct Region {
    uint8_t *mem;
    uint64_t size;
} Region;

static Region region_new(uint16_t queue_size)
{
    Region r = { .size = vu_inflight_queue_region_size(queue_size) };

    r.mem = g_malloc0(r.size);
    return r;
}

static VuInflightQueue attach(Region *r, uint16_t queue_size)
{
    g_autoptr(GError) err = NULL;
    VuInflightQueue q;

    g_assert_true(vu_inflight_queue_attach(&q, r->mem, queue_size, &err));
    g_assert_no_error(err);
    return q;
}

/* Completes @n heads as one batch that publishes used->idx = @used_idx. */
static void complete(VuInflightQueue *q, const uint16_t *heads, unsigned n,
                     uint16_t used_idx)
{
    vu_inflight_batch_begin(q, heads, n);
    vu_inflight_batch_end(q, heads, n, used_idx);
}

static void test_region_size_matches_libvhost_user(void)
{
    /* QEMU 7.2 asked for 2 queues of 128 and libvhost-user answered 4224. */
    g_assert_cmpuint(2 * vu_inflight_queue_region_size(128), ==, 4224);
}

static void test_fresh_region_has_nothing_to_resubmit(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue q = attach(&r, QSIZE);
    uint16_t heads[QSIZE];

    g_assert_true(q.fresh);
    g_assert_cmpint(vu_inflight_recover(&q, 0, heads, NULL), ==, 0);
    g_assert_cmpuint(r.mem[8], ==, VU_INFLIGHT_VERSION);
    g_assert_cmpuint(r.mem[10], ==, QSIZE);
    g_free(r.mem);
}

static void test_popped_requests_are_resubmitted_oldest_first(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue old = attach(&r, QSIZE), q;
    uint16_t heads[QSIZE];

    vu_inflight_pop(&old, 5);
    vu_inflight_pop(&old, 2);
    vu_inflight_pop(&old, 7);
    /* crash */
    q = attach(&r, QSIZE);

    g_assert_false(q.fresh);
    g_assert_cmpint(vu_inflight_recover(&q, 0, heads, NULL), ==, 3);
    g_assert_cmpuint(heads[0], ==, 5);
    g_assert_cmpuint(heads[1], ==, 2);
    g_assert_cmpuint(heads[2], ==, 7);
    g_free(r.mem);
}

static void test_completed_requests_are_not_resubmitted(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue old = attach(&r, QSIZE), q;
    uint16_t batch[] = { 1, 3 };
    uint16_t heads[QSIZE];

    vu_inflight_pop(&old, 1);
    vu_inflight_pop(&old, 3);
    vu_inflight_pop(&old, 4);
    complete(&old, batch, G_N_ELEMENTS(batch), 2);
    /* crash; the guest's used->idx is 2 */
    q = attach(&r, QSIZE);

    g_assert_cmpint(vu_inflight_recover(&q, 2, heads, NULL), ==, 1);
    g_assert_cmpuint(heads[0], ==, 4);
    g_free(r.mem);
}

static void test_batch_published_but_not_retired_is_retired(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue old = attach(&r, QSIZE), q;
    uint16_t batch[] = { 6, 0 };
    uint16_t heads[QSIZE];

    vu_inflight_pop(&old, 6);
    vu_inflight_pop(&old, 0);
    vu_inflight_pop(&old, 2);
    vu_inflight_batch_begin(&old, batch, G_N_ELEMENTS(batch));
    /* the used ring shows the batch (used->idx 0 -> 2), then: crash */
    q = attach(&r, QSIZE);

    g_assert_cmpint(vu_inflight_recover(&q, 2, heads, NULL), ==, 1);
    g_assert_cmpuint(heads[0], ==, 2);
    g_free(r.mem);
}

static void test_batch_begun_but_not_published_is_resubmitted(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue old = attach(&r, QSIZE), q;
    uint16_t batch[] = { 6 };
    uint16_t heads[QSIZE];

    vu_inflight_pop(&old, 6);
    vu_inflight_batch_begin(&old, batch, G_N_ELEMENTS(batch));
    /* crash before the used ring was written: used->idx still 0 */
    q = attach(&r, QSIZE);

    g_assert_cmpint(vu_inflight_recover(&q, 0, heads, NULL), ==, 1);
    g_assert_cmpuint(heads[0], ==, 6);
    g_free(r.mem);
}

static void test_used_index_wraps_around(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue old = attach(&r, QSIZE), q;
    uint16_t one[1];
    uint16_t heads[QSIZE];

    /* 65535 completions bring used_idx to 0xffff; the next wraps to 0. */
    for (uint32_t i = 0; i < 0xffff; i++) {
        one[0] = (uint16_t)(i % QSIZE);
        vu_inflight_pop(&old, one[0]);
        complete(&old, one, 1, (uint16_t)(i + 1));
    }
    one[0] = 3;
    vu_inflight_pop(&old, 3);
    vu_inflight_pop(&old, 4);
    vu_inflight_batch_begin(&old, one, 1);
    /* published as used->idx 0 (wrapped), crash before retiring */
    q = attach(&r, QSIZE);

    g_assert_cmpint(vu_inflight_recover(&q, 0, heads, NULL), ==, 1);
    g_assert_cmpuint(heads[0], ==, 4);
    g_free(r.mem);
}

static void test_counter_continues_after_restart(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue old = attach(&r, QSIZE), q;
    uint16_t heads[QSIZE];

    vu_inflight_pop(&old, 1);
    vu_inflight_pop(&old, 2);
    q = attach(&r, QSIZE);
    /* A request popped by the new backend is newer than the old ones even
     * if the new backend crashes before resubmitting them. */
    vu_inflight_pop(&q, 0);
    q = attach(&r, QSIZE);

    g_assert_cmpint(vu_inflight_recover(&q, 0, heads, NULL), ==, 3);
    g_assert_cmpuint(heads[2], ==, 0);
    g_free(r.mem);
}

static void test_region_of_another_queue_size_is_refused(void)
{
    Region r = region_new(2 * QSIZE);
    g_autoptr(GError) err = NULL;
    VuInflightQueue q;

    attach(&r, 2 * QSIZE);

    g_assert_false(vu_inflight_queue_attach(&q, r.mem, QSIZE, &err));
    g_assert_nonnull(err);
    g_free(r.mem);
}

static void test_unknown_region_version_is_refused(void)
{
    Region r = region_new(QSIZE);
    g_autoptr(GError) err = NULL;
    VuInflightQueue q;

    r.mem[8] = 2;   /* version */

    g_assert_false(vu_inflight_queue_attach(&q, r.mem, QSIZE, &err));
    g_assert_nonnull(err);
    g_free(r.mem);
}

static void test_batch_chain_leaving_the_table_is_refused(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue q = attach(&r, QSIZE);
    g_autoptr(GError) err = NULL;
    uint16_t heads[QSIZE];
    uint16_t bad_head = QSIZE + 100;

    /* A frontend scribbled a head beyond the table into the header. */
    memcpy(r.mem + 12, &bad_head, sizeof(bad_head));

    g_assert_cmpint(vu_inflight_recover(&q, 1, heads, &err), ==, -1);
    g_assert_nonnull(err);
    g_free(r.mem);
}

static void test_used_index_further_behind_than_the_queue_is_refused(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue q = attach(&r, QSIZE);
    g_autoptr(GError) err = NULL;
    uint16_t heads[QSIZE];

    /* The ring cannot hold QSIZE + 1 completions the region did not see. */
    g_assert_cmpint(vu_inflight_recover(&q, QSIZE + 1, heads, &err), ==, -1);
    g_assert_nonnull(err);
    g_free(r.mem);
}

static void test_every_descriptor_in_flight_at_the_limit(void)
{
    Region r = region_new(QSIZE);
    VuInflightQueue old = attach(&r, QSIZE), q;
    uint16_t heads[QSIZE];

    for (uint16_t i = 0; i < QSIZE; i++) {
        vu_inflight_pop(&old, QSIZE - 1 - i);
    }
    q = attach(&r, QSIZE);

    g_assert_cmpint(vu_inflight_recover(&q, 0, heads, NULL), ==, QSIZE);
    g_assert_cmpuint(heads[0], ==, QSIZE - 1);
    g_assert_cmpuint(heads[QSIZE - 1], ==, 0);
    g_free(r.mem);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vhost-user/inflight/region-size-matches-libvhost-user",
                    test_region_size_matches_libvhost_user);
    g_test_add_func("/vhost-user/inflight/fresh-region-has-nothing",
                    test_fresh_region_has_nothing_to_resubmit);
    g_test_add_func("/vhost-user/inflight/popped-resubmitted-oldest-first",
                    test_popped_requests_are_resubmitted_oldest_first);
    g_test_add_func("/vhost-user/inflight/completed-not-resubmitted",
                    test_completed_requests_are_not_resubmitted);
    g_test_add_func("/vhost-user/inflight/published-batch-retired",
                    test_batch_published_but_not_retired_is_retired);
    g_test_add_func("/vhost-user/inflight/unpublished-batch-resubmitted",
                    test_batch_begun_but_not_published_is_resubmitted);
    g_test_add_func("/vhost-user/inflight/used-index-wraps",
                    test_used_index_wraps_around);
    g_test_add_func("/vhost-user/inflight/counter-continues",
                    test_counter_continues_after_restart);
    g_test_add_func("/vhost-user/inflight/other-queue-size-refused",
                    test_region_of_another_queue_size_is_refused);
    g_test_add_func("/vhost-user/inflight/unknown-version-refused",
                    test_unknown_region_version_is_refused);
    g_test_add_func("/vhost-user/inflight/chain-leaving-table-refused",
                    test_batch_chain_leaving_the_table_is_refused);
    g_test_add_func("/vhost-user/inflight/used-index-too-far-refused",
                    test_used_index_further_behind_than_the_queue_is_refused);
    g_test_add_func("/vhost-user/inflight/all-descriptors-in-flight",
                    test_every_descriptor_in_flight_at_the_limit);
    return g_test_run();
}
