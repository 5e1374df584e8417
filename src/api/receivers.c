/* Receivers: protocol framing around ingest_receive and store_append.
 * Status mapping (DESIGN.md): accepted -> 200 / OK (partial success when some
 * spans were invalid); undecodable -> 400 / INVALID_ARGUMENT; too large after
 * decompression -> 413 / RESOURCE_EXHAUSTED without RetryInfo; over budget or
 * WAL failure -> 503 + Retry-After / UNAVAILABLE + RetryInfo. Never 500. */
#include "api/receivers.h"

#include "api/api_util.h"
#include <stdio.h>
#include <string.h>

#include "alert/alert_engine.h"
#include "analysis/service_graph.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/metrics.h"
#include "ingest/otlp_encode.h"
#include "ingest/receive.h"

#define RETRY_AFTER_SECONDS 1

enum grpc_code {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_NOT_FOUND = 5,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_UNAVAILABLE = 14,
};

enum proto_idx { P_GRPC, P_HTTP_PROTO, P_HTTP_JSON, P_ZIPKIN, P_COUNT };
static const char *proto_names[P_COUNT] = {"otlp_grpc", "otlp_http_protobuf", "otlp_http_json", "zipkin"};

static struct metric *m_spans[P_COUNT], *m_bytes[P_COUNT], *m_rejected_spans[P_COUNT];
static struct metric *m_req_rejected[P_COUNT][5];
static const char *reason_names[5] = {"ok", "bad_request", "too_large", "busy", "unsupported"};
static struct metric *m_wal_failures;

void receivers_init(struct receivers *r)
{
	char labels[128];
	for (int p = 0; p < P_COUNT; p++) {
		snprintf(labels, sizeof labels, "protocol=\"%s\"", proto_names[p]);
		m_spans[p] = metric_counter("clew_spans_received_total", "Spans accepted and made durable.", labels);
		m_bytes[p] = metric_counter("clew_bytes_received_total",
					    "Request body bytes received (before decompression).", labels);
		snprintf(labels, sizeof labels, "protocol=\"%s\",reason=\"invalid_span\"", proto_names[p]);
		m_rejected_spans[p] = metric_counter("clew_spans_rejected_total",
						     "Spans rejected individually (partial success).", labels);
		for (int o = 1; o < 5; o++) {
			snprintf(labels, sizeof labels, "protocol=\"%s\",reason=\"%s\"", proto_names[p],
				 reason_names[o]);
			m_req_rejected[p][o] = metric_counter("clew_requests_rejected_total",
							      "Ingest requests refused whole, by reason.", labels);
		}
	}
	m_wal_failures = metric_counter("clew_wal_append_failures_total",
					"Batches refused because the WAL write or fsync failed.", NULL);
	(void)r;
}

/* Run the whole receive path. On success *res holds the counts; returns the
 * outcome, with INGEST_BUSY also for a failed WAL append (message set). */
static enum ingest_outcome receive(struct receivers *r, enum proto_idx p, enum ingest_format fmt,
				   struct slice body, bool gzip, struct ingest_result *res)
{
	struct ingest_limits limits = {.max_body_bytes = r->max_body_bytes, .memory = r->memory};
	struct ingest_request in = {.format = fmt, .body = body, .gzip = gzip};
	struct arena arena;
	/* decoded structures are a few times the body: cap them accordingly */
	uint64_t cap = (uint64_t)r->max_body_bytes * 16 + (1u << 20);
	arena_init(&arena, cap > ((uint64_t)1 << 32) ? ((uint64_t)1 << 32) : cap);
	metric_add(m_bytes[p], body.len);
	if (r->memory && budget_exhausted(r->memory)) {
		memset(res, 0, sizeof *res);
		res->outcome = INGEST_BUSY;
		snprintf(res->message, sizeof res->message, "clew is over its memory budget; retry later");
	} else {
		ingest_receive(&in, &limits, &arena, res);
	}
	if (res->outcome == INGEST_OK && res->payload) {
		/* The batch's strings point into the payload, which the store owns
		 * (and may free with its head) once store_append returns: feed the
		 * live service graph first. A refused batch is counted there when
		 * its retry is counted again: the graph is a rate, not a ledger. */
		int64_t now_ns = clock_now_unix_ns();
		if (r->graph)
			sg_live_add_batch(r->graph, &res->batch, now_ns);
		if (r->alerts)
			alert_engine_add_batch(r->alerts, &res->batch, now_ns);
		int rc = store_append(r->store, res->payload, res->payload_len, &res->batch);
		res->payload = NULL; /* the store owns it now */
		if (rc < 0) {
			metric_add(m_wal_failures, 1);
			res->outcome = INGEST_BUSY;
			snprintf(res->message, sizeof res->message,
				 "could not make the spans durable (%s); nothing was stored, retry later", err_str(rc));
		}
	}
	if (res->outcome == INGEST_OK) {
		metric_add(m_spans[p], res->accepted_spans);
		metric_add(m_rejected_spans[p], res->rejected_spans);
	} else {
		metric_add(m_req_rejected[p][res->outcome], 1);
	}
	ingest_result_release(res, &limits);
	arena_reset(&arena);
	return res->outcome;
}

static struct slice header_or_empty(const struct http_request *req, const char *name)
{
	const struct slice *v = http_request_header(req, name);
	return v ? *v : (struct slice){NULL, 0};
}

/* The media type of a Content-Type value, without parameters or spaces. */
static struct slice media_type(struct slice ct)
{
	size_t n = 0;
	while (n < ct.len && ct.p[n] != ';')
		n++;
	while (n > 0 && (ct.p[n - 1] == ' ' || ct.p[n - 1] == '\t'))
		n--;
	return slice_make(ct.p, n);
}

/* An OTLP/HTTP failure: google.rpc.Status in the request's encoding. */
static void otlp_http_status(struct http_response *resp, struct http_request *req, bool json, int http_status,
			     int grpc_code, const char *message)
{
	resp->status = http_status;
	if (json) {
		struct json j;
		json_init(&j, &resp->body);
		json_obj_begin(&j);
		json_key(&j, "code");
		json_int(&j, grpc_code);
		json_key(&j, "message");
		json_cstr(&j, message);
		json_obj_end(&j);
		http_response_header(resp, req, "Content-Type", SLICE_LIT("application/json"));
	} else {
		otlp_encode_rpc_status(grpc_code, slice_cstr(message), -1, &resp->body);
		http_response_header(resp, req, "Content-Type", SLICE_LIT("application/x-protobuf"));
	}
	if (http_status == 503 || http_status == 429)
		http_response_header(resp, req, "Retry-After", SLICE_LIT("1"));
}

static void otlp_http_success(struct http_response *resp, struct http_request *req, bool json,
			      const struct ingest_result *res)
{
	resp->status = 200;
	if (json) {
		struct json j;
		json_init(&j, &resp->body);
		json_obj_begin(&j);
		if (res->rejected_spans) {
			json_key(&j, "partialSuccess");
			json_obj_begin(&j);
			json_key(&j, "rejectedSpans");
			json_int_str(&j, res->rejected_spans);
			json_key(&j, "errorMessage");
			json_cstr(&j, res->message);
			json_obj_end(&j);
		}
		json_obj_end(&j);
		http_response_header(resp, req, "Content-Type", SLICE_LIT("application/json"));
	} else {
		otlp_encode_export_response(res->rejected_spans,
					    res->rejected_spans ? slice_cstr(res->message) : (struct slice){NULL, 0},
					    &resp->body);
		http_response_header(resp, req, "Content-Type", SLICE_LIT("application/x-protobuf"));
	}
}

/* gzip, identity/absent, or -1 for an encoding clew does not speak. */
static int body_is_gzip(struct slice enc)
{
	if (enc.len == 0 || slice_eq_nocase(enc, "identity"))
		return 0;
	if (slice_eq_nocase(enc, "gzip") || slice_eq_nocase(enc, "x-gzip"))
		return 1;
	return -1;
}

void receivers_otlp_http(void *ctx, struct http_request *req, struct http_response *resp)
{
	struct receivers *r = ctx;
	if (!slice_eq_cstr(req->path, "/v1/traces")) {
		api_error(resp, req, 404, "not found: OTLP/HTTP traces are received at POST /v1/traces");
		return;
	}
	if (!slice_eq_cstr(req->method, "POST")) {
		api_error(resp, req, 405, "method not allowed: use POST /v1/traces");
		http_response_header(resp, req, "Allow", SLICE_LIT("POST"));
		return;
	}
	struct slice ct = media_type(header_or_empty(req, "content-type"));
	bool json;
	if (slice_eq_nocase(ct, "application/x-protobuf") || slice_eq_nocase(ct, "application/protobuf"))
		json = false;
	else if (slice_eq_nocase(ct, "application/json"))
		json = true;
	else {
		api_error(resp, req, 415,
				 "unsupported Content-Type: send application/x-protobuf or application/json");
		return;
	}
	int gz = body_is_gzip(header_or_empty(req, "content-encoding"));
	if (gz < 0) {
		otlp_http_status(resp, req, json, 415, GRPC_INVALID_ARGUMENT,
				 "unsupported Content-Encoding: send gzip or no encoding");
		return;
	}
	struct ingest_result res;
	enum proto_idx p = json ? P_HTTP_JSON : P_HTTP_PROTO;
	switch (receive(r, p, json ? INGEST_OTLP_JSON : INGEST_OTLP_PROTO, req->body, gz == 1, &res)) {
	case INGEST_OK:
		otlp_http_success(resp, req, json, &res);
		break;
	case INGEST_BAD_REQUEST:
		otlp_http_status(resp, req, json, 400, GRPC_INVALID_ARGUMENT, res.message);
		break;
	case INGEST_TOO_LARGE:
		otlp_http_status(resp, req, json, 413, GRPC_RESOURCE_EXHAUSTED, res.message);
		break;
	case INGEST_UNSUPPORTED:
		otlp_http_status(resp, req, json, 415, GRPC_INVALID_ARGUMENT, res.message);
		break;
	case INGEST_BUSY:
		otlp_http_status(resp, req, json, 503, GRPC_UNAVAILABLE, res.message);
		break;
	}
}

static void grpc_fail(struct http_response *resp, struct http_request *req, int code, const char *message,
		      bool retry_info)
{
	resp->grpc_status = code;
	resp->grpc_message = slice_cstr(arena_strndup(req->arena, message, strlen(message)));
	if (retry_info) {
		struct buf st;
		buf_init(&st, 4096);
		otlp_encode_rpc_status(code, slice_cstr(message), RETRY_AFTER_SECONDS * 1000, &st);
		if (!st.err)
			resp->grpc_status_details_bin = slice_make(arena_memdup(req->arena, st.p, st.len), st.len);
		buf_free(&st);
	}
}

void receivers_otlp_grpc(void *ctx, struct http_request *req, struct http_response *resp)
{
	struct receivers *r = ctx;
	resp->status = 200;
	if (!slice_eq_cstr(req->path, "/opentelemetry.proto.collector.trace.v1.TraceService/Export")) {
		grpc_fail(resp, req, GRPC_UNIMPLEMENTED, "unknown method: clew implements TraceService/Export", false);
		return;
	}
	bool gzip = false;
	if (req->grpc_compressed) {
		int gz = body_is_gzip(header_or_empty(req, "grpc-encoding"));
		if (gz != 1) {
			grpc_fail(resp, req, GRPC_UNIMPLEMENTED, "unsupported grpc-encoding: clew accepts gzip", false);
			return;
		}
		gzip = true;
	}
	struct ingest_result res;
	switch (receive(r, P_GRPC, INGEST_OTLP_PROTO, req->body, gzip, &res)) {
	case INGEST_OK:
		resp->grpc_status = GRPC_OK;
		otlp_encode_export_response(res.rejected_spans,
					    res.rejected_spans ? slice_cstr(res.message) : (struct slice){NULL, 0},
					    &resp->body);
		break;
	case INGEST_BAD_REQUEST:
		grpc_fail(resp, req, GRPC_INVALID_ARGUMENT, res.message, false);
		break;
	case INGEST_TOO_LARGE:
		grpc_fail(resp, req, GRPC_RESOURCE_EXHAUSTED, res.message, false);
		break;
	case INGEST_UNSUPPORTED:
		grpc_fail(resp, req, GRPC_UNIMPLEMENTED, res.message, false);
		break;
	case INGEST_BUSY:
		grpc_fail(resp, req, GRPC_UNAVAILABLE, res.message, true);
		break;
	}
	http_response_header(resp, req, "content-type", SLICE_LIT("application/grpc"));
}

void receivers_zipkin(void *ctx, struct http_request *req, struct http_response *resp)
{
	struct receivers *r = ctx;
	if (!slice_eq_cstr(req->path, "/api/v2/spans")) {
		api_error(resp, req, 404, "not found: Zipkin spans are received at POST /api/v2/spans");
		return;
	}
	if (!slice_eq_cstr(req->method, "POST")) {
		api_error(resp, req, 405, "method not allowed: use POST /api/v2/spans");
		return;
	}
	struct slice ct = media_type(header_or_empty(req, "content-type"));
	if (ct.len && !slice_eq_nocase(ct, "application/json")) {
		api_error(resp, req, 415, "unsupported Content-Type: clew accepts Zipkin v2 JSON");
		return;
	}
	int gz = body_is_gzip(header_or_empty(req, "content-encoding"));
	if (gz < 0) {
		api_error(resp, req, 415, "unsupported Content-Encoding: send gzip or no encoding");
		return;
	}
	struct ingest_result res;
	switch (receive(r, P_ZIPKIN, INGEST_ZIPKIN_JSON, req->body, gz == 1, &res)) {
	case INGEST_OK:
		if (res.accepted_spans == 0 && res.rejected_spans > 0) {
			api_error(resp, req, 400, res.message);
			return;
		}
		resp->status = 202;
		break;
	case INGEST_BAD_REQUEST:
		api_error(resp, req, 400, res.message);
		break;
	case INGEST_TOO_LARGE:
		api_error(resp, req, 413, res.message);
		break;
	case INGEST_UNSUPPORTED:
		api_error(resp, req, 415, res.message);
		break;
	case INGEST_BUSY:
		api_error(resp, req, 503, res.message);
		http_response_header(resp, req, "Retry-After", SLICE_LIT("1"));
		break;
	}
}
