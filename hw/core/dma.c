/*
 * DMA address spaces (see include/hw/dma.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "hw/dma.h"

#include <sys/mman.h>
#include <sys/stat.h>

/* One mmap of a granted region, shared by every table that contains it. */
typedef struct DMAMapping {
    gint refcnt;
    uint64_t gpa;
    uint64_t size;
    uint64_t uaddr;
    uint64_t fd_offset;
    dev_t dev;          /* identity of the backing file, to recognise an */
    ino_t ino;          /* unchanged region re-sent with a new fd number  */
    void *map_base;
    size_t map_len;
    uint8_t *host;      /* host address of gpa */
} DMAMapping;

typedef struct DMALog {
    gint refcnt;
    void *map_base;
    size_t map_len;
    uint8_t *bitmap;
    uint64_t size;      /* bytes of bitmap */
} DMALog;

struct DMATable {
    gint refcnt;
    unsigned n;
    DMALog *log;
    DMAMapping *r[DMA_MAX_REGIONS];  /* sorted by gpa */
};

struct DMASpace {
    char *name;
    GMutex lock;        /* protects the two pointers below */
    DMATable *current;  /* what the VMM granted */
    bool enabled;
};

static DMAMapping *mapping_ref(DMAMapping *m)
{
    g_atomic_int_inc(&m->refcnt);
    return m;
}

static void mapping_unref(DMAMapping *m)
{
    if (g_atomic_int_dec_and_test(&m->refcnt)) {
        qr_log_mask(LOG_DMA, "dma: unmap gpa=0x%" PRIx64 " size=0x%" PRIx64,
                    m->gpa, m->size);
        munmap(m->map_base, m->map_len);
        g_free(m);
    }
}

static DMALog *log_ref(DMALog *log)
{
    if (log) {
        g_atomic_int_inc(&log->refcnt);
    }
    return log;
}

static void log_unref(DMALog *log)
{
    if (log && g_atomic_int_dec_and_test(&log->refcnt)) {
        munmap(log->map_base, log->map_len);
        g_free(log);
    }
}

static DMATable *table_new(void)
{
    DMATable *t = g_new0(DMATable, 1);

    t->refcnt = 1;
    return t;
}

DMATable *dma_table_ref(DMATable *t)
{
    g_atomic_int_inc(&t->refcnt);
    return t;
}

void dma_table_unref(DMATable *t)
{
    if (t && g_atomic_int_dec_and_test(&t->refcnt)) {
        for (unsigned i = 0; i < t->n; i++) {
            mapping_unref(t->r[i]);
        }
        log_unref(t->log);
        g_free(t);
    }
}

/* The table presented while bus mastering is off: no regions. */
static DMATable *empty_table(void)
{
    static DMATable empty = { .refcnt = 1 };

    return dma_table_ref(&empty);
}

DMASpace *dma_space_new(const char *name)
{
    DMASpace *s = g_new0(DMASpace, 1);

    s->name = g_strdup(name);
    g_mutex_init(&s->lock);
    s->current = table_new();
    s->enabled = true;
    return s;
}

void dma_space_free(DMASpace *s)
{
    if (!s) {
        return;
    }
    dma_table_unref(s->current);
    g_mutex_clear(&s->lock);
    g_free(s->name);
    g_free(s);
}

DMATable *dma_space_acquire(DMASpace *s)
{
    DMATable *t;

    g_mutex_lock(&s->lock);
    t = s->enabled ? dma_table_ref(s->current) : empty_table();
    g_mutex_unlock(&s->lock);
    return t;
}

void dma_space_set_enabled(DMASpace *s, bool enabled)
{
    g_mutex_lock(&s->lock);
    s->enabled = enabled;
    g_mutex_unlock(&s->lock);
}

unsigned dma_space_num_regions(DMASpace *s)
{
    unsigned n;

    g_mutex_lock(&s->lock);
    n = s->current->n;
    g_mutex_unlock(&s->lock);
    return n;
}

/* The granted table, whether or not access is enabled. */
static DMATable *dma_space_acquire_granted(DMASpace *s)
{
    DMATable *t;

    g_mutex_lock(&s->lock);
    t = dma_table_ref(s->current);
    g_mutex_unlock(&s->lock);
    return t;
}

/* Installs @t as the current table, consuming the caller's reference. */
static void space_install(DMASpace *s, DMATable *t)
{
    DMATable *old;

    g_mutex_lock(&s->lock);
    old = s->current;
    s->current = t;
    g_mutex_unlock(&s->lock);
    dma_table_unref(old);
}

static bool same_region(const DMAMapping *m, const DMARegionDesc *d,
                        const struct stat *st)
{
    return m->gpa == d->gpa && m->size == d->size && m->uaddr == d->uaddr &&
           m->fd_offset == d->fd_offset && m->dev == st->st_dev &&
           m->ino == st->st_ino;
}

static bool region_check(const DMARegionDesc *d, const struct stat *st,
                         GError **errp)
{
    if (d->size == 0) {
        error_setg(errp, "region at 0x%" PRIx64 " is empty", d->gpa);
        return false;
    }
    if (d->gpa + d->size < d->gpa || d->uaddr + d->size < d->uaddr) {
        error_setg(errp, "region at 0x%" PRIx64 " size 0x%" PRIx64
                   " wraps around", d->gpa, d->size);
        return false;
    }
    if (!S_ISREG(st->st_mode)) {
        error_setg(errp, "region at 0x%" PRIx64 " is not backed by a "
                   "memory file", d->gpa);
        return false;
    }
    /* Mapping past the end of the file would fault (SIGBUS) on access. */
    if (!range_fits(d->fd_offset, d->size, (uint64_t)st->st_size)) {
        error_setg(errp, "region at 0x%" PRIx64 " (offset 0x%" PRIx64
                   " size 0x%" PRIx64 ") extends beyond its backing file "
                   "(size 0x%" PRIx64 ")", d->gpa, d->fd_offset, d->size,
                   (uint64_t)st->st_size);
        return false;
    }
    if (d->size > SIZE_MAX / 2) {
        error_setg(errp, "region at 0x%" PRIx64 " is too large", d->gpa);
        return false;
    }
    return true;
}

static DMAMapping *mapping_new(const DMARegionDesc *d, const struct stat *st,
                               GError **errp)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t map_off = QR_ALIGN_DOWN(d->fd_offset, page);
    uint64_t delta = d->fd_offset - map_off;
    DMAMapping *m;
    void *base;

    base = mmap(NULL, d->size + delta, PROT_READ | PROT_WRITE, MAP_SHARED,
                d->fd, (off_t)map_off);
    if (base == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot map region at 0x%" PRIx64,
                         d->gpa);
        return NULL;
    }
    m = g_new0(DMAMapping, 1);
    m->refcnt = 1;
    m->gpa = d->gpa;
    m->size = d->size;
    m->uaddr = d->uaddr;
    m->fd_offset = d->fd_offset;
    m->dev = st->st_dev;
    m->ino = st->st_ino;
    m->map_base = base;
    m->map_len = d->size + delta;
    m->host = (uint8_t *)base + delta;
    qr_log_mask(LOG_DMA, "dma: map gpa=0x%" PRIx64 " size=0x%" PRIx64
                " offset=0x%" PRIx64, d->gpa, d->size, d->fd_offset);
    return m;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
                           uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Fails if two regions of @t overlap in gpa, or in uaddr where given. */
static bool table_check_overlaps(const DMATable *t, GError **errp)
{
    for (unsigned i = 0; i < t->n; i++) {
        for (unsigned j = i + 1; j < t->n; j++) {
            const DMAMapping *a = t->r[i], *b = t->r[j];
            bool uaddrs = a->uaddr || b->uaddr;

            if (ranges_overlap(a->gpa, a->size, b->gpa, b->size) ||
                (uaddrs && ranges_overlap(a->uaddr, a->size, b->uaddr,
                                          b->size))) {
                error_setg(errp, "regions at 0x%" PRIx64 " and 0x%" PRIx64
                           " overlap", a->gpa, b->gpa);
                return false;
            }
        }
    }
    return true;
}

static gint mapping_cmp(gconstpointer a, gconstpointer b)
{
    const DMAMapping *ma = *(DMAMapping *const *)a;
    const DMAMapping *mb = *(DMAMapping *const *)b;

    return ma->gpa < mb->gpa ? -1 : ma->gpa > mb->gpa;
}

/* Returns a mapping for @d: shared from @old when unchanged, else new. */
static DMAMapping *mapping_for(const DMATable *old, const DMARegionDesc *d,
                               GError **errp)
{
    struct stat st;

    if (fstat(d->fd, &st) < 0) {
        error_setg_errno(errp, errno, "region at 0x%" PRIx64 ": bad fd",
                         d->gpa);
        return NULL;
    }
    if (!region_check(d, &st, errp)) {
        return NULL;
    }
    for (unsigned i = 0; i < old->n; i++) {
        if (same_region(old->r[i], d, &st)) {
            return mapping_ref(old->r[i]);
        }
    }
    return mapping_new(d, &st, errp);
}

/*
 * Builds a table from @keep (already referenced) plus @regions and installs
 * it.  Table changes come from one thread per space (its transport's).
 */
static bool space_rebuild(DMASpace *s, DMAMapping **keep, unsigned nkeep,
                          const DMARegionDesc *regions, unsigned n,
                          GError **errp)
{
    g_autoptr(DMATable) old = dma_space_acquire_granted(s);
    DMATable *t;

    if (nkeep + n > DMA_MAX_REGIONS) {
        for (unsigned i = 0; i < nkeep; i++) {
            mapping_unref(keep[i]);
        }
        error_setg(errp, "too many memory regions (%u, at most %d)",
                   nkeep + n, DMA_MAX_REGIONS);
        return false;
    }

    t = table_new();
    t->log = log_ref(old->log);
    for (unsigned i = 0; i < nkeep; i++) {
        t->r[t->n++] = keep[i];
    }
    for (unsigned i = 0; i < n; i++) {
        DMAMapping *m = mapping_for(old, &regions[i], errp);

        if (!m) {
            dma_table_unref(t);
            return false;
        }
        t->r[t->n++] = m;
    }
    qsort(t->r, t->n, sizeof(t->r[0]),
          (int (*)(const void *, const void *))mapping_cmp);
    if (!table_check_overlaps(t, errp)) {
        dma_table_unref(t);
        return false;
    }
    space_install(s, t);
    return true;
}

bool dma_space_set_table(DMASpace *s, const DMARegionDesc *regions,
                         unsigned n, GError **errp)
{
    return space_rebuild(s, NULL, 0, regions, n, errp);
}

bool dma_space_add_region(DMASpace *s, const DMARegionDesc *region,
                          GError **errp)
{
    g_autoptr(DMATable) old = dma_space_acquire_granted(s);
    DMAMapping *keep[DMA_MAX_REGIONS];

    for (unsigned i = 0; i < old->n; i++) {
        keep[i] = mapping_ref(old->r[i]);
    }
    return space_rebuild(s, keep, old->n, region, 1, errp);
}

bool dma_space_remove_region(DMASpace *s, uint64_t gpa, uint64_t size,
                             uint64_t uaddr, GError **errp)
{
    g_autoptr(DMATable) old = dma_space_acquire_granted(s);
    DMAMapping *keep[DMA_MAX_REGIONS];
    unsigned nkeep = 0;
    bool found = false;

    for (unsigned i = 0; i < old->n; i++) {
        DMAMapping *m = old->r[i];

        if (!found && m->gpa == gpa && m->size == size && m->uaddr == uaddr) {
            found = true;
            continue;
        }
        keep[nkeep++] = mapping_ref(m);
    }
    if (!found) {
        for (unsigned i = 0; i < nkeep; i++) {
            mapping_unref(keep[i]);
        }
        error_setg(errp, "no region at 0x%" PRIx64 " size 0x%" PRIx64, gpa,
                   size);
        return false;
    }
    return space_rebuild(s, keep, nkeep, NULL, 0, errp);
}

bool dma_space_set_log(DMASpace *s, int fd, uint64_t fd_offset,
                       uint64_t log_size, GError **errp)
{
    g_autoptr(DMATable) old = dma_space_acquire_granted(s);
    DMALog *log = NULL;
    DMATable *t;

    if (fd >= 0) {
        uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        uint64_t map_off = QR_ALIGN_DOWN(fd_offset, page);
        uint64_t delta = fd_offset - map_off;
        struct stat st;
        void *base;

        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            error_setg(errp, "dirty log fd is not a memory file");
            return false;
        }
        if (log_size == 0 ||
            !range_fits(fd_offset, log_size, (uint64_t)st.st_size)) {
            error_setg(errp, "dirty log (offset 0x%" PRIx64 " size 0x%"
                       PRIx64 ") does not fit its file (size 0x%" PRIx64 ")",
                       fd_offset, log_size, (uint64_t)st.st_size);
            return false;
        }
        base = mmap(NULL, log_size + delta, PROT_READ | PROT_WRITE,
                    MAP_SHARED, fd, (off_t)map_off);
        if (base == MAP_FAILED) {
            error_setg_errno(errp, errno, "cannot map dirty log");
            return false;
        }
        log = g_new0(DMALog, 1);
        log->refcnt = 1;
        log->map_base = base;
        log->map_len = log_size + delta;
        log->bitmap = (uint8_t *)base + delta;
        log->size = log_size;
    }

    t = table_new();
    for (unsigned i = 0; i < old->n; i++) {
        t->r[t->n++] = mapping_ref(old->r[i]);
    }
    t->log = log;
    space_install(s, t);
    return true;
}

static const DMAMapping *find_gpa(const DMATable *t, uint64_t gpa)
{
    for (unsigned i = 0; i < t->n; i++) {
        const DMAMapping *m = t->r[i];

        if (gpa >= m->gpa && gpa - m->gpa < m->size) {
            return m;
        }
    }
    return NULL;
}

void *dma_table_translate(DMATable *t, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < t->n; i++) {
        const DMAMapping *m = t->r[i];

        if (gpa >= m->gpa && range_fits(gpa - m->gpa, len, m->size)) {
            return m->host + (gpa - m->gpa);
        }
    }
    return NULL;
}

void *dma_table_translate_uaddr(DMATable *t, uint64_t uaddr, uint64_t len,
                                uint64_t *gpa)
{
    for (unsigned i = 0; i < t->n; i++) {
        const DMAMapping *m = t->r[i];

        /* uaddr 0: granted without a VMM address (mpqemu, vfio-user). */
        if (m->uaddr && uaddr >= m->uaddr &&
            range_fits(uaddr - m->uaddr, len, m->size)) {
            if (gpa) {
                *gpa = m->gpa + (uaddr - m->uaddr);
            }
            return m->host + (uaddr - m->uaddr);
        }
    }
    return NULL;
}

int dma_table_map_iov(DMATable *t, uint64_t gpa, uint64_t len,
                      struct iovec *iov, int max_iov)
{
    int n = 0;

    if (gpa + len < gpa) {
        return -1;
    }
    while (len > 0) {
        const DMAMapping *m = find_gpa(t, gpa);
        uint64_t chunk;

        if (!m || n == max_iov) {
            return -1;
        }
        chunk = MIN(len, m->size - (gpa - m->gpa));
        iov[n].iov_base = m->host + (gpa - m->gpa);
        iov[n].iov_len = chunk;
        n++;
        gpa += chunk;
        len -= chunk;
    }
    return n;
}

/* Copies [@gpa, @gpa + @len) to or from @buf after checking that all of it
 * is granted; false, copying nothing, if not. */
static bool table_copy(DMATable *t, uint64_t gpa, uint8_t *buf, uint64_t len,
                       bool to_guest)
{
    uint64_t addr = gpa, left = len;

    if (gpa + len < gpa) {
        return false;
    }
    /* Check the whole range first so a failed access copies nothing. */
    while (left > 0) {
        const DMAMapping *m = find_gpa(t, addr);
        uint64_t chunk;

        if (!m) {
            return false;
        }
        chunk = MIN(left, m->size - (addr - m->gpa));
        addr += chunk;
        left -= chunk;
    }
    addr = gpa;
    left = len;
    while (left > 0) {
        const DMAMapping *m = find_gpa(t, addr);
        uint64_t chunk = MIN(left, m->size - (addr - m->gpa));
        uint8_t *host = m->host + (addr - m->gpa);

        if (to_guest) {
            memcpy(host, buf, chunk);
        } else {
            memcpy(buf, host, chunk);
        }
        buf += chunk;
        addr += chunk;
        left -= chunk;
    }
    return true;
}

bool dma_table_read(DMATable *t, uint64_t gpa, void *buf, uint64_t len)
{
    return table_copy(t, gpa, buf, len, false);
}

bool dma_table_write(DMATable *t, uint64_t gpa, const void *buf, uint64_t len)
{
    if (!table_copy(t, gpa, (uint8_t *)buf, len, true)) {
        return false;
    }
    dma_table_mark_dirty(t, gpa, len);
    return true;
}

void dma_table_mark_dirty(DMATable *t, uint64_t gpa, uint64_t len)
{
    DMALog *log = t->log;
    uint64_t first, last;

    if (!log || len == 0) {
        return;
    }
    first = gpa / DMA_LOG_PAGE_SIZE;
    last = (gpa + len - 1 < gpa ? UINT64_MAX : gpa + len - 1) /
           DMA_LOG_PAGE_SIZE;
    for (uint64_t page = first; page <= last; page++) {
        uint64_t byte = page / 8;

        if (byte >= log->size) {
            break;
        }
        /* The VMM clears bits concurrently while it syncs the log. */
        __atomic_fetch_or(&log->bitmap[byte], (uint8_t)(1u << (page % 8)),
                          __ATOMIC_RELAXED);
    }
}

bool dma_table_logging(const DMATable *t)
{
    return t->log != NULL;
}

bool dma_read(DMASpace *s, uint64_t gpa, void *buf, uint64_t len,
              GError **errp)
{
    g_autoptr(DMATable) t = dma_space_acquire(s);

    if (!dma_table_read(t, gpa, buf, len)) {
        error_setg(errp, "DMA read of 0x%" PRIx64 " bytes at 0x%" PRIx64
                   " is outside guest memory", len, gpa);
        return false;
    }
    return true;
}

bool dma_write(DMASpace *s, uint64_t gpa, const void *buf, uint64_t len,
               GError **errp)
{
    g_autoptr(DMATable) t = dma_space_acquire(s);

    if (!dma_table_write(t, gpa, buf, len)) {
        error_setg(errp, "DMA write of 0x%" PRIx64 " bytes at 0x%" PRIx64
                   " is outside guest memory", len, gpa);
        return false;
    }
    return true;
}
