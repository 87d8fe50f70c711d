/* Where the commands' result cache lives and how it is opened. The cache itself, what it keys
 * and stores, is the library's: the engine stores each input's pass states (lib/engine/
 * eng_cache.c); the commands render from them whether they were computed or loaded. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CLI_CACHE_L1_BYTES ((size_t)16 << 20)
#define CLI_CACHE_L2_BYTES ((uint64_t)1 << 30)
#define CLI_CACHE_TTL_NS   (30ull * 24 * 3600 * 1000000000ull)

/* Cache warnings (a damaged or unwritable cache file) go to stderr; errors (an input that
 * cannot be read) are the command's to report. */
static void log_warning(void *user, sift_log_level_t level, const char *msg)
{
    (void)user;
    if (level == SIFT_LOG_WARN)
        cli_note("warning: %s", msg);
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

static int cache_file(const char *name, char *buf, size_t size)
{
    const char *dir = getenv("CAPSIFT_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (dir && dir[0])
        n = snprintf(buf, size, "%s/%s", dir, name);
    else if (xdg && xdg[0] == '/')
        n = snprintf(buf, size, "%s/capsift/%s", xdg, name);
    else if (home && home[0])
        n = snprintf(buf, size, "%s/.cache/capsift/%s", home, name);
    else
        return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int cli_cache_path(char *buf, size_t size)
{
    return cache_file("cache.db", buf, size);
}

int cli_cache_file(const char *name, const char *what, char *buf, size_t size)
{
    if (cache_file(name, buf, size) < 0)
        return -1;
    char *slash = strrchr(buf, '/');
    if (slash && slash != buf) {
        *slash = '\0';
        int rc = mkdir_p(buf);
        if (rc != 0)
            cli_note("warning: cache: cannot create %s: %s; %s is off for this run", buf,
                     strerror(errno), what);
        *slash = '/';
        if (rc != 0)
            return -1;
    }
    return 0;
}

int cli_cache_open(sift_ctx_t *ctx, sift_cache_t **out)
{
    char path[4096];
    *out = NULL;
    sift_ctx_set_log(ctx, log_warning, NULL);
    if (cli_cache_path(path, sizeof path) < 0)
        return -1;
    if (cli_cache_file("cache.db", "the persistent cache", path, sizeof path) < 0)
        return sift_cache_open(out, ctx, NULL, NULL);
    sift_cache_opts_t o = {.l1_max_bytes = CLI_CACHE_L1_BYTES,
                           .l2_max_bytes = CLI_CACHE_L2_BYTES,
                           .l2_ttl_ns = CLI_CACHE_TTL_NS};
    return sift_cache_open(out, ctx, path, &o);
}

static bool cache_env_off(void)
{
    const char *env = getenv("CAPSIFT_NO_CACHE");
    return env && env[0] && strcmp(env, "0") != 0;
}

bool cli_cache_wanted(const cli_common_t *co)
{
    return !co->no_cache && !cache_env_off();
}
