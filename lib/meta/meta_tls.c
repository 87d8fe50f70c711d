/* TLS ClientHello and ServerHello: RFC 8446 (4.1.2, 4.1.3 the hellos; 4.2.1 supported_versions;
 * 5.1 the record layer), RFC 5246 (TLS 1.2 and before), RFC 6066 (3: server_name), RFC 7301
 * (ALPN), RFC 8422 (supported_groups, ec_point_formats), RFC 8701 (GREASE values, left out of
 * the fingerprints), and the JA3/JA3S strings as Salesforce defined them:
 *
 *  record:    type(1)=22 version(2) length(2), then handshake bytes (one message may span
 *             several records)
 *  handshake: type(1) (1 ClientHello, 2 ServerHello) length(3) body
 *  ClientHello: legacy_version(2) random(32) session_id<0..32> cipher_suites<2..2^16-2>
 *               compression_methods<1..2^8-1> extensions<0..2^16-1>
 *  ServerHello: legacy_version(2) random(32) session_id<0..32> cipher_suite(2)
 *               compression_method(1) extensions<0..2^16-1>
 *  extension: type(2) length(2) data
 *
 *  JA3:  version,ciphers,extensions,groups,point_formats   (each list '-'-joined, decimal)
 *  JA3S: version,cipher,extensions
 */
#include "common/cursor.h"
#include "common/internal.h"
#include "meta/meta_int.h"

#include <capsift/meta.h>

#include <stdio.h>
#include <string.h>

#define HS_MAX 16384 /* handshake bytes gathered from the records of one segment */

static bool grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

typedef struct lists {
    char ciphers[SIFT_TLS_JA3_MAX], exts[SIFT_TLS_JA3_MAX], groups[SIFT_TLS_JA3_MAX], formats[64];
    bool cut;
} lists_t;

static void add(lists_t *l, char *s, size_t size, uint16_t v)
{
    if (!grease(v) && !sift__meta_append_u(s, size, "-", v))
        l->cut = true;
}

static void server_name(sift_cursor_t d, sift_tls_hello_t *out)
{
    sift_cursor_t list = sift_cur_make(d.p, sift_cur_left(&d));
    uint16_t n = sift_cur_be16(&list);
    const uint8_t *b = sift_cur_take(&list, n);
    if (!b)
        return;
    list = sift_cur_make(b, n);
    while (sift_cur_left(&list) >= 3) {
        uint8_t type = sift_cur_u8(&list);
        uint16_t len = sift_cur_be16(&list);
        const uint8_t *name = sift_cur_take(&list, len);
        if (!name)
            return;
        if (type == 0 && out->sni[0] == '\0') /* host_name */
            if (!sift__meta_text(out->sni, sizeof out->sni, name, len, true))
                out->cut = true;
    }
}

static void alpn(sift_cursor_t d, sift_tls_hello_t *out)
{
    uint16_t n = sift_cur_be16(&d);
    const uint8_t *b = sift_cur_take(&d, n);
    if (!b)
        return;
    sift_cursor_t list = sift_cur_make(b, n);
    while (sift_cur_left(&list) > 0) {
        uint8_t len = sift_cur_u8(&list);
        const uint8_t *p = sift_cur_take(&list, len);
        if (!p)
            return;
        if (out->nalpn == SIFT_TLS_ALPN_MAX) {
            out->cut = true;
            return;
        }
        if (!sift__meta_text(out->alpn[out->nalpn++], sizeof out->alpn[0], p, len, false))
            out->cut = true;
    }
}

static void extensions(sift_cursor_t *c, sift_tls_hello_t *out, lists_t *l)
{
    if (sift_cur_left(c) == 0)
        return; /* before TLS 1.2 a hello may end without extensions */
    uint16_t total = sift_cur_be16(c);
    const uint8_t *b = sift_cur_take(c, total);
    if (!b) {
        out->complete = false;
        return;
    }
    sift_cursor_t e = sift_cur_make(b, total);
    while (sift_cur_left(&e) >= 4) {
        uint16_t type = sift_cur_be16(&e), len = sift_cur_be16(&e);
        const uint8_t *p = sift_cur_take(&e, len);
        if (!p) {
            out->complete = false;
            return;
        }
        add(l, l->exts, sizeof l->exts, type);
        sift_cursor_t d = sift_cur_make(p, len);
        if (type == 0 && out->type == 1) {
            server_name(d, out);
        } else if (type == 16) {
            alpn(d, out);
        } else if (type == 43 && out->type == 2) {
            out->supported = sift_cur_be16(&d);
        } else if (type == 43) {
            uint8_t n = sift_cur_u8(&d);
            for (unsigned i = 0; i + 1 < n && sift_cur_left(&d) >= 2; i += 2) {
                uint16_t v = sift_cur_be16(&d);
                if (!grease(v) && v > out->supported)
                    out->supported = v;
            }
        } else if (type == 10) {
            uint16_t n = sift_cur_be16(&d);
            for (unsigned i = 0; i + 1 < n && sift_cur_left(&d) >= 2; i += 2)
                add(l, l->groups, sizeof l->groups, sift_cur_be16(&d));
        } else if (type == 11) {
            uint8_t n = sift_cur_u8(&d);
            for (unsigned i = 0; i < n && sift_cur_left(&d) >= 1; i++)
                add(l, l->formats, sizeof l->formats, sift_cur_u8(&d));
        }
    }
    if (sift_cur_left(&e) != 0)
        out->complete = false;
}

/* The handshake bytes of the TLS handshake records at the start of p, gathered into hs (at most
 * HS_MAX), and how they end. */
typedef struct gathered {
    size_t n;     /* handshake bytes in hs */
    size_t used;  /* bytes of p read */
    bool records; /* p began with a handshake record */
    bool ended;   /* no more handshake bytes follow: a record of another type, or hs is full */
    bool bad;     /* a record length no TLS record has */
} gathered_t;

static gathered_t gather(const uint8_t *p, size_t len, uint8_t *hs)
{
    gathered_t g = {0};
    sift_cursor_t c = sift_cur_make(p, len);
    while (sift_cur_left(&c) >= 5) {
        if (c.p[0] != 22 || c.p[1] != 3 || c.p[2] > 4) {
            g.ended = true;
            break;
        }
        const uint16_t rlen = sift_load_be16(c.p + 3);
        g.records = true;
        if (rlen == 0 || rlen > 18432) {
            g.bad = true;
            break;
        }
        sift_cur_skip(&c, 5);
        const size_t take = rlen < sift_cur_left(&c) ? rlen : sift_cur_left(&c);
        const size_t keep = take < HS_MAX - g.n ? take : HS_MAX - g.n;
        memcpy(hs + g.n, c.p, keep);
        g.n += keep;
        sift_cur_skip(&c, take);
        g.ended = g.n == HS_MAX;
        if (take < rlen || g.ended)
            break;
    }
    g.used = (size_t)(c.p - p);
    return g;
}

/* Steps over short alert or ChangeCipherSpec records before a hello (a warning sent first). */
static void skip_alerts(const uint8_t **p, size_t *len)
{
    while (*p && *len >= 5 && ((*p)[0] == 20 || (*p)[0] == 21) && (*p)[1] == 3 &&
           sift_load_be16(*p + 3) <= 32 && 5u + sift_load_be16(*p + 3) < *len) {
        const size_t r = 5u + sift_load_be16(*p + 3);
        *p += r;
        *len -= r;
    }
}

int sift_tls_parse_hello(const uint8_t *p, size_t len, sift_tls_hello_t *out)
{
    memset(out, 0, sizeof *out);
    skip_alerts(&p, &len);
    if (!p || len < 9 || p[0] != 22 || p[1] != 3 || p[2] > 4)
        return SIFT_EINVAL;
    /* a hello inside its first record, as nearly always, is read where it lies; one spanning
     * records is gathered first */
    const uint8_t *hs = p + 5;
    size_t rlen = sift_load_be16(p + 3), n = len - 5 < rlen ? len - 5 : rlen;
    uint8_t buf[HS_MAX];
    if (rlen == 0 || rlen > 18432) {
        return SIFT_EINVAL;
    } else if (4 + ((size_t)hs[1] << 16 | sift_load_be16(hs + 2)) > rlen) {
        const gathered_t g = gather(p, len, buf);
        if (!g.records || (g.bad && g.n == 0))
            return SIFT_EINVAL;
        n = g.n;
        hs = buf;
    }
    out->record_version = sift_load_be16(p + 1);
    if (n < 4 || (hs[0] != 1 && hs[0] != 2))
        return SIFT_EINVAL;
    sift_cursor_t c = sift_cur_make(hs, n);
    out->type = sift_cur_u8(&c);
    uint32_t mlen = (uint32_t)sift_cur_u8(&c) << 16;
    mlen |= sift_cur_be16(&c);
    out->complete = mlen <= sift_cur_left(&c);
    if (out->complete)
        c.end = c.p + mlen;
    out->version = sift_cur_be16(&c);
    if (c.trunc || (out->version >> 8) != 3) {
        memset(out, 0, sizeof *out);
        return SIFT_EINVAL;
    }
    sift_cur_skip(&c, 32);
    uint8_t sid = sift_cur_u8(&c);
    sift_cur_skip(&c, sid);
    lists_t *l = &(lists_t){0};
    if (out->type == 1) {
        uint16_t nc = sift_cur_be16(&c);
        const uint8_t *cs = sift_cur_take(&c, nc);
        for (size_t i = 0; cs && i + 1 < nc; i += 2)
            add(l, l->ciphers, sizeof l->ciphers, sift_load_be16(cs + i));
        uint8_t ncomp = sift_cur_u8(&c);
        sift_cur_skip(&c, ncomp);
    } else {
        out->cipher = sift_cur_be16(&c);
        sift_cur_skip(&c, 1);
    }
    if (c.trunc) {
        out->complete = false;
        return 0;
    }
    extensions(&c, out, l);
    if (!out->complete || l->cut)
        return 0;
    int w = out->type == 1 ? snprintf(out->ja3, sizeof out->ja3, "%u,%s,%s,%s,%s", out->version,
                                      l->ciphers, l->exts, l->groups, l->formats)
                           : snprintf(out->ja3, sizeof out->ja3, "%u,%u,%s", out->version,
                                      out->cipher, l->exts);
    if (w < 0 || (size_t)w >= sizeof out->ja3)
        out->ja3[0] = '\0';
    return 0;
}

int sift_tls_server_cert(const uint8_t *p, size_t len, uint8_t *der, size_t size, size_t *der_len,
                         size_t *need)
{
    const uint8_t *const start = p;
    const size_t whole = len;
    *der_len = 0;
    if (need)
        *need = whole + 1; /* at least one more byte, whatever is missing */
    skip_alerts(&p, &len);
    uint8_t hs[HS_MAX];
    const gathered_t g = gather(p, len, hs);
    if (g.bad)
        return SIFT_EINVAL;
    const size_t n = g.n;
    const bool ended = g.ended;
    /* ServerHello, then Certificate: its first certificate is the server's own */
    size_t off = 0;
    while (off + 4 <= n) {
        const uint8_t type = hs[off];
        const size_t mlen = (size_t)hs[off + 1] << 16 | sift_load_be16(hs + off + 2);
        if (type == 11) {
            if (off + 10 > n)
                return ended ? SIFT_EINVAL : 0;
            const size_t clen = (size_t)hs[off + 7] << 16 | sift_load_be16(hs + off + 8);
            if (clen == 0 || clen > size || clen + 6 > mlen)
                return SIFT_EINVAL; /* none, or larger than the caller keeps */
            if (off + 10 + clen > n) {
                size_t rest = (size_t)(p - start) + g.used + (off + 10 + clen - n);
                if (need && rest > *need) /* the rest of the certificate, headers aside */
                    *need = rest;
                return ended ? SIFT_EINVAL : 0;
            }
            memcpy(der, hs + off + 10, clen);
            *der_len = clen;
            return 1;
        }
        if (type != 2) /* ServerKeyExchange, ServerHelloDone ...: no certificate was sent */
            return SIFT_EINVAL;
        off += 4 + mlen;
    }
    return ended ? SIFT_EINVAL : 0;
}
