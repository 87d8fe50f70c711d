/* Output files written beside the target and renamed into place (see capsift/outfile.h). */
#include "common/internal.h"

#include <capsift/outfile.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct sift_outfile {
    sift_ctx_t *ctx;
    FILE *fp;
    char *path; /* the target */
    char *tmp;  /* the temporary file, NULL when written in place */
    bool is_stdout, force;
};

bool sift_path_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static int errno_code(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EFBIG ? SIFT_ENOSPC : SIFT_EIO;
}

/* Refuses a target that must not be replaced; 1 when it is written in place. */
static int check_target(sift_ctx_t *ctx, const char *path, const sift_outfile_opts_t *o)
{
    struct stat st, lst;
    if (lstat(path, &lst) != 0) {
        if (errno == ENOENT)
            return 0;
        return sift__ctx_error(ctx, SIFT_EIO, "%s: cannot check the output: %s", path,
                               strerror(errno));
    }
    bool target = stat(path, &st) == 0;
    if (target && S_ISDIR(st.st_mode))
        return sift__ctx_error(ctx, SIFT_EINVAL, "%s: is a directory; name an output file", path);
    for (size_t i = 0; o && i < o->nprotect; i++)
        if (sift_path_same_file(path, o->protect[i]))
            return sift__ctx_error(ctx, SIFT_EEXIST,
                                   "%s: is %s, which is read by this run; nothing written", path,
                                   o->protect[i]);
    if (target && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return 1;
    if (!(o && o->force))
        return sift__ctx_error(ctx, SIFT_EEXIST,
                               "%s: exists; nothing written (give --force to replace it)", path);
    return 0;
}

/* ".NAME.capsift-XXXXXX" in the target's directory, created exclusively with the mode a new
 * file gets (0666 less the umask), unlike mkstemp's 0600. */
static int create_tmp(sift_outfile_t *f)
{
    const char *slash = strrchr(f->path, '/');
    size_t dlen = slash ? (size_t)(slash - f->path) + 1 : 0;
    const char *base = f->path + dlen;
    size_t size = dlen + strlen(base) + 32;
    if (!(f->tmp = malloc(size)))
        return sift__ctx_error(f->ctx, SIFT_ENOMEM, "out of memory");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)f;
    for (int attempt = 0; attempt < 100; attempt++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        snprintf(f->tmp, size, "%.*s.%s.capsift-%06x", (int)dlen, f->path, base,
                 (unsigned)(seed >> 40));
        int fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            if ((f->fp = fdopen(fd, "wb")))
                return 0;
            close(fd);
            unlink(f->tmp);
            break;
        }
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    free(f->tmp);
    f->tmp = NULL;
    return sift__ctx_error(f->ctx, errno_code(e), "%s: cannot create the output: %s", f->path,
                           strerror(e));
}

int sift_outfile_open(sift_outfile_t **out, sift_ctx_t *ctx, const char *path,
                      const sift_outfile_opts_t *opts)
{
    *out = NULL;
    sift_outfile_t *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    }
    f->ctx = ctx;
    f->force = opts && opts->force;
    int rc;
    if (strcmp(path, "-") == 0) {
        f->is_stdout = true;
        f->fp = stdout;
        rc = 0;
    } else if ((rc = check_target(ctx, path, opts)) == 1) {
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        rc = fd >= 0 && (f->fp = fdopen(fd, "wb"))
                 ? 0
                 : sift__ctx_error(ctx, SIFT_EIO, "%s: cannot open for writing: %s", path,
                                   strerror(errno));
        if (rc < 0 && fd >= 0)
            close(fd);
    } else if (rc == 0) {
        rc = create_tmp(f);
    }
    if (rc < 0) {
        free(f->path);
        free(f);
        return rc;
    }
    *out = f;
    return 0;
}

FILE *sift_outfile_stream(sift_outfile_t *f)
{
    return f->fp;
}

bool sift_outfile_in_place(const sift_outfile_t *f)
{
    return !f->tmp;
}

static void outfile_free(sift_outfile_t *f)
{
    free(f->tmp);
    free(f->path);
    free(f);
}

/* Renames without replacing a file that appeared since open, unless force was given. */
static int rename_into_place(const sift_outfile_t *f)
{
    if (f->force)
        return rename(f->tmp, f->path);
    if (renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* a file system without RENAME_NOREPLACE: link fails on an existing target */
    if (link(f->tmp, f->path) != 0)
        return -1;
    unlink(f->tmp);
    return 0;
}

int sift_outfile_commit(sift_outfile_t *f)
{
    int rc = 0;
    errno = 0;
    bool bad = ferror(f->fp) != 0;
    int e = errno;
    if (!bad && fflush(f->fp) != 0) {
        bad = true;
        e = errno;
    }
    if (f->is_stdout) {
        rc = bad ? sift__ctx_error(f->ctx, errno_code(e), "standard output: cannot write: %s",
                                   strerror(e ? e : EIO))
                 : 0;
        outfile_free(f);
        return rc;
    }
    if (!bad && f->tmp && fsync(fileno(f->fp)) != 0 && errno != EINVAL) {
        bad = true;
        e = errno;
    }
    if (fclose(f->fp) != 0 && !bad) {
        bad = true;
        e = errno;
    }
    if (bad) {
        rc = sift__ctx_error(f->ctx, errno_code(e), "%s: cannot write: %s%s", f->path,
                             strerror(e ? e : EIO),
                             f->tmp ? "; the output was not created or changed" : "");
    } else if (f->tmp && rename_into_place(f) != 0) {
        e = errno;
        rc = sift__ctx_error(f->ctx, e == EEXIST ? SIFT_EEXIST : SIFT_EIO,
                             "%s: cannot put the output in place: %s%s", f->path, strerror(e),
                             e == EEXIST ? " (it appeared while writing; give --force)" : "");
    }
    if (rc < 0 && f->tmp)
        unlink(f->tmp);
    outfile_free(f);
    return rc;
}

void sift_outfile_abort(sift_outfile_t *f)
{
    if (!f)
        return;
    if (!f->is_stdout) {
        fclose(f->fp);
        if (f->tmp)
            unlink(f->tmp);
    }
    outfile_free(f);
}
