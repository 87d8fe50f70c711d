/* bench_search: the matcher of capsift search against a sequential memmem loop.
 *
 *   bench_search CAPTURE [MAX_MB] [SAMPLE_KB]
 *
 * Loads the transport payloads of CAPTURE into memory (at most MAX_MB, default 256), so disk,
 * reader and decoder are not measured. For 1,000 and 10,000 literal patterns of 8 to 16 bytes
 * (fixed seed), in three mixes - indicator-like, one pattern a substring of a random payload
 * and the others random names that occur nowhere; 1% such substrings; and every pattern such a
 * substring (the worst case: matches everywhere, whose reporting then costs most) - it
 * prints: the compile time and database size; one thread's block-mode scan of every payload
 * in GB/s of payload; the same payloads' first SAMPLE_KB (default 1024) searched with one
 * memmem call per pattern and payload, in GB/s; their ratio; and the warm start, the database
 * read back from an on-disk cache by a new cache handle, as a repeated search does. The
 * matches of both methods on the sample must agree (packet, pattern) or it fails.
 */
#include "bn_suite.h"

#include <capsift/decode.h>
#include <capsift/reader.h>
#include <capsift/search.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The payloads of the file's first packets, at most max bytes, into p (its bytes, off and
 * npayloads; no packet series). */
static int load(sift__bench_data_t *p, const char *path, size_t max)
{
    sift_ctx_t *ctx;
    sift_reader_t *r;
    if (sift_ctx_create(&ctx) < 0 || sift_reader_open(&r, ctx, path, NULL) < 0) {
        fprintf(stderr, "bench_search: %s\n", ctx ? sift_ctx_errmsg(ctx) : "out of memory");
        return -1;
    }
    size_t len = 0, ncap = 1 << 20;
    p->bytes = malloc(max);
    p->off = malloc(ncap * sizeof *p->off);
    if (!p->bytes || !p->off)
        return -1;
    sift_record_t rec;
    sift_packet_t pkt = {0};
    while (sift_reader_next(r, &rec) == 1) {
        sift_decode(&pkt, &rec, SIFT_NEED_PAYLOAD);
        if (!pkt.payload || pkt.payload_len == 0)
            continue;
        if (len + pkt.payload_len > max)
            break;
        if (p->npayloads + 2 > ncap) {
            ncap *= 2;
            size_t *o = realloc(p->off, ncap * sizeof *o);
            if (!o)
                return -1;
            p->off = o;
        }
        p->off[p->npayloads++] = len;
        memcpy(p->bytes + len, pkt.payload, pkt.payload_len);
        len += pkt.payload_len;
    }
    p->off[p->npayloads] = len;
    sift_reader_close(r);
    sift_ctx_free(ctx);
    return 0;
}

static bool count_match(void *user, unsigned id, uint64_t from, uint64_t to)
{
    (void)id;
    (void)from;
    (void)to;
    (*(uint64_t *)user)++;
    return true;
}

static int bench_set(const sift__bench_data_t *p, size_t npat, size_t every, size_t sample_bytes,
                     const char *cache_path)
{
    sift_ctx_t *ctx;
    if (sift_ctx_create(&ctx) < 0)
        return -1;
    sift_patterns_t *ps;
    if (sift__bench_pattern_set(ctx, p, npat, every, 0x9e3779b97f4a7c15u ^ npat, &ps) < 0) {
        fprintf(stderr, "bench_search: could not make %zu patterns\n", npat);
        return -1;
    }
    sift_matcher_t *m;
    sift_matcher_info_t info;
    if (sift_matcher_compile(&m, ctx, ps, NULL, &info) < 0) {
        fprintf(stderr, "bench_search: %s\n", sift_ctx_errmsg(ctx));
        return -1;
    }
    printf("%6zu literals, %s: compile %.1f ms (goal < 1000 ms), database %.1f MB\n", npat,
           every == 1     ? "all from the payloads"
           : every == 100 ? "1% from the payloads"
                          : "one from the payloads",
           (double)info.build_ns / 1e6, (double)info.db_bytes / 1e6);
    sift_scanner_t *sc;
    if (sift_scanner_create(&sc, m) < 0)
        return -1;
    size_t total = p->off[p->npayloads];
    uint64_t matches = 0;
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        matches = 0;
        double t0 = now();
        for (size_t i = 0; i < p->npayloads; i++)
            sift_scan_block(sc, p->bytes + p->off[i], p->off[i + 1] - p->off[i], count_match,
                            &matches);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    double hs_gbs = (double)total / best / 1e9;
    printf("        hyperscan: %zu payloads, %.1f MB in %.3f s = %6.2f GB/s on one thread "
           "(goal >= 1), %llu matches\n",
           p->npayloads, (double)total / 1e6, best, hs_gbs, (unsigned long long)matches);

    /* the sample: memmem per pattern and payload, and hyperscan's (payload, pattern) set */
    size_t ns = 0;
    while (ns < p->npayloads && p->off[ns + 1] <= sample_bytes)
        ns++;
    uint8_t *hs = calloc(ns * npat + 1, 1), *mm = calloc(ns * npat + 1, 1);
    if (!hs || !mm)
        return -1;
    sift__bench_scan_pairs(sc, p, ns, npat, hs);
    double t0 = now();
    sift__bench_memmem_pairs(ps, p, ns, mm);
    double tm = now() - t0;
    size_t sample = p->off[ns];
    double mm_gbs = (double)sample / tm / 1e9;
    size_t found = 0;
    for (size_t i = 0; i < ns * npat; i++)
        found += mm[i];
    int agree = memcmp(mm, hs, ns * npat) == 0;
    printf("        memmem loop: %zu payloads, %.2f MB in %.3f s = %6.3f GB/s; hyperscan is "
           "%.0fx faster; (payload, pattern) pairs found: %zu, %s\n",
           ns, (double)sample / 1e6, tm, mm_gbs, hs_gbs / mm_gbs, found,
           agree ? "the same as hyperscan's" : "DIFFERENT FROM HYPERSCAN'S");
    free(mm);
    free(hs);

    /* the warm start: compiled into an on-disk cache, read back by a new handle */
    unlink(cache_path);
    sift_cache_t *c;
    sift_matcher_t *m2;
    double warm = -1;
    if (sift_cache_open(&c, ctx, cache_path, NULL) == 0) {
        if (sift_matcher_compile(&m2, ctx, ps, &(sift_matcher_opts_t){.cache = c}, NULL) == 0)
            sift_matcher_free(m2);
        sift_cache_close(c);
    }
    if (sift_cache_open(&c, ctx, cache_path, NULL) == 0) {
        t0 = now();
        if (sift_matcher_compile(&m2, ctx, ps, &(sift_matcher_opts_t){.cache = c}, &info) == 0) {
            warm = (now() - t0) * 1e3;
            if (!info.from_cache)
                warm = -1;
            sift_matcher_free(m2);
        }
        sift_cache_close(c);
    }
    printf("        warm start from the cache: %.1f ms (goal < 100 ms)%s\n", warm,
           warm < 0 ? " - NOT FROM THE CACHE" : "");
    sift_scanner_free(sc);
    sift_matcher_free(m);
    sift_patterns_free(ps);
    sift_ctx_free(ctx);
    return agree && warm >= 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_search CAPTURE [MAX_MB] [SAMPLE_KB]\n");
        return 2;
    }
    size_t max = (argc > 2 ? (size_t)atol(argv[2]) : 256) << 20;
    size_t sample = (argc > 3 ? (size_t)atol(argv[3]) : 1024) << 10;
    sift__bench_data_t p = {0};
    if (load(&p, argv[1], max) < 0 || p.npayloads == 0) {
        fprintf(stderr, "bench_search: no payloads in %s\n", argv[1]);
        return 1;
    }
    char cache_path[] = "/tmp/bench-search-cache-XXXXXX";
    int fd = mkstemp(cache_path);
    if (fd < 0)
        return 1;
    close(fd);
    int rc = 0;
    static const size_t mixes[] = {SIZE_MAX, 100, 1};
    for (size_t k = 0; k < sizeof mixes / sizeof mixes[0]; k++) {
        rc |= bench_set(&p, 1000, mixes[k], sample, cache_path);
        rc |= bench_set(&p, 10000, mixes[k], sample, cache_path);
    }
    unlink(cache_path);
    char wal[64];
    snprintf(wal, sizeof wal, "%s-wal", cache_path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", cache_path);
    unlink(wal);
    free(p.bytes);
    free(p.off);
    return rc;
}
