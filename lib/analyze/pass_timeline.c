/* The timeline pass: packets and bytes per (group, interval), and the windowed series.
 *
 * Counts live in one open-addressing map of cells keyed by (group id, interval index); group 0
 * is the totals, counted per packet (the cell of the latest packet is remembered, so a run of
 * packets in one interval costs one increment each). With groups, a flow keeps its own runs of
 * (interval, packets, bytes) in its per-flow bytes while it lasts and hands them to its groups
 * when it ends, so the per-packet cost does not grow with the number of groups a packet goes
 * to. Group ids are local to a state: a merge maps the other state's groups by key.
 */
#include "common/internal.h"

#include <capsift/rolling.h>
#include <capsift/timeline.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const sift_timeline_config_t default_config = {0};

typedef struct cell {
    uint32_t gid; /* UINT32_MAX: empty */
    int64_t idx;
    uint64_t packets, bytes;
} cell_t;

struct sift_timeline {
    int64_t interval_ns;
    sift_timeline_by_t by;
    size_t max_cells;
    uint64_t packets, bytes, no_ts;
    int64_t first_idx, last_idx; /* first > last: no interval yet */
    cell_t *cells;
    size_t cells_mask, ncells;
    uint64_t other_packets, other_bytes;
    sift_timeline_group_t *groups; /* [0] is the totals; a group's id is its index */
    size_t ngroups, groups_cap;
    sift__ids_t gindex;    /* the groups by key, but the totals */
    cell_t *last;          /* the totals' cell of the latest packet (NULL after a rehash) */
    uint32_t no_flow;      /* the id of the group "(no flow)", UINT32_MAX before it is made */
    struct by_group *read; /* the cells by group, made by the first series read */
};

/* The cells sorted by group, then interval: group g's are cells[off[g] .. off[g + 1]). Made
 * when a series is first read, so that reading every group costs one sort, not a scan of all
 * cells per group; dropped by a merge (the only change after the packets and flow ends). */
struct by_group {
    cell_t *cells;
    size_t *off;
};

/* ---- cells ---- */

static size_t cell_hash(uint32_t gid, int64_t idx)
{
    return (size_t)XXH3_64bits_withSeed(&idx, sizeof idx, gid);
}

static int cells_grow(sift_timeline_t *t)
{
    size_t n = t->cells ? (t->cells_mask + 1) * 2 : 256;
    cell_t *c = malloc(n * sizeof *c);
    if (!c)
        return SIFT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        c[i].gid = UINT32_MAX;
    for (size_t i = 0; t->cells && i <= t->cells_mask; i++) {
        if (t->cells[i].gid == UINT32_MAX)
            continue;
        size_t j = cell_hash(t->cells[i].gid, t->cells[i].idx) & (n - 1);
        while (c[j].gid != UINT32_MAX)
            j = (j + 1) & (n - 1);
        c[j] = t->cells[i];
    }
    free(t->cells);
    t->cells = c;
    t->cells_mask = n - 1;
    t->last = NULL;
    return 0;
}

/* Adds to a cell; returns it (valid until the next add), or NULL when the counts went to
 * `other` (the cap, or memory). */
static cell_t *cell_add(sift_timeline_t *t, uint32_t gid, int64_t idx, uint64_t packets,
                        uint64_t bytes)
{
    if (t->cells) {
        size_t i = cell_hash(gid, idx) & t->cells_mask;
        for (; t->cells[i].gid != UINT32_MAX; i = (i + 1) & t->cells_mask)
            if (t->cells[i].gid == gid && t->cells[i].idx == idx) {
                t->cells[i].packets += packets;
                t->cells[i].bytes += bytes;
                return &t->cells[i];
            }
    }
    if (t->ncells >= t->max_cells) {
        sift_pass_report(t, SIFT_ELIMIT,
                         "more than %zu (group, interval) counts: some are left "
                         "out (a longer --interval, fewer groups or a higher --max-keys)",
                         t->max_cells);
        goto other;
    }
    if ((!t->cells || (t->ncells + 1) * 2 > t->cells_mask + 1) && cells_grow(t) < 0) {
        sift_pass_report(t, SIFT_ENOMEM, "out of memory: some interval counts are missing");
        goto other;
    }
    size_t i = cell_hash(gid, idx) & t->cells_mask;
    while (t->cells[i].gid != UINT32_MAX)
        i = (i + 1) & t->cells_mask;
    t->cells[i] = (cell_t){.gid = gid, .idx = idx, .packets = packets, .bytes = bytes};
    t->ncells++;
    return &t->cells[i];
other:
    t->other_packets += packets;
    t->other_bytes += bytes;
    return NULL;
}

static void span_add(sift_timeline_t *t, int64_t idx)
{
    if (t->first_idx > t->last_idx) {
        t->first_idx = t->last_idx = idx;
        return;
    }
    t->first_idx = idx < t->first_idx ? idx : t->first_idx;
    t->last_idx = idx > t->last_idx ? idx : t->last_idx;
}

/* ---- groups ---- */

/* The bytes of a group's key that identify it (the union holds at most one member). */
static size_t key_size(const sift_timeline_group_t *g)
{
    if (g->no_flow)
        return 0;
    switch (g->by) {
    case SIFT_TIMELINE_HOST:
        return sizeof g->key.addr;
    case SIFT_TIMELINE_PORT:
        return sizeof g->key.port;
    case SIFT_TIMELINE_FLOW:
        return sizeof g->key.flow;
    case SIFT_TIMELINE_APP:
        return sizeof g->key.app;
    default:
        return 0;
    }
}

static uint64_t group_hash(const sift_timeline_group_t *g)
{
    return XXH3_64bits_withSeed(&g->key, key_size(g), g->no_flow ? 1 : 2);
}

static bool group_eq(const sift_timeline_group_t *a, const sift_timeline_group_t *b)
{
    return a->no_flow == b->no_flow && memcmp(&a->key, &b->key, key_size(a)) == 0;
}

static uint64_t group_hash_of(const void *ctx, uint32_t id)
{
    const sift_timeline_t *t = ctx;
    return group_hash(&t->groups[id]);
}

typedef struct group_probe {
    const sift_timeline_t *t;
    const sift_timeline_group_t *g;
} group_probe_t;

static bool group_is(const void *ctx, uint32_t id)
{
    const group_probe_t *q = ctx;
    return group_eq(&q->t->groups[id], q->g);
}

/* The id of the group with g's key, made when new; UINT32_MAX when memory ran out. */
static uint32_t group_id(sift_timeline_t *t, const sift_timeline_group_t *g)
{
    uint64_t h = group_hash(g);
    group_probe_t q = {t, g};
    uint32_t id = sift__ids_find(&t->gindex, h, group_is, &q);
    if (id != UINT32_MAX)
        return id;
    if (t->ngroups == t->groups_cap) {
        size_t cap = t->groups_cap * 2;
        sift_timeline_group_t *n = realloc(t->groups, cap * sizeof *n);
        if (!n)
            return UINT32_MAX;
        t->groups = n;
        t->groups_cap = cap;
    }
    id = (uint32_t)t->ngroups;
    sift_timeline_group_t *e = &t->groups[id];
    *e = *g;
    e->id = id;
    e->packets = e->bytes = 0;
    if (sift__ids_add(&t->gindex, h, id, group_hash_of, t) < 0)
        return UINT32_MAX;
    t->ngroups++;
    return id;
}

/* Adds counts of one interval to a group. */
static void group_add(sift_timeline_t *t, const sift_timeline_group_t *g, int64_t idx,
                      uint64_t packets, uint64_t bytes)
{
    uint32_t id = group_id(t, g);
    if (id == UINT32_MAX) {
        sift_pass_report(t, SIFT_ENOMEM, "out of memory: some groups are missing");
        t->other_packets += packets;
        t->other_bytes += bytes;
        return;
    }
    t->groups[id].packets += packets;
    t->groups[id].bytes += bytes;
    cell_add(t, id, idx, packets, bytes);
}

/* ---- what a flow keeps ---- */

typedef struct run {
    int64_t idx;
    uint64_t packets, bytes;
} run_t;

typedef struct tl_flow {
    run_t first; /* the flow's first run (packets 0: none yet) */
    run_t *more; /* later runs (another interval) */
    uint32_t nmore, cap;
    bool lost; /* memory ran out: some counts are missing */
} tl_flow_t;

static run_t *last_run(tl_flow_t *f)
{
    return f->nmore ? &f->more[f->nmore - 1] : &f->first;
}

static void flow_count(tl_flow_t *f, int64_t idx, uint64_t packets, uint64_t bytes)
{
    run_t *r = last_run(f);
    if (r->packets == 0 || r->idx == idx) {
        r->idx = idx;
        r->packets += packets;
        r->bytes += bytes;
        return;
    }
    if (f->nmore == f->cap) {
        uint32_t cap = f->cap ? f->cap * 2 : 4;
        run_t *n = cap > f->cap ? realloc(f->more, cap * sizeof *n) : NULL;
        if (!n) {
            f->lost = true;
            return;
        }
        f->more = n;
        f->cap = cap;
    }
    f->more[f->nmore++] = (run_t){.idx = idx, .packets = packets, .bytes = bytes};
}

static void tl_flow_join(void *into, const void *from)
{
    tl_flow_t *a = into;
    const tl_flow_t *b = from;
    if (b->first.packets)
        flow_count(a, b->first.idx, b->first.packets, b->first.bytes);
    for (uint32_t i = 0; i < b->nmore; i++)
        flow_count(a, b->more[i].idx, b->more[i].packets, b->more[i].bytes);
    a->lost = a->lost || b->lost;
}

static void tl_flow_release(void *fs)
{
    tl_flow_t *f = fs;
    free(f->more);
    memset(f, 0, sizeof *f);
}

static void runs_to_group(sift_timeline_t *t, const tl_flow_t *f, const sift_timeline_group_t *g)
{
    if (f->first.packets)
        group_add(t, g, f->first.idx, f->first.packets, f->first.bytes);
    for (uint32_t i = 0; i < f->nmore; i++)
        group_add(t, g, f->more[i].idx, f->more[i].packets, f->more[i].bytes);
}

static bool has_ports(uint8_t proto)
{
    return proto == 6 || proto == 17 || proto == 132;
}

/* A flow ends: its runs go to its groups. */
static void tl_flow_end(void *state, const sift_flows_t *flows, const sift_flow_t *f, void *fs)
{
    sift_timeline_t *t = state;
    const tl_flow_t *tf = fs;
    if (!tf || (!tf->first.packets && !tf->nmore))
        return;
    if (tf->lost)
        sift_pass_report(t, SIFT_ENOMEM, "out of memory: some interval counts are missing");
    sift_timeline_group_t g;
    memset(&g, 0, sizeof g);
    g.by = t->by;
    switch (t->by) {
    case SIFT_TIMELINE_HOST:
        memcpy(g.key.addr, f->key.lo, 16);
        runs_to_group(t, tf, &g);
        if (memcmp(f->key.lo, f->key.hi, 16) != 0) {
            memcpy(g.key.addr, f->key.hi, 16);
            runs_to_group(t, tf, &g);
        }
        break;
    case SIFT_TIMELINE_PORT:
        if (!has_ports(f->key.proto))
            return; /* counted in the totals only */
        g.key.port.proto = f->key.proto;
        g.key.port.port = f->key.lo_port;
        runs_to_group(t, tf, &g);
        if (f->key.hi_port != f->key.lo_port) {
            g.key.port.port = f->key.hi_port;
            runs_to_group(t, tf, &g);
        }
        break;
    case SIFT_TIMELINE_FLOW:
        g.key.flow = f->key;
        runs_to_group(t, tf, &g);
        break;
    case SIFT_TIMELINE_APP:
        if (f->app_state == SIFT_FLOW_APP_DONE && (f->app_master || f->app_id))
            sift_flows_app_name(flows, f, g.key.app, sizeof g.key.app);
        else
            snprintf(g.key.app, sizeof g.key.app, "Unknown");
        runs_to_group(t, tf, &g);
        break;
    default:
        break;
    }
}

/* ---- the pass ---- */

static int tl_init(void *state, const void *config)
{
    sift_timeline_t *t = state;
    const sift_timeline_config_t *c = config ? config : &default_config;
    t->interval_ns = c->interval_ns > 0 ? c->interval_ns : SIFT_FLOW_NS_PER_S;
    t->by = c->by;
    t->max_cells = c->max_cells ? c->max_cells : SIFT_TIMELINE_DEFAULT_CELLS;
    t->first_idx = 1;
    t->last_idx = 0;
    t->groups_cap = 16;
    t->groups = calloc(t->groups_cap, sizeof *t->groups);
    if (!t->groups)
        return SIFT_ENOMEM;
    t->groups[0].by = SIFT_TIMELINE_TOTAL; /* the totals: never in the index */
    t->ngroups = 1;
    t->no_flow = UINT32_MAX;
    t->read = calloc(1, sizeof *t->read);
    return t->read ? 0 : SIFT_ENOMEM;
}

static void tl_packet(void *state, const sift_packet_t *pkt)
{
    sift_timeline_t *t = state;
    const sift_record_t *r = pkt->rec;
    const uint64_t len = r->wirelen;
    t->packets++;
    t->bytes += len;
    if (r->flags & SIFT_RECORD_NO_TS) {
        t->no_ts++;
        return;
    }
    int64_t idx = sift__floor_div(r->ts_ns, t->interval_ns);
    if (t->last && t->last->idx == idx) {
        t->last->packets++;
        t->last->bytes += len;
    } else {
        span_add(t, idx);
        t->last = cell_add(t, 0, idx, 1, len);
    }
    if (t->by == SIFT_TIMELINE_TOTAL)
        return;
    if (pkt->flow_state) {
        flow_count(pkt->flow_state, idx, 1, len);
        return;
    }
    if (t->no_flow == UINT32_MAX) {
        sift_timeline_group_t g;
        memset(&g, 0, sizeof g);
        g.by = t->by;
        g.no_flow = true;
        t->no_flow = group_id(t, &g);
        if (t->no_flow == UINT32_MAX) {
            sift_pass_report(t, SIFT_ENOMEM, "out of memory: some groups are missing");
            t->other_packets++;
            t->other_bytes += len;
            return;
        }
    }
    t->groups[t->no_flow].packets++;
    t->groups[t->no_flow].bytes += len;
    cell_add(t, t->no_flow, idx, 1, len);
}

static int tl_merge(void *into, const void *from)
{
    sift_timeline_t *a = into;
    const sift_timeline_t *b = from;
    a->packets += b->packets;
    a->bytes += b->bytes;
    a->no_ts += b->no_ts;
    if (b->first_idx <= b->last_idx) {
        span_add(a, b->first_idx);
        span_add(a, b->last_idx);
    }
    a->other_packets += b->other_packets;
    a->other_bytes += b->other_bytes;
    uint32_t *map = malloc(b->ngroups * sizeof *map);
    if (!map) {
        sift_pass_report(a, SIFT_ENOMEM, "out of memory: some interval counts are missing");
        return SIFT_ENOMEM;
    }
    map[0] = 0;
    for (size_t i = 1; i < b->ngroups; i++) {
        map[i] = group_id(a, &b->groups[i]);
        if (map[i] != UINT32_MAX) {
            a->groups[map[i]].packets += b->groups[i].packets;
            a->groups[map[i]].bytes += b->groups[i].bytes;
        }
    }
    for (size_t i = 0; b->cells && i <= b->cells_mask; i++) {
        const cell_t *c = &b->cells[i];
        if (c->gid == UINT32_MAX)
            continue;
        if (map[c->gid] == UINT32_MAX) {
            sift_pass_report(a, SIFT_ENOMEM, "out of memory: some groups are missing");
            a->other_packets += c->packets;
            a->other_bytes += c->bytes;
            continue;
        }
        cell_add(a, map[c->gid], c->idx, c->packets, c->bytes);
    }
    a->last = NULL;
    free(a->read->cells);
    free(a->read->off);
    a->read->cells = NULL;
    a->read->off = NULL;
    free(map);
    return 0;
}

static void tl_release(void *state)
{
    sift_timeline_t *t = state;
    free(t->cells);
    free(t->groups);
    sift__ids_free(&t->gindex);
    if (t->read) {
        free(t->read->cells);
        free(t->read->off);
    }
    free(t->read);
    t->read = NULL;
    t->cells = NULL;
    t->groups = NULL;
}

static void tl_declare(const void *config, sift_need_t *needs, unsigned *flags)
{
    const sift_timeline_config_t *c = config ? config : &default_config;
    *needs = c->by == SIFT_TIMELINE_APP ? SIFT_NEED_PAYLOAD : SIFT_NEED_TRANSPORT;
    if (c->by == SIFT_TIMELINE_TOTAL) { /* record headers: read faster than a hit loads */
        *needs = SIFT_NEED_RECORD;
        *flags &= ~SIFT_PASS_FLOWS;
        *flags |= SIFT_PASS_NO_CACHE;
    }
}

/* ---- the result cache ---- */

static void tl_cache_key(const void *config, sift_cache_keyb_t *kb)
{
    const sift_timeline_config_t *c = config ? config : &default_config;
    sift_cache_keyb_u64(kb, c->interval_ns > 0 ? (uint64_t)c->interval_ns : 0);
    sift_cache_keyb_u64(kb, c->by);
    sift_cache_keyb_u64(kb, c->max_cells);
}

/* The counters and span, the groups after the totals (kind, key bytes, counts), then the cells
 * (group, interval, counts), as 8-byte numbers but the keys; no padding is stored. */
static void tl_save(const void *state, sift_blob_t *out)
{
    const sift_timeline_t *t = state;
    const uint64_t v[] = {t->packets,
                          t->bytes,
                          t->no_ts,
                          (uint64_t)t->first_idx,
                          (uint64_t)t->last_idx,
                          t->other_packets,
                          t->other_bytes,
                          t->groups[0].packets,
                          t->groups[0].bytes,
                          t->ngroups,
                          t->ncells};
    sift_blob_put(out, v, sizeof v);
    for (size_t i = 1; i < t->ngroups; i++) {
        const sift_timeline_group_t *g = &t->groups[i];
        sift_blob_put_u64(out, (uint64_t)g->by << 1 | g->no_flow);
        sift_blob_put(out, &g->key, key_size(g));
        sift_blob_put_u64(out, g->packets);
        sift_blob_put_u64(out, g->bytes);
    }
    for (size_t i = 0; t->cells && i <= t->cells_mask; i++) {
        const cell_t *c = &t->cells[i];
        if (c->gid == UINT32_MAX)
            continue;
        const uint64_t cv[4] = {c->gid, (uint64_t)c->idx, c->packets, c->bytes};
        sift_blob_put(out, cv, sizeof cv);
    }
}

static int tl_load(void *state, sift_blob_reader_t *in)
{
    sift_timeline_t *t = state;
    uint64_t v[11];
    if (!sift_blob_get(in, v, sizeof v) || v[9] < 1 || v[9] > (uint64_t)(in->end - in->p) / 24 ||
        v[10] > (uint64_t)(in->end - in->p) / 32)
        return SIFT_ECORRUPT;
    t->packets = v[0];
    t->bytes = v[1];
    t->no_ts = v[2];
    t->first_idx = (int64_t)v[3];
    t->last_idx = (int64_t)v[4];
    t->other_packets = v[5];
    t->other_bytes = v[6];
    t->groups[0].packets = v[7];
    t->groups[0].bytes = v[8];
    for (uint64_t i = 1; i < v[9]; i++) {
        sift_timeline_group_t g;
        memset(&g, 0, sizeof g);
        uint64_t kind = sift_blob_get_u64(in);
        g.by = (sift_timeline_by_t)(kind >> 1);
        g.no_flow = kind & 1;
        if (g.by != t->by || g.by == SIFT_TIMELINE_TOTAL)
            return SIFT_ECORRUPT;
        sift_blob_get(in, &g.key, key_size(&g));
        uint64_t packets = sift_blob_get_u64(in), bytes = sift_blob_get_u64(in);
        if (in->bad)
            return SIFT_ECORRUPT;
        uint32_t id = group_id(t, &g);
        if (id != i) /* out of memory, or a key twice */
            return t->ngroups == i ? SIFT_ENOMEM : SIFT_ECORRUPT;
        t->groups[id].packets = packets;
        t->groups[id].bytes = bytes;
        if (g.no_flow)
            t->no_flow = id;
    }
    for (uint64_t i = 0; i < v[10]; i++) {
        uint64_t cv[4];
        if (!sift_blob_get(in, cv, sizeof cv) || cv[0] >= t->ngroups)
            return SIFT_ECORRUPT;
        if (!cell_add(t, (uint32_t)cv[0], (int64_t)cv[1], cv[2], cv[3]))
            return SIFT_ENOMEM;
    }
    return 0;
}

const sift_pass_t sift_timeline_pass = {
    .name = "timeline",
    .needs = SIFT_NEED_PAYLOAD,
    .state_size = sizeof(sift_timeline_t),
    .init = tl_init,
    .packet = tl_packet,
    .merge = tl_merge,
    .release = tl_release,
    .flags = SIFT_PASS_FLOWS,
    .declare = tl_declare,
    .flow_state_size = sizeof(tl_flow_t),
    .flow_join = tl_flow_join,
    .flow_release = tl_flow_release,
    .flow_end = tl_flow_end,
    .cache_version = 1,
    .cache_key = tl_cache_key,
    .save = tl_save,
    .load = tl_load,
};

/* ---- reading a state ---- */

void sift_timeline_summary(const sift_timeline_t *t, sift_timeline_summary_t *out)
{
    memset(out, 0, sizeof *out);
    out->packets = t->packets;
    out->bytes = t->bytes;
    out->no_ts_packets = t->no_ts;
    out->interval_ns = t->interval_ns;
    out->by = t->by;
    out->first_idx = t->first_idx;
    out->last_idx = t->last_idx;
    out->ngroups = t->ngroups - 1;
    out->other_packets = t->other_packets;
    out->other_bytes = t->other_bytes;
}

/* Key order of groups: "(no flow)" last, addresses and keys bytewise, ports by number. */
static int key_cmp(const sift_timeline_group_t *a, const sift_timeline_group_t *b)
{
    if (a->no_flow != b->no_flow)
        return a->no_flow ? 1 : -1;
    if (a->by == SIFT_TIMELINE_PORT && a->key.port.proto != b->key.port.proto)
        return a->key.port.proto < b->key.port.proto ? -1 : 1;
    if (a->by == SIFT_TIMELINE_PORT)
        return (int)a->key.port.port - (int)b->key.port.port;
    return memcmp(&a->key, &b->key, key_size(a));
}

static int by_volume(const void *pa, const void *pb)
{
    const sift_timeline_group_t *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return key_cmp(a, b);
}

int64_t sift_timeline_groups(const sift_timeline_t *t, size_t k, sift_timeline_group_t **out)
{
    *out = NULL;
    size_t n = t->ngroups - 1;
    if (n == 0)
        return 0;
    sift_timeline_group_t *v = malloc(n * sizeof *v);
    if (!v)
        return SIFT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = t->groups[i + 1];
    if (n > 1)
        qsort(v, n, sizeof *v, by_volume);
    if (k && k < n)
        n = k;
    *out = v;
    return (int64_t)n;
}

const char *sift_timeline_group_name(const sift_timeline_group_t *g, char *buf, size_t size)
{
    if (g->no_flow) {
        snprintf(buf, size, "(no flow)");
        return buf;
    }
    char a[64], b[64], pr[16];
    switch (g->by) {
    case SIFT_TIMELINE_HOST:
        sift_format_addr(g->key.addr, a, sizeof a);
        snprintf(buf, size, "%s", a);
        break;
    case SIFT_TIMELINE_PORT:
        snprintf(buf, size, "%s/%u", sift_ip_proto_name(g->key.port.proto, pr, sizeof pr),
                 g->key.port.port);
        break;
    case SIFT_TIMELINE_FLOW: {
        const sift_flow_key_t *k = &g->key.flow;
        sift_format_addr(k->lo, a, sizeof a);
        sift_format_addr(k->hi, b, sizeof b);
        bool v6 = k->ip_version == 6;
        if (has_ports(k->proto))
            snprintf(buf, size, "%s %s%s%s:%u <-> %s%s%s:%u",
                     sift_ip_proto_name(k->proto, pr, sizeof pr), v6 ? "[" : "", a, v6 ? "]" : "",
                     k->lo_port, v6 ? "[" : "", b, v6 ? "]" : "", k->hi_port);
        else
            snprintf(buf, size, "%s %s <-> %s", sift_ip_proto_name(k->proto, pr, sizeof pr), a, b);
        break;
    }
    case SIFT_TIMELINE_APP:
        snprintf(buf, size, "%s", g->key.app);
        break;
    default:
        snprintf(buf, size, "total");
    }
    return buf;
}

/* The window statistics of one quantity: x is the interval's value, prev the statistics of the
 * window before it (read before x was pushed). */
static void window_stat(sift_rolling_t *r, const sift_summary_t *prev, uint64_t min_prev, double x,
                        double pct, sift_timeline_stat_t *s)
{
    if (prev->count >= min_prev) {
        double sd = sqrt(sift_summary_variance(prev));
        s->z = (x - prev->mean) / (sd < 1 ? 1 : sd);
    } else {
        s->z = NAN;
    }
    sift_rolling_push(r, 0, x);
    s->mean = sift_rolling_mean(r);
    s->min = sift_rolling_min(r);
    s->max = sift_rolling_max(r);
    /* equal values have no spread, whatever the rounding of the running sums says */
    s->sd = s->min == s->max ? 0 : sqrt(sift_rolling_variance(r));
    if (s->min == s->max)
        s->mean = s->min;
    if (sift_rolling_quantile(r, pct / 100, &s->pct) < 0)
        s->pct = NAN;
}

/* Appends a point (doubling the array as needed); NULL when memory ran out. */
static sift_timeline_point_t *point_new(sift_timeline_point_t **v, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        sift_timeline_point_t *p = realloc(*v, c * sizeof *p);
        if (!p)
            return NULL;
        *v = p;
        *cap = c;
    }
    sift_timeline_point_t *p = &(*v)[(*n)++];
    memset(p, 0, sizeof *p);
    return p;
}

static int by_group_idx(const void *pa, const void *pb)
{
    const cell_t *a = pa, *b = pb;
    if (a->gid != b->gid)
        return a->gid < b->gid ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The cells by group (struct by_group), made once. */
static int read_index(const sift_timeline_t *t)
{
    struct by_group *r = t->read;
    if (r->off)
        return 0;
    size_t *off = calloc(t->ngroups + 1, sizeof *off);
    cell_t *v = malloc((t->ncells ? t->ncells : 1) * sizeof *v);
    if (!off || !v) {
        free(off);
        free(v);
        return SIFT_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; t->cells && i <= t->cells_mask; i++)
        if (t->cells[i].gid != UINT32_MAX) {
            v[n++] = t->cells[i];
            off[t->cells[i].gid + 1]++;
        }
    for (size_t g = 0; g < t->ngroups; g++)
        off[g + 1] += off[g];
    if (n > 1)
        qsort(v, n, sizeof *v, by_group_idx);
    r->cells = v;
    r->off = off;
    return 0;
}

int sift_timeline_series(const sift_timeline_t *t, uint32_t id, const sift_timeline_window_t *w,
                         sift_timeline_point_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (id >= t->ngroups)
        return SIFT_ENOTFOUND;
    if (t->first_idx > t->last_idx)
        return 0;
    sift_timeline_window_t d = w ? *w : (sift_timeline_window_t){0};
    double z = d.z > 0 ? d.z : 3, pct = d.percentile > 0 ? d.percentile : 95;
    if (pct > 100)
        pct = 100;
    int64_t wn = d.window_ns > 0 ? d.window_ns / t->interval_ns : 60;
    uint64_t window = wn < 1 ? 1 : (uint64_t)wn;
    /* a window longer than the span holds the same intervals as one of the span */
    uint64_t span = (uint64_t)(t->last_idx - t->first_idx) + 1;
    if (window > span)
        window = span;
    if (window > SIFT_TIMELINE_MAX_WINDOW)
        return SIFT_ELIMIT;
    /* a deviation of fewer than five earlier intervals means little (two at least: a spread) */
    uint64_t min_prev = window < 5 ? (window < 2 ? 2 : window) : 5;
    sift_timeline_point_t *p = NULL;
    size_t np = 0, cap = 0;
    sift_rolling_t *rp = NULL, *rb = NULL;
    sift_rolling_opts_t ro = {.window_count = (size_t)window};
    int rc = SIFT_ENOMEM;
    if (read_index(t) < 0 || sift_rolling_create(&rp, &ro) < 0 || sift_rolling_create(&rb, &ro) < 0)
        goto out;
    /* the group's cells in time order */
    const cell_t *cells = t->read->cells + t->read->off[id];
    size_t nc = t->read->off[id + 1] - t->read->off[id];
    size_t c = 0, back = 0; /* the next cell at or after idx; the first after idx - window - 2 */
    uint64_t run = 0;       /* empty intervals up to idx */
    for (int64_t idx = t->first_idx;;) {
        sift_timeline_point_t cur = {.idx = idx};
        bool has = c < nc && cells[c].idx == idx;
        if (has) {
            cur.packets = cells[c].packets;
            cur.bytes = cells[c].bytes;
            c++;
        }
        sift_summary_t sp, sb;
        sift_rolling_summary(rp, &sp);
        sift_rolling_summary(rb, &sb);
        window_stat(rp, &sp, min_prev, (double)cur.packets, pct, &cur.wp);
        window_stat(rb, &sb, min_prev, (double)cur.bytes, pct, &cur.wb);
        if (cur.wp.z > z)
            cur.flags |= SIFT_TIMELINE_HIGH_PACKETS;
        if (cur.wp.z < -z)
            cur.flags |= SIFT_TIMELINE_LOW_PACKETS;
        if (cur.wb.z > z)
            cur.flags |= SIFT_TIMELINE_HIGH_BYTES;
        if (cur.wb.z < -z)
            cur.flags |= SIFT_TIMELINE_LOW_BYTES;
        /* An empty interval after an empty one, with full windows, is the same as that one when
         * the intervals leaving its window and the window before it (idx - window and
         * idx - window - 1) are empty too: one sample of 0 leaves and one enters each. */
        bool same = false;
        sift_timeline_point_t *prev = np ? &p[np - 1] : NULL;
        if (!has && prev && !prev->packets && prev->idx + (int64_t)prev->repeat == idx - 1 &&
            (uint64_t)(idx - t->first_idx) >= window + 1) {
            int64_t lo = idx - (int64_t)window - 1;
            while (back < nc && cells[back].idx < lo)
                back++;
            same = !(back < nc && cells[back].idx <= lo + 1);
        }
        if (same) {
            prev->repeat++;
        } else {
            sift_timeline_point_t *q = point_new(&p, &np, &cap);
            if (!q)
                goto out;
            *q = cur;
        }
        if (idx == t->last_idx)
            break;
        run = has ? 0 : run + 1;
        if (run <= window) {
            idx++;
            continue;
        }
        /* the window and the one before are empty: so are the intervals up to the next with
         * packets, each the same as this one, and pushing them would change nothing */
        int64_t next = c < nc ? cells[c].idx : t->last_idx + 1;
        uint64_t k = (uint64_t)((next <= t->last_idx ? next : t->last_idx + 1) - idx - 1);
        p[np - 1].repeat += k;
        run += k;
        if (next > t->last_idx)
            break;
        idx = next;
    }
    *out = p;
    *n = np;
    p = NULL;
    rc = 0;
out:
    free(p);
    sift_rolling_free(rp);
    sift_rolling_free(rb);
    return rc;
}
