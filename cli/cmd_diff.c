/* capsift diff: what differs between two captures (or directories of them): hosts, server
 * ports, applications, flows, TLS fingerprints and domain names on one side only, and volume
 * changes beyond a threshold. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct diff_args {
    uint64_t threshold;
    cli_list_t kinds;
    bool no_app;
    cli_common_t co;
} diff_args_t;

#define A(field) offsetof(diff_args_t, field)
static const cli_opt_t diff_opts[] = {
    {.name = "threshold",
     .kind = CLI_K_COUNT,
     .offset = A(threshold),
     .arg = "PERCENT",
     .help = "report a key on both sides when its bytes (or count) grew or shrank by more\n"
             "than this (default 100: twice, or half)",
     .min = 1,
     .max = 1000000},
    {.name = "kind",
     .short_name = 'k',
     .kind = CLI_K_LIST,
     .offset = A(kinds),
     .arg = "K",
     .help = "host, port, app, flow, ja3, ja3s or domain (repeatable, or a comma-separated\n"
             "list); default: all"},
    {.name = "no-app",
     .kind = CLI_K_FLAG,
     .offset = A(no_app),
     .help = "no application detection (faster; no app rows)"},
};

const cli_command_t cli_cmd_diff = {
    .name = "diff",
    .summary = "what differs between two captures: hosts, ports, apps, flows, TLS, domains",
    .run = cmd_diff,
    .usage = "capsift diff [OPTIONS] A B",
    .about = "Compares two captures, two directories of captures (every capture under each) or\n"
             "two indexes (capsift index; either side may be any of the three):\n"
             "the hosts, server ports (the responder's), applications, flows (5-tuples), TLS\n"
             "client and server fingerprints (JA3, JA3S) and domain names (DNS questions, SNI,\n"
             "HTTP hosts) seen on one side only, and those on both whose bytes (or, for\n"
             "fingerprints and names, count) changed by more than --threshold percent. One row\n"
             "per difference: kind, key, change (only_a, only_b, more, less) and the flows,\n"
             "packets and bytes on each side.\n",
    .opts = diff_opts,
    .nopts = sizeof diff_opts / sizeof diff_opts[0],
    .common = CLI_C_FILTER | CLI_C_JSON | CLI_C_CSV | CLI_C_LIMITS | CLI_C_NO_CACHE |
              CLI_C_THREADS | CLI_C_QUIET,
    .footer = "exit status: 0 both sides read whole (with or without differences), 1 some file\n"
              "damaged or unreadable (what was read is compared), 2 usage error, 3 failure.\n",
};

typedef struct rows {
    sift_diff_row_t *v;
    char **keys;
    size_t n, cap;
    unsigned kinds;
} rows_t;

static int keep(void *user, const sift_diff_row_t *r)
{
    rows_t *rs = user;
    if (!(rs->kinds & (1u << r->kind)))
        return 0;
    if (rs->n == rs->cap) {
        size_t ncap = rs->cap ? rs->cap * 2 : 256;
        sift_diff_row_t *v = realloc(rs->v, ncap * sizeof *v);
        char **k = v ? realloc(rs->keys, ncap * sizeof *k) : NULL;
        if (v)
            rs->v = v;
        if (!k)
            return SIFT_ENOMEM;
        rs->keys = k;
        rs->cap = ncap;
    }
    if (!(rs->keys[rs->n] = strdup(r->key)))
        return SIFT_ENOMEM;
    rs->v[rs->n] = *r;
    rs->v[rs->n].key = rs->keys[rs->n];
    rs->n++;
    return 0;
}

enum { C_KIND, C_KEY, C_CHANGE, C_AF, C_BF, C_AP, C_BP, C_AB, C_BB, NCOLS };

static void row_values(void *user, size_t i, cli_val_t *v)
{
    const sift_diff_row_t *r = &((const rows_t *)user)->v[i];
    v[C_KIND] = (cli_val_t){.s = sift_diff_kind_name(r->kind)};
    v[C_KEY] = (cli_val_t){.s = r->key};
    v[C_CHANGE] = (cli_val_t){.s = sift_diff_change_name(r->change)};
    v[C_AF] = (cli_val_t){.u = r->a.flows};
    v[C_BF] = (cli_val_t){.u = r->b.flows};
    v[C_AP] = (cli_val_t){.u = r->a.packets};
    v[C_BP] = (cli_val_t){.u = r->b.packets};
    v[C_AB] = (cli_val_t){.u = r->a.bytes};
    v[C_BB] = (cli_val_t){.u = r->b.bytes};
}

static int parse_kinds(const cli_list_t *l, unsigned *kinds)
{
    *kinds = 0;
    for (size_t i = 0; i < l->n; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", l->v[i]);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int k = 0;
            while (k < SIFT_DIFF_NKINDS && strcmp(t, sift_diff_kind_name((sift_diff_kind_t)k)))
                k++;
            if (k == SIFT_DIFF_NKINDS) {
                cli_error("--kind: unknown kind '%s' (host, port, app, flow, ja3, ja3s or domain)",
                          t);
                return CLI_USAGE;
            }
            *kinds |= 1u << k;
        }
    }
    if (*kinds == 0)
        *kinds = (1u << SIFT_DIFF_NKINDS) - 1;
    return CLI_OK;
}

typedef struct index_side {
    sift_profile_t *p;
    bool no_app;
    size_t files, no_meta;
    char *last_copy; /* the file of the flow before */
} index_side_t;

static int index_flow(void *user, const sift_index_flow_t *f)
{
    index_side_t *x = user;
    if (!x->last_copy || strcmp(x->last_copy, f->file) != 0) {
        free(x->last_copy);
        if (!(x->last_copy = strdup(f->file)))
            return SIFT_ENOMEM;
        x->files++;
        x->no_meta += !f->meta;
    }
    int rc = sift_profile_add_flow(x->p, f->flow, x->no_app ? NULL : f->app);
    for (size_t i = 0; i < f->nrows && rc == 0; i++)
        rc = sift_profile_add_row(x->p, f->rows[i]);
    return rc;
}

/* A side that is an index (capsift index): its flows and metadata as they were indexed. */
static int profile_index(const diff_args_t *a, const char *path, sift_profile_t *p)
{
    if (a->co.filter) {
        cli_error("%s: an index has flows, not packets: -f applies to captures only", path);
        return CLI_USAGE;
    }
    sift_ctx_t *ctx = NULL;
    sift_index_t *ix = NULL;
    if (sift_ctx_create(&ctx) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    int rc = cli_index_open(ctx, path, &ix);
    index_side_t x = {.p = p, .no_app = a->no_app};
    int err = rc == CLI_OK
                  ? sift_index_flows(
                        ix, NULL, 1u << SIFT_META_DNS | 1u << SIFT_META_TLS | 1u << SIFT_META_HTTP,
                        index_flow, &x)
                  : 0;
    if (err < 0) {
        cli_error("%s", err == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
        rc = err == SIFT_EINVAL ? CLI_USAGE : CLI_FAILED;
    } else if (rc == CLI_OK && x.no_meta && !a->co.quiet) {
        cli_note("%s: %zu of its %zu files were indexed without metadata (--no-meta): no TLS "
                 "fingerprints or domains from them",
                 path, x.no_meta, x.files);
    }
    free(x.last_copy);
    sift_index_close(ix);
    sift_ctx_free(ctx);
    return rc;
}

/* One side: an index, or its captures read with the metadata pass (flows come with it), into
 * a profile. */
static int profile_side(const diff_args_t *a, char *path, sift_profile_t *p, bool *damaged)
{
    if (sift_index_looks_like(path))
        return profile_index(a, path, p);
    cli_common_t co = a->co;
    co.reads.n = 0;
    co.args = &path;
    co.nargs = 1;
    sift_meta_config_t mc = {.protos =
                                 1u << SIFT_META_DNS | 1u << SIFT_META_TLS | 1u << SIFT_META_HTTP};
    sift_flows_config_t fc = {.no_app = a->no_app};
    fc.table.max_flows = cli_flow_cap(&co.limits, !a->no_app);
    cli_run_opts_t ro = {.pass = &sift_meta_pass, .config = &mc, .flows = &fc, .cache = true};
    cli_run_t run;
    int rc = cli_run(&run, &ro, &co);
    if (rc == CLI_OK) {
        int fp = sift_engine_flows_pass(run.e);
        for (size_t i = 0; i < sift_engine_ninputs(run.e) && rc == CLI_OK; i++) {
            const sift_flows_t *flows = fp >= 0 ? sift_engine_state(run.e, i, fp) : NULL;
            if (sift_profile_add(p, flows, sift_engine_state(run.e, i, run.pass)) < 0) {
                cli_error("out of memory");
                rc = CLI_FAILED;
            }
        }
        if (cli_report_inputs(run.e, &co.limits) != CLI_OK)
            *damaged = true;
    }
    cli_run_free(&run);
    return rc;
}

int cmd_diff(int argc, char **argv)
{
    diff_args_t a = {0};
    int prc = cli_parse(&cli_cmd_diff, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    if (a.co.nargs != 2) {
        cli_error("give two captures, directories or indexes, A and B (see 'capsift diff --help')");
        return CLI_USAGE;
    }
    rows_t rs = {0};
    int rc = parse_kinds(&a.kinds, &rs.kinds);
    if (rc != CLI_OK)
        return rc;
    if (a.no_app)
        rs.kinds &= ~(1u << SIFT_DIFF_APP);
    sift_profile_t *pa = NULL, *pb = NULL;
    bool damaged = false;
    if (sift_profile_create(&pa) < 0 || sift_profile_create(&pb) < 0) {
        cli_error("out of memory");
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK)
        rc = profile_side(&a, a.co.args[0], pa, &damaged);
    if (rc == CLI_OK)
        rc = profile_side(&a, a.co.args[1], pb, &damaged);
    double t = (double)(a.threshold ? a.threshold : 100) / 100.0;
    if (rc == CLI_OK && sift_profile_diff(pa, pb, t, keep, &rs) < 0) {
        cli_error("out of memory");
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK) {
        cli_col_t cols[NCOLS] = {
            [C_KIND] = CLI_COL_STR("kind", "KIND"),
            [C_KEY] = CLI_COL_STR("key", "KEY"),
            [C_CHANGE] = CLI_COL_STR("change", "CHANGE"),
            [C_AF] = CLI_COL_NUM("a_flows", "A_FLOWS", CLI_T_U64, NULL),
            [C_BF] = CLI_COL_NUM("b_flows", "B_FLOWS", CLI_T_U64, NULL),
            [C_AP] = CLI_COL_NUM("a_packets", NULL, CLI_T_U64, "packets"),
            [C_BP] = CLI_COL_NUM("b_packets", NULL, CLI_T_U64, "packets"),
            [C_AB] = CLI_COL_NUM("a_bytes", "A_BYTES", CLI_T_U64, "bytes"),
            [C_BB] = CLI_COL_NUM("b_bytes", "B_BYTES", CLI_T_U64, "bytes"),
        };
        cli_out_t o = {.out = stdout, .fmt = (cli_format_t)a.co.format};
        rc = cli_rows_print(&o, cols, NCOLS, rs.n, row_values, &rs);
        if (!a.co.quiet) {
            char n[4][32];
            cli_note("A: %s hosts, %s flows; B: %s hosts, %s flows",
                     cli_u64_grouped(n[0], sift_profile_count(pa, SIFT_DIFF_HOST)),
                     cli_u64_grouped(n[1], sift_profile_count(pa, SIFT_DIFF_FLOW)),
                     cli_u64_grouped(n[2], sift_profile_count(pb, SIFT_DIFF_HOST)),
                     cli_u64_grouped(n[3], sift_profile_count(pb, SIFT_DIFF_FLOW)));
        }
        if (rc == CLI_OK && damaged)
            rc = CLI_DAMAGED;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    for (size_t i = 0; i < rs.n; i++)
        free(rs.keys[i]);
    free(rs.keys);
    free(rs.v);
    sift_profile_free(pa);
    sift_profile_free(pb);
    return rc;
}
