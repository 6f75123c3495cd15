/*
 * The iothread-vq-mapping export option (remote/export/iothread-vq-mapping.c):
 * mappings parsed from the -export key=value text, as a user writes them,
 * turned into the iothread of each queue, and every refusal.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/option.h"
#include "hw/qdev.h"
#include "remote/export/internal.h"
#include "qapi/qapi-visit.h"

/* Unused: the export library refers to the -device registry. */
const DeviceType *const device_types[] = { NULL };

#define NUM_QUEUES 4

static IOThread *io0, *io1, *io2;

/* The mapping of an -export option "iothread-vq-mapping.0.iothread=...". */
static IOThreadVirtQueueMappingList *parse(const char *mapping)
{
    g_autofree char *s = g_strdup_printf(
        "type=vhost-user-blk,id=e,node-name=n,addr.type=unix,addr.path=p,%s",
        mapping);
    g_autoptr(KeyValList) kv = keyval_parse(s, "type", NULL);
    g_autoptr(JsonNode) json = keyval_to_json(kv, NULL);
    g_autoptr(GError) err = NULL;
    BlockExportOptions *opts = NULL;
    IOThreadVirtQueueMappingList *list;

    g_assert_true(qapi_from_json_BlockExportOptions(json, QAPI_INPUT_KEYVAL,
                                                    &opts, &err));
    g_assert_no_error(err);
    list = g_steal_pointer(&opts->u.vhost_user_blk.iothread_vq_mapping);
    qapi_free_BlockExportOptions(opts);
    return list;
}

static bool apply(const char *mapping, unsigned nq, IOThread **out,
                  GError **errp)
{
    g_autoptr(IOThreadVirtQueueMappingList) list = parse(mapping);

    return iothread_vq_mapping_apply(list, nq, out, errp);
}

static void assert_refused(const char *mapping, const char *message)
{
    IOThread *out[NUM_QUEUES];
    g_autoptr(GError) err = NULL;

    g_assert_false(apply(mapping, NUM_QUEUES, out, &err));
    g_assert_nonnull(err);
    g_assert_cmpstr(err->message, ==, message);
}

static void test_without_vqs_queues_go_round_robin(void)
{
    IOThread *out[NUM_QUEUES];

    g_assert_true(apply("iothread-vq-mapping.0.iothread=io0,"
                        "iothread-vq-mapping.1.iothread=io1",
                        NUM_QUEUES, out, NULL));

    g_assert_true(out[0] == io0);
    g_assert_true(out[1] == io1);
    g_assert_true(out[2] == io0);
    g_assert_true(out[3] == io1);
}

/* More iothreads than queues: the last ones get none. */
static void test_more_iothreads_than_queues_leaves_some_idle(void)
{
    IOThread *out[2];

    g_assert_true(apply("iothread-vq-mapping.0.iothread=io2,"
                        "iothread-vq-mapping.1.iothread=io0,"
                        "iothread-vq-mapping.2.iothread=io1", 2, out, NULL));

    g_assert_true(out[0] == io2);
    g_assert_true(out[1] == io0);
}

static void test_vqs_assign_each_queue(void)
{
    IOThread *out[NUM_QUEUES];

    g_assert_true(apply("iothread-vq-mapping.0.iothread=io1,"
                        "iothread-vq-mapping.0.vqs.0=3,"
                        "iothread-vq-mapping.0.vqs.1=0,"
                        "iothread-vq-mapping.1.iothread=io0,"
                        "iothread-vq-mapping.1.vqs.0=1,"
                        "iothread-vq-mapping.1.vqs.1=2",
                        NUM_QUEUES, out, NULL));

    g_assert_true(out[0] == io1);
    g_assert_true(out[1] == io0);
    g_assert_true(out[2] == io0);
    g_assert_true(out[3] == io1);
}

static void test_unknown_iothread_is_refused(void)
{
    assert_refused("iothread-vq-mapping.0.iothread=io0,"
                   "iothread-vq-mapping.1.iothread=nosuch",
                   "iothread-vq-mapping: iothread \"nosuch\" not found");
}

static void test_iothread_named_twice_is_refused(void)
{
    assert_refused("iothread-vq-mapping.0.iothread=io1,"
                   "iothread-vq-mapping.1.iothread=io1",
                   "iothread-vq-mapping: iothread \"io1\" is listed twice");
}

static void test_vqs_for_some_iothreads_only_is_refused(void)
{
    assert_refused("iothread-vq-mapping.0.iothread=io0,"
                   "iothread-vq-mapping.0.vqs.0=0,"
                   "iothread-vq-mapping.1.iothread=io1",
                   "iothread-vq-mapping: give vqs for every iothread or "
                   "for none");
}

/* Queue indexes run 0..NUM_QUEUES-1: 4 is one past the last. */
static void test_queue_out_of_range_is_refused(void)
{
    assert_refused("iothread-vq-mapping.0.iothread=io0,"
                   "iothread-vq-mapping.0.vqs.0=0,"
                   "iothread-vq-mapping.0.vqs.1=1,"
                   "iothread-vq-mapping.0.vqs.2=2,"
                   "iothread-vq-mapping.0.vqs.3=4",
                   "iothread-vq-mapping: queue 4 is out of range "
                   "(num-queues is 4)");
}

static void test_queue_listed_twice_is_refused(void)
{
    assert_refused("iothread-vq-mapping.0.iothread=io0,"
                   "iothread-vq-mapping.0.vqs.0=0,"
                   "iothread-vq-mapping.0.vqs.1=1,"
                   "iothread-vq-mapping.1.iothread=io1,"
                   "iothread-vq-mapping.1.vqs.0=2,"
                   "iothread-vq-mapping.1.vqs.1=1",
                   "iothread-vq-mapping: queue 1 is listed twice");
}

static void test_queue_left_out_is_refused(void)
{
    assert_refused("iothread-vq-mapping.0.iothread=io0,"
                   "iothread-vq-mapping.0.vqs.0=0,"
                   "iothread-vq-mapping.0.vqs.1=1,"
                   "iothread-vq-mapping.1.iothread=io1,"
                   "iothread-vq-mapping.1.vqs.0=3",
                   "iothread-vq-mapping: queue 2 is not assigned to an "
                   "iothread");
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    /* The -object iothread,id=ioN of a command line. */
    io0 = iothread_create("io0", NULL);
    io1 = iothread_create("io1", NULL);
    io2 = iothread_create("io2", NULL);
    g_assert_nonnull(io0);
    g_assert_nonnull(io1);
    g_assert_nonnull(io2);

    g_test_add_func("/iothread-vq-mapping/round-robin",
                    test_without_vqs_queues_go_round_robin);
    g_test_add_func("/iothread-vq-mapping/more-iothreads-than-queues",
                    test_more_iothreads_than_queues_leaves_some_idle);
    g_test_add_func("/iothread-vq-mapping/vqs", test_vqs_assign_each_queue);
    g_test_add_func("/iothread-vq-mapping/unknown-iothread",
                    test_unknown_iothread_is_refused);
    g_test_add_func("/iothread-vq-mapping/iothread-twice",
                    test_iothread_named_twice_is_refused);
    g_test_add_func("/iothread-vq-mapping/vqs-for-some-only",
                    test_vqs_for_some_iothreads_only_is_refused);
    g_test_add_func("/iothread-vq-mapping/queue-out-of-range",
                    test_queue_out_of_range_is_refused);
    g_test_add_func("/iothread-vq-mapping/queue-twice",
                    test_queue_listed_twice_is_refused);
    g_test_add_func("/iothread-vq-mapping/queue-left-out",
                    test_queue_left_out_is_refused);
    ret = g_test_run();
    iothread_destroy(io2);
    iothread_destroy(io1);
    iothread_destroy(io0);
    return ret;
}
