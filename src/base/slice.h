/* Byte slices: a pointer and a length into memory someone else owns.
 * Every decoded string and byte field in clew is a slice into the input
 * buffer or a request arena; wire data is never assumed NUL-terminated. */
#ifndef CLEW_BASE_SLICE_H
#define CLEW_BASE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct slice {
	const uint8_t *p;
	size_t len;
};

#define SLICE_LIT(s) ((struct slice){(const uint8_t *)(s), sizeof(s) - 1})

static inline struct slice slice_make(const void *p, size_t len)
{
	return (struct slice){(const uint8_t *)p, len};
}

static inline struct slice slice_cstr(const char *s)
{
	return (struct slice){(const uint8_t *)s, s ? strlen(s) : 0};
}

static inline bool slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool slice_eq_cstr(struct slice a, const char *s)
{
	return slice_eq(a, slice_cstr(s));
}

/* Case-insensitive ASCII comparison, for HTTP header names and tokens. */
bool slice_eq_nocase(struct slice a, const char *s);

/* True if a starts with the C string prefix. */
bool slice_starts_with(struct slice a, const char *prefix);

#endif
