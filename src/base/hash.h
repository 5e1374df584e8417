/* Hashing for in-memory tables (xxHash, from Debian's libxxhash). */
#ifndef CLEW_BASE_HASH_H
#define CLEW_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash64(const void *p, size_t n);
uint64_t hash64_seed(const void *p, size_t n, uint64_t seed);

#endif
