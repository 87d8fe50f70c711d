/* Flow rows: the flow columns and their values, for every command that lists flows, so
 * `capsift flows` and `capsift query` print the same rows the same way (cli_rows_print). */
#include "cli.h"

#include <arpa/inet.h>
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
};

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

/* An IPv6 flow shows its addresses as IPv6 even when they are IPv4-mapped. */
static const char *addr_str(char *buf, size_t size, const uint8_t a[16], int version)
{
    if (version == 6)
        return inet_ntop(AF_INET6, a, buf, (socklen_t)size) ? buf : "?";
    return sift_format_addr(a, buf, size);
}

typedef struct flow_src {
    cli_flow_fn get;
    void *user;
    bool app;
    sift_flow_row_t r;
    char app_buf[CLI_APP_MAX], src[48], dst[48], proto[8], flags[12];
} flow_src_t;

static void flow_values(void *user, size_t i, cli_val_t *v)
{
    flow_src_t *f = user;
    sift_flow_row_t *r = &f->r;
    f->get(f->user, i, r, f->app_buf);
    uint8_t d = r->ts_digits;
    v[C_FILE] = (cli_val_t){.s = r->file};
    v[C_SRC] = (cli_val_t){.s = addr_str(f->src, sizeof f->src, r->src, r->ip_version)};
    v[C_SPORT] = (cli_val_t){.u = r->sport};
    v[C_DST] = (cli_val_t){.s = addr_str(f->dst, sizeof f->dst, r->dst, r->ip_version)};
    v[C_DPORT] = (cli_val_t){.u = r->dport};
    v[C_PROTO] = (cli_val_t){.s = proto_str(f->proto, sizeof f->proto, r->proto)};
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
