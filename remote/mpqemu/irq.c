/*
 * INTx over mpqemu: the irqfd / resample eventfd pair from SET_IRQFD,
 * emulating a level-triggered line the way KVM's resampling irqfd expects
 * (mpqemu.md 2.5): 0->1 writes the irqfd; a resample while the line is
 * still high writes it again; 1->0 sends nothing.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "mpqemu-internal.h"

#include <linux/kcmp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/*
 * Only eventfds: poll() on a regular file is always readable and would spin
 * the connection thread; a full pipe would block the raising thread.  This
 * must work without /proc (in a chroot, under the sandbox, which refuses
 * open()): an eventfd is an anonymous inode (no file type bits, unlike
 * files, pipes, sockets and devices) that is writable (unlike the other
 * common anonymous inodes: timerfd, signalfd, epoll, inotify, pidfd).
 */
static bool is_eventfd(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    struct stat st;

    return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0 &&
           poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/* True when @a and @b are one open file (the same eventfd sent twice). */
static bool same_file(int a, int b)
{
    pid_t self = getpid();

    return syscall(SYS_kcmp, self, self, KCMP_FILE, a, b) == 0;
}

/* Signals the irqfd without blocking: the write would block only with the
 * counter at its maximum, which a misbehaving VMM could arrange. */
static void irq_kick_locked(MPQemuLink *link)
{
    uint64_t one = 1;
    struct pollfd p = { .fd = link->irq_fd, .events = POLLOUT };

    if (link->irq_fd < 0) {
        return;
    }
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT) ||
        write(link->irq_fd, &one, sizeof(one)) != sizeof(one)) {
        qr_log_mask(LOG_VMM_ERROR, "mpqemu: %s: cannot signal the irqfd",
                    link->name);
    }
}

/* PCI core callback, with dev->lock held. */
static void mpqemu_set_irq(void *opaque, bool level)
{
    MPQemuLink *link = opaque;

    qr_log_mask(LOG_IRQ, "mpqemu: %s: INTx %s", link->name,
                level ? "raise" : "lower");
    if (level) {
        g_mutex_lock(&link->irq_lock);
        irq_kick_locked(link);
        g_mutex_unlock(&link->irq_lock);
    }
}

/* QEMU 7.2's proxy forwards neither MSI nor MSI-X and maps only 32-bit
 * BARs correctly (mpqemu.md 2.1, 2.5). */
const PCITransportOps mpqemu_pci_transport_ops = {
    .set_irq = mpqemu_set_irq,
    .notify_vector = NULL,
    .bar64 = false,
};

bool mpqemu_irq_set_fds(MPQemuLink *link, int irq_fd, int resample_fd,
                        GError **errp)
{
    int old_irq, old_resample;

    if (!is_eventfd(irq_fd) || !is_eventfd(resample_fd)) {
        error_setg(errp, "SET_IRQFD: the fds are not eventfds");
        return false;
    }
    /* One eventfd as both would make every raise look like a resample. */
    if (same_file(irq_fd, resample_fd)) {
        error_setg(errp, "SET_IRQFD: the same eventfd twice");
        return false;
    }
    g_mutex_lock(&link->irq_lock);
    old_irq = link->irq_fd;
    link->irq_fd = irq_fd;
    g_mutex_unlock(&link->irq_lock);
    old_resample = link->resample_fd;
    link->resample_fd = resample_fd;
    if (old_irq >= 0) {
        close(old_irq);
    }
    if (old_resample >= 0) {
        close(old_resample);
    }
    /* QEMU's remote loses a line raised before SET_IRQFD; we deliver it. */
    if (pci_irq_asserted(link->dev)) {
        g_mutex_lock(&link->irq_lock);
        irq_kick_locked(link);
        g_mutex_unlock(&link->irq_lock);
    }
    return true;
}

void mpqemu_irq_resample(MPQemuLink *link)
{
    uint64_t count;
    bool high;

    /* Clear the notification; an eventfd read returns all 8 bytes. */
    if (read(link->resample_fd, &count, sizeof(count)) != sizeof(count)) {
        qr_log_mask(LOG_VMM_ERROR, "mpqemu: %s: cannot read the resample "
                    "eventfd", link->name);
    }
    high = pci_irq_asserted(link->dev);
    qr_log_mask(LOG_IRQ, "mpqemu: %s: resample, line %s", link->name,
                high ? "still high: re-raise" : "low");
    if (high) {
        g_mutex_lock(&link->irq_lock);
        irq_kick_locked(link);
        g_mutex_unlock(&link->irq_lock);
    }
}

void mpqemu_irq_close(MPQemuLink *link)
{
    g_mutex_lock(&link->irq_lock);
    if (link->irq_fd >= 0) {
        close(link->irq_fd);
        link->irq_fd = -1;
    }
    g_mutex_unlock(&link->irq_lock);
    if (link->resample_fd >= 0) {
        close(link->resample_fd);
        link->resample_fd = -1;
    }
}
