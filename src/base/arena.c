/* Bump allocator over a chain of malloc'd chunks. Large requests get a chunk
 * of their own so the current chunk's tail is not wasted. */
#include "base/arena.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define ARENA_DEFAULT_CHUNK (64 * 1024)
#define ARENA_ALIGN 16

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t pos;
	_Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a, size_t cap_bytes)
{
	a->head = NULL;
	a->used_bytes = 0;
	a->cap_bytes = cap_bytes;
	a->chunk_bytes = ARENA_DEFAULT_CHUNK;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used_bytes = 0;
}

static struct arena_chunk *new_chunk(struct arena *a, size_t need)
{
	size_t size = need > a->chunk_bytes ? need : a->chunk_bytes;
	size_t total;
	if (size_add(size, sizeof(struct arena_chunk), &total) < 0)
		return NULL;
	if (a->cap_bytes && (total > a->cap_bytes || a->used_bytes > a->cap_bytes - total))
		return NULL;
	struct arena_chunk *c = try_malloc(total);
	if (!c)
		return NULL;
	c->size = size;
	c->pos = 0;
	a->used_bytes += total;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t rounded = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (rounded < n)
		return NULL;
	if (rounded == 0)
		rounded = ARENA_ALIGN;
	struct arena_chunk *c = a->head;
	if (c && c->size - c->pos >= rounded) {
		void *p = c->data + c->pos;
		c->pos += rounded;
		return p;
	}
	struct arena_chunk *nc = new_chunk(a, rounded);
	if (!nc)
		return NULL;
	nc->pos = rounded;
	if (c && rounded > a->chunk_bytes / 2 && c->size - c->pos > ARENA_ALIGN * 16) {
		/* big one-off: keep the current chunk in front for small allocations */
		nc->next = c->next;
		c->next = nc;
	} else {
		nc->next = c;
		a->head = nc;
	}
	return nc->data;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

void *arena_array(struct arena *a, size_t count, size_t size)
{
	size_t n;
	if (size_mul(count, size, &n) < 0)
		return NULL;
	return arena_zalloc(a, n);
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n);
	if (q && n)
		memcpy(q, p, n);
	return q;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *q = arena_alloc(a, n + 1);
	if (q) {
		if (n)
			memcpy(q, s, n);
		q[n] = 0;
	}
	return q;
}

void *arena_grow(struct arena *a, void *old, size_t old_count, size_t new_count, size_t size)
{
	void *p = arena_array(a, new_count, size);
	if (p && old && old_count)
		memcpy(p, old, (old_count < new_count ? old_count : new_count) * size);
	return p;
}
