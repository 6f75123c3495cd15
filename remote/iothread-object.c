/*
 * "-object iothread,id=ID[,poll-max-ns=NS]": a named iothread for devices'
 * iothread=ID; poll-max-ns bounds its busy polling as in QEMU (0: never
 * poll; include/qemu-remote/iothread.h).
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
    static const char *const allowed[] = { "qom-type", "id", "poll-max-ns",
                                           NULL };
    const char *id = keyval_get(opts, "id");
    const char *poll = keyval_get(opts, "poll-max-ns");
    int64_t poll_ns = IOTHREAD_POLL_MAX_NS_DEFAULT;
    IOThread *iot;

    if (!keyval_check_keys(opts, allowed, errp)) {
        return false;
    }
    if (!id || !*id) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    if (poll && (!qemu_parse_int(poll, &poll_ns, NULL) || poll_ns < 0 ||
                 poll_ns > IOTHREAD_POLL_MAX_NS_LIMIT)) {
        error_setg(errp, "poll-max-ns value must be in range [0, %d]",
                   IOTHREAD_POLL_MAX_NS_LIMIT);
        return false;
    }
    iot = iothread_create(id, errp);
    if (!iot) {
        return false;
    }
    iothread_set_poll_max_ns(iot, poll_ns);
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
