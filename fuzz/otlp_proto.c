/* Fuzz target of the OTLP protobuf decoder: decode arbitrary bytes; the
 * structural walk must agree on whether they are well formed; a decoded
 * batch must survive encode -> decode with the same number of valid spans,
 * and encoding that again must give the same bytes. abort() on mismatch. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t valid_spans(const struct span_batch *b)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < b->n_spans; i++)
		n += b->spans[i].invalid_reason == NULL;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct span_batch b1, b2;
	struct decode_error err;
	struct buf e1, e2;
	arena_init(&a, 256 << 20);
	buf_init(&e1, 256 << 20);
	buf_init(&e2, 256 << 20);
	span_batch_init(&b1, &a);
	struct slice in = slice_make(data, size);
	int rc = otlp_proto_decode_request(in, &b1, &err);
	long walked = otlp_proto_walk(in);
	if (rc == CLEW_ENOMEM)
		goto out;
	if ((rc == 0) != (walked >= 0)) {
		fprintf(stderr, "decode %d but walk %ld (%s)\n", rc, walked, err.msg);
		abort();
	}
	if (rc != 0)
		goto out;
	otlp_encode_request(&b1, &e1);
	if (e1.err)
		abort();
	span_batch_init(&b2, &a);
	if (otlp_proto_decode_request(buf_slice(&e1), &b2, &err) != 0) {
		fprintf(stderr, "re-decode failed: %s\n", err.msg);
		abort();
	}
	if (b2.n_spans != valid_spans(&b1) || valid_spans(&b2) != b2.n_spans) {
		fprintf(stderr, "span count %u valid %u after round trip, %u valid before\n", b2.n_spans,
			valid_spans(&b2), valid_spans(&b1));
		abort();
	}
	otlp_encode_request(&b2, &e2);
	if (e2.err || !slice_eq(buf_slice(&e1), buf_slice(&e2))) {
		fprintf(stderr, "second encoding differs (%zu vs %zu bytes)\n", e1.len, e2.len);
		abort();
	}
out:
	buf_free(&e1);
	buf_free(&e2);
	arena_reset(&a);
	return 0;
}
