/* Copying records by offset: each source file read in order, skipping to its wanted records,
 * the files merged by timestamp into one writer. */
#include "common/internal.h"

#include <capsift/outfile.h>
#include <capsift/writer.h>

#include <stdlib.h>
#include <string.h>

void sift_copy_opts_add_linktype(sift_copy_opts_t *o, uint32_t linktype)
{
    for (unsigned k = 0; k < o->nlinks; k++)
        if (o->linktypes[k] == linktype)
            return;
    if (o->nlinks < SIFT_COPY_MAX_LINKTYPES)
        o->linktypes[o->nlinks++] = linktype;
    else
        o->overflow = true;
}

typedef struct cp_file {
    const sift_copy_src_t *src;
    size_t next;
    sift_reader_t *r;
    sift_record_t rec; /* the current wanted record (valid when has) */
    bool has;
} cp_file_t;

/* Advances a file's reader to its next wanted record. */
static int cp_advance(sift_ctx_t *ctx, cp_file_t *f)
{
    f->has = false;
    const sift_copy_src_t *s = f->src;
    if (f->next == s->n)
        return 0;
    uint64_t want = s->offsets[f->next];
    int rc;
    while ((rc = sift_reader_next(f->r, &f->rec)) == 1) {
        if (f->rec.offset < want)
            continue;
        if (f->rec.offset > want)
            break;
        f->has = true;
        do /* the same record listed twice is written once */
            f->next++;
        while (f->next < s->n && s->offsets[f->next] == want);
        return 0;
    }
    return sift__ctx_error(ctx, SIFT_ESTALE,
                           "%s: no packet at byte %llu where there was one: the file changed "
                           "since it was read",
                           s->path, (unsigned long long)want);
}

static int cp_merge(sift_ctx_t *ctx, cp_file_t *files, size_t n, sift_writer_t *w,
                    sift_copy_summary_t *sum, char *err)
{
    for (;;) {
        cp_file_t *best = NULL;
        for (size_t i = 0; i < n; i++)
            if (files[i].has && (!best || files[i].rec.ts_ns < best->rec.ts_ns))
                best = &files[i];
        if (!best)
            return 0;
        int rc = sift_writer_write(w, &best->rec, err);
        if (rc < 0)
            return rc;
        sum->packets++;
        sum->bytes += best->rec.caplen;
        rc = cp_advance(ctx, best);
        if (rc < 0) {
            snprintf(err, SIFT_ERRBUF_SIZE, "%s", sift_ctx_errmsg(ctx));
            return rc;
        }
    }
}

int sift_copy_records(sift_ctx_t *ctx, const sift_copy_src_t *src, size_t nsrc, FILE *out,
                      const char *name, const sift_copy_opts_t *o, sift_copy_summary_t *sum)
{
    sift_copy_summary_t scratch;
    if (!sum)
        sum = &scratch;
    memset(sum, 0, sizeof *sum);
    cp_file_t *files = calloc(nsrc ? nsrc : 1, sizeof *files);
    if (!files)
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    sift_reader_opts_t ro = {.buffer_size = 256 * 1024};
    int rc = 0;
    size_t n = 0;
    for (size_t i = 0; i < nsrc && rc == 0; i++) {
        if (src[i].n == 0)
            continue;
        cp_file_t *f = &files[n++];
        f->src = &src[i];
        rc = sift_reader_open(&f->r, ctx, src[i].path, &ro);
        if (rc == 0)
            rc = cp_advance(ctx, f);
    }
    sum->files = n;
    sum->pcapng = o->nlinks > 1 || o->overflow;
    sift_writer_opts_t wo = {.pcapng = sum->pcapng,
                             .nanoseconds = o->nanoseconds,
                             .linktype = o->nlinks ? o->linktypes[0] : 1};
    char err[SIFT_ERRBUF_SIZE] = "";
    sift_writer_t *w = NULL;
    if (rc == 0 && (rc = sift_writer_open(&w, out, &wo, err)) < 0)
        sift__ctx_error(ctx, rc, "%s", err);
    else if (rc == 0) {
        rc = cp_merge(ctx, files, n, w, sum, err);
        int crc = sift_writer_close(w, rc < 0 ? NULL : err);
        if (rc == 0)
            rc = crc;
        if (rc < 0 && rc != SIFT_ESTALE)
            name ? sift__ctx_error(ctx, rc, "%s: %s", name, err)
                 : sift__ctx_error(ctx, rc, "%s", err);
    }
    for (size_t i = 0; i < n; i++)
        sift_reader_close(files[i].r);
    free(files);
    return rc;
}

int sift_copy_records_file(sift_ctx_t *ctx, const sift_copy_src_t *src, size_t nsrc,
                           const char *path, const sift_copy_opts_t *o, sift_copy_summary_t *sum)
{
    size_t np = o->nprotect + nsrc;
    const char **prot = malloc((np ? np : 1) * sizeof *prot);
    if (!prot)
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->nprotect; i++)
        prot[i] = o->protect[i];
    for (size_t i = 0; i < nsrc; i++)
        prot[o->nprotect + i] = src[i].path;
    sift_outfile_opts_t oo = {.force = o->force, .protect = prot, .nprotect = np};
    sift_outfile_t *of = NULL;
    int rc = sift_outfile_open(&of, ctx, path, &oo);
    free(prot);
    if (rc == 0)
        rc = sift_copy_records(ctx, src, nsrc, sift_outfile_stream(of), path, o, sum);
    if (rc == 0)
        return sift_outfile_commit(of);
    sift_outfile_abort(of);
    return rc;
}
