/* capsift: the command table and the top-level options. */
#include "cli.h"

#include <string.h>

static const cli_command_t *const commands[] = {
    &cli_cmd_info,     &cli_cmd_bench,      &cli_cmd_flows,    &cli_cmd_meta,     &cli_cmd_search,
    &cli_cmd_match,    &cli_cmd_diff,       &cli_cmd_stats,    &cli_cmd_timeline, &cli_cmd_periodic,
    &cli_cmd_spectrum, &cli_cmd_cluster,    &cli_cmd_classify, &cli_cmd_index,    &cli_cmd_query,
    &cli_cmd_extract,  &cli_cmd_signatures, &cli_cmd_cache,
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

const cli_command_t *const *cli_commands(size_t *n)
{
    *n = NCOMMANDS;
    return commands;
}

const cli_command_t *cli_find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

/* "unknown command", with the nearest one when it is a slip of the keyboard away. */
static int unknown_command(const char *name)
{
    const cli_command_t *near = NULL;
    size_t best = 3;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        size_t d = cli_distance(name, commands[i]->name);
        if (d < best) {
            best = d;
            near = commands[i];
        }
    }
    if (near)
        cli_error("unknown command '%s'; did you mean '%s'? (see 'capsift --help')", name,
                  near->name);
    else
        cli_error("unknown command '%s' (see 'capsift --help')", name);
    return CLI_USAGE;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: capsift COMMAND [OPTIONS] [FILE...]\n"
                 "       capsift help COMMAND | --help | --version\n\n"
                 "Fast analysis of large packet captures (pcap, pcapng, snoop; plain, gzip or "
                 "zstd).\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\n'capsift COMMAND --help' or 'capsift help COMMAND' for a command's options.\n"
                 "Exit status: 0 all inputs read whole, 1 some input damaged or unreadable, 2 "
                 "usage error, 3 failure.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("capsift %s\n", sift_version());
        return CLI_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return CLI_OK;
        }
        const cli_command_t *c = cli_find_command(argv[2]);
        if (!c)
            return unknown_command(argv[2]);
        cli_help(stdout, c);
        return CLI_OK;
    }
    const cli_command_t *c = cli_find_command(cmd);
    if (!c)
        return unknown_command(cmd);
    return c->run(argc - 1, argv + 1);
}
