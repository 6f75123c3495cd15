/*
 * The VMM side of mpqemu as a small library: what QEMU's x-pci-proxy-dev
 * does, driven by a program (our tests and benchmarks).  It can start
 * qemu-remote with one socketpair per device, grant guest RAM (memfds),
 * hold the INTx eventfds, issue config/BAR requests and resets, and send
 * arbitrary raw messages for hostile-VMM tests.
 *
 * Every wait is bounded: replies time out after the proxy's timeout
 * (default 10 s) with an error instead of hanging the caller.
 */
#ifndef PROXY_MPQEMU_PROXY_H
#define PROXY_MPQEMU_PROXY_H

#include "qemu-remote/osdep.h"
#include "remote/mpqemu.h"

typedef struct MPQemuProxy MPQemuProxy;

/* Wraps the VMM end @sock of a connected stream socket; takes ownership. */
MPQemuProxy *mpqemu_proxy_new(int sock);
/* Closes the socket and everything the proxy holds (RAM, eventfds). */
void mpqemu_proxy_free(MPQemuProxy *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MPQemuProxy, mpqemu_proxy_free)

int mpqemu_proxy_socket(MPQemuProxy *p);
/* Bound on every blocking wait for the remote, in milliseconds. */
void mpqemu_proxy_set_timeout(MPQemuProxy *p, int timeout_ms);

/* --- guest memory --------------------------------------------------- */

typedef struct MPQemuProxyRegion {
    uint64_t gpa;
    uint64_t size;
    uint64_t offset;    /* in @fd */
    int fd;
} MPQemuProxyRegion;

/* Sends SYNC_SYSMEM with @n regions (1..8; the fds stay the caller's). */
bool mpqemu_proxy_sync_sysmem(MPQemuProxy *p, const MPQemuProxyRegion *r,
                              unsigned n, GError **errp);

/*
 * Creates @size bytes of "guest RAM" (a memfd, mapped here), grants it as
 * one region at guest address @gpa and returns the host pointer (valid
 * until the proxy is freed), or NULL.  One RAM per proxy; calling again
 * replaces it.
 */
void *mpqemu_proxy_ram_new(MPQemuProxy *p, uint64_t gpa, uint64_t size,
                           GError **errp);
/* The RAM memfd, or -1. */
int mpqemu_proxy_ram_fd(MPQemuProxy *p);

/* --- interrupts ----------------------------------------------------- */

/* Creates the INTx and resample eventfds (non-blocking) and sends them
 * with SET_IRQFD, replacing a previous pair. */
bool mpqemu_proxy_set_irqfd(MPQemuProxy *p, GError **errp);
int mpqemu_proxy_irq_fd(MPQemuProxy *p);
int mpqemu_proxy_resample_fd(MPQemuProxy *p);

/* Reads and clears the INTx eventfd: its count, 0 if not signalled. */
uint64_t mpqemu_proxy_irq_take(MPQemuProxy *p);
/* Like irq_take, but waits up to @timeout_ms for a signal. */
uint64_t mpqemu_proxy_irq_wait(MPQemuProxy *p, int timeout_ms);
/* Signals the resample eventfd, as KVM does on the guest's EOI. */
bool mpqemu_proxy_resample(MPQemuProxy *p, GError **errp);
/* True while the resample eventfd holds a count the remote has not
 * consumed yet (checked with poll, without reading it). */
bool mpqemu_proxy_resample_pending(MPQemuProxy *p);

/* --- requests (each waits for its RET) ------------------------------ */

bool mpqemu_proxy_config_read(MPQemuProxy *p, uint32_t addr, int len,
                              uint32_t *val, GError **errp);
bool mpqemu_proxy_config_write(MPQemuProxy *p, uint32_t addr, uint32_t val,
                               int len, GError **errp);
/* @memory: memory BAR (true) or I/O BAR; @addr absolute. */
bool mpqemu_proxy_bar_read(MPQemuProxy *p, bool memory, uint64_t addr,
                           unsigned size, uint64_t *val, GError **errp);
bool mpqemu_proxy_bar_write(MPQemuProxy *p, bool memory, uint64_t addr,
                            unsigned size, uint64_t val, GError **errp);
/* DEVICE_RESET; fails unless the RET is empty, as QEMU 7.2 expects. */
bool mpqemu_proxy_device_reset(MPQemuProxy *p, GError **errp);

/* --- raw messages (hostile tests) ------------------------------------ */

/* Sends @hdr as given (size may lie) followed by @len payload bytes. */
bool mpqemu_proxy_send_raw(MPQemuProxy *p, const MPQemuHeader *hdr,
                           const void *payload, size_t len, const int *fds,
                           unsigned nfds, GError **errp);
/*
 * Sends @len bytes of @data with no framing (half a header, a payload on
 * its own) in one sendmsg, with @nfds (at most MPQEMU_PROXY_MAX_SEND_FDS)
 * fds attached to the first byte.
 */
#define MPQEMU_PROXY_MAX_SEND_FDS 64
bool mpqemu_proxy_send_bytes(MPQemuProxy *p, const void *data, size_t len,
                             const int *fds, unsigned nfds, GError **errp);
/* Shuts down the sending direction: the remote reads EOF. */
void mpqemu_proxy_shutdown_send(MPQemuProxy *p);
/* Receives one RET: its value (0 when empty) and payload size. */
bool mpqemu_proxy_recv_ret(MPQemuProxy *p, uint64_t *val,
                           uint64_t *size, GError **errp);
/* True when the remote closes the connection within @timeout_ms without
 * sending anything first. */
bool mpqemu_proxy_wait_closed(MPQemuProxy *p, int timeout_ms);

/* --- a qemu-remote process ------------------------------------------- */

typedef struct QemuRemote QemuRemote;

/*
 * Starts @binary -machine x-remote -nodefaults [@extra_args] and, for each
 * "TYPE,id=ID[,...]" in the NULL-terminated @devices, "-device SPEC
 * -object x-remote-object,id=rID,devid=ID,fd=N" on a new socketpair.
 * stderr goes to @stderr_path (appended) when not NULL.
 */
QemuRemote *qemu_remote_spawn(const char *binary,
                              const char *const *devices,
                              const char *const *extra_args,
                              const char *stderr_path, GError **errp);
/* The proxy for the @index-th device (owned by @r). */
MPQemuProxy *qemu_remote_proxy(QemuRemote *r, unsigned index);
/* Closes the @index-th proxy early (the VMM going away). */
void qemu_remote_close_proxy(QemuRemote *r, unsigned index);
/* Closes every proxy (the whole VMM going away). */
void qemu_remote_close_proxies(QemuRemote *r);
pid_t qemu_remote_pid(QemuRemote *r);
/* Waits up to @timeout_ms for the process to exit; true with its wait
 * status in *@status if it did. */
bool qemu_remote_wait(QemuRemote *r, int timeout_ms, int *status);
/* Closes every proxy and waits for the process to exit; if it does not
 * within a grace period, SIGTERM, then SIGKILL.  Reaps it. */
void qemu_remote_free(QemuRemote *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuRemote, qemu_remote_free)

#endif
