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
 * counted in the map's `other` counters. Read the state as `const sift_stats_t *`.
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

/* A bounded counter map (open addressing; an entry with packets == 0 is empty). */
typedef struct sift_stats_map {
    sift_stats_entry_t *e;
    size_t mask, count, limit;
    uint64_t other_packets, other_bytes; /* counts of keys past the limit */
} sift_stats_map_t;

typedef struct sift_stats {
    uint64_t packets, bytes;
    int64_t interval_ns;
    sift_stats_node_t *nodes;
    unsigned nnodes;
    uint64_t nodes_dropped; /* packets whose path did not fit in SIFT_STATS_MAX_NODES */
    sift_stats_map_t hosts; /* talkers */
    sift_stats_map_t ports;
    sift_stats_map_t timeline;
    uint64_t size_packets[SIFT_STATS_NSIZES], size_bytes[SIFT_STATS_NSIZES];
    bool app;
    struct sift_stats_path *paths; /* internal: counts by path until the finish makes nodes */
    size_t paths_mask, paths_count;
    sift_stats_entry_t *tl_last; /* internal: the timeline entry of the latest packet */
    int64_t tl_idx;
} sift_stats_t;

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
