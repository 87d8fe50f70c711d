/* The periodic pass: events (exchanges that begin) per (source, destination or server name,
 * protocol, port).
 *
 * A flow keeps its exchanges in its per-flow bytes while it lasts: each begins at the flow's
 * first packet, at a TCP SYN without ACK, or after a silence of at least the gap (from the flow's
 * packet before it in the file, so that timestamps going back decide alike however it is split). A
 * range of a file after its first does not know what came before a flow's first packet there, so
 * that exchange remembers whether a SYN began it; the join then decides with the gap, as one range
 * reading the whole file would have. At flow_end the exchanges become events of the flow's group
 * in one array of the state; the analysis (periodic_score.c) sorts them by group once.
 *
 * Grouping by server name, a flow keeps the name in the first payload of each side of its key
 * (by side, as its bytes: the initiator may change until the merge); a join takes a later
 * part's only when the earlier part had no payload from that side, so the first payload of
 * the whole flow decides, however the file is split.
 */
#include "analyze/periodic_int.h"

#include <capsift/meta.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const sift_periodic_config_t default_config = {0};

/* ---- groups ---- */

static uint64_t key_hash(const sift_periodic_key_t *k)
{
    return XXH3_64bits(k, sizeof *k);
}

static uint64_t group_hash(const void *ctx, uint32_t id)
{
    const sift_periodic_t *p = ctx;
    return key_hash(&p->groups[id]);
}

typedef struct key_probe {
    const sift_periodic_t *p;
    const sift_periodic_key_t *k;
} key_probe_t;

static bool key_eq(const void *ctx, uint32_t id)
{
    const key_probe_t *q = ctx;
    return memcmp(&q->p->groups[id], q->k, sizeof *q->k) == 0;
}

uint32_t sift__periodic_find(const sift_periodic_t *p, const sift_periodic_key_t *k)
{
    key_probe_t q = {p, k};
    return sift__ids_find(&p->gindex, key_hash(k), key_eq, &q);
}

/* The id of the group with key k, made when new; UINT32_MAX when memory ran out. */
static uint32_t group_id(sift_periodic_t *p, const sift_periodic_key_t *k)
{
    uint32_t id = sift__periodic_find(p, k);
    if (id != UINT32_MAX)
        return id;
    if (p->ngroups == p->groups_cap) {
        size_t cap = p->groups_cap ? p->groups_cap * 2 : 16;
        sift_periodic_key_t *n = realloc(p->groups, cap * sizeof *n);
        if (!n)
            return UINT32_MAX;
        p->groups = n;
        p->groups_cap = cap;
    }
    id = (uint32_t)p->ngroups;
    p->groups[id] = *k;
    if (sift__ids_add(&p->gindex, key_hash(k), id, group_hash, p) < 0)
        return UINT32_MAX;
    p->ngroups++;
    return id;
}

/* Returns 0, or SIFT_ELIMIT or SIFT_ENOMEM (reported, the event counted as other). */
static int event_add(sift_periodic_t *p, uint32_t gid, int64_t ts, int64_t dur, uint64_t bytes)
{
    if (p->nevents >= p->max_events) {
        sift_pass_report(p, SIFT_ELIMIT,
                         "more than %zu events: some are left out (a higher --max-keys)",
                         p->max_events);
        p->other_events++;
        return SIFT_ELIMIT;
    }
    if (p->nevents == p->events_cap) {
        size_t cap = p->events_cap ? p->events_cap * 2 : 256;
        sift__periodic_event_t *n = realloc(p->events, cap * sizeof *n);
        if (!n) {
            sift_pass_report(p, SIFT_ENOMEM, "out of memory: some events are missing");
            p->other_events++;
            return SIFT_ENOMEM;
        }
        p->events = n;
        p->events_cap = cap;
    }
    p->events[p->nevents++] =
        (sift__periodic_event_t){.ts = ts, .dur = dur, .bytes = bytes, .gid = gid};
    p->read->sorted = false;
    return 0;
}

/* The id of the group of flow f with server name (NULL or "": by its destination), made when
 * new; UINT32_MAX when memory ran out (reported). */
static uint32_t flow_group(sift_periodic_t *p, const sift_flow_t *f, const char *name)
{
    sift_periodic_key_t k;
    memset(&k, 0, sizeof k);
    memcpy(k.src, sift_flow_addr_a(f), 16);
    if (p->by_name && name) /* a server_name has no port: as a Host it is itself */
        sift__domain_key(name, true, k.name, sizeof k.name);
    if (!k.name[0])
        memcpy(k.dst, sift_flow_addr_b(f), 16);
    k.port = sift_flow_port_b(f);
    k.proto = f->key.proto;
    k.ip_version = f->key.ip_version;
    uint32_t gid = group_id(p, &k);
    if (gid == UINT32_MAX)
        sift_pass_report(p, SIFT_ENOMEM, "out of memory: some groups are missing");
    return gid;
}

/* Widens the capture's span to [first, last]. */
static void span_add(sift_periodic_t *p, int64_t first, int64_t last)
{
    bool none = p->first_ns > p->last_ns;
    p->first_ns = none || first < p->first_ns ? first : p->first_ns;
    p->last_ns = none || last > p->last_ns ? last : p->last_ns;
}

/* ---- what a flow keeps ---- */

typedef struct xchg {
    int64_t start, last; /* the first packet's time, the latest time */
    int64_t tail;        /* the time of its last packet in file order: the gap is measured from
                          * it, so that timestamps going back decide alike in any range */
    uint64_t bytes[2];   /* sent by key.lo [0] and key.hi [1]: a later range may take the other
                          * side for the initiator until the merge, so not by initiator */
    bool open;           /* a later range's first, begun without a SYN: it continues the exchange
                          * before it when that one's tail is less than the gap before */
} xchg_t;

typedef struct pf_flow {
    xchg_t *x; /* the flow's exchanges, in time order */
    uint32_t n, cap;
    bool lost;     /* memory ran out: some exchanges are missing */
    bool tried[2]; /* by_name: key.lo's [0] and key.hi's [1] first payload was looked at */
    char *name[2]; /* the server name it gave (NULL: none) */
} pf_flow_t;

/* The server name in a client's first payload: a TLS ClientHello's server_name, an HTTP
 * request's Host; NULL when it has none or memory ran out. */
static char *server_name(const sift_packet_t *pkt)
{
    char buf[SIFT_PERIODIC_NAME_MAX] = "";
    if (pkt->ip_proto != 6)
        return NULL;
    sift_tls_hello_t h;
    sift_http_head_t r;
    if (sift_tls_parse_hello(pkt->payload, pkt->payload_len, &h) == 0 && h.type == 1)
        snprintf(buf, sizeof buf, "%s", h.sni);
    else if (sift_http_parse(pkt->payload, pkt->payload_len, &r) == 0 && !r.response)
        snprintf(buf, sizeof buf, "%s", r.host);
    return buf[0] ? strdup(buf) : NULL;
}

static xchg_t *xchg_new(pf_flow_t *f)
{
    if (f->n == f->cap) {
        uint32_t cap = f->cap ? f->cap * 2 : 2;
        xchg_t *n = cap > f->cap ? realloc(f->x, cap * sizeof *n) : NULL;
        if (!n) {
            f->lost = true;
            return NULL;
        }
        f->x = n;
        f->cap = cap;
    }
    return &f->x[f->n++];
}

static void pf_packet(void *state, const sift_packet_t *pkt)
{
    sift_periodic_t *p = state;
    const sift_record_t *r = pkt->rec;
    p->packets++;
    if (r->flags & SIFT_RECORD_NO_TS)
        return;
    int64_t ts = r->ts_ns;
    span_add(p, ts, ts);
    pf_flow_t *f = pkt->flow_state;
    if (!f)
        return;
    bool syn = pkt->ip_proto == 6 && (pkt->tcp_flags & 0x12) == 0x02;
    xchg_t *x = f->n ? &f->x[f->n - 1] : NULL;
    if (!x || syn || ts - x->tail >= p->gap_ns) {
        bool open = !x && !syn && sift_pass_later_range(state);
        x = xchg_new(f);
        if (!x)
            return;
        *x = (xchg_t){.start = ts, .last = ts, .open = open};
    }
    if (ts > x->last)
        x->last = ts;
    x->tail = ts;
    bool from_initiator = pkt->flow_dir == SIFT_FLOW_AB;
    unsigned side = from_initiator ? pkt->flow->a_is_hi : !pkt->flow->a_is_hi;
    x->bytes[side] += r->wirelen;
    if (p->by_name && pkt->payload_len && !f->tried[side]) { /* each side's first payload */
        f->tried[side] = true;
        f->name[side] = server_name(pkt);
    }
}

/* from (a later range's part of the flow) continues into: its exchanges follow. */
static void pf_flow_join(void *into, const void *from)
{
    pf_flow_t *a = into;
    const pf_flow_t *b = from;
    for (uint32_t i = 0; i < b->n; i++) {
        xchg_t *n = xchg_new(a);
        if (!n)
            break;
        *n = b->x[i];
    }
    a->lost = a->lost || b->lost;
    for (int side = 0; side < 2; side++)
        if (!a->tried[side] && b->tried[side]) { /* the first payload was in b's part */
            a->tried[side] = true;
            a->name[side] = b->name[side] ? strdup(b->name[side]) : NULL;
        }
}

static void pf_flow_release(void *fs)
{
    pf_flow_t *f = fs;
    free(f->x);
    free(f->name[0]);
    free(f->name[1]);
    memset(f, 0, sizeof *f);
}

/* A flow ends: its exchanges become events of its group. */
static void pf_flow_end(void *state, const sift_flows_t *flows, const sift_flow_t *f, void *fs)
{
    (void)flows;
    sift_periodic_t *p = state;
    pf_flow_t *pf = fs;
    if (!pf || !pf->n || f->key.ip_version == 0)
        return;
    if (pf->lost)
        sift_pass_report(p, SIFT_ENOMEM, "out of memory: some events are missing");
    uint32_t gid = flow_group(p, f, pf->name[f->a_is_hi]);
    if (gid == UINT32_MAX) {
        p->other_events += pf->n;
        return;
    }
    uint32_t w = 0;
    for (uint32_t i = 0; i < pf->n; i++) {
        const xchg_t *y = &pf->x[i];
        xchg_t *x = w ? &pf->x[w - 1] : NULL;
        if (x && y->open && y->start - x->tail < p->gap_ns) {
            x->last = y->last > x->last ? y->last : x->last;
            x->tail = y->tail;
            x->bytes[0] += y->bytes[0];
            x->bytes[1] += y->bytes[1];
            continue;
        }
        pf->x[w++] = *y;
    }
    for (uint32_t i = 0; i < w; i++)
        event_add(p, gid, pf->x[i].start, pf->x[i].last - pf->x[i].start,
                  pf->x[i].bytes[f->a_is_hi]);
}

/* ---- the pass ---- */

static int pf_init(void *state, const void *config)
{
    sift_periodic_t *p = state;
    const sift_periodic_config_t *c = config ? config : &default_config;
    p->by = c->by;
    p->by_name = c->by_name;
    p->gap_ns = c->gap_ns > 0                    ? c->gap_ns
                : c->by == SIFT_PERIODIC_PACKETS ? SIFT_FLOW_NS_PER_S
                                                 : 60 * SIFT_FLOW_NS_PER_S;
    p->max_events = c->max_events ? c->max_events : SIFT_PERIODIC_DEFAULT_EVENTS;
    p->first_ns = 1;
    p->last_ns = 0;
    p->read = calloc(1, sizeof *p->read);
    return p->read ? 0 : SIFT_ENOMEM;
}

static int pf_merge(void *into, const void *from)
{
    sift_periodic_t *a = into;
    const sift_periodic_t *b = from;
    a->packets += b->packets;
    a->other_events += b->other_events;
    if (b->first_ns <= b->last_ns)
        span_add(a, b->first_ns, b->last_ns);
    uint32_t *map = b->ngroups ? malloc(b->ngroups * sizeof *map) : NULL;
    if (b->ngroups && !map) {
        sift_pass_report(a, SIFT_ENOMEM, "out of memory: some events are missing");
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < b->ngroups; i++)
        map[i] = group_id(a, &b->groups[i]);
    for (size_t i = 0; i < b->nevents; i++) {
        const sift__periodic_event_t *e = &b->events[i];
        if (map[e->gid] == UINT32_MAX) {
            sift_pass_report(a, SIFT_ENOMEM, "out of memory: some groups are missing");
            a->other_events++;
            continue;
        }
        event_add(a, map[e->gid], e->ts, e->dur, e->bytes);
    }
    free(map);
    return 0;
}

static void pf_release(void *state)
{
    sift_periodic_t *p = state;
    free(p->events);
    free(p->groups);
    sift__ids_free(&p->gindex);
    if (p->read)
        free(p->read->off);
    free(p->read);
    p->events = NULL;
    p->groups = NULL;
    p->read = NULL;
}

/* ---- the result cache ---- */

static void pf_cache_key(const void *config, sift_cache_keyb_t *kb)
{
    const sift_periodic_config_t *c = config ? config : &default_config;
    sift_cache_keyb_u64(kb, c->by);
    sift_cache_keyb_u64(kb, c->gap_ns > 0 ? (uint64_t)c->gap_ns : 0);
    sift_cache_keyb_u64(kb, c->max_events);
    sift_cache_keyb_u64(kb, c->by_name);
}

/* The counters and span, the groups (each key field by field), then the events (time, duration,
 * bytes, group), all as 8-byte numbers but the addresses; no padding is stored. */
static void pf_save(const void *state, sift_blob_t *out)
{
    const sift_periodic_t *p = state;
    sift_blob_put_u64(out, p->packets);
    sift_blob_put_u64(out, p->other_events);
    sift_blob_put_u64(out, (uint64_t)p->first_ns);
    sift_blob_put_u64(out, (uint64_t)p->last_ns);
    sift_blob_put_u64(out, p->ngroups);
    for (size_t i = 0; i < p->ngroups; i++) {
        const sift_periodic_key_t *k = &p->groups[i];
        sift_blob_put(out, k->src, sizeof k->src);
        sift_blob_put(out, k->dst, sizeof k->dst);
        sift_blob_put_u64(out, (uint64_t)k->port << 16 | (uint64_t)k->proto << 8 | k->ip_version);
        size_t n = strlen(k->name);
        sift_blob_put_u64(out, n);
        sift_blob_put(out, k->name, n);
    }
    sift_blob_put_u64(out, p->nevents);
    for (size_t i = 0; i < p->nevents; i++) {
        const sift__periodic_event_t *e = &p->events[i];
        sift_blob_put_u64(out, (uint64_t)e->ts);
        sift_blob_put_u64(out, (uint64_t)e->dur);
        sift_blob_put_u64(out, e->bytes);
        sift_blob_put_u64(out, e->gid);
    }
}

static int pf_load(void *state, sift_blob_reader_t *in)
{
    sift_periodic_t *p = state;
    p->packets = sift_blob_get_u64(in);
    p->other_events = sift_blob_get_u64(in);
    p->first_ns = (int64_t)sift_blob_get_u64(in);
    p->last_ns = (int64_t)sift_blob_get_u64(in);
    uint64_t ng = sift_blob_get_u64(in);
    if (in->bad || ng > (uint64_t)(in->end - in->p) / 48)
        return SIFT_ECORRUPT;
    for (uint64_t i = 0; i < ng; i++) {
        sift_periodic_key_t k;
        memset(&k, 0, sizeof k);
        sift_blob_get(in, k.src, sizeof k.src);
        sift_blob_get(in, k.dst, sizeof k.dst);
        uint64_t v = sift_blob_get_u64(in);
        k.port = (uint16_t)(v >> 16);
        k.proto = (uint8_t)(v >> 8);
        k.ip_version = (uint8_t)v;
        uint64_t n = sift_blob_get_u64(in);
        if (in->bad || n >= sizeof k.name || !sift_blob_get(in, k.name, n) || strlen(k.name) != n)
            return SIFT_ECORRUPT;
        if (group_id(p, &k) != (uint32_t)i) /* out of memory, or a key twice */
            return p->ngroups == i ? SIFT_ENOMEM : SIFT_ECORRUPT;
    }
    uint64_t ne = sift_blob_get_u64(in);
    if (in->bad || ne > (uint64_t)(in->end - in->p) / 32)
        return SIFT_ECORRUPT;
    for (uint64_t i = 0; i < ne; i++) {
        int64_t ts = (int64_t)sift_blob_get_u64(in), dur = (int64_t)sift_blob_get_u64(in);
        uint64_t bytes = sift_blob_get_u64(in), gid = sift_blob_get_u64(in);
        if (in->bad || gid >= ng)
            return SIFT_ECORRUPT;
        event_add(p, (uint32_t)gid, ts, dur, bytes);
    }
    return 0;
}

/* Server names are in payloads. */
static void pf_declare(const void *config, sift_need_t *needs, unsigned *flags)
{
    (void)flags;
    const sift_periodic_config_t *c = config ? config : &default_config;
    if (c->by_name)
        *needs = SIFT_NEED_PAYLOAD;
}

const sift_pass_t sift_periodic_pass = {
    .name = "periodic",
    .needs = SIFT_NEED_TRANSPORT,
    .state_size = sizeof(sift_periodic_t),
    .init = pf_init,
    .packet = pf_packet,
    .merge = pf_merge,
    .release = pf_release,
    .flags = SIFT_PASS_FLOWS,
    .declare = pf_declare,
    .flow_state_size = sizeof(pf_flow_t),
    .flow_join = pf_flow_join,
    .flow_release = pf_flow_release,
    .flow_end = pf_flow_end,
    .cache_version = 2,
    .cache_key = pf_cache_key,
    .save = pf_save,
    .load = pf_load,
};

/* ---- a state fed from outside the engine ---- */

int sift_periodic_add_flow(sift_periodic_t *p, const sift_flow_t *f, const char *name)
{
    if (f->key.ip_version == 0)
        return 0;
    uint32_t gid = flow_group(p, f, name);
    if (gid == UINT32_MAX) {
        p->other_events++;
        return SIFT_ENOMEM;
    }
    return event_add(p, gid, f->first_ns, f->last_ns - f->first_ns, f->bytes[SIFT_FLOW_AB]);
}

void sift_periodic_add_span(sift_periodic_t *p, int64_t first_ns, int64_t last_ns, uint64_t packets)
{
    p->packets += packets;
    if (first_ns <= last_ns)
        span_add(p, first_ns, last_ns);
}

/* ---- reading a state ---- */

void sift_periodic_summary(const sift_periodic_t *p, sift_periodic_summary_t *out)
{
    memset(out, 0, sizeof *out);
    out->packets = p->packets;
    out->events = p->nevents;
    out->other_events = p->other_events;
    out->groups = p->ngroups;
    out->first_ns = p->first_ns;
    out->last_ns = p->last_ns;
    out->by = p->by;
    out->by_name = p->by_name;
    out->gap_ns = p->gap_ns;
}

const char *sift_periodic_key_name(const sift_periodic_key_t *k, char *buf, size_t size)
{
    char a[64], b[SIFT_PERIODIC_NAME_MAX], pb[16];
    sift_format_addr(k->src, a, sizeof a);
    sift_format_addr(k->dst, b, sizeof b);
    const char *pr = sift_ip_proto_name(k->proto, pb, sizeof pb);
    if (k->name[0])
        snprintf(b, sizeof b, "%s", k->name);
    if (k->proto == 6 || k->proto == 17 || k->proto == 132)
        snprintf(buf, size, "%s -> %s %s/%u", a, b, pr, k->port);
    else
        snprintf(buf, size, "%s -> %s %s", a, b, pr);
    return buf;
}
