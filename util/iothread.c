/*
 * IOThreads (see include/qemu-remote/iothread.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/iothread.h"

#include <sys/syscall.h>

struct IOThread {
    char *id;
    GMainContext *context;
    GMainLoop *loop;
    GThread *thread;
    int tid;
    GMutex init_lock;
    GCond init_cond;
};

/* All iothreads; touched only by the main thread (creation, lookup). */
static GPtrArray *iothreads;
static __thread IOThread *current_iothread;

static gpointer iothread_main(gpointer opaque)
{
    IOThread *iot = opaque;

    current_iothread = iot;
    g_main_context_push_thread_default(iot->context);
    g_mutex_lock(&iot->init_lock);
    iot->tid = (int)syscall(SYS_gettid);
    g_cond_signal(&iot->init_cond);
    g_mutex_unlock(&iot->init_lock);

    g_main_loop_run(iot->loop);

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
    iot->loop = g_main_loop_new(iot->context, FALSE);
    g_mutex_init(&iot->init_lock);
    g_cond_init(&iot->init_cond);

    /* Linux thread names are 15 bytes; keep the tail of long ids. */
    name = g_strdup_printf("io:%s", id);
    iot->thread = g_thread_try_new(name, iothread_main, iot, NULL);
    if (!iot->thread) {
        error_setg(errp, "cannot start iothread '%s'", id);
        g_main_loop_unref(iot->loop);
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

    g_main_loop_quit(iot->loop);
}

void iothread_destroy(IOThread *iot)
{
    if (!iot) {
        return;
    }
    iothread_run_async(iot, iothread_quit, iot);
    g_thread_join(iot->thread);
    g_ptr_array_remove(iothreads, iot);
    g_main_loop_unref(iot->loop);
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
