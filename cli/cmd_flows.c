/* capsift flows: one row per bidirectional flow, as a table, JSON lines or CSV. */
#include "cli.h"

#include <capsift/flow.h>

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct flows_args {
    int sort;
    uint64_t top;
    bool no_app, no_meta, vlan, layer2;
    int64_t idle_ns;
    cli_common_t co;
} flows_args_t;

static const char *const sort_names[] = {"packets", "bytes", "start", "duration", NULL};
static const int sort_keys[] = {SORT_PACKETS, SORT_BYTES, SORT_START, SORT_DURATION};

#define A(field) offsetof(flows_args_t, field)
static const cli_opt_t flows_opts[] = {
    {.name = "sort",
     .kind = CLI_K_CHOICE,
     .offset = A(sort),
     .arg = "KEY",
     .help = "packets, bytes, duration (largest first) or start (earliest first); default: file "
             "order, then start",
     .choices = sort_names},
    {.name = "top",
     .kind = CLI_K_COUNT,
     .offset = A(top),
     .arg = "N",
     .help = "only the first N rows after sorting",
     .min = 0,
     .max = UINT64_MAX,
     .like = "limit"},
    {.name = "no-app",
     .kind = CLI_K_FLAG,
     .offset = A(no_app),
     .help = "no application detection (faster)"},
    {.name = "no-meta",
     .kind = CLI_K_FLAG,
     .offset = A(no_meta),
     .help = "--json without each flow's DNS, HTTP, TLS, SSH and DHCP transactions (faster)"},
    {.name = "idle-timeout",
     .kind = CLI_K_DURATION,
     .offset = A(idle_ns),
     .arg = "S",
     .help = "a tuple silent for more than S seconds starts a new flow",
     .min = 1000,
     .max = 1000000000000000000},
    {.name = "vlan",
     .kind = CLI_K_FLAG,
     .offset = A(vlan),
     .help = "the outermost VLAN id is part of the flow key"},
    {.name = "layer2",
     .kind = CLI_K_FLAG,
     .offset = A(layer2),
     .help = "packets without IP but with an Ethernet header (ARP, LLDP, STP, GOOSE ...) make "
             "flows between MAC addresses, by EtherType"},
};

const cli_command_t cli_cmd_flows = {
    .name = "flows",
    .summary = "list flows: addresses, ports, protocol, application, packets and bytes each way",
    .run = cmd_flows,
    .usage = "capsift flows [OPTIONS] FILE|DIR|- ...",
    .about = "Lists the flows (bidirectional 5-tuples: addresses, ports, IP protocol) of capture\n"
             "files with the application protocol found by nDPI, packets and bytes each way\n"
             "(a: the initiator, the sender of the first packet seen; b: the responder), first\n"
             "and last time, duration and the TCP flags seen (S A F P R U E C). Bytes are bytes\n"
             "on the wire. Flows are per file. With --json each flow also lists its DNS, HTTP,\n"
             "TLS, SSH and DHCP transactions (key meta) with the fields capsift meta gives.\n",
    .opts = flows_opts,
    .nopts = sizeof flows_opts / sizeof flows_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_CSV | CLI_C_TIME | CLI_C_LIMITS |
              CLI_C_NO_CACHE | CLI_C_THREADS | CLI_C_QUIET,
    .footer = "exit status: 0 every file read whole, 1 some file damaged or unreadable (its\n"
              "partial results are still printed), 2 usage error, 3 failure.\n",
};

/* Reports limits and damage per input; returns the exit status so far. */
static int report_inputs(const sift_engine_t *e, int pass, const flows_args_t *a)
{
    int rc = CLI_OK;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_input_t *in = sift_engine_input(e, i);
        const sift_flows_t *s = sift_engine_state(e, i, pass);
        if (cli_report_input(in, &a->co.limits) != CLI_OK)
            rc = CLI_DAMAGED;
        if (s && !a->co.quiet)
            cli_report_unplaced(in->path, s);
    }
    return rc;
}

typedef struct row_src {
    const row_t *rows;
    const sift_engine_t *e;
    int meta; /* the metadata pass, -1 none */
    cli_meta_cols_t m[SIFT_META_NPROTO];
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
    r->vlan = f->vlan;
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
    snprintf(r->state, sizeof r->state, "%s", sift_flow_state(f));
    sift_flow_history(f, r->history, sizeof r->history);
}

/* --json: the flow's transactions, from the metadata pass. */
static void row_meta(void *user, size_t i, cli_json_t *j)
{
    row_src_t *src = user;
    const sift_meta_t *m = sift_engine_state(src->e, src->rows[i].input, src->meta);
    const sift_meta_row_t *const *rows;
    size_t n = sift_meta_flow_rows(m, src->rows[i].f, &rows);
    const sift_input_t *in = sift_engine_input(src->e, src->rows[i].input);
    cli_meta_json(j, src->m, rows, n, in->meta.ts_digits);
}

static int print_rows(FILE *out, const sift_engine_t *e, int pass, int meta, const flows_args_t *a)
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
    if (a->top < n)
        n = (size_t)a->top;
    cli_out_t o = {.out = out,
                   .fmt = (cli_format_t)a->co.format,
                   .time = (cli_time_format_t)a->co.time_format,
                   .base = INT64_MAX};
    for (size_t i = 0; i < n; i++)
        if (rows[i].f->first_ns < o.base)
            o.base = rows[i].f->first_ns;
    row_src_t *src = malloc(sizeof *src);
    if (!src) {
        free(rows);
        cli_error("out of memory");
        return CLI_FAILED;
    }
    *src = (row_src_t){.rows = rows, .e = e, .meta = meta};
    if (meta >= 0) {
        for (int p = 0; p < SIFT_META_NPROTO; p++)
            cli_meta_cols_init(&src->m[p], (sift_meta_proto_t)p);
        o.json_more = row_meta;
        o.more_user = src;
    }
    int rc = cli_flow_rows_print(&o, n, row_at, src, !a->no_app);
    free(src);
    free(rows);
    return rc;
}

int cmd_flows(int argc, char **argv)
{
    flows_args_t a = {.sort = -1, .top = UINT64_MAX};
    int prc = cli_parse(&cli_cmd_flows, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    sort_key = a.sort < 0 ? SORT_FILE : sort_keys[a.sort];
    sift_flows_config_t cfg = {.no_app = a.no_app};
    cfg.table.idle_timeout_ns = a.idle_ns;
    cfg.table.vlan_in_key = a.vlan;
    cfg.layer2 = a.layer2;
    cfg.table.max_flows = cli_flow_cap(&a.co.limits, !a.no_app);
    FILE *out = stdout;
    cli_run_t run;
    const bool meta = a.co.format == CLI_FORMAT_JSON && !a.no_meta;
    cli_run_opts_t ro = {.pass = &sift_flows_pass,
                         .config = &cfg,
                         .also = meta ? &sift_meta_pass : NULL,
                         .cache = true};
    int rc = cli_run(&run, &ro, &a.co);
    sift_engine_t *e = run.e;
    int pass = run.pass;
    if (rc == CLI_OK) {
        rc = print_rows(out, e, pass, run.also, &a);
        int r2 = report_inputs(e, pass, &a);
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
