/* capsift: message types from payloads - the `cluster` pass collects transport payloads, a
 * cluster set groups them into message types (MinHash sketches, LSH banding, every candidate
 * pair verified exactly, union-find), and each type gets a first view of its format.
 *
 *   the pass            one state per input: every distinct payload (exact duplicates
 *                       collapsed under their XXH3-128, counted), in which flow and direction
 *                       each packet carried it, and (config.members) each packet's number.
 *   sift_cluster_set_t  the payloads to cluster, from any number of pass states (one per input,
 *                       sift_cluster_set_add_state) or given directly (sift_cluster_set_add),
 *                       each in a part: its transport, server port and direction. Parts are
 *                       clustered apart, so requests and responses never share a type.
 *   sift_clustering_t   the result: clusters, the cluster of each payload, per-offset fields.
 *
 * Direction comes from the engine's flows, as each flow is settled at its end (a SYN seen
 * after a file's range boundary still orients the packets before it), so results never depend
 * on the number of threads or on how a file is split. The server port is the responder's.
 *
 * Features, per part, chosen by measuring (docs/capsift-cluster.md): a part whose kept bytes
 * are mostly printable is text, and a payload's features are its byte 3-grams; otherwise a
 * payload's features are positional tokens (offset, byte) over its first `positions` bytes, at
 * the offsets where 16 values cover 99% of the part's payloads, each value held by 4 payloads
 * on average (constant and type-like fields, not identifiers, counters or data), that are not
 * length fields and do not cycle through their values in each flow (a sequence number), plus
 * its length. Where a minority of a part's payloads share a magic (4 bytes at one of the first
 * 9 offsets; the others look like data there: a stream's continuations), the offsets are chosen
 * over the payloads with it too. Two payloads join when the Jaccard similarity of their feature
 * sets reaches the threshold.
 *
 * Then the type field (NetPlier's idea, without aligning messages): over the pairs of a
 * request and the response after it in its flow (sift_cluster_set_pair), the offsets in a
 * client part and in its server part, each constant within the clusters of at least half the
 * payloads that share one and not one value per flow (a session number), whose bytes in a
 * request and its response determine each other best (I(A;B) / H(A,B) of at least 0.5, times
 * the share of pairs holding both); each part's payloads are then grouped by their byte there
 * (those without the part's magic stay as joined). Without such pairs (one direction only, a
 * part of text) the clusters stay as joined.
 *
 * Last, a payload of a TCP part without its part's magic whose predecessors from the same sender
 * (sift_cluster_set_follow) lead back to a message with it continues that message, and joins
 * its cluster (sift_cluster_info_t.continuations), unless it, or one on the way, holds a value
 * common among the others at the magic's offset (a header of another kind).
 */
#ifndef CAPSIFT_CLUSTER_H
#define CAPSIFT_CLUSTER_H

#include <capsift/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the pass ---- */

#define SIFT_CLUSTER_DEFAULT_BYTES 128u
#define SIFT_CLUSTER_DEFAULT_UNITS 4000000u

typedef struct sift_cluster_config {
    uint32_t max_bytes; /* bytes kept of each payload (0: SIFT_CLUSTER_DEFAULT_BYTES, at most
                         * 65535); the length is kept whole */
    uint32_t min_size;  /* payloads shorter are left out (0: none) */
    uint16_t port;      /* only packets to or from this port (0: all) */
    bool members;       /* keep every packet's number (sift_cluster_set_members) */
    bool by_flow;       /* a unit is the first max_bytes of each direction of each flow (the
                         * payloads in order, joined), its member the first packet; packets of
                         * no flow are units of their own */
    uint64_t max_units; /* distinct payloads kept (0: SIFT_CLUSTER_DEFAULT_UNITS); the packets of
                         * further ones are counted in other_packets and reported (ELIMIT) */
} sift_cluster_config_t;

SIFT_API extern const sift_pass_t sift_cluster_pass;

/* What a state saw. */
typedef struct sift_cluster_summary {
    uint64_t packets;       /* packets with a payload that were kept */
    uint64_t units;         /* distinct payloads */
    uint64_t short_packets; /* payloads under min_size, or of another port */
    uint64_t other_packets; /* past max_units */
} sift_cluster_summary_t;

SIFT_API void sift_cluster_summary(const void *state, sift_cluster_summary_t *out);

/* ---- the set ---- */

/* A part: payloads clustered together. dir is 0 for a client's (the flow's initiator), 1 for a
 * server's; a packet of no flow (no IP transport, or past the flow table's cap) is a client's
 * when its source port is the higher. */
typedef struct sift_cluster_part {
    uint8_t proto; /* IP protocol (6 TCP, 17 UDP ...) */
    uint8_t dir;
    uint16_t port; /* the server's port (0: none) */
} sift_cluster_part_t;

/* A packet of a payload: its input (as given to sift_cluster_set_add_state) and its number in
 * that file, from 1 as tshark numbers them. */
typedef struct sift_cluster_member {
    uint32_t input;
    uint64_t packet;
} sift_cluster_member_t;

typedef struct sift_cluster_set sift_cluster_set_t;

/* max_bytes as in the config (0: SIFT_CLUSTER_DEFAULT_BYTES). SIFT_ENOMEM. */
SIFT_API int sift_cluster_set_create(sift_cluster_set_t **out, uint32_t max_bytes);
SIFT_API void sift_cluster_set_free(sift_cluster_set_t *s); /* NULL is fine */

/* Adds count packets of one payload (len bytes, of which the first max_bytes are kept) in a
 * part; flow names the flow that carried them for the cluster's flow count (any 64-bit value;
 * the same payload in the same part adds up). Its unit's index goes to *unit (NULL: not
 * wanted). SIFT_ENOMEM. */
SIFT_API int sift_cluster_set_add(sift_cluster_set_t *s, sift_cluster_part_t part, const void *data,
                                  size_t len, uint64_t count, uint64_t flow, size_t *unit);

/* Adds one packet of a payload known by its XXH3-128 (hash, canonical: as the index keys its
 * payload store) from its first kept bytes and its length: what sift_index_payloads gives. Its
 * member is (input, packet) (packet 0: none kept); flow and *unit as for sift_cluster_set_add.
 * SIFT_ENOMEM. */
SIFT_API int sift_cluster_set_add_packet(sift_cluster_set_t *s, sift_cluster_part_t part,
                                         const uint8_t hash[16], const void *data, uint32_t kept,
                                         uint64_t len, uint64_t flow, sift_cluster_member_t member,
                                         size_t *unit);

/* Says that unit `response` (a server's) followed unit `request` (a client's, of the same
 * transport and port) in a flow, count times: what the clustering reads to find the type field
 * a response shares with its request. The pass records these for every flow. SIFT_EINVAL for
 * units of other parts, SIFT_ENOMEM. */
SIFT_API int sift_cluster_set_pair(sift_cluster_set_t *s, size_t request, size_t response,
                                   uint64_t count);

/* Says that unit `next` followed unit `first` from the same sender (the same part) in a flow,
 * count times: how the clustering tells which message a stream's continuation segment belongs
 * to. The pass records these for every flow. SIFT_EINVAL for units of two parts, SIFT_ENOMEM. */
SIFT_API int sift_cluster_set_follow(sift_cluster_set_t *s, size_t first, size_t next,
                                     uint64_t count);

/* Adds what a cluster pass state holds (a final state: after the engine finished its input),
 * its members numbered as input. SIFT_EINVAL when the state kept another max_bytes. */
SIFT_API int sift_cluster_set_add_state(sift_cluster_set_t *s, const void *state, uint32_t input);

/* Distinct (part, payload) units in the set, in the order they were first added. */
SIFT_API size_t sift_cluster_set_size(const sift_cluster_set_t *s);

typedef struct sift_cluster_unit {
    sift_cluster_part_t part;
    const uint8_t *data; /* the kept bytes: min(len, max_bytes) */
    uint32_t kept;
    uint64_t len;     /* the payload's length */
    uint64_t packets; /* packets that carried it */
} sift_cluster_unit_t;

/* Unit i (valid while the set is not changed). */
SIFT_API void sift_cluster_set_unit(const sift_cluster_set_t *s, size_t i, sift_cluster_unit_t *u);

/* The members of unit i, by input then packet: the first max into out (NULL when max is 0);
 * returns how many there are (0 when the states kept none). */
SIFT_API size_t sift_cluster_set_members(const sift_cluster_set_t *s, size_t i,
                                         sift_cluster_member_t *out, size_t max);

/* ---- clustering ---- */

#define SIFT_CLUSTER_DEFAULT_THRESHOLD 0.9
#define SIFT_CLUSTER_DEFAULT_POSITIONS 32u

typedef struct sift_cluster_opts {
    double threshold;   /* Jaccard similarity at which two payloads join, (0, 1]; 0: 0.9 */
    uint32_t positions; /* offsets of positional tokens (0: 32, at most max_bytes) */
    uint32_t k;         /* MinHash values per sketch (0: 128) */
    uint64_t seed;
    unsigned threads; /* 0: every core; the result is the same for any number */
    bool exact;       /* compare every pair of a part exactly instead of LSH candidates */
    bool no_merge;    /* keep the clusters the threshold gives: no merge by type field */
} sift_cluster_opts_t;

typedef struct sift_clustering sift_clustering_t;

/* Clusters the set (opts may be NULL for the defaults). The set must outlive the result and
 * not change. SIFT_EINVAL for bad options, SIFT_ENOMEM, SIFT_EINTERNAL (threads). */
SIFT_API int sift_cluster_run(const sift_cluster_set_t *s, const sift_cluster_opts_t *opts,
                              sift_clustering_t **out);
SIFT_API void sift_clustering_free(sift_clustering_t *c); /* NULL is fine */

typedef struct sift_cluster_info {
    uint32_t id; /* 0, 1 ... by packets (most first), then part, then representative */
    sift_cluster_part_t part;
    bool text;               /* its part was clustered as text */
    uint64_t packets, units; /* packets, distinct payloads */
    uint64_t flows;          /* distinct flows that carried it */
    uint32_t rep;            /* the unit standing for it: its most frequent payload */
    uint32_t prefix;         /* bytes every payload of it begins with (of those kept) */
    uint64_t min_len, max_len;
    double part_share; /* packets over its part's */
    /* The offset of its part's type field, whose byte (type) every payload of it has; -1 when
     * the part's clusters were not merged by one, or its payloads differ there (those without
     * the part's magic) */
    int32_t type_offset;
    uint8_t type;
    /* Of its units, the segments that continue one of its messages in their flows: in a TCP
     * part with a magic, a payload without it that follows one of its messages from the same sender
     * (directly or after other such segments). They are the last of sift_clustering_units, and
     * what it shows (prefix, lengths, type byte, fields, signature) is of its messages only. */
    uint64_t continuations;
} sift_cluster_info_t;

SIFT_API size_t sift_clustering_count(const sift_clustering_t *c);
/* Cluster id (valid while c is). */
SIFT_API const sift_cluster_info_t *sift_clustering_get(const sift_clustering_t *c, size_t id);
/* The cluster of unit i of the set. */
SIFT_API uint32_t sift_clustering_of(const sift_clustering_t *c, size_t unit);
/* The units of cluster id: its messages, then its continuations, each in the set's order (*units
 * valid while c is). */
SIFT_API void sift_clustering_units(const sift_clustering_t *c, size_t id, const uint32_t **units,
                                    size_t *n);

/* How an offset of a cluster's payloads behaves, over the bytes kept of its distinct payloads. */
typedef enum sift_cluster_field_kind {
    SIFT_FIELD_CONSTANT = 0, /* one value */
    SIFT_FIELD_VARYING,      /* several values (distinct says how many) */
    SIFT_FIELD_COUNTER,      /* a 1, 2 or 4-byte number taking many values in a narrow range */
    SIFT_FIELD_LENGTH        /* a 1, 2 or 4-byte number that is the payload length plus a
                              * constant */
} sift_cluster_field_kind_t;

typedef struct sift_cluster_field {
    uint32_t offset;
    uint8_t width; /* bytes: 1 for CONSTANT and VARYING, 1, 2 or 4 for COUNTER and LENGTH */
    uint8_t kind;  /* sift_cluster_field_kind_t */
    bool little;   /* COUNTER, LENGTH: little-endian */
    uint8_t value; /* CONSTANT: the byte */
    uint32_t distinct;
    int64_t delta; /* LENGTH: the field's value minus the payload's length */
} sift_cluster_field_t;

/* The fields of cluster id over its first `positions` offsets (those within its shortest
 * payload; an offset begins at most one field), in a new array *out to free. Returns their
 * number or SIFT_ENOMEM. */
SIFT_API int64_t sift_clustering_fields(const sift_clustering_t *c, size_t id,
                                        sift_cluster_field_t **out);

typedef struct sift_clustering_stats {
    uint64_t parts, units;
    uint64_t candidates; /* LSH candidates not joined already (or every pair with exact): each
                          * verified exactly unless the sizes of the sets or their sketches
                          * rule it out (the sketch more than 0.15 below the threshold) */
    uint64_t joined;     /* pairs found at or above the threshold (only these join) */
    uint64_t merged;     /* clusters fewer for the type field (net of those it split) */
    uint64_t continued;  /* distinct payloads that joined a cluster as continuation segments */
    uint32_t bands, rows;
    size_t memory; /* bytes the sketches, index and sets took at most */
} sift_clustering_stats_t;

SIFT_API void sift_clustering_stats(const sift_clustering_t *c, sift_clustering_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif
