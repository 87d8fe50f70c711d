/* capsift stats: protocol hierarchy, top talkers and ports, packet sizes and a rate timeline. */
#include "cli.h"

#include <capsift/stats.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct stats_args {
    bool total, no_app;
    uint64_t top, max_keys;
    int64_t interval_ns;
    cli_common_t co;
} stats_args_t;

#define A(field) offsetof(stats_args_t, field)
static const cli_opt_t stats_opts[] = {
    {.name = "interval",
     .kind = CLI_K_DURATION,
     .offset = A(interval_ns),
     .arg = "T",
     .help = "timeline interval: 1s, 500ms, 1m, 1h ... (default 1s)",
     .min = 1000,
     .max = 1000000000000000000},
    {.name = "top",
     .kind = CLI_K_COUNT,
     .offset = A(top),
     .arg = "N",
     .help = "rows of the talker and port lists (default 10)",
     .min = 0,
     .max = SIZE_MAX,
     .like = "limit"},
    {.name = "total",
     .kind = CLI_K_FLAG,
     .offset = A(total),
     .help = "one report over all files instead of one per file"},
    {.name = "no-app",
     .kind = CLI_K_FLAG,
     .offset = A(no_app),
     .help = "no application level (no nDPI; faster)"},
    {.name = "max-keys",
     .kind = CLI_K_COUNT,
     .offset = A(max_keys),
     .arg = "N",
     .help = "addresses, ports and intervals counted each (default 1000000); the rest are summed "
             "as 'other'",
     .min = 1,
     .max = UINT32_MAX},
};

const cli_command_t cli_cmd_stats = {
    .name = "stats",
    .summary = "protocol hierarchy, top talkers and ports, packet sizes, rate timeline",
    .run = cmd_stats,
    .usage = "capsift stats [OPTIONS] FILE|DIR|- ...",
    .about = "Summarises the traffic of capture files: the protocol hierarchy (link, network,\n"
             "transport, then the application found by nDPI; packets and bytes, like tshark\n"
             "-z io,phs), the top talkers (addresses by bytes sent and received), the top ports\n"
             "(by bytes, either end), packet sizes in tshark's plen buckets and the packets and\n"
             "bytes per interval. Bytes are bytes on the wire. One report per file.\n",
    .opts = stats_opts,
    .nopts = sizeof stats_opts / sizeof stats_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_TIME | CLI_C_LIMITS | CLI_C_NO_CACHE |
              CLI_C_THREADS,
    .footer = "exit status: 0 every file read whole, 1 some file damaged or unreadable (its\n"
              "partial results are still printed), 2 usage error, 3 failure.\n",
};

/* The entries of a map in the library's order, at most k (SIZE_MAX: all, 0: none); false when
 * memory ran out. */
static bool entries(const sift_stats_t *s, sift_stats_map_id_t map, size_t k,
                    sift_stats_entry_t **v, size_t *n)
{
    int64_t r = k ? sift_stats_entries(s, map, k, v) : 0;
    if (!k)
        *v = NULL;
    *n = r > 0 ? (size_t)r : 0;
    return r >= 0;
}

static const char *addr_str(char *buf, size_t size, const uint8_t *a)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0)
        inet_ntop(AF_INET, a + 12, buf, (socklen_t)size);
    else
        inet_ntop(AF_INET6, a, buf, (socklen_t)size);
    return buf;
}

static const char *proto_name(char *buf, size_t size, uint8_t p)
{
    switch (p) {
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 132:
        return "sctp";
    default:
        snprintf(buf, size, "%u", p);
        return buf;
    }
}

static const char *size_range(char *buf, size_t size, unsigned i)
{
    if (i + 1 < SIFT_STATS_NSIZES)
        snprintf(buf, size, "%u-%u", sift_stats_size_lower(i), sift_stats_size_lower(i + 1) - 1);
    else
        snprintf(buf, size, "%u-", sift_stats_size_lower(i));
    return buf;
}

static void node_path(char *buf, size_t size, const sift_stats_t *s, unsigned i)
{
    const char *names[64];
    int n = 0;
    for (int k = (int)i; k >= 0 && n < 64; k = sift_stats_node(s, (unsigned)k)->parent)
        names[n++] = sift_stats_node(s, (unsigned)k)->name;
    size_t o = 0;
    buf[0] = '\0';
    while (n-- > 0 && o < size)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ":" : "", names[n]);
}

/* Children in order of creation, depth first, as tshark prints its tree. */
static void print_tree(FILE *out, const sift_stats_t *s, int parent)
{
    const sift_stats_node_t *n;
    for (unsigned i = 0; (n = sift_stats_node(s, i)) != NULL; i++) {
        if (n->parent != parent)
            continue;
        char label[80], p[32], b[32];
        snprintf(label, sizeof label, "%*s%s", (int)(2 * n->depth), "", n->name);
        fprintf(out, "  %-40s frames:%s bytes:%s\n", label, cli_u64_grouped(p, n->packets),
                cli_u64_grouped(b, n->bytes));
        print_tree(out, s, (int)i);
    }
}

/* One list of a report (talkers, ports, sizes, timeline): its entries, then the packets and
 * bytes past --max-keys as one more row. */
typedef struct list {
    const sift_stats_entry_t *v;
    size_t n;
    uint64_t other_packets, other_bytes;
    const sift_stats_summary_t *t;
    int digits; /* of the timeline's starts */
    char key[64], proto[8];
} list_t;

enum { L_KEY, L_PACKETS, L_BYTES, L_RATE };

static const cli_col_t talker_cols[] = {
    CLI_COL_STR("addr", "ADDRESS"),
    CLI_COL_NUM("packets", "PACKETS", CLI_T_U64, "packets"),
    CLI_COL_NUM("bytes", "BYTES", CLI_T_U64, "bytes"),
};
static const cli_col_t port_cols[] = {
    CLI_COL_STR(NULL, "PORT"), /* tcp/443 */
    CLI_COL_NUM("packets", "PACKETS", CLI_T_U64, "packets"),
    CLI_COL_NUM("bytes", "BYTES", CLI_T_U64, "bytes"),
    CLI_COL_STR("proto", NULL),
    CLI_COL_NUM("port", NULL, CLI_T_ID, NULL),
};
static const cli_col_t size_cols[] = {
    CLI_COL_STR("range", "SIZE"),
    CLI_COL_NUM("packets", "PACKETS", CLI_T_U64, "packets"),
    CLI_COL_NUM("bytes", "BYTES", CLI_T_U64, "bytes"),
};
static const cli_col_t timeline_cols[] = {
    CLI_COL_TIME("start_ts", "START", "start_time"),
    CLI_COL_NUM("packets", "PACKETS", CLI_T_U64, "packets"),
    CLI_COL_NUM("bytes", "BYTES", CLI_T_U64, "bytes"),
    CLI_COL_NUM("bits_per_s", "RATE", CLI_T_F64, "bit/s"),
};
#define NCOLS(c) (sizeof(c) / sizeof(c)[0])

static void counts(cli_val_t *v, const list_t *l, size_t i)
{
    bool other = i == l->n;
    v[L_PACKETS] = (cli_val_t){.u = other ? l->other_packets : l->v[i].packets};
    v[L_BYTES] = (cli_val_t){.u = other ? l->other_bytes : l->v[i].bytes};
}

static void talker_values(void *user, size_t i, cli_val_t *v)
{
    list_t *l = user;
    v[L_KEY] = (cli_val_t){.s = i == l->n ? "(other, past --max-keys)"
                                          : addr_str(l->key, sizeof l->key, l->v[i].key)};
    counts(v, l, i);
}

static void port_values(void *user, size_t i, cli_val_t *v)
{
    list_t *l = user;
    counts(v, l, i);
    if (i == l->n) {
        v[0] = (cli_val_t){.s = "(other, past --max-keys)"};
        v[3] = v[4] = (cli_val_t){.null = true};
        return;
    }
    unsigned port = (unsigned)l->v[i].key[2] << 8 | l->v[i].key[3];
    v[3] = (cli_val_t){.s = proto_name(l->proto, sizeof l->proto, l->v[i].key[0])};
    v[4] = (cli_val_t){.u = port};
    snprintf(l->key, sizeof l->key, "%s/%u", v[3].s, port);
    v[0] = (cli_val_t){.s = l->key};
}

static void size_values(void *user, size_t i, cli_val_t *v)
{
    list_t *l = user;
    v[L_KEY] = (cli_val_t){.s = size_range(l->key, sizeof l->key, (unsigned)i)};
    v[L_PACKETS] = (cli_val_t){.u = l->t->size_packets[i]};
    v[L_BYTES] = (cli_val_t){.u = l->t->size_bytes[i]};
}

static void timeline_values(void *user, size_t i, cli_val_t *v)
{
    list_t *l = user;
    counts(v, l, i);
    int64_t ivl = l->t->interval_ns;
    if (i == l->n) {
        v[L_KEY] = (cli_val_t){.null = true};
        v[L_RATE] = (cli_val_t){.null = true};
        return;
    }
    v[L_KEY] =
        (cli_val_t){.i = sift_stats_interval_index(&l->v[i]) * ivl, .digits = (uint8_t)l->digits};
    v[L_RATE] = (cli_val_t){.f = 8.0 * (double)l->v[i].bytes / ((double)ivl / 1e9), .digits = 0};
}

/* A list of map `map` (k entries at most; SIZE_MAX: all): a table under a title, or the JSON
 * array `key`. false: memory ran out. */
static bool put_list(const stats_args_t *a, FILE *out, cli_json_t *j, const char *key,
                     const sift_stats_t *s, const sift_stats_summary_t *t, int map, size_t k,
                     const cli_col_t *cols, size_t ncols, cli_rows_fn get)
{
    sift_stats_entry_t *v = NULL;
    list_t l = {.t = t, .digits = cli_interval_digits(t->interval_ns)};
    bool ok = true;
    if (map >= 0) {
        ok = entries(s, (sift_stats_map_id_t)map, k, &v, &l.n);
        l.v = v;
        l.other_packets = t->other_packets[map];
        l.other_bytes = t->other_bytes[map];
    } else {
        l.n = SIFT_STATS_NSIZES;
    }
    size_t rows = l.n + (l.other_packets > 0);
    if (j) {
        cli_json_open(j, key, '[');
        cli_val_t vals[8];
        for (size_t i = 0; i < l.n; i++) { /* "other" is in the report's own object */
            get(&l, i, vals);
            cli_json_open(j, NULL, '{');
            cli_json_row(j, cols, ncols, vals);
            cli_json_close(j);
        }
        cli_json_close(j);
    } else {
        cli_out_t o = {.out = out,
                       .fmt = CLI_FORMAT_TABLE,
                       .time = (cli_time_format_t)a->co.time_format,
                       .indent = "  "};
        if (map == SIFT_STATS_TIMELINE && l.n)
            o.base = sift_stats_interval_index(&l.v[0]) * t->interval_ns;
        ok = cli_rows_print(&o, cols, ncols, rows, get, &l) == CLI_OK && ok;
    }
    free(v);
    return ok;
}

/* A report as text, or as one JSON object (json). false: memory ran out (what was printed is
 * incomplete). */
static bool print_report(FILE *out, const char *title, const sift_stats_t *s, const stats_args_t *a,
                         bool json)
{
    sift_stats_summary_t t;
    sift_stats_summary(s, &t);
    size_t top = (size_t)a->top;
    char p[32], b[32], d[48];
    cli_human_duration(d, sizeof d, t.interval_ns, cli_interval_digits(t.interval_ns));
    cli_json_t j;
    if (json) {
        cli_json_begin(&j, out);
        cli_json_str(&j, "file", title);
        cli_json_u64(&j, "packets", t.packets);
        cli_json_u64(&j, "bytes", t.bytes);
        cli_json_open(&j, "hierarchy", '[');
        char path[256];
        for (unsigned i = 0; i < t.nnodes; i++) {
            const sift_stats_node_t *nd = sift_stats_node(s, i);
            node_path(path, sizeof path, s, i);
            cli_json_open(&j, NULL, '{');
            cli_json_str(&j, "path", path);
            cli_json_u64(&j, "packets", nd->packets);
            cli_json_u64(&j, "bytes", nd->bytes);
            cli_json_close(&j);
        }
        cli_json_close(&j);
    } else {
        fprintf(out, "File:       %s\nPackets:    %s\nBytes:      %s\n\nProtocol hierarchy:\n",
                title, cli_u64_grouped(p, t.packets), cli_u64_grouped(b, t.bytes));
        print_tree(out, s, -1);
        if (t.nodes_dropped)
            fprintf(out, "  (%s packets with paths beyond %d nodes not shown)\n",
                    cli_u64_grouped(p, t.nodes_dropped), SIFT_STATS_MAX_NODES);
        fputs("\nTop talkers (bytes sent and received):\n", out);
    }
    cli_json_t *jp = json ? &j : NULL;
    bool ok = put_list(a, out, jp, "top_talkers", s, &t, SIFT_STATS_HOSTS, top, talker_cols,
                       NCOLS(talker_cols), talker_values);
    if (!json)
        fputs("\nTop ports (either end):\n", out);
    ok = put_list(a, out, jp, "top_ports", s, &t, SIFT_STATS_PORTS, top, port_cols,
                  NCOLS(port_cols), port_values) &&
         ok;
    if (!json)
        fputs("\nPacket sizes (bytes on the wire):\n", out);
    ok =
        put_list(a, out, jp, "sizes", s, &t, -1, 0, size_cols, NCOLS(size_cols), size_values) && ok;
    if (json)
        cli_json_seconds(&j, "interval", t.interval_ns, cli_interval_digits(t.interval_ns));
    else
        fprintf(out, "\nTimeline (interval %s):\n", d);
    ok = put_list(a, out, jp, "timeline", s, &t, SIFT_STATS_TIMELINE, SIZE_MAX, timeline_cols,
                  NCOLS(timeline_cols), timeline_values) &&
         ok;
    if (json) {
        cli_json_open(&j, "other", '{');
        cli_json_u64(&j, "talkers_packets", t.other_packets[SIFT_STATS_HOSTS]);
        cli_json_u64(&j, "ports_packets", t.other_packets[SIFT_STATS_PORTS]);
        cli_json_u64(&j, "timeline_packets", t.other_packets[SIFT_STATS_TIMELINE]);
        cli_json_u64(&j, "hierarchy_packets", t.nodes_dropped);
        cli_json_end(&j);
    } else {
        fputc('\n', out);
    }
    return ok;
}

static int report(FILE *out, const sift_engine_t *e, int pass, const stats_args_t *a)
{
    int rc = CLI_OK;
    bool ok = true;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_input_t *in = sift_engine_input(e, i);
        const sift_stats_t *s = sift_engine_state(e, i, pass);
        if (cli_report_input(in, &a->co.limits) != CLI_OK)
            rc = CLI_DAMAGED;
        if (a->total || !s)
            continue;
        ok = print_report(out, in->path, s, a, a->co.format == CLI_FORMAT_JSON) && ok;
    }
    const sift_stats_t *t = sift_engine_total(e, pass);
    if (a->total && t)
        ok = print_report(out, "(total)", t, a, a->co.format == CLI_FORMAT_JSON) && ok;
    if (!ok) {
        cli_error("out of memory: some tables of the report are missing");
        rc = CLI_FAILED;
    }
    return rc;
}

int cmd_stats(int argc, char **argv)
{
    stats_args_t a = {.top = 10};
    int prc = cli_parse(&cli_cmd_stats, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    sift_stats_config_t cfg = {
        .no_app = a.no_app, .interval_ns = a.interval_ns, .max_keys = (size_t)a.max_keys};
    sift_flows_config_t flows = {0}; /* the flows the application level is built on */
    flows.table.max_flows = cli_flow_cap(&a.co.limits, !a.no_app);
    FILE *out = stdout;
    cli_run_t run;
    cli_run_opts_t ro = {
        .pass = &sift_stats_pass, .config = &cfg, .flows = &flows, .cache = true, .totals = true};
    int rc = cli_run(&run, &ro, &a.co);
    sift_engine_t *e = run.e;
    int pass = run.pass;
    if (rc == CLI_OK)
        rc = report(out, e, pass, &a);
    if (fflush(out) != 0 || ferror(out)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    cli_run_free(&run);
    return rc;
}
