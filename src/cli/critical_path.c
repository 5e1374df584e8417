/* clew critical-path: which services and operations made traces slow, from
 * the terminal. Calls the server's /api/v1/critical-path over HTTP
 * (libcurl) and prints the segments (service, operation, share, self time
 * p50/p99, and the change against --baseline-since) or, with --trace ID,
 * the path of one trace; --json prints the server's answer as it is. */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/units.h"
#include "cli/cli.h"

static void cp_usage(FILE *f)
{
	fputs("usage: clew critical-path [options] ['TRACEQL']\n"
	      "       clew critical-path [--server URL] [--json] --trace ID\n"
	      "\n"
	      "Shows which services and operations are on the critical path of the traces\n"
	      "a TraceQL filter matches (default {}): the share of end-to-end latency each\n"
	      "one accounts for, and its self time on the path (p50, p99).\n"
	      "\n"
	      "  --server URL        the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR         traces of the last DUR, e.g. 15m, 1h [1h]\n"
	      "  --start T, --end T  a time range instead: Unix seconds or RFC 3339 UTC\n"
	      "  --baseline-start T, --baseline-end T\n"
	      "                      compare with this window: adds the baseline share and\n"
	      "                      the change, largest change first\n"
	      "  --trace ID          the critical path of one trace\n"
	      "  --limit N           segments shown at most [25]\n"
	      "  --json              print the server's JSON answer as it is\n"
	      "  -h, --help          show this text\n",
	      f);
}

static int parse_time(const char *s, int64_t *out_s)
{
	uint64_t v;
	if (units_parse_u64(s, &v) == 0) {
		*out_s = (int64_t)v;
		return 0;
	}
	int64_t ns;
	if (!units_parse_rfc3339_ns(slice_cstr(s), &ns))
		return -1;
	*out_s = ns / 1000000000;
	return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	buf_append(b, p, size * n);
	return b->err ? 0 : size * n;
}

static double num(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static int cmp_change(const void *x, const void *y)
{
	double a = fabs(num(*(json_t *const *)x, "change")), b = fabs(num(*(json_t *const *)y, "change"));
	return (a < b) - (a > b);
}

static void print_segments(json_t *root, bool baseline, size_t limit)
{
	json_t *segs = json_object_get(root, "segments");
	size_t n = json_array_size(segs);
	json_t **v = calloc(n + 1, sizeof *v);
	if (!v)
		return;
	for (size_t k = 0; k < n; k++)
		v[k] = json_array_get(segs, k);
	if (baseline)
		qsort(v, n, sizeof *v, cmp_change);
	printf("%-24s  %-40s  %7s  %10s  %10s", "SERVICE", "OPERATION", "SHARE", "SELF P50", "SELF P99");
	if (baseline)
		printf("  %9s  %8s", "BASELINE", "CHANGE");
	putchar('\n');
	for (size_t k = 0; k < n && k < limit; k++) {
		json_t *s = v[k], *self = json_object_get(s, "selfMs");
		printf("%-24.24s  %-40.40s  %6.1f%%  %8.2fms  %8.2fms", str(s, "service"), str(s, "name"),
		       100 * num(s, "share"), num(self, "p50"), num(self, "p99"));
		if (baseline)
			printf("  %8.1f%%  %+7.1f%%", 100 * num(s, "baselineShare"), 100 * num(s, "change"));
		putchar('\n');
	}
	printf("%lld trace%s, %zu segment%s\n", (long long)json_integer_value(json_object_get(root, "traces")),
	       json_integer_value(json_object_get(root, "traces")) == 1 ? "" : "s", n, n == 1 ? "" : "s");
	free(v);
}

static void print_trace(json_t *root)
{
	json_t *spans = json_object_get(root, "spans"), *s;
	size_t k;
	printf("trace %s: %.2f ms, %lld span%s adjusted for clock skew\n", str(root, "traceId"),
	       num(root, "durationMs"), (long long)json_integer_value(json_object_get(root, "adjustedSpans")),
	       json_integer_value(json_object_get(root, "adjustedSpans")) == 1 ? "" : "s");
	printf("%-16s  %-24s  %-40s  %10s  %10s  %7s\n", "SPAN ID", "SERVICE", "OPERATION", "DURATION", "SELF",
	       "SHARE");
	json_array_foreach(spans, k, s) {
		printf("%-16s  %-24.24s  %-40.40s  %8.2fms  %8.2fms  %6.1f%%%s\n", str(s, "spanId"), str(s, "service"),
		       str(s, "name"), num(s, "durationMs"), num(s, "selfMs"), 100 * num(s, "share"),
		       json_is_true(json_object_get(s, "adjusted")) ? "  (skew adjusted)" : "");
	}
}

int cli_critical_path(int argc, char **argv)
{
	const char *server = "http://127.0.0.1:3200", *query = NULL, *trace = NULL;
	int64_t since_ns = 3600LL * 1000000000LL, start_s = -1, end_s = -1, bstart_s = -1, bend_s = -1;
	uint64_t limit = 25;
	bool json_out = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cp_usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json_out = true;
		} else if (a[0] == '-' && a[1] == '-' && !v) {
			fprintf(stderr, "clew critical-path: %s needs a value\n", a);
			return 2;
		} else if (strcmp(a, "--server") == 0) {
			server = v, i++;
		} else if (strcmp(a, "--trace") == 0) {
			trace = v, i++;
		} else if (strcmp(a, "--limit") == 0) {
			if (units_parse_u64(v, &limit) < 0 || limit == 0) {
				fprintf(stderr, "clew critical-path: invalid --limit '%s'\n", v);
				return 2;
			}
			i++;
		} else if (strcmp(a, "--since") == 0) {
			if (units_parse_duration_ns(v, &since_ns) < 0 || since_ns <= 0) {
				fprintf(stderr, "clew critical-path: invalid --since '%s': a duration such as 1h\n", v);
				return 2;
			}
			i++;
		} else if (strcmp(a, "--start") == 0 || strcmp(a, "--end") == 0 || strcmp(a, "--baseline-start") == 0 ||
			   strcmp(a, "--baseline-end") == 0) {
			int64_t *t = strcmp(a, "--start") == 0 ? &start_s
				     : strcmp(a, "--end") == 0 ? &end_s
				     : strcmp(a, "--baseline-start") == 0 ? &bstart_s
									  : &bend_s;
			if (parse_time(v, t) < 0) {
				fprintf(stderr, "clew critical-path: invalid %s '%s': Unix seconds or RFC 3339\n", a, v);
				return 2;
			}
			i++;
		} else if (a[0] == '-' && a[1] != 0) {
			fprintf(stderr, "clew critical-path: unknown option %s\n", a);
			cp_usage(stderr);
			return 2;
		} else if (!query) {
			query = a;
		} else {
			fprintf(stderr, "clew critical-path: one query only (quote it)\n");
			return 2;
		}
	}
	if (start_s < 0 && end_s < 0) {
		end_s = clock_now_unix_ns() / 1000000000LL + 1;
		start_s = end_s - since_ns / 1000000000LL - 1;
	}
	if ((bstart_s < 0) != (bend_s < 0)) {
		fprintf(stderr, "clew critical-path: give both --baseline-start and --baseline-end\n");
		return 2;
	}
	int rc = 1;
	struct buf url, body;
	buf_init(&url, 1 << 20);
	buf_init(&body, 256u << 20);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	json_t *root = NULL;
	if (!c) {
		fprintf(stderr, "clew critical-path: could not start libcurl\n");
		goto out;
	}
	if (trace) {
		char *t = curl_easy_escape(c, trace, 0);
		buf_printf(&url, "%s/api/v1/critical-path?traceId=%s", server, t ? t : "");
		curl_free(t);
	} else {
		char *q = curl_easy_escape(c, query ? query : "{}", 0);
		buf_printf(&url, "%s/api/v1/critical-path?q=%s", server, q ? q : "");
		curl_free(q);
		if (start_s >= 0)
			buf_printf(&url, "&start=%lld", (long long)start_s);
		if (end_s >= 0)
			buf_printf(&url, "&end=%lld", (long long)end_s);
		if (bstart_s >= 0)
			buf_printf(&url, "&baselineStart=%lld&baselineEnd=%lld", (long long)bstart_s, (long long)bend_s);
	}
	buf_append_byte(&url, 0);
	curl_easy_setopt(c, CURLOPT_URL, (const char *)url.p);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		fprintf(stderr, "clew critical-path: %s: %s (is clew serve running? use --server URL)\n", server,
			curl_easy_strerror(cr));
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	json_error_t je;
	root = json_loadb((const char *)body.p, body.len, 0, &je);
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
		fprintf(stderr, "clew critical-path: the server answered %ld: %s\n", status,
			msg ? msg : "(no error message)");
		goto out;
	}
	if (json_out) {
		fwrite(body.p, 1, body.len, stdout);
		fputc('\n', stdout);
	} else if (!root) {
		fprintf(stderr, "clew critical-path: the answer is not JSON: %s\n", je.text);
		goto out;
	} else if (trace) {
		print_trace(root);
	} else {
		print_segments(root, bstart_s >= 0, (size_t)limit);
	}
	rc = 0;
out:
	json_decref(root);
	if (c)
		curl_easy_cleanup(c);
	curl_global_cleanup();
	buf_free(&url);
	buf_free(&body);
	return rc;
}
