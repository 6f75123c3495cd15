/*
 * Device registry and generic device life cycle (see include/hw/qdev.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "hw/qdev.h"

/* Devices in creation order; main thread only. */
static GPtrArray *devices;

const DeviceType *device_type_find(const char *name)
{
    for (const DeviceType *const *t = device_types; *t; t++) {
        if (g_str_equal((*t)->name, name)) {
            return *t;
        }
    }
    return NULL;
}

void device_print_types(FILE *out)
{
    fprintf(out, "Devices:\n");
    for (const DeviceType *const *t = device_types; *t; t++) {
        fprintf(out, "name \"%s\", bus %s, desc \"%s\"\n", (*t)->name,
                (*t)->bus ? (*t)->bus->name : "none", (*t)->desc);
    }
}

static void print_props(FILE *out, const DeviceProperty *props)
{
    for (const DeviceProperty *p = props; p && p->name; p++) {
        fprintf(out, "  %s=<%s>", p->name, p->info->type_name);
        if (p->help) {
            fprintf(out, " - %s", p->help);
        }
        if (p->defval) {
            fprintf(out, " (default: %s)", p->defval);
        }
        fprintf(out, "\n");
    }
}

bool device_print_properties(FILE *out, const char *type, GError **errp)
{
    const DeviceType *t = device_type_find(type);

    if (!t) {
        error_setg(errp, "'%s' is not a valid device model name", type);
        return false;
    }
    fprintf(out, "%s options:\n", t->name);
    print_props(out, t->props);
    print_props(out, t->bus_props);
    return true;
}

static const DeviceProperty *find_prop(const DeviceType *t, const char *name)
{
    const DeviceProperty *tables[] = { t->props, t->bus_props };

    for (size_t i = 0; i < G_N_ELEMENTS(tables); i++) {
        for (const DeviceProperty *p = tables[i]; p && p->name; p++) {
            if (g_str_equal(p->name, name)) {
                return p;
            }
        }
    }
    return NULL;
}

static bool apply_prop(Device *dev, const DeviceProperty *p,
                       const char *value, GError **errp)
{
    void *field = (char *)dev + p->offset;

    if (!p->info->parse(field, p, value, errp) ||
        (p->check && !p->check(field, p, errp))) {
        error_prepend(errp, "Property '%s.%s': ", dev->type->name, p->name);
        return false;
    }
    return true;
}

bool device_set_property(Device *dev, const char *name, const char *value,
                         GError **errp)
{
    const DeviceProperty *p = find_prop(dev->type, name);

    if (!p) {
        error_setg(errp, "Property '%s.%s' not found", dev->type->name, name);
        return false;
    }
    return apply_prop(dev, p, value, errp);
}

static bool apply_defaults(Device *dev, const DeviceProperty *props,
                           GError **errp)
{
    for (const DeviceProperty *p = props; p && p->name; p++) {
        if (p->defval && !apply_prop(dev, p, p->defval, errp)) {
            return false;
        }
    }
    return true;
}

static void release_props(Device *dev, const DeviceProperty *props)
{
    for (const DeviceProperty *p = props; p && p->name; p++) {
        if (p->info->release) {
            p->info->release((char *)dev + p->offset);
        }
    }
}

static void device_release(Device *dev)
{
    release_props(dev, dev->type->props);
    release_props(dev, dev->type->bus_props);
    g_free(dev->id);
    g_free(dev);
}

Device *device_new(const KeyValList *opts, GError **errp)
{
    const char *driver = keyval_get(opts, "driver");
    const char *id = keyval_get(opts, "id");
    const DeviceType *t;
    Device *dev;

    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    t = device_type_find(driver);
    if (!t) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    if (id && !*id) {
        error_setg(errp, "Parameter 'id' must not be empty");
        return NULL;
    }
    if (id && device_find(id)) {
        error_setg(errp, "Duplicate device ID '%s'", id);
        return NULL;
    }

    g_assert(t->instance_size >= sizeof(Device));
    dev = g_malloc0(t->instance_size);
    dev->type = t;
    dev->id = g_strdup(id);

    if (!apply_defaults(dev, t->bus_props, errp) ||
        !apply_defaults(dev, t->props, errp)) {
        device_release(dev);
        return NULL;
    }
    for (guint i = 0; i < opts->items->len; i++) {
        KeyValue *kv = g_ptr_array_index(opts->items, i);

        if (g_str_equal(kv->key, "driver") || g_str_equal(kv->key, "id")) {
            continue;
        }
        if (!device_set_property(dev, kv->key, kv->value, errp)) {
            device_release(dev);
            return NULL;
        }
    }

    if (!devices) {
        devices = g_ptr_array_new();
    }
    g_ptr_array_add(devices, dev);
    return dev;
}

bool device_realize(Device *dev, GError **errp)
{
    const DeviceBusInfo *bus = dev->type->bus;
    bool ok;

    g_assert(!dev->realized);
    if (!sandbox_require(dev->type->sandbox, errp)) {
        error_prepend(errp, "Device '%s': ", dev->id ? dev->id
                                                    : dev->type->name);
        return false;
    }
    if (bus && bus->realize) {
        ok = bus->realize(dev, errp);
    } else {
        ok = !dev->type->realize || dev->type->realize(dev, errp);
    }
    if (!ok) {
        error_prepend(errp, "Device '%s': ", dev->id ? dev->id
                                                    : dev->type->name);
        return false;
    }
    dev->realized = true;
    device_reset(dev);
    return true;
}

void device_reset(Device *dev)
{
    const DeviceBusInfo *bus = dev->type->bus;

    if (!dev->realized) {
        return;
    }
    if (bus && bus->reset) {
        bus->reset(dev);
    } else if (dev->type->reset) {
        dev->type->reset(dev);
    }
}

void device_free(Device *dev)
{
    const DeviceBusInfo *bus;

    if (!dev) {
        return;
    }
    bus = dev->type->bus;
    if (dev->realized) {
        if (bus && bus->unrealize) {
            bus->unrealize(dev);
        } else if (dev->type->unrealize) {
            dev->type->unrealize(dev);
        }
    }
    dev->realized = false;
    if (devices) {
        g_ptr_array_remove(devices, dev);
    }
    device_release(dev);
}

Device *device_find(const char *id)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        Device *dev = g_ptr_array_index(devices, i);

        if (dev->id && g_str_equal(dev->id, id)) {
            return dev;
        }
    }
    return NULL;
}

void device_foreach(void (*fn)(Device *dev, void *opaque), void *opaque)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        fn(g_ptr_array_index(devices, i), opaque);
    }
}

void device_set_transport(Device *dev, const DeviceTransport *transport)
{
    dev->transport = *transport;
}
