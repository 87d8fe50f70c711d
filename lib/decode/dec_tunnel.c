/* Tunnels: GRE (RFC 2784, key and sequence RFC 2890, PPTP enhanced GRE RFC 2637), ERSPAN types
 * I, II and III (draft-foschiano-erspan), Aruba GRE carrying 802.11 (protocol 0x8200), VXLAN
 * (RFC 7348, UDP 4789; VXLAN-GPE, UDP 4790), NSH-carrying encapsulations, Geneve (RFC 8926, UDP
 * 6081), GTP-U (3GPP TS 29.281, UDP 2152) and Teredo (RFC 4380, UDP 3544). The tables in
 * dec_next.c pick them: GRE by IP protocol, the UDP ones by port, and what each carries.
 *
 *  GRE                                       VXLAN (8)              Geneve (8 + options)
 *  +-+-+-+-+-----+-----+------------+        +--------+--------+    +---+------+-----+--------+
 *  |C|R|K|S| ... | ver | protocol   |        |flags|rsv|VNI|rsv|    |ver|optlen|flags|protocol|
 *  +-+-+-+-+-----+-----+------------+        +--------+--------+    +---+------+-----+--------+
 *  [checksum, reserved] [key] [sequence] [ack (ver 1)]               | VNI 24 | rsv | options |
 *
 *  GTP-U: flags(ver 3, PT, E, S, PN) type length TEID [seq npdu next-ext] {ext len*4 ... next}
 *  ERSPAN II: 8 bytes; III: 12 bytes [+ 8 platform bytes when O]; then Ethernet
 *  Teredo: [auth 0x0001 idlen aulen id auth nonce(8) conf(1)] [origin 0x0000 + 6] IPv6
 */
#include "decode/decode_int.h"

bool sift__dec_tunnel_enter(sift_dec_t *d, uint16_t sport, uint16_t dport)
{
    sift_packet_t *pkt = d->pkt;
    if (pkt->tunnel_depth >= DEC_MAX_TUNNELS) {
        pkt->flags |= SIFT_PKT_DEEP;
        return false;
    }
    if (pkt->tunnel_depth++ == 0) {
        pkt->outer_ip_version = pkt->ip_version;
        pkt->outer_ip_proto = pkt->ip_proto;
        pkt->outer_sport = sport;
        pkt->outer_dport = dport;
        memcpy(pkt->outer_src, pkt->src, 16);
        memcpy(pkt->outer_dst, pkt->dst, 16);
    }
    return true;
}

static void dec_erspan(sift_dec_t *d, dec_span_t s_, size_t hl)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = c.p;
    if (hl) {
        h = sift_cur_take(&c, hl);
        if (!h) {
            dec_trunc(d);
            return;
        }
        if (hl == 12 && (h[11] & 0x01)) { /* type III platform-specific subheader */
            if (!sift_cur_take(&c, 8)) {
                dec_trunc(d);
                return;
            }
            hl += 8;
        }
    }
    if (dec_push(d, SIFT_PROTO_ERSPAN, h, hl))
        sift__dec_ether(d, dec_span(&c));
}

/* ERSPAN type II has a sequence number in its GRE header; type I has neither it nor a header. */
void sift__dec_erspan(sift_dec_t *d, dec_span_t s)
{
    dec_erspan(d, s, (d->gre_flags & 0x1000) ? 8 : 0);
}

void sift__dec_erspan3(sift_dec_t *d, dec_span_t s)
{
    dec_erspan(d, s, 12);
}

/* GRE protocol 0x880b without PPTP: the PPP protocol field, with no address and control. */
void sift__dec_ppp_gre(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    uint16_t pp = sift_cur_be16(&c); /* read before the span is taken */
    if (c.trunc)
        dec_trunc(d);
    else
        sift__dec_ppp_proto(d, pp, dec_span(&c));
}

void sift__dec_gre(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 4);
    if (!h) {
        dec_trunc(d);
        return;
    }
    uint16_t flags = sift_load_be16(h);
    uint16_t proto = sift_load_be16(h + 2);
    unsigned ver = flags & 7u;
    size_t hl = 4;
    if (flags & 0x8000) /* checksum + reserved (RFC 1701: also when R is set) */
        hl += 4;
    else if (flags & 0x4000)
        hl += 4;
    if (flags & 0x2000)
        hl += 4;
    if (flags & 0x1000)
        hl += 4;
    if (ver == 1 && (flags & 0x0080))
        hl += 4;
    if (!sift_cur_take(&c, hl - 4)) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_GRE, h, hl))
        return;
    if ((ver != 0 && ver != 1) || (flags & 0x4000))
        return; /* unknown version; RFC 1701 source routing (obsolete) is not walked */
    if (!sift__dec_tunnel_enter(d, 0, 0))
        return;
    if (ver == 1) { /* PPTP: PPP, possibly with address/control */
        if (proto == 0x880b && sift_cur_left(&c) > 0)
            sift__dec_ppp(d, dec_span(&c));
        return;
    }
    d->gre_flags = flags;
    if (!sift__dec_next(d, DEC_GRE_PROTO, proto, dec_span(&c)))
        sift__dec_ethertype(d, proto, dec_span(&c));
}

void sift__dec_vxlan(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_VXLAN, h, 8) &&
        sift__dec_tunnel_enter(d, d->udp_sport, d->udp_dport))
        sift__dec_ether(d, dec_span(&c));
}

/* VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe, UDP 4790): as VXLAN with a next-protocol byte. */
void sift__dec_vxlan_gpe(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_VXLAN, h, 8) ||
        !sift__dec_tunnel_enter(d, d->udp_sport, d->udp_dport))
        return;
    uint8_t next = h[3] ? h[3] : 3; /* Wireshark reads it even without the P flag */
    sift__dec_next(d, DEC_NSH_NEXT, next, dec_span(&c));
}

void sift__dec_geneve(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    size_t optlen = (size_t)(h[0] & 0x3f) * 4u;
    if ((h[0] >> 6) != 0 || !sift_cur_take(&c, optlen)) {
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_GENEVE, h, 8 + optlen) &&
        sift__dec_tunnel_enter(d, d->udp_sport, d->udp_dport))
        sift__dec_ethertype(d, sift_load_be16(h + 2), dec_span(&c));
}

/* GTP-U version 1. Only T-PDUs (type 255) carry a user packet; echo and error indications
 * are the tunnel's own signalling. */
void sift__dec_gtpu(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if ((h[0] >> 5) != 1 || !(h[0] & 0x10))
        return;                             /* GTP' or not GTP: left as UDP payload */
    c = dec_sub(&c, sift_load_be16(h + 2)); /* the length counts the bytes after the TEID */
    size_t hl = 8;
    if (h[0] & 0x07) {
        const uint8_t *o = sift_cur_take(&c, 4);
        if (!o) {
            dec_trunc(d);
            return;
        }
        hl += 4;
        uint8_t next = (h[0] & 0x04) ? o[3] : 0;
        for (unsigned n = 0; next != 0; n++) {
            if (n >= DEC_MAX_GTP_EXT) {
                d->pkt->flags |= SIFT_PKT_DEEP;
                return;
            }
            uint8_t units = sift_cur_u8(&c);
            const uint8_t *e = units ? sift_cur_take(&c, (size_t)units * 4u - 1u) : NULL;
            if (!e) {
                dec_trunc(d);
                return;
            }
            hl += (size_t)units * 4u;
            next = e[(size_t)units * 4u - 2u];
        }
    }
    if (!dec_push(d, SIFT_PROTO_GTPU, h, hl) || h[1] != 0xff)
        return;
    if (sift__dec_tunnel_enter(d, d->udp_sport, d->udp_dport))
        sift__dec_ip_any(d, dec_span(&c));
}

/* Teredo: the UDP payload is an IPv6 packet, possibly after an authentication and an origin
 * indication. Anything that does not end in an IPv6 header stays plain UDP. */
void sift__dec_teredo(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *start = c.p;
    for (int i = 0; i < 2 && sift_cur_left(&c) >= 2; i++) {
        uint16_t t = sift_load_be16(c.p);
        if (t == 0x0001 && sift_cur_left(&c) >= 4) {
            size_t skip = 4u + c.p[2] + c.p[3] + 9u;
            if (skip > sift_cur_left(&c))
                return;
            sift_cur_skip(&c, skip);
        } else if (t == 0x0000) {
            if (sift_cur_left(&c) < 8)
                return;
            sift_cur_skip(&c, 8);
        } else {
            break;
        }
    }
    if (sift_cur_left(&c) < 40 || (c.p[0] >> 4) != 6)
        return;
    if (dec_push(d, SIFT_PROTO_TEREDO, start, (size_t)(c.p - start)) &&
        sift__dec_tunnel_enter(d, d->udp_sport, d->udp_dport))
        sift__dec_ipv6(d, dec_span(&c));
}
