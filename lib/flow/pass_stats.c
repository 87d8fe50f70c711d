/* The stats pass: counters per hierarchy node, address, port, size bucket and interval.
 *
 * Built on the engine's flows (with application detection), most counting happens once per flow
 * rather than per packet: a packet adds to its size bucket and interval, and to its flow's
 * counts along its layer path (usually one path a flow); when the flow ends, its packets go to
 * its two addresses and ports and to the nodes of its path, and those that carry payload to an
 * application node under that path, named by nDPI's final answer for the flow (so payload
 * packets before the answer count too). Packets without a flow, and every packet when
 * detection is off, are counted by path and address as they come.
 *
 * Nodes are made at the finish, in the order of their paths (then of application names): the
 * tree does not depend on the order in which packets or flows came, nor on how a file was
 * split.
 */
#include "common/internal.h"
#include "flow/flow_int.h"

#include <capsift/parse.h>

#include <capsift/decode.h>
#include <capsift/stats.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const sift_stats_config_t default_config = {0};

/* A bounded counter map (open addressing; an entry with packets == 0 is empty). */
typedef struct sift_stats_map {
    sift_stats_entry_t *e;
    size_t mask, count, limit;
    uint64_t other_packets, other_bytes; /* counts of keys past the limit */
} sift_stats_map_t;

struct sift_stats {
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
};

/* ---- bounded counter map ---- */

static int map_init(sift_stats_map_t *m, size_t limit)
{
    memset(m, 0, sizeof *m);
    m->limit = limit;
    return 0;
}

static void map_release(sift_stats_map_t *m)
{
    free(m->e);
    m->e = NULL;
    m->count = m->mask = 0;
}

static int map_grow(sift_stats_map_t *m)
{
    size_t n = m->e ? (m->mask + 1) * 2 : 64;
    sift_stats_entry_t *e = calloc(n, sizeof *e);
    if (!e)
        return SIFT_ENOMEM;
    for (size_t i = 0; m->e && i <= m->mask; i++) {
        if (m->e[i].packets == 0)
            continue;
        size_t j = (size_t)XXH3_64bits(m->e[i].key, 16) & (n - 1);
        while (e[j].packets)
            j = (j + 1) & (n - 1);
        e[j] = m->e[i];
    }
    free(m->e);
    m->e = e;
    m->mask = n - 1;
    return 0;
}

/* Adds to a key's counts; returns its entry (valid until the next add), or NULL when the key
 * went to `other`. */
static sift_stats_entry_t *map_add(sift_stats_map_t *m, const uint8_t key[16], uint64_t packets,
                                   uint64_t bytes)
{
    if (m->e) {
        size_t i = (size_t)XXH3_64bits(key, 16) & m->mask;
        while (m->e[i].packets) {
            if (memcmp(m->e[i].key, key, 16) == 0) {
                m->e[i].packets += packets;
                m->e[i].bytes += bytes;
                return &m->e[i];
            }
            i = (i + 1) & m->mask;
        }
    }
    if (m->count >= m->limit || ((!m->e || (m->count + 1) * 2 > m->mask + 1) && map_grow(m) < 0)) {
        m->other_packets += packets;
        m->other_bytes += bytes;
        return NULL;
    }
    size_t i = (size_t)XXH3_64bits(key, 16) & m->mask;
    while (m->e[i].packets)
        i = (i + 1) & m->mask;
    memcpy(m->e[i].key, key, 16);
    m->e[i].packets = packets;
    m->e[i].bytes = bytes;
    m->count++;
    return &m->e[i];
}

static void map_merge(sift_stats_map_t *a, const sift_stats_map_t *b)
{
    for (size_t i = 0; b->e && i <= b->mask; i++)
        if (b->e[i].packets)
            map_add(a, b->e[i].key, b->e[i].packets, b->e[i].bytes);
    a->other_packets += b->other_packets;
    a->other_bytes += b->other_bytes;
}

/* ---- hierarchy ---- */

static int find_child(sift_stats_t *s, int parent, const char *name)
{
    for (unsigned i = (unsigned)(parent + 1); i < s->nnodes; i++)
        if (s->nodes[i].parent == parent && strcmp(s->nodes[i].name, name) == 0)
            return (int)i;
    if (s->nnodes >= SIFT_STATS_MAX_NODES)
        return -2;
    sift_stats_node_t *n = &s->nodes[s->nnodes];
    memset(n, 0, sizeof *n);
    n->parent = parent;
    n->depth = parent < 0 ? 0 : s->nodes[parent].depth + 1;
    snprintf(n->name, sizeof n->name, "%s", name);
    return (int)s->nnodes++;
}

/* A layer path: the protos of a packet's layers, outermost first (bytes past n are zero). */
typedef struct layer_path {
    uint8_t n;
    uint8_t proto[SIFT_PKT_MAX_LAYERS];
} layer_path_t;

static void path_of(layer_path_t *lp, const sift_packet_t *pkt)
{
    lp->n = (uint8_t)(pkt->nlayers < SIFT_PKT_MAX_LAYERS ? pkt->nlayers : SIFT_PKT_MAX_LAYERS);
    memset(lp->proto, 0, sizeof lp->proto);
    for (unsigned i = 0; i < lp->n; i++)
        lp->proto[i] = (uint8_t)pkt->layers[i].proto;
}

static bool path_eq(const layer_path_t *a, const layer_path_t *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* Outermost first, a path before the longer paths it starts. */
static int path_cmp(const layer_path_t *a, const layer_path_t *b)
{
    unsigned n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->proto, b->proto, n);
    return c ? c : (int)a->n - (int)b->n;
}

/* The leaf node of a layer path (created as needed), or -2 when the tree is full. */
static int path_leaf(sift_stats_t *s, const layer_path_t *lp)
{
    int node = -1;
    unsigned prev = SIFT_PROTO_NONE;
    for (unsigned i = 0; i < lp->n && node != -2; i++) {
        unsigned p = lp->proto[i];
        /* IPv6 extension headers, AH included, are part of "ipv6" in Wireshark's hierarchy */
        bool in_v6 = prev == SIFT_PROTO_IPV6 || prev == SIFT_PROTO_IPV6_EXT;
        if (p == SIFT_PROTO_NONE || ((p == SIFT_PROTO_IPV6_EXT || p == SIFT_PROTO_AH) && in_v6)) {
            prev = p == SIFT_PROTO_AH ? SIFT_PROTO_IPV6_EXT : p;
            continue;
        }
        prev = p;
        node = find_child(s, node, sift_proto_wsname(p));
    }
    return node;
}

/* ---- counts by path (and application name) until the finish ---- */

struct sift_stats_path {
    layer_path_t path;
    char app[sizeof(((sift_stats_node_t *)0)->name)]; /* "" for the path's own counts */
    uint64_t packets, bytes;
};

static uint64_t path_hash(const layer_path_t *lp, const char *app)
{
    return XXH3_64bits_withSeed(lp, sizeof *lp, app[0] ? XXH3_64bits(app, strlen(app)) : 0);
}

static int paths_grow(sift_stats_t *s)
{
    size_t n = s->paths ? (s->paths_mask + 1) * 2 : 64;
    struct sift_stats_path *t = calloc(n, sizeof *t);
    if (!t)
        return SIFT_ENOMEM;
    for (size_t i = 0; s->paths && i <= s->paths_mask; i++) {
        if (!s->paths[i].packets)
            continue;
        size_t j = (size_t)path_hash(&s->paths[i].path, s->paths[i].app) & (n - 1);
        while (t[j].packets)
            j = (j + 1) & (n - 1);
        t[j] = s->paths[i];
    }
    free(s->paths);
    s->paths = t;
    s->paths_mask = n - 1;
    return 0;
}

/* Adds packets along a path, to the path itself (app "") or to an application under it. */
static void path_add(sift_stats_t *s, const layer_path_t *lp, const char *app, uint64_t packets,
                     uint64_t bytes)
{
    if (packets == 0)
        return;
    if ((!s->paths || (s->paths_count + 1) * 2 > s->paths_mask + 1) && paths_grow(s) < 0) {
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: some layer counts are missing");
        return;
    }
    size_t i = (size_t)path_hash(lp, app) & s->paths_mask;
    while (s->paths[i].packets &&
           !(path_eq(&s->paths[i].path, lp) && strcmp(s->paths[i].app, app) == 0))
        i = (i + 1) & s->paths_mask;
    struct sift_stats_path *e = &s->paths[i];
    if (!e->packets) {
        e->path = *lp;
        snprintf(e->app, sizeof e->app, "%.*s", (int)sizeof e->app - 1, app);
        s->paths_count++;
    }
    e->packets += packets;
    e->bytes += bytes;
}

static int cmp_paths(const void *x, const void *y)
{
    const struct sift_stats_path *a = x, *b = y;
    int c = path_cmp(&a->path, &b->path);
    return c ? c : strcmp(a->app, b->app);
}

/* Makes the nodes of the counted paths, in path order; the paths' counts go to them. */
static void paths_to_nodes(sift_stats_t *s)
{
    if (!s->paths)
        return; /* no packet */
    size_t n = 0;
    for (size_t i = 0; i <= s->paths_mask; i++)
        if (s->paths[i].packets)
            s->paths[n++] = s->paths[i];
    qsort(s->paths, n, sizeof *s->paths, cmp_paths);
    for (int apps = 0; apps < 2; apps++) { /* layer nodes first, then application nodes */
        for (size_t i = 0; i < n; i++) {
            const struct sift_stats_path *p = &s->paths[i];
            if ((p->app[0] != '\0') != apps)
                continue;
            int leaf = path_leaf(s, &p->path);
            if (leaf >= 0 && apps)
                leaf = find_child(s, leaf, p->app); /* the application node only */
            if (leaf == -2) {
                s->nodes_dropped += p->packets;
                continue;
            }
            for (int k = leaf; k >= 0; k = apps ? -1 : s->nodes[k].parent) {
                s->nodes[k].packets += p->packets;
                s->nodes[k].bytes += p->bytes;
            }
        }
    }
    free(s->paths);
    s->paths = NULL;
    s->paths_mask = s->paths_count = 0;
}

/* ---- what a flow keeps ---- */

/* A flow's packets along one layer path. */
typedef struct flow_part {
    layer_path_t path;
    uint64_t packets, bytes;
    uint64_t payload_packets, payload_bytes;
} flow_part_t;

typedef struct stats_flow {
    flow_part_t first;
    flow_part_t *more; /* other paths (rare: the same flow seen through different layers) */
    uint32_t nmore, more_cap;
    uint64_t l4_packets, l4_bytes; /* with a transport header: what the ports count */
    bool lost;                     /* memory ran out: some counts are missing */
} stats_flow_t;

static flow_part_t *part_of(stats_flow_t *sf, const layer_path_t *lp)
{
    if (sf->first.packets == 0 || path_eq(&sf->first.path, lp)) {
        sf->first.path = *lp;
        return &sf->first;
    }
    for (uint32_t i = 0; i < sf->nmore; i++)
        if (path_eq(&sf->more[i].path, lp))
            return &sf->more[i];
    if (sf->nmore == sf->more_cap) {
        uint32_t ncap = sf->more_cap ? sf->more_cap * 2 : 2;
        flow_part_t *n = realloc(sf->more, ncap * sizeof *n);
        if (!n) {
            sf->lost = true;
            return NULL;
        }
        sf->more = n;
        sf->more_cap = ncap;
    }
    flow_part_t *p = &sf->more[sf->nmore++];
    memset(p, 0, sizeof *p);
    p->path = *lp;
    return p;
}

static void part_add(stats_flow_t *sf, const flow_part_t *b)
{
    flow_part_t *p = part_of(sf, &b->path);
    if (!p)
        return;
    p->packets += b->packets;
    p->bytes += b->bytes;
    p->payload_packets += b->payload_packets;
    p->payload_bytes += b->payload_bytes;
}

static void stats_flow_join(void *into, const void *from)
{
    stats_flow_t *a = into;
    const stats_flow_t *b = from;
    if (b->first.packets)
        part_add(a, &b->first);
    for (uint32_t i = 0; i < b->nmore; i++)
        part_add(a, &b->more[i]);
    a->l4_packets += b->l4_packets;
    a->l4_bytes += b->l4_bytes;
    a->lost = a->lost || b->lost;
}

static void stats_flow_release(void *fs)
{
    stats_flow_t *sf = fs;
    free(sf->more);
    sf->more = NULL;
    sf->nmore = sf->more_cap = 0;
}

static void port_key(uint8_t key[16], uint8_t proto, uint16_t port)
{
    memset(key, 0, 16);
    key[0] = proto;
    key[2] = (uint8_t)(port >> 8);
    key[3] = (uint8_t)port;
}

static void part_end(sift_stats_t *s, const flow_part_t *p, const char *app)
{
    path_add(s, &p->path, "", p->packets, p->bytes);
    if (app[0])
        path_add(s, &p->path, app, p->payload_packets, p->payload_bytes);
}

/* A flow ends: its counts go to its addresses, ports, paths and application. */
static void stats_flow_end(void *state, const sift_flows_t *flows, const sift_flow_t *f, void *fs)
{
    sift_stats_t *s = state;
    const stats_flow_t *sf = fs;
    if (!sf)
        return;
    if (sf->lost)
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: some layer counts are missing");
    uint64_t packets = f->packets[0] + f->packets[1], bytes = f->bytes[0] + f->bytes[1];
    map_add(&s->hosts, f->key.lo, packets, bytes);
    if (memcmp(f->key.lo, f->key.hi, 16) != 0)
        map_add(&s->hosts, f->key.hi, packets, bytes);
    if (sf->l4_packets) {
        uint8_t key[16];
        port_key(key, f->key.proto, f->key.lo_port);
        map_add(&s->ports, key, sf->l4_packets, sf->l4_bytes);
        if (f->key.hi_port != f->key.lo_port) {
            port_key(key, f->key.proto, f->key.hi_port);
            map_add(&s->ports, key, sf->l4_packets, sf->l4_bytes);
        }
    }
    char full[SIFT_FLOW_APP_NAME_MAX * 2 + 2], app[sizeof(((sift_stats_node_t *)0)->name)] = "";
    if (f->app_state == SIFT_FLOW_APP_DONE && (f->app_master || f->app_id)) {
        sift_flows_app_name(flows, f, full, sizeof full);
        snprintf(app, sizeof app, "%.*s", (int)sizeof app - 1, full);
    }
    if (sf->first.packets)
        part_end(s, &sf->first, app);
    for (uint32_t i = 0; i < sf->nmore; i++)
        part_end(s, &sf->more[i], app);
}

/* ---- the pass ---- */

static int stats_init(void *state, const void *config)
{
    sift_stats_t *s = state;
    const sift_stats_config_t *c = config ? config : &default_config;
    s->interval_ns = c->interval_ns > 0 ? c->interval_ns : SIFT_FLOW_NS_PER_S;
    size_t lim = c->max_keys ? c->max_keys : SIFT_STATS_DEFAULT_KEYS;
    map_init(&s->hosts, lim);
    map_init(&s->ports, lim);
    map_init(&s->timeline, lim);
    s->nodes = calloc(SIFT_STATS_MAX_NODES, sizeof *s->nodes);
    if (!s->nodes)
        return SIFT_ENOMEM;
    s->app = !c->no_app;
    return 0;
}

static unsigned size_bucket(uint32_t len)
{
    unsigned b = 0;
    for (uint32_t lim = 20; b < SIFT_STATS_NSIZES - 1 && len >= lim; lim *= 2)
        b++;
    return b;
}

uint32_t sift_stats_size_lower(unsigned i)
{
    return i == 0 ? 0 : 20u << (i - 1);
}

/* The packet's interval: most packets fall in the one before, whose entry is remembered. */
static void count_interval(sift_stats_t *s, int64_t ts_ns, uint64_t len)
{
    int64_t idx = sift__floor_div(ts_ns, s->interval_ns);
    sift_stats_entry_t *e = s->tl_last;
    if (e && idx == s->tl_idx) {
        e->packets++;
        e->bytes += len;
        return;
    }
    uint8_t key[16] = {0};
    memcpy(key, &idx, sizeof idx);
    s->tl_last = map_add(&s->timeline, key, 1, len);
    s->tl_idx = idx;
}

static void stats_packet(void *state, const sift_packet_t *pkt)
{
    sift_stats_t *s = state;
    const sift_record_t *r = pkt->rec;
    const uint64_t len = r->wirelen;
    s->packets++;
    s->bytes += len;
    unsigned b = size_bucket(r->wirelen);
    s->size_packets[b]++;
    s->size_bytes[b] += len;
    if (!(r->flags & SIFT_RECORD_NO_TS))
        count_interval(s, r->ts_ns, len);
    layer_path_t lp;
    path_of(&lp, pkt);
    stats_flow_t *sf = pkt->flow_state;
    if (sf) { /* counted with its flow when the flow ends */
        flow_part_t *p = part_of(sf, &lp);
        if (p) {
            p->packets++;
            p->bytes += len;
            if (pkt->payload_len > 0) {
                p->payload_packets++;
                p->payload_bytes += len;
            }
        }
        if (pkt->flags & SIFT_PKT_L4) {
            sf->l4_packets++;
            sf->l4_bytes += len;
        }
        return;
    }
    if (pkt->flags & SIFT_PKT_L3) {
        map_add(&s->hosts, pkt->src, 1, len);
        if (memcmp(pkt->src, pkt->dst, 16) != 0)
            map_add(&s->hosts, pkt->dst, 1, len);
        if (pkt->flags & SIFT_PKT_L4) {
            uint8_t key[16];
            port_key(key, pkt->ip_proto, pkt->sport);
            map_add(&s->ports, key, 1, len);
            if (pkt->dport != pkt->sport) {
                port_key(key, pkt->ip_proto, pkt->dport);
                map_add(&s->ports, key, 1, len);
            }
        }
    }
    path_add(s, &lp, "", 1, len);
}

/* The nodes of the finished state: every flow has ended (flow_end) by now. */
static void stats_finish(void *state)
{
    paths_to_nodes(state);
}

static int stats_merge(void *into, const void *from)
{
    sift_stats_t *a = into;
    const sift_stats_t *b = from;
    a->packets += b->packets;
    a->bytes += b->bytes;
    for (unsigned i = 0; i < SIFT_STATS_NSIZES; i++) {
        a->size_packets[i] += b->size_packets[i];
        a->size_bytes[i] += b->size_bytes[i];
    }
    map_merge(&a->hosts, &b->hosts);
    map_merge(&a->ports, &b->ports);
    map_merge(&a->timeline, &b->timeline);
    a->tl_last = NULL; /* entries may have moved */
    for (size_t i = 0; b->paths && i <= b->paths_mask; i++)
        if (b->paths[i].packets)
            path_add(a, &b->paths[i].path, b->paths[i].app, b->paths[i].packets, b->paths[i].bytes);
    /* nodes (of finished states): parents precede children, so mapping in index order finds
     * each parent mapped */
    int map[SIFT_STATS_MAX_NODES];
    for (unsigned i = 0; i < b->nnodes; i++) {
        const sift_stats_node_t *n = &b->nodes[i];
        int parent = n->parent < 0 ? -1 : map[n->parent];
        int k = parent == -2 ? -2 : find_child(a, parent, n->name);
        map[i] = k;
        if (k < 0) {
            if (n->parent < 0 || parent != -2)
                a->nodes_dropped += n->packets;
            continue;
        }
        a->nodes[k].packets += n->packets;
        a->nodes[k].bytes += n->bytes;
    }
    a->nodes_dropped += b->nodes_dropped;
    return 0;
}

static void stats_release(void *state)
{
    sift_stats_t *s = state;
    free(s->paths);
    s->paths = NULL;
    map_release(&s->hosts);
    map_release(&s->ports);
    map_release(&s->timeline);
    free(s->nodes);
    s->nodes = NULL;
}

static void stats_declare(const void *config, sift_need_t *needs, unsigned *flags)
{
    const sift_stats_config_t *c = config;
    *needs = sift_stats_needs(c);
    if (c && c->no_app)
        *flags &= ~SIFT_PASS_FLOWS;
}

/* ---- the result cache ----
 *
 * A final state (nodes made, no counts by path left): its counters, nodes and maps as 8-byte
 * numbers and fixed-size fields (host order); a map's entries keep their slots, so a loaded
 * map lists them in the same order as the computed one. */

enum { STATS_FIELDS = 6 + 2 * SIFT_STATS_NSIZES, NODE_BYTES = 8 + 32 + 16, ENTRY_BYTES = 8 + 32 };

static void stats_cache_key(const void *config, sift_cache_keyb_t *kb)
{
    const sift_stats_config_t *c = config ? config : &default_config;
    sift_cache_keyb_u64(kb, c->interval_ns > 0 ? (uint64_t)c->interval_ns : SIFT_FLOW_NS_PER_S);
    sift_cache_keyb_u64(kb, c->max_keys ? c->max_keys : SIFT_STATS_DEFAULT_KEYS);
    sift_cache_keyb_u64(kb, c->no_app);
}

static void map_save(sift_blob_t *out, const sift_stats_map_t *m)
{
    const uint64_t h[4] = {m->e ? m->mask + 1 : 0, m->count, m->other_packets, m->other_bytes};
    sift_blob_put(out, h, sizeof h);
    for (size_t i = 0; m->e && i <= m->mask; i++) {
        if (m->e[i].packets == 0)
            continue;
        const uint64_t slot = i;
        sift_blob_put(out, &slot, sizeof slot);
        sift_blob_put(out, m->e[i].key, sizeof m->e[i].key);
        const uint64_t c[2] = {m->e[i].packets, m->e[i].bytes};
        sift_blob_put(out, c, sizeof c);
    }
}

static int map_load(sift_blob_reader_t *in, sift_stats_map_t *m)
{
    uint64_t h[4];
    if (!sift_blob_get(in, h, sizeof h) || (h[0] & (h[0] - 1)) != 0 || h[1] > h[0] ||
        h[1] > m->limit || h[1] > (uint64_t)(in->end - in->p) / ENTRY_BYTES)
        return SIFT_ECORRUPT;
    m->other_packets = h[2];
    m->other_bytes = h[3];
    if (h[0] == 0)
        return h[1] == 0 ? 0 : SIFT_ECORRUPT;
    if (h[0] > SIZE_MAX / sizeof *m->e || !(m->e = calloc((size_t)h[0], sizeof *m->e)))
        return SIFT_ENOMEM;
    m->mask = (size_t)h[0] - 1;
    for (uint64_t k = 0; k < h[1]; k++) {
        uint64_t slot, c[2];
        uint8_t key[16];
        if (!sift_blob_get(in, &slot, sizeof slot) || !sift_blob_get(in, key, sizeof key) ||
            !sift_blob_get(in, c, sizeof c) || slot > m->mask || c[0] == 0 || m->e[slot].packets)
            return SIFT_ECORRUPT;
        memcpy(m->e[slot].key, key, sizeof key);
        m->e[slot].packets = c[0];
        m->e[slot].bytes = c[1];
    }
    m->count = (size_t)h[1];
    return 0;
}

static void stats_save(const void *state, sift_blob_t *out)
{
    const sift_stats_t *s = state;
    if (s->paths_count) {
        out->failed = true; /* not a final state: nothing to store */
        return;
    }
    uint64_t v[STATS_FIELDS] = {s->packets, s->bytes,         (uint64_t)s->interval_ns,
                                s->nnodes,  s->nodes_dropped, s->app};
    for (unsigned i = 0; i < SIFT_STATS_NSIZES; i++) {
        v[6 + i] = s->size_packets[i];
        v[6 + SIFT_STATS_NSIZES + i] = s->size_bytes[i];
    }
    sift_blob_put(out, v, sizeof v);
    for (unsigned i = 0; i < s->nnodes; i++) {
        const sift_stats_node_t *n = &s->nodes[i];
        const int32_t parent = n->parent;
        const uint32_t depth = n->depth;
        const uint64_t c[2] = {n->packets, n->bytes};
        sift_blob_put(out, &parent, sizeof parent);
        sift_blob_put(out, &depth, sizeof depth);
        sift_blob_put(out, n->name, sizeof n->name);
        sift_blob_put(out, c, sizeof c);
    }
    map_save(out, &s->hosts);
    map_save(out, &s->ports);
    map_save(out, &s->timeline);
}

static int stats_load(void *state, sift_blob_reader_t *in)
{
    sift_stats_t *s = state;
    uint64_t v[STATS_FIELDS];
    if (!sift_blob_get(in, v, sizeof v) || v[3] > SIFT_STATS_MAX_NODES ||
        v[3] > (uint64_t)(in->end - in->p) / NODE_BYTES || (int64_t)v[2] != s->interval_ns)
        return SIFT_ECORRUPT;
    s->packets = v[0];
    s->bytes = v[1];
    s->nodes_dropped = v[4];
    s->app = v[5] != 0;
    for (unsigned i = 0; i < SIFT_STATS_NSIZES; i++) {
        s->size_packets[i] = v[6 + i];
        s->size_bytes[i] = v[6 + SIFT_STATS_NSIZES + i];
    }
    for (unsigned i = 0; i < (unsigned)v[3]; i++) {
        sift_stats_node_t *n = &s->nodes[i];
        int32_t parent;
        uint32_t depth;
        uint64_t c[2];
        if (!sift_blob_get(in, &parent, sizeof parent) ||
            !sift_blob_get(in, &depth, sizeof depth) ||
            !sift_blob_get(in, n->name, sizeof n->name) || !sift_blob_get(in, c, sizeof c) ||
            parent < -1 || parent >= (int32_t)i || n->name[sizeof n->name - 1] != '\0' ||
            depth != (parent < 0 ? 0 : s->nodes[parent].depth + 1))
            return SIFT_ECORRUPT; /* a parent precedes its children */
        n->parent = parent;
        n->depth = depth;
        n->packets = c[0];
        n->bytes = c[1];
    }
    s->nnodes = (unsigned)v[3];
    int rc = map_load(in, &s->hosts);
    if (rc == 0)
        rc = map_load(in, &s->ports);
    if (rc == 0)
        rc = map_load(in, &s->timeline);
    return rc;
}

const sift_pass_t sift_stats_pass = {
    .name = "stats",
    .needs = SIFT_NEED_PAYLOAD,
    .state_size = sizeof(sift_stats_t),
    .init = stats_init,
    .packet = stats_packet,
    .merge = stats_merge,
    .finish = stats_finish,
    .release = stats_release,
    .flags = SIFT_PASS_FLOWS,
    .declare = stats_declare,
    .flow_state_size = sizeof(stats_flow_t),
    .flow_join = stats_flow_join,
    .flow_release = stats_flow_release,
    .flow_end = stats_flow_end,
    .cache_version = 1,
    .cache_key = stats_cache_key,
    .save = stats_save,
    .load = stats_load,
};

sift_need_t sift_stats_needs(const sift_stats_config_t *config)
{
    return config && config->no_app ? SIFT_NEED_TRANSPORT : SIFT_NEED_PAYLOAD;
}

int sift_stats_parse_interval(const char *s, int64_t *ns)
{
    return sift_parse_duration(s, 1, INT64_MAX / 2, ns) < 0 ? SIFT_EPARSE : 0;
}

/* ---- reading a state ---- */

static const sift_stats_map_t *map_of(const sift_stats_t *s, sift_stats_map_id_t id)
{
    return id == SIFT_STATS_HOSTS ? &s->hosts : id == SIFT_STATS_PORTS ? &s->ports : &s->timeline;
}

void sift_stats_summary(const sift_stats_t *s, sift_stats_summary_t *out)
{
    memset(out, 0, sizeof *out);
    out->packets = s->packets;
    out->bytes = s->bytes;
    out->interval_ns = s->interval_ns;
    out->nnodes = s->nnodes;
    out->nodes_dropped = s->nodes_dropped;
    memcpy(out->size_packets, s->size_packets, sizeof out->size_packets);
    memcpy(out->size_bytes, s->size_bytes, sizeof out->size_bytes);
    out->app = s->app;
    for (int m = 0; m < SIFT_STATS_NMAPS; m++) {
        const sift_stats_map_t *map = map_of(s, (sift_stats_map_id_t)m);
        out->keys[m] = map->count;
        out->other_packets[m] = map->other_packets;
        out->other_bytes[m] = map->other_bytes;
    }
}

const sift_stats_node_t *sift_stats_node(const sift_stats_t *s, unsigned i)
{
    return i < s->nnodes ? &s->nodes[i] : NULL;
}

int64_t sift_stats_interval_index(const sift_stats_entry_t *e)
{
    int64_t v;
    memcpy(&v, e->key, sizeof v);
    return v;
}

/* The order of sift_stats_entries: negative when a comes first. */
static int by_bytes(const void *pa, const void *pb)
{
    const sift_stats_entry_t *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return memcmp(a->key, b->key, 16);
}

static int by_time(const void *pa, const void *pb)
{
    int64_t a = sift_stats_interval_index(pa), b = sift_stats_interval_index(pb);
    return a < b ? -1 : a > b;
}

/* Restores the heap (the entry that comes last at the root) below node i of n. */
static void sift_down(sift_stats_entry_t *h, size_t n, size_t i,
                      int (*cmp)(const void *, const void *))
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cmp(&h[l], &h[m]) > 0)
            m = l;
        if (r < n && cmp(&h[r], &h[m]) > 0)
            m = r;
        if (m == i)
            return;
        sift_stats_entry_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

int64_t sift_stats_entries(const sift_stats_t *s, sift_stats_map_id_t map, size_t k,
                           sift_stats_entry_t **out)
{
    const sift_stats_map_t *m = map_of(s, map);
    int (*cmp)(const void *, const void *) = map == SIFT_STATS_TIMELINE ? by_time : by_bytes;
    *out = NULL;
    size_t want = k && k < m->count ? k : m->count;
    if (want == 0)
        return 0;
    sift_stats_entry_t *v = malloc(want * sizeof *v);
    if (!v)
        return SIFT_ENOMEM;
    /* the first `want` in a heap whose root comes last; each later entry that comes before
     * the root replaces it */
    size_t n = 0;
    for (size_t i = 0; i <= m->mask; i++) {
        const sift_stats_entry_t *e = &m->e[i];
        if (e->packets == 0)
            continue;
        if (n < want) {
            v[n++] = *e;
            if (n == want)
                for (size_t j = want / 2; j-- > 0;)
                    sift_down(v, want, j, cmp);
        } else if (cmp(e, &v[0]) < 0) {
            v[0] = *e;
            sift_down(v, want, 0, cmp);
        }
    }
    qsort(v, want, sizeof *v, cmp);
    *out = v;
    return (int64_t)want;
}
