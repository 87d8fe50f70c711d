/* Content fingerprints (XXH3-128 over large read() buffers) and the memo that trusts a
 * remembered fingerprint while the file's (size, mtime, inode, device) are unchanged. */
#include "cache/cache_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define FP_BUF_SIZE (1u << 20)
#define FP_RACY_NS  2000000000LL /* files younger than this are hashed but not memoised */

void sift_fingerprint_buffer(const void *data, size_t len, sift_fingerprint_t *out)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
    memcpy(out->bytes, c.digest, sizeof out->bytes);
}

void sift_fingerprint_hex(const sift_fingerprint_t *fp, char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[fp->bytes[i] >> 4];
        out[2 * i + 1] = digits[fp->bytes[i] & 15];
    }
    out[32] = '\0';
}

static void id_from_stat(const struct stat *st, sift_file_id_t *id)
{
    id->size = (uint64_t)st->st_size;
    id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    id->ino = (uint64_t)st->st_ino;
    id->dev = (uint64_t)st->st_dev;
}

static bool same_id(const sift_file_id_t *a, const sift_file_id_t *b)
{
    return a->size == b->size && a->mtime_ns == b->mtime_ns && a->ino == b->ino && a->dev == b->dev;
}

int sift_file_id(const char *path, sift_file_id_t *out)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR ? SIFT_ENOENT : SIFT_EIO;
    if (!S_ISREG(st.st_mode))
        return SIFT_EINVAL;
    id_from_stat(&st, out);
    return 0;
}

int sift__stream_file(sift_ctx_t *ctx, const char *path,
                      void (*update)(void *user, const void *data, size_t len), void *user,
                      sift_file_id_t *id)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return sift__ctx_error(ctx, errno == ENOENT ? SIFT_ENOENT : SIFT_EIO, "%s: cannot open: %s",
                               path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sift__ctx_error(ctx, SIFT_EINVAL,
                               "%s: not a regular file; only files have a "
                               "fingerprint",
                               path);
    }
    sift_file_id_t before;
    id_from_stat(&st, &before);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    unsigned char *buf = malloc(FP_BUF_SIZE);
    int rc = 0;
    if (!buf) {
        rc = sift__ctx_error(ctx, SIFT_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    uint64_t offset = 0;
    for (;;) {
        ssize_t n = read(fd, buf, FP_BUF_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sift__ctx_error(ctx, SIFT_EIO, "%s: read error at byte %llu: %s", path,
                                 (unsigned long long)offset, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        update(user, buf, (size_t)n);
        offset += (uint64_t)n;
    }
    sift_file_id_t after;
    if (fstat(fd, &st) != 0) {
        rc = sift__ctx_error(ctx, SIFT_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    id_from_stat(&st, &after);
    if (!same_id(&before, &after) || offset != before.size) {
        rc = sift__ctx_error(ctx, SIFT_ESTALE, "%s: the file changed while it was read", path);
        goto out;
    }
    if (id)
        *id = before;
out:
    free(buf);
    close(fd);
    return rc;
}

static void xxh3_update(void *state, const void *data, size_t len)
{
    XXH3_128bits_update(state, data, len);
}

int sift_fingerprint_file(sift_ctx_t *ctx, const char *path, sift_fingerprint_t *out,
                          sift_file_id_t *id)
{
    XXH3_state_t *state = XXH3_createState();
    if (!state || XXH3_128bits_reset(state) != XXH_OK) {
        XXH3_freeState(state);
        return sift__ctx_error(ctx, SIFT_ENOMEM, "%s: out of memory", path);
    }
    int rc = sift__stream_file(ctx, path, xxh3_update, state, id);
    if (rc == 0) {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(state));
        memcpy(out->bytes, c.digest, sizeof out->bytes);
    }
    XXH3_freeState(state);
    return rc;
}

/* ---- the memo ---- */

enum { M_SEL, M_PUT, M_CLEAR, M_COUNT, M_NSTMT };

static const char *const memo_sql[M_NSTMT] = {
    [M_SEL] = "SELECT size, mtime_ns, ino, dev, fp FROM fingerprints WHERE path = ?1",
    [M_PUT] = ("INSERT OR REPLACE INTO fingerprints(path, size, mtime_ns, ino, dev, fp, checked)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
    [M_CLEAR] = "DELETE FROM fingerprints",
    [M_COUNT] = "SELECT count(*) FROM fingerprints",
};

struct sift_fpmemo {
    sift_ctx_t *ctx;
    sqlite3 *db;
    bool owns_db;
    bool on; /* the table works; off: every lookup reads the file */
    sqlite3_stmt *st[M_NSTMT];
    sift_fpmemo_stats_t stats;
};

static void memo_fail(sift_fpmemo_t *m, int rc, const char *doing)
{
    if (sift__db_transient(rc) || !m->on)
        return;
    m->on = false;
    sift__cache_log(m->ctx, SIFT_LOG_WARN,
                    "fingerprint memo: %s: %s while %s; files are read again for this run",
                    sqlite3_db_filename(m->db, "main"), sqlite3_errmsg(m->db), doing);
}

static int memo_prepare(sift_fpmemo_t *m)
{
    for (int i = 0; i < M_NSTMT; i++) {
        int rc =
            sqlite3_prepare_v3(m->db, memo_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &m->st[i], NULL);
        if (rc != SQLITE_OK) {
            m->on = true;
            memo_fail(m, rc, "preparing statements");
            return rc == SQLITE_NOMEM ? SIFT_ENOMEM : 0;
        }
    }
    m->on = true;
    return 0;
}

int sift__fpmemo_attach(sift_fpmemo_t **out, sift_ctx_t *ctx, sqlite3 *db)
{
    *out = NULL;
    sift_fpmemo_t *m = calloc(1, sizeof *m);
    if (!m)
        return SIFT_ENOMEM;
    m->ctx = ctx;
    m->db = db;
    int rc = memo_prepare(m);
    if (rc < 0) {
        sift_fpmemo_close(m);
        return rc;
    }
    *out = m;
    return 0;
}

int sift_fpmemo_open(sift_fpmemo_t **out, sift_ctx_t *ctx, const char *db_path)
{
    *out = NULL;
    char err[SIFT_ERRBUF_SIZE] = "";
    sqlite3 *db = NULL;
    if (db_path && sift__db_open(db_path, SIFT__FPMEMO_SCHEMA, "fingerprints", &db, err) < 0) {
        sift__cache_log(ctx, SIFT_LOG_WARN, "fingerprint memo: %s; kept in memory for this run",
                        err);
        db = NULL;
    }
    if (!db && sift__db_open(":memory:", SIFT__FPMEMO_SCHEMA, "fingerprints", &db, err) < 0)
        return sift__ctx_error(ctx, SIFT_ENOMEM, "fingerprint memo: %s", err);
    int rc = sift__fpmemo_attach(out, ctx, db);
    if (rc < 0) {
        sqlite3_close(db);
        return rc;
    }
    (*out)->owns_db = true;
    return 0;
}

void sift_fpmemo_close(sift_fpmemo_t *m)
{
    if (!m)
        return;
    for (int i = 0; i < M_NSTMT; i++)
        sqlite3_finalize(m->st[i]);
    if (m->owns_db)
        sqlite3_close(m->db);
    free(m);
}

static int64_t now_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The remembered fingerprint of canon if its identity is still id. */
static bool memo_lookup(sift_fpmemo_t *m, const char *canon, const sift_file_id_t *id,
                        sift_fingerprint_t *out)
{
    if (!m->on)
        return false;
    sqlite3_stmt *st = m->st[M_SEL];
    sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    bool hit = false;
    if (rc == SQLITE_ROW) {
        sift_file_id_t was = {.size = (uint64_t)sqlite3_column_int64(st, 0),
                              .mtime_ns = sqlite3_column_int64(st, 1),
                              .ino = (uint64_t)sqlite3_column_int64(st, 2),
                              .dev = (uint64_t)sqlite3_column_int64(st, 3)};
        if (same_id(&was, id) && sqlite3_column_bytes(st, 4) == 16) {
            memcpy(out->bytes, sqlite3_column_blob(st, 4), 16);
            hit = true;
        }
    } else if (rc != SQLITE_DONE) {
        memo_fail(m, rc, "looking up a fingerprint");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return hit;
}

static void memo_store(sift_fpmemo_t *m, const char *canon, const sift_file_id_t *id,
                       const sift_fingerprint_t *fp)
{
    int64_t now = now_realtime_ns();
    if (!m->on || id->mtime_ns > now - FP_RACY_NS)
        return;
    sqlite3_stmt *st = m->st[M_PUT];
    sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)id->size);
    sqlite3_bind_int64(st, 3, id->mtime_ns);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)id->ino);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)id->dev);
    sqlite3_bind_blob(st, 6, fp->bytes, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        memo_fail(m, rc, "remembering a fingerprint");
}

/* The canonical path and the identity of a regular file, or an error naming it. */
static int resolve(sift_fpmemo_t *m, const char *path, char canon[PATH_MAX], sift_file_id_t *id)
{
    if (!realpath(path, canon)) {
        if (errno == ENOENT || errno == ENOTDIR)
            return sift__ctx_error(m->ctx, SIFT_ENOENT, "%s: no such file", path);
        snprintf(canon, PATH_MAX, "%s", path);
    }
    int rc = sift_file_id(canon, id);
    if (rc == SIFT_EINVAL)
        return sift__ctx_error(m->ctx, rc,
                               "%s: not a regular file; only files have a "
                               "fingerprint",
                               path);
    if (rc < 0)
        return sift__ctx_error(m->ctx, rc, "%s: %s", path, strerror(errno));
    return 0;
}

int sift_fpmemo_get(sift_fpmemo_t *m, const char *path, sift_fingerprint_t *out,
                    sift_fpmemo_info_t *info)
{
    char canon[PATH_MAX];
    sift_file_id_t id;
    int rc = resolve(m, path, canon, &id);
    if (rc < 0)
        return rc;
    sift_fpmemo_info_t tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    if (memo_lookup(m, canon, &id, out)) {
        m->stats.reused++;
        info->reused = true;
        info->id = id;
        return 0;
    }
    rc = sift_fingerprint_file(m->ctx, canon, out, &info->id);
    if (rc < 0)
        return rc;
    m->stats.hashed++;
    m->stats.bytes_hashed += info->id.size;
    info->bytes_read = info->id.size;
    memo_store(m, canon, &info->id, out);
    return 0;
}

int sift_fpmemo_peek(sift_fpmemo_t *m, const char *path, sift_fingerprint_t *out)
{
    char canon[PATH_MAX];
    sift_file_id_t id;
    int rc = resolve(m, path, canon, &id);
    if (rc < 0)
        return rc;
    if (!memo_lookup(m, canon, &id, out))
        return SIFT_ENOTFOUND;
    m->stats.reused++;
    return 0;
}

int sift_fpmemo_clear(sift_fpmemo_t *m)
{
    if (!m->on)
        return 0;
    sqlite3_stmt *st = m->st[M_CLEAR];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        memo_fail(m, rc, "clearing");
        return SIFT_EDB;
    }
    return 0;
}

uint64_t sift__fpmemo_count(sift_fpmemo_t *m)
{
    if (!m->on)
        return 0;
    sqlite3_stmt *st = m->st[M_COUNT];
    uint64_t n = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        n = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        memo_fail(m, rc, "counting");
    return n;
}

void sift_fpmemo_stats(sift_fpmemo_t *m, sift_fpmemo_stats_t *out)
{
    *out = m->stats;
    out->entries = sift__fpmemo_count(m);
}
