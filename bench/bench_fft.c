/* bench_fft: the FFT layer of capsift spectrum (and of the periodicity passes to come).
 *
 *   bench_fft [N] [ROUNDS]
 *
 * On N real samples (default 1,048,576: a tone in noise), the median time of one power spectrum:
 *   - with a fresh plan each time (a new sift_fft_t, so FFTW plans again),
 *   - with the plan reused (one sift_fft_t, as a run of capsift does),
 *   - windowed (Hann) with the window's coefficients cached in the sift_fft_t,
 *   - windowed with the coefficients computed again each time (no window cache),
 *   - answered from the result cache: in memory (a repeat within a run) and from the cache's
 *     file (a later run), and at sizes from 1,024 points up, computed against answered from
 *     memory and against a miss stored in the file (what sets SIFT_FFT_CACHE_MIN_POINTS),
 *   - planned with FFTW_ESTIMATE, measured (FFTW_MEASURE, no wisdom), and from wisdom saved to
 *     a file and loaded again (a later run): the time of the first transform (the planning)
 *     and of the later ones, at sizes up to SIFT_FFT_MEASURE_MAX.
 * Prints one line each and the ratios. Compare the rows with each other, not across machines.
 */
#include <capsift/cache.h>
#include <capsift/spectrum.h>

#include <math.h>
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

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

/* The median time of a power spectrum of x[0..n) with f (once before timing: plans made,
 * the cache filled). */
static double time_power(sift_fft_t *f, const double *x, size_t n, double *power, double *t,
                         int rounds)
{
    if (sift_fft_power(f, x, n, SIFT_WINDOW_RECT, power) < 0)
        exit(3);
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        sift_fft_power(f, x, n, SIFT_WINDOW_RECT, power);
        t[r] = now() - t0;
    }
    return median(t, rounds);
}

/* A cache with its file in a new directory (L1 too small for a spectrum, so every hit is read
 * from the file, as a later run's is), or in memory only (dir NULL). */
static sift_cache_t *open_cache(sift_ctx_t *ctx, const char *dir)
{
    char path[4096];
    sift_cache_t *c;
    sift_cache_opts_t o = {.l1_max_bytes = 4096};
    if (dir)
        snprintf(path, sizeof path, "%s/cache.db", dir);
    if (sift_cache_open(&c, ctx, dir ? path : NULL, dir ? &o : NULL) < 0)
        exit(3);
    return c;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1048576;
    int rounds = argc > 2 ? atoi(argv[2]) : 21;
    if (n < 2 || rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: bench_fft [N >= 2] [ROUNDS 1..1000]\n");
        return 2;
    }
    double *x = malloc(n * sizeof *x), *xw = malloc(n * sizeof *xw), *w = malloc(n * sizeof *w);
    double *power = malloc((n / 2 + 1) * sizeof *power), *t = malloc((size_t)rounds * sizeof *t);
    if (!x || !xw || !w || !power || !t)
        return 3;
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = sin(2 * M_PI * 0.1234 * (double)i) + ((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    double checksum = 0;

    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        sift_fft_t *f;
        if (sift_fft_create(&f) < 0 || sift_fft_power(f, x, n, SIFT_WINDOW_RECT, power) < 0)
            return 3;
        sift_fft_free(f);
        t[r] = now() - t0;
        checksum += power[1];
    }
    double fresh = median(t, rounds);
    printf("%-46s %9.3f ms\n", "FFT, a fresh plan each time", fresh * 1e3);

    sift_fft_t *f;
    if (sift_fft_create(&f) < 0 || sift_fft_power(f, x, n, SIFT_WINDOW_RECT, power) < 0)
        return 3; /* planned once, before timing */
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        sift_fft_power(f, x, n, SIFT_WINDOW_RECT, power);
        t[r] = now() - t0;
        checksum += power[1];
    }
    double reused = median(t, rounds);
    printf("%-46s %9.3f ms\n", "FFT, the plan reused", reused * 1e3);
    printf("  -> plan reuse: %.2fx faster\n", fresh / reused);

    sift_fft_power(f, x, n, SIFT_WINDOW_HANN, power); /* the window made once, before timing */
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        sift_fft_power(f, x, n, SIFT_WINDOW_HANN, power);
        t[r] = now() - t0;
        checksum += power[1];
    }
    double cached = median(t, rounds);
    printf("%-46s %9.3f ms\n", "Hann-windowed FFT, window cached", cached * 1e3);
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) { /* what each call would do without the cache */
            w[i] = 0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)n);
            xw[i] = x[i] * w[i];
        }
        sift_fft_power(f, xw, n, SIFT_WINDOW_RECT, power);
        t[r] = now() - t0;
        checksum += power[1];
    }
    double uncached = median(t, rounds);
    printf("%-46s %9.3f ms\n", "Hann-windowed FFT, window computed each time", uncached * 1e3);
    if (cached - reused > 0.02 * reused)
        printf("  -> window cache: %.2fx faster (windowing alone: %.2fx)\n", uncached / cached,
               (uncached - reused) / (cached - reused));
    else /* applying a cached window costs less than the rounds differ by */
        printf("  -> window cache: %.2fx faster (windowing with it: within the noise)\n",
               uncached / cached);

    sift_ctx_t *ctx;
    char dir[] = "/tmp/bench_fft.XXXXXX";
    if (sift_ctx_create(&ctx) < 0 || !mkdtemp(dir))
        return 3;
    sift_cache_t *mem = open_cache(ctx, NULL), *file = open_cache(ctx, dir);
    sift_fft_t *fm, *ff;
    if (sift_fft_create(&fm) < 0 || sift_fft_create(&ff) < 0)
        return 3;
    sift_fft_set_cache(fm, mem, 0);
    sift_fft_set_cache(ff, file, 0);
    double in_mem = time_power(fm, x, n, power, t, rounds);
    printf("%-46s %9.3f ms\n", "FFT, answered from the result cache (memory)", in_mem * 1e3);
    double in_file = time_power(ff, x, n, power, t, rounds);
    printf("%-46s %9.3f ms\n", "FFT, answered from the cache file (later run)", in_file * 1e3);
    printf("  -> result cache: %.1fx faster than a fresh plan, %.1fx than a reused one (memory);"
           " %.1fx, %.1fx (file)\n",
           fresh / in_mem, reused / in_mem, fresh / in_file, reused / in_file);
    printf("result cache threshold (SIFT_FFT_CACHE_MIN_POINTS = %d):\n", SIFT_FFT_CACHE_MIN_POINTS);
    for (size_t m = 1024; m <= n; m *= 4) {
        sift_fft_set_cache(fm, mem, 1);
        sift_fft_set_cache(ff, file, 1);
        double hit = time_power(fm, x, m, power, t, rounds);
        double computed = time_power(f, x, m, power, t, rounds);
        for (int r = 0; r < rounds; r++) { /* new samples each time: a miss, stored */
            x[0] += 1;
            double t0 = now();
            sift_fft_power(ff, x, m, SIFT_WINDOW_RECT, power);
            t[r] = now() - t0;
        }
        double miss = median(t, rounds);
        printf("  %7zu points: computed %8.1f us; from memory %8.1f us (%.2fx); a miss stored in"
               " the file %8.1f us (%.2fx)\n",
               m, computed * 1e6, hit * 1e6, computed / hit, miss * 1e6, miss / computed);
    }
    char wisdom[4096];
    snprintf(wisdom, sizeof wisdom, "%s/fftw-wisdom", dir);
    printf("plans (first transform: planning and one run; then the median run):\n");
    for (size_t m = 4096; m <= SIFT_FFT_MEASURE_MAX && m <= n; m *= 16) {
        const char *how[3] = {"estimated", "measured, no wisdom", "from the wisdom file"};
        double first[3], run[3];
        for (int k = 0; k < 3; k++) {
            if (k < 2)
                sift_fft_wisdom_forget();
            else if (sift_fft_wisdom_save(wisdom) < 0 ||
                     (sift_fft_wisdom_forget(), sift_fft_wisdom_load(wisdom)) < 0)
                return 3;
            sift_fft_t *fp;
            if (sift_fft_create(&fp) < 0)
                return 3;
            sift_fft_set_measure(fp, k > 0);
            double t0 = now();
            sift_fft_power(fp, x, m, SIFT_WINDOW_RECT, power);
            first[k] = now() - t0;
            run[k] = time_power(fp, x, m, power, t, rounds);
            sift_fft_free(fp);
        }
        for (int k = 0; k < 3; k++)
            printf("  %7zu points, %-21s first %9.3f ms, then %8.1f us\n", m, how[k],
                   first[k] * 1e3, run[k] * 1e6);
        printf("  -> measured plans run %.2fx faster; the wisdom plans %.0fx faster than "
               "measuring\n",
               run[0] / run[1], first[1] / first[2]);
    }
    unlink(wisdom);
    printf("(%zu points, median of %d; checksum %.6g)\n", n, rounds, checksum);
    sift_fft_free(fm);
    sift_fft_free(ff);
    sift_cache_close(mem);
    sift_cache_close(file);
    char path[4096];
    const char *ext[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/cache.db%s", dir, ext[i]);
        unlink(path);
    }
    rmdir(dir);
    sift_ctx_free(ctx);
    sift_fft_free(f);
    free(x);
    free(xw);
    free(w);
    free(power);
    free(t);
    return 0;
}
