/* capsift: rolling (sliding-window) statistics, mergeable summaries and quantile sketches.
 *
 * sift_rolling_t keeps the statistics of the last N samples, or of the samples of the last T
 * nanoseconds, or both bounds at once: count, sum, mean, variance (Welford's update and its
 * inverse for the sample leaving the window), min and max (monotonic deques) and approximate
 * quantiles (a log-bucket sketch with relative accuracy alpha, DDSketch-style, that supports
 * removal). Every update is O(1) amortised. Rounding error cannot build up: the sums are
 * recomputed from the window every N removals, which keeps the cost O(1) amortised.
 *
 * A window's contents depend on the order of the samples, so two windows cannot be merged;
 * their summaries (sift_summary_t: count, sum, mean, variance, min, max) and quantile
 * sketches (sift_qsketch_t) can, exactly as if all samples had been added to one.
 *
 * NaN is refused with SIFT_ENAN and infinities with SIFT_EINVAL; a refused sample changes
 * nothing.
 *
 * Independent of captures: usable by any C program.
 * Thread safety: an object is used by one thread at a time; distinct objects are independent.
 */
#ifndef CAPSIFT_ROLLING_H
#define CAPSIFT_ROLLING_H

#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- summaries: caller-owned, plain data ---- */

typedef struct sift_summary {
    uint64_t count;
    double sum;
    double mean;
    double m2;       /* sum of squared deviations from the mean */
    double min, max; /* 0 when count is 0 */
} sift_summary_t;

SIFT_API void sift_summary_init(sift_summary_t *s);
/* SIFT_ENAN for NaN, SIFT_EINVAL for an infinity (s unchanged). */
SIFT_API int sift_summary_add(sift_summary_t *s, double x);
/* into becomes the summary of both sample sets (Chan et al.'s pairwise update). */
SIFT_API void sift_summary_merge(sift_summary_t *into, const sift_summary_t *from);
/* Sample variance (divides by count - 1); 0 with fewer than two samples. */
SIFT_API double sift_summary_variance(const sift_summary_t *s);

/* ---- quantile sketch ---- */

/* Counts of samples in logarithmic buckets: a quantile is returned within relative error
 * alpha of the exact sample of that rank (values closer to 0 than 1e-9 count as 0). Samples
 * can be removed again, and two sketches of the same alpha merge exactly. Memory grows with
 * the log of the range of the values, never with their number. */
typedef struct sift_qsketch sift_qsketch_t;

/* alpha in (0, 0.5); 0 means 0.01. SIFT_EINVAL, SIFT_ENOMEM. */
SIFT_API int sift_qsketch_create(sift_qsketch_t **out, double alpha);
SIFT_API void sift_qsketch_free(sift_qsketch_t *q);         /* NULL is fine */
SIFT_API int sift_qsketch_add(sift_qsketch_t *q, double x); /* SIFT_ENAN, SIFT_EINVAL, ENOMEM */
/* Removes one sample equal to x that was added before (SIFT_ENOTFOUND when its bucket is
 * empty). */
SIFT_API int sift_qsketch_remove(sift_qsketch_t *q, double x);
/* SIFT_EINVAL when alpha differs. */
SIFT_API int sift_qsketch_merge(sift_qsketch_t *into, const sift_qsketch_t *from);
SIFT_API uint64_t sift_qsketch_count(const sift_qsketch_t *q);
SIFT_API double sift_qsketch_alpha(const sift_qsketch_t *q);
/* The q-quantile (0 <= q <= 1; the sample of rank floor(q * (count - 1)) in sorted order)
 * into *out. SIFT_ENOTFOUND when empty, SIFT_EINVAL / SIFT_ENAN for a bad q. */
SIFT_API int sift_qsketch_quantile(const sift_qsketch_t *q, double quantile, double *out);
SIFT_API void sift_qsketch_clear(sift_qsketch_t *q);

/* ---- the rolling window ---- */

typedef struct sift_rolling_opts {
    size_t window_count;   /* keep the last N samples; 0: no bound on the count */
    int64_t window_ns;     /* keep samples with ts > newest ts - window_ns; 0: no time bound */
    double quantile_alpha; /* relative accuracy of quantiles; 0 means 0.01; < 0: no quantiles */
    size_t max_samples;    /* time windows only: most samples held (SIFT_ELIMIT beyond);
                            * 0 means 1 << 26 */
} sift_rolling_opts_t;

typedef struct sift_rolling sift_rolling_t;

/* At least one of window_count and window_ns must be positive; SIFT_EINVAL otherwise (a
 * window smaller than one sample does not exist). SIFT_ENOMEM. */
SIFT_API int sift_rolling_create(sift_rolling_t **out, const sift_rolling_opts_t *opts);
SIFT_API void sift_rolling_free(sift_rolling_t *r); /* NULL is fine */

/* Adds a sample and drops the ones that left the window. ts_ns must not go backwards
 * (SIFT_EINVAL); it is ignored by count-only windows. SIFT_ENAN for NaN, SIFT_EINVAL for an
 * infinity, SIFT_ELIMIT when a time window would hold more than max_samples. */
SIFT_API int sift_rolling_push(sift_rolling_t *r, int64_t ts_ns, double x);

/* Drops the samples older than now_ns - window_ns without adding one (time windows), so the
 * statistics describe the window ending at now_ns. SIFT_EINVAL when now_ns goes backwards. */
SIFT_API int sift_rolling_advance(sift_rolling_t *r, int64_t now_ns);

/* The statistics of the window; each O(1). Empty window: count 0 and 0 everywhere. */
SIFT_API uint64_t sift_rolling_count(const sift_rolling_t *r);
SIFT_API double sift_rolling_sum(const sift_rolling_t *r);
SIFT_API double sift_rolling_mean(const sift_rolling_t *r);
SIFT_API double sift_rolling_variance(const sift_rolling_t *r); /* sample variance (n - 1) */
SIFT_API double sift_rolling_min(const sift_rolling_t *r);
SIFT_API double sift_rolling_max(const sift_rolling_t *r);
/* All of them at once, as a mergeable summary. */
SIFT_API void sift_rolling_summary(const sift_rolling_t *r, sift_summary_t *out);

/* Approximate quantile of the window (see sift_qsketch_quantile); SIFT_EUNSUPPORTED when the
 * window was created without quantiles. The cost grows with the log of the value range in the
 * window (a few hundred buckets for values spanning 1 to 10^4 at alpha 0.01). */
SIFT_API int sift_rolling_quantile(const sift_rolling_t *r, double q, double *out);

/* The window's quantile sketch (NULL without quantiles), valid until the next push/advance;
 * merge it into another sketch with sift_qsketch_merge. */
SIFT_API const sift_qsketch_t *sift_rolling_qsketch(const sift_rolling_t *r);

SIFT_API void sift_rolling_clear(sift_rolling_t *r);
SIFT_API size_t sift_rolling_memory(const sift_rolling_t *r);

#ifdef __cplusplus
}
#endif
#endif
