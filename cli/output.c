/* Output helpers shared by the commands: errors, progress, JSON strings, human sizes. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_error_count++;
    fputs("capsift: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_threads_option(const char *cmd, const char *arg, int *threads)
{
    *threads = cli_parse_threads(arg);
    if (*threads < 0) {
        cli_error("%s: -j needs a thread count from 1 to 1024, not '%s'", cmd, arg);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_need_inputs(const char *cmd, int argc, int optind_)
{
    if (optind_ < argc)
        return CLI_OK;
    cli_error("%s: no input files (see 'capsift %s --help')", cmd, cmd);
    return CLI_USAGE;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return -1;
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1000;
    else if (*end == 'M')
        mul = 1000000;
    else if (*end == 'G')
        mul = 1000000000;
    else if (*end != '\0')
        return -1;
    if (mul > 1 && end[1] != '\0')
        return -1;
    *out = (uint64_t)v * mul;
    return 0;
}

int cli_parse_threads(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 1 || v > 1024)
        return -1;
    return (int)v;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_init(cli_progress_t *p)
{
    p->enabled = isatty(STDERR_FILENO) != 0;
    p->shown = false;
    p->start = cli_now();
}

void cli_progress_cb(void *user, uint64_t done, uint64_t total, uint64_t packets)
{
    cli_progress_t *p = user;
    if (!p->enabled || cli_now() - p->start < 1.0)
        return;
    char a[32], b[32];
    if (total > 0)
        fprintf(stderr, "\rcapsift: %3.0f%%  %s of %s, %.1f M packets ",
                100.0 * (double)done / (double)total, cli_human_bytes(a, sizeof a, (double)done),
                cli_human_bytes(b, sizeof b, (double)total), (double)packets / 1e6);
    else
        fprintf(stderr, "\rcapsift: %s, %.1f M packets ",
                cli_human_bytes(a, sizeof a, (double)done), (double)packets / 1e6);
    p->shown = true;
}

void cli_progress_end(cli_progress_t *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = false;
}

void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

const char *cli_human_bytes(char *buf, size_t size, double bytes)
{
    static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (bytes >= 1000.0 && u < 5) {
        bytes /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%.0f B", bytes);
    else
        snprintf(buf, size, "%.1f %s", bytes, units[u]);
    return buf;
}
