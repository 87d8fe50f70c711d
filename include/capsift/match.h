/* capsift: indicators (capsift/ioc.h) matched against an input's flows - their addresses - and
 * the domain names of their metadata (capsift/metapass.h): DNS queries and answers, TLS server
 * names and certificate names, HTTP hosts. The states are those of one input of an engine run
 * with the metadata pass (which brings the flows): the command runs, this reads.
 */
#ifndef CAPSIFT_MATCH_H
#define CAPSIFT_MATCH_H

#include <capsift/flow.h>
#include <capsift/ioc.h>
#include <capsift/metapass.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where an indicator was seen. */
typedef enum sift_match_where {
    SIFT_MATCH_SRC = 0,    /* the flow's initiator's address */
    SIFT_MATCH_DST,        /* its responder's */
    SIFT_MATCH_DNS_QUERY,  /* a DNS question's name */
    SIFT_MATCH_DNS_ANSWER, /* a DNS answer: an address (A, AAAA) or a name (CNAME, MX ...) */
    SIFT_MATCH_TLS_SNI,    /* a TLS ClientHello's server_name */
    SIFT_MATCH_CERT,       /* a DNS name of the server certificate */
    SIFT_MATCH_HTTP_HOST,  /* an HTTP request's Host */
    SIFT_MATCH_NWHERE
} sift_match_where_t;

/* "src", "dst", "dns.query", "dns.answer", "tls.sni", "cert.san", "http.host". */
SIFT_API const char *sift_match_where_name(sift_match_where_t w);

typedef struct sift_ioc_match {
    const sift_flow_t *flow;
    size_t ioc;        /* the indicator's index in the list */
    uint8_t where;     /* sift_match_where_t */
    const char *value; /* what matched, as seen (an address as text); valid during the call */
    int64_t ts_ns;     /* when: the flow's first packet, or the message's time */
} sift_ioc_match_t;

/* Returns 0 to go on, or a negative code that stops the walk and is returned. */
typedef int (*sift_ioc_match_fn)(void *user, const sift_ioc_match_t *m);

/* Calls fn for every match in the flows (in their order) and their metadata rows (meta may be
 * NULL: addresses only), each (flow, where, value) once. */
SIFT_API int sift_iocs_match(const sift_iocs_t *l, const sift_flows_t *flows,
                             const sift_meta_t *meta, sift_ioc_match_fn fn, void *user);

/* The same for one flow and its rows in time order (nrows 0: addresses only), from a state or
 * from an index (sift_index_flows). Thread-safe. */
SIFT_API int sift_iocs_match_flow(const sift_iocs_t *l, const sift_flow_t *f,
                                  const sift_meta_row_t *const *rows, size_t nrows,
                                  sift_ioc_match_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
