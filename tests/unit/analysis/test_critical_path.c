/* Critical path of hand-built traces: sequential and concurrent children,
 * skew between services, async children, missing parents, single spans,
 * zero durations, identical timestamps; and the aggregation's shares. */
#include <math.h>
#include <string.h>

#include "analysis/critical_path.h"
#include "base/err.h"
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
