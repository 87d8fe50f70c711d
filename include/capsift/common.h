/* capsift: error codes, the library context and version.
 *
 * Every function returns 0 on success or a negative SIFT_E* code. The code says what kind of
 * failure it was; the human detail (file, byte offset, what the user can do) is written into
 * the error buffer of the context or object the function was given.
 */
#ifndef CAPSIFT_COMMON_H
#define CAPSIFT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SIFT_BUILDING_LIB) && defined(__GNUC__)
#define SIFT_API __attribute__((visibility("default")))
#else
#define SIFT_API
#endif

/* The one table of error codes: X(name, value, message). */
#define SIFT_ERROR_TABLE(X)                                                                        \
    X(SIFT_OK, 0, "success")                                                                       \
    X(SIFT_EINVAL, -1, "invalid argument")                                                         \
    X(SIFT_ENOMEM, -2, "out of memory")                                                            \
    X(SIFT_EIO, -3, "input/output error")                                                          \
    X(SIFT_ENOENT, -4, "no such file or directory")                                                \
    X(SIFT_EFORMAT, -5, "not a capture file this version reads")                                   \
    X(SIFT_ETRUNC, -6, "capture file is truncated")                                                \
    X(SIFT_ECORRUPT, -7, "capture file is damaged")                                                \
    X(SIFT_EUNSUPPORTED, -8, "unsupported feature")                                                \
    X(SIFT_ELIMIT, -9, "configured limit reached")                                                 \
    X(SIFT_EFILTER, -10, "invalid filter expression")                                              \
    X(SIFT_EDB, -11, "database error")                                                             \
    X(SIFT_EBUSY, -12, "resource busy or locked")                                                  \
    X(SIFT_ENOSPC, -13, "no space left on device")                                                 \
    X(SIFT_ESTALE, -14, "file changed since it was indexed")                                       \
    X(SIFT_EPARSE, -15, "syntax error")                                                            \
    X(SIFT_ENOTFOUND, -16, "not found")                                                            \
    X(SIFT_ENAN, -17, "value is not a number")                                                     \
    X(SIFT_EINTERNAL, -18, "internal error")                                                       \
    X(SIFT_EEXIST, -19, "file exists")

enum sift_error {
#define SIFT_X_ENUM(name, value, msg) name = value,
    SIFT_ERROR_TABLE(SIFT_X_ENUM)
#undef SIFT_X_ENUM
};

/* The message for an error code: a static string, valid forever. Thread-safe. */
SIFT_API const char *sift_strerror(int code);

/* The name of an error code ("SIFT_ETRUNC"): a static string. Thread-safe. */
SIFT_API const char *sift_errname(int code);

/* The length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF) at p, within its n bytes; 0 when there is none, or it is ASCII. */
SIFT_API size_t sift_utf8_seq(const uint8_t *p, size_t n);

/* Parses an IPv4 or IPv6 address into 16 bytes (IPv4 as ::ffff:a.b.c.d); returns 4, 6, or 0
 * when s is not an address. */
SIFT_API int sift_parse_addr(const char *s, uint8_t out[16]);

/* Formats 16 address bytes (IPv4-mapped shown as dotted IPv4) into buf (at least 46 bytes). */
SIFT_API const char *sift_format_addr(const uint8_t addr[16], char *buf, size_t size);

/* An IP protocol's name as flows show it ("tcp", "udp", "icmp", "icmpv6", "sctp", "gre",
 * "esp", "igmp"), else its number written into buf (at least 4 bytes). */
SIFT_API const char *sift_ip_proto_name(uint8_t proto, char *buf, size_t size);

/* "0.1.0": a static string. */
SIFT_API const char *sift_version(void);

#define SIFT_ERRBUF_SIZE 512

/* Log levels for the context's log callback. */
typedef enum sift_log_level {
    SIFT_LOG_ERROR = 0,
    SIFT_LOG_WARN = 1,
    SIFT_LOG_INFO = 2,
    SIFT_LOG_DEBUG = 3
} sift_log_level_t;

typedef void (*sift_log_fn)(void *user, sift_log_level_t level, const char *msg);

/* The library context: options, the log callback and an error buffer. There is no global
 * state in the library; everything a call needs comes through a context or an object.
 * A context is used by one thread at a time; the engine gives each worker its own. */
typedef struct sift_ctx sift_ctx_t;

SIFT_API int sift_ctx_create(sift_ctx_t **out);
SIFT_API void sift_ctx_free(sift_ctx_t *ctx); /* NULL is fine */

/* The detail of the last error set on this context ("" when none). Valid until the next call
 * that takes this context. */
SIFT_API const char *sift_ctx_errmsg(const sift_ctx_t *ctx);

/* Routes library messages to fn (NULL: messages are dropped). */
SIFT_API void sift_ctx_set_log(sift_ctx_t *ctx, sift_log_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
