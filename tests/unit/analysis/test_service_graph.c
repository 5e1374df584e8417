/* The service graph over hand-built traces: client/server pairs, inferred
 * databases, messaging and external hosts, teams, rates and error rates,
 * time filters, caps; the live graph fed batch by batch (pairs split across
 * batches either way, pending expiry, the window) agrees with the scan.
 * sg_graph_scan over a store (workers, graphs merged) equals the
 * serialised visitor, with and without a TraceQL filter. */
#include <math.h>
#include <string.h>

#include "../../testlib.h"
#include "analysis/service_graph.h"
#include "base/err.h"
#include "query/exec.h"
#include "store/store.h"

#define MS 1000000LL
#define MIN (60LL * 1000000000LL)

static struct arena g_arena;
static struct span_batch g_b;
static int64_t g_t0;

static void t_begin(int64_t t0)
{
	arena_reset(&g_arena);
	arena_init(&g_arena, 0);
	span_batch_init(&g_b, &g_arena);
	g_t0 = t0;
}

static void set_str(struct attr *a, const char *k, const char *v)
{
	a->key = slice_cstr(k);
	a->value.type = ANY_STRING;
	a->value.u.str = slice_cstr(v);
}

/* A fresh resource and scope for service svc with an optional team. */
static uint32_t res(const char *svc, const char *team)
{
	struct resource *r = span_batch_add_resource(&g_b);
	r->attrs.items = arena_zalloc(&g_arena, 2 * sizeof(struct attr));
	set_str(&r->attrs.items[r->attrs.n++], "service.name", svc);
	if (team)
		set_str(&r->attrs.items[r->attrs.n++], "team.name", team);
	span_batch_add_scope(&g_b, g_b.n_resources - 1);
	return g_b.n_scopes - 1;
}

/* trace tr, span id, parent id (0 = none), times in ms from g_t0, and up
 * to two attributes as "k=v" strings */
static struct span *add(uint32_t scope, int tr, int id, int parent, uint8_t kind, int64_t start_ms, int64_t end_ms,
			bool error, const char *a1, const char *a2)
{
	struct span *s = span_batch_add_span(&g_b, scope);
	s->trace_id[15] = (uint8_t)tr;
	s->trace_id[14] = (uint8_t)(tr >> 8);
	s->span_id[7] = (uint8_t)id;
	s->span_id[6] = (uint8_t)(id >> 8);
	if (parent) {
		s->has_parent = true;
		s->parent_span_id[7] = (uint8_t)parent;
		s->parent_span_id[6] = (uint8_t)(parent >> 8);
	}
	s->name = slice_cstr("op");
	s->kind = kind;
	s->status_code = error ? STATUS_ERROR : STATUS_UNSET;
	s->start_unix_ns = g_t0 + start_ms * MS;
	s->end_unix_ns = g_t0 + end_ms * MS;
	const char *av[2] = {a1, a2};
	s->attrs.items = arena_zalloc(&g_arena, 2 * sizeof(struct attr));
	for (int k = 0; k < 2; k++) {
		if (!av[k])
			continue;
		const char *eq = strchr(av[k], '=');
		struct attr *a = &s->attrs.items[s->attrs.n++];
		a->key = slice_make(av[k], (size_t)(eq - av[k]));
		a->value.type = ANY_STRING;
		a->value.u.str = slice_cstr(eq + 1);
	}
	return s;
}

struct result {
	struct arena a;
	struct sg_node_out *nodes;
	struct sg_edge_out *edges;
	uint32_t n_nodes, n_edges;
};

static int result_of(struct sg_graph *g, double range_s, struct result *r)
{
	arena_init(&r->a, 0);
	return sg_graph_result(g, range_s, &r->a, &r->nodes, &r->n_nodes, &r->edges, &r->n_edges);
}

static const struct sg_node_out *node(const struct result *r, const char *name)
{
	for (uint32_t k = 0; k < r->n_nodes; k++)
		if (slice_eq_cstr(r->nodes[k].name, name))
			return &r->nodes[k];
	return NULL;
}

static const struct sg_edge_out *edge(const struct result *r, const char *src, const char *dst)
{
	for (uint32_t k = 0; k < r->n_edges; k++)
		if (slice_eq_cstr(r->edges[k].source, src) && slice_eq_cstr(r->edges[k].target, dst))
			return &r->edges[k];
	return NULL;
}

/* the same nodes and edges with the same figures */
static bool same_result(const struct result *x, const struct result *y)
{
	if (x->n_nodes != y->n_nodes || x->n_edges != y->n_edges)
		return false;
	for (uint32_t k = 0; k < x->n_nodes; k++) {
		const struct sg_node_out *a = &x->nodes[k], *b = &y->nodes[k];
		if (!slice_eq(a->name, b->name) || a->kind != b->kind || a->requests != b->requests ||
		    a->errors != b->errors || fabs(a->p99_ms - b->p99_ms) > 1e-9 || !slice_eq(a->team, b->team))
			return false;
	}
	for (uint32_t k = 0; k < x->n_edges; k++) {
		const struct sg_edge_out *a = &x->edges[k], *b = &y->edges[k];
		if (!slice_eq(a->source, b->source) || !slice_eq(a->target, b->target) || a->requests != b->requests ||
		    a->errors != b->errors || fabs(a->p50_ms - b->p50_ms) > 1e-9)
			return false;
	}
	return true;
}

/* A little system: gw calls accounts (paired), accounts calls a sharded
 * database, gw produces to kafka and worker consumes, gw calls an external
 * API by URL and a peer.service that never answers, a producer without
 * messaging attributes is paired with its consumer. */
static void build_system(int traces)
{
	uint32_t gw = res("gw", "team-edge"), acc = res("accounts", "team-acc"), wk = res("worker", NULL);
	for (int t = 1; t <= traces; t++) {
		int64_t o = (t - 1) * 1000;
		bool fail = t % 4 == 0;
		add(gw, t, 1, 0, SPAN_KIND_SERVER, o, o + 100, fail, "http.route=/x", NULL);
		add(gw, t, 2, 1, SPAN_KIND_CLIENT, o + 5, o + 45, fail, "peer.service=accounts", NULL);
		add(acc, t, 3, 2, SPAN_KIND_SERVER, o + 6, o + 44, fail, NULL, NULL);
		add(acc, t, 4, 3, SPAN_KIND_CLIENT, o + 10, o + 10 + t, false, "db.system=postgresql",
		    "db.name=accounts_shard_3");
		add(gw, t, 5, 1, SPAN_KIND_PRODUCER, o + 50, o + 52, false, "messaging.system=kafka",
		    "messaging.destination.name=events");
		add(wk, t, 6, 5, SPAN_KIND_CONSUMER, o + 60, o + 70, false, "messaging.system=kafka",
		    "messaging.destination.name=events");
		add(gw, t, 7, 1, SPAN_KIND_CLIENT, o + 53, o + 90, t == 1, "url.full=https://user@api.pay.example:443/v1?q",
		    NULL);
		add(gw, t, 8, 1, SPAN_KIND_CLIENT, o + 53, o + 54, true, "peer.service=accounts", NULL);
		add(gw, t, 9, 1, SPAN_KIND_PRODUCER, o + 91, o + 92, false, NULL, NULL);
		add(wk, t, 10, 9, SPAN_KIND_CONSUMER, o + 93, o + 99, false, NULL, NULL);
	}
}

static int scan_all(struct sg_graph *g, int64_t start, int64_t end)
{
	/* traces are 10 consecutive spans */
	for (uint32_t f = 0; f < g_b.n_spans; f += 10) {
		int rc = sg_graph_add_trace(g, &g_b, f, 10, start, end);
		if (rc)
			return rc;
	}
	return 0;
}

TEST(sg_scan_system)
{
	t_begin(1700000000LL * 1000000000LL);
	build_system(8);
	struct sg_graph *g = sg_graph_new();
	CHECK(g);
	CHECK_INT(scan_all(g, 0, 0), ==, 0);
	struct result r;
	CHECK_INT(result_of(g, 8.0, &r), ==, 0);
	const struct sg_node_out *n;
	const struct sg_edge_out *e;
	CHECK((n = node(&r, "gw")) && n->kind == SG_SERVICE);
	CHECK_SLICE(n->team, "team-edge");
	CHECK_INT(n->requests, ==, 8);
	CHECK_INT(n->errors, ==, 2);
	CHECK(fabs(n->rate - 1.0) < 1e-9);
	CHECK(fabs(n->error_rate - 0.25) < 1e-9);
	CHECK(fabs(n->p50_ms - 100) < 2.5);
	CHECK((n = node(&r, "worker")) && n->kind == SG_SERVICE && n->team.len == 0);
	CHECK_INT(n->requests, ==, 16); /* both consumers are entries */
	/* accounts: 8 server spans, plus the 8 unanswered calls named by peer.service */
	CHECK((n = node(&r, "accounts")) && n->kind == SG_SERVICE);
	CHECK_INT(n->requests, ==, 16);
	CHECK_INT(n->errors, ==, 2 + 8);
	CHECK((e = edge(&r, "gw", "accounts")));
	CHECK_INT(e->requests, ==, 16);
	CHECK_INT(e->errors, ==, 10);
	CHECK(fabs(e->p99_ms - 40) < 1.0); /* the client side's duration */
	CHECK((n = node(&r, "postgresql accounts_shard_3")) && n->kind == SG_DATABASE);
	CHECK_INT(n->requests, ==, 8);
	CHECK((e = edge(&r, "accounts", "postgresql accounts_shard_3")));
	CHECK(fabs(e->p99_ms - 7) < 0.2); /* x[floor(0.99 * 7)] of 1..8 */
	CHECK((n = node(&r, "kafka events")) && n->kind == SG_MESSAGING);
	CHECK(edge(&r, "gw", "kafka events") && edge(&r, "kafka events", "worker"));
	CHECK_INT(edge(&r, "kafka events", "worker")->requests, ==, 8);
	CHECK((n = node(&r, "api.pay.example")) && n->kind == SG_EXTERNAL);
	CHECK((e = edge(&r, "gw", "api.pay.example")) && e->errors == 1);
	CHECK((e = edge(&r, "gw", "worker")) && e->requests == 8); /* paired producer -> consumer */
	CHECK_INT(r.n_edges, ==, 6);
	CHECK_INT(r.n_nodes, ==, 6);
	/* sorted by name */
	for (uint32_t k = 1; k < r.n_nodes; k++)
		CHECK(memcmp(r.nodes[k - 1].name.p, r.nodes[k].name.p, 1) <= 0);
	arena_reset(&r.a);
	sg_graph_free(g);
}

TEST(sg_scan_time_filter)
{
	int64_t t0 = 1700000000LL * 1000000000LL;
	t_begin(t0);
	build_system(8); /* trace t starts at (t-1) s */
	struct sg_graph *g = sg_graph_new();
	CHECK(g);
	CHECK_INT(scan_all(g, t0 + 2000 * MS, t0 + 4000 * MS), ==, 0);
	struct result r;
	CHECK_INT(result_of(g, 2.0, &r), ==, 0);
	CHECK_INT(node(&r, "gw")->requests, ==, 2);
	CHECK_INT(edge(&r, "accounts", "postgresql accounts_shard_3")->requests, ==, 2);
	arena_reset(&r.a);
	sg_graph_free(g);
}

TEST(sg_scan_odd_input)
{
	t_begin(1700000000LL * 1000000000LL);
	uint32_t a = res("a", NULL), b = res("b", NULL);
	/* a client with no answer and nothing to name its target: no edge */
	add(a, 1, 1, 0, SPAN_KIND_CLIENT, 0, 10, false, "http.url=not a url", NULL);
	add(a, 1, 2, 0, SPAN_KIND_CLIENT, 0, 10, false, "http.url=http://", NULL);
	add(a, 1, 3, 0, SPAN_KIND_CLIENT, 0, 10, false, "url.full=http://h.example", NULL);
	/* a server whose parent is missing, and one whose parent is internal */
	add(b, 1, 4, 99, SPAN_KIND_SERVER, 0, 5, false, NULL, NULL);
	add(a, 1, 5, 0, SPAN_KIND_INTERNAL, 0, 10, false, NULL, NULL);
	add(b, 1, 6, 5, SPAN_KIND_SERVER, 1, 4, false, NULL, NULL);
	/* a client answered twice: the first answer wins */
	add(a, 1, 7, 0, SPAN_KIND_CLIENT, 0, 30, false, NULL, NULL);
	add(b, 1, 8, 7, SPAN_KIND_SERVER, 1, 4, false, NULL, NULL);
	add(a, 1, 9, 7, SPAN_KIND_SERVER, 1, 4, false, NULL, NULL);
	/* zero-duration and empty-name database */
	add(a, 1, 10, 0, SPAN_KIND_CLIENT, 5, 5, false, "db.system=redis", "server.address=cache-1");
	struct sg_graph *g = sg_graph_new();
	CHECK(g);
	CHECK_INT(sg_graph_add_trace(g, &g_b, 0, g_b.n_spans, 0, 0), ==, 0);
	struct result r;
	CHECK_INT(result_of(g, 0, &r), ==, 0);
	CHECK(edge(&r, "a", "h.example"));
	CHECK(edge(&r, "a", "b") && edge(&r, "a", "b")->requests == 1);
	CHECK(!edge(&r, "a", "a"));
	CHECK(node(&r, "redis cache-1") && node(&r, "redis cache-1")->kind == SG_DATABASE);
	CHECK(node(&r, "redis cache-1")->p50_ms == 0);
	CHECK_INT(r.n_edges, ==, 3);
	CHECK(node(&r, "a")->rate == 0); /* no range: no rate */
	arena_reset(&r.a);
	/* an empty graph */
	struct sg_graph *e = sg_graph_new();
	CHECK_INT(result_of(e, 60, &r), ==, 0);
	CHECK_INT(r.n_nodes + r.n_edges, ==, 0);
	arena_reset(&r.a);
	sg_graph_free(e);
	sg_graph_free(g);
	CHECK_SLICE(slice_cstr(sg_kind_name(SG_MESSAGING)), "messaging");
	CHECK_SLICE(slice_cstr(sg_kind_name((enum sg_kind)9)), "external");
}

TEST(sg_caps)
{
	t_begin(1700000000LL * 1000000000LL);
	uint32_t a = res("a", NULL);
	static char names[SG_MAX_NODES + 10][24];
	for (int k = 0; k < SG_MAX_NODES + 10; k++) {
		memcpy(names[k], "db.name=d", 9);
		int v = k, p = 9;
		char tmp[12];
		int m = 0;
		do
			tmp[m++] = (char)('0' + v % 10);
		while ((v /= 10));
		while (m)
			names[k][p++] = tmp[--m];
		names[k][p] = 0;
		add(a, 1, k + 1, 0, SPAN_KIND_CLIENT, 0, 1, false, names[k], NULL);
	}
	struct sg_graph *g = sg_graph_new();
	CHECK_INT(sg_graph_add_trace(g, &g_b, 0, g_b.n_spans, 0, 0), ==, 0);
	CHECK(sg_graph_dropped(g) > 0);
	struct result r;
	CHECK_INT(result_of(g, 1, &r), ==, 0);
	CHECK_INT(r.n_nodes, ==, SG_MAX_NODES);
	arena_reset(&r.a);
	sg_graph_free(g);
}

/* Feed spans [from, to) of g_b as one batch. */
static int feed(struct service_graph_live *l, uint32_t from, uint32_t to, int64_t now)
{
	struct span_batch part = g_b;
	part.spans = g_b.spans + from;
	part.n_spans = to - from;
	return sg_live_add_batch(l, &part, now);
}

TEST(sg_live_agrees_with_scan)
{
	int64_t now = 1700000000LL * 1000000000LL;
	int64_t t0 = (now / MIN - 30) * MIN; /* 30 minutes ago, minute aligned */
	t_begin(t0);
	build_system(8);
	struct sg_graph *g = sg_graph_new();
	CHECK_INT(scan_all(g, t0, t0 + 10 * MIN), ==, 0);
	struct result want, got;
	CHECK_INT(result_of(g, 600, &want), ==, 0);
	/* three ways of splitting each trace into batches: whole; answers
	 * before callers; every span alone in its own batch */
	for (int mode = 0; mode < 3; mode++) {
		struct service_graph_live *l = sg_live_new(NULL);
		CHECK(l);
		for (uint32_t f = 0; f < g_b.n_spans; f += 10) {
			if (mode == 0) {
				CHECK_INT(feed(l, f, f + 10, now), ==, 0);
			} else if (mode == 1) {
				CHECK_INT(feed(l, f + 5, f + 10, now), ==, 0);
				CHECK_INT(feed(l, f + 2, f + 5, now), ==, 0);
				CHECK_INT(feed(l, f, f + 2, now), ==, 0);
			} else {
				for (uint32_t i = f; i < f + 10; i++)
					CHECK_INT(feed(l, i, i + 1, now), ==, 0);
			}
		}
		CHECK(sg_live_covers(l, t0, t0 + 10 * MIN, now));
		int rc;
		/* before expiry the unanswered callers are resolved tentatively */
		struct sg_graph *q = sg_live_query(l, t0, t0 + 10 * MIN, now, &rc);
		CHECK(q);
		CHECK_INT(result_of(q, 600, &got), ==, 0);
		CHECK(same_result(&want, &got));
		arena_reset(&got.a);
		sg_graph_free(q);
		/* after expiry they are resolved for good, to the same answer */
		uint64_t pending, skipped;
		sg_live_stats(l, &pending, &skipped);
		CHECK(pending > 0);
		CHECK_INT(skipped, ==, 0);
		q = sg_live_query(l, t0, t0 + 10 * MIN, now + SG_LIVE_DEFAULT_PENDING_TTL_NS, &rc);
		CHECK(q);
		sg_live_stats(l, &pending, &skipped);
		CHECK_INT(pending, ==, 0);
		CHECK_INT(result_of(q, 600, &got), ==, 0);
		CHECK(same_result(&want, &got));
		arena_reset(&got.a);
		sg_graph_free(q);
		sg_live_free(l);
	}
	arena_reset(&want.a);
	sg_graph_free(g);
}

TEST(sg_live_window_and_pending_cap)
{
	int64_t now = 1700000000LL * 1000000000LL;
	/* spans 7 hours old and 10 minutes in the future are skipped */
	t_begin(now - 7 * 60 * MIN);
	build_system(1);
	struct service_graph_live *l = sg_live_new(&(struct sg_live_options){.max_pending = 2});
	CHECK(l);
	CHECK_INT(feed(l, 0, g_b.n_spans, now), ==, 0);
	uint64_t pending, skipped;
	sg_live_stats(l, &pending, &skipped);
	CHECK(skipped > 0);
	CHECK_INT(pending, ==, 0);
	CHECK(!sg_live_covers(l, now - 7 * 60 * MIN, now, now));
	CHECK(sg_live_covers(l, now - 60 * MIN, now, now));
	t_begin(now + 10 * MIN);
	build_system(1);
	CHECK_INT(feed(l, 0, g_b.n_spans, now), ==, 0);
	/* a pending table of two: a third unanswered caller pushes the first out,
	 * resolved as unanswered (to its peer.service) */
	t_begin(now - MIN);
	uint32_t a = res("a", NULL);
	add(a, 1, 1, 0, SPAN_KIND_CLIENT, 0, 10, false, "peer.service=p1", NULL);
	add(a, 2, 1, 0, SPAN_KIND_CLIENT, 0, 10, false, "peer.service=p2", NULL);
	add(a, 3, 1, 0, SPAN_KIND_CLIENT, 0, 10, false, "peer.service=p3", NULL);
	CHECK_INT(feed(l, 0, 3, now), ==, 0);
	sg_live_stats(l, &pending, &skipped);
	CHECK_INT(pending, ==, 2);
	/* the answer of the first comes too late: the caller was resolved */
	uint32_t p = res("p1", NULL);
	add(p, 1, 2, 1, SPAN_KIND_SERVER, 1, 9, false, NULL, NULL);
	CHECK_INT(feed(l, 3, 4, now), ==, 0);
	int rc;
	struct sg_graph *q = sg_live_query(l, now - 2 * MIN, now, now, &rc);
	CHECK(q);
	struct result r;
	CHECK_INT(result_of(q, 120, &r), ==, 0);
	CHECK(edge(&r, "a", "p1") && edge(&r, "a", "p1")->requests == 1);
	CHECK(edge(&r, "a", "p2") && edge(&r, "a", "p3"));
	CHECK(node(&r, "p1")->kind == SG_SERVICE); /* its server span made it a service */
	CHECK(node(&r, "p2")->kind == SG_EXTERNAL);
	arena_reset(&r.a);
	sg_graph_free(q);
	/* the covers_from option: nothing before it is complete */
	struct service_graph_live *l2 = sg_live_new(&(struct sg_live_options){.covers_from_ns = now - 5 * MIN});
	CHECK(!sg_live_covers(l2, now - 10 * MIN, now, now));
	CHECK(sg_live_covers(l2, now - 5 * MIN, now, now));
	sg_live_free(l2);
	sg_live_free(l);
	sg_live_free(NULL);
	sg_graph_free(NULL);
}

/* ---- over a store ---- */

struct store *cp_test_gen_store(const char *name, int64_t *end_ns); /* test_critical_path.c */

struct serial_sg {
	struct sg_graph *g;
	int64_t start_ns, end_ns;
};

static int serial_sg_visit(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n,
			   const uint32_t *matched, uint32_t n_matched)
{
	struct serial_sg *c = ctx;
	(void)matched;
	(void)n_matched;
	return sg_graph_add_trace(c->g, b, first, n, c->start_ns, c->end_ns);
}

/* The nodes and edges of two graphs, figures and quantiles, are equal;
 * *requests: the requests of x's nodes. */
static bool same_graph(const struct sg_graph *x, const struct sg_graph *y, uint64_t *requests)
{
	struct arena a;
	arena_init(&a, 0);
	struct sg_node_out *nx, *ny;
	struct sg_edge_out *ex, *ey;
	uint32_t nnx, nny, nex, ney;
	bool ok = sg_graph_result(x, 60, &a, &nx, &nnx, &ex, &nex) == 0 &&
		  sg_graph_result(y, 60, &a, &ny, &nny, &ey, &ney) == 0 && nnx == nny && nex == ney;
	*requests = 0;
	for (uint32_t k = 0; ok && k < nnx; k++) {
		ok = slice_eq(nx[k].name, ny[k].name) && nx[k].kind == ny[k].kind && nx[k].requests == ny[k].requests &&
		     nx[k].errors == ny[k].errors && nx[k].p50_ms == ny[k].p50_ms && nx[k].p99_ms == ny[k].p99_ms;
		*requests += nx[k].requests;
	}
	for (uint32_t k = 0; ok && k < nex; k++)
		ok = slice_eq(ex[k].source, ey[k].source) && slice_eq(ex[k].target, ey[k].target) &&
		     ex[k].requests == ey[k].requests && ex[k].errors == ey[k].errors && ex[k].p50_ms == ey[k].p50_ms &&
		     ex[k].p99_ms == ey[k].p99_ms;
	arena_reset(&a);
	return ok;
}

TEST(sg_graph_scan_matches_serialised)
{
	int64_t end = 0;
	struct store *st = cp_test_gen_store("sg_scan", &end);
	CHECK(st);
	if (!st)
		return;
	struct arena a;
	arena_init(&a, 0);
	const char *queries[] = {"{}", "{ resource.service.name = \"payments\" }", "{ name = \"no such span\" }"};
	uint64_t all = 0, some = 0;
	for (int qi = 0; qi < 3; qi++) {
		struct tql_error e;
		char err[128];
		int rc;
		struct tql_query *tq = tql_parse(queries[qi], strlen(queries[qi]), &a, &e);
		struct exec_query *xq = tq ? exec_compile(tq, &a, &rc, err, sizeof err) : NULL;
		CHECK(xq);
		if (!xq)
			continue;
		struct exec_options o = {.threads = 1};
		struct serial_sg ref = {.g = sg_graph_new(), .end_ns = end + 1};
		CHECK_INT(exec_scan(&store_embedded_query_ops, st, xq, &o, serial_sg_visit, &ref, NULL), ==, 0);
		for (uint32_t th = 1; th <= 2; th++) {
			struct sg_graph *g = NULL;
			uint64_t req = 0;
			o.threads = th;
			CHECK_INT(sg_graph_scan(&store_embedded_query_ops, st, xq, &o, 0, end + 1, &g), ==, 0);
			CHECK(g && same_graph(g, ref.g, &req));
			if (qi == 0)
				all = req;
			else if (qi == 1)
				some = req;
			else
				CHECK_INT(req, ==, 0);
			sg_graph_free(g);
		}
		sg_graph_free(ref.g);
		exec_query_free(xq);
	}
	/* the filter keeps the traces through payments only: fewer requests */
	CHECK(all > 0 && some > 0 && some < all);
	arena_reset(&a);
	store_close(st);
}
