/* The index handle: opened on a storage backend (st_backend.h; SQLite is the one there is), and
 * the public reading calls, which the backend answers. */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int sift_index_open(sift_index_t **out, sift_ctx_t *ctx, const char *path,
                    const sift_index_opts_t *opts)
{
    *out = NULL;
    return sift__sqlite_backend.open(out, ctx, path, opts);
}

void sift_index_close(sift_index_t *ix)
{
    if (ix)
        ix->be->close(ix);
}

bool sift_index_looks_like(const char *path)
{
    static const char magic[16] = "SQLite format 3"; /* with its NUL */
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    char head[16];
    FILE *f = fopen(path, "rb");
    bool yes =
        f && fread(head, 1, sizeof head, f) == sizeof head && memcmp(head, magic, sizeof head) == 0;
    if (f)
        fclose(f);
    return yes;
}

int sift_index_query(sift_index_t *ix, const sift_query_t *q, sift_sort_t sort, uint64_t limit,
                     sift_flow_row_fn fn, void *user)
{
    int rc = sift__payload_terms(ix, q);
    return rc < 0 ? rc : ix->be->query(ix, q, sort, limit, fn, user);
}

int sift_index_group(sift_index_t *ix, const sift_query_t *q, sift_group_t by, sift_sort_t sort,
                     uint64_t limit, int (*fn)(void *user, const sift_group_row_t *row), void *user)
{
    int rc = sift__payload_terms(ix, q);
    return rc < 0 ? rc : ix->be->group(ix, q, by, sort, limit, fn, user);
}

int sift_index_flows(sift_index_t *ix, const sift_query_t *q, unsigned protos,
                     int (*fn)(void *user, const sift_index_flow_t *f), void *user)
{
    int rc = sift__payload_terms(ix, q);
    return rc < 0 ? rc : ix->be->flows(ix, q, protos, fn, user);
}

static int span_file(void *user, int64_t id, const st_file_rec_t *rec)
{
    (void)id;
    sift_index_span_t *s = user;
    s->files++;
    s->packets += rec->packets;
    if (!rec->timed)
        return 0;
    if (!s->timed || rec->first_ns < s->first_ns)
        s->first_ns = rec->first_ns;
    if (!s->timed || rec->last_ns > s->last_ns)
        s->last_ns = rec->last_ns;
    s->timed = true;
    return 0;
}

int sift_index_span(sift_index_t *ix, sift_index_span_t *out)
{
    memset(out, 0, sizeof *out);
    return ix->be->each_file(ix, span_file, out);
}

int sift_index_save_signatures(sift_index_t *ix, const sift_signatures_t *s)
{
    return ix->be->sig_save(ix, s);
}

int sift_index_signatures(sift_index_t *ix, const char *which, sift_signatures_t *out)
{
    return ix->be->sig_load(ix, which, out);
}

int64_t sift_index_rename_signatures(sift_index_t *ix, const char *old, const char *new_name)
{
    return ix->be->sig_rename(ix, old, new_name);
}

int64_t sift_index_delete_signatures(sift_index_t *ix, const char *which)
{
    return ix->be->sig_delete(ix, which);
}

int sift_index_update_signatures(sift_index_t *ix, const sift_signatures_t *s)
{
    return ix->be->sig_update(ix, s);
}

int sift__paths_add(void *user, const char *path)
{
    st_paths_t *p = user;
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        char **nv = realloc(p->v, ncap * sizeof *nv);
        if (!nv)
            return SIFT_ENOMEM;
        p->v = nv;
        p->cap = ncap;
    }
    if (!(p->v[p->n] = strdup(path)))
        return SIFT_ENOMEM;
    p->n++;
    return 0;
}

void sift__paths_free(st_paths_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}
