/* Fuzz target: the whole pipeline on one buffer, as `capsift info`, `flows` and `stats` run
 * it: the reader, the decoder, and the info, flows and stats passes. The records are split
 * between two states of each pass that are then merged, as the engine merges the ranges of a
 * split file. The whole input is the capture, so replayed captures read as they are; its last
 * byte also chooses the split point and whether nDPI runs (it is slow to set up, so only for
 * one input in 32). */
#include <capsift/capsift.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NPASS = 3 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool app = (data[size - 1] & 31) == 0;
    unsigned split = data[size - 1] >> 3; /* records before the cut */
    sift_flows_config_t fc = {.no_app = !app};
    sift_stats_config_t sc = {.no_app = !app, .max_keys = 64};
    sift_pass_t passes[NPASS] = {sift_info_pass, sift_flows_pass, sift_stats_pass};
    passes[1].needs = sift_flows_needs(&fc);
    passes[2].needs = sift_stats_needs(&sc);
    const void *configs[NPASS] = {NULL, &fc, &sc};
    void *st[2][NPASS] = {{NULL}};
    sift_need_t need = SIFT_NEED_RECORD;
    for (int p = 0; p < NPASS; p++) {
        if (passes[p].needs > need)
            need = passes[p].needs;
        for (int h = 0; h < 2; h++) {
            st[h][p] = calloc(1, passes[p].state_size);
            if (!st[h][p] || (passes[p].init && passes[p].init(st[h][p], configs[p]) < 0))
                abort(); /* out of memory on a fuzzer's small inputs is a bug */
        }
    }
    sift_ctx_t *ctx = NULL;
    sift_reader_t *r = NULL;
    sift_reader_opts_t ro = {.buffer_size = 4096, .max_problems = 8};
    if (sift_ctx_create(&ctx) == 0 &&
        sift_reader_open_memory(&r, ctx, data, size, "fuzz", &ro) == 0) {
        sift_record_t rec;
        sift_packet_t pkt = {.rec = &rec};
        for (unsigned n = 0; sift_reader_next(r, &rec) == 1; n++) {
            sift_decode(&pkt, &rec, need);
            for (int p = 0; p < NPASS; p++)
                passes[p].packet(st[n >= split][p], &pkt);
        }
        sift_reader_close(r);
    }
    for (int p = 0; p < NPASS; p++) {
        if (passes[p].merge(st[0][p], st[1][p]) < 0)
            abort();
        for (int h = 0; h < 2; h++) {
            if (passes[p].release)
                passes[p].release(st[h][p]);
            free(st[h][p]);
        }
    }
    sift_ctx_free(ctx);
    return 0;
}
