/* The index database: opening, the schema, and SQLite errors turned into messages that say
 * which file, what failed and what the user can do. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_ID    "capsift-index/2"
#define SCHEMA_ID_V1 "capsift-index/1" /* one positions row a flow: made /2 when written */

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS files("
    " id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
    " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,"
    " hash_alg TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    " format TEXT NOT NULL, compression TEXT NOT NULL, link_types TEXT NOT NULL,"
    " ts_digits INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,"
    " first_ns INTEGER, last_ns INTEGER, flows INTEGER NOT NULL,"
    " status TEXT NOT NULL, message TEXT NOT NULL, indexed_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS flows("
    " id INTEGER PRIMARY KEY,"
    " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " ip_version INTEGER NOT NULL, proto INTEGER NOT NULL,"
    " src BLOB NOT NULL, dst BLOB NOT NULL, sport INTEGER NOT NULL, dport INTEGER NOT NULL,"
    " vlan INTEGER NOT NULL, app TEXT NOT NULL,"
    " first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,"
    " packets_ab INTEGER NOT NULL, packets_ba INTEGER NOT NULL,"
    " bytes_ab INTEGER NOT NULL, bytes_ba INTEGER NOT NULL,"
    " flags_ab INTEGER NOT NULL, flags_ba INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS positions("
    " flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(flow_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS payloads("
    " hash BLOB PRIMARY KEY, size INTEGER NOT NULL, codec INTEGER NOT NULL, data BLOB NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS payload_refs("
    " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " hash BLOB NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(file_id, hash)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS flows_file ON flows(file_id);";

/* Secondary indexes: dropped before a bulk load into an empty index, built after it. */
const char sift__index_sql[] = "CREATE INDEX IF NOT EXISTS flows_src ON flows(src);"
                               "CREATE INDEX IF NOT EXISTS flows_dst ON flows(dst);"
                               "CREATE INDEX IF NOT EXISTS flows_sport ON flows(sport);"
                               "CREATE INDEX IF NOT EXISTS flows_dport ON flows(dport);"
                               "CREATE INDEX IF NOT EXISTS flows_first ON flows(first_ns);"
                               "CREATE INDEX IF NOT EXISTS flows_last ON flows(last_ns);"
                               "CREATE INDEX IF NOT EXISTS flows_app ON flows(app COLLATE NOCASE);";
const char sift__drop_index_sql[] =
    "DROP INDEX IF EXISTS flows_src; DROP INDEX IF EXISTS flows_dst;"
    "DROP INDEX IF EXISTS flows_sport; DROP INDEX IF EXISTS flows_dport;"
    "DROP INDEX IF EXISTS flows_first; DROP INDEX IF EXISTS flows_last;"
    "DROP INDEX IF EXISTS flows_app;";

int sift__db_error(sift_index_t *ix, int rc, const char *doing)
{
    const char *detail = ix->db ? sqlite3_errmsg(ix->db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return sift__ctx_error(ix->ctx, SIFT_EBUSY,
                               "%s: the database is locked by another process while %s; try "
                               "again when it has finished, or give a longer --busy-timeout",
                               ix->path, doing);
    case SQLITE_FULL:
        return sift__ctx_error(ix->ctx, SIFT_ENOSPC,
                               "%s: the disk is full while %s; free some space and run again "
                               "(everything committed before is kept)",
                               ix->path, doing);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return sift__ctx_error(ix->ctx, SIFT_EIO,
                               "%s: cannot write the database while %s (%s); check the "
                               "permissions of the file and of its directory",
                               ix->path, doing, detail);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return sift__ctx_error(ix->ctx, SIFT_EDB,
                               "%s: not a capsift index, or a damaged one (%s); move it aside "
                               "and index again",
                               ix->path, detail);
    case SQLITE_IOERR:
        return sift__ctx_error(ix->ctx, SIFT_EIO, "%s: input/output error while %s (%s)", ix->path,
                               doing, detail);
    default:
        return sift__ctx_error(ix->ctx, SIFT_EDB, "%s: database error while %s (%s)", ix->path,
                               doing, detail);
    }
}

int sift__db_exec(sift_index_t *ix, const char *sql, const char *doing)
{
    int rc = sqlite3_exec(ix->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sift__db_error(ix, rc, doing);
}

int sift__db_bind_query(sqlite3_stmt *st, int first, const sift_query_t *q)
{
    size_t n = q ? sift_query_nparams(q) : 0;
    for (size_t i = 0; i < n; i++) {
        const sift_query_param_t *p = sift_query_param(q, i);
        int col = first + (int)i;
        int rc;
        if (p->kind == 'i')
            rc = sqlite3_bind_int64(st, col, p->i);
        else if (p->kind == 'b')
            rc = sqlite3_bind_blob(st, col, p->b, 16, SQLITE_STATIC);
        else
            rc = sqlite3_bind_text(st, col, p->t, -1, SQLITE_STATIC);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* Checks that an existing database is a capsift index, or marks a new one as such. */
static int check_identity(sift_index_t *ix)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(ix->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* no meta table: a new database (no tables at all) or someone else's */
        sqlite3_stmt *cnt = NULL;
        int n = -1;
        if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM sqlite_master", -1, &cnt, NULL) ==
                SQLITE_OK &&
            sqlite3_step(cnt) == SQLITE_ROW)
            n = sqlite3_column_int(cnt, 0);
        int crc = sqlite3_errcode(ix->db);
        sqlite3_finalize(cnt);
        if (n < 0)
            return sift__db_error(ix, crc, "opening it");
        if (n > 0)
            return sift__ctx_error(ix->ctx, SIFT_EDB,
                                   "%s: an SQLite database, but not a capsift index; give another "
                                   "--db",
                                   ix->path);
        return ix->read_only ? sift__ctx_error(ix->ctx, SIFT_ENOENT,
                                               "%s: an empty database, not yet an index; run "
                                               "capsift index first",
                                               ix->path)
                             : 1; /* new */
    }
    rc = sqlite3_step(st);
    const char *id = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "";
    bool ok = strcmp(id, SCHEMA_ID) == 0, v1 = strcmp(id, SCHEMA_ID_V1) == 0;
    int serr = rc;
    sqlite3_finalize(st);
    if (serr != SQLITE_ROW && serr != SQLITE_DONE)
        return sift__db_error(ix, serr, "opening it");
    if (v1) /* queries read it as it is; an update converts it first */
        return ix->read_only ? 0 : 2;
    if (!ok)
        return sift__ctx_error(ix->ctx, SIFT_EDB,
                               "%s: an index of another capsift version or another program; "
                               "index into a new --db",
                               ix->path);
    return 0;
}

int sift_index_open(sift_index_t **out, sift_ctx_t *ctx, const char *path,
                    const sift_index_opts_t *opts)
{
    *out = NULL;
    sift_index_t *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->path = strdup(path))) {
        free(ix);
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    }
    ix->ctx = ctx;
    ix->read_only = opts && opts->read_only;
    unsigned timeout = opts && opts->busy_timeout_ms ? opts->busy_timeout_ms : 5000;
    int flags = ix->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &ix->db, flags | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (ix->read_only && (rc & 0xff) == SQLITE_CANTOPEN)
            rc = sift__ctx_error(ctx, SIFT_ENOENT, "%s: no such index; run capsift index first",
                                 path);
        else
            rc = sift__db_error(ix, rc, "opening it");
        sift_index_close(ix);
        return rc;
    }
    sqlite3_busy_timeout(ix->db, (int)timeout);
    sqlite3_extended_result_codes(ix->db, 0);
    int id = check_identity(ix);
    if (id < 0) {
        sift_index_close(ix);
        return id;
    }
    if (!ix->read_only) {
        rc = sift__db_exec(ix,
                           "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                           "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384;"
                           "PRAGMA mmap_size=268435456; PRAGMA temp_store=FILE;",
                           "setting it up");
        if (rc == 0)
            rc = sift__db_exec(ix, "BEGIN IMMEDIATE", "creating its tables");
        if (rc == 0 && id == 2) /* several segments a flow: the key gains a sequence number */
            rc = sift__db_exec(ix,
                               "CREATE TABLE positions2(flow_id INTEGER NOT NULL REFERENCES "
                               "flows(id) ON DELETE CASCADE, seq INTEGER NOT NULL, data BLOB NOT "
                               "NULL, PRIMARY KEY(flow_id, seq)) WITHOUT ROWID;"
                               "INSERT INTO positions2 SELECT flow_id, 0, data FROM positions;"
                               "DROP TABLE positions; ALTER TABLE positions2 RENAME TO positions;"
                               "UPDATE meta SET value = '" SCHEMA_ID "' WHERE key = 'schema';",
                               "converting it to this version's layout");
        if (rc == 0)
            rc = sift__db_exec(ix, schema_sql, "creating its tables");
        if (rc == 0 && id == 1)
            rc = sift__db_exec(ix, "INSERT INTO meta(key, value) VALUES('schema', '" SCHEMA_ID "')",
                               "creating its tables");
        if (rc == 0)
            rc = sift__db_exec(ix, "COMMIT", "creating its tables");
    } else {
        rc = sift__db_exec(ix, "PRAGMA query_only=1; PRAGMA mmap_size=268435456;", "opening it");
    }
    if (rc < 0) {
        sift_index_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void sift_index_close(sift_index_t *ix)
{
    if (!ix)
        return;
    if (ix->db && !ix->read_only)
        sqlite3_exec(ix->db, "PRAGMA optimize", NULL, NULL, NULL);
    sqlite3_close(ix->db);
    free(ix->path);
    free(ix);
}
