/* capsift: the command table and the top-level options. */
#include "cli.h"

#include <string.h>

static const cli_command_t commands[] = {
    {"info", "summarise capture files: format, link types, packets, bytes, time span, damage",
     cmd_info, help_info},
    {"bench", "measure the building blocks against naive baselines on real capture data", cmd_bench,
     help_bench},
    {"flows", "list flows: addresses, ports, protocol, application, packets and bytes each way",
     cmd_flows, help_flows},
    {"stats", "protocol hierarchy, top talkers and ports, packet sizes, rate timeline", cmd_stats,
     help_stats},
    {"index", "index captures into a database; later runs read only new or changed files",
     cmd_index, help_index},
    {"query", "list indexed flows by host, net, port, protocol, app, time, size", cmd_query,
     help_query},
    {"extract", "write the packets of matching indexed flows to a new capture", cmd_extract,
     help_extract},
    {"cache", "result cache: statistics, clear", cmd_cache, help_cache},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

const cli_command_t *cli_find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: capsift COMMAND [OPTIONS] [FILE...]\n"
                 "       capsift help COMMAND | --help | --version\n\n"
                 "Fast analysis of large packet captures (pcap, pcapng, snoop; plain, gzip or "
                 "zstd).\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
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
        if (!c) {
            cli_error("unknown command '%s' (see 'capsift --help')", argv[2]);
            return CLI_USAGE;
        }
        c->help(stdout);
        return CLI_OK;
    }
    const cli_command_t *c = cli_find_command(cmd);
    if (!c) {
        cli_error("unknown command '%s' (see 'capsift --help')", cmd);
        return CLI_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
