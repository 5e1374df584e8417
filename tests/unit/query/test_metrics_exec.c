/* The TraceQL metrics executor over a hand-built store (one head batch of
 * 32 traces behind a fake store_query_ops): every sample of count, rate,
 * sums, quantiles and histograms checked against a brute-force count of the
 * same spans, spans outside [start, end), by() on a missing field, second
 * stages, the refusals and limits; and the API's time parameters. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/metrics_api.h"
#include "base/err.h"
#include "query/metrics_exec.h"
#include "../../testlib.h"

#define T0 1000000000000000000LL /* 2001-09-09 */
#define SEC 1000000000LL
#define N_TRACES 32
#define N_PER 4

static struct arena g_arena;
static struct span_batch g_b;
static const char *svc_names[3] = {"a", "b", "c"};

static void set_str(struct attr *a, const char *k, const char *v)
{
	a->key = slice_cstr(k);
	a->value.type = ANY_STRING;
	a->value.u.str = slice_cstr(v);
}

/* Trace t, span k: service (t + k) % 3, start T0 + 2s t + 100ms k, duration
 * 4t + k + 1 ms, error when (t + k) % 5 == 0, name "op<k>", parent span 0.
 * Traces 30 and 31 start at 60s and 62s: outside a [T0, T0 + 60s) range. */
static void build(void)
{
	static bool once;
	static const char *ops[N_PER] = {"op0", "op1", "op2", "op3"};
	if (once)
		return;
	once = true;
	arena_init(&g_arena, 0);
	span_batch_init(&g_b, &g_arena);
	for (int r = 0; r < 3; r++) {
		struct resource *res = span_batch_add_resource(&g_b);
		res->attrs.items = arena_zalloc(&g_arena, sizeof(struct attr));
		res->attrs.n = 1;
		set_str(&res->attrs.items[0], "service.name", svc_names[r]);
		span_batch_add_scope(&g_b, (uint32_t)r);
	}
	for (int t = 0; t < N_TRACES; t++) {
		for (int k = 0; k < N_PER; k++) {
			struct span *s = span_batch_add_span(&g_b, (uint32_t)((t + k) % 3));
			s->trace_id[0] = 0x10;
			s->trace_id[15] = (uint8_t)(t + 1);
			s->span_id[6] = (uint8_t)(t + 1);
			s->span_id[7] = (uint8_t)(k + 1);
			s->name = slice_cstr(ops[k]);
			s->kind = k ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
			s->status_code = (t + k) % 5 == 0 ? STATUS_ERROR : STATUS_OK;
			s->start_unix_ns = T0 + t * 2 * SEC + k * 100000000LL;
			s->end_unix_ns = s->start_unix_ns + (int64_t)(4 * t + k + 1) * 1000000LL;
			if (k) {
				s->has_parent = true;
				s->parent_span_id[6] = (uint8_t)(t + 1);
				s->parent_span_id[7] = 1;
			}
			if (k == 1) {
				s->attrs.items = arena_zalloc(&g_arena, sizeof(struct attr));
				s->attrs.n = 1;
				s->attrs.items[0].key = slice_cstr("retries");
				s->attrs.items[0].value.type = ANY_INT;
				s->attrs.items[0].value.u.i = t % 4;
			}
		}
	}
}

static int fake_get_trace(void *impl, const uint8_t id[16], struct span_batch *out)
{
	(void)impl;
	out->resources = g_b.resources;
	out->n_resources = g_b.n_resources;
	out->scopes = g_b.scopes;
	out->n_scopes = g_b.n_scopes;
	out->spans = arena_array(out->arena, g_b.n_spans, sizeof *out->spans);
	if (!out->spans)
		return CLEW_ENOMEM;
	out->n_spans = 0;
	for (uint32_t i = 0; i < g_b.n_spans; i++)
		if (memcmp(g_b.spans[i].trace_id, id, 16) == 0)
			out->spans[out->n_spans++] = g_b.spans[i];
	return out->n_spans ? 0 : CLEW_ENOTFOUND;
}

static int fake_list_blocks(void *impl, struct store_block_list *out)
{
	static struct store_block none; /* qsort wants a pointer even for 0 items */
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

static char g_err[256];
static struct metrics_out_stats g_st;

/* Run q over [T0, T0 + 60s) with steps of 10s (or o when given). */
static int run(const char *q, const struct metrics_exec_options *o, struct series_set **out)
{
	static struct arena a;
	build();
	arena_reset(&a);
	arena_init(&a, 0);
	struct metrics_exec_options def = {.start_ns = T0, .end_ns = T0 + 60 * SEC, .step_ns = 10 * SEC};
	def.scan.threads = 3;
	struct tql_error e;
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	*out = NULL;
	if (!tq) {
		snprintf(g_err, sizeof g_err, "%s", e.msg);
		return CLEW_EPARSE - 1000;
	}
	return metrics_exec_run(&fake_ops, NULL, tq, o ? o : &def, out, &g_st, g_err, sizeof g_err);
}

/* The series whose first label is a string equal to v (and, with p >= 0,
 * whose second label is the double p). */
static const struct series_out *find(const struct series_set *s, const char *v, double p)
{
	for (uint32_t i = 0; i < series_count(s); i++) {
		const struct series_out *o = series_at(s, i);
		if (o->n_labels < 1 || o->labels[0].value.type != TQL_T_STRING ||
		    !slice_eq_cstr(o->labels[0].value.u.s, v))
			continue;
		if (p >= 0 && (o->n_labels < 2 || o->labels[1].value.type != TQL_T_FLOAT || o->labels[1].value.u.f != p))
			continue;
		return o;
	}
	return NULL;
}

/* Brute force: spans in [T0, T0 + 60s) with pred, per service and step. */
struct expect {
	double count[3][6];
	double sum[3][6];
	int64_t vals[3][6][N_TRACES * N_PER];
	int n_vals[3][6];
};

static void expect_of(bool (*pred)(int t, int k), struct expect *x)
{
	memset(x, 0, sizeof *x);
	for (int t = 0; t < N_TRACES; t++) {
		for (int k = 0; k < N_PER; k++) {
			int64_t start = t * 2 * SEC + k * 100000000LL;
			if (start >= 60 * SEC || (pred && !pred(t, k)))
				continue;
			int svc = (t + k) % 3, step = (int)(start / (10 * SEC));
			int64_t dur = (int64_t)(4 * t + k + 1) * 1000000LL;
			x->count[svc][step] += 1;
			x->sum[svc][step] += (double)dur / 1e9;
			x->vals[svc][step][x->n_vals[svc][step]++] = dur;
		}
	}
}

static bool is_error(int t, int k)
{
	return (t + k) % 5 == 0;
}

static bool is_op1(int t, int k)
{
	(void)t;
	return k == 1;
}

TEST(metrics_exec_count_by_service)
{
	struct series_set *s;
	struct expect x;
	CHECK_INT(run("{} | count_over_time() by (resource.service.name)", NULL, &s), ==, 0);
	expect_of(NULL, &x);
	CHECK_INT(series_count(s), ==, 3);
	CHECK_INT(series_n_steps(s), ==, 6);
	for (int svc = 0; svc < 3; svc++) {
		const struct series_out *o = find(s, svc_names[svc], -1);
		CHECK(o);
		CHECK_SLICE(o->labels[0].name, "resource.service.name");
		for (int k = 0; k < 6; k++)
			CHECK(o->values[k] == x.count[svc][k]);
	}
	CHECK_INT(series_step_ms(s, 1), ==, (T0 + 10 * SEC) / 1000000);
	/* trace 31 starts after the range: not even inspected */
	CHECK_INT(g_st.inspected_traces, ==, N_TRACES - 1);
	CHECK_INT(g_st.inspected_spans, ==, (N_TRACES - 1) * N_PER);
	series_set_free(s);
}

TEST(metrics_exec_rate_of_errors)
{
	struct series_set *s;
	struct expect x;
	CHECK_INT(run("{status=error} | rate()", NULL, &s), ==, 0);
	expect_of(is_error, &x);
	CHECK_INT(series_count(s), ==, 1);
	const struct series_out *o = series_at(s, 0);
	for (int k = 0; k < 6; k++) {
		double want = (x.count[0][k] + x.count[1][k] + x.count[2][k]) / 10.0;
		CHECK(fabs(o->values[k] - want) < 1e-12);
	}
	series_set_free(s);
	/* a structural pipeline: only the matched (right-hand) spans count */
	CHECK_INT(run("{name=\"op0\"} > {name=\"op1\"} | count_over_time() by (resource.service.name)", NULL, &s),
		  ==, 0);
	expect_of(is_op1, &x);
	for (int svc = 0; svc < 3; svc++) {
		const struct series_out *o2 = find(s, svc_names[svc], -1);
		CHECK(o2);
		for (int k = 0; k < 6; k++)
			CHECK(o2->values[k] == x.count[svc][k]);
	}
	series_set_free(s);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

TEST(metrics_exec_quantiles_and_sums)
{
	struct series_set *s;
	static struct expect x;
	CHECK_INT(run("{} | quantile_over_time(duration, 0.5, 0.9) by (resource.service.name)", NULL, &s), ==, 0);
	expect_of(NULL, &x);
	CHECK_INT(series_count(s), ==, 6);
	static const double qs[2] = {0.5, 0.9};
	for (int svc = 0; svc < 3; svc++) {
		for (int qi = 0; qi < 2; qi++) {
			const struct series_out *o = find(s, svc_names[svc], qs[qi]);
			CHECK(o);
			CHECK_SLICE(o->labels[1].name, "p");
			for (int k = 0; k < 6; k++) {
				int n = x.n_vals[svc][k];
				if (n == 0) {
					CHECK(isnan(o->values[k]));
					continue;
				}
				qsort(x.vals[svc][k], (size_t)n, sizeof(int64_t), cmp_i64);
				double want = (double)x.vals[svc][k][(int)floor(qs[qi] * (n - 1))] / 1e9;
				CHECK(fabs(o->values[k] - want) <= 0.01 * want);
			}
		}
	}
	series_set_free(s);
	CHECK_INT(run("{} | sum_over_time(duration) by (resource.service.name)", NULL, &s), ==, 0);
	for (int svc = 0; svc < 3; svc++) {
		const struct series_out *o = find(s, svc_names[svc], -1);
		CHECK(o);
		for (int k = 0; k < 6; k++)
			CHECK(fabs(o->values[k] - x.sum[svc][k]) < 1e-9);
	}
	series_set_free(s);
	/* an integer attribute: spans without it are skipped */
	CHECK_INT(run("{} | max_over_time(span.retries)", NULL, &s), ==, 0);
	CHECK_INT(series_count(s), ==, 1);
	for (int k = 0; k < 6; k++)
		CHECK(series_at(s, 0)->values[k] == 3);
	series_set_free(s);
}

TEST(metrics_exec_histogram)
{
	struct series_set *s;
	CHECK_INT(run("{name=\"op0\"} | histogram_over_time(duration)", NULL, &s), ==, 0);
	/* op0 durations: 4t + 1 ms for t < 30; bucket = next power of two of ns */
	double want[64][6];
	memset(want, 0, sizeof want);
	for (int t = 0; t < 30; t++) {
		int64_t d = (int64_t)(4 * t + 1) * 1000000LL;
		int e = 0;
		while ((1LL << e) < d)
			e++;
		want[e][t / 5] += 1;
	}
	uint32_t seen = 0;
	for (uint32_t i = 0; i < series_count(s); i++) {
		const struct series_out *o = series_at(s, i);
		CHECK_INT(o->n_labels, ==, 1);
		CHECK_SLICE(o->labels[0].name, "__bucket");
		double b = o->labels[0].value.u.f * 1e9;
		int e = (int)llround(log2(b));
		CHECK(e > 0 && e < 64 && fabs(ldexp(1, e) - b) < 1e-3);
		for (int k = 0; k < 6; k++)
			CHECK(o->values[k] == want[e][k]);
		seen++;
	}
	int buckets = 0;
	for (int e = 0; e < 64; e++)
		for (int k = 0; k < 6; k++)
			if (want[e][k] > 0) {
				buckets++;
				break;
			}
	CHECK_INT(seen, ==, buckets);
	series_set_free(s);
}

TEST(metrics_exec_range_and_missing_fields)
{
	struct series_set *s;
	/* a range holding only traces 30 and 31 */
	struct metrics_exec_options o = {.start_ns = T0 + 60 * SEC, .end_ns = T0 + 70 * SEC, .step_ns = SEC};
	CHECK_INT(run("{name=\"op0\"} | count_over_time()", &o, &s), ==, 0);
	CHECK_INT(series_count(s), ==, 1);
	double total = 0;
	for (uint32_t k = 0; k < series_n_steps(s); k++)
		total += series_at(s, 0)->values[k];
	CHECK(total == 2);
	CHECK(series_at(s, 0)->values[0] == 1 && series_at(s, 0)->values[2] == 1);
	series_set_free(s);
	/* nothing in range: no series */
	o.start_ns = T0 + 100 * SEC;
	o.end_ns = T0 + 200 * SEC;
	CHECK_INT(run("{} | rate()", &o, &s), ==, 0);
	CHECK_INT(series_count(s), ==, 0);
	series_set_free(s);
	/* by() a field only op1 spans have: the others group under nil */
	CHECK_INT(run("{} | count_over_time() by (span.retries)", NULL, &s), ==, 0);
	CHECK_INT(series_count(s), ==, 5);
	double nil_total = 0, all = 0;
	for (uint32_t i = 0; i < series_count(s); i++) {
		const struct series_out *so = series_at(s, i);
		CHECK_SLICE(so->labels[0].name, "span.retries");
		for (int k = 0; k < 6; k++) {
			all += so->values[k];
			if (so->labels[0].value.type == TQL_T_NIL)
				nil_total += so->values[k];
		}
	}
	CHECK(all == 120 && nil_total == 90);
	series_set_free(s);
	/* two labels, an intrinsic among them */
	CHECK_INT(run("{} | count_over_time() by (resource.service.name, name)", NULL, &s), ==, 0);
	CHECK_INT(series_count(s), ==, 12);
	CHECK_SLICE(series_at(s, 0)->labels[1].name, "name");
	series_set_free(s);
}

TEST(metrics_exec_second_stages)
{
	struct series_set *s;
	struct expect x;
	expect_of(NULL, &x);
	CHECK_INT(run("{} | count_over_time() by (resource.service.name) | topk(1)", NULL, &s), ==, 0);
	for (int k = 0; k < 6; k++) {
		int best = 0;
		for (int svc = 1; svc < 3; svc++)
			if (x.count[svc][k] > x.count[best][k])
				best = svc;
		int chosen = 0;
		for (uint32_t i = 0; i < series_count(s); i++) {
			const struct series_out *o = series_at(s, i);
			if (!isnan(o->values[k])) {
				chosen++;
				CHECK(o->values[k] == x.count[best][k]);
			}
		}
		CHECK_INT(chosen, ==, 1);
	}
	series_set_free(s);
	/* a filter, then bottomk: the stages run in query order */
	CHECK_INT(run("{} | count_over_time() by (resource.service.name) > 6 | bottomk(1)", NULL, &s), ==, 0);
	for (int k = 0; k < 6; k++) {
		double lo = INFINITY;
		for (int svc = 0; svc < 3; svc++)
			if (x.count[svc][k] > 6 && x.count[svc][k] < lo)
				lo = x.count[svc][k];
		int chosen = 0;
		for (uint32_t i = 0; i < series_count(s); i++)
			if (!isnan(series_at(s, i)->values[k])) {
				chosen++;
				CHECK(series_at(s, i)->values[k] == lo);
			}
		CHECK_INT(chosen, ==, isinf(lo) ? 0 : 1);
	}
	series_set_free(s);
}

TEST(metrics_exec_refusals)
{
	struct series_set *s;
	CHECK_INT(run("{status=error}", NULL, &s), ==, CLEW_EINVAL);
	CHECK(s == NULL && strstr(g_err, "/api/search"));
	CHECK_INT(run("{} | compare({status=error})", NULL, &s), ==, CLEW_EUNSUPPORTED);
	CHECK(strstr(g_err, "compare() is not supported yet"));
	CHECK_INT(run("({} | rate()) + ({} | rate())", NULL, &s), ==, CLEW_EUNSUPPORTED);
	CHECK(strstr(g_err, "not supported yet"));
	int rc = run("{} | quantile_over_time(duration, 1.5)", NULL, &s);
	if (rc != CLEW_EPARSE - 1000) { /* the parser may refuse it first */
		CHECK_INT(rc, ==, CLEW_EINVAL);
		CHECK(strstr(g_err, "outside [0, 1]"));
	}
	CHECK_INT(run("{name =~ \"(\"} | rate()", NULL, &s), ==, CLEW_EPARSE);
	CHECK(strstr(g_err, "regular expression"));
	rc = run("{} | rate() | topk(0)", NULL, &s);
	CHECK(s == NULL && rc < 0);
	if (rc != CLEW_EPARSE - 1000)
		CHECK(strstr(g_err, "topk() needs a count above 0"));
	/* too many series */
	struct metrics_exec_options o = {.start_ns = T0, .end_ns = T0 + 60 * SEC, .step_ns = 10 * SEC};
	o.max_series = 2;
	CHECK_INT(run("{} | rate() by (resource.service.name)", &o, &s), ==, CLEW_ELIMIT);
	CHECK(s == NULL && strstr(g_err, "more than 2 series"));
	/* too many steps, and an empty range */
	o.max_series = 0;
	o.step_ns = 1000;
	CHECK_INT(run("{} | rate()", &o, &s), ==, CLEW_ELIMIT);
	CHECK(strstr(g_err, "steps"));
	o.step_ns = SEC;
	o.end_ns = o.start_ns;
	CHECK_INT(run("{} | rate()", &o, &s), ==, CLEW_EINVAL);
	CHECK(s == NULL);
}

TEST(metrics_api_time_parameters)
{
	int64_t ns = -1;
	CHECK(metrics_api_parse_time(slice_cstr("1700000000"), &ns) && ns == 1700000000LL * SEC);
	CHECK(metrics_api_parse_time(slice_cstr("1700000000123"), &ns) && ns == 1700000000123LL * 1000000);
	CHECK(metrics_api_parse_time(slice_cstr("1700000000123456789"), &ns) && ns == 1700000000123456789LL);
	CHECK(metrics_api_parse_time(slice_cstr("1700000000.5"), &ns) && ns == 1700000000LL * SEC + SEC / 2);
	CHECK(metrics_api_parse_time(slice_cstr("0"), &ns) && ns == 0);
	CHECK(metrics_api_parse_time(slice_cstr("2023-11-14T22:13:20Z"), &ns) && ns == 1700000000LL * SEC);
	CHECK(metrics_api_parse_time(slice_cstr("2023-11-15T00:13:20.25+02:00"), &ns) &&
	      ns == 1700000000LL * SEC + SEC / 4);
	CHECK(metrics_api_parse_time(slice_cstr("2023-11-14T21:13:20-01:00"), &ns) && ns == 1700000000LL * SEC);
	CHECK(metrics_api_parse_time(slice_cstr("2024-02-29T00:00:00Z"), &ns) && ns == 1709164800LL * SEC);
	static const char *bad[] = {"", "-5", "abc", "1e400", "17000000x", "2023-11-14", "2023-13-14T22:13:20Z",
				    "2023-11-14T22:13:20", "2023-11-14T22:13:20+0200", "2023-11-14T22:13:20.Z",
				    "2023-11-14T25:13:20Z", "99999999999999999999", "2023-11-14T22:13:20Zjunk"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (metrics_api_parse_time(slice_cstr(bad[i]), &ns))
			test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
}

TEST(exec_field_values_per_span)
{
	build();
	struct arena a, scratch;
	arena_init(&a, 0);
	arena_init(&scratch, 0);
	struct tql_error e;
	const char *q = "{} | count_over_time() by (resource.service.name, duration, span.retries)";
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	CHECK(tq);
	const struct tql_node *fn = tq->root->b;
	CHECK_INT(fn->n_items, ==, 3);
	/* trace 2 is spans [8, 12); 12 belongs to trace 3 and 3 to trace 0 */
	uint32_t idx[4] = {8, 9, 12, 3};
	struct exec_value v[12];
	CHECK_INT(exec_field_values((const struct tql_node *const *)fn->items, 3, &g_b, 8, 4, idx, 4, &scratch, v), ==,
		  0);
	CHECK(v[0].type == TQL_T_STRING && slice_eq_cstr(v[0].u.s, "c"));
	CHECK(v[1].type == TQL_T_DURATION && v[1].u.i == 9 * 1000000LL);
	CHECK(v[2].type == TQL_T_NIL);
	CHECK(v[3].type == TQL_T_STRING && slice_eq_cstr(v[3].u.s, "a"));
	CHECK(v[4].type == TQL_T_DURATION && v[4].u.i == 10 * 1000000LL);
	CHECK(v[5].type == TQL_T_INT && v[5].u.i == 2);
	for (int k = 6; k < 12; k++)
		CHECK(v[k].type == TQL_T_NIL);
	arena_reset(&scratch);
	arena_reset(&a);
}
