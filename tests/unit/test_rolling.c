/* Tests of rolling statistics, summaries and quantile sketches: edge cases, NaN refused,
 * agreement with recomputation on thousands of random and real inputs, count and time
 * windows, merges, numerical stability, and thread-count independence of merged summaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/pool.h>
#include <capsift/rolling.h>

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

static double rng_double(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_create_invalid(void **state)
{
    (void)state;
    sift_rolling_t *r = (sift_rolling_t *)1;
    sift_rolling_opts_t o = {0};
    assert_int_equal(sift_rolling_create(&r, &o), SIFT_EINVAL); /* no window at all */
    assert_null(r);
    o.window_ns = -5;
    assert_int_equal(sift_rolling_create(&r, &o), SIFT_EINVAL);
    o.window_ns = 0;
    o.window_count = 10;
    o.quantile_alpha = 0.7;
    assert_int_equal(sift_rolling_create(&r, &o), SIFT_EINVAL);
    sift_rolling_free(NULL);
    sift_qsketch_t *q = (sift_qsketch_t *)1;
    assert_int_equal(sift_qsketch_create(&q, 0.5), SIFT_EINVAL);
    assert_null(q);
    sift_qsketch_free(NULL);
}

static void test_empty_one_nan(void **state)
{
    (void)state;
    sift_rolling_t *r;
    sift_rolling_opts_t o = {.window_count = 1};
    assert_int_equal(sift_rolling_create(&r, &o), 0);
    double q;
    assert_int_equal(sift_rolling_count(r), 0);
    assert_true(sift_rolling_mean(r) == 0 && sift_rolling_sum(r) == 0);
    assert_true(sift_rolling_min(r) == 0 && sift_rolling_max(r) == 0);
    assert_true(sift_rolling_variance(r) == 0);
    assert_int_equal(sift_rolling_quantile(r, 0.5, &q), SIFT_ENOTFOUND);
    assert_int_equal(sift_rolling_push(r, 0, NAN), SIFT_ENAN);
    assert_int_equal(sift_rolling_push(r, 0, INFINITY), SIFT_EINVAL);
    assert_int_equal(sift_rolling_push(r, 0, -INFINITY), SIFT_EINVAL);
    assert_int_equal(sift_rolling_count(r), 0);
    /* a window of one sample */
    for (int i = 0; i < 100; i++) {
        double x = i * 1.5 - 30;
        assert_int_equal(sift_rolling_push(r, i, x), 0);
        assert_int_equal(sift_rolling_count(r), 1);
        assert_true(sift_rolling_mean(r) == x);
        assert_true(sift_rolling_sum(r) == x);
        assert_true(sift_rolling_min(r) == x && sift_rolling_max(r) == x);
        assert_true(sift_rolling_variance(r) == 0);
        assert_int_equal(sift_rolling_quantile(r, 0.5, &q), 0);
        assert_true(fabs(q - x) <= 0.01 * fabs(x) + 1e-9);
    }
    assert_int_equal(sift_rolling_push(r, 0, NAN), SIFT_ENAN);
    assert_true(sift_rolling_mean(r) == 99 * 1.5 - 30); /* a refused sample changes nothing */
    assert_int_equal(sift_rolling_quantile(r, NAN, &q), SIFT_ENAN);
    assert_int_equal(sift_rolling_quantile(r, 1.5, &q), SIFT_EINVAL);
    sift_rolling_clear(r);
    assert_int_equal(sift_rolling_count(r), 0);
    sift_rolling_free(r);

    /* without quantiles */
    sift_rolling_opts_t nq = {.window_count = 4, .quantile_alpha = -1};
    assert_int_equal(sift_rolling_create(&r, &nq), 0);
    assert_int_equal(sift_rolling_push(r, 0, 1), 0);
    assert_int_equal(sift_rolling_quantile(r, 0.5, &q), SIFT_EUNSUPPORTED);
    assert_null(sift_rolling_qsketch(r));
    sift_rolling_free(r);
}

static void test_duplicates(void **state)
{
    (void)state;
    sift_rolling_t *r;
    sift_rolling_opts_t o = {.window_count = 50};
    assert_int_equal(sift_rolling_create(&r, &o), 0);
    for (int i = 0; i < 500; i++)
        assert_int_equal(sift_rolling_push(r, i, 7.25), 0);
    assert_int_equal(sift_rolling_count(r), 50);
    assert_true(sift_rolling_variance(r) == 0);
    assert_true(sift_rolling_min(r) == 7.25 && sift_rolling_max(r) == 7.25);
    assert_true(fabs(sift_rolling_sum(r) - 362.5) < 1e-9);
    sift_rolling_free(r);
}

/* Reference: statistics of v[0..n) recomputed, two-pass variance, exact quantile. */
typedef struct ref {
    double sum, mean, var, min, max;
} ref_t;

static ref_t ref_stats(const double *v, size_t n)
{
    ref_t s = {0, 0, 0, v[0], v[0]};
    for (size_t i = 0; i < n; i++) {
        s.sum += v[i];
        s.min = fmin(s.min, v[i]);
        s.max = fmax(s.max, v[i]);
    }
    s.mean = s.sum / (double)n;
    double m2 = 0;
    for (size_t i = 0; i < n; i++)
        m2 += (v[i] - s.mean) * (v[i] - s.mean);
    s.var = n > 1 ? m2 / (double)(n - 1) : 0;
    return s;
}

static double ref_quantile(const double *v, size_t n, double q)
{
    double *c = malloc(n * sizeof *c);
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    double r = c[(size_t)(q * (double)(n - 1))];
    free(c);
    return r;
}

static void check_against(const sift_rolling_t *r, const double *win, size_t n, double alpha)
{
    ref_t s = ref_stats(win, n);
    assert_int_equal(sift_rolling_count(r), n);
    double scale = fmax(fabs(s.mean), 1.0);
    assert_true(fabs(sift_rolling_mean(r) - s.mean) <= 1e-9 * scale);
    assert_true(fabs(sift_rolling_sum(r) - s.sum) <= 1e-9 * fmax(fabs(s.sum), 1.0));
    assert_true(fabs(sift_rolling_variance(r) - s.var) <= 1e-7 * fmax(s.var, 1.0));
    assert_true(sift_rolling_min(r) == s.min);
    assert_true(sift_rolling_max(r) == s.max);
    const double qs[] = {0, 0.1, 0.5, 0.9, 0.99, 1};
    for (size_t i = 0; i < 6; i++) {
        double got, want = ref_quantile(win, n, qs[i]);
        assert_int_equal(sift_rolling_quantile(r, qs[i], &got), 0);
        assert_true(fabs(got - want) <= alpha * (1 + 1e-9) * fabs(want) + 1e-9);
    }
}

/* Count windows of several sizes over random data (mixed signs, zeros, spikes) and over the
 * real packet-length series, checked against recomputation at every step. */
static void run_count_windows(const double *series, size_t n, size_t check_every)
{
    const size_t sizes[] = {1, 2, 7, 100, 1000};
    for (size_t si = 0; si < 5; si++) {
        size_t w = sizes[si];
        sift_rolling_t *r;
        sift_rolling_opts_t o = {.window_count = w, .quantile_alpha = 0.01};
        assert_int_equal(sift_rolling_create(&r, &o), 0);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(sift_rolling_push(r, (int64_t)i, series[i]), 0);
            size_t have = i + 1 < w ? i + 1 : w;
            if (i % check_every == 0 || i + 1 == n)
                check_against(r, series + i + 1 - have, have, 0.01);
        }
        sift_rolling_free(r);
    }
}

static void test_count_windows_random(void **state)
{
    (void)state;
    enum { N = 6000 };
    double *v = malloc(N * sizeof *v);
    uint64_t s = 2024;
    for (size_t i = 0; i < N; i++) {
        double u = rng_double(&s);
        v[i] = u < 0.05 ? 0.0 : u < 0.1 ? 1e6 * rng_double(&s) : (rng_double(&s) - 0.3) * 100;
    }
    run_count_windows(v, N, 7);
    free(v);
}

static void test_count_windows_real(void **state)
{
    (void)state;
    sift__bench_data_t d;
    char err[SIFT_ERRBUF_SIZE];
    if (sift__bench_data_load(getenv("SIFT_TEST_CAPTURES"), &d, err) < 0)
        skip();
    assert_true(d.npkts > 1000);
    run_count_windows(d.wirelen, d.npkts, 5);
    sift__bench_data_release(&d);
}

/* Time windows: samples with ts in (newest - T, newest], checked against a plain scan. */
static void test_time_windows(void **state)
{
    (void)state;
    enum { N = 5000 };
    double v[N];
    int64_t ts[N];
    uint64_t s = 99;
    int64_t t = 1000;
    for (size_t i = 0; i < N; i++) {
        t += (int64_t)(rng_next(&s) % 3 == 0 ? 0 : rng_next(&s) % 2000); /* equal stamps too */
        ts[i] = t;
        v[i] = rng_double(&s) * 50 + 1;
    }
    const int64_t windows[] = {1, 1000, 50000, 1000000};
    for (size_t wi = 0; wi < 4; wi++) {
        sift_rolling_t *r;
        sift_rolling_opts_t o = {.window_ns = windows[wi]};
        assert_int_equal(sift_rolling_create(&r, &o), 0);
        size_t first = 0;
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(sift_rolling_push(r, ts[i], v[i]), 0);
            while (ts[i] - ts[first] >= windows[wi])
                first++;
            if (i % 3 == 0)
                check_against(r, v + first, i + 1 - first, 0.01);
        }
        /* time going backwards is refused */
        assert_int_equal(sift_rolling_push(r, ts[N - 1] - 1, 1.0), SIFT_EINVAL);
        assert_int_equal(sift_rolling_advance(r, ts[N - 1] - 1), SIFT_EINVAL);
        /* advancing past the window empties it */
        assert_int_equal(sift_rolling_advance(r, ts[N - 1] + windows[wi]), 0);
        assert_int_equal(sift_rolling_count(r), 0);
        sift_rolling_free(r);
    }
}

/* A window smaller than one sample: samples 1 s apart in a 1 ns window hold only the
 * newest; a count window and a time window together keep the tighter bound. */
static void test_tiny_and_both(void **state)
{
    (void)state;
    sift_rolling_t *r;
    sift_rolling_opts_t o = {.window_ns = 1};
    assert_int_equal(sift_rolling_create(&r, &o), 0);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(sift_rolling_push(r, (int64_t)i * 1000000000, i), 0);
        assert_int_equal(sift_rolling_count(r), 1);
        assert_true(sift_rolling_mean(r) == i);
    }
    sift_rolling_free(r);
    sift_rolling_opts_t both = {.window_count = 3, .window_ns = 10};
    assert_int_equal(sift_rolling_create(&r, &both), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(sift_rolling_push(r, 0, i), 0);
    assert_int_equal(sift_rolling_count(r), 3); /* the count bound */
    assert_int_equal(sift_rolling_push(r, 15, 100), 0);
    assert_int_equal(sift_rolling_count(r), 1); /* the time bound */
    sift_rolling_free(r);
    /* time windows honour max_samples */
    sift_rolling_opts_t cap = {.window_ns = 1000, .max_samples = 10};
    assert_int_equal(sift_rolling_create(&r, &cap), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(sift_rolling_push(r, i, i), 0);
    assert_int_equal(sift_rolling_push(r, 11, 1), SIFT_ELIMIT);
    sift_rolling_free(r);
}

/* Values far from zero with a tiny spread: naive sum-of-squares formulas lose every digit;
 * Welford with periodic recomputation keeps them, over many windows. */
static void test_stability(void **state)
{
    (void)state;
    enum { W = 100, N = 200000 };
    sift_rolling_t *r;
    sift_rolling_opts_t o = {.window_count = W, .quantile_alpha = -1};
    assert_int_equal(sift_rolling_create(&r, &o), 0);
    double *v = malloc(N * sizeof *v);
    uint64_t s = 5;
    for (size_t i = 0; i < N; i++) {
        v[i] = 1e9 + rng_double(&s) * (i < N / 2 ? 1e-3 : 1e3); /* the spread jumps midway */
        assert_int_equal(sift_rolling_push(r, (int64_t)i, v[i]), 0);
    }
    ref_t ref = ref_stats(v + N - W, W);
    assert_true(fabs(sift_rolling_variance(r) - ref.var) <= 1e-6 * ref.var);
    assert_true(fabs(sift_rolling_mean(r) - ref.mean) <= 1e-12 * ref.mean);
    free(v);
    sift_rolling_free(r);
}

static void test_summary_merge(void **state)
{
    (void)state;
    sift_summary_t a, b, all, e;
    sift_summary_init(&a);
    sift_summary_init(&b);
    sift_summary_init(&all);
    sift_summary_init(&e);
    assert_int_equal(sift_summary_add(&a, NAN), SIFT_ENAN);
    assert_int_equal(sift_summary_add(&a, INFINITY), SIFT_EINVAL);
    assert_int_equal(a.count, 0);
    assert_true(sift_summary_variance(&a) == 0);
    uint64_t s = 8;
    for (int i = 0; i < 3000; i++) {
        double x = rng_double(&s) * 1000 - 200;
        assert_int_equal(sift_summary_add(i < 1000 ? &a : &b, x), 0);
        assert_int_equal(sift_summary_add(&all, x), 0);
    }
    sift_summary_t m = a;
    sift_summary_merge(&m, &e); /* empty changes nothing */
    assert_memory_equal(&m, &a, sizeof m);
    sift_summary_merge(&e, &a); /* into empty: a copy */
    assert_memory_equal(&e, &a, sizeof e);
    sift_summary_merge(&m, &b);
    assert_int_equal(m.count, all.count);
    assert_true(m.min == all.min && m.max == all.max);
    assert_true(fabs(m.mean - all.mean) < 1e-9);
    assert_true(fabs(sift_summary_variance(&m) - sift_summary_variance(&all)) <
                1e-9 * sift_summary_variance(&all));
}

static void test_qsketch(void **state)
{
    (void)state;
    sift_qsketch_t *a, *b, *all, *other;
    assert_int_equal(sift_qsketch_create(&a, 0.01), 0);
    assert_int_equal(sift_qsketch_create(&b, 0.01), 0);
    assert_int_equal(sift_qsketch_create(&all, 0), 0);
    assert_int_equal(sift_qsketch_create(&other, 0.02), 0);
    assert_true(sift_qsketch_alpha(all) == 0.01);
    double q;
    assert_int_equal(sift_qsketch_quantile(a, 0.5, &q), SIFT_ENOTFOUND);
    assert_int_equal(sift_qsketch_add(a, NAN), SIFT_ENAN);
    assert_int_equal(sift_qsketch_remove(a, 5.0), SIFT_ENOTFOUND);
    enum { N = 4000 };
    double v[N];
    uint64_t s = 17;
    for (int i = 0; i < N; i++) {
        double u = rng_double(&s);
        v[i] = u < 0.1 ? 0.0 : (u < 0.3 ? -1 : 1) * exp(rng_double(&s) * 20 - 5);
        assert_int_equal(sift_qsketch_add(i % 2 ? a : b, v[i]), 0);
        assert_int_equal(sift_qsketch_add(all, v[i]), 0);
    }
    assert_int_equal(sift_qsketch_merge(a, other), SIFT_EINVAL);
    assert_int_equal(sift_qsketch_merge(a, b), 0);
    assert_int_equal(sift_qsketch_count(a), N);
    qsort(v, N, sizeof *v, cmp_double);
    for (double p = 0; p <= 1.0; p += 0.05) {
        double x, y, want = v[(size_t)(p * (N - 1))];
        assert_int_equal(sift_qsketch_quantile(a, p, &x), 0);
        assert_int_equal(sift_qsketch_quantile(all, p, &y), 0);
        assert_true(x == y); /* a merge is exact */
        assert_true(fabs(x - want) <= 0.01 * fabs(want) + 1e-9);
    }
    /* removing everything again */
    for (int i = 0; i < N; i++)
        assert_int_equal(sift_qsketch_remove(all, v[i]), 0);
    assert_int_equal(sift_qsketch_count(all), 0);
    assert_int_equal(sift_qsketch_quantile(all, 0.5, &q), SIFT_ENOTFOUND);
    sift_qsketch_clear(a);
    assert_int_equal(sift_qsketch_count(a), 0);
    sift_qsketch_free(a);
    sift_qsketch_free(b);
    sift_qsketch_free(all);
    sift_qsketch_free(other);
}

/* Per-chunk summaries merged in chunk order give the same bits for any thread count. */
typedef struct chunk_job {
    const double *v;
    size_t per;
    sift_summary_t part[32];
} chunk_job_t;

static void chunk_task(void *user, size_t task, unsigned worker)
{
    (void)worker;
    chunk_job_t *job = user;
    sift_summary_init(&job->part[task]);
    for (size_t i = task * job->per; i < (task + 1) * job->per; i++)
        sift_summary_add(&job->part[task], job->v[i]);
}

static void test_threads(void **state)
{
    (void)state;
    enum { CHUNKS = 32, PER = 1000 };
    double *v = malloc(CHUNKS * PER * sizeof *v);
    uint64_t s = 123;
    for (size_t i = 0; i < CHUNKS * PER; i++)
        v[i] = rng_double(&s) * 1e4;
    sift_summary_t res[4];
    for (unsigned th = 1; th <= 4; th++) {
        chunk_job_t job = {.v = v, .per = PER};
        assert_int_equal(sift_pool_run(th, CHUNKS, chunk_task, &job, NULL, 0), 0);
        sift_summary_init(&res[th - 1]);
        for (size_t c = 0; c < CHUNKS; c++)
            sift_summary_merge(&res[th - 1], &job.part[c]);
        assert_memory_equal(&res[th - 1], &res[0], sizeof res[0]);
    }
    assert_int_equal(res[0].count, CHUNKS * PER);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_invalid),
        cmocka_unit_test(test_empty_one_nan),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_count_windows_random),
        cmocka_unit_test(test_count_windows_real),
        cmocka_unit_test(test_time_windows),
        cmocka_unit_test(test_tiny_and_both),
        cmocka_unit_test(test_stability),
        cmocka_unit_test(test_summary_merge),
        cmocka_unit_test(test_qsketch),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
