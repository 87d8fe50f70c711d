/* The flow query language: a recursive-descent parser that writes an SQL condition with bound
 * parameters. The grammar is in <capsift/query.h>. */
#include "common/cursor.h"
#include "common/internal.h"
#include "store/store_int.h"

#include <capsift/parse.h>
#include <capsift/query.h>
#include <capsift/search.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define Q_MAX_PARAMS  256
#define Q_MAX_DEPTH   64
#define Q_MAX_TOKEN   1280 /* a DNS name of 255 bytes, escaped, fits */
#define Q_MAX_PAYLOAD 64   /* contains and matches terms */

struct sift_query {
    char *sql;
    size_t len, cap;
    sift_query_param_t params[Q_MAX_PARAMS];
    size_t nparams;
    char *texts[Q_MAX_PARAMS];    /* owned strings of 't' parameters */
    char *payload[Q_MAX_PAYLOAD]; /* contains / matches terms, in capsift search's syntax */
    size_t npayload;
};

typedef enum tok_kind { T_END, T_WORD, T_LPAREN, T_RPAREN, T_OP, T_AND, T_OR, T_NOT } tok_kind_t;

typedef struct parser {
    const char *src;
    const char *p;
    tok_kind_t kind;
    char text[Q_MAX_TOKEN];
    bool quoted; /* the word was in quotes: never a keyword */
    size_t col;  /* 1-based column of the current token */
    sift_query_t *q;
    char *errbuf;
    size_t errcol;
    int depth;
    bool failed;
} parser_t;

static int fail(parser_t *ps, size_t col, const char *fmt, ...) SIFT_PRINTF(3, 4);

static int fail(parser_t *ps, size_t col, const char *fmt, ...)
{
    if (ps->failed)
        return SIFT_EPARSE;
    ps->failed = true;
    ps->errcol = col;
    char msg[SIFT_ERRBUF_SIZE - 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->errbuf)
        snprintf(ps->errbuf, SIFT_ERRBUF_SIZE, "column %zu: %s", col, msg);
    return SIFT_EPARSE;
}

static bool word_char(char c)
{
    return c != '\0' && (isalnum((unsigned char)c) || strchr("._:/-*?[]+,%@~#^$", c) != NULL);
}

/* Reads the next token into ps->kind / ps->text. */
static int next(parser_t *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
    ps->col = (size_t)(ps->p - ps->src) + 1;
    ps->text[0] = '\0';
    ps->quoted = false;
    const char *p = ps->p;
    if (*p == '\0') {
        ps->kind = T_END;
        return 0;
    }
    size_t n = 0;
    if (*p == '(' || *p == ')') {
        ps->kind = *p == '(' ? T_LPAREN : T_RPAREN;
        ps->p++;
        return 0;
    }
    if ((p[0] == '&' && p[1] == '&') || (p[0] == '|' && p[1] == '|')) {
        ps->kind = p[0] == '&' ? T_AND : T_OR;
        ps->p += 2;
        return 0;
    }
    if (strchr("<>=!", *p) != NULL) { /* *p is not NUL here */
        if (*p == '!' && p[1] != '=') {
            ps->kind = T_NOT;
            ps->p++;
            return 0;
        }
        ps->text[n++] = *p++;
        if (*p == '=')
            ps->text[n++] = *p++;
        ps->text[n] = '\0';
        ps->kind = T_OP;
        ps->p = p;
        return 0;
    }
    if (*p == '"' || *p == '\'') {
        char quote = *p++;
        while (*p && *p != quote) {
            if (n + 1 >= sizeof ps->text)
                return fail(ps, ps->col, "quoted value is too long");
            ps->text[n++] = *p++;
        }
        if (*p != quote)
            return fail(ps, ps->col, "unterminated quoted value");
        ps->text[n] = '\0';
        ps->p = p + 1;
        ps->kind = T_WORD;
        ps->quoted = true;
        return 0;
    }
    if (!word_char(*p))
        return fail(ps, ps->col, "unexpected character '%c' (quote a value that has it)", *p);
    while (word_char(*p)) {
        if (n + 1 >= sizeof ps->text)
            return fail(ps, ps->col, "word is too long");
        ps->text[n++] = *p++;
    }
    ps->text[n] = '\0';
    ps->p = p;
    ps->kind = T_WORD;
    if (strcasecmp(ps->text, "and") == 0)
        ps->kind = T_AND;
    else if (strcasecmp(ps->text, "or") == 0)
        ps->kind = T_OR;
    else if (strcasecmp(ps->text, "not") == 0)
        ps->kind = T_NOT;
    return 0;
}

static int emit(parser_t *ps, const char *s)
{
    sift_query_t *q = ps->q;
    size_t n = strlen(s);
    if (q->len + n + 1 > q->cap) {
        size_t ncap = (q->cap ? q->cap * 2 : 256) + n;
        char *ns = realloc(q->sql, ncap);
        if (!ns)
            return fail(ps, ps->col, "out of memory");
        q->sql = ns;
        q->cap = ncap;
    }
    memcpy(q->sql + q->len, s, n + 1);
    q->len += n;
    return 0;
}

static sift_query_param_t *param(parser_t *ps, char kind)
{
    if (ps->q->nparams == Q_MAX_PARAMS) {
        fail(ps, ps->col, "expression has too many values (at most %d)", Q_MAX_PARAMS);
        return NULL;
    }
    sift_query_param_t *pr = &ps->q->params[ps->q->nparams++];
    memset(pr, 0, sizeof *pr);
    pr->kind = kind;
    return pr;
}

static int param_int(parser_t *ps, int64_t v)
{
    sift_query_param_t *pr = param(ps, 'i');
    if (!pr)
        return SIFT_EPARSE;
    pr->i = v;
    return 0;
}

static int param_blob(parser_t *ps, const uint8_t b[16])
{
    sift_query_param_t *pr = param(ps, 'b');
    if (!pr)
        return SIFT_EPARSE;
    memcpy(pr->b, b, 16);
    return 0;
}

static int param_text(parser_t *ps, const char *t)
{
    sift_query_param_t *pr = param(ps, 't');
    if (!pr)
        return SIFT_EPARSE;
    char *copy = strdup(t);
    if (!copy)
        return fail(ps, ps->col, "out of memory");
    ps->q->texts[ps->q->nparams - 1] = copy;
    pr->t = copy;
    return 0;
}

/* Whole numbers of the language through the one checked parser ("10k" included). */
static bool parse_u64(const char *s, uint64_t max, uint64_t *v)
{
    return sift_parse_count(s, 0, max, v) == 0;
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, unsigned *v)
{
    unsigned x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        x = x * 10 + (unsigned)((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

/* ".123456789" into nanoseconds. */
static bool fraction(const char **p, int64_t *ns)
{
    *ns = 0;
    if (**p != '.')
        return true;
    (*p)++;
    int n = 0;
    int64_t scale = 100000000;
    while (isdigit((unsigned char)**p)) {
        if (n < 9)
            *ns += (**p - '0') * scale;
        scale /= 10;
        n++;
        (*p)++;
    }
    return n > 0;
}

int sift_parse_time(const char *s, int64_t *ns)
{
    const char *p = s;
    /* epoch seconds: all digits, optional fraction */
    if (strchr(s, '-') == NULL || strchr(s, '-') == s) {
        bool neg = *p == '-';
        if (neg)
            p++;
        uint64_t sec;
        char intpart[24];
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n >= sizeof intpart)
            return SIFT_EPARSE;
        memcpy(intpart, p, n);
        intpart[n] = '\0';
        if (!parse_u64(intpart, 9000000000ull, &sec))
            return SIFT_EPARSE;
        p += n;
        int64_t frac;
        if (!fraction(&p, &frac) || *p != '\0')
            return SIFT_EPARSE;
        int64_t v = (int64_t)sec * 1000000000 + frac;
        *ns = neg ? -v : v;
        return 0;
    }
    unsigned y, mo, d, h = 0, mi = 0, se = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return SIFT_EPARSE;
    int64_t frac = 0, offset = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return SIFT_EPARSE;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &se) || !fraction(&p, &frac))
                return SIFT_EPARSE;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1;
            unsigned oh, om = 0;
            if (!digits(&p, 2, &oh))
                return SIFT_EPARSE;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p) && !digits(&p, 2, &om))
                return SIFT_EPARSE;
            offset = sign * (int64_t)(oh * 3600 + om * 60);
        }
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return SIFT_EPARSE;
    /* at most 10^4 years of seconds: no overflow before the nanoseconds */
    int64_t sec = sift__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    if (__builtin_mul_overflow(sec, (int64_t)1000000000, ns) ||
        __builtin_add_overflow(*ns, frac, ns))
        *ns = sec < 0 ? INT64_MIN : INT64_MAX; /* before 1677 / after 2262: saturated */
    return 0;
}

/* BPF's abbreviated IPv4 networks: "10" is 10.0.0.0/8, "192.168" 192.168.0.0/16, "172.16.1"
 * 172.16.1.0/24. Rewrites addr into a whole address and returns the prefix length, or 0 when it
 * is not one. */
static unsigned abbreviated_net(char *addr, size_t size)
{
    unsigned parts = 1;
    for (const char *c = addr; *c; c++) {
        if (*c == '.')
            parts++;
        else if (!isdigit((unsigned char)*c))
            return 0;
    }
    size_t len = strlen(addr);
    if (parts >= 4 || len == 0 || addr[len - 1] == '.' || len + 3 * (4 - parts) >= size)
        return 0;
    for (unsigned k = parts; k < 4; k++, len += 2)
        memcpy(addr + len, ".0", 3);
    return parts * 8;
}

/* The prefix length of a contiguous IPv4 netmask ("255.255.0.0": 16), or -1. */
static int mask_bits(const char *s)
{
    uint8_t m[16];
    if (sift_parse_addr(s, m) != 4)
        return -1;
    uint32_t v = sift_load_be32(m + 12);
    int bits = 0;
    while (bits < 32 && (v & (0x80000000u >> bits)))
        bits++;
    return (bits == 32 || (v << bits) == 0) ? bits : -1;
}

/* CIDR into the lowest and highest 16-byte address of the range; mask_len >= 0 gives the
 * prefix length instead ("net A mask M"). */
static bool parse_cidr(const char *s, int mask_len, uint8_t lo[16], uint8_t hi[16])
{
    char addr[Q_MAX_TOKEN];
    snprintf(addr, sizeof addr, "%s", s);
    char *slash = strchr(addr, '/');
    unsigned bits = 0;
    if (slash)
        *slash = '\0';
    unsigned abbrev = abbreviated_net(addr, sizeof addr);
    int v = sift_parse_addr(addr, lo);
    if (!v || (mask_len >= 0 && (slash || v != 4)))
        return false;
    unsigned max = v == 4 ? 32 : 128;
    if (slash) {
        uint64_t b;
        if (!parse_u64(slash + 1, max, &b))
            return false;
        bits = (unsigned)b;
    } else {
        bits = mask_len >= 0 ? (unsigned)mask_len : abbrev ? abbrev : max;
    }
    unsigned prefix = bits + (v == 4 ? 96 : 0); /* in the 128-bit space */
    memcpy(hi, lo, 16);
    for (unsigned i = 0; i < 128; i++) {
        if (i < prefix)
            continue;
        uint8_t bit = (uint8_t)(0x80u >> (i % 8));
        lo[i / 8] &= (uint8_t)~bit;
        hi[i / 8] |= bit;
    }
    return true;
}

static int expect_word(parser_t *ps, const char *what)
{
    if (ps->kind != T_WORD)
        return fail(ps, ps->col, "expected %s%s", what, ps->kind == T_END ? " at the end" : "");
    return 0;
}

/* [src|dst] host|net|port|portrange VALUE */
static int term_endpoint(parser_t *ps, const char *side)
{
    char what[16];
    snprintf(what, sizeof what, "%.15s", ps->text);
    size_t col = ps->col;
    int rc = next(ps);
    if (rc < 0 || (rc = expect_word(ps, strcmp(what, "port") == 0        ? "a port number"
                                        : strcmp(what, "portrange") == 0 ? "a port range"
                                                                         : "an address")))
        return rc;
    const char *cols[2] = {"f.src", "f.dst"};
    const char *pcols[2] = {"f.sport", "f.dport"};
    int first = side && strcmp(side, "dst") == 0 ? 1 : 0;
    int count = side ? 1 : 2;
    if (strcmp(what, "host") == 0) {
        uint8_t a[16];
        if (!sift_parse_addr(ps->text, a))
            return fail(ps, ps->col,
                        "'%s' is not an IPv4 or IPv6 address (host names are not looked up)",
                        ps->text);
        emit(ps, "(");
        for (int k = 0; k < count; k++) {
            emit(ps, k ? " OR " : "");
            emit(ps, cols[first + k]);
            emit(ps, " = ?");
            if ((rc = param_blob(ps, a)) < 0)
                return rc;
        }
    } else if (strcmp(what, "net") == 0) {
        uint8_t lo[16], hi[16];
        char net[Q_MAX_TOKEN];
        size_t net_col = ps->col;
        snprintf(net, sizeof net, "%s", ps->text);
        int mask = -1;
        const char *rest = ps->p;
        while (isspace((unsigned char)*rest))
            rest++;
        if (strncasecmp(rest, "mask", 4) == 0 && isspace((unsigned char)rest[4])) {
            if ((rc = next(ps)) < 0 || (rc = next(ps)) < 0 ||
                (rc = expect_word(ps, "a netmask")) < 0)
                return rc;
            if ((mask = mask_bits(ps->text)) < 0)
                return fail(ps, ps->col, "'%s' is not a contiguous IPv4 netmask", ps->text);
        }
        if (!parse_cidr(net, mask, lo, hi))
            return fail(ps, net_col,
                        "'%s' is not a network (like 10.0.0.0/8, 10.1, 2001:db8::/32, or "
                        "10.0.0.0 mask 255.0.0.0)",
                        net);
        emit(ps, "(");
        for (int k = 0; k < count; k++) {
            emit(ps, k ? " OR " : "");
            emit(ps, cols[first + k]);
            emit(ps, " BETWEEN ? AND ?");
            if ((rc = param_blob(ps, lo)) < 0 || (rc = param_blob(ps, hi)) < 0)
                return rc;
        }
    } else if (strcmp(what, "portrange") == 0) {
        char range[Q_MAX_TOKEN];
        snprintf(range, sizeof range, "%s", ps->text);
        char *dash = strchr(range, '-');
        uint64_t a, b;
        if (dash)
            *dash = '\0';
        if (!dash || !parse_u64(range, 65535, &a) || !parse_u64(dash + 1, 65535, &b) || a > b)
            return fail(ps, ps->col, "'%s' is not a port range (like 1-1023)", ps->text);
        emit(ps, "(");
        for (int k = 0; k < count; k++) {
            emit(ps, k ? " OR " : "");
            emit(ps, pcols[first + k]);
            emit(ps, " BETWEEN ? AND ?");
            if ((rc = param_int(ps, (int64_t)a)) < 0 || (rc = param_int(ps, (int64_t)b)) < 0)
                return rc;
        }
    } else {
        uint64_t port;
        if (!parse_u64(ps->text, 65535, &port))
            return fail(ps, ps->col,
                        "'%s' is not a port number (0-65535; service names are not looked up)",
                        ps->text);
        emit(ps, "(");
        for (int k = 0; k < count; k++) {
            emit(ps, k ? " OR " : "");
            emit(ps, pcols[first + k]);
            emit(ps, " = ?");
            if ((rc = param_int(ps, (int64_t)port)) < 0)
                return rc;
        }
    }
    (void)col;
    emit(ps, ")");
    return next(ps);
}

static int proto_number(const char *name, uint64_t *v)
{
    static const struct {
        const char *name;
        uint8_t num;
    } names[] = {{"tcp", 6},    {"udp", 17}, {"icmp", 1}, {"icmp6", 58}, {"icmpv6", 58},
                 {"sctp", 132}, {"gre", 47}, {"esp", 50}, {"ah", 51},    {"igmp", 2}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *v = names[i].num;
            return 0;
        }
    }
    return parse_u64(name, 255, v) ? 0 : -1;
}

static int term_compare(parser_t *ps, const char *column, bool seconds)
{
    int rc = next(ps);
    if (rc < 0)
        return rc;
    if (ps->kind != T_OP)
        return fail(ps, ps->col, "expected a comparison (> >= < <= = !=) after '%s'", column);
    char op[4];
    snprintf(op, sizeof op, "%.3s", strcmp(ps->text, "==") == 0 ? "=" : ps->text);
    if (strcmp(op, "!") == 0)
        return fail(ps, ps->col, "expected a comparison");
    if ((rc = next(ps)) < 0 || (rc = expect_word(ps, "a number")) < 0)
        return rc;
    int64_t v;
    if (seconds) {
        if (sift_parse_time(ps->text, &v) < 0 || v < 0) /* plain seconds, with fraction */
            return fail(ps, ps->col, "'%s' is not a number of seconds", ps->text);
    } else {
        uint64_t u;
        if (!parse_u64(ps->text, INT64_MAX, &u))
            return fail(ps, ps->col, "'%s' is not a whole number", ps->text);
        v = (int64_t)u;
    }
    static const char *exprs[][2] = {{"packets", "(f.packets_ab + f.packets_ba)"},
                                     {"bytes", "(f.bytes_ab + f.bytes_ba)"},
                                     {"duration", "(f.last_ns - f.first_ns)"}};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(column, exprs[i][0]) == 0)
            emit(ps, exprs[i][1]);
    emit(ps, " ");
    emit(ps, op);
    emit(ps, " ?");
    if ((rc = param_int(ps, v)) < 0)
        return rc;
    return next(ps);
}

static bool endpoint_word(const char *w)
{
    return strcasecmp(w, "host") == 0 || strcasecmp(w, "net") == 0 || strcasecmp(w, "port") == 0 ||
           strcasecmp(w, "portrange") == 0;
}

/* BPF's primitives that look at packets, not flows: why the index cannot answer them. */
static const char *bpf_only(const char *w)
{
    static const char *const packet_terms[] = {
        "ether",      "fddi",          "tr",     "wlan",       "arp",       "rarp",      "decnet",
        "iso",        "stp",           "ipx",    "netbeui",    "atalk",     "aarp",      "lat",
        "sca",        "moprc",         "mopdl",  "len",        "broadcast", "multicast", "gateway",
        "inbound",    "outbound",      "ifname", "on",         "rnr",       "rulenum",   "reason",
        "rset",       "ruleset",       "srnr",   "subrulenum", "action",    "type",      "subtype",
        "dir",        "mpls",          "pppoed", "pppoes",     "geneve",    "vxlan",     "llc",
        "protochain", "ip6protochain", "iso",    "clnp",       "esis",      "isis",      "l1",
        "l2",         "iih",           "lsp",    "snp",        "csnp",      "psnp"};
    if (strcmp(w, "less") == 0 || strcmp(w, "greater") == 0)
        return "is a packet length in BPF; a query selects flows: use 'bytes < N', "
               "'bytes > N' or 'packets ...'";
    if (strchr(w, '['))
        return "reads packet bytes (BPF arithmetic), which the index does not keep: use "
               "capsift flows -f or tcpdump on the captures";
    for (size_t i = 0; i < sizeof packet_terms / sizeof packet_terms[0]; i++)
        if (strcmp(w, packet_terms[i]) == 0)
            return "is a BPF term about packets, which the index cannot answer (it keeps "
                   "flows of IP packets): use capsift flows -f or tcpdump on the captures";
    return NULL;
}

/* ---- the application metadata (tables of their own, st_sqlite.c) ---- */

/* Every metadata term selects the flows with a row that matches: f.id IN (SELECT m.flow_id ...).
 * The backend recognises these terms by "m.flow_id" (an index of an older layout has no such
 * tables). */
#define META_IN(table) "f.id IN (SELECT m.flow_id FROM " table " m WHERE "

/* dns|sni|http.host|name PATTERN: names on labels (st_names.c), by the names table's key. */
static int term_name(parser_t *ps, const char *word, int kind)
{
    int rc = next(ps);
    if (rc < 0 || (rc = expect_word(ps, "a domain name")) < 0)
        return rc;
    char key[SIFT_NAME_KEY_MAX];
    if (!sift__name_key(ps->text, strlen(ps->text), kind == ST_NAME_HTTP, key, sizeof key))
        return fail(ps, ps->col, "'%s' is not a domain name for '%s'", ps->text, word);
    emit(ps, META_IN("names"));
    if (kind) {
        emit(ps, "m.kind = ? AND ");
        rc = param_int(ps, kind);
    } else {
        emit(ps, "m.kind IN (?, ?, ?, ?) AND ");
        for (int k = ST_NAME_DNS; k <= ST_NAME_CERT && rc == 0; k++)
            rc = param_int(ps, k);
    }
    size_t prefix = sift__name_prefix(key);
    if (rc == 0 && key[prefix] == '\0') {
        emit(ps, "m.name = ?");
        rc = param_text(ps, key);
    } else if (rc == 0) {
        if (prefix) { /* under the fixed labels: "com.example." up to "com.example/" */
            char bound[SIFT_NAME_KEY_MAX + 1];
            memcpy(bound, key, prefix);
            bound[prefix + 1] = '\0';
            emit(ps, "m.name > ? AND m.name < ? AND ");
            bound[prefix] = '.';
            rc = param_text(ps, bound);
            bound[prefix] = '.' + 1;
            if (rc == 0)
                rc = param_text(ps, bound);
        }
        emit(ps, "sift_name_match(?, m.name)");
        if (rc == 0)
            rc = param_text(ps, key);
    }
    emit(ps, ")");
    return rc < 0 ? rc : next(ps);
}

enum {
    TEXT_HASH = 1, /* a hex digest (any case) is the hash column; anything else the string
                    * column's, when there is one */
    TEXT_SSH = 2   /* a version also matches as the software after "SSH-2.0-" */
};

static const struct text_term {
    const char *word, *table, *column, *string_column;
    unsigned flags;
} text_terms[] = {
    {"uri", "http", "uri", NULL, 0},
    {"http.uri", "http", "uri", NULL, 0},
    {"ua", "http", "user_agent", NULL, 0},
    {"http.user_agent", "http", "user_agent", NULL, 0},
    {"http.method", "http", "method", NULL, 0},
    {"http.referrer", "http", "referrer", NULL, 0},
    {"http.content_type", "http", "content_type", NULL, 0},
    {"ja3", "tls", "ja3", "ja3_string", TEXT_HASH},
    {"ja3s", "tls", "ja3s", "ja3s_string", TEXT_HASH},
    {"tls.alpn", "tls", "alpn", NULL, 0},
    {"ssh.client", "ssh", "client", NULL, TEXT_SSH},
    {"ssh.server", "ssh", "server", NULL, TEXT_SSH},
    {"hassh", "ssh", "hassh", "hasshAlgorithms", TEXT_HASH},
    {"hassh.server", "ssh", "hasshServer", "hasshServerAlgorithms", TEXT_HASH},
    {"cert.subject", "tls", "subject", NULL, 0},
    {"cert.issuer", "tls", "issuer", NULL, 0},
    {"cert.sha1", "tls", "cert_sha1", NULL, TEXT_HASH},
    {"dhcp.host", "dhcp", "host_name", NULL, 0},
    {"dhcp.mac", "dhcp", "mac", NULL, 0},
};

/* An MD5 or SHA-1 digest in hex. */
static bool is_digest(const char *s)
{
    size_t n = strspn(s, "0123456789abcdefABCDEF");
    return (n == 32 || n == 40) && s[n] == '\0';
}

/* Copies s with the characters special to op escaped: LIKE's % _ and the escape \ (wrapped in
 * %...%), or GLOB's * ? [ (each in brackets). */
static void escape_for(const char *s, bool like, char *out, size_t size)
{
    size_t n = 0;
    if (like)
        out[n++] = '%';
    for (; *s && n + 5 < size; s++) {
        if (like && strchr("%_\\", *s)) {
            out[n++] = '\\';
            out[n++] = *s;
        } else if (!like && strchr("*?[", *s)) {
            out[n++] = '[';
            out[n++] = *s;
            out[n++] = ']';
        } else {
            out[n++] = *s;
        }
    }
    if (like)
        out[n++] = '%';
    out[n] = '\0';
}

/* FIELD VALUE (exact, or a shell glob when VALUE has * ? [), FIELD contains TEXT (any case) */
static int term_text(parser_t *ps, const struct text_term *t)
{
    int rc = next(ps);
    if (rc < 0)
        return rc;
    bool contains = ps->kind == T_WORD && !ps->quoted && strcasecmp(ps->text, "contains") == 0;
    if (contains && (rc = next(ps)) < 0)
        return rc;
    if ((rc = expect_word(ps, contains ? "the text to look for" : "a value")) < 0)
        return rc;
    char value[Q_MAX_TOKEN];
    snprintf(value, sizeof value, "%s", ps->text);
    const char *column = t->column;
    if (t->flags & TEXT_HASH) {
        if (!contains && is_digest(value))
            for (char *c = value; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        else if (t->string_column)
            column = t->string_column;
    }
    bool glob = !contains && strpbrk(value, "*?[") != NULL;
    char sql[160];
    snprintf(sql, sizeof sql, "f.id IN (SELECT m.flow_id FROM %s m WHERE m.\"%s\" %s ?", t->table,
             column,
             contains ? "LIKE"
             : glob   ? "GLOB"
                      : "=");
    emit(ps, sql);
    char pat[3 * Q_MAX_TOKEN + 16];
    if (contains) {
        emit(ps, " ESCAPE '\\'");
        escape_for(value, true, pat, sizeof pat);
        rc = param_text(ps, pat);
    } else {
        rc = param_text(ps, value);
    }
    if (rc == 0 && (t->flags & TEXT_SSH) && !contains) { /* "OpenSSH_7*": the software part */
        snprintf(sql, sizeof sql, " OR m.\"%s\" GLOB ?", column);
        emit(ps, sql);
        char esc[3 * Q_MAX_TOKEN];
        if (glob)
            snprintf(esc, sizeof esc, "%s", value);
        else
            escape_for(value, false, esc, sizeof esc);
        snprintf(pat, sizeof pat, "SSH-*-%s", esc);
        rc = param_text(ps, pat);
    }
    emit(ps, ")");
    return rc < 0 ? rc : next(ps);
}

static int term_meta(parser_t *ps, const char *word, bool *done)
{
    static const struct {
        const char *word;
        int kind;
    } names[] = {{"dns", ST_NAME_DNS},
                 {"dns.query", ST_NAME_DNS},
                 {"sni", ST_NAME_SNI},
                 {"tls.sni", ST_NAME_SNI},
                 {"http.host", ST_NAME_HTTP},
                 {"cert.san", ST_NAME_CERT},
                 {"name", 0}};
    *done = true;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(word, names[i].word) == 0)
            return term_name(ps, word, names[i].kind);
    for (size_t i = 0; i < sizeof text_terms / sizeof text_terms[0]; i++)
        if (strcmp(word, text_terms[i].word) == 0)
            return term_text(ps, &text_terms[i]);
    *done = false;
    return 0;
}

/* contains TEXT (its bytes, with |hex| as capsift search writes them), matches /REGEX/FLAGS:
 * the flows with a packet whose payload has them, which the index finds in its payload store
 * (temp.payload_hits, filled before the query runs). */
static int term_payload(parser_t *ps, bool regex)
{
    int rc = next(ps);
    if (rc < 0)
        return rc;
    if ((rc = expect_word(ps, regex ? "a /regex/" : "the bytes to look for")) < 0)
        return rc;
    if (ps->q->npayload == Q_MAX_PAYLOAD)
        return fail(ps, ps->col, "more than %d contains and matches terms", Q_MAX_PAYLOAD);
    char pat[2 * Q_MAX_TOKEN + 4];
    size_t n = 0;
    if (regex) {
        snprintf(pat, sizeof pat, "%s", ps->text);
    } else { /* a quoted literal of the search syntax: a quote in it escaped */
        pat[n++] = '"';
        for (const char *c = ps->text; *c; c++) {
            if (*c == '"')
                pat[n++] = '\\';
            pat[n++] = *c;
        }
        pat[n++] = '"';
        pat[n] = '\0';
    }
    sift_ctx_t *ctx = NULL;
    sift_patterns_t *set = NULL;
    if (sift_ctx_create(&ctx) < 0 || sift_patterns_create(&set) < 0) {
        sift_ctx_free(ctx);
        return fail(ps, ps->col, "out of memory");
    }
    rc = sift_patterns_add(set, ctx, pat, false, "query", 1);
    if (rc < 0) {
        const char *msg = sift_ctx_errmsg(ctx), *why = strstr(msg, ": ");
        rc = fail(ps, ps->col, "%s", why && strncmp(msg, "query:", 6) == 0 ? why + 2 : msg);
    } else if (regex && !sift_patterns_at(set, 0)->regex) {
        rc = fail(ps, ps->col,
                  "matches takes a regular expression as /regex/flags (quote it "
                  "when it holds spaces, parentheses or bars)");
    }
    sift_patterns_free(set);
    sift_ctx_free(ctx);
    if (rc < 0)
        return rc;
    if (!(ps->q->payload[ps->q->npayload] = strdup(pat)))
        return fail(ps, ps->col, "out of memory");
    emit(ps, "f.id IN (SELECT flow_id FROM temp.payload_hits WHERE term = ?)");
    rc = param_int(ps, (int64_t)ps->q->npayload++);
    return rc < 0 ? rc : next(ps);
}

static int term(parser_t *ps)
{
    if (ps->kind != T_WORD)
        return fail(ps, ps->col,
                    "expected a term (host, net, port, proto, app, after, before, "
                    "packets, bytes ...)%s",
                    ps->kind == T_END ? " at the end" : "");
    char word[Q_MAX_TOKEN];
    snprintf(word, sizeof word, "%s", ps->text);
    for (char *c = word; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    int rc;
    if (!ps->quoted && (strcmp(word, "contains") == 0 || strcmp(word, "matches") == 0))
        return term_payload(ps, word[0] == 'm');
    if (strcmp(word, "src") == 0 || strcmp(word, "dst") == 0) {
        if ((rc = next(ps)) < 0)
            return rc;
        if (ps->kind != T_WORD || !endpoint_word(ps->text))
            return fail(ps, ps->col, "expected host, net, port or portrange after '%s'", word);
        return term_endpoint(ps, word);
    }
    if (endpoint_word(word))
        return term_endpoint(ps, NULL);
    const char *why = bpf_only(word);
    if (why)
        return fail(ps, ps->col, "'%s' %s", ps->text, why);
    if (strcmp(word, "tcp") == 0 || strcmp(word, "udp") == 0 || strcmp(word, "icmp") == 0 ||
        strcmp(word, "icmp6") == 0 || strcmp(word, "sctp") == 0 || strcmp(word, "ip") == 0 ||
        strcmp(word, "ip6") == 0) {
        uint64_t v = 0;
        bool version = word[0] == 'i' && word[1] == 'p';
        if (version)
            v = word[2] == '6' ? 6 : 4;
        else
            proto_number(word, &v);
        emit(ps, version ? "f.ip_version = ?" : "f.proto = ?");
        if ((rc = param_int(ps, (int64_t)v)) < 0 || (rc = next(ps)) < 0)
            return rc;
        /* BPF's qualified primitives: "tcp port 80" is tcp and port 80 */
        if (ps->kind == T_WORD && (endpoint_word(ps->text) || strcasecmp(ps->text, "src") == 0 ||
                                   strcasecmp(ps->text, "dst") == 0)) {
            emit(ps, " AND ");
            return term(ps);
        }
        return 0;
    }
    if (strcmp(word, "vlan") == 0) { /* BPF: vlan [N] */
        uint64_t v;
        if ((rc = next(ps)) < 0)
            return rc;
        if (ps->kind != T_WORD || !isdigit((unsigned char)ps->text[0])) {
            emit(ps, "f.vlan != 0");
            return 0;
        }
        if (!parse_u64(ps->text, 4095, &v))
            return fail(ps, ps->col, "'%s' is not a VLAN id (0-4095)", ps->text);
        emit(ps, "f.vlan = ?");
        if ((rc = param_int(ps, (int64_t)v)) < 0)
            return rc;
        return next(ps);
    }
    if (strcmp(word, "proto") == 0) {
        if ((rc = next(ps)) < 0 || (rc = expect_word(ps, "a value")) < 0)
            return rc;
        uint64_t v;
        if (proto_number(ps->text, &v) != 0)
            return fail(ps, ps->col, "'%s' is not a protocol (tcp, udp, icmp, ... or 0-255)",
                        ps->text);
        emit(ps, "f.proto = ?");
        if ((rc = param_int(ps, (int64_t)v)) < 0)
            return rc;
        return next(ps);
    }
    if (strcmp(word, "state") == 0) { /* Zeek's connection state */
        static const char *const states[] = {"S0",   "S1",     "SF",    "REJ", "S2",  "S3", "RSTO",
                                             "RSTR", "RSTOS0", "RSTRH", "SH",  "SHR", "OTH"};
        if ((rc = next(ps)) < 0 || (rc = expect_word(ps, "a connection state")) < 0)
            return rc;
        const char *st = NULL;
        for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
            if (strcasecmp(ps->text, states[i]) == 0)
                st = states[i];
        if (!st)
            return fail(ps, ps->col,
                        "'%s' is not a connection state (S0, S1, SF, REJ, S2, S3, RSTO, RSTR, "
                        "RSTOS0, RSTRH, SH, SHR, OTH)",
                        ps->text);
        emit(ps, "f.state = ?");
        if ((rc = param_text(ps, st)) < 0)
            return rc;
        return next(ps);
    }
    if (strcmp(word, "app") == 0) {
        if ((rc = next(ps)) < 0 || (rc = expect_word(ps, "an application name")) < 0)
            return rc;
        /* exact, or one part of a dotted name (TLS.YouTube), case-insensitive */
        emit(ps, "(f.app = ? COLLATE NOCASE OR f.app LIKE ? || '.%' OR f.app LIKE '%.' || ?)");
        for (int k = 0; k < 3; k++)
            if ((rc = param_text(ps, ps->text)) < 0)
                return rc;
        return next(ps);
    }
    if (strcmp(word, "file") == 0) {
        if ((rc = next(ps)) < 0 || (rc = expect_word(ps, "a file name pattern")) < 0)
            return rc;
        emit(ps, "fi.path GLOB ?");
        if ((rc = param_text(ps, ps->text)) < 0)
            return rc;
        return next(ps);
    }
    if (strcmp(word, "after") == 0 || strcmp(word, "before") == 0) {
        if ((rc = next(ps)) < 0 || (rc = expect_word(ps, "a time")) < 0)
            return rc;
        int64_t t;
        if (sift_parse_time(ps->text, &t) < 0)
            return fail(ps, ps->col,
                        "'%s' is not a time (ISO 8601 like 2024-05-14T10:00:00Z, or epoch "
                        "seconds)",
                        ps->text);
        emit(ps, strcmp(word, "after") == 0 ? "f.last_ns >= ?" : "f.first_ns < ?");
        if ((rc = param_int(ps, t)) < 0)
            return rc;
        return next(ps);
    }
    if (strcmp(word, "packets") == 0 || strcmp(word, "bytes") == 0 || strcmp(word, "duration") == 0)
        return term_compare(ps, word, strcmp(word, "duration") == 0);
    bool done;
    rc = term_meta(ps, word, &done);
    if (done)
        return rc;
    return fail(ps, ps->col, "unknown term '%s'", ps->text);
}

static int expr_or(parser_t *ps);

static int expr_not(parser_t *ps)
{
    if (++ps->depth > Q_MAX_DEPTH)
        return fail(ps, ps->col, "expression is nested too deeply");
    int rc;
    if (ps->kind == T_NOT) {
        emit(ps, "NOT ");
        if ((rc = next(ps)) < 0)
            return rc;
        rc = expr_not(ps);
    } else if (ps->kind == T_LPAREN) {
        size_t col = ps->col;
        emit(ps, "(");
        if ((rc = next(ps)) < 0 || (rc = expr_or(ps)) < 0)
            return rc;
        if (ps->kind != T_RPAREN)
            return fail(ps, ps->kind == T_END ? col : ps->col,
                        ps->kind == T_END ? "unclosed parenthesis" : "expected ')'");
        emit(ps, ")");
        rc = next(ps);
    } else {
        emit(ps, "(");
        rc = term(ps);
        emit(ps, ")");
    }
    ps->depth--;
    return rc;
}

static int expr_and(parser_t *ps)
{
    int rc = expr_not(ps);
    while (rc == 0 && ps->kind == T_AND) {
        emit(ps, " AND ");
        if ((rc = next(ps)) < 0)
            return rc;
        rc = expr_not(ps);
    }
    if (rc == 0 && (ps->kind == T_WORD || ps->kind == T_NOT || ps->kind == T_LPAREN))
        return fail(ps, ps->col, "expected 'and' or 'or' before '%s'",
                    ps->kind == T_WORD  ? ps->text
                    : ps->kind == T_NOT ? "not"
                                        : "(");
    return rc;
}

static int expr_or(parser_t *ps)
{
    int rc = expr_and(ps);
    while (rc == 0 && ps->kind == T_OR) {
        emit(ps, " OR ");
        if ((rc = next(ps)) < 0)
            return rc;
        rc = expr_and(ps);
    }
    return rc;
}

int sift_query_compile(sift_query_t **out, const char *expr, char *errbuf, size_t *errcol)
{
    *out = NULL;
    sift_query_t *q = calloc(1, sizeof *q);
    if (!q)
        return sift__errorf(errbuf, SIFT_ENOMEM, "out of memory");
    parser_t ps = {.src = expr ? expr : "", .q = q, .errbuf = errbuf};
    ps.p = ps.src;
    int rc = next(&ps);
    if (rc == 0 && ps.kind == T_END)
        rc = emit(&ps, "1");
    else if (rc == 0)
        rc = expr_or(&ps);
    if (rc == 0 && ps.kind != T_END)
        rc = fail(&ps, ps.col, ps.kind == T_RPAREN ? "unmatched ')'" : "unexpected '%s'", ps.text);
    if (rc == 0 && ps.failed)
        rc = SIFT_EPARSE;
    if (rc < 0) {
        if (errcol)
            *errcol = ps.errcol;
        sift_query_free(q);
        return rc;
    }
    *out = q;
    return 0;
}

void sift_query_free(sift_query_t *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nparams; i++)
        free(q->texts[i]);
    for (size_t i = 0; i < q->npayload; i++)
        free(q->payload[i]);
    free(q->sql);
    free(q);
}

const char *sift_query_sql(const sift_query_t *q)
{
    return q->sql;
}

size_t sift_query_nparams(const sift_query_t *q)
{
    return q->nparams;
}

const sift_query_param_t *sift_query_param(const sift_query_t *q, size_t i)
{
    return i < q->nparams ? &q->params[i] : NULL;
}

size_t sift_query_payload_terms(const sift_query_t *q, const char *const **terms)
{
    *terms = (const char *const *)q->payload;
    return q->npayload;
}
