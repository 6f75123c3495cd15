/*
 * IOThreads (util/iothread.c): calls marshalled into the thread, and busy
 * polling with poll handlers (include/qemu-remote/iothread.h).
 *
 * A poll handler here stands for a virtqueue: "publishing work" sets a flag
 * the handler finds without the iothread being woken, as a driver adds to an
 * avail ring without kicking.  The poll window opens only once events come
 * quickly, so each polling story first makes a burst of calls into the
 * thread (GROW_CALLS); work is then published from inside a call, so the
 * poll phase that follows that dispatch is what must find it.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/iothread.h"

/* Calls that open the poll window: after the first the thread polls after
 * every dispatch, and the window grows towards the gap between calls. */
#define GROW_CALLS 20
/* Bound on every wait for the iothread. */
#define DEADLINE_US (10 * G_USEC_PER_SEC)

typedef struct Handler {
    int work;           /* set by the test: work is waiting */
    int polls;          /* poll() calls */
    int done;           /* work found and done */
    int notify;         /* last set_notify(): 1 on, 0 off, -1 never */
    int notify_offs;    /* set_notify(false) calls */
} Handler;

static bool handler_poll(void *opaque)
{
    Handler *h = opaque;

    g_atomic_int_inc(&h->polls);
    if (g_atomic_int_compare_and_exchange(&h->work, 1, 0)) {
        g_atomic_int_inc(&h->done);
        return true;
    }
    return false;
}

static void handler_set_notify(void *opaque, bool enable)
{
    Handler *h = opaque;

    g_atomic_int_set(&h->notify, enable);
    if (!enable) {
        g_atomic_int_inc(&h->notify_offs);
    }
}

static const IOThreadPollHandler poll_ops = {
    .poll = handler_poll,
    .set_notify = handler_set_notify,
};

typedef struct Reg {
    IOThread *iot;
    Handler *h;
} Reg;

static void add_fn(void *opaque)
{
    Reg *r = opaque;

    iothread_add_poll_handler(r->iot, &poll_ops, r->h);
}

static void remove_fn(void *opaque)
{
    Reg *r = opaque;

    iothread_remove_poll_handler(r->iot, &poll_ops, r->h);
}

static void nothing_fn(void *opaque)
{
}

static void publish_fn(void *opaque)
{
    Handler *h = opaque;

    g_atomic_int_set(&h->work, 1);
}

static void increment_fn(void *opaque)
{
    g_atomic_int_inc((int *)opaque);
}

/* An iothread with poll-max-ns @max_ns and @h registered. */
static IOThread *start(const char *id, int64_t max_ns, Handler *h)
{
    IOThread *iot = iothread_create(id, NULL);
    Reg r = { iot, h };

    g_assert_nonnull(iot);
    h->notify = -1;
    iothread_set_poll_max_ns(iot, max_ns);
    iothread_run_sync(iot, add_fn, &r);
    return iot;
}

static void stop(IOThread *iot, Handler *h)
{
    Reg r = { iot, h };

    iothread_run_sync(iot, remove_fn, &r);
    iothread_destroy(iot);
}

/* Waits until *@p == @want; false after DEADLINE_US. */
static bool wait_int(int *p, int want)
{
    int64_t deadline = g_get_monotonic_time() + DEADLINE_US;

    while (g_atomic_int_get(p) != want) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_usleep(100);
    }
    return true;
}

static void grow_window(IOThread *iot)
{
    for (int i = 0; i < GROW_CALLS; i++) {
        iothread_run_sync(iot, nothing_fn, NULL);
    }
}

static void test_run_sync_runs_in_the_iothread_and_waits(void)
{
    IOThread *iot = iothread_create("t-sync", NULL);
    int count = 0;

    iothread_run_sync(iot, increment_fn, &count);

    g_assert_cmpint(count, ==, 1);
    iothread_destroy(iot);
}

static void test_new_iothread_polls_up_to_qemu_default(void)
{
    IOThread *iot = iothread_create("t-default", NULL);

    g_assert_cmpint(iothread_get_poll_max_ns(iot), ==,
                    IOTHREAD_POLL_MAX_NS_DEFAULT);
    iothread_set_poll_max_ns(iot, IOTHREAD_POLL_MAX_NS_LIMIT + 1);
    g_assert_cmpint(iothread_get_poll_max_ns(iot), ==,
                    IOTHREAD_POLL_MAX_NS_LIMIT);
    iothread_set_poll_max_ns(iot, -1);
    g_assert_cmpint(iothread_get_poll_max_ns(iot), ==, 0);
    iothread_destroy(iot);
}

static void test_polling_finds_work_published_without_a_wakeup(void)
{
    Handler h = { 0 };
    /* One second: the window stays open while the test publishes. */
    IOThread *iot = start("t-poll", 1000000000, &h);

    grow_window(iot);

    /* Published from a call into the thread: the poll phase after that
     * dispatch must find it, with nothing else to wake the thread. */
    iothread_run_sync(iot, publish_fn, &h);

    g_assert_true(wait_int(&h.done, 1));
    stop(iot, &h);
}

static void test_polling_turns_notifications_off_then_on_before_sleep(void)
{
    Handler h = { 0 };
    /* 20 ms: long enough to see, short enough to wait out. */
    IOThread *iot = start("t-notify", 20000000, &h);

    grow_window(iot);

    g_assert_true(wait_int(&h.notify, 1));
    g_assert_cmpint(g_atomic_int_get(&h.notify_offs), >=, 1);
    stop(iot, &h);
}

static void test_zero_poll_time_never_polls(void)
{
    Handler h = { 0 };
    IOThread *iot = start("t-nopoll", 0, &h);

    grow_window(iot);
    /* A poll phase would follow a dispatch and end before the next one. */
    iothread_run_sync(iot, nothing_fn, NULL);

    g_assert_cmpint(g_atomic_int_get(&h.polls), ==, 0);
    g_assert_cmpint(g_atomic_int_get(&h.notify), ==, -1);
    stop(iot, &h);
}

static void test_removed_handler_is_not_polled(void)
{
    Handler h = { 0 };
    IOThread *iot = start("t-removed", 1000000000, &h);
    Reg r = { iot, &h };
    int polls;

    iothread_run_sync(iot, remove_fn, &r);
    polls = g_atomic_int_get(&h.polls);
    grow_window(iot);
    g_atomic_int_set(&h.work, 1);
    iothread_run_sync(iot, nothing_fn, NULL);

    g_assert_cmpint(g_atomic_int_get(&h.polls), ==, polls);
    g_assert_cmpint(g_atomic_int_get(&h.done), ==, 0);
    iothread_destroy(iot);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iothread/run-sync",
                    test_run_sync_runs_in_the_iothread_and_waits);
    g_test_add_func("/iothread/poll/default-and-limits",
                    test_new_iothread_polls_up_to_qemu_default);
    g_test_add_func("/iothread/poll/finds-work-without-wakeup",
                    test_polling_finds_work_published_without_a_wakeup);
    g_test_add_func("/iothread/poll/notify-off-then-on",
                    test_polling_turns_notifications_off_then_on_before_sleep);
    g_test_add_func("/iothread/poll/zero-never-polls",
                    test_zero_poll_time_never_polls);
    g_test_add_func("/iothread/poll/removed-handler",
                    test_removed_handler_is_not_polled);
    return g_test_run();
}
