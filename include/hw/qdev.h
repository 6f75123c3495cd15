/*
 * Devices: a device type declares itself in one static table (DeviceType)
 * and is registered with one line in hw/device-list.c.  Creating a device
 * from "-device TYPE,id=ID,prop=value,...", validating its properties and
 * printing "-device help" / "-device TYPE,help" are generic.
 *
 * Life cycle: device_new() (properties applied and checked) ->
 * a transport binds to it (device_set_transport()) -> device_realize() ->
 * device_reset() any number of times -> device_free() (unrealizes first).
 * All of these run on the main thread.
 */
#ifndef HW_QDEV_H
#define HW_QDEV_H

#include "qemu-remote/osdep.h"
#include "qemu-remote/option.h"
#include "qemu-remote/sandbox.h"

typedef struct Device Device;
typedef struct DeviceProperty DeviceProperty;

/*
 * How a property's text becomes a field value.  @field points into the
 * device instance at the property's offset.
 */
typedef struct PropertyInfo {
    const char *type_name; /* shown in help: "bool", "uint32", "size", ... */
    bool (*parse)(void *field, const DeviceProperty *prop, const char *value,
                  GError **errp);
    /* Frees what parse allocated (strings, references); may be NULL. */
    void (*release)(void *field);
} PropertyInfo;

struct DeviceProperty {
    const char *name;
    const PropertyInfo *info;
    size_t offset;          /* of the field in the device instance */
    const char *defval;     /* default, as text; NULL = zero/false/unset */
    const char *help;
    /* Inclusive bounds for integer types; max 0 means the type's maximum. */
    uint64_t min, max;
    /* Optional extra validation of the parsed value. */
    bool (*check)(const void *field, const DeviceProperty *prop,
                  GError **errp);
};

/* Built-in property types. */
extern const PropertyInfo prop_info_bool;     /* bool */
extern const PropertyInfo prop_info_uint8;    /* uint8_t */
extern const PropertyInfo prop_info_uint16;   /* uint16_t */
extern const PropertyInfo prop_info_uint32;   /* uint32_t */
extern const PropertyInfo prop_info_uint64;   /* uint64_t */
extern const PropertyInfo prop_info_size;     /* uint64_t, k/M/G suffixes */
extern const PropertyInfo prop_info_string;   /* char *, g_free()d */
extern const PropertyInfo prop_info_on_off_auto; /* OnOffAuto */
extern const PropertyInfo prop_info_iothread; /* IOThread *, by id */

typedef enum OnOffAuto {
    ON_OFF_AUTO_AUTO,
    ON_OFF_AUTO_ON,
    ON_OFF_AUTO_OFF,
} OnOffAuto;

/*
 * What a bus adds to every device on it (hw/pci defines pci_bus_info).
 * realize/reset/unrealize wrap the device type's own hooks: the bus's part
 * (config space, DMA space) is set up before and reset along with them.
 */
typedef struct DeviceBusInfo {
    const char *name;       /* "PCI" */
    bool (*realize)(Device *dev, GError **errp);
    void (*reset)(Device *dev);
    void (*unrealize)(Device *dev);
} DeviceBusInfo;

typedef struct DeviceType {
    const char *name;
    const char *desc;       /* one line, shown by "-device help" */
    const DeviceBusInfo *bus;
    size_t instance_size;   /* the instance struct starts with its bus's
                               device struct (PCIDevice), which starts
                               with Device */
    /* Property tables, each terminated by an entry with name == NULL.
     * @bus_props are the bus or transport's common ones (may be NULL). */
    const DeviceProperty *props;
    const DeviceProperty *bus_props;
    bool (*realize)(Device *dev, GError **errp);
    void (*unrealize)(Device *dev);
    /* Back to power-on state.  Called after realize and whenever the VMM
     * resets the device. */
    void (*reset)(Device *dev);
    /* What the device needs under -sandbox beyond the common base: its
     * system calls and the fds it keeps (include/qemu-remote/sandbox.h).
     * device_realize() requires it.  NULL: nothing more. */
    const SandboxPolicy *sandbox;
} DeviceType;

/* How the transport serving a device describes itself to QMP. */
typedef struct DeviceTransport {
    const char *name;       /* "mpqemu", "vhost-user", ... */
    /* "connected", "disconnected", ...; called from the main thread. */
    const char *(*state)(void *opaque);
    void *opaque;
} DeviceTransport;

struct Device {
    const DeviceType *type;
    char *id;
    bool realized;
    DeviceTransport transport;  /* name NULL until a transport binds */
};

/* NULL-terminated list of every device type (hw/device-list.c). */
extern const DeviceType *const device_types[];

const DeviceType *device_type_find(const char *name);

/* "-device help": every type with its description. */
void device_print_types(FILE *out);
/* "-device TYPE,help": every property with type, default and help. */
bool device_print_properties(FILE *out, const char *type, GError **errp);

/*
 * Creates an unrealized device from a "-device" option list ("driver" is
 * the implied key).  Applies defaults, then each property in order; fails on
 * an unknown type ("'foo' is not a valid device model name"), unknown
 * property, bad value or duplicate id.  The device is added to the global
 * list on success.
 */
Device *device_new(const KeyValList *opts, GError **errp);

/* Sets one property by name (tests and QMP use it). */
bool device_set_property(Device *dev, const char *name, const char *value,
                         GError **errp);

bool device_realize(Device *dev, GError **errp);
void device_reset(Device *dev);
/* Unrealizes if needed, releases properties, removes from the list. */
void device_free(Device *dev);

Device *device_find(const char *id);
void device_foreach(void (*fn)(Device *dev, void *opaque), void *opaque);

void device_set_transport(Device *dev, const DeviceTransport *transport);

#endif
