/* Unit tests of the Zipkin v2 span writer: spans decoded by the Zipkin
 * receiver come back with equal fields, and spans of the OTLP model (typed
 * attributes, events with attributes, statuses, scopes, odd endpoints and
 * times) are written as Zipkin expects, parsed back with jansson. */
#include "../../testlib.h"

#include <jansson.h>

#include "api/zipkin_json.h"
#include "base/buf.h"
#include "ingest/zipkin.h"

/* Write b as a Zipkin span list and parse it; NULL on a bad document. */
static json_t *write_parse(const struct span_batch *b)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	struct json j;
	json_init(&j, &out);
	zipkin_json_write_spans(&j, b);
	json_t *doc = out.err ? NULL : json_loadb((const char *)out.p, out.len, 0, NULL);
	buf_free(&out);
	return doc;
}

static const char *ROUND_TRIP =
	"[{\"traceId\":\"5af7183fb1d4cf5f\",\"id\":\"352bff9a74ca9ad2\",\"parentId\":\"6b221d5bc9e6496c\","
	"\"kind\":\"CLIENT\",\"name\":\"get /api\",\"timestamp\":1556604172355737,\"duration\":1431,"
	"\"localEndpoint\":{\"serviceName\":\"backend\",\"ipv4\":\"192.168.99.1\",\"port\":3306},"
	"\"remoteEndpoint\":{\"serviceName\":\"db\",\"ipv6\":\"::1\",\"port\":5432},"
	"\"annotations\":[{\"timestamp\":1556604172355800,\"value\":\"wire send\"}],"
	"\"tags\":{\"http.method\":\"GET\",\"http.path\":\"/api\",\"error\":\"timeout\"}},"
	"{\"traceId\":\"463ac35c9f6413ad48485a3953bb6124\",\"id\":\"a2fb4a1d1a96d312\",\"name\":\"consume\","
	"\"kind\":\"CONSUMER\",\"timestamp\":1556604172000000,\"duration\":1,\"shared\":true,"
	"\"localEndpoint\":{\"serviceName\":\"worker\"},"
	"\"tags\":{\"otel.scope.name\":\"io.kafka\",\"otel.scope.version\":\"2.1\"}},"
	"{\"traceId\":\"463ac35c9f6413ad48485a3953bb6124\",\"id\":\"b2fb4a1d1a96d312\",\"name\":\"local\","
	"\"timestamp\":1556604172000001,\"duration\":77,\"debug\":true,"
	"\"localEndpoint\":{\"serviceName\":\"worker\"}}]";

TEST(zipkin_json_round_trip_of_received_spans)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	struct decode_error err;
	CHECK_INT(zipkin_decode_spans(slice_cstr(ROUND_TRIP), &b, &err), ==, 0);
	CHECK_INT(b.n_spans, ==, 3);
	json_t *got = write_parse(&b);
	json_t *want = json_loads(ROUND_TRIP, 0, NULL);
	CHECK(got && want);
	CHECK_INT(json_array_size(got), ==, 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *g = json_array_get(got, i), *w = json_array_get(want, i);
		const char *key;
		json_t *v;
		json_object_foreach(w, key, v)
		{
			if (!json_equal(v, json_object_get(g, key))) {
				char *gs = json_dumps(json_object_get(g, key), JSON_COMPACT | JSON_ENCODE_ANY);
				test_fail(__FILE__, __LINE__, "span %zu field %s: got %s", i, key, gs ? gs : "null");
				free(gs);
			}
		}
		CHECK_INT(json_object_size(g), ==, json_object_size(w));
	}
	json_decref(got);
	json_decref(want);
	arena_reset(&a);
}

static void str_attr(struct attr *at, const char *k, const char *v)
{
	at->key = slice_cstr(k);
	at->value.type = ANY_STRING;
	at->value.u.str = slice_cstr(v);
}

/* A span of the OTLP model: every attribute type, an event with
 * attributes, status error without an error attribute, a 128-bit id. */
static void build_otlp(struct span_batch *b)
{
	struct arena *a = b->arena;
	struct resource *r = span_batch_add_resource(b);
	r->attrs.items = arena_array(a, 3, sizeof(struct attr));
	r->attrs.n = 3;
	str_attr(&r->attrs.items[0], "service.name", "checkout");
	str_attr(&r->attrs.items[1], "net.host.ip", "10.0.0.7");
	str_attr(&r->attrs.items[2], "net.host.port", "8080");
	struct scope *sc = span_batch_add_scope(b, 0);
	sc->name = SLICE_LIT("zipkin");
	struct span *s = span_batch_add_span(b, 0);
	memset(s->trace_id, 0x11, 16);
	memset(s->span_id, 0x22, 8);
	s->kind = SPAN_KIND_INTERNAL;
	s->name = SLICE_LIT("compute \"tax\"");
	s->start_unix_ns = 1700000000123456789LL;
	s->end_unix_ns = s->start_unix_ns + 500; /* under one µs */
	s->status_code = STATUS_ERROR;
	s->status_message = SLICE_LIT("card declined");
	struct attr *at = arena_array(a, 6, sizeof *at);
	s->attrs.items = at;
	s->attrs.n = 6;
	at[0].key = SLICE_LIT("retries");
	at[0].value.type = ANY_INT;
	at[0].value.u.i = -3;
	at[1].key = SLICE_LIT("ratio");
	at[1].value.type = ANY_DOUBLE;
	at[1].value.u.d = 0.25;
	at[2].key = SLICE_LIT("cached");
	at[2].value.type = ANY_BOOL;
	at[2].value.u.b = false;
	at[3].key = SLICE_LIT("blob");
	at[3].value.type = ANY_BYTES;
	at[3].value.u.str = SLICE_LIT("hi");
	struct any_value *items = arena_array(a, 2, sizeof *items);
	items[0].type = ANY_INT;
	items[0].u.i = 1;
	items[1].type = ANY_STRING;
	items[1].u.str = SLICE_LIT("x");
	at[4].key = SLICE_LIT("list");
	at[4].value.type = ANY_ARRAY;
	at[4].value.u.array.items = items;
	at[4].value.u.array.n = 2;
	at[5].key = SLICE_LIT("net.sock.peer.addr");
	at[5].value.type = ANY_STRING;
	at[5].value.u.str = SLICE_LIT("10.1.2.3");
	s->events = arena_array(a, 1, sizeof *s->events);
	s->n_events = 1;
	s->events[0].time_unix_ns = 1700000000123999999LL;
	s->events[0].name = SLICE_LIT("exception");
	s->events[0].attrs.items = arena_array(a, 1, sizeof(struct attr));
	s->events[0].attrs.n = 1;
	str_attr(&s->events[0].attrs.items[0], "exception.type", "IOError");

	/* a second span: status OK, a non-zipkin scope, zero duration, no events */
	sc = span_batch_add_scope(b, 0);
	sc->name = SLICE_LIT("io.grpc");
	s = span_batch_add_span(b, 1);
	memset(s->trace_id + 8, 0x33, 8);
	memset(s->span_id, 0x44, 8);
	s->kind = SPAN_KIND_PRODUCER;
	s->status_code = STATUS_OK;
	s->start_unix_ns = s->end_unix_ns = 1000;
}

static const char *tag(json_t *span, const char *key)
{
	return json_string_value(json_object_get(json_object_get(span, "tags"), key));
}

TEST(zipkin_json_otlp_spans)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	build_otlp(&b);
	json_t *doc = write_parse(&b);
	CHECK(doc && json_array_size(doc) == 2);
	json_t *s = json_array_get(doc, 0);
	CHECK_STR(json_string_value(json_object_get(s, "traceId")), "11111111111111111111111111111111");
	CHECK_STR(json_string_value(json_object_get(s, "id")), "2222222222222222");
	CHECK(!json_object_get(s, "parentId"));
	CHECK(!json_object_get(s, "kind")); /* internal */
	CHECK_STR(json_string_value(json_object_get(s, "name")), "compute \"tax\"");
	CHECK_INT(json_integer_value(json_object_get(s, "timestamp")), ==, 1700000000123456LL);
	CHECK_INT(json_integer_value(json_object_get(s, "duration")), ==, 1); /* at least 1 */
	json_t *local = json_object_get(s, "localEndpoint");
	CHECK_STR(json_string_value(json_object_get(local, "serviceName")), "checkout");
	CHECK_STR(json_string_value(json_object_get(local, "ipv4")), "10.0.0.7");
	CHECK_INT(json_integer_value(json_object_get(local, "port")), ==, 8080);
	json_t *remote = json_object_get(s, "remoteEndpoint");
	CHECK(remote && !json_object_get(remote, "serviceName"));
	CHECK_STR(json_string_value(json_object_get(remote, "ipv4")), "10.1.2.3");
	CHECK_STR(tag(s, "retries"), "-3");
	CHECK_STR(tag(s, "ratio"), "0.25");
	CHECK_STR(tag(s, "cached"), "false");
	CHECK_STR(tag(s, "blob"), "aGk=");
	CHECK_STR(tag(s, "list"), "[1,\"x\"]");
	CHECK_STR(tag(s, "error"), "card declined");
	CHECK(!tag(s, "net.sock.peer.addr"));
	CHECK(!tag(s, "otel.scope.name"));
	json_t *ann = json_array_get(json_object_get(s, "annotations"), 0);
	CHECK_INT(json_integer_value(json_object_get(ann, "timestamp")), ==, 1700000000123999LL);
	CHECK_STR(json_string_value(json_object_get(ann, "value")), "exception {\"exception.type\":\"IOError\"}");

	s = json_array_get(doc, 1);
	CHECK_STR(json_string_value(json_object_get(s, "traceId")), "3333333333333333");
	CHECK_STR(json_string_value(json_object_get(s, "kind")), "PRODUCER");
	CHECK_STR(json_string_value(json_object_get(s, "name")), "");
	CHECK(!json_object_get(s, "duration"));
	CHECK(!json_object_get(s, "annotations"));
	CHECK(!json_object_get(s, "remoteEndpoint"));
	CHECK_STR(tag(s, "otel.status_code"), "OK");
	CHECK_STR(tag(s, "otel.scope.name"), "io.grpc");
	CHECK(!tag(s, "otel.scope.version"));
	CHECK(!tag(s, "error"));
	json_decref(doc);
	arena_reset(&a);
}

TEST(zipkin_json_odd_input)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	/* no resource or scope for the span: written without endpoint or tags */
	struct span *s = span_batch_add_span(&b, 7);
	memset(s->span_id, 1, 8);
	s->name = slice_make("bad\xff utf8\n", 10);
	s->kind = 42;
	json_t *doc = write_parse(&b);
	CHECK(doc && json_array_size(doc) == 1);
	json_t *j = json_array_get(doc, 0);
	CHECK(!json_object_get(j, "localEndpoint"));
	CHECK(!json_object_get(j, "kind"));
	CHECK(!json_object_get(j, "timestamp"));
	CHECK_STR(json_string_value(json_object_get(j, "traceId")), "0000000000000000");
	CHECK_STR(json_string_value(json_object_get(j, "name")), "bad\xef\xbf\xbd utf8\n");
	json_decref(doc);

	/* an empty batch is an empty list; a capped buffer keeps its error */
	span_batch_init(&b, &a);
	doc = write_parse(&b);
	CHECK(doc && json_array_size(doc) == 0);
	json_decref(doc);
	build_otlp(&b);
	struct buf small;
	buf_init(&small, 64);
	struct json jw;
	json_init(&jw, &small);
	zipkin_json_write_spans(&jw, &b);
	CHECK(small.err != 0);
	buf_free(&small);

	/* bad ports are left out; an ipv6 host address goes to ipv6 */
	span_batch_init(&b, &a);
	struct resource *r = span_batch_add_resource(&b);
	r->attrs.items = arena_array(&a, 2, sizeof(struct attr));
	r->attrs.n = 2;
	str_attr(&r->attrs.items[0], "net.host.ip", "fe80::1");
	str_attr(&r->attrs.items[1], "net.host.port", "99999");
	span_batch_add_scope(&b, 0);
	s = span_batch_add_span(&b, 0);
	s->attrs.items = arena_array(&a, 2, sizeof(struct attr));
	s->attrs.n = 2;
	str_attr(&s->attrs.items[0], "peer.service", "db");
	s->attrs.items[1].key = SLICE_LIT("net.peer.port");
	s->attrs.items[1].value.type = ANY_INT;
	s->attrs.items[1].value.u.i = 0;
	doc = write_parse(&b);
	CHECK(doc);
	j = json_array_get(doc, 0);
	json_t *local = json_object_get(j, "localEndpoint");
	CHECK_STR(json_string_value(json_object_get(local, "serviceName")), "unknown_service");
	CHECK_STR(json_string_value(json_object_get(local, "ipv6")), "fe80::1");
	CHECK(!json_object_get(local, "port"));
	json_t *remote = json_object_get(j, "remoteEndpoint");
	CHECK_STR(json_string_value(json_object_get(remote, "serviceName")), "db");
	CHECK(!json_object_get(remote, "port"));
	CHECK(!json_object_get(j, "tags"));
	json_decref(doc);
	arena_reset(&a);
}
