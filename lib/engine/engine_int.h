/* Internals of the engine (lib/engine): its structures, shared by engine.c and eng_cache.c.
 * Not installed. */
#ifndef SIFT_ENGINE_INT_H
#define SIFT_ENGINE_INT_H

#include "common/internal.h"
#include "flow/flow_int.h"

#include <capsift/engine.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define ENG_MAX_PASSES 16
#define ENG_SPLIT_MIN  (64u << 20) /* files smaller than this are read by one worker */
#define ENG_CHUNK_MIN  (16u << 20)
/* Ranges of a split file per worker: workers take the next range as they finish one, so
 * several each even out ranges that cost more than others (dense flows, slow detection). A
 * range costs little to set up and merge: detection modules are per worker, not per range. */
#define ENG_RANGES_PER_WORKER 4

typedef struct eng_pass {
    sift_pass_t pass; /* needs and flags as declared for its config */
    const void *config;
    void *shared; /* what its setup built for the run */
    bool set_up;  /* setup ran and succeeded: teardown is owed */
    size_t user;  /* its index in users[] (SIZE_MAX: it keeps no bytes per flow) */
} eng_pass_t;

typedef struct eng_input {
    sift_input_t pub;
    char *path;
    char error[SIFT_ERRBUF_SIZE];
    char warning[SIFT_ERRBUF_SIZE];
    sift_iface_t *ifaces;
    sift_problem_t *problems;
    sift_file_notes_t notes; /* pub.notes: the first range's, with the later ranges' statistics
                              * blocks and packet comments */
    uint64_t records;        /* records of the ranges merged so far (numbers the comments) */
    sift_report_t *reports;  /* with their messages after them, in one block */
    void *states[ENG_MAX_PASSES];
    /* a split input: its ranges are merged into states in file order as they finish */
    size_t first, nchunks; /* its chunks in the plan */
    size_t merged;         /* ranges merged so far */
    uint64_t expect;       /* where the next range must begin */
    bool broken;           /* a range did not tile or read cleanly: read it again whole */
    bool keyed;            /* the result cache has a key for it (key) */
    sift_cache_key_t key;
} eng_input_t;

/* A unit of work: a whole input, or a byte range of a large plain pcap file. The chunks of one
 * input are merged in file order after a check that each stopped exactly where the next
 * began. */
typedef struct eng_chunk {
    size_t input;
    bool split;           /* a byte range of its input */
    uint64_t start, end;  /* requested range (split chunks) */
    uint64_t began, stop; /* where reading really began and stopped */
    bool midway;          /* pcapng headers after a packet: later ranges may lack them */
    bool done;            /* read (a split chunk waits to be merged) */
    int status;
    uint64_t problems;
    uint64_t filtered_out;
    char warning[SIFT_ERRBUF_SIZE];
    void *states[ENG_MAX_PASSES];
    sift_file_notes_t notes; /* a later range's: its statistics blocks and packet comments */
    uint64_t records;        /* records it read */
} eng_chunk_t;

struct sift_engine {
    sift_ctx_t *ctx;
    eng_chunk_t *chunks;
    size_t nchunks;
    sift_engine_opts_t opts;
    eng_pass_t passes[ENG_MAX_PASSES];
    int npass;
    eng_input_t *inputs;
    size_t ninput, cap;
    void *totals[ENG_MAX_PASSES];
    bool ran;
    uint64_t bytes_total;
    atomic_uint_fast64_t bytes_done, packets_done;
    atomic_int fatal;
    uint64_t chunks_run, reread;
    sift_need_t need;                       /* the deepest need of the passes: how far to decode */
    bool whole_files;                       /* a pass cannot merge ranges of one file */
    int stage;                              /* the flows pass, or -1 */
    sift_flow_user_t users[ENG_MAX_PASSES]; /* passes keeping bytes per flow */
    size_t nusers, ext_bytes;
    void **modules;             /* a detection module per worker, set up by it on first use */
    pthread_mutex_t merge_lock; /* ranges merge into their input one at a time */
    sift_expand_stats_t expanded;
    sift_filter_t *filter;      /* NULL without one */
    pthread_mutex_t cache_lock; /* stores into opts.cache come from any worker */
};

/* Allocates and initialises one state per pass (engine.c); later_range: for a range after its
 * file's first; worker: the worker that will feed them (UINT_MAX: none, they are only merged
 * into). */
int sift__eng_new_states(sift_engine_t *e, void **states, bool later_range, unsigned worker);

/* The reports of an input's final states become its pass_status and reports (engine.c). */
void sift__eng_collect_reports(const sift_engine_t *e, eng_input_t *in, void *const *states);

/* Offers an input's final states to the input_done callback; frees them if it takes them
 * (engine.c). */
void sift__eng_offer(sift_engine_t *e, size_t i, void **states);

/* ---- the result cache (eng_cache.c) ---- */

/* Looks every input up; a hit gets its states and record from the cache, is marked cached and
 * is given to input_done. Errors of the cache are not the run's: a failed lookup reads. */
void sift__eng_cache_lookup(sift_engine_t *e);

/* Stores the final states of a read input (any thread; one at a time). */
void sift__eng_cache_store(sift_engine_t *e, size_t i, void *const *states);

/* A later range's statistics blocks and packet comments added to dst's notes, numbered after
 * `records` records (engine.c). */
void sift__eng_notes_absorb(sift_file_notes_t *dst, const sift_file_notes_t *src, uint64_t records);

#endif
