/* Unit tests of the TraceQL front end: queries from Tempo's documentation
 * parsed and printed back canonically (and the canonical form re-parsed to
 * itself), precedence, every operator and intrinsic, the AST shape the
 * executor relies on, and every error with its position. */
#include "../../testlib.h"

#include <stdio.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "query/traceql.h"
#include "query/traceql_int.h"

/* Parse q and return its canonical text (static buffer), or "ERR: msg". */
static const char *canon(const char *q)
{
	static char out[4096];
	struct arena a;
	arena_init(&a, 0);
	struct tql_error err;
	struct tql_query *t = tql_parse(q, strlen(q), &a, &err);
	if (!t) {
		snprintf(out, sizeof(out), "ERR: %s", err.msg);
	} else {
		struct buf b;
		buf_init(&b, 1 << 20);
		tql_format(t, &b);
		snprintf(out, sizeof(out), "%.*s", (int)b.len, (const char *)b.p);
		buf_free(&b);
	}
	arena_reset(&a);
	return out;
}

/* in -> want, and want -> want (the canonical form is a fixed point). */
#define RT(in, want)                                                                                       \
	do {                                                                                               \
		char got_[4096];                                                                           \
		snprintf(got_, sizeof(got_), "%s", canon(in));                                             \
		CHECK_STR(got_, want);                                                                     \
		CHECK_STR(canon(want), want);                                                              \
	} while (0)

#define SAME(q) RT(q, q)
#define ERR(in, want) CHECK_STR(canon(in), "ERR: " want)

TEST(traceql_filters_round_trip)
{
	SAME("{}");
	RT("{ }", "{}");
	RT("{ true }", "{}");
	SAME("{ false }");
	SAME("{ .http.method = \"GET\" }");
	RT("{.http.method=\"GET\"}", "{ .http.method = \"GET\" }");
	SAME("{ resource.service.name = \"frontend\" }");
	SAME("{ span.http.status_code >= 500 }");
	SAME("{ event.exception.message =~ \"timeout.*\" }");
	SAME("{ link.opentracing.ref_type = \"child_of\" }");
	SAME("{ instrumentation.otel.library = \"x\" }");
	SAME("{ parent.span.http.url != \"\" }");
	SAME("{ parent.resource.cluster = \"a\" }");
	SAME("{ parent.foo = 1 }");
	RT("{ span.\"attr with spaces\" = 1 }", "{ span.\"attr with spaces\" = 1 }");
	RT("{ .\"x\" = 1 }", "{ .x = 1 }");
	RT("{ span.foo.\"bar baz\" = 1 }", "{ span.\"foo.bar baz\" = 1 }");
	RT("{ .\"a\\\"b\" = 1 }", "{ .\"a\\\"b\" = 1 }");
	SAME("{ .foo-bar = 1 }");
	SAME("{ .k8s.pod/name = \"p\" }");
	RT("{ .`x` = 1 }", "{ .`x` = 1 }");
	RT("{ .a = `raw\\n` }", "{ .a = \"raw\\\\n\" }");
	RT("{ .a = \"tab\\there\" }", "{ .a = \"tab\\there\" }");
	RT("{ .a = \"\\x41\" }", "{ .a = \"A\" }");
	SAME("{ .a != nil }");
	RT("{ nil != .a }", "{ .a != nil }");
	RT("{ nil = nil }", "{ false }");
	SAME("{ .a = true && .b = false }");
	SAME("{ .a = 1.5 }");
	RT("{ .a = 2.0 }", "{ .a = 2.0 }");
	RT("{ .a = 1e3 }", "{ .a = 1000.0 }");
	RT("{ .a = .5 }", "{ .a = 0.5 }");
	SAME("{ .a = -3 }");
	SAME("{ .a = -1.5 }");
	SAME("{ .a }");
	SAME("{ !.a }");
}

TEST(traceql_intrinsics_round_trip)
{
	SAME("{ name = \"GET /\" }");
	SAME("{ status = error }");
	SAME("{ status = ok }");
	SAME("{ status != unset }");
	SAME("{ statusMessage = \"x\" }");
	SAME("{ kind = server }");
	SAME("{ kind = client || kind = producer || kind = consumer || kind = internal || kind = unspecified }");
	SAME("{ duration > 500ms }");
	SAME("{ traceDuration > 2h }");
	SAME("{ rootName = \"root\" }");
	SAME("{ rootServiceName = \"svc\" }");
	SAME("{ childCount > 2 }");
	SAME("{ nestedSetLeft > 0 && nestedSetRight > 0 && nestedSetParent = -1 }");
	SAME("{ parent != nil }");
	RT("{ span:name = \"a\" }", "{ name = \"a\" }");
	RT("{ span:status = error }", "{ status = error }");
	RT("{ span:statusMessage = \"a\" }", "{ statusMessage = \"a\" }");
	RT("{ span:kind = server }", "{ kind = server }");
	RT("{ span:duration > 1s }", "{ duration > 1s }");
	SAME("{ span:id = \"0123\" }");
	SAME("{ span:parentID = \"0123\" }");
	RT("{ trace:duration > 1m }", "{ traceDuration > 1m }");
	RT("{ trace:rootName = \"a\" }", "{ rootName = \"a\" }");
	RT("{ trace:rootService = \"a\" }", "{ rootServiceName = \"a\" }");
	SAME("{ trace:id = \"abc\" }");
	SAME("{ event:name = \"exception\" }");
	SAME("{ event:timeSinceStart > 10ms }");
	SAME("{ link:traceID = \"a\" }");
	SAME("{ link:spanID = \"b\" }");
	SAME("{ instrumentation:name = \"io.opentelemetry\" }");
	SAME("{ instrumentation:version = \"1.0\" }");
}

TEST(traceql_durations)
{
	RT("{ duration > 500ms }", "{ duration > 500ms }");
	RT("{ duration > 1.5s }", "{ duration > 1500ms }");
	RT("{ duration > 10us }", "{ duration > 10us }");
	RT("{ duration > 10µs }", "{ duration > 10us }");
	RT("{ duration > 100ns }", "{ duration > 100ns }");
	RT("{ duration > 1m }", "{ duration > 1m }");
	RT("{ duration > 60s }", "{ duration > 1m }");
	RT("{ duration > 1h30m }", "{ duration > 90m }");
	RT("{ duration > 1d }", "{ duration > 24h }");
	RT("{ duration > 0s }", "{ duration > 0s }");
	RT("{ duration > -5s }", "{ duration > -5s }");
	int64_t ns = 0;
	CHECK(tql_parse_duration((const uint8_t *)"2h", 2, &ns) && ns == 7200000000000LL);
	CHECK(tql_parse_duration((const uint8_t *)"1.5ms", 5, &ns) && ns == 1500000);
	CHECK(!tql_parse_duration((const uint8_t *)"5", 1, &ns));
	CHECK(!tql_parse_duration((const uint8_t *)"5x", 2, &ns));
	CHECK(!tql_parse_duration((const uint8_t *)"99999999999999h", 15, &ns));
}

TEST(traceql_precedence)
{
	/* && and || share one level, left-associative, as in Tempo's grammar */
	RT("{ .a || .b && .c }", "{ .a || .b && .c }");
	RT("{ .a || (.b && .c) }", "{ .a || (.b && .c) }");
	RT("{ (.a || .b) && .c }", "{ .a || .b && .c }");
	RT("{ .a = 1 || .b = 2 && .c = 3 }", "{ .a = 1 || .b = 2 && .c = 3 }");
	RT("{ .a + .b * .c = 7 }", "{ .a + .b * .c = 7 }");
	RT("{ (.a + .b) * .c = 7 }", "{ (.a + .b) * .c = 7 }");
	RT("{ .a - (.b - .c) = 0 }", "{ .a - (.b - .c) = 0 }");
	RT("{ (.a - .b) - .c = 0 }", "{ .a - .b - .c = 0 }");
	RT("{ .a ^ .b ^ .c = 1 }", "{ .a ^ .b ^ .c = 1 }");
	RT("{ (.a ^ .b) ^ .c = 1 }", "{ (.a ^ .b) ^ .c = 1 }");
	RT("{ .a % 2 = 0 }", "{ .a % 2 = 0 }");
	RT("{ .a / 2 > 1.5 }", "{ .a / 2 > 1.5 }");
	/* unary ! binds looser than * but tighter than comparisons */
	RT("{ !.a = true }", "{ !.a = true }");
	RT("{ !(.a = true) }", "{ !(.a = true) }");
	RT("{ -.a * 2 < 0 }", "{ -(.a * 2) < 0 }");
	RT("{ (-.a) * 2 < 0 }", "{ (-.a) * 2 < 0 }");
	RT("{ -.a + 2 < 0 }", "{ -.a + 2 < 0 }");
	RT("{ (-1) ^ 2 = 1 }", "{ (-1) ^ 2 = 1 }");
	/* spanset operators: && || below the structural ones */
	RT("{ .a } && { .b } > { .c }", "{ .a } && { .b } > { .c }");
	RT("({ .a } && { .b }) > { .c }", "({ .a } && { .b }) > { .c }");
	RT("{ .a } > { .b } > { .c }", "{ .a } > { .b } > { .c }");
	RT("{ .a } > ({ .b } > { .c })", "{ .a } > ({ .b } > { .c })");
	RT("(({ .a }))", "{ .a }");
	/* the AST shape for `a || b && c` */
	struct arena a;
	arena_init(&a, 0);
	struct tql_error err;
	struct tql_query *q = tql_parse("{ .a || .b && .c }", 18, &a, &err);
	CHECK(q);
	CHECK_INT(q->kind, ==, TQL_Q_SPANS);
	CHECK_INT(q->root->kind, ==, TQL_N_PIPELINE);
	CHECK_INT(q->root->n_items, ==, 1);
	struct tql_node *f = q->root->items[0];
	CHECK_INT(f->kind, ==, TQL_N_FILTER);
	CHECK_INT(f->a->kind, ==, TQL_N_BINARY);
	CHECK_INT(f->a->op, ==, TQL_OP_AND);
	CHECK_INT(f->a->a->op, ==, TQL_OP_OR);
	CHECK_INT(f->a->type, ==, TQL_T_BOOL);
	CHECK_INT(f->a->b->kind, ==, TQL_N_ATTR);
	CHECK_SLICE(f->a->b->u.attr.name, "c");
	CHECK_INT(f->a->b->off, ==, 14);
	CHECK_INT(f->a->b->len, ==, 2);
	arena_reset(&a);
}

TEST(traceql_spanset_operators)
{
	SAME("{ .a } && { .b }");
	SAME("{ .a } || { .b }");
	SAME("{ .a } > { .b }");
	SAME("{ .a } >> { .b }");
	SAME("{ .a } < { .b }");
	SAME("{ .a } << { .b }");
	SAME("{ .a } ~ { .b }");
	SAME("{ .a } !> { .b }");
	SAME("{ .a } !>> { .b }");
	SAME("{ .a } !< { .b }");
	SAME("{ .a } !<< { .b }");
	SAME("{ .a } !~ { .b }");
	SAME("{ .a } &> { .b }");
	SAME("{ .a } &>> { .b }");
	SAME("{ .a } &< { .b }");
	SAME("{ .a } &<< { .b }");
	SAME("{ .a } &~ { .b }");
	RT("{.a}>>{.b}", "{ .a } >> { .b }");
	SAME("{ resource.service.name = \"frontend\" } >> { status = error }");
	SAME("({ .a } | by(.x)) && ({ .b } | count() > 1)");
	RT("{ .a } | ({ .b } > { .c })", "{ .a } | { .b } > { .c }");
}

TEST(traceql_pipelines)
{
	SAME("{} | count() > 2");
	SAME("{ .a } | avg(duration) > 1s");
	SAME("{} | min(duration) < 10ms");
	SAME("{} | max(span.http.status_code) >= 500");
	SAME("{} | sum(.bytes) > 1000");
	SAME("{} | count() + 1 > 2");
	SAME("{} | count() > avg(.x) * 2");
	SAME("{} | by(resource.service.name) | count() > 1");
	SAME("{} | by(.a + 1)");
	SAME("{} | select(span.http.url, resource.service.name, duration)");
	SAME("{} | coalesce()");
	SAME("{ .a } | by(.b) | coalesce() | { .c }");
	SAME("{} | count() > 1 | { status = error }");
	SAME("count() > 1");
	SAME("by(.a)");
	SAME("select(.a)");
	SAME("{} | count() = -1");
	RT("{}|count()>2", "{} | count() > 2");
	SAME("({ .a } | count()) > ({ .b } | count())");
	SAME("({ .a } | avg(duration)) > 1s");
	SAME("({ .a } | count()) + ({ .b } | count()) > 10");
	struct arena a;
	arena_init(&a, 0);
	struct tql_error err;
	const char *s = "{ .a } | by(.b) | count() > 2";
	struct tql_query *q = tql_parse(s, strlen(s), &a, &err);
	CHECK(q);
	CHECK_INT(q->root->n_items, ==, 3);
	CHECK_INT(q->root->items[1]->kind, ==, TQL_N_BY);
	CHECK_INT(q->root->items[2]->kind, ==, TQL_N_SCALAR_FILTER);
	CHECK_INT(q->root->items[2]->op, ==, TQL_OP_GT);
	CHECK_INT(q->root->items[2]->a->kind, ==, TQL_N_AGGREGATE);
	CHECK_INT(q->root->items[2]->a->u.agg, ==, TQL_AGG_COUNT);
	CHECK_INT(q->root->items[2]->a->type, ==, TQL_T_INT);
	CHECK(!tql_is_metrics(q));
	s = "({ .a } | count()) > 3";
	q = tql_parse(s, strlen(s), &a, &err);
	CHECK(q);
	CHECK_INT(q->kind, ==, TQL_Q_SCALAR);
	CHECK_INT(q->root->kind, ==, TQL_N_SCALAR_FILTER);
	CHECK_INT(q->root->a->kind, ==, TQL_N_PIPELINE);
	arena_reset(&a);
}

TEST(traceql_hints)
{
	SAME("{} with (most_recent=true)");
	RT("{ } with(most_recent = true)", "{} with (most_recent=true)");
	SAME("{} | rate() with (sample=0.1, exemplars=10)");
	RT("{} with (a=1) with (b=\"x\")", "{} with (a=1, b=\"x\")");
	ERR("{} with (most_recent=1)", "1:10: hint most_recent takes true or false");
	ERR("{} with most_recent=true", "1:9: expected '(' after 'with' but found the identifier 'most_recent'");
	ERR("{} with (most_recent)", "1:21: expected '=' after the hint name but found ')'");
}

TEST(traceql_metrics)
{
	SAME("{} | rate()");
	SAME("{ status = error } | rate() by (resource.service.name)");
	SAME("{} | count_over_time()");
	SAME("{} | count_over_time() by (span.a, resource.b)");
	SAME("{} | sum_over_time(span.http.response.size)");
	SAME("{} | avg_over_time(duration) by (name)");
	SAME("{} | min_over_time(duration)");
	SAME("{} | max_over_time(span.x)");
	SAME("{} | quantile_over_time(duration, 0.5, 0.9, 0.99) by (resource.service.name)");
	RT("{} | quantile_over_time(duration, 1, 0)", "{} | quantile_over_time(duration, 1.0, 0.0)");
	SAME("{} | histogram_over_time(duration) by (span.foo)");
	SAME("{} | compare({ status = error })");
	RT("{} | compare({ status = error }, 10)", "{} | compare({ status = error })");
	SAME("{} | compare({ status = error }, 5)");
	SAME("{} | compare({ status = error }, 5, 1700000000000000000, 1700003600000000000)");
	SAME("{} | rate() by (resource.service.name) | topk(10)");
	SAME("{} | rate() | bottomk(3)");
	SAME("{} | rate() by (resource.service.name) > 10");
	SAME("{} | rate() > 0.5 | topk(2) < 100");
	SAME("{ .a } | by(.b) | rate()");
	SAME("({ status = error } | rate()) / ({} | rate())");
	SAME("({ .a } | rate()) + ({ .b } | rate()) * ({ .c } | rate())");
	SAME("(({ .a } | rate()) + ({ .b } | rate())) * ({ .c } | rate())");
	SAME("({ .a } | rate()) / ({} | rate()) | topk(5)");
	SAME("({ .a } | rate() | topk(3)) / ({} | rate())");
	RT("({} | rate()) | topk(5)", "{} | rate() | topk(5)");
	RT("({} | rate())", "{} | rate()");
	struct arena a;
	arena_init(&a, 0);
	struct tql_error err;
	const char *s = "{ .a } | quantile_over_time(duration, 0.9, 0.99) by (name) | topk(3) > 1";
	struct tql_query *q = tql_parse(s, strlen(s), &a, &err);
	CHECK(q);
	CHECK(tql_is_metrics(q));
	CHECK_INT(q->root->kind, ==, TQL_N_METRICS_QUERY);
	CHECK_INT(q->root->a->kind, ==, TQL_N_PIPELINE);
	struct tql_node *m = q->root->b;
	CHECK_INT(m->u.metrics.fn, ==, TQL_M_QUANTILE_OVER_TIME);
	CHECK_INT(m->u.metrics.n_quantiles, ==, 2);
	CHECK(m->u.metrics.quantiles[1] == 0.99);
	CHECK_INT(m->a->u.intrinsic, ==, TQL_I_DURATION);
	CHECK_INT(m->n_items, ==, 1);
	CHECK_INT(q->root->n_items, ==, 2);
	CHECK_INT(q->root->items[0]->u.stage2.kind, ==, TQL_S2_TOPK);
	CHECK_INT(q->root->items[0]->u.stage2.k, ==, 3);
	CHECK_INT(q->root->items[1]->u.stage2.kind, ==, TQL_S2_FILTER);
	CHECK_INT(q->root->items[1]->op, ==, TQL_OP_GT);
	CHECK(q->root->items[1]->a == NULL);
	arena_reset(&a);
}

TEST(traceql_tempo_doc_queries)
{
	SAME("{ span.http.method = \"DELETE\" && status != ok } && { span.http.method = \"GET\" && status = ok }");
	SAME("{ resource.service.name = \"api-gateway\" && span.http.status_code >= 500 } | count() > 3");
	SAME("{ span.db.system = \"postgresql\" } | avg(duration) > 1s");
	SAME("{ span.http.url =~ \"/api/v1/.*\" && span.http.method !~ \"GET|HEAD\" }");
	SAME("{ resource.namespace = \"prod\" } >> { span.service.name = \"a\" && status = error }");
	SAME("{ rootServiceName = \"frontend\" && traceDuration > 2s } | select(span.http.url)");
	SAME("{ span.http.status_code >= 200 && span.http.status_code < 300 }");
	SAME("{ .service.name = \"checkout\" } | by(span.http.target) | count() > 10");
	RT("{ span:status = error } | rate()", "{ status = error } | rate()");
	SAME("{ resource.service.name = \"a\" } ~ { resource.service.name = \"b\" }");
	SAME("{ name = \"GET /:endpoint\" } | count_over_time()");
	SAME("{ status = error } | rate() by (resource.service.name) | topk(10)");
}

TEST(traceql_syntax_errors)
{
	ERR("", "1:1: empty query: expected a spanset filter such as '{ }'");
	ERR("{ resource.foo = }", "1:18: expected a value after '=' but found '}'");
	ERR("{ .a = 1", "1:9: expected an operator or '}' but found the end of the query");
	ERR("{ .a = 1 } }", "1:12: expected an operator, '|' or the end of the query but found '}'");
	ERR("{ .a = \"x }", "1:8: unterminated string");
	ERR("{ . = 1 }", "1:3: expected an attribute name after '.'");
	ERR("{ span. = 1 }", "1:3: expected an attribute name after the scope");
	ERR("{ .a = 1 } |", "1:13: expected a spanset filter '{ ... }' or a pipeline stage after '|' but found the end "
		      "of the query");
	ERR("{ .a # 1 }", "1:6: unexpected character");
	ERR("{ span:foo = 1 }", "1:8: expected duration, name, kind, status, statusMessage, id or parentID after "
			    "'span:' but found the identifier 'foo'");
	ERR("{ trace:name = 1 }", "1:9: expected duration, rootName, rootService or id after 'trace:' but found "
			      "'name'");
	ERR("{ link:name = 1 }", "1:8: expected traceID or spanID after 'link:' but found 'name'");
	ERR("{ foo = 1 }", "1:3: expected a value after '{' but found the identifier 'foo'");
	ERR("{ .a = 99999999999999999999 }", "1:8: integer out of range");
	ERR("{ .a >> 1 }", "1:6: expected an operator or '}' but found '>>'");
	ERR("{ .a } && count() > 1", "1:8: '&&' cannot join a spanset and a comparison");
	ERR("{ .a } + { .b }", "1:8: '+' cannot join a spanset and a spanset");
	ERR("{} | count()", "1:6: compare the aggregate with a value, as in 'count() > 1'");
	ERR("{} | count() | by(.a)", "1:6: compare the aggregate with a value, as in 'count() > 1'");
	ERR("({} | count())", "1:2: compare the pipeline's aggregate with a value, as in '({ } | count()) > 1'");
	ERR("{} | count(.a) > 1", "1:12: expected ')' (count() takes no argument) but found the attribute .a");
	ERR("rate()", "1:1: a metrics function needs spans before it, as in '{ } | rate()'");
	ERR("{} | rate() | { .a }", "1:15: only topk(), bottomk() or a comparison with a number can follow a metrics "
			       "function");
	ERR("{} | rate() | rate()", "1:15: a query has one metrics function");
	ERR("{} | topk(3)", "1:6: topk() and bottomk() can only follow a metrics function");
	ERR("{} | rate() > \"x\"", "1:13: a metrics filter compares with a number, as in '> 10'");
	ERR("({} | rate()) % ({} | rate())", "1:15: metrics queries combine with + - * / only, not '%'");
	ERR("{} | rate() | topk(x)", "1:20: expected an integer but found the identifier 'x'");
	ERR("{} | compare(.a)", "1:14: expected a spanset filter '{ ... }' as compare()'s first argument but found "
			    "the attribute .a");
	ERR("{} | compare({ .a = 1 }, 0)", "1:6: compare() needs a positive number of top values");
	ERR("{} | compare({ .a = 1 }, 3, 0, 5)", "1:6: compare() times must be positive Unix nanoseconds");
	ERR("{} | compare({ .a = 1 }, 3, 9, 5)", "1:6: compare() needs start < end");
	ERR("{} | compare({ .a = 1 }, 3, 9)", "1:30: expected ',' and the end time but found ')'");
	ERR("{} | compare({ .a = 1 }) by (.b)", "1:26: expected an operator, '|' or the end of the query but found 'by'");
	ERR("{} | quantile_over_time(duration)", "1:33: expected ',' and at least one quantile, as in "
					      "quantile_over_time(duration, 0.99) but found ')'");
	ERR("{} | sum_over_time(.a + 1)", "1:23: expected ',' or ')' but found '+'");
	ERR("{ .a } | ({ .b } | count()) > 1", "1:11: a comparison of pipelines must be the whole query");
	ERR("{ (.a = 1 }", "1:11: expected an operator or ')' but found '}'");
	ERR("{} | 3", "1:6: expected a spanset filter '{ ... }' or a pipeline stage, not a value");
	ERR("{ .a = 1 }\n  | by(", "2:8: expected a value after '(' but found the end of the query");
	ERR("{ name = \"é\" } | x", "1:18: expected a spanset filter '{ ... }' or a pipeline stage after '|' but "
			      "found the identifier 'x'");
}

TEST(traceql_type_errors)
{
	ERR("{ duration > \"abc\" }", "1:14: cannot compare duration with a string");
	ERR("{ kind = 3 }", "1:10: cannot compare kind with an integer");
	ERR("{ status = server }", "1:12: cannot compare status with a kind");
	ERR("{ status = \"error\" }", "1:12: cannot compare status with a string");
	ERR("{ name = 1 }", "1:10: cannot compare name with an integer");
	ERR("{ duration =~ \"1.*\" }", "1:3: cannot use '=~' on duration: regular expressions match strings");
	ERR("{ .a =~ 3 }", "1:9: cannot use '=~' on an integer: regular expressions match strings");
	ERR("{ name !~ 3 }", "1:11: cannot use '!~' on an integer: regular expressions match strings");
	ERR("{ name + 1 = 2 }", "1:3: cannot use '+' on name: arithmetic needs numbers or durations");
	ERR("{ .a + \"x\" = 2 }", "1:8: cannot use '+' on a string: arithmetic needs numbers or durations");
	ERR("{ status > ok }", "1:3: cannot order status with '>'; use = or !=");
	ERR("{ true < false }", "1:3: cannot order a boolean with '<'; use = or !=");
	ERR("{ 1 && .a }", "1:3: cannot use '&&' on an integer: it joins conditions");
	ERR("{ !name }", "1:4: cannot use '!' on name: it negates conditions");
	ERR("{ -name = 1 }", "1:4: cannot use '-' on name: it negates numbers and durations");
	ERR("{ 1 + 1 }", "1:3: a spanset filter needs a condition, not an integer");
	ERR("{ name }", "1:3: a spanset filter needs a condition, not name");
	ERR("{ .a = nil }", "1:8: nil can only be used as '!= nil' (the attribute exists)");
	ERR("{ nil }", "1:3: nil can only be used as '!= nil' (the attribute exists)");
	ERR("{} | avg(name) > 1", "1:10: cannot take avg() of name (a string): it needs numbers or durations");
	ERR("{} | sum(status) > 1", "1:10: cannot take sum() of status (a status): it needs numbers or durations");
	ERR("{} | count() > \"x\"", "1:16: cannot compare count() with a string");
	ERR("({} | count()) > \"x\"", "1:18: cannot compare an integer with a string");
	ERR("{} | sum_over_time(name)", "1:20: cannot take sum_over_time() of name (a string): it needs numbers or "
				   "durations");
	ERR("{} | histogram_over_time(kind)", "1:26: cannot take histogram_over_time() of kind (a kind): it needs "
					 "numbers or durations");
	ERR("{} | quantile_over_time(duration, 1.5)", "1:6: quantile 1.5 is outside [0, 1]");
	ERR("{} | quantile_over_time(duration, -0.1)", "1:6: quantile -0.1 is outside [0, 1]");
	ERR("{} | rate() | topk(0)", "1:15: topk() needs a positive number of series");
	ERR("{} | rate() | bottomk(-1)", "1:15: bottomk() needs a positive number of series");
	ERR("{} | compare({}, 0)", "1:6: compare() needs a positive number of top values");
	ERR("{} | compare({}, 3, 5, 1)", "1:6: compare() needs start < end");
	/* attributes are dynamic: no static error */
	CHECK_STR(canon("{ .a > \"x\" && .b =~ \"y\" && .c + 1 > 2 && span.d = server }"),
		  "{ .a > \"x\" && .b =~ \"y\" && .c + 1 > 2 && span.d = server }");
	CHECK_STR(canon("{} | avg(.x) > 1s"), "{} | avg(.x) > 1s");
	CHECK_STR(canon("{} | avg_over_time(span.x)"), "{} | avg_over_time(span.x)");
	/* numbers of different kinds compare */
	CHECK_STR(canon("{ duration > 100 }"), "{ duration > 100 }");
	CHECK_STR(canon("{ childCount > 1.5 }"), "{ childCount > 1.5 }");
}

TEST(traceql_error_positions_and_limits)
{
	struct arena a;
	arena_init(&a, 0);
	struct tql_error err;
	const char *s = "{ .a = 1 }\n| by(.b)\n| count() > \"x\"";
	CHECK(tql_parse(s, strlen(s), &a, &err) == NULL);
	CHECK_INT(err.kind, ==, TQL_ERR_TYPE);
	CHECK_INT(err.line, ==, 3);
	CHECK_INT(err.col, ==, 13);
	CHECK_INT(err.off, ==, 32);
	s = "{ .a = }";
	CHECK(tql_parse(s, strlen(s), &a, &err) == NULL);
	CHECK_INT(err.kind, ==, TQL_ERR_SYNTAX);
	CHECK_INT(err.off, ==, 7);
	/* deep nesting is refused, not a stack overflow */
	char deep[4096];
	size_t n = 0;
	deep[n++] = '{';
	for (int i = 0; i < 600; i++)
		deep[n++] = '(';
	deep[n++] = '1';
	CHECK(tql_parse(deep, n, &a, &err) == NULL);
	CHECK_INT(err.kind, ==, TQL_ERR_LIMIT);
	n = 0;
	deep[n++] = '{';
	for (int i = 0; i < 600; i++) {
		deep[n++] = '1';
		deep[n++] = '+';
	}
	deep[n++] = '1';
	deep[n++] = '}';
	CHECK(tql_parse(deep, n, &a, &err) == NULL);
	CHECK_INT(err.kind, ==, TQL_ERR_LIMIT);
	n = 0;
	for (int i = 0; i < 400; i++) {
		memcpy(deep + n, "{} | ", 5);
		n += 5;
	}
	memcpy(deep + n, "{}", 2);
	n += 2;
	CHECK(tql_parse(deep, n, &a, &err) != NULL);
	static char big[TQL_MAX_QUERY_BYTES + 2];
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	CHECK(tql_parse(big, sizeof(big), &a, &err) == NULL);
	CHECK_INT(err.kind, ==, TQL_ERR_LIMIT);
	/* the text need not be NUL-terminated */
	CHECK(tql_parse("{ .a = 1 }XYZ", 10, &a, &err) != NULL);
	arena_reset(&a);
}

TEST(traceql_names)
{
	CHECK_STR(tql_intrinsic_name(TQL_I_DURATION), "duration");
	CHECK_STR(tql_intrinsic_name(TQL_I_LINK_SPAN_ID), "link:spanID");
	CHECK_STR(tql_intrinsic_name((enum tql_intrinsic)999), "?");
	CHECK_STR(tql_op_name(TQL_OP_SS_UNION_ANCE), "&<<");
	CHECK_STR(tql_op_name(TQL_OP_SS_NOT_SIBL), "!~");
	CHECK_STR(tql_type_name(TQL_T_DURATION), "duration");
	CHECK_STR(tql_metric_fn_name(TQL_M_HISTOGRAM_OVER_TIME), "histogram_over_time");
	CHECK_INT(tql_intrinsic_type(TQL_I_EVENT_TIME_SINCE_START), ==, TQL_T_DURATION);
	CHECK_INT(tql_intrinsic_type(TQL_I_CHILD_COUNT), ==, TQL_T_INT);
	CHECK_INT(tql_intrinsic_type(TQL_I_TRACE_ID), ==, TQL_T_STRING);
}
