/* Fuzz target: the whole pipeline on one buffer, as `capsift info`, `flows` and `stats` run
 * it: the engine with the reader, the decoder, the flow stage and the info, flows and stats
 * passes. The buffer is the capture (a memory file, so replayed captures read as they are);
 * its last byte chooses the range size the engine splits it into (the merge of ranges, the
 * continuation of flows cut by a boundary) and whether nDPI runs (it is slow to set up, so
 * only for one input in 32). Each final state then goes through the result cache's save and
 * load: a load of what was saved saves the same bytes again, and loads of that blob cut short
 * or with one byte changed (where, from the input) fail cleanly or load a usable state. */
#include <capsift/capsift.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loads n bytes into a fresh state of pass p; on success saves it into *again (may be NULL). */
static int load(const sift_pass_t *p, const void *cfg, const unsigned char *b, size_t n,
                sift_blob_t *again)
{
    void *st = NULL;
    if (sift_pass_state_new(p, cfg, &st) < 0)
        abort();
    sift_blob_reader_t r = {b, b + n, false, 0};
    int rc = p->load(st, &r);
    if (rc == 0 && !r.bad && again)
        p->save(st, again);
    sift_pass_state_free(p, st);
    return rc == 0 && !r.bad ? 0 : -1;
}

static void check_cache(const sift_pass_t *p, const void *cfg, const void *state,
                        const uint8_t *data, size_t size)
{
    sift_blob_t b = {0}, again = {0};
    p->save(state, &b);
    if (b.failed || load(p, cfg, b.p, b.len, &again) < 0 || again.failed || again.len != b.len ||
        (b.len && memcmp(again.p, b.p, b.len) != 0))
        abort();
    if (b.len) {
        size_t at = (size_t)data[0] * 257 % b.len;
        load(p, cfg, b.p, at, NULL); /* cut short */
        b.p[at] ^= (unsigned char)(size > 1 ? data[1] | 1 : 0x80);
        load(p, cfg, b.p, b.len, NULL);
    }
    free(b.p);
    free(again.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool app = (data[size - 1] & 31) == 0;
    uint64_t range = 64u + (uint64_t)(data[size - 1] >> 3) * 32u;
    int fd = memfd_create("fuzz", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    sift_flows_config_t fc = {.no_app = !app};
    sift_stats_config_t sc = {.no_app = !app, .max_keys = 64};
    sift_engine_opts_t eo = {
        .threads = 2, .split_bytes = range, .chunk_bytes = range, .totals = true, .flows = &fc};
    sift_ctx_t *ctx = NULL;
    sift_engine_t *e = NULL;
    if (sift_ctx_create(&ctx) < 0 || sift_engine_create(&e, ctx, &eo) < 0 ||
        sift_engine_add_pass(e, &sift_info_pass, NULL) < 0 ||
        sift_engine_add_pass(e, &sift_flows_pass, &fc) < 0 ||
        sift_engine_add_pass(e, &sift_stats_pass, &sc) < 0 || sift_engine_add_input(e, path) != 1)
        abort(); /* out of memory on a fuzzer's small inputs is a bug */
    if (sift_engine_run(e) < 0)
        abort();
    const void *cfgs[] = {NULL, &fc, &sc};
    for (int p = 0; p < 3; p++) {
        const void *st = sift_engine_state(e, 0, p);
        const sift_pass_t *pass = p == 0   ? &sift_info_pass
                                  : p == 1 ? &sift_flows_pass
                                           : &sift_stats_pass;
        if (st)
            check_cache(pass, cfgs[p], st, data, size);
    }
    sift_engine_free(e);
    sift_ctx_free(ctx);
    close(fd);
    return 0;
}
