/*
 * IOThreads (see include/qemu-remote/iothread.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/iothread.h"

#include <sys/syscall.h>

typedef struct PollEntry {
    const IOThreadPollHandler *h;
    void *opaque;
} PollEntry;

struct IOThread {
    char *id;
    GMainContext *context;
    GThread *thread;
    int tid;
    GMutex init_lock;
    GCond init_cond;
    bool quit;                  /* set in the thread by iothread_quit() */
    int64_t poll_max_ns;        /* atomic */
    int64_t poll_ns;            /* current poll window; the thread's own */
    GArray *poll_handlers;      /* of PollEntry; the thread's own */
};

/* All iothreads; touched only by the main thread (creation, lookup). */
static GPtrArray *iothreads;
static __thread IOThread *current_iothread;

/* Calls every poll handler once; true if any found work.  A handler's
 * work may register or remove handlers (a queue starting or stopping), so
 * the array is re-read at every step. */
static bool poll_handlers_run(IOThread *iot)
{
    bool progress = false;

    for (guint i = 0; i < iot->poll_handlers->len; i++) {
        PollEntry e = g_array_index(iot->poll_handlers, PollEntry, i);

        progress |= e.h->poll(e.opaque);
    }
    return progress;
}

static void poll_handlers_notify(IOThread *iot, bool enable)
{
    for (guint i = 0; i < iot->poll_handlers->len; i++) {
        PollEntry e = g_array_index(iot->poll_handlers, PollEntry, i);

        if (e.h->set_notify) {
            e.h->set_notify(e.opaque, enable);
        }
    }
}

static int64_t now_ns(void)
{
    return g_get_monotonic_time() * 1000;
}

/*
 * The poll window adapts as QEMU's does: it starts at POLL_NS_START once
 * an event came within poll-max-ns of the previous one, doubles while
 * events keep coming later than the window but within poll-max-ns, and
 * drops to 0 when one comes later than that, so an iothread whose events
 * are far apart sleeps at once instead of burning CPU.
 */
#define POLL_NS_START 4000
#define POLL_GROW 2

static void poll_adapt(IOThread *iot, int64_t idle_ns, int64_t max_ns)
{
    iot->poll_ns = MIN(iot->poll_ns, max_ns);
    if (idle_ns <= iot->poll_ns) {
        return;
    }
    if (idle_ns > max_ns) {
        iot->poll_ns = 0;
    } else {
        iot->poll_ns = MIN(max_ns, iot->poll_ns ? iot->poll_ns * POLL_GROW
                                                : POLL_NS_START);
    }
}

/*
 * Busy-polls: poll handlers and the context's ready sources (so calls from
 * other threads, a reset say, are not held up), until the window passes
 * without progress.  Wake-ups are suppressed meanwhile and re-enabled
 * before the last look.
 */
static void iothread_poll(IOThread *iot)
{
    int64_t last = now_ns();

    poll_handlers_notify(iot, false);
    while (!iot->quit) {
        bool progress = poll_handlers_run(iot);
        int64_t now;

        progress |= g_main_context_iteration(iot->context, FALSE);
        now = now_ns();
        if (progress) {
            last = now;
        } else if (now - last >= iot->poll_ns) {
            poll_handlers_notify(iot, true);
            if (!poll_handlers_run(iot)) {
                return;
            }
            poll_handlers_notify(iot, false);
            last = now_ns();
        }
    }
    poll_handlers_notify(iot, true);
}

static gpointer iothread_main(gpointer opaque)
{
    IOThread *iot = opaque;

    current_iothread = iot;
    g_main_context_push_thread_default(iot->context);
    g_main_context_acquire(iot->context);
    g_mutex_lock(&iot->init_lock);
    iot->tid = (int)syscall(SYS_gettid);
    g_cond_signal(&iot->init_cond);
    g_mutex_unlock(&iot->init_lock);

    while (!iot->quit) {
        int64_t max_ns = __atomic_load_n(&iot->poll_max_ns,
                                         __ATOMIC_RELAXED);
        bool polls = max_ns > 0 && iot->poll_handlers->len > 0;
        int64_t idle = 0, t;

        if (polls && iot->poll_ns > 0) {
            iothread_poll(iot);
            idle = iot->poll_ns;
            if (iot->quit) {
                break;      /* iothread_quit() ran inside the poll phase */
            }
        }
        t = now_ns();
        g_main_context_iteration(iot->context, TRUE);
        if (polls) {
            poll_adapt(iot, idle + now_ns() - t, max_ns);
        } else {
            iot->poll_ns = 0;
        }
    }

    g_main_context_release(iot->context);
    g_main_context_pop_thread_default(iot->context);
    return NULL;
}

IOThread *iothread_create(const char *id, GError **errp)
{
    g_autofree char *name = NULL;
    IOThread *iot;

    if (iothread_find(id)) {
        error_setg(errp, "iothread '%s' already exists", id);
        return NULL;
    }

    iot = g_new0(IOThread, 1);
    iot->id = g_strdup(id);
    iot->context = g_main_context_new();
    iot->poll_max_ns = IOTHREAD_POLL_MAX_NS_DEFAULT;
    iot->poll_handlers = g_array_new(FALSE, FALSE, sizeof(PollEntry));
    g_mutex_init(&iot->init_lock);
    g_cond_init(&iot->init_cond);

    /* Linux thread names are 15 bytes; keep the tail of long ids. */
    name = g_strdup_printf("io:%s", id);
    iot->thread = g_thread_try_new(name, iothread_main, iot, NULL);
    if (!iot->thread) {
        error_setg(errp, "cannot start iothread '%s'", id);
        g_array_free(iot->poll_handlers, TRUE);
        g_main_context_unref(iot->context);
        g_free(iot->id);
        g_free(iot);
        return NULL;
    }

    g_mutex_lock(&iot->init_lock);
    while (!iot->tid) {
        g_cond_wait(&iot->init_cond, &iot->init_lock);
    }
    g_mutex_unlock(&iot->init_lock);

    if (!iothreads) {
        iothreads = g_ptr_array_new();
    }
    g_ptr_array_add(iothreads, iot);
    return iot;
}

static void iothread_quit(void *opaque)
{
    IOThread *iot = opaque;

    iot->quit = true;
}

void iothread_destroy(IOThread *iot)
{
    if (!iot) {
        return;
    }
    iothread_run_async(iot, iothread_quit, iot);
    g_thread_join(iot->thread);
    g_ptr_array_remove(iothreads, iot);
    g_array_free(iot->poll_handlers, TRUE);
    g_main_context_unref(iot->context);
    g_mutex_clear(&iot->init_lock);
    g_cond_clear(&iot->init_cond);
    g_free(iot->id);
    g_free(iot);
}

IOThread *iothread_find(const char *id)
{
    for (guint i = 0; iothreads && i < iothreads->len; i++) {
        IOThread *iot = g_ptr_array_index(iothreads, i);

        if (g_str_equal(iot->id, id)) {
            return iot;
        }
    }
    return NULL;
}

void iothread_foreach(void (*fn)(IOThread *iothread, void *opaque),
                      void *opaque)
{
    for (guint i = 0; iothreads && i < iothreads->len; i++) {
        fn(g_ptr_array_index(iothreads, i), opaque);
    }
}

const char *iothread_get_id(const IOThread *iot)
{
    return iot->id;
}

GMainContext *iothread_get_context(IOThread *iot)
{
    return iot->context;
}

bool iothread_is_current(const IOThread *iot)
{
    return current_iothread == iot;
}

int iothread_get_thread_id(const IOThread *iot)
{
    return iot->tid;
}

typedef struct SyncCall {
    void (*fn)(void *opaque);
    void *opaque;
    GMutex lock;
    GCond cond;
    bool done;
} SyncCall;

static gboolean sync_call_run(gpointer data)
{
    SyncCall *call = data;

    call->fn(call->opaque);
    g_mutex_lock(&call->lock);
    call->done = true;
    g_cond_signal(&call->cond);
    g_mutex_unlock(&call->lock);
    return G_SOURCE_REMOVE;
}

void iothread_run_sync(IOThread *iot, void (*fn)(void *opaque), void *opaque)
{
    SyncCall call = { .fn = fn, .opaque = opaque };

    if (iothread_is_current(iot)) {
        fn(opaque);
        return;
    }
    g_mutex_init(&call.lock);
    g_cond_init(&call.cond);
    g_main_context_invoke(iot->context, sync_call_run, &call);
    g_mutex_lock(&call.lock);
    while (!call.done) {
        g_cond_wait(&call.cond, &call.lock);
    }
    g_mutex_unlock(&call.lock);
    g_mutex_clear(&call.lock);
    g_cond_clear(&call.cond);
}

typedef struct AsyncCall {
    void (*fn)(void *opaque);
    void *opaque;
} AsyncCall;

static gboolean async_call_run(gpointer data)
{
    AsyncCall *call = data;

    call->fn(call->opaque);
    return G_SOURCE_REMOVE;
}

void iothread_run_async(IOThread *iot, void (*fn)(void *opaque), void *opaque)
{
    AsyncCall *call = g_new(AsyncCall, 1);

    call->fn = fn;
    call->opaque = opaque;
    g_main_context_invoke_full(iot->context, G_PRIORITY_DEFAULT,
                               async_call_run, call, g_free);
}

void iothread_add_poll_handler(IOThread *iot, const IOThreadPollHandler *h,
                               void *opaque)
{
    PollEntry e = { .h = h, .opaque = opaque };

    g_array_append_val(iot->poll_handlers, e);
}

void iothread_remove_poll_handler(IOThread *iot, const IOThreadPollHandler *h,
                                  void *opaque)
{
    for (guint i = 0; i < iot->poll_handlers->len; i++) {
        PollEntry *e = &g_array_index(iot->poll_handlers, PollEntry, i);

        if (e->h == h && e->opaque == opaque) {
            g_array_remove_index(iot->poll_handlers, i);
            return;
        }
    }
}

void iothread_set_poll_max_ns(IOThread *iot, int64_t ns)
{
    __atomic_store_n(&iot->poll_max_ns,
                     CLAMP(ns, 0, IOTHREAD_POLL_MAX_NS_LIMIT),
                     __ATOMIC_RELAXED);
}

int64_t iothread_get_poll_max_ns(const IOThread *iot)
{
    return __atomic_load_n(&iot->poll_max_ns, __ATOMIC_RELAXED);
}
