/* The alert tests' span batches start alike: one resource, service
 * billing, and one scope, to which each test adds its spans. */
#ifndef CLEW_TESTS_BILLING_BATCH_H
#define CLEW_TESTS_BILLING_BATCH_H

#include "base/arena.h"
#include "ingest/span.h"

static inline void billing_batch_init(struct span_batch *b, struct arena *a)
{
	span_batch_init(b, a);
	struct resource *res = span_batch_add_resource(b);
	res->attrs.items = arena_array(a, 1, sizeof(struct attr));
	res->attrs.items[0].key = SLICE_LIT("service.name");
	res->attrs.items[0].value.type = ANY_STRING;
	res->attrs.items[0].value.u.str = SLICE_LIT("billing");
	res->attrs.n = 1;
	span_batch_add_scope(b, 0);
}

#endif
