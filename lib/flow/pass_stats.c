/* The stats pass: counters per hierarchy node, address, port, size bucket and interval.
 *
 * The hierarchy path of a packet is found through a small direct-mapped cache keyed by a hash
 * of its layer list, so the per-packet cost is one hash and a walk up the parents.
 *
 * The application level is built on the engine's flows: a flow's packets that carry payload
 * count under the application nDPI names for the flow in the end, whether they came before or
 * after it was named. Each flow keeps, per layer path, the packets and bytes with payload
 * (usually one path a flow); when the flow ends, its application is final and they go to an
 * application node under that path. Nodes are added in the order of (path, name), so the tree
 * does not depend on the order in which flows end, nor on how the file was split.
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

#define CACHE_SIZE 256u /* path cache entries: signature, leaf (two words each) */

static const sift_stats_config_t default_config = {0};

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

static void map_add(sift_stats_map_t *m, const uint8_t key[16], uint64_t packets, uint64_t bytes)
{
    if (m->e) {
        size_t i = (size_t)XXH3_64bits(key, 16) & m->mask;
        while (m->e[i].packets) {
            if (memcmp(m->e[i].key, key, 16) == 0) {
                m->e[i].packets += packets;
                m->e[i].bytes += bytes;
                return;
            }
            i = (i + 1) & m->mask;
        }
    }
    if (m->count >= m->limit || ((!m->e || (m->count + 1) * 2 > m->mask + 1) && map_grow(m) < 0)) {
        m->other_packets += packets;
        m->other_bytes += bytes;
        return;
    }
    size_t i = (size_t)XXH3_64bits(key, 16) & m->mask;
    while (m->e[i].packets)
        i = (i + 1) & m->mask;
    memcpy(m->e[i].key, key, 16);
    m->e[i].packets = packets;
    m->e[i].bytes = bytes;
    m->count++;
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

/* A layer path: the protos of a packet's layers, outermost first. */
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

/* Payload packets of one flow along one layer path. */
typedef struct app_part {
    layer_path_t path;
    uint64_t packets, bytes;
} app_part_t;

/* What a flow keeps (its bytes in the flow table). */
typedef struct stats_flow {
    app_part_t first;
    app_part_t *more; /* other paths (rare: the same flow seen through different layers) */
    uint32_t nmore, more_cap;
    bool lost; /* memory ran out: some counts are missing */
} stats_flow_t;

/* Application counts waiting for the finish: (leaf node, name). */
struct sift_stats_app {
    int leaf;
    char name[sizeof(((sift_stats_node_t *)0)->name)]; /* as the node will have it */
    uint64_t packets, bytes;
};

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

static uint64_t path_signature(const layer_path_t *lp)
{
    return XXH3_64bits(lp, sizeof *lp) | 1; /* never 0: 0 marks an empty cache entry */
}

static void count_path(sift_stats_t *s, const layer_path_t *lp, uint64_t bytes)
{
    uint64_t sig = path_signature(lp);
    uint64_t *c = &s->cache[2 * (sig & (CACHE_SIZE - 1))];
    int leaf;
    if (c[0] == sig) {
        leaf = (int)c[1];
    } else {
        leaf = path_leaf(s, lp);
        if (leaf == -2) {
            s->nodes_dropped++;
            return;
        }
        c[0] = sig;
        c[1] = (uint64_t)leaf;
    }
    for (int n = leaf; n >= 0; n = s->nodes[n].parent) {
        s->nodes[n].packets++;
        s->nodes[n].bytes += bytes;
    }
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
    s->cache = calloc(2 * CACHE_SIZE, sizeof *s->cache);
    if (!s->nodes || !s->cache) {
        free(s->nodes);
        free(s->cache);
        return SIFT_ENOMEM;
    }
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

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void port_key(uint8_t key[16], uint8_t proto, uint16_t port)
{
    memset(key, 0, 16);
    key[0] = proto;
    key[2] = (uint8_t)(port >> 8);
    key[3] = (uint8_t)port;
}

static bool path_eq(const layer_path_t *a, const layer_path_t *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* Adds payload packets of a flow along a path. */
static void flow_add(stats_flow_t *sf, const layer_path_t *lp, uint64_t packets, uint64_t bytes)
{
    app_part_t *part = NULL;
    if (sf->first.packets == 0 || path_eq(&sf->first.path, lp)) {
        part = &sf->first;
    } else {
        for (uint32_t i = 0; i < sf->nmore && !part; i++)
            if (path_eq(&sf->more[i].path, lp))
                part = &sf->more[i];
        if (!part) {
            if (sf->nmore == sf->more_cap) {
                uint32_t ncap = sf->more_cap ? sf->more_cap * 2 : 2;
                app_part_t *n = realloc(sf->more, ncap * sizeof *n);
                if (!n) {
                    sf->lost = true;
                    return;
                }
                sf->more = n;
                sf->more_cap = ncap;
            }
            part = &sf->more[sf->nmore++];
            memset(part, 0, sizeof *part);
        }
    }
    part->path = *lp;
    part->packets += packets;
    part->bytes += bytes;
}

static void stats_flow_join(void *into, const void *from)
{
    const stats_flow_t *b = from;
    stats_flow_t *a = into;
    if (b->first.packets)
        flow_add(a, &b->first.path, b->first.packets, b->first.bytes);
    for (uint32_t i = 0; i < b->nmore; i++)
        flow_add(a, &b->more[i].path, b->more[i].packets, b->more[i].bytes);
    a->lost = a->lost || b->lost;
}

static void stats_flow_release(void *fs)
{
    stats_flow_t *sf = fs;
    free(sf->more);
    sf->more = NULL;
    sf->nmore = sf->more_cap = 0;
}

static int app_add(sift_stats_t *s, int leaf, const char *name, uint64_t packets, uint64_t bytes)
{
    uint64_t h = XXH3_64bits_withSeed(name, strlen(name), (uint64_t)leaf);
    if (s->apps_count * 2 >= s->apps_mask) { /* grow (and set up) at half full */
        size_t n = s->apps_mask ? (s->apps_mask + 1) * 2 : 64;
        struct sift_stats_app *t = calloc(n, sizeof *t);
        if (!t)
            return SIFT_ENOMEM;
        for (size_t i = 0; s->apps && i <= s->apps_mask; i++) {
            if (!s->apps[i].name[0])
                continue;
            size_t j = XXH3_64bits_withSeed(s->apps[i].name, strlen(s->apps[i].name),
                                            (uint64_t)s->apps[i].leaf) &
                       (n - 1);
            while (t[j].name[0])
                j = (j + 1) & (n - 1);
            t[j] = s->apps[i];
        }
        free(s->apps);
        s->apps = t;
        s->apps_mask = n - 1;
    }
    size_t i = (size_t)h & s->apps_mask;
    while (s->apps[i].name[0] && (s->apps[i].leaf != leaf || strcmp(s->apps[i].name, name) != 0))
        i = (i + 1) & s->apps_mask;
    if (!s->apps[i].name[0]) {
        s->apps[i].leaf = leaf;
        snprintf(s->apps[i].name, sizeof s->apps[i].name, "%.*s", (int)sizeof s->apps[i].name - 1,
                 name);
        s->apps_count++;
    }
    s->apps[i].packets += packets;
    s->apps[i].bytes += bytes;
    return 0;
}

static void app_part_end(sift_stats_t *s, const app_part_t *part, const char *name)
{
    int leaf = path_leaf(s, &part->path);
    if (leaf >= 0 && app_add(s, leaf, name, part->packets, part->bytes) < 0)
        s->oom = true;
}

/* A flow's application is final: its payload packets go under it. */
static void stats_flow_end(void *state, const sift_flows_t *flows, const sift_flow_t *f, void *fs)
{
    sift_stats_t *s = state;
    const stats_flow_t *sf = fs;
    if (sf && sf->lost)
        s->oom = true;
    if (!sf || sf->first.packets == 0 || f->app_state != SIFT_FLOW_APP_DONE ||
        (f->app_master == 0 && f->app_id == 0))
        return;
    char full[SIFT_FLOW_APP_NAME_MAX * 2 + 2], name[sizeof(((sift_stats_node_t *)0)->name)];
    sift_flows_app_name(flows, f, full, sizeof full);
    snprintf(name, sizeof name, "%.*s", (int)sizeof name - 1, full);
    app_part_end(s, &sf->first, name);
    for (uint32_t i = 0; i < sf->nmore; i++)
        app_part_end(s, &sf->more[i], name);
}

static int cmp_app(const void *x, const void *y)
{
    const struct sift_stats_app *a = x, *b = y;
    if (a->leaf != b->leaf)
        return a->leaf < b->leaf ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Adds the application nodes, in (path, name) order. */
static void stats_finish(void *state)
{
    sift_stats_t *s = state;
    if (!s->apps)
        return;
    size_t n = 0;
    for (size_t i = 0; i <= s->apps_mask; i++)
        if (s->apps[i].name[0])
            s->apps[n++] = s->apps[i];
    qsort(s->apps, n, sizeof *s->apps, cmp_app);
    for (size_t i = 0; i < n; i++) {
        int k = find_child(s, s->apps[i].leaf, s->apps[i].name);
        if (k < 0) {
            s->nodes_dropped += s->apps[i].packets;
            continue;
        }
        s->nodes[k].packets += s->apps[i].packets;
        s->nodes[k].bytes += s->apps[i].bytes;
    }
    free(s->apps);
    s->apps = NULL;
    s->apps_mask = s->apps_count = 0;
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
    if (!(r->flags & SIFT_RECORD_NO_TS)) {
        uint8_t key[16] = {0};
        int64_t idx = floor_div(r->ts_ns, s->interval_ns);
        memcpy(key, &idx, sizeof idx);
        map_add(&s->timeline, key, 1, len);
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
    layer_path_t lp;
    path_of(&lp, pkt);
    count_path(s, &lp, len);
    if (pkt->flow_state && pkt->payload_len > 0)
        flow_add(pkt->flow_state, &lp, 1, len);
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
    /* nodes: parents precede children, so mapping in index order finds each parent mapped */
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
    a->oom = a->oom || b->oom;
    memset(a->cache, 0, 2 * CACHE_SIZE * sizeof *a->cache); /* node ids may have been added */
    return 0;
}

static void stats_release(void *state)
{
    sift_stats_t *s = state;
    free(s->apps);
    s->apps = NULL;
    map_release(&s->hosts);
    map_release(&s->ports);
    map_release(&s->timeline);
    free(s->nodes);
    free(s->cache);
    s->nodes = NULL;
    s->cache = NULL;
}

static void stats_declare(const void *config, sift_need_t *needs, unsigned *flags)
{
    const sift_stats_config_t *c = config;
    *needs = sift_stats_needs(c);
    if (c && c->no_app)
        *flags &= ~SIFT_PASS_FLOWS;
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
};

sift_need_t sift_stats_needs(const sift_stats_config_t *config)
{
    return config && config->no_app ? SIFT_NEED_TRANSPORT : SIFT_NEED_PAYLOAD;
}

int sift_stats_parse_interval(const char *s, int64_t *ns)
{
    return sift_parse_duration(s, 1, INT64_MAX / 2, ns) < 0 ? SIFT_EPARSE : 0;
}
