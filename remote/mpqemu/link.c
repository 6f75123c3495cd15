/*
 * mpqemu connections: one thread per device socket, blocking reads, the
 * reply written from the same thread (no hop through another loop on the
 * config/BAR path).  See include/remote/mpqemu.h.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "qemu-remote/runstate.h"
#include "mpqemu-internal.h"

#include <poll.h>
#include <sys/socket.h>

static const char *link_state(void *opaque)
{
    return mpqemu_link_state(opaque);
}

MPQemuLink *mpqemu_link_new(PCIDevice *dev, int sock, const char *name)
{
    MPQemuLink *link = g_new0(MPQemuLink, 1);
    DeviceTransport transport = {
        .name = "mpqemu",
        .state = link_state,
        .opaque = link,
    };

    link->name = g_strdup(name);
    link->dev = dev;
    link->sock = sock;
    link->irq_fd = -1;
    link->resample_fd = -1;
    g_mutex_init(&link->sock_lock);
    g_mutex_init(&link->irq_lock);
    pci_device_set_transport(dev, &mpqemu_pci_transport_ops, link);
    device_set_transport(&dev->qdev, &transport);
    return link;
}

const char *mpqemu_link_state(MPQemuLink *link)
{
    return g_atomic_int_get(&link->connected) ? "connected" : "disconnected";
}

/* Serves until EOF (true) or an error (false, *errp says why). */
static bool link_serve(MPQemuLink *link, GError **errp)
{
    MPQemuMsg msg;

    for (;;) {
        struct pollfd pfd[2] = {
            { .fd = link->sock, .events = POLLIN },
            { .fd = link->resample_fd, .events = POLLIN },
        };
        nfds_t n = link->resample_fd >= 0 ? 2 : 1;

        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            error_setg_errno(errp, errno, "poll failed");
            return false;
        }
        if (n == 2 && (pfd[1].revents & POLLIN)) {
            mpqemu_irq_resample(link);
        }
        if (!pfd[0].revents) {
            continue;
        }
        switch (mpqemu_msg_recv(link->sock, &msg, errp)) {
        case MPQEMU_RECV_EOF:
            return true;
        case MPQEMU_RECV_ERROR:
            return false;
        case MPQEMU_RECV_OK:
            break;
        }
        if (!mpqemu_dispatch(link, &msg, errp)) {
            return false;
        }
    }
}

/* Ends the connection: the device goes back to power-on state and gives up
 * guest memory and the interrupt fds; the socket is closed last, so a peer
 * that sees EOF knows the rest is done. */
static void link_close(MPQemuLink *link, const GError *err)
{
    bool stopping = g_atomic_int_get(&link->stopping);

    if (err && !stopping) {
        error_report("x-remote-object %s: closing the connection: %s",
                     link->name, err->message);
    } else {
        qr_log_mask(LOG_MPQEMU, "mpqemu: %s: connection closed%s",
                    link->name, stopping ? " (shutting down)" : " by the VMM");
    }
    pci_device_reset(link->dev);
    dma_space_set_table(link->dev->dma, NULL, 0, NULL);
    mpqemu_irq_close(link);

    g_mutex_lock(&link->sock_lock);
    close(link->sock);
    link->sock = -1;
    g_mutex_unlock(&link->sock_lock);
    g_atomic_int_set(&link->connected, 0);
    qemu_remote_link_closed();
}

static gpointer link_thread(gpointer opaque)
{
    MPQemuLink *link = opaque;
    g_autoptr(GError) err = NULL;

    link_serve(link, &err);
    link_close(link, err);
    return NULL;
}

bool mpqemu_link_start(MPQemuLink *link, GError **errp)
{
    g_autofree char *thread_name = g_strdup_printf("mpqemu:%s", link->name);
    GError *local_err = NULL;

    g_atomic_int_set(&link->connected, 1);
    qemu_remote_link_opened();
    link->thread = g_thread_try_new(thread_name, link_thread, link,
                                    &local_err);
    if (!link->thread) {
        g_atomic_int_set(&link->connected, 0);
        qemu_remote_link_closed();
        error_setg(errp, "x-remote-object %s: cannot start its thread: %s",
                   link->name, local_err->message);
        g_error_free(local_err);
        return false;
    }
    return true;
}

void mpqemu_link_free(MPQemuLink *link)
{
    DeviceTransport none = { 0 };

    if (!link) {
        return;
    }
    if (link->thread) {
        g_atomic_int_set(&link->stopping, 1);
        /* Wakes the thread from poll() or a blocking read or write. */
        g_mutex_lock(&link->sock_lock);
        if (link->sock >= 0) {
            shutdown(link->sock, SHUT_RDWR);
        }
        g_mutex_unlock(&link->sock_lock);
        g_thread_join(link->thread);
    } else if (link->sock >= 0) {
        close(link->sock);
    }
    pci_device_set_transport(link->dev, NULL, NULL);
    device_set_transport(&link->dev->qdev, &none);
    mpqemu_irq_close(link);
    g_mutex_clear(&link->irq_lock);
    g_mutex_clear(&link->sock_lock);
    g_free(link->name);
    g_free(link);
}
