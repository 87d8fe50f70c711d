/* capsift: the capture index - a database (SQLite) of files, flows and packet positions.
 *
 * sift_index_update reads captures once and records, per file, its identity (path, size,
 * mtime, inode, content fingerprint), its summary, and its flows (what `capsift flows`
 * reports) with the byte offset and timestamp of every packet of each flow, delta-encoded and
 * zstd-compressed in segments (a flow holds at most 16 KiB of them in memory). Ranges of a
 * large file are read on every worker; every write happens on one writer thread. A later
 * update reads only what changed: a file whose path, size and mtime are unchanged is skipped
 * without reading; a changed one is fingerprinted and read again only if its content changed.
 *
 * Each file is written in one transaction, so a run killed at any moment leaves every file
 * either as it was or completely re-indexed; the next run finishes the others. Readers
 * (queries) work while an update runs (WAL mode).
 *
 * Thread safety: an index handle is used by one thread at a time (sift_index_update uses
 * worker threads internally). Several processes may open the same database.
 */
#ifndef CAPSIFT_INDEX_H
#define CAPSIFT_INDEX_H

#include <capsift/engine.h>
#include <capsift/flow.h>
#include <capsift/metapass.h>
#include <capsift/query.h>
#include <capsift/search.h>
#include <capsift/signature.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_index sift_index_t;

typedef struct sift_index_opts {
    bool read_only;           /* open for queries only; never creates the file */
    unsigned busy_timeout_ms; /* wait this long for a lock held by another process (0: 5000) */
} sift_index_opts_t;

/* Opens (creating it unless read_only) the database at path. Fails with a message naming
 * the file for a file that is not a capsift index, a damaged database (SIFT_EDB), a lock held
 * past the timeout (SIFT_EBUSY), or a directory that cannot be written. */
SIFT_API int sift_index_open(sift_index_t **out, sift_ctx_t *ctx, const char *path,
                             const sift_index_opts_t *opts);
SIFT_API void sift_index_close(sift_index_t *ix); /* NULL is fine */

/* Whether path is a regular file that begins as an SQLite database does, so a command given
 * captures or an index in one place opens it as an index (which says so if it is not one). */
SIFT_API bool sift_index_looks_like(const char *path);

/* What happened to one file during an update. */
typedef enum sift_index_action {
    SIFT_INDEX_SKIPPED = 0,  /* path, size and mtime unchanged: not read */
    SIFT_INDEX_SAME_CONTENT, /* changed on disk but same fingerprint: only its stat updated */
    SIFT_INDEX_INDEXED,      /* read and written (new or changed) */
    SIFT_INDEX_FAILED,       /* could not be read or written: message says why */
    SIFT_INDEX_VANISHED,     /* in the index, no longer on disk: kept */
    SIFT_INDEX_PRUNED,       /* in the index, no longer on disk: removed (prune) */
    SIFT_INDEX_LEFT_OUT      /* excluded by include/exclude/max_size */
} sift_index_action_t;

typedef struct sift_index_event {
    const char *path;
    sift_index_action_t action;
    const char *status;  /* "ok", "damaged", "partial" (a flow limit reached or
                          * memory run out: message says what is missing), "error" */
    const char *message; /* "" or what went wrong (the file is path, not named again) */
    uint64_t packets, flows;
} sift_index_event_t;

typedef struct sift_index_update_opts {
    unsigned threads; /* 0: all cores */
    const char *hash; /* "xxh3" (default, XXH3-128) or "sha256" (for evidence handling) */
    bool prune;       /* remove files that vanished from disk (only under the given paths) */
    const char *const *include; /* fnmatch globs on the path; a file must match one (if any) */
    size_t ninclude;
    const char *const *exclude; /* a file matching one is left out */
    size_t nexclude;
    uint64_t max_size;      /* files larger than this are left out (0: no limit) */
    bool no_app;            /* no application detection */
    bool no_meta;           /* no application metadata (DNS, HTTP, TLS, SSH, DHCP rows); a file
                             * indexed without it is read again by an update that has it */
    bool vlan;              /* the outermost VLAN id is part of a flow's key (flows --vlan); a
                             * file indexed with the other choice is read again */
    uint64_t max_flows;     /* flows of one file held at once; 0: the default */
    bool payloads;          /* also store distinct transport payloads (dedup + zstd) */
    uint32_t segment_bytes; /* positions one flow holds before they go to the database as a
                             * segment (0: 16 KiB); results do not depend on it */
    uint64_t range_bytes;   /* files at least this large are read in ranges of this size on the
                             * workers (0: the engine's default); results do not depend on it */
    sift_progress_fn progress;
    void *progress_user;
    void (*event)(void *user, const sift_index_event_t *ev); /* per file, NULL for none */
    void *event_user;
} sift_index_update_opts_t;

typedef struct sift_index_summary {
    uint64_t files[SIFT_INDEX_LEFT_OUT + 1]; /* by action */
    uint64_t packets, flows;                 /* of the files read */
    uint64_t meta_rows;                      /* metadata rows stored (DNS, HTTP ... rows) */
    uint64_t names;                          /* domain names stored (once per flow each) */
    uint64_t payloads, payloads_distinct;    /* with payloads: packets with one, distinct */
    uint64_t payload_bytes;                  /* all payload bytes seen */
    uint64_t payload_bytes_distinct;         /* bytes of the distinct payloads */
    uint64_t payload_bytes_stored;           /* after zstd, of those newly stored */
    uint64_t payload_bytes_new;              /* raw bytes of those newly stored */
    sift_expand_stats_t expanded;            /* what the directories given left out */
} sift_index_summary_t;

/* Brings the index up to date with the files under paths. Returns 0 when the update ran (files
 * may still have failed: see the events and summary), or a negative code when the database
 * could not be written (disk full, read-only, locked): everything committed before stays. */
SIFT_API int sift_index_update(sift_index_t *ix, const char *const *paths, size_t npaths,
                               const sift_index_update_opts_t *opts, sift_index_summary_t *sum);

/* ---- queries ---- */

/* One flow row of a query. Pointers are valid during the callback only. */
typedef struct sift_flow_row {
    int64_t id;
    const char *file;
    uint8_t ip_version, proto;
    uint8_t src[16], dst[16]; /* initiator, responder; IPv4 as ::ffff:a.b.c.d */
    uint16_t sport, dport, vlan;
    const char *app;
    int64_t first_ns, last_ns;
    uint64_t packets_ab, packets_ba, bytes_ab, bytes_ba;
    uint8_t flags_ab, flags_ba;
    uint8_t ts_digits;                   /* of the file */
    char state[8];                       /* Zeek's connection state (sift_flow_state) */
    char history[SIFT_FLOW_HISTORY_MAX]; /* and history (sift_flow_history) */
} sift_flow_row_t;

typedef int (*sift_flow_row_fn)(void *user, const sift_flow_row_t *row);

typedef enum sift_sort {
    SIFT_SORT_NONE = 0, /* file, then start */
    SIFT_SORT_PACKETS,  /* largest first */
    SIFT_SORT_BYTES,
    SIFT_SORT_START, /* earliest first */
    SIFT_SORT_DURATION
} sift_sort_t;

/* Calls fn for each flow matching q (NULL: every flow), sorted, at most limit (0: all).
 * fn returns 0 to go on, anything else stops the walk and is returned. */
SIFT_API int sift_index_query(sift_index_t *ix, const sift_query_t *q, sift_sort_t sort,
                              uint64_t limit, sift_flow_row_fn fn, void *user);

typedef enum sift_group {
    SIFT_GROUP_HOST = 1, /* each address, as initiator or responder */
    SIFT_GROUP_PORT,     /* responder port with protocol */
    SIFT_GROUP_APP,
    SIFT_GROUP_FILE
} sift_group_t;

typedef struct sift_group_row {
    const char *key;
    uint64_t flows, packets, bytes;
    int64_t first_ns, last_ns;
} sift_group_row_t;

/* Aggregates the matching flows by `by`, sorted by sort (NONE: by key), at most limit. */
SIFT_API int sift_index_group(sift_index_t *ix, const sift_query_t *q, sift_group_t by,
                              sift_sort_t sort, uint64_t limit,
                              int (*fn)(void *user, const sift_group_row_t *row), void *user);

/* ---- flows with their metadata, as the passes gave them ---- */

/* One indexed flow, as the flows and metadata passes gave it when its file was indexed, for
 * code written against those passes (capsift/match.h, capsift/diff.h). Pointers are valid
 * during the callback only. */
typedef struct sift_index_flow {
    const char *file;  /* its file's path */
    uint8_t ts_digits; /* of the file */
    bool meta;         /* the file was indexed with metadata (else it has no rows) */
    /* The key (with the VLAN id when the file was keyed on it), initiator, times, counters,
     * TCP flags and first VLAN id. app_state is SIFT_FLOW_APP_DONE when app is not "", else
     * SIFT_FLOW_APP_OFF; nDPI's ids, the history and the input index are not kept (0). */
    const sift_flow_t *flow;
    const char *app; /* as sift_flows_app_name gave it: "TLS.YouTube", "Unknown"; "" when off */
    /* Its rows of the protocols asked for, in time order, with the flow's fields, both times,
     * every text and list field and every number; not kept: the file offsets (UINT64_MAX) and
     * the numbers of SIFT_META_T_NAME fields (SIFT_META_NONE; the index holds their names). */
    const sift_meta_row_t *const *rows;
    size_t nrows;
} sift_index_flow_t;

/* Calls fn for each flow matching q (NULL: every flow), by file path, then in the order the
 * file's flows were written (as sift_flows_at gave them), with its metadata rows of the
 * protocols in the mask protos (1u << sift_meta_proto_t; 0: none). fn returns 0 to go on,
 * anything else stops the walk and is returned. An index of an older layout is refused
 * (SIFT_EINVAL: run capsift index on it); SIFT_ENOMEM; a database error (SIFT_EDB). */
SIFT_API int sift_index_flows(sift_index_t *ix, const sift_query_t *q, unsigned protos,
                              int (*fn)(void *user, const sift_index_flow_t *f), void *user);

/* What the index's files hold together: their number and packets, and the times of the
 * earliest and the latest packet of any of them (timed false: no file has a timestamp). */
typedef struct sift_index_span {
    uint64_t files, packets;
    bool timed;
    int64_t first_ns, last_ns;
} sift_index_span_t;

/* Fills *out. Returns 0, or a database error (SIFT_EDB). */
SIFT_API int sift_index_span(sift_index_t *ix, sift_index_span_t *out);

/* ---- searching the payload store ---- */

/* One packet whose payload matched one pattern, as a per-packet search of the capture finds it
 * (capsift/searchpass.h with a block-mode matcher). Pointers are valid during the callback. */
typedef struct sift_index_hit {
    const char *file;  /* its file's path, as the index has it */
    uint8_t ts_digits; /* of the file */
    uint64_t packet;   /* its number in the file, from 1 */
    uint64_t file_offset;
    int64_t ts_ns;
    int64_t flow_id;          /* its flow's id in the index */
    uint8_t ip_version;       /* of its flow */
    uint8_t ip_proto;         /* 6 TCP, 17 UDP ... */
    uint8_t src[16], dst[16]; /* the packet's own: its sender first */
    uint16_t sport, dport;
    int64_t offset;   /* of the first match's first byte in the payload */
    uint32_t pattern; /* the pattern's index in the set */
    uint32_t count;   /* matches of the pattern in the payload */
} sift_index_hit_t;

typedef struct sift_index_search_summary {
    uint64_t payloads, payload_bytes; /* distinct payloads scanned, and their bytes */
    uint64_t matched;                 /* of them, those some pattern matched */
    uint64_t files;                   /* files whose packets the hits were mapped to */
    uint64_t files_without;           /* files indexed without --payloads: not searched */
    uint64_t files_older;             /* files whose payloads an older layout stored without
                                       * their packets: not searched (index them again) */
    uint64_t hits;                    /* (packet, pattern) hits given to fn */
    uint64_t lost; /* packets whose position the index lost (it ran out of memory) */
} sift_index_search_summary_t;

/* Scans every payload the index stores (capsift index --payloads) once, with a block-mode
 * matcher, on `threads` workers (0: all cores; the result does not depend on it), and maps
 * each one that matched to the packets that carry it: fn (on the calling thread) gets each
 * (packet, pattern), by file path, then packet, then pattern. The hits are those of a per-packet
 * search of the same captures, for the packets in flows (which every packet with a transport
 * payload is, unless a flow limit was reached). fn returns 0 to go on, anything else stops the
 * search and is returned. A stream-mode matcher gives SIFT_EINVAL; SIFT_ECORRUPT for a damaged
 * store; SIFT_ENOMEM; a database error (SIFT_EDB). sum may be NULL. */
SIFT_API int sift_index_search(sift_index_t *ix, const sift_matcher_t *m, unsigned threads,
                               int (*fn)(void *user, const sift_index_hit_t *h), void *user,
                               sift_index_search_summary_t *sum);

/* A packet of the payload store (index --payloads), as sift_index_payloads gives them: files in
 * path order, each file's packets in record order. Pointers valid during the callback. */
typedef struct sift_index_payload {
    const char *file;    /* its file's path, as the index has it */
    uint32_t file_index; /* of its file among those given so far, from 0 */
    uint64_t packet;     /* its number in the file, from 1 */
    int64_t flow_id;     /* its flow's id in the index */
    uint8_t ip_proto;
    bool from_initiator;  /* sent by its flow's initiator */
    uint16_t server_port; /* its flow's responder's port */
    uint16_t client_port; /* and its initiator's */
    const uint8_t *hash;  /* XXH3-128 of the whole payload, canonical (16 bytes) */
    const uint8_t *data;  /* its first kept bytes */
    uint32_t kept;
    uint64_t len; /* the payload's length */
} sift_index_payload_t;

/* Calls fn for every packet with a payload in the payload store, with the first max_bytes of
 * its payload (each distinct payload is read and kept once; memory: the distinct payloads'
 * first max_bytes). Files indexed without --payloads are counted in sum (files_without,
 * files_older) and skipped; packets whose flow position was lost counted in sum->lost. fn
 * returns 0 to go on, anything else stops the walk and is returned. SIFT_ECORRUPT for a
 * damaged store, SIFT_ENOMEM. */
SIFT_API int sift_index_payloads(sift_index_t *ix, uint32_t max_bytes,
                                 int (*fn)(void *user, const sift_index_payload_t *p), void *user,
                                 sift_index_search_summary_t *sum);

/* ---- extraction ---- */

typedef struct sift_extract_summary {
    uint64_t flows, packets, bytes, files;
    bool pcapng; /* written as pcapng (link types differ) */
} sift_extract_summary_t;

/* Writes the packets of the matching flows to out (a pcap, or pcapng when their link types
 * differ), read by offset from the original files, in timestamp order across files. A source
 * file whose size, mtime or content changed since it was indexed is refused (SIFT_ESTALE,
 * naming it) before anything is written. */
SIFT_API int sift_index_extract(sift_index_t *ix, const sift_query_t *q, FILE *out,
                                sift_extract_summary_t *sum);

/* The same into the file at path through sift_outfile ("-": standard output): written beside
 * it and renamed into place only when complete, so a failure leaves path as it was. An
 * existing path is replaced only with force; the database and every file the index names are
 * refused (SIFT_EEXIST) even then. A device or FIFO is written in place. */
SIFT_API int sift_index_extract_file(sift_index_t *ix, const sift_query_t *q, const char *path,
                                     bool force, sift_extract_summary_t *sum);

/* ---- message-type signatures (capsift/signature.h) ---- */

/* Saves a set of signatures (sift_signatures_learn's) in one transaction. A set name or
 * signature name already in the index is refused (SIFT_EEXIST, nothing saved): saving never
 * replaces signatures and what they have counted since. */
SIFT_API int sift_index_save_signatures(sift_index_t *ix, const sift_signatures_t *s);
/* Adds to out the signatures named which, or of the set named which, or all (which NULL), in
 * the order they were saved. An index of an older capsift has none (0). SIFT_EDB for a
 * damaged row. */
SIFT_API int sift_index_signatures(sift_index_t *ix, const char *which, sift_signatures_t *out);
/* Renames the set old (with the names of its signatures that begin with "old-") or else the
 * signature old. Returns how many were renamed (0: none of that name), SIFT_EEXIST when
 * new_name is taken. */
SIFT_API int64_t sift_index_rename_signatures(sift_index_t *ix, const char *old,
                                              const char *new_name);
/* Deletes the signature or the set named which; returns how many. */
SIFT_API int64_t sift_index_delete_signatures(sift_index_t *ix, const char *which);
/* Stores the usage, last-seen time and confidence of the signatures of s that were read from
 * the index (after sift_classification_apply), in one transaction. */
SIFT_API int sift_index_update_signatures(sift_index_t *ix, const sift_signatures_t *s);

#ifdef __cplusplus
}
#endif
#endif
