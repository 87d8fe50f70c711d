/* Fuzz target: the flow query language (user text) and the time parser. */
#include <capsift/query.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    sift_query_t *q = NULL;
    char err[SIFT_ERRBUF_SIZE];
    size_t col = 0;
    if (sift_query_compile(&q, s, err, &col) == 0) {
        volatile size_t n = strlen(sift_query_sql(q)) + sift_query_nparams(q);
        (void)n;
        sift_query_free(q);
    }
    int64_t ns;
    (void)sift_parse_time(s, &ns);
    free(s);
    return 0;
}
