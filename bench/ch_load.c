/* Loads a span record file (`clew gen --out`, or bench/spanfile) into the
 * benchmark's ClickHouse over its HTTP interface, in the schema of
 * bench/clickhouse/schema.sql: every span is one row of the `spans` table
 * (ordered by service, span name and time; attributes as parallel key and
 * value arrays) and one row of `spans_by_trace` (ordered by trace id, the
 * encoded span and resource, for trace-by-id lookups), as ClickHouse-based
 * tracing systems store them. Rows go as RowBinary in inserts of about
 * --chunk-spans spans. Reports spans per CPU-second of clickhouse-server
 * (median over the inserts) and the converter's own CPU apart.
 *
 *   ch_load --file F --url http://127.0.0.1:8123/ --pid CLICKHOUSE_PID [--chunk-spans 100000]
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/codec.h"
#include "ingest/otlp_proto.h"
#include "lib_records.h"

#define MAX_CHUNKS 4096
#define INSERT_MAX_BYTES ((size_t)1 << 31)

static void put_string(struct buf *b, struct slice s)
{
	buf_append_varint(b, s.len);
	buf_append(b, s.p, s.len);
}

/* An attribute value as ClickHouse's string arrays hold it. */
static void put_value(struct buf *b, const struct any_value *v)
{
	char tmp[64];
	int n = 0;
	switch (v->type) {
	case ANY_STRING:
		put_string(b, v->u.str);
		return;
	case ANY_BYTES: {
		struct buf hex;
		buf_init(&hex, 1 << 24);
		base64_encode(&hex, v->u.str.p, v->u.str.len);
		put_string(b, buf_slice(&hex));
		buf_free(&hex);
		return;
	}
	case ANY_INT:
		n = snprintf(tmp, sizeof tmp, "%" PRId64, v->u.i);
		break;
	case ANY_DOUBLE:
		n = snprintf(tmp, sizeof tmp, "%.17g", v->u.d);
		break;
	case ANY_BOOL:
		n = snprintf(tmp, sizeof tmp, "%s", v->u.b ? "true" : "false");
		break;
	default: /* arrays and kvlists: kept whole in spans_by_trace only */
		break;
	}
	put_string(b, slice_make(tmp, n > 0 ? (size_t)n : 0));
}

static void put_attrs(struct buf *b, const struct attr_list *l)
{
	buf_append_varint(b, l->n);
	for (uint32_t i = 0; i < l->n; i++)
		put_string(b, l->items[i].key);
	buf_append_varint(b, l->n);
	for (uint32_t i = 0; i < l->n; i++)
		put_value(b, &l->items[i].value);
}

/* One row of `spans` and one of `spans_by_trace` (see schema.sql for the
 * column order). */
static void put_span(struct buf *rows, struct buf *by_trace, const struct span_batch *b, const struct span *s)
{
	const struct resource *r = span_batch_resource_of(b, s);
	struct slice service = resource_service_name(r);
	buf_append(rows, s->trace_id, 16);
	buf_append(rows, s->span_id, 8);
	buf_append(rows, s->parent_span_id, 8);
	put_string(rows, service);
	put_string(rows, s->name);
	buf_append_byte(rows, s->kind);
	buf_append_u64le(rows, (uint64_t)s->start_unix_ns);
	buf_append_u64le(rows, (uint64_t)(s->end_unix_ns - s->start_unix_ns));
	buf_append_byte(rows, s->status_code);
	put_string(rows, s->status_message);
	put_attrs(rows, &s->attrs);
	put_attrs(rows, &r->attrs);
	buf_append_varint(rows, s->n_events);
	for (uint32_t i = 0; i < s->n_events; i++)
		buf_append_u64le(rows, (uint64_t)s->events[i].time_unix_ns);
	buf_append_varint(rows, s->n_events);
	for (uint32_t i = 0; i < s->n_events; i++)
		put_string(rows, s->events[i].name);

	buf_append(by_trace, s->trace_id, 16);
	buf_append_u64le(by_trace, (uint64_t)s->start_unix_ns);
	put_string(by_trace, service);
	put_string(by_trace, r->raw);
	put_string(by_trace, s->raw);
}

static size_t collect_cb(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	buf_append(b, p, size * n);
	return size * n;
}

static int insert(CURL *easy, const char *base, const char *table, const struct buf *rows)
{
	char url[512];
	snprintf(url, sizeof url, "%s?query=INSERT%%20INTO%%20%s%%20FORMAT%%20RowBinary", base, table);
	struct buf answer;
	buf_init(&answer, 1 << 16);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, rows->p);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rows->len);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
	CURLcode cc = curl_easy_perform(easy);
	long code = 0;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	int rc = 0;
	if (cc != CURLE_OK || code != 200) {
		fprintf(stderr, "ch_load: insert into %s: %s, HTTP %ld: %.*s\n", table, curl_easy_strerror(cc), code,
			(int)(answer.len > 500 ? 500 : answer.len), answer.p ? (const char *)answer.p : "");
		rc = -1;
	}
	buf_free(&answer);
	return rc;
}

int main(int argc, char **argv)
{
	const char *file = NULL, *url = NULL;
	long pid = 0, chunk_spans = 100000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--file"))
			file = argv[i + 1];
		else if (!strcmp(argv[i], "--url"))
			url = argv[i + 1];
		else if (!strcmp(argv[i], "--pid"))
			pid = strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--chunk-spans"))
			chunk_spans = strtol(argv[i + 1], NULL, 10);
	}
	if (!file || !url || pid <= 0 || chunk_spans < 1) {
		fprintf(stderr, "usage: ch_load --file F --url http://127.0.0.1:PORT/ --pid PID [--chunk-spans N]\n");
		return 2;
	}
	struct rec_file f;
	if (rec_open(&f, file) < 0) {
		fprintf(stderr, "ch_load: cannot open %s\n", file);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_ALL);
	CURL *easy = curl_easy_init();
	struct buf rows, by_trace;
	buf_init(&rows, INSERT_MAX_BYTES);
	buf_init(&by_trace, INSERT_MAX_BYTES);
	struct arena a;
	arena_init(&a, 0);
	static double per_chunk[MAX_CHUNKS];
	int n_chunks = 0, rc = 0, r;
	uint64_t spans = 0, pending = 0;
	double server_cpu = 0, convert_cpu = 0, wall = 0, rss_max = 0;
	struct slice rec;
	for (;;) {
		double c0 = self_cpu_seconds();
		while (pending < (uint64_t)chunk_spans && (r = rec_next(&f, &rec)) == 1) {
			struct span_batch b;
			span_batch_init(&b, &a);
			struct decode_error err;
			if (otlp_proto_decode_request(rec, &b, &err) < 0) {
				fprintf(stderr, "ch_load: %s at record offset %zu: %s\n", file, f.off, err.msg);
				rc = 1;
				goto out;
			}
			for (uint32_t i = 0; i < b.n_spans; i++)
				put_span(&rows, &by_trace, &b, &b.spans[i]);
			pending += b.n_spans;
			arena_reset(&a);
		}
		convert_cpu += self_cpu_seconds() - c0;
		if (rows.err || by_trace.err) {
			fprintf(stderr, "ch_load: insert too large; lower --chunk-spans\n");
			rc = 1;
			goto out;
		}
		if (pending == 0)
			break;
		double s0 = proc_cpu_seconds((pid_t)pid), t0 = bench_now_s();
		if (insert(easy, url, "spans", &rows) < 0 || insert(easy, url, "spans_by_trace", &by_trace) < 0) {
			rc = 1;
			goto out;
		}
		double cpu = proc_cpu_seconds((pid_t)pid) - s0;
		wall += bench_now_s() - t0;
		server_cpu += cpu;
		if (cpu > 0 && n_chunks < MAX_CHUNKS)
			per_chunk[n_chunks++] = (double)pending / cpu;
		double rss = proc_status_bytes((pid_t)pid, "VmRSS");
		if (rss > rss_max)
			rss_max = rss;
		spans += pending;
		pending = 0;
		buf_clear(&rows);
		buf_clear(&by_trace);
	}
	double med = n_chunks ? bench_quantile(per_chunk, (size_t)n_chunks, 0.5) : 0;
	printf("ch_load_spans %llu inserts %d insert_wall_s %.2f server_cpu_s %.2f converter_cpu_s %.2f\n",
	       (unsigned long long)spans, n_chunks, wall, server_cpu, convert_cpu);
	printf("ch_load_spans_per_cpu_sec median %.0f min %.0f max %.0f inserts %d overall %.0f\n", med,
	       n_chunks ? per_chunk[0] : 0, n_chunks ? per_chunk[n_chunks - 1] : 0, n_chunks,
	       server_cpu > 0 ? (double)spans / server_cpu : 0);
	printf("ch_load_spans_per_wall_sec %.0f\n", wall > 0 ? (double)spans / wall : 0);
	printf("ch_converter_spans_per_cpu_sec %.0f\n", convert_cpu > 0 ? (double)spans / convert_cpu : 0);
	printf("ch_load_server_rss_bytes max %.0f\n", rss_max);
out:
	buf_free(&rows);
	buf_free(&by_trace);
	arena_reset(&a);
	curl_easy_cleanup(easy);
	rec_close(&f);
	return rc;
}
