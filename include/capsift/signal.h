/* capsift: sampled signals - oscilloscope and logic-analyser exports - read as frames of doubles.
 *
 * Formats:
 *   SIFT_SIGNAL_WAV  WAV (and the other formats libsndfile reads: AIFF, FLAC ...), any channels,
 *                    8/16/24/32-bit integer and 32/64-bit float samples, scaled to [-1, 1) as
 *                    libsndfile scales them; the rate is the file's.
 *   SIFT_SIGNAL_CSV  text: one frame a line, values separated by commas, semicolons, tabs or
 *                    spaces; lines that start with '#' and a first line that is not numbers (a
 *                    header) are skipped; every column is a channel unless columns are chosen.
 *                    A value that is not a number is an error naming the line and column.
 *   SIFT_SIGNAL_S16, SIFT_SIGNAL_F32  raw little-endian int16 (scaled by 1/32768) or float32
 *                    samples, channels interleaved.
 * SIFT_SIGNAL_AUTO picks by content: RIFF/RIFX/RF64, FORM or fLaC magic is libsndfile's,
 * otherwise text is CSV; raw samples must be named.
 *
 * Reading streams: memory does not grow with the signal. The number of frames is known before
 * reading (counted in a first pass over a CSV file).
 * Thread safety: a signal is used by one thread at a time.
 */
#ifndef CAPSIFT_SIGNAL_H
#define CAPSIFT_SIGNAL_H

#include <capsift/common.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sift_signal_format {
    SIFT_SIGNAL_AUTO = 0,
    SIFT_SIGNAL_WAV,
    SIFT_SIGNAL_CSV,
    SIFT_SIGNAL_S16,
    SIFT_SIGNAL_F32
} sift_signal_format_t;

#define SIFT_SIGNAL_MAX_CHANNELS 64

typedef struct sift_signal_opts {
    sift_signal_format_t format;
    double rate;       /* samples per second: required for CSV and raw, overrides a WAV's */
    unsigned channels; /* raw: interleaved channels (0 means 1) */
    /* CSV: the columns read, numbered from 1 (ncolumns 0: all of them) */
    const unsigned *columns;
    size_t ncolumns;
} sift_signal_opts_t;

typedef struct sift_signal sift_signal_t;

typedef struct sift_signal_info {
    sift_signal_format_t format;
    double rate;
    unsigned channels;
    uint64_t frames;
    char sample_format[32]; /* "PCM 16-bit", "float 32-bit", "text", ... */
    /* A RIFF WAV file shorter than its data chunk says: the frames it says it has (frames are
     * the ones there); 0 otherwise */
    uint64_t declared_frames;
} sift_signal_info_t;

/* Opens path ("-" is not accepted: the frames are counted first). Fails with a message in ctx
 * naming the file: SIFT_ENOENT, SIFT_EFORMAT (not a signal this reads), SIFT_EINVAL (no rate,
 * channels out of range, a column the file does not have, CSV lines of different lengths),
 * SIFT_EPARSE (a value that is not a number: line and column), SIFT_EIO. */
SIFT_API int sift_signal_open(sift_signal_t **out, sift_ctx_t *ctx, const char *path,
                              const sift_signal_opts_t *opts);
SIFT_API void sift_signal_close(sift_signal_t *s); /* NULL is fine */
SIFT_API void sift_signal_info(const sift_signal_t *s, sift_signal_info_t *out);

/* Reads up to max frames (channels interleaved) into buf; returns the frames read, 0 at the
 * end, or a negative code with a message in the context (a damaged or truncated file, a value
 * that is not a number). A float sample that is NaN or infinite is read as 0 and counted. */
SIFT_API int64_t sift_signal_read(sift_signal_t *s, double *buf, size_t max);

/* The float samples read so far that were NaN or infinite (read as 0). */
SIFT_API uint64_t sift_signal_nonfinite(const sift_signal_t *s);

#ifdef __cplusplus
}
#endif
#endif
