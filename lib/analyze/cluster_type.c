/* The type field of a transport and port: the offset whose byte a response shares with its
 * request, found from the pairs the flows give, and the merge of the clusters that agree on it
 * (see capsift/cluster.h). */
#include "analyze/cluster_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KEY_SHARE        0.5  /* constant within the clusters of this share of the payloads */
#define NOISE_SHARE      0.99 /* one value on this share: a constant with noise */
#define PAIR_CONSISTENCY 0.5  /* I(A;B) / H(A,B) of a type field at least */
#define PAIR_COVER       0.5  /* of the pairs, where both bytes are known */
#define MIN_PAIRS        20
#define MAX_SAMPLES      20000

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
    for (size_t i = 0; i < cells; i++)
        mask[i] = MASK_UNSEEN;
    for (size_t i = 0; i < r->n; i++) {
        if (!run_begins(r, i))
            continue; /* a stream's continuation: no header there */
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
        size[uf_find(r->parent, (uint32_t)i)] += run_begins(r, i);
    for (size_t i = 0; i < r->n; i++)
        grouped += run_begins(r, i) && size[uf_find(r->parent, (uint32_t)i)] > 1;
    for (uint32_t j = 0; j < p; j++) {
        if (!sel[j])
            continue;
        size_t held = 0, count[256] = {0}, top = 0;
        for (size_t i = 0; i < r->n; i++) {
            uint32_t root = uf_find(r->parent, (uint32_t)i);
            uint16_t v = mask[(size_t)root * p + j];
            if (v >= MASK_VARIES || size[root] < 2 || !run_begins(r, i))
                continue;
            held++;
            if (++count[v] > top)
                top = count[v];
        }
        if (held > 0 && (double)held >= KEY_SHARE * (double)grouped &&
            (double)top < NOISE_SHARE * (double)held && !sift__cluster_flow_bound(r, j))
            out[(*nout)++] = j;
    }
    free(size);
    return 0;
}

/* A pair of messages in a client part and its server part, by the units' positions in the
 * parts. */
typedef struct sample {
    uint32_t a, b;
    double w;
} sample_t;

/* The request/response pairs of the set between the two parts, the first MAX_SAMPLES in unit
 * order. */
static sample_t *pair_samples(const part_run_t *ra, size_t *n)
{
    const sift_cluster_set_t *s = ra->s;
    *n = 0;
    size_t total = 0; /* the links from the part's units: the pairs among them, at most */
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
            if (pp->follow)
                continue;
            v[(*n)++] = (sample_t){(uint32_t)i, ra->pos[pp->resp], (double)pp->count};
        }
    }
    return v;
}

/* The byte at offset j of the part's unit at position i: MASK_MISSING when it is shorter, or
 * does not begin a message. */
static uint16_t byte_at(const part_run_t *r, uint32_t i, uint32_t j)
{
    uint32_t u = r->ids[i];
    if (j >= r->s->u[u].kept || !run_begins(r, i))
        return MASK_MISSING;
    return ubytes(r->s, u)[j];
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
 * over the pairs where both have them: I(A;B) / H(A,B), 1 for a one-to-one mapping, 0 for
 * independent bytes (data). *cover: the share of pairs used. */
static double consistency(const part_run_t *pr, const sample_t *v, size_t n, uint32_t ja,
                          uint32_t jb, double *joint, double *cover, double *h_out)
{
    double ca[256] = {0}, cb[256] = {0}, total = 0, all = 0;
    for (size_t i = 0; i < n; i++) {
        all += v[i].w;
        uint16_t x = byte_at(&pr[0], v[i].a, ja), y = byte_at(&pr[1], v[i].b, jb);
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
        uint16_t x = byte_at(&pr[0], v[i].a, ja), y = byte_at(&pr[1], v[i].b, jb);
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
static bool paired_keys(const part_run_t *pr, const uint32_t *const *c, const size_t *nc,
                        uint32_t *ka, uint32_t *kb)
{
    size_t n;
    sample_t *v = pair_samples(&pr[0], &n);
    double *joint = calloc(65536, sizeof *joint);
    bool found = false;
    double best = 0, best_h = -1;
    if (v && joint && n >= MIN_PAIRS) {
        for (size_t i = 0; i < nc[0]; i++)
            for (size_t j = 0; j < nc[1]; j++) {
                double cover, h;
                double q = consistency(pr, v, n, c[0][i], c[1][j], joint, &cover, &h);
                if (cover < PAIR_COVER || q < PAIR_CONSISTENCY)
                    continue;
                q *= cover; /* every message has a type field */
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

/* The part's clusters by the key: the units that begin a message and hold the key offset are
 * grouped by their byte there, whatever their fine clusters; the others stay in their fine
 * clusters, less those units. */
static int regroup_by_key(part_run_t *r, uint32_t key)
{
    uint32_t *np = malloc((r->n ? r->n : 1) * sizeof *np);
    uint32_t *rest = malloc((r->n ? r->n : 1) * sizeof *rest);
    if (!np || !rest) {
        free(np);
        free(rest);
        return SIFT_ENOMEM;
    }
    uint32_t first[256];
    for (size_t v = 0; v < 256; v++)
        first[v] = UINT32_MAX;
    for (size_t i = 0; i < r->n; i++) {
        np[i] = (uint32_t)i;
        rest[i] = UINT32_MAX;
    }
    for (size_t i = 0; i < r->n; i++) {
        uint32_t fine = uf_find(r->parent, (uint32_t)i);
        uint16_t v = byte_at(r, (uint32_t)i, key);
        uint32_t *to = v < 256 ? &first[v] : &rest[fine];
        if (*to == UINT32_MAX)
            *to = (uint32_t)i;
        else
            uf_union(np, *to, (uint32_t)i);
    }
    size_t before = 0, after = 0;
    for (size_t i = 0; i < r->n; i++) {
        before += r->parent[i] == i;
        after += uf_find(np, (uint32_t)i) == i;
    }
    if (before > after)
        r->st->merged += before - after;
    memcpy(r->parent, np, r->n * sizeof *np);
    free(np);
    free(rest);
    return 0;
}

/* Merges the fine clusters of a client part and its server part (one transport and port) by
 * the type field their pairs show; a part alone, or of text, keeps its clusters. */
int sift__cluster_merge_parts(part_run_t *pr, size_t np)
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
    if (rc == 0 && paired_keys(pr, (const uint32_t *const *)cand, ncand, &key[0], &key[1]))
        for (size_t i = 0; i < 2 && rc == 0; i++) {
            rc = regroup_by_key(&pr[i], key[i]);
            pr[i].key = key[i];
        }
    for (size_t i = 0; i < 2; i++) {
        free(mask[i]);
        free(cand[i]);
    }
    return rc;
}
