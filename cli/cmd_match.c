/* capsift match: the flows that touch indicators (addresses, CIDR ranges, domain names) from
 * lists in text, CSV or STIX 2.1, in their addresses and in their DNS, TLS and HTTP names. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct match_args {
    cli_list_t lists;
    cli_common_t co;
} match_args_t;

#define A(field) offsetof(match_args_t, field)
static const cli_opt_t match_opts[] = {
    {.name = "ioc",
     .kind = CLI_K_LIST,
     .offset = A(lists),
     .arg = "LIST",
     .help = "an indicator list: text (one per line), .csv, or a STIX 2.1 JSON bundle\n"
             "(repeatable)"},
};

const cli_command_t cli_cmd_match = {
    .name = "match",
    .summary =
        "flows that touch indicators: addresses, CIDR ranges, domain names (text, CSV, STIX)",
    .run = cmd_match,
    .usage = "capsift match [OPTIONS] --ioc LIST... FILE|DIR|- ...\n"
             "       capsift match [OPTIONS] --ioc LIST... --db FILE",
    .about =
        "Lists the flows whose addresses are, or lie in, an indicator of the lists, or whose\n"
        "DNS queries and answers, TLS server names and certificate names, or HTTP hosts name\n"
        "an indicator domain or a name under it: one row per flow, indicator and place\n"
        "(src, dst, dns.query, dns.answer, tls.sni, cert.san, http.host), with the value seen,\n"
        "when, and the indicator with its list and line. Lists are text (one indicator per\n"
        "line, '#' comments), CSV (the column named indicator, ioc, value, ip, address,\n"
        "domain or host, else the first) or STIX 2.1 bundles ([ipv4-addr:value = '...'],\n"
        "ipv6-addr, domain-name patterns). Lookups go through Bloom filters and then exact\n"
        "tables, so results are exact; ranges are searched, never expanded. With --db, the\n"
        "flows and metadata of an index (capsift index) are matched instead of captures.\n",
    .opts = match_opts,
    .nopts = sizeof match_opts / sizeof match_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_CSV | CLI_C_TIME | CLI_C_LIMITS |
              CLI_C_NO_CACHE | CLI_C_THREADS | CLI_C_QUIET | CLI_C_DB,
    .footer = "exit status: 0 every file read whole (with or without matches), 1 some file\n"
              "damaged or unreadable (its matches are still printed), 2 usage error or a bad\n"
              "indicator (named with its list and line), 3 failure.\n",
};

typedef struct hit {
    size_t input;
    uint8_t ip_version, proto;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    int64_t first_ns, ts_ns;
    uint8_t where;
    size_t ioc;
    char *value;
} hit_t;

/* The files of the hits: the engine's inputs, or the index's files. */
typedef struct file_ref {
    char *path; /* owned in index mode only */
    uint8_t ts_digits;
} file_ref_t;

typedef struct hits {
    hit_t *v;
    size_t n, cap;
    size_t input; /* the file of the hits being collected */
    file_ref_t *files;
    size_t nfiles;
    bool owned;     /* the paths are copies (index mode) */
    size_t no_meta; /* index mode: files indexed without metadata */
} hits_t;

static int add_file(hits_t *h, const char *path, uint8_t digits, bool copy)
{
    file_ref_t *v = realloc(h->files, (h->nfiles + 1) * sizeof *v);
    if (!v)
        return SIFT_ENOMEM;
    h->files = v;
    v[h->nfiles] =
        (file_ref_t){.path = copy ? strdup(path) : (char *)(uintptr_t)path, .ts_digits = digits};
    if (!v[h->nfiles].path)
        return SIFT_ENOMEM;
    h->input = h->nfiles++;
    return 0;
}

static int collect(void *user, const sift_ioc_match_t *m)
{
    hits_t *h = user;
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 256;
        hit_t *v = realloc(h->v, ncap * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        h->v = v;
        h->cap = ncap;
    }
    const sift_flow_t *f = m->flow;
    hit_t *x = &h->v[h->n];
    *x = (hit_t){.input = h->input,
                 .ip_version = f->key.ip_version,
                 .proto = f->key.proto,
                 .sport = sift_flow_port_a(f),
                 .dport = sift_flow_port_b(f),
                 .first_ns = f->first_ns,
                 .ts_ns = m->ts_ns,
                 .where = m->where,
                 .ioc = m->ioc,
                 .value = strdup(m->value)};
    if (!x->value)
        return SIFT_ENOMEM;
    memcpy(x->src, sift_flow_addr_a(f), 16);
    memcpy(x->dst, sift_flow_addr_b(f), 16);
    h->n++;
    return 0;
}

enum {
    C_FILE,
    C_TS,
    C_SRC,
    C_SPORT,
    C_DST,
    C_DPORT,
    C_TRANSPORT,
    C_FIRST,
    C_WHERE,
    C_VALUE,
    C_IOC,
    C_LIST,
    C_LINE,
    NCOLS
};

typedef struct src {
    const sift_iocs_t *l;
    const hits_t *h;
    char a[48], b[48], pn[8];
} src_t;

static void row_values(void *user, size_t i, cli_val_t *v)
{
    src_t *s = user;
    const hit_t *x = &s->h->v[i];
    const file_ref_t *in = &s->h->files[x->input];
    const sift_ioc_t *o = sift_iocs_at(s->l, x->ioc);
    v[C_FILE] = (cli_val_t){.s = in->path};
    v[C_TS] = (cli_val_t){.i = x->ts_ns, .digits = in->ts_digits};
    v[C_SRC] = (cli_val_t){.s = cli_addr_str(s->a, sizeof s->a, x->src, x->ip_version)};
    v[C_SPORT] = (cli_val_t){.u = x->sport}; /* 0 without ports, as flows has it */
    v[C_DST] = (cli_val_t){.s = cli_addr_str(s->b, sizeof s->b, x->dst, x->ip_version)};
    v[C_DPORT] = (cli_val_t){.u = x->dport};
    v[C_TRANSPORT] = (cli_val_t){.s = x->proto == 6                     ? "tcp"
                                      : x->proto == 17                  ? "udp"
                                      : x->proto == 1 || x->proto == 58 ? "icmp"
                                                                        : "other"};
    v[C_FIRST] = (cli_val_t){.i = x->first_ns, .digits = in->ts_digits};
    v[C_WHERE] = (cli_val_t){.s = sift_match_where_name((sift_match_where_t)x->where)};
    v[C_VALUE] = (cli_val_t){.s = x->value};
    v[C_IOC] = (cli_val_t){.s = o->text};
    v[C_LIST] = (cli_val_t){.s = o->source};
    v[C_LINE] = (cli_val_t){.u = o->line};
}

static int print_hits(const sift_iocs_t *l, const hits_t *h, const match_args_t *a)
{
    cli_col_t cols[NCOLS] = {
        [C_FILE] = CLI_COL_STR("file", NULL),
        [C_TS] = CLI_COL_TIME("ts", "TIME", "time"),
        [C_SRC] = CLI_COL_STR("src", "SRC"),
        [C_SPORT] = CLI_COL_NUM("sport", "SPORT", CLI_T_ID, NULL),
        [C_DST] = CLI_COL_STR("dst", "DST"),
        [C_DPORT] = CLI_COL_NUM("dport", "DPORT", CLI_T_ID, NULL),
        [C_TRANSPORT] = CLI_COL_STR("transport", "PROTO"),
        [C_FIRST] = CLI_COL_TIME("flow_first_ts", NULL, "flow_first_time"),
        [C_WHERE] = CLI_COL_STR("where", "WHERE"),
        [C_VALUE] = CLI_COL_STR("value", "VALUE"),
        [C_IOC] = CLI_COL_STR("indicator", "INDICATOR"),
        [C_LIST] = CLI_COL_STR("list", NULL),
        [C_LINE] = CLI_COL_NUM("line", NULL, CLI_T_ID, NULL),
    };
    if (h->nfiles > 1)
        cols[C_FILE].head = "FILE";
    cli_out_t o = {.out = stdout,
                   .fmt = (cli_format_t)a->co.format,
                   .time = (cli_time_format_t)a->co.time_format,
                   .base = INT64_MAX};
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].ts_ns < o.base)
            o.base = h->v[i].ts_ns;
    src_t s = {.l = l, .h = h};
    return cli_rows_print(&o, cols, NCOLS, h->n, row_values, &s);
}

static int load_lists(const match_args_t *a, sift_ctx_t *ctx, sift_iocs_t **out)
{
    if (a->lists.n == 0) {
        cli_error("no indicators: give --ioc LIST (see 'capsift match --help')");
        return CLI_USAGE;
    }
    double t0 = cli_now();
    sift_cache_t *cache = NULL;
    if (cli_cache_wanted(&a->co))
        cli_cache_open(ctx, &cache); /* a cache that cannot open: build */
    bool cached;
    int rc = sift_iocs_load_all(out, ctx, a->lists.v, a->lists.n, 0, cache, &cached);
    sift_cache_close(cache);
    if (rc < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        return rc == SIFT_ENOMEM ? CLI_FAILED : CLI_USAGE;
    }
    const sift_iocs_t *l = *out;
    if (sift_iocs_count(l) == 0) {
        cli_error("the lists hold no indicator");
        return CLI_USAGE;
    }
    if (!a->co.quiet) {
        char n[4][32];
        cli_note("%s indicators (%s addresses, %s ranges, %s names) %s in %.3f s%s",
                 cli_u64_grouped(n[0], sift_iocs_count(l)),
                 cli_u64_grouped(n[1], sift_iocs_count_kind(l, SIFT_IOC_ADDR)),
                 cli_u64_grouped(n[2], sift_iocs_count_kind(l, SIFT_IOC_CIDR)),
                 cli_u64_grouped(n[3], sift_iocs_count_kind(l, SIFT_IOC_NAME)),
                 cached ? "read from the cache" : "loaded", cli_now() - t0,
                 sift_iocs_skipped(l) ? "; STIX patterns of other forms skipped" : "");
    }
    return CLI_OK;
}

/* The captures read with the metadata pass (flows come with it). Their hits name the engine's
 * inputs, so the run stays until they are printed: run is the caller's to free. */
static int match_files(const match_args_t *a, const sift_iocs_t *l, hits_t *h, cli_run_t *run)
{
    sift_meta_config_t mc = {.protos =
                                 1u << SIFT_META_DNS | 1u << SIFT_META_TLS | 1u << SIFT_META_HTTP};
    sift_flows_config_t fc = {.no_app = true};
    fc.table.max_flows = cli_flow_cap(&a->co.limits, false);
    cli_run_opts_t ro = {.pass = &sift_meta_pass, .config = &mc, .flows = &fc, .cache = true};
    int rc = cli_run(run, &ro, &a->co);
    if (rc != CLI_OK)
        return rc;
    int fp = sift_engine_flows_pass(run->e);
    for (size_t i = 0; i < sift_engine_ninputs(run->e) && rc == CLI_OK; i++) {
        const sift_input_t *in = sift_engine_input(run->e, i);
        const sift_flows_t *flows = fp >= 0 ? sift_engine_state(run->e, i, fp) : NULL;
        if (add_file(h, in->path, in->meta.ts_digits, false) < 0 ||
            (flows &&
             sift_iocs_match(l, flows, sift_engine_state(run->e, i, run->pass), collect, h) < 0)) {
            cli_error("out of memory");
            rc = CLI_FAILED;
        }
    }
    if (rc == CLI_OK && cli_report_inputs(run->e, &a->co.limits) != CLI_OK)
        rc = CLI_DAMAGED;
    return rc;
}

typedef struct index_walk {
    const sift_iocs_t *l;
    hits_t *h;
} index_walk_t;

static int index_flow(void *user, const sift_index_flow_t *f)
{
    index_walk_t *w = user;
    hits_t *h = w->h;
    if (h->nfiles == 0 || strcmp(h->files[h->nfiles - 1].path, f->file) != 0) {
        if (add_file(h, f->file, f->ts_digits, true) < 0)
            return SIFT_ENOMEM;
        if (!f->meta)
            h->no_meta++;
    }
    return sift_iocs_match_flow(w->l, f->flow, f->rows, f->nrows, collect, h);
}

/* The flows and metadata of an index (--db), as they were when their files were indexed. */
static int match_index(const match_args_t *a, sift_ctx_t *ctx, const sift_iocs_t *l, hits_t *h)
{
    if (a->co.nargs > 0 || a->co.reads.n > 0) {
        cli_error("give either captures or --db, not both (see 'capsift match --help')");
        return CLI_USAGE;
    }
    if (a->co.filter) {
        cli_error("-f filters the packets of captures; an index (--db) has flows, not packets");
        return CLI_USAGE;
    }
    sift_index_t *ix = NULL;
    int rc = cli_index_open(ctx, a->co.db, &ix);
    if (rc != CLI_OK)
        return rc;
    h->owned = true;
    index_walk_t w = {l, h};
    int err = sift_index_flows(
        ix, NULL, 1u << SIFT_META_DNS | 1u << SIFT_META_TLS | 1u << SIFT_META_HTTP, index_flow, &w);
    if (err < 0) {
        cli_error("%s", err == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
        rc = err == SIFT_EINVAL ? CLI_USAGE : CLI_FAILED;
    } else if (h->no_meta && !a->co.quiet) {
        char n[32];
        cli_note("%s of the index's files were indexed without metadata (--no-meta): only their "
                 "addresses are matched",
                 cli_u64_grouped(n, h->no_meta));
    }
    sift_index_close(ix);
    return rc;
}

int cmd_match(int argc, char **argv)
{
    match_args_t a = {0};
    int prc = cli_parse(&cli_cmd_match, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    sift_ctx_t *ctx = NULL;
    sift_iocs_t *l = NULL;
    if (sift_ctx_create(&ctx) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    int rc = load_lists(&a, ctx, &l);
    hits_t h = {0};
    cli_run_t run = {0};
    if (rc == CLI_OK)
        rc = a.co.db_given ? match_index(&a, ctx, l, &h) : match_files(&a, l, &h, &run);
    if (rc == CLI_OK || rc == CLI_DAMAGED) {
        int orc = print_hits(l, &h, &a);
        if (orc != CLI_OK)
            rc = orc;
        if (!a.co.quiet) {
            char n[32];
            cli_note("%s matches", cli_u64_grouped(n, h.n));
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    for (size_t i = 0; i < h.n; i++)
        free(h.v[i].value);
    free(h.v);
    for (size_t i = 0; h.owned && i < h.nfiles; i++)
        free(h.files[i].path);
    free(h.files);
    cli_run_free(&run);
    sift_iocs_free(l);
    sift_ctx_free(ctx);
    return rc;
}
