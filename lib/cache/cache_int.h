/* Internals of the result cache and the fingerprint memo. Not installed. */
#ifndef SIFT_CACHE_INT_H
#define SIFT_CACHE_INT_H

#include "common/internal.h"

#include <capsift/cache.h>
#include <capsift/fingerprint.h>

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- L1: hash map with chaining + intrusive doubly-linked LRU list (cache_lru.c) ---- */

typedef struct sift__l1_entry {
    struct sift__l1_entry *hnext; /* next in the bucket's chain */
    struct sift__l1_entry *prev;  /* LRU list: prev is more recently used */
    struct sift__l1_entry *next;
    uint64_t hash;
    uint64_t expires_ns; /* 0: never */
    size_t klen, vlen;
    unsigned char data[]; /* key, then value */
} sift__l1_entry_t;

typedef struct sift__l1 {
    sift__l1_entry_t **buckets;
    size_t nbuckets;               /* a power of two */
    sift__l1_entry_t *head, *tail; /* most and least recently used */
    size_t count, bytes;
    size_t max_bytes, max_entries;
    uint64_t evictions, expired;
} sift__l1_t;

/* What one entry costs against the byte budget. */
static inline size_t sift__l1_cost(size_t klen, size_t vlen)
{
    return sizeof(sift__l1_entry_t) + klen + vlen;
}

static inline const unsigned char *sift__l1_value(const sift__l1_entry_t *e)
{
    return e->data + e->klen;
}

int sift__l1_init(sift__l1_t *l, size_t max_bytes, size_t max_entries);
void sift__l1_release(sift__l1_t *l);
/* The live entry for key, moved to the front; an expired one is removed (counted) and NULL
 * returned. */
sift__l1_entry_t *sift__l1_get(sift__l1_t *l, const void *key, size_t klen, uint64_t now_ns);
/* Inserts or replaces; evicts from the back to stay within the limits. val NULL with vlen > 0
 * leaves the value for the caller to write through *out. Returns 0, SIFT_ENOMEM,
 * or SIFT_ELIMIT when the entry alone exceeds the budget (nothing stored, an older value for
 * the key removed). *out (may be NULL) receives the entry. */
int sift__l1_put(sift__l1_t *l, const void *key, size_t klen, const void *val, size_t vlen,
                 uint64_t expires_ns, sift__l1_entry_t **out);
void sift__l1_del(sift__l1_t *l, const void *key, size_t klen);
void sift__l1_clear(sift__l1_t *l);

/* ---- SQLite helpers shared by L2 and the memo (cache_sqlite.c) ---- */

/* Sends a message to the context's log callback at the given level. */
void sift__cache_log(sift_ctx_t *ctx, sift_log_level_t level, const char *fmt, ...)
    SIFT_PRINTF(3, 4);

/* Opens path (or ":memory:") with WAL, synchronous=NORMAL and a busy timeout, and runs
 * schema_sql. Returns 0 or SIFT_EDB with the reason in err (SIFT_ERRBUF_SIZE bytes). */
int sift__db_open(const char *path, const char *schema_sql, const char *own_table, sqlite3 **out,
                  char *err);

/* True for the transient errors (another process holds the lock): skip, do not switch off. */
static inline bool sift__db_transient(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* ---- L2: the SQLite tier (cache_sqlite.c) ---- */

typedef struct sift__touch {
    unsigned char *key;
    size_t klen;
    uint64_t when_ns;
} sift__touch_t;

enum {
    L2_GET,
    L2_PUTV,
    L2_PUT,
    L2_DEL,
    L2_TOUCH,
    L2_META,
    L2_LRU,
    L2_ADD,
    L2_BEGIN,
    L2_COMMIT,
    L2_NSTMT
};

typedef struct sift__l2 {
    sqlite3 *db;
    sift_ctx_t *ctx;
    sqlite3_stmt *st[L2_NSTMT];
    sqlite3_blob *blob; /* the value being read by a get */
    bool on;
    bool in_get; /* a get holds a read transaction and an open blob */
    char err[SIFT_ERRBUF_SIZE];
    uint64_t max_bytes, ttl_ns;
    sift__touch_t *touch; /* last_used updates, written in batches */
    size_t ntouch, touch_cap;
    uint64_t evictions, expired;
} sift__l2_t;

/* Opens the tier; on failure it stays off with the reason in t->err (logged). Returns 0 or
 * SIFT_ENOMEM. */
int sift__l2_open(sift__l2_t *t, sift_ctx_t *ctx, const char *path, uint64_t max_bytes,
                  uint64_t ttl_ns);
/* Writes pending updates, adds the counters to the persisted totals, closes. */
void sift__l2_close(sift__l2_t *t, const sift_cache_counters_t *add);
/* A get in three steps, so the value is copied once, from SQLite's pages straight into the
 * caller's buffer: _begin finds the entry (0 with its length, or SIFT_ENOTFOUND), _read copies
 * it (0, or SIFT_ENOTFOUND if it could not be read), _done ends the read (always call it after
 * a successful _begin). */
int sift__l2_get_begin(sift__l2_t *t, const void *key, size_t klen, uint64_t now_ns, size_t *len,
                       uint64_t *created_ns);
int sift__l2_get_read(sift__l2_t *t, void *dst, size_t len);
void sift__l2_get_done(sift__l2_t *t);
void sift__l2_put(sift__l2_t *t, const void *key, size_t klen, const void *val, size_t len,
                  uint64_t now_ns);
void sift__l2_del(sift__l2_t *t, const void *key, size_t klen);
/* Entries and bytes, and the persisted counters (before this process's are added). */
void sift__l2_totals(sift__l2_t *t, uint64_t *entries, uint64_t *bytes, sift_cache_counters_t *c);
int sift__l2_clear(sift__l2_t *t, bool reset_counters);
/* Writes the pending last_used updates. */
void sift__l2_flush(sift__l2_t *t);

/* ---- the fingerprint memo (fingerprint.c) ---- */

/* A memo over an open database it does not own (the cache's). */
int sift__fpmemo_attach(sift_fpmemo_t **out, sift_ctx_t *ctx, sqlite3 *db);
uint64_t sift__fpmemo_count(sift_fpmemo_t *m);

#define SIFT__FPMEMO_SCHEMA                                                                        \
    "CREATE TABLE IF NOT EXISTS fingerprints(path TEXT PRIMARY KEY, size INTEGER NOT NULL,"        \
    " mtime_ns INTEGER NOT NULL, ino INTEGER NOT NULL, dev INTEGER NOT NULL,"                      \
    " fp BLOB NOT NULL, checked INTEGER NOT NULL);"

/* Streams a regular file through update() in large read() buffers; refuses FIFOs and
 * devices, and reports SIFT_ESTALE when the file changed while it was read. id (may be NULL)
 * gets its identity from before the read. The one file-reading loop behind fingerprints and
 * digests. */
int sift__stream_file(sift_ctx_t *ctx, const char *path,
                      void (*update)(void *user, const void *data, size_t len), void *user,
                      sift_file_id_t *id);

#endif
