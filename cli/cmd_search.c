/* capsift search: the packets whose transport payloads match byte patterns (literals, hex
 * bytes, regular expressions; thousands at once), per TCP stream or packet by packet. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct search_args {
    cli_list_t exprs, files;
    bool caseless, per_packet, count, force, flows;
    uint64_t max_hits;
    const char *out;
    cli_common_t co;
} search_args_t;

#define A(field) offsetof(search_args_t, field)
static const cli_opt_t search_opts[] = {
    {.name = "regexp",
     .short_name = 'e',
     .kind = CLI_K_LIST,
     .offset = A(exprs),
     .arg = "PATTERN",
     .help = "a pattern (repeatable): text, |hex bytes|, \"quoted\"i, /regex/ism"},
    {.name = "file",
     .short_name = 'F',
     .kind = CLI_K_LIST,
     .offset = A(files),
     .arg = "FILE",
     .help = "patterns, one per line ('#' comments; repeatable)"},
    {.name = "ignore-case",
     .short_name = 'i',
     .kind = CLI_K_FLAG,
     .offset = A(caseless),
     .help = "every literal case-insensitive"},
    {.name = "per-packet",
     .kind = CLI_K_FLAG,
     .offset = A(per_packet),
     .help = "scan each packet alone (block mode), as tshark's 'tcp.payload contains' does;\n"
             "default: each TCP direction as one stream"},
    {.name = "count",
     .short_name = 'c',
     .kind = CLI_K_FLAG,
     .offset = A(count),
     .help = "per-pattern totals (packets, matches) instead of the hits"},
    {.name = "max-hits",
     .kind = CLI_K_COUNT,
     .offset = A(max_hits),
     .arg = "N",
     .help = "hits kept per file (default 1,000,000); past it they are counted",
     .min = 1,
     .max = 1000000000},
    {.name = "write",
     .short_name = 'w',
     .kind = CLI_K_STRING,
     .offset = A(out),
     .arg = "FILE",
     .help = "also write the matching packets to FILE as a capture ('-' standard output)"},
    {.name = "flows",
     .kind = CLI_K_FLAG,
     .offset = A(flows),
     .help = "-w writes every packet of the flows (5-tuples) that matched"},
    {.name = "force",
     .kind = CLI_K_FLAG,
     .offset = A(force),
     .help = "replace an existing -w FILE"},
};

const cli_command_t cli_cmd_search = {
    .name = "search",
    .summary = "packets whose payloads match byte patterns or regular expressions (Hyperscan)",
    .run = cmd_search,
    .usage = "capsift search [OPTIONS] -e PATTERN... | -F FILE... FILE|DIR|- ...\n"
             "       capsift search [OPTIONS] -e PATTERN... | -F FILE... --db FILE",
    .about = "Lists the packets whose TCP or UDP payloads match any of the patterns, one row per\n"
             "packet and pattern: file, packet number (from 1, as tshark counts), time, flow,\n"
             "the payload offset of the first match and the pattern. A pattern is text as typed,\n"
             "with bytes in hex between bars (\"GET |0d 0a|\", Snort's form; \\| is a bar), a\n"
             "\"quoted\" literal (an i after it: case-insensitive), or /regex/ with flags i s m.\n"
             "All patterns are compiled into one Hyperscan database, kept in the cache so that\n"
             "the same set is not compiled again (--no-cache: compile, keep nothing).\n\n"
             "By default each direction of a TCP flow is searched as one stream, in sequence\n"
             "order: a match split across segments is found and reported on the segment where it\n"
             "ends (its offset is negative); retransmitted bytes are not searched twice; after a\n"
             "gap the stream starts again. --per-packet searches every packet alone and splits\n"
             "large files over the workers. With --db, the payloads an index stores (capsift\n"
             "index --payloads) are searched instead, each distinct payload once, and the hits\n"
             "mapped back to their packets and flows: as --per-packet finds them.\n"
             "docs/capsift-search.md has the details.\n",
    .opts = search_opts,
    .nopts = sizeof search_opts / sizeof search_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_CSV | CLI_C_TIME | CLI_C_LIMITS |
              CLI_C_NO_CACHE | CLI_C_THREADS | CLI_C_QUIET | CLI_C_DB,
    .footer = "exit status: 0 every file read whole (with or without matches), 1 some file\n"
              "damaged or unreadable (its hits are still printed), 2 usage error or a bad\n"
              "pattern (named with its file and line), 3 failure.\n",
};

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(sift_flow_key_t));
}

static int load_patterns(const search_args_t *a, sift_ctx_t *ctx, sift_patterns_t *ps)
{
    int rc = 0;
    for (size_t i = 0; i < a->exprs.n && rc == 0; i++)
        rc = sift_patterns_add(ps, ctx, a->exprs.v[i], a->caseless, "-e", (unsigned)i + 1);
    for (size_t i = 0; i < a->files.n && rc == 0; i++)
        rc = sift_patterns_load(ps, ctx, a->files.v[i], a->caseless);
    if (rc == 0 && sift_patterns_count(ps) == 0) {
        cli_error("no pattern: give -e PATTERN or -F FILE (see 'capsift search --help')");
        return CLI_USAGE;
    }
    if (rc < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        return rc == SIFT_EPARSE || rc == SIFT_ENOENT || rc == SIFT_EIO ? CLI_USAGE : CLI_FAILED;
    }
    return CLI_OK;
}

static int compile(const search_args_t *a, sift_ctx_t *ctx, const sift_patterns_t *ps,
                   sift_matcher_t **m, sift_matcher_info_t *info)
{
    sift_cache_t *cache = NULL;
    if (cli_cache_wanted(&a->co))
        cli_cache_open(ctx, &cache); /* a cache that cannot open: compile */
    sift_matcher_opts_t mo = {.stream = !a->per_packet, .cache = cache};
    int rc = sift_matcher_compile(m, ctx, ps, &mo, info);
    sift_cache_close(cache);
    if (rc < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        return rc == SIFT_EPARSE || rc == SIFT_EINVAL ? CLI_USAGE : CLI_FAILED;
    }
    return CLI_OK;
}

/* ---- output ---- */

enum {
    C_FILE,
    C_PACKET,
    C_TS,
    C_SRC,
    C_SPORT,
    C_DST,
    C_DPORT,
    C_TRANSPORT,
    C_OFFSET,
    C_COUNT,
    C_PATTERN,
    NCOLS
};

/* The files hits name: the engine's inputs, or the index's files. */
typedef struct file_ref {
    const char *path;
    uint8_t ts_digits;
} file_ref_t;

typedef struct hits_src {
    const file_ref_t *files;
    const sift_patterns_t *ps;
    const sift_search_hit_t *const *hits;
    char a[48], b[48], pn[8];
} hits_src_t;

static void hit_values(void *user, size_t i, cli_val_t *v)
{
    hits_src_t *s = user;
    const sift_search_hit_t *h = s->hits[i];
    const file_ref_t *in = &s->files[h->input];
    const bool ip = h->ip_version != 0,
               ports = ip && (h->ip_proto == 6 || h->ip_proto == 17 || h->ip_proto == 132);
    v[C_FILE] = (cli_val_t){.s = in->path};
    v[C_PACKET] = (cli_val_t){.u = h->packet};
    v[C_TS] = (cli_val_t){.i = h->ts_ns, .digits = in->ts_digits};
    v[C_SRC] =
        (cli_val_t){.s = cli_addr_str(s->a, sizeof s->a, h->src, h->ip_version), .null = !ip};
    v[C_SPORT] = (cli_val_t){.u = h->sport, .null = !ports};
    v[C_DST] =
        (cli_val_t){.s = cli_addr_str(s->b, sizeof s->b, h->dst, h->ip_version), .null = !ip};
    v[C_DPORT] = (cli_val_t){.u = h->dport, .null = !ports};
    v[C_TRANSPORT] =
        (cli_val_t){.s = sift_ip_proto_name(h->ip_proto, s->pn, sizeof s->pn), .null = !ip};
    v[C_OFFSET] = (cli_val_t){.i = h->offset};
    v[C_COUNT] = (cli_val_t){.u = h->count};
    v[C_PATTERN] = (cli_val_t){.s = sift_patterns_at(s->ps, h->pattern)->text};
}

static int print_rows(FILE *out, const file_ref_t *files, size_t nfiles,
                      const sift_search_hit_t *const *hits, size_t n, const sift_patterns_t *ps,
                      const search_args_t *a)
{
    cli_out_t o = {.out = out,
                   .fmt = (cli_format_t)a->co.format,
                   .time = (cli_time_format_t)a->co.time_format,
                   .base = INT64_MAX};
    for (size_t i = 0; i < n; i++)
        if (hits[i]->ts_ns < o.base)
            o.base = hits[i]->ts_ns;
    cli_col_t cols[NCOLS] = {
        [C_FILE] = CLI_COL_STR("file", NULL),
        [C_PACKET] = CLI_COL_NUM("packet", "PACKET", CLI_T_ID, NULL),
        [C_TS] = CLI_COL_TIME("ts", "TIME", "time"),
        [C_SRC] = CLI_COL_STR("src", "SRC"),
        [C_SPORT] = CLI_COL_NUM("sport", "SPORT", CLI_T_ID, NULL),
        [C_DST] = CLI_COL_STR("dst", "DST"),
        [C_DPORT] = CLI_COL_NUM("dport", "DPORT", CLI_T_ID, NULL),
        [C_TRANSPORT] = CLI_COL_STR("transport", "PROTO"),
        [C_OFFSET] = CLI_COL_NUM("offset", "OFFSET", CLI_T_I64, "bytes"),
        [C_COUNT] = CLI_COL_NUM("count", NULL, CLI_T_U64, NULL),
        [C_PATTERN] = CLI_COL_STR("pattern", "PATTERN"),
    };
    if (nfiles > 1)
        cols[C_FILE].head = "FILE";
    hits_src_t src = {.files = files, .ps = ps, .hits = hits};
    return cli_rows_print(&o, cols, NCOLS, n, hit_values, &src);
}

static int print_hits(FILE *out, const sift_engine_t *e, int pass, const sift_patterns_t *ps,
                      const search_args_t *a)
{
    size_t n = 0, nin = sift_engine_ninputs(e);
    for (size_t i = 0; i < nin; i++) {
        const sift_search_t *s = sift_engine_state(e, i, pass);
        const sift_search_hit_t *h;
        n += s ? sift_search_hits(s, &h) : 0;
    }
    const sift_search_hit_t **all = malloc((n ? n : 1) * sizeof *all);
    file_ref_t *files = malloc((nin ? nin : 1) * sizeof *files);
    if (!all || !files) {
        free(all);
        free(files);
        cli_error("out of memory");
        return CLI_FAILED;
    }
    size_t k = 0;
    for (size_t i = 0; i < nin; i++) {
        const sift_input_t *in = sift_engine_input(e, i);
        files[i] = (file_ref_t){in->path, in->meta.ts_digits};
        const sift_search_t *s = sift_engine_state(e, i, pass);
        const sift_search_hit_t *h;
        size_t m = s ? sift_search_hits(s, &h) : 0;
        for (size_t j = 0; j < m; j++)
            all[k++] = &h[j];
    }
    int rc = print_rows(out, files, nin, all, n, ps, a);
    free(all);
    free(files);
    return rc;
}

enum { T_PATTERN, T_SOURCE, T_LINE, T_PACKETS, T_MATCHES, NTCOLS };

typedef struct totals_src {
    const sift_patterns_t *ps;
    const uint64_t *packets, *matches;
} totals_src_t;

static void total_values(void *user, size_t i, cli_val_t *v)
{
    const totals_src_t *t = user;
    const sift_pattern_t *p = sift_patterns_at(t->ps, i);
    v[T_PATTERN] = (cli_val_t){.s = p->text};
    v[T_SOURCE] = (cli_val_t){.s = p->source};
    v[T_LINE] = (cli_val_t){.u = p->line};
    v[T_PACKETS] = (cli_val_t){.u = t->packets[i]};
    v[T_MATCHES] = (cli_val_t){.u = t->matches[i]};
}

static int print_totals_of(FILE *out, const sift_patterns_t *ps, const uint64_t *packets,
                           const uint64_t *matches, const search_args_t *a)
{
    cli_col_t cols[NTCOLS] = {
        [T_PATTERN] = CLI_COL_STR("pattern", "PATTERN"),
        [T_SOURCE] = CLI_COL_STR("source", NULL),
        [T_LINE] = CLI_COL_NUM("line", NULL, CLI_T_ID, NULL),
        [T_PACKETS] = CLI_COL_NUM("packets", "PACKETS", CLI_T_U64, "packets"),
        [T_MATCHES] = CLI_COL_NUM("matches", "MATCHES", CLI_T_U64, NULL),
    };
    cli_out_t o = {.out = out, .fmt = (cli_format_t)a->co.format};
    totals_src_t t = {ps, packets, matches};
    return cli_rows_print(&o, cols, NTCOLS, sift_patterns_count(ps), total_values, &t);
}

static int print_totals(FILE *out, const sift_engine_t *e, int pass, const sift_patterns_t *ps,
                        const search_args_t *a)
{
    size_t np = sift_patterns_count(ps);
    uint64_t *packets = calloc(np, sizeof *packets), *matches = calloc(np, sizeof *matches);
    if (!packets || !matches) {
        free(packets);
        free(matches);
        cli_error("out of memory");
        return CLI_FAILED;
    }
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_search_t *s = sift_engine_state(e, i, pass);
        for (size_t p = 0; s && p < np; p++) {
            packets[p] += sift_search_pattern_packets(s, p);
            matches[p] += sift_search_pattern_matches(s, p);
        }
    }
    int rc = print_totals_of(out, ps, packets, matches, a);
    free(packets);
    free(matches);
    return rc;
}

/* The flow keys of every hit, sorted and each once (NULL and 0 when there are none). */
static sift_flow_key_t *hit_keys(const sift_engine_t *e, int pass, size_t *nkeys)
{
    size_t n = 0;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_search_t *s = sift_engine_state(e, i, pass);
        const sift_search_hit_t *h;
        n += s ? sift_search_hits(s, &h) : 0;
    }
    sift_flow_key_t *keys = malloc((n ? n : 1) * sizeof *keys);
    *nkeys = 0;
    if (!keys)
        return NULL;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_search_t *s = sift_engine_state(e, i, pass);
        const sift_search_hit_t *h;
        size_t m = s ? sift_search_hits(s, &h) : 0;
        for (size_t j = 0; j < m; j++) {
            sift_packet_t pkt = {.flags = SIFT_PKT_L3 | SIFT_PKT_L4,
                                 .ip_version = h[j].ip_version,
                                 .ip_proto = h[j].ip_proto,
                                 .sport = h[j].sport,
                                 .dport = h[j].dport};
            memcpy(pkt.src, h[j].src, 16);
            memcpy(pkt.dst, h[j].dst, 16);
            int dir;
            memset(&keys[*nkeys], 0, sizeof *keys);
            if (h[j].ip_version && sift_flow_key_make(&keys[*nkeys], &dir, &pkt, false))
                ++*nkeys;
        }
    }
    qsort(keys, *nkeys, sizeof *keys, key_cmp);
    size_t u = 0;
    for (size_t i = 0; i < *nkeys; i++)
        if (u == 0 || key_cmp(&keys[u - 1], &keys[i]) != 0)
            keys[u++] = keys[i];
    *nkeys = u;
    return keys;
}

/* The offsets to write from input i: its hits' packets, each once (a packet may match several
 * patterns), or with --flows what the select run found. offs receives what to free. */
static int input_offsets(const sift_engine_t *e, int pass, size_t i, sift_copy_src_t *src,
                         uint64_t **offs, sift_copy_opts_t *co)
{
    const sift_search_t *s = sift_engine_state(e, i, pass);
    const sift_search_hit_t *h;
    size_t n = s ? sift_search_hits(s, &h) : 0;
    src->path = sift_engine_input(e, i)->path;
    if (sift_engine_input(e, i)->meta.ts_digits > 6)
        co->nanoseconds = true;
    if (n == 0)
        return 0;
    if (!(*offs = malloc(n * sizeof **offs)))
        return SIFT_ENOMEM;
    for (size_t j = 0; j < n; j++) {
        if (src->n == 0 || (*offs)[src->n - 1] != h[j].file_offset)
            (*offs)[src->n++] = h[j].file_offset;
        sift_copy_opts_add_linktype(co, h[j].linktype);
    }
    src->offsets = *offs;
    return 0;
}

/* The matching packets (or, with --flows, every packet of their flows, found by a second read
 * of the inputs) as a capture, read again by offset from each file. */
static int write_hits(const search_args_t *a, sift_ctx_t *ctx, const sift_engine_t *e, int pass,
                      char **inputs, int ninputs)
{
    size_t nin = sift_engine_ninputs(e), nkeys = 0;
    sift_copy_src_t *src = calloc(nin ? nin : 1, sizeof *src);
    uint64_t **offs = calloc(nin ? nin : 1, sizeof *offs);
    sift_flow_key_t *keys = a->flows ? hit_keys(e, pass, &nkeys) : NULL;
    int rc = src && offs && (keys || !a->flows) ? 0 : SIFT_ENOMEM;
    sift_copy_opts_t co = {
        .force = a->force, .protect = (const char *const *)inputs, .nprotect = (size_t)ninputs};
    cli_run_t sel = {0};
    sift_select_config_t sc = {.keys = keys, .nkeys = nkeys};
    if (rc == 0 && a->flows) {
        cli_run_opts_t ro = {.pass = &sift_select_pass, .config = &sc};
        int crc = cli_run(&sel, &ro, &a->co);
        if (crc != CLI_OK || sift_engine_ninputs(sel.e) != nin) {
            cli_run_free(&sel);
            free(keys);
            free(offs);
            free(src);
            return crc != CLI_OK ? crc : CLI_FAILED;
        }
    }
    for (size_t i = 0; i < nin && rc == 0; i++) {
        if (!a->flows) {
            rc = input_offsets(e, pass, i, &src[i], &offs[i], &co);
            continue;
        }
        const sift_select_t *s = sift_engine_state(sel.e, i, sel.pass);
        src[i].path = sift_engine_input(e, i)->path;
        if (sift_engine_input(e, i)->meta.ts_digits > 6)
            co.nanoseconds = true;
        if (s) {
            src[i].n = sift_select_offsets(s, &src[i].offsets);
            sift_select_linktypes(s, &co);
        }
    }
    sift_copy_summary_t sum = {0};
    if (rc == 0)
        rc = sift_copy_records_file(ctx, src, nin, a->out, &co, &sum);
    cli_run_free(&sel);
    for (size_t i = 0; i < nin && offs; i++)
        free(offs[i]);
    free(offs);
    free(src);
    free(keys);
    if (rc < 0) {
        cli_error("%s", rc == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
        return CLI_FAILED;
    }
    if (!a->co.quiet)
        cli_note("wrote %" PRIu64 " packets%s to %s%s", sum.packets,
                 a->flows ? " of the matching flows" : "", a->out, sum.pcapng ? " as pcapng" : "");
    return CLI_OK;
}

static void summary(const sift_engine_t *e, int pass, const sift_matcher_info_t *info, size_t npat,
                    double secs)
{
    uint64_t packets = 0, bytes = 0, hits = 0;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_search_t *s = sift_engine_state(e, i, pass);
        if (!s)
            continue;
        uint32_t link;
        uint64_t unread = sift_search_unread(s, &link);
        if (unread) {
            char n[32];
            const char *name = sift_linktype_name(link);
            cli_note("%s: %s packets not searched: link type %u%s%s%s is not decoded",
                     sift_engine_input(e, i)->path, cli_u64_grouped(n, unread), (unsigned)link,
                     name ? " (" : "", name ? name : "", name ? ")" : "");
        }
        packets += sift_search_scanned_packets(s);
        bytes += sift_search_scanned_bytes(s);
        hits += sift_search_total_hits(s);
    }
    char n1[32], n2[32], n3[32], b[32], d[32];
    cli_note("%s hits in %s payloads (%s) with %s patterns in %.3f s; database %s in %.1f ms "
             "(%s)",
             cli_u64_grouped(n1, hits), cli_u64_grouped(n2, packets),
             cli_human_bytes(b, sizeof b, (double)bytes), cli_u64_grouped(n3, npat), secs,
             info->from_cache ? "from the cache" : "compiled", (double)info->build_ns / 1e6,
             cli_human_bytes(d, sizeof d, (double)info->db_bytes));
}

/* ---- the index's payload store (--db) ---- */

typedef struct index_hits {
    sift_search_hit_t *v;
    size_t n, cap;
    file_ref_t *files;
    size_t nfiles;
    uint64_t *packets, *matches; /* per pattern */
    uint64_t max_hits, in_file, past;
} index_hits_t;

static int keep_index_hit(void *user, const sift_index_hit_t *h)
{
    index_hits_t *x = user;
    if (x->nfiles == 0 || strcmp(x->files[x->nfiles - 1].path, h->file) != 0) {
        file_ref_t *f = realloc(x->files, (x->nfiles + 1) * sizeof *f);
        if (!f)
            return SIFT_ENOMEM;
        x->files = f;
        if (!(f[x->nfiles].path = strdup(h->file)))
            return SIFT_ENOMEM;
        f[x->nfiles++].ts_digits = h->ts_digits;
        x->in_file = 0;
    }
    x->packets[h->pattern]++;
    x->matches[h->pattern] += h->count;
    if (x->in_file++ >= x->max_hits) {
        x->past++;
        return 0;
    }
    if (x->n == x->cap) {
        size_t ncap = x->cap ? x->cap * 2 : 256;
        sift_search_hit_t *v = realloc(x->v, ncap * sizeof *v);
        if (!v)
            return SIFT_ENOMEM;
        x->v = v;
        x->cap = ncap;
    }
    sift_search_hit_t *o = &x->v[x->n++];
    *o = (sift_search_hit_t){.packet = h->packet,
                             .file_offset = h->file_offset,
                             .ts_ns = h->ts_ns,
                             .offset = h->offset,
                             .pattern = h->pattern,
                             .count = h->count,
                             .input = (uint32_t)(x->nfiles - 1),
                             .ip_version = h->ip_version,
                             .ip_proto = h->ip_proto,
                             .sport = h->sport,
                             .dport = h->dport};
    memcpy(o->src, h->src, 16);
    memcpy(o->dst, h->dst, 16);
    return 0;
}

static int search_index(const search_args_t *a, sift_ctx_t *ctx, const sift_patterns_t *ps,
                        const sift_matcher_t *m, const sift_matcher_info_t *info, double t0)
{
    sift_index_t *ix = NULL;
    int rc = cli_index_open(ctx, a->co.db, &ix);
    if (rc != CLI_OK)
        return rc;
    size_t np = sift_patterns_count(ps);
    index_hits_t x = {.max_hits = a->max_hits ? a->max_hits : SIFT_SEARCH_DEFAULT_MAX_HITS,
                      .packets = calloc(np, sizeof *x.packets),
                      .matches = calloc(np, sizeof *x.matches)};
    sift_index_search_summary_t sum;
    int err = x.packets && x.matches
                  ? sift_index_search(ix, m, (unsigned)a->co.threads, keep_index_hit, &x, &sum)
                  : SIFT_ENOMEM;
    if (err < 0) {
        cli_error("%s", err == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK) {
        if (a->count) {
            rc = print_totals_of(stdout, ps, x.packets, x.matches, a);
        } else {
            const sift_search_hit_t **all = malloc((x.n ? x.n : 1) * sizeof *all);
            for (size_t i = 0; all && i < x.n; i++)
                all[i] = &x.v[i];
            rc = all ? print_rows(stdout, x.files, x.nfiles, all, x.n, ps, a) : CLI_FAILED;
            if (!all)
                cli_error("out of memory");
            free(all);
        }
    }
    char n[6][32], b[32];
    if (rc == CLI_OK && sum.files_without)
        cli_note("%s of the index's files were indexed without --payloads: not searched",
                 cli_u64_grouped(n[0], sum.files_without));
    if (rc == CLI_OK && sum.files_older) {
        cli_error("%s of the index's files had their payloads stored by an earlier capsift, "
                  "without the packets that carry them: not searched; run capsift index "
                  "--payloads on them again",
                  cli_u64_grouped(n[0], sum.files_older));
        rc = CLI_DAMAGED;
    }
    if (rc == CLI_OK && sum.lost) {
        cli_error("%s packets with a matching payload are missing from the index (it ran out "
                  "of memory for their positions when it read them)",
                  cli_u64_grouped(n[0], sum.lost));
        rc = CLI_DAMAGED;
    }
    if (x.past && rc == CLI_OK)
        cli_note("%s hits past --max-hits per file are counted, not listed",
                 cli_u64_grouped(n[0], x.past));
    if (!a->co.quiet && err >= 0)
        cli_note("%s hits in %s distinct payloads (%s; %s matched) of %s files with %s patterns "
                 "in %.3f s; database %s in %.1f ms",
                 cli_u64_grouped(n[1], sum.hits), cli_u64_grouped(n[2], sum.payloads),
                 cli_human_bytes(b, sizeof b, (double)sum.payload_bytes),
                 cli_u64_grouped(n[3], sum.matched), cli_u64_grouped(n[4], sum.files),
                 cli_u64_grouped(n[5], np), cli_now() - t0,
                 info->from_cache ? "from the cache" : "compiled", (double)info->build_ns / 1e6);
    for (size_t i = 0; i < x.nfiles; i++)
        free((char *)(uintptr_t)x.files[i].path);
    free(x.files);
    free(x.v);
    free(x.packets);
    free(x.matches);
    sift_index_close(ix);
    return rc;
}

/* What --db cannot be given with. */
static int check_db_args(const search_args_t *a)
{
    if (a->co.nargs > 0 || a->co.reads.n > 0)
        cli_error("give either captures or --db, not both (see 'capsift search --help')");
    else if (a->co.filter)
        cli_error("-f filters the packets of captures; with --db search the index's payloads "
                  "(capsift query and capsift extract select its flows)");
    else if (a->out)
        cli_error("-w writes packets read from captures; with --db, capsift extract writes the "
                  "flows an index query selects");
    else
        return CLI_OK;
    return CLI_USAGE;
}

int cmd_search(int argc, char **argv)
{
    search_args_t a = {0};
    int prc = cli_parse(&cli_cmd_search, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    if (a.out && strcmp(a.out, "-") == 0 && isatty(STDOUT_FILENO)) {
        cli_error("will not write a capture to a terminal; redirect it or pipe it");
        return CLI_USAGE;
    }
    if (a.flows && !a.out) {
        cli_error("--flows says what -w writes: give -w FILE too");
        return CLI_USAGE;
    }
    if (a.out && strcmp(a.out, "-") == 0 && !a.co.quiet) {
        cli_error("-w - writes the capture to standard output: add -q so no rows go there too");
        return CLI_USAGE;
    }
    struct stat st;
    if (a.out && !a.force && strcmp(a.out, "-") != 0 && stat(a.out, &st) == 0 &&
        S_ISREG(st.st_mode)) { /* said before the search, not after it */
        cli_error("%s exists; nothing written (--force replaces it)", a.out);
        return CLI_FAILED;
    }
    if (a.co.db_given) {
        int drc = check_db_args(&a);
        if (drc != CLI_OK)
            return drc;
        a.per_packet = true; /* the store holds payloads, not streams */
    }
    double t0 = cli_now();
    sift_ctx_t *ctx = NULL;
    sift_patterns_t *ps = NULL;
    sift_matcher_t *m = NULL;
    sift_matcher_info_t info;
    if (sift_ctx_create(&ctx) < 0 || sift_patterns_create(&ps) < 0) {
        cli_error("out of memory");
        sift_ctx_free(ctx);
        return CLI_FAILED;
    }
    int rc = load_patterns(&a, ctx, ps);
    if (rc == CLI_OK)
        rc = compile(&a, ctx, ps, &m, &info);
    cli_run_t run = {0};
    FILE *out = stdout;
    if (rc == CLI_OK && a.co.db_given) {
        rc = search_index(&a, ctx, ps, m, &info, t0);
        sift_matcher_free(m);
        sift_patterns_free(ps);
        sift_ctx_free(ctx);
        return rc;
    }
    if (rc == CLI_OK) {
        sift_search_config_t sc = {.matcher = m, .max_hits = a.max_hits};
        sift_flows_config_t fc = {.no_app = true};
        fc.table.max_flows = cli_flow_cap(&a.co.limits, false);
        cli_run_opts_t ro = {.pass = &sift_search_pass, .config = &sc, .flows = &fc};
        rc = cli_run(&run, &ro, &a.co);
    }
    if (rc == CLI_OK) {
        if (!a.co.quiet || !a.out)
            rc = a.count ? print_totals(out, run.e, run.pass, ps, &a)
                         : print_hits(out, run.e, run.pass, ps, &a);
        if (cli_report_inputs(run.e, &a.co.limits) != CLI_OK && rc == CLI_OK)
            rc = CLI_DAMAGED;
        if (a.out && rc != CLI_FAILED) {
            char **inputs;
            int ninputs;
            if (cli_inputs(&a.co, &inputs, &ninputs) == CLI_OK) {
                int wrc = write_hits(&a, ctx, run.e, run.pass, inputs, ninputs);
                if (wrc != CLI_OK)
                    rc = wrc;
                free(inputs);
            }
        }
        if (!a.co.quiet)
            summary(run.e, run.pass, &info, sift_patterns_count(ps), cli_now() - t0);
    }
    if (fflush(out) != 0 || ferror(out)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    cli_run_free(&run);
    sift_matcher_free(m);
    sift_patterns_free(ps);
    sift_ctx_free(ctx);
    return rc;
}
