/* The micro-benchmark harness of the building blocks: runs a function for a fixed time or
 * number of operations and reports ops/s and latency percentiles from sampled timings. Used by
 * the bench entries (lib/bench/bn_*.c) and by the tests; not part of the public API.
 *
 * Latency: the function is called on batches of `batch` operations and each call is timed, so
 * a sample is the mean latency of one operation within a batch (a single lookup takes a few
 * nanoseconds, less than reading the clock). Up to SIFT__BENCH_MAX_SAMPLES batch timings are
 * kept (a deterministic reservoir) for the percentiles.
 */
#ifndef SIFT_BLOCKS_HARNESS_H
#define SIFT_BLOCKS_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define SIFT__BENCH_MAX_SAMPLES 65536

/* Performs operations first .. first + count - 1 of the workload; returns 0 or a negative
 * SIFT_E* code, which stops the measurement. */
typedef int (*sift__bench_fn)(void *user, uint64_t first, uint64_t count);

typedef struct sift__bench_spec {
    double min_seconds; /* keep going at least this long ... */
    uint64_t min_ops;   /* ... and at least this many operations ... */
    uint64_t max_ops;   /* ... but stop at this many (0: no limit); with min_seconds and
                         * min_ops both 0, exactly max_ops operations run */
    uint64_t batch;     /* operations per timed call (0 means 1) */
    unsigned reps;      /* whole measurements; the one of median rate is reported (0 means 1) */
    uint64_t wrap;      /* operation indices wrap at this count (0: never), e.g. the data size */
} sift__bench_spec_t;

typedef struct sift__bench_stats {
    uint64_t ops;
    double seconds;
    double ops_per_s;
    double mean_ns, p50_ns, p95_ns, p99_ns; /* per operation */
    size_t samples;
} sift__bench_stats_t;

/* Monotonic time in seconds. */
double sift__bench_now(void);

int sift__bench_measure(const sift__bench_spec_t *spec, sift__bench_fn fn, void *user,
                        sift__bench_stats_t *out);

/* stats->ops_per_s / baseline->ops_per_s (0 when the baseline rate is 0). */
double sift__bench_speedup(const sift__bench_stats_t *stats, const sift__bench_stats_t *baseline);

/* The p-quantile (0..1) of v[0..n) by sorting a copy; 0 when n is 0. For tests and the
 * harness itself. */
double sift__bench_percentile(const double *v, size_t n, double p);

#endif
