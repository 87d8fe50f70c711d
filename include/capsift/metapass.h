/* capsift: the metadata pass - DNS, HTTP, TLS, SSH and DHCP transactions of each flow, from the
 * parsers of capsift/meta.h, as rows that scripts and the index read.
 *
 * Built on the engine's flows: every TCP segment and UDP datagram of a flow is offered to the
 * parsers (DNS by port 53, 5353 or 5355, DHCP by 67 and 68; HTTP, TLS and SSH by their first
 * bytes, on any port), messages are kept per flow (at most max_per_flow, the rest counted),
 * and when the flow ends they are paired: a DNS response with the query of its id, the n-th
 * HTTP response with the n-th request, a flow's first ClientHello with its first ServerHello,
 * an SSH client's version and KEXINIT with the server's, DHCP messages by transaction id
 * (and, when the input is finished, across flows by id and MAC). A message must begin at the start
 * of a TCP segment; one that goes on into the next segment is parsed as far as the segment goes
 * (and counted as cut); the exception is a TLS 1.2 server's first flight, read in order up to
 * 16 KiB for its certificate. Retransmitted segments are skipped by sequence number; an HTTP body's
 * length is counted in sequence space, from the end of its head to the next head (or the highest
 * sequence number of the direction). Repeated strings are stored once per range read. Results never
 * depend on how a file is split: ranges of a file are read in parallel and their flows joined.
 *
 *   sift_meta_config_t mc = {.protos = 1u << SIFT_META_DNS};
 *   int p = sift_engine_add_pass(e, &sift_meta_pass, &mc);
 *   ... sift_engine_run(e) ...
 *   const sift_meta_t *m = sift_engine_state(e, input, p);
 *   for (size_t i = 0; i < sift_meta_count(m); i++) use(sift_meta_at(m, i));
 */
#ifndef CAPSIFT_METAPASS_H
#define CAPSIFT_METAPASS_H

#include <capsift/engine.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sift_meta_proto {
    SIFT_META_DNS = 0,
    SIFT_META_HTTP = 1,
    SIFT_META_TLS = 2,
    SIFT_META_SSH = 3,
    SIFT_META_DHCP = 4
} sift_meta_proto_t;
#define SIFT_META_NPROTO 5

/* "dns", "http", "tls", "ssh", "dhcp"; parse gives SIFT_EINVAL for another name. */
SIFT_API const char *sift_meta_proto_name(sift_meta_proto_t p);
SIFT_API int sift_meta_proto_parse(const char *name, sift_meta_proto_t *p);

#define SIFT_META_DEFAULT_PER_FLOW 512

typedef struct sift_meta_config {
    unsigned protos;       /* bits 1u << SIFT_META_*; 0: all */
    unsigned max_per_flow; /* messages kept per flow (0: SIFT_META_DEFAULT_PER_FLOW) */
} sift_meta_config_t;

/* The pass (config: a sift_meta_config_t, NULL for defaults); its state is a sift_meta_t. */
extern SIFT_API const sift_pass_t sift_meta_pass;
typedef struct sift_meta sift_meta_t;

/* A row's fields, per protocol: each is a string or list slot (str[slot]) or a number slot
 * (num[slot]); a NAME field is a number slot shown through name(). */
typedef enum sift_meta_type {
    SIFT_META_T_STR,  /* text */
    SIFT_META_T_LIST, /* items separated by SIFT_META_LIST_SEP */
    SIFT_META_T_NUM,  /* a count or length */
    SIFT_META_T_ID,   /* a number that names something (an id, a code) */
    SIFT_META_T_HEX,  /* a 16-bit code shown as 0x1301 */
    SIFT_META_T_NAME  /* the name of num[slot] (NULL: none known) */
} sift_meta_type_t;
#define SIFT_META_LIST_SEP '\x1f'

typedef struct sift_meta_field {
    const char *name; /* the JSON key, as Zeek's logs call it where they have it */
    sift_meta_type_t type;
    uint8_t slot;
    const char *(*name_of)(uint64_t v); /* NAME: the name of a value, a static string or NULL */
} sift_meta_field_t;

/* The fields of a protocol's rows, in the order to show them. */
SIFT_API const sift_meta_field_t *sift_meta_fields(sift_meta_proto_t p, size_t *n);
/* The slot of p's field called name; UINT8_MAX when p has no such field. */
SIFT_API uint8_t sift_meta_field_slot(sift_meta_proto_t p, const char *name);

#define SIFT_META_NSTR 14
#define SIFT_META_NNUM 6
#define SIFT_META_NONE UINT64_MAX /* a number slot without a value */

/* One transaction: a DNS query and its response, an HTTP request and its response, a TLS
 * handshake's hellos, an SSH connection's versions and key exchange offers. Either side may
 * be missing (offset UINT64_MAX, ts INT64_MIN). */
typedef struct sift_meta_row {
    uint8_t proto;                /* sift_meta_proto_t */
    uint8_t ip_version, ip_proto; /* of the flow */
    uint8_t src[16], dst[16];     /* the flow's initiator, then its responder */
    uint16_t sport, dport;
    uint16_t vlan;                   /* the flow's first packet's outermost VLAN id, 0 none */
    int64_t flow_first_ns;           /* the flow's first packet's time: with the above, its flow */
    int64_t ts_ns[2];                /* [0] the request's (query, hello) time, [1] the reply's */
    uint64_t offset[2];              /* their record offsets in the file */
    const char *str[SIFT_META_NSTR]; /* NULL: absent; valid while the state is */
    uint64_t num[SIFT_META_NNUM];    /* SIFT_META_NONE: absent */
    uint32_t index;                  /* internal: its place among its flow's rows */
} sift_meta_row_t;

/* The earlier of a row's two times. */
static inline int64_t sift_meta_row_ts(const sift_meta_row_t *r)
{
    return r->ts_ns[0] != INT64_MIN ? r->ts_ns[0] : r->ts_ns[1];
}

/* The rows of an input, by time (then file position). */
SIFT_API size_t sift_meta_count(const sift_meta_t *s);
SIFT_API const sift_meta_row_t *sift_meta_at(const sift_meta_t *s, size_t i);

/* The rows of flow f (a flow of the same input from the engine's flows), in time order: the
 * count, and *rows pointing at that many rows. An input's state only (run totals: 0). */
struct sift_flow;
SIFT_API size_t sift_meta_flow_rows(const sift_meta_t *s, const struct sift_flow *f,
                                    const sift_meta_row_t *const **rows);

/* What was seen but not made into rows, per protocol. */
typedef struct sift_meta_summary {
    uint64_t messages[SIFT_META_NPROTO]; /* parsed */
    uint64_t rows[SIFT_META_NPROTO];
    uint64_t left_out[SIFT_META_NPROTO]; /* past max_per_flow, or DNS messages with records
                                          * past SIFT_DNS_MAX_RR */
    uint64_t damaged[SIFT_META_NPROTO];  /* broken inside (a DNS name looping, bad lengths) */
    uint64_t cut[SIFT_META_NPROTO];      /* went on past their segment: parsed as far as it
                                          * goes (a TLS hello without JA3, a head's last
                                          * fields, a KEXINIT without HASSH) */
} sift_meta_summary_t;
SIFT_API void sift_meta_summary(const sift_meta_t *s, sift_meta_summary_t *out);

#ifdef __cplusplus
}
#endif
#endif
