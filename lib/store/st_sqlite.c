/* The SQLite backend of the index: opening, the schema, every write of an update, and SQLite
 * errors turned into messages that say which file, what failed and what the user can do.
 * Queries are in st_sqlite_read.c. */
#include "store/st_sqlite.h"

#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Layouts: /1 one positions row a flow; /2 segments of positions; /3 flows oriented by their
 * SYN (or the port rule), with Zeek's state and history; /4 the application metadata (a table
 * per protocol, and the names table); /5 the packets that carry each payload (payload_packets,
 * payload_refs.ord, files.payloads). An update converts an older layout and reads again the
 * files written before LAYOUT_KEPT (files.layout says which were), and those whose payloads
 * are wanted but were stored without their packets; queries read any. */
#define SCHEMA_ID    "capsift-index/5"
#define SCHEMA_ID_V4 "capsift-index/4"
#define SCHEMA_ID_V3 "capsift-index/3"
#define SCHEMA_ID_V2 "capsift-index/2"
#define SCHEMA_ID_V1 "capsift-index/1"
#define LAYOUT       5
#define LAYOUT_TEXT  "5"
#define LAYOUT_KEPT  4 /* files of this layout and later are not read again for it */

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS files("
    " id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
    " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,"
    " hash_alg TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    " format TEXT NOT NULL, compression TEXT NOT NULL, link_types TEXT NOT NULL,"
    " ts_digits INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,"
    " first_ns INTEGER, last_ns INTEGER, flows INTEGER NOT NULL,"
    " status TEXT NOT NULL, message TEXT NOT NULL, indexed_at INTEGER NOT NULL,"
    " layout INTEGER NOT NULL DEFAULT 2, vlan_key INTEGER NOT NULL DEFAULT 0,"
    " meta INTEGER NOT NULL DEFAULT 0, payloads INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS flows("
    " id INTEGER PRIMARY KEY,"
    " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " ip_version INTEGER NOT NULL, proto INTEGER NOT NULL,"
    " src BLOB NOT NULL, dst BLOB NOT NULL, sport INTEGER NOT NULL, dport INTEGER NOT NULL,"
    " vlan INTEGER NOT NULL, app TEXT NOT NULL,"
    " first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,"
    " packets_ab INTEGER NOT NULL, packets_ba INTEGER NOT NULL,"
    " bytes_ab INTEGER NOT NULL, bytes_ba INTEGER NOT NULL,"
    " flags_ab INTEGER NOT NULL, flags_ba INTEGER NOT NULL,"
    " state TEXT NOT NULL DEFAULT '', history TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS positions("
    " flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(flow_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS payloads("
    " hash BLOB PRIMARY KEY, size INTEGER NOT NULL, codec INTEGER NOT NULL, data BLOB NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS payload_refs("
    " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " hash BLOB NOT NULL, count INTEGER NOT NULL, ord INTEGER, PRIMARY KEY(file_id, hash))"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS payload_packets("
    " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(file_id, seq)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS flows_file ON flows(file_id);"
    /* domain names by reversed labels (st_names.c): a suffix is a range */
    "CREATE TABLE IF NOT EXISTS names("
    " kind INTEGER NOT NULL, name TEXT NOT NULL,"
    " flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    " PRIMARY KEY(kind, name, flow_id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS names_flow ON names(flow_id);"
    /* message-type signatures (st_sqlite_sig.c): mask, fields and sketch as packed blobs */
    "CREATE TABLE IF NOT EXISTS signatures("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, set_name TEXT NOT NULL,"
    " proto INTEGER NOT NULL, port INTEGER NOT NULL, dir INTEGER NOT NULL, text INTEGER NOT NULL,"
    " mask BLOB NOT NULL, type_offset INTEGER NOT NULL, type INTEGER NOT NULL,"
    " min_len INTEGER NOT NULL, max_len INTEGER NOT NULL, example BLOB NOT NULL,"
    " fields BLOB NOT NULL, sketch BLOB NOT NULL, packets INTEGER NOT NULL,"
    " units INTEGER NOT NULL, flows INTEGER NOT NULL, share REAL NOT NULL,"
    " usage INTEGER NOT NULL, last_seen INTEGER NOT NULL, created INTEGER NOT NULL,"
    " confidence REAL NOT NULL);";

/* Secondary indexes: dropped before a bulk load into an empty index, built after it. */
static const char index_sql[] = "CREATE INDEX IF NOT EXISTS flows_src ON flows(src);"
                                "CREATE INDEX IF NOT EXISTS flows_dst ON flows(dst);"
                                "CREATE INDEX IF NOT EXISTS flows_sport ON flows(sport);"
                                "CREATE INDEX IF NOT EXISTS flows_dport ON flows(dport);"
                                "CREATE INDEX IF NOT EXISTS flows_first ON flows(first_ns);"
                                "CREATE INDEX IF NOT EXISTS flows_last ON flows(last_ns);"
                                "CREATE INDEX IF NOT EXISTS flows_app ON flows(app COLLATE NOCASE);"
                                "CREATE INDEX IF NOT EXISTS tls_ja3 ON tls(ja3);"
                                "CREATE INDEX IF NOT EXISTS tls_ja3s ON tls(ja3s);"
                                "CREATE INDEX IF NOT EXISTS ssh_hassh ON ssh(hassh);";
static const char drop_index_sql[] =
    "DROP INDEX IF EXISTS flows_src; DROP INDEX IF EXISTS flows_dst;"
    "DROP INDEX IF EXISTS flows_sport; DROP INDEX IF EXISTS flows_dport;"
    "DROP INDEX IF EXISTS flows_first; DROP INDEX IF EXISTS flows_last;"
    "DROP INDEX IF EXISTS flows_app; DROP INDEX IF EXISTS tls_ja3;"
    "DROP INDEX IF EXISTS tls_ja3s; DROP INDEX IF EXISTS ssh_hassh;";

/* The metadata tables, one per protocol, named as the protocol and with a column per field of
 * sift_meta_fields (lists as JSON arrays, a NAME field as its name): "CREATE TABLE dns(id,
 * flow_id, ts_ns, reply_ns, trans_id, query, ...)". The text goes into buf (SQL_META_MAX). */
#define SQL_META_MAX 4096
static size_t meta_columns(sift_meta_proto_t p, bool types, char *buf, size_t size)
{
    size_t n = 0, nf;
    const sift_meta_field_t *f = sift_meta_fields(p, &nf);
    for (size_t k = 0; k < nf && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, ", \"%s\"%s", f[k].name,
                              !types ? ""
                              : f[k].type == SIFT_META_T_NUM || f[k].type == SIFT_META_T_ID ||
                                      f[k].type == SIFT_META_T_HEX
                                  ? " INTEGER"
                                  : " TEXT");
    return n < size ? n : size - 1;
}

static int create_meta_tables(st_sql_t *s)
{
    char sql[3 * SQL_META_MAX], cols[SQL_META_MAX];
    for (int p = 0; p < SIFT_META_NPROTO; p++) {
        const char *name = sift_meta_proto_name((sift_meta_proto_t)p);
        meta_columns((sift_meta_proto_t)p, true, cols, sizeof cols);
        snprintf(sql, sizeof sql,
                 "CREATE TABLE IF NOT EXISTS %s(id INTEGER PRIMARY KEY,"
                 " flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
                 " ts_ns INTEGER, reply_ns INTEGER%s);"
                 "CREATE INDEX IF NOT EXISTS %s_flow ON %s(flow_id);",
                 name, cols, name, name);
        int rc = sift__sql_exec(s, sql, "creating its tables");
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sift__sql_error(st_sql_t *s, int rc, const char *doing)
{
    const sift_index_t *ix = &s->ix;
    const char *detail = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
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

int sift__sql_exec(st_sql_t *s, const char *sql, const char *doing)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, doing);
}

/* Checks that an existing database is a capsift index, or marks a new one as such. */
static int check_identity(st_sql_t *s)
{
    const sift_index_t *ix = &s->ix;
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* no meta table: a new database (no tables at all) or someone else's */
        sqlite3_stmt *cnt = NULL;
        int n = -1;
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &cnt, NULL) ==
                SQLITE_OK &&
            sqlite3_step(cnt) == SQLITE_ROW)
            n = sqlite3_column_int(cnt, 0);
        int crc = sqlite3_errcode(s->db);
        sqlite3_finalize(cnt);
        if (n < 0)
            return sift__sql_error(s, crc, "opening it");
        if (n > 0)
            return sift__ctx_error(ix->ctx, SIFT_EDB,
                                   "%s: an SQLite database, but not a capsift index (left as it "
                                   "is)",
                                   ix->path);
        return ix->read_only ? sift__ctx_error(ix->ctx, SIFT_ENOENT,
                                               "%s: an empty database, not yet an index; run "
                                               "capsift index first",
                                               ix->path)
                             : 1; /* new */
    }
    rc = sqlite3_step(st);
    const char *id = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "";
    s->layout = strcmp(id, SCHEMA_ID) == 0      ? LAYOUT
                : strcmp(id, SCHEMA_ID_V4) == 0 ? 4
                : strcmp(id, SCHEMA_ID_V3) == 0 ? 3
                : strcmp(id, SCHEMA_ID_V2) == 0 ? 2
                : strcmp(id, SCHEMA_ID_V1) == 0 ? 1
                                                : 0;
    int serr = rc;
    sqlite3_finalize(st);
    if (serr != SQLITE_ROW && serr != SQLITE_DONE)
        return sift__sql_error(s, serr, "opening it");
    if (s->layout && s->layout < LAYOUT) /* queries read it as it is; an update converts it */
        return ix->read_only ? 0 : 2;
    if (!s->layout)
        return sift__ctx_error(ix->ctx, SIFT_EDB,
                               "%s: an index of another capsift version or another program; "
                               "index into a new --db",
                               ix->path);
    return 0;
}

/* Makes the tables of a new index, or brings an old layout up to this one. */
static int set_up(st_sql_t *s, int id)
{
    int rc = sift__sql_exec(s,
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384;"
                            "PRAGMA mmap_size=268435456; PRAGMA temp_store=FILE;",
                            "setting it up");
    if (rc == 0)
        rc = sift__sql_exec(s, "BEGIN IMMEDIATE", "creating its tables");
    if (rc == 0 && id == 2 && s->layout == 1) /* several segments a flow: seq in the key */
        rc = sift__sql_exec(s,
                            "CREATE TABLE positions2(flow_id INTEGER NOT NULL REFERENCES "
                            "flows(id) ON DELETE CASCADE, seq INTEGER NOT NULL, data BLOB NOT "
                            "NULL, PRIMARY KEY(flow_id, seq)) WITHOUT ROWID;"
                            "INSERT INTO positions2 SELECT flow_id, 0, data FROM positions;"
                            "DROP TABLE positions; ALTER TABLE positions2 RENAME TO positions;",
                            "converting it to this version's layout");
    /* the files of an older layout are read again (files.layout) */
    if (rc == 0 && id == 2 && s->layout <= 2)
        rc = sift__sql_exec(s,
                            "ALTER TABLE files ADD COLUMN layout INTEGER NOT NULL DEFAULT 2;"
                            "ALTER TABLE files ADD COLUMN vlan_key INTEGER NOT NULL DEFAULT 0;"
                            "ALTER TABLE flows ADD COLUMN state TEXT NOT NULL DEFAULT '';"
                            "ALTER TABLE flows ADD COLUMN history TEXT NOT NULL DEFAULT '';",
                            "converting it to this version's layout");
    if (rc == 0 && id == 2 && s->layout <= 3)
        rc = sift__sql_exec(s, "ALTER TABLE files ADD COLUMN meta INTEGER NOT NULL DEFAULT 0;",
                            "converting it to this version's layout");
    if (rc == 0 && id == 2 && s->layout <= 4)
        rc = sift__sql_exec(s,
                            "ALTER TABLE files ADD COLUMN payloads INTEGER NOT NULL DEFAULT 0;"
                            "ALTER TABLE payload_refs ADD COLUMN ord INTEGER;"
                            "UPDATE files SET payloads = 1 WHERE id IN "
                            "(SELECT DISTINCT file_id FROM payload_refs);"
                            "UPDATE meta SET value = '" SCHEMA_ID "' WHERE key = 'schema';",
                            "converting it to this version's layout");
    if (rc == 0 && id != 0)
        s->layout = LAYOUT;
    if (rc == 0)
        rc = sift__sql_exec(s, schema_sql, "creating its tables");
    if (rc == 0)
        rc = create_meta_tables(s);
    if (rc == 0 && id == 1)
        rc = sift__sql_exec(s, "INSERT INTO meta(key, value) VALUES('schema', '" SCHEMA_ID "')",
                            "creating its tables");
    if (rc == 0)
        rc = sift__sql_exec(s, "COMMIT", "creating its tables");
    return rc;
}

static void sql_close(sift_index_t *ix)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_finalize(s->sel_file);
    sqlite3_finalize(s->upd_file);
    if (s->db && !ix->read_only)
        sqlite3_exec(s->db, "PRAGMA optimize", NULL, NULL, NULL);
    sqlite3_close(s->db);
    free(ix->path);
    free(s);
}

/* sift_name_match(pattern, key): the query language's matching of names on labels. */
static void name_match_fn(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *pat = (const char *)sqlite3_value_text(argv[0]);
    const char *key = (const char *)sqlite3_value_text(argv[1]);
    sqlite3_result_int(c, pat && key && sift__name_match(pat, key));
}

static int sql_open(sift_index_t **out, sift_ctx_t *ctx, const char *path,
                    const sift_index_opts_t *opts)
{
    st_sql_t *s = calloc(1, sizeof *s);
    if (!s || !(s->ix.path = strdup(path))) {
        free(s);
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    }
    sift_index_t *ix = &s->ix;
    ix->be = &sift__sqlite_backend;
    ix->ctx = ctx;
    ix->read_only = opts && opts->read_only;
    unsigned timeout = opts && opts->busy_timeout_ms ? opts->busy_timeout_ms : 5000;
    int flags = ix->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        sql_close(ix);
        return sift__ctx_error(ctx, SIFT_EINVAL, "%s: is a directory, not an index file", path);
    }
    int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (ix->read_only && (rc & 0xff) == SQLITE_CANTOPEN)
            rc = sift__ctx_error(ctx, SIFT_ENOENT, "%s: no such index; run capsift index first",
                                 path);
        else
            rc = sift__sql_error(s, rc, "opening it");
        sql_close(ix);
        return rc;
    }
    sqlite3_busy_timeout(s->db, (int)timeout);
    sqlite3_extended_result_codes(s->db, 0);
    rc = sqlite3_create_function(s->db, "sift_name_match", 2,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                 name_match_fn, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = sift__sql_error(s, rc, "opening it");
        sql_close(ix);
        return rc;
    }
    int id = check_identity(s);
    rc = id < 0 ? id
         : !ix->read_only
             ? set_up(s, id)
             : sift__sql_exec(s, "PRAGMA query_only=1; PRAGMA mmap_size=268435456;", "opening it");
    if (rc < 0) {
        sql_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

/* ---- before reading captures ---- */

static int sql_find_file(sift_index_t *ix, const char *path, int64_t *id, st_file_rec_t *rec)
{
    st_sql_t *s = st_sql(ix);
    int rc = SQLITE_OK;
    if (!s->sel_file)
        rc = sqlite3_prepare_v3(s->db,
                                "SELECT id, size, mtime_ns, inode, hash_alg, fingerprint, "
                                "layout, vlan_key, meta, payloads FROM files WHERE path = ?",
                                -1, SQLITE_PREPARE_PERSISTENT, &s->sel_file, NULL);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "reading it");
    sqlite3_stmt *st = s->sel_file;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return sift__sql_error(s, rc, "reading it");
    memset(rec, 0, sizeof *rec);
    *id = sqlite3_column_int64(st, 0);
    rec->path = path;
    rec->size = (uint64_t)sqlite3_column_int64(st, 1);
    rec->mtime_ns = sqlite3_column_int64(st, 2);
    rec->inode = (uint64_t)sqlite3_column_int64(st, 3);
    rec->hash_alg = (const char *)sqlite3_column_text(st, 4);
    rec->fingerprint = (const char *)sqlite3_column_text(st, 5);
    rec->stale = sqlite3_column_int(st, 6) < LAYOUT_KEPT;
    rec->vlan_key = sqlite3_column_int(st, 7) != 0;
    rec->meta = sqlite3_column_int(st, 8) != 0;
    rec->payloads = (uint8_t)sqlite3_column_int(st, 9);
    return 1;
}

/* Runs a prepared statement that returns no row, and resets it. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int sql_restat_file(sift_index_t *ix, int64_t id, uint64_t size, int64_t mtime_ns,
                           uint64_t inode)
{
    st_sql_t *s = st_sql(ix);
    int rc = SQLITE_OK;
    if (!s->upd_file)
        rc = sqlite3_prepare_v3(s->db,
                                "UPDATE files SET size = ?, mtime_ns = ?, inode = ? WHERE id = ?",
                                -1, SQLITE_PREPARE_PERSISTENT, &s->upd_file, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s->upd_file, 1, (int64_t)size);
        sqlite3_bind_int64(s->upd_file, 2, mtime_ns);
        sqlite3_bind_int64(s->upd_file, 3, (int64_t)inode);
        sqlite3_bind_int64(s->upd_file, 4, id);
        rc = step_done(s->upd_file);
    }
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, "updating a file's record");
}

static int sql_remove_files(sift_index_t *ix, char *const *paths, size_t n)
{
    st_sql_t *s = st_sql(ix);
    if (n == 0)
        return 0;
    sqlite3_stmt *del = NULL;
    int rc = sqlite3_prepare_v2(s->db, "DELETE FROM files WHERE path = ?", -1, &del, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        sqlite3_bind_text(del, 1, paths[i], -1, SQLITE_STATIC);
        rc = step_done(del);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    int err = rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, "removing vanished files");
    if (err)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(del);
    return err;
}

static int sql_drop_unused_payloads(sift_index_t *ix)
{
    return sift__sql_exec(st_sql(ix),
                          "DELETE FROM payloads WHERE hash NOT IN (SELECT hash FROM payload_refs)",
                          "removing unused payloads");
}

/* ---- one update run ---- */

#define SPILL_BATCH 256 /* spilled segments per transaction of the temporary database */

static int prepare_writes(st_sql_t *s)
{
    static const struct {
        size_t offset;
        const char *sql;
    } stmts[] = {
        {offsetof(st_sql_t, ins_file),
         "INSERT INTO files(path, size, mtime_ns, inode, hash_alg, fingerprint, format, "
         "compression, link_types, ts_digits, packets, bytes, first_ns, last_ns, flows, status, "
         "message, indexed_at, layout, vlan_key, meta, payloads) "
         "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?," LAYOUT_TEXT ",?,?,?) "
         "ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, "
         "inode=excluded.inode, hash_alg=excluded.hash_alg, fingerprint=excluded.fingerprint, "
         "format=excluded.format, compression=excluded.compression, "
         "link_types=excluded.link_types, ts_digits=excluded.ts_digits, "
         "packets=excluded.packets, bytes=excluded.bytes, first_ns=excluded.first_ns, "
         "last_ns=excluded.last_ns, flows=excluded.flows, status=excluded.status, "
         "message=excluded.message, indexed_at=excluded.indexed_at, layout=excluded.layout, "
         "vlan_key=excluded.vlan_key, meta=excluded.meta, payloads=excluded.payloads "
         "RETURNING id"},
        {offsetof(st_sql_t, del_flows), "DELETE FROM flows WHERE file_id = ?"},
        {offsetof(st_sql_t, del_refs), "DELETE FROM payload_refs WHERE file_id = ?"},
        {offsetof(st_sql_t, del_pkts), "DELETE FROM payload_packets WHERE file_id = ?"},
        {offsetof(st_sql_t, ins_flow),
         "INSERT INTO flows(file_id, ip_version, proto, src, dst, sport, dport, vlan, app, "
         "first_ns, last_ns, packets_ab, packets_ba, bytes_ab, bytes_ba, flags_ab, flags_ba, "
         "state, history) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
        {offsetof(st_sql_t, ins_pos), "INSERT INTO positions(flow_id, seq, data) VALUES(?,?,?)"},
        {offsetof(st_sql_t, mv_seg),
         "INSERT INTO positions(flow_id, seq, data) SELECT ?, ?, data FROM temp.spill "
         "WHERE id = ?"},
        {offsetof(st_sql_t, del_seg), "DELETE FROM temp.spill WHERE id = ?"},
        {offsetof(st_sql_t, ins_ref),
         "INSERT INTO payload_refs(file_id, hash, count, ord) VALUES(?,?,?,?)"},
        {offsetof(st_sql_t, ins_pkts),
         "INSERT INTO payload_packets(file_id, seq, data) VALUES(?,?,?)"},
        {offsetof(st_sql_t, has_payload), "SELECT 1 FROM payloads WHERE hash = ?"},
        {offsetof(st_sql_t, ins_payload),
         "INSERT INTO payloads(hash, size, codec, data) VALUES(?,?,?,?)"},
        {offsetof(st_sql_t, ins_spill), "INSERT INTO temp.spill(id, data) VALUES(?,?)"},
        {offsetof(st_sql_t, ins_name),
         "INSERT OR IGNORE INTO names(kind, name, flow_id) VALUES(?,?,?)"},
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        sqlite3_stmt **st = (sqlite3_stmt **)(void *)((char *)s + stmts[i].offset);
        int rc = sqlite3_prepare_v3(s->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
        if (rc != SQLITE_OK)
            return sift__sql_error(s, rc, "preparing to write");
    }
    for (int p = 0; p < SIFT_META_NPROTO; p++) {
        char sql[3 * SQL_META_MAX], cols[SQL_META_MAX], marks[SQL_META_MAX];
        size_t nf, m = 0;
        sift_meta_fields((sift_meta_proto_t)p, &nf);
        meta_columns((sift_meta_proto_t)p, false, cols, sizeof cols);
        for (size_t k = 0; k < nf && m + 3 < sizeof marks; k++)
            m += (size_t)snprintf(marks + m, sizeof marks - m, ",?");
        snprintf(sql, sizeof sql, "INSERT INTO %s(flow_id, ts_ns, reply_ns%s) VALUES(?,?,?%s)",
                 sift_meta_proto_name((sift_meta_proto_t)p), cols, m ? marks : "");
        int rc =
            sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->ins_meta[p], NULL);
        if (rc != SQLITE_OK)
            return sift__sql_error(s, rc, "preparing to write");
    }
    return 0;
}

static void finalize_writes(st_sql_t *s)
{
    sqlite3_stmt **all[] = {&s->ins_file,  &s->del_flows, &s->del_refs,    &s->del_pkts,
                            &s->ins_flow,  &s->ins_pos,   &s->mv_seg,      &s->del_seg,
                            &s->ins_ref,   &s->ins_pkts,  &s->has_payload, &s->ins_payload,
                            &s->ins_spill, &s->ins_name};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
    for (int p = 0; p < SIFT_META_NPROTO; p++) {
        sqlite3_finalize(s->ins_meta[p]);
        s->ins_meta[p] = NULL;
    }
    free(s->json);
    s->json = NULL;
    s->json_cap = 0;
}

static int sql_load_begin(sift_index_t *ix)
{
    st_sql_t *s = st_sql(ix);
    /* an empty index: its secondary indexes are built once after the load, not per row */
    sqlite3_stmt *st = NULL;
    s->bulk = false;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM flows LIMIT 1", -1, &st, NULL) == SQLITE_OK)
        s->bulk = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    int rc = s->bulk ? sift__sql_exec(s, drop_index_sql, "preparing a bulk load") : 0;
    /* spilled segments wait in the connection's TEMP table: no lock on the index, and gone
     * with the connection if the run dies */
    if (rc == 0)
        rc = sift__sql_exec(s,
                            "CREATE TEMP TABLE IF NOT EXISTS spill("
                            "id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
                            "DELETE FROM temp.spill;",
                            "setting up its temporary table");
    if (rc == 0)
        rc = prepare_writes(s);
    return rc;
}

static int sql_spill_flush(sift_index_t *ix)
{
    st_sql_t *s = st_sql(ix);
    if (!s->in_batch)
        return 0;
    s->in_batch = false;
    s->batched = 0;
    int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, "spilling packet positions");
}

static int sql_spill(sift_index_t *ix, uint64_t spill_id, const uint8_t *blob, size_t len)
{
    st_sql_t *s = st_sql(ix);
    int rc = SQLITE_OK;
    if (!s->in_batch) {
        rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
        s->in_batch = rc == SQLITE_OK;
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s->ins_spill, 1, (int64_t)spill_id);
        sqlite3_bind_blob(s->ins_spill, 2, blob, (int)len, SQLITE_STATIC);
        rc = step_done(s->ins_spill);
    }
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "spilling packet positions");
    return ++s->batched >= SPILL_BATCH ? sql_spill_flush(ix) : 0;
}

static int sql_load_end(sift_index_t *ix, bool failed)
{
    st_sql_t *s = st_sql(ix);
    int rc = sql_spill_flush(ix);
    finalize_writes(s);
    sqlite3_exec(s->db, "DELETE FROM temp.spill", NULL, NULL, NULL);
    if (s->bulk) { /* also after a failure: the index must stay usable */
        int irc = sift__sql_exec(s, index_sql, "building the indexes");
        if (rc == 0)
            rc = irc;
    }
    s->bulk = false;
    return failed ? 0 : rc;
}

/* ---- one file, one transaction ---- */

#define WRITING "writing the index"

static int sql_begin_file(sift_index_t *ix, const st_file_rec_t *r, int64_t *file_id)
{
    st_sql_t *s = st_sql(ix);
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, WRITING);
    sqlite3_stmt *st = s->ins_file;
    sqlite3_bind_text(st, 1, r->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)r->size);
    sqlite3_bind_int64(st, 3, r->mtime_ns);
    sqlite3_bind_int64(st, 4, (int64_t)r->inode);
    sqlite3_bind_text(st, 5, r->hash_alg, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->format, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->compression, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->link_types, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, (int)r->ts_digits);
    sqlite3_bind_int64(st, 11, (int64_t)r->packets);
    sqlite3_bind_int64(st, 12, (int64_t)r->bytes);
    if (r->timed) {
        sqlite3_bind_int64(st, 13, r->first_ns);
        sqlite3_bind_int64(st, 14, r->last_ns);
    } else {
        sqlite3_bind_null(st, 13);
        sqlite3_bind_null(st, 14);
    }
    sqlite3_bind_int64(st, 15, (int64_t)r->flows);
    sqlite3_bind_text(st, 16, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 17, r->message, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 18, r->indexed_at);
    sqlite3_bind_int(st, 19, r->vlan_key);
    sqlite3_bind_int(st, 20, r->meta);
    sqlite3_bind_int(st, 21, r->payloads);
    rc = sqlite3_step(st);
    *file_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
    /* what an earlier read of the file left */
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s->del_flows, 1, *file_id);
        rc = step_done(s->del_flows);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s->del_refs, 1, *file_id);
        rc = step_done(s->del_refs);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s->del_pkts, 1, *file_id);
        rc = step_done(s->del_pkts);
    }
    if (rc != SQLITE_OK) {
        int err = sift__sql_error(s, rc, WRITING);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return err;
    }
    return 0;
}

static int sql_put_flow(sift_index_t *ix, int64_t file_id, const sift_flow_t *f, const char *app,
                        int64_t *flow_id)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_stmt *st = s->ins_flow;
    sqlite3_bind_int64(st, 1, file_id);
    sqlite3_bind_int(st, 2, f->key.ip_version);
    sqlite3_bind_int(st, 3, f->key.proto);
    sqlite3_bind_blob(st, 4, sift_flow_addr_a(f), 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, sift_flow_addr_b(f), 16, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, sift_flow_port_a(f));
    sqlite3_bind_int(st, 7, sift_flow_port_b(f));
    sqlite3_bind_int(st, 8, f->vlan);
    sqlite3_bind_text(st, 9, app, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, f->first_ns);
    sqlite3_bind_int64(st, 11, f->last_ns);
    sqlite3_bind_int64(st, 12, (int64_t)f->packets[SIFT_FLOW_AB]);
    sqlite3_bind_int64(st, 13, (int64_t)f->packets[SIFT_FLOW_BA]);
    sqlite3_bind_int64(st, 14, (int64_t)f->bytes[SIFT_FLOW_AB]);
    sqlite3_bind_int64(st, 15, (int64_t)f->bytes[SIFT_FLOW_BA]);
    sqlite3_bind_int(st, 16, f->tcp_flags[SIFT_FLOW_AB]);
    sqlite3_bind_int(st, 17, f->tcp_flags[SIFT_FLOW_BA]);
    char history[SIFT_FLOW_HISTORY_MAX];
    sift_flow_history(f, history, sizeof history);
    sqlite3_bind_text(st, 18, sift_flow_state(f), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 19, history, -1, SQLITE_TRANSIENT);
    int rc = step_done(st);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, WRITING);
    *flow_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static int sql_put_positions(sift_index_t *ix, int64_t flow_id, uint32_t seq, const uint8_t *blob,
                             size_t len)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_bind_int64(s->ins_pos, 1, flow_id);
    sqlite3_bind_int64(s->ins_pos, 2, seq);
    sqlite3_bind_blob(s->ins_pos, 3, blob, (int)len, SQLITE_STATIC);
    int rc = step_done(s->ins_pos);
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, WRITING);
}

static int sql_put_spilled(sift_index_t *ix, int64_t flow_id, uint32_t seq, uint64_t spill_id)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_bind_int64(s->mv_seg, 1, flow_id);
    sqlite3_bind_int64(s->mv_seg, 2, seq);
    sqlite3_bind_int64(s->mv_seg, 3, (int64_t)spill_id);
    int rc = step_done(s->mv_seg);
    if (rc == SQLITE_OK && sqlite3_changes(s->db) != 1)
        rc = SQLITE_CORRUPT; /* the segment is not where the writer put it */
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s->del_seg, 1, (int64_t)spill_id);
        rc = step_done(s->del_seg);
    }
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, WRITING);
}

/* A list field (items separated by SIFT_META_LIST_SEP) as a JSON array of strings, in s->json.
 * The parsers' text is printable already; quotes, backslashes and control bytes are escaped. */
static const char *json_list(st_sql_t *s, const char *list)
{
    size_t need = 3 + 6 * strlen(list) + 4;
    if (need > s->json_cap) {
        char *n = realloc(s->json, need);
        if (!n)
            return NULL;
        s->json = n;
        s->json_cap = need;
    }
    char *o = s->json;
    *o++ = '[';
    *o++ = '"';
    for (const char *c = list; *c; c++) {
        unsigned char b = (unsigned char)*c;
        if (b == (unsigned char)SIFT_META_LIST_SEP) {
            memcpy(o, "\",\"", 3);
            o += 3;
        } else if (b == '"' || b == '\\') {
            *o++ = '\\';
            *o++ = (char)b;
        } else if (b < 0x20) {
            static const char hex[] = "0123456789abcdef";
            memcpy(o, "\\u00", 4);
            o[4] = hex[b >> 4];
            o[5] = hex[b & 15];
            o += 6;
        } else {
            *o++ = (char)b;
        }
    }
    *o++ = '"';
    *o++ = ']';
    *o = '\0';
    return s->json;
}

static int sql_put_meta(sift_index_t *ix, int64_t flow_id, const sift_meta_row_t *row)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_stmt *st = s->ins_meta[row->proto];
    sqlite3_bind_int64(st, 1, flow_id);
    for (int k = 0; k < 2; k++) {
        if (row->ts_ns[k] != INT64_MIN)
            sqlite3_bind_int64(st, 2 + k, row->ts_ns[k]);
        else
            sqlite3_bind_null(st, 2 + k);
    }
    size_t nf;
    const sift_meta_field_t *f = sift_meta_fields((sift_meta_proto_t)row->proto, &nf);
    int rc = SQLITE_OK;
    for (size_t k = 0; k < nf && rc == SQLITE_OK; k++) {
        int col = 4 + (int)k;
        const bool text = f[k].type == SIFT_META_T_STR || f[k].type == SIFT_META_T_LIST;
        const char *str = text ? row->str[f[k].slot] : NULL; /* slots of the type's array */
        const uint64_t num = text ? SIFT_META_NONE : row->num[f[k].slot];
        switch (f[k].type) {
        case SIFT_META_T_STR:
            rc = str ? sqlite3_bind_text(st, col, str, -1, SQLITE_STATIC)
                     : sqlite3_bind_null(st, col);
            break;
        case SIFT_META_T_LIST:
            if (!str) {
                rc = sqlite3_bind_null(st, col);
            } else {
                const char *json = json_list(s, str);
                rc = json ? sqlite3_bind_text(st, col, json, -1, SQLITE_TRANSIENT) : SQLITE_NOMEM;
            }
            break;
        case SIFT_META_T_NAME: {
            const char *name = num != SIFT_META_NONE ? f[k].name_of(num) : NULL;
            rc = name ? sqlite3_bind_text(st, col, name, -1, SQLITE_STATIC)
                      : sqlite3_bind_null(st, col);
            break;
        }
        default:
            rc = num != SIFT_META_NONE && num <= INT64_MAX
                     ? sqlite3_bind_int64(st, col, (int64_t)num)
                     : sqlite3_bind_null(st, col);
        }
    }
    if (rc == SQLITE_OK)
        rc = step_done(st);
    else
        sqlite3_reset(st);
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, WRITING);
}

static int sql_put_name(sift_index_t *ix, int64_t flow_id, int kind, const char *key)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_bind_int(s->ins_name, 1, kind);
    sqlite3_bind_text(s->ins_name, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->ins_name, 3, flow_id);
    int rc = step_done(s->ins_name);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, WRITING);
    return sqlite3_changes(s->db) > 0;
}

static int sql_put_payload_ref(sift_index_t *ix, int64_t file_id, const uint8_t hash[16],
                               uint32_t count, uint32_t ord, bool *stored)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_bind_int64(s->ins_ref, 1, file_id);
    sqlite3_bind_blob(s->ins_ref, 2, hash, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s->ins_ref, 3, count);
    sqlite3_bind_int64(s->ins_ref, 4, ord);
    int rc = step_done(s->ins_ref);
    if (rc == SQLITE_OK) {
        sqlite3_bind_blob(s->has_payload, 1, hash, 16, SQLITE_STATIC);
        rc = sqlite3_step(s->has_payload);
        sqlite3_reset(s->has_payload);
        *stored = rc == SQLITE_ROW;
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, WRITING);
}

static int sql_put_payload_packets(sift_index_t *ix, int64_t file_id, uint32_t seq,
                                   const uint8_t *blob, size_t len)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_bind_int64(s->ins_pkts, 1, file_id);
    sqlite3_bind_int64(s->ins_pkts, 2, seq);
    sqlite3_bind_blob(s->ins_pkts, 3, blob, (int)len, SQLITE_STATIC);
    int rc = step_done(s->ins_pkts);
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, WRITING);
}

static int sql_put_payload(sift_index_t *ix, const uint8_t hash[16], uint32_t size, int codec,
                           const void *data, size_t len)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_bind_blob(s->ins_payload, 1, hash, 16, SQLITE_STATIC);
    sqlite3_bind_int64(s->ins_payload, 2, size);
    sqlite3_bind_int(s->ins_payload, 3, codec);
    sqlite3_bind_blob(s->ins_payload, 4, data, (int)len, SQLITE_STATIC);
    int rc = step_done(s->ins_payload);
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, WRITING);
}

static int sql_commit(sift_index_t *ix)
{
    st_sql_t *s = st_sql(ix);
    int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    int err = sift__sql_error(s, rc, WRITING);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

static void sql_rollback(sift_index_t *ix)
{
    sqlite3_exec(st_sql(ix)->db, "ROLLBACK", NULL, NULL, NULL);
}

static const char *const sql_suffixes[] = {"", "-wal", "-shm", NULL};

const st_backend_t sift__sqlite_backend = {
    .name = "sqlite",
    .suffixes = sql_suffixes,
    .open = sql_open,
    .close = sql_close,
    .find_file = sql_find_file,
    .restat_file = sql_restat_file,
    .each_path = sift__sql_each_path,
    .sig_save = sift__sql_sig_save,
    .sig_load = sift__sql_sig_load,
    .sig_rename = sift__sql_sig_rename,
    .sig_delete = sift__sql_sig_delete,
    .sig_update = sift__sql_sig_update,
    .remove_files = sql_remove_files,
    .drop_unused_payloads = sql_drop_unused_payloads,
    .load_begin = sql_load_begin,
    .load_end = sql_load_end,
    .spill = sql_spill,
    .spill_flush = sql_spill_flush,
    .begin_file = sql_begin_file,
    .put_flow = sql_put_flow,
    .put_positions = sql_put_positions,
    .put_spilled = sql_put_spilled,
    .put_meta = sql_put_meta,
    .put_name = sql_put_name,
    .put_payload_ref = sql_put_payload_ref,
    .put_payload = sql_put_payload,
    .put_payload_packets = sql_put_payload_packets,
    .commit = sql_commit,
    .rollback = sql_rollback,
    .query = sift__sql_query,
    .group = sift__sql_group,
    .positions = sift__sql_positions,
    .flows = sift__sql_flows,
    .each_payload = sift__sql_each_payload,
    .each_file = sift__sql_each_file,
    .file_refs = sift__sql_file_refs,
    .file_packets = sift__sql_file_packets,
    .file_positions = sift__sql_file_positions,
    .put_term_hits = sift__sql_put_term_hits,
};
