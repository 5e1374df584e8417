/* Block file figures: bytes per span and write rate (spans per CPU-second
 * of add + finish) on the benchmark span generator and, when given, on a
 * `clew gen` record file; then trace-by-id latency over a set of blocks,
 * cold (OS page cache dropped for the files, no column cache) and warm.
 *
 *   block [--spans 1000000] [--gen FILE] [--set-spans 10000000]
 *         [--block-spans 2000000] [--lookups 2000] [--warm-ids 200]
 *         [--page-spans N] [--zstd-level N] [--dir DIR]
 * --spans 0 skips the generator figure, --set-spans 0 the lookups. Warm
 * lookups ask a working set of --warm-ids traces (the column cache holds
 * their pages) after one pass that fills the cache. Prints "name value unit"
 * lines. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/err.h"
#include "ingest/otlp_proto.h"
#include "lib_records.h"
#include "lib_spans.h"
#include "store/block.h"

#define CHUNK 100000
#define MAX_IDS 100000

static struct block_writer_options wopts;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct ids {
	uint8_t (*v)[16];
	size_t n;
	uint64_t seen, rng;
};

/* Reservoir-sample the trace ids of b. */
static void note_ids(struct ids *ids, const struct span_batch *b)
{
	for (uint32_t i = 0; i < b->n_spans; i++) {
		if (b->spans[i].has_parent)
			continue;
		ids->seen++;
		if (ids->n < MAX_IDS) {
			memcpy(ids->v[ids->n++], b->spans[i].trace_id, 16);
		} else {
			uint64_t j = bench_rand(&ids->rng) % ids->seen;
			if (j < MAX_IDS)
				memcpy(ids->v[j], b->spans[i].trace_id, 16);
		}
	}
}

static void print_columns(const struct block_info *in)
{
	for (unsigned c = 0; c < BCOL_COUNT; c++) {
		double per = (double)in->column_bytes[c] / (double)(in->spans ? in->spans : 1);
		if (per >= 0.05)
			printf("  column %-22s %6.2f bytes/span (raw %6.2f)\n", block_col_name(c), per,
			       (double)in->column_raw_bytes[c] / (double)(in->spans ? in->spans : 1));
	}
}

/* Write n_spans generator spans (seeds from seed0) as dir/name. */
static int write_generated(const char *dir, const char *name, int n_spans, uint64_t seed0, struct ids *ids,
			   struct block_info *info, double *cpu_s)
{
	struct block_writer *w = block_writer_new(&wopts);
	double cpu = 0;
	int rc = 0;
	for (int made = 0, k = 0; made < n_spans && rc == 0; made += CHUNK, k++) {
		struct arena a;
		struct span_batch b;
		arena_init(&a, 0);
		span_batch_init(&b, &a);
		bench_make_batch(&b, seed0 + (uint64_t)k, n_spans - made < CHUNK ? n_spans - made : CHUNK);
		if (ids)
			note_ids(ids, &b);
		double t0 = cpu_now();
		rc = block_writer_add(w, &b);
		cpu += cpu_now() - t0;
		arena_reset(&a);
	}
	double t0 = cpu_now();
	if (rc == 0)
		rc = block_writer_finish(w, fileops_posix(), dir, name, info);
	cpu += cpu_now() - t0;
	block_writer_free(w);
	*cpu_s = cpu;
	return rc;
}

static int write_gen_file(const char *dir, const char *file, struct block_info *info, double *cpu_s)
{
	struct rec_file rf;
	int rc = rec_open(&rf, file);
	if (rc < 0)
		return rc;
	struct block_writer *w = block_writer_new(&wopts);
	struct slice rec;
	double cpu = 0;
	struct arena a;
	arena_init(&a, 0);
	while (rc >= 0 && rec_next(&rf, &rec) == 1) {
		struct span_batch b;
		struct decode_error de;
		arena_reset(&a);
		span_batch_init(&b, &a);
		if (otlp_proto_decode_request(rec, &b, &de) < 0)
			continue;
		double t0 = cpu_now();
		rc = block_writer_add(w, &b);
		cpu += cpu_now() - t0;
	}
	double t0 = cpu_now();
	if (rc >= 0)
		rc = block_writer_finish(w, fileops_posix(), dir, "gen.blk", info);
	printf("gen_add_cpu %.3f s\ngen_finish_cpu %.3f s\n", cpu, cpu_now() - t0);
	cpu += cpu_now() - t0;
	block_writer_free(w);
	arena_reset(&a);
	rec_close(&rf);
	*cpu_s = cpu;
	return rc;
}

static void drop_os_cache(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
}

/* p50/p99 of looking every id up in every block of the set (as a store
 * would: the filter skips most blocks). */
static void lookups(const char *label, struct block **blks, int n_blks, struct ids *ids, size_t n_ids,
		    int n_lookups)
{
	double *lat = malloc((size_t)n_lookups * sizeof *lat);
	struct arena a;
	arena_init(&a, 0);
	uint64_t rng = 99, found = 0;
	for (int i = 0; i < n_lookups; i++) {
		const uint8_t *id = ids->v[bench_rand(&rng) % n_ids];
		struct span_batch out;
		arena_reset(&a);
		span_batch_init(&out, &a);
		double t0 = bench_now_s();
		for (int k = 0; k < n_blks; k++)
			if (block_get_trace(blks[k], id, &out) == 0)
				found++;
		lat[i] = (bench_now_s() - t0) * 1e3;
	}
	printf("trace_by_id_%s_p50 %.3f ms\n", label, bench_quantile(lat, (size_t)n_lookups, 0.50));
	printf("trace_by_id_%s_p99 %.3f ms\n", label, bench_quantile(lat, (size_t)n_lookups, 0.99));
	printf("trace_by_id_%s_found %llu of %d\n", label, (unsigned long long)found, n_lookups);
	arena_reset(&a);
	free(lat);
}

int main(int argc, char **argv)
{
	int spans = 1000000, set_spans = 10000000, block_spans = 2000000, n_lookups = 2000, warm_ids = 200;
	const char *gen = NULL, *dir = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--spans"))
			spans = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--gen"))
			gen = argv[i + 1];
		else if (!strcmp(argv[i], "--set-spans"))
			set_spans = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--block-spans"))
			block_spans = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--lookups"))
			n_lookups = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--warm-ids"))
			warm_ids = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--page-spans"))
			wopts.page_spans = (uint32_t)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--zstd-level"))
			wopts.zstd_level = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--dir"))
			dir = argv[i + 1];
	}
	char tmpl[] = "/tmp/clew-bench-block-XXXXXX";
	if (!dir && !(dir = mkdtemp(tmpl))) {
		perror("mkdtemp");
		return 1;
	}
	struct block_info info;
	double cpu;
	int rc = 0;
	if (spans > 0) {
		rc = write_generated(dir, "gen1.blk", spans, 1, NULL, &info, &cpu);
		if (rc < 0) {
			fprintf(stderr, "block: %s\n", err_str(rc));
			return 1;
		}
		printf("generator_spans %llu spans\n", (unsigned long long)info.spans);
		printf("generator_bytes_per_span %.2f bytes\n", (double)info.file_bytes / (double)info.spans);
		printf("generator_write_rate %.0f spans/cpu-s\n", (double)info.spans / cpu);
		print_columns(&info);
	}
	if (gen) {
		rc = write_gen_file(dir, gen, &info, &cpu);
		if (rc < 0) {
			fprintf(stderr, "block: %s: %s\n", gen, err_str(rc));
		} else {
			printf("gen_spans %llu spans\n", (unsigned long long)info.spans);
			printf("gen_bytes_per_span %.2f bytes\n", (double)info.file_bytes / (double)info.spans);
			printf("gen_write_rate %.0f spans/cpu-s\n", (double)info.spans / cpu);
			print_columns(&info);
		}
	}

	/* the lookup set */
	if (set_spans <= 0)
		goto done;
	struct ids ids = {.v = malloc(MAX_IDS * 16), .rng = 5};
	int n_blks = (set_spans + block_spans - 1) / block_spans;
	struct block **blks = calloc((size_t)n_blks, sizeof *blks);
	char name[64], path[4096], err[512];
	uint64_t set_bytes = 0;
	for (int k = 0; k < n_blks; k++) {
		snprintf(name, sizeof name, "set%d.blk", k);
		int n = set_spans - k * block_spans < block_spans ? set_spans - k * block_spans : block_spans;
		if ((rc = write_generated(dir, name, n, 1000 + (uint64_t)k * 1000, &ids, &info, &cpu)) < 0) {
			fprintf(stderr, "block: %s\n", err_str(rc));
			return 1;
		}
		set_bytes += info.file_bytes;
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (!(blks[k] = block_open(fileops_posix(), path, &rc, err, sizeof err))) {
			fprintf(stderr, "block: %s\n", err);
			return 1;
		}
	}
	printf("set_spans %d spans in %d blocks, %.2f bytes/span\n", set_spans, n_blks,
	       (double)set_bytes / (double)set_spans);
	block_cache_set_budget(0);
	for (int k = 0; k < n_blks; k++)
		drop_os_cache(block_path(blks[k]));
	lookups("cold", blks, n_blks, &ids, ids.n, n_lookups);
	lookups("os_cached", blks, n_blks, &ids, ids.n, n_lookups);
	block_cache_set_budget((size_t)256 << 20);
	size_t n_warm = warm_ids > 0 && (size_t)warm_ids < ids.n ? (size_t)warm_ids : ids.n;
	uint64_t h0, m0, h1, m1;
	lookups("warm_fill", blks, n_blks, &ids, n_warm, n_lookups);
	block_cache_stats(NULL, &h0, &m0);
	lookups("warm", blks, n_blks, &ids, n_warm, n_lookups);
	block_cache_stats(NULL, &h1, &m1);
	printf("trace_by_id_warm_cache %llu hits %llu misses\n", (unsigned long long)(h1 - h0),
	       (unsigned long long)(m1 - m0));
	for (int k = 0; k < n_blks; k++) {
		block_mark_deleted(blks[k]);
		block_unref(blks[k]);
	}
	free(blks);
	free(ids.v);
done:
	snprintf(path, sizeof path, "%s/gen1.blk", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/gen.blk", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}
