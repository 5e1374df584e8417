/* Correlations speed over blocks: CPU time of the process (utime + stime of
 * every thread, getrusage) and wall time, medians of several runs, for
 * correlations of every span ({}) with signal=latency and a p99 threshold
 * (three passes: quantile, counting, latency figures), with an absolute
 * threshold (two passes) and with signal=error (one pass), and one compare
 * by service version. The store is N spans of `clew gen` traffic written as
 * blocks of 1M spans (no head).
 *
 *   correlations [--spans 10000000] [--runs 3] [--threads 2] [--cache-mb 1024] [--seed 1] [--show 1]
 *                [--only corr_error|corr_latency_500ms|corr_latency_p99|compare_by_service|...] [--dir DIR]
 *                [--spec-after N]
 * --dir keeps the blocks in DIR (c000.blk ...) and reuses them when they are
 * there, so a profile need not build the store again. --spec-after N: units
 * a scan worker counts before it guesses the ranking (corr_options.spec_after;
 * 18446744073709551615 never), to compare or profile the guess.
 * --show 1 prints every result of each analysis and runs the other options
 * (trace level, per operation, self time) too, to compare implementations.  * Prints one "name value unit" line per figure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/compare.h"
#include "analysis/correlations.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "store/block.h"
#include "store/fileops.h"
#include "lib_records.h"
#include "lib_store.h"

#define MAX_RUNS 32

static struct bench_store g_store;
static uint32_t g_threads = 2;
static int g_show; /* --show 1: print every result of the first run, more variants */
static const char *g_only; /* --only <label>: run that analysis alone (for profiling) */
static uint64_t g_spec_after; /* --spec-after N: corr_options.spec_after (0: the default) */

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

/* One run: correlations with co, or (co NULL) a compare by service version. */
static int run_once(const struct corr_options *co, double *cpu, double *wall, char *top, size_t cap)
{
	struct arena a;
	struct tql_error e;
	char err[256];
	int rc;
	arena_init(&a, 0);
	struct tql_query *tq = tql_parse("{}", 2, &a, &e);
	struct exec_query *xq = tq ? exec_compile(tq, &a, &rc, err, sizeof err) : NULL;
	if (!xq)
		return CLEW_EPARSE;
	struct exec_options o = {.threads = g_threads, .time_ns = 3600LL * 1000000000LL};
	double c0 = self_cpu_seconds();
	int64_t w0 = clock_mono_ns();
	if (co) {
		struct corr_report rep;
		struct corr_options cox = *co;
		if (g_spec_after)
			cox.spec_after = g_spec_after;
		rc = corr_run(&bench_store_ops, &g_store, xq, &o, &cox, &rep);
		for (uint32_t k = 0; rc == 0 && g_show == 1 && k < rep.n_results; k++) {
			const struct corr_result *x = &rep.results[k];
			printf("  %2u %.*s=%.*s bad %llu rest %llu score %.4f with %.3f/%.3f without %.3f/%.3f\n", k,
			       (int)x->key.len, (const char *)x->key.p, (int)x->value.len, (const char *)x->value.p,
			       (unsigned long long)x->bad, (unsigned long long)x->rest, x->score, x->with_p50_ms,
			       x->with_p99_ms, x->without_p50_ms, x->without_p99_ms);
		}
		if (rc == 0 && g_show == 1 && co->signal == CORR_SIGNAL_LATENCY)
			printf("  figures pass pages read %llu\n", (unsigned long long)rep.figures_pages);
		if (rc == 0 && g_show == 1)
			printf("  units bad %llu rest %llu threshold %lld pop %.3f/%.3f inspected %llu\n",
			       (unsigned long long)rep.bad, (unsigned long long)rep.rest, (long long)rep.threshold_ns,
			       rep.p50_ms, rep.p99_ms, (unsigned long long)rep.inspected_spans);
		if (rc == 0 && rep.n_results)
			snprintf(top, cap, "%.*s=%.*s", (int)rep.results[0].key.len, (const char *)rep.results[0].key.p,
				 (int)rep.results[0].value.len, (const char *)rep.results[0].value.p);
		corr_report_free(&rep);
	} else {
		struct tql_query *bq = tql_parse("{ resource.service.name != nil }", 32, &a, &e);
		struct cmp_options cmo = {.by = bq->root->items[0]->a->a,
					  .by_text = slice_cstr("resource.service.name"),
					  .a_value = slice_cstr("accounts"),
					  .b_value = slice_cstr("billing")};
		struct cmp_report rep;
		rc = cmp_run(&bench_store_ops, &g_store, xq, &o, &cmo, &rep);
		snprintf(top, cap, "a=%llu b=%llu", (unsigned long long)rep.a.count, (unsigned long long)rep.b.count);
		cmp_report_free(&rep);
	}
	*cpu = self_cpu_seconds() - c0;
	*wall = (double)(clock_mono_ns() - w0) / 1e6;
	exec_query_free(xq);
	arena_reset(&a);
	return rc;
}

static int bench(const char *label, const struct corr_options *co, int runs)
{
	double cpu[MAX_RUNS], wall[MAX_RUNS], c, w;
	char top[256] = "-";
	if (g_only && strcmp(g_only, label) != 0)
		return 0;
	if (g_show)
		printf("%s\n", label);
	int rc = run_once(co, &c, &w, top, sizeof top); /* warm the column cache */
	if (rc < 0)
		return rc;
	int show = g_show;
	if (g_show)
		g_show = 2;
	for (int k = 0; k < runs; k++)
		if ((rc = run_once(co, &cpu[k], &wall[k], top, sizeof top)) < 0)
			return rc;
	g_show = show; /* the next analysis prints its results too */
	size_t cache_bytes;
	uint64_t hits, misses;
	block_cache_stats(&cache_bytes, &hits, &misses);
	printf("%s_cache %zu bytes %llu hits %llu misses\n", label, cache_bytes, (unsigned long long)hits,
	       (unsigned long long)misses);
	double mc = median(cpu, runs), mw = median(wall, runs);
	printf("%s_cpu %.3f s\n%s_wall %.1f ms\n%s_spans_per_cpu_s %.0f spans/cpu-s\n%s_top %s -\n", label, mc, label,
	       mw, label, mc > 0 ? (double)g_store.spans / mc : 0, label, top);
	fflush(stdout);
	return 0;
}

/* Open dir/c000.blk, c001.blk ... into the store; how many were opened. */
static size_t open_blocks(const char *dir)
{
	char path[1024], err[256];
	int rc;
	for (size_t k = 0; k < BENCH_STORE_MAX_BLOCKS; k++) {
		snprintf(path, sizeof path, "%s/c%03zu.blk", dir, k);
		if (access(path, R_OK) != 0)
			break;
		struct block *b = block_open(fileops_posix(), path, &rc, err, sizeof err);
		if (!b) {
			fprintf(stderr, "%s\n", err);
			break;
		}
		if (bench_store_add(&g_store, b) < 0) {
			block_unref(b);
			break;
		}
	}
	return g_store.n_blocks;
}

/* Keep the generated blocks (marked deleted) under dir as c000.blk ... */
static void keep_blocks(const char *dir)
{
	char path[1024];
	for (size_t k = 0; k < g_store.n_blocks; k++) {
		snprintf(path, sizeof path, "%s/c%03zu.blk", dir, k);
		if (link(block_path(g_store.blocks[k]), path) != 0)
			perror(path);
	}
}

int main(int argc, char **argv)
{
	const char *keep = NULL;
	uint64_t spans = 10000000, seed = 1;
	int runs = 3;
	size_t cache_mb = 1024;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "%s needs a value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--spans") == 0)
			spans = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0)
			runs = (int)strtol(v, NULL, 10);
		else if (strcmp(argv[i], "--threads") == 0)
			g_threads = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--cache-mb") == 0)
			cache_mb = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "--show") == 0)
			g_show = (int)strtol(v, NULL, 10);
		else if (strcmp(argv[i], "--only") == 0)
			g_only = v;
		else if (strcmp(argv[i], "--spec-after") == 0)
			g_spec_after = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0)
			keep = v;
		else if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(v, NULL, 10);
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
		i++;
	}
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "--runs 1..%d\n", MAX_RUNS);
		return 2;
	}
	block_cache_set_budget(cache_mb << 20);
	char dir[] = "/tmp/clew-bench-corr-XXXXXX";
	int rc;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	bench_store_init(&g_store);
	if (keep)
		mkdir(keep, 0755);
	if (!keep || open_blocks(keep) == 0) {
		if ((rc = bench_store_gen(&g_store, dir, "c", spans, seed)) < 0) {
			fprintf(stderr, "building the blocks: %s\n", err_str(rc));
			return 1;
		}
		if (keep)
			keep_blocks(keep);
	}
	printf("spans %llu spans\nblocks %zu blocks\nthreads %u threads\n", (unsigned long long)g_store.spans, g_store.n_blocks,
	       g_threads);
	struct corr_options p99 = {.signal = CORR_SIGNAL_LATENCY, .quantile = 0.99};
	struct corr_options abs = {.signal = CORR_SIGNAL_LATENCY, .threshold_ns = 500000000LL};
	struct corr_options err = {.signal = CORR_SIGNAL_ERROR};
	if ((rc = bench("corr_error", &err, runs)) < 0 || (rc = bench("corr_latency_500ms", &abs, runs)) < 0 ||
	    (rc = bench("corr_latency_p99", &p99, runs)) < 0 || (rc = bench("compare_by_service", NULL, runs)) < 0) {
		fprintf(stderr, "correlations failed: %s\n", err_str(rc));
		return 1;
	}
	if (g_show) { /* the other options, for comparing implementations */
		struct corr_options v[] = {
			{.signal = CORR_SIGNAL_ERROR, .level = CORR_LEVEL_TRACE},
			{.signal = CORR_SIGNAL_LATENCY, .level = CORR_LEVEL_TRACE, .quantile = 0.99},
			{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.99, .per_operation = true},
			{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.99, .self_time = true},
			{.signal = CORR_SIGNAL_LATENCY, .threshold_ns = 20000000LL, .self_time = true, .limit = 50},
		};
		const char *names[] = {"trace_error", "trace_p99", "per_operation_p99", "self_p99", "self_20ms"};
		for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
			g_show = 1;
			if ((rc = bench(names[k], &v[k], 1)) < 0) {
				fprintf(stderr, "correlations failed: %s\n", err_str(rc));
				return 1;
			}
		}
	}
	bench_store_free(&g_store);
	rmdir(dir);
	return 0;
}
