/* Power spectra (see capsift/spectrum.h): FFTW plans and window coefficients made once per size,
 * Welch's averaged periodogram over a sliding segment buffer, and the peaks of a density.
 *
 * P. Welch, "The use of fast Fourier transform for the estimation of power spectra", 1967. The
 * density scaling is 1 / (rate * sum(w^2)), doubled for the bins that stand for a negative
 * frequency too (all but DC and, for an even nfft, Nyquist).
 */
#include "common/internal.h"

#include <capsift/spectrum.h>

#include <errno.h>
#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

/* FFTW's planner (making and destroying plans, its wisdom) is not reentrant: one thread at a
 * time plans, so that distinct sift_fft_t objects are independent. Executing a plan needs no
 * lock. wisdom_new: plans were measured since the wisdom was loaded or saved (under the lock). */
static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;
static bool wisdom_new;

typedef struct plan {
    size_t n;
    double *in;
    fftw_complex *out;
    fftw_plan p;
    fftw_plan inv; /* out back to in (complex to real), made on first use */
} plan_t;

typedef struct window {
    sift_window_kind_t kind;
    size_t n;
    double *w;
} window_t;

struct sift_fft {
    plan_t *plans;
    size_t nplans;
    window_t *windows;
    size_t nwindows;
    sift_cache_t *cache; /* NULL: none */
    size_t cache_min;
    bool measure;
};

/* ---- the result cache ---- */

void sift_fft_set_cache(sift_fft_t *f, sift_cache_t *c, size_t min_points)
{
    f->cache = c;
    f->cache_min = min_points ? min_points : SIFT_FFT_CACHE_MIN_POINTS;
}

/* The key of operation op (with its parameter) on x[0..n); false when there is no cache for
 * it (none set, too few points, or memory ran out). */
static bool memo_key(const sift_fft_t *f, const char *op, uint64_t param, const double *x, size_t n,
                     sift_cache_key_t *key)
{
    if (!f->cache || n < f->cache_min)
        return false;
    XXH128_hash_t h = XXH3_128bits(x, n * sizeof *x);
    const uint64_t fields[3] = {h.low64, h.high64, n};
    sift_cache_keyb_t kb;
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, op);
    sift_cache_keyb_str(&kb, sift_version());
    sift_cache_keyb_u64(&kb, param);
    sift_cache_keyb_bytes(&kb, fields, sizeof fields);
    return sift_cache_keyb_finish(&kb, key) == 0;
}

/* The nout values stored under key into out; false on a miss (or a value of another size). */
static bool memo_get(const sift_fft_t *f, const sift_cache_key_t *key, double *out, size_t nout)
{
    const void *v;
    size_t len;
    if (sift_cache_get(f->cache, key->bytes, sizeof key->bytes, &v, &len) != 0 ||
        len != nout * sizeof *out)
        return false;
    memcpy(out, v, len);
    return true;
}

int sift_window_parse(const char *name, sift_window_kind_t *out)
{
    static const struct {
        const char *name;
        sift_window_kind_t w;
    } names[] = {{"hann", SIFT_WINDOW_HANN},       {"hanning", SIFT_WINDOW_HANN},
                 {"hamming", SIFT_WINDOW_HAMMING}, {"blackman", SIFT_WINDOW_BLACKMAN},
                 {"rect", SIFT_WINDOW_RECT},       {"rectangular", SIFT_WINDOW_RECT},
                 {"none", SIFT_WINDOW_RECT},       {"boxcar", SIFT_WINDOW_RECT}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].w;
            return 0;
        }
    return SIFT_EINVAL;
}

const char *sift_window_name(sift_window_kind_t w)
{
    switch (w) {
    case SIFT_WINDOW_HANN:
        return "hann";
    case SIFT_WINDOW_HAMMING:
        return "hamming";
    case SIFT_WINDOW_BLACKMAN:
        return "blackman";
    default:
        return "rect";
    }
}

unsigned sift_window_lobe(sift_window_kind_t w)
{
    return w == SIFT_WINDOW_RECT ? 1 : w == SIFT_WINDOW_BLACKMAN ? 3 : 2;
}

int sift_fft_create(sift_fft_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : SIFT_ENOMEM;
}

void sift_fft_free(sift_fft_t *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&planner);
    for (size_t i = 0; i < f->nplans; i++) {
        fftw_destroy_plan(f->plans[i].p);
        if (f->plans[i].inv)
            fftw_destroy_plan(f->plans[i].inv);
    }
    pthread_mutex_unlock(&planner);
    for (size_t i = 0; i < f->nplans; i++) {
        fftw_free(f->plans[i].in);
        fftw_free(f->plans[i].out);
    }
    for (size_t i = 0; i < f->nwindows; i++)
        free(f->windows[i].w);
    free(f->plans);
    free(f->windows);
    free(f);
}

const double *sift_fft_window(sift_fft_t *f, sift_window_kind_t kind, size_t n)
{
    for (size_t i = 0; i < f->nwindows; i++)
        if (f->windows[i].kind == kind && f->windows[i].n == n)
            return f->windows[i].w;
    if (n == 0)
        return NULL;
    window_t *v = realloc(f->windows, (f->nwindows + 1) * sizeof *v);
    if (!v)
        return NULL;
    f->windows = v;
    double *w = malloc(n * sizeof *w);
    if (!w)
        return NULL;
    const double pi2 = 2 * M_PI;
    for (size_t i = 0; i < n; i++) {
        double t = pi2 * (double)i / (double)n; /* periodic: the DFT-even form */
        switch (kind) {
        case SIFT_WINDOW_HANN:
            w[i] = 0.5 - 0.5 * cos(t);
            break;
        case SIFT_WINDOW_HAMMING:
            w[i] = 0.54 - 0.46 * cos(t);
            break;
        case SIFT_WINDOW_BLACKMAN:
            w[i] = 0.42 - 0.5 * cos(t) + 0.08 * cos(2 * t);
            break;
        default:
            w[i] = 1;
        }
    }
    f->windows[f->nwindows++] = (window_t){.kind = kind, .n = n, .w = w};
    return w;
}

/* ---- plans and wisdom ---- */

void sift_fft_set_measure(sift_fft_t *f, bool measure)
{
    f->measure = measure;
}

/* The forward (real to complex) or the inverse plan of p's size over its arrays, under the
 * planner's lock: from the wisdom when measuring and it holds one, else measured up to
 * SIFT_FFT_MEASURE_MAX points, else estimated. Planning may overwrite the arrays. */
static fftw_plan make_plan(const sift_fft_t *f, const plan_t *p, bool inverse)
{
    int n = (int)p->n;
    unsigned flags = FFTW_ESTIMATE;
    fftw_plan q = NULL;
    pthread_mutex_lock(&planner);
    for (int round = f->measure ? 0 : 1; !q && round < 2; round++) {
        if (round == 0)
            flags = FFTW_MEASURE | FFTW_WISDOM_ONLY;
        else if (f->measure && p->n <= SIFT_FFT_MEASURE_MAX)
            flags = FFTW_MEASURE;
        else
            flags = FFTW_ESTIMATE;
        q = inverse ? fftw_plan_dft_c2r_1d(n, p->out, p->in, flags)
                    : fftw_plan_dft_r2c_1d(n, p->in, p->out, flags);
        if (q && flags == FFTW_MEASURE)
            wisdom_new = true;
    }
    pthread_mutex_unlock(&planner);
    return q;
}

int sift_fft_wisdom_load(const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return errno == ENOENT ? SIFT_ENOTFOUND : SIFT_EIO;
    pthread_mutex_lock(&planner);
    int ok = fftw_import_wisdom_from_file(in);
    if (ok)
        wisdom_new = false;
    pthread_mutex_unlock(&planner);
    fclose(in);
    return ok ? 0 : SIFT_ECORRUPT;
}

int sift_fft_wisdom_save(const char *path)
{
    pthread_mutex_lock(&planner);
    int rc = 0;
    if (wisdom_new) {
        size_t n = strlen(path);
        char *tmp = malloc(n + 16);
        int fd = -1;
        if (tmp) {
            memcpy(tmp, path, n);
            memcpy(tmp + n, ".tmp-XXXXXX", 12);
            fd = mkstemp(tmp);
        }
        FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!out) {
            rc = SIFT_EIO;
            if (fd >= 0)
                close(fd);
        } else {
            fftw_export_wisdom_to_file(out);
            bool bad = ferror(out) != 0;
            if (fclose(out) != 0 || bad || rename(tmp, path) != 0)
                rc = SIFT_EIO;
        }
        if (rc < 0 && fd >= 0) {
            int e = errno;
            unlink(tmp);
            errno = e;
        }
        if (rc == 0)
            wisdom_new = false;
        free(tmp);
    }
    pthread_mutex_unlock(&planner);
    return rc;
}

void sift_fft_wisdom_forget(void)
{
    pthread_mutex_lock(&planner);
    fftw_forget_wisdom();
    wisdom_new = false;
    pthread_mutex_unlock(&planner);
}

static plan_t *plan_for(sift_fft_t *f, size_t n)
{
    for (size_t i = 0; i < f->nplans; i++)
        if (f->plans[i].n == n)
            return &f->plans[i];
    plan_t *v = realloc(f->plans, (f->nplans + 1) * sizeof *v);
    if (!v)
        return NULL;
    f->plans = v;
    plan_t p = {.n = n,
                .in = fftw_malloc(n * sizeof(double)),
                .out = fftw_malloc((n / 2 + 1) * sizeof(fftw_complex))};
    if (p.in && p.out && n <= INT32_MAX)
        p.p = make_plan(f, &p, false);
    if (!p.p) {
        fftw_free(p.in);
        fftw_free(p.out);
        return NULL;
    }
    f->plans[f->nplans] = p;
    return &f->plans[f->nplans++];
}

/* The power of the DFT of what is in the plan's input. */
static void run_power(const plan_t *p, double *power)
{
    fftw_execute(p->p);
    for (size_t k = 0; k <= p->n / 2; k++)
        power[k] = p->out[k][0] * p->out[k][0] + p->out[k][1] * p->out[k][1];
}

int sift_fft_power(sift_fft_t *f, const double *x, size_t n, sift_window_kind_t w, double *power)
{
    if (n < 2)
        return SIFT_EINVAL;
    sift_cache_key_t key;
    bool memo = memo_key(f, "sift_fft_power 1", (uint64_t)w, x, n, &key);
    if (memo && memo_get(f, &key, power, n / 2 + 1))
        return 0;
    plan_t *p = plan_for(f, n);
    const double *win = w == SIFT_WINDOW_RECT ? NULL : sift_fft_window(f, w, n);
    if (!p || (w != SIFT_WINDOW_RECT && !win))
        return SIFT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        p->in[i] = win ? x[i] * win[i] : x[i];
    run_power(p, power);
    if (memo) /* a value the cache cannot keep is computed again next time */
        sift_cache_put(f->cache, key.bytes, sizeof key.bytes, power, (n / 2 + 1) * sizeof *power);
    return 0;
}

int sift_fft_autocorr(sift_fft_t *f, const double *x, size_t n, double *acf)
{
    if (n < 2 || n > SIZE_MAX / 4)
        return SIFT_EINVAL;
    size_t m = 2;
    while (m < 2 * n)
        m *= 2;
    sift_cache_key_t key;
    bool memo = memo_key(f, "sift_fft_autocorr 1", 0, x, n, &key);
    if (memo && memo_get(f, &key, acf, n))
        return 0;
    plan_t *p = plan_for(f, m);
    if (!p)
        return SIFT_ENOMEM;
    if (!p->inv) {
        p->inv = make_plan(f, p, true);
        if (!p->inv)
            return SIFT_ENOMEM;
    }
    memcpy(p->in, x, n * sizeof *x);
    memset(p->in + n, 0, (m - n) * sizeof *x);
    fftw_execute(p->p);
    for (size_t k = 0; k <= m / 2; k++) {
        p->out[k][0] = p->out[k][0] * p->out[k][0] + p->out[k][1] * p->out[k][1];
        p->out[k][1] = 0;
    }
    fftw_execute(p->inv); /* the zero padding keeps the circular sums from wrapping */
    double z = p->in[0];
    for (size_t k = 0; k < n; k++)
        acf[k] = z > 0 ? p->in[k] / z : 0;
    if (memo)
        sift_cache_put(f->cache, key.bytes, sizeof key.bytes, acf, n * sizeof *acf);
    return 0;
}

/* ---- Welch ---- */

struct sift_welch {
    sift_fft_t *fft;
    size_t nfft, step;
    double rate, scale; /* 1 / (rate * sum w^2) */
    const double *win;  /* NULL: rectangular */
    double *buf;        /* the segment being filled: fill samples */
    size_t fill;
    double *acc, *power; /* nfft / 2 + 1 each */
    uint64_t segments, samples;
    plan_t *plan;
};

int sift_welch_create(sift_welch_t **out, sift_fft_t *f, const sift_welch_opts_t *o)
{
    *out = NULL;
    size_t nfft = o->nfft ? o->nfft : 4096;
    size_t overlap = o->overlap_set ? o->overlap : nfft / 2;
    if (nfft < 2 || overlap >= nfft || !(o->rate > 0) || isinf(o->rate) || nfft > (size_t)INT32_MAX)
        return SIFT_EINVAL;
    sift_welch_t *w = calloc(1, sizeof *w);
    if (!w)
        return SIFT_ENOMEM;
    w->fft = f;
    w->nfft = nfft;
    w->step = nfft - overlap;
    w->rate = o->rate;
    w->buf = malloc(nfft * sizeof *w->buf);
    w->acc = calloc(nfft / 2 + 1, sizeof *w->acc);
    w->power = malloc((nfft / 2 + 1) * sizeof *w->power);
    w->plan = plan_for(f, nfft);
    w->win = o->window == SIFT_WINDOW_RECT ? NULL : sift_fft_window(f, o->window, nfft);
    if (!w->buf || !w->acc || !w->power || !w->plan || (o->window != SIFT_WINDOW_RECT && !w->win)) {
        sift_welch_free(w);
        return SIFT_ENOMEM;
    }
    double s2 = 0;
    for (size_t i = 0; i < nfft; i++)
        s2 += w->win ? w->win[i] * w->win[i] : 1;
    w->scale = 1 / (w->rate * s2);
    *out = w;
    return 0;
}

void sift_welch_free(sift_welch_t *w)
{
    if (!w)
        return;
    free(w->buf);
    free(w->acc);
    free(w->power);
    free(w);
}

/* A whole segment is in buf: its mean removed, windowed, its power added; then the samples it
 * shares with the next stay. */
static void segment(sift_welch_t *w)
{
    double mean = 0;
    for (size_t i = 0; i < w->nfft; i++)
        mean += w->buf[i];
    mean /= (double)w->nfft;
    for (size_t i = 0; i < w->nfft; i++)
        w->plan->in[i] = w->win ? (w->buf[i] - mean) * w->win[i] : w->buf[i] - mean;
    run_power(w->plan, w->power);
    for (size_t k = 0; k <= w->nfft / 2; k++)
        w->acc[k] += w->power[k];
    w->segments++;
    memmove(w->buf, w->buf + w->step, (w->nfft - w->step) * sizeof *w->buf);
    w->fill = w->nfft - w->step;
}

int sift_welch_push(sift_welch_t *w, const double *x, size_t n, size_t stride)
{
    if (stride == 0)
        stride = 1;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i * stride]) || isinf(x[i * stride]))
            return SIFT_EINVAL;
    for (size_t i = 0; i < n; i++) {
        w->buf[w->fill++] = x[i * stride];
        if (w->fill == w->nfft)
            segment(w);
    }
    w->samples += n;
    return 0;
}

uint64_t sift_welch_segments(const sift_welch_t *w)
{
    return w->segments;
}

uint64_t sift_welch_samples(const sift_welch_t *w)
{
    return w->samples;
}

int sift_welch_psd(const sift_welch_t *w, double *psd)
{
    if (w->segments == 0)
        return SIFT_ENOTFOUND;
    size_t nb = w->nfft / 2 + 1;
    for (size_t k = 0; k < nb; k++) {
        bool twice = k > 0 && !(w->nfft % 2 == 0 && k == nb - 1);
        psd[k] = w->acc[k] / (double)w->segments * w->scale * (twice ? 2 : 1);
    }
    return 0;
}

/* ---- peaks ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of the bins not flagged in skip (0 when every bin is). */
static double median_of(const double *psd, size_t nbins, const unsigned char *skip, double *tmp)
{
    size_t n = 0;
    for (size_t i = 0; i < nbins; i++)
        if (!skip[i])
            tmp[n++] = psd[i];
    if (n == 0)
        return 0;
    if (n > 1)
        qsort(tmp, n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void mark_lobe(unsigned char *skip, size_t nbins, size_t bin, unsigned lobe)
{
    size_t a = bin > lobe ? bin - lobe : 0, b = bin + lobe < nbins ? bin + lobe : nbins - 1;
    for (size_t i = a; i <= b; i++)
        skip[i] = 1;
}

static int by_psd_desc(const void *a, const void *b)
{
    const sift_spectrum_peak_t *x = a, *y = b;
    if (x->psd != y->psd)
        return x->psd > y->psd ? -1 : 1;
    return (x->bin > y->bin) - (x->bin < y->bin);
}

/* How far a maximum stands out: its density over the higher of the lowest densities between it
 * and a higher bin on either side (or the end), each side searched up to `reach` bins. The
 * ripple of noise on the skirt of a strong tone stands out little, a tone much. */
static double prominence(const double *psd, size_t nbins, size_t i)
{
    enum { REACH = 4096 };
    double lo[2];
    for (int side = 0; side < 2; side++) {
        double m = psd[i];
        for (size_t d = 1; d <= REACH; d++) {
            if (side == 0 ? d > i : i + d >= nbins)
                break;
            double v = psd[side == 0 ? i - d : i + d];
            if (v > psd[i])
                break;
            m = v < m ? v : m;
        }
        lo[side] = m;
    }
    double key = lo[0] > lo[1] ? lo[0] : lo[1];
    return key > 0 ? psd[i] / key : INFINITY;
}

int sift_spectrum_peaks(const double *psd, size_t nbins, double bin_hz, unsigned lobe, size_t k,
                        sift_spectrum_peak_t *peaks, sift_spectrum_summary_t *sum)
{
    enum { MAX_CANDIDATES = 256 }; /* peaks whose lobes are kept out of the noise floor */
    memset(sum, 0, sizeof *sum);
    sum->bin_hz = bin_hz;
    sum->snr_db = NAN;
    if (lobe == 0)
        lobe = 1;
    unsigned char *skip = calloc(nbins ? nbins : 1, 1);
    double *tmp = malloc((nbins ? nbins : 1) * sizeof *tmp);
    sift_spectrum_peak_t *cand = malloc(MAX_CANDIDATES * sizeof *cand);
    if (!skip || !tmp || !cand) {
        free(skip);
        free(tmp);
        free(cand);
        return SIFT_ENOMEM;
    }
    mark_lobe(skip, nbins, 0, lobe); /* DC and what leaks from it */
    double floor0 = median_of(psd, nbins, skip, tmp);
    /* local maxima above the first floor, strongest first */
    size_t nc = 0;
    for (size_t i = lobe + 1; i < nbins; i++) {
        double left = psd[i - 1], right = i + 1 < nbins ? psd[i + 1] : -1;
        if (!(psd[i] > left && psd[i] >= right && psd[i] > 4 * floor0) ||
            prominence(psd, nbins, i) < 4)
            continue;
        sift_spectrum_peak_t c = {.bin = i, .psd = psd[i]};
        if (nc < MAX_CANDIDATES) {
            cand[nc++] = c;
        } else { /* keep the strongest: replace the weakest */
            size_t m = 0;
            for (size_t j = 1; j < nc; j++)
                m = cand[j].psd < cand[m].psd ? j : m;
            if (c.psd > cand[m].psd)
                cand[m] = c;
        }
    }
    if (nc > 1)
        qsort(cand, nc, sizeof *cand, by_psd_desc);
    /* a weaker maximum within a stronger one's main lobe is that one's side lobe */
    size_t na = 0;
    for (size_t i = 0; i < nc; i++) {
        bool side = false;
        for (size_t j = 0; j < na && !side; j++) {
            size_t d =
                cand[i].bin > cand[j].bin ? cand[i].bin - cand[j].bin : cand[j].bin - cand[i].bin;
            side = d <= 2 * (size_t)lobe;
        }
        if (!side)
            cand[na++] = cand[i];
    }
    for (size_t i = 0; i < na; i++)
        mark_lobe(skip, nbins, cand[i].bin, lobe);
    double floor = median_of(psd, nbins, skip, tmp);
    double total = 0;
    size_t band = 0;
    for (size_t i = lobe + 1; i < nbins; i++) {
        total += psd[i];
        band++;
    }
    sum->noise_floor = floor;
    sum->total_power = total * bin_hz;
    size_t out = na < k ? na : k;
    for (size_t i = 0; i < out; i++) {
        sift_spectrum_peak_t *p = &peaks[i];
        *p = cand[i];
        size_t b = p->bin;
        double lobe_sum = 0;
        size_t lo = b > lobe ? b - lobe : 0, hi = b + lobe < nbins ? b + lobe : nbins - 1;
        for (size_t j = lo; j <= hi; j++)
            lobe_sum += psd[j];
        p->power = lobe_sum * bin_hz;
        p->snr_db = 10 * log10(lobe_sum / (floor * (double)(hi - lo + 1)));
        double d = 0;
        if (b + 1 < nbins && psd[b - 1] > 0 && psd[b + 1] > 0) {
            double a = log(psd[b - 1]), m = log(psd[b]), c = log(psd[b + 1]);
            double den = a - 2 * m + c;
            d = den != 0 ? 0.5 * (a - c) / den : 0;
            d = d > 0.5 ? 0.5 : d < -0.5 ? -0.5 : d;
        }
        p->freq = ((double)b + d) * bin_hz;
    }
    sum->npeaks = out;
    if (out && band)
        sum->snr_db = 10 * log10(peaks[0].power / (floor * bin_hz * (double)band));
    free(skip);
    free(tmp);
    free(cand);
    return (int)out;
}
