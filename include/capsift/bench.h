/* capsift: the built-in benchmark suite (`capsift bench`).
 *
 * Each entry measures one building block against its naive baseline in the same process, on
 * data derived from real captures (never random bytes), and reports ops/s, latency
 * percentiles where meaningful, the speedup, entry-specific figures (false-positive rate,
 * recall, memory) and the claim from the project's list of claims beside them.
 *
 * Thread safety: entries share nothing; distinct calls may run at once (their timings will
 * disturb each other).
 */
#ifndef CAPSIFT_BENCH_H
#define CAPSIFT_BENCH_H

#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_bench_opts {
    bool quick;           /* smaller runs: the whole suite in well under 30 s */
    const char *data_dir; /* the captures to derive data from; NULL: the source tree's
                           * tests/captures (as compiled in) */
    unsigned threads;     /* threads for entries that use them (lsh); 0 means 1 */
    uint64_t seed;        /* seeds of hash functions and samples */
    /* Progress messages ("bloom: building 1000000 keys"); may be NULL. */
    void (*progress)(void *user, const char *msg);
    void *progress_user;
} sift_bench_opts_t;

#define SIFT_BENCH_MAX_FIELDS 24

/* An entry-specific figure: fp_rate, recall, memory_bytes, ... */
typedef struct sift_bench_field {
    char key[32];
    double value;
} sift_bench_field_t;

typedef struct sift_bench_result {
    char name[32];
    char op[96];      /* what one operation is ("lookup", "set clustered") */
    double ops_per_s; /* the optimised implementation */
    double baseline_ops_per_s;
    double speedup;                /* ops_per_s / baseline_ops_per_s */
    double p50_ns, p95_ns, p99_ns; /* latency per operation; 0 where not meaningful */
    char baseline[160];            /* what the baseline is */
    char claim[200];               /* the claim, as written in the list of claims */
    char verdict[200];             /* whether our figure supports it, and why */
    size_t nfields;
    sift_bench_field_t fields[SIFT_BENCH_MAX_FIELDS];
    char text[2048]; /* human-readable detail lines, each ending in '\n' */
} sift_bench_result_t;

/* The entries, in suite order: i from 0 until the name is NULL. Static strings. */
SIFT_API size_t sift_bench_count(void);
SIFT_API const char *sift_bench_name(size_t i);
SIFT_API const char *sift_bench_description(size_t i);

/* Runs the entry `name` and fills *out. Returns 0, SIFT_ENOTFOUND for an unknown name,
 * SIFT_ENOENT when the capture directory holds no usable payloads, or another SIFT_E* code;
 * on failure out->text holds the detail. opts may be NULL (full runs, compiled-in data). */
SIFT_API int sift_bench_run(const char *name, const sift_bench_opts_t *opts,
                            sift_bench_result_t *out);

/* The value of field `key` of a result, or NAN when it has none. */
SIFT_API double sift_bench_field(const sift_bench_result_t *r, const char *key);

#ifdef __cplusplus
}
#endif
#endif
