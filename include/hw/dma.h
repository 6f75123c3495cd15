/*
 * DMA address spaces: the only way a device reaches guest memory.
 *
 * A transport installs the regions the VMM granted (mpqemu SYNC_SYSMEM,
 * vhost-user memory tables, vfio-user DMA_MAP) into a DMASpace; devices read
 * and write guest memory through it.  Every access is bounds-checked against
 * the granted regions; an access that is not wholly inside granted memory
 * fails and touches nothing.
 *
 * Concurrency: the region table is an immutable, reference-counted snapshot
 * (DMATable).  A transport may replace it at any time from its own thread;
 * a device that needs host pointers to stay valid across an operation (a
 * virtqueue request whose buffers are handed to io_uring) holds a reference
 * to the snapshot it translated with until the operation completes.  Regions
 * that did not change between two tables share one mapping, so re-sending an
 * identical table costs no mmap/munmap.  A mapping is released when the last
 * table that refers to it is released.
 */
#ifndef HW_DMA_H
#define HW_DMA_H

#include "qemu-remote/osdep.h"

#include <sys/uio.h>

typedef struct DMASpace DMASpace;
typedef struct DMATable DMATable;

/*
 * The most regions one table holds.  vhost-user's GET_MAX_MEM_SLOTS answer;
 * far above what any VMM sends (mpqemu: 8, QEMU vhost-user: ~3), and small
 * enough that a linear lookup stays cheap.
 */
#define DMA_MAX_REGIONS 32

/* One region a VMM grants: guest-physical range backed by @fd at @fd_offset. */
typedef struct DMARegionDesc {
    uint64_t gpa;       /* guest-physical address of the first byte */
    uint64_t size;      /* bytes; non-zero */
    uint64_t uaddr;     /* the VMM's virtual address (vhost-user), else 0 */
    uint64_t fd_offset; /* offset of the first byte inside @fd */
    int fd;             /* mapped MAP_SHARED; the caller keeps ownership */
} DMARegionDesc;

DMASpace *dma_space_new(const char *name);
/* Releases the space's reference to its current table. */
void dma_space_free(DMASpace *space);

/*
 * Replaces the whole region table with @regions (@n may be 0: no memory).
 * Fails, leaving the current table in place, when a region is empty, has an
 * address range that wraps, overlaps another region (by gpa, or by uaddr when
 * uaddrs are given), is not backed by its fd (fd_offset + size beyond the
 * file's size) or cannot be mapped.  Regions identical to one in the current
 * table (same file, offset, gpa, size and uaddr) keep their mapping.
 */
bool dma_space_set_table(DMASpace *space, const DMARegionDesc *regions,
                         unsigned n, GError **errp);

/* Adds one region (vhost-user ADD_MEM_REG); same checks as above. */
bool dma_space_add_region(DMASpace *space, const DMARegionDesc *region,
                          GError **errp);

/*
 * Removes the region matching @gpa, @size and @uaddr (vhost-user
 * REM_MEM_REG).  Fails if there is none.
 */
bool dma_space_remove_region(DMASpace *space, uint64_t gpa, uint64_t size,
                             uint64_t uaddr, GError **errp);

/*
 * Gates all access (PCI bus master enable).  While disabled the space
 * presents an empty table; snapshots taken before keep working.
 */
void dma_space_set_enabled(DMASpace *space, bool enabled);

/*
 * Dirty logging (vhost-user LOG_SHMFD): @log is a bitmap of @log_size bytes,
 * bit n = guest-physical page n (4 KiB pages), mapped from @fd at
 * @fd_offset.  While a log is set, writes through dma_table_write() and
 * dma_table_mark_dirty() set the bits of the pages they touch (atomic OR).
 * @fd < 0 removes the log.  The caller keeps ownership of @fd.
 */
#define DMA_LOG_PAGE_SIZE 4096
bool dma_space_set_log(DMASpace *space, int fd, uint64_t fd_offset,
                       uint64_t log_size, GError **errp);

/* Number of regions in the current table. */
unsigned dma_space_num_regions(DMASpace *space);

/* Takes a reference to the current table.  Never NULL. */
DMATable *dma_space_acquire(DMASpace *space);
DMATable *dma_table_ref(DMATable *table);
void dma_table_unref(DMATable *table);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DMATable, dma_table_unref)

/*
 * Host pointer for guest-physical [@gpa, @gpa + @len), which must lie inside
 * one region; NULL otherwise.  @len 0 is valid inside or at the end of a
 * region.  Valid while @table is referenced.
 */
void *dma_table_translate(DMATable *table, uint64_t gpa, uint64_t len);

/*
 * Host pointer for the VMM virtual range [@uaddr, @uaddr + @len) (vhost-user
 * ring addresses); NULL unless it lies inside one region granted with a
 * uaddr (regions with uaddr 0 never match).  If @gpa is not NULL it
 * receives the guest-physical address of @uaddr.
 */
void *dma_table_translate_uaddr(DMATable *table, uint64_t uaddr,
                                uint64_t len, uint64_t *gpa);

/*
 * Maps [@gpa, @gpa + @len) into at most @max_iov iovecs, splitting where the
 * range crosses from one region into the adjacent one.  Returns the number
 * of iovecs used, or -1 if any byte is outside granted memory or more than
 * @max_iov pieces would be needed.
 */
int dma_table_map_iov(DMATable *table, uint64_t gpa, uint64_t len,
                      struct iovec *iov, int max_iov);

/* Copy between guest memory and @buf; false (nothing copied) if any byte of
 * the range is outside granted memory.  Writes mark the dirty log. */
bool dma_table_read(DMATable *table, uint64_t gpa, void *buf, uint64_t len);
bool dma_table_write(DMATable *table, uint64_t gpa, const void *buf,
                     uint64_t len);

/* Marks guest-physical pages dirty in the log, if one is set.  Pages beyond
 * the log's end are ignored. */
void dma_table_mark_dirty(DMATable *table, uint64_t gpa, uint64_t len);

/* True while a dirty log is set in this snapshot. */
bool dma_table_logging(const DMATable *table);

/* One-shot helpers: acquire, copy, release.  Errors name the address. */
bool dma_read(DMASpace *space, uint64_t gpa, void *buf, uint64_t len,
              GError **errp);
bool dma_write(DMASpace *space, uint64_t gpa, const void *buf, uint64_t len,
               GError **errp);

#endif
