/* Realistic span batches for the benchmarks: services with resource
 * attributes as SDKs write them, traces of server, client and internal spans
 * with HTTP, RPC and database attributes and high-cardinality customer and
 * request ids; about 10 attributes and ~400 bytes per span on the wire.
 * Deterministic for a seed. */
#ifndef CLEW_BENCH_LIB_SPANS_H
#define CLEW_BENCH_LIB_SPANS_H

#include <stdint.h>

#include "ingest/span.h"

/* Fill b (initialised with an arena) with n_spans spans, grouped into
 * traces of 5 to 30 spans across several services. Strings live in b's
 * arena or are static. */
void bench_make_batch(struct span_batch *b, uint64_t seed, int n_spans);

/* A pseudo-random 64-bit step (splitmix64). */
uint64_t bench_rand(uint64_t *state);

#endif
