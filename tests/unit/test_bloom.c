/* Tests of the blocked Bloom filter: edge cases, no false negatives, the false-positive rate
 * against the target on random and real keys, agreement with a reference implementation,
 * merge, serialisation, and concurrent readers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/bloom.h>
#include <capsift/minhash.h>
#include <capsift/pool.h>

#include "bn_suite.h"

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

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_create_invalid(void **state)
{
    (void)state;
    sift_bloom_t *f = (sift_bloom_t *)1;
    assert_int_equal(sift_bloom_create(&f, 100, 0.0, 0), SIFT_EINVAL);
    assert_null(f);
    assert_int_equal(sift_bloom_create(&f, 100, 1.0, 0), SIFT_EINVAL);
    assert_int_equal(sift_bloom_create(&f, 100, NAN, 0), SIFT_EINVAL);
    assert_int_equal(sift_bloom_create(&f, 100, -0.5, 0), SIFT_EINVAL);
    sift_bloom_free(NULL);
}

static void test_empty_and_one(void **state)
{
    (void)state;
    sift_bloom_t *f;
    assert_int_equal(sift_bloom_create(&f, 0, 0.01, 7), 0); /* 0 keys: sized for 1 */
    assert_true(sift_bloom_nblocks(f) >= 1);
    assert_false(sift_bloom_contains(f, "", 0));
    assert_false(sift_bloom_contains(f, "abc", 3));
    sift_bloom_add(f, "abc", 3);
    assert_true(sift_bloom_contains(f, "abc", 3));
    sift_bloom_add(f, "abc", 3); /* duplicate */
    assert_true(sift_bloom_contains(f, "abc", 3));
    assert_int_equal(sift_bloom_count(f), 2);
    sift_bloom_add(f, "", 0); /* the empty key is a key */
    assert_true(sift_bloom_contains(f, "", 0));
    sift_bloom_clear(f);
    assert_false(sift_bloom_contains(f, "abc", 3));
    assert_int_equal(sift_bloom_count(f), 0);
    sift_bloom_free(f);
}

/* The reference: the same split-block layout written out plainly, bit by bit. */
static bool ref_contains(const uint32_t *words, uint64_t nblocks, uint64_t h)
{
    static const uint32_t salt[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                     0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};
    uint64_t block = (uint64_t)(((unsigned __int128)(h >> 32) * nblocks) >> 32);
    for (int i = 0; i < 8; i++) {
        unsigned bit = (unsigned)(((uint32_t)h * salt[i]) >> 27);
        if (!((words[block * 8 + i] >> bit) & 1))
            return false;
    }
    return true;
}

static void test_reference_and_fp(void **state)
{
    (void)state;
    const double targets[] = {0.05, 0.01, 0.001};
    for (size_t t = 0; t < 3; t++) {
        const size_t n = 100000;
        sift_bloom_t *f;
        assert_int_equal(sift_bloom_create(&f, n, targets[t], 42), 0);
        uint64_t s = 88172645463325252u;
        for (size_t i = 0; i < n; i++) {
            uint64_t k = rng_next(&s);
            sift_bloom_add(f, &k, sizeof k);
        }
        /* no false negatives */
        s = 88172645463325252u;
        for (size_t i = 0; i < n; i++) {
            uint64_t k = rng_next(&s);
            assert_true(sift_bloom_contains(f, &k, sizeof k));
        }
        /* the reference agrees on every answer, through the serialised bits */
        size_t size = sift_bloom_serialized_size(f);
        uint8_t *buf = malloc(size);
        assert_int_equal(sift_bloom_serialize(f, buf, size), 0);
        uint64_t nb = sift_bloom_nblocks(f);
        uint32_t *words = malloc(nb * 32);
        for (size_t w = 0; w < nb * 8; w++) {
            const uint8_t *p = buf + 48 + 4 * w;
            words[w] =
                (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        }
        size_t fps = 0, trials = 400000;
        uint64_t s2 = 0x9e3779b97f4a7c15u;
        for (size_t i = 0; i < trials; i++) {
            uint64_t k = rng_next(&s2) | (UINT64_C(1) << 63); /* disjoint from the keys? */
            uint64_t h = sift_bloom_hash(f, &k, sizeof k);
            bool yes = sift_bloom_contains(f, &k, sizeof k);
            assert_int_equal(yes, ref_contains(words, nb, h));
            fps += yes;
        }
        double fp = (double)fps / (double)trials;
        /* a few random keys may collide with members: negligible against the rate */
        assert_true(fp <= 1.5 * targets[t]);
        assert_true(fp >= targets[t] / 3);
        free(words);
        free(buf);
        sift_bloom_free(f);
    }
}

static void test_real_keys_fp(void **state)
{
    (void)state;
    sift__bench_data_t d;
    char err[SIFT_ERRBUF_SIZE];
    int rc = sift__bench_data_load(getenv("SIFT_TEST_CAPTURES"), &d, err);
    if (rc < 0)
        skip();
    /* members: 8-grams of even payloads; probes: 8-grams of odd payloads not seen as members
     * (checked against a sorted exact list of member hashes) */
    sift_bloom_t *f;
    size_t nkeys = 0;
    for (size_t i = 0; i < d.npayloads; i += 2)
        nkeys += d.off[i + 1] - d.off[i];
    assert_int_equal(sift_bloom_create(&f, nkeys, 0.01, 1), 0);
    uint64_t *mem = malloc(nkeys * sizeof *mem);
    size_t nm = 0;
    for (size_t i = 0; i < d.npayloads; i += 2)
        for (size_t p = d.off[i]; p + 8 <= d.off[i + 1]; p++) {
            sift_bloom_add(f, d.bytes + p, 8);
            mem[nm++] = sift_bloom_hash(f, d.bytes + p, 8);
        }
    /* sizing from the distinct count keeps the rate honest */
    size_t distinct = sift_features_sort_unique(mem, nm);
    sift_bloom_t *g;
    assert_int_equal(sift_bloom_create(&g, distinct, 0.01, 1), 0);
    for (size_t i = 0; i < distinct; i++)
        sift_bloom_add_hash(g, mem[i]);
    size_t fps = 0, probes = 0;
    for (size_t i = 1; i < d.npayloads; i += 2)
        for (size_t p = d.off[i]; p + 8 <= d.off[i + 1]; p++) {
            uint64_t h = sift_bloom_hash(g, d.bytes + p, 8);
            if (bsearch(&h, mem, distinct, sizeof h, cmp_u64))
                continue; /* a member: not a false-positive trial */
            probes++;
            fps += sift_bloom_contains_hash(g, h);
        }
    assert_true(probes > 10000);
    double fp = (double)fps / (double)probes;
    print_message("real keys: %zu distinct members, fp %.4f over %zu probes\n", distinct, fp,
                  probes);
    assert_true(fp <= 0.015);
    free(mem);
    sift_bloom_free(f);
    sift_bloom_free(g);
    sift__bench_data_release(&d);
}

static void test_merge(void **state)
{
    (void)state;
    sift_bloom_t *a, *b, *c;
    assert_int_equal(sift_bloom_create(&a, 10000, 0.01, 3), 0);
    assert_int_equal(sift_bloom_create(&b, 10000, 0.01, 3), 0);
    assert_int_equal(sift_bloom_create(&c, 20000, 0.01, 3), 0);
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t k = i, m = i + 1000000;
        sift_bloom_add(a, &k, sizeof k);
        sift_bloom_add(b, &m, sizeof m);
    }
    assert_int_equal(sift_bloom_merge(a, c), SIFT_EINVAL);
    sift_bloom_t *d;
    assert_int_equal(sift_bloom_create(&d, 10000, 0.01, 4), 0); /* other seed */
    assert_int_equal(sift_bloom_merge(a, d), SIFT_EINVAL);
    assert_int_equal(sift_bloom_merge(a, b), 0);
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t k = i, m = i + 1000000;
        assert_true(sift_bloom_contains(a, &k, sizeof k));
        assert_true(sift_bloom_contains(a, &m, sizeof m));
    }
    assert_int_equal(sift_bloom_count(a), 10000);
    sift_bloom_free(a);
    sift_bloom_free(b);
    sift_bloom_free(c);
    sift_bloom_free(d);
}

static void test_serialize(void **state)
{
    (void)state;
    sift_bloom_t *f, *g = NULL;
    assert_int_equal(sift_bloom_create(&f, 5000, 0.02, 99), 0);
    for (uint64_t i = 0; i < 5000; i++)
        sift_bloom_add(f, &i, sizeof i);
    size_t size = sift_bloom_serialized_size(f);
    uint8_t *buf = malloc(size);
    assert_int_equal(sift_bloom_serialize(f, buf, size - 1), SIFT_EINVAL);
    assert_int_equal(sift_bloom_serialize(f, buf, size), 0);
    assert_int_equal(sift_bloom_load(&g, buf, size - 1), SIFT_ETRUNC);
    assert_null(g);
    assert_int_equal(sift_bloom_load(&g, buf, 10), SIFT_EFORMAT);
    buf[0] ^= 1;
    assert_int_equal(sift_bloom_load(&g, buf, size), SIFT_EFORMAT);
    buf[0] ^= 1;
    assert_int_equal(sift_bloom_load(&g, buf, size), 0);
    assert_int_equal(sift_bloom_nblocks(g), sift_bloom_nblocks(f));
    assert_int_equal(sift_bloom_seed(g), 99);
    assert_true(sift_bloom_target_fp(g) == 0.02);
    for (uint64_t i = 0; i < 20000; i++)
        assert_int_equal(sift_bloom_contains(f, &i, sizeof i),
                         sift_bloom_contains(g, &i, sizeof i));
    assert_int_equal(sift_bloom_merge(f, g), 0); /* same shape */
    sift_bloom_free(g);
    /* a header claiming zero blocks is damaged */
    memset(buf + 24, 0, 8);
    assert_int_equal(sift_bloom_load(&g, buf, size), SIFT_ECORRUPT);
    free(buf);
    sift_bloom_free(f);
}

static void test_contains_many(void **state)
{
    (void)state;
    sift_bloom_t *f;
    assert_int_equal(sift_bloom_create(&f, 50000, 0.01, 5), 0);
    enum { N = 100000 };
    uint64_t *h = malloc(N * sizeof *h);
    uint8_t *out = malloc(N);
    uint64_t s = 12345;
    for (size_t i = 0; i < N; i++) {
        h[i] = rng_next(&s);
        if (i % 2)
            sift_bloom_add_hash(f, h[i]);
    }
    size_t hits = sift_bloom_contains_many(f, h, N, out), check = 0;
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(out[i], sift_bloom_contains_hash(f, h[i]));
        check += out[i];
        if (i % 2)
            assert_true(out[i]);
    }
    assert_int_equal(hits, check);
    assert_int_equal(sift_bloom_contains_many(f, h, 0, out), 0);
    free(h);
    free(out);
    sift_bloom_free(f);
}

typedef struct reader_job {
    const sift_bloom_t *f;
    uint64_t hits[16];
} reader_job_t;

static void reader_task(void *user, size_t task, unsigned worker)
{
    reader_job_t *job = user;
    (void)worker;
    uint64_t hits = 0;
    for (uint64_t i = task * 10000; i < (task + 1) * 10000; i++)
        hits += sift_bloom_contains(job->f, &i, sizeof i);
    job->hits[task] = hits;
}

static void test_threads(void **state)
{
    (void)state;
    sift_bloom_t *f;
    assert_int_equal(sift_bloom_create(&f, 40000, 0.01, 8), 0);
    for (uint64_t i = 0; i < 160000; i += 4)
        sift_bloom_add(f, &i, sizeof i);
    reader_job_t one = {f, {0}}, many = {f, {0}};
    reader_task(&one, 0, 0);
    for (size_t t = 1; t < 16; t++)
        reader_task(&one, t, 0);
    for (unsigned th = 2; th <= 4; th++) {
        memset(many.hits, 0, sizeof many.hits);
        assert_int_equal(sift_pool_run(th, 16, reader_task, &many, NULL, 0), 0);
        assert_memory_equal(one.hits, many.hits, sizeof one.hits);
    }
    sift_bloom_free(f);
}

static void test_model(void **state)
{
    (void)state;
    sift_bloom_t *f;
    assert_int_equal(sift_bloom_create(&f, 1000000, 0.01, 0), 0);
    double m = sift_bloom_model_fp(f, 1000000);
    assert_true(m <= 0.01 && m > 0.008);
    assert_true(sift_bloom_model_fp(f, 0) == 0.0);
    assert_true(sift_bloom_model_fp(f, 2000000) > m);
    /* about 10.5 bits per key at 1% for this layout */
    double bits = 8.0 * (double)sift_bloom_memory(f) / 1e6;
    assert_true(bits > 9.0 && bits < 12.0);
    sift_bloom_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_invalid),
        cmocka_unit_test(test_empty_and_one),
        cmocka_unit_test(test_reference_and_fp),
        cmocka_unit_test(test_real_keys_fp),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_serialize),
        cmocka_unit_test(test_contains_many),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
