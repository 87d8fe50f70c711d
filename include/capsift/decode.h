/* capsift: the packet decoder.
 *
 * sift_decode fills a packet view (<capsift/packet.h>) from one captured record without
 * copying and without allocating: pointers in the view point into rec->data. It walks the link
 * layer named by rec->linktype, the network layer (IPv4 with options, IPv6 with extension
 * headers, ARP), the transport (TCP, UDP, SCTP, ICMP, ICMPv6) and follows tunnels (GRE with
 * ERSPAN and Aruba 802.11, IP-in-IP, 6in4, VXLAN, Geneve, GTP-U, Teredo) to the innermost IP
 * layer; the outer layers stay listed in pkt->layers and the outermost IP pair in pkt->outer_*.
 * docs/decoder.md gives the exact definitions (fragments, tunnels, which addresses a flow uses).
 *
 * The decoder reads only bytes inside [rec->data, rec->data + rec->caplen), bounds every
 * nesting (tunnels, VLAN tags, MPLS labels, IPv6 extension headers) and always terminates.
 * A damaged or cut packet is not an error: decoding stops there and SIFT_PKT_TRUNCATED is set.
 *
 * Thread safety: sift_decode and the name functions keep no state; call them from any thread.
 */
#ifndef CAPSIFT_DECODE_H
#define CAPSIFT_DECODE_H

#include <capsift/packet.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Protocol ids of sift_layer_t.proto, for the protocol hierarchy. */
#define SIFT_PROTO_TABLE(X)                                                                        \
    X(SIFT_PROTO_NONE, "none", "")                                                                 \
    X(SIFT_PROTO_ETH, "eth", "eth")                                                                \
    X(SIFT_PROTO_LLC, "llc", "llc")                                                                \
    X(SIFT_PROTO_VLAN, "vlan", "vlan")                                                             \
    X(SIFT_PROTO_VLAN_AD, "802.1ad", "ieee8021ad")                                                 \
    X(SIFT_PROTO_MPLS, "mpls", "mpls")                                                             \
    X(SIFT_PROTO_SLL, "sll", "sll")                                                                \
    X(SIFT_PROTO_SLL2, "sll2", "sll")                                                              \
    X(SIFT_PROTO_NULL, "null", "null")                                                             \
    X(SIFT_PROTO_PPP, "ppp", "ppp")                                                                \
    X(SIFT_PROTO_PPPOE, "pppoe", "pppoes")                                                         \
    X(SIFT_PROTO_CHDLC, "chdlc", "chdlc")                                                          \
    X(SIFT_PROTO_WLAN, "wlan", "wlan")                                                             \
    X(SIFT_PROTO_RADIOTAP, "radiotap", "radiotap")                                                 \
    X(SIFT_PROTO_PPI, "ppi", "ppi")                                                                \
    X(SIFT_PROTO_NFLOG, "nflog", "nflog")                                                          \
    X(SIFT_PROTO_RAW, "raw", "raw")                                                                \
    X(SIFT_PROTO_IPV4, "ipv4", "ip")                                                               \
    X(SIFT_PROTO_IPV6, "ipv6", "ipv6")                                                             \
    X(SIFT_PROTO_IPV6_EXT, "ipv6-ext", "")                                                         \
    X(SIFT_PROTO_ARP, "arp", "arp")                                                                \
    X(SIFT_PROTO_ICMP, "icmp", "icmp")                                                             \
    X(SIFT_PROTO_ICMPV6, "icmpv6", "icmpv6")                                                       \
    X(SIFT_PROTO_TCP, "tcp", "tcp")                                                                \
    X(SIFT_PROTO_UDP, "udp", "udp")                                                                \
    X(SIFT_PROTO_SCTP, "sctp", "sctp")                                                             \
    X(SIFT_PROTO_GRE, "gre", "gre")                                                                \
    X(SIFT_PROTO_ERSPAN, "erspan", "erspan")                                                       \
    X(SIFT_PROTO_VXLAN, "vxlan", "vxlan")                                                          \
    X(SIFT_PROTO_GENEVE, "geneve", "geneve")                                                       \
    X(SIFT_PROTO_GTPU, "gtp-u", "gtp")                                                             \
    X(SIFT_PROTO_TEREDO, "teredo", "teredo")                                                       \
    X(SIFT_PROTO_ESP, "esp", "esp")                                                                \
    X(SIFT_PROTO_AH, "ah", "ah")                                                                   \
    X(SIFT_PROTO_NSH, "nsh", "nsh")                                                                \
    X(SIFT_PROTO_CMD, "cmd", "cmd")

typedef enum sift_proto {
#define SIFT_X_PROTO(id, name, ws) id,
    SIFT_PROTO_TABLE(SIFT_X_PROTO)
#undef SIFT_X_PROTO
        SIFT_PROTO_COUNT
} sift_proto_t;

/* Decodes rec into *pkt up to `need`:
 *   SIFT_NEED_RECORD    nothing but pkt->rec;
 *   SIFT_NEED_NETWORK   link layers and the innermost IP header (tunnels are followed, since
 *                       the innermost addresses depend on them), ARP;
 *   SIFT_NEED_TRANSPORT also ports, TCP flags/seq/ack/window, ICMP type/code;
 *   SIFT_NEED_PAYLOAD   and above: also the payload span.
 * pkt->input is left as the caller set it; every other field is overwritten. The view points
 * into rec->data and is valid as long as that is.
 * Returns 0, or SIFT_EINVAL when pkt or rec is NULL (or rec->data is NULL with caplen > 0). */
SIFT_API int sift_decode(sift_packet_t *pkt, const sift_record_t *rec, sift_need_t need);

/* A short lowercase name of a protocol id ("eth", "vlan", "ipv4", "tcp", "gtp-u"); "?" for an
 * id out of range. Static strings. */
SIFT_API const char *sift_proto_name(unsigned proto);

/* The Wireshark display-filter name of the same protocol ("eth", "ip", "ipv6", "gtp", "pppoes"),
 * as `tshark -z io,phs` prints it, for comparing hierarchies. Static strings. */
SIFT_API const char *sift_proto_wsname(unsigned proto);

/* Names of what a network layer other than IP may be, for messages: an EtherType ("ARP",
 * "LLDP", "GOOSE", "PROFINET" ...) and an 802.2 LLC service access point ("STP", "IS-IS",
 * "NetBIOS" ...). NULL when the decoder has no name for it. Static strings. */
SIFT_API const char *sift_ethertype_name(uint16_t type);
SIFT_API const char *sift_llc_sap_name(uint8_t sap);

/* True when the decoder knows this link type (LINKTYPE_ value). */
SIFT_API int sift_decode_linktype_known(uint32_t linktype);

#ifdef __cplusplus
}
#endif
#endif
