/*
 * A fake guest for virtio unit tests (see virtio-fake-guest.h).
 */
#include "virtio-fake-guest.h"

#include <endian.h>
#include <sys/mman.h>

/* A guest that never completes fails the test instead of hanging it. */
#define WAIT_DEADLINE_US (10 * G_USEC_PER_SEC)

void fg_init(FakeGuest *g, bool split)
{
    DMARegionDesc r[2] = {
        { .gpa = FG_BASE, .size = FG_SIZE },
    };

    g->fd = memfd_create("fake-guest", MFD_CLOEXEC);
    g_assert_cmpint(g->fd, >=, 0);
    g_assert_cmpint(ftruncate(g->fd, FG_SIZE), ==, 0);
    g->mem = mmap(NULL, FG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd,
                  0);
    g_assert_true(g->mem != MAP_FAILED);
    g->dma = dma_space_new("fake-guest");
    r[0].fd = g->fd;
    if (split) {
        r[0].size = FG_SIZE / 2;
        r[1] = (DMARegionDesc) {
            .gpa = FG_BASE + FG_SIZE / 2, .size = FG_SIZE / 2, .fd = g->fd,
            .fd_offset = FG_SIZE / 2,
        };
    }
    g_assert_true(dma_space_set_table(g->dma, r, split ? 2 : 1, NULL));
    g->next = FG_BASE;
}

void fg_cleanup(FakeGuest *g)
{
    dma_space_free(g->dma);
    munmap(g->mem, FG_SIZE);
    close(g->fd);
}

uint64_t fg_alloc(FakeGuest *g, uint64_t size, uint64_t align)
{
    uint64_t a = QR_ALIGN_UP(g->next, align);

    g_assert_cmpuint(a + size, <=, FG_BASE + FG_SIZE);
    g->next = a + size;
    memset(fg_ptr(g, a), 0, size);
    return a;
}

void *fg_ptr(FakeGuest *g, uint64_t gpa)
{
    g_assert_cmpuint(gpa, >=, FG_BASE);
    g_assert_cmpuint(gpa, <, FG_BASE + FG_SIZE);
    return g->mem + (gpa - FG_BASE);
}

static void put16(FakeGuest *g, uint64_t gpa, uint16_t v)
{
    v = htole16(v);
    __atomic_store_n((uint16_t *)fg_ptr(g, gpa), v, __ATOMIC_RELEASE);
}

static uint16_t get16(FakeGuest *g, uint64_t gpa)
{
    return le16toh(__atomic_load_n((uint16_t *)fg_ptr(g, gpa),
                                   __ATOMIC_ACQUIRE));
}

static uint32_t get32(FakeGuest *g, uint64_t gpa)
{
    return le32toh(__atomic_load_n((uint32_t *)fg_ptr(g, gpa),
                                   __ATOMIC_ACQUIRE));
}

void fr_init(FakeRing *r, FakeGuest *g, uint16_t num)
{
    r->g = g;
    r->num = num;
    r->desc = fg_alloc(g, 16ull * num, 16);
    r->avail = fg_alloc(g, 6 + 2ull * num, 2);
    r->used = fg_alloc(g, 6 + 8ull * num, 4);
    r->avail_idx = 0;
}

void fr_desc_at(FakeRing *r, uint64_t table, uint16_t i, uint64_t addr,
                uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *p = fg_ptr(r->g, (table ? table : r->desc) + 16ull * i);
    uint64_t a = htole64(addr);
    uint32_t l = htole32(len);
    uint16_t f = htole16(flags), n = htole16(next);

    memcpy(p, &a, 8);
    memcpy(p + 8, &l, 4);
    memcpy(p + 12, &f, 2);
    memcpy(p + 14, &n, 2);
}

void fr_desc(FakeRing *r, uint16_t i, uint64_t addr, uint32_t len,
             uint16_t flags, uint16_t next)
{
    fr_desc_at(r, 0, i, addr, len, flags, next);
}

void fr_publish(FakeRing *r, uint16_t head)
{
    put16(r->g, r->avail + 4 + 2ull * (r->avail_idx % r->num), head);
    r->avail_idx++;
    put16(r->g, r->avail + 2, r->avail_idx);
}

void fr_set_avail_idx(FakeRing *r, uint16_t idx)
{
    r->avail_idx = idx;
    put16(r->g, r->avail + 2, idx);
}

void fr_set_avail_flags(FakeRing *r, uint16_t flags)
{
    put16(r->g, r->avail, flags);
}

void fr_set_used_event(FakeRing *r, uint16_t idx)
{
    put16(r->g, r->avail + 4 + 2ull * r->num, idx);
}

uint16_t fr_used_idx(FakeRing *r)
{
    return get16(r->g, r->used + 2);
}

uint16_t fr_used_flags(FakeRing *r)
{
    return get16(r->g, r->used);
}

uint16_t fr_avail_event(FakeRing *r)
{
    return get16(r->g, r->used + 4 + 8ull * r->num);
}

void fr_used_elem(FakeRing *r, uint16_t slot, uint32_t *id, uint32_t *len)
{
    uint64_t e = r->used + 4 + 8ull * (slot % r->num);

    *id = get32(r->g, e);
    *len = get32(r->g, e + 4);
}

bool fr_wait_used(FakeRing *r, uint16_t idx)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_DEADLINE_US;

    while (fr_used_idx(r) != idx) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}
