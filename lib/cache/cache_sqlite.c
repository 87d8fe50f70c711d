/* L2 of the result cache: one SQLite table of entries (key BLOB PRIMARY KEY, value, size,
 * created, last_used) in WAL mode with synchronous=NORMAL, so a put is a commit without an
 * fsync and readers in other processes never wait for a writer.
 *
 * - Entry count and total bytes are kept by triggers in cache_meta, so the size check after a
 *   put reads one row instead of summing the table.
 * - Over the size limit, the least recently used rows are deleted in one transaction until
 *   the total is 10% under the limit: eviction happens in batches, not at every put.
 * - last_used of L2 hits is recorded in memory and written in batches (64 at a time, or at
 *   close), so a hit costs one indexed SELECT.
 * - Any error other than "busy" switches the tier off for the rest of the run with a message
 *   through the context's log: the cache then works in memory only and callers never fail.
 */
#include "cache/cache_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define L2_SCHEMA_VERSION 2
#define L2_TOUCH_BATCH    64
#define L2_BUSY_MS        2000
#define L2_PAGE_SIZE      16384 /* fewer overflow pages per large value; set on new files */
#define L2_WAL_PAGES      1000
#define L2_BIG_VALUE      (256u << 10) /* checkpoint right after storing one this large */

/* Values live in their own table so that the small row updated on a hit (last_used) does not
 * rewrite the value: SQLite rewrites a whole row on UPDATE. A get reads the value with the
 * incremental blob API straight into the caller's buffer. */
#define L2_SCHEMA                                                                                  \
    "CREATE TABLE IF NOT EXISTS cache_entries(key BLOB PRIMARY KEY, size INTEGER NOT NULL,"        \
    " created INTEGER NOT NULL, last_used INTEGER NOT NULL, vid INTEGER NOT NULL);"                \
    "CREATE TABLE IF NOT EXISTS cache_values(vid INTEGER PRIMARY KEY, value BLOB NOT NULL);"       \
    "CREATE INDEX IF NOT EXISTS cache_entries_lru ON cache_entries(last_used);"                    \
    "CREATE TABLE IF NOT EXISTS cache_meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"        \
    "INSERT OR IGNORE INTO cache_meta(name, value) VALUES ('entries', 0), ('bytes', 0),"           \
    " ('l1_hits', 0), ('l2_hits', 0), ('misses', 0), ('puts', 0), ('l1_evictions', 0),"            \
    " ('l2_evictions', 0), ('expired', 0);"                                                        \
    "CREATE TRIGGER IF NOT EXISTS cache_entries_ins AFTER INSERT ON cache_entries BEGIN"           \
    " UPDATE cache_meta SET value = value + 1 WHERE name = 'entries';"                             \
    " UPDATE cache_meta SET value = value + NEW.size WHERE name = 'bytes'; END;"                   \
    "CREATE TRIGGER IF NOT EXISTS cache_entries_del AFTER DELETE ON cache_entries BEGIN"           \
    " DELETE FROM cache_values WHERE vid = OLD.vid;"                                               \
    " UPDATE cache_meta SET value = value - 1 WHERE name = 'entries';"                             \
    " UPDATE cache_meta SET value = value - OLD.size WHERE name = 'bytes'; END;"                   \
    "CREATE TRIGGER IF NOT EXISTS cache_entries_upd AFTER UPDATE OF vid ON cache_entries BEGIN"    \
    " DELETE FROM cache_values WHERE vid = OLD.vid AND OLD.vid <> NEW.vid;"                        \
    " UPDATE cache_meta SET value = value + NEW.size - OLD.size WHERE name = 'bytes'; "            \
    "END;" SIFT__FPMEMO_SCHEMA

/* An older layout of this cache is dropped, not converted: it only holds results. */
#define L2_DROP_OLD "DROP TABLE IF EXISTS cache_entries; DROP TABLE IF EXISTS cache_values;"

static const char *const l2_sql[L2_NSTMT] = {
    [L2_GET] = "SELECT vid, created FROM cache_entries WHERE key = ?1",
    [L2_PUTV] = "INSERT INTO cache_values(value) VALUES (?1)",
    [L2_PUT] = "INSERT INTO cache_entries(key, size, created, last_used, vid)"
               " VALUES (?1, ?2, ?3, ?3, ?4) ON CONFLICT(key) DO UPDATE SET"
               " size = excluded.size, created = excluded.created,"
               " last_used = excluded.last_used, vid = excluded.vid",
    [L2_DEL] = "DELETE FROM cache_entries WHERE key = ?1",
    [L2_TOUCH] = "UPDATE cache_entries SET last_used = ?2 WHERE key = ?1 AND last_used < ?2",
    [L2_META] = "SELECT value FROM cache_meta WHERE name = ?1",
    [L2_LRU] = "SELECT key, size FROM cache_entries ORDER BY last_used",
    [L2_ADD] = "UPDATE cache_meta SET value = value + ?2 WHERE name = ?1",
    [L2_BEGIN] = "BEGIN",
    [L2_COMMIT] = "COMMIT",
};

void sift__cache_log(sift_ctx_t *ctx, sift_log_level_t level, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn)
        return;
    char msg[SIFT_ERRBUF_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_user, level, msg);
}

#define SIFT__STR2(x) #x
#define SIFT__STR(x)  SIFT__STR2(x)

static int exec_sql(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Creates the schema once per file: user_version tells whether it is there already, so an
 * ordinary open takes no write lock. version 0: run schema_sql every time (IF NOT EXISTS). */
static int ensure_schema(sqlite3 *db, const char *schema_sql, int version, char *err,
                         const char *path)
{
    int have = 0, rc = user_version(db, &have);
    if (rc != SQLITE_OK)
        return rc;
    if (version == 0)
        return exec_sql(db, schema_sql);
    if (have == version)
        return SQLITE_OK;
    if (have > version) {
        sift__errorf(err, SIFT_EDB, "%s: written by a newer capsift (schema %d, this one reads %d)",
                     path, have, version);
        return SQLITE_ERROR;
    }
    rc = exec_sql(db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return rc;
    if (have > 0)
        rc = exec_sql(db, L2_DROP_OLD);
    if (rc == SQLITE_OK)
        rc = exec_sql(db, schema_sql);
    if (rc == SQLITE_OK) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
        rc = exec_sql(db, sql);
    }
    if (rc == SQLITE_OK)
        rc = exec_sql(db, "COMMIT");
    if (rc != SQLITE_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* SQLITE_OK when db is empty or holds own_table; a database of another program is refused
 * before anything (even the journal mode) is written to it. */
static int check_own(sqlite3 *db, const char *own_table, const char *path, char *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT count(*), coalesce(sum(name = ?1), 0) FROM sqlite_master "
                                "WHERE type = 'table'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, own_table, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        bool foreign = sqlite3_column_int(st, 0) > 0 && sqlite3_column_int(st, 1) == 0;
        rc = SQLITE_OK;
        if (foreign) {
            sift__errorf(err, SIFT_EEXIST,
                         "%s: an SQLite database of another program, not a capsift cache; left "
                         "as it is (move it, or set CAPSIFT_CACHE_DIR)",
                         path);
            rc = SQLITE_ERROR;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int db_open_versioned(const char *path, const char *schema_sql, const char *own_table,
                             int version, sqlite3 **out, char *err)
{
    *out = NULL;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(db, L2_BUSY_MS);
    /* The last connection to close would checkpoint and fsync: leave that to the automatic
     * checkpoints of later writes (every L2_WAL_PAGES pages, so the WAL a new process must
     * scan at open stays small) and to the explicit one after a large value, so a cache hit
     * never waits for the disk. */
    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_wal_autocheckpoint(db, L2_WAL_PAGES);
    /* The first statement that reads the header: garbage fails here with "not a database". */
    if (rc == SQLITE_OK)
        rc = check_own(db, own_table, path, err);
    if (rc == SQLITE_OK)
        rc = exec_sql(db, "PRAGMA page_size = " SIFT__STR(L2_PAGE_SIZE));
    if (rc == SQLITE_OK)
        rc = exec_sql(db, "PRAGMA journal_mode = WAL");
    if (rc == SQLITE_OK)
        rc = exec_sql(db, "PRAGMA synchronous = NORMAL");
    if (rc == SQLITE_OK)
        rc = ensure_schema(db, schema_sql, version, err, path);
    if (rc != SQLITE_OK) {
        if (!err || !err[0])
            sift__errorf(err, SIFT_EDB, "%s: %s", path,
                         db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return SIFT_EDB;
    }
    *out = db;
    return 0;
}

int sift__db_open(const char *path, const char *schema_sql, const char *own_table, sqlite3 **out,
                  char *err)
{
    return db_open_versioned(path, schema_sql, own_table, 0, out, err);
}

/* Switches the tier off after an error, unless it was only a lock held elsewhere. */
static void l2_fail(sift__l2_t *t, int rc, const char *doing)
{
    if (sift__db_transient(rc)) {
        sift__cache_log(t->ctx, SIFT_LOG_DEBUG, "cache: %s: database busy while %s; skipped",
                        sqlite3_db_filename(t->db, "main"), doing);
        return;
    }
    if (!t->on)
        return;
    snprintf(t->err, sizeof t->err, "%s: %s while %s", sqlite3_db_filename(t->db, "main"),
             sqlite3_errmsg(t->db), doing);
    t->on = false;
    sift__cache_log(t->ctx, SIFT_LOG_WARN,
                    "cache: %s; the persistent cache is off for this run (remove the file or "
                    "run 'capsift cache clear' if it stays damaged)",
                    t->err);
}

int sift__l2_open(sift__l2_t *t, sift_ctx_t *ctx, const char *path, uint64_t max_bytes,
                  uint64_t ttl_ns)
{
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->max_bytes = max_bytes;
    t->ttl_ns = ttl_ns;
    if (db_open_versioned(path, L2_SCHEMA, "cache_entries", L2_SCHEMA_VERSION, &t->db, t->err) <
        0) {
        sift__cache_log(ctx, SIFT_LOG_WARN,
                        "cache: %s; the persistent cache is off for this run (remove the file or "
                        "run 'capsift cache clear' if it is damaged)",
                        t->err);
        return 0;
    }
    for (int i = 0; i < L2_NSTMT; i++) {
        int rc =
            sqlite3_prepare_v3(t->db, l2_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &t->st[i], NULL);
        if (rc != SQLITE_OK) {
            t->on = true;
            l2_fail(t, rc, "preparing statements");
            t->on = false;
            return rc == SQLITE_NOMEM ? SIFT_ENOMEM : 0;
        }
    }
    t->on = true;
    return 0;
}

static bool meta_get(sift__l2_t *t, const char *name, int64_t *v)
{
    sqlite3_stmt *st = t->st[L2_META];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    bool ok = rc == SQLITE_ROW;
    *v = ok ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (!ok && rc != SQLITE_DONE)
        l2_fail(t, rc, "reading counters");
    return ok;
}

static int begin(sift__l2_t *t, const char *doing)
{
    int rc = exec_sql(t->db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        l2_fail(t, rc, doing);
    return rc;
}

static void commit(sift__l2_t *t, int rc, const char *doing)
{
    if (rc == SQLITE_OK)
        rc = exec_sql(t->db, "COMMIT");
    if (rc != SQLITE_OK) {
        sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
        l2_fail(t, rc, doing);
    }
}

/* Runs a statement that returns no rows, then resets it. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void sift__l2_flush(sift__l2_t *t)
{
    if (!t->on || t->ntouch == 0)
        goto done;
    if (begin(t, "recording hits") != SQLITE_OK)
        goto done;
    int rc = SQLITE_OK;
    sqlite3_stmt *st = t->st[L2_TOUCH];
    for (size_t i = 0; i < t->ntouch && rc == SQLITE_OK; i++) {
        sqlite3_bind_blob64(st, 1, t->touch[i].key, t->touch[i].klen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)t->touch[i].when_ns);
        rc = step_done(st);
    }
    commit(t, rc, "recording hits");
done:
    for (size_t i = 0; i < t->ntouch; i++)
        free(t->touch[i].key);
    t->ntouch = 0;
}

static void touch_later(sift__l2_t *t, const void *key, size_t klen, uint64_t now_ns)
{
    if (t->ntouch == t->touch_cap) {
        size_t cap = t->touch_cap ? t->touch_cap * 2 : 16;
        sift__touch_t *n = realloc(t->touch, cap * sizeof *n);
        if (!n)
            return; /* recency is advisory */
        t->touch = n;
        t->touch_cap = cap;
    }
    unsigned char *k = malloc(klen);
    if (!k)
        return;
    memcpy(k, key, klen);
    t->touch[t->ntouch++] = (sift__touch_t){.key = k, .klen = klen, .when_ns = now_ns};
}

static int step_stmt(sift__l2_t *t, int i)
{
    int rc = sqlite3_step(t->st[i]);
    sqlite3_reset(t->st[i]);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int sift__l2_get_begin(sift__l2_t *t, const void *key, size_t klen, uint64_t now_ns, size_t *len,
                       uint64_t *created_ns)
{
    if (!t->on)
        return SIFT_ENOTFOUND;
    assert(!t->in_get);
    /* One read transaction: the row and its value are from the same version of the file. */
    int rc = step_stmt(t, L2_BEGIN);
    if (rc != SQLITE_OK) {
        l2_fail(t, rc, "looking up an entry");
        return SIFT_ENOTFOUND;
    }
    t->in_get = true;
    sqlite3_stmt *st = t->st[L2_GET];
    sqlite3_bind_blob64(st, 1, key, klen, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_int64 vid = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    uint64_t created = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW) {
        sift__l2_get_done(t);
        if (rc != SQLITE_DONE)
            l2_fail(t, rc, "looking up an entry");
        return SIFT_ENOTFOUND;
    }
    if (t->ttl_ns && now_ns >= created && now_ns - created >= t->ttl_ns) {
        sift__l2_get_done(t);
        t->expired++;
        sift__l2_del(t, key, klen);
        return SIFT_ENOTFOUND;
    }
    rc = sqlite3_blob_open(t->db, "main", "cache_values", "value", vid, 0, &t->blob);
    if (rc != SQLITE_OK) {
        /* A row without its value: treat as absent (the next put replaces it). */
        sift__l2_get_done(t);
        return SIFT_ENOTFOUND;
    }
    *len = (size_t)sqlite3_blob_bytes(t->blob);
    *created_ns = created;
    touch_later(t, key, klen, now_ns);
    return 0;
}

int sift__l2_get_read(sift__l2_t *t, void *dst, size_t len)
{
    assert(t->in_get && t->blob);
    if (len > INT32_MAX)
        return SIFT_ENOTFOUND;
    int rc = len ? sqlite3_blob_read(t->blob, dst, (int)len, 0) : SQLITE_OK;
    if (rc != SQLITE_OK) {
        l2_fail(t, rc, "reading an entry");
        return SIFT_ENOTFOUND;
    }
    return 0;
}

void sift__l2_get_done(sift__l2_t *t)
{
    if (!t->in_get)
        return;
    t->in_get = false;
    /* Closed at once: an open blob would hold its read transaction, and this connection would
     * stop seeing what other processes write. */
    sqlite3_blob_close(t->blob);
    t->blob = NULL;
    int rc = step_stmt(t, L2_COMMIT);
    if (rc != SQLITE_OK)
        sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
    if (t->ntouch >= L2_TOUCH_BATCH)
        sift__l2_flush(t);
}

void sift__l2_del(sift__l2_t *t, const void *key, size_t klen)
{
    if (!t->on)
        return;
    sqlite3_bind_blob64(t->st[L2_DEL], 1, key, klen, SQLITE_STATIC);
    int rc = step_done(t->st[L2_DEL]);
    if (rc != SQLITE_OK)
        l2_fail(t, rc, "removing an entry");
}

typedef struct victim {
    unsigned char *key;
    size_t klen;
} victim_t;

/* Deletes least recently used rows until the total is 10% under the limit. */
static void l2_evict(sift__l2_t *t)
{
    int64_t bytes;
    if (!meta_get(t, "bytes", &bytes) || (uint64_t)bytes <= t->max_bytes)
        return;
    sift__l2_flush(t);
    uint64_t need = (uint64_t)bytes - (t->max_bytes - t->max_bytes / 10);
    if (begin(t, "evicting entries") != SQLITE_OK)
        return;
    victim_t *v = NULL;
    size_t nv = 0, cap = 0;
    uint64_t freed = 0;
    int rc;
    sqlite3_stmt *st = t->st[L2_LRU];
    while (freed < need && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (nv == cap) {
            cap = cap ? cap * 2 : 64;
            victim_t *n = realloc(v, cap * sizeof *n);
            if (!n)
                break;
            v = n;
        }
        size_t kl = (size_t)sqlite3_column_bytes(st, 0);
        const void *k = sqlite3_column_blob(st, 0);
        unsigned char *copy = malloc(kl ? kl : 1);
        if (!copy)
            break;
        if (kl)
            memcpy(copy, k, kl);
        v[nv++] = (victim_t){copy, kl};
        freed += (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    rc = SQLITE_OK;
    for (size_t i = 0; i < nv; i++) {
        if (rc == SQLITE_OK) {
            sqlite3_bind_blob64(t->st[L2_DEL], 1, v[i].key, v[i].klen, SQLITE_STATIC);
            rc = step_done(t->st[L2_DEL]);
        }
        free(v[i].key);
    }
    free(v);
    commit(t, rc, "evicting entries");
    if (rc == SQLITE_OK && t->on)
        t->evictions += nv;
}

void sift__l2_put(sift__l2_t *t, const void *key, size_t klen, const void *val, size_t len,
                  uint64_t now_ns)
{
    if (!t->on)
        return;
    uint64_t size = (uint64_t)klen + len;
    if (size > t->max_bytes) {
        sift__l2_del(t, key, klen); /* never leave an older value behind */
        return;
    }
    if (begin(t, "storing an entry") != SQLITE_OK)
        return;
    sqlite3_stmt *st = t->st[L2_PUTV];
    sqlite3_bind_blob64(st, 1, len ? val : "", len, SQLITE_STATIC);
    int rc = step_done(st);
    if (rc == SQLITE_OK) {
        st = t->st[L2_PUT];
        sqlite3_bind_blob64(st, 1, key, klen, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)now_ns);
        sqlite3_bind_int64(st, 4, sqlite3_last_insert_rowid(t->db));
        rc = step_done(st);
    }
    commit(t, rc, "storing an entry");
    if (rc != SQLITE_OK || !t->on)
        return;
    if (len >= L2_BIG_VALUE) /* fails harmlessly while others read */
        sqlite3_wal_checkpoint_v2(t->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    l2_evict(t);
}

static const char *const counter_names[] = {"l1_hits",      "l2_hits",      "misses", "puts",
                                            "l1_evictions", "l2_evictions", "expired"};

static uint64_t *counter_field(sift_cache_counters_t *c, size_t i)
{
    uint64_t *f[] = {&c->l1_hits,      &c->l2_hits,      &c->misses, &c->puts,
                     &c->l1_evictions, &c->l2_evictions, &c->expired};
    return f[i];
}

#define NCOUNTERS (sizeof counter_names / sizeof counter_names[0])

void sift__l2_totals(sift__l2_t *t, uint64_t *entries, uint64_t *bytes, sift_cache_counters_t *c)
{
    memset(c, 0, sizeof *c);
    *entries = *bytes = 0;
    if (!t->on)
        return;
    int64_t v;
    if (meta_get(t, "entries", &v))
        *entries = (uint64_t)v;
    if (meta_get(t, "bytes", &v))
        *bytes = (uint64_t)v;
    for (size_t i = 0; i < NCOUNTERS; i++)
        if (meta_get(t, counter_names[i], &v))
            *counter_field(c, i) = (uint64_t)v;
}

int sift__l2_clear(sift__l2_t *t, bool reset_counters)
{
    sift__l2_get_done(t);
    for (size_t i = 0; i < t->ntouch; i++)
        free(t->touch[i].key);
    t->ntouch = 0;
    if (!t->on)
        return 0;
    if (begin(t, "clearing") != SQLITE_OK)
        return SIFT_EDB;
    int rc = exec_sql(t->db, "DELETE FROM cache_entries; DELETE FROM cache_values;"
                             "DELETE FROM fingerprints;"
                             "UPDATE cache_meta SET value = 0 WHERE name IN ('entries', 'bytes')");
    if (rc == SQLITE_OK && reset_counters)
        rc = exec_sql(t->db, "UPDATE cache_meta SET value = 0");
    commit(t, rc, "clearing");
    if (rc != SQLITE_OK || !t->on)
        return SIFT_EDB;
    /* Give the space back; fails harmlessly while another process reads the file. */
    exec_sql(t->db, "VACUUM");
    exec_sql(t->db, "PRAGMA wal_checkpoint(TRUNCATE)");
    return 0;
}

void sift__l2_close(sift__l2_t *t, const sift_cache_counters_t *add)
{
    sift__l2_get_done(t);
    sift__l2_flush(t);
    if (t->on && add && begin(t, "saving counters") == SQLITE_OK) {
        int rc = SQLITE_OK;
        sift_cache_counters_t tmp = *add;
        sqlite3_stmt *st = t->st[L2_ADD];
        for (size_t i = 0; i < NCOUNTERS && rc == SQLITE_OK; i++) {
            uint64_t v = *counter_field(&tmp, i);
            if (!v)
                continue;
            sqlite3_bind_text(st, 1, counter_names[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
            rc = step_done(st);
        }
        commit(t, rc, "saving counters");
    }
    sqlite3_blob_close(t->blob);
    for (int i = 0; i < L2_NSTMT; i++)
        sqlite3_finalize(t->st[i]);
    free(t->touch);
    sqlite3_close(t->db);
    memset(t, 0, sizeof *t);
}

/* A file at the cache's path is removed only when it is empty or an SQLite database that is
 * not someone else's (a damaged cache still has the header; a foreign one has its own tables). */
int sift_cache_remove_file(sift_ctx_t *ctx, const char *path)
{
    static const char magic[16] = "SQLite format 3";
    char head[16] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT
                   ? 0
                   : sift__ctx_error(ctx, SIFT_EIO, "%s: cannot read: %s", path, strerror(errno));
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    char err[SIFT_ERRBUF_SIZE] = "";
    if (n > 0 && (n < sizeof head || memcmp(head, magic, sizeof head) != 0))
        return sift__ctx_error(ctx, SIFT_EEXIST,
                               "%s: not an SQLite file, so not a capsift cache; left as it is",
                               path);
    if (n > 0) {
        sqlite3 *db = NULL;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
            check_own(db, "cache_entries", path, err) != SQLITE_OK && err[0]) {
            sqlite3_close(db);
            return sift__ctx_error(ctx, SIFT_EEXIST, "%s", err);
        }
        sqlite3_close(db);
    }
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            return sift__ctx_error(ctx, SIFT_EIO, "%s: cannot remove: %s", p, strerror(errno));
    }
    return 0;
}
