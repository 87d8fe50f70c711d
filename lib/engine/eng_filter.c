/* BPF filters through libpcap: one compiled program per link type, compiled once per filter
 * and shared by every worker.
 *
 * libpcap's compiler takes time that grows faster than the expression: measured here, 200
 * "host A or ..." terms take 0.72 s with its optimiser and 0.19 s without, 500 terms 8.8 s and
 * 0.87 s, 2000 terms 17.6 s even unoptimised, and 8000 crash it. So the terms are counted
 * first: up to SIFT_FILTER_OPT_TERMS the program is optimised, up to SIFT_FILTER_MAX_TERMS it
 * is compiled unoptimised (same matches, longer program), and beyond that it is refused with a
 * message saying so.
 */
#include "common/internal.h"

#include <capsift/filter.h>

#include <ctype.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILTER_MAX_LINKTYPES 16

typedef struct filter_prog {
    uint32_t linktype;
    bool ok;
    struct bpf_program prog;
    char err[SIFT_ERRBUF_SIZE];
} filter_prog_t;

struct sift_filter {
    char *expr;
    int optimize;
    /* progs[0 .. nprogs) are complete and never change: readers need no lock */
    atomic_uint nprogs;
    pthread_mutex_t add_lock; /* one thread compiles and appends at a time */
    filter_prog_t progs[FILTER_MAX_LINKTYPES];
};

/* libpcap's compiler is not documented as thread-safe on every version: serialise it. */
static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

static int compile(const char *expr, int optimize, int dlt, struct bpf_program *prog, char *errbuf)
{
    pthread_mutex_lock(&compile_lock);
    pcap_t *p = pcap_open_dead(dlt, 262144);
    int rc = 0;
    if (!p) {
        rc = sift__errorf(errbuf, SIFT_ENOMEM, "cannot set up the filter compiler");
    } else {
        if (pcap_compile(p, prog, expr, optimize, PCAP_NETMASK_UNKNOWN) != 0)
            rc =
                sift__errorf(errbuf, SIFT_EFILTER, "bad filter '%.200s': %s", expr, pcap_geterr(p));
        pcap_close(p);
    }
    pthread_mutex_unlock(&compile_lock);
    return rc;
}

size_t sift_filter_terms(const char *expr)
{
    size_t terms = 1;
    for (const char *p = expr; *p;) {
        if (isspace((unsigned char)*p) || *p == '(' || *p == ')') {
            p++;
            continue;
        }
        if ((p[0] == '&' && p[1] == '&') || (p[0] == '|' && p[1] == '|')) {
            terms++;
            p += 2;
            continue;
        }
        const char *w = p;
        while (*p && !isspace((unsigned char)*p) && *p != '(' && *p != ')')
            p++;
        size_t n = (size_t)(p - w);
        if ((n == 3 && strncmp(w, "and", 3) == 0) || (n == 2 && strncmp(w, "or", 2) == 0))
            terms++;
    }
    return terms;
}

/* Appends a program for linktype: prog when given (already compiled), else compiled now.
 * The caller holds add_lock or is the only user. NULL when the table is full. */
static const filter_prog_t *add_program(sift_filter_t *f, uint32_t linktype,
                                        const struct bpf_program *prog)
{
    unsigned n = atomic_load_explicit(&f->nprogs, memory_order_relaxed);
    if (n == FILTER_MAX_LINKTYPES)
        return NULL;
    filter_prog_t *p = &f->progs[n];
    memset(p, 0, sizeof *p);
    p->linktype = linktype;
    int dlt = sift_linktype_to_dlt(linktype);
    if (prog) {
        p->prog = *prog;
        p->ok = true;
    } else if (dlt < 0) {
        sift__errorf(p->err, SIFT_EFILTER, "link type %u is unknown to libpcap", linktype);
    } else if (compile(f->expr, f->optimize, dlt, &p->prog, p->err) == 0) {
        p->ok = true;
    } else {
        const char *name = sift_linktype_name(linktype);
        char why[200];
        snprintf(why, sizeof why, "%.199s", p->err);
        snprintf(p->err, sizeof p->err, "filter does not apply to link type %u (%.40s): %.199s",
                 linktype, name ? name : "unknown", why);
    }
    atomic_store_explicit(&f->nprogs, n + 1, memory_order_release);
    return p;
}

int sift_filter_create(sift_filter_t **out, const char *expr, char *errbuf)
{
    *out = NULL;
    size_t terms = sift_filter_terms(expr);
    size_t len = strlen(expr);
    if (terms > SIFT_FILTER_MAX_TERMS || len > SIFT_FILTER_MAX_LENGTH)
        return sift__errorf(errbuf, SIFT_ELIMIT,
                            "filter of %zu terms and %zu characters is too large: at most %d "
                            "terms and %d characters (libpcap's compiler slows down sharply and "
                            "fails past that); split it over several runs, or select by net "
                            "(net 10.0.0.0/8) instead of listing hosts",
                            terms, len, SIFT_FILTER_MAX_TERMS, SIFT_FILTER_MAX_LENGTH);
    sift_filter_t *f = calloc(1, sizeof *f);
    if (!f || !(f->expr = strdup(expr))) {
        free(f);
        return sift__errorf(errbuf, SIFT_ENOMEM, "out of memory");
    }
    f->optimize = terms <= SIFT_FILTER_OPT_TERMS;
    atomic_init(&f->nprogs, 0);
    pthread_mutex_init(&f->add_lock, NULL);
    /* The syntax check gives the first program: Ethernet, or else raw IP ("ip" compiles for
     * both, "ether host" only for the first, "ip6 and ppp" for neither) */
    struct bpf_program prog;
    char scratch[SIFT_ERRBUF_SIZE];
    int rc = compile(expr, f->optimize, DLT_EN10MB, &prog, errbuf);
    if (rc == 0)
        add_program(f, 1, &prog);
    else if (rc == SIFT_EFILTER && compile(expr, f->optimize, DLT_RAW, &prog, scratch) == 0)
        add_program(f, 101, &prog);
    else {
        sift_filter_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int sift_filter_check(const char *expr, char *errbuf)
{
    sift_filter_t *f;
    int rc = sift_filter_create(&f, expr, errbuf);
    sift_filter_free(f);
    return rc;
}

void sift_filter_free(sift_filter_t *f)
{
    if (!f)
        return;
    unsigned n = atomic_load(&f->nprogs);
    for (unsigned i = 0; i < n; i++)
        if (f->progs[i].ok)
            pcap_freecode(&f->progs[i].prog);
    pthread_mutex_destroy(&f->add_lock);
    free(f->expr);
    free(f);
}

static const filter_prog_t *find(const sift_filter_t *f, unsigned n, uint32_t linktype)
{
    for (unsigned i = 0; i < n; i++)
        if (f->progs[i].linktype == linktype)
            return &f->progs[i];
    return NULL;
}

static const filter_prog_t *program_for(sift_filter_t *f, uint32_t linktype, char *errbuf)
{
    unsigned n = atomic_load_explicit(&f->nprogs, memory_order_acquire);
    const filter_prog_t *p = find(f, n, linktype);
    if (SIFT_LIKELY(p != NULL))
        return p;
    pthread_mutex_lock(&f->add_lock);
    n = atomic_load_explicit(&f->nprogs, memory_order_acquire);
    p = find(f, n, linktype);
    if (!p)
        p = add_program(f, linktype, NULL);
    pthread_mutex_unlock(&f->add_lock);
    if (!p)
        sift__errorf(errbuf, SIFT_ELIMIT, "too many link types for one filter");
    return p;
}

int sift_filter_match(sift_filter_t *f, const sift_record_t *rec, char *errbuf)
{
    const filter_prog_t *p = program_for(f, rec->linktype, errbuf);
    if (!p)
        return SIFT_ELIMIT;
    if (SIFT_UNLIKELY(!p->ok)) {
        if (errbuf)
            memcpy(errbuf, p->err, SIFT_ERRBUF_SIZE);
        return SIFT_EFILTER;
    }
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(rec->ts_ns / 1000000000);
    h.ts.tv_usec = (suseconds_t)(rec->ts_ns % 1000000000 / 1000);
    h.caplen = rec->caplen;
    h.len = rec->wirelen;
    return pcap_offline_filter(&p->prog, &h, rec->data) != 0;
}
