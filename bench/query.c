/* TraceQL query speed over blocks: spans in range per CPU-second of the
 * process (utime + stime of every thread, getrusage) and wall time, median
 * of several runs, with the columnar path on and off (excol_set_enabled):
 * (a) filter + count on service, span name and status, as a metrics query
 * over one step and as a search (most_recent, so every block is read);
 * (b) a p99 of durations by a high-cardinality attribute over every span; (c) a count by
 * service. The store is N spans of `clew gen` traffic written as blocks
 * (no head), or an existing data directory.
 *
 *   query [--spans 10000000] [--data-dir DIR] [--runs 5] [--slow-runs 1]
 *         [--threads 2] [--cache-mb 1024] [--dir DIR] [--seed 1] [--only NAME]
 *         [--dump FILE]
 * (--only runs one figure: filter_count, filter_search, quantile_by_customer
 * or count_by_service; --dump writes each metrics answer's series, labels
 * and values, to FILE.label, to compare answers between builds.)
 * Prints one "name value unit" line per figure. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib_records.h"
#include "lib_store.h"

#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "query/exec_columnar.h"
#include "query/metrics_exec.h"
#include "store/block.h"
#include "store/store.h"

#define MAX_RUNS 64

static struct bench_store g_store;

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const struct store_query_ops *g_ops = &bench_store_ops;
static void *g_impl = &g_store;
static uint32_t g_threads = 2;
static const char *g_only;
static const char *g_dump;

/* The series of set, one line each (labels, then every step's value with
 * all its digits), into g_dump.label. */
static void dump_series(const char *label, const struct series_set *set)
{
	char path[4096];
	snprintf(path, sizeof path, "%s.%s", g_dump, label);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return;
	}
	uint32_t steps = series_n_steps(set);
	for (uint32_t i = 0; i < series_count(set); i++) {
		const struct series_out *so = series_at(set, i);
		for (uint32_t l = 0; l < so->n_labels; l++) {
			const struct tql_value *v = &so->labels[l].value;
			if (v->type == TQL_T_STRING)
				fprintf(f, "%.*s ", (int)v->u.s.len, (const char *)v->u.s.p);
			else if (v->type == TQL_T_NIL)
				fprintf(f, "nil ");
			else
				fprintf(f, "%lld ", (long long)v->u.i);
		}
		fprintf(f, "=");
		for (uint32_t k = 0; k < steps; k++)
			fprintf(f, " %.17g", so->values[k]);
		fprintf(f, "\n");
	}
	fclose(f);
}

/* One run of q: metrics over the whole range in one step, or a search. */
static int run_once(const char *q, bool search, const char *dump, double *cpu, double *wall, uint64_t *out_n)
{
	struct arena a;
	struct tql_error e;
	char err[256];
	int rc;
	arena_init(&a, 0);
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	if (!tq) {
		fprintf(stderr, "%s: %s\n", q, e.msg);
		return CLEW_EPARSE;
	}
	double c0 = self_cpu_seconds();
	int64_t w0 = clock_mono_ns();
	int64_t start = g_store.min_start_ns, end = g_store.max_start_ns + 1;
	if (search) {
		struct exec_query *xq = exec_compile(tq, &a, &rc, err, sizeof err);
		if (!xq)
			return rc;
		struct exec_options o = {.threads = g_threads, .time_ns = 3600LL * 1000000000LL};
		struct exec_result res;
		rc = exec_search(g_ops, g_impl, xq, &o, &res);
		*out_n = res.n_traces;
		exec_result_free(&res);
		exec_query_free(xq);
	} else {
		struct metrics_exec_options o = {.start_ns = start, .end_ns = end, .step_ns = end - start};
		o.scan.threads = g_threads;
		o.scan.time_ns = 3600LL * 1000000000LL;
		o.max_series = 1000000; /* customer ids: more than the server's default 10,000 */
		struct series_set *set = NULL;
		struct metrics_out_stats st;
		rc = metrics_exec_run(g_ops, g_impl, tq, &o, &set, &st, err, sizeof err);
		if (rc < 0)
			fprintf(stderr, "%s: %s\n", q, err);
		*out_n = set ? series_count(set) : 0;
		if (set && dump)
			dump_series(dump, set);
		series_set_free(set);
	}
	*cpu = self_cpu_seconds() - c0;
	*wall = (double)(clock_mono_ns() - w0) / 1e6;
	arena_reset(&a);
	return rc;
}

static int bench(const char *label, const char *q, bool search, int runs, int slow_runs)
{
	if (g_only && strcmp(g_only, label) != 0)
		return 0;
	for (int mode = 1; mode >= 0; mode--) {
		int n = mode ? runs : slow_runs;
		double cpu[MAX_RUNS], wall[MAX_RUNS];
		uint64_t res = 0;
		if (n <= 0)
			continue;
		excol_set_enabled(mode);
		double c, w;
		/* warm the column cache; the answer dumped from this run */
		int rc = run_once(q, search, g_dump && mode ? label : NULL, &c, &w, &res);
		if (rc < 0)
			return rc;
		for (int k = 0; k < n && k < MAX_RUNS; k++)
			if ((rc = run_once(q, search, NULL, &cpu[k], &wall[k], &res)) < 0)
				return rc;
		double mc = median(cpu, n < MAX_RUNS ? n : MAX_RUNS), mw = median(wall, n < MAX_RUNS ? n : MAX_RUNS);
		const char *m = mode ? "columnar" : "span_by_span";
		printf("%s_%s_spans_per_cpu_s %.0f spans/cpu-s\n", label, m, mc > 0 ? (double)g_store.spans / mc : 0);
		printf("%s_%s_cpu %.3f s\n", label, m, mc);
		printf("%s_%s_wall %.1f ms\n", label, m, mw);
		printf("%s_%s_results %llu %s\n", label, m, (unsigned long long)res, search ? "traces" : "series");
		fflush(stdout);
	}
	excol_set_enabled(true);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t spans = 10000000, seed = 1;
	const char *data_dir = NULL, *dir = NULL;
	int runs = 5, slow_runs = 1;
	size_t cache_mb = 1024;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "%s needs a value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--spans") == 0)
			spans = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "--data-dir") == 0)
			data_dir = v;
		else if (strcmp(argv[i], "--dir") == 0)
			dir = v;
		else if (strcmp(argv[i], "--runs") == 0)
			runs = (int)strtol(v, NULL, 10);
		else if (strcmp(argv[i], "--slow-runs") == 0)
			slow_runs = (int)strtol(v, NULL, 10);
		else if (strcmp(argv[i], "--threads") == 0)
			g_threads = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--cache-mb") == 0)
			cache_mb = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "--only") == 0)
			g_only = v;
		else if (strcmp(argv[i], "--dump") == 0)
			g_dump = v;
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
		i++;
	}
	if (runs < 1 || runs > MAX_RUNS || slow_runs < 0 || slow_runs > MAX_RUNS) {
		fprintf(stderr, "--runs 1..%d, --slow-runs 0..%d\n", MAX_RUNS, MAX_RUNS);
		return 2;
	}
	block_cache_set_budget(cache_mb << 20);
	/* the heap settings of clew serve (src/cli/serve.c): freed memory is
	 * kept for the next query rather than returned and faulted in again */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	bench_store_init(&g_store);
	struct store *st = NULL;
	char tmp[] = "/tmp/clew-bench-query-XXXXXX";
	int rc;
	if (data_dir) {
		char err[512];
		struct store_options so = {.data_dir = data_dir, .manual_maintenance = 1};
		if (!(st = store_open(&so, &rc, err, sizeof err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		struct store_block_list bl;
		if (store_list_blocks(st, &bl) < 0)
			return 1;
		for (size_t k = 0; k < bl.n && g_store.n_blocks < BENCH_STORE_MAX_BLOCKS; k++) {
			block_ref(bl.items[k].block);
			bench_store_add(&g_store, bl.items[k].block);
		}
		store_release_blocks(&bl);
	} else {
		if (!dir && !(dir = mkdtemp(tmp))) {
			perror("mkdtemp");
			return 1;
		}
		double c0 = self_cpu_seconds();
		if ((rc = bench_store_gen(&g_store, dir, "q", spans, seed)) < 0) {
			fprintf(stderr, "building the blocks: %s\n", err_str(rc));
			return 1;
		}
		printf("build_spans %llu spans\nbuild_cpu %.1f s\n", (unsigned long long)g_store.spans,
		       self_cpu_seconds() - c0);
	}
	printf("spans %llu spans\nblocks %zu blocks\nthreads %u threads\n", (unsigned long long)g_store.spans, g_store.n_blocks,
	       g_threads);
	uint64_t file_bytes = 0, ded_bytes = 0;
	for (size_t k = 0; k < g_store.n_blocks; k++) {
		struct block_info bi;
		block_get_info(g_store.blocks[k], &bi);
		file_bytes += bi.file_bytes;
		for (int c = BCOL_SPAN_DED; c < BCOL_COUNT; c++)
			ded_bytes += bi.column_bytes[c];
	}
	printf("store_bytes %llu bytes\nstore_dedicated_bytes %llu bytes\n", (unsigned long long)file_bytes,
	       (unsigned long long)ded_bytes);
	static const char *filter =
		"{resource.service.name=\"users\" && name=\"identity.v1.Users/Get\" && status=error}";
	char a1[256], a2[300];
	snprintf(a1, sizeof a1, "%s | count_over_time()", filter);
	snprintf(a2, sizeof a2, "%s with (most_recent=true)", filter);
	if ((rc = bench("filter_count", a1, false, runs, slow_runs)) < 0 ||
	    (rc = bench("filter_search", a2, true, runs, slow_runs)) < 0 ||
	    (rc = bench("quantile_by_customer",
			"{ } | quantile_over_time(duration, .99) by (span.customer.id)",
			false, runs, slow_runs)) < 0 ||
	    (rc = bench("count_by_service", "{} | count_over_time() by (resource.service.name)", false, runs,
			slow_runs)) < 0) {
		fprintf(stderr, "query failed: %s\n", err_str(rc));
		return 1;
	}
	bench_store_free(&g_store);
	if (st)
		store_close(st);
	if (dir == tmp)
		rmdir(tmp);
	return 0;
}
