/* File digests: XXH3-128 (the fingerprint) and SHA-256 (libgcrypt), both read through the
 * fingerprint module's one file loop. */
#include "cache/cache_int.h"

#include <capsift/digest.h>

#include <gcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

static const struct {
    const char *name;
    int gcry;      /* GCRY_MD_*, 0 for XXH3 */
    unsigned size; /* bytes */
} algs_tab[SIFT_DIGEST_COUNT] = {
    [SIFT_DIGEST_XXH3] = {"xxh3", 0, 16},
    [SIFT_DIGEST_SHA256] = {"sha256", GCRY_MD_SHA256, 32},
    [SIFT_DIGEST_SHA1] = {"sha1", GCRY_MD_SHA1, 20},
    [SIFT_DIGEST_MD5] = {"md5", GCRY_MD_MD5, 16},
    [SIFT_DIGEST_RIPEMD160] = {"ripemd160", GCRY_MD_RMD160, 20},
};

int sift_digest_parse(const char *name, sift_digest_alg_t *alg)
{
    for (int i = 0; i < SIFT_DIGEST_COUNT; i++)
        if (strcmp(name, algs_tab[i].name) == 0) {
            *alg = (sift_digest_alg_t)i;
            return 0;
        }
    return SIFT_EINVAL;
}

const char *sift_digest_name(sift_digest_alg_t alg)
{
    return (unsigned)alg < SIFT_DIGEST_COUNT ? algs_tab[alg].name : "xxh3";
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
    if (alg != SIFT_DIGEST_XXH3 && (unsigned)alg < SIFT_DIGEST_COUNT) {
        uint8_t out[32];
        gcrypt_ready();
        gcry_md_hash_buffer(algs_tab[alg].gcry, out, data, len);
        to_hex(out, algs_tab[alg].size, hex);
    } else {
        sift_fingerprint_t fp;
        sift_fingerprint_buffer(data, len, &fp);
        to_hex(fp.bytes, 16, hex);
    }
}

/* One read feeding every digest asked for: libgcrypt's handle with each of its algorithms
 * enabled, and XXH3-128's state. */
typedef struct many {
    gcry_md_hd_t md;
    XXH3_state_t *xxh;
} many_t;

static void many_update(void *user, const void *data, size_t len)
{
    many_t *m = user;
    if (m->md)
        gcry_md_write(m->md, data, len);
    if (m->xxh)
        XXH3_128bits_update(m->xxh, data, len);
}

int sift_digest_file_many(const char *path, const sift_digest_alg_t *algs, size_t n,
                          char (*hex)[SIFT_DIGEST_HEX_MAX], char *errbuf)
{
    sift_ctx_t *ctx = NULL;
    if (n > SIFT_DIGEST_COUNT || sift_ctx_create(&ctx) < 0)
        return sift__errorf(errbuf, n > SIFT_DIGEST_COUNT ? SIFT_EINVAL : SIFT_ENOMEM,
                            n > SIFT_DIGEST_COUNT ? "too many digests" : "out of memory");
    many_t m = {0};
    int rc = 0;
    gcrypt_ready();
    for (size_t i = 0; i < n && rc == 0; i++) {
        if ((unsigned)algs[i] >= SIFT_DIGEST_COUNT) {
            rc = sift__ctx_error(ctx, SIFT_EINVAL, "unknown digest");
        } else if (algs[i] == SIFT_DIGEST_XXH3) {
            if (!m.xxh && (!(m.xxh = XXH3_createState()) || XXH3_128bits_reset(m.xxh) != XXH_OK))
                rc = sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
        } else if (!m.md ? gcry_md_open(&m.md, algs_tab[algs[i]].gcry, 0) != 0
                         : gcry_md_enable(m.md, algs_tab[algs[i]].gcry) != 0) {
            rc = sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
        }
    }
    if (rc == 0)
        rc = sift__stream_file(ctx, path, many_update, &m, NULL);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (algs[i] == SIFT_DIGEST_XXH3) {
            XXH128_canonical_t c;
            XXH128_canonicalFromHash(&c, XXH3_128bits_digest(m.xxh));
            to_hex(c.digest, 16, hex[i]);
        } else {
            to_hex(gcry_md_read(m.md, algs_tab[algs[i]].gcry), algs_tab[algs[i]].size, hex[i]);
        }
    }
    if (m.md)
        gcry_md_close(m.md);
    XXH3_freeState(m.xxh);
    if (rc < 0 && errbuf)
        snprintf(errbuf, SIFT_ERRBUF_SIZE, "%s", sift_ctx_errmsg(ctx));
    sift_ctx_free(ctx);
    return rc;
}

int sift_digest_file(const char *path, sift_digest_alg_t alg, char hex[SIFT_DIGEST_HEX_MAX],
                     char *errbuf)
{
    char(*out)[SIFT_DIGEST_HEX_MAX] = (char(*)[SIFT_DIGEST_HEX_MAX])hex;
    return sift_digest_file_many(path, &alg, 1, out, errbuf);
}
