/*
 * Helpers for tests that run qemu-remote and talk to it as the VMM
 * (through proxy/): start and stop the process with its stderr captured in
 * a temporary directory, count its fds and mappings, and set up
 * x-remote-testdev the way a guest would.
 */
#ifndef TESTS_MPQEMU_TEST_H
#define TESTS_MPQEMU_TEST_H

#include "qemu-remote/osdep.h"
#include "proxy/mpqemu-proxy.h"
#include "hw/misc/testdev.h"

/* Where tests place testdev's BARs (what SeaBIOS picked in our runs). */
#define TEST_MMIO_BASE  0xfebf0000u
#define TEST_IO_BASE    0xc000u
/* Guest RAM the tests grant: 1 MiB at guest address 0. */
#define TEST_RAM_SIZE   0x100000u
/* Bound on waiting for the remote to react (close, exit). */
#define TEST_WAIT_MS    10000

typedef struct MPQemuTest {
    char *dir;              /* temporary, removed by mpqemu_test_stop() */
    char *stderr_path;
    QemuRemote *remote;
} MPQemuTest;

/*
 * Starts qemu-remote ($QEMU_REMOTE) with @devices and @extra_args.
 * Returns false after g_test_skip() when $QEMU_REMOTE is not set.
 */
bool mpqemu_test_start(MPQemuTest *t, const char *const *devices,
                       const char *const *extra_args);
/* Kills the process if still running and removes the directory. */
void mpqemu_test_stop(MPQemuTest *t);

MPQemuProxy *mpqemu_test_proxy(MPQemuTest *t, unsigned index);
pid_t mpqemu_test_pid(MPQemuTest *t);
/* Everything the process wrote to stderr so far. */
char *mpqemu_test_stderr(MPQemuTest *t);

/* Open fds of @pid. */
unsigned proc_count_fds(pid_t pid);
/* Lines of /proc/@pid/maps; @files_only: only mappings of files. */
unsigned proc_count_maps(pid_t pid, bool files_only);

/*
 * Guest-style set-up of a testdev behind @p: BAR0 at TEST_MMIO_BASE, BAR1
 * at TEST_IO_BASE, memory + I/O decoding and bus mastering on.
 */
void testdev_enable(MPQemuProxy *p);
uint32_t testdev_mmio_read(MPQemuProxy *p, uint32_t reg);
void testdev_mmio_write(MPQemuProxy *p, uint32_t reg, uint32_t val);
uint32_t config_read(MPQemuProxy *p, uint32_t addr, int len);
void config_write(MPQemuProxy *p, uint32_t addr, uint32_t val, int len);

#endif
