/* Ingest-to-queryable benchmark: sends a batch of realistic spans to a
 * running clew over OTLP/HTTP protobuf, then asks for one of its traces by
 * id until the answer is 200, and reports p50 and p99 of the time from the
 * send and from the acknowledgement (median over runs, with min and max).
 * clew's head makes a span readable before the ack, so the second figure
 * is one round trip.
 *
 *   queryable --otlp-http http://H:P/v1/traces --get-prefix http://H:P/api/v1/traces/
 *             [--batches 300] [--runs 3] [--spans 512]
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/codec.h"
#include "ingest/otlp_encode.h"
#include "lib_records.h"
#include "lib_spans.h"

#define MAX_RUNS 25
#define TIMEOUT_S 10.0

static size_t discard_cb(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

static long perform(CURL *easy)
{
	long code = 0;
	if (curl_easy_perform(easy) != CURLE_OK)
		return -1;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

int main(int argc, char **argv)
{
	const char *post_url = NULL, *get_prefix = NULL;
	int batches = 300, runs = 3, spans = 512;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--otlp-http"))
			post_url = argv[i + 1];
		else if (!strcmp(argv[i], "--get-prefix"))
			get_prefix = argv[i + 1];
		else if (!strcmp(argv[i], "--batches"))
			batches = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--runs"))
			runs = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--spans"))
			spans = (int)strtol(argv[i + 1], NULL, 10);
	}
	if (!post_url || !get_prefix || batches < 1 || runs < 1 || runs > MAX_RUNS || spans < 1 || spans > 100000) {
		fprintf(stderr, "usage: queryable --otlp-http URL --get-prefix URL [--batches N] [--runs N] [--spans N]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_ALL);
	CURL *post = curl_easy_init(), *get = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(post, CURLOPT_URL, post_url);
	curl_easy_setopt(post, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(post, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(get, CURLOPT_WRITEFUNCTION, discard_cb);
	double *from_send = malloc((size_t)batches * sizeof(double)), *from_ack = malloc((size_t)batches * sizeof(double));
	double p50_send[MAX_RUNS], p99_send[MAX_RUNS], p50_ack[MAX_RUNS], p99_ack[MAX_RUNS];
	struct buf pb;
	buf_init(&pb, 1 << 28);
	struct arena a;
	arena_init(&a, 0);
	uint64_t seed = (uint64_t)clock_now_unix_ns(), failures = 0;
	int rc = 0;
	for (int r = 0; r < runs; r++) {
		for (int i = 0; i < batches; i++) {
			struct span_batch b;
			span_batch_init(&b, &a);
			bench_make_batch(&b, seed++, spans);
			buf_clear(&pb);
			otlp_encode_request(&b, &pb);
			char url[512], hex[33];
			hex_encode(b.spans[b.n_spans - 1].trace_id, 16, hex);
			hex[32] = 0;
			snprintf(url, sizeof url, "%s%s", get_prefix, hex);
			curl_easy_setopt(get, CURLOPT_URL, url);
			curl_easy_setopt(post, CURLOPT_POSTFIELDS, pb.p);
			curl_easy_setopt(post, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)pb.len);
			double t0 = bench_now_s();
			long code = perform(post);
			double t_ack = bench_now_s();
			if (code != 200) {
				fprintf(stderr, "queryable: send answered %ld\n", code);
				rc = 1;
				goto out;
			}
			int polls = 0;
			while ((code = perform(get)) != 200) {
				if (bench_now_s() - t0 > TIMEOUT_S) {
					fprintf(stderr, "queryable: trace %s not readable after %.0f s (HTTP %ld)\n", hex,
						TIMEOUT_S, code);
					rc = 1;
					goto out;
				}
				if (++polls > 3)
					usleep(200);
			}
			double t1 = bench_now_s();
			from_send[i] = (t1 - t0) * 1e3;
			from_ack[i] = (t1 - t_ack) * 1e3;
			failures += polls > 0;
			arena_reset(&a);
		}
		p50_send[r] = bench_quantile(from_send, (size_t)batches, 0.5);
		p99_send[r] = bench_quantile(from_send, (size_t)batches, 0.99);
		p50_ack[r] = bench_quantile(from_ack, (size_t)batches, 0.5);
		p99_ack[r] = bench_quantile(from_ack, (size_t)batches, 0.99);
		fprintf(stderr, "  run %d: send-to-queryable p50 %.3f p99 %.3f ms, ack-to-queryable p50 %.3f p99 %.3f ms\n",
			r + 1, p50_send[r], p99_send[r], p50_ack[r], p99_ack[r]);
	}
	struct {
		const char *name;
		double *v;
	} out[] = {{"send_to_queryable_p50_ms", p50_send},
		   {"send_to_queryable_p99_ms", p99_send},
		   {"ack_to_queryable_p50_ms", p50_ack},
		   {"ack_to_queryable_p99_ms", p99_ack}};
	for (size_t k = 0; k < sizeof out / sizeof out[0]; k++) {
		double m = bench_quantile(out[k].v, (size_t)runs, 0.5);
		printf("%s median %.3f min %.3f max %.3f runs %d batches %d spans_per_batch %d\n", out[k].name, m,
		       out[k].v[0], out[k].v[runs - 1], runs, batches, spans);
	}
	printf("queryable_not_readable_at_first_ask %llu of %d\n", (unsigned long long)failures, batches * runs);
out:
	buf_free(&pb);
	arena_reset(&a);
	free(from_send);
	free(from_ack);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(post);
	curl_easy_cleanup(get);
	return rc;
}
