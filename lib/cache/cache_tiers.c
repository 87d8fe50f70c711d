/* The two-tier cache: L1 (cache_lru.c) in front of L2 (cache_sqlite.c), the counters, the
 * fingerprint memo kept in L2's file, and the key builder. */
#include "cache/cache_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define DEFAULT_L1_BYTES   ((size_t)64 << 20)
#define DEFAULT_L1_ENTRIES ((size_t)65536)
#define DEFAULT_L2_BYTES   ((uint64_t)1 << 30)

struct sift_cache {
    sift_ctx_t *ctx;
    sift_cache_opts_t o;
    sift__l1_t l1;
    sift__l2_t l2;
    char *path;
    sift_fpmemo_t *memo;
    sift_cache_counters_t c; /* hits, misses, puts; evictions and expiries live in the tiers */
    unsigned char *scratch;  /* an L2 value too large for L1, returned by get */
    size_t scratch_cap;
};

static uint64_t realtime_ns(void *user)
{
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(const sift_cache_t *c)
{
    return c->o.clock(c->o.clock_user);
}

int sift_cache_open(sift_cache_t **out, sift_ctx_t *ctx, const char *path,
                    const sift_cache_opts_t *opts)
{
    if (!out)
        return SIFT_EINVAL;
    *out = NULL;
    sift_cache_t *c = calloc(1, sizeof *c);
    if (!c)
        return sift__ctx_error(ctx, SIFT_ENOMEM, "cache: out of memory");
    c->ctx = ctx;
    if (opts)
        c->o = *opts;
    if (!c->o.l1_max_bytes)
        c->o.l1_max_bytes = DEFAULT_L1_BYTES;
    if (!c->o.l1_max_entries)
        c->o.l1_max_entries = DEFAULT_L1_ENTRIES;
    if (!c->o.l2_max_bytes)
        c->o.l2_max_bytes = DEFAULT_L2_BYTES;
    if (!c->o.clock)
        c->o.clock = realtime_ns;
    int rc = sift__l1_init(&c->l1, c->o.l1_max_bytes, c->o.l1_max_entries);
    c->path = strdup(path ? path : "");
    if (rc == 0 && !c->path)
        rc = SIFT_ENOMEM;
    if (rc == 0 && path)
        rc = sift__l2_open(&c->l2, ctx, path, c->o.l2_max_bytes, c->o.l2_ttl_ns);
    if (rc == 0 && c->l2.on)
        rc = sift__fpmemo_attach(&c->memo, ctx, c->l2.db);
    else if (rc == 0)
        rc = sift_fpmemo_open(&c->memo, ctx, NULL);
    if (rc < 0) {
        sift_cache_close(c);
        return sift__ctx_error(ctx, rc, "cache: out of memory");
    }
    *out = c;
    return 0;
}

static void session_counters(const sift_cache_t *c, sift_cache_counters_t *out)
{
    *out = c->c;
    out->l1_evictions = c->l1.evictions;
    out->l2_evictions = c->l2.evictions;
    out->expired = c->l1.expired + c->l2.expired;
}

void sift_cache_close(sift_cache_t *c)
{
    if (!c)
        return;
    sift_cache_counters_t s;
    session_counters(c, &s);
    sift_fpmemo_close(c->memo); /* before L2: it may use L2's connection */
    sift__l2_close(&c->l2, &s);
    sift__l1_release(&c->l1);
    free(c->scratch);
    free(c->path);
    free(c);
}

/* When an entry copied from L2 must leave L1: its own L1 TTL, but never after L2's. */
static uint64_t promoted_expiry(const sift_cache_t *c, uint64_t now, uint64_t created)
{
    uint64_t e1 = c->o.l1_ttl_ns ? now + c->o.l1_ttl_ns : 0;
    uint64_t e2 = c->o.l2_ttl_ns ? created + c->o.l2_ttl_ns : 0;
    if (!e1)
        return e2;
    return e2 && e2 < e1 ? e2 : e1;
}

/* An L2 hit is read straight into its L1 entry (promotion), or into the scratch buffer when
 * it does not fit L1. */
static int from_l2(sift_cache_t *c, const void *key, size_t klen, uint64_t now, const void **val,
                   size_t *len)
{
    size_t n;
    uint64_t created;
    if (sift__l2_get_begin(&c->l2, key, klen, now, &n, &created) < 0)
        return SIFT_ENOTFOUND;
    sift__l1_entry_t *e;
    unsigned char *dst = NULL;
    int rc = sift__l1_put(&c->l1, key, klen, NULL, n, promoted_expiry(c, now, created), &e);
    if (rc == 0) {
        dst = e->data + e->klen;
    } else if (n <= c->scratch_cap) {
        dst = c->scratch;
    } else {
        unsigned char *s = realloc(c->scratch, n);
        if (s) {
            c->scratch = s;
            c->scratch_cap = n;
            dst = s;
        }
    }
    if (n && (!dst || sift__l2_get_read(&c->l2, dst, n) < 0)) {
        if (rc == 0)
            sift__l1_del(&c->l1, key, klen);
        sift__l2_get_done(&c->l2);
        return SIFT_ENOTFOUND;
    }
    sift__l2_get_done(&c->l2);
    *val = dst ? dst : (const unsigned char *)"";
    *len = n;
    return 0;
}

int sift_cache_get(sift_cache_t *c, const void *key, size_t klen, const void **val, size_t *len)
{
    if (!c || (!key && klen))
        return SIFT_EINVAL;
    uint64_t now = now_ns(c);
    const sift__l1_entry_t *e = sift__l1_get(&c->l1, key, klen, now);
    if (e) {
        c->c.l1_hits++;
        *val = sift__l1_value(e);
        *len = e->vlen;
        return 0;
    }
    if (from_l2(c, key, klen, now, val, len) == 0) {
        c->c.l2_hits++;
        return 0;
    }
    c->c.misses++;
    return SIFT_ENOTFOUND;
}

int sift_cache_put(sift_cache_t *c, const void *key, size_t klen, const void *val, size_t len)
{
    if (!c || !key || klen == 0 || (!val && len))
        return SIFT_EINVAL;
    uint64_t now = now_ns(c);
    c->c.puts++;
    int rc =
        sift__l1_put(&c->l1, key, klen, val, len, c->o.l1_ttl_ns ? now + c->o.l1_ttl_ns : 0, NULL);
    sift__l2_put(&c->l2, key, klen, val, len, now);
    return rc == SIFT_ENOMEM ? sift__ctx_error(c->ctx, rc, "cache: out of memory") : 0;
}

int sift_cache_del(sift_cache_t *c, const void *key, size_t klen)
{
    if (!c || !key)
        return SIFT_EINVAL;
    sift__l1_del(&c->l1, key, klen);
    sift__l2_del(&c->l2, key, klen);
    return 0;
}

int sift_cache_clear(sift_cache_t *c, bool reset_counters)
{
    sift__l1_clear(&c->l1);
    int rc = sift__l2_clear(&c->l2, reset_counters);
    int rc2 = sift_fpmemo_clear(c->memo);
    if (reset_counters) {
        memset(&c->c, 0, sizeof c->c);
        c->l1.evictions = c->l1.expired = 0;
        c->l2.evictions = c->l2.expired = 0;
    }
    return rc < 0 ? rc : rc2;
}

static void add_counters(sift_cache_counters_t *a, const sift_cache_counters_t *b)
{
    a->l1_hits += b->l1_hits;
    a->l2_hits += b->l2_hits;
    a->misses += b->misses;
    a->puts += b->puts;
    a->l1_evictions += b->l1_evictions;
    a->l2_evictions += b->l2_evictions;
    a->expired += b->expired;
}

void sift_cache_stats(sift_cache_t *c, sift_cache_stats_t *out)
{
    memset(out, 0, sizeof *out);
    session_counters(c, &out->session);
    sift__l2_totals(&c->l2, &out->l2_entries, &out->l2_bytes, &out->total);
    add_counters(&out->total, &out->session);
    out->l1_entries = c->l1.count;
    out->l1_bytes = c->l1.bytes;
    out->l2_max_bytes = c->o.l2_max_bytes;
    out->fp_entries = sift__fpmemo_count(c->memo);
    out->l2_on = c->l2.on;
}

const char *sift_cache_l2_error(const sift_cache_t *c)
{
    return c->l2.err;
}

const char *sift_cache_path(const sift_cache_t *c)
{
    return c->path;
}

sift_fpmemo_t *sift_cache_fpmemo(sift_cache_t *c)
{
    return c->memo;
}

/* ---- keys ---- */

enum { F_STR = 1, F_NULL, F_U64, F_BYTES, F_FP };

void sift_cache_keyb_init(sift_cache_keyb_t *kb)
{
    memset(kb, 0, sizeof *kb);
}

void sift_cache_keyb_release(sift_cache_keyb_t *kb)
{
    free(kb->buf);
    memset(kb, 0, sizeof *kb);
}

static void kb_append(sift_cache_keyb_t *kb, const void *p, size_t n)
{
    if (kb->failed)
        return;
    if (kb->cap - kb->len < n) {
        size_t cap = kb->cap ? kb->cap : 256;
        while (cap - kb->len < n && cap < SIZE_MAX / 2)
            cap *= 2;
        unsigned char *b = cap - kb->len >= n ? realloc(kb->buf, cap) : NULL;
        if (!b) {
            kb->failed = true;
            return;
        }
        kb->buf = b;
        kb->cap = cap;
    }
    if (n)
        memcpy(kb->buf + kb->len, p, n);
    kb->len += n;
}

/* A field: its type, its length as 8 little-endian bytes, its bytes. */
static void kb_field(sift_cache_keyb_t *kb, unsigned char tag, const void *p, size_t n)
{
    unsigned char hdr[9] = {tag};
    uint64_t len = n;
    for (int i = 0; i < 8; i++)
        hdr[1 + i] = (unsigned char)(len >> (8 * i));
    kb_append(kb, hdr, sizeof hdr);
    kb_append(kb, p, n);
}

void sift_cache_keyb_str(sift_cache_keyb_t *kb, const char *s)
{
    if (s)
        kb_field(kb, F_STR, s, strlen(s));
    else
        kb_field(kb, F_NULL, NULL, 0);
}

void sift_cache_keyb_u64(sift_cache_keyb_t *kb, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    kb_field(kb, F_U64, b, sizeof b);
}

void sift_cache_keyb_bytes(sift_cache_keyb_t *kb, const void *p, size_t n)
{
    kb_field(kb, F_BYTES, p, n);
}

void sift_cache_keyb_fp(sift_cache_keyb_t *kb, const sift_fingerprint_t *fp)
{
    kb_field(kb, F_FP, fp->bytes, sizeof fp->bytes);
}

int sift_cache_keyb_finish(sift_cache_keyb_t *kb, sift_cache_key_t *out)
{
    int rc = 0;
    if (kb->failed) {
        rc = SIFT_ENOMEM;
    } else {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits(kb->buf ? kb->buf : (const void *)"", kb->len));
        memcpy(out->bytes, c.digest, sizeof out->bytes);
    }
    sift_cache_keyb_release(kb);
    return rc;
}
