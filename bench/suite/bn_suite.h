/* Shared parts of the bench entries: real payloads from the bundled captures, result
 * helpers, and the entries themselves. Not installed. */
#ifndef SIFT_BENCH_SUITE_H
#define SIFT_BENCH_SUITE_H

#include <capsift/bench.h>
#include <capsift/search.h>

#include <stddef.h>
#include <stdint.h>

/* Payloads and packet series read from every capture of a directory (in name order). */
typedef struct sift__bench_data {
    uint8_t *bytes; /* all payloads back to back */
    size_t *off;    /* payload i is bytes[off[i] .. off[i + 1]) */
    size_t npayloads;
    double *wirelen; /* every Ethernet packet's length on the wire ... */
    int64_t *ts;     /* ... and its timestamp, in file order, files one after the other */
    size_t npkts;
    size_t files; /* captures that gave packets */
} sift__bench_data_t;

/* Loads dir (NULL: the source tree's tests/captures). SIFT_ENOENT when nothing usable was
 * found; the detail goes to errbuf (SIFT_ERRBUF_SIZE bytes). */
int sift__bench_data_load(const char *dir, sift__bench_data_t *d, char *errbuf);
void sift__bench_data_release(sift__bench_data_t *d);

/* The captures directory compiled in: <source>/tests/captures. */
const char *sift__bench_default_dir(char *buf, size_t size);

/* Result helpers. */
void sift__bench_field_set(sift_bench_result_t *r, const char *key, double value);
void sift__bench_textf(sift_bench_result_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sift__bench_progress(const sift_bench_opts_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Pattern sets for the matcher's benchmarks (here and bench_search): n literals of 8 to 16
 * bytes, one in every `every` a substring of a payload of d and the others names that occur
 * nowhere, from seed. SIFT_ENOENT when the payloads could not give n. */
int sift__bench_pattern_set(sift_ctx_t *ctx, const sift__bench_data_t *d, size_t n, size_t every,
                            uint64_t seed, sift_patterns_t **out);
/* The (payload, pattern) pairs of payloads 0 .. npayloads - 1 that match, as
 * seen[payload * npat + pattern] = 1 (seen zeroed by the caller): by the scanner, and by one
 * memmem call per pattern and payload. */
void sift__bench_scan_pairs(sift_scanner_t *sc, const sift__bench_data_t *d, size_t npayloads,
                            size_t npat, uint8_t *seen);
void sift__bench_memmem_pairs(const sift_patterns_t *ps, const sift__bench_data_t *d,
                              size_t npayloads, uint8_t *seen);

/* The entries. */
int sift__bench_bloom(const sift_bench_opts_t *o, const sift__bench_data_t *d,
                      sift_bench_result_t *r);
int sift__bench_lsh(const sift_bench_opts_t *o, const sift__bench_data_t *d,
                    sift_bench_result_t *r);
int sift__bench_patterns(const sift_bench_opts_t *o, const sift__bench_data_t *d,
                         sift_bench_result_t *r);
int sift__bench_patcache(const sift_bench_opts_t *o, const sift__bench_data_t *d,
                         sift_bench_result_t *r);
int sift__bench_rolling(const sift_bench_opts_t *o, const sift__bench_data_t *d,
                        sift_bench_result_t *r);

#endif
