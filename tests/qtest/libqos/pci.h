/*
 * libqos PCI: a PCI function behind the VMM's host bridge, as a driver sees
 * it.  No firmware runs in qtest VMs, so BAR addresses and COMMAND are
 * programmed here: qpci_map_bar() sizes a BAR, gives it an address from the
 * bus's windows and writes it; qpci_enable() turns on decoding and bus
 * mastering.  Register names come from <linux/pci_regs.h>.
 *
 * Address windows: memory BARs from 0xe0000000 up to the IOAPIC at
 * 0xfec00000 (q35's 32-bit PCI hole, above MMCONFIG, which nothing
 * enables), I/O BARs from 0xc000.  Each BAR is naturally aligned; addresses
 * are not reused, so a remapped BAR always moves.
 *
 * Failures (no such BAR, window exhausted) fail the running test; accessors
 * on a broken QTestState return all-ones (see libqtest.h).
 */
#ifndef TESTS_QTEST_LIBQOS_PCI_H
#define TESTS_QTEST_LIBQOS_PCI_H

#include "libqtest.h"

#include <linux/pci_regs.h>

typedef struct QPCIBus {
    QTestState *qts;
    uint64_t mmio_next, mmio_end;
    uint32_t pio_next, pio_end;
} QPCIBus;

typedef struct QPCIDevice {
    QPCIBus *bus;
    uint8_t devfn;
} QPCIDevice;

typedef struct QPCIBar {
    uint64_t addr;      /* guest-physical address or I/O port; 0: unmapped */
    uint64_t size;
    bool io;
    bool is64;          /* a 64-bit memory BAR (uses the next register too) */
    bool prefetch;
} QPCIBar;

/* Sets up the windows of @bus for the VM of @qts. */
void qpci_bus_init(QPCIBus *bus, QTestState *qts);

/*
 * Finds the first function on bus 0 with @vendor/@device (0xffff: any
 * device ID) at or after @from_devfn and fills @dev.  Returns false when
 * there is none.
 */
bool qpci_find_device(QPCIBus *bus, uint16_t vendor, uint16_t device,
                      int from_devfn, QPCIDevice *dev);

/* Fills @dev for the function at @devfn (no check that it exists). */
void qpci_device_at(QPCIBus *bus, uint8_t devfn, QPCIDevice *dev);

uint8_t qpci_config_readb(QPCIDevice *dev, uint8_t offset);
uint16_t qpci_config_readw(QPCIDevice *dev, uint8_t offset);
uint32_t qpci_config_readl(QPCIDevice *dev, uint8_t offset);
void qpci_config_writeb(QPCIDevice *dev, uint8_t offset, uint8_t val);
void qpci_config_writew(QPCIDevice *dev, uint8_t offset, uint16_t val);
void qpci_config_writel(QPCIDevice *dev, uint8_t offset, uint32_t val);

/*
 * Offset of the first capability with ID @cap_id after @start (0: from the
 * head of the list), or 0 when there is none.  The walk is bounded (48
 * entries) so a looping list ends.
 */
uint8_t qpci_find_capability(QPCIDevice *dev, uint8_t cap_id, uint8_t start);

/*
 * Sizes BAR @bar with the all-ones protocol (restoring the register
 * afterwards) and returns its size (0: not implemented), filling @info's
 * size/io/is64/prefetch (addr = the current base) when @info is not NULL.
 */
uint64_t qpci_bar_probe(QPCIDevice *dev, int bar, QPCIBar *info);

/*
 * Sizes BAR @bar, assigns it an address from the bus windows, writes it
 * (both registers of a 64-bit BAR) and returns the mapping.  Decoding is
 * off until qpci_enable().  Fails the test and returns a bar with size 0
 * when the BAR does not exist.
 */
QPCIBar qpci_map_bar(QPCIDevice *dev, int bar);

/* COMMAND |= I/O space | memory space | bus master. */
void qpci_enable(QPCIDevice *dev);

/* Accesses at @offset inside a mapped BAR, with I/O or memory cycles as
 * the BAR requires.  8-byte accesses to I/O BARs become two 4-byte ones. */
uint8_t qpci_io_readb(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset);
uint16_t qpci_io_readw(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset);
uint32_t qpci_io_readl(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset);
uint64_t qpci_io_readq(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset);
void qpci_io_writeb(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset,
                    uint8_t val);
void qpci_io_writew(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset,
                    uint16_t val);
void qpci_io_writel(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset,
                    uint32_t val);
void qpci_io_writeq(QPCIDevice *dev, const QPCIBar *bar, uint64_t offset,
                    uint64_t val);

#endif
