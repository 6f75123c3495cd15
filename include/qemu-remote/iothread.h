/*
 * IOThreads: named threads, each running a GLib main context.
 *
 * Device data paths (virtqueue processing, block completions) run in an
 * iothread; control operations that must not race with them (reset, quiesce,
 * save) are marshalled into it with iothread_run_sync().
 *
 * "-object iothread,id=ID" creates a named one; a device without "iothread="
 * gets a private one named "<device-id>-iothread".
 */
#ifndef QEMU_REMOTE_IOTHREAD_H
#define QEMU_REMOTE_IOTHREAD_H

#include "qemu-remote/osdep.h"

typedef struct IOThread IOThread;

/*
 * Creates and starts an iothread.  @id must be unique among iothreads.
 * Returns NULL with @errp set if the id is taken or the thread cannot start.
 */
IOThread *iothread_create(const char *id, GError **errp);

/* Stops the thread (pending callbacks run first) and frees it. */
void iothread_destroy(IOThread *iothread);

/* Looks an iothread up by id; NULL if there is none. */
IOThread *iothread_find(const char *id);

const char *iothread_get_id(const IOThread *iothread);
GMainContext *iothread_get_context(IOThread *iothread);

/* True when called from @iothread's own thread. */
bool iothread_is_current(const IOThread *iothread);

/*
 * Runs @fn(@opaque) in @iothread and waits for it to return.  Runs it
 * directly when called from that iothread.  Must not be called from another
 * iothread that @fn might wait for (no cross-iothread waits).
 */
void iothread_run_sync(IOThread *iothread, void (*fn)(void *opaque),
                       void *opaque);

/* Queues @fn(@opaque) to run in @iothread; returns at once. */
void iothread_run_async(IOThread *iothread, void (*fn)(void *opaque),
                        void *opaque);

/*
 * Id of the iothread's kernel thread (for tests and for "query-iothreads"),
 * 0 before the thread has started.
 */
int iothread_get_thread_id(const IOThread *iothread);

/* Calls @fn for every iothread, in creation order. */
void iothread_foreach(void (*fn)(IOThread *iothread, void *opaque),
                      void *opaque);

/*
 * Busy polling.  Work that arrives through shared memory (a virtqueue's
 * avail ring, an io_uring completion ring) can be found without a system
 * call.  Each time the iothread has dispatched something it keeps looking
 * for more, for up to its poll time, before it sleeps in its GLib context
 * again: it calls every poll handler and dispatches whatever of the context
 * is ready without blocking, and any progress starts the window again.
 * While it polls, handlers that can suppress their wake-ups do (a virtqueue
 * asks the driver not to kick), so a busy device is served without
 * notifications.  This trades CPU time for latency, as QEMU's iothreads do
 * (its poll-max-ns property); a poll time of 0 turns it off.
 */
typedef struct IOThreadPollHandler {
    /* Looks for work and does it; true if there was some.  Iothread. */
    bool (*poll)(void *opaque);
    /*
     * Optional: wake-ups off (false) when polling starts, on again (true)
     * before the iothread sleeps.  After turning them on, the iothread
     * calls poll() once more, so work that came in between is not missed.
     */
    void (*set_notify)(void *opaque, bool enable);
} IOThreadPollHandler;

/* QEMU's default poll-max-ns. */
#define IOTHREAD_POLL_MAX_NS_DEFAULT 32768
/* Largest accepted poll time (1 s): a bound, not a sensible setting. */
#define IOTHREAD_POLL_MAX_NS_LIMIT 1000000000

/*
 * Registers @h with @opaque (the pair must not be registered yet) and
 * removes it again.  Call from @iothread's own thread; @h must stay valid
 * while registered.
 */
void iothread_add_poll_handler(IOThread *iothread,
                               const IOThreadPollHandler *h, void *opaque);
void iothread_remove_poll_handler(IOThread *iothread,
                                  const IOThreadPollHandler *h, void *opaque);

/*
 * The poll time in nanoseconds (0: never poll, sleep at once), at most
 * IOTHREAD_POLL_MAX_NS_LIMIT.  New iothreads start with
 * IOTHREAD_POLL_MAX_NS_DEFAULT.  Any thread; takes effect at the next
 * dispatch.
 */
void iothread_set_poll_max_ns(IOThread *iothread, int64_t ns);
int64_t iothread_get_poll_max_ns(const IOThread *iothread);

#endif
