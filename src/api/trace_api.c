/* Trace by id: parse the id, read the trace from the store (head and, later,
 * blocks), write it in the shape the caller's API uses. */
#include "api/trace_api.h"

#include "api/api_util.h"
#include "api/trace_json.h"
#include "base/err.h"
#include "base/json.h"
#include "ingest/otlp_encode.h"

static void write_jaeger_envelope(const struct span_batch *b, struct buf *out)
{
	buf_append_cstr(out, "{\"data\":[");
	trace_json_write_jaeger(b, out);
	buf_append_cstr(out, "],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}");
}

void trace_api_get(struct store *store, enum trace_api_shape shape, struct slice id_text,
		   struct http_request *req, struct http_response *resp)
{
	uint8_t id[16];
	if (!api_parse_trace_id(id_text, id)) {
		api_error(resp, req, 400, "malformed trace id: expected 1 to 32 hexadecimal digits");
		return;
	}
	struct span_batch b;
	span_batch_init(&b, req->arena);
	int rc = store_get_trace(store, id, &b);
	if (rc == CLEW_ENOTFOUND) {
		api_error(resp, req, 404, "trace not found");
		return;
	}
	if (rc < 0) {
		api_error(resp, req, 503, "could not read the trace; retry later");
		http_response_header(resp, req, "Retry-After", SLICE_LIT("1"));
		return;
	}
	bool proto = api_accepts_protobuf(req);
	switch (shape) {
	case TRACE_SHAPE_TEMPO_V1:
		if (proto) {
			otlp_encode_request(&b, &resp->body);
			api_ok(resp, req, "application/protobuf");
			break;
		}
		buf_append_cstr(&resp->body, "{\"batches\":");
		trace_json_write_otlp(&b, &resp->body, TRACE_JSON_TEMPO);
		buf_append_cstr(&resp->body, "}");
		api_ok(resp, req, "application/json");
		break;
	case TRACE_SHAPE_TEMPO_V2:
		if (proto) {
			/* TraceByIDResponse{trace=1 Trace{resourceSpans=1}, status=3}: wrap the
			 * TracesData bytes as field 1 */
			struct buf inner;
			buf_init(&inner, resp->body.max_bytes);
			otlp_encode_request(&b, &inner);
			buf_append_byte(&resp->body, 0x0a);
			buf_append_varint(&resp->body, inner.len);
			buf_append(&resp->body, inner.p, inner.len);
			if (inner.err)
				resp->body.err = inner.err;
			buf_free(&inner);
			api_ok(resp, req, "application/protobuf");
			break;
		}
		buf_append_cstr(&resp->body, "{\"trace\":{\"resourceSpans\":");
		trace_json_write_otlp(&b, &resp->body, TRACE_JSON_TEMPO);
		buf_append_cstr(&resp->body, "},\"status\":\"COMPLETE\"}");
		api_ok(resp, req, "application/json");
		break;
	case TRACE_SHAPE_JAEGER:
		write_jaeger_envelope(&b, &resp->body);
		api_ok(resp, req, "application/json");
		break;
	case TRACE_SHAPE_JAEGER_V3:
		buf_append_cstr(&resp->body, "{\"result\":{\"resourceSpans\":");
		trace_json_write_otlp(&b, &resp->body, TRACE_JSON_OTLP);
		buf_append_cstr(&resp->body, "}}");
		api_ok(resp, req, "application/json");
		break;
	case TRACE_SHAPE_NATIVE:
		trace_json_write_native(&b, &resp->body);
		api_ok(resp, req, "application/json");
		break;
	}
	if (resp->body.err) {
		buf_clear(&resp->body);
		api_error(resp, req, 413, "the trace is too large to return in one response");
	}
}
