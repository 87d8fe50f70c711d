/* Profiles of captures (counts by host, port, application, flow, TLS fingerprint and domain)
 * and their comparison. One string-keyed open-addressing table per kind; a comparison sorts
 * the keys of both sides and walks them together. */
#include "common/internal.h"

#include <capsift/diff.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct entry {
    char *key;
    uint64_t hash;
    sift_diff_counts_t c;
} entry_t;

typedef struct map {
    entry_t *slot;
    size_t n, mask;
} map_t;

struct sift_profile {
    map_t m[SIFT_DIFF_NKINDS];
    uint8_t slot[4]; /* metadata string slots: ja3, ja3s, server_name, http host */
    uint8_t dns_query, dns_more;
};

const char *sift_diff_kind_name(sift_diff_kind_t k)
{
    static const char *const n[SIFT_DIFF_NKINDS] = {"host", "port", "app",   "flow",
                                                    "ja3",  "ja3s", "domain"};
    return (unsigned)k < SIFT_DIFF_NKINDS ? n[k] : "?";
}

const char *sift_diff_change_name(sift_diff_change_t c)
{
    static const char *const n[] = {"only_a", "only_b", "more", "less"};
    return (unsigned)c < 4 ? n[c] : "?";
}

int sift_profile_create(sift_profile_t **out)
{
    sift_profile_t *p = calloc(1, sizeof *p);
    if (!p)
        return SIFT_ENOMEM;
    p->slot[0] = sift_meta_field_slot(SIFT_META_TLS, "ja3");
    p->slot[1] = sift_meta_field_slot(SIFT_META_TLS, "ja3s");
    p->slot[2] = sift_meta_field_slot(SIFT_META_TLS, "server_name");
    p->slot[3] = sift_meta_field_slot(SIFT_META_HTTP, "host");
    p->dns_query = sift_meta_field_slot(SIFT_META_DNS, "query");
    p->dns_more = sift_meta_field_slot(SIFT_META_DNS, "more_queries");
    *out = p;
    return 0;
}

void sift_profile_free(sift_profile_t *p)
{
    if (!p)
        return;
    for (int k = 0; k < SIFT_DIFF_NKINDS; k++) {
        for (size_t i = 0; p->m[k].slot && i <= p->m[k].mask; i++)
            free(p->m[k].slot[i].key);
        free(p->m[k].slot);
    }
    free(p);
}

size_t sift_profile_count(const sift_profile_t *p, sift_diff_kind_t k)
{
    return (unsigned)k < SIFT_DIFF_NKINDS ? p->m[k].n : 0;
}

static int map_grow(map_t *m)
{
    size_t cap = m->slot ? (m->mask + 1) * 2 : 64;
    entry_t *s = calloc(cap, sizeof *s);
    if (!s)
        return SIFT_ENOMEM;
    for (size_t i = 0; m->slot && i <= m->mask; i++) {
        if (!m->slot[i].key)
            continue;
        size_t j = (size_t)m->slot[i].hash & (cap - 1);
        while (s[j].key)
            j = (j + 1) & (cap - 1);
        s[j] = m->slot[i];
    }
    free(m->slot);
    m->slot = s;
    m->mask = cap - 1;
    return 0;
}

static int count(sift_profile_t *p, sift_diff_kind_t k, const char *key, size_t len,
                 uint64_t packets, uint64_t bytes)
{
    map_t *m = &p->m[k];
    if ((m->n + 1) * 2 > (m->slot ? m->mask + 1 : 0) && map_grow(m) < 0)
        return SIFT_ENOMEM;
    uint64_t h = XXH3_64bits(key, len);
    size_t i = (size_t)h & m->mask;
    while (m->slot[i].key &&
           (m->slot[i].hash != h || strncmp(m->slot[i].key, key, len) != 0 || m->slot[i].key[len]))
        i = (i + 1) & m->mask;
    entry_t *e = &m->slot[i];
    if (!e->key) {
        if (!(e->key = malloc(len + 1)))
            return SIFT_ENOMEM;
        memcpy(e->key, key, len);
        e->key[len] = 0;
        e->hash = h;
        m->n++;
    }
    e->c.flows++;
    e->c.packets += packets;
    e->c.bytes += bytes;
    return 0;
}

static bool has_ports(uint8_t proto)
{
    return proto == 6 || proto == 17 || proto == 132;
}

/* "10.0.0.1:80", "[2001:db8::1]:80", or the address alone without ports. */
static void endpoint(const uint8_t a[16], uint16_t port, bool ports, char *buf, size_t size)
{
    char s[64];
    sift_format_addr(a, s, sizeof s);
    bool v6 = strchr(s, ':') != NULL;
    if (!ports)
        snprintf(buf, size, "%s", s);
    else
        snprintf(buf, size, v6 ? "[%s]:%u" : "%s:%u", s, port);
}

int sift_profile_add_flow(sift_profile_t *p, const sift_flow_t *f, const char *app)
{
    uint64_t pk = f->packets[0] + f->packets[1], by = f->bytes[0] + f->bytes[1];
    char a[80], b[80], buf[256], pn[24];
    const char *proto = sift_ip_proto_name(f->key.proto, pn, sizeof pn);
    bool ports = has_ports(f->key.proto);
    sift_format_addr(f->key.lo, a, sizeof a);
    int rc = count(p, SIFT_DIFF_HOST, a, strlen(a), pk, by);
    if (rc == 0 && memcmp(f->key.lo, f->key.hi, 16) != 0) {
        sift_format_addr(f->key.hi, b, sizeof b);
        rc = count(p, SIFT_DIFF_HOST, b, strlen(b), pk, by);
    }
    if (rc == 0 && ports) {
        int n = snprintf(buf, sizeof buf, "%s/%u", proto, sift_flow_port_b(f));
        rc = count(p, SIFT_DIFF_PORT, buf, (size_t)n, pk, by);
    }
    if (rc == 0 && app && *app)
        rc = count(p, SIFT_DIFF_APP, app, strlen(app), pk, by);
    if (rc == 0) {
        endpoint(f->key.lo, f->key.lo_port, ports, a, sizeof a);
        endpoint(f->key.hi, f->key.hi_port, ports, b, sizeof b);
        int n = snprintf(buf, sizeof buf, "%s %s - %s", proto, a, b);
        rc = count(p, SIFT_DIFF_FLOW, buf, (size_t)n, pk, by);
    }
    return rc;
}

/* A name as a domain key: lower case, no trailing dot, an HTTP host without its port and
 * brackets. */
static int add_domain(sift_profile_t *p, const char *s, bool http)
{
    char buf[1024];
    size_t n = sift__domain_key(s, http, buf, sizeof buf);
    return n ? count(p, SIFT_DIFF_DOMAIN, buf, n, 0, 0) : 0;
}

int sift_profile_add_row(sift_profile_t *p, const sift_meta_row_t *r)
{
    int rc = 0;
    const char *s;
    if (r->proto == SIFT_META_TLS) {
        for (int k = 0; k < 2 && rc == 0; k++)
            if (p->slot[k] != UINT8_MAX && (s = r->str[p->slot[k]]) && *s)
                rc = count(p, k ? SIFT_DIFF_JA3S : SIFT_DIFF_JA3, s, strlen(s), 0, 0);
        if (rc == 0 && p->slot[2] != UINT8_MAX && (s = r->str[p->slot[2]]))
            rc = add_domain(p, s, false);
    } else if (r->proto == SIFT_META_HTTP) {
        if (p->slot[3] != UINT8_MAX && (s = r->str[p->slot[3]]))
            rc = add_domain(p, s, true);
    } else if (r->proto == SIFT_META_DNS) {
        if (p->dns_query != UINT8_MAX && (s = r->str[p->dns_query]))
            rc = add_domain(p, s, false);
        if (rc == 0 && p->dns_more != UINT8_MAX && (s = r->str[p->dns_more])) {
            char buf[1024];
            snprintf(buf, sizeof buf, "%s", s);
            for (char *save = NULL, *t = strtok_r(buf, "\x1f", &save); t && rc == 0;
                 t = strtok_r(NULL, "\x1f", &save))
                rc = add_domain(p, t, false);
        }
    }
    return rc;
}

int sift_profile_add(sift_profile_t *p, const sift_flows_t *flows, const sift_meta_t *meta)
{
    int rc = 0;
    for (size_t i = 0; flows && i < sift_flows_count(flows) && rc == 0; i++) {
        const sift_flow_t *f = sift_flows_at(flows, i);
        char app[SIFT_FLOW_APP_NAME_MAX * 2 + 2];
        rc = sift_profile_add_flow(p, f, sift_flows_app_name(flows, f, app, sizeof app));
    }
    for (size_t i = 0; meta && i < sift_meta_count(meta) && rc == 0; i++)
        rc = sift_profile_add_row(p, sift_meta_at(meta, i));
    return rc;
}

static int cmp_entry(const void *x, const void *y)
{
    return strcmp((*(const entry_t *const *)x)->key, (*(const entry_t *const *)y)->key);
}

/* The entries of a map, sorted by key (NULL with n 0 when empty). */
static int sorted(const map_t *m, entry_t ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (m->n == 0)
        return 0;
    entry_t **v = malloc(m->n * sizeof *v);
    if (!v)
        return SIFT_ENOMEM;
    for (size_t i = 0; i <= m->mask; i++)
        if (m->slot[i].key)
            v[(*n)++] = &m->slot[i];
    qsort(v, *n, sizeof *v, cmp_entry);
    *out = v;
    return 0;
}

static bool changed(const sift_diff_counts_t *a, const sift_diff_counts_t *b, double t,
                    sift_diff_change_t *c)
{
    if (t < 0)
        return false;
    double x = (double)(a->bytes || b->bytes ? a->bytes : a->flows);
    double y = (double)(a->bytes || b->bytes ? b->bytes : b->flows);
    if (y > x * (1 + t)) {
        *c = SIFT_DIFF_MORE;
        return true;
    }
    if (y * (1 + t) < x) {
        *c = SIFT_DIFF_LESS;
        return true;
    }
    return false;
}

int sift_profile_diff(const sift_profile_t *a, const sift_profile_t *b, double threshold,
                      sift_diff_fn fn, void *user)
{
    int rc = 0;
    for (int k = 0; k < SIFT_DIFF_NKINDS && rc == 0; k++) {
        entry_t **va, **vb;
        size_t na, nb;
        rc = sorted(&a->m[k], &va, &na);
        if (rc == 0 && (rc = sorted(&b->m[k], &vb, &nb)) < 0)
            free(va);
        if (rc < 0)
            return rc;
        for (size_t i = 0, j = 0; (i < na || j < nb) && rc == 0;) {
            int c = i == na ? 1 : j == nb ? -1 : strcmp(va[i]->key, vb[j]->key);
            sift_diff_row_t r = {.kind = (sift_diff_kind_t)k};
            if (c < 0) {
                r.key = va[i]->key;
                r.a = va[i++]->c;
                r.change = SIFT_DIFF_ONLY_A;
            } else if (c > 0) {
                r.key = vb[j]->key;
                r.b = vb[j++]->c;
                r.change = SIFT_DIFF_ONLY_B;
            } else {
                r.key = va[i]->key;
                r.a = va[i++]->c;
                r.b = vb[j++]->c;
                if (!changed(&r.a, &r.b, threshold, &r.change))
                    continue;
            }
            rc = fn(user, &r);
        }
        free(va);
        free(vb);
    }
    return rc;
}
