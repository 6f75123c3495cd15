/*
 * libqos virtio: the seam between the ring code and the PCI transport.
 */
#ifndef TESTS_QTEST_LIBQOS_VIRTIO_INTERNAL_H
#define TESTS_QTEST_LIBQOS_VIRTIO_INTERNAL_H

#include "libqos/virtio.h"

/*
 * Programs queue @vq->index with its ring addresses (modern: size, three
 * addresses, enable; legacy: the page frame number of the contiguous
 * ring) and fills in the doorbell address.  Called by qvirtqueue_setup()
 * once the rings are allocated.
 */
void qvirtio_pci_queue_program(QVirtioPCIDevice *d, QVirtQueue *vq);

#endif
