/* Capped growable buffers with a sticky error. */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

void buf_init(struct buf *b, size_t max_bytes)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max_bytes = max_bytes;
	b->err = 0;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void buf_clear(struct buf *b)
{
	b->len = 0;
	b->err = 0;
}

int buf_reserve(struct buf *b, size_t n)
{
	if (b->err)
		return b->err;
	size_t need;
	if (size_add(b->len, n, &need) < 0 || need > b->max_bytes)
		return b->err = CLEW_ELIMIT;
	if (need <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max_bytes)
		ncap = b->max_bytes;
	uint8_t *np = try_realloc(b->p, ncap);
	if (!np)
		return b->err = CLEW_ENOMEM;
	b->p = np;
	b->cap = ncap;
	return 0;
}

void buf_append_slow(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void buf_append_slice(struct buf *b, struct slice s)
{
	buf_append(b, s.p, s.len);
}

void buf_append_cstr(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	if (b->err)
		return;
	va_list ap2;
	va_copy(ap2, ap);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, ap);
	if (n < 0) {
		va_end(ap2);
		b->err = CLEW_EINVAL;
		return;
	}
	if ((size_t)n < sizeof small) {
		buf_append(b, small, (size_t)n);
	} else if (buf_reserve(b, (size_t)n + 1) == 0) {
		vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_append_u32le(struct buf *b, uint32_t v)
{
	uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	buf_append(b, t, 4);
}

void buf_append_u64le(struct buf *b, uint64_t v)
{
	buf_append_u32le(b, (uint32_t)v);
	buf_append_u32le(b, (uint32_t)(v >> 32));
}
