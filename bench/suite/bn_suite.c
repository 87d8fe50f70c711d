/* The bench suite: the table of entries and the public entry points. */
#include "common/internal.h"
#include "bn_suite.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct bench_entry {
    const char *name;
    const char *description;
    int (*run)(const sift_bench_opts_t *o, const sift__bench_data_t *d, sift_bench_result_t *r);
} bench_entry_t;

static const bench_entry_t ENTRIES[] = {
    {"bloom", "blocked Bloom filter lookups (1 M payload n-gram keys) vs an exact hash set",
     sift__bench_bloom},
    {"lsh", "MinHash + LSH candidate pairs of payload sets vs all-pairs exact Jaccard",
     sift__bench_lsh},
    {"patterns", "one pass of a compiled literal set (10, 100, 1,000) vs one memmem per pattern",
     sift__bench_patterns},
    {"patcache", "a 1,000-literal matcher read back from the on-disk cache vs compiled again",
     sift__bench_patcache},
    {"rolling", "rolling window statistics (window 1000) vs recomputing each window",
     sift__bench_rolling},
};

#define NENTRIES (sizeof ENTRIES / sizeof ENTRIES[0])

size_t sift_bench_count(void)
{
    return NENTRIES;
}

const char *sift_bench_name(size_t i)
{
    return i < NENTRIES ? ENTRIES[i].name : NULL;
}

const char *sift_bench_description(size_t i)
{
    return i < NENTRIES ? ENTRIES[i].description : NULL;
}

void sift__bench_field_set(sift_bench_result_t *r, const char *key, double value)
{
    for (size_t i = 0; i < r->nfields; i++) {
        if (strcmp(r->fields[i].key, key) == 0) {
            r->fields[i].value = value;
            return;
        }
    }
    assert(r->nfields < SIFT_BENCH_MAX_FIELDS);
    if (r->nfields == SIFT_BENCH_MAX_FIELDS)
        return;
    snprintf(r->fields[r->nfields].key, sizeof r->fields[r->nfields].key, "%s", key);
    r->fields[r->nfields].value = value;
    r->nfields++;
}

double sift_bench_field(const sift_bench_result_t *r, const char *key)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i].key, key) == 0)
            return r->fields[i].value;
    return NAN;
}

void sift__bench_textf(sift_bench_result_t *r, const char *fmt, ...)
{
    size_t used = strlen(r->text);
    if (used + 1 >= sizeof r->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text + used, sizeof r->text - used, fmt, ap);
    va_end(ap);
}

void sift__bench_progress(const sift_bench_opts_t *o, const char *fmt, ...)
{
    if (!o->progress)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->progress(o->progress_user, msg);
}

int sift_bench_run(const char *name, const sift_bench_opts_t *opts, sift_bench_result_t *out)
{
    sift_bench_opts_t o = {0};
    if (opts)
        o = *opts;
    memset(out, 0, sizeof *out);
    const bench_entry_t *e = NULL;
    for (size_t i = 0; i < NENTRIES; i++)
        if (strcmp(ENTRIES[i].name, name) == 0)
            e = &ENTRIES[i];
    if (!e) {
        snprintf(out->text, sizeof out->text, "no bench entry named '%s'\n", name);
        return SIFT_ENOTFOUND;
    }
    snprintf(out->name, sizeof out->name, "%s", e->name);
    sift__bench_data_t d;
    char errbuf[SIFT_ERRBUF_SIZE] = "";
    sift__bench_progress(&o, "%s: reading payloads from %s", name,
                         o.data_dir ? o.data_dir : "the bundled captures");
    int rc = sift__bench_data_load(o.data_dir, &d, errbuf);
    if (rc < 0) {
        snprintf(out->text, sizeof out->text, "%s\n", errbuf);
        return rc;
    }
    rc = e->run(&o, &d, out);
    sift__bench_data_release(&d);
    if (rc == 0 && out->baseline_ops_per_s > 0)
        out->speedup = out->ops_per_s / out->baseline_ops_per_s;
    return rc;
}
