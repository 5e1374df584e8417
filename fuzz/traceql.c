/* Fuzz target of the TraceQL front end: any input either fails with a
 * positioned message or yields a query whose canonical text parses again to
 * the same canonical text (the round trip the API's normalisation relies on). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "query/traceql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	arena_init(&a, 64u << 20);
	struct tql_error err;
	struct tql_query *q = tql_parse((const char *)data, size, &a, &err);
	if (!q) {
		if (err.kind == TQL_ERR_NONE || err.line == 0 || err.col == 0 || err.off > size || !err.msg[0])
			abort();
		arena_reset(&a);
		return 0;
	}
	struct buf b1, b2;
	buf_init(&b1, 1 << 22);
	buf_init(&b2, 1 << 22);
	tql_format(q, &b1);
	if (!b1.err) {
		struct tql_query *q2 = tql_parse((const char *)b1.p, b1.len, &a, &err);
		if (!q2 && err.kind != TQL_ERR_LIMIT)
			abort(); /* the canonical form of a valid query must be valid */
		if (q2) {
			tql_format(q2, &b2);
			if (!b2.err && (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len) != 0))
				abort();
			if (tql_is_metrics(q) != tql_is_metrics(q2))
				abort();
		}
	}
	buf_free(&b1);
	buf_free(&b2);
	arena_reset(&a);
	return 0;
}
