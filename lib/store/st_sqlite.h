/* The SQLite backend of the index (st_sqlite.c: the database, its schema and every write;
 * st_sqlite_read.c: queries and positions; st_sqlite_sig.c: signatures). Not installed; only
 * these files include sqlite3.h for the index. */
#ifndef SIFT_ST_SQLITE_H
#define SIFT_ST_SQLITE_H

#include "store/store_int.h"

#include <sqlite3.h>

typedef struct st_sql {
    sift_index_t ix; /* first: what the rest of the index module holds */
    sqlite3 *db;
    sqlite3_stmt *sel_file; /* find_file's row: its strings live until the next find */
    sqlite3_stmt *upd_file; /* restat_file's */
    int layout;             /* of the database: 1 to 4 (older, read-only) or 5 */
    /* one update run (load_begin .. load_end) */
    bool bulk;        /* loading into an empty index: secondary indexes built after it */
    bool in_batch;    /* a transaction of spilled segments is open */
    unsigned batched; /* segments in it */
    sqlite3_stmt *ins_file, *del_flows, *del_refs, *del_pkts, *ins_flow, *ins_pos, *mv_seg,
        *del_seg, *ins_ref, *ins_pkts, *has_payload, *ins_payload, *ins_spill, *ins_name;
    sqlite3_stmt *ins_meta[SIFT_META_NPROTO]; /* a row into each protocol's table */
    char *json;                               /* put_meta's list as JSON */
    size_t json_cap;
} st_sql_t;

static inline st_sql_t *st_sql(sift_index_t *ix)
{
    return (st_sql_t *)(void *)ix;
}

/* Maps an SQLite result code to a SIFT_E code and writes "path: what (what to do)" into the
 * context. Returns the code. */
int sift__sql_error(st_sql_t *s, int sqlite_rc, const char *doing);

/* Runs SQL with no result rows; returns 0 or a SIFT_E code with the detail in the context. */
int sift__sql_exec(st_sql_t *s, const char *sql, const char *doing);

/* st_sqlite_read.c */
int sift__sql_query(sift_index_t *ix, const sift_query_t *q, sift_sort_t sort, uint64_t limit,
                    sift_flow_row_fn fn, void *user);
int sift__sql_group(sift_index_t *ix, const sift_query_t *q, sift_group_t by, sift_sort_t sort,
                    uint64_t limit, int (*fn)(void *user, const sift_group_row_t *row), void *user);
int sift__sql_positions(sift_index_t *ix, const sift_query_t *q, st_positions_fn fn, void *user);
int sift__sql_flows(sift_index_t *ix, const sift_query_t *q, unsigned protos,
                    int (*fn)(void *user, const sift_index_flow_t *f), void *user);
int sift__sql_each_payload(sift_index_t *ix,
                           int (*fn)(void *user, const uint8_t hash[16], uint32_t size, int codec,
                                     const void *data, size_t len),
                           void *user);
int sift__sql_each_file(sift_index_t *ix,
                        int (*fn)(void *user, int64_t id, const st_file_rec_t *rec), void *user);
int sift__sql_file_refs(sift_index_t *ix, int64_t file_id,
                        int (*fn)(void *user, const uint8_t hash[16], uint32_t ord), void *user);
int sift__sql_file_packets(sift_index_t *ix, int64_t file_id,
                           int (*fn)(void *user, const uint8_t *blob, size_t len), void *user);
int sift__sql_file_positions(sift_index_t *ix, int64_t file_id,
                             int (*fn)(void *user, const sift_flow_row_t *flow, const uint8_t *blob,
                                       size_t len),
                             void *user);
int sift__sql_put_term_hits(sift_index_t *ix, const int64_t (*pairs)[2], size_t n);
int sift__sql_each_path(sift_index_t *ix, int (*fn)(void *user, const char *path), void *user);

/* st_sqlite_sig.c */
int sift__sql_sig_save(sift_index_t *ix, const sift_signatures_t *s);
int sift__sql_sig_load(sift_index_t *ix, const char *which, sift_signatures_t *out);
int64_t sift__sql_sig_rename(sift_index_t *ix, const char *old, const char *new_name);
int64_t sift__sql_sig_delete(sift_index_t *ix, const char *which);
int sift__sql_sig_update(sift_index_t *ix, const sift_signatures_t *s);

#endif
