/* Trace-by-id benchmark over a span record file (`clew gen --out`, or
 * bench/spanfile): loads the file into a running clew over OTLP/HTTP
 * protobuf and measures the load rate per CPU-second of the server, then
 * fetches known trace ids and reports p50 and p99 latency. The same ids and
 * the same query loop serve ClickHouse (an SQL template), so both stores
 * answer the same questions.
 *
 *   trace_by_id ids   --file F --ids-out IDS [--n-ids 1000]
 *   trace_by_id load  --file F --url http://H:P/v1/traces --pid PID [--connections 4]
 *                     [--chunks 10] [--ids-out IDS --n-ids 1000]
 *   trace_by_id query --ids IDS (--url-prefix http://H:P/api/v1/traces/ |
 *                     --clickhouse http://H:P/ --sql "SELECT ... '{id}' ...") [--runs 3]
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/codec.h"
#include "ingest/otlp_proto.h"
#include "lib_records.h"
#include "lib_spans.h"

#define MAX_CONNS 32
#define MAX_CHUNKS 100
#define MAX_IDS 100000

struct opts {
	const char *file, *url, *ids_out, *ids, *url_prefix, *clickhouse, *sql;
	pid_t pid;
	int connections, chunks, n_ids, runs;
};

struct scan {
	uint32_t *spans_of; /* spans in each record */
	size_t n_records;
	uint64_t spans;
	int64_t min_start_ns, max_start_ns;
	uint8_t (*ids)[16]; /* reservoir of root-span trace ids */
	size_t n_ids;
	/* what the fixed query set is filled in with (see queries.tsv) */
	char services[64][64];
	uint64_t service_spans[64];
	int n_services;
	char customer_attr[64], customer[64], status_attr[64];
	double durations_ms[4096];
	uint64_t n_durations;
};

static void copy_slice(char *dst, size_t cap, struct slice s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	memcpy(dst, s.p, n);
	dst[n] = 0;
}

/* Note the service, duration, customer and status attribute of a span. */
static void note_span(struct scan *s, const struct span_batch *b, const struct span *sp, uint64_t *rng)
{
	struct slice svc = resource_service_name(span_batch_resource_of(b, sp));
	int k = 0;
	while (k < s->n_services && !slice_eq_cstr(svc, s->services[k]))
		k++;
	if (k == s->n_services && k < 64)
		copy_slice(s->services[s->n_services++], sizeof s->services[0], svc);
	if (k < 64)
		s->service_spans[k]++;
	double ms = (double)(sp->end_unix_ns - sp->start_unix_ns) / 1e6;
	if (s->n_durations < 4096)
		s->durations_ms[s->n_durations] = ms;
	else if (bench_rand(rng) % (s->n_durations + 1) < 4096)
		s->durations_ms[bench_rand(rng) % 4096] = ms;
	s->n_durations++;
	for (uint32_t i = 0; i < sp->attrs.n; i++) {
		const struct attr *at = &sp->attrs.items[i];
		if (!s->status_attr[0] && (slice_eq_cstr(at->key, "http.response.status_code") ||
					   slice_eq_cstr(at->key, "http.status_code")))
			copy_slice(s->status_attr, sizeof s->status_attr, at->key);
		if (at->value.type == ANY_STRING && at->key.len >= 11 &&
		    memcmp(at->key.p + at->key.len - 11, "customer.id", 11) == 0 && s->n_records % 97 == 1) {
			copy_slice(s->customer_attr, sizeof s->customer_attr, at->key);
			copy_slice(s->customer, sizeof s->customer, at->value.u.str);
		}
	}
}

/* The "data_..." lines: what run.sh fills the query set with. */
static void print_scan(struct scan *s)
{
	printf("file_spans %llu records %zu window_start_unix_s %lld window_end_unix_s %lld\n",
	       (unsigned long long)s->spans, s->n_records, (long long)(s->min_start_ns / 1000000000),
	       (long long)(s->max_start_ns / 1000000000 + 1));
	int top = 0;
	for (int k = 1; k < s->n_services; k++)
		if (s->service_spans[k] > s->service_spans[top])
			top = k;
	size_t nd = s->n_durations < 4096 ? (size_t)s->n_durations : 4096;
	printf("data_services %d top_service %s slow_ms %.0f status_attr %s customer_attr %s customer %s\n",
	       s->n_services, s->n_services ? s->services[top] : "-", bench_quantile(s->durations_ms, nd, 0.9),
	       s->status_attr[0] ? s->status_attr : "http.status_code",
	       s->customer_attr[0] ? s->customer_attr : "customer.id", s->customer[0] ? s->customer : "-");
}

/* Count the spans of every record, note the time window, and keep a
 * deterministic random sample of trace ids (one per trace: root spans). */
static int scan_file(const char *path, int want_ids, struct scan *s)
{
	struct rec_file f;
	int rc = rec_open(&f, path);
	if (rc < 0) {
		fprintf(stderr, "trace_by_id: cannot open %s\n", path);
		return rc;
	}
	memset(s, 0, sizeof *s);
	size_t cap = 1024;
	s->spans_of = malloc(cap * sizeof *s->spans_of);
	s->ids = calloc((size_t)want_ids + 1, 16);
	s->min_start_ns = INT64_MAX;
	uint64_t rng = 42, roots = 0;
	struct arena a;
	arena_init(&a, 0);
	struct slice rec;
	while ((rc = rec_next(&f, &rec)) == 1) {
		struct span_batch b;
		span_batch_init(&b, &a);
		struct decode_error err;
		if (otlp_proto_decode_request(rec, &b, &err) < 0) {
			fprintf(stderr, "trace_by_id: record %zu of %s: %s\n", s->n_records, path, err.msg);
			rc = -1;
			break;
		}
		if (s->n_records == cap) {
			cap *= 2;
			s->spans_of = realloc(s->spans_of, cap * sizeof *s->spans_of);
		}
		s->spans_of[s->n_records++] = b.n_spans;
		s->spans += b.n_spans;
		for (uint32_t i = 0; i < b.n_spans; i++) {
			const struct span *sp = &b.spans[i];
			if (sp->start_unix_ns < s->min_start_ns)
				s->min_start_ns = sp->start_unix_ns;
			if (sp->start_unix_ns > s->max_start_ns)
				s->max_start_ns = sp->start_unix_ns;
			note_span(s, &b, sp, &rng);
			if (sp->has_parent || want_ids == 0)
				continue;
			roots++;
			if (s->n_ids < (size_t)want_ids) {
				memcpy(s->ids[s->n_ids++], sp->trace_id, 16);
			} else {
				uint64_t j = bench_rand(&rng) % roots;
				if (j < (uint64_t)want_ids)
					memcpy(s->ids[j], sp->trace_id, 16);
			}
		}
		arena_reset(&a);
	}
	rec_close(&f);
	if (rc < 0)
		fprintf(stderr, "trace_by_id: %s is not a span record file\n", path);
	return rc < 0 ? -1 : 0;
}

static int write_ids(const struct scan *s, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	for (size_t i = 0; i < s->n_ids; i++) {
		char hex[33];
		hex_encode(s->ids[i], 16, hex);
		hex[32] = 0;
		fprintf(f, "%s\n", hex);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static size_t discard_cb(char *p, size_t size, size_t n, void *arg)
{
	size_t *got = arg;
	if (got)
		*got += size * n;
	return size * n;
}

struct conn {
	CURL *easy;
	size_t record;
};

static int cmd_load(const struct opts *o)
{
	static struct scan s;
	if (scan_file(o->file, o->ids_out ? o->n_ids : 0, &s) < 0)
		return 1;
	if (o->ids_out && write_ids(&s, o->ids_out) < 0) {
		fprintf(stderr, "trace_by_id: cannot write %s\n", o->ids_out);
		return 1;
	}
	print_scan(&s);
	struct rec_file f;
	if (rec_open(&f, o->file) < 0)
		return 1;
	struct slice *recs = malloc((s.n_records + 1) * sizeof *recs);
	for (size_t i = 0; i < s.n_records; i++)
		rec_next(&f, &recs[i]);
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
	hdr = curl_slist_append(hdr, "Expect:");
	CURLM *multi = curl_multi_init();
	struct conn conns[MAX_CONNS];
	size_t next = 0, chunk_records = (s.n_records + (size_t)o->chunks - 1) / (size_t)o->chunks;
	uint64_t failures = 0, done_spans = 0, chunk_spans = 0;
	double per_chunk[MAX_CHUNKS], rss_max = 0;
	int n_chunk_vals = 0, running = 0;
	double t0 = bench_now_s(), cpu0 = proc_cpu_seconds(o->pid), self0 = self_cpu_seconds();
	double chunk_cpu0 = cpu0, next_sample = t0;
	for (int i = 0; i < o->connections && next < s.n_records; i++) {
		struct conn *c = &conns[i];
		c->easy = curl_easy_init();
		curl_easy_setopt(c->easy, CURLOPT_URL, o->url);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, discard_cb);
		curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, NULL);
		curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
		c->record = next++;
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, recs[c->record].p);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)recs[c->record].len);
		curl_multi_add_handle(multi, c->easy);
		running++;
	}
	size_t completed = 0;
	while (running > 0) {
		int still;
		curl_multi_perform(multi, &still);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct conn *c;
			long code = 0;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			curl_multi_remove_handle(multi, c->easy);
			if (m->data.result != CURLE_OK || code != 200) {
				if (failures++ < 3)
					fprintf(stderr, "trace_by_id: load: %s, HTTP %ld\n",
						curl_easy_strerror(m->data.result), code);
				if (code == 429 || code == 503) { /* back off and resend */
					usleep(20000);
					curl_multi_add_handle(multi, c->easy);
					continue;
				}
			} else {
				done_spans += s.spans_of[c->record];
				chunk_spans += s.spans_of[c->record];
			}
			running--;
			if (++completed % chunk_records == 0 && n_chunk_vals < MAX_CHUNKS) {
				double cpu = proc_cpu_seconds(o->pid);
				if (cpu > chunk_cpu0)
					per_chunk[n_chunk_vals++] = (double)chunk_spans / (cpu - chunk_cpu0);
				chunk_cpu0 = cpu;
				chunk_spans = 0;
			}
			if (next < s.n_records) {
				c->record = next++;
				curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, recs[c->record].p);
				curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)recs[c->record].len);
				curl_multi_add_handle(multi, c->easy);
				running++;
			}
		}
		if (bench_now_s() >= next_sample) {
			double rss = proc_status_bytes(o->pid, "VmRSS");
			if (rss > rss_max)
				rss_max = rss;
			next_sample = bench_now_s() + 0.25;
		}
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	double wall = bench_now_s() - t0, cpu = proc_cpu_seconds(o->pid) - cpu0, self = self_cpu_seconds() - self0;
	double rss_end = proc_status_bytes(o->pid, "VmRSS");
	if (rss_end > rss_max)
		rss_max = rss_end;
	double med = 0, lo = 0, hi = 0;
	if (n_chunk_vals > 0) {
		med = bench_quantile(per_chunk, (size_t)n_chunk_vals, 0.5);
		lo = per_chunk[0];
		hi = per_chunk[n_chunk_vals - 1];
	}
	printf("load_spans %llu wall_s %.2f server_cpu_s %.2f client_cpu_s %.2f failures %llu\n",
	       (unsigned long long)done_spans, wall, cpu, self, (unsigned long long)failures);
	printf("load_spans_per_cpu_sec median %.0f min %.0f max %.0f chunks %d overall %.0f\n", med, lo, hi,
	       n_chunk_vals, cpu > 0 ? (double)done_spans / cpu : 0);
	printf("load_spans_per_wall_sec %.0f\n", (double)done_spans / wall);
	printf("load_server_rss_bytes max %.0f end %.0f\n", rss_max, rss_end);
	for (int i = 0; i < o->connections && i < (int)s.n_records; i++)
		curl_easy_cleanup(conns[i].easy);
	curl_multi_cleanup(multi);
	curl_slist_free_all(hdr);
	rec_close(&f);
	free(recs);
	return failures && done_spans < s.spans ? 1 : 0;
}

/* Replace every "{id}" in tmpl by id. */
static void expand(const char *tmpl, const char *id, struct buf *out)
{
	buf_clear(out);
	for (const char *p = tmpl; *p;) {
		const char *q = strstr(p, "{id}");
		if (!q) {
			buf_append_cstr(out, p);
			break;
		}
		buf_append(out, p, (size_t)(q - p));
		buf_append_cstr(out, id);
		p = q + 4;
	}
	buf_append_byte(out, 0);
}

static int cmd_query(const struct opts *o)
{
	FILE *f = fopen(o->ids, "r");
	if (!f) {
		fprintf(stderr, "trace_by_id: cannot open %s\n", o->ids);
		return 1;
	}
	static char ids[MAX_IDS][40];
	size_t n = 0;
	while (n < MAX_IDS && fgets(ids[n], sizeof ids[n], f)) {
		ids[n][strcspn(ids[n], "\r\n")] = 0;
		if (strlen(ids[n]) == 32)
			n++;
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "trace_by_id: no ids in %s\n", o->ids);
		return 1;
	}
	CURL *easy = curl_easy_init();
	size_t got = 0;
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &got);
	double *lat = malloc(n * sizeof *lat), p50[25], p99[25];
	struct buf url, sql;
	buf_init(&url, 1 << 16);
	buf_init(&sql, 1 << 16);
	uint64_t failures = 0, bytes = 0;
	for (int r = 0; r < o->runs; r++) {
		for (size_t i = 0; i < n; i++) {
			buf_clear(&url);
			if (o->clickhouse) {
				expand(o->sql, ids[i], &sql);
				char *esc = curl_easy_escape(easy, (const char *)sql.p, 0);
				buf_printf(&url, "%s?query=%s", o->clickhouse, esc);
				curl_free(esc);
			} else {
				buf_printf(&url, "%s%s", o->url_prefix, ids[i]);
			}
			buf_append_byte(&url, 0);
			curl_easy_setopt(easy, CURLOPT_URL, (const char *)url.p);
			got = 0;
			double t = bench_now_s();
			CURLcode cc = curl_easy_perform(easy);
			lat[i] = (bench_now_s() - t) * 1e3;
			long code = 0;
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
			if (cc != CURLE_OK || code != 200 || got == 0) {
				if (failures++ < 3)
					fprintf(stderr, "trace_by_id: %s: %s, HTTP %ld, %zu bytes\n", ids[i],
						curl_easy_strerror(cc), code, got);
			}
			bytes += got;
		}
		p50[r] = bench_quantile(lat, n, 0.5);
		p99[r] = bench_quantile(lat, n, 0.99);
		fprintf(stderr, "  run %d: p50 %.3f ms p99 %.3f ms over %zu ids\n", r + 1, p50[r], p99[r], n);
	}
	double m50 = bench_quantile(p50, (size_t)o->runs, 0.5), m99 = bench_quantile(p99, (size_t)o->runs, 0.5);
	printf("trace_by_id_p50_ms median %.3f min %.3f max %.3f runs %d ids %zu\n", m50, p50[0], p50[o->runs - 1],
	       o->runs, n);
	printf("trace_by_id_p99_ms median %.3f min %.3f max %.3f runs %d ids %zu\n", m99, p99[0], p99[o->runs - 1],
	       o->runs, n);
	printf("trace_by_id_failures %llu bytes_per_answer %.0f\n", (unsigned long long)failures,
	       (double)bytes / (double)(n * (size_t)o->runs));
	free(lat);
	buf_free(&url);
	buf_free(&sql);
	curl_easy_cleanup(easy);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.connections = 4, .chunks = 10, .n_ids = 1000, .runs = 3};
	if (argc < 2) {
		fprintf(stderr, "usage: trace_by_id ids|load|query [options] (see the top of bench/trace_by_id.c)\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--file"))
			o.file = v;
		else if (!strcmp(k, "--url"))
			o.url = v;
		else if (!strcmp(k, "--pid"))
			o.pid = (pid_t)strtol(v, NULL, 10);
		else if (!strcmp(k, "--connections"))
			o.connections = (int)strtol(v, NULL, 10);
		else if (!strcmp(k, "--chunks"))
			o.chunks = (int)strtol(v, NULL, 10);
		else if (!strcmp(k, "--ids-out"))
			o.ids_out = v;
		else if (!strcmp(k, "--n-ids"))
			o.n_ids = (int)strtol(v, NULL, 10);
		else if (!strcmp(k, "--ids"))
			o.ids = v;
		else if (!strcmp(k, "--url-prefix"))
			o.url_prefix = v;
		else if (!strcmp(k, "--clickhouse"))
			o.clickhouse = v;
		else if (!strcmp(k, "--sql"))
			o.sql = v;
		else if (!strcmp(k, "--runs"))
			o.runs = (int)strtol(v, NULL, 10);
		else {
			fprintf(stderr, "trace_by_id: unknown option %s\n", k);
			return 2;
		}
	}
	if (o.connections < 1 || o.connections > MAX_CONNS || o.chunks < 1 || o.chunks > MAX_CHUNKS || o.runs < 1 ||
	    o.runs > 25 || o.n_ids < 1 || o.n_ids > MAX_IDS) {
		fprintf(stderr, "trace_by_id: --connections 1..%d, --chunks 1..%d, --runs 1..25, --n-ids 1..%d\n",
			MAX_CONNS, MAX_CHUNKS, MAX_IDS);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_ALL);
	const char *cmd = argv[1];
	if (!strcmp(cmd, "ids") && o.file && o.ids_out) {
		static struct scan s;
		if (scan_file(o.file, o.n_ids, &s) < 0 || write_ids(&s, o.ids_out) < 0)
			return 1;
		print_scan(&s);
		return 0;
	}
	if (!strcmp(cmd, "load") && o.file && o.url && o.pid > 0)
		return cmd_load(&o);
	if (!strcmp(cmd, "query") && o.ids && (o.url_prefix || (o.clickhouse && o.sql)))
		return cmd_query(&o);
	fprintf(stderr, "trace_by_id: missing options for '%s' (see the top of bench/trace_by_id.c)\n", cmd);
	return 2;
}
