/* Indicator lists: parsing the three formats, and the lookup structures (Bloom filters in front
 * of exact open-addressing tables for addresses and names; sorted ranges for CIDRs). */
#include "common/internal.h"

#include <capsift/bloom.h>
#include <capsift/ioc.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define NAME_MAX_LEN 253

typedef struct range {
    uint8_t lo[16], hi[16];
    uint32_t id;
    uint8_t version; /* an IPv6 range that holds ::ffff:0:0/96 still matches IPv6 only */
} range_t;

/* An exact set of keys (an indicator's address or name), by indicator id + 1 (0: empty). */
typedef struct table {
    uint32_t *slot;
    size_t mask;
} table_t;

struct sift_iocs {
    sift_ioc_t *v;
    size_t n, cap;
    size_t kinds[3], skipped;
    sift_bloom_t *addr_bloom, *name_bloom;
    table_t addrs, names;
    range_t *ranges;
    size_t nranges;
    uint8_t (*maxhi)[16]; /* the largest hi of ranges[0 .. i] */
    char *arena;          /* read back from the cache: the indicators' strings are in it */
};

int sift_iocs_create(sift_iocs_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : SIFT_ENOMEM;
}

void sift_iocs_free(sift_iocs_t *l)
{
    if (!l)
        return;
    for (size_t i = 0; !l->arena && i < l->n; i++) {
        free((void *)(uintptr_t)l->v[i].text);
        free((void *)(uintptr_t)l->v[i].source);
        free((void *)(uintptr_t)l->v[i].name);
    }
    free(l->arena);
    free(l->v);
    sift_bloom_free(l->addr_bloom);
    sift_bloom_free(l->name_bloom);
    free(l->addrs.slot);
    free(l->names.slot);
    free(l->ranges);
    free(l->maxhi);
    free(l);
}

size_t sift_iocs_count(const sift_iocs_t *l)
{
    return l->n;
}

const sift_ioc_t *sift_iocs_at(const sift_iocs_t *l, size_t i)
{
    return i < l->n ? &l->v[i] : NULL;
}

size_t sift_iocs_count_kind(const sift_iocs_t *l, sift_ioc_kind_t k)
{
    return (unsigned)k < 3 ? l->kinds[k] : 0;
}

size_t sift_iocs_skipped(const sift_iocs_t *l)
{
    return l->skipped;
}

/* ---- parsing one indicator ---- */

/* A domain name into out (lower case, no trailing dot, no leading "*."): its length, or 0 with
 * why. */
static size_t parse_name(const char *s, char *out, const char **why)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '*' && s[1] == '.') {
        s += 2;
        n -= 2;
    }
    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n > NAME_MAX_LEN) {
        *why = n ? "longer than a domain name can be (253 bytes)" : "empty";
        return 0;
    }
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0) {
                *why = "an empty label (two dots, or a leading dot)";
                return 0;
            }
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            label++;
        } else if (c >= 'A' && c <= 'Z') {
            c = (unsigned char)(c + 32);
            label++;
        } else {
            *why = "not an address, a CIDR range or a domain name";
            return 0;
        }
        if (label > 63) {
            *why = "a label longer than 63 bytes";
            return 0;
        }
        out[i] = (char)c;
    }
    out[n] = 0;
    return n;
}

int sift_iocs_add(sift_iocs_t *l, sift_ctx_t *ctx, const char *text, const char *source,
                  unsigned line)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        sift_ioc_t *v = realloc(l->v, ncap * sizeof *v);
        if (!v)
            return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
        l->v = v;
        l->cap = ncap;
    }
    sift_ioc_t o = {.line = line};
    const char *why = NULL;
    char buf[NAME_MAX_LEN + 8], *name = NULL;
    const char *slash = strchr(text, '/');
    if (slash) {
        char a[64];
        size_t alen = (size_t)(slash - text);
        char *end;
        errno = 0;
        long bits = strtol(slash + 1, &end, 10);
        if (alen >= sizeof a || slash[1] < '0' || slash[1] > '9' || *end || errno)
            why = "a CIDR range is ADDRESS/BITS";
        if (!why) {
            memcpy(a, text, alen);
            a[alen] = 0;
            o.version = (uint8_t)sift_parse_addr(a, o.addr);
            if (!o.version)
                why = "the address of the range is not an IPv4 or IPv6 address";
            else if (bits < 0 || bits > (o.version == 4 ? 32 : 128))
                why = o.version == 4 ? "an IPv4 prefix is 0 to 32 bits"
                                     : "an IPv6 prefix is 0 to 128 bits";
        }
        if (!why) {
            o.kind = SIFT_IOC_CIDR;
            o.bits = (uint8_t)(o.version == 4 ? 96 + bits : bits);
            for (unsigned b = o.bits; b < 128; b++) /* the range's first address */
                o.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
        }
    } else if ((o.version = (uint8_t)sift_parse_addr(text, o.addr)) != 0) {
        o.kind = SIFT_IOC_ADDR;
    } else if (parse_name(text, buf, &why)) {
        o.kind = SIFT_IOC_NAME;
        if (!(name = strdup(buf)))
            return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    }
    if (why) {
        free(name);
        return sift__ctx_error(ctx, SIFT_EPARSE, "%s:%u: %s: %s", source, line, text, why);
    }
    o.name = name;
    o.text = strdup(text);
    o.source = strdup(source ? source : "");
    if (!o.text || !o.source) {
        free(name);
        free((void *)(uintptr_t)o.text);
        free((void *)(uintptr_t)o.source);
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    }
    l->kinds[o.kind]++;
    l->v[l->n++] = o;
    return 0;
}

/* ---- the three formats ---- */

/* The line at *p, terminated in place; *p moves to the next (NULL after the last). */
static char *next_line(char **p)
{
    char *s = *p, *nl = s ? strchr(s, '\n') : NULL;
    if (nl)
        *nl = 0;
    *p = nl ? nl + 1 : NULL;
    return s;
}

/* Text: the first word of each line; '#' starts a comment. */
static int load_text(sift_iocs_t *l, sift_ctx_t *ctx, const char *path, char *data)
{
    unsigned line = 0;
    for (char *s; (s = next_line(&data));) {
        line++;
        s += strspn(s, " \t\r");
        if (*s == '#' || *s == 0)
            continue;
        s[strcspn(s, " \t\r#")] = 0;
        int rc = sift_iocs_add(l, ctx, s, path, line);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The fields of a CSV line (RFC 4180 quotes), in place: up to max, their count. */
static size_t csv_fields(char *s, char **f, size_t max)
{
    size_t n = 0;
    while (n < max) {
        char *o = s;
        f[n++] = o;
        if (*s == '"') {
            s++;
            for (; *s; s++) {
                if (*s == '"' && s[1] == '"')
                    *o++ = *s++;
                else if (*s == '"') {
                    s++;
                    break;
                } else
                    *o++ = *s;
            }
            s += strcspn(s, ",");
        } else {
            size_t k = strcspn(s, ",");
            memmove(o, s, k);
            o += k;
            s += k;
        }
        char next = *s;
        *o = 0;
        if (next != ',')
            break;
        s++;
    }
    for (size_t i = 0; i < n; i++) { /* trim */
        f[i] += strspn(f[i], " \t");
        size_t k = strlen(f[i]);
        while (k && (f[i][k - 1] == ' ' || f[i][k - 1] == '\t' || f[i][k - 1] == '\r'))
            f[i][--k] = 0;
    }
    return n;
}

static bool header_name(const char *s)
{
    static const char *const names[] = {"indicator", "ioc",    "value", "ip",
                                        "address",   "domain", "host",  "indicator_value"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i]) == 0)
            return true;
    return false;
}

/* CSV: the column a header names, else the first; a first line that holds no indicator in
 * that column is the header. */
static int load_csv(sift_iocs_t *l, sift_ctx_t *ctx, const char *path, char *data)
{
    unsigned line = 0;
    size_t col = 0;
    bool first = true;
    char *f[64];
    for (char *s; (s = next_line(&data));) {
        line++;
        if (s[strspn(s, " \t\r")] == 0 || s[strspn(s, " \t")] == '#')
            continue;
        size_t n = csv_fields(s, f, 64);
        if (first) {
            first = false;
            size_t k = 0;
            while (k < n && !header_name(f[k]))
                k++;
            uint8_t a[16];
            if (k < n || !(sift_parse_addr(f[0], a) || strchr(f[0], '.'))) {
                col = k < n ? k : 0;
                continue;
            }
        }
        if (col >= n || f[col][0] == 0)
            continue;
        int rc = sift_iocs_add(l, ctx, f[col], path, line);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A JSON string at *p (after its quote) decoded into out (ASCII; other characters as '?'),
 * *p moved past it; false when it never ends. */
static bool json_string(const char **p, const char *end, char *out, size_t size)
{
    const char *s = *p;
    size_t o = 0;
    for (; s < end && *s != '"'; s++) {
        char c = *s;
        if (c == '\\' && s + 1 < end) {
            c = *++s;
            if (c == 'u') {
                unsigned v = 0;
                for (int k = 0; k < 4 && s + 1 < end; k++) {
                    char h = *++s;
                    v = v * 16 + (unsigned)(h >= 'a'   ? h - 'a' + 10
                                            : h >= 'A' ? h - 'A' + 10
                                                       : h - '0');
                }
                c = v < 0x80 ? (char)v : '?';
            } else if (c == 'n' || c == 't' || c == 'r' || c == 'b' || c == 'f') {
                c = ' ';
            }
        }
        if (o + 1 < size)
            out[o++] = c;
    }
    out[o] = 0;
    if (s >= end)
        return false;
    *p = s + 1;
    return true;
}

/* The comparisons of a STIX pattern this list takes: TYPE:value = 'V' for the address and
 * name types. Returns how many were added, or a negative code. */
static int stix_pattern(sift_iocs_t *l, sift_ctx_t *ctx, const char *path, unsigned line,
                        const char *pat)
{
    static const char *const types[] = {"ipv4-addr:value", "ipv6-addr:value", "domain-name:value"};
    int added = 0;
    for (const char *s = pat; *s; s++) {
        size_t t = 0;
        while (t < 3 && strncmp(s, types[t], strlen(types[t])) != 0)
            t++;
        if (t == 3)
            continue;
        const char *q = s + strlen(types[t]);
        q += strspn(q, " ");
        if (*q != '=')
            continue;
        q++;
        q += strspn(q, " ");
        if (*q != '\'')
            continue;
        const char *close = strchr(q + 1, '\'');
        if (!close)
            break;
        char v[NAME_MAX_LEN + 8];
        size_t n = (size_t)(close - q - 1);
        if (n >= sizeof v)
            return sift__ctx_error(ctx, SIFT_EPARSE, "%s:%u: a value too long for an indicator",
                                   path, line);
        memcpy(v, q + 1, n);
        v[n] = 0;
        int rc = sift_iocs_add(l, ctx, v, path, line);
        if (rc < 0)
            return rc;
        added++;
        s = close;
    }
    return added;
}

/* STIX 2.1: every "pattern" string of the file (the bundle's structure is not needed). */
static int load_stix(sift_iocs_t *l, sift_ctx_t *ctx, const char *path, const char *data,
                     size_t len)
{
    const char *p = data, *end = data + len;
    unsigned line = 1;
    char key[32] = "", *val = malloc(len + 1);
    bool after_key = false;
    int rc = val ? 0 : sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    while (rc == 0 && p < end) {
        char c = *p++;
        if (c == '\n') {
            line++;
        } else if (c == '"') {
            unsigned at = line;
            if (!json_string(&p, end, val, len + 1)) {
                rc = sift__ctx_error(ctx, SIFT_EPARSE,
                                     "%s:%u: a string that never ends: not "
                                     "a STIX bundle",
                                     path, at);
                break;
            }
            const char *q = p;
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
                q++;
            if (q < end && *q == ':' && !after_key) {
                snprintf(key, sizeof key, "%s", val);
                after_key = true;
                continue;
            }
            if (after_key && strcmp(key, "pattern") == 0) {
                int n = stix_pattern(l, ctx, path, at, val);
                if (n < 0)
                    rc = n;
                else if (n == 0)
                    l->skipped++;
            }
        }
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ':')
            after_key = false;
    }
    free(val);
    return rc;
}

/* The whole of a list ("-": standard input) into *data (NUL-terminated, malloc'd). */
static int read_list(sift_ctx_t *ctx, const char *path, char **out, size_t *outlen)
{
    *out = NULL;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return sift__ctx_error(ctx, errno == ENOENT ? SIFT_ENOENT : SIFT_EIO, "%s: %s", path,
                               strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *data = malloc(cap + 1);
    int rc = data ? 0 : SIFT_ENOMEM;
    while (rc == 0) {
        if (len == cap) {
            char *n = realloc(data, cap * 2 + 1);
            if (!n) {
                rc = SIFT_ENOMEM;
                break;
            }
            data = n;
            cap *= 2;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = sift__ctx_error(ctx, SIFT_EIO, "%s: read error", path);
    else if (rc == SIFT_ENOMEM)
        sift__ctx_error(ctx, rc, "out of memory");
    if (f != stdin)
        fclose(f);
    if (rc < 0) {
        free(data);
        return rc;
    }
    data[len] = 0;
    *out = data;
    *outlen = len;
    return 0;
}

/* A list's indicators, told apart by its first bytes and name. */
static int parse_list(sift_iocs_t *l, sift_ctx_t *ctx, const char *path, char *data, size_t len)
{
    if (memchr(data, 0, len))
        return sift__ctx_error(ctx, SIFT_EPARSE, "%s: a NUL byte: not a list of indicators", path);
    const char *first = data + strspn(data, " \t\r\n\xef\xbb\xbf");
    size_t plen = strlen(path);
    if (*first == '{' || *first == '[')
        return load_stix(l, ctx, path, data, len);
    if (plen > 4 && strcasecmp(path + plen - 4, ".csv") == 0)
        return load_csv(l, ctx, path, data);
    return load_text(l, ctx, path, data);
}

int sift_iocs_load(sift_iocs_t *l, sift_ctx_t *ctx, const char *path)
{
    char *data;
    size_t len;
    int rc = read_list(ctx, path, &data, &len);
    if (rc == 0)
        rc = parse_list(l, ctx, path, data, len);
    free(data);
    return rc;
}

/* ---- lookups ---- */

static const void *key_of(const sift_ioc_t *o, size_t *len)
{
    if (o->kind == SIFT_IOC_NAME) {
        *len = strlen(o->name);
        return o->name;
    }
    *len = 16;
    return o->addr;
}

static int table_init(table_t *t, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap <<= 1;
    t->slot = calloc(cap, sizeof *t->slot);
    t->mask = cap - 1;
    return t->slot ? 0 : SIFT_ENOMEM;
}

static long table_find(const sift_iocs_t *l, const table_t *t, uint64_t h, const void *key,
                       size_t len)
{
    for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint32_t id = t->slot[i];
        if (id == 0)
            return -1;
        size_t klen;
        const void *k = key_of(&l->v[id - 1], &klen);
        if (klen == len && memcmp(k, key, len) == 0)
            return (long)id - 1;
    }
}

static void table_add(const sift_iocs_t *l, table_t *t, uint64_t h, uint32_t id)
{
    size_t len;
    const void *key = key_of(&l->v[id], &len);
    if (table_find(l, t, h, key, len) >= 0)
        return; /* given twice: the first stays */
    size_t i = (size_t)h & t->mask;
    while (t->slot[i])
        i = (i + 1) & t->mask;
    t->slot[i] = id + 1;
}

static int range_cmp(const void *a, const void *b)
{
    const range_t *x = a, *y = b;
    int c = memcmp(x->lo, y->lo, 16);
    if (c == 0)
        c = memcmp(y->hi, x->hi, 16); /* wider first */
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

int sift_iocs_build(sift_iocs_t *l, sift_ctx_t *ctx, double fp_rate)
{
    if (fp_rate <= 0 || fp_rate >= 1)
        fp_rate = 0.01;
    size_t na = l->kinds[SIFT_IOC_ADDR], nn = l->kinds[SIFT_IOC_NAME];
    l->nranges = 0;
    int rc = sift_bloom_create(&l->addr_bloom, na, fp_rate, 0x5eed);
    if (rc == 0)
        rc = sift_bloom_create(&l->name_bloom, nn, fp_rate, 0x5eed);
    if (rc == 0)
        rc = table_init(&l->addrs, na);
    if (rc == 0)
        rc = table_init(&l->names, nn);
    if (rc == 0 && l->kinds[SIFT_IOC_CIDR]) {
        l->ranges = malloc(l->kinds[SIFT_IOC_CIDR] * sizeof *l->ranges);
        l->maxhi = malloc(l->kinds[SIFT_IOC_CIDR] * sizeof *l->maxhi);
        rc = l->ranges && l->maxhi ? 0 : SIFT_ENOMEM;
    }
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        const sift_ioc_t *o = &l->v[i];
        if (o->kind == SIFT_IOC_CIDR) {
            range_t *r = &l->ranges[l->nranges++];
            memcpy(r->lo, o->addr, 16);
            memcpy(r->hi, o->addr, 16);
            for (unsigned b = o->bits; b < 128; b++)
                r->hi[b / 8] |= (uint8_t)(0x80u >> (b % 8));
            r->id = (uint32_t)i;
            r->version = o->version;
            continue;
        }
        size_t len;
        const void *key = key_of(o, &len);
        sift_bloom_t *bf = o->kind == SIFT_IOC_NAME ? l->name_bloom : l->addr_bloom;
        uint64_t h = sift_bloom_hash(bf, key, len);
        sift_bloom_add_hash(bf, h);
        table_add(l, o->kind == SIFT_IOC_NAME ? &l->names : &l->addrs, h, (uint32_t)i);
    }
    if (rc == 0 && l->nranges) {
        qsort(l->ranges, l->nranges, sizeof *l->ranges, range_cmp);
        for (size_t i = 0; i < l->nranges; i++) {
            const uint8_t *prev = i ? l->maxhi[i - 1] : l->ranges[0].hi;
            memcpy(l->maxhi[i], memcmp(prev, l->ranges[i].hi, 16) > 0 ? prev : l->ranges[i].hi, 16);
        }
    }
    if (rc < 0)
        return sift__ctx_error(ctx, rc, "out of memory");
    return 0;
}

static bool v4_mapped(const uint8_t a[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, prefix, 12) == 0;
}

static long find_range(const sift_iocs_t *l, const uint8_t a[16])
{
    const uint8_t version = v4_mapped(a) ? 4 : 6;
    size_t lo = 0, hi = l->nranges; /* the first range starting after a */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (memcmp(l->ranges[mid].lo, a, 16) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* walking back, the first range that holds a is the most specific (CIDRs nest) */
    for (size_t j = lo; j-- > 0;) {
        if (memcmp(l->maxhi[j], a, 16) < 0)
            break;
        if (memcmp(l->ranges[j].hi, a, 16) >= 0 && l->ranges[j].version == version)
            return l->ranges[j].id;
    }
    return -1;
}

long sift_iocs_find_addr(const sift_iocs_t *l, const uint8_t addr[16])
{
    if (l->addr_bloom) {
        uint64_t h = sift_bloom_hash(l->addr_bloom, addr, 16);
        if (sift_bloom_contains_hash(l->addr_bloom, h)) {
            long id = table_find(l, &l->addrs, h, addr, 16);
            if (id >= 0)
                return id;
        }
    }
    return l->nranges ? find_range(l, addr) : -1;
}

long sift_iocs_find_name(const sift_iocs_t *l, const char *name, size_t n)
{
    if (!l->name_bloom || n == 0 || n > NAME_MAX_LEN + 1)
        return -1;
    char key[NAME_MAX_LEN + 2];
    for (size_t i = 0; i < n; i++)
        key[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] + 32) : name[i];
    if (key[n - 1] == '.')
        n--;
    for (size_t start = 0; start < n;) { /* the name, then each domain it lies in */
        const char *k = key + start;
        size_t len = n - start;
        uint64_t h = sift_bloom_hash(l->name_bloom, k, len);
        if (sift_bloom_contains_hash(l->name_bloom, h)) {
            long id = table_find(l, &l->names, h, k, len);
            if (id >= 0)
                return id;
        }
        const char *dot = memchr(k, '.', len);
        if (!dot)
            break;
        start += (size_t)(dot - k) + 1;
    }
    return -1;
}

/* ---- the built lists in the cache ---- */

/* The form kept in the cache (native byte order: the key names the platform): a header with a
 * checksum of the rest, the indicators as fixed records with their strings after them, the
 * two tables' slots, the ranges, and the two filters as sift_bloom_serialize writes them. */
#define IOC_FORM "capsift-iocs/1"

typedef struct ioc_head {
    char magic[16];
    uint64_t n, kinds[3], skipped, nranges, strings, addr_slots, name_slots, abloom, nbloom;
    uint64_t sum; /* XXH3-64 of what follows the header: a damaged entry is not read back */
} ioc_head_t;

typedef struct ioc_rec {
    uint32_t text, name, source, line; /* string offsets (name UINT32_MAX: none) */
    uint8_t kind, version, bits, pad;
    uint8_t addr[16];
} ioc_rec_t;

/* Appends a string to the strings area, or finds the last one again (the sources). */
static uint32_t put_str(char *area, size_t *used, const char *str, uint32_t *last,
                        const char **lastp)
{
    if (lastp && *lastp && strcmp(*lastp, str) == 0)
        return *last;
    uint32_t off = (uint32_t)*used;
    size_t n = strlen(str) + 1;
    memcpy(area + *used, str, n);
    *used += n;
    if (lastp) {
        *lastp = str;
        *last = off;
    }
    return off;
}

static int save(const sift_iocs_t *l, void **out, size_t *outlen)
{
    size_t strings = 0;
    for (size_t i = 0; i < l->n; i++)
        strings += strlen(l->v[i].text) + 1 + strlen(l->v[i].source) + 1 +
                   (l->v[i].name ? strlen(l->v[i].name) + 1 : 0);
    if (strings > UINT32_MAX)
        return SIFT_ENOMEM; /* no entry: built each time */
    ioc_head_t h = {.n = l->n,
                    .kinds = {l->kinds[0], l->kinds[1], l->kinds[2]},
                    .skipped = l->skipped,
                    .nranges = l->nranges,
                    .addr_slots = l->addrs.mask + 1,
                    .name_slots = l->names.mask + 1,
                    .abloom = sift_bloom_serialized_size(l->addr_bloom),
                    .nbloom = sift_bloom_serialized_size(l->name_bloom)};
    memcpy(h.magic, IOC_FORM, sizeof IOC_FORM);
    size_t total = sizeof h + l->n * sizeof(ioc_rec_t) + strings +
                   (h.addr_slots + h.name_slots) * sizeof(uint32_t) +
                   l->nranges * (sizeof(range_t) + 16) + h.abloom + h.nbloom;
    char *b = malloc(total);
    if (!b)
        return SIFT_ENOMEM;
    ioc_rec_t *rec = (ioc_rec_t *)(void *)(b + sizeof h);
    char *area = (char *)(rec + l->n);
    size_t used = 0;
    uint32_t last = 0;
    const char *lastp = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const sift_ioc_t *o = &l->v[i];
        rec[i] =
            (ioc_rec_t){.line = o->line, .kind = o->kind, .version = o->version, .bits = o->bits};
        memcpy(rec[i].addr, o->addr, 16);
        rec[i].text = put_str(area, &used, o->text, NULL, NULL);
        rec[i].source = put_str(area, &used, o->source, &last, &lastp);
        rec[i].name = o->name ? put_str(area, &used, o->name, NULL, NULL) : UINT32_MAX;
    }
    h.strings = used;
    char *p = area + used;
    memcpy(p, l->addrs.slot, h.addr_slots * sizeof(uint32_t));
    p += h.addr_slots * sizeof(uint32_t);
    memcpy(p, l->names.slot, h.name_slots * sizeof(uint32_t));
    p += h.name_slots * sizeof(uint32_t);
    if (l->nranges) {
        memcpy(p, l->ranges, l->nranges * sizeof(range_t));
        p += l->nranges * sizeof(range_t);
        memcpy(p, l->maxhi, l->nranges * 16);
        p += l->nranges * 16;
    }
    sift_bloom_serialize(l->addr_bloom, p, h.abloom);
    p += h.abloom;
    sift_bloom_serialize(l->name_bloom, p, h.nbloom);
    p += h.nbloom;
    h.sum = XXH3_64bits(b + sizeof h, (size_t)(p - b) - sizeof h);
    memcpy(b, &h, sizeof h);
    *out = b;
    *outlen = (size_t)(p - b);
    return 0;
}

static bool pow2(uint64_t v)
{
    return v >= 16 && (v & (v - 1)) == 0;
}

/* Reads a saved form back into l (new), checking every size, offset and id against it: false
 * when it is not one, whole (l is then left for the caller to free and build again). */
static bool restore(sift_iocs_t *l, const void *blob, size_t len)
{
    ioc_head_t h;
    if (len < sizeof h)
        return false;
    memcpy(&h, blob, sizeof h);
    if (memcmp(h.magic, IOC_FORM, sizeof IOC_FORM) != 0 || h.n > UINT32_MAX ||
        h.kinds[0] + h.kinds[1] + h.kinds[2] != h.n || h.nranges != h.kinds[SIFT_IOC_CIDR] ||
        !pow2(h.addr_slots) || !pow2(h.name_slots) || h.strings > UINT32_MAX ||
        h.addr_slots > len || h.name_slots > len)
        return false;
    size_t need = sizeof h + h.n * sizeof(ioc_rec_t) + h.strings +
                  (h.addr_slots + h.name_slots) * sizeof(uint32_t) +
                  h.nranges * (sizeof(range_t) + 16) + h.abloom + h.nbloom;
    if (h.n > len / sizeof(ioc_rec_t) || h.nranges > len || need != len ||
        XXH3_64bits((const char *)blob + sizeof h, len - sizeof h) != h.sum)
        return false;
    const char *base = blob;
    const ioc_rec_t *rec = (const void *)(base + sizeof h);
    const char *area = (const char *)(rec + h.n);
    if (h.strings && area[h.strings - 1] != 0)
        return false;
    l->arena = malloc(h.strings ? h.strings : 1);
    l->v = malloc((h.n ? h.n : 1) * sizeof *l->v);
    if (!l->arena || !l->v)
        return false;
    memcpy(l->arena, area, h.strings);
    l->n = l->cap = h.n;
    for (size_t i = 0; i < h.n; i++) {
        ioc_rec_t r;
        memcpy(&r, &rec[i], sizeof r);
        if (r.text >= h.strings || r.source >= h.strings ||
            (r.name != UINT32_MAX && r.name >= h.strings) || r.kind > SIFT_IOC_NAME ||
            (r.kind == SIFT_IOC_NAME) != (r.name != UINT32_MAX))
            return false;
        l->v[i] = (sift_ioc_t){.text = l->arena + r.text,
                               .source = l->arena + r.source,
                               .line = r.line,
                               .kind = r.kind,
                               .version = r.version,
                               .bits = r.bits,
                               .name = r.name == UINT32_MAX ? NULL : l->arena + r.name};
        memcpy(l->v[i].addr, r.addr, 16);
    }
    for (int k = 0; k < 3; k++)
        l->kinds[k] = h.kinds[k];
    l->skipped = h.skipped;
    const char *p = area + h.strings;
    table_t *tables[2] = {&l->addrs, &l->names};
    const uint64_t slots[2] = {h.addr_slots, h.name_slots};
    for (int t = 0; t < 2; t++) {
        if (!(tables[t]->slot = malloc(slots[t] * sizeof(uint32_t))))
            return false;
        memcpy(tables[t]->slot, p, slots[t] * sizeof(uint32_t));
        tables[t]->mask = slots[t] - 1;
        p += slots[t] * sizeof(uint32_t);
        for (uint64_t i = 0; i < slots[t]; i++)
            if (tables[t]->slot[i] > h.n)
                return false;
    }
    if (h.nranges) {
        l->ranges = malloc(h.nranges * sizeof *l->ranges);
        l->maxhi = malloc(h.nranges * sizeof *l->maxhi);
        if (!l->ranges || !l->maxhi)
            return false;
        memcpy(l->ranges, p, h.nranges * sizeof *l->ranges);
        p += h.nranges * sizeof *l->ranges;
        memcpy(l->maxhi, p, h.nranges * 16);
        p += h.nranges * 16;
        for (size_t i = 0; i < h.nranges; i++)
            if (l->ranges[i].id >= h.n)
                return false;
    }
    l->nranges = h.nranges;
    if (sift_bloom_load(&l->addr_bloom, p, h.abloom) < 0 ||
        sift_bloom_load(&l->name_bloom, p + h.abloom, h.nbloom) < 0)
        return false;
    return true;
}

int sift_iocs_load_all(sift_iocs_t **out, sift_ctx_t *ctx, const char *const *paths, size_t n,
                       double fp_rate, sift_cache_t *cache, bool *from_cache)
{
    *out = NULL;
    if (from_cache)
        *from_cache = false;
    char **data = calloc(n ? n : 1, sizeof *data);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    sift_cache_keyb_t kb;
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, IOC_FORM);
    sift_cache_keyb_u64(&kb, sizeof(void *) << 8 | (uint64_t)(*(const uint8_t *)&(uint16_t){1}));
    sift_cache_keyb_u64(&kb, (uint64_t)(fp_rate * 1e12));
    int rc = data && lens ? 0 : SIFT_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = read_list(ctx, paths[i], &data[i], &lens[i]);
        if (rc == 0) {
            XXH128_hash_t hh = XXH3_128bits(data[i], lens[i]);
            sift_cache_keyb_str(&kb, paths[i]);
            sift_cache_keyb_bytes(&kb, &hh, sizeof hh);
        }
    }
    sift_cache_key_t key;
    if (rc == 0)
        rc = sift_cache_keyb_finish(&kb, &key);
    else
        sift_cache_keyb_release(&kb);
    sift_iocs_t *l = NULL;
    const void *val;
    size_t vlen;
    if (rc == 0 && cache && sift_cache_get(cache, key.bytes, sizeof key.bytes, &val, &vlen) == 0) {
        if ((rc = sift_iocs_create(&l)) == 0 && restore(l, val, vlen)) {
            if (from_cache)
                *from_cache = true;
        } else { /* not what this form holds: built again, and replaced */
            sift_iocs_free(l);
            l = NULL;
        }
    }
    if (rc == 0 && !l) {
        rc = sift_iocs_create(&l);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = parse_list(l, ctx, paths[i], data[i], lens[i]);
        if (rc == 0)
            rc = sift_iocs_build(l, ctx, fp_rate);
        void *blob;
        size_t blen;
        if (rc == 0 && cache && save(l, &blob, &blen) == 0) {
            sift_cache_put(cache, key.bytes, sizeof key.bytes, blob, blen);
            free(blob);
        }
    }
    for (size_t i = 0; data && i < n; i++)
        free(data[i]);
    free(data);
    free(lens);
    if (rc < 0) {
        if (rc == SIFT_ENOMEM)
            sift__ctx_error(ctx, rc, "out of memory");
        sift_iocs_free(l);
        return rc;
    }
    *out = l;
    return 0;
}
