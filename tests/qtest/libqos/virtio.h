/*
 * libqos virtio: a polling virtio-pci driver for qtest stories.
 *
 * Transports: modern (VERSION_1; the vendor capabilities locate the common,
 * notify, ISR and device structures in memory BARs) and legacy (the I/O
 * BAR0 register block of a transitional device).  Split virtqueues live in
 * guest RAM from qtest_guest_alloc(); requests are built with
 * qvirtqueue_add*(), published and kicked through the notify register, and
 * completion is found by polling the used ring — no interrupt reaches the
 * guest through x-pci-proxy-dev under TCG.
 *
 * Everything is little-endian (x86 guests: legacy = native = LE).  Constants
 * come from <linux/virtio_pci.h>, <linux/virtio_ring.h> and
 * <linux/virtio_config.h>.
 *
 * Failures of the driver's own expectations (missing capability, queue not
 * available) return false / NULL with a GError or fail the running test;
 * what the device does wrong is left for the test to assert on.
 */
#ifndef TESTS_QTEST_LIBQOS_VIRTIO_H
#define TESTS_QTEST_LIBQOS_VIRTIO_H

#include "libqos/pci.h"

#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

/* One virtio structure located by a vendor capability. */
typedef struct QVirtioRegion {
    const QPCIBar *bar;     /* NULL: not present */
    uint64_t offset;        /* within the BAR */
    uint32_t length;
} QVirtioRegion;

typedef struct QVirtioPCIDevice {
    QPCIDevice pdev;
    bool modern;
    QPCIBar bars[6];
    /* Modern transport (cfg_type 1..4), first capability of each type. */
    QVirtioRegion common, notify, isr, device;
    uint32_t notify_off_multiplier;
    /* Features accepted by qvirtio_negotiate(). */
    uint64_t features;
} QVirtioPCIDevice;

typedef struct QVirtQueue {
    QVirtioPCIDevice *dev;
    uint16_t index;
    uint16_t size;
    uint64_t desc, avail, used;     /* guest-physical ring addresses */
    uint16_t free_head;             /* next descriptor qvirtqueue_add uses */
    uint16_t avail_idx;             /* driver's copy of avail->idx */
    uint16_t last_used_idx;         /* next used element to consume */
    uint64_t notify_addr;           /* doorbell: MMIO address or I/O port */
    bool notify_io;
} QVirtQueue;

/* An indirect descriptor table being built in guest RAM. */
typedef struct QVRingIndirect {
    uint64_t addr;
    uint16_t count;                 /* entries allocated */
    uint16_t used;                  /* entries filled */
} QVRingIndirect;

/* --- device ---------------------------------------------------------- */

/*
 * Binds @d to the virtio function at @devfn: with @modern, finds the
 * virtio vendor capabilities and maps the BARs they name; otherwise maps
 * the legacy I/O BAR0.  Enables I/O, memory and bus mastering.  Fails when
 * a required capability or BAR is missing.
 */
bool qvirtio_pci_init(QVirtioPCIDevice *d, QPCIBus *bus, uint8_t devfn,
                      bool modern, GError **errp);

QTestState *qvirtio_qts(QVirtioPCIDevice *d);

uint8_t qvirtio_get_status(QVirtioPCIDevice *d);
void qvirtio_set_status(QVirtioPCIDevice *d, uint8_t status);

/* Writes status 0 and polls until the device reads back 0 (modern devices
 * may take time to finish a reset).  Returns false at the deadline. */
bool qvirtio_reset(QVirtioPCIDevice *d);

/* Device feature bits (64 bits modern, 32 bits legacy). */
uint64_t qvirtio_device_features(QVirtioPCIDevice *d);
/* Writes the driver feature bits (and reads them back, modern only). */
void qvirtio_set_driver_features(QVirtioPCIDevice *d, uint64_t features);
uint64_t qvirtio_driver_features(QVirtioPCIDevice *d);

/*
 * The initialisation sequence up to FEATURES_OK: reset, ACKNOWLEDGE,
 * DRIVER, driver features = @features, then (modern) FEATURES_OK and a
 * re-read.  Returns true when the device kept FEATURES_OK (always true for
 * legacy, which has no such step); records @features in d->features.
 */
bool qvirtio_negotiate(QVirtioPCIDevice *d, uint64_t features);

/* Sets DRIVER_OK (after queue setup). */
void qvirtio_set_driver_ok(QVirtioPCIDevice *d);

/* ISR status byte (reading clears it). */
uint8_t qvirtio_isr(QVirtioPCIDevice *d);

/* Modern: num_queues from the common structure; legacy: 0 (unknown). */
uint16_t qvirtio_num_queues(QVirtioPCIDevice *d);

/* Modern: config_generation. */
uint8_t qvirtio_config_generation(QVirtioPCIDevice *d);

/* Device-specific configuration at @offset. */
uint8_t qvirtio_config_readb(QVirtioPCIDevice *d, uint32_t offset);
uint16_t qvirtio_config_readw(QVirtioPCIDevice *d, uint32_t offset);
uint32_t qvirtio_config_readl(QVirtioPCIDevice *d, uint32_t offset);
uint64_t qvirtio_config_readq(QVirtioPCIDevice *d, uint32_t offset);
void qvirtio_config_writeb(QVirtioPCIDevice *d, uint32_t offset,
                           uint8_t val);

/* --- queues ---------------------------------------------------------------- */

/* Maximum size of queue @index as the device reports it (0: none). */
uint16_t qvirtio_queue_max_size(QVirtioPCIDevice *d, uint16_t index);

/*
 * Allocates the rings of queue @index in guest RAM (zeroed), programs
 * them and enables the queue.  @size 0 uses the device's maximum; other
 * sizes need the modern transport.  Returns NULL after failing the test
 * when the queue does not exist.  Free with g_free() (guest RAM is
 * reclaimed by qtest_guest_alloc_reset()).
 */
QVirtQueue *qvirtqueue_setup(QVirtioPCIDevice *d, uint16_t index,
                             uint16_t size);

/*
 * Writes the descriptor at vq->free_head: @addr, @len, WRITE when @write,
 * and NEXT (pointing at the following slot) when @next.  Returns its index
 * and advances free_head (wrapping at the queue size).
 */
uint16_t qvirtqueue_add(QVirtQueue *vq, uint64_t addr, uint32_t len,
                        bool write, bool next);

/* Writes descriptor @idx verbatim (for malformed chains). */
void qvirtqueue_write_desc(QVirtQueue *vq, uint16_t idx, uint64_t addr,
                           uint32_t len, uint16_t flags, uint16_t next);

/* Allocates an indirect table of @count descriptors in guest RAM. */
QVRingIndirect qvring_indirect_new(QTestState *qts, uint16_t count);
/* Appends a descriptor to @ind, chaining it from the previous entry. */
void qvring_indirect_add(QTestState *qts, QVRingIndirect *ind, uint64_t addr,
                         uint32_t len, bool write);
/* Adds one INDIRECT descriptor that points at @ind; returns its index. */
uint16_t qvirtqueue_add_indirect(QVirtQueue *vq, const QVRingIndirect *ind);

/* Puts @head in the avail ring and bumps avail->idx (no notification). */
void qvirtqueue_publish(QVirtQueue *vq, uint16_t head);
/* Writes the queue index to the queue's doorbell. */
void qvirtqueue_notify(QVirtQueue *vq);
/* qvirtqueue_publish() + qvirtqueue_notify(). */
void qvirtqueue_kick(QVirtQueue *vq, uint16_t head);

/* The device's used->idx. */
uint16_t qvirtqueue_used_idx(QVirtQueue *vq);

/*
 * Consumes the next used element if the device has published one: stores
 * its id and len and returns true; false when there is none yet.
 */
bool qvirtqueue_get_used(QVirtQueue *vq, uint32_t *id, uint32_t *len);

/* Polls qvirtqueue_get_used() for up to @timeout_ms. */
bool qvirtqueue_wait_used(QVirtQueue *vq, uint32_t *id, uint32_t *len,
                          unsigned timeout_ms);

/*
 * Polls until (status & @bits) == @bits, e.g. DEVICE_NEEDS_RESET after a
 * malformed request.  Returns false at the deadline.
 */
bool qvirtio_wait_status(QVirtioPCIDevice *d, uint8_t bits,
                         unsigned timeout_ms);

#endif
