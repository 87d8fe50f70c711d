/* capsift: the `timeline` pass - packets and bytes per interval, in total and per group (host,
 * flow, port or application), and their statistics over a sliding window.
 *
 * Intervals start at multiples of the interval since the Unix epoch (as in the stats pass), so
 * states merge without knowing the first packet and the result never depends on the number of
 * threads or on how a file is split. Groups are built on the engine's flows: a flow's packets
 * are counted per interval in the flow, and go to its groups when it ends - both addresses
 * (host), both ports (port: TCP, UDP and SCTP flows), the flow itself, or the application nDPI
 * named for it ("Unknown" when it found none) - so a packet counts once per group, twice in
 * `host` and `port` (its two ends) unless both ends are equal. Packets of no flow (no IP
 * layer, or past the flow table's cap) form the group "(no flow)". Packets without a timestamp
 * count in the totals only.
 *
 * The series of a group (sift_timeline_series) covers every interval from the state's first to
 * its last, empty ones as zero (a long run of empty intervals as one point and its length). Over a
 * window of the last W intervals it gives, for packets and bytes per interval, the mean, standard
 * deviation, least, greatest and an approximate percentile (the rolling module: O(1) per interval),
 * and flags an interval whose value is more than z standard deviations from the mean of the window
 * before it (once that window holds five intervals, or all of a window shorter than five but of two
 * at least; a deviation below 1 counts as 1, so that a window of equal values flags any change).
 */
#ifndef CAPSIFT_TIMELINE_H
#define CAPSIFT_TIMELINE_H

#include <capsift/flow.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sift_timeline_by {
    SIFT_TIMELINE_TOTAL = 0, /* no groups: the totals only */
    SIFT_TIMELINE_HOST,      /* per IP address */
    SIFT_TIMELINE_FLOW,      /* per flow (the flows of `capsift flows`) */
    SIFT_TIMELINE_PORT,      /* per (IP protocol, port) */
    SIFT_TIMELINE_APP        /* per application (nDPI's name for the flow) */
} sift_timeline_by_t;

#define SIFT_TIMELINE_DEFAULT_CELLS 4000000u

typedef struct sift_timeline_config {
    int64_t interval_ns; /* 0: one second */
    sift_timeline_by_t by;
    size_t max_cells; /* (group, interval) counts kept; 0: SIFT_TIMELINE_DEFAULT_CELLS. Counts
                       * past it are summed in the summary's other_* and reported (ELIMIT) */
} sift_timeline_config_t;

/* The state of the pass, as sift_engine_state gives it: opaque. Read it (summary, groups,
 * series) from one thread at a time: the first series read sorts the cells by group once. */
typedef struct sift_timeline sift_timeline_t;

typedef struct sift_timeline_summary {
    uint64_t packets, bytes; /* every packet */
    uint64_t no_ts_packets;  /* packets without a timestamp: in no interval */
    int64_t interval_ns;
    sift_timeline_by_t by;
    int64_t first_idx, last_idx; /* intervals of the earliest and latest packet (start: idx *
                                  * interval_ns); first_idx > last_idx when there is none */
    size_t ngroups;
    uint64_t other_packets, other_bytes; /* group counts past max_cells */
} sift_timeline_summary_t;

SIFT_API void sift_timeline_summary(const sift_timeline_t *t, sift_timeline_summary_t *out);

/* A group. Its id is valid for sift_timeline_series on the same state; id 0 is the totals. */
typedef struct sift_timeline_group {
    uint32_t id;
    sift_timeline_by_t by;
    bool no_flow; /* the group of packets of no flow */
    union {
        uint8_t addr[16]; /* HOST: IPv4 as ::ffff:a.b.c.d */
        struct {
            uint8_t proto;
            uint16_t port;
        } port;                                   /* PORT */
        sift_flow_key_t flow;                     /* FLOW */
        char app[2 * SIFT_FLOW_APP_NAME_MAX + 2]; /* APP */
    } key;
    uint64_t packets, bytes;
} sift_timeline_group_t;

/* The groups by bytes, then packets, largest first, then by key; at most k (0: all). *out is an
 * array to free (NULL for none). Returns their number, or SIFT_ENOMEM. */
SIFT_API int64_t sift_timeline_groups(const sift_timeline_t *t, size_t k,
                                      sift_timeline_group_t **out);

/* A group's name: "10.0.0.1", "tcp/443", "tcp 10.0.0.1:1234 <-> 10.0.0.2:80", "TLS.Google",
 * "(no flow)". Returns buf. */
SIFT_API const char *sift_timeline_group_name(const sift_timeline_group_t *g, char *buf,
                                              size_t size);

/* The statistics of one quantity over the window ending at an interval (that interval
 * included). z is the interval's deviation from the window before it, in its standard
 * deviations (NaN while that window is too short to judge, see above). */
typedef struct sift_timeline_stat {
    double mean, sd, min, max, pct, z;
} sift_timeline_stat_t;

#define SIFT_TIMELINE_HIGH_PACKETS 0x1u /* flags: packets z > threshold */
#define SIFT_TIMELINE_LOW_PACKETS  0x2u /* packets z < -threshold */
#define SIFT_TIMELINE_HIGH_BYTES   0x4u
#define SIFT_TIMELINE_LOW_BYTES    0x8u

typedef struct sift_timeline_point {
    int64_t idx; /* the interval: it starts at idx * interval_ns */
    uint64_t packets, bytes;
    sift_timeline_stat_t wp, wb; /* window statistics of packets and of bytes per interval */
    unsigned flags;              /* SIFT_TIMELINE_* */
    /* The intervals after this one that are the same as it: empty, with the same window
     * statistics (the samples leaving their windows are empty too). They are not listed, so
     * that a capture with a gap of years costs as much as one without. */
    uint64_t repeat;
} sift_timeline_point_t;

/* The most intervals a window holds (after shortening it to the span, which changes nothing). */
#define SIFT_TIMELINE_MAX_WINDOW (1u << 24)

typedef struct sift_timeline_window {
    int64_t window_ns; /* the window; 0: 60 intervals. Rounded down to whole intervals, at least
                        * one */
    double z;          /* flag threshold; 0: 3 */
    double percentile; /* 0..100; 0: 95 */
} sift_timeline_window_t;

/* The series of group `id` (0: the totals) over the intervals from the state's first to its
 * last: every interval, except that a point stands for the run of identical empty intervals
 * after it (repeat), so the points' 1 + repeat add up to the span. *out is an array of *n
 * points to free (NULL with *n 0 when there is no interval). Returns 0, SIFT_ENOTFOUND for an
 * unknown id, SIFT_ELIMIT for a window of more than SIFT_TIMELINE_MAX_WINDOW intervals (within
 * the span), SIFT_ENOMEM. w may be NULL. There are at most four points for each interval with
 * packets and two for each run without; the time is O(1) for each interval with packets and for
 * each empty one within a window after one. */
SIFT_API int sift_timeline_series(const sift_timeline_t *t, uint32_t id,
                                  const sift_timeline_window_t *w, sift_timeline_point_t **out,
                                  size_t *n);

SIFT_API extern const sift_pass_t sift_timeline_pass;

#ifdef __cplusplus
}
#endif
#endif
