/* Text helpers of the metadata parsers: values from payload bytes made printable, numbers
 * joined into fingerprint strings. */
#include "common/internal.h"
#include "meta/meta_int.h"

#include <string.h>

bool sift__meta_text(char *out, size_t size, const uint8_t *b, size_t n, bool lower)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = b[i];
        if (lower && c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        const bool plain = c >= 0x20 && c < 0x7f;
        if (k + (plain ? 1 : 4) >= size) {
            out[k] = '\0';
            return false;
        }
        if (plain) {
            out[k++] = (char)c;
        } else { /* \xHH */
            out[k++] = '\\';
            out[k++] = 'x';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        }
    }
    out[k] = '\0';
    return true;
}

bool sift__meta_append_u(char *s, size_t size, const char *sep, unsigned v)
{
    size_t k = strlen(s), ls = k ? strlen(sep) : 0;
    char d[SIFT_DEC_U32_MAX];
    const size_t n = sift__dec_u32(d, v);
    if (k + ls + n >= size)
        return false;
    memcpy(s + k, sep, ls);
    memcpy(s + k + ls, d, n);
    s[k + ls + n] = '\0';
    return true;
}
