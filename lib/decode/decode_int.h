/* Internal interface between the decoder files (lib/decode/dec_*.c). Not installed.
 *
 * Every layer decoder takes the decoder state and a cursor positioned at the first byte of its
 * header whose end is the end of the bytes that layer may use (the record end, narrowed by an
 * enclosing IP or UDP length). Decoders read only through the cursor and call on to the next
 * layer; depth is bounded by the step and tunnel budgets below, so recursion always ends.
 */
#ifndef SIFT_DECODE_INT_H
#define SIFT_DECODE_INT_H

#include <capsift/decode.h>

#include "common/cursor.h"
#include "common/internal.h"

#include <stdbool.h>
#include <string.h>

#define DEC_MAX_TUNNELS   4  /* tunnels followed; the next one is left undecoded (DEEP) */
#define DEC_MAX_VLAN      8  /* VLAN tags in one stack */
#define DEC_MAX_MPLS      16 /* MPLS labels in one stack */
#define DEC_MAX_V6EXT     12 /* IPv6 extension headers in one chain */
#define DEC_MAX_GTP_EXT   8  /* GTP-U extension headers */
#define DEC_MAX_NFLOG_TLV 32 /* NFLOG TLVs scanned for the payload */

typedef struct sift_dec {
    sift_packet_t *pkt;
    const uint8_t *base; /* rec->data: layer offsets are relative to it */
    unsigned need;
    /* What an enclosing header tells the decoder of its payload, beyond the bytes: the ports
     * of the innermost UDP header (for the tunnels found by port) and the flags of the
     * innermost GRE header (ERSPAN's header depends on its sequence bit). */
    uint16_t udp_sport, udp_dport;
    uint16_t gre_flags;
    uint8_t tags;    /* VLAN and Cisco MetaData tags decoded, bounded by DEC_MAX_VLAN */
    uint32_t ip_end; /* offset just past the innermost IP datagram as sent (its length field);
                      * 0: it gave none (offload, jumbogram), the record's lengths decide */
} sift_dec_t;

/* Offset of a cursor position in the record. */
static inline uint32_t dec_off(const sift_dec_t *d, const uint8_t *p)
{
    return (uint32_t)(p - d->base);
}

/* Bytes as sent from cursor position p to the end of the innermost IP datagram. */
static inline uint32_t dec_wire_left(const sift_dec_t *d, const uint8_t *p, const uint8_t *end)
{
    uint32_t at = dec_off(d, p);
    if (d->ip_end)
        return d->ip_end > at ? d->ip_end - at : 0;
    const sift_record_t *r = d->pkt->rec;
    return (uint32_t)(end - p) + (r->wirelen > r->caplen ? r->wirelen - r->caplen : 0);
}

static inline void dec_trunc(sift_dec_t *d)
{
    d->pkt->flags |= SIFT_PKT_TRUNCATED;
}

/* Records a layer. Returns false (and sets DEEP) when the layer list is full: the caller stops,
 * which also bounds every recursion through the decoders. */
static inline bool dec_push(sift_dec_t *d, unsigned proto, const uint8_t *at, size_t len)
{
    sift_packet_t *pkt = d->pkt;
    if (SIFT_UNLIKELY(pkt->nlayers >= SIFT_PKT_MAX_LAYERS)) {
        pkt->flags |= SIFT_PKT_DEEP;
        return false;
    }
    sift_layer_t *l = &pkt->layers[pkt->nlayers++];
    l->proto = (uint16_t)proto;
    l->len = len > 0xffff ? 0xffff : (uint16_t)len;
    l->offset = dec_off(d, at);
    return true;
}

/* A cursor over [p, p + n) clipped to the cursor's end (n larger than what is left is clipped,
 * not an error: declared lengths beyond the capture are the normal snaplen case). */
static inline sift_cursor_t dec_sub(const sift_cursor_t *c, size_t n)
{
    size_t left = sift_cur_left(c);
    return sift_cur_make(c->p, n < left ? n : left);
}

/* What a layer decoder is given: the bytes from its first header byte to the end of what it
 * may use. Two pointers are passed in registers; a whole cursor (24 bytes) would go through
 * the stack and stall store forwarding on every call. Each decoder makes its own cursor. */
typedef struct dec_span {
    const uint8_t *p;
    const uint8_t *end;
} dec_span_t;

static inline sift_cursor_t dec_cur(dec_span_t s)
{
    sift_cursor_t c = {s.p, s.end, false};
    return c;
}

static inline dec_span_t dec_span(const sift_cursor_t *c)
{
    dec_span_t s = {c->p, c->end};
    return s;
}

static inline dec_span_t dec_sub_span(const sift_cursor_t *c, size_t n)
{
    sift_cursor_t sub = dec_sub(c, n);
    return dec_span(&sub);
}

/* A layer decoder, as the "next protocol" tables hold it. */
typedef void (*dec_fn_t)(sift_dec_t *d, dec_span_t s);

/* The number spaces in which a header names what follows it (dec_next.c holds the tables). */
enum dec_space {
    DEC_LINKTYPE,  /* pcap link types */
    DEC_ETHERTYPE, /* Ethernet, VLAN, SNAP, SLL, GRE, Geneve, Cisco MetaData */
    DEC_PPP,       /* PPP DLL protocol numbers */
    DEC_IPPROTO,   /* IPv4 protocol, IPv6 next header */
    DEC_IPVER,     /* the version nibble, where no header says (raw IP, MPLS, GTP-U, NFLOG) */
    DEC_BSD_AF,    /* BSD loopback address families */
    DEC_NSH_NEXT,  /* NSH and VXLAN-GPE next protocol */
    DEC_GRE_PROTO, /* GRE protocol types that are not EtherTypes (ERSPAN, Aruba, PPP) */
    DEC_UDP_PORT,  /* UDP ports of tunnels */
    DEC_SPACE_COUNT
};

typedef struct dec_next {
    uint32_t value;
    uint8_t need; /* the decoder runs only when the caller asked for at least this much */
    dec_fn_t fn;
} dec_next_t;

typedef struct dec_table {
    const dec_next_t *e;
    size_t n;
} dec_table_t;

extern const dec_table_t sift__dec_tables[DEC_SPACE_COUNT];

/* The entry of `space` for `value`, or NULL. */
static inline const dec_next_t *dec_find(enum dec_space space, uint32_t value)
{
    assert(space < DEC_SPACE_COUNT);
    const dec_table_t *t = &sift__dec_tables[space];
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].value == value)
            return &t->e[i];
    return NULL;
}

/* Decodes s with the decoder `space` lists for `value`, if d->need reaches the entry's. Returns
 * false when the table has no entry: the caller decides what an unknown value means. Inline:
 * it runs two or three times per packet, and a call around the short scan cost 15% of a
 * decode (bench_decode). */
static inline bool sift__dec_next(sift_dec_t *d, enum dec_space space, uint32_t value, dec_span_t s)
{
    const dec_next_t *e = dec_find(space, value);
    if (!e)
        return false;
    if (d->need >= e->need)
        e->fn(d, s);
    return true;
}

/* Marks a network layer that is not IP; type is its EtherType when one is known, else 0. */
static inline void dec_non_ip(sift_dec_t *d, uint16_t type)
{
    d->pkt->ethertype = type;
    d->pkt->flags |= SIFT_PKT_NON_IP;
}

/* The decoders the tables name. Each takes the bytes from its first header byte on. */

/* dec_link.c */
void sift__dec_link(sift_dec_t *d, uint32_t linktype, dec_span_t s); /* table, else unknown */
void sift__dec_ether(sift_dec_t *d, dec_span_t s);
void sift__dec_ethertype(sift_dec_t *d, uint16_t type, dec_span_t s); /* table, else non-IP */
void sift__dec_vlan(sift_dec_t *d, dec_span_t s);                     /* 802.1Q */
void sift__dec_vlan_ad(sift_dec_t *d, dec_span_t s);                  /* 802.1ad */
void sift__dec_cmd(sift_dec_t *d, dec_span_t s);
void sift__dec_pppoe(sift_dec_t *d, dec_span_t s);
void sift__dec_nsh(sift_dec_t *d, dec_span_t s);
void sift__dec_mpls(sift_dec_t *d, dec_span_t s);
void sift__dec_llc(sift_dec_t *d, dec_span_t s);
/* PPP in HDLC-like framing (link type PPP, and PPTP inside GRE): the header, then its payload. */
void sift__dec_ppp(sift_dec_t *d, dec_span_t s);
void sift__dec_ppp_proto(sift_dec_t *d, uint16_t proto, dec_span_t s); /* table, else non-IP */
void sift__dec_ip_any(sift_dec_t *d, dec_span_t s);                    /* by the version nibble */
void sift__dec_raw(sift_dec_t *d, dec_span_t s, int version);
void sift__dec_null(sift_dec_t *d, dec_span_t s);
void sift__dec_sll(sift_dec_t *d, dec_span_t s);
void sift__dec_sll2(sift_dec_t *d, dec_span_t s);
void sift__dec_chdlc(sift_dec_t *d, dec_span_t s);
void sift__dec_nflog(sift_dec_t *d, dec_span_t s);

/* dec_80211.c */
void sift__dec_80211(sift_dec_t *d, dec_span_t s, bool fcs);
void sift__dec_radiotap(sift_dec_t *d, dec_span_t s);
void sift__dec_ppi(sift_dec_t *d, dec_span_t s);

/* dec_ip.c */
void sift__dec_ipv4(sift_dec_t *d, dec_span_t s);
void sift__dec_ipv6(sift_dec_t *d, dec_span_t s);
void sift__dec_arp(sift_dec_t *d, dec_span_t s);

/* dec_l4.c */
void sift__dec_tcp(sift_dec_t *d, dec_span_t s);
void sift__dec_udp(sift_dec_t *d, dec_span_t s);
void sift__dec_sctp(sift_dec_t *d, dec_span_t s);
void sift__dec_icmp(sift_dec_t *d, dec_span_t s, unsigned proto);
void sift__dec_esp(sift_dec_t *d, dec_span_t s);
void sift__dec_ah4(sift_dec_t *d, dec_span_t s);

/* dec_tunnel.c */
bool sift__dec_tunnel_enter(sift_dec_t *d, uint16_t sport, uint16_t dport);
void sift__dec_gre(sift_dec_t *d, dec_span_t s);
void sift__dec_ppp_gre(sift_dec_t *d, dec_span_t s);
void sift__dec_erspan(sift_dec_t *d, dec_span_t s);
void sift__dec_erspan3(sift_dec_t *d, dec_span_t s);
void sift__dec_vxlan(sift_dec_t *d, dec_span_t s);
void sift__dec_vxlan_gpe(sift_dec_t *d, dec_span_t s);
void sift__dec_geneve(sift_dec_t *d, dec_span_t s);
void sift__dec_gtpu(sift_dec_t *d, dec_span_t s);
void sift__dec_teredo(sift_dec_t *d, dec_span_t s);

#endif
