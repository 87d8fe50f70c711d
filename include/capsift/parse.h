/* capsift: checked parsers for the numbers a user types (option values, configuration).
 *
 * Each parser takes the whole string, with no sign, space or exponent, and the range the value
 * must fall in. Arithmetic is overflow-checked: a value beyond 64 bits, or one that rounds
 * outside [min, max] (1e-12 seconds is 0 ns), is out of range, never wrapped or clamped.
 *
 *   count     "250", "10k", "2M", "1G" (decimal multipliers)
 *   size      "4096", "500M", "1.5G", "64KiB", "2TB": k M G T are 1000^n, Ki Mi Gi Ti 1024^n,
 *             an optional trailing B
 *   duration  "30" (seconds), "1.5s", "500ms", "20us", "100ns", "2m" or "2min", "1h", "1d"
 *
 * All return 0, SIFT_EPARSE when s is not a value of that kind, or SIFT_ELIMIT when it is
 * outside [min, max]; *out is set only on success. Thread-safe; no allocation.
 */
#ifndef CAPSIFT_PARSE_H
#define CAPSIFT_PARSE_H

#include <capsift/common.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

SIFT_API int sift_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out);
SIFT_API int sift_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Nanoseconds. */
SIFT_API int sift_parse_duration(const char *s, int64_t min_ns, int64_t max_ns, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
