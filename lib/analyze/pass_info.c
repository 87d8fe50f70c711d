/* The info pass: counters over record headers. */
#include "common/internal.h"

#include <capsift/info.h>

#include <string.h>

/* The state: what sift_info_get gives, and the first and last timestamps in file order (for
 * merging time order). */
struct sift_info {
    sift_info_summary_t v;
    int64_t order_first_ns, order_last_ns;
};

static int info_init(void *state, const void *config)
{
    (void)config;
    sift_info_t *s = state;
    s->v.time_ordered = true;
    return 0;
}

static void add_link(sift_info_t *s, uint32_t linktype, uint64_t packets)
{
    for (unsigned i = 0; i < s->v.nlinks; i++) {
        if (s->v.linktype[i] == linktype) {
            s->v.link_packets[i] += packets;
            return;
        }
    }
    if (s->v.nlinks < SIFT_INFO_MAX_LINKTYPES) {
        s->v.linktype[s->v.nlinks] = linktype;
        s->v.link_packets[s->v.nlinks++] = packets;
    } else {
        s->v.other_link_packets += packets;
    }
}

static void info_packet(void *state, const sift_packet_t *pkt)
{
    sift_info_t *s = state;
    const sift_record_t *r = pkt->rec;
    s->v.packets++;
    s->v.bytes_captured += r->caplen;
    s->v.bytes_wire += r->wirelen;
    s->v.truncated += r->caplen < r->wirelen;
    if (r->caplen > s->v.max_caplen)
        s->v.max_caplen = r->caplen;
    if (SIFT_LIKELY(s->v.nlinks > 0 && s->v.linktype[0] == r->linktype))
        s->v.link_packets[0]++;
    else
        add_link(s, r->linktype, 1);
    if (SIFT_UNLIKELY(r->flags & SIFT_RECORD_NO_TS)) {
        s->v.no_ts++;
        return;
    }
    int64_t ts = r->ts_ns;
    if (SIFT_UNLIKELY(s->v.timed == 0)) {
        s->v.first_ts_ns = s->v.last_ts_ns = s->order_first_ns = s->order_last_ns = ts;
    } else {
        if (ts < s->v.first_ts_ns)
            s->v.first_ts_ns = ts;
        if (ts > s->v.last_ts_ns)
            s->v.last_ts_ns = ts;
        if (ts < s->order_last_ns)
            s->v.time_ordered = false;
        s->order_last_ns = ts;
    }
    s->v.timed++;
}

static int info_merge(void *into, const void *from)
{
    sift_info_t *a = into;
    const sift_info_t *b = from;
    a->v.packets += b->v.packets;
    a->v.bytes_captured += b->v.bytes_captured;
    a->v.bytes_wire += b->v.bytes_wire;
    a->v.truncated += b->v.truncated;
    a->v.no_ts += b->v.no_ts;
    if (b->v.max_caplen > a->v.max_caplen)
        a->v.max_caplen = b->v.max_caplen;
    for (unsigned i = 0; i < b->v.nlinks; i++)
        add_link(a, b->v.linktype[i], b->v.link_packets[i]);
    a->v.other_link_packets += b->v.other_link_packets;
    if (b->v.timed) {
        if (a->v.timed == 0) {
            a->v.first_ts_ns = b->v.first_ts_ns;
            a->v.last_ts_ns = b->v.last_ts_ns;
            a->order_first_ns = b->order_first_ns;
            a->v.time_ordered = b->v.time_ordered;
        } else {
            if (b->v.first_ts_ns < a->v.first_ts_ns)
                a->v.first_ts_ns = b->v.first_ts_ns;
            if (b->v.last_ts_ns > a->v.last_ts_ns)
                a->v.last_ts_ns = b->v.last_ts_ns;
            a->v.time_ordered =
                a->v.time_ordered && b->v.time_ordered && a->order_last_ns <= b->order_first_ns;
        }
        a->order_last_ns = b->order_last_ns;
        a->v.timed += b->v.timed;
    }
    return 0;
}

/* The result cache: every field, as 8-byte numbers in order (no padding stored). */
enum { INFO_FIELDS = 14 };

static void info_save(const void *state, sift_blob_t *out)
{
    const sift_info_t *s = state;
    const uint64_t v[INFO_FIELDS] = {s->v.packets,
                                     s->v.bytes_captured,
                                     s->v.bytes_wire,
                                     s->v.truncated,
                                     s->v.no_ts,
                                     s->v.timed,
                                     (uint64_t)s->v.first_ts_ns,
                                     (uint64_t)s->v.last_ts_ns,
                                     s->v.max_caplen,
                                     s->v.time_ordered,
                                     (uint64_t)s->order_first_ns,
                                     (uint64_t)s->order_last_ns,
                                     s->v.nlinks,
                                     s->v.other_link_packets};
    sift_blob_put(out, v, sizeof v);
    for (unsigned i = 0; i < s->v.nlinks; i++) {
        const uint64_t l[2] = {s->v.linktype[i], s->v.link_packets[i]};
        sift_blob_put(out, l, sizeof l);
    }
}

static int info_load(void *state, sift_blob_reader_t *in)
{
    sift_info_t *s = state;
    uint64_t v[INFO_FIELDS];
    if (!sift_blob_get(in, v, sizeof v) || v[12] > SIFT_INFO_MAX_LINKTYPES)
        return SIFT_ECORRUPT;
    s->v.packets = v[0];
    s->v.bytes_captured = v[1];
    s->v.bytes_wire = v[2];
    s->v.truncated = v[3];
    s->v.no_ts = v[4];
    s->v.timed = v[5];
    s->v.first_ts_ns = (int64_t)v[6];
    s->v.last_ts_ns = (int64_t)v[7];
    s->v.max_caplen = (uint32_t)v[8];
    s->v.time_ordered = v[9] != 0;
    s->order_first_ns = (int64_t)v[10];
    s->order_last_ns = (int64_t)v[11];
    s->v.nlinks = (unsigned)v[12];
    s->v.other_link_packets = v[13];
    for (unsigned i = 0; i < s->v.nlinks; i++) {
        uint64_t l[2];
        if (!sift_blob_get(in, l, sizeof l))
            return SIFT_ECORRUPT;
        s->v.linktype[i] = (uint32_t)l[0];
        s->v.link_packets[i] = l[1];
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

void sift_info_get(const sift_info_t *s, sift_info_summary_t *out)
{
    static const sift_info_summary_t none = {0};
    *out = s ? s->v : none;
}

int64_t sift_info_duration_ns(const sift_info_summary_t *info)
{
    return info->timed > 1 ? info->last_ts_ns - info->first_ts_ns : 0;
}
