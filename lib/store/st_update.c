/* sift_index_update: decides what to read (stat, then fingerprint), runs the index pass over it
 * on the engine, and writes each file in one transaction as soon as it is read. */
#include "store/store_int.h"

#include <capsift/digest.h>
#include <capsift/info.h>

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

typedef struct update {
    sift_index_t *ix;
    const sift_index_update_opts_t *opts;
    sift_digest_alg_t alg;
    sift_index_summary_t *sum;
    candidate_t *cand;
    size_t ncand, cap;
    candidate_t **todo; /* the candidates to read, in engine input order */
    size_t ntodo;
    int db_rc;        /* the first database error: later files are not written */
    ZSTD_CCtx *zctx;  /* for position blobs and payloads (the writer thread's) */
    sift_engine_t *e; /* the run: pass 0 flows, 1 positions, 2 the file's summary */
    sqlite3_stmt *ins_file, *del_flows, *del_refs, *ins_flow, *ins_pos, *mv_seg, *del_seg, *ins_ref,
        *has_payload, *ins_payload;
    st_writer_t writer; /* the only thread that writes the database during the run */
} update_t;

extern const char sift__index_sql[];
extern const char sift__drop_index_sql[];

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
 * same fingerprint: no, only the stat is updated; otherwise yes. */
static int triage(update_t *u)
{
    sift_index_t *ix = u->ix;
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int rc = sqlite3_prepare_v2(ix->db,
                                "SELECT id, size, mtime_ns, hash_alg, fingerprint FROM files "
                                "WHERE path = ?",
                                -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(ix->db,
                                "UPDATE files SET size = ?, mtime_ns = ?, inode = ? WHERE id = ?",
                                -1, &upd, NULL);
    u->todo = calloc(u->ncand ? u->ncand : 1, sizeof *u->todo);
    if (rc != SQLITE_OK || !u->todo) {
        sqlite3_finalize(sel);
        sqlite3_finalize(upd);
        return rc != SQLITE_OK ? sift__db_error(ix, rc, "reading it") : SIFT_ENOMEM;
    }
    int err = 0;
    for (size_t i = 0; i < u->ncand && err == 0; i++) {
        candidate_t *c = &u->cand[i];
        sqlite3_reset(sel);
        sqlite3_bind_text(sel, 1, c->path, -1, SQLITE_STATIC);
        rc = sqlite3_step(sel);
        bool known = rc == SQLITE_ROW;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            err = sift__db_error(ix, rc, "reading it");
            break;
        }
        if (known && (uint64_t)sqlite3_column_int64(sel, 1) == c->size &&
            sqlite3_column_int64(sel, 2) == c->mtime_ns) {
            event(u, c->path, SIFT_INDEX_SKIPPED, NULL, NULL, 0, 0);
            continue;
        }
        char errbuf[SIFT_ERRBUF_SIZE];
        if (sift_digest_file(c->path, u->alg, c->digest, errbuf) < 0) {
            event(u, c->path, SIFT_INDEX_FAILED, "error", errbuf, 0, 0);
            continue;
        }
        if (known &&
            strcmp((const char *)sqlite3_column_text(sel, 3), sift_digest_name(u->alg)) == 0 &&
            strcmp((const char *)sqlite3_column_text(sel, 4), c->digest) == 0) {
            int64_t id = sqlite3_column_int64(sel, 0);
            sqlite3_reset(upd);
            sqlite3_bind_int64(upd, 1, (int64_t)c->size);
            sqlite3_bind_int64(upd, 2, c->mtime_ns);
            sqlite3_bind_int64(upd, 3, (int64_t)c->inode);
            sqlite3_bind_int64(upd, 4, id);
            rc = sqlite3_step(upd);
            if (rc != SQLITE_DONE)
                err = sift__db_error(ix, rc, "updating a file's record");
            else
                event(u, c->path, SIFT_INDEX_SAME_CONTENT, NULL, NULL, 0, 0);
            continue;
        }
        u->todo[u->ntodo++] = c;
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return err;
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

/* Files in the index under the given paths that are no longer on disk: reported, and removed
 * with prune. */
static int vanished(update_t *u, char *const *roots, size_t nroots)
{
    sift_index_t *ix = u->ix;
    sqlite3_stmt *sel = NULL, *del = NULL;
    int rc = sqlite3_prepare_v2(ix->db, "SELECT id, path FROM files ORDER BY path", -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(ix->db, "DELETE FROM files WHERE id = ?", -1, &del, NULL);
    int err = rc == SQLITE_OK ? 0 : sift__db_error(ix, rc, "reading it");
    if (err == 0 && u->opts->prune)
        err = sift__db_exec(ix, "BEGIN IMMEDIATE", "removing vanished files");
    while (err == 0 && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(sel, 1);
        struct stat st;
        if (!under(path, roots, nroots) || stat(path, &st) == 0)
            continue;
        if (u->opts->prune) {
            sqlite3_reset(del);
            sqlite3_bind_int64(del, 1, sqlite3_column_int64(sel, 0));
            if ((rc = sqlite3_step(del)) != SQLITE_DONE) {
                err = sift__db_error(ix, rc, "removing vanished files");
                break;
            }
        }
        event(u, path, u->opts->prune ? SIFT_INDEX_PRUNED : SIFT_INDEX_VANISHED, NULL,
              u->opts->prune ? "removed from the index" : "no longer on disk; kept (see --prune)",
              0, 0);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = sift__db_error(ix, rc, "reading it");
    if (u->opts->prune)
        err = err == 0 ? sift__db_exec(ix, "COMMIT", "removing vanished files")
                       : (sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL), err);
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    return err;
}

static int prepare_writes(update_t *u)
{
    static const struct {
        size_t offset;
        const char *sql;
    } stmts[] = {
        {offsetof(update_t, ins_file),
         "INSERT INTO files(path, size, mtime_ns, inode, hash_alg, fingerprint, format, "
         "compression, link_types, ts_digits, packets, bytes, first_ns, last_ns, flows, status, "
         "message, indexed_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
         "ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, "
         "inode=excluded.inode, hash_alg=excluded.hash_alg, fingerprint=excluded.fingerprint, "
         "format=excluded.format, compression=excluded.compression, "
         "link_types=excluded.link_types, ts_digits=excluded.ts_digits, "
         "packets=excluded.packets, bytes=excluded.bytes, first_ns=excluded.first_ns, "
         "last_ns=excluded.last_ns, flows=excluded.flows, status=excluded.status, "
         "message=excluded.message, indexed_at=excluded.indexed_at RETURNING id"},
        {offsetof(update_t, del_flows), "DELETE FROM flows WHERE file_id = ?"},
        {offsetof(update_t, del_refs), "DELETE FROM payload_refs WHERE file_id = ?"},
        {offsetof(update_t, ins_flow),
         "INSERT INTO flows(file_id, ip_version, proto, src, dst, sport, dport, vlan, app, "
         "first_ns, last_ns, packets_ab, packets_ba, bytes_ab, bytes_ba, flags_ab, flags_ba) "
         "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
        {offsetof(update_t, ins_pos), "INSERT INTO positions(flow_id, seq, data) VALUES(?,?,?)"},
        {offsetof(update_t, mv_seg),
         "INSERT INTO positions(flow_id, seq, data) SELECT ?, ?, data FROM temp.spill "
         "WHERE id = ?"},
        {offsetof(update_t, del_seg), "DELETE FROM temp.spill WHERE id = ?"},
        {offsetof(update_t, ins_ref),
         "INSERT INTO payload_refs(file_id, hash, count) VALUES(?,?,?)"},
        {offsetof(update_t, has_payload), "SELECT 1 FROM payloads WHERE hash = ?"},
        {offsetof(update_t, ins_payload),
         "INSERT INTO payloads(hash, size, codec, data) VALUES(?,?,?,?)"},
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        sqlite3_stmt **st = (sqlite3_stmt **)(void *)((char *)u + stmts[i].offset);
        int rc =
            sqlite3_prepare_v3(u->ix->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
        if (rc != SQLITE_OK)
            return sift__db_error(u->ix, rc, "preparing to write");
    }
    return 0;
}

static void finalize_writes(update_t *u)
{
    sqlite3_stmt *all[] = {u->ins_file, u->del_flows, u->del_refs, u->ins_flow,    u->ins_pos,
                           u->mv_seg,   u->del_seg,   u->ins_ref,  u->has_payload, u->ins_payload};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
}

/* Binds and steps a statement that returns no row. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int write_flows(update_t *u, int64_t file_id, const sift_flows_t *fs)
{
    size_t n = sift_flows_count(fs);
    for (size_t k = 0; k < n; k++) {
        const sift_flow_t *f = sift_flows_at(fs, k);
        char app[2 * SIFT_FLOW_APP_NAME_MAX + 2];
        sift_flows_app_name(fs, f, app, sizeof app);
        sqlite3_stmt *st = u->ins_flow;
        sqlite3_bind_int64(st, 1, file_id);
        sqlite3_bind_int(st, 2, f->key.ip_version);
        sqlite3_bind_int(st, 3, f->key.proto);
        sqlite3_bind_blob(st, 4, sift_flow_addr_a(f), 16, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, sift_flow_addr_b(f), 16, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, sift_flow_port_a(f));
        sqlite3_bind_int(st, 7, sift_flow_port_b(f));
        sqlite3_bind_int(st, 8, f->key.vlan);
        sqlite3_bind_text(st, 9, app, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 10, f->first_ns);
        sqlite3_bind_int64(st, 11, f->last_ns);
        sqlite3_bind_int64(st, 12, (int64_t)f->packets[SIFT_FLOW_AB]);
        sqlite3_bind_int64(st, 13, (int64_t)f->packets[SIFT_FLOW_BA]);
        sqlite3_bind_int64(st, 14, (int64_t)f->bytes[SIFT_FLOW_AB]);
        sqlite3_bind_int64(st, 15, (int64_t)f->bytes[SIFT_FLOW_BA]);
        sqlite3_bind_int(st, 16, f->tcp_flags[SIFT_FLOW_AB]);
        sqlite3_bind_int(st, 17, f->tcp_flags[SIFT_FLOW_BA]);
        int rc = step_done(st);
        if (rc != SQLITE_OK)
            return rc;
        int64_t flow_id = sqlite3_last_insert_rowid(u->ix->db);
        const st_posbuf_t *pb = sift_engine_flow_state(u->e, 1, f);
        st_posbuf_t none = {0};
        if (!pb)
            pb = &none;
        for (uint32_t g = 0; g < pb->nsegs && rc == SQLITE_OK; g++) { /* spilled segments */
            sqlite3_bind_int64(u->mv_seg, 1, flow_id);
            sqlite3_bind_int64(u->mv_seg, 2, g);
            sqlite3_bind_int64(u->mv_seg, 3, (int64_t)pb->segs[g]);
            rc = step_done(u->mv_seg);
            if (rc == SQLITE_OK && sqlite3_changes(u->ix->db) != 1)
                rc = SQLITE_CORRUPT; /* the segment is not where the writer put it */
            sqlite3_bind_int64(u->del_seg, 1, (int64_t)pb->segs[g]);
            if (rc == SQLITE_OK)
                rc = step_done(u->del_seg);
        }
        if (rc != SQLITE_OK)
            return rc;
        if (pb->count == 0 && pb->nsegs > 0)
            continue; /* nothing after the last segment */
        uint8_t *blob;
        size_t blen;
        if (sift__pos_encode(pb, u->zctx, &blob, &blen) < 0)
            return SQLITE_NOMEM;
        sqlite3_bind_int64(u->ins_pos, 1, flow_id);
        sqlite3_bind_int64(u->ins_pos, 2, pb->nsegs);
        sqlite3_bind_blob(u->ins_pos, 3, blob, (int)blen, free);
        rc = step_done(u->ins_pos);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* Distinct payloads: a reference with its count for this file; the bytes once in the store. */
static int write_payloads(update_t *u, int64_t file_id, const st_payloads_t *ps)
{
    sift_index_summary_t *sum = u->sum;
    sum->payloads += ps->seen;
    sum->payload_bytes += ps->bytes_seen;
    for (size_t i = 0; ps->mask && i <= ps->mask; i++) {
        const st_payload_t *p = &ps->slots[i];
        if (!p->count)
            continue;
        sum->payloads_distinct++;
        sum->payload_bytes_distinct += p->size;
        sqlite3_bind_int64(u->ins_ref, 1, file_id);
        sqlite3_bind_blob(u->ins_ref, 2, p->hash, 16, SQLITE_STATIC);
        sqlite3_bind_int64(u->ins_ref, 3, p->count);
        int rc = step_done(u->ins_ref);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_bind_blob(u->has_payload, 1, p->hash, 16, SQLITE_STATIC);
        rc = sqlite3_step(u->has_payload);
        sqlite3_reset(u->has_payload);
        if (rc == SQLITE_ROW)
            continue;
        if (rc != SQLITE_DONE)
            return rc;
        const uint8_t *raw = ps->arena + p->data;
        void *z = NULL;
        size_t zlen = 0;
        int codec = 0;
        if (p->size > PAYLOAD_RAW_MAX) {
            size_t bound = ZSTD_compressBound(p->size);
            z = malloc(bound);
            if (!z)
                return SQLITE_NOMEM;
            zlen = ZSTD_compressCCtx(u->zctx, z, bound, raw, p->size, 3);
            if (!ZSTD_isError(zlen) && zlen < p->size)
                codec = 1;
        }
        sqlite3_bind_blob(u->ins_payload, 1, p->hash, 16, SQLITE_STATIC);
        sqlite3_bind_int64(u->ins_payload, 2, p->size);
        sqlite3_bind_int(u->ins_payload, 3, codec);
        sqlite3_bind_blob(u->ins_payload, 4, codec ? z : raw, (int)(codec ? zlen : p->size),
                          SQLITE_STATIC);
        rc = step_done(u->ins_payload);
        free(z);
        if (rc != SQLITE_OK)
            return rc;
        sum->payload_bytes_new += p->size;
        sum->payload_bytes_stored += codec ? zlen : p->size;
    }
    return SQLITE_OK;
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
                      const sift_flows_t *fs, const st_index_state_t *s, const sift_info_t *info,
                      const char **status, char *msg, size_t msgsize)
{
    sqlite3 *db = u->ix->db;
    static const sift_info_t none = {0};
    if (!info)
        info = &none;
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
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_stmt *st = u->ins_file;
    sqlite3_bind_text(st, 1, c->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)c->size);
    sqlite3_bind_int64(st, 3, c->mtime_ns);
    sqlite3_bind_int64(st, 4, (int64_t)c->inode);
    sqlite3_bind_text(st, 5, sift_digest_name(u->alg), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, c->digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, sift_format_name(in->meta.format), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, sift_compression_name(in->meta.compression), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, links, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 10, in->meta.ts_digits);
    sqlite3_bind_int64(st, 11, (int64_t)info->packets);
    sqlite3_bind_int64(st, 12, (int64_t)info->bytes_captured);
    if (info->timed) {
        sqlite3_bind_int64(st, 13, info->first_ts_ns);
        sqlite3_bind_int64(st, 14, info->last_ts_ns);
    } else {
        sqlite3_bind_null(st, 13);
        sqlite3_bind_null(st, 14);
    }
    sqlite3_bind_int64(st, 15, fs ? (int64_t)sift_flows_count(fs) : 0);
    sqlite3_bind_text(st, 16, *status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 17, msg, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 18, (int64_t)time(NULL));
    rc = sqlite3_step(st);
    int64_t file_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(u->del_flows, 1, file_id);
        rc = step_done(u->del_flows);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(u->del_refs, 1, file_id);
        rc = step_done(u->del_refs);
    }
    if (rc == SQLITE_OK && fs)
        rc = write_flows(u, file_id, fs);
    if (rc == SQLITE_OK && s && s->cfg.payloads)
        rc = write_payloads(u, file_id, &s->payloads);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
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
    const sift_flows_t *fs = j->states[0]; /* finished by the engine (flows settled) */
    const st_index_state_t *s = j->states[1];
    if (u->db_rc)
        return 0;
    const char *status = "error";
    char msg[SIFT_ERRBUF_SIZE] = "";
    int rc = write_file(u, c, j->in, fs, s, j->states[2], &status, msg, sizeof msg);
    if (rc != SQLITE_OK) {
        u->db_rc = sift__db_error(u->ix, rc, "writing the index");
        event(u, c->path, SIFT_INDEX_FAILED, "error", sift_ctx_errmsg(u->ix->ctx), 0, 0);
    } else {
        uint64_t packets = fs ? fs->packets : 0, flows = fs ? sift_flows_count(fs) : 0;
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
    sift_flows_config_t fc = {.no_app = o->no_app, .table = {.max_flows = o->max_flows}};
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
    if (rc == 0) /* pass 0: flows; 1: positions and payloads; 2: the file's summary */
        rc = sift_engine_add_pass(e, &sift_flows_pass, &fc) == 0 &&
                     sift_engine_add_pass(e, &sift__index_pass, &cfg) == 1 &&
                     sift_engine_add_pass(e, &sift_info_pass, NULL) == 2
                 ? 0
                 : SIFT_EINTERNAL;
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
    bool bulk = false;
    if (rc == 0) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(u->ix->db, "SELECT 1 FROM flows LIMIT 1", -1, &st, NULL) ==
            SQLITE_OK)
            bulk = sqlite3_step(st) == SQLITE_DONE; /* empty: build the indexes after loading */
        sqlite3_finalize(st);
        if (bulk)
            rc = sift__db_exec(u->ix, sift__drop_index_sql, "preparing a bulk load");
    }
    if (rc == 0)
        rc = sift__writer_start(&u->writer, u->ix, WRITER_QUEUE_BYTES);
    if (rc == 0)
        rc = prepare_writes(u);
    if (rc == 0)
        rc = sift_engine_run(e);
    int wrc = sift__writer_stop(&u->writer);
    if (wrc && rc == 0 && u->db_rc == 0)
        u->db_rc = sift__db_error(u->ix, wrc, "spilling packet positions");
    finalize_writes(u);
    sift_engine_free(e);
    if (rc == 0)
        rc = u->db_rc;
    if (bulk) { /* also after a failure: the index must stay usable */
        int irc = sift__db_exec(u->ix, sift__index_sql, "building the indexes");
        if (rc == 0)
            rc = irc;
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
        rc = sift__db_exec(ix,
                           "DELETE FROM payloads WHERE hash NOT IN "
                           "(SELECT hash FROM payload_refs)",
                           "removing unused payloads");
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
