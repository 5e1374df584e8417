/* Unit tests of metrics series: exact counts, sums, min, max and averages
 * per step and group, rate division, quantiles within the sketch's bound,
 * histogram buckets, topk / bottomk, filters, the series and memory caps,
 * merging per-thread sets, and the Tempo JSON answers parsed back with
 * jansson. */
#include "../../testlib.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "query/metrics_out.h"
#include "query/series.h"

#define SEC 1000000000ll
#define T0 (1700000000ll * SEC)

static struct tql_value str_v(const char *s)
{
	return (struct tql_value){.type = TQL_T_STRING, .u.s = slice_cstr(s)};
}

static struct tql_value int_v(int64_t i)
{
	return (struct tql_value){.type = TQL_T_INT, .u.i = i};
}

static const struct slice svc_name[] = {SLICE_LIT("resource.service.name")};

static struct series_config cfg_of(enum tql_metric_fn fn, uint32_t n_by)
{
	return (struct series_config){
		.fn = fn, .start_ns = T0, .end_ns = T0 + 60 * SEC, .step_ns = 15 * SEC, .by_names = svc_name, .n_by = n_by};
}

static struct series_set *make(const struct series_config *cfg)
{
	int rc;
	struct series_set *s = series_set_new(cfg, &rc);
	if (!s)
		fprintf(stderr, "series_set_new: %d\n", rc);
	return s;
}

/* The series whose first label is the string name, or NULL. */
static const struct series_out *find(const struct series_set *s, const char *name)
{
	for (uint32_t i = 0; i < series_count(s); i++) {
		const struct series_out *o = series_at(s, i);
		if (o->n_labels && o->labels[0].value.type == TQL_T_STRING && slice_eq_cstr(o->labels[0].value.u.s, name))
			return o;
	}
	return NULL;
}

TEST(series_rejects_bad_config)
{
	int rc;
	struct series_config c = cfg_of(TQL_M_RATE, 1);
	c.step_ns = 0;
	CHECK(!series_set_new(&c, &rc) && rc == CLEW_EINVAL);
	c = cfg_of(TQL_M_RATE, 1);
	c.end_ns = c.start_ns;
	CHECK(!series_set_new(&c, &rc) && rc == CLEW_EINVAL);
	c = cfg_of(TQL_M_COMPARE, 0);
	CHECK(!series_set_new(&c, &rc) && rc == CLEW_EINVAL);
	c = cfg_of(TQL_M_RATE, SERIES_MAX_BY + 1);
	CHECK(!series_set_new(&c, &rc) && rc == CLEW_EINVAL);
	c = cfg_of(TQL_M_QUANTILE_OVER_TIME, 0);
	CHECK(!series_set_new(&c, &rc) && rc == CLEW_EINVAL); /* no quantiles */
	double bad_q[] = {0.5, 1.5};
	c.quantiles = bad_q;
	c.n_quantiles = 2;
	CHECK(!series_set_new(&c, &rc) && rc == CLEW_EINVAL);
	double q[] = {0.5};
	c.quantiles = q;
	c.n_quantiles = 1;
	c.sketch_alpha = 0.9;
	CHECK(!series_set_new(&c, &rc) && rc == CLEW_EINVAL);
	c = cfg_of(TQL_M_RATE, 0);
	c.step_ns = 1;
	CHECK(!series_set_new(&c, &rc) && rc == CLEW_ELIMIT);
	c = cfg_of(TQL_M_RATE, 0);
	c.end_ns = c.start_ns + 61 * SEC; /* a partial last step counts */
	struct series_set *s = series_set_new(&c, &rc);
	CHECK(s && rc == 0);
	CHECK_INT(series_n_steps(s), ==, 5);
	series_set_free(s);
}

TEST(series_count_and_rate_per_step_and_group)
{
	struct series_config c = cfg_of(TQL_M_COUNT_OVER_TIME, 1);
	struct series_set *cnt = make(&c);
	c.fn = TQL_M_RATE;
	struct series_set *rate = make(&c);
	CHECK(cnt && rate);
	struct {
		const char *svc;
		int64_t t;
		int n;
	} adds[] = {{"billing", 0, 3}, {"billing", 14 * SEC + 999999999, 2}, {"billing", 45 * SEC, 1},
		    {"api", 15 * SEC, 30}, {"api", 59 * SEC, 4}};
	for (size_t i = 0; i < sizeof adds / sizeof adds[0]; i++) {
		struct tql_value by = str_v(adds[i].svc);
		for (int k = 0; k < adds[i].n; k++) {
			CHECK_INT(series_add(cnt, &by, T0 + adds[i].t, NAN), ==, 0);
			CHECK_INT(series_add(rate, &by, T0 + adds[i].t, 7), ==, 0);
		}
	}
	struct tql_value by = str_v("billing");
	CHECK_INT(series_add(cnt, &by, T0 - 1, 0), ==, 0);	 /* before start */
	CHECK_INT(series_add(cnt, &by, T0 + 60 * SEC, 0), ==, 0); /* end is open */
	CHECK_INT(series_groups(cnt), ==, 2);
	CHECK_INT(series_finish(cnt), ==, 0);
	CHECK_INT(series_finish(rate), ==, 0);
	CHECK_INT(series_finish(cnt), ==, CLEW_ESTATE);
	CHECK_INT(series_add(cnt, &by, T0, 0), ==, CLEW_ESTATE);
	CHECK_INT(series_count(cnt), ==, 2);
	/* sorted by labels: api before billing */
	CHECK_SLICE(series_at(cnt, 0)->labels[0].value.u.s, "api");
	CHECK_SLICE(series_at(cnt, 0)->labels[0].name, "resource.service.name");
	const struct series_out *b = find(cnt, "billing"), *a = find(cnt, "api");
	CHECK(a && b);
	double want_b[] = {5, 0, 0, 1}, want_a[] = {0, 30, 0, 4};
	for (int t = 0; t < 4; t++) {
		CHECK(b->values[t] == want_b[t]);
		CHECK(a->values[t] == want_a[t]);
		CHECK(find(rate, "billing")->values[t] == want_b[t] / 15);
		CHECK(find(rate, "api")->values[t] == want_a[t] / 15);
	}
	CHECK_INT(series_step_ms(cnt, 0), ==, 1700000000000ll);
	CHECK_INT(series_step_ms(cnt, 3), ==, 1700000045000ll);
	series_set_free(cnt);
	series_set_free(rate);
}

TEST(series_sum_avg_min_max_in_seconds_for_durations)
{
	enum tql_metric_fn fns[] = {TQL_M_SUM_OVER_TIME, TQL_M_AVG_OVER_TIME, TQL_M_MIN_OVER_TIME,
				    TQL_M_MAX_OVER_TIME};
	double want[][4] = {{0.6, NAN, NAN, 2}, {0.2, NAN, NAN, 2}, {0.1, NAN, NAN, 2}, {0.3, NAN, NAN, 2}};
	for (int f = 0; f < 4; f++) {
		struct series_config c = cfg_of(fns[f], 0);
		c.value_is_duration = true;
		struct series_set *s = make(&c);
		CHECK(s);
		CHECK_INT(series_add(s, NULL, T0 + 1, 100e6), ==, 0);
		CHECK_INT(series_add(s, NULL, T0 + 2, 300e6), ==, 0);
		CHECK_INT(series_add(s, NULL, T0 + 3, 200e6), ==, 0);
		CHECK_INT(series_add(s, NULL, T0 + 4, NAN), ==, 0); /* no value: skipped */
		CHECK_INT(series_add(s, NULL, T0 + 50 * SEC, 2e9), ==, 0);
		CHECK_INT(series_finish(s), ==, 0);
		CHECK_INT(series_count(s), ==, 1);
		const struct series_out *o = series_at(s, 0);
		CHECK_INT(o->n_labels, ==, 0);
		for (int t = 0; t < 4; t++) {
			if (isnan(want[f][t]))
				CHECK(isnan(o->values[t]));
			else
				CHECK(fabs(o->values[t] - want[f][t]) < 1e-12);
		}
		/* the sample iterator skips the empty steps */
		uint32_t step = 0;
		int64_t ts;
		double v;
		CHECK(series_next_sample(s, o, &step, &ts, &v) && ts == 1700000000000ll);
		CHECK(series_next_sample(s, o, &step, &ts, &v) && ts == 1700000045000ll && v == 2);
		CHECK(!series_next_sample(s, o, &step, &ts, &v));
		series_set_free(s);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

TEST(series_quantiles_per_step_within_alpha)
{
	double qs[] = {0.5, 0.9, 0.99};
	struct series_config c = cfg_of(TQL_M_QUANTILE_OVER_TIME, 1);
	c.quantiles = qs;
	c.n_quantiles = 3;
	c.value_is_duration = true;
	struct series_set *s = make(&c);
	CHECK(s);
	enum { N = 2000 };
	static double vals[2][4][N];
	const char *svcs[] = {"a", "b"};
	uint64_t x = 88172645463325252ull;
	for (int g = 0; g < 2; g++) {
		struct tql_value by = str_v(svcs[g]);
		for (int t = 0; t < 4; t++) {
			for (int i = 0; i < N; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				vals[g][t][i] = (double)(x % 1000000000) * (g + 1) + 1000 * (t + 1);
				CHECK_INT(series_add(s, &by, T0 + t * 15 * SEC + i, vals[g][t][i]), ==, 0);
			}
			qsort(vals[g][t], N, sizeof(double), cmp_double);
		}
	}
	CHECK_INT(series_finish(s), ==, 0);
	CHECK_INT(series_count(s), ==, 6);
	for (uint32_t i = 0; i < 6; i++) {
		const struct series_out *o = series_at(s, i);
		CHECK_INT(o->n_labels, ==, 2);
		CHECK_SLICE(o->labels[1].name, "p");
		CHECK(o->labels[1].value.type == TQL_T_FLOAT);
		CHECK(o->labels[1].value.u.f == qs[i % 3]);
		int g = o->labels[0].value.u.s.p[0] - 'a';
		CHECK_INT(g, ==, (int)i / 3);
		for (int t = 0; t < 4; t++) {
			double exact = vals[g][t][(size_t)floor(qs[i % 3] * (N - 1))] * 1e-9;
			CHECK(fabs(o->values[t] - exact) <= 0.01 * exact * (1 + 1e-9));
		}
	}
	series_set_free(s);
}

TEST(series_histogram_buckets)
{
	struct series_config c = cfg_of(TQL_M_HISTOGRAM_OVER_TIME, 1);
	c.value_is_duration = true;
	struct series_set *s = make(&c);
	CHECK(s);
	struct tql_value by = str_v("api");
	double v_ns[] = {1, 0, -5, NAN, 2, 3, 4, 5, 1e6, 1048576, 1048577};
	for (size_t i = 0; i < sizeof v_ns / sizeof v_ns[0]; i++)
		CHECK_INT(series_add(s, &by, T0, v_ns[i]), ==, 0);
	CHECK_INT(series_add(s, &by, T0 + 20 * SEC, 3), ==, 0);
	CHECK_INT(series_finish(s), ==, 0);
	/* buckets 2, 4 (3, 4), 8 (5), 2^20 (1e6, 2^20), 2^21 */
	CHECK_INT(series_count(s), ==, 5);
	double bucket_s[] = {2e-9, 4e-9, 8e-9, 1048576e-9, 2097152e-9};
	double count0[] = {1, 2, 1, 2, 1}, count1[] = {0, 1, 0, 0, 0};
	for (uint32_t i = 0; i < 5; i++) {
		const struct series_out *o = series_at(s, i);
		CHECK_INT(o->n_labels, ==, 2);
		CHECK_SLICE(o->labels[1].name, "__bucket");
		CHECK(fabs(o->labels[1].value.u.f - bucket_s[i]) < 1e-18);
		CHECK(o->values[0] == count0[i]);
		CHECK(o->values[1] == count1[i]);
	}
	series_set_free(s);
	/* not durations: buckets in the value's own unit */
	c.value_is_duration = false;
	s = make(&c);
	CHECK(s);
	CHECK_INT(series_add(s, &by, T0, 100), ==, 0);
	CHECK_INT(series_add(s, &by, T0, 2.5), ==, 0);
	CHECK_INT(series_finish(s), ==, 0);
	CHECK_INT(series_count(s), ==, 2);
	CHECK(series_at(s, 0)->labels[1].value.u.f == 4);
	CHECK(series_at(s, 1)->labels[1].value.u.f == 128);
	series_set_free(s);
}

/* Five series a..e with chosen values per step (NaN = no sample). */
static struct series_set *five_series(void)
{
	static const double v[5][4] = {
		{10, 1, NAN, 5}, {20, 2, 7, 5}, {30, 3, 1, 5}, {NAN, 4, 2, 1}, {5, 50, NAN, 9},
	};
	struct series_config c = cfg_of(TQL_M_MAX_OVER_TIME, 1);
	struct series_set *s = make(&c);
	if (!s)
		return NULL;
	for (int i = 0; i < 5; i++) {
		char name[2] = {(char)('a' + i), 0};
		struct tql_value by = str_v(name);
		for (int t = 0; t < 4; t++)
			if (!isnan(v[i][t]) && series_add(s, &by, T0 + t * 15 * SEC, v[i][t]) != 0)
				return NULL;
	}
	return series_finish(s) == 0 ? s : NULL;
}

TEST(series_topk_bottomk_per_step)
{
	struct series_set *s = five_series();
	CHECK(s);
	CHECK_INT(series_topk(s, 0, false), ==, CLEW_EINVAL);
	CHECK_INT(series_topk(s, 2, false), ==, 0);
	/* step 0: c 30, b 20; step 1: e 50, d 4; step 2: b 7, d 2;
	 * step 3: e 9, then a, b, c tie at 5 and a sorts first */
	CHECK_INT(series_count(s), ==, 5);
	const struct series_out *a = find(s, "a"), *b = find(s, "b"), *c = find(s, "c"), *d = find(s, "d"),
				*e = find(s, "e");
	CHECK(a && b && c && d && e);
	CHECK(isnan(a->values[0]) && isnan(a->values[1]) && isnan(a->values[2]) && a->values[3] == 5);
	CHECK(b->values[0] == 20 && isnan(b->values[1]) && b->values[2] == 7 && isnan(b->values[3]));
	CHECK(c->values[0] == 30 && isnan(c->values[1]) && isnan(c->values[2]) && isnan(c->values[3]));
	CHECK(isnan(d->values[0]) && d->values[1] == 4 && d->values[2] == 2 && isnan(d->values[3]));
	CHECK(isnan(e->values[0]) && e->values[1] == 50 && isnan(e->values[2]) && e->values[3] == 9);
	series_set_free(s);

	s = five_series();
	CHECK(s);
	CHECK_INT(series_topk(s, 1, true), ==, 0); /* bottomk(1) */
	/* step 0: e 5; 1: a 1; 2: c 1; 3: d 1 -> b is dropped */
	CHECK_INT(series_count(s), ==, 4);
	CHECK(!find(s, "b"));
	CHECK(find(s, "e")->values[0] == 5 && isnan(find(s, "e")->values[3]));
	CHECK(find(s, "a")->values[1] == 1);
	CHECK(find(s, "c")->values[2] == 1);
	CHECK(find(s, "d")->values[3] == 1);
	series_set_free(s);

	s = five_series();
	CHECK(s);
	CHECK_INT(series_topk(s, 5, false), ==, 0); /* k >= series: unchanged */
	CHECK_INT(series_count(s), ==, 5);
	CHECK(find(s, "a")->values[0] == 10);
	series_set_free(s);
}

TEST(series_filter_second_stage)
{
	struct series_set *s = five_series();
	CHECK(s);
	CHECK_INT(series_filter(s, TQL_OP_ADD, 1), ==, CLEW_EINVAL);
	CHECK_INT(series_filter(s, TQL_OP_GT, 9), ==, 0);
	/* left: a 10; b 20; c 30; e 50 */
	CHECK_INT(series_count(s), ==, 4);
	CHECK(!find(s, "d"));
	CHECK(find(s, "e")->values[1] == 50 && isnan(find(s, "e")->values[3]));
	CHECK_INT(series_filter(s, TQL_OP_LTE, 10), ==, 0);
	CHECK_INT(series_count(s), ==, 1);
	CHECK(find(s, "a")->values[0] == 10);
	series_set_free(s);

	struct series_config c = cfg_of(TQL_M_RATE, 0);
	s = make(&c);
	CHECK(s);
	CHECK_INT(series_topk(s, 1, false), ==, CLEW_ESTATE);
	CHECK_INT(series_filter(s, TQL_OP_GT, 1), ==, CLEW_ESTATE);
	series_set_free(s);
}

TEST(series_cap_and_memory_limit)
{
	struct series_config c = cfg_of(TQL_M_COUNT_OVER_TIME, 1);
	c.max_series = 5;
	struct series_set *s = make(&c);
	CHECK(s);
	for (int i = 0; i < 5; i++) {
		struct tql_value by = int_v(i);
		CHECK_INT(series_add(s, &by, T0, 0), ==, 0);
		CHECK_INT(series_add(s, &by, T0, 0), ==, 0);
	}
	struct tql_value by = int_v(5);
	CHECK_INT(series_add(s, &by, T0, 0), ==, CLEW_ELIMIT);
	CHECK_STR(series_error(s), "query produced more than 5 series (the limit): narrow it with a filter or fewer by() labels");
	by = int_v(4); /* existing groups still count */
	CHECK_INT(series_add(s, &by, T0, 0), ==, 0);
	series_set_free(s);

	c = cfg_of(TQL_M_COUNT_OVER_TIME, 1);
	s = make(&c);
	CHECK(s);
	int rc = 0;
	for (int i = 0; i < SERIES_DEFAULT_MAX + 1 && rc == 0; i++) {
		by = int_v(i);
		rc = series_add(s, &by, T0, 0);
	}
	CHECK_INT(rc, ==, CLEW_ELIMIT);
	CHECK_INT(series_groups(s), ==, SERIES_DEFAULT_MAX);
	CHECK_STR(series_error(s), "query produced more than 100000 series (the limit): narrow it with a filter or fewer by() labels");
	series_set_free(s);

	double q[] = {0.5};
	c = cfg_of(TQL_M_QUANTILE_OVER_TIME, 1);
	c.quantiles = q;
	c.n_quantiles = 1;
	c.max_bytes = 64 << 10;
	s = make(&c);
	CHECK(s);
	rc = 0;
	for (int i = 0; i < 1000 && rc == 0; i++) {
		by = int_v(i);
		rc = series_add(s, &by, T0 + i, 1 + i);
	}
	CHECK_INT(rc, ==, CLEW_ELIMIT);
	CHECK(strstr(series_error(s), "MiB") != NULL);
	CHECK(series_bytes(s) > 64 << 10);
	series_set_free(s);
}

TEST(series_label_types_group_apart)
{
	static const struct slice names[] = {SLICE_LIT("span.x"), SLICE_LIT("span.y")};
	struct series_config c = cfg_of(TQL_M_COUNT_OVER_TIME, 2);
	c.by_names = names;
	struct series_set *s = make(&c);
	CHECK(s);
	struct tql_value vals[][2] = {
		{int_v(1), str_v("1")},
		{{.type = TQL_T_FLOAT, .u.f = 1}, str_v("1")},
		{{.type = TQL_T_BOOL, .u.b = true}, str_v("1")},
		{{.type = TQL_T_NIL}, str_v("1")},
		{{.type = TQL_T_UNKNOWN}, str_v("1")}, /* same as nil */
		{{.type = TQL_T_FLOAT, .u.f = 0.0}, str_v("")},
		{{.type = TQL_T_FLOAT, .u.f = -0.0}, str_v("")}, /* same as 0.0 */
		{{.type = TQL_T_FLOAT, .u.f = NAN}, str_v("")},
		{{.type = TQL_T_FLOAT, .u.f = -NAN}, str_v("")}, /* same NaN */
		{int_v(1), str_v("2")},
	};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		CHECK_INT(series_add(s, vals[i], T0, 0), ==, 0);
	CHECK_INT(series_groups(s), ==, 7);
	series_set_free(s);
}

/* A deterministic span stream for the merge test: span i of thread k. */
static void span_of(uint64_t i, struct tql_value *by, int64_t *ts, double *v)
{
	static const char *const svcs[] = {"api", "billing", "cart", "db", "edge", "feed", "gw"};
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	by[0] = str_v(svcs[x % 7]);
	by[1] = int_v((int64_t)(x >> 8) % 3);
	*ts = T0 + (int64_t)((x >> 16) % (70 * SEC)) - 5 * SEC; /* some outside */
	*v = (double)((x >> 20) % 5000000) + 1;
}

struct worker {
	struct series_set *set;
	uint64_t from, to;
	int rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (uint64_t i = w->from; i < w->to && w->rc == 0; i++) {
		struct tql_value by[2];
		int64_t ts;
		double v;
		span_of(i, by, &ts, &v);
		w->rc = series_add(w->set, by, ts, v);
	}
	return NULL;
}

static bool same_results(const struct series_set *a, const struct series_set *b)
{
	if (series_count(a) != series_count(b))
		return false;
	for (uint32_t i = 0; i < series_count(a); i++) {
		const struct series_out *x = series_at(a, i), *y = series_at(b, i);
		if (x->n_labels != y->n_labels)
			return false;
		for (uint32_t l = 0; l < x->n_labels; l++)
			if (!slice_eq(x->labels[l].name, y->labels[l].name) ||
			    x->labels[l].value.type != y->labels[l].value.type)
				return false;
		for (uint32_t t = 0; t < series_n_steps(a); t++) {
			double p = x->values[t], q = y->values[t];
			if (isnan(p) != isnan(q) || (!isnan(p) && fabs(p - q) > 1e-9 * fabs(p)))
				return false;
		}
	}
	return true;
}

TEST(series_merge_of_threads_equals_single_thread)
{
	static const struct slice names[] = {SLICE_LIT("resource.service.name"), SLICE_LIT("span.shard")};
	double qs[] = {0.5, 0.99};
	enum { THREADS = 4, SPANS = 40000 };
	for (int fn = TQL_M_RATE; fn <= TQL_M_HISTOGRAM_OVER_TIME; fn++) {
		struct series_config c = cfg_of((enum tql_metric_fn)fn, 2);
		c.by_names = names;
		c.quantiles = qs;
		c.n_quantiles = 2;
		c.value_is_duration = fn == TQL_M_QUANTILE_OVER_TIME;
		struct series_set *single = make(&c), *total = make(&c);
		CHECK(single && total);
		struct worker all = {.set = single, .from = 0, .to = SPANS};
		work(&all);
		CHECK_INT(all.rc, ==, 0);
		struct worker w[THREADS];
		pthread_t th[THREADS];
		for (int k = 0; k < THREADS; k++) {
			w[k] = (struct worker){.set = make(&c), .from = (uint64_t)k * SPANS / THREADS,
					       .to = (uint64_t)(k + 1) * SPANS / THREADS};
			CHECK(w[k].set);
			CHECK_INT(pthread_create(&th[k], NULL, work, &w[k]), ==, 0);
		}
		for (int k = 0; k < THREADS; k++) {
			pthread_join(th[k], NULL);
			CHECK_INT(w[k].rc, ==, 0);
			/* copying and moving merges give the same sets */
			if (k % 2)
				CHECK_INT(series_merge_move(total, w[k].set), ==, 0);
			else
				CHECK_INT(series_merge(total, w[k].set), ==, 0);
			series_set_free(w[k].set);
		}
		CHECK_INT(series_groups(total), ==, series_groups(single));
		CHECK_INT(series_finish(single), ==, 0);
		CHECK_INT(series_finish(total), ==, 0);
		CHECK(series_count(single) > 20);
		if (!same_results(single, total))
			fprintf(stderr, "merge differs for %s\n", tql_metric_fn_name((enum tql_metric_fn)fn));
		CHECK(same_results(single, total));
		series_set_free(single);
		series_set_free(total);
	}
	/* sets of different configs do not merge */
	struct series_config c1 = cfg_of(TQL_M_RATE, 1), c2 = cfg_of(TQL_M_RATE, 1);
	c2.step_ns = 30 * SEC;
	struct series_set *a = make(&c1), *b = make(&c2);
	CHECK(a && b);
	CHECK_INT(series_merge(a, b), ==, CLEW_EINVAL);
	CHECK_INT(series_merge_move(a, b), ==, CLEW_EINVAL);
	series_set_free(a);
	series_set_free(b);
}

static json_t *parse(const struct buf *b)
{
	json_error_t e;
	json_t *v = json_loadb((const char *)b->p, b->len, 0, &e);
	if (!v)
		fprintf(stderr, "json parse: %s at %d: %.*s\n", e.text, e.position, (int)b->len, (const char *)b->p);
	return v;
}

TEST(series_json_range_and_instant)
{
	static const struct slice names[] = {SLICE_LIT("resource.service.name"), SLICE_LIT("span.code"),
					     SLICE_LIT("span.ok"), SLICE_LIT("status"), SLICE_LIT("span.d")};
	struct series_config c = cfg_of(TQL_M_RATE, 5);
	c.by_names = names;
	struct series_set *s = make(&c);
	CHECK(s);
	struct tql_value by[5] = {str_v("bill\"ing"), int_v(500), {.type = TQL_T_BOOL, .u.b = true},
				  {.type = TQL_T_STATUS, .u.i = TQL_STATUS_ERROR},
				  {.type = TQL_T_DURATION, .u.i = 1500000000}};
	for (int i = 0; i < 30; i++)
		CHECK_INT(series_add(s, by, T0 + 16 * SEC, 0), ==, 0);
	by[4] = (struct tql_value){.type = TQL_T_NIL};
	CHECK_INT(series_add(s, by, T0 + 50 * SEC, 0), ==, 0);
	CHECK_INT(series_finish(s), ==, 0);
	struct buf b;
	buf_init(&b, 1 << 20);
	struct metrics_out_stats st = {.inspected_spans = 31, .inspected_bytes = 1ull << 40, .total_blocks = 3};
	metrics_out_range(&b, s, &st);
	CHECK_INT(b.err, ==, 0);
	json_t *root = parse(&b);
	CHECK(root);
	json_t *series = json_object_get(root, "series");
	CHECK(json_is_array(series) && json_array_size(series) == 2);
	/* nil sorts before duration: the second add comes first */
	json_t *s0 = json_array_get(series, 1);
	json_t *labels = json_object_get(s0, "labels");
	CHECK(json_array_size(labels) == 5);
	CHECK_STR(json_string_value(json_object_get(json_array_get(labels, 0), "key")), "resource.service.name");
	json_t *val = json_object_get(json_array_get(labels, 0), "value");
	CHECK_STR(json_string_value(json_object_get(val, "stringValue")), "bill\"ing");
	val = json_object_get(json_array_get(labels, 1), "value");
	CHECK_STR(json_string_value(json_object_get(val, "intValue")), "500");
	val = json_object_get(json_array_get(labels, 2), "value");
	CHECK(json_is_true(json_object_get(val, "boolValue")));
	val = json_object_get(json_array_get(labels, 3), "value");
	CHECK_STR(json_string_value(json_object_get(val, "stringValue")), "error");
	val = json_object_get(json_array_get(labels, 4), "value");
	CHECK_STR(json_string_value(json_object_get(val, "stringValue")), "1.5s");
	json_t *samples = json_object_get(s0, "samples");
	CHECK(json_array_size(samples) == 4); /* rate: empty steps are 0, not left out */
	json_t *smp = json_array_get(samples, 1);
	CHECK_STR(json_string_value(json_object_get(smp, "timestampMs")), "1700000015000");
	CHECK(json_real_value(json_object_get(smp, "value")) == 2.0 ||
	      json_integer_value(json_object_get(smp, "value")) == 2);
	CHECK(json_is_array(json_object_get(s0, "exemplars")));
	val = json_object_get(json_array_get(json_object_get(json_array_get(series, 0), "labels"), 4), "value");
	CHECK_STR(json_string_value(json_object_get(val, "stringValue")), "nil");
	json_t *m = json_object_get(root, "metrics");
	CHECK_STR(json_string_value(json_object_get(m, "inspectedBytes")), "1099511627776");
	CHECK_STR(json_string_value(json_object_get(m, "inspectedSpans")), "31");
	CHECK(json_integer_value(json_object_get(m, "totalBlocks")) == 3);
	json_decref(root);
	series_set_free(s);

	/* instant: one step over the whole range; NaN series left out */
	c = cfg_of(TQL_M_AVG_OVER_TIME, 1);
	c.step_ns = c.end_ns - c.start_ns;
	s = make(&c);
	CHECK(s);
	struct tql_value one = str_v("api");
	CHECK_INT(series_add(s, &one, T0 + 1, 3), ==, 0);
	CHECK_INT(series_add(s, &one, T0 + 59 * SEC, 5), ==, 0);
	one = str_v("quiet");
	CHECK_INT(series_add(s, &one, T0 + 1, NAN), ==, 0);
	CHECK_INT(series_finish(s), ==, 0);
	buf_clear(&b);
	metrics_out_instant(&b, s, NULL);
	root = parse(&b);
	CHECK(root);
	series = json_object_get(root, "series");
	CHECK(json_array_size(series) == 1);
	CHECK(json_number_value(json_object_get(json_array_get(series, 0), "value")) == 4);
	CHECK(json_is_object(json_object_get(root, "metrics")));
	json_decref(root);
	series_set_free(s);

	/* a quantile's p label is a double */
	double q[] = {0.99};
	c = cfg_of(TQL_M_QUANTILE_OVER_TIME, 0);
	c.quantiles = q;
	c.n_quantiles = 1;
	s = make(&c);
	CHECK(s);
	CHECK_INT(series_add(s, NULL, T0, 2), ==, 0);
	CHECK_INT(series_finish(s), ==, 0);
	buf_clear(&b);
	metrics_out_range(&b, s, NULL);
	root = parse(&b);
	CHECK(root);
	labels = json_object_get(json_array_get(json_object_get(root, "series"), 0), "labels");
	CHECK_STR(json_string_value(json_object_get(json_array_get(labels, 0), "key")), "p");
	CHECK(json_real_value(json_object_get(json_object_get(json_array_get(labels, 0), "value"), "doubleValue")) ==
	      0.99);
	CHECK(json_array_size(json_object_get(json_array_get(json_object_get(root, "series"), 0), "samples")) == 1);
	json_decref(root);
	series_set_free(s);
	buf_free(&b);
}

TEST(series_go_duration_notation)
{
	static const struct {
		int64_t ns;
		const char *want;
	} cases[] = {{0, "0s"},
		     {1, "1ns"},
		     {999, "999ns"},
		     {1500, "1.5\xc2\xb5s"},
		     {2000000, "2ms"},
		     {1234567, "1.234567ms"},
		     {1000000000, "1s"},
		     {1500000000, "1.5s"},
		     {90 * SEC, "1m30s"},
		     {3600 * SEC, "1h0m0s"},
		     {3661 * SEC + 5, "1h1m1.000000005s"},
		     {-250000000, "-250ms"}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b, 64);
		metrics_out_go_duration(&b, cases[i].ns);
		CHECK_SLICE(buf_slice(&b), cases[i].want);
		buf_free(&b);
	}
}

/* Group handles: series_group + series_add_group (and series_add_count for
 * counts) give bit for bit what series_add gives, for every function but
 * histograms; bad handles, wrong functions and the series cap. */
TEST(series_group_handles_match_series_add)
{
	static const enum tql_metric_fn fns[] = {TQL_M_RATE,	       TQL_M_COUNT_OVER_TIME, TQL_M_SUM_OVER_TIME,
						 TQL_M_AVG_OVER_TIME, TQL_M_MIN_OVER_TIME,   TQL_M_MAX_OVER_TIME,
						 TQL_M_QUANTILE_OVER_TIME};
	static const double qs[] = {0, .5, .9, .99, 1};
	static const char *svcs[] = {"a", "b", "c", "d"};
	for (size_t f = 0; f < sizeof fns / sizeof *fns; f++) {
		struct series_config c = cfg_of(fns[f], 1);
		c.quantiles = qs;
		c.n_quantiles = 5;
		struct series_set *x = make(&c), *y = make(&c);
		CHECK(x && y);
		for (int i = 0; i < 3000; i++) {
			struct tql_value by = str_v(svcs[(i * 7) % 4]);
			int64_t ts = T0 - 5 * SEC + (int64_t)i * 23 * SEC / 1000; /* some before the range */
			double v = i % 11 == 0 ? NAN : (double)((i * 37) % 1000) * 1e6 - (i % 13 == 0 ? 5e8 : 0);
			CHECK_INT(series_add(x, &by, ts, v), ==, 0);
			uint32_t g = UINT32_MAX;
			bool value_fn = fns[f] != TQL_M_RATE && fns[f] != TQL_M_COUNT_OVER_TIME;
			if (ts < T0 || ts >= T0 + 60 * SEC || (value_fn && isnan(v)))
				continue; /* as the columnar path: no group for a span not added */
			CHECK_INT(series_group(y, &by, &g), ==, 0);
			CHECK(g < 4);
			if (value_fn || i % 2)
				CHECK_INT(series_add_group(y, g, ts, v), ==, 0);
			else
				CHECK_INT(series_add_count(y, g, ts, 1), ==, 0);
		}
		CHECK_INT(series_add_group(y, 4, T0, 1), ==, CLEW_EINVAL);
		if (fns[f] != TQL_M_RATE && fns[f] != TQL_M_COUNT_OVER_TIME)
			CHECK_INT(series_add_count(y, 0, T0, 1), ==, CLEW_EINVAL);
		CHECK_INT(series_groups(x), ==, series_groups(y));
		CHECK_INT(series_finish(x), ==, 0);
		CHECK_INT(series_finish(y), ==, 0);
		CHECK_INT(series_count(x), ==, series_count(y));
		CHECK(series_count(x) >= 4);
		for (uint32_t i = 0; i < series_count(x); i++) {
			const struct series_out *a = series_at(x, i), *b = series_at(y, i);
			CHECK_INT(a->n_labels, ==, b->n_labels);
			for (uint32_t t = 0; t < series_n_steps(x); t++)
				CHECK(memcmp(&a->values[t], &b->values[t], sizeof(double)) == 0 ||
				      (isnan(a->values[t]) && isnan(b->values[t])));
		}
		uint32_t g;
		struct tql_value by = str_v("a");
		CHECK_INT(series_group(y, &by, &g), ==, CLEW_ESTATE);
		CHECK_INT(series_add_group(y, 0, T0, 1), ==, CLEW_ESTATE);
		series_set_free(x);
		series_set_free(y);
	}
	/* weighted counts: n at once is n ones */
	struct series_config c = cfg_of(TQL_M_COUNT_OVER_TIME, 1);
	struct series_set *s = make(&c);
	struct tql_value by = str_v("a");
	uint32_t g;
	CHECK_INT(series_group(s, &by, &g), ==, 0);
	CHECK_INT(series_add_count(s, g, T0 + 16 * SEC, 1000000), ==, 0);
	CHECK_INT(series_add_count(s, g, T0 + 60 * SEC, 5), ==, 0); /* outside: ignored */
	CHECK_INT(series_finish(s), ==, 0);
	CHECK(series_at(s, 0)->values[1] == 1000000);
	CHECK(isnan(series_at(s, 0)->values[0]) || series_at(s, 0)->values[0] == 0);
	series_set_free(s);
	/* histograms group by value: no handles */
	c = cfg_of(TQL_M_HISTOGRAM_OVER_TIME, 1);
	s = make(&c);
	CHECK_INT(series_group(s, &by, &g), ==, CLEW_EUNSUPPORTED);
	CHECK_INT(series_add_group(s, 0, T0, 4), ==, CLEW_EINVAL);
	series_set_free(s);
	/* the cap: the fourth group is refused with the limit in the message */
	c = cfg_of(TQL_M_COUNT_OVER_TIME, 1);
	c.max_series = 3;
	s = make(&c);
	for (int i = 0; i < 3; i++) {
		struct tql_value b = int_v(i);
		CHECK_INT(series_group(s, &b, &g), ==, 0);
		CHECK_INT(g, ==, (uint32_t)i);
	}
	struct tql_value b3 = int_v(3), b1 = int_v(1);
	CHECK_INT(series_group(s, &b3, &g), ==, CLEW_ELIMIT);
	CHECK(strstr(series_error(s), "3") != NULL);
	CHECK_INT(series_group(s, &b1, &g), ==, 0);
	CHECK_INT(g, ==, 1);
	series_set_free(s);
}
