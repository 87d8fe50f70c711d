/* The index pass, built on the engine's flows: the byte offset and timestamp of every packet
 * of each flow (bytes of its own in every flow record, joined when ranges merge), and
 * optionally the distinct transport payloads with the packets that carry each. Ranges of a file are
 * read in parallel. A flow's positions that fill ST_SEGMENT_BYTES go to the writer thread as a
 * segment, so memory follows the flows, not their packets; the flow keeps the segments' ids. */
#include "store/store_int.h"

#include "common/cursor.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

/* Blob versions: the varints zstd-compressed, or as they are (small flows, where zstd's frame
 * costs more than it saves). */
#define POS_ZSTD    1
#define POS_RAW     2
#define POS_RAW_MAX 96

static int put_varint(uint8_t *p, uint64_t v)
{
    int n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads a varint from [*p, end); false when it runs past end or beyond 64 bits. */
static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int sift__pos_append(st_posbuf_t *pb, uint64_t offset, int64_t ts_ns)
{
    if (pb->cap - pb->len < 20) {
        uint32_t ncap = pb->cap ? pb->cap * 2 : 32;
        uint8_t *n = realloc(pb->buf, ncap);
        if (!n)
            return SIFT_ENOMEM;
        pb->buf = n;
        pb->cap = ncap;
    }
    /* offsets only grow within a file read in order; timestamps may step back */
    pb->len += (uint32_t)put_varint(pb->buf + pb->len, offset - pb->last_off);
    pb->len += (uint32_t)put_varint(pb->buf + pb->len, zigzag(ts_ns - pb->last_ts));
    pb->last_off = offset;
    pb->last_ts = ts_ns;
    pb->count++;
    return 0;
}

int sift__pos_encode(const st_posbuf_t *pb, void *zctx, uint8_t **out, size_t *outlen)
{
    size_t bound = ZSTD_compressBound(pb->len) + 21;
    uint8_t *b = malloc(bound);
    if (!b)
        return SIFT_ENOMEM;
    bool raw = pb->len < POS_RAW_MAX || !zctx;
    size_t n = 0;
    b[n++] = raw ? POS_RAW : POS_ZSTD;
    n += (size_t)put_varint(b + n, pb->count);
    n += (size_t)put_varint(b + n, pb->len);
    if (raw) {
        memcpy(b + n, pb->buf, pb->len);
        *outlen = n + pb->len;
    } else {
        size_t z = ZSTD_compressCCtx(zctx, b + n, bound - n, pb->buf, pb->len, 1);
        if (ZSTD_isError(z)) {
            free(b);
            return SIFT_EINTERNAL;
        }
        *outlen = n + z;
    }
    *out = b;
    return 0;
}

/* The calling thread's decompression context, made on first use and freed when the thread
 * ends (sift__unzstd). */
static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void free_dctx(void *d)
{
    ZSTD_freeDCtx(d);
}

static void make_dctx_key(void)
{
    (void)pthread_key_create(&dctx_key, free_dctx);
}

bool sift__unzstd(void *dst, size_t raw, const void *src, size_t n)
{
    pthread_once(&dctx_once, make_dctx_key);
    ZSTD_DCtx *d = pthread_getspecific(dctx_key);
    if (!d) {
        if (!(d = ZSTD_createDCtx()))
            return ZSTD_decompress(dst, raw, src, n) == raw;
        if (pthread_setspecific(dctx_key, d) != 0) {
            ZSTD_freeDCtx(d);
            return ZSTD_decompress(dst, raw, src, n) == raw;
        }
    }
    return ZSTD_decompressDCtx(d, dst, raw, src, n) == raw;
}

int sift__pos_decode(const uint8_t *blob, size_t len, uint64_t **offs, int64_t **ts, size_t *n)
{
    const uint8_t *p = blob, *end = blob + len;
    uint64_t count, raw;
    uint8_t version = len ? *p++ : 0;
    if ((version != POS_ZSTD && version != POS_RAW) || !get_varint(&p, end, &count) ||
        !get_varint(&p, end, &raw) || raw > (1u << 30) || count > raw / 2)
        return SIFT_ECORRUPT;
    uint8_t *buf = malloc(raw ? raw : 1);
    *offs = malloc((count ? count : 1) * sizeof **offs);
    *ts = malloc((count ? count : 1) * sizeof **ts);
    int rc = 0;
    if (!buf || !*offs || !*ts) {
        rc = SIFT_ENOMEM;
    } else if (version == POS_RAW ? (size_t)(end - p) != raw
                                  : !sift__unzstd(buf, raw, p, (size_t)(end - p))) {
        rc = SIFT_ECORRUPT;
    } else {
        if (version == POS_RAW)
            memcpy(buf, p, raw);
        const uint8_t *q = buf, *qend = buf + raw;
        uint64_t off = 0;
        int64_t t = 0;
        for (uint64_t i = 0; i < count && rc == 0; i++) {
            uint64_t d_off, d_ts;
            if (!get_varint(&q, qend, &d_off) || !get_varint(&q, qend, &d_ts)) {
                rc = SIFT_ECORRUPT;
                break;
            }
            off += d_off;
            t += unzigzag(d_ts);
            (*offs)[i] = off;
            (*ts)[i] = t;
        }
    }
    free(buf);
    if (rc < 0) {
        free(*offs);
        free(*ts);
        *offs = NULL;
        *ts = NULL;
        return rc;
    }
    *n = (size_t)count;
    return 0;
}

/* ---- the packets that carry payloads ---- */

int sift__pk_append(st_pkstream_t *s, const st_pk_t *pk)
{
    if (s->cap - s->len < 30) {
        size_t ncap = s->cap ? s->cap * 2 : 4096;
        uint8_t *n = realloc(s->buf, ncap);
        if (!n)
            return SIFT_ENOMEM;
        s->buf = n;
        s->cap = ncap;
    }
    s->len += (size_t)put_varint(s->buf + s->len, pk->record - s->last_rec);
    s->len += (size_t)put_varint(s->buf + s->len, pk->offset - s->last_off);
    s->len += (size_t)put_varint(s->buf + s->len, (uint64_t)pk->ord << 1 | pk->from_hi);
    s->last_rec = pk->record;
    s->last_off = pk->offset;
    s->count++;
    return 0;
}

bool sift__pk_next(const uint8_t **p, const uint8_t *end, st_pk_t *prev)
{
    uint64_t d_rec, d_off, v;
    if (*p >= end || !get_varint(p, end, &d_rec) || !get_varint(p, end, &d_off) ||
        !get_varint(p, end, &v) || v >> 33)
        return false;
    prev->record += d_rec;
    prev->offset += d_off;
    prev->ord = (uint32_t)(v >> 1);
    prev->from_hi = v & 1;
    return true;
}

int sift__pk_encode(const st_pk_t *pks, size_t n, void *zctx, uint8_t **out, size_t *outlen)
{
    st_pkstream_t s = {0};
    for (size_t i = 0; i < n; i++)
        if (sift__pk_append(&s, &pks[i]) < 0) {
            free(s.buf);
            return SIFT_ENOMEM;
        }
    size_t bound = ZSTD_compressBound(s.len) + 21;
    uint8_t *b = malloc(bound);
    if (!b) {
        free(s.buf);
        return SIFT_ENOMEM;
    }
    size_t h = 1;
    h += (size_t)put_varint(b + h, n);
    h += (size_t)put_varint(b + h, s.len);
    size_t z = s.len >= POS_RAW_MAX && zctx
                   ? ZSTD_compressCCtx(zctx, b + h, bound - h, s.buf, s.len, 1)
                   : 0;
    bool raw = z == 0 || ZSTD_isError(z) || z >= s.len;
    b[0] = raw ? POS_RAW : POS_ZSTD;
    if (raw)
        memcpy(b + h, s.buf, s.len);
    *outlen = h + (raw ? s.len : z);
    *out = b;
    free(s.buf);
    return 0;
}

int sift__pk_decode(const uint8_t *blob, size_t len, st_pk_t **out, size_t *n)
{
    const uint8_t *p = blob, *end = blob + len;
    uint64_t count, raw;
    uint8_t version = len ? *p++ : 0;
    *out = NULL;
    *n = 0;
    if ((version != POS_ZSTD && version != POS_RAW) || !get_varint(&p, end, &count) ||
        !get_varint(&p, end, &raw) || raw > (1u << 30) || count > raw / 3)
        return SIFT_ECORRUPT;
    uint8_t *buf = malloc(raw ? raw : 1);
    st_pk_t *v = malloc((count ? count : 1) * sizeof *v);
    int rc = 0;
    if (!buf || !v)
        rc = SIFT_ENOMEM;
    else if (version == POS_RAW ? (size_t)(end - p) != raw
                                : !sift__unzstd(buf, raw, p, (size_t)(end - p)))
        rc = SIFT_ECORRUPT;
    if (rc == 0) {
        if (version == POS_RAW)
            memcpy(buf, p, raw);
        const uint8_t *q = buf;
        st_pk_t prev = {0};
        for (uint64_t i = 0; i < count && rc == 0; i++) {
            if (!sift__pk_next(&q, buf + raw, &prev))
                rc = SIFT_ECORRUPT;
            v[i] = prev;
        }
    }
    free(buf);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = (size_t)count;
    return 0;
}

/* ---- payloads ---- */

static int payloads_grow(st_payloads_t *ps)
{
    size_t nslots = ps->mask ? (ps->mask + 1) * 2 : 1024;
    st_payload_t *n = calloc(nslots, sizeof *n);
    if (!n)
        return SIFT_ENOMEM;
    for (size_t i = 0; ps->mask && i <= ps->mask; i++) {
        if (!ps->slots[i].count)
            continue;
        size_t h = (size_t)sift_load_le64(ps->slots[i].hash) & (nslots - 1);
        while (n[h].count)
            h = (h + 1) & (nslots - 1);
        n[h] = ps->slots[i];
    }
    free(ps->slots);
    ps->slots = n;
    ps->mask = nslots - 1;
    return 0;
}

/* Counts `count` more of a payload with hash key; returns its ord (UINT32_MAX: out of
 * memory, ps->oom set). */
static uint32_t payload_put(st_payloads_t *ps, const uint8_t key[16], const uint8_t *data,
                            uint32_t len, uint32_t count)
{
    if (ps->oom)
        return UINT32_MAX;
    if ((ps->count + 1) * 4 > (ps->mask + 1) * 3 && payloads_grow(ps) < 0) {
        ps->oom = true;
        return UINT32_MAX;
    }
    size_t i = (size_t)sift_load_le64(key) & ps->mask;
    while (ps->slots[i].count) {
        if (memcmp(ps->slots[i].hash, key, 16) == 0 && ps->slots[i].size == len) {
            ps->slots[i].count += count;
            return ps->slots[i].ord;
        }
        i = (i + 1) & ps->mask;
    }
    if (ps->arena_cap - ps->arena_len < len) {
        size_t ncap = (ps->arena_cap ? ps->arena_cap * 2 : 1 << 20) + len;
        uint8_t *na = realloc(ps->arena, ncap);
        if (!na) {
            ps->oom = true;
            return UINT32_MAX;
        }
        ps->arena = na;
        ps->arena_cap = ncap;
    }
    memcpy(ps->arena + ps->arena_len, data, len);
    st_payload_t *slot = &ps->slots[i];
    memcpy(slot->hash, key, 16);
    slot->size = len;
    slot->count = count;
    slot->ord = (uint32_t)ps->count;
    slot->data = ps->arena_len;
    ps->arena_len += len;
    ps->count++;
    return slot->ord;
}

/* A packet's payload, and the packet among those that carry one. */
static void payload_add(st_payloads_t *ps, const sift_packet_t *pkt)
{
    ps->seen++;
    ps->bytes_seen += pkt->payload_len;
    uint8_t key[16];
    XXH128_canonicalFromHash((XXH128_canonical_t *)(void *)key,
                             XXH3_128bits(pkt->payload, pkt->payload_len));
    st_pk_t pk = {.record = pkt->record, .offset = pkt->rec->offset};
    pk.ord = payload_put(ps, key, pkt->payload, pkt->payload_len, 1);
    /* as sift_flow_key_make orders the endpoints */
    uint16_t sp = pkt->flags & SIFT_PKT_L4 ? pkt->sport : 0;
    uint16_t dp = pkt->flags & SIFT_PKT_L4 ? pkt->dport : 0;
    int c = memcmp(pkt->src, pkt->dst, 16);
    pk.from_hi = c > 0 || (c == 0 && sp > dp);
    if (!ps->oom && sift__pk_append(&ps->packets, &pk) < 0)
        ps->oom = true;
}

/* b's payloads into a, and b's packets after a's: their records counted from the file's start
 * (b's range begins after `base` records), their ords a's. */
static void payloads_merge(st_payloads_t *a, const st_payloads_t *b, uint64_t base)
{
    a->oom = a->oom || b->oom;
    uint32_t *ords = b->count ? malloc(b->count * sizeof *ords) : NULL;
    if (b->count && !ords)
        a->oom = true;
    for (size_t i = 0; b->mask && i <= b->mask && !a->oom; i++) {
        const st_payload_t *p = &b->slots[i];
        if (p->count)
            ords[p->ord] = payload_put(a, p->hash, b->arena + p->data, p->size, p->count);
    }
    const uint8_t *q = b->packets.buf, *end = q + b->packets.len;
    st_pk_t pk = {0};
    while (!a->oom && sift__pk_next(&q, end, &pk)) {
        st_pk_t moved = pk;
        moved.record += base;
        moved.ord = ords[pk.ord];
        if (sift__pk_append(&a->packets, &moved) < 0)
            a->oom = true;
    }
    free(ords);
    a->seen += b->seen;
    a->bytes_seen += b->bytes_seen;
}

/* ---- the pass ---- */

static int index_init(void *state, const void *config)
{
    st_index_state_t *s = state;
    if (config)
        s->cfg = *(const st_index_config_t *)config;
    if (s->cfg.segment_bytes == 0)
        s->cfg.segment_bytes = ST_SEGMENT_BYTES;
    return 0;
}

static void lost_positions(st_index_state_t *s)
{
    sift_pass_report(s, SIFT_ENOMEM, "out of memory: some packet positions are missing");
}

/* Hands a flow's buffer to the writer as a segment and starts it again. */
static void spill(st_index_state_t *s, st_posbuf_t *pb)
{
    if (pb->count == 0)
        return;
    if (!s->zctx && !(s->zctx = ZSTD_createCCtx())) {
        lost_positions(s);
        return;
    }
    if (pb->nsegs == pb->segs_cap) {
        uint32_t ncap = pb->segs_cap ? pb->segs_cap * 2 : 4;
        uint64_t *n = realloc(pb->segs, ncap * sizeof *n);
        if (!n) {
            lost_positions(s);
            return;
        }
        pb->segs = n;
        pb->segs_cap = ncap;
    }
    uint8_t *blob;
    size_t len;
    uint64_t id;
    if (sift__pos_encode(pb, s->zctx, &blob, &len) < 0 ||
        sift__writer_segment(s->cfg.writer, blob, len, &id) < 0) {
        lost_positions(s); /* a database error is also recorded by the writer, as itself */
        return;
    }
    pb->segs[pb->nsegs++] = id;
    pb->len = 0;
    pb->count = 0;
    pb->last_off = 0;
    pb->last_ts = 0;
}

/* The range's flows hold too many position bytes: the largest buffers go out first, until
 * half of the budget is held. */
static void spill_largest(st_index_state_t *s)
{
    static const uint32_t at_least[] = {4096, 1024, 256, 0};
    for (size_t t = 0; t < sizeof at_least / sizeof *at_least && s->held > ST_HELD_BYTES / 2; t++)
        for (size_t k = 0; k < sift_flows_count(s->flows); k++) {
            st_posbuf_t *pb =
                (st_posbuf_t *)((unsigned char *)sift_flow_ext(sift_flows_at(s->flows, k)) +
                                s->offset);
            if (pb->cap <= at_least[t] || pb->count == 0)
                continue;
            spill(s, pb);
            s->held -= pb->cap;
            free(pb->buf);
            pb->buf = NULL;
            pb->cap = 0;
        }
}

static void index_bind(void *state, const sift_flows_t *flows, size_t offset)
{
    st_index_state_t *s = state;
    s->flows = flows;
    s->offset = offset;
}

static void index_packet(void *state, const sift_packet_t *pkt)
{
    st_index_state_t *s = state;
    st_posbuf_t *pb = pkt->flow_state;
    if (!pb)
        return; /* no IP layer, or the table was full (counted by the flows pass) */
    uint32_t cap = pb->cap;
    if (sift__pos_append(pb, pkt->rec->offset, pkt->rec->ts_ns) < 0)
        lost_positions(s);
    if (SIFT_UNLIKELY(pb->cap != cap) && s->cfg.writer) {
        s->held += pb->cap - cap;
        if (s->held > ST_HELD_BYTES && s->flows)
            spill_largest(s);
    }
    if (SIFT_UNLIKELY(pb->len >= s->cfg.segment_bytes) && s->cfg.writer)
        spill(s, pb);
    if (s->cfg.payloads && pkt->payload_len > 0)
        payload_add(&s->payloads, pkt);
}

static int index_merge(void *into, const void *from)
{
    st_index_state_t *a = into;
    const st_index_state_t *b = from;
    payloads_merge(&a->payloads, &b->payloads, sift_pass_record_base(from));
    return 0; /* memory run out is reported at the finish */
}

static void index_flow_end(void *state, const sift_flows_t *flows, const sift_flow_t *f,
                           void *flow_state)
{
    (void)flows;
    (void)f;
    const st_posbuf_t *pb = flow_state;
    if (pb->lost)
        lost_positions(state);
}

static void index_finish(void *state)
{
    st_index_state_t *s = state;
    if (s->payloads.oom)
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: some payloads are missing");
}

static void index_release(void *state)
{
    st_index_state_t *s = state;
    ZSTD_freeCCtx(s->zctx);
    free(s->payloads.slots);
    free(s->payloads.arena);
    free(s->payloads.packets.buf);
}

/* The positions of the later part of a flow after those of the earlier: its first entry is
 * relative to nothing, so it is written again relative to the earlier part's last. */
static void index_flow_join(void *into, const void *from)
{
    st_posbuf_t *a = into;
    const st_posbuf_t *b = from;
    if (b->nsegs) {
        if (a->nsegs + b->nsegs > a->segs_cap) {
            uint32_t ncap = a->nsegs + b->nsegs;
            uint64_t *n = realloc(a->segs, ncap * sizeof *n);
            if (!n) {
                a->lost = true;
                return;
            }
            a->segs = n;
            a->segs_cap = ncap;
        }
        memcpy(a->segs + a->nsegs, b->segs, b->nsegs * sizeof *b->segs);
        a->nsegs += b->nsegs;
    }
    if (b->count == 0)
        return;
    const uint8_t *p = b->buf, *end = b->buf + b->len;
    uint64_t off, zts;
    if (!get_varint(&p, end, &off) || !get_varint(&p, end, &zts))
        return;
    if (sift__pos_append(a, off, unzigzag(zts)) < 0) {
        a->lost = true;
        return;
    }
    size_t rest = (size_t)(end - p);
    if (a->cap - a->len < rest) {
        uint32_t ncap = a->len + (uint32_t)rest + 32;
        uint8_t *n = realloc(a->buf, ncap);
        if (!n) {
            a->lost = true;
            return;
        }
        a->buf = n;
        a->cap = ncap;
    }
    memcpy(a->buf + a->len, p, rest);
    a->len += (uint32_t)rest;
    a->count += b->count - 1;
    a->last_off = b->last_off;
    a->last_ts = b->last_ts;
    a->lost = a->lost || b->lost;
}

static void index_flow_release(void *fs)
{
    st_posbuf_t *pb = fs;
    free(pb->buf);
    free(pb->segs);
    pb->buf = NULL;
    pb->segs = NULL;
}

static void index_declare(const void *config, sift_need_t *needs, unsigned *flags)
{
    const st_index_config_t *c = config;
    (void)flags;
    *needs = c && c->payloads ? SIFT_NEED_PAYLOAD : SIFT_NEED_TRANSPORT;
}

const sift_pass_t sift__index_pass = {
    .name = "index",
    .needs = SIFT_NEED_TRANSPORT,
    .state_size = sizeof(st_index_state_t),
    .init = index_init,
    .packet = index_packet,
    .merge = index_merge,
    .finish = index_finish,
    .release = index_release,
    .flags = SIFT_PASS_FLOWS,
    .declare = index_declare,
    .flow_state_size = sizeof(st_posbuf_t),
    .bind = index_bind,
    .flow_join = index_flow_join,
    .flow_release = index_flow_release,
    .flow_end = index_flow_end,
};
