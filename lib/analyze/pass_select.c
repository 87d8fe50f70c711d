/* The select pass: packets whose flow key is one of a sorted set, by offset. */
#include "common/internal.h"

#include <capsift/selectpass.h>

#include <stdlib.h>
#include <string.h>

struct sift_select {
    const sift_select_config_t *cfg;
    uint64_t *off;
    size_t n, cap;
    sift_copy_opts_t links; /* the link types seen (only its link fields are used) */
    bool lost;
};

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(sift_flow_key_t));
}

static int select_init(void *state, const void *config)
{
    sift_select_t *s = state;
    if (!config)
        return SIFT_EINVAL;
    s->cfg = config;
    return 0;
}

static void select_packet(void *state, const sift_packet_t *pkt)
{
    sift_select_t *s = state;
    sift_flow_key_t k;
    int dir;
    if (!sift_flow_key_make(&k, &dir, pkt, false) ||
        !bsearch(&k, s->cfg->keys, s->cfg->nkeys, sizeof k, key_cmp))
        return;
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        uint64_t *n = realloc(s->off, ncap * sizeof *n);
        if (!n) {
            s->lost = true;
            return;
        }
        s->off = n;
        s->cap = ncap;
    }
    s->off[s->n++] = pkt->rec->offset;
    sift_copy_opts_add_linktype(&s->links, pkt->rec->linktype);
}

static int select_merge(void *into, const void *from)
{
    sift_select_t *a = into;
    const sift_select_t *b = from;
    a->lost |= b->lost;
    for (unsigned i = 0; i < b->links.nlinks; i++)
        sift_copy_opts_add_linktype(&a->links, b->links.linktypes[i]);
    a->links.overflow |= b->links.overflow;
    if (b->n == 0)
        return 0;
    if (a->n + b->n > a->cap) {
        uint64_t *n = realloc(a->off, (a->n + b->n) * sizeof *n);
        if (!n)
            return SIFT_ENOMEM;
        a->off = n;
        a->cap = a->n + b->n;
    }
    memcpy(a->off + a->n, b->off, b->n * sizeof *b->off);
    a->n += b->n;
    return 0;
}

static void select_finish(void *state)
{
    sift_select_t *s = state;
    if (s->lost)
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: some packets of the flows are missing");
}

static void select_release(void *state)
{
    free(((sift_select_t *)state)->off);
}

const sift_pass_t sift_select_pass = {
    .name = "select",
    .needs = SIFT_NEED_TRANSPORT,
    .state_size = sizeof(sift_select_t),
    .init = select_init,
    .packet = select_packet,
    .merge = select_merge,
    .finish = select_finish,
    .release = select_release,
};

size_t sift_select_offsets(const sift_select_t *s, const uint64_t **offsets)
{
    *offsets = s->off;
    return s->n;
}

void sift_select_linktypes(const sift_select_t *s, sift_copy_opts_t *o)
{
    for (unsigned i = 0; i < s->links.nlinks; i++)
        sift_copy_opts_add_linktype(o, s->links.linktypes[i]);
    o->overflow |= s->links.overflow;
}
