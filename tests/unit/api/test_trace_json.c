/* Unit tests of the trace writers: OTLP/JSON (OTLP and Tempo flavours), the
 * Jaeger UI trace and clew's native shape, each parsed back with jansson and
 * checked field by field, with escaping and UTF-8 repair. */
#include "../../testlib.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

#include "api/trace_json.h"
#include "base/buf.h"
#include "base/err.h"

static const uint8_t TID[16] = {0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
				0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c};
static const uint8_t LINK_TID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void sid(uint8_t id[8], uint8_t n)
{
	static const uint8_t base[8] = {0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x00};
	memcpy(id, base, 8);
	id[7] = n;
}

static struct attr *attrs(struct arena *a, uint32_t n)
{
	return arena_array(a, n, sizeof(struct attr));
}

static void str_attr(struct attr *at, const char *k, struct slice v)
{
	at->key = slice_cstr(k);
	at->value.type = ANY_STRING;
	at->value.u.str = v;
}

/* One trace: resources frontend (0), db (1), an unused resource (2) and a
 * copy of frontend (3); the root span on frontend, a client child with an
 * error and every attribute type, a db span, and a second frontend span
 * under resource 3. */
static void build(struct span_batch *b)
{
	struct arena *a = b->arena;
	const char *svc[] = {"frontend", "db", "unused", "frontend"};
	for (int r = 0; r < 4; r++) {
		struct resource *res = span_batch_add_resource(b);
		res->attrs.items = attrs(a, 2);
		res->attrs.n = 2;
		str_attr(&res->attrs.items[0], "service.name", slice_cstr(svc[r]));
		str_attr(&res->attrs.items[1], "host.name", r == 1 ? SLICE_LIT("db-1") : SLICE_LIT("web-1"));
		if (r == 0) {
			res->schema_url = SLICE_LIT("https://opentelemetry.io/schemas/1.21.0");
			res->dropped_attrs = 2;
		}
		struct scope *sc = span_batch_add_scope(b, (uint32_t)r);
		sc->name = SLICE_LIT("io.opentelemetry.http");
		if (r == 0) {
			sc->version = SLICE_LIT("1.2.3");
			sc->attrs.items = attrs(a, 1);
			sc->attrs.n = 1;
			str_attr(&sc->attrs.items[0], "lib", SLICE_LIT("x"));
			sc->schema_url = SLICE_LIT("https://example.com/s");
		}
	}
	/* span 0: root, server, ok */
	struct span *s = span_batch_add_span(b, 0);
	memcpy(s->trace_id, TID, 16);
	sid(s->span_id, 1);
	s->kind = SPAN_KIND_SERVER;
	s->status_code = STATUS_OK;
	s->start_unix_ns = 1700000000000000000ll;
	s->end_unix_ns = 1700000000250000000ll;
	s->name = SLICE_LIT("GET /cart");
	s->flags = 0x301;
	s->trace_state = SLICE_LIT("vendor=1");
	/* span 1: client child, error, every attribute type, event, link */
	s = span_batch_add_span(b, 0);
	memcpy(s->trace_id, TID, 16);
	sid(s->span_id, 2);
	sid(s->parent_span_id, 1);
	s->has_parent = true;
	s->kind = SPAN_KIND_CLIENT;
	s->status_code = STATUS_ERROR;
	s->status_message = SLICE_LIT("timeout \"db\"");
	s->start_unix_ns = 1700000000010000000ll;
	s->end_unix_ns = 1700000000210500000ll;
	s->name = slice_make("q\"uo\\te\n\x01\xff\xc3\xa9", 12);
	s->dropped_attrs = 3;
	s->dropped_events = 4;
	s->dropped_links = 5;
	struct attr *at = attrs(a, 8);
	str_attr(&at[0], "s", SLICE_LIT("v"));
	at[1].key = SLICE_LIT("b");
	at[1].value.type = ANY_BOOL;
	at[1].value.u.b = false;
	at[2].key = SLICE_LIT("i");
	at[2].value.type = ANY_INT;
	at[2].value.u.i = -9007199254740993ll;
	at[3].key = SLICE_LIT("d");
	at[3].value.type = ANY_DOUBLE;
	at[3].value.u.d = 0.25;
	at[4].key = SLICE_LIT("arr");
	at[4].value.type = ANY_ARRAY;
	struct any_value *items = arena_array(a, 3, sizeof *items);
	items[0].type = ANY_STRING;
	items[0].u.str = SLICE_LIT("a");
	items[1].type = ANY_INT;
	items[1].u.i = 7;
	items[2].type = ANY_KVLIST;
	items[2].u.kvlist.items = attrs(a, 1);
	items[2].u.kvlist.n = 1;
	str_attr(&items[2].u.kvlist.items[0], "k", SLICE_LIT("v"));
	at[4].value.u.array.items = items;
	at[4].value.u.array.n = 3;
	at[5].key = SLICE_LIT("bytes");
	at[5].value.type = ANY_BYTES;
	at[5].value.u.str = slice_make("\xde\xad\xbe\xef", 4);
	at[6].key = SLICE_LIT("nan");
	at[6].value.type = ANY_DOUBLE;
	at[6].value.u.d = NAN;
	at[7].key = SLICE_LIT("empty");
	at[7].value.type = ANY_EMPTY;
	s->attrs.items = at;
	s->attrs.n = 8;
	s->events = arena_array(a, 1, sizeof *s->events);
	s->n_events = 1;
	s->events[0].time_unix_ns = 1700000000200000000ll;
	s->events[0].name = SLICE_LIT("exception");
	s->events[0].attrs.items = attrs(a, 1);
	s->events[0].attrs.n = 1;
	str_attr(&s->events[0].attrs.items[0], "exception.type", SLICE_LIT("Timeout"));
	s->links = arena_array(a, 1, sizeof *s->links);
	s->n_links = 1;
	memcpy(s->links[0].trace_id, LINK_TID, 16);
	sid(s->links[0].span_id, 9);
	s->links[0].trace_state = SLICE_LIT("l=1");
	s->links[0].flags = 1;
	s->links[0].dropped_attrs = 6;
	/* span 2: db server under span 1 */
	s = span_batch_add_span(b, 1);
	memcpy(s->trace_id, TID, 16);
	sid(s->span_id, 3);
	sid(s->parent_span_id, 2);
	s->has_parent = true;
	s->kind = SPAN_KIND_SERVER;
	s->start_unix_ns = 1700000000020000000ll;
	s->end_unix_ns = 1700000000200000000ll;
	s->name = SLICE_LIT("SELECT");
	/* span 3: internal on the copy of frontend's resource */
	s = span_batch_add_span(b, 3);
	memcpy(s->trace_id, TID, 16);
	sid(s->span_id, 4);
	sid(s->parent_span_id, 1);
	s->has_parent = true;
	s->kind = SPAN_KIND_INTERNAL;
	s->start_unix_ns = 1700000000005000000ll;
	s->end_unix_ns = 1700000000006000000ll;
	s->name = SLICE_LIT("render");
}

static json_t *parse(const struct buf *b)
{
	json_error_t e;
	if (b->err) {
		fprintf(stderr, "writer error %d\n", b->err);
		return NULL;
	}
	json_t *v = json_loadb((const char *)b->p, b->len, JSON_DECODE_ANY, &e);
	if (!v)
		fprintf(stderr, "json parse: %s at %d\n", e.text, e.position);
	return v;
}

/* Path lookup: "a.b.0.c" walks objects by key and arrays by index. */
static json_t *at_path(json_t *v, const char *path)
{
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s", path);
	char *save = NULL;
	for (char *tok = strtok_r(tmp, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, strtoul(tok, NULL, 10));
		else
			v = json_object_get(v, tok);
	}
	return v;
}

static const char *str_at(json_t *v, const char *path)
{
	json_t *x = at_path(v, path);
	return json_is_string(x) ? json_string_value(x) : "<missing>";
}

static long long int_at(json_t *v, const char *path)
{
	json_t *x = at_path(v, path);
	return json_is_integer(x) ? json_integer_value(x) : -424242;
}

/* The attribute value object of key in a KeyValue array. */
static json_t *kv_value(json_t *arr, const char *key)
{
	size_t i;
	json_t *kv;
	json_array_foreach(arr, i, kv)
	{
		if (!strcmp(str_at(kv, "key"), key))
			return json_object_get(kv, "value");
	}
	return NULL;
}

/* The Jaeger tag object of key in a tag array. */
static json_t *tag(json_t *arr, const char *key)
{
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t)
	{
		if (!strcmp(str_at(t, "key"), key))
			return t;
	}
	return NULL;
}

TEST(trace_json_otlp_flavor)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	build(&b);
	struct buf out;
	buf_init(&out, 1 << 20);
	trace_json_write_otlp(&b, &out, TRACE_JSON_OTLP);
	json_t *v = parse(&out);
	CHECK(v != NULL);
	/* the unused resource is left out */
	CHECK(json_is_array(v));
	CHECK_INT(json_array_size(v), ==, 3);
	CHECK_STR(str_at(v, "0.resource.attributes.0.key"), "service.name");
	CHECK_STR(str_at(v, "0.resource.attributes.0.value.stringValue"), "frontend");
	CHECK_INT(int_at(v, "0.resource.droppedAttributesCount"), ==, 2);
	CHECK_STR(str_at(v, "0.schemaUrl"), "https://opentelemetry.io/schemas/1.21.0");
	CHECK(at_path(v, "1.schemaUrl") == NULL);
	CHECK(at_path(v, "1.resource.droppedAttributesCount") == NULL);
	CHECK_STR(str_at(v, "0.scopeSpans.0.scope.name"), "io.opentelemetry.http");
	CHECK_STR(str_at(v, "0.scopeSpans.0.scope.version"), "1.2.3");
	CHECK_STR(str_at(v, "0.scopeSpans.0.scope.attributes.0.value.stringValue"), "x");
	CHECK_STR(str_at(v, "0.scopeSpans.0.schemaUrl"), "https://example.com/s");
	CHECK(at_path(v, "1.scopeSpans.0.scope.version") == NULL);
	CHECK_STR(str_at(v, "2.resource.attributes.0.value.stringValue"), "frontend");

	json_t *spans = at_path(v, "0.scopeSpans.0.spans");
	CHECK_INT(json_array_size(spans), ==, 2);
	json_t *root = json_array_get(spans, 0), *cl = json_array_get(spans, 1);
	CHECK_STR(str_at(root, "traceId"), "0af7651916cd43dd8448eb211c80319c");
	CHECK_STR(str_at(root, "spanId"), "b7ad6b7169203301");
	CHECK(json_object_get(root, "parentSpanId") == NULL);
	CHECK_STR(str_at(root, "traceState"), "vendor=1");
	CHECK_INT(int_at(root, "flags"), ==, 0x301);
	CHECK_INT(int_at(root, "kind"), ==, 2);
	CHECK_STR(str_at(root, "startTimeUnixNano"), "1700000000000000000");
	CHECK_STR(str_at(root, "endTimeUnixNano"), "1700000000250000000");
	CHECK(json_object_get(root, "attributes") == NULL);
	CHECK(json_object_get(root, "events") == NULL);
	CHECK(json_object_get(root, "droppedAttributesCount") == NULL);
	CHECK_INT(int_at(root, "status.code"), ==, 1);
	CHECK(at_path(root, "status.message") == NULL);

	CHECK_STR(str_at(cl, "parentSpanId"), "b7ad6b7169203301");
	CHECK(json_object_get(cl, "traceState") == NULL);
	CHECK(json_object_get(cl, "flags") == NULL);
	CHECK_STR(str_at(cl, "name"), "q\"uo\\te\n\x01\xef\xbf\xbd\xc3\xa9");
	CHECK_INT(int_at(cl, "kind"), ==, 3);
	CHECK_INT(int_at(cl, "droppedAttributesCount"), ==, 3);
	CHECK_INT(int_at(cl, "droppedEventsCount"), ==, 4);
	CHECK_INT(int_at(cl, "droppedLinksCount"), ==, 5);
	CHECK_INT(int_at(cl, "status.code"), ==, 2);
	CHECK_STR(str_at(cl, "status.message"), "timeout \"db\"");
	json_t *at = json_object_get(cl, "attributes");
	CHECK_INT(json_array_size(at), ==, 8);
	CHECK_STR(str_at(kv_value(at, "s"), "stringValue"), "v");
	CHECK(json_is_false(json_object_get(kv_value(at, "b"), "boolValue")));
	CHECK_STR(str_at(kv_value(at, "i"), "intValue"), "-9007199254740993");
	CHECK(json_real_value(json_object_get(kv_value(at, "d"), "doubleValue")) == 0.25);
	CHECK_STR(str_at(kv_value(at, "arr"), "arrayValue.values.0.stringValue"), "a");
	CHECK_STR(str_at(kv_value(at, "arr"), "arrayValue.values.1.intValue"), "7");
	CHECK_STR(str_at(kv_value(at, "arr"), "arrayValue.values.2.kvlistValue.values.0.key"), "k");
	CHECK_STR(str_at(kv_value(at, "arr"), "arrayValue.values.2.kvlistValue.values.0.value.stringValue"), "v");
	CHECK_STR(str_at(kv_value(at, "bytes"), "bytesValue"), "3q2+7w==");
	CHECK_STR(str_at(kv_value(at, "nan"), "doubleValue"), "NaN");
	CHECK(json_is_object(kv_value(at, "empty")));
	CHECK_INT(json_object_size(kv_value(at, "empty")), ==, 0);
	CHECK_STR(str_at(cl, "events.0.timeUnixNano"), "1700000000200000000");
	CHECK_STR(str_at(cl, "events.0.name"), "exception");
	CHECK_STR(str_at(cl, "events.0.attributes.0.value.stringValue"), "Timeout");
	CHECK(at_path(cl, "events.0.droppedAttributesCount") == NULL);
	CHECK_STR(str_at(cl, "links.0.traceId"), "0102030405060708090a0b0c0d0e0f10");
	CHECK_STR(str_at(cl, "links.0.spanId"), "b7ad6b7169203309");
	CHECK_STR(str_at(cl, "links.0.traceState"), "l=1");
	CHECK_INT(int_at(cl, "links.0.droppedAttributesCount"), ==, 6);
	CHECK_INT(int_at(cl, "links.0.flags"), ==, 1);
	CHECK(at_path(cl, "links.0.attributes") == NULL);

	json_t *db = at_path(v, "1.scopeSpans.0.spans.0");
	CHECK_STR(str_at(db, "name"), "SELECT");
	CHECK_INT(int_at(db, "status.code"), ==, 0);
	json_decref(v);
	buf_free(&out);
	arena_reset(&a);
}

TEST(trace_json_tempo_flavor)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	build(&b);
	struct buf out;
	buf_init(&out, 1 << 20);
	trace_json_write_otlp(&b, &out, TRACE_JSON_TEMPO);
	json_t *v = parse(&out);
	CHECK(v != NULL);
	json_t *root = at_path(v, "0.scopeSpans.0.spans.0"), *cl = at_path(v, "0.scopeSpans.0.spans.1");
	CHECK_STR(str_at(root, "traceId"), "CvdlGRbNQ92ESOshHIAxnA==");
	CHECK_STR(str_at(root, "spanId"), "t61rcWkgMwE=");
	CHECK_STR(str_at(root, "kind"), "SPAN_KIND_SERVER");
	CHECK_STR(str_at(root, "status.code"), "STATUS_CODE_OK");
	CHECK_STR(str_at(cl, "parentSpanId"), "t61rcWkgMwE=");
	CHECK_STR(str_at(cl, "kind"), "SPAN_KIND_CLIENT");
	CHECK_STR(str_at(cl, "status.code"), "STATUS_CODE_ERROR");
	CHECK_STR(str_at(cl, "links.0.traceId"), "AQIDBAUGBwgJCgsMDQ4PEA==");
	CHECK_STR(str_at(cl, "startTimeUnixNano"), "1700000000010000000");
	CHECK_STR(str_at(v, "1.scopeSpans.0.spans.0.status.code"), "STATUS_CODE_UNSET");
	CHECK_STR(str_at(v, "2.scopeSpans.0.spans.0.kind"), "SPAN_KIND_INTERNAL");
	json_decref(v);
	buf_free(&out);
	arena_reset(&a);
}

TEST(trace_json_jaeger)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	build(&b);
	struct buf out;
	buf_init(&out, 1 << 20);
	trace_json_write_jaeger(&b, &out);
	json_t *v = parse(&out);
	CHECK(v != NULL);
	CHECK_STR(str_at(v, "traceID"), "0af7651916cd43dd8448eb211c80319c");
	CHECK(json_is_null(json_object_get(v, "warnings")));
	json_t *spans = json_object_get(v, "spans");
	CHECK_INT(json_array_size(spans), ==, 4);
	json_t *root = json_array_get(spans, 0), *cl = json_array_get(spans, 1), *db = json_array_get(spans, 2);
	CHECK_STR(str_at(root, "traceID"), "0af7651916cd43dd8448eb211c80319c");
	CHECK_STR(str_at(root, "spanID"), "b7ad6b7169203301");
	CHECK_STR(str_at(root, "operationName"), "GET /cart");
	CHECK_INT(json_array_size(json_object_get(root, "references")), ==, 0);
	CHECK_INT(int_at(root, "startTime"), ==, 1700000000000000ll);
	CHECK_INT(int_at(root, "duration"), ==, 250000);
	CHECK_INT(int_at(root, "flags"), ==, 0x301);
	CHECK(json_is_null(json_object_get(root, "warnings")));
	json_t *tags = json_object_get(root, "tags");
	CHECK_STR(str_at(tag(tags, "span.kind"), "value"), "server");
	CHECK_STR(str_at(tag(tags, "otel.status_code"), "value"), "OK");
	CHECK(tag(tags, "error") == NULL);
	CHECK_STR(str_at(tag(tags, "otel.scope.name"), "value"), "io.opentelemetry.http");
	CHECK_STR(str_at(tag(tags, "otel.scope.version"), "value"), "1.2.3");
	CHECK_STR(str_at(tag(tags, "w3c.tracestate"), "value"), "vendor=1");

	CHECK_STR(str_at(cl, "references.0.refType"), "CHILD_OF");
	CHECK_STR(str_at(cl, "references.0.spanID"), "b7ad6b7169203301");
	CHECK_STR(str_at(cl, "references.0.traceID"), "0af7651916cd43dd8448eb211c80319c");
	CHECK_STR(str_at(cl, "references.1.refType"), "FOLLOWS_FROM");
	CHECK_STR(str_at(cl, "references.1.traceID"), "0102030405060708090a0b0c0d0e0f10");
	CHECK_INT(int_at(cl, "duration"), ==, 200500);
	tags = json_object_get(cl, "tags");
	CHECK_STR(str_at(tag(tags, "s"), "type"), "string");
	CHECK_STR(str_at(tag(tags, "b"), "type"), "bool");
	CHECK(json_is_false(json_object_get(tag(tags, "b"), "value")));
	CHECK_STR(str_at(tag(tags, "i"), "type"), "int64");
	CHECK_INT(int_at(tag(tags, "i"), "value"), ==, -9007199254740993ll);
	CHECK_STR(str_at(tag(tags, "d"), "type"), "float64");
	CHECK(json_real_value(json_object_get(tag(tags, "d"), "value")) == 0.25);
	CHECK_STR(str_at(tag(tags, "arr"), "type"), "string");
	CHECK_STR(str_at(tag(tags, "arr"), "value"), "[\"a\",7,{\"k\":\"v\"}]");
	CHECK_STR(str_at(tag(tags, "bytes"), "type"), "binary");
	CHECK_STR(str_at(tag(tags, "bytes"), "value"), "3q2+7w==");
	CHECK_STR(str_at(tag(tags, "span.kind"), "value"), "client");
	CHECK_STR(str_at(tag(tags, "otel.status_code"), "value"), "ERROR");
	CHECK(json_is_true(json_object_get(tag(tags, "error"), "value")));
	CHECK_STR(str_at(tag(tags, "error"), "type"), "bool");
	CHECK_STR(str_at(tag(tags, "otel.status_description"), "value"), "timeout \"db\"");
	CHECK_INT(int_at(cl, "logs.0.timestamp"), ==, 1700000000200000ll);
	CHECK_STR(str_at(cl, "logs.0.fields.0.key"), "event");
	CHECK_STR(str_at(cl, "logs.0.fields.0.value"), "exception");
	CHECK_STR(str_at(cl, "logs.0.fields.1.key"), "exception.type");
	CHECK_STR(str_at(cl, "logs.0.fields.1.value"), "Timeout");

	/* processes: frontend and its identical copy share p1; db is p2; the
	 * unused resource has no process */
	CHECK_STR(str_at(root, "processID"), "p1");
	CHECK_STR(str_at(cl, "processID"), "p1");
	CHECK_STR(str_at(db, "processID"), "p2");
	CHECK_STR(str_at(json_array_get(spans, 3), "processID"), "p1");
	json_t *procs = json_object_get(v, "processes");
	CHECK_INT(json_object_size(procs), ==, 2);
	CHECK_STR(str_at(procs, "p1.serviceName"), "frontend");
	CHECK_STR(str_at(procs, "p2.serviceName"), "db");
	CHECK_INT(json_array_size(at_path(procs, "p2.tags")), ==, 1);
	CHECK_STR(str_at(procs, "p2.tags.0.key"), "host.name");
	CHECK_STR(str_at(procs, "p2.tags.0.value"), "db-1");
	json_decref(v);
	buf_free(&out);
	arena_reset(&a);
}

TEST(trace_json_native)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	build(&b);
	struct buf out;
	buf_init(&out, 1 << 20);
	trace_json_write_native(&b, &out);
	json_t *v = parse(&out);
	CHECK(v != NULL);
	CHECK_STR(str_at(v, "traceId"), "0af7651916cd43dd8448eb211c80319c");
	CHECK_STR(str_at(v, "rootServiceName"), "frontend");
	CHECK_STR(str_at(v, "rootName"), "GET /cart");
	CHECK_STR(str_at(v, "startTimeUnixNano"), "1700000000000000000");
	CHECK_STR(str_at(v, "endTimeUnixNano"), "1700000000250000000");
	CHECK(json_number_value(json_object_get(v, "durationMs")) == 250.0);
	CHECK_INT(int_at(v, "spanCount"), ==, 4);
	CHECK_INT(int_at(v, "errorCount"), ==, 1);
	json_t *svcs = json_object_get(v, "services");
	CHECK_INT(json_array_size(svcs), ==, 2);
	CHECK_STR(str_at(svcs, "0.name"), "frontend");
	CHECK_INT(int_at(svcs, "0.spanCount"), ==, 3);
	CHECK_INT(int_at(svcs, "0.errorCount"), ==, 1);
	CHECK_STR(str_at(svcs, "1.name"), "db");
	CHECK_INT(int_at(svcs, "1.spanCount"), ==, 1);
	CHECK_INT(int_at(svcs, "1.errorCount"), ==, 0);
	CHECK_INT(json_array_size(json_object_get(v, "resources")), ==, 4);
	CHECK_STR(str_at(v, "resources.1.serviceName"), "db");
	CHECK_STR(str_at(v, "resources.0.attributes.1.value.stringValue"), "web-1");
	CHECK_INT(int_at(v, "resources.0.droppedAttributesCount"), ==, 2);
	CHECK_INT(int_at(v, "resources.1.droppedAttributesCount"), ==, 0);
	CHECK_STR(str_at(v, "resources.1.schemaUrl"), "");
	CHECK_INT(json_array_size(json_object_get(v, "scopes")), ==, 4);
	CHECK_INT(int_at(v, "scopes.3.resource"), ==, 3);
	CHECK_STR(str_at(v, "scopes.1.version"), "");
	CHECK_STR(str_at(v, "scopes.0.version"), "1.2.3");
	CHECK_INT(json_array_size(at_path(v, "scopes.1.attributes")), ==, 0);

	json_t *spans = json_object_get(v, "spans");
	CHECK_INT(json_array_size(spans), ==, 4);
	json_t *root = json_array_get(spans, 0), *cl = json_array_get(spans, 1);
	static const char *const keys[] = {"spanId", "parentSpanId", "traceState", "flags", "name", "kind",
					   "service", "resource", "scope", "startTimeUnixNano", "endTimeUnixNano",
					   "durationMs", "attributes", "droppedAttributesCount", "events",
					   "droppedEventsCount", "links", "droppedLinksCount", "status"};
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
		for (size_t i = 0; i < 4; i++)
			CHECK(json_object_get(json_array_get(spans, i), keys[k]) != NULL);
	CHECK_STR(str_at(root, "parentSpanId"), "");
	CHECK_STR(str_at(root, "kind"), "server");
	CHECK_STR(str_at(root, "status.code"), "ok");
	CHECK_STR(str_at(root, "status.message"), "");
	CHECK_INT(json_array_size(json_object_get(root, "events")), ==, 0);
	CHECK_STR(str_at(cl, "parentSpanId"), "b7ad6b7169203301");
	CHECK_STR(str_at(cl, "kind"), "client");
	CHECK_STR(str_at(cl, "service"), "frontend");
	CHECK_STR(str_at(cl, "status.code"), "error");
	CHECK_STR(str_at(cl, "status.message"), "timeout \"db\"");
	CHECK(json_number_value(json_object_get(cl, "durationMs")) == 200.5);
	CHECK_STR(str_at(cl, "attributes.2.value.intValue"), "-9007199254740993");
	CHECK_STR(str_at(cl, "events.0.name"), "exception");
	CHECK_INT(int_at(cl, "events.0.droppedAttributesCount"), ==, 0);
	CHECK_STR(str_at(cl, "links.0.traceId"), "0102030405060708090a0b0c0d0e0f10");
	CHECK_INT(json_array_size(at_path(cl, "links.0.attributes")), ==, 0);
	CHECK_STR(str_at(json_array_get(spans, 2), "service"), "db");
	CHECK_INT(int_at(json_array_get(spans, 2), "resource"), ==, 1);
	CHECK_STR(str_at(json_array_get(spans, 3), "kind"), "internal");
	json_decref(v);
	buf_free(&out);
	arena_reset(&a);
}

TEST(trace_json_native_root_choice_and_empty)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	struct buf out;
	buf_init(&out, 1 << 20);
	/* empty batch: every field still present */
	trace_json_write_native(&b, &out);
	json_t *v = parse(&out);
	CHECK(v != NULL);
	CHECK_STR(str_at(v, "traceId"), "00000000000000000000000000000000");
	CHECK_STR(str_at(v, "rootServiceName"), "");
	CHECK_INT(int_at(v, "spanCount"), ==, 0);
	CHECK_INT(json_array_size(json_object_get(v, "spans")), ==, 0);
	json_decref(v);

	/* no span without a parent: the earliest span is the root */
	build(&b);
	for (uint32_t i = 0; i < b.n_spans; i++) {
		b.spans[i].has_parent = true;
		b.spans[i].parent_span_id[0] = 0x11;
	}
	buf_clear(&out);
	trace_json_write_native(&b, &out);
	v = parse(&out);
	CHECK(v != NULL);
	CHECK_STR(str_at(v, "rootName"), "GET /cart");
	json_decref(v);
	/* two parentless spans: the earliest of them */
	b.spans[2].has_parent = false;
	b.spans[3].has_parent = false;
	buf_clear(&out);
	trace_json_write_native(&b, &out);
	v = parse(&out);
	CHECK(v != NULL);
	CHECK_STR(str_at(v, "rootName"), "render");
	CHECK_STR(str_at(v, "rootServiceName"), "frontend");
	json_decref(v);

	/* Jaeger and OTLP writers on the empty batch give valid JSON too */
	struct span_batch empty;
	span_batch_init(&empty, &a);
	buf_clear(&out);
	trace_json_write_jaeger(&empty, &out);
	v = parse(&out);
	CHECK(v != NULL);
	CHECK_INT(json_array_size(json_object_get(v, "spans")), ==, 0);
	json_decref(v);
	buf_clear(&out);
	trace_json_write_otlp(&empty, &out, TRACE_JSON_OTLP);
	CHECK_SLICE(buf_slice(&out), "[]");
	buf_free(&out);
	arena_reset(&a);
}

TEST(trace_json_respects_buffer_cap)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	build(&b);
	void (*writers[])(const struct span_batch *, struct buf *) = {trace_json_write_jaeger,
								      trace_json_write_native};
	for (size_t w = 0; w < 2; w++) {
		struct buf out;
		buf_init(&out, 300);
		writers[w](&b, &out);
		CHECK_INT(out.err, ==, CLEW_ELIMIT);
		CHECK(out.len <= 300);
		buf_free(&out);
	}
	struct buf out;
	buf_init(&out, 300);
	trace_json_write_otlp(&b, &out, TRACE_JSON_TEMPO);
	CHECK_INT(out.err, ==, CLEW_ELIMIT);
	buf_free(&out);
	arena_reset(&a);
}

TEST(trace_json_skips_spans_with_bad_scope_index)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	build(&b);
	b.spans[2].scope = 99;
	struct buf out;
	buf_init(&out, 1 << 20);
	trace_json_write_native(&b, &out);
	json_t *v = parse(&out);
	CHECK(v != NULL);
	CHECK_INT(int_at(v, "spanCount"), ==, 3);
	CHECK_INT(json_array_size(json_object_get(v, "spans")), ==, 3);
	json_decref(v);
	buf_clear(&out);
	trace_json_write_jaeger(&b, &out);
	v = parse(&out);
	CHECK(v != NULL);
	CHECK_INT(json_array_size(json_object_get(v, "spans")), ==, 3);
	CHECK_INT(json_object_size(json_object_get(v, "processes")), ==, 1);
	json_decref(v);
	buf_clear(&out);
	trace_json_write_otlp(&b, &out, TRACE_JSON_OTLP);
	v = parse(&out);
	CHECK(v != NULL);
	CHECK_INT(json_array_size(v), ==, 2);
	json_decref(v);
	buf_free(&out);
	arena_reset(&a);
}
