/*
 * Register files of virtio-pci (modern common config, legacy header) as
 * tables of fields, so that any access width at any offset is served
 * field by field: a read assembles the bytes of each overlapped field, a
 * write that covers part of a field merges into its current value.  Drivers
 * use natural widths; this keeps odd widths harmless.
 */
#ifndef HW_VIRTIO_PCI_REGS_H
#define HW_VIRTIO_PCI_REGS_H

#include "qemu-remote/osdep.h"

typedef struct RegField {
    uint8_t off;
    uint8_t size;
} RegField;

typedef uint64_t (*RegGet)(void *opaque, unsigned field_off);
typedef void (*RegSet)(void *opaque, unsigned field_off, uint64_t value);

/* Bytes of [@off, @off + @size) not in any field read as 0. */
static inline uint64_t regs_read(const RegField *f, unsigned nf,
                                 uint64_t off, unsigned size, RegGet get,
                                 void *opaque)
{
    uint64_t val = 0;

    for (unsigned i = 0; i < nf; i++) {
        uint64_t lo = MAX(off, (uint64_t)f[i].off);
        uint64_t hi = MIN(off + size, (uint64_t)f[i].off + f[i].size);
        uint64_t fv;

        if (lo >= hi) {
            continue;
        }
        fv = get(opaque, f[i].off);
        for (uint64_t b = lo; b < hi; b++) {
            val |= ((fv >> (8 * (b - f[i].off))) & 0xff) << (8 * (b - off));
        }
    }
    return val;
}

/* Writes to bytes outside every field are ignored. */
static inline void regs_write(const RegField *f, unsigned nf, uint64_t off,
                              unsigned size, uint64_t val, RegGet get,
                              RegSet set, void *opaque)
{
    for (unsigned i = 0; i < nf; i++) {
        uint64_t lo = MAX(off, (uint64_t)f[i].off);
        uint64_t hi = MIN(off + size, (uint64_t)f[i].off + f[i].size);
        uint64_t fv;

        if (lo >= hi) {
            continue;
        }
        /* A partial write keeps the field's other bytes. */
        fv = (hi - lo == f[i].size) ? 0 : get(opaque, f[i].off);
        for (uint64_t b = lo; b < hi; b++) {
            unsigned shift = 8 * (unsigned)(b - f[i].off);

            fv &= ~(0xffull << shift);
            fv |= ((val >> (8 * (b - off))) & 0xff) << shift;
        }
        set(opaque, f[i].off, fv);
    }
}

#endif
