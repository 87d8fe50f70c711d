/* Transport layers: TCP (RFC 9293), UDP (RFC 768), SCTP common header (RFC 9260), ICMP
 * (RFC 792), ICMPv6 (RFC 4443), IPsec ESP (RFC 4303) and AH over IPv4 (RFC 4302). The IP
 * protocol table in dec_next.c picks them, and IP-in-IP (RFC 2003, RFC 4213 6in4) and GRE.
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

void sift__dec_tcp(sift_dec_t *d, dec_span_t s_)
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
    uint32_t sent = dec_wire_left(d, h, c.end);
    pkt->l4_len = sent > hl ? sent - hl : 0;
    if (hl > 20 && !sift_cur_take(&c, hl - 20)) {
        dec_push(d, SIFT_PROTO_TCP, h, 20);
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_TCP, h, hl))
        dec_payload(d, &c);
}

void sift__dec_udp(sift_dec_t *d, dec_span_t s_)
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
        pkt->l4_len = ulen >= 8 ? ulen - 8u : dec_wire_left(d, c.p, c.end);
        pkt->l4_offset = dec_off(d, h);
        pkt->flags |= SIFT_PKT_L4;
        dec_payload(d, &c);
    }
    /* tunnels by well-known port: the destination port is tried first */
    d->udp_sport = sport;
    d->udp_dport = dport;
    if (!sift__dec_next(d, DEC_UDP_PORT, dport, dec_span(&c)))
        sift__dec_next(d, DEC_UDP_PORT, sport, dec_span(&c));
}

void sift__dec_sctp(sift_dec_t *d, dec_span_t s_)
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

void sift__dec_icmp(sift_dec_t *d, dec_span_t s_, unsigned proto)
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
void sift__dec_ah4(sift_dec_t *d, dec_span_t s_)
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
    sift__dec_next(d, DEC_IPPROTO, h[0], dec_span(&c));
}

/* ESP (RFC 4303): SPI and sequence number; the rest is encrypted. */
void sift__dec_esp(sift_dec_t *d, dec_span_t s)
{
    if (s.end - s.p >= 8)
        dec_push(d, SIFT_PROTO_ESP, s.p, 8);
    else
        dec_trunc(d);
}
