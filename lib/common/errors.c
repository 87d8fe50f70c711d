/* The error table and the library context. */
#include "common/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sift_strerror(int code)
{
    switch (code) {
#define SIFT_X_CASE(name, value, msg)                                                              \
    case value:                                                                                    \
        return msg;
        SIFT_ERROR_TABLE(SIFT_X_CASE)
#undef SIFT_X_CASE
    }
    return "unknown error";
}

const char *sift_errname(int code)
{
    switch (code) {
#define SIFT_X_NAME(name, value, msg)                                                              \
    case value:                                                                                    \
        return #name;
        SIFT_ERROR_TABLE(SIFT_X_NAME)
#undef SIFT_X_NAME
    }
    return "SIFT_E?";
}

const char *sift_version(void)
{
    return SIFT_VERSION_STRING;
}

int sift_ctx_create(sift_ctx_t **out)
{
    assert(out);
    sift_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return SIFT_ENOMEM;
    *out = ctx;
    return 0;
}

void sift_ctx_free(sift_ctx_t *ctx)
{
    free(ctx);
}

const char *sift_ctx_errmsg(const sift_ctx_t *ctx)
{
    return ctx ? ctx->errbuf : "";
}

void sift_ctx_set_log(sift_ctx_t *ctx, sift_log_fn fn, void *user)
{
    ctx->log_fn = fn;
    ctx->log_user = user;
}

int sift__errorf(char *errbuf, int code, const char *fmt, ...)
{
    if (errbuf) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, SIFT_ERRBUF_SIZE, fmt, ap);
        va_end(ap);
    }
    return code;
}

int sift__ctx_error(sift_ctx_t *ctx, int code, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->errbuf, sizeof ctx->errbuf, fmt, ap);
        va_end(ap);
        if (ctx->log_fn)
            ctx->log_fn(ctx->log_user, SIFT_LOG_ERROR, ctx->errbuf);
    }
    return code;
}
