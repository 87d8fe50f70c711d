/* capsift bench: the built-in benchmark suite, a thin command over sift_bench_run. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void help_bench(FILE *out)
{
    fprintf(out,
            "usage: capsift bench [OPTIONS] [NAME...]\n\n"
            "Measures capsift's building blocks against their naive baselines in one run, on\n"
            "data derived from real captures (payload byte n-grams, packet lengths), and prints\n"
            "ops/s, latency percentiles, the speedup, entry-specific figures and the published\n"
            "claim beside each. Without NAME every entry runs. Entries:\n");
    for (size_t i = 0; sift_bench_name(i); i++)
        fprintf(out, "  %-8s %s\n", sift_bench_name(i), sift_bench_description(i));
    fprintf(out,
            "\noptions:\n"
            "  --quick        smaller runs (the whole suite in well under 30 s)\n"
            "  --json         one JSON object per entry, one per line\n"
            "  --data DIR     captures to take the data from (default: $SIFT_TEST_CAPTURES,\n"
            "                 else the source tree's tests/captures)\n"
            "  -j, --threads N  threads for entries that use them (default 1)\n"
            "  --seed N       seed of hash functions and samples (default 0)\n"
            "  --list         list the entries and exit\n"
            "  -h, --help     this help\n\n"
            "Timings depend on the machine and its load: compare the ratios, not the times.\n"
            "exit status: 0 all entries ran, 1 the capture data was unreadable, 2 usage error,\n"
            "3 an entry failed.\n");
}

static void progress(void *user, const char *msg)
{
    (void)user;
    fprintf(stderr, "capsift: %s\n", msg);
}

static void json_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.6g", v);
    else
        fputs("null", out);
}

static void print_json(const sift_bench_result_t *r)
{
    printf("{\"name\":");
    json_string(stdout, r->name);
    printf(",\"op\":");
    json_string(stdout, r->op);
    const struct {
        const char *key;
        double v;
    } nums[] = {{"ops_per_s", r->ops_per_s}, {"baseline_ops_per_s", r->baseline_ops_per_s},
                {"speedup", r->speedup},     {"p50_ns", r->p50_ns},
                {"p95_ns", r->p95_ns},       {"p99_ns", r->p99_ns}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        printf(",\"%s\":", nums[i].key);
        json_number(stdout, nums[i].v);
    }
    printf(",\"baseline\":");
    json_string(stdout, r->baseline);
    printf(",\"claim\":");
    json_string(stdout, r->claim);
    printf(",\"verdict\":");
    json_string(stdout, r->verdict);
    for (size_t i = 0; i < r->nfields; i++) {
        printf(",");
        json_string(stdout, r->fields[i].key);
        printf(":");
        json_number(stdout, r->fields[i].value);
    }
    printf("}\n");
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
    enum { OPT_QUICK = 256, OPT_JSON, OPT_DATA, OPT_SEED, OPT_LIST };
    static const struct option longopts[] = {{"quick", no_argument, NULL, OPT_QUICK},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             {"data", required_argument, NULL, OPT_DATA},
                                             {"threads", required_argument, NULL, 'j'},
                                             {"seed", required_argument, NULL, OPT_SEED},
                                             {"list", no_argument, NULL, OPT_LIST},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    sift_bench_opts_t opts = {0};
    bool json = false;
    opts.threads = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_QUICK:
            opts.quick = true;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_DATA:
            opts.data_dir = optarg;
            break;
        case 'j': {
            int t;
            if (cli_threads_option("bench", optarg, &t) != CLI_OK)
                return CLI_USAGE;
            opts.threads = (unsigned)t;
            break;
        }
        case OPT_SEED:
            if (cli_opt_count("bench", "--seed", optarg, 0, UINT64_MAX, &opts.seed) != CLI_OK)
                return CLI_USAGE;
            break;
        case OPT_LIST:
            for (size_t i = 0; sift_bench_name(i); i++)
                printf("%-8s %s\n", sift_bench_name(i), sift_bench_description(i));
            return CLI_OK;
        case 'h':
            help_bench(stdout);
            return CLI_OK;
        default:
            help_bench(stderr);
            return CLI_USAGE;
        }
    }
    if (!opts.data_dir) {
        const char *env = getenv("SIFT_TEST_CAPTURES");
        if (env && *env)
            opts.data_dir = env;
    }
    for (int i = optind; i < argc; i++) {
        bool known = false;
        for (size_t j = 0; sift_bench_name(j); j++)
            known = known || strcmp(sift_bench_name(j), argv[i]) == 0;
        if (!known) {
            cli_error("no bench entry named '%s' (see 'capsift bench --list')", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!json)
        opts.progress = progress;

    int status = CLI_OK;
    size_t n = optind < argc ? (size_t)(argc - optind) : sift_bench_count();
    for (size_t i = 0; i < n; i++) {
        const char *name = optind < argc ? argv[optind + (int)i] : sift_bench_name(i);
        sift_bench_result_t *r = malloc(sizeof *r);
        if (!r) {
            cli_error("out of memory");
            return CLI_FAILED;
        }
        int rc = sift_bench_run(name, &opts, r);
        if (rc < 0) {
            cli_error("bench %s: %s: %s", name, sift_strerror(rc), r->text);
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
