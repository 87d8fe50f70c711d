/* "What follows this header": one table per number space, as tcpdump dispatches by DLT and
 * EtherType. A header decoder reads its own fields and asks sift__dec_next for the decoder of
 * what it announces; what to do with a value no table lists (a non-IP network layer, an
 * undecoded payload) stays with the caller, since that differs per header.
 *
 * Numbers: pcap link types from tcpdump.org linktypes; EtherTypes from the IEEE registry;
 * PPP DLL protocol numbers (RFC 1661, IANA ppp-numbers); IP protocol numbers (IANA
 * protocol-numbers); NSH next protocol (RFC 8300 section 11.6, shared by VXLAN-GPE); BSD
 * loopback address families as each system defines AF_INET6; GRE protocol types that are not
 * frames (ERSPAN, Aruba, PPP); UDP ports of tunnels (IANA service names).
 *
 * The tables are short and ordered most common first, so the hot path (Ethernet, IPv4, TCP or
 * UDP) finds its entry at the first or second compare.
 */
#include "decode/decode_int.h"

/* Decoders whose table entry fixes an argument. */
static void dec_raw_any(sift_dec_t *d, dec_span_t s)
{
    sift__dec_raw(d, s, 0);
}

static void dec_raw4(sift_dec_t *d, dec_span_t s)
{
    sift__dec_raw(d, s, 4);
}

static void dec_raw6(sift_dec_t *d, dec_span_t s)
{
    sift__dec_raw(d, s, 6);
}

static void dec_80211_nofcs(sift_dec_t *d, dec_span_t s)
{
    sift__dec_80211(d, s, false);
}

static void dec_icmp4(sift_dec_t *d, dec_span_t s)
{
    sift__dec_icmp(d, s, SIFT_PROTO_ICMP);
}

static void dec_icmp6(sift_dec_t *d, dec_span_t s)
{
    sift__dec_icmp(d, s, SIFT_PROTO_ICMPV6);
}

static void dec_ipip4(sift_dec_t *d, dec_span_t s)
{
    if (sift__dec_tunnel_enter(d, 0, 0))
        sift__dec_ipv4(d, s);
}

static void dec_ipip6(sift_dec_t *d, dec_span_t s)
{
    if (sift__dec_tunnel_enter(d, 0, 0))
        sift__dec_ipv6(d, s);
}

static const dec_next_t linktypes[] = {
    {1, 0, sift__dec_ether},      /* ETHERNET */
    {113, 0, sift__dec_sll},      /* LINUX_SLL */
    {276, 0, sift__dec_sll2},     /* LINUX_SLL2 */
    {101, 0, dec_raw_any},        /* RAW */
    {228, 0, dec_raw4},           /* IPV4 */
    {229, 0, dec_raw6},           /* IPV6 */
    {0, 0, sift__dec_null},       /* NULL */
    {108, 0, sift__dec_null},     /* LOOP */
    {12, 0, dec_raw_any},         /* RAW as OpenBSD and BSD/OS write it */
    {14, 0, dec_raw_any},         /* RAW, old BSD */
    {9, 0, sift__dec_ppp},        /* PPP */
    {50, 0, sift__dec_ppp},       /* PPP_HDLC */
    {51, 0, sift__dec_pppoe},     /* PPP_ETHER: PPPoE with no Ethernet header */
    {104, 0, sift__dec_chdlc},    /* C_HDLC */
    {105, 0, dec_80211_nofcs},    /* IEEE802_11 */
    {127, 0, sift__dec_radiotap}, /* IEEE802_11_RADIOTAP */
    {192, 0, sift__dec_ppi},      /* PPI */
    {239, 0, sift__dec_nflog},    /* NFLOG */
};

static const dec_next_t ethertypes[] = {
    {0x0800, 0, sift__dec_ipv4},
    {0x86dd, 0, sift__dec_ipv6},
    {0x8100, 0, sift__dec_vlan},
    {0x0806, 0, sift__dec_arp},
    {0x88a8, 0, sift__dec_vlan_ad},
    {0x8847, 0, sift__dec_mpls}, /* unicast */
    {0x8848, 0, sift__dec_mpls}, /* multicast */
    {0x8864, 0, sift__dec_pppoe},
    {0x6558, 0, sift__dec_ether}, /* transparent Ethernet bridging (GRE, Geneve) */
    {0x894f, 0, sift__dec_nsh},
    {0x8909, 0, sift__dec_cmd},  /* Cisco MetaData */
    {0x9100, 0, sift__dec_vlan}, /* pre-standard QinQ */
    {0x9200, 0, sift__dec_vlan},
};

static const dec_next_t ppp_protos[] = {
    {0x0021, 0, sift__dec_ipv4},
    {0x0057, 0, sift__dec_ipv6},
    {0x0281, 0, sift__dec_mpls}, /* unicast */
    {0x0283, 0, sift__dec_mpls}, /* multicast */
};

/* Tunnels are followed at every need (the innermost addresses depend on them); plain
 * transports are read only when asked for. */
static const dec_next_t ip_protos[] = {
    {6, SIFT_NEED_TRANSPORT, sift__dec_tcp},
    {17, 0, sift__dec_udp},
    {1, SIFT_NEED_TRANSPORT, dec_icmp4},
    {58, SIFT_NEED_TRANSPORT, dec_icmp6},
    {47, 0, sift__dec_gre},
    {4, 0, dec_ipip4},
    {41, 0, dec_ipip6},
    {51, 0, sift__dec_ah4},
    {50, SIFT_NEED_TRANSPORT, sift__dec_esp},
    {132, SIFT_NEED_TRANSPORT, sift__dec_sctp},
};

static const dec_next_t ip_versions[] = {
    {4, 0, sift__dec_ipv4},
    {6, 0, sift__dec_ipv6},
};

static const dec_next_t bsd_afs[] = {
    {2, 0, sift__dec_ipv4},  /* AF_INET everywhere */
    {10, 0, sift__dec_ipv6}, /* Linux */
    {30, 0, sift__dec_ipv6}, /* Darwin */
    {28, 0, sift__dec_ipv6}, /* FreeBSD, DragonFly */
    {24, 0, sift__dec_ipv6}, /* NetBSD, OpenBSD, BSD/OS */
    {23, 0, sift__dec_ipv6}, /* Windows */
};

static const dec_next_t nsh_nexts[] = {
    {1, 0, sift__dec_ipv4}, {2, 0, sift__dec_ipv6}, {3, 0, sift__dec_ether},
    {4, 0, sift__dec_nsh},  {5, 0, sift__dec_mpls},
};

static const dec_next_t gre_protos[] = {
    {0x88be, 0, sift__dec_erspan},  /* ERSPAN type I, or type II with a sequence number */
    {0x22eb, 0, sift__dec_erspan3}, /* ERSPAN type III */
    {0x8200, 0, dec_80211_nofcs},   /* Aruba access point to controller: no FCS */
    {0x880b, 0, sift__dec_ppp_gre}, /* PPP protocol field, no address/control */
};

static const dec_next_t udp_ports[] = {
    {4789, 0, sift__dec_vxlan},     {2152, 0, sift__dec_gtpu},   {6081, 0, sift__dec_geneve},
    {4790, 0, sift__dec_vxlan_gpe}, {3544, 0, sift__dec_teredo},
};

#define SPACE(t)                                                                                   \
    {                                                                                              \
        t, sizeof t / sizeof t[0]                                                                  \
    }
const dec_table_t sift__dec_tables[DEC_SPACE_COUNT] = {
    [DEC_LINKTYPE] = SPACE(linktypes), [DEC_ETHERTYPE] = SPACE(ethertypes),
    [DEC_PPP] = SPACE(ppp_protos),     [DEC_IPPROTO] = SPACE(ip_protos),
    [DEC_IPVER] = SPACE(ip_versions),  [DEC_BSD_AF] = SPACE(bsd_afs),
    [DEC_NSH_NEXT] = SPACE(nsh_nexts), [DEC_GRE_PROTO] = SPACE(gre_protos),
    [DEC_UDP_PORT] = SPACE(udp_ports),
};
#undef SPACE

int sift_decode_linktype_known(uint32_t linktype)
{
    return dec_find(DEC_LINKTYPE, linktype) != NULL;
}
