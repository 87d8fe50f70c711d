/* The output layer: every command's results go out through here, as an aligned table, JSON
 * lines or CSV from a row schema (cli_rows_print), or as one JSON object built field by field
 * (cli_json_*). Numbers, times and durations are formatted by hand into a line buffer written
 * once: a stdio call per field was most of printing a flow. */
#include "cli.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    const unsigned char *p = (const unsigned char *)s, *run = p; /* bytes written as they are */
    for (; *p; p++) {
        if (json_plain(*p))
            continue;
        fwrite(run, 1, (size_t)(p - run), out);
        if (*p >= 0x80) {
            size_t n = sift_utf8_seq(p, 4); /* stops at the NUL */
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

/* ---- a line built in memory ---- */

void cli_line_flush(cli_line_t *l)
{
    fwrite(l->b, 1, l->n, l->out);
    l->n = 0;
}

void cli_line_putn(cli_line_t *l, const char *s, size_t k)
{
    if (l->n + k > sizeof l->b)
        cli_line_flush(l);
    if (k > sizeof l->b) {
        fwrite(s, 1, k, l->out);
        return;
    }
    memcpy(l->b + l->n, s, k);
    l->n += k;
}

void cli_line_put(cli_line_t *l, const char *s)
{
    cli_line_putn(l, s, strlen(s));
}

static void line_spaces(cli_line_t *l, size_t n)
{
    static const char spaces[] = "                                                                ";
    while (n > 0) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        cli_line_putn(l, spaces, k);
        n -= k;
    }
}

/* A JSON string: copied when nothing in it needs an escape, else through json_string. */
static void line_json_string(cli_line_t *l, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (json_plain(*p))
        p++;
    if (*p == '\0') {
        cli_line_putn(l, "\"", 1);
        cli_line_putn(l, s, (size_t)(p - (const unsigned char *)s));
        cli_line_putn(l, "\"", 1);
        return;
    }
    cli_line_flush(l);
    json_string(l->out, s);
}

static void csv_field(cli_line_t *l, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        cli_line_put(l, s);
        return;
    }
    cli_line_putn(l, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            cli_line_putn(l, "\"", 1);
        cli_line_putn(l, s, 1);
    }
    cli_line_putn(l, "\"", 1);
}

/* ---- numbers, times and durations as text ---- */

char *cli_u64_str(char *buf, uint64_t v)
{
    char t[20];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char *p = buf;
    while (n)
        *p++ = t[--n];
    *p = '\0';
    return buf;
}

const char *cli_count(char *buf, uint64_t v, const char *one, const char *many)
{
    char n[32];
    snprintf(buf, 64, "%s %s", cli_u64_grouped(n, v), v == 1 ? one : many);
    return buf;
}

char *cli_u64_grouped(char *buf, uint64_t v)
{
    char t[32];
    int n = 0, k = 0;
    do {
        if (k++ == 3) {
            t[n++] = ',';
            k = 1;
        }
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char *p = buf;
    while (n)
        *p++ = t[--n];
    *p = '\0';
    return buf;
}

static char *i64_str(char *buf, int64_t v)
{
    if (v >= 0)
        return cli_u64_str(buf, (uint64_t)v);
    buf[0] = '-';
    cli_u64_str(buf + 1, v == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-v);
    return buf;
}

int cli_interval_digits(int64_t ns)
{
    int d = 9;
    while (d > 0 && ns % 10 == 0) {
        ns /= 10;
        d--;
    }
    return d;
}

const char *cli_human_duration(char *buf, size_t size, int64_t ns, int digits)
{
    char a[32], b[32];
    if (ns < 0)
        ns = 0;
    int64_t s = ns / 1000000000;
    if (s < 60) {
        snprintf(buf, size, "%s s", sift_format_ts(a, sizeof a, ns, digits));
        return buf;
    }
    struct {
        int64_t size;
        const char *one, *many;
    } const units[] = {{86400, "day", "days"}, {3600, "h", "h"}, {60, "min", "min"}, {1, "s", "s"}};
    size_t u = 0;
    while (s < units[u].size)
        u++;
    int64_t big = s / units[u].size, small = s % units[u].size / units[u + 1].size;
    cli_u64_grouped(a, (uint64_t)big);
    cli_u64_str(b, (uint64_t)small);
    if (small)
        snprintf(buf, size, "%s %s %s %s", a, big == 1 ? units[u].one : units[u].many, b,
                 units[u + 1].many);
    else
        snprintf(buf, size, "%s %s", a, big == 1 ? units[u].one : units[u].many);
    return buf;
}

const char *cli_human_rate(char *buf, size_t size, double v, const char *unit)
{
    static const char *const prefix[] = {"", "k", "M", "G", "T", "P"};
    int p = 0;
    while (v >= 1000.0 && p < 5) {
        v /= 1000.0;
        p++;
    }
    snprintf(buf, size, p ? "%.2f %s%s" : "%.0f %s%s", v, prefix[p], unit);
    return buf;
}

const char *cli_time_str(char *buf, size_t size, int64_t ns, int digits, cli_time_format_t tf,
                         int64_t base)
{
    switch (tf) {
    case CLI_TIME_EPOCH:
        return sift_format_ts(buf, size, ns, digits);
    case CLI_TIME_RELATIVE:
        return sift_format_ts(buf, size, ns - base, digits);
    case CLI_TIME_LOCAL: {
        time_t t = (time_t)(ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000);
        struct tm tm;
        long off = localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
        return sift_format_iso(buf, size, ns, digits, (int)off);
    }
    default:
        return sift_format_iso(buf, size, ns, digits, 0);
    }
}

/* ---- one JSON object, field by field ---- */

void cli_json_begin(cli_json_t *j, FILE *out)
{
    j->l.out = out;
    j->l.n = 0;
    j->depth = 0;
    j->first[0] = true;
    cli_line_putn(&j->l, "{", 1);
}

/* The separator and the key (NULL inside an array). */
static void json_key(cli_json_t *j, const char *key)
{
    if (!j->first[j->depth])
        cli_line_putn(&j->l, ",", 1);
    j->first[j->depth] = false;
    if (key) {
        line_json_string(&j->l, key);
        cli_line_putn(&j->l, ":", 1);
    }
}

void cli_json_open(cli_json_t *j, const char *key, char bracket)
{
    json_key(j, key);
    cli_line_putn(&j->l, &bracket, 1);
    assert(j->depth + 1 < (int)(sizeof j->first / sizeof j->first[0]));
    j->stack[++j->depth] = bracket == '[' ? ']' : '}';
    j->first[j->depth] = true;
}

void cli_json_close(cli_json_t *j)
{
    assert(j->depth > 0);
    cli_line_putn(&j->l, &j->stack[j->depth--], 1);
}

void cli_json_end(cli_json_t *j)
{
    while (j->depth > 0)
        cli_json_close(j);
    cli_line_putn(&j->l, "}\n", 2);
    cli_line_flush(&j->l);
}

void cli_json_str(cli_json_t *j, const char *key, const char *s)
{
    json_key(j, key);
    if (s)
        line_json_string(&j->l, s);
    else
        cli_line_putn(&j->l, "null", 4);
}

void cli_json_u64(cli_json_t *j, const char *key, uint64_t v)
{
    char n[24];
    json_key(j, key);
    cli_line_put(&j->l, cli_u64_str(n, v));
}

void cli_json_i64(cli_json_t *j, const char *key, int64_t v)
{
    char n[24];
    json_key(j, key);
    cli_line_put(&j->l, i64_str(n, v));
}

void cli_json_f64(cli_json_t *j, const char *key, double v, int decimals)
{
    char n[64];
    json_key(j, key);
    if (v != v || v > 1e300 || v < -1e300) /* NaN, infinities: JSON has none */
        snprintf(n, sizeof n, "null");
    else if (decimals < 0)
        snprintf(n, sizeof n, "%.6g", v);
    else
        snprintf(n, sizeof n, "%.*f", decimals, v);
    cli_line_put(&j->l, n);
}

void cli_json_bool(cli_json_t *j, const char *key, bool v)
{
    json_key(j, key);
    cli_line_put(&j->l, v ? "true" : "false");
}

void cli_json_null(cli_json_t *j, const char *key)
{
    json_key(j, key);
    cli_line_putn(&j->l, "null", 4);
}

void cli_json_time(cli_json_t *j, const char *key_ts, const char *key_iso, int64_t ns, int digits)
{
    char t[SIFT_ISO_MAX];
    json_key(j, key_ts);
    cli_line_put(&j->l, sift_format_ts(t, sizeof t, ns, digits));
    cli_json_str(j, key_iso, sift_format_iso(t, sizeof t, ns, digits, 0));
}

void cli_json_seconds(cli_json_t *j, const char *key, int64_t ns, int digits)
{
    char t[40];
    json_key(j, key);
    cli_line_put(&j->l, sift_format_ts(t, sizeof t, ns, digits));
}

/* ---- rows ---- */

#define CELL_TEXT_MAX 4096 /* text of a value that is not a string (a list's, joined) */

/* A value as the JSON object's field(s) of its column. */
static void json_value(cli_json_t *j, const cli_col_t *c, const cli_val_t *v)
{
    if (v->null) {
        cli_json_null(j, c->key);
        if (c->type == CLI_T_TIME)
            cli_json_null(j, c->key_iso);
        return;
    }
    switch (c->type) {
    case CLI_T_STR:
        cli_json_str(j, c->key, v->s);
        break;
    case CLI_T_U64:
    case CLI_T_ID:
        cli_json_u64(j, c->key, v->u);
        break;
    case CLI_T_I64:
        cli_json_i64(j, c->key, v->i);
        break;
    case CLI_T_F64:
        cli_json_f64(j, c->key, v->f, v->digits);
        break;
    case CLI_T_BOOL:
        cli_json_bool(j, c->key, v->b);
        break;
    case CLI_T_TIME:
        cli_json_time(j, c->key, c->key_iso, v->i, v->digits);
        break;
    case CLI_T_DUR:
        cli_json_seconds(j, c->key, v->i, v->digits);
        break;
    case CLI_T_LIST:
        cli_json_open(j, c->key, '[');
        for (const char *a = v->s; *a;) {
            const char *e = strchr(a, CLI_LIST_SEP);
            size_t n = e ? (size_t)(e - a) : strlen(a);
            char item[CELL_TEXT_MAX];
            snprintf(item, sizeof item, "%.*s", (int)n, a);
            cli_json_str(j, NULL, item);
            a += n + (e != NULL);
        }
        cli_json_close(j);
        break;
    }
}

void cli_json_row(cli_json_t *j, const cli_col_t *cols, size_t ncols, const cli_val_t *v)
{
    for (size_t k = 0; k < ncols; k++)
        if (cols[k].key)
            json_value(j, &cols[k], &v[k]);
}

/* A value as CSV, or as table text (table). Returns the text, in buf or v->s. */
static const char *cell_text(const cli_col_t *c, const cli_val_t *v, bool table, const cli_out_t *o,
                             char *buf, size_t size)
{
    if (v->null)
        return table ? "-" : "";
    switch (c->type) {
    case CLI_T_STR:
        return v->s;
    case CLI_T_U64:
        return table ? cli_u64_grouped(buf, v->u) : cli_u64_str(buf, v->u);
    case CLI_T_ID:
        return cli_u64_str(buf, v->u);
    case CLI_T_I64:
        return i64_str(buf, v->i);
    case CLI_T_F64:
        if (table && c->unit && strchr(c->unit, '/'))
            return cli_human_rate(buf, size, v->f, c->unit);
        snprintf(buf, size, "%.*f", v->digits, v->f);
        return buf;
    case CLI_T_BOOL:
        return table ? (v->b ? "yes" : "no") : (v->b ? "true" : "false");
    case CLI_T_TIME:
        return table ? cli_time_str(buf, size, v->i, v->digits, o->time, o->base)
                     : sift_format_ts(buf, size, v->i, v->digits);
    case CLI_T_DUR:
        return table ? cli_human_duration(buf, size, v->i, v->digits)
                     : sift_format_ts(buf, size, v->i, v->digits);
    case CLI_T_LIST:
        snprintf(buf, size, "%s", v->s);
        for (char *sep = buf; (sep = strchr(sep, CLI_LIST_SEP)); sep++)
            *sep = ',';
        return buf;
    }
    return "";
}

static bool right_aligned(cli_type_t t)
{
    return t != CLI_T_STR && t != CLI_T_TIME && t != CLI_T_BOOL && t != CLI_T_LIST;
}

static void print_csv(const cli_out_t *o, const cli_col_t *cols, size_t ncols, size_t n,
                      cli_rows_fn get, void *user, cli_val_t *v)
{
    cli_line_t l = {.out = o->out};
    char buf[CELL_TEXT_MAX];
    const char *sep = "";
    for (size_t k = 0; k < ncols; k++) {
        if (!cols[k].key)
            continue;
        cli_line_put(&l, sep);
        sep = ",";
        cli_line_put(&l, cols[k].key);
        if (cols[k].type == CLI_T_TIME) {
            cli_line_putn(&l, ",", 1);
            cli_line_put(&l, cols[k].key_iso);
        }
    }
    cli_line_putn(&l, "\n", 1);
    for (size_t i = 0; i < n; i++) {
        get(user, i, v);
        sep = "";
        for (size_t k = 0; k < ncols; k++) {
            if (!cols[k].key)
                continue;
            cli_line_put(&l, sep);
            sep = ",";
            csv_field(&l, cell_text(&cols[k], &v[k], false, o, buf, sizeof buf));
            if (cols[k].type == CLI_T_TIME) {
                cli_line_putn(&l, ",", 1);
                if (!v[k].null)
                    cli_line_put(&l, sift_format_iso(buf, sizeof buf, v[k].i, v[k].digits, 0));
            }
        }
        cli_line_putn(&l, "\n", 1);
        if (l.n > sizeof l.b / 2)
            cli_line_flush(&l);
    }
    cli_line_flush(&l);
}

/* Two passes over the rows, formatting each twice, so that memory does not grow with them: the
 * first finds the column widths, the second prints. */
static void print_table(const cli_out_t *o, const cli_col_t *cols, size_t ncols, size_t n,
                        cli_rows_fn get, void *user, cli_val_t *v, size_t *w)
{
    char buf[CELL_TEXT_MAX];
    for (size_t k = 0; k < ncols; k++)
        w[k] = cols[k].head ? strlen(cols[k].head) : 0;
    for (size_t i = 0; i < n; i++) {
        get(user, i, v);
        for (size_t k = 0; k < ncols; k++) {
            size_t len =
                cols[k].head ? strlen(cell_text(&cols[k], &v[k], true, o, buf, sizeof buf)) : 0;
            if (len > w[k])
                w[k] = len;
        }
    }
    size_t last = ncols;
    while (last > 0 && !cols[last - 1].head)
        last--;
    cli_line_t l = {.out = o->out};
    for (size_t i = 0; i <= n; i++) {
        if (i > 0)
            get(user, i - 1, v);
        if (o->indent)
            cli_line_put(&l, o->indent);
        bool first = true;
        for (size_t k = 0; k < last; k++) {
            if (!cols[k].head)
                continue;
            const char *t =
                i == 0 ? cols[k].head : cell_text(&cols[k], &v[k], true, o, buf, sizeof buf);
            if (!first)
                cli_line_putn(&l, "  ", 2);
            first = false;
            size_t len = strlen(t), pad = w[k] - len;
            bool right = right_aligned(cols[k].type);
            if (right)
                line_spaces(&l, pad);
            cli_line_putn(&l, t, len);
            if (!right && k + 1 < last)
                line_spaces(&l, pad);
        }
        cli_line_putn(&l, "\n", 1);
        if (l.n > sizeof l.b / 2)
            cli_line_flush(&l);
    }
    cli_line_flush(&l);
}

int cli_rows_print(const cli_out_t *o, const cli_col_t *cols, size_t ncols, size_t n,
                   cli_rows_fn get, void *user)
{
    cli_val_t *v = calloc(ncols, sizeof *v);
    size_t *w = calloc(ncols, sizeof *w);
    if (!v || !w) {
        free(v);
        free(w);
        cli_error("out of memory");
        return CLI_FAILED;
    }
    if (o->fmt == CLI_FORMAT_TABLE) {
        print_table(o, cols, ncols, n, get, user, v, w);
    } else if (o->fmt == CLI_FORMAT_CSV) {
        print_csv(o, cols, ncols, n, get, user, v);
    } else {
        for (size_t i = 0; i < n; i++) {
            get(user, i, v);
            cli_json_t j;
            cli_json_begin(&j, o->out);
            cli_json_row(&j, cols, ncols, v);
            if (o->json_more)
                o->json_more(o->more_user, i, &j);
            cli_json_end(&j);
        }
    }
    free(v);
    free(w);
    return CLI_OK;
}

int cli_outfile_begin(sift_ctx_t *ctx, const char *path, bool force, char *const *protect,
                      size_t nprotect, sift_outfile_t **of)
{
    sift_outfile_opts_t oo = {
        .force = force, .protect = (const char *const *)protect, .nprotect = nprotect};
    int rc = sift_outfile_open(of, ctx, path, &oo);
    if (rc == 0)
        return CLI_OK;
    cli_error("%s", sift_ctx_errmsg(ctx));
    return rc == SIFT_EEXIST || rc == SIFT_EINVAL ? CLI_USAGE : CLI_FAILED;
}

int cli_svg_begin(const cli_common_t *co, const char *path, bool force, sift_ctx_t **ctx,
                  sift_outfile_t **of)
{
    *ctx = NULL;
    *of = NULL;
    if (!path)
        return CLI_OK;
    char **inputs = NULL, *db = (char *)(uintptr_t)co->db;
    int ninputs = 1;
    int rc = co->db_given ? CLI_OK : cli_inputs(co, &inputs, &ninputs); /* else the index */
    if (rc != CLI_OK)
        return rc;
    if (sift_ctx_create(ctx) < 0) {
        cli_error("out of memory");
        rc = CLI_FAILED;
    } else {
        rc = cli_outfile_begin(*ctx, path, force, inputs ? inputs : &db, (size_t)ninputs, of);
    }
    free(inputs);
    if (rc != CLI_OK) {
        sift_ctx_free(*ctx);
        *ctx = NULL;
    }
    return rc;
}

int cli_outfile_end(sift_ctx_t *ctx, sift_outfile_t *of, int rc)
{
    if (rc != CLI_OK) {
        sift_outfile_abort(of);
        return rc;
    }
    if (sift_outfile_commit(of) < 0) {
        cli_error("%s", sift_ctx_errmsg(ctx));
        return CLI_FAILED;
    }
    return CLI_OK;
}
