/* compare() over a hand-built head (one trace of five spans behind a fake
 * store_query_ops): the groups, the top-N cut, the totals, the selection
 * window, the refusals, the __too_many_values__ series, the memory budget
 * and the range / instant JSON, checked against counts worked out by hand. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "query/metrics_compare.h"
#include "../../testlib.h"

#define T0 1000000000000000000LL
#define SEC 1000000000LL

static struct arena g_a;
static struct span_batch g_b;

/* Span k: name "op<k % 3>", error when k is 1 or 3, span.n = k % 2 (int),
 * service "svc", start T0 + k s. */
static void build(void)
{
	static const char *names[3] = {"op0", "op1", "op2"};
	static bool once;
	if (once)
		return;
	once = true;
	arena_init(&g_a, 0);
	span_batch_init(&g_b, &g_a);
	struct resource *res = span_batch_add_resource(&g_b);
	res->attrs.items = arena_zalloc(&g_a, sizeof(struct attr));
	res->attrs.n = 1;
	res->attrs.items[0].key = slice_cstr("service.name");
	res->attrs.items[0].value.type = ANY_STRING;
	res->attrs.items[0].value.u.str = slice_cstr("svc");
	span_batch_add_scope(&g_b, 0);
	for (int k = 0; k < 5; k++) {
		struct span *s = span_batch_add_span(&g_b, 0);
		s->trace_id[15] = 7;
		s->span_id[7] = (uint8_t)(k + 1);
		s->name = slice_cstr(names[k % 3]);
		s->status_code = (k == 1 || k == 3) ? STATUS_ERROR : STATUS_OK;
		s->start_unix_ns = T0 + k * SEC;
		s->end_unix_ns = s->start_unix_ns + SEC / 10;
		if (k) {
			s->has_parent = true;
			s->parent_span_id[7] = 1;
		}
		s->attrs.items = arena_zalloc(&g_a, sizeof(struct attr));
		s->attrs.n = 1;
		s->attrs.items[0].key = slice_cstr("n");
		s->attrs.items[0].value.type = ANY_INT;
		s->attrs.items[0].value.u.i = k % 2;
	}
}

static int fake_get_trace(void *impl, const uint8_t id[16], struct span_batch *out)
{
	(void)impl;
	(void)id;
	*out = (struct span_batch){.arena = out->arena, .resources = g_b.resources, .n_resources = g_b.n_resources,
				   .scopes = g_b.scopes, .n_scopes = g_b.n_scopes, .spans = g_b.spans,
				   .n_spans = g_b.n_spans};
	return 0;
}

static int fake_list_blocks(void *impl, struct store_block_list *out)
{
	static struct store_block none;
	(void)impl;
	out->items = &none;
	out->n = 0;
	return 0;
}

static void fake_release_blocks(struct store_block_list *l)
{
	(void)l;
}

static int fake_scan_heads(void *impl, head_batch_fn fn, void *ctx)
{
	(void)impl;
	return fn(ctx, &g_b);
}

static const struct store_query_ops fake_ops = {fake_get_trace, fake_list_blocks, fake_release_blocks,
						fake_scan_heads};

/* The answer as "type attr=value:count,count;" lines; with json, also
 * its range (or instant) JSON in *json. max_bytes 0: the default. */
static int run_full(const char *q, int64_t step, size_t max_bytes, char *out, size_t cap, struct buf *json,
		    bool instant)
{
	struct arena a;
	struct tql_error te;
	char err[256];
	struct metrics_out_stats st;
	struct mcmp_result r;
	build();
	arena_init(&a, 0);
	memset(&r, 0, sizeof r);
	out[0] = 0;
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &te);
	if (!tq) {
		snprintf(out, cap, "parse: %s", te.msg);
		arena_reset(&a);
		return CLEW_EPARSE;
	}
	struct metrics_exec_options o = {.start_ns = T0, .end_ns = T0 + 6 * SEC, .step_ns = step,
					 .max_bytes = max_bytes};
	o.scan.threads = 1;
	int rc = mcmp_run(&fake_ops, NULL, tq, &o, &r, &st, err, sizeof err);
	if (rc == 0 && json && instant)
		metrics_out_compare_instant(json, &r, &st);
	else if (rc == 0 && json)
		metrics_out_compare_range(json, &r, &st);
	size_t len = 0;
	for (uint32_t k = 0; rc == 0 && k < r.n_series && len < cap; k++) {
		const struct mcmp_series *s = &r.series[k];
		char v[64] = "";
		if (s->value.type == TQL_T_STRING)
			snprintf(v, sizeof v, "=%.*s", (int)s->value.u.s.len, (const char *)s->value.u.s.p);
		else if (s->value.type != TQL_T_NIL)
			snprintf(v, sizeof v, "=%lld", (long long)s->value.u.i);
		len += (size_t)snprintf(out + len, cap - len, "%s %.*s%s:", s->type, (int)s->attr.len,
					(const char *)s->attr.p, v);
		for (uint32_t i = 0; s->counts && i < r.steps && len < cap; i++)
			len += (size_t)snprintf(out + len, cap - len, "%s%g", i ? "," : "", s->counts[i]);
		if (len < cap)
			len += (size_t)snprintf(out + len, cap - len, ";");
	}
	if (rc < 0)
		snprintf(out, cap, "error: %s", err);
	mcmp_result_free(&r);
	arena_reset(&a);
	return rc;
}

static int run(const char *q, int64_t step, char *out, size_t cap)
{
	return run_full(q, step, 0, out, cap, NULL, false);
}

static int count_of(const char *all, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(all, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static const char *line(const char *all, const char *prefix, char *buf, size_t cap)
{
	const char *p = strstr(all, prefix);
	if (!p || (p != all && p[-1] != ';'))
		return "";
	const char *e = strchr(p, ';');
	snprintf(buf, cap, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
	return buf;
}

TEST(compare_fn_groups_and_totals)
{
	static char out[16384], l[256];
	CHECK_INT(run("{ } | compare({ status = error })", 6 * SEC, out, sizeof out), ==, 0);
	/* selection: spans 1 (op1) and 3 (op0); baseline: 0 (op0), 2 (op2), 4 (op1) */
	CHECK_STR(line(out, "selection name=op0:", l, sizeof l), "selection name=op0:1");
	CHECK_STR(line(out, "selection name=op1:", l, sizeof l), "selection name=op1:1");
	CHECK_STR(line(out, "selection name=op2:", l, sizeof l), "");
	CHECK_STR(line(out, "baseline name=op1:", l, sizeof l), "baseline name=op1:1");
	CHECK_STR(line(out, "baseline span.n=0:", l, sizeof l), "baseline span.n=0:3");
	CHECK_STR(line(out, "selection span.n=1:", l, sizeof l), "selection span.n=1:2");
	CHECK_STR(line(out, "baseline resource.service.name=svc:", l, sizeof l), "baseline resource.service.name=svc:3");
	CHECK_STR(line(out, "selection_total name:", l, sizeof l), "selection_total name:2");
	CHECK_STR(line(out, "baseline_total name:", l, sizeof l), "baseline_total name:3");
	CHECK_STR(line(out, "baseline_total rootName:", l, sizeof l), "baseline_total rootName:3");
	CHECK_STR(line(out, "selection status=2:", l, sizeof l), "selection status=2:2");
	CHECK(strstr(out, "duration") == NULL);
	/* steps: one per second */
	CHECK_INT(run("{ } | compare({ status = error })", SEC, out, sizeof out), ==, 0);
	CHECK_STR(line(out, "selection_total name:", l, sizeof l), "selection_total name:0,1,0,1,0,0");
	CHECK_STR(line(out, "baseline name=op0:", l, sizeof l), "baseline name=op0:1,0,0,0,0,0");
}

TEST(compare_fn_topn_window_population)
{
	static char out[16384], l[256];
	/* top 1: baseline names op0, op1, op2 once each: the first by value */
	CHECK_INT(run("{ } | compare({ status = error }, 1)", 6 * SEC, out, sizeof out), ==, 0);
	CHECK_STR(line(out, "baseline name=op0:", l, sizeof l), "baseline name=op0:1");
	CHECK_STR(line(out, "baseline name=op1:", l, sizeof l), "");
	CHECK_STR(line(out, "baseline_total name:", l, sizeof l), "baseline_total name:3");
	/* the window [T0 + 2s, T0 + 5s) keeps span 3 only in the selection */
	CHECK_INT(run("{ } | compare({ status = error }, 10, 1000000002000000000, 1000000005000000000)", 6 * SEC, out,
		      sizeof out),
		  ==, 0);
	CHECK_STR(line(out, "selection_total name:", l, sizeof l), "selection_total name:1");
	CHECK_STR(line(out, "baseline_total name:", l, sizeof l), "baseline_total name:4");
	/* the population restricts both groups */
	CHECK_INT(run("{ name = \"op1\" } | compare({ status = error })", 6 * SEC, out, sizeof out), ==, 0);
	CHECK_STR(line(out, "selection_total name:", l, sizeof l), "selection_total name:1");
	CHECK_STR(line(out, "baseline_total name:", l, sizeof l), "baseline_total name:1");
	CHECK_STR(line(out, "baseline name=op0:", l, sizeof l), "");
	/* refusals */
	CHECK_INT(run("{ } | rate()", SEC, out, sizeof out), ==, CLEW_EINVAL);
	CHECK_INT(run("{ } | compare({ status = error })", 0, out, sizeof out), ==, CLEW_EINVAL);
	CHECK_INT(run("{ } | compare({ status = error })", 1, out, sizeof out), ==, CLEW_ELIMIT);
	CHECK_INT(run("{ } | compare({ status = error }, 0)", SEC, out, sizeof out), ==, CLEW_EPARSE);
}

TEST(compare_fn_too_many_values_and_budget)
{
	static char out[16384], l[256];
	/* top 1 cuts name (three baseline values) and nothing else */
	CHECK_INT(run("{ } | compare({ status = error }, 1)", 6 * SEC, out, sizeof out), ==, 0);
	CHECK_STR(line(out, "__too_many_values__ name:", l, sizeof l), "__too_many_values__ name:");
	CHECK_INT(count_of(out, "__too_many_values__"), ==, 1);
	/* top 2: the selection's two names fit, the baseline's three do not */
	CHECK_INT(run("{ } | compare({ status = error }, 2)", 6 * SEC, out, sizeof out), ==, 0);
	CHECK_INT(count_of(out, "__too_many_values__ name:"), ==, 1);
	CHECK_INT(count_of(out, "selection name="), ==, 2);
	CHECK_INT(count_of(out, "baseline name="), ==, 2);
	/* top 3 keeps every value: no error series */
	CHECK_INT(run("{ } | compare({ status = error }, 3)", 6 * SEC, out, sizeof out), ==, 0);
	CHECK_INT(count_of(out, "__too_many_values__"), ==, 0);
	CHECK_INT(count_of(out, "baseline name="), ==, 3);
	/* a population of nothing: an empty answer */
	CHECK_INT(run("{ name = \"nope\" } | compare({ status = error })", 6 * SEC, out, sizeof out), ==, 0);
	CHECK_STR(out, "");
	/* the memory budget */
	CHECK_INT(run_full("{ } | compare({ status = error })", SEC, 1, out, sizeof out, NULL, false), ==, CLEW_ELIMIT);
	CHECK(strstr(out, "query exceeded its memory budget") != NULL);
	CHECK_INT(run_full("{ } | compare({ status = error })", SEC, 1 << 20, out, sizeof out, NULL, false), ==, 0);
}

TEST(compare_fn_json)
{
	static char out[16384];
	struct buf j;
	buf_init(&j, 1 << 20);
	CHECK_INT(run_full("{ } | compare({ status = error }, 1)", 3 * SEC, 0, out, sizeof out, &j, false), ==, 0);
	CHECK(!j.err);
	buf_append_byte(&j, 0);
	const char *s = (const char *)j.p;
	/* a value series: __meta_type first, then the attribute and its value */
	CHECK(strstr(s, "{\"labels\":[{\"key\":\"__meta_type\",\"value\":{\"stringValue\":\"selection\"}},"
			"{\"key\":\"span.n\",\"value\":{\"intValue\":\"1\"}}],\"samples\":["
			"{\"timestampMs\":\"1000000000000\",\"value\":1},"
			"{\"timestampMs\":\"1000000003000\",\"value\":1}],\"exemplars\":[]}") != NULL);
	/* zeros are samples too */
	CHECK(strstr(s, "\"stringValue\":\"baseline\"}},{\"key\":\"name\",\"value\":{\"stringValue\":\"op0\"}}],"
			"\"samples\":[{\"timestampMs\":\"1000000000000\",\"value\":1},"
			"{\"timestampMs\":\"1000000003000\",\"value\":0}]") != NULL);
	/* status as its name */
	CHECK(strstr(s, "{\"key\":\"status\",\"value\":{\"stringValue\":\"error\"}}],\"samples\":["
			"{\"timestampMs\":\"1000000000000\",\"value\":1},"
			"{\"timestampMs\":\"1000000003000\",\"value\":1}]") != NULL);
	/* a total: the attribute with nil */
	CHECK(strstr(s, "[{\"key\":\"__meta_type\",\"value\":{\"stringValue\":\"baseline_total\"}},"
			"{\"key\":\"name\",\"value\":{\"stringValue\":\"nil\"}}],\"samples\":["
			"{\"timestampMs\":\"1000000000000\",\"value\":2},"
			"{\"timestampMs\":\"1000000003000\",\"value\":1}]") != NULL);
	/* the error series: no samples */
	CHECK(strstr(s, "[{\"key\":\"__meta_error\",\"value\":{\"stringValue\":\"__too_many_values__\"}},"
			"{\"key\":\"name\",\"value\":{\"stringValue\":\"nil\"}}],\"samples\":[],") != NULL);
	CHECK(strstr(s, "\"metrics\":{\"inspectedTraces\":1,") != NULL);
	/* instant: one value per series, the sum; no error series */
	buf_clear(&j);
	CHECK_INT(run_full("{ } | compare({ status = error }, 1)", 6 * SEC, 0, out, sizeof out, &j, true), ==, 0);
	buf_append_byte(&j, 0);
	s = (const char *)j.p;
	CHECK(strstr(s, "{\"labels\":[{\"key\":\"__meta_type\",\"value\":{\"stringValue\":\"baseline_total\"}},"
			"{\"key\":\"name\",\"value\":{\"stringValue\":\"nil\"}}],\"value\":3}") != NULL);
	CHECK(strstr(s, "__meta_error") == NULL);
	CHECK(strstr(s, "samples") == NULL);
	buf_free(&j);
}
