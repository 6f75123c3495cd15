/*
 * Common includes and small helpers every qemu-remote source file needs.
 * Include this first in every .c file.
 */
#ifndef QEMU_REMOTE_OSDEP_H
#define QEMU_REMOTE_OSDEP_H

#include "config-host.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib.h>

#ifndef container_of
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define QR_IS_POWER_OF_2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)
#define QR_ALIGN_UP(x, a)   (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define QR_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))

/*
 * range_fits:
 * True when [@offset, @offset + @len) lies inside [0, @limit), computed
 * without overflow.  Use it for every offset/length pair that a peer sent.
 */
static inline bool range_fits(uint64_t offset, uint64_t len, uint64_t limit)
{
    return offset <= limit && len <= limit - offset;
}

#endif
