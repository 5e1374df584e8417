/* OTLP/JSON decoder: ExportTraceServiceRequest in the JSON mapping of the
 * OTLP specification (hex ids, integer enums, lowerCamelCase keys, 64-bit
 * integers as strings or numbers, unknown fields ignored) into a span_batch.
 * Strings are copied into the batch arena (JSON unescaping changes them). */
#ifndef CLEW_INGEST_OTLP_JSON_H
#define CLEW_INGEST_OTLP_JSON_H

#include "base/slice.h"
#include "ingest/otlp_proto.h"
#include "ingest/span.h"

/* Decode body into out. Ids of the wrong length or not hex set the span's
 * invalid_reason. Returns 0, CLEW_EPARSE with *err filled (not JSON, wrong
 * types, e.g. "resourceSpans[0].scopeSpans[1].spans[3].startTimeUnixNano:
 * expected an integer"), or CLEW_ENOMEM. */
int otlp_json_decode_request(struct slice body, struct span_batch *out, struct decode_error *err);

#endif
