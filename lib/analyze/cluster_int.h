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

/* A message followed in its flow by one from the other side (a request and its response, once
 * the flow's initiator is known): sides as in cl_entry_t. */
typedef struct cl_trans {
    uint32_t a, b; /* units */
    uint32_t key;
    uint8_t side; /* a's */
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
    uint32_t npend, cap;
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

/* The part an entry's packets go to. */
sift_cluster_part_t sift__cluster_entry_part(const cl_state_t *s, const cl_entry_t *e);

#endif
