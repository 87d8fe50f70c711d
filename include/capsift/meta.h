/* capsift: parsers of application metadata in payloads (DNS, HTTP, TLS, SSH, DHCP, X.509), bounded
 * in what they keep, reading bytes only through the bounds-checked cursor. They know nothing of
 * captures: give them a message's bytes. Thread-safe: no state outside the caller's structs.
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

#define SIFT_DNS_NAME_MAX 1024 /* a name in presentation form and its NUL: 255 bytes escaped */
#define SIFT_DNS_DATA_MAX 256  /* a record's data as text and its NUL (TXT is cut there) */
#define SIFT_DNS_MAX_RR   64   /* questions and answers kept from one message */

enum { SIFT_DNS_QUESTION = 0, SIFT_DNS_ANSWER = 1 };

/* One question or answer. Names are lower case, without the trailing dot ("." is the root),
 * escaped as in master files (RFC 1035 5.1): a '.' or '\' inside a label as "\." and "\\",
 * other bytes outside printable ASCII as \DDD unless they are well-formed UTF-8 (the names of
 * mDNS and LLMNR, RFC 6762), so that IDNA and binary labels stay as sent but printable. data: A and
 * AAAA as addresses, CNAME, NS, PTR and DNAME as names, MX "preference name", SRV "priority weight
 * port target", TXT its strings joined (non-printable bytes \DDD), SOA its primary server; "" for
 * other types (type says which). */
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

/* Whether bytes on a port DNS is not registered for have DNS's form all the same (DNSCrypt's
 * certificate queries on 443, resolvers on other ports): opcode 0, one question of class IN,
 * CH or ANY with a type, at most 64 records, and the question whole. A cheap check before
 * sift_dns_parse; it reads no more than the question. */
SIFT_API bool sift_dns_plausible(const uint8_t *msg, size_t len);

/* "A", "AAAA", "CNAME", "MX", "TXT" ...; NULL for a type without a name here. Static. */
SIFT_API const char *sift_dns_type_name(uint16_t type);

/* ---- HTTP/1.x heads (RFC 9112, RFC 9110) ---- */

#define SIFT_HTTP_URI_MAX   1024 /* the request target and its NUL */
#define SIFT_HTTP_FIELD_MAX 256  /* a field value kept and its NUL */

/* A request or response head. Text is as sent, bytes outside printable ASCII as \xHH; a value
 * longer than its buffer is cut (cut set). Fields: the first of each. */
typedef struct sift_http_head {
    bool response; /* a status line, else a request line */
    char method[24];
    char uri[SIFT_HTTP_URI_MAX];
    char version[4]; /* "1.1" */
    uint16_t status; /* a response's status code */
    char reason[64];
    char host[SIFT_HTTP_FIELD_MAX], user_agent[SIFT_HTTP_FIELD_MAX], referer[SIFT_HTTP_FIELD_MAX],
        content_type[128];
    uint64_t content_length;
    bool has_length, chunked; /* Content-Length given; Transfer-Encoding: chunked */
    bool complete;            /* the empty line ending the head was in the bytes */
    size_t head_len;          /* bytes of the head with that line, when complete */
    bool cut;
} sift_http_head_t;

/* Parses a head at the start of p: 0 when p begins with a request line (a method token, a
 * target, HTTP/d.d) or a status line (HTTP/d.d and a 3-digit code) that ends within the bytes,
 * its fields as far as the bytes go; SIFT_EINVAL when it does not (out is then not to be read). */
SIFT_API int sift_http_parse(const uint8_t *p, size_t len, sift_http_head_t *out);

/* ---- TLS hellos (RFC 8446, RFC 5246, RFC 6066, RFC 7301, RFC 8701) and JA3/JA3S ---- */

#define SIFT_TLS_NAME_MAX 256
#define SIFT_TLS_JA3_MAX  2048 /* a JA3 string and its NUL */
#define SIFT_TLS_ALPN_MAX 8

typedef struct sift_tls_hello {
    uint8_t type;                /* 1 ClientHello, 2 ServerHello */
    uint16_t record_version;     /* of the first record */
    uint16_t version;            /* the hello's legacy_version (0x0303 for TLS 1.2 and 1.3) */
    uint16_t supported;          /* supported_versions: a ClientHello's highest, a ServerHello's
                                  * choice (0x0304 for TLS 1.3); 0 without the extension */
    uint16_t cipher;             /* a ServerHello's cipher suite */
    char sni[SIFT_TLS_NAME_MAX]; /* server_name's host_name, lower case, \xHH escapes */
    char alpn[SIFT_TLS_ALPN_MAX][64]; /* ALPN protocols, as offered or chosen */
    size_t nalpn;
    char ja3[SIFT_TLS_JA3_MAX]; /* the JA3 string (ClientHello) or JA3S (ServerHello), GREASE
                                 * left out; "" when the message is not complete */
    bool complete;              /* the whole message was in the bytes */
    bool cut;                   /* a list or name did not fit */
} sift_tls_hello_t;

/* Parses the hello at the start of p (a handshake record, the message perhaps spanning several
 * records; short alert or ChangeCipherSpec records before it are stepped over): 0 for a
 * ClientHello or ServerHello, as far as the bytes go; SIFT_EINVAL for anything else (out
 * zeroed). */
SIFT_API int sift_tls_parse_hello(const uint8_t *p, size_t len, sift_tls_hello_t *out);

/* In a TLS 1.2 (or earlier) server's first flight (its records from the ServerHello on, p and
 * len bytes in stream order), the first certificate of its Certificate message, the server's
 * own, copied into der (size bytes): 1 with its length in *der_len; 0 when the bytes end
 * before it (give more: *need, when need is not NULL, is a length the flight must reach
 * before another call can succeed); SIFT_EINVAL when the flight holds none (a message other
 * than the Certificate follows the ServerHello, a record of another type, a certificate
 * larger than size) or it lies past the first 16 KiB of handshake bytes. */
SIFT_API int sift_tls_server_cert(const uint8_t *p, size_t len, uint8_t *der, size_t size,
                                  size_t *der_len, size_t *need);

/* ---- SSH version exchange and KEXINIT (RFC 4253), HASSH ---- */

/* The version line at the start of p ("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3"), without CR LF, into
 * out (printable, \xHH escapes); returns the bytes of the line with its end, 0 when p does not
 * begin with a complete "SSH-" line (out ""). */
SIFT_API size_t sift_ssh_parse_version(const uint8_t *p, size_t len, char *out, size_t size);

#define SIFT_SSH_HASSH_MAX 2048
typedef struct sift_ssh_kexinit {
    char client[SIFT_SSH_HASSH_MAX]; /* the HASSH string: kex;enc c2s;mac c2s;comp c2s */
    char server[SIFT_SSH_HASSH_MAX]; /* HASSH-server's: kex;enc s2c;mac s2c;comp s2c */
    bool cut;                        /* a string did not fit: do not hash it */
} sift_ssh_kexinit_t;

/* Parses a binary packet holding SSH_MSG_KEXINIT at the start of p: 0, SIFT_ETRUNC when the
 * packet goes on past len, SIFT_EINVAL when p holds no KEXINIT (out zeroed). */
SIFT_API int sift_ssh_parse_kexinit(const uint8_t *p, size_t len, sift_ssh_kexinit_t *out);

/* ---- DHCP (RFC 2131, options RFC 2132) ---- */

#define SIFT_DHCP_TEXT_MAX 256
typedef struct sift_dhcp_msg {
    uint8_t op;   /* 1 from a client, 2 from a server */
    uint8_t type; /* option 53 (1 DISCOVER ... 8 INFORM), 0 none: BOOTP */
    uint32_t xid;
    uint8_t ciaddr[4], yiaddr[4]; /* the client's address, the one a server gives */
    uint8_t mac[6];               /* chaddr, when the hardware is Ethernet (has_mac) */
    uint8_t requested[4];         /* option 50 (has_requested) */
    uint8_t server[4];            /* option 54, the server identifier (has_server) */
    uint32_t lease;               /* option 51, seconds (has_lease) */
    bool has_mac, has_requested, has_server, has_lease;
    char host_name[SIFT_DHCP_TEXT_MAX];    /* option 12, \xHH escapes */
    char vendor_class[SIFT_DHCP_TEXT_MAX]; /* option 60 */
    bool cut;                              /* a text did not fit */
} sift_dhcp_msg_t;

/* Parses a BOOTP/DHCP message (a UDP datagram to or from port 67 or 68): 0, SIFT_ETRUNC when
 * it goes on past len (out filled as far as it went: the header up to the client's hardware
 * address at least), SIFT_EINVAL when p is not one (no magic cookie; out zeroed). */
SIFT_API int sift_dhcp_parse(const uint8_t *p, size_t len, sift_dhcp_msg_t *out);

/* "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM", ...; NULL for
 * a type without a name here. */
SIFT_API const char *sift_dhcp_type_name(unsigned type);

/* ---- X.509 certificates (RFC 5280, DER), as a TLS server sends them ---- */

#define SIFT_X509_NAME_MAX  2048 /* a subject or issuer and its NUL */
#define SIFT_X509_SAN_MAX   2048
#define SIFT_X509_SAN_COUNT 64
typedef struct sift_x509 {
    char subject[SIFT_X509_NAME_MAX]; /* RFC 4514: "CN=www.example.com,O=Example,C=US" (last
                                       * RDN first), UTF-8 kept, other bytes \HH */
    char issuer[SIFT_X509_NAME_MAX];
    int64_t not_before, not_after; /* seconds since the epoch; INT64_MIN when not readable */
    char san[SIFT_X509_SAN_MAX];   /* the subject alternative name's dNSNames, ',' between
                                    * them; bytes outside [A-Za-z0-9.*_-] as \HH */
    size_t nsan;
    size_t san_left_out; /* dNSNames past SIFT_X509_SAN_COUNT or that did not fit */
    size_t der_len;      /* bytes of the certificate's DER (what its fingerprint hashes) */
    bool cut;            /* a name did not fit */
} sift_x509_t;

/* Parses the DER certificate at the start of der: 0, or SIFT_EINVAL when it is not one (or is
 * cut before its subject). Extensions past len are not read. Never reads outside
 * [der, der + len). */
SIFT_API int sift_x509_parse(const uint8_t *der, size_t len, sift_x509_t *out);

#ifdef __cplusplus
}
#endif
#endif
