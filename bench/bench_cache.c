/* bench_cache [DIR] [VALUE_FILE]: the result cache's operations, each timed alone.
 *
 *   L1 put / get hit          memory only
 *   L2 put                    a new key per put, one commit each (WAL, synchronous=NORMAL)
 *   L2 get hit                L1 too small to hold anything: every get reads SQLite
 *   L2 get hit + promotion    a fresh cache: the first get of a key reads L2 and fills L1
 *   Zipf workload             300 k gets over 100 k keys (s = 1.0), L1 holding 10 k entries,
 *                             misses computed (a memcpy) and put: the hit rate of each tier
 *
 * Values are 512-byte slices of a real capture (VALUE_FILE, default the bundled
 * zeek--206_example_b.pcap), keys 16-byte XXH3-128 keys as the commands use. The cache file is
 * DIR/bench_cache.db (default: a new directory under /tmp, removed at the end). Prints ops/s
 * (mean over the loop, timer included) and p50/p95/p99 latency per operation.
 */
#include <capsift/cache.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VALUE_SIZE 512

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct timing {
    double *lat; /* ns per op */
    size_t n;
    double t0;
} timing_t;

static void report(const char *name, timing_t *t, double total_s)
{
    qsort(t->lat, t->n, sizeof *t->lat, cmp_double);
    double p50 = t->lat[t->n / 2], p95 = t->lat[t->n * 95 / 100], p99 = t->lat[t->n * 99 / 100];
    printf("%-26s %10.0f ops/s   p50 %8.0f ns   p95 %8.0f ns   p99 %8.0f ns   (%zu ops)\n", name,
           (double)t->n / total_s, p50, p95, p99, t->n);
}

static void make_key(size_t i, sift_cache_key_t *k)
{
    sift_cache_keyb_t kb;
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, "bench");
    sift_cache_keyb_u64(&kb, i);
    if (sift_cache_keyb_finish(&kb, k) < 0)
        abort();
}

static unsigned char *load_values(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = n > VALUE_SIZE ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static const unsigned char *value_for(const unsigned char *data, size_t len, size_t i)
{
    return data + (i * 977) % (len - VALUE_SIZE);
}

/* Runs n operations of one kind; op returns 0 on success. */
#define TIMED_LOOP(t, nops, ...)                                                                   \
    do {                                                                                           \
        double start_ = now_s();                                                                   \
        for (size_t i = 0; i < (nops); i++) {                                                      \
            double a_ = now_s();                                                                   \
            __VA_ARGS__;                                                                           \
            (t).lat[i] = (now_s() - a_) * 1e9;                                                     \
        }                                                                                          \
        (t).n = (nops);                                                                            \
        total = now_s() - start_;                                                                  \
    } while (0)

/* Zipf(s) ranks over n keys by inverse CDF on a precomputed table. */
static size_t zipf_draw(const double *cdf, size_t n, double u)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int main(int argc, char **argv)
{
    /* a directory of its own, even under a given one: it removes only what it created */
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/bench_cache.XXXXXX", argc > 1 ? argv[1] : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_cache: cannot create a directory in %s\n",
                argc > 1 ? argv[1] : "/tmp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/bench_cache.db", dir);
    unlink(path);
    const char *vf =
        argc > 2 ? argv[2] : SIFT_SOURCE_DIR "/tests/captures/zeek--206_example_b.pcap";
    size_t dlen;
    unsigned char *data = load_values(vf, &dlen);
    if (!data) {
        fprintf(stderr, "bench_cache: cannot read %s\n", vf);
        return 1;
    }
    const size_t N1 = 200000, N2 = 20000;
    timing_t t = {.lat = malloc(sizeof(double) * 1000000)};
    sift_cache_key_t *keys = malloc(sizeof *keys * 100000);
    if (!t.lat || !keys)
        return 1;
    for (size_t i = 0; i < 100000; i++)
        make_key(i, &keys[i]);
    sift_ctx_t *ctx;
    sift_ctx_create(&ctx);
    double total;
    const void *v;
    size_t vn;

    printf("cache micro-benchmark: %d-byte values from %s, 16-byte keys, file %s\n", VALUE_SIZE, vf,
           path);
    /* L1 */
    sift_cache_t *c;
    sift_cache_opts_t mem = {.l1_max_entries = N1, .l1_max_bytes = (size_t)1 << 30};
    sift_cache_open(&c, ctx, NULL, &mem);
    TIMED_LOOP(t, N1,
               sift_cache_put(c, keys[i % 100000].bytes, 16, value_for(data, dlen, i), VALUE_SIZE));
    report("L1 put", &t, total);
    TIMED_LOOP(t, N1, if (sift_cache_get(c, keys[(i * 7919) % 100000].bytes, 16, &v, &vn)) abort());
    report("L1 get (hit)", &t, total);
    sift_cache_close(c);

    /* L2 */
    sift_cache_opts_t disk = {.l1_max_bytes = 1};
    sift_cache_open(&c, ctx, path, &disk);
    TIMED_LOOP(t, N2, sift_cache_put(c, keys[i].bytes, 16, value_for(data, dlen, i), VALUE_SIZE));
    report("L2 put (commit each)", &t, total);
    TIMED_LOOP(t, N2, if (sift_cache_get(c, keys[(i * 7919) % N2].bytes, 16, &v, &vn)) abort());
    report("L2 get (hit, no L1)", &t, total);
    sift_cache_close(c);
    sift_cache_open(&c, ctx, path, NULL);
    TIMED_LOOP(t, N2, if (sift_cache_get(c, keys[(i * 7919) % N2].bytes, 16, &v, &vn)) abort());
    report("L2 get + promote to L1", &t, total);
    TIMED_LOOP(t, N2, if (sift_cache_get(c, keys[(i * 7919) % N2].bytes, 16, &v, &vn)) abort());
    report("then L1 get (promoted)", &t, total);
    sift_cache_close(c);

    /* Zipf workload: get, and on a miss "compute" (copy) and put. */
    const size_t NK = 100000, NOPS = 300000;
    double *cdf = malloc(sizeof *cdf * NK), sum = 0;
    for (size_t i = 0; i < NK; i++)
        cdf[i] = (sum += 1.0 / (double)(i + 1));
    for (size_t i = 0; i < NK; i++)
        cdf[i] /= sum;
    unlink(path);
    sift_cache_opts_t z = {.l1_max_entries = 10000};
    sift_cache_open(&c, ctx, path, &z);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    unsigned char scratch[VALUE_SIZE];
    TIMED_LOOP(t, NOPS, {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        size_t k = zipf_draw(cdf, NK, (double)(rng >> 11) / 9007199254740992.0);
        if (sift_cache_get(c, keys[k].bytes, 16, &v, &vn) != 0) {
            memcpy(scratch, value_for(data, dlen, k), VALUE_SIZE);
            sift_cache_put(c, keys[k].bytes, 16, scratch, VALUE_SIZE);
        }
    });
    report("Zipf get-or-compute", &t, total);
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    double look = (double)(s.session.l1_hits + s.session.l2_hits + s.session.misses);
    printf("Zipf(1.0) over %zu keys, L1 10000 entries: L1 hits %.1f%%, L2 hits %.1f%%, misses "
           "%.1f%% (hit rate %.1f%%; misses are first uses of a key)\n",
           NK, 100.0 * (double)s.session.l1_hits / look, 100.0 * (double)s.session.l2_hits / look,
           100.0 * (double)s.session.misses / look,
           100.0 * (double)(s.session.l1_hits + s.session.l2_hits) / look);
    sift_cache_close(c);
    printf("claim (CLAIMS.md): multi-level cache, L1 <1 ms, L2 <5 ms, 80%%+ hit rate, 172,000+ "
           "ops/s, <10 ms retrieval\n");

    sift_ctx_free(ctx);
    free(cdf);
    free(keys);
    free(t.lat);
    free(data);
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[320];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    if (rmdir(dir) != 0)
        return 1;
    return 0;
}
