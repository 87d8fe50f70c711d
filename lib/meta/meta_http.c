/* HTTP/1.x message heads: RFC 9112 (message syntax: start line, field lines, CRLF ending the
 * head), RFC 9110 (methods, status codes, Host, User-Agent, Referer, Content-Type,
 * Content-Length, Transfer-Encoding).
 *
 *  request:  method SP request-target SP HTTP/1.x CRLF
 *  response: HTTP/1.x SP 3DIGIT SP [reason] CRLF
 *  then      *( field-name ":" OWS field-value OWS CRLF ) CRLF
 *
 * A bare LF ends a line too (RFC 9112 2.2 lets a recipient accept it). Field names are matched
 * without regard to case; the first of a repeated field is kept.
 */
#include "common/cursor.h"
#include "common/internal.h"
#include "meta/meta_int.h"

#include <capsift/meta.h>

#include <string.h>

/* The next line of c (without its CR LF or LF) into *line and *len; false when no line end
 * is left in c (the head goes on past these bytes). */
static bool next_line(sift_cursor_t *c, const uint8_t **line, size_t *len)
{
    const uint8_t *lf = memchr(c->p, '\n', sift_cur_left(c));
    if (!lf)
        return false;
    *line = c->p;
    *len = (size_t)(lf - c->p);
    if (*len > 0 && lf[-1] == '\r')
        (*len)--;
    c->p = lf + 1;
    return true;
}

static bool is_tchar(uint8_t b)
{
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
           (b && strchr("!#$%&'*+-.^_`|~", b));
}

/* "HTTP/1.0" or "HTTP/1.1" (any single digits), the version as "1.1" into v. */
static bool http_version(const uint8_t *p, size_t n, char v[4])
{
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9')
        return false;
    v[0] = (char)p[5];
    v[1] = '.';
    v[2] = (char)p[7];
    v[3] = '\0';
    return true;
}

static bool start_line(const uint8_t *l, size_t n, sift_http_head_t *out)
{
    if (n >= 12 && memcmp(l, "HTTP/", 5) == 0) { /* a status line */
        if (!http_version(l, 8, out->version) || l[8] != ' ')
            return false;
        unsigned code = 0;
        for (size_t i = 9; i < 12; i++) {
            if (l[i] < '0' || l[i] > '9')
                return false;
            code = code * 10 + (unsigned)(l[i] - '0');
        }
        if (n > 12 && l[12] != ' ')
            return false;
        out->response = true;
        out->status = (uint16_t)code;
        if (n > 13 && !sift__meta_text(out->reason, sizeof out->reason, l + 13, n - 13, false))
            out->cut = true;
        return true;
    }
    size_t m = 0;
    while (m < n && m < sizeof out->method - 1 && is_tchar(l[m]))
        m++;
    if (m == 0 || m >= n || l[m] != ' ' || n < m + 1 + 9)
        return false;
    const uint8_t *ver = l + n - 8;
    if (ver[-1] != ' ' || !http_version(ver, 8, out->version))
        return false;
    size_t ulen = (size_t)(ver - 1 - (l + m + 1));
    if (ulen == 0)
        return false;
    memcpy(out->method, l, m);
    out->method[m] = '\0';
    if (!sift__meta_text(out->uri, sizeof out->uri, l + m + 1, ulen, false))
        out->cut = true;
    return true;
}

static bool name_is(const uint8_t *name, size_t n, const char *want)
{
    if (strlen(want) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = name[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a - 'A' + 'a');
        if (a != (uint8_t)want[i])
            return false;
    }
    return true;
}

/* A field value into one of the head's strings, the first occurrence only. */
static void keep(sift_http_head_t *out, char *dst, size_t size, const uint8_t *v, size_t n)
{
    if (dst[0] != '\0' || n == 0)
        return;
    if (!sift__meta_text(dst, size, v, n, false))
        out->cut = true;
}

static void field_line(const uint8_t *l, size_t n, sift_http_head_t *out)
{
    const uint8_t *colon = memchr(l, ':', n);
    if (!colon || colon == l)
        return;
    size_t nlen = (size_t)(colon - l);
    const uint8_t *v = colon + 1, *end = l + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vlen = (size_t)(end - v);
    if (name_is(l, nlen, "host")) {
        keep(out, out->host, sizeof out->host, v, vlen);
    } else if (name_is(l, nlen, "user-agent")) {
        keep(out, out->user_agent, sizeof out->user_agent, v, vlen);
    } else if (name_is(l, nlen, "referer")) {
        keep(out, out->referer, sizeof out->referer, v, vlen);
    } else if (name_is(l, nlen, "content-type")) {
        keep(out, out->content_type, sizeof out->content_type, v, vlen);
    } else if (name_is(l, nlen, "content-length") && !out->has_length) {
        uint64_t x = 0;
        size_t i = 0;
        while (i < vlen && v[i] >= '0' && v[i] <= '9' && x < UINT64_MAX / 10 - 9)
            x = x * 10 + (uint64_t)(v[i++] - '0');
        if (i == vlen && i > 0) {
            out->content_length = x;
            out->has_length = true;
        }
    } else if (name_is(l, nlen, "transfer-encoding")) {
        for (size_t i = 0; i + 7 <= vlen; i++)
            if (name_is(v + i, 7, "chunked"))
                out->chunked = true;
    }
}

int sift_http_parse(const uint8_t *p, size_t len, sift_http_head_t *out)
{
    if (!p || len < 14)
        return SIFT_EINVAL;
    /* most segments are not HTTP: a method token and a space, or "HTTP/", before any work */
    size_t m = 0;
    while (m < len && m < sizeof out->method && is_tchar(p[m]))
        m++;
    if (m == 0 || m >= len || (p[m] != ' ' && memcmp(p, "HTTP/", 5) != 0))
        return SIFT_EINVAL;
    memset(out, 0, sizeof *out);
    sift_cursor_t c = sift_cur_make(p, len);
    const uint8_t *l;
    size_t n;
    if (!next_line(&c, &l, &n) || !start_line(l, n, out))
        return SIFT_EINVAL;
    while (next_line(&c, &l, &n)) {
        if (n == 0) {
            out->complete = true;
            out->head_len = (size_t)(c.p - p);
            return 0;
        }
        field_line(l, n, out);
    }
    return 0;
}
