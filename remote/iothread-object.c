/*
 * "-object iothread,id=ID": a named iothread for devices' iothread=ID.
 * Created early, before block nodes and devices, and destroyed last, after
 * the devices that run in it are gone.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/iothread.h"
#include "qemu-remote/object.h"

/* The iothreads created here, in creation order; main thread only. */
static GPtrArray *iothread_objects;

static bool iothread_object_create(const KeyValList *opts, GError **errp)
{
    static const char *const allowed[] = { "qom-type", "id", NULL };
    const char *id = keyval_get(opts, "id");
    IOThread *iot;

    if (!keyval_check_keys(opts, allowed, errp)) {
        return false;
    }
    if (!id || !*id) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    iot = iothread_create(id, errp);
    if (!iot) {
        return false;
    }
    if (!iothread_objects) {
        iothread_objects = g_ptr_array_new();
    }
    g_ptr_array_add(iothread_objects, iot);
    return true;
}

static void iothread_object_cleanup(void)
{
    /* Newest first, the reverse of creation. */
    for (guint i = iothread_objects ? iothread_objects->len : 0; i > 0; i--) {
        iothread_destroy(g_ptr_array_index(iothread_objects, i - 1));
    }
    g_clear_pointer(&iothread_objects, g_ptr_array_unref);
}

const ObjectType iothread_object_type = {
    .name = "iothread",
    .desc = "a named I/O thread that devices select with iothread=ID",
    .early = true,
    .create = iothread_object_create,
    .cleanup = iothread_object_cleanup,
};
