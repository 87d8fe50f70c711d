/* Fuzz target: the parsers of the numbers users type (counts, sizes, durations, times). The
 * first byte picks the range; a value accepted must lie in it, and a refused one must leave
 * the output untouched. */
#include <capsift/parse.h>
#include <capsift/query.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint64_t bounds[][2] = {{0, UINT64_MAX}, {1, 1024}, {1, UINT32_MAX}, {1000, 1000}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint64_t *b = bounds[data[0] % (sizeof bounds / sizeof *bounds)];
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    uint64_t v = 0x5a5a;
    int rc = sift_parse_count(s, b[0], b[1], &v);
    if ((rc == 0 && (v < b[0] || v > b[1])) || (rc != 0 && v != 0x5a5a))
        abort();
    v = 0x5a5a;
    rc = sift_parse_size(s, b[0], b[1], &v);
    if ((rc == 0 && (v < b[0] || v > b[1])) || (rc != 0 && v != 0x5a5a))
        abort();
    int64_t lo = (int64_t)(b[0] > INT64_MAX ? INT64_MAX : b[0]);
    int64_t hi = (int64_t)(b[1] > INT64_MAX ? INT64_MAX : b[1]);
    int64_t d = -7;
    rc = sift_parse_duration(s, lo, hi, &d);
    if ((rc == 0 && (d < lo || d > hi)) || (rc != 0 && d != -7))
        abort();
    int64_t t;
    (void)sift_parse_time(s, &t);
    free(s);
    return 0;
}
