/*
 * Shared by the files of remote/mpqemu: the connection state.
 */
#ifndef REMOTE_MPQEMU_INTERNAL_H
#define REMOTE_MPQEMU_INTERNAL_H

#include "remote/mpqemu.h"

struct MPQemuLink {
    char *name;                 /* the x-remote-object id */
    PCIDevice *dev;
    GThread *thread;            /* NULL until started */

    GMutex sock_lock;           /* sock against close vs. shutdown */
    int sock;                   /* -1 once the connection thread closed it */
    gint connected;             /* atomic: 1 while the thread serves */
    gint stopping;              /* atomic: mpqemu_link_free() is stopping it */

    /* INTx (irq.c).  irq_fd is written from any thread that raises the
     * line (under dev->lock, then irq_lock); resample_fd belongs to the
     * connection thread. */
    GMutex irq_lock;
    int irq_fd;
    int resample_fd;
};

/* dispatch.c: validates and handles one message; false (with *@errp set;
 * @errp must not be NULL) ends the connection.  Closes every fd of @msg it
 * does not keep. */
bool mpqemu_dispatch(MPQemuLink *link, MPQemuMsg *msg, GError **errp);

/* irq.c */
extern const PCITransportOps mpqemu_pci_transport_ops;
/* Installs a SET_IRQFD pair (taking ownership on success). */
bool mpqemu_irq_set_fds(MPQemuLink *link, int irq_fd, int resample_fd,
                        GError **errp);
/* The resample eventfd is readable: clear it, re-raise a held line. */
void mpqemu_irq_resample(MPQemuLink *link);
/* Closes the pair. */
void mpqemu_irq_close(MPQemuLink *link);

#endif
