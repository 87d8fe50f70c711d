/* capsift query: flows from the index, by a small filter language. */
#include "cli.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct query_args {
    int group, sort;
    uint64_t limit;
    cli_common_t co;
} query_args_t;

/* in the order of sift_group_t and sift_sort_t, from 1 */
static const char *const group_names[] = {"host", "port", "app", "file", NULL};
static const char *const sort_names[] = {"packets", "bytes", "start", "duration", NULL};

#define A(field) offsetof(query_args_t, field)
static const cli_opt_t query_opts[] = {
    {.name = "group-by",
     .kind = CLI_K_CHOICE,
     .offset = A(group),
     .arg = "KEY",
     .help = "host, port, app or file: flows, packets and bytes per key",
     .choices = group_names},
    {.name = "sort",
     .kind = CLI_K_CHOICE,
     .offset = A(sort),
     .arg = "KEY",
     .help = "packets, bytes, duration (largest first) or start",
     .choices = sort_names},
    {.name = "limit",
     .kind = CLI_K_COUNT,
     .offset = A(limit),
     .arg = "N",
     .help = "at most N rows",
     .min = 1,
     .max = UINT64_MAX,
     .like = "top"},
};

const cli_command_t cli_cmd_query = {
    .name = "query",
    .summary = "list indexed flows by host, port, protocol, app, time, size, DNS, TLS, HTTP",
    .run = cmd_query,
    .usage = "capsift query [OPTIONS] [EXPRESSION]",
    .about = "Lists the indexed flows matching EXPRESSION (all flows without one):\n\n"
             "  [src|dst] host ADDR, [src|dst] net CIDR, [src|dst] port N   (src: initiator)\n"
             "  [src|dst] portrange A-B,  net A mask M,  ip,  ip6,  vlan [N]\n"
             "  proto tcp|udp|icmp|icmp6|sctp|N, or just tcp, udp ...,  app NAME\n"
             "  state S0|SF|REJ|RSTO...   (Zeek's connection state)\n"
             "  file GLOB,  after TIME,  before TIME   (ISO 8601 UTC or epoch seconds)\n"
             "  packets|bytes|duration  > >= < <= = !=  N\n"
             "  dns NAME, sni NAME, http.host NAME, name NAME   (labels: *.example.com)\n"
             "  uri|ua|http.method|ssh.client|ssh.server [contains] TEXT,  ja3|ja3s|hassh MD5\n"
             "combined with and, or, not and parentheses; a protocol qualifies the term after\n"
             "it as in BPF ('tcp port 80'), e.g.\n\n"
             "  capsift query 'host 10.1.2.3 and tcp port 445 and after 2024-05-14'\n"
             "  capsift query 'sni *.example.com or (dns example.com and ua contains curl)'\n",
    .opts = query_opts,
    .nopts = sizeof query_opts / sizeof query_opts[0],
    .common = CLI_C_DB | CLI_C_JSON | CLI_C_CSV | CLI_C_TIME,
    .footer = "exit status: 0 done (also when nothing matched), 2 usage or syntax error (the\n"
              "message gives the column), 3 the index could not be read.\n"
              "The language: docs/capsift-query.md.\n",
};

typedef struct rows {
    sift_flow_row_t *v;
    size_t n, cap;
    sift_group_row_t *g; /* --group-by */
    size_t ng, gcap;
} rows_t;

/* Keeps a row; its strings are copied (they are valid during the callback only). */
static int keep_row(void *user, const sift_flow_row_t *r)
{
    rows_t *rs = user;
    if (rs->n == rs->cap) {
        size_t ncap = rs->cap ? rs->cap * 2 : 256;
        sift_flow_row_t *nv = realloc(rs->v, ncap * sizeof *nv);
        if (!nv)
            return SIFT_ENOMEM;
        rs->v = nv;
        rs->cap = ncap;
    }
    sift_flow_row_t *k = &rs->v[rs->n];
    *k = *r;
    k->file = strdup(r->file);
    k->app = strdup(r->app);
    if (!k->file || !k->app) {
        free((void *)(uintptr_t)k->file);
        free((void *)(uintptr_t)k->app);
        return SIFT_ENOMEM;
    }
    rs->n++;
    return 0;
}

/* Keeps a group; its key is copied. */
static int keep_group(void *user, const sift_group_row_t *g)
{
    rows_t *rs = user;
    if (rs->ng == rs->gcap) {
        size_t ncap = rs->gcap ? rs->gcap * 2 : 64;
        sift_group_row_t *nv = realloc(rs->g, ncap * sizeof *nv);
        if (!nv)
            return SIFT_ENOMEM;
        rs->g = nv;
        rs->gcap = ncap;
    }
    rs->g[rs->ng] = *g;
    if (!(rs->g[rs->ng].key = strdup(g->key)))
        return SIFT_ENOMEM;
    rs->ng++;
    return 0;
}

static const cli_col_t group_cols[] = {
    CLI_COL_STR("key", "KEY"),
    CLI_COL_NUM("flows", "FLOWS", CLI_T_U64, "flows"),
    CLI_COL_NUM("packets", "PACKETS", CLI_T_U64, "packets"),
    CLI_COL_NUM("bytes", "BYTES", CLI_T_U64, "bytes"),
    CLI_COL_TIME("first_ts", "FIRST", "first_time"),
    CLI_COL_TIME("last_ts", "LAST", "last_time"),
};

static void group_values(void *user, size_t i, cli_val_t *v)
{
    const sift_group_row_t *g = &((const rows_t *)user)->g[i];
    v[0] = (cli_val_t){.s = g->key};
    v[1] = (cli_val_t){.u = g->flows};
    v[2] = (cli_val_t){.u = g->packets};
    v[3] = (cli_val_t){.u = g->bytes};
    v[4] = (cli_val_t){.i = g->first_ns, .digits = 6};
    v[5] = (cli_val_t){.i = g->last_ns, .digits = 6};
}

/* Compiles the expression, reporting a syntax error with a caret under its column. */
int cli_compile_query(const char *expr, sift_query_t **q)
{
    char err[SIFT_ERRBUF_SIZE];
    size_t col = 0;
    if (sift_query_compile(q, expr, err, &col) == 0)
        return 0;
    cli_error("%s", err);
    if (col > 0)
        fprintf(stderr, "  %s\n  %*s^\n", expr, (int)col - 1, "");
    return CLI_USAGE;
}

/* The rows or groups of q, printed. */
static int print_query(sift_index_t *ix, const sift_ctx_t *ctx, const sift_query_t *q,
                       const query_args_t *a, rows_t *rows)
{
    sift_group_t group = (sift_group_t)(a->group + 1);
    sift_sort_t sort = (sift_sort_t)(a->sort + 1);
    int rc;
    cli_out_t o = {.out = stdout,
                   .fmt = (cli_format_t)a->co.format,
                   .time = (cli_time_format_t)a->co.time_format,
                   .base = INT64_MAX};
    if (group) {
        rc = sift_index_group(ix, q, group, sort, a->limit, keep_group, rows);
        for (size_t i = 0; i < rows->ng; i++)
            if (rows->g[i].first_ns < o.base)
                o.base = rows->g[i].first_ns;
        if (rc == 0)
            return cli_rows_print(&o, group_cols, sizeof group_cols / sizeof group_cols[0],
                                  rows->ng, group_values, rows);
    } else {
        rc = sift_index_query(ix, q, sort, a->limit, keep_row, rows);
        for (size_t i = 0; i < rows->n; i++)
            if (rows->v[i].first_ns < o.base)
                o.base = rows->v[i].first_ns;
        if (rc == 0)
            return cli_flow_rows_print(&o, rows->n, cli_row_of_array, rows->v, true);
    }
    if (rc < 0) {
        cli_error("%s", rc == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
        return CLI_FAILED;
    }
    return CLI_OK;
}

int cmd_query(int argc, char **argv)
{
    query_args_t a = {.group = -1, .sort = -1};
    int rc = cli_parse(&cli_cmd_query, argc, argv, &a, &a.co);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (a.co.nargs > 1) {
        cli_error("give the expression as one argument (quote it)");
        return CLI_USAGE;
    }
    sift_query_t *q = NULL;
    if ((rc = cli_compile_query(a.co.nargs ? a.co.args[0] : "", &q)) != 0)
        return rc;
    sift_ctx_t *ctx = NULL;
    sift_index_t *ix = NULL;
    rows_t rows = {0};
    if (sift_ctx_create(&ctx) < 0) {
        cli_error("out of memory");
        rc = CLI_FAILED;
    } else {
        rc = cli_index_open(ctx, a.co.db, &ix);
    }
    if (rc == CLI_OK)
        rc = print_query(ix, ctx, q, &a, &rows);
    for (size_t i = 0; i < rows.n; i++) {
        free((void *)(uintptr_t)rows.v[i].file);
        free((void *)(uintptr_t)rows.v[i].app);
    }
    free(rows.v);
    for (size_t i = 0; i < rows.ng; i++)
        free((void *)(uintptr_t)rows.g[i].key);
    free(rows.g);
    sift_query_free(q);
    sift_index_close(ix);
    sift_ctx_free(ctx);
    if (fflush(stdout) != 0) {
        cli_error("cannot write the output");
        rc = CLI_FAILED;
    }
    return rc;
}
