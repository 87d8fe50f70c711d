/* The quantile sketch: C. Masson, J. Rim, H. Lee, "DDSketch: a fast and fully-mergeable
 * quantile sketch with relative-error guarantees", VLDB 2019.
 *
 * A positive x falls in bucket key = ceil(log_gamma(x)), gamma = (1 + alpha) / (1 - alpha);
 * every value of the bucket (gamma^(key-1), gamma^key] is within relative error alpha of
 * 2 gamma^key / (gamma + 1), the value returned. Negative values use a second store on |x|;
 * values with |x| < 1e-9 share a zero bucket. Each store is a dense array of counts over the
 * keys seen, grown by doubling.
 */
#include "common/internal.h"
#include "blocks/blk_qsketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QS_MIN_INDEXABLE 1e-9

typedef struct qstore {
    uint64_t *c; /* counts of keys base .. base + len - 1 */
    int64_t base;
    size_t len;
    int64_t lo, hi; /* the occupied keys lie within [lo, hi]; lo > hi when empty */
    uint64_t total;
} qstore_t;

struct sift_qsketch {
    double alpha, gamma, inv_ln_gamma;
    uint64_t count, zero;
    qstore_t pos, neg;
};

static void store_reset(qstore_t *s)
{
    if (s->c)
        memset(s->c, 0, s->len * sizeof *s->c);
    s->lo = INT64_MAX;
    s->hi = INT64_MIN;
    s->total = 0;
}

static int store_grow(qstore_t *s, int64_t key)
{
    if (s->len && key >= s->base && key < s->base + (int64_t)s->len)
        return 0;
    int64_t lo = s->len ? (key < s->base ? key : s->base) : key;
    int64_t hi =
        s->len ? (key >= s->base + (int64_t)s->len ? key : s->base + (int64_t)s->len - 1) : key;
    size_t span = (size_t)(hi - lo + 1);
    size_t len = s->len ? s->len : 32;
    while (len < span + 16)
        len *= 2;
    /* centre the slack around the used range, so growth in either direction is amortised */
    int64_t base = lo - (int64_t)(len - span) / 2;
    uint64_t *c = calloc(len, sizeof *c);
    if (!c)
        return SIFT_ENOMEM;
    if (s->len)
        memcpy(c + (s->base - base), s->c, s->len * sizeof *c);
    free(s->c);
    s->c = c;
    s->base = base;
    s->len = len;
    return 0;
}

static int store_add(qstore_t *s, int64_t key, uint64_t n)
{
    int rc = store_grow(s, key);
    if (rc < 0)
        return rc;
    s->c[key - s->base] += n;
    s->total += n;
    if (key < s->lo)
        s->lo = key;
    if (key > s->hi)
        s->hi = key;
    return 0;
}

static int store_remove(qstore_t *s, int64_t key)
{
    if (!s->len || key < s->base || key >= s->base + (int64_t)s->len || s->c[key - s->base] == 0)
        return SIFT_ENOTFOUND;
    s->c[key - s->base]--;
    s->total--;
    if (s->total == 0) {
        s->lo = INT64_MAX;
        s->hi = INT64_MIN;
        return 0;
    }
    while (s->c[s->lo - s->base] == 0)
        s->lo++;
    while (s->c[s->hi - s->base] == 0)
        s->hi--;
    return 0;
}

int sift_qsketch_create(sift_qsketch_t **out, double alpha)
{
    assert(out);
    *out = NULL;
    if (alpha == 0.0)
        alpha = 0.01;
    if (!(alpha >= 1e-4 && alpha < 0.5))
        return SIFT_EINVAL;
    sift_qsketch_t *q = calloc(1, sizeof *q);
    if (!q)
        return SIFT_ENOMEM;
    q->alpha = alpha;
    q->gamma = (1.0 + alpha) / (1.0 - alpha);
    q->inv_ln_gamma = 1.0 / log(q->gamma);
    store_reset(&q->pos);
    store_reset(&q->neg);
    *out = q;
    return 0;
}

void sift_qsketch_free(sift_qsketch_t *q)
{
    if (!q)
        return;
    free(q->pos.c);
    free(q->neg.c);
    free(q);
}

sift__qbucket_t sift__qsketch_bucket(const sift_qsketch_t *q, double x)
{
    sift__qbucket_t b = {0, 0};
    double a = fabs(x);
    if (a < QS_MIN_INDEXABLE)
        return b;
    b.sign = x > 0 ? 1 : -1;
    b.key = (int32_t)ceil(log(a) * q->inv_ln_gamma);
    return b;
}

int sift__qsketch_add_bucket(sift_qsketch_t *q, sift__qbucket_t b)
{
    if (b.sign == 0) {
        q->zero++;
    } else {
        int rc = store_add(b.sign > 0 ? &q->pos : &q->neg, b.key, 1);
        if (rc < 0)
            return rc;
    }
    q->count++;
    return 0;
}

int sift__qsketch_remove_bucket(sift_qsketch_t *q, sift__qbucket_t b)
{
    if (b.sign == 0) {
        if (q->zero == 0)
            return SIFT_ENOTFOUND;
        q->zero--;
    } else {
        int rc = store_remove(b.sign > 0 ? &q->pos : &q->neg, b.key);
        if (rc < 0)
            return rc;
    }
    q->count--;
    return 0;
}

static int check_value(double x)
{
    if (isnan(x))
        return SIFT_ENAN;
    return isinf(x) ? SIFT_EINVAL : 0;
}

int sift_qsketch_add(sift_qsketch_t *q, double x)
{
    int rc = check_value(x);
    return rc < 0 ? rc : sift__qsketch_add_bucket(q, sift__qsketch_bucket(q, x));
}

int sift_qsketch_remove(sift_qsketch_t *q, double x)
{
    int rc = check_value(x);
    return rc < 0 ? rc : sift__qsketch_remove_bucket(q, sift__qsketch_bucket(q, x));
}

static int store_merge(qstore_t *into, const qstore_t *from)
{
    if (from->total == 0)
        return 0;
    /* grow once to the union first, so a failure leaves `into` unchanged */
    int rc = store_grow(into, from->lo);
    if (rc == 0)
        rc = store_grow(into, from->hi);
    if (rc < 0)
        return rc;
    for (int64_t k = from->lo; k <= from->hi; k++) {
        uint64_t n = from->c[k - from->base];
        if (n)
            store_add(into, k, n); /* cannot fail: the range is allocated */
    }
    return 0;
}

int sift_qsketch_merge(sift_qsketch_t *into, const sift_qsketch_t *from)
{
    if (into->alpha != from->alpha)
        return SIFT_EINVAL;
    int rc = store_merge(&into->pos, &from->pos);
    if (rc == 0)
        rc = store_merge(&into->neg, &from->neg);
    if (rc < 0)
        return rc;
    into->zero += from->zero;
    into->count += from->count;
    return 0;
}

uint64_t sift_qsketch_count(const sift_qsketch_t *q)
{
    return q->count;
}

double sift_qsketch_alpha(const sift_qsketch_t *q)
{
    return q->alpha;
}

static double bucket_value(const sift_qsketch_t *q, int64_t key)
{
    return 2.0 * pow(q->gamma, (double)key) / (q->gamma + 1.0);
}

int sift_qsketch_quantile(const sift_qsketch_t *q, double quantile, double *out)
{
    if (isnan(quantile))
        return SIFT_ENAN;
    if (!(quantile >= 0.0 && quantile <= 1.0))
        return SIFT_EINVAL;
    if (q->count == 0)
        return SIFT_ENOTFOUND;
    uint64_t rank = (uint64_t)(quantile * (double)(q->count - 1));
    uint64_t seen = 0;
    /* negatives first, largest magnitude first */
    for (int64_t k = q->neg.hi; k >= q->neg.lo && q->neg.total; k--) {
        seen += q->neg.c[k - q->neg.base];
        if (seen > rank) {
            *out = -bucket_value(q, k);
            return 0;
        }
    }
    seen += q->zero;
    if (seen > rank) {
        *out = 0.0;
        return 0;
    }
    for (int64_t k = q->pos.lo; k <= q->pos.hi && q->pos.total; k++) {
        seen += q->pos.c[k - q->pos.base];
        if (seen > rank) {
            *out = bucket_value(q, k);
            return 0;
        }
    }
    return SIFT_EINTERNAL; /* counts disagree with count */
}

void sift_qsketch_clear(sift_qsketch_t *q)
{
    store_reset(&q->pos);
    store_reset(&q->neg);
    q->count = 0;
    q->zero = 0;
}
