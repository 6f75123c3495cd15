/*
 * Fuzz target: the mpqemu transport (remote/mpqemu: the message decoder
 * on a real socket, the is_valid_*() predicates, the dispatcher and the
 * INTx/DMA plumbing) serving real devices, with guest RAM the input fills.
 * The first byte picks the device (x-remote-testdev, or virtio-blk-pci on
 * a memfd disk handed over as /dev/fdset/1); the rest is a VMM program
 * (fuzz-stream.h) sent to the connection, which runs on its own thread as
 * in qemu-remote.  Each input gets a fresh device and connection.
 *
 * Whatever the bytes, the process must not crash, hang or leak (ASan,
 * LeakSanitizer); the connection may only be closed.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/iothread.h"
#include "qemu-remote/log.h"
#include "block/block.h"
#include "hw/misc/testdev.h"
#include "hw/virtio-blk.h"
#include "remote/mpqemu.h"
#include "fuzz-stream.h"

#include <sys/mman.h>
#include <sys/socket.h>

/* Larger inputs could fill the socket buffers with replies faster than
 * they are drained; libFuzzer's -max_len stays below. */
#define FUZZ_MAX_INPUT (64 * 1024)
#define DISK_SIZE (1 << 20)

const DeviceType *const device_types[] = {
    &testdev_type, &virtio_blk_pci_type, NULL
};

static const char *const device_specs[] = {
    "x-remote-testdev,id=dev",
    "virtio-blk-pci,id=dev,drive=disk0,iothread=fuzz-io",
};

static FuzzStream fs;

static void fz_init(void)
{
    qr_log_mask = 0;
    fuzz_stream_init(&fs);
    fuzz_stream_open_disk(DISK_SIZE);
    g_assert_nonnull(iothread_create("fuzz-io", NULL));
}

/* Waits until the connection's thread closed its end. */
static void wait_closed(int sock)
{
    char buf[4096];
    ssize_t n;

    do {
        n = recv(sock, buf, sizeof(buf), 0);
    } while (n > 0 || (n < 0 && errno == EINTR));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool initialized;
    g_autoptr(KeyValList) opts = NULL;
    MPQemuLink *link;
    Device *dev;
    int sv[2];

    if (!initialized) {
        fz_init();
        initialized = true;
    }
    if (size < 1 || size > FUZZ_MAX_INPUT) {
        return 0;
    }
    opts = keyval_parse(device_specs[data[0] % G_N_ELEMENTS(device_specs)],
                        "driver", NULL);
    dev = device_new(opts, NULL);
    g_assert_nonnull(dev);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    link = mpqemu_link_new(PCI_DEVICE(dev), sv[1], "fuzz");
    g_assert_true(device_realize(dev, NULL));
    g_assert_true(mpqemu_link_start(link, NULL));

    fuzz_stream_play(&fs, sv[0], data + 1, size - 1);
    shutdown(sv[0], SHUT_WR);
    wait_closed(sv[0]);

    mpqemu_link_free(link);
    device_free(dev);
    close(sv[0]);
    fuzz_stream_reset(&fs);
    return 0;
}
