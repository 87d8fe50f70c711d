/* Flow rows as a table, JSON lines or CSV: one printer for every command that lists flows, so
 * `capsift flows` and `capsift query` print the same rows the same way. */
#include "cli.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* An IPv6 flow shows its addresses as IPv6 even when they are IPv4-mapped. */
static const char *addr_str(char *buf, size_t size, const uint8_t a[16], int version)
{
    if (version == 6)
        return inet_ntop(AF_INET6, a, buf, (socklen_t)size) ? buf : "?";
    return sift_format_addr(a, buf, size);
}

static const char *proto_str(char *buf, size_t size, uint8_t p)
{
    switch (p) {
    case 1:
        return "icmp";
    case 2:
        return "igmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 47:
        return "gre";
    case 50:
        return "esp";
    case 58:
        return "icmpv6";
    case 132:
        return "sctp";
    default:
        snprintf(buf, size, "%u", p);
        return buf;
    }
}

/* v in decimal into buf (at least 21 bytes). printf was most of printing a flow. */
static char *u64_str(char *buf, uint64_t v)
{
    char t[20];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char *p = buf;
    while (n)
        *p++ = t[--n];
    *p = '\0';
    return buf;
}

/* Every field of a row as text. */
typedef struct cells {
    char src[48], dst[48], sport[24], dport[24], proto[8], app[72];
    char pab[24], pba[24], bab[24], bba[24], first[40], last[40], dur[40], flags[12];
} cells_t;

static void make_cells(cells_t *c, const sift_flow_row_t *r)
{
    char pbuf[8];
    addr_str(c->src, sizeof c->src, r->src, r->ip_version);
    addr_str(c->dst, sizeof c->dst, r->dst, r->ip_version);
    u64_str(c->sport, r->sport);
    u64_str(c->dport, r->dport);
    snprintf(c->proto, sizeof c->proto, "%s", proto_str(pbuf, sizeof pbuf, r->proto));
    snprintf(c->app, sizeof c->app, "%s", r->app ? r->app : "");
    u64_str(c->pab, r->packets_ab);
    u64_str(c->pba, r->packets_ba);
    u64_str(c->bab, r->bytes_ab);
    u64_str(c->bba, r->bytes_ba);
    sift_format_ts(c->first, sizeof c->first, r->first_ns, r->ts_digits);
    sift_format_ts(c->last, sizeof c->last, r->last_ns, r->ts_digits);
    sift_format_ts(c->dur, sizeof c->dur, r->last_ns - r->first_ns, r->ts_digits);
    sift_flow_tcp_flags_str((uint8_t)(r->flags_ab | r->flags_ba), c->flags, sizeof c->flags);
}

static void csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* A JSON line is built in memory and written at once: a stdio call per field was most of
 * printing a flow. */
typedef struct line {
    FILE *out;
    size_t n;
    char b[2048];
} line_t;

static void line_flush(line_t *l)
{
    fwrite(l->b, 1, l->n, l->out);
    l->n = 0;
}

static void line_put(line_t *l, const char *s)
{
    size_t k = strlen(s);
    if (l->n + k > sizeof l->b)
        line_flush(l);
    if (k > sizeof l->b) {
        fwrite(s, 1, k, l->out);
        return;
    }
    memcpy(l->b + l->n, s, k);
    l->n += k;
}

/* A JSON string: copied when nothing in it needs an escape, else through json_string. */
static void line_json(line_t *l, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (json_plain(*p))
        p++;
    if (*p == '\0' && (size_t)(p - (const unsigned char *)s) < 1024) {
        line_put(l, "\"");
        line_put(l, s);
        line_put(l, "\"");
        return;
    }
    line_flush(l);
    json_string(l->out, s);
}

static void print_json(FILE *out, const sift_flow_row_t *r, const cells_t *c)
{
    char n[24];
    line_t l = {.out = out};
    line_put(&l, "{\"src\":\"");
    line_put(&l, c->src); /* addresses need no escape */
    line_put(&l, "\",\"dst\":\"");
    line_put(&l, c->dst);
    line_put(&l, "\",\"sport\":");
    line_put(&l, c->sport);
    line_put(&l, ",\"dport\":");
    line_put(&l, c->dport);
    line_put(&l, ",\"proto\":\"");
    line_put(&l, c->proto);
    line_put(&l, "\",\"app\":");
    if (c->app[0] == '\0') /* detection off */
        line_put(&l, "null");
    else
        line_json(&l, c->app);
    line_put(&l, ",\"packets\":");
    line_put(&l, u64_str(n, r->packets_ab + r->packets_ba));
    line_put(&l, ",\"bytes\":");
    line_put(&l, u64_str(n, r->bytes_ab + r->bytes_ba));
    line_put(&l, ",\"packets_ab\":");
    line_put(&l, c->pab);
    line_put(&l, ",\"packets_ba\":");
    line_put(&l, c->pba);
    line_put(&l, ",\"bytes_ab\":");
    line_put(&l, c->bab);
    line_put(&l, ",\"bytes_ba\":");
    line_put(&l, c->bba);
    line_put(&l, ",\"first_ts\":\"");
    line_put(&l, c->first);
    line_put(&l, "\",\"last_ts\":\"");
    line_put(&l, c->last);
    line_put(&l, "\",\"tcp_flags\":\"");
    line_put(&l, c->flags);
    line_put(&l, "\",\"file\":");
    line_json(&l, r->file);
    line_put(&l, "}\n");
    line_flush(&l);
}

static void print_csv(FILE *out, const sift_flow_row_t *r, const cells_t *c)
{
    csv_field(out, r->file);
    fprintf(out, ",%s,%s,%s,%s,%s,", c->src, c->sport, c->dst, c->dport, c->proto);
    csv_field(out, c->app);
    fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%s,%s,%s,%s,%s,%s,%s,%s\n",
            r->packets_ab + r->packets_ba, r->bytes_ab + r->bytes_ba, c->pab, c->pba, c->bab,
            c->bba, c->first, c->last, c->dur, c->flags);
}

#define NCOLS 15
static const char *const col_names[NCOLS] = {"FILE",     "SRC",   "SPORT",   "DST",      "DPORT",
                                             "PROTO",    "APP",   "PKTS_AB", "PKTS_BA",  "BYTES_AB",
                                             "BYTES_BA", "FIRST", "LAST",    "DURATION", "FLAGS"};

static void cell_list(const cells_t *c, const char *file, const char *v[NCOLS])
{
    const char *tmp[NCOLS] = {file,     c->src,   c->sport, c->dst, c->dport,
                              c->proto, c->app,   c->pab,   c->pba, c->bab,
                              c->bba,   c->first, c->last,  c->dur, c->flags};
    memcpy(v, tmp, sizeof tmp);
}

static void line_spaces(line_t *l, size_t n)
{
    static const char spaces[] = "                                                                ";
    while (n > 0) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        line_put(l, spaces + (sizeof spaces - 1 - k));
        n -= k;
    }
}

/* Two passes over the rows, formatting each twice, so that memory does not grow with them: the
 * first finds the column widths, the second prints. */
static void print_table(FILE *out, size_t n, cli_row_fn get, void *user, bool show_file,
                        bool show_app)
{
    size_t w[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        w[k] = strlen(col_names[k]);
    const char *v[NCOLS];
    sift_flow_row_t r;
    char app[CLI_APP_MAX];
    cells_t c;
    for (size_t i = 0; i < n; i++) {
        get(user, i, &r, app);
        make_cells(&c, &r);
        cell_list(&c, r.file, v);
        for (int k = 0; k < NCOLS; k++) {
            size_t l = strlen(v[k]);
            if (l > w[k])
                w[k] = l;
        }
    }
    for (size_t i = 0; i <= n; i++) {
        if (i == 0) {
            memcpy(v, col_names, sizeof v);
        } else {
            get(user, i - 1, &r, app);
            make_cells(&c, &r);
            cell_list(&c, r.file, v);
        }
        bool first = true;
        line_t l = {.out = out};
        for (int k = 0; k < NCOLS; k++) {
            if ((k == 0 && !show_file) || (k == 6 && !show_app))
                continue;
            bool right = (k >= 7 && k <= 10) || k == 2 || k == 4;
            if (!first)
                line_put(&l, "  ");
            first = false;
            size_t pad = w[k] - strlen(v[k]);
            if (right)
                line_spaces(&l, pad);
            line_put(&l, v[k]);
            if (!right && k != NCOLS - 1)
                line_spaces(&l, pad);
        }
        line_put(&l, "\n");
        line_flush(&l);
    }
}

void cli_flow_rows_print(FILE *out, cli_format_t fmt, size_t n, cli_row_fn get, void *user,
                         bool show_file, bool show_app)
{
    if (fmt == CLI_FORMAT_TABLE) {
        print_table(out, n, get, user, show_file, show_app);
        return;
    }
    if (fmt == CLI_FORMAT_CSV)
        fputs("file,src,sport,dst,dport,proto,app,packets,bytes,packets_ab,packets_ba,"
              "bytes_ab,bytes_ba,first_ts,last_ts,duration,tcp_flags\n",
              out);
    sift_flow_row_t r;
    char app[CLI_APP_MAX];
    cells_t c;
    for (size_t i = 0; i < n; i++) {
        get(user, i, &r, app);
        make_cells(&c, &r);
        if (fmt == CLI_FORMAT_JSON)
            print_json(out, &r, &c);
        else
            print_csv(out, &r, &c);
    }
}

void cli_row_of_array(void *rows, size_t i, sift_flow_row_t *row, char *app)
{
    (void)app;
    *row = ((const sift_flow_row_t *)rows)[i];
}
