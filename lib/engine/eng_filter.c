/* BPF filters through libpcap: one compiled program per link type, cached. */
#include "common/internal.h"

#include <capsift/filter.h>

#include <pcap/pcap.h>
#include <pthread.h>
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
    unsigned nprogs;
    unsigned last; /* index of the program used for the previous record */
    filter_prog_t progs[FILTER_MAX_LINKTYPES];
};

/* libpcap's compiler is not documented as thread-safe on every version: serialise it. */
static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

static int compile(const char *expr, int dlt, struct bpf_program *prog, char *errbuf)
{
    pthread_mutex_lock(&compile_lock);
    pcap_t *p = pcap_open_dead(dlt, 262144);
    int rc = 0;
    if (!p) {
        rc = sift__errorf(errbuf, SIFT_ENOMEM, "cannot set up the filter compiler");
    } else {
        if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0)
            rc = sift__errorf(errbuf, SIFT_EFILTER, "bad filter '%s': %s", expr, pcap_geterr(p));
        pcap_close(p);
    }
    pthread_mutex_unlock(&compile_lock);
    return rc;
}

int sift_filter_check(const char *expr, char *errbuf)
{
    struct bpf_program prog;
    int rc = compile(expr, DLT_EN10MB, &prog, errbuf);
    if (rc == SIFT_EFILTER) {
        char second[SIFT_ERRBUF_SIZE];
        if (compile(expr, DLT_RAW, &prog, second) == 0)
            rc = 0;
    }
    if (rc == 0)
        pcap_freecode(&prog);
    return rc;
}

int sift_filter_create(sift_filter_t **out, const char *expr, char *errbuf)
{
    *out = NULL;
    int rc = sift_filter_check(expr, errbuf);
    if (rc < 0)
        return rc;
    sift_filter_t *f = calloc(1, sizeof *f);
    if (!f || !(f->expr = strdup(expr))) {
        free(f);
        return sift__errorf(errbuf, SIFT_ENOMEM, "out of memory");
    }
    *out = f;
    return 0;
}

void sift_filter_free(sift_filter_t *f)
{
    if (!f)
        return;
    for (unsigned i = 0; i < f->nprogs; i++)
        if (f->progs[i].ok)
            pcap_freecode(&f->progs[i].prog);
    free(f->expr);
    free(f);
}

static filter_prog_t *program_for(sift_filter_t *f, uint32_t linktype, char *errbuf)
{
    if (SIFT_LIKELY(f->nprogs && f->progs[f->last].linktype == linktype))
        return &f->progs[f->last];
    for (unsigned i = 0; i < f->nprogs; i++) {
        if (f->progs[i].linktype == linktype) {
            f->last = i;
            return &f->progs[i];
        }
    }
    if (f->nprogs == FILTER_MAX_LINKTYPES) {
        sift__errorf(errbuf, SIFT_ELIMIT, "too many link types for one filter");
        return NULL;
    }
    filter_prog_t *p = &f->progs[f->nprogs];
    memset(p, 0, sizeof *p);
    p->linktype = linktype;
    int dlt = sift_linktype_to_dlt(linktype);
    if (dlt < 0) {
        sift__errorf(p->err, SIFT_EFILTER, "link type %u is unknown to libpcap", linktype);
    } else if (compile(f->expr, dlt, &p->prog, p->err) == 0) {
        p->ok = true;
    } else {
        const char *name = sift_linktype_name(linktype);
        char why[200];
        snprintf(why, sizeof why, "%.199s", p->err);
        snprintf(p->err, sizeof p->err, "filter does not apply to link type %u (%.40s): %.199s",
                 linktype, name ? name : "unknown", why);
    }
    f->last = f->nprogs++;
    return p;
}

int sift_filter_match(sift_filter_t *f, const sift_record_t *rec, char *errbuf)
{
    filter_prog_t *p = program_for(f, rec->linktype, errbuf);
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
