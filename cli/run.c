/* The run every analysis command makes: one engine, one pass, the inputs named on the command
 * line, progress on a terminal. The commands print; this sets up and runs. */
#include "cli.h"

#include <stdlib.h>

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
    if (o->cache && !co->no_cache && !cli_cache_env_off() && cli_cache_open(r->ctx, &r->cache) == 0)
        opts.cache = r->cache;
    int erc = sift_engine_create(&r->e, r->ctx, &opts);
    if (erc < 0) {
        cli_error("%s", sift_ctx_errmsg(r->ctx));
        return erc == SIFT_EFILTER ? CLI_USAGE : CLI_FAILED;
    }
    r->pass = sift_engine_add_pass(r->e, o->pass, o->config);
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
    r->pass = -1;
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
    sift_index_opts_t io = {.read_only = true};
    int rc = sift_index_open(ix, ctx, path, &io);
    if (rc == 0)
        return CLI_OK;
    cli_error("%s", sift_ctx_errmsg(ctx));
    return rc == SIFT_ENOENT || rc == SIFT_EINVAL ? CLI_USAGE : CLI_FAILED;
}
