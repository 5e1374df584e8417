/* clew query: a TraceQL search from the terminal. Calls the server's
 * /api/search over HTTP (libcurl) and prints the matching traces as a table
 * (trace id, root service, root name, start, duration, matched spans) or the
 * raw JSON answer. Errors go to stderr with a non-zero exit status. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/units.h"
#include "cli/cli.h"

static void query_usage(FILE *f)
{
	fputs("usage: clew query [options] 'TRACEQL'\n"
	      "\n"
	      "Searches traces with a TraceQL query on a clew server (its /api/search).\n"
	      "\n"
	      "  --server URL        the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR         traces of the last DUR, e.g. 15m, 1h [1h]\n"
	      "  --start T, --end T  a time range instead: Unix seconds or RFC 3339 UTC\n"
	      "                      (2026-01-01T00:00:00Z)\n"
	      "  --all               no time range\n"
	      "  --limit N           traces at most [20]\n"
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

static void print_table(json_t *root)
{
	json_t *traces = json_object_get(root, "traces");
	size_t k;
	json_t *t;
	printf("%-32s  %-20s  %-36s  %-20s  %10s  %7s\n", "TRACE ID", "ROOT SERVICE", "ROOT NAME", "START (UTC)",
	       "DURATION", "MATCHED");
	json_array_foreach(traces, k, t) {
		const char *id = json_string_value(json_object_get(t, "traceID"));
		const char *svc = json_string_value(json_object_get(t, "rootServiceName"));
		const char *name = json_string_value(json_object_get(t, "rootTraceName"));
		const char *start = json_string_value(json_object_get(t, "startTimeUnixNano"));
		json_int_t ms = json_integer_value(json_object_get(t, "durationMs"));
		long long matched = 0;
		size_t j;
		json_t *ss;
		json_array_foreach(json_object_get(t, "spanSets"), j, ss)
			matched += json_integer_value(json_object_get(ss, "matched"));
		char when[32] = "-";
		if (start) {
			time_t sec = (time_t)(strtoll(start, NULL, 10) / 1000000000LL);
			struct tm tm;
			if (gmtime_r(&sec, &tm))
				strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		}
		printf("%-32s  %-20.20s  %-36.36s  %-20s  %8lldms  %7lld\n", id ? id : "-", svc ? svc : "-",
		       name ? name : "-", when, (long long)ms, matched);
	}
	printf("%zu trace%s\n", json_array_size(traces), json_array_size(traces) == 1 ? "" : "s");
}

int cli_query(int argc, char **argv)
{
	const char *server = "http://127.0.0.1:3200", *query = NULL, *limit = NULL;
	int64_t since_ns = 3600LL * 1000000000LL, start_s = -1, end_s = -1;
	bool json_out = false, all = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			query_usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json_out = true;
		} else if (strcmp(a, "--all") == 0) {
			all = true;
		} else if (a[0] == '-' && a[1] == '-' && !v) {
			fprintf(stderr, "clew query: %s needs a value\n", a);
			return 2;
		} else if (strcmp(a, "--server") == 0) {
			server = v, i++;
		} else if (strcmp(a, "--limit") == 0) {
			uint64_t n;
			if (units_parse_u64(v, &n) < 0 || n == 0 || n > 100000) {
				fprintf(stderr, "clew query: invalid --limit '%s'\n", v);
				return 2;
			}
			limit = v, i++;
		} else if (strcmp(a, "--since") == 0) {
			if (units_parse_duration_ns(v, &since_ns) < 0 || since_ns <= 0) {
				fprintf(stderr, "clew query: invalid --since '%s'\n", v);
				return 2;
			}
			i++;
		} else if (strcmp(a, "--start") == 0 || strcmp(a, "--end") == 0) {
			if (parse_time(v, a[2] == 's' ? &start_s : &end_s) < 0) {
				fprintf(stderr, "clew query: invalid %s '%s': Unix seconds or RFC 3339\n", a, v);
				return 2;
			}
			i++;
		} else if (a[0] == '-' && a[1] != 0) {
			fprintf(stderr, "clew query: unknown option %s\n", a);
			query_usage(stderr);
			return 2;
		} else if (!query) {
			query = a;
		} else {
			fprintf(stderr, "clew query: one query only (quote it)\n");
			return 2;
		}
	}
	if (!query) {
		query_usage(stderr);
		return 2;
	}
	if (!all && start_s < 0 && end_s < 0) {
		end_s = clock_now_unix_ns() / 1000000000LL + 1;
		start_s = end_s - since_ns / 1000000000LL - 1;
	}
	int rc = 1;
	struct buf url, body;
	buf_init(&url, 1 << 20);
	buf_init(&body, 256u << 20);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	json_t *root = NULL;
	if (!c) {
		fprintf(stderr, "clew query: could not start libcurl\n");
		goto out;
	}
	char *q = curl_easy_escape(c, query, 0);
	buf_printf(&url, "%s/api/search?q=%s", server, q ? q : "");
	curl_free(q);
	if (start_s >= 0)
		buf_printf(&url, "&start=%lld", (long long)start_s);
	if (end_s >= 0)
		buf_printf(&url, "&end=%lld", (long long)end_s);
	if (limit)
		buf_printf(&url, "&limit=%s", limit);
	buf_append_byte(&url, 0);
	curl_easy_setopt(c, CURLOPT_URL, (const char *)url.p);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		fprintf(stderr, "clew query: %s: %s\n", server, curl_easy_strerror(cr));
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	json_error_t je;
	root = json_loadb((const char *)body.p, body.len, 0, &je);
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
		fprintf(stderr, "clew query: the server answered %ld: %s\n", status,
			msg ? msg : "(no error message)");
		goto out;
	}
	if (json_out) {
		fwrite(body.p, 1, body.len, stdout);
		fputc('\n', stdout);
	} else if (!root) {
		fprintf(stderr, "clew query: the answer is not JSON: %s\n", je.text);
		goto out;
	} else {
		print_table(root);
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
