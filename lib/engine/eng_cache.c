/* The result cache of the engine: an input's final pass states (and what its record says:
 * format, interfaces, problems, reports) stored under a key of everything its results depend
 * on, so that a later run over the same content answers without reading it. The states are
 * saved and loaded by the passes' own hooks; this file adds the record and the framing.
 *
 * An entry: "SIFTENG2", the pass count, the record (status, meta, interfaces, problems,
 * problems_total, notes, warning, filtered_out), then per pass its report (code, message) and its
 * state's bytes, each with its length. Numbers are 8 bytes in host order, strings a length and
 * their bytes, written field by field (no padding is stored). The key holds the build (library
 * version and the running executable's fingerprint), so a layout never meets another build's bytes;
 * a reader that finds the framing wrong treats the entry as a miss.
 */
#include "engine/engine_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ENTRY_MAGIC "SIFTENG2" /* 2: the notes after the problems */

void sift_blob_put(sift_blob_t *b, const void *data, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

bool sift_blob_get(sift_blob_reader_t *r, void *out, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return false;
    }
    if (n)
        memcpy(out, r->p, n);
    r->p += n;
    return true;
}

void sift_blob_put_u64(sift_blob_t *b, uint64_t v)
{
    sift_blob_put(b, &v, sizeof v);
}

uint64_t sift_blob_get_u64(sift_blob_reader_t *r)
{
    uint64_t v = 0;
    sift_blob_get(r, &v, sizeof v);
    return v;
}

static void put_str(sift_blob_t *b, const char *s)
{
    size_t n = strlen(s);
    sift_blob_put_u64(b, n);
    sift_blob_put(b, s, n);
}

/* A string of at most size - 1 bytes into buf. */
static void get_str(sift_blob_reader_t *r, char *buf, size_t size)
{
    uint64_t n = sift_blob_get_u64(r);
    if (n >= size) {
        r->bad = true;
        n = 0;
    }
    sift_blob_get(r, buf, (size_t)n);
    buf[r->bad ? 0 : n] = '\0';
}

/* Field by field, so that no padding byte is stored. */
static void put_meta(sift_blob_t *b, const sift_file_meta_t *m)
{
    sift_blob_put_u64(b, (uint64_t)m->format);
    sift_blob_put_u64(b, (uint64_t)m->compression);
    sift_blob_put_u64(b, (uint64_t)m->big_endian << 1 | (uint64_t)m->mixed_endian);
    sift_blob_put_u64(b, (uint64_t)m->version_major << 16 | m->version_minor);
    sift_blob_put_u64(b, m->ts_digits);
    sift_blob_put_u64(b, m->sections);
    sift_blob_put_u64(b, m->niface);
    for (size_t k = 0; k < m->niface; k++) {
        const sift_iface_t *f = &m->iface[k];
        sift_blob_put_u64(b, (uint64_t)f->linktype << 32 | f->snaplen);
        sift_blob_put_u64(b, (uint64_t)f->section << 16 | (uint64_t)f->ts_digits << 8 | f->tsresol);
        sift_blob_put_u64(b, (uint64_t)f->tsoffset);
    }
}

static void get_meta(sift_blob_reader_t *r, sift_file_meta_t *m, sift_iface_t **ifaces)
{
    memset(m, 0, sizeof *m);
    m->format = (sift_format_t)sift_blob_get_u64(r);
    m->compression = (sift_compression_t)sift_blob_get_u64(r);
    uint64_t v = sift_blob_get_u64(r);
    m->big_endian = (v >> 1) & 1;
    m->mixed_endian = v & 1;
    v = sift_blob_get_u64(r);
    m->version_major = (uint16_t)(v >> 16);
    m->version_minor = (uint16_t)v;
    m->ts_digits = (uint8_t)sift_blob_get_u64(r);
    m->sections = (uint32_t)sift_blob_get_u64(r);
    uint64_t n = sift_blob_get_u64(r);
    *ifaces = NULL;
    if (r->bad || n == 0)
        return;
    if (n > (uint64_t)(r->end - r->p) / 24 || !(*ifaces = calloc((size_t)n, sizeof **ifaces))) {
        r->bad = true;
        return;
    }
    for (size_t k = 0; k < n; k++) {
        sift_iface_t *f = &(*ifaces)[k];
        v = sift_blob_get_u64(r);
        f->linktype = (uint32_t)(v >> 32);
        f->snaplen = (uint32_t)v;
        v = sift_blob_get_u64(r);
        f->section = (uint32_t)(v >> 16);
        f->ts_digits = (uint8_t)(v >> 8);
        f->tsresol = (uint8_t)v;
        f->tsoffset = (int64_t)sift_blob_get_u64(r);
    }
    m->niface = (size_t)n;
    m->iface = *ifaces;
}

static void put_notes(sift_blob_t *b, const sift_file_notes_t *n)
{
    sift_blob_put_u64(b, n->nsections);
    for (size_t k = 0; k < n->nsections; k++) {
        const sift_section_notes_t *s = &n->sections[k];
        put_str(b, s->hardware);
        put_str(b, s->os);
        put_str(b, s->application);
        put_str(b, s->comment);
    }
    sift_blob_put_u64(b, n->nifaces);
    for (size_t k = 0; k < n->nifaces; k++) {
        const sift_iface_notes_t *f = &n->ifaces[k];
        const char *const str[] = {f->name, f->description, f->filter,
                                   f->os,   f->hardware,    f->comment};
        for (size_t i = 0; i < sizeof str / sizeof str[0]; i++)
            put_str(b, str[i]);
        const uint64_t v[] = {f->stats_blocks,    f->received,   f->dropped,
                              f->filter_accepted, f->os_dropped, f->delivered};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            sift_blob_put_u64(b, v[i]);
    }
    sift_blob_put_u64(b, n->comments_total);
    sift_blob_put_u64(b, n->ncomments);
    for (size_t k = 0; k < n->ncomments; k++) {
        sift_blob_put_u64(b, n->comments[k].packet);
        put_str(b, n->comments[k].text);
    }
}

/* Into n (its arrays allocated here; r->bad on damage, with n left empty). */
static void get_notes(sift_blob_reader_t *r, sift_file_notes_t *n)
{
    memset(n, 0, sizeof *n);
    uint64_t ns = sift_blob_get_u64(r);
    if (ns > SIFT_NOTES_SECTIONS ||
        (ns && !(n->sections = calloc((size_t)ns, sizeof *n->sections))))
        r->bad = true;
    for (size_t k = 0; !r->bad && k < ns; k++) {
        sift_section_notes_t *s = &n->sections[k];
        get_str(r, s->hardware, sizeof s->hardware);
        get_str(r, s->os, sizeof s->os);
        get_str(r, s->application, sizeof s->application);
        get_str(r, s->comment, sizeof s->comment);
    }
    n->nsections = (size_t)ns;
    uint64_t ni = r->bad ? 0 : sift_blob_get_u64(r);
    if (ni > SIFT_NOTES_IFACES || (ni && !(n->ifaces = calloc((size_t)ni, sizeof *n->ifaces))))
        r->bad = true;
    for (size_t k = 0; !r->bad && k < ni; k++) {
        sift_iface_notes_t *f = &n->ifaces[k];
        char *const str[] = {f->name, f->description, f->filter, f->os, f->hardware, f->comment};
        for (size_t i = 0; i < sizeof str / sizeof str[0]; i++)
            get_str(r, str[i], SIFT_NOTE_MAX);
        uint64_t *const v[] = {&f->stats_blocks,    &f->received,   &f->dropped,
                               &f->filter_accepted, &f->os_dropped, &f->delivered};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            *v[i] = sift_blob_get_u64(r);
    }
    n->nifaces = (size_t)ni;
    n->comments_total = r->bad ? 0 : sift_blob_get_u64(r);
    uint64_t nc = r->bad ? 0 : sift_blob_get_u64(r);
    if (nc > SIFT_NOTES_COMMENTS || nc > n->comments_total)
        r->bad = true;
    for (size_t k = 0; !r->bad && k < nc; k++) {
        n->comments[k].packet = sift_blob_get_u64(r);
        get_str(r, n->comments[k].text, sizeof n->comments[k].text);
    }
    n->ncomments = r->bad ? 0 : (size_t)nc;
    if (r->bad)
        sift_file_notes_release(n);
}

static void put_problems(sift_blob_t *b, const sift_problem_t *pr, size_t n)
{
    sift_blob_put_u64(b, n);
    for (size_t k = 0; k < n; k++) {
        sift_blob_put_u64(b, pr[k].offset);
        sift_blob_put_u64(b, (uint64_t)(int64_t)pr[k].code);
        put_str(b, pr[k].message);
    }
}

static sift_problem_t *get_problems(sift_blob_reader_t *r, size_t *n)
{
    uint64_t count = sift_blob_get_u64(r);
    *n = 0;
    if (r->bad || count == 0)
        return NULL;
    sift_problem_t *pr = NULL;
    if (count > (uint64_t)(r->end - r->p) / 24 || !(pr = calloc((size_t)count, sizeof *pr))) {
        r->bad = true;
        return NULL;
    }
    for (size_t k = 0; k < count; k++) {
        pr[k].offset = sift_blob_get_u64(r);
        pr[k].code = (int)(int64_t)sift_blob_get_u64(r);
        get_str(r, pr[k].message, sizeof pr[k].message);
    }
    *n = (size_t)count;
    return pr;
}

static bool cacheable(const sift_engine_t *e)
{
    if (!e->opts.cache)
        return false;
    for (int p = 0; p < e->npass; p++)
        if (!e->passes[p].pass.save || !e->passes[p].pass.load ||
            (e->passes[p].pass.flags & SIFT_PASS_NO_CACHE))
            return false;
    return e->npass > 0;
}

/* The part of every key that does not depend on the input. false: nothing is cached. */
static bool key_prefix(sift_engine_t *e, sift_fpmemo_t *memo, sift_cache_keyb_t *kb)
{
    sift_fingerprint_t self;
    if (sift_fpmemo_get(memo, "/proc/self/exe", &self, NULL) < 0)
        return false; /* no way to tell this build from another */
    sift_cache_keyb_str(kb, "capsift-engine/1");
    sift_cache_keyb_str(kb, sift_version());
    sift_cache_keyb_fp(kb, &self);
    sift_cache_keyb_str(kb, e->opts.filter);
    sift_cache_keyb_u64(kb, e->opts.reader.max_record);
    sift_cache_keyb_u64(kb, e->opts.reader.max_problems);
    sift_cache_keyb_u64(kb, (uint64_t)e->npass);
    for (int p = 0; p < e->npass; p++) {
        const eng_pass_t *ep = &e->passes[p];
        sift_cache_keyb_str(kb, ep->pass.name);
        sift_cache_keyb_u64(kb, ep->pass.cache_version);
        if (ep->pass.cache_key)
            ep->pass.cache_key(ep->config, kb);
    }
    return true;
}

/* Reads an entry into fresh states and the input's record. false: not a usable entry (the
 * record is left as it was, the states freed). */
static bool restore(sift_engine_t *e, eng_input_t *in, const void *val, size_t len, void **states)
{
    sift_blob_reader_t r = {val, (const unsigned char *)val + len, false, 0};
    char magic[sizeof ENTRY_MAGIC - 1];
    if (!sift_blob_get(&r, magic, sizeof magic) || memcmp(magic, ENTRY_MAGIC, sizeof magic) != 0 ||
        sift_blob_get_u64(&r) != (uint64_t)e->npass)
        return false;
    int64_t status = (int64_t)sift_blob_get_u64(&r);
    sift_file_meta_t meta;
    sift_iface_t *ifaces;
    get_meta(&r, &meta, &ifaces);
    size_t nprob;
    sift_problem_t *problems = get_problems(&r, &nprob);
    uint64_t problems_total = sift_blob_get_u64(&r);
    sift_file_notes_t notes;
    get_notes(&r, &notes);
    char warning[SIFT_ERRBUF_SIZE];
    get_str(&r, warning, sizeof warning);
    uint64_t filtered_out = sift_blob_get_u64(&r);
    int rc = r.bad ? SIFT_ECORRUPT : sift__eng_new_states(e, states, false, UINT_MAX);
    for (int p = 0; p < e->npass && rc == 0 && !r.bad; p++) {
        int code = (int)(int64_t)sift_blob_get_u64(&r);
        char msg[SIFT_REPORT_SIZE];
        get_str(&r, msg, sizeof msg);
        uint64_t n = sift_blob_get_u64(&r);
        if (r.bad || n > (uint64_t)(r.end - r.p))
            break;
        sift_blob_reader_t sr = {r.p, r.p + n, false, (uint32_t)(in - e->inputs)};
        r.p += n;
        if (e->passes[p].pass.load(states[p], &sr) < 0 || sr.bad || sr.p != sr.end)
            rc = SIFT_ECORRUPT;
        else if (code < 0)
            sift_pass_report(states[p], code, "%s", msg);
    }
    if (rc < 0 || r.bad || r.p != r.end) {
        for (int p = 0; p < e->npass; p++) {
            sift_pass_state_free(&e->passes[p].pass, states[p]);
            states[p] = NULL;
        }
        free(ifaces);
        free(problems);
        sift_file_notes_release(&notes);
        return false;
    }
    in->pub.status = (int)status;
    in->ifaces = ifaces;
    in->pub.meta = meta;
    in->problems = problems;
    in->pub.nproblems = nprob;
    in->pub.problems = problems;
    in->pub.problems_total = problems_total;
    sift_file_notes_release(&in->notes);
    in->notes = notes;
    snprintf(in->warning, sizeof in->warning, "%s", warning);
    in->pub.filtered_out = filtered_out;
    return true;
}

/* A hit is final: its reports, then input_done, as for an input that was read. */
static void serve(sift_engine_t *e, size_t i)
{
    eng_input_t *in = &e->inputs[i];
    in->pub.cached = true;
    sift__eng_collect_reports(e, in, in->states);
    atomic_fetch_add(&e->bytes_done, in->pub.size);
    sift__eng_offer(e, i, in->states);
}

void sift__eng_cache_lookup(sift_engine_t *e)
{
    if (!cacheable(e))
        return;
    sift_fpmemo_t *memo = sift_cache_fpmemo(e->opts.cache);
    sift_cache_keyb_t kb;
    sift_cache_key_t prefix; /* what every input's key shares, hashed once */
    sift_cache_keyb_init(&kb);
    if (!key_prefix(e, memo, &kb)) {
        sift_cache_keyb_release(&kb);
        return;
    }
    if (sift_cache_keyb_finish(&kb, &prefix) < 0)
        return;
    /* Passes that look at record headers only cost less than hashing the file for its
     * fingerprint (bench/bench_cache.sh, 1.19 GB: info 0.1 s, with the fingerprint 0.4 s):
     * they use the cache only for files whose fingerprint is known already. */
    bool hash = e->need > SIFT_NEED_RECORD;
    for (size_t i = 0; i < e->ninput; i++) {
        eng_input_t *in = &e->inputs[i];
        struct stat st;
        sift_fingerprint_t fp;
        if (in->error[0] || stat(in->path, &st) != 0 || !S_ISREG(st.st_mode) ||
            (hash ? sift_fpmemo_get(memo, in->path, &fp, NULL)
                  : sift_fpmemo_peek(memo, in->path, &fp)) < 0)
            continue; /* read, not cached: the read reports what is wrong */
        sift_cache_keyb_init(&kb);
        sift_cache_keyb_bytes(&kb, prefix.bytes, sizeof prefix.bytes);
        sift_cache_keyb_fp(&kb, &fp);
        if (sift_cache_keyb_finish(&kb, &in->key) < 0)
            continue;
        in->keyed = true;
        const void *val;
        size_t len;
        if (sift_cache_get(e->opts.cache, in->key.bytes, sizeof in->key.bytes, &val, &len) == 0 &&
            restore(e, in, val, len, in->states))
            serve(e, i);
    }
}

void sift__eng_cache_store(sift_engine_t *e, size_t i, void *const *states)
{
    eng_input_t *in = &e->inputs[i];
    if (!in->keyed || in->pub.cached || in->error[0])
        return;
    for (int p = 0; p < e->npass; p++)
        if (!states[p] || sift_pass_status(states[p], NULL) == SIFT_ENOMEM)
            return; /* no result, or one that another run may have the memory to complete */
    sift_blob_t b = {0};
    sift_blob_put(&b, ENTRY_MAGIC, sizeof ENTRY_MAGIC - 1);
    sift_blob_put_u64(&b, (uint64_t)e->npass);
    sift_blob_put_u64(&b, (uint64_t)(int64_t)in->pub.status);
    put_meta(&b, &in->pub.meta);
    put_problems(&b, in->pub.problems, in->pub.nproblems);
    sift_blob_put_u64(&b, in->pub.problems_total);
    put_notes(&b, &in->notes);
    put_str(&b, in->warning);
    sift_blob_put_u64(&b, in->pub.filtered_out);
    for (int p = 0; p < e->npass; p++) {
        const char *msg = "";
        int code = sift_pass_status(states[p], &msg);
        sift_blob_put_u64(&b, (uint64_t)(int64_t)code);
        put_str(&b, code ? msg : "");
        sift_blob_t sb = {0};
        e->passes[p].pass.save(states[p], &sb);
        sift_blob_put_u64(&b, sb.len);
        sift_blob_put(&b, sb.p, sb.len);
        b.failed = b.failed || sb.failed;
        free(sb.p);
    }
    if (!b.failed) {
        pthread_mutex_lock(&e->cache_lock);
        sift_cache_put(e->opts.cache, in->key.bytes, sizeof in->key.bytes, b.p, b.len);
        pthread_mutex_unlock(&e->cache_lock);
    }
    free(b.p);
}
