/*
 * PCI bus API: what a PCI device model is written against, and what a
 * transport (mpqemu, vfio-user) calls to drive it.
 *
 * Register names and bits come from <linux/pci_regs.h>.
 *
 * A PCI device type sets ".bus = &pci_bus_info" in its DeviceType; its
 * instance struct starts with a PCIDevice.  In realize it fills in its
 * identity (pci_config_set_*), declares BARs (pci_register_bar) and
 * capabilities (pci_add_capability, msix_init_exclusive_bar, msi_init,
 * pci_pm_init).  The PCI core then records that configuration as the
 * power-on state: every reset (pci_device_reset) first calls the type's
 * reset hook (which drains the device's in-flight work), then restores the
 * power-on config space, clears MSI/MSI-X state and lowers INTx, so nothing
 * the device raised while draining survives the reset.
 *
 * Threads: config-space and BAR callbacks run on the transport's connection
 * thread, serialised per device.  pci_set_irq(), msix_notify() and
 * msi_notify() may be called from any thread (iothreads).  d->lock guards
 * the config space, interrupt and MSI-X state; the core takes it around
 * config accesses (so config hooks run with it held) but NOT around BAR
 * callbacks, which the device synchronises itself.
 */
#ifndef HW_PCI_H
#define HW_PCI_H

#include "qemu-remote/osdep.h"
#include "hw/dma.h"
#include "hw/qdev.h"

#include <linux/pci_regs.h>

#define PCI_CONFIG_SPACE_SIZE   0x100
#define PCIE_CONFIG_SPACE_SIZE  0x1000
#define PCI_NUM_BARS            6

/* Value read back from any register or BAR that does not decode. */
#define PCI_ALL_ONES            UINT64_MAX

typedef struct PCIDevice PCIDevice;

extern const DeviceBusInfo pci_bus_info;

/* BAR callbacks.  @offset is relative to the BAR; @size is 1, 2, 4 or 8 and
 * offset + size never exceeds the BAR size. */
typedef struct PCIBarOps {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value,
                  unsigned size);
} PCIBarOps;

typedef struct PCIBar {
    uint64_t size;      /* 0: not implemented */
    uint8_t type;       /* PCI_BASE_ADDRESS_SPACE_IO or _MEMORY |
                           _MEM_TYPE_64 | _MEM_PREFETCH */
    const PCIBarOps *ops;
    void *opaque;
} PCIBar;

/*
 * What the transport serving a device can do.  Set with
 * pci_device_set_transport() before realize (capabilities and BAR types
 * depend on it); a transport going away sets NULL.
 */
typedef struct PCITransportOps {
    /* The effective level of INTx pin A changed (INTX_DISABLE already
     * applied).  Called with d->lock held; must not call back into PCI. */
    void (*set_irq)(void *opaque, bool level);
    /* Deliver MSI (@msix false) or MSI-X vector @vector.  NULL: the
     * transport cannot deliver message-signalled interrupts, and devices
     * then present neither capability (msi_init/msix_init_* return
     * -ENOTSUP without adding anything). */
    void (*notify_vector)(void *opaque, bool msix, unsigned vector);
    /* The VMM maps 64-bit BARs correctly.  When false (QEMU 7.2's
     * x-pci-proxy-dev), pci_register_bar() downgrades 64-bit and
     * prefetchable memory BARs to 32-bit non-prefetchable ones. */
    bool bar64;
} PCITransportOps;

struct PCIDevice {
    Device qdev;

    GMutex lock;
    uint32_t config_size;                       /* 256, or 4096 (express) */
    uint8_t config[PCIE_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCIE_CONFIG_SPACE_SIZE];      /* guest-writable bits */
    uint8_t w1cmask[PCIE_CONFIG_SPACE_SIZE];    /* write-1-to-clear bits */
    uint8_t power_on[PCIE_CONFIG_SPACE_SIZE];   /* config after realize */
    PCIBar bars[PCI_NUM_BARS];
    uint8_t next_cap_offset;                    /* capability allocator */

    bool irq_level;                             /* the device's INTx line */

    /* Message-signalled interrupts (0 when absent). */
    uint8_t msi_cap;
    uint8_t msix_cap;
    unsigned msix_nvectors;
    uint8_t *msix_table;                        /* 16 bytes per vector */
    uint8_t *msix_pba;
    int msix_bar;

    DMASpace *dma;              /* guest memory as this device may reach it */

    const PCITransportOps *transport;
    void *transport_opaque;

    /* Optional config-space hooks, set by the device in realize.  They run
     * with d->lock held and may call pci_default_config_read/write.  They
     * must not wait for the device's iothread (which may be blocked on
     * d->lock in pci_set_irq()). */
    uint32_t (*config_read)(PCIDevice *d, uint32_t addr, unsigned len);
    void (*config_write)(PCIDevice *d, uint32_t addr, uint32_t val,
                         unsigned len);

    /* Private to hw/pci. */
    uint8_t cap_used[PCI_CONFIG_SPACE_SIZE];    /* header/capability bytes */
    uint8_t pm_cap;
    bool intx_out;                              /* level the transport saw */
};

static inline PCIDevice *PCI_DEVICE(Device *dev)
{
    return (PCIDevice *)dev;
}

/* --- transport side ------------------------------------------------- */

/* Binds @ops/@opaque (NULL: none) as the device's transport.  Safe while
 * the device runs: the callbacks are swapped under d->lock. */
void pci_device_set_transport(PCIDevice *d, const PCITransportOps *ops,
                              void *opaque);

/*
 * Config access.  Fails (returning false; a read yields all-ones) when
 * @len is not 1, 2 or 4, or addr + len exceeds the config space size.
 */
bool pci_config_read(PCIDevice *d, uint32_t addr, unsigned len,
                     uint32_t *val);
bool pci_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                      unsigned len);

/*
 * BAR access by absolute address (mpqemu): decodes @addr against the BAR
 * addresses the guest programmed, honouring COMMAND's I/O and memory
 * enables.  Returns false (a read yields all-ones) if no enabled BAR of this
 * device contains [addr, addr + size) or @size is not 1, 2, 4 or 8.
 */
bool pci_bar_access_addr(PCIDevice *d, bool io, uint64_t addr,
                         unsigned size, bool write, uint64_t *val);

/*
 * BAR access by index and offset (vfio-user).  Fails when the BAR does not
 * exist, the range is outside it or @size is invalid.
 */
bool pci_bar_access(PCIDevice *d, int bar, uint64_t offset, unsigned size,
                    bool write, uint64_t *val);

/* Guest-programmed base address of @bar, or PCI_ALL_ONES if unassigned. */
uint64_t pci_bar_address(PCIDevice *d, int bar);

/* Full function reset to the power-on state (config space included; see
 * the order above).  Must not be called with d->lock held. */
void pci_device_reset(PCIDevice *d);

/* Current effective INTx level (after INTX_DISABLE). */
bool pci_irq_asserted(PCIDevice *d);

/* --- device side ---------------------------------------------------- */

void pci_config_set_vendor_id(PCIDevice *d, uint16_t id);
void pci_config_set_device_id(PCIDevice *d, uint16_t id);
void pci_config_set_revision(PCIDevice *d, uint8_t rev);
void pci_config_set_class(PCIDevice *d, uint32_t class_code); /* 24 bits */
void pci_config_set_subsystem(PCIDevice *d, uint16_t vendor, uint16_t id);
/* INTERRUPT_PIN = 1 (INTA); the default.  0 = no INTx. */
void pci_config_set_interrupt_pin(PCIDevice *d, uint8_t pin);

/* 4 KiB extended config space (call first in realize). */
void pci_set_express_config(PCIDevice *d);

/*
 * Declares BAR @bar of @size bytes (a power of two; >= 16 for memory, >= 4
 * for I/O).  @type: PCI_BASE_ADDRESS_SPACE_IO, or _SPACE_MEMORY optionally
 * | _MEM_TYPE_64 (uses bars @bar and @bar + 1) | _MEM_PREFETCH.
 */
bool pci_register_bar(PCIDevice *d, int bar, uint8_t type, uint64_t size,
                      const PCIBarOps *ops, void *opaque, GError **errp);

/*
 * Adds a capability of @size bytes with ID @cap_id at @offset (0: next free
 * dword-aligned offset after 0x40) and links it into the list.  Returns the
 * offset, or 0 with @errp set when it does not fit or overlaps.
 */
uint8_t pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t offset,
                           uint8_t size, GError **errp);
/* Offset of the first capability with @cap_id, or 0. */
uint8_t pci_find_capability(PCIDevice *d, uint8_t cap_id);

/* Power management capability (D0/D3hot). */
bool pci_pm_init(PCIDevice *d, GError **errp);

/*
 * MSI-X with its table at offset 0 and PBA at 0x800 of a dedicated 4 KiB
 * memory BAR @bar (QEMU's layout).  Returns 0, -ENOTSUP when the transport
 * cannot deliver MSI-X (nothing added, not an error), or -EINVAL with @errp
 * set.
 */
int msix_init_exclusive_bar(PCIDevice *d, unsigned nvectors, int bar,
                            GError **errp);
bool msix_enabled(PCIDevice *d);
/* Signals @vector, or sets its pending bit while it (or the function) is
 * masked; delivered when unmasked. */
void msix_notify(PCIDevice *d, unsigned vector);

/* MSI with @nvectors (1..32, power of two), 64-bit addresses, per-vector
 * masking.  Returns as msix_init_exclusive_bar. */
int msi_init(PCIDevice *d, unsigned nvectors, GError **errp);
bool msi_enabled(PCIDevice *d);
void msi_notify(PCIDevice *d, unsigned vector);

/* Sets the device's INTx line.  STATUS.INTERRUPT follows the line; the
 * transport sees it unless COMMAND.INTX_DISABLE is set. */
void pci_set_irq(PCIDevice *d, bool level);

/* COMMAND.BUS_MASTER; the DMA space is disabled while it is clear. */
bool pci_bus_master_enabled(PCIDevice *d);

/* Guest memory access for the device, gated by bus mastering. */
static inline DMASpace *pci_get_dma(PCIDevice *d)
{
    return d->dma;
}

/* Default config accessors, for hooks that extend them (d->lock held). */
uint32_t pci_default_config_read(PCIDevice *d, uint32_t addr, unsigned len);
void pci_default_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                              unsigned len);

/* Little-endian config-space field helpers. */
static inline void pci_set_byte(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void pci_set_word(uint8_t *p, uint16_t v)
{
    p[0] = v & 0xff;
    p[1] = v >> 8;
}
static inline void pci_set_long(uint8_t *p, uint32_t v)
{
    pci_set_word(p, v & 0xffff);
    pci_set_word(p + 2, v >> 16);
}
static inline uint8_t pci_get_byte(const uint8_t *p) { return p[0]; }
static inline uint16_t pci_get_word(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t pci_get_long(const uint8_t *p)
{
    return pci_get_word(p) | ((uint32_t)pci_get_word(p + 2) << 16);
}

#endif
