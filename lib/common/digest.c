/* File digests: XXH3-128 (libxxhash) and SHA-256 (libgcrypt). */
#include "common/internal.h"

#include <capsift/digest.h>

#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define DIGEST_BUF (1u << 20)

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

/* libgcrypt wants its version check before first use; it is idempotent and thread-safe once
 * done, and cheap to repeat. */
static void gcrypt_ready(void)
{
    if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
        gcry_check_version(NULL);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
}

typedef struct digest_state {
    sift_digest_alg_t alg;
    XXH3_state_t *xxh;
    gcry_md_hd_t md;
} digest_state_t;

static int digest_begin(digest_state_t *d, sift_digest_alg_t alg)
{
    memset(d, 0, sizeof *d);
    d->alg = alg;
    if (alg == SIFT_DIGEST_SHA256) {
        gcrypt_ready();
        return gcry_md_open(&d->md, GCRY_MD_SHA256, 0) ? SIFT_ENOMEM : 0;
    }
    d->xxh = XXH3_createState();
    if (!d->xxh)
        return SIFT_ENOMEM;
    XXH3_128bits_reset(d->xxh);
    return 0;
}

static void digest_update(digest_state_t *d, const void *p, size_t n)
{
    if (d->alg == SIFT_DIGEST_SHA256)
        gcry_md_write(d->md, p, n);
    else
        XXH3_128bits_update(d->xxh, p, n);
}

static void digest_end(digest_state_t *d, char *hex)
{
    if (d->alg == SIFT_DIGEST_SHA256) {
        to_hex(gcry_md_read(d->md, GCRY_MD_SHA256), 32, hex);
        gcry_md_close(d->md);
    } else {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(d->xxh));
        to_hex(c.digest, 16, hex);
        XXH3_freeState(d->xxh);
    }
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
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
        to_hex(c.digest, 16, hex);
    }
}

int sift_digest_file(const char *path, sift_digest_alg_t alg, char hex[SIFT_DIGEST_HEX_MAX],
                     char *errbuf)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sift__errorf(errbuf, errno == ENOENT ? SIFT_ENOENT : SIFT_EIO, "%s: cannot open: %s",
                            path, strerror(errno));
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint8_t *buf = malloc(DIGEST_BUF);
    digest_state_t d;
    int rc = buf ? digest_begin(&d, alg) : SIFT_ENOMEM;
    if (rc < 0) {
        free(buf);
        close(fd);
        return sift__errorf(errbuf, rc, "out of memory");
    }
    for (;;) {
        ssize_t n = read(fd, buf, DIGEST_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sift__errorf(errbuf, SIFT_EIO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        digest_update(&d, buf, (size_t)n);
    }
    char tmp[SIFT_DIGEST_HEX_MAX];
    digest_end(&d, tmp);
    if (rc == 0)
        memcpy(hex, tmp, sizeof tmp);
    free(buf);
    close(fd);
    return rc;
}
