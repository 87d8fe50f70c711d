/* Text helpers of the metadata parsers: values from payload bytes made printable, numbers
 * joined into fingerprint strings. */
#include "meta/meta_int.h"

#include <stdio.h>
#include <string.h>

bool sift__meta_text(char *out, size_t size, const uint8_t *b, size_t n, bool lower)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = b[i];
        if (lower && c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        char e[5] = {(char)c, 0};
        if (c < 0x20 || c >= 0x7f)
            snprintf(e, sizeof e, "\\x%02x", c);
        size_t l = strlen(e);
        if (k + l >= size) {
            out[k] = '\0';
            return false;
        }
        memcpy(out + k, e, l);
        k += l;
    }
    out[k] = '\0';
    return true;
}

bool sift__meta_append_u(char *s, size_t size, const char *sep, unsigned v)
{
    size_t k = strlen(s);
    int w = snprintf(s + k, size - k, "%s%u", k ? sep : "", v);
    if (w < 0 || (size_t)w >= size - k) {
        s[k] = '\0';
        return false;
    }
    return true;
}
