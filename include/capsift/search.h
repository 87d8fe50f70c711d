/* capsift: byte-pattern search with Hyperscan - pattern sets, compiled matchers (cached on
 * disk), and scanners over blocks or streams.
 *
 * A pattern is written as:
 *   - a literal: its bytes as typed, with Snort's hex bytes between bars ("GET |0d 0a|");
 *     "\|" and "\\" stand for a bar and a backslash;
 *   - a quoted literal, the same between double quotes, with "\"" for a quote; an `i` after
 *     the closing quote makes it case-insensitive ("host:"i);
 *   - a regular expression between slashes, PCRE syntax as Hyperscan accepts it, with flags
 *     after the closing slash: i (case-insensitive), s (dot matches newline), m (multi-line).
 * A pattern file holds one pattern per line; empty lines and lines whose first non-blank
 * character is '#' are skipped.
 *
 * A matcher compiles a set at once (literals alone take Hyperscan's literal compiler, mixed sets
 * become one database with the literals as escaped expressions). With a result cache, the
 * compiled database is stored serialised under a key made of the patterns, their flags, the
 * mode, Hyperscan's version and the platform it was built for; an entry that does not read back
 * as a database of that set is compiled again and replaced, never used.
 *
 *   sift_patterns_t *ps;  sift_patterns_create(&ps);
 *   sift_patterns_add(ps, ctx, "|de ad be ef|", false, "-e", 1);
 *   sift_matcher_t *m;    sift_matcher_compile(&m, ctx, ps, &(sift_matcher_opts_t){0}, NULL);
 *   sift_scanner_t *s;    sift_scanner_create(&s, m);
 *   sift_scan_block(s, data, len, on_match, user);
 *
 * Thread safety: a pattern set and a matcher are read-only once built and may be shared by any
 * number of threads; a scanner and a stream are used by one thread at a time.
 */
#ifndef CAPSIFT_SEARCH_H
#define CAPSIFT_SEARCH_H

#include <capsift/cache.h>
#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pattern sets ---- */

typedef struct sift_pattern {
    const char *text;     /* as given */
    const uint8_t *bytes; /* a literal's bytes, or the expression between the slashes */
    size_t len;
    bool regex;
    bool caseless;
    bool dotall, multiline; /* regex flags s and m */
    const char *source;     /* where it came from: a file name, "-e" */
    unsigned line;          /* its line in source (the n-th -e), from 1 */
} sift_pattern_t;

typedef struct sift_patterns sift_patterns_t;

SIFT_API int sift_patterns_create(sift_patterns_t **out);
SIFT_API void sift_patterns_free(sift_patterns_t *ps); /* NULL is fine */

/* Adds the pattern `text` (its syntax above); caseless makes a literal case-insensitive (as an
 * `i` suffix does). source and line name it in messages. A bad pattern fails with SIFT_EPARSE
 * and "SOURCE:LINE: TEXT: why" in the context (a regex as Hyperscan's compiler explains it);
 * SIFT_ENOMEM. */
SIFT_API int sift_patterns_add(sift_patterns_t *ps, sift_ctx_t *ctx, const char *text,
                               bool caseless, const char *source, unsigned line);

/* Adds every pattern of a file ("-": standard input); stops at the first bad one
 * (SIFT_EPARSE, naming the file and line) or an unreadable file (SIFT_EIO / SIFT_ENOENT). */
SIFT_API int sift_patterns_load(sift_patterns_t *ps, sift_ctx_t *ctx, const char *path,
                                bool caseless);

SIFT_API size_t sift_patterns_count(const sift_patterns_t *ps);
/* Pattern i (its id in matches), valid while the set is. */
SIFT_API const sift_pattern_t *sift_patterns_at(const sift_patterns_t *ps, size_t i);

/* ---- matchers ---- */

typedef struct sift_matcher sift_matcher_t;

typedef struct sift_matcher_opts {
    bool stream;         /* for streams (sift_stream_*) instead of blocks */
    sift_cache_t *cache; /* where compiled databases are kept (NULL: always compile) */
} sift_matcher_opts_t;

typedef struct sift_matcher_info {
    bool from_cache;     /* the database was read from the cache, not compiled */
    uint64_t build_ns;   /* time to compile it, or to read it back */
    size_t db_bytes;     /* size of the database */
    size_t stream_bytes; /* state of one open stream (stream mode) */
} sift_matcher_info_t;

/* Compiles the set (at least one pattern). ps must outlive the matcher. opts and info may be
 * NULL. Fails with SIFT_EPARSE naming the pattern Hyperscan refused and why, SIFT_EINVAL for
 * an empty set, SIFT_EUNSUPPORTED on a CPU Hyperscan cannot run on, SIFT_ENOMEM. */
SIFT_API int sift_matcher_compile(sift_matcher_t **out, sift_ctx_t *ctx, const sift_patterns_t *ps,
                                  const sift_matcher_opts_t *opts, sift_matcher_info_t *info);
SIFT_API void sift_matcher_free(sift_matcher_t *m); /* NULL is fine */

/* The cache key the database of a set is kept under (what sift_matcher_compile looks up):
 * the patterns, their flags, the mode, Hyperscan's version and the platform. */
SIFT_API int sift_matcher_key(const sift_patterns_t *ps, bool stream, sift_cache_key_t *key);
SIFT_API const sift_patterns_t *sift_matcher_patterns(const sift_matcher_t *m);
SIFT_API bool sift_matcher_streaming(const sift_matcher_t *m);

/* ---- scanning ---- */

/* A match of pattern `id` over bytes [from, to) of the scanned block or stream (offsets in a
 * stream count from its first byte). Every end position is reported, so overlapping matches
 * of one pattern count each. Returns false to stop the scan. */
typedef bool (*sift_match_fn)(void *user, unsigned id, uint64_t from, uint64_t to);

/* Scratch memory of one thread for one matcher. */
typedef struct sift_scanner sift_scanner_t;
SIFT_API int sift_scanner_create(sift_scanner_t **out, const sift_matcher_t *m);
SIFT_API void sift_scanner_free(sift_scanner_t *s); /* NULL is fine */

/* Scans one block (a block-mode matcher). Returns 0, also when fn stopped the scan. */
SIFT_API int sift_scan_block(sift_scanner_t *s, const void *data, size_t len, sift_match_fn fn,
                             void *user);

/* A stream: matches may span the pieces given to it (a stream-mode matcher). */
typedef struct sift_stream sift_stream_t;
SIFT_API int sift_stream_open(sift_stream_t **out, const sift_matcher_t *m);
SIFT_API int sift_stream_scan(sift_stream_t *st, sift_scanner_t *s, const void *data, size_t len,
                              sift_match_fn fn, void *user);
/* Starts the stream again at offset 0, reporting matches that end with it first (fn may be
 * NULL: none). */
SIFT_API int sift_stream_reset(sift_stream_t *st, sift_scanner_t *s, sift_match_fn fn, void *user);
/* Ends it: matches that need the end of data (a regex ending in '$') go to fn (may be NULL,
 * with s NULL too: nothing is reported). Frees st; NULL is fine. */
SIFT_API void sift_stream_close(sift_stream_t *st, sift_scanner_t *s, sift_match_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
