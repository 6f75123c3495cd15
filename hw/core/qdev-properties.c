/*
 * Built-in device property types (see include/hw/qdev.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/iothread.h"
#include "hw/qdev.h"

static bool parse_bool(void *field, const DeviceProperty *prop,
                       const char *value, GError **errp)
{
    return qemu_parse_bool(value, field, errp);
}

const PropertyInfo prop_info_bool = {
    .type_name = "bool",
    .parse = parse_bool,
};

/* Parses an unsigned integer within the property's bounds and @type_max. */
static bool parse_bounded(const DeviceProperty *prop, const char *value,
                          uint64_t type_max, bool size, uint64_t *out,
                          GError **errp)
{
    uint64_t max = prop->max ? prop->max : type_max;
    uint64_t v;

    if (!(size ? qemu_parse_size(value, &v, errp)
               : qemu_parse_uint(value, &v, errp))) {
        return false;
    }
    if (v < prop->min || v > max) {
        error_setg(errp, "value %" PRIu64 " out of range (%" PRIu64
                   "..%" PRIu64 ")", v, prop->min, max);
        return false;
    }
    *out = v;
    return true;
}

#define DEFINE_UINT_PROP(bits)                                              \
    static bool parse_uint##bits(void *field, const DeviceProperty *prop,   \
                                 const char *value, GError **errp)          \
    {                                                                       \
        uint64_t v;                                                         \
                                                                            \
        if (!parse_bounded(prop, value, UINT##bits##_MAX, false, &v,        \
                           errp)) {                                         \
            return false;                                                   \
        }                                                                   \
        *(uint##bits##_t *)field = (uint##bits##_t)v;                       \
        return true;                                                        \
    }                                                                       \
    const PropertyInfo prop_info_uint##bits = {                             \
        .type_name = "uint" #bits,                                          \
        .parse = parse_uint##bits,                                          \
    };

DEFINE_UINT_PROP(8)
DEFINE_UINT_PROP(16)
DEFINE_UINT_PROP(32)
DEFINE_UINT_PROP(64)

static bool parse_size(void *field, const DeviceProperty *prop,
                       const char *value, GError **errp)
{
    return parse_bounded(prop, value, UINT64_MAX, true, field, errp);
}

const PropertyInfo prop_info_size = {
    .type_name = "size",
    .parse = parse_size,
};

static bool parse_string(void *field, const DeviceProperty *prop,
                         const char *value, GError **errp)
{
    char **s = field;

    g_free(*s);
    *s = g_strdup(value);
    return true;
}

static void release_string(void *field)
{
    char **s = field;

    g_clear_pointer(s, g_free);
}

const PropertyInfo prop_info_string = {
    .type_name = "str",
    .parse = parse_string,
    .release = release_string,
};

static bool parse_on_off_auto(void *field, const DeviceProperty *prop,
                              const char *value, GError **errp)
{
    OnOffAuto *v = field;
    bool b;

    if (g_str_equal(value, "auto")) {
        *v = ON_OFF_AUTO_AUTO;
        return true;
    }
    if (!qemu_parse_bool(value, &b, NULL)) {
        error_setg(errp, "'%s' is not on, off or auto", value);
        return false;
    }
    *v = b ? ON_OFF_AUTO_ON : ON_OFF_AUTO_OFF;
    return true;
}

const PropertyInfo prop_info_on_off_auto = {
    .type_name = "OnOffAuto",
    .parse = parse_on_off_auto,
};

static bool parse_iothread(void *field, const DeviceProperty *prop,
                           const char *value, GError **errp)
{
    IOThread *iot = iothread_find(value);

    if (!iot) {
        error_setg(errp, "iothread '%s' not found (create it with "
                   "-object iothread,id=%s)", value, value);
        return false;
    }
    *(IOThread **)field = iot;
    return true;
}

const PropertyInfo prop_info_iothread = {
    .type_name = "link<iothread>",
    .parse = parse_iothread,
};
