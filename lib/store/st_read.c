/* Reading the index: flow queries, grouping, and extraction of the packets of matching flows
 * from the original files. */
#include "store/store_int.h"

#include <capsift/digest.h>
#include <capsift/outfile.h>
#include <capsift/writer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FLOW_COLUMNS                                                                               \
    "f.id, fi.path, f.ip_version, f.proto, f.src, f.dst, f.sport, f.dport, f.vlan, f.app, "        \
    "f.first_ns, f.last_ns, f.packets_ab, f.packets_ba, f.bytes_ab, f.bytes_ba, f.flags_ab, "      \
    "f.flags_ba, fi.ts_digits"

static const char *order_by(sift_sort_t sort)
{
    switch (sort) {
    case SIFT_SORT_PACKETS:
        return "(f.packets_ab + f.packets_ba) DESC, fi.path, f.first_ns, f.id";
    case SIFT_SORT_BYTES:
        return "(f.bytes_ab + f.bytes_ba) DESC, fi.path, f.first_ns, f.id";
    case SIFT_SORT_START:
        return "f.first_ns, fi.path, f.id";
    case SIFT_SORT_DURATION:
        return "(f.last_ns - f.first_ns) DESC, fi.path, f.first_ns, f.id";
    default:
        return "fi.path, f.first_ns, f.id";
    }
}

static void blob16(sqlite3_stmt *st, int col, uint8_t out[16])
{
    const void *b = sqlite3_column_blob(st, col);
    memset(out, 0, 16);
    if (b && sqlite3_column_bytes(st, col) == 16)
        memcpy(out, b, 16);
}

/* Prepares a statement whose text has the query's condition in place of each "{W}", with the
 * query's values bound for each place. */
static int prepare_where(sift_index_t *ix, const char *sql_tmpl, const sift_query_t *q,
                         sqlite3_stmt **st)
{
    const char *cond = q ? sift_query_sql(q) : "1";
    size_t clen = strlen(cond), copies = 0;
    for (const char *p = strstr(sql_tmpl, "{W}"); p; p = strstr(p + 3, "{W}"))
        copies++;
    char *sql = malloc(strlen(sql_tmpl) + copies * clen + 1);
    if (!sql)
        return sift__ctx_error(ix->ctx, SIFT_ENOMEM, "out of memory");
    char *o = sql;
    for (const char *p = sql_tmpl; *p;) {
        if (strncmp(p, "{W}", 3) == 0) {
            memcpy(o, cond, clen);
            o += clen;
            p += 3;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    int rc = sqlite3_prepare_v2(ix->db, sql, -1, st, NULL);
    free(sql);
    if (rc != SQLITE_OK)
        return sift__db_error(ix, rc, "running the query");
    int n = q ? (int)sift_query_nparams(q) : 0;
    for (size_t k = 0; k < copies && rc == SQLITE_OK; k++)
        rc = sift__db_bind_query(*st, 1 + (int)k * n, q);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        return sift__db_error(ix, rc, "running the query");
    }
    return 0;
}

int sift_index_query(sift_index_t *ix, const sift_query_t *q, sift_sort_t sort, uint64_t limit,
                     sift_flow_row_fn fn, void *user)
{
    char fmt[1024];
    snprintf(fmt, sizeof fmt,
             "SELECT " FLOW_COLUMNS " FROM flows f JOIN files fi ON fi.id = f.file_id "
             "WHERE {W} ORDER BY %s LIMIT %lld",
             order_by(sort), limit ? (long long)limit : -1LL);
    sqlite3_stmt *st;
    int rc = prepare_where(ix, fmt, q, &st);
    if (rc < 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sift_flow_row_t r;
        r.id = sqlite3_column_int64(st, 0);
        r.file = (const char *)sqlite3_column_text(st, 1);
        r.ip_version = (uint8_t)sqlite3_column_int(st, 2);
        r.proto = (uint8_t)sqlite3_column_int(st, 3);
        blob16(st, 4, r.src);
        blob16(st, 5, r.dst);
        r.sport = (uint16_t)sqlite3_column_int(st, 6);
        r.dport = (uint16_t)sqlite3_column_int(st, 7);
        r.vlan = (uint16_t)sqlite3_column_int(st, 8);
        r.app = (const char *)sqlite3_column_text(st, 9);
        r.first_ns = sqlite3_column_int64(st, 10);
        r.last_ns = sqlite3_column_int64(st, 11);
        r.packets_ab = (uint64_t)sqlite3_column_int64(st, 12);
        r.packets_ba = (uint64_t)sqlite3_column_int64(st, 13);
        r.bytes_ab = (uint64_t)sqlite3_column_int64(st, 14);
        r.bytes_ba = (uint64_t)sqlite3_column_int64(st, 15);
        r.flags_ab = (uint8_t)sqlite3_column_int(st, 16);
        r.flags_ba = (uint8_t)sqlite3_column_int(st, 17);
        r.ts_digits = (uint8_t)sqlite3_column_int(st, 18);
        int stop = fn(user, &r);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    int err = rc == SQLITE_DONE ? 0 : sift__db_error(ix, rc, "running the query");
    sqlite3_finalize(st);
    return err;
}

int sift_index_group(sift_index_t *ix, const sift_query_t *q, sift_group_t by, sift_sort_t sort,
                     uint64_t limit, int (*fn)(void *user, const sift_group_row_t *row), void *user)
{
    static const char sums[] = "COUNT(*), SUM(f.packets_ab + f.packets_ba), "
                               "SUM(f.bytes_ab + f.bytes_ba), MIN(f.first_ns), MAX(f.last_ns)";
    const char *order = sort == SIFT_SORT_PACKETS    ? "3 DESC, 1"
                        : sort == SIFT_SORT_BYTES    ? "4 DESC, 1"
                        : sort == SIFT_SORT_START    ? "5, 1"
                        : sort == SIFT_SORT_DURATION ? "6 - 5 DESC, 1"
                                                     : "1";
    char fmt[2048];
    const char *from = "FROM flows f JOIN files fi ON fi.id = f.file_id WHERE {W}";
    switch (by) {
    case SIFT_GROUP_HOST: /* each address once per flow it took part in */
        snprintf(fmt, sizeof fmt,
                 "SELECT a, COUNT(*), SUM(p), SUM(b), MIN(t0), MAX(t1) FROM ("
                 "SELECT f.src AS a, f.packets_ab + f.packets_ba AS p, f.bytes_ab + f.bytes_ba "
                 "AS b, f.first_ns AS t0, f.last_ns AS t1 %s UNION ALL "
                 "SELECT f.dst, f.packets_ab + f.packets_ba, f.bytes_ab + f.bytes_ba, f.first_ns, "
                 "f.last_ns %s) GROUP BY a ORDER BY %s LIMIT %lld",
                 from, from, order, limit ? (long long)limit : -1LL);
        break;
    case SIFT_GROUP_PORT:
        snprintf(fmt, sizeof fmt,
                 "SELECT f.proto * 65536 + f.dport, %s %s GROUP BY f.proto, f.dport ORDER BY %s "
                 "LIMIT %lld",
                 sums, from, order, limit ? (long long)limit : -1LL);
        break;
    case SIFT_GROUP_APP:
    case SIFT_GROUP_FILE:
        snprintf(fmt, sizeof fmt, "SELECT %s, %s %s GROUP BY 1 ORDER BY %s LIMIT %lld",
                 by == SIFT_GROUP_APP ? "f.app" : "fi.path", sums, from, order,
                 limit ? (long long)limit : -1LL);
        break;
    default:
        return sift__ctx_error(ix->ctx, SIFT_EINVAL, "unknown grouping");
    }
    sqlite3_stmt *st;
    int rc = prepare_where(ix, fmt, q, &st);
    if (rc < 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char key[128];
        if (by == SIFT_GROUP_HOST) {
            uint8_t a[16];
            blob16(st, 0, a);
            sift_format_addr(a, key, sizeof key);
        } else if (by == SIFT_GROUP_PORT) {
            int64_t v = sqlite3_column_int64(st, 0);
            int proto = (int)(v >> 16), port = (int)(v & 0xffff);
            const char *name = proto == 6     ? "tcp"
                               : proto == 17  ? "udp"
                               : proto == 132 ? "sctp"
                                              : NULL;
            if (name)
                snprintf(key, sizeof key, "%s/%d", name, port);
            else
                snprintf(key, sizeof key, "proto%d/%d", proto, port);
        } else {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(key, sizeof key, "%s", t && *t ? (const char *)t : "(none)");
        }
        sift_group_row_t r = {key,
                              (uint64_t)sqlite3_column_int64(st, 1),
                              (uint64_t)sqlite3_column_int64(st, 2),
                              (uint64_t)sqlite3_column_int64(st, 3),
                              sqlite3_column_int64(st, 4),
                              sqlite3_column_int64(st, 5)};
        int stop = fn(user, &r);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    int err = rc == SQLITE_DONE ? 0 : sift__db_error(ix, rc, "running the query");
    sqlite3_finalize(st);
    return err;
}

/* ---- extraction ---- */

typedef struct ex_file {
    char *path;
    uint64_t size, inode;
    int64_t mtime_ns;
    char alg[16];
    char fingerprint[SIFT_DIGEST_HEX_MAX];
    uint64_t *offs; /* wanted record offsets, sorted */
    size_t n, cap, next;
    sift_reader_t *r;
    sift_record_t rec; /* the current wanted record (valid when has) */
    bool has;
} ex_file_t;

typedef struct extract {
    sift_index_t *ix;
    ex_file_t *files;
    size_t nfiles, cap;
    uint32_t linktypes[16];
    unsigned nlinks;
    bool nanoseconds;
} extract_t;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static ex_file_t *ex_file(extract_t *x, sqlite3_stmt *st)
{
    const char *path = (const char *)sqlite3_column_text(st, 0);
    if (x->nfiles && strcmp(x->files[x->nfiles - 1].path, path) == 0)
        return &x->files[x->nfiles - 1];
    if (x->nfiles == x->cap) {
        size_t ncap = x->cap ? x->cap * 2 : 8;
        ex_file_t *n = realloc(x->files, ncap * sizeof *n);
        if (!n)
            return NULL;
        x->files = n;
        x->cap = ncap;
    }
    ex_file_t *f = &x->files[x->nfiles];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path)))
        return NULL;
    x->nfiles++;
    f->size = (uint64_t)sqlite3_column_int64(st, 1);
    f->mtime_ns = sqlite3_column_int64(st, 2);
    f->inode = (uint64_t)sqlite3_column_int64(st, 3);
    snprintf(f->alg, sizeof f->alg, "%s", (const char *)sqlite3_column_text(st, 4));
    snprintf(f->fingerprint, sizeof f->fingerprint, "%s", (const char *)sqlite3_column_text(st, 5));
    /* link types of the file, e.g. "1,113" */
    const char *lt = (const char *)sqlite3_column_text(st, 6);
    for (const char *p = lt; p && *p;) {
        uint32_t v = (uint32_t)strtoul(p, NULL, 10);
        unsigned k = 0;
        while (k < x->nlinks && x->linktypes[k] != v)
            k++;
        if (k == x->nlinks && x->nlinks < 16)
            x->linktypes[x->nlinks++] = v;
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    if (sqlite3_column_int(st, 7) > 6)
        x->nanoseconds = true;
    return f;
}

/* Collects the wanted offsets of every matching flow, grouped by file. */
static int ex_collect(extract_t *x, const sift_query_t *q, sift_extract_summary_t *sum)
{
    sqlite3_stmt *st;
    int rc = prepare_where(x->ix,
                           "SELECT fi.path, fi.size, fi.mtime_ns, fi.inode, fi.hash_alg, "
                           "fi.fingerprint, fi.link_types, fi.ts_digits, p.data, p.flow_id "
                           "FROM flows f JOIN files fi ON fi.id = f.file_id "
                           "JOIN positions p ON p.flow_id = f.id WHERE {W} "
                           "ORDER BY fi.path, p.flow_id",
                           q, &st);
    if (rc < 0)
        return rc;
    int64_t last_flow = -1; /* a flow's positions may come in several segments (rows) */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ex_file_t *f = ex_file(x, st);
        if (!f) {
            sqlite3_finalize(st);
            return sift__ctx_error(x->ix->ctx, SIFT_ENOMEM, "out of memory");
        }
        uint64_t *offs;
        int64_t *ts;
        size_t n;
        int drc = sift__pos_decode(sqlite3_column_blob(st, 8), (size_t)sqlite3_column_bytes(st, 8),
                                   &offs, &ts, &n);
        if (drc < 0) {
            sqlite3_finalize(st);
            return sift__ctx_error(x->ix->ctx, SIFT_EDB,
                                   "%s: packet positions of a flow of %s are damaged; index the "
                                   "file again",
                                   x->ix->path, f->path);
        }
        if (f->n + n > f->cap) {
            size_t ncap = (f->cap ? f->cap * 2 : 1024) + n;
            uint64_t *no = realloc(f->offs, ncap * sizeof *no);
            if (!no) {
                free(offs);
                free(ts);
                sqlite3_finalize(st);
                return sift__ctx_error(x->ix->ctx, SIFT_ENOMEM, "out of memory");
            }
            f->offs = no;
            f->cap = ncap;
        }
        memcpy(f->offs + f->n, offs, n * sizeof *offs);
        f->n += n;
        int64_t flow = sqlite3_column_int64(st, 9);
        sum->flows += flow != last_flow;
        last_flow = flow;
        free(offs);
        free(ts);
    }
    int err = rc == SQLITE_DONE ? 0 : sift__db_error(x->ix, rc, "running the query");
    sqlite3_finalize(st);
    for (size_t i = 0; i < x->nfiles; i++)
        qsort(x->files[i].offs, x->files[i].n, sizeof *x->files[i].offs, cmp_u64);
    return err;
}

/* Refuses a source that changed since it was indexed: trusted while size, mtime and inode are
 * unchanged; otherwise its fingerprint must still match. */
static int ex_check(extract_t *x, const ex_file_t *f)
{
    struct stat st;
    if (stat(f->path, &st) != 0)
        return sift__ctx_error(x->ix->ctx, SIFT_ESTALE,
                               "%s: the file is gone since it was indexed; nothing written",
                               f->path);
    int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if ((uint64_t)st.st_size == f->size && mtime == f->mtime_ns && (uint64_t)st.st_ino == f->inode)
        return 0;
    sift_digest_alg_t alg;
    char hex[SIFT_DIGEST_HEX_MAX], err[SIFT_ERRBUF_SIZE];
    if (sift_digest_parse(f->alg, &alg) < 0 || sift_digest_file(f->path, alg, hex, err) < 0 ||
        strcmp(hex, f->fingerprint) != 0)
        return sift__ctx_error(x->ix->ctx, SIFT_ESTALE,
                               "%s: the file changed since it was indexed (its %s fingerprint "
                               "differs); index it again before extracting; nothing written",
                               f->path, f->alg);
    return 0;
}

/* Advances a file's reader to its next wanted record. */
static int ex_advance(extract_t *x, ex_file_t *f)
{
    f->has = false;
    if (f->next == f->n)
        return 0;
    uint64_t want = f->offs[f->next];
    int rc;
    while ((rc = sift_reader_next(f->r, &f->rec)) == 1) {
        if (f->rec.offset < want)
            continue;
        if (f->rec.offset > want)
            break;
        f->has = true;
        do /* the same packet listed twice is written once */
            f->next++;
        while (f->next < f->n && f->offs[f->next] == want);
        return 0;
    }
    return sift__ctx_error(x->ix->ctx, SIFT_ESTALE,
                           "%s: no packet at byte %llu where the index has one; index the file "
                           "again",
                           f->path, (unsigned long long)want);
}

static void ex_free(extract_t *x)
{
    for (size_t i = 0; i < x->nfiles; i++) {
        sift_reader_close(x->files[i].r);
        free(x->files[i].path);
        free(x->files[i].offs);
    }
    free(x->files);
}

/* Merges the files' wanted records into out in timestamp order (within one file, file order).
 * name, when known, prefixes a write error. */
static int ex_write(extract_t *x, FILE *out, const char *name, sift_extract_summary_t *sum)
{
    sift_reader_opts_t ro = {.buffer_size = 256 * 1024};
    for (size_t i = 0; i < x->nfiles; i++) {
        ex_file_t *f = &x->files[i];
        if (sift_reader_open(&f->r, x->ix->ctx, f->path, &ro) < 0)
            return SIFT_EIO;
        int rc = ex_advance(x, f);
        if (rc < 0)
            return rc;
    }
    sum->files = x->nfiles;
    sum->pcapng = x->nlinks > 1;
    sift_writer_opts_t wo = {.pcapng = sum->pcapng,
                             .nanoseconds = x->nanoseconds,
                             .linktype = x->nlinks ? x->linktypes[0] : 1};
    char err[SIFT_ERRBUF_SIZE];
    sift_writer_t *w;
    int rc = sift_writer_open(&w, out, &wo, err);
    if (rc < 0)
        return sift__ctx_error(x->ix->ctx, rc, "%s", err);
    for (;;) {
        ex_file_t *best = NULL;
        for (size_t i = 0; i < x->nfiles; i++)
            if (x->files[i].has && (!best || x->files[i].rec.ts_ns < best->rec.ts_ns))
                best = &x->files[i];
        if (!best)
            break;
        rc = sift_writer_write(w, &best->rec, err);
        if (rc < 0)
            break;
        sum->packets++;
        sum->bytes += best->rec.caplen;
        rc = ex_advance(x, best);
        if (rc < 0) {
            sift_writer_close(w, NULL);
            return rc;
        }
    }
    int crc = sift_writer_close(w, rc < 0 ? NULL : err);
    if (rc == 0)
        rc = crc;
    if (rc < 0)
        return name ? sift__ctx_error(x->ix->ctx, rc, "%s: %s", name, err)
                    : sift__ctx_error(x->ix->ctx, rc, "%s", err);
    return 0;
}

static int extract_to(sift_index_t *ix, const sift_query_t *q, FILE *out, const char *name,
                      sift_extract_summary_t *sum)
{
    sift_extract_summary_t scratch;
    if (!sum)
        sum = &scratch;
    memset(sum, 0, sizeof *sum);
    extract_t x = {.ix = ix};
    int rc = ex_collect(&x, q, sum);
    for (size_t i = 0; i < x.nfiles && rc == 0; i++)
        rc = ex_check(&x, &x.files[i]);
    if (rc == 0)
        rc = ex_write(&x, out, name, sum);
    ex_free(&x);
    return rc;
}

int sift_index_extract(sift_index_t *ix, const sift_query_t *q, FILE *out,
                       sift_extract_summary_t *sum)
{
    return extract_to(ix, q, out, NULL, sum);
}

/* Every file the index names, and the database itself: an output must be none of them. */
static int protected_paths(sift_index_t *ix, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(ix->db, "SELECT path FROM files", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sift__db_error(ix, rc, "reading its files");
    static const char *const db_suffix[] = {"", "-wal", "-shm"};
    size_t cap = 16;
    char **v = malloc(cap * sizeof *v);
    int err = v ? 0 : SIFT_ENOMEM;
    for (size_t i = 0; i < 3 && !err; i++) {
        size_t len = strlen(ix->path) + 5;
        if (!(v[*n] = malloc(len)))
            err = SIFT_ENOMEM;
        else
            snprintf(v[(*n)++], len, "%s%s", ix->path, db_suffix[i]);
    }
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            char **nv = realloc(v, 2 * cap * sizeof *nv);
            if (!nv) {
                err = SIFT_ENOMEM;
                break;
            }
            v = nv;
            cap *= 2;
        }
        if (!(v[*n] = strdup((const char *)sqlite3_column_text(st, 0))))
            err = SIFT_ENOMEM;
        else
            (*n)++;
    }
    if (!err && rc != SQLITE_DONE)
        err = sift__db_error(ix, rc, "reading its files");
    else if (err == SIFT_ENOMEM)
        err = sift__ctx_error(ix->ctx, SIFT_ENOMEM, "out of memory");
    sqlite3_finalize(st);
    *out = v;
    return err;
}

int sift_index_extract_file(sift_index_t *ix, const sift_query_t *q, const char *path, bool force,
                            sift_extract_summary_t *sum)
{
    char **prot;
    size_t nprot;
    int rc = protected_paths(ix, &prot, &nprot);
    sift_outfile_t *of = NULL;
    if (rc == 0) {
        sift_outfile_opts_t oo = {
            .force = force, .protect = (const char *const *)prot, .nprotect = nprot};
        rc = sift_outfile_open(&of, ix->ctx, path, &oo);
    }
    for (size_t i = 0; i < nprot; i++)
        free(prot[i]);
    free(prot);
    if (rc == 0)
        rc = extract_to(ix, q, sift_outfile_stream(of), path, sum);
    if (rc == 0)
        return sift_outfile_commit(of);
    sift_outfile_abort(of);
    return rc;
}
