/* Tests of MinHash, LSH and exact Jaccard: edge cases, agreement with straightforward
 * references on random and real sets, determinism, thread-count independence, and the recall
 * of the LSH join against brute-force all pairs on real payloads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/minhash.h>

#include "bn_lsh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Reference Jaccard: quadratic, on unsorted arrays with duplicates. */
static double ref_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    size_t inter = 0, ua = 0, ub = 0;
    for (size_t i = 0; i < na; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = a[j] == a[i];
        if (dup)
            continue;
        ua++;
        for (size_t j = 0; j < nb; j++)
            if (b[j] == a[i]) {
                inter++;
                break;
            }
    }
    for (size_t i = 0; i < nb; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = b[j] == b[i];
        ub += !dup;
    }
    size_t uni = ua + ub - inter;
    return uni ? (double)inter / (double)uni : 0.0;
}

static void test_features(void **state)
{
    (void)state;
    uint64_t out[16];
    assert_int_equal(sift_shingle_hashes("abc", 3, 4, 0, out), 0);
    assert_int_equal(sift_shingle_hashes("abcd", 4, 4, 0, out), 1);
    assert_int_equal(sift_shingle_hashes("abcabcab", 8, 3, 0, out), 6);
    assert_true(out[0] == out[3]); /* "abc" twice */
    assert_int_equal(sift_shingle_hashes("abc", 3, 0, 0, out), 0);
    assert_int_equal(sift_shingle_hashes("abc", 3, 65, 0, out), 0);
    assert_int_equal(sift_features_sort_unique(out, 6), 3);
    assert_true(out[0] < out[1] && out[1] < out[2]);
    assert_int_equal(sift_features_sort_unique(out, 0), 0);
    assert_int_equal(sift_features_sort_unique(out, 1), 1);
    /* large arrays take the radix path */
    enum { N = 5000 };
    uint64_t *v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++)
        v[i] = (i * 7919) % 1000 * 0x9e3779b97f4a7c15u; /* each of 1000 values five times */
    size_t u = sift_features_sort_unique(v, N);
    assert_int_equal(u, 1000);
    for (size_t i = 1; i < u; i++)
        assert_true(v[i - 1] < v[i]);
    free(v);
}

static void test_jaccard(void **state)
{
    (void)state;
    uint64_t a[] = {1, 2, 3, 4}, b[] = {3, 4, 5, 6}, c[] = {7};
    assert_true(sift_jaccard(a, 0, b, 0) == 0.0);
    assert_true(sift_jaccard(a, 4, b, 0) == 0.0);
    assert_true(sift_jaccard(a, 4, a, 4) == 1.0);
    assert_true(fabs(sift_jaccard(a, 4, b, 4) - 2.0 / 6.0) < 1e-15);
    assert_true(sift_jaccard(a, 4, c, 1) == 0.0);
    assert_true(sift_jaccard(c, 1, c, 1) == 1.0);
    /* thousands of random pairs against the quadratic reference */
    uint64_t s = 77;
    for (int t = 0; t < 2000; t++) {
        uint64_t x[64], y[64];
        size_t nx = rng_next(&s) % 64, ny = rng_next(&s) % 64;
        unsigned range = 1 + (unsigned)(rng_next(&s) % 100);
        for (size_t i = 0; i < nx; i++)
            x[i] = rng_next(&s) % range;
        for (size_t i = 0; i < ny; i++)
            y[i] = rng_next(&s) % range;
        double ref = ref_jaccard(x, nx, y, ny);
        nx = sift_features_sort_unique(x, nx);
        ny = sift_features_sort_unique(y, ny);
        assert_true(fabs(sift_jaccard(x, nx, y, ny) - ref) < 1e-12);
    }
}

static void test_sketch_edges(void **state)
{
    (void)state;
    sift_minhash_t *mh = (sift_minhash_t *)1;
    sift_minhash_opts_t bad = {.k = 12};
    assert_int_equal(sift_minhash_create(&mh, &bad), SIFT_EINVAL);
    assert_null(mh);
    bad.k = 8192;
    assert_int_equal(sift_minhash_create(&mh, &bad), SIFT_EINVAL);
    bad.k = 64;
    bad.scheme = (sift_minhash_scheme_t)7;
    assert_int_equal(sift_minhash_create(&mh, &bad), SIFT_EINVAL);
    sift_minhash_free(NULL);
    for (int scheme = 0; scheme < 2; scheme++) {
        sift_minhash_opts_t o = {.k = 64, .seed = 5, .scheme = (sift_minhash_scheme_t)scheme};
        assert_int_equal(sift_minhash_create(&mh, &o), 0);
        assert_int_equal(sift_minhash_k(mh), 64);
        uint32_t e[64], one[64], one2[64], dup[64];
        sift_minhash_sketch(mh, NULL, 0, e);
        for (int i = 0; i < 64; i++)
            assert_int_equal(e[i], SIFT_MINHASH_EMPTY);
        assert_true(sift_minhash_similarity(e, e, 64) == 0.0);
        uint64_t f1 = 0x1234567890abcdefu;
        sift_minhash_sketch(mh, &f1, 1, one);
        for (int i = 0; i < 64; i++)
            assert_true(one[i] != SIFT_MINHASH_EMPTY); /* densified: every slot filled */
        assert_true(sift_minhash_similarity(one, one, 64) == 1.0);
        assert_true(sift_minhash_similarity(one, e, 64) == 0.0);
        uint64_t f3[3] = {f1, f1, f1};
        sift_minhash_sketch(mh, f3, 3, dup);
        assert_memory_equal(one, dup, sizeof one); /* duplicates do not count */
        sift_minhash_sketch(mh, &f1, 1, one2);
        assert_memory_equal(one, one2, sizeof one); /* deterministic */
        sift_minhash_free(mh);
    }
    assert_true(sift_minhash_similarity(NULL, NULL, 0) == 0.0);
}

/* Sketch estimates follow the exact Jaccard: order and duplicates do not matter, the error
 * shrinks like 1/sqrt(k), and another seed gives other sketches. */
static void test_sketch_accuracy(void **state)
{
    (void)state;
    for (int scheme = 0; scheme < 2; scheme++) {
        sift_minhash_opts_t o = {.k = 256, .seed = 11, .scheme = (sift_minhash_scheme_t)scheme};
        sift_minhash_t *mh, *other;
        assert_int_equal(sift_minhash_create(&mh, &o), 0);
        o.seed = 12;
        assert_int_equal(sift_minhash_create(&other, &o), 0);
        uint64_t s = 4242;
        double sum_err = 0, max_err = 0;
        int trials = 300, differ = 0;
        for (int t = 0; t < trials; t++) {
            enum { N = 600 };
            uint64_t a[N], b[N], ra[N];
            size_t na = 50 + rng_next(&s) % 500, shared = rng_next(&s) % na;
            for (size_t i = 0; i < na; i++)
                a[i] = rng_next(&s);
            for (size_t i = 0; i < na; i++)
                b[i] = i < shared ? a[i] : rng_next(&s);
            for (size_t i = 0; i < na; i++)
                ra[i] = a[na - 1 - i];
            uint32_t sa[256], sb[256], sr[256], so[256];
            sift_minhash_sketch(mh, a, na, sa);
            sift_minhash_sketch(mh, b, na, sb);
            sift_minhash_sketch(mh, ra, na, sr);
            sift_minhash_sketch(other, a, na, so);
            assert_memory_equal(sa, sr, sizeof sa);
            differ += memcmp(sa, so, sizeof sa) != 0;
            double exact = (double)shared / (double)(2 * na - shared);
            double err = fabs(sift_minhash_similarity(sa, sb, 256) - exact);
            sum_err += err;
            max_err = fmax(max_err, err);
        }
        print_message("scheme %d: mean error %.4f, max %.4f\n", scheme, sum_err / trials, max_err);
        assert_true(sum_err / trials < 0.03); /* sd at k = 256 is at most 0.031 */
        assert_true(max_err < 0.15);
        assert_int_equal(differ, trials);
        sift_minhash_free(mh);
        sift_minhash_free(other);
    }
}

static void test_sketch_many_threads(void **state)
{
    (void)state;
    enum { NSETS = 700 };
    size_t off[NSETS + 1];
    uint64_t *feat = malloc(NSETS * 300 * sizeof *feat);
    uint64_t s = 9;
    off[0] = 0;
    for (size_t i = 0; i < NSETS; i++) {
        size_t n = rng_next(&s) % 300;
        for (size_t j = 0; j < n; j++)
            feat[off[i] + j] = rng_next(&s);
        off[i + 1] = off[i] + n;
    }
    sift_minhash_t *mh;
    assert_int_equal(sift_minhash_create(&mh, NULL), 0);
    assert_int_equal(sift_minhash_k(mh), 128);
    uint32_t *one = malloc(NSETS * 128 * sizeof *one), *many = malloc(NSETS * 128 * sizeof *many);
    assert_int_equal(sift_minhash_sketch_many(mh, feat, off, NSETS, one, 1), 0);
    for (size_t i = 0; i < NSETS; i++) {
        uint32_t single[128];
        sift_minhash_sketch(mh, feat + off[i], off[i + 1] - off[i], single);
        assert_memory_equal(single, one + i * 128, sizeof single);
    }
    for (unsigned th = 2; th <= 4; th++) {
        memset(many, 0, NSETS * 128 * sizeof *many);
        assert_int_equal(sift_minhash_sketch_many(mh, feat, off, NSETS, many, th), 0);
        assert_memory_equal(one, many, NSETS * 128 * sizeof *one);
    }
    assert_int_equal(sift_minhash_sketch_many(mh, feat, off, 0, many, 2), 0);
    free(one);
    free(many);
    free(feat);
    sift_minhash_free(mh);
}

static void test_lsh_params(void **state)
{
    (void)state;
    unsigned b, r;
    assert_int_equal(sift_lsh_derive(0.0, 128, 0.95, &b, &r), SIFT_EINVAL);
    assert_int_equal(sift_lsh_derive(1.0, 128, 0.95, &b, &r), SIFT_EINVAL);
    assert_int_equal(sift_lsh_derive(0.5, 128, 1.0, &b, &r), SIFT_EINVAL);
    assert_int_equal(sift_lsh_derive(0.7, 128, 0.95, &b, &r), 0);
    assert_true(b * r <= 128);
    assert_true(sift_lsh_probability(0.7, b, r) >= 0.95);
    assert_true(r + 1 > 128 / 1 || sift_lsh_probability(0.7, 128 / (r + 1), r + 1) < 0.95);
    assert_int_equal(sift_lsh_derive(0.9, 128, 0.95, &b, &r), 0);
    unsigned b2, r2;
    assert_int_equal(sift_lsh_derive(0.5, 128, 0.95, &b2, &r2), 0);
    assert_true(r2 < r); /* a lower threshold needs fewer rows per band */
    assert_true(sift_lsh_probability(1.0, 4, 4) == 1.0);
    assert_true(sift_lsh_probability(0.0, 4, 4) == 0.0);
    sift_lsh_t *lsh = (sift_lsh_t *)1;
    assert_int_equal(sift_lsh_create(&lsh, 128, 30, 5), SIFT_EINVAL);
    assert_null(lsh);
    assert_int_equal(sift_lsh_create(&lsh, 128, 0, 5), SIFT_EINVAL);
    sift_lsh_free(NULL);
}

static void test_lsh_basic(void **state)
{
    (void)state;
    sift_lsh_t *lsh;
    assert_int_equal(sift_lsh_create(&lsh, 64, 16, 4), 0);
    uint32_t *ids;
    size_t n;
    sift_lsh_pair_t *pairs;
    uint32_t sig[64], empty[64];
    for (int i = 0; i < 64; i++) {
        sig[i] = (uint32_t)i * 2654435761u;
        empty[i] = SIFT_MINHASH_EMPTY;
    }
    /* empty index */
    assert_int_equal(sift_lsh_build(lsh, 1), 0);
    assert_int_equal(sift_lsh_query(lsh, sig, &ids, &n), 0);
    assert_int_equal(n, 0);
    assert_null(ids);
    assert_int_equal(sift_lsh_pairs(lsh, 2, 0, &pairs, &n), 0);
    assert_int_equal(n, 0);
    /* one element, then an unbuilt index refuses queries */
    uint32_t id;
    assert_int_equal(sift_lsh_add(lsh, sig, &id), 0);
    assert_int_equal(id, 0);
    assert_int_equal(sift_lsh_query(lsh, sig, &ids, &n), SIFT_EINVAL);
    assert_int_equal(sift_lsh_build(lsh, 1), 0);
    assert_int_equal(sift_lsh_query(lsh, sig, &ids, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 0);
    free(ids);
    assert_int_equal(sift_lsh_pairs(lsh, 1, 0, &pairs, &n), 0);
    assert_int_equal(n, 0);
    /* a duplicate, an empty set (never a candidate), one band changed, all bands changed */
    assert_int_equal(sift_lsh_add(lsh, sig, NULL), 0);
    assert_int_equal(sift_lsh_add(lsh, empty, NULL), 0);
    assert_int_equal(sift_lsh_add(lsh, empty, NULL), 0);
    uint32_t near[64], far[64];
    memcpy(near, sig, sizeof near);
    near[0] ^= 1;
    for (int i = 0; i < 64; i++)
        far[i] = sig[i] + 1;
    assert_int_equal(sift_lsh_add(lsh, near, NULL), 0);
    assert_int_equal(sift_lsh_add(lsh, far, NULL), 0);
    assert_int_equal(sift_lsh_size(lsh), 6);
    assert_int_equal(sift_lsh_build(lsh, 2), 0);
    assert_int_equal(sift_lsh_query(lsh, sig, &ids, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], 0);
    assert_int_equal(ids[1], 1);
    assert_int_equal(ids[2], 4);
    free(ids);
    assert_int_equal(sift_lsh_query(lsh, empty, &ids, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(sift_lsh_pairs(lsh, 1, 0, &pairs, &n), 0);
    assert_int_equal(n, 3); /* (0,1) (0,4) (1,4), each once although they share 15 bands */
    assert_int_equal(pairs[0].a, 0);
    assert_int_equal(pairs[0].b, 1);
    assert_int_equal(pairs[1].a, 0);
    assert_int_equal(pairs[1].b, 4);
    assert_int_equal(pairs[2].a, 1);
    assert_int_equal(pairs[2].b, 4);
    free(pairs);
    assert_int_equal(sift_lsh_pairs(lsh, 1, 2, &pairs, &n), SIFT_ELIMIT);
    assert_null(pairs);
    sift_lsh_free(lsh);
}

/* Candidate pairs equal the brute-force reference "some band equal", and the same for any
 * number of threads. Signatures come from clustered random sets so that bands collide. */
static void test_lsh_pairs_reference(void **state)
{
    (void)state;
    enum { N = 1500, K = 64, BANDS = 16, ROWS = 4 };
    sift_minhash_opts_t o = {.k = K, .seed = 3};
    sift_minhash_t *mh;
    assert_int_equal(sift_minhash_create(&mh, &o), 0);
    uint32_t *sigs = malloc((size_t)N * K * sizeof *sigs);
    uint64_t s = 31337;
    for (size_t i = 0; i < N; i++) {
        uint64_t f[100];
        uint64_t base = (i % 50) * 1000; /* 50 clusters of overlapping sets */
        for (size_t j = 0; j < 100; j++)
            f[j] = base + (rng_next(&s) % 130);
        sift_minhash_sketch(mh, f, 100, sigs + i * K);
    }
    sift_lsh_t *lsh;
    assert_int_equal(sift_lsh_create(&lsh, K, BANDS, ROWS), 0);
    assert_int_equal(sift_lsh_add_many(lsh, sigs, N, 2), 0);
    assert_int_equal(sift_lsh_build(lsh, 2), 0);
    sift_lsh_pair_t *p1;
    size_t n1;
    assert_int_equal(sift_lsh_pairs(lsh, 1, 0, &p1, &n1), 0);
    size_t ref = 0, k = 0;
    for (uint32_t a = 0; a < N; a++)
        for (uint32_t b = a + 1; b < N; b++) {
            bool cand = false;
            for (unsigned band = 0; band < BANDS && !cand; band++)
                cand = memcmp(sigs + a * K + band * ROWS, sigs + b * K + band * ROWS,
                              ROWS * sizeof(uint32_t)) == 0;
            if (!cand)
                continue;
            ref++;
            assert_true(k < n1);
            assert_int_equal(p1[k].a, a);
            assert_int_equal(p1[k].b, b);
            k++;
        }
    assert_int_equal(ref, n1);
    assert_true(n1 > 1000);
    for (unsigned th = 2; th <= 4; th++) {
        sift_lsh_pair_t *pt;
        size_t nt;
        assert_int_equal(sift_lsh_pairs(lsh, th, 0, &pt, &nt), 0);
        assert_int_equal(nt, n1);
        assert_memory_equal(pt, p1, n1 * sizeof *p1);
        free(pt);
    }
    /* queries agree with the pairs: every pair's partner is in the query answer */
    uint32_t *ids;
    size_t nids;
    assert_int_equal(sift_lsh_query(lsh, sigs + (size_t)p1[0].a * K, &ids, &nids), 0);
    bool has = false;
    for (size_t i = 0; i < nids; i++)
        has = has || ids[i] == p1[0].b;
    assert_true(has);
    free(ids);
    /* adding one by one gives the same index as add_many */
    sift_lsh_t *one;
    assert_int_equal(sift_lsh_create(&one, K, BANDS, ROWS), 0);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(sift_lsh_add(one, sigs + i * K, NULL), 0);
    assert_int_equal(sift_lsh_build(one, 1), 0);
    sift_lsh_pair_t *po;
    size_t no;
    assert_int_equal(sift_lsh_pairs(one, 3, 0, &po, &no), 0);
    assert_int_equal(no, n1);
    assert_memory_equal(po, p1, n1 * sizeof *p1);
    free(po);
    sift_lsh_free(one);
    free(p1);
    free(sigs);
    sift_lsh_free(lsh);
    sift_minhash_free(mh);
}

/* On real payload sets: the exact join used as ground truth equals brute force over all
 * pairs, and the LSH join finds at least 95% of those pairs, identically for 1 and 2 threads.
 */
static void test_real_recall(void **state)
{
    (void)state;
    sift__bench_data_t d;
    char err[SIFT_ERRBUF_SIZE];
    if (sift__bench_data_load(getenv("SIFT_TEST_CAPTURES"), &d, err) < 0)
        skip();
    sift__lsh_sets_t s;
    assert_int_equal(sift__lsh_sets_make(&d, 2500, 0, &s), 0);
    const double t = 0.7;
    uint64_t *exact;
    size_t nexact;
    assert_int_equal(sift__lsh_exact_pairs(&s, t, &exact, &nexact), 0);
    size_t k = 0;
    for (uint32_t a = 0; a < s.n; a++)
        for (uint32_t b = a + 1; b < s.n; b++) {
            double j = sift_jaccard(s.feat + s.off[a], s.off[a + 1] - s.off[a], s.feat + s.off[b],
                                    s.off[b + 1] - s.off[b]);
            if (j < t - 1e-12)
                continue;
            assert_true(k < nexact);
            assert_true(exact[k] == ((uint64_t)a << 32 | b));
            k++;
        }
    assert_int_equal(k, nexact);
    assert_true(nexact > 100);
    sift__lsh_config_t c;
    sift__lsh_default_config(&c);
    uint64_t *found, *found2;
    size_t nfound, nfound2;
    sift__lsh_figures_t fig;
    assert_int_equal(sift__lsh_join(&s, &c, &found, &nfound, &fig), 0);
    double recall;
    assert_int_equal(sift__lsh_recall(found, nfound, exact, nexact, &recall), 0);
    print_message("real sets: %zu exact pairs, %zu candidates, recall %.4f\n", nexact,
                  fig.candidates, recall);
    assert_true(recall >= 0.95);
    c.threads = 2;
    assert_int_equal(sift__lsh_join(&s, &c, &found2, &nfound2, &fig), 0);
    assert_int_equal(nfound2, nfound);
    assert_memory_equal(found, found2, nfound * sizeof *found);
    free(found);
    free(found2);
    free(exact);
    sift__lsh_sets_release(&s);
    sift__bench_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_jaccard),
        cmocka_unit_test(test_sketch_edges),
        cmocka_unit_test(test_sketch_accuracy),
        cmocka_unit_test(test_sketch_many_threads),
        cmocka_unit_test(test_lsh_params),
        cmocka_unit_test(test_lsh_basic),
        cmocka_unit_test(test_lsh_pairs_reference),
        cmocka_unit_test(test_real_recall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
