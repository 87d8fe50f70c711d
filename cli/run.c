/* The run every analysis command makes: one engine, one pass, the inputs named on the command
 * line, progress on a terminal, the limits it runs under and what went wrong with each input.
 * The commands print; this sets up, runs and reports. */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t cli_env_size(const char *name, uint64_t min, uint64_t max)
{
    const char *v = getenv(name);
    uint64_t n = 0;
    if (v && sift_parse_size(v, min, max, &n) < 0)
        n = 0;
    return n;
}

/* The engine with its pass and the inputs: CLI_OK, or the exit code after a message. */
static int add_inputs(cli_run_t *r, const cli_run_opts_t *o, const cli_common_t *co, char **inputs,
                      int ninputs)
{
    sift_engine_opts_t opts = {.threads = (unsigned)co->threads,
                               .filter = co->filter,
                               .totals = o->totals,
                               .progress = cli_progress_cb,
                               .progress_user = &r->prog,
                               .flows = o->flows};
    opts.split_bytes = opts.chunk_bytes = cli_env_size("CAPSIFT_RANGE_BYTES", 1, UINT64_MAX);
    if (sift_ctx_create(&r->ctx) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    /* the cache's own problems are warnings: without it every result is computed */
    if (o->cache && cli_cache_wanted(co) && cli_cache_open(r->ctx, &r->cache) == 0)
        opts.cache = r->cache;
    int erc = sift_engine_create(&r->e, r->ctx, &opts);
    if (erc < 0) {
        cli_error("%s", sift_ctx_errmsg(r->ctx));
        return erc == SIFT_EFILTER ? CLI_USAGE : CLI_FAILED;
    }
    r->pass = sift_engine_add_pass(r->e, o->pass, o->config);
    if (r->pass >= 0 && o->also)
        r->also = sift_engine_add_pass(r->e, o->also, o->also_config);
    if (r->pass < 0 || (o->also && r->also < 0)) {
        cli_error("%s", sift_ctx_errmsg(r->ctx));
        return CLI_FAILED;
    }
    for (int i = 0; i < ninputs; i++) {
        int n = sift_engine_add_input(r->e, inputs[i]);
        if (n < 0) {
            cli_error("%s", sift_ctx_errmsg(r->ctx));
            return n == SIFT_ENOMEM ? CLI_FAILED : CLI_USAGE;
        }
        if (n == 0) {
            cli_expand_note(sift_engine_expand_stats(r->e));
            cli_error("%s: no capture files found there", inputs[i]);
            return CLI_USAGE;
        }
    }
    cli_expand_note(sift_engine_expand_stats(r->e));
    return CLI_OK;
}

int cli_run(cli_run_t *r, const cli_run_opts_t *o, const cli_common_t *co)
{
    r->ctx = NULL;
    r->e = NULL;
    r->cache = NULL;
    r->pass = r->also = -1;
    cli_progress_init(&r->prog);
    char **inputs;
    int ninputs, rc = cli_inputs(co, &inputs, &ninputs);
    if (rc != CLI_OK)
        return rc;
    rc = add_inputs(r, o, co, inputs, ninputs);
    free(inputs);
    if (rc != CLI_OK)
        return rc;
    if (sift_engine_run(r->e) < 0) {
        cli_error("%s", sift_ctx_errmsg(r->ctx));
        rc = CLI_FAILED;
    }
    cli_progress_end(&r->prog);
    return rc;
}

void cli_run_free(cli_run_t *r)
{
    sift_engine_free(r->e);
    sift_cache_close(r->cache);
    sift_ctx_free(r->ctx);
    r->e = NULL;
    r->cache = NULL;
    r->ctx = NULL;
}

int cli_index_open(sift_ctx_t *ctx, const char *path, sift_index_t **ix)
{
    return cli_index_open_as(ctx, path, CLI_DB_READ, ix);
}

int cli_index_open_as(sift_ctx_t *ctx, const char *path, cli_db_mode_t mode, sift_index_t **ix)
{
    /* a missing file is created only when asked; else opening it to read says it is missing */
    bool missing = mode == CLI_DB_WRITE && access(path, F_OK) != 0;
    sift_index_opts_t io = {.read_only = mode == CLI_DB_READ || missing};
    int rc = sift_index_open(ix, ctx, path, &io);
    if (rc == 0)
        return CLI_OK;
    cli_error("%s", sift_ctx_errmsg(ctx));
    return rc == SIFT_ENOENT || rc == SIFT_EINVAL ? CLI_USAGE : CLI_FAILED;
}

void cli_expand_note(const sift_expand_stats_t *s)
{
    if (sift_expand_left_out(s) == 0)
        return;
    static const char *const what[] = {"not captures",        "hidden",
                                       "named twice (links)", "directories reached again (links)",
                                       "broken links",        "devices, FIFOs or sockets",
                                       "past 64 levels"};
    const uint64_t n[] = {s->not_captures, s->hidden,    s->duplicates, s->dirs_again,
                          s->broken_links, s->not_files, s->too_deep};
    char line[512] = "left out of the directories given:";
    size_t len = strlen(line);
    const char *sep = " ";
    for (size_t i = 0; i < sizeof n / sizeof *n && len < sizeof line; i++)
        if (n[i]) {
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%" PRIu64 " %s", sep, n[i],
                                    what[i]);
            sep = ", ";
        }
    cli_error("%s", line);
}

uint64_t cli_memory_default(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 4000000000ull;
    return phys / 4;
}

uint64_t cli_flow_cap(const cli_limits_t *l, bool app)
{
    if (l->max_flows)
        return l->max_flows;
    /* half for the table of one input, half for what is being merged into it */
    return sift_flows_max_for_memory((l->memory ? l->memory : cli_memory_default()) / 2, app);
}

/* What to do about a limit a pass reached: for the flow table's, which option set it. */
static void limit_hint(const sift_report_t *r, const cli_limits_t *l, char *buf, size_t size)
{
    char mem[32];
    buf[0] = '\0';
    if (r->code != SIFT_ELIMIT || strcmp(r->name, "flows") != 0 || !l)
        return;
    if (l->max_flows)
        snprintf(buf, size, "; raise --max-flows, or use --idle-timeout");
    else
        snprintf(buf, size,
                 "; the memory budget (%s, --memory) sets it: raise --memory or --max-flows",
                 cli_human_bytes(mem, sizeof mem,
                                 (double)(l->memory ? l->memory : cli_memory_default())));
}

int cli_report_input(const sift_input_t *in, const cli_limits_t *limits)
{
    if (in->error[0])
        cli_error("%s", in->error);
    if (in->warning[0])
        cli_error("%s: %s (%" PRIu64 " packets left out)", in->path, in->warning, in->filtered_out);
    if (in->nproblems > 0) {
        char more[96] = "";
        if (in->problems_total > 1)
            snprintf(more, sizeof more, " (and %" PRIu64 " more problems: capsift info lists them)",
                     in->problems_total - 1);
        cli_error("%s: at byte %" PRIu64 ": %s%s", in->path, in->problems[0].offset,
                  in->problems[0].message, more);
    }
    for (size_t k = 0; k < in->nreports; k++) {
        char hint[160];
        limit_hint(&in->reports[k], limits, hint, sizeof hint);
        cli_error("%s: %s%s", in->path, in->reports[k].message, hint);
    }
    bool bad = in->error[0] || in->status < 0 || in->problems_total > 0 || in->pass_status < 0;
    return bad ? CLI_DAMAGED : CLI_OK;
}

int cli_report_inputs(const sift_engine_t *e, const cli_limits_t *limits)
{
    int rc = CLI_OK;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++)
        if (cli_report_input(sift_engine_input(e, i), limits) != CLI_OK)
            rc = CLI_DAMAGED;
    return rc;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_init(cli_progress_t *p)
{
    p->enabled = isatty(STDERR_FILENO) != 0;
    p->shown = false;
    p->start = cli_now();
}

void cli_progress_cb(void *user, uint64_t done, uint64_t total, uint64_t packets)
{
    cli_progress_t *p = user;
    if (!p->enabled || cli_now() - p->start < 1.0)
        return;
    char a[32], b[32];
    if (total > 0)
        fprintf(stderr, "\rcapsift: %3.0f%%  %s of %s, %.1f M packets ",
                100.0 * (double)done / (double)total, cli_human_bytes(a, sizeof a, (double)done),
                cli_human_bytes(b, sizeof b, (double)total), (double)packets / 1e6);
    else
        fprintf(stderr, "\rcapsift: %s, %.1f M packets ",
                cli_human_bytes(a, sizeof a, (double)done), (double)packets / 1e6);
    p->shown = true;
}

void cli_progress_end(cli_progress_t *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = false;
}
