/* Tests of the benchmark harness (lib/blocks/harness.h) and the bench entry table. Never a
 * timing threshold: only counts, orders and the shape of results. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/bench.h>

#include "blocks/harness.h"
#include "bn_suite.h"

#include <math.h>
#include <string.h>

typedef struct counter {
    uint64_t calls, ops, max_index, wraps_ok;
    uint64_t wrap;
    int fail_at;
} counter_t;

static int count_fn(void *user, uint64_t first, uint64_t count)
{
    counter_t *c = user;
    c->calls++;
    c->ops += count;
    if (first + count > c->max_index)
        c->max_index = first + count;
    if (c->wrap && first + count > c->wrap)
        c->wraps_ok = 0;
    if (c->fail_at && c->calls == (uint64_t)c->fail_at)
        return SIFT_EINTERNAL;
    return 0;
}

static void test_exact_count(void **state)
{
    (void)state;
    counter_t c = {0};
    sift__bench_spec_t spec = {.max_ops = 1050, .batch = 100};
    sift__bench_stats_t st;
    assert_int_equal(sift__bench_measure(&spec, count_fn, &c, &st), 0);
    assert_int_equal(st.ops, 1050);
    assert_int_equal(c.ops, 1050);
    assert_int_equal(c.calls, 11); /* ten of 100 and one of 50 */
    assert_int_equal(st.samples, 11);
    assert_true(st.ops_per_s > 0);
    assert_true(st.p50_ns <= st.p95_ns && st.p95_ns <= st.p99_ns);
}

static void test_reps_wrap_error(void **state)
{
    (void)state;
    counter_t c = {.wrap = 250, .wraps_ok = 1};
    sift__bench_spec_t spec = {.max_ops = 1000, .batch = 100, .reps = 3, .wrap = 250};
    sift__bench_stats_t st;
    assert_int_equal(sift__bench_measure(&spec, count_fn, &c, &st), 0);
    assert_int_equal(c.ops, 3000);
    assert_int_equal(c.max_index, 250);
    assert_int_equal(c.wraps_ok, 1);
    counter_t f = {.fail_at = 3};
    assert_int_equal(sift__bench_measure(&spec, count_fn, &f, &st), SIFT_EINTERNAL);
    /* time-bounded: at least min_ops */
    counter_t t = {0};
    sift__bench_spec_t ts = {.min_seconds = 0.01, .min_ops = 500, .batch = 7};
    assert_int_equal(sift__bench_measure(&ts, count_fn, &t, &st), 0);
    assert_true(st.ops >= 500 && st.seconds >= 0.01);
}

static void test_percentile_speedup(void **state)
{
    (void)state;
    double v[101];
    for (int i = 0; i <= 100; i++)
        v[i] = 100 - i;
    assert_true(sift__bench_percentile(v, 101, 0.5) == 50);
    assert_true(sift__bench_percentile(v, 101, 0.99) == 99);
    assert_true(sift__bench_percentile(v, 101, 0) == 0);
    assert_true(sift__bench_percentile(v, 0, 0.5) == 0);
    sift__bench_stats_t a = {.ops_per_s = 300}, b = {.ops_per_s = 100}, z = {0};
    assert_true(sift__bench_speedup(&a, &b) == 3);
    assert_true(sift__bench_speedup(&a, &z) == 0);
}

static void test_entries(void **state)
{
    (void)state;
    const char *want[] = {"bloom", "lsh", "patterns", "patcache", "rolling"};
    assert_int_equal(sift_bench_count(), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(sift_bench_name(i), want[i]);
        assert_non_null(sift_bench_description(i));
    }
    assert_null(sift_bench_name(5));
    sift_bench_result_t r;
    assert_int_equal(sift_bench_run("nope", NULL, &r), SIFT_ENOTFOUND);
    sift_bench_opts_t o = {.quick = true, .data_dir = "/nonexistent/dir"};
    assert_int_equal(sift_bench_run("bloom", &o, &r), SIFT_ENOENT);
    assert_non_null(strstr(r.text, "/nonexistent/dir"));
    assert_true(isnan(sift_bench_field(&r, "fp_rate")));
}

/* The pattern sets of the matcher's benchmarks: n literals, one in `every` taken from the
 * payloads (so found there), the scanner and the memmem loop agreeing on every pair. */
static void test_pattern_set(void **state)
{
    (void)state;
    static const char text[] = "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>";
    uint8_t bytes[sizeof text * 2];
    memcpy(bytes, text, sizeof text - 1);
    memcpy(bytes + sizeof text - 1, text + 20, sizeof text - 21);
    size_t off[] = {0, sizeof text - 1, 2 * sizeof text - 22};
    sift__bench_data_t d = {.bytes = bytes, .off = off, .npayloads = 2};
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_patterns_t *ps;
    assert_int_equal(sift__bench_pattern_set(ctx, &d, 20, 2, 7, &ps), 0);
    assert_int_equal(sift_patterns_count(ps), 20);
    for (size_t i = 0; i < 20; i++) {
        const sift_pattern_t *p = sift_patterns_at(ps, i);
        assert_true(p->len >= 8 && p->len <= 16);
        assert_int_equal(p->text[0] == '|', i % 2 == 0); /* the taken ones, as |hex| */
    }
    sift_matcher_t *m;
    sift_scanner_t *sc;
    assert_int_equal(sift_matcher_compile(&m, ctx, ps, NULL, NULL), 0);
    assert_int_equal(sift_scanner_create(&sc, m), 0);
    uint8_t a[2 * 20] = {0}, b[2 * 20] = {0};
    sift__bench_scan_pairs(sc, &d, 2, 20, a);
    sift__bench_memmem_pairs(ps, &d, 2, b);
    assert_memory_equal(a, b, sizeof a);
    for (size_t i = 0; i < 20; i++) /* each taken literal is in one payload at least */
        assert_int_equal(a[i] | a[20 + i], i % 2 == 0);
    sift_scanner_free(sc);
    sift_matcher_free(m);
    sift_patterns_free(ps);
    assert_int_equal(
        sift__bench_pattern_set(
            ctx, &(sift__bench_data_t){.bytes = bytes, .off = off, .npayloads = 0}, 3, 1, 7, &ps),
        0);
    sift_patterns_free(ps);
    sift_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_count),        cmocka_unit_test(test_reps_wrap_error),
        cmocka_unit_test(test_percentile_speedup), cmocka_unit_test(test_entries),
        cmocka_unit_test(test_pattern_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
