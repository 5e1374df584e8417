/* Critical path of hand-built traces: sequential and concurrent children,
 * skew between services, async children, missing parents, single spans,
 * zero durations, identical timestamps; and the aggregation's shares.
 * Over a store (generated traffic in blocks and the head): cp_agg_scan
 * column by column and span by span, one or two workers, equal to the
 * serialised visitor over whole traces; a trace split by a flush counted
 * once, whole; cp_agg_merge equal to one aggregate. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/critical_path.h"
#include "base/buf.h"
#include "base/err.h"
#include "gen/topology.h"
#include "gen/tracegen.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"
#include "query/exec.h"
#include "query/exec_int.h"
#include "store/store.h"
#include "../../testlib.h"

#define MS 1000000LL
#define T0 1700000000000000000LL

static struct arena g_arena, g_scratch;
static struct span_batch g_b;

static void t_begin(void)
{
	arena_reset(&g_arena);
	arena_init(&g_arena, 0);
	span_batch_init(&g_b, &g_arena);
}

/* the scope of service svc (a resource and scope per service) */
static uint32_t scope_of(const char *svc)
{
	for (uint32_t k = 0; k < g_b.n_resources; k++)
		if (slice_eq_cstr(resource_service_name(&g_b.resources[k]), svc))
			for (uint32_t s = 0; s < g_b.n_scopes; s++)
				if (g_b.scopes[s].resource == k)
					return s;
	struct resource *r = span_batch_add_resource(&g_b);
	r->attrs.items = arena_zalloc(&g_arena, sizeof(struct attr));
	r->attrs.n = 1;
	r->attrs.items[0].key = slice_cstr("service.name");
	r->attrs.items[0].value.type = ANY_STRING;
	r->attrs.items[0].value.u.str = slice_cstr(svc);
	span_batch_add_scope(&g_b, g_b.n_resources - 1);
	return g_b.n_scopes - 1;
}

/* span id, parent id (0 = root), times in ms from T0 */
static struct span *add(const char *svc, const char *name, uint8_t kind, int id, int parent, int64_t start_ms,
			int64_t end_ms)
{
	uint32_t sc = scope_of(svc);
	struct span *s = span_batch_add_span(&g_b, sc);
	s->trace_id[15] = 1;
	s->span_id[7] = (uint8_t)id;
	s->span_id[6] = (uint8_t)(id >> 8);
	if (parent) {
		s->has_parent = true;
		s->parent_span_id[7] = (uint8_t)parent;
		s->parent_span_id[6] = (uint8_t)(parent >> 8);
	}
	s->name = slice_cstr(name);
	s->kind = kind;
	s->start_unix_ns = T0 + start_ms * MS;
	s->end_unix_ns = T0 + end_ms * MS;
	return s;
}

static int compute(struct cp_trace *t)
{
	arena_reset(&g_scratch);
	arena_init(&g_scratch, 0);
	int rc = cp_trace_compute(&g_b, 0, g_b.n_spans, &g_scratch, t);
	if (rc == 0) { /* the path always covers the root exactly */
		int64_t sum = 0;
		for (uint32_t i = 0; i < t->n; i++)
			sum += t->spans[i].self_ns;
		if (sum != t->total_ns)
			return -1;
	}
	return rc;
}

TEST(cp_sequential_children)
{
	struct cp_trace t;
	t_begin();
	add("gw", "GET /", SPAN_KIND_SERVER, 1, 0, 0, 100);
	add("gw", "a", SPAN_KIND_INTERNAL, 2, 1, 10, 30);
	add("gw", "b", SPAN_KIND_INTERNAL, 3, 1, 40, 90);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.root, ==, 0);
	CHECK_INT(t.total_ns, ==, 100 * MS);
	CHECK_INT(t.spans[0].self_ns, ==, 30 * MS); /* 0-10, 30-40, 90-100 */
	CHECK_INT(t.spans[1].self_ns, ==, 20 * MS);
	CHECK_INT(t.spans[2].self_ns, ==, 50 * MS);
	CHECK_INT(t.n_path, ==, 3);
	CHECK_INT(t.path[0], ==, 0);
	CHECK_INT(t.path[1], ==, 2); /* walked backwards: b first */
	CHECK_INT(t.n_adjusted, ==, 0);
}

TEST(cp_concurrent_children)
{
	struct cp_trace t;
	t_begin();
	add("gw", "GET /", SPAN_KIND_SERVER, 1, 0, 0, 100);
	add("gw", "fast", SPAN_KIND_CLIENT, 2, 1, 10, 40);
	add("gw", "slow", SPAN_KIND_CLIENT, 3, 1, 10, 80);
	add("gw", "mid", SPAN_KIND_CLIENT, 4, 1, 20, 60);
	add("db", "q", SPAN_KIND_SERVER, 5, 3, 15, 75);
	CHECK_INT(compute(&t), ==, 0);
	/* slow ends last; nothing else ends before it starts (10) */
	CHECK_INT(t.spans[0].self_ns, ==, 30 * MS);
	CHECK_INT(t.spans[1].self_ns, ==, 0);
	CHECK(!t.spans[1].on_path);
	CHECK(!t.spans[3].on_path);
	CHECK_INT(t.spans[2].self_ns, ==, 10 * MS); /* 10-15 and 75-80 */
	CHECK_INT(t.spans[4].self_ns, ==, 60 * MS);
	CHECK(t.spans[4].on_path);
}

TEST(cp_child_before_previous_start)
{
	/* c ends before b starts, d overlaps b: path is root, b, c */
	struct cp_trace t;
	t_begin();
	add("gw", "root", SPAN_KIND_SERVER, 1, 0, 0, 100);
	add("gw", "c", SPAN_KIND_INTERNAL, 2, 1, 5, 20);
	add("gw", "b", SPAN_KIND_INTERNAL, 3, 1, 50, 95);
	add("gw", "d", SPAN_KIND_INTERNAL, 4, 1, 10, 60);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.spans[2].self_ns, ==, 45 * MS);
	CHECK_INT(t.spans[3].self_ns, ==, 0);
	CHECK_INT(t.spans[1].self_ns, ==, 15 * MS);
	CHECK_INT(t.spans[0].self_ns, ==, 40 * MS); /* 0-5, 20-50, 95-100 */
}

TEST(cp_skew_shifted_into_parent)
{
	/* a server span of another service 50 ms early: shifted in, centred */
	struct cp_trace t;
	t_begin();
	add("gw", "call", SPAN_KIND_CLIENT, 1, 0, 100, 200);
	add("db", "serve", SPAN_KIND_SERVER, 2, 1, 50, 130);
	add("db", "inner", SPAN_KIND_INTERNAL, 3, 2, 60, 120);
	CHECK_INT(compute(&t), ==, 0);
	CHECK(t.spans[1].adjusted);
	CHECK(!t.spans[2].adjusted); /* moved with its parent, not adjusted itself */
	CHECK_INT(t.n_adjusted, ==, 1);
	CHECK_INT(t.spans[1].start_unix_ns, ==, T0 + 110 * MS);
	CHECK_INT(t.spans[1].end_unix_ns, ==, T0 + 190 * MS);
	CHECK_INT(t.spans[2].start_unix_ns, ==, T0 + 120 * MS);
	CHECK_INT(t.spans[2].end_unix_ns, ==, T0 + 180 * MS);
	CHECK_INT(t.spans[0].self_ns, ==, 20 * MS);
	CHECK_INT(t.spans[1].self_ns, ==, 20 * MS);
	CHECK_INT(t.spans[2].self_ns, ==, 60 * MS);
}

TEST(cp_child_longer_than_parent)
{
	/* another service's child longer than its parent: clipped to it, and
	 * its own children follow into the clipped window */
	struct cp_trace t;
	t_begin();
	add("gw", "call", SPAN_KIND_CLIENT, 1, 0, 100, 150);
	add("db", "serve", SPAN_KIND_SERVER, 2, 1, 90, 190);
	add("db", "inner", SPAN_KIND_INTERNAL, 3, 2, 95, 185);
	CHECK_INT(compute(&t), ==, 0);
	CHECK(t.spans[1].adjusted);
	CHECK(!t.spans[1].async);
	CHECK(!t.spans[2].async);
	CHECK_INT(t.spans[1].start_unix_ns, ==, T0 + 100 * MS);
	CHECK_INT(t.spans[1].end_unix_ns, ==, T0 + 150 * MS);
	CHECK(t.spans[2].end_unix_ns <= T0 + 150 * MS);
	CHECK(t.spans[2].on_path);
	CHECK_INT(t.spans[0].self_ns, ==, 0);
	CHECK_INT(t.total_ns, ==, 50 * MS);
}

TEST(cp_async_children)
{
	struct cp_trace t;
	t_begin();
	add("gw", "root", SPAN_KIND_SERVER, 1, 0, 0, 100);
	add("gw", "send", SPAN_KIND_PRODUCER, 2, 1, 10, 20);
	add("worker", "consume", SPAN_KIND_CONSUMER, 3, 2, 30, 300);
	add("gw", "fire-and-forget", SPAN_KIND_INTERNAL, 4, 1, 50, 400);
	add("gw", "consume-inline", SPAN_KIND_CONSUMER, 5, 1, 60, 70);
	CHECK_INT(compute(&t), ==, 0);
	CHECK(t.spans[2].async);
	CHECK(t.spans[3].async);
	CHECK(t.spans[4].async);
	CHECK(!t.spans[1].async);
	CHECK(!t.spans[2].on_path && !t.spans[3].on_path && !t.spans[4].on_path);
	CHECK_INT(t.spans[1].self_ns, ==, 10 * MS);
	CHECK_INT(t.spans[0].self_ns, ==, 90 * MS);
	CHECK_INT(t.total_ns, ==, 100 * MS);
}

TEST(cp_missing_parents)
{
	/* no root span: the longest orphan is the root, the other is detached */
	struct cp_trace t;
	t_begin();
	add("a", "orphan-short", SPAN_KIND_SERVER, 2, 99, 0, 10);
	add("b", "orphan-long", SPAN_KIND_SERVER, 3, 98, 5, 50);
	add("b", "child", SPAN_KIND_INTERNAL, 4, 3, 10, 40);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.root, ==, 1);
	CHECK(t.spans[0].detached);
	CHECK(!t.spans[0].on_path);
	CHECK_INT(t.spans[2].self_ns, ==, 30 * MS);
	CHECK_INT(t.total_ns, ==, 45 * MS);
	/* a true root beats a longer orphan */
	t_begin();
	add("a", "root", SPAN_KIND_SERVER, 1, 0, 0, 10);
	add("b", "orphan", SPAN_KIND_SERVER, 2, 77, 0, 500);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.root, ==, 0);
	CHECK_INT(t.total_ns, ==, 10 * MS);
}

TEST(cp_single_and_zero_duration)
{
	struct cp_trace t;
	t_begin();
	add("a", "only", SPAN_KIND_SERVER, 1, 0, 0, 7);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.spans[0].self_ns, ==, 7 * MS);
	CHECK_INT(t.n_path, ==, 1);
	t_begin();
	add("a", "zero", SPAN_KIND_SERVER, 1, 0, 5, 5);
	add("a", "zero-child", SPAN_KIND_INTERNAL, 2, 1, 5, 5);
	add("a", "zero-child2", SPAN_KIND_INTERNAL, 3, 1, 5, 5);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.total_ns, ==, 0);
	CHECK(t.spans[0].on_path);
	/* zero-length children of a long parent */
	t_begin();
	add("a", "root", SPAN_KIND_SERVER, 1, 0, 0, 10);
	add("a", "z1", SPAN_KIND_INTERNAL, 2, 1, 5, 5);
	add("a", "z2", SPAN_KIND_INTERNAL, 3, 1, 5, 5);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.spans[0].self_ns, ==, 10 * MS);
}

TEST(cp_identical_timestamps)
{
	/* children with the same times: one is picked, deterministically */
	struct cp_trace t, u;
	t_begin();
	add("a", "root", SPAN_KIND_SERVER, 1, 0, 0, 100);
	add("a", "x", SPAN_KIND_INTERNAL, 2, 1, 0, 100);
	add("a", "y", SPAN_KIND_INTERNAL, 3, 1, 0, 100);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.spans[0].self_ns, ==, 0);
	CHECK_INT(t.spans[1].self_ns + t.spans[2].self_ns, ==, 100 * MS);
	CHECK(t.spans[1].on_path != t.spans[2].on_path);
	int first = t.spans[1].on_path;
	CHECK_INT(compute(&u), ==, 0);
	CHECK_INT(u.spans[1].on_path, ==, first);
}

TEST(cp_bad_input)
{
	struct cp_trace t;
	t_begin();
	arena_reset(&g_scratch);
	CHECK_INT(cp_trace_compute(&g_b, 0, 0, &g_scratch, &t), ==, CLEW_EINVAL);
	/* a parent cycle and a self-parent: no root, still terminates */
	add("a", "x", SPAN_KIND_SERVER, 1, 2, 0, 50);
	add("a", "y", SPAN_KIND_SERVER, 2, 1, 10, 40);
	add("a", "self", SPAN_KIND_SERVER, 3, 3, 0, 5);
	add("a", "dup", SPAN_KIND_INTERNAL, 2, 1, 0, 1); /* duplicate id */
	add("a", "backwards", SPAN_KIND_INTERNAL, 5, 1, 30, 20); /* end before start */
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.root, ==, 2); /* the self-parent is an orphan: the only root */
	CHECK_INT(t.total_ns, ==, 5 * MS);
	CHECK(t.spans[0].detached && t.spans[1].detached);
	/* a cycle alone: broken at its longest span */
	t_begin();
	add("a", "x", SPAN_KIND_SERVER, 1, 2, 0, 50);
	add("a", "y", SPAN_KIND_SERVER, 2, 1, 10, 40);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.root, ==, 0);
	CHECK_INT(t.total_ns, ==, 50 * MS);
	CHECK_INT(t.spans[1].self_ns, ==, 30 * MS);
	/* an arena that refuses */
	struct arena tiny;
	arena_init(&tiny, 64);
	CHECK_INT(cp_trace_compute(&g_b, 0, g_b.n_spans, &tiny, &t), ==, CLEW_ENOMEM);
	arena_reset(&tiny);
}

TEST(cp_deep_chain)
{
	/* 5000 nested spans: no recursion, exact total */
	struct cp_trace t;
	t_begin();
	for (int k = 1; k <= 5000; k++)
		add("a", "n", SPAN_KIND_INTERNAL, k, k - 1, k, 20000 - k);
	CHECK_INT(compute(&t), ==, 0);
	CHECK_INT(t.n_path, ==, 5000);
	CHECK_INT(t.spans[4999].self_ns, ==, (20000 - 5000 - 5000) * MS);
}

TEST(cp_aggregate_shares)
{
	struct cp_agg *g = cp_agg_new();
	CHECK(g);
	struct arena scratch, out;
	arena_init(&scratch, 0);
	arena_init(&out, 0);
	/* trace 1: gw 20 self, db 80 */
	t_begin();
	add("gw", "GET /", SPAN_KIND_SERVER, 1, 0, 0, 100);
	add("db", "query", SPAN_KIND_SERVER, 2, 1, 10, 90);
	CHECK_INT(cp_agg_add_trace(g, &g_b, 0, 2, &scratch), ==, 0);
	/* trace 2 in the same batch: gw calls db twice, 10 + 10, gw self 80 */
	add("gw", "GET /", SPAN_KIND_SERVER, 11, 0, 0, 100);
	add("db", "query", SPAN_KIND_SERVER, 12, 11, 10, 20);
	add("db", "query", SPAN_KIND_SERVER, 13, 11, 50, 60);
	CHECK_INT(cp_agg_add_trace(g, &g_b, 2, 3, &scratch), ==, 0);
	CHECK_INT(cp_agg_traces(g), ==, 2);
	CHECK_INT(cp_agg_total_ns(g), ==, 200 * MS);
	struct cp_segment *seg;
	uint32_t n;
	CHECK_INT(cp_agg_segments(g, &out, &seg, &n), ==, 0);
	CHECK_INT(n, ==, 2);
	CHECK_SLICE(seg[0].service, "db"); /* 100 vs 100: tie broken by service */
	CHECK_SLICE(seg[1].service, "gw");
	CHECK(fabs(seg[0].share - 0.5) < 1e-9);
	CHECK(fabs(seg[1].share - 0.5) < 1e-9);
	CHECK_INT(seg[0].traces, ==, 2);
	CHECK_INT(seg[0].self_ns_total, ==, 100 * MS);
	/* db's per-trace self time: 80 and 20 (both calls of trace 2 summed) */
	CHECK(fabs(seg[0].self_p50_ms - 20) < 0.5);
	CHECK(fabs(seg[1].self_p50_ms - 20) < 0.5);
	CHECK(fabs(cp_agg_share(g, slice_cstr("db"), slice_cstr("query")) - 0.5) < 1e-9);
	CHECK(cp_agg_share(g, slice_cstr("db"), slice_cstr("nope")) == 0);
	arena_reset(&scratch);
	arena_reset(&out);
	cp_agg_free(g);
}

TEST(cp_aggregate_empty)
{
	struct cp_agg *g = cp_agg_new();
	struct arena out;
	arena_init(&out, 0);
	struct cp_segment *seg;
	uint32_t n = 7;
	CHECK(g);
	CHECK_INT(cp_agg_segments(g, &out, &seg, &n), ==, 0);
	CHECK_INT(n, ==, 0);
	CHECK(cp_agg_share(g, slice_cstr("x"), slice_cstr("y")) == 0);
	arena_reset(&out);
	cp_agg_free(g);
	cp_agg_free(NULL);
}

/* ---- over a store ---- */

static int64_t g_gen_t0 = 1767225600LL * 1000000000LL;

/* A store of generated traffic: batches flushed into two blocks, the rest
 * left in the head (test_service_graph.c uses it too). */
struct store *cp_test_gen_store(const char *name, int64_t *end_ns);
struct store *cp_test_gen_store(const char *name, int64_t *end_ns)
{
	char dir[600], err[512];
	int rc;
	snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
	struct store_options o = {.data_dir = dir, .manual_maintenance = 1, .wal_sync = WAL_SYNC_NONE};
	struct store *st = store_open(&o, &rc, err, sizeof err);
	if (!st)
		return NULL;
	struct topo t;
	struct gen g;
	struct arena a;
	struct span_batch b;
	topo_init(&t);
	arena_init(&a, 0);
	struct gen_config c = {.seed = 7, .start_unix_ns = g_gen_t0, .clock_rate = 2000, .accounts = 50,
			       .zipf_s = 1.0, .batch_spans = 500, .topo = &t};
	rc = topo_default(&t);
	if (rc == 0)
		rc = gen_init(&g, &c);
	for (int k = 0; rc == 0 && k < 12; k++) {
		if ((rc = gen_next_batch(&g, &a, &b)) < 0)
			break;
		for (uint32_t i = 0; i < b.n_spans; i++)
			if (b.spans[i].end_unix_ns > *end_ns)
				*end_ns = b.spans[i].end_unix_ns;
		struct buf enc;
		buf_init(&enc, 1 << 24);
		otlp_encode_request(&b, &enc);
		struct span_batch d;
		struct decode_error de;
		span_batch_init(&d, &a);
		if ((rc = otlp_proto_decode_request(buf_slice(&enc), &d, &de)) == 0)
			rc = store_append(st, enc.p, enc.len, &d);
		else
			buf_free(&enc);
		if (rc == 0 && (k == 4 || k == 8))
			rc = store_flush(st);
		arena_reset(&a);
	}
	if (rc == 0)
		gen_free(&g);
	topo_free(&t);
	if (rc < 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

struct serial_cp {
	struct cp_agg *agg;
	struct arena scratch;
};

static int serial_cp_visit(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n,
			   const uint32_t *matched, uint32_t n_matched)
{
	struct serial_cp *c = ctx;
	(void)matched;
	(void)n_matched;
	return cp_agg_add_trace(c->agg, b, first, n, &c->scratch);
}

/* Two aggregates give the same segments, figures and quantiles. */
static bool same_agg(const struct cp_agg *x, const struct cp_agg *y)
{
	struct arena a;
	arena_init(&a, 0);
	struct cp_segment *sx, *sy;
	uint32_t nx, ny;
	bool ok = cp_agg_segments(x, &a, &sx, &nx) == 0 && cp_agg_segments(y, &a, &sy, &ny) == 0 && nx == ny &&
		  cp_agg_traces(x) == cp_agg_traces(y) && cp_agg_total_ns(x) == cp_agg_total_ns(y);
	for (uint32_t k = 0; ok && k < nx; k++)
		ok = slice_eq(sx[k].service, sy[k].service) && slice_eq(sx[k].name, sy[k].name) &&
		     sx[k].traces == sy[k].traces && sx[k].self_ns_total == sy[k].self_ns_total &&
		     sx[k].self_p50_ms == sy[k].self_p50_ms && sx[k].self_p99_ms == sy[k].self_p99_ms;
	arena_reset(&a);
	return ok;
}

static struct exec_query *compile(const char *q, struct arena *a)
{
	struct tql_error e;
	char err[128];
	int rc;
	struct tql_query *tq = tql_parse(q, strlen(q), a, &e);
	return tq ? exec_compile(tq, a, &rc, err, sizeof err) : NULL;
}

TEST(cp_scan_columnar_matches_span_by_span)
{
	int64_t end = 0;
	struct store *st = cp_test_gen_store("cp_scan", &end);
	CHECK(st);
	if (!st)
		return;
	struct arena a;
	arena_init(&a, 0);
	const char *queries[] = {"{}", "{ resource.service.name = \"payments\" }", "{ status = error }"};
	/* whole range, a window cutting traces, a range with nothing */
	int64_t ranges[3][2] = {{0, 0}, {g_gen_t0 + 500000000LL, g_gen_t0 + 1500000000LL}, {1, 2}};
	for (int qi = 0; qi < 3; qi++) {
		struct exec_query *xq = compile(queries[qi], &a);
		CHECK(xq);
		for (int r = 0; xq && r < 3; r++) {
			struct exec_options o = {.start_ns = ranges[r][0], .end_ns = ranges[r][1], .threads = 1};
			struct serial_cp ref = {.agg = cp_agg_new()};
			arena_init(&ref.scratch, 0);
			bool per_span = xq->per_span;
			xq->per_span = false; /* the reference: every trace whole, once */
			CHECK_INT(exec_scan(&store_embedded_query_ops, st, xq, &o, serial_cp_visit, &ref, NULL), ==, 0);
			xq->per_span = per_span;
			if (qi == 0 && r == 0)
				CHECK(cp_agg_traces(ref.agg) > 100);
			if (r == 2)
				CHECK_INT(cp_agg_traces(ref.agg), ==, 0);
			for (int mode = 0; mode < 4; mode++) {
				struct cp_agg *g = NULL;
				cp_set_columnar(mode & 1);
				o.threads = mode & 2 ? 2 : 1;
				CHECK_INT(cp_agg_scan(&store_embedded_query_ops, st, xq, &o, &g), ==, 0);
				CHECK(g && same_agg(g, ref.agg));
				cp_agg_free(g);
			}
			cp_set_columnar(true);
			arena_reset(&ref.scratch);
			cp_agg_free(ref.agg);
		}
		exec_query_free(xq);
	}
	/* an empty filter result and a failing scan leave no aggregate */
	struct exec_query *xq = compile("{ name = \"no such span\" }", &a);
	struct cp_agg *g = (struct cp_agg *)&a;
	struct exec_options o = {0};
	CHECK_INT(cp_agg_scan(&store_embedded_query_ops, st, xq, &o, &g), ==, 0);
	CHECK(g && cp_agg_traces(g) == 0);
	cp_agg_free(g);
	o.max_pages = 0;
	o.time_ns = 1; /* the time budget runs out at once */
	g = (struct cp_agg *)&a;
	CHECK_INT(cp_agg_scan(&store_embedded_query_ops, st, xq, &o, &g), ==, CLEW_EBUSY);
	CHECK(g == NULL);
	exec_query_free(xq);
	arena_reset(&a);
	store_close(st);
}

TEST(cp_agg_merge_equals_one_aggregate)
{
	t_begin();
	struct arena scratch;
	arena_init(&scratch, 0);
	struct cp_agg *one = cp_agg_new(), *x = cp_agg_new(), *y = cp_agg_new(), *m = cp_agg_new();
	CHECK(one && x && y && m);
	for (int t = 0; t < 6; t++) {
		uint32_t first = g_b.n_spans;
		add("gw", "GET", SPAN_KIND_SERVER, 1, 0, 0, 100 + t * 10);
		add("db", t % 2 ? "query" : "insert", SPAN_KIND_CLIENT, 2, 1, 10, 40 + t);
		for (uint32_t i = first; i < g_b.n_spans; i++)
			g_b.spans[i].trace_id[0] = (uint8_t)t;
		CHECK_INT(cp_agg_add_trace(one, &g_b, first, g_b.n_spans - first, &scratch), ==, 0);
		CHECK_INT(cp_agg_add_trace(t < 2 ? x : y, &g_b, first, g_b.n_spans - first, &scratch), ==, 0);
	}
	CHECK_INT(cp_agg_merge(m, x), ==, 0);
	CHECK_INT(cp_agg_merge(m, y), ==, 0);
	CHECK(same_agg(m, one));
	CHECK(!same_agg(x, one));
	/* merging an empty aggregate changes nothing */
	struct cp_agg *e = cp_agg_new();
	CHECK_INT(cp_agg_merge(m, e), ==, 0);
	CHECK(same_agg(m, one));
	cp_agg_free(e);
	cp_agg_free(one);
	cp_agg_free(x);
	cp_agg_free(y);
	cp_agg_free(m);
	arena_reset(&scratch);
}

/* Append the spans g_b holds to the store, as an OTLP request would. */
static int append_batch(struct store *st)
{
	struct buf enc;
	struct span_batch d;
	struct decode_error de;
	buf_init(&enc, 1 << 20);
	otlp_encode_request(&g_b, &enc);
	span_batch_init(&d, &g_arena);
	int rc = otlp_proto_decode_request(buf_slice(&enc), &d, &de);
	if (rc == 0)
		return store_append(st, enc.p, enc.len, &d);
	buf_free(&enc);
	return rc;
}

/* A trace whose spans arrive on both sides of a flush lives in a block and
 * in the head (and, after a second flush, in two blocks): it is one trace,
 * aggregated whole, whichever way the scan reads it. */
TEST(cp_scan_trace_split_by_flush)
{
	char dir[600], err[512];
	int rc;
	snprintf(dir, sizeof dir, "%s/cp_split", test_tmpdir());
	struct store_options so = {.data_dir = dir, .manual_maintenance = 1, .wal_sync = WAL_SYNC_NONE};
	struct store *st = store_open(&so, &rc, err, sizeof err);
	CHECK(st);
	if (!st)
		return;
	/* gw GET [0, 100] -> api handle [10, 90] -> db query [20, 80] */
	t_begin();
	add("gw", "GET", SPAN_KIND_SERVER, 1, 0, 0, 100);
	CHECK_INT(append_batch(st), ==, 0);
	CHECK_INT(store_flush(st), ==, 0);
	t_begin();
	add("api", "handle", SPAN_KIND_SERVER, 2, 1, 10, 90);
	add("db", "query", SPAN_KIND_CLIENT, 3, 2, 20, 80);
	CHECK_INT(append_batch(st), ==, 0);
	struct arena a;
	arena_init(&a, 0);
	const char *queries[] = {"{}", "{ name = \"query\" }"};
	for (int flushed = 0; flushed < 2; flushed++) {
		if (flushed)
			CHECK_INT(store_flush(st), ==, 0); /* the second part into a block of its own */
		for (int qi = 0; qi < 2; qi++) {
			struct exec_query *xq = compile(queries[qi], &a);
			CHECK(xq);
			bool per_span = xq ? xq->per_span : false;
			for (int mode = 0; xq && mode < 4; mode++) {
				struct exec_options o = {.threads = mode & 2 ? 2 : 1};
				struct cp_agg *g = NULL;
				cp_set_columnar(mode & 1);
				CHECK_INT(cp_agg_scan(&store_embedded_query_ops, st, xq, &o, &g), ==, 0);
				CHECK(g != NULL);
				if (!g)
					continue;
				if (cp_agg_traces(g) != 1)
					fprintf(stderr, "flushed %d query %d mode %d: %llu traces\n", flushed, qi, mode,
						(unsigned long long)cp_agg_traces(g));
				CHECK_INT(cp_agg_traces(g), ==, 1);
				CHECK_INT(cp_agg_total_ns(g), ==, 100 * MS);
				/* gw 20 ms, api 20 ms, db 60 ms of the whole trace's 100 */
				CHECK(fabs(cp_agg_share(g, slice_cstr("gw"), slice_cstr("GET")) - 0.2) < 1e-9);
				CHECK(fabs(cp_agg_share(g, slice_cstr("api"), slice_cstr("handle")) - 0.2) < 1e-9);
				CHECK(fabs(cp_agg_share(g, slice_cstr("db"), slice_cstr("query")) - 0.6) < 1e-9);
				CHECK(xq->per_span == per_span); /* the caller's query is left as it was */
				cp_agg_free(g);
			}
			cp_set_columnar(true);
			exec_query_free(xq);
		}
	}
	arena_reset(&a);
	store_close(st);
}
