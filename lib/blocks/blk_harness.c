/* The micro-benchmark harness (see harness.h). */
#include "common/internal.h"
#include "blocks/harness.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double sift__bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sift__bench_percentile(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    double *c = malloc(n * sizeof *c);
    if (!c)
        return 0.0;
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    double r = c[i < n ? i : n - 1];
    free(c);
    return r;
}

/* One measurement; samples holds SIFT__BENCH_MAX_SAMPLES doubles. */
static int measure_once(const sift__bench_spec_t *sp, sift__bench_fn fn, void *user,
                        double *samples, sift__bench_stats_t *out)
{
    uint64_t batch = sp->batch ? sp->batch : 1;
    uint64_t ops = 0, seen = 0, rng = 0x9e3779b97f4a7c15u;
    size_t ns = 0;
    double start = sift__bench_now(), now = start;
    for (;;) {
        if (sp->max_ops && ops >= sp->max_ops)
            break;
        bool bounded = sp->min_seconds > 0 || sp->min_ops > 0 || !sp->max_ops;
        if (bounded && now - start >= sp->min_seconds && ops >= sp->min_ops)
            break;
        uint64_t count = batch;
        if (sp->max_ops && sp->max_ops - ops < count)
            count = sp->max_ops - ops;
        uint64_t first = sp->wrap ? ops % sp->wrap : ops;
        if (sp->wrap && sp->wrap - first < count)
            count = sp->wrap - first; /* never split a batch across the wrap */
        double t0 = sift__bench_now();
        int rc = fn(user, first, count);
        now = sift__bench_now();
        if (rc < 0)
            return rc;
        double per_op = (now - t0) * 1e9 / (double)count;
        /* reservoir sampling (Vitter's algorithm R) with a fixed-seed generator */
        seen++;
        if (ns < SIFT__BENCH_MAX_SAMPLES) {
            samples[ns++] = per_op;
        } else {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            uint64_t j = (rng >> 11) % seen;
            if (j < SIFT__BENCH_MAX_SAMPLES)
                samples[j] = per_op;
        }
        ops += count;
    }
    memset(out, 0, sizeof *out);
    out->ops = ops;
    out->seconds = now - start;
    out->ops_per_s = out->seconds > 0 ? (double)ops / out->seconds : 0.0;
    out->mean_ns = ops ? out->seconds * 1e9 / (double)ops : 0.0;
    out->p50_ns = sift__bench_percentile(samples, ns, 0.50);
    out->p95_ns = sift__bench_percentile(samples, ns, 0.95);
    out->p99_ns = sift__bench_percentile(samples, ns, 0.99);
    out->samples = ns;
    return 0;
}

int sift__bench_measure(const sift__bench_spec_t *spec, sift__bench_fn fn, void *user,
                        sift__bench_stats_t *out)
{
    unsigned reps = spec->reps ? spec->reps : 1;
    double *samples = malloc(SIFT__BENCH_MAX_SAMPLES * sizeof *samples);
    sift__bench_stats_t *runs = calloc(reps, sizeof *runs);
    int rc = samples && runs ? 0 : SIFT_ENOMEM;
    for (unsigned i = 0; i < reps && rc == 0; i++)
        rc = measure_once(spec, fn, user, samples, &runs[i]);
    if (rc == 0) {
        /* the run of median rate: one slow run (another process woke up) does not count */
        for (unsigned i = 1; i < reps; i++)
            for (unsigned j = i; j > 0 && runs[j - 1].ops_per_s > runs[j].ops_per_s; j--) {
                sift__bench_stats_t t = runs[j];
                runs[j] = runs[j - 1];
                runs[j - 1] = t;
            }
        *out = runs[reps / 2];
    }
    free(samples);
    free(runs);
    return rc;
}

double sift__bench_speedup(const sift__bench_stats_t *stats, const sift__bench_stats_t *baseline)
{
    return baseline->ops_per_s > 0 ? stats->ops_per_s / baseline->ops_per_s : 0.0;
}
