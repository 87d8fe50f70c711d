/* Inputs named on a command line: a file, "-", or a directory walked for capture files.
 *
 * The rules (see sift_inputs_expand in capsift/engine.h): nothing that may be evidence is left
 * out without being counted. A file with a capture's name or first bytes is an input, and so
 * is any file or subdirectory that cannot be read (its read then fails, naming it); symbolic
 * links are followed, each real file and directory is read once (a link back into the tree is
 * counted, not followed again), and whatever is left out is counted by reason.
 */
#include "common/internal.h"

#include <capsift/engine.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXP_MAX_DEPTH 64

/* A set of (device, inode): the files handed on, the directories walked. */
typedef struct id_set {
    uint64_t (*slot)[2]; /* {dev, ino + 1}; ino + 1 == 0 marks a free slot */
    size_t n, cap;       /* cap: a power of two */
} id_set_t;

static size_t id_hash(uint64_t dev, uint64_t ino)
{
    uint64_t h = (dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xc2b2ae3d27d4eb4full);
    return (size_t)(h ^ (h >> 29));
}

/* 1 when added, 0 when it was there, SIFT_ENOMEM. */
static int id_add(id_set_t *s, const struct stat *st)
{
    uint64_t dev = (uint64_t)st->st_dev, key = (uint64_t)st->st_ino + 1;
    if (2 * (s->n + 1) > s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        uint64_t(*ns)[2] = calloc(ncap, sizeof *ns);
        if (!ns)
            return SIFT_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i][1])
                continue;
            size_t j = id_hash(s->slot[i][0], s->slot[i][1]) & (ncap - 1);
            while (ns[j][1])
                j = (j + 1) & (ncap - 1);
            ns[j][0] = s->slot[i][0];
            ns[j][1] = s->slot[i][1];
        }
        free(s->slot);
        s->slot = ns;
        s->cap = ncap;
    }
    size_t j = id_hash(dev, key) & (s->cap - 1);
    for (; s->slot[j][1]; j = (j + 1) & (s->cap - 1))
        if (s->slot[j][0] == dev && s->slot[j][1] == key)
            return 0;
    s->slot[j][0] = dev;
    s->slot[j][1] = key;
    s->n++;
    return 1;
}

/* The names capture files go by: pcap, pcapng, cap, ntar, snoop, each also .gz or .zst. */
static bool capture_name(const char *name)
{
    static const char *const ext[] = {".pcap", ".pcapng", ".cap", ".ntar", ".snoop"};
    static const char *const comp[] = {"", ".gz", ".zst", ".zstd"};
    size_t len = strlen(name);
    for (size_t c = 0; c < sizeof comp / sizeof *comp; c++) {
        size_t cl = strlen(comp[c]);
        if (len <= cl || strcasecmp(name + len - cl, comp[c]) != 0)
            continue;
        for (size_t e = 0; e < sizeof ext / sizeof *ext; e++) {
            size_t el = strlen(ext[e]);
            if (len > cl + el && strncasecmp(name + len - cl - el, ext[e], el) == 0)
                return true;
        }
    }
    return false;
}

/* 1 when the first bytes are a capture's, 0 when not, -1 when the file cannot be read. */
static int capture_head(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    uint8_t head[8];
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    if (n < 0)
        return -1;
    return n > 0 && sift_capture_probe(head, (size_t)n);
}

typedef struct expand {
    sift_ctx_t *ctx;
    sift_expand_fn fn;
    void *user;
    sift_expand_stats_t *stats;
    int count;
    id_set_t files;
} expand_t;

static int hand_on(expand_t *x, const char *path, const struct stat *st)
{
    int rc = x->fn(x->user, path, st);
    if (rc == 0)
        x->count++;
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names in dir, sorted; NULL with *n 0 for an empty directory. */
static int list_dir(DIR *d, const char *dir, char ***out, size_t *n, sift_expand_stats_t *stats)
{
    char **names = NULL;
    size_t cap = 0;
    *n = 0;
    *out = NULL;
    const struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (de->d_name[0] == '.') { /* hidden, like capsift's own temporary files */
            stats->hidden++;
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                goto oom;
            names = nn;
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        if (!(names[*n] = malloc(len)))
            goto oom;
        snprintf(names[(*n)++], len, "%s/%s", dir, de->d_name);
    }
    if (names)
        qsort(names, *n, sizeof *names, cmp_str);
    *out = names;
    return 0;
oom:
    for (size_t i = 0; i < *n; i++)
        free(names[i]);
    free(names);
    *n = 0;
    return SIFT_ENOMEM;
}

static int walk_dir(expand_t *x, const char *dir, id_set_t *dirs, int depth);

/* One entry of a directory. */
static int walk_entry(expand_t *x, const char *path, id_set_t *dirs, int depth)
{
    sift_expand_stats_t *s = x->stats;
    struct stat st;
    if (stat(path, &st) != 0) {
        struct stat lst;
        if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && !capture_name(path)) {
            s->broken_links++;
            return 0;
        }
        return hand_on(x, path, &lst); /* its read fails and says why */
    }
    if (S_ISDIR(st.st_mode)) {
        int added = id_add(dirs, &st); /* a loop, or a second way in: walked once */
        if (added <= 0) {
            if (added == 0)
                s->dirs_again++;
            return added;
        }
        return walk_dir(x, path, dirs, depth + 1);
    }
    if (!S_ISREG(st.st_mode)) {
        s->not_files++;
        return 0;
    }
    int head = capture_name(path) ? 1 : capture_head(path);
    if (head == 0) {
        s->not_captures++;
        return 0;
    }
    int added = id_add(&x->files, &st);
    if (added == 0)
        s->duplicates++;
    return added <= 0 ? added : hand_on(x, path, &st);
}

static int walk_dir(expand_t *x, const char *dir, id_set_t *dirs, int depth)
{
    if (depth > EXP_MAX_DEPTH) {
        x->stats->too_deep++;
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) { /* an input that fails: the user learns of it, the rest is still read */
        struct stat st;
        x->stats->unreadable_dirs++;
        return hand_on(x, dir, stat(dir, &st) == 0 ? &st : NULL);
    }
    char **names;
    size_t n;
    int rc = list_dir(d, dir, &names, &n, x->stats);
    closedir(d);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = walk_entry(x, names[i], dirs, depth);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int sift_inputs_expand(sift_ctx_t *ctx, const char *path, sift_expand_fn fn, void *user,
                       sift_expand_stats_t *stats)
{
    sift_expand_stats_t scratch = {0};
    expand_t x = {ctx, fn, user, stats ? stats : &scratch, 0, {0}};
    if (strcmp(path, "-") == 0) {
        int rc = fn(user, path, NULL);
        return rc < 0 ? rc : 1;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return sift__ctx_error(ctx, errno == ENOENT ? SIFT_ENOENT : SIFT_EIO, "%s: %s", path,
                               strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        int rc = fn(user, path, &st);
        return rc < 0 ? rc : 1;
    }
    size_t len = strlen(path);
    char *dir = strdup(path);
    if (!dir)
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    id_set_t dirs = {0};
    int rc = id_add(&dirs, &st);
    if (rc >= 0)
        rc = walk_dir(&x, dir, &dirs, 0);
    free(dirs.slot);
    free(x.files.slot);
    free(dir);
    if (rc == SIFT_ENOMEM)
        return sift__ctx_error(ctx, rc, "out of memory");
    return rc < 0 ? rc : x.count;
}

uint64_t sift_expand_left_out(const sift_expand_stats_t *s)
{
    return s->not_captures + s->hidden + s->duplicates + s->dirs_again + s->broken_links +
           s->not_files + s->too_deep;
}
