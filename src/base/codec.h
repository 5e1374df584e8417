/* Text encodings of binary ids: lowercase hex and base64 (standard alphabet,
 * padded), as the OTLP JSON, Tempo and Jaeger shapes need them. */
#ifndef CLEW_BASE_CODEC_H
#define CLEW_BASE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/slice.h"

/* The value of one hex digit (either case), or -1. */
int hex_digit_value(uint8_t c);

/* Write 2*n lowercase hex chars to out (not NUL-terminated). */
void hex_encode(const uint8_t *p, size_t n, char *out);
/* Decode exactly 2*n hex chars (either case) from s into out[n].
 * Returns 0, or CLEW_EPARSE if s has another length or a non-hex char. */
int hex_decode(struct slice s, uint8_t *out, size_t n);

/* Append base64 of p to b. */
void base64_encode(struct buf *b, const uint8_t *p, size_t n);
/* Decode padded or unpadded base64 (standard or URL alphabet) into out,
 * which has room for max bytes; *out_len gets the length. 0 or CLEW_EPARSE. */
int base64_decode(struct slice s, uint8_t *out, size_t max, size_t *out_len);

#endif
