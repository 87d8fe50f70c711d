/* Pattern sets: the pattern syntax of search.h parsed into bytes, flags and where each came
 * from. Regular expressions are checked by Hyperscan's parser as they are added, so a bad one
 * is reported with its line before anything is compiled. */
#include "search/search_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sift_patterns_create(sift_patterns_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : SIFT_ENOMEM;
}

void sift_patterns_free(sift_patterns_t *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n; i++) {
        free((void *)(uintptr_t)ps->v[i].text);
        free((void *)(uintptr_t)ps->v[i].bytes);
        free((void *)(uintptr_t)ps->v[i].source);
    }
    free(ps->v);
    free(ps);
}

size_t sift_patterns_count(const sift_patterns_t *ps)
{
    return ps->n;
}

const sift_pattern_t *sift_patterns_at(const sift_patterns_t *ps, size_t i)
{
    return i < ps->n ? &ps->v[i] : NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The bytes of a literal body s[0..n) into out (at least n bytes): escapes and |hex| runs.
 * Returns the length, or -1 with why in err. */
static long literal_bytes(const char *s, size_t n, uint8_t *out, char *why, size_t whysz)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' && i + 1 < n && (s[i + 1] == '|' || s[i + 1] == '\\' || s[i + 1] == '"')) {
            out[o++] = (uint8_t)s[++i];
        } else if (c == '|') {
            size_t j = i + 1;
            int hi = -1;
            for (; j < n && s[j] != '|'; j++) {
                if (s[j] == ' ' || s[j] == '\t') {
                    if (hi >= 0) {
                        snprintf(why, whysz, "a lone hex digit between bars at column %zu", j + 1);
                        return -1;
                    }
                    continue;
                }
                int v = hexval((unsigned char)s[j]);
                if (v < 0) {
                    snprintf(why, whysz,
                             "'%c' at column %zu is not a hex digit (bars enclose hex bytes; "
                             "write \\| for a bar)",
                             s[j], j + 1);
                    return -1;
                }
                if (hi < 0) {
                    hi = v;
                } else {
                    out[o++] = (uint8_t)(hi << 4 | v);
                    hi = -1;
                }
            }
            if (j == n) {
                snprintf(why, whysz,
                         "the '|' at column %zu opens hex bytes that are never closed (write "
                         "\\| for a bar)",
                         i + 1);
                return -1;
            }
            if (hi >= 0) {
                snprintf(why, whysz, "a lone hex digit before the '|' at column %zu", j + 1);
                return -1;
            }
            i = j;
        } else {
            out[o++] = c;
        }
    }
    return (long)o;
}

/* A regex /EXPR/FLAGS: true with the body and flags when text is one (flags i, s, m only). */
static bool regex_form(const char *text, size_t n, size_t *body_len, sift_pattern_t *p)
{
    if (n < 3 || text[0] != '/')
        return false;
    const char *last = strrchr(text, '/');
    if (last == text)
        return false;
    for (const char *f = last + 1; *f; f++)
        if (*f != 'i' && *f != 's' && *f != 'm')
            return false;
    *body_len = (size_t)(last - text - 1);
    p->caseless = strchr(last + 1, 'i') != NULL;
    p->dotall = strchr(last + 1, 's') != NULL;
    p->multiline = strchr(last + 1, 'm') != NULL;
    return true;
}

static unsigned regex_flags(const sift_pattern_t *p)
{
    return (p->caseless ? HS_FLAG_CASELESS : 0u) | (p->dotall ? HS_FLAG_DOTALL : 0u) |
           (p->multiline ? HS_FLAG_MULTILINE : 0u);
}

/* The body of a pattern: a regex is checked by Hyperscan's parser; a literal becomes bytes. */
static int parse(sift_pattern_t *p, const char *text, uint8_t *buf, char *why, size_t whysz)
{
    size_t n = strlen(text), body;
    if (regex_form(text, n, &body, p)) {
        if (body == 0) {
            snprintf(why, whysz, "an empty regular expression");
            return SIFT_EPARSE;
        }
        memcpy(buf, text + 1, body);
        buf[body] = 0;
        p->regex = true;
        p->len = body;
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *err = NULL;
        if (hs_expression_info((const char *)buf, regex_flags(p), &info, &err) != HS_SUCCESS) {
            snprintf(why, whysz, "%s", err ? err->message : "not a regular expression");
            hs_free_compile_error(err);
            return SIFT_EPARSE;
        }
        bool empty = info->min_width == 0;
        free(info);
        if (empty) {
            snprintf(why, whysz, "the regular expression matches empty data");
            return SIFT_EPARSE;
        }
        return 0;
    }
    const char *s = text;
    if (text[0] == '"') {
        size_t close = 0;
        for (size_t i = 1; i < n && !close; i++) {
            if (text[i] == '\\' && i + 1 < n)
                i++;
            else if (text[i] == '"')
                close = i;
        }
        if (!close) {
            snprintf(why, whysz, "the opening quote is never closed");
            return SIFT_EPARSE;
        }
        const char *rest = text + close + 1;
        if (strcmp(rest, "i") == 0) {
            p->caseless = true;
        } else if (*rest) {
            snprintf(why, whysz, "'%s' after the closing quote (only an i may follow it)", rest);
            return SIFT_EPARSE;
        }
        s = text + 1;
        n = close - 1;
    }
    long len = literal_bytes(s, n, buf, why, whysz);
    if (len < 0)
        return SIFT_EPARSE;
    if (len == 0) {
        snprintf(why, whysz, "an empty pattern");
        return SIFT_EPARSE;
    }
    p->len = (size_t)len;
    return 0;
}

int sift_patterns_add(sift_patterns_t *ps, sift_ctx_t *ctx, const char *text, bool caseless,
                      const char *source, unsigned line)
{
    if (ps->n == ps->cap) {
        size_t ncap = ps->cap ? ps->cap * 2 : 16;
        sift_pattern_t *v = realloc(ps->v, ncap * sizeof *v);
        if (!v)
            return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
        ps->v = v;
        ps->cap = ncap;
    }
    sift_pattern_t p = {.caseless = caseless, .line = line};
    uint8_t *buf = malloc(strlen(text) + 1);
    char *copy = strdup(text), *src = strdup(source ? source : "");
    if (!buf || !copy || !src) {
        free(buf);
        free(copy);
        free(src);
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    }
    char why[256];
    int rc = parse(&p, text, buf, why, sizeof why);
    if (rc < 0) {
        sift__ctx_error(ctx, rc, "%s:%u: %s: %s", src, line, text, why);
        free(buf);
        free(copy);
        free(src);
        return rc;
    }
    p.text = copy;
    p.bytes = buf;
    p.source = src;
    ps->any_regex |= p.regex;
    ps->v[ps->n++] = p;
    return 0;
}

int sift_patterns_load(sift_patterns_t *ps, sift_ctx_t *ctx, const char *path, bool caseless)
{
    bool std = strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "r");
    if (!f)
        return sift__ctx_error(ctx, errno == ENOENT ? SIFT_ENOENT : SIFT_EIO, "%s: %s", path,
                               strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned no = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        no++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if ((size_t)len != strlen(line)) {
            rc = sift__ctx_error(ctx, SIFT_EPARSE,
                                 "%s:%u: a NUL byte in the line (write bytes as |00|)", path, no);
            break;
        }
        const char *s = line + strspn(line, " \t");
        if (*s == 0 || *s == '#')
            continue;
        rc = sift_patterns_add(ps, ctx, line, caseless, path, no);
    }
    if (rc == 0 && ferror(f))
        rc = sift__ctx_error(ctx, SIFT_EIO, "%s: read error", path);
    free(line);
    if (!std)
        fclose(f);
    return rc;
}

/* Hyperscan's flags for pattern p (shared with the compiler, srch_hs.c). */
unsigned sift__pattern_flags(const sift_pattern_t *p)
{
    return p->regex ? regex_flags(p) : (p->caseless ? HS_FLAG_CASELESS : 0u);
}
