/* The capsift program: shared declarations of the command files. */
#ifndef CAPSIFT_CLI_H
#define CAPSIFT_CLI_H

#include <capsift/capsift.h>

#include <stdbool.h>
#include <stdio.h>

/* Exit codes, the same for every command. */
enum {
    CLI_OK = 0,      /* everything read whole */
    CLI_DAMAGED = 1, /* some input was damaged or unreadable; its partial results printed */
    CLI_USAGE = 2,   /* bad options or arguments */
    CLI_FAILED = 3   /* the run itself failed (out of memory, cannot start threads) */
};

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);
} cli_command_t;

int cmd_info(int argc, char **argv);
void help_info(FILE *out);
int cmd_bench(int argc, char **argv);
void help_bench(FILE *out);
int cmd_flows(int argc, char **argv);
void help_flows(FILE *out);
int cmd_stats(int argc, char **argv);
void help_stats(FILE *out);

/* Looks up a command by name (NULL when unknown). */
const cli_command_t *cli_find_command(const char *name);

/* Prints "capsift: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a thread count ("-j N"); returns -1 when invalid. */
int cli_parse_threads(const char *s);

/* Progress on stderr when it is a terminal and the work has taken more than a second. */
typedef struct cli_progress {
    bool enabled;
    bool shown;
    double start;
} cli_progress_t;

void cli_progress_init(cli_progress_t *p);
void cli_progress_cb(void *user, uint64_t done, uint64_t total, uint64_t packets);
void cli_progress_end(cli_progress_t *p);

double cli_now(void);

/* JSON output: strings escaped per RFC 8259. */
void json_string(FILE *out, const char *s);

/* "1.2 MB" style sizes (decimal units). */
const char *cli_human_bytes(char *buf, size_t size, double bytes);

#endif
