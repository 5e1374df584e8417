/* Compare and the store-driven correlations (corr_run) over a small fake
 * store that serves one hand-built batch as its head: by-value and
 * baseline-window comparisons (figures, ranked attributes, the by key left
 * out, critical-path segments), value texts, and corr_run's quantile
 * threshold, per-operation threshold, trace level and error signal. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/correlations.h"
#include "base/err.h"
#include "../../testlib.h"

static struct arena g_a;
static struct span_batch g_b;

#define T0 1700000000000000000LL
#define MS 1000000LL

static void reset(void)
{
	static bool once;
	if (once)
		arena_reset(&g_a);
	once = true;
	arena_init(&g_a, 0);
	span_batch_init(&g_b, &g_a);
	static const char *ver[2] = {"1.0", "2.0"};
	for (int k = 0; k < 2; k++) { /* resource k: service api, version ver[k]; resource 2: service db */
		struct resource *r = span_batch_add_resource(&g_b);
		struct attr *a = arena_zalloc(&g_a, 2 * sizeof *a);
		a[0].key = slice_cstr("service.name");
		a[0].value.type = ANY_STRING;
		a[0].value.u.str = slice_cstr("api");
		a[1].key = slice_cstr("service.version");
		a[1].value.type = ANY_STRING;
		a[1].value.u.str = slice_cstr(ver[k]);
		r->attrs.items = a;
		r->attrs.n = 2;
		span_batch_add_scope(&g_b, (uint32_t)k);
	}
	struct resource *r = span_batch_add_resource(&g_b);
	r->attrs.items = arena_zalloc(&g_a, sizeof(struct attr));
	r->attrs.n = 1;
	r->attrs.items[0].key = slice_cstr("service.name");
	r->attrs.items[0].value.type = ANY_STRING;
	r->attrs.items[0].value.u.str = slice_cstr("db");
	span_batch_add_scope(&g_b, 2);
}

static struct span *add(uint32_t trace, uint32_t id, uint32_t parent, uint32_t scope, const char *name,
			int64_t start_ms, int64_t dur_ms, int status, const char *host)
{
	struct span *s = span_batch_add_span(&g_b, scope);
	memcpy(s->trace_id, &trace, 4);
	s->trace_id[15] = 7;
	memcpy(s->span_id, &id, 4);
	s->span_id[7] = 7;
	if (parent) {
		s->has_parent = true;
		memcpy(s->parent_span_id, &parent, 4);
		s->parent_span_id[7] = 7;
	}
	s->name = slice_cstr(name);
	s->kind = parent ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
	s->status_code = (uint8_t)status;
	s->start_unix_ns = T0 + start_ms * MS;
	s->end_unix_ns = s->start_unix_ns + dur_ms * MS;
	s->attrs.items = arena_zalloc(&g_a, sizeof(struct attr));
	s->attrs.n = 1;
	s->attrs.items[0].key = slice_cstr("host");
	s->attrs.items[0].value.type = ANY_STRING;
	s->attrs.items[0].value.u.str = slice_cstr(host);
	return s;
}

/* ---- a fake store serving g_b as its head ---- */

static int fake_scan_heads(void *impl, head_batch_fn fn, void *ctx)
{
	(void)impl;
	return fn(ctx, &g_b);
}

static int fake_get_trace(void *impl, const uint8_t id[16], struct span_batch *out)
{
	(void)impl;
	uint32_t n = 0;
	for (uint32_t i = 0; i < g_b.n_spans; i++)
		n += memcmp(g_b.spans[i].trace_id, id, 16) == 0;
	if (!n)
		return CLEW_ENOTFOUND;
	out->spans = arena_array(out->arena, n, sizeof *out->spans);
	if (!out->spans)
		return CLEW_ENOMEM;
	for (uint32_t i = 0; i < g_b.n_spans; i++)
		if (memcmp(g_b.spans[i].trace_id, id, 16) == 0)
			out->spans[out->n_spans++] = g_b.spans[i];
	out->resources = g_b.resources;
	out->n_resources = g_b.n_resources;
	out->scopes = g_b.scopes;
	out->n_scopes = g_b.n_scopes;
	return 0;
}

static int fake_list_blocks(void *impl, struct store_block_list *out)
{
	(void)impl;
	memset(out, 0, sizeof *out);
	return 0;
}

static void fake_release(struct store_block_list *l)
{
	(void)l;
}

static const struct store_query_ops fake_ops = {fake_get_trace, fake_list_blocks, fake_release, fake_scan_heads};

static struct exec_query *compile(const char *text, struct arena *a)
{
	struct tql_error e;
	struct tql_query *q = tql_parse(text, strlen(text), a, &e);
	if (!q)
		return NULL;
	int rc;
	char err[128];
	return exec_compile(q, a, &rc, err, sizeof err);
}

/* 200 traces: root "GET /x" on api (version 1.0 for even traces, 2.0 for
 * odd), one client call "query" to db. Version 2.0 roots: 100 ms instead of
 * 10, a third fail, host h-bad; the db call is 5 ms in both. Traces 0..99
 * start at 0 s, 100..199 at 100 s. */
static void population(void)
{
	reset();
	for (uint32_t t = 0; t < 200; t++) {
		bool v2 = t % 2;
		int64_t start = t < 100 ? (int64_t)t : 100000 + (int64_t)t;
		if (t >= 100) /* the second window: every root on 2.0 */
			v2 = true;
		add(t + 1, 2 * t + 1, 0, v2 ? 1 : 0, "GET /x", start, v2 ? 100 : 10,
		    v2 && t % 3 == 0 ? STATUS_ERROR : STATUS_OK, v2 ? "h-bad" : "h-ok");
		add(t + 1, 2 * t + 2, 2 * t + 1, 2, "query", start + 1, 5, STATUS_OK, "dbhost");
	}
}

TEST(cmp_by_value)
{
	struct arena qa;
	arena_init(&qa, 0);
	population();
	struct exec_query *xq = compile("{ resource.service.name = \"api\" }", &qa);
	CHECK(xq != NULL);
	struct tql_error e;
	struct tql_query *bq = tql_parse("{ resource.service.version != nil }", 35, &qa, &e);
	CHECK(bq != NULL);
	struct cmp_options co;
	memset(&co, 0, sizeof co);
	co.by = bq->root->items[0]->a->a;
	CHECK_INT(co.by->kind, ==, TQL_N_ATTR);
	co.by_text = slice_cstr("resource.service.version");
	co.a_value = slice_cstr("1.0");
	co.b_value = slice_cstr("2.0");
	struct exec_options o;
	memset(&o, 0, sizeof o);
	o.threads = 2;
	struct cmp_report rep;
	CHECK_INT(cmp_run(&fake_ops, NULL, xq, &o, &co, &rep), ==, 0);
	CHECK_INT(rep.a.count, ==, 50);
	CHECK_INT(rep.b.count, ==, 150);
	CHECK_INT(rep.a.errors, ==, 0);
	CHECK_INT(rep.b.errors, ==, 50); /* t % 3 == 0 among the 2.0 roots */
	CHECK(fabs(rep.b.error_rate - 50.0 / 150) < 1e-9);
	CHECK(fabs(rep.a.p50_ms - 10) < 0.2);
	CHECK(fabs(rep.b.p99_ms - 100) < 2);
	CHECK(fabs(rep.b.mean_ms - 100) < 1e-6);
	CHECK_INT(rep.n_results, >=, 1);
	CHECK_SLICE(rep.results[0].key, "span.host");
	CHECK_SLICE(rep.results[0].value, "h-bad");
	for (uint32_t k = 0; k < rep.n_results; k++)
		CHECK(!slice_eq_cstr(rep.results[k].key, "resource.service.version"));
	CHECK_INT(rep.n_segments, >=, 1);
	struct buf out;
	buf_init(&out, 1 << 20);
	struct json j;
	json_init(&j, &out);
	cmp_write_json(&j, &rep, &co);
	CHECK(!out.err);
	buf_append_byte(&out, 0);
	CHECK(strstr((const char *)out.p, "\"mode\":\"by\"") != NULL);
	CHECK(strstr((const char *)out.p, "\"criticalPath\":[{") != NULL);
	buf_free(&out);
	cmp_report_free(&rep);
	exec_query_free(xq);
	arena_reset(&qa);
}

TEST(cmp_baseline_windows)
{
	struct arena qa;
	arena_init(&qa, 0);
	population();
	struct exec_query *xq = compile("{ kind = server }", &qa);
	struct cmp_options co;
	memset(&co, 0, sizeof co);
	co.a_start_ns = T0;
	co.a_end_ns = T0 + 99999 * MS;
	co.b_start_ns = T0 + 100000 * MS;
	co.b_end_ns = T0 + 300000 * MS;
	struct exec_options o;
	memset(&o, 0, sizeof o);
	struct cmp_report rep;
	CHECK_INT(cmp_run(&fake_ops, NULL, xq, &o, &co, &rep), ==, 0);
	CHECK_INT(rep.a.count, ==, 100);
	CHECK_INT(rep.b.count, ==, 100);
	CHECK_INT(rep.n_results, >=, 1);
	/* version 2.0 and host h-bad are in 100% of B and 50% of A: a tie,
	 * broken by scope (resource before span) */
	CHECK_SLICE(rep.results[0].value, "2.0");
	CHECK_SLICE(rep.results[1].value, "h-bad");
	cmp_report_free(&rep);
	/* an empty baseline window */
	co.a_start_ns = T0 - 1000 * MS;
	co.a_end_ns = T0 - 500 * MS;
	CHECK_INT(cmp_run(&fake_ops, NULL, xq, &o, &co, &rep), ==, 0);
	CHECK_INT(rep.a.count, ==, 0);
	CHECK(isnan(rep.a.p50_ms));
	CHECK(isnan(rep.a.error_rate));
	cmp_report_free(&rep);
	exec_query_free(xq);
	arena_reset(&qa);
}

TEST(cmp_value_texts)
{
	char tmp[64];
	struct exec_value v = {.type = TQL_T_INT, .u.i = -42};
	CHECK_SLICE(cmp_value_text(&v, tmp, sizeof tmp), "-42");
	v.type = TQL_T_BOOL;
	v.u.b = true;
	CHECK_SLICE(cmp_value_text(&v, tmp, sizeof tmp), "true");
	v.type = TQL_T_STATUS;
	v.u.i = 2;
	CHECK_SLICE(cmp_value_text(&v, tmp, sizeof tmp), "error");
	v.u.i = 9;
	CHECK_SLICE(cmp_value_text(&v, tmp, sizeof tmp), "unset");
	v.type = TQL_T_KIND;
	v.u.i = 3;
	CHECK_SLICE(cmp_value_text(&v, tmp, sizeof tmp), "client");
	v.type = TQL_T_FLOAT;
	v.u.f = 0.5;
	CHECK_SLICE(cmp_value_text(&v, tmp, sizeof tmp), "0.5");
	v.type = TQL_T_DURATION;
	v.u.i = 1500;
	CHECK_SLICE(cmp_value_text(&v, tmp, sizeof tmp), "1500ns");
	v.type = TQL_T_NIL;
	CHECK_INT(cmp_value_text(&v, tmp, sizeof tmp).len, ==, 0);
}

TEST(corr_run_signals_and_levels)
{
	struct arena qa;
	arena_init(&qa, 0);
	population();
	struct exec_query *xq = compile("{}", &qa);
	struct exec_options o;
	memset(&o, 0, sizeof o);
	struct corr_options co;
	memset(&co, 0, sizeof co);
	struct corr_report rep;

	/* 200 db spans of 5 ms, 50 roots of 10 ms, 150 of 100 ms: p60 is 10 ms,
	 * the 2.0 roots are over it */
	co.quantile = 0.6;
	CHECK_INT(corr_run(&fake_ops, NULL, xq, &o, &co, &rep), ==, 0);
	CHECK(fabs((double)rep.threshold_ns / 1e6 - 10) < 0.2);
	CHECK_INT(rep.bad, ==, 150);
	CHECK_INT(rep.rest, ==, 250);
	CHECK_INT(rep.n_results, >=, 1);
	CHECK_SLICE(rep.results[0].key, "resource.service.version");
	CHECK_SLICE(rep.results[0].value, "2.0");
	CHECK(fabs(rep.results[0].with_p50_ms - 100) < 2);
	CHECK(fabs(rep.results[0].without_p50_ms - 5) < 0.2);
	CHECK(!isnan(rep.p99_ms));
	corr_report_free(&rep);

	/* p20: 5 ms over the population (every root is over it); per operation
	 * the roots' p20 is 10 ms and the db spans never exceed their own */
	co.quantile = 0.2;
	CHECK_INT(corr_run(&fake_ops, NULL, xq, &o, &co, &rep), ==, 0);
	CHECK_INT(rep.bad, ==, 200);
	corr_report_free(&rep);
	co.per_operation = true;
	CHECK_INT(corr_run(&fake_ops, NULL, xq, &o, &co, &rep), ==, 0);
	CHECK_INT(rep.bad, ==, 150);
	CHECK_SLICE(rep.results[0].value, "2.0");
	corr_report_free(&rep);
	co.per_operation = false;

	/* an absolute threshold above everything: no bad span, no result */
	co.threshold_ns = 500 * MS;
	CHECK_INT(corr_run(&fake_ops, NULL, xq, &o, &co, &rep), ==, 0);
	CHECK_INT(rep.bad, ==, 0);
	CHECK_INT(rep.n_results, ==, 0);
	corr_report_free(&rep);

	/* error signal, trace level: 50 failed traces of 200; status is left out */
	co.signal = CORR_SIGNAL_ERROR;
	co.level = CORR_LEVEL_TRACE;
	co.threshold_ns = 0;
	CHECK_INT(corr_run(&fake_ops, NULL, xq, &o, &co, &rep), ==, 0);
	CHECK_INT(rep.bad, ==, 50);
	CHECK_INT(rep.rest, ==, 150);
	CHECK(isnan(rep.p50_ms));
	CHECK_INT(rep.n_results, >=, 1);
	for (uint32_t k = 0; k < rep.n_results; k++)
		CHECK(!slice_eq_cstr(rep.results[k].key, "status"));
	CHECK_SLICE(rep.results[0].value, "2.0");
	corr_report_free(&rep);
	exec_query_free(xq);
	arena_reset(&qa);
}
