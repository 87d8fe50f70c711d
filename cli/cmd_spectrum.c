/* capsift spectrum: the power spectrum of sampled signals (WAV, CSV, raw samples) by Welch's
 * method, with the dominant frequencies, the noise floor and the SNR; text, JSON, an SVG chart. */
#include "cli.h"

#include <capsift/chart.h>
#include <capsift/outfile.h>
#include <capsift/signal.h>
#include <capsift/spectrum.h>

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct spectrum_args {
    const char *rate, *overlap, *svg;
    int format, window;
    uint64_t channels, size, peaks;
    cli_list_t columns;
    unsigned cols[CLI_LIST_MAX]; /* --column as numbers */
    bool force, bins;
    cli_common_t co;
} spectrum_args_t;

static const char *const format_names[] = {"auto", "wav", "csv", "s16", "f32", NULL};
static const char *const window_names[] = {"hann", "hamming", "blackman", "rect", NULL};

#define A(field) offsetof(spectrum_args_t, field)
static const cli_opt_t spectrum_opts[] = {
    {.name = "rate",
     .kind = CLI_K_STRING,
     .offset = A(rate),
     .arg = "HZ",
     .help = "samples per second (required for CSV and raw samples; overrides a WAV's)"},
    {.name = "format",
     .kind = CLI_K_CHOICE,
     .offset = A(format),
     .arg = "F",
     .help = "auto (the default: WAV and libsndfile's formats by content, else CSV text), wav,\n"
             "csv, s16 (raw little-endian int16) or f32 (raw little-endian float32)",
     .choices = format_names},
    {.name = "channels",
     .kind = CLI_K_COUNT,
     .offset = A(channels),
     .arg = "N",
     .help = "raw samples: interleaved channels (default 1)",
     .min = 1,
     .max = SIFT_SIGNAL_MAX_CHANNELS},
    {.name = "column",
     .kind = CLI_K_LIST,
     .offset = A(columns),
     .arg = "N",
     .help = "CSV: a column to read, from 1 (repeatable; default every column)"},
    {.name = "size",
     .kind = CLI_K_COUNT,
     .offset = A(size),
     .arg = "N",
     .help = "samples per FFT segment (default 4096, or the largest power of two the signal\n"
             "holds when it is shorter); bins are rate / N apart",
     .min = 2,
     .max = 1u << 24},
    {.name = "overlap",
     .kind = CLI_K_STRING,
     .offset = A(overlap),
     .arg = "F",
     .help = "fraction of a segment shared with the next (0 to 0.95, default 0.5)"},
    {.name = "window",
     .kind = CLI_K_CHOICE,
     .offset = A(window),
     .arg = "W",
     .help = "hann (the default), hamming, blackman or rect",
     .choices = window_names},
    {.name = "peaks",
     .kind = CLI_K_COUNT,
     .offset = A(peaks),
     .arg = "K",
     .help = "dominant frequencies listed per channel (default 5)",
     .min = 1,
     .max = 256},
    {.name = "svg",
     .kind = CLI_K_STRING,
     .offset = A(svg),
     .arg = "FILE",
     .help = "also draw the spectra (dB against Hz, the peaks marked) as an SVG chart (of the\n"
             "first file; - for standard output)"},
    {.name = "force",
     .kind = CLI_K_FLAG,
     .offset = A(force),
     .help = "replace an existing --svg file"},
    {.name = "bins",
     .kind = CLI_K_FLAG,
     .offset = A(bins),
     .help = "JSON: also every bin's density (\"psd\", units^2/Hz, bin k at k * bin_hz)"},
};

const cli_command_t cli_cmd_spectrum = {
    .name = "spectrum",
    .summary = "power spectrum of a sampled signal: dominant frequencies, noise floor, SNR",
    .run = cmd_spectrum,
    .usage = "capsift spectrum [OPTIONS] FILE ...",
    .about = "The power spectral density of each channel of a sampled signal - WAV (any sample\n"
             "format and channels), CSV columns or raw int16/float32 samples, as oscilloscopes\n"
             "and logic analysers export them - by Welch's method: segments of --size samples\n"
             "overlapping by --overlap, each with its mean removed and the window applied,\n"
             "their periodograms averaged (as scipy.signal.welch), in constant memory. Lists the\n"
             "strongest peaks (frequency interpolated between bins, power, SNR over the noise\n"
             "floor), the noise floor (the median density outside the peaks) and the SNR of\n"
             "the strongest peak against the rest of the band.\n",
    .opts = spectrum_opts,
    .nopts = sizeof spectrum_opts / sizeof spectrum_opts[0],
    .common = CLI_C_JSON | CLI_C_NO_CACHE,
    .footer = "exit status: 0 every file read, 1 some file unreadable, damaged or too short, 2\n"
              "usage error, 3 failure.\n",
};

static double db(double v)
{
    return v > 0 ? 10 * log10(v) : -INFINITY;
}

/* One channel's spectrum. */
typedef struct chan {
    double *psd;
    sift_spectrum_peak_t peaks[256];
    sift_spectrum_summary_t sum;
} chan_t;

typedef struct analysis {
    sift_signal_info_t info;
    size_t nfft, overlap, nbins;
    uint64_t segments;
    chan_t *ch;
    bool damaged; /* shorter than its header says, or samples that are not numbers: results
                   * of what is there, the file named as damaged */
} analysis_t;

static void analysis_free(analysis_t *an)
{
    for (unsigned c = 0; an->ch && c < an->info.channels; c++)
        free(an->ch[c].psd);
    free(an->ch);
    an->ch = NULL;
}

/* Reads one signal and computes its channels' spectra: CLI_OK, or an exit code after a message
 * naming the file. */
static int analyse(const spectrum_args_t *a, sift_ctx_t *ctx, sift_fft_t *fft, const char *path,
                   double rate, double overlap, analysis_t *an)
{
    sift_signal_opts_t so = {.format = (sift_signal_format_t)a->format,
                             .rate = rate,
                             .channels = (unsigned)a->channels,
                             .columns = a->cols,
                             .ncolumns = a->columns.n};
    sift_signal_t *sig;
    int rc = sift_signal_open(&sig, ctx, path, &so);
    if (rc < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        /* a missing file is the command line's, as for captures */
        return rc == SIFT_ENOMEM ? CLI_FAILED : rc == SIFT_ENOENT ? CLI_USAGE : CLI_DAMAGED;
    }
    memset(an, 0, sizeof *an);
    sift_signal_info(sig, &an->info);
    an->damaged = an->info.declared_frames > an->info.frames;
    if (an->damaged) /* the spectrum of what is there, and the file named as damaged */
        cli_error("%s: truncated: %llu of the %llu frames its header says", path,
                  (unsigned long long)an->info.frames,
                  (unsigned long long)an->info.declared_frames);
    size_t nfft = a->size ? (size_t)a->size : 4096;
    if (an->info.frames < nfft) {
        if (a->size) {
            cli_error("%s: %llu frames, fewer than --size %zu", path,
                      (unsigned long long)an->info.frames, nfft);
            sift_signal_close(sig);
            return CLI_DAMAGED;
        }
        while (nfft > 2 && nfft > an->info.frames)
            nfft /= 2;
        if (an->info.frames < 2) {
            cli_error("%s: one frame: no spectrum", path);
            sift_signal_close(sig);
            return CLI_DAMAGED;
        }
    }
    an->nfft = nfft;
    an->overlap = (size_t)(overlap * (double)nfft);
    an->nbins = nfft / 2 + 1;
    unsigned nch = an->info.channels;
    sift_welch_t **w = calloc(nch, sizeof *w);
    an->ch = calloc(nch, sizeof *an->ch);
    enum { BLOCK = 16384 };
    double *buf = malloc((size_t)BLOCK * nch * sizeof *buf);
    rc = CLI_OK;
    sift_welch_opts_t wo = {.nfft = nfft,
                            .overlap = an->overlap,
                            .overlap_set = true,
                            .window = (sift_window_kind_t)a->window,
                            .rate = an->info.rate};
    if (!w || !an->ch || !buf)
        rc = CLI_FAILED;
    for (unsigned c = 0; rc == CLI_OK && c < nch; c++)
        if (sift_welch_create(&w[c], fft, &wo) < 0 ||
            !(an->ch[c].psd = malloc(an->nbins * sizeof(double))))
            rc = CLI_FAILED;
    if (rc == CLI_FAILED)
        cli_error("%s: out of memory", path);
    while (rc == CLI_OK) {
        int64_t got = sift_signal_read(sig, buf, BLOCK);
        if (got < 0) {
            cli_error("%s", sift_ctx_errmsg(ctx));
            rc = CLI_DAMAGED;
        }
        if (got <= 0)
            break;
        for (unsigned c = 0; c < nch; c++)
            sift_welch_push(w[c], buf + c, (size_t)got, nch); /* the reader gives numbers only */
    }
    unsigned lobe = sift_window_lobe((sift_window_kind_t)a->window);
    for (unsigned c = 0; rc == CLI_OK && c < nch; c++) {
        if (sift_welch_psd(w[c], an->ch[c].psd) < 0) {
            cli_error("%s: the signal ended before a whole segment of %zu samples", path, nfft);
            rc = CLI_DAMAGED;
            break;
        }
        an->segments = sift_welch_segments(w[c]);
        if (sift_spectrum_peaks(an->ch[c].psd, an->nbins, an->info.rate / (double)nfft, lobe,
                                (size_t)a->peaks, an->ch[c].peaks, &an->ch[c].sum) < 0) {
            cli_error("%s: out of memory", path);
            rc = CLI_FAILED;
        }
    }
    uint64_t nonfinite = sift_signal_nonfinite(sig);
    if (rc == CLI_OK && nonfinite) { /* the spectrum of the rest, and the file named */
        cli_error("%s: %llu samples are not numbers (NaN or infinite): read as 0", path,
                  (unsigned long long)nonfinite);
        an->damaged = true;
    }
    for (unsigned c = 0; w && c < nch; c++)
        sift_welch_free(w[c]);
    free(w);
    free(buf);
    sift_signal_close(sig);
    if (rc != CLI_OK)
        analysis_free(an);
    return rc;
}

static void print_json(FILE *out, const char *path, const analysis_t *an, const spectrum_args_t *a)
{
    cli_json_t j;
    cli_json_begin(&j, out);
    cli_json_str(&j, "file", path);
    cli_json_str(&j, "format", format_names[an->info.format]);
    cli_json_str(&j, "sample_format", an->info.sample_format);
    cli_json_f64(&j, "rate", an->info.rate, -1);
    cli_json_u64(&j, "nchannels", an->info.channels);
    cli_json_u64(&j, "frames", an->info.frames);
    cli_json_u64(&j, "nfft", an->nfft);
    cli_json_u64(&j, "overlap", an->overlap);
    cli_json_str(&j, "window", window_names[a->window]);
    cli_json_u64(&j, "segments", an->segments);
    cli_json_f64(&j, "bin_hz", an->info.rate / (double)an->nfft, -1);
    cli_json_open(&j, "spectra", '[');
    for (unsigned c = 0; c < an->info.channels; c++) {
        const chan_t *ch = &an->ch[c];
        cli_json_open(&j, NULL, '{');
        cli_json_u64(&j, "channel", c + 1);
        cli_json_f64(&j, "noise_floor_db", db(ch->sum.noise_floor), -1);
        cli_json_f64(&j, "total_power", ch->sum.total_power, -1);
        cli_json_f64(&j, "snr_db", ch->sum.snr_db, -1);
        cli_json_open(&j, "peaks", '[');
        for (size_t k = 0; k < ch->sum.npeaks; k++) {
            const sift_spectrum_peak_t *p = &ch->peaks[k];
            cli_json_open(&j, NULL, '{');
            cli_json_f64(&j, "freq", p->freq, -1);
            cli_json_u64(&j, "bin", p->bin);
            cli_json_f64(&j, "psd_db", db(p->psd), -1);
            cli_json_f64(&j, "power", p->power, -1);
            cli_json_f64(&j, "snr_db", p->snr_db, -1);
            cli_json_close(&j);
        }
        cli_json_close(&j);
        if (a->bins) {
            cli_json_open(&j, "psd", '[');
            for (size_t k = 0; k < an->nbins; k++)
                cli_json_f64(&j, NULL, ch->psd[k], -1);
            cli_json_close(&j);
        }
        cli_json_close(&j);
    }
    cli_json_end(&j);
}

static void print_text(FILE *out, const char *path, const analysis_t *an, const spectrum_args_t *a)
{
    char b1[32], b2[32];
    fprintf(out, "File:       %s\n", path);
    fprintf(out, "Signal:     %s, %s, %u channel%s, %g Hz, %s frames (%.6g s)\n",
            format_names[an->info.format], an->info.sample_format, an->info.channels,
            an->info.channels == 1 ? "" : "s", an->info.rate, cli_u64_grouped(b1, an->info.frames),
            (double)an->info.frames / an->info.rate);
    fprintf(out,
            "Spectrum:   Welch, %zu-sample segments overlapping by %zu, %s window, %s segments;"
            " bins %.6g Hz apart\n",
            an->nfft, an->overlap, window_names[a->window], cli_u64_grouped(b2, an->segments),
            an->info.rate / (double)an->nfft);
    for (unsigned c = 0; c < an->info.channels; c++) {
        const chan_t *ch = &an->ch[c];
        fprintf(out, "\nChannel %u: noise floor %.1f dB/Hz, SNR %.1f dB\n", c + 1,
                db(ch->sum.noise_floor), ch->sum.snr_db);
        if (!ch->sum.npeaks) {
            fputs("  (no peak 6 dB above the noise floor)\n", out);
            continue;
        }
        fprintf(out, "  %14s  %12s  %14s  %9s\n", "FREQUENCY", "PSD", "POWER", "SNR");
        for (size_t k = 0; k < ch->sum.npeaks; k++) {
            const sift_spectrum_peak_t *p = &ch->peaks[k];
            fprintf(out, "  %11.6g Hz  %7.1f dB/Hz  %14.6g  %6.1f dB\n", p->freq, db(p->psd),
                    p->power, p->snr_db);
        }
    }
    fputc('\n', out);
}

/* The chart: each channel's density in dB against frequency, peaks marked. */
static int draw(FILE *out, const char *path, const analysis_t *an)
{
    enum { MAX_LINES = 8 };
    size_t nl = an->info.channels < MAX_LINES ? an->info.channels : MAX_LINES;
    sift_chart_series_t ser[MAX_LINES] = {{0}};
    char names[MAX_LINES][32];
    size_t marks[MAX_LINES][256];
    double *x = malloc(an->nbins * sizeof *x), *y = malloc(nl * an->nbins * sizeof *y);
    int rc = CLI_OK;
    if (!x || !y) {
        cli_error("%s: out of memory for the chart", path);
        rc = CLI_FAILED;
        goto out;
    }
    double top = -INFINITY;
    for (size_t c = 0; c < nl; c++)
        for (size_t k = 0; k < an->nbins; k++)
            top = fmax(top, db(an->ch[c].psd[k]));
    for (size_t k = 0; k < an->nbins; k++)
        x[k] = (double)k * an->info.rate / (double)an->nfft;
    for (size_t c = 0; c < nl; c++) {
        double *yc = y + c * an->nbins;
        for (size_t k = 0; k < an->nbins; k++) /* 200 dB below the top is nothing to see */
            yc[k] = fmax(db(an->ch[c].psd[k]), isinf(top) ? -300 : top - 200);
        for (size_t m = 0; m < an->ch[c].sum.npeaks; m++)
            marks[c][m] = an->ch[c].peaks[m].bin;
        size_t nm = an->ch[c].sum.npeaks;
        for (size_t i = 1; i < nm; i++) /* ascending, as the chart wants them */
            for (size_t j = i; j > 0 && marks[c][j - 1] > marks[c][j]; j--) {
                size_t t = marks[c][j];
                marks[c][j] = marks[c][j - 1];
                marks[c][j - 1] = t;
            }
        snprintf(names[c], sizeof names[c], "channel %zu", c + 1);
        ser[c] = (sift_chart_series_t){
            .name = names[c], .x = x, .y = yc, .n = an->nbins, .marks = marks[c], .nmarks = nm};
    }
    char title[160];
    snprintf(title, sizeof title, "Power spectral density, %zu-point Welch segments", an->nfft);
    sift_chart_t ch = {.title = title,
                       .y_label = "density",
                       .y_unit = "dB/Hz",
                       .x_kind = SIFT_CHART_X_LINEAR,
                       .marks_label = "peaks",
                       .x_label = "frequency",
                       .x_unit = "Hz",
                       .series = ser,
                       .nseries = nl};
    if (sift_chart_svg(out, &ch) < 0) {
        cli_error("%s: cannot write the chart", path);
        rc = CLI_FAILED;
    }
out:
    free(x);
    free(y);
    return rc;
}

int cmd_spectrum(int argc, char **argv)
{
    spectrum_args_t a = {.peaks = 5};
    int prc = cli_parse(&cli_cmd_spectrum, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    double rate = 0, overlap = 0.5;
    if ((a.rate && !cli_parse_real("rate", a.rate, 1e-9, 1e15, &rate)) ||
        (a.overlap && !cli_parse_real("overlap", a.overlap, 0, 0.95, &overlap)))
        return CLI_USAGE;
    if (a.force && !a.svg) {
        cli_error("--force replaces an --svg file; there is none");
        return CLI_USAGE;
    }
    for (size_t i = 0; i < a.columns.n; i++) {
        uint64_t v;
        if (sift_parse_count(a.columns.v[i], 1, 1u << 20, &v) < 0) {
            cli_error("--column: '%s' is not a column number from 1", a.columns.v[i]);
            return CLI_USAGE;
        }
        a.cols[i] = (unsigned)v;
    }
    if (a.co.nargs < 1) {
        cli_error("name a signal file (see 'capsift spectrum --help')");
        return CLI_USAGE;
    }
    sift_ctx_t *ctx = NULL;
    sift_fft_t *fft = NULL;
    sift_outfile_t *of = NULL;
    if (sift_ctx_create(&ctx) < 0 || sift_fft_create(&fft) < 0) {
        cli_error("out of memory");
        sift_ctx_free(ctx);
        return CLI_FAILED;
    }
    /* measured plans, kept as FFTW wisdom in the cache's directory */
    char wisdom[4096];
    bool wise = cli_cache_wanted(&a.co) &&
                cli_cache_file("fftw-wisdom", "FFTW's wisdom", wisdom, sizeof wisdom) == 0;
    if (wise) {
        int w = sift_fft_wisdom_load(wisdom);
        if (w < 0 && w != SIFT_ENOTFOUND)
            cli_note("warning: %s: %s; FFTW plans are measured again", wisdom,
                     w == SIFT_ECORRUPT ? "not FFTW wisdom" : strerror(errno));
        sift_fft_set_measure(fft, true);
    }
    int rc = CLI_OK;
    if (a.svg)
        rc = cli_outfile_begin(ctx, a.svg, a.force, a.co.args, (size_t)a.co.nargs, &of);
    FILE *out = a.svg && strcmp(a.svg, "-") == 0 ? stderr : stdout;
    for (int i = 0; rc < CLI_USAGE && i < a.co.nargs; i++) {
        analysis_t an;
        int r = analyse(&a, ctx, fft, a.co.args[i], rate, overlap, &an);
        rc = r > rc ? r : rc;
        if (r != CLI_OK)
            continue;
        if (a.co.format == CLI_FORMAT_JSON)
            print_json(out, a.co.args[i], &an, &a);
        else
            print_text(out, a.co.args[i], &an, &a);
        if (of) { /* the first file read */
            r = cli_outfile_end(ctx, of, draw(sift_outfile_stream(of), a.co.args[i], &an));
            of = NULL;
            rc = r > rc ? r : rc;
        }
        if (an.damaged)
            rc = rc > CLI_DAMAGED ? rc : CLI_DAMAGED;
        analysis_free(&an);
    }
    sift_outfile_abort(of);
    if (fflush(out) != 0 || ferror(out)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    if (wise && sift_fft_wisdom_save(wisdom) < 0)
        cli_note("warning: cannot save FFTW's wisdom to %s: %s", wisdom, strerror(errno));
    sift_fft_free(fft);
    sift_ctx_free(ctx);
    return rc;
}
