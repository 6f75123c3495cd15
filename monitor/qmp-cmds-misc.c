/*
 * Handlers of qapi/run-state.json and qapi/misc.json: query-status,
 * query-name.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/runstate.h"
#include "qapi/qapi-commands.h"

bool qmp_query_status(StatusInfo **ret, GError **errp)
{
    StatusInfo *info = g_new0(StatusInfo, 1);

    /* Devices are served for as long as the process answers QMP. */
    info->running = true;
    info->singlestep = false;
    info->status = RUN_STATE_RUNNING;
    *ret = info;
    return true;
}

bool qmp_query_name(NameInfo **ret, GError **errp)
{
    NameInfo *info = g_new0(NameInfo, 1);

    info->name = g_strdup(qemu_get_name());
    *ret = info;
    return true;
}
