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
    sift__ids_t uix, kix, eix;
    uint64_t packets, short_packets, other_packets;
} cl_state_t;

/* The part an entry's packets go to. */
sift_cluster_part_t sift__cluster_entry_part(const cl_state_t *s, const cl_entry_t *e);

#endif
