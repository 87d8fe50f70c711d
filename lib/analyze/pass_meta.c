/* The metadata pass: DNS, HTTP, TLS, SSH and DHCP messages of each flow (the parsers of lib/meta),
 * kept in the flow's own bytes while the file is read and made into transaction rows when the
 * flow ends.
 *
 * Split-independence: a message is parsed from one segment or datagram only, so each range
 * finds the same messages in its own packets; what crosses a boundary is joined when the
 * ranges merge (messages appended in order, up to the flow's cap; a TCP segment of the later
 * range that lies before the earlier range's highest sequence number dropped, as a whole read
 * would have skipped it). Nothing is counted before the flow ends, so a dropped message is
 * never counted. HTTP body lengths are in sequence space: from the end of a head to the next
 * head of its direction, or to the direction's highest sequence number, so they do not depend
 * on the order segments come in. A SYN starts a direction's sequence anew (an epoch); the
 * bodies of the epoch it ends are measured then. The one exception to one segment, one message
 * is a TLS server's first flight (its certificate spans segments): kept in sequence order up to
 * FLIGHT_MAX bytes until its first certificate is whole; a later range notes the offsets of the
 * first segments of flows that began before it, and the flow's end reads those again
 * (sift_pass_fetch) when an earlier range left the flight open.
 * Strings live in arenas that a merge hands over whole, so a message's pointers stay valid.
 */
#include "common/cursor.h"
#include "common/internal.h"
#include "flow/flow_int.h"

#include <capsift/digest.h>
#include <capsift/meta.h>
#include <capsift/metapass.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

/* ---- fields ---- */

enum { DNS_QUERY, DNS_ANSWERS, DNS_TTLS, DNS_MORE };
enum { DNS_ID, DNS_QTYPE, DNS_QCLASS, DNS_RCODE, DNS_TC };
enum {
    HTTP_METHOD,
    HTTP_HOST,
    HTTP_URI,
    HTTP_VERSION,
    HTTP_UA,
    HTTP_REFERER,
    HTTP_REASON,
    HTTP_CTYPE
};
enum { HTTP_DEPTH, HTTP_STATUS, HTTP_REQ_BODY, HTTP_RESP_BODY };
enum {
    TLS_SNI,
    TLS_ALPN,
    TLS_CHOSEN,
    TLS_JA3,
    TLS_JA3_STR,
    TLS_JA3S,
    TLS_JA3S_STR,
    TLS_SUBJECT,
    TLS_ISSUER,
    TLS_SAN,
    TLS_NOT_BEFORE,
    TLS_NOT_AFTER,
    TLS_CERT_SHA1
};
enum { TLS_VERSION, TLS_CIPHER, TLS_CLIENT_VERSION };
enum { SSH_CLIENT, SSH_SERVER, SSH_HASSH, SSH_HASSH_STR, SSH_HASSHS, SSH_HASSHS_STR };
enum { DHCP_MAC, DHCP_ASSIGNED, DHCP_REQUESTED, DHCP_SERVER, DHCP_HOST, DHCP_VENDOR, DHCP_TYPES };
enum { DHCP_ID, DHCP_LEASE };

static const char *rcode_name(uint64_t v)
{
    static const char *const n[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                    "NXRRSET", "NOTAUTH", "NOTZONE"};
    return v < sizeof n / sizeof n[0] ? n[v] : NULL;
}

static const char *qtype_name(uint64_t v)
{
    return v <= UINT16_MAX ? sift_dns_type_name((uint16_t)v) : NULL;
}

static const char *qclass_name(uint64_t v)
{
    return v == 1 ? "C_INTERNET" : v == 3 ? "C_CHAOS" : v == 255 ? "C_ANY" : NULL;
}

static const char *tls_version_name(uint64_t v)
{
    static const char *const n[] = {"SSLv3", "TLSv10", "TLSv11", "TLSv12", "TLSv13"};
    return v >= 0x0300 && v <= 0x0304 ? n[v - 0x0300] : NULL;
}

static const sift_meta_field_t dns_fields[] = {
    {"trans_id", SIFT_META_T_ID, DNS_ID, NULL},
    {"query", SIFT_META_T_STR, DNS_QUERY, NULL},
    {"qclass", SIFT_META_T_ID, DNS_QCLASS, NULL},
    {"qclass_name", SIFT_META_T_NAME, DNS_QCLASS, qclass_name},
    {"qtype", SIFT_META_T_ID, DNS_QTYPE, NULL},
    {"qtype_name", SIFT_META_T_NAME, DNS_QTYPE, qtype_name},
    {"rcode", SIFT_META_T_ID, DNS_RCODE, NULL},
    {"rcode_name", SIFT_META_T_NAME, DNS_RCODE, rcode_name},
    {"TC", SIFT_META_T_ID, DNS_TC, NULL},
    {"answers", SIFT_META_T_LIST, DNS_ANSWERS, NULL},
    {"TTLs", SIFT_META_T_LIST, DNS_TTLS, NULL},
    {"more_queries", SIFT_META_T_LIST, DNS_MORE, NULL}, /* questions after the first (mDNS) */
};
static const sift_meta_field_t http_fields[] = {
    {"trans_depth", SIFT_META_T_ID, HTTP_DEPTH, NULL},
    {"method", SIFT_META_T_STR, HTTP_METHOD, NULL},
    {"host", SIFT_META_T_STR, HTTP_HOST, NULL},
    {"uri", SIFT_META_T_STR, HTTP_URI, NULL},
    {"referrer", SIFT_META_T_STR, HTTP_REFERER, NULL},
    {"version", SIFT_META_T_STR, HTTP_VERSION, NULL},
    {"user_agent", SIFT_META_T_STR, HTTP_UA, NULL},
    {"request_body_len", SIFT_META_T_NUM, HTTP_REQ_BODY, NULL},
    {"response_body_len", SIFT_META_T_NUM, HTTP_RESP_BODY, NULL},
    {"status_code", SIFT_META_T_ID, HTTP_STATUS, NULL},
    {"status_msg", SIFT_META_T_STR, HTTP_REASON, NULL},
    {"content_type", SIFT_META_T_STR, HTTP_CTYPE, NULL},
};
static const sift_meta_field_t tls_fields[] = {
    {"version", SIFT_META_T_NAME, TLS_VERSION, tls_version_name},
    {"cipher", SIFT_META_T_HEX, TLS_CIPHER, NULL},
    {"server_name", SIFT_META_T_STR, TLS_SNI, NULL},
    {"next_protocol", SIFT_META_T_STR, TLS_CHOSEN, NULL},
    {"ja3", SIFT_META_T_STR, TLS_JA3, NULL},
    {"ja3s", SIFT_META_T_STR, TLS_JA3S, NULL},
    {"client_version", SIFT_META_T_NAME, TLS_CLIENT_VERSION, tls_version_name},
    {"alpn", SIFT_META_T_LIST, TLS_ALPN, NULL},
    {"subject", SIFT_META_T_STR, TLS_SUBJECT, NULL}, /* of the server's certificate */
    {"issuer", SIFT_META_T_STR, TLS_ISSUER, NULL},
    {"san_dns", SIFT_META_T_LIST, TLS_SAN, NULL},
    {"not_valid_before", SIFT_META_T_STR, TLS_NOT_BEFORE, NULL},
    {"not_valid_after", SIFT_META_T_STR, TLS_NOT_AFTER, NULL},
    {"cert_sha1", SIFT_META_T_STR, TLS_CERT_SHA1, NULL},
    {"ja3_string", SIFT_META_T_STR, TLS_JA3_STR, NULL},
    {"ja3s_string", SIFT_META_T_STR, TLS_JA3S_STR, NULL},
};
static const sift_meta_field_t ssh_fields[] = {
    {"client", SIFT_META_T_STR, SSH_CLIENT, NULL},
    {"server", SIFT_META_T_STR, SSH_SERVER, NULL},
    {"hassh", SIFT_META_T_STR, SSH_HASSH, NULL},
    {"hasshServer", SIFT_META_T_STR, SSH_HASSHS, NULL},
    {"hasshAlgorithms", SIFT_META_T_STR, SSH_HASSH_STR, NULL},
    {"hasshServerAlgorithms", SIFT_META_T_STR, SSH_HASSHS_STR, NULL},
};

static const sift_meta_field_t dhcp_fields[] = {
    {"trans_id", SIFT_META_T_ID, DHCP_ID, NULL},
    {"mac", SIFT_META_T_STR, DHCP_MAC, NULL},
    {"assigned_addr", SIFT_META_T_STR, DHCP_ASSIGNED, NULL},
    {"requested_addr", SIFT_META_T_STR, DHCP_REQUESTED, NULL},
    {"server_addr", SIFT_META_T_STR, DHCP_SERVER, NULL},
    {"host_name", SIFT_META_T_STR, DHCP_HOST, NULL},
    {"client_software", SIFT_META_T_STR, DHCP_VENDOR, NULL},
    {"msg_types", SIFT_META_T_LIST, DHCP_TYPES, NULL},
    {"lease_time", SIFT_META_T_NUM, DHCP_LEASE, NULL},
};

static const struct {
    const char *name;
    const sift_meta_field_t *fields;
    size_t n;
} protos[SIFT_META_NPROTO] = {
    {"dns", dns_fields, sizeof dns_fields / sizeof dns_fields[0]},
    {"http", http_fields, sizeof http_fields / sizeof http_fields[0]},
    {"tls", tls_fields, sizeof tls_fields / sizeof tls_fields[0]},
    {"ssh", ssh_fields, sizeof ssh_fields / sizeof ssh_fields[0]},
    {"dhcp", dhcp_fields, sizeof dhcp_fields / sizeof dhcp_fields[0]},
};

const char *sift_meta_proto_name(sift_meta_proto_t p)
{
    return (unsigned)p < SIFT_META_NPROTO ? protos[p].name : "?";
}

int sift_meta_proto_parse(const char *name, sift_meta_proto_t *p)
{
    for (unsigned i = 0; name && i < SIFT_META_NPROTO; i++)
        if (strcmp(name, protos[i].name) == 0) {
            *p = (sift_meta_proto_t)i;
            return 0;
        }
    return SIFT_EINVAL;
}

const sift_meta_field_t *sift_meta_fields(sift_meta_proto_t p, size_t *n)
{
    if ((unsigned)p >= SIFT_META_NPROTO) {
        *n = 0;
        return NULL;
    }
    *n = protos[p].n;
    return protos[p].fields;
}

uint8_t sift_meta_field_slot(sift_meta_proto_t p, const char *name)
{
    size_t n;
    const sift_meta_field_t *f = sift_meta_fields(p, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return f[i].slot;
    return UINT8_MAX;
}

/* ---- strings: arenas and interning ---- */

#define ARENA_BYTES 65536

typedef struct arena {
    struct arena *next;
    size_t used, size;
    char b[];
} arena_t;

typedef struct strset {
    arena_t *arenas; /* newest first; a merge appends the other state's */
    const char **slot;
    size_t mask, count;
} strset_t;

static const char *arena_copy(strset_t *s, const char *str, size_t len)
{
    arena_t *a = s->arenas;
    if (!a || a->size - a->used < len + 1) {
        size_t size = len + 1 > ARENA_BYTES ? len + 1 : ARENA_BYTES;
        a = malloc(sizeof *a + size);
        if (!a)
            return NULL;
        a->used = 0;
        a->size = size;
        a->next = s->arenas;
        s->arenas = a;
    }
    char *p = a->b + a->used;
    memcpy(p, str, len);
    p[len] = '\0';
    a->used += len + 1;
    return p;
}

/* The one copy of str in this state; NULL when memory ran out. */
static const char *intern(strset_t *s, const char *str)
{
    size_t len = strlen(str);
    if (s->count * 2 >= s->mask + 1 || !s->slot) {
        size_t n = s->slot ? (s->mask + 1) * 2 : 1024;
        const char **t = calloc(n, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; s->slot && i <= s->mask; i++) {
            if (!s->slot[i])
                continue;
            size_t j = (size_t)XXH3_64bits(s->slot[i], strlen(s->slot[i])) & (n - 1);
            while (t[j])
                j = (j + 1) & (n - 1);
            t[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = t;
        s->mask = n - 1;
    }
    size_t j = (size_t)XXH3_64bits(str, len) & s->mask;
    for (; s->slot[j]; j = (j + 1) & s->mask)
        if (strcmp(s->slot[j], str) == 0)
            return s->slot[j];
    const char *p = arena_copy(s, str, len);
    if (p) {
        s->slot[j] = p;
        s->count++;
    }
    return p;
}

static void strset_release(strset_t *s)
{
    for (arena_t *a = s->arenas, *next; a; a = next) {
        next = a->next;
        free(a);
    }
    free(s->slot);
    memset(s, 0, sizeof *s);
}

/* b's arenas become a's (its strings stay where they are); b keeps none. */
static void strset_take(strset_t *a, strset_t *b)
{
    arena_t **end = &a->arenas;
    while (*end)
        end = &(*end)->next;
    *end = b->arenas;
    b->arenas = NULL;
}

/* ---- messages, per flow ---- */

enum {
    ROLE_ASK = 0,
    ROLE_REPLY = 1
}; /* DNS query / response, HTTP request / response,
    * ClientHello / ServerHello, SSH: the sender's side */
enum {
    MSG_SEQ = 1,        /* a TCP message: seq is its first byte's sequence number */
    MSG_IS_KEXINIT = 2, /* SSH: the key exchange offer, not the version line */
    MSG_CUT = 4,        /* went on past its segment (counted as cut) */
    MSG_DAMAGED = 8,    /* broken inside (counted as damaged) */
    MSG_CLIPPED = 16,   /* DNS: records past SIFT_DNS_MAX_RR (counted as left out) */
    MSG_BODY_DONE = 32  /* HTTP: its body length is measured */
};

typedef struct msg {
    const char *str[SIFT_META_NSTR];
    uint64_t num[SIFT_META_NNUM];
    int64_t ts_ns;
    uint64_t offset;
    uint32_t seq;                /* TCP: its segment's sequence number */
    uint32_t head_seq, head_end; /* HTTP over TCP: where the head begins and where it ends */
    uint16_t epoch; /* TCP: SYNs of its direction before it (in its range until joined) */
    uint8_t proto, dir, role, flags; /* dir: the sender's side of the key (side_of) */
} msg_t;

typedef struct mlist {
    msg_t *m;
    uint32_t n, cap;
    uint32_t limit; /* max_per_flow */
} mlist_t;

/* A TLS 1.2 server's first flight, from its ServerHello on, until its certificate is read:
 * bytes [base, base + len) of direction dir, kept in order (a segment after a gap waits for
 * the gap to be filled). A later range's segments that may continue it (its tail) are read
 * again when the flow ends. */
#define FLIGHT_MAX 16384
#define TAIL_MAX   32 /* segments of a flow that began before its range, noted for a flight */

typedef struct flight {
    uint32_t base, len, cap;
    uint32_t need;      /* the length before which looking again is no use */
    uint32_t hello_seq; /* the ServerHello's segment: its message gets the certificate */
    uint8_t dir;
    uint32_t npend;
    uint64_t pend[TAIL_MAX]; /* a later range's segments: record offset << 1 | side */
    uint8_t *buf;
} flight_t;

typedef struct tail {
    uint32_t n, cap;
    uint64_t seg[]; /* the first payload segments of this range: offset << 1 | side */
} tail_t;

enum { FLIGHT_NONE = 0, FLIGHT_OPEN = 1, FLIGHT_DONE = 2 };

/* The pass's bytes in every flow. */
typedef struct mflow {
    mlist_t *l;                          /* NULL until the flow's first message */
    flight_t *fl;                        /* FLIGHT_OPEN: the server's flight so far */
    tail_t *tail;                        /* a later range's first segments, for a flight */
    uint8_t flight;                      /* FLIGHT_*: the flow's first ServerHello decides */
    bool tail_closed;                    /* a SYN, or the tail is full */
    bool seen, later;                    /* later: this part is of a range after the first */
    uint32_t left_out[SIFT_META_NPROTO]; /* messages past max_per_flow */
    uint32_t max_end[2];                 /* per direction: the end of the highest segment seen */
    uint32_t skip_to[2]; /* per direction: a message's bytes go on to here (DNS over TCP, an
                          * HTTP body of known length), so segments before it start none */
    uint32_t pre_end[2]; /* per direction: max_end before this part's first SYN */
    uint16_t nsyn[2];    /* per direction: SYNs seen (the current epoch) */
    uint8_t have_max, have_skip, have_pre; /* bit per direction: max_end, skip_to, pre_end set */
} mflow_t;

struct sift_meta {
    unsigned protos, max_per_flow;
    strset_t strings;
    sift_meta_row_t *rows;
    size_t nrows, rows_cap;
    const sift_meta_row_t **by_flow; /* the rows by flow, then time (sift_meta_flow_rows) */
    bool sorted;
    sift_meta_summary_t sum;
    struct sift_meta *self; /* lets merge take a const `from`'s arenas */
};

static const sift_meta_config_t default_config = {0};

static int meta_init(void *state, const void *config)
{
    const sift_meta_config_t *c = config ? config : &default_config;
    sift_meta_t *s = state;
    s->protos = c->protos ? c->protos : (1u << SIFT_META_NPROTO) - 1;
    s->max_per_flow = c->max_per_flow ? c->max_per_flow : SIFT_META_DEFAULT_PER_FLOW;
    s->self = s;
    return 0;
}

/* The sender's side of the flow key: 1 for key.hi, 0 for key.lo. Directions are kept by it,
 * not by initiator and responder, which a later range may decide the other way round before
 * the merge settles them. */
static uint8_t side_of(const sift_packet_t *pkt)
{
    return (uint8_t)((pkt->flow_dir == SIFT_FLOW_AB) == (pkt->flow->a_is_hi != 0));
}

static uint16_t add_epochs(uint16_t a, uint16_t b)
{
    return (uint16_t)(a + b < UINT16_MAX ? a + b : UINT16_MAX);
}

static bool seq_before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

/* A new message of flow fs (its strings to intern by the caller); NULL when it is left out
 * (counted) or memory ran out (reported). */
static msg_t *msg_add(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt, uint8_t proto,
                      uint8_t role)
{
    if (!fs->l && !(fs->l = calloc(1, sizeof *fs->l))) {
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: some transactions are missing");
        return NULL;
    }
    mlist_t *l = fs->l;
    if (l->limit == 0)
        l->limit = s->max_per_flow; /* a new list */
    if (l->n >= l->limit) {
        fs->left_out[proto]++;
        return NULL;
    }
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 4;
        msg_t *m = realloc(l->m, cap * sizeof *m);
        if (!m) {
            sift_pass_report(s, SIFT_ENOMEM, "out of memory: some transactions are missing");
            return NULL;
        }
        l->m = m;
        l->cap = cap;
    }
    msg_t *m = &l->m[l->n++];
    memset(m, 0, sizeof *m);
    for (int i = 0; i < SIFT_META_NNUM; i++)
        m->num[i] = SIFT_META_NONE;
    m->ts_ns = pkt->rec->ts_ns;
    m->offset = pkt->rec->offset;
    m->seq = pkt->tcp_seq;
    m->flags = pkt->ip_proto == 6 ? MSG_SEQ : 0;
    m->epoch = pkt->ip_proto == 6 ? fs->nsyn[side_of(pkt)] : 0;
    m->proto = proto;
    m->dir = side_of(pkt);
    m->role = role;
    return m;
}

static void set_str(sift_meta_t *s, msg_t *m, int slot, const char *v)
{
    if (v && v[0] && !(m->str[slot] = intern(&s->strings, v)))
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: some transactions are missing");
}

/* The current message of the segment's direction goes on to `bytes` past the segment's start. */
static void skip_until(mflow_t *fs, const sift_packet_t *pkt, uint64_t bytes)
{
    const uint8_t d = side_of(pkt);
    if (bytes <= pkt->l4_len || bytes > UINT32_MAX / 2)
        return;
    fs->skip_to[d] = pkt->tcp_seq + (uint32_t)bytes;
    fs->have_skip |= (uint8_t)(1u << d);
}

/* ---- DNS ---- */

static bool dns_port(uint16_t p)
{
    return p == 53 || p == 5353 || p == 5355;
}

/* v (n bytes) as the next item of the list in buf (*len bytes so far), when it fits. */
static void list_add(char *buf, size_t size, size_t *len, const char *v, size_t n)
{
    const size_t sep = *len ? 1 : 0;
    if (*len + sep + n + 1 > size)
        return;
    if (sep)
        buf[(*len)++] = SIFT_META_LIST_SEP;
    memcpy(buf + *len, v, n);
    *len += n;
    buf[*len] = '\0';
}

static void dns_message(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt, const uint8_t *p,
                        size_t len, bool cut)
{
    sift_dns_msg_t d;
    if (sift_dns_parse(p, len, &d) < 0)
        return;
    msg_t *m = msg_add(s, fs, pkt, SIFT_META_DNS, d.response ? ROLE_REPLY : ROLE_ASK);
    if (!m)
        return;
    m->flags |=
        (d.damaged ? MSG_DAMAGED : 0) | (d.left_out ? MSG_CLIPPED : 0) | (cut ? MSG_CUT : 0);
    m->num[DNS_ID] = d.id;
    m->num[DNS_RCODE] = d.response ? d.rcode : SIFT_META_NONE;
    m->num[DNS_TC] = d.truncated;
    char answers[4096], ttls[512], more[2048]; /* lists kept NUL-terminated by list_add */
    answers[0] = ttls[0] = more[0] = '\0';
    size_t na = 0, nt = 0, nm = 0;
    for (size_t i = 0; i < d.nrr; i++) {
        const sift_dns_rr_t *rr = &d.rr[i];
        if (rr->section == SIFT_DNS_QUESTION) {
            if (!m->str[DNS_QUERY]) {
                set_str(s, m, DNS_QUERY, rr->name);
                m->num[DNS_QTYPE] = rr->type;
                m->num[DNS_QCLASS] = rr->rclass & 0x7fff; /* mDNS: the top bit asks unicast */
            } else {
                list_add(more, sizeof more, &nm, rr->name, strlen(rr->name));
            }
            continue;
        }
        const char *v = rr->data[0] ? rr->data : sift_dns_type_name(rr->type);
        char t[SIFT_DEC_U32_MAX];
        const size_t tn = sift__dec_u32(t, rr->ttl);
        const size_t vn = v ? strlen(v) : 0;
        if (v && na + vn + 2 < sizeof answers && nt + tn + 2 < sizeof ttls) {
            list_add(answers, sizeof answers, &na, v, vn);
            list_add(ttls, sizeof ttls, &nt, t, tn);
        }
    }
    set_str(s, m, DNS_ANSWERS, answers);
    set_str(s, m, DNS_TTLS, ttls);
    set_str(s, m, DNS_MORE, more);
}

/* DNS over TCP: messages with their 2-byte lengths (RFC 1035 4.2.2), from the segment's start. */
static void dns_tcp(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt)
{
    const uint8_t *p = pkt->payload;
    size_t left = pkt->payload_len;
    if (left >= 2 && left < 2 + 12) { /* the length alone, or little more: the rest follows */
        skip_until(fs, pkt, 2 + (size_t)sift_load_be16(p));
        return;
    }
    while (left >= 2 + 12) {
        size_t n = sift_load_be16(p);
        bool cut = n > left - 2;
        dns_message(s, fs, pkt, p + 2, cut ? left - 2 : n, cut);
        if (cut) {
            skip_until(fs, pkt, (size_t)(p - pkt->payload) + 2 + n);
            return;
        }
        p += 2 + n;
        left -= 2 + n;
    }
}

/* ---- DHCP ---- */

static void dhcp_message(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt)
{
    sift_dhcp_msg_t d;
    int rc = sift_dhcp_parse(pkt->payload, pkt->payload_len, &d);
    if (rc == SIFT_EINVAL)
        return;
    msg_t *m = msg_add(s, fs, pkt, SIFT_META_DHCP, d.op == 1 ? ROLE_ASK : ROLE_REPLY);
    if (!m)
        return;
    m->flags |= rc < 0 ? MSG_CUT : 0;
    m->num[DHCP_ID] = d.xid;
    m->num[DHCP_LEASE] = d.has_lease && d.op == 2 ? d.lease : SIFT_META_NONE; /* the server's */
    char a[20];
    if (d.has_mac) {
        snprintf(a, sizeof a, "%02x:%02x:%02x:%02x:%02x:%02x", d.mac[0], d.mac[1], d.mac[2],
                 d.mac[3], d.mac[4], d.mac[5]);
        set_str(s, m, DHCP_MAC, a);
    }
    static const uint8_t none[4] = {0, 0, 0, 0};
    const struct {
        bool have;
        const uint8_t *v;
        int slot;
    } addrs[] = {{d.op == 2 && memcmp(d.yiaddr, none, 4) != 0, d.yiaddr, DHCP_ASSIGNED},
                 {d.has_requested, d.requested, DHCP_REQUESTED},
                 {d.has_server, d.server, DHCP_SERVER}};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
        if (addrs[i].have) {
            snprintf(a, sizeof a, "%u.%u.%u.%u", addrs[i].v[0], addrs[i].v[1], addrs[i].v[2],
                     addrs[i].v[3]);
            set_str(s, m, addrs[i].slot, a);
        }
    set_str(s, m, DHCP_HOST, d.host_name);
    set_str(s, m, DHCP_VENDOR, d.vendor_class);
    const char *t = sift_dhcp_type_name(d.type);
    char num[8];
    if (!t && d.type) {
        snprintf(num, sizeof num, "%u", d.type);
        t = num;
    }
    set_str(s, m, DHCP_TYPES, t);
}

/* ---- HTTP ---- */

static bool is_http_seq(const msg_t *m, uint8_t dir, uint16_t epoch)
{
    return m->proto == SIFT_META_HTTP && (m->flags & MSG_SEQ) && m->dir == dir && m->epoch == epoch;
}

/* Measures the bodies of direction dir's heads in an epoch that ends at sequence number end:
 * each runs from its head's end to the next head by sequence number, the last to end, and no
 * further than its Content-Length. Bytes not captured between them count as sent. */
static void http_bodies(mlist_t *l, uint8_t dir, uint16_t epoch, uint32_t end)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->n; i++) {
        msg_t *m = &l->m[i];
        if (!is_http_seq(m, dir, epoch) || (m->flags & MSG_BODY_DONE))
            continue;
        uint32_t next = end;
        for (uint32_t j = 0; j < l->n; j++) {
            const msg_t *o = &l->m[j];
            if (is_http_seq(o, dir, epoch) && seq_before(m->head_seq, o->head_seq) &&
                seq_before(o->head_seq, next))
                next = o->head_seq;
        }
        uint64_t *body = &m->num[m->role == ROLE_ASK ? HTTP_REQ_BODY : HTTP_RESP_BODY];
        const uint64_t span = seq_before(m->head_end, next) ? next - m->head_end : 0;
        *body = span < *body ? span : *body; /* *body: its Content-Length, or NONE */
        m->flags |= MSG_BODY_DONE;
    }
}

/* Heads at the start of the segment, and one after another when a Content-Length says where
 * the next begins (pipelining); returns false when the segment does not begin with one. In a
 * datagram (SSDP) the body is what follows the head. */
static bool http_segment(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt)
{
    const uint8_t *p = pkt->payload;
    size_t left = pkt->payload_len;
    bool any = false;
    sift_http_head_t h;
    while (left > 0 && sift_http_parse(p, left, &h) == 0) {
        any = true;
        msg_t *m = msg_add(s, fs, pkt, SIFT_META_HTTP, h.response ? ROLE_REPLY : ROLE_ASK);
        const size_t at = (size_t)(p - pkt->payload);
        size_t head = h.complete ? h.head_len : left;
        size_t body = left - head;
        if (h.complete && h.has_length && h.content_length < body)
            body = (size_t)h.content_length;
        if (h.complete && h.has_length)
            skip_until(fs, pkt, (uint64_t)at + head + h.content_length);
        if (m) {
            set_str(s, m, HTTP_METHOD, h.method);
            set_str(s, m, HTTP_URI, h.uri);
            set_str(s, m, HTTP_VERSION, h.version);
            set_str(s, m, HTTP_HOST, h.host);
            set_str(s, m, HTTP_UA, h.user_agent);
            set_str(s, m, HTTP_REFERER, h.referer);
            set_str(s, m, HTTP_REASON, h.reason);
            set_str(s, m, HTTP_CTYPE, h.content_type);
            m->num[HTTP_STATUS] = h.response ? h.status : SIFT_META_NONE;
            m->flags |= h.complete ? 0 : MSG_CUT;
            const int slot = h.response ? HTTP_RESP_BODY : HTTP_REQ_BODY;
            if (m->flags & MSG_SEQ) {
                m->head_seq = pkt->tcp_seq + (uint32_t)at;
                m->head_end = m->head_seq + (uint32_t)head;
                /* the most the body can be, until it is measured: its Content-Length, none
                 * for a 204 or 304 or a request without a length or chunks (RFC 9112 6.3) */
                if (!h.complete) /* where the head ends, so where its body begins, is not known */
                    m->flags |= MSG_BODY_DONE;
                else if (h.response && (h.status == 204 || h.status == 304))
                    m->num[slot] = 0;
                else if (h.has_length)
                    m->num[slot] = h.content_length;
                else if (!h.response && !h.chunked)
                    m->num[slot] = 0;
            } else {
                m->num[slot] = body;
                m->flags |= MSG_BODY_DONE;
            }
        }
        p += head + body;
        left -= head + body;
        if (!h.complete || !h.has_length)
            break;
    }
    return any;
}

/* ---- TLS and SSH ---- */

static void md5_hex(const char *s, char hex[SIFT_DIGEST_HEX_MAX])
{
    sift_digest_buffer(s, strlen(s), SIFT_DIGEST_MD5, hex);
}

/* ---- the server's certificate (TLS 1.2 and before: TLS 1.3 encrypts it) ---- */

static void flight_free(mflow_t *fs)
{
    if (fs->fl) {
        free(fs->fl->buf);
        free(fs->fl);
        fs->fl = NULL;
    }
}

/* Seconds since the epoch as ISO 8601 UTC; not sift_format_iso, whose nanoseconds end in
 * 2262, while certificates say "valid until 9999-12-31". */
static void iso_time(int64_t t, char out[24])
{
    out[0] = '\0';
    if (t == INT64_MIN)
        return;
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm))
        strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The certificate's fields onto the flow's ServerHello message. */
static void cert_fields(sift_meta_t *s, mflow_t *fs, const uint8_t *der, size_t len)
{
    sift_x509_t x;
    if (sift_x509_parse(der, len, &x) < 0)
        return;
    msg_t *m = NULL;
    for (uint32_t i = 0; fs->l && i < fs->l->n && !m; i++) {
        msg_t *c = &fs->l->m[i];
        if (c->proto == SIFT_META_TLS && c->role == ROLE_REPLY && c->dir == fs->fl->dir &&
            c->seq == fs->fl->hello_seq)
            m = c;
    }
    if (!m)
        return; /* its hello was past the cap */
    char hex[SIFT_DIGEST_HEX_MAX], nb[24], na[24];
    sift_digest_buffer(der, x.der_len, SIFT_DIGEST_SHA1, hex);
    for (char *c = x.san; *c; c++)
        if (*c == ',')
            *c = SIFT_META_LIST_SEP;
    iso_time(x.not_before, nb);
    iso_time(x.not_after, na);
    set_str(s, m, TLS_SUBJECT, x.subject);
    set_str(s, m, TLS_ISSUER, x.issuer);
    set_str(s, m, TLS_SAN, x.san);
    set_str(s, m, TLS_NOT_BEFORE, nb);
    set_str(s, m, TLS_NOT_AFTER, na);
    set_str(s, m, TLS_CERT_SHA1, hex);
    if (x.cut || x.san_left_out)
        m->flags |= MSG_CUT;
}

/* Looks for the certificate in the flight so far; at_end: no more bytes will come. */
static void flight_try(sift_meta_t *s, mflow_t *fs, bool at_end)
{
    flight_t *fl = fs->fl;
    if (!at_end && fl->len < fl->need && fl->len < FLIGHT_MAX)
        return; /* the certificate cannot be whole yet */
    uint8_t der[FLIGHT_MAX];
    size_t len, need;
    int rc = sift_tls_server_cert(fl->buf, fl->len, der, sizeof der, &len, &need);
    if (rc == 0 && !at_end && fl->len < FLIGHT_MAX) {
        fl->need = need < FLIGHT_MAX ? (uint32_t)need : FLIGHT_MAX;
        return; /* more to come */
    }
    if (rc == 1)
        cert_fields(s, fs, der, len);
    else if (rc == 0)
        s->sum.cut[SIFT_META_TLS]++; /* the capture ends inside it, or past FLIGHT_MAX */
    flight_free(fs);
    fs->flight = FLIGHT_DONE;
}

/* A segment of the flight's direction: its bytes after those kept. cut: the capture kept less
 * of it than was sent, so nothing after it can follow. */
static void flight_add(sift_meta_t *s, mflow_t *fs, uint32_t seq, const uint8_t *p, size_t n,
                       bool cut)
{
    flight_t *fl = fs->fl;
    const uint32_t end = fl->base + fl->len;
    if (seq_before(end, seq) && !seq_before(seq, fl->base + FLIGHT_MAX)) {
        flight_try(s, fs, true); /* the server went on past all a flight may take: a gap stays */
        return;
    }
    if (seq_before(end, seq) || (uint32_t)(end - seq) >= n)
        return; /* after a gap (it may be filled later), or bytes kept already */
    const size_t skip = end - seq;
    size_t take = n - skip;
    if (take > FLIGHT_MAX - fl->len)
        take = FLIGHT_MAX - fl->len;
    if (fl->len + take > fl->cap) {
        uint32_t cap = fl->cap ? fl->cap : 2048;
        while (cap < fl->len + take)
            cap *= 2;
        uint8_t *b = realloc(fl->buf, cap);
        if (!b) {
            sift_pass_report(s, SIFT_ENOMEM, "out of memory: some certificates are missing");
            flight_free(fs);
            fs->flight = FLIGHT_DONE;
            return;
        }
        fl->buf = b;
        fl->cap = cap;
    }
    memcpy(fl->buf + fl->len, p + skip, take);
    fl->len += (uint32_t)take;
    flight_try(s, fs, cut);
}

/* A ServerHello: its flow's first decides whether a flight is read (not for TLS 1.3). */
static void flight_start(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt,
                         const sift_tls_hello_t *h)
{
    if (fs->flight != FLIGHT_NONE || pkt->ip_proto != 6)
        return;
    fs->flight = FLIGHT_DONE;
    if ((h->supported ? h->supported : h->version) >= 0x0304)
        return;
    if (!(fs->fl = calloc(1, sizeof *fs->fl))) {
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: some certificates are missing");
        return;
    }
    fs->flight = FLIGHT_OPEN;
    fs->fl->base = fs->fl->hello_seq = pkt->tcp_seq;
    fs->fl->dir = side_of(pkt);
    flight_add(s, fs, pkt->tcp_seq, pkt->payload, pkt->payload_len, pkt->payload_len < pkt->l4_len);
}

/* Appends a segment to a tail (grown as needed: most such flows have a few); false when it is
 * full or memory ran out. */
static bool tail_push(tail_t **t, uint64_t seg)
{
    if (!*t || (*t)->n == (*t)->cap) {
        uint32_t cap = *t ? (*t)->cap * 2 : 4;
        if (cap > TAIL_MAX)
            return false;
        tail_t *n = realloc(*t, sizeof *n + cap * sizeof n->seg[0]);
        if (!n)
            return false;
        n->n = *t ? n->n : 0;
        n->cap = cap;
        *t = n;
    }
    (*t)->seg[(*t)->n++] = seg;
    return true;
}

/* In a later range, a flow that began before it: its first payload segments, which may go on
 * with a flight the earlier range began (read again when the flow ends). */
static void tail_note(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt)
{
    if (!tail_push(&fs->tail, pkt->rec->offset << 1 | side_of(pkt))) {
        if (!fs->tail || fs->tail->n < TAIL_MAX)
            sift_pass_report(s, SIFT_ENOMEM, "out of memory: some certificates are missing");
        fs->tail_closed = true;
    }
}

/* At the flow's end: the later ranges' segments noted for its flight, read again in file
 * order, then the flight as it is. */
static void flight_end(sift_meta_t *s, mflow_t *fs)
{
    flight_t *fl = fs->fl;
    for (uint32_t i = 1; i < fl->npend; i++) /* few: insertion sort */
        for (uint32_t k = i; k > 0 && fl->pend[k - 1] > fl->pend[k]; k--) {
            uint64_t t = fl->pend[k];
            fl->pend[k] = fl->pend[k - 1];
            fl->pend[k - 1] = t;
        }
    for (uint32_t i = 0; fs->flight == FLIGHT_OPEN && i < fl->npend; i++) {
        const sift_packet_t *pkt;
        if ((fl->pend[i] & 1) != fl->dir || sift_pass_fetch(s, fl->pend[i] >> 1, &pkt) < 0)
            continue;
        if ((pkt->flags & SIFT_PKT_L4) && pkt->ip_proto == 6 && pkt->payload_len > 0)
            flight_add(s, fs, pkt->tcp_seq, pkt->payload, pkt->payload_len,
                       pkt->payload_len < pkt->l4_len);
        fl = fs->fl;
    }
    if (fs->flight == FLIGHT_OPEN)
        flight_try(s, fs, true);
}

static bool tls_segment(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt)
{
    sift_tls_hello_t h;
    if (sift_tls_parse_hello(pkt->payload, pkt->payload_len, &h) < 0)
        return false;
    msg_t *m = msg_add(s, fs, pkt, SIFT_META_TLS, h.type == 1 ? ROLE_ASK : ROLE_REPLY);
    if (!m)
        return true;
    m->flags |= h.complete ? 0 : MSG_CUT;
    char alpn[SIFT_TLS_ALPN_MAX * 64];
    alpn[0] = '\0';
    for (size_t i = 0; i < h.nalpn; i++) {
        size_t k = strlen(alpn);
        snprintf(alpn + k, sizeof alpn - k, "%s%s", k ? (char[2]){SIFT_META_LIST_SEP, 0} : "",
                 h.alpn[i]);
    }
    char hex[SIFT_DIGEST_HEX_MAX];
    if (h.ja3[0])
        md5_hex(h.ja3, hex);
    if (h.type == 2)
        flight_start(s, fs, pkt, &h);
    if (h.type == 1) {
        set_str(s, m, TLS_SNI, h.sni);
        set_str(s, m, TLS_ALPN, alpn);
        m->num[TLS_CLIENT_VERSION] = h.supported ? h.supported : h.version;
        if (h.ja3[0]) {
            set_str(s, m, TLS_JA3_STR, h.ja3);
            set_str(s, m, TLS_JA3, hex);
        }
    } else {
        set_str(s, m, TLS_CHOSEN, h.nalpn ? h.alpn[0] : NULL);
        m->num[TLS_VERSION] = h.supported ? h.supported : h.version;
        m->num[TLS_CIPHER] = h.cipher;
        if (h.ja3[0]) {
            set_str(s, m, TLS_JA3S_STR, h.ja3);
            set_str(s, m, TLS_JA3S, hex);
        }
    }
    return true;
}

static bool ssh_kexinit(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt, const uint8_t *p,
                        size_t len)
{
    sift_ssh_kexinit_t k;
    int rc = sift_ssh_parse_kexinit(p, len, &k);
    if (rc < 0 && rc != SIFT_ETRUNC)
        return false;
    msg_t *m = msg_add(s, fs, pkt, SIFT_META_SSH, ROLE_ASK);
    if (!m)
        return true;
    m->flags |= MSG_IS_KEXINIT | (rc < 0 ? MSG_CUT : 0);
    if (rc < 0 || k.cut) /* no HASSH from part of the lists */
        return true;
    char hex[SIFT_DIGEST_HEX_MAX];
    md5_hex(k.client, hex);
    set_str(s, m, SSH_HASSH_STR, k.client);
    set_str(s, m, SSH_HASSH, hex);
    md5_hex(k.server, hex);
    set_str(s, m, SSH_HASSHS_STR, k.server);
    set_str(s, m, SSH_HASSHS, hex);
    return true;
}

static bool ssh_segment(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt)
{
    char v[256];
    size_t n = sift_ssh_parse_version(pkt->payload, pkt->payload_len, v, sizeof v);
    if (n == 0)
        return false;
    msg_t *m = msg_add(s, fs, pkt, SIFT_META_SSH, ROLE_ASK);
    if (m)
        set_str(s, m, SSH_CLIENT, v); /* the side is decided when the flow ends */
    if (n < pkt->payload_len)
        ssh_kexinit(s, fs, pkt, pkt->payload + n, pkt->payload_len - n);
    return true;
}

/* ---- packets ---- */

static void tcp_segment(sift_meta_t *s, mflow_t *fs, const sift_packet_t *pkt)
{
    const uint8_t d = side_of(pkt), bit = (uint8_t)(1u << d);
    const uint32_t seq = pkt->tcp_seq, end = seq + pkt->l4_len;
    if (!fs->seen) {
        fs->seen = true;
        fs->later = sift_pass_later_range(s);
        fs->tail_closed = !fs->later; /* nothing before the first range to go on with */
    }
    if (pkt->tcp_flags & 0x02) { /* SYN: a new connection's sequence numbers */
        fs->tail_closed = true;  /* this range holds the connection's start */
        if (fs->have_max & bit) {
            if (fs->nsyn[d] > 0) /* the epoch began in this part: its bodies end here */
                http_bodies(fs->l, d, fs->nsyn[d], fs->max_end[d]);
            else { /* it began before this part: the join measures them */
                fs->pre_end[d] = fs->max_end[d];
                fs->have_pre |= bit;
            }
        }
        fs->nsyn[d] = add_epochs(fs->nsyn[d], 1);
        fs->have_max &= (uint8_t)~bit;
        fs->have_skip &= (uint8_t)~bit;
    }
    if (pkt->l4_len == 0)
        return;
    if (fs->flight == FLIGHT_OPEN && d == fs->fl->dir && pkt->payload_len > 0)
        flight_add(s, fs, seq, pkt->payload, pkt->payload_len, pkt->payload_len < pkt->l4_len);
    else if (fs->flight == FLIGHT_NONE && !fs->tail_closed && pkt->payload_len > 0)
        tail_note(s, fs, pkt);
    if ((fs->have_max & bit) && seq_before(seq, fs->max_end[d])) {
        if (seq_before(fs->max_end[d], end))
            fs->max_end[d] = end;
        return; /* seen already, or the rest of a segment seen */
    }
    fs->max_end[d] = end;
    fs->have_max |= bit;
    const uint8_t *p = pkt->payload;
    const size_t n = pkt->payload_len;
    const unsigned want = s->protos;
    if (n == 0 || ((fs->have_skip & bit) && seq_before(seq, fs->skip_to[d])))
        return; /* nothing, or the rest of a message that began in an earlier segment */
    if (dns_port(pkt->sport) || dns_port(pkt->dport)) {
        if (want & (1u << SIFT_META_DNS))
            dns_tcp(s, fs, pkt);
        return;
    }
    if (p[0] >= 20 && p[0] <= 22 && (want & (1u << SIFT_META_TLS)) && tls_segment(s, fs, pkt))
        return;
    if (p[0] == 'S' && (want & (1u << SIFT_META_SSH)) && ssh_segment(s, fs, pkt))
        return;
    if (n > 5 && p[0] == 0 && p[5] == 20 && (want & (1u << SIFT_META_SSH)) &&
        ssh_kexinit(s, fs, pkt, p, n))
        return;
    if (p[0] >= 'A' && p[0] <= 'Z' && (want & (1u << SIFT_META_HTTP)))
        http_segment(s, fs, pkt);
}

static void meta_packet(void *state, const sift_packet_t *pkt)
{
    sift_meta_t *s = state;
    mflow_t *fs = pkt->flow_state;
    if (!fs || !(pkt->flags & SIFT_PKT_L4)) /* a first fragment is parsed as far as it goes */
        return;
    if (pkt->ip_proto == 6) {
        tcp_segment(s, fs, pkt);
        return;
    }
    if (pkt->ip_proto != 17 || pkt->payload_len < 12)
        return;
    const bool cut = pkt->payload_len < pkt->l4_len;
    const bool netbios = pkt->sport == 137 || pkt->dport == 137; /* DNS's form, not DNS */
    if ((pkt->sport == 67 || pkt->sport == 68) && (pkt->dport == 67 || pkt->dport == 68)) {
        if (s->protos & (1u << SIFT_META_DHCP))
            dhcp_message(s, fs, pkt);
    } else if ((s->protos & (1u << SIFT_META_DNS)) &&
               (dns_port(pkt->sport) || dns_port(pkt->dport) ||
                (!netbios && sift_dns_plausible(pkt->payload, pkt->payload_len))))
        dns_message(s, fs, pkt, pkt->payload, pkt->payload_len, cut);
    else if ((s->protos & (1u << SIFT_META_HTTP)) && (pkt->sport == 1900 || pkt->dport == 1900))
        http_segment(s, fs, pkt); /* SSDP: HTTP heads in datagrams */
}

/* ---- ranges ---- */

static uint32_t seq_max(uint32_t a, uint32_t b)
{
    return seq_before(a, b) ? b : a;
}

/* b's messages after a's, as a whole read would have kept them. */
static void join_messages(mflow_t *a, const mflow_t *b)
{
    const mlist_t *bl = b->l;
    mlist_t *al = a->l;
    if (!al && (al = a->l = calloc(1, sizeof *al)))
        al->limit = bl->limit;
    for (uint32_t i = 0; i < bl->n; i++) {
        msg_t m = bl->m[i];
        const uint8_t d = m.dir, bit = (uint8_t)(1u << d);
        if (m.flags & MSG_SEQ) {
            if (m.epoch == 0 && (((a->have_max & bit) && seq_before(m.seq, a->max_end[d])) ||
                                 ((a->have_skip & bit) && seq_before(m.seq, a->skip_to[d]))))
                continue; /* a whole read would not have parsed this segment */
            m.epoch = add_epochs(m.epoch, a->nsyn[d]);
        }
        if (!al || al->n >= al->limit) { /* past the cap, or no memory to keep it */
            a->left_out[m.proto]++;
            continue;
        }
        if (al->n == al->cap) {
            uint32_t cap = al->cap ? al->cap * 2 : 4;
            msg_t *g = realloc(al->m, cap * sizeof *g);
            if (!g) {
                a->left_out[m.proto]++;
                continue;
            }
            al->m = g;
            al->cap = cap;
        }
        al->m[al->n++] = m;
    }
}

/* The flight and tails of b, the later part, with a's: a flight a began waits for b's first
 * segments (read again when the flow ends); one b began is the flow's when a saw no
 * ServerHello. b is released after the join, so what it owned is taken from it. */
static void join_flights(mflow_t *a, mflow_t *b)
{
    if (b->tail && a->flight == FLIGHT_OPEN) { /* what followed a's part */
        for (uint32_t i = 0; i < b->tail->n && a->fl->npend < TAIL_MAX; i++)
            a->fl->pend[a->fl->npend++] = b->tail->seg[i];
    } else if (b->tail && a->flight == FLIGHT_NONE && a->seen && !a->tail_closed) {
        /* a began in a later range too and saw no SYN: its tail goes on with b's */
        if (!a->tail) {
            a->tail = b->tail;
            b->tail = NULL;
        } else {
            for (uint32_t i = 0; i < b->tail->n && !a->tail_closed; i++)
                a->tail_closed = !tail_push(&a->tail, b->tail->seg[i]);
        }
    }
    if (a->flight == FLIGHT_NONE && b->flight != FLIGHT_NONE) { /* the flow's first hello */
        a->flight = b->flight;
        a->fl = b->fl;
        b->fl = NULL;
    }
    a->tail_closed = a->tail_closed || b->tail_closed;
    if (a->flight != FLIGHT_NONE && a->tail) { /* a tail serves only a flight before it */
        free(a->tail);
        a->tail = NULL;
    }
}

/* from is the later part of into's flow (from's strings come over with the state merge). */
static void meta_flow_join(void *into, const void *from)
{
    mflow_t *a = into;
    const mflow_t *b = from;
    join_flights(a, (mflow_t *)(uintptr_t)from); /* b's flight moves to a */
    for (int p = 0; p < SIFT_META_NPROTO; p++)
        a->left_out[p] += b->left_out[p];
    if (b->l && b->l->n > 0)
        join_messages(a, b);
    for (uint8_t d = 0; d < 2; d++) {
        const uint8_t bit = (uint8_t)(1u << d);
        if (b->nsyn[d] > 0) {
            /* a's epoch ends in b, where b's first SYN found it */
            const bool am = a->have_max & bit, bp = b->have_pre & bit;
            const uint32_t end = am && bp ? seq_max(a->max_end[d], b->pre_end[d])
                                 : am     ? a->max_end[d]
                                          : b->pre_end[d];
            if ((am || bp) && a->nsyn[d] > 0) {
                http_bodies(a->l, d, a->nsyn[d], end);
            } else if (am || bp) {
                a->pre_end[d] = end;
                a->have_pre |= bit;
            }
            a->nsyn[d] = add_epochs(a->nsyn[d], b->nsyn[d]);
            /* the later part started the sequence anew: its state holds */
            a->have_max = (uint8_t)((a->have_max & ~bit) | (b->have_max & bit));
            a->have_skip = (uint8_t)((a->have_skip & ~bit) | (b->have_skip & bit));
            a->max_end[d] = b->max_end[d];
            a->skip_to[d] = b->skip_to[d];
            continue;
        }
        if ((b->have_max & bit) &&
            (!(a->have_max & bit) || seq_before(a->max_end[d], b->max_end[d])))
            a->max_end[d] = b->max_end[d];
        a->have_max |= b->have_max & bit;
        if ((b->have_skip & bit) &&
            (!(a->have_skip & bit) || seq_before(a->skip_to[d], b->skip_to[d])))
            a->skip_to[d] = b->skip_to[d];
        a->have_skip |= b->have_skip & bit;
    }
}

static void meta_flow_release(void *flow_state)
{
    mflow_t *fs = flow_state;
    flight_free(fs);
    free(fs->tail);
    fs->tail = NULL;
    if (fs->l) {
        free(fs->l->m);
        free(fs->l);
        fs->l = NULL;
    }
}

/* ---- rows ---- */

static sift_meta_row_t *row_add(sift_meta_t *s, const sift_flow_t *f, uint8_t proto, uint32_t index)
{
    if (s->nrows == s->rows_cap) {
        size_t cap = s->rows_cap ? s->rows_cap * 2 : 64;
        sift_meta_row_t *r = realloc(s->rows, cap * sizeof *r);
        if (!r) {
            sift_pass_report(s, SIFT_ENOMEM, "out of memory: some transactions are missing");
            return NULL;
        }
        s->rows = r;
        s->rows_cap = cap;
    }
    sift_meta_row_t *r = &s->rows[s->nrows++];
    sift__meta_row_of_flow(r, f);
    r->proto = proto;
    r->ts_ns[0] = r->ts_ns[1] = INT64_MIN;
    r->offset[0] = r->offset[1] = UINT64_MAX;
    for (int i = 0; i < SIFT_META_NNUM; i++)
        r->num[i] = SIFT_META_NONE;
    r->index = index;
    s->sum.rows[proto]++;
    return r;
}

/* The fields r lacks, from m's strings and numbers. */
static void row_fields(sift_meta_row_t *r, const char *const str[SIFT_META_NSTR],
                       const uint64_t num[SIFT_META_NNUM])
{
    for (int i = 0; i < SIFT_META_NSTR; i++)
        if (str[i] && !r->str[i])
            r->str[i] = str[i];
    for (int i = 0; i < SIFT_META_NNUM; i++)
        if (num[i] != SIFT_META_NONE && r->num[i] == SIFT_META_NONE)
            r->num[i] = num[i];
}

/* Fills r's side `side` from m: the fields m has. */
static void row_take(sift_meta_row_t *r, int side, const msg_t *m)
{
    r->ts_ns[side] = m->ts_ns;
    r->offset[side] = m->offset;
    row_fields(r, m->str, m->num);
}

/* DNS: each query a row; a response answers the earliest unanswered query of its id and name
 * in the flow, or is a row of its own (mDNS announcements, a query not captured). HTTP: the
 * n-th final response answers the n-th request (1xx responses are interim). */
static void pair_requests(sift_meta_t *s, const sift_flow_t *f, const mlist_t *l, uint8_t proto,
                          uint32_t *index)
{
    size_t first = s->nrows, depth = 0;
    for (uint32_t i = 0; i < l->n; i++) {
        const msg_t *m = &l->m[i];
        if (m->proto != proto)
            continue;
        if (m->role == ROLE_ASK) {
            sift_meta_row_t *r = row_add(s, f, proto, (*index)++);
            if (r) {
                row_take(r, 0, m);
                if (proto == SIFT_META_HTTP)
                    r->num[HTTP_DEPTH] = ++depth;
            }
            continue;
        }
        if (proto == SIFT_META_HTTP && m->num[HTTP_STATUS] >= 100 && m->num[HTTP_STATUS] < 200)
            continue;
        sift_meta_row_t *r = NULL;
        for (size_t k = first; k < s->nrows && !r; k++) {
            sift_meta_row_t *q = &s->rows[k];
            if (q->proto != proto || q->offset[1] != UINT64_MAX || q->offset[0] == UINT64_MAX)
                continue;
            if (proto == SIFT_META_HTTP || (q->num[DNS_ID] == m->num[DNS_ID] &&
                                            (!q->str[DNS_QUERY] || !m->str[DNS_QUERY] ||
                                             q->str[DNS_QUERY] == m->str[DNS_QUERY] ||
                                             strcmp(q->str[DNS_QUERY], m->str[DNS_QUERY]) == 0)))
                r = q;
        }
        if (!r && (r = row_add(s, f, proto, (*index)++)) && proto == SIFT_META_HTTP)
            r->num[HTTP_DEPTH] = ++depth;
        if (r)
            row_take(r, 1, m);
        if (r && proto == SIFT_META_HTTP && r->str[HTTP_METHOD] &&
            (strcmp(r->str[HTTP_METHOD], "HEAD") == 0 ||
             (strcmp(r->str[HTTP_METHOD], "CONNECT") == 0 && r->num[HTTP_STATUS] < 300)))
            r->num[HTTP_RESP_BODY] = 0; /* no body; after a CONNECT, a tunnel (RFC 9112 6.3) */
    }
}

/* list (a SIFT_META_LIST_SEP list or NULL) with item after it, interned; list when it does
 * not fit or memory ran out. */
static const char *list_append(sift_meta_t *s, const char *list, const char *item)
{
    char b[512];
    if (!list)
        return intern(&s->strings, item);
    if ((size_t)snprintf(b, sizeof b, "%s%c%s", list, SIFT_META_LIST_SEP, item) >= sizeof b)
        return list;
    const char *v = intern(&s->strings, b);
    return v ? v : list;
}

/* DHCP: the messages of one transaction id a row, its message types in order, each field
 * from the first message that has it. */
static void pair_dhcp(sift_meta_t *s, const sift_flow_t *f, const mlist_t *l, uint32_t *index)
{
    const size_t first = s->nrows;
    for (uint32_t i = 0; i < l->n; i++) {
        const msg_t *m = &l->m[i];
        if (m->proto != SIFT_META_DHCP)
            continue;
        sift_meta_row_t *r = NULL;
        for (size_t k = first; k < s->nrows && !r; k++)
            if (s->rows[k].proto == SIFT_META_DHCP && s->rows[k].num[DHCP_ID] == m->num[DHCP_ID])
                r = &s->rows[k];
        if (!r && !(r = row_add(s, f, SIFT_META_DHCP, (*index)++)))
            continue;
        const char *types = r->str[DHCP_TYPES];
        if (r->ts_ns[m->role] == INT64_MIN) {
            r->ts_ns[m->role] = m->ts_ns;
            r->offset[m->role] = m->offset;
        }
        row_fields(r, m->str, m->num);
        if (types && m->str[DHCP_TYPES])
            r->str[DHCP_TYPES] = list_append(s, types, m->str[DHCP_TYPES]);
    }
}

/* TLS and SSH: one row per flow, from the first message of each side. A TLS side is the
 * hello's type; an SSH side is the sender's (the initiator is the client). */
static void pair_handshake(sift_meta_t *s, const sift_flow_t *f, const mlist_t *l, uint8_t proto,
                           uint32_t *index)
{
    const msg_t *side[2][2] = {{NULL, NULL}, {NULL, NULL}}; /* [side][0 version/hello, 1 kex] */
    const uint8_t client_dir = f->a_is_hi ? 1 : 0;          /* the initiator's side of the key */
    for (uint32_t i = 0; i < l->n; i++) {
        const msg_t *m = &l->m[i];
        if (m->proto != proto)
            continue;
        int k = proto == SIFT_META_TLS ? m->role : m->dir != client_dir;
        int what = (m->flags & MSG_IS_KEXINIT) ? 1 : 0;
        if (!side[k][what] && (!what || m->str[SSH_HASSH_STR]))
            side[k][what] = m;
    }
    if (!side[0][0] && !side[1][0])
        return; /* SSH: no version line, so KEXINIT-like bytes were not SSH */
    sift_meta_row_t *r = row_add(s, f, proto, (*index)++);
    if (!r)
        return;
    if (proto == SIFT_META_TLS) {
        if (side[0][0])
            row_take(r, 0, side[0][0]);
        if (side[1][0])
            row_take(r, 1, side[1][0]);
        return;
    }
    for (int k = 0; k < 2; k++) {
        if (side[k][0]) {
            r->ts_ns[k] = side[k][0]->ts_ns;
            r->offset[k] = side[k][0]->offset;
            r->str[k == 0 ? SSH_CLIENT : SSH_SERVER] = side[k][0]->str[SSH_CLIENT];
        }
        const msg_t *x = side[k][1];
        if (x && k == 0) {
            r->str[SSH_HASSH] = x->str[SSH_HASSH];
            r->str[SSH_HASSH_STR] = x->str[SSH_HASSH_STR];
        } else if (x) {
            r->str[SSH_HASSHS] = x->str[SSH_HASSHS];
            r->str[SSH_HASSHS_STR] = x->str[SSH_HASSHS_STR];
        }
    }
}

static void meta_flow_end(void *state, const sift_flows_t *flows, const sift_flow_t *f,
                          void *flow_state)
{
    (void)flows;
    sift_meta_t *s = state;
    mflow_t *fs = flow_state;
    if (!fs)
        return;
    if (fs->flight == FLIGHT_OPEN)
        flight_end(s, fs);
    free(fs->tail); /* noted for a flight that no earlier range began */
    fs->tail = NULL;
    for (int p = 0; p < SIFT_META_NPROTO; p++) {
        s->sum.messages[p] += fs->left_out[p];
        s->sum.left_out[p] += fs->left_out[p];
    }
    mlist_t *l = fs->l;
    if (!l || l->n == 0)
        return;
    for (uint8_t d = 0; d < 2; d++) {
        const uint8_t bit = (uint8_t)(1u << d);
        if (fs->nsyn[d] > 0 && (fs->have_pre & bit))
            http_bodies(l, d, 0, fs->pre_end[d]);
        if (fs->have_max & bit)
            http_bodies(l, d, fs->nsyn[d], fs->max_end[d]);
    }
    for (uint32_t i = 0; i < l->n; i++) {
        const msg_t *m = &l->m[i];
        s->sum.messages[m->proto]++;
        s->sum.cut[m->proto] += (m->flags & MSG_CUT) != 0;
        s->sum.damaged[m->proto] += (m->flags & MSG_DAMAGED) != 0;
        s->sum.left_out[m->proto] += (m->flags & MSG_CLIPPED) != 0;
    }
    uint32_t index = 0;
    pair_requests(s, f, l, SIFT_META_DNS, &index);
    pair_requests(s, f, l, SIFT_META_HTTP, &index);
    pair_handshake(s, f, l, SIFT_META_TLS, &index);
    pair_handshake(s, f, l, SIFT_META_SSH, &index);
    pair_dhcp(s, f, l, &index);
    s->sorted = false;
}

static int cmp_rows(const void *x, const void *y)
{
    const sift_meta_row_t *a = x, *b = y;
    int64_t ta = sift_meta_row_ts(a), tb = sift_meta_row_ts(b);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    uint64_t oa = a->offset[0] != UINT64_MAX ? a->offset[0] : a->offset[1];
    uint64_t ob = b->offset[0] != UINT64_MAX ? b->offset[0] : b->offset[1];
    if (oa != ob)
        return oa < ob ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* A row's flow: its first packet's time, then the flow's addresses, ports and protocol. */
static int cmp_flow(const sift_meta_row_t *a, const sift_meta_row_t *b)
{
    if (a->flow_first_ns != b->flow_first_ns)
        return a->flow_first_ns < b->flow_first_ns ? -1 : 1;
    if (a->ip_proto != b->ip_proto || a->ip_version != b->ip_version)
        return a->ip_proto != b->ip_proto ? a->ip_proto - b->ip_proto
                                          : a->ip_version - b->ip_version;
    if (a->sport != b->sport || a->dport != b->dport)
        return a->sport != b->sport ? a->sport - b->sport : a->dport - b->dport;
    if (a->vlan != b->vlan)
        return a->vlan - b->vlan;
    int c = memcmp(a->src, b->src, 16);
    return c ? c : memcmp(a->dst, b->dst, 16);
}

static int cmp_by_flow(const void *x, const void *y)
{
    const sift_meta_row_t *a = *(const sift_meta_row_t *const *)x;
    const sift_meta_row_t *b = *(const sift_meta_row_t *const *)y;
    int c = cmp_flow(a, b);
    return c ? c : (a > b) - (a < b); /* rows are in time order */
}

/* by_flow from the rows. */
static int index_flows(sift_meta_t *s)
{
    free(s->by_flow);
    s->by_flow = NULL;
    if (s->nrows == 0)
        return 0;
    if (!(s->by_flow = malloc(s->nrows * sizeof *s->by_flow)))
        return SIFT_ENOMEM;
    for (size_t i = 0; i < s->nrows; i++)
        s->by_flow[i] = &s->rows[i];
    qsort(s->by_flow, s->nrows, sizeof *s->by_flow, cmp_by_flow);
    return 0;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* A DHCP exchange goes between different addresses (from 0.0.0.0 to the broadcast address,
 * then from the server), so across flows: the rows of one transaction id and client MAC within
 * a minute of the first are one row, the first's (rows in time order). */
static void join_dhcp(sift_meta_t *s)
{
    const int64_t window = 60 * SIFT_FLOW_NS_PER_S;
    size_t w = 0;
    for (size_t i = 0; i < s->nrows; i++) {
        const sift_meta_row_t *r = &s->rows[i];
        sift_meta_row_t *into = NULL;
        for (size_t k = w; r->proto == SIFT_META_DHCP && k-- > 0 && !into;) {
            sift_meta_row_t *q = &s->rows[k];
            if (sift_meta_row_ts(r) - sift_meta_row_ts(q) > window)
                break;
            if (q->proto == SIFT_META_DHCP && q->num[DHCP_ID] == r->num[DHCP_ID] &&
                same_str(q->str[DHCP_MAC], r->str[DHCP_MAC]))
                into = q;
        }
        if (!into) {
            s->rows[w++] = *r;
            continue;
        }
        for (int side = 0; side < 2; side++)
            if (r->ts_ns[side] != INT64_MIN &&
                (into->ts_ns[side] == INT64_MIN || r->ts_ns[side] < into->ts_ns[side])) {
                into->ts_ns[side] = r->ts_ns[side];
                into->offset[side] = r->offset[side];
            }
        const char *types = into->str[DHCP_TYPES];
        row_fields(into, r->str, r->num);
        if (types && r->str[DHCP_TYPES])
            into->str[DHCP_TYPES] = list_append(s, types, r->str[DHCP_TYPES]);
        s->sum.rows[SIFT_META_DHCP]--;
    }
    s->nrows = w;
}

static void meta_finish(void *state)
{
    sift_meta_t *s = state;
    if (!s->sorted && s->nrows > 1) {
        qsort(s->rows, s->nrows, sizeof *s->rows, cmp_rows);
        join_dhcp(s);
    }
    s->sorted = true;
    if (index_flows(s) < 0)
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: transactions are not listed by flow");
}

static int meta_merge(void *into, const void *from)
{
    sift_meta_t *a = into;
    sift_meta_t *b = ((const sift_meta_t *)from)->self; /* its arenas are handed over */
    strset_take(&a->strings, &b->strings);
    for (int p = 0; p < SIFT_META_NPROTO; p++) {
        a->sum.messages[p] += b->sum.messages[p];
        a->sum.left_out[p] += b->sum.left_out[p];
        a->sum.damaged[p] += b->sum.damaged[p];
        a->sum.cut[p] += b->sum.cut[p];
    }
    if (b->nrows) { /* rows of whole inputs, for run totals */
        if (a->nrows + b->nrows > a->rows_cap) {
            size_t cap = a->nrows + b->nrows;
            sift_meta_row_t *r = realloc(a->rows, cap * sizeof *r);
            if (!r)
                return SIFT_ENOMEM;
            a->rows = r;
            a->rows_cap = cap;
        }
        memcpy(a->rows + a->nrows, b->rows, b->nrows * sizeof *b->rows);
        a->nrows += b->nrows;
        for (int p = 0; p < SIFT_META_NPROTO; p++)
            a->sum.rows[p] += b->sum.rows[p];
        a->sorted = false;
        free(a->by_flow); /* run totals are not listed by flow */
        a->by_flow = NULL;
    }
    return 0;
}

static void meta_release(void *state)
{
    sift_meta_t *s = state;
    strset_release(&s->strings);
    free(s->rows);
    free(s->by_flow);
    s->rows = NULL;
    s->by_flow = NULL;
    s->nrows = s->rows_cap = 0;
}

/* ---- the result cache: the summary, then each row's fixed fields and strings ---- */

static void meta_cache_key(const void *config, sift_cache_keyb_t *kb)
{
    const sift_meta_config_t *c = config ? config : &default_config;
    sift_cache_keyb_u64(kb, c->protos ? c->protos : (1u << SIFT_META_NPROTO) - 1);
    sift_cache_keyb_u64(kb, c->max_per_flow ? c->max_per_flow : SIFT_META_DEFAULT_PER_FLOW);
}

static void meta_save(const void *state, sift_blob_t *out)
{
    const sift_meta_t *s = state;
    sift_blob_put(out, &s->sum, sizeof s->sum);
    const uint64_t n = s->nrows;
    sift_blob_put(out, &n, sizeof n);
    for (size_t i = 0; i < s->nrows; i++) {
        sift_meta_row_t r = s->rows[i];
        uint32_t len[SIFT_META_NSTR];
        for (int k = 0; k < SIFT_META_NSTR; k++) {
            len[k] = r.str[k] ? (uint32_t)strlen(r.str[k]) : UINT32_MAX;
            r.str[k] = NULL;
        }
        sift_blob_put(out, &r, sizeof r);
        sift_blob_put(out, len, sizeof len);
        for (int k = 0; k < SIFT_META_NSTR; k++)
            if (len[k] != UINT32_MAX)
                sift_blob_put(out, s->rows[i].str[k], len[k]);
    }
}

static int meta_load(void *state, sift_blob_reader_t *in)
{
    sift_meta_t *s = state;
    uint64_t n;
    if (!sift_blob_get(in, &s->sum, sizeof s->sum) || !sift_blob_get(in, &n, sizeof n) ||
        n > (uint64_t)(in->end - in->p) / sizeof(sift_meta_row_t))
        return SIFT_ECORRUPT;
    if (n && !(s->rows = malloc((size_t)n * sizeof *s->rows)))
        return SIFT_ENOMEM;
    s->rows_cap = (size_t)n;
    char buf[8192];
    for (uint64_t i = 0; i < n; i++) {
        sift_meta_row_t *r = &s->rows[i];
        uint32_t len[SIFT_META_NSTR];
        if (!sift_blob_get(in, r, sizeof *r) || !sift_blob_get(in, len, sizeof len) ||
            r->proto >= SIFT_META_NPROTO)
            return SIFT_ECORRUPT;
        s->nrows++;
        for (int k = 0; k < SIFT_META_NSTR; k++) {
            r->str[k] = NULL;
            if (len[k] == UINT32_MAX)
                continue;
            if (len[k] >= sizeof buf || !sift_blob_get(in, buf, len[k]) ||
                memchr(buf, '\0', len[k]))
                return SIFT_ECORRUPT;
            buf[len[k]] = '\0';
            if (!(r->str[k] = intern(&s->strings, buf)))
                return SIFT_ENOMEM;
        }
    }
    s->sorted = true;
    return index_flows(s);
}

/* ---- the pass ---- */

const sift_pass_t sift_meta_pass = {
    .name = "meta",
    .needs = SIFT_NEED_PAYLOAD,
    .state_size = sizeof(sift_meta_t),
    .init = meta_init,
    .packet = meta_packet,
    .merge = meta_merge,
    .finish = meta_finish,
    .release = meta_release,
    .flags = SIFT_PASS_FLOWS,
    .flow_state_size = sizeof(mflow_t),
    .flow_join = meta_flow_join,
    .flow_release = meta_flow_release,
    .flow_end = meta_flow_end,
    .cache_version = 4,
    .cache_key = meta_cache_key,
    .save = meta_save,
    .load = meta_load,
};

size_t sift_meta_count(const sift_meta_t *s)
{
    return s ? s->nrows : 0;
}

const sift_meta_row_t *sift_meta_at(const sift_meta_t *s, size_t i)
{
    return s && i < s->nrows ? &s->rows[i] : NULL;
}

size_t sift_meta_flow_rows(const sift_meta_t *s, const sift_flow_t *f,
                           const sift_meta_row_t *const **rows)
{
    *rows = NULL;
    if (!s || !s->by_flow)
        return 0;
    sift_meta_row_t probe;
    sift__meta_row_of_flow(&probe, f);
    size_t lo = 0, hi = s->nrows; /* the first row not before f's */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_flow(s->by_flow[mid], &probe) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < s->nrows && cmp_flow(s->by_flow[end], &probe) == 0)
        end++;
    *rows = s->by_flow + lo;
    return end - lo;
}

void sift_meta_summary(const sift_meta_t *s, sift_meta_summary_t *out)
{
    if (s)
        *out = s->sum;
    else
        memset(out, 0, sizeof *out);
}
