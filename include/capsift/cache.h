/* capsift: a two-tier result cache of byte values under byte keys.
 *
 *   L1  in this process: a hash map with an LRU list, a byte budget, an entry limit and a TTL.
 *   L2  a SQLite file shared by every process (WAL): a size limit with least-recently-used
 *       eviction in batches, and a TTL.
 *
 * A get looks in L1, then in L2; an L2 hit is copied into L1 (promotion). A put writes both
 * tiers. Counters of hits per tier, misses and evictions are kept per process and, with L2, added
 * to totals in the database on close, so they cover every run.
 *
 * A cache never makes its caller fail because of its file: a file that cannot be created, is
 * not a database, is damaged or becomes unwritable is reported once through the context's log
 * (SIFT_LOG_WARN), L2 is switched off and the cache goes on in memory (slower, still right).
 *
 * Keys for results: sift_cache_keyb_* build a 128-bit key from typed fields, so a program
 * writes key = H(command, normalised options, fingerprints of every input, version).
 *
 * This module knows nothing of captures; any program can use it alone.
 *
 *   sift_cache_t *c;
 *   sift_cache_open(&c, ctx, "/home/me/.cache/app/cache.db", NULL);   // NULL path: memory only
 *   const void *v; size_t n;
 *   if (sift_cache_get(c, key, 16, &v, &n) == 0) use(v, n);          // valid until next call
 *   else sift_cache_put(c, key, 16, value, len);
 *   sift_cache_close(c);
 *
 * Thread safety: a cache is used by one thread at a time. Several processes (and several caches
 * in one process) may use the same file at once.
 */
#ifndef CAPSIFT_CACHE_H
#define CAPSIFT_CACHE_H

#include <capsift/common.h>
#include <capsift/fingerprint.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Wall-clock time in ns since the epoch (L2 keeps it across runs). */
typedef uint64_t (*sift_cache_clock_fn)(void *user);

/* Options. Zeroed fields take the defaults in brackets. */
typedef struct sift_cache_opts {
    size_t l1_max_bytes;       /* L1 budget: keys, values and per-entry overhead [64 MiB] */
    size_t l1_max_entries;     /* [65536] */
    uint64_t l1_ttl_ns;        /* an L1 entry expires this long after it was stored [never] */
    uint64_t l2_max_bytes;     /* L2 size limit (keys and values) [1 GiB] */
    uint64_t l2_ttl_ns;        /* an L2 entry expires this long after it was stored [never] */
    sift_cache_clock_fn clock; /* [CLOCK_REALTIME]; tests inject their own */
    void *clock_user;
} sift_cache_opts_t;

typedef struct sift_cache sift_cache_t;

/* Opens a cache with its L2 in path (created when missing; the directory must exist), or
 * memory only when path is NULL. opts may be NULL. Fails only for SIFT_ENOMEM or SIFT_EINVAL;
 * a file that cannot be used leaves L2 off (see sift_cache_l2_error). ctx must outlive the
 * cache. */
SIFT_API int sift_cache_open(sift_cache_t **out, sift_ctx_t *ctx, const char *path,
                             const sift_cache_opts_t *opts);

/* Writes pending L2 updates and the counters, and frees everything. NULL is fine. */
SIFT_API void sift_cache_close(sift_cache_t *c);

/* Looks key up. On a hit returns 0 and sets *val and *len to the value, which stays valid until
 * the next call on this cache (do not free it). Returns SIFT_ENOTFOUND on a miss (expired
 * entries are misses and are removed). */
SIFT_API int sift_cache_get(sift_cache_t *c, const void *key, size_t klen, const void **val,
                            size_t *len);

/* Stores a copy of the value under key in both tiers, replacing any older value. A value larger
 * than the L1 budget goes to L2 only; one larger than the L2 limit is not stored in L2. May
 * evict. Returns 0, SIFT_ENOMEM, or SIFT_EINVAL (klen 0). L2 problems are not errors. */
SIFT_API int sift_cache_put(sift_cache_t *c, const void *key, size_t klen, const void *val,
                            size_t len);

/* Removes key from both tiers. Returns 0 (also when it was absent). */
SIFT_API int sift_cache_del(sift_cache_t *c, const void *key, size_t klen);

/* Removes every entry of both tiers and the fingerprint memo, and shrinks the file. With
 * reset_counters the persisted totals start again from zero. Returns 0 or SIFT_EDB. */
SIFT_API int sift_cache_clear(sift_cache_t *c, bool reset_counters);

/* Removes the cache file at path (with its -wal, -shm and -journal files) when it cannot be
 * opened as a cache: only an empty file, a capsift cache or a damaged SQLite file is removed;
 * anything else (another program's database or file) is refused with SIFT_EEXIST and left as
 * it is. 0 also when there is no file. The cache must not be open. */
SIFT_API int sift_cache_remove_file(sift_ctx_t *ctx, const char *path);

/* Counters. */
typedef struct sift_cache_counters {
    uint64_t l1_hits;
    uint64_t l2_hits; /* L2 hits (each promoted to L1 when it fits) */
    uint64_t misses;
    uint64_t puts;
    uint64_t l1_evictions; /* LRU entries dropped for the byte budget or the entry limit */
    uint64_t l2_evictions; /* rows dropped for the size limit */
    uint64_t expired;      /* entries found past their TTL (either tier) */
} sift_cache_counters_t;

typedef struct sift_cache_stats {
    sift_cache_counters_t session; /* this cache object since it was opened */
    sift_cache_counters_t total;   /* every run on this file, this one included (= session
                                    * without L2) */
    uint64_t l1_entries, l1_bytes;
    uint64_t l2_entries, l2_bytes; /* 0 when L2 is off */
    uint64_t l2_max_bytes;
    uint64_t fp_entries; /* fingerprints in the memo */
    bool l2_on;
} sift_cache_stats_t;

/* Fills *out (reads two rows of the database). */
SIFT_API void sift_cache_stats(sift_cache_t *c, sift_cache_stats_t *out);

/* "" while L2 works; otherwise why it is off ("cache.db: file is not a database"). Valid until
 * the cache is closed. */
SIFT_API const char *sift_cache_l2_error(const sift_cache_t *c);

/* The L2 file ("" for memory only). */
SIFT_API const char *sift_cache_path(const sift_cache_t *c);

/* The fingerprint memo kept in the cache's database (in memory when L2 is off). Owned by the
 * cache: valid until sift_cache_close; do not close it. */
SIFT_API sift_fpmemo_t *sift_cache_fpmemo(sift_cache_t *c);

/* A 128-bit key built from typed fields. Each field is written with a tag and its length, so
 * ("ab", "c") and ("a", "bc") give different keys. */
typedef struct sift_cache_key {
    uint8_t bytes[16];
} sift_cache_key_t;

/* A key builder: a caller-owned struct, _init then adds then _finish (which releases it). */
typedef struct sift_cache_keyb {
    unsigned char *buf;
    size_t len, cap;
    bool failed; /* an allocation failed: _finish returns SIFT_ENOMEM */
} sift_cache_keyb_t;

SIFT_API void sift_cache_keyb_init(sift_cache_keyb_t *kb);
SIFT_API void sift_cache_keyb_str(sift_cache_keyb_t *kb, const char *s); /* NULL differs from "" */
SIFT_API void sift_cache_keyb_u64(sift_cache_keyb_t *kb, uint64_t v);
SIFT_API void sift_cache_keyb_bytes(sift_cache_keyb_t *kb, const void *p, size_t n);
SIFT_API void sift_cache_keyb_fp(sift_cache_keyb_t *kb, const sift_fingerprint_t *fp);
/* The XXH3-128 of the fields; releases the builder. Returns 0 or SIFT_ENOMEM. */
SIFT_API int sift_cache_keyb_finish(sift_cache_keyb_t *kb, sift_cache_key_t *out);
/* Releases without a key (after an error). */
SIFT_API void sift_cache_keyb_release(sift_cache_keyb_t *kb);

#ifdef __cplusplus
}
#endif
#endif
