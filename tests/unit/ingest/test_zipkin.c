/* Unit tests of the Zipkin v2 JSON decoder: the mapping onto the OTLP model
 * (ids, kinds, times, endpoints, annotations, tags, otel.* tags) and
 * malformed input. */
#include "../../testlib.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "ingest/zipkin.h"

struct zdec {
	struct arena arena;
	struct span_batch b;
	struct decode_error err;
	int rc;
};

static void zdec_run_cap(struct zdec *d, const char *json, size_t cap)
{
	arena_init(&d->arena, cap);
	span_batch_init(&d->b, &d->arena);
	memset(&d->err, 0, sizeof d->err);
	d->rc = zipkin_decode_spans(slice_cstr(json), &d->b, &d->err);
}

static void zdec_run(struct zdec *d, const char *json)
{
	arena_init(&d->arena, 0);
	span_batch_init(&d->b, &d->arena);
	memset(&d->err, 0, sizeof d->err);
	d->rc = zipkin_decode_spans(slice_cstr(json), &d->b, &d->err);
}

static void zdec_free(struct zdec *d)
{
	arena_reset(&d->arena);
}

/* A string attribute of list equals want. */
static bool str_attr_is(const struct attr_list *l, const char *key, const char *want)
{
	const struct attr *a = attr_find(l, key);
	return a && a->value.type == ANY_STRING && slice_eq_cstr(a->value.u.str, want);
}

static bool int_attr_is(const struct attr_list *l, const char *key, int64_t want)
{
	const struct attr *a = attr_find(l, key);
	return a && a->value.type == ANY_INT && a->value.u.i == want;
}

static const struct scope *scope_of(const struct zdec *d, const struct span *s)
{
	return &d->b.scopes[s->scope];
}

TEST(zipkin_maps_every_field)
{
	struct zdec d;
	zdec_run(&d, "[{\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"id\":\"eee19b7ec3c1b174\","
		     "\"parentId\":\"EEE19B7EC3C1B173\",\"name\":\"get /api\",\"kind\":\"SERVER\","
		     "\"timestamp\":1544712660000000,\"duration\":1500,\"debug\":true,\"shared\":true,"
		     "\"localEndpoint\":{\"serviceName\":\"frontend\",\"ipv4\":\"10.0.0.1\",\"port\":8080},"
		     "\"remoteEndpoint\":{\"serviceName\":\"backend\",\"ipv6\":\"2001:db8::1\",\"port\":9000},"
		     "\"annotations\":[{\"timestamp\":1544712660000100,\"value\":\"ws\"},"
		     "{\"timestamp\":1544712660000200,\"value\":\"wr\"}],"
		     "\"tags\":{\"http.method\":\"GET\",\"http.path\":\"/api\"},\"futureField\":[1]}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 1);
	CHECK_INT(d.b.n_resources, ==, 1);
	CHECK_INT(d.b.n_scopes, ==, 1);
	const struct span *s = &d.b.spans[0];
	static const uint8_t tid[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
					0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
	CHECK(memcmp(s->trace_id, tid, 16) == 0);
	CHECK(memcmp(s->span_id, "\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74", 8) == 0);
	CHECK(s->has_parent);
	CHECK(memcmp(s->parent_span_id, "\xee\xe1\x9b\x7e\xc3\xc1\xb1\x73", 8) == 0);
	CHECK(s->invalid_reason == NULL);
	CHECK(span_invalid_reason(s) == NULL);
	CHECK_SLICE(s->name, "get /api");
	CHECK_INT(s->kind, ==, SPAN_KIND_SERVER);
	CHECK_INT(s->start_unix_ns, ==, 1544712660000000000LL);
	CHECK_INT(s->end_unix_ns, ==, 1544712660001500000LL);
	CHECK_INT(s->status_code, ==, STATUS_UNSET);
	CHECK_INT(s->n_events, ==, 2);
	CHECK_SLICE(s->events[0].name, "ws");
	CHECK_INT(s->events[0].time_unix_ns, ==, 1544712660000100000LL);
	CHECK_SLICE(s->events[1].name, "wr");
	CHECK_INT(s->events[1].time_unix_ns, ==, 1544712660000200000LL);
	CHECK_INT(s->attrs.n, ==, 7);
	CHECK_SLICE(s->attrs.items[0].key, "http.method");
	CHECK(str_attr_is(&s->attrs, "http.method", "GET"));
	CHECK(str_attr_is(&s->attrs, "http.path", "/api"));
	CHECK(str_attr_is(&s->attrs, "peer.service", "backend"));
	CHECK(str_attr_is(&s->attrs, "net.peer.ip", "2001:db8::1"));
	CHECK(int_attr_is(&s->attrs, "net.peer.port", 9000));
	const struct attr *a = attr_find(&s->attrs, "zipkin.debug");
	CHECK(a && a->value.type == ANY_BOOL && a->value.u.b);
	a = attr_find(&s->attrs, "zipkin.shared");
	CHECK(a && a->value.type == ANY_BOOL && a->value.u.b);

	const struct resource *r = span_batch_resource_of(&d.b, s);
	CHECK_SLICE(resource_service_name(r), "frontend");
	CHECK(str_attr_is(&r->attrs, "net.host.ip", "10.0.0.1"));
	CHECK(int_attr_is(&r->attrs, "net.host.port", 8080));
	CHECK_INT(r->attrs.n, ==, 3);
	CHECK_SLICE(scope_of(&d, s)->name, "zipkin");
	CHECK_INT(scope_of(&d, s)->version.len, ==, 0);
	zdec_free(&d);
}

TEST(zipkin_minimal_span_and_defaults)
{
	struct zdec d;
	zdec_run(&d, "[{\"traceId\":\"0000000000000001\",\"id\":\"0000000000000002\"}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 1);
	const struct span *s = &d.b.spans[0];
	static const uint8_t tid[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	CHECK(memcmp(s->trace_id, tid, 16) == 0);
	CHECK_INT(s->span_id[7], ==, 2);
	CHECK(!s->has_parent);
	CHECK_INT(s->kind, ==, SPAN_KIND_INTERNAL);
	CHECK_INT(s->start_unix_ns, ==, 0);
	CHECK_INT(s->end_unix_ns, ==, 0);
	CHECK_INT(s->attrs.n, ==, 0);
	CHECK_INT(s->n_events, ==, 0);
	CHECK(s->invalid_reason == NULL);
	const struct resource *r = span_batch_resource_of(&d.b, s);
	CHECK_INT(r->attrs.n, ==, 1);
	CHECK_SLICE(resource_service_name(r), "unknown_service");
	zdec_free(&d);

	/* an empty list, nulls as absent */
	zdec_run(&d, "[]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 0);
	zdec_free(&d);
	zdec_run(&d, "[null,{\"traceId\":\"0000000000000001\",\"id\":\"0000000000000002\",\"name\":null,"
		     "\"kind\":null,\"timestamp\":null,\"tags\":null,\"annotations\":null,\"parentId\":null,"
		     "\"localEndpoint\":null,\"remoteEndpoint\":{\"serviceName\":null,\"port\":null},"
		     "\"debug\":null,\"shared\":false}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 1);
	CHECK_INT(d.b.spans[0].attrs.n, ==, 0);
	CHECK_INT(d.b.spans[0].kind, ==, SPAN_KIND_INTERNAL);
	zdec_free(&d);
}

TEST(zipkin_kind_mapping)
{
	struct zdec d;
	zdec_run(&d, "[{\"traceId\":\"01\",\"id\":\"02\",\"kind\":\"CLIENT\"},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"kind\":\"SERVER\"},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"kind\":\"PRODUCER\"},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"kind\":\"CONSUMER\"},"
		     "{\"traceId\":\"01\",\"id\":\"02\"}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 5);
	CHECK_INT(d.b.spans[0].kind, ==, SPAN_KIND_CLIENT);
	CHECK_INT(d.b.spans[1].kind, ==, SPAN_KIND_SERVER);
	CHECK_INT(d.b.spans[2].kind, ==, SPAN_KIND_PRODUCER);
	CHECK_INT(d.b.spans[3].kind, ==, SPAN_KIND_CONSUMER);
	CHECK_INT(d.b.spans[4].kind, ==, SPAN_KIND_INTERNAL);
	zdec_free(&d);
	zdec_run(&d, "[{\"kind\":\"CLIENT\"},{\"kind\":\"server\"}]");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK_STR(d.err.msg, "[1].kind: expected CLIENT, SERVER, PRODUCER or CONSUMER");
	zdec_free(&d);
	zdec_run(&d, "[{\"kind\":2}]");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK_STR(d.err.msg, "[0].kind: expected a string");
	zdec_free(&d);
}

TEST(zipkin_ids)
{
	struct zdec d;
	zdec_run(&d, "[{\"id\":\"0000000000000002\"},"
		     "{\"traceId\":\"0000000000000001\"},"
		     "{\"traceId\":\"000000000000001\",\"id\":\"0000000000000002\"},"
		     "{\"traceId\":\"0000000000000000000000000000000x\",\"id\":\"0000000000000002\"},"
		     "{\"traceId\":\"0000000000000001\",\"id\":\"00000000000000020\"},"
		     "{\"traceId\":\"0000000000000001\",\"id\":\"0000000000000002\",\"parentId\":\"xyz\"},"
		     "{\"traceId\":\"0000000000000001\",\"id\":\"0000000000000002\",\"parentId\":\"\"},"
		     "{\"traceId\":\"AbCdEf0123456789aBcDeF0123456789\",\"id\":\"ABCDEF0123456789\"},"
		     "{\"traceId\":\"0000000000000000\",\"id\":\"0000000000000002\"}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 9);
	CHECK_STR(d.b.spans[0].invalid_reason, "missing trace id");
	CHECK_STR(d.b.spans[1].invalid_reason, "missing span id");
	CHECK_STR(d.b.spans[2].invalid_reason, "trace id is not 16 or 32 hex digits");
	CHECK_STR(d.b.spans[3].invalid_reason, "trace id is not 16 or 32 hex digits");
	CHECK_STR(d.b.spans[4].invalid_reason, "span id is not 16 hex digits");
	CHECK_STR(d.b.spans[5].invalid_reason, "parent id is not 16 hex digits");
	CHECK(!d.b.spans[5].has_parent);
	CHECK(d.b.spans[6].invalid_reason == NULL);
	CHECK(!d.b.spans[6].has_parent);
	CHECK(d.b.spans[7].invalid_reason == NULL);
	CHECK_INT(d.b.spans[7].trace_id[0], ==, 0xab);
	CHECK_INT(d.b.spans[7].trace_id[15], ==, 0x89);
	CHECK_INT(d.b.spans[7].span_id[0], ==, 0xab);
	/* all-zero ids are left to span_invalid_reason */
	CHECK(d.b.spans[8].invalid_reason == NULL);
	CHECK(span_invalid_reason(&d.b.spans[8]) != NULL);
	zdec_free(&d);
	zdec_run(&d, "[{\"traceId\":1,\"id\":\"0000000000000002\"}]");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK_STR(d.err.msg, "[0].traceId: expected a string");
	zdec_free(&d);
}

TEST(zipkin_one_resource_per_local_endpoint)
{
	struct zdec d;
	zdec_run(&d, "[{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"a\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"b\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"a\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"a\",\"port\":80}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"a\",\"ipv6\":\"::1\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{}},"
		     "{\"traceId\":\"01\",\"id\":\"02\"}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 7);
	CHECK_INT(d.b.n_resources, ==, 5);
	CHECK_INT(d.b.n_scopes, ==, 5);
	const struct span *sp = d.b.spans;
	CHECK_INT(sp[0].scope, ==, sp[2].scope);
	CHECK(sp[0].scope != sp[1].scope);
	CHECK(sp[0].scope != sp[3].scope);
	CHECK_INT(sp[5].scope, ==, sp[6].scope);
	CHECK_SLICE(resource_service_name(span_batch_resource_of(&d.b, &sp[1])), "b");
	const struct resource *r = span_batch_resource_of(&d.b, &sp[4]);
	CHECK(str_attr_is(&r->attrs, "net.host.ip", "::1"));
	CHECK(attr_find(&r->attrs, "net.host.port") == NULL);
	r = span_batch_resource_of(&d.b, &sp[3]);
	CHECK(int_attr_is(&r->attrs, "net.host.port", 80));
	CHECK_SLICE(resource_service_name(span_batch_resource_of(&d.b, &sp[6])), "unknown_service");
	zdec_free(&d);
}

TEST(zipkin_many_endpoints_stay_distinct)
{
	struct buf b;
	buf_init(&b, 1 << 22);
	buf_append_byte(&b, '[');
	for (int i = 0; i < 6000; i++)
		buf_printf(&b, "%s{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"svc-%d\"},"
			       "\"tags\":{\"otel.scope.name\":\"lib-%d\"}}",
			   i ? "," : "", i % 1000, i % 3);
	buf_append_cstr(&b, "]");
	buf_append_byte(&b, 0);
	struct zdec d;
	zdec_run(&d, (const char *)b.p);
	buf_free(&b);
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_spans, ==, 6000);
	CHECK_INT(d.b.n_resources, ==, 1000);
	CHECK_INT(d.b.n_scopes, ==, 3000);
	for (uint32_t i = 0; i < 6000; i++) {
		char want[32];
		snprintf(want, sizeof want, "svc-%u", i % 1000);
		CHECK_SLICE(resource_service_name(span_batch_resource_of(&d.b, &d.b.spans[i])), want);
		snprintf(want, sizeof want, "lib-%u", i % 3);
		CHECK_SLICE(scope_of(&d, &d.b.spans[i])->name, want);
		CHECK_INT(d.b.spans[i].scope, ==, d.b.spans[i % 3000].scope);
	}
	zdec_free(&d);
}

TEST(zipkin_error_tag_sets_status)
{
	struct zdec d;
	zdec_run(&d, "[{\"traceId\":\"01\",\"id\":\"02\",\"tags\":{\"error\":\"connection refused\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"tags\":{\"error\":\"\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"tags\":{\"http.status_code\":\"200\"}}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.spans[0].status_code, ==, STATUS_ERROR);
	CHECK_SLICE(d.b.spans[0].status_message, "connection refused");
	CHECK(str_attr_is(&d.b.spans[0].attrs, "error", "connection refused"));
	CHECK_INT(d.b.spans[1].status_code, ==, STATUS_ERROR);
	CHECK_INT(d.b.spans[1].status_message.len, ==, 0);
	CHECK_INT(d.b.spans[2].status_code, ==, STATUS_UNSET);
	zdec_free(&d);
}

TEST(zipkin_otel_tags_map_to_status_and_scope)
{
	struct zdec d;
	zdec_run(&d, "[{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"s\"},"
		     "\"tags\":{\"otel.status_code\":\"ERROR\",\"error\":\"timeout\",\"keep\":\"me\","
		     "\"otel.scope.name\":\"io.clew.db\",\"otel.scope.version\":\"2.0\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"s\"},"
		     "\"tags\":{\"otel.status_code\":\"OK\",\"otel.library.name\":\"io.clew.db\","
		     "\"otel.library.version\":\"2.0\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"s\"},"
		     "\"tags\":{\"otel.status_code\":\"ERROR\",\"otel.status_description\":\"deadline\","
		     "\"otel.library.name\":\"old\",\"otel.scope.name\":\"new\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"s\"}},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"localEndpoint\":{\"serviceName\":\"s\"},"
		     "\"tags\":{\"otel.status_code\":\"UNSET\",\"otel.scope.name\":\"io.clew.db\"}}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.n_resources, ==, 1);
	CHECK_INT(d.b.n_scopes, ==, 4);
	const struct span *s = d.b.spans;
	CHECK_INT(s[0].status_code, ==, STATUS_ERROR);
	CHECK_SLICE(s[0].status_message, "timeout");
	CHECK_INT(s[0].attrs.n, ==, 2);
	CHECK(str_attr_is(&s[0].attrs, "error", "timeout"));
	CHECK(str_attr_is(&s[0].attrs, "keep", "me"));
	CHECK(attr_find(&s[0].attrs, "otel.status_code") == NULL);
	CHECK(attr_find(&s[0].attrs, "otel.scope.name") == NULL);
	CHECK_SLICE(scope_of(&d, &s[0])->name, "io.clew.db");
	CHECK_SLICE(scope_of(&d, &s[0])->version, "2.0");
	CHECK_INT(s[1].status_code, ==, STATUS_OK);
	CHECK_INT(s[1].attrs.n, ==, 0);
	CHECK_INT(s[1].scope, ==, s[0].scope);
	CHECK_INT(s[2].status_code, ==, STATUS_ERROR);
	CHECK_SLICE(s[2].status_message, "deadline");
	CHECK_INT(s[2].attrs.n, ==, 0);
	CHECK_SLICE(scope_of(&d, &s[2])->name, "new");
	CHECK_INT(scope_of(&d, &s[2])->version.len, ==, 0);
	CHECK_SLICE(scope_of(&d, &s[3])->name, "zipkin");
	CHECK_INT(s[4].status_code, ==, STATUS_UNSET);
	CHECK_SLICE(scope_of(&d, &s[4])->name, "io.clew.db");
	CHECK_INT(scope_of(&d, &s[4])->version.len, ==, 0);
	CHECK(s[4].scope != s[0].scope);
	zdec_free(&d);
}

TEST(zipkin_tag_values_of_other_types)
{
	struct zdec d;
	zdec_run(&d, "[{\"traceId\":\"01\",\"id\":\"02\",\"tags\":{\"n\":42,\"b\":true,\"f\":1.5,\"z\":null,"
		     "\"s\":\"a\\u0000b\"}}]");
	CHECK_INT(d.rc, ==, 0);
	const struct attr_list *l = &d.b.spans[0].attrs;
	CHECK_INT(l->n, ==, 4);
	CHECK(str_attr_is(l, "n", "42"));
	CHECK(str_attr_is(l, "b", "true"));
	CHECK(str_attr_is(l, "f", "1.5"));
	const struct attr *a = attr_find(l, "s");
	CHECK(a && a->value.u.str.len == 3 && memcmp(a->value.u.str.p, "a\0b", 3) == 0);
	zdec_free(&d);
	zdec_run(&d, "[{\"tags\":{\"k\":[1]}}]");
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	CHECK_STR(d.err.msg, "[0].tags: value of \"k\": expected a string");
	zdec_free(&d);
}

TEST(zipkin_times)
{
	struct zdec d;
	zdec_run(&d, "[{\"traceId\":\"01\",\"id\":\"02\",\"timestamp\":\"1000\",\"duration\":2.0},"
		     "{\"traceId\":\"01\",\"id\":\"02\",\"timestamp\":9223372036854775,\"duration\":0}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.spans[0].start_unix_ns, ==, 1000000);
	CHECK_INT(d.b.spans[0].end_unix_ns, ==, 1002000);
	CHECK_INT(d.b.spans[1].start_unix_ns, ==, 9223372036854775000LL);
	zdec_free(&d);
	/* fractional microseconds, as the OpenTelemetry Zipkin exporter sends them */
	zdec_run(&d, "[{\"traceId\":\"01\",\"id\":\"02\",\"timestamp\":1795312040123456.75,\"duration\":1.5}]");
	CHECK_INT(d.rc, ==, 0);
	CHECK_INT(d.b.spans[0].start_unix_ns, ==, 1795312040123456750LL);
	CHECK_INT(d.b.spans[0].end_unix_ns, ==, 1795312040123458250LL);
	zdec_free(&d);
	static const struct {
		const char *json;
		const char *msg;
	} bad[] = {
		{"[{\"timestamp\":9223372036854776}]", "[0].timestamp: microseconds out of range"},
		{"[{\"timestamp\":-1}]", "[0].timestamp: expected a non-negative number of microseconds"},
		{"[{\"timestamp\":\"soon\"}]", "[0].timestamp: expected a non-negative number of microseconds"},
		{"[{},{\"duration\":true}]", "[1].duration: expected a non-negative number of microseconds"},
		{"[{\"timestamp\":9223372036854775,\"duration\":1}]", "[0].duration: end time out of range"},
		{"[{\"annotations\":[{\"timestamp\":\"x\",\"value\":\"v\"}]}]",
		 "[0].annotations[0].timestamp: expected a non-negative number of microseconds"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		zdec_run(&d, bad[i].json);
		CHECK_INT(d.rc, ==, CLEW_EPARSE);
		CHECK_STR(d.err.msg, bad[i].msg);
		zdec_free(&d);
	}
}

TEST(zipkin_wrong_types_and_bad_json)
{
	static const struct {
		const char *json;
		const char *msg;
	} cases[] = {
		{"{}", "expected a JSON array of Zipkin v2 spans"},
		{"[1]", "[0]: expected a span object"},
		{"[{\"tags\":[\"a\"]}]", "[0].tags: expected an object of string values"},
		{"[{\"annotations\":{}}]", "[0].annotations: expected an array"},
		{"[{\"annotations\":[1]}]", "[0].annotations[0]: expected an object"},
		{"[{\"annotations\":[{\"value\":3}]}]", "[0].annotations[0].value: expected a string"},
		{"[{\"localEndpoint\":\"svc\"}]", "[0].localEndpoint: expected an object"},
		{"[{\"localEndpoint\":{\"serviceName\":1}}]", "[0].localEndpoint.serviceName: expected a string"},
		{"[{\"remoteEndpoint\":{\"port\":\"80\"}}]", "[0].remoteEndpoint.port: expected a port number"},
		{"[{\"remoteEndpoint\":{\"port\":70000}}]", "[0].remoteEndpoint.port: expected a port number"},
		{"[{\"debug\":\"yes\"}]", "[0].debug: expected true or false"},
		{"[{\"name\":{}}]", "[0].name: expected a string"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct zdec d;
		zdec_run(&d, cases[i].json);
		CHECK_INT(d.rc, ==, CLEW_EPARSE);
		CHECK_STR(d.err.msg, cases[i].msg);
		zdec_free(&d);
	}
	static const char *const bad_json[] = {
		"", "[", "[{\"traceId\":\"01\"", "[{}]]", "[{\"timestamp\":99999999999999999999}]",
		"[{\"name\":\"\xc3\x28\"}]", "[\"\\udc00\"]",
	};
	for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
		struct zdec d;
		zdec_run(&d, bad_json[i]);
		CHECK_INT(d.rc, ==, CLEW_EPARSE);
		CHECK(strstr(d.err.msg, "invalid JSON") == d.err.msg);
		zdec_free(&d);
	}
	/* a nesting bomb */
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 50000; i++)
		buf_append_byte(&b, '[');
	buf_append_byte(&b, 0);
	struct zdec d;
	zdec_run(&d, (const char *)b.p);
	buf_free(&b);
	CHECK_INT(d.rc, ==, CLEW_EPARSE);
	zdec_free(&d);
}

TEST(zipkin_arena_exhaustion)
{
	struct buf b;
	buf_init(&b, 1 << 22);
	buf_append_byte(&b, '[');
	for (int i = 0; i < 2000; i++)
		buf_printf(&b, "%s{\"traceId\":\"01\",\"id\":\"02\",\"name\":\"a span with a long name %d\","
			       "\"localEndpoint\":{\"serviceName\":\"svc-%d\"}}",
			   i ? "," : "", i, i);
	buf_append_cstr(&b, "]");
	buf_append_byte(&b, 0);
	struct zdec d;
	zdec_run_cap(&d, (const char *)b.p, 64 * 1024);
	buf_free(&b);
	CHECK_INT(d.rc, ==, CLEW_ENOMEM);
	zdec_free(&d);
}
