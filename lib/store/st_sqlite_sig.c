/* The SQLite backend's signatures table: saving a set, reading, renaming, deleting, and the
 * usage a classification adds (capsift/signature.h). Each call is one transaction. */
#include "store/st_sqlite.h"

#include <capsift/signature.h>

#include <stdlib.h>
#include <string.h>

#define FIELD_BYTES 20 /* a field in the fields blob */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Whether the table is there: an index of an older capsift opened read-only has none. */
static int has_table(st_sql_t *s)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(
        s->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'signatures'", -1, &st,
        NULL);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "reading its signatures");
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW    ? 1
           : rc == SQLITE_DONE ? 0
                               : sift__sql_error(s, rc, "reading its signatures");
}

static int end_txn(st_sql_t *s, int rc, const char *doing)
{
    if (rc == 0)
        return sift__sql_exec(s, "COMMIT", doing);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* The rows of names (a signature's or a set's) exist: 1, else 0. */
static int name_taken(st_sql_t *s, const char *name)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM signatures WHERE name = ?1 OR set_name = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "reading its signatures");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW    ? 1
           : rc == SQLITE_DONE ? 0
                               : sift__sql_error(s, rc, "reading its signatures");
}

static int insert_one(st_sql_t *s, sqlite3_stmt *st, const sift_signature_t *g)
{
    uint8_t *mask = malloc(3 * (size_t)g->nmask + 1);
    uint8_t *fields = malloc(FIELD_BYTES * (size_t)g->nfields + 1);
    uint8_t sketch[4 * SIFT_SIG_SKETCH_K];
    if (!mask || !fields) {
        free(mask);
        free(fields);
        return sift__ctx_error(s->ix.ctx, SIFT_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < g->nmask; i++) {
        put_le(mask + 3 * i, g->mask[i].offset, 2);
        mask[3 * i + 2] = g->mask[i].value;
    }
    for (uint32_t i = 0; i < g->nfields; i++) {
        const sift_cluster_field_t *f = &g->fields[i];
        uint8_t *p = fields + FIELD_BYTES * i;
        put_le(p, f->offset, 4);
        p[4] = f->width;
        p[5] = f->kind;
        p[6] = f->little;
        p[7] = f->value;
        put_le(p + 8, f->distinct, 4);
        put_le(p + 12, (uint64_t)f->delta, 8);
    }
    for (unsigned i = 0; i < SIFT_SIG_SKETCH_K; i++)
        put_le(sketch + 4 * i, g->sketch[i], 4);
    sqlite3_reset(st);
    int c = 1;
    sqlite3_bind_text(st, c++, g->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, c++, g->set, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, c++, g->part.proto);
    sqlite3_bind_int(st, c++, g->part.port);
    sqlite3_bind_int(st, c++, g->part.dir);
    sqlite3_bind_int(st, c++, g->text);
    sqlite3_bind_blob(st, c++, mask, 3 * (int)g->nmask, SQLITE_STATIC);
    sqlite3_bind_int(st, c++, g->type_offset);
    sqlite3_bind_int(st, c++, g->type);
    sqlite3_bind_int64(st, c++, (int64_t)g->min_len);
    sqlite3_bind_int64(st, c++, (int64_t)g->max_len);
    sqlite3_bind_blob(st, c++, g->example, (int)g->example_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, c++, fields, FIELD_BYTES * (int)g->nfields, SQLITE_STATIC);
    sqlite3_bind_blob(st, c++, sketch, sizeof sketch, SQLITE_STATIC);
    sqlite3_bind_int64(st, c++, (int64_t)g->packets);
    sqlite3_bind_int64(st, c++, (int64_t)g->units);
    sqlite3_bind_int64(st, c++, (int64_t)g->flows);
    sqlite3_bind_double(st, c++, g->share);
    sqlite3_bind_int64(st, c++, (int64_t)g->usage);
    sqlite3_bind_int64(st, c++, g->last_seen);
    sqlite3_bind_int64(st, c++, g->created);
    sqlite3_bind_double(st, c++, g->confidence);
    int rc = sqlite3_step(st);
    free(mask);
    free(fields);
    return rc == SQLITE_DONE ? 0 : sift__sql_error(s, rc, "saving signatures");
}

int sift__sql_sig_save(sift_index_t *ix, const sift_signatures_t *sigs)
{
    st_sql_t *s = st_sql(ix);
    int rc = sift__sql_exec(s, "BEGIN IMMEDIATE", "saving signatures");
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    size_t n = sift_signatures_count(sigs);
    /* a set's name must be new: saving never replaces what was learnt (and counted) before */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const sift_signature_t *g = sift_signatures_get(sigs, i);
        if (i > 0 && strcmp(g->set, sift_signatures_get(sigs, i - 1)->set) == 0)
            continue;
        int t = name_taken(s, g->set);
        if (t > 0)
            rc = sift__ctx_error(ix->ctx, SIFT_EEXIST,
                                 "%s: signatures named %s exist already; save under another "
                                 "name, or delete them first (capsift signatures --delete %s)",
                                 ix->path, g->set, g->set);
        else
            rc = t;
    }
    if (rc == 0 &&
        (rc = sqlite3_prepare_v2(
             s->db,
             "INSERT INTO signatures(name, set_name, proto, port, dir, text, mask, type_offset, "
             "type, min_len, max_len, example, fields, sketch, packets, units, flows, share, "
             "usage, last_seen, created, confidence) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
             "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             -1, &st, NULL)) != SQLITE_OK)
        rc = sift__sql_error(s, rc, "saving signatures");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const sift_signature_t *g = sift_signatures_get(sigs, i);
        int t = name_taken(s, g->name);
        if (t > 0)
            rc = sift__ctx_error(ix->ctx, SIFT_EEXIST,
                                 "%s: a signature named %s exists already; save under another "
                                 "name",
                                 ix->path, g->name);
        else
            rc = t < 0 ? t : insert_one(s, st, g);
    }
    sqlite3_finalize(st);
    return end_txn(s, rc, "saving signatures");
}

/* A row's blobs back into a signature; false when they do not hold together (damage). */
static bool decode_row(sqlite3_stmt *st, sift_signature_t *g, sift_sig_byte_t *mask,
                       sift_cluster_field_t *fields)
{
    const uint8_t *m = sqlite3_column_blob(st, 7);
    int mn = sqlite3_column_bytes(st, 7);
    const uint8_t *f = sqlite3_column_blob(st, 13);
    int fn = sqlite3_column_bytes(st, 13);
    const uint8_t *k = sqlite3_column_blob(st, 14);
    int kn = sqlite3_column_bytes(st, 14);
    if (mn % 3 || mn / 3 > 65536 || fn % FIELD_BYTES || fn / FIELD_BYTES > 65536 ||
        kn != 4 * SIFT_SIG_SKETCH_K || mn == 0)
        return false;
    g->nmask = (uint32_t)(mn / 3);
    for (uint32_t i = 0; i < g->nmask; i++)
        mask[i] =
            (sift_sig_byte_t){.offset = (uint16_t)get_le(m + 3 * i, 2), .value = m[3 * i + 2]};
    g->mask = mask;
    g->nfields = (uint32_t)(fn / FIELD_BYTES);
    for (uint32_t i = 0; i < g->nfields; i++) {
        const uint8_t *p = f + FIELD_BYTES * i;
        fields[i] = (sift_cluster_field_t){.offset = (uint32_t)get_le(p, 4),
                                           .width = p[4],
                                           .kind = p[5],
                                           .little = p[6] != 0,
                                           .value = p[7],
                                           .distinct = (uint32_t)get_le(p + 8, 4),
                                           .delta = (int64_t)get_le(p + 12, 8)};
        if (fields[i].kind > SIFT_FIELD_LENGTH)
            return false;
    }
    g->fields = fields;
    for (unsigned i = 0; i < SIFT_SIG_SKETCH_K; i++)
        g->sketch[i] = (uint32_t)get_le(k + 4 * i, 4);
    return true;
}

int sift__sql_sig_load(sift_index_t *ix, const char *which, sift_signatures_t *out)
{
    st_sql_t *s = st_sql(ix);
    int rc = has_table(s);
    if (rc <= 0)
        return rc;
    sqlite3_stmt *st;
    rc = sqlite3_prepare_v2(
        s->db,
        "SELECT id, name, set_name, proto, port, dir, text, mask, type_offset, type, min_len, "
        "max_len, example, fields, sketch, packets, units, flows, share, usage, last_seen, "
        "created, confidence FROM signatures WHERE ?1 IS NULL OR name = ?1 OR set_name = ?1 "
        "ORDER BY id",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sift__sql_error(s, rc, "reading its signatures");
    if (which)
        sqlite3_bind_text(st, 1, which, -1, SQLITE_STATIC);
    sift_sig_byte_t *mask = malloc(65536 * sizeof *mask);
    sift_cluster_field_t *fields = malloc(65536 * sizeof *fields);
    rc = mask && fields ? 0 : sift__ctx_error(ix->ctx, SIFT_ENOMEM, "out of memory");
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = 0;
        sift_signature_t g = {.id = sqlite3_column_int64(st, 0),
                              .name = (const char *)sqlite3_column_text(st, 1),
                              .set = (const char *)sqlite3_column_text(st, 2),
                              .part = {.proto = (uint8_t)sqlite3_column_int(st, 3),
                                       .port = (uint16_t)sqlite3_column_int(st, 4),
                                       .dir = (uint8_t)sqlite3_column_int(st, 5)},
                              .text = sqlite3_column_int(st, 6) != 0,
                              .type_offset = sqlite3_column_int(st, 8),
                              .type = (uint8_t)sqlite3_column_int(st, 9),
                              .min_len = (uint64_t)sqlite3_column_int64(st, 10),
                              .max_len = (uint64_t)sqlite3_column_int64(st, 11),
                              .example = sqlite3_column_blob(st, 12),
                              .example_len = (uint32_t)sqlite3_column_bytes(st, 12),
                              .packets = (uint64_t)sqlite3_column_int64(st, 15),
                              .units = (uint64_t)sqlite3_column_int64(st, 16),
                              .flows = (uint64_t)sqlite3_column_int64(st, 17),
                              .share = sqlite3_column_double(st, 18),
                              .usage = (uint64_t)sqlite3_column_int64(st, 19),
                              .last_seen = sqlite3_column_int64(st, 20),
                              .created = sqlite3_column_int64(st, 21),
                              .confidence = sqlite3_column_double(st, 22)};
        if (!g.name || !g.set || !decode_row(st, &g, mask, fields) || g.type_offset < -1 ||
            g.type_offset > 65535)
            rc = sift__ctx_error(ix->ctx, SIFT_EDB,
                                 "%s: signature row %lld is damaged; delete it (capsift "
                                 "signatures --delete NAME)",
                                 ix->path, (long long)g.id);
        else
            rc = sift_signatures_add(out, &g) == 0
                     ? 0
                     : sift__ctx_error(ix->ctx, SIFT_ENOMEM, "out of memory");
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = sift__sql_error(s, rc, "reading its signatures");
    sqlite3_finalize(st);
    free(mask);
    free(fields);
    return rc;
}

/* Runs sql with the texts a (and b) bound, in a transaction of its own; the rows changed. */
static int64_t change(st_sql_t *s, const char *sql, const char *a, const char *b, const char *doing)
{
    int rc = has_table(s);
    if (rc <= 0)
        return rc;
    rc = sift__sql_exec(s, "BEGIN IMMEDIATE", doing);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st;
    int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (r == SQLITE_OK) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b)
            sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    int64_t changed = sqlite3_changes(s->db);
    rc = end_txn(s, r == SQLITE_DONE ? 0 : sift__sql_error(s, r, doing), doing);
    return rc < 0 ? rc : changed;
}

int64_t sift__sql_sig_rename(sift_index_t *ix, const char *old, const char *new_name)
{
    st_sql_t *s = st_sql(ix);
    int t = has_table(s);
    if (t > 0)
        t = name_taken(s, new_name);
    if (t < 0)
        return t;
    if (t > 0)
        return sift__ctx_error(ix->ctx, SIFT_EEXIST,
                               "%s: a signature or set named %s exists already", ix->path,
                               new_name);
    /* a set: its name, and the names of its signatures that still begin with it */
    int64_t n = change(s,
                       "UPDATE signatures SET set_name = ?2, name = CASE WHEN substr(name, 1, "
                       "length(?1) + 1) = ?1 || '-' THEN ?2 || substr(name, length(?1) + 1) ELSE "
                       "name END WHERE set_name = ?1",
                       old, new_name, "renaming signatures");
    if (n != 0)
        return n;
    return change(s, "UPDATE signatures SET name = ?2 WHERE name = ?1", old, new_name,
                  "renaming signatures");
}

int64_t sift__sql_sig_delete(sift_index_t *ix, const char *which)
{
    return change(st_sql(ix), "DELETE FROM signatures WHERE name = ?1 OR set_name = ?1", which,
                  NULL, "deleting signatures");
}

int sift__sql_sig_update(sift_index_t *ix, const sift_signatures_t *sigs)
{
    st_sql_t *s = st_sql(ix);
    int rc = sift__sql_exec(s, "BEGIN IMMEDIATE", "updating signatures");
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(
        s->db, "UPDATE signatures SET usage = ?, last_seen = ?, confidence = ? WHERE id = ?", -1,
        &st, NULL);
    if (r != SQLITE_OK)
        rc = sift__sql_error(s, r, "updating signatures");
    for (size_t i = 0; rc == 0 && i < sift_signatures_count(sigs); i++) {
        const sift_signature_t *g = sift_signatures_get(sigs, i);
        if (g->id <= 0)
            continue;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (int64_t)g->usage);
        sqlite3_bind_int64(st, 2, g->last_seen);
        sqlite3_bind_double(st, 3, g->confidence);
        sqlite3_bind_int64(st, 4, g->id);
        r = sqlite3_step(st);
        if (r != SQLITE_DONE)
            rc = sift__sql_error(s, r, "updating signatures");
    }
    sqlite3_finalize(st);
    return end_txn(s, rc, "updating signatures");
}
