/* capsift bench: the built-in benchmark suite, a thin command over sift_bench_run. */
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct bench_args {
    bool quick, list;
    const char *data;
    uint64_t threads, seed;
    cli_common_t co;
} bench_args_t;

static void list_entries(FILE *out, const char *indent)
{
    for (size_t i = 0; sift_bench_name(i); i++)
        fprintf(out, "%s%-8s %s\n", indent, sift_bench_name(i), sift_bench_description(i));
}

static void help_entries(FILE *out)
{
    for (size_t i = 0; sift_bench_name(i); i++) {
        fprintf(out, "  %-8s ", sift_bench_name(i));
        cli_wrap(out, sift_bench_description(i), 11);
    }
}

#define A(field) offsetof(bench_args_t, field)
static const cli_opt_t bench_opts[] = {
    {.name = "quick",
     .kind = CLI_K_FLAG,
     .offset = A(quick),
     .help = "smaller runs (the whole suite in well under 30 s)"},
    {.name = "data",
     .kind = CLI_K_STRING,
     .offset = A(data),
     .arg = "DIR",
     .help = "captures to take the data from (default: $SIFT_TEST_CAPTURES, else those "
             "installed with capsift, else the source tree's tests/captures)"},
    {.name = "threads",
     .short_name = 'j',
     .kind = CLI_K_COUNT,
     .offset = A(threads),
     .arg = "N",
     .help = "threads for entries that use them (default 1)",
     .min = 1,
     .max = 1024},
    {.name = "seed",
     .kind = CLI_K_COUNT,
     .offset = A(seed),
     .arg = "N",
     .help = "seed of hash functions and samples (default 0)",
     .min = 0,
     .max = UINT64_MAX},
    {.name = "list", .kind = CLI_K_FLAG, .offset = A(list), .help = "list the entries and exit"},
};

const cli_command_t cli_cmd_bench = {
    .name = "bench",
    .summary = "measure the building blocks against naive baselines on real capture data",
    .run = cmd_bench,
    .usage = "capsift bench [OPTIONS] [NAME...]",
    .about = "Measures capsift's building blocks against their naive baselines in one run, on\n"
             "data derived from real captures (payload byte n-grams, packet lengths), and prints\n"
             "ops/s, latency percentiles, the speedup, entry-specific figures and the published\n"
             "claim beside each. Without NAME every entry runs. Entries:\n",
    .about_more = help_entries,
    .opts = bench_opts,
    .nopts = sizeof bench_opts / sizeof bench_opts[0],
    .common = CLI_C_JSON,
    .footer = "Timings depend on the machine and its load: compare the ratios, not the times.\n"
              "exit status: 0 all entries ran, 1 the capture data was unreadable, 2 usage error,\n"
              "3 an entry failed.\n",
};

/* The captures installed beside an installed program (<prefix>/share/capsift/captures, found
 * from the program's own path, so any prefix works); false when there are none, as in the
 * build tree, where the suite takes the source tree's. */
static bool installed_data(char *buf, size_t size)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return false;
    *slash = '\0';
    struct stat st;
    return (size_t)snprintf(buf, size, "%s/%s", exe, SIFT_BIN_TO_DATA) < size &&
           stat(buf, &st) == 0 && S_ISDIR(st.st_mode);
}

static void progress(void *user, const char *msg)
{
    (void)user;
    cli_note("%s", msg);
}

static void print_json(const sift_bench_result_t *r)
{
    cli_json_t j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "name", r->name);
    cli_json_str(&j, "op", r->op);
    const struct {
        const char *key;
        double v;
    } nums[] = {{"ops_per_s", r->ops_per_s}, {"baseline_ops_per_s", r->baseline_ops_per_s},
                {"speedup", r->speedup},     {"p50_ns", r->p50_ns},
                {"p95_ns", r->p95_ns},       {"p99_ns", r->p99_ns}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        cli_json_f64(&j, nums[i].key, nums[i].v, -1);
    cli_json_str(&j, "baseline", r->baseline);
    cli_json_str(&j, "claim", r->claim);
    cli_json_str(&j, "verdict", r->verdict);
    for (size_t i = 0; i < r->nfields; i++)
        cli_json_f64(&j, r->fields[i].key, r->fields[i].value, -1);
    cli_json_end(&j);
}

static const char *rate(char *buf, size_t size, double v)
{
    if (v >= 1e9)
        snprintf(buf, size, "%.2f G/s", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, size, "%.2f M/s", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, size, "%.2f k/s", v / 1e3);
    else
        snprintf(buf, size, "%.3g /s", v);
    return buf;
}

static void print_text(const sift_bench_result_t *r)
{
    char a[32], b[32];
    printf("%s: %s\n", r->name, r->op);
    printf("  ops/s     %s   baseline %s   speedup %.1fx\n", rate(a, sizeof a, r->ops_per_s),
           rate(b, sizeof b, r->baseline_ops_per_s), r->speedup);
    if (r->p50_ns > 0)
        printf("  latency   p50 %.1f ns   p95 %.1f ns   p99 %.1f ns\n", r->p50_ns, r->p95_ns,
               r->p99_ns);
    printf("  baseline  %s\n  claim     %s\n  ours      %s\n", r->baseline, r->claim, r->verdict);
    const char *p = r->text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        printf("  | %.*s\n", len, p);
        p += len + (nl ? 1 : 0);
    }
    printf("\n");
}

int cmd_bench(int argc, char **argv)
{
    bench_args_t a = {.threads = 1};
    int rc = cli_parse(&cli_cmd_bench, argc, argv, &a, &a.co);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (a.list) {
        list_entries(stdout, "");
        return CLI_OK;
    }
    bool json = a.co.format == CLI_FORMAT_JSON;
    sift_bench_opts_t opts = {
        .quick = a.quick, .data_dir = a.data, .threads = (unsigned)a.threads, .seed = a.seed};
    char installed[4096];
    if (!opts.data_dir) {
        const char *env = getenv("SIFT_TEST_CAPTURES");
        if (env && *env)
            opts.data_dir = env;
        else if (installed_data(installed, sizeof installed))
            opts.data_dir = installed;
    }
    for (int i = 0; i < a.co.nargs; i++) {
        bool known = false;
        for (size_t j = 0; sift_bench_name(j); j++)
            known = known || strcmp(sift_bench_name(j), a.co.args[i]) == 0;
        if (!known) {
            cli_error("no bench entry named '%s' (see 'capsift bench --list')", a.co.args[i]);
            return CLI_USAGE;
        }
    }
    if (!json)
        opts.progress = progress;

    int status = CLI_OK;
    size_t n = a.co.nargs ? (size_t)a.co.nargs : sift_bench_count();
    for (size_t i = 0; i < n; i++) {
        const char *name = a.co.nargs ? a.co.args[i] : sift_bench_name(i);
        sift_bench_result_t *r = malloc(sizeof *r);
        if (!r) {
            cli_error("out of memory");
            return CLI_FAILED;
        }
        rc = sift_bench_run(name, &opts, r);
        if (rc < 0) {
            cli_error("%s: %s: %s", name, sift_strerror(rc), r->text);
            int st = rc == SIFT_ENOENT ? CLI_DAMAGED : CLI_FAILED;
            status = st > status ? st : status;
        } else if (json) {
            print_json(r);
        } else {
            print_text(r);
        }
        fflush(stdout);
        free(r);
    }
    return status;
}
