/* Transport layers: TCP (RFC 9293), UDP (RFC 768), SCTP common header (RFC 9260), ICMP
 * (RFC 792), ICMPv6 (RFC 4443), IPsec ESP (RFC 4303) and AH over IPv4 (RFC 4302); IP-in-IP
 * (RFC 2003, RFC 4213 6in4) and GRE hand over to dec_tunnel.c.
 *
 *  TCP                                          UDP
 *  +---------------+---------------+            +---------------+---------------+
 *  | source port   | dest port     |            | source port   | dest port     |
 *  +---------------+---------------+            +---------------+---------------+
 *  | sequence number               |            | length        | checksum      |
 *  +-------------------------------+            +---------------+---------------+
 *  | acknowledgment number         |            SCTP: ports, verification tag, checksum
 *  +----+----+-----+---------------+            ICMP/ICMPv6: type, code, checksum, 4 bytes
 *  |off |rsv |flags| window        |
 *  +----+----+-----+---------------+
 *  | checksum      | urgent ptr    |  options: (off - 5) * 4 bytes
 *  +---------------+---------------+
 */
#include "decode/decode_int.h"

static inline void dec_payload(sift_dec_t *d, const sift_cursor_t *c)
{
    if (d->need >= SIFT_NEED_PAYLOAD) {
        size_t n = sift_cur_left(c);
        d->pkt->payload = n ? c->p : NULL;
        d->pkt->payload_len = (uint32_t)n;
    }
}

static void dec_tcp(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    const uint8_t *h = sift_cur_take(&c, 20);
    if (SIFT_UNLIKELY(!h)) {
        dec_trunc(d);
        return;
    }
    unsigned hl = (unsigned)(h[12] >> 4) * 4u;
    pkt->sport = sift_load_be16(h);
    pkt->dport = sift_load_be16(h + 2);
    pkt->tcp_seq = sift_load_be32(h + 4);
    pkt->tcp_ack = sift_load_be32(h + 8);
    pkt->tcp_flags = h[13];
    pkt->tcp_win = sift_load_be16(h + 14);
    pkt->l4_offset = dec_off(d, h);
    pkt->flags |= SIFT_PKT_L4;
    if (SIFT_UNLIKELY(hl < 20)) {
        dec_push(d, SIFT_PROTO_TCP, h, 20);
        dec_trunc(d); /* damaged data offset: ports are real, the payload is unknown */
        return;
    }
    pkt->tcp_optlen = (uint8_t)(hl - 20);
    if (hl > 20 && !sift_cur_take(&c, hl - 20)) {
        dec_push(d, SIFT_PROTO_TCP, h, 20);
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_TCP, h, hl))
        dec_payload(d, &c);
}

static void dec_udp(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    const uint8_t *h = sift_cur_take(&c, 8);
    if (SIFT_UNLIKELY(!h)) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_UDP, h, 8))
        return;
    uint16_t sport = sift_load_be16(h);
    uint16_t dport = sift_load_be16(h + 2);
    uint16_t ulen = sift_load_be16(h + 4);
    if (ulen >= 8 && (size_t)(ulen - 8) < sift_cur_left(&c))
        c.end = c.p + (ulen - 8);
    if (d->need >= SIFT_NEED_TRANSPORT) {
        pkt->sport = sport;
        pkt->dport = dport;
        pkt->l4_offset = dec_off(d, h);
        pkt->flags |= SIFT_PKT_L4;
        dec_payload(d, &c);
    }
    sift__dec_udp_tunnel(d, sport, dport, dec_span(&c));
}

static void dec_sctp(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    const uint8_t *h = sift_cur_take(&c, 12);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_SCTP, h, 12))
        return;
    pkt->sport = sift_load_be16(h);
    pkt->dport = sift_load_be16(h + 2);
    pkt->l4_offset = dec_off(d, h);
    pkt->flags |= SIFT_PKT_L4;
    dec_payload(d, &c);
}

static void dec_icmp(sift_dec_t *d, dec_span_t s_, unsigned proto)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    const uint8_t *h = sift_cur_take(&c, 4);
    if (!h) {
        dec_trunc(d);
        return;
    }
    pkt->icmp_type = h[0];
    pkt->icmp_code = h[1];
    pkt->l4_offset = dec_off(d, h);
    /* the rest of the 8-byte header (echo id/seq, MTU, pointer) belongs to the header;
     * the payload is what follows (echo data, the quoted packet of an error) */
    size_t rest = sift_cur_left(&c) < 4 ? sift_cur_left(&c) : 4;
    sift_cur_skip(&c, rest);
    if (dec_push(d, proto, h, 4 + rest))
        dec_payload(d, &c);
}

/* IPv4 AH: next header, payload length in 4-byte units minus 2. */
static void dec_ah4(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 12);
    if (!h) {
        dec_trunc(d);
        return;
    }
    size_t len = ((size_t)h[1] + 2u) * 4u;
    if (len < 12 || !sift_cur_take(&c, len - 12)) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_AH, h, len))
        return;
    d->pkt->ip_proto = h[0];
    sift__dec_transport(d, h[0], dec_span(&c));
}

void sift__dec_transport(sift_dec_t *d, uint8_t proto, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    /* Tunnels are followed at every need: the innermost addresses depend on them. Plain
     * transports are read only when asked for. */
    switch (proto) {
    case 6:
        if (d->need >= SIFT_NEED_TRANSPORT)
            dec_tcp(d, dec_span(&c));
        return;
    case 17:
        dec_udp(d, dec_span(&c));
        return;
    case 47:
        sift__dec_gre(d, dec_span(&c));
        return;
    case 4:
        if (sift__dec_tunnel_enter(d, 0, 0))
            sift__dec_ipv4(d, dec_span(&c));
        return;
    case 41:
        if (sift__dec_tunnel_enter(d, 0, 0))
            sift__dec_ipv6(d, dec_span(&c));
        return;
    case 51:
        dec_ah4(d, dec_span(&c));
        return;
    default:
        break;
    }
    if (d->need < SIFT_NEED_TRANSPORT)
        return;
    switch (proto) {
    case 132:
        dec_sctp(d, dec_span(&c));
        break;
    case 1:
        dec_icmp(d, dec_span(&c), SIFT_PROTO_ICMP);
        break;
    case 58:
        dec_icmp(d, dec_span(&c), SIFT_PROTO_ICMPV6);
        break;
    case 50:
        if (sift_cur_left(&c) >= 8)
            dec_push(d, SIFT_PROTO_ESP, c.p, 8);
        else
            dec_trunc(d);
        break;
    default:
        break;
    }
}
