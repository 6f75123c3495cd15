/*
 * Every device type qemu-remote can host.  Registering a type is one line.
 */
#include "qemu-remote/osdep.h"
#include "hw/qdev.h"
#include "hw/misc/testdev.h"
#include "hw/virtio-blk.h"

const DeviceType *const device_types[] = {
    &testdev_type,
    &virtio_blk_pci_type,
    NULL
};
