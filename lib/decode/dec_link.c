/* Link layers: Ethernet II and IEEE 802.3 with 802.2 LLC / SNAP (RFC 1042), IEEE 802.1Q and
 * 802.1ad VLAN tags, MPLS label stacks (RFC 3032, PW control word RFC 4385), Linux cooked
 * capture SLL and SLL2, BSD loopback (NULL, LOOP), raw IP, PPP (RFC 1661/1662), PPPoE session
 * (RFC 2516), Cisco HDLC, and Linux NFLOG; link-type numbers from tcpdump.org linktypes.
 *
 *  Ethernet II / 802.3                 802.1Q tag              MPLS label (RFC 3032)
 *  +--------+--------+--------+        +------+--------+       +--------------+---+-+------+
 *  | dst 6  | src 6  | type/len|       |TCI 2 | type 2 |       | label 20     |TC |S| TTL  |
 *  +--------+--------+--------+        +------+--------+       +--------------+---+-+------+
 *   len <= 1500: 802.2 LLC  DSAP SSAP ctrl [SNAP: OUI 3, type 2 when AA AA 03]
 *
 *  SLL (16 bytes)                                 SLL2 (20 bytes)
 *  +-------+-------+--------+---------+------+ +------+------+--------+-------+----+----+-------+
 *  |pkttype|ARPHRD |addr len| addr 8  |proto |     |proto |rsvd  |ifindex4|ARPHRD |pkt |alen| addr
 * 8|
 *  +-------+-------+--------+---------+------+ +------+------+--------+-------+----+----+-------+
 *
 *  NULL/LOOP: 4-byte address family (writer's order)  PPPoE: ver/type code session length | PPP
 *  NFLOG: family version resource-id, then TLVs {len (host order), type} padded to 4; type 9
 *  is the packet payload.
 */
#include "decode/decode_int.h"

/* An EtherType, or an 802.3 length (Ethernet, the last VLAN tag): a length is followed by LLC
 * within that length. */
static void dec_type_or_len(sift_dec_t *d, uint16_t type, const sift_cursor_t *c)
{
    if (SIFT_LIKELY(type >= 0x0600))
        sift__dec_ethertype(d, type, dec_span(c));
    else if (type <= 1500)
        sift__dec_llc(d, dec_sub_span(c, type));
    else
        dec_non_ip(d, 0);
}

void sift__dec_ether(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 14);
    if (SIFT_UNLIKELY(!h)) {
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_ETH, h, 14))
        dec_type_or_len(d, sift_load_be16(h + 12), &c);
}

void sift__dec_ethertype(sift_dec_t *d, uint16_t type, dec_span_t s)
{
    if (!sift__dec_next(d, DEC_ETHERTYPE, type, s))
        dec_non_ip(d, type);
}

/* Tags (VLAN, Cisco MetaData) nest by recursion through the EtherType table; this bounds how
 * many one packet may stack. */
static bool dec_tag_enter(sift_dec_t *d)
{
    if (d->tags >= DEC_MAX_VLAN) {
        d->pkt->flags |= SIFT_PKT_DEEP;
        return false;
    }
    d->tags++;
    return true;
}

/* One 802.1Q or 802.1ad tag: TCI, then the EtherType or length of what it carries. */
static void dec_tag(sift_dec_t *d, dec_span_t s_, unsigned proto)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    if (!dec_tag_enter(d))
        return;
    const uint8_t *h = sift_cur_take(&c, 4);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, proto, h, 4))
        return;
    if (pkt->vlan_count++ == 0)
        pkt->vlan = sift_load_be16(h) & 0x0fff;
    dec_type_or_len(d, sift_load_be16(h + 2), &c);
}

void sift__dec_vlan(sift_dec_t *d, dec_span_t s)
{
    dec_tag(d, s, SIFT_PROTO_VLAN);
}

void sift__dec_vlan_ad(sift_dec_t *d, dec_span_t s)
{
    dec_tag(d, s, SIFT_PROTO_VLAN_AD);
}

/* Cisco MetaData: version, length, options, SGT, EtherType. */
void sift__dec_cmd(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    if (!dec_tag_enter(d))
        return;
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_CMD, h, 8))
        sift__dec_ethertype(d, sift_load_be16(h + 6), dec_span(&c));
}

/* PPPoE session: version/type, code, session id, length, then the PPP protocol field. */
void sift__dec_pppoe(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_PPPOE, h, 6) || !dec_push(d, SIFT_PROTO_PPP, h + 6, 2))
        return;
    /* the PPPoE length counts the PPP protocol field too */
    uint16_t len = sift_load_be16(h + 4);
    sift__dec_ppp_proto(d, sift_load_be16(h + 6), dec_sub_span(&c, len >= 2 ? (size_t)len - 2 : 0));
}

/* Network Service Header (RFC 8300): version, O, U, TTL, length (4-byte words), MD type,
 * next protocol; then the service path header and metadata, all inside `length`. */
void sift__dec_nsh(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    size_t len = (size_t)(sift_load_be16(h) & 0x3f) * 4u;
    if ((h[0] >> 6) != 0 || len < 8 || !sift_cur_take(&c, len - 8)) {
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_NSH, h, len) && !sift__dec_next(d, DEC_NSH_NEXT, h[3], dec_span(&c)))
        dec_non_ip(d, 0);
}

/* 802.2 LLC, with SNAP (RFC 1042) carrying an EtherType. Anything else (STP, NetBIOS, IPX)
 * is a non-IP network layer. */
void sift__dec_llc(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 3);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (h[0] == 0xaa && h[1] == 0xaa && h[2] == 0x03) {
        const uint8_t *s = sift_cur_take(&c, 5);
        if (!s) {
            dec_trunc(d);
            return;
        }
        if (!dec_push(d, SIFT_PROTO_LLC, h, 8))
            return;
        uint32_t oui = (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2];
        uint16_t type = sift_load_be16(s + 3);
        if (oui == 0 || oui == 0xf8) /* RFC 1042 and 802.1H bridge tunnel */
            sift__dec_ethertype(d, type, dec_span(&c));
        else
            dec_non_ip(d, 0);
        return;
    }
    if (h[0] == 0xff && h[1] == 0xff) { /* Novell "raw" 802.3: IPX, no LLC */
        dec_non_ip(d, 0);
        return;
    }
    /* I- and S-format PDUs have a 2-byte control field */
    size_t hl = 3;
    if ((h[2] & 3) != 3) {
        if (!sift_cur_take(&c, 1)) {
            dec_trunc(d);
            return;
        }
        hl = 4;
    }
    dec_push(d, SIFT_PROTO_LLC, h, hl);
    dec_non_ip(d, 0);
}

/* MPLS label stack. What follows the bottom label is not announced; like Wireshark, the first
 * nibble tells: 4 IPv4, 6 IPv6, 0 a pseudowire control word followed by Ethernet. */
void sift__dec_mpls(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    const uint8_t *start = c.p;
    for (unsigned n = 0;; n++) {
        if (n >= DEC_MAX_MPLS) {
            pkt->flags |= SIFT_PKT_DEEP;
            return;
        }
        const uint8_t *h = sift_cur_take(&c, 4);
        if (!h) {
            dec_trunc(d);
            return;
        }
        pkt->mpls_count++;
        if (h[2] & 0x01)
            break;
    }
    if (!dec_push(d, SIFT_PROTO_MPLS, start, (size_t)(c.p - start)))
        return;
    if (sift_cur_left(&c) == 0) {
        dec_trunc(d);
        return;
    }
    unsigned nibble = c.p[0] >> 4;
    if (nibble == 0) {
        sift_cur_skip(&c, 4);
        if (c.trunc)
            dec_trunc(d);
        else
            sift__dec_ether(d, dec_span(&c));
    } else if (!sift__dec_next(d, DEC_IPVER, nibble, dec_span(&c))) {
        dec_non_ip(d, 0);
    }
}

/* A PPP protocol number (RFC 1661 DLL numbers) to the network layer. */
void sift__dec_ppp_proto(sift_dec_t *d, uint16_t proto, dec_span_t s)
{
    if (!sift__dec_next(d, DEC_PPP, proto, s))
        dec_non_ip(d, 0);
}

/* PPP in HDLC-like framing (RFC 1662): address 0xff and control 0x03 may be omitted (ACFC), and
 * the protocol may be one byte (PFC: an odd first byte). */
void sift__dec_ppp(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *start = c.p;
    if (sift_cur_left(&c) >= 2 && c.p[0] == 0xff && c.p[1] == 0x03)
        sift_cur_skip(&c, 2);
    uint16_t proto = sift_cur_u8(&c);
    if (!(proto & 1))
        proto = (uint16_t)(proto << 8 | sift_cur_u8(&c));
    if (c.trunc) {
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_PPP, start, (size_t)(c.p - start)))
        sift__dec_ppp_proto(d, proto, dec_span(&c));
}

/* The raw-IP link types: the version nibble tells IPv4 from IPv6. */
void sift__dec_ip_any(sift_dec_t *d, dec_span_t s)
{
    if (s.p == s.end)
        dec_trunc(d);
    else if (!sift__dec_next(d, DEC_IPVER, s.p[0] >> 4, s))
        dec_non_ip(d, 0);
}

/* BSD loopback: a 4-byte address family in the byte order of the machine that wrote it (NULL)
 * or in network order (LOOP); both are accepted either way, as AF values are < 65536. */
void sift__dec_null(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 4);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_NULL, h, 4))
        return;
    uint32_t af = sift_load_le32(h);
    if (af & 0xffff0000u)
        af = sift_load_be32(h);
    if (af & 0xffff0000u) {
        /* neither order is an AF: some writers put an EtherType in the last two bytes (as
         * Wireshark's null dissector also accepts) */
        uint16_t type = sift_load_be16(h + 2);
        if (type >= 0x0600)
            sift__dec_ethertype(d, type, dec_span(&c));
        else
            dec_non_ip(d, 0);
        return;
    }
    if (!sift__dec_next(d, DEC_BSD_AF, af, dec_span(&c)))
        dec_non_ip(d, 0);
}

/* Linux cooked capture: the protocol field is an EtherType except for a few ARPHRD/values. */
static void dec_sll_proto(sift_dec_t *d, uint16_t arphrd, uint16_t proto, dec_span_t s)
{
    if (arphrd == 824) /* ARPHRD_NETLINK: protocol is a netlink family */
        dec_non_ip(d, 0);
    else if (proto == 0x0004) /* LINUX_SLL_P_802_2 */
        sift__dec_llc(d, s);
    else if (proto < 0x0600) /* 802.3 raw, CAN, ... */
        dec_non_ip(d, 0);
    else
        sift__dec_ethertype(d, proto, s);
}

void sift__dec_sll(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 16);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_SLL, h, 16))
        dec_sll_proto(d, sift_load_be16(h + 2), sift_load_be16(h + 14), dec_span(&c));
}

void sift__dec_sll2(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 20);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (dec_push(d, SIFT_PROTO_SLL2, h, 20))
        dec_sll_proto(d, sift_load_be16(h + 8), sift_load_be16(h), dec_span(&c));
}

/* Cisco HDLC: address, control, then an EtherType; only IP and MPLS are followed (SLARP, CDP
 * and the rest are not Ethernet payloads despite their numbers). */
void sift__dec_chdlc(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 4);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_CHDLC, h, 4))
        return;
    uint16_t type = sift_load_be16(h + 2);
    if (type == 0x0800 || type == 0x86dd || type == 0x8847 || type == 0x8848)
        sift__dec_ethertype(d, type, dec_span(&c));
    else
        dec_non_ip(d, 0);
}

/* NFLOG: the TLV lengths are in the capturing host's order; little-endian is tried first and
 * big-endian when the first TLV does not fit that way. */
void sift__dec_nflog(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 4);
    if (!h) {
        dec_trunc(d);
        return;
    }
    uint8_t family = h[0];
    bool big = false;
    if (sift_cur_left(&c) >= 4) {
        uint16_t le = sift_load_le16(c.p);
        big = le < 4 || le > sift_cur_left(&c);
    }
    for (unsigned n = 0; n < DEC_MAX_NFLOG_TLV && sift_cur_left(&c) > 0; n++) {
        const uint8_t *t = sift_cur_take(&c, 4);
        if (!t)
            break;
        uint16_t len = big ? sift_load_be16(t) : sift_load_le16(t);
        uint16_t type = (uint16_t)((big ? sift_load_be16(t + 2) : sift_load_le16(t + 2)) & 0x3fff);
        if (len < 4 || (size_t)len - 4 > sift_cur_left(&c))
            break;
        if (type == 9) { /* NFULA_PAYLOAD */
            if (!dec_push(d, SIFT_PROTO_NFLOG, h, (size_t)(c.p - h)))
                return;
            dec_span_t in = dec_sub_span(&c, (size_t)len - 4);
            if (family == 2)
                sift__dec_ipv4(d, in);
            else if (family == 10)
                sift__dec_ipv6(d, in);
            else
                sift__dec_ip_any(d, in);
            return;
        }
        size_t skip = ((size_t)len + 3u) / 4u * 4u - 4u;
        if (skip > sift_cur_left(&c))
            skip = sift_cur_left(&c);
        sift_cur_skip(&c, skip);
    }
    /* no payload TLV: a log message without the packet */
    dec_push(d, SIFT_PROTO_NFLOG, h, (size_t)(c.p - h));
    dec_non_ip(d, 0);
}

/* RAW (12, 14, 101) is listed as a "raw" layer of length 0, as Wireshark shows it; IPV4 and
 * IPV6 (228, 229) are not. */
void sift__dec_raw(sift_dec_t *d, dec_span_t s, int version)
{
    if (version == 4)
        sift__dec_ipv4(d, s);
    else if (version == 6)
        sift__dec_ipv6(d, s);
    else if (dec_push(d, SIFT_PROTO_RAW, s.p, 0))
        sift__dec_ip_any(d, s);
}

void sift__dec_link(sift_dec_t *d, uint32_t linktype, dec_span_t s)
{
    if (!sift__dec_next(d, DEC_LINKTYPE, linktype, s))
        d->pkt->flags |= SIFT_PKT_UNKNOWN_LINK;
}
