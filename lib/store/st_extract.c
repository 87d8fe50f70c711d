/* Extraction: the packets of the flows matching a query, read by offset from the original
 * files (the storage backend gives the positions), checked against the files' identity, and
 * written in timestamp order. */
#include "store/store_int.h"

#include <capsift/digest.h>
#include <capsift/outfile.h>
#include <capsift/writer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- extraction ---- */

typedef struct ex_file {
    char *path;
    uint64_t size, inode;
    int64_t mtime_ns;
    char alg[16];
    char fingerprint[SIFT_DIGEST_HEX_MAX];
    uint64_t *offs; /* wanted record offsets, sorted */
    size_t n, cap;
} ex_file_t;

typedef struct extract {
    sift_index_t *ix;
    ex_file_t *files;
    size_t nfiles, cap;
    sift_copy_opts_t copy; /* link types and precision of the files */
} extract_t;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static ex_file_t *ex_file(extract_t *x, const st_file_rec_t *r)
{
    if (x->nfiles && strcmp(x->files[x->nfiles - 1].path, r->path) == 0)
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
    if (!(f->path = strdup(r->path)))
        return NULL;
    x->nfiles++;
    f->size = r->size;
    f->mtime_ns = r->mtime_ns;
    f->inode = r->inode;
    snprintf(f->alg, sizeof f->alg, "%s", r->hash_alg ? r->hash_alg : "");
    snprintf(f->fingerprint, sizeof f->fingerprint, "%s", r->fingerprint ? r->fingerprint : "");
    /* link types of the file, e.g. "1,113" */
    for (const char *p = r->link_types; p && *p;) {
        sift_copy_opts_add_linktype(&x->copy, (uint32_t)strtoul(p, NULL, 10));
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    if (r->ts_digits > 6)
        x->copy.nanoseconds = true;
    return f;
}

typedef struct ex_collect {
    extract_t *x;
    sift_extract_summary_t *sum;
    int64_t last_flow; /* a flow's positions may come in several segments */
} ex_collect_t;

static int ex_segment(void *user, const st_file_rec_t *file, int64_t flow_id, const uint8_t *blob,
                      size_t len)
{
    ex_collect_t *c = user;
    extract_t *x = c->x;
    ex_file_t *f = ex_file(x, file);
    if (!f)
        return sift__ctx_error(x->ix->ctx, SIFT_ENOMEM, "out of memory");
    uint64_t *offs;
    int64_t *ts;
    size_t n;
    if (sift__pos_decode(blob, len, &offs, &ts, &n) < 0)
        return sift__ctx_error(x->ix->ctx, SIFT_EDB,
                               "%s: packet positions of a flow of %s are damaged; index the "
                               "file again",
                               x->ix->path, f->path);
    if (f->n + n > f->cap) {
        size_t ncap = (f->cap ? f->cap * 2 : 1024) + n;
        uint64_t *no = realloc(f->offs, ncap * sizeof *no);
        if (!no) {
            free(offs);
            free(ts);
            return sift__ctx_error(x->ix->ctx, SIFT_ENOMEM, "out of memory");
        }
        f->offs = no;
        f->cap = ncap;
    }
    memcpy(f->offs + f->n, offs, n * sizeof *offs);
    f->n += n;
    c->sum->flows += flow_id != c->last_flow;
    c->last_flow = flow_id;
    free(offs);
    free(ts);
    return 0;
}

/* Collects the wanted offsets of every matching flow, grouped by file. */
static int ex_collect(extract_t *x, const sift_query_t *q, sift_extract_summary_t *sum)
{
    ex_collect_t c = {x, sum, -1};
    int rc = sift__payload_terms(x->ix, q);
    if (rc == 0)
        rc = x->ix->be->positions(x->ix, q, ex_segment, &c);
    for (size_t i = 0; i < x->nfiles; i++)
        if (x->files[i].n > 1)
            qsort(x->files[i].offs, x->files[i].n, sizeof *x->files[i].offs, cmp_u64);
    return rc;
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

static void ex_free(extract_t *x)
{
    for (size_t i = 0; i < x->nfiles; i++) {
        free(x->files[i].path);
        free(x->files[i].offs);
    }
    free(x->files);
}

/* The files' wanted records into out in timestamp order (within one file, file order).
 * name, when known, prefixes a write error. */
static int ex_write(extract_t *x, FILE *out, const char *name, sift_extract_summary_t *sum)
{
    sift_copy_src_t *src = calloc(x->nfiles ? x->nfiles : 1, sizeof *src);
    if (!src)
        return sift__ctx_error(x->ix->ctx, SIFT_ENOMEM, "out of memory");
    for (size_t i = 0; i < x->nfiles; i++)
        src[i] = (sift_copy_src_t){x->files[i].path, x->files[i].offs, x->files[i].n};
    sift_copy_summary_t cs;
    int rc = sift_copy_records(x->ix->ctx, src, x->nfiles, out, name, &x->copy, &cs);
    free(src);
    sum->packets = cs.packets;
    sum->bytes = cs.bytes;
    sum->files = cs.files;
    sum->pcapng = cs.pcapng;
    return rc;
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

/* Every file the index names, and the database's own files: an output must be none of them. */
static int protected_paths(sift_index_t *ix, st_paths_t *p)
{
    int rc = 0;
    for (const char *const *sfx = ix->be->suffixes; *sfx && rc == 0; sfx++) {
        size_t len = strlen(ix->path) + strlen(*sfx) + 1;
        char *name = malloc(len);
        if (!name)
            rc = SIFT_ENOMEM;
        else
            snprintf(name, len, "%s%s", ix->path, *sfx);
        if (rc == 0)
            rc = sift__paths_add(p, name);
        free(name);
    }
    if (rc == 0)
        rc = ix->be->each_path(ix, sift__paths_add, p);
    if (rc == SIFT_ENOMEM)
        return sift__ctx_error(ix->ctx, SIFT_ENOMEM, "out of memory");
    return rc;
}

int sift_index_extract_file(sift_index_t *ix, const sift_query_t *q, const char *path, bool force,
                            sift_extract_summary_t *sum)
{
    st_paths_t prot = {0};
    int rc = protected_paths(ix, &prot);
    sift_outfile_t *of = NULL;
    if (rc == 0) {
        sift_outfile_opts_t oo = {
            .force = force, .protect = (const char *const *)prot.v, .nprotect = prot.n};
        rc = sift_outfile_open(&of, ix->ctx, path, &oo);
    }
    sift__paths_free(&prot);
    if (rc == 0)
        rc = extract_to(ix, q, sift_outfile_stream(of), path, sum);
    if (rc == 0)
        return sift_outfile_commit(of);
    sift_outfile_abort(of);
    return rc;
}
