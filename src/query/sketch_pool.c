/* The sketch pool: blocks of 64 << c bytes (class c) cut from anonymous
 * mappings aligned to 2 MiB and advised for huge pages. A chunk starts
 * with its header (the list of chunks); blocks are cut from the newest
 * chunk in order, given-back blocks go to the free list of their class
 * (linked through their first word), and what is left of a chunk when a
 * block no longer fits is cut into free blocks too. Chunks double from
 * 2 MiB to 64 MiB, and a block larger than that gets a chunk of its own.
 * Freed chunks are kept for the next pools, up to 256 MiB in all, so a
 * query does not fault in (and the kernel zero) fresh pages for every
 * sketch the way the one before it did. */
#include "query/sketch_pool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "base/alloc.h"

#define POOL_MIN_SHIFT 6 /* 64-byte blocks: a cache line */
#define POOL_CLASSES 40
#define POOL_HUGE ((size_t)2 << 20)
#define POOL_CHUNK_MIN POOL_HUGE
#define POOL_CHUNK_MAX ((size_t)64 << 20)
#define POOL_HEADER ((size_t)1 << POOL_MIN_SHIFT)
#define POOL_KEEP ((size_t)256 << 20) /* freed chunks kept for reuse */

struct chunk {
	struct chunk *next;
	size_t bytes; /* of the mapping, header included */
};

struct sketch_pool {
	struct chunk *chunks;
	uint8_t *cur, *end; /* the uncut part of the newest chunk */
	void *free[POOL_CLASSES];
	size_t bytes;
	size_t next_chunk;
};

/* Chunks of freed pools, for the next ones. */
static pthread_mutex_t g_keep_mu = PTHREAD_MUTEX_INITIALIZER;
static struct chunk *g_keep;
static size_t g_keep_bytes;

/* A kept chunk of at least bytes (and at most twice that), or NULL. */
static struct chunk *keep_take(size_t bytes)
{
	pthread_mutex_lock(&g_keep_mu);
	struct chunk *c = NULL;
	for (struct chunk **pp = &g_keep; *pp; pp = &(*pp)->next) {
		if ((*pp)->bytes >= bytes && (*pp)->bytes / 2 <= bytes) {
			c = *pp;
			*pp = c->next;
			g_keep_bytes -= c->bytes;
			break;
		}
	}
	pthread_mutex_unlock(&g_keep_mu);
	return c;
}

/* Keep chunk c for later, or unmap it when enough is kept. */
static void keep_put(struct chunk *c)
{
	pthread_mutex_lock(&g_keep_mu);
	if (g_keep_bytes + c->bytes <= POOL_KEEP) {
		c->next = g_keep;
		g_keep = c;
		g_keep_bytes += c->bytes;
		c = NULL;
	}
	pthread_mutex_unlock(&g_keep_mu);
	if (c)
		munmap(c, c->bytes);
}

struct sketch_pool *sketch_pool_new(void)
{
	struct sketch_pool *p = try_calloc(1, sizeof *p);
	if (p)
		p->next_chunk = POOL_CHUNK_MIN;
	return p;
}

void sketch_pool_free(struct sketch_pool *p)
{
	if (!p)
		return;
	for (struct chunk *c = p->chunks, *next; c; c = next) {
		next = c->next;
		keep_put(c);
	}
	free(p);
}

static unsigned class_of(size_t n)
{
	if (n <= POOL_HEADER)
		return 0;
	return (unsigned)(64 - __builtin_clzll((unsigned long long)(n - 1))) - POOL_MIN_SHIFT;
}

static void push(struct sketch_pool *p, void *b, unsigned c)
{
	*(void **)b = p->free[c];
	p->free[c] = b;
}

/* The uncut rest of the newest chunk into the free lists. */
static void cut_rest(struct sketch_pool *p)
{
	while (p->cur && (size_t)(p->end - p->cur) >= POOL_HEADER) {
		size_t left = (size_t)(p->end - p->cur);
		unsigned c = (unsigned)(63 - __builtin_clzll((unsigned long long)left)) - POOL_MIN_SHIFT;
		push(p, p->cur, c);
		p->cur += (size_t)1 << (c + POOL_MIN_SHIFT);
	}
	p->cur = p->end = NULL;
}

/* A new chunk of at least need bytes past its header, aligned to 2 MiB. */
static int new_chunk(struct sketch_pool *p, size_t need)
{
	size_t bytes = p->next_chunk;
	if (need + POOL_HEADER > bytes)
		bytes = (need + POOL_HEADER + POOL_HUGE - 1) & ~(POOL_HUGE - 1);
	struct chunk *c = keep_take(bytes);
	if (c) {
		bytes = c->bytes;
	} else {
		size_t map = bytes + POOL_HUGE;
		uint8_t *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return -1;
		uint8_t *a = (uint8_t *)(((uintptr_t)m + POOL_HUGE - 1) & ~(uintptr_t)(POOL_HUGE - 1));
		if (a > m)
			munmap(m, (size_t)(a - m));
		if (m + map > a + bytes)
			munmap(a + bytes, (size_t)(m + map - (a + bytes)));
#ifdef MADV_HUGEPAGE
		madvise(a, bytes, MADV_HUGEPAGE); /* advice only: no huge pages is fine */
#endif
		c = (struct chunk *)a;
	}
	uint8_t *a = (uint8_t *)c;
	cut_rest(p);
	c->next = p->chunks;
	c->bytes = bytes;
	p->chunks = c;
	p->cur = a + POOL_HEADER;
	p->end = a + bytes;
	p->bytes += bytes;
	if (p->next_chunk < POOL_CHUNK_MAX)
		p->next_chunk *= 2;
	return 0;
}

void *sketch_pool_alloc(struct sketch_pool *p, size_t n)
{
	unsigned c = class_of(n);
	if (c >= POOL_CLASSES)
		return NULL;
	void *b = p->free[c];
	if (b) {
		p->free[c] = *(void **)b;
		return b;
	}
	size_t size = (size_t)1 << (c + POOL_MIN_SHIFT);
	if ((!p->cur || (size_t)(p->end - p->cur) < size) && new_chunk(p, size) < 0)
		return NULL;
	b = p->cur;
	p->cur += size;
	return b;
}

void sketch_pool_release(struct sketch_pool *p, void *b, size_t n)
{
	if (b)
		push(p, b, class_of(n));
}

void sketch_pool_adopt(struct sketch_pool *dst, struct sketch_pool *src)
{
	cut_rest(src);
	for (unsigned c = 0; c < POOL_CLASSES; c++) {
		void *head = src->free[c];
		if (!head)
			continue;
		void *tail = head;
		while (*(void **)tail)
			tail = *(void **)tail;
		*(void **)tail = dst->free[c];
		dst->free[c] = head;
		src->free[c] = NULL;
	}
	if (src->chunks) {
		struct chunk *last = src->chunks;
		while (last->next)
			last = last->next;
		last->next = dst->chunks;
		dst->chunks = src->chunks;
		src->chunks = NULL;
	}
	dst->bytes += src->bytes;
	src->bytes = 0;
}

size_t sketch_pool_bytes(const struct sketch_pool *p)
{
	return p ? p->bytes : 0;
}
