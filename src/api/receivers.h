/* The span receivers, as HTTP handlers for net: OTLP/HTTP (POST /v1/traces,
 * protobuf or JSON), OTLP/gRPC (TraceService/Export) and Zipkin v2 (POST
 * /api/v2/spans). Each runs ingest_receive, then store_append, and answers
 * exactly as the OTLP specification and DESIGN.md's status table say. */
#ifndef CLEW_API_RECEIVERS_H
#define CLEW_API_RECEIVERS_H

#include <stdint.h>

#include "base/budget.h"
#include "net/http.h"
#include "store/store.h"

struct service_graph_live;
struct alert_engine;

struct receivers {
	struct store *store;
	struct budget *memory;
	uint64_t max_body_bytes; /* after decompression */
	/* fed every batch the store accepted; may be NULL */
	struct service_graph_live *graph;
	/* fed every batch the store is given, for the alert rules; may be NULL */
	struct alert_engine *alerts;
};

/* Register the receivers' metrics; call once before serving. */
void receivers_init(struct receivers *r);

/* Handlers; ctx is a struct receivers. */
void receivers_otlp_http(void *ctx, struct http_request *req, struct http_response *resp);
void receivers_otlp_grpc(void *ctx, struct http_request *req, struct http_response *resp);
void receivers_zipkin(void *ctx, struct http_request *req, struct http_response *resp);

#endif
