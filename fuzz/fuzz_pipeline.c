/* Fuzz target: the whole pipeline on one buffer, as `capsift info`, `flows` and `stats` run
 * it: the engine with the reader, the decoder, the flow stage and the info, flows and stats
 * passes. The buffer is the capture (a memory file, so replayed captures read as they are);
 * its last byte chooses the range size the engine splits it into (the merge of ranges, the
 * continuation of flows cut by a boundary) and whether nDPI runs (it is slow to set up, so
 * only for one input in 32). */
#include <capsift/capsift.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    sift_engine_free(e);
    sift_ctx_free(ctx);
    close(fd);
    return 0;
}
