/* The capsift program: shared declarations of the command files. */
#ifndef CAPSIFT_CLI_H
#define CAPSIFT_CLI_H

#include <capsift/capsift.h>

#include <stdbool.h>
#include <stdio.h>

/* Exit codes, the same for every command. */
enum {
    CLI_OK = 0,      /* everything read whole */
    CLI_DAMAGED = 1, /* some input was damaged or unreadable; its partial results printed */
    CLI_USAGE = 2,   /* bad options or arguments */
    CLI_FAILED = 3   /* the run itself failed (out of memory, cannot start threads) */
};

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);
} cli_command_t;

int cmd_info(int argc, char **argv);
void help_info(FILE *out);
int cmd_index(int argc, char **argv);
void help_index(FILE *out);
int cmd_query(int argc, char **argv);
void help_query(FILE *out);
int cmd_extract(int argc, char **argv);
void help_extract(FILE *out);
int cmd_bench(int argc, char **argv);
void help_bench(FILE *out);
int cmd_flows(int argc, char **argv);
void help_flows(FILE *out);
int cmd_stats(int argc, char **argv);
void help_stats(FILE *out);
int cmd_cache(int argc, char **argv);
void help_cache(FILE *out);

/* Looks up a command by name (NULL when unknown). */
const cli_command_t *cli_find_command(const char *name);

/* Prints "capsift: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Option values through the library's checked parsers (capsift/parse.h): CLI_OK with *out
 * set, or CLI_USAGE after a message naming the command, the option, and what was expected or
 * the range. */
int cli_opt_count(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
                  uint64_t *out);
int cli_opt_size(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
                 uint64_t *out);
int cli_opt_duration(const char *cmd, const char *opt, const char *arg, int64_t min_ns,
                     int64_t max_ns, int64_t *out);

/* Compiles a query expression for command cmd; on a syntax error prints the message with a
 * caret under the column and returns CLI_USAGE. */
int cli_compile_query(const char *cmd, const char *expr, sift_query_t **q);

/* -j for command cmd: CLI_OK with *threads set, or CLI_USAGE with a message. */
int cli_threads_option(const char *cmd, const char *arg, int *threads);

/* The memory budget (--memory, default a quarter of physical memory) and --max-flows, which
 * flows, stats and index share. Results hold all flows up to the cap; past it the packets of
 * further flows are counted, reported by cli_report_input, and the exit is 1. */
typedef struct cli_limits {
    uint64_t memory;    /* 0: cli_memory_default() */
    uint64_t max_flows; /* 0: from the memory */
} cli_limits_t;

enum { CLI_OPT_MEMORY = 1000, CLI_OPT_MAX_FLOWS };
#define CLI_LIMITS_LONGOPTS                                                                        \
    {"memory", required_argument, NULL, CLI_OPT_MEMORY},                                           \
    {                                                                                              \
        "max-flows", required_argument, NULL, CLI_OPT_MAX_FLOWS                                    \
    }
#define CLI_LIMITS_HELP                                                                            \
    "  --memory SIZE      memory budget for flow tables (default: a quarter of RAM);\n"            \
    "                     past it further flows are counted, reported, not listed\n"               \
    "  --max-flows N      flows held at most per table instead of what --memory allows\n"

uint64_t cli_memory_default(void);
/* max_flows for one flow table. */
uint64_t cli_flow_cap(const cli_limits_t *l, bool app);
/* Reports on stderr what went wrong with an input: its open error, why the filter left packets
 * out, its first problems (damage; unless the output shows them) and what its passes reported
 * (a limit of `limits` reached, memory run out). Returns CLI_DAMAGED when there was any of
 * these but the filter note, else CLI_OK. */
int cli_report_input(const sift_input_t *in, const cli_limits_t *limits, bool problems);
/* Parses --memory or --max-flows (opt is CLI_OPT_MEMORY or CLI_OPT_MAX_FLOWS). */
int cli_limits_option(const char *cmd, int opt, const char *arg, cli_limits_t *l);

/* One line on stderr counting what directory walks left out, by reason (nothing when none). */
void cli_expand_note(const sift_expand_stats_t *s);

/* CLI_OK when inputs follow the options, else CLI_USAGE with a message. */
int cli_need_inputs(const char *cmd, int argc, int optind_);

/* Progress on stderr when it is a terminal and the work has taken more than a second. */
typedef struct cli_progress {
    bool enabled;
    bool shown;
    double start;
} cli_progress_t;

void cli_progress_init(cli_progress_t *p);
void cli_progress_cb(void *user, uint64_t done, uint64_t total, uint64_t packets);
void cli_progress_end(cli_progress_t *p);

double cli_now(void);

/* One engine run of one pass over the inputs named on the command line (cli/run.c). */
typedef struct cli_run_opts {
    const sift_pass_t *pass;
    const void *config;
    unsigned threads; /* 0: all cores */
    const char *filter;
    bool totals;       /* the run needs sift_engine_total */
    const void *flows; /* config of the flows a pass is built on (engine opts.flows) */
    bool cache;        /* answer from, and store into, the library's result cache per input
                        * (unless CAPSIFT_NO_CACHE is set) */
} cli_run_opts_t;

typedef struct cli_run {
    sift_ctx_t *ctx;
    sift_engine_t *e;
    sift_cache_t *cache; /* NULL: results computed */
    int pass;            /* index of the pass in e */
    cli_progress_t prog;
} cli_run_t;

/* Sets up, adds every input and runs; prints any error. Returns CLI_OK, or the exit code to
 * return (CLI_USAGE for a bad filter or a missing input). cli_run_free in every case. */
int cli_run(cli_run_t *r, const cli_run_opts_t *o, char **inputs, int ninputs);

/* A size from the environment, for the tests that check that results never depend on how a
 * file is split (0 when unset or out of [min, max]): CAPSIFT_RANGE_BYTES, files from this size
 * on split into ranges of at least it (0: the engine's 64/16 MiB); CAPSIFT_SEGMENT_BYTES, the
 * index's position segments (0: 16 KiB). */
uint64_t cli_env_size(const char *name, uint64_t min, uint64_t max);
void cli_run_free(cli_run_t *r);

typedef enum cli_format { CLI_FORMAT_TABLE = 0, CLI_FORMAT_JSON, CLI_FORMAT_CSV } cli_format_t;

/* Row i of n into *row; app is a CLI_APP_MAX buffer row->app may point into. Rows are asked
 * for in order, twice for a table. */
#define CLI_APP_MAX 72
typedef void (*cli_row_fn)(void *user, size_t i, sift_flow_row_t *row, char *app);

/* Prints n flow rows (cli/flow_out.c) as an aligned table (the FILE and APP columns only when
 * asked), JSON lines or CSV with a header row, taking each from get: memory does not grow with
 * the rows. */
void cli_flow_rows_print(FILE *out, cli_format_t fmt, size_t n, cli_row_fn get, void *user,
                         bool show_file, bool show_app);
/* get for an array of sift_flow_row_t. */
void cli_row_of_array(void *rows, size_t i, sift_flow_row_t *row, char *app);

/* JSON output: strings escaped per RFC 8259. A byte that is not part of well-formed UTF-8
 * (a file name on Linux may hold any byte) is written as the escape \udcXX of XX, Python's
 * "surrogateescape": the line stays valid UTF-8 and the original bytes can be recovered
 * (json.loads(line)["file"].encode("utf-8", "surrogateescape")). */
void json_string(FILE *out, const char *s);
/* A byte json_string writes as it is (no escape, not part of a UTF-8 sequence). */
static inline bool json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* "1.2 MB" style sizes (decimal units). */
const char *cli_human_bytes(char *buf, size_t size, double bytes);

/* The result cache the commands share (cli/cache_glue.c): the library's (cli_run_opts_t.cache),
 * in a file under CAPSIFT_CACHE_DIR, else $XDG_CACHE_HOME/capsift or ~/.cache/capsift;
 * CAPSIFT_NO_CACHE=1 acts as every command's --no-cache. */
/* The cache file's path from the environment; -1 when there is none (no HOME). */
int cli_cache_path(char *buf, size_t size);
/* Opens the cache there (creating its directory), logging cache warnings to stderr. */
int cli_cache_open(sift_ctx_t *ctx, sift_cache_t **out);
/* CAPSIFT_NO_CACHE is set (and not "0"): every command computes. */
bool cli_cache_env_off(void);

#endif
