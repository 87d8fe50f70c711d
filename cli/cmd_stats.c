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
    .common =
        CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_LIMITS | CLI_C_NO_CACHE | CLI_C_THREADS,
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
        char label[80];
        snprintf(label, sizeof label, "%*s%s", (int)(2 * n->depth), "", n->name);
        fprintf(out, "  %-40s frames:%" PRIu64 " bytes:%" PRIu64 "\n", label, n->packets, n->bytes);
        print_tree(out, s, (int)i);
    }
}

/* false: memory ran out (what was printed is incomplete) */
static bool print_text(FILE *out, const char *title, const sift_stats_t *s, int digits,
                       const stats_args_t *a)
{
    char b1[64], b2[96];
    sift_stats_summary_t t;
    sift_stats_summary(s, &t);
    fprintf(out, "File:       %s\nPackets:    %" PRIu64 "\nBytes:      %" PRIu64 "\n\n", title,
            t.packets, t.bytes);
    fprintf(out, "Protocol hierarchy:\n");
    print_tree(out, s, -1);
    if (t.nodes_dropped)
        fprintf(out, "  (%" PRIu64 " packets with paths beyond %d nodes not shown)\n",
                t.nodes_dropped, SIFT_STATS_MAX_NODES);
    size_t n;
    sift_stats_entry_t *v;
    bool ok = entries(s, SIFT_STATS_HOSTS, (size_t)a->top, &v, &n);
    fprintf(out, "\nTop talkers (bytes sent and received):\n  %-39s %12s %14s\n", "ADDRESS",
            "PACKETS", "BYTES");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-39s %12" PRIu64 " %14" PRIu64 "\n", addr_str(b1, sizeof b1, v[i].key),
                v[i].packets, v[i].bytes);
    if (t.other_packets[SIFT_STATS_HOSTS])
        fprintf(out, "  %-39s %12" PRIu64 " %14" PRIu64 "\n", "(other, past --max-keys)",
                t.other_packets[SIFT_STATS_HOSTS], t.other_bytes[SIFT_STATS_HOSTS]);
    free(v);
    ok = entries(s, SIFT_STATS_PORTS, (size_t)a->top, &v, &n) && ok;
    fprintf(out, "\nTop ports (either end):\n  %-12s %12s %14s\n", "PORT", "PACKETS", "BYTES");
    for (size_t i = 0; i < n; i++) {
        snprintf(b2, sizeof b2, "%s/%u", proto_name(b1, sizeof b1, v[i].key[0]),
                 (unsigned)v[i].key[2] << 8 | v[i].key[3]);
        fprintf(out, "  %-12s %12" PRIu64 " %14" PRIu64 "\n", b2, v[i].packets, v[i].bytes);
    }
    free(v);
    fprintf(out, "\nPacket sizes (bytes on the wire):\n  %-12s %12s %14s\n", "SIZE", "PACKETS",
            "BYTES");
    for (unsigned i = 0; i < SIFT_STATS_NSIZES; i++)
        fprintf(out, "  %-12s %12" PRIu64 " %14" PRIu64 "\n", size_range(b1, sizeof b1, i),
                t.size_packets[i], t.size_bytes[i]);
    ok = entries(s, SIFT_STATS_TIMELINE, SIZE_MAX, &v, &n) && ok;
    fprintf(out, "\nTimeline (interval %s s):\n  %-24s %12s %14s %14s\n",
            sift_format_ts(b1, sizeof b1, t.interval_ns, 9), "START", "PACKETS", "BYTES", "BITS/S");
    double secs = (double)t.interval_ns / 1e9;
    for (size_t i = 0; i < n; i++) {
        int64_t start = sift_stats_interval_index(&v[i]) * t.interval_ns;
        fprintf(out, "  %-24s %12" PRIu64 " %14" PRIu64 " %14.0f\n",
                sift_format_ts(b1, sizeof b1, start, digits), v[i].packets, v[i].bytes,
                8.0 * (double)v[i].bytes / secs);
    }
    free(v);
    fputc('\n', out);
    return ok;
}

static void json_counts(FILE *out, uint64_t p, uint64_t b)
{
    fprintf(out, "\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64, p, b);
}

static bool print_json(FILE *out, const char *title, const sift_stats_t *s, int digits,
                       const stats_args_t *a)
{
    char b1[256], b2[64];
    sift_stats_summary_t t;
    sift_stats_summary(s, &t);
    fputs("{\"file\":", out);
    json_string(out, title);
    fputc(',', out);
    json_counts(out, t.packets, t.bytes);
    fputs(",\"hierarchy\":[", out);
    for (unsigned i = 0; i < t.nnodes; i++) {
        const sift_stats_node_t *nd = sift_stats_node(s, i);
        node_path(b1, sizeof b1, s, i);
        fprintf(out, "%s{\"path\":", i ? "," : "");
        json_string(out, b1);
        fputc(',', out);
        json_counts(out, nd->packets, nd->bytes);
        fputc('}', out);
    }
    size_t n;
    sift_stats_entry_t *v;
    bool ok = entries(s, SIFT_STATS_HOSTS, (size_t)a->top, &v, &n);
    fputs("],\"top_talkers\":[", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s{\"addr\":\"%s\",", i ? "," : "", addr_str(b1, sizeof b1, v[i].key));
        json_counts(out, v[i].packets, v[i].bytes);
        fputc('}', out);
    }
    free(v);
    ok = entries(s, SIFT_STATS_PORTS, (size_t)a->top, &v, &n) && ok;
    fputs("],\"top_ports\":[", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s{\"proto\":\"%s\",\"port\":%u,", i ? "," : "",
                proto_name(b2, sizeof b2, v[i].key[0]), (unsigned)v[i].key[2] << 8 | v[i].key[3]);
        json_counts(out, v[i].packets, v[i].bytes);
        fputc('}', out);
    }
    free(v);
    fputs("],\"sizes\":[", out);
    for (unsigned i = 0; i < SIFT_STATS_NSIZES; i++) {
        fprintf(out, "%s{\"range\":\"%s\",", i ? "," : "", size_range(b1, sizeof b1, i));
        json_counts(out, t.size_packets[i], t.size_bytes[i]);
        fputc('}', out);
    }
    fprintf(out, "],\"interval\":\"%s\",\"timeline\":[",
            sift_format_ts(b1, sizeof b1, t.interval_ns, 9));
    ok = entries(s, SIFT_STATS_TIMELINE, SIZE_MAX, &v, &n) && ok;
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s{\"start\":\"%s\",", i ? "," : "",
                sift_format_ts(b1, sizeof b1, sift_stats_interval_index(&v[i]) * t.interval_ns,
                               digits));
        json_counts(out, v[i].packets, v[i].bytes);
        fputc('}', out);
    }
    free(v);
    fprintf(out,
            "],\"other\":{\"talkers_packets\":%" PRIu64 ",\"ports_packets\":%" PRIu64
            ",\"timeline_packets\":%" PRIu64 ",\"hierarchy_packets\":%" PRIu64 "}}\n",
            t.other_packets[SIFT_STATS_HOSTS], t.other_packets[SIFT_STATS_PORTS],
            t.other_packets[SIFT_STATS_TIMELINE], t.nodes_dropped);
    return ok;
}

static int report(FILE *out, const sift_engine_t *e, int pass, const stats_args_t *a)
{
    int rc = CLI_OK, digits = 0;
    bool ok = true;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_input_t *in = sift_engine_input(e, i);
        const sift_stats_t *s = sift_engine_state(e, i, pass);
        if (in->meta.ts_digits > digits)
            digits = in->meta.ts_digits;
        if (cli_report_input(in, &a->co.limits, true) != CLI_OK)
            rc = CLI_DAMAGED;
        if (a->total || !s)
            continue;
        ok = (a->co.format == CLI_FORMAT_JSON ? print_json : print_text)(out, in->path, s,
                                                                         in->meta.ts_digits, a) &&
             ok;
    }
    const sift_stats_t *t = sift_engine_total(e, pass);
    if (a->total && t)
        ok = (a->co.format == CLI_FORMAT_JSON ? print_json : print_text)(out, "(total)", t, digits,
                                                                         a) &&
             ok;
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
