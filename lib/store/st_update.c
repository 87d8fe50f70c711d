/* sift_index_update: decides what to read (stat, then fingerprint), runs the index pass over it
 * on the engine, and writes each file in one transaction as soon as it is read. */
#include "store/store_int.h"

#include <capsift/digest.h>
#include <capsift/info.h>
#include <capsift/metapass.h>

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#define WRITER_QUEUE_BYTES (16u << 20) /* position segments waiting for the writer, at most */
#define PAYLOAD_RAW_MAX    48 /* smaller payloads are stored as they are: zstd would not help */

typedef struct candidate {
    char *path; /* absolute */
    uint64_t size, inode;
    int64_t mtime_ns;
    char digest[SIFT_DIGEST_HEX_MAX];
} candidate_t;

typedef struct name_field {
    int proto, slot, kind; /* sift_meta_proto_t, the row's str[] slot, st_name_kind_t */
    bool list;
} name_field_t;

typedef struct update {
    sift_index_t *ix;
    const sift_index_update_opts_t *opts;
    sift_digest_alg_t alg;
    sift_index_summary_t *sum;
    candidate_t *cand;
    size_t ncand, cap;
    candidate_t **todo; /* the candidates to read, in engine input order */
    size_t ntodo;
    int db_rc;             /* the first storage error: later files are not written */
    ZSTD_CCtx *zctx;       /* for position blobs and payloads (the writer thread's) */
    sift_engine_t *e;      /* the run: pass 0 flows, 1 positions, 2 the file's summary,
                            * 3 the metadata (unless no_meta) */
    st_writer_t writer;    /* the only thread that calls the storage during the run */
    name_field_t names[5]; /* the metadata fields that hold domain names */
    size_t nnames;
    uint64_t file_rows, file_names; /* of the file being written */
} update_t;

#define PASS_META 3

/* The row fields the names table takes: DNS questions, TLS server names, HTTP hosts, the DNS
 * names of server certificates. */
static void find_name_fields(update_t *u)
{
    static const struct {
        sift_meta_proto_t proto;
        const char *field;
        int kind;
    } want[] = {{SIFT_META_DNS, "query", ST_NAME_DNS},
                {SIFT_META_DNS, "more_queries", ST_NAME_DNS},
                {SIFT_META_TLS, "server_name", ST_NAME_SNI},
                {SIFT_META_HTTP, "host", ST_NAME_HTTP},
                {SIFT_META_TLS, "san_dns", ST_NAME_CERT}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t nf;
        const sift_meta_field_t *f = sift_meta_fields(want[i].proto, &nf);
        for (size_t k = 0; k < nf; k++)
            if (strcmp(f[k].name, want[i].field) == 0)
                u->names[u->nnames++] = (name_field_t){want[i].proto, f[k].slot, want[i].kind,
                                                       f[k].type == SIFT_META_T_LIST};
    }
}

/* Events name the file: a message that starts with "path: " (as the reader's and the
 * digests' do) is passed on without it. */
static void event(update_t *u, const char *path, sift_index_action_t a, const char *status,
                  const char *msg, uint64_t packets, uint64_t flows)
{
    size_t plen = strlen(path);
    if (msg && strncmp(msg, path, plen) == 0 && msg[plen] == ':' && msg[plen + 1] == ' ')
        msg += plen + 2;
    u->sum->files[a]++;
    if (u->opts->event) {
        sift_index_event_t ev = {path, a, status ? status : "", msg ? msg : "", packets, flows};
        u->opts->event(u->opts->event_user, &ev);
    }
}

static bool matches_any(const char *path, const char *const *globs, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < n; i++)
        if (fnmatch(globs[i], path, 0) == 0 || fnmatch(globs[i], base, 0) == 0)
            return true;
    return false;
}

static int add_candidate(void *user, const char *path, const struct stat *st)
{
    update_t *u = user;
    if (!st)
        return sift__ctx_error(u->ix->ctx, SIFT_EINVAL,
                               "cannot index standard input: the index reads files again by "
                               "offset; save it to a file first");
    char abs[PATH_MAX];
    if (!realpath(path, abs)) { /* a link to nothing: a failed input, the others go on */
        char msg[SIFT_ERRBUF_SIZE];
        snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
        event(u, path, SIFT_INDEX_FAILED, "error", msg, 0, 0);
        return 0;
    }
    const sift_index_update_opts_t *o = u->opts;
    if ((o->ninclude && !matches_any(abs, o->include, o->ninclude)) ||
        matches_any(abs, o->exclude, o->nexclude) ||
        (o->max_size && (uint64_t)st->st_size > o->max_size)) {
        event(u, abs, SIFT_INDEX_LEFT_OUT, NULL, NULL, 0, 0);
        return 0;
    }
    for (size_t i = 0; i < u->ncand; i++) /* the same file named twice */
        if (strcmp(u->cand[i].path, abs) == 0)
            return 0;
    if (u->ncand == u->cap) {
        size_t ncap = u->cap ? u->cap * 2 : 64;
        candidate_t *n = realloc(u->cand, ncap * sizeof *n);
        if (!n)
            return SIFT_ENOMEM;
        u->cand = n;
        u->cap = ncap;
    }
    candidate_t *c = &u->cand[u->ncand];
    memset(c, 0, sizeof *c);
    if (!(c->path = strdup(abs)))
        return SIFT_ENOMEM;
    c->size = (uint64_t)st->st_size;
    c->inode = (uint64_t)st->st_ino;
    c->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    u->ncand++;
    return 0;
}

/* Decides, for each candidate, whether it must be read: unchanged stat: no; changed stat and
 * same fingerprint: no, only the stat is updated; otherwise (or when its rows are of an older
 * layout, or keyed with the other --vlan choice) yes. */
static int triage(update_t *u)
{
    sift_index_t *ix = u->ix;
    u->todo = calloc(u->ncand ? u->ncand : 1, sizeof *u->todo);
    if (!u->todo)
        return SIFT_ENOMEM;
    for (size_t i = 0; i < u->ncand; i++) {
        candidate_t *c = &u->cand[i];
        int64_t id;
        st_file_rec_t old;
        int known = ix->be->find_file(ix, c->path, &id, &old);
        if (known < 0)
            return known;
        if (known && old.vlan_key != u->opts->vlan)
            old.stale = true; /* its flows are keyed otherwise */
        if (known && !old.meta && !u->opts->no_meta)
            old.stale = true; /* read without the metadata, which is now asked for */
        if (known && old.payloads < 2 && u->opts->payloads)
            old.stale = true; /* its payloads (with their packets) are now asked for */
        if (known && old.size == c->size && old.mtime_ns == c->mtime_ns && !old.stale) {
            event(u, c->path, SIFT_INDEX_SKIPPED, NULL, NULL, 0, 0);
            continue;
        }
        char errbuf[SIFT_ERRBUF_SIZE];
        if (sift_digest_file(c->path, u->alg, c->digest, errbuf) < 0) {
            event(u, c->path, SIFT_INDEX_FAILED, "error", errbuf, 0, 0);
            continue;
        }
        if (known && !old.stale && strcmp(old.hash_alg, sift_digest_name(u->alg)) == 0 &&
            strcmp(old.fingerprint, c->digest) == 0) {
            int rc = ix->be->restat_file(ix, id, c->size, c->mtime_ns, c->inode);
            if (rc < 0)
                return rc;
            event(u, c->path, SIFT_INDEX_SAME_CONTENT, NULL, NULL, 0, 0);
            continue;
        }
        u->todo[u->ntodo++] = c;
    }
    return 0;
}

/* Whether an indexed path lies under one of the paths the update was given. */
static bool under(const char *path, char *const *roots, size_t nroots)
{
    for (size_t i = 0; i < nroots; i++) {
        size_t n = strlen(roots[i]);
        if (strncmp(path, roots[i], n) == 0 &&
            (path[n] == '\0' || path[n] == '/' || (n > 0 && roots[i][n - 1] == '/')))
            return true;
    }
    return false;
}

typedef struct sweep {
    char *const *roots;
    size_t nroots;
    st_paths_t gone;
} sweep_t;

static int sweep_path(void *user, const char *path)
{
    sweep_t *w = user;
    struct stat st;
    if (!under(path, w->roots, w->nroots) || stat(path, &st) == 0)
        return 0;
    return sift__paths_add(&w->gone, path);
}

/* Files in the index under the given paths that are no longer on disk: reported, and removed
 * with prune. */
static int vanished(update_t *u, char *const *roots, size_t nroots)
{
    sift_index_t *ix = u->ix;
    sweep_t w = {.roots = roots, .nroots = nroots};
    int rc = ix->be->each_path(ix, sweep_path, &w);
    bool prune = u->opts->prune;
    if (rc == 0 && prune)
        rc = ix->be->remove_files(ix, w.gone.v, w.gone.n);
    for (size_t i = 0; i < w.gone.n && rc == 0; i++)
        event(u, w.gone.v[i], prune ? SIFT_INDEX_PRUNED : SIFT_INDEX_VANISHED, NULL,
              prune ? "removed from the index" : "no longer on disk; kept (see --prune)", 0, 0);
    sift__paths_free(&w.gone);
    return rc;
}

static int put_name(update_t *u, int64_t flow_id, int kind, const char *name, size_t len)
{
    char key[SIFT_NAME_KEY_MAX];
    if (!sift__name_key(name, len, kind == ST_NAME_HTTP, key, sizeof key))
        return 0;
    int rc = u->ix->be->put_name(u->ix, flow_id, kind, key);
    u->file_names += rc > 0;
    return rc < 0 ? rc : 0;
}

/* A flow's metadata rows, and the names they hold. */
static int write_meta(update_t *u, int64_t flow_id, const sift_meta_t *m, const sift_flow_t *f)
{
    const sift_meta_row_t *const *rows;
    size_t n = sift_meta_flow_rows(m, f, &rows);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const sift_meta_row_t *r = rows[i];
        rc = u->ix->be->put_meta(u->ix, flow_id, r);
        u->file_rows++;
        for (size_t k = 0; k < u->nnames && rc == 0; k++) {
            const char *v = r->proto == u->names[k].proto ? r->str[u->names[k].slot] : NULL;
            while (v && rc == 0) {
                const char *end = u->names[k].list ? strchr(v, SIFT_META_LIST_SEP) : NULL;
                size_t len = end ? (size_t)(end - v) : strlen(v);
                rc = put_name(u, flow_id, u->names[k].kind, v, len);
                v = end ? end + 1 : NULL;
            }
        }
    }
    return rc;
}

static int write_flows(update_t *u, int64_t file_id, const sift_flows_t *fs, const sift_meta_t *m)
{
    sift_index_t *ix = u->ix;
    const st_backend_t *be = ix->be;
    size_t n = sift_flows_count(fs);
    for (size_t k = 0; k < n; k++) {
        const sift_flow_t *f = sift_flows_at(fs, k);
        char app[2 * SIFT_FLOW_APP_NAME_MAX + 2];
        sift_flows_app_name(fs, f, app, sizeof app);
        int64_t flow_id;
        int rc = be->put_flow(ix, file_id, f, app, &flow_id);
        if (rc == 0 && m)
            rc = write_meta(u, flow_id, m, f);
        const st_posbuf_t *pb = sift_engine_flow_state(u->e, 1, f);
        st_posbuf_t none = {0};
        if (!pb)
            pb = &none;
        for (uint32_t g = 0; g < pb->nsegs && rc == 0; g++) /* spilled segments */
            rc = be->put_spilled(ix, flow_id, g, pb->segs[g]);
        if (rc < 0)
            return rc;
        if (pb->count == 0 && pb->nsegs > 0)
            continue; /* nothing after the last segment */
        uint8_t *blob;
        size_t blen;
        if (sift__pos_encode(pb, u->zctx, &blob, &blen) < 0)
            return sift__ctx_error(ix->ctx, SIFT_ENOMEM, "out of memory");
        rc = be->put_positions(ix, flow_id, pb->nsegs, blob, blen);
        free(blob);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The packets that carry payloads, in blobs of ST_PK_CHUNK. */
static int write_payload_packets(update_t *u, int64_t file_id, const st_pkstream_t *ps)
{
    sift_index_t *ix = u->ix;
    size_t cap = ps->count < ST_PK_CHUNK ? (size_t)ps->count : ST_PK_CHUNK;
    st_pk_t *chunk = malloc((cap ? cap : 1) * sizeof *chunk);
    if (!chunk)
        return sift__ctx_error(ix->ctx, SIFT_ENOMEM, "out of memory");
    const uint8_t *p = ps->buf, *end = ps->buf + ps->len;
    st_pk_t pk = {0};
    int rc = 0;
    for (uint32_t seq = 0; rc == 0;) {
        size_t n = 0;
        while (n < cap && sift__pk_next(&p, end, &pk))
            chunk[n++] = pk;
        if (n == 0)
            break;
        uint8_t *blob;
        size_t blen;
        rc = sift__pk_encode(chunk, n, u->zctx, &blob, &blen);
        if (rc < 0) {
            rc = sift__ctx_error(ix->ctx, rc, "out of memory");
            break;
        }
        rc = ix->be->put_payload_packets(ix, file_id, seq++, blob, blen);
        free(blob);
    }
    free(chunk);
    return rc;
}

/* Distinct payloads: a reference with its count and ord for this file; the bytes once in the
 * store; then the packets that carry them. */
static int write_payloads(update_t *u, int64_t file_id, const st_payloads_t *ps)
{
    sift_index_t *ix = u->ix;
    sift_index_summary_t *sum = u->sum;
    sum->payloads += ps->seen;
    sum->payload_bytes += ps->bytes_seen;
    for (size_t i = 0; ps->mask && i <= ps->mask; i++) {
        const st_payload_t *p = &ps->slots[i];
        if (!p->count)
            continue;
        sum->payloads_distinct++;
        sum->payload_bytes_distinct += p->size;
        bool stored;
        int rc = ix->be->put_payload_ref(ix, file_id, p->hash, p->count, p->ord, &stored);
        if (rc < 0)
            return rc;
        if (stored)
            continue;
        const uint8_t *raw = ps->arena + p->data;
        void *z = NULL;
        size_t zlen = 0;
        int codec = 0;
        if (p->size > PAYLOAD_RAW_MAX) {
            size_t bound = ZSTD_compressBound(p->size);
            z = malloc(bound);
            if (!z)
                return sift__ctx_error(ix->ctx, SIFT_ENOMEM, "out of memory");
            zlen = ZSTD_compressCCtx(u->zctx, z, bound, raw, p->size, 3);
            if (!ZSTD_isError(zlen) && zlen < p->size)
                codec = 1;
        }
        rc = ix->be->put_payload(ix, p->hash, p->size, codec, codec ? z : raw,
                                 codec ? zlen : p->size);
        free(z);
        if (rc < 0)
            return rc;
        sum->payload_bytes_new += p->size;
        sum->payload_bytes_stored += codec ? zlen : p->size;
    }
    return write_payload_packets(u, file_id, &ps->packets);
}

static void link_types(const sift_file_meta_t *m, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m->niface && n + 12 < size; i++) {
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup = dup || m->iface[k].linktype == m->iface[i].linktype;
        if (!dup)
            n += (size_t)snprintf(buf + n, size - n, "%s%u", n ? "," : "", m->iface[i].linktype);
    }
}

/* Writes one file: its record, its flows with positions, its payloads, in one transaction. */
static int write_file(update_t *u, const candidate_t *c, const sift_input_t *in,
                      void *const *states, const char **status, char *msg, size_t msgsize)
{
    const sift_flows_t *fs = states[0]; /* finished by the engine (flows settled) */
    const st_index_state_t *s = states[1];
    const sift_meta_t *m = u->opts->no_meta ? NULL : states[PASS_META];
    sift_info_summary_t iv;
    sift_info_get(states[2], &iv);
    const sift_info_summary_t *info = &iv;
    *status = in->error[0]                           ? "error"
              : in->status < 0 || in->problems_total ? "damaged"
              : in->pass_status                      ? "partial" /* what is there is right */
                                                     : "ok";
    if (in->error[0]) /* event() takes off the "path: " the reader puts first */
        snprintf(msg, msgsize, "%s", in->error);
    else if (in->nproblems)
        snprintf(msg, msgsize, "at byte %llu: %s", (unsigned long long)in->problems[0].offset,
                 in->problems[0].message);
    else if (in->nreports)
        snprintf(msg, msgsize, "%s%s", in->reports[0].message,
                 in->reports[0].code == SIFT_ELIMIT && in->reports[0].pass == 0
                     ? " (raise --memory or --max-flows)"
                     : "");
    char links[128];
    link_types(&in->meta, links, sizeof links);
    st_file_rec_t r = {.path = c->path,
                       .size = c->size,
                       .inode = c->inode,
                       .mtime_ns = c->mtime_ns,
                       .hash_alg = sift_digest_name(u->alg),
                       .fingerprint = c->digest,
                       .format = sift_format_name(in->meta.format),
                       .compression = sift_compression_name(in->meta.compression),
                       .link_types = links,
                       .ts_digits = in->meta.ts_digits,
                       .packets = info->packets,
                       .bytes = info->bytes_captured,
                       .flows = fs ? sift_flows_count(fs) : 0,
                       .timed = info->timed,
                       .first_ns = info->first_ts_ns,
                       .last_ns = info->last_ts_ns,
                       .status = *status,
                       .message = msg,
                       .indexed_at = (int64_t)time(NULL),
                       .vlan_key = u->opts->vlan,
                       .meta = !u->opts->no_meta,
                       .payloads = s && s->cfg.payloads ? 2 : 0};
    sift_index_t *ix = u->ix;
    int64_t file_id;
    int rc = ix->be->begin_file(ix, &r, &file_id);
    if (rc < 0)
        return rc;
    u->file_rows = u->file_names = 0;
    if (fs)
        rc = write_flows(u, file_id, fs, m);
    if (rc == 0 && s && s->cfg.payloads)
        rc = write_payloads(u, file_id, &s->payloads);
    if (rc < 0) {
        ix->be->rollback(ix);
        return rc;
    }
    rc = ix->be->commit(ix); /* rolls back when it fails */
    if (rc == 0) {
        u->sum->meta_rows += u->file_rows;
        u->sum->names += u->file_names;
    }
    return rc;
}

/* One file's results, written by the writer thread. */
typedef struct file_job {
    update_t *u;
    size_t input;
    const sift_input_t *in;
    void *const *states;
} file_job_t;

static int write_job(void *arg)
{
    const file_job_t *j = arg;
    update_t *u = j->u;
    candidate_t *c = u->todo[j->input];
    const sift_flows_t *fs = j->states[0];
    if (u->db_rc)
        return 0;
    const char *status = "error";
    char msg[SIFT_ERRBUF_SIZE] = "";
    int rc = write_file(u, c, j->in, j->states, &status, msg, sizeof msg);
    if (rc < 0) {
        u->db_rc = rc;
        event(u, c->path, SIFT_INDEX_FAILED, "error", sift_ctx_errmsg(u->ix->ctx), 0, 0);
    } else {
        sift_flows_summary_t fv = {0};
        if (fs)
            sift_flows_summary(fs, &fv);
        uint64_t packets = fv.packets, flows = fv.flows;
        u->sum->packets += packets;
        u->sum->flows += flows;
        event(u, c->path, j->in->error[0] ? SIFT_INDEX_FAILED : SIFT_INDEX_INDEXED, status, msg,
              packets, flows);
    }
    return 0;
}

/* From a worker (or the merging thread): the writer writes the file while this waits, so the
 * states stay valid; the engine frees them when this returns. */
static bool input_done(void *user, size_t i, const sift_input_t *in, void *const *states)
{
    update_t *u = user;
    file_job_t job = {u, i, in, states};
    sift__writer_call(&u->writer, write_job, &job);
    return true;
}

static int run_engine(update_t *u)
{
    if (u->ntodo == 0)
        return 0;
    const sift_index_update_opts_t *o = u->opts;
    sift_flows_config_t fc = {.no_app = o->no_app,
                              .table = {.max_flows = o->max_flows, .vlan_in_key = o->vlan}};
    st_index_config_t cfg = {
        .payloads = o->payloads, .writer = &u->writer, .segment_bytes = o->segment_bytes};
    sift_engine_opts_t eo = {.threads = o->threads,
                             .split_bytes = o->range_bytes,
                             .chunk_bytes = o->range_bytes,
                             .input_done = input_done,
                             .input_done_user = u,
                             .progress = o->progress,
                             .progress_user = o->progress_user};
    sift_engine_t *e = NULL;
    int rc = sift_engine_create(&e, u->ix->ctx, &eo);
    /* pass 0: flows; 1: positions and payloads; 2: the file's summary; 3: the metadata */
    if (rc == 0)
        rc = sift_engine_add_pass(e, &sift_flows_pass, &fc) == 0 &&
                     sift_engine_add_pass(e, &sift__index_pass, &cfg) == 1 &&
                     sift_engine_add_pass(e, &sift_info_pass, NULL) == 2 &&
                     (o->no_meta || sift_engine_add_pass(e, &sift_meta_pass, NULL) == PASS_META)
                 ? 0
                 : SIFT_EINTERNAL;
    find_name_fields(u);
    u->e = e;
    size_t added = 0;
    for (size_t i = 0; i < u->ntodo && rc == 0; i++) {
        if (sift_engine_add_input(e, u->todo[i]->path) == 1) /* gone since: not read */
            u->todo[added++] = u->todo[i];
        else
            event(u, u->todo[i]->path, SIFT_INDEX_FAILED, "error", sift_ctx_errmsg(u->ix->ctx), 0,
                  0);
    }
    u->ntodo = added;
    sift_index_t *ix = u->ix;
    bool loading = false;
    if (rc == 0)
        loading = (rc = ix->be->load_begin(ix)) == 0;
    if (rc == 0)
        rc = sift__writer_start(&u->writer, ix, WRITER_QUEUE_BYTES);
    if (rc == 0)
        rc = sift_engine_run(e);
    int wrc = sift__writer_stop(&u->writer);
    if (wrc && rc == 0 && u->db_rc == 0)
        u->db_rc = wrc;
    sift_engine_free(e);
    if (rc == 0)
        rc = u->db_rc;
    if (loading) { /* also after a failure: the index must stay usable */
        int lrc = ix->be->load_end(ix, rc != 0);
        if (rc == 0)
            rc = lrc;
    }
    return rc;
}

int sift_index_update(sift_index_t *ix, const char *const *paths, size_t npaths,
                      const sift_index_update_opts_t *opts, sift_index_summary_t *sum)
{
    static const sift_index_update_opts_t defaults = {0};
    sift_index_summary_t scratch;
    if (!sum)
        sum = &scratch;
    memset(sum, 0, sizeof *sum);
    if (!opts)
        opts = &defaults;
    if (ix->read_only)
        return sift__ctx_error(ix->ctx, SIFT_EINVAL, "%s: opened read-only", ix->path);
    update_t u = {.ix = ix, .opts = opts, .sum = sum};
    if (opts->hash && sift_digest_parse(opts->hash, &u.alg) < 0)
        return sift__ctx_error(ix->ctx, SIFT_EINVAL, "unknown hash '%s': use xxh3 or sha256",
                               opts->hash);
    char **roots = calloc(npaths ? npaths : 1, sizeof *roots);
    int rc = roots ? 0 : SIFT_ENOMEM;
    for (size_t i = 0; i < npaths && rc == 0; i++) {
        int n = sift_inputs_expand(ix->ctx, paths[i], add_candidate, &u, &sum->expanded);
        if (n < 0)
            rc = n;
        char abs[PATH_MAX];
        if (rc == 0 && realpath(paths[i], abs) && !(roots[i] = strdup(abs)))
            rc = SIFT_ENOMEM;
    }
    u.zctx = ZSTD_createCCtx();
    if (!u.zctx && rc == 0)
        rc = SIFT_ENOMEM;
    if (rc == 0)
        rc = triage(&u);
    if (rc == 0)
        rc = run_engine(&u);
    if (rc == 0)
        rc = vanished(&u, roots, npaths);
    if (rc == 0 && (sum->files[SIFT_INDEX_INDEXED] || sum->files[SIFT_INDEX_PRUNED]))
        rc = ix->be->drop_unused_payloads(ix);
    ZSTD_freeCCtx(u.zctx);
    for (size_t i = 0; i < npaths && roots; i++)
        free(roots[i]);
    free(roots);
    for (size_t i = 0; i < u.ncand; i++)
        free(u.cand[i].path);
    free(u.cand);
    free(u.todo);
    if (rc == SIFT_ENOMEM)
        return sift__ctx_error(ix->ctx, rc, "out of memory");
    return rc;
}
