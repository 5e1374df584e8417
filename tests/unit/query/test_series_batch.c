/* Unit tests of series_add_groups: a batch of adds with prefetching gives
 * the same series, down to the bits of every sample, as series_add_group
 * span by span (quantiles over many groups and steps or one step, times
 * outside the range, NaN, negative and infinite values, sketches growing),
 * and refuses a bad handle and a finished set as series_add_group does;
 * series_group_many gives the groups series_group gives one at a time, and
 * its errors. */
#include "../../testlib.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "query/series.h"

#define SEC 1000000000LL

static struct series_set *new_set_step(enum tql_metric_fn fn, int64_t step_ns)
{
	static struct slice names[1];
	names[0] = slice_cstr("span.customer.id");
	static const double qs[2] = {0.5, 0.99};
	struct series_config cfg = {
		.fn = fn,
		.start_ns = 100 * SEC,
		.end_ns = 160 * SEC,
		.step_ns = step_ns,
		.by_names = names,
		.n_by = 1,
		.quantiles = qs,
		.n_quantiles = fn == TQL_M_QUANTILE_OVER_TIME ? 2 : 0,
		.value_is_duration = true,
	};
	int rc;
	return series_set_new(&cfg, &rc);
}

static struct series_set *new_set(enum tql_metric_fn fn)
{
	return new_set_step(fn, 10 * SEC);
}

static bool same_sets(struct series_set *x, struct series_set *y)
{
	if (series_finish(x) < 0 || series_finish(y) < 0 || series_count(x) != series_count(y))
		return false;
	for (uint32_t i = 0; i < series_count(x); i++) {
		const struct series_out *a = series_at(x, i), *b = series_at(y, i);
		for (uint32_t s = 0; s < series_n_steps(x); s++) {
			double u = a->values[s], v = b->values[s];
			if (!(isnan(u) && isnan(v)) && memcmp(&u, &v, sizeof u) != 0)
				return false;
		}
	}
	return true;
}

TEST(series_add_groups_matches_one_by_one)
{
	const enum tql_metric_fn fns[3] = {TQL_M_QUANTILE_OVER_TIME, TQL_M_SUM_OVER_TIME, TQL_M_COUNT_OVER_TIME};
	enum { N = 5000, GROUPS = 700 };
	static uint32_t g[N];
	static int64_t ts[N];
	static double v[N];
	for (int f = 0; f < 4; f++) {
		/* the last round: a quantile set of one step (its sketches kept
		 * in the groups themselves) */
		int64_t step = f == 3 ? 60 * SEC : 10 * SEC;
		enum tql_metric_fn fn = fns[f % 3];
		struct series_set *x = new_set_step(fn, step), *y = new_set_step(fn, step);
		CHECK(x && y);
		if (!x || !y)
			return;
		uint32_t hx[GROUPS], hy[GROUPS];
		for (uint32_t k = 0; k < GROUPS; k++) {
			char id[16];
			int len = snprintf(id, sizeof id, "acct-%u", k);
			struct tql_value by = {.type = TQL_T_STRING, .u.s = slice_make(id, (size_t)len)};
			CHECK_INT(series_group(x, &by, &hx[k]), ==, 0);
			CHECK_INT(series_group(y, &by, &hy[k]), ==, 0);
		}
		uint64_t rng = 3 + (uint64_t)f;
		for (int round = 0; round < 4; round++) {
			for (uint32_t j = 0; j < N; j++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				uint32_t k = (uint32_t)(rng >> 40) % GROUPS;
				g[j] = k;
				ts[j] = 95 * SEC + (int64_t)((rng >> 20) % (70 * (uint64_t)SEC)); /* some outside */
				v[j] = (double)((rng >> 8) % 5000000) * (round + 1); /* wider each round */
				if (j % 97 == 3)
					v[j] = NAN;
				if (j % 89 == 5)
					v[j] = j % 3 ? -(double)j : INFINITY; /* the zero bucket; ignored */
			}
			uint32_t gx[N];
			for (uint32_t j = 0; j < N; j++)
				gx[j] = hx[g[j]];
			CHECK_INT(series_add_groups(x, gx, ts, v, N), ==, 0);
			for (uint32_t j = 0; j < N; j++)
				CHECK_INT(series_add_group(y, hy[g[j]], ts[j], v[j]), ==, 0);
		}
		CHECK_INT(series_add_groups(x, g, ts, v, 0), ==, 0);
		CHECK(same_sets(x, y));
		series_set_free(x);
		series_set_free(y);
	}
	/* a bad handle stops the batch; a finished set refuses it */
	struct series_set *s = new_set(TQL_M_QUANTILE_OVER_TIME);
	CHECK(s != NULL);
	if (!s)
		return;
	struct tql_value by = {.type = TQL_T_STRING, .u.s = slice_cstr("a")};
	uint32_t h;
	CHECK_INT(series_group(s, &by, &h), ==, 0);
	uint32_t bad[3] = {h, h + 1, h};
	int64_t t3[3] = {110 * SEC, 110 * SEC, 110 * SEC};
	double v3[3] = {1, 2, 3};
	CHECK_INT(series_add_groups(s, bad, t3, v3, 3), ==, CLEW_EINVAL);
	CHECK_INT(series_finish(s), ==, 0);
	CHECK_INT(series_add_groups(s, bad, t3, v3, 1), ==, CLEW_ESTATE);
	series_set_free(s);
}

TEST(series_group_many_matches_one_by_one)
{
	enum { N = 3000 };
	static struct tql_value by[N];
	static char ids[N][16];
	static uint32_t gm[N];
	struct series_set *x = new_set(TQL_M_QUANTILE_OVER_TIME), *y = new_set(TQL_M_QUANTILE_OVER_TIME);
	CHECK(x && y);
	if (!x || !y)
		return;
	uint64_t rng = 11;
	for (int round = 0; round < 3; round++) {
		for (uint32_t k = 0; k < N; k++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t id = (uint32_t)(rng >> 40) % (1000 * (round + 1)); /* repeats, then new ones */
			if (k % 50 == 7) {
				by[k] = (struct tql_value){.type = TQL_T_INT, .u.i = id}; /* an int, not the string */
				continue;
			}
			int len = snprintf(ids[k], sizeof ids[k], "acct-%u", id);
			by[k] = (struct tql_value){.type = TQL_T_STRING, .u.s = slice_make(ids[k], (size_t)len)};
		}
		CHECK_INT(series_group_many(x, by, N, gm), ==, 0);
		for (uint32_t k = 0; k < N; k++) {
			uint32_t g;
			CHECK_INT(series_group(y, &by[k], &g), ==, 0);
			CHECK_INT(g, ==, gm[k]); /* the same groups, created in the same order */
		}
		CHECK_INT(series_groups(x), ==, series_groups(y));
	}
	CHECK_INT(series_group_many(x, by, 0, gm), ==, 0);
	series_set_free(y);
	/* past the series limit: the error, as series_group gives it */
	struct series_config cfg = {
		.fn = TQL_M_COUNT_OVER_TIME, .start_ns = 0, .end_ns = SEC, .step_ns = SEC,
		.by_names = (struct slice[]){slice_cstr("span.customer.id")}, .n_by = 1, .max_series = 100,
	};
	int rc;
	struct series_set *l = series_set_new(&cfg, &rc);
	CHECK(l != NULL);
	if (l) {
		CHECK_INT(series_group_many(l, by, N, gm), ==, CLEW_ELIMIT);
		CHECK_INT(series_groups(l), ==, 100);
		series_set_free(l);
	}
	CHECK_INT(series_finish(x), ==, 0);
	CHECK_INT(series_group_many(x, by, 1, gm), ==, CLEW_ESTATE);
	series_set_free(x);
}
