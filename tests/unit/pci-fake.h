/*
 * A fake PCI device type and a fake transport for the PCI core's unit
 * tests.  Each test picks what the device declares in realize and which
 * transport it sits on, then drives it through the public API.
 */
#ifndef TESTS_UNIT_PCI_FAKE_H
#define TESTS_UNIT_PCI_FAKE_H

#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "hw/pci.h"

typedef struct FakeDev {
    PCIDevice pci;
    unsigned resets;
    uint16_t command_in_reset;  /* COMMAND as the reset hook saw it */
    uint64_t last_offset;       /* of the last BAR callback */
    unsigned last_size;
    uint64_t last_value;        /* written by the last BAR write */
} FakeDev;

/* What the transport saw. */
typedef struct FakeTransport {
    bool level;
    unsigned raises;
    unsigned lowers;
    unsigned msi[32];           /* deliveries per MSI vector */
    unsigned msix[32];
} FakeTransport;

static bool (*fake_declare)(PCIDevice *d, GError **errp);

static uint64_t fake_bar_read(void *opaque, uint64_t offset, unsigned size)
{
    FakeDev *f = opaque;

    f->last_offset = offset;
    f->last_size = size;
    /* Recognisable: the offset in the low bits, a marker above. */
    return 0xa5a5a5a500000000ULL | offset;
}

static void fake_bar_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    FakeDev *f = opaque;

    f->last_offset = offset;
    f->last_size = size;
    f->last_value = value;
}

static const PCIBarOps fake_bar_ops = {
    .read = fake_bar_read,
    .write = fake_bar_write,
};

static bool fake_realize(Device *dev, GError **errp)
{
    PCIDevice *d = PCI_DEVICE(dev);

    pci_config_set_vendor_id(d, 0x1234);
    pci_config_set_device_id(d, 0x5678);
    pci_config_set_class(d, 0xff0000);
    return !fake_declare || fake_declare(d, errp);
}

static void fake_reset(Device *dev)
{
    FakeDev *f = (FakeDev *)dev;

    f->resets++;
    f->command_in_reset = pci_get_word(f->pci.config + PCI_COMMAND);
}

static const DeviceType fake_type = {
    .name = "fake-pci",
    .desc = "PCI core test device",
    .bus = &pci_bus_info,
    .instance_size = sizeof(FakeDev),
    .realize = fake_realize,
    .reset = fake_reset,
};

const DeviceType *const device_types[] = { &fake_type, NULL };

static void fake_set_irq(void *opaque, bool level)
{
    FakeTransport *t = opaque;

    t->level = level;
    if (level) {
        t->raises++;
    } else {
        t->lowers++;
    }
}

static void fake_notify_vector(void *opaque, bool msix, unsigned vector)
{
    FakeTransport *t = opaque;

    g_assert_cmpuint(vector, <, 32);
    if (msix) {
        t->msix[vector]++;
    } else {
        t->msi[vector]++;
    }
}

/* Like vfio-user: MSI/MSI-X delivered, 64-bit BARs mapped. */
static const PCITransportOps fake_full_transport = {
    .set_irq = fake_set_irq,
    .notify_vector = fake_notify_vector,
    .bar64 = true,
};

/* Like mpqemu: INTx only, 32-bit BARs. */
static const PCITransportOps fake_intx_transport = {
    .set_irq = fake_set_irq,
    .bar64 = false,
};

/* A realized fake device on @ops (may be NULL) that declares what
 * @declare declares. */
static FakeDev *fake_new(const PCITransportOps *ops, FakeTransport *t,
                         bool (*declare)(PCIDevice *d, GError **errp))
{
    g_autoptr(KeyValList) opts = keyval_parse("fake-pci,id=f0", "driver",
                                              NULL);
    GError *err = NULL;
    Device *dev = device_new(opts, &err);

    g_assert_no_error(err);
    fake_declare = declare;
    pci_device_set_transport(PCI_DEVICE(dev), ops, t);
    device_realize(dev, &err);
    g_assert_no_error(err);
    return (FakeDev *)dev;
}

static void fake_free(FakeDev *f)
{
    device_free(&f->pci.qdev);
}

static uint32_t cfg_read(FakeDev *f, uint32_t addr, unsigned len)
{
    uint32_t v;

    g_assert_true(pci_config_read(&f->pci, addr, len, &v));
    return v;
}

static void cfg_write(FakeDev *f, uint32_t addr, uint32_t val, unsigned len)
{
    g_assert_true(pci_config_write(&f->pci, addr, val, len));
}

#endif
