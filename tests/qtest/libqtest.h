/*
 * libqtest: drives Debian's real QEMU (the VMM) over its qtest and QMP
 * sockets, with one or more devices served through "-device
 * x-pci-proxy-dev" by a remote device process: our qemu-remote, or QEMU's
 * own "-machine x-remote" as the reference.
 *
 * One QTestState is one VMM and its remote process(es):
 *
 *   qemu-system-x86_64 -accel tcg -S (or -bios HLT) -qtest unix:DIR/qtest
 *       -qmp unix:DIR/qmp -machine q35,memory-backend=mem
 *       -object memory-backend-memfd,id=mem,size=S,share=on -m S
 *       -device x-pci-proxy-dev,id=ID,fd=3,addr=SLOT ...
 *   qemu-remote -machine x-remote <device args>
 *       -object x-remote-object,id=r0,devid=ID,fd=3 ...
 *
 * Our qemu-remote hosts every device of a state in one process; QEMU's
 * remote allows one x-remote-object per process, so it gets one process per
 * device.  Debian's QEMU has no qtest accelerator: the CPU is kept out of
 * the way with -S (or a BIOS of hlt instructions when the VM must run), no
 * firmware touches the PCI bus, and there is no clock_step — wait with
 * qtest_wait_for() instead.  Interrupts never reach the VMM under TCG, so
 * device completion is polled.
 *
 * Errors: qtest_start() reports failure through GError.  Once started, a
 * broken qtest/QMP connection (the VMM died or hung past the deadline)
 * fails the running GTest case (g_test_fail()), prints the processes'
 * stderr, and marks the state broken: later accessors return all-ones
 * without talking to the VMM and polls end at once, so the program reaches
 * its teardown instead of hanging.
 *
 * Cleanup: qtest_quit() kills what is still running and removes every
 * socket and file.  If the test program aborts (a failed g_assert) or is
 * terminated (SIGTERM, SIGINT), a handler kills the children and removes
 * the files as well; children also get PR_SET_PDEATHSIG.
 */
#ifndef TESTS_QTEST_LIBQTEST_H
#define TESTS_QTEST_LIBQTEST_H

#include "qemu-remote/osdep.h"

#include <json-glib/json-glib.h>

typedef struct QTestState QTestState;

/* Which program serves the devices. */
typedef enum QTestRemote {
    QTEST_REMOTE_DEFAULT,   /* $QTEST_REMOTE ("qemu-remote" or "qemu"),
                               else qemu-remote */
    QTEST_REMOTE_OURS,      /* qemu-remote ($QTEST_QEMU_REMOTE_BINARY) */
    QTEST_REMOTE_QEMU,      /* qemu-system-x86_64 -machine x-remote */
} QTestRemote;

#define QTEST_MAX_DEVICES 4

/* Deadline for anything the VMM or remote should answer promptly. */
#define QTEST_TIMEOUT_MS 30000

typedef struct QTestDeviceSpec {
    /* id= of the proxy in the VMM and of the device in the remote. */
    const char *id;
    /* Remote arguments that create the device and its backends, in shell
     * syntax: "-device virtio-blk-pci,id=v0,drive=d0 -drive ...". */
    const char *args;
    /* PCI slot of the proxy on bus 0; 0 picks 4 + the device's index. */
    unsigned slot;
} QTestDeviceSpec;

typedef struct QTestOptions {
    QTestRemote remote;
    /* Guest RAM in bytes (a multiple of 1 MiB, at most 2 GiB); 0: 256 MiB. */
    uint64_t ram_size;
    /* false: -S (CPUs never start).  true: the VM runs with a BIOS of hlt
     * instructions (for behaviour that needs a running VM). */
    bool running;
    /* Extra VMM arguments, shell syntax; may be NULL. */
    const char *vmm_args;
    /* Extra arguments for every remote process, shell syntax; may be NULL. */
    const char *remote_args;
    /* Devices; the list ends at the first entry without an id. */
    QTestDeviceSpec devices[QTEST_MAX_DEVICES];
} QTestOptions;

/* --- host checks -------------------------------------------------------- */

/* The kind QTEST_REMOTE_DEFAULT stands for. */
QTestRemote qtest_default_remote(void);

/* "qemu-remote" or "qemu" (for messages and test names). */
const char *qtest_remote_name(QTestRemote kind);

/*
 * True when the VMM binary ($QTEST_QEMU_BINARY, default qemu-system-x86_64)
 * and the remote program of @kind exist and the remote lists device @type
 * in "-device help".  Otherwise false with *@why (g_free it; may be NULL)
 * set to a reason fit for a TAP "# SKIP" line.  The answer is cached.
 */
bool qtest_remote_has_device(QTestRemote kind, const char *type, char **why);

/* --- life cycle ------------------------------------------------------------ */

/*
 * Starts the remote process(es) and the VMM, waits until the VMM's qtest and
 * QMP sockets are connected and QMP capabilities are negotiated (so the
 * proxies are realized and the machine is built), and returns the state.
 * Fails (NULL, @errp set with the VMM's stderr) when a program cannot be
 * started or the VMM exits or does not connect within QTEST_TIMEOUT_MS.
 */
QTestState *qtest_start(const QTestOptions *opts, GError **errp);

/*
 * Tears everything down: SIGTERM to the VMM, bounded waits, then to the
 * remotes, SIGKILL where a deadline passes; removes the state's directory.
 * A remote's stderr, if not empty, is printed as TAP comments.  @s may be
 * NULL.
 */
void qtest_quit(QTestState *s);

/*
 * Ends the pair the normal way: QMP "quit", then waits for the VMM and
 * every remote to exit by themselves (remotes exit when their VMM link
 * closes).  Fails when a process does not exit within QTEST_TIMEOUT_MS,
 * a remote's exit status is not 0, or a remote's stderr holds a sanitizer
 * report.  Follow with qtest_quit() either way.
 */
bool qtest_shutdown_cleanly(QTestState *s, GError **errp);

/* The kind of remote actually used. */
QTestRemote qtest_remote_kind(QTestState *s);

/* True until the qtest or QMP connection broke. */
bool qtest_ok(QTestState *s);

/* The state's private directory (for disk images etc.; removed by
 * qtest_quit()).  Files a test puts there are removed with it. */
const char *qtest_tmpdir(QTestState *s);

/*
 * A directory private to this test program, for files devices use (disk
 * images) that must exist before qtest_start().  Created on first call;
 * removed with its files at exit and by the abort handler.  NULL (with a
 * message) when it cannot be created.
 */
const char *qtest_scratch_dir(void);

/* Number of remote processes (1 for ours; one per device for QEMU's). */
unsigned qtest_remote_count(QTestState *s);

/* Remote process serving device @id (index for the calls below), or -1. */
int qtest_remote_for_device(QTestState *s, const char *id);

pid_t qtest_remote_pid(QTestState *s, unsigned idx);
pid_t qtest_vmm_pid(QTestState *s);

/*
 * Waits up to @timeout_ms for the VMM / remote @idx to exit and stores its
 * wait status (see waitpid(2)) in *@wstatus.  Returns false when it is still
 * running at the deadline.  Returns the stored status again if it was
 * already reaped.
 */
bool qtest_vmm_wait(QTestState *s, unsigned timeout_ms, int *wstatus);
bool qtest_remote_wait(QTestState *s, unsigned idx, unsigned timeout_ms,
                       int *wstatus);

/* Everything remote @idx / the VMM wrote on stderr so far (g_free it). */
char *qtest_remote_stderr(QTestState *s, unsigned idx);
char *qtest_vmm_stderr(QTestState *s);

/* --- qtest commands ------------------------------------------------------ */

/* Guest-physical memory (RAM, or a BAR through the proxy). */
uint8_t qtest_readb(QTestState *s, uint64_t addr);
uint16_t qtest_readw(QTestState *s, uint64_t addr);
uint32_t qtest_readl(QTestState *s, uint64_t addr);
uint64_t qtest_readq(QTestState *s, uint64_t addr);
void qtest_writeb(QTestState *s, uint64_t addr, uint8_t val);
void qtest_writew(QTestState *s, uint64_t addr, uint16_t val);
void qtest_writel(QTestState *s, uint64_t addr, uint32_t val);
void qtest_writeq(QTestState *s, uint64_t addr, uint64_t val);

/* I/O ports. */
uint8_t qtest_inb(QTestState *s, uint16_t port);
uint16_t qtest_inw(QTestState *s, uint16_t port);
uint32_t qtest_inl(QTestState *s, uint16_t port);
void qtest_outb(QTestState *s, uint16_t port, uint8_t val);
void qtest_outw(QTestState *s, uint16_t port, uint16_t val);
void qtest_outl(QTestState *s, uint16_t port, uint32_t val);

/* Bulk guest memory, hex-encoded on the wire ("read"/"write"/"memset"). */
void qtest_memread(QTestState *s, uint64_t addr, void *buf, size_t len);
void qtest_memwrite(QTestState *s, uint64_t addr, const void *buf,
                    size_t len);
void qtest_memset(QTestState *s, uint64_t addr, uint8_t pattern, size_t len);

/*
 * Sends one raw qtest command line and returns the reply line (without the
 * newline; g_free it), or NULL when the connection broke.  For commands the
 * typed helpers do not cover, and for measuring a command's own cost.
 */
char *qtest_command(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* --- QMP ------------------------------------------------------------------- */

/*
 * Sends one QMP command (printf-style JSON text) and returns the response
 * object (a JSON object with "return" or "error"; json_node_unref it), or
 * NULL when the connection broke.  Events that arrive meanwhile are queued
 * for qtest_qmp_event_wait().
 */
JsonNode *qtest_qmp(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Like qtest_qmp() but fails the test unless the response is a "return";
 * returns whether it was. */
bool qtest_qmp_ok(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/*
 * Waits up to @timeout_ms for the event named @event (queued or arriving)
 * and returns it (json_node_unref it), or NULL at the deadline.
 */
JsonNode *qtest_qmp_event_wait(QTestState *s, const char *event,
                               unsigned timeout_ms);

/* QMP "system_reset": the proxies send DEVICE_RESET to their remotes. */
void qtest_system_reset(QTestState *s);

/* --- PCI config space through the host bridge (0xcf8/0xcfc, bus 0) -------- */

uint32_t qtest_pci_config_read(QTestState *s, uint8_t devfn, uint8_t offset,
                               unsigned len);
void qtest_pci_config_write(QTestState *s, uint8_t devfn, uint8_t offset,
                            uint32_t val, unsigned len);

/*
 * The first function on bus 0 at or after @from_devfn whose vendor and
 * device IDs match (0xffff matches any device ID), or -1.
 */
int qtest_pci_find(QTestState *s, uint16_t vendor, uint16_t device,
                   int from_devfn);

/* devfn of the proxy of device @id (from its slot), or -1 when unknown. */
int qtest_device_devfn(QTestState *s, const char *id);

/* --- guest RAM allocator ---------------------------------------------------- */

/*
 * Hands out guest RAM from 1 MiB to the end of RAM (nothing else uses it:
 * no firmware runs).  @align is a power of two (0: 16).  Returns the
 * guest-physical address, or 0 with the test failed when RAM is exhausted.
 * The memory is not cleared.
 */
uint64_t qtest_guest_alloc(QTestState *s, uint64_t size, uint64_t align);

/* Frees everything qtest_guest_alloc() handed out. */
void qtest_guest_alloc_reset(QTestState *s);

uint64_t qtest_ram_size(QTestState *s);

/* --- waiting ------------------------------------------------------------ */

typedef bool (*QTestCondition)(QTestState *s, void *opaque);

/*
 * Polls @cond until it returns true (returns true) or @timeout_ms pass
 * (returns false).  Ends at once when the state is broken.  Yields the CPU
 * briefly between polls so the remote gets to run on a small host.
 */
bool qtest_wait_for(QTestState *s, unsigned timeout_ms, QTestCondition cond,
                    void *opaque);

/* Monotonic milliseconds, for deadlines. */
int64_t qtest_now_ms(void);

#endif
