/* Unit tests of the OTLP/JSON decoder: every field of the mapping, the
 * lenient cases (64-bit integers as strings or numbers, enum names, NaN
 * doubles, nulls, unknown fields) and malformed input. */
#include "../../testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "ingest/otlp_json.h"

struct dec {
	struct arena arena;
	struct span_batch b;
	struct decode_error err;
	int rc;
};

static void dec_run(struct dec *d, const char *json, size_t cap)
{
	arena_init(&d->arena, cap);
	span_batch_init(&d->b, &d->arena);
	memset(&d->err, 0, sizeof d->err);
	d->rc = otlp_json_decode_request(slice_cstr(json), &d->b, &d->err);
}

/* Decode json with no arena cap. */
static void dec_json(struct dec *d, const char *json)
{
	dec_run(d, json, 0);
}

static void dec_free(struct dec *d)
{
	arena_reset(&d->arena);
}

/* A request with one resource, one scope and the given spans text. */
static void dec_spans(struct dec *d, const char *spans)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_printf(&b, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[%s]}]}]}", spans);
	buf_append_byte(&b, 0);
	dec_json(d, (const char *)b.p);
	buf_free(&b);
}

/* A request whose only span has one attribute with value text val. */
static void dec_value(struct dec *d, const char *val)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_printf(&b,
		   "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
		   "\"attributes\":[{\"key\":\"k\",\"value\":%s}]}",
		   val);
	buf_append_byte(&b, 0);
	dec_spans(d, (const char *)b.p);
	buf_free(&b);
}

static const struct any_value *first_value(const struct dec *d)
{
	if (d->rc != 0 || d->b.n_spans != 1 || d->b.spans[0].attrs.n != 1)
		return NULL;
	return &d->b.spans[0].attrs.items[0].value;
}

static const char full_request[] =
	"{\"resourceSpans\":[{"
	" \"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}},"
	"  {\"key\":\"host.cpus\",\"value\":{\"intValue\":\"8\"}}],\"droppedAttributesCount\":2},"
	" \"schemaUrl\":\"https://opentelemetry.io/schemas/1.21.0\","
	" \"scopeSpans\":[{"
	"  \"scope\":{\"name\":\"io.clew.http\",\"version\":\"1.2.3\","
	"   \"attributes\":[{\"key\":\"sk\",\"value\":{\"boolValue\":true}}],\"droppedAttributesCount\":1},"
	"  \"schemaUrl\":\"https://scope/schema\","
	"  \"spans\":[{"
	"   \"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"EEE19B7EC3C1B174\","
	"   \"traceState\":\"vendor=1\",\"parentSpanId\":\"eee19b7ec3c1b173\",\"flags\":257,"
	"   \"name\":\"GET /cart\",\"kind\":2,"
	"   \"startTimeUnixNano\":\"1544712660000000000\",\"endTimeUnixNano\":1544712661000000000,"
	"   \"attributes\":[{\"key\":\"http.status_code\",\"value\":{\"intValue\":500}},"
	"    {\"key\":\"ratio\",\"value\":{\"doubleValue\":0.25}}],"
	"   \"droppedAttributesCount\":3,"
	"   \"events\":[{\"timeUnixNano\":\"1544712660500000000\",\"name\":\"exception\","
	"     \"attributes\":[{\"key\":\"exception.type\",\"value\":{\"stringValue\":\"IOError\"}}],"
	"     \"droppedAttributesCount\":4}],"
	"   \"droppedEventsCount\":5,"
	"   \"links\":[{\"traceId\":\"00000000000000000000000000000001\",\"spanId\":\"0000000000000002\","
	"     \"traceState\":\"l=2\",\"attributes\":[{\"key\":\"lk\",\"value\":{\"stringValue\":\"lv\"}}],"
	"     \"droppedAttributesCount\":6,\"flags\":1}],"
	"   \"droppedLinksCount\":7,"
	"   \"status\":{\"message\":\"boom\",\"code\":2}"
	"  }]"
	" }]"
	"}]}";

TEST(otlp_json_maps_every_field)
{
	struct dec d;
	dec_json(&d, full_request);
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_resources, ==, 1);
	CHECK_INT(d.b.n_scopes, ==, 1);
	CHECK_INT(d.b.n_spans, ==, 1);

	const struct resource *r = &d.b.resources[0];
	CHECK_INT(r->attrs.n, ==, 2);
	CHECK_SLICE(resource_service_name(r), "checkout");
	const struct attr *a = attr_find(&r->attrs, "host.cpus");
	CHECK(a && a->value.type == ANY_INT && a->value.u.i == 8);
	CHECK_INT(r->dropped_attrs, ==, 2);
	CHECK_SLICE(r->schema_url, "https://opentelemetry.io/schemas/1.21.0");

	const struct scope *sc = &d.b.scopes[0];
	CHECK_INT(sc->resource, ==, 0);
	CHECK_SLICE(sc->name, "io.clew.http");
	CHECK_SLICE(sc->version, "1.2.3");
	CHECK_INT(sc->attrs.n, ==, 1);
	CHECK(sc->attrs.items[0].value.type == ANY_BOOL && sc->attrs.items[0].value.u.b);
	CHECK_INT(sc->dropped_attrs, ==, 1);
	CHECK_SLICE(sc->schema_url, "https://scope/schema");

	const struct span *s = &d.b.spans[0];
	static const uint8_t tid[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
					0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
	static const uint8_t sid[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74};
	static const uint8_t pid[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73};
	CHECK(memcmp(s->trace_id, tid, 16) == 0);
	CHECK(memcmp(s->span_id, sid, 8) == 0);
	CHECK(s->has_parent);
	CHECK(memcmp(s->parent_span_id, pid, 8) == 0);
	CHECK(s->invalid_reason == NULL);
	CHECK(span_invalid_reason(s) == NULL);
	CHECK_SLICE(s->trace_state, "vendor=1");
	CHECK_INT(s->flags, ==, 257);
	CHECK_SLICE(s->name, "GET /cart");
	CHECK_INT(s->kind, ==, SPAN_KIND_SERVER);
	CHECK_INT(s->start_unix_ns, ==, 1544712660000000000LL);
	CHECK_INT(s->end_unix_ns, ==, 1544712661000000000LL);
	CHECK_INT(s->attrs.n, ==, 2);
	CHECK_SLICE(s->attrs.items[0].key, "http.status_code");
	CHECK(s->attrs.items[0].value.type == ANY_INT && s->attrs.items[0].value.u.i == 500);
	CHECK(s->attrs.items[1].value.type == ANY_DOUBLE && s->attrs.items[1].value.u.d == 0.25);
	CHECK_INT(s->dropped_attrs, ==, 3);
	CHECK_INT(s->n_events, ==, 1);
	CHECK_INT(s->events[0].time_unix_ns, ==, 1544712660500000000LL);
	CHECK_SLICE(s->events[0].name, "exception");
	CHECK_INT(s->events[0].attrs.n, ==, 1);
	CHECK_SLICE(s->events[0].attrs.items[0].value.u.str, "IOError");
	CHECK_INT(s->events[0].dropped_attrs, ==, 4);
	CHECK_INT(s->dropped_events, ==, 5);
	CHECK_INT(s->n_links, ==, 1);
	CHECK_INT(s->links[0].trace_id[15], ==, 1);
	CHECK_INT(s->links[0].span_id[7], ==, 2);
	CHECK_SLICE(s->links[0].trace_state, "l=2");
	CHECK_INT(s->links[0].attrs.n, ==, 1);
	CHECK_SLICE(s->links[0].attrs.items[0].key, "lk");
	CHECK_INT(s->links[0].dropped_attrs, ==, 6);
	CHECK_INT(s->links[0].flags, ==, 1);
	CHECK_INT(s->dropped_links, ==, 7);
	CHECK_INT(s->status_code, ==, STATUS_ERROR);
	CHECK_SLICE(s->status_message, "boom");
	dec_free(&d);
}

TEST(otlp_json_strings_outlive_the_body)
{
	size_t n = strlen(full_request);
	char *body = malloc(n);
	CHECK(body);
	memcpy(body, full_request, n);
	struct dec d;
	arena_init(&d.arena, 0);
	span_batch_init(&d.b, &d.arena);
	d.rc = otlp_json_decode_request(slice_make(body, n), &d.b, &d.err);
	memset(body, 'x', n);
	free(body);
	CHECK_INT(d.rc, ==, 0);
	CHECK_SLICE(d.b.spans[0].name, "GET /cart");
	CHECK_SLICE(d.b.scopes[0].name, "io.clew.http");
	CHECK_SLICE(resource_service_name(&d.b.resources[0]), "checkout");
	dec_free(&d);
}

TEST(otlp_json_empty_requests)
{
	struct dec d;
	dec_json(&d, "{}");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 0);
	dec_free(&d);
	dec_json(&d, "{\"resourceSpans\":[]}");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_resources, ==, 0);
	dec_free(&d);
	dec_json(&d, "{\"resourceSpans\":null}");
	CHECK_INT(d.rc, ==, 0);
	dec_free(&d);
	/* a resource without attributes gets service.name */
	dec_json(&d, "{\"resourceSpans\":[{}]}");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_resources, ==, 1);
	CHECK_INT(d.b.resources[0].attrs.n, ==, 1);
	CHECK_SLICE(resource_service_name(&d.b.resources[0]), "unknown_service");
	dec_free(&d);
}

TEST(otlp_json_ids_are_case_insensitive)
{
	struct dec d;
	dec_spans(&d, "{\"traceId\":\"ABCDEF0123456789abcdef0123456789\",\"spanId\":\"aBcDeF0123456789\"},"
		      "{\"traceId\":\"abcdef0123456789ABCDEF0123456789\",\"spanId\":\"AbCdEf0123456789\"}");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 2);
	CHECK(memcmp(d.b.spans[0].trace_id, d.b.spans[1].trace_id, 16) == 0);
	CHECK(memcmp(d.b.spans[0].span_id, d.b.spans[1].span_id, 8) == 0);
	CHECK_INT(d.b.spans[0].trace_id[0], ==, 0xab);
	CHECK_INT(d.b.spans[0].span_id[7], ==, 0x89);
	CHECK(d.b.spans[0].invalid_reason == NULL);
	CHECK(!d.b.spans[0].has_parent);
	dec_free(&d);
}

TEST(otlp_json_bad_ids_reject_only_the_span)
{
	struct dec d;
	dec_spans(&d, "{\"traceId\":\"0102\",\"spanId\":\"0102030405060708\"},"
		      "{\"traceId\":\"0102030405060708090a0b0c0d0e0f1g\",\"spanId\":\"0102030405060708\"},"
		      "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"01020304050607\"},"
		      "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
		      " \"parentSpanId\":\"zz02030405060708\"},"
		      "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
		      " \"links\":[{\"traceId\":\"01\",\"spanId\":\"0102030405060708\"}]},"
		      "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
		      " \"parentSpanId\":\"\"},"
		      "{\"spanId\":\"0102030405060708\",\"traceId\":\"\"}");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 7);
	CHECK_STR(d.b.spans[0].invalid_reason, "trace id is not 32 hex digits");
	CHECK_STR(d.b.spans[1].invalid_reason, "trace id is not 32 hex digits");
	CHECK_STR(d.b.spans[2].invalid_reason, "span id is not 16 hex digits");
	CHECK_STR(d.b.spans[3].invalid_reason, "parent span id is not 16 hex digits");
	CHECK(!d.b.spans[3].has_parent);
	CHECK_STR(d.b.spans[4].invalid_reason, "link trace id is not 32 hex digits");
	CHECK(d.b.spans[5].invalid_reason == NULL);
	CHECK(!d.b.spans[5].has_parent);
	/* an empty trace id is a zero id, left to span_invalid_reason */
	CHECK(d.b.spans[6].invalid_reason == NULL);
	CHECK(span_invalid_reason(&d.b.spans[6]) != NULL);
	dec_free(&d);
	/* a non-string id is a type error of the request */
	dec_spans(&d, "{\"traceId\":12}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK_STR(d.err.msg, "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a hex string");
	dec_free(&d);
}

TEST(otlp_json_times_as_strings_and_numbers)
{
	struct dec d;
	dec_spans(&d, "{\"startTimeUnixNano\":\"9223372036854775807\",\"endTimeUnixNano\":9223372036854775807},"
		      "{\"startTimeUnixNano\":1e3,\"endTimeUnixNano\":\"0001000\"},"
		      "{\"startTimeUnixNano\":\"18446744073709551615\"}");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.spans[0].start_unix_ns, ==, INT64_MAX);
	CHECK_INT(d.b.spans[0].end_unix_ns, ==, INT64_MAX);
	CHECK_INT(d.b.spans[1].start_unix_ns, ==, 1000);
	CHECK_INT(d.b.spans[1].end_unix_ns, ==, 1000);
	/* fixed64 kept bit for bit, as the protobuf decoder does */
	CHECK_INT(d.b.spans[2].start_unix_ns, ==, -1);
	dec_free(&d);

	static const char *const bad[] = {
		"\"18446744073709551616\"", "\"-1\"", "-1", "1.5", "\"12a\"", "\"\"", "\" 12\"", "true", "[1]", "{}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char span[200];
		snprintf(span, sizeof span, "{},{},{\"startTimeUnixNano\":%s}", bad[i]);
		dec_spans(&d, span);
		CHECK_INT(d.rc, ==, CLEW_EPARSE);
		CHECK_STR(d.err.msg, "resourceSpans[0].scopeSpans[0].spans[2].startTimeUnixNano: "
				     "expected an integer or a decimal string");
		dec_free(&d);
	}
	/* uint32 fields are range-checked */
	dec_spans(&d, "{\"droppedAttributesCount\":4294967296}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	dec_free(&d);
	dec_spans(&d, "{\"flags\":\"4294967295\"}");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.spans[0].flags, ==, 4294967295u);
	dec_free(&d);
}

TEST(otlp_json_kind_and_status_as_numbers_and_names)
{
	struct dec d;
	dec_spans(&d, "{\"kind\":3,\"status\":{\"code\":1}},"
		      "{\"kind\":\"SPAN_KIND_CONSUMER\",\"status\":{\"code\":\"STATUS_CODE_ERROR\"}},"
		      "{\"kind\":\"SPAN_KIND_INTERNAL\",\"status\":{\"code\":\"STATUS_CODE_OK\"}},"
		      "{\"kind\":\"4\",\"status\":{}},"
		      "{\"kind\":9,\"status\":{\"code\":7}},"
		      "{}");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.spans[0].kind, ==, SPAN_KIND_CLIENT);
	CHECK_INT(d.b.spans[0].status_code, ==, STATUS_OK);
	CHECK_INT(d.b.spans[1].kind, ==, SPAN_KIND_CONSUMER);
	CHECK_INT(d.b.spans[1].status_code, ==, STATUS_ERROR);
	CHECK_INT(d.b.spans[2].kind, ==, SPAN_KIND_INTERNAL);
	CHECK_INT(d.b.spans[2].status_code, ==, STATUS_OK);
	CHECK_INT(d.b.spans[3].kind, ==, SPAN_KIND_PRODUCER);
	CHECK_INT(d.b.spans[3].status_code, ==, STATUS_UNSET);
	CHECK_INT(d.b.spans[4].kind, ==, SPAN_KIND_UNSPECIFIED);
	CHECK_INT(d.b.spans[4].status_code, ==, STATUS_UNSET);
	CHECK_INT(d.b.spans[5].kind, ==, SPAN_KIND_UNSPECIFIED);
	dec_free(&d);

	dec_spans(&d, "{\"kind\":\"SERVER\"}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK(strstr(d.err.msg, "spans[0].kind: unknown enum value") != NULL);
	dec_free(&d);
	dec_spans(&d, "{\"kind\":2.5}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	dec_free(&d);
	dec_spans(&d, "{\"status\":{\"code\":true}}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK_STR(d.err.msg, "resourceSpans[0].scopeSpans[0].spans[0].status.code: expected an integer enum value");
	dec_free(&d);
	dec_spans(&d, "{\"kind\":4294967298}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	dec_free(&d);
}

TEST(otlp_json_int_values)
{
	static const struct {
		const char *json;
		int64_t want;
	} ok[] = {
		{"{\"intValue\":\"-9223372036854775808\"}", INT64_MIN},
		{"{\"intValue\":\"9223372036854775807\"}", INT64_MAX},
		{"{\"intValue\":-42}", -42},
		{"{\"intValue\":\"-42\"}", -42},
		{"{\"intValue\":9223372036854775807}", INT64_MAX},
		{"{\"intValue\":1e2}", 100},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct dec d;
		dec_value(&d, ok[i].json);
		const struct any_value *v = first_value(&d);
		CHECK(v != NULL);
		CHECK_INT(v->type, ==, ANY_INT);
		CHECK_INT(v->u.i, ==, ok[i].want);
		dec_free(&d);
	}
	static const char *const bad[] = {
		"{\"intValue\":\"9223372036854775808\"}", "{\"intValue\":\"-9223372036854775809\"}",
		"{\"intValue\":\"1.0\"}", "{\"intValue\":\"-\"}", "{\"intValue\":true}", "{\"intValue\":0.5}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct dec d;
		dec_value(&d, bad[i]);
		CHECK_INT(d.rc, ==, CLEW_EPARSE);
		CHECK_STR(d.err.msg, "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue: "
				     "expected an int64 as an integer or a decimal string");
		dec_free(&d);
	}
}

TEST(otlp_json_double_values)
{
	struct dec d;
	dec_value(&d, "{\"doubleValue\":\"NaN\"}");
	const struct any_value *v = first_value(&d);
	CHECK(v && v->type == ANY_DOUBLE && isnan(v->u.d));
	dec_free(&d);
	dec_value(&d, "{\"doubleValue\":\"Infinity\"}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_DOUBLE && isinf(v->u.d) && v->u.d > 0);
	dec_free(&d);
	dec_value(&d, "{\"doubleValue\":\"-Infinity\"}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_DOUBLE && isinf(v->u.d) && v->u.d < 0);
	dec_free(&d);
	dec_value(&d, "{\"doubleValue\":3}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_DOUBLE && v->u.d == 3.0);
	dec_free(&d);
	dec_value(&d, "{\"doubleValue\":-1.5e-3}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_DOUBLE && v->u.d == -1.5e-3);
	dec_free(&d);
	dec_value(&d, "{\"doubleValue\":\"2.5\"}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_DOUBLE && v->u.d == 2.5);
	dec_free(&d);
	static const char *const bad[] = {
		"{\"doubleValue\":\"nan\"}", "{\"doubleValue\":\"2.5x\"}", "{\"doubleValue\":\"\"}",
		"{\"doubleValue\":false}", "{\"doubleValue\":[]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		dec_value(&d, bad[i]);
		CHECK_INT(d.rc, ==, CLEW_EPARSE);
		CHECK(strstr(d.err.msg, "attributes[0].value.doubleValue: expected a number") != NULL);
		dec_free(&d);
	}
}

TEST(otlp_json_string_bool_bytes_empty_values)
{
	struct dec d;
	dec_value(&d, "{\"stringValue\":\"caf\\u00e9 \\\"q\\\" a\\u0000b\"}");
	const struct any_value *v = first_value(&d);
	CHECK(v && v->type == ANY_STRING);
	CHECK_INT(v->u.str.len, ==, 13);
	CHECK(memcmp(v->u.str.p, "caf\xc3\xa9 \"q\" a\0b", 13) == 0);
	dec_free(&d);
	dec_value(&d, "{\"boolValue\":false}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_BOOL && !v->u.b);
	dec_free(&d);
	dec_value(&d, "{\"bytesValue\":\"3q2+7w==\"}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_BYTES && v->u.str.len == 4);
	CHECK(memcmp(v->u.str.p, "\xde\xad\xbe\xef", 4) == 0);
	dec_free(&d);
	dec_value(&d, "{\"bytesValue\":\"\"}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_BYTES && v->u.str.len == 0);
	dec_free(&d);
	dec_value(&d, "{}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_EMPTY);
	dec_free(&d);
	/* a value of null, unknown fields inside a value */
	dec_value(&d, "{\"stringValue\":null,\"futureValue\":{\"x\":1}}");
	v = first_value(&d);
	CHECK(v && v->type == ANY_EMPTY);
	dec_free(&d);

	dec_value(&d, "{\"bytesValue\":\"***\"}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK(strstr(d.err.msg, "value.bytesValue: invalid base64") != NULL);
	dec_free(&d);
	dec_value(&d, "{\"stringValue\":5}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK(strstr(d.err.msg, "value.stringValue: expected a string") != NULL);
	dec_free(&d);
	dec_value(&d, "{\"boolValue\":\"true\"}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	dec_free(&d);
	dec_value(&d, "\"text\"");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK(strstr(d.err.msg, "attributes[0].value: expected an AnyValue object") != NULL);
	dec_free(&d);
}

TEST(otlp_json_nested_arrays_and_kvlists)
{
	struct dec d;
	dec_value(&d, "{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},{\"stringValue\":\"two\"},null,"
		      "{\"kvlistValue\":{\"values\":[{\"key\":\"a\",\"value\":{\"arrayValue\":{}}},"
		      "{\"key\":\"b\",\"value\":{\"doubleValue\":\"NaN\"}},null,{\"key\":\"c\"}]}}]}}");
	const struct any_value *v = first_value(&d);
	CHECK(v && v->type == ANY_ARRAY);
	CHECK_INT(v->u.array.n, ==, 4);
	CHECK(v->u.array.items[0].type == ANY_INT && v->u.array.items[0].u.i == 1);
	CHECK_SLICE(v->u.array.items[1].u.str, "two");
	CHECK_INT(v->u.array.items[2].type, ==, ANY_EMPTY);
	const struct any_value *kv = &v->u.array.items[3];
	CHECK_INT(kv->type, ==, ANY_KVLIST);
	CHECK_INT(kv->u.kvlist.n, ==, 3);
	CHECK_SLICE(kv->u.kvlist.items[0].key, "a");
	CHECK_INT(kv->u.kvlist.items[0].value.type, ==, ANY_ARRAY);
	CHECK_INT(kv->u.kvlist.items[0].value.u.array.n, ==, 0);
	CHECK(isnan(kv->u.kvlist.items[1].value.u.d));
	CHECK_SLICE(kv->u.kvlist.items[2].key, "c");
	CHECK_INT(kv->u.kvlist.items[2].value.type, ==, ANY_EMPTY);
	dec_free(&d);

	dec_value(&d, "{\"arrayValue\":{\"values\":[{\"kvlistValue\":{\"values\":[{\"key\":\"x\","
		      "\"value\":{\"intValue\":\"zz\"}}]}}]}}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK_STR(d.err.msg, "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.arrayValue.values[0]"
			     ".kvlistValue.values[0].value.intValue: expected an int64 as an integer or a decimal "
			     "string");
	dec_free(&d);
	dec_value(&d, "{\"arrayValue\":{\"values\":{}}}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK(strstr(d.err.msg, "value.arrayValue.values: expected an array") != NULL);
	dec_free(&d);
	dec_value(&d, "{\"kvlistValue\":[]}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	dec_free(&d);
	dec_value(&d, "{\"kvlistValue\":{\"values\":[{\"key\":1}]}}");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK(strstr(d.err.msg, "kvlistValue.values[0].key: expected a string") != NULL);
	dec_free(&d);
}

/* depth nested arrayValues around an int. */
static char *nested_value(int depth, bool kvlist)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < depth; i++)
		buf_append_cstr(&b, kvlist ? "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":"
					   : "{\"arrayValue\":{\"values\":[");
	buf_append_cstr(&b, "{\"intValue\":7}");
	for (int i = 0; i < depth; i++)
		buf_append_cstr(&b, kvlist ? "}]}}" : "]}}");
	buf_append_byte(&b, 0);
	return (char *)b.p;
}

TEST(otlp_json_nesting_is_limited)
{
	struct dec d;
	for (int kv = 0; kv < 2; kv++) {
		char *ok = nested_value(OTLP_MAX_ANY_DEPTH, kv);
		dec_value(&d, ok);
		free(ok);
		const struct any_value *v = first_value(&d);
		CHECK(v != NULL);
		for (int i = 0; i < OTLP_MAX_ANY_DEPTH; i++) {
			CHECK_INT(v->type, ==, kv ? ANY_KVLIST : ANY_ARRAY);
			v = kv ? &v->u.kvlist.items[0].value : &v->u.array.items[0];
		}
		CHECK(v->type == ANY_INT && v->u.i == 7);
		dec_free(&d);

		char *deep = nested_value(OTLP_MAX_ANY_DEPTH + 1, kv);
		dec_value(&d, deep);
		free(deep);
		CHECK_INT(d.rc, ==, CLEW_EPARSE);
		if (!strstr(d.err.msg, "nested deeper than 32"))
			test_fail(__FILE__, __LINE__, "message: %s", d.err.msg);
		dec_free(&d);
	}
	/* a nesting bomb far beyond any limit is refused by the parser */
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_append_cstr(&b, "{\"resourceSpans\":");
	for (int i = 0; i < 100000; i++)
		buf_append_byte(&b, '[');
	buf_append_byte(&b, 0);
	dec_json(&d, (const char *)b.p);
	buf_free(&b);
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK(strstr(d.err.msg, "invalid JSON") != NULL);
	dec_free(&d);
}

TEST(otlp_json_nulls_and_unknown_fields)
{
	struct dec d;
	dec_json(&d, "{\"resourceSpans\":[null,{\"resource\":null,\"schemaUrl\":null,\"future\":[1,{}],"
		     "\"scopeSpans\":[{\"scope\":null,\"spans\":[null,{\"traceId\":null,\"name\":null,"
		     "\"attributes\":null,\"events\":null,\"links\":null,\"status\":null,\"kind\":null,"
		     "\"startTimeUnixNano\":null,\"newField\":{\"deep\":[true]},"
		     "\"events\":[null,{\"name\":\"e\",\"extra\":1}]}]}]}],\"unknownTop\":\"x\"}");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_resources, ==, 1);
	CHECK_INT(d.b.n_scopes, ==, 1);
	CHECK_INT(d.b.n_spans, ==, 1);
	const struct span *s = &d.b.spans[0];
	CHECK_INT(s->name.len, ==, 0);
	CHECK_INT(s->attrs.n, ==, 0);
	CHECK_INT(s->n_events, ==, 1);
	CHECK_SLICE(s->events[0].name, "e");
	CHECK_INT(d.b.scopes[0].name.len, ==, 0);
	CHECK_SLICE(resource_service_name(&d.b.resources[0]), "unknown_service");
	dec_free(&d);
}

TEST(otlp_json_wrong_types_name_the_path)
{
	static const struct {
		const char *json;
		const char *msg;
	} cases[] = {
		{"[]", "expected a JSON object (ExportTraceServiceRequest)"},
		{"{\"resourceSpans\":{}}", "resourceSpans: expected an array"},
		{"{\"resourceSpans\":[1]}", "resourceSpans[0]: expected an object"},
		{"{\"resourceSpans\":[{\"resource\":[]}]}", "resourceSpans[0].resource: expected an object"},
		{"{\"resourceSpans\":[{\"resource\":{\"attributes\":\"x\"}}]}",
		 "resourceSpans[0].resource.attributes: expected an array"},
		{"{\"resourceSpans\":[{},{\"scopeSpans\":[{\"scope\":{\"name\":7}}]}]}",
		 "resourceSpans[1].scopeSpans[0].scope.name: expected a string"},
		{"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{},{\"attributes\":\"a=b\"}]}]}]}",
		 "resourceSpans[0].scopeSpans[0].spans[1].attributes: expected an array"},
		{"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"events\":[{\"timeUnixNano\":\"x\"}]}]}]}]}",
		 "resourceSpans[0].scopeSpans[0].spans[0].events[0].timeUnixNano: expected an integer or a decimal "
		 "string"},
		{"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"links\":[{},{\"flags\":-1}]}]}]}]}",
		 "resourceSpans[0].scopeSpans[0].spans[0].links[1].flags: expected an integer or a decimal string"},
		{"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"status\":\"ERROR\"}]}]}]}",
		 "resourceSpans[0].scopeSpans[0].spans[0].status: expected an object"},
		{"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":[\"n\"]}]}]}]}",
		 "resourceSpans[0].scopeSpans[0].spans[0].name: expected a string"},
		{"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":1}]}]}]}]}",
		 "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value: expected an AnyValue object"},
		{"{\"resourceSpans\":[{\"scopeSpans\":[{\"schemaUrl\":{}}]}]}",
		 "resourceSpans[0].scopeSpans[0].schemaUrl: expected a string"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dec d;
		dec_json(&d, cases[i].json);
		CHECK_INT(d.rc, ==, CLEW_EPARSE);
		CHECK_STR(d.err.msg, cases[i].msg);
		dec_free(&d);
	}
}

TEST(otlp_json_malformed_json)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"x\"",
		"{\"resourceSpans\":[]}}",
		"{\"a\":1,}",
		"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":99999999999999999999}]}]}]}",
		"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":1e400}]}]}]}",
		"{\"x\":\"\xff\xfe\"}",
		"{\"x\":\"\xc3\"}",
		"{\"x\":\"\\ud800\"}",
		"nul",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct dec d;
		dec_json(&d, bad[i]);
		CHECK_INT(d.rc, ==, CLEW_EPARSE);
		CHECK(strstr(d.err.msg, "invalid JSON") == d.err.msg);
		dec_free(&d);
	}
	/* the input length is respected: no NUL terminator is needed */
	struct dec d;
	arena_init(&d.arena, 0);
	span_batch_init(&d.b, &d.arena);
	d.rc = otlp_json_decode_request(slice_make("{}garbage", 2), &d.b, &d.err);
	CHECK_INT(d.rc, ==, 0);
	dec_free(&d);
}

TEST(otlp_json_arena_exhaustion)
{
	struct dec d;
	struct buf b;
	buf_init(&b, 1 << 22);
	buf_append_cstr(&b, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[");
	for (int i = 0; i < 2000; i++)
		buf_printf(&b, "%s{\"name\":\"span number %d with a long name\"}", i ? "," : "", i);
	buf_append_cstr(&b, "]}]}]}");
	buf_append_byte(&b, 0);
	dec_run(&d, (const char *)b.p, 64 * 1024);
	buf_free(&b);
	CHECK_INT(d.rc, ==, CLEW_ENOMEM);
	dec_free(&d);
}
