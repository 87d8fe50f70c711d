/* capsift extract: the packets of the indexed flows matching an expression, as a new capture. */
#include "cli.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct extract_args {
    const char *out;
    bool force;
    cli_common_t co;
} extract_args_t;

#define A(field) offsetof(extract_args_t, field)
static const cli_opt_t extract_opts[] = {
    {.name = "write",
     .short_name = 'w',
     .kind = CLI_K_STRING,
     .offset = A(out),
     .arg = "FILE",
     .help = "the output; '-' is standard output (pipe it to tcpdump -r -)"},
    {.name = "force",
     .kind = CLI_K_FLAG,
     .offset = A(force),
     .help = "replace an existing output file"},
};

const cli_command_t cli_cmd_extract = {
    .name = "extract",
    .summary = "write the packets of matching indexed flows to a new capture",
    .run = cmd_extract,
    .usage = "capsift extract [OPTIONS] EXPRESSION -w OUT",
    .about = "Writes the packets of the indexed flows matching EXPRESSION (the language of\n"
             "capsift query) to OUT, read by offset from the original files, in timestamp order:\n"
             "a pcap, or a pcapng when the flows' files have different link types. A source file\n"
             "that changed since it was indexed is refused before anything is written.\n\n"
             "OUT is written beside its final name and renamed into place when complete, so a\n"
             "failed run leaves whatever was at OUT as it was. An existing OUT is replaced only\n"
             "with --force; the index and the files it names are never overwritten. A device or\n"
             "FIFO is written in place.\n",
    .opts = extract_opts,
    .nopts = sizeof extract_opts / sizeof extract_opts[0],
    .common = CLI_C_DB,
    .footer = "exit status: 0 written, 2 usage or syntax error, 3 failure (stale source, index\n"
              "unreadable, output exists or not writable); nothing is left at OUT on failure.\n",
};

int cmd_extract(int argc, char **argv)
{
    extract_args_t a = {0};
    int rc = cli_parse(&cli_cmd_extract, argc, argv, &a, &a.co);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    const char *outpath = a.out;
    if (!outpath || a.co.nargs != 1) {
        cli_error("give one EXPRESSION and -w OUT (see 'capsift extract --help')");
        return CLI_USAGE;
    }
    bool to_stdout = strcmp(outpath, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO)) {
        cli_error("will not write a capture to a terminal; redirect it or pipe it");
        return CLI_USAGE;
    }
    sift_query_t *q = NULL;
    rc = cli_compile_query(a.co.args[0], &q);
    if (rc != 0)
        return rc;
    sift_ctx_t *ctx = NULL;
    sift_index_t *ix = NULL;
    sift_extract_summary_t sum = {0};
    if (sift_ctx_create(&ctx) < 0) {
        cli_error("out of memory");
        rc = CLI_FAILED;
    } else if ((rc = cli_index_open(ctx, a.co.db, &ix)) == CLI_OK &&
               sift_index_extract_file(ix, q, outpath, a.force, &sum) < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK)
        cli_note("wrote %" PRIu64 " packets (%" PRIu64 " bytes) of %" PRIu64 " flows from %" PRIu64
                 " files%s",
                 sum.packets, sum.bytes, sum.flows, sum.files, sum.pcapng ? " as pcapng" : "");
    sift_query_free(q);
    sift_index_close(ix);
    sift_ctx_free(ctx);
    return rc;
}
