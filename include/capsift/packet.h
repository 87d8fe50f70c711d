/* capsift: the packet view that passes receive.
 *
 * The engine fills a packet view for every record and hands it to each pass. How deep the
 * decoder goes is the deepest `needs` of the passes in the run: a run whose passes only need
 * the record (as `info`) decodes nothing.
 */
#ifndef CAPSIFT_PACKET_H
#define CAPSIFT_PACKET_H

#include <capsift/reader.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How much of a packet a pass reads; the decoder stops there. */
typedef enum sift_need {
    SIFT_NEED_RECORD = 0,  /* timestamp, lengths, link type */
    SIFT_NEED_NETWORK = 1, /* link and network layers */
    SIFT_NEED_TRANSPORT = 2,
    SIFT_NEED_PAYLOAD = 3, /* transport payload span */
    SIFT_NEED_APP = 4      /* application protocol detection */
} sift_need_t;

/* Flags of sift_packet_t.flags, set by the decoder. */
#define SIFT_PKT_L3           0x0001u /* an IP (v4 or v6) layer was found: src/dst valid */
#define SIFT_PKT_L4           0x0002u /* ports valid (TCP, UDP, SCTP; first fragment only) */
#define SIFT_PKT_FRAGMENT     0x0004u /* IP fragment (any) */
#define SIFT_PKT_TUNNEL       0x0008u /* the IP layer is inside a tunnel (outer layers exist) */
#define SIFT_PKT_TRUNCATED    0x0010u /* a header ended before its length: decoding stopped */
#define SIFT_PKT_ARP          0x0020u
#define SIFT_PKT_NON_IP       0x0040u /* link layer understood, network layer is not IP */
#define SIFT_PKT_UNKNOWN_LINK 0x0080u /* link type the decoder does not know: counted */
#define SIFT_PKT_MGMT         0x0100u /* 802.11 management or control frame */
#define SIFT_PKT_DEEP         0x0200u /* nesting limit reached (tunnels, tags, headers): stopped */
#define SIFT_PKT_ENCRYPTED    0x0400u /* payload is encrypted at the link (802.11 protected) */

/* One decoded header: its protocol (a sift_proto_t of <capsift/decode.h>), where it starts in
 * rec->data and how long the header itself is (not what it carries). */
typedef struct sift_layer {
    uint16_t proto;
    uint16_t len;
    uint32_t offset;
} sift_layer_t;

#define SIFT_PKT_MAX_LAYERS 20

/* The view of one packet. `rec` and everything it points to are valid only during the pass
 * callback that receives the view. Addresses are 16 bytes; IPv4 is held as ::ffff:a.b.c.d
 * (IPv4-mapped). Fields past `input` are filled by the decoder up to the run's deepest need
 * and are zero where the packet has no such layer. */
typedef struct sift_packet {
    const sift_record_t *rec;
    uint32_t input; /* index of the input (file) in the run */
    uint32_t flags; /* SIFT_PKT_* */
    /* Set by the engine: the record's index in the range being read, from 0, counting the
     * records a filter left out: record + 1 is the packet's number in a file read whole, as
     * capinfos counts and tshark numbers frames (tshark 4 also numbers pcapng custom blocks); a
     * pass adds sift_pass_record_base when it merges a later range. */
    uint64_t record;

    /* innermost network layer */
    uint8_t ip_version; /* 4 or 6, 0 when none */
    uint8_t ip_proto;   /* IP protocol number of the transport (6 TCP, 17 UDP, ...) */
    uint16_t vlan;      /* outermost 802.1Q VLAN id, 0 when none */
    uint8_t src[16];
    uint8_t dst[16];
    uint16_t sport, dport; /* host byte order; 0 when the transport has no ports */

    /* transport */
    uint8_t tcp_flags; /* TCP flag byte (FIN 0x01 ... CWR 0x80) */
    uint32_t tcp_seq;
    const uint8_t *payload; /* transport payload (captured part), NULL when none */
    uint32_t payload_len;   /* captured payload bytes */

    uint32_t l3_offset; /* byte offset of the innermost IP header in rec->data */
    uint16_t ethertype; /* of the innermost link layer (0x0800, 0x86dd, 0x0806 ...) */

    /* Added with the decoder (docs/decoder.md). */
    uint8_t vlan_count;   /* 802.1Q/802.1ad tags seen, all levels */
    uint8_t mpls_count;   /* MPLS labels seen, all levels */
    uint8_t tunnel_depth; /* tunnels entered (GRE, IP-in-IP, VXLAN, Geneve, GTP-U, Teredo) */
    uint8_t icmp_type;    /* ICMP / ICMPv6 type and code (valid when ip_proto is 1 or 58) */
    uint8_t icmp_code;
    uint8_t wlan_fc;      /* 802.11 frame control, first byte (subtype << 4 | type << 2) */
    uint8_t frag_more;    /* innermost IP: more-fragments bit */
    uint8_t tcp_optlen;   /* TCP option bytes (data offset * 4 - 20) */
    uint16_t frag_offset; /* innermost IP: fragment offset in bytes */
    uint16_t tcp_win;
    uint32_t tcp_ack;
    uint32_t ip_id;     /* IPv4 identification, or the IPv6 fragment header's identification */
    uint32_t l4_offset; /* byte offset of the innermost transport header (valid with L4) */
    uint32_t l4_len;    /* TCP or UDP payload bytes as sent, from the IP (and UDP) length: also
                         * when the capture cut the packet (payload_len is what was captured) */

    /* The outermost IP layer and its transport when tunnel_depth > 0 (zero otherwise). */
    uint8_t outer_ip_version;
    uint8_t outer_ip_proto;
    uint16_t outer_sport, outer_dport;
    uint8_t outer_src[16];
    uint8_t outer_dst[16];

    /* Every header decoded, outermost first: layers[0 .. nlayers-1]. Entries past nlayers are
     * not cleared and must not be read. */
    uint8_t nlayers;
    sift_layer_t layers[SIFT_PKT_MAX_LAYERS];

    /* Set by the engine, not the decoder, for passes built on flows (engine.h): the packet's
     * flow (NULL: none), its direction (SIFT_FLOW_AB, SIFT_FLOW_BA) and the pass's own bytes
     * in that flow. */
    const struct sift_flow *flow;
    void *flow_state;
    uint8_t flow_dir;
} sift_packet_t;

#ifdef __cplusplus
}
#endif
#endif
