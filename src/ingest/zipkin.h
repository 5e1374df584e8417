/* Zipkin v2 JSON decoder (POST /api/v2/spans, ListOfSpans) onto the OTLP
 * model: microseconds to nanoseconds, localEndpoint.serviceName to the
 * resource's service.name (one resource per distinct local endpoint), tags to
 * span attributes, annotations to events, kind to span kind, remoteEndpoint
 * to peer attributes (peer.service, net.peer.ip / net.sock.peer.addr,
 * net.peer.port), shared and debug kept as attributes, error tag to status. */
#ifndef CLEW_INGEST_ZIPKIN_H
#define CLEW_INGEST_ZIPKIN_H

#include "base/slice.h"
#include "ingest/otlp_proto.h"
#include "ingest/span.h"

/* Decode a Zipkin v2 JSON list of spans into out. 16-hex trace ids are
 * left-padded with zeros to 16 bytes. A span with a bad id gets
 * invalid_reason. Returns 0, CLEW_EPARSE with *err, or CLEW_ENOMEM. */
int zipkin_decode_spans(struct slice body, struct span_batch *out, struct decode_error *err);

#endif
