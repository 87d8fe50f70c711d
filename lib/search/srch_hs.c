/* Matchers over Hyperscan: compiling a pattern set (or reading it back from the cache), and
 * scanning blocks and streams with a thread's scratch. */
#include "search/search_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_MAGIC "capsift-hs/1"

/* What precedes the serialised database in a cache entry: checked before it is trusted. */
typedef struct cache_head {
    char magic[12];
    uint32_t npatterns;
    uint32_t stream;
    uint8_t key[16];
} cache_head_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Stream mode with regexes needs start-of-match offsets kept for as long as a stream runs. */
static unsigned hs_mode(const sift_patterns_t *ps, bool stream)
{
    if (!stream)
        return HS_MODE_BLOCK;
    return HS_MODE_STREAM | (ps->any_regex ? HS_MODE_SOM_HORIZON_LARGE : 0u);
}

/* Everything the compiled database depends on. */
int sift_matcher_key(const sift_patterns_t *ps, bool stream, sift_cache_key_t *key)
{
    sift_cache_keyb_t kb;
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, CACHE_MAGIC);
    sift_cache_keyb_str(&kb, hs_version());
    hs_platform_info_t plat;
    if (hs_populate_platform(&plat) == HS_SUCCESS) {
        sift_cache_keyb_u64(&kb, plat.tune);
        sift_cache_keyb_u64(&kb, plat.cpu_features);
    }
    sift_cache_keyb_u64(&kb, hs_mode(ps, stream));
    sift_cache_keyb_u64(&kb, ps->n);
    for (size_t i = 0; i < ps->n; i++) {
        const sift_pattern_t *p = &ps->v[i];
        sift_cache_keyb_u64(&kb, (uint64_t)p->regex << 32 | sift__pattern_flags(p));
        sift_cache_keyb_bytes(&kb, p->bytes, p->len);
    }
    return sift_cache_keyb_finish(&kb, key);
}

static void lit_lengths(sift_matcher_t *m)
{
    for (size_t i = 0; i < m->ps->n; i++)
        m->lit_len[i] = m->ps->v[i].regex ? 0 : (uint32_t)m->ps->v[i].len;
}

/* A database from the cache, when the entry is one of this set and reads back. */
static bool from_cache(sift_matcher_t *m, sift_cache_t *c, const sift_cache_key_t *key)
{
    const void *v;
    size_t n;
    if (sift_cache_get(c, key->bytes, sizeof key->bytes, &v, &n) < 0)
        return false;
    cache_head_t h;
    if (n <= sizeof h)
        return false;
    memcpy(&h, v, sizeof h);
    if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.npatterns != m->ps->n ||
        h.stream != m->stream || memcmp(h.key, key->bytes, sizeof h.key) != 0)
        return false;
    const char *bytes = (const char *)v + sizeof h;
    size_t len = n - sizeof h;
    char *desc = NULL;
    if (hs_serialized_database_info(bytes, len, &desc) != HS_SUCCESS)
        return false;
    bool mode_ok = strstr(desc, m->stream ? "STREAM" : "BLOCK") != NULL;
    free(desc);
    return mode_ok && hs_deserialize_database(bytes, len, &m->db) == HS_SUCCESS;
}

static void to_cache(const sift_matcher_t *m, sift_cache_t *c, const sift_cache_key_t *key)
{
    char *bytes = NULL;
    size_t len = 0;
    if (hs_serialize_database(m->db, &bytes, &len) != HS_SUCCESS)
        return;
    cache_head_t h = {.npatterns = (uint32_t)m->ps->n, .stream = m->stream};
    memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
    memcpy(h.key, key->bytes, sizeof h.key);
    unsigned char *val = malloc(sizeof h + len);
    if (val) {
        memcpy(val, &h, sizeof h);
        memcpy(val + sizeof h, bytes, len);
        sift_cache_put(c, key->bytes, sizeof key->bytes, val, sizeof h + len);
    }
    free(val);
    free(bytes);
}

/* A literal as an expression of escaped bytes, for a set that also holds regexes. */
static char *escaped(const sift_pattern_t *p)
{
    char *s = malloc(p->len * 4 + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < p->len; i++)
        snprintf(s + i * 4, 5, "\\x%02x", p->bytes[i]);
    s[p->len * 4] = 0;
    return s;
}

/* A stream has no end of data to anchor at: a regex that needs one would match nowhere. */
static int check_streamable(const sift_patterns_t *ps, sift_ctx_t *ctx)
{
    for (size_t i = 0; i < ps->n; i++) {
        const sift_pattern_t *p = &ps->v[i];
        if (!p->regex)
            continue;
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *err = NULL;
        if (hs_expression_info((const char *)p->bytes, sift__pattern_flags(p), &info, &err) !=
            HS_SUCCESS) {
            hs_free_compile_error(err);
            continue; /* the compiler says why */
        }
        bool eod = info->matches_at_eod;
        free(info);
        if (eod)
            return sift__ctx_error(ctx, SIFT_EPARSE,
                                   "%s:%u: %s: it needs the end of the data, which a stream "
                                   "does not have; search packet by packet (block mode)",
                                   p->source, p->line, p->text);
    }
    return 0;
}

static int compile(sift_matcher_t *m, sift_ctx_t *ctx)
{
    const sift_patterns_t *ps = m->ps;
    size_t n = ps->n;
    if (m->stream && ps->any_regex) {
        int rc = check_streamable(ps, ctx);
        if (rc < 0)
            return rc;
    }
    const char **expr = calloc(n, sizeof *expr);
    unsigned *flags = calloc(n, sizeof *flags), *ids = calloc(n, sizeof *ids);
    size_t *lens = calloc(n, sizeof *lens);
    char **owned = ps->any_regex ? calloc(n, sizeof *owned) : NULL;
    int rc = expr && flags && ids && lens && (owned || !ps->any_regex) ? 0 : SIFT_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const sift_pattern_t *p = &ps->v[i];
        ids[i] = (unsigned)i;
        flags[i] = sift__pattern_flags(p);
        lens[i] = p->len;
        if (!ps->any_regex) {
            expr[i] = (const char *)p->bytes;
        } else if (p->regex) {
            expr[i] = (const char *)p->bytes;
            flags[i] |= HS_FLAG_SOM_LEFTMOST;
        } else if (!(expr[i] = owned[i] = escaped(p))) {
            rc = SIFT_ENOMEM;
        }
    }
    hs_compile_error_t *err = NULL;
    hs_error_t hr = HS_SUCCESS;
    if (rc == 0) {
        unsigned mode = hs_mode(ps, m->stream);
        hr = ps->any_regex
                 ? hs_compile_multi(expr, flags, ids, (unsigned)n, mode, NULL, &m->db, &err)
                 : hs_compile_lit_multi(expr, flags, ids, lens, (unsigned)n, mode, NULL, &m->db,
                                        &err);
    }
    if (rc == 0 && hr != HS_SUCCESS) {
        const char *why = err ? err->message : "compilation failed";
        if (err && err->expression >= 0 && (size_t)err->expression < n) {
            const sift_pattern_t *p = &ps->v[err->expression];
            rc = sift__ctx_error(ctx, SIFT_EPARSE, "%s:%u: %s: %s", p->source, p->line, p->text,
                                 why);
        } else {
            rc = sift__ctx_error(ctx, hr == HS_ARCH_ERROR ? SIFT_EUNSUPPORTED : SIFT_EPARSE,
                                 "the patterns do not compile: %s", why);
        }
    } else if (rc < 0) {
        sift__ctx_error(ctx, rc, "out of memory");
    }
    hs_free_compile_error(err);
    if (owned)
        for (size_t i = 0; i < n; i++)
            free(owned[i]);
    free(owned);
    free(expr);
    free(flags);
    free(ids);
    free(lens);
    return rc;
}

int sift_matcher_compile(sift_matcher_t **out, sift_ctx_t *ctx, const sift_patterns_t *ps,
                         const sift_matcher_opts_t *opts, sift_matcher_info_t *info)
{
    *out = NULL;
    sift_matcher_opts_t o = opts ? *opts : (sift_matcher_opts_t){0};
    if (ps->n == 0)
        return sift__ctx_error(ctx, SIFT_EINVAL, "no pattern to search for");
    if (hs_valid_platform() != HS_SUCCESS)
        return sift__ctx_error(ctx, SIFT_EUNSUPPORTED,
                               "Hyperscan cannot run on this CPU (it needs SSSE3)");
    uint64_t t0 = now_ns();
    sift_matcher_t *m = calloc(1, sizeof *m);
    if (!m || !(m->lit_len = calloc(ps->n, sizeof *m->lit_len))) {
        free(m);
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    }
    m->ps = ps;
    m->stream = o.stream;
    lit_lengths(m);
    sift_cache_key_t key;
    bool keyed = o.cache && sift_matcher_key(ps, o.stream, &key) == 0;
    bool cached = keyed && from_cache(m, o.cache, &key);
    if (!cached) {
        int rc = compile(m, ctx);
        if (rc < 0) {
            sift_matcher_free(m);
            return rc;
        }
        if (keyed)
            to_cache(m, o.cache, &key);
    }
    if (info) {
        memset(info, 0, sizeof *info);
        info->from_cache = cached;
        info->build_ns = now_ns() - t0;
        hs_database_size(m->db, &info->db_bytes);
        if (m->stream)
            hs_stream_size(m->db, &info->stream_bytes);
    }
    *out = m;
    return 0;
}

void sift_matcher_free(sift_matcher_t *m)
{
    if (!m)
        return;
    hs_free_database(m->db);
    free(m->lit_len);
    free(m);
}

const sift_patterns_t *sift_matcher_patterns(const sift_matcher_t *m)
{
    return m->ps;
}

bool sift_matcher_streaming(const sift_matcher_t *m)
{
    return m->stream;
}

int sift_scanner_create(sift_scanner_t **out, const sift_matcher_t *m)
{
    sift_scanner_t *s = calloc(1, sizeof *s);
    if (!s)
        return SIFT_ENOMEM;
    s->m = m;
    if (hs_alloc_scratch(m->db, &s->scratch) != HS_SUCCESS) {
        free(s);
        return SIFT_ENOMEM;
    }
    *out = s;
    return 0;
}

void sift_scanner_free(sift_scanner_t *s)
{
    if (!s)
        return;
    hs_free_scratch(s->scratch);
    free(s);
}

typedef struct on_match {
    const sift_matcher_t *m;
    sift_match_fn fn;
    void *user;
} on_match_t;

static int hs_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                 void *ctx)
{
    (void)flags;
    const on_match_t *o = ctx;
    uint32_t len = o->m->lit_len[id];
    if (len)
        from = to - len;
    return o->fn(o->user, id, from, to) ? 0 : 1;
}

static int scan_rc(hs_error_t hr)
{
    if (hr == HS_SUCCESS || hr == HS_SCAN_TERMINATED)
        return 0;
    return hr == HS_NOMEM ? SIFT_ENOMEM : SIFT_EINTERNAL;
}

int sift_scan_block(sift_scanner_t *s, const void *data, size_t len, sift_match_fn fn, void *user)
{
    on_match_t o = {s->m, fn, user};
    if (len > UINT32_MAX)
        return SIFT_EINVAL;
    return scan_rc(hs_scan(s->m->db, data, (unsigned)len, 0, s->scratch, hs_cb, &o));
}

int sift_stream_open(sift_stream_t **out, const sift_matcher_t *m)
{
    sift_stream_t *st = malloc(sizeof *st);
    if (!st)
        return SIFT_ENOMEM;
    st->m = m;
    if (hs_open_stream(m->db, 0, &st->hs) != HS_SUCCESS) {
        free(st);
        return SIFT_ENOMEM;
    }
    *out = st;
    return 0;
}

int sift_stream_scan(sift_stream_t *st, sift_scanner_t *s, const void *data, size_t len,
                     sift_match_fn fn, void *user)
{
    on_match_t o = {st->m, fn, user};
    if (len > UINT32_MAX)
        return SIFT_EINVAL;
    return scan_rc(hs_scan_stream(st->hs, data, (unsigned)len, 0, s->scratch, hs_cb, &o));
}

int sift_stream_reset(sift_stream_t *st, sift_scanner_t *s, sift_match_fn fn, void *user)
{
    on_match_t o = {st->m, fn, user};
    return scan_rc(hs_reset_stream(st->hs, 0, fn ? s->scratch : NULL, fn ? hs_cb : NULL, &o));
}

void sift_stream_close(sift_stream_t *st, sift_scanner_t *s, sift_match_fn fn, void *user)
{
    if (!st)
        return;
    on_match_t o = {st->m, fn, user};
    hs_close_stream(st->hs, fn ? s->scratch : NULL, fn ? hs_cb : NULL, &o);
    free(st);
}
