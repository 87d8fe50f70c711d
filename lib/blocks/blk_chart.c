/* Line charts as SVG (see capsift/chart.h).
 *
 * Layout: a plot rectangle inside margins for the axis labels; y ticks at a nice step (1, 2 or
 * 5 times a power of ten) from the least value (0 unless negative); x ticks at round clock
 * times (TIME) or at a nice step (LINEAR). A series with more points than the plot has pixel
 * columns is drawn as each column's least and greatest value.
 */
#include "common/internal.h"

#include <capsift/chart.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SERIES 16
#define MAX_MARKS  5000 /* markers drawn per series; more would only hide the line */

static const char *const palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define NPALETTE (sizeof palette / sizeof palette[0])

typedef struct plot {
    FILE *out;
    double left, top, w, h; /* the plot rectangle */
    double ymin, ymax;
    double xmin, xmax; /* of the points */
    const sift_chart_t *c;
} plot_t;

static void put_escaped(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            /* control characters are not allowed in XML 1.0 text */
            fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
        }
    }
}

double sift_chart_nice_step(double span, unsigned ticks)
{
    if (!(span > 0) || ticks == 0)
        return 1;
    double raw = span / ticks, p = pow(10, floor(log10(raw)));
    static const double mult[] = {1, 2, 5, 10};
    for (unsigned i = 0; i < 4; i++)
        if (mult[i] * p >= raw * (1 - 1e-12))
            return mult[i] * p;
    return 10 * p;
}

/* v with an SI prefix and unit, three significant digits at most: "1.5 Mbit/s", "250 ms". */
static void si_format(char *buf, size_t size, double v, const char *unit)
{
    static const char *const up[] = {"", "k", "M", "G", "T", "P", "E"};
    static const char *const down[] = {"", "m", "u", "n", "p"};
    const char *prefix = "";
    double a = fabs(v);
    if (a >= 1000) {
        unsigned i = 0;
        while (a >= 1000 && i < 6) {
            a /= 1000;
            v /= 1000;
            i++;
        }
        prefix = up[i];
    } else if (a > 0 && a < 1) {
        unsigned i = 0;
        while (a < 1 && i < 4) {
            a *= 1000;
            v *= 1000;
            i++;
        }
        prefix = down[i];
    }
    char num[32];
    snprintf(num, sizeof num, "%.3g", v);
    if (strcmp(num, "-0") == 0)
        snprintf(num, sizeof num, "0");
    snprintf(buf, size, "%s%s%s%s", num, (unit && unit[0]) || prefix[0] ? " " : "", prefix,
             unit ? unit : "");
}

/* The pixel column of x. */
static double px_at(const plot_t *p, double x)
{
    return p->left + (p->xmax > p->xmin ? (x - p->xmin) / (p->xmax - p->xmin) : 0.5) * p->w;
}

static double px_x(const plot_t *p, const sift_chart_series_t *s, size_t i)
{
    return px_at(p, s->x[i]);
}

static double px_y(const plot_t *p, double y)
{
    if (y > p->ymax)
        y = p->ymax;
    if (y < p->ymin)
        y = p->ymin;
    return p->top + p->h - (y - p->ymin) / (p->ymax - p->ymin) * p->h;
}

static void y_range(plot_t *p)
{
    double lo = 0, hi = -INFINITY;
    for (size_t s = 0; s < p->c->nseries; s++)
        for (size_t i = 0; i < p->c->series[s].n; i++) {
            double y = p->c->series[s].y[i];
            if (isnan(y) || isinf(y))
                continue;
            lo = y < lo ? y : lo;
            hi = y > hi ? y : hi;
        }
    if (!(hi > lo))
        hi = lo + 1;
    double step = sift_chart_nice_step(hi - lo, 5);
    p->ymin = floor(lo / step) * step;
    p->ymax = ceil(hi / step) * step;
    if (p->ymax <= p->ymin)
        p->ymax = p->ymin + step;
}

static void y_axis(const plot_t *p)
{
    FILE *out = p->out;
    double step = sift_chart_nice_step(p->ymax - p->ymin, 5);
    for (double y = p->ymin; y <= p->ymax + step * 1e-9; y += step) {
        double py = px_y(p, y);
        char label[64];
        si_format(label, sizeof label, fabs(y) < step * 1e-9 ? 0 : y, p->c->y_unit);
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">",
                p->left, py, p->left + p->w, py, p->left - 6, py + 4);
        put_escaped(out, label);
        fputs("</text>\n", out);
    }
    if (p->c->y_label) {
        fprintf(out,
                "<text transform=\"translate(14,%.1f) rotate(-90)\" text-anchor=\"middle\" "
                "font-size=\"12\">",
                p->top + p->h / 2);
        put_escaped(out, p->c->y_label);
        if (p->c->y_unit) {
            fputs(" (", out);
            put_escaped(out, p->c->y_unit);
            fputc(')', out);
        }
        fputs("</text>\n", out);
    }
}

/* The clock-time step of a time axis: at least span / 8, from round values. */
static int64_t time_step(double span_ns)
{
    static const int64_t s = 1000000000;
    static const int64_t steps[] = {
        1,         10,        100,       1000,      10000,     100000,     1000000,   10000000,
        100000000, s / 5,     s / 2,     s,         2 * s,     5 * s,      10 * s,    15 * s,
        30 * s,    60 * s,    120 * s,   300 * s,   600 * s,   900 * s,    1800 * s,  3600 * s,
        7200 * s,  10800 * s, 21600 * s, 43200 * s, 86400 * s, 172800 * s, 604800 * s};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if ((double)steps[i] >= span_ns / 8)
            return steps[i];
    double days = sift_chart_nice_step(span_ns / (86400.0 * 1e9), 8);
    return (int64_t)(days * 86400.0) * s;
}

static void time_label(char *buf, size_t size, int64_t ns, int64_t step, bool date)
{
    time_t t = (time_t)(ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000);
    int64_t frac = ns - (int64_t)t * 1000000000;
    struct tm tm;
    gmtime_r(&t, &tm);
    if (date || step >= 86400LL * 1000000000)
        strftime(buf, size, "%Y-%m-%d", &tm);
    else if (step >= 60LL * 1000000000)
        strftime(buf, size, "%H:%M", &tm);
    else
        strftime(buf, size, "%H:%M:%S", &tm);
    if (!date && step < 1000000000) {
        size_t o = strlen(buf);
        int digits = step >= 100000000 ? 1 : step >= 10000000 ? 2 : step >= 1000000 ? 3 : 6;
        int64_t div = 1;
        for (int d = digits; d < 9; d++)
            div *= 10;
        snprintf(buf + o, size - o, ".%0*lld", digits, (long long)(frac / div));
    }
}

static void x_axis(const plot_t *p)
{
    FILE *out = p->out;
    const sift_chart_t *c = p->c;
    double span = p->xmax > p->xmin ? p->xmax - p->xmin : 1;
    double y0 = p->top + p->h;
    char label[64], title[160];
    if (c->x_kind == SIFT_CHART_X_TIME) {
        int64_t step = time_step(span), x0 = (int64_t)p->xmin;
        int64_t t = x0 % step == 0 ? x0 : (x0 / step + (x0 > 0)) * step;
        for (; (double)t <= p->xmin + span + 1e-6; t += step) {
            double px = px_at(p, (double)t);
            time_label(label, sizeof label, t, step, false);
            fprintf(out,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%s"
                    "</text>\n",
                    px, p->top, px, y0 + 4, px, y0 + 17, label);
        }
        time_label(label, sizeof label, x0, step, true);
        char clock[32];
        time_label(clock, sizeof clock, x0, step < 1000000000 ? step : 1000000000, false);
        snprintf(title, sizeof title, "%s, from %s %s", c->x_label ? c->x_label : "time (UTC)",
                 label, clock);
    } else {
        double step = sift_chart_nice_step(span, 8);
        for (double x = ceil(p->xmin / step) * step; x <= p->xmin + span * (1 + 1e-9); x += step) {
            double px = px_at(p, x);
            si_format(label, sizeof label, fabs(x) < step * 1e-9 ? 0 : x, c->x_unit);
            fprintf(out,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">",
                    px, p->top, px, y0 + 4, px, y0 + 17);
            put_escaped(out, label);
            fputs("</text>\n", out);
        }
        snprintf(title, sizeof title, "%s%s%s%s", c->x_label ? c->x_label : "",
                 c->x_unit ? " (" : "", c->x_unit ? c->x_unit : "", c->x_unit ? ")" : "");
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">",
            p->left + p->w / 2, y0 + 36);
    put_escaped(out, title);
    fputs("</text>\n", out);
}

/* One polyline per run of values that are not NaN; columns of many points as their range. */
static void draw_line(const plot_t *p, const sift_chart_series_t *s, const char *colour)
{
    FILE *out = p->out;
    const size_t n = s->n;
    size_t cols = (size_t)p->w;
    bool open = false;
    const char *style =
        s->dashed ? " stroke-dasharray=\"6,4\" stroke-width=\"1.5\"" : " stroke-width=\"1.5\"";
#define OPEN()                                                                                     \
    do {                                                                                           \
        if (!open)                                                                                 \
            fprintf(out, "<polyline fill=\"none\" stroke=\"%s\"%s points=\"", colour, style);      \
        open = true;                                                                               \
    } while (0)
#define CLOSE()                                                                                    \
    do {                                                                                           \
        if (open)                                                                                  \
            fputs("\"/>\n", out);                                                                  \
        open = false;                                                                              \
    } while (0)
    if (n <= 2 * cols) {
        for (size_t i = 0; i < n; i++) {
            if (isnan(s->y[i])) {
                CLOSE();
                continue;
            }
            OPEN();
            fprintf(out, "%.1f,%.1f ", px_x(p, s, i), px_y(p, s->y[i]));
        }
    } else { /* each pixel column's least and greatest value */
        for (size_t i = 0; i < n;) {
            double col = floor(px_x(p, s, i) - p->left);
            double lo = INFINITY, hi = -INFINITY;
            bool gap = false;
            for (; i < n && floor(px_x(p, s, i) - p->left) == col; i++) {
                if (isnan(s->y[i])) {
                    gap = true;
                    continue;
                }
                lo = s->y[i] < lo ? s->y[i] : lo;
                hi = s->y[i] > hi ? s->y[i] : hi;
            }
            if (lo > hi || gap)
                CLOSE();
            if (lo > hi)
                continue;
            OPEN();
            double px = p->left + col + 0.5;
            fprintf(out, "%.1f,%.1f %.1f,%.1f ", px, px_y(p, lo), px, px_y(p, hi));
        }
    }
    CLOSE();
#undef OPEN
#undef CLOSE
    size_t drawn = 0;
    for (size_t m = 0; m < s->nmarks && drawn < MAX_MARKS; m++) {
        size_t i = s->marks[m];
        if (i >= n || isnan(s->y[i]))
            continue;
        fprintf(out,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" stroke=\"#222\" "
                "stroke-width=\"1\"/>\n",
                px_x(p, s, i), px_y(p, s->y[i]), colour);
        drawn++;
    }
}

static void legend(const plot_t *p)
{
    const sift_chart_t *c = p->c;
    bool marks = false;
    for (size_t s = 0; s < c->nseries; s++)
        marks = marks || c->series[s].nmarks;
    if (c->nseries < 2 && !marks)
        return;
    FILE *out = p->out;
    double x = p->left + 10, y = p->top + 8;
    size_t rows = c->nseries + (marks ? 1 : 0);
    double width = 0;
    for (size_t s = 0; s < c->nseries; s++) {
        double w = 6.5 * (double)strlen(c->series[s].name ? c->series[s].name : "");
        width = w > width ? w : width;
    }
    width = (width < 120 ? 120 : width > 420 ? 420 : width) + 40;
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ffffff\" "
            "fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n",
            x, y, width, 16.0 * (double)rows + 8);
    for (size_t s = 0; s < c->nseries; s++) {
        const char *colour = c->series[s].dashed ? "#555555" : palette[s % NPALETTE];
        double ly = y + 16 + 16.0 * (double)s;
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2\"%s/>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">",
                x + 6, ly - 4, x + 28, ly - 4, colour,
                c->series[s].dashed ? " stroke-dasharray=\"6,4\"" : "", x + 34, ly);
        put_escaped(out, c->series[s].name);
        fputs("</text>\n", out);
    }
    if (marks) {
        double ly = y + 16 + 16.0 * (double)c->nseries;
        fprintf(out,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#ffffff\" stroke=\"#222\"/>\n"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">",
                x + 17, ly - 4, x + 34, ly);
        put_escaped(out, c->marks_label ? c->marks_label : "marked");
        fputs("</text>\n", out);
    }
}

/* The chart's size (defaults and least sizes applied). */
static void chart_size(const sift_chart_t *c, unsigned *width, unsigned *height)
{
    *width = c->width ? c->width : 960;
    *height = c->height ? c->height : 420;
    if (*width < 200)
        *width = 200;
    if (*height < 150)
        *height = 150;
}

static int chart_check(const sift_chart_t *c)
{
    if (!c || c->nseries == 0 || c->nseries > MAX_SERIES || !c->series)
        return SIFT_EINVAL;
    for (size_t s = 0; s < c->nseries; s++) {
        const sift_chart_series_t *se = &c->series[s];
        if (!se->x || !se->y || se->n == 0)
            return SIFT_EINVAL;
        for (size_t i = 0; i < se->n; i++)
            if (isnan(se->x[i]) || isinf(se->x[i]) || (i && !(se->x[i] > se->x[i - 1])))
                return SIFT_EINVAL;
    }
    return 0;
}

/* One checked chart as an <svg> element at y (nested in a document's when y > 0 or standalone
 * false: no namespace then). */
static void chart_draw(FILE *out, const sift_chart_t *c, unsigned y, bool standalone)
{
    double xmin = INFINITY, xmax = -INFINITY;
    for (size_t s = 0; s < c->nseries; s++) {
        const sift_chart_series_t *se = &c->series[s];
        xmin = se->x[0] < xmin ? se->x[0] : xmin;
        xmax = se->x[se->n - 1] > xmax ? se->x[se->n - 1] : xmax;
    }
    unsigned width, height;
    chart_size(c, &width, &height);
    plot_t p = {.out = out, .c = c, .left = 86, .top = c->title ? 34 : 14};
    p.w = width - p.left - 24;
    p.h = height - p.top - 52;
    p.xmin = xmin;
    p.xmax = xmax;
    y_range(&p);
    if (standalone)
        fprintf(out,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%u\" "
                "height=\"%u\" viewBox=\"0 0 %u %u\" font-family=\"DejaVu Sans, Arial, "
                "sans-serif\">\n",
                width, height, width, height);
    else
        fprintf(out, "<svg x=\"0\" y=\"%u\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\">\n", y,
                width, height, width, height);
    fputs("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n", out);
    if (c->title) {
        fprintf(out,
                "<text x=\"%.1f\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" "
                "font-weight=\"bold\">",
                width / 2.0);
        put_escaped(out, c->title);
        fputs("</text>\n", out);
    }
    y_axis(&p);
    x_axis(&p);
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#888888\"/>\n",
            p.left, p.top, p.w, p.h);
    for (size_t s = 0; s < c->nseries; s++)
        draw_line(&p, &c->series[s], c->series[s].dashed ? "#555555" : palette[s % NPALETTE]);
    legend(&p);
    fputs("</svg>\n", out);
}

int sift_chart_svg(FILE *out, const sift_chart_t *c)
{
    return sift_chart_svg_stack(out, c, 1);
}

int sift_chart_svg_stack(FILE *out, const sift_chart_t *charts, size_t n)
{
    if (n == 0 || !charts)
        return SIFT_EINVAL;
    unsigned width = 0, height = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = chart_check(&charts[i]);
        if (rc < 0)
            return rc;
        unsigned w, h;
        chart_size(&charts[i], &w, &h);
        width = w > width ? w : width;
        height += h;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    if (n == 1) {
        chart_draw(out, &charts[0], 0, true);
    } else {
        fprintf(out,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%u\" "
                "height=\"%u\" viewBox=\"0 0 %u %u\" font-family=\"DejaVu Sans, Arial, "
                "sans-serif\">\n",
                width, height, width, height);
        unsigned y = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned w, h;
            chart_size(&charts[i], &w, &h);
            chart_draw(out, &charts[i], y, false);
            y += h;
        }
        fputs("</svg>\n", out);
    }
    return ferror(out) ? SIFT_EIO : 0;
}
