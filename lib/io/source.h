/* Byte sources under the reader: a file descriptor (file or pipe) or a memory buffer, either
 * plain or decompressed on the fly (gzip through zlib, zstd through libzstd). Internal. */
#ifndef SIFT_IO_SOURCE_H
#define SIFT_IO_SOURCE_H

#include <capsift/reader.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sift_source sift_source_t;

/* Opens a source and detects compression from the first bytes. fd is owned (closed) when
 * own_fd. errbuf receives the detail on failure. */
int sift__source_open_fd(sift_source_t **out, int fd, bool own_fd, char *errbuf);
int sift__source_open_memory(sift_source_t **out, const uint8_t *data, size_t len, char *errbuf);
void sift__source_close(sift_source_t *src);

sift_compression_t sift__source_compression(const sift_source_t *src);

/* For a plain memory source: the bytes themselves, so the reader can skip copying. */
bool sift__source_memory(const sift_source_t *src, const uint8_t **data, size_t *len);

/* Reads up to cap decompressed bytes into dst. Returns the count (0 at the end), or a
 * negative code with the detail in errbuf. */
long sift__source_read(sift_source_t *src, uint8_t *dst, size_t cap, char *errbuf);

/* Repositions a plain (uncompressed) file or memory source at byte off. */
int sift__source_seek(sift_source_t *src, uint64_t off, char *errbuf);

/* Size of the underlying file (0 when not a regular file) and raw bytes consumed so far. */
uint64_t sift__source_size(const sift_source_t *src);
uint64_t sift__source_raw_pos(const sift_source_t *src);

#endif
