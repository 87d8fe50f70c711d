/* capsift classify: the packets (or flows) of captures labelled with the message-type
 * signatures of an index, what matched none, and the signatures' usage updated. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct classify_args {
    int by;
    const char *set, *min_similarity;
    bool members, no_update;
    uint64_t top;
    cli_common_t co;
} classify_args_t;

static const char *const by_names[] = {"packet", "flow", NULL};

#define A(field) offsetof(classify_args_t, field)
static const cli_opt_t classify_opts[] = {
    {.name = "set",
     .kind = CLI_K_STRING,
     .offset = A(set),
     .arg = "NAME",
     .help = "only the signatures of this set (or this one signature); default all"},
    {.name = "min-similarity",
     .kind = CLI_K_STRING,
     .offset = A(min_similarity),
     .arg = "S",
     .help = "the share of a signature's constant bytes a payload needs to be labelled\n"
             "with it, 0 to 1 (default 0.75)"},
    {.name = "by",
     .kind = CLI_K_CHOICE,
     .offset = A(by),
     .arg = "UNIT",
     .help = "packet: each packet's payload (the default), or flow: the first bytes of each\n"
             "direction of each flow, as capsift cluster --by flow",
     .choices = by_names},
    {.name = "members",
     .kind = CLI_K_FLAG,
     .offset = A(members),
     .help = "JSON: list the packets of each signature and of what matched none (file,\n"
             "packet number as tshark numbers them, similarity)"},
    {.name = "no-update",
     .kind = CLI_K_FLAG,
     .offset = A(no_update),
     .help = "leave the signatures' usage, last-seen time and confidence as they are (the\n"
             "index is opened read-only)"},
    {.name = "top",
     .kind = CLI_K_COUNT,
     .offset = A(top),
     .arg = "N",
     .help = "signatures shown in text, most packets first (default 20; 0: all); JSON has\n"
             "all",
     .min = 0,
     .max = SIZE_MAX,
     .like = "limit"},
};

const cli_command_t cli_cmd_classify = {
    .name = "classify",
    .summary = "label packets with the message types learnt by cluster --save",
    .run = cmd_classify,
    .usage = "capsift classify [OPTIONS] [--db FILE] FILE|DIR|- ...",
    .about = "Labels each transport payload of the inputs with a signature of the index\n"
             "(capsift cluster --save): among the signatures of its transport, server port and\n"
             "direction that have its type byte, the one whose constant bytes it has the\n"
             "largest share of, when that share reaches --min-similarity. A TCP payload\n"
             "without the header its part's signatures share is a later segment of a message\n"
             "and gets the signature of the message it continues in its stream. Reports each\n"
             "signature's packets, distinct payloads and flows, and per part what no signature\n"
             "labelled, with an example. Then each signature's usage (packets labelled),\n"
             "last-seen time and confidence are updated in the index, in one transaction: the\n"
             "confidence of a signature whose part carried traffic rises a fifth of the way to\n"
             "1 when it labelled some, and falls by a fifth when it labelled none. The same\n"
             "for any -j and however the files are split; capsift signatures lua writes a\n"
             "Wireshark dissector that labels packets the same way.\n",
    .opts = classify_opts,
    .nopts = sizeof classify_opts / sizeof classify_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_LIMITS | CLI_C_THREADS | CLI_C_DB |
              CLI_C_QUIET,
    .footer = "exit status: 0 every file read whole, 1 some file damaged or unreadable (what\n"
              "was read is labelled) or a limit reached, 2 usage error (also no signatures of\n"
              "that name), 3 failure (also a locked or damaged index: nothing is changed).\n",
};

typedef struct report {
    const classify_args_t *a;
    const sift_cluster_set_t *set;
    const sift_signatures_t *s;
    const sift_classification_t *c;
    const sift_engine_t *e;
    uint32_t *by_sig; /* units by label: those of signature i, then those of none */
    size_t *start;    /* of signature i in by_sig; start[nsig] the unlabelled */
    size_t *busiest;  /* the signatures that labelled some, most packets first */
} report_t;

typedef struct busy {
    uint64_t packets;
    size_t sig;
} busy_t;

static int cmp_busy(const void *pa, const void *pb)
{
    const busy_t *a = pa, *b = pb;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return (a->sig > b->sig) - (a->sig < b->sig);
}

/* Units grouped by their label (a counting sort, in set order within each). */
static int group_units(report_t *r)
{
    size_t n = sift_cluster_set_size(r->set), ns = sift_signatures_count(r->s);
    r->by_sig = malloc((n ? n : 1) * sizeof *r->by_sig);
    r->start = calloc(ns + 2, sizeof *r->start);
    if (!r->by_sig || !r->start)
        return CLI_FAILED;
    for (size_t i = 0; i < n; i++) {
        int64_t g = sift_classification_unit(r->c, i)->sig;
        r->start[(g < 0 ? ns : (size_t)g) + 1]++;
    }
    for (size_t i = 0; i <= ns; i++)
        r->start[i + 1] += r->start[i];
    size_t *at = malloc((ns + 1) * sizeof *at);
    if (!at)
        return CLI_FAILED;
    memcpy(at, r->start, (ns + 1) * sizeof *at);
    for (size_t i = 0; i < n; i++) {
        int64_t g = sift_classification_unit(r->c, i)->sig;
        r->by_sig[at[g < 0 ? ns : (size_t)g]++] = (uint32_t)i;
    }
    free(at);
    busy_t *b = malloc((ns ? ns : 1) * sizeof *b);
    r->busiest = malloc((ns ? ns : 1) * sizeof *r->busiest);
    if (!b || !r->busiest) {
        free(b);
        return CLI_FAILED;
    }
    size_t used = 0;
    for (size_t i = 0; i < ns; i++)
        if (sift_classification_sig(r->c, i)->packets)
            b[used++] = (busy_t){sift_classification_sig(r->c, i)->packets, i};
    if (used > 1)
        qsort(b, used, sizeof *b, cmp_busy);
    for (size_t i = 0; i < used; i++)
        r->busiest[i] = b[i].sig;
    free(b);
    return CLI_OK;
}

/* The packets of the units of label g (ns: none) in part p (NULL: any), as [file, n, sim]. */
static int members_json(cli_json_t *j, const report_t *r, size_t g, const sift_cluster_part_t *p)
{
    sift_cluster_member_t *m = NULL;
    size_t cap = 0;
    cli_json_open(j, "packets", '[');
    for (size_t x = r->start[g]; x < r->start[g + 1]; x++) {
        uint32_t u = r->by_sig[x];
        sift_cluster_unit_t unit;
        sift_cluster_set_unit(r->set, u, &unit);
        if (p &&
            (unit.part.proto != p->proto || unit.part.port != p->port || unit.part.dir != p->dir))
            continue;
        size_t k = sift_cluster_set_members(r->set, u, NULL, 0);
        if (k > cap) {
            sift_cluster_member_t *nm = realloc(m, k * sizeof *m);
            if (!nm) {
                free(m);
                return CLI_FAILED;
            }
            m = nm;
            cap = k;
        }
        sift_cluster_set_members(r->set, u, m, k);
        double sim = sift_classification_unit(r->c, u)->similarity;
        for (size_t i = 0; i < k; i++) {
            cli_json_open(j, NULL, '[');
            cli_json_str(j, NULL, sift_engine_input(r->e, m[i].input)->path);
            cli_json_u64(j, NULL, m[i].packet);
            cli_json_f64(j, NULL, sim, 4);
            cli_json_close(j);
        }
    }
    cli_json_close(j);
    free(m);
    return CLI_OK;
}

static int report(const report_t *r, uint64_t packets)
{
    const classify_args_t *a = r->a;
    size_t ns = sift_signatures_count(r->s), np = sift_classification_nparts(r->c);
    uint64_t unlabelled = 0, used = 0, continued = 0;
    for (size_t p = 0; p < np; p++)
        unlabelled += sift_classification_part(r->c, p)->unmatched_packets;
    for (size_t i = 0; i < ns; i++) {
        used += sift_classification_sig(r->c, i)->packets > 0;
        continued += sift_classification_sig(r->c, i)->continuations;
    }
    bool json = a->co.format == CLI_FORMAT_JSON;
    if (json) {
        cli_json_t j;
        cli_json_begin(&j, stdout);
        cli_json_u64(&j, "packets", packets);
        cli_json_u64(&j, "labelled", packets - unlabelled);
        cli_json_u64(&j, "unlabelled", unlabelled);
        cli_json_u64(&j, "continued", continued);
        cli_json_u64(&j, "signatures", ns);
        cli_json_u64(&j, "signatures_used", used);
        cli_json_end(&j);
    } else {
        char b1[32], b2[32], b3[32];
        printf("%s packets with payloads: %s (%.1f%%) labelled by %llu of %zu signatures, %llu "
               "by none\n",
               cli_u64_grouped(b1, packets), cli_u64_grouped(b2, packets - unlabelled),
               packets ? 100.0 * (double)(packets - unlabelled) / (double)packets : 0.0,
               (unsigned long long)used, ns, (unsigned long long)unlabelled);
        if (continued)
            printf("of the labelled, %s are segments that continue a labelled message in its "
                   "stream\n",
                   cli_u64_grouped(b3, continued));
        if (used)
            printf("%-24s %-16s %10s %9s %7s %s\n", "SIGNATURE", "PART", "PACKETS", "DISTINCT",
                   "FLOWS", "MIN SIMILARITY");
    }
    char pb[48];
    if (!json) {
        size_t shown = used;
        if (a->top && a->top < shown)
            shown = a->top;
        for (size_t k = 0; k < shown; k++) {
            size_t i = r->busiest[k];
            const sift_signature_t *g = sift_signatures_get(r->s, i);
            const sift_class_sig_t *x = sift_classification_sig(r->c, i);
            printf("%-24s %-16s %10llu %9llu %7llu %.3f\n", g->name,
                   cli_part_str(pb, sizeof pb, g->part), (unsigned long long)x->packets,
                   (unsigned long long)x->units, (unsigned long long)x->flows, x->min_similarity);
        }
        if (shown < used)
            printf("(%zu more signatures; --top 0 shows all)\n", used - shown);
    }
    for (size_t i = 0; json && i < ns; i++) {
        const sift_signature_t *g = sift_signatures_get(r->s, i);
        const sift_class_sig_t *x = sift_classification_sig(r->c, i);
        cli_json_t j;
        cli_json_begin(&j, stdout);
        cli_json_str(&j, "signature", g->name);
        cli_json_str(&j, "set", g->set);
        cli_json_part(&j, g->part);
        cli_json_u64(&j, "size", x->packets);
        cli_json_u64(&j, "distinct", x->units);
        cli_json_u64(&j, "flows", x->flows);
        cli_json_u64(&j, "continuations", x->continuations);
        if (x->packets)
            cli_json_f64(&j, "min_similarity", x->min_similarity, 4);
        else
            cli_json_null(&j, "min_similarity");
        if (a->members && members_json(&j, r, i, NULL) != CLI_OK)
            return CLI_FAILED;
        cli_json_end(&j);
    }
    if (!json && unlabelled)
        printf("not labelled:\n");
    for (size_t p = 0; p < np; p++) {
        const sift_class_part_t *x = sift_classification_part(r->c, p);
        if (!x->unmatched_packets)
            continue;
        sift_cluster_unit_t u;
        sift_cluster_set_unit(r->set, x->example, &u);
        char ex[2 * 65536 + 1];
        size_t shown = json ? u.kept : u.kept < 24 ? u.kept : 24;
        cli_hex(ex, u.data, shown);
        if (!json) {
            printf("  %-16s %llu of %llu packets, %llu distinct; e.g. %s%s",
                   cli_part_str(pb, sizeof pb, x->part), (unsigned long long)x->unmatched_packets,
                   (unsigned long long)x->packets, (unsigned long long)x->unmatched_units, ex,
                   u.kept > shown ? ".." : "");
            if (x->nearest >= 0)
                printf(" (nearest %s, %.2f by 3-grams)",
                       sift_signatures_get(r->s, (size_t)x->nearest)->name, x->nearest_similarity);
            putchar('\n');
            continue;
        }
        cli_json_t j;
        cli_json_begin(&j, stdout);
        cli_json_null(&j, "signature");
        cli_json_part(&j, x->part);
        cli_json_u64(&j, "size", x->unmatched_packets);
        cli_json_u64(&j, "distinct", x->unmatched_units);
        cli_json_u64(&j, "part_packets", x->packets);
        cli_json_str(&j, "example", ex);
        if (x->nearest >= 0) {
            cli_json_str(&j, "nearest", sift_signatures_get(r->s, (size_t)x->nearest)->name);
            cli_json_f64(&j, "nearest_similarity", x->nearest_similarity, 4);
        } else {
            cli_json_null(&j, "nearest");
            cli_json_null(&j, "nearest_similarity");
        }
        if (a->members && members_json(&j, r, ns, &x->part) != CLI_OK)
            return CLI_FAILED;
        cli_json_end(&j);
    }
    return CLI_OK;
}

/* The bytes to keep of each payload: every offset a signature looks at. */
static uint32_t bytes_needed(const sift_signatures_t *s)
{
    uint32_t n = 32;
    for (size_t i = 0; i < sift_signatures_count(s); i++) {
        const sift_signature_t *g = sift_signatures_get(s, i);
        if (g->nmask && g->mask[g->nmask - 1].offset >= n)
            n = g->mask[g->nmask - 1].offset + 1u;
        if (g->type_offset >= 0 && (uint32_t)g->type_offset >= n)
            n = (uint32_t)g->type_offset + 1;
    }
    return n;
}

int cmd_classify(int argc, char **argv)
{
    classify_args_t a = {.top = 20};
    int prc = cli_parse(&cli_cmd_classify, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    double min_sim = SIFT_SIG_DEFAULT_MIN_SIMILARITY;
    if (a.min_similarity && !cli_parse_real("min-similarity", a.min_similarity, 0, 1, &min_sim))
        return CLI_USAGE;
    sift_ctx_t *ctx;
    if (sift_ctx_create(&ctx) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    sift_index_t *ix = NULL;
    sift_signatures_t *s = NULL;
    int rc = cli_index_open_as(ctx, a.co.db, a.no_update ? CLI_DB_READ : CLI_DB_WRITE, &ix);
    int e = rc == CLI_OK ? sift_signatures_create(&s) : 0;
    if (rc == CLI_OK && e == 0)
        e = sift_index_signatures(ix, a.set, s);
    if (e < 0) {
        cli_error("%s", e == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
        rc = CLI_FAILED;
    } else if (rc == CLI_OK && sift_signatures_count(s) == 0) {
        if (a.set)
            cli_error("%s: no signature or set named %s (capsift signatures lists them)", a.co.db,
                      a.set);
        else
            cli_error("%s: no signatures; learn some with capsift cluster --save NAME", a.co.db);
        rc = CLI_USAGE;
    }
    cli_run_t run = {0};
    sift_cluster_set_t *set = NULL;
    sift_classification_t *c = NULL;
    report_t r = {.a = &a, .s = s};
    if (rc == CLI_OK) {
        sift_signatures_sort(s);
        sift_cluster_config_t cfg = {
            .max_bytes = bytes_needed(s), .members = a.members, .by_flow = a.by == 1};
        sift_flows_config_t flows = {.no_app = true};
        flows.table.max_flows = cli_flow_cap(&a.co.limits, false);
        cli_run_opts_t ro = {.pass = &sift_cluster_pass, .config = &cfg, .flows = &flows};
        rc = cli_run(&run, &ro, &a.co);
        if (rc == CLI_OK)
            rc = cli_report_inputs(run.e, &a.co.limits);
        uint64_t packets = 0;
        if (rc < CLI_USAGE && cli_cluster_collect(&run, cfg.max_bytes, &set, &packets) != CLI_OK)
            rc = CLI_FAILED;
        if (rc < CLI_USAGE && (e = sift_classify(set, s, min_sim, &c)) < 0) {
            cli_error("classifying failed: %s", sift_strerror(e));
            rc = CLI_FAILED;
        }
        if (rc < CLI_USAGE) {
            r.set = set;
            r.c = c;
            r.e = run.e;
            int x = group_units(&r);
            if (x == CLI_OK)
                x = report(&r, packets);
            if (x != CLI_OK)
                cli_error("out of memory for the report");
            rc = x > rc ? x : rc;
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_error("cannot write the output: %s", strerror(errno));
            rc = CLI_FAILED;
        }
        if (rc < CLI_USAGE && !a.no_update) {
            sift_classification_apply(c, s, (int64_t)time(NULL));
            if (sift_index_update_signatures(ix, s) < 0) {
                cli_error("%s", sift_ctx_errmsg(ctx));
                rc = CLI_FAILED;
            }
        }
    }
    free(r.by_sig);
    free(r.start);
    free(r.busiest);
    sift_classification_free(c);
    sift_cluster_set_free(set);
    cli_run_free(&run);
    sift_signatures_free(s);
    sift_index_close(ix);
    sift_ctx_free(ctx);
    return rc;
}
