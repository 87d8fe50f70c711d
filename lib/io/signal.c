/* Sampled signals: WAV and friends through libsndfile, CSV text, raw little-endian samples. */
#include "common/internal.h"

#include <capsift/signal.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct sift_signal {
    sift_ctx_t *ctx;
    char *path;
    sift_signal_info_t info;
    SNDFILE *snd;
    FILE *f; /* CSV and raw */
    /* CSV */
    char *line;
    size_t line_cap;
    uint64_t lineno;
    unsigned ncols;                         /* columns of the file */
    unsigned sel[SIFT_SIGNAL_MAX_CHANNELS]; /* 0-based columns read */
    bool header;                            /* its first line is skipped */
    uint64_t nonfinite;                     /* float samples read as 0 */
};

static bool at_end(char c)
{
    return c == '\0' || c == '\n' || c == '\r';
}

/* Splits a CSV line into numbers, separated by commas, semicolons or tabs when it has any, else
 * by spaces: up to max of them into v (v may be NULL to count only). Returns the number of
 * fields, -1 for an empty line, or -(2 + k) when field k (0-based) is not a number. */
static int parse_fields(const char *line, double *v, unsigned max)
{
    bool delim = strpbrk(line, ",;\t") != NULL;
    int n = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ')
            p++;
        if (at_end(*p))
            return n ? n : -1;
        char *end;
        double x = strtod(p, &end);
        if (end == p || isnan(x) || isinf(x))
            return -(2 + n);
        if (v && (unsigned)n < max)
            v[n] = x;
        n++;
        for (p = end; *p == ' ';)
            p++;
        if (at_end(*p))
            return n;
        if (delim && (*p == ',' || *p == ';' || *p == '\t'))
            p++;
        else if (delim || p == end) /* something glued to the number */
            return -(2 + n - 1);
    }
}

/* The next line that is not a comment or empty: 1, 0 at the end, or a negative code. */
static int next_line(sift_signal_t *s)
{
    for (;;) {
        errno = 0;
        ssize_t r = getline(&s->line, &s->line_cap, s->f);
        if (r < 0)
            return ferror(s->f) ? sift__ctx_error(s->ctx, SIFT_EIO, "%s: cannot read: %s", s->path,
                                                  strerror(errno ? errno : EIO))
                                : 0;
        s->lineno++;
        const char *p = s->line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        return 1;
    }
}

static int csv_open(sift_signal_t *s, const sift_signal_opts_t *o)
{
    uint64_t frames = 0;
    int rc;
    bool first = true;
    while ((rc = next_line(s)) > 0) {
        int n = parse_fields(s->line, NULL, 0);
        if (n == -1)
            continue;
        if (n < -1 && first) { /* a header */
            s->header = true;
            first = false;
            continue;
        }
        first = false;
        if (n < -1)
            return sift__ctx_error(s->ctx, SIFT_EPARSE, "%s: line %llu, column %d: not a number",
                                   s->path, (unsigned long long)s->lineno, -n - 1);
        if (s->ncols == 0)
            s->ncols = (unsigned)n;
        else if ((unsigned)n != s->ncols)
            return sift__ctx_error(s->ctx, SIFT_EINVAL,
                                   "%s: line %llu has %d values, the lines before %u", s->path,
                                   (unsigned long long)s->lineno, n, s->ncols);
        frames++;
    }
    if (rc < 0)
        return rc;
    if (frames == 0)
        return sift__ctx_error(s->ctx, SIFT_EFORMAT, "%s: no line of numbers", s->path);
    if (o->ncolumns) {
        if (o->ncolumns > SIFT_SIGNAL_MAX_CHANNELS)
            return sift__ctx_error(s->ctx, SIFT_EINVAL, "%s: more than %d columns chosen", s->path,
                                   SIFT_SIGNAL_MAX_CHANNELS);
        for (size_t i = 0; i < o->ncolumns; i++) {
            if (o->columns[i] < 1 || o->columns[i] > s->ncols)
                return sift__ctx_error(s->ctx, SIFT_EINVAL, "%s: no column %u (it has %u)", s->path,
                                       o->columns[i], s->ncols);
            s->sel[i] = o->columns[i] - 1;
        }
        s->info.channels = (unsigned)o->ncolumns;
    } else {
        if (s->ncols > SIFT_SIGNAL_MAX_CHANNELS)
            return sift__ctx_error(s->ctx, SIFT_EINVAL, "%s: %u columns; choose at most %d of them",
                                   s->path, s->ncols, SIFT_SIGNAL_MAX_CHANNELS);
        for (unsigned i = 0; i < s->ncols; i++)
            s->sel[i] = i;
        s->info.channels = s->ncols;
    }
    s->info.frames = frames;
    snprintf(s->info.sample_format, sizeof s->info.sample_format, "text");
    rewind(s->f);
    s->lineno = 0;
    return 0;
}

static int64_t csv_read(sift_signal_t *s, double *buf, size_t max)
{
    double v[SIFT_SIGNAL_MAX_CHANNELS * 4];
    size_t got = 0;
    while (got < max) {
        int rc = next_line(s);
        if (rc <= 0) {
            if (rc < 0)
                return rc;
            break;
        }
        if (s->header) {
            s->header = false;
            continue;
        }
        int n = parse_fields(s->line, v, sizeof v / sizeof v[0]);
        if (n == -1)
            continue;
        if (n < -1 || (unsigned)n != s->ncols) /* the file changed since it was opened */
            return sift__ctx_error(s->ctx, SIFT_ESTALE, "%s: line %llu changed while reading",
                                   s->path, (unsigned long long)s->lineno);
        for (unsigned c = 0; c < s->info.channels; c++) {
            unsigned col = s->sel[c];
            if (col >= sizeof v / sizeof v[0])
                return sift__ctx_error(s->ctx, SIFT_EUNSUPPORTED,
                                       "%s: columns past %zu are not read", s->path,
                                       sizeof v / sizeof v[0]);
            buf[got * s->info.channels + c] = v[col];
        }
        got++;
    }
    return (int64_t)got;
}

static int raw_open(sift_signal_t *s, const sift_signal_opts_t *o)
{
    unsigned ch = o->channels ? o->channels : 1;
    if (ch > SIFT_SIGNAL_MAX_CHANNELS)
        return sift__ctx_error(s->ctx, SIFT_EINVAL, "%s: %u channels; at most %d", s->path, ch,
                               SIFT_SIGNAL_MAX_CHANNELS);
    struct stat st;
    if (fstat(fileno(s->f), &st) != 0 || !S_ISREG(st.st_mode))
        return sift__ctx_error(s->ctx, SIFT_EINVAL, "%s: raw samples must be a regular file",
                               s->path);
    size_t width = s->info.format == SIFT_SIGNAL_S16 ? 2 : 4;
    uint64_t frame = width * ch;
    if ((uint64_t)st.st_size % frame)
        return sift__ctx_error(
            s->ctx, SIFT_EINVAL, "%s: %llu bytes are not whole frames of %u channel%s of %zu bytes",
            s->path, (unsigned long long)st.st_size, ch, ch == 1 ? "" : "s", width);
    if (st.st_size == 0)
        return sift__ctx_error(s->ctx, SIFT_EFORMAT, "%s: empty", s->path);
    s->info.channels = ch;
    s->info.frames = (uint64_t)st.st_size / frame;
    snprintf(s->info.sample_format, sizeof s->info.sample_format, "%s",
             width == 2 ? "PCM 16-bit little-endian" : "float 32-bit little-endian");
    return 0;
}

static int64_t raw_read(sift_signal_t *s, double *buf, size_t max)
{
    unsigned char tmp[8192];
    size_t width = s->info.format == SIFT_SIGNAL_S16 ? 2 : 4;
    size_t want = max * s->info.channels, done = 0;
    while (done < want) {
        size_t n = want - done < sizeof tmp / width ? want - done : sizeof tmp / width;
        size_t r = fread(tmp, width, n, s->f);
        for (size_t i = 0; i < r; i++) {
            const unsigned char *b = tmp + i * width;
            if (width == 2) {
                int16_t v = (int16_t)(uint16_t)(b[0] | b[1] << 8);
                buf[done + i] = v / 32768.0;
            } else {
                uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                             (uint32_t)b[3] << 24;
                float f;
                memcpy(&f, &u, sizeof f);
                bool bad = isnan(f) || isinf(f);
                s->nonfinite += bad;
                buf[done + i] = bad ? 0 : f;
            }
        }
        done += r;
        if (r < n) {
            if (ferror(s->f))
                return sift__ctx_error(s->ctx, SIFT_EIO, "%s: cannot read: %s", s->path,
                                       strerror(errno ? errno : EIO));
            break;
        }
    }
    return (int64_t)(done / s->info.channels);
}

static const char *snd_subformat(int f)
{
    switch (f & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
        return "PCM 8-bit signed";
    case SF_FORMAT_PCM_U8:
        return "PCM 8-bit unsigned";
    case SF_FORMAT_PCM_16:
        return "PCM 16-bit";
    case SF_FORMAT_PCM_24:
        return "PCM 24-bit";
    case SF_FORMAT_PCM_32:
        return "PCM 32-bit";
    case SF_FORMAT_FLOAT:
        return "float 32-bit";
    case SF_FORMAT_DOUBLE:
        return "float 64-bit";
    case SF_FORMAT_ULAW:
        return "u-law";
    case SF_FORMAT_ALAW:
        return "A-law";
    default:
        return "other";
    }
}

/* A RIFF WAV file's data chunk size, as its header says it, and the bytes after the chunk's
 * header (false when the file is not RIFF WAV or has no data chunk). */
static bool riff_data(FILE *f, uint64_t *declared, uint64_t *present)
{
    unsigned char h[12];
    struct stat st;
    if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0 ||
        fstat(fileno(f), &st) != 0)
        return false;
    uint64_t pos = 12;
    for (int chunks = 0; chunks < 64; chunks++) {
        if (fseek(f, (long)pos, SEEK_SET) != 0 || fread(h, 1, 8, f) != 8)
            return false;
        uint64_t size =
            (uint64_t)h[4] | (uint64_t)h[5] << 8 | (uint64_t)h[6] << 16 | (uint64_t)h[7] << 24;
        if (memcmp(h, "data", 4) == 0) {
            *declared = size;
            *present = (uint64_t)st.st_size > pos + 8 ? (uint64_t)st.st_size - pos - 8 : 0;
            return size != 0xffffffffu; /* a stream that did not know its length */
        }
        pos += 8 + size + (size & 1);
    }
    return false;
}

static int snd_open(sift_signal_t *s)
{
    SF_INFO si;
    memset(&si, 0, sizeof si);
    s->snd = sf_open(s->path, SFM_READ, &si);
    if (!s->snd)
        return sift__ctx_error(s->ctx, SIFT_EFORMAT, "%s: not a signal libsndfile reads: %s",
                               s->path, sf_strerror(NULL));
    if (si.channels < 1 || si.channels > SIFT_SIGNAL_MAX_CHANNELS || si.frames <= 0)
        return sift__ctx_error(s->ctx, si.frames <= 0 ? SIFT_EFORMAT : SIFT_EUNSUPPORTED,
                               "%s: %d channels, %lld frames: nothing this reads", s->path,
                               si.channels, (long long)si.frames);
    s->info.channels = (unsigned)si.channels;
    s->info.frames = (uint64_t)si.frames;
    if (!(s->info.rate > 0))
        s->info.rate = si.samplerate;
    snprintf(s->info.sample_format, sizeof s->info.sample_format, "%s", snd_subformat(si.format));
    return 0;
}

/* What the first bytes say: libsndfile's formats by their magic, text as CSV. */
static sift_signal_format_t sniff(FILE *f)
{
    unsigned char b[512];
    size_t n = fread(b, 1, sizeof b, f);
    rewind(f);
    if (n >= 4 &&
        (memcmp(b, "RIFF", 4) == 0 || memcmp(b, "RIFX", 4) == 0 || memcmp(b, "RF64", 4) == 0 ||
         memcmp(b, "FORM", 4) == 0 || memcmp(b, "fLaC", 4) == 0 || memcmp(b, "OggS", 4) == 0))
        return SIFT_SIGNAL_WAV;
    for (size_t i = 0; i < n; i++)
        if (!isprint(b[i]) && !isspace(b[i]))
            return SIFT_SIGNAL_AUTO;
    return n ? SIFT_SIGNAL_CSV : SIFT_SIGNAL_AUTO;
}

int sift_signal_open(sift_signal_t **out, sift_ctx_t *ctx, const char *path,
                     const sift_signal_opts_t *opts)
{
    *out = NULL;
    sift_signal_opts_t d = {0};
    const sift_signal_opts_t *o = opts ? opts : &d;
    if (o->rate < 0 || isnan(o->rate) || isinf(o->rate))
        return sift__ctx_error(ctx, SIFT_EINVAL, "%s: the rate must be a positive number", path);
    sift_signal_t *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    }
    s->ctx = ctx;
    s->info.rate = o->rate;
    s->info.format = o->format;
    int rc;
    s->f = fopen(path, "rb");
    if (!s->f) {
        int e = errno;
        rc =
            sift__ctx_error(ctx, e == ENOENT ? SIFT_ENOENT : SIFT_EIO, "%s: %s", path, strerror(e));
        goto fail;
    }
    struct stat st;
    if (fstat(fileno(s->f), &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = sift__ctx_error(ctx, SIFT_EINVAL, "%s: is a directory; name a signal file", path);
        goto fail;
    }
    if (s->info.format == SIFT_SIGNAL_AUTO && (s->info.format = sniff(s->f)) == SIFT_SIGNAL_AUTO) {
        rc = sift__ctx_error(ctx, SIFT_EFORMAT,
                             "%s: not WAV (or another libsndfile format) nor CSV text; name raw "
                             "samples with --format s16 or f32",
                             path);
        goto fail;
    }
    switch (s->info.format) {
    case SIFT_SIGNAL_WAV: {
        uint64_t declared = 0, present = 0;
        bool riff = riff_data(s->f, &declared, &present);
        fclose(s->f);
        s->f = NULL;
        rc = snd_open(s);
        if (rc == 0 && riff && declared > present && present > 0)
            s->info.declared_frames =
                (uint64_t)((double)s->info.frames * (double)declared / (double)present);
        break;
    }
    case SIFT_SIGNAL_CSV:
        rc = csv_open(s, o);
        break;
    default:
        rc = raw_open(s, o);
    }
    if (rc == 0 && !(s->info.rate > 0))
        rc = sift__ctx_error(ctx, SIFT_EINVAL, "%s: no sample rate in the file: give --rate HZ",
                             path);
    if (rc < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    sift_signal_close(s);
    return rc;
}

void sift_signal_close(sift_signal_t *s)
{
    if (!s)
        return;
    if (s->snd)
        sf_close(s->snd);
    if (s->f)
        fclose(s->f);
    free(s->line);
    free(s->path);
    free(s);
}

uint64_t sift_signal_nonfinite(const sift_signal_t *s)
{
    return s->nonfinite;
}

void sift_signal_info(const sift_signal_t *s, sift_signal_info_t *out)
{
    *out = s->info;
}

int64_t sift_signal_read(sift_signal_t *s, double *buf, size_t max)
{
    if (max == 0)
        return 0;
    switch (s->info.format) {
    case SIFT_SIGNAL_WAV: {
        sf_count_t n = sf_readf_double(s->snd, buf, (sf_count_t)max);
        if (n < 0 || (n == 0 && sf_error(s->snd) != SF_ERR_NO_ERROR))
            return sift__ctx_error(s->ctx, SIFT_ECORRUPT, "%s: %s", s->path, sf_strerror(s->snd));
        for (sf_count_t i = 0; i < n * (sf_count_t)s->info.channels; i++)
            if (isnan(buf[i]) || isinf(buf[i])) {
                buf[i] = 0; /* a float file's non-numbers carry no power */
                s->nonfinite++;
            }
        return n;
    }
    case SIFT_SIGNAL_CSV:
        return csv_read(s, buf, max);
    default:
        return raw_read(s, buf, max);
    }
}
