/* What a part's flows show: offsets judged by how their bytes spread over the flows (a session
 * number, one value per flow, and a sequence number, a value per message in turn: neither a
 * format nor a type field), and the message each continuation segment of a stream belongs to,
 * by the payloads before it from its sender (see capsift/cluster.h). */
#include "analyze/cluster_int.h"

#include <stdlib.h>

#define FLOW_VALUES    16   /* a sequence number shows at most this many values in a flow */
#define SEQ_FLOW_UNITS 8    /* a flow of this many payloads shows a sequence number */
#define SEQ_SHARE      0.9  /* of the values a flow can show, and of the flows */
#define BOUND_SHARE    0.99 /* with its flow's commonest value: a session number */

static int cmp_fu(const void *a, const void *b)
{
    const sift__flow_unit_t *x = a, *y = b;
    if (x->flow != y->flow)
        return x->flow < y->flow ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int sift__cluster_flow_index(part_run_t *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->fstart[r->ids[i] + 1] - r->fstart[r->ids[i]];
    r->fu = malloc((n ? n : 1) * sizeof *r->fu);
    if (!r->fu)
        return SIFT_ENOMEM;
    r->nfu = 0;
    for (size_t i = 0; i < r->n; i++) {
        uint32_t u = r->ids[i];
        for (size_t k = r->fstart[u]; k < r->fstart[u + 1]; k++)
            r->fu[r->nfu++] = (sift__flow_unit_t){r->s->fl[r->flist[k]].flow, (uint32_t)i};
    }
    if (r->nfu > 1)
        qsort(r->fu, r->nfu, sizeof *r->fu, cmp_fu);
    return 0;
}

/* How offset j's bytes spread over the flows of at least min_units of the part's units (of at
 * most max_packets packets, 0: any): held the units counted, majority those with their flow's
 * commonest value there, cycling those of flows that show nearly as many values as they can
 * (their units, at most FLOW_VALUES), about equally often. */
typedef struct flow_spread {
    size_t held, majority, cycling;
} flow_spread_t;

static void flow_spread(const part_run_t *r, uint32_t j, size_t min_units, uint64_t max_packets,
                        flow_spread_t *out)
{
    const sift_cluster_set_t *s = r->s;
    *out = (flow_spread_t){0};
    size_t count[257] = {0};
    uint16_t seen[257];
    for (size_t lo = 0; lo < r->nfu;) {
        size_t hi = lo, units = 0, top = 0, distinct = 0;
        for (; hi < r->nfu && r->fu[hi].flow == r->fu[lo].flow; hi++) {
            const su_t *u = &s->u[r->ids[r->fu[hi].i]];
            if (max_packets && u->packets > max_packets)
                continue;
            uint16_t b = j < u->kept ? ubytes(s, r->ids[r->fu[hi].i])[j] : 256;
            if (count[b]++ == 0)
                seen[distinct++] = b;
            if (count[b] > top)
                top = count[b];
            units++;
        }
        for (size_t k = 0; k < distinct; k++)
            count[seen[k]] = 0;
        size_t span = units < FLOW_VALUES ? units : FLOW_VALUES;
        if (units >= min_units) {
            out->held += units;
            out->majority += top;
            /* every value in turn: as many as there can be, none much commoner than another */
            if ((double)distinct >= SEQ_SHARE * (double)span &&
                top * distinct <= 2 * units + distinct)
                out->cycling += units;
        }
        lo = hi;
    }
}

bool sift__cluster_flow_bound(const part_run_t *r, uint32_t j)
{
    flow_spread_t fs;
    flow_spread(r, j, 2, 0, &fs);
    return fs.held > 0 && (double)fs.majority >= BOUND_SHARE * (double)fs.held;
}

bool sift__cluster_cycles(const part_run_t *r, uint32_t j)
{
    flow_spread_t fs;
    flow_spread(r, j, SEQ_FLOW_UNITS, 2, &fs);
    return fs.held > 0 && (double)fs.cycling >= SEQ_SHARE * (double)fs.held;
}

/* A unit of the part on a chain: a message when it begins one, of another kind when it holds
 * another header, else a segment. */
static int part_kind(const void *ctx, uint32_t unit)
{
    const part_run_t *r = ctx;
    uint32_t i = r->pos[unit];
    return run_begins(r, i) ? SIFT__CHAIN_MESSAGE
           : r->other[i]    ? SIFT__CHAIN_OTHER
                            : SIFT__CHAIN_SEGMENT;
}

int sift__cluster_attach(const part_run_t *r, sift__chains_t *ch, uint32_t *parent, uint8_t *cont)
{
    size_t n = r->n;
    uint32_t *msg = malloc((n ? n : 1) * sizeof *msg), *rep = malloc((n ? n : 1) * sizeof *rep);
    if (!msg || !rep) {
        free(msg);
        free(rep);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        rep[i] = msg[i] = UINT32_MAX;
    bool stream = n > 0 && stream_proto(r->s->u[r->ids[0]].part.proto);
    for (size_t i = 0; stream && r->start && i < n; i++)
        if (part_kind(r, r->ids[i]) == SIFT__CHAIN_SEGMENT) {
            uint32_t u = sift__chain_message(ch, r->ids[i], part_kind, r);
            msg[i] = u == UINT32_MAX ? UINT32_MAX : r->pos[u];
        }
    /* a fine cluster stands for its first unit that is no attached continuation */
    for (size_t i = 0; i < n; i++) {
        uint32_t root = uf_find(r->parent, (uint32_t)i);
        if (msg[i] == UINT32_MAX && rep[root] == UINT32_MAX)
            rep[root] = (uint32_t)i;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t at = msg[i] == UINT32_MAX ? (uint32_t)i : msg[i];
        parent[r->ids[i]] = r->ids[rep[uf_find(r->parent, at)]];
        cont[r->ids[i]] = msg[i] != UINT32_MAX;
        r->st->continued += msg[i] != UINT32_MAX;
    }
    free(msg);
    free(rep);
    return 0;
}
