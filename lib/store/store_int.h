/* Internals of the store module (the capture index). Not installed. */
#ifndef SIFT_STORE_INT_H
#define SIFT_STORE_INT_H

#include "common/internal.h"

#include "store/st_backend.h"

#include <capsift/flow.h>
#include <capsift/index.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- packet positions: per flow, (offset, timestamp) deltas as varints ---- */

typedef struct st_posbuf {
    uint8_t *buf;
    uint32_t len, cap;
    uint64_t count;
    uint64_t last_off;
    int64_t last_ts;
    bool lost;      /* memory ran out: some positions are missing */
    uint64_t *segs; /* segments spilled to the writer (temp.spill ids), in no set order */
    uint32_t nsegs, segs_cap;
} st_posbuf_t;

/* A flow's buffer is spilled as a segment when it reaches this many bytes (about 4,000
 * packets): a flow holds at most this much in memory, however many packets it has. */
#define ST_SEGMENT_BYTES (16u << 10)

/* Appends one packet; returns 0 or SIFT_ENOMEM. */
int sift__pos_append(st_posbuf_t *pb, uint64_t offset, int64_t ts_ns);

/* The stored blob: a version byte, the packet count and raw length as varints, then the
 * varints, zstd-compressed with zctx (a ZSTD_CCtx, reused across calls) unless they are few.
 * Returns a malloc'd blob in *out. */
int sift__pos_encode(const st_posbuf_t *pb, void *zctx, uint8_t **out, size_t *outlen);

/* Decodes a blob into arrays of n offsets and timestamps (malloc'd). */
int sift__pos_decode(const uint8_t *blob, size_t len, uint64_t **offs, int64_t **ts, size_t *n);

/* Decompresses the zstd frame src[0..n) into dst, which it must fill exactly (raw bytes);
 * false when it does not. Through a context of the calling thread, kept until the thread ends:
 * the blobs of the index are small and many, and ZSTD_decompress makes and frees a context
 * for every call, which costs more than decompressing a payload or a flow's positions. */
bool sift__unzstd(void *dst, size_t raw, const void *src, size_t n);

/* ---- payload dedup within one file ---- */

typedef struct st_payload {
    uint8_t hash[16]; /* XXH3-128 of the bytes */
    uint32_t size;
    uint32_t count;
    uint32_t ord;  /* its place among the file's distinct payloads, in the order first seen */
    uint64_t data; /* offset in the arena */
} st_payload_t;

/* The packets that carry a payload, in record order: per packet the varints of its record's
 * delta from the one before, its file offset's delta, and (payload ord << 1 | from_hi), where
 * from_hi says the packet was sent by the flow key's hi endpoint (sift_flow_key_make's swap).
 * With the flows' positions (offset -> flow, time) they map a payload back to its packets. */
typedef struct st_pkstream {
    uint8_t *buf;
    size_t len, cap;
    uint64_t count;
    uint64_t last_rec, last_off;
} st_pkstream_t;

typedef struct st_payloads {
    st_payload_t *slots; /* open addressing; size 0 is empty */
    size_t mask, count;
    uint8_t *arena;
    size_t arena_len, arena_cap;
    uint64_t seen, bytes_seen;
    st_pkstream_t packets;
    bool oom;
} st_payloads_t;

/* One packet of a stream. */
typedef struct st_pk {
    uint64_t record; /* from 0 in the file */
    uint64_t offset; /* of its record in the file */
    uint32_t ord;
    bool from_hi;
} st_pk_t;

/* Appends a packet (records and offsets never go back); SIFT_ENOMEM. */
int sift__pk_append(st_pkstream_t *s, const st_pk_t *pk);
/* Reads the next packet of a stream's bytes at *p (before end), relative to *prev (zero before
 * the first); false at the end or on a damaged stream. */
bool sift__pk_next(const uint8_t **p, const uint8_t *end, st_pk_t *prev);

/* The stored form: blobs of at most ST_PK_CHUNK packets, each a version byte, the packet count
 * and raw length as varints, then the varints (its first packet relative to zero),
 * zstd-compressed when that is smaller. */
#define ST_PK_CHUNK 65536
/* Encodes n packets as one stored blob (malloc'd), with zctx (a ZSTD_CCtx) when given. */
int sift__pk_encode(const st_pk_t *pks, size_t n, void *zctx, uint8_t **out, size_t *outlen);
/* Decodes one stored blob into a malloc'd array of its packets. */
int sift__pk_decode(const uint8_t *blob, size_t len, st_pk_t **out, size_t *n);

/* ---- the writer thread (st_writer.c) ---- */

typedef struct st_writer {
    sift_index_t *ix;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_room, cv_done;
    struct st_job *head, *tail;
    size_t queued, limit; /* bytes of segments waiting, and the most that may wait */
    uint64_t next_id;
    bool stop, running;
    int rc; /* the first storage error of a segment: later segments are dropped */
} st_writer_t;

/* Starts the thread; from then on only it calls the index's backend, until sift__writer_stop.
 * Queued segments take at most limit bytes: a worker putting one more waits. */
int sift__writer_start(st_writer_t *w, sift_index_t *ix, size_t limit);
/* Queues a segment blob (taken, freed by the writer) and gives its id. SIFT_EDB after a
 * database error. */
int sift__writer_segment(st_writer_t *w, uint8_t *blob, size_t len, uint64_t *id);
/* Runs fn(arg) on the writer thread, after the segments queued before, and returns its
 * result. */
int sift__writer_call(st_writer_t *w, int (*fn)(void *arg), void *arg);
/* Ends the thread after the queue; returns the first storage error of segments (0: none; the
 * message is in the index's context). */
int sift__writer_stop(st_writer_t *w);

/* ---- the index pass: positions of every flow's packets (and payloads), on the flows ---- */

typedef struct st_index_config {
    bool payloads;
    st_writer_t *writer;    /* where full position buffers go (NULL: they stay in memory) */
    uint32_t segment_bytes; /* a full buffer (0: ST_SEGMENT_BYTES) */
} st_index_config_t;

/* The pass's state; each flow keeps an st_posbuf_t (sift_engine_flow_state). */
typedef struct st_index_state {
    st_index_config_t cfg;
    st_payloads_t payloads;
    void *zctx;                /* ZSTD_CCtx for the segments this state spills */
    const sift_flows_t *flows; /* the range's flows (bind), and this pass's bytes in them */
    size_t offset;
    size_t held; /* bytes of position buffers held by the flows of this state */
} st_index_state_t;

/* Position bytes the flows of one range hold at most: past it, the largest buffers are written
 * out as segments (the many short flows of a big capture add up, though each holds little). */
#define ST_HELD_BYTES (8u << 20)

extern const sift_pass_t sift__index_pass;

/* ---- the payload terms of a query (st_search.c) ---- */

/* Finds the flows of q's contains and matches terms in the payload store and hands them to the
 * backend (put_term_hits) for the query to read; nothing for a query without such terms. An
 * index with files whose payloads' packets it lacks (indexed without --payloads, or by layout
 * 4) is refused (SIFT_EINVAL, saying to index them with --payloads): no answer, not a wrong one. */
int sift__payload_terms(sift_index_t *ix, const sift_query_t *q);

/* ---- a list of paths (st_index.c) ---- */

typedef struct st_paths {
    char **v;
    size_t n, cap;
} st_paths_t;

/* Appends a copy of path (a callback of st_backend_t.each_path: user is the list). Returns 0
 * or SIFT_ENOMEM. */
int sift__paths_add(void *user, const char *path);
void sift__paths_free(st_paths_t *p);

/* ---- domain names (st_names.c) ---- */

/* Where a name in the names table came from. */
typedef enum st_name_kind {
    ST_NAME_DNS = 1,  /* a DNS question */
    ST_NAME_SNI = 2,  /* a TLS ClientHello's server_name */
    ST_NAME_HTTP = 3, /* an HTTP request's Host */
    ST_NAME_CERT = 4  /* a DNS name of a TLS server certificate's subject alternative name */
} st_name_kind_t;

#define SIFT_NAME_KEY_MAX 1024

/* The key the name (n bytes, not necessarily terminated) is stored and looked up by:
 * normalised, labels reversed ("com.example.www"). http_host also takes off a port and IPv6
 * brackets. Returns its length, 0 for no name (empty, too long for size). */
size_t sift__name_key(const char *name, size_t n, bool http_host, char *out, size_t size);
/* Whether key matches pattern (also a key): a "*" label is one or more labels, '*' and '?'
 * inside a label stay in it. */
bool sift__name_match(const char *pattern, const char *key);
/* The length of pattern's leading labels without a wildcard (the rest has one): every key it
 * matches begins with them and a dot. */
size_t sift__name_prefix(const char *pattern);

/* ---- the index handle ---- */

/* The first member of every backend's handle (st_backend.h). */
struct sift_index {
    const st_backend_t *be;
    sift_ctx_t *ctx;
    char *path;
    bool read_only;
};

#endif
