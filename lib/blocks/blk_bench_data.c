/* Real data for the bench entries: the payloads of the TCP and UDP packets of the captures in
 * a directory, and the series of packet lengths and times. Read with the public reader. */
#include "common/internal.h"
#include "blocks/blk_bench.h"

#include <capsift/reader.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINKTYPE_ETHERNET 1

/* The payload span of an Ethernet / IPv4 or IPv6 / TCP or UDP frame: the bytes after the
 * transport header, cut at the IP length (Ethernet pads short frames). Anything else (VLAN
 * tags, tunnels, IP options beyond IHL, IPv6 extension headers, fragments) is skipped.
 *
 * A stand-in: once the library decoder (lib/decode) gives each packet's payload span, the
 * bench should take the payload from there instead of this helper. */
static bool bench_payload_span(const uint8_t *p, size_t n, uint32_t linktype, size_t *off,
                               size_t *len)
{
    if (linktype != LINKTYPE_ETHERNET || n < 14)
        return false;
    unsigned ethertype = (unsigned)p[12] << 8 | p[13];
    size_t ip = 14, l4, end;
    unsigned proto;
    if (ethertype == 0x0800) {
        if (n < ip + 20 || p[ip] >> 4 != 4)
            return false;
        size_t ihl = (size_t)(p[ip] & 0x0f) * 4;
        size_t tot = (size_t)p[ip + 2] << 8 | p[ip + 3];
        unsigned frag = ((unsigned)p[ip + 6] << 8 | p[ip + 7]) & 0x3fff; /* MF + offset */
        if (ihl < 20 || tot < ihl || frag != 0)
            return false;
        proto = p[ip + 9];
        l4 = ip + ihl;
        end = ip + tot;
    } else if (ethertype == 0x86dd) {
        if (n < ip + 40 || p[ip] >> 4 != 6)
            return false;
        proto = p[ip + 6];
        l4 = ip + 40;
        end = l4 + ((size_t)p[ip + 4] << 8 | p[ip + 5]);
    } else {
        return false;
    }
    if (end > n)
        end = n; /* snapped: keep what was captured */
    size_t data;
    if (proto == 6) {
        if (end < l4 + 20)
            return false;
        size_t doff = (size_t)(p[l4 + 12] >> 4) * 4;
        if (doff < 20)
            return false;
        data = l4 + doff;
    } else if (proto == 17) {
        data = l4 + 8;
    } else {
        return false;
    }
    if (data >= end)
        return false;
    *off = data;
    *len = end - data;
    return true;
}

const char *sift__bench_default_dir(char *buf, size_t size)
{
    /* __FILE__ is <source>/lib/blocks/blk_bench_data.c when built by CMake (absolute paths) */
    const char *file = __FILE__;
    const char *tail = strstr(file, "lib/blocks/blk_bench_data.c");
    int keep = tail ? (int)(tail - file) : 0;
    snprintf(buf, size, "%.*stests/captures", keep, file);
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

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir, sorted by name, in a NULL-terminated array. */
static char **list_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return NULL;
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n + 2 > cap) {
            cap *= 2;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(dh);
    if (!names)
        return NULL;
    qsort(names, n, sizeof *names, cmp_name);
    names[n] = NULL;
    return names;
}

int sift__bench_data_load(const char *dir, sift__bench_data_t *d, char *errbuf)
{
    char defdir[1024];
    memset(d, 0, sizeof *d);
    if (!dir)
        dir = sift__bench_default_dir(defdir, sizeof defdir);
    char **names = list_dir(dir);
    if (!names)
        return sift__errorf(errbuf, SIFT_ENOENT,
                            "cannot read the capture directory %s: give one with --data DIR", dir);
    sift_ctx_t *ctx = NULL;
    int rc = sift_ctx_create(&ctx);
    grow_t bytes = {NULL, 0, 0, 1}, off = {NULL, 0, 0, sizeof(size_t)};
    grow_t len = {NULL, 0, 0, sizeof(double)}, ts = {NULL, 0, 0, sizeof(int64_t)};
    size_t *o0 = rc == 0 ? grow_push(&off, 1) : NULL;
    if (!o0)
        rc = SIFT_ENOMEM;
    else
        *o0 = 0;
    for (size_t i = 0; names[i] && rc == 0; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        sift_reader_t *r = NULL;
        if (sift_reader_open(&r, ctx, path, NULL) < 0)
            continue; /* not a capture (SOURCES.md) or unreadable: other files still count */
        size_t before = len.n;
        sift_record_t rec;
        while (rc == 0 && sift_reader_next(r, &rec) == 1) {
            if (rec.linktype != LINKTYPE_ETHERNET)
                continue;
            double *l = grow_push(&len, 1);
            int64_t *t = grow_push(&ts, 1);
            if (!l || !t) {
                rc = SIFT_ENOMEM;
                break;
            }
            *l = rec.wirelen;
            *t = rec.ts_ns;
            size_t po, pl;
            if (!bench_payload_span(rec.data, rec.caplen, rec.linktype, &po, &pl))
                continue;
            uint8_t *dst = grow_push(&bytes, pl);
            size_t *o = grow_push(&off, 1);
            if (!dst || !o) {
                rc = SIFT_ENOMEM;
                break;
            }
            memcpy(dst, rec.data + po, pl);
            *o = bytes.n;
        }
        if (len.n > before)
            d->files++;
        sift_reader_close(r);
    }
    for (size_t i = 0; names[i]; i++)
        free(names[i]);
    free(names);
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
                          "Ethernet captures with --data DIR",
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
