/* The LSH index over MinHash sketches: banding (Rajaraman & Ullman, "Mining of massive
 * datasets", 3.4).
 *
 * Each sketch is reduced to one 64-bit key per band (XXH3 of the band's rows). Building sorts
 * (key, id) per band; ids sharing a key in some band are candidates. A pair that collides in
 * several bands is reported only by the first of them (checked against the stored keys), so
 * pair enumeration needs no global deduplication and each band is an independent task.
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

struct sift_lsh {
    unsigned k, bands, rows;
    size_t n, cap;
    uint64_t *keys; /* n * bands: the band keys of item i at keys[i * bands] */
    uint8_t *empty; /* n: the sketch of an empty set, never a candidate */
    bool built;
    size_t m;              /* non-empty items, the length of each sorted band */
    sift__keyid_t *sorted; /* bands * m, sorted by key within each band */
};

double sift_lsh_probability(double s, unsigned bands, unsigned rows)
{
    return 1.0 - pow(1.0 - pow(s, (double)rows), (double)bands);
}

int sift_lsh_derive(double threshold, unsigned k, double min_prob, unsigned *bands, unsigned *rows)
{
    if (!(threshold > 0.0 && threshold < 1.0) || !(min_prob > 0.0 && min_prob < 1.0) || k == 0)
        return SIFT_EINVAL;
    for (unsigned r = k; r >= 1; r--) {
        unsigned b = k / r;
        if (sift_lsh_probability(threshold, b, r) >= min_prob || r == 1) {
            *bands = b;
            *rows = r;
            return 0;
        }
    }
    return SIFT_EINTERNAL; /* not reached: r == 1 always returns */
}

int sift_lsh_create(sift_lsh_t **out, unsigned k, unsigned bands, unsigned rows)
{
    assert(out);
    *out = NULL;
    if (k == 0 || bands == 0 || rows == 0 || (uint64_t)bands * rows > k)
        return SIFT_EINVAL;
    sift_lsh_t *lsh = calloc(1, sizeof *lsh);
    if (!lsh)
        return SIFT_ENOMEM;
    lsh->k = k;
    lsh->bands = bands;
    lsh->rows = rows;
    *out = lsh;
    return 0;
}

void sift_lsh_free(sift_lsh_t *lsh)
{
    if (!lsh)
        return;
    free(lsh->keys);
    free(lsh->empty);
    free(lsh->sorted);
    free(lsh);
}

static int reserve(sift_lsh_t *lsh, size_t extra)
{
    size_t need;
    if (sift__add_size(lsh->n, extra, &need) < 0 || need > UINT32_MAX)
        return SIFT_ELIMIT; /* ids are 32-bit */
    if (need <= lsh->cap)
        return 0;
    size_t cap = lsh->cap ? lsh->cap : 256;
    while (cap < need)
        cap *= 2;
    size_t bytes;
    if (sift__mul_size(cap, (size_t)lsh->bands * sizeof(uint64_t), &bytes) < 0)
        return SIFT_ENOMEM;
    uint64_t *keys = realloc(lsh->keys, bytes);
    if (!keys)
        return SIFT_ENOMEM;
    lsh->keys = keys;
    uint8_t *empty = realloc(lsh->empty, cap);
    if (!empty)
        return SIFT_ENOMEM;
    lsh->empty = empty;
    lsh->cap = cap;
    return 0;
}

static void band_keys(const sift_lsh_t *lsh, const uint32_t *sig, uint64_t *keys)
{
    for (unsigned b = 0; b < lsh->bands; b++)
        keys[b] =
            XXH3_64bits_withSeed(sig + (size_t)b * lsh->rows, lsh->rows * sizeof(uint32_t), b);
}

static bool is_empty_sig(const uint32_t *sig)
{
    return sig[0] == SIFT_MINHASH_EMPTY;
}

int sift_lsh_add(sift_lsh_t *lsh, const uint32_t *sig, uint32_t *id)
{
    int rc = reserve(lsh, 1);
    if (rc < 0)
        return rc;
    band_keys(lsh, sig, lsh->keys + lsh->n * lsh->bands);
    lsh->empty[lsh->n] = is_empty_sig(sig);
    if (id)
        *id = (uint32_t)lsh->n;
    lsh->n++;
    lsh->built = false;
    return 0;
}

typedef struct add_job {
    sift_lsh_t *lsh;
    const uint32_t *sigs;
    size_t n, first;
} add_job_t;

#define ADD_CHUNK 256

static void add_task(void *user, size_t task, unsigned worker)
{
    (void)worker;
    const add_job_t *job = user;
    size_t end = (task + 1) * ADD_CHUNK;
    if (end > job->n)
        end = job->n;
    for (size_t i = task * ADD_CHUNK; i < end; i++) {
        const uint32_t *sig = job->sigs + i * job->lsh->k;
        size_t id = job->first + i;
        band_keys(job->lsh, sig, job->lsh->keys + id * job->lsh->bands);
        job->lsh->empty[id] = is_empty_sig(sig);
    }
}

int sift_lsh_add_many(sift_lsh_t *lsh, const uint32_t *sigs, size_t n, unsigned threads)
{
    int rc = reserve(lsh, n);
    if (rc < 0 || n == 0)
        return rc;
    add_job_t job = {lsh, sigs, n, lsh->n};
    size_t ntasks = (n + ADD_CHUNK - 1) / ADD_CHUNK;
    if (threads == 1 || ntasks == 1) {
        for (size_t t = 0; t < ntasks; t++)
            add_task(&job, t, 0);
    } else {
        rc = sift_pool_run(threads, ntasks, add_task, &job, NULL, 0);
        if (rc < 0)
            return rc;
    }
    lsh->n += n;
    lsh->built = false;
    return 0;
}

typedef struct build_job {
    sift_lsh_t *lsh;
    sift__keyid_t *scratch; /* per band, m each */
} build_job_t;

static void build_task(void *user, size_t band, unsigned worker)
{
    (void)worker;
    const build_job_t *job = user;
    const sift_lsh_t *lsh = job->lsh;
    sift__keyid_t *v = lsh->sorted + band * lsh->m;
    size_t o = 0;
    for (size_t i = 0; i < lsh->n; i++) {
        if (lsh->empty[i])
            continue;
        v[o].key = lsh->keys[i * lsh->bands + band];
        v[o].id = (uint32_t)i;
        o++;
    }
    assert(o == lsh->m);
    sift__radix_keyid(v, job->scratch + band * lsh->m, lsh->m); /* stable: ids stay ascending */
}

int sift_lsh_build(sift_lsh_t *lsh, unsigned threads)
{
    size_t m = 0;
    for (size_t i = 0; i < lsh->n; i++)
        m += !lsh->empty[i];
    size_t total;
    if (sift__mul_size(m, lsh->bands, &total) < 0 || total > SIZE_MAX / sizeof(sift__keyid_t))
        return SIFT_ENOMEM;
    free(lsh->sorted);
    lsh->sorted = NULL;
    lsh->m = m;
    lsh->built = false;
    if (total == 0) {
        lsh->built = true;
        return 0;
    }
    lsh->sorted = malloc(total * sizeof(sift__keyid_t));
    sift__keyid_t *scratch = malloc(total * sizeof(sift__keyid_t));
    if (!lsh->sorted || !scratch) {
        free(scratch);
        return SIFT_ENOMEM;
    }
    build_job_t job = {lsh, scratch};
    int rc = 0;
    if (threads == 1) {
        for (unsigned b = 0; b < lsh->bands; b++)
            build_task(&job, b, 0);
    } else {
        rc = sift_pool_run(threads, lsh->bands, build_task, &job, NULL, 0);
    }
    free(scratch);
    if (rc == 0)
        lsh->built = true;
    return rc;
}

size_t sift_lsh_size(const sift_lsh_t *lsh)
{
    return lsh->n;
}

unsigned sift_lsh_bands(const sift_lsh_t *lsh)
{
    return lsh->bands;
}

unsigned sift_lsh_rows(const sift_lsh_t *lsh)
{
    return lsh->rows;
}

size_t sift_lsh_memory(const sift_lsh_t *lsh)
{
    return lsh->cap * ((size_t)lsh->bands * sizeof(uint64_t) + 1) +
           (lsh->sorted ? lsh->m * lsh->bands * sizeof(sift__keyid_t) : 0);
}

/* The first index of key in the sorted band (or m when absent). */
static size_t band_find(const sift__keyid_t *v, size_t m, uint64_t key)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m && v[lo].key == key ? lo : m;
}

int sift_lsh_query(const sift_lsh_t *lsh, const uint32_t *sig, uint32_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (!lsh->built)
        return SIFT_EINVAL;
    if (is_empty_sig(sig) || lsh->m == 0)
        return 0;
    uint64_t *keys = malloc(lsh->bands * sizeof *keys);
    if (!keys)
        return SIFT_ENOMEM;
    band_keys(lsh, sig, keys);
    size_t cnt = 0, cap = 0;
    uint64_t *found = NULL;
    for (unsigned b = 0; b < lsh->bands; b++) {
        const sift__keyid_t *v = lsh->sorted + (size_t)b * lsh->m;
        for (size_t i = band_find(v, lsh->m, keys[b]); i < lsh->m && v[i].key == keys[b]; i++) {
            if (cnt == cap) {
                cap = cap ? cap * 2 : 64;
                uint64_t *nf = realloc(found, cap * sizeof *nf);
                if (!nf) {
                    free(found);
                    free(keys);
                    return SIFT_ENOMEM;
                }
                found = nf;
            }
            found[cnt++] = v[i].id;
        }
    }
    free(keys);
    cnt = sift_features_sort_unique(found, cnt);
    if (cnt == 0) {
        free(found);
        return 0;
    }
    uint32_t *res = malloc(cnt * sizeof *res);
    if (!res) {
        free(found);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < cnt; i++)
        res[i] = (uint32_t)found[i];
    free(found);
    *ids = res;
    *n = cnt;
    return 0;
}

/* ---- all candidate pairs ---- */

typedef struct band_out {
    uint64_t *v; /* pairs packed as a << 32 | b */
    size_t n, cap;
    int rc;
} band_out_t;

typedef struct pairs_job {
    const sift_lsh_t *lsh;
    size_t max_pairs;
    band_out_t *out;
} pairs_job_t;

static int push_pair(band_out_t *o, uint64_t p, size_t max_pairs)
{
    if (o->n == o->cap) {
        if (max_pairs && o->n >= max_pairs)
            return SIFT_ELIMIT;
        size_t cap = o->cap ? o->cap * 2 : 1024;
        uint64_t *nv = realloc(o->v, cap * sizeof *nv);
        if (!nv)
            return SIFT_ENOMEM;
        o->v = nv;
        o->cap = cap;
    }
    o->v[o->n++] = p;
    return 0;
}

/* True when items a and b already share an earlier band than `band`. */
static bool met_before(const sift_lsh_t *lsh, uint32_t a, uint32_t b, unsigned band)
{
    const uint64_t *ka = lsh->keys + (size_t)a * lsh->bands;
    const uint64_t *kb = lsh->keys + (size_t)b * lsh->bands;
    for (unsigned i = 0; i < band; i++)
        if (ka[i] == kb[i])
            return true;
    return false;
}

static void pairs_task(void *user, size_t band, unsigned worker)
{
    (void)worker;
    const pairs_job_t *job = user;
    const sift_lsh_t *lsh = job->lsh;
    const sift__keyid_t *v = lsh->sorted + band * lsh->m;
    band_out_t *o = &job->out[band];
    size_t s = 0;
    while (s < lsh->m && o->rc == 0) {
        size_t e = s + 1;
        while (e < lsh->m && v[e].key == v[s].key)
            e++;
        for (size_t x = s; x < e && o->rc == 0; x++) {
            for (size_t y = x + 1; y < e; y++) {
                uint32_t a = v[x].id, b = v[y].id; /* a < b: the sort is stable */
                if (met_before(lsh, a, b, (unsigned)band))
                    continue;
                o->rc = push_pair(o, (uint64_t)a << 32 | b, job->max_pairs);
                if (o->rc < 0)
                    break;
            }
        }
        s = e;
    }
}

int sift_lsh_pairs(const sift_lsh_t *lsh, unsigned threads, size_t max_pairs,
                   sift_lsh_pair_t **pairs, size_t *n)
{
    *pairs = NULL;
    *n = 0;
    if (!lsh->built)
        return SIFT_EINVAL;
    if (lsh->m < 2)
        return 0;
    band_out_t *out = calloc(lsh->bands, sizeof *out);
    if (!out)
        return SIFT_ENOMEM;
    pairs_job_t job = {lsh, max_pairs, out};
    int rc = 0;
    if (threads == 1) {
        for (unsigned b = 0; b < lsh->bands; b++)
            pairs_task(&job, b, 0);
    } else {
        rc = sift_pool_run(threads, lsh->bands, pairs_task, &job, NULL, 0);
    }
    size_t total = 0;
    for (unsigned b = 0; b < lsh->bands && rc == 0; b++) {
        rc = out[b].rc;
        total += out[b].n;
    }
    if (rc == 0 && max_pairs && total > max_pairs)
        rc = SIFT_ELIMIT;
    uint64_t *all = NULL, *tmp = NULL;
    if (rc == 0 && total > 0) {
        all = malloc(total * sizeof *all);
        tmp = malloc(total * sizeof *tmp);
        if (!all || !tmp)
            rc = SIFT_ENOMEM;
    }
    if (rc == 0 && total > 0) {
        size_t o = 0;
        for (unsigned b = 0; b < lsh->bands; b++) {
            if (out[b].n)
                memcpy(all + o, out[b].v, out[b].n * sizeof *all);
            o += out[b].n;
        }
        /* one order for any thread count: sorted by (a, b) */
        sift__radix_u64(all, tmp, total, 32 + sift__bits(lsh->n));
        sift_lsh_pair_t *res = (sift_lsh_pair_t *)tmp; /* same size: reuse the scratch */
        for (size_t i = 0; i < total; i++) {
            sift_lsh_pair_t p = {(uint32_t)(all[i] >> 32), (uint32_t)all[i]};
            memcpy(&res[i], &p, sizeof p);
        }
        *pairs = res;
        *n = total;
        tmp = NULL;
    }
    for (unsigned b = 0; b < lsh->bands; b++)
        free(out[b].v);
    free(out);
    free(all);
    free(tmp);
    return rc;
}
