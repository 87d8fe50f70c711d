/* The per-offset view of a cluster: constant, varying, counter and length fields (see
 * capsift/cluster.h). */
#include "analyze/cluster_int.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* A w-byte number at o taking many values in a narrow range over the units: a counter. */
static bool counter_field(const sift_cluster_set_t *s, const uint32_t *ids, size_t n, uint32_t o,
                          unsigned w, bool little, uint32_t *distinct)
{
    if (n < 4)
        return false;
    uint64_t *v = malloc(n * sizeof *v);
    if (!v)
        return false;
    for (size_t i = 0; i < n; i++)
        v[i] = num_at(ubytes(s, ids[i]) + o, w, little);
    qsort(v, n, sizeof *v, cmp_u64);
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += i == 0 || v[i] != v[i - 1];
    bool yes = d >= 4 && d * 2 >= n && v[n - 1] - v[0] < 4 * (uint64_t)d;
    free(v);
    *distinct = (uint32_t)d;
    return yes;
}

int64_t sift_clustering_fields(const sift_clustering_t *c, size_t id, sift_cluster_field_t **out)
{
    *out = NULL;
    const sift_cluster_set_t *s = c->set;
    const uint32_t *ids;
    size_t n;
    sift_clustering_units(c, id, &ids, &n);
    n -= c->info[id].continuations; /* of its messages */
    uint32_t p = cluster_span(c, ids, n);
    sift_cluster_field_t *f = calloc(p ? p : 1, sizeof *f);
    if (!f)
        return SIFT_ENOMEM;
    static const struct {
        unsigned w;
        bool little;
    } forms[] = {{2, false}, {2, true}, {4, false}, {4, true}, {1, false}}; /* 2 bytes first */
    size_t nf = 0;
    for (uint32_t o = 0; o < p;) {
        sift_cluster_field_t x = {.offset = o, .width = 1};
        bool found = false;
        for (size_t k = 0; k < sizeof forms / sizeof forms[0] && !found; k++) {
            unsigned w = forms[k].w;
            if (o + w > p)
                continue;
            int64_t delta;
            uint32_t d = 0;
            /* a 4-byte big-endian length whose low half is one: the 2-byte field it is */
            bool narrower = w == 4 && !forms[k].little &&
                            sift__cluster_length_field(s, ids, n, o + 2, 2, false, 1.0, NULL);
            if (!narrower &&
                sift__cluster_length_field(s, ids, n, o, w, forms[k].little, 1.0, &delta)) {
                x = (sift_cluster_field_t){.offset = o,
                                           .width = (uint8_t)w,
                                           .kind = SIFT_FIELD_LENGTH,
                                           .little = forms[k].little,
                                           .delta = delta};
                found = true;
            } else if (w > 1 && counter_field(s, ids, n, o, w, forms[k].little, &d)) {
                x = (sift_cluster_field_t){.offset = o,
                                           .width = (uint8_t)w,
                                           .kind = SIFT_FIELD_COUNTER,
                                           .little = forms[k].little,
                                           .distinct = d};
                found = true;
            }
        }
        if (!found) {
            uint64_t seen[4] = {0};
            uint32_t d = 0;
            for (size_t i = 0; i < n; i++) {
                uint8_t b = ubytes(s, ids[i])[o];
                if (!(seen[b >> 6] >> (b & 63) & 1)) {
                    seen[b >> 6] |= 1ull << (b & 63);
                    d++;
                }
            }
            x.distinct = d;
            x.kind = d == 1 ? SIFT_FIELD_CONSTANT : SIFT_FIELD_VARYING;
            x.value = ubytes(s, ids[0])[o];
        }
        f[nf++] = x;
        o += x.width;
    }
    *out = f;
    return (int64_t)nf;
}
