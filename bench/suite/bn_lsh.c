/* bench "lsh": MinHash + LSH similarity join of payload-like sets against all-pairs exact
 * Jaccard.
 *
 * Sets: the byte 4-grams of each real payload, then of sub-windows of real payloads (seeded
 * positions, 64 to 1024 bytes) until there are 10 000 (and 100 000) sets. Each set is its
 * sorted, duplicate-free feature hashes: the input both methods start from.
 *
 * Timed, for LSH: sketch every set, build the index, enumerate candidate pairs, verify each
 * with exact Jaccard, keep those >= the threshold. The naive baseline computes exact Jaccard
 * for all n (n - 1) / 2 pairs; it is timed on a sample of pairs and its total time is
 * extrapolated (at 10 000 sets it would take minutes, at 100 000 hours). Recall is measured
 * against the exact answer, found with a prefix-filtered exact join (Bayardo, Ma, Srikant,
 * "Scaling up all pairs similarity search", WWW 2007), which provably finds every pair at or
 * above the threshold.
 */
#include "common/internal.h"
#include "bn_suite.h"
#include "bn_lsh.h"
#include "blocks/blk_sort.h"
#include "blocks/harness.h"

#include <capsift/minhash.h>
#include <capsift/pool.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NGRAM               4
#define CLAIM_SECONDS       0.85 /* 10,000 payloads, Python, MinHash + LSH */
#define CLAIM_NAIVE_SECONDS 847.0

static uint64_t next_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 11;
}

/* ---- the sets ---- */

void sift__lsh_sets_release(sift__lsh_sets_t *s)
{
    free(s->feat);
    free(s->off);
    memset(s, 0, sizeof *s);
}

int sift__lsh_sets_make(const sift__bench_data_t *d, size_t nsets, uint64_t seed,
                        sift__lsh_sets_t *s)
{
    memset(s, 0, sizeof *s);
    s->off = malloc((nsets + 1) * sizeof *s->off);
    if (!s->off)
        return SIFT_ENOMEM;
    size_t cap = nsets * 256, n = 0;
    s->feat = malloc(cap * sizeof *s->feat);
    if (!s->feat) {
        sift__lsh_sets_release(s);
        return SIFT_ENOMEM;
    }
    uint64_t rng = seed ^ 0x853c49e6748fea9bu;
    s->off[0] = 0;
    for (size_t i = 0; i < nsets; i++) {
        const uint8_t *p;
        size_t len;
        if (i < d->npayloads) { /* every whole payload first */
            p = d->bytes + d->off[i];
            len = d->off[i + 1] - d->off[i];
        } else { /* then sub-windows of payloads */
            size_t pi = (size_t)(next_rand(&rng) % d->npayloads);
            size_t plen = d->off[pi + 1] - d->off[pi];
            len = 64 + (size_t)(next_rand(&rng) % 961);
            if (len > plen)
                len = plen;
            size_t at = plen > len ? (size_t)(next_rand(&rng) % (plen - len + 1)) : 0;
            p = d->bytes + d->off[pi] + at;
        }
        if (n + len > cap) {
            while (n + len > cap)
                cap *= 2;
            uint64_t *nf = realloc(s->feat, cap * sizeof *nf);
            if (!nf) {
                sift__lsh_sets_release(s);
                return SIFT_ENOMEM;
            }
            s->feat = nf;
        }
        size_t k = sift_shingle_hashes(p, len, NGRAM, seed, s->feat + n);
        n += sift_features_sort_unique(s->feat + n, k);
        s->off[i + 1] = n;
    }
    s->n = nsets;
    return 0;
}

/* ---- exact answer: prefix-filtered all-pairs join ---- */

typedef struct ranked {
    uint32_t *tok; /* each set's tokens as ranks (rarest first), ascending */
    size_t *off;
} ranked_t;

static int cmp_size_idx(const void *a, const void *b, void *ctx)
{
    const size_t *off = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t lx = off[x + 1] - off[x], ly = off[y + 1] - off[y];
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return (x > y) - (x < y);
}

/* Ranks every token by document frequency (rarest first, ties by value). */
static int rank_tokens(const sift__lsh_sets_t *s, ranked_t *r)
{
    size_t total = s->off[s->n];
    uint64_t *all = malloc((total ? total : 1) * sizeof *all);
    uint64_t *tmp = malloc((total ? total : 1) * sizeof *tmp);
    r->tok = malloc((total ? total : 1) * sizeof *r->tok);
    r->off = s->off;
    if (!all || !tmp || !r->tok) {
        free(all);
        free(tmp);
        free(r->tok);
        return SIFT_ENOMEM;
    }
    memcpy(all, s->feat, total * sizeof *all);
    sift__radix_u64(all, tmp, total, 64);
    /* distinct tokens with their frequencies, then sorted by (freq, token) */
    size_t nd = 0;
    for (size_t i = 0; i < total; nd++) {
        size_t j = i;
        while (j < total && all[j] == all[i])
            j++;
        all[nd] = all[i];
        tmp[nd] = j - i; /* frequency */
        i = j;
    }
    /* order: frequency, then token; pack as (freq << 32 | index into all[]) */
    uint64_t *order = malloc((nd ? nd : 1) * sizeof *order);
    uint64_t *scratch = malloc((nd ? nd : 1) * sizeof *scratch);
    if (!order || !scratch) {
        free(all);
        free(tmp);
        free(order);
        free(scratch);
        free(r->tok);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < nd; i++)
        order[i] = (uint64_t)tmp[i] << 32 | i;
    sift__radix_u64(order, scratch, nd, 64);
    uint32_t *rank_of = (uint32_t *)scratch; /* index into all[] -> rank */
    for (size_t i = 0; i < nd; i++)
        rank_of[(uint32_t)order[i]] = (uint32_t)i;
    for (size_t i = 0; i < total; i++) {
        /* binary search the token among the distinct ones */
        size_t lo = 0, hi = nd;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (all[mid] < s->feat[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        r->tok[i] = rank_of[lo];
    }
    for (size_t i = 0; i < s->n; i++) { /* each set ascending by rank */
        uint32_t *t = r->tok + s->off[i];
        size_t n = s->off[i + 1] - s->off[i];
        for (size_t a = 1; a < n; a++) { /* insertion sort is too slow for big sets: radix */
            if (t[a] < t[a - 1]) {
                for (size_t k = 0; k < n; k++)
                    all[k] = t[k];
                sift__radix_u64(all, tmp, n, 32);
                for (size_t k = 0; k < n; k++)
                    t[k] = (uint32_t)all[k];
                break;
            }
        }
    }
    free(all);
    free(tmp);
    free(order);
    free(scratch);
    return 0;
}

static size_t overlap_u32(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        uint32_t x = a[i], y = b[j];
        inter += x == y;
        i += x <= y;
        j += y <= x;
    }
    return inter;
}

int sift__lsh_exact_pairs(const sift__lsh_sets_t *s, double t, uint64_t **pairs, size_t *npairs)
{
    *pairs = NULL;
    *npairs = 0;
    ranked_t r;
    int rc = rank_tokens(s, &r);
    if (rc < 0)
        return rc;
    size_t n = s->n, total = s->off[n];
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    uint32_t *stamp = malloc((n ? n : 1) * sizeof *stamp);
    size_t *lhead = malloc((total + 1) * sizeof *lhead); /* inverted lists, by token rank */
    uint32_t *lcount = calloc(total + 1, sizeof *lcount);
    uint32_t *lists = malloc((total ? total : 1) * sizeof *lists);
    uint32_t *cand = malloc((n ? n : 1) * sizeof *cand);
    size_t cap = 1 << 16, np = 0;
    uint64_t *out = malloc(cap * sizeof *out);
    if (!order || !stamp || !lhead || !lcount || !lists || !cand || !out) {
        rc = SIFT_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = (uint32_t)i;
        stamp[i] = UINT32_MAX;
    }
    qsort_r(order, n, sizeof *order, cmp_size_idx, s->off);
    /* list capacity per token: how many prefixes hold it */
    for (size_t i = 0; i < n; i++) {
        size_t len = s->off[i + 1] - s->off[i];
        size_t pre = len ? len - (size_t)ceil(t * (double)len - 1e-9) + 1 : 0;
        for (size_t k = 0; k < pre && k < len; k++)
            lcount[r.tok[s->off[i] + k]]++;
    }
    size_t sum = 0;
    for (size_t k = 0; k <= total; k++) {
        lhead[k] = sum;
        sum += lcount[k];
        lcount[k] = 0;
    }
    for (size_t oi = 0; oi < n; oi++) { /* ascending size: earlier sets are never larger */
        uint32_t x = order[oi];
        const uint32_t *tx = r.tok + s->off[x];
        size_t lx = s->off[x + 1] - s->off[x];
        if (lx == 0)
            continue;
        size_t pre = lx - (size_t)ceil(t * (double)lx - 1e-9) + 1;
        size_t nc = 0;
        for (size_t k = 0; k < pre && k < lx; k++) {
            const uint32_t *l = lists + lhead[tx[k]];
            for (uint32_t j = 0; j < lcount[tx[k]]; j++) {
                uint32_t y = l[j];
                size_t ly = s->off[y + 1] - s->off[y];
                if (stamp[y] == x || (double)ly < t * (double)lx - 1e-9)
                    continue; /* seen, or too small to reach t */
                stamp[y] = x;
                cand[nc++] = y;
            }
        }
        for (size_t c = 0; c < nc; c++) {
            uint32_t y = cand[c];
            size_t ly = s->off[y + 1] - s->off[y];
            size_t inter = overlap_u32(tx, lx, r.tok + s->off[y], ly);
            if ((double)inter >= t * (double)(lx + ly - inter) - 1e-9) {
                if (np == cap) {
                    cap *= 2;
                    uint64_t *no = realloc(out, cap * sizeof *no);
                    if (!no) {
                        rc = SIFT_ENOMEM;
                        goto done;
                    }
                    out = no;
                }
                uint32_t a = x < y ? x : y, b = x < y ? y : x;
                out[np++] = (uint64_t)a << 32 | b;
            }
        }
        for (size_t k = 0; k < pre && k < lx; k++)
            lists[lhead[tx[k]] + lcount[tx[k]]++] = x;
    }
    {
        uint64_t *tmp = malloc((np ? np : 1) * sizeof *tmp);
        if (!tmp) {
            rc = SIFT_ENOMEM;
            goto done;
        }
        sift__radix_u64(out, tmp, np, 64);
        free(tmp);
    }
    *pairs = out;
    *npairs = np;
    out = NULL;
done:
    free(order);
    free(stamp);
    free(lhead);
    free(lcount);
    free(lists);
    free(cand);
    free(out);
    free(r.tok);
    return rc;
}

/* ---- the LSH pipeline ---- */

typedef struct verify_job {
    const sift__lsh_sets_t *s;
    const sift_lsh_pair_t *cand;
    size_t ncand;
    uint8_t *keep;
    double t;
} verify_job_t;

#define VERIFY_CHUNK 4096

static void verify_task(void *user, size_t task, unsigned worker)
{
    (void)worker;
    const verify_job_t *job = user;
    const sift__lsh_sets_t *s = job->s;
    size_t end = (task + 1) * VERIFY_CHUNK;
    if (end > job->ncand)
        end = job->ncand;
    for (size_t i = task * VERIFY_CHUNK; i < end; i++) {
        uint32_t a = job->cand[i].a, b = job->cand[i].b;
        double j = sift_jaccard(s->feat + s->off[a], s->off[a + 1] - s->off[a], s->feat + s->off[b],
                                s->off[b + 1] - s->off[b]);
        job->keep[i] = j >= job->t - 1e-12;
    }
}

int sift__lsh_join(const sift__lsh_sets_t *s, const sift__lsh_config_t *c, uint64_t **pairs,
                   size_t *npairs, sift__lsh_figures_t *fig)
{
    *pairs = NULL;
    *npairs = 0;
    memset(fig, 0, sizeof *fig);
    unsigned threads = c->threads ? c->threads : 1;
    sift_minhash_opts_t mo = {.k = c->k, .seed = c->seed, .scheme = c->scheme};
    sift_minhash_t *mh = NULL;
    sift_lsh_t *lsh = NULL;
    uint32_t *sigs = NULL;
    sift_lsh_pair_t *cand = NULL;
    uint8_t *keep = NULL;
    size_t ncand = 0;
    double t0 = sift__bench_now();
    int rc = sift_minhash_create(&mh, &mo);
    if (rc == 0) {
        sigs = malloc(s->n * (size_t)c->k * sizeof *sigs);
        rc = sigs ? 0 : SIFT_ENOMEM;
    }
    if (rc == 0)
        rc = sift_minhash_sketch_many(mh, s->feat, s->off, s->n, sigs, threads);
    double t1 = sift__bench_now();
    if (rc == 0)
        rc = sift_lsh_create(&lsh, c->k, c->bands, c->rows);
    if (rc == 0)
        rc = sift_lsh_add_many(lsh, sigs, s->n, threads);
    if (rc == 0)
        rc = sift_lsh_build(lsh, threads);
    double t2 = sift__bench_now();
    if (rc == 0)
        rc = sift_lsh_pairs(lsh, threads, 0, &cand, &ncand);
    double t3 = sift__bench_now();
    if (rc == 0 && ncand) {
        keep = malloc(ncand);
        rc = keep ? 0 : SIFT_ENOMEM;
    }
    if (rc == 0 && ncand) {
        verify_job_t job = {s, cand, ncand, keep, c->threshold};
        size_t ntasks = (ncand + VERIFY_CHUNK - 1) / VERIFY_CHUNK;
        if (threads == 1) {
            for (size_t i = 0; i < ntasks; i++)
                verify_task(&job, i, 0);
        } else {
            rc = sift_pool_run(threads, ntasks, verify_task, &job, NULL, 0);
        }
    }
    uint64_t *out = NULL;
    size_t nout = 0;
    if (rc == 0) {
        out = ncand < SIZE_MAX / sizeof *out ? malloc((ncand + 1) * sizeof *out) : NULL;
        rc = out ? 0 : SIFT_ENOMEM;
        for (size_t i = 0; rc == 0 && i < ncand; i++)
            if (keep[i])
                out[nout++] = (uint64_t)cand[i].a << 32 | cand[i].b;
    }
    double t4 = sift__bench_now();
    if (rc == 0) {
        fig->sketch_s = t1 - t0;
        fig->index_s = t2 - t1;
        fig->pairs_s = t3 - t2;
        fig->verify_s = t4 - t3;
        fig->total_s = t4 - t0;
        fig->candidates = ncand;
        fig->found = nout;
        fig->memory_bytes = s->n * (size_t)c->k * sizeof *sigs + sift_lsh_memory(lsh);
        *pairs = out;
        *npairs = nout;
        out = NULL;
    }
    free(out);
    free(keep);
    free(cand);
    free(sigs);
    sift_lsh_free(lsh);
    sift_minhash_free(mh);
    return rc;
}

/* ---- the naive baseline: exact Jaccard of sampled pairs ---- */

typedef struct naive_work {
    const sift__lsh_sets_t *s;
    uint64_t rng;
    double sink;
} naive_work_t;

static int run_naive(void *user, uint64_t first, uint64_t count)
{
    (void)first;
    naive_work_t *w = user;
    const sift__lsh_sets_t *s = w->s;
    double acc = 0;
    for (uint64_t i = 0; i < count; i++) {
        size_t a = (size_t)(next_rand(&w->rng) % s->n), b = (size_t)(next_rand(&w->rng) % s->n);
        acc += sift_jaccard(s->feat + s->off[a], s->off[a + 1] - s->off[a], s->feat + s->off[b],
                            s->off[b + 1] - s->off[b]);
    }
    w->sink += acc;
    return 0;
}

/* ---- the entry ---- */

int sift__lsh_recall(const uint64_t *found, size_t nfound, const uint64_t *exact, size_t nexact,
                     double *recall)
{
    /* both sorted: count the exact pairs found; anything found but not exact is a bug */
    size_t i = 0, j = 0, hit = 0;
    while (i < nfound && j < nexact) {
        if (found[i] == exact[j]) {
            hit++;
            i++;
            j++;
        } else if (found[i] < exact[j]) {
            return SIFT_EINTERNAL;
        } else {
            j++;
        }
    }
    if (i < nfound)
        return SIFT_EINTERNAL;
    *recall = nexact ? (double)hit / (double)nexact : 1.0;
    return 0;
}

void sift__lsh_default_config(sift__lsh_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->threshold = 0.7;
    c->k = 128;
    c->scheme = SIFT_MINHASH_OPH;
    sift_lsh_derive(c->threshold, c->k, 0.95, &c->bands, &c->rows);
    c->threads = 1;
}

typedef struct size_run {
    size_t nsets;
    double prep_s, exact_s;
    sift__lsh_figures_t fig;
    size_t nexact;
    double recall;
    double naive_pair_rate, naive_s;
} size_run_t;

static int run_size(const sift_bench_opts_t *o, const sift__bench_data_t *d,
                    const sift__lsh_config_t *c, size_t nsets, size_run_t *out)
{
    memset(out, 0, sizeof *out);
    out->nsets = nsets;
    sift__lsh_sets_t s;
    sift__bench_progress(o, "lsh: %zu sets of payload 4-grams", nsets);
    double t0 = sift__bench_now();
    int rc = sift__lsh_sets_make(d, nsets, o->seed, &s);
    if (rc < 0)
        return rc;
    out->prep_s = sift__bench_now() - t0;
    uint64_t *exact = NULL, *found = NULL;
    size_t nexact = 0, nfound = 0;
    sift__bench_progress(o, "lsh: exact pairs at Jaccard >= %.2f (prefix-filtered join)",
                         c->threshold);
    t0 = sift__bench_now();
    rc = sift__lsh_exact_pairs(&s, c->threshold, &exact, &nexact);
    out->exact_s = sift__bench_now() - t0;
    out->nexact = nexact;
    /* the pipeline: the run of median total time is reported, all its figures together;
     * every run gives the same pairs */
    unsigned reps = o->quick ? 3 : 5;
    sift__lsh_figures_t figs[8];
    for (unsigned i = 0; rc == 0 && i < reps; i++) {
        sift__bench_progress(o, "lsh: MinHash + LSH join of %zu sets, run %u of %u", nsets, i + 1,
                             reps);
        free(found);
        rc = sift__lsh_join(&s, c, &found, &nfound, &figs[i]);
    }
    if (rc == 0) {
        for (unsigned i = 1; i < reps; i++)
            for (unsigned j = i; j > 0 && figs[j - 1].total_s > figs[j].total_s; j--) {
                sift__lsh_figures_t t = figs[j];
                figs[j] = figs[j - 1];
                figs[j - 1] = t;
            }
        out->fig = figs[reps / 2];
        rc = sift__lsh_recall(found, nfound, exact, nexact, &out->recall);
    }
    if (rc == 0) {
        sift__bench_progress(o, "lsh: naive exact Jaccard on sampled pairs");
        naive_work_t w = {&s, o->seed ^ 0x9e3779b97f4a7c15u, 0};
        sift__bench_spec_t spec = {
            .min_seconds = o->quick ? 0.3 : 1.0, .min_ops = 10000, .batch = 1000, .reps = 3};
        sift__bench_stats_t st;
        rc = sift__bench_measure(&spec, run_naive, &w, &st);
        out->naive_pair_rate = st.ops_per_s;
        double npairs = (double)nsets * (double)(nsets - 1) / 2.0;
        out->naive_s = st.ops_per_s > 0 ? npairs / st.ops_per_s : 0;
    }
    free(exact);
    free(found);
    sift__lsh_sets_release(&s);
    return rc;
}

static double cand_s(const size_run_t *z)
{
    return z->fig.sketch_s + z->fig.index_s + z->fig.pairs_s;
}

static void report_size(sift_bench_result_t *r, const char *sfx, const size_run_t *z)
{
    char key[32];
    const struct {
        const char *k;
        double v;
    } f[] = {{"time_s", cand_s(z)},
             {"time_verified_s", z->fig.total_s},
             {"baseline_s", z->naive_s},
             {"recall", z->recall},
             {"exact_pairs", (double)z->nexact},
             {"candidates", (double)z->fig.candidates},
             {"found_pairs", (double)z->fig.found},
             {"memory_bytes", (double)z->fig.memory_bytes}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        snprintf(key, sizeof key, "%s%s", f[i].k, sfx);
        sift__bench_field_set(r, key, f[i].v);
    }
    sift__bench_textf(r,
                      "%zu sets: LSH candidates in %.1f ms (sketch %.1f, index %.1f, pairs %.1f), "
                      "+ exact verification %.1f ms = %.1f ms\n",
                      z->nsets, cand_s(z) * 1e3, z->fig.sketch_s * 1e3, z->fig.index_s * 1e3,
                      z->fig.pairs_s * 1e3, z->fig.verify_s * 1e3, z->fig.total_s * 1e3);
    sift__bench_textf(r,
                      "%zu sets: %zu exact pairs, %zu candidates, %zu found: recall %.4f; naive "
                      "all-pairs %.0f s (extrapolated from %.2f M pairs/s): speedup %.0fx\n",
                      z->nsets, z->nexact, z->fig.candidates, z->fig.found, z->recall, z->naive_s,
                      z->naive_pair_rate / 1e6,
                      z->fig.total_s > 0 ? z->naive_s / z->fig.total_s : 0.0);
    sift__bench_textf(r,
                      "%zu sets: built in %.0f ms; exact answer (prefix-filtered join) %.0f ms\n",
                      z->nsets, z->prep_s * 1e3, z->exact_s * 1e3);
}

int sift__bench_lsh(const sift_bench_opts_t *o, const sift__bench_data_t *d, sift_bench_result_t *r)
{
    sift__lsh_config_t c;
    sift__lsh_default_config(&c);
    c.seed = o->seed;
    c.threads = o->threads ? o->threads : 1;
    size_run_t z10, z100;
    int rc = run_size(o, d, &c, 10000, &z10);
    if (rc == 0 && !o->quick)
        rc = run_size(o, d, &c, 100000, &z100);
    if (rc < 0)
        return rc;
    snprintf(r->op, sizeof r->op,
             "set joined (10 000 sets: sketch, index, candidate pairs, exact verification)");
    snprintf(r->baseline, sizeof r->baseline,
             "exact Jaccard of all n(n-1)/2 pairs (sorted merge; rate timed on sampled pairs)");
    snprintf(r->claim, sizeof r->claim,
             "payload clustering, MinHash + LSH vs all pairs: 847 s -> 0.85 s (996x), 10,000 "
             "payloads, Python");
    r->ops_per_s = z10.fig.total_s > 0 ? 10000.0 / z10.fig.total_s : 0;
    r->baseline_ops_per_s = z10.naive_s > 0 ? 10000.0 / z10.naive_s : 0;
    double sp = z10.fig.total_s > 0 ? z10.naive_s / z10.fig.total_s : 0;
    snprintf(r->verdict, sizeof r->verdict,
             "10 000 sets: LSH candidates %.0f ms, verified %.0f ms vs 850 ms claimed, recall "
             "%.3f; speedup %.0fx vs 996x claimed (%s; our naive baseline is C, not Python)",
             cand_s(&z10) * 1e3, z10.fig.total_s * 1e3, z10.recall, sp,
             sp >= 996 ? "holds" : "does not hold");
    sift__bench_field_set(r, "sets", 10000);
    report_size(r, "", &z10);
    if (!o->quick)
        report_size(r, "_100k", &z100);
    sift__bench_field_set(r, "threshold", c.threshold);
    sift__bench_field_set(r, "k", c.k);
    sift__bench_field_set(r, "bands", c.bands);
    sift__bench_field_set(r, "rows", c.rows);
    sift__bench_field_set(r, "threads", c.threads);
    sift__bench_field_set(r, "claim_s", CLAIM_SECONDS);
    sift__bench_field_set(r, "claim_naive_s", CLAIM_NAIVE_SECONDS);
    sift__bench_textf(r,
                      "MinHash k=%u (one permutation + densification), LSH %u bands x %u "
                      "rows for Jaccard >= %.2f, %u thread(s)\n",
                      c.k, c.bands, c.rows, c.threshold, c.threads);
    return 0;
}
