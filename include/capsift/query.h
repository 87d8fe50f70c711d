/* capsift: the flow query language, compiled to parameterised SQL.
 *
 *   host 10.0.0.1 and port 445 and after 2024-05-14
 *   (src net 192.168.0.0/16 or dst host fe80::1) and not proto udp
 *   app TLS and bytes > 1000000
 *
 * Terms (src = the initiator of the flow, dst = the responder):
 *   [src|dst] host ADDR        IPv4 or IPv6 address
 *   [src|dst] net CIDR         10.0.0.0/8, 2001:db8::/32 (a bare address means /32 or /128)
 *   [src|dst] port N           0-65535
 *   [src|dst] portrange A-B    ports A to B
 *   ip, ip6                    IPv4, IPv6 flows; a protocol qualifies the term after it as in
 *                              BPF: "tcp port 80", "udp src portrange 1024-65535"
 *   net A mask M, net 10.1     BPF's other ways to write a network
 *   proto NAME|N               tcp, udp, icmp, icmp6, sctp, gre, or an IP protocol number;
 *   tcp, udp, icmp, icmp6      shorthands for proto NAME
 *   state NAME                 Zeek's connection state (S0, SF, REJ, RSTO ... OTH)
 *   app NAME                   application protocol, any case: "TLS" matches TLS and
 *                              TLS.YouTube, "YouTube" matches TLS.YouTube
 *   vlan N, vlan               the first packet's outermost VLAN id; any
 *   file GLOB                  the capture's path, shell glob (* ? [..])
 *   after TIME, before TIME    flows with traffic after / before TIME: ISO 8601 in UTC
 *                              (2024-05-14, 2024-05-14T10:00:00, ...Z, ...+02:00, fractions)
 *                              or seconds since the epoch (1715680800.5)
 *   packets OP N, bytes OP N, duration OP SECONDS   with OP one of > >= < <= = !=
 * and on the application metadata the index keeps (a flow matches when one of its rows does):
 *   dns NAME, sni NAME, http.host NAME, cert.san NAME, name NAME (any of them)
 *                              names on labels, any case, a trailing dot ignored: a label "*"
 *                              is one or more labels, '*' and '?' inside one stay in it
 *                              ("*.example.com" is not "example.com" nor "badexample.com")
 *   uri, ua, http.method, http.referrer, http.content_type, cert.subject, cert.issuer,
 *   ssh.client, ssh.server, tls.alpn, dhcp.host, dhcp.mac   VALUE (exact, or a shell glob) or
 *                              contains TEXT (ASCII case ignored); ssh.* also match the
 *                              software after "SSH-2.0-"
 *   ja3, ja3s, hassh, hassh.server, cert.sha1   HEX (any case), or the JA3/HASSH string
 * and on the payloads the index stores (capsift index --payloads; a flow matches when one of
 * its packets' transport payloads does, as capsift search --per-packet finds it):
 *   contains TEXT              the bytes of TEXT, with |hex| bytes as capsift search writes
 *                              them: contains "GET /admin", contains "|de ad be ef|"
 *   matches /REGEX/FLAGS       a regular expression as capsift search takes it (flags i s m);
 *                              quoted when it holds spaces, parentheses or bars
 * combined with and (&&), or (||), not (!) and parentheses; and binds tighter than or.
 * BPF terms about packets (ether, arp, less, tcp[13] ...) are refused with why. Values never
 * enter the SQL text: each is a bound parameter.
 */
#ifndef CAPSIFT_QUERY_H
#define CAPSIFT_QUERY_H

#include <capsift/common.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_query sift_query_t;

/* Compiles expr ("" matches every flow). On a syntax error returns SIFT_EPARSE with
 * "column N: ..." in errbuf (SIFT_ERRBUF_SIZE bytes) and the 1-based column in *errcol (may be
 * NULL). */
SIFT_API int sift_query_compile(sift_query_t **out, const char *expr, char *errbuf, size_t *errcol);
SIFT_API void sift_query_free(sift_query_t *q); /* NULL is fine */

/* The SQL condition over the flows table (alias f) and files table (alias fi), with '?' for
 * each parameter. Valid while q is. */
SIFT_API const char *sift_query_sql(const sift_query_t *q);

/* Parameters in order: kind 'i' (int64 in *i), 'b' (16-byte blob in b), 't' (text in t). */
typedef struct sift_query_param {
    char kind;
    int64_t i;
    uint8_t b[16];
    const char *t;
} sift_query_param_t;

SIFT_API size_t sift_query_nparams(const sift_query_t *q);

/* The patterns of the contains and matches terms, in capsift search's syntax (capsift/search.h),
 * in order: term i holds for the flows in temp.payload_hits(term, flow_id) with term = i, which
 * the index fills from its payload store before it runs the query. *terms is valid while q is. */
SIFT_API size_t sift_query_payload_terms(const sift_query_t *q, const char *const **terms);
SIFT_API const sift_query_param_t *sift_query_param(const sift_query_t *q, size_t i);

/* Parses a time as the language does (ISO 8601 UTC or epoch seconds) into nanoseconds since
 * the epoch. Returns 0 or SIFT_EPARSE. A date outside what 64-bit nanoseconds hold (before
 * 1677-09-21, after 2262-04-11) saturates to INT64_MIN or INT64_MAX, so "after 2300-01-01"
 * matches nothing and "before 1600-01-01" nothing. */
SIFT_API int sift_parse_time(const char *s, int64_t *ns);

#ifdef __cplusplus
}
#endif
#endif
