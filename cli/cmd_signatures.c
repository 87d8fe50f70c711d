/* capsift signatures: the message-type signatures of an index - list, rename, delete, export
 * as JSON, and a Wireshark Lua dissector. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct sigs_args {
    const char *min_similarity;
    bool force;
    cli_common_t co;
} sigs_args_t;

#define A(field) offsetof(sigs_args_t, field)
static const cli_opt_t sigs_opts[] = {
    {.name = "min-similarity",
     .kind = CLI_K_STRING,
     .offset = A(min_similarity),
     .arg = "S",
     .help = "lua: the share of a signature's constant bytes a payload needs to be labelled\n"
             "with it, 0 to 1 (default 0.75, as capsift classify)"},
    {.name = "force",
     .kind = CLI_K_FLAG,
     .offset = A(force),
     .help = "lua: replace an existing FILE"},
};

const cli_command_t cli_cmd_signatures = {
    .name = "signatures",
    .summary = "message-type signatures of an index: list, rename, delete, export, lua",
    .run = cmd_signatures,
    .usage = "capsift signatures [list] [NAME] [--db FILE] [--json]\n"
             "       capsift signatures rename OLD NEW [--db FILE]\n"
             "       capsift signatures delete NAME [--db FILE]\n"
             "       capsift signatures export [NAME] [--db FILE]\n"
             "       capsift signatures lua FILE [NAME] [--db FILE] [--min-similarity S]",
    .about = "The signatures capsift cluster --save NAME learnt, one per message type, named\n"
             "NAME-ID. NAME picks a set (or one signature); without it, all.\n\n"
             "  list     each with its transport, port and direction, type byte, constant\n"
             "           bytes, the packets it was learnt from, the packets capsift classify\n"
             "           labelled with it since, when it last did, and its confidence\n"
             "  rename   a set (its signatures' names follow) or one signature\n"
             "  delete   a set or one signature\n"
             "  export   every field of each signature, a JSON object a line\n"
             "  lua      a Wireshark Lua dissector labelling packets as capsift classify\n"
             "           does: tshark -X lua_script:FILE\n",
    .opts = sigs_opts,
    .nopts = sizeof sigs_opts / sizeof sigs_opts[0],
    .common = CLI_C_DB | CLI_C_JSON | CLI_C_QUIET,
    .footer = "exit status: 0 done, 1 no signature of that name, 2 usage error, 3 failure (a\n"
              "locked, damaged or unwritable database: nothing is changed).\n",
};

static void sig_json(FILE *out, const sift_signature_t *g, bool full)
{
    cli_json_t j;
    char b[2 * 65536 + 1];
    cli_json_begin(&j, out);
    cli_json_str(&j, "name", g->name);
    cli_json_str(&j, "set", g->set);
    cli_json_part(&j, g->part);
    cli_json_bool(&j, "text", g->text);
    if (g->type_offset >= 0) {
        cli_json_u64(&j, "type_offset", (uint64_t)g->type_offset);
        cli_hex(b, &g->type, 1);
        cli_json_str(&j, "type", b);
    } else {
        cli_json_null(&j, "type_offset");
        cli_json_null(&j, "type");
    }
    cli_json_u64(&j, "mask_bytes", g->nmask);
    cli_json_u64(&j, "learnt_packets", g->packets);
    cli_json_u64(&j, "learnt_distinct", g->units);
    cli_json_u64(&j, "learnt_flows", g->flows);
    cli_json_f64(&j, "learnt_share", g->share, 4);
    cli_json_u64(&j, "usage", g->usage);
    if (g->last_seen)
        cli_json_time(&j, "last_seen", "last_seen_iso", g->last_seen * 1000000000, 0);
    else
        cli_json_null(&j, "last_seen");
    cli_json_time(&j, "created", "created_iso", g->created * 1000000000, 0);
    cli_json_f64(&j, "confidence", g->confidence, 4);
    if (full) {
        cli_json_u64(&j, "min_len", g->min_len);
        cli_json_u64(&j, "max_len", g->max_len);
        cli_json_open(&j, "mask", '[');
        for (uint32_t i = 0; i < g->nmask; i++) {
            cli_json_open(&j, NULL, '[');
            cli_json_u64(&j, NULL, g->mask[i].offset);
            cli_hex(b, &g->mask[i].value, 1);
            cli_json_str(&j, NULL, b);
            cli_json_close(&j);
        }
        cli_json_close(&j);
        cli_hex(b, g->example, g->example_len);
        cli_json_str(&j, "example", b);
        cli_json_fields(&j, g->fields, g->nfields);
        uint8_t k[4 * SIFT_SIG_SKETCH_K];
        for (unsigned i = 0; i < SIFT_SIG_SKETCH_K; i++)
            for (unsigned x = 0; x < 4; x++)
                k[4 * i + x] = (uint8_t)(g->sketch[i] >> (24 - 8 * x));
        cli_hex(b, k, sizeof k);
        cli_json_str(&j, "sketch", b);
    }
    cli_json_end(&j);
}

static void list_text(const sift_signatures_t *s)
{
    printf("%-24s %-16s %-7s %5s %10s %10s %-20s %s\n", "NAME", "PART", "TYPE", "MASK", "LEARNT",
           "USAGE", "LAST SEEN", "CONFIDENCE");
    for (size_t i = 0; i < sift_signatures_count(s); i++) {
        const sift_signature_t *g = sift_signatures_get(s, i);
        char part[48], type[16], seen[40];
        cli_part_str(part, sizeof part, g->part);
        if (g->type_offset >= 0)
            snprintf(type, sizeof type, "%02x@%d", g->type, g->type_offset);
        else
            snprintf(type, sizeof type, "-");
        if (g->last_seen)
            cli_time_str(seen, sizeof seen, g->last_seen * 1000000000, 0, CLI_TIME_ISO, 0);
        else
            snprintf(seen, sizeof seen, "never");
        printf("%-24s %-16s %-7s %5u %10llu %10llu %-20s %.3f\n", g->name, part, type, g->nmask,
               (unsigned long long)g->packets, (unsigned long long)g->usage, seen, g->confidence);
    }
}

/* The Lua dissector of s to path (never the index; an existing file only with force). */
static int lua_write(const char *path, bool force, char *const *protect, size_t nprotect,
                     const sift_signatures_t *s, double min_similarity)
{
    sift_ctx_t *ctx;
    if (sift_ctx_create(&ctx) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    sift_outfile_t *of = NULL;
    int rc = cli_outfile_begin(ctx, path, force, protect, nprotect, &of);
    if (rc == CLI_OK) {
        /* a write error stays on the stream: the commit finds it, says so and keeps path */
        (void)sift_signatures_lua(s, min_similarity, sift_outfile_stream(of));
        rc = cli_outfile_end(ctx, of, CLI_OK);
    }
    sift_ctx_free(ctx);
    return rc;
}

/* The subcommands and how many operands each takes (at least, at most). */
static const struct {
    const char *name;
    int min, max;
    bool write;
} subs[] = {{"list", 0, 1, false},
            {"rename", 2, 2, true},
            {"delete", 1, 1, true},
            {"export", 0, 1, false},
            {"lua", 1, 2, false}};

int cmd_signatures(int argc, char **argv)
{
    sigs_args_t a = {0};
    int prc = cli_parse(&cli_cmd_signatures, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    double min_sim = SIFT_SIG_DEFAULT_MIN_SIMILARITY;
    if (a.min_similarity && !cli_parse_real("min-similarity", a.min_similarity, 0, 1, &min_sim))
        return CLI_USAGE;
    char **args = a.co.args;
    int nargs = a.co.nargs;
    size_t sub = 0;
    if (nargs > 0) {
        size_t k = 0;
        while (k < sizeof subs / sizeof subs[0] && strcmp(subs[k].name, args[0]) != 0)
            k++;
        if (k < sizeof subs / sizeof subs[0]) {
            sub = k;
            args++;
            nargs--;
        }
    }
    if (nargs < subs[sub].min || nargs > subs[sub].max) {
        cli_error("signatures %s takes %s; see capsift signatures --help", subs[sub].name,
                  subs[sub].min == subs[sub].max
                      ? (subs[sub].min == 1 ? "one name" : "an old and a new name")
                  : subs[sub].min ? "a file and perhaps a name"
                                  : "at most one name");
        return CLI_USAGE;
    }
    sift_ctx_t *ctx;
    if (sift_ctx_create(&ctx) < 0) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    sift_index_t *ix = NULL;
    sift_signatures_t *s = NULL;
    int rc = cli_index_open_as(ctx, a.co.db, subs[sub].write ? CLI_DB_WRITE : CLI_DB_READ, &ix);
    if (rc == CLI_OK && strcmp(subs[sub].name, "rename") == 0) {
        int64_t n = sift_index_rename_signatures(ix, args[0], args[1]);
        if (n < 0) {
            cli_error("%s", sift_ctx_errmsg(ctx));
            rc = n == SIFT_EEXIST ? CLI_USAGE : CLI_FAILED;
        } else if (n == 0) {
            cli_error("%s: no signature or set named %s", a.co.db, args[0]);
            rc = CLI_DAMAGED;
        } else if (!a.co.quiet) {
            printf("renamed %lld signature%s\n", (long long)n, n == 1 ? "" : "s");
        }
    } else if (rc == CLI_OK && strcmp(subs[sub].name, "delete") == 0) {
        int64_t n = sift_index_delete_signatures(ix, args[0]);
        if (n < 0) {
            cli_error("%s", sift_ctx_errmsg(ctx));
            rc = CLI_FAILED;
        } else if (n == 0) {
            cli_error("%s: no signature or set named %s", a.co.db, args[0]);
            rc = CLI_DAMAGED;
        } else if (!a.co.quiet) {
            printf("deleted %lld signature%s\n", (long long)n, n == 1 ? "" : "s");
        }
    } else if (rc == CLI_OK) {
        bool lua = strcmp(subs[sub].name, "lua") == 0;
        const char *which = lua ? (nargs > 1 ? args[1] : NULL) : nargs ? args[0] : NULL;
        int e = sift_signatures_create(&s);
        if (e == 0)
            e = sift_index_signatures(ix, which, s);
        if (e < 0) {
            cli_error("%s", e == SIFT_ENOMEM ? "out of memory" : sift_ctx_errmsg(ctx));
            rc = CLI_FAILED;
        } else if (sift_signatures_count(s) == 0) {
            if (which)
                cli_error("%s: no signature or set named %s", a.co.db, which);
            else
                cli_error("%s: no signatures; learn some with capsift cluster --save NAME",
                          a.co.db);
            rc = CLI_DAMAGED;
        } else if (lua) {
            sift_signatures_sort(s);
            char *db = (char *)(uintptr_t)a.co.db;
            rc = lua_write(args[0], a.force, &db, 1, s, min_sim);
        } else {
            bool json = a.co.format == CLI_FORMAT_JSON || strcmp(subs[sub].name, "export") == 0;
            if (!json)
                list_text(s);
            for (size_t i = 0; json && i < sift_signatures_count(s); i++)
                sig_json(stdout, sift_signatures_get(s, i), strcmp(subs[sub].name, "export") == 0);
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    sift_signatures_free(s);
    sift_index_close(ix);
    sift_ctx_free(ctx);
    return rc;
}
