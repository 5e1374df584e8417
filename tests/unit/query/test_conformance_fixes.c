/* What the TraceQL conformance suite (tests/e2e/conformance.test.mjs) found
 * and clew now does as Tempo: rootName and rootServiceName are nil in a trace
 * whose root span never arrived (they were taken from its earliest span), and
 * a number glued to letters that are not duration units is refused at the
 * number ("1xs"), instead of lexing as a number and an identifier. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "query/exec.h"
#include "../../testlib.h"

static struct arena g_arena;
static struct span_batch g_b;

static void set_str(struct attr *a, const char *k, const char *v)
{
	a->key = slice_cstr(k);
	a->value.type = ANY_STRING;
	a->value.u.str = slice_cstr(v);
}

/* Two traces of two spans each, service "svc": trace 1 has a root "top"
 * with a child "kid"; trace 2 has "orphan" and "kid2", both children of
 * spans never received. */
static void build(void)
{
	arena_init(&g_arena, 0);
	span_batch_init(&g_b, &g_arena);
	struct resource *r = span_batch_add_resource(&g_b);
	r->attrs.items = arena_zalloc(&g_arena, sizeof(struct attr));
	r->attrs.n = 1;
	set_str(&r->attrs.items[0], "service.name", "svc");
	span_batch_add_scope(&g_b, 0);
	static const char *names[] = {"top", "kid", "orphan", "kid2"};
	for (int k = 0; k < 4; k++) {
		struct span *s = span_batch_add_span(&g_b, 0);
		s->trace_id[15] = (uint8_t)(1 + k / 2);
		s->span_id[7] = (uint8_t)(k + 1);
		s->name = slice_cstr(names[k]);
		s->start_unix_ns = 1000000000LL + k * 1000LL;
		s->end_unix_ns = s->start_unix_ns + 5000;
		if (k != 0) {
			s->has_parent = true;
			s->parent_span_id[7] = k == 1 ? 1 : (uint8_t)(0x90 + k);
		}
	}
}

/* 1 when q matches the trace of spans [first, first + 2), 0 when not, -1
 * when it does not compile. */
static int matches(const char *q, uint32_t first)
{
	struct arena a, scratch, res;
	arena_init(&a, 0);
	arena_init(&scratch, 0);
	arena_init(&res, 0);
	int out = -1;
	struct tql_error e;
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	if (tq) {
		int rc;
		char err[256];
		struct exec_query *xq = exec_compile(tq, &a, &rc, err, sizeof err);
		if (xq) {
			out = exec_eval_trace(xq, &g_b, first, 2, &scratch, &res, 10, NULL);
			exec_query_free(xq);
		}
	}
	arena_reset(&a);
	arena_reset(&scratch);
	arena_reset(&res);
	return out;
}

TEST(conformance_root_intrinsics_nil_without_root)
{
	build();
	CHECK_INT(matches("{ rootName = \"top\" }", 0), ==, 1);
	CHECK_INT(matches("{ rootServiceName = \"svc\" }", 0), ==, 1);
	CHECK_INT(matches("{ trace:rootService = \"svc\" && name = \"kid\" }", 0), ==, 1);
	/* no root span: neither the earliest span's name nor its service */
	CHECK_INT(matches("{ rootName = \"orphan\" }", 2), ==, 0);
	CHECK_INT(matches("{ rootName != \"top\" }", 2), ==, 0);
	CHECK_INT(matches("{ rootName =~ \".*\" }", 2), ==, 0);
	CHECK_INT(matches("{ rootServiceName = \"svc\" }", 2), ==, 0);
	CHECK_INT(matches("{ trace:rootName != nil }", 2), ==, 0);
	CHECK_INT(matches("{ trace:rootName != nil }", 0), ==, 1);
	/* the rest of the trace still answers */
	CHECK_INT(matches("{ name = \"orphan\" }", 2), ==, 1);
	CHECK_INT(matches("{ !(rootName = \"x\") }", 2), ==, 1);
	arena_reset(&g_arena);
}

static const char *parse_msg(const char *q)
{
	static char out[256];
	struct arena a;
	arena_init(&a, 0);
	struct tql_error e;
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	snprintf(out, sizeof out, "%s", tq ? "ok" : e.msg);
	arena_reset(&a);
	return out;
}

TEST(conformance_number_glued_to_letters)
{
	static const char *bad[][2] = {
		{"{ duration > 1xs }", "1:14: invalid duration"},
		{"{ duration > 10mss }", "1:14: invalid duration"},
		{"{ duration > 1h3 }", "1:14: invalid duration"},
		{"{ .a = 1e }", "1:8: invalid duration"},
		{"{ .a = 12abc }", "1:8: invalid duration"},
		{"{ .a = 1.5x }", "1:8: invalid duration"},
		{"{ .a = 1_000 }", "1:8: invalid duration"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		const char *m = parse_msg(bad[k][0]);
		if (strncmp(m, bad[k][1], strlen(bad[k][1])) != 0)
			fprintf(stderr, "  %s -> %s\n", bad[k][0], m);
		CHECK(strncmp(m, bad[k][1], strlen(bad[k][1])) == 0);
	}
	static const char *good[] = {
		"{ duration > 1ms }", "{ duration > 1h30m }", "{ duration > 1.5s }", "{ .a = 1e3 }",
		"{ .a = 1E-3 }",      "{ .a = 1.5 }",	       "{ .a = 12 }",	       "{ duration > 10µs }",
		"{ .a = 1&&.b = 2 }", "{ .a=1}",	       "{ } | count() > 2",    "{ duration > 1d }",
	};
	for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
		const char *m = parse_msg(good[k]);
		if (strcmp(m, "ok") != 0)
			fprintf(stderr, "  %s -> %s\n", good[k], m);
		CHECK(strcmp(m, "ok") == 0);
	}
}
