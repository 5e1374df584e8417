/* Allocation with the policy in the name: xmalloc and friends abort on
 * exhaustion and are for small fixed sizes; try_* return NULL and are for
 * sizes driven by input, whose callers turn NULL into CLEW_ENOMEM. */
#ifndef CLEW_BASE_ALLOC_H
#define CLEW_BASE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

void *try_malloc(size_t n);
void *try_calloc(size_t count, size_t size);
void *try_realloc(void *p, size_t n);

/* Overflow-checked a*b and a+b; return 0, or CLEW_ELIMIT on overflow. */
int size_mul(size_t a, size_t b, size_t *out);
int size_add(size_t a, size_t b, size_t *out);

#endif
