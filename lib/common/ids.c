/* An index of record ids by hash (see sift__ids_t in common/internal.h). */
#include "common/internal.h"

#include <stdlib.h>

uint32_t sift__ids_find(const sift__ids_t *x, uint64_t h, bool (*eq)(const void *ctx, uint32_t id),
                        const void *ctx)
{
    if (!x->slot)
        return UINT32_MAX;
    for (size_t i = (size_t)h & x->mask; x->slot[i]; i = (i + 1) & x->mask)
        if (eq(ctx, x->slot[i] - 1))
            return x->slot[i] - 1;
    return UINT32_MAX;
}

static void place(uint32_t *slot, size_t mask, uint64_t h, uint32_t id)
{
    size_t i = (size_t)h & mask;
    while (slot[i])
        i = (i + 1) & mask;
    slot[i] = id + 1;
}

int sift__ids_add(sift__ids_t *x, uint64_t h, uint32_t id,
                  uint64_t (*hash)(const void *ctx, uint32_t id), const void *ctx)
{
    if (id >= UINT32_MAX - 1)
        return SIFT_ENOMEM;
    if (!x->slot || (x->n + 1) * 2 > x->mask + 1) { /* half full: twice the slots */
        size_t n = x->slot ? (x->mask + 1) * 2 : 64;
        uint32_t *slot = calloc(n, sizeof *slot);
        if (!slot)
            return SIFT_ENOMEM;
        for (size_t i = 0; x->slot && i <= x->mask; i++)
            if (x->slot[i])
                place(slot, n - 1, hash(ctx, x->slot[i] - 1), x->slot[i] - 1);
        free(x->slot);
        x->slot = slot;
        x->mask = n - 1;
    }
    place(x->slot, x->mask, h, id);
    x->n++;
    return 0;
}

void sift__ids_free(sift__ids_t *x)
{
    free(x->slot);
    *x = (sift__ids_t){0};
}

int sift__grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16, bytes;
    while (n < need)
        if (sift__mul_size(n, 2, &n) < 0)
            return SIFT_ENOMEM;
    if (sift__mul_size(n, elem, &bytes) < 0)
        return SIFT_ENOMEM;
    void *q = realloc(*p, bytes);
    if (!q)
        return SIFT_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}
