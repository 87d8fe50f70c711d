/* capsift query: flows from the index, by a small filter language. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void help_query(FILE *out)
{
    fprintf(out, "usage: capsift query [OPTIONS] [EXPRESSION]\n\n"
                 "Lists the indexed flows matching EXPRESSION (all flows without one):\n\n"
                 "  [src|dst] host ADDR, [src|dst] net CIDR, [src|dst] port N   (src: initiator)\n"
                 "  proto tcp|udp|icmp|icmp6|sctp|N, or just tcp, udp ...,  app NAME,  vlan N\n"
                 "  file GLOB,  after TIME,  before TIME   (ISO 8601 UTC or epoch seconds)\n"
                 "  packets|bytes|duration  > >= < <= = !=  N\n"
                 "combined with and, or, not and parentheses, e.g.\n\n"
                 "  capsift query 'host 10.1.2.3 and port 445 and after 2024-05-14'\n\n"
                 "options:\n"
                 "  --db FILE          the index (default: ./capsift.db)\n"
                 "  --group-by KEY     host, port, app or file: flows, packets and bytes per key\n"
                 "  --sort KEY         packets, bytes, duration (largest first) or start\n"
                 "  --limit N          at most N rows\n"
                 "  --json             one JSON object per row (the keys of capsift flows --json)\n"
                 "  --csv              comma-separated values with a header row\n"
                 "  -h, --help         this help\n\n"
                 "exit status: 0 done (also when nothing matched), 2 usage or syntax error (the\n"
                 "message gives the column), 3 the index could not be read.\n"
                 "The language: docs/capsift-query.md.\n");
}

typedef struct query_args {
    const char *db, *expr;
    cli_format_t fmt;
    sift_sort_t sort;
    sift_group_t group;
    uint64_t limit;
} query_args_t;

typedef struct rows {
    sift_flow_row_t *v;
    size_t n, cap;
    bool app, many_files;
    const char *first_file;
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
    rs->app = rs->app || r->app[0];
    if (rs->n > 1 && strcmp(rs->v[0].file, r->file) != 0)
        rs->many_files = true;
    return 0;
}

static int print_group(void *user, const sift_group_row_t *g)
{
    const query_args_t *a = user;
    char t0[40], t1[40];
    sift_format_ts(t0, sizeof t0, g->first_ns, 6);
    sift_format_ts(t1, sizeof t1, g->last_ns, 6);
    if (a->fmt == CLI_FORMAT_JSON) {
        fputs("{\"key\":", stdout);
        json_string(stdout, g->key);
        printf(",\"flows\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
               ",\"first_ts\":\"%s\",\"last_ts\":\"%s\"}\n",
               g->flows, g->packets, g->bytes, t0, t1);
    } else if (a->fmt == CLI_FORMAT_CSV) {
        printf("%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%s\n", g->key, g->flows, g->packets,
               g->bytes, t0, t1);
    } else {
        printf("%-40s %10" PRIu64 " %12" PRIu64 " %15" PRIu64 "  %s  %s\n", g->key, g->flows,
               g->packets, g->bytes, t0, t1);
    }
    return 0;
}

static int parse_args(int argc, char **argv, query_args_t *a)
{
    enum { O_DB = 256, O_GROUP, O_SORT, O_LIMIT, O_JSON, O_CSV };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, O_DB},     {"group-by", required_argument, NULL, O_GROUP},
        {"sort", required_argument, NULL, O_SORT}, {"limit", required_argument, NULL, O_LIMIT},
        {"json", no_argument, NULL, O_JSON},       {"csv", no_argument, NULL, O_CSV},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    static const char *const groups[] = {"host", "port", "app", "file"};
    static const char *const sorts[] = {"packets", "bytes", "start", "duration"};
    a->db = "capsift.db";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_DB:
            a->db = optarg;
            break;
        case O_GROUP:
            for (int k = 0; k < 4; k++)
                if (strcmp(optarg, groups[k]) == 0)
                    a->group = (sift_group_t)(k + 1);
            if (!a->group) {
                cli_error("query: --group-by takes host, port, app or file, not '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case O_SORT:
            a->sort = SIFT_SORT_NONE;
            for (int k = 0; k < 4; k++)
                if (strcmp(optarg, sorts[k]) == 0)
                    a->sort = (sift_sort_t)(k + 1);
            if (a->sort == SIFT_SORT_NONE) {
                cli_error("query: --sort takes packets, bytes, start or duration, not '%s'",
                          optarg);
                return CLI_USAGE;
            }
            break;
        case O_LIMIT:
            if (cli_opt_count("query", "--limit", optarg, 1, UINT64_MAX, &a->limit) != CLI_OK)
                return CLI_USAGE;
            break;
        case O_JSON:
            a->fmt = CLI_FORMAT_JSON;
            break;
        case O_CSV:
            a->fmt = CLI_FORMAT_CSV;
            break;
        case 'h':
            help_query(stdout);
            return -1;
        default:
            fprintf(stderr, "see 'capsift query --help'\n");
            return CLI_USAGE;
        }
    }
    if (argc - optind > 1) {
        cli_error("query: give the expression as one argument (quote it)");
        return CLI_USAGE;
    }
    a->expr = optind < argc ? argv[optind] : "";
    return CLI_OK;
}

/* Compiles the expression, reporting a syntax error with a caret under its column. */
int cli_compile_query(const char *cmd, const char *expr, sift_query_t **q)
{
    char err[SIFT_ERRBUF_SIZE];
    size_t col = 0;
    if (sift_query_compile(q, expr, err, &col) == 0)
        return 0;
    cli_error("%s: %s", cmd, err);
    if (col > 0)
        fprintf(stderr, "  %s\n  %*s^\n", expr, (int)col - 1, "");
    return CLI_USAGE;
}

int cmd_query(int argc, char **argv)
{
    query_args_t a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    sift_query_t *q = NULL;
    if ((rc = cli_compile_query("query", a.expr, &q)) != 0)
        return rc;
    sift_ctx_t *ctx = NULL;
    sift_index_t *ix = NULL;
    sift_index_opts_t io = {.read_only = true};
    rows_t rows = {0};
    if (sift_ctx_create(&ctx) < 0) {
        rc = CLI_FAILED;
    } else if (sift_index_open(&ix, ctx, a.db, &io) < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        rc = CLI_FAILED;
    } else if (a.group) {
        if (a.fmt == CLI_FORMAT_CSV)
            puts("key,flows,packets,bytes,first_ts,last_ts");
        else if (a.fmt == CLI_FORMAT_TABLE)
            printf("%-40s %10s %12s %15s  %-17s  %s\n", "KEY", "FLOWS", "PACKETS", "BYTES", "FIRST",
                   "LAST");
        if (sift_index_group(ix, q, a.group, a.sort, a.limit, print_group, &a) < 0) {
            cli_error("%s", sift_ctx_errmsg(ctx));
            rc = CLI_FAILED;
        }
    } else {
        int qrc = sift_index_query(ix, q, a.sort, a.limit, keep_row, &rows);
        if (qrc < 0) {
            cli_error("%s", qrc == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
            rc = CLI_FAILED;
        } else {
            cli_flow_rows_print(stdout, a.fmt, rows.n, cli_row_of_array, rows.v, rows.many_files,
                                rows.app);
        }
    }
    for (size_t i = 0; i < rows.n; i++) {
        free((void *)(uintptr_t)rows.v[i].file);
        free((void *)(uintptr_t)rows.v[i].app);
    }
    free(rows.v);
    sift_query_free(q);
    sift_index_close(ix);
    sift_ctx_free(ctx);
    if (fflush(stdout) != 0) {
        cli_error("cannot write the output");
        rc = CLI_FAILED;
    }
    return rc;
}
