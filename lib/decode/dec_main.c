/* The decoder entry point and the protocol name table.
 *
 * The per-layer decoders live beside this file (dec_link.c, dec_80211.c, dec_ip.c, dec_l4.c,
 * dec_tunnel.c); each starts with the specification it follows. This file only resets the
 * view and dispatches on the record's link type.
 */
#include "decode/decode_int.h"

#include <stddef.h>

/* Clears every field after `input` up to the layer array (nlayers says how much of that is
 * valid). Written field by field rather than as one memset: compilers turn a memset of this
 * size into `rep stos`, whose start-up cost alone is most of a fast-path decode; these become
 * a handful of vector stores. */
static inline void dec_clear(sift_packet_t *pkt)
{
    /* A field added to sift_packet_t must be cleared here too; then update this offset. */
    _Static_assert(offsetof(sift_packet_t, nlayers) == 158, "clear the new field in dec_clear");
    static const uint8_t zero16[16];
    pkt->flags = 0;
    pkt->ip_version = 0;
    pkt->ip_proto = 0;
    pkt->vlan = 0;
    memcpy(pkt->src, zero16, 16);
    memcpy(pkt->dst, zero16, 16);
    pkt->sport = pkt->dport = 0;
    pkt->tcp_flags = 0;
    pkt->tcp_seq = 0;
    pkt->payload = NULL;
    pkt->payload_len = 0;
    pkt->l3_offset = 0;
    pkt->ethertype = 0;
    pkt->vlan_count = pkt->mpls_count = pkt->tunnel_depth = 0;
    pkt->icmp_type = pkt->icmp_code = pkt->wlan_fc = 0;
    pkt->frag_more = 0;
    pkt->tcp_optlen = 0;
    pkt->frag_offset = 0;
    pkt->tcp_win = 0;
    pkt->tcp_ack = 0;
    pkt->ip_id = 0;
    pkt->l4_offset = 0;
    pkt->l4_len = 0;
    pkt->outer_ip_version = pkt->outer_ip_proto = 0;
    pkt->outer_sport = pkt->outer_dport = 0;
    memcpy(pkt->outer_src, zero16, 16);
    memcpy(pkt->outer_dst, zero16, 16);
    pkt->nlayers = 0;
}

int sift_decode(sift_packet_t *pkt, const sift_record_t *rec, sift_need_t need)
{
    static const uint8_t empty[1];
    if (!pkt || !rec || (!rec->data && rec->caplen))
        return SIFT_EINVAL;
    dec_clear(pkt);
    pkt->rec = rec;
    if (need <= SIFT_NEED_RECORD)
        return 0;
    sift_dec_t d = {.pkt = pkt, .base = rec->data ? rec->data : empty, .need = (unsigned)need};
    dec_span_t s = {d.base, d.base + rec->caplen};
    sift__dec_link(&d, rec->linktype, s);
    return 0;
}

static const char *const proto_names[] = {
#define SIFT_X_PROTO(id, name, ws) name,
    SIFT_PROTO_TABLE(SIFT_X_PROTO)
#undef SIFT_X_PROTO
};

static const char *const proto_wsnames[] = {
#define SIFT_X_PROTO(id, name, ws) ws,
    SIFT_PROTO_TABLE(SIFT_X_PROTO)
#undef SIFT_X_PROTO
};

const char *sift_proto_name(unsigned proto)
{
    return proto < SIFT_PROTO_COUNT ? proto_names[proto] : "?";
}

const char *sift_proto_wsname(unsigned proto)
{
    return proto < SIFT_PROTO_COUNT ? proto_wsnames[proto] : "?";
}

/* EtherTypes of network layers other than IP that captures commonly hold (IEEE registry
 * names, shortened as Wireshark shows them). */
static const struct {
    uint16_t type;
    const char *name;
} ethertype_names[] = {
    {0x0806, "ARP"},
    {0x0842, "Wake-on-LAN"},
    {0x22f0, "AVTP"},
    {0x6002, "DEC MOP"},
    {0x8035, "RARP"},
    {0x809b, "AppleTalk"},
    {0x80f3, "AARP"},
    {0x8137, "IPX"},
    {0x8808, "MAC pause"},
    {0x8809, "LACP"},
    {0x8863, "PPPoE discovery"},
    {0x8892, "PROFINET"},
    {0x889a, "HyperSCSI"},
    {0x88a2, "ATA over Ethernet"},
    {0x88a4, "EtherCAT"},
    {0x88ab, "Ethernet POWERLINK"},
    {0x88b8, "GOOSE"},
    {0x88b9, "GSE"},
    {0x88ba, "Sampled Values"},
    {0x88cc, "LLDP"},
    {0x88cd, "SERCOS III"},
    {0x88e1, "HomePlug AV"},
    {0x88e3, "MRP"},
    {0x88e5, "MACsec"},
    {0x888e, "EAPOL"},
    {0x88f7, "PTP"},
    {0x88fb, "PRP"},
    {0x8902, "CFM"},
    {0x8906, "FCoE"},
    {0x8914, "FIP"},
    {0x892f, "HSR"},
    {0x9000, "Loopback"},
};

const char *sift_ethertype_name(uint16_t type)
{
    for (size_t i = 0; i < sizeof ethertype_names / sizeof ethertype_names[0]; i++)
        if (ethertype_names[i].type == type)
            return ethertype_names[i].name;
    return NULL;
}

/* 802.2 LLC service access points (IEEE 802-2001 and the registry). */
const char *sift_llc_sap_name(uint8_t sap)
{
    switch (sap) {
    case 0x42:
        return "STP";
    case 0xaa:
        return "SNAP";
    case 0xe0:
        return "IPX";
    case 0xf0:
        return "NetBIOS";
    case 0xfe:
        return "OSI (IS-IS, CLNP)";
    case 0x04:
    case 0x05:
        return "SNA";
    case 0x06:
        return "IP";
    case 0x98:
        return "ARP";
    case 0xf4:
        return "LAN management";
    default:
        return NULL;
    }
}
