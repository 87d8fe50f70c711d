/* MinHash sketches and the LSH index.
 *
 * One permutation hashing: P. Li, A. Owen, C.-H. Zhang, "One permutation hashing", NIPS 2012.
 * Densification: T. Mai, A. Rao, M. Kapoor, B. Kveton, "On densification for minwise
 * hashing", UAI 2019 (fast densification, the push form of Shrivastava's optimal
 * densification, ICML 2017): empty bins receive values of filled bins along sequences that
 * depend only on the bins and the seed, so equal sets stay equal and similar sets fill their
 * empty bins alike.
 * Banding: A. Rajaraman, J. Ullman, "Mining of massive datasets", chapter 3.4.
 */
#include "common/internal.h"
#include "blocks/blk_sort.h"

#include <capsift/minhash.h>
#include <capsift/pool.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MH_MAX_K 4096u /* bin numbers fit in 16 bits */
#define PROBES   32

struct sift_minhash {
    unsigned k;
    sift_minhash_scheme_t scheme;
    uint64_t seed;
    uint64_t mix_seed; /* OPH: xored into each feature before mixing */
    uint16_t *probe;   /* OPH: the first PROBES densification targets of each bin */
    uint32_t *ka;      /* KHASH: per-slot salts */
};

/* A bijective 64-bit mixer (the murmur3/splitmix finaliser): features are hashes already,
 * this only decorrelates them from the seed. */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static inline uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Step t (from 1) of the densification probe sequence of bin i. */
static uint32_t probe_bin(const sift_minhash_t *mh, unsigned i, uint64_t t)
{
    uint64_t h = mix64(mh->mix_seed ^ ((uint64_t)i << 32 | t));
    return (uint32_t)(((h & 0xffffffffu) * mh->k) >> 32);
}

/* ---- features and exact Jaccard ---- */

size_t sift_shingle_hashes(const void *data, size_t len, unsigned ngram, uint64_t seed,
                           uint64_t *out)
{
    if (ngram == 0 || ngram > 64 || len < ngram)
        return 0;
    const uint8_t *p = data;
    size_t n = len - ngram + 1;
    for (size_t i = 0; i < n; i++)
        out[i] = XXH3_64bits_withSeed(p + i, ngram, seed);
    return n;
}

static void insertion_sort(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

size_t sift_features_sort_unique(uint64_t *v, size_t n)
{
    if (n < 2)
        return n;
    if (n <= 32) {
        insertion_sort(v, n);
    } else {
        uint64_t stack[1024];
        uint64_t *tmp = n <= 1024 ? stack : malloc(n * sizeof *tmp);
        if (tmp) {
            sift__radix_u64(v, tmp, n, 64);
            if (tmp != stack)
                free(tmp);
        } else {
            qsort(v, n, sizeof *v, cmp_u64); /* no scratch memory: slower, still right */
        }
    }
    size_t o = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[o - 1])
            v[o++] = v[i];
    return o;
}

double sift_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    if (na == 0 && nb == 0)
        return 0.0;
    size_t i = 0, j = 0, inter = 0;
    /* branch-free merge: the comparisons are unpredictable on real data */
    while (i < na && j < nb) {
        uint64_t x = a[i], y = b[j];
        inter += x == y;
        i += x <= y;
        j += y <= x;
    }
    return (double)inter / (double)(na + nb - inter);
}

/* ---- sketches ---- */

int sift_minhash_create(sift_minhash_t **out, const sift_minhash_opts_t *opts)
{
    assert(out);
    *out = NULL;
    sift_minhash_opts_t o = {0};
    if (opts)
        o = *opts;
    if (o.k == 0)
        o.k = 128;
    if (o.k < 8 || o.k > MH_MAX_K || o.k % 8 != 0)
        return SIFT_EINVAL;
    if (o.scheme != SIFT_MINHASH_OPH && o.scheme != SIFT_MINHASH_KHASH)
        return SIFT_EINVAL;
    sift_minhash_t *mh = calloc(1, sizeof *mh);
    if (!mh)
        return SIFT_ENOMEM;
    mh->k = o.k;
    mh->scheme = o.scheme;
    mh->seed = o.seed;
    uint64_t st = o.seed;
    mh->mix_seed = splitmix(&st);
    if (o.scheme == SIFT_MINHASH_OPH) {
        mh->probe = malloc((size_t)o.k * PROBES * sizeof *mh->probe);
        if (!mh->probe) {
            sift_minhash_free(mh);
            return SIFT_ENOMEM;
        }
        for (unsigned i = 0; i < o.k; i++)
            for (unsigned t = 0; t < PROBES; t++)
                mh->probe[(size_t)i * PROBES + t] = (uint16_t)probe_bin(mh, i, t + 1);
    }
    if (o.scheme == SIFT_MINHASH_KHASH) {
        mh->ka = malloc(o.k * sizeof *mh->ka);
        if (!mh->ka) {
            sift_minhash_free(mh);
            return SIFT_ENOMEM;
        }
        for (unsigned i = 0; i < o.k; i++) {
            mh->ka[i] = (uint32_t)splitmix(&st);
        }
    }
    *out = mh;
    return 0;
}

void sift_minhash_free(sift_minhash_t *mh)
{
    if (!mh)
        return;
    free(mh->probe);
    free(mh->ka);
    free(mh);
}

unsigned sift_minhash_k(const sift_minhash_t *mh)
{
    return mh->k;
}

static inline uint32_t slot_value(uint64_t h)
{
    uint32_t v = (uint32_t)(h >> 32);
    return v == SIFT_MINHASH_EMPTY ? v - 1 : v; /* EMPTY is reserved for the empty set */
}

static void sketch_oph(const sift_minhash_t *mh, const uint64_t *f, size_t n, uint32_t *sig)
{
    const unsigned k = mh->k;
    for (unsigned i = 0; i < k; i++)
        sig[i] = SIFT_MINHASH_EMPTY;
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = mix64(f[i] ^ mh->mix_seed);
        uint32_t bin = (uint32_t)(((h & 0xffffffffu) * k) >> 32);
        uint32_t v = slot_value(h);
        uint32_t cur = sig[bin];
        sig[bin] = v < cur ? v : cur; /* branch-free: whether v is smaller is a coin toss */
    }
    uint64_t filled[MH_MAX_K / 64] = {0};
    unsigned nfilled = 0;
    for (unsigned i = 0; i < k; i++) {
        if (sig[i] != SIFT_MINHASH_EMPTY) {
            filled[i / 64] |= UINT64_C(1) << (i % 64);
            nfilled++;
        }
    }
    if (nfilled == k)
        return;
    /* Fast densification (Mai et al., "On densification for minwise hashing", UAI 2019): in
     * round t every bin filled by a feature, in ascending order, offers its value to bin
     * h(bin, t), which takes it if still empty. Only feature-filled bins give, so equal
     * filled bins give equal sketches; the work is O(k log k) however few bins are filled
     * (probing from each empty bin instead costs O(k^2 / filled), ruinous for tiny sets). The
     * first PROBES rounds come from a table. */
    uint16_t src[MH_MAX_K];
    unsigned m = 0;
    for (unsigned i = 0; i < k; i++)
        if (filled[i / 64] & (UINT64_C(1) << (i % 64)))
            src[m++] = (uint16_t)i;
    unsigned nempty = k - nfilled;
    for (uint64_t t = 0; nempty > 0; t++) {
        for (unsigned a = 0; a < m && nempty > 0; a++) {
            unsigned from = src[a];
            uint32_t j =
                t < PROBES ? mh->probe[(size_t)from * PROBES + t] : probe_bin(mh, from, t + 1);
            uint64_t bit = UINT64_C(1) << (j % 64);
            if (!(filled[j / 64] & bit)) {
                filled[j / 64] |= bit;
                sig[j] = sig[from];
                nempty--;
            }
        }
    }
}

/* The k independent hash functions: a feature is folded to 32 bits once, and slot i hashes
 * it as fmix32(x ^ S[i]) (the murmur3 finaliser, a bijection of 32-bit values). Plain
 * multiply-add-shift hashing is cheaper but only 2-universal, and measurably biased as a
 * min-wise hash (mean error 0.05 instead of 0.02 at k = 256). The slot loop is the inner one
 * and uses 32-bit lanes only, so it vectorises (pmulld: built for AVX2 too, chosen at run
 * time). */
__attribute__((target_clones("avx2", "default"))) static void
sketch_khash(const sift_minhash_t *mh, const uint64_t *f, size_t n, uint32_t *sig)
{
    const unsigned k = mh->k;
    const uint32_t *restrict salt = mh->ka;
    for (unsigned i = 0; i < k; i++)
        sig[i] = SIFT_MINHASH_EMPTY - 1;
    for (size_t j = 0; j < n; j++) {
        const uint32_t x = (uint32_t)(f[j] ^ (f[j] >> 32));
        for (unsigned i = 0; i < k; i++) {
            uint32_t h = x ^ salt[i];
            h ^= h >> 16;
            h *= 0x85ebca6bU;
            h ^= h >> 13;
            h *= 0xc2b2ae35U;
            h ^= h >> 16;
            h = h == SIFT_MINHASH_EMPTY ? h - 1 : h;
            sig[i] = h < sig[i] ? h : sig[i];
        }
    }
    if (n == 0)
        for (unsigned i = 0; i < k; i++)
            sig[i] = SIFT_MINHASH_EMPTY;
}

void sift_minhash_sketch(const sift_minhash_t *mh, const uint64_t *features, size_t n,
                         uint32_t *sig)
{
    if (mh->scheme == SIFT_MINHASH_KHASH)
        sketch_khash(mh, features, n, sig);
    else
        sketch_oph(mh, features, n, sig);
}

typedef struct sketch_job {
    const sift_minhash_t *mh;
    const uint64_t *features;
    const size_t *offsets;
    size_t nsets;
    uint32_t *sigs;
} sketch_job_t;

#define SKETCH_CHUNK 64

static void sketch_task(void *user, size_t task, unsigned worker)
{
    (void)worker;
    const sketch_job_t *job = user;
    size_t end = (task + 1) * SKETCH_CHUNK;
    if (end > job->nsets)
        end = job->nsets;
    for (size_t i = task * SKETCH_CHUNK; i < end; i++)
        sift_minhash_sketch(job->mh, job->features + job->offsets[i],
                            job->offsets[i + 1] - job->offsets[i],
                            job->sigs + i * (size_t)job->mh->k);
}

int sift_minhash_sketch_many(const sift_minhash_t *mh, const uint64_t *features,
                             const size_t *offsets, size_t nsets, uint32_t *sigs, unsigned threads)
{
    sketch_job_t job = {mh, features, offsets, nsets, sigs};
    size_t ntasks = (nsets + SKETCH_CHUNK - 1) / SKETCH_CHUNK;
    if (ntasks == 0)
        return 0;
    if (threads == 1 || ntasks == 1) {
        for (size_t t = 0; t < ntasks; t++)
            sketch_task(&job, t, 0);
        return 0;
    }
    return sift_pool_run(threads, ntasks, sketch_task, &job, NULL, 0);
}

double sift_minhash_similarity(const uint32_t *a, const uint32_t *b, unsigned k)
{
    if (k == 0 || a[0] == SIFT_MINHASH_EMPTY || b[0] == SIFT_MINHASH_EMPTY)
        return 0.0;
    unsigned eq = 0;
    for (unsigned i = 0; i < k; i++)
        eq += a[i] == b[i];
    return (double)eq / (double)k;
}
