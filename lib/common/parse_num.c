/* Checked number parsers (see capsift/parse.h): one decimal reader, three unit tables. */
#include "common/internal.h"

#include <capsift/parse.h>

#include <stdbool.h>
#include <string.h>

typedef struct unit {
    const char *name;
    uint64_t mul;
} unit_t;

static const unit_t count_units[] = {{"", 1},        {"k", 1000},       {"K", 1000},
                                     {"M", 1000000}, {"G", 1000000000}, {NULL, 0}};

static const unit_t size_units[] = {{"", 1},
                                    {"B", 1},
                                    {"k", 1000},
                                    {"K", 1000},
                                    {"kB", 1000},
                                    {"KB", 1000},
                                    {"M", 1000000},
                                    {"MB", 1000000},
                                    {"G", 1000000000},
                                    {"GB", 1000000000},
                                    {"T", 1000000000000ull},
                                    {"TB", 1000000000000ull},
                                    {"Ki", 1ull << 10},
                                    {"KiB", 1ull << 10},
                                    {"Mi", 1ull << 20},
                                    {"MiB", 1ull << 20},
                                    {"Gi", 1ull << 30},
                                    {"GiB", 1ull << 30},
                                    {"Ti", 1ull << 40},
                                    {"TiB", 1ull << 40},
                                    {NULL, 0}};

static const unit_t duration_units[] = {{"", 1000000000},
                                        {"s", 1000000000},
                                        {"ns", 1},
                                        {"us", 1000},
                                        {"ms", 1000000},
                                        {"m", 60000000000ull},
                                        {"min", 60000000000ull},
                                        {"h", 3600000000000ull},
                                        {"d", 86400000000000ull},
                                        {NULL, 0}};

/* Reads DIGITS[.DIGITS]UNIT. *over is set when the value does not fit 64 bits. */
static int parse_decimal(const char *s, const unit_t *units, bool fraction_ok, uint64_t *out,
                         bool *over)
{
    const char *p = s;
    uint64_t ip = 0;
    *over = false;
    if (*p < '0' || *p > '9')
        return SIFT_EPARSE;
    for (; *p >= '0' && *p <= '9'; p++)
        if (__builtin_mul_overflow(ip, 10, &ip) || __builtin_add_overflow(ip, *p - '0', &ip))
            *over = true;
    /* the fraction, kept to 19 digits: enough below any unit's nanosecond or byte */
    uint64_t fnum = 0, fden = 1;
    if (*p == '.') {
        if (!fraction_ok || p[1] < '0' || p[1] > '9')
            return SIFT_EPARSE;
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (fden < 1000000000000000000ull) {
                fnum = fnum * 10 + (uint64_t)(*p - '0');
                fden *= 10;
            }
    }
    const unit_t *u = units;
    while (u->name && strcmp(u->name, p) != 0)
        u++;
    if (!u->name)
        return SIFT_EPARSE;
    uint64_t v;
    if (__builtin_mul_overflow(ip, u->mul, &v))
        *over = true;
    /* fnum / fden * mul without overflow: fnum < fden <= 10^18, mul < 2^47 */
    unsigned __int128 f = (unsigned __int128)fnum * u->mul / fden;
    if (__builtin_add_overflow(v, (uint64_t)f, &v))
        *over = true;
    *out = v;
    return 0;
}

static int parse_in(const char *s, const unit_t *units, bool fraction_ok, uint64_t min,
                    uint64_t max, uint64_t *out)
{
    uint64_t v;
    bool over;
    if (!s)
        return SIFT_EPARSE;
    int rc = parse_decimal(s, units, fraction_ok, &v, &over);
    if (rc < 0)
        return rc;
    if (over || v < min || v > max)
        return SIFT_ELIMIT;
    *out = v;
    return 0;
}

int sift_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    return parse_in(s, count_units, false, min, max, out);
}

int sift_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    return parse_in(s, size_units, true, min, max, out);
}

int sift_parse_duration(const char *s, int64_t min_ns, int64_t max_ns, int64_t *out)
{
    if (min_ns < 0 || max_ns < min_ns)
        return SIFT_EINVAL;
    uint64_t v;
    int rc = parse_in(s, duration_units, true, (uint64_t)min_ns, (uint64_t)max_ns, &v);
    if (rc == 0)
        *out = (int64_t)v;
    return rc;
}
