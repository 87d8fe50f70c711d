/* Network layers: IPv4 (RFC 791, fragments; options skipped by IHL), IPv6 (RFC 8200, with the
 * extension-header chain: hop-by-hop, routing, fragment, destination options, AH per RFC 4302)
 * and ARP (RFC 826).
 *
 *  IPv4                                         IPv6
 *  +---+---+-------+---------------+            +---+--------+------------------+
 *  |ver|IHL| TOS   | total length  |            |ver| class  | flow label       |
 *  +---+---+-------+-+-+-+---------+            +---+--------+-------+----------+
 *  | identification  |0|D|M| frag off |         | payload length     | next |hops|
 *  +-------+-------+-+-+-+---------+            +--------------------+------+----+
 *  | TTL   | proto | checksum      |            | source (16)                    |
 *  +-------+-------+---------------+            +--------------------------------+
 *  | source | destination | options (IHL*4-20)  | destination (16)               |
 *                                               +--------------------------------+
 *  extension header: next header, length in 8-byte units (AH: 4-byte units, minus 2)
 *  fragment header (8): next header, reserved, offset(13) res(2) M(1), identification(32)
 */
#include "decode/decode_int.h"

/* A new innermost IP layer replaces what an outer one (and its transport) left in the view;
 * only on the tunnel path, the plain path starts from a cleared view. */
static void dec_reset_inner(sift_packet_t *pkt)
{
    pkt->flags = (pkt->flags & ~(SIFT_PKT_L4 | SIFT_PKT_NON_IP | SIFT_PKT_ARP)) | SIFT_PKT_TUNNEL;
    pkt->sport = pkt->dport = 0;
    pkt->tcp_flags = 0;
    pkt->tcp_seq = pkt->tcp_ack = 0;
    pkt->tcp_win = 0;
    pkt->tcp_optlen = 0;
    pkt->payload = NULL;
    pkt->payload_len = 0;
    pkt->icmp_type = pkt->icmp_code = 0;
    pkt->frag_more = 0;
    pkt->frag_offset = 0;
    pkt->ip_id = 0;
    pkt->l4_offset = 0;
    pkt->l4_len = 0;
}

void sift__dec_ipv4(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    const uint8_t *h = sift_cur_take(&c, 20);
    if (SIFT_UNLIKELY(!h)) {
        dec_trunc(d);
        return;
    }
    unsigned hl = (unsigned)(h[0] & 0x0f) * 4u;
    if (SIFT_UNLIKELY((h[0] >> 4) != 4 || hl < 20)) {
        dec_trunc(d); /* damaged: not an IPv4 header */
        return;
    }
    if (hl > 20 && !sift_cur_take(&c, hl - 20)) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_IPV4, h, hl))
        return;
    if (SIFT_UNLIKELY(pkt->tunnel_depth))
        dec_reset_inner(pkt);
    pkt->flags |= SIFT_PKT_L3;
    pkt->ip_version = 4;
    pkt->ip_proto = h[9];
    pkt->ethertype = 0x0800;
    pkt->l3_offset = dec_off(d, h);
    /* ::ffff:a.b.c.d */
    memset(pkt->src, 0, 10);
    memset(pkt->dst, 0, 10);
    pkt->src[10] = pkt->src[11] = pkt->dst[10] = pkt->dst[11] = 0xff;
    memcpy(pkt->src + 12, h + 12, 4);
    memcpy(pkt->dst + 12, h + 16, 4);

    /* The datagram ends at its total length when that is inside the capture (Ethernet padding
     * follows small packets). A total length of 0 is TSO/offload: the capture decides. */
    uint16_t total = sift_load_be16(h + 2);
    d->ip_end = total >= hl ? pkt->l3_offset + total : 0;
    if (total != 0) {
        if (SIFT_UNLIKELY(total < hl)) {
            dec_trunc(d);
            return;
        }
        size_t left = (size_t)(total - hl);
        if (left < sift_cur_left(&c))
            c.end = c.p + left;
    }
    uint16_t frag = sift_load_be16(h + 6);
    pkt->ip_id = sift_load_be16(h + 4);
    if (SIFT_UNLIKELY(frag & 0x3fff)) {
        pkt->flags |= SIFT_PKT_FRAGMENT;
        pkt->frag_more = (frag & 0x2000) != 0;
        pkt->frag_offset = (uint16_t)((frag & 0x1fff) * 8u);
        if (pkt->frag_offset != 0)
            return; /* only the first fragment holds the transport header */
    }
    sift__dec_next(d, DEC_IPPROTO, h[9], dec_span(&c));
}

static bool is_v6_ext(uint8_t nh)
{
    /* hop-by-hop, routing, fragment, destination options, AH */
    return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51;
}

void sift__dec_ipv6(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    const uint8_t *h = sift_cur_take(&c, 40);
    if (SIFT_UNLIKELY(!h)) {
        dec_trunc(d);
        return;
    }
    if (SIFT_UNLIKELY((h[0] >> 4) != 6)) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_IPV6, h, 40))
        return;
    if (SIFT_UNLIKELY(pkt->tunnel_depth))
        dec_reset_inner(pkt);
    uint8_t nh = h[6];
    pkt->flags |= SIFT_PKT_L3;
    pkt->ip_version = 6;
    pkt->ip_proto = nh;
    pkt->ethertype = 0x86dd;
    pkt->l3_offset = dec_off(d, h);
    memcpy(pkt->src, h + 8, 16);
    memcpy(pkt->dst, h + 24, 16);
    uint16_t plen = sift_load_be16(h + 4);
    d->ip_end = plen ? pkt->l3_offset + 40u + plen : 0;
    if (plen != 0 && plen < sift_cur_left(&c)) /* 0: jumbogram or offload */
        c.end = c.p + plen;

    for (unsigned n = 0; is_v6_ext(nh); n++) {
        if (n >= DEC_MAX_V6EXT) {
            pkt->flags |= SIFT_PKT_DEEP;
            return;
        }
        const uint8_t *e = sift_cur_take(&c, 8);
        if (!e) {
            dec_trunc(d);
            return;
        }
        size_t len = nh == 51 ? ((size_t)e[1] + 2u) * 4u : ((size_t)e[1] + 1u) * 8u;
        if (nh == 44)
            len = 8;
        if (len < 8 || !sift_cur_take(&c, len - 8)) {
            dec_trunc(d);
            return;
        }
        if (!dec_push(d, nh == 51 ? SIFT_PROTO_AH : SIFT_PROTO_IPV6_EXT, e, len))
            return;
        uint8_t cur = nh;
        nh = e[0];
        pkt->ip_proto = nh;
        if (cur == 44) {
            uint16_t off = sift_load_be16(e + 2);
            pkt->flags |= SIFT_PKT_FRAGMENT;
            pkt->frag_more = off & 1;
            pkt->frag_offset = off & 0xfff8;
            pkt->ip_id = sift_load_be32(e + 4);
            if (pkt->frag_offset != 0)
                return;
        }
    }
    sift__dec_next(d, DEC_IPPROTO, nh, dec_span(&c));
}

void sift__dec_arp(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    pkt->ethertype = 0x0806;
    pkt->flags |= SIFT_PKT_ARP | SIFT_PKT_NON_IP;
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    size_t len = 8u + 2u * ((size_t)h[4] + h[5]);
    if (!sift_cur_take(&c, len - 8)) {
        dec_trunc(d);
        return;
    }
    dec_push(d, SIFT_PROTO_ARP, h, len);
}
