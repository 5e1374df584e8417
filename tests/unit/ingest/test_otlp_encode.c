/* Unit tests of the OTLP protobuf encoder: decode(encode(batch)) equals the
 * batch in every field, invalid spans are left out, protoc reads what we
 * write, and the export response and google.rpc.Status bytes are exact. */
#include "../../testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"

static struct any_value v_str(const char *s)
{
	struct any_value v = {.type = ANY_STRING};
	v.u.str = slice_cstr(s);
	return v;
}

static struct any_value v_int(int64_t i)
{
	struct any_value v = {.type = ANY_INT};
	v.u.i = i;
	return v;
}

static struct attr kv(const char *key, struct any_value v)
{
	return (struct attr){slice_cstr(key), v};
}

static struct attr_list attrs_of(struct arena *a, const struct attr *items, uint32_t n)
{
	struct attr_list l = {arena_memdup(a, items, n * sizeof *items), n};
	return l;
}

static void fill_id(uint8_t *id, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		id[i] = (uint8_t)(seed + i * 7 + 1);
}

/* A batch touching every field and every AnyValue kind. */
static void build_full_batch(struct span_batch *b, struct arena *a)
{
	span_batch_init(b, a);

	struct any_value inner_arr[] = {v_str(""), v_int(INT64_MIN), {.type = ANY_EMPTY}};
	struct any_value nested = {.type = ANY_ARRAY};
	nested.u.array.items = arena_memdup(a, inner_arr, sizeof inner_arr);
	nested.u.array.n = 3;
	struct attr kvl_items[] = {kv("deep", nested), kv("", v_str("empty key"))};
	struct any_value kvl = {.type = ANY_KVLIST};
	kvl.u.kvlist.items = arena_memdup(a, kvl_items, sizeof kvl_items);
	kvl.u.kvlist.n = 2;
	struct any_value arr_items[] = {v_int(-1), kvl, {.type = ANY_ARRAY}};
	struct any_value arr = {.type = ANY_ARRAY};
	arr.u.array.items = arena_memdup(a, arr_items, sizeof arr_items);
	arr.u.array.n = 3;
	struct any_value bytes = {.type = ANY_BYTES};
	bytes.u.str = slice_make("\x00\xff\x10", 3);
	struct any_value dbl = {.type = ANY_DOUBLE};
	dbl.u.d = -1.0e-300;
	struct any_value yes = {.type = ANY_BOOL}, no = {.type = ANY_BOOL};
	yes.u.b = true;
	struct any_value empty_kvl = {.type = ANY_KVLIST};

	struct attr res_attrs[] = {
		kv("service.name", v_str("cart \xe6\x97\xa5\xe6\x9c\xac")),
		kv("host.name", v_str("")),
		kv("pid", v_int(-42)),
		kv("big", v_int(INT64_MAX)),
		kv("ratio", dbl),
		kv("on", yes),
		kv("off", no),
		kv("blob", bytes),
		kv("list", arr),
		kv("map", empty_kvl),
		kv("none", (struct any_value){.type = ANY_EMPTY}),
	};
	struct resource *r = span_batch_add_resource(b);
	r->attrs = attrs_of(a, res_attrs, 11);
	r->dropped_attrs = 5;
	r->schema_url = SLICE_LIT("https://opentelemetry.io/schemas/1.21.0");

	struct scope *sc = span_batch_add_scope(b, 0);
	sc->name = SLICE_LIT("lib");
	sc->version = SLICE_LIT("0.1");
	struct attr sc_attrs[] = {kv("scope.attr", v_int(1))};
	sc->attrs = attrs_of(a, sc_attrs, 1);
	sc->dropped_attrs = 2;
	sc->schema_url = SLICE_LIT("s-url");

	struct span *s = span_batch_add_span(b, 0);
	fill_id(s->trace_id, 16, 1);
	fill_id(s->span_id, 8, 2);
	fill_id(s->parent_span_id, 8, 3);
	s->has_parent = true;
	s->kind = SPAN_KIND_CONSUMER;
	s->status_code = STATUS_ERROR;
	s->status_message = SLICE_LIT("boom \xf0\x9f\x92\xa5");
	s->flags = 0x301;
	s->start_unix_ns = 1700000000123456789LL;
	s->end_unix_ns = 1700000000987654321LL;
	s->trace_state = SLICE_LIT("a=b,c=d");
	s->name = SLICE_LIT("consume orders");
	struct attr span_attrs[] = {kv("http.status_code", v_int(500)), kv("list", arr)};
	s->attrs = attrs_of(a, span_attrs, 2);
	s->dropped_attrs = 3;
	struct span_event ev[2] = {{.time_unix_ns = 1700000000500000000LL, .name = SLICE_LIT("exception")},
				   {.name = SLICE_LIT("")}};
	struct attr ev_attrs[] = {kv("exception.message", v_str("timeout")), kv("n", dbl)};
	ev[0].attrs = attrs_of(a, ev_attrs, 2);
	ev[0].dropped_attrs = 9;
	s->events = arena_memdup(a, ev, sizeof ev);
	s->n_events = 2;
	s->dropped_events = 4;
	struct span_link ln[2] = {{.flags = 1, .trace_state = SLICE_LIT("x=y")}, {.dropped_attrs = 8}};
	fill_id(ln[0].trace_id, 16, 9);
	fill_id(ln[0].span_id, 8, 10);
	fill_id(ln[1].trace_id, 16, 11);
	fill_id(ln[1].span_id, 8, 12);
	ln[1].attrs = attrs_of(a, ev_attrs, 1);
	s->links = arena_memdup(a, ln, sizeof ln);
	s->n_links = 2;
	s->dropped_links = 6;

	/* a minimal span: every optional field at its default */
	s = span_batch_add_span(b, 0);
	fill_id(s->trace_id, 16, 20);
	fill_id(s->span_id, 8, 21);

	/* a second resource with an empty scope and a span with status OK */
	r = span_batch_add_resource(b);
	struct attr r2[] = {kv("service.name", v_str("db"))};
	r->attrs = attrs_of(a, r2, 1);
	span_batch_add_scope(b, 1);
	sc = span_batch_add_scope(b, 1);
	sc->name = SLICE_LIT("second scope");
	s = span_batch_add_span(b, 2);
	fill_id(s->trace_id, 16, 30);
	fill_id(s->span_id, 8, 31);
	s->status_code = STATUS_OK;
	s->kind = SPAN_KIND_CLIENT;
	s->start_unix_ns = -5; /* before the epoch: fixed64 keeps the bits */
	s->end_unix_ns = 5;
}

/* Field-by-field equality of two batches (raw slices aside); on a
 * difference writes what differs into why and returns false. */
static bool batch_eq(const struct span_batch *x, const struct span_batch *y, char *why, size_t cap)
{
#define DIFF(cond, ...)                                                                                    \
	do {                                                                                               \
		if (!(cond)) {                                                                             \
			snprintf(why, cap, __VA_ARGS__);                                                   \
			return false;                                                                      \
		}                                                                                          \
	} while (0)
	DIFF(x->n_resources == y->n_resources, "n_resources %u vs %u", x->n_resources, y->n_resources);
	DIFF(x->n_scopes == y->n_scopes, "n_scopes %u vs %u", x->n_scopes, y->n_scopes);
	DIFF(x->n_spans == y->n_spans, "n_spans %u vs %u", x->n_spans, y->n_spans);
	for (uint32_t i = 0; i < x->n_resources; i++) {
		const struct resource *a = &x->resources[i], *b = &y->resources[i];
		DIFF(attr_list_eq(&a->attrs, &b->attrs), "resource %u attrs", i);
		DIFF(a->dropped_attrs == b->dropped_attrs, "resource %u dropped", i);
		DIFF(slice_eq(a->schema_url, b->schema_url), "resource %u schema_url", i);
	}
	for (uint32_t i = 0; i < x->n_scopes; i++) {
		const struct scope *a = &x->scopes[i], *b = &y->scopes[i];
		DIFF(a->resource == b->resource, "scope %u resource", i);
		DIFF(slice_eq(a->name, b->name) && slice_eq(a->version, b->version), "scope %u name", i);
		DIFF(attr_list_eq(&a->attrs, &b->attrs), "scope %u attrs", i);
		DIFF(a->dropped_attrs == b->dropped_attrs, "scope %u dropped", i);
		DIFF(slice_eq(a->schema_url, b->schema_url), "scope %u schema_url", i);
	}
	for (uint32_t i = 0; i < x->n_spans; i++) {
		const struct span *a = &x->spans[i], *b = &y->spans[i];
		DIFF(memcmp(a->trace_id, b->trace_id, 16) == 0 && memcmp(a->span_id, b->span_id, 8) == 0,
		     "span %u ids", i);
		DIFF(a->has_parent == b->has_parent && memcmp(a->parent_span_id, b->parent_span_id, 8) == 0,
		     "span %u parent", i);
		DIFF(a->kind == b->kind && a->status_code == b->status_code && a->flags == b->flags,
		     "span %u kind/status/flags", i);
		DIFF(a->scope == b->scope, "span %u scope", i);
		DIFF(a->start_unix_ns == b->start_unix_ns && a->end_unix_ns == b->end_unix_ns, "span %u times", i);
		DIFF(slice_eq(a->trace_state, b->trace_state) && slice_eq(a->name, b->name) &&
			     slice_eq(a->status_message, b->status_message),
		     "span %u strings", i);
		DIFF(attr_list_eq(&a->attrs, &b->attrs) && a->dropped_attrs == b->dropped_attrs, "span %u attrs", i);
		DIFF(a->n_events == b->n_events && a->dropped_events == b->dropped_events, "span %u events", i);
		for (uint32_t k = 0; k < a->n_events; k++) {
			const struct span_event *e = &a->events[k], *f = &b->events[k];
			DIFF(e->time_unix_ns == f->time_unix_ns && slice_eq(e->name, f->name) &&
				     attr_list_eq(&e->attrs, &f->attrs) && e->dropped_attrs == f->dropped_attrs,
			     "span %u event %u", i, k);
		}
		DIFF(a->n_links == b->n_links && a->dropped_links == b->dropped_links, "span %u links", i);
		for (uint32_t k = 0; k < a->n_links; k++) {
			const struct span_link *e = &a->links[k], *f = &b->links[k];
			DIFF(memcmp(e->trace_id, f->trace_id, 16) == 0 && memcmp(e->span_id, f->span_id, 8) == 0 &&
				     slice_eq(e->trace_state, f->trace_state) && attr_list_eq(&e->attrs, &f->attrs) &&
				     e->dropped_attrs == f->dropped_attrs && e->flags == f->flags,
			     "span %u link %u", i, k);
		}
		DIFF((a->invalid_reason == NULL) == (b->invalid_reason == NULL), "span %u validity", i);
	}
	return true;
#undef DIFF
}

TEST(otlp_encode_round_trips_every_field)
{
	struct arena a;
	struct span_batch in, back;
	struct buf out;
	struct decode_error err;
	char why[128] = "";
	arena_init(&a, 1 << 24);
	build_full_batch(&in, &a);
	buf_init(&out, 1 << 20);
	otlp_encode_request(&in, &out);
	CHECK_INT(out.err, ==, 0);
	CHECK(out.len > 300);
	span_batch_init(&back, &a);
	CHECK_INT(otlp_proto_decode_request(buf_slice(&out), &back, &err), ==, 0);
	bool same = batch_eq(&in, &back, why, sizeof why);
	if (!same)
		test_fail(__FILE__, __LINE__, "round trip differs: %s", why);
	CHECK(same);
	/* the walk agrees and encoding the decoded batch gives the same bytes */
	CHECK(otlp_proto_walk(buf_slice(&out)) > 50);
	struct buf again;
	buf_init(&again, 1 << 20);
	otlp_encode_request(&back, &again);
	CHECK(slice_eq(buf_slice(&out), buf_slice(&again)));
	/* the raw slices re-decode to the same span, resource and scope */
	struct span_batch one;
	span_batch_init(&one, &a);
	uint32_t ri, si;
	struct span *sp;
	CHECK_INT(otlp_proto_decode_resource(back.resources[0].raw, &one, &ri, &err), ==, 0);
	CHECK_INT(otlp_proto_decode_scope(back.scopes[0].raw, &one, ri, &si, &err), ==, 0);
	CHECK_INT(otlp_proto_decode_span(back.spans[0].raw, &one, si, &sp, &err), ==, 0);
	CHECK(attr_list_eq(&one.resources[0].attrs, &in.resources[0].attrs));
	CHECK_SLICE(one.scopes[0].version, "0.1");
	CHECK_INT(sp->n_links, ==, 2);
	CHECK_INT(sp->links[1].dropped_attrs, ==, 8);
	buf_free(&out);
	buf_free(&again);
	arena_reset(&a);
}

TEST(otlp_encode_leaves_out_invalid_spans)
{
	struct arena a;
	struct span_batch in, back;
	struct buf out;
	struct decode_error err;
	arena_init(&a, 1 << 24);
	build_full_batch(&in, &a);
	/* resource 1 keeps its never-used empty scope; scope 2 loses its only span */
	in.spans[2].invalid_reason = "bad";
	in.spans[1].invalid_reason = "bad";
	buf_init(&out, 1 << 20);
	otlp_encode_request(&in, &out);
	CHECK_INT(out.err, ==, 0);
	span_batch_init(&back, &a);
	CHECK_INT(otlp_proto_decode_request(buf_slice(&out), &back, &err), ==, 0);
	CHECK_INT(back.n_spans, ==, 1);
	CHECK_INT(back.n_resources, ==, 2);
	CHECK_INT(back.n_scopes, ==, 2); /* scope 0 and the empty scope of resource 1 */
	CHECK_INT(back.scopes[1].resource, ==, 1);
	CHECK_INT(back.scopes[1].name.len, ==, 0);
	/* with every span of a resource invalid, the resource goes too */
	in.spans[0].invalid_reason = "bad";
	buf_clear(&out);
	otlp_encode_request(&in, &out);
	span_batch_init(&back, &a);
	CHECK_INT(otlp_proto_decode_request(buf_slice(&out), &back, &err), ==, 0);
	CHECK_INT(back.n_spans, ==, 0);
	CHECK_INT(back.n_resources, ==, 1);
	CHECK_SLICE(resource_service_name(&back.resources[0]), "db");
	/* an empty batch is an empty message */
	span_batch_init(&in, &a);
	buf_clear(&out);
	otlp_encode_request(&in, &out);
	CHECK_INT(out.err, ==, 0);
	CHECK_INT(out.len, ==, 0);
	buf_free(&out);
	arena_reset(&a);
}

TEST(otlp_encode_groups_scattered_spans_by_scope)
{
	struct arena a;
	struct span_batch in, back;
	struct buf out;
	struct decode_error err;
	arena_init(&a, 1 << 20);
	span_batch_init(&in, &a);
	span_batch_add_resource(&in);
	span_batch_add_resource(&in);
	span_batch_add_scope(&in, 1);
	span_batch_add_scope(&in, 0);
	for (int i = 0; i < 6; i++) {
		struct span *s = span_batch_add_span(&in, (uint32_t)(i % 2));
		fill_id(s->trace_id, 16, (uint8_t)i);
		fill_id(s->span_id, 8, (uint8_t)i);
		s->start_unix_ns = i;
	}
	buf_init(&out, 1 << 20);
	otlp_encode_request(&in, &out);
	span_batch_init(&back, &a);
	CHECK_INT(otlp_proto_decode_request(buf_slice(&out), &back, &err), ==, 0);
	CHECK_INT(back.n_spans, ==, 6);
	/* resource 0 first, holding scope 1's spans (odd), then resource 1 */
	CHECK_INT(back.scopes[0].resource, ==, 0);
	CHECK_INT(back.spans[0].start_unix_ns, ==, 1);
	CHECK_INT(back.spans[2].start_unix_ns, ==, 5);
	CHECK_INT(back.spans[3].start_unix_ns, ==, 0);
	CHECK_INT(back.spans[3].scope, ==, 1);
	buf_free(&out);
	arena_reset(&a);
}

TEST(otlp_encode_respects_the_buffer_cap)
{
	struct arena a;
	struct span_batch in;
	struct buf out;
	arena_init(&a, 1 << 24);
	build_full_batch(&in, &a);
	buf_init(&out, 64);
	otlp_encode_request(&in, &out);
	CHECK_INT(out.err, ==, CLEW_ELIMIT);
	buf_free(&out);
	arena_reset(&a);
}

TEST(otlp_encode_export_response_bytes)
{
	struct buf out;
	buf_init(&out, 1024);
	otlp_encode_export_response(0, (struct slice){0}, &out);
	CHECK_INT(out.len, ==, 0);
	otlp_encode_export_response(3, SLICE_LIT("bad"), &out);
	CHECK_INT(out.err, ==, 0);
	CHECK(slice_eq(buf_slice(&out), slice_make("\x0a\x07\x08\x03\x12\x03" "bad", 9)));
	buf_clear(&out);
	otlp_encode_export_response(0, SLICE_LIT("w"), &out);
	CHECK(slice_eq(buf_slice(&out), slice_make("\x0a\x03\x12\x01w", 5)));
	buf_free(&out);
}

TEST(otlp_encode_rpc_status_bytes)
{
	struct buf out;
	buf_init(&out, 1024);
	otlp_encode_rpc_status(3, SLICE_LIT("bad"), -1, &out);
	CHECK(slice_eq(buf_slice(&out), slice_make("\x08\x03\x12\x03" "bad", 7)));
	buf_clear(&out);
	otlp_encode_rpc_status(14, SLICE_LIT("x"), 1500, &out);
	/* the bytes protoc writes for the same message in text format */
	static const uint8_t want[] = {0x08, 0x0e, 0x12, 0x01, 'x', 0x1a, 0x36, 0x0a, 0x28, 't', 'y', 'p', 'e', '.',
				       'g',  'o',  'o',  'g',  'l', 'e',  'a',  'p',  'i',  's', '.', 'c', 'o', 'm',
				       '/',  'g',  'o',  'o',  'g', 'l',  'e',  '.',  'r',  'p', 'c', '.', 'R', 'e',
				       't',  'r',  'y',  'I',  'n', 'f',  'o',  0x12, 0x0a, 0x0a, 0x08, 0x08, 0x01, 0x10,
				       0x80, 0xca, 0xb5, 0xee, 0x01};
	CHECK_INT(out.len, ==, sizeof want);
	CHECK(memcmp(out.p, want, sizeof want) == 0);
	/* a zero delay still carries an (empty) RetryInfo */
	buf_clear(&out);
	otlp_encode_rpc_status(14, (struct slice){0}, 0, &out);
	CHECK(out.len > 40);
	buf_free(&out);
}

/* ---- checks against protoc -------------------------------------------- */

static int have_protoc(void)
{
	return system("command -v protoc >/dev/null 2>&1") == 0 &&
	       system("test -f tests/fixtures/otlp/trace.proto") == 0;
}

static int write_file(const char *path, struct slice s)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(s.p, 1, s.len, f);
	return fclose(f) == 0 && n == s.len ? 0 : -1;
}

/* Run cmd and capture its stdout into out; the exit status. */
static int run_capture(const char *cmd, struct buf *out)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		buf_append(out, chunk, n);
	return pclose(p);
}

static bool text_has(const struct buf *b, const char *needle)
{
	return memmem(b->p, b->len, needle, strlen(needle)) != NULL;
}

TEST(otlp_encode_protoc_decodes_our_request)
{
	if (!have_protoc()) {
		fprintf(stderr, "    (protoc or fixtures missing: skipped)\n");
		return;
	}
	struct arena a;
	struct span_batch in;
	struct buf out, text;
	arena_init(&a, 1 << 24);
	build_full_batch(&in, &a);
	buf_init(&out, 1 << 20);
	buf_init(&text, 1 << 20);
	otlp_encode_request(&in, &out);
	char path[600], cmd[1200];
	snprintf(path, sizeof path, "%s/encoded.bin", test_tmpdir());
	CHECK_INT(write_file(path, buf_slice(&out)), ==, 0);
	snprintf(cmd, sizeof cmd,
		 "protoc -Itests/fixtures/otlp "
		 "--decode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest "
		 "tests/fixtures/otlp/trace.proto < '%s'",
		 path);
	CHECK_INT(run_capture(cmd, &text), ==, 0);
	buf_append_byte(&text, 0);
	CHECK(text_has(&text, "key: \"service.name\""));
	CHECK(text_has(&text, "int_value: -42"));
	CHECK(text_has(&text, "int_value: 9223372036854775807"));
	CHECK(text_has(&text, "int_value: -9223372036854775808"));
	CHECK(text_has(&text, "double_value: -1e-300"));
	CHECK(text_has(&text, "bool_value: true"));
	CHECK(text_has(&text, "bool_value: false"));
	CHECK(text_has(&text, "bytes_value: \"\\000\\377\\020\""));
	CHECK(text_has(&text, "kvlist_value {"));
	CHECK(text_has(&text, "string_value: \"\""));
	CHECK(text_has(&text, "kind: SPAN_KIND_CONSUMER"));
	CHECK(text_has(&text, "start_time_unix_nano: 1700000000123456789"));
	CHECK(text_has(&text, "start_time_unix_nano: 18446744073709551611")); /* -5 as fixed64 */
	CHECK(text_has(&text, "code: STATUS_CODE_ERROR"));
	CHECK(text_has(&text, "code: STATUS_CODE_OK"));
	CHECK(text_has(&text, "flags: 769"));
	CHECK(text_has(&text, "trace_state: \"a=b,c=d\""));
	CHECK(text_has(&text, "dropped_links_count: 6"));
	CHECK(text_has(&text, "dropped_events_count: 4"));
	CHECK(text_has(&text, "dropped_attributes_count: 9"));
	CHECK(text_has(&text, "schema_url: \"s-url\""));
	CHECK(text_has(&text, "version: \"0.1\""));
	CHECK(text_has(&text, "name: \"second scope\""));
	/* protoc found nothing it did not know */
	CHECK(!text_has(&text, "\n1:") && !text_has(&text, " 1: "));
	buf_free(&out);
	buf_free(&text);
	arena_reset(&a);
}

TEST(otlp_encode_protoc_round_trip_through_text)
{
	if (!have_protoc())
		return;
	/* our bytes -> protoc text -> protoc bytes -> our decoder: same batch */
	struct arena a;
	struct span_batch in, back;
	struct buf out, bin;
	struct decode_error err;
	char why[128] = "";
	arena_init(&a, 1 << 24);
	build_full_batch(&in, &a);
	buf_init(&out, 1 << 20);
	buf_init(&bin, 1 << 20);
	otlp_encode_request(&in, &out);
	char path[600], cmd[1600];
	snprintf(path, sizeof path, "%s/encoded.bin", test_tmpdir());
	CHECK_INT(write_file(path, buf_slice(&out)), ==, 0);
	snprintf(cmd, sizeof cmd,
		 "M=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest; "
		 "protoc -Itests/fixtures/otlp --decode=$M tests/fixtures/otlp/trace.proto < '%s' | "
		 "protoc -Itests/fixtures/otlp --encode=$M tests/fixtures/otlp/trace.proto",
		 path);
	CHECK_INT(run_capture(cmd, &bin), ==, 0);
	span_batch_init(&back, &a);
	CHECK_INT(otlp_proto_decode_request(buf_slice(&bin), &back, &err), ==, 0);
	bool same = batch_eq(&in, &back, why, sizeof why);
	if (!same)
		test_fail(__FILE__, __LINE__, "protoc round trip differs: %s", why);
	CHECK(same);
	buf_free(&out);
	buf_free(&bin);
	arena_reset(&a);
}

TEST(otlp_encode_protoc_decodes_responses)
{
	if (!have_protoc())
		return;
	struct buf out, text;
	buf_init(&out, 4096);
	buf_init(&text, 4096);
	char path[600], cmd[1200];
	snprintf(path, sizeof path, "%s/status.bin", test_tmpdir());
	otlp_encode_rpc_status(14, SLICE_LIT("try later"), 2250, &out);
	CHECK_INT(write_file(path, buf_slice(&out)), ==, 0);
	snprintf(cmd, sizeof cmd,
		 "protoc -Itests/fixtures/otlp -I/usr/include --decode=google.rpc.Status "
		 "tests/fixtures/otlp/rpc_status.proto < '%s'",
		 path);
	if (run_capture(cmd, &text) == 0) { /* needs the well-known types installed */
		buf_append_byte(&text, 0);
		CHECK(text_has(&text, "code: 14"));
		CHECK(text_has(&text, "message: \"try later\""));
		CHECK(text_has(&text, "type_url: \"type.googleapis.com/google.rpc.RetryInfo\""));
		/* RetryInfo{retry_delay{seconds: 2 nanos: 250000000}} */
		CHECK(text_has(&text, "value: \"\\n\\007\\010\\002\\020\\200\\345\\232w\""));
	}
	buf_clear(&out);
	buf_clear(&text);
	otlp_encode_export_response(7, SLICE_LIT("7 spans had bad ids"), &out);
	CHECK_INT(write_file(path, buf_slice(&out)), ==, 0);
	snprintf(cmd, sizeof cmd,
		 "protoc -Itests/fixtures/otlp "
		 "--decode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse "
		 "tests/fixtures/otlp/trace.proto < '%s'",
		 path);
	CHECK_INT(run_capture(cmd, &text), ==, 0);
	buf_append_byte(&text, 0);
	CHECK(text_has(&text, "rejected_spans: 7"));
	CHECK(text_has(&text, "error_message: \"7 spans had bad ids\""));
	buf_free(&out);
	buf_free(&text);
}
