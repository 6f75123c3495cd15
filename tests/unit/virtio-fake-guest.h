/*
 * A fake guest for virtio unit tests: guest RAM in a memfd granted to a
 * DMASpace, and a driver's view of one split ring in it.  The tests write
 * descriptors and ring entries as a driver would and read what the device
 * wrote back.
 */
#ifndef TESTS_UNIT_VIRTIO_FAKE_GUEST_H
#define TESTS_UNIT_VIRTIO_FAKE_GUEST_H

#include "qemu-remote/osdep.h"
#include "hw/dma.h"

/* Guest RAM starts at 1 MiB, so guest-physical 0 is not memory. */
#define FG_BASE     0x100000ull
#define FG_SIZE     (4ull << 20)

typedef struct FakeGuest {
    int fd;
    uint8_t *mem;
    DMASpace *dma;
    uint64_t next;              /* allocator: next free gpa */
} FakeGuest;

/*
 * Maps FG_SIZE bytes of RAM at FG_BASE; with @split, as two adjacent
 * regions of half the size each, so a buffer crossing the middle maps to
 * two iovecs.
 */
void fg_init(FakeGuest *g, bool split);
void fg_cleanup(FakeGuest *g);
/* Allocates @size bytes aligned to @align (zeroed). */
uint64_t fg_alloc(FakeGuest *g, uint64_t size, uint64_t align);
/* Host pointer of guest address @gpa (inside RAM). */
void *fg_ptr(FakeGuest *g, uint64_t gpa);

typedef struct FakeRing {
    FakeGuest *g;
    uint16_t num;
    uint64_t desc, avail, used;
    uint16_t avail_idx;         /* the driver's next avail index */
} FakeRing;

/* Allocates a ring of @num entries (room for the event-index fields). */
void fr_init(FakeRing *r, FakeGuest *g, uint16_t num);
/* Writes descriptor @i of the table at @table (0: the ring's own). */
void fr_desc_at(FakeRing *r, uint64_t table, uint16_t i, uint64_t addr,
                uint32_t len, uint16_t flags, uint16_t next);
void fr_desc(FakeRing *r, uint16_t i, uint64_t addr, uint32_t len,
             uint16_t flags, uint16_t next);
/* Puts @head in the avail ring and advances avail->idx. */
void fr_publish(FakeRing *r, uint16_t head);
/* Sets avail->idx without adding entries. */
void fr_set_avail_idx(FakeRing *r, uint16_t idx);
void fr_set_avail_flags(FakeRing *r, uint16_t flags);
void fr_set_used_event(FakeRing *r, uint16_t idx);
uint16_t fr_used_idx(FakeRing *r);
uint16_t fr_used_flags(FakeRing *r);
uint16_t fr_avail_event(FakeRing *r);
void fr_used_elem(FakeRing *r, uint16_t slot, uint32_t *id, uint32_t *len);

/* Polls until used->idx reaches @idx; false after a 10 s deadline. */
bool fr_wait_used(FakeRing *r, uint16_t idx);

#endif
