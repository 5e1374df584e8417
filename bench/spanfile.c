/* Writes a span record file for the store and ClickHouse benchmarks, in the
 * format of `clew gen --out`: records of "u32 little-endian length + OTLP
 * ExportTraceServiceRequest", each a batch of realistic spans from the
 * shared generator, deterministic for a seed. Used where `clew gen` is not
 * available.
 *
 *   build/release/bench/spanfile --out FILE --spans N [--seed S] [--batch 512]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "ingest/otlp_encode.h"
#include "lib_records.h"
#include "lib_spans.h"

int main(int argc, char **argv)
{
	const char *out = NULL;
	long long spans = 0, seed = 1, batch = 512;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--out"))
			out = argv[i + 1];
		else if (!strcmp(argv[i], "--spans"))
			spans = strtoll(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoll(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--batch"))
			batch = strtoll(argv[i + 1], NULL, 10);
	}
	if (!out || spans <= 0 || batch <= 0 || batch > 100000 || seed < 0) {
		fprintf(stderr, "usage: spanfile --out FILE --spans N [--seed S] [--batch 512]\n");
		return 2;
	}
	FILE *f = strcmp(out, "-") ? fopen(out, "wb") : stdout;
	if (!f) {
		perror(out);
		return 1;
	}
	struct buf pb;
	buf_init(&pb, 1 << 28);
	struct arena a;
	arena_init(&a, 0);
	int rc = 0;
	for (long long made = 0, i = 0; made < spans; i++) {
		int n = (int)(spans - made < batch ? spans - made : batch);
		struct span_batch b;
		span_batch_init(&b, &a);
		bench_make_batch(&b, (uint64_t)seed * 1000000 + (uint64_t)i, n);
		buf_clear(&pb);
		otlp_encode_request(&b, &pb);
		if (pb.err || rec_write(f, pb.p, pb.len) < 0) {
			fprintf(stderr, "spanfile: could not write %s\n", out);
			rc = 1;
			break;
		}
		arena_reset(&a);
		made += n;
	}
	if (f != stdout && fclose(f) != 0)
		rc = 1;
	buf_free(&pb);
	return rc;
}
