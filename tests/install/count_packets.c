/* A program built against an installed libcapsift (tests/cli/test_install.sh): the packets of
 * each capture named, through the engine and the info pass. */
#include <capsift/capsift.h>

#include <inttypes.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    sift_ctx_t *ctx = NULL;
    sift_engine_t *e = NULL;
    sift_engine_opts_t opts = {.threads = 1};
    if (sift_ctx_create(&ctx) < 0 || sift_engine_create(&e, ctx, &opts) < 0)
        return 3;
    int pass = sift_engine_add_pass(e, &sift_info_pass, NULL);
    for (int i = 1; i < argc; i++)
        if (sift_engine_add_input(e, argv[i]) < 0) {
            fprintf(stderr, "%s\n", sift_ctx_errmsg(ctx));
            return 2;
        }
    int rc = sift_engine_run(e) < 0 ? 3 : 0;
    for (size_t i = 0; rc == 0 && i < sift_engine_ninputs(e); i++) {
        sift_info_summary_t s;
        sift_info_get(sift_engine_state(e, i, pass), &s);
        printf("%s %" PRIu64 "\n", sift_engine_input(e, i)->path, s.packets);
    }
    sift_engine_free(e);
    sift_ctx_free(ctx);
    return rc;
}
