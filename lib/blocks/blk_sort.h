/* Sorting helpers of the building blocks: LSD radix sorts on 64-bit keys. Not installed. */
#ifndef SIFT_BLOCKS_SORT_H
#define SIFT_BLOCKS_SORT_H

#include <stddef.h>
#include <stdint.h>

/* A 64-bit key with a 32-bit payload (an id). */
typedef struct sift__keyid {
    uint64_t key;
    uint32_t id;
} sift__keyid_t;

/* Sorts v[0..n) ascending on its low `bits` bits (the others must be 0), using tmp[0..n) as
 * scratch. Stable. */
void sift__radix_u64(uint64_t *v, uint64_t *tmp, size_t n, unsigned bits);

/* Sorts by key, stable (equal keys keep their order), using tmp as scratch. */
void sift__radix_keyid(sift__keyid_t *v, sift__keyid_t *tmp, size_t n);

/* The number of significant bits of x (0 for 0). */
static inline unsigned sift__bits(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

#endif
