/* capsift meta: the DNS, HTTP, TLS, SSH and DHCP transactions of capture files, one row each, as
 * tables (one per protocol), JSON lines or CSV. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct meta_args {
    cli_list_t protos;
    uint64_t per_flow;
    cli_common_t co;
} meta_args_t;

#define A(field) offsetof(meta_args_t, field)
static const cli_opt_t meta_opts[] = {
    {.name = "proto",
     .short_name = 'p',
     .kind = CLI_K_LIST,
     .offset = A(protos),
     .arg = "P",
     .help = "dns, http, tls, ssh or dhcp (repeatable, or a comma-separated list); default: all"},
    {.name = "max-per-flow",
     .kind = CLI_K_COUNT,
     .offset = A(per_flow),
     .arg = "N",
     .help = "messages kept per flow (default 512); those past it are counted on stderr",
     .min = 1,
     .max = 1000000},
};

const cli_command_t cli_cmd_meta = {
    .name = "meta",
    .summary =
        "DNS queries, HTTP requests, TLS hellos (SNI, JA3, JA3S, certificate), SSH versions, DHCP",
    .run = cmd_meta,
    .usage = "capsift meta [OPTIONS] [--proto dns|http|tls|ssh|dhcp] FILE|DIR|- ...",
    .about = "Lists the application transactions of capture files, one row each, with the\n"
             "fields Zeek's dns.log, http.log, ssl.log, ssh.log and dhcp.log call by the same\n"
             "names: a DNS query with its response (id, name, type, rcode, answers, TTLs), an\n"
             "HTTP request with its response (method, host, URI, user agent, status, body\n"
             "lengths), a TLS handshake (version, cipher, SNI, ALPN, JA3, JA3S, and the server's\n"
             "certificate: subject, issuer, SAN names, validity, SHA-1), an SSH\n"
             "connection (client and server versions, HASSH, HASSH-server), a DHCP exchange\n"
             "(MAC, addresses, host name, client software, message types). Messages are read\n"
             "from single TCP segments and UDP datagrams (docs/capsift-meta.md says what that\n"
             "means); those cut short or damaged are counted on stderr. Tables print one\n"
             "protocol after another (those with rows); --csv needs one --proto.\n",
    .opts = meta_opts,
    .nopts = sizeof meta_opts / sizeof meta_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_CSV | CLI_C_TIME | CLI_C_LIMITS |
              CLI_C_NO_CACHE | CLI_C_THREADS | CLI_C_QUIET,
    .footer = "exit status: 0 every file read whole, 1 some file damaged or unreadable (its\n"
              "partial results are still printed), 2 usage error, 3 failure.\n",
};

/* The columns every protocol's rows begin with, then its fields. */
enum { C_PROTO, C_FILE, C_TS, C_SRC, C_SPORT, C_DST, C_DPORT, C_TRANSPORT, C_REPLY, C_RTT, NBASE };
#define MAX_COLS (NBASE + CLI_META_MAX_FIELDS)

/* Fields left out of the tables (long, or seldom read): JSON and CSV have them. */
static bool wide(const char *key)
{
    static const char *const w[] = {"qclass",
                                    "qclass_name",
                                    "qtype",
                                    "rcode",
                                    "TC",
                                    "TTLs",
                                    "more_queries",
                                    "referrer",
                                    "version",
                                    "status_msg",
                                    "alpn",
                                    "ja3_string",
                                    "ja3s_string",
                                    "client_version",
                                    "hasshAlgorithms",
                                    "hasshServerAlgorithms",
                                    "trans_depth",
                                    "request_body_len"};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (strcmp(key, w[i]) == 0)
            return true;
    return false;
}

typedef struct item {
    const sift_meta_row_t *r;
    size_t input;
} item_t;

typedef struct src {
    const sift_engine_t *e;
    const item_t *items;
    cli_meta_cols_t m;
    char a[48], b[48];
} src_t;

static void row_values(void *user, size_t i, cli_val_t *v)
{
    src_t *s = user;
    const sift_meta_row_t *r = s->items[i].r;
    const sift_input_t *in = sift_engine_input(s->e, s->items[i].input);
    const uint8_t d = in->meta.ts_digits;
    v[C_PROTO] = (cli_val_t){.s = sift_meta_proto_name((sift_meta_proto_t)r->proto)};
    v[C_FILE] = (cli_val_t){.s = in->path};
    v[C_TS] = (cli_val_t){.i = sift_meta_row_ts(r), .digits = d};
    v[C_SRC] = (cli_val_t){.s = cli_addr_str(s->a, sizeof s->a, r->src, r->ip_version)};
    v[C_SPORT] = (cli_val_t){.u = r->sport};
    v[C_DST] = (cli_val_t){.s = cli_addr_str(s->b, sizeof s->b, r->dst, r->ip_version)};
    v[C_DPORT] = (cli_val_t){.u = r->dport};
    v[C_TRANSPORT] = (cli_val_t){.s = r->ip_proto == 6 ? "tcp" : "udp"};
    const bool both = r->ts_ns[0] != INT64_MIN && r->ts_ns[1] != INT64_MIN;
    v[C_REPLY] = (cli_val_t){.i = r->ts_ns[1], .digits = d, .null = r->ts_ns[1] == INT64_MIN};
    v[C_RTT] = (cli_val_t){.i = both ? r->ts_ns[1] - r->ts_ns[0] : 0, .digits = d, .null = !both};
    cli_meta_values(&s->m, r, v + NBASE);
}

/* One protocol's rows; titled (first: the first title printed) when there are several. */
static int print_proto(FILE *out, const sift_engine_t *e, sift_meta_proto_t p, const item_t *items,
                       size_t n, const meta_args_t *a, bool titled, bool first)
{
    src_t s = {.e = e, .items = items};
    cli_meta_cols_init(&s.m, p);
    cli_col_t cols[MAX_COLS] = {
        [C_PROTO] = CLI_COL_STR("proto", NULL),
        [C_FILE] = CLI_COL_STR("file", NULL),
        [C_TS] = CLI_COL_TIME("ts", "TIME", "time"),
        [C_SRC] = CLI_COL_STR("src", "SRC"),
        [C_SPORT] = CLI_COL_NUM("sport", "SPORT", CLI_T_ID, NULL),
        [C_DST] = CLI_COL_STR("dst", "DST"),
        [C_DPORT] = CLI_COL_NUM("dport", "DPORT", CLI_T_ID, NULL),
        [C_TRANSPORT] = CLI_COL_STR("transport", NULL),
        [C_REPLY] = CLI_COL_TIME("reply_ts", NULL, "reply_time"),
        [C_RTT] = CLI_COL_NUM("rtt", NULL, CLI_T_DUR, "s"),
    };
    for (size_t k = 0; k < s.m.n; k++) {
        cols[NBASE + k] = s.m.cols[k];
        if (wide(s.m.cols[k].key))
            cols[NBASE + k].head = NULL;
    }
    cli_out_t o = {.out = out,
                   .fmt = (cli_format_t)a->co.format,
                   .time = (cli_time_format_t)a->co.time_format,
                   .base = INT64_MAX};
    for (size_t i = 0; i < n; i++)
        if (sift_meta_row_ts(items[i].r) < o.base)
            o.base = sift_meta_row_ts(items[i].r);
    if (titled)
        fprintf(out, "%s%s (%zu)\n", first ? "" : "\n", sift_meta_proto_name(p), n);
    if (sift_engine_ninputs(e) > 1)
        cols[C_FILE].head = "FILE";
    return cli_rows_print(&o, cols, NBASE + s.m.n, n, row_values, &s);
}

static int print_all(FILE *out, const sift_engine_t *e, int pass, unsigned protos,
                     const meta_args_t *a)
{
    size_t total = 0;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++)
        total += sift_meta_count(sift_engine_state(e, i, pass));
    item_t *items = malloc((total ? total : 1) * sizeof *items);
    if (!items) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    int rc = CLI_OK;
    unsigned nprotos = 0, shown = 0;
    for (unsigned p = 0; p < SIFT_META_NPROTO; p++)
        nprotos += (protos >> p) & 1;
    for (unsigned p = 0; p < SIFT_META_NPROTO && rc == CLI_OK; p++) {
        if (!(protos & (1u << p)))
            continue;
        size_t n = 0;
        for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
            const sift_meta_t *m = sift_engine_state(e, i, pass);
            for (size_t k = 0; k < sift_meta_count(m); k++)
                if (sift_meta_at(m, k)->proto == p)
                    items[n++] = (item_t){sift_meta_at(m, k), i};
        }
        const bool titled = nprotos > 1 && a->co.format == CLI_FORMAT_TABLE;
        if (titled && n == 0)
            continue; /* tables of several protocols: those with rows */
        rc = print_proto(out, e, (sift_meta_proto_t)p, items, n, a, titled, shown++ == 0);
    }
    free(items);
    return rc;
}

/* The summary of what was parsed but is not in the rows, one line per file (-q: none). */
static void report_meta(const sift_engine_t *e, int pass, unsigned protos)
{
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_meta_t *m = sift_engine_state(e, i, pass);
        if (!m)
            continue;
        sift_meta_summary_t s;
        sift_meta_summary(m, &s);
        char line[1024] = "";
        for (unsigned p = 0; p < SIFT_META_NPROTO; p++) {
            if (!(protos & (1u << p)))
                continue;
            const uint64_t v[3] = {s.left_out[p], s.damaged[p], s.cut[p]};
            static const char *const what[3] = {
                "past a cap (--max-per-flow, 64 records a DNS message)", "damaged",
                "cut at a segment's end"};
            for (int k = 0; k < 3; k++) {
                if (!v[k])
                    continue;
                char num[32];
                size_t n = strlen(line);
                snprintf(line + n, sizeof line - n, "%s%s %s %s", n ? ", " : "",
                         cli_u64_grouped(num, v[k]), sift_meta_proto_name((sift_meta_proto_t)p),
                         what[k]);
            }
        }
        if (line[0])
            cli_note("%s: messages not whole: %s", sift_engine_input(e, i)->path, line);
    }
}

static int parse_protos(const cli_list_t *l, unsigned *protos)
{
    *protos = 0;
    for (size_t i = 0; i < l->n; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", l->v[i]);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            sift_meta_proto_t p;
            if (sift_meta_proto_parse(t, &p) < 0) {
                cli_error("--proto: unknown protocol '%s' (dns, http, tls, ssh or dhcp)", t);
                return CLI_USAGE;
            }
            *protos |= 1u << p;
        }
    }
    if (*protos == 0)
        *protos = (1u << SIFT_META_NPROTO) - 1;
    return CLI_OK;
}

int cmd_meta(int argc, char **argv)
{
    meta_args_t a = {0};
    int prc = cli_parse(&cli_cmd_meta, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    unsigned protos;
    int rc = parse_protos(&a.protos, &protos);
    if (rc != CLI_OK)
        return rc;
    if (a.co.format == CLI_FORMAT_CSV && (protos & (protos - 1))) {
        cli_error("--csv needs one --proto: each protocol has columns of its own");
        return CLI_USAGE;
    }
    sift_meta_config_t mc = {.protos = protos, .max_per_flow = (unsigned)a.per_flow};
    sift_flows_config_t fc = {.no_app = true};
    fc.table.max_flows = cli_flow_cap(&a.co.limits, false);
    cli_run_t run;
    cli_run_opts_t ro = {.pass = &sift_meta_pass, .config = &mc, .flows = &fc, .cache = true};
    FILE *out = stdout;
    rc = cli_run(&run, &ro, &a.co);
    if (rc == CLI_OK) {
        rc = print_all(out, run.e, run.pass, protos, &a);
        if (cli_report_inputs(run.e, &a.co.limits) != CLI_OK && rc == CLI_OK)
            rc = CLI_DAMAGED;
        if (!a.co.quiet)
            report_meta(run.e, run.pass, protos);
    }
    if (fflush(out) != 0 || ferror(out)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    cli_run_free(&run);
    return rc;
}
