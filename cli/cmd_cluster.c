/* capsift cluster: transport payloads grouped into message types, with a first view of each
 * type's format (representative, common prefix, per-offset fields); text or JSON. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct cluster_args {
    int by; /* index into by_names */
    const char *threshold;
    uint64_t bytes, positions, min_size, port, top, seed, max_units, min_packets;
    bool exact, no_merge, members, force;
    const char *save, *lua;
    cli_common_t co;
} cluster_args_t;

static const char *const by_names[] = {"packet", "flow", NULL};

#define A(field) offsetof(cluster_args_t, field)
static const cli_opt_t cluster_opts[] = {
    {.name = "by",
     .kind = CLI_K_CHOICE,
     .offset = A(by),
     .arg = "UNIT",
     .help = "packet: each packet's payload (the default), or flow: the first --bytes of each\n"
             "direction of each flow, its payloads joined in order",
     .choices = by_names},
    {.name = "threshold",
     .kind = CLI_K_STRING,
     .offset = A(threshold),
     .arg = "J",
     .help = "Jaccard similarity of two payloads' features at which they join, above 0 up\n"
             "to 1 (default 0.9)"},
    {.name = "bytes",
     .kind = CLI_K_COUNT,
     .offset = A(bytes),
     .arg = "N",
     .help = "bytes kept of each payload (default 128)",
     .min = 1,
     .max = 65535},
    {.name = "positions",
     .kind = CLI_K_COUNT,
     .offset = A(positions),
     .arg = "N",
     .help = "leading offsets compared byte by byte in binary payloads and described per\n"
             "cluster (default 32, at most --bytes)",
     .min = 1,
     .max = 65535},
    {.name = "min-size",
     .kind = CLI_K_COUNT,
     .offset = A(min_size),
     .arg = "N",
     .help = "leave out payloads shorter than N bytes (default 1)",
     .min = 1,
     .max = UINT32_MAX},
    {.name = "port",
     .kind = CLI_K_COUNT,
     .offset = A(port),
     .arg = "N",
     .help = "only packets to or from this TCP, UDP or SCTP port",
     .min = 1,
     .max = 65535},
    {.name = "exact",
     .kind = CLI_K_FLAG,
     .offset = A(exact),
     .help = "compare every pair of payloads exactly instead of the LSH candidates (slow:\n"
             "for checking)"},
    {.name = "no-merge",
     .kind = CLI_K_FLAG,
     .offset = A(no_merge),
     .help = "keep the clusters the threshold gives: no merge by type field"},
    {.name = "members",
     .kind = CLI_K_FLAG,
     .offset = A(members),
     .help = "JSON: list each cluster's packets (file and packet number, as tshark numbers\n"
             "them)"},
    {.name = "top",
     .kind = CLI_K_COUNT,
     .offset = A(top),
     .arg = "N",
     .help = "clusters shown in text, most packets first (default 20; 0: all); JSON has all",
     .min = 0,
     .max = SIZE_MAX,
     .like = "limit"},
    {.name = "seed",
     .kind = CLI_K_COUNT,
     .offset = A(seed),
     .arg = "N",
     .help = "seed of the MinHash functions (default 0)",
     .min = 0,
     .max = UINT64_MAX},
    {.name = "max-units",
     .kind = CLI_K_COUNT,
     .offset = A(max_units),
     .arg = "N",
     .help = "distinct payloads kept per file (default 4000000); further ones are counted",
     .min = 1,
     .max = UINT32_MAX - 2},
    {.name = "save",
     .kind = CLI_K_STRING,
     .offset = A(save),
     .arg = "NAME",
     .help = "keep the clusters as signatures NAME-ID in the index (--db) for capsift\n"
             "classify and capsift signatures; NAME must be new there"},
    {.name = "min-packets",
     .kind = CLI_K_COUNT,
     .offset = A(min_packets),
     .arg = "N",
     .help = "--save and --lua: only clusters of at least N packets (default 2)",
     .min = 1,
     .max = UINT64_MAX},
    {.name = "lua",
     .kind = CLI_K_STRING,
     .offset = A(lua),
     .arg = "FILE",
     .help = "write a Wireshark Lua dissector for the clusters (named as --save, else\n"
             "cluster-ID) to FILE: tshark -X lua_script:FILE labels packets with them"},
    {.name = "force",
     .kind = CLI_K_FLAG,
     .offset = A(force),
     .help = "--lua: replace an existing FILE"},
};

const cli_command_t cli_cmd_cluster = {
    .name = "cluster",
    .summary = "group payloads into message types, with a first view of each format",
    .run = cmd_cluster,
    .usage = "capsift cluster [OPTIONS] FILE|DIR|- ...",
    .about = "Groups the transport payloads of the inputs into message types. Payloads are\n"
             "kept apart by transport, server port and direction (client or server, from the\n"
             "flows of capsift flows); exact duplicates are counted once. Binary payloads are\n"
             "compared by their bytes at the leading offsets that take few values (format and\n"
             "type fields, not data or counters) and by length, text payloads by their byte\n"
             "3-grams: MinHash sketches and LSH find candidate pairs, each is verified\n"
             "exactly, and payloads at or above the threshold join (single linkage). Then\n"
             "the type field: from each request and the response after it in its flow, the\n"
             "offset whose byte in the one and in the other determine each other best (not a\n"
             "session number: one value per flow); the clusters of a part that agree on it\n"
             "merge. Each cluster is shown with its share of its part, its type byte, a\n"
             "representative payload, the common prefix and what each leading offset holds:\n"
             "constant, varying, a counter or a length. One report over all inputs; the same\n"
             "for any -j and however the files are split.\n",
    .opts = cluster_opts,
    .nopts = sizeof cluster_opts / sizeof cluster_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_LIMITS | CLI_C_THREADS | CLI_C_DB |
              CLI_C_QUIET,
    .footer = "exit status: 0 every file read whole, 1 some file damaged or unreadable (the\n"
              "results of what was read are still printed) or a limit reached, 2 usage error\n"
              "(also a --save NAME the index has already: nothing saved), 3 failure (also a\n"
              "locked or damaged --db: nothing saved).\n",
};

void cli_hex(char *out, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

const char *cli_part_str(char *b, size_t n, sift_cluster_part_t p)
{
    char pb[16];
    snprintf(b, n, "%s/%u %s", sift_ip_proto_name(p.proto, pb, sizeof pb), p.port,
             p.dir ? "server" : "client");
    return b;
}

void cli_json_part(cli_json_t *j, sift_cluster_part_t p)
{
    char pb[16];
    cli_json_str(j, "proto", sift_ip_proto_name(p.proto, pb, sizeof pb));
    cli_json_u64(j, "port", p.port);
    cli_json_str(j, "dir", p.dir ? "server" : "client");
}

static void ascii(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
    out[n] = '\0';
}

/* "4 length(2 BE, +0) 7 varying(5) ..." for the text report. */
static void field_text(FILE *out, const sift_cluster_field_t *f, size_t n)
{
    cli_line_t l = {.out = out};
    cli_line_put(&l, "    fields:");
    size_t col = 11;
    for (size_t i = 0; i < n; i++) {
        char b[64];
        const sift_cluster_field_t *x = &f[i];
        switch (x->kind) {
        case SIFT_FIELD_CONSTANT:
            snprintf(b, sizeof b, " %u=%02x", x->offset, x->value);
            break;
        case SIFT_FIELD_VARYING:
            snprintf(b, sizeof b, " %u:%u", x->offset, x->distinct);
            break;
        case SIFT_FIELD_COUNTER:
            snprintf(b, sizeof b, " %u-%u:counter", x->offset, x->offset + x->width - 1);
            break;
        default:
            snprintf(b, sizeof b, " %u-%u:length%+lld", x->offset, x->offset + x->width - 1,
                     (long long)x->delta);
        }
        if (col + strlen(b) > 79) {
            cli_line_put(&l, "\n           ");
            col = 11;
        }
        cli_line_put(&l, b);
        col += strlen(b);
    }
    cli_line_put(&l, "\n");
    cli_line_flush(&l);
}

void cli_json_fields(cli_json_t *j, const sift_cluster_field_t *f, size_t n)
{
    static const char *const kind_names[] = {"constant", "varying", "counter", "length"};
    char b[8];
    cli_json_open(j, "fields", '[');
    for (size_t i = 0; i < n; i++) {
        const sift_cluster_field_t *x = &f[i];
        cli_json_open(j, NULL, '{');
        cli_json_u64(j, "offset", x->offset);
        cli_json_u64(j, "width", x->width);
        cli_json_str(j, "kind", kind_names[x->kind]);
        if (x->kind == SIFT_FIELD_CONSTANT) {
            cli_hex(b, &x->value, 1);
            cli_json_str(j, "value", b);
        } else {
            cli_json_u64(j, "distinct", x->distinct);
        }
        if (x->kind == SIFT_FIELD_LENGTH)
            cli_json_i64(j, "delta", x->delta);
        if (x->width > 1)
            cli_json_str(j, "endian", x->little ? "little" : "big");
        cli_json_close(j);
    }
    cli_json_close(j);
}

static int members_json(cli_json_t *j, const sift_cluster_set_t *set, const sift_clustering_t *c,
                        size_t id, char *const *paths)
{
    const uint32_t *units;
    size_t n, cap = 0;
    sift_clustering_units(c, id, &units, &n);
    sift_cluster_member_t *m = NULL;
    cli_json_open(j, "packets", '[');
    for (size_t i = 0; i < n; i++) {
        size_t k = sift_cluster_set_members(set, units[i], NULL, 0);
        if (k > cap) {
            sift_cluster_member_t *nm = realloc(m, k * sizeof *m);
            if (!nm) {
                free(m);
                return CLI_FAILED;
            }
            m = nm;
            cap = k;
        }
        sift_cluster_set_members(set, units[i], m, k);
        for (size_t x = 0; x < k; x++) {
            cli_json_open(j, NULL, '[');
            cli_json_str(j, NULL, paths[m[x].input]);
            cli_json_u64(j, NULL, m[x].packet);
            cli_json_close(j);
        }
    }
    cli_json_close(j);
    free(m);
    return CLI_OK;
}

static int show_cluster(FILE *out, const cluster_args_t *a, const sift_cluster_set_t *set,
                        const sift_clustering_t *c, size_t id, char *const *paths)
{
    const sift_cluster_info_t *x = sift_clustering_get(c, id);
    sift_cluster_unit_t rep;
    sift_cluster_set_unit(set, x->rep, &rep);
    sift_cluster_field_t *f;
    int64_t nf = sift_clustering_fields(c, id, &f);
    if (nf < 0)
        return CLI_FAILED;
    char pb[16], hexb[2 * 65536 + 1], asc[65536 + 1];
    const char *proto = sift_ip_proto_name(x->part.proto, pb, sizeof pb);
    const char *dir = x->part.dir ? "server" : "client";
    int rc = CLI_OK;
    if (a->co.format == CLI_FORMAT_JSON) {
        cli_json_t j;
        cli_json_begin(&j, out);
        cli_json_u64(&j, "id", x->id);
        cli_json_part(&j, x->part);
        cli_json_u64(&j, "size", x->packets);
        cli_json_f64(&j, "share", x->part_share, 4);
        cli_json_u64(&j, "distinct", x->units);
        cli_json_u64(&j, "continuations", x->continuations);
        cli_json_u64(&j, "flows", x->flows);
        cli_json_u64(&j, "min_len", x->min_len);
        cli_json_u64(&j, "max_len", x->max_len);
        cli_json_bool(&j, "text", x->text);
        if (x->type_offset >= 0) {
            cli_json_u64(&j, "type_offset", (uint64_t)x->type_offset);
            char tb[3];
            cli_hex(tb, &x->type, 1);
            cli_json_str(&j, "type", tb);
        } else {
            cli_json_null(&j, "type_offset");
            cli_json_null(&j, "type");
        }
        cli_hex(hexb, rep.data, x->prefix);
        cli_json_str(&j, "prefix", hexb);
        cli_hex(hexb, rep.data, rep.kept);
        cli_json_str(&j, "example", hexb);
        ascii(asc, rep.data, rep.kept);
        cli_json_str(&j, "example_ascii", asc);
        cli_json_fields(&j, f, (size_t)nf);
        if (a->members)
            rc = members_json(&j, set, c, id, paths);
        cli_json_end(&j);
    } else {
        fprintf(out,
                "#%u %s/%u %s: %llu packets (%.1f%% of its part), %llu distinct, %llu flows, "
                "%llu-%llu bytes\n",
                x->id, proto, x->part.port, dir, (unsigned long long)x->packets,
                100.0 * x->part_share, (unsigned long long)x->units, (unsigned long long)x->flows,
                (unsigned long long)x->min_len, (unsigned long long)x->max_len);
        if (x->continuations)
            fprintf(out,
                    "    of the distinct, %llu are segments that continue its messages in their "
                    "flows\n",
                    (unsigned long long)x->continuations);
        if (x->type_offset >= 0)
            fprintf(out, "    type:    %02x at offset %d (the type field of its part)\n", x->type,
                    x->type_offset);
        size_t shown = rep.kept < 32 ? rep.kept : 32;
        cli_hex(hexb, rep.data, shown);
        ascii(asc, rep.data, shown);
        fprintf(out, "    example: %s%s  %s\n", hexb, rep.kept > shown ? ".." : "", asc);
        size_t pre = x->prefix < 32 ? x->prefix : 32;
        cli_hex(hexb, rep.data, pre);
        fprintf(out, "    prefix:  %s%s (%u bytes)\n", pre ? hexb : "-",
                x->prefix > pre ? ".." : "", x->prefix);
        field_text(out, f, (size_t)nf);
    }
    free(f);
    return rc;
}

static int report(FILE *out, const cluster_args_t *a, const sift_cluster_set_t *set,
                  const sift_clustering_t *c, char *const *paths, uint64_t packets)
{
    sift_clustering_stats_t st;
    sift_clustering_stats(c, &st);
    size_t n = sift_clustering_count(c);
    if (a->co.format == CLI_FORMAT_JSON) {
        cli_json_t j;
        cli_json_begin(&j, out);
        cli_json_u64(&j, "packets", packets);
        cli_json_u64(&j, "distinct", st.units);
        cli_json_u64(&j, "parts", st.parts);
        cli_json_u64(&j, "clusters", n);
        cli_json_bool(&j, "exact", a->exact);
        cli_json_u64(&j, "candidates", st.candidates);
        cli_json_u64(&j, "joined", st.joined);
        cli_json_u64(&j, "merged", st.merged);
        cli_json_u64(&j, "continued", st.continued);
        cli_json_u64(&j, "bands", st.bands);
        cli_json_u64(&j, "rows", st.rows);
        cli_json_end(&j);
    } else {
        fprintf(out, "%llu packets with payloads, %llu distinct in %llu parts: %zu clusters\n",
                (unsigned long long)packets, (unsigned long long)st.units,
                (unsigned long long)st.parts, n);
    }
    size_t shown = a->co.format == CLI_FORMAT_JSON || a->top == 0 || a->top > n ? n : a->top;
    for (size_t i = 0; i < shown; i++) {
        int rc = show_cluster(out, a, set, c, i, paths);
        if (rc != CLI_OK) {
            cli_error("out of memory for the report");
            return rc;
        }
    }
    if (shown < n)
        fprintf(out, "(%zu more clusters; --top 0 shows all)\n", n - shown);
    return CLI_OK;
}

int cli_cluster_collect(const cli_run_t *run, uint32_t max_bytes, sift_cluster_set_t **set,
                        uint64_t *packets)
{
    *packets = 0;
    int err = sift_cluster_set_create(set, max_bytes);
    for (size_t i = 0; err == 0 && i < sift_engine_ninputs(run->e); i++) {
        const void *st = sift_engine_state(run->e, i, run->pass);
        if (!st)
            continue;
        sift_cluster_summary_t s;
        sift_cluster_summary(st, &s);
        *packets += s.packets;
        err = sift_cluster_set_add_state(*set, st, (uint32_t)i);
    }
    if (err == 0)
        return CLI_OK;
    cli_error("collecting the payloads failed: %s", sift_strerror(err));
    return CLI_FAILED;
}

/* --db without captures: the index's payload store is the input. */
typedef struct from_index {
    const sift_cluster_config_t *cfg;
    sift_cluster_set_t *set;
    char **paths; /* by file_index */
    size_t npaths;
    struct last_msg {
        uint32_t unit; /* UINT32_MAX: none yet */
        uint8_t dir;
    } * last; /* by flow id: the flow's last message, for request/response pairs */
    size_t nlast;
    uint64_t packets;
} from_index_t;

static int index_packet(void *user, const sift_index_payload_t *p)
{
    from_index_t *x = user;
    const sift_cluster_config_t *cfg = x->cfg;
    if (p->len < cfg->min_size ||
        (cfg->port && p->server_port != cfg->port && p->client_port != cfg->port))
        return 0;
    if (p->file_index >= x->npaths) {
        char **v = realloc(x->paths, (p->file_index + 1) * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        x->paths = v;
        while (x->npaths <= p->file_index)
            x->paths[x->npaths++] = NULL;
    }
    if (!x->paths[p->file_index] && !(x->paths[p->file_index] = strdup(p->file)))
        return SIFT_ENOMEM;
    sift_cluster_part_t part = {
        .proto = p->ip_proto, .dir = p->from_initiator ? 0 : 1, .port = p->server_port};
    sift_cluster_member_t m = {.input = p->file_index, .packet = cfg->members ? p->packet : 0};
    size_t unit;
    int rc = sift_cluster_set_add_packet(x->set, part, p->hash, p->data, p->kept, p->len,
                                         (uint64_t)p->flow_id, m, &unit);
    if (rc < 0 || p->flow_id < 0)
        return rc;
    x->packets++;
    size_t f = (size_t)p->flow_id;
    if (f >= x->nlast) {
        size_t n = f + 1 > 2 * x->nlast ? f + 1 : 2 * x->nlast;
        struct last_msg *v = realloc(x->last, n * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        for (size_t i = x->nlast; i < n; i++)
            v[i] = (struct last_msg){.unit = UINT32_MAX};
        x->last = v;
        x->nlast = n;
    }
    struct last_msg *l = &x->last[f];
    if (l->unit != UINT32_MAX && l->dir == 0 && part.dir == 1) /* a request, then its response */
        rc = sift_cluster_set_pair(x->set, l->unit, unit, 1);
    else if (l->unit != UINT32_MAX && l->dir == part.dir) /* the sender's next segment */
        rc = sift_cluster_set_follow(x->set, l->unit, unit, 1);
    *l = (struct last_msg){.unit = (uint32_t)unit, .dir = part.dir};
    return rc;
}

/* The set from the index at a->co.db: CLI_OK, or the exit code after a message. */
static int collect_index(const cluster_args_t *a, const sift_cluster_config_t *cfg, from_index_t *x)
{
    sift_ctx_t *ctx;
    if (sift_ctx_create(&ctx) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    sift_index_t *ix = NULL;
    int rc = cli_index_open(ctx, a->co.db, &ix);
    x->cfg = cfg;
    int e = rc == CLI_OK ? sift_cluster_set_create(&x->set, cfg->max_bytes) : 0;
    sift_index_search_summary_t sum;
    if (rc == CLI_OK && e == 0)
        e = sift_index_payloads(ix, cfg->max_bytes ? cfg->max_bytes : SIFT_CLUSTER_DEFAULT_BYTES,
                                index_packet, x, &sum);
    if (e < 0) {
        cli_error("%s", e == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
        rc = CLI_FAILED;
    } else if (rc == CLI_OK && sum.files_without + sum.files_older) {
        cli_error("%s: %llu of its files were indexed without their payloads' packets; run "
                  "capsift index --payloads on them",
                  a->co.db, (unsigned long long)(sum.files_without + sum.files_older));
        rc = sum.files ? CLI_DAMAGED : CLI_USAGE;
    } else if (rc == CLI_OK && sum.lost) {
        cli_error("%s: the index lost the flow positions of %llu packets (it ran out of memory "
                  "indexing them): they are left out",
                  a->co.db, (unsigned long long)sum.lost);
        rc = CLI_DAMAGED;
    }
    sift_index_close(ix);
    sift_ctx_free(ctx);
    return rc;
}

/* --save and --lua: the dissector's file, then the index, opened before anything is read (a
 * refused path creates no index; a taken name or a refused path costs no reading). */
typedef struct keep {
    sift_ctx_t *ctx;
    sift_index_t *ix;
    sift_outfile_t *lua;
} keep_t;

static int keep_begin(const cluster_args_t *a, bool from_db, keep_t *k)
{
    if (!a->save && !a->lua)
        return CLI_OK;
    if (sift_ctx_create(&k->ctx) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    int rc = CLI_OK;
    if (a->lua) {
        char **inputs = NULL;
        int ninputs = 0;
        if (!from_db)
            rc = cli_inputs(&a->co, &inputs, &ninputs);
        char **protect = rc == CLI_OK ? malloc(((size_t)ninputs + 1) * sizeof *protect) : NULL;
        if (rc == CLI_OK && !protect) {
            cli_error("out of memory");
            rc = CLI_FAILED;
        }
        if (rc == CLI_OK) { /* never an input, nor the index */
            if (ninputs)
                memcpy(protect, inputs, (size_t)ninputs * sizeof *protect);
            protect[ninputs] = (char *)(uintptr_t)a->co.db;
            rc = cli_outfile_begin(k->ctx, a->lua, a->force, protect, (size_t)ninputs + 1, &k->lua);
        }
        free(protect);
        free(inputs);
    }
    if (rc == CLI_OK && a->save) {
        sift_signatures_t *s = NULL;
        rc = cli_index_open_as(k->ctx, a->co.db, CLI_DB_CREATE, &k->ix);
        int e = rc == CLI_OK ? sift_signatures_create(&s) : 0;
        if (rc == CLI_OK && e == 0)
            e = sift_index_signatures(k->ix, a->save, s);
        if (e < 0) {
            cli_error("%s", e == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(k->ctx));
            rc = CLI_FAILED;
        } else if (rc == CLI_OK && sift_signatures_count(s)) {
            cli_error("%s: signatures named %s exist already; save under another name, or "
                      "delete them first (capsift signatures delete %s)",
                      a->co.db, a->save, a->save);
            rc = CLI_USAGE;
        }
        sift_signatures_free(s);
    }
    return rc;
}

/* The clusters as signatures: saved, written as Lua; then what keep_begin opened is closed. */
static int keep_end(const cluster_args_t *a, keep_t *k, const sift_cluster_set_t *set,
                    const sift_clustering_t *c, int rc)
{
    sift_signatures_t *s = NULL;
    if (c && rc <= CLI_DAMAGED && (a->save || a->lua)) {
        int64_t n = sift_signatures_create(&s);
        if (n == 0)
            n = sift_signatures_learn(s, set, c, a->save ? a->save : "cluster",
                                      a->min_packets ? a->min_packets : 2, (int64_t)time(NULL));
        if (n < 0) {
            cli_error("making the signatures failed: %s", sift_strerror((int)n));
            rc = CLI_FAILED;
        }
        int e = rc <= CLI_DAMAGED && k->ix ? sift_index_save_signatures(k->ix, s) : 0;
        if (e < 0) {
            cli_error("%s", sift_ctx_errmsg(k->ctx));
            rc = e == SIFT_EEXIST ? CLI_USAGE : CLI_FAILED;
        } else if (rc <= CLI_DAMAGED && k->ix && !a->co.quiet) {
            fprintf(stderr, "capsift: saved %lld signatures as %s in %s\n", (long long)n, a->save,
                    a->co.db);
        }
        if (rc <= CLI_DAMAGED && k->lua) /* a write error stays on the stream for the commit */
            (void)sift_signatures_lua(s, SIFT_SIG_DEFAULT_MIN_SIMILARITY,
                                      sift_outfile_stream(k->lua));
    }
    if (k->lua) {
        int r = cli_outfile_end(k->ctx, k->lua, rc <= CLI_DAMAGED ? CLI_OK : rc);
        rc = r > rc ? r : rc;
    }
    sift_index_close(k->ix);
    sift_ctx_free(k->ctx);
    sift_signatures_free(s);
    return rc;
}

int cmd_cluster(int argc, char **argv)
{
    cluster_args_t a = {.top = 20};
    int prc = cli_parse(&cli_cmd_cluster, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    double th = SIFT_CLUSTER_DEFAULT_THRESHOLD;
    if (a.threshold && !cli_parse_real("threshold", a.threshold, 1e-9, 1, &th))
        return CLI_USAGE;
    sift_cluster_config_t cfg = {.max_bytes = (uint32_t)a.bytes,
                                 .min_size = (uint32_t)a.min_size,
                                 .port = (uint16_t)a.port,
                                 .members = a.members,
                                 .by_flow = a.by == 1,
                                 .max_units = a.max_units};
    if (a.positions && a.bytes && a.positions > a.bytes) {
        cli_error("--positions %llu is more than the %llu bytes kept (--bytes)",
                  (unsigned long long)a.positions, (unsigned long long)a.bytes);
        return CLI_USAGE;
    }
    sift_flows_config_t flows = {.no_app = true};
    flows.table.max_flows = cli_flow_cap(&a.co.limits, false);
    /* --db and no capture: the index's payload store is the input */
    bool from_db = a.co.db_given && a.co.nargs == 0 && a.co.reads.n == 0;
    if (from_db && (cfg.by_flow || a.co.filter)) {
        cli_error("%s reads captures: with --db alone the index's payloads are clustered",
                  cfg.by_flow ? "--by flow" : "--filter");
        return CLI_USAGE;
    }
    keep_t k = {0};
    int rc = keep_begin(&a, from_db, &k);
    if (rc != CLI_OK)
        return keep_end(&a, &k, NULL, NULL, rc);
    cli_run_t run = {0};
    from_index_t x = {0};
    sift_cluster_set_t *set = NULL;
    sift_clustering_t *c = NULL;
    uint64_t packets = 0;
    char **paths = NULL;
    if (from_db) {
        rc = collect_index(&a, &cfg, &x);
        set = x.set;
        packets = x.packets;
        paths = x.paths;
    } else {
        cli_run_opts_t ro = {.pass = &sift_cluster_pass, .config = &cfg, .flows = &flows};
        rc = cli_run(&run, &ro, &a.co);
        if (rc == CLI_OK)
            rc = cli_report_inputs(run.e, &a.co.limits);
        if (rc < CLI_USAGE && cli_cluster_collect(&run, cfg.max_bytes, &set, &packets) != CLI_OK)
            rc = CLI_FAILED;
        size_t n = run.e ? sift_engine_ninputs(run.e) : 0;
        if (rc < CLI_USAGE && !(paths = calloc(n ? n : 1, sizeof *paths))) {
            cli_error("out of memory");
            rc = CLI_FAILED;
        }
        for (size_t i = 0; paths && i < n; i++)
            paths[i] = (char *)(uintptr_t)sift_engine_input(run.e, i)->path;
    }
    if (rc < CLI_USAGE) {
        sift_cluster_opts_t o = {.threshold = th,
                                 .positions = (uint32_t)a.positions,
                                 .seed = a.seed,
                                 .threads = (unsigned)a.co.threads,
                                 .exact = a.exact,
                                 .no_merge = a.no_merge};
        int err = sift_cluster_run(set, &o, &c);
        if (err < 0) {
            cli_error("clustering failed: %s", sift_strerror(err));
            rc = CLI_FAILED;
        } else {
            int r = report(stdout, &a, set, c, paths, packets);
            rc = r > rc ? r : rc;
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    rc = keep_end(&a, &k, set, c, rc);
    sift_clustering_free(c);
    sift_cluster_set_free(set);
    cli_run_free(&run);
    for (size_t i = 0; i < x.npaths; i++)
        free(x.paths[i]);
    if (!from_db)
        free(paths);
    free(x.paths);
    free(x.last);
    return rc;
}
