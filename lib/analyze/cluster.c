/* The cluster set and its clustering: features per part, MinHash + LSH candidates verified
 * exactly, union-find, clusters with agreeing constant bytes merged, per-offset fields. */
#include "analyze/cluster_int.h"

#include <capsift/minhash.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPE_VALUES 16 /* an offset with more values is data, not format */
#define TEXT_SHARE      0.9
#define KEY_SHARE       0.95
#define NOISE_SHARE     0.99
#define FEW_SHARE       0.99
#define PAIR_OVERLAP    0.95
#define LENGTH_SHARE    0.75 /* segments may carry several messages */
#define MAX_PAIRS       ((size_t)64 << 20)
#define NO_FLOW         UINT64_MAX

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
    return XXH3_64bits(f, sizeof *f);
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
    sift__ids_free(&s->uix);
    sift__ids_free(&s->fix);
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
                         size_t len, uint64_t count, uint64_t flow)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    uint32_t kept = len < s->max_bytes ? (uint32_t)len : s->max_bytes;
    uint32_t id = set_unit(s, part, h, data, kept, len);
    if (id == UINT32_MAX)
        return SIFT_ENOMEM;
    s->u[id].packets += count;
    return set_flow(s, id, flow);
}

int sift_cluster_set_add_state(sift_cluster_set_t *s, const void *state, uint32_t input)
{
    const cl_state_t *st = state;
    if (st->cfg.max_bytes != s->max_bytes)
        return SIFT_EINVAL;
    for (size_t i = 0; i < st->nents; i++) {
        const cl_entry_t *e = &st->ents[i];
        const cl_unit_t *cu = &st->units[e->unit];
        sift_cluster_part_t part = sift__cluster_entry_part(st, e);
        uint32_t id = set_unit(s, part, cu->h, st->bytes + cu->off, cu->kept, cu->len);
        if (id == UINT32_MAX)
            return SIFT_ENOMEM;
        s->u[id].packets += e->count;
        uint64_t flow = e->key == UINT32_MAX ? NO_FLOW : (uint64_t)input << 32 | e->key;
        int rc = set_flow(s, id, flow);
        if (rc == 0 && st->cfg.members)
            rc = set_member(s, id, input, e->record + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
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
    return lens && held >= 2 && (double)agree >= share * (double)held && held * 10 >= n * 9;
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
    for (size_t i = 0; i < r->n; i++) {
        size_t lead = i;
        while (lead > 0 && k[lead - 1].h == k[i].h)
            lead--; /* the first of a run of equal hashes */
        uint32_t a = k[i].i;
        bool same = false;
        for (size_t j = lead; j < i && !same; j++) {
            uint32_t b = k[j].i;
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

/* A type-field candidate of a part: an offset constant within the clusters of nearly every
 * payload, with more than one value between them, that is not a constant with noise. */
typedef struct cand {
    uint32_t j;
    unsigned d;    /* values */
    double p[256]; /* their shares of the packets of those clusters */
} cand_t;

static int part_candidates(const part_run_t *r, const bool *sel, uint32_t p, const uint16_t *mask,
                           cand_t **out, size_t *nout)
{
    const sift_cluster_set_t *s = r->s;
    *nout = 0;
    *out = malloc((p ? p : 1) * sizeof **out);
    if (!*out)
        return SIFT_ENOMEM;
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
        double pk[256] = {0}, total = 0;
        for (size_t i = 0; i < r->n; i++) {
            uint32_t root = uf_find(r->parent, (uint32_t)i);
            uint16_t v = mask[(size_t)root * p + j];
            if (v >= MASK_VARIES || size[root] < 2)
                continue;
            held++;
            if (++count[v] > top)
                top = count[v];
            pk[v] += (double)s->u[r->ids[i]].packets;
            total += (double)s->u[r->ids[i]].packets;
        }
        if ((double)held < KEY_SHARE * (double)grouped || held == 0 ||
            (double)top >= NOISE_SHARE * (double)held)
            continue;
        cand_t *c = &(*out)[(*nout)++];
        c->j = j;
        c->d = 0;
        for (unsigned v = 0; v < 256; v++) {
            c->d += count[v] > 0;
            c->p[v] = total > 0 ? pk[v] / total : 0;
        }
    }
    free(size);
    return 0;
}

static double overlap(const cand_t *a, const cand_t *b)
{
    double o = 0;
    for (unsigned v = 0; v < 256; v++)
        o += a->p[v] < b->p[v] ? a->p[v] : b->p[v];
    return o;
}

static double mean_entropy(const cand_t *a, const cand_t *b)
{
    double h = 0;
    for (unsigned v = 0; v < 256; v++) {
        double m = (a->p[v] + b->p[v]) / 2;
        if (m > 0)
            h -= m * log2(m);
    }
    return h;
}

/* The type field of a client part and its server part (NetPlier's observation, without pairing
 * the messages): a response is of its request's type, so the field takes the same values in
 * the same shares on both sides. The pair of candidates that agree best, when they agree
 * within PAIR_OVERLAP (ties: the more values); *ka, *kb stay UINT32_MAX when none does. */
static void pair_keys(const cand_t *a, size_t na, const cand_t *b, size_t nb, uint32_t *ka,
                      uint32_t *kb)
{
    double best = PAIR_OVERLAP, best_h = -1;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            double o = overlap(&a[i], &b[j]), h = mean_entropy(&a[i], &b[j]);
            if (o > best + 1e-9 || (o > best - 1e-9 && h > best_h)) {
                best = o;
                best_h = h;
                *ka = a[i].j;
                *kb = b[j].j;
            }
        }
}

/* Merges the clusters of the part that have the same byte at the key offset. */
static int merge_by_key(part_run_t *r, const uint16_t *mask, uint32_t p, uint32_t key)
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
    return 0;
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

/* Merges the fine clusters of the parts of one transport and port (a client part, a server
 * part, or one of them) by their type fields. */
static int merge_parts(part_run_t *pr, size_t np)
{
    uint32_t p = pr[0].o->positions;
    uint16_t *mask[2] = {NULL, NULL};
    cand_t *cand[2] = {NULL, NULL};
    size_t ncand[2] = {0, 0};
    uint32_t key[2] = {UINT32_MAX, UINT32_MAX};
    int rc = 0;
    for (size_t i = 0; i < np && rc == 0; i++) {
        if (pr[i].text)
            continue;
        mask[i] = part_masks(&pr[i], pr[i].sel, p);
        rc = mask[i] ? part_candidates(&pr[i], pr[i].sel, p, mask[i], &cand[i], &ncand[i])
                     : SIFT_ENOMEM;
    }
    if (rc == 0 && np == 2 && mask[0] && mask[1])
        pair_keys(cand[0], ncand[0], cand[1], ncand[1], &key[0], &key[1]);
    for (size_t i = 0; i < np && rc == 0; i++) {
        if (!mask[i])
            continue;
        if (key[i] != UINT32_MAX)
            rc = merge_by_key(&pr[i], mask[i], p, key[i]);
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
 * part_total[i] is the packets of unit i's part, text[i] whether it was clustered as text. */
static int build_clusters(sift_clustering_t *c, uint32_t *parent, const uint64_t *part_total,
                          const uint8_t *text)
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
    if (rc == 0 && (!ids || !tmp || !parent || !local || !part_total || !text))
        rc = SIFT_ENOMEM;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            ids[i] = (uint32_t)i;
        sort_by_part(s, ids, tmp, n);
        c->st.units = n;
    }
    for (size_t lo = 0; rc == 0 && lo < n;) {
        /* the parts of one transport and port: sorted by direction, client first */
        part_run_t pr[2];
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
                                  .key = UINT32_MAX};
            for (size_t i = 0; i < pr[np].n; i++)
                pr[np].parent[i] = (uint32_t)i;
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
            }
            free(pr[k].sel);
        }
        lo = at;
    }
    if (rc == 0)
        rc = build_clusters(c, parent, part_total, text);
    free(text);
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
    } forms[] = {{2, false}, {2, true}, {4, false}, {4, true}, {1, false}};
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
            if (length_field(s, ids, n, o, w, forms[k].little, 1.0, &delta)) {
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
