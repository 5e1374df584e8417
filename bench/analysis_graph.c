/* Benchmark of the critical path and the service graph over clew gen's
 * default system: (1) critical-path aggregation (cp_agg_add_trace) over
 * 100,000 traces, CPU and wall time of the aggregation alone (generation
 * excluded), median of several runs; (2) the live service graph fed one
 * hour of the demo load (2,000 spans/s), its cost per span on ingest, and
 * the query of the last hour (median of several); the same hour through
 * the scan's per-trace pairing for comparison. Prints "name value" lines.
 * Usage: bench/analysis_graph [traces] [runs]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/critical_path.h"
#include "analysis/service_graph.h"
#include "base/arena.h"
#include "gen/topology.h"
#include "gen/tracegen.h"
#include "lib_records.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

/* Traces are contiguous in a generated batch: call fn on each. */
typedef int (*trace_fn)(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n);

static uint64_t each_trace(const struct span_batch *b, trace_fn fn, void *ctx)
{
	uint64_t traces = 0;
	for (uint32_t i = 0; i < b->n_spans;) {
		uint32_t j = i + 1;
		while (j < b->n_spans && memcmp(b->spans[j].trace_id, b->spans[i].trace_id, 16) == 0)
			j++;
		if (fn(ctx, b, i, j - i) < 0)
			return traces;
		traces++;
		i = j;
	}
	return traces;
}

struct cp_ctx {
	struct cp_agg *agg;
	struct arena scratch;
};

static int cp_one(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n)
{
	struct cp_ctx *c = ctx;
	return cp_agg_add_trace(c->agg, b, first, n, &c->scratch);
}

static int sg_one(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n)
{
	return sg_graph_add_trace(ctx, b, first, n, 0, 0);
}

static int setup(struct topo *t, struct gen *g, int64_t start_ns, double clock_rate)
{
	topo_init(t);
	if (topo_default(t) < 0)
		return -1;
	struct gen_config c = {.seed = 1,
			       .start_unix_ns = start_ns,
			       .clock_rate = clock_rate,
			       .accounts = 100000,
			       .zipf_s = 1.0,
			       .batch_spans = 1000,
			       .topo = t};
	return gen_init(g, &c);
}

int main(int argc, char **argv)
{
	long traces_want = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
	if (traces_want <= 0 || runs <= 0 || runs > 99) {
		fprintf(stderr, "usage: analysis_graph [traces] [runs]\n");
		return 2;
	}
	double cp_cpu[100], cp_wall[100];
	uint64_t spans = 0, traces = 0;
	for (int r = 0; r < runs; r++) {
		struct topo t;
		struct gen g;
		struct arena a;
		struct span_batch b;
		arena_init(&a, 0);
		if (setup(&t, &g, 1767225600LL * 1000000000LL, 10000) < 0) {
			fprintf(stderr, "analysis_graph: gen setup failed\n");
			return 1;
		}
		struct cp_ctx c = {.agg = cp_agg_new()};
		arena_init(&c.scratch, 0);
		double cpu = 0, wall = 0;
		traces = spans = 0;
		while ((long)traces < traces_want && gen_next_batch(&g, &a, &b) == 0) {
			double c0 = self_cpu_seconds(), w0 = bench_now_s();
			traces += each_trace(&b, cp_one, &c);
			cpu += self_cpu_seconds() - c0;
			wall += bench_now_s() - w0;
			spans += b.n_spans;
		}
		struct arena out;
		arena_init(&out, 0);
		struct cp_segment *seg;
		uint32_t n;
		double c0 = self_cpu_seconds(), w0 = bench_now_s();
		cp_agg_segments(c.agg, &out, &seg, &n);
		cpu += self_cpu_seconds() - c0;
		wall += bench_now_s() - w0;
		cp_cpu[r] = cpu;
		cp_wall[r] = wall;
		if (r == 0)
			fprintf(stderr, "critical path: %llu traces, %llu spans, %u segments, top %.*s %.*s %.1f%%\n",
				(unsigned long long)traces, (unsigned long long)spans, n, (int)seg[0].service.len,
				(const char *)seg[0].service.p, (int)seg[0].name.len, (const char *)seg[0].name.p,
				100 * seg[0].share);
		arena_reset(&out);
		arena_reset(&c.scratch);
		cp_agg_free(c.agg);
		arena_reset(&a);
		gen_free(&g);
		topo_free(&t);
	}
	printf("critical_path_traces %llu\n", (unsigned long long)traces);
	printf("critical_path_spans %llu\n", (unsigned long long)spans);
	printf("critical_path_cpu_s %.3f\n", median(cp_cpu, runs));
	printf("critical_path_wall_s %.3f\n", median(cp_wall, runs));

	/* one hour of the demo load, ending now, into the live graph and a scan graph */
	const double rate = 2000;
	int64_t now = (int64_t)time(NULL) * 1000000000LL, start = now - 3600LL * 1000000000LL;
	struct topo t;
	struct gen g;
	struct arena a;
	struct span_batch b;
	arena_init(&a, 0);
	if (setup(&t, &g, start, rate) < 0)
		return 1;
	struct service_graph_live *live = sg_live_new(NULL);
	struct sg_graph *scan = sg_graph_new();
	double feed_cpu = 0, scan_cpu = 0;
	spans = 0;
	while (gen_next_batch(&g, &a, &b) == 0 && b.n_spans) {
		if (b.spans[0].start_unix_ns >= now)
			break;
		double c0 = self_cpu_seconds();
		sg_live_add_batch(live, &b, now);
		double c1 = self_cpu_seconds();
		each_trace(&b, sg_one, scan);
		scan_cpu += self_cpu_seconds() - c1;
		feed_cpu += c1 - c0;
		spans += b.n_spans;
	}
	double q_cpu[100], q_wall[100];
	uint32_t nn = 0, ne = 0;
	for (int r = 0; r < runs; r++) {
		struct arena out;
		arena_init(&out, 0);
		struct sg_node_out *nodes;
		struct sg_edge_out *edges;
		int rc;
		double c0 = self_cpu_seconds(), w0 = bench_now_s();
		struct sg_graph *q = sg_live_query(live, start, now, now, &rc);
		if (q)
			sg_graph_result(q, 3600, &out, &nodes, &nn, &edges, &ne);
		q_cpu[r] = self_cpu_seconds() - c0;
		q_wall[r] = bench_now_s() - w0;
		sg_graph_free(q);
		arena_reset(&out);
	}
	fprintf(stderr, "service graph: %llu spans in the hour, %u nodes, %u edges\n", (unsigned long long)spans, nn,
		ne);
	printf("service_graph_hour_spans %llu\n", (unsigned long long)spans);
	printf("service_graph_live_feed_spans_per_cpu_s %.0f\n", feed_cpu > 0 ? (double)spans / feed_cpu : 0);
	printf("service_graph_scan_pairing_spans_per_cpu_s %.0f\n", scan_cpu > 0 ? (double)spans / scan_cpu : 0);
	printf("service_graph_live_query_hour_cpu_s %.4f\n", median(q_cpu, runs));
	printf("service_graph_live_query_hour_wall_s %.4f\n", median(q_wall, runs));
	sg_graph_free(scan);
	sg_live_free(live);
	arena_reset(&a);
	gen_free(&g);
	topo_free(&t);
	return 0;
}
