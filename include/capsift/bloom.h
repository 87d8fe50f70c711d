/* capsift: a blocked Bloom filter.
 *
 * A split-block Bloom filter (the layout of Apache Parquet's and Impala's filters): the bit
 * array is cut into 256-bit blocks of eight 32-bit words, a key picks one block from the high
 * half of its 64-bit hash and sets one bit in each of the eight words from the low half. A
 * lookup therefore touches one 32-byte block, which never straddles a cache line (blocks are
 * 64-byte aligned in pairs), and costs one cache miss at most.
 *
 * The size comes from the expected number of keys and the target false-positive rate, using
 * the exact false-positive rate of this layout (a Poisson mix of block loads), so the measured
 * rate at the expected number of keys stays close to the target. Adding more keys than
 * expected still works; the rate then rises.
 *
 * Keys are byte strings hashed with XXH3 (seeded), or 64-bit hashes the caller already has
 * (they must be well mixed: XXH3 or similar, not raw integers).
 *
 * Independent of captures: usable by any C program.
 *
 * Thread safety: adds need exclusive access; any number of threads may call the const
 * functions (contains, serialize, ...) at once while nobody adds.
 */
#ifndef CAPSIFT_BLOOM_H
#define CAPSIFT_BLOOM_H

#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_bloom sift_bloom_t;

/* Bytes in one block: a lookup touches this much memory. */
#define SIFT_BLOOM_BLOCK_BYTES 32

/* Creates an empty filter for `expected_keys` keys (at least 1 is assumed) at a false-positive
 * rate of `fp_rate` (0 < fp_rate < 1), hashing byte keys with `seed`. Returns 0, SIFT_EINVAL
 * for a rate out of range or SIFT_ENOMEM. On failure *out is NULL. */
SIFT_API int sift_bloom_create(sift_bloom_t **out, uint64_t expected_keys, double fp_rate,
                               uint64_t seed);

/* NULL is fine. */
SIFT_API void sift_bloom_free(sift_bloom_t *f);

/* The 64-bit hash this filter uses for a byte key (XXH3 with the filter's seed). */
SIFT_API uint64_t sift_bloom_hash(const sift_bloom_t *f, const void *key, size_t len);

SIFT_API void sift_bloom_add(sift_bloom_t *f, const void *key, size_t len);
SIFT_API bool sift_bloom_contains(const sift_bloom_t *f, const void *key, size_t len);

/* The same on a hash the caller already has (from sift_bloom_hash or any well-mixed 64-bit
 * hash used consistently for adds and lookups). */
SIFT_API void sift_bloom_add_hash(sift_bloom_t *f, uint64_t hash);
SIFT_API bool sift_bloom_contains_hash(const sift_bloom_t *f, uint64_t hash);

/* Looks up n hashes at once, prefetching blocks ahead, and writes 1 (maybe present) or 0
 * (absent) into out[i]. Returns the number of 1s. Faster than n single calls when the filter
 * does not fit in cache. */
SIFT_API size_t sift_bloom_contains_many(const sift_bloom_t *f, const uint64_t *hashes, size_t n,
                                         uint8_t *out);

/* ORs `from` into `into`: afterwards `into` holds the keys of both. Both must have the same
 * shape (blocks and seed, i.e. created with the same arguments); otherwise SIFT_EINVAL and
 * `into` is unchanged. */
SIFT_API int sift_bloom_merge(sift_bloom_t *into, const sift_bloom_t *from);

/* Removes every key. */
SIFT_API void sift_bloom_clear(sift_bloom_t *f);

/* What the filter is. */
SIFT_API uint64_t sift_bloom_nblocks(const sift_bloom_t *f);
SIFT_API size_t sift_bloom_memory(const sift_bloom_t *f); /* bytes of the bit array */
SIFT_API uint64_t sift_bloom_seed(const sift_bloom_t *f);
SIFT_API uint64_t sift_bloom_expected_keys(const sift_bloom_t *f);
SIFT_API double sift_bloom_target_fp(const sift_bloom_t *f);
/* Adds made so far (duplicates count; after a merge, the sum of both). */
SIFT_API uint64_t sift_bloom_count(const sift_bloom_t *f);
/* The false-positive rate this layout gives for `nkeys` distinct keys (a model, not a
 * measurement). */
SIFT_API double sift_bloom_model_fp(const sift_bloom_t *f, uint64_t nkeys);

/* Serialisation: a 48-byte little-endian header ("SIFTBLM1", version u32, add count u32
 * saturated, seed u64, blocks u64, expected keys u64, target rate as IEEE-754 u64) followed by
 * the blocks as little-endian 32-bit words. The format is the same on every platform. */
SIFT_API size_t sift_bloom_serialized_size(const sift_bloom_t *f);
/* Writes sift_bloom_serialized_size(f) bytes into buf; SIFT_EINVAL when size is smaller. */
SIFT_API int sift_bloom_serialize(const sift_bloom_t *f, void *buf, size_t size);
/* Creates a filter from serialised bytes (copied; buf may be freed afterwards). Returns 0,
 * SIFT_EFORMAT when it is not a serialised filter of this version, SIFT_ETRUNC when the length
 * does not match the header, SIFT_ECORRUPT when the header is inconsistent, or SIFT_ENOMEM. */
SIFT_API int sift_bloom_load(sift_bloom_t **out, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
