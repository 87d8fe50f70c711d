/* Tests of the SVG line chart: refused charts, nice steps, escaping of the caller's strings,
 * a one-point spike kept when a long series is drawn per pixel column, broken lines at NaN,
 * markers, clock-time and linear axes, a write error reported, charts stacked in one document,
 * the autocorrelation of the spectrum module against a direct sum, and its transforms answered
 * from a result cache with the numbers computed ones have. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/cache.h>
#include <capsift/chart.h>
#include <capsift/spectrum.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The chart as a string (to free), or NULL when sift_chart_svg failed (*rc says how). */
static char *render(const sift_chart_t *c, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = sift_chart_svg(f, c);
    fclose(f);
    if (*rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

static void test_refused(void **state)
{
    (void)state;
    double x[3] = {1, 2, 2}, y[3] = {1, 2, 3};
    sift_chart_series_t s = {.name = "a", .x = x, .y = y, .n = 3};
    sift_chart_t c = {.series = &s, .nseries = 1};
    int rc;
    assert_null(render(&c, &rc)); /* x not strictly ascending */
    assert_int_equal(rc, SIFT_EINVAL);
    s.n = 0;
    assert_null(render(&c, &rc));
    assert_int_equal(rc, SIFT_EINVAL);
    c.nseries = 0;
    assert_null(render(&c, &rc));
    assert_int_equal(rc, SIFT_EINVAL);
    sift_chart_series_t many[17];
    for (int i = 0; i < 17; i++)
        many[i] = (sift_chart_series_t){.name = "m", .x = x, .y = y, .n = 2};
    c = (sift_chart_t){.series = many, .nseries = 17};
    assert_null(render(&c, &rc));
    assert_int_equal(rc, SIFT_EINVAL);
    x[1] = NAN;
    c.nseries = 1;
    assert_null(render(&c, &rc));
    assert_int_equal(rc, SIFT_EINVAL);
}

static void test_nice_step(void **state)
{
    (void)state;
    assert_true(sift_chart_nice_step(10, 5) == 2);
    assert_true(sift_chart_nice_step(7, 5) == 2);
    assert_true(sift_chart_nice_step(1.1e6, 5) == 5e5);
    assert_true(fabs(sift_chart_nice_step(0.03, 3) - 0.01) < 1e-15);
    assert_true(sift_chart_nice_step(100, 1) == 100);
    assert_true(sift_chart_nice_step(0, 5) == 1);
}

static void test_escaped(void **state)
{
    (void)state;
    double x[2] = {0, 1e9}, y[2] = {1, 2};
    sift_chart_series_t s[2] = {{.name = "<a&b>\"", .x = x, .y = y, .n = 2},
                                {.name = "tab\there", .x = x, .y = y, .n = 2}};
    sift_chart_t c = {.title = "t<i>tle", .y_unit = "bit/s", .series = s, .nseries = 2};
    int rc;
    char *svg = render(&c, &rc);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "&lt;a&amp;b&gt;&quot;"));
    assert_non_null(strstr(svg, "t&lt;i&gt;tle"));
    assert_null(strstr(svg, "<a&b>"));
    assert_null(strchr(svg, '\t')); /* control characters are not XML text */
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
}

/* 100,000 points of 1 with one of 1000: drawn per pixel column, the spike is still the top of a
 * column (y of the plot's top), and the file stays small. */
static void test_spike_kept(void **state)
{
    (void)state;
    enum { N = 100000 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (size_t i = 0; i < N; i++) {
        x[i] = (double)i * 1e9;
        y[i] = i == 54321 ? 1000 : 1;
    }
    size_t mark = 54321;
    sift_chart_series_t s = {.name = "s", .x = x, .y = y, .n = N, .marks = &mark, .nmarks = 1};
    sift_chart_t c = {.y_unit = "pkt/s", .series = &s, .nseries = 1};
    int rc;
    char *svg = render(&c, &rc);
    assert_non_null(svg);
    assert_true(strlen(svg) < 100000);
    /* the plot's top is y = 14 without a title: the spike (1000, the axis' maximum) is there */
    assert_non_null(strstr(svg, ",14.0 "));
    assert_int_equal(count(svg, "<circle"), 1 + 1); /* the mark and the legend's */
    assert_non_null(strstr(svg, "1 kpkt/s"));
    free(svg);
    free(x);
    free(y);
}

static void test_nan_breaks(void **state)
{
    (void)state;
    double x[5] = {0, 1, 2, 3, 4}, y[5] = {1, 2, NAN, 3, 4};
    sift_chart_series_t s = {.name = "s", .x = x, .y = y, .n = 5};
    sift_chart_t c = {.x_kind = SIFT_CHART_X_LINEAR,
                      .x_label = "frequency",
                      .x_unit = "Hz",
                      .series = &s,
                      .nseries = 1};
    int rc;
    char *svg = render(&c, &rc);
    assert_non_null(svg);
    assert_int_equal(count(svg, "<polyline"), 2);
    assert_non_null(strstr(svg, "frequency (Hz)"));
    assert_null(strstr(svg, "legend")); /* one series, no marks: no legend box */
    assert_int_equal(count(svg, "fill-opacity"), 0);
    free(svg);
}

static void test_time_axis(void **state)
{
    (void)state;
    /* 2004-05-13 10:17:07 UTC, one point a second for 30 s */
    double x[31], y[31];
    for (int i = 0; i < 31; i++) {
        x[i] = (1084443427.0 + i) * 1e9;
        y[i] = i;
    }
    sift_chart_series_t s[2] = {{.name = "rate", .x = x, .y = y, .n = 31},
                                {.name = "mean", .x = x, .y = y, .n = 31, .dashed = true}};
    sift_chart_t c = {.y_unit = "bit/s", .series = s, .nseries = 2};
    int rc;
    char *svg = render(&c, &rc);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "time (UTC), from 2004-05-13 10:17:07"));
    assert_non_null(strstr(svg, ">10:17:10<")); /* ticks at round 5 s */
    assert_non_null(strstr(svg, ">10:17:35<"));
    assert_null(strstr(svg, ">10:17:07<")); /* not a round time: only in the axis title */
    assert_non_null(strstr(svg, "stroke-dasharray"));
    assert_non_null(strstr(svg, ">mean<"));
    free(svg);
}

static void test_write_error(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    setvbuf(f, NULL, _IONBF, 0);
    double x[2] = {0, 1}, y[2] = {1, 2};
    sift_chart_series_t s = {.name = "s", .x = x, .y = y, .n = 2};
    sift_chart_t c = {.series = &s, .nseries = 1};
    assert_int_equal(sift_chart_svg(f, &c), SIFT_EIO);
    fclose(f);
}

static void test_stack(void **state)
{
    (void)state;
    double x[] = {1, 2, 3}, y[] = {4, 5, 6};
    sift_chart_series_t se = {.name = "a", .x = x, .y = y, .n = 3};
    sift_chart_t c[2] = {
        {.title = "top", .x_kind = SIFT_CHART_X_LINEAR, .series = &se, .nseries = 1},
        {.title = "bottom",
         .x_kind = SIFT_CHART_X_LINEAR,
         .series = &se,
         .nseries = 1,
         .height = 300}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(sift_chart_svg_stack(f, c, 2), 0);
    fclose(f);
    assert_int_equal(count(buf, "<?xml"), 1);
    assert_int_equal(count(buf, "<svg"), 3);
    assert_int_equal(count(buf, "xmlns="), 1);
    assert_non_null(strstr(buf, "width=\"960\" height=\"720\""));
    assert_non_null(strstr(buf, "<svg x=\"0\" y=\"420\""));
    assert_true(strstr(buf, ">top<") < strstr(buf, ">bottom<"));
    free(buf);
    sift_chart_t bad = c[1];
    bad.nseries = 0;
    c[1] = bad;
    f = open_memstream(&buf, &len);
    assert_int_equal(sift_chart_svg_stack(f, c, 2), SIFT_EINVAL);
    fclose(f);
    assert_int_equal(len, 0);
    free(buf);
}

static void test_autocorr(void **state)
{
    (void)state;
    enum { N = 1000 };
    double x[N], acf[N];
    srand(3);
    for (size_t i = 0; i < N; i++)
        x[i] = (i % 37 == 0 ? 5.0 : 0.0) + (double)rand() / RAND_MAX - 0.5;
    sift_fft_t *f;
    assert_int_equal(sift_fft_create(&f), 0);
    assert_int_equal(sift_fft_autocorr(f, x, N, acf), 0);
    double z = 0;
    for (size_t i = 0; i < N; i++)
        z += x[i] * x[i];
    for (size_t k = 0; k < N; k++) {
        double s = 0;
        for (size_t i = 0; i + k < N; i++)
            s += x[i] * x[i + k];
        assert_true(fabs(acf[k] - s / z) < 1e-9);
    }
    assert_true(acf[37] > 0.5 && acf[18] < 0.1);
    assert_int_equal(sift_fft_autocorr(f, x, 1, acf), SIFT_EINVAL);
    memset(x, 0, sizeof x);
    assert_int_equal(sift_fft_autocorr(f, x, N, acf), 0);
    assert_true(acf[0] == 0 && acf[5] == 0);
    sift_fft_free(f);
}

static void test_fft_cache(void **state)
{
    (void)state;
    enum { N = 4096 };
    static double x[N], p0[N / 2 + 1], p1[N / 2 + 1], a0[N], a1[N];
    srand(5);
    for (size_t i = 0; i < N; i++)
        x[i] = sin(0.3 * (double)i) + (double)rand() / RAND_MAX;
    sift_ctx_t *ctx;
    sift_cache_t *c;
    sift_fft_t *plain, *f;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    assert_int_equal(sift_cache_open(&c, ctx, NULL, NULL), 0);
    assert_int_equal(sift_fft_create(&plain), 0);
    assert_int_equal(sift_fft_create(&f), 0);
    sift_fft_set_cache(f, c, 1024);
    sift_cache_stats_t st;
    for (int round = 0; round < 2; round++) { /* computed and stored, then answered */
        assert_int_equal(sift_fft_power(plain, x, N, SIFT_WINDOW_HANN, p0), 0);
        memset(p1, 0, sizeof p1);
        assert_int_equal(sift_fft_power(f, x, N, SIFT_WINDOW_HANN, p1), 0);
        assert_memory_equal(p0, p1, sizeof p0);
        assert_int_equal(sift_fft_autocorr(plain, x, N, a0), 0);
        memset(a1, 0, sizeof a1);
        assert_int_equal(sift_fft_autocorr(f, x, N, a1), 0);
        assert_memory_equal(a0, a1, sizeof a0);
        sift_cache_stats(c, &st);
        assert_int_equal(st.session.misses, 2);
        assert_int_equal(st.session.l1_hits, 2 * round);
    }
    /* another window, one sample changed: other keys, the numbers of their own */
    assert_int_equal(sift_fft_power(f, x, N, SIFT_WINDOW_RECT, p1), 0);
    assert_int_equal(sift_fft_power(plain, x, N, SIFT_WINDOW_RECT, p0), 0);
    assert_memory_equal(p0, p1, sizeof p0);
    x[N / 2] += 1;
    assert_int_equal(sift_fft_power(f, x, N, SIFT_WINDOW_HANN, p1), 0);
    assert_int_equal(sift_fft_power(plain, x, N, SIFT_WINDOW_HANN, p0), 0);
    assert_memory_equal(p0, p1, sizeof p0);
    sift_cache_stats(c, &st);
    assert_int_equal(st.session.misses, 4);
    /* below the threshold the cache is not asked */
    assert_int_equal(sift_fft_power(f, x, 512, SIFT_WINDOW_HANN, p1), 0);
    sift_cache_stats(c, &st);
    assert_int_equal(st.session.misses + st.session.l1_hits, 6);
    sift_fft_free(f);
    sift_fft_free(plain);
    sift_cache_close(c);
    sift_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),     cmocka_unit_test(test_nice_step),
        cmocka_unit_test(test_escaped),     cmocka_unit_test(test_spike_kept),
        cmocka_unit_test(test_nan_breaks),  cmocka_unit_test(test_time_axis),
        cmocka_unit_test(test_write_error), cmocka_unit_test(test_stack),
        cmocka_unit_test(test_autocorr),    cmocka_unit_test(test_fft_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
