/* capsift index: bring the capture index up to date with files and directories. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void help_index(FILE *out)
{
    fprintf(out,
            "usage: capsift index [OPTIONS] FILE|DIR ...\n\n"
            "Indexes captures into an SQLite database: each file (path, size, mtime, content\n"
            "fingerprint, format, packets, time span, status), its flows (what `capsift flows`\n"
            "lists) and the byte offset and timestamp of every packet of each flow. Run it again\n"
            "and only new or changed files are read: a file whose path, size and mtime are\n"
            "unchanged is not opened; a changed one is fingerprinted and read only if its\n"
            "content changed. Each file is committed on its own: an interrupted run keeps every\n"
            "file it finished, and the next run does the rest.\n\n"
            "options:\n"
            "  --db FILE          the index (default: ./capsift.db)\n"
            "  --hash ALG         content fingerprint: xxh3 (default) or sha256\n"
            "  --prune            remove files that vanished from disk (under the given paths)\n"
            "  --include GLOB     index only files matching GLOB (path or name; repeatable)\n"
            "  --exclude GLOB     leave out files matching GLOB (repeatable)\n"
            "  --max-size BYTES   leave out larger files (suffixes k, M, G)\n"
            "  --payloads         also store distinct transport payloads (deduplicated, zstd)\n"
            "  --no-app           no application detection\n"
            "  --busy-timeout MS  wait this long for a lock held by another process "
            "(5000)\n" CLI_LIMITS_HELP
            "  --json             one JSON object per file, then a summary object\n"
            "  -q, --quiet        print only the summary\n"
            "  -j, --threads N    worker threads (default: the number of cores)\n"
            "  -h, --help         this help\n\n"
            "exit status: 0 all files indexed or up to date, 1 some file damaged or unreadable\n"
            "(what could be read is indexed), 2 usage error, 3 the database could not be\n"
            "written (locked, read-only, disk full, damaged: what was committed stays).\n");
}

typedef struct index_args {
    const char *db;
    sift_index_update_opts_t u;
    const char *include[64], *exclude[64];
    unsigned busy_ms;
    cli_limits_t limits;
    bool json, quiet;
    bool damaged;
} index_args_t;

static const char *const action_names[] = {"skipped",  "same-content", "indexed", "failed",
                                           "vanished", "pruned",       "left-out"};

static void on_event(void *user, const sift_index_event_t *ev)
{
    index_args_t *a = user;
    if (ev->action == SIFT_INDEX_FAILED ||
        (ev->status && (strcmp(ev->status, "damaged") == 0 || strcmp(ev->status, "partial") == 0)))
        a->damaged = true;
    if (a->json) {
        fputs("{\"file\":", stdout);
        json_string(stdout, ev->path);
        fprintf(stdout, ",\"action\":\"%s\",\"status\":", action_names[ev->action]);
        json_string(stdout, ev->status);
        fprintf(stdout, ",\"packets\":%" PRIu64 ",\"flows\":%" PRIu64 ",\"message\":", ev->packets,
                ev->flows);
        json_string(stdout, ev->message);
        fputs("}\n", stdout);
        return;
    }
    if (ev->action == SIFT_INDEX_FAILED)
        cli_error("%s: %s", ev->path, ev->message);
    if (a->quiet || ev->action == SIFT_INDEX_SKIPPED)
        return;
    printf("%-12s %s", action_names[ev->action], ev->path);
    if (ev->action == SIFT_INDEX_INDEXED)
        printf(" (%" PRIu64 " packets, %" PRIu64 " flows%s%s)", ev->packets, ev->flows,
               strcmp(ev->status, "ok") ? ", " : "", strcmp(ev->status, "ok") ? ev->message : "");
    putchar('\n');
}

static int parse_args(int argc, char **argv, index_args_t *a)
{
    enum {
        O_DB = 256,
        O_HASH,
        O_PRUNE,
        O_INCLUDE,
        O_EXCLUDE,
        O_MAX,
        O_PAYLOADS,
        O_NOAPP,
        O_BUSY,
        O_JSON
    };
    static const struct option longopts[] = {{"db", required_argument, NULL, O_DB},
                                             {"hash", required_argument, NULL, O_HASH},
                                             {"prune", no_argument, NULL, O_PRUNE},
                                             {"include", required_argument, NULL, O_INCLUDE},
                                             {"exclude", required_argument, NULL, O_EXCLUDE},
                                             {"max-size", required_argument, NULL, O_MAX},
                                             {"payloads", no_argument, NULL, O_PAYLOADS},
                                             {"no-app", no_argument, NULL, O_NOAPP},
                                             {"busy-timeout", required_argument, NULL, O_BUSY},
                                             CLI_LIMITS_LONGOPTS,
                                             {"json", no_argument, NULL, O_JSON},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"threads", required_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    a->db = "capsift.db";
    int c, t;
    uint64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qj:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_DB:
            a->db = optarg;
            break;
        case O_HASH:
            if (strcmp(optarg, "xxh3") && strcmp(optarg, "sha256")) {
                cli_error("index: --hash takes xxh3 or sha256, not '%s'", optarg);
                return CLI_USAGE;
            }
            a->u.hash = optarg;
            break;
        case O_PRUNE:
            a->u.prune = true;
            break;
        case O_INCLUDE:
        case O_EXCLUDE: {
            size_t *n = c == O_INCLUDE ? &a->u.ninclude : &a->u.nexclude;
            const char **list = c == O_INCLUDE ? a->include : a->exclude;
            if (*n == 64) {
                cli_error("index: at most 64 --include and 64 --exclude patterns");
                return CLI_USAGE;
            }
            list[(*n)++] = optarg;
            break;
        }
        case O_MAX:
            if (cli_opt_size("index", "--max-size", optarg, 1, UINT64_MAX, &v) != CLI_OK)
                return CLI_USAGE;
            a->u.max_size = v;
            break;
        case O_PAYLOADS:
            a->u.payloads = true;
            break;
        case O_NOAPP:
            a->u.no_app = true;
            break;
        case O_BUSY:
            if (cli_opt_count("index", "--busy-timeout", optarg, 1, 3600000, &v) != CLI_OK)
                return CLI_USAGE;
            a->busy_ms = (unsigned)v;
            break;
        case O_JSON:
            a->json = true;
            break;
        case CLI_OPT_MEMORY:
        case CLI_OPT_MAX_FLOWS:
            if (cli_limits_option("index", c, optarg, &a->limits) != CLI_OK)
                return CLI_USAGE;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'j':
            if (cli_threads_option("index", optarg, &t) != CLI_OK)
                return CLI_USAGE;
            a->u.threads = (unsigned)t;
            break;
        case 'h':
            help_index(stdout);
            return -1;
        default:
            fprintf(stderr, "see 'capsift index --help'\n");
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("index: no files or directories to index (see 'capsift index --help')");
        return CLI_USAGE;
    }
    a->u.include = a->include;
    a->u.exclude = a->exclude;
    return CLI_OK;
}

static void print_summary(const index_args_t *a, const sift_index_summary_t *s, double secs)
{
    const uint64_t *f = s->files;
    if (a->json) {
        printf("{\"summary\":true,\"indexed\":%" PRIu64 ",\"skipped\":%" PRIu64
               ",\"same_content\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"vanished\":%" PRIu64
               ",\"pruned\":%" PRIu64 ",\"left_out\":%" PRIu64 ",\"packets\":%" PRIu64
               ",\"flows\":%" PRIu64 ",\"seconds\":%.3f",
               f[SIFT_INDEX_INDEXED], f[SIFT_INDEX_SKIPPED], f[SIFT_INDEX_SAME_CONTENT],
               f[SIFT_INDEX_FAILED], f[SIFT_INDEX_VANISHED], f[SIFT_INDEX_PRUNED],
               f[SIFT_INDEX_LEFT_OUT], s->packets, s->flows, secs);
        if (a->u.payloads)
            printf(",\"payloads\":%" PRIu64 ",\"payloads_distinct\":%" PRIu64
                   ",\"payload_bytes\":%" PRIu64 ",\"payload_bytes_distinct\":%" PRIu64
                   ",\"payload_bytes_new\":%" PRIu64 ",\"payload_bytes_stored\":%" PRIu64,
                   s->payloads, s->payloads_distinct, s->payload_bytes, s->payload_bytes_distinct,
                   s->payload_bytes_new, s->payload_bytes_stored);
        const sift_expand_stats_t *x = &s->expanded;
        printf(",\"walk\":{\"not_captures\":%" PRIu64 ",\"hidden\":%" PRIu64
               ",\"duplicates\":%" PRIu64 ",\"dirs_again\":%" PRIu64 ",\"broken_links\":%" PRIu64
               ",\"not_files\":%" PRIu64 ",\"too_deep\":%" PRIu64 ",\"unreadable_dirs\":%" PRIu64
               "}",
               x->not_captures, x->hidden, x->duplicates, x->dirs_again, x->broken_links,
               x->not_files, x->too_deep, x->unreadable_dirs);
        puts("}");
        return;
    }
    cli_expand_note(&s->expanded);
    printf("indexed %" PRIu64 " files (%" PRIu64 " packets, %" PRIu64 " flows) in %.2f s",
           f[SIFT_INDEX_INDEXED], s->packets, s->flows, secs);
    if (secs > 0 && s->packets)
        printf(", %.2f M packets/s", (double)s->packets / secs / 1e6);
    printf("; %" PRIu64 " unchanged, %" PRIu64 " same content, %" PRIu64 " failed, %" PRIu64
           " vanished, %" PRIu64 " pruned, %" PRIu64 " left out\n",
           f[SIFT_INDEX_SKIPPED], f[SIFT_INDEX_SAME_CONTENT], f[SIFT_INDEX_FAILED],
           f[SIFT_INDEX_VANISHED], f[SIFT_INDEX_PRUNED], f[SIFT_INDEX_LEFT_OUT]);
    if (a->u.payloads && s->payloads)
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
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    sift_ctx_t *ctx = NULL;
    if (sift_ctx_create(&ctx) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    cli_progress_t prog;
    cli_progress_init(&prog);
    a.u.progress = cli_progress_cb;
    a.u.progress_user = &prog;
    a.u.max_flows = cli_flow_cap(&a.limits, !a.u.no_app);
    a.u.range_bytes = cli_env_size("CAPSIFT_RANGE_BYTES", 1, UINT64_MAX);
    a.u.segment_bytes = (uint32_t)cli_env_size("CAPSIFT_SEGMENT_BYTES", 64, UINT32_MAX);
    a.u.event = on_event;
    a.u.event_user = &a;
    sift_index_opts_t io = {.busy_timeout_ms = a.busy_ms};
    sift_index_t *ix = NULL;
    double t0 = cli_now();
    int erc = sift_index_open(&ix, ctx, a.db, &io);
    sift_index_summary_t sum;
    if (erc == 0)
        erc = sift_index_update(ix, (const char *const *)argv + optind, (size_t)(argc - optind),
                                &a.u, &sum);
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
