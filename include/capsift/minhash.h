/* capsift: MinHash sketches, an LSH index over them, and exact Jaccard similarity.
 *
 * A set is an array of 64-bit feature hashes (for payloads: the hashes of their byte n-grams,
 * see sift_shingle_hashes). A sketch is k 32-bit values; the fraction of equal values between
 * two sketches estimates the Jaccard similarity |A n B| / |A u B| of their sets.
 *
 * Two schemes, chosen by measurement (docs/blocks-minhash.md):
 *   SIFT_MINHASH_OPH    one permutation hashing with fast densification (Mai et al. 2019):
 *                       one hash per feature, O(n + k log k). The default.
 *   SIFT_MINHASH_KHASH  k independent hash functions, O(n k); the textbook scheme.
 *
 * The LSH index cuts each sketch into `bands` bands of `rows` values (derived from a Jaccard
 * threshold: sift_lsh_derive) and makes two sets candidates when some band is equal in both.
 * Candidates are then checked with sift_jaccard on the sets themselves.
 *
 * Everything is deterministic for a seed, and results never depend on the number of threads.
 * Independent of captures: usable by any C program.
 */
#ifndef CAPSIFT_MINHASH_H
#define CAPSIFT_MINHASH_H

#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- features ---- */

/* Writes the hash of each byte n-gram of data (len - ngram + 1 of them; 0 when len < ngram)
 * into out, which must hold that many, and returns the count. Not sorted, not deduplicated.
 * ngram is 1..64; seed selects the hash (XXH3). Thread-safe. */
SIFT_API size_t sift_shingle_hashes(const void *data, size_t len, unsigned ngram, uint64_t seed,
                                    uint64_t *out);

/* Sorts v ascending and removes duplicates in place; returns the new length. Thread-safe. */
SIFT_API size_t sift_features_sort_unique(uint64_t *v, size_t n);

/* Exact Jaccard similarity of two sorted, duplicate-free arrays. Two empty sets have
 * similarity 0 (nothing in common to measure). Thread-safe. */
SIFT_API double sift_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);

/* ---- sketches ---- */

typedef enum sift_minhash_scheme {
    SIFT_MINHASH_OPH = 0,  /* one permutation hashing + densification (default) */
    SIFT_MINHASH_KHASH = 1 /* k independent hash functions */
} sift_minhash_scheme_t;

/* The value of every slot of the sketch of an empty set; never produced for a non-empty one. */
#define SIFT_MINHASH_EMPTY UINT32_MAX

typedef struct sift_minhash_opts {
    unsigned k;                   /* values per sketch, 8..4096, a multiple of 8; 0 means 128 */
    uint64_t seed;                /* selects the hash functions */
    sift_minhash_scheme_t scheme; /* default SIFT_MINHASH_OPH */
} sift_minhash_opts_t;

/* The hash functions of one (k, seed, scheme): immutable after creation, so any number of
 * threads may sketch with one object at once. */
typedef struct sift_minhash sift_minhash_t;

/* opts may be NULL (k 128, seed 0, OPH). SIFT_EINVAL for a bad k; SIFT_ENOMEM. */
SIFT_API int sift_minhash_create(sift_minhash_t **out, const sift_minhash_opts_t *opts);
SIFT_API void sift_minhash_free(sift_minhash_t *mh); /* NULL is fine */
SIFT_API unsigned sift_minhash_k(const sift_minhash_t *mh);

/* Sketches the set of n feature hashes (duplicates allowed, order irrelevant) into sig, which
 * holds k values. Thread-safe. */
SIFT_API void sift_minhash_sketch(const sift_minhash_t *mh, const uint64_t *features, size_t n,
                                  uint32_t *sig);

/* Sketches nsets sets at once on `threads` threads (0: all cores): set i is
 * features[offsets[i] .. offsets[i+1]) and its sketch goes to sigs + i * k. Same output for
 * any thread count. SIFT_ENOMEM / SIFT_EINTERNAL when threads cannot be started. */
SIFT_API int sift_minhash_sketch_many(const sift_minhash_t *mh, const uint64_t *features,
                                      const size_t *offsets, size_t nsets, uint32_t *sigs,
                                      unsigned threads);

/* The estimated Jaccard similarity of two sketches of k values: the fraction of equal slots
 * (0 when either is the sketch of an empty set). Thread-safe. */
SIFT_API double sift_minhash_similarity(const uint32_t *a, const uint32_t *b, unsigned k);

/* ---- LSH index ---- */

typedef struct sift_lsh_pair {
    uint32_t a, b; /* ids with a < b */
} sift_lsh_pair_t;

/* Chooses bands x rows <= k for a Jaccard threshold: the most rows (fewest false candidates)
 * for which a pair exactly at the threshold still becomes a candidate with probability at
 * least min_prob (1 - (1 - t^rows)^bands >= min_prob). Pairs above the threshold are found
 * more often still. SIFT_EINVAL when threshold or min_prob is not in (0, 1). */
SIFT_API int sift_lsh_derive(double threshold, unsigned k, double min_prob, unsigned *bands,
                             unsigned *rows);

/* The probability that a pair of similarity s becomes a candidate. */
SIFT_API double sift_lsh_probability(double s, unsigned bands, unsigned rows);

/* An index of sketches of k values. Add sketches (their ids are 0, 1, ... in order of adding),
 * call sift_lsh_build, then query. Adding after a build needs another build.
 * Thread safety: add and build need exclusive access; queries and pairs are const and may run
 * on many threads at once after a build. */
typedef struct sift_lsh sift_lsh_t;

/* bands * rows must be at most k. SIFT_EINVAL otherwise. */
SIFT_API int sift_lsh_create(sift_lsh_t **out, unsigned k, unsigned bands, unsigned rows);
SIFT_API void sift_lsh_free(sift_lsh_t *lsh); /* NULL is fine */

/* Adds a sketch (copied: only its band keys are kept) and writes its id into *id (may be
 * NULL). The sketch of an empty set is accepted but is never a candidate. */
SIFT_API int sift_lsh_add(sift_lsh_t *lsh, const uint32_t *sig, uint32_t *id);

/* Adds many sketches (sigs + i * k) on `threads` threads; ids follow on in order. */
SIFT_API int sift_lsh_add_many(sift_lsh_t *lsh, const uint32_t *sigs, size_t n, unsigned threads);

/* Sorts the bands for lookups, on `threads` threads (0: all cores). */
SIFT_API int sift_lsh_build(sift_lsh_t *lsh, unsigned threads);

SIFT_API size_t sift_lsh_size(const sift_lsh_t *lsh);
SIFT_API unsigned sift_lsh_bands(const sift_lsh_t *lsh);
SIFT_API unsigned sift_lsh_rows(const sift_lsh_t *lsh);
SIFT_API size_t sift_lsh_memory(const sift_lsh_t *lsh);

/* The ids sharing at least one band with sig, sorted ascending, without duplicates, in a new
 * array *ids (the caller frees it with free(); NULL when *n is 0). SIFT_EINVAL when the index
 * was changed since the last build. Thread-safe on a built index. */
SIFT_API int sift_lsh_query(const sift_lsh_t *lsh, const uint32_t *sig, uint32_t **ids, size_t *n);

/* Every candidate pair (a < b, sharing at least one band), each once, sorted by (a, b), in a
 * new array *pairs (freed by the caller with free(); NULL when *n is 0). Runs on `threads`
 * threads (0: all cores) with the same result for any number. SIFT_ELIMIT when there would be
 * more than max_pairs (0: no limit), SIFT_EINVAL when the index is not built. */
SIFT_API int sift_lsh_pairs(const sift_lsh_t *lsh, unsigned threads, size_t max_pairs,
                            sift_lsh_pair_t **pairs, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
