/* The parts of the "lsh" bench entry that the tests and experiments reuse: payload-like sets,
 * the exact join, the MinHash + LSH join and recall. Not installed. */
#ifndef SIFT_BENCH_LSH_H
#define SIFT_BENCH_LSH_H

#include "bn_suite.h"

#include <capsift/minhash.h>

/* Sets of sorted, duplicate-free feature hashes: set i is feat[off[i] .. off[i + 1]). */
typedef struct sift__lsh_sets {
    uint64_t *feat;
    size_t *off;
    size_t n;
} sift__lsh_sets_t;

typedef struct sift__lsh_config {
    double threshold;
    unsigned k, bands, rows;
    sift_minhash_scheme_t scheme;
    uint64_t seed;
    unsigned threads;
} sift__lsh_config_t;

typedef struct sift__lsh_figures {
    double sketch_s, index_s, pairs_s, verify_s, total_s;
    size_t candidates, found, memory_bytes;
} sift__lsh_figures_t;

/* The byte 4-gram sets of the payloads, then of seeded sub-windows of them, nsets in all. */
int sift__lsh_sets_make(const sift__bench_data_t *d, size_t nsets, uint64_t seed,
                        sift__lsh_sets_t *s);
void sift__lsh_sets_release(sift__lsh_sets_t *s);

/* Every pair with Jaccard >= t, packed a << 32 | b (a < b), sorted; freed with free(). */
int sift__lsh_exact_pairs(const sift__lsh_sets_t *s, double t, uint64_t **pairs, size_t *npairs);

/* The MinHash + LSH join: verified pairs >= c->threshold, packed and sorted like the above. */
int sift__lsh_join(const sift__lsh_sets_t *s, const sift__lsh_config_t *c, uint64_t **pairs,
                   size_t *npairs, sift__lsh_figures_t *fig);

/* Recall of found against exact (both sorted); SIFT_EINTERNAL when found holds a pair that is
 * not exact. */
int sift__lsh_recall(const uint64_t *found, size_t nfound, const uint64_t *exact, size_t nexact,
                     double *recall);

/* Threshold 0.7, k 128, OPH, bands and rows derived, 1 thread. */
void sift__lsh_default_config(sift__lsh_config_t *c);

#endif
