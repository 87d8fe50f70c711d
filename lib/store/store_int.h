/* Internals of the store module (the capture index). Not installed. */
#ifndef SIFT_STORE_INT_H
#define SIFT_STORE_INT_H

#include "common/internal.h"

#include <capsift/flow.h>
#include <capsift/index.h>

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- packet positions: per flow, (offset, timestamp) deltas as varints ---- */

typedef struct st_posbuf {
    uint8_t *buf;
    uint32_t len, cap;
    uint64_t count;
    uint64_t last_off;
    int64_t last_ts;
    bool lost; /* memory ran out: some positions are missing */
} st_posbuf_t;

/* Appends one packet; returns 0 or SIFT_ENOMEM. */
int sift__pos_append(st_posbuf_t *pb, uint64_t offset, int64_t ts_ns);

/* The stored blob: a version byte, the packet count and raw length as varints, then the
 * varints, zstd-compressed with zctx (a ZSTD_CCtx, reused across calls) unless they are few.
 * Returns a malloc'd blob in *out. */
int sift__pos_encode(const st_posbuf_t *pb, void *zctx, uint8_t **out, size_t *outlen);

/* Decodes a blob into arrays of n offsets and timestamps (malloc'd). */
int sift__pos_decode(const uint8_t *blob, size_t len, uint64_t **offs, int64_t **ts, size_t *n);

/* ---- payload dedup within one file ---- */

typedef struct st_payload {
    uint8_t hash[16]; /* XXH3-128 of the bytes */
    uint32_t size;
    uint32_t count;
    uint64_t data; /* offset in the arena */
} st_payload_t;

typedef struct st_payloads {
    st_payload_t *slots; /* open addressing; size 0 is empty */
    size_t mask, count;
    uint8_t *arena;
    size_t arena_len, arena_cap;
    uint64_t seen, bytes_seen;
    bool oom;
} st_payloads_t;

/* ---- the index pass: positions of every flow's packets (and payloads), on the flows ---- */

typedef struct st_index_config {
    bool payloads;
} st_index_config_t;

/* The pass's state; each flow keeps an st_posbuf_t (sift_engine_flow_state). */
typedef struct st_index_state {
    st_index_config_t cfg;
    st_payloads_t payloads;
    int oom;
} st_index_state_t;

extern const sift_pass_t sift__index_pass;

/* ---- database ---- */

struct sift_index {
    sift_ctx_t *ctx;
    sqlite3 *db;
    char *path;
    bool read_only;
};

/* Maps an SQLite result code to a SIFT_E code and writes "path: what (what to do)" into the
 * context. Returns the code. */
int sift__db_error(sift_index_t *ix, int sqlite_rc, const char *doing);

/* Runs SQL with no result rows; returns 0 or a SIFT_E code with the detail in the context. */
int sift__db_exec(sift_index_t *ix, const char *sql, const char *doing);

/* Prepares and binds the parameters of a compiled query after `first` (1-based) positions. */
int sift__db_bind_query(sqlite3_stmt *st, int first, const sift_query_t *q);

#endif
