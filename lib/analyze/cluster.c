/* The clustering of a cluster set: features per part, identical feature sets joined, MinHash +
 * LSH candidates verified exactly, union-find; then the merge by type field (cluster_type.c)
 * and the clusters in order (see capsift/cluster.h). */
#include "analyze/cluster_int.h"

#include <capsift/minhash.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPE_VALUES  16   /* an offset with more values is data, not format */
#define FEW_SHARE        0.99 /* ... unless that many cover this share of the payloads */
#define MIN_REPEAT       4    /* payloads per value of a format field, on average */
#define TEXT_SHARE       0.9  /* printable bytes of a text part */
#define LENGTH_SHARE     0.75 /* segments may carry several messages */
#define MAX_PAIRS        ((size_t)64 << 20)
#define SKETCH_MARGIN    0.15
#define MAX_LENGTH_DELTA 4096  /* a length field counts the payload less a header, or more */
#define ANCHOR_SAMPLE    65536 /* payloads a magic is looked for in */
#define ANCHOR_UNITS     20
#define ANCHOR_MIN       0.05
#define ANCHOR_MAX       0.9
#define ANCHOR_NOISE     0.5  /* distinct values among the others there */
#define OTHER_SHARE      0.01 /* a value of the others there this common: another header */
#define OTHER_UNITS      3

/* A stable merge sort of indices by cmp(ctx, x, y): qsort has no context argument. */
typedef int (*idx_cmp_fn)(const void *ctx, uint32_t x, uint32_t y);

static void sort_ids(uint32_t *ids, uint32_t *tmp, size_t n, idx_cmp_fn cmp, const void *ctx)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_ids(ids, tmp, h, cmp, ctx);
    sort_ids(ids + h, tmp, n - h, cmp, ctx);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp(ctx, ids[i], ids[j]) <= 0 ? ids[i++] : ids[j++];
    while (i < h)
        tmp[k++] = ids[i++];
    while (j < n)
        tmp[k++] = ids[j++];
    memcpy(ids, tmp, n * sizeof *ids);
}

static int cmp_unit_part(const void *ctx, uint32_t x, uint32_t y)
{
    const sift_cluster_set_t *s = ctx;
    return cmp_part(s->u[x].part, s->u[y].part);
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

/* Whether the w-byte number at offset o is the length plus a constant in nearly all (share) of
 * the units that hold it, when they have more than one length; *delta the constant. */
bool sift__cluster_length_field(const sift_cluster_set_t *s, const uint32_t *ids, size_t n,
                                uint32_t o, unsigned w, bool little, double share, int64_t *delta)
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
                sift__cluster_length_field(s, ids, n, o, forms[f].w, forms[f].little, LENGTH_SHARE,
                                           NULL))
                for (unsigned k = 0; k < forms[f].w; k++)
                    is_len[o + k] = true;
}

/* The features of one part: for each unit, its sorted, distinct feature hashes. */
typedef struct feats {
    uint64_t *v;
    size_t *off; /* unit i of the part: v[off[i] .. off[i+1]) */
} feats_t;

/* sel: the offsets of positional tokens; of a unit that continues a stream (start given and
 * not set for it), cont instead. */
static int part_features(const sift_cluster_set_t *s, const uint32_t *ids, size_t n, bool text,
                         const bool *sel, const bool *cont, const bool *start, uint32_t p,
                         feats_t *f)
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
            const bool *use = start && !start[i] ? cont : sel;
            for (uint32_t j = 0; j < u->kept && j < p; j++)
                if (use[j])
                    f->v[at + k++] = mix((uint64_t)j << 8 | b[j]);
            f->v[at + k++] = mix(0x1000000u | (u->len < 65535 ? u->len : 65535));
        }
        at += sift_features_sort_unique(f->v + at, k);
    }
    f->off[n] = at;
    return 0;
}

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

static int cmp_size_desc(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x < y) - (x > y);
}

/* Whether offset j takes few values: its MAX_TYPE_VALUES commonest cover nearly all the units
 * holding it, each value held by MIN_REPEAT on average (a format or type field, not data that
 * a few payloads happen to share; payloads that continue a stream are noise there). With
 * only (not NULL), over the units i with only[i] set. */
static bool few_values(const sift_cluster_set_t *s, const uint32_t *ids, size_t n, uint32_t j,
                       const bool *only)
{
    size_t count[256] = {0}, held = 0, top = 0;
    for (size_t i = 0; i < n; i++)
        if (s->u[ids[i]].kept > j && (!only || only[i])) {
            count[ubytes(s, ids[i])[j]]++;
            held++;
        }
    size_t distinct = 0;
    for (size_t v = 0; v < 256; v++)
        distinct += count[v] > 0;
    qsort(count, 256, sizeof *count, cmp_size_desc);
    for (size_t v = 0; v < MAX_TYPE_VALUES; v++)
        top += count[v];
    return held > 0 && (double)top >= FEW_SHARE * (double)held && distinct * MIN_REPEAT <= held;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The payloads of a part that begin a message, when a minority do: those with the part's
 * magic, the 4 bytes at an offset below SIFT__MAGIC_SPAN that the most of its first ANCHOR_SAMPLE
 * payloads share, when ANCHOR_MIN to ANCHOR_MAX of them share it (the others continue a
 * stream: their bytes hide the header's fields) into *out, NULL when there is no such magic.
 * *other: the payloads without it whose 4 bytes there are a value that OTHER_SHARE of the
 * sample share (a header of another kind, as SMB1's beside SMB2's: no continuation), NULL with
 * *out. SIFT_ENOMEM. */
static int message_starts(const sift_cluster_set_t *s, const uint32_t *ids, size_t n,
                          const bool *is_len, bool **out, bool **other)
{
    *out = NULL;
    *other = NULL;
    size_t m = n < ANCHOR_SAMPLE ? n : ANCHOR_SAMPLE;
    if (m < ANCHOR_UNITS)
        return 0;
    hk_t *v = malloc(m * sizeof *v);
    if (!v)
        return SIFT_ENOMEM;
    uint32_t best_o = 0, best_v = 0;
    size_t best = 0;
    for (uint32_t o = 0; o < SIFT__MAGIC_SPAN; o++) {
        if (is_len[o] || is_len[o + 1] || is_len[o + 2] || is_len[o + 3])
            continue;
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            if (s->u[ids[i]].kept >= o + 4)
                v[k++] = (hk_t){num_at(ubytes(s, ids[i]) + o, 4, false), (uint32_t)i};
        if (k > 1)
            qsort(v, k, sizeof *v, cmp_hk);
        for (size_t a = 0; a < k;) {
            size_t b = a;
            while (b < k && v[b].h == v[a].h)
                b++;
            if (b - a > best && !uniform((uint32_t)v[a].h)) { /* a fill is no magic */
                best = b - a;
                best_o = o;
                best_v = (uint32_t)v[a].h;
            }
            a = b;
        }
    }
    /* the others must look like data there: mostly distinct values */
    size_t k = 0, distinct = 0;
    for (size_t i = 0; i < m; i++)
        if (s->u[ids[i]].kept >= best_o + 4) {
            uint32_t x = (uint32_t)num_at(ubytes(s, ids[i]) + best_o, 4, false);
            if (x != best_v)
                v[k++] = (hk_t){x, (uint32_t)i};
        }
    if (k > 1)
        qsort(v, k, sizeof *v, cmp_hk);
    uint32_t *recur = malloc((k ? k : 1) * sizeof *recur); /* the others' common values, sorted */
    size_t nrecur = 0;
    for (size_t a = 0; recur && a < k;) {
        size_t b = a;
        while (b < k && v[b].h == v[a].h)
            b++;
        distinct++;
        if (b - a >= OTHER_UNITS && (double)(b - a) >= OTHER_SHARE * (double)m &&
            !uniform((uint32_t)v[a].h))
            recur[nrecur++] = (uint32_t)v[a].h;
        a = b;
    }
    free(v);
    bool *start = NULL, *alien = NULL;
    if (!recur)
        return SIFT_ENOMEM;
    if ((double)best < ANCHOR_MIN * (double)m || (double)best > ANCHOR_MAX * (double)m ||
        (double)distinct < ANCHOR_NOISE * (double)k) {
        free(recur);
        return 0;
    }
    start = calloc(n, sizeof *start);
    alien = calloc(n, sizeof *alien);
    if (!start || !alien) {
        free(start);
        free(alien);
        free(recur);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (s->u[ids[i]].kept < best_o + 4)
            continue;
        uint32_t x = (uint32_t)num_at(ubytes(s, ids[i]) + best_o, 4, false);
        start[i] = x == best_v;
        alien[i] = !start[i] && nrecur && bsearch(&x, recur, nrecur, sizeof x, cmp_u32);
    }
    free(recur);
    *out = start;
    *other = alien;
    return 0;
}

/* The fine clusters of a part: features, identical sets joined, candidate pairs verified.
 * r->text and r->sel (the offsets of positional tokens, for the key) are set. */
static int cluster_part(part_run_t *r)
{
    const sift_cluster_set_t *s = r->s;
    r->text = is_text(s, r->ids, r->n);
    uint32_t p = r->o->positions;
    bool *is_len = calloc(p ? p : 1, sizeof *is_len);
    bool *cont = calloc(p ? p : 1, sizeof *cont); /* the offsets of few values over all units */
    r->sel = calloc(p ? p : 1, sizeof *r->sel);
    feats_t f = {0};
    uint32_t *reps = NULL;
    size_t nreps = 0;
    int rc = !r->sel || !is_len || !cont ? SIFT_ENOMEM : 0;
    if (rc == 0 && !r->text) {
        length_offsets(s, r->ids, r->n, p, is_len);
        rc = sift__cluster_flow_index(r);
        if (rc == 0 && p >= SIFT__MAGIC_SPAN + 3)
            rc = message_starts(s, r->ids, r->n, is_len, &r->start, &r->other);
        for (uint32_t j = 0; rc == 0 && j < p; j++) {
            if (is_len[j])
                continue;
            cont[j] = few_values(s, r->ids, r->n, j, NULL);
            r->sel[j] = cont[j] || (r->start && few_values(s, r->ids, r->n, j, r->start));
            if (r->sel[j] && sift__cluster_cycles(r, j))
                r->sel[j] = cont[j] = false;
        }
    }
    if (rc == 0)
        rc = part_features(s, r->ids, r->n, r->text, r->sel, cont, r->start, p, &f);
    if (rc == 0)
        rc = distinct_sets(r, &f, &reps, &nreps);
    if (rc == 0)
        rc = join_pairs(r, &f, reps, nreps);
    free(reps);
    free(f.v);
    free(f.off);
    free(is_len);
    free(cont);
    return rc;
}

typedef struct info_order {
    const sift_cluster_info_t *info;
    const sift_cluster_set_t *s;
} info_order_t;

/* Clusters by packets (most first), then part, then their representatives' bytes. */
static int cmp_cluster(const void *ctx, uint32_t i, uint32_t j)
{
    const info_order_t *o = ctx;
    const sift_cluster_info_t *x = &o->info[i], *y = &o->info[j];
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    int c = cmp_part(x->part, y->part);
    if (c)
        return c;
    const su_t *a = &o->s->u[x->rep], *b = &o->s->u[y->rep];
    uint32_t m = a->kept < b->kept ? a->kept : b->kept;
    c = memcmp(o->s->bytes + a->off, o->s->bytes + b->off, m);
    if (c)
        return c;
    if (a->kept != b->kept)
        return a->kept < b->kept ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

/* Items 0..m-1 grouped by a key below n (key(ctx, k)): those of key u are
 * list[start[u] .. start[u + 1]), in item order. start holds n + 1, list m. */
static void group_by(size_t n, size_t m, uint32_t (*key)(const void *ctx, size_t k),
                     const void *ctx, size_t *start, uint32_t *list)
{
    memset(start, 0, (n + 1) * sizeof *start);
    for (size_t k = 0; k < m; k++)
        start[key(ctx, k) + 1]++;
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    for (size_t k = 0; k < m; k++) /* start[u]: the next slot of key u, for now */
        list[start[key(ctx, k)]++] = (uint32_t)k;
    for (size_t i = n; i > 0; i--)
        start[i] = start[i - 1];
    start[0] = 0;
}

static uint32_t flow_unit(const void *ctx, size_t k)
{
    return ((const sift_cluster_set_t *)ctx)->fl[k].unit;
}

static uint32_t pair_request(const void *ctx, size_t k)
{
    return ((const sift_cluster_set_t *)ctx)->pairs[k].req;
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
        if (x->units == 0)
            x->part_share = part_total[i] ? 0 : 1;
        if (c->cont[i]) { /* counted, but what the cluster shows is of its messages */
            x->continuations++;
        } else if (x->units == x->continuations) {
            x->part = u->part;
            x->rep = (uint32_t)i;
            x->prefix = u->kept;
            x->min_len = x->max_len = u->len;
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
            if (x->type_offset >= 0 &&
                ((uint32_t)x->type_offset >= u->kept || b[x->type_offset] != x->type))
                x->type_offset = -1; /* not all of it has the byte: continuations of a stream */
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
    sort_ids(order, tmp, nc, cmp_cluster, &(info_order_t){info, s});
    for (size_t i = 0; i < nc; i++)
        rank[order[i]] = (uint32_t)i;
    sift_cluster_info_t *sorted = malloc((nc ? nc : 1) * sizeof *sorted);
    size_t *next = malloc((nc ? 2 * nc : 1) * sizeof *next); /* of each cluster's members */
    if (!sorted || !next) {
        free(info);
        free(order);
        free(rank);
        free(tmp);
        free(sorted);
        free(next);
        return SIFT_ENOMEM;
    }
    for (size_t i = 0; i < nc; i++) {
        sorted[i] = info[order[i]];
        sorted[i].id = (uint32_t)i;
    }
    for (size_t i = 0; i < n; i++)
        c->of[i] = rank[c->of[i]];
    /* each cluster's messages, then its continuations, each in the set's order */
    for (size_t k = 0; k < nc; k++) {
        c->start[k + 1] = c->start[k] + sorted[k].units;
        next[2 * k] = c->start[k];
        next[2 * k + 1] = c->start[k + 1] - sorted[k].continuations;
    }
    for (size_t i = 0; i < n; i++)
        c->members[next[2 * c->of[i] + c->cont[i]]++] = (uint32_t)i;
    free(next);
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
    c->cont = calloc(n ? n : 1, 1);
    if (rc == 0 && (!ids || !tmp || !parent || !local || !part_total || !text || !key || !c->cont))
        rc = SIFT_ENOMEM;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            ids[i] = (uint32_t)i;
        sort_ids(ids, tmp, n, cmp_unit_part, s);
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
        group_by(n, s->nfl, flow_unit, s, fstart, flist);
        group_by(n, s->npairs, pair_request, s, pstart, plist);
    }
    sift__chains_t ch = {0};
    if (rc == 0)
        rc = sift__chains_init(&ch, s);
    for (size_t lo = 0; rc == 0 && lo < n;) {
        /* the parts of one transport and port: sorted by direction, client first */
        part_run_t pr[2] = {{0}};
        size_t np = 0, at = lo;
        sift_cluster_part_t first = s->u[ids[lo]].part;
        while (rc == 0 && np < 2 && at < n && s->u[ids[at]].part.proto == first.proto &&
               s->u[ids[at]].part.port == first.port) {
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
            rc = sift__cluster_merge_parts(pr, np);
        for (size_t k = 0; k < np; k++) {
            uint64_t total = 0;
            for (size_t i = 0; i < pr[k].n; i++)
                total += s->u[pr[k].ids[i]].packets;
            if (rc == 0)
                rc = sift__cluster_attach(&pr[k], &ch, parent, c->cont);
            for (size_t i = 0; i < pr[k].n; i++) {
                part_total[pr[k].ids[i]] = total;
                text[pr[k].ids[i]] = pr[k].text;
                key[pr[k].ids[i]] = pr[k].key;
            }
            free(pr[k].sel);
            free(pr[k].start);
            free(pr[k].other);
            free(pr[k].fu);
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
    sift__chains_free(&ch);
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
    free(c->cont);
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
