/*
 * "-object TYPE,id=ID,..." types.  Like devices, each type is one static
 * table registered with one line in remote/object-list.c.
 *
 * Order of start-up (remote/vl.c): "early" objects (iothread) are created
 * while the command line is processed, before block nodes and devices;
 * the other objects (x-remote-object) after all devices exist but before
 * they are realized, so a transport can bind to its device first; then
 * every type's start() runs once after all devices are realized.
 */
#ifndef QEMU_REMOTE_OBJECT_H
#define QEMU_REMOTE_OBJECT_H

#include "qemu-remote/osdep.h"
#include "qemu-remote/option.h"

typedef struct ObjectType {
    const char *name;
    const char *desc;
    bool early;
    /* Validates @opts ("qom-type" is the implied key) and creates the
     * object.  Errors name the problem; the caller adds the location. */
    bool (*create)(const KeyValList *opts, GError **errp);
    /* After all devices are realized: start serving.  May be NULL. */
    bool (*start)(GError **errp);
    /* At exit, on the main thread: close connections, free.  May be NULL. */
    void (*cleanup)(void);
} ObjectType;

/* NULL-terminated (remote/object-list.c). */
extern const ObjectType *const object_types[];

/* The type called @name, or NULL. */
const ObjectType *object_type_find(const char *name);

/* "-object help": every type with its description. */
void object_print_types(FILE *out);

/* "-object iothread,id=ID" (remote/iothread-object.c): a named iothread
 * (include/qemu-remote/iothread.h) that devices select with iothread=ID. */
extern const ObjectType iothread_object_type;

#endif
