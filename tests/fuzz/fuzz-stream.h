/*
 * What the transport fuzz targets (mpqemu, vhost-user) share: a fuzz input
 * is a little program that a VMM could have run against the transport's
 * socket.  Each op starts with one byte whose low 3 bits say what it is:
 *
 *   0 SEND      u16 len, len bytes written to the socket, no fds
 *   1 SEND_RAM  u16 len, bytes, with ((op >> 3) & 7) + 1 fds of guest RAM
 *               (a memfd the harness owns, FUZZ_RAM_SIZE bytes, sparse)
 *   2 SEND_EFD  u16 len, bytes, with ((op >> 3) & 7) + 1 new eventfds
 *   3 SEND_SOCK u16 len, bytes, with one end of a new socketpair
 *   4 RAM_WRITE u32 offset, u16 len, bytes copied into guest RAM
 *   5 KICK      signals every eventfd sent so far (doorbells)
 *   6 SEND_PIPE u16 len, bytes, with the read end of a pipe (a wrong fd)
 *   7 SEND      as 0
 *
 * A length or offset past the end of the input is cut short; missing
 * bytes read as zero.  tests/fuzz/capture.py writes real sessions in this
 * format (the seed corpora); docs/devel/fuzzing.md describes both.
 */
#ifndef TESTS_FUZZ_STREAM_H
#define TESTS_FUZZ_STREAM_H

#include "qemu-remote/osdep.h"

/* Guest RAM: room for a real VMM's memory map (QEMU's 512 MiB region
 * below 4 GiB); only what the input writes is ever allocated. */
#define FUZZ_RAM_SIZE (1ull << 30)
/* Eventfds kept for KICK, per input. */
#define FUZZ_MAX_EVENTFDS 64

typedef struct FuzzStream {
    int ram_fd;
    int eventfds[FUZZ_MAX_EVENTFDS];
    unsigned n_eventfds;
    int peer_socks[FUZZ_MAX_EVENTFDS];  /* our ends of SEND_SOCK pairs */
    unsigned n_peer_socks;
    bool hung_up;                       /* the transport closed on us */
    /* Called after every op and whenever the socket is full: lets an
     * in-thread transport run (NULL: it runs in a thread of its own). */
    void (*pump)(void *opaque);
    void *pump_opaque;
} FuzzStream;

/* Creates guest RAM; once per process. */
void fuzz_stream_init(FuzzStream *fs);

/* Opens block node "disk0" on a memfd of @size bytes handed over as
 * /dev/fdset/1, as a launcher would: the disk of the target's device. */
void fuzz_stream_open_disk(uint64_t size);

/*
 * Runs the ops of @data against @sock (our end of the transport's
 * socket), draining replies whenever the socket is full, until the input
 * ends or the transport hangs up (later sends are skipped).
 */
void fuzz_stream_play(FuzzStream *fs, int sock, const uint8_t *data,
                      size_t size);

/* Reads and drops whatever the transport sent back on @sock. */
void fuzz_stream_drain(int sock);

/* After an input: closes the eventfds and sockets it created and zeroes
 * guest RAM. */
void fuzz_stream_reset(FuzzStream *fs);

#endif
