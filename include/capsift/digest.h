/* capsift: content digests of files - XXH3-128 (fast, the default fingerprint), SHA-256,
 * SHA-1, MD5 and RIPEMD-160 (for evidence handling; libgcrypt) - streamed through large read()
 * buffers in constant memory, several at once in one read. Independent of captures.
 * Thread-safe. */
#ifndef CAPSIFT_DIGEST_H
#define CAPSIFT_DIGEST_H

#include <capsift/common.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sift_digest_alg {
    SIFT_DIGEST_XXH3 = 0,
    SIFT_DIGEST_SHA256 = 1,
    SIFT_DIGEST_SHA1 = 2,
    SIFT_DIGEST_MD5 = 3,
    SIFT_DIGEST_RIPEMD160 = 4
} sift_digest_alg_t;
#define SIFT_DIGEST_COUNT 5

#define SIFT_DIGEST_HEX_MAX 65 /* 64 hex digits and the terminator */

/* "xxh3", "sha256", "sha1", "md5" or "ripemd160" into *alg; SIFT_EINVAL for anything else. */
SIFT_API int sift_digest_parse(const char *name, sift_digest_alg_t *alg);
SIFT_API const char *sift_digest_name(sift_digest_alg_t alg);

/* The digest of a file's content as lowercase hex (32 digits for XXH3-128 and MD5, 40 for SHA-1
 * and RIPEMD-160, 64 for SHA-256).
 * Returns 0, or a negative code with "path: why" in errbuf (SIFT_ERRBUF_SIZE bytes). */
SIFT_API int sift_digest_file(const char *path, sift_digest_alg_t alg,
                              char hex[SIFT_DIGEST_HEX_MAX], char *errbuf);

/* Several digests of one file in one read: hex[i] for algs[i] (n at most SIFT_DIGEST_COUNT).
 * Returns as sift_digest_file. */
SIFT_API int sift_digest_file_many(const char *path, const sift_digest_alg_t *algs, size_t n,
                                   char (*hex)[SIFT_DIGEST_HEX_MAX], char *errbuf);

/* The same over a memory buffer. */
SIFT_API void sift_digest_buffer(const void *data, size_t len, sift_digest_alg_t alg,
                                 char hex[SIFT_DIGEST_HEX_MAX]);

#ifdef __cplusplus
}
#endif
#endif
