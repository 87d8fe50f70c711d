/* capsift: the engine that runs passes over inputs.
 *
 * A pass is a set of mergeable state with a per-packet callback. The engine reads each input
 * (files are spread over worker threads), gives every packet to every pass, and merges the
 * states per input, in file order, so results never depend on the number of threads. Commands
 * choose passes and read the merged states; they never loop over files or start threads.
 *
 *   sift_engine_t *e;
 *   sift_engine_create(&e, ctx, &opts);
 *   int ip = sift_engine_add_pass(e, &sift_info_pass, NULL);
 *   sift_engine_add_input(e, "captures/");       // a directory means every capture under it
 *   sift_engine_run(e);
 *   for (size_t i = 0; i < sift_engine_ninputs(e); i++)
 *       use(sift_engine_input(e, i), sift_engine_state(e, i, ip));
 *   sift_engine_free(e);
 */
#ifndef CAPSIFT_ENGINE_H
#define CAPSIFT_ENGINE_H

#include <capsift/cache.h>
#include <capsift/decode.h>
#include <capsift/filter.h>
#include <capsift/packet.h>
#include <capsift/reader.h>

#include <stdbool.h>
#include <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sift_flows;
struct sift_flow;

/* Bytes a pass saves its final state into for the result cache (caller-owned; the engine makes
 * and frees it). An allocation failure is sticky: the state is then not stored. */
typedef struct sift_blob {
    unsigned char *p;
    size_t len, cap;
    bool failed;
} sift_blob_t;
SIFT_API void sift_blob_put(sift_blob_t *b, const void *data, size_t n);
SIFT_API void sift_blob_put_u64(sift_blob_t *b, uint64_t v); /* 8 bytes, host order */

/* Reading saved bytes back: a get past the end reads nothing, returns false and sets bad.
 * input is the run's index of the input whose state is read, for what a state keeps of it
 * (sift_flow_t.input): a cached result may come back as another input of another run. */
typedef struct sift_blob_reader {
    const unsigned char *p, *end;
    bool bad;
    uint32_t input;
} sift_blob_reader_t;
SIFT_API bool sift_blob_get(sift_blob_reader_t *r, void *out, size_t n);
SIFT_API uint64_t sift_blob_get_u64(sift_blob_reader_t *r); /* 0 past the end (bad set) */

/* A pass. The engine allocates state_size zeroed bytes per worker and input, calls init with
 * the config given to sift_engine_add_pass, then packet for each record in file order, then
 * merges: merge(into, from) where `from` covers records after those of `into`. merge must be
 * associative. packet is the hot path: no allocation, lock or system call per packet where it
 * can be avoided. release frees what init and packet allocated (not the state itself).
 *
 * Passes built on flows (SIFT_PASS_FLOWS) get, with each packet, its flow (pkt->flow, NULL for
 * a packet without one), its direction and flow_state_size bytes of their own in that flow
 * (pkt->flow_state, zeroed when the flow starts). The engine keeps one flow table per range:
 * the flows pass (sift_flows_pass in capsift/flow.h), added with opts.flows as its config
 * unless the run has one already. Merging ranges joins a flow cut by a boundary; flow_join
 * then gets the pass's bytes of both parts (from: the later part, released afterwards). After
 * an input's last merge, flow_end sees every flow with its final application, then finish
 * runs. */
typedef struct sift_pass {
    const char *name;
    sift_need_t needs;
    size_t state_size;
    int (*init)(void *state, const void *config);
    void (*packet)(void *state, const sift_packet_t *pkt);
    int (*merge)(void *into, const void *from);
    /* Called once on each input's final state, after its ranges are merged and before
     * input_done (NULL: nothing to do): for decisions a whole read makes at the end, such as
     * giving up application detection on flows still being classified. */
    void (*finish)(void *state);
    void (*release)(void *state);
    unsigned flags; /* SIFT_PASS_* */
    /* Adjusts needs and flags to a config (NULL: they do not depend on it). */
    void (*declare)(const void *config, sift_need_t *needs, unsigned *flags);
    /* Per-flow bytes and their hooks (SIFT_PASS_FLOWS; each may be NULL). bind, right after
     * init, gives the state the flows of its range and where the pass's bytes lie in each
     * (sift_flow_ext(f) + offset): to visit them all, say to write some out. */
    size_t flow_state_size;
    void (*bind)(void *state, const struct sift_flows *flows, size_t offset);
    void (*flow_join)(void *into, const void *from);
    void (*flow_release)(void *flow_state);
    void (*flow_end)(void *state, const struct sift_flows *flows, const struct sift_flow *f,
                     void *flow_state);
    /* Read-only resources every state of a run shares (a compiled pattern database, FFT plans,
     * a model): setup builds them once per run from the config, on the thread that calls
     * sift_engine_run, before any init; every state then reads them with sift_pass_shared
     * (from init on), from any thread, without locking, so nothing may write them; teardown
     * frees them after the last state is released (sift_engine_free). A failing setup (a
     * negative SIFT_E code, and what went wrong in err) fails the run before anything is read.
     * NULL: nothing shared. */
    int (*setup)(const void *config, void **shared, char err[SIFT_ERRBUF_SIZE]);
    void (*teardown)(void *shared);
    /* The result cache (opts.cache): save writes an input's final state (after finish), load
     * reads it back into a state just made by init with the same config, so that it answers
     * every accessor, merge and release as the computed one. cache_key adds every config field
     * that changes the result (NULL: none does); cache_version changes whenever what save
     * writes or what the pass computes changes. A run caches only when every pass has save
     * and load and none is flagged SIFT_PASS_NO_CACHE (declare may flag it for a config).
     * A pass's own bytes per flow are not part of what is saved: they serve until flow_end,
     * and a loaded state's flows have them zeroed. Results that ran out of memory
     * (SIFT_ENOMEM reported) are never stored: another run may have the memory. */
    uint32_t cache_version;
    void (*cache_key)(const void *config, sift_cache_keyb_t *kb);
    void (*save)(const void *state, sift_blob_t *out);
    int (*load)(void *state, sift_blob_reader_t *in);
} sift_pass_t;

/* A pass says that its result for an input is incomplete, from any of its callbacks (packet,
 * merge, finish, flow_join, flow_end), on the state it was given. code is SIFT_ENOMEM (memory
 * ran out), SIFT_ELIMIT (a cap was reached: the result holds everything up to it) or another
 * negative SIFT_E code; the message says what is missing, without file or pass name. A state
 * keeps its first report; a merge keeps the one of the earlier records, and a merge that fails
 * is reported on `into` by the engine. After an input's finish, its passes' reports become its
 * pass_status and reports (sift_input_t). Only for states made by the engine or by
 * sift_pass_state_new; on the state's own thread, as the callbacks run. */
#define SIFT_REPORT_SIZE 256 /* the longest message kept, with its '\0' */
SIFT_API void sift_pass_report(void *state, int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A state's report: 0, or its code with the message in *message (NULL: not wanted), valid while
 * the state is. */
SIFT_API int sift_pass_status(const void *state, const char **message);

/* A state of a pass outside the engine (tests, a program that feeds packets itself): allocated,
 * zeroed and given to the pass's init with config. Returns 0 with the state in *out, or the
 * init's negative code. sift_pass_state_free releases it (NULL is fine). */
SIFT_API int sift_pass_state_new(const sift_pass_t *pass, const void *config, void **out);
SIFT_API void sift_pass_state_free(const sift_pass_t *pass, void *state);

/* The same for a pass with a setup: shared is what the caller's pass->setup gave, and must
 * outlive the state. */
SIFT_API int sift_pass_state_new_shared(const sift_pass_t *pass, const void *config,
                                        const void *shared, void **out);

/* What the pass's setup built for this run (NULL: no setup), for states made by the engine or
 * by sift_pass_state_new_shared. Thread-safe: the resources are read-only. */
SIFT_API const void *sift_pass_shared(const void *state);

/* Whether the state reads a range of a file after its first: its flows may have begun in an
 * earlier range (their first packets there), which the merge joins. */
SIFT_API bool sift_pass_later_range(const void *state);

/* In merge(into, from): the number of records of the input before the range `from` covers, so
 * that a record index of `from` (sift_packet_t.record) becomes one of the input (into covers
 * the records before, from the first). 0 for any other state. */
SIFT_API uint64_t sift_pass_record_base(const void *state);

/* During flow_end in an engine run: the record at byte offset (a record of the same input that
 * a range reported, for instance), read again from the file and decoded with the run's needs
 * (the flow fields of *pkt are not set). Valid until the next call or the end of flow_end.
 * Returns 0, SIFT_EINVAL outside flow_end (or for standard input), or SIFT_ESTALE when the
 * file changed and holds no such record. Lets a pass that keeps little per flow in a later range
 * (the offsets of a few packets) finish what an earlier range began. */
SIFT_API int sift_pass_fetch(void *state, uint64_t offset, const sift_packet_t **pkt);

/* The pass cannot merge the states of two ranges of one file: a run with it reads every file
 * whole, on one worker (files still go to different workers). */
#define SIFT_PASS_WHOLE_FILE 0x1u
/* The pass is built on flows (see above). */
#define SIFT_PASS_FLOWS 0x2u
/* With this config the pass's results cannot come from the result cache (they have effects
 * outside the state, such as handing flows to a callback as they finish). */
#define SIFT_PASS_NO_CACHE 0x4u

typedef void (*sift_progress_fn)(void *user, uint64_t bytes_done, uint64_t bytes_total,
                                 uint64_t packets_done);

struct sift_input;

typedef struct sift_engine_opts {
    unsigned threads;          /* workers; 0 means the number of online cores */
    sift_reader_opts_t reader; /* passed to every reader */
    const char *filter;        /* BPF expression (tcpdump syntax); NULL for none. Checked by
                                * sift_engine_create (SIFT_EFILTER with libpcap's message) */
    uint64_t split_bytes;      /* plain pcap and pcapng files at least this large are split
                                * into byte ranges read in parallel, four per worker (0: 64 MiB) */
    uint64_t chunk_bytes;      /* smallest range (0: 16 MiB) */
    /* Called once per input when its results are final, from a worker thread (concurrently
     * for different inputs) or from the thread in sift_engine_run; NULL for none. states[p] is
     * the merged state of pass p (NULL when the input could not be opened). Returning true
     * hands the states over: the engine frees them at once (so memory does not build up over
     * many inputs) and sift_engine_state then gives NULL for that input; totals leave it out. */
    bool (*input_done)(void *user, size_t input, const struct sift_input *in, void *const *states);
    void *input_done_user;
    bool totals; /* also merge every input's state into a run total (sift_engine_total); with
                  * several inputs it holds a second copy of every state */
    /* The result cache: when every pass can save and load its state, each regular file is
     * looked up by its content fingerprint, the passes and their configs, the filter, the
     * reader options, the library version and the running executable; a hit is not read (its
     * states and what the input record says come from the cache, input_done is called from
     * the thread in sift_engine_run), a miss is stored once finished. A run whose passes read
     * record headers only (needs SIFT_NEED_RECORD) costs less than a fingerprint: it uses the
     * cache only for files whose fingerprint the cache's memo knows already. Used only from
     * the engine's threads during sift_engine_run, one at a time; NULL: no cache. */
    sift_cache_t *cache;
    sift_progress_fn progress; /* called from the thread in sift_engine_run, about 5 times a
                                * second while it runs; NULL for none */
    void *progress_user;
    /* Config of the flows pass the engine adds for passes built on flows when the run has
     * none (a struct sift_flows_config; NULL: defaults). */
    const void *flows;
} sift_engine_opts_t;

/* What a pass reported about its result for an input (sift_pass_report). */
typedef struct sift_report {
    int pass;            /* the pass's index in the run */
    const char *name;    /* its name ("flows", "stats" ...) */
    int code;            /* SIFT_ENOMEM, SIFT_ELIMIT ... */
    const char *message; /* what is missing ("the flow limit of 2 flows was reached: ...") */
} sift_report_t;

/* The outcome of one input. Valid until sift_engine_free. */
typedef struct sift_input {
    const char *path;
    int status;                     /* 0: read whole; negative: could not be opened (error says why)
                                     * or ended early because of damage (problems say where) */
    const char *error;              /* the open error, "" when it opened */
    uint64_t size;                  /* bytes on disk (0 for a pipe) */
    sift_file_meta_t meta;          /* format, compression, interfaces ... */
    const sift_file_notes_t *notes; /* what a pcapng file says of itself (never NULL) */
    size_t nproblems;
    const sift_problem_t *problems;
    uint64_t problems_total; /* all problems, including those not kept in detail */
    const char *warning;     /* "" or why some packets were left out (a filter that cannot
                              * apply to one of the file's link types) */
    uint64_t filtered_out;   /* packets the filter rejected or could not apply to */
    /* 0 when every pass's result is whole; else the code of the first report, in pass order.
     * Set before input_done is called. */
    int pass_status;
    size_t nreports;
    const sift_report_t *reports;
    bool cached; /* the results came from the result cache: the file was not read */
} sift_input_t;

/* What a directory walk left out, by reason; unreadable_dirs were handed on as inputs. */
typedef struct sift_expand_stats {
    uint64_t not_captures;    /* regular files with neither a capture's name nor first bytes */
    uint64_t hidden;          /* names starting with '.' (capsift's own temporary files too) */
    uint64_t duplicates;      /* a file already named through another path (a link) */
    uint64_t dirs_again;      /* a directory reached again through a link (a loop) */
    uint64_t broken_links;    /* symbolic links to nothing, without a capture's name */
    uint64_t not_files;       /* devices, FIFOs, sockets inside a directory */
    uint64_t too_deep;        /* directories past 64 levels */
    uint64_t unreadable_dirs; /* handed on as inputs, whose read fails naming them */
} sift_expand_stats_t;

/* The files a walk left out (every field but unreadable_dirs). */
SIFT_API uint64_t sift_expand_left_out(const sift_expand_stats_t *s);

/* Calls fn for each input a path names: the path itself when it is not a directory ("-" too,
 * with st NULL), or, under a directory, recursively and in name order:
 * - every file with a capture's name (.pcap .pcapng .cap .ntar .snoop, each also .gz, .zst)
 *   or a capture's first bytes, damaged or not: its read then reports the damage;
 * - every file or subdirectory that cannot be read, so that its read fails naming it;
 * - the targets of symbolic links, each real file and directory once.
 * Everything else is counted in *stats (NULL: not counted), which accumulates over calls.
 * fn returns 0 to go on or a negative code to stop with it. Returns the number of inputs
 * named, or a negative code with the detail in the context. */
typedef int (*sift_expand_fn)(void *user, const char *path, const struct stat *st);
SIFT_API int sift_inputs_expand(sift_ctx_t *ctx, const char *path, sift_expand_fn fn, void *user,
                                sift_expand_stats_t *stats);

typedef struct sift_engine sift_engine_t;

SIFT_API int sift_engine_create(sift_engine_t **out, sift_ctx_t *ctx,
                                const sift_engine_opts_t *opts);
SIFT_API void sift_engine_free(sift_engine_t *e); /* NULL is fine */

/* Adds a pass; config is handed to its init and must stay valid until sift_engine_run
 * returns. Returns the pass index (>= 0) or a negative code. */
SIFT_API int sift_engine_add_pass(sift_engine_t *e, const sift_pass_t *pass, const void *config);

/* Adds a file, "-" (standard input), or a directory: every capture file under it, by the
 * rules of sift_inputs_expand. Returns the number of inputs added, or a negative code with the
 * detail in the context. */
SIFT_API int sift_engine_add_input(sift_engine_t *e, const char *path);

/* What the directories given to sift_engine_add_input left out, so far. */
SIFT_API const sift_expand_stats_t *sift_engine_expand_stats(const sift_engine_t *e);

/* Reads every input through every pass. Returns 0 when the run completed (inputs may still
 * have failed or been damaged: see sift_engine_input), or a negative code when the run itself
 * could not (out of memory, a pass's init failed). */
SIFT_API int sift_engine_run(sift_engine_t *e);

/* How the run was carried out. */
typedef struct sift_engine_stats {
    uint64_t chunks;  /* units of work run: one per input, more for split files */
    uint64_t reread;  /* split inputs read again whole (a wrong boundary guess, or damage) */
    uint64_t packets; /* records read, re-reads included */
    uint64_t bytes;   /* bytes read, re-reads included */
} sift_engine_stats_t;

SIFT_API void sift_engine_stats(const sift_engine_t *e, sift_engine_stats_t *out);

SIFT_API size_t sift_engine_ninputs(const sift_engine_t *e);
SIFT_API const sift_input_t *sift_engine_input(const sift_engine_t *e, size_t i);

/* The merged state of pass p over input i (NULL if the input could not be opened), or over
 * all inputs in order (sift_engine_total: only with opts.totals; with a single input it is
 * that input's state). Valid until sift_engine_free. */
SIFT_API const void *sift_engine_state(const sift_engine_t *e, size_t i, int p);
SIFT_API const void *sift_engine_total(const sift_engine_t *e, int p);

/* The index of the flows pass of the run (the one added, or the one the engine adds for
 * passes built on flows once sift_engine_run starts), or -1 when it has none. */
SIFT_API int sift_engine_flows_pass(const sift_engine_t *e);

/* Pass p's own bytes in flow f (a flow of the run's flows pass states), or NULL when p keeps
 * none. */
SIFT_API void *sift_engine_flow_state(const sift_engine_t *e, int p, const struct sift_flow *f);

#ifdef __cplusplus
}
#endif
#endif
