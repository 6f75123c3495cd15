/*
 * Handlers of qapi/remote.json: x-query-remote-devices,
 * device-list-properties.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
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

static void add_properties(const DeviceProperty *props,
                           ObjectPropertyInfoList ***tail)
{
    for (const DeviceProperty *p = props; p && p->name; p++) {
        ObjectPropertyInfoList *cell = g_new0(ObjectPropertyInfoList, 1);
        ObjectPropertyInfo *info = g_new0(ObjectPropertyInfo, 1);

        info->name = g_strdup(p->name);
        info->type = g_strdup(p->info->type_name);
        info->description = g_strdup(p->help);
        if (p->defval) {
            info->default_value = json_node_new(JSON_NODE_VALUE);
            json_node_set_string(info->default_value, p->defval);
        }
        cell->value = info;
        **tail = cell;
        *tail = &cell->next;
    }
}

bool qmp_device_list_properties(const char *typename,
                                ObjectPropertyInfoList **ret, GError **errp)
{
    const DeviceType *type = device_type_find(typename);
    ObjectPropertyInfoList **tail = ret;

    if (!type) {
        error_set(errp, QR_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found",
                  typename);
        return false;
    }
    *ret = NULL;
    add_properties(type->props, &tail);
    add_properties(type->bus_props, &tail);
    return true;
}
