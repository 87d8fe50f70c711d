/* The cluster pass's state, read by the cluster set (cluster.c). */
#ifndef SIFT_CLUSTER_INT_H
#define SIFT_CLUSTER_INT_H

#include "common/internal.h"

#include <capsift/cluster.h>
#include <capsift/flow.h>

#include <xxhash.h>

typedef struct cl_unit {
    XXH128_hash_t h; /* of the whole payload */
    size_t off;      /* of its kept bytes in cl_state_t.bytes */
    uint32_t kept;
    uint64_t len;
} cl_unit_t;

typedef struct cl_key {
    sift_flow_key_t k;
    int64_t first_ns;
    uint8_t a_is_hi;
    bool settled; /* by flow_end */
} cl_key_t;

/* Packets of one unit: one packet when members are kept, else all of a (unit, key, side). */
typedef struct cl_entry {
    uint32_t unit;
    uint32_t key;             /* UINT32_MAX: no flow, part says where it goes */
    uint64_t record, count;   /* the first packet's record index in the input */
    sift_cluster_part_t part; /* without a key */
    uint8_t side;             /* with a key: the sender is key.hi */
} cl_entry_t;

/* A message followed in its flow by another: from the other side (a request and its response,
 * once the flow's initiator is known), or from the same (follow: a stream's next segment); sides
 * as in cl_entry_t. */
typedef struct cl_trans {
    uint32_t a, b; /* units */
    uint32_t key;
    uint8_t side;   /* a's */
    uint8_t follow; /* b's side is a's */
    uint64_t count;
} cl_trans_t;

/* The pass's bytes in a flow: its last payload, and in a range after a file's first, its first
 * payload (whose predecessor an earlier range saw); the pairs that span range boundaries wait
 * here, by hash, until the flow ends. */
typedef struct cl_msg {
    XXH128_hash_t h;
    uint8_t side, set;
} cl_msg_t;

/* With by_flow, a side of a flow: its first max_bytes (malloc'd), and its first packet as a
 * record index within the range that read it (range: that range's id, cl_state_t.range_id). */
typedef struct cl_side {
    uint8_t *buf;
    uint32_t len, cap;
    bool lost; /* memory ran out joining a later part's bytes */
    uint64_t range, record;
} cl_side_t;

typedef struct cl_flow {
    cl_msg_t last, head;
    cl_msg_t *pend; /* pairs: pend[2i], pend[2i+1] */
    size_t npend, cap;
    cl_side_t side[2]; /* by_flow: [sender is key.hi] */
} cl_flow_t;

/* A range's records begin at base in its input (learnt when the range is merged). */
typedef struct cl_base {
    uint64_t range, base;
} cl_base_t;

typedef struct cl_state {
    sift_cluster_config_t cfg;
    cl_unit_t *units;
    size_t nunits, capu;
    uint8_t *bytes;
    size_t nbytes, capb;
    cl_key_t *keys;
    size_t nkeys, capk;
    cl_entry_t *ents;
    size_t nents, cape;
    cl_trans_t *trans;
    size_t ntrans, capt;
    sift__ids_t uix, kix, eix, tix;
    uint64_t packets, short_packets, other_packets;
    uint64_t range_id; /* the file offset of the range's first record, plus 1 (0: none yet) */
    cl_base_t *bases;  /* of the ranges merged into this state, its own first */
    size_t nbases, capbases;
} cl_state_t;

/* ---- the set and the clustering (cluster_set.c, cluster.c, cluster_type.c, cluster_fields.c) */

typedef struct su {
    sift_cluster_part_t part;
    XXH128_hash_t h; /* of the whole payload */
    size_t off;
    uint32_t kept;
    uint64_t len, packets;
    uint32_t mhead, mtail; /* members: a list through mem_t.next (UINT32_MAX: none) */
    uint32_t nmem;
} su_t;

typedef struct mem {
    sift_cluster_member_t m;
    uint32_t next;
} mem_t;

typedef struct uflow {
    uint32_t unit;
    uint64_t flow;
} uflow_t;

/* A request and its response (follow 0), or a unit and the next of the same sender in its flow
 * (follow 1: req and resp are of one part). */
typedef struct upair {
    uint32_t req, resp;
    uint64_t count;
    uint8_t follow;
} upair_t;

struct sift_cluster_set {
    uint32_t max_bytes;
    su_t *u;
    size_t n, capu;
    uint8_t *bytes;
    size_t nbytes, capb;
    sift__ids_t uix;
    uflow_t *fl;
    size_t nfl, capfl;
    sift__ids_t fix;
    mem_t *mem;
    size_t nmem, capmem;
    upair_t *pairs;
    size_t npairs, cappairs;
    sift__ids_t pix;
};

struct sift_clustering {
    const sift_cluster_set_t *set;
    sift_cluster_opts_t o;
    uint32_t *of;      /* cluster of each unit */
    uint8_t *cont;     /* each unit: 1 when it joined its cluster as a stream's continuation */
    uint32_t *members; /* units by cluster */
    size_t *start;     /* members of cluster c: [start[c], start[c+1]) */
    sift_cluster_info_t *info;
    size_t n;
    sift_clustering_stats_t st;
};

/* A magic (4 bytes that a part's messages begin with and its continuations lack) begins at one
 * of the first offsets. */
#define SIFT__MAGIC_SPAN 9

/* Four bytes of one value: a fill, no magic. */
static inline bool uniform(uint32_t x)
{
    return (x >> 24) == (x & 0xff) && ((x >> 16) & 0xff) == (x & 0xff) &&
           ((x >> 8) & 0xff) == (x & 0xff);
}

/* Whether a payload of transport proto can continue the one before it from its sender: only
 * in a stream (TCP); over UDP or SCTP each payload is a message of its own. The follow links
 * the clustering reads are kept only there. */
static inline bool stream_proto(uint8_t proto)
{
    return proto == 6;
}

static inline bool part_eq(sift_cluster_part_t a, sift_cluster_part_t b)
{
    return a.proto == b.proto && a.dir == b.dir && a.port == b.port;
}

/* A hash of a part's key (transport, direction, port). */
static inline uint64_t part_hash(sift_cluster_part_t p)
{
    return ((uint64_t)p.proto << 24 | (uint64_t)p.dir << 16 | p.port) * 0x9E3779B97F4A7C15ull;
}

static inline int cmp_part(sift_cluster_part_t a, sift_cluster_part_t b)
{
    if (a.proto != b.proto)
        return a.proto < b.proto ? -1 : 1;
    if (a.port != b.port)
        return a.port < b.port ? -1 : 1;
    if (a.dir != b.dir)
        return a.dir < b.dir ? -1 : 1;
    return 0;
}

/* The offsets a cluster's view covers: its first positions, within its shortest payload. */
static inline uint32_t cluster_span(const sift_clustering_t *c, const uint32_t *ids, size_t n)
{
    uint32_t p = c->o.positions;
    for (size_t i = 0; i < n; i++)
        if (c->set->u[ids[i]].kept < p)
            p = c->set->u[ids[i]].kept;
    return p;
}

static inline const uint8_t *ubytes(const sift_cluster_set_t *s, uint32_t i)
{
    return s->bytes + s->u[i].off;
}

static inline uint32_t uf_find(uint32_t *p, uint32_t x)
{
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

/* The smaller root wins, so the components' roots never depend on the order of unions. */
static inline bool uf_union(uint32_t *p, uint32_t a, uint32_t b)
{
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a == b)
        return false;
    if (a < b)
        p[b] = a;
    else
        p[a] = b;
    return true;
}

typedef struct sift__flow_unit {
    uint64_t flow;
    uint32_t i; /* the unit's position in its part */
} sift__flow_unit_t;

typedef struct part_run {
    const sift_cluster_set_t *s;
    const sift_cluster_opts_t *o;
    const uint32_t *ids; /* the part's units */
    size_t n;
    uint32_t *parent; /* union-find over the part's positions 0..n-1 */
    sift_clustering_stats_t *st;
    bool text;
    bool *sel;   /* offsets of positional tokens */
    bool *start; /* the units that begin a message, by the part's magic (NULL: all) */
    bool *other; /* of the others, those with a header of another kind (NULL with start) */
    struct sift__flow_unit *fu; /* the part's (flow, unit position), by flow */
    size_t nfu;
    uint32_t key; /* the type field the clusters were merged by (UINT32_MAX: none) */
    /* the set's request/response pairs by request unit: pairs[plist[pstart[u] ..
     * pstart[u + 1])] (shared by the run); pos[u]: unit u's index in its part */
    const size_t *pstart;
    const uint32_t *plist, *pos;
    const size_t *fstart; /* the flows of unit u: s->fl[flist[fstart[u] .. fstart[u + 1])] */
    const uint32_t *flist;
} part_run_t;

/* Whether the part's unit at position i begins a message (every unit, in a part without a
 * magic). */
static inline bool run_begins(const part_run_t *r, size_t i)
{
    return !r->start || r->start[i];
}

/* The w-byte number at b (w 1, 2 or 4). */
static inline uint64_t num_at(const uint8_t *b, unsigned w, bool little)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < w; i++)
        v = v << 8 | b[little ? w - 1 - i : i];
    return v;
}

/* Whether the w-byte number at offset o (1, 2 or 4 bytes, either byte order) is the payload's
 * length plus a constant (*delta, NULL: not wanted) in at least share of the units holding it,
 * when they have more than one length (cluster.c). */
bool sift__cluster_length_field(const sift_cluster_set_t *s, const uint32_t *ids, size_t n,
                                uint32_t o, unsigned w, bool little, double share, int64_t *delta);

/* The part's (flow, unit position) pairs by flow into r->fu, once for the offsets judged by
 * their flows (cluster_flow.c). SIFT_ENOMEM. */
int sift__cluster_flow_index(part_run_t *r);

/* Whether offset j has one value per flow, in flows that carry several payloads: a session or
 * connection identifier that the response echoes, not a type (a session carries many types). */
bool sift__cluster_flow_bound(const part_run_t *r, uint32_t j);

/* Whether offset j cycles through its values in nearly all the flows of 8 payloads or more
 * (each seen once or twice: a retransmission): a sequence or transaction number, not a format
 * or type field, even where it takes few values. */
bool sift__cluster_cycles(const part_run_t *r, uint32_t j);

/* The chains of predecessors a stream's continuation segments are followed along, over the
 * set's units (cluster_set.c): each unit's commonest predecessor from the same sender in its
 * flows (pred, UINT32_MAX: none; of those as common, the first unit), and what the walks
 * settled (done 2: to[] holds the message its chain reaches, UINT32_MAX: none). */
typedef struct sift__chains {
    uint32_t *pred, *to, *stack;
    uint8_t *done; /* 0: not walked, 1: on the walk, 2: settled */
} sift__chains_t;

int sift__chains_init(sift__chains_t *ch, const sift_cluster_set_t *s); /* SIFT_ENOMEM */
void sift__chains_free(sift__chains_t *ch);

/* What a unit on a chain is: a segment (the walk goes on to its predecessor), a message (the
 * chain's end), or of another kind (the chain reaches no message). */
enum { SIFT__CHAIN_SEGMENT, SIFT__CHAIN_MESSAGE, SIFT__CHAIN_OTHER };

/* The message the chain of predecessors from unit i reaches: the first unit kind() calls a
 * message; UINT32_MAX when one of another kind comes first, or the chain loops (repeated
 * payloads) or breaks off. Every segment on the way is settled with the answer. */
uint32_t sift__chain_message(sift__chains_t *ch, uint32_t i,
                             int (*kind)(const void *ctx, uint32_t unit), const void *ctx);

/* The part's clusters into parent (indexing the set's units, each to its cluster's first unit):
 * in a TCP part, a unit that does not begin a message (by the part's magic) goes to the cluster
 * of the message its chain of predecessors reaches, and is marked in cont; the others stay in
 * their clusters (cluster_flow.c). SIFT_ENOMEM. */
int sift__cluster_attach(const part_run_t *r, sift__chains_t *ch, uint32_t *parent, uint8_t *cont);

/* Merges the clusters of a transport and port's client and server parts by their type field
 * (cluster_type.c). */
int sift__cluster_merge_parts(part_run_t *pr, size_t np);

/* The part an entry's packets go to. */
sift_cluster_part_t sift__cluster_entry_part(const cl_state_t *s, const cl_entry_t *e);

#endif
