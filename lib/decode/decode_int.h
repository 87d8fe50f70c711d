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
} sift_dec_t;

/* Offset of a cursor position in the record. */
static inline uint32_t dec_off(const sift_dec_t *d, const uint8_t *p)
{
    return (uint32_t)(p - d->base);
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

/* dec_link.c */
void sift__dec_link(sift_dec_t *d, uint32_t linktype, dec_span_t s);
void sift__dec_ether(sift_dec_t *d, dec_span_t s);
void sift__dec_ethertype(sift_dec_t *d, uint16_t type, dec_span_t s);
void sift__dec_ppp_proto(sift_dec_t *d, uint16_t proto, dec_span_t s);

/* PPP in HDLC-like framing (link type PPP, and PPTP inside GRE): the header, then its payload. */
void sift__dec_ppp(sift_dec_t *d, dec_span_t s);
void sift__dec_llc(sift_dec_t *d, dec_span_t s);
void sift__dec_ip_any(sift_dec_t *d, dec_span_t s); /* by the version nibble */

/* dec_80211.c */
void sift__dec_80211(sift_dec_t *d, dec_span_t s, bool fcs);
void sift__dec_radiotap(sift_dec_t *d, dec_span_t s);
void sift__dec_ppi(sift_dec_t *d, dec_span_t s);

/* dec_ip.c */
void sift__dec_ipv4(sift_dec_t *d, dec_span_t s);
void sift__dec_ipv6(sift_dec_t *d, dec_span_t s);
void sift__dec_arp(sift_dec_t *d, dec_span_t s);

/* dec_l4.c */
void sift__dec_transport(sift_dec_t *d, uint8_t proto, dec_span_t s);

/* dec_tunnel.c */
bool sift__dec_tunnel_enter(sift_dec_t *d, uint16_t sport, uint16_t dport);
void sift__dec_gre(sift_dec_t *d, dec_span_t s);
bool sift__dec_udp_tunnel(sift_dec_t *d, uint16_t sport, uint16_t dport, dec_span_t s);

#endif
