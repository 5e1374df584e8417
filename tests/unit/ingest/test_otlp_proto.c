/* Unit tests of the OTLP protobuf decoder: a protoc-encoded request with
 * every field, proto3 rules (last wins, repeated accumulate, unknown fields
 * skipped), id lengths, raw slices, the single-message entry points, the
 * walk, and every kind of malformed input with its error message. */
#include "../../testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "ingest/otlp_proto.h"

/* ---- a tiny protobuf writer for hand-made inputs ---------------------- */

static void pb_tag(struct buf *b, uint32_t field, uint32_t wt)
{
	buf_append_varint(b, (uint64_t)field << 3 | wt);
}

static void pb_bytes(struct buf *b, uint32_t field, const void *p, size_t n)
{
	pb_tag(b, field, 2);
	buf_append_varint(b, n);
	buf_append(b, p, n);
}

static void pb_str(struct buf *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

static void pb_varint(struct buf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, 0);
	buf_append_varint(b, v);
}

static void pb_fixed64(struct buf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, 1);
	buf_append_u64le(b, v);
}

static void pb_fixed32(struct buf *b, uint32_t field, uint32_t v)
{
	pb_tag(b, field, 5);
	buf_append_u32le(b, v);
}

/* Append inner as a length-delimited field and clear inner. */
static void pb_msg(struct buf *b, uint32_t field, struct buf *inner)
{
	pb_bytes(b, field, inner->p, inner->len);
	buf_clear(inner);
}

static const uint8_t TID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t SID[8] = {21, 22, 23, 24, 25, 26, 27, 28};

/* A span message with valid ids, name and the given extra bytes. */
static void make_span(struct buf *span, const char *name)
{
	pb_bytes(span, 1, TID, 16);
	pb_bytes(span, 2, SID, 8);
	pb_str(span, 5, name);
}

/* Wrap span bytes into a whole request: resource_spans[0].scope_spans[0]. */
static void wrap_request(struct buf *req, struct buf *span)
{
	struct buf ss, rs;
	buf_init(&ss, 1 << 20);
	buf_init(&rs, 1 << 20);
	pb_msg(&ss, 2, span);
	pb_msg(&rs, 2, &ss);
	pb_msg(req, 1, &rs);
	buf_free(&ss);
	buf_free(&rs);
}

struct fixture {
	struct arena arena;
	struct span_batch batch;
	struct decode_error err;
	struct buf in;
};

static void fx_init(struct fixture *f)
{
	arena_init(&f->arena, 64 << 20);
	span_batch_init(&f->batch, &f->arena);
	memset(&f->err, 0, sizeof f->err);
	buf_init(&f->in, 64 << 20);
}

static void fx_free(struct fixture *f)
{
	arena_reset(&f->arena);
	buf_free(&f->in);
}

static int fx_decode(struct fixture *f)
{
	span_batch_init(&f->batch, &f->arena);
	return otlp_proto_decode_request(buf_slice(&f->in), &f->batch, &f->err);
}

/* Decode raw bytes expecting CLEW_EPARSE whose message contains want. */
static int expect_parse_error(const void *p, size_t n, const char *want, char *msg_out, size_t msg_cap)
{
	struct arena a;
	struct span_batch b;
	struct decode_error err;
	arena_init(&a, 1 << 20);
	span_batch_init(&b, &a);
	int rc = otlp_proto_decode_request(slice_make(p, n), &b, &err);
	snprintf(msg_out, msg_cap, "%s", err.msg);
	arena_reset(&a);
	if (rc != CLEW_EPARSE)
		return -1;
	if (!strstr(err.msg, want))
		return -2;
	/* the walk must agree that the input is malformed */
	if (otlp_proto_walk(slice_make(p, n)) != CLEW_EPARSE)
		return -3;
	return 0;
}

#define CHECK_PARSE_ERROR(p, n, want)                                                                      \
	do {                                                                                               \
		char msg_[256];                                                                            \
		int r_ = expect_parse_error(p, n, want, msg_, sizeof msg_);                                \
		if (r_ != 0) {                                                                             \
			test_fail(__FILE__, __LINE__, "expected parse error with \"%s\" (%d), got \"%s\"", \
				  want, r_, msg_);                                                         \
			return;                                                                            \
		}                                                                                          \
	} while (0)

/* ---- protoc-encoded fixture ------------------------------------------- */

static int have_protoc(void)
{
	return system("command -v protoc >/dev/null 2>&1") == 0 &&
	       system("test -f tests/fixtures/otlp/trace.proto") == 0;
}

/* Read a whole file into b; 0 or -1. */
static int read_file_into(const char *path, struct buf *b)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	uint8_t chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_append(b, chunk, n);
	fclose(fp);
	return b->err ? -1 : 0;
}

TEST(otlp_proto_decodes_protoc_encoded_fixture)
{
	if (!have_protoc()) {
		fprintf(stderr, "    (protoc or fixtures missing: skipped)\n");
		return;
	}
	char cmd[1024], out[600];
	snprintf(out, sizeof out, "%s/request.bin", test_tmpdir());
	snprintf(cmd, sizeof cmd,
		 "protoc -Itests/fixtures/otlp "
		 "--encode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest "
		 "tests/fixtures/otlp/trace.proto < tests/fixtures/otlp/request.txtpb > '%s'",
		 out);
	CHECK_INT(system(cmd), ==, 0);
	struct fixture f;
	fx_init(&f);
	CHECK_INT(read_file_into(out, &f.in), ==, 0);
	CHECK_INT(fx_decode(&f), ==, 0);
	struct span_batch *b = &f.batch;
	CHECK_INT(b->n_resources, ==, 2);
	CHECK_INT(b->n_scopes, ==, 2);
	CHECK_INT(b->n_spans, ==, 3);

	const struct resource *r = &b->resources[0];
	CHECK_INT(r->attrs.n, ==, 9);
	CHECK_SLICE(resource_service_name(r), "checkout");
	CHECK_INT(r->dropped_attrs, ==, 3);
	CHECK_SLICE(r->schema_url, "https://opentelemetry.io/schemas/1.20.0");
	CHECK(r->raw.p > f.in.p && r->raw.p + r->raw.len < f.in.p + f.in.len);
	const struct attr *a = attr_find(&r->attrs, "process.pid");
	CHECK(a && a->value.type == ANY_INT && a->value.u.i == -42);
	a = attr_find(&r->attrs, "enabled");
	CHECK(a && a->value.type == ANY_BOOL && a->value.u.b);
	a = attr_find(&r->attrs, "load");
	CHECK(a && a->value.type == ANY_DOUBLE && a->value.u.d == 0.75);
	a = attr_find(&r->attrs, "blob");
	CHECK(a && a->value.type == ANY_BYTES && a->value.u.str.len == 3 && a->value.u.str.p[2] == 0xfe);
	a = attr_find(&r->attrs, "nothing");
	CHECK(a && a->value.type == ANY_EMPTY);
	a = attr_find(&r->attrs, "tags");
	CHECK(a && a->value.type == ANY_ARRAY && a->value.u.array.n == 3);
	CHECK_SLICE(a->value.u.array.items[0].u.str, "a");
	CHECK_INT(a->value.u.array.items[1].u.i, ==, 7);
	const struct any_value *inner = &a->value.u.array.items[2];
	CHECK(inner->type == ANY_ARRAY && inner->u.array.n == 1);
	CHECK(inner->u.array.items[0].type == ANY_BOOL && !inner->u.array.items[0].u.b);
	a = attr_find(&r->attrs, "k8s");
	CHECK(a && a->value.type == ANY_KVLIST && a->value.u.kvlist.n == 2);
	CHECK_SLICE(a->value.u.kvlist.items[0].key, "pod");
	CHECK_SLICE(a->value.u.kvlist.items[0].value.u.str, "api-0");
	CHECK(a->value.u.kvlist.items[1].value.type == ANY_KVLIST);
	CHECK_INT(a->value.u.kvlist.items[1].value.u.kvlist.n, ==, 0);

	const struct scope *sc = &b->scopes[0];
	CHECK_INT(sc->resource, ==, 0);
	CHECK_SLICE(sc->name, "io.clew.http");
	CHECK_SLICE(sc->version, "1.2.3");
	CHECK_INT(sc->attrs.n, ==, 1);
	CHECK_SLICE(sc->attrs.items[0].value.u.str, "curl");
	CHECK_INT(sc->dropped_attrs, ==, 1);
	CHECK_SLICE(sc->schema_url, "https://opentelemetry.io/schemas/1.21.0");
	CHECK(sc->raw.len > 0);

	const struct span *s = &b->spans[0];
	static const uint8_t tid[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
					0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
	static const uint8_t sid[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74};
	static const uint8_t pid[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73};
	CHECK(s->invalid_reason == NULL);
	CHECK(memcmp(s->trace_id, tid, 16) == 0);
	CHECK(memcmp(s->span_id, sid, 8) == 0);
	CHECK(s->has_parent && memcmp(s->parent_span_id, pid, 8) == 0);
	CHECK_SLICE(s->trace_state, "rojo=00f067aa0ba902b7");
	CHECK_SLICE(s->name, "GET /cart/{id} \xc3\xa9\xe2\x82\xac");
	CHECK_INT(s->kind, ==, SPAN_KIND_SERVER);
	CHECK_INT(s->start_unix_ns, ==, 1544712660000000000LL);
	CHECK_INT(s->end_unix_ns, ==, 1544712661000000000LL);
	CHECK_INT(s->attrs.n, ==, 2);
	CHECK_INT(s->attrs.items[1].value.u.i, ==, 503);
	CHECK_INT(s->dropped_attrs, ==, 2);
	CHECK_INT(s->n_events, ==, 2);
	CHECK_INT(s->events[0].time_unix_ns, ==, 1544712660500000000LL);
	CHECK_SLICE(s->events[0].name, "exception");
	CHECK_INT(s->events[0].attrs.n, ==, 1);
	CHECK_SLICE(s->events[0].attrs.items[0].value.u.str, "Timeout");
	CHECK_INT(s->events[0].dropped_attrs, ==, 4);
	CHECK_SLICE(s->events[1].name, "retry");
	CHECK_INT(s->events[1].attrs.n, ==, 0);
	CHECK_INT(s->dropped_events, ==, 5);
	CHECK_INT(s->n_links, ==, 1);
	CHECK_INT(s->links[0].trace_id[15], ==, 0x10);
	CHECK_INT(s->links[0].span_id[0], ==, 0x11);
	CHECK_SLICE(s->links[0].trace_state, "k=v");
	CHECK_SLICE(s->links[0].attrs.items[0].key, "link.kind");
	CHECK_INT(s->links[0].dropped_attrs, ==, 6);
	CHECK_INT(s->links[0].flags, ==, 257);
	CHECK_INT(s->dropped_links, ==, 7);
	CHECK_SLICE(s->status_message, "upstream timed out");
	CHECK_INT(s->status_code, ==, STATUS_ERROR);
	CHECK_INT(s->flags, ==, 769);
	CHECK(s->raw.p > f.in.p && s->raw.len > 100);

	CHECK_STR(b->spans[1].invalid_reason, "trace_id must be 16 bytes");
	CHECK_SLICE(b->spans[1].name, "short trace id");

	/* second ResourceSpans: no resource, scope_spans without scope */
	CHECK_INT(b->scopes[1].resource, ==, 1);
	CHECK_INT(b->scopes[1].name.len, ==, 0);
	CHECK_INT(b->resources[1].attrs.n, ==, 1);
	CHECK_SLICE(resource_service_name(&b->resources[1]), "unknown_service");
	CHECK_INT(b->spans[2].scope, ==, 1);
	CHECK_INT(b->spans[2].kind, ==, SPAN_KIND_CLIENT);
	CHECK(!b->spans[2].has_parent);

	/* the walk sees the same structure */
	CHECK(otlp_proto_walk(buf_slice(&f.in)) > 60);
	fx_free(&f);
}

/* ---- proto3 rules ----------------------------------------------------- */

TEST(otlp_proto_last_scalar_wins_repeated_accumulate)
{
	struct fixture f;
	struct buf span, kv, any;
	fx_init(&f);
	buf_init(&span, 1 << 20);
	buf_init(&kv, 1 << 20);
	buf_init(&any, 1 << 20);
	make_span(&span, "first");
	pb_str(&span, 5, "second");
	pb_varint(&span, 6, 3);
	pb_varint(&span, 6, 1);
	for (int i = 0; i < 40; i++) { /* more than the first scratch growth */
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		pb_str(&kv, 1, key);
		pb_varint(&any, 3, (uint64_t)i);
		pb_msg(&kv, 2, &any);
		pb_msg(&span, 9, &kv);
	}
	pb_fixed64(&span, 7, 100);
	pb_fixed64(&span, 7, 200);
	wrap_request(&f.in, &span);
	CHECK_INT(fx_decode(&f), ==, 0);
	const struct span *s = &f.batch.spans[0];
	CHECK_SLICE(s->name, "second");
	CHECK_INT(s->kind, ==, SPAN_KIND_INTERNAL);
	CHECK_INT(s->start_unix_ns, ==, 200);
	CHECK_INT(s->attrs.n, ==, 40);
	CHECK_SLICE(s->attrs.items[39].key, "k39");
	CHECK_INT(s->attrs.items[39].value.u.i, ==, 39);
	/* an AnyValue oneof: the last member set wins */
	buf_clear(&f.in);
	make_span(&span, "x");
	pb_str(&kv, 1, "v");
	pb_str(&any, 1, "text");
	pb_varint(&any, 3, (uint64_t)-5);
	pb_msg(&kv, 2, &any);
	pb_msg(&span, 9, &kv);
	wrap_request(&f.in, &span);
	CHECK_INT(fx_decode(&f), ==, 0);
	CHECK_INT(f.batch.spans[0].attrs.items[0].value.type, ==, ANY_INT);
	CHECK_INT(f.batch.spans[0].attrs.items[0].value.u.i, ==, -5);
	buf_free(&span);
	buf_free(&kv);
	buf_free(&any);
	fx_free(&f);
}

TEST(otlp_proto_resource_split_over_two_fields_merges)
{
	struct fixture f;
	struct buf res, kv, any, rs;
	fx_init(&f);
	buf_init(&res, 4096);
	buf_init(&kv, 4096);
	buf_init(&any, 4096);
	buf_init(&rs, 4096);
	pb_str(&kv, 1, "a");
	pb_str(&any, 1, "1");
	pb_msg(&kv, 2, &any);
	pb_msg(&res, 1, &kv);
	pb_msg(&rs, 1, &res);
	pb_str(&kv, 1, "service.name");
	pb_str(&any, 1, "svc");
	pb_msg(&kv, 2, &any);
	pb_msg(&res, 1, &kv);
	pb_varint(&res, 2, 9);
	pb_msg(&rs, 1, &res);
	pb_msg(&f.in, 1, &rs);
	CHECK_INT(fx_decode(&f), ==, 0);
	CHECK_INT(f.batch.n_resources, ==, 1);
	CHECK_INT(f.batch.resources[0].attrs.n, ==, 2);
	CHECK_SLICE(resource_service_name(&f.batch.resources[0]), "svc");
	CHECK_INT(f.batch.resources[0].dropped_attrs, ==, 9);
	CHECK_INT(f.batch.resources[0].raw.len, ==, 0); /* no single encoding */
	CHECK_INT(f.batch.n_scopes, ==, 0);
	buf_free(&res);
	buf_free(&kv);
	buf_free(&any);
	buf_free(&rs);
	fx_free(&f);
}

TEST(otlp_proto_skips_unknown_fields_of_every_wire_type)
{
	struct fixture f;
	struct buf span;
	fx_init(&f);
	buf_init(&span, 4096);
	pb_varint(&span, 100, 12345678901ULL);
	make_span(&span, "n");
	pb_fixed64(&span, 101, 7);
	pb_str(&span, 102, "unknown bytes");
	pb_fixed32(&span, 103, 9);
	pb_varint(&span, 536870911, 1); /* the largest field number */
	wrap_request(&f.in, &span);
	/* and unknown fields at the top level and in ResourceSpans */
	pb_fixed32(&f.in, 2, 1);
	pb_str(&f.in, 99, "x");
	CHECK_INT(fx_decode(&f), ==, 0);
	CHECK_INT(f.batch.n_spans, ==, 1);
	CHECK_SLICE(f.batch.spans[0].name, "n");
	CHECK(f.batch.spans[0].invalid_reason == NULL);
	CHECK_INT(otlp_proto_walk(buf_slice(&f.in)), >, 5);
	buf_free(&span);
	fx_free(&f);
}

TEST(otlp_proto_empty_request_and_empty_messages)
{
	struct fixture f;
	fx_init(&f);
	CHECK_INT(fx_decode(&f), ==, 0);
	CHECK_INT(f.batch.n_resources, ==, 0);
	CHECK_INT(otlp_proto_walk(buf_slice(&f.in)), ==, 0);
	/* resource_spans {} gets a resource with service.name */
	pb_bytes(&f.in, 1, "", 0);
	CHECK_INT(fx_decode(&f), ==, 0);
	CHECK_INT(f.batch.n_resources, ==, 1);
	CHECK_SLICE(resource_service_name(&f.batch.resources[0]), "unknown_service");
	CHECK_INT(f.batch.resources[0].attrs.n, ==, 1);
	fx_free(&f);
}

/* ---- ids -------------------------------------------------------------- */

static const char *reason_for(struct buf *span)
{
	static char reason[300];
	struct fixture f;
	fx_init(&f);
	wrap_request(&f.in, span);
	int rc = fx_decode(&f);
	if (rc < 0 || f.batch.n_spans != 1)
		snprintf(reason, sizeof reason, "decode failed: %s", f.err.msg);
	else
		snprintf(reason, sizeof reason, "%s",
			 f.batch.spans[0].invalid_reason ? f.batch.spans[0].invalid_reason : "ok");
	fx_free(&f);
	return reason;
}

TEST(otlp_proto_wrong_id_lengths_mark_span_invalid)
{
	struct buf span, link;
	buf_init(&span, 4096);
	buf_init(&link, 4096);

	pb_bytes(&span, 1, TID, 16);
	pb_bytes(&span, 2, SID, 8);
	CHECK_STR(reason_for(&span), "ok");

	pb_bytes(&span, 1, TID, 8);
	pb_bytes(&span, 2, SID, 8);
	CHECK_STR(reason_for(&span), "trace_id must be 16 bytes");

	pb_bytes(&span, 2, SID, 8); /* no trace_id at all */
	CHECK_STR(reason_for(&span), "trace_id must be 16 bytes");

	pb_bytes(&span, 1, TID, 16);
	pb_bytes(&span, 2, SID, 7);
	CHECK_STR(reason_for(&span), "span_id must be 8 bytes");

	pb_bytes(&span, 1, TID, 16);
	pb_bytes(&span, 2, SID, 8);
	pb_bytes(&span, 4, SID, 3);
	CHECK_STR(reason_for(&span), "parent_span_id must be empty or 8 bytes");

	/* an empty parent means no parent */
	pb_bytes(&span, 1, TID, 16);
	pb_bytes(&span, 2, SID, 8);
	pb_bytes(&span, 4, SID, 0);
	CHECK_STR(reason_for(&span), "ok");

	/* a bad id and then a good one: the last value wins */
	pb_bytes(&span, 1, TID, 3);
	pb_bytes(&span, 1, TID, 16);
	pb_bytes(&span, 2, SID, 8);
	CHECK_STR(reason_for(&span), "ok");

	pb_bytes(&link, 1, TID, 15);
	pb_bytes(&link, 2, SID, 8);
	pb_bytes(&span, 1, TID, 16);
	pb_bytes(&span, 2, SID, 8);
	pb_msg(&span, 13, &link);
	CHECK_STR(reason_for(&span), "link trace_id must be 16 bytes");

	pb_bytes(&link, 1, TID, 16);
	pb_bytes(&link, 2, TID, 9);
	pb_bytes(&span, 1, TID, 16);
	pb_bytes(&span, 2, SID, 8);
	pb_msg(&span, 13, &link);
	CHECK_STR(reason_for(&span), "link span_id must be 8 bytes");

	/* the span's own bad id is reported before a link's */
	pb_bytes(&link, 1, TID, 15);
	pb_bytes(&span, 2, SID, 8);
	pb_msg(&span, 13, &link);
	CHECK_STR(reason_for(&span), "trace_id must be 16 bytes");

	buf_free(&span);
	buf_free(&link);
}

TEST(otlp_proto_invalid_span_keeps_other_spans)
{
	struct fixture f;
	struct buf span, ss, rs;
	fx_init(&f);
	buf_init(&span, 4096);
	buf_init(&ss, 4096);
	buf_init(&rs, 4096);
	make_span(&span, "good1");
	pb_msg(&ss, 2, &span);
	pb_bytes(&span, 1, TID, 4);
	pb_bytes(&span, 2, SID, 8);
	pb_msg(&ss, 2, &span);
	make_span(&span, "good2");
	pb_msg(&ss, 2, &span);
	pb_msg(&rs, 2, &ss);
	pb_msg(&f.in, 1, &rs);
	CHECK_INT(fx_decode(&f), ==, 0);
	CHECK_INT(f.batch.n_spans, ==, 3);
	CHECK(f.batch.spans[0].invalid_reason == NULL);
	CHECK(f.batch.spans[1].invalid_reason != NULL);
	CHECK(f.batch.spans[2].invalid_reason == NULL);
	CHECK_SLICE(f.batch.spans[2].name, "good2");
	buf_free(&span);
	buf_free(&ss);
	buf_free(&rs);
	fx_free(&f);
}

TEST(otlp_proto_unknown_enum_values)
{
	struct fixture f;
	struct buf span, st;
	fx_init(&f);
	buf_init(&span, 4096);
	buf_init(&st, 4096);
	make_span(&span, "e");
	pb_varint(&span, 6, 99);
	pb_varint(&st, 3, (uint64_t)-1);
	pb_str(&st, 2, "m");
	pb_msg(&span, 15, &st);
	wrap_request(&f.in, &span);
	CHECK_INT(fx_decode(&f), ==, 0);
	CHECK_INT(f.batch.spans[0].kind, ==, SPAN_KIND_UNSPECIFIED);
	CHECK_INT(f.batch.spans[0].status_code, ==, STATUS_UNSET);
	CHECK_SLICE(f.batch.spans[0].status_message, "m");
	buf_free(&span);
	buf_free(&st);
	fx_free(&f);
}

/* ---- single-message entry points -------------------------------------- */

TEST(otlp_proto_decode_single_messages)
{
	struct arena a;
	struct span_batch b;
	struct decode_error err;
	struct buf m, kv, any;
	arena_init(&a, 1 << 20);
	span_batch_init(&b, &a);
	buf_init(&m, 4096);
	buf_init(&kv, 4096);
	buf_init(&any, 4096);

	pb_str(&kv, 1, "host.name");
	pb_str(&any, 1, "h1");
	pb_msg(&kv, 2, &any);
	pb_msg(&m, 1, &kv);
	uint32_t ri = 99;
	CHECK_INT(otlp_proto_decode_resource(buf_slice(&m), &b, &ri, &err), ==, 0);
	CHECK_INT(ri, ==, 0);
	CHECK_INT(b.resources[0].attrs.n, ==, 2); /* host.name + service.name */
	CHECK(b.resources[0].raw.p == m.p);
	buf_clear(&m);

	pb_str(&m, 1, "lib");
	pb_str(&m, 2, "v9");
	uint32_t si = 99;
	CHECK_INT(otlp_proto_decode_scope(buf_slice(&m), &b, ri, &si, &err), ==, 0);
	CHECK_INT(si, ==, 0);
	CHECK_SLICE(b.scopes[0].version, "v9");
	buf_clear(&m);

	make_span(&m, "single");
	struct span *sp = NULL;
	CHECK_INT(otlp_proto_decode_span(buf_slice(&m), &b, si, &sp, &err), ==, 0);
	CHECK(sp == &b.spans[0]);
	CHECK_SLICE(sp->name, "single");
	CHECK(sp->raw.p == m.p && sp->raw.len == m.len);

	uint8_t bad[] = {0x2a, 0x05, 'a'};
	CHECK_INT(otlp_proto_decode_span(slice_make(bad, sizeof bad), &b, si, &sp, &err), ==, CLEW_EPARSE);
	CHECK(strstr(err.msg, "length 5 runs past the end") != NULL);
	CHECK_INT(otlp_proto_decode_scope(slice_make(bad, 1), &b, ri, &si, &err), ==, CLEW_EPARSE);
	CHECK(strstr(err.msg, "truncated varint") != NULL);
	uint8_t wrong[] = {0x12, 0x00}; /* dropped_attributes_count as bytes */
	CHECK_INT(otlp_proto_decode_resource(slice_make(wrong, 2), &b, &ri, &err), ==, CLEW_EPARSE);
	CHECK(strstr(err.msg, "dropped_attributes_count: field 2 has wire type 2, expected 0") != NULL);

	buf_free(&m);
	buf_free(&kv);
	buf_free(&any);
	arena_reset(&a);
}

TEST(otlp_proto_arena_cap_gives_enomem)
{
	struct fixture f;
	struct buf span, kv, any;
	fx_init(&f);
	buf_init(&span, 1 << 20);
	buf_init(&kv, 4096);
	buf_init(&any, 4096);
	make_span(&span, "many attributes");
	for (int i = 0; i < 2000; i++) {
		pb_str(&kv, 1, "key");
		pb_str(&any, 1, "value");
		pb_msg(&kv, 2, &any);
		pb_msg(&span, 9, &kv);
	}
	wrap_request(&f.in, &span);
	struct arena small;
	arena_init(&small, 16384);
	struct span_batch b;
	span_batch_init(&b, &small);
	CHECK_INT(otlp_proto_decode_request(buf_slice(&f.in), &b, &f.err), ==, CLEW_ENOMEM);
	arena_reset(&small);
	CHECK_INT(fx_decode(&f), ==, 0);
	CHECK_INT(f.batch.spans[0].attrs.n, ==, 2000);
	buf_free(&span);
	buf_free(&kv);
	buf_free(&any);
	fx_free(&f);
}

/* ---- malformed input -------------------------------------------------- */

TEST(otlp_proto_rejects_truncated_varints)
{
	/* a tag cut off */
	CHECK_PARSE_ERROR("\x8a", 1, "truncated varint (at byte 0)");
	/* a length cut off */
	CHECK_PARSE_ERROR("\x0a\xff", 2, "truncated varint (at byte 1)");
	/* a varint value cut off inside a span */
	uint8_t span[] = {0x0a, 0x06, 0x12, 0x04, 0x12, 0x02, 0x30, 0x80};
	CHECK_PARSE_ERROR(span, sizeof span,
			  "resource_spans[0].scope_spans[0].spans[0].kind: truncated varint (at byte 7)");
}

TEST(otlp_proto_rejects_long_varints)
{
	uint8_t in[16] = {0x0a};
	memset(in + 1, 0xff, 10);
	in[11] = 0x01;
	CHECK_PARSE_ERROR(in, 12, "varint longer than 10 bytes");
	/* a tag over 32 bits */
	uint8_t tag[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	CHECK_PARSE_ERROR(tag, sizeof tag, "invalid field tag");
}

TEST(otlp_proto_length_past_end_names_the_path)
{
	struct buf span, kv;
	buf_init(&span, 1 << 20);
	buf_init(&kv, 1 << 20);
	make_span(&span, "s");
	for (int i = 0; i < 3; i++) {
		pb_str(&kv, 1, "k");
		pb_msg(&span, 9, &kv);
	}
	/* attributes[3] claims 4000000 bytes */
	pb_tag(&span, 9, 2);
	buf_append_varint(&span, 4000000);
	buf_append(&span, "abc", 3);
	struct buf ss, rs, req;
	buf_init(&ss, 1 << 20);
	buf_init(&rs, 1 << 20);
	buf_init(&req, 1 << 20);
	pb_bytes(&ss, 2, "", 0);
	pb_msg(&rs, 2, &ss);
	pb_bytes(&ss, 2, "", 0);
	pb_bytes(&ss, 2, "", 0);
	pb_msg(&ss, 2, &span);
	pb_msg(&rs, 2, &ss);
	pb_msg(&req, 1, &rs);
	CHECK_PARSE_ERROR(req.p, req.len,
			  "resource_spans[0].scope_spans[1].spans[2].attributes[3]: length 4000000 runs past "
			  "the end of the message");
	/* a huge declared length at the top */
	uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
	CHECK_PARSE_ERROR(huge, sizeof huge, "length 9223372036854775807 runs past the end");
	buf_free(&span);
	buf_free(&kv);
	buf_free(&ss);
	buf_free(&rs);
	buf_free(&req);
}

TEST(otlp_proto_rejects_wrong_wire_types)
{
	/* resource_spans as a varint */
	CHECK_PARSE_ERROR("\x08\x01", 2, "resource_spans: field 1 has wire type 0, expected 2");
	struct buf span;
	buf_init(&span, 4096);
	struct {
		uint32_t field, wt;
		const char *want;
	} cases[] = {
		{1, 0, "spans[0].trace_id: field 1 has wire type 0, expected 2"},
		{6, 2, "spans[0].kind: field 6 has wire type 2, expected 0"},
		{7, 0, "start_time_unix_nano: field 7 has wire type 0, expected 1"},
		{8, 5, "end_time_unix_nano: field 8 has wire type 5, expected 1"},
		{9, 0, "attributes: field 9 has wire type 0, expected 2"},
		{16, 1, "flags: field 16 has wire type 1, expected 5"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf req;
		buf_init(&req, 4096);
		make_span(&span, "w");
		pb_tag(&span, cases[i].field, cases[i].wt);
		buf_append(&span, "\x00\x00\x00\x00\x00\x00\x00\x00", cases[i].wt == 1 ? 8 : cases[i].wt == 5 ? 4 : 1);
		wrap_request(&req, &span);
		CHECK_PARSE_ERROR(req.p, req.len, cases[i].want);
		buf_free(&req);
	}
	buf_free(&span);
	/* inside an AnyValue: double_value as a varint */
	/* resource_spans { resource { attributes { value { double_value as varint } } } } */
	uint8_t any[] = {0x0a, 0x08, 0x0a, 0x06, 0x0a, 0x04, 0x12, 0x02, 0x20, 0x01};
	CHECK_PARSE_ERROR(any, sizeof any,
			  "resource_spans[0].resource.attributes[0].value.double_value: field 4 has wire type 0, "
			  "expected 1");
}

TEST(otlp_proto_rejects_groups_and_bad_wire_types)
{
	CHECK_PARSE_ERROR("\x2b", 1, "group wire type");     /* field 5, start group */
	CHECK_PARSE_ERROR("\x2c", 1, "group wire type");     /* field 5, end group */
	CHECK_PARSE_ERROR("\x2e\x00", 2, "invalid wire type 6"); /* field 5 */
	CHECK_PARSE_ERROR("\x2f\x00", 2, "invalid wire type 7");
	CHECK_PARSE_ERROR("\x02\x00", 2, "invalid field number 0");
	CHECK_PARSE_ERROR("\x11\x00\x00", 3, "fixed64 value runs past the end");  /* field 2, I64 */
	CHECK_PARSE_ERROR("\x15\x00", 2, "fixed32 value runs past the end");      /* field 2, I32 */
}

/* resource_spans { resource { attributes { key: "deep" value { array_value
 * { values { array_value { ... depth levels ... } } } } } } } */
static void make_deep(struct buf *req, int depth)
{
	struct buf cur, next;
	buf_init(&cur, 1 << 20);
	buf_init(&next, 1 << 20);
	pb_str(&cur, 1, "leaf"); /* innermost AnyValue */
	for (int i = 1; i < depth; i++) {
		/* cur is an AnyValue; wrap: ArrayValue{values: cur} then AnyValue{array_value: ...} */
		pb_msg(&next, 1, &cur);
		pb_msg(&cur, 5, &next);
	}
	struct buf kv, res, rs;
	buf_init(&kv, 1 << 20);
	buf_init(&res, 1 << 20);
	buf_init(&rs, 1 << 20);
	pb_str(&kv, 1, "deep");
	pb_msg(&kv, 2, &cur);
	pb_msg(&res, 1, &kv);
	pb_msg(&rs, 1, &res);
	pb_msg(req, 1, &rs);
	buf_free(&cur);
	buf_free(&next);
	buf_free(&kv);
	buf_free(&res);
	buf_free(&rs);
}

TEST(otlp_proto_any_value_depth_limit)
{
	struct fixture f;
	fx_init(&f);
	make_deep(&f.in, OTLP_MAX_ANY_DEPTH);
	CHECK_INT(fx_decode(&f), ==, 0);
	const struct any_value *v = &f.batch.resources[0].attrs.items[0].value;
	int levels = 1;
	while (v->type == ANY_ARRAY) {
		CHECK_INT(v->u.array.n, ==, 1);
		v = &v->u.array.items[0];
		levels++;
	}
	CHECK_INT(levels, ==, OTLP_MAX_ANY_DEPTH);
	CHECK_SLICE(v->u.str, "leaf");
	CHECK(otlp_proto_walk(buf_slice(&f.in)) > 0);
	buf_clear(&f.in);
	make_deep(&f.in, OTLP_MAX_ANY_DEPTH + 1);
	CHECK_PARSE_ERROR(f.in.p, f.in.len, "AnyValue nested deeper than 32 levels");
	CHECK_PARSE_ERROR(f.in.p, f.in.len, "resource_spans[0].resource.attributes[0].value.array_value");
	buf_clear(&f.in);
	make_deep(&f.in, 2000); /* far too deep: no stack overflow, a clear error */
	CHECK_PARSE_ERROR(f.in.p, f.in.len, "nested deeper");
	fx_free(&f);
}

TEST(otlp_proto_error_inside_nested_messages_names_the_path)
{
	/* resource_spans[0].scope_spans[0].spans[0].events[1].attributes[0].value: truncated */
	struct buf span, ev, kv;
	buf_init(&span, 4096);
	buf_init(&ev, 4096);
	buf_init(&kv, 4096);
	make_span(&span, "p");
	pb_str(&ev, 2, "e0");
	pb_msg(&span, 11, &ev);
	pb_str(&kv, 1, "k");
	pb_bytes(&kv, 2, "\x0a\x09", 2);
	pb_msg(&ev, 3, &kv);
	pb_msg(&span, 11, &ev);
	struct buf req;
	buf_init(&req, 4096);
	wrap_request(&req, &span);
	CHECK_PARSE_ERROR(req.p, req.len,
			  "resource_spans[0].scope_spans[0].spans[0].events[1].attributes[0].value."
			  "string_value: length 9 runs past the end of the message");
	/* and in a link's attribute kvlist */
	buf_clear(&req);
	struct buf link;
	buf_init(&link, 4096);
	make_span(&span, "p");
	pb_bytes(&link, 1, TID, 16);
	pb_str(&kv, 1, "k");
	pb_bytes(&kv, 2, "\x32\x03\x0a\x01\x1b", 5); /* kvlist { values { <group 3> } } */
	pb_msg(&link, 4, &kv);
	pb_msg(&span, 13, &link);
	wrap_request(&req, &span);
	CHECK_PARSE_ERROR(req.p, req.len, "spans[0].links[0].attributes[0].value.kvlist_value.values[0]: field 3 "
					  "uses a group wire type");
	buf_free(&span);
	buf_free(&ev);
	buf_free(&kv);
	buf_free(&link);
	buf_free(&req);
}

TEST(otlp_proto_every_truncation_of_a_valid_request_is_handled)
{
	if (!have_protoc())
		return;
	char cmd[1024], out[600];
	snprintf(out, sizeof out, "%s/request.bin", test_tmpdir());
	snprintf(cmd, sizeof cmd,
		 "protoc -Itests/fixtures/otlp "
		 "--encode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest "
		 "tests/fixtures/otlp/trace.proto < tests/fixtures/otlp/request.txtpb > '%s'",
		 out);
	CHECK_INT(system(cmd), ==, 0);
	struct buf in;
	buf_init(&in, 1 << 20);
	CHECK_INT(read_file_into(out, &in), ==, 0);
	/* every prefix either decodes (it ends on a field boundary) or fails
	 * with EPARSE; the walk agrees; nothing crashes under ASan */
	int failures = 0;
	for (size_t n = 0; n < in.len; n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees over-reads */
		memcpy(copy, in.p, n);
		struct arena a;
		struct span_batch b;
		struct decode_error err;
		arena_init(&a, 1 << 20);
		span_batch_init(&b, &a);
		int rc = otlp_proto_decode_request(slice_make(copy, n), &b, &err);
		long w = otlp_proto_walk(slice_make(copy, n));
		if (rc != 0 && rc != CLEW_EPARSE)
			failures++;
		if ((rc == 0) != (w >= 0))
			failures++;
		if (rc == CLEW_EPARSE && err.msg[0] == 0)
			failures++;
		arena_reset(&a);
		free(copy);
	}
	CHECK_INT(failures, ==, 0);
	buf_free(&in);
}
