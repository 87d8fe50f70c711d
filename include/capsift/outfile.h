/* capsift: output files that never destroy what was there.
 *
 * An output is written to a temporary file beside the target (".NAME.capsift-XXXXXX") and
 * renamed into place only by sift_outfile_commit, so a failed or interrupted write leaves the
 * target as it was and removes only the temporary file capsift created. An existing regular
 * file is replaced only when opts->force is set; a path that is one of opts->protect (the same
 * device and inode: an input, the database) is refused even then. A character device, FIFO or
 * socket is written in place (never truncated, never removed); "-" is standard output.
 *
 * Thread safety: an outfile is used by one thread at a time; distinct outfiles are
 * independent.
 */
#ifndef CAPSIFT_OUTFILE_H
#define CAPSIFT_OUTFILE_H

#include <capsift/common.h>

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_outfile sift_outfile_t;

typedef struct sift_outfile_opts {
    bool force;                 /* replace an existing regular file */
    const char *const *protect; /* paths the output must never be (need not exist) */
    size_t nprotect;
} sift_outfile_opts_t;

/* Opens path for writing. Fails, naming the path and what to do, with SIFT_EEXIST for an
 * existing file without force or a protected file, SIFT_EINVAL for a directory, or the
 * error of creating the temporary file (SIFT_EIO, SIFT_ENOSPC). Nothing is created on
 * failure. opts may be NULL. */
SIFT_API int sift_outfile_open(sift_outfile_t **out, sift_ctx_t *ctx, const char *path,
                               const sift_outfile_opts_t *opts);

/* The stream to write to; valid until commit or abort. */
SIFT_API FILE *sift_outfile_stream(sift_outfile_t *f);

/* True when the output is written in place (standard output, a device, a FIFO). */
SIFT_API bool sift_outfile_in_place(const sift_outfile_t *f);

/* Flushes, syncs and renames the temporary file into place, then frees f. A write error seen
 * on the stream or at the flush fails (SIFT_ENOSPC for a full disk, SIFT_EIO) with the
 * temporary file removed and the target untouched. */
SIFT_API int sift_outfile_commit(sift_outfile_t *f);

/* Removes the temporary file (never the target) and frees f. NULL is fine. */
SIFT_API void sift_outfile_abort(sift_outfile_t *f);

/* True when a and b name the same existing file (device and inode). */
SIFT_API bool sift_path_same_file(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
