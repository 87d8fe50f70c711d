/* capsift index: bring the capture index up to date with files and directories. */
#include "cli.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct index_args {
    int hash;
    bool prune, payloads, no_app, no_meta, vlan;
    cli_list_t include, exclude;
    uint64_t max_size, busy_ms;
    bool damaged;
    cli_common_t co;
} index_args_t;

static const char *const hash_names[] = {"xxh3", "sha256", NULL};

#define A(field) offsetof(index_args_t, field)
static const cli_opt_t index_opts[] = {
    {.name = "hash",
     .kind = CLI_K_CHOICE,
     .offset = A(hash),
     .arg = "ALG",
     .help = "content fingerprint: xxh3 (default) or sha256",
     .choices = hash_names},
    {.name = "prune",
     .kind = CLI_K_FLAG,
     .offset = A(prune),
     .help = "remove files that vanished from disk (under the given paths)"},
    {.name = "include",
     .kind = CLI_K_LIST,
     .offset = A(include),
     .arg = "GLOB",
     .help = "index only files matching GLOB (path or name; repeatable)"},
    {.name = "exclude",
     .kind = CLI_K_LIST,
     .offset = A(exclude),
     .arg = "GLOB",
     .help = "leave out files matching GLOB (repeatable)"},
    {.name = "max-size",
     .kind = CLI_K_SIZE,
     .offset = A(max_size),
     .arg = "BYTES",
     .help = "leave out larger files (suffixes k, M, G)",
     .min = 1,
     .max = UINT64_MAX},
    {.name = "payloads",
     .kind = CLI_K_FLAG,
     .offset = A(payloads),
     .help = "also store distinct transport payloads (deduplicated, zstd)"},
    {.name = "no-app", .kind = CLI_K_FLAG, .offset = A(no_app), .help = "no application detection"},
    {.name = "no-meta",
     .kind = CLI_K_FLAG,
     .offset = A(no_meta),
     .help = "no DNS, HTTP, TLS, SSH and DHCP metadata (the query terms dns, sni, uri ... then "
             "find nothing in these files)"},
    {.name = "vlan",
     .kind = CLI_K_FLAG,
     .offset = A(vlan),
     .help = "flows with different outermost VLAN ids are different flows (as flows --vlan); "
             "a file indexed with the other choice is read again"},
    {.name = "busy-timeout",
     .kind = CLI_K_COUNT,
     .offset = A(busy_ms),
     .arg = "MS",
     .help = "wait this long for a lock held by another process (5000)",
     .min = 1,
     .max = 3600000},
};

const cli_command_t cli_cmd_index = {
    .name = "index",
    .summary = "index captures into a database; later runs read only new or changed files",
    .run = cmd_index,
    .usage = "capsift index [OPTIONS] FILE|DIR ...",
    .about = "Indexes captures into an SQLite database: each file (path, size, mtime, content\n"
             "fingerprint, format, packets, time span, status), its flows (what `capsift flows`\n"
             "lists) and the byte offset and timestamp of every packet of each flow. Run it again\n"
             "and only new or changed files are read: a file whose path, size and mtime are\n"
             "unchanged is not opened; a changed one is fingerprinted and read only if its\n"
             "content changed. Each file is committed on its own: an interrupted run keeps every\n"
             "file it finished, and the next run does the rest.\n",
    .opts = index_opts,
    .nopts = sizeof index_opts / sizeof index_opts[0],
    .common = CLI_C_INPUT | CLI_C_DB | CLI_C_LIMITS | CLI_C_JSON | CLI_C_QUIET | CLI_C_THREADS,
    .footer = "exit status: 0 all files indexed or up to date, 1 some file damaged or unreadable\n"
              "(what could be read is indexed), 2 usage error, 3 the database could not be\n"
              "written (locked, read-only, disk full, damaged: what was committed stays).\n",
};

static const char *const action_names[] = {"skipped",  "same-content", "indexed", "failed",
                                           "vanished", "pruned",       "left-out"};

static void on_event(void *user, const sift_index_event_t *ev)
{
    index_args_t *a = user;
    if (ev->action == SIFT_INDEX_FAILED ||
        (ev->status && (strcmp(ev->status, "damaged") == 0 || strcmp(ev->status, "partial") == 0)))
        a->damaged = true;
    if (a->co.format == CLI_FORMAT_JSON) {
        cli_json_t j;
        cli_json_begin(&j, stdout);
        cli_json_str(&j, "file", ev->path);
        cli_json_str(&j, "action", action_names[ev->action]);
        cli_json_str(&j, "status", ev->status);
        cli_json_u64(&j, "packets", ev->packets);
        cli_json_u64(&j, "flows", ev->flows);
        cli_json_str(&j, "message", ev->message);
        cli_json_end(&j);
        return;
    }
    if (ev->action == SIFT_INDEX_FAILED)
        cli_error("%s: %s", ev->path, ev->message);
    if (a->co.quiet || ev->action == SIFT_INDEX_SKIPPED)
        return;
    printf("%-12s %s", action_names[ev->action], ev->path);
    char p[64], fl[64];
    if (ev->action == SIFT_INDEX_INDEXED)
        printf(" (%s, %s%s%s)", cli_count(p, ev->packets, "packet", "packets"),
               cli_count(fl, ev->flows, "flow", "flows"), strcmp(ev->status, "ok") ? ", " : "",
               strcmp(ev->status, "ok") ? ev->message : "");
    putchar('\n');
}

static void print_summary(const index_args_t *a, const sift_index_summary_t *s, double secs)
{
    const uint64_t *f = s->files;
    if (a->co.format == CLI_FORMAT_JSON) {
        cli_json_t j;
        cli_json_begin(&j, stdout);
        cli_json_bool(&j, "summary", true);
        static const struct {
            const char *key;
            int action;
        } files[] = {{"indexed", SIFT_INDEX_INDEXED},           {"skipped", SIFT_INDEX_SKIPPED},
                     {"same_content", SIFT_INDEX_SAME_CONTENT}, {"failed", SIFT_INDEX_FAILED},
                     {"vanished", SIFT_INDEX_VANISHED},         {"pruned", SIFT_INDEX_PRUNED},
                     {"left_out", SIFT_INDEX_LEFT_OUT}};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
            cli_json_u64(&j, files[i].key, f[files[i].action]);
        cli_json_u64(&j, "packets", s->packets);
        cli_json_u64(&j, "flows", s->flows);
        cli_json_u64(&j, "meta_rows", s->meta_rows);
        cli_json_u64(&j, "names", s->names);
        cli_json_f64(&j, "seconds", secs, 3);
        if (a->payloads) {
            cli_json_u64(&j, "payloads", s->payloads);
            cli_json_u64(&j, "payloads_distinct", s->payloads_distinct);
            cli_json_u64(&j, "payload_bytes", s->payload_bytes);
            cli_json_u64(&j, "payload_bytes_distinct", s->payload_bytes_distinct);
            cli_json_u64(&j, "payload_bytes_new", s->payload_bytes_new);
            cli_json_u64(&j, "payload_bytes_stored", s->payload_bytes_stored);
        }
        const sift_expand_stats_t *x = &s->expanded;
        cli_json_open(&j, "walk", '{');
        cli_json_u64(&j, "not_captures", x->not_captures);
        cli_json_u64(&j, "hidden", x->hidden);
        cli_json_u64(&j, "duplicates", x->duplicates);
        cli_json_u64(&j, "dirs_again", x->dirs_again);
        cli_json_u64(&j, "broken_links", x->broken_links);
        cli_json_u64(&j, "not_files", x->not_files);
        cli_json_u64(&j, "too_deep", x->too_deep);
        cli_json_u64(&j, "unreadable_dirs", x->unreadable_dirs);
        cli_json_end(&j);
        return;
    }
    cli_expand_note(&s->expanded);
    char n[3][64];
    char m[64];
    printf("indexed %s (%s, %s, %s) in %.2f s",
           cli_count(n[0], f[SIFT_INDEX_INDEXED], "file", "files"),
           cli_count(n[1], s->packets, "packet", "packets"),
           cli_count(n[2], s->flows, "flow", "flows"),
           cli_count(m, s->meta_rows, "metadata row", "metadata rows"), secs);
    if (secs > 0 && s->packets)
        printf(", %.2f M packets/s", (double)s->packets / secs / 1e6);
    char g[6][32];
    printf(
        "; %s unchanged, %s same content, %s failed, %s vanished, %s pruned, %s left out\n",
        cli_u64_grouped(g[0], f[SIFT_INDEX_SKIPPED]),
        cli_u64_grouped(g[1], f[SIFT_INDEX_SAME_CONTENT]),
        cli_u64_grouped(g[2], f[SIFT_INDEX_FAILED]), cli_u64_grouped(g[3], f[SIFT_INDEX_VANISHED]),
        cli_u64_grouped(g[4], f[SIFT_INDEX_PRUNED]), cli_u64_grouped(g[5], f[SIFT_INDEX_LEFT_OUT]));
    if (a->payloads && s->payloads)
        printf(
            "payloads: %" PRIu64 " seen, %" PRIu64 " distinct (dedup %.2fx by bytes); new ones "
            "stored in %" PRIu64 " of %" PRIu64 " bytes (zstd %.2fx)\n",
            s->payloads, s->payloads_distinct,
            s->payload_bytes_distinct ? (double)s->payload_bytes / (double)s->payload_bytes_distinct
                                      : 0.0,
            s->payload_bytes_stored, s->payload_bytes_new,
            s->payload_bytes_stored ? (double)s->payload_bytes_new / (double)s->payload_bytes_stored
                                    : 0.0);
}

int cmd_index(int argc, char **argv)
{
    index_args_t a = {0};
    int rc = cli_parse(&cli_cmd_index, argc, argv, &a, &a.co);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    char **inputs;
    int ninputs;
    if ((rc = cli_inputs(&a.co, &inputs, &ninputs)) != CLI_OK)
        return rc;
    sift_ctx_t *ctx = NULL;
    if (sift_ctx_create(&ctx) < 0) {
        free(inputs);
        cli_error("out of memory");
        return CLI_FAILED;
    }
    cli_progress_t prog;
    cli_progress_init(&prog);
    sift_index_update_opts_t u = {
        .threads = (unsigned)a.co.threads,
        .hash = hash_names[a.hash],
        .prune = a.prune,
        .include = a.include.v,
        .ninclude = a.include.n,
        .exclude = a.exclude.v,
        .nexclude = a.exclude.n,
        .max_size = a.max_size,
        .no_app = a.no_app,
        .no_meta = a.no_meta,
        .vlan = a.vlan,
        .max_flows = cli_flow_cap(&a.co.limits, !a.no_app),
        .payloads = a.payloads,
        .segment_bytes = (uint32_t)cli_env_size("CAPSIFT_SEGMENT_BYTES", 64, UINT32_MAX),
        .range_bytes = cli_env_size("CAPSIFT_RANGE_BYTES", 1, UINT64_MAX),
        .progress = cli_progress_cb,
        .progress_user = &prog,
        .event = on_event,
        .event_user = &a,
    };
    sift_index_opts_t io = {.busy_timeout_ms = (unsigned)a.busy_ms};
    sift_index_t *ix = NULL;
    double t0 = cli_now();
    int erc = sift_index_open(&ix, ctx, a.co.db, &io);
    sift_index_summary_t sum;
    if (erc == 0)
        erc = sift_index_update(ix, (const char *const *)inputs, (size_t)ninputs, &u, &sum);
    free(inputs);
    cli_progress_end(&prog);
    if (erc < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        rc = erc == SIFT_ENOENT || erc == SIFT_EINVAL ? CLI_USAGE : CLI_FAILED;
    } else {
        print_summary(&a, &sum, cli_now() - t0);
        rc = a.damaged ? CLI_DAMAGED : CLI_OK;
    }
    sift_index_close(ix);
    sift_ctx_free(ctx);
    if (fflush(stdout) != 0) {
        cli_error("cannot write the output");
        rc = CLI_FAILED;
    }
    return rc;
}
