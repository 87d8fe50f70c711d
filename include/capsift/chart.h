/* capsift: line charts as SVG, for the commands' --svg and anything else that draws.
 *
 * A chart has an x axis of points (evenly spaced, x0 + i * dx, or at given ascending positions:
 * times in nanoseconds since the epoch, labelled as UTC clock times, or plain numbers with a
 * unit) and one or more series of
 * y values over it, each a line in its own colour (or dashed), with markers on chosen points
 * (flagged intervals, peaks). The y axis starts at 0 (or the least value when negative) and is
 * labelled with round numbers and SI prefixes of the unit ("1.5 Mbit/s"); there is a legend
 * when there is more than one series. Series longer than the plot is wide in pixels are drawn
 * as the least and greatest value of each pixel column, so a burst of one point stays visible
 * and the file stays small.
 *
 * The output is a standalone SVG 1.1 document (no scripts, no external resources), made only
 * of the chart's numbers and the caller's strings (escaped), so that it can be embedded in a
 * page as it is. Independent of captures: usable by any C program. Thread-safe: a chart is
 * only read.
 */
#ifndef CAPSIFT_CHART_H
#define CAPSIFT_CHART_H

#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_chart_series {
    const char *name;    /* legend label */
    const double *x;     /* n positions, ascending (TIME: nanoseconds since the epoch) */
    const double *y;     /* n values; NaN: no value, the line is broken there */
    size_t n;            /* at least 1 */
    bool dashed;         /* a dashed line (a mean, a threshold) in a muted colour */
    const size_t *marks; /* indices of points to mark with a circle (NULL: none), ascending */
    size_t nmarks;
} sift_chart_series_t;

typedef enum sift_chart_xkind {
    SIFT_CHART_X_TIME = 0,  /* x in nanoseconds since the epoch: UTC clock times */
    SIFT_CHART_X_LINEAR = 1 /* plain numbers in x_unit */
} sift_chart_xkind_t;

typedef struct sift_chart {
    const char *title;   /* above the plot (NULL: none) */
    const char *y_label; /* what the y values are: "bit rate" ... (NULL: none) */
    const char *y_unit;  /* unit of the y values, SI-prefixed on the axis: "bit/s", "pkt/s" */
    sift_chart_xkind_t x_kind;
    const char *x_label;     /* LINEAR: axis title ("frequency"); TIME: NULL means "time (UTC)" */
    const char *x_unit;      /* LINEAR: unit of x ("Hz"), SI-prefixed on the axis */
    const char *marks_label; /* the legend's name of the marks (NULL: "marked") */
    const sift_chart_series_t *series;
    size_t nseries;         /* 1..16 */
    unsigned width, height; /* pixels of the whole picture; 0 means 960 x 420 */
} sift_chart_t;

/* Writes the chart as an SVG document to out. SIFT_EINVAL for a chart without series, with
 * more than 16, or with a series without points or whose x are not finite and strictly
 * ascending; SIFT_EIO when writing fails. The y values cannot fail: NaN breaks a line,
 * infinities are clipped to the plot. */
SIFT_API int sift_chart_svg(FILE *out, const sift_chart_t *chart);

/* n charts one above the other in one document, as wide as the widest (a spectrum over a
 * histogram ...). The same errors, for any of them; nothing is written then. */
SIFT_API int sift_chart_svg_stack(FILE *out, const sift_chart_t *charts, size_t n);

/* The "nice" step of an axis: the least of 1, 2 or 5 times a power of ten that is at least
 * span / ticks (span > 0, ticks >= 1). For the tests, and for callers that label alike. */
SIFT_API double sift_chart_nice_step(double span, unsigned ticks);

#ifdef __cplusplus
}
#endif
#endif
