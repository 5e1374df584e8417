/* The receive step of ingest: one request body (OTLP protobuf, OTLP JSON or
 * Zipkin JSON, maybe gzip'd) becomes a durable-ready payload (OTLP protobuf
 * bytes, the WAL's record format) plus the span batch decoded from it, with
 * each span validated. No I/O here: the caller writes the payload to the
 * store and answers the client from the result. */
#ifndef CLEW_INGEST_RECEIVE_H
#define CLEW_INGEST_RECEIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/budget.h"
#include "base/slice.h"
#include "ingest/span.h"

enum ingest_format {
	INGEST_OTLP_PROTO,
	INGEST_OTLP_JSON,
	INGEST_ZIPKIN_JSON,
};

/* The outcome class; the receivers map it to HTTP and gRPC statuses. */
enum ingest_outcome {
	INGEST_OK = 0,	       /* accepted (maybe with rejected spans) */
	INGEST_BAD_REQUEST,    /* undecodable body or bad compression */
	INGEST_TOO_LARGE,      /* over the size limit after decompression */
	INGEST_BUSY,	       /* over the memory budget: retry later */
	INGEST_UNSUPPORTED,    /* unknown content encoding */
};

struct ingest_request {
	enum ingest_format format;
	struct slice body;
	bool gzip; /* body is gzip-compressed */
};

struct ingest_limits {
	uint64_t max_body_bytes; /* after decompression */
	struct budget *memory;	 /* payload and decode memory are charged here */
};

struct ingest_result {
	enum ingest_outcome outcome;
	char message[320]; /* why, for a non-OK outcome or rejected spans */
	/* The payload: an OTLP ExportTraceServiceRequest, malloc'd, owned by the
	 * caller (hand it to the store or free it). NULL when no span was
	 * accepted. */
	uint8_t *payload;
	size_t payload_len;
	struct span_batch batch; /* decoded from payload; raw slices point into it */
	uint32_t accepted_spans, rejected_spans;
	uint64_t charged_bytes; /* charged to limits->memory; release when done */
};

/* Run the receive step for req. The batch lives in arena. Always returns
 * with res->outcome set; the return value is 0 for INGEST_OK, else the
 * error that caused the outcome. */
int ingest_receive(const struct ingest_request *req, const struct ingest_limits *limits, struct arena *arena,
		   struct ingest_result *res);

/* Release what ingest_receive charged and free the payload if still owned. */
void ingest_result_release(struct ingest_result *res, const struct ingest_limits *limits);

#endif
