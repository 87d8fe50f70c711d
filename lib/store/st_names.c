/* Domain names in the index: the key a name is stored and looked up by, and matching on
 * labels.
 *
 * A key is the name normalised (ASCII lower case, one trailing dot removed, an HTTP Host's
 * port and IPv6 brackets removed) with its labels in reverse order: "www.Example.com." is
 * "com.example.www". Reversed, the names under a domain share a prefix, so "*.example.com"
 * is a range of the index ("com.example." up to "com.example/"), not a scan.
 *
 * Patterns: a label that is "*" stands for one or more whole labels; inside a label, '*'
 * stands for any run of characters and '?' for one, never crossing a dot. So "*.example.com"
 * matches "a.example.com" and "a.b.example.com", not "example.com" or "badexample.com", and
 * "mail*.example.com" matches "mail2.example.com", not "mail.x.example.com". A '.' or '\'
 * escaped in a DNS label ("\.", "\\") is part of its label. */
#include "store/store_int.h"

#include <stdbool.h>
#include <string.h>

#define MAX_LABELS 256 /* a name of 255 bytes has at most 128; escapes make text longer */

typedef struct label {
    const char *p;
    size_t n;
} label_t;

/* Splits s[0, n) at the dots that are not escaped; returns the count, or 0 when there are more
 * than MAX_LABELS. */
static size_t split(const char *s, size_t n, label_t *out)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (i == n || s[i] == '.') {
            if (count == MAX_LABELS)
                return 0;
            out[count].p = s + start;
            out[count].n = i - start;
            count++;
            start = i + 1;
        }
    }
    return count;
}

size_t sift__name_key(const char *name, size_t n, bool http_host, char *out, size_t size)
{
    char norm[SIFT_NAME_KEY_MAX];
    if (n == 0 || n >= sizeof norm || size == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        norm[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    const char *s = norm;
    if (http_host && (n = sift__http_host(norm, n, &s)) == 0)
        return 0;
    if (n == 1 && s[0] == '.') { /* the root */
        if (size < 2)
            return 0;
        memcpy(out, ".", 2);
        return 1;
    }
    if (n > 1 && s[n - 1] == '.' && s[n - 2] != '\\')
        n--;
    label_t labels[MAX_LABELS];
    size_t count = n ? split(s, n, labels) : 0;
    if (count == 0 || n >= size)
        return 0;
    size_t len = 0;
    for (size_t i = count; i-- > 0;) {
        memcpy(out + len, labels[i].p, labels[i].n);
        len += labels[i].n;
        if (i)
            out[len++] = '.';
    }
    out[len] = '\0';
    return len;
}

/* One label against a label pattern with '*' and '?' (backtracking to the last '*' only,
 * which is enough for one kind of star: linear in practice, quadratic at worst). */
static bool label_glob(const label_t *pat, const label_t *s)
{
    size_t p = 0, i = 0, star = SIZE_MAX, mark = 0;
    while (i < s->n) {
        if (p < pat->n && (pat->p[p] == '?' || pat->p[p] == s->p[i])) {
            p++;
            i++;
        } else if (p < pat->n && pat->p[p] == '*') {
            star = p++;
            mark = i;
        } else if (star != SIZE_MAX) {
            p = star + 1;
            i = ++mark;
        } else {
            return false;
        }
    }
    while (p < pat->n && pat->p[p] == '*')
        p++;
    return p == pat->n;
}

bool sift__name_match(const char *pattern, const char *key)
{
    label_t pl[MAX_LABELS], kl[MAX_LABELS];
    size_t np = split(pattern, strlen(pattern), pl);
    size_t nk = split(key, strlen(key), kl);
    if (np == 0 || nk == 0)
        return false;
    /* at[j]: the pattern's labels so far match the key's first j labels */
    bool at[MAX_LABELS + 1], next[MAX_LABELS + 1];
    memset(at, 0, sizeof at);
    at[0] = true;
    for (size_t i = 0; i < np; i++) {
        bool whole = pl[i].n == 1 && pl[i].p[0] == '*';
        bool any = false; /* some at[k] with k < j */
        next[0] = false;
        for (size_t j = 1; j <= nk; j++) {
            any = any || at[j - 1];
            next[j] = whole ? any : at[j - 1] && label_glob(&pl[i], &kl[j - 1]);
        }
        memcpy(at, next, (nk + 1) * sizeof at[0]);
    }
    return at[nk];
}

size_t sift__name_prefix(const char *pattern)
{
    size_t fixed = 0; /* the end of the last whole label without a wildcard */
    for (size_t i = 0;; i++) {
        char c = pattern[i];
        if (c == '\\' && pattern[i + 1]) {
            i++;
            continue;
        }
        if (c == '*' || c == '?')
            return fixed;
        if (c == '\0')
            return i;
        if (c == '.')
            fixed = i;
    }
}
