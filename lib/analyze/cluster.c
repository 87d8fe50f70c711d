/* The cluster set and its clustering: features per part, MinHash + LSH candidates verified
 * exactly, union-find, clusters with agreeing constant bytes merged, per-offset fields. */
#include "analyze/cluster_int.h"

#include <capsift/minhash.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPE_VALUES  16 /* an offset with more values is data, not format */
#define TEXT_SHARE       0.9
#define KEY_SHARE        0.95
#define NOISE_SHARE      0.99
#define FEW_SHARE        0.99
#define PAIR_CONSISTENCY 0.5
#define PAIR_COVER       0.5
#define MIN_PAIRS        20
#define MAX_SAMPLES      20000
#define LENGTH_SHARE     0.75 /* segments may carry several messages */
#define MAX_LENGTH_DELTA 4096 /* a length field counts the payload less a header, or more */
#define MAX_PAIRS        ((size_t)64 << 20)
#define SKETCH_MARGIN    0.15
#define NO_FLOW          UINT64_MAX

typedef struct su {
    sift_cluster_part_t part;
    XXH128_hash_t h; /* of the whole payload */
    size_t off;
    uint32_t kept;
    uint64_t len, packets;
    uint32_t mhead, mtail; /* members: a list through mem_t.next (UINT32_MAX: none) */
    uint32_t nmem;
} su_t;

typedef struct mem {
    sift_cluster_member_t m;
    uint32_t next;
} mem_t;

typedef struct uflow {
    uint32_t unit;
    uint64_t flow;
} uflow_t;

typedef struct upair {
    uint32_t req, resp;
    uint64_t count;
} upair_t;

struct sift_cluster_set {
    uint32_t max_bytes;
    su_t *u;
    size_t n, capu;
    uint8_t *bytes;
    size_t nbytes, capb;
    sift__ids_t uix;
    uflow_t *fl;
    size_t nfl, capfl;
    sift__ids_t fix;
    mem_t *mem;
    size_t nmem, capmem;
    upair_t *pairs;
    size_t npairs, cappairs;
    sift__ids_t pix;
};

static bool part_eq(sift_cluster_part_t a, sift_cluster_part_t b)
{
    return a.proto == b.proto && a.dir == b.dir && a.port == b.port;
}

static uint64_t su_hash(sift_cluster_part_t p, XXH128_hash_t h)
{
    return h.low64 ^
           ((uint64_t)p.proto << 24 | (uint64_t)p.dir << 16 | p.port) * 0x9E3779B97F4A7C15ull;
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

static uint64_t pair_hash(uint32_t a, uint32_t b)
{
    return XXH3_64bits(&(uint64_t){(uint64_t)a << 32 | b}, sizeof(uint64_t));
}

static uint64_t pair_hash_id(const void *ctx, uint32_t id)
{
    const sift_cluster_set_t *s = ctx;
    return pair_hash(s->pairs[id].req, s->pairs[id].resp);
}

typedef struct pair_probe {
    const sift_cluster_set_t *s;
    uint32_t a, b;
} pair_probe_t;

static bool pair_eq(const void *ctx, uint32_t id)
{
    const pair_probe_t *q = ctx;
    return q->s->pairs[id].req == q->a && q->s->pairs[id].resp == q->b;
}

int sift_cluster_set_pair(sift_cluster_set_t *s, size_t request, size_t response, uint64_t count)
{
    if (request >= s->n || response >= s->n)
        return SIFT_EINVAL;
    sift_cluster_part_t a = s->u[request].part, b = s->u[response].part;
    if (a.dir != 0 || b.dir != 1 || a.proto != b.proto || a.port != b.port)
        return SIFT_EINVAL;
    pair_probe_t q = {s, (uint32_t)request, (uint32_t)response};
    uint64_t h = pair_hash(q.a, q.b);
    uint32_t id = sift__ids_find(&s->pix, h, pair_eq, &q);
    if (id != UINT32_MAX) {
        s->pairs[id].count += count;
        return 0;
    }
    if (sift__grow((void **)&s->pairs, &s->cappairs, s->npairs + 1, sizeof *s->pairs) < 0)
        return SIFT_ENOMEM;
    s->pairs[s->npairs] = (upair_t){q.a, q.b, count};
    if (sift__ids_add(&s->pix, h, (uint32_t)s->npairs, pair_hash_id, s) < 0)
        return SIFT_ENOMEM;
    s->npairs++;
    return 0;
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
        cl_entry_t eb = {.unit = t->b, .key = t->key, .side = (uint8_t)!t->side};
        sift_cluster_part_t pa = sift__cluster_entry_part(st, &ea);
        if (pa.dir != 0) /* a client's message after a server's: the next request */
            continue;
        sift_cluster_part_t pb = sift__cluster_entry_part(st, &eb);
        const cl_unit_t *ua = &st->units[t->a], *ub = &st->units[t->b];
        uint32_t a = set_unit(s, pa, ua->h, st->bytes + ua->off, ua->kept, ua->len);
        uint32_t b = set_unit(s, pb, ub->h, st->bytes + ub->off, ub->kept, ub->len);
        rc = a == UINT32_MAX || b == UINT32_MAX ? SIFT_ENOMEM
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

/* ---- clustering ---- */

struct sift_clustering {
    const sift_cluster_set_t *set;
    sift_cluster_opts_t o;
    uint32_t *of;      /* cluster of each unit */
    uint32_t *members; /* units by cluster */
    size_t *start;     /* members of cluster c: [start[c], start[c+1]) */
    sift_cluster_info_t *info;
    size_t n;
    sift_clustering_stats_t st;
};

static uint32_t uf_find(uint32_t *p, uint32_t x)
{
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

/* The smaller root wins, so the components' roots never depend on the order of unions. */
static bool uf_union(uint32_t *p, uint32_t a, uint32_t b)
{
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a == b)
        return false;
    if (a < b)
        p[b] = a;
    else
        p[a] = b;
    return true;
}

static const uint8_t *ubytes(const sift_cluster_set_t *s, uint32_t i)
{
    return s->bytes + s->u[i].off;
}

static int cmp_part(sift_cluster_part_t a, sift_cluster_part_t b)
{
    if (a.proto != b.proto)
        return a.proto < b.proto ? -1 : 1;
    if (a.port != b.port)
        return a.port < b.port ? -1 : 1;
    if (a.dir != b.dir)
        return a.dir < b.dir ? -1 : 1;
    return 0;
}

/* Sorting by part with a stable tie (unit index): a merge sort needs no global context. */
static void sort_by_part(const sift_cluster_set_t *s, uint32_t *ids, uint32_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_by_part(s, ids, tmp, h);
    sort_by_part(s, ids + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int c = cmp_part(s->u[ids[i]].part, s->u[ids[j]].part);
        tmp[k++] = c <= 0 ? ids[i++] : ids[j++];
    }
    while (i < h)
        tmp[k++] = ids[i++];
    while (j < n)
        tmp[k++] = ids[j++];
    memcpy(ids, tmp, n * sizeof *ids);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static bool is_text(const sift_cluster_set_t *s, const uint32_t *ids, size_t n)
{
    uint64_t printable = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b = ubytes(s, ids[i]);
        for (uint32_t j = 0; j < s->u[ids[i]].kept; j++)
            printable +=
                (b[j] >= 0x20 && b[j] < 0x7f) || b[j] == '\r' || b[j] == '\n' || b[j] == '\t';
        total += s->u[ids[i]].kept;
    }
    return total > 0 && (double)printable >= TEXT_SHARE * (double)total;
}

/* The w-byte number at b (w 1, 2 or 4). */
static uint64_t num_at(const uint8_t *b, unsigned w, bool little)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < w; i++)
        v = v << 8 | b[little ? w - 1 - i : i];
    return v;
}

/* Whether the w-byte number at offset o is the length plus a constant in nearly all (share) of
 * the units that hold it, when they have more than one length; *delta the constant. */
static bool length_field(const sift_cluster_set_t *s, const uint32_t *ids, size_t n, uint32_t o,
                         unsigned w, bool little, double share, int64_t *delta)
{
    size_t held = 0, agree = 0;
    int64_t d0 = 0;
    uint64_t len0 = UINT64_MAX;
    bool lens = false;
    for (size_t i = 0; i < n; i++) {
        const su_t *u = &s->u[ids[i]];
        if (u->kept < o + w)
            continue;
        int64_t d = (int64_t)num_at(ubytes(s, ids[i]) + o, w, little) - (int64_t)u->len;
        if (held == 0)
            d0 = d;
        held++;
        agree += d == d0;
        if (len0 == UINT64_MAX)
            len0 = u->len;
        lens |= u->len != len0;
    }
    if (delta)
        *delta = d0;
    return lens && held >= 2 && d0 >= -MAX_LENGTH_DELTA && d0 <= MAX_LENGTH_DELTA &&
           (double)agree >= share * (double)held && held * 10 >= n * 9;
}

/* The offsets below p whose byte is part of a length field among the units. */
static void length_offsets(const sift_cluster_set_t *s, const uint32_t *ids, size_t n, uint32_t p,
                           bool *is_len)
{
    static const struct {
        unsigned w;
        bool little;
    } forms[] = {{1, false}, {2, false}, {2, true}, {4, false}, {4, true}};
    for (uint32_t o = 0; o < p; o++)
        for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++)
            if (o + forms[f].w <= p &&
                length_field(s, ids, n, o, forms[f].w, forms[f].little, LENGTH_SHARE, NULL))
                for (unsigned k = 0; k < forms[f].w; k++)
                    is_len[o + k] = true;
}

/* The features of one part: for each unit, its sorted, distinct feature hashes. */
typedef struct feats {
    uint64_t *v;
    size_t *off; /* unit i of the part: v[off[i] .. off[i+1]) */
    size_t n;
} feats_t;

static int part_features(const sift_cluster_set_t *s, const uint32_t *ids, size_t n, bool text,
                         const bool *sel, uint32_t p, feats_t *f)
{
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t kept = s->u[ids[i]].kept;
        cap += text ? (kept >= 3 ? kept - 2 : 1) : (kept < p ? kept : p) + 1;
    }
    f->v = malloc((cap ? cap : 1) * sizeof *f->v);
    f->off = malloc((n + 1) * sizeof *f->off);
    if (!f->v || !f->off)
        return SIFT_ENOMEM;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const su_t *u = &s->u[ids[i]];
        const uint8_t *b = ubytes(s, ids[i]);
        f->off[i] = at;
        size_t k = 0;
        if (text && u->kept >= 3) {
            k = sift_shingle_hashes(b, u->kept, 3, 0, f->v + at);
        } else if (text) {
            f->v[at + k++] = mix(0x2000000u | (uint64_t)u->kept << 16 | (u->kept ? b[0] : 0));
        } else {
            for (uint32_t j = 0; j < u->kept && j < p; j++)
                if (sel[j])
                    f->v[at + k++] = mix((uint64_t)j << 8 | b[j]);
            f->v[at + k++] = mix(0x1000000u | (u->len < 65535 ? u->len : 65535));
        }
        at += sift_features_sort_unique(f->v + at, k);
    }
    f->off[n] = at;
    f->n = n;
    return 0;
}

typedef struct part_run {
    const sift_cluster_set_t *s;
    const sift_cluster_opts_t *o;
    const uint32_t *ids; /* the part's units */
    size_t n;
    uint32_t *parent; /* union-find over the part's positions 0..n-1 */
    sift_clustering_stats_t *st;
    bool text;
    bool *sel;    /* offsets of positional tokens */
    uint32_t key; /* the type field the clusters were merged by (UINT32_MAX: none) */
    /* the set's request/response pairs by request unit: pairs[plist[pstart[u] ..
     * pstart[u + 1])] (shared by the run); pos[u]: unit u's index in its part */
    const size_t *pstart;
    const uint32_t *plist, *pos;
    const size_t *fstart; /* the flows of unit u: s->fl[flist[fstart[u] .. fstart[u + 1])] */
    const uint32_t *flist;
} part_run_t;

/* Joins the pairs of distinct feature sets (reps) at or above the threshold. */
static int join_pairs(part_run_t *r, const feats_t *f, const uint32_t *reps, size_t nreps)
{
    const sift_cluster_opts_t *o = r->o;
#define FSET(i) f->v + f->off[reps[i]], f->off[reps[i] + 1] - f->off[reps[i]]
    if (o->exact || nreps < 2) {
        for (size_t i = 0; i < nreps; i++)
            for (size_t j = i + 1; j < nreps; j++) {
                r->st->candidates++;
                if (sift_jaccard(FSET(i), FSET(j)) >= o->threshold) {
                    r->st->joined++;
                    uf_union(r->parent, reps[i], reps[j]);
                }
            }
        return 0;
    }
    unsigned bands, rows;
    int rc = sift_lsh_derive(o->threshold < 1.0 ? o->threshold : 0.999, o->k, 0.99, &bands, &rows);
    if (rc < 0)
        return rc;
    r->st->bands = bands;
    r->st->rows = rows;
    sift_minhash_t *mh = NULL;
    sift_lsh_t *lsh = NULL;
    uint64_t *fv = NULL;
    size_t *offs = malloc((nreps + 1) * sizeof *offs), total = 0;
    uint32_t *sigs = NULL;
    sift_lsh_pair_t *pairs = NULL;
    size_t npairs = 0;
    if (!offs)
        return SIFT_ENOMEM;
    for (size_t i = 0; i < nreps; i++)
        total += f->off[reps[i] + 1] - f->off[reps[i]];
    fv = malloc((total ? total : 1) * sizeof *fv);
    sigs = malloc(nreps * (size_t)o->k * sizeof *sigs);
    rc = !fv || !sigs ? SIFT_ENOMEM : 0;
    if (rc == 0) {
        size_t at = 0;
        for (size_t i = 0; i < nreps; i++) {
            size_t m = f->off[reps[i] + 1] - f->off[reps[i]];
            offs[i] = at;
            memcpy(fv + at, f->v + f->off[reps[i]], m * sizeof *fv);
            at += m;
        }
        offs[nreps] = at;
        sift_minhash_opts_t mo = {.k = o->k, .seed = o->seed};
        rc = sift_minhash_create(&mh, &mo);
    }
    if (rc == 0)
        rc = sift_minhash_sketch_many(mh, fv, offs, nreps, sigs, o->threads);
    if (rc == 0)
        rc = sift_lsh_create(&lsh, o->k, bands, rows);
    if (rc == 0)
        rc = sift_lsh_add_many(lsh, sigs, nreps, o->threads);
    if (rc == 0)
        rc = sift_lsh_build(lsh, o->threads);
    if (rc == 0)
        rc = sift_lsh_pairs(lsh, o->threads, MAX_PAIRS, &pairs, &npairs);
    if (rc == 0) {
        size_t mem = total * sizeof *fv + nreps * (size_t)o->k * sizeof *sigs +
                     sift_lsh_memory(lsh) + npairs * sizeof *pairs;
        if (mem > r->st->memory)
            r->st->memory = mem;
        for (size_t i = 0; i < npairs; i++) {
            uint32_t a = pairs[i].a, b = pairs[i].b;
            if (uf_find(r->parent, reps[a]) == uf_find(r->parent, reps[b]))
                continue; /* joined already: a verification would change nothing */
            r->st->candidates++;
            /* Cheap bounds first: sets of sizes m <= n are at most m/n similar, and a sketch
             * estimate far below the threshold (SKETCH_MARGIN: over 5 standard deviations of
             * a 128-value estimate) is not worth the exact count. Only the exact count joins. */
            size_t na = offs[a + 1] - offs[a], nb = offs[b + 1] - offs[b];
            if ((double)(na < nb ? na : nb) < o->threshold * (double)(na < nb ? nb : na) ||
                sift_minhash_similarity(sigs + (size_t)a * o->k, sigs + (size_t)b * o->k, o->k) <
                    o->threshold - SKETCH_MARGIN)
                continue;
            if (sift_jaccard(FSET(a), FSET(b)) >= o->threshold) {
                r->st->joined++;
                uf_union(r->parent, reps[a], reps[b]);
            }
        }
    }
#undef FSET
    free(pairs);
    sift_lsh_free(lsh);
    sift_minhash_free(mh);
    free(sigs);
    free(fv);
    free(offs);
    return rc;
}

typedef struct hk {
    uint64_t h;
    uint32_t i;
} hk_t;

static int cmp_hk(const void *a, const void *b)
{
    const hk_t *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Units with the same feature set are one: joined at once, only one of them compared. */
static int distinct_sets(part_run_t *r, const feats_t *f, uint32_t **reps, size_t *nreps)
{
    hk_t *k = malloc((r->n ? r->n : 1) * sizeof *k);
    *reps = malloc((r->n ? r->n : 1) * sizeof **reps);
    if (!k || !*reps) {
        free(k);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < r->n; i++)
        k[i] = (hk_t){XXH3_64bits(f->v + f->off[i], (f->off[i + 1] - f->off[i]) * sizeof *f->v),
                      (uint32_t)i};
    if (r->n > 1)
        qsort(k, r->n, sizeof *k, cmp_hk);
    *nreps = 0;
    size_t run = 0; /* the reps of the current run of equal hashes: reps[run .. *nreps) */
    for (size_t i = 0; i < r->n; i++) {
        if (i == 0 || k[i].h != k[i - 1].h)
            run = *nreps;
        uint32_t a = k[i].i;
        bool same = false;
        for (size_t j = run; j < *nreps && !same; j++) { /* more than one: a hash collision */
            uint32_t b = (*reps)[j];
            size_t na = f->off[a + 1] - f->off[a], nb = f->off[b + 1] - f->off[b];
            same = na == nb && memcmp(f->v + f->off[a], f->v + f->off[b], na * sizeof *f->v) == 0;
            if (same)
                uf_union(r->parent, a, b);
        }
        if (!same)
            (*reps)[(*nreps)++] = a;
    }
    free(k);
    return 0;
}

/* Per cluster (its root) of a part: for each selected offset, the byte all its payloads have
 * there (0..255), MASK_VARIES when they differ, MASK_MISSING when one is shorter. */
#define MASK_VARIES  256
#define MASK_MISSING 257
#define MASK_UNSEEN  258

static uint16_t *part_masks(const part_run_t *r, const bool *sel, uint32_t p)
{
    const sift_cluster_set_t *s = r->s;
    size_t cells = (size_t)r->n * p;
    uint16_t *mask = malloc((cells ? cells : 1) * sizeof *mask);
    if (!mask)
        return NULL;
    for (size_t i = 0; i < (size_t)r->n * p; i++)
        mask[i] = MASK_UNSEEN;
    for (size_t i = 0; i < r->n; i++) {
        uint16_t *m = mask + (size_t)uf_find(r->parent, (uint32_t)i) * p;
        const su_t *u = &s->u[r->ids[i]];
        const uint8_t *b = ubytes(s, r->ids[i]);
        for (uint32_t j = 0; j < p; j++) {
            if (!sel[j])
                continue;
            uint16_t v = j < u->kept ? b[j] : MASK_MISSING;
            m[j] = m[j] == MASK_UNSEEN || m[j] == v ? v : MASK_VARIES;
        }
    }
    return mask;
}

typedef struct fv {
    uint64_t flow;
    uint16_t v;
} fv_t;

static int cmp_fv(const void *a, const void *b)
{
    const fv_t *x = a, *y = b;
    if (x->flow != y->flow)
        return x->flow < y->flow ? -1 : 1;
    return (x->v > y->v) - (x->v < y->v);
}

/* Whether offset j has one value per flow, in flows that carry several payloads: a session or
 * connection identifier that the response echoes, not a type (a session carries many types). */
static bool flow_bound(const part_run_t *r, uint32_t j)
{
    const sift_cluster_set_t *s = r->s;
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->fstart[r->ids[i] + 1] - r->fstart[r->ids[i]];
    fv_t *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return false;
    n = 0;
    for (size_t i = 0; i < r->n; i++) {
        uint32_t u = r->ids[i];
        uint16_t b = j < s->u[u].kept ? ubytes(s, u)[j] : MASK_MISSING;
        for (size_t k = r->fstart[u]; k < r->fstart[u + 1]; k++)
            v[n++] = (fv_t){s->fl[r->flist[k]].flow, b};
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_fv);
    size_t in_multi = 0, majority = 0; /* payloads of flows with several, and of their commonest */
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo, top = 0;
        while (hi < n && v[hi].flow == v[lo].flow)
            hi++;
        for (size_t a = lo; a < hi;) {
            size_t b = a;
            while (b < hi && v[b].v == v[a].v)
                b++;
            top = b - a > top ? b - a : top;
            a = b;
        }
        if (hi - lo > 1) {
            in_multi += hi - lo;
            majority += top;
        }
        lo = hi;
    }
    free(v);
    return in_multi > 0 && (double)majority >= NOISE_SHARE * (double)in_multi;
}

/* The type-field candidates of a part: offsets constant within the clusters of nearly every
 * payload that shares its cluster, with more than one value between them, that are not a
 * constant with noise. Written to out (p entries), their number to *nout. */
static int part_candidates(const part_run_t *r, const bool *sel, uint32_t p, const uint16_t *mask,
                           uint32_t *out, size_t *nout)
{
    *nout = 0;
    /* a payload alone in its cluster is constant everywhere: it says nothing of a field */
    uint32_t *size = calloc(r->n ? r->n : 1, sizeof *size);
    if (!size)
        return SIFT_ENOMEM;
    size_t grouped = 0;
    for (size_t i = 0; i < r->n; i++)
        size[uf_find(r->parent, (uint32_t)i)]++;
    for (size_t i = 0; i < r->n; i++)
        grouped += size[uf_find(r->parent, (uint32_t)i)] > 1;
    for (uint32_t j = 0; j < p; j++) {
        if (!sel[j])
            continue;
        size_t held = 0, count[256] = {0}, top = 0;
        for (size_t i = 0; i < r->n; i++) {
            uint32_t root = uf_find(r->parent, (uint32_t)i);
            uint16_t v = mask[(size_t)root * p + j];
            if (v >= MASK_VARIES || size[root] < 2)
                continue;
            held++;
            if (++count[v] > top)
                top = count[v];
        }
        if (held > 0 && (double)held >= KEY_SHARE * (double)grouped &&
            (double)top < NOISE_SHARE * (double)held && !flow_bound(r, j))
            out[(*nout)++] = j;
    }
    free(size);
    return 0;
}

/* A pair of messages in a client part and its server part, by their indices in them. */
typedef struct sample {
    uint32_t a, b;
    double w;
} sample_t;

/* The pairs of the set between the two parts, the first MAX_SAMPLES in unit order. */
static sample_t *pair_samples(const part_run_t *ra, size_t *n)
{
    const sift_cluster_set_t *s = ra->s;
    *n = 0;
    size_t total = 0;
    for (size_t i = 0; i < ra->n; i++)
        total += ra->pstart[ra->ids[i] + 1] - ra->pstart[ra->ids[i]];
    if (total > MAX_SAMPLES)
        total = MAX_SAMPLES;
    sample_t *v = malloc((total ? total : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < ra->n && *n < total; i++) {
        uint32_t u = ra->ids[i];
        for (size_t k = ra->pstart[u]; k < ra->pstart[u + 1] && *n < total; k++) {
            const upair_t *pp = &s->pairs[ra->plist[k]];
            v[(*n)++] = (sample_t){(uint32_t)i, ra->pos[pp->resp], (double)pp->count};
        }
    }
    return v;
}

static double entropy_of(const double *c, size_t n, double total)
{
    double h = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i] > 0)
            h -= c[i] / total * log2(c[i] / total);
    return h;
}

/* How well the byte at offset ja of a request and at jb of its response determine each other
 * over the pairs where both are constant within their clusters: I(A;B) / H(A,B), 1 for a
 * one-to-one mapping, 0 for independent bytes (data). *cover: the share of pairs used. */
static double consistency(const part_run_t *ra, const part_run_t *rb, const uint16_t *ma,
                          const uint16_t *mb, uint32_t p, const sample_t *v, size_t n, uint32_t ja,
                          uint32_t jb, double *joint, double *cover, double *h_out)
{
    double ca[256] = {0}, cb[256] = {0}, total = 0, all = 0;
    for (size_t i = 0; i < n; i++) {
        all += v[i].w;
        uint16_t x = ma[(size_t)uf_find(ra->parent, v[i].a) * p + ja];
        uint16_t y = mb[(size_t)uf_find(rb->parent, v[i].b) * p + jb];
        if (x >= MASK_VARIES || y >= MASK_VARIES)
            continue;
        ca[x] += v[i].w;
        cb[y] += v[i].w;
        joint[x << 8 | y] += v[i].w;
        total += v[i].w;
    }
    *cover = all > 0 ? total / all : 0;
    if (total <= 0)
        return 0;
    double hj = 0;
    for (size_t i = 0; i < n; i++) { /* the joint table's cells, each once, then cleared */
        uint16_t x = ma[(size_t)uf_find(ra->parent, v[i].a) * p + ja];
        uint16_t y = mb[(size_t)uf_find(rb->parent, v[i].b) * p + jb];
        if (x >= MASK_VARIES || y >= MASK_VARIES || joint[x << 8 | y] <= 0)
            continue;
        double q = joint[x << 8 | y] / total;
        hj -= q * log2(q);
        joint[x << 8 | y] = 0;
    }
    double h = entropy_of(ca, 256, total) + entropy_of(cb, 256, total);
    *h_out = h;
    return hj > 0 ? (h - hj) / hj : 0;
}

/* The type field from the pairs: the candidates whose bytes in a request and its response
 * determine each other best (NetPlier's constraint). Returns false when there are too few
 * pairs to judge, or none is consistent. */
static bool paired_keys(const part_run_t *pr, const uint16_t *const *mask, const uint32_t *const *c,
                        const size_t *nc, uint32_t *ka, uint32_t *kb)
{
    uint32_t p = pr[0].o->positions;
    size_t n;
    sample_t *v = pair_samples(&pr[0], &n);
    double *joint = calloc(65536, sizeof *joint);
    bool found = false;
    double best = PAIR_CONSISTENCY, best_h = -1;
    if (v && joint && n >= MIN_PAIRS) {
        for (size_t i = 0; i < nc[0]; i++)
            for (size_t j = 0; j < nc[1]; j++) {
                double cover, h;
                double q = consistency(&pr[0], &pr[1], mask[0], mask[1], p, v, n, c[0][i], c[1][j],
                                       joint, &cover, &h);
                if (cover < PAIR_COVER)
                    continue;
                if (q > best + 1e-9 || (q > best - 1e-9 && h > best_h)) {
                    best = q;
                    best_h = h;
                    *ka = c[0][i];
                    *kb = c[1][j];
                    found = true;
                }
            }
    }
    free(v);
    free(joint);
    return found;
}

/* Merges the clusters of the part that have the same byte at the key offset. */
static void merge_by_key(part_run_t *r, const uint16_t *mask, uint32_t p, uint32_t key)
{
    uint32_t first[MASK_UNSEEN + 1];
    for (size_t v = 0; v <= MASK_UNSEEN; v++)
        first[v] = UINT32_MAX;
    for (size_t i = 0; i < r->n; i++) {
        if (uf_find(r->parent, (uint32_t)i) != i)
            continue;
        uint16_t v = mask[i * p + key];
        if (v >= MASK_VARIES)
            continue; /* no one value: stays alone */
        if (first[v] == UINT32_MAX)
            first[v] = (uint32_t)i;
        else if (uf_union(r->parent, first[v], (uint32_t)i))
            r->st->merged++;
    }
}

static int cmp_size_desc(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x < y) - (x > y);
}

/* Whether offset j takes few values: its MAX_TYPE_VALUES commonest cover nearly all the units
 * holding it (a format or type field; payloads that continue a stream are noise there). */
static bool few_values(const sift_cluster_set_t *s, const uint32_t *ids, size_t n, uint32_t j)
{
    size_t count[256] = {0}, held = 0, top = 0;
    for (size_t i = 0; i < n; i++)
        if (s->u[ids[i]].kept > j) {
            count[ubytes(s, ids[i])[j]]++;
            held++;
        }
    qsort(count, 256, sizeof *count, cmp_size_desc);
    for (size_t v = 0; v < MAX_TYPE_VALUES; v++)
        top += count[v];
    return held > 0 && (double)top >= FEW_SHARE * (double)held;
}

/* The fine clusters of a part: features, identical sets joined, candidate pairs verified.
 * r->text and r->sel (the offsets of positional tokens, for the key) are set. */
static int cluster_part(part_run_t *r)
{
    const sift_cluster_set_t *s = r->s;
    r->text = is_text(s, r->ids, r->n);
    uint32_t p = r->o->positions;
    bool *is_len = calloc(p ? p : 1, sizeof *is_len);
    r->sel = calloc(p ? p : 1, sizeof *r->sel);
    feats_t f = {0};
    uint32_t *reps = NULL;
    size_t nreps = 0;
    int rc = !r->sel || !is_len ? SIFT_ENOMEM : 0;
    if (rc == 0 && !r->text) {
        length_offsets(s, r->ids, r->n, p, is_len);
        for (uint32_t j = 0; j < p; j++)
            r->sel[j] = !is_len[j] && few_values(s, r->ids, r->n, j);
    }
    if (rc == 0)
        rc = part_features(s, r->ids, r->n, r->text, r->sel, p, &f);
    if (rc == 0)
        rc = distinct_sets(r, &f, &reps, &nreps);
    if (rc == 0)
        rc = join_pairs(r, &f, reps, nreps);
    free(reps);
    free(f.v);
    free(f.off);
    free(is_len);
    return rc;
}

/* Merges the fine clusters of a client part and its server part (one transport and port) by
 * the type field their pairs show; a part alone, or of text, keeps its clusters. */
static int merge_parts(part_run_t *pr, size_t np)
{
    if (np < 2 || pr[0].text || pr[1].text)
        return 0;
    uint32_t p = pr[0].o->positions;
    uint16_t *mask[2] = {part_masks(&pr[0], pr[0].sel, p), part_masks(&pr[1], pr[1].sel, p)};
    uint32_t *cand[2] = {malloc((p ? p : 1) * sizeof *cand[0]),
                         malloc((p ? p : 1) * sizeof *cand[1])};
    size_t ncand[2] = {0, 0};
    uint32_t key[2] = {UINT32_MAX, UINT32_MAX};
    int rc = !mask[0] || !mask[1] || !cand[0] || !cand[1] ? SIFT_ENOMEM : 0;
    for (size_t i = 0; i < 2 && rc == 0; i++)
        rc = part_candidates(&pr[i], pr[i].sel, p, mask[i], cand[i], &ncand[i]);
    if (rc == 0 && paired_keys(pr, (const uint16_t *const *)mask, (const uint32_t *const *)cand,
                               ncand, &key[0], &key[1]))
        for (size_t i = 0; i < 2; i++) {
            merge_by_key(&pr[i], mask[i], p, key[i]);
            pr[i].key = key[i];
        }
    for (size_t i = 0; i < 2; i++) {
        free(mask[i]);
        free(cand[i]);
    }
    return rc;
}

static int cmp_info(const sift_cluster_info_t *x, const sift_cluster_info_t *y,
                    const sift_cluster_set_t *s)
{
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    int c = cmp_part(x->part, y->part);
    if (c)
        return c;
    const su_t *a = &s->u[x->rep], *b = &s->u[y->rep];
    uint32_t m = a->kept < b->kept ? a->kept : b->kept;
    c = memcmp(s->bytes + a->off, s->bytes + b->off, m);
    if (c)
        return c;
    if (a->kept != b->kept)
        return a->kept < b->kept ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

/* Orders cluster indices by cmp_info (merge sort: no global context needed). */
static void sort_clusters(const sift_cluster_info_t *info, const sift_cluster_set_t *s,
                          uint32_t *ids, uint32_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_clusters(info, s, ids, tmp, h);
    sort_clusters(info, s, ids + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_info(&info[ids[i]], &info[ids[j]], s) <= 0 ? ids[i++] : ids[j++];
    while (i < h)
        tmp[k++] = ids[i++];
    while (j < n)
        tmp[k++] = ids[j++];
    memcpy(ids, tmp, n * sizeof *ids);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct cflow {
    uint32_t c;
    uint64_t flow;
} cflow_t;

static int cmp_cflow(const void *a, const void *b)
{
    const cflow_t *x = a, *y = b;
    if (x->c != y->c)
        return x->c < y->c ? -1 : 1;
    return (x->flow > y->flow) - (x->flow < y->flow);
}

/* The flows of each cluster: distinct (cluster, flow) over the units' flows. */
static int count_flows(sift_clustering_t *c)
{
    const sift_cluster_set_t *s = c->set;
    cflow_t *v = malloc((s->nfl ? s->nfl : 1) * sizeof *v);
    if (!v)
        return SIFT_ENOMEM;
    for (size_t i = 0; i < s->nfl; i++)
        v[i] = (cflow_t){c->of[s->fl[i].unit], s->fl[i].flow};
    if (s->nfl > 1)
        qsort(v, s->nfl, sizeof *v, cmp_cflow);
    for (size_t i = 0; i < s->nfl; i++)
        if (i == 0 || v[i].c != v[i - 1].c || v[i].flow != v[i - 1].flow)
            c->info[v[i].c].flows++;
    free(v);
    return 0;
}

/* Fills the clusters from the union-find over all units (parent indexes the set's units);
 * part_total[i] is the packets of unit i's part, text[i] whether it was clustered as text,
 * key[i] its part's type field (UINT32_MAX: none). */
static int build_clusters(sift_clustering_t *c, uint32_t *parent, const uint64_t *part_total,
                          const uint8_t *text, const uint32_t *key)
{
    const sift_cluster_set_t *s = c->set;
    size_t n = s->n, nc = 0;
    uint32_t *tmp_id = malloc((n ? n : 1) * sizeof *tmp_id);
    c->of = malloc((n ? n : 1) * sizeof *c->of);
    if (!tmp_id || !c->of) {
        free(tmp_id);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        tmp_id[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = uf_find(parent, (uint32_t)i);
        if (tmp_id[r] == UINT32_MAX)
            tmp_id[r] = (uint32_t)nc++;
        c->of[i] = tmp_id[r];
    }
    sift_cluster_info_t *info = calloc(nc ? nc : 1, sizeof *info);
    uint32_t *order = malloc((nc ? nc : 1) * sizeof *order);
    uint32_t *rank = malloc((nc ? nc : 1) * sizeof *rank);
    c->start = calloc(nc + 1, sizeof *c->start);
    c->members = malloc((n ? n : 1) * sizeof *c->members);
    if (!info || !order || !rank || !c->start || !c->members) {
        free(info);
        free(order);
        free(rank);
        free(tmp_id);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        sift_cluster_info_t *x = &info[c->of[i]];
        const su_t *u = &s->u[i];
        if (x->units == 0) {
            x->part = u->part;
            x->rep = (uint32_t)i;
            x->prefix = u->kept;
            x->min_len = x->max_len = u->len;
            x->part_share = part_total[i] ? 0 : 1;
            x->text = text[i] != 0;
            x->type_offset = key[i] == UINT32_MAX || key[i] >= u->kept ? -1 : (int32_t)key[i];
            x->type = x->type_offset < 0 ? 0 : ubytes(s, (uint32_t)i)[key[i]];
            tmp_id[c->of[i]] = (uint32_t)i; /* now: the cluster's first unit */
        } else {
            if (u->packets > s->u[x->rep].packets)
                x->rep = (uint32_t)i;
            const uint8_t *a = ubytes(s, tmp_id[c->of[i]]), *b = ubytes(s, (uint32_t)i);
            uint32_t m = 0, lim = x->prefix < u->kept ? x->prefix : u->kept;
            while (m < lim && a[m] == b[m])
                m++;
            x->prefix = m;
            if (u->len < x->min_len)
                x->min_len = u->len;
            if (u->len > x->max_len)
                x->max_len = u->len;
        }
        x->packets += u->packets;
        x->units++;
        if (part_total[i])
            x->part_share += (double)u->packets / (double)part_total[i];
    }
    free(tmp_id);
    uint32_t *tmp = malloc((nc ? nc : 1) * sizeof *tmp);
    if (!tmp) {
        free(info);
        free(order);
        free(rank);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < nc; i++)
        order[i] = (uint32_t)i;
    sort_clusters(info, s, order, tmp, nc);
    for (size_t i = 0; i < nc; i++)
        rank[order[i]] = (uint32_t)i;
    sift_cluster_info_t *sorted = malloc((nc ? nc : 1) * sizeof *sorted);
    if (!sorted) {
        free(info);
        free(order);
        free(rank);
        free(tmp);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < nc; i++) {
        sorted[i] = info[order[i]];
        sorted[i].id = (uint32_t)i;
    }
    for (size_t i = 0; i < n; i++)
        c->of[i] = rank[c->of[i]];
    for (size_t i = 0; i < n; i++)
        c->start[c->of[i] + 1]++;
    for (size_t i = 0; i < nc; i++)
        c->start[i + 1] += c->start[i];
    for (size_t i = 0; i < nc; i++)
        tmp[i] = 0;
    for (size_t i = 0; i < n; i++)
        c->members[c->start[c->of[i]] + tmp[c->of[i]]++] = (uint32_t)i;
    free(info);
    free(order);
    free(rank);
    free(tmp);
    c->info = sorted;
    c->n = nc;
    return count_flows(c);
}

static int check_opts(const sift_cluster_set_t *s, const sift_cluster_opts_t *in,
                      sift_cluster_opts_t *o)
{
    static const sift_cluster_opts_t defaults = {0};
    *o = in ? *in : defaults;
    if (o->threshold == 0)
        o->threshold = SIFT_CLUSTER_DEFAULT_THRESHOLD;
    if (o->positions == 0)
        o->positions = SIFT_CLUSTER_DEFAULT_POSITIONS;
    if (o->positions > s->max_bytes)
        o->positions = s->max_bytes;
    if (o->k == 0)
        o->k = 128;
    if (!(o->threshold > 0 && o->threshold <= 1) || o->k < 8 || o->k > 4096 || o->k % 8)
        return SIFT_EINVAL;
    return 0;
}

int sift_cluster_run(const sift_cluster_set_t *s, const sift_cluster_opts_t *opts,
                     sift_clustering_t **out)
{
    *out = NULL;
    sift_clustering_t *c = calloc(1, sizeof *c);
    if (!c)
        return SIFT_ENOMEM;
    c->set = s;
    int rc = check_opts(s, opts, &c->o);
    size_t n = s->n;
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    uint32_t *parent = malloc((n ? n : 1) * sizeof *parent);
    uint32_t *local = malloc((n ? n : 1) * sizeof *local);
    uint64_t *part_total = malloc((n ? n : 1) * sizeof *part_total);
    uint8_t *text = malloc(n ? n : 1);
    uint32_t *key = malloc((n ? n : 1) * sizeof *key);
    if (rc == 0 && (!ids || !tmp || !parent || !local || !part_total || !text || !key))
        rc = SIFT_ENOMEM;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            ids[i] = (uint32_t)i;
        sort_by_part(s, ids, tmp, n);
        c->st.units = n;
    }
    size_t *pstart = calloc(n + 1, sizeof *pstart);
    uint32_t *plist = malloc((s->npairs ? s->npairs : 1) * sizeof *plist);
    uint32_t *pos = malloc((n ? n : 1) * sizeof *pos);
    size_t *fstart = calloc(n + 1, sizeof *fstart);
    uint32_t *flist = malloc((s->nfl ? s->nfl : 1) * sizeof *flist);
    if (rc == 0 && (!pstart || !plist || !pos || !fstart || !flist))
        rc = SIFT_ENOMEM;
    if (rc == 0) {
        for (size_t k = 0; k < s->nfl; k++)
            fstart[s->fl[k].unit + 1]++;
        for (size_t i = 0; i < n; i++)
            fstart[i + 1] += fstart[i];
        for (size_t k = 0; k < s->nfl; k++)
            flist[fstart[s->fl[k].unit]++] = (uint32_t)k;
        for (size_t i = n; i > 0; i--)
            fstart[i] = fstart[i - 1];
        fstart[0] = 0;
    }
    if (rc == 0) {
        for (size_t k = 0; k < s->npairs; k++)
            pstart[s->pairs[k].req + 1]++;
        for (size_t i = 0; i < n; i++)
            pstart[i + 1] += pstart[i];
        for (size_t k = 0; k < s->npairs; k++) /* tmp: the next slot of each request unit */
            plist[pstart[s->pairs[k].req]++] = (uint32_t)k;
        for (size_t i = n; i > 0; i--)
            pstart[i] = pstart[i - 1];
        pstart[0] = 0;
    }
    for (size_t lo = 0; rc == 0 && lo < n;) {
        /* the parts of one transport and port: sorted by direction, client first */
        part_run_t pr[2] = {{0}};
        size_t np = 0, at = lo;
        while (rc == 0 && np < 2 && at < n &&
               (np == 0 || (s->u[ids[at]].part.proto == pr[0].s->u[pr[0].ids[0]].part.proto &&
                            s->u[ids[at]].part.port == pr[0].s->u[pr[0].ids[0]].part.port))) {
            size_t hi = at + 1;
            while (hi < n && part_eq(s->u[ids[hi]].part, s->u[ids[at]].part))
                hi++;
            pr[np] = (part_run_t){.s = s,
                                  .o = &c->o,
                                  .ids = ids + at,
                                  .n = hi - at,
                                  .parent = local + at,
                                  .st = &c->st,
                                  .key = UINT32_MAX,
                                  .pstart = pstart,
                                  .plist = plist,
                                  .pos = pos,
                                  .fstart = fstart,
                                  .flist = flist};
            for (size_t i = 0; i < pr[np].n; i++) {
                pr[np].parent[i] = (uint32_t)i;
                pos[pr[np].ids[i]] = (uint32_t)i;
            }
            rc = cluster_part(&pr[np]);
            np++;
            c->st.parts++;
            at = hi;
        }
        if (rc == 0 && !c->o.no_merge)
            rc = merge_parts(pr, np);
        for (size_t k = 0; k < np; k++) {
            uint64_t total = 0;
            for (size_t i = 0; i < pr[k].n; i++)
                total += s->u[pr[k].ids[i]].packets;
            for (size_t i = 0; i < pr[k].n; i++) {
                parent[pr[k].ids[i]] = pr[k].ids[uf_find(pr[k].parent, (uint32_t)i)];
                part_total[pr[k].ids[i]] = total;
                text[pr[k].ids[i]] = pr[k].text;
                key[pr[k].ids[i]] = pr[k].key;
            }
            free(pr[k].sel);
        }
        lo = at;
    }
    if (rc == 0)
        rc = build_clusters(c, parent, part_total, text, key);
    free(pstart);
    free(plist);
    free(fstart);
    free(flist);
    free(pos);
    free(text);
    free(key);
    free(ids);
    free(tmp);
    free(parent);
    free(local);
    free(part_total);
    if (rc < 0) {
        sift_clustering_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void sift_clustering_free(sift_clustering_t *c)
{
    if (!c)
        return;
    free(c->of);
    free(c->members);
    free(c->start);
    free(c->info);
    free(c);
}

size_t sift_clustering_count(const sift_clustering_t *c)
{
    return c->n;
}

const sift_cluster_info_t *sift_clustering_get(const sift_clustering_t *c, size_t id)
{
    return id < c->n ? &c->info[id] : NULL;
}

uint32_t sift_clustering_of(const sift_clustering_t *c, size_t unit)
{
    return c->of[unit];
}

void sift_clustering_units(const sift_clustering_t *c, size_t id, const uint32_t **units, size_t *n)
{
    *units = c->members + c->start[id];
    *n = c->start[id + 1] - c->start[id];
}

void sift_clustering_stats(const sift_clustering_t *c, sift_clustering_stats_t *out)
{
    *out = c->st;
}

/* ---- fields ---- */

/* A w-byte number at o taking many values in a narrow range over the units: a counter. */
static bool counter_field(const sift_cluster_set_t *s, const uint32_t *ids, size_t n, uint32_t o,
                          unsigned w, bool little, uint32_t *distinct)
{
    if (n < 4)
        return false;
    uint64_t *v = malloc(n * sizeof *v);
    if (!v)
        return false;
    for (size_t i = 0; i < n; i++)
        v[i] = num_at(ubytes(s, ids[i]) + o, w, little);
    qsort(v, n, sizeof *v, cmp_u64);
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += i == 0 || v[i] != v[i - 1];
    bool yes = d >= 4 && d * 2 >= n && v[n - 1] - v[0] < 4 * (uint64_t)d;
    free(v);
    *distinct = (uint32_t)d;
    return yes;
}

int64_t sift_clustering_fields(const sift_clustering_t *c, size_t id, sift_cluster_field_t **out)
{
    *out = NULL;
    const sift_cluster_set_t *s = c->set;
    const uint32_t *ids;
    size_t n;
    sift_clustering_units(c, id, &ids, &n);
    uint32_t p = c->o.positions;
    for (size_t i = 0; i < n; i++)
        if (s->u[ids[i]].kept < p)
            p = s->u[ids[i]].kept;
    sift_cluster_field_t *f = calloc(p ? p : 1, sizeof *f);
    if (!f)
        return SIFT_ENOMEM;
    static const struct {
        unsigned w;
        bool little;
    } forms[] = {{2, false}, {2, true}, {4, false}, {4, true}, {1, false}}; /* 2 bytes first */
    size_t nf = 0;
    for (uint32_t o = 0; o < p;) {
        sift_cluster_field_t x = {.offset = o, .width = 1};
        bool found = false;
        for (size_t k = 0; k < sizeof forms / sizeof forms[0] && !found; k++) {
            unsigned w = forms[k].w;
            if (o + w > p)
                continue;
            int64_t delta;
            uint32_t d = 0;
            /* a 4-byte big-endian length whose low half is one: the 2-byte field it is */
            bool narrower =
                w == 4 && !forms[k].little && length_field(s, ids, n, o + 2, 2, false, 1.0, NULL);
            if (!narrower && length_field(s, ids, n, o, w, forms[k].little, 1.0, &delta)) {
                x = (sift_cluster_field_t){.offset = o,
                                           .width = (uint8_t)w,
                                           .kind = SIFT_FIELD_LENGTH,
                                           .little = forms[k].little,
                                           .delta = delta};
                found = true;
            } else if (w > 1 && counter_field(s, ids, n, o, w, forms[k].little, &d)) {
                x = (sift_cluster_field_t){.offset = o,
                                           .width = (uint8_t)w,
                                           .kind = SIFT_FIELD_COUNTER,
                                           .little = forms[k].little,
                                           .distinct = d};
                found = true;
            }
        }
        if (!found) {
            uint64_t seen[4] = {0};
            uint32_t d = 0;
            for (size_t i = 0; i < n; i++) {
                uint8_t b = ubytes(s, ids[i])[o];
                if (!(seen[b >> 6] >> (b & 63) & 1)) {
                    seen[b >> 6] |= 1ull << (b & 63);
                    d++;
                }
            }
            x.distinct = d;
            x.kind = d == 1 ? SIFT_FIELD_CONSTANT : SIFT_FIELD_VARYING;
            x.value = ubytes(s, ids[0])[o];
        }
        f[nf++] = x;
        o += x.width;
    }
    *out = f;
    return (int64_t)nf;
}
