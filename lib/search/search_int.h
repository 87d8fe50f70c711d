/* Internals of the search module. Not installed. */
#ifndef SIFT_SEARCH_INT_H
#define SIFT_SEARCH_INT_H

#include "common/internal.h"

#include <capsift/search.h>

#include <hs/hs.h>

struct sift_patterns {
    sift_pattern_t *v;
    size_t n, cap;
    bool any_regex;
};

struct sift_matcher {
    const sift_patterns_t *ps;
    hs_database_t *db;
    bool stream;
    uint32_t *lit_len; /* per pattern: a literal's length (its match starts there), 0 a regex */
};

struct sift_scanner {
    const sift_matcher_t *m;
    hs_scratch_t *scratch;
};

struct sift_stream {
    const sift_matcher_t *m;
    hs_stream_t *hs;
};

/* Hyperscan's flags for a pattern (srch_patterns.c). */
unsigned sift__pattern_flags(const sift_pattern_t *p);

#endif
