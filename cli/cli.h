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

/* Options are data. Each command has a table of its own options, and the options most
 * commands share (-r, -f, -j, --json, --csv, --no-cache, --time-format, -q, --db, --memory,
 * --max-flows) come from one common table (cli/options.c); cli_parse builds getopt_long's
 * tables, --help and every message about an option from them. */
typedef enum cli_opt_kind {
    CLI_K_FLAG,     /* bool, set to true */
    CLI_K_SET,      /* int set to .value; two options setting one field differently conflict */
    CLI_K_STRING,   /* const char * (into argv) */
    CLI_K_LIST,     /* cli_list_t: every occurrence, in order */
    CLI_K_COUNT,    /* uint64_t within [min, max] */
    CLI_K_SIZE,     /* uint64_t bytes within [min, max] */
    CLI_K_DURATION, /* int64_t nanoseconds within [min, max] */
    CLI_K_CHOICE    /* int: the index of the value in .choices */
} cli_opt_kind_t;

#define CLI_LIST_MAX 64
typedef struct cli_list {
    const char *v[CLI_LIST_MAX];
    size_t n;
} cli_list_t;

typedef struct cli_opt {
    const char *name; /* the long name, without "--" */
    char short_name;  /* 0: none */
    cli_opt_kind_t kind;
    size_t offset;     /* of the field in the command's argument struct (in cli_common_t for the
                        * common options) */
    const char *arg;   /* what the value is, in --help: "N", "EXPR"; NULL for FLAG and SET */
    const char *help;  /* its lines in --help, separated by '\n' */
    uint64_t min, max; /* COUNT, SIZE; DURATION in nanoseconds */
    const char *const *choices; /* CHOICE: NULL-terminated */
    int value;                  /* SET */
    const char *like;           /* the option other commands call this ("limit" on --top), so
                                 * the one is suggested for the other */
} cli_opt_t;

/* The common options a command takes (cli_command_t.common). */
enum {
    CLI_C_INPUT = 1 << 0,    /* -r FILE (repeatable): inputs, before those after the options */
    CLI_C_FILTER = 1 << 1,   /* -f EXPR */
    CLI_C_THREADS = 1 << 2,  /* -j N */
    CLI_C_JSON = 1 << 3,     /* --json */
    CLI_C_CSV = 1 << 4,      /* --csv (conflicts with --json) */
    CLI_C_NO_CACHE = 1 << 5, /* --no-cache */
    CLI_C_TIME = 1 << 6,     /* --time-format */
    CLI_C_QUIET = 1 << 7,    /* -q */
    CLI_C_DB = 1 << 8,       /* --db FILE */
    CLI_C_LIMITS = 1 << 9    /* --memory, --max-flows */
};

/* How text output shows a time (--time-format, tshark's -t as the model). */
typedef enum cli_time_format {
    CLI_TIME_ISO = 0,  /* 2015-01-03T07:05:08.180056Z (UTC, the file's precision) */
    CLI_TIME_EPOCH,    /* 1420268708.180056 */
    CLI_TIME_RELATIVE, /* seconds since the first packet of the file */
    CLI_TIME_LOCAL     /* ISO 8601 in the local time zone, with its offset */
} cli_time_format_t;

typedef enum cli_format { CLI_FORMAT_TABLE = 0, CLI_FORMAT_JSON, CLI_FORMAT_CSV } cli_format_t;

/* The memory budget (--memory, default a quarter of physical memory) and --max-flows, which
 * flows, stats and index share. Results hold all flows up to the cap; past it the packets of
 * further flows are counted, reported by cli_report_input, and the exit is 1. */
typedef struct cli_limits {
    uint64_t memory;    /* 0: cli_memory_default() */
    uint64_t max_flows; /* 0: from the memory */
} cli_limits_t;

/* The values of the common options, and what followed the options. */
typedef struct cli_common {
    cli_list_t reads; /* -r */
    const char *filter;
    uint64_t threads; /* 0: not given */
    int format;       /* cli_format_t */
    int time_format;  /* cli_time_format_t */
    bool no_cache, quiet;
    const char *db; /* default "capsift.db" */
    bool db_given;  /* --db was given */
    cli_limits_t limits;
    char **args; /* the arguments after the options (argv's, permuted by getopt) */
    int nargs;
} cli_common_t;

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    const char *usage;             /* "capsift NAME ...", further forms on lines of their own */
    const char *about;             /* what the command does, before the options in --help */
    void (*about_more)(FILE *out); /* printed after about (NULL: nothing) */
    const cli_opt_t *opts;         /* the command's own options */
    size_t nopts;
    unsigned common;    /* CLI_C_ bits */
    const char *footer; /* after the options: notes, the exit status */
} cli_command_t;

int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_meta(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_periodic(int argc, char **argv);
int cmd_spectrum(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_signatures(int argc, char **argv);
extern const cli_command_t cli_cmd_info, cli_cmd_bench, cli_cmd_flows, cli_cmd_stats, cli_cmd_index,
    cli_cmd_query, cli_cmd_extract, cli_cmd_cache, cli_cmd_meta, cli_cmd_search, cli_cmd_match,
    cli_cmd_diff, cli_cmd_timeline, cli_cmd_periodic, cli_cmd_spectrum, cli_cmd_cluster,
    cli_cmd_classify, cli_cmd_signatures;

/* Looks up a command by name (NULL when unknown); the commands, in the order of --help. */
const cli_command_t *cli_find_command(const char *name);
const cli_command_t *const *cli_commands(size_t *n);

/* Parses argv (argv[0] is the command's name) into args (the command's own options) and co:
 * CLI_OK, CLI_USAGE after a message naming the option and what was wrong (an unknown option
 * gets the nearest one, or the one this command has for the idea of another's), or -1 after
 * printing --help. Sets the command messages are prefixed with (cli_error). */
int cli_parse(const cli_command_t *cmd, int argc, char **argv, void *args, cli_common_t *co);

/* The number s, given to --opt, when it is within [lo, hi]: true with it in *out, else false
 * after a message naming the option. */
bool cli_parse_real(const char *opt, const char *s, double lo, double hi, double *out);
/* --help of a command, from its table. */
void cli_help(FILE *out, const cli_command_t *cmd);
/* The edit distance of two short strings (Levenshtein), capped at 9: "did you mean". */
size_t cli_distance(const char *a, const char *b);
/* Text wrapped at 79 columns, from the column `indent` (where the caller has already put the
 * cursor), later lines indented to it. */
void cli_wrap(FILE *out, const char *text, int indent);

/* The inputs: -r files, then the arguments; CLI_USAGE with a message when there are none.
 * *inputs is allocated (free it). */
int cli_inputs(const cli_common_t *co, char ***inputs, int *n);

/* Prints "capsift CMD: <message>" to stderr (CMD: the command being parsed or run). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A message that is not an error, in the same form. */
#define cli_note cli_error

/* Compiles a query expression; on a syntax error prints the message with a caret under the
 * column and returns CLI_USAGE. */
int cli_compile_query(const char *expr, sift_query_t **q);

uint64_t cli_memory_default(void);
/* max_flows for one flow table. */
uint64_t cli_flow_cap(const cli_limits_t *l, bool app);
/* Reports on stderr what went wrong with an input, whatever the output format: its open
 * error, why the filter left packets out, its first problem (damage: one line with the file,
 * the byte offset, what was wrong and how many more there are) and what its passes reported
 * (a limit of `limits` reached, memory run out). Returns CLI_DAMAGED when there was any of
 * these but the filter note, else CLI_OK. */
int cli_report_input(const sift_input_t *in, const cli_limits_t *limits);
/* cli_report_input for every input of a run: CLI_DAMAGED when any was, else CLI_OK. */
int cli_report_inputs(const sift_engine_t *e, const cli_limits_t *limits);

/* One line on stderr counting what directory walks left out, by reason (nothing when none). */
void cli_expand_note(const sift_expand_stats_t *s);

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
    const sift_pass_t *also; /* a second pass over the same inputs (NULL: none) */
    const void *also_config;
    bool totals;       /* the run needs sift_engine_total */
    const void *flows; /* config of the flows a pass is built on (engine opts.flows) */
    bool cache;        /* answer from, and store into, the library's result cache per input
                        * (unless --no-cache or CAPSIFT_NO_CACHE) */
} cli_run_opts_t;

typedef struct cli_run {
    sift_ctx_t *ctx;
    sift_engine_t *e;
    sift_cache_t *cache; /* NULL: results computed */
    int pass;            /* index of the pass in e */
    int also;            /* index of the second pass, -1 none */
    cli_progress_t prog;
} cli_run_t;

/* Sets up, adds every input (cli_inputs) and runs with the common options (-j, -f,
 * --no-cache); prints any error. Returns CLI_OK, or the exit code to return (CLI_USAGE for a
 * bad filter or a missing input). cli_run_free in every case. */
int cli_run(cli_run_t *r, const cli_run_opts_t *o, const cli_common_t *co);

/* A size from the environment, for the tests that check that results never depend on how a
 * file is split (0 when unset or out of [min, max]): CAPSIFT_RANGE_BYTES, files from this size
 * on split into ranges of at least it (0: the engine's 64/16 MiB); CAPSIFT_SEGMENT_BYTES, the
 * index's position segments (0: 16 KiB). */
uint64_t cli_env_size(const char *name, uint64_t min, uint64_t max);
void cli_run_free(cli_run_t *r);

/* Opens the index at path to read: CLI_OK, or after a message CLI_USAGE (no index there, a
 * directory) or CLI_FAILED (unreadable, damaged, not an index). */
int cli_index_open(sift_ctx_t *ctx, const char *path, sift_index_t **ix);
/* The same to read, to write an index that exists, or to write one made when missing. */
typedef enum cli_db_mode { CLI_DB_READ = 0, CLI_DB_WRITE, CLI_DB_CREATE } cli_db_mode_t;
int cli_index_open_as(sift_ctx_t *ctx, const char *path, cli_db_mode_t mode, sift_index_t **ix);

/* ---- the output layer (cli/output.c) ---- */

/* A result column. Its key names it in JSON and CSV; a TIME column is two fields there, the
 * epoch seconds under key and the ISO 8601 string under key_iso. */
typedef enum cli_type {
    CLI_T_STR,  /* text */
    CLI_T_U64,  /* a count: grouped in tables (1,234,567) */
    CLI_T_ID,   /* a number that names something (port, VLAN): never grouped */
    CLI_T_I64,  /* a signed number */
    CLI_T_F64,  /* a measure with .digits decimals; a rate (unit with '/') reads "1.32 Mbit/s" */
    CLI_T_BOOL, /* yes/no in tables, true/false in JSON and CSV */
    CLI_T_TIME, /* nanoseconds since the epoch, .digits decimals: --time-format in tables */
    CLI_T_DUR,  /* nanoseconds: "3 h 25 min" in tables, exact seconds in JSON and CSV */
    CLI_T_LIST  /* items of text separated by CLI_LIST_SEP: a JSON array, ','-joined elsewhere */
} cli_type_t;
#define CLI_LIST_SEP '\x1f'

typedef struct cli_col {
    const char *key;  /* JSON key and CSV header */
    const char *head; /* table header; NULL: JSON and CSV only */
    cli_type_t type;
    const char *unit;    /* of a number: "packets", "bytes", "s", "bit/s" (NULL: none) */
    const char *key_iso; /* TIME: the key of the ISO 8601 string */
} cli_col_t;

/* Columns, all fields given: text; a number of a type and unit; a time. */
#define CLI_COL_STR(key, head)                                                                     \
    {                                                                                              \
        (key), (head), CLI_T_STR, NULL, NULL                                                       \
    }
#define CLI_COL_NUM(key, head, type, unit)                                                         \
    {                                                                                              \
        (key), (head), (type), (unit), NULL                                                        \
    }
#define CLI_COL_TIME(key, head, key_iso)                                                           \
    {                                                                                              \
        (key), (head), CLI_T_TIME, "s", (key_iso)                                                  \
    }

/* A value of a row. A string stays owned by whoever gives it, valid until the next row. */
typedef struct cli_val {
    union {
        const char *s;
        uint64_t u;
        int64_t i;
        double f;
        bool b;
    };
    uint8_t digits; /* TIME, DUR, F64: decimals (a time's: its file's precision) */
    bool null;      /* JSON null, CSV empty, "-" in a table */
} cli_val_t;

struct cli_json;
typedef struct cli_out {
    FILE *out;
    cli_format_t fmt;
    cli_time_format_t time; /* tables only: JSON and CSV have epoch and ISO both */
    int64_t base;           /* CLI_TIME_RELATIVE counts from it: the earliest time shown */
    const char *indent;     /* before each line of a table (NULL: none) */
    /* JSON: more of row i after its columns (NULL: none) */
    void (*json_more)(void *user, size_t i, struct cli_json *j);
    void *more_user;
} cli_out_t;

/* Row i into v (one value per column). Rows are asked for in order, twice for a table (once
 * to size the columns), so memory does not grow with them. */
typedef void (*cli_rows_fn)(void *user, size_t i, cli_val_t *v);

/* Prints n rows: an aligned table with a header (columns without a head left out), JSON
 * lines, or CSV with a header row. The columns are the same whatever the data. CLI_OK, or
 * CLI_FAILED when memory ran out (said). */
int cli_rows_print(const cli_out_t *o, const cli_col_t *cols, size_t ncols, size_t n,
                   cli_rows_fn get, void *user);

/* A line built in memory and written at once. */
typedef struct cli_line {
    FILE *out;
    size_t n;
    char b[4096];
} cli_line_t;
void cli_line_put(cli_line_t *l, const char *s);
void cli_line_putn(cli_line_t *l, const char *s, size_t n);
void cli_line_flush(cli_line_t *l);

/* One JSON object on one line, field by field; key is NULL for the elements of an array. */
typedef struct cli_json {
    cli_line_t l;
    int depth;
    bool first[8];
    char stack[8];
} cli_json_t;
void cli_json_begin(cli_json_t *j, FILE *out);
void cli_json_open(cli_json_t *j, const char *key, char bracket); /* '[' or '{' */
void cli_json_close(cli_json_t *j);
void cli_json_end(cli_json_t *j); /* closes what is open, ends the line */
void cli_json_str(cli_json_t *j, const char *key, const char *s); /* NULL: null */
void cli_json_u64(cli_json_t *j, const char *key, uint64_t v);
void cli_json_i64(cli_json_t *j, const char *key, int64_t v);
void cli_json_f64(cli_json_t *j, const char *key, double v, int decimals); /* -1: %g */
void cli_json_bool(cli_json_t *j, const char *key, bool v);
void cli_json_null(cli_json_t *j, const char *key);
/* A time as key_ts (epoch seconds, a number) and key_iso (ISO 8601 UTC). */
void cli_json_time(cli_json_t *j, const char *key_ts, const char *key_iso, int64_t ns, int digits);
/* Nanoseconds as exact seconds with `digits` decimals. */
void cli_json_seconds(cli_json_t *j, const char *key, int64_t ns, int digits);
/* The fields of a row, as cli_rows_print writes them. */
void cli_json_row(cli_json_t *j, const cli_col_t *cols, size_t ncols, const cli_val_t *v);

/* The metadata fields of one protocol as columns and values (cli/meta_out.c): meta's rows,
 * and the metadata flows --json gives each flow. */
#define CLI_META_MAX_FIELDS 16
typedef struct cli_meta_cols {
    const sift_meta_field_t *fields;
    size_t n;
    cli_col_t cols[CLI_META_MAX_FIELDS];
    char heads[CLI_META_MAX_FIELDS][32];
    char hex[8];
} cli_meta_cols_t;
void cli_meta_cols_init(cli_meta_cols_t *m, sift_meta_proto_t p);
void cli_meta_values(cli_meta_cols_t *m, const sift_meta_row_t *r, cli_val_t *v);
/* "meta": [...]: the n rows of a flow, each with its protocol, times and fields. */
void cli_meta_json(cli_json_t *j, cli_meta_cols_t m[SIFT_META_NPROTO],
                   const sift_meta_row_t *const *rows, size_t n, int digits);

/* Text for people: v in decimal (buf of 21 bytes) and grouped ("1,234,567"; 27 bytes); a
 * duration ("0.000283 s", "12 min 5 s", "3 h 25 min", "1,122 days 3 h"); a rate with SI
 * prefixes ("1.32 Mbit/s"); a time as --time-format says (relative: to base). */
char *cli_u64_str(char *buf, uint64_t v);
char *cli_u64_grouped(char *buf, uint64_t v);
/* "1 file", "2,345 files": a grouped count with its noun (buf of 64 bytes). */
const char *cli_count(char *buf, uint64_t v, const char *one, const char *many);
const char *cli_human_duration(char *buf, size_t size, int64_t ns, int digits);
/* An output file beside the results (--svg FILE, --force), never one of protect (the inputs):
 * CLI_OK with *of, or after a message CLI_USAGE (it exists, a directory) or CLI_FAILED. */
int cli_outfile_begin(sift_ctx_t *ctx, const char *path, bool force, char *const *protect,
                      size_t nprotect, sift_outfile_t **of);
/* The --svg FILE (force: --force) of a command that reads the inputs of co, opened before
 * anything is read (so that a refused path costs no reading), never one of the inputs: CLI_OK
 * with *ctx and *of (both NULL when path is NULL), or the exit code after a message. */
int cli_svg_begin(const cli_common_t *co, const char *path, bool force, sift_ctx_t **ctx,
                  sift_outfile_t **of);
/* Commits of into place when rc is CLI_OK (a failed write: CLI_FAILED after a message), else
 * removes it; returns the outcome. */
int cli_outfile_end(sift_ctx_t *ctx, sift_outfile_t *of, int rc);
/* The decimals an interval of ns needs: 0 for whole seconds, 3 for 1.5 s, 9 for 1.000000001 s. */
int cli_interval_digits(int64_t ns);
const char *cli_human_rate(char *buf, size_t size, double v, const char *unit);
const char *cli_time_str(char *buf, size_t size, int64_t ns, int digits, cli_time_format_t tf,
                         int64_t base);

/* A flow's address as text: IPv4 (IPv4-mapped) or IPv6 as ip_version says (an IPv6 flow's
 * IPv4-mapped addresses stay IPv6), a MAC for a layer-2 flow (version 0). */
const char *cli_addr_str(char *buf, size_t size, const uint8_t a[16], int version);

/* Flow rows (cli/flow_out.c), for flows and query alike. Row i into *row; app is a CLI_APP_MAX
 * buffer row->app may point into. */
#define CLI_APP_MAX 72
typedef void (*cli_flow_fn)(void *user, size_t i, sift_flow_row_t *row, char *app);
/* Prints n flows with the flow columns; app false: application detection was off (APP is
 * null). The earliest first time is o->base when o->time is relative. */
int cli_flow_rows_print(const cli_out_t *o, size_t n, cli_flow_fn get, void *user, bool app);
/* get for an array of sift_flow_row_t. */
void cli_row_of_array(void *rows, size_t i, sift_flow_row_t *row, char *app);
/* One line on stderr for an input whose packets are not all in flows: how many had no IP
 * layer (nor, with layer-2 flows, an Ethernet header), and what they were instead (ARP,
 * LLDP, STP, a link type not decoded ...). */
void cli_report_unplaced(const char *path, const sift_flows_t *s);

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
/* The path of the file name in the cache's directory, which is made when missing (a warning
 * says that `what` is off when it cannot be); -1 without one. */
int cli_cache_file(const char *name, const char *what, char *buf, size_t size);
/* Opens the cache there (creating its directory), logging cache warnings to stderr. */
int cli_cache_open(sift_ctx_t *ctx, sift_cache_t **out);
/* Neither --no-cache nor CAPSIFT_NO_CACHE (set and not "0"): the command may use the cache. */
bool cli_cache_wanted(const cli_common_t *co);

/* ---- message types (cli/cmd_cluster.c) ---- */

/* n bytes as 2n lowercase hex digits and a NUL into out. */
void cli_hex(char *out, const uint8_t *b, size_t n);
/* A part as "tcp/502 client" into b (n bytes: 48 are enough); returns b. */
const char *cli_part_str(char *b, size_t n, sift_cluster_part_t p);
/* A part's "proto", "port" and "dir" (client or server). */
void cli_json_part(cli_json_t *j, sift_cluster_part_t p);
/* "fields": the per-offset view as capsift cluster --json gives it. */
void cli_json_fields(cli_json_t *j, const sift_cluster_field_t *f, size_t n);

/* The payloads the cluster pass of run collected, over every input, into a new set; *packets
 * gets their number. CLI_OK, or CLI_FAILED after a message. */
int cli_cluster_collect(const cli_run_t *run, uint32_t max_bytes, sift_cluster_set_t **set,
                        uint64_t *packets);

#endif
