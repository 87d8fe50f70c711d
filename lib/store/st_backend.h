/* The storage side of the index: what sift_index_update, the writer thread and the readers ask
 * of a database, as one table of operations. SQLite (st_sqlite.c, st_sqlite_read.c) is the
 * first implementation; another backend is another table, and nothing above this header (the
 * index pass, the update, extraction) changes. Not installed.
 *
 * Conventions: every operation returns 0 or a negative SIFT_E code, with the message in the
 * index's context ("path: what failed (what to do)"). Operations are called by one thread at a
 * time: during an update, between load_begin and load_end, only by the writer thread.
 *
 * Writing a file is one transaction: begin_file, then put_flow / put_positions / put_spilled /
 * put_meta / put_name / put_payload_ref / put_payload, then commit (or rollback). A run killed in
 * between leaves the file as it was.
 */
#ifndef SIFT_ST_BACKEND_H
#define SIFT_ST_BACKEND_H

#include <capsift/flow.h>
#include <capsift/index.h>
#include <capsift/metapass.h>
#include <capsift/signature.h>

#include <stdbool.h>
#include <stdint.h>

/* A file's record. Strings are borrowed: from the caller when writing; from the backend when
 * reading, valid until the next call on the index. */
typedef struct st_file_rec {
    const char *path;
    uint64_t size, inode;
    int64_t mtime_ns;
    const char *hash_alg, *fingerprint; /* content identity (sift_digest_name, hex) */
    const char *format, *compression;
    const char *link_types; /* distinct link types, "1,113" */
    unsigned ts_digits;
    uint64_t packets, bytes, flows;
    bool timed; /* first_ns and last_ns are known */
    int64_t first_ns, last_ns;
    const char *status, *message;
    int64_t indexed_at; /* seconds since the epoch */
    bool stale;         /* find_file: its flows were written by an older layout: read it again */
    bool vlan_key;      /* its flows are keyed on the VLAN id too */
    bool meta;          /* it was read with the metadata pass (its rows are stored) */
    uint8_t payloads;   /* its payloads: 0 not stored, 1 stored by layout 4 (without their
                         * packets), 2 stored with the packets that carry each */
} st_file_rec_t;

/* A flow's stored positions for extraction: one segment of one flow of one file (a flow's
 * segments come together, files in path order). */
typedef int (*st_positions_fn)(void *user, const st_file_rec_t *file, int64_t flow_id,
                               const uint8_t *blob, size_t len);

typedef struct st_backend {
    const char *name;
    const char *const *suffixes; /* the database is the files path + each of these (NULL-ended) */

    /* Opens or creates the database at path; on success *out is a handle whose first member is
     * the sift_index_t the caller fills no further. */
    int (*open)(sift_index_t **out, sift_ctx_t *ctx, const char *path,
                const sift_index_opts_t *opts);
    void (*close)(sift_index_t *ix);

    /* ---- before reading captures ---- */
    /* The record of path: 1 when the index has it (*id and *rec set), 0 when not. */
    int (*find_file)(sift_index_t *ix, const char *path, int64_t *id, st_file_rec_t *rec);
    /* A new stat for a file whose content did not change. */
    int (*restat_file)(sift_index_t *ix, int64_t id, uint64_t size, int64_t mtime_ns,
                       uint64_t inode);
    /* Every indexed path, in path order; fn returns non-zero to stop (returned). */
    int (*each_path)(sift_index_t *ix, int (*fn)(void *user, const char *path), void *user);
    /* Removes the files (with their flows and positions), in one transaction. */
    int (*remove_files)(sift_index_t *ix, char *const *paths, size_t n);
    /* Removes stored payloads no file refers to any more. */
    int (*drop_unused_payloads)(sift_index_t *ix);

    /* ---- one update run (writer thread) ---- */
    int (*load_begin)(sift_index_t *ix);
    /* Ends the run, also after a failure (failed: the run's error; the index stays usable). */
    int (*load_end)(sift_index_t *ix, bool failed);
    /* A segment of positions spilled while a file is still read, kept until put_spilled moves
     * it to its flow or load_end drops it; flush makes the spilled segments durable enough to
     * be moved (called when the writer is idle and before each file). */
    int (*spill)(sift_index_t *ix, uint64_t spill_id, const uint8_t *blob, size_t len);
    int (*spill_flush)(sift_index_t *ix);

    /* ---- one file, one transaction ---- */
    /* Replaces what the index holds of rec->path by rec, and gives the file's id. */
    int (*begin_file)(sift_index_t *ix, const st_file_rec_t *rec, int64_t *file_id);
    int (*put_flow)(sift_index_t *ix, int64_t file_id, const sift_flow_t *f, const char *app,
                    int64_t *flow_id);
    /* Segment seq of a flow's positions (sift__pos_encode's blob). */
    int (*put_positions)(sift_index_t *ix, int64_t flow_id, uint32_t seq, const uint8_t *blob,
                         size_t len);
    /* The same from a spilled segment. */
    int (*put_spilled)(sift_index_t *ix, int64_t flow_id, uint32_t seq, uint64_t spill_id);
    /* A metadata row of the flow (capsift/metapass.h), into the table of its protocol. */
    int (*put_meta)(sift_index_t *ix, int64_t flow_id, const sift_meta_row_t *row);
    /* A domain name the flow asked for (st_name_kind_t), as sift__name_key gives it: 1 when
     * stored, 0 when the flow has it already (a name is stored once a flow). */
    int (*put_name)(sift_index_t *ix, int64_t flow_id, int kind, const char *key);
    /* This file holds count copies of the payload with this hash, its ord-th distinct one;
     * *stored says whether the bytes are already in the index (from any file), else
     * put_payload stores them. */
    int (*put_payload_ref)(sift_index_t *ix, int64_t file_id, const uint8_t hash[16],
                           uint32_t count, uint32_t ord, bool *stored);
    /* Blob seq of the file's packets that carry payloads (sift__pk_encode's). */
    int (*put_payload_packets)(sift_index_t *ix, int64_t file_id, uint32_t seq, const uint8_t *blob,
                               size_t len);
    /* codec 0: the bytes as they are; 1: zstd frame of size bytes. */
    int (*put_payload)(sift_index_t *ix, const uint8_t hash[16], uint32_t size, int codec,
                       const void *data, size_t len);
    int (*commit)(sift_index_t *ix);
    void (*rollback)(sift_index_t *ix);

    /* ---- reading ---- */
    int (*query)(sift_index_t *ix, const sift_query_t *q, sift_sort_t sort, uint64_t limit,
                 sift_flow_row_fn fn, void *user);
    int (*group)(sift_index_t *ix, const sift_query_t *q, sift_group_t by, sift_sort_t sort,
                 uint64_t limit, int (*fn)(void *user, const sift_group_row_t *row), void *user);
    /* The positions of every flow matching q. */
    int (*positions)(sift_index_t *ix, const sift_query_t *q, st_positions_fn fn, void *user);
    int (*flows)(sift_index_t *ix, const sift_query_t *q, unsigned protos,
                 int (*fn)(void *user, const sift_index_flow_t *f), void *user);

    /* ---- the payload store, for searching it (st_search.c) ---- */
    /* Every stored payload: its bytes as put_payload got them. */
    int (*each_payload)(sift_index_t *ix,
                        int (*fn)(void *user, const uint8_t hash[16], uint32_t size, int codec,
                                  const void *data, size_t len),
                        void *user);
    /* Every file, in path order, with its id, path, ts_digits, status, payloads, packets and
     * times (timed, first_ns, last_ns). */
    int (*each_file)(sift_index_t *ix, int (*fn)(void *user, int64_t id, const st_file_rec_t *rec),
                     void *user);
    /* A file's payload references: hash and ord. */
    int (*file_refs)(sift_index_t *ix, int64_t file_id,
                     int (*fn)(void *user, const uint8_t hash[16], uint32_t ord), void *user);
    /* A file's payload packet blobs, in order. */
    int (*file_packets)(sift_index_t *ix, int64_t file_id,
                        int (*fn)(void *user, const uint8_t *blob, size_t len), void *user);
    /* The flows of a query's payload terms: n (term, flow_id) pairs, each once, replacing
     * those of an earlier query (sift_query_payload_terms). */
    int (*put_term_hits)(sift_index_t *ix, const int64_t (*pairs)[2], size_t n);
    /* A file's flows, each with one segment of its positions at a time (in flow order). */
    int (*file_positions)(sift_index_t *ix, int64_t file_id,
                          int (*fn)(void *user, const sift_flow_row_t *flow, const uint8_t *blob,
                                    size_t len),
                          void *user);

    /* ---- signatures (capsift/signature.h), each call one transaction ---- */
    /* Adds the set; SIFT_EEXIST (nothing added) when a set or signature of one of its names is
     * there already. */
    int (*sig_save)(sift_index_t *ix, const sift_signatures_t *s);
    /* Adds to out the signatures named which, or of the set named which (NULL: all). */
    int (*sig_load)(sift_index_t *ix, const char *which, sift_signatures_t *out);
    /* Renames the set old (and its signatures' names that begin with it) or else the signature
     * old: the signatures renamed, SIFT_EEXIST when new_name is taken. */
    int64_t (*sig_rename)(sift_index_t *ix, const char *old, const char *new_name);
    /* Deletes the signature or set named which: how many. */
    int64_t (*sig_delete)(sift_index_t *ix, const char *which);
    /* Stores usage, last_seen and confidence of each signature of s read from the index. */
    int (*sig_update)(sift_index_t *ix, const sift_signatures_t *s);
} st_backend_t;

extern const st_backend_t sift__sqlite_backend;

#endif
