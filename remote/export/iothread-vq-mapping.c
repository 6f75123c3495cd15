/*
 * iothread-vq-mapping: which iothread processes each queue of an export
 * (see remote/export/internal.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/iothread.h"
#include "remote/export/internal.h"

/* Every entry names a distinct, existing iothread; all or none list vqs. */
static bool is_valid_mapping_entries(const IOThreadVirtQueueMappingList *list,
                                     GError **errp)
{
    bool with_vqs = list->value->vqs != NULL;

    for (const IOThreadVirtQueueMappingList *n = list; n; n = n->next) {
        const char *id = n->value->iothread;

        if (!iothread_find(id)) {
            error_setg(errp, "iothread-vq-mapping: iothread \"%s\" not found",
                       id);
            return false;
        }
        for (const IOThreadVirtQueueMappingList *m = list; m != n;
             m = m->next) {
            if (g_str_equal(m->value->iothread, id)) {
                error_setg(errp, "iothread-vq-mapping: iothread \"%s\" is "
                           "listed twice", id);
                return false;
            }
        }
        if ((n->value->vqs != NULL) != with_vqs) {
            error_setg(errp, "iothread-vq-mapping: give vqs for every "
                       "iothread or for none");
            return false;
        }
    }
    return true;
}

bool iothread_vq_mapping_apply(const IOThreadVirtQueueMappingList *list,
                               unsigned num_queues, IOThread **vq_iothread,
                               GError **errp)
{
    const IOThreadVirtQueueMappingList *n;

    if (!is_valid_mapping_entries(list, errp)) {
        return false;
    }
    for (unsigned q = 0; q < num_queues; q++) {
        vq_iothread[q] = NULL;
    }
    if (!list->value->vqs) {
        n = list;
        for (unsigned q = 0; q < num_queues; q++) {
            vq_iothread[q] = iothread_find(n->value->iothread);
            n = n->next ? n->next : list;
        }
        return true;
    }
    for (n = list; n; n = n->next) {
        IOThread *t = iothread_find(n->value->iothread);

        for (const uint16List *v = n->value->vqs; v; v = v->next) {
            if (v->value >= num_queues) {
                error_setg(errp, "iothread-vq-mapping: queue %u is out of "
                           "range (num-queues is %u)", v->value, num_queues);
                return false;
            }
            if (vq_iothread[v->value]) {
                error_setg(errp, "iothread-vq-mapping: queue %u is listed "
                           "twice", v->value);
                return false;
            }
            vq_iothread[v->value] = t;
        }
    }
    for (unsigned q = 0; q < num_queues; q++) {
        if (!vq_iothread[q]) {
            error_setg(errp, "iothread-vq-mapping: queue %u is not assigned "
                       "to an iothread", q);
            return false;
        }
    }
    return true;
}
