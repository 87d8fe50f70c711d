/* The cluster pass: every distinct transport payload (its first max_bytes kept, under the
 * XXH3-128 of the whole payload), and for each packet that carried one, its flow and which
 * side of it sent the packet. A flow's initiator is read at its end (flow_end), when the
 * engine has joined the parts a file's ranges saw, so the direction never depends on a split. */
#include "analyze/cluster_int.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static uint64_t unit_hash(const void *ctx, uint32_t id)
{
    const cl_state_t *s = ctx;
    return s->units[id].h.low64;
}

typedef struct unit_probe {
    const cl_state_t *s;
    XXH128_hash_t h;
} unit_probe_t;

static bool unit_eq(const void *ctx, uint32_t id)
{
    const unit_probe_t *q = ctx;
    return XXH128_isEqual(q->s->units[id].h, q->h);
}

static uint64_t key_hash(const sift_flow_key_t *k)
{
    return XXH3_64bits(k, sizeof *k);
}

static uint64_t key_hash_id(const void *ctx, uint32_t id)
{
    const cl_state_t *s = ctx;
    return key_hash(&s->keys[id].k);
}

typedef struct key_probe {
    const cl_state_t *s;
    const sift_flow_key_t *k;
} key_probe_t;

static bool key_eq(const void *ctx, uint32_t id)
{
    const key_probe_t *q = ctx;
    return memcmp(&q->s->keys[id].k, q->k, sizeof *q->k) == 0;
}

/* Entries are aggregated when members are not kept: one per (unit, key, side, part). */
static uint64_t ent_hash(const cl_entry_t *e)
{
    uint64_t v[3] = {e->unit, e->key,
                     (uint64_t)e->side << 32 | (uint64_t)e->part.proto << 24 |
                         (uint64_t)e->part.dir << 16 | e->part.port};
    return XXH3_64bits(v, sizeof v);
}

static uint64_t ent_hash_id(const void *ctx, uint32_t id)
{
    const cl_state_t *s = ctx;
    return ent_hash(&s->ents[id]);
}

typedef struct ent_probe {
    const cl_state_t *s;
    const cl_entry_t *e;
} ent_probe_t;

static bool ent_eq(const void *ctx, uint32_t id)
{
    const ent_probe_t *q = ctx;
    const cl_entry_t *a = &q->s->ents[id], *b = q->e;
    return a->unit == b->unit && a->key == b->key && a->side == b->side &&
           part_eq(a->part, b->part);
}

/* The unit of a payload: found, or added with its first max_bytes. UINT32_MAX past the limit
 * (reported) or when memory ran out (reported). */
static uint32_t unit_find(const cl_state_t *s, XXH128_hash_t h)
{
    unit_probe_t q = {s, h};
    return sift__ids_find(&s->uix, h.low64, unit_eq, &q);
}

static uint32_t unit_of(cl_state_t *s, XXH128_hash_t h, const uint8_t *data, uint32_t kept,
                        uint64_t len)
{
    uint32_t id = unit_find(s, h);
    if (id != UINT32_MAX)
        return id;
    if (s->nunits >= s->cfg.max_units) {
        sift_pass_report(s, SIFT_ELIMIT,
                         "the limit of %llu distinct payloads was reached: the packets of "
                         "further ones are counted, not clustered",
                         (unsigned long long)s->cfg.max_units);
        return UINT32_MAX;
    }
    if (sift__grow((void **)&s->units, &s->capu, s->nunits + 1, sizeof *s->units) < 0 ||
        sift__grow((void **)&s->bytes, &s->capb, s->nbytes + kept, 1) < 0)
        goto nomem;
    id = (uint32_t)s->nunits;
    s->units[id] = (cl_unit_t){.h = h, .off = s->nbytes, .kept = kept, .len = len};
    if (sift__ids_add(&s->uix, h.low64, id, unit_hash, s) < 0)
        goto nomem;
    if (kept)
        memcpy(s->bytes + s->nbytes, data, kept);
    s->nbytes += kept;
    s->nunits++;
    return id;
nomem:
    sift_pass_report(s, SIFT_ENOMEM, "memory ran out for the payloads");
    return UINT32_MAX;
}

static uint32_t key_of(cl_state_t *s, const sift_flow_key_t *k, uint8_t a_is_hi, int64_t first)
{
    key_probe_t q = {s, k};
    uint32_t id = sift__ids_find(&s->kix, key_hash(k), key_eq, &q);
    if (id != UINT32_MAX)
        return id;
    if (sift__grow((void **)&s->keys, &s->capk, s->nkeys + 1, sizeof *s->keys) < 0)
        goto nomem;
    id = (uint32_t)s->nkeys;
    s->keys[id] = (cl_key_t){.k = *k, .a_is_hi = a_is_hi, .first_ns = first};
    if (sift__ids_add(&s->kix, key_hash(k), id, key_hash_id, s) < 0)
        goto nomem;
    s->nkeys++;
    return id;
nomem:
    sift_pass_report(s, SIFT_ENOMEM, "memory ran out for the flows");
    return UINT32_MAX;
}

/* Adds an entry, or its count to the same one when members are not kept. */
static void entry_add(cl_state_t *s, const cl_entry_t *e)
{
    if (!s->cfg.members) {
        ent_probe_t q = {s, e};
        uint32_t id = sift__ids_find(&s->eix, ent_hash(e), ent_eq, &q);
        if (id != UINT32_MAX) {
            s->ents[id].count += e->count;
            return;
        }
    }
    if (sift__grow((void **)&s->ents, &s->cape, s->nents + 1, sizeof *s->ents) < 0)
        goto nomem;
    s->ents[s->nents] = *e;
    if (!s->cfg.members &&
        sift__ids_add(&s->eix, ent_hash(e), (uint32_t)s->nents, ent_hash_id, s) < 0)
        goto nomem;
    s->nents++;
    return;
nomem:
    sift_pass_report(s, SIFT_ENOMEM, "memory ran out for the packets' payloads");
}

static uint64_t trans_hash(const cl_trans_t *t)
{
    uint64_t v[2] = {(uint64_t)t->a << 32 | t->b,
                     (uint64_t)t->key << 16 | (uint64_t)t->follow << 8 | t->side};
    return XXH3_64bits(v, sizeof v);
}

static uint64_t trans_hash_id(const void *ctx, uint32_t id)
{
    const cl_state_t *s = ctx;
    return trans_hash(&s->trans[id]);
}

typedef struct trans_probe {
    const cl_state_t *s;
    const cl_trans_t *t;
} trans_probe_t;

static bool trans_eq(const void *ctx, uint32_t id)
{
    const trans_probe_t *q = ctx;
    const cl_trans_t *a = &q->s->trans[id], *b = q->t;
    return a->a == b->a && a->b == b->b && a->key == b->key && a->side == b->side &&
           a->follow == b->follow;
}

static void trans_add(cl_state_t *s, const cl_trans_t *t)
{
    trans_probe_t q = {s, t};
    uint32_t id = sift__ids_find(&s->tix, trans_hash(t), trans_eq, &q);
    if (id != UINT32_MAX) {
        s->trans[id].count += t->count;
        return;
    }
    if (sift__grow((void **)&s->trans, &s->capt, s->ntrans + 1, sizeof *s->trans) < 0)
        goto nomem;
    s->trans[s->ntrans] = *t;
    if (sift__ids_add(&s->tix, trans_hash(t), (uint32_t)s->ntrans, trans_hash_id, s) < 0)
        goto nomem;
    s->ntrans++;
    return;
nomem:
    sift_pass_report(s, SIFT_ENOMEM, "memory ran out for the message pairs");
}

/* Whether b after a in a flow of transport proto is a link the clustering reads: a message from
 * the other side, or the sender's next payload in a stream (not a retransmission of the last). */
static bool link_wanted(uint8_t proto, const cl_msg_t *a, const cl_msg_t *b)
{
    return a->side != b->side || (stream_proto(proto) && !XXH128_isEqual(a->h, b->h));
}

/* A pair of messages of flow key `key` by their hashes (from a flow's bytes), when both are
 * units of the state. */
static void trans_add_msgs(cl_state_t *s, uint32_t key, const cl_msg_t *a, const cl_msg_t *b)
{
    cl_trans_t t = {.a = unit_find(s, a->h),
                    .b = unit_find(s, b->h),
                    .key = key,
                    .side = a->side,
                    .follow = a->side == b->side,
                    .count = 1};
    if (t.a != UINT32_MAX && t.b != UINT32_MAX && link_wanted(s->keys[key].k.proto, a, b))
        trans_add(s, &t);
}

static int cl_init(void *state, const void *config)
{
    cl_state_t *s = state;
    static const sift_cluster_config_t defaults = {0};
    s->cfg = config ? *(const sift_cluster_config_t *)config : defaults;
    if (s->cfg.max_bytes == 0)
        s->cfg.max_bytes = SIFT_CLUSTER_DEFAULT_BYTES;
    if (s->cfg.max_bytes > 65535)
        return SIFT_EINVAL;
    if (s->cfg.max_units == 0)
        s->cfg.max_units = SIFT_CLUSTER_DEFAULT_UNITS;
    if (s->cfg.max_units > UINT32_MAX - 2)
        s->cfg.max_units = UINT32_MAX - 2;
    return 0;
}

/* The part of a packet of no flow: the higher port is the client's. */
static sift_cluster_part_t part_by_ports(const sift_packet_t *pkt)
{
    bool client = pkt->sport > pkt->dport;
    return (sift_cluster_part_t){
        .proto = pkt->ip_proto, .dir = client ? 0 : 1, .port = client ? pkt->dport : pkt->sport};
}

/* Appends n bytes to a side of a flow, up to max (by_flow). False when memory ran out. */
static bool side_append(cl_side_t *d, const uint8_t *b, size_t n, uint32_t max)
{
    if (d->len >= max || n == 0)
        return true;
    if (!d->buf && !(d->buf = malloc(max)))
        return false;
    d->cap = max;
    size_t k = n < max - d->len ? n : max - d->len;
    memcpy(d->buf + d->len, b, k);
    d->len += (uint32_t)k;
    return true;
}

/* by_flow: the packet's bytes go to its side of the flow; the units are made at flow end. */
static void flow_bytes(cl_state_t *s, const sift_packet_t *pkt, cl_flow_t *fs)
{
    const sift_flow_t *f = pkt->flow;
    uint8_t side = (uint8_t)((pkt->flow_dir == SIFT_FLOW_AB) == (f->a_is_hi != 0));
    cl_side_t *d = &fs->side[side];
    if (d->range == 0) {
        d->range = s->range_id;
        d->record = pkt->record;
    }
    s->packets++;
    if (!side_append(d, pkt->payload, pkt->payload_len, s->cfg.max_bytes))
        sift_pass_report(s, SIFT_ENOMEM, "memory ran out for the flows' first bytes");
}

static void cl_packet(void *state, const sift_packet_t *pkt)
{
    cl_state_t *s = state;
    if (!pkt->payload || pkt->payload_len == 0)
        return;
    if (pkt->payload_len < s->cfg.min_size ||
        (s->cfg.port && pkt->sport != s->cfg.port && pkt->dport != s->cfg.port)) {
        s->short_packets++;
        return;
    }
    if (s->range_id == 0) {
        s->range_id = pkt->rec->offset + 1;
        cl_base_t b = {s->range_id, 0};
        if (sift__grow((void **)&s->bases, &s->capbases, 1, sizeof *s->bases) == 0)
            s->bases[s->nbases++] = b;
    }
    if (s->cfg.by_flow && pkt->flow && pkt->flow_state) {
        flow_bytes(s, pkt, pkt->flow_state);
        return;
    }
    uint32_t kept = pkt->payload_len < s->cfg.max_bytes ? pkt->payload_len : s->cfg.max_bytes;
    XXH128_hash_t h = XXH3_128bits(pkt->payload, pkt->payload_len);
    uint32_t unit = unit_of(s, h, pkt->payload, kept, pkt->payload_len);
    if (unit == UINT32_MAX) {
        s->other_packets++;
        return;
    }
    cl_entry_t e = {.unit = unit, .key = UINT32_MAX, .record = pkt->record, .count = 1};
    const sift_flow_t *f = pkt->flow;
    if (f) {
        e.key = key_of(s, &f->key, f->a_is_hi, f->first_ns);
        /* the sender is key.hi when it is the initiator and the initiator is hi, or neither */
        e.side = (uint8_t)((pkt->flow_dir == SIFT_FLOW_AB) == (f->a_is_hi != 0));
    }
    if (e.key == UINT32_MAX)
        e.part = part_by_ports(pkt);
    s->packets++;
    entry_add(s, &e);
    cl_flow_t *fs = pkt->flow_state;
    if (!fs || e.key == UINT32_MAX)
        return;
    cl_msg_t m = {.h = h, .side = e.side, .set = 1};
    if (fs->last.set && link_wanted(pkt->ip_proto, &fs->last, &m)) {
        cl_trans_t t = {.a = unit_find(s, fs->last.h),
                        .b = unit,
                        .key = e.key,
                        .side = fs->last.side,
                        .follow = fs->last.side == m.side,
                        .count = 1};
        if (t.a != UINT32_MAX)
            trans_add(s, &t);
    } else if (!fs->last.set && !fs->head.set && sift_pass_later_range(s)) {
        fs->head = m; /* its predecessor, if any, is in an earlier range */
    }
    fs->last = m;
}

static int cl_merge(void *into, const void *from)
{
    cl_state_t *a = into;
    const cl_state_t *b = from;
    uint64_t base = sift_pass_record_base(from);
    uint32_t *umap = malloc((b->nunits + 1) * sizeof *umap);
    uint32_t *kmap = malloc((b->nkeys + 1) * sizeof *kmap);
    if (!umap || !kmap) {
        free(umap);
        free(kmap);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < b->nunits; i++) {
        const cl_unit_t *u = &b->units[i];
        umap[i] = unit_of(a, u->h, b->bytes + u->off, u->kept, u->len);
    }
    for (size_t i = 0; i < b->nkeys; i++) {
        const cl_key_t *k = &b->keys[i];
        kmap[i] = key_of(a, &k->k, k->a_is_hi, k->first_ns);
    }
    for (size_t i = 0; i < b->nents; i++) {
        cl_entry_t e = b->ents[i];
        e.unit = umap[e.unit];
        if (e.unit == UINT32_MAX) {
            a->other_packets += e.count;
            continue;
        }
        if (e.key != UINT32_MAX) {
            e.key = kmap[e.key];
            if (e.key == UINT32_MAX) /* memory ran out (reported): no direction then */
                e.part = (sift_cluster_part_t){0};
        }
        e.record += base;
        entry_add(a, &e);
    }
    for (size_t i = 0; i < b->ntrans; i++) {
        cl_trans_t t = b->trans[i];
        t.a = umap[t.a];
        t.b = umap[t.b];
        t.key = kmap[t.key];
        if (t.a != UINT32_MAX && t.b != UINT32_MAX && t.key != UINT32_MAX)
            trans_add(a, &t);
    }
    for (size_t i = 0; i < b->nbases; i++) { /* from's records begin at base */
        if (sift__grow((void **)&a->bases, &a->capbases, a->nbases + 1, sizeof *a->bases) < 0) {
            sift_pass_report(a, SIFT_ENOMEM, "memory ran out for the ranges' records");
            break;
        }
        a->bases[a->nbases++] = (cl_base_t){b->bases[i].range, b->bases[i].base + base};
    }
    a->packets += b->packets;
    a->short_packets += b->short_packets;
    a->other_packets += b->other_packets;
    free(umap);
    free(kmap);
    return 0;
}

/* Keeps a pair spanning a range boundary (lost when memory runs out: one pair fewer). */
static void pend_push(cl_flow_t *fs, const cl_msg_t *x, const cl_msg_t *y)
{
    if (sift__grow((void **)&fs->pend, &fs->cap, fs->npend + 2, sizeof *fs->pend) < 0)
        return;
    fs->pend[fs->npend++] = *x;
    fs->pend[fs->npend++] = *y;
}

/* `from` is the later part of the flow: a message it begins with follows into's last. */
static void cl_flow_join(void *into, const void *from)
{
    cl_flow_t *a = into;
    const cl_flow_t *b = from;
    if (a->last.set && b->head.set)
        pend_push(a, &a->last, &b->head);
    for (size_t i = 0; i + 1 < b->npend; i += 2)
        pend_push(a, &b->pend[i], &b->pend[i + 1]);
    if (b->last.set)
        a->last = b->last;
    for (int k = 0; k < 2; k++) { /* by_flow: the later part's first bytes follow on */
        cl_side_t *x = &a->side[k];
        const cl_side_t *y = &b->side[k];
        if (y->range == 0)
            continue;
        if (x->range == 0) {
            x->range = y->range;
            x->record = y->record;
        }
        if (y->len && !side_append(x, y->buf, y->len, y->cap))
            x->lost = true;
    }
}

static void cl_flow_release(void *flow_state)
{
    cl_flow_t *fs = flow_state;
    free(fs->side[0].buf);
    free(fs->side[1].buf);
    free(fs->pend);
    *fs = (cl_flow_t){0};
}

/* The record index in the input of a record of a range. */
static uint64_t input_record(const cl_state_t *s, uint64_t range, uint64_t record)
{
    for (size_t i = 0; i < s->nbases; i++)
        if (s->bases[i].range == range)
            return s->bases[i].base + record;
    return record; /* not reached: every range that read a packet is merged */
}

/* by_flow, at the flow's end: a unit for each side that sent payload bytes, and the pair of the
 * initiator's and the responder's. */
static void flow_units(cl_state_t *s, const sift_flow_t *f, const cl_flow_t *fs)
{
    uint32_t unit[2] = {UINT32_MAX, UINT32_MAX};
    uint32_t key = UINT32_MAX;
    for (int k = 0; k < 2; k++) {
        const cl_side_t *d = &fs->side[k];
        if (d->len == 0)
            continue;
        if (d->lost)
            sift_pass_report(s, SIFT_ENOMEM, "memory ran out for the flows' first bytes");
        if (key == UINT32_MAX && (key = key_of(s, &f->key, f->a_is_hi, f->first_ns)) == UINT32_MAX)
            return;
        unit[k] = unit_of(s, XXH3_128bits(d->buf, d->len), d->buf, d->len, d->len);
        if (unit[k] == UINT32_MAX)
            continue;
        cl_entry_t e = {.unit = unit[k],
                        .key = key,
                        .side = (uint8_t)k,
                        .record = input_record(s, d->range, d->record),
                        .count = 1};
        entry_add(s, &e);
    }
    int ka = f->a_is_hi ? 1 : 0; /* the initiator's side */
    if (unit[0] != UINT32_MAX && unit[1] != UINT32_MAX) {
        cl_trans_t t = {.a = unit[ka], .b = unit[!ka], .key = key, .side = (uint8_t)ka, .count = 1};
        trans_add(s, &t);
    }
}

static void cl_flow_end(void *state, const sift_flows_t *flows, const sift_flow_t *f,
                        void *flow_state)
{
    (void)flows;
    cl_state_t *s = state;
    const cl_flow_t *fs = flow_state;
    if (s->cfg.by_flow && fs)
        flow_units(s, f, fs);
    key_probe_t q = {s, &f->key};
    uint32_t id = sift__ids_find(&s->kix, key_hash(&f->key), key_eq, &q);
    if (id == UINT32_MAX)
        return;
    for (size_t i = 0; fs && i + 1 < fs->npend; i += 2)
        trans_add_msgs(s, id, &fs->pend[i], &fs->pend[i + 1]);
    cl_key_t *k = &s->keys[id];
    /* a reused tuple: the earliest flow orients it */
    if (!k->settled || f->first_ns < k->first_ns) {
        k->a_is_hi = f->a_is_hi;
        k->first_ns = f->first_ns;
        k->settled = true;
    }
}

static void cl_release(void *state)
{
    cl_state_t *s = state;
    free(s->units);
    free(s->bytes);
    free(s->keys);
    free(s->ents);
    free(s->trans);
    free(s->bases);
    sift__ids_free(&s->tix);
    sift__ids_free(&s->uix);
    sift__ids_free(&s->kix);
    sift__ids_free(&s->eix);
}

const sift_pass_t sift_cluster_pass = {
    .name = "cluster",
    .needs = SIFT_NEED_PAYLOAD,
    .state_size = sizeof(cl_state_t),
    .init = cl_init,
    .packet = cl_packet,
    .merge = cl_merge,
    .release = cl_release,
    .flags = SIFT_PASS_FLOWS,
    .flow_state_size = sizeof(cl_flow_t),
    .flow_join = cl_flow_join,
    .flow_release = cl_flow_release,
    .flow_end = cl_flow_end,
};

void sift_cluster_summary(const void *state, sift_cluster_summary_t *out)
{
    const cl_state_t *s = state;
    *out = (sift_cluster_summary_t){.packets = s->packets,
                                    .units = s->nunits,
                                    .short_packets = s->short_packets,
                                    .other_packets = s->other_packets};
}

sift_cluster_part_t sift__cluster_entry_part(const cl_state_t *s, const cl_entry_t *e)
{
    if (e->key == UINT32_MAX)
        return e->part;
    const cl_key_t *k = &s->keys[e->key];
    const sift_flow_key_t *fk = &k->k;
    bool sender_is_a = (e->side != 0) == (k->a_is_hi != 0);
    uint16_t server_port = k->a_is_hi ? fk->lo_port : fk->hi_port;
    return (sift_cluster_part_t){
        .proto = fk->proto, .dir = sender_is_a ? 0 : 1, .port = server_port};
}
