/* OTLP protobuf decoder: ExportTraceServiceRequest (wire-identical to
 * TracesData) into a span_batch, zero-copy: strings and bytes are slices into
 * the input, which must outlive the batch. Hand-written for speed, checked
 * against real encoders and fuzzed. */
#ifndef CLEW_INGEST_OTLP_PROTO_H
#define CLEW_INGEST_OTLP_PROTO_H

#include <stddef.h>

#include "base/slice.h"
#include "ingest/span.h"

/* Deepest nesting of AnyValue arrays and kvlists accepted. */
#define OTLP_MAX_ANY_DEPTH 32

/* Where and why decoding failed: msg is an English sentence for a 400 or
 * INVALID_ARGUMENT answer, offset the byte offset in the input. */
struct decode_error {
	char msg[256];
	size_t offset;
};

/* Decode a whole ExportTraceServiceRequest into out (initialised by the
 * caller with its arena). Unknown fields are skipped. Spans with ids of the
 * wrong length get invalid_reason set instead of failing the request; span,
 * resource and scope get their raw slices. Every resource gets service.name.
 * Returns 0; CLEW_EPARSE with *err filled for malformed input (truncated
 * varints, lengths past the end, wrong wire types, nesting too deep);
 * CLEW_ENOMEM when the arena refuses. */
int otlp_proto_decode_request(struct slice body, struct span_batch *out, struct decode_error *err);

/* Decode one encoded Span message (a span's raw slice) into a new span of
 * out under scope index scope; *span_out points at it. Same errors. */
int otlp_proto_decode_span(struct slice msg, struct span_batch *out, uint32_t scope, struct span **span_out,
			   struct decode_error *err);

/* Decode an encoded Resource message into a new resource of out (schema_url
 * is left empty: it lives in ResourceSpans). *index_out gets its index. */
int otlp_proto_decode_resource(struct slice msg, struct span_batch *out, uint32_t *index_out,
			       struct decode_error *err);

/* Decode an encoded InstrumentationScope message into a new scope of out
 * under resource. *index_out gets its index. */
int otlp_proto_decode_scope(struct slice msg, struct span_batch *out, uint32_t resource, uint32_t *index_out,
			    struct decode_error *err);

/* Walk the protobuf structure of body without building anything (every
 * tag, length and nested message visited): the speed limit the decoder is
 * measured against. Returns the number of fields seen, or CLEW_EPARSE. */
long otlp_proto_walk(struct slice body);

#endif
