/* capsift: parsers of application metadata in payloads (DNS first), bounded in what they
 * keep, reading bytes only through the bounds-checked cursor. They know nothing of captures:
 * give them a message's bytes. Thread-safe: no state outside the caller's structs.
 */
#ifndef CAPSIFT_META_H
#define CAPSIFT_META_H

#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- DNS (RFC 1035; AAAA RFC 3596, SRV RFC 2782) ---- */

#define SIFT_DNS_NAME_MAX 256 /* a name in presentation form and its NUL */
#define SIFT_DNS_DATA_MAX 256 /* a record's data as text and its NUL (TXT is cut there) */
#define SIFT_DNS_MAX_RR   16  /* questions and answers kept from one message */

enum { SIFT_DNS_QUESTION = 0, SIFT_DNS_ANSWER = 1 };

/* One question or answer. Names are lower case, without the trailing dot ("." is the root),
 * escaped as in master files (RFC 1035 5.1): a '.' or '\' inside a label as "\." and "\\",
 * bytes outside printable ASCII as \DDD, so that IDNA and binary labels stay as sent but
 * printable. data: A and AAAA as addresses,
 * CNAME, NS, PTR and DNAME as names, MX "preference name", SRV "priority weight port target",
 * TXT its strings joined (non-printable bytes \DDD), SOA its primary server; "" for other
 * types (type says which). */
typedef struct sift_dns_rr {
    uint8_t section; /* SIFT_DNS_QUESTION or SIFT_DNS_ANSWER */
    uint16_t type, rclass;
    uint32_t ttl; /* 0 for a question */
    char name[SIFT_DNS_NAME_MAX];
    char data[SIFT_DNS_DATA_MAX];
} sift_dns_rr_t;

typedef struct sift_dns_msg {
    uint16_t id;
    bool response;     /* QR */
    uint8_t opcode;    /* 0 query */
    uint8_t rcode;     /* 0 NOERROR, 3 NXDOMAIN ... */
    bool truncated;    /* TC: the answer did not fit */
    uint16_t count[4]; /* QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT as the header gives them */
    size_t nrr;        /* questions, then answers */
    sift_dns_rr_t rr[SIFT_DNS_MAX_RR];
    uint32_t left_out; /* questions and answers read but not kept (past SIFT_DNS_MAX_RR) */
    bool damaged;      /* the message ended or broke before its counts were read: rr holds
                        * what came before (a name looping through pointers, a label type
                        * RFC 6891 retired, data past the end ...) */
} sift_dns_msg_t;

/* Parses one DNS message (over UDP as it is; over TCP without its 2-byte length). Returns 0,
 * or SIFT_ECORRUPT when len is shorter than the 12-byte header (out is then zeroed). A damaged
 * message is parsed as far as it goes (out->damaged). Never reads outside [msg, msg + len). */
SIFT_API int sift_dns_parse(const uint8_t *msg, size_t len, sift_dns_msg_t *out);

/* "A", "AAAA", "CNAME", "MX", "TXT" ...; NULL for a type without a name here. Static. */
SIFT_API const char *sift_dns_type_name(uint16_t type);

#ifdef __cplusplus
}
#endif
#endif
