/* capsift: content digests of files - XXH3-128 (fast, the default fingerprint) or SHA-256
 * (for evidence handling) - streamed through large read() buffers in constant memory.
 * Independent of captures. Thread-safe. */
#ifndef CAPSIFT_DIGEST_H
#define CAPSIFT_DIGEST_H

#include <capsift/common.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sift_digest_alg { SIFT_DIGEST_XXH3 = 0, SIFT_DIGEST_SHA256 = 1 } sift_digest_alg_t;

#define SIFT_DIGEST_HEX_MAX 65 /* 64 hex digits and the terminator */

/* "xxh3" or "sha256" into *alg; SIFT_EINVAL for anything else. */
SIFT_API int sift_digest_parse(const char *name, sift_digest_alg_t *alg);
SIFT_API const char *sift_digest_name(sift_digest_alg_t alg);

/* The digest of a file's content as lowercase hex (32 digits for XXH3-128, 64 for SHA-256).
 * Returns 0, or a negative code with "path: why" in errbuf (SIFT_ERRBUF_SIZE bytes). */
SIFT_API int sift_digest_file(const char *path, sift_digest_alg_t alg,
                              char hex[SIFT_DIGEST_HEX_MAX], char *errbuf);

/* The same over a memory buffer. */
SIFT_API void sift_digest_buffer(const void *data, size_t len, sift_digest_alg_t alg,
                                 char hex[SIFT_DIGEST_HEX_MAX]);

#ifdef __cplusplus
}
#endif
#endif
