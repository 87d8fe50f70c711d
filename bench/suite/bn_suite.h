/* Shared parts of the bench entries: real payloads from the bundled captures, result
 * helpers, and the entries themselves. Not installed. */
#ifndef SIFT_BENCH_SUITE_H
#define SIFT_BENCH_SUITE_H

#include <capsift/bench.h>

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

/* The entries. */
int sift__bench_bloom(const sift_bench_opts_t *o, const sift__bench_data_t *d,
                      sift_bench_result_t *r);
int sift__bench_lsh(const sift_bench_opts_t *o, const sift__bench_data_t *d,
                    sift_bench_result_t *r);
int sift__bench_rolling(const sift_bench_opts_t *o, const sift__bench_data_t *d,
                        sift_bench_result_t *r);

#endif
