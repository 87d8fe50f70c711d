/* Text helpers: UTF-8 (RFC 3629), where text from the wire is shown as it was sent, numbers
 * written in decimal without stdio, calendar days, and the host of an HTTP Host value. */
#include "common/internal.h"

#include <string.h>

size_t sift_utf8_seq(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    const uint8_t c = p[0];
    const size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (len == 0 || len > n || c >= 0xf5 || c == 0xc0 || c == 0xc1)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) /* also stops at a terminating NUL */
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90))
        return 0; /* overlong, a surrogate, past U+10FFFF */
    return len;
}

size_t sift__dec_u32(char buf[SIFT_DEC_U32_MAX], uint32_t v)
{
    char d[SIFT_DEC_U32_MAX];
    size_t n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = d[n - 1 - i];
    return n;
}

int64_t sift__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

size_t sift__http_host(const char *s, size_t n, const char **host)
{
    *host = s;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return 0;
        *host = s + 1;
        return (size_t)(close - s - 1);
    }
    const char *colon = memchr(s, ':', n);
    if (colon && !memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)))
        return (size_t)(colon - s);
    return n;
}

size_t sift__domain_key(const char *s, bool http, char *buf, size_t size)
{
    size_t n = 0;
    for (; s[n] && n + 1 < size; n++)
        buf[n] = s[n] >= 'A' && s[n] <= 'Z' ? (char)(s[n] + 32) : s[n];
    buf[n] = 0;
    const char *name = buf;
    if (http)
        n = sift__http_host(buf, n, &name);
    if (n && name[n - 1] == '.')
        n--;
    memmove(buf, name, n);
    memset(buf + n, 0, size - n);
    return n;
}
