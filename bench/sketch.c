/* Benchmark of the metrics machinery: quantile sketch adds per CPU-second
 * (log-normal span durations), bytes per sketch for typical and wide
 * distributions, merge and quantile cost, and series_add per CPU-second for
 * rate() and quantile_over_time() with 1,000 groups. Prints machine-readable
 * "name value" lines. Usage: bench/sketch [min_cpu_seconds]. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "query/series.h"
#include "query/sketch.h"

#define N_VALUES (1 << 20)
#define N_GROUPS 1000

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static double unit(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((double)((rng * 0x2545f4914f6cdd1dull) >> 11) + 0.5) / 9007199254740992.0;
}

/* log-normal durations in ns around 20 ms */
static double duration_ns(void)
{
	return exp(log(20e6) + 1.2 * sqrt(-2 * log(unit())) * cos(2 * M_PI * unit()));
}

static double bench_adds(const double *vals, double min_cpu, struct sketch *s)
{
	long rounds = 0;
	double t0 = cpu_seconds(), t;
	do {
		for (int i = 0; i < N_VALUES; i++)
			sketch_add(s, vals[i]);
		rounds++;
	} while ((t = cpu_seconds() - t0) < min_cpu);
	return (double)rounds * N_VALUES / t;
}

static int bench_series(enum tql_metric_fn fn, const double *vals, double min_cpu, double *rate)
{
	static const struct slice names[] = {SLICE_LIT("span.customer.id")};
	static char ids[N_GROUPS][16];
	struct tql_value *by = malloc(N_VALUES * sizeof *by);
	int64_t *ts = malloc(N_VALUES * sizeof *ts);
	double q[] = {0.5, 0.99};
	const int64_t start = 1700000000ll * 1000000000ll, hour = 3600ll * 1000000000ll;
	struct series_config c = {.fn = fn,
				  .start_ns = start,
				  .end_ns = start + hour,
				  .step_ns = 15ll * 1000000000ll,
				  .by_names = names,
				  .n_by = 1,
				  .quantiles = q,
				  .n_quantiles = 2,
				  .value_is_duration = true};
	int rc;
	struct series_set *s = series_set_new(&c, &rc);
	if (!s || !by || !ts)
		return -1;
	for (int g = 0; g < N_GROUPS; g++)
		snprintf(ids[g], sizeof ids[g], "cust-%05d", g);
	for (int i = 0; i < N_VALUES; i++) {
		by[i] = (struct tql_value){.type = TQL_T_STRING, .u.s = slice_cstr(ids[(int)(unit() * N_GROUPS)])};
		ts[i] = start + (int64_t)(unit() * (double)hour);
	}
	long rounds = 0;
	double t0 = cpu_seconds(), t;
	do {
		for (int i = 0; i < N_VALUES; i++)
			if ((rc = series_add(s, &by[i], ts[i], vals[i])) < 0)
				return rc;
		rounds++;
	} while ((t = cpu_seconds() - t0) < min_cpu);
	*rate = (double)rounds * N_VALUES / t;
	printf("series_%s_bytes %zu\n", tql_metric_fn_name(fn), series_bytes(s));
	series_set_free(s);
	free(by);
	free(ts);
	return 0;
}

int main(int argc, char **argv)
{
	double min_cpu = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	double *vals = malloc(N_VALUES * sizeof *vals);
	if (!vals)
		return 1;
	for (int i = 0; i < N_VALUES; i++)
		vals[i] = duration_ns();

	struct sketch s, m;
	sketch_init(&s, 0, 0);
	printf("sketch_adds_per_cpu_second %.0f\n", bench_adds(vals, min_cpu, &s));
	printf("sketch_bytes_lognormal_durations %zu\n", sketch_bytes(&s));
	printf("sketch_buckets_lognormal_durations %u\n", s.len);

	/* one step of one group: a few hundred spans */
	struct sketch small;
	sketch_init(&small, 0, 0);
	for (int i = 0; i < 300; i++)
		sketch_add(&small, vals[i]);
	printf("sketch_bytes_300_durations %zu\n", sketch_bytes(&small));

	/* the worst case: the bucket cap */
	struct sketch wide;
	sketch_init(&wide, 0, 0);
	for (int i = 0; i < 100000; i++)
		sketch_add(&wide, exp((unit() - 0.5) * 600));
	printf("sketch_bytes_at_cap %zu\n", sketch_bytes(&wide));

	long merges = 0;
	double t0 = cpu_seconds(), t;
	sketch_init(&m, 0, 0);
	do {
		sketch_merge(&m, &small);
		merges++;
	} while ((t = cpu_seconds() - t0) < min_cpu / 4);
	printf("sketch_merges_per_cpu_second %.0f\n", (double)merges / t);

	long quantiles = 0;
	volatile double sink = 0;
	t0 = cpu_seconds();
	do {
		sink += sketch_quantile(&s, 0.99);
		quantiles++;
	} while ((t = cpu_seconds() - t0) < min_cpu / 4);
	printf("sketch_quantiles_per_cpu_second %.0f\n", (double)quantiles / t);
	(void)sink;

	double rate;
	if (bench_series(TQL_M_RATE, vals, min_cpu, &rate) < 0)
		return 1;
	printf("series_add_rate_1000_groups_per_cpu_second %.0f\n", rate);
	if (bench_series(TQL_M_QUANTILE_OVER_TIME, vals, min_cpu, &rate) < 0)
		return 1;
	printf("series_add_quantile_1000_groups_per_cpu_second %.0f\n", rate);

	sketch_free(&s);
	sketch_free(&m);
	sketch_free(&small);
	sketch_free(&wide);
	free(vals);
	return 0;
}
