/*
 * Shutdown requests, auto-shutdown link counting and names
 * (util/runstate.c).  The run state is process-wide and a request cannot be
 * taken back, so every story runs in a subprocess of its own.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/runstate.h"

/* Bound on waiting for a wake-up that should come at once. */
#define WAKE_DEADLINE_SECONDS 30

static gboolean deadline_passed(gpointer opaque)
{
    g_error("the main context was not woken within %d s",
            WAKE_DEADLINE_SECONDS);
    return G_SOURCE_REMOVE;
}

/*
 * One blocking iteration of @ctx: returns only if something wakes it,
 * failing at the deadline otherwise.
 */
static void iterate_once(GMainContext *ctx)
{
    GSource *deadline = g_timeout_source_new_seconds(WAKE_DEADLINE_SECONDS);

    g_source_set_callback(deadline, deadline_passed, NULL, NULL);
    g_source_attach(deadline, ctx);
    g_main_context_iteration(ctx, TRUE);
    g_source_destroy(deadline);
    g_source_unref(deadline);
}

static void test_nothing_requested_at_start(void)
{
    ShutdownCause cause = SHUTDOWN_CAUSE_HOST_ERROR;

    g_assert_false(qemu_system_shutdown_requested(&cause));
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_HOST_ERROR);
}

static void test_first_cause_wins(void)
{
    ShutdownCause cause;

    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);

    g_assert_true(qemu_system_shutdown_requested(&cause));
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_HOST_QMP_QUIT);
}

static gpointer request_from_thread(gpointer opaque)
{
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_ERROR);
    return NULL;
}

static void test_request_from_a_thread_wakes_the_main_context(void)
{
    g_autoptr(GMainContext) ctx = g_main_context_new();
    GThread *thread;
    ShutdownCause cause;

    qemu_set_main_context(ctx);
    thread = g_thread_new("requester", request_from_thread, NULL);
    /* Whether the request comes before or during the poll, the eventfd
     * it writes makes this return. */
    iterate_once(ctx);
    g_thread_join(thread);

    g_assert_true(qemu_system_shutdown_requested(&cause));
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_HOST_ERROR);
}

static void test_request_before_the_context_is_set_still_wakes(void)
{
    g_autoptr(GMainContext) ctx = g_main_context_new();

    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
    qemu_set_main_context(ctx);

    iterate_once(ctx);
    g_assert_true(qemu_system_shutdown_requested(NULL));
}

static void test_last_link_closing_requests_guest_shutdown(void)
{
    ShutdownCause cause;

    qemu_remote_links_ready();
    qemu_remote_link_opened();
    qemu_remote_link_opened();
    qemu_remote_link_closed();
    g_assert_false(qemu_system_shutdown_requested(NULL));

    qemu_remote_link_closed();
    g_assert_true(qemu_system_shutdown_requested(&cause));
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
}

static void test_link_closing_during_start_up_waits_for_ready(void)
{
    ShutdownCause cause;

    /* The first link closes before the second opens. */
    qemu_remote_link_opened();
    qemu_remote_link_closed();
    qemu_remote_link_opened();
    g_assert_false(qemu_system_shutdown_requested(NULL));

    qemu_remote_links_ready();
    g_assert_false(qemu_system_shutdown_requested(NULL));
    qemu_remote_link_closed();
    g_assert_true(qemu_system_shutdown_requested(&cause));
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
}

static void test_all_links_gone_before_ready(void)
{
    ShutdownCause cause;

    qemu_remote_link_opened();
    qemu_remote_link_closed();
    qemu_remote_links_ready();

    g_assert_true(qemu_system_shutdown_requested(&cause));
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
}

static void test_no_links_at_all_keeps_running(void)
{
    qemu_remote_links_ready();

    g_assert_false(qemu_system_shutdown_requested(NULL));
}

static void test_auto_shutdown_off_keeps_running(void)
{
    qemu_set_auto_shutdown(false);
    qemu_remote_links_ready();
    qemu_remote_link_opened();
    qemu_remote_link_closed();

    g_assert_false(qemu_system_shutdown_requested(NULL));
}

static void test_cause_names(void)
{
    g_assert_cmpstr(shutdown_cause_name(SHUTDOWN_CAUSE_HOST_QMP_QUIT), ==,
                    "host-qmp-quit");
    g_assert_cmpstr(shutdown_cause_name(SHUTDOWN_CAUSE_HOST_SIGNAL), ==,
                    "host-signal");
    g_assert_cmpstr(shutdown_cause_name(SHUTDOWN_CAUSE_HOST_ERROR), ==,
                    "host-error");
    g_assert_cmpstr(shutdown_cause_name(SHUTDOWN_CAUSE_GUEST_SHUTDOWN), ==,
                    "guest-shutdown");
}

static void test_name_unset_then_set(void)
{
    g_assert_null(qemu_get_name());
    qemu_set_name("vm1");
    g_assert_cmpstr(qemu_get_name(), ==, "vm1");
}

/* Runs @fn in a fresh subprocess (fresh run state) and requires success. */
static void in_subprocess(gconstpointer data)
{
    void (*fn)(void) = (void (*)(void))data;

    if (g_test_subprocess()) {
        fn();
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

static void add(const char *path, void (*fn)(void))
{
    g_test_add_data_func(path, (gconstpointer)fn, in_subprocess);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add("/runstate/nothing-requested-at-start",
        test_nothing_requested_at_start);
    add("/runstate/first-cause-wins", test_first_cause_wins);
    add("/runstate/request-from-a-thread-wakes-the-main-context",
        test_request_from_a_thread_wakes_the_main_context);
    add("/runstate/request-before-the-context-is-set-still-wakes",
        test_request_before_the_context_is_set_still_wakes);
    add("/runstate/last-link-closing-requests-guest-shutdown",
        test_last_link_closing_requests_guest_shutdown);
    add("/runstate/link-closing-during-start-up-waits-for-ready",
        test_link_closing_during_start_up_waits_for_ready);
    add("/runstate/all-links-gone-before-ready",
        test_all_links_gone_before_ready);
    add("/runstate/no-links-at-all-keeps-running",
        test_no_links_at_all_keeps_running);
    add("/runstate/auto-shutdown-off-keeps-running",
        test_auto_shutdown_off_keeps_running);
    add("/runstate/cause-names", test_cause_names);
    add("/runstate/name-unset-then-set", test_name_unset_then_set);
    return g_test_run();
}
