/* Options as data: the common table, getopt_long's tables built from a command's, --help and
 * every message about an option. Values go through the library's checked parsers
 * (capsift/parse.h), so a value that would wrap or read as "no limit" is refused. */
#include "cli.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const time_formats[] = {"iso", "epoch", "relative", "local", NULL};

#define C(field) offsetof(cli_common_t, field)

/* In the order --help lists them, each with its CLI_C_ bit. */
static const struct common_opt {
    unsigned bit;
    cli_opt_t opt;
} common_opts[] = {
    {CLI_C_INPUT,
     {.name = "read",
      .short_name = 'r',
      .kind = CLI_K_LIST,
      .offset = C(reads),
      .arg = "FILE",
      .help = "an input (tcpdump's and tshark's spelling; repeatable); also any FILE|DIR after the "
              "options"}},
    {CLI_C_FILTER,
     {.name = "filter",
      .short_name = 'f',
      .kind = CLI_K_STRING,
      .offset = C(filter),
      .arg = "EXPR",
      .help = "only packets matching a BPF filter (tcpdump syntax)"}},
    {CLI_C_JSON,
     {.name = "json",
      .kind = CLI_K_SET,
      .offset = C(format),
      .help = "one JSON object per line",
      .value = CLI_FORMAT_JSON}},
    {CLI_C_CSV,
     {.name = "csv",
      .kind = CLI_K_SET,
      .offset = C(format),
      .help = "comma-separated values with a header row",
      .value = CLI_FORMAT_CSV}},
    {CLI_C_TIME,
     {.name = "time-format",
      .kind = CLI_K_CHOICE,
      .offset = C(time_format),
      .arg = "FMT",
      .help = "times in text: iso (UTC, the default), epoch (seconds), relative (to the file's "
              "first packet) or local (ISO 8601 in the local time zone)",
      .choices = time_formats}},
    {CLI_C_DB,
     {.name = "db",
      .kind = CLI_K_STRING,
      .offset = C(db),
      .arg = "FILE",
      .help = "the index (default: ./capsift.db)"}},
    {CLI_C_LIMITS,
     {.name = "memory",
      .kind = CLI_K_SIZE,
      .offset = C(limits.memory),
      .arg = "SIZE",
      .help = "memory budget for flow tables (default: a quarter of RAM); past it further flows "
              "are counted, reported, not listed",
      .min = 64000000,
      .max = UINT64_MAX}},
    {CLI_C_LIMITS,
     {.name = "max-flows",
      .kind = CLI_K_COUNT,
      .offset = C(limits.max_flows),
      .arg = "N",
      .help = "flows held at most per table instead of what --memory allows",
      .min = 1,
      .max = UINT32_MAX}},
    {CLI_C_NO_CACHE,
     {.name = "no-cache",
      .kind = CLI_K_FLAG,
      .offset = C(no_cache),
      .help = "compute again instead of answering from the result cache"}},
    {CLI_C_QUIET,
     {.name = "quiet",
      .short_name = 'q',
      .kind = CLI_K_FLAG,
      .offset = C(quiet),
      .help = "no notes or per-file lines: results, summaries and problems only"}},
    {CLI_C_THREADS,
     {.name = "threads",
      .short_name = 'j',
      .kind = CLI_K_COUNT,
      .offset = C(threads),
      .arg = "N",
      .help = "worker threads (default: the number of cores)",
      .min = 1,
      .max = 1024}},
};

#define NCOMMON (sizeof common_opts / sizeof common_opts[0])
#define MAXOPTS 64

/* The options of one command: its own, then the common ones it takes. Where an option sits
 * in the command's struct or in co. */
typedef struct optset {
    const cli_opt_t *v[MAXOPTS];
    bool common[MAXOPTS];
    size_t n;
} optset_t;

static void optset_of(const cli_command_t *cmd, optset_t *s)
{
    s->n = 0;
    for (size_t i = 0; i < cmd->nopts && s->n < MAXOPTS; i++) {
        s->common[s->n] = false;
        s->v[s->n++] = &cmd->opts[i];
    }
    for (size_t i = 0; i < NCOMMON && s->n < MAXOPTS; i++)
        if (cmd->common & common_opts[i].bit) {
            s->common[s->n] = true;
            s->v[s->n++] = &common_opts[i].opt;
        }
    assert(s->n < MAXOPTS);
}

static const char *cmd_name = NULL;

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cmd_name)
        fprintf(stderr, "capsift %s: ", cmd_name);
    else
        fputs("capsift: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* "--top", or "-j" for an option given by its short name. */
static void opt_label(char *buf, size_t size, const cli_opt_t *o, bool as_short)
{
    if (as_short && o->short_name)
        snprintf(buf, size, "-%c", o->short_name);
    else
        snprintf(buf, size, "--%s", o->name);
}

/* "0.000001 s", "1000000000 s": seconds without trailing zeros. */
static void seconds_text(char *buf, size_t size, int64_t ns)
{
    char num[40];
    snprintf(num, sizeof num, "%.9f", (double)ns / 1e9);
    char *z = num + strlen(num) - 1;
    while (*z == '0')
        *z-- = '\0';
    if (*z == '.')
        *z = '\0';
    snprintf(buf, size, "%s s", num);
}

/* A value into its field: CLI_OK, or CLI_USAGE after saying what was expected or the range. */
static int set_value(const cli_opt_t *o, const char *label, char *field, const char *arg)
{
    char lo[32], hi[32];
    const char *kind = NULL;
    int rc = 0;
    switch (o->kind) {
    case CLI_K_STRING:
        *(const char **)(void *)field = arg;
        return CLI_OK;
    case CLI_K_LIST: {
        cli_list_t *l = (cli_list_t *)(void *)field;
        if (l->n == CLI_LIST_MAX) {
            cli_error("%s is given at most %d times", label, CLI_LIST_MAX);
            return CLI_USAGE;
        }
        l->v[l->n++] = arg;
        return CLI_OK;
    }
    case CLI_K_CHOICE: {
        size_t n = 0;
        for (; o->choices[n]; n++)
            if (strcmp(o->choices[n], arg) == 0) {
                *(int *)(void *)field = (int)n;
                return CLI_OK;
            }
        char list[256] = "";
        size_t len = 0;
        for (size_t i = 0; i < n && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                    i == 0       ? ""
                                    : i == n - 1 ? " or "
                                                 : ", ",
                                    o->choices[i]);
        cli_error("%s takes %s, not '%s'", label, list, arg);
        return CLI_USAGE;
    }
    case CLI_K_COUNT:
        rc = sift_parse_count(arg, o->min, o->max, (uint64_t *)(void *)field);
        kind = "a whole number (like 100 or 10k)";
        snprintf(lo, sizeof lo, "%" PRIu64, o->min);
        snprintf(hi, sizeof hi, "%" PRIu64, o->max);
        break;
    case CLI_K_SIZE:
        rc = sift_parse_size(arg, o->min, o->max, (uint64_t *)(void *)field);
        kind = "a size (like 4096, 500M, 1.5G or 64KiB)";
        cli_human_bytes(lo, sizeof lo, (double)o->min);
        cli_human_bytes(hi, sizeof hi, (double)o->max);
        break;
    case CLI_K_DURATION:
        rc = sift_parse_duration(arg, (int64_t)o->min, (int64_t)o->max, (int64_t *)(void *)field);
        kind = "a duration (like 30, 1.5s, 500ms, 2m or 1h)";
        seconds_text(lo, sizeof lo, (int64_t)o->min);
        seconds_text(hi, sizeof hi, (int64_t)o->max);
        break;
    default:
        assert(!"an option without a value");
        return CLI_USAGE;
    }
    if (rc == 0)
        return CLI_OK;
    if (rc == SIFT_ELIMIT)
        cli_error("%s must be from %s to %s, not '%s'", label, lo, hi, arg);
    else
        cli_error("%s needs %s, not '%s'", label, kind, arg);
    return CLI_USAGE;
}

size_t cli_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 9;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] < 9 ? row[lb] : 9;
}

/* The option of s nearest to name: the one that stands for it (.like), else the closest by
 * spelling within a third of its length. */
static const cli_opt_t *nearest(const optset_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i]->like && strcmp(s->v[i]->like, name) == 0)
            return s->v[i];
    const cli_opt_t *best = NULL;
    size_t bd = strlen(name) / 3 + 1;
    for (size_t i = 0; i < s->n; i++) {
        size_t d = cli_distance(name, s->v[i]->name);
        if (d < bd || (d == bd && !best && d <= 2)) {
            best = s->v[i];
            bd = d;
        }
    }
    return best;
}

/* The commands that have an option named name (long, or short when it is one character):
 * "flows", "flows and stats", "flows, query and stats". */
static void owners(const cli_command_t *self, const char *name, char *buf, size_t size)
{
    size_t n, found = 0;
    const char *names[16];
    const cli_command_t *const *all = cli_commands(&n);
    for (size_t i = 0; i < n && found < 16; i++) {
        optset_t s;
        optset_of(all[i], &s);
        for (size_t k = 0; all[i] != self && k < s.n; k++)
            if (name[1] ? strcmp(s.v[k]->name, name) == 0 : s.v[k]->short_name == name[0]) {
                names[found++] = all[i]->name;
                break;
            }
    }
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < found && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                i == 0           ? ""
                                : i == found - 1 ? " and "
                                                 : ", ",
                                names[i]);
}

/* What getopt left unrecognised: unknown, ambiguous, or an option of another command. */
static void unknown_option(const cli_command_t *cmd, const optset_t *s, const char *text)
{
    char name[64];
    bool is_long = text[0] == '-' && text[1] == '-';
    snprintf(name, sizeof name, "%s", text + (is_long ? 2 : 1));
    name[strcspn(name, "=")] = '\0';
    if (is_long && name[0]) {
        char list[256] = "";
        size_t len = 0, hits = 0;
        for (size_t i = 0; i < s->n; i++)
            if (strncmp(s->v[i]->name, name, strlen(name)) == 0 && len < sizeof list) {
                len += (size_t)snprintf(list + len, sizeof list - len, "%s--%s", hits ? ", " : "",
                                        s->v[i]->name);
                hits++;
            }
        if (hits > 1) {
            cli_error("'--%s' is ambiguous: %s (see 'capsift %s --help')", name, list, cmd->name);
            return;
        }
    }
    char own[128], hint[96] = "";
    owners(cmd, name, own, sizeof own);
    const cli_opt_t *near = is_long ? nearest(s, name) : NULL;
    if (near)
        snprintf(hint, sizeof hint, "; did you mean '--%s'?", near->name);
    if (own[0])
        cli_error("'%s%s' is an option of %s, not of %s%s (see 'capsift %s --help')",
                  is_long ? "--" : "-", name, own, cmd->name, hint, cmd->name);
    else
        cli_error("unknown option '%s%s'%s (see 'capsift %s --help')", is_long ? "--" : "-", name,
                  hint, cmd->name);
}

static const char db_default[] = "capsift.db";

int cli_parse(const cli_command_t *cmd, int argc, char **argv, void *args, cli_common_t *co)
{
    memset(co, 0, sizeof *co);
    co->db = db_default;
    cmd_name = cmd->name;
    optset_t s;
    optset_of(cmd, &s);
    struct option longopts[MAXOPTS + 2];
    char shorts[3 * MAXOPTS + 4] = ":h"; /* ':': a missing value comes back as ':' */
    size_t ns = 2, nl = 0;
    bool given[MAXOPTS]; /* SET options given: two of one field conflict (--json --csv) */
    for (size_t i = 0; i < s.n; i++) {
        const cli_opt_t *o = s.v[i];
        bool has_arg = o->kind != CLI_K_FLAG && o->kind != CLI_K_SET;
        longopts[nl++] =
            (struct option){o->name, has_arg ? required_argument : no_argument, NULL, 256 + (int)i};
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (has_arg)
                shorts[ns++] = ':';
        }
        given[i] = false;
    }
    shorts[ns] = '\0';
    longopts[nl++] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[nl] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(stdout, cmd);
            return -1;
        }
        if (c == '?' || c == ':') {
            /* optopt: the option's value (256 + i), its short name, or 0 for an unknown long */
            int k = optopt >= 256 ? optopt - 256 : -1;
            for (size_t i = 0; k < 0 && optopt > 0 && i < s.n; i++)
                if (s.v[i]->short_name == optopt)
                    k = (int)i;
            char label[48];
            if (k >= 0)
                opt_label(label, sizeof label, s.v[k], optopt < 256);
            if (c == ':' && k >= 0)
                cli_error("%s needs a value (%s) (see 'capsift %s --help')", label, s.v[k]->arg,
                          cmd->name);
            else if (k >= 0)
                cli_error("%s takes no value (see 'capsift %s --help')", label, cmd->name);
            else if (optopt > 0)
                unknown_option(cmd, &s, (char[]){'-', (char)optopt, '\0'});
            else
                unknown_option(cmd, &s, argv[optind - 1]);
            return CLI_USAGE;
        }
        size_t k = 0;
        if (c >= 256) {
            k = (size_t)(c - 256);
        } else {
            while (k < s.n && s.v[k]->short_name != c)
                k++;
        }
        assert(k < s.n);
        const cli_opt_t *o = s.v[k];
        char *field = (s.common[k] ? (char *)co : (char *)args) + o->offset;
        char label[48];
        opt_label(label, sizeof label, o, c < 256);
        if (o->kind == CLI_K_FLAG) {
            *(bool *)(void *)field = true;
        } else if (o->kind == CLI_K_SET) {
            for (size_t j = 0; j < s.n; j++)
                if (given[j] && s.common[j] == s.common[k] && s.v[j]->offset == o->offset &&
                    s.v[j]->value != o->value) {
                    cli_error("--%s and %s cannot be used together", s.v[j]->name, label);
                    return CLI_USAGE;
                }
            *(int *)(void *)field = o->value;
            given[k] = true;
        } else if (set_value(o, label, field, optarg) != CLI_OK) {
            return CLI_USAGE;
        }
    }
    co->args = argv + optind;
    co->nargs = argc - optind;
    co->db_given = co->db != db_default;
    return CLI_OK;
}

int cli_inputs(const cli_common_t *co, char ***inputs, int *n)
{
    *inputs = NULL;
    *n = 0;
    size_t total = co->reads.n + (size_t)co->nargs;
    if (total == 0) {
        cli_error("no input files (see 'capsift %s --help')", cmd_name ? cmd_name : "");
        return CLI_USAGE;
    }
    char **v = malloc(total * sizeof *v);
    if (!v) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    for (size_t i = 0; i < co->reads.n; i++)
        v[i] = (char *)(uintptr_t)co->reads.v[i];
    for (int i = 0; i < co->nargs; i++)
        v[co->reads.n + (size_t)i] = co->args[i];
    *inputs = v;
    *n = (int)total;
    return CLI_OK;
}

void cli_wrap(FILE *out, const char *text, int indent)
{
    int col = indent;
    for (const char *p = text; *p;) {
        p += strspn(p, " \n");
        size_t len = strcspn(p, " \n");
        if (!len)
            break;
        if (col > indent && col + 1 + (int)len > 79) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        }
        fprintf(out, "%s%.*s", col > indent ? " " : "", (int)len, p);
        col += (col > indent) + (int)len;
        p += len;
    }
    fputc('\n', out);
}

/* Text of paragraphs: a line starting with a space is printed as it is (a table, an
 * example), the others are joined and wrapped. */
static void put_text(FILE *out, const char *text)
{
    char para[4096];
    size_t len = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        bool verbatim = p[0] == ' ' || n == 0;
        if (verbatim && len) {
            para[len] = '\0';
            cli_wrap(out, para, 0);
            len = 0;
        }
        if (verbatim)
            fprintf(out, "%.*s\n", (int)n, p);
        else if (len + n + 2 < sizeof para)
            len += (size_t)snprintf(para + len, sizeof para - len, "%s%.*s", len ? " " : "", (int)n,
                                    p);
        p += n + (p[n] == '\n');
    }
    if (len) {
        para[len] = '\0';
        cli_wrap(out, para, 0);
    }
}

void cli_help(FILE *out, const cli_command_t *cmd)
{
    fprintf(out, "usage: %s\n\n", cmd->usage);
    put_text(out, cmd->about);
    if (cmd->about_more)
        cmd->about_more(out);
    optset_t s;
    optset_of(cmd, &s);
    fputs("\noptions:\n", out);
    for (size_t i = 0; i <= s.n; i++) {
        static const cli_opt_t help = {.name = "help", .short_name = 'h', .help = "this help"};
        const cli_opt_t *o = i < s.n ? s.v[i] : &help;
        char left[64], sh[8] = "";
        if (o->short_name)
            snprintf(sh, sizeof sh, "-%c, ", o->short_name);
        int len = snprintf(left, sizeof left, "  %s--%s%s%s", sh, o->name, o->arg ? " " : "",
                           o->arg ? o->arg : "");
        if (len > 19)
            fprintf(out, "%s\n%21s", left, "");
        else
            fprintf(out, "%-21s", left);
        cli_wrap(out, o->help, 21);
    }
    if (cmd->footer) {
        fputc('\n', out);
        put_text(out, cmd->footer);
    }
}

bool cli_parse_real(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo) || !(v <= hi)) {
        cli_error("--%s: '%s' is not a number from %g to %g", opt, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}
