/* The search pass: transport payloads scanned with a compiled matcher, one hit per packet and
 * pattern. In stream mode each TCP direction is one Hyperscan stream kept in the flow's bytes
 * (the policy for retransmissions and gaps is in capsift/searchpass.h). */
#include "common/internal.h"

#include <capsift/flow.h>
#include <capsift/searchpass.h>

#include <stdlib.h>
#include <string.h>

/* A pattern's matches in the packet being scanned. */
typedef struct cur_hit {
    uint32_t id, count;
    int64_t first; /* the first match's start, in stream (or block) offsets */
} cur_hit_t;

struct sift_search {
    const sift_matcher_t *m;
    uint64_t max_hits;
    size_t npat;
    sift_scanner_t *scanner;
    sift_stream_t *alone; /* stream mode: for what is scanned alone (reset after each use) */
    uint64_t *pat_packets, *pat_matches;
    sift_search_hit_t *hits;
    size_t nhits, cap;
    uint64_t total_hits;
    uint64_t scanned_packets, scanned_bytes;
    uint64_t unread;      /* packets of a link type the decoder does not read */
    uint32_t unread_link; /* the first such link type */
    cur_hit_t *cur;       /* the packet being scanned: one entry per pattern that matched */
    size_t ncur, curcap;
    bool lost; /* memory ran out for a hit */
};

/* One direction of a TCP flow in stream mode. */
typedef struct dir_stream {
    sift_stream_t *st;
    uint32_t next_seq;         /* the sequence number after the bytes scanned */
    uint32_t hole_lo, hole_hi; /* the latest gap skipped: [lo, hi) */
    uint64_t off;              /* stream offset of next_seq */
    bool started, hole;
} dir_stream_t;

typedef struct flow_streams {
    dir_stream_t d[2];
} flow_streams_t;

static bool on_match(void *user, unsigned id, uint64_t from, uint64_t to)
{
    (void)to;
    sift_search_t *s = user;
    for (size_t i = 0; i < s->ncur; i++) {
        if (s->cur[i].id == id) {
            s->cur[i].count++;
            return true;
        }
    }
    if (s->ncur == s->curcap) {
        size_t ncap = s->curcap ? s->curcap * 2 : 16;
        cur_hit_t *n = realloc(s->cur, ncap * sizeof *n);
        if (!n) {
            s->lost = true;
            return true;
        }
        s->cur = n;
        s->curcap = ncap;
    }
    s->cur[s->ncur++] = (cur_hit_t){.id = id, .count = 1, .first = (int64_t)from};
    return true;
}

static int cmp_cur(const void *a, const void *b)
{
    const cur_hit_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* The packet's matches become its hits; base is the stream offset of payload byte 0. */
static void flush_packet(sift_search_t *s, const sift_packet_t *pkt, int64_t base)
{
    if (s->ncur == 0)
        return;
    if (s->ncur > 1)
        qsort(s->cur, s->ncur, sizeof *s->cur, cmp_cur);
    for (size_t i = 0; i < s->ncur; i++) {
        const cur_hit_t *c = &s->cur[i];
        s->pat_packets[c->id]++;
        s->pat_matches[c->id] += c->count;
        s->total_hits++;
        if (s->nhits >= s->max_hits)
            continue;
        if (s->nhits == s->cap) {
            size_t ncap = s->cap ? s->cap * 2 : 256;
            if (ncap > s->max_hits)
                ncap = s->max_hits;
            sift_search_hit_t *n = realloc(s->hits, ncap * sizeof *n);
            if (!n) {
                s->lost = true;
                continue;
            }
            s->hits = n;
            s->cap = ncap;
        }
        sift_search_hit_t *h = &s->hits[s->nhits++];
        *h = (sift_search_hit_t){.packet = pkt->record + 1,
                                 .file_offset = pkt->rec->offset,
                                 .ts_ns = pkt->rec->ts_ns,
                                 .offset = c->first - base,
                                 .pattern = c->id,
                                 .count = c->count,
                                 .input = pkt->input,
                                 .linktype = pkt->rec->linktype,
                                 .ip_version = pkt->ip_version,
                                 .ip_proto = pkt->ip_proto,
                                 .sport = pkt->sport,
                                 .dport = pkt->dport};
        memcpy(h->src, pkt->src, 16);
        memcpy(h->dst, pkt->dst, 16);
    }
    s->ncur = 0;
}

static void scan_alone(sift_search_t *s, const uint8_t *p, size_t n)
{
    int rc;
    if (s->alone) {
        rc = sift_stream_scan(s->alone, s->scanner, p, n, on_match, s);
        if (rc == 0)
            rc = sift_stream_reset(s->alone, s->scanner, NULL, NULL);
    } else {
        rc = sift_scan_block(s->scanner, p, n, on_match, s);
    }
    if (rc < 0)
        s->lost = true;
}

/* A TCP segment of a direction in stream mode; returns the stream offset of payload byte 0,
 * or scans it alone (returning 0) when it fills the latest gap. */
static int64_t scan_segment(sift_search_t *s, dir_stream_t *d, const sift_packet_t *pkt)
{
    const uint8_t *p = pkt->payload;
    /* a SYN's data (TCP Fast Open) starts after the sequence number the SYN takes */
    uint32_t n = pkt->payload_len, seq = pkt->tcp_seq + ((pkt->tcp_flags & 0x02) ? 1u : 0u);
    if (d->started && d->hole && (int32_t)(seq - d->hole_lo) >= 0 &&
        (int32_t)(seq + n - d->hole_hi) <= 0 && (int32_t)(seq - d->next_seq) < 0) {
        scan_alone(s, p, n); /* a late segment inside the gap the stream jumped */
        return 0;
    }
    if (!d->started || (int32_t)(seq - d->next_seq) > 0) {
        if (!d->st && sift_stream_open(&d->st, s->m) < 0) {
            s->lost = true;
            return 0;
        }
        if (d->started) { /* a gap: no match spans it */
            if (sift_stream_reset(d->st, s->scanner, NULL, NULL) < 0)
                s->lost = true;
            d->hole = true;
            d->hole_lo = d->next_seq;
            d->hole_hi = seq;
        }
        d->started = true;
        d->next_seq = seq;
        d->off = 0;
    }
    uint32_t skip = (uint32_t)(d->next_seq - seq); /* bytes already scanned */
    int64_t base = (int64_t)d->off - (int64_t)skip;
    if (skip >= n)
        return base; /* a retransmission */
    if (sift_stream_scan(d->st, s->scanner, p + skip, n - skip, on_match, s) < 0)
        s->lost = true;
    d->next_seq = seq + n;
    d->off += n - skip;
    return base;
}

static void search_packet(void *state, const sift_packet_t *pkt)
{
    sift_search_t *s = state;
    if (SIFT_UNLIKELY(pkt->flags & SIFT_PKT_UNKNOWN_LINK)) {
        if (s->unread++ == 0)
            s->unread_link = pkt->rec->linktype;
        return;
    }
    if (!pkt->payload || pkt->payload_len == 0) {
        if (s->alone && pkt->flow_state && pkt->ip_proto == 6 && (pkt->tcp_flags & 0x02)) {
            dir_stream_t *d = &((flow_streams_t *)pkt->flow_state)->d[pkt->flow_dir & 1];
            if (!d->started) { /* a SYN: the data starts after it */
                d->next_seq = pkt->tcp_seq + 1;
                d->off = 0;
                d->started = true;
                if (sift_stream_open(&d->st, s->m) < 0) {
                    s->lost = true;
                    d->started = false;
                }
            }
        }
        return;
    }
    s->scanned_packets++;
    s->scanned_bytes += pkt->payload_len;
    int64_t base = 0;
    if (s->alone && pkt->flow_state && pkt->ip_proto == 6 && !(pkt->flags & SIFT_PKT_FRAGMENT))
        base = scan_segment(s, &((flow_streams_t *)pkt->flow_state)->d[pkt->flow_dir & 1], pkt);
    else
        scan_alone(s, pkt->payload, pkt->payload_len);
    flush_packet(s, pkt, base);
}

static int search_init(void *state, const void *config)
{
    sift_search_t *s = state;
    const sift_search_config_t *c = config;
    if (!c || !c->matcher)
        return SIFT_EINVAL;
    s->m = c->matcher;
    s->max_hits = c->max_hits ? c->max_hits : SIFT_SEARCH_DEFAULT_MAX_HITS;
    s->npat = sift_patterns_count(sift_matcher_patterns(s->m));
    s->pat_packets = calloc(s->npat, sizeof *s->pat_packets);
    s->pat_matches = calloc(s->npat, sizeof *s->pat_matches);
    if (!s->pat_packets || !s->pat_matches)
        return SIFT_ENOMEM;
    int rc = sift_scanner_create(&s->scanner, s->m);
    if (rc == 0 && sift_matcher_streaming(s->m))
        rc = sift_stream_open(&s->alone, s->m);
    return rc;
}

static void search_release(void *state)
{
    sift_search_t *s = state;
    sift_stream_close(s->alone, NULL, NULL, NULL);
    sift_scanner_free(s->scanner);
    free(s->pat_packets);
    free(s->pat_matches);
    free(s->hits);
    free(s->cur);
}

/* `from` covers the records after those of `into`: its packet numbers move by the records
 * before it. */
static int search_merge(void *into, const void *from)
{
    sift_search_t *a = into;
    const sift_search_t *b = from;
    uint64_t base = sift_pass_record_base(from);
    for (size_t i = 0; i < a->npat; i++) {
        a->pat_packets[i] += b->pat_packets[i];
        a->pat_matches[i] += b->pat_matches[i];
    }
    a->total_hits += b->total_hits;
    a->scanned_packets += b->scanned_packets;
    a->scanned_bytes += b->scanned_bytes;
    if (a->unread == 0)
        a->unread_link = b->unread_link;
    a->unread += b->unread;
    a->lost |= b->lost;
    size_t take = b->nhits;
    if (take > a->max_hits - a->nhits)
        take = (size_t)(a->max_hits - a->nhits);
    if (take == 0)
        return 0;
    if (a->nhits + take > a->cap) {
        sift_search_hit_t *n = realloc(a->hits, (a->nhits + take) * sizeof *n);
        if (!n) {
            a->lost = true;
            return 0;
        }
        a->hits = n;
        a->cap = a->nhits + take;
    }
    for (size_t i = 0; i < take; i++) {
        a->hits[a->nhits] = b->hits[i];
        a->hits[a->nhits++].packet += base;
    }
    return 0;
}

static void search_finish(void *state)
{
    sift_search_t *s = state;
    if (s->lost)
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: some matches are missing");
    else if (s->total_hits > s->nhits)
        sift_pass_report(
            s, SIFT_ELIMIT, "the limit of %llu hits was reached: %llu more are counted, not listed",
            (unsigned long long)s->max_hits, (unsigned long long)(s->total_hits - s->nhits));
}

static void search_declare(const void *config, sift_need_t *needs, unsigned *flags)
{
    (void)needs;
    const sift_search_config_t *c = config;
    if (c && c->matcher && sift_matcher_streaming(c->matcher))
        *flags |= SIFT_PASS_FLOWS | SIFT_PASS_WHOLE_FILE;
}

static void search_flow_release(void *flow_state)
{
    flow_streams_t *fs = flow_state;
    for (int i = 0; i < 2; i++) {
        sift_stream_close(fs->d[i].st, NULL, NULL, NULL);
        fs->d[i].st = NULL;
    }
}

const sift_pass_t sift_search_pass = {
    .name = "search",
    .needs = SIFT_NEED_PAYLOAD,
    .state_size = sizeof(sift_search_t),
    .init = search_init,
    .packet = search_packet,
    .merge = search_merge,
    .finish = search_finish,
    .release = search_release,
    .declare = search_declare,
    .flow_state_size = sizeof(flow_streams_t),
    .flow_release = search_flow_release,
};

size_t sift_search_hits(const sift_search_t *s, const sift_search_hit_t **hits)
{
    *hits = s->hits;
    return s->nhits;
}

uint64_t sift_search_total_hits(const sift_search_t *s)
{
    return s->total_hits;
}

uint64_t sift_search_pattern_packets(const sift_search_t *s, size_t id)
{
    return id < s->npat ? s->pat_packets[id] : 0;
}

uint64_t sift_search_pattern_matches(const sift_search_t *s, size_t id)
{
    return id < s->npat ? s->pat_matches[id] : 0;
}

uint64_t sift_search_scanned_packets(const sift_search_t *s)
{
    return s->scanned_packets;
}

uint64_t sift_search_scanned_bytes(const sift_search_t *s)
{
    return s->scanned_bytes;
}

uint64_t sift_search_unread(const sift_search_t *s, uint32_t *linktype)
{
    if (linktype)
        *linktype = s->unread_link;
    return s->unread;
}
