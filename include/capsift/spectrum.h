/* capsift: power spectra - FFTs with reused plans and cached windows, Welch averaging in
 * constant memory, dominant frequencies, noise floor and SNR.
 *
 * sift_fft_t holds FFTW plans (real to complex, one per size, planned once and reused: see
 * sift_fft_set_measure) and window
 * coefficients (one array per kind and size, computed once). Windows are the periodic (DFT-even)
 * forms, as scipy.signal.get_window makes them: Hann 0.5 - 0.5 cos(2 pi i / n), Hamming
 * 0.54 - 0.46 cos(...), Blackman 0.42 - 0.5 cos(...) + 0.08 cos(2 ...), rectangular 1.
 *
 * sift_welch_t averages the periodograms of segments of nfft samples that overlap by `overlap`
 * samples (Welch 1967), each with its mean removed and the window applied, into a one-sided
 * power spectral density in units^2/Hz: the same numbers as scipy.signal.welch(x, fs, window,
 * nperseg, noverlap, detrend='constant', scaling='density'). Samples are pushed in blocks of
 * any size; memory is a few arrays of nfft doubles whatever the signal's length.
 *
 * A result cache (capsift/cache.h) may answer large transforms of samples seen before.
 *
 * Independent of captures: usable by any C program. Thread safety: an sift_fft_t and the
 * accumulators made with it are used by one thread at a time (FFTW's planner is not reentrant);
 * distinct objects are independent.
 */
#ifndef CAPSIFT_SPECTRUM_H
#define CAPSIFT_SPECTRUM_H

#include <capsift/cache.h>
#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sift_window_kind {
    SIFT_WINDOW_HANN = 0,
    SIFT_WINDOW_HAMMING,
    SIFT_WINDOW_BLACKMAN,
    SIFT_WINDOW_RECT
} sift_window_kind_t;

/* "hann", "hamming", "blackman", "rect" (also "rectangular", "none"); SIFT_EINVAL otherwise. */
SIFT_API int sift_window_parse(const char *name, sift_window_kind_t *out);
SIFT_API const char *sift_window_name(sift_window_kind_t w);

typedef struct sift_fft sift_fft_t;

SIFT_API int sift_fft_create(sift_fft_t **out); /* SIFT_ENOMEM */
SIFT_API void sift_fft_free(sift_fft_t *f);     /* NULL is fine */

/* Transforms of at least min_points samples (0: SIFT_FFT_CACHE_MIN_POINTS) are then answered
 * from c when it holds them and stored into it when not: sift_fft_power and sift_fft_autocorr,
 * keyed by the operation, its size and window, the library version and the XXH3-128 of the
 * samples, so equal input gives the numbers a computation gives. A hit costs a tenth of the
 * transform at 2^18 points and more, but a miss stored in the cache's file costs 3 to 4 times
 * the transform there and 8 to 140 times below it (bench/bench_fft.c), so small transforms are
 * left out. NULL: no cache (the default). c must outlive its use here, and is used from the
 * thread that uses f. */
#define SIFT_FFT_CACHE_MIN_POINTS 262144
SIFT_API void sift_fft_set_cache(sift_fft_t *f, sift_cache_t *c, size_t min_points);

/* Plans. By default each size is planned with FFTW_ESTIMATE: planning takes microseconds and
 * the plan is FFTW's guess. With measure, a size is planned from FFTW's wisdom when it holds a
 * plan for it, else measured (FFTW_MEASURE: FFTW times candidate algorithms, which takes
 * milliseconds to seconds, so only up to SIFT_FFT_MEASURE_MAX points; larger sizes are
 * estimated) and the wisdom learns it. A measured plan runs faster (bench/bench_fft.c) and may
 * round differently in the last bits from an estimated one, so a program that must give
 * the same numbers everywhere leaves measure off and loads no wisdom: FFTW takes any wisdom
 * loaded into the process for estimated plans too. */
#define SIFT_FFT_MEASURE_MAX 65536
SIFT_API void sift_fft_set_measure(sift_fft_t *f, bool measure);

/* FFTW's wisdom, which is process-wide: loaded from path (SIFT_ENOTFOUND: no file;
 * SIFT_ECORRUPT: not FFTW wisdom, nothing loaded; SIFT_EIO), and saved to path when plans were
 * measured since it was last loaded or saved (else nothing is written): into a new file beside
 * it, renamed into place, so a reader never sees half of one and a failure leaves the old
 * file. Returns 0, or SIFT_EIO with errno set. sift_fft_wisdom_forget drops all of it. */
SIFT_API int sift_fft_wisdom_load(const char *path);
SIFT_API int sift_fft_wisdom_save(const char *path);
SIFT_API void sift_fft_wisdom_forget(void);

/* The n coefficients of a window, computed on first use and kept in f (valid while f is);
 * NULL when memory ran out. n >= 1. */
SIFT_API const double *sift_fft_window(sift_fft_t *f, sift_window_kind_t w, size_t n);

/* |X_k|^2 for k = 0 .. n/2 of the real DFT of x[0..n) times the window (RECT: none), into
 * power (n/2 + 1 values). The plan for n is made once per f. SIFT_EINVAL for n < 2, ENOMEM. */
SIFT_API int sift_fft_power(sift_fft_t *f, const double *x, size_t n, sift_window_kind_t w,
                            double *power);

/* The autocorrelation of x[0..n): acf[k] = sum_i x[i] x[i + k] / sum_i x[i]^2 for k < n (0
 * everywhere when x is all zeros), through the spectrum of x padded with zeros to a power of two
 * of at least 2n (plans kept in f). SIFT_EINVAL for n < 2, SIFT_ENOMEM. */
SIFT_API int sift_fft_autocorr(sift_fft_t *f, const double *x, size_t n, double *acf);

/* ---- Welch's method ---- */

typedef struct sift_welch_opts {
    size_t nfft;      /* samples per segment, >= 2; 0 means 4096 */
    size_t overlap;   /* samples shared by consecutive segments, < nfft */
    bool overlap_set; /* false: overlap is nfft / 2 */
    sift_window_kind_t window;
    double rate; /* samples per second, > 0 */
} sift_welch_opts_t;

typedef struct sift_welch sift_welch_t;

/* SIFT_EINVAL for a bad option, SIFT_ENOMEM. f must outlive the accumulator. */
SIFT_API int sift_welch_create(sift_welch_t **out, sift_fft_t *f, const sift_welch_opts_t *o);
SIFT_API void sift_welch_free(sift_welch_t *w); /* NULL is fine */

/* Adds n samples, x[0], x[stride], x[2 stride] ... (stride 0 means 1: one channel of
 * interleaved frames). SIFT_ENOMEM cannot happen here; SIFT_EINVAL for a sample that is NaN or
 * infinite (nothing of the block is added). */
SIFT_API int sift_welch_push(sift_welch_t *w, const double *x, size_t n, size_t stride);

/* Segments averaged so far and samples pushed. */
SIFT_API uint64_t sift_welch_segments(const sift_welch_t *w);
SIFT_API uint64_t sift_welch_samples(const sift_welch_t *w);

/* The averaged density into psd (nfft / 2 + 1 values: bin k is k * rate / nfft Hz). SIFT_ENOTFOUND
 * while no whole segment was pushed (fewer than nfft samples). */
SIFT_API int sift_welch_psd(const sift_welch_t *w, double *psd);

/* ---- what a spectrum shows ---- */

typedef struct sift_spectrum_peak {
    double freq;   /* Hz, interpolated between bins (a parabola through the log powers) */
    size_t bin;    /* the local maximum */
    double psd;    /* density at that bin */
    double power;  /* the peak's power: its main lobe's density summed, times the bin width */
    double snr_db; /* the lobe's power over the noise floor's in the same bins */
} sift_spectrum_peak_t;

typedef struct sift_spectrum_summary {
    double bin_hz;      /* rate / nfft */
    double noise_floor; /* the median density of the bins outside DC's and the peaks' lobes */
    double total_power; /* every bin's density summed, times the bin width (DC's lobe left out) */
    /* The strongest peak's power over the noise's in the whole band (DC's lobe left out),
     * estimated from the noise floor, so that leakage and other tones do not count as noise;
     * NaN without a peak */
    double snr_db;
    size_t npeaks;
} sift_spectrum_summary_t;

/* The k strongest local maxima of a density of nbins bins (bin k at k * bin_hz), at least one
 * main lobe apart (a weaker maximum inside a stronger one's lobe is its side lobe), above the
 * noise floor by more than a factor of 4 (6 dB) and as prominent (4 times the higher of the
 * lowest densities between it and a higher bin on each side, looked for up to 4096 bins away:
 * so not the ripple on a strong tone's skirt), strongest first; DC's lobe is left out. lobe is
 * the window's main-lobe half-width in bins (sift_window_lobe). Returns the number written to
 * peaks (at most k), or SIFT_ENOMEM. */
SIFT_API int sift_spectrum_peaks(const double *psd, size_t nbins, double bin_hz, unsigned lobe,
                                 size_t k, sift_spectrum_peak_t *peaks,
                                 sift_spectrum_summary_t *sum);

/* Half the main lobe's width in bins: 1 rectangular, 2 Hann and Hamming, 3 Blackman. */
SIFT_API unsigned sift_window_lobe(sift_window_kind_t w);

#ifdef __cplusplus
}
#endif
#endif
