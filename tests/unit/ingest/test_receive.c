/* Unit tests of the receive step: validation and partial success, gzip under
 * the limit, bad bodies, the memory budget, and JSON/Zipkin re-encoding into
 * the protobuf payload the WAL stores. */
#include "../../testlib.h"

#include <stdlib.h>

#include "base/err.h"
#include "ingest/decompress.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"
#include "ingest/receive.h"

/* Two spans of one trace; the second is invalid when bad is set. */
static void make_body(struct buf *out, bool bad)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	span_batch_add_resource(&b);
	span_batch_add_scope(&b, 0);
	for (int i = 0; i < 2; i++) {
		struct span *s = span_batch_add_span(&b, 0);
		memset(s->trace_id, 7, 16);
		memset(s->span_id, i + 1, 8);
		s->name = SLICE_LIT("op");
		s->start_unix_ns = 100;
		s->end_unix_ns = bad && i == 1 ? 50 : 200; /* end before start */
	}
	buf_init(out, 1 << 20);
	otlp_encode_request(&b, out);
	arena_reset(&a);
}

static const struct ingest_limits limits = {.max_body_bytes = 1 << 20};

TEST(receive_protobuf_partial_success)
{
	struct buf body;
	make_body(&body, true);
	struct arena a;
	arena_init(&a, 0);
	struct ingest_result res;
	struct ingest_request req = {.format = INGEST_OTLP_PROTO, .body = buf_slice(&body)};
	CHECK_INT(ingest_receive(&req, &limits, &a, &res), ==, 0);
	CHECK_INT(res.outcome, ==, INGEST_OK);
	CHECK_INT(res.accepted_spans, ==, 1);
	CHECK_INT(res.rejected_spans, ==, 1);
	CHECK(strstr(res.message, "end time is before start time") != NULL);
	CHECK(res.payload != NULL);
	CHECK_INT(res.batch.n_spans, ==, 2);
	CHECK(res.batch.spans[0].invalid_reason == NULL);
	CHECK(res.batch.spans[1].invalid_reason != NULL);
	ingest_result_release(&res, &limits);
	arena_reset(&a);
	buf_free(&body);
}

TEST(receive_gzip_and_limits)
{
	struct buf body;
	make_body(&body, false);
	uint8_t *gz;
	size_t gz_len;
	CHECK_INT(gzip_deflate(buf_slice(&body), &gz, &gz_len), ==, 0);
	struct arena a;
	arena_init(&a, 0);
	struct ingest_result res;
	struct ingest_request req = {.format = INGEST_OTLP_PROTO, .body = slice_make(gz, gz_len), .gzip = true};
	CHECK_INT(ingest_receive(&req, &limits, &a, &res), ==, 0);
	CHECK_INT(res.accepted_spans, ==, 2);
	CHECK_INT(res.payload_len, ==, body.len);
	ingest_result_release(&res, &limits);

	struct ingest_limits tight = {.max_body_bytes = body.len - 1};
	CHECK(ingest_receive(&req, &tight, &a, &res) < 0);
	CHECK_INT(res.outcome, ==, INGEST_TOO_LARGE);
	CHECK(res.payload == NULL);

	req.body = slice_make(gz, gz_len - 3); /* truncated */
	CHECK(ingest_receive(&req, &limits, &a, &res) < 0);
	CHECK_INT(res.outcome, ==, INGEST_BAD_REQUEST);
	free(gz);
	arena_reset(&a);
	buf_free(&body);
}

TEST(receive_garbage_is_bad_request)
{
	struct arena a;
	arena_init(&a, 0);
	struct ingest_result res;
	struct ingest_request req = {.format = INGEST_OTLP_PROTO, .body = SLICE_LIT("\x0a\xff\xff\xff\xff\x0f")};
	CHECK(ingest_receive(&req, &limits, &a, &res) < 0);
	CHECK_INT(res.outcome, ==, INGEST_BAD_REQUEST);
	CHECK(res.message[0] != 0);
	req.format = INGEST_OTLP_JSON;
	req.body = SLICE_LIT("{\"resourceSpans\": [");
	CHECK(ingest_receive(&req, &limits, &a, &res) < 0);
	CHECK_INT(res.outcome, ==, INGEST_BAD_REQUEST);
	req.format = INGEST_ZIPKIN_JSON;
	req.body = SLICE_LIT("{\"not\": \"a list\"}");
	CHECK(ingest_receive(&req, &limits, &a, &res) < 0);
	CHECK_INT(res.outcome, ==, INGEST_BAD_REQUEST);
	arena_reset(&a);
}

TEST(receive_empty_request_is_success_without_payload)
{
	struct arena a;
	arena_init(&a, 0);
	struct ingest_result res;
	struct ingest_request req = {.format = INGEST_OTLP_PROTO, .body = {NULL, 0}};
	CHECK_INT(ingest_receive(&req, &limits, &a, &res), ==, 0);
	CHECK_INT(res.outcome, ==, INGEST_OK);
	CHECK(res.payload == NULL);
	req.format = INGEST_OTLP_JSON;
	req.body = SLICE_LIT("{}");
	CHECK_INT(ingest_receive(&req, &limits, &a, &res), ==, 0);
	CHECK(res.payload == NULL);
	arena_reset(&a);
}

TEST(receive_over_budget_is_busy)
{
	struct buf body;
	make_body(&body, false);
	struct budget mem;
	budget_init(&mem, body.len / 2);
	struct ingest_limits lim = {.max_body_bytes = 1 << 20, .memory = &mem};
	struct arena a;
	arena_init(&a, 0);
	struct ingest_result res;
	struct ingest_request req = {.format = INGEST_OTLP_PROTO, .body = buf_slice(&body)};
	CHECK(ingest_receive(&req, &lim, &a, &res) < 0);
	CHECK_INT(res.outcome, ==, INGEST_BUSY);
	CHECK_INT(mem.used_bytes, ==, 0);
	budget_init(&mem, 1 << 20);
	CHECK_INT(ingest_receive(&req, &lim, &a, &res), ==, 0);
	CHECK(mem.used_bytes > 0);
	ingest_result_release(&res, &lim);
	CHECK_INT(mem.used_bytes, ==, 0);
	arena_reset(&a);
	buf_free(&body);
}

TEST(receive_json_becomes_protobuf_payload)
{
	const char *json = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
			   "{\"stringValue\":\"svc\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"lib\"},\"spans\":["
			   "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
			   "\"name\":\"op\",\"kind\":2,\"startTimeUnixNano\":\"1000\",\"endTimeUnixNano\":2000},"
			   "{\"traceId\":\"00000000000000000000000000000000\",\"spanId\":\"0102030405060709\","
			   "\"name\":\"zero\",\"startTimeUnixNano\":\"1000\",\"endTimeUnixNano\":\"2000\"}]}]}]}";
	struct arena a;
	arena_init(&a, 0);
	struct ingest_result res;
	struct ingest_request req = {.format = INGEST_OTLP_JSON, .body = slice_cstr(json)};
	CHECK_INT(ingest_receive(&req, &limits, &a, &res), ==, 0);
	CHECK_INT(res.accepted_spans, ==, 1);
	CHECK_INT(res.rejected_spans, ==, 1);
	CHECK(res.payload != NULL);
	/* the payload holds only the valid span, decoded with raw slices */
	CHECK_INT(res.batch.n_spans, ==, 1);
	CHECK(res.batch.spans[0].raw.len > 0);
	CHECK_SLICE(res.batch.spans[0].name, "op");
	CHECK_INT(res.batch.spans[0].end_unix_ns, ==, 2000);
	CHECK_SLICE(resource_service_name(&res.batch.resources[0]), "svc");
	ingest_result_release(&res, &limits);
	arena_reset(&a);
}
