/* Signatures: learnt from a clustering, kept in a set that owns them, and the labelling of
 * payloads and of a cluster set's units with them (capsift/signature.h). */
#include "analyze/cluster_int.h"

#include <capsift/minhash.h>
#include <capsift/signature.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sift_signatures {
    sift_signature_t *v;
    size_t n, cap;
};

int sift_signatures_create(sift_signatures_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : SIFT_ENOMEM;
}

static void sig_release(sift_signature_t *g)
{
    free((void *)(uintptr_t)g->name);
    free((void *)(uintptr_t)g->set);
    free((void *)(uintptr_t)g->mask);
    free((void *)(uintptr_t)g->example);
    free((void *)(uintptr_t)g->fields);
}

void sift_signatures_free(sift_signatures_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        sig_release(&s->v[i]);
    free(s->v);
    free(s);
}

static void *dup_bytes(const void *p, size_t n)
{
    void *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

int sift_signatures_add(sift_signatures_t *s, const sift_signature_t *sig)
{
    if (sift__grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v) != 0)
        return SIFT_ENOMEM;
    sift_signature_t g = *sig;
    g.name = strdup(sig->name ? sig->name : "");
    g.set = strdup(sig->set ? sig->set : "");
    g.mask = dup_bytes(sig->mask, sig->nmask * sizeof *sig->mask);
    g.example = dup_bytes(sig->example, sig->example_len);
    g.fields = dup_bytes(sig->fields, sig->nfields * sizeof *sig->fields);
    if (!g.name || !g.set || !g.mask || !g.example || !g.fields) {
        sig_release(&g);
        return SIFT_ENOMEM;
    }
    s->v[s->n++] = g;
    return 0;
}

size_t sift_signatures_count(const sift_signatures_t *s)
{
    return s->n;
}

const sift_signature_t *sift_signatures_get(const sift_signatures_t *s, size_t i)
{
    return &s->v[i];
}

static int cmp_sig(const void *pa, const void *pb)
{
    const sift_signature_t *a = pa, *b = pb;
    int c = cmp_part(a->part, b->part);
    if (c)
        return c;
    if (a->nmask != b->nmask)
        return a->nmask > b->nmask ? -1 : 1;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp(a->name, b->name);
}

void sift_signatures_sort(sift_signatures_t *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_sig);
}

/* The sketch of a signature: its example's byte 3-grams (an example under 3 bytes: itself as
 * one feature). */
static int example_sketch(const sift_minhash_t *mh, const uint8_t *b, uint32_t n, uint32_t *out)
{
    uint64_t *h = malloc((n ? n : 1) * sizeof *h);
    if (!h)
        return SIFT_ENOMEM;
    size_t nh = n ? sift_shingle_hashes(b, n, n < 3 ? n : 3, 0, h) : 0;
    sift_minhash_sketch(mh, h, nh, out);
    free(h);
    return 0;
}

/* The mask of cluster id: the offsets within its first positions (and its shortest payload) at
 * which all its payloads have one byte. Byte by byte, not the field view: a byte that is the
 * constant half of a counter is constant all the same. */
static uint32_t constant_bytes(const sift_clustering_t *c, size_t id, sift_sig_byte_t *mask)
{
    const sift_cluster_set_t *s = c->set;
    const uint32_t *ids;
    size_t n;
    sift_clustering_units(c, id, &ids, &n);
    n -= c->info[id].continuations; /* of its messages */
    uint32_t p = cluster_span(c, ids, n);
    const uint8_t *first = ubytes(s, ids[0]);
    uint32_t nmask = 0;
    for (uint32_t o = 0; o < p; o++) {
        size_t i = 1;
        while (i < n && ubytes(s, ids[i])[o] == first[o])
            i++;
        if (i == n)
            mask[nmask++] = (sift_sig_byte_t){.offset = (uint16_t)o, .value = first[o]};
    }
    return nmask;
}

int64_t sift_signatures_learn(sift_signatures_t *s, const sift_cluster_set_t *set,
                              const sift_clustering_t *c, const char *name, uint64_t min_packets,
                              int64_t now)
{
    if (!name || !*name)
        return SIFT_EINVAL;
    sift_minhash_t *mh;
    sift_minhash_opts_t mo = {.k = SIFT_SIG_SKETCH_K};
    if (sift_minhash_create(&mh, &mo) != 0)
        return SIFT_ENOMEM;
    size_t len = strlen(name) + 16;
    char *nm = malloc(len);
    sift_sig_byte_t *mask = malloc(65536 * sizeof *mask);
    int64_t added = 0;
    int rc = nm && mask ? 0 : SIFT_ENOMEM;
    for (size_t id = 0; rc == 0 && id < sift_clustering_count(c); id++) {
        const sift_cluster_info_t *x = sift_clustering_get(c, id);
        if (x->packets < min_packets)
            continue;
        sift_cluster_field_t *f;
        int64_t nf = sift_clustering_fields(c, id, &f);
        if (nf < 0) {
            rc = (int)nf;
            break;
        }
        uint32_t nmask = constant_bytes(c, id, mask);
        if (nmask == 0) {
            free(f);
            continue;
        }
        sift_cluster_unit_t rep;
        sift_cluster_set_unit(set, x->rep, &rep);
        snprintf(nm, len, "%s-%u", name, x->id);
        sift_signature_t g = {.name = nm,
                              .set = name,
                              .part = x->part,
                              .text = x->text,
                              .mask = mask,
                              .nmask = nmask,
                              .type_offset = x->type_offset,
                              .type = x->type,
                              .min_len = x->min_len,
                              .max_len = x->max_len,
                              .example = rep.data,
                              .example_len = rep.kept,
                              .fields = f,
                              .nfields = (uint32_t)nf,
                              .packets = x->packets,
                              .units = x->units,
                              .flows = x->flows,
                              .share = x->part_share,
                              .created = now,
                              .confidence = 0.5};
        rc = example_sketch(mh, rep.data, rep.kept, g.sketch);
        if (rc == 0)
            rc = sift_signatures_add(s, &g);
        free(f);
        added++;
    }
    free(nm);
    free(mask);
    sift_minhash_free(mh);
    if (rc < 0)
        return rc;
    sift_signatures_sort(s);
    return added;
}

/* ---- labelling ---- */

/* The first signature of part in the sorted set (s->n when none). */
static size_t part_first(const sift_signatures_t *s, sift_cluster_part_t part)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_part(s->v[mid].part, part) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int64_t sift_sigmatch(const sift_signatures_t *s, sift_cluster_part_t part, const uint8_t *data,
                      size_t kept, double min_similarity, double *similarity)
{
    int64_t best = -1;
    double bs = 0;
    for (size_t i = part_first(s, part); i < s->n && part_eq(s->v[i].part, part); i++) {
        const sift_signature_t *g = &s->v[i];
        if (g->type_offset >= 0 &&
            ((size_t)g->type_offset >= kept || data[g->type_offset] != g->type))
            continue;
        uint32_t hit = 0;
        for (uint32_t k = 0; k < g->nmask; k++)
            hit += g->mask[k].offset < kept && data[g->mask[k].offset] == g->mask[k].value;
        double sim = (double)hit / (double)g->nmask;
        if (best < 0 || sim > bs) {
            best = (int64_t)i;
            bs = sim;
        }
    }
    *similarity = bs;
    return best >= 0 && bs >= min_similarity ? best : -1;
}

/* Of the 4 bytes at offset o, how many g's mask holds: their value, big-endian, into *v when
 * it holds all 4. */
static unsigned mask_word(const sift_signature_t *g, uint32_t o, uint32_t *v)
{
    size_t lo = 0, hi = g->nmask;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->mask[mid].offset < o)
            lo = mid + 1;
        else
            hi = mid;
    }
    unsigned held = 0;
    uint32_t x = 0;
    for (size_t k = lo; k < g->nmask && g->mask[k].offset < o + 4; k++, held++)
        x = x << 8 | g->mask[k].value;
    if (held == 4)
        *v = x;
    return held;
}

bool sift_signatures_header(const sift_signatures_t *s, sift_cluster_part_t part, uint32_t *offset,
                            uint8_t value[4])
{
    size_t first = part_first(s, part), end = first;
    while (end < s->n && part_eq(s->v[end].part, part))
        end++;
    for (uint32_t o = 0; o < SIFT__MAGIC_SPAN; o++) {
        uint32_t v = 0, w = 0;
        size_t holding = 0;
        bool alike = true;
        for (size_t i = first; i < end && alike; i++) {
            unsigned held = s->v[i].text ? 0 : mask_word(&s->v[i], o, &w);
            if (held == 0)
                continue; /* knows nothing there */
            alike = held == 4 && (holding == 0 || w == v);
            v = w;
            holding++;
        }
        if (alike && holding >= 2 && !uniform(v)) {
            *offset = o;
            for (int k = 0; k < 4; k++)
                value[k] = (uint8_t)(v >> (24 - 8 * k));
            return true;
        }
    }
    return false;
}

struct sift_classification {
    sift_class_unit_t *u;
    sift_class_sig_t *g;
    sift_class_part_t *p;
    size_t np;
};

typedef struct sig_flow {
    uint64_t sig, flow;
} sig_flow_t;

static int cmp_sig_flow(const void *pa, const void *pb)
{
    const sig_flow_t *a = pa, *b = pb;
    if (a->sig != b->sig)
        return a->sig < b->sig ? -1 : 1;
    return (a->flow > b->flow) - (a->flow < b->flow);
}

/* The distinct flows each signature labelled some payload of. */
static int count_flows(const sift_cluster_set_t *set, sift_classification_t *c)
{
    sig_flow_t *v = malloc((set->nfl ? set->nfl : 1) * sizeof *v);
    if (!v)
        return SIFT_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < set->nfl; i++) {
        int64_t g = c->u[set->fl[i].unit].sig;
        if (g >= 0)
            v[n++] = (sig_flow_t){.sig = (uint64_t)g, .flow = set->fl[i].flow};
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_sig_flow);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || cmp_sig_flow(&v[i], &v[i - 1]) != 0)
            c->g[v[i].sig].flows++;
    free(v);
    return 0;
}

/* Each part's nearest signature to its unlabelled example, by sketch. */
static int nearest_signatures(const sift_cluster_set_t *set, const sift_signatures_t *s,
                              sift_classification_t *c)
{
    sift_minhash_t *mh;
    sift_minhash_opts_t mo = {.k = SIFT_SIG_SKETCH_K};
    if (sift_minhash_create(&mh, &mo) != 0)
        return SIFT_ENOMEM;
    int rc = 0;
    for (size_t p = 0; p < c->np && rc == 0; p++) {
        sift_class_part_t *x = &c->p[p];
        x->nearest = -1;
        if (x->example == UINT32_MAX || s->n == 0)
            continue;
        uint32_t sk[SIFT_SIG_SKETCH_K];
        const su_t *u = &set->u[x->example];
        if ((rc = example_sketch(mh, ubytes(set, x->example), u->kept, sk)) < 0)
            break;
        size_t first = part_first(s, x->part), end = first;
        while (end < s->n && part_eq(s->v[end].part, x->part))
            end++;
        if (first == end) { /* none of its part: any */
            first = 0;
            end = s->n;
        }
        for (size_t i = first; i < end; i++) {
            double sim = sift_minhash_similarity(sk, s->v[i].sketch, SIFT_SIG_SKETCH_K);
            if (x->nearest < 0 || sim > x->nearest_similarity) {
                x->nearest = (int64_t)i;
                x->nearest_similarity = sim;
            }
        }
    }
    sift_minhash_free(mh);
    return rc;
}

static uint64_t part_hash_id(const void *ctx, uint32_t id)
{
    const sift_classification_t *c = ctx;
    return part_hash(c->p[id].part);
}

typedef struct part_probe {
    const sift_classification_t *c;
    sift_cluster_part_t part;
} part_probe_t;

static bool part_is(const void *ctx, uint32_t id)
{
    const part_probe_t *q = ctx;
    return part_eq(q->c->p[id].part, q->part);
}

/* The header of each part of the classification that continuations lack (TCP only). */
typedef struct part_header {
    bool has;
    uint32_t offset;
    uint8_t value[4];
} part_header_t;

typedef struct seg_ctx {
    const sift_cluster_set_t *set;
    const part_header_t *h; /* by part of the classification */
    const uint32_t *upart;  /* each unit's part */
} seg_ctx_t;

/* A unit on a chain: a segment that continues a message when it lacks its part's header, else
 * a message. */
static int unit_kind(const void *ctx, uint32_t i)
{
    const seg_ctx_t *x = ctx;
    const part_header_t *h = &x->h[x->upart[i]];
    const su_t *u = &x->set->u[i];
    bool segment =
        h->has && (u->kept < h->offset + 4 || memcmp(ubytes(x->set, i) + h->offset, h->value, 4));
    return segment ? SIFT__CHAIN_SEGMENT : SIFT__CHAIN_MESSAGE;
}

/* Labels each continuation (capsift/signature.h) with the signature of the message its chain
 * of commonest predecessors reaches. upart: each unit's part in c. SIFT_ENOMEM. */
static int label_continuations(const sift_cluster_set_t *set, const sift_signatures_t *s,
                               sift_classification_t *c, const uint32_t *upart)
{
    part_header_t *h = calloc(c->np ? c->np : 1, sizeof *h);
    if (!h)
        return SIFT_ENOMEM;
    bool any = false;
    for (size_t p = 0; p < c->np; p++)
        if (stream_proto(c->p[p].part.proto))
            any |= h[p].has = sift_signatures_header(s, c->p[p].part, &h[p].offset, h[p].value);
    sift__chains_t ch = {0};
    int rc = any ? sift__chains_init(&ch, set) : 0;
    seg_ctx_t x = {set, h, upart};
    for (uint32_t i = 0; rc == 0 && any && i < set->n; i++) {
        if (unit_kind(&x, i) != SIFT__CHAIN_SEGMENT)
            continue;
        uint32_t m = sift__chain_message(&ch, i, unit_kind, &x);
        if (m != UINT32_MAX && c->u[m].sig >= 0) {
            c->u[i].sig = c->u[m].sig; /* a message's label: never changed here */
            c->u[i].continuation = true;
        }
    }
    sift__chains_free(&ch);
    free(h);
    return rc;
}

int sift_classify(const sift_cluster_set_t *set, const sift_signatures_t *s, double min_similarity,
                  sift_classification_t **out)
{
    *out = NULL;
    if (!(min_similarity >= 0 && min_similarity <= 1))
        return SIFT_EINVAL;
    sift_classification_t *c = calloc(1, sizeof *c);
    if (!c)
        return SIFT_ENOMEM;
    c->u = calloc(set->n ? set->n : 1, sizeof *c->u);
    c->g = calloc(s->n ? s->n : 1, sizeof *c->g);
    size_t capp = 0;
    sift__ids_t pix = {0}; /* the parts by their key */
    int rc = c->u && c->g ? 0 : SIFT_ENOMEM;
    for (size_t i = 0; rc == 0 && i < s->n; i++)
        c->g[i].min_similarity = 1;
    uint32_t *upart = malloc((set->n ? set->n : 1) * sizeof *upart); /* each unit's part */
    if (!upart)
        rc = SIFT_ENOMEM;
    for (size_t i = 0; rc == 0 && i < set->n; i++) {
        const su_t *u = &set->u[i];
        sift_class_unit_t *r = &c->u[i];
        r->sig = sift_sigmatch(s, u->part, ubytes(set, (uint32_t)i), u->kept, min_similarity,
                               &r->similarity);
        part_probe_t q = {.c = c, .part = u->part};
        uint32_t p = sift__ids_find(&pix, part_hash(u->part), part_is, &q);
        if (p == UINT32_MAX) {
            p = (uint32_t)c->np;
            if (sift__grow((void **)&c->p, &capp, c->np + 1, sizeof *c->p) != 0) {
                rc = SIFT_ENOMEM;
                break;
            }
            c->p[c->np++] = (sift_class_part_t){.part = u->part, .example = UINT32_MAX};
            if (sift__ids_add(&pix, part_hash(u->part), p, part_hash_id, c) != 0) {
                rc = SIFT_ENOMEM;
                break;
            }
        }
        upart[i] = p;
    }
    sift__ids_free(&pix);
    if (rc == 0)
        rc = label_continuations(set, s, c, upart);
    for (size_t i = 0; rc == 0 && i < set->n; i++) {
        const su_t *u = &set->u[i];
        const sift_class_unit_t *r = &c->u[i];
        sift_class_part_t *pp = &c->p[upart[i]];
        pp->packets += u->packets;
        pp->units++;
        if (r->sig < 0) {
            pp->unmatched_packets += u->packets;
            pp->unmatched_units++;
            if (pp->example == UINT32_MAX || u->packets > set->u[pp->example].packets)
                pp->example = (uint32_t)i;
            continue;
        }
        sift_class_sig_t *g = &c->g[r->sig];
        g->packets += u->packets;
        g->units++;
        if (r->continuation)
            g->continuations += u->packets;
        else if (r->similarity < g->min_similarity)
            g->min_similarity = r->similarity;
    }
    free(upart);
    if (rc == 0)
        rc = count_flows(set, c);
    if (rc == 0)
        rc = nearest_signatures(set, s, c);
    if (rc < 0) {
        sift_classification_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void sift_classification_free(sift_classification_t *c)
{
    if (!c)
        return;
    free(c->u);
    free(c->g);
    free(c->p);
    free(c);
}

const sift_class_unit_t *sift_classification_unit(const sift_classification_t *c, size_t unit)
{
    return &c->u[unit];
}

const sift_class_sig_t *sift_classification_sig(const sift_classification_t *c, size_t sig)
{
    return &c->g[sig];
}

size_t sift_classification_nparts(const sift_classification_t *c)
{
    return c->np;
}

const sift_class_part_t *sift_classification_part(const sift_classification_t *c, size_t i)
{
    return &c->p[i];
}

void sift_classification_apply(const sift_classification_t *c, sift_signatures_t *s, int64_t now)
{
    for (size_t i = 0; i < s->n; i++) {
        sift_signature_t *g = &s->v[i];
        bool seen = false;
        for (size_t p = 0; p < c->np && !seen; p++)
            seen = part_eq(c->p[p].part, g->part) && c->p[p].packets > 0;
        if (!seen)
            continue;
        if (c->g[i].packets) {
            g->usage += c->g[i].packets;
            g->last_seen = now;
            g->confidence += (1 - g->confidence) / 5;
        } else {
            g->confidence -= g->confidence / 5;
        }
    }
}
