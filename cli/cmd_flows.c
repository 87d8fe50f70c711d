/* capsift flows: one row per bidirectional flow, as a table, JSON lines or CSV. */
#include "cli.h"

#include <capsift/flow.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void help_flows(FILE *out)
{
    fprintf(out,
            "usage: capsift flows [OPTIONS] FILE|DIR|- ...\n\n"
            "Lists the flows (bidirectional 5-tuples: addresses, ports, IP protocol) of capture\n"
            "files with the application protocol found by nDPI, packets and bytes each way\n"
            "(a: the initiator, the sender of the first packet seen; b: the responder), first\n"
            "and last time, duration and the TCP flags seen (S A F P R U E C). Bytes are bytes\n"
            "on the wire. Flows are per file.\n\n"
            "options:\n"
            "  --sort KEY         packets, bytes, duration (largest first) or start (earliest\n"
            "                     first); default: file order, then start\n"
            "  --top N            only the first N rows after sorting\n"
            "  -f, --filter EXPR  only packets matching a BPF filter (tcpdump syntax)\n"
            "  --json             one JSON object per flow, one per line\n"
            "  --csv              comma-separated values with a header row\n"
            "  --no-app           no application detection (faster)\n"
            "  --idle-timeout S   a tuple silent for more than S seconds starts a new flow\n"
            "  --vlan             the outermost VLAN id is part of the flow key\n" CLI_LIMITS_HELP
            "  --no-cache         compute again instead of answering from the result cache\n"
            "  -j, --threads N    worker threads (default: the number of cores)\n"
            "  -h, --help         this help\n\n"
            "exit status: 0 every file read whole, 1 some file damaged or unreadable (its\n"
            "partial results are still printed), 2 usage error, 3 failure.\n");
}

enum { SORT_FILE, SORT_PACKETS, SORT_BYTES, SORT_START, SORT_DURATION };

typedef struct row {
    const sift_flow_t *f;
    const sift_flows_t *s;
    size_t input;
} row_t;

static int sort_key;

static uint64_t total_packets(const sift_flow_t *f)
{
    return f->packets[0] + f->packets[1];
}

static uint64_t total_bytes(const sift_flow_t *f)
{
    return f->bytes[0] + f->bytes[1];
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b ? 1 : 0;
}

/* A total order, so output never depends on the order flows were collected in. */
static int cmp_rows(const void *pa, const void *pb)
{
    const row_t *ra = pa, *rb = pb;
    const sift_flow_t *a = ra->f, *b = rb->f;
    int c = 0;
    switch (sort_key) {
    case SORT_PACKETS:
        c = cmp_u64_desc(total_packets(a), total_packets(b));
        break;
    case SORT_BYTES:
        c = cmp_u64_desc(total_bytes(a), total_bytes(b));
        break;
    case SORT_DURATION:
        c = cmp_u64_desc((uint64_t)(a->last_ns - a->first_ns),
                         (uint64_t)(b->last_ns - b->first_ns));
        break;
    default:
        break;
    }
    if (c == 0 && sort_key == SORT_FILE)
        c = ra->input < rb->input ? -1 : ra->input > rb->input;
    if (c == 0)
        c = cmp_i64(a->first_ns, b->first_ns);
    if (c == 0)
        c = ra->input < rb->input ? -1 : ra->input > rb->input;
    if (c == 0)
        c = memcmp(&a->key, &b->key, sizeof a->key);
    if (c == 0)
        c = cmp_i64(a->last_ns, b->last_ns);
    return c;
}

static int parse_sort(const char *s)
{
    static const char *const names[] = {"packets", "bytes", "start", "duration"};
    static const int keys[] = {SORT_PACKETS, SORT_BYTES, SORT_START, SORT_DURATION};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return keys[i];
    return -1;
}

typedef struct flows_args {
    int out, threads;
    uint64_t top;
    bool has_top, no_cache;
    const char *filter;
    cli_limits_t limits;
    sift_flows_config_t cfg;
} flows_args_t;

static int parse_args(int argc, char **argv, flows_args_t *a)
{
    enum { O_JSON = 256, O_CSV, O_SORT, O_TOP, O_NOAPP, O_IDLE, O_VLAN, O_NOCACHE };
    static const struct option longopts[] = {{"json", no_argument, NULL, O_JSON},
                                             {"csv", no_argument, NULL, O_CSV},
                                             {"sort", required_argument, NULL, O_SORT},
                                             {"top", required_argument, NULL, O_TOP},
                                             {"no-app", no_argument, NULL, O_NOAPP},
                                             {"idle-timeout", required_argument, NULL, O_IDLE},
                                             {"vlan", no_argument, NULL, O_VLAN},
                                             CLI_LIMITS_LONGOPTS,
                                             {"no-cache", no_argument, NULL, O_NOCACHE},
                                             {"filter", required_argument, NULL, 'f'},
                                             {"threads", required_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_JSON:
            a->out = CLI_FORMAT_JSON;
            break;
        case O_CSV:
            a->out = CLI_FORMAT_CSV;
            break;
        case O_SORT:
            sort_key = parse_sort(optarg);
            if (sort_key < 0) {
                cli_error("flows: --sort takes packets, bytes, start or duration, not '%s'",
                          optarg);
                return CLI_USAGE;
            }
            break;
        case O_TOP:
            if (cli_opt_count("flows", "--top", optarg, 0, UINT64_MAX, &a->top) != CLI_OK)
                return CLI_USAGE;
            a->has_top = true;
            break;
        case O_NOAPP:
            a->cfg.no_app = true;
            break;
        case O_IDLE:
            if (cli_opt_duration("flows", "--idle-timeout", optarg, 1000, 1000000000000000000,
                                 &a->cfg.table.idle_timeout_ns) != CLI_OK)
                return CLI_USAGE;
            break;
        case O_VLAN:
            a->cfg.table.vlan_in_key = true;
            break;
        case O_NOCACHE:
            a->no_cache = true;
            break;
        case CLI_OPT_MEMORY:
        case CLI_OPT_MAX_FLOWS:
            if (cli_limits_option("flows", c, optarg, &a->limits) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'f':
            a->filter = optarg;
            break;
        case 'j':
            if (cli_threads_option("flows", optarg, &a->threads) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'h':
            help_flows(stdout);
            return -1;
        default:
            fprintf(stderr, "see 'capsift flows --help'\n");
            return CLI_USAGE;
        }
    }
    if (cli_need_inputs("flows", argc, optind) != CLI_OK)
        return CLI_USAGE;
    return CLI_OK;
}

/* Reports limits and damage per input; returns the exit status so far. */
static int report_inputs(const sift_engine_t *e, const flows_args_t *a)
{
    int rc = CLI_OK;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++)
        if (cli_report_input(sift_engine_input(e, i), &a->limits, true) != CLI_OK)
            rc = CLI_DAMAGED;
    return rc;
}

typedef struct row_src {
    const row_t *rows;
    const sift_engine_t *e;
} row_src_t;

/* A flow as the rows the index gives, so that one printer serves flows and query. */
static void row_at(void *user, size_t i, sift_flow_row_t *r, char *app)
{
    const row_src_t *src = user;
    const sift_flow_t *f = src->rows[i].f;
    const sift_input_t *in = sift_engine_input(src->e, src->rows[i].input);
    memset(r, 0, sizeof *r);
    r->file = in->path;
    r->ip_version = f->key.ip_version;
    r->proto = f->key.proto;
    memcpy(r->src, sift_flow_addr_a(f), 16);
    memcpy(r->dst, sift_flow_addr_b(f), 16);
    r->sport = sift_flow_port_a(f);
    r->dport = sift_flow_port_b(f);
    r->vlan = f->key.vlan;
    r->app = sift_flows_app_name(src->rows[i].s, f, app, CLI_APP_MAX);
    r->first_ns = f->first_ns;
    r->last_ns = f->last_ns;
    r->packets_ab = f->packets[SIFT_FLOW_AB];
    r->packets_ba = f->packets[SIFT_FLOW_BA];
    r->bytes_ab = f->bytes[SIFT_FLOW_AB];
    r->bytes_ba = f->bytes[SIFT_FLOW_BA];
    r->flags_ab = f->tcp_flags[SIFT_FLOW_AB];
    r->flags_ba = f->tcp_flags[SIFT_FLOW_BA];
    r->ts_digits = in->meta.ts_digits;
}

static int print_rows(FILE *out, const sift_engine_t *e, int pass, const flows_args_t *a)
{
    size_t n = 0;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_flows_t *s = sift_engine_state(e, i, pass);
        if (s)
            n += sift_flows_count(s);
    }
    row_t *rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    size_t k = 0;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_flows_t *s = sift_engine_state(e, i, pass);
        for (size_t j = 0; s && j < sift_flows_count(s); j++)
            rows[k++] = (row_t){.f = sift_flows_at(s, j), .s = s, .input = i};
    }
    qsort(rows, n, sizeof *rows, cmp_rows);
    if (a->has_top && a->top < n)
        n = (size_t)a->top;
    row_src_t src = {rows, e};
    cli_flow_rows_print(out, (cli_format_t)a->out, n, row_at, &src, sift_engine_ninputs(e) > 1,
                        !a->cfg.no_app);
    free(rows);
    return CLI_OK;
}

int cmd_flows(int argc, char **argv)
{
    flows_args_t a = {.out = CLI_FORMAT_TABLE};
    sort_key = SORT_FILE;
    int prc = parse_args(argc, argv, &a);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    a.cfg.table.max_flows = cli_flow_cap(&a.limits, !a.cfg.no_app);
    FILE *out = stdout;
    cli_run_t run;
    cli_run_opts_t ro = {.pass = &sift_flows_pass,
                         .config = &a.cfg,
                         .threads = (unsigned)a.threads,
                         .filter = a.filter,
                         .cache = !a.no_cache};
    int rc = cli_run(&run, &ro, argv + optind, argc - optind);
    sift_engine_t *e = run.e;
    int pass = run.pass;
    if (rc == CLI_OK) {
        rc = print_rows(out, e, pass, &a);
        int r2 = report_inputs(e, &a);
        if (rc == CLI_OK)
            rc = r2;
    }
    if (fflush(out) != 0 || ferror(out)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    cli_run_free(&run);
    return rc;
}
