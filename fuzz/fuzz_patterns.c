/* Fuzz target: search patterns (user text: literals, |hex|, quoted, /regex/flags), each line
 * of the input one pattern; a set that parses is compiled and scans the input itself in both
 * modes. */
#include <capsift/search.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool count(void *user, unsigned id, uint64_t from, uint64_t to)
{
    (void)id;
    if (from > to)
        abort();
    (*(size_t *)user)++;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    sift_ctx_t *ctx = NULL;
    sift_patterns_t *ps = NULL;
    if (!s || sift_ctx_create(&ctx) < 0 || sift_patterns_create(&ps) < 0)
        goto out;
    memcpy(s, data, size);
    s[size] = '\0';
    unsigned line = 0;
    for (char *save = NULL, *t = strtok_r(s, "\n", &save); t && line < 16;
         t = strtok_r(NULL, "\n", &save))
        (void)sift_patterns_add(ps, ctx, t, false, "fuzz", ++line);
    for (int stream = 0; stream < 2 && sift_patterns_count(ps) > 0; stream++) {
        sift_matcher_t *m = NULL;
        sift_scanner_t *sc = NULL;
        sift_matcher_opts_t mo = {.stream = stream};
        if (sift_matcher_compile(&m, ctx, ps, &mo, NULL) == 0 && sift_scanner_create(&sc, m) == 0) {
            size_t n = 0;
            if (!stream) {
                sift_scan_block(sc, data, size, count, &n);
            } else {
                sift_stream_t *st = NULL;
                if (sift_stream_open(&st, m) == 0) {
                    sift_stream_scan(st, sc, data, size / 2, count, &n);
                    sift_stream_scan(st, sc, data + size / 2, size - size / 2, count, &n);
                    sift_stream_close(st, sc, count, &n);
                }
            }
        }
        sift_scanner_free(sc);
        sift_matcher_free(m);
    }
out:
    sift_patterns_free(ps);
    sift_ctx_free(ctx);
    free(s);
    return 0;
}
