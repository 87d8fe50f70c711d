/* LSD radix sorts with 8-bit digits. A pass whose digit is the same for every element is
 * skipped, so keys with few significant bits (ids, packed pairs) cost few passes. */
#include "blocks/blk_sort.h"

#include <string.h>

void sift__radix_u64(uint64_t *v, uint64_t *tmp, size_t n, unsigned bits)
{
    uint64_t *src = v, *dst = tmp;
    if (n == 0)
        return;
    for (unsigned shift = 0; shift < bits; shift += 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i] >> shift) & 0xff]++;
        if (count[(src[0] >> shift) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}

void sift__radix_keyid(sift__keyid_t *v, sift__keyid_t *tmp, size_t n)
{
    sift__keyid_t *src = v, *dst = tmp;
    if (n == 0)
        return;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i].key >> shift) & 0xff]++;
        if (count[(src[0].key >> shift) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].key >> shift) & 0xff]++] = src[i];
        sift__keyid_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}
