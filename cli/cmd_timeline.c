/* capsift timeline: packet and byte rates per interval, their sliding-window statistics and
 * the intervals that stand out, in total or per host, flow, port or application; text, JSON
 * and an SVG chart. */
#include "cli.h"

#include <capsift/chart.h>
#include <capsift/outfile.h>
#include <capsift/timeline.h>

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct timeline_args {
    bool total, flagged, force;
    int by, metric; /* indices into by_names, metric_names */
    uint64_t top, max_keys;
    int64_t interval_ns, window_ns;
    const char *z, *percentile, *svg;
    double zv, pv;
    cli_common_t co;
} timeline_args_t;

static const char *const by_names[] = {"total", "host", "flow", "port", "app", NULL};
static const char *const metric_names[] = {"bytes", "packets", NULL};

#define A(field) offsetof(timeline_args_t, field)
static const cli_opt_t timeline_opts[] = {
    {.name = "interval",
     .kind = CLI_K_DURATION,
     .offset = A(interval_ns),
     .arg = "T",
     .help = "interval: 1s, 500ms, 1m, 1h ... (default 1s)",
     .min = 1000,
     .max = 1000000000000000000},
    {.name = "window",
     .kind = CLI_K_DURATION,
     .offset = A(window_ns),
     .arg = "T",
     .help = "sliding window of the statistics (default 60 intervals, 60s at the default "
             "--interval; whole intervals, at least one)",
     .min = 1000,
     .max = 1000000000000000000},
    {.name = "by",
     .kind = CLI_K_CHOICE,
     .offset = A(by),
     .arg = "KEY",
     .help = "also per group: host (IP address), flow, port (tcp/443) or app (nDPI's name)",
     .choices = by_names},
    {.name = "z",
     .kind = CLI_K_STRING,
     .offset = A(z),
     .arg = "Z",
     .help = "flag intervals more than Z standard deviations from the window before them "
             "(default 3)"},
    {.name = "percentile",
     .kind = CLI_K_STRING,
     .offset = A(percentile),
     .arg = "P",
     .help = "the window's percentile shown (0 < P <= 100, default 95)"},
    {.name = "metric",
     .kind = CLI_K_CHOICE,
     .offset = A(metric),
     .arg = "M",
     .help = "what the text table, the flags shown and the chart are about: bytes (as bit/s, "
             "the default) or packets (pkt/s)",
     .choices = metric_names},
    {.name = "flagged",
     .kind = CLI_K_FLAG,
     .offset = A(flagged),
     .help = "only the flagged intervals (text and JSON)"},
    {.name = "top",
     .kind = CLI_K_COUNT,
     .offset = A(top),
     .arg = "N",
     .help = "groups shown with --by, largest by bytes first (default 10; 0: all)",
     .min = 0,
     .max = SIZE_MAX,
     .like = "limit"},
    {.name = "total",
     .kind = CLI_K_FLAG,
     .offset = A(total),
     .help = "one report over all files instead of one per file"},
    {.name = "svg",
     .kind = CLI_K_STRING,
     .offset = A(svg),
     .arg = "FILE",
     .help = "also draw the rates as an SVG chart into FILE (all files together; - for "
             "standard output)"},
    {.name = "force",
     .kind = CLI_K_FLAG,
     .offset = A(force),
     .help = "replace an existing --svg file"},
    {.name = "max-keys",
     .kind = CLI_K_COUNT,
     .offset = A(max_keys),
     .arg = "N",
     .help = "(group, interval) counts kept (default 4000000); the rest are summed as 'other'",
     .min = 1,
     .max = UINT32_MAX},
};

const cli_command_t cli_cmd_timeline = {
    .name = "timeline",
    .summary = "packet and byte rates over time, window statistics and flagged intervals",
    .run = cmd_timeline,
    .usage = "capsift timeline [OPTIONS] FILE|DIR|- ...",
    .about = "Counts packets and bytes (on the wire) per interval, from the first interval with\n"
             "a packet to the last, empty ones as zero; intervals start at multiples of the\n"
             "interval since the Unix epoch. Over a sliding window of the intervals up to each\n"
             "one it gives the rate's mean, standard deviation, least, greatest and a percentile,\n"
             "and flags an interval more than --z standard deviations from the mean of the\n"
             "window before it (a deviation below one packet or byte counts as one). With --by,\n"
             "the same per host, flow, port or application, built on the flows of capsift\n"
             "flows. One report per file.\n",
    .opts = timeline_opts,
    .nopts = sizeof timeline_opts / sizeof timeline_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_TIME | CLI_C_LIMITS | CLI_C_NO_CACHE |
              CLI_C_THREADS,
    .footer = "exit status: 0 every file read whole, 1 some file damaged or unreadable (its\n"
              "partial results are still printed) or a limit reached, 2 usage error, 3 failure.\n",
};

/* What one report shows of a series. */
typedef struct view {
    const timeline_args_t *a;
    sift_timeline_point_t *p;
    size_t n;
    const size_t *rows; /* with --flagged: the indices shown; NULL: all */
    size_t nrows;
    int64_t interval_ns;
    int digits;
    char then[64]; /* the text of a row's repeat */
} view_t;

static bool flagged(const view_t *v, const sift_timeline_point_t *p)
{
    unsigned m = v->a->metric == 1 ? SIFT_TIMELINE_HIGH_PACKETS | SIFT_TIMELINE_LOW_PACKETS
                                   : SIFT_TIMELINE_HIGH_BYTES | SIFT_TIMELINE_LOW_BYTES;
    return (p->flags & m) != 0;
}

static const char *flag_word(unsigned flags, unsigned high, unsigned low)
{
    return flags & high ? "high" : flags & low ? "low" : NULL;
}

enum {
    C_START,
    C_PACKETS,
    C_BYTES,
    C_RATE,
    C_MEAN,
    C_SD,
    C_MIN,
    C_MAX,
    C_PCT,
    C_Z,
    C_FLAG,
    C_THEN
};
/* The text table's columns: the rates of the metric in its unit. */
#define TIMELINE_COLS(rate_key, unit)                                                              \
    {                                                                                              \
        CLI_COL_TIME("start_ts", "START", "start_time"),                                           \
            CLI_COL_NUM("packets", "PACKETS", CLI_T_U64, "packets"),                               \
            CLI_COL_NUM("bytes", "BYTES", CLI_T_U64, "bytes"),                                     \
            CLI_COL_NUM(rate_key, "RATE", CLI_T_F64, unit),                                        \
            CLI_COL_NUM("mean", "MEAN", CLI_T_F64, unit),                                          \
            CLI_COL_NUM("sd", "SD", CLI_T_F64, unit), CLI_COL_NUM("min", "MIN", CLI_T_F64, unit),  \
            CLI_COL_NUM("max", "MAX", CLI_T_F64, unit),                                            \
            CLI_COL_NUM("pct", "PCT", CLI_T_F64, unit), CLI_COL_NUM("z", "Z", CLI_T_F64, NULL),    \
            CLI_COL_STR("flag", "FLAG"), CLI_COL_STR("then", "THEN"),                              \
    }
static const cli_col_t bytes_cols[] = TIMELINE_COLS("bits_per_s", "bit/s");
static const cli_col_t packets_cols[] = TIMELINE_COLS("packets_per_s", "pkt/s");
#define NCOLS (sizeof bytes_cols / sizeof bytes_cols[0])

/* A count per interval as a rate: bit/s for bytes, pkt/s for packets. */
static double rate(const view_t *v, double per_interval)
{
    return per_interval * (v->a->metric == 1 ? 1 : 8) / ((double)v->interval_ns / 1e9);
}

static void row_values(void *user, size_t i, cli_val_t *val)
{
    view_t *v = user;
    const sift_timeline_point_t *p = &v->p[v->rows ? v->rows[i] : i];
    bool pk = v->a->metric == 1;
    const sift_timeline_stat_t *s = pk ? &p->wp : &p->wb;
    val[C_START] = (cli_val_t){.i = p->idx * v->interval_ns, .digits = (uint8_t)v->digits};
    val[C_PACKETS] = (cli_val_t){.u = p->packets};
    val[C_BYTES] = (cli_val_t){.u = p->bytes};
    val[C_RATE] = (cli_val_t){.f = rate(v, pk ? (double)p->packets : (double)p->bytes)};
    const double w[] = {s->mean, s->sd, s->min, s->max, s->pct};
    for (int k = 0; k < 5; k++)
        val[C_MEAN + k] = isnan(w[k]) ? (cli_val_t){.null = true} : (cli_val_t){.f = rate(v, w[k])};
    val[C_Z] = isnan(s->z) ? (cli_val_t){.null = true} : (cli_val_t){.f = s->z, .digits = 2};
    const char *f = pk ? flag_word(p->flags, SIFT_TIMELINE_HIGH_PACKETS, SIFT_TIMELINE_LOW_PACKETS)
                       : flag_word(p->flags, SIFT_TIMELINE_HIGH_BYTES, SIFT_TIMELINE_LOW_BYTES);
    val[C_FLAG] = f ? (cli_val_t){.s = f} : (cli_val_t){.null = true};
    val[C_THEN] = (cli_val_t){.null = true};
    if (p->repeat) {
        char n[32];
        snprintf(v->then, sizeof v->then, "%s more the same", cli_u64_grouped(n, p->repeat));
        val[C_THEN] = (cli_val_t){.s = v->then};
    }
}

static void json_stat(cli_json_t *j, const char *key, const sift_timeline_stat_t *s)
{
    cli_json_open(j, key, '{');
    const char *names[] = {"mean", "sd", "min", "max", "pct", "z"};
    const double w[] = {s->mean, s->sd, s->min, s->max, s->pct, s->z};
    for (int k = 0; k < 6; k++)
        cli_json_f64(j, names[k], w[k], 6); /* NaN: null */
    cli_json_close(j);
}

/* A series as a JSON array of points: counts, both rates' window statistics (per interval,
 * not per second), and the flags. */
static void json_series(cli_json_t *j, const view_t *v)
{
    cli_json_open(j, "series", '[');
    for (size_t r = 0; r < (v->rows ? v->nrows : v->n); r++) {
        const sift_timeline_point_t *p = &v->p[v->rows ? v->rows[r] : r];
        cli_json_open(j, NULL, '{');
        cli_json_time(j, "start_ts", "start_time", p->idx * v->interval_ns, v->digits);
        cli_json_u64(j, "packets", p->packets);
        cli_json_u64(j, "bytes", p->bytes);
        json_stat(j, "window_packets", &p->wp);
        json_stat(j, "window_bytes", &p->wb);
        cli_json_u64(j, "repeat", p->repeat);
        const char *fp = flag_word(p->flags, SIFT_TIMELINE_HIGH_PACKETS, SIFT_TIMELINE_LOW_PACKETS);
        const char *fb = flag_word(p->flags, SIFT_TIMELINE_HIGH_BYTES, SIFT_TIMELINE_LOW_BYTES);
        if (fp)
            cli_json_str(j, "flag_packets", fp);
        else
            cli_json_null(j, "flag_packets");
        if (fb)
            cli_json_str(j, "flag_bytes", fb);
        else
            cli_json_null(j, "flag_bytes");
        cli_json_close(j);
    }
    cli_json_close(j);
}

/* The series of group id into *v (its rows with --flagged); CLI_OK or the exit code after a
 * message. */
static int load_series(const sift_timeline_t *t, uint32_t id, const timeline_args_t *a,
                       const char *title, view_t *v, size_t **rows)
{
    sift_timeline_summary_t s;
    sift_timeline_summary(t, &s);
    sift_timeline_window_t w = {.window_ns = a->window_ns, .z = a->zv, .percentile = a->pv};
    sift_timeline_point_t *p;
    size_t n;
    int rc = sift_timeline_series(t, id, &w, &p, &n);
    if (rc == SIFT_ELIMIT) {
        cli_error("%s: --window holds more than %u intervals of the span; choose a shorter "
                  "--window or a longer --interval",
                  title, SIFT_TIMELINE_MAX_WINDOW);
        return CLI_USAGE;
    }
    if (rc < 0) {
        cli_error("%s: out of memory for the series", title);
        return CLI_FAILED;
    }
    *v = (view_t){.a = a,
                  .p = p,
                  .n = n,
                  .interval_ns = s.interval_ns,
                  .digits = cli_interval_digits(s.interval_ns)};
    *rows = NULL;
    if (a->flagged) {
        *rows = malloc((n ? n : 1) * sizeof **rows);
        if (!*rows) {
            free(p);
            cli_error("%s: out of memory for the series", title);
            return CLI_FAILED;
        }
        for (size_t i = 0; i < n; i++)
            if (flagged(v, &p[i]))
                (*rows)[v->nrows++] = i;
        v->rows = *rows;
    }
    return CLI_OK;
}

static size_t count_flagged(const view_t *v)
{
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++)
        k += flagged(v, &v->p[i]) ? 1 + v->p[i].repeat : 0;
    return k;
}

static int print_table(FILE *out, view_t *v, const timeline_args_t *a)
{
    cli_out_t o = {.out = out,
                   .fmt = CLI_FORMAT_TABLE,
                   .time = (cli_time_format_t)a->co.time_format,
                   .indent = "  ",
                   .base = v->n ? v->p[0].idx * v->interval_ns : 0};
    return cli_rows_print(&o, a->metric == 1 ? packets_cols : bytes_cols, NCOLS,
                          v->rows ? v->nrows : v->n, row_values, v);
}

/* One report: the totals' series, then the groups. */
static int print_report(FILE *out, const char *title, const sift_timeline_t *t,
                        const timeline_args_t *a)
{
    bool json = a->co.format == CLI_FORMAT_JSON;
    sift_timeline_summary_t s;
    sift_timeline_summary(t, &s);
    view_t v;
    size_t *rows;
    int rc = load_series(t, 0, a, title, &v, &rows);
    if (rc != CLI_OK)
        return rc;
    char b1[48], b2[48], b3[32], b4[32];
    int64_t wl = a->window_ns / s.interval_ns;
    unsigned long long wint = wl < 1 ? 1 : (unsigned long long)wl;
    cli_json_t j;
    if (json) {
        cli_json_begin(&j, out);
        cli_json_str(&j, "file", title);
        cli_json_u64(&j, "packets", s.packets);
        cli_json_u64(&j, "bytes", s.bytes);
        cli_json_u64(&j, "no_ts_packets", s.no_ts_packets);
        cli_json_seconds(&j, "interval", s.interval_ns, v.digits);
        cli_json_u64(&j, "window_intervals", wint);
        cli_json_f64(&j, "z", a->zv, -1);
        cli_json_f64(&j, "percentile", a->pv, -1);
        cli_json_str(&j, "by", by_names[a->by]);
        json_series(&j, &v);
    } else {
        cli_human_duration(b1, sizeof b1, s.interval_ns, v.digits);
        fprintf(out, "File:       %s\nPackets:    %s\nBytes:      %s\nInterval:   %s\n", title,
                cli_u64_grouped(b3, s.packets), cli_u64_grouped(b4, s.bytes), b1);
        fprintf(out,
                "Window:     %llu intervals; flagged beyond %g standard deviations; "
                "percentile %g\n",
                wint, a->zv, a->pv);
        if (v.n) {
            char t0[64], t1[64];
            cli_time_str(t0, sizeof t0, v.p[0].idx * s.interval_ns, v.digits, CLI_TIME_ISO, 0);
            cli_time_str(t1, sizeof t1, v.p[v.n - 1].idx * s.interval_ns, v.digits, CLI_TIME_ISO,
                         0);
            fprintf(out, "Intervals:  %s, %s to %s; %s flagged (%s)\n",
                    cli_u64_grouped(b3, (uint64_t)(s.last_idx - s.first_idx) + 1), t0, t1,
                    cli_u64_grouped(b4, count_flagged(&v)), metric_names[a->metric]);
        }
        if (s.no_ts_packets)
            fprintf(out, "            (%s packets without a timestamp are in no interval)\n",
                    cli_u64_grouped(b3, s.no_ts_packets));
        if (a->by == 0 || a->flagged) {
            fputs(a->flagged ? "\nFlagged intervals:\n" : "\nTimeline:\n", out);
            if (a->flagged && !v.nrows)
                fputs("  (none)\n", out);
            else if (print_table(out, &v, a) != CLI_OK)
                rc = CLI_FAILED;
        }
    }
    free(v.p);
    free(rows);
    if (a->by) {
        sift_timeline_group_t *g = NULL;
        int64_t ng = sift_timeline_groups(t, (size_t)a->top, &g);
        if (ng < 0) {
            cli_error("%s: out of memory for the groups", title);
            ng = 0;
            rc = CLI_FAILED;
        }
        if (json)
            cli_json_open(&j, "groups", '[');
        else
            fprintf(out, "\nGroups by %s (%s of %s, largest by bytes first):\n", by_names[a->by],
                    cli_u64_grouped(b3, (uint64_t)ng), cli_u64_grouped(b4, s.ngroups));
        for (int64_t k = 0; k < ng && rc == CLI_OK; k++) {
            char name[160];
            sift_timeline_group_name(&g[k], name, sizeof name);
            rc = load_series(t, g[k].id, a, title, &v, &rows);
            if (rc != CLI_OK)
                break;
            if (json) {
                cli_json_open(&j, NULL, '{');
                cli_json_str(&j, "group", name);
                cli_json_u64(&j, "packets", g[k].packets);
                cli_json_u64(&j, "bytes", g[k].bytes);
                json_series(&j, &v);
                cli_json_close(&j);
            } else {
                double peak = 0;
                for (size_t i = 0; i < v.n; i++) {
                    double x = a->metric == 1 ? (double)v.p[i].packets : (double)v.p[i].bytes;
                    peak = x > peak ? x : peak;
                }
                fprintf(out, "\n  %s: %s packets, %s bytes, peak %s, %s flagged\n", name,
                        cli_u64_grouped(b3, g[k].packets), cli_u64_grouped(b4, g[k].bytes),
                        cli_human_rate(b1, sizeof b1, rate(&v, peak),
                                       a->metric == 1 ? "pkt/s" : "bit/s"),
                        cli_u64_grouped(b2, count_flagged(&v)));
                if (a->flagged && v.nrows && print_table(out, &v, a) != CLI_OK)
                    rc = CLI_FAILED;
            }
            free(v.p);
            free(rows);
        }
        free(g);
        if (json)
            cli_json_close(&j);
    }
    if (json) {
        cli_json_open(&j, "other", '{');
        cli_json_u64(&j, "packets", s.other_packets);
        cli_json_u64(&j, "bytes", s.other_bytes);
        cli_json_end(&j);
    } else {
        if (s.other_packets)
            fprintf(out, "\n  (other, past --max-keys: %s packets)\n",
                    cli_u64_grouped(b3, s.other_packets));
        fputc('\n', out);
    }
    return rc;
}

/* The chart: the total rate with its window mean and flagged intervals, or the top groups.
 * Every series has a point per interval; a point that stands for a run of equal intervals
 * (repeat) is drawn at both ends of the run. */
typedef struct line {
    double *x, *y;
    size_t *marks;
    size_t n, nmarks;
} line_t;

static bool line_fill(line_t *l, const view_t *v, bool mean)
{
    size_t n = 0;
    for (size_t i = 0; i < v->n; i++)
        n += 1 + (v->p[i].repeat > 0);
    l->x = malloc((n ? n : 1) * sizeof *l->x);
    l->y = malloc((n ? n : 1) * sizeof *l->y);
    l->marks = malloc((n ? n : 1) * sizeof *l->marks);
    if (!l->x || !l->y || !l->marks)
        return false;
    bool pk = v->a->metric == 1;
    for (size_t i = 0; i < v->n; i++) {
        const sift_timeline_point_t *p = &v->p[i];
        const sift_timeline_stat_t *st = pk ? &p->wp : &p->wb;
        double y = rate(v, mean ? st->mean : pk ? (double)p->packets : (double)p->bytes);
        if (!mean && flagged(v, p))
            l->marks[l->nmarks++] = l->n;
        l->x[l->n] = (double)p->idx * (double)v->interval_ns;
        l->y[l->n++] = y;
        if (p->repeat) {
            l->x[l->n] = (double)(p->idx + (int64_t)p->repeat) * (double)v->interval_ns;
            l->y[l->n++] = y;
        }
    }
    return true;
}

static int draw(FILE *out, const sift_timeline_t *t, const timeline_args_t *a, const char *title)
{
    enum { MAX_LINES = 8 };
    sift_timeline_summary_t s;
    sift_timeline_summary(t, &s);
    sift_timeline_group_t *g = NULL;
    int64_t ng = 0;
    if (a->by && (ng = sift_timeline_groups(t, MAX_LINES, &g)) < 0) {
        cli_error("%s: out of memory for the chart", title);
        return CLI_FAILED;
    }
    /* the groups, or (none asked for or found) the totals twice: rate and window mean */
    size_t nlines = ng ? (size_t)ng : 2;
    sift_chart_series_t ser[MAX_LINES] = {{0}};
    line_t lines[MAX_LINES] = {{0}};
    char names[MAX_LINES][160];
    bool pk = a->metric == 1;
    int rc = CLI_OK;
    for (size_t l = 0; l < nlines && rc == CLI_OK; l++) {
        bool mean = !ng && l == 1;
        view_t v;
        size_t *rows;
        timeline_args_t all = *a;
        all.flagged = false; /* the chart shows every interval */
        rc = load_series(t, ng ? g[l].id : 0, &all, title, &v, &rows);
        if (rc != CLI_OK)
            break;
        free(rows);
        if (!line_fill(&lines[l], &v, mean)) {
            cli_error("%s: out of memory for the chart", title);
            rc = CLI_FAILED;
        }
        free(v.p);
        if (ng)
            sift_timeline_group_name(&g[l], names[l], sizeof names[l]);
        else
            snprintf(names[l], sizeof names[l], mean ? "window mean" : "total");
        ser[l] = (sift_chart_series_t){.name = names[l],
                                       .x = lines[l].x,
                                       .y = lines[l].y,
                                       .n = lines[l].n,
                                       .dashed = mean,
                                       .marks = lines[l].marks,
                                       .nmarks = lines[l].nmarks};
    }
    if (rc == CLI_OK && lines[0].n) {
        char ctitle[200], d[48];
        cli_human_duration(d, sizeof d, s.interval_ns, cli_interval_digits(s.interval_ns));
        snprintf(ctitle, sizeof ctitle, "%s, intervals of %s%s%s", pk ? "Packet rate" : "Bit rate",
                 d, ng ? " by " : "", ng ? by_names[a->by] : "");
        sift_chart_t c = {.title = ctitle,
                          .y_label = pk ? "packet rate" : "bit rate",
                          .y_unit = pk ? "pkt/s" : "bit/s",
                          .x_kind = SIFT_CHART_X_TIME,
                          .marks_label = "flagged",
                          .series = ser,
                          .nseries = nlines};
        if (sift_chart_svg(out, &c) < 0) {
            cli_error("%s: cannot write the chart", title);
            rc = CLI_FAILED;
        }
    } else if (rc == CLI_OK) {
        cli_error("%s: no packet with a timestamp: no chart to draw", title);
        rc = CLI_DAMAGED;
    }
    for (size_t l = 0; l < MAX_LINES; l++) {
        free(lines[l].x);
        free(lines[l].y);
        free(lines[l].marks);
    }
    free(g);
    return rc;
}

/* The chart of the run: of its one input, or of the total of several. */
static int write_svg(const timeline_args_t *a, sift_outfile_t *of, const sift_engine_t *e, int pass)
{
    const sift_timeline_t *t =
        sift_engine_ninputs(e) == 1 ? sift_engine_state(e, 0, pass) : sift_engine_total(e, pass);
    if (!t) {
        cli_error("%s: nothing read to draw", a->svg);
        return CLI_DAMAGED;
    }
    return draw(sift_outfile_stream(of), t, a, a->svg);
}

int cmd_timeline(int argc, char **argv)
{
    timeline_args_t a = {.top = 10};
    int prc = cli_parse(&cli_cmd_timeline, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    a.zv = 3;
    a.pv = 95;
    if ((a.z && !cli_parse_real("z", a.z, 1e-9, 1e9, &a.zv)) ||
        (a.percentile && !cli_parse_real("percentile", a.percentile, 1e-9, 100, &a.pv)))
        return CLI_USAGE;
    if (a.force && !a.svg) {
        cli_error("--force replaces an --svg file; there is none");
        return CLI_USAGE;
    }
    sift_timeline_config_t cfg = {.interval_ns = a.interval_ns,
                                  .by = (sift_timeline_by_t)a.by,
                                  .max_cells = (size_t)a.max_keys};
    int64_t ivl = cfg.interval_ns ? cfg.interval_ns : 1000000000;
    if (a.window_ns == 0)
        a.window_ns = ivl > INT64_MAX / 60 ? INT64_MAX : 60 * ivl;
    if (a.window_ns < ivl)
        a.window_ns = ivl;
    sift_flows_config_t flows = {.no_app = a.by != SIFT_TIMELINE_APP};
    flows.table.max_flows = cli_flow_cap(&a.co.limits, a.by == SIFT_TIMELINE_APP);
    sift_ctx_t *octx;
    sift_outfile_t *of;
    int orc = cli_svg_begin(&a.co, a.svg, a.force, &octx, &of);
    if (orc != CLI_OK)
        return orc;
    FILE *out = a.svg && strcmp(a.svg, "-") == 0 ? stderr : stdout;
    cli_run_t run;
    cli_run_opts_t ro = {.pass = &sift_timeline_pass,
                         .config = &cfg,
                         .flows = &flows,
                         .totals = a.total || a.svg,
                         .cache = true};
    int rc = cli_run(&run, &ro, &a.co);
    sift_engine_t *e = run.e;
    if (rc == CLI_OK) {
        for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
            const sift_input_t *in = sift_engine_input(e, i);
            const sift_timeline_t *t = sift_engine_state(e, i, run.pass);
            if (cli_report_input(in, &a.co.limits) != CLI_OK)
                rc = CLI_DAMAGED;
            if (a.total || !t)
                continue;
            int r = print_report(out, in->path, t, &a);
            rc = r > rc ? r : rc;
        }
        const sift_timeline_t *t = sift_engine_total(e, run.pass);
        if (a.total && t) {
            int r = print_report(out, "(total)", t, &a);
            rc = r > rc ? r : rc;
        }
        if (of && rc < CLI_USAGE) {
            int r = cli_outfile_end(octx, of, write_svg(&a, of, e, run.pass));
            of = NULL;
            rc = r > rc ? r : rc;
        }
    }
    sift_outfile_abort(of);
    if (fflush(out) != 0 || ferror(out)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    cli_run_free(&run);
    sift_ctx_free(octx);
    return rc;
}
