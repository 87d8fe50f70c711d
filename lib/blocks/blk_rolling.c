/* Rolling statistics over a sliding window, and mergeable summaries.
 *
 * Mean and variance: B. P. Welford, "Note on a method for calculating corrected sums of
 * squares and products", 1962, with the inverse update for the sample leaving the window.
 * Merge of summaries: T. Chan, G. Golub, R. LeVeque, "Updating formulae and a pairwise
 * algorithm for computing sample variances", 1979.
 * Min and max: monotonic deques (each sample enters and leaves each deque once).
 *
 * Samples live in a ring indexed by sequence number (seq & mask); the deques hold sequence
 * numbers in rings of the same size, indexed by their own absolute positions.
 */
#include "common/internal.h"
#include "blocks/blk_qsketch.h"

#include <capsift/rolling.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- summaries ---- */

static int check_value(double x)
{
    if (isnan(x))
        return SIFT_ENAN;
    return isinf(x) ? SIFT_EINVAL : 0;
}

void sift_summary_init(sift_summary_t *s)
{
    memset(s, 0, sizeof *s);
}

int sift_summary_add(sift_summary_t *s, double x)
{
    int rc = check_value(x);
    if (rc < 0)
        return rc;
    if (s->count == 0 || x < s->min)
        s->min = x;
    if (s->count == 0 || x > s->max)
        s->max = x;
    s->count++;
    s->sum += x;
    double d = x - s->mean;
    s->mean += d / (double)s->count;
    s->m2 += d * (x - s->mean);
    return 0;
}

void sift_summary_merge(sift_summary_t *into, const sift_summary_t *from)
{
    if (from->count == 0)
        return;
    if (into->count == 0) {
        *into = *from;
        return;
    }
    double na = (double)into->count, nb = (double)from->count, n = na + nb;
    double d = from->mean - into->mean;
    into->mean += d * nb / n;
    into->m2 += from->m2 + d * d * na * nb / n;
    into->sum += from->sum;
    into->count += from->count;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

double sift_summary_variance(const sift_summary_t *s)
{
    return s->count < 2 ? 0.0 : s->m2 / (double)(s->count - 1);
}

/* ---- the window ---- */

typedef struct rl_sample {
    double x;
    int64_t ts;
    sift__qbucket_t qb;
} rl_sample_t;

typedef struct rl_deque {
    uint64_t *seq; /* ring of sequence numbers, capacity = the sample ring's */
    uint64_t head, tail;
} rl_deque_t;

struct sift_rolling {
    size_t window_count;
    int64_t window_ns;
    size_t max_samples;
    rl_sample_t *buf;
    size_t cap, mask;
    uint64_t first, next; /* sequence numbers of the oldest sample and the next one */
    rl_deque_t dmin, dmax;
    double mean, m2;
    double sum, sum_c; /* Neumaier-compensated sum */
    uint64_t removed_since_sync;
    int64_t last_ts;
    bool have_ts;
    sift_qsketch_t *q;
};

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

static int resize(sift_rolling_t *r, size_t cap)
{
    size_t mask = cap - 1;
    rl_sample_t *buf = malloc(cap * sizeof *buf);
    uint64_t *dmin = malloc(cap * sizeof *dmin);
    uint64_t *dmax = malloc(cap * sizeof *dmax);
    if (!buf || !dmin || !dmax) {
        free(buf);
        free(dmin);
        free(dmax);
        return SIFT_ENOMEM;
    }
    for (uint64_t s = r->first; s < r->next; s++)
        buf[s & mask] = r->buf[s & r->mask];
    for (uint64_t p = r->dmin.head; p < r->dmin.tail; p++)
        dmin[p & mask] = r->dmin.seq[p & r->mask];
    for (uint64_t p = r->dmax.head; p < r->dmax.tail; p++)
        dmax[p & mask] = r->dmax.seq[p & r->mask];
    free(r->buf);
    free(r->dmin.seq);
    free(r->dmax.seq);
    r->buf = buf;
    r->dmin.seq = dmin;
    r->dmax.seq = dmax;
    r->cap = cap;
    r->mask = mask;
    return 0;
}

int sift_rolling_create(sift_rolling_t **out, const sift_rolling_opts_t *opts)
{
    assert(out && opts);
    *out = NULL;
    if (opts->window_ns < 0 || (opts->window_count == 0 && opts->window_ns == 0))
        return SIFT_EINVAL;
    if (opts->window_count > ((size_t)1 << 40))
        return SIFT_EINVAL;
    sift_rolling_t *r = calloc(1, sizeof *r);
    if (!r)
        return SIFT_ENOMEM;
    r->window_count = opts->window_count;
    r->window_ns = opts->window_ns;
    /* a count window never holds more than its count; max_samples bounds time windows */
    r->max_samples = opts->max_samples ? opts->max_samples : (size_t)1 << 26;
    if (r->window_count)
        r->max_samples = r->window_count;
    int rc = resize(r, pow2_at_least(r->window_count ? r->window_count : 1024));
    if (rc == 0 && opts->quantile_alpha >= 0)
        rc = sift_qsketch_create(&r->q, opts->quantile_alpha);
    if (rc < 0) {
        sift_rolling_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void sift_rolling_free(sift_rolling_t *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->dmin.seq);
    free(r->dmax.seq);
    sift_qsketch_free(r->q);
    free(r);
}

static inline void neumaier_add(double *sum, double *c, double x)
{
    double t = *sum + x;
    if (fabs(*sum) >= fabs(x))
        *c += (*sum - t) + x;
    else
        *c += (x - t) + *sum;
    *sum = t;
}

/* Recomputes sum, mean and m2 from the window (two passes): O(n) once every n removals. */
static void resync(sift_rolling_t *r)
{
    uint64_t n = r->next - r->first;
    double sum = 0, c = 0;
    for (uint64_t s = r->first; s < r->next; s++)
        neumaier_add(&sum, &c, r->buf[s & r->mask].x);
    sum += c;
    double mean = n ? sum / (double)n : 0.0, m2 = 0;
    for (uint64_t s = r->first; s < r->next; s++) {
        double d = r->buf[s & r->mask].x - mean;
        m2 += d * d;
    }
    r->sum = sum;
    r->sum_c = 0;
    r->mean = mean;
    r->m2 = m2;
    r->removed_since_sync = 0;
}

static void evict_oldest(sift_rolling_t *r)
{
    uint64_t s = r->first;
    const rl_sample_t *o = &r->buf[s & r->mask];
    if (r->q)
        sift__qsketch_remove_bucket(r->q, o->qb); /* cannot fail: it was added */
    if (r->dmin.head < r->dmin.tail && r->dmin.seq[r->dmin.head & r->mask] == s)
        r->dmin.head++;
    if (r->dmax.head < r->dmax.tail && r->dmax.seq[r->dmax.head & r->mask] == s)
        r->dmax.head++;
    r->first++;
    uint64_t n = r->next - r->first;
    if (n == 0) {
        r->mean = r->m2 = r->sum = r->sum_c = 0;
        r->removed_since_sync = 0;
        return;
    }
    double y = o->x;
    double d = y - r->mean;
    double m2_before = r->m2;
    r->mean -= d / (double)n;
    r->m2 -= d * (y - r->mean);
    if (r->m2 < 0)
        r->m2 = 0;
    neumaier_add(&r->sum, &r->sum_c, -y);
    r->removed_since_sync++;
    /* Recompute every n removals (rounding cannot build up), and early when an outlier left
     * and m2 fell by 2^16 or more: the subtraction kept the absolute error of the large m2,
     * too much for the small one. Early recomputations are at least n/16 removals apart, so
     * the cost stays O(1) amortised whatever the data. */
    if (r->removed_since_sync >= (n > 64 ? n : 64) ||
        (r->m2 < m2_before * 0x1p-16 && r->removed_since_sync >= 1 + n / 16))
        resync(r);
}

static void evict_before(sift_rolling_t *r, int64_t now)
{
    if (r->window_ns == 0)
        return;
    /* ts <= now - window: compared as an unsigned difference, which cannot overflow because
     * timestamps never go backwards */
    while (r->first < r->next &&
           (uint64_t)now - (uint64_t)r->buf[r->first & r->mask].ts >= (uint64_t)r->window_ns)
        evict_oldest(r);
}

int sift_rolling_push(sift_rolling_t *r, int64_t ts_ns, double x)
{
    int rc = check_value(x);
    if (rc < 0)
        return rc;
    if (r->window_ns && r->have_ts && ts_ns < r->last_ts)
        return SIFT_EINVAL;
    if (r->window_ns)
        evict_before(r, ts_ns);
    uint64_t n = r->next - r->first;
    if (r->window_count && n == r->window_count) {
        evict_oldest(r);
        n--;
    }
    if (n >= r->max_samples)
        return SIFT_ELIMIT;
    if (n == r->cap) {
        if (r->cap > SIZE_MAX / 2 / sizeof(rl_sample_t))
            return SIFT_ENOMEM;
        rc = resize(r, r->cap * 2);
        if (rc < 0)
            return rc;
    }
    sift__qbucket_t qb = {0, 0};
    if (r->q) {
        qb = sift__qsketch_bucket(r->q, x);
        rc = sift__qsketch_add_bucket(r->q, qb);
        if (rc < 0)
            return rc;
    }
    uint64_t s = r->next++;
    rl_sample_t *o = &r->buf[s & r->mask];
    o->x = x;
    o->ts = ts_ns;
    o->qb = qb;
    if (r->window_ns) {
        r->last_ts = ts_ns;
        r->have_ts = true;
    }

    while (r->dmin.tail > r->dmin.head &&
           r->buf[r->dmin.seq[(r->dmin.tail - 1) & r->mask] & r->mask].x >= x)
        r->dmin.tail--;
    r->dmin.seq[r->dmin.tail++ & r->mask] = s;
    while (r->dmax.tail > r->dmax.head &&
           r->buf[r->dmax.seq[(r->dmax.tail - 1) & r->mask] & r->mask].x <= x)
        r->dmax.tail--;
    r->dmax.seq[r->dmax.tail++ & r->mask] = s;

    n++;
    double d = x - r->mean;
    r->mean += d / (double)n;
    r->m2 += d * (x - r->mean);
    neumaier_add(&r->sum, &r->sum_c, x);
    return 0;
}

int sift_rolling_advance(sift_rolling_t *r, int64_t now_ns)
{
    if (r->window_ns == 0)
        return 0;
    if (r->have_ts && now_ns < r->last_ts)
        return SIFT_EINVAL;
    evict_before(r, now_ns);
    r->last_ts = now_ns;
    r->have_ts = true;
    return 0;
}

uint64_t sift_rolling_count(const sift_rolling_t *r)
{
    return r->next - r->first;
}

double sift_rolling_sum(const sift_rolling_t *r)
{
    return r->next == r->first ? 0.0 : r->sum + r->sum_c;
}

double sift_rolling_mean(const sift_rolling_t *r)
{
    return r->mean;
}

double sift_rolling_variance(const sift_rolling_t *r)
{
    uint64_t n = r->next - r->first;
    return n < 2 ? 0.0 : r->m2 / (double)(n - 1);
}

double sift_rolling_min(const sift_rolling_t *r)
{
    if (r->dmin.head == r->dmin.tail)
        return 0.0;
    return r->buf[r->dmin.seq[r->dmin.head & r->mask] & r->mask].x;
}

double sift_rolling_max(const sift_rolling_t *r)
{
    if (r->dmax.head == r->dmax.tail)
        return 0.0;
    return r->buf[r->dmax.seq[r->dmax.head & r->mask] & r->mask].x;
}

void sift_rolling_summary(const sift_rolling_t *r, sift_summary_t *out)
{
    out->count = sift_rolling_count(r);
    out->sum = sift_rolling_sum(r);
    out->mean = r->mean;
    out->m2 = r->m2;
    out->min = sift_rolling_min(r);
    out->max = sift_rolling_max(r);
}

int sift_rolling_quantile(const sift_rolling_t *r, double q, double *out)
{
    if (!r->q)
        return SIFT_EUNSUPPORTED;
    return sift_qsketch_quantile(r->q, q, out);
}

const sift_qsketch_t *sift_rolling_qsketch(const sift_rolling_t *r)
{
    return r->q;
}

void sift_rolling_clear(sift_rolling_t *r)
{
    r->first = r->next = 0;
    r->dmin.head = r->dmin.tail = r->dmax.head = r->dmax.tail = 0;
    r->mean = r->m2 = r->sum = r->sum_c = 0;
    r->removed_since_sync = 0;
    r->have_ts = false;
    r->last_ts = 0;
    if (r->q)
        sift_qsketch_clear(r->q);
}

size_t sift_rolling_memory(const sift_rolling_t *r)
{
    return sizeof *r + r->cap * (sizeof(rl_sample_t) + 2 * sizeof(uint64_t));
}
