/* Byte sources: plain reads through large buffers, gzip (RFC 1952, possibly several members)
 * and zstd (RFC 8878, possibly several frames), decompressed in a bounded window. */
#include "io/source.h"
#include "common/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define SRC_IN_SIZE (256u * 1024u)

struct sift_source {
    int fd; /* -1 for memory */
    bool own_fd;
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    sift_compression_t comp;
    uint8_t *in; /* raw input: peeked bytes, and compressed input */
    size_t in_pos, in_len;
    bool raw_eof;
    uint64_t raw_pos, size;
    z_stream z;
    bool z_live, z_end; /* z_end: a gzip member just ended */
    ZSTD_DStream *zs;
    int err; /* an error met after some bytes were produced: returned by the next read */
    char errmsg[SIFT_ERRBUF_SIZE];
};

/* Reads raw bytes: what is buffered in src->in first, then from the fd or memory. */
static long raw_read(sift_source_t *src, uint8_t *dst, size_t cap, char *errbuf)
{
    if (src->in_pos < src->in_len) {
        size_t n = src->in_len - src->in_pos;
        if (n > cap)
            n = cap;
        memcpy(dst, src->in + src->in_pos, n);
        src->in_pos += n;
        return (long)n;
    }
    if (src->fd < 0) {
        size_t n = src->mem_len - src->mem_pos;
        if (n > cap)
            n = cap;
        memcpy(dst, src->mem + src->mem_pos, n);
        src->mem_pos += n;
        src->raw_pos += n;
        return (long)n;
    }
    for (;;) {
        ssize_t n = read(src->fd, dst, cap);
        if (n >= 0) {
            src->raw_pos += (uint64_t)n;
            return (long)n;
        }
        if (errno != EINTR)
            return sift__errorf(errbuf, SIFT_EIO, "read failed: %s", strerror(errno));
    }
}

/* Refills src->in with compressed input; returns bytes available, 0 at the end. */
static long fill_in(sift_source_t *src, char *errbuf)
{
    if (src->in_pos < src->in_len)
        return (long)(src->in_len - src->in_pos);
    if (src->fd < 0) { /* memory: point at it instead of copying */
        size_t n = src->mem_len - src->mem_pos;
        return (long)n;
    }
    src->in_pos = src->in_len = 0;
    long n = raw_read(src, src->in, SRC_IN_SIZE, errbuf);
    if (n > 0)
        src->in_len = (size_t)n;
    return n;
}

/* The compressed bytes available now, as a pointer and length. */
static const uint8_t *in_span(const sift_source_t *src, size_t *len)
{
    if (src->fd < 0 && src->in_pos >= src->in_len) {
        *len = src->mem_len - src->mem_pos;
        return src->mem + src->mem_pos;
    }
    *len = src->in_len - src->in_pos;
    return src->in + src->in_pos;
}

static void in_consume(sift_source_t *src, size_t n)
{
    if (src->fd < 0 && src->in_pos >= src->in_len) {
        src->mem_pos += n;
        src->raw_pos += n;
    } else {
        src->in_pos += n;
    }
}

static long gzip_read(sift_source_t *src, uint8_t *dst, size_t cap, size_t *producedp, char *errbuf)
{
    size_t produced = 0;
    while (produced < cap) {
        *producedp = produced;
        long avail = fill_in(src, errbuf);
        if (avail < 0)
            return avail;
        if (avail == 0) {
            if (!src->z_end)
                return sift__errorf(errbuf, SIFT_ETRUNC,
                                    "gzip stream ends early (file cut short?)");
            break;
        }
        size_t len;
        const uint8_t *p = in_span(src, &len);
        if (src->z_end) { /* another gzip member follows; trailing zero padding ends it */
            if (p[0] == 0) {
                in_consume(src, len);
                continue;
            }
            if (inflateReset(&src->z) != Z_OK)
                return sift__errorf(errbuf, SIFT_ECORRUPT, "gzip: cannot restart stream");
            src->z_end = false;
        }
        src->z.next_in = (Bytef *)(uintptr_t)p;
        src->z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
        src->z.next_out = dst + produced;
        src->z.avail_out = (uInt)(cap - produced);
        int zr = inflate(&src->z, Z_NO_FLUSH);
        size_t used = (size_t)(src->z.next_in - p);
        in_consume(src, used);
        produced = (size_t)(src->z.next_out - dst);
        *producedp = produced;
        if (zr == Z_STREAM_END) {
            src->z_end = true;
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            return sift__errorf(errbuf, SIFT_ECORRUPT, "gzip data is damaged: %s",
                                src->z.msg ? src->z.msg : "inflate failed");
        } else if (used == 0 && produced < cap && zr == Z_BUF_ERROR) {
            return sift__errorf(errbuf, SIFT_ECORRUPT, "gzip data is damaged");
        }
    }
    return (long)produced;
}

static long zstd_read(sift_source_t *src, uint8_t *dst, size_t cap, size_t *producedp, char *errbuf)
{
    ZSTD_outBuffer out = {dst, cap, 0};
    while (out.pos < out.size) {
        *producedp = out.pos;
        long avail = fill_in(src, errbuf);
        if (avail < 0)
            return avail;
        if (avail == 0) {
            if (!src->z_end)
                return sift__errorf(errbuf, SIFT_ETRUNC,
                                    "zstd stream ends early (file cut short?)");
            break;
        }
        size_t len;
        const uint8_t *p = in_span(src, &len);
        ZSTD_inBuffer in = {p, len, 0};
        size_t r = ZSTD_decompressStream(src->zs, &out, &in);
        in_consume(src, in.pos);
        *producedp = out.pos;
        if (ZSTD_isError(r))
            return sift__errorf(errbuf, SIFT_ECORRUPT, "zstd data is damaged: %s",
                                ZSTD_getErrorName(r));
        src->z_end = (r == 0); /* a frame is complete */
    }
    return (long)out.pos;
}

long sift__source_read(sift_source_t *src, uint8_t *dst, size_t cap, char *errbuf)
{
    if (src->err) {
        if (errbuf)
            memcpy(errbuf, src->errmsg, sizeof src->errmsg);
        return src->err;
    }
    size_t produced = 0;
    long rc;
    switch (src->comp) {
    case SIFT_COMPRESSION_GZIP:
        rc = gzip_read(src, dst, cap, &produced, src->errmsg);
        break;
    case SIFT_COMPRESSION_ZSTD:
        rc = zstd_read(src, dst, cap, &produced, src->errmsg);
        break;
    default:
        rc = raw_read(src, dst, cap, src->errmsg);
        break;
    }
    if (rc < 0) {
        src->err = (int)rc;
        if (produced > 0) /* hand out what was decoded; the error comes next time */
            return (long)produced;
        if (errbuf)
            memcpy(errbuf, src->errmsg, sizeof src->errmsg);
    }
    return rc;
}

/* Peeks at the first bytes to choose the decompressor. */
static int detect(sift_source_t *src, char *errbuf)
{
    uint8_t m[4] = {0};
    size_t have = 0;
    if (src->fd < 0) {
        have = src->mem_len < 4 ? src->mem_len : 4;
        memcpy(m, src->mem, have);
    } else {
        while (have < 4) {
            long n = raw_read(src, src->in + have, 4 - have, errbuf);
            if (n < 0)
                return (int)n;
            if (n == 0)
                break;
            have += (size_t)n;
        }
        src->in_pos = 0;
        src->in_len = have;
        memcpy(m, src->in, have);
    }
    if (have >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        src->comp = SIFT_COMPRESSION_GZIP;
        if (inflateInit2(&src->z, 15 + 16) != Z_OK)
            return sift__errorf(errbuf, SIFT_ENOMEM, "cannot start gzip decompression");
        src->z_live = true;
    } else if (have == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        src->comp = SIFT_COMPRESSION_ZSTD;
        src->zs = ZSTD_createDStream();
        if (!src->zs || ZSTD_isError(ZSTD_initDStream(src->zs)))
            return sift__errorf(errbuf, SIFT_ENOMEM, "cannot start zstd decompression");
    }
    return 0;
}

static int source_new(sift_source_t **out, char *errbuf)
{
    sift_source_t *src = calloc(1, sizeof *src);
    if (!src)
        return sift__errorf(errbuf, SIFT_ENOMEM, "out of memory");
    src->in = malloc(SRC_IN_SIZE);
    if (!src->in) {
        free(src);
        return sift__errorf(errbuf, SIFT_ENOMEM, "out of memory");
    }
    src->fd = -1;
    *out = src;
    return 0;
}

int sift__source_open_fd(sift_source_t **out, int fd, bool own_fd, char *errbuf)
{
    *out = NULL;
    sift_source_t *src = NULL;
    int rc = source_new(&src, errbuf);
    if (rc < 0) {
        if (own_fd)
            close(fd);
        return rc;
    }
    src->fd = fd;
    src->own_fd = own_fd;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        src->size = (uint64_t)st.st_size;
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    rc = detect(src, errbuf);
    if (rc < 0) {
        sift__source_close(src);
        return rc;
    }
    *out = src;
    return 0;
}

int sift__source_open_memory(sift_source_t **out, const uint8_t *data, size_t len, char *errbuf)
{
    *out = NULL;
    sift_source_t *src = NULL;
    int rc = source_new(&src, errbuf);
    if (rc < 0)
        return rc;
    src->mem = data;
    src->mem_len = len;
    src->size = len;
    rc = detect(src, errbuf);
    if (rc < 0) {
        sift__source_close(src);
        return rc;
    }
    *out = src;
    return 0;
}

void sift__source_close(sift_source_t *src)
{
    if (!src)
        return;
    if (src->z_live)
        inflateEnd(&src->z);
    ZSTD_freeDStream(src->zs);
    if (src->own_fd && src->fd >= 0)
        close(src->fd);
    free(src->in);
    free(src);
}

sift_compression_t sift__source_compression(const sift_source_t *src)
{
    return src->comp;
}

bool sift__source_memory(const sift_source_t *src, const uint8_t **data, size_t *len)
{
    if (src->fd >= 0 || src->comp != SIFT_COMPRESSION_NONE)
        return false;
    *data = src->mem;
    *len = src->mem_len;
    return true;
}

int sift__source_seek(sift_source_t *src, uint64_t off, char *errbuf)
{
    if (src->comp != SIFT_COMPRESSION_NONE)
        return sift__errorf(errbuf, SIFT_EUNSUPPORTED, "cannot seek in a compressed stream");
    src->in_pos = src->in_len = 0;
    if (src->fd < 0) {
        src->mem_pos = off < src->mem_len ? (size_t)off : src->mem_len;
        src->raw_pos = src->mem_pos;
        return 0;
    }
    if (lseek(src->fd, (off_t)off, SEEK_SET) < 0)
        return sift__errorf(errbuf, SIFT_EIO, "cannot seek to byte %" PRIu64 ": %s", off,
                            strerror(errno));
    src->raw_pos = off;
    return 0;
}

uint64_t sift__source_size(const sift_source_t *src)
{
    return src->size;
}

uint64_t sift__source_raw_pos(const sift_source_t *src)
{
    return src->raw_pos;
}
