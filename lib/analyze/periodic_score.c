/* The periodic pass's analysis: candidate periods from the spectrum of each group's binned
 * events, verified on its autocorrelation, refined on the intervals, scored beside RITA's
 * subscores (see capsift/periodic.h).
 *
 * BAYWATCH: X. Hu et al., "BAYWATCH: Robust Beaconing Detection to Identify Infected Hosts in
 * Large-Scale Enterprise Networks", DSN 2016 (periodogram candidates, autocorrelation check).
 * RITA: Active Countermeasures, the beacon analyzer (Bowley skew, MADM, data sizes, duration,
 * hourly histogram).
 */
#include "analyze/periodic_int.h"

#include <capsift/spectrum.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define JOIN_NS    1000000000LL /* events of a group less than this apart are one */
#define MAX_BINS   (1u << 22)   /* bins of a group's series at most */
#define BINS_PER   16           /* bins per median interval */
#define CANDIDATES 8            /* spectral peaks tried */
#define HOUR_NS    (3600 * SIFT_FLOW_NS_PER_S)
/* Events per period a candidate may have: fewer is a period most of whose calls are missing,
 * more is traffic of which the period is not the rhythm (it may still hold one) */
#define MIN_PER_PERIOD 0.4
#define MAX_PER_PERIOD 2.5

static const sift_periodic_opts_t default_opts = {0};

/* ---- the events by group ---- */

static int by_group_time(const void *pa, const void *pb)
{
    const sift__periodic_event_t *a = pa, *b = pb;
    if (a->gid != b->gid)
        return a->gid < b->gid ? -1 : 1;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->dur != b->dur)
        return a->dur < b->dur ? -1 : 1;
    return a->bytes < b->bytes ? -1 : a->bytes > b->bytes;
}

/* Sorts the events by group (the same order whatever order they were added in). */
static int read_index(const sift_periodic_t *p)
{
    struct sift__periodic_read *r = p->read;
    if (r->sorted)
        return 0;
    size_t *off = realloc(r->off, (p->ngroups + 1) * sizeof *off);
    if (!off)
        return SIFT_ENOMEM;
    r->off = off;
    if (p->nevents > 1)
        qsort(p->events, p->nevents, sizeof *p->events, by_group_time);
    size_t e = 0;
    for (size_t g = 0; g <= p->ngroups; g++) {
        while (e < p->nevents && p->events[e].gid < g)
            e++;
        off[g] = e;
    }
    r->sorted = true;
    return 0;
}

/* ---- small statistics ---- */

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* The q-quantile of sorted v[0..n) (linear between order statistics). */
static double quantile(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

/* The median of |v - m| for v[0..n), with tmp as room for n values. */
static double mad(const double *v, size_t n, double m, double *tmp)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = fabs(v[i] - m);
    if (n > 1)
        qsort(tmp, n, sizeof *tmp, cmp_double);
    return quantile(tmp, n, 0.5);
}

/* RITA's dispersion subscores of sorted v[0..n): Bowley skew 1 - |skew|, then 1 - MADM / median. */
static void rita_dispersion(const double *sorted, size_t n, double *tmp, double *skew_score,
                            double *madm_score)
{
    double q1 = quantile(sorted, n, 0.25), q2 = quantile(sorted, n, 0.5),
           q3 = quantile(sorted, n, 0.75);
    double skew = 0;
    if (q3 != q1 && q2 != q1 && q2 != q3)
        skew = (q3 + q1 - 2 * q2) / (q3 - q1);
    *skew_score = 1 - fabs(skew);
    double m = mad(sorted, n, q2, tmp);
    *madm_score = q2 > 0 ? fmax(0, 1 - m / q2) : (m == 0 ? 1 : 0);
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* ---- one group ---- */

typedef struct work {
    sift_fft_t *fft;
    double *t, *sz;       /* joined events: seconds since the first, bytes */
    int64_t *hour;        /* the hour of each joined event */
    double *d, *ds, *tmp; /* intervals, sorted intervals, room */
    size_t cap;           /* of each of the above */
    double *x, *acf, *pw; /* bins, their autocorrelation, the power of the padded bins */
    size_t bcap;          /* of x and acf; pw has bcap + 2 */
} work_t;

static int work_room(work_t *w, size_t n)
{
    if (n <= w->cap)
        return 0;
    size_t cap = n > 2 * w->cap ? n : 2 * w->cap;
    double **arrays[] = {&w->t, &w->sz, &w->d, &w->ds, &w->tmp};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        double *v = realloc(*arrays[i], cap * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        *arrays[i] = v;
    }
    int64_t *h = realloc(w->hour, cap * sizeof *h);
    if (!h)
        return SIFT_ENOMEM;
    w->hour = h;
    w->cap = cap;
    return 0;
}

static int work_bins(work_t *w, size_t n)
{
    if (n <= w->bcap)
        return 0;
    double **arrays[] = {&w->x, &w->acf, &w->pw};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        double *v = realloc(*arrays[i], (n + 2) * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        *arrays[i] = v;
    }
    w->bcap = n;
    return 0;
}

static void work_free(work_t *w)
{
    free(w->t);
    free(w->sz);
    free(w->hour);
    free(w->d);
    free(w->ds);
    free(w->tmp);
    free(w->x);
    free(w->acf);
    free(w->pw);
    sift_fft_free(w->fft);
}

/* A group's events joined (those less than JOIN_NS after the start of the one before are part
 * of it) into w; returns their number. */
static size_t join_events(work_t *w, const sift__periodic_event_t *ev, size_t n)
{
    size_t m = 0;
    int64_t t0 = ev[0].ts, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && ev[i].ts - start < JOIN_NS) {
            w->sz[m - 1] += (double)ev[i].bytes;
            continue;
        }
        start = ev[i].ts;
        w->t[m] = (double)(ev[i].ts - t0) / 1e9;
        w->sz[m] = (double)ev[i].bytes;
        w->hour[m] = sift__floor_div(ev[i].ts, HOUR_NS);
        m++;
    }
    return m;
}

/* The period refined from p0 on the intervals d[0..n): each spans round(d / p) periods (none:
 * an extra event); p is their total over the periods they span. Sets the jitter, missed and
 * the regularity subscore. */
static double refine(work_t *w, size_t n, double p0, double *jitter, uint64_t *missed,
                     double *regularity)
{
    double p = p0;
    for (int it = 0; it < 4; it++) {
        double sd = 0, sk = 0;
        for (size_t i = 0; i < n; i++) {
            double k = round(w->d[i] / p);
            if (k >= 1) {
                sd += w->d[i];
                sk += k;
            }
        }
        if (sk > 0)
            p = sd / sk;
    }
    size_t nr = 0, extra = 0;
    double spans = 0;
    for (size_t i = 0; i < n; i++) {
        double k = round(w->d[i] / p);
        if (k < 1) {
            extra++;
            continue;
        }
        spans += k;
        w->ds[nr++] = w->d[i] / k - p; /* the residual per period */
    }
    *missed = spans > (double)nr ? (uint64_t)(spans - (double)nr) : 0;
    if (nr == 0) {
        *jitter = 1;
        *regularity = 0;
        return p;
    }
    if (nr > 1)
        qsort(w->ds, nr, sizeof *w->ds, cmp_double);
    double med = quantile(w->ds, nr, 0.5);
    *jitter = p > 0 ? 1.4826 * mad(w->ds, nr, med, w->tmp) / p : 1;
    double present = (double)nr / (spans + (double)extra);
    *regularity = clamp01(1 - 2 * *jitter) * present;
    return p;
}

/* The autocorrelation summed within a tenth of l (1.5 bins at least) around lag l bins. */
static double acf_sum(const work_t *w, size_t nb, double l, double half)
{
    double m = 0, lo = ceil(l - half), hi = floor(l + half);
    for (double k = lo < 1 ? 1 : lo; k <= hi && k < (double)nb; k++)
        m += w->acf[(size_t)k];
    return m;
}

/* How many events another follows one period (l bins) later, above chance and above what half a
 * period and one and a half periods away hold: traffic that comes in clusters correlates at
 * every lag shorter than its clusters, but only a periodic one has a hill at the period and
 * valleys between (BAYWATCH's check). */
static double acf_mass(const work_t *w, size_t nb, double l)
{
    double half = fmax(1.5, 0.1 * l);
    double at = acf_sum(w, nb, l, half), before = acf_sum(w, nb, l / 2, half);
    double after = 1.5 * l + half < (double)nb ? acf_sum(w, nb, 1.5 * l, half) : before;
    return at - fmax(0, fmax(before, after));
}

/* The bins of the joined events t[0..n) at width bin: x (mean removed), the autocorrelation and
 * the power of x padded to a power of two *npad. Returns the number of bins or a negative code. */
static int64_t transform(work_t *w, size_t n, double bin, size_t *npad)
{
    double span = w->t[n - 1];
    size_t nb = (size_t)(span / bin) + 1;
    size_t pad = 2;
    while (pad < nb)
        pad *= 2;
    if (work_bins(w, pad) < 0)
        return SIFT_ENOMEM;
    memset(w->x, 0, pad * sizeof *w->x);
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)(w->t[i] / bin);
        w->x[j < nb ? j : nb - 1] += 1;
    }
    double mean = (double)n / (double)nb;
    for (size_t j = 0; j < nb; j++)
        w->x[j] -= mean;
    int rc = sift_fft_autocorr(w->fft, w->x, nb, w->acf);
    if (rc == 0)
        rc = sift_fft_power(w->fft, w->x, pad, SIFT_WINDOW_RECT, w->pw);
    if (rc < 0)
        return rc;
    *npad = pad;
    return (int64_t)nb;
}

/* The bin width for the joined events t[0..n) and intervals d (sorted into ds); *med: their
 * median interval. */
static double bin_width(work_t *w, size_t n, double *med)
{
    for (size_t i = 0; i + 1 < n; i++)
        w->ds[i] = w->d[i];
    if (n > 2)
        qsort(w->ds, n - 1, sizeof *w->ds, cmp_double);
    *med = quantile(w->ds, n - 1, 0.5);
    double bin = fmax(*med / BINS_PER, 1e-3);
    double span = w->t[n - 1];
    if (span / bin > MAX_BINS)
        bin = span / MAX_BINS;
    return bin;
}

/* Scores the group of events ev[0..n) into r; returns 1, 0 when it has too few events, or a
 * negative code. */
static int score_group(work_t *w, const sift_periodic_t *p, const sift_periodic_opts_t *o,
                       const sift__periodic_event_t *ev, size_t n, sift_periodic_result_t *r)
{
    if (n < o->min_events || work_room(w, n) < 0)
        return n < o->min_events ? 0 : SIFT_ENOMEM;
    size_t m = join_events(w, ev, n);
    if (m < o->min_events || w->t[m - 1] <= 0)
        return 0;
    memset(r, 0, sizeof *r);
    r->events = m;
    for (size_t i = 0; i < n; i++)
        r->bytes += ev[i].bytes;
    r->first_ns = ev[0].ts;
    r->last_ns = ev[n - 1].ts;
    for (size_t i = 0; i + 1 < m; i++)
        w->d[i] = w->t[i + 1] - w->t[i];
    double span = w->t[m - 1];
    double med;
    double bin = bin_width(w, m, &med); /* leaves the intervals sorted in ds */

    /* RITA's subscores */
    double sk, md;
    rita_dispersion(w->ds, m - 1, w->tmp, &sk, &md);
    r->rita_ts = (sk + md) / 2;
    memcpy(w->ds, w->sz, m * sizeof *w->ds);
    qsort(w->ds, m, sizeof *w->ds, cmp_double);
    double ssk, smd;
    rita_dispersion(w->ds, m, w->tmp, &ssk, &smd);
    double mode = w->ds[0];
    for (size_t i = 0, best = 0; i < m;) {
        size_t j = i;
        while (j < m && w->ds[j] == w->ds[i])
            j++;
        if (j - i > best) {
            best = j - i;
            mode = w->ds[i];
        }
        i = j;
    }
    r->rita_ds = (ssk + smd + clamp01(1 - mode / 65535)) / 3;
    double smed = quantile(w->ds, m, 0.5);
    double smad = mad(w->ds, m, smed, w->tmp);
    r->size = smed > 0 ? clamp01(1 - smad / smed) : (smad == 0 ? 1 : 0);
    double cspan = p->last_ns > p->first_ns ? (double)(p->last_ns - p->first_ns) / 1e9 : 0;
    r->coverage = cspan > 0 ? clamp01(span / cspan) : 1;
    size_t hours = 0;
    for (size_t i = 0; i < m; i++)
        hours += i == 0 || w->hour[i] != w->hour[i - 1];
    double ghours = (double)(w->hour[m - 1] - w->hour[0] + 1);
    r->rita_dur = fmax(r->coverage, (double)hours / ghours);
    /* the hourly histogram over the capture's hours, the empty ones too */
    double H = p->last_ns >= p->first_ns ? (double)(sift__floor_div(p->last_ns, HOUR_NS) -
                                                    sift__floor_div(p->first_ns, HOUR_NS) + 1)
                                         : 1;
    double sum2 = 0;
    size_t nz = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && w->hour[j] == w->hour[i])
            j++;
        sum2 += (double)(j - i) * (double)(j - i);
        w->tmp[nz++] = (double)(j - i);
        i = j;
    }
    double mean = (double)m / H, var = fmax(0, sum2 / H - mean * mean);
    double cvs = clamp01(1 - sqrt(var) / mean);
    if (nz > 1)
        qsort(w->tmp, nz, sizeof *w->tmp, cmp_double);
    double top1 = H - (double)nz, top2 = 0; /* the empty hours' count first */
    for (size_t i = 0; i < nz;) {
        size_t j = i;
        while (j < nz && w->tmp[j] == w->tmp[i])
            j++;
        double c = (double)(j - i);
        if (c > top1) {
            top2 = top1;
            top1 = c;
        } else if (c > top2) {
            top2 = c;
        }
        i = j;
    }
    r->rita_hist = fmax(cvs, (top1 + top2) / H);
    r->rita = 0.25 * (r->rita_ts + r->rita_ds + r->rita_dur + r->rita_hist);

    /* candidate periods from the spectrum, verified on the autocorrelation */
    size_t npad = 0;
    int64_t nb = transform(w, m, bin, &npad);
    if (nb < 0)
        return (int)nb;
    double fbin = (double)npad * bin; /* a period of fbin / k seconds at bin k */
    double minp = fmax(o->min_period, 2 * bin);
    size_t kmin = (size_t)ceil(3 * fbin / span), kmax = (size_t)(fbin / minp);
    if (kmax > npad / 2 - 1)
        kmax = npad / 2 - 1;
    size_t cand[CANDIDATES], nc = 0;
    for (size_t k = kmin < 1 ? 1 : kmin; k <= kmax; k++) {
        if (!(w->pw[k] > w->pw[k - 1] && w->pw[k] >= w->pw[k + 1]))
            continue;
        size_t at = nc < CANDIDATES ? nc++ : CANDIDATES;
        if (at == CANDIDATES) {
            if (w->pw[k] <= w->pw[cand[CANDIDATES - 1]])
                continue;
            at = CANDIDATES - 1;
        }
        while (at > 0 && w->pw[cand[at - 1]] < w->pw[k]) {
            cand[at] = cand[at - 1];
            at--;
        }
        cand[at] = k;
    }
    double best = -1;
    for (size_t c = 0; c < nc; c++) {
        double p0 = fbin / (double)cand[c], jit, reg;
        uint64_t miss;
        double per = refine(w, m - 1, p0, &jit, &miss, &reg);
        /* a beacon has about one event per period: a few missed, a few more */
        double per_period = (double)m * per / span;
        if (per_period < MIN_PER_PERIOD || per_period > MAX_PER_PERIOD)
            continue;
        double a = acf_mass(w, (size_t)nb, per / bin);
        /* a multiple of the period repeats as well: the shortest of the best */
        bool take = best < 0 || a > best * 1.1 || (a >= best * 0.9 && per < r->period);
        if (!take)
            continue;
        best = best < 0 || a > best ? a : best;
        r->fft_period = p0;
        r->period = per;
        r->jitter = jit;
        r->missed = miss;
        r->regularity = reg;
        r->acf = clamp01(a);
    }
    if (nc == 0 || best <= 0) { /* not verified: no period, the intervals' regularity only */
        double jit, reg;
        uint64_t miss;
        refine(w, m - 1, med, &jit, &miss, &reg);
        r->period = r->fft_period = 0;
        r->jitter = jit;
        r->missed = 0;
        r->regularity = reg;
        r->acf = 0;
    }
    /* a beacon repeats (acf) and keeps time (regularity): both, so their geometric mean */
    r->score = 0.7 * sqrt(r->acf * r->regularity) + 0.15 * r->size + 0.15 * r->coverage;
    return 1;
}

/* ---- the result cache ---- */

/* A group's result is kept under its events' XXH3-128 with what else it depends on: the
 * options, the capture's span and the build. Its transforms are what the analysis costs, but
 * kept whole (sift_fft_set_cache) they took 412 MB of cache for the 12-hour capture of
 * bench/bench_periodic.sh and a repeated run 0.93 s, where the results take 152 bytes a group
 * and a repeated run 0.32 s (measured when this was written). */
enum { RESULT_U64 = 6, RESULT_F64 = 13 };

static bool result_key(const sift_periodic_t *p, const sift_periodic_opts_t *o,
                       const sift__periodic_event_t *ev, size_t n, sift_cache_key_t *key)
{
    XXH3_state_t *st = o->cache ? XXH3_createState() : NULL;
    if (!st || XXH3_128bits_reset(st) != XXH_OK) {
        XXH3_freeState(st);
        return false;
    }
    uint64_t v[3 * 256];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < 256 && i < n; k++, i++) {
            v[3 * k] = (uint64_t)ev[i].ts;
            v[3 * k + 1] = (uint64_t)ev[i].dur;
            v[3 * k + 2] = ev[i].bytes;
        }
        XXH3_128bits_update(st, v, 3 * k * sizeof *v);
    }
    XXH128_hash_t h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    const uint64_t fields[6] = {
        h.low64, h.high64, n, o->min_events, (uint64_t)p->first_ns, (uint64_t)p->last_ns};
    sift_cache_keyb_t kb;
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, "sift_periodic_result 1");
    sift_cache_keyb_str(&kb, sift_version());
    sift_cache_keyb_bytes(&kb, fields, sizeof fields);
    sift_cache_keyb_bytes(&kb, &o->min_period, sizeof o->min_period);
    return sift_cache_keyb_finish(&kb, key) == 0;
}

/* A result as numbers (the first says whether the group was scored), without its key. */
static void result_put(const sift_periodic_opts_t *o, const sift_cache_key_t *key, int scored,
                       const sift_periodic_result_t *r)
{
    uint64_t u[RESULT_U64] = {(uint64_t)scored};
    double f[RESULT_F64] = {0};
    if (scored) {
        const uint64_t uv[RESULT_U64] = {
            1, r->events, r->bytes, (uint64_t)r->first_ns, (uint64_t)r->last_ns, r->missed};
        const double fv[RESULT_F64] = {
            r->period,   r->fft_period, r->jitter,  r->score,   r->acf,      r->regularity, r->size,
            r->coverage, r->rita,       r->rita_ts, r->rita_ds, r->rita_dur, r->rita_hist};
        memcpy(u, uv, sizeof u);
        memcpy(f, fv, sizeof f);
    }
    unsigned char buf[sizeof u + sizeof f];
    memcpy(buf, u, sizeof u);
    memcpy(buf + sizeof u, f, sizeof f);
    sift_cache_put(o->cache, key->bytes, sizeof key->bytes, buf, sizeof buf);
}

/* 1 or 0 as score_group would return, into r; -1 on a miss. */
static int result_get(const sift_periodic_opts_t *o, const sift_cache_key_t *key,
                      sift_periodic_result_t *r)
{
    const void *v;
    size_t len;
    uint64_t u[RESULT_U64];
    double f[RESULT_F64];
    if (sift_cache_get(o->cache, key->bytes, sizeof key->bytes, &v, &len) != 0 ||
        len != sizeof u + sizeof f)
        return -1;
    memcpy(u, v, sizeof u);
    memcpy(f, (const unsigned char *)v + sizeof u, sizeof f);
    if (u[0] != 1)
        return u[0] == 0 ? 0 : -1;
    memset(r, 0, sizeof *r);
    r->events = u[1];
    r->bytes = u[2];
    r->first_ns = (int64_t)u[3];
    r->last_ns = (int64_t)u[4];
    r->missed = u[5];
    double *dst[RESULT_F64] = {&r->period,     &r->fft_period, &r->jitter,   &r->score, &r->acf,
                               &r->regularity, &r->size,       &r->coverage, &r->rita,  &r->rita_ts,
                               &r->rita_ds,    &r->rita_dur,   &r->rita_hist};
    for (size_t i = 0; i < RESULT_F64; i++)
        *dst[i] = f[i];
    return 1;
}

/* score_group through the result cache. */
static int score_cached(work_t *w, const sift_periodic_t *p, const sift_periodic_opts_t *o,
                        const sift__periodic_event_t *ev, size_t n, sift_periodic_result_t *r)
{
    if (n < o->min_events)
        return 0;
    sift_cache_key_t key;
    bool memo = result_key(p, o, ev, n, &key);
    int s = memo ? result_get(o, &key, r) : -1;
    if (s >= 0)
        return s;
    s = score_group(w, p, o, ev, n, r);
    if (memo && s >= 0)
        result_put(o, &key, s, r);
    return s;
}

static int by_score(const void *pa, const void *pb)
{
    const sift_periodic_result_t *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return memcmp(&a->key, &b->key, sizeof a->key);
}

static int analyze_opts(const sift_periodic_opts_t *opts, sift_periodic_opts_t *o, work_t *w)
{
    *o = opts ? *opts : default_opts;
    if (o->min_events < 3)
        o->min_events = o->min_events ? 3 : SIFT_PERIODIC_DEFAULT_MIN_EVENTS;
    if (!(o->min_period > 0))
        o->min_period = 2;
    memset(w, 0, sizeof *w);
    return sift_fft_create(&w->fft);
}

int64_t sift_periodic_analyze(const sift_periodic_t *p, const sift_periodic_opts_t *opts,
                              sift_periodic_result_t **out)
{
    *out = NULL;
    sift_periodic_opts_t o;
    work_t w;
    sift_periodic_result_t *res = NULL;
    size_t nres = 0, cap = 0;
    int rc = analyze_opts(opts, &o, &w);
    if (rc == 0)
        rc = read_index(p);
    for (size_t g = 0; rc == 0 && g < p->ngroups; g++) {
        const size_t *off = p->read->off;
        if (nres == cap) {
            size_t c = cap ? cap * 2 : 16;
            sift_periodic_result_t *v = realloc(res, c * sizeof *v);
            if (!v) {
                rc = SIFT_ENOMEM;
                break;
            }
            res = v;
            cap = c;
        }
        int s = score_cached(&w, p, &o, p->events + off[g], off[g + 1] - off[g], &res[nres]);
        if (s < 0)
            rc = s;
        else if (s > 0)
            res[nres++].key = p->groups[g];
    }
    work_free(&w);
    if (rc < 0) {
        free(res);
        return rc;
    }
    if (nres > 1)
        qsort(res, nres, sizeof *res, by_score);
    *out = res;
    return (int64_t)nres;
}

int sift_periodic_detail(const sift_periodic_t *p, const sift_periodic_key_t *k,
                         const sift_periodic_opts_t *opts, sift_periodic_detail_t *out)
{
    memset(out, 0, sizeof *out);
    sift_periodic_opts_t o;
    work_t w;
    int rc = analyze_opts(opts, &o, &w);
    uint32_t g = sift__periodic_find(p, k);
    if (rc == 0 && g == UINT32_MAX)
        rc = SIFT_ENOTFOUND;
    if (rc == 0)
        rc = read_index(p);
    size_t n = rc == 0 ? p->read->off[g + 1] - p->read->off[g] : 0;
    if (rc == 0 && work_room(&w, n + 1) < 0)
        rc = SIFT_ENOMEM;
    size_t m = rc == 0 && n ? join_events(&w, p->events + p->read->off[g], n) : 0;
    if (rc == 0 && (m < 3 || w.t[m - 1] <= 0))
        rc = SIFT_ENOTFOUND;
    if (rc == 0) {
        for (size_t i = 0; i + 1 < m; i++)
            w.d[i] = w.t[i + 1] - w.t[i];
        double med;
        out->bin = bin_width(&w, m, &med);
        int64_t nb = transform(&w, m, out->bin, &out->n);
        rc = nb < 0 ? (int)nb : 0;
    }
    if (rc == 0) {
        out->nbins = out->n / 2 + 1;
        out->power = malloc(out->nbins * sizeof *out->power);
        out->intervals = malloc((m - 1) * sizeof *out->intervals);
        if (!out->power || !out->intervals) {
            rc = SIFT_ENOMEM;
        } else {
            memcpy(out->power, w.pw, out->nbins * sizeof *out->power);
            memcpy(out->intervals, w.ds, (m - 1) * sizeof *out->intervals);
            out->nintervals = m - 1;
        }
    }
    work_free(&w);
    if (rc < 0)
        sift_periodic_detail_free(out);
    return rc;
}

void sift_periodic_detail_free(sift_periodic_detail_t *d)
{
    free(d->power);
    free(d->intervals);
    memset(d, 0, sizeof *d);
}
