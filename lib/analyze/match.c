/* Indicators against an input's flows and metadata: addresses of the flows, names (and
 * addresses) in their DNS, TLS and HTTP rows. */
#include "common/internal.h"

#include <capsift/match.h>
#include <capsift/meta.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

const char *sift_match_where_name(sift_match_where_t w)
{
    static const char *const names[SIFT_MATCH_NWHERE] = {
        "src", "dst", "dns.query", "dns.answer", "tls.sni", "cert.san", "http.host"};
    return (unsigned)w < SIFT_MATCH_NWHERE ? names[w] : "?";
}

/* The metadata fields that hold names, with where they are. */
typedef struct name_field {
    sift_meta_proto_t proto;
    const char *field;
    sift_match_where_t where;
} name_field_t;

static const name_field_t FIELDS[] = {
    {SIFT_META_DNS, "query", SIFT_MATCH_DNS_QUERY},
    {SIFT_META_DNS, "more_queries", SIFT_MATCH_DNS_QUERY},
    {SIFT_META_DNS, "answers", SIFT_MATCH_DNS_ANSWER},
    {SIFT_META_TLS, "server_name", SIFT_MATCH_TLS_SNI},
    {SIFT_META_TLS, "san_dns", SIFT_MATCH_CERT},
    {SIFT_META_HTTP, "host", SIFT_MATCH_HTTP_HOST},
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

/* The matches of one flow so far: each (where, ioc, value) reported once. */
#define SEEN_MAX 64
typedef struct walk {
    const sift_iocs_t *l;
    sift_ioc_match_fn fn;
    void *user;
    const sift_flow_t *flow;
    struct {
        uint8_t where;
        size_t ioc;
        char value[256];
    } seen[SEEN_MAX];
    size_t nseen;
} walk_t;

static int report(walk_t *w, long ioc, sift_match_where_t where, const char *value, size_t n,
                  int64_t ts)
{
    if (ioc < 0)
        return 0;
    char v[SIFT_DNS_NAME_MAX];
    snprintf(v, sizeof v, "%.*s", (int)n, value);
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i].where == where && w->seen[i].ioc == (size_t)ioc &&
            strncmp(w->seen[i].value, v, sizeof w->seen[i].value - 1) == 0)
            return 0;
    if (w->nseen < SEEN_MAX) {
        w->seen[w->nseen].where = (uint8_t)where;
        w->seen[w->nseen].ioc = (size_t)ioc;
        size_t k = strlen(v) < sizeof w->seen[0].value ? strlen(v) : sizeof w->seen[0].value - 1;
        memcpy(w->seen[w->nseen].value, v, k);
        w->seen[w->nseen].value[k] = 0;
        w->nseen++;
    }
    sift_ioc_match_t m = {w->flow, (size_t)ioc, (uint8_t)where, v, ts};
    return w->fn(w->user, &m);
}

/* An address seen in a value, shown in its canonical form. */
static int report_addr(walk_t *w, const uint8_t a[16], sift_match_where_t where, int64_t ts)
{
    long ioc = sift_iocs_find_addr(w->l, a);
    if (ioc < 0)
        return 0;
    char buf[64];
    sift_format_addr(a, buf, sizeof buf);
    return report(w, ioc, where, buf, strlen(buf), ts);
}

/* One value of a field: an address, or a name (an answer's last word: "10 mail.example"); an
 * HTTP host without its port and brackets. */
static int match_value(walk_t *w, sift_match_where_t where, const char *s, size_t n, int64_t ts)
{
    char buf[SIFT_DNS_NAME_MAX];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    uint8_t a[16];
    if (sift_parse_addr(buf, a))
        return report_addr(w, a, where, ts);
    const char *name = buf;
    size_t len = n;
    if (where == SIFT_MATCH_DNS_ANSWER) {
        const char *sp = strrchr(buf, ' ');
        if (sp) {
            name = sp + 1;
            len = strlen(name);
        }
    } else if (where == SIFT_MATCH_HTTP_HOST) {
        len = sift__http_host(buf, n, &name);
        buf[(size_t)(name - buf) + len] = 0; /* name lies in buf */
        if (sift_parse_addr(name, a))
            return report_addr(w, a, where, ts);
    }
    return report(w, sift_iocs_find_name(w->l, name, len), where, name, len, ts);
}

/* The slots of FIELDS in the rows, and which are lists: found once. */
static uint8_t slots[NFIELDS];
static bool lists[NFIELDS];
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void find_slots(void)
{
    for (size_t k = 0; k < NFIELDS; k++) {
        size_t nf;
        const sift_meta_field_t *f = sift_meta_fields(FIELDS[k].proto, &nf);
        slots[k] = UINT8_MAX;
        for (size_t i = 0; i < nf; i++)
            if (strcmp(f[i].name, FIELDS[k].field) == 0) {
                slots[k] = f[i].slot;
                lists[k] = f[i].type == SIFT_META_T_LIST;
            }
    }
}

static int match_rows(walk_t *w, const sift_meta_row_t *const *rows, size_t n)
{
    int rc = 0;
    for (size_t r = 0; r < n && rc == 0; r++) {
        const sift_meta_row_t *row = rows[r];
        for (size_t k = 0; k < NFIELDS && rc == 0; k++) {
            const char *s =
                FIELDS[k].proto == row->proto && slots[k] != UINT8_MAX ? row->str[slots[k]] : NULL;
            if (!s)
                continue;
            int64_t ts = sift_meta_row_ts(row);
            if (!lists[k]) {
                rc = match_value(w, FIELDS[k].where, s, strlen(s), ts);
                continue;
            }
            for (const char *p = s; rc == 0;) {
                const char *sep = strchr(p, SIFT_META_LIST_SEP);
                size_t len = sep ? (size_t)(sep - p) : strlen(p);
                rc = match_value(w, FIELDS[k].where, p, len, ts);
                if (!sep)
                    break;
                p = sep + 1;
            }
        }
    }
    return rc;
}

int sift_iocs_match_flow(const sift_iocs_t *l, const sift_flow_t *f,
                         const sift_meta_row_t *const *rows, size_t nrows, sift_ioc_match_fn fn,
                         void *user)
{
    pthread_once(&slots_once, find_slots);
    walk_t w = {.l = l, .fn = fn, .user = user, .flow = f};
    int rc = 0;
    if (f->key.ip_version) {
        for (int side = 0; side < 2 && rc == 0; side++) {
            const uint8_t *a = side ? sift_flow_addr_b(f) : sift_flow_addr_a(f);
            rc = report_addr(&w, a, side ? SIFT_MATCH_DST : SIFT_MATCH_SRC, f->first_ns);
        }
    }
    return rc == 0 ? match_rows(&w, rows, nrows) : rc;
}

int sift_iocs_match(const sift_iocs_t *l, const sift_flows_t *flows, const sift_meta_t *meta,
                    sift_ioc_match_fn fn, void *user)
{
    int rc = 0;
    for (size_t i = 0; i < sift_flows_count(flows) && rc == 0; i++) {
        const sift_flow_t *f = sift_flows_at(flows, i);
        const sift_meta_row_t *const *rows = NULL;
        size_t n = meta ? sift_meta_flow_rows(meta, f, &rows) : 0;
        rc = sift_iocs_match_flow(l, f, rows, n, fn, user);
    }
    return rc;
}
