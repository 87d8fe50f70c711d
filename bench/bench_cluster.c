/* bench_cluster: the clustering of capsift cluster, LSH candidates against every pair.
 *
 *   bench_cluster CAPTURE [MAX_UNITS] [THREADS]
 *
 * Reads the distinct payloads of CAPTURE with the cluster pass (as capsift cluster does), then
 * clusters the first 1,000, the first 10,000 and the first MAX_UNITS (default 1,000,000) of them
 * (in order of first appearance, each in its own part) on THREADS threads (default 2):
 *   - with LSH candidates (the default) and with every pair compared (--exact), median of 5, for
 *     the two smaller sizes; exact is skipped where it would compare more than 2e9 pairs,
 *   - the recall of the LSH join: of the pairs of payloads --exact puts in one cluster, the share
 *     LSH does too (clusters as joined, before the merge by type field, which needs pairs),
 *   - for MAX_UNITS: one LSH run, its time and the memory the clustering took, and the recall
 *     measured on a sample: 20,000 payloads drawn evenly from them, clustered both ways.
 * A capture with fewer distinct payloads than MAX_UNITS is topped up with variants of its own:
 * payload i again with two bytes past its eighth set at random (a new message of its type, as a
 * new transaction id or value makes one), in the order read.
 * Compare the rows with each other, not across machines.
 */
#include <capsift/cluster.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A new set of the units of `all` at indices first, first + step, ... (n of them). */
static sift_cluster_set_t *subset(const sift_cluster_set_t *all, size_t n, size_t step)
{
    sift_cluster_set_t *s;
    if (sift_cluster_set_create(&s, 0) < 0)
        exit(3);
    for (size_t i = 0; i < n; i++) {
        sift_cluster_unit_t u;
        sift_cluster_set_unit(all, i * step, &u);
        if (sift_cluster_set_add(s, u.part, u.data, u.kept, u.packets, 0, NULL) < 0)
            exit(3);
    }
    return s;
}

static double run(const sift_cluster_set_t *s, bool exact, unsigned threads,
                  sift_clustering_t **out)
{
    sift_cluster_opts_t o = {.exact = exact, .threads = threads, .no_merge = true};
    double t0 = now();
    if (sift_cluster_run(s, &o, out) < 0) {
        fprintf(stderr, "bench_cluster: clustering failed\n");
        exit(3);
    }
    return now() - t0;
}

typedef struct cp {
    uint32_t e, l;
} cp_t;

static int cmp_cp(const void *a, const void *b)
{
    const cp_t *x = a, *y = b;
    if (x->e != y->e)
        return x->e < y->e ? -1 : 1;
    return (x->l > y->l) - (x->l < y->l);
}

/* Of the pairs exact joins into one cluster, the share lsh joins too. */
static double recall(const sift_clustering_t *exact, const sift_clustering_t *lsh, size_t n)
{
    cp_t *v = malloc(n * sizeof *v);
    if (!v)
        exit(3);
    for (size_t i = 0; i < n; i++)
        v[i] = (cp_t){sift_clustering_of(exact, i), sift_clustering_of(lsh, i)};
    qsort(v, n, sizeof *v, cmp_cp);
    double both = 0, pairs = 0;
    for (size_t i = 0, e0 = 0; i <= n; i++) {
        if (i < n && v[i].e == v[e0].e)
            continue;
        double k = (double)(i - e0);
        pairs += k * (k - 1) / 2;
        for (size_t j = e0, l0 = e0; j <= i; j++) {
            if (j < i && v[j].l == v[l0].l)
                continue;
            double m = (double)(j - l0);
            both += m * (m - 1) / 2;
            l0 = j;
        }
        e0 = i;
    }
    free(v);
    return pairs > 0 ? both / pairs : 1.0;
}

/* Pairs exact would compare: every pair within each part. */
static double exact_pairs(const sift_cluster_set_t *s)
{
    size_t n = sift_cluster_set_size(s);
    double total = 0;
    sift_cluster_unit_t u;
    typedef struct pc { /* the units of each part: a small table */
        sift_cluster_part_t p;
        double n;
    } pc_t;
    pc_t *t = NULL;
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        sift_cluster_set_unit(s, i, &u);
        size_t k = 0;
        for (; k < nt; k++)
            if (t[k].p.proto == u.part.proto && t[k].p.dir == u.part.dir &&
                t[k].p.port == u.part.port)
                break;
        if (k == nt) {
            pc_t *nn = realloc(t, (nt + 1) * sizeof *t);
            if (!nn)
                exit(3);
            t = nn;
            t[nt++] = (pc_t){u.part, 0};
        }
        t[k].n++;
    }
    for (size_t k = 0; k < nt; k++)
        total += t[k].n * (t[k].n - 1) / 2;
    free(t);
    return total;
}

static void compare(const char *label, const sift_cluster_set_t *s, unsigned threads, int rounds)
{
    size_t n = sift_cluster_set_size(s);
    double tl[5], te[5];
    sift_clustering_t *l = NULL, *e = NULL;
    bool do_exact = exact_pairs(s) <= 2e9;
    for (int r = 0; r < rounds; r++) {
        sift_clustering_free(l);
        tl[r] = run(s, false, threads, &l);
        if (do_exact) {
            sift_clustering_free(e);
            te[r] = run(s, true, threads, &e);
        }
    }
    qsort(tl, (size_t)rounds, sizeof *tl, cmp_d);
    qsort(te, (size_t)rounds, sizeof *te, cmp_d);
    sift_clustering_stats_t st;
    sift_clustering_stats(l, &st);
    printf("%-10s %9zu payloads  LSH %9.3f ms (%zu clusters, %llu candidates)", label, n,
           tl[rounds / 2] * 1e3, sift_clustering_count(l), (unsigned long long)st.candidates);
    if (do_exact) {
        printf("  exact %9.3f ms  x%.1f  recall %.4f\n", te[rounds / 2] * 1e3,
               te[rounds / 2] / tl[rounds / 2], recall(e, l, n));
    } else {
        printf("  exact skipped (%.3g pairs)\n", exact_pairs(s));
    }
    sift_clustering_free(l);
    sift_clustering_free(e);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_cluster CAPTURE [MAX_UNITS] [THREADS]\n");
        return 2;
    }
    size_t max = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    unsigned threads = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 2;
    sift_ctx_t *ctx;
    sift_engine_t *e;
    sift_cluster_config_t cfg = {.max_units = max};
    sift_engine_opts_t eo = {.threads = threads};
    if (sift_ctx_create(&ctx) < 0 || sift_engine_create(&e, ctx, &eo) < 0)
        return 3;
    int p = sift_engine_add_pass(e, &sift_cluster_pass, &cfg);
    double t0 = now();
    if (p < 0 || sift_engine_add_input(e, argv[1]) < 1 || sift_engine_run(e) < 0) {
        fprintf(stderr, "bench_cluster: cannot read %s: %s\n", argv[1], sift_ctx_errmsg(ctx));
        return 3;
    }
    sift_cluster_set_t *all;
    if (sift_cluster_set_create(&all, 0) < 0)
        return 3;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const void *st = sift_engine_state(e, i, p);
        if (st && sift_cluster_set_add_state(all, st, (uint32_t)i) < 0)
            return 3;
    }
    double t_read = now() - t0;
    size_t n = sift_cluster_set_size(all);
    printf("read %s: %zu distinct payloads (at most %zu kept) in %.3f s\n", argv[1], n, max,
           t_read);
    if (n >= 1000) {
        sift_cluster_set_t *s = subset(all, 1000, 1);
        compare("first 1k", s, threads, 5);
        sift_cluster_set_free(s);
    }
    if (n >= 10000) {
        sift_cluster_set_t *s = subset(all, 10000, 1);
        compare("first 10k", s, threads, 5);
        sift_cluster_set_free(s);
    }
    size_t m = n < max ? n : max;
    sift_cluster_set_t *s = subset(all, m, 1);
    if (m < max && n > 0) {
        uint64_t rng = 88172645463325252ull;
        for (size_t i = 0; sift_cluster_set_size(s) < max; i = (i + 1) % n) {
            sift_cluster_unit_t u;
            sift_cluster_set_unit(all, i, &u);
            uint8_t b[SIFT_CLUSTER_DEFAULT_BYTES];
            memcpy(b, u.data, u.kept);
            for (int k = 0; k < 2 && u.kept > 9; k++) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                b[8 + rng % (u.kept - 8)] = (uint8_t)(rng >> 32);
            }
            if (sift_cluster_set_add(s, u.part, b, u.kept, 1, 0, NULL) < 0)
                return 3;
        }
        m = sift_cluster_set_size(s);
        printf("topped up to %zu payloads with variants of those read\n", m);
    }
    sift_clustering_t *c;
    double t = run(s, false, threads, &c);
    sift_clustering_stats_t st;
    sift_clustering_stats(c, &st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("all        %9zu payloads  LSH %9.3f s on %u threads (%zu clusters, %llu candidates), "
           "%.1f MB for sketches and index, peak RSS %ld MB\n",
           m, t, threads, sift_clustering_count(c), (unsigned long long)st.candidates,
           (double)st.memory / 1e6, ru.ru_maxrss / 1024);
    sift_clustering_free(c);
    if (m > 20000) {
        sift_cluster_set_t *sample;
        if (sift_cluster_set_create(&sample, 0) < 0)
            return 3;
        for (size_t i = 0; i < 20000; i++) {
            sift_cluster_unit_t u;
            sift_cluster_set_unit(s, i * (m / 20000), &u);
            if (sift_cluster_set_add(sample, u.part, u.data, u.kept, u.packets, 0, NULL) < 0)
                return 3;
        }
        compare("sample 20k", sample, threads, 1);
        sift_cluster_set_free(sample);
    }
    sift_cluster_set_free(s);
    sift_cluster_set_free(all);
    sift_engine_free(e);
    sift_ctx_free(ctx);
    return 0;
}
