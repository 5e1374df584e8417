/* Unit tests of the head: spans inserted from encoded WAL payloads come back
 * field for field, grouped by trace and sorted by start time; retries are
 * skipped as duplicates; invalid spans are not indexed; many threads insert
 * at once. */
#include "../../testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"
#include "store/head.h"

static void make_trace_id(uint8_t id[16], uint32_t n)
{
	memset(id, 0, 16);
	id[0] = 0xab;
	id[12] = (uint8_t)(n >> 24);
	id[13] = (uint8_t)(n >> 16);
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

static void make_span_id(uint8_t id[8], uint32_t trace, uint32_t n)
{
	id[0] = 0x5a;
	id[1] = (uint8_t)(trace >> 16);
	id[2] = (uint8_t)(trace >> 8);
	id[3] = (uint8_t)trace;
	id[4] = (uint8_t)(n >> 24);
	id[5] = (uint8_t)(n >> 16);
	id[6] = (uint8_t)(n >> 8);
	id[7] = (uint8_t)n;
}

static struct attr *attrs_new(struct arena *a, uint32_t n)
{
	return arena_array(a, n, sizeof(struct attr));
}

static void set_str(struct attr *at, const char *k, const char *v)
{
	at->key = slice_cstr(k);
	at->value.type = ANY_STRING;
	at->value.u.str = slice_cstr(v);
}

/* A batch with n_services resources (one scope each) and, per trace in
 * [first_trace, first_trace + n_traces), spans_per_trace spans spread over
 * the services, with every kind of field and attribute value set. */
static void build_batch(struct span_batch *b, uint32_t n_services, uint32_t first_trace, uint32_t n_traces,
			uint32_t spans_per_trace)
{
	struct arena *a = b->arena;
	static const char *const names[] = {"frontend", "checkout", "payments", "db", "cache"};
	for (uint32_t r = 0; r < n_services; r++) {
		struct resource *res = span_batch_add_resource(b);
		res->attrs.items = attrs_new(a, 3);
		res->attrs.n = 3;
		set_str(&res->attrs.items[0], "service.name", names[r % 5]);
		set_str(&res->attrs.items[1], "host.name", "node-1");
		res->attrs.items[2].key = SLICE_LIT("process.pid");
		res->attrs.items[2].value.type = ANY_INT;
		res->attrs.items[2].value.u.i = 1000 + r;
		res->dropped_attrs = r;
		res->schema_url = SLICE_LIT("https://opentelemetry.io/schemas/1.21.0");
		struct scope *sc = span_batch_add_scope(b, r);
		sc->name = SLICE_LIT("io.opentelemetry.http");
		sc->version = r % 2 ? SLICE_LIT("1.2.3") : (struct slice){0};
		sc->attrs.items = attrs_new(a, 1);
		sc->attrs.n = 1;
		set_str(&sc->attrs.items[0], "lib.flavor", "\xc3\xa9t\xc3\xa9");
		sc->schema_url = r % 2 ? SLICE_LIT("https://example.com/scope") : (struct slice){0};
	}
	for (uint32_t t = first_trace; t < first_trace + n_traces; t++) {
		for (uint32_t k = 0; k < spans_per_trace; k++) {
			/* spans go out in reverse start order to test sorting */
			uint32_t i = spans_per_trace - 1 - k;
			struct span *s = span_batch_add_span(b, i % n_services);
			make_trace_id(s->trace_id, t);
			make_span_id(s->span_id, t, i);
			if (i > 0) {
				s->has_parent = true;
				make_span_id(s->parent_span_id, t, i - 1);
			}
			s->kind = (uint8_t)(i % 6);
			s->status_code = (uint8_t)(i % 3);
			s->status_message = s->status_code == STATUS_ERROR ? SLICE_LIT("boom \"quoted\"") : (struct slice){0};
			s->flags = i % 2 ? 0x101 : 0;
			s->start_unix_ns = 1700000000000000000ll + (int64_t)i * 1000000;
			s->end_unix_ns = s->start_unix_ns + 500000 + i;
			s->trace_state = i == 1 ? SLICE_LIT("vendor=x") : (struct slice){0};
			s->name = i == 0 ? SLICE_LIT("GET /cart") : SLICE_LIT("SELECT cart");
			s->dropped_attrs = i;
			s->dropped_events = i == 2 ? 7 : 0;
			s->dropped_links = i == 2 ? 3 : 0;
			struct attr *at = attrs_new(a, 6);
			set_str(&at[0], "http.method", "GET");
			at[1].key = SLICE_LIT("ok");
			at[1].value.type = ANY_BOOL;
			at[1].value.u.b = i % 2;
			at[2].key = SLICE_LIT("n");
			at[2].value.type = ANY_INT;
			at[2].value.u.i = -(int64_t)i * 1000000007;
			at[3].key = SLICE_LIT("ratio");
			at[3].value.type = ANY_DOUBLE;
			at[3].value.u.d = 0.1 * i;
			at[4].key = SLICE_LIT("list");
			at[4].value.type = ANY_ARRAY;
			struct any_value *items = arena_array(a, 2, sizeof *items);
			items[0].type = ANY_STRING;
			items[0].u.str = SLICE_LIT("x");
			items[1].type = ANY_KVLIST;
			items[1].u.kvlist.items = attrs_new(a, 1);
			items[1].u.kvlist.n = 1;
			set_str(&items[1].u.kvlist.items[0], "inner", "v");
			at[4].value.u.array.items = items;
			at[4].value.u.array.n = 2;
			at[5].key = SLICE_LIT("blob");
			at[5].value.type = ANY_BYTES;
			at[5].value.u.str = slice_make("\x00\x01\xff", 3);
			s->attrs.items = at;
			s->attrs.n = 6;
			if (i % 2 == 0) {
				s->events = arena_array(a, 1, sizeof *s->events);
				s->n_events = 1;
				s->events[0].time_unix_ns = s->start_unix_ns + 10;
				s->events[0].name = SLICE_LIT("exception");
				s->events[0].attrs.items = attrs_new(a, 1);
				s->events[0].attrs.n = 1;
				set_str(&s->events[0].attrs.items[0], "exception.message", "bad\nthing");
				s->events[0].dropped_attrs = 2;
			}
			if (i == 3) {
				s->links = arena_array(a, 1, sizeof *s->links);
				s->n_links = 1;
				make_trace_id(s->links[0].trace_id, t + 1000);
				make_span_id(s->links[0].span_id, t + 1000, 9);
				s->links[0].trace_state = SLICE_LIT("k=v");
				s->links[0].flags = 1;
				s->links[0].dropped_attrs = 4;
			}
		}
	}
}

/* Encode b as a WAL payload, decode it again into dec (as the receivers
 * do), and return the malloc'd payload. */
static uint8_t *encode_decode(const struct span_batch *b, struct span_batch *dec, size_t *len)
{
	struct buf out;
	buf_init(&out, 64 << 20);
	otlp_encode_request(b, &out);
	if (out.err) {
		buf_free(&out);
		return NULL;
	}
	uint8_t *payload = xmalloc(out.len ? out.len : 1);
	memcpy(payload, out.p, out.len);
	*len = out.len;
	buf_free(&out);
	struct decode_error err;
	if (otlp_proto_decode_request(slice_make(payload, *len), dec, &err) < 0) {
		fprintf(stderr, "decode: %s at %zu\n", err.msg, err.offset);
		free(payload);
		return NULL;
	}
	return payload;
}

/* Every field of span x (in batch bx) equals span y (in by), including its
 * resource and scope. Returns a description of the first mismatch or NULL. */
static const char *span_diff(const struct span_batch *bx, const struct span *x, const struct span_batch *by,
			     const struct span *y)
{
	if (memcmp(x->trace_id, y->trace_id, 16) || memcmp(x->span_id, y->span_id, 8))
		return "ids";
	if (x->has_parent != y->has_parent || memcmp(x->parent_span_id, y->parent_span_id, 8))
		return "parent";
	if (x->kind != y->kind || x->status_code != y->status_code || x->flags != y->flags)
		return "kind/status/flags";
	if (x->start_unix_ns != y->start_unix_ns || x->end_unix_ns != y->end_unix_ns)
		return "times";
	if (!slice_eq(x->trace_state, y->trace_state) || !slice_eq(x->name, y->name) ||
	    !slice_eq(x->status_message, y->status_message))
		return "strings";
	if (!attr_list_eq(&x->attrs, &y->attrs) || x->dropped_attrs != y->dropped_attrs)
		return "attributes";
	if (x->n_events != y->n_events || x->dropped_events != y->dropped_events)
		return "event count";
	for (uint32_t i = 0; i < x->n_events; i++) {
		const struct span_event *e = &x->events[i], *f = &y->events[i];
		if (e->time_unix_ns != f->time_unix_ns || !slice_eq(e->name, f->name) ||
		    !attr_list_eq(&e->attrs, &f->attrs) || e->dropped_attrs != f->dropped_attrs)
			return "event";
	}
	if (x->n_links != y->n_links || x->dropped_links != y->dropped_links)
		return "link count";
	for (uint32_t i = 0; i < x->n_links; i++) {
		const struct span_link *l = &x->links[i], *m = &y->links[i];
		if (memcmp(l->trace_id, m->trace_id, 16) || memcmp(l->span_id, m->span_id, 8) ||
		    !slice_eq(l->trace_state, m->trace_state) || !attr_list_eq(&l->attrs, &m->attrs) ||
		    l->dropped_attrs != m->dropped_attrs || l->flags != m->flags)
			return "link";
	}
	const struct scope *sx = &bx->scopes[x->scope], *sy = &by->scopes[y->scope];
	if (!slice_eq(sx->name, sy->name) || !slice_eq(sx->version, sy->version) || !attr_list_eq(&sx->attrs, &sy->attrs) ||
	    sx->dropped_attrs != sy->dropped_attrs || !slice_eq(sx->schema_url, sy->schema_url))
		return "scope";
	const struct resource *rx = span_batch_resource_of(bx, x), *ry = span_batch_resource_of(by, y);
	if (!attr_list_eq(&rx->attrs, &ry->attrs) || rx->dropped_attrs != ry->dropped_attrs ||
	    !slice_eq(rx->schema_url, ry->schema_url))
		return "resource";
	return NULL;
}

static const struct span *find_span(const struct span_batch *b, const uint8_t trace_id[16], const uint8_t span_id[8])
{
	for (uint32_t i = 0; i < b->n_spans; i++)
		if (!memcmp(b->spans[i].trace_id, trace_id, 16) && !memcmp(b->spans[i].span_id, span_id, 8))
			return &b->spans[i];
	return NULL;
}

TEST(head_round_trips_every_field)
{
	struct arena a1, a2, a3;
	arena_init(&a1, 0);
	arena_init(&a2, 0);
	arena_init(&a3, 0);
	struct span_batch src, dec, got;
	span_batch_init(&src, &a1);
	span_batch_init(&dec, &a2);
	span_batch_init(&got, &a3);
	build_batch(&src, 3, 1, 4, 12);
	size_t len;
	uint8_t *payload = encode_decode(&src, &dec, &len);
	CHECK(payload != NULL);
	CHECK_INT(dec.n_spans, ==, 48);
	struct head *h = head_new();
	uint32_t dups = 99;
	CHECK_INT(head_insert(h, payload, len, &dec, &dups), ==, 0);
	CHECK_INT(dups, ==, 0);

	uint8_t tid[16];
	make_trace_id(tid, 2);
	CHECK_INT(head_get_trace(h, tid, &got), ==, 0);
	CHECK_INT(got.n_spans, ==, 12);
	/* 12 spans over 3 services share 3 resources and 3 scopes */
	CHECK_INT(got.n_resources, ==, 3);
	CHECK_INT(got.n_scopes, ==, 3);
	for (uint32_t i = 0; i < got.n_spans; i++) {
		const struct span *g = &got.spans[i];
		CHECK(memcmp(g->trace_id, tid, 16) == 0);
		if (i > 0)
			CHECK(got.spans[i - 1].start_unix_ns <= g->start_unix_ns);
		const struct span *want = find_span(&src, g->trace_id, g->span_id);
		CHECK(want != NULL);
		const char *diff = span_diff(&src, want, &got, g);
		if (diff)
			fprintf(stderr, "span %u differs in %s\n", i, diff);
		CHECK(diff == NULL);
	}
	/* the output does not point into the head */
	for (uint32_t i = 0; i < got.n_spans; i++)
		CHECK(got.spans[i].name.p < payload || got.spans[i].name.p >= payload + len);

	struct head_stats st;
	head_get_stats(h, &st);
	CHECK_INT(st.spans, ==, 48);
	CHECK_INT(st.traces, ==, 4);
	CHECK_INT(st.duplicates, ==, 0);
	CHECK(st.bytes > len);

	make_trace_id(tid, 77);
	CHECK_INT(head_get_trace(h, tid, &got), ==, CLEW_ENOTFOUND);
	head_free(h);
	arena_reset(&a1);
	arena_reset(&a2);
	arena_reset(&a3);
}

TEST(head_skips_duplicates_and_invalid_spans)
{
	struct arena a1, a2, a3, a4;
	arena_init(&a1, 0);
	arena_init(&a2, 0);
	arena_init(&a3, 0);
	arena_init(&a4, 0);
	struct span_batch src, dec, dec2, got;
	span_batch_init(&src, &a1);
	span_batch_init(&dec, &a2);
	span_batch_init(&dec2, &a3);
	span_batch_init(&got, &a4);
	build_batch(&src, 2, 10, 2, 5);
	size_t len, len2;
	uint8_t *p1 = encode_decode(&src, &dec, &len);
	uint8_t *p2 = encode_decode(&src, &dec2, &len2);
	CHECK(p1 && p2);
	/* two spans of the first copy are rejected (as validation would) */
	dec.spans[0].invalid_reason = "span id is all zero";
	dec.spans[6].invalid_reason = "end time is before start time";
	struct head *h = head_new();
	uint32_t dups = 99;
	CHECK_INT(head_insert(h, p1, len, &dec, &dups), ==, 0);
	CHECK_INT(dups, ==, 0);
	struct head_stats st;
	head_get_stats(h, &st);
	CHECK_INT(st.spans, ==, 8);
	/* the retry: the 8 spans already present are duplicates, the 2 that
	 * were invalid the first time are now indexed */
	CHECK_INT(head_insert(h, p2, len2, &dec2, &dups), ==, 0);
	CHECK_INT(dups, ==, 8);
	head_get_stats(h, &st);
	CHECK_INT(st.spans, ==, 10);
	CHECK_INT(st.duplicates, ==, 8);
	CHECK_INT(st.traces, ==, 2);
	uint8_t tid[16];
	make_trace_id(tid, 10);
	CHECK_INT(head_get_trace(h, tid, &got), ==, 0);
	CHECK_INT(got.n_spans, ==, 5);
	/* resources from two payloads with the same bytes are one resource */
	CHECK_INT(got.n_resources, ==, 2);
	for (uint32_t i = 1; i < got.n_spans; i++)
		CHECK(memcmp(got.spans[i - 1].span_id, got.spans[i].span_id, 8) != 0);

	/* a batch made only of duplicates and invalid spans keeps nothing */
	struct span_batch dec3;
	struct arena a5;
	arena_init(&a5, 0);
	span_batch_init(&dec3, &a5);
	size_t len3;
	uint8_t *p3 = encode_decode(&src, &dec3, &len3);
	CHECK(p3 != NULL);
	uint64_t bytes_before = st.bytes;
	dec3.spans[1].invalid_reason = "bad";
	CHECK_INT(head_insert(h, p3, len3, &dec3, NULL), ==, 0);
	head_get_stats(h, &st);
	CHECK_INT(st.bytes, ==, bytes_before);
	CHECK_INT(st.duplicates, ==, 17);

	/* a span whose raw bytes are not inside the payload is not indexed */
	struct span_batch dec4;
	struct arena a6;
	arena_init(&a6, 0);
	span_batch_init(&dec4, &a6);
	size_t len4;
	build_batch(&src, 1, 500, 1, 1);
	uint8_t *p4 = encode_decode(&src, &dec4, &len4);
	CHECK(p4 != NULL);
	uint32_t last = dec4.n_spans - 1;
	make_trace_id(dec4.spans[last].trace_id, 501);
	dec4.spans[last].raw = SLICE_LIT("elsewhere");
	CHECK_INT(head_insert(h, p4, len4, &dec4, &dups), ==, 0);
	make_trace_id(tid, 501);
	CHECK_INT(head_get_trace(h, tid, &got), ==, CLEW_ENOTFOUND);

	head_free(h);
	arena_reset(&a1);
	arena_reset(&a2);
	arena_reset(&a3);
	arena_reset(&a4);
	arena_reset(&a5);
	arena_reset(&a6);
}

TEST(head_insert_empty_batch_and_free_null)
{
	struct head *h = head_new();
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	uint8_t *payload = xmalloc(1);
	uint32_t dups = 5;
	CHECK_INT(head_insert(h, payload, 0, &b, &dups), ==, 0);
	CHECK_INT(dups, ==, 0);
	struct head_stats st;
	head_get_stats(h, &st);
	CHECK_INT(st.spans, ==, 0);
	CHECK_INT(st.traces, ==, 0);
	head_free(h);
	head_free(NULL);
	arena_reset(&a);
}

struct insert_job {
	struct head *h;
	uint32_t thread;
	int rc;
	uint32_t dups;
};

#define THREADS 8
#define BATCHES 20
#define TRACES_PER_BATCH 10
#define SPANS_PER_TRACE 6

/* Thread k inserts traces k*1000 + ...; every batch also repeats the
 * previous batch's traces of the neighbouring thread's range half the time
 * to race duplicates across threads. */
static void *insert_thread(void *arg)
{
	struct insert_job *job = arg;
	for (uint32_t n = 0; n < BATCHES; n++) {
		struct arena a1, a2;
		arena_init(&a1, 0);
		arena_init(&a2, 0);
		struct span_batch src, dec;
		span_batch_init(&src, &a1);
		span_batch_init(&dec, &a2);
		/* even and odd threads write the same traces: pairs race */
		uint32_t base = (job->thread / 2) * 100000 + n * TRACES_PER_BATCH;
		build_batch(&src, 3, base, TRACES_PER_BATCH, SPANS_PER_TRACE);
		size_t len;
		uint8_t *payload = encode_decode(&src, &dec, &len);
		uint32_t dups = 0;
		if (!payload || head_insert(job->h, payload, len, &dec, &dups) < 0)
			job->rc = -1;
		job->dups += dups;
		arena_reset(&a1);
		arena_reset(&a2);
	}
	return NULL;
}

TEST(head_concurrent_inserts)
{
	struct head *h = head_new();
	pthread_t th[THREADS];
	struct insert_job jobs[THREADS];
	for (uint32_t k = 0; k < THREADS; k++) {
		jobs[k] = (struct insert_job){.h = h, .thread = k};
		CHECK_INT(pthread_create(&th[k], NULL, insert_thread, &jobs[k]), ==, 0);
	}
	uint32_t dups = 0;
	for (uint32_t k = 0; k < THREADS; k++) {
		pthread_join(th[k], NULL);
		CHECK_INT(jobs[k].rc, ==, 0);
		dups += jobs[k].dups;
	}
	uint64_t unique = (uint64_t)THREADS / 2 * BATCHES * TRACES_PER_BATCH * SPANS_PER_TRACE;
	struct head_stats st;
	head_get_stats(h, &st);
	CHECK_INT(st.spans, ==, unique);
	CHECK_INT(st.duplicates, ==, unique);
	CHECK_INT(dups, ==, unique);
	CHECK_INT(st.traces, ==, THREADS / 2 * BATCHES * TRACES_PER_BATCH);
	for (uint32_t pair = 0; pair < THREADS / 2; pair++) {
		for (uint32_t t = 0; t < BATCHES * TRACES_PER_BATCH; t += 37) {
			struct arena a;
			arena_init(&a, 0);
			struct span_batch got;
			span_batch_init(&got, &a);
			uint8_t tid[16];
			make_trace_id(tid, pair * 100000 + t);
			CHECK_INT(head_get_trace(h, tid, &got), ==, 0);
			CHECK_INT(got.n_spans, ==, SPANS_PER_TRACE);
			CHECK_INT(got.n_resources, ==, 3);
			arena_reset(&a);
		}
	}
	head_free(h);
}

TEST(head_large_trace_and_many_traces)
{
	/* one trace of 5,000 spans (dedup table and ref growth), read back
	 * sorted; stats report the memory per span */
	struct arena a1, a2, a3;
	arena_init(&a1, 0);
	arena_init(&a2, 0);
	arena_init(&a3, 0);
	struct span_batch src, dec, got;
	span_batch_init(&src, &a1);
	span_batch_init(&dec, &a2);
	span_batch_init(&got, &a3);
	build_batch(&src, 5, 42, 1, 5000);
	size_t len;
	uint8_t *payload = encode_decode(&src, &dec, &len);
	CHECK(payload != NULL);
	struct head *h = head_new();
	CHECK_INT(head_insert(h, payload, len, &dec, NULL), ==, 0);
	uint8_t tid[16];
	make_trace_id(tid, 42);
	CHECK_INT(head_get_trace(h, tid, &got), ==, 0);
	CHECK_INT(got.n_spans, ==, 5000);
	CHECK_INT(got.n_resources, ==, 5);
	for (uint32_t i = 1; i < got.n_spans; i++)
		CHECK(got.spans[i - 1].start_unix_ns < got.spans[i].start_unix_ns);
	struct head_stats st;
	head_get_stats(h, &st);
	CHECK_INT(st.spans, ==, 5000);
	uint64_t index_per_span = (st.bytes - len) / 5000;
	CHECK_INT(index_per_span, <, 120);
	CHECK_INT(index_per_span, >=, 40);
	head_free(h);
	arena_reset(&a1);
	arena_reset(&a2);
	arena_reset(&a3);
}
