/*
 * Reading a fuzz input as a stream of little-endian fields; past its end
 * every byte reads as 0, so any input is a complete program.
 */
#ifndef TESTS_FUZZ_INPUT_H
#define TESTS_FUZZ_INPUT_H

#include "qemu-remote/osdep.h"

typedef struct Input {
    const uint8_t *p;
    size_t left;
} Input;

static inline uint8_t in8(Input *in)
{
    if (!in->left) {
        return 0;
    }
    in->left--;
    return *in->p++;
}

static inline uint16_t in16(Input *in)
{
    return in8(in) | (uint16_t)(in8(in) << 8);
}

static inline uint32_t in32(Input *in)
{
    return in16(in) | ((uint32_t)in16(in) << 16);
}

#endif
