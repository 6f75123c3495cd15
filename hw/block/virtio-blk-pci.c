/*
 * virtio-blk-pci: the virtio-blk device model served as a PCI function
 * through virtio-pci (one DeviceType table).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/iothread.h"
#include "hw/virtio-blk.h"
#include "hw/virtio-pci.h"

/* PCI class: mass storage, SCSI (what QEMU's virtio-blk-pci reports). */
#define VIRTIO_BLK_PCI_CLASS 0x010000

typedef struct VirtIOBlkPCI {
    VirtIOPCIProxy proxy;       /* first: starts with PCIDevice, Device */
    VirtIOBlock blk;
} VirtIOBlkPCI;

/* Names unnamed devices so their iothreads and messages stay distinct. */
static unsigned anonymous_count;

static bool virtio_blk_pci_realize(Device *dev, GError **errp)
{
    VirtIOBlkPCI *v = (VirtIOBlkPCI *)dev;
    g_autofree char *name = dev->id ? g_strdup(dev->id)
                                    : g_strdup_printf("virtio-blk-pci%u",
                                                      anonymous_count++);

    if (!virtio_blk_realize(&v->blk, dev, name, errp)) {
        return false;
    }
    if (v->blk.private_iothread) {
        iothread_set_poll_max_ns(v->blk.private_iothread,
                                 VIRTIO_PCI_POLL_MAX_NS);
    }
    if (!virtio_pci_realize(&v->proxy, &v->blk.vdev, VIRTIO_BLK_PCI_CLASS,
                            errp)) {
        virtio_blk_unrealize(&v->blk);
        return false;
    }
    return true;
}

static void virtio_blk_pci_unrealize(Device *dev)
{
    VirtIOBlkPCI *v = (VirtIOBlkPCI *)dev;

    virtio_blk_unrealize(&v->blk);
}

static void virtio_blk_pci_reset(Device *dev)
{
    VirtIOBlkPCI *v = (VirtIOBlkPCI *)dev;

    virtio_pci_reset(&v->proxy);
}

static const DeviceProperty virtio_blk_pci_props[] = {
    VIRTIO_BLK_PROPS(offsetof(VirtIOBlkPCI, blk.conf)),
    { NULL }
};

const DeviceType virtio_blk_pci_type = {
    .name = "virtio-blk-pci",
    .desc = "Virtio block device",
    .bus = &pci_bus_info,
    .instance_size = sizeof(VirtIOBlkPCI),
    .props = virtio_blk_pci_props,
    .bus_props = virtio_pci_props,
    .realize = virtio_blk_pci_realize,
    .unrealize = virtio_blk_pci_unrealize,
    .reset = virtio_blk_pci_reset,
    .sandbox = &virtio_blk_sandbox_policy,
};
