/* Request body decompression (gzip, as OTLP clients send it) with a hard
 * limit on the inflated size, so a small gzip bomb is refused early. */
#ifndef CLEW_INGEST_DECOMPRESS_H
#define CLEW_INGEST_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

/* Inflate gzip (or zlib-wrapped) data in into a new malloc'd buffer
 * (*out, owned by the caller, free()) of at most max_bytes. Returns 0;
 * CLEW_ELIMIT if the inflated data would pass max_bytes; CLEW_EPARSE for
 * corrupt or truncated data; CLEW_ENOMEM. */
int gzip_inflate(struct slice in, uint64_t max_bytes, uint8_t **out, size_t *out_len);

/* Compress in as gzip into a new malloc'd buffer (for tests and clients).
 * 0 or CLEW_ENOMEM. */
int gzip_deflate(struct slice in, uint8_t **out, size_t *out_len);

#endif
