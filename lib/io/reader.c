/* The reader: buffer management, format detection, problems, and the public API. The formats
 * themselves are in rd_pcap.c, rd_pcapng.c and rd_snoop.c. */
#include "io/reader_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void vproblem(sift_reader_t *r, uint64_t offset, int code, const char *fmt, va_list ap)
    SIFT_PRINTF(4, 0);

static void vproblem(sift_reader_t *r, uint64_t offset, int code, const char *fmt, va_list ap)
{
    r->problems_total++;
    if (r->nproblems < r->opts.max_problems) {
        sift_problem_t *p = &r->problems[r->nproblems++];
        p->offset = offset;
        p->code = code;
        vsnprintf(p->message, sizeof p->message, fmt, ap);
    }
}

int sift__rd_problem(sift_reader_t *r, uint64_t offset, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(r, offset, code, fmt, ap);
    va_end(ap);
    return code;
}

int sift__rd_stop(sift_reader_t *r, uint64_t offset, int code, const char *fmt, ...)
{
    assert(code < 0);
    va_list ap;
    va_start(ap, fmt);
    vproblem(r, offset, code, fmt, ap);
    va_end(ap);
    r->done = true;
    r->stop_code = code;
    return code;
}

int sift__rd_fill(sift_reader_t *r, size_t n)
{
    if (SIFT_LIKELY(r->len - r->pos >= n))
        return 1;
    if (!r->owns_buf || r->eof)
        return 0;
    size_t left = r->len - r->pos;
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, left);
        r->base += r->pos;
        r->pos = 0;
        r->len = left;
    }
    if (n > r->cap) { /* one record larger than the buffer: grow, within the hard limit */
        size_t want = n + r->opts.buffer_size;
        if (n > (size_t)RD_MAX_BLOCK + r->opts.buffer_size)
            return sift__rd_stop(r, rd_offset(r), SIFT_ELIMIT,
                                 "record of %zu bytes is larger than the limit", n);
        uint8_t *nb = realloc(r->buf, want);
        if (!nb)
            return sift__rd_stop(r, rd_offset(r), SIFT_ENOMEM, "out of memory");
        r->buf = nb;
        r->cap = want;
    }
    while (r->len < n) {
        char err[SIFT_ERRBUF_SIZE];
        size_t room = r->cap - r->len;
        if (r->seeking) { /* records read by offset: no more than the record needs */
            size_t want = (n - r->len + 4095) & ~(size_t)4095;
            if (want < room)
                room = want;
        }
        long got = sift__source_read(r->src, r->buf + r->len, room, err);
        if (got < 0) {
            r->eof = true;
            return sift__rd_stop(r, r->base + r->len, (int)got, "%s", err);
        }
        if (got == 0) {
            r->eof = true;
            return 0;
        }
        r->len += (size_t)got;
    }
    return 1;
}

int sift__rd_add_iface(sift_reader_t *r, const sift_iface_t *ifc)
{
    if (r->meta.niface == r->iface_cap) {
        size_t ncap = r->iface_cap ? r->iface_cap * 2 : 4;
        if (ncap > 65536)
            return SIFT_ELIMIT;
        sift_iface_t *n = realloc(r->ifaces, ncap * sizeof *n);
        if (!n)
            return SIFT_ENOMEM;
        r->ifaces = n;
        r->iface_cap = ncap;
    }
    r->ifaces[r->meta.niface] = *ifc;
    r->meta.iface = r->ifaces;
    if (ifc->ts_digits > r->meta.ts_digits)
        r->meta.ts_digits = ifc->ts_digits;
    return (int)r->meta.niface++;
}

/* Chooses the format from the first bytes of the (decompressed) stream. */
static const rd_format_t *detect_format(const uint8_t *m, size_t n)
{
    if (n >= 4) {
        uint32_t le = sift_load_le32(m);
        if (le == 0xa1b2c3d4 || le == 0xd4c3b2a1 || le == 0xa1b23c4d || le == 0x4d3cb2a1)
            return &sift__rd_pcap;
        if (le == 0x0a0d0d0a)
            return &sift__rd_pcapng;
    }
    if (n >= 8 && memcmp(m, "snoop\0\0\0", 8) == 0)
        return &sift__rd_snoop;
    return NULL;
}

bool sift_capture_probe(const void *head, size_t n)
{
    const uint8_t *m = head;
    if (detect_format(m, n))
        return true;
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        return true;
    return n >= 4 && sift_load_le32(m) == 0xfd2fb528u;
}

static int reader_start(sift_reader_t *r)
{
    int rc = sift__rd_fill(r, 8);
    if (rc < 0)
        return sift__ctx_error(r->ctx, rc, "%s: %s", r->name, r->problems[0].message);
    if (rd_avail(r) == 0)
        return sift__ctx_error(r->ctx, SIFT_EFORMAT, "%s: file is empty", r->name);
    r->fmt = detect_format(r->buf + r->pos, rd_avail(r));
    if (!r->fmt) {
        const uint8_t *m = r->buf + r->pos;
        size_t n = rd_avail(r);
        return sift__ctx_error(
            r->ctx, SIFT_EFORMAT,
            "%s: not a pcap, pcapng or snoop capture (first bytes %02x %02x "
            "%02x %02x%s)",
            r->name, n > 0 ? m[0] : 0, n > 1 ? m[1] : 0, n > 2 ? m[2] : 0, n > 3 ? m[3] : 0,
            r->meta.compression != SIFT_COMPRESSION_NONE ? " after decompression" : "");
    }
    rc = r->fmt->open(r);
    if (rc < 0)
        return sift__ctx_error(r->ctx, rc, "%s: %s", r->name,
                               r->nproblems ? r->problems[r->nproblems - 1].message
                                            : sift_strerror(rc));
    return 0;
}

static int reader_new(sift_reader_t **out, sift_ctx_t *ctx, const char *name,
                      const sift_reader_opts_t *opts)
{
    sift_reader_t *r = calloc(1, sizeof *r);
    if (!r)
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    r->ctx = ctx;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "(memory)");
    if (opts)
        r->opts = *opts;
    if (r->opts.buffer_size < 4096)
        r->opts.buffer_size = RD_DEFAULT_BUFFER;
    if (r->opts.max_record == 0)
        r->opts.max_record = RD_DEFAULT_MAX_RECORD;
    if (r->opts.max_problems == 0)
        r->opts.max_problems = RD_DEFAULT_PROBLEMS;
    r->range_end = UINT64_MAX;
    r->problems = calloc(r->opts.max_problems, sizeof *r->problems);
    if (!r->problems) {
        free(r);
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    }
    *out = r;
    return 0;
}

/* Attaches the source, sets up the buffer and reads the file header. Frees r on failure. */
static int reader_attach(sift_reader_t **out, sift_reader_t *r, sift_source_t *src)
{
    r->src = src;
    r->meta.compression = sift__source_compression(src);
    const uint8_t *mem;
    size_t mlen;
    if (sift__source_memory(src, &mem, &mlen)) {
        r->buf = (uint8_t *)(uintptr_t)mem; /* read only: never written while !owns_buf */
        r->len = r->cap = mlen;
        r->eof = true;
    } else {
        r->owns_buf = true;
        r->cap = r->opts.buffer_size + 65536;
        r->buf = malloc(r->cap);
        if (!r->buf) {
            sift_ctx_t *ctx = r->ctx;
            sift_reader_close(r);
            return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
        }
    }
    int rc = reader_start(r);
    if (rc < 0) {
        sift_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int sift_reader_open(sift_reader_t **out, sift_ctx_t *ctx, const char *path,
                     const sift_reader_opts_t *opts)
{
    assert(out && path);
    *out = NULL;
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return sift__ctx_error(ctx, e == ENOENT ? SIFT_ENOENT : SIFT_EIO, "%s: cannot open: %s",
                               path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return sift__ctx_error(ctx, SIFT_EINVAL, "%s: is a directory", path);
    }
    sift_reader_t *r = NULL;
    int rc = reader_new(&r, ctx, path, opts);
    if (rc < 0) {
        if (!is_stdin)
            close(fd);
        return rc;
    }
    char err[SIFT_ERRBUF_SIZE];
    sift_source_t *src = NULL;
    rc = sift__source_open_fd(&src, fd, !is_stdin, err);
    if (rc < 0) {
        sift_reader_close(r);
        return sift__ctx_error(ctx, rc, "%s: %s", path, err);
    }
    return reader_attach(out, r, src);
}

int sift_reader_open_memory(sift_reader_t **out, sift_ctx_t *ctx, const void *data, size_t len,
                            const char *name, const sift_reader_opts_t *opts)
{
    assert(out && (data || len == 0));
    *out = NULL;
    sift_reader_t *r = NULL;
    int rc = reader_new(&r, ctx, name, opts);
    if (rc < 0)
        return rc;
    char err[SIFT_ERRBUF_SIZE];
    sift_source_t *src = NULL;
    static const uint8_t empty[1];
    rc = sift__source_open_memory(&src, data ? data : empty, len, err);
    if (rc < 0) {
        rc = sift__ctx_error(ctx, rc, "%s: %s", r->name, err);
        sift_reader_close(r);
        return rc;
    }
    return reader_attach(out, r, src);
}

bool sift_reader_splittable(const sift_reader_t *r)
{
    return r->fmt->chain_at && r->meta.compression == SIFT_COMPRESSION_NONE &&
           sift__source_size(r->src) > 0;
}

/* Moves to the first aligned offset before limit where the format sees a chain of plausible
 * records: 1 there, 0 when there is none. */
static int rd_sync(sift_reader_t *r, uint64_t limit)
{
    const unsigned align = r->fmt->align;
    while (rd_offset(r) % align) {
        if (sift__rd_fill(r, 1) <= 0)
            return 0;
        r->pos++;
    }
    while (rd_offset(r) < limit) {
        int rc = r->fmt->chain_at(r);
        if (rc != 0)
            return rc;
        if (sift__rd_fill(r, align) <= 0)
            return 0;
        r->pos += align;
    }
    return 0;
}

int sift_reader_open_range(sift_reader_t **out, sift_ctx_t *ctx, const char *path, uint64_t start,
                           uint64_t end, const sift_reader_opts_t *opts)
{
    sift_reader_t *r = NULL;
    int rc = sift_reader_open(&r, ctx, path, opts);
    if (rc < 0)
        return rc;
    if (!sift_reader_splittable(r)) {
        sift_reader_close(r);
        return sift__ctx_error(ctx, SIFT_EUNSUPPORTED,
                               "%s: only plain pcap and pcapng files can be read by byte range",
                               path);
    }
    r->range_end = end;
    rc = start > rd_offset(r) && r->fmt->prime ? r->fmt->prime(r) : 0;
    if (rc < 0) {
        sift_reader_close(r);
        return sift__ctx_error(ctx, rc, "%s: cannot read the headers before byte %" PRIu64, path,
                               start);
    }
    r->range_start = rd_offset(r);
    if (start > r->range_start) {
        char err[SIFT_ERRBUF_SIZE];
        rc = sift__source_seek(r->src, start, err);
        if (rc < 0) {
            sift_reader_close(r);
            return sift__ctx_error(ctx, rc, "%s: %s", path, err);
        }
        r->base = start;
        r->pos = r->len = 0;
        r->eof = false;
        rc = rd_sync(r, end);
        if (rc < 0) {
            sift_reader_close(r);
            return sift__ctx_error(ctx, rc, "%s: cannot read at byte %" PRIu64, path, start);
        }
        r->range_start = rc ? rd_offset(r) : UINT64_MAX;
        if (!rc)
            r->done = true;
        /* headers from here on are past the head the other ranges read: they must be told */
        r->seen_packet = true;
    }
    *out = r;
    return 0;
}

int sift_reader_seek(sift_reader_t *r, uint64_t offset)
{
    if (!sift_reader_splittable(r))
        return sift__ctx_error(r->ctx, SIFT_EUNSUPPORTED,
                               "%s: only plain pcap and pcapng files can be read by offset",
                               r->name);
    if (!r->seen_packet && r->fmt->prime && offset > rd_offset(r)) {
        int rc = r->fmt->prime(r); /* what the records there depend on (pcapng interfaces) */
        if (rc < 0)
            return sift__ctx_error(r->ctx, rc, "%s: cannot read the headers before byte %" PRIu64,
                                   r->name, offset);
        r->seen_packet = true;
    }
    r->range_end = UINT64_MAX;
    r->done = false;
    r->stop_code = 0;
    r->seeking = true;
    if (offset >= r->base && offset <= r->base + r->len) { /* in the window already */
        r->pos = (size_t)(offset - r->base);
        return 0;
    }
    char err[SIFT_ERRBUF_SIZE];
    int rc = sift__source_seek(r->src, offset, err);
    if (rc < 0)
        return sift__ctx_error(r->ctx, rc, "%s: %s", r->name, err);
    r->base = offset;
    r->pos = r->len = 0;
    r->eof = false;
    return 0;
}

bool sift_reader_headers_midway(const sift_reader_t *r)
{
    return r->headers_midway;
}

uint64_t sift_reader_range_start(const sift_reader_t *r)
{
    return r->range_start;
}

void sift_reader_close(sift_reader_t *r)
{
    if (!r)
        return;
    sift__source_close(r->src);
    if (r->owns_buf)
        free(r->buf);
    free(r->ifaces);
    free(r->problems);
    sift_file_notes_release(&r->notes);
    free(r);
}

int sift_reader_next(sift_reader_t *r, sift_record_t *rec)
{
    if (r->done)
        return r->stop_code;
    int rc = r->fmt->next(r, rec);
    r->records += rc > 0;
    return rc;
}

const sift_file_meta_t *sift_reader_meta(const sift_reader_t *r)
{
    return &r->meta;
}

size_t sift_reader_nproblems(const sift_reader_t *r)
{
    return r->nproblems;
}

const sift_problem_t *sift_reader_problem(const sift_reader_t *r, size_t i)
{
    return i < r->nproblems ? &r->problems[i] : NULL;
}

uint64_t sift_reader_problems_total(const sift_reader_t *r)
{
    return r->problems_total;
}

uint64_t sift_reader_position(const sift_reader_t *r)
{
    return r->meta.compression == SIFT_COMPRESSION_NONE ? rd_offset(r)
                                                        : sift__source_raw_pos(r->src);
}

uint64_t sift_reader_file_size(const sift_reader_t *r)
{
    return sift__source_size(r->src);
}

const char *sift_reader_name(const sift_reader_t *r)
{
    return r->name;
}

const char *sift_format_name(sift_format_t f)
{
    switch (f) {
    case SIFT_FORMAT_PCAP:
        return "pcap";
    case SIFT_FORMAT_PCAPNG:
        return "pcapng";
    case SIFT_FORMAT_SNOOP:
        return "snoop";
    default:
        return "unknown";
    }
}

const char *sift_compression_name(sift_compression_t c)
{
    switch (c) {
    case SIFT_COMPRESSION_GZIP:
        return "gzip";
    case SIFT_COMPRESSION_ZSTD:
        return "zstd";
    default:
        return "none";
    }
}

int sift_linktype_to_dlt(uint32_t linktype)
{
    /* The LINKTYPE_ values written in files equal libpcap's DLT_ values except for a few
     * whose DLT differs between platforms. */
    switch (linktype) {
    case 100:
        return DLT_ATM_RFC1483;
    case 101:
        return DLT_RAW;
    case 102:
        return DLT_SLIP_BSDOS;
    case 103:
        return DLT_PPP_BSDOS;
    default:
        return linktype <= INT32_MAX ? (int)linktype : -1;
    }
}

const char *sift_linktype_name(uint32_t linktype)
{
    int dlt = sift_linktype_to_dlt(linktype);
    return dlt >= 0 ? pcap_datalink_val_to_name(dlt) : NULL;
}

const char *sift_linktype_description(uint32_t linktype)
{
    int dlt = sift_linktype_to_dlt(linktype);
    return dlt >= 0 ? pcap_datalink_val_to_description(dlt) : NULL;
}

char *sift_format_ts(char *buf, size_t size, int64_t ts_ns, int digits)
{
    if (digits < 0)
        digits = 0;
    if (digits > 9)
        digits = 9;
    int64_t sec = ts_ns / 1000000000;
    int64_t ns = ts_ns % 1000000000;
    if (ns < 0) {
        ns += 1000000000;
        sec -= 1;
    }
    if (ts_ns < 0 && ts_ns > INT64_MIN) { /* "-0.5", not "-1.5" */
        buf[0] = '-';
        if (size > 1)
            sift_format_ts(buf + 1, size - 1, -ts_ns, digits);
        return buf;
    }
    int64_t frac = ns;
    for (int i = digits; i < 9; i++)
        frac /= 10;
    if (sec >= 0 && size >= 32) { /* by hand: printf was most of printing a flow */
        char t[20], *p = buf;
        int n = 0;
        do {
            t[n++] = (char)('0' + sec % 10);
            sec /= 10;
        } while (sec);
        while (n)
            *p++ = t[--n];
        if (digits) {
            *p++ = '.';
            for (int i = digits - 1; i >= 0; i--, frac /= 10)
                p[i] = (char)('0' + frac % 10);
            p += digits;
        }
        *p = '\0';
        return buf;
    }
    if (digits == 0)
        snprintf(buf, size, "%" PRId64, sec);
    else
        snprintf(buf, size, "%" PRId64 ".%0*" PRId64, sec, digits, frac);
    return buf;
}

/* Digits of v (0 <= v), n of them, zero-padded, at p. */
static char *put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

char *sift_format_iso(char *buf, size_t size, int64_t ts_ns, int digits, int utc_offset_s)
{
    if (size < SIFT_ISO_MAX) {
        if (size)
            buf[0] = '\0';
        return buf;
    }
    digits = digits < 0 ? 0 : digits > 9 ? 9 : digits;
    if (utc_offset_s < -86399 || utc_offset_s > 86399)
        utc_offset_s = 0;
    int64_t sec = ts_ns / 1000000000, ns = ts_ns % 1000000000;
    if (ns < 0) {
        ns += 1000000000;
        sec--;
    }
    sec += utc_offset_s;
    int64_t days = sec / 86400, tod = sec % 86400;
    if (tod < 0) {
        tod += 86400;
        days--;
    }
    /* the proleptic Gregorian date of a day count from 1970-01-01, by 400-year eras */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    char *p = put_digits(buf, year, 4);
    *p++ = '-';
    p = put_digits(p, month, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = 'T';
    p = put_digits(p, tod / 3600, 2);
    *p++ = ':';
    p = put_digits(p, tod / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, tod % 60, 2);
    if (digits) {
        for (int i = digits; i < 9; i++)
            ns /= 10;
        *p++ = '.';
        p = put_digits(p, ns, digits);
    }
    if (utc_offset_s == 0) {
        *p++ = 'Z';
    } else {
        int off = utc_offset_s < 0 ? -utc_offset_s : utc_offset_s;
        *p++ = utc_offset_s < 0 ? '-' : '+';
        p = put_digits(p, off / 3600, 2);
        *p++ = ':';
        p = put_digits(p, off / 60 % 60, 2);
    }
    *p = '\0';
    return buf;
}
