/* capsift: the `stats` pass - protocol hierarchy, top talkers and ports, packet sizes and a
 * rate timeline, all mergeable counters.
 *
 * - Hierarchy: each packet counts once in every node of its path of layer names, outermost
 *   first, as the decoder lists them (Wireshark's names, as `tshark -z io,phs` prints them:
 *   eth > ip > tcp), then, for packets that carry transport payload in a flow whose
 *   application nDPI names, that name (TLS, DNS, HTTP ...): all of the flow's payload packets,
 *   also those before it was named. The application level is built on the engine's flows
 *   (the run's flows pass; its config, opts.flows, sets max_flows).
 * - Talkers: per IP address (innermost layer), packets and bytes sent plus received.
 * - Ports: per (IP protocol, port), packets and bytes with that port at either end.
 * - Sizes: packets by wire length in tshark's plen buckets (0-19, 20-39, ... 5120 and up).
 * - Timeline: packets and bytes per interval; intervals start at multiples of the interval
 *   since the Unix epoch, so states merge without knowing the first packet.
 * Bytes are bytes on the wire. Maps are bounded (max_keys each): keys past the bound are
 * counted in the map's `other` counters. Read a state with the accessors.
 */
#ifndef CAPSIFT_STATS_H
#define CAPSIFT_STATS_H

#include <capsift/flow.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIFT_STATS_MAX_NODES    1024
#define SIFT_STATS_NSIZES       10
#define SIFT_STATS_DEFAULT_KEYS 1000000u

typedef struct sift_stats_config {
    int64_t interval_ns; /* timeline interval; 0: one second */
    size_t max_keys;     /* addresses, ports and intervals kept each; 0: the default */
    bool no_app;         /* no application level (no nDPI, no flows) */
} sift_stats_config_t;

/* A node of the hierarchy; parent is -1 for a top node. Nodes are in order of creation, so a
 * parent always precedes its children. */
typedef struct sift_stats_node {
    int32_t parent;
    uint32_t depth;
    char name[32];
    uint64_t packets, bytes;
} sift_stats_node_t;

/* One counted key: an address (16 bytes, IPv4-mapped), a port ({proto, 0, port hi, port lo}
 * in the first 4 bytes) or an interval (int64 index in the first 8 bytes, host order). */
typedef struct sift_stats_entry {
    uint8_t key[16];
    uint64_t packets, bytes;
} sift_stats_entry_t;

/* The state of the pass, as sift_engine_state gives it: opaque, read with the accessors below. */
typedef struct sift_stats sift_stats_t;

/* The counted maps. */
typedef enum sift_stats_map_id {
    SIFT_STATS_HOSTS = 0, /* talkers: per address */
    SIFT_STATS_PORTS,
    SIFT_STATS_TIMELINE,
    SIFT_STATS_NMAPS
} sift_stats_map_id_t;

/* A state's counters. Fields are only ever added at the end. */
typedef struct sift_stats_summary {
    uint64_t packets, bytes;
    int64_t interval_ns;
    unsigned nnodes;        /* nodes of the hierarchy (sift_stats_node) */
    uint64_t nodes_dropped; /* packets whose path did not fit in SIFT_STATS_MAX_NODES */
    uint64_t size_packets[SIFT_STATS_NSIZES], size_bytes[SIFT_STATS_NSIZES];
    bool app; /* the application level is counted */
    /* per map (sift_stats_map_id_t): keys kept, and the counts of keys past max_keys */
    uint64_t keys[SIFT_STATS_NMAPS];
    uint64_t other_packets[SIFT_STATS_NMAPS], other_bytes[SIFT_STATS_NMAPS];
} sift_stats_summary_t;

SIFT_API void sift_stats_summary(const sift_stats_t *s, sift_stats_summary_t *out);

/* Node i of the hierarchy (NULL past nnodes); parents precede their children. Valid while the
 * state is. */
SIFT_API const sift_stats_node_t *sift_stats_node(const sift_stats_t *s, unsigned i);

/* The entries of a map in order, at most k of them (0: all): talkers and ports by bytes, then
 * packets, largest first, then by key; the timeline by interval, earliest first. *out is an
 * array to free (NULL for none). Returns the number of entries, or SIFT_ENOMEM. The first k
 * of n cost O(n log k). */
SIFT_API int64_t sift_stats_entries(const sift_stats_t *s, sift_stats_map_id_t map, size_t k,
                                    sift_stats_entry_t **out);

/* The interval of a timeline entry (its start is index * interval_ns). */
SIFT_API int64_t sift_stats_interval_index(const sift_stats_entry_t *e);

SIFT_API extern const sift_pass_t sift_stats_pass;
SIFT_API sift_need_t sift_stats_needs(const sift_stats_config_t *config);

/* Lower bound of size bucket i (0, 20, 40, 80 ... 5120). */
SIFT_API uint32_t sift_stats_size_lower(unsigned i);

/* Parses an interval: "1s", "500ms", "250us", "10ns", "1m", "2h", or a number of seconds
 * ("0.5"). Returns 0 and *ns > 0, or SIFT_EPARSE. */
SIFT_API int sift_stats_parse_interval(const char *s, int64_t *ns);

#ifdef __cplusplus
}
#endif
#endif
