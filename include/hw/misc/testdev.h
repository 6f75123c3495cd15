/*
 * x-remote-testdev: register map of the PCI test device (docs/testdev.md
 * is the user-facing description; tests use these names).
 */
#ifndef HW_MISC_TESTDEV_H
#define HW_MISC_TESTDEV_H

#include "hw/qdev.h"

/* The DeviceType, registered in hw/device-list.c. */
extern const DeviceType testdev_type;

#define TESTDEV_VENDOR_ID       0x1b36  /* Red Hat, Inc. (QEMU devices) */
#define TESTDEV_DEVICE_ID       0x00f0  /* unassigned in QEMU's pci-ids.rst */
#define TESTDEV_REVISION        0x01
#define TESTDEV_CLASS           0xff0000 /* unassigned class */

#define TESTDEV_MAGIC           0x54445251  /* "QRDT" in little-endian */
#define TESTDEV_VERSION         0x00010000

/* BAR0: 4 KiB of memory-mapped registers. */
#define TESTDEV_MMIO_SIZE       0x1000
#define TESTDEV_REG_ID          0x00    /* RO  TESTDEV_MAGIC */
#define TESTDEV_REG_VERSION     0x04    /* RO  TESTDEV_VERSION */
#define TESTDEV_REG_SCRATCH     0x08    /* RW  0 after reset */
#define TESTDEV_REG_FEATURES    0x0c    /* RO  TESTDEV_FEAT_* */
#define TESTDEV_REG_DMA_SRC_LO  0x10    /* RW  source guest address */
#define TESTDEV_REG_DMA_SRC_HI  0x14
#define TESTDEV_REG_DMA_DST_LO  0x18    /* RW  destination guest address */
#define TESTDEV_REG_DMA_DST_HI  0x1c
#define TESTDEV_REG_DMA_LEN     0x20    /* RW  bytes, at most DMA_MAX_LEN */
#define TESTDEV_REG_DMA_CMD     0x24    /* WO  TESTDEV_DMA_CMD_*; reads 0 */
#define TESTDEV_REG_DMA_STATUS  0x28    /* RO, write 1 to clear DONE/ERROR */
#define TESTDEV_REG_DMA_COUNT   0x2c    /* RO  copies completed since reset */
#define TESTDEV_REG_IRQ_STATUS  0x30    /* RO  TESTDEV_IRQ_* pending */
#define TESTDEV_REG_IRQ_RAISE   0x34    /* WO  set the bits written */
#define TESTDEV_REG_IRQ_ACK     0x38    /* WO  clear the bits written */
#define TESTDEV_BUF_OFFSET      0x100   /* RW  256-byte buffer, any width */
#define TESTDEV_BUF_SIZE        0x100

#define TESTDEV_FEAT_MSI        (1u << 0)   /* MSI capability present */
#define TESTDEV_FEAT_MSIX       (1u << 1)   /* MSI-X capability present */
#define TESTDEV_FEAT_BAR64      (1u << 2)   /* BAR0 is a 64-bit BAR */

#define TESTDEV_DMA_CMD_START   (1u << 0)   /* copy LEN bytes SRC -> DST */
#define TESTDEV_DMA_CMD_IRQ     (1u << 1)   /* raise IRQ_DMA when done */

#define TESTDEV_DMA_DONE        (1u << 0)
#define TESTDEV_DMA_ERROR       (1u << 1)
#define TESTDEV_DMA_ERR_SHIFT   8           /* error code in bits 15:8 */
#define TESTDEV_DMA_ERR_NO_MASTER  1        /* COMMAND.BUS_MASTER is clear */
#define TESTDEV_DMA_ERR_SRC        2        /* source not in granted memory */
#define TESTDEV_DMA_ERR_DST        3        /* destination not granted */
#define TESTDEV_DMA_ERR_LEN        4        /* LEN > DMA_MAX_LEN */
#define TESTDEV_DMA_MAX_LEN     0x100000    /* 1 MiB bounce buffer bound */

#define TESTDEV_IRQ_SOFT        (1u << 0)   /* set through IRQ_RAISE */
#define TESTDEV_IRQ_DMA         (1u << 1)   /* a copy with CMD_IRQ finished */

/* BAR1 (BAR2 with bar64=on): 16 I/O ports. */
#define TESTDEV_IO_SIZE         0x10
#define TESTDEV_IO_ID           0x0     /* RO  TESTDEV_MAGIC */
#define TESTDEV_IO_SCRATCH      0x4     /* RW  0 after reset */
#define TESTDEV_IO_IRQ_STATUS   0x8     /* RO  mirror of IRQ_STATUS */

/* BAR3 with msix=on: the MSI-X table (1 vector) and PBA. */
#define TESTDEV_MSIX_BAR        3

#endif
