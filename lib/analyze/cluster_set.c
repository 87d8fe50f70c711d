/* The cluster set: distinct payloads by part, the flows and packets that carried them, and the
 * request/response pairs between them (see capsift/cluster.h). */
#include "analyze/cluster_int.h"

#include <stdlib.h>
#include <string.h>

#define NO_FLOW UINT64_MAX

static uint64_t su_hash(sift_cluster_part_t p, XXH128_hash_t h)
{
    return h.low64 ^ part_hash(p);
}

static uint64_t su_hash_id(const void *ctx, uint32_t id)
{
    const sift_cluster_set_t *s = ctx;
    return su_hash(s->u[id].part, s->u[id].h);
}

typedef struct su_probe {
    const sift_cluster_set_t *s;
    sift_cluster_part_t part;
    XXH128_hash_t h;
} su_probe_t;

static bool su_eq(const void *ctx, uint32_t id)
{
    const su_probe_t *q = ctx;
    return part_eq(q->s->u[id].part, q->part) && XXH128_isEqual(q->s->u[id].h, q->h);
}

static uint64_t uf_hash(const uflow_t *f)
{
    uint64_t v[2] = {f->unit, f->flow}; /* not the struct: its padding */
    return XXH3_64bits(v, sizeof v);
}

static uint64_t uf_hash_id(const void *ctx, uint32_t id)
{
    const sift_cluster_set_t *s = ctx;
    return uf_hash(&s->fl[id]);
}

typedef struct uf_probe {
    const sift_cluster_set_t *s;
    const uflow_t *f;
} uf_probe_t;

static bool uf_eq(const void *ctx, uint32_t id)
{
    const uf_probe_t *q = ctx;
    return q->s->fl[id].unit == q->f->unit && q->s->fl[id].flow == q->f->flow;
}

int sift_cluster_set_create(sift_cluster_set_t **out, uint32_t max_bytes)
{
    *out = NULL;
    if (max_bytes > 65535)
        return SIFT_EINVAL;
    sift_cluster_set_t *s = calloc(1, sizeof *s);
    if (!s)
        return SIFT_ENOMEM;
    s->max_bytes = max_bytes ? max_bytes : SIFT_CLUSTER_DEFAULT_BYTES;
    *out = s;
    return 0;
}

void sift_cluster_set_free(sift_cluster_set_t *s)
{
    if (!s)
        return;
    free(s->u);
    free(s->bytes);
    free(s->fl);
    free(s->mem);
    free(s->pairs);
    sift__ids_free(&s->uix);
    sift__ids_free(&s->fix);
    sift__ids_free(&s->pix);
    free(s);
}

/* The unit of (part, payload), made when new; UINT32_MAX when memory ran out. */
static uint32_t set_unit(sift_cluster_set_t *s, sift_cluster_part_t part, XXH128_hash_t h,
                         const uint8_t *data, uint32_t kept, uint64_t len)
{
    su_probe_t q = {s, part, h};
    uint64_t hh = su_hash(part, h);
    uint32_t id = sift__ids_find(&s->uix, hh, su_eq, &q);
    if (id != UINT32_MAX)
        return id;
    if (kept > s->max_bytes)
        kept = s->max_bytes;
    if (sift__grow((void **)&s->u, &s->capu, s->n + 1, sizeof *s->u) < 0 ||
        sift__grow((void **)&s->bytes, &s->capb, s->nbytes + kept, 1) < 0)
        return UINT32_MAX;
    id = (uint32_t)s->n;
    s->u[id] = (su_t){.part = part,
                      .h = h,
                      .off = s->nbytes,
                      .kept = kept,
                      .len = len,
                      .mhead = UINT32_MAX,
                      .mtail = UINT32_MAX};
    if (sift__ids_add(&s->uix, hh, id, su_hash_id, s) < 0)
        return UINT32_MAX;
    if (kept)
        memcpy(s->bytes + s->nbytes, data, kept);
    s->nbytes += kept;
    s->n++;
    return id;
}

static int set_flow(sift_cluster_set_t *s, uint32_t unit, uint64_t flow)
{
    if (flow == NO_FLOW)
        return 0;
    uflow_t f = {.unit = unit, .flow = flow};
    uf_probe_t q = {s, &f};
    if (sift__ids_find(&s->fix, uf_hash(&f), uf_eq, &q) != UINT32_MAX)
        return 0;
    if (sift__grow((void **)&s->fl, &s->capfl, s->nfl + 1, sizeof *s->fl) < 0)
        return SIFT_ENOMEM;
    s->fl[s->nfl] = f;
    if (sift__ids_add(&s->fix, uf_hash(&f), (uint32_t)s->nfl, uf_hash_id, s) < 0)
        return SIFT_ENOMEM;
    s->nfl++;
    return 0;
}

static int set_member(sift_cluster_set_t *s, uint32_t unit, uint32_t input, uint64_t packet)
{
    if (s->nmem >= UINT32_MAX - 1 ||
        sift__grow((void **)&s->mem, &s->capmem, s->nmem + 1, sizeof *s->mem) < 0)
        return SIFT_ENOMEM;
    uint32_t id = (uint32_t)s->nmem++;
    s->mem[id] = (mem_t){.m = {.input = input, .packet = packet}, .next = UINT32_MAX};
    su_t *u = &s->u[unit];
    if (u->mtail == UINT32_MAX)
        u->mhead = id;
    else
        s->mem[u->mtail].next = id;
    u->mtail = id;
    u->nmem++;
    return 0;
}

int sift_cluster_set_add(sift_cluster_set_t *s, sift_cluster_part_t part, const void *data,
                         size_t len, uint64_t count, uint64_t flow, size_t *unit)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    uint32_t kept = len < s->max_bytes ? (uint32_t)len : s->max_bytes;
    uint32_t id = set_unit(s, part, h, data, kept, len);
    if (id == UINT32_MAX)
        return SIFT_ENOMEM;
    s->u[id].packets += count;
    if (unit)
        *unit = id;
    return set_flow(s, id, flow);
}

int sift_cluster_set_add_packet(sift_cluster_set_t *s, sift_cluster_part_t part,
                                const uint8_t hash[16], const void *data, uint32_t kept,
                                uint64_t len, uint64_t flow, sift_cluster_member_t member,
                                size_t *unit)
{
    XXH128_hash_t h = XXH128_hashFromCanonical((const XXH128_canonical_t *)(const void *)hash);
    uint32_t id = set_unit(s, part, h, data, kept < s->max_bytes ? kept : s->max_bytes, len);
    if (id == UINT32_MAX)
        return SIFT_ENOMEM;
    s->u[id].packets++;
    if (unit)
        *unit = id;
    int rc = set_flow(s, id, flow);
    return rc == 0 && member.packet ? set_member(s, id, member.input, member.packet) : rc;
}

static uint64_t pair_hash(uint32_t a, uint32_t b, uint8_t follow)
{
    uint64_t v[2] = {(uint64_t)a << 32 | b, follow};
    return XXH3_64bits(v, sizeof v);
}

static uint64_t pair_hash_id(const void *ctx, uint32_t id)
{
    const sift_cluster_set_t *s = ctx;
    return pair_hash(s->pairs[id].req, s->pairs[id].resp, s->pairs[id].follow);
}

typedef struct pair_probe {
    const sift_cluster_set_t *s;
    uint32_t a, b;
    uint8_t follow;
} pair_probe_t;

static bool pair_eq(const void *ctx, uint32_t id)
{
    const pair_probe_t *q = ctx;
    const upair_t *p = &q->s->pairs[id];
    return p->req == q->a && p->resp == q->b && p->follow == q->follow;
}

/* Adds count to the link from unit a to unit b (units of the set). SIFT_ENOMEM. */
static int link_add(sift_cluster_set_t *s, size_t a, size_t b, uint8_t follow, uint64_t count)
{
    pair_probe_t q = {s, (uint32_t)a, (uint32_t)b, follow};
    uint64_t h = pair_hash(q.a, q.b, follow);
    uint32_t id = sift__ids_find(&s->pix, h, pair_eq, &q);
    if (id != UINT32_MAX) {
        s->pairs[id].count += count;
        return 0;
    }
    if (sift__grow((void **)&s->pairs, &s->cappairs, s->npairs + 1, sizeof *s->pairs) < 0)
        return SIFT_ENOMEM;
    s->pairs[s->npairs] = (upair_t){q.a, q.b, count, follow};
    if (sift__ids_add(&s->pix, h, (uint32_t)s->npairs, pair_hash_id, s) < 0)
        return SIFT_ENOMEM;
    s->npairs++;
    return 0;
}

int sift_cluster_set_pair(sift_cluster_set_t *s, size_t request, size_t response, uint64_t count)
{
    if (request >= s->n || response >= s->n)
        return SIFT_EINVAL;
    sift_cluster_part_t a = s->u[request].part, b = s->u[response].part;
    if (a.dir != 0 || b.dir != 1 || a.proto != b.proto || a.port != b.port)
        return SIFT_EINVAL;
    return link_add(s, request, response, 0, count);
}

int sift_cluster_set_follow(sift_cluster_set_t *s, size_t first, size_t next, uint64_t count)
{
    if (first >= s->n || next >= s->n || !part_eq(s->u[first].part, s->u[next].part))
        return SIFT_EINVAL;
    if (first == next || !stream_proto(s->u[first].part.proto))
        return 0; /* a retransmission, or a datagram: nothing the clustering reads */
    return link_add(s, first, next, 1, count);
}

int sift_cluster_set_add_state(sift_cluster_set_t *s, const void *state, uint32_t input)
{
    const cl_state_t *st = state;
    if (st->cfg.max_bytes != s->max_bytes)
        return SIFT_EINVAL;
    int rc = 0;
    for (size_t i = 0; i < st->nents && rc == 0; i++) {
        const cl_entry_t *e = &st->ents[i];
        const cl_unit_t *cu = &st->units[e->unit];
        sift_cluster_part_t part = sift__cluster_entry_part(st, e);
        uint32_t id = set_unit(s, part, cu->h, st->bytes + cu->off, cu->kept, cu->len);
        if (id == UINT32_MAX)
            return SIFT_ENOMEM;
        s->u[id].packets += e->count;
        uint64_t flow = e->key == UINT32_MAX ? NO_FLOW : (uint64_t)input << 32 | e->key;
        rc = set_flow(s, id, flow);
        if (rc == 0 && st->cfg.members)
            rc = set_member(s, id, input, e->record + 1);
    }
    for (size_t i = 0; i < st->ntrans && rc == 0; i++) {
        const cl_trans_t *t = &st->trans[i];
        cl_entry_t ea = {.unit = t->a, .key = t->key, .side = t->side};
        cl_entry_t eb = {
            .unit = t->b, .key = t->key, .side = (uint8_t)(t->follow ? t->side : !t->side)};
        sift_cluster_part_t pa = sift__cluster_entry_part(st, &ea);
        if (pa.dir != 0 && !t->follow) /* a client's message after a server's: the next request */
            continue;
        sift_cluster_part_t pb = sift__cluster_entry_part(st, &eb);
        const cl_unit_t *ua = &st->units[t->a], *ub = &st->units[t->b];
        uint32_t a = set_unit(s, pa, ua->h, st->bytes + ua->off, ua->kept, ua->len);
        uint32_t b = set_unit(s, pb, ub->h, st->bytes + ub->off, ub->kept, ub->len);
        if (a == UINT32_MAX || b == UINT32_MAX)
            rc = SIFT_ENOMEM;
        else
            rc = t->follow ? sift_cluster_set_follow(s, a, b, t->count)
                           : sift_cluster_set_pair(s, a, b, t->count);
    }
    return rc;
}

size_t sift_cluster_set_size(const sift_cluster_set_t *s)
{
    return s->n;
}

void sift_cluster_set_unit(const sift_cluster_set_t *s, size_t i, sift_cluster_unit_t *u)
{
    const su_t *x = &s->u[i];
    *u = (sift_cluster_unit_t){.part = x->part,
                               .data = s->bytes + x->off,
                               .kept = x->kept,
                               .len = x->len,
                               .packets = x->packets};
}

size_t sift_cluster_set_members(const sift_cluster_set_t *s, size_t i, sift_cluster_member_t *out,
                                size_t max)
{
    size_t n = 0;
    for (uint32_t m = s->u[i].mhead; m != UINT32_MAX; m = s->mem[m].next, n++)
        if (n < max)
            out[n] = s->mem[m].m;
    return n;
}

int sift__chains_init(sift__chains_t *ch, const sift_cluster_set_t *s)
{
    size_t n = s->n ? s->n : 1;
    ch->pred = malloc(n * sizeof *ch->pred);
    ch->to = malloc(n * sizeof *ch->to);
    ch->stack = malloc(n * sizeof *ch->stack);
    ch->done = calloc(n, 1);
    if (!ch->pred || !ch->to || !ch->stack || !ch->done) {
        sift__chains_free(ch);
        return SIFT_ENOMEM;
    }
    uint32_t *count = ch->stack; /* scratch until the first walk */
    for (size_t i = 0; i < s->n; i++) {
        ch->pred[i] = UINT32_MAX;
        count[i] = 0;
    }
    for (size_t k = 0; k < s->npairs; k++) {
        const upair_t *p = &s->pairs[k];
        uint32_t w = p->count > UINT32_MAX ? UINT32_MAX : (uint32_t)p->count;
        if (p->follow && p->req != p->resp &&
            (w > count[p->resp] || (w == count[p->resp] && p->req < ch->pred[p->resp]))) {
            ch->pred[p->resp] = p->req;
            count[p->resp] = w;
        }
    }
    return 0;
}

void sift__chains_free(sift__chains_t *ch)
{
    free(ch->pred);
    free(ch->to);
    free(ch->stack);
    free(ch->done);
    *ch = (sift__chains_t){0};
}

uint32_t sift__chain_message(sift__chains_t *ch, uint32_t i,
                             int (*kind)(const void *ctx, uint32_t unit), const void *ctx)
{
    size_t top = 0;
    uint32_t found = UINT32_MAX;
    for (uint32_t x = i; x != UINT32_MAX; x = ch->pred[x]) {
        int k = kind(ctx, x);
        if (k != SIFT__CHAIN_SEGMENT) {
            found = k == SIFT__CHAIN_MESSAGE ? x : UINT32_MAX;
            break;
        }
        if (ch->done[x] == 2) {
            found = ch->to[x];
            break;
        }
        if (ch->done[x] == 1)
            break; /* a loop of repeated payloads */
        ch->done[x] = 1;
        ch->stack[top++] = x;
    }
    while (top > 0) {
        uint32_t x = ch->stack[--top];
        ch->done[x] = 2;
        ch->to[x] = found;
    }
    return found;
}
