/* Flow rows: the flow columns and their values, for every command that lists flows, so
 * `capsift flows` and `capsift query` print the same rows the same way (cli_rows_print). */
#include "cli.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

enum {
    C_FILE,
    C_SRC,
    C_SPORT,
    C_DST,
    C_DPORT,
    C_PROTO,
    C_VLAN,
    C_APP,
    C_PACKETS,
    C_BYTES,
    C_PAB,
    C_PBA,
    C_BAB,
    C_BBA,
    C_FIRST,
    C_LAST,
    C_DUR,
    C_FLAGS,
    C_STATE,
    C_HISTORY,
    NCOLS
};

static const cli_col_t flow_cols[NCOLS] = {
    [C_FILE] = CLI_COL_STR("file", "FILE"),
    [C_SRC] = CLI_COL_STR("src", "SRC"),
    [C_SPORT] = CLI_COL_NUM("sport", "SPORT", CLI_T_ID, NULL),
    [C_DST] = CLI_COL_STR("dst", "DST"),
    [C_DPORT] = CLI_COL_NUM("dport", "DPORT", CLI_T_ID, NULL),
    [C_PROTO] = CLI_COL_STR("proto", "PROTO"),
    [C_VLAN] = CLI_COL_NUM("vlan", "VLAN", CLI_T_ID, NULL),
    [C_APP] = CLI_COL_STR("app", "APP"),
    [C_PACKETS] = CLI_COL_NUM("packets", NULL, CLI_T_U64, "packets"),
    [C_BYTES] = CLI_COL_NUM("bytes", NULL, CLI_T_U64, "bytes"),
    [C_PAB] = CLI_COL_NUM("packets_ab", "PKTS_AB", CLI_T_U64, "packets"),
    [C_PBA] = CLI_COL_NUM("packets_ba", "PKTS_BA", CLI_T_U64, "packets"),
    [C_BAB] = CLI_COL_NUM("bytes_ab", "BYTES_AB", CLI_T_U64, "bytes"),
    [C_BBA] = CLI_COL_NUM("bytes_ba", "BYTES_BA", CLI_T_U64, "bytes"),
    [C_FIRST] = CLI_COL_TIME("first_ts", "FIRST", "first_time"),
    [C_LAST] = CLI_COL_TIME("last_ts", "LAST", "last_time"),
    [C_DUR] = CLI_COL_NUM("duration", "DURATION", CLI_T_DUR, "s"),
    [C_FLAGS] = CLI_COL_STR("tcp_flags", "FLAGS"),
    [C_STATE] = CLI_COL_STR("state", "STATE"),
    [C_HISTORY] = CLI_COL_STR("history", "HISTORY"),
};

/* A layer-2 flow's protocol: the EtherType's or LLC SAP's name as a word ("arp", "lldp",
 * "llc-stp"), else its number ("0x88b5", "llc-0x83"). */
static const char *l2_proto_str(char *buf, size_t size, unsigned kind, uint16_t type)
{
    const char *name = kind ? sift_llc_sap_name((uint8_t)type) : sift_ethertype_name(type);
    size_t n = (size_t)snprintf(buf, size, "%s", kind ? "llc-" : "");
    if (!name) {
        snprintf(buf + n, size - n, kind ? "0x%02x" : "0x%04x", type);
        return buf;
    }
    for (const char *c = name; *c && *c != '(' && n + 1 < size; c++)
        if (*c == ' ' || *c == '-' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
            (*c >= '0' && *c <= '9'))
            buf[n++] = *c == ' ' ? '-' : (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    while (n > 0 && buf[n - 1] == '-')
        n--;
    buf[n] = '\0';
    return buf;
}

/* An IPv6 flow shows its addresses as IPv6 even when they are IPv4-mapped; a layer-2 flow's
 * are MAC addresses. */
const char *cli_addr_str(char *buf, size_t size, const uint8_t a[16], int version)
{
    if (version == 0) {
        snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
        return buf;
    }
    if (version == 6)
        return inet_ntop(AF_INET6, a, buf, (socklen_t)size) ? buf : "?";
    return sift_format_addr(a, buf, size);
}

typedef struct flow_src {
    cli_flow_fn get;
    void *user;
    bool app;
    sift_flow_row_t r;
    char app_buf[CLI_APP_MAX], src[48], dst[48], proto[32], flags[12];
} flow_src_t;

static void flow_values(void *user, size_t i, cli_val_t *v)
{
    flow_src_t *f = user;
    sift_flow_row_t *r = &f->r;
    f->get(f->user, i, r, f->app_buf);
    uint8_t d = r->ts_digits;
    v[C_FILE] = (cli_val_t){.s = r->file};
    v[C_SRC] = (cli_val_t){.s = cli_addr_str(f->src, sizeof f->src, r->src, r->ip_version)};
    const bool l2 = r->ip_version == 0;
    v[C_SPORT] = (cli_val_t){.u = r->sport, .null = l2};
    v[C_DST] = (cli_val_t){.s = cli_addr_str(f->dst, sizeof f->dst, r->dst, r->ip_version)};
    v[C_DPORT] = (cli_val_t){.u = r->dport, .null = l2};
    v[C_PROTO] = (cli_val_t){.s = l2 ? l2_proto_str(f->proto, sizeof f->proto, r->proto, r->sport)
                                     : sift_ip_proto_name(r->proto, f->proto, sizeof f->proto)};
    v[C_VLAN] = (cli_val_t){.u = r->vlan, .null = r->vlan == 0};
    v[C_APP] = (cli_val_t){.s = r->app, .null = !f->app || !r->app || !r->app[0]};
    v[C_PACKETS] = (cli_val_t){.u = r->packets_ab + r->packets_ba};
    v[C_BYTES] = (cli_val_t){.u = r->bytes_ab + r->bytes_ba};
    v[C_PAB] = (cli_val_t){.u = r->packets_ab};
    v[C_PBA] = (cli_val_t){.u = r->packets_ba};
    v[C_BAB] = (cli_val_t){.u = r->bytes_ab};
    v[C_BBA] = (cli_val_t){.u = r->bytes_ba};
    v[C_FIRST] = (cli_val_t){.i = r->first_ns, .digits = d};
    v[C_LAST] = (cli_val_t){.i = r->last_ns, .digits = d};
    v[C_DUR] = (cli_val_t){.i = r->last_ns - r->first_ns, .digits = d};
    sift_flow_tcp_flags_str((uint8_t)(r->flags_ab | r->flags_ba), f->flags, sizeof f->flags);
    v[C_FLAGS] = (cli_val_t){.s = f->flags, .null = r->proto != 6};
    v[C_STATE] = (cli_val_t){.s = r->state, .null = !r->state[0] || l2};
    v[C_HISTORY] = (cli_val_t){.s = r->history, .null = !r->history[0]};
}

int cli_flow_rows_print(const cli_out_t *o, size_t n, cli_flow_fn get, void *user, bool app)
{
    flow_src_t f = {.get = get, .user = user, .app = app};
    return cli_rows_print(o, flow_cols, NCOLS, n, flow_values, &f);
}

void cli_row_of_array(void *rows, size_t i, sift_flow_row_t *row, char *app)
{
    (void)app;
    *row = ((const sift_flow_row_t *)rows)[i];
}

/* "120 ARP", "3 EtherType 0x88b5", "26 of link type 129 (ARCNET_BSD), not decoded" */
static void unplaced_str(const sift_unplaced_t *u, char *buf, size_t size)
{
    char n[32];
    cli_u64_grouped(n, u->packets);
    const char *name = NULL;
    switch (u->kind) {
    case SIFT_UNPLACED_ETHERTYPE:
        if (u->value == 0)
            snprintf(buf, size, "%s of no known network layer", n);
        else if ((name = sift_ethertype_name((uint16_t)u->value)))
            snprintf(buf, size, "%s %s", n, name);
        else
            snprintf(buf, size, "%s EtherType 0x%04x", n, (unsigned)u->value);
        return;
    case SIFT_UNPLACED_LLC:
        if ((name = sift_llc_sap_name((uint8_t)u->value)))
            snprintf(buf, size, "%s %s (LLC)", n, name);
        else
            snprintf(buf, size, "%s LLC SAP 0x%02x", n, (unsigned)u->value);
        return;
    case SIFT_UNPLACED_LINKTYPE:
        name = sift_linktype_name(u->value);
        snprintf(buf, size, "%s of link type %u%s%s%s, not decoded", n, (unsigned)u->value,
                 name ? " (" : "", name ? name : "", name ? ")" : "");
        return;
    case SIFT_UNPLACED_WLAN:
        snprintf(buf, size, "%s 802.11 %s", n,
                 u->value ? "encrypted data" : "management or control");
        return;
    case SIFT_UNPLACED_DAMAGED:
        snprintf(buf, size, "%s cut or damaged before the IP layer", n);
        return;
    default:
        snprintf(buf, size, "%s of other kinds", n);
        return;
    }
}

static int cmp_unplaced(const void *x, const void *y)
{
    const sift_unplaced_t *a = x, *b = y;
    if (a->packets != b->packets)
        return a->packets < b->packets ? 1 : -1; /* most first */
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return (a->value > b->value) - (a->value < b->value);
}

void cli_report_unplaced(const char *path, const sift_flows_t *s)
{
    sift_unplaced_t u[SIFT_FLOWS_UNPLACED_MAX + 1];
    size_t n = sift_flows_unplaced(s, u, sizeof u / sizeof u[0]);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += u[i].packets;
    if (sum == 0)
        return;
    qsort(u, n, sizeof u[0], cmp_unplaced);
    char line[1024], total[32];
    cli_u64_grouped(total, sum);
    int len = snprintf(line, sizeof line, "%s: %s %s in no flow (no IP layer): ", path, total,
                       sum == 1 ? "packet is" : "packets are");
    for (size_t i = 0; i < n && len > 0 && (size_t)len < sizeof line; i++) {
        char one[160];
        unplaced_str(&u[i], one, sizeof one);
        len += snprintf(line + len, sizeof line - (size_t)len, "%s%s", i ? ", " : "", one);
    }
    cli_note("%s", line);
}
