/* The periodic pass's state, shared by the pass (pass_periodic.c) and its analysis
 * (periodic_score.c). */
#ifndef CAPSIFT_PERIODIC_INT_H
#define CAPSIFT_PERIODIC_INT_H

#include "common/internal.h"

#include <capsift/periodic.h>

typedef struct sift__periodic_event {
    int64_t ts, dur;
    uint64_t bytes;
    uint32_t gid;
} sift__periodic_event_t;

struct sift_periodic {
    sift_periodic_by_t by;
    bool by_name;
    int64_t gap_ns;
    size_t max_events;
    uint64_t packets, other_events;
    int64_t first_ns, last_ns; /* first > last: no timestamp yet */
    sift__periodic_event_t *events;
    size_t nevents, events_cap;
    sift_periodic_key_t *groups; /* a group's id is its index */
    size_t ngroups, groups_cap;
    sift__ids_t gindex;               /* the groups by key */
    struct sift__periodic_read *read; /* made by init */
};

/* Made by the first analysis: the events sorted by group, then time, group g's at
 * events[off[g] .. off[g + 1]); sorted is cleared by any event added. */
struct sift__periodic_read {
    bool sorted;
    size_t *off;
};

/* The id of the group with key k, or UINT32_MAX. */
uint32_t sift__periodic_find(const sift_periodic_t *p, const sift_periodic_key_t *k);

#endif
