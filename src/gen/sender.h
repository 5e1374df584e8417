/* clew gen's output side: encodes generated batches (OTLP protobuf, gRPC
 * framed protobuf, or OTLP/JSON) and sends them with libcurl (multi,
 * keep-alive, several requests in flight, retries with backoff on 429, 503
 * and gRPC UNAVAILABLE / RESOURCE_EXHAUSTED), or writes them to a file as
 * records of "u32 little-endian length + ExportTraceServiceRequest". Paces
 * to a rate in spans per second (or as fast as it can) and stops after a
 * duration, a number of spans, or when *stop becomes non-zero. */
#ifndef CLEW_GEN_SENDER_H
#define CLEW_GEN_SENDER_H

#include <signal.h>
#include <stdint.h>

#include "base/buf.h"
#include "gen/tracegen.h"
#include "ingest/span.h"

enum gen_protocol {
	GEN_PROTO_HTTP = 0, /* OTLP/HTTP protobuf */
	GEN_PROTO_GRPC = 1, /* OTLP/gRPC */
	GEN_PROTO_JSON = 2, /* OTLP/HTTP JSON */
};

struct sender_config {
	const char *target;   /* URL or host:port; NULL = the protocol's default port on 127.0.0.1 */
	const char *out_path; /* write records to this file instead ("-" = stdout) */
	enum gen_protocol protocol;
	double rate;	     /* spans per second; 0 = as fast as possible */
	int64_t duration_ns; /* of wall time; 0 = no limit */
	uint64_t max_spans;  /* stop after about this many (whole traces); 0 = no limit */
	uint32_t concurrency;
	const volatile sig_atomic_t *stop; /* may be NULL */
};

struct sender_stats {
	uint64_t spans, batches, bytes;
	uint64_t failed_batches, failed_spans, retries;
	double wall_s;
	char first_error[256];
};

/* Encode b for protocol p, appended to out (gRPC: with the 5-byte message
 * frame; JSON: {"resourceSpans":[...]}). Errors are out's sticky error. */
void sender_encode(const struct span_batch *b, enum gen_protocol p, struct buf *out);

/* The URL requests go to for target and p (a default path /v1/traces for
 * HTTP, the Export method for gRPC), written to out (cap bytes). */
void sender_url(const char *target, enum gen_protocol p, char *out, size_t cap);

/* Generate and deliver until a limit is reached. Fills *st (also on
 * failure). 0; -errno when the output file cannot be written; CLEW_EINVAL
 * with err for a bad target. Batches the target refused for good are
 * counted in st, not an error. */
int sender_run(struct gen *g, const struct sender_config *c, struct sender_stats *st, char *err, size_t err_len);

#endif
