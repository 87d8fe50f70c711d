/* capsift info: a summary of each capture file, from record headers alone. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

typedef struct info_args {
    cli_common_t co;
    const char *hash;
} info_args_t;

#define A(f) offsetof(info_args_t, f)
static const cli_opt_t info_opts[] = {
    {.name = "hash",
     .kind = CLI_K_STRING,
     .offset = A(hash),
     .arg = "ALGS",
     .help = "also each file's digests: sha256, sha1, md5, ripemd160, xxh3, comma-separated, or "
             "all (the first four); read once more, after the summary"},
};
#undef A

const cli_command_t cli_cmd_info = {
    .name = "info",
    .summary = "summarise capture files: format, link types, packets, bytes, time span, damage",
    .run = cmd_info,
    .usage = "capsift info [OPTIONS] FILE|DIR|- ...",
    .about = "Summarises capture files (pcap, pcapng, snoop; plain, gzip or zstd): format, byte\n"
             "order, time resolution, link types, interfaces, packets, bytes captured and on the\n"
             "wire, first and last timestamp, duration, rates, snaplen, truncated records, and\n"
             "every problem found with its byte offset. A directory means every capture file\n"
             "under it; '-' reads standard input. Several files are read in parallel.\n",
    .opts = info_opts,
    .nopts = sizeof info_opts / sizeof info_opts[0],
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_TIME | CLI_C_NO_CACHE | CLI_C_THREADS,
    .footer = "The result cache (see 'capsift cache') keeps a file's summary under its content\n"
              "fingerprint once 'capsift flows' or 'stats' has taken it (info itself never hashes\n"
              "a file: that would cost more than it reads); such a file is not read again.\n\n"
              "exit status: 0 every file read whole, 1 some file damaged or unreadable (its\n"
              "partial results are still printed), 2 usage error, 3 failure.\n",
};

/* A time as --time-format says, then as epoch seconds unless that is what it says. */
static const char *ts_text(char *buf, size_t size, int64_t ns, int digits, const cli_common_t *co,
                           int64_t base)
{
    char t[SIFT_ISO_MAX], e[40];
    cli_time_format_t tf = (cli_time_format_t)co->time_format;
    cli_time_str(t, sizeof t, ns, digits, tf, base);
    if (tf == CLI_TIME_EPOCH)
        snprintf(buf, size, "%s", t);
    else
        snprintf(buf, size, "%s (%s)", t, sift_format_ts(e, sizeof e, ns, digits));
    return buf;
}

static const char *resolution_name(int digits)
{
    switch (digits) {
    case 0:
        return "seconds";
    case 3:
        return "milliseconds";
    case 6:
        return "microseconds";
    case 9:
        return "nanoseconds";
    default:
        return "custom";
    }
}

static double rate(double v, int64_t ns)
{
    return ns > 0 ? v / ((double)ns / 1e9) : 0.0;
}

static const char *status_name(const sift_input_t *in)
{
    if (in->error[0])
        return "error";
    return in->status < 0 || in->problems_total > 0 ? "damaged" : "ok";
}

static void print_link(FILE *out, uint32_t lt)
{
    const char *name = sift_linktype_name(lt);
    const char *desc = sift_linktype_description(lt);
    fprintf(out, "%" PRIu32 " %s (%s)", lt, name ? name : "unknown", desc ? desc : "unknown");
}

/* The digests --hash asks for, in its order. */
typedef struct hashes {
    sift_digest_alg_t alg[SIFT_DIGEST_COUNT];
    size_t n;
    char hex[SIFT_DIGEST_COUNT][SIFT_DIGEST_HEX_MAX];
    char error[SIFT_ERRBUF_SIZE]; /* "" or why the file could not be hashed */
} hashes_t;

static const char *const hash_labels[SIFT_DIGEST_COUNT] = {[SIFT_DIGEST_XXH3] = "XXH3-128",
                                                           [SIFT_DIGEST_SHA256] = "SHA-256",
                                                           [SIFT_DIGEST_SHA1] = "SHA-1",
                                                           [SIFT_DIGEST_MD5] = "MD5",
                                                           [SIFT_DIGEST_RIPEMD160] = "RIPEMD-160"};

/* "sha256,md5" or "all" into h; false (with a message) for anything else. */
static bool parse_hashes(const char *list, hashes_t *h)
{
    static const sift_digest_alg_t all[] = {SIFT_DIGEST_SHA256, SIFT_DIGEST_SHA1, SIFT_DIGEST_MD5,
                                            SIFT_DIGEST_RIPEMD160};
    h->n = 0;
    if (strcmp(list, "all") == 0) {
        memcpy(h->alg, all, sizeof all);
        h->n = sizeof all / sizeof all[0];
        return true;
    }
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *p = buf, *end; p && *p; p = end) {
        end = strchr(p, ',');
        if (end)
            *end++ = '\0';
        sift_digest_alg_t a;
        bool dup = false;
        if (sift_digest_parse(p, &a) < 0) {
            cli_error("--hash: '%s' is not a digest (sha256, sha1, md5, ripemd160, xxh3 or all)",
                      p);
            return false;
        }
        for (size_t k = 0; k < h->n; k++)
            dup = dup || h->alg[k] == a;
        if (!dup)
            h->alg[h->n++] = a;
    }
    if (h->n == 0)
        cli_error("--hash: no digest named");
    return h->n > 0;
}

/* "label:" padded to the value column */
static void line(FILE *out, const char *label, const char *value)
{
    if (value && value[0])
        fprintf(out, "%s:%*s%s\n", label, strlen(label) < 19 ? (int)(19 - strlen(label)) : 1, "",
                value);
}

static void print_hashes_text(FILE *out, const hashes_t *h)
{
    for (size_t i = 0; h && !h->error[0] && i < h->n; i++)
        line(out, hash_labels[h->alg[i]], h->hex[i]);
}

static void print_hashes_json(cli_json_t *j, const hashes_t *h)
{
    if (!h || h->error[0])
        return;
    cli_json_open(j, "hashes", '{');
    for (size_t i = 0; i < h->n; i++)
        cli_json_str(j, sift_digest_name(h->alg[i]), h->hex[i]);
    cli_json_close(j);
}

/* "received 1,000, dropped 5 (by the interface), 0 by the OS ..." from a statistics block */
static const char *stats_text(char *buf, size_t size, const sift_iface_notes_t *f)
{
    const struct {
        const char *what;
        uint64_t v;
    } c[] = {{"received", f->received},
             {"dropped by the interface", f->dropped},
             {"dropped by the OS", f->os_dropped},
             {"accepted by the filter", f->filter_accepted},
             {"delivered", f->delivered}};
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof c / sizeof c[0] && n < size; i++) {
        char g[32];
        if (c[i].v != SIFT_NOTE_UNSET)
            n += (size_t)snprintf(buf + n, size - n, "%s%s %s", n ? ", " : "", c[i].what,
                                  cli_u64_grouped(g, c[i].v));
    }
    return buf;
}

/* Sections, interfaces and packet comments of a pcapng file. */
static void print_notes_text(FILE *out, const sift_input_t *in)
{
    const sift_file_notes_t *n = in->notes;
    const sift_file_meta_t *m = &in->meta;
    char b[512];
    for (size_t k = 0; n && k < n->nsections; k++) {
        const sift_section_notes_t *s = &n->sections[k];
        if (n->nsections > 1 && (s->hardware[0] || s->os[0] || s->application[0] || s->comment[0]))
            fprintf(out, "Section %zu:\n", k);
        line(out, "Capture hardware", s->hardware);
        line(out, "Capture OS", s->os);
        line(out, "Capture application", s->application);
        line(out, "Section comment", s->comment);
    }
    for (size_t i = 0; i < m->niface && m->format == SIFT_FORMAT_PCAPNG; i++) {
        const sift_iface_notes_t *f = n && i < n->nifaces ? &n->ifaces[i] : NULL;
        const char *lt = sift_linktype_name(m->iface[i].linktype);
        char label[32];
        snprintf(label, sizeof label, "Interface %zu", i);
        char ltn[32];
        if (!lt)
            snprintf(ltn, sizeof ltn, "link type %" PRIu32, m->iface[i].linktype);
        int len = snprintf(b, sizeof b, "%s%s%s, snaplen %" PRIu32, f && f->name[0] ? f->name : "",
                           f && f->name[0] ? ", " : "", lt ? lt : ltn, m->iface[i].snaplen);
        if (f && f->description[0] && len > 0 && (size_t)len < sizeof b)
            snprintf(b + len, sizeof b - (size_t)len, " (%s)", f->description);
        line(out, label, b);
        if (!f)
            continue;
        line(out, "  filter", f->filter);
        line(out, "  OS", f->os);
        line(out, "  hardware", f->hardware);
        line(out, "  comment", f->comment);
        if (f->stats_blocks)
            line(out, "  statistics", stats_text(b, sizeof b, f));
    }
    if (n && n->comments_total) {
        char g[32];
        fprintf(out, "Packet comments:    %s\n", cli_u64_grouped(g, n->comments_total));
        for (size_t k = 0; k < n->ncomments; k++)
            fprintf(out, "  packet %" PRIu64 ": %s\n", n->comments[k].packet, n->comments[k].text);
        if (n->comments_total > n->ncomments)
            fprintf(out, "  ... and %s more\n",
                    cli_u64_grouped(g, n->comments_total - n->ncomments));
    }
}

static void print_notes_json(cli_json_t *j, const sift_input_t *in)
{
    const sift_file_notes_t *n = in->notes;
    const sift_file_meta_t *m = &in->meta;
    cli_json_open(j, "section_notes", '[');
    for (size_t k = 0; n && k < n->nsections; k++) {
        const sift_section_notes_t *s = &n->sections[k];
        cli_json_open(j, NULL, '{');
        cli_json_str(j, "hardware", s->hardware[0] ? s->hardware : NULL);
        cli_json_str(j, "os", s->os[0] ? s->os : NULL);
        cli_json_str(j, "application", s->application[0] ? s->application : NULL);
        cli_json_str(j, "comment", s->comment[0] ? s->comment : NULL);
        cli_json_close(j);
    }
    cli_json_close(j);
    cli_json_open(j, "interface_notes", '[');
    for (size_t i = 0; i < m->niface; i++) {
        const sift_iface_notes_t *f = n && i < n->nifaces ? &n->ifaces[i] : NULL;
        const char *const keys[] = {"name", "description", "filter", "os", "hardware", "comment"};
        const char *const vals[] = {f ? f->name : "", f ? f->description : "", f ? f->filter : "",
                                    f ? f->os : "",   f ? f->hardware : "",    f ? f->comment : ""};
        cli_json_open(j, NULL, '{');
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            cli_json_str(j, keys[k], vals[k][0] ? vals[k] : NULL);
        if (f && f->stats_blocks) {
            cli_json_open(j, "statistics", '{');
            cli_json_u64(j, "blocks", f->stats_blocks);
            const char *const sk[] = {"received", "dropped", "os_dropped", "filter_accepted",
                                      "delivered"};
            const uint64_t sv[] = {f->received, f->dropped, f->os_dropped, f->filter_accepted,
                                   f->delivered};
            for (size_t k = 0; k < 5; k++)
                if (sv[k] == SIFT_NOTE_UNSET)
                    cli_json_null(j, sk[k]);
                else
                    cli_json_u64(j, sk[k], sv[k]);
            cli_json_close(j);
        } else {
            cli_json_null(j, "statistics");
        }
        cli_json_close(j);
    }
    cli_json_close(j);
    cli_json_u64(j, "comments_total", n ? n->comments_total : 0);
    cli_json_open(j, "comments", '[');
    for (size_t k = 0; n && k < n->ncomments; k++) {
        cli_json_open(j, NULL, '{');
        cli_json_u64(j, "packet", n->comments[k].packet);
        cli_json_str(j, "text", n->comments[k].text);
        cli_json_close(j);
    }
    cli_json_close(j);
}

static void print_text(FILE *out, const sift_input_t *in, const sift_info_summary_t *s,
                       const cli_common_t *co, const hashes_t *h)
{
    char a[64], b[64];
    const sift_file_meta_t *m = &in->meta;
    fprintf(out, "File:               %s\n", in->path);
    if (in->error[0]) {
        print_hashes_text(out, h); /* a file that is not a readable capture is evidence too */
        fprintf(out, "Error:              %s\n\n", in->error);
        return;
    }
    fprintf(out, "Format:             %s", sift_format_name(m->format));
    if (m->format != SIFT_FORMAT_PCAPNG || m->sections <= 1)
        fprintf(out, " %u.%u", m->version_major, m->version_minor);
    else
        fprintf(out, " %u.%u, %" PRIu32 " sections", m->version_major, m->version_minor,
                m->sections);
    fprintf(out, ", %s, %s timestamps\n",
            m->mixed_endian ? "mixed byte order"
            : m->big_endian ? "big-endian"
                            : "little-endian",
            resolution_name(m->ts_digits));
    fprintf(out, "Compression:        %s\n", sift_compression_name(m->compression));
    if (in->size)
        fprintf(out, "File size:          %s bytes (%s)\n", cli_u64_grouped(a, in->size),
                cli_human_bytes(b, sizeof b, (double)in->size));
    print_hashes_text(out, h);
    if (co->filter)
        fprintf(out, "Filter:             %s (the counts below are of the packets it kept)\n",
                co->filter);
    for (unsigned i = 0; i < s->nlinks; i++) {
        fprintf(out, i == 0 ? "Link types:         " : "                    ");
        print_link(out, s->linktype[i]);
        fprintf(out, ": %s packets\n", cli_u64_grouped(a, s->link_packets[i]));
    }
    if (s->nlinks == 0 && m->niface > 0) {
        fprintf(out, "Link types:         ");
        print_link(out, m->iface[0].linktype);
        fputc('\n', out);
    }
    fprintf(out, "Interfaces:         %zu", m->niface);
    uint32_t snap = m->niface ? m->iface[0].snaplen : 0;
    fprintf(out, snap ? ", snaplen %" PRIu32 "\n" : ", snaplen not set\n", snap);
    print_notes_text(out, in);
    fprintf(out, "Packets:            %s\n", cli_u64_grouped(a, s->packets));
    fprintf(out, "Bytes captured:     %s (%s)\n", cli_u64_grouped(a, s->bytes_captured),
            cli_human_bytes(b, sizeof b, (double)s->bytes_captured));
    fprintf(out, "Bytes on the wire:  %s\n", cli_u64_grouped(a, s->bytes_wire));
    fprintf(out, "Truncated records:  %s\n", cli_u64_grouped(a, s->truncated));
    if (s->timed) {
        char t[128], r[48];
        int64_t d = sift_info_duration_ns(s);
        fprintf(out, "First packet:       %s\n",
                ts_text(t, sizeof t, s->first_ts_ns, m->ts_digits, co, s->first_ts_ns));
        fprintf(out, "Last packet:        %s\n",
                ts_text(t, sizeof t, s->last_ts_ns, m->ts_digits, co, s->first_ts_ns));
        cli_human_duration(t, sizeof t, d, m->ts_digits);
        if (d >= 60000000000) /* "3 h 25 min (12300.5 s)": the exact figure too */
            fprintf(out, "Duration:           %s (%s s)\n", t,
                    sift_format_ts(r, sizeof r, d, m->ts_digits));
        else
            fprintf(out, "Duration:           %s\n", t);
        snprintf(r, sizeof r, "%.2f", rate((double)s->packets, d));
        fprintf(out, "Packet rate:        %s packets/s\n", r);
        fprintf(out, "Data rate:          %s\n",
                cli_human_rate(r, sizeof r, rate(8.0 * (double)s->bytes_captured, d), "bit/s"));
        fprintf(out, "Time ordered:       %s\n", s->time_ordered ? "yes" : "no");
    }
    if (s->packets)
        fprintf(out, "Average packet:     %.2f bytes\n",
                (double)s->bytes_captured / (double)s->packets);
    if (in->problems_total == 0) {
        fprintf(out, "Problems:           none\n\n");
        return;
    }
    fprintf(out, "Problems:           %s%s\n", cli_u64_grouped(a, in->problems_total),
            in->status < 0 ? " (the file ends early; what came before is counted)" : "");
    for (size_t i = 0; i < in->nproblems; i++)
        fprintf(out, "  at byte %" PRIu64 ": %s\n", in->problems[i].offset,
                in->problems[i].message);
    if (in->problems_total > in->nproblems)
        fprintf(out, "  ... and %s more\n", cli_u64_grouped(a, in->problems_total - in->nproblems));
    fputc('\n', out);
}

static void print_json(FILE *out, const sift_input_t *in, const sift_info_summary_t *s,
                       const cli_common_t *co, const hashes_t *h)
{
    cli_json_t j;
    cli_json_begin(&j, out);
    cli_json_str(&j, "file", in->path);
    cli_json_str(&j, "status", status_name(in));
    if (in->error[0]) {
        print_hashes_json(&j, h);
        cli_json_open(&j, "errors", '[');
        cli_json_open(&j, NULL, '{');
        cli_json_u64(&j, "offset", 0);
        cli_json_str(&j, "message", in->error);
        cli_json_end(&j);
        return;
    }
    const sift_file_meta_t *m = &in->meta;
    char v[16];
    snprintf(v, sizeof v, "%u.%u", m->version_major, m->version_minor);
    cli_json_str(&j, "format", sift_format_name(m->format));
    cli_json_str(&j, "version", v);
    cli_json_str(&j, "byte_order", m->mixed_endian ? "mixed" : m->big_endian ? "big" : "little");
    cli_json_str(&j, "compression", sift_compression_name(m->compression));
    if (in->size)
        cli_json_u64(&j, "file_size", in->size);
    else
        cli_json_null(&j, "file_size");
    print_hashes_json(&j, h);
    if (co->filter)
        cli_json_str(&j, "filter", co->filter);
    else
        cli_json_null(&j, "filter");
    cli_json_u64(&j, "ts_digits", m->ts_digits);
    cli_json_u64(&j, "sections", m->sections);
    cli_json_u64(&j, "interfaces", m->niface);
    /* link types of the interfaces, each once */
    unsigned n = 0;
    uint32_t seen[64];
    for (size_t i = 0; i < m->niface && n < 64; i++) {
        bool dup = false;
        for (unsigned k = 0; k < n; k++)
            dup = dup || seen[k] == m->iface[i].linktype;
        if (!dup)
            seen[n++] = m->iface[i].linktype;
    }
    cli_json_open(&j, "link_types", '[');
    for (unsigned i = 0; i < n; i++)
        cli_json_u64(&j, NULL, seen[i]);
    cli_json_close(&j);
    cli_json_open(&j, "link_type_names", '[');
    for (unsigned i = 0; i < n; i++)
        cli_json_str(&j, NULL, sift_linktype_name(seen[i]));
    cli_json_close(&j);
    cli_json_open(&j, "snaplen", '[');
    for (size_t i = 0; i < m->niface; i++)
        cli_json_u64(&j, NULL, m->iface[i].snaplen);
    cli_json_close(&j);
    cli_json_u64(&j, "packets", s->packets);
    cli_json_u64(&j, "bytes_captured", s->bytes_captured);
    cli_json_u64(&j, "bytes_wire", s->bytes_wire);
    cli_json_u64(&j, "truncated", s->truncated);
    if (s->timed) {
        int64_t d = sift_info_duration_ns(s);
        cli_json_time(&j, "first_ts", "first_time", s->first_ts_ns, m->ts_digits);
        cli_json_time(&j, "last_ts", "last_time", s->last_ts_ns, m->ts_digits);
        cli_json_seconds(&j, "duration", d, m->ts_digits);
        cli_json_f64(&j, "packets_per_s", rate((double)s->packets, d), 3);
        cli_json_f64(&j, "bits_per_s", rate(8.0 * (double)s->bytes_captured, d), 3);
        cli_json_bool(&j, "time_ordered", s->time_ordered);
    } else {
        static const char *const nulls[] = {"first_ts", "first_time", "last_ts", "last_time",
                                            "duration"};
        for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
            cli_json_null(&j, nulls[i]);
    }
    cli_json_f64(&j, "avg_packet_size",
                 s->packets ? (double)s->bytes_captured / (double)s->packets : 0.0, 3);
    cli_json_open(&j, "errors", '[');
    for (size_t i = 0; i < in->nproblems; i++) {
        cli_json_open(&j, NULL, '{');
        cli_json_u64(&j, "offset", in->problems[i].offset);
        cli_json_str(&j, "message", in->problems[i].message);
        cli_json_close(&j);
    }
    cli_json_close(&j);
    cli_json_u64(&j, "problems_total", in->problems_total);
    print_notes_json(&j, in);
    cli_json_end(&j);
}

static void print_total(FILE *out, const sift_engine_t *e, const sift_info_summary_t *t,
                        size_t failed)
{
    char a[64], b[64], c[64];
    fprintf(out, "Total:              %s (%zu unreadable), %s, %s captured\n",
            cli_count(a, sift_engine_ninputs(e), "file", "files"), failed,
            cli_count(b, t->packets, "packet", "packets"),
            cli_count(c, t->bytes_captured, "byte", "bytes"));
}

int cmd_info(int argc, char **argv)
{
    info_args_t a = {0};
    int prc = cli_parse(&cli_cmd_info, argc, argv, &a, &a.co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
    const cli_common_t co = a.co;
    hashes_t hashes = {0};
    if (a.hash && !parse_hashes(a.hash, &hashes))
        return CLI_USAGE;
    bool json = co.format == CLI_FORMAT_JSON;
    cli_run_t run;
    cli_run_opts_t ro = {.pass = &sift_info_pass, .totals = true, .cache = true};
    int rc = cli_run(&run, &ro, &co);
    sift_engine_t *e = run.e;
    int pass = run.pass;
    if (rc == CLI_OK) {
        size_t failed = 0;
        for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
            const sift_input_t *in = sift_engine_input(e, i);
            sift_info_summary_t s;
            sift_info_get(sift_engine_state(e, i, pass), &s);
            hashes_t *h = a.hash ? &hashes : NULL;
            if (h) {
                h->error[0] = '\0';
                if (strcmp(in->path, "-") == 0)
                    snprintf(h->error, sizeof h->error,
                             "standard input cannot be hashed: it was read once");
                else
                    sift_digest_file_many(in->path, h->alg, h->n, h->hex, h->error);
                if (h->error[0]) {
                    cli_error("--hash: %s", h->error);
                    rc = CLI_DAMAGED;
                }
            }
            if (json)
                print_json(stdout, in, &s, &co, h);
            else
                print_text(stdout, in, &s, &co, h);
            failed += in->error[0] != '\0';
            if (cli_report_input(in, NULL) != CLI_OK)
                rc = CLI_DAMAGED;
        }
        if (!json && sift_engine_ninputs(e) > 1) {
            sift_info_summary_t t;
            sift_info_get(sift_engine_total(e, pass), &t);
            print_total(stdout, e, &t, failed);
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    cli_run_free(&run);
    return rc;
}
