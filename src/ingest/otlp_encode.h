/* OTLP protobuf encoder: a span_batch into ExportTraceServiceRequest bytes
 * (identical on the wire to TracesData, which Tempo's protobuf trace
 * answer is), plus the small response messages the receivers send. */
#ifndef CLEW_INGEST_OTLP_ENCODE_H
#define CLEW_INGEST_OTLP_ENCODE_H

#include <stdint.h>

#include "base/buf.h"
#include "ingest/span.h"

/* Append b to out as ExportTraceServiceRequest / TracesData: one
 * ResourceSpans per resource, one ScopeSpans per scope, in batch order.
 * Spans with invalid_reason set are left out, and so are scopes and
 * resources left empty by that. Errors are out's sticky error. */
void otlp_encode_request(const struct span_batch *b, struct buf *out);

/* ExportTraceServiceResponse: empty for full success, partial_success
 * {rejected_spans, error_message} when rejected > 0 or message is set. */
void otlp_encode_export_response(int64_t rejected_spans, struct slice error_message, struct buf *out);

/* google.rpc.Status {code, message}; with retry_delay_ms >= 0 a details entry
 * of type google.rpc.RetryInfo with that delay is added. */
void otlp_encode_rpc_status(int32_t code, struct slice message, int64_t retry_delay_ms, struct buf *out);

#endif
