/* capsift: the `info` pass - what a capture holds, from record headers alone.
 *
 * Counts packets and bytes, the time span, truncated records and packets per link type. The
 * state is mergeable (counters add, times take min/max), so it is the same for any number of
 * threads. The state (sift_engine_state/total) is opaque: read it with sift_info_get.
 */
#ifndef CAPSIFT_INFO_H
#define CAPSIFT_INFO_H

#include <capsift/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIFT_INFO_MAX_LINKTYPES 16

/* What a state holds. Fields are only ever added at the end. */
typedef struct sift_info_summary {
    uint64_t packets;
    uint64_t bytes_captured;
    uint64_t bytes_wire;
    uint64_t truncated;  /* records with caplen < wirelen */
    uint64_t no_ts;      /* records without a timestamp (pcapng simple packets) */
    uint64_t timed;      /* records with one; first/last are valid when timed > 0 */
    int64_t first_ts_ns; /* earliest timestamp */
    int64_t last_ts_ns;  /* latest timestamp */
    uint32_t max_caplen;
    bool time_ordered; /* every timestamp >= the one before it, in file order */
    unsigned nlinks;   /* distinct link types, in order of first appearance */
    uint32_t linktype[SIFT_INFO_MAX_LINKTYPES];
    uint64_t link_packets[SIFT_INFO_MAX_LINKTYPES];
    uint64_t other_link_packets; /* packets of link types beyond the table */
} sift_info_summary_t;

/* The pass's state, as sift_engine_state gives it. */
typedef struct sift_info sift_info_t;

SIFT_API extern const sift_pass_t sift_info_pass;

/* The counts of a state into *out (all zero for NULL: an input that could not be opened). */
SIFT_API void sift_info_get(const sift_info_t *s, sift_info_summary_t *out);

/* Duration in nanoseconds (0 with fewer than two timed packets). */
SIFT_API int64_t sift_info_duration_ns(const sift_info_summary_t *info);

#ifdef __cplusplus
}
#endif
#endif
