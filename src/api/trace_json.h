/* One trace as the JSON shapes of the read APIs: OTLP/JSON ResourceSpans
 * (Jaeger /api/v3 and Tempo /api/traces flavours), the Jaeger UI trace, and
 * clew's own trace shape for its UI. The input is a span_batch holding the
 * spans of one trace (as head_get_trace and the block reader produce it);
 * every span of the batch is written, in batch order. Output errors are the
 * buf's sticky error. */
#ifndef CLEW_API_TRACE_JSON_H
#define CLEW_API_TRACE_JSON_H

#include "base/buf.h"
#include "base/json.h"
#include "ingest/span.h"

enum trace_json_flavor {
	/* The OTLP/JSON mapping: ids as lowercase hex, enums as integers. */
	TRACE_JSON_OTLP = 0,
	/* Go jsonpb as Tempo's /api/traces answers: ids as base64, kind as
	 * "SPAN_KIND_SERVER", status code as "STATUS_CODE_ERROR". */
	TRACE_JSON_TEMPO = 1,
};

/* Append the array of ResourceSpans ("[...]", the value of "resourceSpans"
 * or of Tempo's "batches"): one ResourceSpans per resource that has spans,
 * one ScopeSpans per scope that has spans. Fields at their proto3 default
 * are left out, except the span's traceId, spanId, name, kind, start and end
 * times, and status (always an object, with its code). int64 values are
 * decimal strings, doubles numbers ("NaN", "Infinity" as strings). */
void trace_json_write_otlp(const struct span_batch *b, struct buf *out, enum trace_json_flavor flavor);

/* Append one Jaeger UI trace object (the element of the "data" array of
 * Jaeger's /api/traces answers):
 *   {"traceID": 32 hex, "spans": [{"traceID", "spanID", "operationName",
 *    "references": [{"refType": "CHILD_OF" (parent) | "FOLLOWS_FROM" (links),
 *    "traceID", "spanID"}], "startTime": us, "duration": us, "tags": [{"key",
 *    "type": "string|bool|int64|float64|binary", "value"}], "logs":
 *    [{"timestamp": us, "fields": [{"key": "event", ...}, ...]}], "processID":
 *    "p1", "warnings": null, "flags": n}], "processes": {"p1": {"serviceName",
 *    "tags": [...]}}, "warnings": null}
 * Span tags are the attributes plus span.kind, otel.status_code, error=true
 * (status error), otel.status_description, otel.scope.name,
 * otel.scope.version and w3c.tracestate when set. Arrays and kvlists become
 * strings holding their JSON; bytes are base64 of type binary. One process
 * per distinct resource (same attributes); its tags are the resource
 * attributes except service.name. */
void trace_json_write_jaeger(const struct span_batch *b, struct buf *out);

/* Append clew's own trace shape, read by clew's UI. Every field is always
 * present. Ids are lowercase hex; times in ns are decimal strings; durations
 * in ms are JSON numbers; KeyValue lists are as in OTLP/JSON
 * ([{"key": k, "value": {"stringValue": ...}}], intValue as a string).
 *
 * {"traceId": "<32 hex>",
 *  "rootServiceName": s, "rootName": s,      root: the earliest span with no
 *                                            parent; if none, the earliest
 *  "startTimeUnixNano": "ns", "endTimeUnixNano": "ns",  earliest start, latest end
 *  "durationMs": number,
 *  "spanCount": n, "errorCount": n,          errors: status code error
 *  "services": [{"name": s, "spanCount": n, "errorCount": n}],
 *                                            in order of first span
 *  "resources": [{"serviceName": s, "attributes": [KeyValue],
 *                 "droppedAttributesCount": n, "schemaUrl": s}],
 *  "scopes": [{"resource": index into resources, "name": s, "version": s,
 *              "attributes": [KeyValue], "droppedAttributesCount": n,
 *              "schemaUrl": s}],
 *  "spans": [{"spanId": "<16 hex>", "parentSpanId": "<16 hex>" or "",
 *             "traceState": s, "flags": n, "name": s,
 *             "kind": "unspecified|internal|server|client|producer|consumer",
 *             "service": s, "resource": index, "scope": index,
 *             "startTimeUnixNano": "ns", "endTimeUnixNano": "ns",
 *             "durationMs": number,
 *             "attributes": [KeyValue], "droppedAttributesCount": n,
 *             "events": [{"timeUnixNano": "ns", "name": s,
 *                         "attributes": [KeyValue], "droppedAttributesCount": n}],
 *             "droppedEventsCount": n,
 *             "links": [{"traceId": "<32 hex>", "spanId": "<16 hex>",
 *                        "traceState": s, "attributes": [KeyValue],
 *                        "droppedAttributesCount": n, "flags": n}],
 *             "droppedLinksCount": n,
 *             "status": {"code": "unset|ok|error", "message": s}}]}
 *
 * An empty batch gives an all-zero traceId, empty names and zero times. */
void trace_json_write_native(const struct span_batch *b, struct buf *out);

/* Append an attribute value as plain JSON: strings, numbers and booleans as
 * themselves, bytes as base64 strings, arrays as arrays, kvlists as
 * objects, an empty value as null. */
void trace_json_write_value(struct json *j, const struct any_value *v);

/* Append a list of attributes as an array of OTLP/JSON KeyValue objects
 * ({"key", "value": {"stringValue": ...}}), as Tempo's answers carry them. */
void trace_json_write_attrs(struct json *j, const struct attr *items, uint32_t n);

#endif
