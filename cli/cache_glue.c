/* The result cache as the commands use it: one key per run from the command, its normalised
 * options, every input (as named, and its content fingerprint), the capsift version and the
 * fingerprint of the capsift executable; on a
 * hit the stored output is written to stdout, on a miss the command's output is captured on
 * its way to stdout and stored when the run ends with exit status 0 and no message.
 *
 * Output is captured through a FILE that keeps what is written in memory and passes it on at
 * the end; past CLI_CACHE_MAX_OUTPUT it writes what it holds to stdout and streams the rest
 * there, and the run is not stored (memory stays bounded whatever the output size). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLI_CACHE_MAX_OUTPUT ((size_t)256 << 20)
#define CLI_CACHE_L1_BYTES   ((size_t)16 << 20)
#define CLI_CACHE_L2_BYTES   ((uint64_t)1 << 30)
#define CLI_CACHE_TTL_NS     (30ull * 24 * 3600 * 1000000000ull)

unsigned long cli_error_count;

/* Cache warnings (a damaged or unwritable cache file) go to stderr; errors the glue handles
 * itself (an input that cannot be fingerprinted) are left to the command to report. */
static void log_warning(void *user, sift_log_level_t level, const char *msg)
{
    (void)user;
    if (level == SIFT_LOG_WARN)
        fprintf(stderr, "capsift: warning: %s\n", msg);
}

static int mkdir_p(char *dir)
{
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(dir, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int cli_cache_path(char *buf, size_t size)
{
    const char *dir = getenv("CAPSIFT_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (dir && dir[0])
        n = snprintf(buf, size, "%s/cache.db", dir);
    else if (xdg && xdg[0] == '/')
        n = snprintf(buf, size, "%s/capsift/cache.db", xdg);
    else if (home && home[0])
        n = snprintf(buf, size, "%s/.cache/capsift/cache.db", home);
    else
        return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int cli_cache_open(sift_ctx_t *ctx, sift_cache_t **out)
{
    char path[4096];
    *out = NULL;
    sift_ctx_set_log(ctx, log_warning, NULL);
    if (cli_cache_path(path, sizeof path) < 0)
        return -1;
    char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        *slash = '\0';
        int rc = mkdir_p(path);
        if (rc != 0)
            fprintf(stderr,
                    "capsift: warning: cache: cannot create %s: %s; the persistent cache "
                    "is off for this run\n",
                    path, strerror(errno));
        *slash = '/';
        if (rc != 0)
            return sift_cache_open(out, ctx, NULL, NULL);
    }
    sift_cache_opts_t o = {.l1_max_bytes = CLI_CACHE_L1_BYTES,
                           .l2_max_bytes = CLI_CACHE_L2_BYTES,
                           .l2_ttl_ns = CLI_CACHE_TTL_NS};
    return sift_cache_open(out, ctx, path, &o);
}

bool cli_cache_env_off(void)
{
    const char *env = getenv("CAPSIFT_NO_CACHE");
    return env && env[0] && strcmp(env, "0") != 0;
}

void cli_cache_init(cli_cache_t *cc, const char *command, bool enabled)
{
    memset(cc, 0, sizeof *cc);
    cc->active = enabled && !cli_cache_env_off();
    sift_cache_keyb_init(&cc->kb);
    sift_cache_keyb_str(&cc->kb, "capsift");
    sift_cache_keyb_str(&cc->kb, sift_version());
    sift_cache_keyb_str(&cc->kb, command);
}

void cli_cache_param(cli_cache_t *cc, const char *name, const char *value)
{
    sift_cache_keyb_str(&cc->kb, name);
    sift_cache_keyb_str(&cc->kb, value);
}

void cli_cache_param_u64(cli_cache_t *cc, const char *name, uint64_t value)
{
    sift_cache_keyb_str(&cc->kb, name);
    sift_cache_keyb_u64(&cc->kb, value);
}

typedef struct expand_ctx {
    cli_cache_t *cc;
    sift_fpmemo_t *memo;
} expand_ctx_t;

static int add_file(void *user, const char *path, const struct stat *st)
{
    expand_ctx_t *x = user;
    sift_fingerprint_t fp;
    if (!st || strcmp(path, "-") == 0)
        return SIFT_EUNSUPPORTED; /* standard input is never cached */
    int rc = sift_fpmemo_get(x->memo, path, &fp, NULL);
    if (rc < 0)
        return rc;
    sift_cache_keyb_str(&x->cc->kb, path);
    sift_cache_keyb_fp(&x->cc->kb, &fp);
    return 0;
}

/* The key: everything added so far, then each input argument and the files it names. */
static bool make_key(cli_cache_t *cc, char *const *inputs, int n)
{
    expand_ctx_t x = {cc, sift_cache_fpmemo(cc->cache)};
    /* The program itself: a rebuilt capsift (same version string, different code) must not
     * answer with an older build's output. Remembered like any file, so this is a stat(). */
    sift_fingerprint_t self;
    if (sift_fpmemo_get(x.memo, "/proc/self/exe", &self, NULL) < 0)
        return false;
    sift_cache_keyb_fp(&cc->kb, &self);
    for (int i = 0; i < n; i++) {
        if (strcmp(inputs[i], "-") == 0)
            return false;
        sift_cache_keyb_str(&cc->kb, "input");
        sift_cache_keyb_str(&cc->kb, inputs[i]);
        if (sift_inputs_expand(cc->ctx, inputs[i], add_file, &x, NULL) < 0)
            return false; /* the command reports the problem when it reads the input */
    }
    return sift_cache_keyb_finish(&cc->kb, &cc->key) == 0;
}

static ssize_t tee_write(void *cookie, const char *buf, size_t n)
{
    cli_cache_t *cc = cookie;
    if (!cc->spilled && cc->len + n > CLI_CACHE_MAX_OUTPUT) {
        /* Too large to keep: pass on what is held and stream from here on. */
        if (cc->len && fwrite(cc->buf, 1, cc->len, stdout) != cc->len)
            cc->write_failed = true;
        free(cc->buf);
        cc->buf = NULL;
        cc->len = cc->cap = 0;
        cc->spilled = true;
    }
    if (cc->spilled) {
        if (fwrite(buf, 1, n, stdout) != n) {
            cc->write_failed = true;
            return -1;
        }
        return (ssize_t)n;
    }
    if (cc->cap - cc->len < n) {
        size_t cap = cc->cap ? cc->cap : 1 << 16;
        while (cap - cc->len < n)
            cap *= 2;
        char *b = realloc(cc->buf, cap);
        if (!b) {
            cc->spilled = true; /* cannot keep it: stream instead */
            return tee_write(cookie, buf, n);
        }
        cc->buf = b;
        cc->cap = cap;
    }
    memcpy(cc->buf + cc->len, buf, n);
    cc->len += n;
    return (ssize_t)n;
}

bool cli_cache_lookup(cli_cache_t *cc, char *const *inputs, int n)
{
    if (!cc->active) {
        sift_cache_keyb_release(&cc->kb);
        return false;
    }
    cc->active = false;
    if (sift_ctx_create(&cc->ctx) < 0 || cli_cache_open(cc->ctx, &cc->cache) < 0 || !cc->cache ||
        !make_key(cc, inputs, n)) {
        sift_cache_keyb_release(&cc->kb);
        return false;
    }
    const void *val;
    size_t len;
    if (sift_cache_get(cc->cache, cc->key.bytes, sizeof cc->key.bytes, &val, &len) == 0) {
        if (fwrite(val, 1, len, stdout) != len || fflush(stdout) != 0)
            cc->write_failed = true;
        cc->hit = true;
        return true;
    }
    cookie_io_functions_t io = {.write = tee_write};
    cc->out = fopencookie(cc, "w", io);
    if (!cc->out)
        return false;
    setvbuf(cc->out, NULL, _IOFBF, 1 << 16);
    cc->active = true;
    cc->errors_at_start = cli_error_count;
    return false;
}

FILE *cli_cache_out(cli_cache_t *cc)
{
    return cc->active ? cc->out : stdout;
}

int cli_cache_finish(cli_cache_t *cc, int rc)
{
    if (cc->out) {
        if (fclose(cc->out) != 0)
            cc->write_failed = true;
        cc->out = NULL;
        if (!cc->spilled && cc->len && fwrite(cc->buf, 1, cc->len, stdout) != cc->len)
            cc->write_failed = true;
        if (fflush(stdout) != 0)
            cc->write_failed = true;
        /* Only a whole, clean answer is kept: exit 0, nothing said on stderr. */
        if (cc->active && rc == CLI_OK && !cc->spilled && !cc->write_failed &&
            cli_error_count == cc->errors_at_start)
            sift_cache_put(cc->cache, cc->key.bytes, sizeof cc->key.bytes, cc->buf ? cc->buf : "",
                           cc->len);
    }
    if (cc->write_failed && rc != CLI_FAILED) {
        cli_error("cannot write the output: %s", strerror(errno));
        rc = CLI_FAILED;
    }
    free(cc->buf);
    sift_cache_close(cc->cache);
    sift_ctx_free(cc->ctx);
    memset(cc, 0, sizeof *cc);
    return rc;
}
