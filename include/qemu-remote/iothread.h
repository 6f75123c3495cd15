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

#endif
