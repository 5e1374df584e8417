/* The TraceQL executor over a hand-built trace: every operator, intrinsic,
 * scope, structural relation and pipeline stage, checked by the exact span
 * ids each query matches. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "query/exec.h"
#include "../../testlib.h"

/* Spans (id last byte = number):
 *  1 "GET /"  gw   server ok     100ms http.method=GET http.status=200  root
 *  2 "auth"   auth client error   10ms db.name=users x=1.5, event exception{exception.type=NPE}  child of 1
 *  3 "db"     auth client unset   30ms db.name=orders flag=true host=spanhost, link{link.kind=follows} child of 1
 *  4 "q"      gw   internal unset  5ms host=spanhost2                      child of 3
 *  5 "late"   gw   consumer unset  1ms                                       parent outside the trace */
static struct arena g_arena;
static struct span_batch g_b;

static void set_str(struct attr *a, const char *k, const char *v)
{
	a->key = slice_cstr(k);
	a->value.type = ANY_STRING;
	a->value.u.str = slice_cstr(v);
}

static struct attr *attrs(uint32_t n)
{
	return arena_zalloc(&g_arena, n * sizeof(struct attr));
}

static void build(void)
{
	static bool once;
	if (once)
		arena_reset(&g_arena);
	once = true;
	arena_init(&g_arena, 0);
	span_batch_init(&g_b, &g_arena);
	struct resource *r0 = span_batch_add_resource(&g_b);
	r0->attrs.items = attrs(2);
	r0->attrs.n = 2;
	set_str(&r0->attrs.items[0], "service.name", "gw");
	set_str(&r0->attrs.items[1], "host", "h0");
	struct resource *r1 = span_batch_add_resource(&g_b);
	r1->attrs.items = attrs(2);
	r1->attrs.n = 2;
	set_str(&r1->attrs.items[0], "service.name", "auth");
	set_str(&r1->attrs.items[1], "host", "h1");
	struct scope *sc0 = span_batch_add_scope(&g_b, 0);
	sc0->name = slice_cstr("lib.gw");
	sc0->version = slice_cstr("1.2");
	sc0->attrs.items = attrs(1);
	sc0->attrs.n = 1;
	set_str(&sc0->attrs.items[0], "lib.lang", "c");
	span_batch_add_scope(&g_b, 1);
	static const struct {
		const char *name;
		uint32_t scope;
		uint8_t kind, status;
		int64_t dur_ms;
		int parent; /* 0 none, -1 outside */
	} def[] = {
		{"GET /", 0, SPAN_KIND_SERVER, STATUS_OK, 100, 0},	{"auth", 1, SPAN_KIND_CLIENT, STATUS_ERROR, 10, 1},
		{"db", 1, SPAN_KIND_CLIENT, STATUS_UNSET, 30, 1},	{"q", 0, SPAN_KIND_INTERNAL, STATUS_UNSET, 5, 3},
		{"late", 0, SPAN_KIND_CONSUMER, STATUS_UNSET, 1, -1},
	};
	for (int k = 0; k < 5; k++) {
		struct span *s = span_batch_add_span(&g_b, def[k].scope);
		s->trace_id[15] = 0x42;
		s->trace_id[0] = 0x0a;
		s->span_id[7] = (uint8_t)(k + 1);
		s->name = slice_cstr(def[k].name);
		s->kind = def[k].kind;
		s->status_code = def[k].status;
		s->start_unix_ns = 1000000000LL + k * 1000000LL;
		s->end_unix_ns = s->start_unix_ns + def[k].dur_ms * 1000000LL;
		if (def[k].parent) {
			s->has_parent = true;
			s->parent_span_id[7] = def[k].parent > 0 ? (uint8_t)def[k].parent : 0x99;
		}
	}
	struct span *s = g_b.spans;
	s[0].attrs.items = attrs(2);
	s[0].attrs.n = 2;
	set_str(&s[0].attrs.items[0], "http.method", "GET");
	s[0].attrs.items[1].key = slice_cstr("http.status");
	s[0].attrs.items[1].value.type = ANY_INT;
	s[0].attrs.items[1].value.u.i = 200;
	s[1].attrs.items = attrs(2);
	s[1].attrs.n = 2;
	set_str(&s[1].attrs.items[0], "db.name", "users");
	s[1].attrs.items[1].key = slice_cstr("x");
	s[1].attrs.items[1].value.type = ANY_DOUBLE;
	s[1].attrs.items[1].value.u.d = 1.5;
	s[1].status_message = slice_cstr("boom");
	s[1].events = arena_zalloc(&g_arena, sizeof(struct span_event));
	s[1].n_events = 1;
	s[1].events[0].name = slice_cstr("exception");
	s[1].events[0].time_unix_ns = s[1].start_unix_ns + 2000000;
	s[1].events[0].attrs.items = attrs(1);
	s[1].events[0].attrs.n = 1;
	set_str(&s[1].events[0].attrs.items[0], "exception.type", "NPE");
	s[2].attrs.items = attrs(3);
	s[2].attrs.n = 3;
	set_str(&s[2].attrs.items[0], "db.name", "orders");
	s[2].attrs.items[1].key = slice_cstr("flag");
	s[2].attrs.items[1].value.type = ANY_BOOL;
	s[2].attrs.items[1].value.u.b = true;
	set_str(&s[2].attrs.items[2], "host", "spanhost");
	s[2].links = arena_zalloc(&g_arena, sizeof(struct span_link));
	s[2].n_links = 1;
	s[2].links[0].trace_id[15] = 0xab;
	s[2].links[0].span_id[7] = 0xcd;
	s[2].links[0].attrs.items = attrs(1);
	s[2].links[0].attrs.n = 1;
	set_str(&s[2].links[0].attrs.items[0], "link.kind", "follows");
	s[3].attrs.items = attrs(1);
	s[3].attrs.n = 1;
	set_str(&s[3].attrs.items[0], "host", "spanhost2");
}

/* The matched span numbers of q, "1,3", or "-" for no match, or "E..."
 * for an error. */
static const char *run(const char *q)
{
	static char out[512];
	struct arena a, scratch, res;
	arena_init(&a, 0);
	arena_init(&scratch, 0);
	arena_init(&res, 0);
	struct tql_error e;
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	if (!tq) {
		snprintf(out, sizeof out, "E%s", e.msg);
		goto done;
	}
	int rc;
	char err[256];
	struct exec_query *xq = exec_compile(tq, &a, &rc, err, sizeof err);
	if (!xq) {
		snprintf(out, sizeof out, "E%s", err);
		goto done;
	}
	struct exec_trace t;
	rc = exec_eval_trace(xq, &g_b, 0, g_b.n_spans, &scratch, &res, 100, &t);
	exec_query_free(xq);
	if (rc < 0) {
		snprintf(out, sizeof out, "E%d", rc);
		goto done;
	}
	if (rc == 0) {
		snprintf(out, sizeof out, "-");
		goto done;
	}
	int seen[256] = {0};
	for (uint32_t k = 0; k < t.n_spansets; k++)
		for (uint32_t j = 0; j < t.spansets[k].n_spans; j++)
			seen[t.spansets[k].spans[j].span_id[7]] = 1;
	size_t n = 0;
	out[0] = 0;
	for (int k = 0; k < 256; k++)
		if (seen[k])
			n += (size_t)snprintf(out + n, sizeof out - n, "%s%d", n ? "," : "", k);
done:
	arena_reset(&a);
	arena_reset(&scratch);
	arena_reset(&res);
	return out;
}

TEST(exec_intrinsics)
{
	build();
	CHECK_STR(run("{}"), "1,2,3,4,5");
	CHECK_STR(run("{ name = \"db\" }"), "3");
	CHECK_STR(run("{ name != \"db\" }"), "1,2,4,5");
	CHECK_STR(run("{ status = error }"), "2");
	CHECK_STR(run("{ status != unset }"), "1,2");
	CHECK_STR(run("{ statusMessage = \"boom\" }"), "2");
	CHECK_STR(run("{ kind = client }"), "2,3");
	CHECK_STR(run("{ duration > 10ms }"), "1,3");
	CHECK_STR(run("{ duration >= 10ms }"), "1,2,3");
	CHECK_STR(run("{ duration < 5ms }"), "5");
	CHECK_STR(run("{ duration <= 5ms }"), "4,5");
	CHECK_STR(run("{ span:duration = 30ms }"), "3");
	CHECK_STR(run("{ traceDuration = 100ms }"), "1,2,3,4,5");
	CHECK_STR(run("{ traceDuration > 1s }"), "-");
	CHECK_STR(run("{ rootName = \"GET /\" && kind = internal }"), "4");
	CHECK_STR(run("{ rootServiceName = \"gw\" && name = \"auth\" }"), "2");
	CHECK_STR(run("{ span:id = \"0000000000000003\" }"), "3");
	CHECK_STR(run("{ span:id = \"3\" }"), "3");
	CHECK_STR(run("{ span:parentID = \"0000000000000003\" }"), "4");
	CHECK_STR(run("{ trace:id = \"0a000000000000000000000000000042\" }"), "1,2,3,4,5");
	CHECK_STR(run("{ trace:id = \"ff\" }"), "-");
	CHECK_STR(run("{ childCount = 2 }"), "1");
	CHECK_STR(run("{ childCount = 0 }"), "2,4,5");
	CHECK_STR(run("{ event:name = \"exception\" }"), "2");
	CHECK_STR(run("{ event.exception.type = \"NPE\" }"), "2");
	CHECK_STR(run("{ event:timeSinceStart = 2ms }"), "2");
	CHECK_STR(run("{ link:traceID = \"ab\" }"), "3");
	CHECK_STR(run("{ link:spanID = \"00000000000000cd\" }"), "3");
	CHECK_STR(run("{ link.link.kind = \"follows\" }"), "3");
	CHECK_STR(run("{ instrumentation:name = \"lib.gw\" }"), "1,4,5");
	CHECK_STR(run("{ instrumentation:version = \"1.2\" && name = \"q\" }"), "4");
	CHECK_STR(run("{ instrumentation.lib.lang = \"c\" }"), "1,4,5");
	CHECK_STR(run("{ nestedSetLeft = 1 }"), "1");
	CHECK_STR(run("{ nestedSetParent = -1 }"), "1,5");
}

TEST(exec_attributes_and_operators)
{
	build();
	CHECK_STR(run("{ resource.service.name = \"auth\" }"), "2,3");
	CHECK_STR(run("{ .service.name = \"gw\" }"), "1,4,5");
	CHECK_STR(run("{ span.service.name = \"gw\" }"), "-");
	/* unscoped: the span's attribute first, then the resource's */
	CHECK_STR(run("{ .host = \"h0\" }"), "1,5");
	CHECK_STR(run("{ .host = \"spanhost\" }"), "3");
	CHECK_STR(run("{ resource.host = \"h1\" }"), "2,3");
	CHECK_STR(run("{ span.host != nil }"), "3,4");
	CHECK_STR(run("{ .db.name != nil }"), "2,3");
	CHECK_STR(run("{ .db.name != \"users\" }"), "3"); /* nil never compares */
	CHECK_STR(run("{ .http.status = 200 }"), "1");
	CHECK_STR(run("{ .http.status = 200.0 }"), "1"); /* int vs float */
	CHECK_STR(run("{ .http.status > 199.5 }"), "1");
	CHECK_STR(run("{ .x > 1 }"), "2");
	CHECK_STR(run("{ .x = 1.5 }"), "2");
	CHECK_STR(run("{ .x < 1 }"), "-");
	CHECK_STR(run("{ .http.status = \"200\" }"), "-"); /* unlike types */
	CHECK_STR(run("{ .flag = true }"), "3");
	CHECK_STR(run("{ .flag != false }"), "3");
	CHECK_STR(run("{ .http.status + 1 = 201 }"), "1");
	CHECK_STR(run("{ .http.status * 2 - 100 = 300 }"), "1");
	CHECK_STR(run("{ .http.status / 3 = 66 }"), "1");
	CHECK_STR(run("{ .http.status % 7 = 4 }"), "1");
	CHECK_STR(run("{ .http.status ^ 2 = 40000 }"), "1");
	CHECK_STR(run("{ .x * 2 = 3 }"), "2");
	CHECK_STR(run("{ .http.status / 0 = 1 }"), "-");
	CHECK_STR(run("{ -.http.status = -200 }"), "1");
	CHECK_STR(run("{ duration + 5ms = 15ms }"), "2");
	CHECK_STR(run("{ name = \"db\" || name = \"q\" }"), "3,4");
	CHECK_STR(run("{ name = \"db\" && status = unset }"), "3");
	CHECK_STR(run("{ !(name = \"db\") }"), "1,2,4,5");
	CHECK_STR(run("{ name > \"db\" }"), "4,5"); /* byte order: "GET /" < "db" */
	CHECK_STR(run("{ parent.http.method = \"GET\" }"), "2,3");
	CHECK_STR(run("{ parent.span.host = \"spanhost\" }"), "4");
	CHECK_STR(run("{ parent.resource.service.name = \"gw\" }"), "2,3");
}

TEST(exec_regex)
{
	build();
	CHECK_STR(run("{ name =~ \"d.*\" }"), "3");
	CHECK_STR(run("{ name =~ \"b\" }"), "-"); /* whole value, as RE2 full match */
	CHECK_STR(run("{ name =~ \"a|db\" }"), "3");
	CHECK_STR(run("{ name !~ \"d.*\" }"), "1,2,4,5");
	CHECK_STR(run("{ .db.name =~ \"(users|orders)\" }"), "2,3");
	CHECK_STR(run("{ .nope !~ \"x\" }"), "-");
	CHECK(run("{ name =~ \"(\" }")[0] == 'E');
	CHECK(run("{ name =~ \"[\" }")[0] == 'E');
}

TEST(exec_spanset_operators)
{
	build();
	CHECK_STR(run("{ name = \"db\" } && { name = \"q\" }"), "3,4");
	CHECK_STR(run("{ name = \"db\" } && { name = \"none\" }"), "-");
	CHECK_STR(run("{ name = \"db\" } || { name = \"none\" }"), "3");
	CHECK_STR(run("{ name = \"GET /\" } > { }"), "2,3");
	CHECK_STR(run("{ name = \"GET /\" } >> { }"), "2,3,4");
	CHECK_STR(run("{ name = \"q\" } < { }"), "3");
	CHECK_STR(run("{ name = \"q\" } << { }"), "1,3");
	CHECK_STR(run("{ name = \"auth\" } ~ { }"), "3");
	CHECK_STR(run("{ } ~ { }"), "2,3");
	CHECK_STR(run("{ name = \"GET /\" } !> { }"), "1,4,5");
	CHECK_STR(run("{ name = \"GET /\" } !>> { }"), "1,5");
	CHECK_STR(run("{ name = \"q\" } !< { }"), "1,2,4,5");
	CHECK_STR(run("{ name = \"q\" } !<< { }"), "2,4,5");
	CHECK_STR(run("{ name = \"auth\" } !~ { }"), "1,2,4,5");
	CHECK_STR(run("{ name = \"db\" } &> { }"), "3,4");
	CHECK_STR(run("{ name = \"GET /\" } &>> { name = \"q\" }"), "1,4");
	CHECK_STR(run("{ name = \"q\" } &< { }"), "3,4");
	CHECK_STR(run("{ name = \"q\" } &<< { }"), "1,3,4");
	CHECK_STR(run("{ name = \"auth\" } &~ { }"), "2,3");
	CHECK_STR(run("{ name = \"late\" } > { }"), "-");
	CHECK_STR(run("{ resource.service.name = \"auth\" } > { resource.service.name = \"gw\" }"), "4");
}

TEST(exec_pipelines)
{
	build();
	CHECK_STR(run("{ } | count() > 4"), "1,2,3,4,5");
	CHECK_STR(run("{ } | count() > 5"), "-");
	CHECK_STR(run("{ kind = client } | count() = 2"), "2,3");
	CHECK_STR(run("{ } | avg(duration) > 29ms"), "1,2,3,4,5");
	CHECK_STR(run("{ } | avg(duration) > 30ms"), "-");
	CHECK_STR(run("{ } | max(duration) = 100ms"), "1,2,3,4,5");
	CHECK_STR(run("{ } | min(duration) = 1ms"), "1,2,3,4,5");
	CHECK_STR(run("{ } | sum(duration) = 146ms"), "1,2,3,4,5");
	CHECK_STR(run("{ } | sum(.http.status) = 200"), "1,2,3,4,5");
	CHECK_STR(run("{ } | count() + 1 > 5"), "1,2,3,4,5");
	CHECK_STR(run("{ } | by(resource.service.name) | count() = 2"), "2,3");
	CHECK_STR(run("{ } | by(resource.service.name) | count() = 3"), "1,4,5");
	CHECK_STR(run("{ } | by(resource.service.name) | coalesce() | count() = 5"), "1,2,3,4,5");
	CHECK_STR(run("{ } | { kind = client } | { status = error }"), "2");
	CHECK_STR(run("{ } | select(.db.name)"), "1,2,3,4,5");
	CHECK_STR(run("({ } | count()) > ({ kind = client } | count())"), "1,2,3,4,5");
	CHECK_STR(run("({ kind = client } | count()) > ({ } | count())"), "-");
	CHECK_STR(run("({ kind = client } | count()) = 2"), "2,3");
	CHECK(run("{ } | rate()")[0] == 'E');
}

TEST(exec_result_shape)
{
	build();
	struct arena a, scratch, res;
	arena_init(&a, 0);
	arena_init(&scratch, 0);
	arena_init(&res, 0);
	struct tql_error e;
	const char *q = "{ kind = client } | by(resource.service.name) | select(name, span.flag)";
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	CHECK(tq != NULL);
	int rc;
	char err[128];
	struct exec_query *xq = exec_compile(tq, &a, &rc, err, sizeof err);
	CHECK(xq != NULL);
	struct exec_trace t;
	CHECK_INT(exec_eval_trace(xq, &g_b, 0, g_b.n_spans, &scratch, &res, 1, &t), ==, 1);
	CHECK_SLICE(t.root_name, "GET /");
	CHECK_SLICE(t.root_service, "gw");
	CHECK_INT(t.end_unix_ns - t.start_unix_ns, ==, 100000000LL);
	CHECK_INT(t.n_spansets, ==, 1);
	CHECK_INT(t.spansets[0].matched, ==, 2);
	CHECK_INT(t.spansets[0].n_spans, ==, 1); /* spss */
	CHECK_INT(t.spansets[0].n_attrs, ==, 1);
	CHECK_SLICE(t.spansets[0].attrs[0].key, "by(resource.service.name)");
	CHECK_SLICE(t.spansets[0].attrs[0].value.u.str, "auth");
	CHECK_INT(t.n_services, ==, 2);
	CHECK_SLICE(t.services[1].name, "auth");
	CHECK_INT(t.services[1].errors, ==, 1);
	/* span 2 carries the selected name (flag is absent on it) */
	const struct exec_span *sp = &t.spansets[0].spans[0];
	CHECK_INT(sp->span_id[7], ==, 2);
	bool has_name = false;
	for (uint32_t k = 0; k < sp->n_attrs; k++)
		has_name |= slice_eq_cstr(sp->attrs[k].key, "name");
	CHECK(has_name);
	exec_query_free(xq);
	/* a metrics query is refused by the compiler */
	tq = tql_parse("{} | rate()", 11, &a, &e);
	CHECK(tq != NULL);
	CHECK(exec_compile(tq, &a, &rc, err, sizeof err) == NULL);
	CHECK_INT(rc, ==, CLEW_EUNSUPPORTED);
	/* a memory cap that cannot hold the trace is an error, not a crash */
	struct arena tiny;
	arena_init(&tiny, 64);
	tq = tql_parse("{} >> {}", 8, &a, &e);
	xq = exec_compile(tq, &a, &rc, err, sizeof err);
	CHECK(xq != NULL);
	CHECK_INT(exec_eval_trace(xq, &g_b, 0, g_b.n_spans, &tiny, &res, 3, &t), ==, CLEW_ENOMEM);
	exec_query_free(xq);
	arena_reset(&tiny);
	arena_reset(&a);
	arena_reset(&scratch);
	arena_reset(&res);
}
