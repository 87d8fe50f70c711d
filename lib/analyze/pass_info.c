/* The info pass: counters over record headers. */
#include "common/internal.h"

#include <capsift/info.h>

#include <string.h>

static int info_init(void *state, const void *config)
{
    (void)config;
    sift_info_t *s = state;
    s->time_ordered = true;
    return 0;
}

static void add_link(sift_info_t *s, uint32_t linktype, uint64_t packets)
{
    for (unsigned i = 0; i < s->nlinks; i++) {
        if (s->linktype[i] == linktype) {
            s->link_packets[i] += packets;
            return;
        }
    }
    if (s->nlinks < SIFT_INFO_MAX_LINKTYPES) {
        s->linktype[s->nlinks] = linktype;
        s->link_packets[s->nlinks++] = packets;
    } else {
        s->other_link_packets += packets;
    }
}

static void info_packet(void *state, const sift_packet_t *pkt)
{
    sift_info_t *s = state;
    const sift_record_t *r = pkt->rec;
    s->packets++;
    s->bytes_captured += r->caplen;
    s->bytes_wire += r->wirelen;
    s->truncated += r->caplen < r->wirelen;
    if (r->caplen > s->max_caplen)
        s->max_caplen = r->caplen;
    if (SIFT_LIKELY(s->nlinks > 0 && s->linktype[0] == r->linktype))
        s->link_packets[0]++;
    else
        add_link(s, r->linktype, 1);
    if (SIFT_UNLIKELY(r->flags & SIFT_RECORD_NO_TS)) {
        s->no_ts++;
        return;
    }
    int64_t ts = r->ts_ns;
    if (SIFT_UNLIKELY(s->timed == 0)) {
        s->first_ts_ns = s->last_ts_ns = s->order_first_ns = s->order_last_ns = ts;
    } else {
        if (ts < s->first_ts_ns)
            s->first_ts_ns = ts;
        if (ts > s->last_ts_ns)
            s->last_ts_ns = ts;
        if (ts < s->order_last_ns)
            s->time_ordered = false;
        s->order_last_ns = ts;
    }
    s->timed++;
}

static int info_merge(void *into, const void *from)
{
    sift_info_t *a = into;
    const sift_info_t *b = from;
    a->packets += b->packets;
    a->bytes_captured += b->bytes_captured;
    a->bytes_wire += b->bytes_wire;
    a->truncated += b->truncated;
    a->no_ts += b->no_ts;
    if (b->max_caplen > a->max_caplen)
        a->max_caplen = b->max_caplen;
    for (unsigned i = 0; i < b->nlinks; i++)
        add_link(a, b->linktype[i], b->link_packets[i]);
    a->other_link_packets += b->other_link_packets;
    if (b->timed) {
        if (a->timed == 0) {
            a->first_ts_ns = b->first_ts_ns;
            a->last_ts_ns = b->last_ts_ns;
            a->order_first_ns = b->order_first_ns;
            a->time_ordered = b->time_ordered;
        } else {
            if (b->first_ts_ns < a->first_ts_ns)
                a->first_ts_ns = b->first_ts_ns;
            if (b->last_ts_ns > a->last_ts_ns)
                a->last_ts_ns = b->last_ts_ns;
            a->time_ordered =
                a->time_ordered && b->time_ordered && a->order_last_ns <= b->order_first_ns;
        }
        a->order_last_ns = b->order_last_ns;
        a->timed += b->timed;
    }
    return 0;
}

/* The result cache: every field, as 8-byte numbers in order (no padding stored). */
enum { INFO_FIELDS = 14 };

static void info_save(const void *state, sift_blob_t *out)
{
    const sift_info_t *s = state;
    const uint64_t v[INFO_FIELDS] = {s->packets,
                                     s->bytes_captured,
                                     s->bytes_wire,
                                     s->truncated,
                                     s->no_ts,
                                     s->timed,
                                     (uint64_t)s->first_ts_ns,
                                     (uint64_t)s->last_ts_ns,
                                     s->max_caplen,
                                     s->time_ordered,
                                     (uint64_t)s->order_first_ns,
                                     (uint64_t)s->order_last_ns,
                                     s->nlinks,
                                     s->other_link_packets};
    sift_blob_put(out, v, sizeof v);
    for (unsigned i = 0; i < s->nlinks; i++) {
        const uint64_t l[2] = {s->linktype[i], s->link_packets[i]};
        sift_blob_put(out, l, sizeof l);
    }
}

static int info_load(void *state, sift_blob_reader_t *in)
{
    sift_info_t *s = state;
    uint64_t v[INFO_FIELDS];
    if (!sift_blob_get(in, v, sizeof v) || v[12] > SIFT_INFO_MAX_LINKTYPES)
        return SIFT_ECORRUPT;
    s->packets = v[0];
    s->bytes_captured = v[1];
    s->bytes_wire = v[2];
    s->truncated = v[3];
    s->no_ts = v[4];
    s->timed = v[5];
    s->first_ts_ns = (int64_t)v[6];
    s->last_ts_ns = (int64_t)v[7];
    s->max_caplen = (uint32_t)v[8];
    s->time_ordered = v[9] != 0;
    s->order_first_ns = (int64_t)v[10];
    s->order_last_ns = (int64_t)v[11];
    s->nlinks = (unsigned)v[12];
    s->other_link_packets = v[13];
    for (unsigned i = 0; i < s->nlinks; i++) {
        uint64_t l[2];
        if (!sift_blob_get(in, l, sizeof l))
            return SIFT_ECORRUPT;
        s->linktype[i] = (uint32_t)l[0];
        s->link_packets[i] = l[1];
    }
    return 0;
}

const sift_pass_t sift_info_pass = {
    .name = "info",
    .needs = SIFT_NEED_RECORD,
    .state_size = sizeof(sift_info_t),
    .init = info_init,
    .packet = info_packet,
    .merge = info_merge,
    .release = NULL,
    .cache_version = 1,
    .save = info_save,
    .load = info_load,
};

int64_t sift_info_duration_ns(const sift_info_t *info)
{
    return info->timed > 1 ? info->last_ts_ns - info->first_ts_ns : 0;
}
