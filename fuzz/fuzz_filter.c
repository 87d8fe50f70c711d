/* Fuzz target: BPF filter expressions as the engine takes them from -f (user text). The input
 * is EXPRESSION NUL PACKET: the expression is compiled (for Ethernet, else raw IP) and run on
 * the packet as Ethernet, raw IP and Linux cooked capture, which compiles it for those link
 * types too. Inputs without a NUL are all expression. */
#include <capsift/filter.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t elen = nul ? (size_t)(nul - data) : size;
    if (elen > 4096) /* the compile time of long expressions is bounded by the term limit */
        return 0;
    char *expr = malloc(elen + 1);
    size_t plen = nul ? size - elen - 1 : 0;
    uint8_t *pkt = malloc(plen ? plen : 1);
    if (!expr || !pkt) {
        free(expr);
        free(pkt);
        return 0;
    }
    memcpy(expr, data, elen);
    expr[elen] = '\0';
    if (plen)
        memcpy(pkt, nul + 1, plen);
    char err[SIFT_ERRBUF_SIZE];
    sift_filter_t *f = NULL;
    if (sift_filter_create(&f, expr, err) == 0) {
        static const uint32_t lts[] = {1, 101, 113, 1};
        for (size_t i = 0; i < sizeof lts / sizeof *lts; i++) {
            sift_record_t rec = {.linktype = lts[i],
                                 .caplen = (uint32_t)plen,
                                 .wirelen = (uint32_t)plen,
                                 .data = pkt};
            int m = sift_filter_match(f, &rec, err);
            if (m != 0 && m != 1 && m != SIFT_EFILTER)
                abort();
        }
        sift_filter_free(f);
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    free(expr);
    free(pkt);
    return 0;
}
