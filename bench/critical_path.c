/* The critical-path and service-graph endpoints' work over a store: a data
 * directory filled through the store API (manual maintenance) with `clew
 * gen` traffic at the demo rate (2,000 spans/s), cut every two minutes of
 * span time and compacted as the store does after an hour, then the
 * aggregation of every trace as GET /api/v1/critical-path runs it
 * (cp_agg_scan: block pages read column by column, each trace's path in
 * the workers), the same with whole pages decoded (cp_set_columnar(false))
 * and, for comparison, the serialised visitor the endpoint used before
 * (exec_scan + cp_agg_add_trace under the scan's lock); then the service
 * graph's scan (sg_graph_scan). Median CPU (every thread) and wall time of several runs,
 * after one warm-up run. Prints "name value unit" lines.
 *
 *   critical_path [--traces 100000] [--runs 5] [--threads 0] [--dir DIR]
 * (--dir: an existing data directory is used as it is, else it is built
 * there and kept; without it a temporary one is built and removed.) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/critical_path.h"
#include "analysis/service_graph.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "gen/topology.h"
#include "gen/tracegen.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"
#include "query/exec.h"
#include "store/store.h"
#include "lib_records.h"

#define MAX_RUNS 64
#define NS_PER_S 1000000000LL
#define DEMO_RATE 2000.0
#define CUT_NS (120LL * NS_PER_S)

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

static int64_t g_start = 1767225600LL * NS_PER_S; /* 2026-01-01 */
static int64_t g_end;

/* Fill the store with about `traces` traces of generated traffic. */
static int build(struct store *st, long traces)
{
	struct topo t;
	struct gen g;
	struct arena a;
	struct span_batch b;
	int rc;
	topo_init(&t);
	arena_init(&a, 0);
	if ((rc = topo_default(&t)) < 0)
		return rc;
	struct gen_config c = {.seed = 1, .start_unix_ns = g_start, .clock_rate = DEMO_RATE, .accounts = 100000,
			       .zipf_s = 1.0, .batch_spans = 1000, .topo = &t};
	if ((rc = gen_init(&g, &c)) < 0)
		return rc;
	long seen = 0;
	uint64_t spans = 0;
	int64_t next_cut = g_start + CUT_NS;
	double c0 = self_cpu_seconds();
	while (seen < traces && (rc = gen_next_batch(&g, &a, &b)) == 0 && b.n_spans) {
		for (uint32_t i = 0; i < b.n_spans; i++)
			if (i == 0 || memcmp(b.spans[i].trace_id, b.spans[i - 1].trace_id, 16) != 0)
				seen++;
		spans += b.n_spans;
		if (b.spans[b.n_spans - 1].end_unix_ns > g_end)
			g_end = b.spans[b.n_spans - 1].end_unix_ns;
		struct buf out;
		buf_init(&out, (size_t)1 << 28);
		otlp_encode_request(&b, &out);
		if (out.err) {
			rc = out.err;
			break;
		}
		/* the head keeps slices into the payload, as the receivers give it */
		struct span_batch db;
		struct decode_error de;
		span_batch_init(&db, &a);
		if ((rc = otlp_proto_decode_request(slice_make(out.p, out.len), &db, &de)) < 0 ||
		    (rc = store_append(st, out.p, out.len, &db)) < 0)
			break;
		if (b.spans[0].start_unix_ns >= next_cut) {
			next_cut += CUT_NS;
			if ((rc = store_flush(st)) < 0)
				break;
		}
		arena_reset(&a);
	}
	if (rc >= 0 && (rc = store_flush(st)) == 0)
		rc = store_maintain(st);

	printf("build_traces %ld traces\nbuild_spans %llu spans\nbuild_cpu %.1f s\n", seen, (unsigned long long)spans,
	       self_cpu_seconds() - c0);
	gen_free(&g);
	topo_free(&t);
	arena_reset(&a);
	return rc < 0 ? rc : 0;
}

struct serial {
	struct cp_agg *agg;
	struct arena scratch;
};

static int serial_visit(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n, const uint32_t *matched,
			uint32_t n_matched)
{
	struct serial *s = ctx;
	(void)matched;
	(void)n_matched;
	return cp_agg_add_trace(s->agg, b, first, n, &s->scratch);
}

enum mode { CP_COLUMNAR, CP_WORKERS, CP_SERIAL, SG_WORKERS };

static uint32_t g_threads;

/* One run of mode over everything in the store; *out_n: traces (nodes for
 * the service graph). */
static int run_once(struct store *st, enum mode m, double *cpu, double *wall, uint64_t *out_n, char *top,
		    size_t top_len)
{
	struct arena a;
	struct tql_error e;
	char err[256];
	int rc;
	arena_init(&a, 0);
	struct tql_query *tq = tql_parse("{}", 2, &a, &e);
	struct exec_query *xq = tq ? exec_compile(tq, &a, &rc, err, sizeof err) : NULL;
	if (!xq) {
		arena_reset(&a);
		return CLEW_ENOMEM;
	}
	struct exec_options o = {.start_ns = g_start, .end_ns = g_end, .threads = g_threads,
				 .time_ns = 3600LL * NS_PER_S};
	double c0 = self_cpu_seconds();
	int64_t w0 = clock_mono_ns();
	struct cp_agg *agg = NULL;
	struct sg_graph *graph = NULL;
	if (m == CP_COLUMNAR || m == CP_WORKERS) {
		cp_set_columnar(m == CP_COLUMNAR);
		rc = cp_agg_scan(&store_embedded_query_ops, st, xq, &o, &agg);
		cp_set_columnar(true);
	} else if (m == CP_SERIAL) {
		struct serial s = {.agg = cp_agg_new()};
		arena_init(&s.scratch, 0);
		rc = s.agg ? exec_scan(&store_embedded_query_ops, st, xq, &o, serial_visit, &s, NULL) : CLEW_ENOMEM;
		arena_reset(&s.scratch);
		agg = s.agg;
	} else {
		rc = sg_graph_scan(&store_embedded_query_ops, st, xq, &o, g_start, g_end, &graph);
	}
	struct cp_segment *seg = NULL;
	struct sg_node_out *nodes;
	struct sg_edge_out *edges;
	uint32_t n = 0, ne = 0;
	if (rc >= 0 && agg)
		rc = cp_agg_segments(agg, &a, &seg, &n);
	else if (rc >= 0 && graph)
		rc = sg_graph_result(graph, (double)(g_end - g_start) / 1e9, &a, &nodes, &n, &edges, &ne);
	*cpu = self_cpu_seconds() - c0;
	*wall = (double)(clock_mono_ns() - w0) / 1e6;
	if (rc >= 0 && agg) {
		*out_n = cp_agg_traces(agg);
		if (n)
			snprintf(top, top_len, "%.*s %.*s %.4f", (int)seg[0].service.len, (const char *)seg[0].service.p,
				 (int)seg[0].name.len, (const char *)seg[0].name.p, seg[0].share);
	} else if (rc >= 0) {
		*out_n = n;
		snprintf(top, top_len, "%u nodes %u edges", n, ne);
	}
	cp_agg_free(agg);
	sg_graph_free(graph);
	exec_query_free(xq);
	arena_reset(&a);
	return rc;
}

static int bench(struct store *st, const char *label, enum mode m, int runs)
{
	double cpu[MAX_RUNS], wall[MAX_RUNS], c, w;
	uint64_t n = 0;
	char top[256] = "";
	int rc = run_once(st, m, &c, &w, &n, top, sizeof top); /* warm the column cache */
	for (int k = 0; k < runs && rc >= 0; k++)
		rc = run_once(st, m, &cpu[k], &wall[k], &n, top, sizeof top);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", label, err_str(rc));
		return rc;
	}
	printf("%s_cpu %.3f s\n", label, median(cpu, runs));
	printf("%s_wall %.1f ms\n", label, median(wall, runs));
	printf("%s_result %llu (%s)\n", label, (unsigned long long)n, top);
	fflush(stdout);
	return 0;
}

static bool has_blocks(const char *dir)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/blocks", dir);
	DIR *d = opendir(path);
	bool any = false;
	if (!d)
		return false;
	for (struct dirent *e; !any && (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		any = l > 4 && strcmp(e->d_name + l - 4, ".blk") == 0;
	}
	closedir(d);
	return any;
}

int main(int argc, char **argv)
{
	long traces = 100000;
	int runs = 5;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "%s needs a value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--traces") == 0)
			traces = strtol(v, NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0)
			runs = (int)strtol(v, NULL, 10);
		else if (strcmp(argv[i], "--threads") == 0)
			g_threads = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0)
			dir = v;
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
		i++;
	}
	if (traces <= 0 || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: critical_path [--traces N] [--runs 1..%d] [--threads N] [--dir DIR]\n",
			MAX_RUNS);
		return 2;
	}
	char tmp[] = "/tmp/clew-bench-cp-XXXXXX";
	bool fresh = !dir || !has_blocks(dir);
	if (!dir && !(dir = mkdtemp(tmp))) {
		perror("mkdtemp");
		return 1;
	}
	char err[512];
	int rc;
	struct store_options so = {.data_dir = dir, .wal_sync = WAL_SYNC_NONE, .manual_maintenance = 1};
	struct store *st = store_open(&so, &rc, err, sizeof err);
	if (!st) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (fresh && (rc = build(st, traces)) < 0) {
		fprintf(stderr, "building the store: %s\n", err_str(rc));
		store_close(st);
		return 1;
	}
	struct store_block_list bl;
	if (store_list_blocks(st, &bl) < 0)
		return 1;
	uint64_t spans = 0;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t k = 0; k < bl.n; k++) {
		spans += bl.items[k].info.spans;
		if (bl.items[k].info.min_start_ns < lo)
			lo = bl.items[k].info.min_start_ns;
		if (bl.items[k].info.max_end_ns > hi)
			hi = bl.items[k].info.max_end_ns;
	}
	printf("blocks %zu blocks\nspans %llu spans\n", bl.n, (unsigned long long)spans);
	store_release_blocks(&bl);
	if (!fresh) {
		g_start = lo;
		g_end = hi;
	}
	if ((rc = bench(st, "critical_path_columnar", CP_COLUMNAR, runs)) < 0 ||
	    (rc = bench(st, "critical_path_workers", CP_WORKERS, runs)) < 0 ||
	    (rc = bench(st, "critical_path_serialised", CP_SERIAL, runs)) < 0 ||
	    (rc = bench(st, "service_graph_scan", SG_WORKERS, runs)) < 0) {
		store_close(st);
		return 1;
	}
	store_close(st);
	if (dir == tmp) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp);
	}
	return 0;
}
