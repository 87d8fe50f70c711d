/* capsift info: a summary of each capture file, from record headers alone. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

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
    .common = CLI_C_INPUT | CLI_C_FILTER | CLI_C_JSON | CLI_C_NO_CACHE | CLI_C_THREADS,
    .footer = "The result cache (see 'capsift cache') keeps a file's summary under its content\n"
              "fingerprint once 'capsift flows' or 'stats' has taken it (info itself never hashes\n"
              "a file: that would cost more than it reads); such a file is not read again.\n\n"
              "exit status: 0 every file read whole, 1 some file damaged or unreadable (its\n"
              "partial results are still printed), 2 usage error, 3 failure.\n",
};

/* "1,234,567" */
static const char *group(char *buf, size_t size, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *ts_utc(char *buf, size_t size, int64_t ns, int digits)
{
    char dec[48];
    sift_format_ts(dec, sizeof dec, ns, digits);
    time_t sec = (time_t)(ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000);
    struct tm tm;
    char when[40] = "?";
    if (gmtime_r(&sec, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    const char *frac = strchr(dec, '.');
    snprintf(buf, size, "%s%s UTC (%s)", when, frac ? frac : "", dec);
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

static void print_text(FILE *out, const sift_input_t *in, const sift_info_summary_t *s)
{
    char a[64], b[64];
    const sift_file_meta_t *m = &in->meta;
    fprintf(out, "File:               %s\n", in->path);
    if (in->error[0]) {
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
    for (unsigned i = 0; i < s->nlinks; i++) {
        fprintf(out, i == 0 ? "Link types:         " : "                    ");
        print_link(out, s->linktype[i]);
        fprintf(out, ": %s packets\n", group(a, sizeof a, s->link_packets[i]));
    }
    if (s->nlinks == 0 && m->niface > 0) {
        fprintf(out, "Link types:         ");
        print_link(out, m->iface[0].linktype);
        fputc('\n', out);
    }
    fprintf(out, "Interfaces:         %zu", m->niface);
    uint32_t snap = m->niface ? m->iface[0].snaplen : 0;
    fprintf(out, snap ? ", snaplen %" PRIu32 "\n" : ", snaplen not set\n", snap);
    fprintf(out, "Packets:            %s\n", group(a, sizeof a, s->packets));
    fprintf(out, "Bytes captured:     %s (%s)\n", group(a, sizeof a, s->bytes_captured),
            cli_human_bytes(b, sizeof b, (double)s->bytes_captured));
    fprintf(out, "Bytes on the wire:  %s\n", group(a, sizeof a, s->bytes_wire));
    fprintf(out, "Truncated records:  %s\n", group(a, sizeof a, s->truncated));
    if (s->timed) {
        char t[96];
        int64_t d = sift_info_duration_ns(s);
        fprintf(out, "First packet:       %s\n", ts_utc(t, sizeof t, s->first_ts_ns, m->ts_digits));
        fprintf(out, "Last packet:        %s\n", ts_utc(t, sizeof t, s->last_ts_ns, m->ts_digits));
        fprintf(out, "Duration:           %s s\n", sift_format_ts(t, sizeof t, d, m->ts_digits));
        fprintf(out, "Packet rate:        %.2f packets/s\n", rate((double)s->packets, d));
        fprintf(out, "Data rate:          %.0f bits/s\n", rate(8.0 * (double)s->bytes_captured, d));
        fprintf(out, "Time ordered:       %s\n", s->time_ordered ? "yes" : "no");
    }
    if (s->packets)
        fprintf(out, "Average packet:     %.2f bytes\n",
                (double)s->bytes_captured / (double)s->packets);
    if (in->problems_total == 0) {
        fprintf(out, "Problems:           none\n\n");
        return;
    }
    fprintf(out, "Problems:           %" PRIu64 "%s\n", in->problems_total,
            in->status < 0 ? " (the file ends early; what came before is counted)" : "");
    for (size_t i = 0; i < in->nproblems; i++)
        fprintf(out, "  at byte %" PRIu64 ": %s\n", in->problems[i].offset,
                in->problems[i].message);
    if (in->problems_total > in->nproblems)
        fprintf(out, "  ... and %" PRIu64 " more\n", in->problems_total - in->nproblems);
    fputc('\n', out);
}

static void print_json(FILE *out, const sift_input_t *in, const sift_info_summary_t *s)
{
    fputs("{\"file\":", out);
    json_string(out, in->path);
    fprintf(out, ",\"status\":\"%s\"", status_name(in));
    if (in->error[0]) {
        fputs(",\"errors\":[{\"offset\":0,\"message\":", out);
        json_string(out, in->error);
        fputs("}]}\n", out);
        return;
    }
    const sift_file_meta_t *m = &in->meta;
    char t[64];
    fprintf(out,
            ",\"format\":\"%s\",\"version\":\"%u.%u\",\"byte_order\":\"%s\",\"compression\":\"%s\","
            "\"ts_digits\":%u,\"sections\":%" PRIu32 ",\"interfaces\":%zu",
            sift_format_name(m->format), m->version_major, m->version_minor,
            m->mixed_endian ? "mixed"
            : m->big_endian ? "big"
                            : "little",
            sift_compression_name(m->compression), m->ts_digits, m->sections, m->niface);
    fputs(",\"link_types\":[", out);
    /* link types of the interfaces, each once, then any seen only in records */
    unsigned n = 0;
    uint32_t seen[64];
    for (size_t i = 0; i < m->niface && n < 64; i++) {
        bool dup = false;
        for (unsigned k = 0; k < n; k++)
            dup = dup || seen[k] == m->iface[i].linktype;
        if (!dup)
            seen[n++] = m->iface[i].linktype;
    }
    for (unsigned i = 0; i < n; i++)
        fprintf(out, "%s%" PRIu32, i ? "," : "", seen[i]);
    fputs("],\"snaplen\":[", out);
    for (size_t i = 0; i < m->niface; i++)
        fprintf(out, "%s%" PRIu32, i ? "," : "", m->iface[i].snaplen);
    fprintf(out,
            "],\"packets\":%" PRIu64 ",\"bytes_captured\":%" PRIu64 ",\"bytes_wire\":%" PRIu64
            ",\"truncated\":%" PRIu64,
            s->packets, s->bytes_captured, s->bytes_wire, s->truncated);
    if (s->timed) {
        int64_t d = sift_info_duration_ns(s);
        fprintf(out, ",\"first_ts\":\"%s\"",
                sift_format_ts(t, sizeof t, s->first_ts_ns, m->ts_digits));
        fprintf(out, ",\"last_ts\":\"%s\"",
                sift_format_ts(t, sizeof t, s->last_ts_ns, m->ts_digits));
        fprintf(out, ",\"duration\":\"%s\"", sift_format_ts(t, sizeof t, d, m->ts_digits));
        fprintf(out, ",\"packets_per_s\":%.3f,\"bits_per_s\":%.3f,\"time_ordered\":%s",
                rate((double)s->packets, d), rate(8.0 * (double)s->bytes_captured, d),
                s->time_ordered ? "true" : "false");
    } else {
        fputs(",\"first_ts\":null,\"last_ts\":null,\"duration\":null", out);
    }
    fprintf(out, ",\"avg_packet_size\":%.3f",
            s->packets ? (double)s->bytes_captured / (double)s->packets : 0.0);
    fputs(",\"errors\":[", out);
    for (size_t i = 0; i < in->nproblems; i++) {
        fprintf(out, "%s{\"offset\":%" PRIu64 ",\"message\":", i ? "," : "",
                in->problems[i].offset);
        json_string(out, in->problems[i].message);
        fputc('}', out);
    }
    fprintf(out, "],\"problems_total\":%" PRIu64 "}\n", in->problems_total);
}

static void print_total(FILE *out, const sift_engine_t *e, const sift_info_summary_t *t,
                        size_t failed)
{
    char a[64], b[64];
    fprintf(out, "Total:              %zu files (%zu unreadable), %s packets, %s bytes captured\n",
            sift_engine_ninputs(e), failed, group(a, sizeof a, t->packets),
            group(b, sizeof b, t->bytes_captured));
}

int cmd_info(int argc, char **argv)
{
    cli_common_t co;
    int prc = cli_parse(&cli_cmd_info, argc, argv, NULL, &co);
    if (prc != CLI_OK)
        return prc < 0 ? CLI_OK : prc;
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
            if (json)
                print_json(stdout, in, &s);
            else
                print_text(stdout, in, &s);
            failed += in->error[0] != '\0';
            if (cli_report_input(in, NULL, false) != CLI_OK) /* problems are in the output */
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
