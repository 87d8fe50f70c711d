/* Output helpers shared by the commands: reports, progress, JSON strings, human sizes. */
#include "cli.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_expand_note(const sift_expand_stats_t *s)
{
    if (sift_expand_left_out(s) == 0)
        return;
    static const char *const what[] = {"not captures",        "hidden",
                                       "named twice (links)", "directories reached again (links)",
                                       "broken links",        "devices, FIFOs or sockets",
                                       "past 64 levels"};
    const uint64_t n[] = {s->not_captures, s->hidden,    s->duplicates, s->dirs_again,
                          s->broken_links, s->not_files, s->too_deep};
    char line[512] = "left out of the directories given:";
    size_t len = strlen(line);
    const char *sep = " ";
    for (size_t i = 0; i < sizeof n / sizeof *n && len < sizeof line; i++)
        if (n[i]) {
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%" PRIu64 " %s", sep, n[i],
                                    what[i]);
            sep = ", ";
        }
    cli_error("%s", line);
}

uint64_t cli_memory_default(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 4000000000ull;
    return phys / 4;
}

uint64_t cli_flow_cap(const cli_limits_t *l, bool app)
{
    if (l->max_flows)
        return l->max_flows;
    /* half for the table of one input, half for what is being merged into it */
    return sift_flows_max_for_memory((l->memory ? l->memory : cli_memory_default()) / 2, app);
}

/* What to do about a limit a pass reached: for the flow table's, which option set it. */
static void limit_hint(const sift_report_t *r, const cli_limits_t *l, char *buf, size_t size)
{
    char mem[32];
    buf[0] = '\0';
    if (r->code != SIFT_ELIMIT || strcmp(r->name, "flows") != 0 || !l)
        return;
    if (l->max_flows)
        snprintf(buf, size, "; raise --max-flows, or use --idle-timeout");
    else
        snprintf(buf, size,
                 "; the memory budget (%s, --memory) sets it: raise --memory or --max-flows",
                 cli_human_bytes(mem, sizeof mem,
                                 (double)(l->memory ? l->memory : cli_memory_default())));
}

int cli_report_input(const sift_input_t *in, const cli_limits_t *limits, bool problems)
{
    if (in->error[0])
        cli_error("%s", in->error);
    if (in->warning[0])
        cli_error("%s: %s (%" PRIu64 " packets left out)", in->path, in->warning, in->filtered_out);
    for (size_t k = 0; problems && k < in->nproblems && k < 3; k++)
        cli_error("%s: at byte %" PRIu64 ": %s", in->path, in->problems[k].offset,
                  in->problems[k].message);
    for (size_t k = 0; k < in->nreports; k++) {
        char hint[160];
        limit_hint(&in->reports[k], limits, hint, sizeof hint);
        cli_error("%s: %s%s", in->path, in->reports[k].message, hint);
    }
    bool bad = in->error[0] || in->status < 0 || in->problems_total > 0 || in->pass_status < 0;
    return bad ? CLI_DAMAGED : CLI_OK;
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

/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (n == 0 || c >= 0xf5 || c == 0xc0 || c == 0xc1)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    const unsigned char *p = (const unsigned char *)s, *run = p; /* bytes written as they are */
    for (; *p; p++) {
        if (json_plain(*p))
            continue;
        fwrite(run, 1, (size_t)(p - run), out);
        if (*p >= 0x80) {
            size_t n = utf8_seq(p);
            if (n == 0) /* a byte that is not UTF-8: U+DC80..U+DCFF, as surrogateescape */
                fprintf(out, "\\udc%02x", *p);
            else
                fwrite(p, 1, n, out);
            p += n ? n - 1 : 0;
        } else if (*p == '"') {
            fputs("\\\"", out);
        } else if (*p == '\\') {
            fputs("\\\\", out);
        } else if (*p == '\n') {
            fputs("\\n", out);
        } else if (*p == '\t') {
            fputs("\\t", out);
        } else if (*p == '\r') {
            fputs("\\r", out);
        } else {
            fprintf(out, "\\u%04x", *p);
        }
        run = p + 1;
    }
    fwrite(run, 1, (size_t)(p - run), out);
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
