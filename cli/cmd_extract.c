/* capsift extract: the packets of the indexed flows matching an expression, as a new capture. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void help_extract(FILE *out)
{
    fprintf(out,
            "usage: capsift extract [OPTIONS] EXPRESSION -w OUT\n\n"
            "Writes the packets of the indexed flows matching EXPRESSION (the language of\n"
            "capsift query) to OUT, read by offset from the original files, in timestamp order:\n"
            "a pcap, or a pcapng when the flows' files have different link types. A source file\n"
            "that changed since it was indexed is refused before anything is written.\n\n"
            "OUT is written beside its final name and renamed into place when complete, so a\n"
            "failed run leaves whatever was at OUT as it was. An existing OUT is replaced only\n"
            "with --force; the index and the files it names are never overwritten. A device or\n"
            "FIFO is written in place.\n\n"
            "options:\n"
            "  -w FILE        the output; '-' is standard output (pipe it to tcpdump -r -)\n"
            "  --force        replace an existing output file\n"
            "  --db FILE      the index (default: ./capsift.db)\n"
            "  -h, --help     this help\n\n"
            "exit status: 0 written, 2 usage or syntax error, 3 failure (stale source, index\n"
            "unreadable, output exists or not writable); nothing is left at OUT on failure.\n");
}

int cmd_extract(int argc, char **argv)
{
    enum { O_DB = 256, O_FORCE };
    static const struct option longopts[] = {{"db", required_argument, NULL, O_DB},
                                             {"force", no_argument, NULL, O_FORCE},
                                             {"write", required_argument, NULL, 'w'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *db = "capsift.db", *outpath = NULL;
    bool force = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_DB:
            db = optarg;
            break;
        case 'w':
            outpath = optarg;
            break;
        case O_FORCE:
            force = true;
            break;
        case 'h':
            help_extract(stdout);
            return CLI_OK;
        default:
            fprintf(stderr, "see 'capsift extract --help'\n");
            return CLI_USAGE;
        }
    }
    if (!outpath || argc - optind != 1) {
        cli_error("extract: give one EXPRESSION and -w OUT (see 'capsift extract --help')");
        return CLI_USAGE;
    }
    bool to_stdout = strcmp(outpath, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO)) {
        cli_error("extract: will not write a capture to a terminal; redirect it or pipe it");
        return CLI_USAGE;
    }
    sift_query_t *q = NULL;
    int rc = cli_compile_query("extract", argv[optind], &q);
    if (rc != 0)
        return rc;
    sift_ctx_t *ctx = NULL;
    sift_index_t *ix = NULL;
    sift_index_opts_t io = {.read_only = true};
    sift_extract_summary_t sum = {0};
    if (sift_ctx_create(&ctx) < 0) {
        rc = CLI_FAILED;
    } else if (sift_index_open(&ix, ctx, db, &io) < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        rc = CLI_FAILED;
    } else if (sift_index_extract_file(ix, q, outpath, force, &sum) < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK)
        fprintf(stderr,
                "capsift: wrote %" PRIu64 " packets (%" PRIu64 " bytes) of %" PRIu64
                " flows from %" PRIu64 " files%s\n",
                sum.packets, sum.bytes, sum.flows, sum.files, sum.pcapng ? " as pcapng" : "");
    sift_query_free(q);
    sift_index_close(ix);
    sift_ctx_free(ctx);
    return rc;
}
