/* Trace by id on every read API: Tempo (/api/traces/{id}, /api/v2/traces/{id},
 * JSON or protobuf), Jaeger (/jaeger/api/traces/{id}, /jaeger/api/v3/traces/{id})
 * and clew's own (/api/v1/traces/{id}). */
#ifndef CLEW_API_TRACE_API_H
#define CLEW_API_TRACE_API_H

#include "net/http.h"
#include "store/store.h"

enum trace_api_shape {
	TRACE_SHAPE_TEMPO_V1,
	TRACE_SHAPE_TEMPO_V2,
	TRACE_SHAPE_JAEGER,
	TRACE_SHAPE_JAEGER_V3,
	TRACE_SHAPE_NATIVE,
};

/* Answer a trace-by-id request for the id text in id_text, in shape. */
void trace_api_get(struct store *store, enum trace_api_shape shape, struct slice id_text,
		   struct http_request *req, struct http_response *resp);

#endif
