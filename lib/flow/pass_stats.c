/* The stats pass: counters per hierarchy node, address, port, size bucket and interval.
 *
 * The hierarchy path of a packet is found through a small direct-mapped cache keyed by a hash
 * of its layer list (and application id), so the per-packet cost is one hash and a walk up the
 * parents. The application level needs nDPI, which needs flows: the state embeds a flows-pass
 * state for that alone. A packet's application is the one its flow has when the packet is
 * counted (nDPI usually names a flow on its first payload packet; payload packets before that
 * get no application node). The embedded flows are not merged: each state classifies its own
 * packets, and merge frees the `from` state's flows as soon as its counts are taken.
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

static const char *app_of(sift_stats_t *s, const sift_packet_t *pkt, char *buf, size_t size)
{
    if (!s->app || pkt->payload_len == 0)
        return NULL;
    sift_flow_key_t k;
    int dir;
    if (!sift_flow_key_make(&k, &dir, pkt, false))
        return NULL;
    const sift_flow_t *f = sift_flow_table_find(&s->flows.table, &k);
    if (!f || f->app_state != SIFT_FLOW_APP_DONE || (f->app_master == 0 && f->app_id == 0))
        return NULL;
    return sift_flows_app_name(&s->flows, f, buf, size);
}

/* The leaf node of a packet's path (created as needed), or -2 when the tree is full. */
static int path_leaf(sift_stats_t *s, const sift_packet_t *pkt, const char *app)
{
    int node = -1;
    unsigned prev = SIFT_PROTO_NONE;
    for (unsigned i = 0; i < pkt->nlayers && node != -2; i++) {
        unsigned p = pkt->layers[i].proto;
        /* IPv6 extension headers, AH included, are part of "ipv6" in Wireshark's hierarchy */
        bool in_v6 = prev == SIFT_PROTO_IPV6 || prev == SIFT_PROTO_IPV6_EXT;
        if (p == SIFT_PROTO_NONE || ((p == SIFT_PROTO_IPV6_EXT || p == SIFT_PROTO_AH) && in_v6)) {
            prev = p == SIFT_PROTO_AH ? SIFT_PROTO_IPV6_EXT : p;
            continue;
        }
        prev = p;
        node = find_child(s, node, sift_proto_wsname(p));
    }
    if (app && node != -2)
        node = find_child(s, node, app);
    return node;
}

static uint64_t path_signature(const sift_packet_t *pkt, const char *app)
{
    uint8_t buf[SIFT_PKT_MAX_LAYERS + 40];
    size_t n = 0;
    for (unsigned i = 0; i < pkt->nlayers && i < SIFT_PKT_MAX_LAYERS; i++)
        buf[n++] = (uint8_t)pkt->layers[i].proto;
    buf[n++] = 0xff;
    if (app) {
        size_t l = strlen(app);
        if (l > 32)
            l = 32;
        memcpy(buf + n, app, l);
        n += l;
    }
    return XXH3_64bits(buf, n) | 1; /* never 0: 0 marks an empty cache entry */
}

static void count_path(sift_stats_t *s, const sift_packet_t *pkt, uint64_t bytes)
{
    char buf[SIFT_FLOW_APP_NAME_MAX * 2 + 2];
    const char *app = app_of(s, pkt, buf, sizeof buf);
    uint64_t sig = path_signature(pkt, app);
    uint64_t *c = &s->cache[2 * (sig & (CACHE_SIZE - 1))];
    int leaf;
    if (c[0] == sig) {
        leaf = (int)c[1];
    } else {
        leaf = path_leaf(s, pkt, app);
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
    s->self = s;
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
    if (s->app) {
        sift_flows_config_t fc = {.no_app = false, .table = {.max_flows = c->max_flows}};
        int rc = sift_flows_pass.init(&s->flows, &fc);
        if (rc < 0) {
            free(s->nodes);
            free(s->cache);
            return rc;
        }
    }
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
        if (s->app)
            sift_flows_pass.packet(&s->flows, pkt);
    }
    count_path(s, pkt, len);
}

static int stats_merge(void *into, const void *from)
{
    sift_stats_t *a = into;
    const sift_stats_t *b = from;
    if (b->app)
        sift_flows_pass.release(&b->self->flows); /* its counts are taken: free it early */
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
    memset(a->cache, 0, 2 * CACHE_SIZE * sizeof *a->cache); /* node ids may have been added */
    return 0;
}

static void stats_release(void *state)
{
    sift_stats_t *s = state;
    if (s->app)
        sift_flows_pass.release(&s->flows);
    map_release(&s->hosts);
    map_release(&s->ports);
    map_release(&s->timeline);
    free(s->nodes);
    free(s->cache);
    s->nodes = NULL;
    s->cache = NULL;
}

const sift_pass_t sift_stats_pass = {
    .name = "stats",
    .needs = SIFT_NEED_APP,
    .state_size = sizeof(sift_stats_t),
    .init = stats_init,
    .packet = stats_packet,
    .merge = stats_merge,
    .release = stats_release,
};

sift_need_t sift_stats_needs(const sift_stats_config_t *config)
{
    return config && config->no_app ? SIFT_NEED_TRANSPORT : SIFT_NEED_APP;
}

int sift_stats_parse_interval(const char *s, int64_t *ns)
{
    return sift_parse_duration(s, 1, INT64_MAX / 2, ns) < 0 ? SIFT_EPARSE : 0;
}
