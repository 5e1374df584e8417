/* Growable byte buffers with a hard cap set at creation (curl's dynbuf) and a
 * sticky error: the first failed append is remembered, later appends do
 * nothing, and the writer checks buf->err once when it is done. */
#ifndef CLEW_BASE_BUF_H
#define CLEW_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;	/* allocated */
	size_t max_bytes; /* hard cap; appends past it fail with CLEW_ELIMIT */
	int err;	/* sticky: 0 or the first failure */
};

/* An empty buffer that may grow to max_bytes. Allocates nothing yet. */
void buf_init(struct buf *b, size_t max_bytes);
void buf_free(struct buf *b);
/* Drop the contents and the sticky error, keep the allocation. */
void buf_clear(struct buf *b);
/* Make room for n more bytes; 0 or the (sticky) error. */
int buf_reserve(struct buf *b, size_t n);

/* The growing path of the appends below (out of line). */
void buf_append_slow(struct buf *b, const void *p, size_t n);

static inline void buf_append(struct buf *b, const void *p, size_t n)
{
	if (__builtin_expect(!b->err && b->cap - b->len >= n, 1)) {
		if (n)
			memcpy(b->p + b->len, p, n);
		b->len += n;
		return;
	}
	buf_append_slow(b, p, n);
}

static inline void buf_append_byte(struct buf *b, uint8_t c)
{
	if (__builtin_expect(!b->err && b->len < b->cap, 1)) {
		b->p[b->len++] = c;
		return;
	}
	buf_append_slow(b, &c, 1);
}

void buf_append_slice(struct buf *b, struct slice s);
void buf_append_cstr(struct buf *b, const char *s);
/* printf-style append (vsnprintf under the hood, never sprintf). */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Protobuf-style base-128 varint. */
static inline void buf_append_varint(struct buf *b, uint64_t v)
{
	if (__builtin_expect(!b->err && b->cap - b->len >= 10, 1)) {
		uint8_t *o = b->p + b->len;
		while (v >= 0x80) {
			*o++ = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		*o++ = (uint8_t)v;
		b->len = (size_t)(o - b->p);
		return;
	}
	uint8_t tmp[10];
	size_t n = 0;
	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	buf_append_slow(b, tmp, n);
}
void buf_append_u32le(struct buf *b, uint32_t v);
void buf_append_u64le(struct buf *b, uint64_t v);

static inline struct slice buf_slice(const struct buf *b)
{
	return slice_make(b->p, b->len);
}

#endif
