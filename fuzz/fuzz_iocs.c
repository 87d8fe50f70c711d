/* Fuzz target: indicator lists (user files: text, CSV, STIX JSON), written to a temporary file
 * under each name the loader tells apart, then built and looked up. */
#include <capsift/ioc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"list.txt", "list.csv"};
    char dir[] = "/tmp/capsift-fuzz-iocs-XXXXXX";
    if (!mkdtemp(dir))
        return 0;
    for (size_t k = 0; k < 2; k++) {
        char path[64];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        FILE *f = fopen(path, "wb");
        if (!f)
            continue;
        fwrite(data, 1, size, f);
        fclose(f);
        sift_ctx_t *ctx = NULL;
        sift_iocs_t *l = NULL;
        if (sift_ctx_create(&ctx) == 0 && sift_iocs_create(&l) == 0 &&
            sift_iocs_load(l, ctx, path) == 0 && sift_iocs_build(l, ctx, 0) == 0) {
            for (size_t i = 0; i < sift_iocs_count(l); i++) {
                const sift_ioc_t *o = sift_iocs_at(l, i);
                long id = o->kind == SIFT_IOC_NAME
                              ? sift_iocs_find_name(l, o->name, strlen(o->name))
                              : sift_iocs_find_addr(l, o->addr);
                if (id < 0 && o->kind != SIFT_IOC_CIDR)
                    abort(); /* a member not found */
            }
            sift_iocs_find_name(l, (const char *)data, size < 300 ? size : 300);
        }
        sift_iocs_free(l);
        sift_ctx_free(ctx);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
