/* capsift: the `periodic` pass - machines that call home at a regular period (beacons).
 *
 * Events are gathered per group of (source, destination, IP protocol, destination port): the
 * initiator and the responder of the engine's flows, and the responder's port (or, with
 * by_name, the server's name instead of its address where the flow names it). An event is a
 * flow's first packet, and a later packet of the flow that starts a new exchange: a TCP SYN
 * without ACK (the tuple reused), or a packet after the flow was silent for the gap or longer.
 * With SIFT_PERIODIC_CONN (connections) the gap is 60 s, Zeek's UDP inactivity timeout, so
 * that a TCP connection with keep-alives stays one event; with SIFT_PERIODIC_PACKETS it is 1 s,
 * so the bursts of packets within long flows are the events. Each event keeps its time, its
 * duration and the bytes its initiator sent. A flow hands its events to its group when it ends,
 * so the result never depends on the number of threads or on how a file is split.
 *
 * sift_periodic_analyze scores every group with enough events (events of a group less than a
 * second apart are one). The times are binned at a sixteenth of the median interval and
 * transformed (FFTW, real to complex); the strongest spectral peaks are candidate periods,
 * each verified on the autocorrelation of the binned series (computed from the same spectrum)
 * and kept when it is a local maximum there (BAYWATCH's check). The chosen period is refined
 * on the intervals (each divided by the number of periods it spans, so that a missed call does
 * not count as jitter), and the score combines, each in [0, 1]:
 *   acf        the autocorrelation at the period (how much of the series repeats),
 *   regularity 1 - 2 x the jitter: the intervals' robust spread (1.4826 MAD) per period,
 *   size       how alike the events' sizes are (1 - their MAD over their median),
 *   coverage   the share of the capture's span the group covers;
 *   score = 0.7 sqrt(acf x regularity) + 0.15 size + 0.15 coverage.
 * RITA's four subscores (Active Countermeasures' Real Intelligence Threat Analytics) are
 * computed beside them from the same events, and its score (0.25 each):
 *   rita_ts    inter-arrival Bowley skew and MADM: mean of 1 - |skew| and 1 - MADM / median,
 *   rita_ds    the same for the sizes, with smallness 1 - mode / 65535,
 *   rita_dur   max(coverage, the share of the group's hours with an event),
 *   rita_hist  the hourly histogram: max(1 - its coefficient of variation, the share of hours
 *              whose counts are the two most common).
 */
#ifndef CAPSIFT_PERIODIC_H
#define CAPSIFT_PERIODIC_H

#include <capsift/cache.h>
#include <capsift/flow.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sift_periodic_by {
    SIFT_PERIODIC_CONN = 0, /* connections (flow starts, SYNs, after 60 s of silence) */
    SIFT_PERIODIC_PACKETS   /* bursts of packets (after 1 s of silence) */
} sift_periodic_by_t;

#define SIFT_PERIODIC_DEFAULT_EVENTS 20000000u

typedef struct sift_periodic_config {
    sift_periodic_by_t by;
    /* Group by server name where a flow names one: the host of a TLS ClientHello's
     * server_name or of an HTTP request's Host field (lower case, without a port, brackets or
     * a trailing dot), from the first payload its initiator sent; the group is then (source,
     * name, protocol, port), so the calls of a beacon to servers of rotating addresses are one
     * group. Flows without a name keep their destination. */
    bool by_name;
    int64_t gap_ns;    /* silence that makes a flow's next packet an event; 0: by's default */
    size_t max_events; /* events kept (32 bytes each); 0: SIFT_PERIODIC_DEFAULT_EVENTS. Past it
                        * events are counted in the summary's other_events (ELIMIT) */
} sift_periodic_config_t;

/* The state of the pass, as sift_engine_state gives it: opaque; read from one thread at a
 * time (the first analysis sorts the events by group once). */
typedef struct sift_periodic sift_periodic_t;

typedef struct sift_periodic_summary {
    uint64_t packets;          /* every packet */
    uint64_t events;           /* kept */
    uint64_t other_events;     /* past max_events */
    size_t groups;             /* groups with events */
    int64_t first_ns, last_ns; /* the capture's span (packets with a timestamp) */
    sift_periodic_by_t by;
    bool by_name;
    int64_t gap_ns;
} sift_periodic_summary_t;

SIFT_API void sift_periodic_summary(const sift_periodic_t *p, sift_periodic_summary_t *out);

/* A group: IPv4 addresses as ::ffff:a.b.c.d; port 0 for protocols without ports; name the
 * server's (by_name), with dst all zeros, or "" (the bytes after a name's NUL are zero). */
#define SIFT_PERIODIC_NAME_MAX 256
typedef struct sift_periodic_key {
    uint8_t src[16], dst[16];
    uint16_t port;
    uint8_t proto;
    uint8_t ip_version;
    char name[SIFT_PERIODIC_NAME_MAX];
} sift_periodic_key_t;

/* "10.0.0.1 -> 10.0.0.2 tcp/443", "10.0.0.1 -> example.com tcp/443". Returns buf. */
SIFT_API const char *sift_periodic_key_name(const sift_periodic_key_t *k, char *buf, size_t size);

#define SIFT_PERIODIC_DEFAULT_MIN_EVENTS 8

typedef struct sift_periodic_opts {
    size_t min_events;   /* groups with fewer events are not scored; 0:
                          * SIFT_PERIODIC_DEFAULT_MIN_EVENTS (at least 3) */
    double min_period;   /* seconds; 0: 2 */
    sift_cache_t *cache; /* answers groups whose events were scored before with the same
                          * options and span (keyed by their content); NULL: none. Used from
                          * the analysing thread */
} sift_periodic_opts_t;

typedef struct sift_periodic_result {
    sift_periodic_key_t key;
    uint64_t events; /* after joining those less than a second apart */
    uint64_t bytes;  /* sent by the source */
    int64_t first_ns, last_ns;
    double period;     /* seconds: refined on the intervals; 0 when no period was found */
    double fft_period; /* seconds: the verified spectral candidate it was refined from */
    double jitter;     /* the intervals' robust spread per period, as a share of it */
    uint64_t missed;   /* periods without an event (intervals spanning several periods) */
    double score;      /* 0..1 (see above) */
    double acf, regularity, size, coverage;
    double rita, rita_ts, rita_ds, rita_dur, rita_hist;
} sift_periodic_result_t;

/* Scores every group with at least opts->min_events events (opts may be NULL); *out is an
 * array of them to free (NULL for none), by score, highest first, then by key. Returns their
 * number, or SIFT_ENOMEM. */
SIFT_API int64_t sift_periodic_analyze(const sift_periodic_t *p, const sift_periodic_opts_t *opts,
                                       sift_periodic_result_t **out);

/* What a chart of one group shows: its binned spectrum (power[k] at frequency k / (n * bin) Hz,
 * k < nbins) and its intervals in seconds, sorted. Arrays to free with sift_periodic_detail_free.
 */
typedef struct sift_periodic_detail {
    double bin;    /* seconds per bin */
    size_t n;      /* bins transformed (a power of two) */
    double *power; /* nbins values */
    size_t nbins;
    double *intervals;
    size_t nintervals;
} sift_periodic_detail_t;

/* The detail of the group with key k. Returns 0, SIFT_ENOTFOUND (no such group, or too few
 * events to transform), SIFT_ENOMEM. */
SIFT_API int sift_periodic_detail(const sift_periodic_t *p, const sift_periodic_key_t *k,
                                  const sift_periodic_opts_t *opts, sift_periodic_detail_t *out);
SIFT_API void sift_periodic_detail_free(sift_periodic_detail_t *d);

SIFT_API extern const sift_pass_t sift_periodic_pass;

/* A state fed from outside the engine (one made by sift_pass_state_new with this pass), as
 * from the flows of an index (capsift/index.h): flow f becomes one event of its group, at its
 * first packet, with its duration and the bytes its initiator sent. A flow's later exchanges
 * (after a silence, a reused tuple) are the pass's events but not seen here: the index keeps
 * no packet times within a flow. name is the flow's server name for a state grouping by_name
 * (NULL or "": none). Returns 0, SIFT_ENOMEM or SIFT_ELIMIT (reported on the state as the pass
 * reports them; the event is counted in other_events). */
SIFT_API int sift_periodic_add_flow(sift_periodic_t *p, const sift_flow_t *f, const char *name);
/* Adds packets to the summary's count and widens the capture's span (what coverage is a share
 * of) to [first_ns, last_ns] (nothing when first_ns > last_ns). */
SIFT_API void sift_periodic_add_span(sift_periodic_t *p, int64_t first_ns, int64_t last_ns,
                                     uint64_t packets);

#ifdef __cplusplus
}
#endif
#endif
