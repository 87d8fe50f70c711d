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
#include <capsift/decode.h>
#include <capsift/reader.h>
#include <capsift/search.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct payloads {
    uint8_t *bytes;
    size_t len, cap;
    size_t *off; /* payload i is bytes[off[i] .. off[i + 1]) */
    size_t n, ncap;
} payloads_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int load(payloads_t *p, const char *path, size_t max)
{
    sift_ctx_t *ctx;
    sift_reader_t *r;
    if (sift_ctx_create(&ctx) < 0 || sift_reader_open(&r, ctx, path, NULL) < 0) {
        fprintf(stderr, "bench_search: %s\n", ctx ? sift_ctx_errmsg(ctx) : "out of memory");
        return -1;
    }
    p->cap = max;
    p->bytes = malloc(max);
    p->ncap = 1 << 20;
    p->off = malloc(p->ncap * sizeof *p->off);
    if (!p->bytes || !p->off)
        return -1;
    sift_record_t rec;
    sift_packet_t pkt = {0};
    while (sift_reader_next(r, &rec) == 1) {
        sift_decode(&pkt, &rec, SIFT_NEED_PAYLOAD);
        if (!pkt.payload || pkt.payload_len == 0)
            continue;
        if (p->len + pkt.payload_len > max)
            break;
        if (p->n + 2 > p->ncap) {
            p->ncap *= 2;
            size_t *o = realloc(p->off, p->ncap * sizeof *o);
            if (!o)
                return -1;
            p->off = o;
        }
        p->off[p->n++] = p->len;
        memcpy(p->bytes + p->len, pkt.payload, pkt.payload_len);
        p->len += pkt.payload_len;
    }
    p->off[p->n] = p->len;
    sift_reader_close(r);
    sift_ctx_free(ctx);
    return 0;
}

/* n literals as |hex| patterns: substrings of random payloads, one in every `every` (the
 * others random names of letters, digits and dots). */
static sift_patterns_t *make_set(sift_ctx_t *ctx, const payloads_t *p, size_t n, size_t every,
                                 uint64_t seed)
{
    sift_patterns_t *ps;
    if (sift_patterns_create(&ps) < 0)
        return NULL;
    char text[16 * 3 + 3];
    size_t made = 0;
    for (size_t tries = 0; made < n && tries < n * 100; tries++) {
        size_t len = 8 + rng(&seed) % 9;
        if (made % every != 0) {
            static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789.";
            for (size_t k = 0; k < len; k++)
                text[k] = abc[rng(&seed) % (sizeof abc - 1)];
            text[len] = 0;
            if (sift_patterns_add(ps, ctx, text, false, "bench", (unsigned)made + 1) == 0)
                made++;
            continue;
        }
        size_t i = rng(&seed) % p->n;
        size_t plen = p->off[i + 1] - p->off[i];
        if (plen < len)
            continue;
        const uint8_t *s = p->bytes + p->off[i] + rng(&seed) % (plen - len + 1);
        size_t same = 1;
        for (size_t k = 1; k < len; k++)
            same += s[k] == s[0];
        if (same == len)
            continue; /* a run of one byte matches everywhere: not an indicator */
        size_t o = 0;
        text[o++] = '|';
        for (size_t k = 0; k < len; k++)
            o += (size_t)snprintf(text + o, sizeof text - o, "%02x ", s[k]);
        text[o - 1] = '|';
        text[o] = 0;
        if (sift_patterns_add(ps, ctx, text, false, "bench", (unsigned)made + 1) == 0)
            made++;
    }
    return ps;
}

typedef struct hitset {
    uint8_t *seen; /* [payload * npat + pattern] for the sample */
    size_t npat;
    uint64_t matches;
    size_t cur;
} hitset_t;

static bool on_match(void *user, unsigned id, uint64_t from, uint64_t to)
{
    (void)from;
    (void)to;
    hitset_t *h = user;
    h->matches++;
    if (h->seen)
        h->seen[h->cur * h->npat + id] = 1;
    return true;
}

static int bench_set(const payloads_t *p, size_t npat, size_t every, size_t sample_bytes,
                     const char *cache_path)
{
    sift_ctx_t *ctx;
    if (sift_ctx_create(&ctx) < 0)
        return -1;
    sift_patterns_t *ps = make_set(ctx, p, npat, every, 0x9e3779b97f4a7c15u ^ npat);
    if (!ps || sift_patterns_count(ps) != npat) {
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
    hitset_t all = {.npat = npat};
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        all.matches = 0;
        double t0 = now();
        for (size_t i = 0; i < p->n; i++)
            sift_scan_block(sc, p->bytes + p->off[i], p->off[i + 1] - p->off[i], on_match, &all);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    double hs_gbs = (double)p->len / best / 1e9;
    printf("        hyperscan: %zu payloads, %.1f MB in %.3f s = %6.2f GB/s on one thread "
           "(goal >= 1), %llu matches\n",
           p->n, (double)p->len / 1e6, best, hs_gbs, (unsigned long long)all.matches);

    /* the sample: memmem per pattern and payload, and hyperscan's (payload, pattern) set */
    size_t ns = 0;
    while (ns < p->n && p->off[ns + 1] <= sample_bytes)
        ns++;
    hitset_t hs = {.npat = npat, .seen = calloc(ns * npat + 1, 1)};
    uint8_t *mm = calloc(ns * npat + 1, 1);
    if (!hs.seen || !mm)
        return -1;
    for (hs.cur = 0; hs.cur < ns; hs.cur++)
        sift_scan_block(sc, p->bytes + p->off[hs.cur], p->off[hs.cur + 1] - p->off[hs.cur],
                        on_match, &hs);
    double t0 = now();
    for (size_t i = 0; i < ns; i++) {
        const uint8_t *d = p->bytes + p->off[i];
        size_t len = p->off[i + 1] - p->off[i];
        for (size_t k = 0; k < npat; k++) {
            const sift_pattern_t *pt = sift_patterns_at(ps, k);
            mm[i * npat + k] = memmem(d, len, pt->bytes, pt->len) != NULL;
        }
    }
    double tm = now() - t0;
    size_t sample = p->off[ns];
    double mm_gbs = (double)sample / tm / 1e9;
    size_t found = 0;
    for (size_t i = 0; i < ns * npat; i++)
        found += mm[i];
    int agree = memcmp(mm, hs.seen, ns * npat) == 0;
    printf("        memmem loop: %zu payloads, %.2f MB in %.3f s = %6.3f GB/s; hyperscan is "
           "%.0fx faster; (payload, pattern) pairs found: %zu, %s\n",
           ns, (double)sample / 1e6, tm, mm_gbs, hs_gbs / mm_gbs, found,
           agree ? "the same as hyperscan's" : "DIFFERENT FROM HYPERSCAN'S");
    free(mm);
    free(hs.seen);

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
    payloads_t p = {0};
    if (load(&p, argv[1], max) < 0 || p.n == 0) {
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
