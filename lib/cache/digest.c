/* File digests: XXH3-128 (the fingerprint) and SHA-256 (libgcrypt), both read through the
 * fingerprint module's one file loop. */
#include "cache/cache_int.h"

#include <capsift/digest.h>

#include <gcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

int sift_digest_parse(const char *name, sift_digest_alg_t *alg)
{
    if (strcmp(name, "xxh3") == 0)
        *alg = SIFT_DIGEST_XXH3;
    else if (strcmp(name, "sha256") == 0)
        *alg = SIFT_DIGEST_SHA256;
    else
        return SIFT_EINVAL;
    return 0;
}

const char *sift_digest_name(sift_digest_alg_t alg)
{
    return alg == SIFT_DIGEST_SHA256 ? "sha256" : "xxh3";
}

static void to_hex(const uint8_t *b, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    hex[2 * n] = '\0';
}

/* libgcrypt wants its version check before first use, and that check is not thread-safe:
 * done once per process. */
static void gcrypt_init(void)
{
    if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
        gcry_check_version(NULL);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
}

static void gcrypt_ready(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, gcrypt_init);
}

void sift_digest_buffer(const void *data, size_t len, sift_digest_alg_t alg,
                        char hex[SIFT_DIGEST_HEX_MAX])
{
    if (alg == SIFT_DIGEST_SHA256) {
        uint8_t out[32];
        gcrypt_ready();
        gcry_md_hash_buffer(GCRY_MD_SHA256, out, data, len);
        to_hex(out, 32, hex);
    } else {
        sift_fingerprint_t fp;
        sift_fingerprint_buffer(data, len, &fp);
        to_hex(fp.bytes, 16, hex);
    }
}

static void sha256_update(void *md, const void *data, size_t len)
{
    gcry_md_write(md, data, len);
}

int sift_digest_file(const char *path, sift_digest_alg_t alg, char hex[SIFT_DIGEST_HEX_MAX],
                     char *errbuf)
{
    sift_ctx_t *ctx = NULL;
    if (sift_ctx_create(&ctx) < 0)
        return sift__errorf(errbuf, SIFT_ENOMEM, "out of memory");
    int rc;
    if (alg == SIFT_DIGEST_SHA256) {
        gcry_md_hd_t md;
        gcrypt_ready();
        if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0) {
            rc = sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
        } else {
            rc = sift__stream_file(ctx, path, sha256_update, md, NULL);
            if (rc == 0)
                to_hex(gcry_md_read(md, GCRY_MD_SHA256), 32, hex);
            gcry_md_close(md);
        }
    } else {
        sift_fingerprint_t fp;
        rc = sift_fingerprint_file(ctx, path, &fp, NULL);
        if (rc == 0)
            to_hex(fp.bytes, 16, hex);
    }
    if (rc < 0 && errbuf)
        snprintf(errbuf, SIFT_ERRBUF_SIZE, "%s", sift_ctx_errmsg(ctx));
    sift_ctx_free(ctx);
    return rc;
}
