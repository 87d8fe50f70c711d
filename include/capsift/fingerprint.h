/* capsift: content fingerprints of files, and a memo that avoids reading unchanged files again.
 *
 * A fingerprint is the XXH3-128 hash of a file's whole content, computed by streaming the file
 * through large read() buffers (no mmap: a sequential read is faster here and costs no resident
 * memory). Reading a 1 GB file takes about as long as reading it at all, so the memo remembers
 * fingerprints by path and trusts one while the file's identity is unchanged:
 *
 *     (size, mtime in ns, inode, device)
 *
 * the rule git's index uses. A file whose mtime is less than two seconds old when it is hashed
 * is not memoised (it may still be being written within one timestamp tick: git's "racily
 * clean" case), so its next use reads it again.
 *
 * This module knows nothing of captures; any program can use it alone.
 *
 *   sift_fpmemo_t *m;
 *   sift_fpmemo_open(&m, ctx, "/home/me/.cache/app/fp.db");   // or NULL: memory only
 *   sift_fingerprint_t fp;
 *   sift_fpmemo_get(m, "big.pcap", &fp, NULL);                 // reads the file once
 *   sift_fpmemo_get(m, "big.pcap", &fp, NULL);                 // a stat() and a lookup
 *   sift_fpmemo_close(m);
 */
#ifndef CAPSIFT_FINGERPRINT_H
#define CAPSIFT_FINGERPRINT_H

#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XXH3-128 in its canonical form (big-endian: high 64 bits first), as XXH128_canonicalFromHash
 * writes it, so hex output matches `xxhsum -H2`. */
typedef struct sift_fingerprint {
    uint8_t bytes[16];
} sift_fingerprint_t;

/* What identifies a version of a file without reading it. */
typedef struct sift_file_id {
    uint64_t size;
    int64_t mtime_ns; /* modification time, ns since the epoch */
    uint64_t ino;
    uint64_t dev;
} sift_file_id_t;

/* The fingerprint of a memory buffer. Thread-safe. */
SIFT_API void sift_fingerprint_buffer(const void *data, size_t len, sift_fingerprint_t *out);

/* The fingerprint of a file's content, read from start to end through 1 MiB buffers. id (may
 * be NULL) receives the identity from fstat before the read. Returns 0, SIFT_ENOENT, SIFT_EIO
 * (the detail, naming the file, in the context), or SIFT_ESTALE when the file changed while it
 * was read (size or mtime differ before and after). Thread-safe with distinct contexts. */
SIFT_API int sift_fingerprint_file(sift_ctx_t *ctx, const char *path, sift_fingerprint_t *out,
                                   sift_file_id_t *id);

/* The identity of a file (stat, following symbolic links). Returns 0 or SIFT_ENOENT/SIFT_EIO. */
SIFT_API int sift_file_id(const char *path, sift_file_id_t *out);

/* 32 lowercase hex digits and a NUL into out. */
SIFT_API void sift_fingerprint_hex(const sift_fingerprint_t *fp, char out[33]);

/* The memo: fingerprints by canonical path (realpath) with the identity they were computed for,
 * in a SQLite table (fingerprints) of the given database file. It may share the file with
 * other tables (the result cache keeps it in its own database: sift_cache_fpmemo). */
typedef struct sift_fpmemo sift_fpmemo_t;

/* Opens the memo in db_path (created when missing), or in memory when db_path is NULL. A file
 * that cannot be opened or is not a SQLite database does not fail the call: the problem is
 * logged through ctx (SIFT_LOG_WARN) and the memo works in memory only. Returns 0 or
 * SIFT_ENOMEM. ctx must outlive the memo. */
SIFT_API int sift_fpmemo_open(sift_fpmemo_t **out, sift_ctx_t *ctx, const char *db_path);
SIFT_API void sift_fpmemo_close(sift_fpmemo_t *m); /* NULL is fine */

/* How a fingerprint was obtained. */
typedef struct sift_fpmemo_info {
    bool reused;         /* true: from the memo, the file was not read */
    uint64_t bytes_read; /* bytes hashed (0 when reused) */
    sift_file_id_t id;   /* the identity the fingerprint belongs to */
} sift_fpmemo_info_t;

/* The fingerprint of path: from the memo when its identity is unchanged, otherwise read and
 * remembered. info may be NULL. Returns what sift_fingerprint_file returns. A memo that fails
 * to write (disk full, damaged file) logs once and carries on without remembering. */
SIFT_API int sift_fpmemo_get(sift_fpmemo_t *m, const char *path, sift_fingerprint_t *out,
                             sift_fpmemo_info_t *info);

/* The remembered fingerprint of path, without reading the file: 0 when the memo holds it for
 * the file's current identity, SIFT_ENOTFOUND when not (nothing is read or remembered), or
 * what sift_fpmemo_get returns for a path that is not a regular file. */
SIFT_API int sift_fpmemo_peek(sift_fpmemo_t *m, const char *path, sift_fingerprint_t *out);

/* Forgets every remembered fingerprint. Returns 0 or SIFT_EDB. */
SIFT_API int sift_fpmemo_clear(sift_fpmemo_t *m);

/* Fingerprints remembered, and lookups answered from the memo / by reading, in this process. */
typedef struct sift_fpmemo_stats {
    uint64_t entries;
    uint64_t reused;
    uint64_t hashed;
    uint64_t bytes_hashed;
} sift_fpmemo_stats_t;

SIFT_API void sift_fpmemo_stats(sift_fpmemo_t *m, sift_fpmemo_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif
