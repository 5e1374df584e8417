/* Spans as Zipkin v2 JSON, the answer shape of the Zipkin read API
 * (/zipkin/api/v2/trace/{id}, /traces, /traceMany). The inverse of the
 * Zipkin receiver's mapping (ingest/zipkin.h), so a span that came in
 * through POST /api/v2/spans goes out with the same fields. */
#ifndef CLEW_API_ZIPKIN_JSON_H
#define CLEW_API_ZIPKIN_JSON_H

#include "base/json.h"
#include "ingest/span.h"

/* Write span s of batch b as one Zipkin v2 span object:
 *   traceId (32 hex, or 16 when the high half is zero), id, parentId,
 *   name, kind (CLIENT|SERVER|PRODUCER|CONSUMER; absent for internal and
 *   unspecified), timestamp and duration (µs; duration at least 1 when the
 *   span has any), debug and shared (from zipkin.debug / zipkin.shared),
 *   localEndpoint {serviceName, ipv4|ipv6, port} from the resource's
 *   service.name and net.host.ip / net.host.port, remoteEndpoint from
 *   peer.service, net.peer.ip (or net.sock.peer.addr) and net.peer.port,
 *   annotations from events (value: the event name, then its attributes as
 *   a JSON object when it has any), tags from the other attributes as
 *   strings (non-strings as their JSON text), otel.scope.name/version when
 *   the scope is not the receiver's "zipkin", otel.status_code OK, and for
 *   status error an "error" tag (the status message) unless the span has
 *   one. Errors are the output buf's sticky error. */
void zipkin_json_write_span(struct json *j, const struct span_batch *b, const struct span *s);

/* Write every span of b as one JSON array of Zipkin v2 spans, in batch
 * order. */
void zipkin_json_write_spans(struct json *j, const struct span_batch *b);

#endif
