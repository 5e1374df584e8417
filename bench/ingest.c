/* Ingest benchmark: starts `clew serve` (release build, durable WAL with
 * group commit), sends pre-encoded batches of 512 realistic spans over
 * keep-alive connections (OTLP/HTTP protobuf, OTLP/HTTP JSON, OTLP/gRPC), and
 * reports spans per CPU-second of the server process (utime+stime from
 * /proc), the median of several runs with min and max. Every batch sent has
 * fresh trace ids, so nothing is deduplicated away. Also reports the head's
 * memory per million spans and the server's memory per request in flight.
 *
 *   build/release/bench/ingest [--seconds 5] [--runs 3] [--connections 8]
 *                              [--protocols proto,json,grpc] [--wal-sync group]
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/trace_json.h"
#include "base/clock.h"
#include "base/codec.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"
#include "lib_records.h"
#include "lib_spans.h"

#define SPANS_PER_BATCH 512
#define N_BATCHES 64
#define MAX_CONNS 64

enum proto { P_PROTO, P_JSON, P_GRPC };
static const char *proto_names[] = {"otlp_http_protobuf", "otlp_http_json", "otlp_grpc"};

struct payload {
	struct buf body;     /* what is sent */
	size_t *id_offsets;  /* where trace ids sit in body (bytes, or hex text for JSON) */
	size_t n_ids;
};

struct server {
	pid_t pid;
	int http_port, grpc_port, otlp_http_port;
	char data_dir[256];
};

static struct payload payloads[3][N_BATCHES];

static int parse_port(const char *line, const char *name)
{
	char key[64];
	snprintf(key, sizeof key, "listening: %s ", name);
	const char *p = strstr(line, key);
	if (!p)
		return 0;
	p = strrchr(p, ':');
	return p ? (int)strtol(p + 1, NULL, 10) : 0;
}

static const char *head_max = "256M";

static int start_server(struct server *s, const char *clew, const char *wal_sync)
{
	snprintf(s->data_dir, sizeof s->data_dir, "/tmp/clew-bench-XXXXXX");
	if (!mkdtemp(s->data_dir))
		return -1;
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		execl(clew, clew, "serve", "--data-dir", s->data_dir, "--http", "127.0.0.1:0", "--otlp-grpc",
		      "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--zipkin", "127.0.0.1:0", "--wal-sync", wal_sync,
		      "--memory-limit", "16G", "--retention", "0", "--head-max-bytes", head_max, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	FILE *f = fdopen(pfd[0], "r");
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		int p;
		if ((p = parse_port(line, "http")))
			s->http_port = p;
		if ((p = parse_port(line, "otlp-grpc")))
			s->grpc_port = p;
		if ((p = parse_port(line, "otlp-http")))
			s->otlp_http_port = p;
		if (strstr(line, " ready"))
			break;
	}
	/* keep draining the server's log in the background */
	if (fork() == 0) {
		while (fgets(line, sizeof line, f))
			;
		_exit(0);
	}
	fclose(f);
	return s->http_port && s->grpc_port && s->otlp_http_port ? 0 : -1;
}

static void stop_server(struct server *s)
{
	kill(s->pid, SIGTERM);
	int st;
	waitpid(s->pid, &st, 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->data_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", s->data_dir);
}

static void prepare(void)
{
	for (int i = 0; i < N_BATCHES; i++) {
		struct arena a;
		arena_init(&a, 0);
		struct span_batch b;
		span_batch_init(&b, &a);
		bench_make_batch(&b, (uint64_t)i + 1, SPANS_PER_BATCH);
		/* protobuf, and gRPC = 5-byte frame + protobuf */
		struct buf pb;
		buf_init(&pb, 1 << 26);
		otlp_encode_request(&b, &pb);
		struct span_batch d;
		span_batch_init(&d, &a);
		struct decode_error err;
		if (otlp_proto_decode_request(buf_slice(&pb), &d, &err) < 0) {
			fprintf(stderr, "bench: own batch does not decode: %s\n", err.msg);
			exit(1);
		}
		for (int p = P_PROTO; p <= P_GRPC; p += 2) {
			struct payload *pl = &payloads[p][i];
			size_t shift = p == P_GRPC ? 5 : 0;
			buf_init(&pl->body, 1 << 26);
			if (p == P_GRPC) {
				uint8_t hdr[5] = {0, (uint8_t)(pb.len >> 24), (uint8_t)(pb.len >> 16),
						  (uint8_t)(pb.len >> 8), (uint8_t)pb.len};
				buf_append(&pl->body, hdr, 5);
			}
			buf_append(&pl->body, pb.p, pb.len);
			pl->id_offsets = calloc(d.n_spans, sizeof(size_t));
			for (uint32_t k = 0; k < d.n_spans; k++) {
				const uint8_t *r = d.spans[k].raw.p;
				if (r[0] != 0x0a || r[1] != 16) {
					fprintf(stderr, "bench: trace id is not the first field\n");
					exit(1);
				}
				pl->id_offsets[pl->n_ids++] = (size_t)(r + 2 - pb.p) + shift;
			}
		}
		/* JSON */
		struct payload *pj = &payloads[P_JSON][i];
		buf_init(&pj->body, 1 << 26);
		buf_append_cstr(&pj->body, "{\"resourceSpans\":");
		trace_json_write_otlp(&b, &pj->body, TRACE_JSON_OTLP);
		buf_append_cstr(&pj->body, "}");
		pj->id_offsets = calloc(SPANS_PER_BATCH, sizeof(size_t));
		const char *key = "\"traceId\":\"";
		for (uint8_t *q = pj->body.p; (q = memmem(q, pj->body.len - (size_t)(q - pj->body.p), key, 11));
		     q += 11)
			if (pj->n_ids < SPANS_PER_BATCH)
				pj->id_offsets[pj->n_ids++] = (size_t)(q + 11 - pj->body.p);
		buf_free(&pb);
		arena_reset(&a);
	}
}

struct conn {
	CURL *easy;
	struct buf body;
	struct curl_slist *headers;
	int grpc_ok; /* grpc-status: 0 seen in the trailers */
	char url[128];
};

static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	if (n * size >= 14 && memcmp(p, "grpc-status: 0", 14) == 0)
		c->grpc_ok = 1;
	return size * n;
}

static size_t discard_cb(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* Copy batch seq % N_BATCHES with its trace ids made unique by seq. */
static void fill(struct conn *c, enum proto p, uint64_t seq)
{
	struct payload *pl = &payloads[p][seq % N_BATCHES];
	uint32_t round = (uint32_t)(seq / N_BATCHES) + 1;
	buf_clear(&c->body);
	buf_append(&c->body, pl->body.p, pl->body.len);
	for (size_t k = 0; k < pl->n_ids; k++) {
		uint8_t *id = c->body.p + pl->id_offsets[k];
		if (p == P_JSON) {
			char hex[8];
			uint8_t rb[4] = {(uint8_t)(round >> 24), (uint8_t)(round >> 16), (uint8_t)(round >> 8),
					 (uint8_t)round};
			hex_encode(rb, 4, hex);
			memcpy(id, hex, 8);
		} else {
			memcpy(id, &round, 4);
		}
	}
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body.p);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body.len);
	c->grpc_ok = 0;
}

/* A fresh easy handle for c. curl before 8.0 fails any request on a reused
 * prior-knowledge HTTP/2 connection, so only a conn's first gRPC request asks
 * for prior knowledge and later ones ask for HTTP/2, which takes the open
 * connection; a large receive buffer keeps curl from losing trailers. */
static void setup_easy(struct conn *c, enum proto p, const struct server *s)
{
	bool reuse = c->easy != NULL;
	if (c->easy)
		curl_easy_cleanup(c->easy);
	c->easy = curl_easy_init();
	curl_easy_setopt(c->easy, CURLOPT_BUFFERSIZE, (long)CURL_MAX_READ_SIZE);
	if (!c->headers) {
		if (p == P_GRPC) {
			snprintf(c->url, sizeof c->url,
				 "http://127.0.0.1:%d/opentelemetry.proto.collector.trace.v1.TraceService/Export",
				 s->grpc_port);
			c->headers = curl_slist_append(NULL, "Content-Type: application/grpc");
			c->headers = curl_slist_append(c->headers, "TE: trailers");
		} else {
			snprintf(c->url, sizeof c->url, "http://127.0.0.1:%d/v1/traces", s->otlp_http_port);
			c->headers = curl_slist_append(NULL, p == P_JSON ? "Content-Type: application/json"
									 : "Content-Type: application/x-protobuf");
			c->headers = curl_slist_append(c->headers, "Expect:");
		}
	}
	if (p == P_GRPC)
		curl_easy_setopt(c->easy, CURLOPT_HTTP_VERSION,
				 reuse ? (long)CURL_HTTP_VERSION_2_0 : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	if (getenv("BENCH_VERBOSE"))
		curl_easy_setopt(c->easy, CURLOPT_VERBOSE, 1L);
}

static double metric_from(const struct server *s, const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "curl -s http://127.0.0.1:%d/metrics", s->http_port);
	FILE *f = popen(cmd, "r");
	char line[1024];
	double v = -1;
	size_t n = strlen(name);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, name, n) == 0 && line[n] == ' ')
			v = strtod(line + n + 1, NULL);
	if (f)
		pclose(f);
	return v;
}

struct run_result {
	double spans_per_cpu_s, spans_per_wall_s, cpu_s, wall_s;
	uint64_t spans, failures;
	double inflight_bytes_mean, inflight_bytes_max; /* memory budget minus head, sampled */
};

static void run_once(const struct server *s, enum proto p, int n_conns, double seconds, uint64_t *seq,
		     struct run_result *res)
{
	CURLM *multi = curl_multi_init();
	struct conn conns[MAX_CONNS];
	if (p == P_GRPC)
		curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	for (int i = 0; i < n_conns; i++) {
		struct conn *c = &conns[i];
		memset(c, 0, sizeof *c);
		buf_init(&c->body, 1 << 26);
		setup_easy(c, p, s);
		fill(c, p, (*seq)++);
		curl_multi_add_handle(multi, c->easy);
	}
	double cpu0 = proc_cpu_seconds(s->pid), t0 = bench_now_s(), end = t0 + seconds;
	uint64_t spans = 0, failures = 0;
	int running = n_conns, samples = 0;
	double next_sample = t0 + 0.5, inflight_sum = 0, inflight_max = 0;
	while (running > 0) {
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct conn *c;
			long code = 0;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			bool ok = m->data.result == CURLE_OK && code == 200 && (p != P_GRPC || c->grpc_ok);
			if (ok)
				spans += SPANS_PER_BATCH;
			else if (failures++ == 0)
				fprintf(stderr, "bench: first failure: %s, HTTP %ld\n", curl_easy_strerror(m->data.result),
					code);
			curl_multi_remove_handle(multi, c->easy);
			if (bench_now_s() < end) {
				if (p == P_GRPC)
					setup_easy(c, p, s);
				fill(c, p, (*seq)++);
				curl_multi_add_handle(multi, c->easy);
				running++;
			}
		}
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
		if (bench_now_s() >= next_sample && running > 0) {
			double inflight = metric_from(s, "clew_memory_budget_used_bytes") - metric_from(s, "clew_head_bytes");
			inflight_sum += inflight;
			if (inflight > inflight_max)
				inflight_max = inflight;
			samples++;
			next_sample = bench_now_s() + 0.5;
		}
	}
	double wall = bench_now_s() - t0, cpu = proc_cpu_seconds(s->pid) - cpu0;
	for (int i = 0; i < n_conns; i++) {
		curl_easy_cleanup(conns[i].easy);
		curl_slist_free_all(conns[i].headers);
		buf_free(&conns[i].body);
	}
	curl_multi_cleanup(multi);
	res->spans = spans;
	res->failures = failures;
	res->wall_s = wall;
	res->cpu_s = cpu;
	res->spans_per_cpu_s = cpu > 0 ? (double)spans / cpu : 0;
	res->spans_per_wall_s = (double)spans / wall;
	res->inflight_bytes_mean = samples ? inflight_sum / samples : 0;
	res->inflight_bytes_max = inflight_max;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *clew = "build/release/clew", *wal_sync = "group", *protocols = "proto,json,grpc";
	double seconds = 5;
	int runs = 3, n_conns = 8;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seconds"))
			seconds = strtod(argv[i + 1], NULL);
		else if (!strcmp(argv[i], "--runs"))
			runs = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--connections"))
			n_conns = (int)strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--clew"))
			clew = argv[i + 1];
		else if (!strcmp(argv[i], "--wal-sync"))
			wal_sync = argv[i + 1];
		else if (!strcmp(argv[i], "--protocols"))
			protocols = argv[i + 1];
		else if (!strcmp(argv[i], "--head-max-bytes"))
			head_max = argv[i + 1];
	}
	if (n_conns < 1 || n_conns > MAX_CONNS || runs < 1 || runs > 25) {
		fprintf(stderr, "bench: bad --connections or --runs\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_ALL);
	prepare();
	size_t bytes = 0;
	for (int i = 0; i < N_BATCHES; i++)
		bytes += payloads[P_PROTO][i].body.len;
	printf("batch_spans %d\nwire_bytes_per_span_protobuf %.1f\n", SPANS_PER_BATCH,
	       (double)bytes / (N_BATCHES * SPANS_PER_BATCH));
	for (enum proto p = P_PROTO; p <= P_GRPC; p++) {
		const char *short_name = p == P_PROTO ? "proto" : p == P_JSON ? "json" : "grpc";
		if (!strstr(protocols, short_name))
			continue;
		double vals[25], inflight_mean = 0, inflight_max = 0;
		uint64_t seq = 0, failures = 0;
		struct server s;
		if (start_server(&s, clew, wal_sync) < 0) {
			fprintf(stderr, "bench: could not start %s\n", clew);
			return 1;
		}
		struct run_result warm;
		run_once(&s, p, n_conns, 1.0, &seq, &warm);
		double cpu_at_first_run = proc_cpu_seconds(s.pid);
		uint64_t spans_in_runs = 0;
		for (int r = 0; r < runs; r++) {
			struct run_result res;
			run_once(&s, p, n_conns, seconds, &seq, &res);
			vals[r] = res.spans_per_cpu_s;
			spans_in_runs += res.spans;
			failures += res.failures;
			inflight_mean += res.inflight_bytes_mean / runs;
			if (res.inflight_bytes_max > inflight_max)
				inflight_max = res.inflight_bytes_max;
			fprintf(stderr, "  %s run %d: %.0f spans/cpu-s, %.0f spans/s wall, %.2f cpu-s over %.2f s\n",
				proto_names[p], r + 1, res.spans_per_cpu_s, res.spans_per_wall_s, res.cpu_s, res.wall_s);
		}
		/* Sustained: every span of the runs, over all the server's CPU from the
		 * first run until the sealed heads are flushed into blocks. */
		double t_drain = bench_now_s();
		while (metric_from(&s, "clew_head_sealed") > 0 && bench_now_s() - t_drain < 120)
			usleep(200000);
		double flushes = metric_from(&s, "clew_flushes_total");
		double total_cpu = proc_cpu_seconds(s.pid) - cpu_at_first_run;
		printf("ingest_%s_sustained_spans_per_cpu_sec %.0f flushes %.0f blocks %.0f (all CPU from the first run "
		       "until the flush backlog drained, %.1f s of it after the load)\n",
		       proto_names[p], total_cpu > 0 ? (double)spans_in_runs / total_cpu : 0, flushes,
		       metric_from(&s, "clew_blocks"), bench_now_s() - t_drain);
		qsort(vals, (size_t)runs, sizeof vals[0], cmp_double);
		printf("ingest_%s_spans_per_cpu_sec median %.0f min %.0f max %.0f runs %d failures %llu\n",
		       proto_names[p], vals[runs / 2], vals[0], vals[runs - 1], runs, (unsigned long long)failures);
		printf("inflight_bytes_per_request_%s mean %.0f max %.0f connections %d\n", proto_names[p],
		       inflight_mean / n_conns, inflight_max / n_conns, n_conns);
		if (p == P_PROTO) {
			double head_bytes = metric_from(&s, "clew_head_bytes");
			double head_spans = metric_from(&s, "clew_head_spans");
			double rss = metric_from(&s, "clew_process_resident_memory_bytes");
			if (head_spans > 0)
				printf("head_bytes_per_million_spans %.0f\nserver_rss_bytes %.0f head_spans %.0f\n",
				       head_bytes / head_spans * 1e6, rss, head_spans);
		}
		stop_server(&s);
	}
	return 0;
}
