/* Real data for the bench entries: the payloads of the TCP and UDP packets of the captures in
 * a directory (as the decoder finds them, through any link type and tunnel), and the series
 * of packet lengths and times. */
#include "common/internal.h"
#include "bn_suite.h"

#include <capsift/decode.h>
#include <capsift/engine.h>
#include <capsift/reader.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sift__bench_default_dir(char *buf, size_t size)
{
    snprintf(buf, size, "%s", SIFT_BENCH_DATA_DIR); /* the source tree's, set by CMake */
    return buf;
}

typedef struct grow {
    void *p;
    size_t n, cap, elem;
} grow_t;

static void *grow_push(grow_t *g, size_t count)
{
    if (g->n + count > g->cap) {
        size_t cap = g->cap ? g->cap : 1024;
        while (cap < g->n + count)
            cap *= 2;
        void *np = realloc(g->p, cap * g->elem);
        if (!np)
            return NULL;
        g->p = np;
        g->cap = cap;
    }
    void *at = (char *)g->p + g->n * g->elem;
    g->n += count;
    return at;
}

typedef struct names {
    char **v;
    size_t n, cap;
} names_t;

static int add_name(void *user, const char *path, const struct stat *st)
{
    (void)st;
    names_t *ns = user;
    if (ns->n == ns->cap) {
        size_t ncap = ns->cap ? ns->cap * 2 : 64;
        char **nv = realloc(ns->v, ncap * sizeof *nv);
        if (!nv)
            return SIFT_ENOMEM;
        ns->v = nv;
        ns->cap = ncap;
    }
    if (!(ns->v[ns->n] = strdup(path)))
        return SIFT_ENOMEM;
    ns->n++;
    return 0;
}

int sift__bench_data_load(const char *dir, sift__bench_data_t *d, char *errbuf)
{
    char defdir[1024];
    memset(d, 0, sizeof *d);
    if (!dir)
        dir = sift__bench_default_dir(defdir, sizeof defdir);
    sift_ctx_t *ctx = NULL;
    int rc = sift_ctx_create(&ctx);
    names_t names = {0};
    if (rc == 0 && sift_inputs_expand(ctx, dir, add_name, &names, NULL) < 0) {
        for (size_t i = 0; i < names.n; i++)
            free(names.v[i]);
        free(names.v);
        sift_ctx_free(ctx);
        return sift__errorf(errbuf, SIFT_ENOENT,
                            "cannot read the capture directory %s: give one with --data DIR", dir);
    }
    grow_t bytes = {NULL, 0, 0, 1}, off = {NULL, 0, 0, sizeof(size_t)};
    grow_t len = {NULL, 0, 0, sizeof(double)}, ts = {NULL, 0, 0, sizeof(int64_t)};
    size_t *o0 = rc == 0 ? grow_push(&off, 1) : NULL;
    if (!o0)
        rc = SIFT_ENOMEM;
    else
        *o0 = 0;
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        sift_reader_t *r = NULL;
        if (sift_reader_open(&r, ctx, names.v[i], NULL) < 0)
            continue; /* unreadable: other files still count */
        size_t before = len.n;
        sift_record_t rec;
        sift_packet_t pkt;
        while (rc == 0 && sift_reader_next(r, &rec) == 1) {
            double *l = grow_push(&len, 1);
            int64_t *t = grow_push(&ts, 1);
            if (!l || !t) {
                rc = SIFT_ENOMEM;
                break;
            }
            *l = rec.wirelen;
            *t = rec.ts_ns;
            /* TCP and UDP payloads of first fragments, as the decoder finds them */
            sift_decode(&pkt, &rec, SIFT_NEED_PAYLOAD);
            if (!pkt.payload_len || (pkt.ip_proto != 6 && pkt.ip_proto != 17))
                continue;
            size_t pl = pkt.payload_len;
            uint8_t *dst = grow_push(&bytes, pl);
            size_t *o = grow_push(&off, 1);
            if (!dst || !o) {
                rc = SIFT_ENOMEM;
                break;
            }
            memcpy(dst, pkt.payload, pl);
            *o = bytes.n;
        }
        if (len.n > before)
            d->files++;
        sift_reader_close(r);
    }
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    free(names.v);
    sift_ctx_free(ctx);
    d->bytes = bytes.p;
    d->off = off.p;
    d->npayloads = off.n ? off.n - 1 : 0;
    d->wirelen = len.p;
    d->ts = ts.p;
    d->npkts = len.n;
    if (rc == 0 && d->npayloads == 0)
        rc = sift__errorf(errbuf, SIFT_ENOENT,
                          "no TCP or UDP payloads in the captures of %s: give a directory of "
                          "captures with --data DIR",
                          dir);
    else if (rc < 0)
        sift__errorf(errbuf, rc, "reading the captures of %s: %s", dir, sift_strerror(rc));
    if (rc < 0)
        sift__bench_data_release(d);
    return rc;
}

void sift__bench_data_release(sift__bench_data_t *d)
{
    free(d->bytes);
    free(d->off);
    free(d->wirelen);
    free(d->ts);
    memset(d, 0, sizeof *d);
}
