/* Fuzz target: the capture reader over a memory buffer (every format, compressed or not). */
#include <capsift/reader.h>

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sift_ctx_t *ctx = NULL;
    if (sift_ctx_create(&ctx) < 0)
        return 0;
    sift_reader_opts_t opts = {.buffer_size = 4096, .max_problems = 8};
    sift_reader_t *r = NULL;
    if (sift_reader_open_memory(&r, ctx, data, size, "fuzz", &opts) == 0) {
        sift_record_t rec;
        volatile uint64_t sum = 0;
        while (sift_reader_next(r, &rec) == 1) {
            /* touch every byte handed out: ASan sees any record outside the input */
            for (uint32_t i = 0; i < rec.caplen; i++)
                sum += rec.data[i];
        }
        const sift_file_meta_t *m = sift_reader_meta(r);
        for (size_t i = 0; i < m->niface; i++)
            sum += m->iface[i].linktype;
        for (size_t i = 0; i < sift_reader_nproblems(r); i++)
            sum += sift_reader_problem(r, i)->offset;
        (void)sum;
        sift_reader_close(r);
    }
    sift_ctx_free(ctx);
    return 0;
}
