/*
 * Handler of qapi/remote.json: x-query-remote-devices.
 */
#include "qemu-remote/osdep.h"
#include "hw/qdev.h"
#include "qapi/qapi-commands.h"

static void add_device(Device *dev, void *opaque)
{
    RemoteDeviceInfoList ***tail = opaque;
    RemoteDeviceInfoList *cell = g_new0(RemoteDeviceInfoList, 1);
    RemoteDeviceInfo *info = g_new0(RemoteDeviceInfo, 1);
    const DeviceTransport *t = &dev->transport;

    info->id = g_strdup(dev->id);
    info->type = g_strdup(dev->type->name);
    info->realized = dev->realized;
    if (t->name) {
        info->transport = g_strdup(t->name);
        info->state = g_strdup(t->state ? t->state(t->opaque) : "unknown");
    } else {
        info->state = g_strdup("unbound");
    }
    cell->value = info;
    **tail = cell;
    *tail = &cell->next;
}

bool qmp_x_query_remote_devices(RemoteDeviceInfoList **ret, GError **errp)
{
    RemoteDeviceInfoList **tail = ret;

    *ret = NULL;
    device_foreach(add_device, &tail);
    return true;
}
