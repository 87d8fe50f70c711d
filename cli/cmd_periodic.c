/* capsift periodic: groups of (source, destination, port) whose connections or bursts come at a
 * regular period (beacons), scored with the parts shown and RITA's subscores beside them; text,
 * JSON, and an SVG of one group's spectrum and interval histogram. */
#include "cli.h"

#include <capsift/chart.h>
#include <capsift/metapass.h>
#include <capsift/outfile.h>
#include <capsift/periodic.h>

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct periodic_args {
    bool all, force;
    int by;    /* index into by_names */
    int group; /* index into group_names */
    uint64_t top, rank, min_events, max_keys;
    int64_t gap_ns, min_period_ns;
    const char *threshold, *svg;
    double th;
    cli_common_t co;
} periodic_args_t;

static const char *const by_names[] = {"conn", "packets", NULL};
static const char *const group_names[] = {"dst", "name", NULL};

#define A(field) offsetof(periodic_args_t, field)
static const cli_opt_t periodic_opts[] = {
    {.name = "by",
     .kind = CLI_K_CHOICE,
     .offset = A(by),
     .arg = "EVENTS",
     .help = "conn: connections (flow starts, SYNs, after 60s of silence; the default), or "
             "packets: bursts of packets within flows (after 1s of silence)",
     .choices = by_names},
    {.name = "group",
     .kind = CLI_K_CHOICE,
     .offset = A(group),
     .arg = "KEY",
     .help = "dst: by source, destination and port (the default), or name: by source, server\n"
             "name (TLS server_name, HTTP Host) and port where a flow has one",
     .choices = group_names},
    {.name = "gap",
     .kind = CLI_K_DURATION,
     .offset = A(gap_ns),
     .arg = "T",
     .help = "silence after which a flow's next packet is a new event (default 60s, 1s with "
             "--by packets)",
     .min = 1000000,
     .max = 1000000000000000000},
    {.name = "threshold",
     .kind = CLI_K_STRING,
     .offset = A(threshold),
     .arg = "S",
     .help = "list groups scoring at least S, 0 to 1 (default 0.6)"},
    {.name = "all",
     .kind = CLI_K_FLAG,
     .offset = A(all),
     .help = "list every group scored, below the threshold too"},
    {.name = "min-events",
     .kind = CLI_K_COUNT,
     .offset = A(min_events),
     .arg = "N",
     .help = "groups with fewer events are not scored (default 8, at least 3)",
     .min = 3,
     .max = UINT32_MAX},
    {.name = "min-period",
     .kind = CLI_K_DURATION,
     .offset = A(min_period_ns),
     .arg = "T",
     .help = "shortest period looked for (default 2s)",
     .min = 1000000,
     .max = 1000000000000000000},
    {.name = "top",
     .kind = CLI_K_COUNT,
     .offset = A(top),
     .arg = "N",
     .help = "groups listed, highest score first (default 20; 0: all)",
     .min = 0,
     .max = SIZE_MAX,
     .like = "limit"},
    {.name = "svg",
     .kind = CLI_K_STRING,
     .offset = A(svg),
     .arg = "FILE",
     .help = "draw one group's spectrum and interval histogram into FILE (- for standard "
             "output)"},
    {.name = "rank",
     .kind = CLI_K_COUNT,
     .offset = A(rank),
     .arg = "N",
     .help = "the group --svg draws: the N-th listed (default 1, the highest score)",
     .min = 1,
     .max = SIZE_MAX},
    {.name = "force",
     .kind = CLI_K_FLAG,
     .offset = A(force),
     .help = "replace an existing --svg file"},
    {.name = "max-keys",
     .kind = CLI_K_COUNT,
     .offset = A(max_keys),
     .arg = "N",
     .help = "events kept (default 20000000, 32 bytes each); the rest are counted as 'other'",
     .min = 1,
     .max = UINT32_MAX},
};

const cli_command_t cli_cmd_periodic = {
    .name = "periodic",
    .summary = "beacons: connections or bursts that come at a regular period",
    .run = cmd_periodic,
    .usage = "capsift periodic [OPTIONS] FILE|DIR|- ...\n"
             "       capsift periodic [OPTIONS] --db FILE",
    .about = "Groups the events of the flows of capsift flows by source (the initiator),\n"
             "destination and destination port, and scores each group for a regular period:\n"
             "the events are binned and transformed (FFT), the strongest peaks are candidate\n"
             "periods verified on the autocorrelation, and the period is refined on the\n"
             "intervals. The score (0 to 1) is 0.7 sqrt(acf x regularity) + 0.15 size +\n"
             "0.15 coverage; RITA's four subscores (timestamps, data sizes, duration, hourly\n"
             "histogram) and its score are shown beside it. One report over all inputs.\n"
             "With --db, the flows of an index are the events (one each), no capture read.\n",
    .opts = periodic_opts,
    .nopts = sizeof periodic_opts / sizeof periodic_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_TIME | CLI_C_LIMITS | CLI_C_NO_CACHE |
              CLI_C_THREADS | CLI_C_DB,
    .footer = "exit status: 0 every file read whole, 1 some file damaged or unreadable (the\n"
              "results of what was read are still printed) or a limit reached, 2 usage error,\n"
              "3 failure.\n",
};

enum {
    C_SCORE,
    C_PERIOD,
    C_EVENTS,
    C_JITTER,
    C_MISSED,
    C_ACF,
    C_REG,
    C_SIZE,
    C_COVER,
    C_RITA,
    C_RTS,
    C_RDS,
    C_RDUR,
    C_RHIST,
    C_FFT,
    C_BYTES,
    C_FIRST,
    C_LAST,
    C_SRC,
    C_DST,
    C_NAME,
    C_PROTO,
    C_PORT,
    C_GROUP,
    NCOLS
};
static const cli_col_t cols[NCOLS] = {
    CLI_COL_NUM("score", "SCORE", CLI_T_F64, NULL),
    CLI_COL_NUM("period", "PERIOD", CLI_T_F64, "s"),
    CLI_COL_NUM("events", "EVENTS", CLI_T_U64, NULL),
    CLI_COL_NUM("jitter", "JITTER", CLI_T_F64, NULL),
    CLI_COL_NUM("missed", "MISSED", CLI_T_U64, NULL),
    CLI_COL_NUM("acf", "ACF", CLI_T_F64, NULL),
    CLI_COL_NUM("regularity", "REG", CLI_T_F64, NULL),
    CLI_COL_NUM("size", "SIZE", CLI_T_F64, NULL),
    CLI_COL_NUM("coverage", "COVER", CLI_T_F64, NULL),
    CLI_COL_NUM("rita", "RITA", CLI_T_F64, NULL),
    CLI_COL_NUM("rita_ts", NULL, CLI_T_F64, NULL),
    CLI_COL_NUM("rita_ds", NULL, CLI_T_F64, NULL),
    CLI_COL_NUM("rita_dur", NULL, CLI_T_F64, NULL),
    CLI_COL_NUM("rita_hist", NULL, CLI_T_F64, NULL),
    CLI_COL_NUM("fft_period", NULL, CLI_T_F64, "s"),
    CLI_COL_NUM("bytes", NULL, CLI_T_U64, "bytes"),
    CLI_COL_TIME("first_ts", NULL, "first_time"),
    CLI_COL_TIME("last_ts", NULL, "last_time"),
    CLI_COL_STR("src", NULL),
    CLI_COL_STR("dst", NULL),
    CLI_COL_STR("name", NULL),
    CLI_COL_STR("proto", NULL),
    CLI_COL_NUM("port", NULL, CLI_T_ID, NULL),
    CLI_COL_STR("group", "GROUP"),
};

typedef struct view {
    const sift_periodic_result_t *r;
    char src[64], dst[64], proto[16], group[SIFT_PERIODIC_NAME_MAX + 96];
} view_t;

static void row_values(void *user, size_t i, cli_val_t *v)
{
    view_t *w = user;
    const sift_periodic_result_t *r = &w->r[i];
    const double f[] = {r->score,   r->period,     0,           r->jitter,    0,
                        r->acf,     r->regularity, r->size,     r->coverage,  r->rita,
                        r->rita_ts, r->rita_ds,    r->rita_dur, r->rita_hist, r->fft_period};
    for (int k = C_SCORE; k <= C_FFT; k++)
        v[k] = (cli_val_t){.f = f[k], .digits = k == C_PERIOD || k == C_FFT ? 3 : 2};
    if (r->period == 0) {
        v[C_PERIOD] = v[C_FFT] = v[C_JITTER] = (cli_val_t){.null = true};
    }
    v[C_EVENTS] = (cli_val_t){.u = r->events};
    v[C_MISSED] = (cli_val_t){.u = r->missed};
    v[C_BYTES] = (cli_val_t){.u = r->bytes};
    v[C_FIRST] = (cli_val_t){.i = r->first_ns, .digits = 6};
    v[C_LAST] = (cli_val_t){.i = r->last_ns, .digits = 6};
    int ver = r->key.ip_version;
    cli_addr_str(w->src, sizeof w->src, r->key.src, ver);
    cli_addr_str(w->dst, sizeof w->dst, r->key.dst, ver);
    sift_periodic_key_name(&r->key, w->group, sizeof w->group);
    v[C_SRC] = (cli_val_t){.s = w->src};
    v[C_DST] = r->key.name[0] ? (cli_val_t){.null = true} : (cli_val_t){.s = w->dst};
    v[C_NAME] = r->key.name[0] ? (cli_val_t){.s = r->key.name} : (cli_val_t){.null = true};
    v[C_PROTO] = (cli_val_t){.s = sift_ip_proto_name(r->key.proto, w->proto, sizeof w->proto)};
    v[C_PORT] = (cli_val_t){.u = r->key.port};
    v[C_GROUP] = (cli_val_t){.s = w->group};
}

/* The chart of one group: its spectrum over period, its intervals' histogram. */
static int draw(FILE *out, const sift_periodic_t *p, const sift_periodic_result_t *r,
                const sift_periodic_opts_t *o, const char *path)
{
    sift_periodic_detail_t d;
    int rc = sift_periodic_detail(p, &r->key, o, &d);
    if (rc < 0) {
        cli_error("%s: %s", path, rc == SIFT_ENOMEM ? "out of memory" : "nothing to draw");
        return rc == SIFT_ENOMEM ? CLI_FAILED : CLI_DAMAGED;
    }
    char name[SIFT_PERIODIC_NAME_MAX + 96], t1[SIFT_PERIODIC_NAME_MAX + 160],
        t2[SIFT_PERIODIC_NAME_MAX + 160];
    sift_periodic_key_name(&r->key, name, sizeof name);
    /* the spectrum from the lowest frequency with three periods in the span */
    size_t n = d.nbins > 1 ? d.nbins - 1 : 1;
    double *fx = malloc(n * sizeof *fx), *fy = malloc(n * sizeof *fy);
    size_t nh = 60;
    double *hx = malloc(nh * sizeof *hx), *hy = calloc(nh, sizeof *hy);
    size_t mark = 0;
    rc = CLI_OK;
    if (!fx || !fy || !hx || !hy) {
        cli_error("%s: out of memory", path);
        rc = CLI_FAILED;
        goto out;
    }
    double df = 1 / ((double)d.n * d.bin);
    for (size_t k = 1; k <= n; k++) {
        fx[k - 1] = (double)k * df;
        fy[k - 1] = d.power[k < d.nbins ? k : d.nbins - 1];
    }
    if (r->period > 0) {
        double k = 1 / r->period / df;
        mark = k < 1 ? 0 : (size_t)llround(k) - 1;
        mark = mark < n ? mark : n - 1;
    }
    double hi = d.intervals[d.nintervals - 1] * 1.0001;
    double w = hi / (double)nh;
    for (size_t i = 0; i < nh; i++)
        hx[i] = ((double)i + 0.5) * w;
    for (size_t i = 0; i < d.nintervals; i++) {
        size_t b = w > 0 ? (size_t)(d.intervals[i] / w) : 0;
        hy[b < nh ? b : nh - 1] += 1;
    }
    if (r->period > 0)
        snprintf(t1, sizeof t1, "%s: spectrum of the events (period %.3f s marked)", name,
                 r->period);
    else
        snprintf(t1, sizeof t1, "%s: spectrum of the events (no period)", name);
    snprintf(t2, sizeof t2, "%s: intervals between events (%zu)", name, d.nintervals);
    sift_chart_series_t s1 = {.name = "power",
                              .x = fx,
                              .y = fy,
                              .n = n,
                              .marks = r->period > 0 ? &mark : NULL,
                              .nmarks = r->period > 0};
    sift_chart_series_t s2 = {.name = "intervals", .x = hx, .y = hy, .n = nh};
    sift_chart_t charts[2] = {{.title = t1,
                               .y_label = "power",
                               .x_kind = SIFT_CHART_X_LINEAR,
                               .x_label = "frequency",
                               .x_unit = "Hz",
                               .marks_label = "period found",
                               .series = &s1,
                               .nseries = 1},
                              {.title = t2,
                               .y_label = "intervals",
                               .x_kind = SIFT_CHART_X_LINEAR,
                               .x_label = "interval",
                               .x_unit = "s",
                               .series = &s2,
                               .nseries = 1}};
    if (sift_chart_svg_stack(out, charts, 2) < 0)
        rc = CLI_FAILED;
out:
    free(fx);
    free(fy);
    free(hx);
    free(hy);
    sift_periodic_detail_free(&d);
    return rc;
}

static int report(FILE *out, const sift_periodic_t *p, const periodic_args_t *a,
                  const sift_periodic_opts_t *o, sift_periodic_result_t **res, size_t *nshown)
{
    sift_periodic_summary_t s;
    sift_periodic_summary(p, &s);
    int64_t n = sift_periodic_analyze(p, o, res);
    if (n < 0) {
        cli_error("out of memory for the analysis");
        return CLI_FAILED;
    }
    size_t above = 0;
    while (above < (size_t)n && (*res)[above].score >= a->th)
        above++;
    size_t shown = a->all ? (size_t)n : above;
    if (a->top && shown > a->top)
        shown = (size_t)a->top;
    *nshown = shown;
    bool json = a->co.format == CLI_FORMAT_JSON;
    char b1[32], b2[32], b3[32], b4[48];
    if (json) {
        cli_json_t j;
        cli_json_begin(&j, out);
        cli_json_str(&j, "by", by_names[s.by]);
        cli_json_str(&j, "group", group_names[s.by_name]);
        cli_json_seconds(&j, "gap", s.gap_ns, 3);
        cli_json_u64(&j, "packets", s.packets);
        if (s.first_ns <= s.last_ns) {
            cli_json_time(&j, "first_ts", "first_time", s.first_ns, 6);
            cli_json_time(&j, "last_ts", "last_time", s.last_ns, 6);
        }
        cli_json_u64(&j, "events", s.events);
        cli_json_u64(&j, "other_events", s.other_events);
        cli_json_u64(&j, "groups", s.groups);
        cli_json_u64(&j, "scored", (uint64_t)n);
        cli_json_f64(&j, "threshold", a->th, -1);
        cli_json_u64(&j, "above", above);
        cli_json_end(&j);
    } else {
        cli_human_duration(b4, sizeof b4, s.gap_ns, 3);
        fprintf(out, "Packets:    %s\nEvents:     %s (%s, gap %s) in %s groups\n",
                cli_u64_grouped(b1, s.packets), cli_u64_grouped(b2, s.events), by_names[s.by], b4,
                cli_u64_grouped(b3, s.groups));
        if (s.other_events)
            fprintf(out, "            (%s events past --max-keys are left out)\n",
                    cli_u64_grouped(b1, s.other_events));
        fprintf(out, "Scored:     %s groups with %zu events or more; %s at %.2f or above\n\n",
                cli_u64_grouped(b1, (uint64_t)n), o->min_events, cli_u64_grouped(b2, above), a->th);
        if (shown == 0)
            fputs(a->all ? "  (no group scored)\n" : "  (no group above the threshold)\n", out);
    }
    view_t v = {.r = *res};
    cli_out_t co = {.out = out,
                    .fmt = json ? CLI_FORMAT_JSON : CLI_FORMAT_TABLE,
                    .time = (cli_time_format_t)a->co.time_format,
                    .indent = "  "};
    int rc = shown || json ? cli_rows_print(&co, cols, NCOLS, shown, row_values, &v) : CLI_OK;
    if (!json)
        fputc('\n', out);
    return rc;
}

typedef struct index_walk {
    sift_periodic_t *p;
    uint8_t slot[2];  /* of TLS's server_name and HTTP's host in a row's strings */
    uint64_t no_meta; /* flows of files indexed without metadata (no names) */
} index_walk_t;

/* A flow of the index as an event, with the server name of its first TLS or HTTP row. */
static int add_flow(void *user, const sift_index_flow_t *f)
{
    index_walk_t *w = user;
    const char *name = NULL;
    w->no_meta += !f->meta;
    for (size_t i = 0; i < f->nrows && !name; i++) {
        const sift_meta_row_t *r = f->rows[i];
        unsigned slot = r->proto == SIFT_META_TLS ? w->slot[0] : w->slot[1];
        if ((r->proto == SIFT_META_TLS || r->proto == SIFT_META_HTTP) && slot < SIFT_META_NSTR &&
            r->str[slot] && r->str[slot][0])
            name = r->str[slot];
    }
    int rc = sift_periodic_add_flow(w->p, f->flow, name);
    return rc == SIFT_ENOMEM ? rc : 0; /* past --max-keys: counted, and the walk goes on */
}

/* The events of an index's flows (--db): each flow one event (sift_periodic_add_flow), the span
 * that of its files. *out is a state to free with sift_pass_state_free. */
static int index_events(const periodic_args_t *a, const sift_periodic_config_t *cfg,
                        sift_periodic_t **out)
{
    *out = NULL;
    if (a->co.nargs > 0 || a->co.reads.n > 0) {
        cli_error("give either captures or --db, not both (see 'capsift periodic --help')");
        return CLI_USAGE;
    }
    if (a->co.filter || a->by == SIFT_PERIODIC_PACKETS || a->gap_ns) {
        cli_error("%s needs the packets of captures; an index (--db) has flows, not packets",
                  a->co.filter ? "-f"
                  : a->gap_ns  ? "--gap"
                               : "--by packets");
        return CLI_USAGE;
    }
    sift_ctx_t *ctx = NULL;
    sift_index_t *ix = NULL;
    void *st = NULL;
    if (sift_ctx_create(&ctx) < 0 || sift_pass_state_new(&sift_periodic_pass, cfg, &st) < 0) {
        cli_error("out of memory");
        sift_ctx_free(ctx);
        return CLI_FAILED;
    }
    int rc = cli_index_open(ctx, a->co.db, &ix);
    sift_index_span_t span;
    int err = rc != CLI_OK ? 0 : sift_index_span(ix, &span);
    if (rc == CLI_OK && err == 0) {
        sift_periodic_add_span(st, span.timed ? span.first_ns : 1, span.timed ? span.last_ns : 0,
                               span.packets);
        index_walk_t w = {.p = st,
                          .slot = {sift_meta_field_slot(SIFT_META_TLS, "server_name"),
                                   sift_meta_field_slot(SIFT_META_HTTP, "host")}};
        err = sift_index_flows(
            ix, NULL, cfg->by_name ? 1u << SIFT_META_TLS | 1u << SIFT_META_HTTP : 0, add_flow, &w);
        if (err == 0 && cfg->by_name && w.no_meta) {
            char n[32];
            cli_note("%s: %s flows are of files indexed without metadata (--no-meta): they are "
                     "grouped by destination",
                     a->co.db, cli_u64_grouped(n, w.no_meta));
        }
    }
    if (err < 0) {
        cli_error("%s: %s", a->co.db, err == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
        rc = err == SIFT_EINVAL ? CLI_USAGE : CLI_FAILED;
    }
    const char *msg;
    if (rc == CLI_OK && sift_pass_status(st, &msg) < 0) {
        cli_note("%s: %s", a->co.db, msg);
        rc = CLI_DAMAGED;
    }
    sift_index_close(ix);
    sift_ctx_free(ctx);
    if (rc >= CLI_USAGE) {
        sift_pass_state_free(&sift_periodic_pass, st);
        return rc;
    }
    *out = st;
    return rc;
}

int cmd_periodic(int argc, char **argv)
{
    periodic_args_t a = {.top = 20, .rank = 1};
    int prc = cli_parse(&cli_cmd_periodic, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    a.th = 0.6;
    if (a.threshold && !cli_parse_real("threshold", a.threshold, 0, 1, &a.th))
        return CLI_USAGE;
    if (a.force && !a.svg) {
        cli_error("--force replaces an --svg file; there is none");
        return CLI_USAGE;
    }
    sift_periodic_config_t cfg = {.by = (sift_periodic_by_t)a.by,
                                  .by_name = a.group == 1,
                                  .gap_ns = a.gap_ns,
                                  .max_events = (size_t)a.max_keys};
    sift_periodic_opts_t po = {.min_events = (size_t)a.min_events,
                               .min_period = (double)a.min_period_ns / 1e9};
    if (!po.min_events)
        po.min_events = SIFT_PERIODIC_DEFAULT_MIN_EVENTS;
    sift_flows_config_t flows = {.no_app = true};
    flows.table.max_flows = cli_flow_cap(&a.co.limits, false);
    sift_ctx_t *octx;
    sift_outfile_t *of;
    sift_periodic_t *own = NULL; /* the events of an index (--db) */
    int rc = a.co.db_given ? index_events(&a, &cfg, &own) : CLI_OK;
    if (rc >= CLI_USAGE)
        return rc;
    int orc = cli_svg_begin(&a.co, a.svg, a.force, &octx, &of);
    if (orc != CLI_OK) {
        sift_pass_state_free(&sift_periodic_pass, own);
        return orc;
    }
    FILE *out = a.svg && strcmp(a.svg, "-") == 0 ? stderr : stdout;
    cli_run_t run = {0};
    cli_run_opts_t ro = {.pass = &sift_periodic_pass,
                         .config = &cfg,
                         .flows = &flows,
                         .totals = true,
                         .cache = true};
    if (a.co.db_given) {
        if (cli_cache_wanted(&a.co) && sift_ctx_create(&run.ctx) == 0)
            cli_cache_open(run.ctx, &run.cache);
    } else {
        rc = cli_run(&run, &ro, &a.co);
        if (rc == CLI_OK)
            rc = cli_report_inputs(run.e, &a.co.limits);
    }
    sift_periodic_result_t *res = NULL;
    if (rc < CLI_USAGE) {
        const sift_periodic_t *p = own ? own : sift_engine_total(run.e, run.pass);
        po.cache = run.cache;
        size_t shown = 0;
        if (p) {
            int r = report(out, p, &a, &po, &res, &shown);
            rc = r > rc ? r : rc;
        }
        if (of && rc < CLI_USAGE) {
            int r;
            if (!p || a.rank > shown) {
                cli_error("%s: no group ranked %llu to draw (%zu listed)", a.svg,
                          (unsigned long long)a.rank, shown);
                r = cli_outfile_end(octx, of, CLI_DAMAGED);
            } else {
                r = cli_outfile_end(octx, of,
                                    draw(sift_outfile_stream(of), p, &res[a.rank - 1], &po, a.svg));
            }
            of = NULL;
            rc = r > rc ? r : rc;
        }
    }
    sift_outfile_abort(of);
    free(res);
    if (fflush(out) != 0 || ferror(out)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    cli_run_free(&run);
    sift_pass_state_free(&sift_periodic_pass, own);
    sift_ctx_free(octx);
    return rc;
}
