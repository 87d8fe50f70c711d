/* The SQLite backend's reading side: flow queries, grouping, the positions of matching flows
 * and the list of indexed files. The query language compiles to an SQL condition
 * (sift_query_sql) with bound values, placed in each statement here. */
#include "flow/flow_int.h"
#include "store/st_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bind_query(sqlite3_stmt *st, int first, const sift_query_t *q)
{
    size_t n = q ? sift_query_nparams(q) : 0;
    for (size_t i = 0; i < n; i++) {
        const sift_query_param_t *p = sift_query_param(q, i);
        int col = first + (int)i;
        int rc;
        if (p->kind == 'i')
            rc = sqlite3_bind_int64(st, col, p->i);
        else if (p->kind == 'b')
            rc = sqlite3_bind_blob(st, col, p->b, 16, SQLITE_STATIC);
        else
            rc = sqlite3_bind_text(st, col, p->t, -1, SQLITE_STATIC);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

#define FLOW_COLUMNS_OF(state_history)                                                             \
    "f.id, fi.path, f.ip_version, f.proto, f.src, f.dst, f.sport, f.dport, f.vlan, f.app, "        \
    "f.first_ns, f.last_ns, f.packets_ab, f.packets_ba, f.bytes_ab, f.bytes_ba, f.flags_ab, "      \
    "f.flags_ba, fi.ts_digits, " state_history
#define FLOW_COLUMNS    FLOW_COLUMNS_OF("f.state, f.history")
#define FLOW_COLUMNS_V2 FLOW_COLUMNS_OF("'', ''") /* an older layout has neither */

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
static int prepare_where(st_sql_t *s, const char *sql_tmpl, const sift_query_t *q,
                         sqlite3_stmt **st)
{
    const char *cond = q ? sift_query_sql(q) : "1";
    if (s->layout < 3 && strstr(cond, "f.state")) /* the text is the compiler's, values are not */
        return sift__ctx_error(s->ix.ctx, SIFT_EINVAL,
                               "%s: an index of an older layout has no connection states; run "
                               "capsift index on it to bring it up to date",
                               s->ix.path);
    if (s->layout < 4 && strstr(cond, "m.flow_id"))
        return sift__ctx_error(s->ix.ctx, SIFT_EINVAL,
                               "%s: an index of an older layout has no application metadata; "
                               "run capsift index on it to bring it up to date",
                               s->ix.path);
    size_t clen = strlen(cond), copies = 0;
    for (const char *p = strstr(sql_tmpl, "{W}"); p; p = strstr(p + 3, "{W}"))
        copies++;
    char *sql = malloc(strlen(sql_tmpl) + copies * clen + 1);
    if (!sql)
        return sift__ctx_error(s->ix.ctx, SIFT_ENOMEM, "out of memory");
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
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    free(sql);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "running the query");
    int n = q ? (int)sift_query_nparams(q) : 0;
    for (size_t k = 0; k < copies && rc == SQLITE_OK; k++)
        rc = bind_query(*st, 1 + (int)k * n, q);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        return sift__sql_error(s, rc, "running the query");
    }
    return 0;
}

/* Steps st to its end, giving each row to row(st, ctx); a non-zero return stops the walk and is
 * returned. Finalizes st. */
static int walk(st_sql_t *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, const void *ctx),
                const void *ctx, const char *doing)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int stop = row(st, ctx);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    int err = rc == SQLITE_DONE ? 0 : sift__sql_error(s, rc, doing);
    sqlite3_finalize(st);
    return err;
}

typedef struct flow_walk {
    sift_flow_row_fn fn;
    void *user;
} flow_walk_t;

static int flow_row(sqlite3_stmt *st, const void *ctx)
{
    const flow_walk_t *w = ctx;
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
    const char *state = (const char *)sqlite3_column_text(st, 19);
    const char *h = (const char *)sqlite3_column_text(st, 20);
    snprintf(r.state, sizeof r.state, "%s", state ? state : "");
    snprintf(r.history, sizeof r.history, "%s", h ? h : "");
    return w->fn(w->user, &r);
}

int sift__sql_query(sift_index_t *ix, const sift_query_t *q, sift_sort_t sort, uint64_t limit,
                    sift_flow_row_fn fn, void *user)
{
    char fmt[1024];
    snprintf(fmt, sizeof fmt,
             "SELECT %s FROM flows f JOIN files fi ON fi.id = f.file_id "
             "WHERE {W} ORDER BY %s LIMIT %lld",
             st_sql(ix)->layout < 3 ? FLOW_COLUMNS_V2 : FLOW_COLUMNS, order_by(sort),
             limit ? (long long)limit : -1LL);
    sqlite3_stmt *st;
    int rc = prepare_where(st_sql(ix), fmt, q, &st);
    if (rc < 0)
        return rc;
    flow_walk_t w = {fn, user};
    return walk(st_sql(ix), st, flow_row, &w, "running the query");
}

typedef struct group_walk {
    sift_group_t by;
    int (*fn)(void *user, const sift_group_row_t *row);
    void *user;
} group_walk_t;

static int group_row(sqlite3_stmt *st, const void *ctx)
{
    const group_walk_t *w = ctx;
    char key[128];
    if (w->by == SIFT_GROUP_HOST) {
        uint8_t a[16];
        blob16(st, 0, a);
        sift_format_addr(a, key, sizeof key);
    } else if (w->by == SIFT_GROUP_PORT) {
        int64_t v = sqlite3_column_int64(st, 0);
        int proto = (int)(v >> 16), port = (int)(v & 0xffff);
        const char *name = proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 132 ? "sctp" : NULL;
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
    return w->fn(w->user, &r);
}

int sift__sql_group(sift_index_t *ix, const sift_query_t *q, sift_group_t by, sift_sort_t sort,
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
    int rc = prepare_where(st_sql(ix), fmt, q, &st);
    if (rc < 0)
        return rc;
    group_walk_t w = {by, fn, user};
    return walk(st_sql(ix), st, group_row, &w, "running the query");
}

typedef struct pos_walk {
    st_positions_fn fn;
    void *user;
} pos_walk_t;

static int pos_row(sqlite3_stmt *st, const void *ctx)
{
    const pos_walk_t *w = ctx;
    st_file_rec_t r = {.path = (const char *)sqlite3_column_text(st, 0),
                       .size = (uint64_t)sqlite3_column_int64(st, 1),
                       .mtime_ns = sqlite3_column_int64(st, 2),
                       .inode = (uint64_t)sqlite3_column_int64(st, 3),
                       .hash_alg = (const char *)sqlite3_column_text(st, 4),
                       .fingerprint = (const char *)sqlite3_column_text(st, 5),
                       .link_types = (const char *)sqlite3_column_text(st, 6),
                       .ts_digits = (unsigned)sqlite3_column_int(st, 7)};
    return w->fn(w->user, &r, sqlite3_column_int64(st, 9), sqlite3_column_blob(st, 8),
                 (size_t)sqlite3_column_bytes(st, 8));
}

int sift__sql_positions(sift_index_t *ix, const sift_query_t *q, st_positions_fn fn, void *user)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_stmt *st;
    int rc = prepare_where(s,
                           "SELECT fi.path, fi.size, fi.mtime_ns, fi.inode, fi.hash_alg, "
                           "fi.fingerprint, fi.link_types, fi.ts_digits, p.data, p.flow_id "
                           "FROM flows f JOIN files fi ON fi.id = f.file_id "
                           "JOIN positions p ON p.flow_id = f.id WHERE {W} "
                           "ORDER BY fi.path, p.flow_id", /* no seq: layout 1 has none */
                           q, &st);
    if (rc < 0)
        return rc;
    pos_walk_t w = {fn, user};
    return walk(s, st, pos_row, &w, "running the query");
}

typedef struct path_walk {
    int (*fn)(void *user, const char *path);
    void *user;
} path_walk_t;

static int path_row(sqlite3_stmt *st, const void *ctx)
{
    const path_walk_t *w = ctx;
    return w->fn(w->user, (const char *)sqlite3_column_text(st, 0));
}

int sift__sql_each_path(sift_index_t *ix, int (*fn)(void *user, const char *path), void *user)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT path FROM files ORDER BY path", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "reading its files");
    path_walk_t w = {fn, user};
    return walk(s, st, path_row, &w, "reading its files");
}

/* ---- flows with their metadata rows (sift_index_flows) ---- */

/* One protocol's rows of the matching flows, in the flows' order: a cursor stepped along. */
typedef struct meta_cursor {
    sqlite3_stmt *st;
    sift_meta_proto_t proto;
    const sift_meta_field_t *fields;
    size_t nfields;
    bool on_row;
} meta_cursor_t;

typedef struct flows_walk {
    st_sql_t *s;
    meta_cursor_t cur[SIFT_META_NPROTO];
    size_t ncur;
    sift_meta_row_t *rows;
    const sift_meta_row_t **ptrs;
    size_t nrows, cap;
    char **strs; /* the rows' text, freed after each flow */
    size_t nstrs, strs_cap;
} flows_walk_t;

/* Steps st: *on_row tells whether it stands on a row. */
static int step_row(st_sql_t *s, sqlite3_stmt *st, bool *on_row)
{
    int rc = sqlite3_step(st);
    *on_row = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sift__sql_error(s, rc, "reading its flows");
}

/* The statement of one protocol's rows of one file (:file), by flow in the order written: a
 * list as its items joined by SIFT_META_LIST_SEP again (SQLite's json_each walks the array in
 * order), a NAME field left out. The file's flows drive the join (CROSS JOIN: the flows_file
 * index, then each flow's rows), so nothing is sorted and no other file's rows are read. */
static int prepare_rows(st_sql_t *s, const sift_query_t *q, meta_cursor_t *c)
{
    char sql[8192];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT r.flow_id, r.ts_ns, r.reply_ns");
    for (size_t k = 0; k < c->nfields && n < sizeof sql; k++) {
        const char *name = c->fields[k].name;
        switch (c->fields[k].type) {
        case SIFT_META_T_LIST:
            n += (size_t)snprintf(sql + n, sizeof sql - n,
                                  ", (SELECT group_concat(j.value, char(31)) FROM "
                                  "json_each(r.\"%s\") j)",
                                  name);
            break;
        case SIFT_META_T_NAME:
            n += (size_t)snprintf(sql + n, sizeof sql - n, ", NULL");
            break;
        default:
            n += (size_t)snprintf(sql + n, sizeof sql - n, ", r.\"%s\"", name);
        }
    }
    if (n < sizeof sql)
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              " FROM flows f CROSS JOIN %s r ON r.flow_id = f.id JOIN files fi "
                              "ON fi.id = f.file_id WHERE ({W}) AND f.file_id = :file ORDER BY "
                              "f.id, r.id",
                              sift_meta_proto_name(c->proto));
    if (n >= sizeof sql)
        return sift__ctx_error(s->ix.ctx, SIFT_EINTERNAL, "a metadata statement too long");
    return prepare_where(s, sql, q, &c->st);
}

/* Runs st (a statement with a :file parameter, after the query's) again for file id. */
static int restart_on_file(st_sql_t *s, sqlite3_stmt *st, int64_t id)
{
    sqlite3_reset(st);
    int rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":file"), id);
    return rc == SQLITE_OK ? 0 : sift__sql_error(s, rc, "reading its flows");
}

static char *keep_text(flows_walk_t *w, const unsigned char *t)
{
    if (!t)
        return NULL;
    if (w->nstrs == w->strs_cap) {
        size_t ncap = w->strs_cap ? w->strs_cap * 2 : 64;
        char **v = realloc(w->strs, ncap * sizeof *v);
        if (!v)
            return NULL;
        w->strs = v;
        w->strs_cap = ncap;
    }
    char *copy = strdup((const char *)t);
    if (copy)
        w->strs[w->nstrs++] = copy;
    return copy;
}

static int64_t time_column(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, col);
}

/* Takes the cursor's rows of flow id (the cursor's next rows, or none) into w->rows. */
static int take_rows(flows_walk_t *w, meta_cursor_t *c, int64_t id, const sift_flow_t *f)
{
    while (c->on_row && sqlite3_column_int64(c->st, 0) == id) {
        if (w->nrows == w->cap) {
            size_t ncap = w->cap ? w->cap * 2 : 16;
            sift_meta_row_t *v = realloc(w->rows, ncap * sizeof *v);
            if (!v)
                return SIFT_ENOMEM;
            w->rows = v;
            const sift_meta_row_t **p = realloc(w->ptrs, ncap * sizeof *p);
            if (!p)
                return SIFT_ENOMEM;
            w->ptrs = p;
            w->cap = ncap;
        }
        sift_meta_row_t *r = &w->rows[w->nrows];
        sift__meta_row_of_flow(r, f);
        r->proto = (uint8_t)c->proto;
        r->ts_ns[0] = time_column(c->st, 1);
        r->ts_ns[1] = time_column(c->st, 2);
        r->offset[0] = r->offset[1] = UINT64_MAX;
        for (int k = 0; k < SIFT_META_NNUM; k++)
            r->num[k] = SIFT_META_NONE;
        for (size_t k = 0; k < c->nfields; k++) {
            const sift_meta_field_t *fd = &c->fields[k];
            int col = 3 + (int)k;
            if (sqlite3_column_type(c->st, col) == SQLITE_NULL || fd->type == SIFT_META_T_NAME)
                continue;
            if (fd->type == SIFT_META_T_STR || fd->type == SIFT_META_T_LIST) {
                if (!(r->str[fd->slot] = keep_text(w, sqlite3_column_text(c->st, col))))
                    return SIFT_ENOMEM;
            } else {
                r->num[fd->slot] = (uint64_t)sqlite3_column_int64(c->st, col);
            }
        }
        r->index = (uint32_t)w->nrows++;
        int rc = step_row(w->s, c->st, &c->on_row);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int cmp_row_time(const void *x, const void *y)
{
    const sift_meta_row_t *a = *(const sift_meta_row_t *const *)x;
    const sift_meta_row_t *b = *(const sift_meta_row_t *const *)y;
    int64_t ta = sift_meta_row_ts(a), tb = sift_meta_row_ts(b);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* The flow of a row: its key normalised as the flow table makes it (sift_flow_key_make). */
static void flow_of(sqlite3_stmt *st, const sift_flow_row_t *r, sift_flow_t *f)
{
    memset(f, 0, sizeof *f);
    int c = memcmp(r->src, r->dst, 16);
    bool swap = c > 0 || (c == 0 && r->sport > r->dport);
    memcpy(f->key.lo, swap ? r->dst : r->src, 16);
    memcpy(f->key.hi, swap ? r->src : r->dst, 16);
    f->key.lo_port = swap ? r->dport : r->sport;
    f->key.hi_port = swap ? r->sport : r->dport;
    f->key.vlan = sqlite3_column_int(st, 21) ? r->vlan : 0;
    f->key.proto = r->proto;
    f->key.ip_version = r->ip_version;
    f->a_is_hi = swap;
    f->first_ns = r->first_ns;
    f->last_ns = r->last_ns;
    f->packets[SIFT_FLOW_AB] = r->packets_ab;
    f->packets[SIFT_FLOW_BA] = r->packets_ba;
    f->bytes[SIFT_FLOW_AB] = r->bytes_ab;
    f->bytes[SIFT_FLOW_BA] = r->bytes_ba;
    f->tcp_flags[SIFT_FLOW_AB] = r->flags_ab;
    f->tcp_flags[SIFT_FLOW_BA] = r->flags_ba;
    f->vlan = r->vlan;
    f->app_state = r->app && r->app[0] ? SIFT_FLOW_APP_DONE : SIFT_FLOW_APP_OFF;
}

typedef struct flows_call {
    flows_walk_t *w;
    int (*fn)(void *user, const sift_index_flow_t *f);
    void *user;
    sqlite3_stmt *st;
    int err; /* a failure of the walk itself (not fn's answer) */
} flows_call_t;

static int flows_row(void *user, const sift_flow_row_t *r)
{
    flows_call_t *c = user;
    flows_walk_t *w = c->w;
    sift_flow_t f;
    flow_of(c->st, r, &f);
    w->nrows = 0;
    int rc = 0;
    for (size_t k = 0; k < w->ncur && rc == 0; k++)
        rc = take_rows(w, &w->cur[k], r->id, &f);
    if (rc == 0) {
        for (size_t k = 0; k < w->nrows; k++)
            w->ptrs[k] = &w->rows[k];
        if (w->nrows > 1)
            qsort(w->ptrs, w->nrows, sizeof *w->ptrs, cmp_row_time);
        for (size_t k = 0; k < w->nrows; k++)
            w->rows[w->ptrs[k] - w->rows].index = (uint32_t)k;
        sift_index_flow_t x = {.file = r->file,
                               .ts_digits = r->ts_digits,
                               .meta = sqlite3_column_int(c->st, 22) != 0,
                               .flow = &f,
                               .app = r->app ? r->app : "",
                               .rows = w->ptrs,
                               .nrows = w->nrows};
        rc = c->fn(c->user, &x);
    } else {
        c->err = rc == SIFT_ENOMEM ? sift__ctx_error(w->s->ix.ctx, rc, "out of memory") : rc;
        rc = c->err;
    }
    for (size_t k = 0; k < w->nstrs; k++)
        free(w->strs[k]);
    w->nstrs = 0;
    return rc;
}

static int flows_stmt_row(sqlite3_stmt *st, const void *ctx)
{
    flows_call_t *c = (flows_call_t *)(uintptr_t)ctx;
    c->st = st;
    return flow_row(st, &(flow_walk_t){flows_row, c});
}

int sift__sql_flows(sift_index_t *ix, const sift_query_t *q, unsigned protos,
                    int (*fn)(void *user, const sift_index_flow_t *f), void *user)
{
    st_sql_t *s = st_sql(ix);
    if (s->layout < 4)
        return sift__ctx_error(ix->ctx, SIFT_EINVAL,
                               "%s: an index of an older layout; run capsift index on it to "
                               "bring it up to date",
                               ix->path);
    flows_walk_t w = {.s = s};
    int rc = 0;
    for (int p = 0; p < SIFT_META_NPROTO && rc == 0; p++) {
        if (!(protos & (1u << p)))
            continue;
        meta_cursor_t *c = &w.cur[w.ncur++];
        c->proto = (sift_meta_proto_t)p;
        c->fields = sift_meta_fields(c->proto, &c->nfields);
        rc = prepare_rows(s, q, c);
    }
    /* file by file, in path order, each file's flows in the order written (its flows_file
     * index gives them so: no sort of all the flows) */
    sqlite3_stmt *st = NULL, *files = NULL;
    if (rc == 0)
        rc = prepare_where(s,
                           "SELECT " FLOW_COLUMNS ", fi.vlan_key, fi.meta FROM flows f "
                           "JOIN files fi ON fi.id = f.file_id WHERE ({W}) AND f.file_id = :file "
                           "ORDER BY f.id",
                           q, &st);
    if (rc == 0 && (rc = sqlite3_prepare_v2(s->db, "SELECT id FROM files ORDER BY path", -1, &files,
                                            NULL)) != SQLITE_OK)
        rc = sift__sql_error(s, rc, "reading its files");
    flows_call_t c = {.w = &w, .fn = fn, .user = user};
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(files)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(files, 0);
        rc = restart_on_file(s, st, id);
        for (size_t k = 0; k < w.ncur && rc == 0; k++)
            if ((rc = restart_on_file(s, w.cur[k].st, id)) == 0)
                rc = step_row(s, w.cur[k].st, &w.cur[k].on_row);
        while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
            rc = flows_stmt_row(st, &c);
        if (rc == 0 && step != SQLITE_DONE)
            rc = sift__sql_error(s, step, "reading its flows");
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = sift__sql_error(s, step, "reading its files");
    sqlite3_finalize(files);
    sqlite3_finalize(st);
    for (size_t k = 0; k < w.ncur; k++)
        sqlite3_finalize(w.cur[k].st);
    free(w.rows);
    free(w.ptrs);
    free(w.strs);
    return rc;
}

/* ---- the payload store (st_search.c) ---- */

/* A statement on one file's rows: its first parameter the file's id. */
static int prepare_file(st_sql_t *s, const char *sql, int64_t file_id, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "reading its payloads");
    sqlite3_bind_int64(*st, 1, file_id);
    return 0;
}

typedef struct payload_walk {
    int (*fn)(void *user, const uint8_t hash[16], uint32_t size, int codec, const void *data,
              size_t len);
    void *user;
} payload_walk_t;

static int payload_row(sqlite3_stmt *st, const void *ctx)
{
    const payload_walk_t *w = ctx;
    uint8_t hash[16];
    blob16(st, 0, hash);
    return w->fn(w->user, hash, (uint32_t)sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2),
                 sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3));
}

int sift__sql_each_payload(sift_index_t *ix,
                           int (*fn)(void *user, const uint8_t hash[16], uint32_t size, int codec,
                                     const void *data, size_t len),
                           void *user)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_stmt *st;
    int rc =
        sqlite3_prepare_v2(s->db, "SELECT hash, size, codec, data FROM payloads", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "reading its payloads");
    payload_walk_t w = {fn, user};
    return walk(s, st, payload_row, &w, "reading its payloads");
}

typedef struct file_walk {
    int (*fn)(void *user, int64_t id, const st_file_rec_t *rec);
    void *user;
} file_walk_t;

static int file_row(sqlite3_stmt *st, const void *ctx)
{
    const file_walk_t *w = ctx;
    st_file_rec_t r = {.path = (const char *)sqlite3_column_text(st, 1),
                       .ts_digits = (unsigned)sqlite3_column_int(st, 2),
                       .payloads = (uint8_t)sqlite3_column_int(st, 3),
                       .status = (const char *)sqlite3_column_text(st, 4),
                       .packets = (uint64_t)sqlite3_column_int64(st, 5),
                       .timed = sqlite3_column_type(st, 6) != SQLITE_NULL &&
                                sqlite3_column_type(st, 7) != SQLITE_NULL,
                       .first_ns = sqlite3_column_int64(st, 6),
                       .last_ns = sqlite3_column_int64(st, 7)};
    return w->fn(w->user, sqlite3_column_int64(st, 0), &r);
}

int sift__sql_each_file(sift_index_t *ix,
                        int (*fn)(void *user, int64_t id, const st_file_rec_t *rec), void *user)
{
    st_sql_t *s = st_sql(ix);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                s->layout >= 5
                                    ? "SELECT id, path, ts_digits, payloads, status, packets, "
                                      "first_ns, last_ns FROM files ORDER BY path"
                                    : "SELECT id, path, ts_digits, EXISTS(SELECT 1 FROM "
                                      "payload_refs r WHERE r.file_id = files.id), status, "
                                      "packets, first_ns, last_ns FROM files ORDER BY path",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "reading its files");
    file_walk_t w = {fn, user};
    return walk(s, st, file_row, &w, "reading its files");
}

typedef struct ref_walk {
    int (*fn)(void *user, const uint8_t hash[16], uint32_t ord);
    void *user;
} ref_walk_t;

static int ref_row(sqlite3_stmt *st, const void *ctx)
{
    const ref_walk_t *w = ctx;
    uint8_t hash[16];
    blob16(st, 0, hash);
    return w->fn(w->user, hash, (uint32_t)sqlite3_column_int64(st, 1));
}

int sift__sql_file_refs(sift_index_t *ix, int64_t file_id,
                        int (*fn)(void *user, const uint8_t hash[16], uint32_t ord), void *user)
{
    sqlite3_stmt *st;
    int rc = prepare_file(st_sql(ix), "SELECT hash, ord FROM payload_refs WHERE file_id = ?",
                          file_id, &st);
    if (rc < 0)
        return rc;
    ref_walk_t w = {fn, user};
    return walk(st_sql(ix), st, ref_row, &w, "reading its payloads");
}

typedef struct blob_walk {
    int (*fn)(void *user, const uint8_t *blob, size_t len);
    void *user;
} blob_walk_t;

static int blob_row(sqlite3_stmt *st, const void *ctx)
{
    const blob_walk_t *w = ctx;
    return w->fn(w->user, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
}

int sift__sql_file_packets(sift_index_t *ix, int64_t file_id,
                           int (*fn)(void *user, const uint8_t *blob, size_t len), void *user)
{
    sqlite3_stmt *st;
    int rc =
        prepare_file(st_sql(ix), "SELECT data FROM payload_packets WHERE file_id = ? ORDER BY seq",
                     file_id, &st);
    if (rc < 0)
        return rc;
    blob_walk_t w = {fn, user};
    return walk(st_sql(ix), st, blob_row, &w, "reading its payloads");
}

typedef struct fpos_walk {
    int (*fn)(void *user, const sift_flow_row_t *flow, const uint8_t *blob, size_t len);
    void *user;
    sqlite3_stmt *st;
} fpos_walk_t;

static int fpos_flow(void *user, const sift_flow_row_t *r)
{
    fpos_walk_t *w = user;
    return w->fn(w->user, r, sqlite3_column_blob(w->st, 21),
                 (size_t)sqlite3_column_bytes(w->st, 21));
}

static int fpos_row(sqlite3_stmt *st, const void *ctx)
{
    fpos_walk_t *w = (fpos_walk_t *)(uintptr_t)ctx;
    w->st = st;
    return flow_row(st, &(flow_walk_t){fpos_flow, w});
}

int sift__sql_file_positions(sift_index_t *ix, int64_t file_id,
                             int (*fn)(void *user, const sift_flow_row_t *flow, const uint8_t *blob,
                                       size_t len),
                             void *user)
{
    sqlite3_stmt *st;
    int rc = prepare_file(st_sql(ix),
                          "SELECT " FLOW_COLUMNS ", p.data FROM flows f JOIN files fi ON "
                          "fi.id = f.file_id JOIN positions p ON p.flow_id = f.id "
                          "WHERE f.file_id = ? ORDER BY f.id, p.seq",
                          file_id, &st);
    if (rc < 0)
        return rc;
    fpos_walk_t w = {fn, user, NULL};
    return walk(st_sql(ix), st, fpos_row, &w, "reading its flows");
}

/* ---- the flows of a query's payload terms ---- */

int sift__sql_put_term_hits(sift_index_t *ix, const int64_t (*pairs)[2], size_t n)
{
    st_sql_t *s = st_sql(ix);
    /* a temporary table, which only this connection sees: a read-only one (opened so, which
     * keeps the database itself unwritten) lifts query_only for it */
    int rc = ix->read_only ? sift__sql_exec(s, "PRAGMA query_only=0", "running the query") : 0;
    if (rc == 0)
        rc = sift__sql_exec(s,
                            "DROP TABLE IF EXISTS temp.payload_hits;"
                            "CREATE TEMP TABLE payload_hits(term INTEGER NOT NULL, flow_id "
                            "INTEGER NOT NULL, PRIMARY KEY(term, flow_id)) WITHOUT ROWID",
                            "running the query");
    sqlite3_stmt *st = NULL;
    if (rc == 0 && sqlite3_prepare_v2(s->db, "INSERT INTO temp.payload_hits VALUES(?, ?)", -1, &st,
                                      NULL) != SQLITE_OK)
        rc = sift__sql_error(s, sqlite3_errcode(s->db), "running the query");
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_bind_int64(st, 1, pairs[i][0]);
        sqlite3_bind_int64(st, 2, pairs[i][1]);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            rc = sift__sql_error(s, step, "running the query");
    }
    sqlite3_finalize(st);
    if (ix->read_only) {
        int qrc = sift__sql_exec(s, "PRAGMA query_only=1", "running the query");
        rc = rc < 0 ? rc : qrc;
    }
    return rc;
}
