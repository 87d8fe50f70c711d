/* The blocked Bloom filter: split-block layout (Putze, Sanders, Singler, "Cache-, hash- and
 * space-efficient Bloom filters", 2007; the same layout as Apache Parquet's SBBF).
 *
 *   hash (64 bits) = [ block selector : 32 ][ bit selector : 32 ]
 *   block          = 8 x uint32 words; word i gets bit (sel * SALT[i]) >> 27
 */
#include "common/internal.h"

#include <capsift/bloom.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOOM_WORDS   8
#define BLOOM_MAGIC   "SIFTBLM1"
#define BLOOM_VERSION 1u
#define BLOOM_HEADER  48
/* The lookups are also built for AVX2 (the eight word tests in one vector), chosen at load
 * time where the CPU has it: fewer instructions a lookup let more of them wait on memory at
 * once. bench bloom, 1 M keys in 1.3 MB, single lookups: 43-49 M/s scalar, 55-102 M/s so. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIFT_BLOOM_NO_CLONES /* the load-time choice runs before the sanitizer is set up */
#endif
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__) &&                  \
    !defined(SIFT_BLOOM_NO_CLONES)
#define SIFT_BLOOM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SIFT_BLOOM_CLONES
#endif
#define BLOOM_MAX_BLOCKS (UINT64_C(1) << 32) /* the block selector is 32 bits */

struct sift_bloom {
    uint32_t *words; /* nblocks * 8, 64-byte aligned */
    uint64_t nblocks;
    uint64_t seed;
    uint64_t expected;
    double target_fp;
    uint64_t adds;
};

static const uint32_t SALT[BLOOM_WORDS] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                           0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

/* The false-positive rate of n keys in nblocks blocks: a block's load is Poisson(n/nblocks),
 * and a block holding j keys answers yes to a new key when each of its 8 words already has the
 * chosen bit, probability (1 - (31/32)^j)^8. */
static double model_fp(uint64_t nkeys, uint64_t nblocks)
{
    if (nkeys == 0)
        return 0.0;
    double lambda = (double)nkeys / (double)nblocks;
    double ln_lambda = log(lambda);
    double jmax = lambda + 12.0 * sqrt(lambda) + 24.0;
    double fp = 0.0;
    for (double j = 1; j <= jmax; j++) {
        double p = exp(-lambda + j * ln_lambda - lgamma(j + 1.0));
        fp += p * pow(1.0 - pow(31.0 / 32.0, j), BLOOM_WORDS);
    }
    return fp;
}

/* The fewest blocks whose model rate for n keys is at most target (0 when beyond the limit). */
static uint64_t size_blocks(uint64_t n, double target)
{
    uint64_t hi = 1;
    while (model_fp(n, hi) > target) {
        if (hi >= BLOOM_MAX_BLOCKS)
            return 0;
        hi *= 2;
    }
    uint64_t lo = hi / 2; /* model_fp(lo) > target, or lo == 0 */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (model_fp(n, mid) <= target)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static int bloom_alloc(sift_bloom_t **out, uint64_t nblocks)
{
    size_t bytes;
    if (nblocks > BLOOM_MAX_BLOCKS || nblocks > SIZE_MAX / SIFT_BLOOM_BLOCK_BYTES - 1)
        return SIFT_ENOMEM;
    bytes = (size_t)nblocks * SIFT_BLOOM_BLOCK_BYTES;
    size_t alloc = (bytes + 63) & ~(size_t)63; /* aligned_alloc wants a multiple of 64 */
    sift_bloom_t *f = calloc(1, sizeof *f);
    if (!f)
        return SIFT_ENOMEM;
    f->words = aligned_alloc(64, alloc);
    if (!f->words) {
        free(f);
        return SIFT_ENOMEM;
    }
    memset(f->words, 0, alloc);
    f->nblocks = nblocks;
    *out = f;
    return 0;
}

int sift_bloom_create(sift_bloom_t **out, uint64_t expected_keys, double fp_rate, uint64_t seed)
{
    assert(out);
    *out = NULL;
    if (!(fp_rate > 0.0 && fp_rate < 1.0))
        return SIFT_EINVAL;
    if (expected_keys == 0)
        expected_keys = 1;
    uint64_t nblocks = size_blocks(expected_keys, fp_rate);
    if (nblocks == 0)
        return SIFT_ENOMEM;
    sift_bloom_t *f;
    int rc = bloom_alloc(&f, nblocks);
    if (rc < 0)
        return rc;
    f->seed = seed;
    f->expected = expected_keys;
    f->target_fp = fp_rate;
    *out = f;
    return 0;
}

void sift_bloom_free(sift_bloom_t *f)
{
    if (!f)
        return;
    free(f->words);
    free(f);
}

/* The exported functions below call these, not each other: an exported function may be
 * interposed in a shared library, so calls between them are not inlined (a lookup made three
 * calls). */
static inline uint64_t hash_of(const sift_bloom_t *f, const void *key, size_t len)
{
    return XXH3_64bits_withSeed(key, len, f->seed);
}

uint64_t sift_bloom_hash(const sift_bloom_t *f, const void *key, size_t len)
{
    return hash_of(f, key, len);
}

static inline uint32_t *block_of(const sift_bloom_t *f, uint64_t h)
{
    uint64_t b = ((h >> 32) * f->nblocks) >> 32; /* Lemire's multiply-shift range reduction */
    return f->words + b * BLOOM_WORDS;
}

static inline void add_to(uint32_t *w, uint32_t sel)
{
    for (int i = 0; i < BLOOM_WORDS; i++)
        w[i] |= UINT32_C(1) << ((sel * SALT[i]) >> 27);
}

/* Branch-free: the eight word tests are independent, so they pipeline and vectorise. */
static inline bool test_in(const uint32_t *w, uint32_t sel)
{
    uint32_t missing = 0;
    for (int i = 0; i < BLOOM_WORDS; i++)
        missing |= ~w[i] & (UINT32_C(1) << ((sel * SALT[i]) >> 27));
    return missing == 0;
}

/* A key by its hash: added, or tested. */
static inline void add_hashed(sift_bloom_t *f, uint64_t h)
{
    add_to(block_of(f, h), (uint32_t)h);
    f->adds++;
}

static inline bool has_hashed(const sift_bloom_t *f, uint64_t h)
{
    return test_in(block_of(f, h), (uint32_t)h);
}

void sift_bloom_add_hash(sift_bloom_t *f, uint64_t hash)
{
    add_hashed(f, hash);
}

SIFT_BLOOM_CLONES bool sift_bloom_contains_hash(const sift_bloom_t *f, uint64_t hash)
{
    return has_hashed(f, hash);
}

void sift_bloom_add(sift_bloom_t *f, const void *key, size_t len)
{
    add_hashed(f, hash_of(f, key, len));
}

SIFT_BLOOM_CLONES bool sift_bloom_contains(const sift_bloom_t *f, const void *key, size_t len)
{
    return has_hashed(f, hash_of(f, key, len));
}

SIFT_BLOOM_CLONES size_t sift_bloom_contains_many(const sift_bloom_t *f, const uint64_t *hashes,
                                                  size_t n, uint8_t *out)
{
    enum { AHEAD = 16 };
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            __builtin_prefetch(block_of(f, hashes[i + AHEAD]), 0, 1);
        bool yes = has_hashed(f, hashes[i]);
        out[i] = yes;
        hits += yes;
    }
    return hits;
}

int sift_bloom_merge(sift_bloom_t *into, const sift_bloom_t *from)
{
    if (into->nblocks != from->nblocks || into->seed != from->seed)
        return SIFT_EINVAL;
    size_t nw = (size_t)into->nblocks * BLOOM_WORDS;
    for (size_t i = 0; i < nw; i++)
        into->words[i] |= from->words[i];
    into->adds += from->adds;
    if (from->expected > into->expected)
        into->expected = from->expected;
    return 0;
}

void sift_bloom_clear(sift_bloom_t *f)
{
    memset(f->words, 0, (size_t)f->nblocks * SIFT_BLOOM_BLOCK_BYTES);
    f->adds = 0;
}

uint64_t sift_bloom_nblocks(const sift_bloom_t *f)
{
    return f->nblocks;
}

size_t sift_bloom_memory(const sift_bloom_t *f)
{
    return (size_t)f->nblocks * SIFT_BLOOM_BLOCK_BYTES;
}

uint64_t sift_bloom_seed(const sift_bloom_t *f)
{
    return f->seed;
}

uint64_t sift_bloom_expected_keys(const sift_bloom_t *f)
{
    return f->expected;
}

double sift_bloom_target_fp(const sift_bloom_t *f)
{
    return f->target_fp;
}

uint64_t sift_bloom_count(const sift_bloom_t *f)
{
    return f->adds;
}

double sift_bloom_model_fp(const sift_bloom_t *f, uint64_t nkeys)
{
    return model_fp(nkeys, f->nblocks);
}

/* ---- serialisation: explicit little-endian, never a struct dump ---- */

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t sift_bloom_serialized_size(const sift_bloom_t *f)
{
    return BLOOM_HEADER + sift_bloom_memory(f);
}

int sift_bloom_serialize(const sift_bloom_t *f, void *buf, size_t size)
{
    if (size < sift_bloom_serialized_size(f))
        return SIFT_EINVAL;
    uint8_t *p = buf;
    uint64_t fp_bits;
    memcpy(&fp_bits, &f->target_fp, sizeof fp_bits);
    memcpy(p, BLOOM_MAGIC, 8);
    put32(p + 8, BLOOM_VERSION);
    put32(p + 12, 0);
    put64(p + 16, f->seed);
    put64(p + 24, f->nblocks);
    put64(p + 32, f->expected);
    put64(p + 40, fp_bits);
    /* the add count is informative only; it goes in the reserved word, saturated */
    put32(p + 12, f->adds > UINT32_MAX ? UINT32_MAX : (uint32_t)f->adds);
    p += BLOOM_HEADER;
    size_t nw = (size_t)f->nblocks * BLOOM_WORDS;
    for (size_t i = 0; i < nw; i++)
        put32(p + 4 * i, f->words[i]);
    return 0;
}

int sift_bloom_load(sift_bloom_t **out, const void *buf, size_t len)
{
    assert(out);
    *out = NULL;
    const uint8_t *p = buf;
    if (len < BLOOM_HEADER || memcmp(p, BLOOM_MAGIC, 8) != 0 || get32(p + 8) != BLOOM_VERSION)
        return SIFT_EFORMAT;
    uint64_t nblocks = get64(p + 24);
    uint64_t fp_bits = get64(p + 40);
    double fp;
    memcpy(&fp, &fp_bits, sizeof fp);
    if (nblocks == 0 || nblocks > BLOOM_MAX_BLOCKS || !(fp > 0.0 && fp < 1.0))
        return SIFT_ECORRUPT;
    if ((len - BLOOM_HEADER) / SIFT_BLOOM_BLOCK_BYTES != nblocks ||
        (len - BLOOM_HEADER) % SIFT_BLOOM_BLOCK_BYTES != 0)
        return SIFT_ETRUNC;
    sift_bloom_t *f;
    int rc = bloom_alloc(&f, nblocks);
    if (rc < 0)
        return rc;
    f->seed = get64(p + 16);
    f->expected = get64(p + 32);
    f->target_fp = fp;
    f->adds = get32(p + 12);
    p += BLOOM_HEADER;
    size_t nw = (size_t)nblocks * BLOOM_WORDS;
    for (size_t i = 0; i < nw; i++)
        f->words[i] = get32(p + 4 * i);
    *out = f;
    return 0;
}
