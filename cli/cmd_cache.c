/* capsift cache: statistics of the result cache, and clearing it. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

const cli_command_t cli_cmd_cache = {
    .name = "cache",
    .summary = "result cache: statistics, clear",
    .run = cmd_cache,
    .usage = "capsift cache stats [--json]\n"
             "       capsift cache clear\n"
             "       capsift cache path",
    .about =
        "flows, stats, info, meta, match, diff, timeline and periodic keep each file's\n"
        "results in a cache, keyed by the content fingerprint of the file, the options that\n"
        "change the results and the capsift build; a repeated run on an unchanged file is\n"
        "answered from it, in any output format and with any -j (periodic also keeps each\n"
        "group's score, keyed by its events). A file's fingerprint (XXH3-128 of its content) is "
        "trusted while its\n"
        "size, modification time, inode and device are unchanged, so a hit reads no capture.\n\n"
        "  stats    entries and bytes per tier, fingerprints remembered, and the hit,\n"
        "           miss and eviction counters of every run so far\n"
        "  clear    remove every entry and fingerprint and reset the counters (a cache\n"
        "           file that is not a database is removed)\n"
        "  path     print the cache file's path\n",
    .common = CLI_C_JSON,
    .footer =
        "The cache is $CAPSIFT_CACHE_DIR/cache.db, else $XDG_CACHE_HOME/capsift/cache.db, else\n"
        "~/.cache/capsift/cache.db (at most 1 GB; entries older than 30 days expire).\n"
        "--no-cache on a command, or CAPSIFT_NO_CACHE=1, bypasses it.\n\n"
        "exit status: 0 done, 2 usage error, 3 failure.\n",
};

static void print_text(const sift_cache_stats_t *s, const char *path, const char *err)
{
    char a[32], b[32];
    const sift_cache_counters_t *t = &s->total;
    uint64_t hits = t->l1_hits + t->l2_hits, lookups = hits + t->misses;
    printf("Cache file:    %s (%s)\n", path, s->l2_on ? "on" : "off");
    if (err[0])
        printf("Problem:       %s\n", err);
    printf("L1 (memory):   %" PRIu64 " entries, %s (this process only)\n", s->l1_entries,
           cli_human_bytes(a, sizeof a, (double)s->l1_bytes));
    printf("L2 (file):     %" PRIu64 " entries, %s of %s\n", s->l2_entries,
           cli_human_bytes(a, sizeof a, (double)s->l2_bytes),
           cli_human_bytes(b, sizeof b, (double)s->l2_max_bytes));
    printf("Fingerprints:  %" PRIu64 " files remembered\n", s->fp_entries);
    printf("Lookups:       %" PRIu64 ": %" PRIu64 " hits (L1 %" PRIu64 ", L2 %" PRIu64 "), %" PRIu64
           " misses, hit rate %.1f%%\n",
           lookups, hits, t->l1_hits, t->l2_hits, t->misses,
           lookups ? 100.0 * (double)hits / (double)lookups : 0.0);
    printf("Stores:        %" PRIu64 "\n", t->puts);
    printf("Evictions:     L1 %" PRIu64 ", L2 %" PRIu64 "; expired %" PRIu64 "\n", t->l1_evictions,
           t->l2_evictions, t->expired);
}

static void print_json(const sift_cache_stats_t *s, const char *path, const char *err)
{
    const sift_cache_counters_t *t = &s->total;
    uint64_t hits = t->l1_hits + t->l2_hits, lookups = hits + t->misses;
    cli_json_t j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "path", path);
    cli_json_bool(&j, "l2_on", s->l2_on);
    cli_json_str(&j, "l2_error", err);
    const struct {
        const char *key;
        uint64_t v;
    } n[] = {{"l1_entries", s->l1_entries},
             {"l1_bytes", s->l1_bytes},
             {"l2_entries", s->l2_entries},
             {"l2_bytes", s->l2_bytes},
             {"l2_max_bytes", s->l2_max_bytes},
             {"fingerprints", s->fp_entries},
             {"l1_hits", t->l1_hits},
             {"l2_hits", t->l2_hits},
             {"hits", hits},
             {"misses", t->misses},
             {"puts", t->puts},
             {"l1_evictions", t->l1_evictions},
             {"l2_evictions", t->l2_evictions},
             {"expired", t->expired}};
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        cli_json_u64(&j, n[i].key, n[i].v);
    cli_json_f64(&j, "hit_rate", lookups ? (double)hits / (double)lookups : 0.0, 4);
    cli_json_end(&j);
}

static int run(const char *what, bool json)
{
    char path[4096];
    if (cli_cache_path(path, sizeof path) < 0) {
        cli_error("no cache location: set CAPSIFT_CACHE_DIR, XDG_CACHE_HOME or HOME");
        return CLI_FAILED;
    }
    if (strcmp(what, "path") == 0) {
        printf("%s\n", path);
        return CLI_OK;
    }
    sift_ctx_t *ctx;
    sift_cache_t *c;
    if (sift_ctx_create(&ctx) < 0 || cli_cache_open(ctx, &c) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    int rc = CLI_OK;
    if (strcmp(what, "stats") == 0) {
        if (json)
            print_json(&s, path, sift_cache_l2_error(c));
        else
            print_text(&s, path, sift_cache_l2_error(c));
    } else if (s.l2_on) {
        if (sift_cache_clear(c, true) < 0) {
            cli_error("clear: %s", sift_cache_l2_error(c));
            rc = CLI_FAILED;
        } else {
            char a[32];
            printf("cleared %s: %" PRIu64 " entries (%s), %" PRIu64 " fingerprints\n", path,
                   s.l2_entries, cli_human_bytes(a, sizeof a, (double)s.l2_bytes), s.fp_entries);
        }
    } else if (access(path, F_OK) == 0) {
        sift_cache_close(c);
        c = NULL;
        if (sift_cache_remove_file(ctx, path) < 0) {
            cli_error("clear: %s", sift_ctx_errmsg(ctx));
            rc = CLI_FAILED;
        } else
            printf("removed %s: it could not be used as a cache\n", path);
    } else {
        printf("no cache file at %s\n", path);
    }
    sift_cache_close(c);
    sift_ctx_free(ctx);
    if (fflush(stdout) != 0) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    return rc;
}

int cmd_cache(int argc, char **argv)
{
    cli_common_t co;
    int rc = cli_parse(&cli_cmd_cache, argc, argv, NULL, &co);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    const char *what = co.nargs == 1 ? co.args[0] : "";
    if (strcmp(what, "stats") != 0 && strcmp(what, "clear") != 0 && strcmp(what, "path") != 0) {
        cli_error("say stats, clear or path (see 'capsift cache --help')");
        return CLI_USAGE;
    }
    return run(what, co.format == CLI_FORMAT_JSON);
}
