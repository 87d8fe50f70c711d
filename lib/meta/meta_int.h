/* Internal helpers of lib/meta, shared by its parsers. Not installed. */
#ifndef SIFT_META_INT_H
#define SIFT_META_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies n bytes into out (size bytes with its NUL), bytes outside printable ASCII as \xHH,
 * upper case letters made lower when lower is set; returns false when they did not all fit
 * (out holds what did). */
bool sift__meta_text(char *out, size_t size, const uint8_t *b, size_t n, bool lower);

/* Appends the decimal v to the '\0'-terminated s of size bytes, after sep when s is not
 * empty; returns false when it did not fit (s unchanged). */
bool sift__meta_append_u(char *s, size_t size, const char *sep, unsigned v);

#endif
