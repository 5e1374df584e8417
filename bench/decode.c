/* Benchmark of the OTLP protobuf decoder: spans decoded per CPU-second on
 * batches of 512 realistic spans (about 10 attributes each, HTTP and
 * database calls, resources with k8s attributes), built with clew's encoder
 * from the benchmarks' generator (lib_spans.c), beside otlp_proto_walk() over the same
 * bytes (the floor). Prints machine-readable "name value" lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/buf.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"
#include "lib_spans.h"

#define BATCH_SPANS 512

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double min_cpu = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	struct arena gen_arena, arena;
	struct span_batch batch;
	struct buf body;
	struct decode_error err;
	arena_init(&gen_arena, 0);
	arena_init(&arena, 0);
	buf_init(&body, 64 << 20);
	span_batch_init(&batch, &gen_arena);
	bench_make_batch(&batch, 1, BATCH_SPANS);
	otlp_encode_request(&batch, &body);
	if (body.err) {
		fprintf(stderr, "encode failed: %d\n", body.err);
		return 1;
	}
	struct slice in = buf_slice(&body);

	long iters = 0;
	double t0 = cpu_seconds(), t;
	do {
		for (int k = 0; k < 50; k++) {
			arena_reset(&arena);
			span_batch_init(&batch, &arena);
			if (otlp_proto_decode_request(in, &batch, &err) != 0 || batch.n_spans != BATCH_SPANS) {
				fprintf(stderr, "decode failed: %s\n", err.msg);
				return 1;
			}
		}
		iters += 50;
	} while ((t = cpu_seconds() - t0) < min_cpu);
	double decode_rate = (double)iters * BATCH_SPANS / t;

	long walk_iters = 0, fields = 0;
	t0 = cpu_seconds();
	do {
		for (int k = 0; k < 50; k++) {
			long n = otlp_proto_walk(in);
			if (n < 0) {
				fprintf(stderr, "walk failed\n");
				return 1;
			}
			fields = n;
		}
		walk_iters += 50;
	} while ((t = cpu_seconds() - t0) < min_cpu);
	double walk_rate = (double)walk_iters * BATCH_SPANS / t;

	printf("batch_spans %d\n", BATCH_SPANS);
	printf("batch_bytes %zu\n", in.len);
	printf("bytes_per_span %.1f\n", (double)in.len / BATCH_SPANS);
	printf("fields_per_batch %ld\n", fields);
	printf("decode_spans_per_core_sec %.0f\n", decode_rate);
	printf("decode_mb_per_core_sec %.1f\n", decode_rate * (double)in.len / BATCH_SPANS / 1e6);
	printf("walk_spans_per_core_sec %.0f\n", walk_rate);
	printf("decode_vs_walk %.2f\n", decode_rate / walk_rate);
	arena_reset(&arena);
	arena_reset(&gen_arena);
	buf_free(&body);
	return 0;
}
