/* Searching the payload store: every distinct payload is scanned once (block mode), and the
 * payloads that matched are mapped back to their packets through each file's payload packets
 * (record, offset, ord) and its flows' positions (offset -> flow, time).
 *
 * The payloads are read in batches (BATCH_ROWS rows or BATCH_BYTES of stored bytes), and each
 * batch is decompressed and scanned on the workers, a slice of rows each with its own scanner;
 * the matches are then kept in row order, so the result is the same for any number of
 * threads. */
#include "store/store_int.h"

#include "common/cursor.h"

#include <capsift/pool.h>

#include <stdlib.h>
#include <string.h>

/* A pattern's matches in one payload. */
typedef struct pat_hit {
    uint32_t pattern, count;
    int64_t first; /* the first match's start */
} pat_hit_t;

/* A payload that matched: its hits are pats[start .. start + n). When every payload is walked
 * (sift_index_payloads), each is one with n 1, its first kept bytes at kept[start ..), size
 * its length. */
typedef struct matched {
    uint8_t hash[16];
    uint32_t n;
    uint32_t kept, size;
    size_t start;
} matched_t;

/* A packet that carries a matched payload. */
typedef struct cand {
    st_pk_t pk;
    size_t matched; /* index in the table */
    bool placed;    /* its flow position was found */
    int64_t flow_id, ts_ns;
    uint8_t ip_version, ip_proto;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    bool from_initiator;  /* the flow's initiator sent it */
    uint16_t server_port; /* the flow's responder's */
} cand_t;

/* A payload of the batch: its stored bytes are bytes[off .. off + len). */
typedef struct prow {
    uint8_t hash[16];
    uint32_t size;
    int codec;
    size_t off, len;
    uint32_t worker, nhits; /* where its hits are: the worker's hits[start .. start + nhits) */
    size_t start;
} prow_t;

#define BATCH_ROWS  4096
#define BATCH_BYTES (8u << 20)
#define SLICE_ROWS  256 /* rows of one task */

/* A worker's own: its scanner, a buffer for decompressing, and the hits of its rows. */
typedef struct wstate {
    sift_scanner_t *scanner;
    uint8_t *buf;
    size_t buf_cap;
    pat_hit_t *hits;
    size_t nhits, hits_cap;
    size_t row_first; /* hits of the row being scanned start here */
    int err;          /* SIFT_ENOMEM, SIFT_ECORRUPT (a payload that does not decompress) ... */
} wstate_t;

typedef struct search {
    sift_index_t *ix;
    unsigned threads;
    wstate_t *ws;
    /* the batch */
    prow_t *rows;
    size_t nrows, rows_cap;
    uint8_t *bytes;
    size_t nbytes, bytes_cap;
    /* the payloads that matched */
    pat_hit_t *pats;
    size_t npats, pats_cap;
    matched_t *table; /* open addressing by hash; n 0 is empty */
    size_t mask, count;
    /* the file being mapped */
    size_t *ords; /* ord -> matched index + 1 (0: none) */
    size_t nords;
    cand_t *cands;
    size_t ncands, cands_cap;
    int err;
    sift_index_search_summary_t *sum;
    /* walking every payload: bytes kept of each (0: searching), where they are kept, and the
     * buffer a compressed one is read into */
    uint32_t keep;
    uint32_t files_walked; /* files whose packets were given, this one included */
    uint8_t *kept;
    size_t nkept, kept_cap;
    uint8_t *raw;
    size_t raw_cap;
} search_t;

static bool on_match(void *user, unsigned id, uint64_t from, uint64_t to)
{
    (void)to;
    wstate_t *w = user;
    for (size_t i = w->row_first; i < w->nhits; i++)
        if (w->hits[i].pattern == id) {
            w->hits[i].count++;
            return true;
        }
    if (w->nhits == w->hits_cap) {
        size_t ncap = w->hits_cap ? w->hits_cap * 2 : 64;
        pat_hit_t *n = realloc(w->hits, ncap * sizeof *n);
        if (!n) {
            w->err = SIFT_ENOMEM;
            return false;
        }
        w->hits = n;
        w->hits_cap = ncap;
    }
    w->hits[w->nhits++] = (pat_hit_t){.pattern = id, .count = 1, .first = (int64_t)from};
    return true;
}

static int cmp_pat(const void *a, const void *b)
{
    const pat_hit_t *x = a, *y = b;
    return (x->pattern > y->pattern) - (x->pattern < y->pattern);
}

static size_t slot_of(const search_t *s, const uint8_t hash[16])
{
    size_t i = (size_t)sift_load_le64(hash) & s->mask;
    while (s->table[i].n && memcmp(s->table[i].hash, hash, 16) != 0)
        i = (i + 1) & s->mask;
    return i;
}

static int table_grow(search_t *s)
{
    size_t cap = s->table ? (s->mask + 1) * 2 : 1024;
    matched_t *old = s->table;
    size_t oldn = old ? s->mask + 1 : 0;
    if (!(s->table = calloc(cap, sizeof *s->table))) {
        s->table = old;
        return SIFT_ENOMEM;
    }
    s->mask = cap - 1;
    for (size_t i = 0; i < oldn; i++)
        if (old[i].n)
            s->table[slot_of(s, old[i].hash)] = old[i];
    free(old);
    return 0;
}

/* The patterns that matched a payload (hits[0 .. n), by pattern), kept under its hash. */
static int keep_matched(search_t *s, const uint8_t hash[16], const pat_hit_t *hits, size_t n)
{
    if ((s->count + 1) * 2 > (s->table ? s->mask + 1 : 0) && table_grow(s) < 0)
        return SIFT_ENOMEM;
    if (s->npats + n > s->pats_cap) {
        size_t ncap = (s->pats_cap ? s->pats_cap * 2 : 256) + n;
        pat_hit_t *v = realloc(s->pats, ncap * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        s->pats = v;
        s->pats_cap = ncap;
    }
    memcpy(s->pats + s->npats, hits, n * sizeof *hits);
    matched_t *m = &s->table[slot_of(s, hash)];
    memcpy(m->hash, hash, 16);
    m->start = s->npats;
    m->n = (uint32_t)n;
    s->npats += n;
    s->count++;
    return 0;
}

/* A stored payload's bytes as put_payload got them, decompressed into *buf when stored so;
 * NULL when they do not decompress or are of an unknown form. */
static const uint8_t *payload_bytes(uint8_t **buf, size_t *cap, uint32_t size, int codec,
                                    const uint8_t *data, size_t len, int *err)
{
    if (codec == 0 && len == size)
        return data;
    if (codec != 1) {
        *err = SIFT_ECORRUPT;
        return NULL;
    }
    if (size > *cap) {
        uint8_t *n = realloc(*buf, size);
        if (!n) {
            *err = SIFT_ENOMEM;
            return NULL;
        }
        *buf = n;
        *cap = size;
    }
    if (!sift__unzstd(*buf, size, data, len)) {
        *err = SIFT_ECORRUPT;
        return NULL;
    }
    return *buf;
}

/* One row on worker w: decompressed when stored so, scanned, its hits sorted by pattern. */
static void scan_row(search_t *s, wstate_t *w, prow_t *r)
{
    const uint8_t *bytes =
        payload_bytes(&w->buf, &w->buf_cap, r->size, r->codec, s->bytes + r->off, r->len, &w->err);
    if (!bytes)
        return;
    w->row_first = w->nhits;
    int rc = sift_scan_block(w->scanner, bytes, r->size, on_match, w);
    if (rc < 0 && !w->err)
        w->err = rc;
    r->start = w->row_first;
    r->nhits = (uint32_t)(w->nhits - w->row_first);
    if (r->nhits > 1)
        qsort(w->hits + r->start, r->nhits, sizeof *w->hits, cmp_pat);
}

static void scan_slice(void *user, size_t task, unsigned worker)
{
    search_t *s = user;
    wstate_t *w = &s->ws[worker];
    size_t end = (task + 1) * SLICE_ROWS < s->nrows ? (task + 1) * SLICE_ROWS : s->nrows;
    for (size_t i = task * SLICE_ROWS; i < end && !w->err; i++) {
        s->rows[i].worker = worker;
        scan_row(s, w, &s->rows[i]);
    }
}

/* Scans the batch on the workers, then keeps its matches in row order. */
static int flush_batch(search_t *s)
{
    if (s->nrows == 0)
        return 0;
    for (unsigned k = 0; k < s->threads; k++)
        s->ws[k].nhits = 0;
    size_t ntasks = (s->nrows + SLICE_ROWS - 1) / SLICE_ROWS;
    int rc = sift_pool_run(s->threads, ntasks, scan_slice, s, NULL, 0);
    if (rc < 0)
        return sift__ctx_error(s->ix->ctx, rc, "cannot start the search's threads");
    for (unsigned k = 0; k < s->threads; k++) {
        int err = s->ws[k].err;
        if (err == SIFT_ECORRUPT)
            return sift__ctx_error(s->ix->ctx, err,
                                   "%s: a stored payload does not decompress or is of an "
                                   "unknown form (damaged index)",
                                   s->ix->path);
        if (err)
            return err == SIFT_ENOMEM ? err : sift__ctx_error(s->ix->ctx, err, "scanning failed");
    }
    for (size_t i = 0; i < s->nrows && rc == 0; i++) {
        const prow_t *r = &s->rows[i];
        if (r->nhits == 0)
            continue;
        s->sum->matched++;
        rc = keep_matched(s, r->hash, s->ws[r->worker].hits + r->start, r->nhits);
    }
    s->nrows = s->nbytes = 0;
    return rc;
}

/* Walking every payload: its first s->keep bytes kept under its hash. */
static int keep_payload(search_t *s, const uint8_t hash[16], uint32_t size, int codec,
                        const void *data, size_t len)
{
    int err = 0;
    const uint8_t *b = payload_bytes(&s->raw, &s->raw_cap, size, codec, data, len, &err);
    if (!b)
        return err == SIFT_ENOMEM ? err
                                  : sift__ctx_error(s->ix->ctx, err,
                                                    "%s: a stored payload does not decompress "
                                                    "or is of an unknown form (damaged index)",
                                                    s->ix->path);
    uint32_t kept = size < s->keep ? size : s->keep;
    if ((s->count + 1) * 2 > (s->table ? s->mask + 1 : 0) && table_grow(s) < 0)
        return SIFT_ENOMEM;
    matched_t *m = &s->table[slot_of(s, hash)];
    if (m->n) /* the same payload twice: the store keeps each once */
        return 0;
    if (sift__grow((void **)&s->kept, &s->kept_cap, s->nkept + kept, 1) < 0)
        return SIFT_ENOMEM;
    memcpy(s->kept + s->nkept, b, kept);
    *m = (matched_t){.n = 1, .kept = kept, .size = size, .start = s->nkept};
    memcpy(m->hash, hash, 16);
    s->nkept += kept;
    s->count++;
    s->sum->payloads++;
    s->sum->payload_bytes += size;
    return 0;
}

/* A stored payload, copied into the batch; a full batch is scanned. */
static int take_payload(void *user, const uint8_t hash[16], uint32_t size, int codec,
                        const void *data, size_t len)
{
    search_t *s = user;
    if (s->keep)
        return keep_payload(s, hash, size, codec, data, len);
    if (s->nrows == s->rows_cap) {
        size_t ncap = s->rows_cap ? s->rows_cap * 2 : 256;
        prow_t *v = realloc(s->rows, ncap * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        s->rows = v;
        s->rows_cap = ncap;
    }
    if (s->nbytes + len > s->bytes_cap) {
        size_t ncap = s->bytes_cap ? s->bytes_cap : BATCH_BYTES;
        while (ncap < s->nbytes + len)
            ncap *= 2;
        uint8_t *v = realloc(s->bytes, ncap);
        if (!v)
            return SIFT_ENOMEM;
        s->bytes = v;
        s->bytes_cap = ncap;
    }
    prow_t *r = &s->rows[s->nrows++];
    *r = (prow_t){.size = size, .codec = codec, .off = s->nbytes, .len = len};
    memcpy(r->hash, hash, 16);
    if (len)
        memcpy(s->bytes + s->nbytes, data, len);
    s->nbytes += len;
    s->sum->payloads++;
    s->sum->payload_bytes += size;
    return s->nrows >= BATCH_ROWS || s->nbytes >= BATCH_BYTES ? flush_batch(s) : 0;
}

static int file_ref(void *user, const uint8_t hash[16], uint32_t ord)
{
    search_t *s = user;
    if (!s->table)
        return 0;
    const matched_t *m = &s->table[slot_of(s, hash)];
    if (!m->n)
        return 0;
    if (ord >= s->nords) {
        size_t n = (size_t)ord + 1 > s->nords * 2 ? (size_t)ord + 1 : s->nords * 2;
        size_t *v = realloc(s->ords, n * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        memset(v + s->nords, 0, (n - s->nords) * sizeof *v);
        s->ords = v;
        s->nords = n;
    }
    s->ords[ord] = (size_t)(m - s->table) + 1;
    return 0;
}

static int file_packets(void *user, const uint8_t *blob, size_t len)
{
    search_t *s = user;
    st_pk_t *pks;
    size_t n;
    int rc = sift__pk_decode(blob, len, &pks, &n);
    if (rc < 0)
        return rc == SIFT_ENOMEM
                   ? rc
                   : sift__ctx_error(s->ix->ctx, rc, "%s: a file's payload packets are damaged",
                                     s->ix->path);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (pks[i].ord >= s->nords || !s->ords[pks[i].ord])
            continue;
        if (s->ncands == s->cands_cap) {
            size_t ncap = s->cands_cap ? s->cands_cap * 2 : 256;
            cand_t *v = realloc(s->cands, ncap * sizeof *v);
            if (!v) {
                rc = SIFT_ENOMEM;
                break;
            }
            s->cands = v;
            s->cands_cap = ncap;
        }
        s->cands[s->ncands++] = (cand_t){.pk = pks[i], .matched = s->ords[pks[i].ord] - 1};
    }
    free(pks);
    return rc;
}

/* The candidate at a record offset (they are in offset order), or NULL. */
static cand_t *cand_at(search_t *s, uint64_t off)
{
    size_t lo = 0, hi = s->ncands;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->cands[mid].pk.offset < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->ncands && s->cands[lo].pk.offset == off ? &s->cands[lo] : NULL;
}

static int file_positions(void *user, const sift_flow_row_t *f, const uint8_t *blob, size_t len)
{
    search_t *s = user;
    uint64_t *offs;
    int64_t *ts;
    size_t n;
    int rc = sift__pos_decode(blob, len, &offs, &ts, &n);
    if (rc < 0)
        return rc == SIFT_ENOMEM
                   ? rc
                   : sift__ctx_error(s->ix->ctx, rc, "%s: a flow's positions are damaged",
                                     s->ix->path);
    /* the key's endpoints as the flow table orders them (sift_flow_key_make) */
    int c = memcmp(f->src, f->dst, 16);
    bool swap = c > 0 || (c == 0 && f->sport > f->dport);
    const uint8_t *lo = swap ? f->dst : f->src, *hi = swap ? f->src : f->dst;
    uint16_t lo_port = swap ? f->dport : f->sport, hi_port = swap ? f->sport : f->dport;
    for (size_t i = 0; i < n; i++) {
        cand_t *x = cand_at(s, offs[i]);
        if (!x || x->placed)
            continue;
        x->placed = true;
        x->flow_id = f->id;
        x->ts_ns = ts[i];
        x->ip_version = f->ip_version;
        x->ip_proto = f->proto;
        memcpy(x->src, x->pk.from_hi ? hi : lo, 16);
        memcpy(x->dst, x->pk.from_hi ? lo : hi, 16);
        x->sport = x->pk.from_hi ? hi_port : lo_port;
        x->dport = x->pk.from_hi ? lo_port : hi_port;
        x->from_initiator = x->pk.from_hi == swap; /* the initiator is hi when swapped */
        x->server_port = f->dport;
    }
    free(offs);
    free(ts);
    return 0;
}

typedef struct file_walk {
    search_t *s;
    int (*fn)(void *user, const sift_index_hit_t *h);
    int (*payload_fn)(void *user, const sift_index_payload_t *p); /* walking every payload */
    void *user;
    int stop; /* fn's answer, or an error of the walk */
} file_walk_t;

static int search_file(void *user, int64_t id, const st_file_rec_t *rec)
{
    file_walk_t *w = user;
    search_t *s = w->s;
    const st_backend_t *be = s->ix->be;
    if (rec->status && strcmp(rec->status, "error") == 0)
        return 0; /* it could not be read: it has nothing */
    if (rec->payloads != 2) {
        if (rec->payloads == 1)
            s->sum->files_older++;
        else
            s->sum->files_without++;
        return 0;
    }
    s->sum->files++;
    s->files_walked++;
    if (s->count == 0)
        return 0;
    s->ncands = 0;
    if (s->nords)
        memset(s->ords, 0, s->nords * sizeof *s->ords);
    int rc = be->file_refs(s->ix, id, file_ref, s);
    if (rc == 0)
        rc = be->file_packets(s->ix, id, file_packets, s);
    if (rc == 0 && s->ncands)
        rc = be->file_positions(s->ix, id, file_positions, s);
    for (size_t i = 0; i < s->ncands && rc == 0; i++) {
        const cand_t *x = &s->cands[i];
        if (!x->placed) {
            s->sum->lost++;
            continue;
        }
        const matched_t *m = &s->table[x->matched];
        if (w->payload_fn) {
            sift_index_payload_t p = {.file = rec->path,
                                      .file_index = s->files_walked - 1,
                                      .packet = x->pk.record + 1,
                                      .flow_id = x->flow_id,
                                      .ip_proto = x->ip_proto,
                                      .from_initiator = x->from_initiator,
                                      .server_port = x->server_port,
                                      .client_port = x->from_initiator ? x->sport : x->dport,
                                      .hash = m->hash,
                                      .data = s->kept + m->start,
                                      .kept = m->kept,
                                      .len = m->size};
            if ((rc = w->payload_fn(w->user, &p)) != 0)
                w->stop = rc;
            continue;
        }
        for (uint32_t k = 0; k < m->n && rc == 0; k++) {
            const pat_hit_t *p = &s->pats[m->start + k];
            sift_index_hit_t h = {.file = rec->path,
                                  .ts_digits = (uint8_t)rec->ts_digits,
                                  .packet = x->pk.record + 1,
                                  .file_offset = x->pk.offset,
                                  .ts_ns = x->ts_ns,
                                  .flow_id = x->flow_id,
                                  .ip_version = x->ip_version,
                                  .ip_proto = x->ip_proto,
                                  .sport = x->sport,
                                  .dport = x->dport,
                                  .offset = p->first,
                                  .pattern = p->pattern,
                                  .count = p->count};
            memcpy(h.src, x->src, 16);
            memcpy(h.dst, x->dst, 16);
            s->sum->hits++;
            if ((rc = w->fn(w->user, &h)) != 0)
                w->stop = rc;
        }
    }
    if (rc == SIFT_ENOMEM && !w->stop)
        rc = sift__ctx_error(s->ix->ctx, rc, "out of memory");
    return rc;
}

int sift_index_search(sift_index_t *ix, const sift_matcher_t *m, unsigned threads,
                      int (*fn)(void *user, const sift_index_hit_t *h), void *user,
                      sift_index_search_summary_t *sum)
{
    sift_index_search_summary_t local;
    search_t s = {.ix = ix, .sum = sum ? sum : &local, .threads = threads ? threads : sift_ncpu()};
    memset(s.sum, 0, sizeof *s.sum);
    if (sift_matcher_streaming(m))
        return sift__ctx_error(ix->ctx, SIFT_EINVAL,
                               "the payload store is searched one payload at a time: give a "
                               "block-mode matcher");
    int rc = (s.ws = calloc(s.threads, sizeof *s.ws)) ? 0 : SIFT_ENOMEM;
    for (unsigned k = 0; k < s.threads && rc == 0; k++)
        rc = sift_scanner_create(&s.ws[k].scanner, m);
    if (rc == 0)
        rc = ix->be->each_payload(ix, take_payload, &s);
    if (rc == 0)
        rc = flush_batch(&s);
    if (rc == SIFT_ENOMEM)
        rc = sift__ctx_error(ix->ctx, rc, "out of memory");
    file_walk_t w = {.s = &s, .fn = fn, .user = user};
    if (rc == 0)
        rc = ix->be->each_file(ix, search_file, &w);
    for (unsigned k = 0; s.ws && k < s.threads; k++) {
        sift_scanner_free(s.ws[k].scanner);
        free(s.ws[k].buf);
        free(s.ws[k].hits);
    }
    free(s.ws);
    free(s.rows);
    free(s.bytes);
    free(s.pats);
    free(s.table);
    free(s.ords);
    free(s.cands);
    return rc;
}

int sift_index_payloads(sift_index_t *ix, uint32_t max_bytes,
                        int (*fn)(void *user, const sift_index_payload_t *p), void *user,
                        sift_index_search_summary_t *sum)
{
    sift_index_search_summary_t local;
    search_t s = {.ix = ix, .sum = sum ? sum : &local, .keep = max_bytes ? max_bytes : 1};
    memset(s.sum, 0, sizeof *s.sum);
    int rc = ix->be->each_payload(ix, take_payload, &s);
    if (rc == SIFT_ENOMEM)
        rc = sift__ctx_error(ix->ctx, rc, "out of memory");
    file_walk_t w = {.s = &s, .payload_fn = fn, .user = user};
    if (rc == 0)
        rc = ix->be->each_file(ix, search_file, &w);
    free(s.table);
    free(s.kept);
    free(s.raw);
    free(s.ords);
    free(s.cands);
    return rc;
}

/* ---- the payload terms of a query ---- */

typedef struct term_hits {
    int64_t (*v)[2];
    size_t n, cap;
} term_hits_t;

static int keep_term_hit(void *user, const sift_index_hit_t *h)
{
    term_hits_t *t = user;
    if (t->n && t->v[t->n - 1][0] == h->pattern && t->v[t->n - 1][1] == h->flow_id)
        return 0; /* the next packet of the same flow */
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        int64_t(*v)[2] = realloc(t->v, ncap * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        t->v = v;
        t->cap = ncap;
    }
    t->v[t->n][0] = h->pattern;
    t->v[t->n++][1] = h->flow_id;
    return 0;
}

static int cmp_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

int sift__payload_terms(sift_index_t *ix, const sift_query_t *q)
{
    const char *const *terms;
    size_t n = q ? sift_query_payload_terms(q, &terms) : 0;
    if (n == 0)
        return 0;
    sift_patterns_t *ps = NULL;
    sift_matcher_t *m = NULL;
    int rc = sift_patterns_create(&ps);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = sift_patterns_add(ps, ix->ctx, terms[i], false, "query", (unsigned)i + 1);
    if (rc == 0)
        rc = sift_matcher_compile(&m, ix->ctx, ps, &(sift_matcher_opts_t){0}, NULL);
    term_hits_t t = {0};
    sift_index_search_summary_t sum;
    if (rc == 0)
        rc = sift_index_search(ix, m, 0, keep_term_hit, &t, &sum);
    if (rc == SIFT_ENOMEM)
        rc = sift__ctx_error(ix->ctx, rc, "out of memory");
    if (rc == 0 && (sum.files_older || sum.files_without)) /* no answer rather than a wrong one */
        rc = sift__ctx_error(ix->ctx, SIFT_EINVAL,
                             "%s: %llu of its files were indexed without their payloads' packets "
                             "(without --payloads, or by an earlier capsift), which contains and "
                             "matches search: run capsift index --payloads on them",
                             ix->path, (unsigned long long)(sum.files_older + sum.files_without));
    if (rc == 0) {
        if (t.n > 1)
            qsort(t.v, t.n, sizeof *t.v, cmp_pair);
        size_t u = 0;
        for (size_t i = 0; i < t.n; i++)
            if (u == 0 || cmp_pair(t.v[u - 1], t.v[i]) != 0) {
                t.v[u][0] = t.v[i][0];
                t.v[u++][1] = t.v[i][1];
            }
        rc = ix->be->put_term_hits(ix, (const int64_t(*)[2])t.v, u);
    }
    free(t.v);
    sift_matcher_free(m);
    sift_patterns_free(ps);
    return rc;
}
