/* Unit tests of the packet decoder (lib/decode) on real packets.
 *
 * Every expectation in the table below was computed once with tshark 4.x, not at run time:
 *
 *   tshark -r FILE -o ip.defragment:FALSE -o ipv6.defragment:FALSE -Y frame.number==N -T fields \
 *     -e frame.protocols -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e ip.proto -e ipv6.nxt \
 *     -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e sctp.srcport \
 *     -e sctp.dstport -e tcp.seq_raw -e tcp.flags -e tcp.len -e udp.length -e vlan.id \
 *     -e icmp.type -e icmp.code -e icmpv6.type -e icmpv6.code -e wlan.fc.type_subtype \
 *     -e ip.flags.mf -e ip.frag_offset
 *
 * taking the innermost IP layer before any ICMP (the decoder does not enter the packet quoted
 * by an ICMP error; docs/decoder.md) and the outermost one as the tunnel's outer pair.
 * Files without a directory are bundled in tests/captures; the others
 * come from the shared corpus ($SIFT_SHARED_CAPTURES) and are skipped when it is absent.
 */
#include <capsift/decode.h>
#include <capsift/reader.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

typedef struct dcase {
    const char *file;
    int shared;
    unsigned frame;
    const char *ws_chain; /* tshark frame.protocols */
    int ip_version;
    const char *src, *dst; /* innermost IP; NULL: none */
    int ip_proto;
    int sport, dport; /* -1: no ports */
    uint32_t tcp_seq;
    int tcp_flags;
    int payload_len; /* tcp.len or udp.length - 8; -1: not checked */
    int vlan;        /* outermost tag's id */
    int icmp_type, icmp_code;
    int wlan_type_subtype;             /* tshark numbering: type << 4 | subtype; -1: not 802.11 */
    int fragment;                      /* any IP layer is a fragment (MF set or offset > 0) */
    const char *outer_src, *outer_dst; /* outermost IP when tunnelled */
} dcase_t;

/* clang-format off */
static const dcase_t cases[] = {
    {"dpkt--http.pcap", 0, 1, "eth:ethertype:ip:tcp", 4, "145.254.160.237", "65.208.228.223", 6, 3372, 80, 951057939u, 0x02, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 1, "eth:ethertype:ip:tcp", 4, "10.0.1.1", "10.0.1.2", 6, 50001, 80, 1000u, 0x02, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 12, "eth:ethertype:ipv6:tcp", 6, "2001:db8::1", "2001:db8::2", 6, 50002, 80, 1000u, 0x02, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 221, "eth:ethertype:ip:udp:dns", 4, "10.0.1.100", "10.0.1.1", 17, 12345, 53, 0u, 0x00, 29, 0, -1, -1, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 243, "eth:ethertype:ip:icmp:data", 4, "10.0.7.100", "10.0.7.1", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 245, "eth:ethertype:arp", 0, NULL, NULL, 0, -1, -1, 0u, 0x00, -1, 0, -1, -1, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 283, "eth:ethertype:ip:gre:ip:icmp", 4, "192.168.1.1", "192.168.1.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, "10.0.19.100", "10.0.19.1"},
    {"arkime--arkime_synthetic.pcap", 0, 290, "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp", 4, "192.168.2.1", "192.168.2.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, "10.0.23.100", "10.0.23.1"},
    {"arkime--arkime_synthetic.pcap", 0, 300, "eth:ethertype:ip:sctp", 4, "10.0.30.100", "10.0.30.1", 132, 54342, 38412, 0u, 0x00, -1, 0, -1, -1, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 301, "eth:llc:data", 0, NULL, NULL, 0, -1, -1, 0u, 0x00, -1, 0, -1, -1, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 302, "eth:ethertype:ip:ah:ip:icmp", 4, "192.168.3.1", "192.168.3.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, "10.0.32.100", "10.0.32.1"},
    {"arkime--arkime_synthetic.pcap", 0, 303, "eth:ethertype:ip:esp", 4, "10.0.33.100", "10.0.33.1", 50, -1, -1, 0u, 0x00, -1, 0, -1, -1, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 305, "eth:ethertype:ip:udp:gtp:ip:icmp", 4, "192.168.5.1", "192.168.5.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, "10.0.35.100", "10.0.35.1"},
    {"arkime--arkime_synthetic.pcap", 0, 306, "eth:ethertype:ip:udp:geneve:eth:ethertype:ip:icmp", 4, "192.168.6.1", "192.168.6.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, "10.0.36.100", "10.0.36.1"},
    {"arkime--arkime_synthetic.pcap", 0, 307, "eth:ethertype:nsh:ip:icmp:data", 4, "192.168.10.1", "192.168.10.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 313, "eth:ethertype:mpls:ip:icmp", 4, "192.168.8.1", "192.168.8.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 314, "eth:ethertype:pppoes:ppp:ip:icmp:data", 4, "192.168.9.1", "192.168.9.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 315, "eth:ethertype:cmd:ethertype:ip:icmp", 4, "192.168.10.1", "192.168.10.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 513, "eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:icmp:data", 4, "10.5.2.100", "10.5.2.1", 1, -1, -1, 0u, 0x00, -1, 200, 8, 0, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 520, "eth:ethertype:ipv6:icmpv6", 6, "2001:db8::100", "2001:db8::1", 58, -1, -1, 0u, 0x00, -1, 0, 128, 0, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 528, "eth:ethertype:ip:gre:erspan:eth:llc:data", 4, "10.5.10.100", "10.5.10.1", 47, -1, -1, 0u, 0x00, -1, 0, -1, -1, -1, 0, NULL, NULL},
    {"arkime--arkime_synthetic.pcap", 0, 618, /* tshark lists no vxlan for VXLAN-GPE in frame.protocols; added by hand */
    "eth:ethertype:ip:udp:vxlan:ip:udp:dns", 4, "192.0.2.10", "192.0.2.20", 17, 12345, 53, 0u, 0x00, 12, 0, -1, -1, -1, 0, "10.40.9.1", "10.40.9.100"},
    {"arkime--arkime_synthetic.pcap", 0, 914, "eth:ethertype:ipv6:ipv6.dstopts:ip:udp:data", 4, "10.9.10.1", "10.9.10.2", 17, 40200, 40201, 0u, 0x00, 8, 0, -1, -1, -1, 0, "2001:db8:900::1", "2001:db8:900::2"},
    {"arkime--arkime_synthetic.pcap", 0, 915, "eth:ethertype:ipv6:ipv6.dstopts:ipv6:udp:data", 6, "2001:db8:902::1", "2001:db8:902::2", 17, 40300, 40301, 0u, 0x00, 8, 0, -1, -1, -1, 0, "2001:db8:901::1", "2001:db8:901::2"},
    {"zeek--mixed-vlan-mpls.pcap", 0, 1, "eth:ethertype:mpls:ip:tcp", 4, "10.1.2.1", "10.34.0.1", 6, 11001, 23, 2553417723u, 0x02, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"zeek--mixed-vlan-mpls.pcap", 0, 34, "eth:ethertype:vlan:ethertype:ip:tcp:f5ethtrailer", 4, "10.20.80.1", "10.0.0.15", 6, 50343, 80, 4084526270u, 0x02, 0, 4093, -1, -1, -1, 0, NULL, NULL},
    {"zeek--wlanmon.pcap", 0, 1, "wlan:llc:ip:udp:dns", 4, "172.17.156.76", "208.67.220.220", 17, 61738, 53, 0u, 0x00, 35, 0, -1, -1, 40, 0, NULL, NULL},
    {"zeek--wlanmon.pcap", 0, 3, "wlan:llc:ipv6:udp:mdns", 6, "fe80::a667:6ff:fef7:ec54", "ff02::fb", 17, 5353, 5353, 0u, 0x00, 280, 0, -1, -1, 32, 0, NULL, NULL},
    {"arkime--80211http.pcap", 0, 1, "radiotap:wlan_radio:wlan:llc:ip:tcp", 4, "172.5.5.113", "14.17.32.211", 6, 49417, 80, 2524188118u, 0x02, 0, 0, -1, -1, 32, 0, NULL, NULL},
    {"libpcap--http_PPI.pcap", 0, 1, "ppi:wlan_radio:wlan:llc:ip:udp:dns", 4, "192.168.1.132", "192.168.1.1", 17, 1031, 53, 0u, 0x00, 31, 0, -1, -1, 40, 0, NULL, NULL},
    {"libpcap--http_PPI.pcap", 0, 2, "ppi:wlan_radio:wlan", 0, NULL, NULL, 0, -1, -1, 0u, 0x00, -1, 0, -1, -1, 29, 0, NULL, NULL},
    {"arkime--nflog.pcap", 0, 1, "nflog:ip:tcp", 4, "10.10.10.10", "52.43.228.156", 6, 54064, 80, 4058668159u, 0x02, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"tcpdump--mpls-traceroute.pcap", 0, 1, "ppp:mpls:ip:udp:data", 4, "12.4.4.4", "12.1.1.1", 17, 42315, 33435, 0u, 0x00, 12, 0, -1, -1, -1, 0, NULL, NULL},
    {"tcpdump--mpls-traceroute.pcap", 0, 2, "ppp:ip:icmp:ip:udp:data", 4, "10.5.0.1", "12.4.4.4", 1, -1, -1, 0u, 0x00, -1, 0, 11, 0, -1, 0, NULL, NULL},
    {"tcpdump--HDLC.pcap", 0, 1, "chdlc:slarp", 0, NULL, NULL, 0, -1, -1, 0u, 0x00, -1, 0, -1, -1, -1, 0, NULL, NULL},
    {"tcpdump--HDLC.pcap", 0, 7, "chdlc:ip:icmp:data", 4, "10.0.0.1", "10.0.0.2", 1, -1, -1, 0u, 0x00, -1, 0, 8, 0, -1, 0, NULL, NULL},
    {"pcapplusplus--sll2.pcap", 0, 1, "sll:ethertype:ip:tcp:tls", 4, "116.63.66.108", "7.249.151.114", 6, 443, 57292, 2865673674u, 0x18, 31, 0, -1, -1, -1, 0, NULL, NULL},
    {"tcpdump--tcp-handshake-nano.pcap", 0, 1, "sll:ethertype:ip:tcp", 4, "131.155.215.69", "137.116.81.94", 6, 46656, 80, 797190859u, 0x02, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"tcpdump--LINKTYPE_IPV4.pcap", 0, 1, "ip:udp:dns", 4, "192.168.1.100", "9.9.9.9", 17, 12345, 53, 0u, 0x00, 29, 0, -1, -1, -1, 0, NULL, NULL},
    {"tcpdump--LINKTYPE_IPV6.pcap", 0, 1, "ipv6:udp:dns", 6, "2001:db8::1", "2620:fe::9", 17, 12345, 53, 0u, 0x00, 29, 0, -1, -1, -1, 0, NULL, NULL},
    {"tcpdump--LINKTYPE_RAW_ipv6.pcap", 0, 1, "raw:ipv6:udp:dns", 6, "2001:db8::1", "2620:fe::9", 17, 12345, 53, 0u, 0x00, 29, 0, -1, -1, -1, 0, NULL, NULL},
    {"pcapplusplus--null_loopback.pcap", 0, 1, "null:ipv6:tcp:data", 6, "::1", "::1", 6, 49888, 81, 1482536582u, 0x18, 403, 0, -1, -1, -1, 0, NULL, NULL},
    {"pcapplusplus--null_loopback.pcap", 0, 2, "null:ip:udp:bjnp", 4, "172.16.1.117", "172.16.1.255", 17, 55369, 8612, 0u, 0x00, 16, 0, -1, -1, -1, 0, NULL, NULL},
    {"pcapplusplus--null_loopback.pcap", 0, 3, "null:ip:udp:dns", 4, "10.0.0.138", "10.0.0.1", 17, 53, 58125, 0u, 0x00, 365, 0, -1, -1, -1, 0, NULL, NULL},
    {"libpcap--wpa2linkuppassphraseiswireshark.pcap", 0, 1, "radiotap:wlan_radio:wlan", 0, NULL, NULL, 0, -1, -1, 0u, 0x00, -1, 0, -1, -1, 8, 0, NULL, NULL},
    {"libpcap--wpa2linkuppassphraseiswireshark.pcap", 0, 8, "radiotap:wlan_radio:wlan:llc:eapol", 0, NULL, NULL, 0, -1, -1, 0u, 0x00, -1, 0, -1, -1, 40, 0, NULL, NULL},
    {"libpcap--wpa2linkuppassphraseiswireshark.pcap", 0, 12, "radiotap:wlan_radio:wlan:data", 0, NULL, NULL, 0, -1, -1, 0u, 0x00, -1, 0, -1, -1, 40, 0, NULL, NULL},
    {"libpcap--Network_Join_Nokia_Mobile.pcap", 0, 1, "wlan", 0, NULL, NULL, 0, -1, -1, 0u, 0x00, -1, 0, -1, -1, 4, 0, NULL, NULL},
    {"pcapplusplus--pcapng-example.pcapng.zst", 0, 1, "eth:ethertype:ip:tcp", 4, "127.0.0.1", "127.0.0.1", 6, 40304, 3306, 4294653580u, 0x02, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"pcapplusplus--pcapng-example.pcapng.zst", 0, 2, "eth:ethertype:ip:tcp", 4, "127.0.0.1", "127.0.0.1", 6, 3306, 40304, 1898561448u, 0x12, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"traffic/ndpi--6in4tunnel.pcap", 1, 22, "eth:ethertype:ip:ipv6:tcp", 6, "2001:470:1f17:13f:3e97:eff:fe73:4dec", "2a03:2880:1010:6f03:face:b00c:0:2", 6, 53234, 443, 662001836u, 0x02, 0, 0, -1, -1, -1, 0, "174.3.73.24", "184.105.255.26"},
    {"traffic/zeek--gre-within-gre.pcap", 1, 4, "eth:ethertype:ip:gre:ip:gre:ip:udp:rip", 4, "3.3.3.1", "224.0.0.9", 17, 520, 520, 0u, 0x00, 84, 0, -1, -1, -1, 0, "72.205.54.70", "86.106.164.150"},
    {"traffic/zeek--gtp1_gn_normal_incl_fragmentation.pcap", 1, 1, "eth:ethertype:ip:udp:gtp:ip:tcp", 4, "10.131.47.185", "79.101.110.141", 6, 1923, 80, 3446434231u, 0x02, 0, 0, -1, -1, -1, 0, "239.114.155.111", "63.94.149.181"},
    {"traffic/zeek--gtp1_gn_normal_incl_fragmentation.pcap", 1, 4, "eth:ethertype:ip:udp:gtp:ip:tcp", 4, "10.131.47.185", "79.101.110.141", 6, 1923, 80, 3446434232u, 0x10, 1424, 0, -1, -1, -1, 1, "239.114.155.111", "63.94.149.181"},
    {"traffic/zeek--gtp1_gn_normal_incl_fragmentation.pcap", 1, 5, "eth:ethertype:ip:data", 4, "239.114.155.111", "63.94.149.181", 17, -1, -1, 0u, 0x00, -1, 0, -1, -1, -1, 1, NULL, NULL},
    {"traffic/zeek--Teredo.pcap", 1, 6, "eth:ethertype:ip:udp:teredo:ipv6:icmpv6", 6, "fe80::8000:ffff:ffff:fffd", "ff02::2", 58, -1, -1, 0u, 0x00, -1, 0, 133, 0, -1, 0, "192.168.2.16", "65.55.158.80"},
    {"traffic/pcapplusplus--ip-frag.pcap", 1, 445, "eth:ethertype:ip:udp:rpc:nfs", 4, "10.118.213.212", "10.118.213.211", 17, 789, 2049, 0u, 0x00, 8312, 0, -1, -1, -1, 1, NULL, NULL},
    {"traffic/pcapplusplus--ip-frag.pcap", 1, 446, "eth:ethertype:ip:data", 4, "10.118.213.212", "10.118.213.211", 17, -1, -1, 0u, 0x00, -1, 0, -1, -1, -1, 1, NULL, NULL},
    {"formats/pcapplusplus--four_ipv6_http_streams.pcap", 1, 1, "raw:ipv6:tcp", 6, "2001:618:400::5199:cc70", "2001:618:1:8000::5", 6, 35995, 80, 1793525558u, 0x02, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"traffic/suricata-verify--decode-sll2-02--input.pcap", 1, 1, "sll:ethertype:ip:tcp", 4, "192.168.1.253", "192.168.1.21", 6, 56478, 80, 2332771219u, 0x02, 0, 0, -1, -1, -1, 0, NULL, NULL},
    {"traffic/zeek--gre-aruba.pcap", 1, 1, "eth:ethertype:vlan:ethertype:ip:gre:wlan:llc:ip:tcp", 4, "10.37.36.92", "205.185.216.10", 6, 58973, 80, 99019035u, 0x11, 0, 300, -1, -1, 40, 0, "10.3.34.171", "10.33.10.23"},
    {"traffic/ndpi--vxlan.pcap", 1, 5, "eth:ethertype:vlan:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp", 4, "10.10.20.4", "157.240.224.35", 6, 45226, 443, 1181471711u, 0x02, 0, 5, -1, -1, -1, 0, "192.168.22.4", "192.168.22.5"},
    {"traffic/iti-ics--wrapup.pcapng", 1, 46, "eth:ethertype:ip:igmp:igmp", 4, "192.168.0.16", "224.0.0.2", 2, -1, -1, 0u, 0x00, -1, 0, -1, -1, -1, 0, NULL, NULL},
};
/* clang-format on */

/* ---- reading records -------------------------------------------------------------------- */

static bool exists(const char *path);

static char *join(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* Bundled files are in tests/captures; shared ones under $SIFT_SHARED_CAPTURES. */
static char *capture_path(const char *file, int shared)
{
    if (shared) {
        const char *dir = getenv("SIFT_SHARED_CAPTURES");
        return join(dir && *dir ? dir : "../shared/captures", file);
    }
    const char *dir = getenv("SIFT_TEST_CAPTURES");
    return join(dir && *dir ? dir : "tests/captures", file);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A record whose bytes are copied into a buffer of exactly caplen bytes, so that
 * AddressSanitizer reports any read past the end. */
typedef struct owned_rec {
    sift_record_t rec;
    uint8_t *buf;
} owned_rec_t;

static void own(owned_rec_t *o, const sift_record_t *rec, uint32_t caplen)
{
    o->rec = *rec;
    o->rec.caplen = caplen;
    o->buf = malloc(caplen ? caplen : 1);
    assert_non_null(o->buf);
    if (caplen)
        memcpy(o->buf, rec->data, caplen);
    o->rec.data = caplen ? o->buf : NULL;
}

static bool load_frame(const char *path, unsigned frame, owned_rec_t *out)
{
    sift_ctx_t *ctx = NULL;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_reader_t *r = NULL;
    int rc = sift_reader_open(&r, ctx, path, NULL);
    if (rc != 0) {
        print_error("cannot open %s: %s\n", path, sift_ctx_errmsg(ctx));
        sift_ctx_free(ctx);
        return false;
    }
    sift_record_t rec;
    bool found = false;
    for (unsigned n = 1; sift_reader_next(r, &rec) == 1; n++) {
        if (n == frame) {
            own(out, &rec, rec.caplen);
            found = true;
            break;
        }
    }
    sift_reader_close(r);
    sift_ctx_free(ctx);
    return found;
}

/* ---- invariants that hold for every packet ---------------------------------------------- */

static void check_invariants(const sift_packet_t *p, const sift_record_t *rec)
{
    const uint8_t *lo = rec->data, *hi = rec->data + rec->caplen;
    if (p->payload) {
        assert_true(p->payload >= lo && p->payload <= hi);
        assert_true(p->payload_len <= (size_t)(hi - p->payload));
    } else {
        assert_int_equal(p->payload_len, 0);
    }
    if (p->flags & SIFT_PKT_L4)
        assert_true(p->flags & SIFT_PKT_L3);
    else
        assert_true(p->sport == 0 && p->dport == 0);
    if (p->flags & SIFT_PKT_L3) {
        assert_true(p->ip_version == 4 || p->ip_version == 6);
        assert_true(p->l3_offset < rec->caplen);
    } else {
        assert_int_equal(p->ip_version, 0);
    }
    if (p->flags & SIFT_PKT_TUNNEL)
        assert_true(p->tunnel_depth > 0);
    assert_true(p->nlayers <= SIFT_PKT_MAX_LAYERS);
    uint32_t prev = 0;
    for (unsigned i = 0; i < p->nlayers; i++) {
        const sift_layer_t *l = &p->layers[i];
        assert_true(l->proto > SIFT_PROTO_NONE && l->proto < SIFT_PROTO_COUNT);
        assert_true((uint64_t)l->offset + l->len <= rec->caplen);
        assert_true(l->offset >= prev);
        prev = l->offset;
    }
}

/* ---- the table of real packets ---------------------------------------------------------- */

static void to16(const char *text, int version, uint8_t out[16])
{
    memset(out, 0, 16);
    if (version == 4) {
        out[10] = out[11] = 0xff;
        assert_int_equal(inet_pton(AF_INET, text, out + 12), 1);
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, out), 1);
    }
}

/* Our layer chain in Wireshark names must be a prefix of tshark's frame.protocols once the
 * entries that are not headers (ethertype, wlan_radio) and the names of IPv6 extension
 * headers (one "ipv6-ext" layer to us, shown inside ipv6) are dropped. */
static void check_chain(const sift_packet_t *p, const char *ws_chain, const char *what)
{
    char ours[512] = "", theirs[512] = "";
    for (unsigned i = 0; i < p->nlayers; i++) {
        const char *n = sift_proto_wsname(p->layers[i].proto);
        if (!*n)
            continue;
        if (*ours)
            strncat(ours, ":", sizeof ours - strlen(ours) - 1);
        strncat(ours, n, sizeof ours - strlen(ours) - 1);
    }
    for (const char *t = ws_chain; *t;) {
        const char *e = strchr(t, ':');
        size_t len = e ? (size_t)(e - t) : strlen(t);
        bool drop = (len == 9 && !strncmp(t, "ethertype", 9)) ||
                    (len == 10 && !strncmp(t, "wlan_radio", 10)) || !strncmp(t, "ipv6.", 5);
        if (!drop && strlen(theirs) + len + 2 < sizeof theirs) {
            if (*theirs)
                strcat(theirs, ":");
            strncat(theirs, t, len);
        }
        t += len + (e ? 1 : 0);
    }
    size_t n = strlen(ours);
    if (n == 0 || strncmp(ours, theirs, n) != 0 || (theirs[n] != '\0' && theirs[n] != ':'))
        fail_msg("%s: layers %s are not a prefix of tshark's %s", what, ours, theirs);
}

static void check_case(const dcase_t *k, const sift_record_t *rec)
{
    char what[256];
    snprintf(what, sizeof what, "%s frame %u", k->file, k->frame);
    sift_packet_t p;
    memset(&p, 0xa5, sizeof p); /* garbage in: the decoder must clear what it owns */
    p.input = 7;
    assert_int_equal(sift_decode(&p, rec, SIFT_NEED_PAYLOAD), 0);
    assert_int_equal(p.input, 7);
    assert_ptr_equal(p.rec, rec);
    check_invariants(&p, rec);
    check_chain(&p, k->ws_chain, what);
    if (p.flags & SIFT_PKT_TRUNCATED)
        fail_msg("%s: unexpectedly truncated", what);

    if (!k->src) {
        if (p.flags & SIFT_PKT_L3)
            fail_msg("%s: L3 set but tshark shows no IP", what);
    } else {
        uint8_t a[16], b[16];
        if (!(p.flags & SIFT_PKT_L3))
            fail_msg("%s: no L3", what);
        assert_int_equal(p.ip_version, k->ip_version);
        to16(k->src, k->ip_version, a);
        to16(k->dst, k->ip_version, b);
        if (memcmp(a, p.src, 16) || memcmp(b, p.dst, 16))
            fail_msg("%s: addresses differ from tshark's %s > %s", what, k->src, k->dst);
        assert_int_equal(p.ip_proto, k->ip_proto);
    }
    if (k->sport < 0) {
        assert_false(p.flags & SIFT_PKT_L4);
    } else {
        if (!(p.flags & SIFT_PKT_L4))
            fail_msg("%s: no L4", what);
        assert_int_equal(p.sport, k->sport);
        assert_int_equal(p.dport, k->dport);
        if (p.ip_proto == 6) {
            assert_int_equal(p.tcp_seq, k->tcp_seq);
            assert_int_equal(p.tcp_flags, k->tcp_flags);
        }
        if (k->payload_len >= 0 && !k->fragment)
            assert_int_equal(p.payload_len, k->payload_len);
    }
    assert_int_equal(p.vlan, k->vlan);
    if (k->icmp_type >= 0) {
        assert_int_equal(p.icmp_type, k->icmp_type);
        assert_int_equal(p.icmp_code, k->icmp_code);
    }
    if (k->wlan_type_subtype >= 0) {
        int ts = ((p.wlan_fc >> 2) & 3) << 4 | p.wlan_fc >> 4;
        assert_int_equal(ts, k->wlan_type_subtype);
        bool mgmt = (k->wlan_type_subtype >> 4) != 2;
        assert_int_equal(!!(p.flags & SIFT_PKT_MGMT), mgmt);
    }
    assert_int_equal(!!(p.flags & SIFT_PKT_FRAGMENT), k->fragment);
    if (k->outer_src) {
        uint8_t a[16], b[16];
        int v = strchr(k->outer_src, ':') ? 6 : 4;
        assert_true(p.tunnel_depth > 0);
        assert_true(p.flags & SIFT_PKT_TUNNEL);
        assert_int_equal(p.outer_ip_version, v);
        to16(k->outer_src, v, a);
        to16(k->outer_dst, v, b);
        if (memcmp(a, p.outer_src, 16) || memcmp(b, p.outer_dst, 16))
            fail_msg("%s: outer addresses differ from tshark's %s > %s", what, k->outer_src,
                     k->outer_dst);
    } else if (k->src) {
        assert_false(p.flags & SIFT_PKT_TUNNEL);
    }

    /* Lower needs stop early but agree on what they fill. */
    sift_packet_t q;
    assert_int_equal(sift_decode(&q, rec, SIFT_NEED_NETWORK), 0);
    check_invariants(&q, rec);
    assert_int_equal(q.flags & SIFT_PKT_L3, p.flags & SIFT_PKT_L3);
    assert_memory_equal(q.src, p.src, 16);
    assert_memory_equal(q.dst, p.dst, 16);
    assert_int_equal(q.ip_proto, p.ip_proto);
    assert_false(q.flags & SIFT_PKT_L4);
    assert_null(q.payload);
    assert_int_equal(sift_decode(&q, rec, SIFT_NEED_TRANSPORT), 0);
    check_invariants(&q, rec);
    assert_int_equal(q.flags & SIFT_PKT_L4, p.flags & SIFT_PKT_L4);
    assert_int_equal(q.sport, p.sport);
    assert_int_equal(q.dport, p.dport);
    assert_null(q.payload);
    assert_int_equal(sift_decode(&q, rec, SIFT_NEED_RECORD), 0);
    assert_int_equal(q.flags, 0);
    assert_int_equal(q.nlayers, 0);
}

/* Every prefix of the packet, in a buffer of exactly that size: the decoder must neither read
 * past it (AddressSanitizer) nor break an invariant, and must flag the cut when it lands in a
 * header it needed. */
static void check_prefixes(const sift_record_t *rec)
{
    for (uint32_t n = 0; n < rec->caplen && n <= 512; n++) {
        owned_rec_t o;
        own(&o, rec, n);
        sift_packet_t p;
        assert_int_equal(sift_decode(&p, &o.rec, SIFT_NEED_PAYLOAD), 0);
        check_invariants(&p, &o.rec);
        free(o.buf);
    }
}

static void run_cases(int shared)
{
    unsigned ran = 0, skipped = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const dcase_t *k = &cases[i];
        if (k->shared != shared)
            continue;
        char *path = capture_path(k->file, k->shared);
        if (!exists(path)) {
            free(path);
            skipped++;
            continue;
        }
        owned_rec_t o;
        if (!load_frame(path, k->frame, &o))
            fail_msg("%s: frame %u not found", path, k->frame);
        check_case(k, &o.rec);
        check_prefixes(&o.rec);
        free(o.buf);
        free(path);
        ran++;
    }
    print_message("%u packets checked against tshark, %u skipped\n", ran, skipped);
    if (ran == 0)
        skip();
}

static void test_bundled_packets(void **state)
{
    (void)state;
    run_cases(0);
}

static void test_shared_packets(void **state)
{
    (void)state;
    run_cases(1);
}

/* ---- link types without a capture of their own: the same real packet relabelled ---------- */

static void decode_as(const char *file, unsigned frame, uint32_t linktype, sift_packet_t *p,
                      owned_rec_t *o)
{
    char *path = capture_path(file, 0);
    assert_true(load_frame(path, frame, o));
    free(path);
    o->rec.linktype = linktype;
    assert_int_equal(sift_decode(p, &o->rec, SIFT_NEED_PAYLOAD), 0);
    check_invariants(p, &o->rec);
}

static void test_raw_and_loop_numbers(void **state)
{
    (void)state;
    /* LINKTYPE_RAW_ipv6 frame 1 (tshark: 2001:db8::1 > 2620:fe::9, UDP 12345 > 53) as every raw
     * link-type number; null_loopback frame 2 (AF 2, tshark: 172.16.1.117:55369 >
     * 172.16.1.255:8612) as LOOP (108), whose AF may be in either order. */
    static const uint32_t raw[] = {12, 14, 101, 229};
    for (size_t i = 0; i < 4; i++) {
        sift_packet_t p;
        owned_rec_t o;
        decode_as("tcpdump--LINKTYPE_RAW_ipv6.pcap", 1, raw[i], &p, &o);
        assert_int_equal(p.flags & (SIFT_PKT_L3 | SIFT_PKT_L4), SIFT_PKT_L3 | SIFT_PKT_L4);
        assert_int_equal(p.ip_version, 6);
        assert_int_equal(p.sport, 12345);
        assert_int_equal(p.dport, 53);
        assert_int_equal(p.payload_len, 29);
        free(o.buf);
    }
    sift_packet_t p;
    owned_rec_t o;
    decode_as("pcapplusplus--null_loopback.pcap", 2, 108, &p, &o);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.sport, 55369);
    assert_int_equal(p.dport, 8612);
    free(o.buf);
    /* 228 (IPV4) given an IPv6 packet: damaged, not misread */
    decode_as("tcpdump--LINKTYPE_RAW_ipv6.pcap", 1, 228, &p, &o);
    assert_true(p.flags & SIFT_PKT_TRUNCATED);
    assert_false(p.flags & SIFT_PKT_L3);
    free(o.buf);
}

static void test_unknown_link(void **state)
{
    (void)state;
    sift_packet_t p;
    owned_rec_t o;
    decode_as("dpkt--http.pcap", 1, 147 /* USER0 */, &p, &o);
    assert_int_equal(p.flags, SIFT_PKT_UNKNOWN_LINK);
    assert_int_equal(p.nlayers, 0);
    assert_int_equal(sift_decode_linktype_known(147), 0);
    assert_int_equal(sift_decode_linktype_known(1), 1);
    /* "known" is exactly "the decoder has a table entry for it", for every number in use */
    unsigned known = 0;
    for (uint32_t lt = 0; lt < 300; lt++) {
        o.rec.linktype = lt;
        assert_int_equal(sift_decode(&p, &o.rec, SIFT_NEED_PAYLOAD), 0);
        assert_int_equal(sift_decode_linktype_known(lt), !(p.flags & SIFT_PKT_UNKNOWN_LINK));
        known += (unsigned)sift_decode_linktype_known(lt);
    }
    assert_int_equal(known, 18);
    free(o.buf);
}

static void test_truncated(void **state)
{
    (void)state;
    char *path = capture_path("dpkt--http.pcap", 0);
    owned_rec_t full, o;
    assert_true(load_frame(path, 1, &full));
    free(path);
    /* cut inside the IPv4 header */
    own(&o, &full.rec, 14 + 10);
    sift_packet_t p;
    assert_int_equal(sift_decode(&p, &o.rec, SIFT_NEED_PAYLOAD), 0);
    assert_true(p.flags & SIFT_PKT_TRUNCATED);
    assert_false(p.flags & SIFT_PKT_L3);
    free(o.buf);
    /* cut inside the TCP header: addresses stay, ports do not */
    own(&o, &full.rec, 14 + 20 + 10);
    assert_int_equal(sift_decode(&p, &o.rec, SIFT_NEED_PAYLOAD), 0);
    assert_true(p.flags & SIFT_PKT_TRUNCATED);
    assert_true(p.flags & SIFT_PKT_L3);
    assert_false(p.flags & SIFT_PKT_L4);
    free(o.buf);
    /* nothing at all */
    own(&o, &full.rec, 0);
    assert_int_equal(sift_decode(&p, &o.rec, SIFT_NEED_PAYLOAD), 0);
    assert_int_equal(p.flags, SIFT_PKT_TRUNCATED);
    free(o.buf);
    free(full.buf);
}

/* Decodes a real frame with `len` bytes inserted at offset `at`; returns the spliced record's
 * bytes, for the caller to free. */
static uint8_t *decode_spliced(sift_packet_t *p, const owned_rec_t *full, size_t at,
                               const uint8_t *ins, size_t len)
{
    assert_true(at <= full->rec.caplen);
    size_t n = full->rec.caplen + len;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    memcpy(buf, full->buf, at);
    memcpy(buf + at, ins, len);
    memcpy(buf + at + len, full->buf + at, full->rec.caplen - at);
    sift_record_t rec = full->rec;
    rec.data = buf;
    rec.caplen = (uint32_t)n;
    assert_int_equal(sift_decode(p, &rec, SIFT_NEED_PAYLOAD), 0);
    check_invariants(p, &rec);
    return buf;
}

/* The real Ethernet frame with 40 802.1Q tags spliced in after the MAC addresses: the tags
 * nest through the EtherType table, which stops at its bound instead of walking them all. */
static void test_nesting_bound(void **state)
{
    (void)state;
    char *path = capture_path("dpkt--http.pcap", 0);
    owned_rec_t full = {0};
    assert_true(load_frame(path, 1, &full));
    free(path);
    uint8_t tags[40 * 4];
    for (int i = 0; i < 40; i++) {
        uint8_t tag[4] = {0x81, 0x00, 0x00, (uint8_t)(i + 1)};
        memcpy(tags + 4 * i, tag, 4);
    }
    sift_packet_t p;
    free(decode_spliced(&p, &full, 12, tags, sizeof tags));
    assert_true(p.flags & SIFT_PKT_DEEP);
    assert_false(p.flags & SIFT_PKT_L3);
    assert_int_equal(p.vlan, 1);
    assert_int_equal(p.vlan_count, 8); /* DEC_MAX_VLAN tags, then DEEP */
    assert_int_equal(p.nlayers, 1 + 8);
    free(full.buf);
}

/* NSH whose next protocol is NSH (RFC 8300 value 4): the real NSH frame of the arkime capture
 * with a copy of its NSH header put in front, the copy announcing NSH. Both are layers and the
 * IPv4 inside is still found. */
static void test_nsh_in_nsh(void **state)
{
    (void)state;
    char *path = capture_path("arkime--arkime_synthetic.pcap", 0);
    owned_rec_t full = {0};
    assert_true(load_frame(path, 307, &full));
    free(path);
    size_t nsh_len = (size_t)(((full.buf[14] << 8 | full.buf[15]) & 0x3f) * 4);
    assert_true(nsh_len >= 8 && nsh_len <= 64 && 14 + nsh_len <= full.rec.caplen);
    uint8_t outer[64];
    memcpy(outer, full.buf + 14, nsh_len);
    outer[3] = 4; /* next protocol: NSH */
    sift_packet_t p;
    free(decode_spliced(&p, &full, 14, outer, nsh_len));
    assert_int_equal(p.layers[1].proto, SIFT_PROTO_NSH);
    assert_int_equal(p.layers[2].proto, SIFT_PROTO_NSH);
    assert_int_equal(p.layers[2].offset, 14 + nsh_len);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.icmp_type, 8);
    assert_false(p.flags & (SIFT_PKT_NON_IP | SIFT_PKT_TRUNCATED));
    free(full.buf);
}

static void test_misuse_and_names(void **state)
{
    (void)state;
    sift_packet_t p;
    sift_record_t rec = {.linktype = 1, .caplen = 4, .data = NULL};
    assert_int_equal(sift_decode(NULL, &rec, SIFT_NEED_PAYLOAD), SIFT_EINVAL);
    assert_int_equal(sift_decode(&p, NULL, SIFT_NEED_PAYLOAD), SIFT_EINVAL);
    assert_int_equal(sift_decode(&p, &rec, SIFT_NEED_PAYLOAD), SIFT_EINVAL);
    rec.caplen = 0;
    assert_int_equal(sift_decode(&p, &rec, SIFT_NEED_PAYLOAD), 0);
    assert_int_equal(p.flags, SIFT_PKT_TRUNCATED);

    for (unsigned i = 1; i < SIFT_PROTO_COUNT; i++) {
        assert_true(strlen(sift_proto_name(i)) > 0);
        assert_non_null(sift_proto_wsname(i));
        for (unsigned j = 1; j < i; j++)
            assert_string_not_equal(sift_proto_name(i), sift_proto_name(j));
    }
    assert_string_equal(sift_proto_name(SIFT_PROTO_IPV4), "ipv4");
    assert_string_equal(sift_proto_wsname(SIFT_PROTO_IPV4), "ip");
    assert_string_equal(sift_proto_name(SIFT_PROTO_COUNT), "?");
}

/* ---- the whole shared corpus ------------------------------------------------------------ */

typedef struct corpus_stats {
    uint64_t files, records, l3, l4, tunnel, trunc, unknown_link;
} corpus_stats_t;

static void corpus_file(const char *path, corpus_stats_t *st)
{
    sift_ctx_t *ctx = NULL;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_reader_t *r = NULL;
    if (sift_reader_open(&r, ctx, path, NULL) != 0) {
        sift_ctx_free(ctx);
        return;
    }
    st->files++;
    sift_record_t rec;
    while (sift_reader_next(r, &rec) == 1) {
        owned_rec_t o;
        own(&o, &rec, rec.caplen);
        sift_packet_t p, q;
        assert_int_equal(sift_decode(&p, &o.rec, SIFT_NEED_PAYLOAD), 0);
        check_invariants(&p, &o.rec);
        assert_int_equal(sift_decode(&q, &o.rec, SIFT_NEED_NETWORK), 0);
        check_invariants(&q, &o.rec);
        if ((q.flags & SIFT_PKT_L3) != (p.flags & SIFT_PKT_L3) || memcmp(q.src, p.src, 16) ||
            memcmp(q.dst, p.dst, 16))
            fail_msg("%s record at offset %llu: NETWORK and PAYLOAD disagree on addresses", path,
                     (unsigned long long)rec.offset);
        st->records++;
        st->l3 += !!(p.flags & SIFT_PKT_L3);
        st->l4 += !!(p.flags & SIFT_PKT_L4);
        st->tunnel += !!(p.flags & SIFT_PKT_TUNNEL);
        st->trunc += !!(p.flags & SIFT_PKT_TRUNCATED);
        st->unknown_link += !!(p.flags & SIFT_PKT_UNKNOWN_LINK);
        free(o.buf);
    }
    sift_reader_close(r);
    sift_ctx_free(ctx);
}

static void corpus_walk(const char *dir, corpus_stats_t *st, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 4) {
        if (d)
            closedir(d);
        return;
    }
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        int len = snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        if (len < 0 || (size_t)len >= sizeof sub)
            continue;
        struct stat sb;
        if (stat(sub, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            corpus_walk(sub, st, depth + 1);
        else if (S_ISREG(sb.st_mode) && strstr(e->d_name, ".tsv") == NULL &&
                 strstr(e->d_name, ".md") == NULL)
            corpus_file(sub, st);
    }
    closedir(d);
}

static void test_shared_corpus(void **state)
{
    (void)state;
    const char *dir = getenv("SIFT_SHARED_CAPTURES");
    if (!dir || !exists(dir))
        skip();
    corpus_stats_t st = {0};
    corpus_walk(dir, &st, 0);
    print_message("%llu files, %llu records: %llu with IP, %llu with ports, %llu tunnelled, "
                  "%llu truncated, %llu on unknown link types\n",
                  (unsigned long long)st.files, (unsigned long long)st.records,
                  (unsigned long long)st.l3, (unsigned long long)st.l4,
                  (unsigned long long)st.tunnel, (unsigned long long)st.trunc,
                  (unsigned long long)st.unknown_link);
    assert_true(st.records > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_packets),
        cmocka_unit_test(test_shared_packets),
        cmocka_unit_test(test_raw_and_loop_numbers),
        cmocka_unit_test(test_unknown_link),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_nesting_bound),
        cmocka_unit_test(test_nsh_in_nsh),
        cmocka_unit_test(test_misuse_and_names),
        cmocka_unit_test(test_shared_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
