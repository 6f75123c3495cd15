/*
 * Shutdown requests, auto-shutdown link counting and the process name
 * (see include/qemu-remote/runstate.h).
 *
 * A request may come from a signal handler, a connection thread or the
 * main thread, so it only touches atomics and write()s an eventfd; the
 * eventfd wakes the main context, whose loop (remote/vl.c) then sees
 * qemu_system_shutdown_requested().
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/runstate.h"

#include <glib-unix.h>
#include <sys/eventfd.h>

/* -1 until a request is made; then the first request's ShutdownCause. */
static int shutdown_cause = -1;
/* The eventfd watched by the main context; -1 before qemu_set_main_context. */
static int wake_fd = -1;

static int open_links;
static int links_ever_opened;
static int links_ready;
static int auto_shutdown = 1;

static char *process_name;

static const char *const cause_names[] = {
    [SHUTDOWN_CAUSE_HOST_QMP_QUIT] = "host-qmp-quit",
    [SHUTDOWN_CAUSE_HOST_SIGNAL] = "host-signal",
    [SHUTDOWN_CAUSE_HOST_ERROR] = "host-error",
    [SHUTDOWN_CAUSE_GUEST_SHUTDOWN] = "guest-shutdown",
};

const char *shutdown_cause_name(ShutdownCause cause)
{
    if ((unsigned)cause >= G_N_ELEMENTS(cause_names)) {
        return "none";
    }
    return cause_names[cause];
}

void qemu_system_shutdown_request(ShutdownCause cause)
{
    uint64_t one = 1;
    int unset = -1;
    int fd;

    __atomic_compare_exchange_n(&shutdown_cause, &unset, (int)cause, false,
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    fd = __atomic_load_n(&wake_fd, __ATOMIC_SEQ_CST);
    if (fd >= 0) {
        /* Only EAGAIN can fail here (counter saturated): already woken. */
        ssize_t ret = write(fd, &one, sizeof(one));
        (void)ret;
    }
}

bool qemu_system_shutdown_requested(ShutdownCause *cause)
{
    int c = __atomic_load_n(&shutdown_cause, __ATOMIC_SEQ_CST);

    if (c < 0) {
        return false;
    }
    if (cause) {
        *cause = (ShutdownCause)c;
    }
    return true;
}

static gboolean wake_fd_ready(gint fd, GIOCondition condition,
                              gpointer opaque)
{
    uint64_t count;
    ssize_t ret = read(fd, &count, sizeof(count));

    /* Nothing to do but drain it: the loop re-checks the request flag. */
    (void)ret;
    return G_SOURCE_CONTINUE;
}

void qemu_set_main_context(GMainContext *ctx)
{
    GSource *source;
    int fd;

    if (__atomic_load_n(&wake_fd, __ATOMIC_SEQ_CST) >= 0) {
        return;
    }
    fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        /* Without the eventfd a request from another thread is seen at the
         * loop's next wake-up instead of at once; QMP and signal requests
         * also arrive through sources of their own. */
        warn_report("cannot create the shutdown eventfd: %s",
                    g_strerror(errno));
        return;
    }
    source = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(source, G_SOURCE_FUNC(wake_fd_ready), NULL, NULL);
    g_source_set_name(source, "shutdown-request");
    g_source_attach(source, ctx);
    g_source_unref(source);
    __atomic_store_n(&wake_fd, fd, __ATOMIC_SEQ_CST);
    /* A request made before the eventfd existed must still wake the loop. */
    if (qemu_system_shutdown_requested(NULL)) {
        g_main_context_wakeup(ctx);
    }
}

void qemu_set_name(const char *name)
{
    g_free(process_name);
    process_name = g_strdup(name);
}

const char *qemu_get_name(void)
{
    return process_name;
}

void qemu_set_auto_shutdown(bool on)
{
    __atomic_store_n(&auto_shutdown, on ? 1 : 0, __ATOMIC_SEQ_CST);
}

void qemu_remote_link_opened(void)
{
    __atomic_store_n(&links_ever_opened, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&open_links, 1, __ATOMIC_SEQ_CST);
}

static bool auto_shutdown_due(void)
{
    return __atomic_load_n(&auto_shutdown, __ATOMIC_SEQ_CST) &&
           __atomic_load_n(&links_ready, __ATOMIC_SEQ_CST);
}

void qemu_remote_link_closed(void)
{
    int left = __atomic_sub_fetch(&open_links, 1, __ATOMIC_SEQ_CST);

    if (left == 0 && auto_shutdown_due()) {
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    }
}

/*
 * Races with a link closing on another thread: each side first writes
 * (links_ready here, open_links there) and then reads the other's variable,
 * all sequentially consistent, so at least one of them sees the last link
 * gone with start-up done and makes the request (twice is harmless).
 */
void qemu_remote_links_ready(void)
{
    __atomic_store_n(&links_ready, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&links_ever_opened, __ATOMIC_SEQ_CST) &&
        __atomic_load_n(&open_links, __ATOMIC_SEQ_CST) == 0 &&
        auto_shutdown_due()) {
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    }
}
